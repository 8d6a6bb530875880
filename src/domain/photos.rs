//! A holder's photo for the public page of their credential. What they
//! upload is never served as sent: it is decoded (PNG or JPEG only, by
//! its bytes, not by what the browser claims), scaled to fit
//! [`MAX_SIDE`] and encoded again as JPEG. That drops everything a phone
//! camera writes beside the picture (EXIF: place, time, device) and any
//! payload hidden in the file, and keeps what the page serves small.

use image::{ImageFormat, ImageReader, Limits};

/// The largest file accepted, in bytes (a phone photo is 2–5 MB).
pub const MAX_UPLOAD_BYTES: usize = 8 * 1024 * 1024;

/// The largest width or height a photo may have before scaling: beyond it
/// a small file could ask for gigabytes when decoded.
pub const MAX_SOURCE_SIDE: u32 = 10_000;

/// The longest side of the photo as stored and served, in pixels.
pub const MAX_SIDE: u32 = 320;

/// Why an upload is refused, in words for the holder.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhotoProblem {
    #[error("choose a photo to upload")]
    Empty,
    #[error("the photo is larger than 8 MB")]
    TooLarge,
    #[error("the photo must be a JPEG or PNG image")]
    NotAnImage,
    #[error("the photo is more than 10000 pixels wide or high")]
    TooManyPixels,
}

/// The photo as stored: decoded, scaled to fit [`MAX_SIDE`], encoded as
/// JPEG without metadata.
pub fn normalise(upload: &[u8]) -> Result<Vec<u8>, PhotoProblem> {
    if upload.is_empty() {
        return Err(PhotoProblem::Empty);
    }
    if upload.len() > MAX_UPLOAD_BYTES {
        return Err(PhotoProblem::TooLarge);
    }
    let format = image::guess_format(upload).map_err(|_detail| PhotoProblem::NotAnImage)?;
    if !matches!(format, ImageFormat::Jpeg | ImageFormat::Png) {
        return Err(PhotoProblem::NotAnImage);
    }
    let mut reader = ImageReader::with_format(std::io::Cursor::new(upload), format);
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SOURCE_SIDE);
    limits.max_image_height = Some(MAX_SOURCE_SIDE);
    reader.limits(limits);
    let decoded = reader.decode().map_err(|e| match e {
        image::ImageError::Limits(_) => PhotoProblem::TooManyPixels,
        _ => PhotoProblem::NotAnImage,
    })?;
    // `thumbnail` keeps the aspect ratio and never enlarges past the
    // source; JPEG has no alpha, so the picture is flattened to RGB.
    let scaled = if decoded.width() > MAX_SIDE || decoded.height() > MAX_SIDE {
        decoded.thumbnail(MAX_SIDE, MAX_SIDE)
    } else {
        decoded
    };
    let rgb = scaled.to_rgb8();
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 85)
        .encode_image(&rgb)
        .map_err(|_detail| PhotoProblem::NotAnImage)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::indexing_slicing,
        clippy::as_conversions,
        reason = "tests index and cast the fixtures they build; a panic is a failed test"
    )]

    use super::*;

    fn png_of(width: u32, height: u32) -> Vec<u8> {
        let img = image::RgbaImage::from_pixel(width, height, image::Rgba([200, 30, 30, 255]));
        let mut out = Vec::new();
        img.write_to(&mut std::io::Cursor::new(&mut out), ImageFormat::Png)
            .unwrap();
        out
    }

    fn jpeg_of(width: u32, height: u32) -> Vec<u8> {
        let img = image::RgbImage::from_pixel(width, height, image::Rgb([30, 120, 200]));
        let mut out = Vec::new();
        img.write_to(&mut std::io::Cursor::new(&mut out), ImageFormat::Jpeg)
            .unwrap();
        out
    }

    /// A JPEG with an EXIF segment (APP1) after its start marker, as a
    /// phone camera writes one.
    fn jpeg_with_exif() -> Vec<u8> {
        let plain = jpeg_of(40, 30);
        let payload = b"Exif\0\0GPS 31.2304N 121.4737E secret";
        let length = u16::try_from(payload.len() + 2).unwrap();
        let mut out = plain[..2].to_vec();
        out.extend_from_slice(&[0xFF, 0xE1]);
        out.extend_from_slice(&length.to_be_bytes());
        out.extend_from_slice(payload);
        out.extend_from_slice(&plain[2..]);
        out
    }

    fn dimensions(jpeg: &[u8]) -> (u32, u32) {
        assert_eq!(image::guess_format(jpeg).unwrap(), ImageFormat::Jpeg);
        let img = image::load_from_memory(jpeg).unwrap();
        (img.width(), img.height())
    }

    #[test]
    fn a_photo_is_scaled_to_fit_and_stored_as_jpeg() {
        assert_eq!(
            dimensions(&normalise(&png_of(1200, 1600)).unwrap()),
            (240, 320)
        );
        assert_eq!(
            dimensions(&normalise(&jpeg_of(800, 400)).unwrap()),
            (320, 160)
        );
        // A small photo keeps its size.
        assert_eq!(dimensions(&normalise(&png_of(100, 80)).unwrap()), (100, 80));
    }

    #[test]
    fn what_the_camera_wrote_beside_the_picture_is_dropped() {
        let upload = jpeg_with_exif();
        assert!(
            image::load_from_memory(&upload).is_ok(),
            "the test file decodes"
        );
        let stored = normalise(&upload).unwrap();
        let has = |bytes: &[u8], needle: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
        assert!(has(&upload, b"GPS 31.2304N"));
        assert!(!has(&stored, b"GPS 31.2304N"));
        assert!(!has(&stored, b"Exif\0\0"));
    }

    #[test]
    fn anything_but_a_jpeg_or_png_photo_is_refused() {
        assert_eq!(normalise(b""), Err(PhotoProblem::Empty));
        assert_eq!(
            normalise(b"<svg xmlns='http://www.w3.org/2000/svg'/>"),
            Err(PhotoProblem::NotAnImage)
        );
        assert_eq!(
            normalise(b"GIF89a\x01\x00\x01\x00"),
            Err(PhotoProblem::NotAnImage)
        );
        // A PNG signature with nothing after it.
        assert_eq!(
            normalise(b"\x89PNG\r\n\x1a\n"),
            Err(PhotoProblem::NotAnImage)
        );
        assert_eq!(
            normalise(&vec![0xFF; MAX_UPLOAD_BYTES + 1]),
            Err(PhotoProblem::TooLarge)
        );
        // A picture wider than the limit is refused before it is decoded.
        assert_eq!(
            normalise(&png_of(MAX_SOURCE_SIDE + 1, 1)),
            Err(PhotoProblem::TooManyPixels)
        );
    }
}
