use super::content::{
    self, Content, DocumentKinds, MAX_DOCUMENT_BYTES, MAX_EDGE_PX, Refusal, THUMBNAIL_EDGE_PX,
};
use super::picture;
use super::stored_file_name;

/// What `check` says of some bytes, as one line: the content's media type or the message.
fn judged(bytes: &[u8]) -> String {
    match content::check(bytes) {
        Ok(content) => content.media_type().to_owned(),
        Err(refusal) => format!("{}: {}", refusal.field(), refusal.message()),
    }
}

#[test]
fn d4_files_are_judged_by_their_bytes_not_their_names() {
    let mut webp = b"RIFF\0\0\0\0WEBPVP8 ".to_vec();
    webp.extend_from_slice(&[0; 8]);
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("jpeg", vec![0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10], "image/jpeg"),
        (
            "png",
            b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec(),
            "image/png",
        ),
        ("webp", webp, "image/webp"),
        (
            "pdf",
            b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n".to_vec(),
            "application/pdf",
        ),
        (
            "empty",
            Vec::new(),
            "file: 材料文件：所选文件是空的（0 字节），请重新拍照或选择文件，未保存",
        ),
        (
            "elf renamed .jpg",
            b"\x7fELF\x02\x01\x01\0\0\0".to_vec(),
            "file: 材料文件：只能上传照片（JPEG、PNG、WebP）或 PDF 文件，所选文件是可执行程序，未保存",
        ),
        (
            "windows exe",
            b"MZ\x90\0\x03\0\0\0".to_vec(),
            "file: 材料文件：只能上传照片（JPEG、PNG、WebP）或 PDF 文件，所选文件是可执行程序，未保存",
        ),
        (
            "text named .jpg",
            "户口簿照片".as_bytes().to_vec(),
            "file: 材料文件：只能上传照片（JPEG、PNG、WebP）或 PDF 文件，所选文件是文本文件，未保存",
        ),
        (
            "pdf signature not at the start",
            b" %PDF-1.7".to_vec(),
            "file: 材料文件：只能上传照片（JPEG、PNG、WebP）或 PDF 文件，所选文件是文本文件，未保存",
        ),
        (
            "zip",
            b"PK\x03\x04\x14\0".to_vec(),
            "file: 材料文件：只能上传照片（JPEG、PNG、WebP）或 PDF 文件，所选文件是压缩包或Office文档，未保存",
        ),
        (
            "heic",
            b"\0\0\0\x18ftypheic\0\0\0\0".to_vec(),
            "file: 材料文件：只能上传照片（JPEG、PNG、WebP）或 PDF 文件，所选文件是视频或HEIC照片（请在手机相机设置中选择“兼容性最佳”后重新拍摄，或截图后上传），未保存",
        ),
    ];
    for (name, bytes, expect) in cases {
        assert_eq!(judged(&bytes), expect, "{name}");
    }
}

#[test]
fn d4_the_size_limit_is_inclusive_and_named_in_mib() {
    let mut at_limit = vec![0u8; MAX_DOCUMENT_BYTES];
    at_limit[..5].copy_from_slice(b"%PDF-");
    assert_eq!(content::check(&at_limit), Ok(Content::Pdf));
    at_limit.push(0);
    assert_eq!(
        judged(&at_limit),
        "file: 材料文件：文件大小 10.0 MiB，超过了 10.0 MiB 的上限，请缩小照片或分开扫描后重新上传，未保存"
    );
    let mut large = vec![0u8; MAX_DOCUMENT_BYTES + 3 * 1024 * 1024];
    large[..3].copy_from_slice(&[0xFF, 0xD8, 0xFF]);
    assert_eq!(
        content::check(&large),
        Err(Refusal::TooLarge { bytes: large.len() })
    );
    assert!(content::upload_body_limit() > MAX_DOCUMENT_BYTES);
}

#[test]
fn d4_kinds_come_from_the_data_file_with_the_authorisation_required_at_intake() {
    let kinds = DocumentKinds::builtin().unwrap();
    let listed: Vec<String> = kinds
        .all()
        .iter()
        .map(|kind| format!("{} {}", kind.code, kind.label))
        .collect();
    assert_eq!(
        listed.join("；"),
        "hukou_booklet 户口簿；id_card 身份证；disability_certificate 残疾证；diagnosis 诊断证明；income_proof 收入证明；authorisation 签字的授权书；other 其他材料"
    );
    let missing: Vec<&str> = kinds
        .missing_at("intake", &["id_card"])
        .iter()
        .map(|kind| kind.label.as_str())
        .collect();
    assert_eq!(missing, ["签字的授权书"]);
    assert!(kinds.missing_at("intake", &["authorisation"]).is_empty());
    assert_eq!(
        kinds.choose(" id_card ").map(|k| k.label.as_str()),
        Ok("身份证")
    );
    assert_eq!(
        kinds.choose("").map_err(|r| r.message()),
        Err("材料种类：请选择材料种类".to_owned())
    );
    assert_eq!(
        kinds.choose("passport").map_err(|r| r.message()),
        Err("材料种类：没有“passport”这一种材料".to_owned())
    );
    assert_eq!(kinds.label("gone"), "gone");
}

#[test]
fn d4_a_kinds_file_with_a_fault_is_refused() {
    let cases = [
        ("kind = []", "no kind of document is listed"),
        (
            "[[kind]]\ncode = \"a\"\nlabel = \"甲\"\nsource = \"x\"\n[[kind]]\ncode = \"a\"\nlabel = \"乙\"\nsource = \"x\"",
            "kind a is listed twice",
        ),
        (
            "[[kind]]\ncode = \"Bad\"\nlabel = \"甲\"\nsource = \"x\"",
            "kind code \"Bad\" is not snake_case",
        ),
        (
            "[[kind]]\ncode = \"a\"\nlabel = \"甲\"\nsource = \"x\"\nrequired_at = \"survey\"",
            "kind a: unknown step survey",
        ),
        (
            "[[kind]]\ncode = \"a\"\nlabel = \"\"\nsource = \"x\"",
            "kind a needs a label and a source",
        ),
    ];
    for (text, expect) in cases {
        assert_eq!(DocumentKinds::parse(text), Err(expect.to_owned()), "{text}");
    }
}

#[test]
fn d4_stored_file_names_lose_folders_and_take_the_stored_extension() {
    let cases = [
        (
            "IMG_2041.HEIC.png",
            "身份证",
            "image/jpeg",
            "IMG_2041.HEIC.jpg",
        ),
        (
            "C:\\Users\\a\\户口簿.jpeg",
            "户口簿",
            "image/jpeg",
            "户口簿.jpg",
        ),
        (
            "../../etc/证明.pdf",
            "诊断证明",
            "application/pdf",
            "证明.pdf",
        ),
        ("", "签字的授权书", "image/jpeg", "签字的授权书.jpg"),
        ("a\u{0}b<c>.pdf", "其他材料", "application/pdf", "abc.pdf"),
        (".jpg", "身份证", "image/jpeg", ".jpg.jpg"),
    ];
    for (sent, label, media, expect) in cases {
        assert_eq!(stored_file_name(sent, label, media), expect, "{sent}");
    }
}

fn encoded(width: u32, height: u32, format: image::ImageFormat) -> Vec<u8> {
    let picture = image::RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, 128])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(picture)
        .write_to(&mut out, format)
        .unwrap();
    out.into_inner()
}

#[test]
fn d4_images_are_shrunk_re_encoded_and_thumbnailed_and_pdfs_kept_as_sent() {
    let png = encoded(2400, 1200, image::ImageFormat::Png);
    let prepared = picture::prepare(&png, content::check(&png).unwrap()).unwrap();
    assert_eq!(prepared.media_type, "image/jpeg");
    let stored = image::load_from_memory(&prepared.content).unwrap();
    assert_eq!(
        (stored.width(), stored.height()),
        (MAX_EDGE_PX, MAX_EDGE_PX / 2)
    );
    let thumbnail = image::load_from_memory(prepared.thumbnail.as_deref().unwrap()).unwrap();
    assert_eq!(
        (thumbnail.width(), thumbnail.height()),
        (THUMBNAIL_EDGE_PX, THUMBNAIL_EDGE_PX / 2)
    );

    let small = encoded(300, 400, image::ImageFormat::Jpeg);
    let prepared = picture::prepare(&small, Content::Jpeg).unwrap();
    let stored = image::load_from_memory(&prepared.content).unwrap();
    assert_eq!((stored.width(), stored.height()), (300, 400));

    let pdf = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n%%EOF\n".to_vec();
    let prepared = picture::prepare(&pdf, Content::Pdf).unwrap();
    assert_eq!(prepared.content, pdf);
    assert_eq!(prepared.thumbnail, None);
    assert_eq!(prepared.media_type, "application/pdf");
}

#[test]
fn d4_a_broken_image_or_a_decompression_bomb_is_refused() {
    let mut truncated = encoded(64, 64, image::ImageFormat::Png);
    truncated.truncate(40);
    assert_eq!(
        picture::prepare(&truncated, Content::Png),
        Err(Refusal::Unreadable)
    );
    // A PNG header claiming 100 000 × 100 000 pixels.
    let mut bomb = encoded(1, 1, image::ImageFormat::Png);
    bomb[16..20].copy_from_slice(&100_000u32.to_be_bytes());
    bomb[20..24].copy_from_slice(&100_000u32.to_be_bytes());
    assert!(matches!(
        picture::prepare(&bomb, Content::Png),
        Err(Refusal::TooManyPixels | Refusal::Unreadable)
    ));
}
