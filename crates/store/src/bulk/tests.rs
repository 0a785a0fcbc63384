use super::copy_row;

fn check(fields: &[Option<&str>], expect: &str) {
    let mut buffer = Vec::new();
    copy_row(&mut buffer, fields);
    assert_eq!(String::from_utf8(buffer).unwrap(), expect);
}

#[test]
fn copy_text_escapes_what_copy_reads_specially() {
    check(&[Some("a"), None, Some("")], "a\t\\N\t\n");
    check(
        &[Some("{\"n\":\"x\\\"y\"}"), Some("tab\there")],
        "{\"n\":\"x\\\\\"y\"}\ttab\\there\n",
    );
    check(&[Some("line\nbreak\r")], "line\\nbreak\\r\n");
    check(&[Some("张三")], "张三\n");
}

#[test]
fn a_households_gram_slices_are_its_grams() {
    let ids = [
        "500224194503120011",
        "500224195003150315",
        "500224201609090714",
    ];
    let members: Vec<String> = ["欧阳娜娜", "张三丰", "A"]
        .iter()
        .zip(ids)
        .zip(["head", "spouse", "child"])
        .map(|((name, id_number), relation)| {
            format!(r#"{{"id_number":"{id_number}","name":"{name}","relation":"{relation}"}}"#)
        })
        .collect();
    let household = domain::interchange::parse_household_line(&format!(
        r#"{{"id":"H1","area_code":"500151001201","members":[{}]}}"#,
        members.join(",")
    ))
    .unwrap();
    let slices = crate::name_index::household_gram_slices(&household);
    let grams: Vec<String> = crate::name_index::household_grams(&household)
        .into_iter()
        .collect();
    assert_eq!(slices, grams);
    assert!(slices.contains(&"欧阳娜") && slices.contains(&"A") && !slices.contains(&"娜娜张"));
}
