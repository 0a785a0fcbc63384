//! R1 on the web: the report's XLSX download and its printable page, the dashboard's data.

use crate::helpers::{TestApp, backends};
use reqwest::StatusCode;

#[tokio::test]
async fn r1_report_downloads_as_xlsx_with_charts_and_prints_on_a4() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let minzheng = app.page_user("minzheng").await;
        let response = minzheng
            .client
            .get(app.url("/reports/xlsx?period=2026H2&area=500151001"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{backend}");
        assert_eq!(
            response.headers()["content-type"],
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        );
        assert!(
            response.headers()["content-disposition"]
                .to_str()
                .unwrap()
                .contains("joint-report-500151001-2026H2.xlsx")
        );
        let bytes = response.bytes().await.unwrap();
        assert_eq!(&bytes[..2], b"PK", "{backend}");
        // The zip's directory names its parts in clear: sheets and native charts.
        let has = |name: &str| bytes.windows(name.len()).any(|w| w == name.as_bytes());
        assert!(
            has("xl/charts/chart1.xml") && has("xl/worksheets/sheet6.xml"),
            "{backend}"
        );

        let (status, html) = minzheng
            .get("/reports/print?period=2026H1&area=500151")
            .await;
        assert_eq!(status, StatusCode::OK, "{backend}");
        // The shared print layout, on its landscape sheet, with no styles of its own.
        assert!(
            html.contains("/static/print.css")
                && html.contains("class=\"sheet landscape report\"")
                && html.contains("class=\"toolbar\"")
                && !html.contains("<style"),
            "{backend}"
        );
        assert!(html.contains("铜梁区 2026年上半年低收入人口救助帮扶工作情况"));
        assert!(html.contains("报送截止 2026-06-25 前"), "{backend}");
        assert!(
            html.contains("<svg") && html.contains("五、预警") && html.contains("六、转介帮扶"),
            "{backend}"
        );
        assert!(
            !html.contains("数据源未接入"),
            "{backend}: every source is wired"
        );
        // The registry of the fixture: 3 households, 5 persons, in the total row.
        assert!(
            html.contains(
                r#"<td>合计</td><td>500151</td><td class="n">3</td><td class="n">5</td>"#
            ),
            "{backend}"
        );

        // A bad period is named on the page (统计期, 400), not a crash.
        let (status, page) = minzheng.get("/reports?period=2026H9").await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{backend}");
        assert!(page.contains("统计期：“2026H9”不是统计期"), "{backend}");
        let (status, _) = minzheng.get("/reports/xlsx?period=2026H9").await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{backend}");
        // A well-formed period the schedule does not know is named the same way.
        let (status, page) = minzheng.get("/reports?period=2026Q1").await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{backend}");
        assert!(page.contains("报告期“2026Q1”无效"), "{backend}");
        app.stop().await;
    }
}

#[tokio::test]
async fn r1_dashboard_embeds_its_figures_for_the_charts() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let minzheng = app.page_user("minzheng").await;
        let (status, page) = minzheng.get("/dashboard?area=500151001").await;
        assert_eq!(status, StatusCode::OK, "{backend}");
        let start = page
            .find(r#"<script type="application/json" id="dashboard-data">"#)
            .unwrap();
        let json = &page[start..];
        let json = &json[json.find('>').unwrap() + 1..json.find("</script>").unwrap()];
        let data: serde_json::Value = serde_json::from_str(json).unwrap();
        assert_eq!(data["total"]["registry"]["households"], 2, "{backend}");
        assert_eq!(data["months"].as_array().unwrap().len(), 12);
        assert_eq!(data["unit_label"], "村社");
        assert!(page.contains("/static/vendor/echarts.min.js"));
        // The trail back up: district, then the town.
        assert!(
            page.contains(r#"<a href="/dashboard?area=500151">铜梁区</a>"#),
            "{backend}"
        );
        app.stop().await;
    }
}
