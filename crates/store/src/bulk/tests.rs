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
