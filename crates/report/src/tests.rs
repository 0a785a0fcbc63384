use super::*;

fn table() -> Table {
    Table {
        title: "政策模拟".into(),
        notes: vec!["参数：dibao.standard.rural=700".into()],
        headers: vec!["镇街".into(), "户数".into(), "月支出".into()],
        rows: vec![vec![
            Cell::Text("巴川街道, 东".into()),
            Cell::Integer(12),
            Cell::Fen(-123_456),
        ]],
    }
}

#[test]
fn csv_has_bom_quotes_and_exact_money() {
    let csv = String::from_utf8(table().to_csv()).unwrap();
    assert_eq!(
        csv,
        "\u{feff}参数：dibao.standard.rural=700\r\n镇街,户数,月支出\r\n\"巴川街道, 东\",12,-1234.56\r\n"
    );
}

#[test]
fn xlsx_is_a_zip_workbook() {
    let bytes = table().to_xlsx().unwrap();
    assert_eq!(&bytes[..2], b"PK");
    assert!(bytes.len() > 1000);
}
