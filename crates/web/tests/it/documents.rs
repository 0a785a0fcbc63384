//! 材料 (D4, issue 15 item 3): photos and PDFs attached to a case or a household, through the
//! real server on SQLite and PostgreSQL — stored re-encoded without location data, hashed,
//! thumbnailed, refused with a Chinese message when bad (nothing stored), read only inside
//! the role and area, every upload, view and withdrawal audited.

use crate::helpers::{TestApp, Upload, backends, multipart, multipart_type};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// A JPEG of `width` × `height` (a gradient, so it does not compress to nothing).
fn jpeg(width: u32, height: u32) -> Vec<u8> {
    let picture = image::RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x % 251) as u8, (y % 241) as u8, ((x + y) % 239) as u8])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(picture)
        .write_to(&mut out, image::ImageFormat::Jpeg)
        .unwrap();
    out.into_inner()
}

/// The text a GPS block of the test photo carries (GPSMapDatum), to look for afterwards.
const GPS_MARK: &[u8] = b"TONGLIANG-GPS-29.8N";

/// An APP1 Exif segment, spliced in by hand after the JPEG's SOI: IFD0 holds the orientation
/// (6: turn 90° clockwise to show) and a pointer to a GPS IFD with latitude N 29°48′ and a
/// map datum text.
fn with_exif_gps(jpeg: &[u8]) -> Vec<u8> {
    // TIFF, big-endian.
    let mut tiff: Vec<u8> = b"MM\0\x2a\0\0\0\x08".to_vec();
    let u16be = |v: u16| v.to_be_bytes().to_vec();
    let u32be = |v: u32| v.to_be_bytes().to_vec();
    // IFD0 at 8: 2 entries (12 bytes each), next-IFD 0 → GPS IFD at 8 + 2 + 24 + 4 = 38.
    let gps_at: u32 = 38;
    tiff.extend(u16be(2));
    tiff.extend(u16be(0x0112)); // Orientation, SHORT, 1
    tiff.extend(u16be(3));
    tiff.extend(u32be(1));
    tiff.extend(u16be(6));
    tiff.extend(u16be(0));
    tiff.extend(u16be(0x8825)); // GPSInfo IFD pointer, LONG, 1
    tiff.extend(u16be(4));
    tiff.extend(u32be(1));
    tiff.extend(u32be(gps_at));
    tiff.extend(u32be(0));
    assert_eq!(tiff.len() as u32, gps_at);
    // GPS IFD: 3 entries, then data: latitude (3 rationals) and the datum text.
    let data_at = gps_at + 2 + 3 * 12 + 4;
    let datum_at = data_at + 24;
    tiff.extend(u16be(3));
    tiff.extend(u16be(0x0001)); // GPSLatitudeRef, ASCII, 2: "N\0"
    tiff.extend(u16be(2));
    tiff.extend(u32be(2));
    tiff.extend(b"N\0\0\0");
    tiff.extend(u16be(0x0002)); // GPSLatitude, RATIONAL, 3
    tiff.extend(u16be(5));
    tiff.extend(u32be(3));
    tiff.extend(u32be(data_at));
    tiff.extend(u16be(0x0012)); // GPSMapDatum, ASCII
    tiff.extend(u16be(2));
    tiff.extend(u32be(GPS_MARK.len() as u32 + 1));
    tiff.extend(u32be(datum_at));
    tiff.extend(u32be(0));
    for (num, den) in [(29u32, 1u32), (48, 1), (0, 1)] {
        tiff.extend(u32be(num));
        tiff.extend(u32be(den));
    }
    tiff.extend(GPS_MARK);
    tiff.push(0);
    let mut segment = b"Exif\0\0".to_vec();
    segment.extend(tiff);
    let length = u16::try_from(segment.len() + 2).unwrap();
    let mut out = jpeg[..2].to_vec();
    out.extend([0xFF, 0xE1]);
    out.extend(length.to_be_bytes());
    out.extend(segment);
    out.extend(&jpeg[2..]);
    out
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

async fn document_count(app: &TestApp) -> i64 {
    let mut conn = app.app.store().read().await.unwrap();
    store::documents::count(&mut conn).await.unwrap()
}

/// Posts a multipart body with the client's session and nothing else (no CSRF token).
async fn post_without_token(
    app: &TestApp,
    client: &reqwest::Client,
    path: &str,
    body: Vec<u8>,
) -> reqwest::Response {
    client
        .post(app.url(path))
        .header("Content-Type", multipart_type())
        .body(body)
        .send()
        .await
        .unwrap()
}

/// What `d4_uploads_…_are_audited` builds on: the case's authorisation (a phone photo, on the
/// page) and a diagnosis PDF (API), each viewed once as a whole file, and two documents of the
/// household (API and page). Answers the photo's id.
async fn attach_case_and_household_documents(app: &TestApp, case_id: i64) -> i64 {
    let (pages, api) = (
        app.page_user("bachuan").await,
        app.api_user("bachuan").await,
    );
    let household = app.bachuan_village.id;
    let photo = with_exif_gps(&jpeg(2600, 1000));
    let case_path = format!("/cases/{case_id}/documents");
    let response = pages
        .upload(
            &case_path,
            Upload::new("authorisation", "IMG_0417.jpg", "image/jpeg", &photo),
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let (_, list) = api.get(&format!("/api/v1{case_path}")).await;
    let photo_id = list["documents"][0]["id"].as_i64().unwrap();
    assert_eq!(
        pages
            .fetch(&format!("/documents/{photo_id}"))
            .await
            .status(),
        StatusCode::OK
    );
    let (status, pdf) = api
        .upload(
            &format!("/api/v1{case_path}"),
            Upload::new("diagnosis", "诊断证明.pdf", "application/pdf", PDF),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{pdf}");
    let pdf_path = format!("/api/v1/documents/{}", pdf["id"]);
    assert_eq!(api.fetch(&pdf_path).await.status(), StatusCode::OK);
    let household_path = format!("/households/{household}/documents");
    let hukou = jpeg(400, 300);
    let hukou = Upload::new("hukou_booklet", "hk.png", "image/png", &hukou);
    let (status, _) = api.upload(&format!("/api/v1{household_path}"), hukou).await;
    assert_eq!(status, StatusCode::CREATED);
    let income = Upload::new("income_proof", "收入.pdf", "application/pdf", PDF);
    let response = pages.upload(&household_path, income).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    photo_id
}

/// A small PDF, kept byte for byte.
const PDF: &[u8] = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<<>>\n%%EOF\n";

#[tokio::test]
async fn d4_a_phone_photo_is_stored_upright_without_its_location_hashed_and_thumbnailed() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let (case_id, _) = app.open_application().await;
        let pages = app.page_user("bachuan").await;

        // The intake form says the signed authorisation is uploaded on the case page …
        let (_, intake) = pages.get("/cases/new").await;
        assert!(
            intake.contains("受理后请在案件页上传签字的授权书"),
            "{backend}"
        );
        // … and an application's case page asks for it.
        let (status, page) = pages.get(&format!("/cases/{case_id}")).await;
        assert_eq!(status, StatusCode::OK, "{backend}");
        assert!(page.contains("需上传：签字的授权书"), "{backend}: {page}");
        assert!(page.contains("capture=\"environment\""), "{backend}");
        assert!(
            page.contains("accept=\"image/*,application/pdf\""),
            "{backend}"
        );

        // A photo as a phone takes it: sideways pixels, EXIF with the turn and a GPS block.
        let photo = with_exif_gps(&jpeg(2600, 1000));
        assert!(contains(&photo, b"Exif\0\0") && contains(&photo, GPS_MARK));
        let upload = Upload::new("authorisation", "IMG_0417.jpg", "image/jpeg", &photo);
        let response = pages
            .upload(&format!("/cases/{case_id}/documents"), upload)
            .await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{backend}");
        assert_eq!(document_count(&app).await, 1, "{backend}");

        let (_, page) = pages.get(&format!("/cases/{case_id}")).await;
        assert!(!page.contains("需上传"), "{backend}");
        let api = app.api_user("bachuan").await;
        let (status, list) = api.get(&format!("/api/v1/cases/{case_id}/documents")).await;
        assert_eq!(status, StatusCode::OK, "{backend}: {list}");
        assert_eq!(list["missing"], json!([]), "{backend}");
        let document = &list["documents"][0];
        assert_eq!(document["kind"], "authorisation", "{backend}");
        assert_eq!(document["kind_label"], "签字的授权书", "{backend}");
        assert_eq!(document["media_type"], "image/jpeg", "{backend}");
        assert_eq!(document["file_name"], "IMG_0417.jpg", "{backend}");
        let id = document["id"].as_i64().unwrap();
        assert!(
            page.contains(&format!("src=\"/documents/{id}/thumbnail\"")),
            "{backend}: the case page shows the thumbnail"
        );

        // The whole file: re-encoded, upright (turned by its EXIF), shrunk, no EXIF, no GPS.
        let response = pages.fetch(&format!("/documents/{id}")).await;
        assert_eq!(response.status(), StatusCode::OK, "{backend}");
        assert_eq!(
            response.headers()["content-type"],
            "image/jpeg",
            "{backend}"
        );
        let stored = response.bytes().await.unwrap().to_vec();
        assert!(!contains(&stored, b"Exif"), "{backend}: EXIF is gone");
        assert!(!contains(&stored, GPS_MARK), "{backend}: GPS is gone");
        let decoded = image::load_from_memory(&stored).unwrap();
        assert_eq!(
            (decoded.width(), decoded.height()),
            (769, 2000),
            "{backend}"
        );
        assert_eq!(
            document["content_hash"],
            hex::encode(Sha256::digest(&stored)),
            "{backend}: the hash is the stored bytes'"
        );
        assert_eq!(document["byte_size"], stored.len(), "{backend}");

        let response = pages.fetch(&format!("/documents/{id}/thumbnail")).await;
        assert_eq!(response.status(), StatusCode::OK, "{backend}");
        assert_eq!(
            response.headers()["content-type"],
            "image/jpeg",
            "{backend}"
        );
        let thumbnail = image::load_from_memory(&response.bytes().await.unwrap()).unwrap();
        assert_eq!(
            (thumbnail.width(), thumbnail.height()),
            (92, 240),
            "{backend}"
        );
        app.stop().await;
    }
}

#[tokio::test]
async fn d4_a_pdf_through_the_api_is_kept_byte_for_byte_and_served_as_a_pdf() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let (case_id, _) = app.open_application().await;
        let api = app.api_user("bachuan").await;
        let upload = Upload::new("diagnosis", "诊断证明.pdf", "application/pdf", PDF);
        let (status, created) = api
            .upload(&format!("/api/v1/cases/{case_id}/documents"), upload)
            .await;
        assert_eq!(status, StatusCode::CREATED, "{backend}: {created}");
        assert_eq!(created["media_type"], "application/pdf", "{backend}");
        assert_eq!(created["file_name"], "诊断证明.pdf", "{backend}");
        assert_eq!(created["thumbnail"], Value::Null, "{backend}");
        let pdf_id = created["id"].as_i64().unwrap();
        let response = api.fetch(&format!("/api/v1/documents/{pdf_id}")).await;
        assert_eq!(response.status(), StatusCode::OK, "{backend}");
        assert_eq!(
            response.headers()["content-type"],
            "application/pdf",
            "{backend}"
        );
        assert!(
            response.headers()["content-disposition"]
                .to_str()
                .unwrap()
                .contains("filename*=UTF-8''%E8%AF%8A"),
            "{backend}"
        );
        assert_eq!(response.bytes().await.unwrap().as_ref(), PDF, "{backend}");
        app.stop().await;
    }
}

#[tokio::test]
async fn d4_a_household_lists_its_own_documents_with_its_cases_and_its_page_names_a_refused_file() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let (case_id, _) = app.open_application().await;
        let (pages, api) = (
            app.page_user("bachuan").await,
            app.api_user("bachuan").await,
        );
        let case_path = format!("/api/v1/cases/{case_id}/documents");
        let photo = jpeg(300, 200);
        let authorisation = Upload::new("authorisation", "a.jpg", "image/jpeg", &photo);
        let diagnosis = Upload::new("diagnosis", "诊断证明.pdf", "application/pdf", PDF);
        for upload in [authorisation, diagnosis] {
            assert_eq!(api.upload(&case_path, upload).await.0, StatusCode::CREATED);
        }

        // A household's own document; its page lists it with the case's.
        let household = app.bachuan_village.id;
        let hukou = jpeg(400, 300);
        let upload = Upload::new("hukou_booklet", "hk.png", "image/png", &hukou);
        let (status, _) = api
            .upload(&format!("/api/v1/households/{household}/documents"), upload)
            .await;
        assert_eq!(status, StatusCode::CREATED, "{backend}");
        let (_, list) = api
            .get(&format!("/api/v1/households/{household}/documents"))
            .await;
        let kinds: Vec<&str> = list["documents"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["kind"].as_str().unwrap())
            .collect();
        assert_eq!(
            kinds,
            ["authorisation", "diagnosis", "hukou_booklet"],
            "{backend}"
        );
        let (_, household_page) = pages.get(&format!("/households/{household}")).await;
        assert!(household_page.contains("id=\"document-list\""), "{backend}");
        assert!(household_page.contains("户口簿"), "{backend}");
        // The household page's own form: a refused file is shown there, a good one stored.
        let path = format!("/households/{household}/documents");
        let empty = Upload::new("income_proof", "收入.pdf", "application/pdf", b"");
        let response = pages.upload(&path, empty).await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{backend}"
        );
        assert!(
            response
                .text()
                .await
                .unwrap()
                .contains("材料文件：所选文件是空的"),
            "{backend}"
        );
        let income = Upload::new("income_proof", "收入.pdf", "application/pdf", PDF);
        let response = pages.upload(&path, income).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{backend}");
        assert_eq!(document_count(&app).await, 4, "{backend}");
        app.stop().await;
    }
}

#[tokio::test]
async fn d4_uploads_and_whole_file_views_are_audited_and_a_withdrawn_document_is_kept() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let (case_id, tracking) = app.open_application().await;
        let id = attach_case_and_household_documents(&app, case_id).await;
        let (pages, api) = (
            app.page_user("bachuan").await,
            app.api_user("bachuan").await,
        );

        // Every upload and every whole-file view is in the audit log, on the case or household.
        assert_eq!(
            app.audit_actions("case", &tracking, "document.").await,
            [
                "document.upload",
                "document.view",
                "document.upload",
                "document.view"
            ],
            "{backend}"
        );
        assert_eq!(
            app.audit_actions("household", app.bachuan_village.external_id, "document.")
                .await,
            ["document.upload", "document.upload"],
            "{backend}"
        );
        let (_, list) = api.get(&format!("/api/v1/cases/{case_id}/documents")).await;
        let hash = list["documents"][0]["content_hash"].as_str().unwrap();
        let upload = app
            .audit_of("case", &tracking)
            .await
            .into_iter()
            .find(|entry| entry.event.action == "document.upload")
            .unwrap();
        assert!(
            upload.event.after.unwrap_or_default().contains(hash),
            "{backend}: the upload's audit names the hash"
        );

        // 撤回: marked and kept; the authorisation is needed again.
        let response = pages
            .post_form(
                &format!("/documents/{id}/withdraw"),
                &[
                    ("csrf".to_owned(), pages.csrf.clone()),
                    ("reason".to_owned(), "照片模糊，重新拍摄".to_owned()),
                ],
            )
            .await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{backend}");
        let (_, list) = api.get(&format!("/api/v1/cases/{case_id}/documents")).await;
        assert_eq!(
            list["documents"][0]["withdrawn_reason"],
            "照片模糊，重新拍摄"
        );
        assert_eq!(list["missing"][0]["kind"], "authorisation", "{backend}");
        assert_eq!(document_count(&app).await, 4, "{backend}: nothing deleted");
        let (_, page) = pages.get(&format!("/cases/{case_id}")).await;
        assert!(page.contains("已撤回") && page.contains("需上传：签字的授权书"));
        assert!(
            app.audit_of("case", &tracking)
                .await
                .iter()
                .any(|entry| entry.event.action == "document.withdraw"),
            "{backend}"
        );
        app.stop().await;
    }
}

#[tokio::test]
async fn d4_bad_files_are_refused_with_a_chinese_message_naming_the_field_and_nothing_is_stored() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let (case_id, _) = app.open_application().await;
        let api = app.api_user("bachuan").await;
        let path = format!("/api/v1/cases/{case_id}/documents");
        let mut elf = b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0".to_vec();
        elf.extend([0u8; 64]);
        let mut too_large = vec![0u8; 10 * 1024 * 1024 + 512 * 1024];
        too_large[..3].copy_from_slice(&[0xFF, 0xD8, 0xFF]);
        let mut far_too_large = vec![0u8; 14 * 1024 * 1024];
        far_too_large[..3].copy_from_slice(&[0xFF, 0xD8, 0xFF]);
        let mut broken = jpeg(64, 64);
        broken.truncate(200);
        let cases: Vec<(&str, &str, Vec<u8>, &str, &str)> = vec![
            ("id_card", "photo.jpg", elf, "file", "所选文件是可执行程序"),
            (
                "id_card",
                "photo.jpg",
                "我是一段文字".as_bytes().to_vec(),
                "file",
                "所选文件是文本文件",
            ),
            ("id_card", "photo.jpg", Vec::new(), "file", "所选文件是空的"),
            (
                "id_card",
                "big.jpg",
                too_large,
                "file",
                "文件大小 10.5 MiB，超过了 10.0 MiB 的上限",
            ),
            (
                "id_card",
                "huge.jpg",
                far_too_large,
                "file",
                "文件超过了 10.0 MiB 的上限",
            ),
            (
                "id_card",
                "broken.jpg",
                broken,
                "file",
                "图片已损坏或无法读取",
            ),
            (
                "",
                "photo.jpg",
                jpeg(10, 10),
                "kind",
                "材料种类：请选择材料种类",
            ),
            (
                "passport",
                "photo.jpg",
                jpeg(10, 10),
                "kind",
                "没有“passport”这一种材料",
            ),
        ];
        for (kind, file_name, bytes, field, expect) in cases {
            let upload = Upload::new(kind, file_name, "image/jpeg", &bytes);
            let (status, body) = api.upload(&path, upload).await;
            assert_eq!(
                status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{backend} {expect}: {body}"
            );
            assert_eq!(body["fields"][0]["field"], field, "{backend}: {body}");
            let message = body["fields"][0]["message"].as_str().unwrap();
            assert!(message.contains(expect), "{backend}: {message}");
            assert_eq!(
                document_count(&app).await,
                0,
                "{backend} {expect}: nothing stored"
            );
        }

        // On the case page the refusal is shown in the section, with the kind kept.
        let pages = app.page_user("bachuan").await;
        let exe = Upload::new(
            "id_card",
            "setup.jpg",
            "image/jpeg",
            b"MZ\x90\0\x03\0\0\0\x04\0",
        );
        let response = pages
            .upload(&format!("/cases/{case_id}/documents"), exe)
            .await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{backend}"
        );
        let page = response.text().await.unwrap();
        assert!(
            page.contains("id=\"documents-error\">材料文件：只能上传照片（JPEG、PNG、WebP）或 PDF 文件，所选文件是可执行程序，未保存"),
            "{backend}: {page}"
        );
        assert!(
            page.contains("<option value=\"id_card\" selected>"),
            "{backend}"
        );
        // Without the form's token nothing is stored either.
        let response = post_without_token(
            &app,
            &pages.client,
            &format!("/cases/{case_id}/documents"),
            multipart(&[("kind", "id_card")], "a.jpg", "image/jpeg", &jpeg(10, 10)),
        )
        .await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{backend}");
        assert_eq!(document_count(&app).await, 0, "{backend}");
        app.stop().await;
    }
}

#[tokio::test]
async fn d4_documents_are_read_only_inside_the_role_and_area_of_their_case() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let (case_id, _) = app.open_application().await;
        let api = app.api_user("bachuan").await;
        let photo = jpeg(300, 200);
        let (status, created) = api
            .upload(
                &format!("/api/v1/cases/{case_id}/documents"),
                Upload::new("id_card", "id.jpg", "image/jpeg", &photo),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{backend}: {created}");
        let id = created["id"].as_i64().unwrap();
        let household = app.bachuan_village.id;

        // Another town's reviewer: not found, on every route, and cannot add one.
        let other = app.api_user("tuqiao").await;
        for path in [
            format!("/api/v1/cases/{case_id}/documents"),
            format!("/api/v1/households/{household}/documents"),
            format!("/api/v1/documents/{id}"),
        ] {
            let (status, body) = other.get(&path).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{backend} {path}: {body}");
        }
        let other_pages = app.page_user("tuqiao").await;
        for path in [
            format!("/documents/{id}"),
            format!("/documents/{id}/thumbnail"),
        ] {
            let (status, _) = other_pages.get(&path).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{backend} {path}");
        }
        let small = jpeg(30, 20);
        let small = Upload::new("id_card", "id.jpg", "image/jpeg", &small);
        let case_path = format!("/api/v1/cases/{case_id}/documents");
        let (status, _) = other.upload(&case_path, small).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{backend}");
        let response = other_pages
            .post_form(
                &format!("/documents/{id}/withdraw"),
                &[
                    ("csrf".to_owned(), other_pages.csrf.clone()),
                    ("reason".to_owned(), "x".to_owned()),
                ],
            )
            .await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{backend}");

        // A department and the administrator read no case: refused.
        for username in ["bumen", "admin"] {
            let user = app.api_user(username).await;
            let (status, _) = user.get(&format!("/api/v1/documents/{id}")).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{backend} {username}");
        }
        // The auditor reads (audited) but adds nothing.
        let auditor = app.api_user("shenji").await;
        let response = auditor.fetch(&format!("/api/v1/documents/{id}")).await;
        assert_eq!(response.status(), StatusCode::OK, "{backend}");
        let (status, _) = auditor.upload(&case_path, small).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{backend}");
        // The village's grid worker, who surveys there, reads and adds.
        let grid = app.api_user("wangge").await;
        let (status, list) = grid
            .get(&format!("/api/v1/cases/{case_id}/documents"))
            .await;
        assert_eq!(status, StatusCode::OK, "{backend}: {list}");
        assert_eq!(list["documents"].as_array().unwrap().len(), 1, "{backend}");
        assert_eq!(document_count(&app).await, 1, "{backend}");
        app.stop().await;
    }
}
