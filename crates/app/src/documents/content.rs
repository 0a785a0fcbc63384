//! 材料的检查 (D4, issue 15 item 3): what a sent file is, judged by its bytes and never by its
//! name or the browser's word; the size limits; and the kinds of document, kept as data in
//! `policy/documents.toml`. Pure: no IO, no clock (`picture` does the image work).
//!
//! Invariant: a file that passes `check` starts with the signature of a JPEG, PNG or WebP
//! image or of a PDF, is not empty and is at most `MAX_DOCUMENT_BYTES` long.

use serde::Deserialize;

/// The most bytes one sent file may have (10 MiB): a phone photo is 2–6 MiB, a scanned PDF of
/// a few pages stays under it. An operating limit of the service, not a policy number. The
/// routes that take a file accept a body `UPLOAD_MARGIN_BYTES` larger, so a file just over the
/// limit is refused by `check` with its size named, not by the server's body limit.
pub const MAX_DOCUMENT_BYTES: usize = 10 * 1024 * 1024;

/// What a multipart body carries beyond its file (boundaries, the other fields).
pub const UPLOAD_MARGIN_BYTES: usize = 1024 * 1024;

/// The longest edge of a stored image: enough to read a certificate's small print, while a
/// 12-megapixel photo shrinks to about a tenth of its pixels.
pub const MAX_EDGE_PX: u32 = 2000;

/// The longest edge of a thumbnail on the case and household pages.
pub const THUMBNAIL_EDGE_PX: u32 = 240;

/// The longest edge of an image that is decoded at all (a photo of 200 megapixels is not a
/// document; a tiny file claiming larger dimensions is a decompression bomb).
pub const MAX_SOURCE_EDGE_PX: u32 = 16_384;

/// The memory one decoding may take.
pub const MAX_DECODE_BYTES: u64 = 512 * 1024 * 1024;

/// The Chinese name of the file field in messages.
pub const FILE_LABEL: &str = "材料文件";
/// The Chinese name of the kind field in messages.
pub const KIND_LABEL: &str = "材料种类";

/// 文件类型: what a file's bytes are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Content {
    Jpeg,
    Png,
    Webp,
    Pdf,
}

impl Content {
    /// The media type the file is served with.
    pub fn media_type(self) -> &'static str {
        match self {
            Content::Jpeg => "image/jpeg",
            Content::Png => "image/png",
            Content::Webp => "image/webp",
            Content::Pdf => "application/pdf",
        }
    }

    pub fn is_image(self) -> bool {
        self != Content::Pdf
    }
}

/// The kind of a file by its first bytes, if it is one the product keeps.
pub fn sniff(bytes: &[u8]) -> Option<Content> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(Content::Jpeg)
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(Content::Png)
    } else if bytes.len() >= 12 && bytes.starts_with(b"RIFF") && &bytes[8..12] == b"WEBP" {
        Some(Content::Webp)
    } else if bytes.starts_with(b"%PDF-") {
        Some(Content::Pdf)
    } else {
        None
    }
}

/// What a refused file looks like, for the message: a person who picked the wrong file is
/// told what they picked.
fn looks_like(bytes: &[u8]) -> &'static str {
    if bytes.starts_with(b"\x7fELF") || bytes.starts_with(b"MZ") || bytes.starts_with(b"#!") {
        "是可执行程序"
    } else if bytes.starts_with(b"PK\x03\x04") {
        "是压缩包或Office文档"
    } else if bytes.starts_with(b"GIF8") {
        "是GIF动图"
    } else if bytes.len() >= 12 && &bytes[4..8] == b"ftyp" {
        "是视频或HEIC照片（请在手机相机设置中选择“兼容性最佳”后重新拍摄，或截图后上传）"
    } else if is_text(&bytes[..bytes.len().min(512)]) {
        "是文本文件"
    } else {
        "的内容不是照片或PDF"
    }
}

/// UTF-8 throughout, a character cut at the end of the sample aside.
fn is_text(sample: &[u8]) -> bool {
    match std::str::from_utf8(sample) {
        Ok(_) => true,
        Err(error) => error.error_len().is_none(),
    }
}

/// Why a sent file is not kept. Nothing is stored for any of them.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("the file is empty")]
    Empty,
    #[error("the file has {bytes} bytes, more than the limit")]
    TooLarge { bytes: usize },
    #[error("the file is neither an image nor a PDF")]
    Unsupported { looks_like: &'static str },
    #[error("the image cannot be decoded")]
    Unreadable,
    #[error("the image is larger than {MAX_SOURCE_EDGE_PX} pixels on an edge")]
    TooManyPixels,
    #[error("no kind chosen")]
    NoKind,
    #[error("unknown kind {0}")]
    UnknownKind(String),
}

/// Sizes in messages: MiB with one decimal.
fn mib(bytes: usize) -> String {
    // A display of a size, exact to a tenth: no policy number.
    #[allow(clippy::cast_precision_loss)]
    let value = bytes as f64 / (1024.0 * 1024.0);
    format!("{value:.1} MiB")
}

impl Refusal {
    /// The form field the refusal is about (`file` or `kind`).
    pub fn field(&self) -> &'static str {
        match self {
            Refusal::NoKind | Refusal::UnknownKind(_) => "kind",
            _ => "file",
        }
    }

    /// The Chinese message, naming the field.
    pub fn message(&self) -> String {
        match self {
            Refusal::Empty => {
                format!("{FILE_LABEL}：所选文件是空的（0 字节），请重新拍照或选择文件，未保存")
            }
            Refusal::TooLarge { bytes } => format!(
                "{FILE_LABEL}：文件大小 {}，超过了 {} 的上限，请缩小照片或分开扫描后重新上传，未保存",
                mib(*bytes),
                mib(MAX_DOCUMENT_BYTES)
            ),
            Refusal::Unsupported { looks_like } => format!(
                "{FILE_LABEL}：只能上传照片（JPEG、PNG、WebP）或 PDF 文件，所选文件{looks_like}，未保存"
            ),
            Refusal::Unreadable => {
                format!("{FILE_LABEL}：图片已损坏或无法读取，请重新拍照后上传，未保存")
            }
            Refusal::TooManyPixels => format!(
                "{FILE_LABEL}：图片尺寸过大（长边超过 {MAX_SOURCE_EDGE_PX} 像素），请缩小后重新上传，未保存"
            ),
            Refusal::NoKind => format!("{KIND_LABEL}：请选择材料种类"),
            Refusal::UnknownKind(code) => format!("{KIND_LABEL}：没有“{code}”这一种材料"),
        }
    }
}

/// The body limit of a route that takes one file: a file just over `MAX_DOCUMENT_BYTES` still
/// reaches `check`, which names its size.
pub const fn upload_body_limit() -> usize {
    MAX_DOCUMENT_BYTES + UPLOAD_MARGIN_BYTES
}

/// The message of a body over the route's limit (the file is far too large to be read at all).
pub fn body_too_large_message() -> String {
    format!(
        "{FILE_LABEL}：文件超过了 {} 的上限，请缩小照片或分开扫描后重新上传，未保存",
        mib(MAX_DOCUMENT_BYTES)
    )
}

/// A sent file judged by its bytes: empty, too large, or not an image or PDF is refused.
pub fn check(bytes: &[u8]) -> Result<Content, Refusal> {
    if bytes.is_empty() {
        return Err(Refusal::Empty);
    }
    if bytes.len() > MAX_DOCUMENT_BYTES {
        return Err(Refusal::TooLarge { bytes: bytes.len() });
    }
    sniff(bytes).ok_or(Refusal::Unsupported {
        looks_like: looks_like(bytes),
    })
}

/// 材料种类: one kind of document, as `policy/documents.toml` lists it.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocumentKind {
    pub code: String,
    pub label: String,
    pub source: String,
    /// The step whose case needs one of this kind (`intake`), if any.
    #[serde(default)]
    pub required_at: Option<String>,
}

/// The kinds of document, in the order forms offer them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DocumentKinds {
    kinds: Vec<DocumentKind>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KindsFile {
    kind: Vec<DocumentKind>,
}

/// The steps a kind may be required at.
const REQUIRED_AT: &[&str] = &["intake"];

/// The kinds file as shipped.
pub const BUILTIN_KINDS: &str = include_str!("../../../../policy/documents.toml");

impl DocumentKinds {
    /// The kinds of a file in the form of `policy/documents.toml`: codes unique and lowercase,
    /// labels given, `required_at` a known step.
    pub fn parse(text: &str) -> Result<DocumentKinds, String> {
        let file: KindsFile = toml::from_str(text).map_err(|error| error.to_string())?;
        let mut seen = std::collections::BTreeSet::new();
        for kind in &file.kind {
            let well_formed = !kind.code.is_empty()
                && kind
                    .code
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c == '_');
            if !well_formed {
                return Err(format!("kind code {:?} is not snake_case", kind.code));
            }
            if !seen.insert(kind.code.as_str()) {
                return Err(format!("kind {} is listed twice", kind.code));
            }
            if kind.label.trim().is_empty() || kind.source.trim().is_empty() {
                return Err(format!("kind {} needs a label and a source", kind.code));
            }
            if let Some(step) = &kind.required_at
                && !REQUIRED_AT.contains(&step.as_str())
            {
                return Err(format!("kind {}: unknown step {step}", kind.code));
            }
        }
        if file.kind.is_empty() {
            return Err("no kind of document is listed".to_owned());
        }
        Ok(DocumentKinds { kinds: file.kind })
    }

    /// The kinds shipped in `policy/documents.toml`.
    pub fn builtin() -> Result<DocumentKinds, String> {
        DocumentKinds::parse(BUILTIN_KINDS)
    }

    pub fn all(&self) -> &[DocumentKind] {
        &self.kinds
    }

    /// The kind a form or the API names, or the refusal naming the field.
    pub fn choose(&self, code: &str) -> Result<&DocumentKind, Refusal> {
        let code = code.trim();
        if code.is_empty() {
            return Err(Refusal::NoKind);
        }
        self.kinds
            .iter()
            .find(|kind| kind.code == code)
            .ok_or_else(|| Refusal::UnknownKind(code.to_owned()))
    }

    /// The Chinese label of a stored kind (a kind no longer listed shows its code).
    pub fn label<'a>(&'a self, code: &'a str) -> &'a str {
        self.kinds
            .iter()
            .find(|kind| kind.code == code)
            .map_or(code, |kind| kind.label.as_str())
    }

    /// The kinds a case needs at `step` that none of `attached` (kind codes) answers.
    pub fn missing_at<'a>(&'a self, step: &str, attached: &[&str]) -> Vec<&'a DocumentKind> {
        self.kinds
            .iter()
            .filter(|kind| kind.required_at.as_deref() == Some(step))
            .filter(|kind| !attached.contains(&kind.code.as_str()))
            .collect()
    }
}
