//! 名册查询 (issue 13 item 5, D2) through the real server: who was in a category on a date
//! answers from a confirmed case and from rolls brought in by 一门入库 alike, on the page, in
//! the API and as an audited XLSX export; dates before and after; each user within their area;
//! keyset pages.

use crate::helpers::{PageUser, TestApp, backends, hidden_field, household_json, id_number};
use crate::rolls::upload;
use reqwest::StatusCode;

const HEADER: &str = "身份证号,姓名,保障范围,起始日期,月保障金额,审批文号,审批机关";
/// 土桥镇 万槽村, where the rolled households live.
const TUQIAO_VILLAGE: &str = "500151100200";
const ROLLED: usize = 60;

/// Uploads a roll on the page and accepts its dry run.
async fn import_roll(app: &TestApp, minzheng: &PageUser, category: &str, csv: &str) {
    let (status, page) = upload(minzheng, app, category, "名册.csv", csv.as_bytes()).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let token = hidden_field(&page, "token").unwrap();
    let response = minzheng
        .post_form(
            "/rolls/accept",
            &[
                ("csrf".to_owned(), minzheng.csrf.clone()),
                ("category".to_owned(), category.to_owned()),
                ("token".to_owned(), token),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
}

/// The rows of the roster table on a page.
fn table_rows(html: &str) -> Vec<&str> {
    let Some(start) = html.find("<table id=\"roster\">") else {
        return Vec::new();
    };
    let table = &html[start..];
    let table = &table[..table.find("</table>").unwrap()];
    table.split("<tr>").skip(2).collect()
}

/// The cursor of the page's 下一页 link.
fn next_link(html: &str) -> Option<String> {
    let at = html.find("id=\"next-page\" href=\"")?;
    let rest = &html[at + "id=\"next-page\" href=\"".len()..];
    Some(
        rest[..rest.find('"')?]
            .replace("&amp;", "&")
            .replace("&#38;", "&"),
    )
}

/// 60 more households in 土桥镇 万槽村 (`TQ-1000` …), for a 低保 roll longer than a page.
async fn rolled_households(app: &TestApp) {
    let lines: String = (0..ROLLED)
        .map(|n| {
            let head = id_number(&format!("50022419600101{n:03}"));
            format!(
                "{}\n",
                household_json(
                    &format!("TQ-1{n:03}"),
                    TUQIAO_VILLAGE,
                    &[(head.as_str(), &format!("户主{n}"), "head")]
                )
            )
        })
        .collect();
    app.app
        .import_households("test", "more.jsonl", &lines, &|_| {})
        .await
        .unwrap();
}

/// A 特困 case confirmed for a man of 76 with partial care needs (巴川街道 永院村, BC-0800,
/// `cases::tekun_confirmed`): answers its tracking number and the day it was confirmed.
async fn tekun_confirmed(app: &TestApp) -> (String, chrono::NaiveDate) {
    let (_, tracking, _, _) = crate::cases::tekun_confirmed(app).await;
    (tracking, app.app.today())
}

/// The 特困 roll brought in by district civil affairs: 赵铁柱 (集中供养, 全护理) from 2025-09-01.
async fn tekun_roll(app: &TestApp, minzheng: &PageUser) {
    let zhao = &app.tuqiao_village.head_id;
    import_roll(
        app,
        minzheng,
        "tekun",
        &format!(
            "{HEADER},供养方式,照料护理等级\n{zhao},赵铁柱,个人,2025-09-01,1301,铜民发〔2025〕20号,铜梁区民政局,集中供养,全护理\n"
        ),
    )
    .await;
}

/// The 低保 roll of the 60 `rolled_households` from 2025-07-01.
async fn dibao_roll(app: &TestApp, minzheng: &PageUser) {
    let dibao: String = (0..ROLLED)
        .map(|n| {
            let head = id_number(&format!("50022419600101{n:03}"));
            format!("{head},户主{n},整户,2025-07-01,800,铜民发〔2025〕12号,铜梁区民政局\n")
        })
        .collect();
    import_roll(app, minzheng, "dibao", &format!("{HEADER}\n{dibao}")).await;
}

/// The 特困 roster on a date answers from the confirmed case and the imported roll alike, each
/// line with its source, ordered by area; the day before the roll's start nobody, the day
/// before the confirmation only the roll's.
#[tokio::test]
async fn issue13_the_roster_on_a_date_answers_from_cases_and_rolls_alike() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let (tracking, confirmed_on) = tekun_confirmed(&app).await;
        let minzheng = app.page_user("minzheng").await;
        tekun_roll(&app, &minzheng).await;

        // The API, district-wide: the case's period and the roll's, each with its source.
        let district = app.api_user("minzheng").await;
        let (status, body) = district
            .get(&format!(
                "/api/v1/roster?category=tekun&date={confirmed_on}"
            ))
            .await;
        assert_eq!(status, StatusCode::OK, "{backend}: {body}");
        assert_eq!(body["total"], 2, "{backend}: {body}");
        let items = body["items"].as_array().unwrap();
        let seen: Vec<_> = items
            .iter()
            .map(|item| {
                (
                    item["person_name"].as_str().unwrap(),
                    item["source"].as_str().unwrap(),
                    item["support_mode"].as_str(),
                    item["care_level"].as_str(),
                    item["monthly_fen"].as_i64(),
                )
            })
            .collect();
        // Ordered by area: 巴川 (500151001…) before 土桥 (500151100…). The case records the
        // joint review's 供养方式; its care level is the surveyed care need.
        assert_eq!(
            seen,
            [
                (
                    "韩老",
                    "case",
                    Some("dispersed"),
                    Some("partial"),
                    Some(120_100)
                ),
                (
                    "赵铁柱",
                    "roll",
                    Some("centralised"),
                    Some("full"),
                    Some(130_100)
                ),
            ],
            "{backend}: {body}"
        );
        assert_eq!(items[0]["reason"], tracking.as_str(), "{backend}");
        assert!(body["next"].is_null(), "{backend}");

        // Before and after: the day before the roll's start nobody; the day before the
        // confirmation only the roll's.
        for (date, expected) in [("2025-08-31", 0), ("2025-09-01", 1)] {
            let (_, body) = district
                .get(&format!("/api/v1/roster?category=特困人员&date={date}"))
                .await;
            assert_eq!(body["total"], expected, "{backend}: {date} {body}");
        }
        let before = confirmed_on.pred_opt().unwrap();
        let (_, body) = district
            .get(&format!("/api/v1/roster?category=tekun&date={before}"))
            .await;
        assert_eq!(body["items"][0]["person_name"], "赵铁柱", "{backend}");
        assert_eq!(body["total"], 1, "{backend}");
        app.stop().await;
    }
}

/// Each user reads the roster within their area: a town sees its own by default and is
/// refused another's, an unknown category and the administrator are refused; the page's line
/// links to the household's page.
#[tokio::test]
async fn issue13_each_user_reads_the_roster_of_their_own_area() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let (_, confirmed_on) = tekun_confirmed(&app).await;
        let minzheng = app.page_user("minzheng").await;
        tekun_roll(&app, &minzheng).await;

        // Each user within their area: a town sees its own by default and is refused another.
        let tuqiao = app.api_user("tuqiao").await;
        let (_, body) = tuqiao
            .get(&format!(
                "/api/v1/roster?category=tekun&date={confirmed_on}"
            ))
            .await;
        assert_eq!(
            (body["total"].as_i64(), body["area_code"].as_str()),
            (Some(1), Some("500151100")),
            "{backend}: {body}"
        );
        let (status, _) = tuqiao
            .get("/api/v1/roster?category=tekun&area=500151001")
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{backend}");
        let (status, body) = tuqiao.get("/api/v1/roster?category=奖学金").await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{backend}: {body}"
        );
        assert!(body.to_string().contains("category"), "{backend}: {body}");
        let (status, _) = app
            .api_user("admin")
            .await
            .get("/api/v1/roster?category=tekun")
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{backend}");

        // The page: the town's user sees the case's line and not the other town's.
        let bachuan = app.page_user("bachuan").await;
        let (status, html) = bachuan
            .get(&format!("/roster?category=tekun&date={confirmed_on}"))
            .await;
        assert_eq!(status, StatusCode::OK, "{backend}");
        let rows = table_rows(&html);
        assert_eq!(rows.len(), 1, "{backend}: {html}");
        assert!(
            rows[0].contains("韩老") && rows[0].contains("半护理") && rows[0].contains("认定办件"),
            "{backend}: {}",
            rows[0]
        );
        assert!(!html.contains("赵铁柱"), "{backend}");
        // The line links to the household's page, which opens.
        let href = &rows[0][rows[0].find("href=\"").unwrap() + 6..];
        let href = &href[..href.find('"').unwrap()];
        let (status, household) = bachuan.get(href).await;
        assert_eq!(status, StatusCode::OK, "{backend}: {href}");
        assert!(household.contains("BC-0800"), "{backend}");
        let (status, _) = bachuan.get("/roster?category=tekun&area=500151100").await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{backend}");
        app.stop().await;
    }
}

/// A roster longer than a page is read in keyset pages of 50, the total on the first page,
/// none twice and none lost, on the page and in the API; before the roll's start it is empty.
#[tokio::test]
async fn issue13_a_long_roster_is_read_in_keyset_pages() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        rolled_households(&app).await;
        let minzheng = app.page_user("minzheng").await;
        dibao_roll(&app, &minzheng).await;
        let district = app.api_user("minzheng").await;

        // Keyset pages of 50: the 低保 roll's 60 households, the total on the first page.
        let (_, html) = minzheng
            .get("/roster?category=dibao&date=2026-01-01&area=500151100")
            .await;
        assert!(
            html.contains("<span id=\"roster-total\">60</span>"),
            "{backend}: {html}"
        );
        let first = table_rows(&html);
        assert_eq!(first.len(), 50, "{backend}");
        assert!(
            first[0].contains("万槽村")
                && first[0].contains("800.00")
                && first[0].contains("名册导入"),
            "{backend}: {}",
            first[0]
        );
        let next = next_link(&html).unwrap();
        let (status, html) = minzheng.get(&next).await;
        assert_eq!(status, StatusCode::OK, "{backend}");
        let second = table_rows(&html);
        assert_eq!(second.len(), ROLLED - 50, "{backend}");
        assert!(next_link(&html).is_none(), "{backend}");
        assert!(
            html.contains("<span id=\"roster-total\">60</span>"),
            "{backend}"
        );
        let households = |rows: &[&str]| -> Vec<String> {
            rows.iter()
                .map(|row| row[row.find("TQ-").unwrap()..][..7].to_owned())
                .collect()
        };
        let mut all = households(&first);
        all.extend(households(&second));
        all.sort();
        all.dedup();
        assert_eq!(all.len(), ROLLED, "{backend}: none twice, none lost");
        let (_, body) = district
            .get("/api/v1/roster?category=dibao&date=2026-01-01&area=500151100")
            .await;
        let cursor = body["next"].as_str().unwrap().to_owned();
        let (_, body) = district
            .get(&format!(
                "/api/v1/roster?category=dibao&date=2026-01-01&area=500151100&after={cursor}"
            ))
            .await;
        assert_eq!(
            (
                body["items"].as_array().unwrap().len(),
                body["total"].is_null()
            ),
            (ROLLED - 50, true),
            "{backend}: {body}"
        );
        // The day before the roll's start the roster is empty.
        let (_, html) = minzheng
            .get("/roster?category=dibao&date=2025-06-30&area=500151100")
            .await;
        assert!(html.contains("该日无在册对象"), "{backend}");
        app.stop().await;
    }
}

/// The export: every line, read back; audited; refused outside the user's area.
#[tokio::test]
async fn issue13_the_roster_export_has_every_line_and_is_audited() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        rolled_households(&app).await;
        let (_, confirmed_on) = tekun_confirmed(&app).await;
        let minzheng = app.page_user("minzheng").await;
        tekun_roll(&app, &minzheng).await;
        dibao_roll(&app, &minzheng).await;
        let zhao = &app.tuqiao_village.head_id;
        let bachuan = app.page_user("bachuan").await;

        // The export: every line, read back; audited.
        let response = minzheng
            .client
            .get(app.url(&format!(
                "/roster/xlsx?category=tekun&date={confirmed_on}&area=500151"
            )))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{backend}");
        let bytes = response.bytes().await.unwrap();
        let sheet = {
            use calamine::{Reader, Xlsx};
            let mut workbook: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
            workbook.worksheet_range("名册").unwrap()
        };
        let rows: Vec<Vec<String>> = sheet
            .rows()
            .map(|row| row.iter().map(ToString::to_string).collect())
            .collect();
        assert!(
            rows[0][0].contains("特困人员名册（2 条）"),
            "{backend}: {rows:?}"
        );
        assert_eq!(rows[1][0], "户编号", "{backend}");
        assert_eq!(rows.len(), 4, "{backend}: {rows:?}");
        let zhao_row = rows.iter().find(|row| row[2] == "赵铁柱").unwrap();
        assert_eq!(
            (
                zhao_row[3].as_str(),
                zhao_row[9].as_str(),
                zhao_row[10].as_str(),
                zhao_row[11].as_str(),
                zhao_row[12].as_str()
            ),
            (zhao.as_str(), "1301", "集中供养", "全护理", "名册导入"),
            "{backend}: {zhao_row:?}"
        );
        let events = app.audit_of("roll", &format!("tekun@{confirmed_on}")).await;
        assert_eq!(events.len(), 1, "{backend}");
        assert_eq!(events[0].event.action, "roster.export", "{backend}");
        let response = minzheng
            .client
            .get(app.url("/roster/xlsx?category=dibao&date=2026-01-01&area=500151100"))
            .send()
            .await
            .unwrap();
        let bytes = response.bytes().await.unwrap();
        let sheet = {
            use calamine::{Reader, Xlsx};
            let mut workbook: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
            workbook.worksheet_range("名册").unwrap()
        };
        assert_eq!(sheet.rows().count(), ROLLED + 2, "{backend}");
        // Outside the user's area the export is refused too.
        let response = bachuan
            .client
            .get(app.url("/roster/xlsx?category=dibao&area=500151100"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{backend}");
        app.stop().await;
    }
}
