//! The credential as a badge image to keep and share: a PNG of the badge
//! the public page shows (ring, core, tick), "baked" as Open Badges 3.0
//! describes (§ Baking, PNG): one uncompressed `iTXt` chunk with the
//! keyword `openbadgecredential` whose text is the signed credential (the
//! compact JWS of a JWT-secured credential). A wallet, a badge platform or
//! the 1EdTech validator reads the credential out of the image and verifies
//! it; to a person it is a picture.

use tiny_skia::{
    Color, FillRule, LineCap, LineJoin, Paint, PathBuilder, Pixmap, Stroke, Transform,
};

/// The keyword Open Badges 3.0 gives the baked credential.
pub const KEYWORD: &str = "openbadgecredential";

/// Width and height of the image, in pixels (a badge platform shows it at
/// up to a few hundred; 512 stays sharp on a phone's screen).
pub const SIZE: u32 = 512;

#[derive(Debug, thiserror::Error)]
pub enum BadgeImageError {
    #[error("the badge image could not be drawn")]
    Draw,
    #[error("the badge image could not be encoded: {0}")]
    Encode(#[from] png::EncodingError),
}

/// The colour of the badge's core: the alliance's green for a live
/// credential, grey for one that is not (suspended, revoked, expired), as
/// on the public page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Live,
    NotLive,
}

/// The badge as a PNG with `credential` (a compact JWS) baked in.
pub fn baked_png(credential: &str, tone: Tone) -> Result<Vec<u8>, BadgeImageError> {
    let pixmap = draw(tone).ok_or(BadgeImageError::Draw)?;
    // PNG stores straight (not premultiplied) alpha.
    let rgba: Vec<u8> = pixmap
        .pixels()
        .iter()
        .flat_map(|p| {
            let c = p.demultiply();
            [c.red(), c.green(), c.blue(), c.alpha()]
        })
        .collect();
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut out, SIZE, SIZE);
        encoder.set_color(png::ColorType::Rgba);
        encoder.set_depth(png::BitDepth::Eight);
        // Uncompressed, no language tag: as the baking rules ask.
        encoder.add_itxt_chunk(KEYWORD.to_owned(), credential.to_owned())?;
        let mut writer = encoder.write_header()?;
        writer.write_image_data(&rgba)?;
        writer.finish()?;
    }
    Ok(out)
}

/// The badge of `templates/certification/verify.html` (a 120-unit square)
/// at [`SIZE`] pixels.
fn draw(tone: Tone) -> Option<Pixmap> {
    let mut pixmap = Pixmap::new(SIZE, SIZE)?;
    // SIZE is a small pixel count: exact in f32.
    let scale = f32::from(u16::try_from(SIZE).unwrap_or(u16::MAX)) / 120.0;
    let at = Transform::from_scale(scale, scale);
    // The page's colours (static/app.css: .badge-ring, .badge-core).
    let ring = Color::from_rgba8(0x1a, 0x36, 0x5d, 255);
    let core = match tone {
        Tone::Live => Color::from_rgba8(0x0b, 0x6e, 0x4f, 255),
        Tone::NotLive => Color::from_rgba8(0x71, 0x80, 0x96, 255),
    };
    let paint = |color: Color| {
        let mut p = Paint::default();
        p.set_color(color);
        p.anti_alias = true;
        p
    };
    let ring_path = PathBuilder::from_circle(60.0, 60.0, 56.0)?;
    pixmap.fill_path(&ring_path, &paint(ring), FillRule::Winding, at, None);
    let core_path = PathBuilder::from_circle(60.0, 60.0, 46.0)?;
    pixmap.fill_path(&core_path, &paint(core), FillRule::Winding, at, None);
    let mut tick = PathBuilder::new();
    tick.move_to(38.0, 62.0);
    tick.line_to(53.0, 77.0);
    tick.line_to(83.0, 43.0);
    let tick = tick.finish()?;
    let stroke = Stroke {
        width: 9.0,
        line_cap: LineCap::Round,
        line_join: LineJoin::Round,
        ..Stroke::default()
    };
    pixmap.stroke_path(&tick, &paint(Color::WHITE), &stroke, at, None);
    Some(pixmap)
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::indexing_slicing,
        clippy::as_conversions,
        reason = "tests index and cast the fixtures they build; a panic is a failed test"
    )]

    use super::*;

    /// The chunks of a PNG as the `png` crate's decoder reads them (an
    /// implementation other than the encoder's caller: it reads the file,
    /// not our intentions).
    fn read(bytes: &[u8]) -> (png::OutputInfo, Vec<png::text_metadata::ITXtChunk>, Vec<u8>) {
        let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
        let mut reader = decoder.read_info().expect("a PNG");
        let mut pixels = vec![0; reader.output_buffer_size().expect("a size")];
        let info = reader.next_frame(&mut pixels).expect("one frame");
        reader.finish().expect("the end of the file");
        let texts = reader.info().utf8_text.clone();
        (info, texts, pixels)
    }

    const JWS: &str = "eyJhbGciOiJFZERTQSJ9.eyJ2YyI6e319.c2lnbmF0dXJl";

    #[test]
    fn the_credential_is_baked_once_uncompressed_under_its_keyword() {
        let png = baked_png(JWS, Tone::Live).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        let (info, texts, _) = read(&png);
        assert_eq!((info.width, info.height), (SIZE, SIZE));
        let baked: Vec<_> = texts.iter().filter(|t| t.keyword == KEYWORD).collect();
        assert_eq!(baked.len(), 1, "exactly one openbadgecredential chunk");
        assert!(!baked[0].compressed);
        assert!(baked[0].language_tag.is_empty());
        assert_eq!(baked[0].get_text().unwrap(), JWS);
    }

    #[test]
    fn the_picture_is_the_badge_in_the_colour_of_its_status() {
        let pixel = |pixels: &[u8], x: u32, y: u32| {
            let i = ((y * SIZE + x) * 4) as usize;
            [pixels[i], pixels[i + 1], pixels[i + 2], pixels[i + 3]]
        };
        let (_, _, live) = read(&baked_png(JWS, Tone::Live).unwrap());
        let (_, _, not_live) = read(&baked_png(JWS, Tone::NotLive).unwrap());
        // A corner is transparent; the ring (a few units in from the edge
        // on the middle row) is navy; the core is green or grey; the tick
        // is white.
        assert_eq!(pixel(&live, 2, 2)[3], 0);
        assert_eq!(pixel(&live, 30, SIZE / 2), [0x1a, 0x36, 0x5d, 255]);
        assert_eq!(pixel(&live, SIZE / 2, SIZE / 5), [0x0b, 0x6e, 0x4f, 255]);
        assert_eq!(
            pixel(&not_live, SIZE / 2, SIZE / 5),
            [0x71, 0x80, 0x96, 255]
        );
        // On the tick's first stroke, from (38, 62) to (53, 77).
        // Pixels inside the badge: small and positive.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let (on_tick, on_tick_y) = (
            (45.5 * SIZE as f32 / 120.0) as u32,
            (69.5 * SIZE as f32 / 120.0) as u32,
        );
        assert_eq!(pixel(&live, on_tick, on_tick_y), [255, 255, 255, 255]);
    }
}
