//! 材料的存储形式 (D4): what is kept of a checked file. An image is decoded (within
//! `MAX_SOURCE_EDGE_PX` and `MAX_DECODE_BYTES`), turned upright by its EXIF orientation,
//! shrunk to `MAX_EDGE_PX` and encoded again as JPEG: the new file carries pixels only, so the
//! photo's EXIF (camera, time, GPS location) and any other metadata are gone. A thumbnail of
//! `THUMBNAIL_EDGE_PX` is kept beside it. A PDF is kept byte for byte. Pure CPU work, no IO:
//! the caller runs it off the async threads.

use super::content::{
    Content, MAX_DECODE_BYTES, MAX_EDGE_PX, MAX_SOURCE_EDGE_PX, Refusal, THUMBNAIL_EDGE_PX,
};
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};
use std::io::Cursor;

/// JPEG quality of a stored image: text and stamps stay sharp.
const STORED_QUALITY: u8 = 85;
/// JPEG quality of a thumbnail.
const THUMBNAIL_QUALITY: u8 = 75;

/// The stored form of a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Prepared {
    pub content: Vec<u8>,
    pub media_type: &'static str,
    /// A JPEG of at most `THUMBNAIL_EDGE_PX` on its longer edge (images only).
    pub thumbnail: Option<Vec<u8>>,
}

/// The stored form of `bytes`, already checked to be `content`.
pub fn prepare(bytes: &[u8], content: Content) -> Result<Prepared, Refusal> {
    let format = match content {
        Content::Pdf => {
            return Ok(Prepared {
                content: bytes.to_vec(),
                media_type: content.media_type(),
                thumbnail: None,
            });
        }
        Content::Jpeg => ImageFormat::Jpeg,
        Content::Png => ImageFormat::Png,
        Content::Webp => ImageFormat::WebP,
    };
    let image = decode(bytes, format)?;
    let stored = if image.width() > MAX_EDGE_PX || image.height() > MAX_EDGE_PX {
        image.resize(
            MAX_EDGE_PX,
            MAX_EDGE_PX,
            image::imageops::FilterType::CatmullRom,
        )
    } else {
        image
    };
    let stored = DynamicImage::ImageRgb8(stored.to_rgb8());
    let thumbnail = stored.thumbnail(THUMBNAIL_EDGE_PX, THUMBNAIL_EDGE_PX);
    Ok(Prepared {
        content: jpeg(&stored, STORED_QUALITY)?,
        media_type: Content::Jpeg.media_type(),
        thumbnail: Some(jpeg(&thumbnail, THUMBNAIL_QUALITY)?),
    })
}

fn decode(bytes: &[u8], format: ImageFormat) -> Result<DynamicImage, Refusal> {
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SOURCE_EDGE_PX);
    limits.max_image_height = Some(MAX_SOURCE_EDGE_PX);
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    reader.limits(limits);
    let refusal = |error: image::ImageError| match error {
        image::ImageError::Limits(_) => Refusal::TooManyPixels,
        _ => Refusal::Unreadable,
    };
    let mut decoder = reader.into_decoder().map_err(refusal)?;
    // A phone stores a photo as the sensor saw it and says in EXIF how to turn it; the EXIF is
    // dropped, so the turn is applied to the pixels. An unreadable EXIF leaves the photo as is.
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut image = DynamicImage::from_decoder(decoder).map_err(refusal)?;
    image.apply_orientation(orientation);
    Ok(image)
}

fn jpeg(image: &DynamicImage, quality: u8) -> Result<Vec<u8>, Refusal> {
    let mut out = Vec::new();
    let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality);
    image
        .write_with_encoder(encoder)
        .map_err(|_| Refusal::Unreadable)?;
    Ok(out)
}
