//! The certificate as a one-page A4 PDF, for anyone to download from the
//! public page: the same facts the page shows, laid out as a certificate,
//! with a QR code of the live page so that a reader can check the status
//! now. A credential that is not live (suspended, revoked, expired) gets a
//! red banner and a large stamp across the page: never a clean-looking
//! certificate for a dead credential.
//!
//! Fonts: nothing is embedded. Chinese (and any other non-ASCII text) is set
//! in Adobe's predefined CJK font `STSong-Light` (a Type 0 font with the
//! `UniGB-UCS2-H` CMap over an `Adobe-GB1` CIDFont), which every PDF reader
//! substitutes with a Song face it has; ASCII is set in the standard
//! Helvetica. Each glyph's advance is declared in the PDF (`/Widths`, `/DW`),
//! so the measures used here for centring and wrapping are the ones readers
//! lay the text out with. A character outside the Basic Multilingual Plane
//! (which UCS-2 cannot carry) is shown as 〓, as Chinese typesetting marks a
//! missing glyph.

use pdf_writer::types::{CidFontType, FontFlags, LineCapStyle, LineJoinStyle, TextRenderingMode};
use pdf_writer::{Content, Filter, Name, Pdf, Rect, Ref, Str, TextStr};

/// A4 in points.
pub const PAGE_WIDTH: f32 = 595.0;
pub const PAGE_HEIGHT: f32 = 842.0;
/// The text column: from `MARGIN` to `PAGE_WIDTH - MARGIN`.
const MARGIN: f32 = 64.0;
const COLUMN: f32 = PAGE_WIDTH - 2.0 * MARGIN;

/// What the certificate says, in the reader's language (the caller
/// translates; this module only lays out and writes).
#[derive(Debug, Clone)]
pub struct Certificate {
    /// The document's language (`zh-CN`, `en`), for readers and screen readers.
    pub lang: String,
    /// The document's title (its metadata).
    pub document_title: String,
    /// The issuer, above the heading.
    pub issuer: String,
    /// The heading ("Alliance Doctor Certificate").
    pub heading: String,
    /// The words before the name ("This certifies that").
    pub preamble: String,
    pub holder: String,
    pub institution: Option<String>,
    /// The words before the achievement ("has been awarded").
    pub awarded: String,
    /// The achievement (the track's credential).
    pub achievement: String,
    /// The facts, label and value: number, issuer, validity, status.
    pub facts: Vec<(String, String)>,
    pub standing: Standing,
    pub criteria_heading: String,
    pub criteria: Vec<String>,
    /// The live public page; the QR code encodes it.
    pub verify_url: String,
    /// Under the QR code's caption ("Scan to check the status now").
    pub scan: String,
    /// When this file was made, and that the status may have changed since.
    pub produced: String,
}

/// Whether the credential is live, and if not what the page says about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Standing {
    Live,
    NotLive {
        /// A word or two, shown large ("REVOKED", "已撤销").
        stamp: String,
        /// What it means ("This certificate is not valid: …").
        explanation: String,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum CertificatePdfError {
    #[error("the verification address does not fit in a QR code: {0}")]
    Qr(#[from] qrcode::types::QrError),
    #[error("the certificate could not be compressed: {0}")]
    Compress(#[from] std::io::Error),
}

/// The certificate as the bytes of a PDF file.
pub fn render(c: &Certificate) -> Result<Vec<u8>, CertificatePdfError> {
    let layout = layout(c)?;
    let content = draw(&layout);
    let compressed = deflate(&content)?;

    let catalog = Ref::new(1);
    let pages = Ref::new(2);
    let page = Ref::new(3);
    let contents = Ref::new(4);
    let helvetica = Ref::new(5);
    let helvetica_bold = Ref::new(6);
    let song = Ref::new(7);
    let song_cid = Ref::new(8);
    let song_descriptor = Ref::new(9);
    let info = Ref::new(10);

    let mut pdf = Pdf::new();
    pdf.catalog(catalog).pages(pages).lang(TextStr(&c.lang));
    pdf.pages(pages).kids([page]).count(1);
    {
        let mut p = pdf.page(page);
        p.parent(pages)
            .media_box(Rect::new(0.0, 0.0, PAGE_WIDTH, PAGE_HEIGHT))
            .contents(contents);
        let mut resources = p.resources();
        let mut fonts = resources.fonts();
        fonts.pair(Name(LATIN), helvetica);
        fonts.pair(Name(LATIN_BOLD), helvetica_bold);
        fonts.pair(Name(CJK), song);
    }
    pdf.stream(contents, &compressed)
        .filter(Filter::FlateDecode);
    for (id, name, widths) in [
        (helvetica, "Helvetica", &HELVETICA),
        (helvetica_bold, "Helvetica-Bold", &HELVETICA_BOLD),
    ] {
        pdf.type1_font(id)
            .base_font(Name(name.as_bytes()))
            .encoding_predefined(Name(b"WinAnsiEncoding"))
            .first_char(FIRST_ASCII)
            .last_char(LAST_ASCII)
            .widths(widths.iter().map(|w| f32::from(*w)));
    }
    pdf.type0_font(song)
        .base_font(Name(b"STSong-Light"))
        .encoding_predefined(Name(b"UniGB-UCS2-H"))
        .descendant_font(song_cid);
    pdf.cid_font(song_cid)
        .subtype(CidFontType::Type0)
        .base_font(Name(b"STSong-Light"))
        .system_info(pdf_writer::types::SystemInfo {
            registry: Str(b"Adobe"),
            ordering: Str(b"GB1"),
            supplement: 2,
        })
        .font_descriptor(song_descriptor)
        .default_width(CJK_ADVANCE);
    // As Adobe describes STSong-Light (and iText's itext-asian writes it).
    pdf.font_descriptor(song_descriptor)
        .name(Name(b"STSong-Light"))
        .flags(FontFlags::SERIF | FontFlags::SYMBOLIC)
        .bbox(Rect::new(-25.0, -254.0, 1000.0, 880.0))
        .italic_angle(0.0)
        .ascent(880.0)
        .descent(-120.0)
        .cap_height(880.0)
        .stem_v(93.0);
    pdf.document_info(info)
        .title(TextStr(&c.document_title))
        .producer(TextStr("Gatekeeper"));
    Ok(pdf.finish())
}

fn deflate(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    use std::io::Write;
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(bytes)?;
    z.finish()
}

// ----- fonts and measures -----

const LATIN: &[u8] = b"F1";
const LATIN_BOLD: &[u8] = b"F2";
const CJK: &[u8] = b"F3";
const FIRST_ASCII: u8 = 32;
const LAST_ASCII: u8 = 126;
/// Every CJK glyph (and any other non-ASCII one) advances a full em.
const CJK_ADVANCE: f32 = 1000.0;

/// Helvetica's advances (its AFM) for ASCII 32..=126, in thousandths of an em.
const HELVETICA: [u16; 95] = [
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278,
    278, // space../
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556, // 0..?
    1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778, // @..O
    667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556, // P.._
    333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556, // `..o
    556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584, // p..~
];
/// Helvetica-Bold's advances for ASCII 32..=126.
const HELVETICA_BOLD: [u16; 95] = [
    278, 333, 474, 556, 556, 889, 722, 238, 333, 333, 389, 584, 278, 333, 278,
    278, // space../
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 333, 333, 584, 584, 584, 611, // 0..?
    975, 722, 722, 722, 722, 667, 611, 778, 722, 278, 556, 722, 611, 833, 722, 778, // @..O
    667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 333, 278, 333, 584, 556, // P.._
    333, 556, 611, 556, 611, 556, 333, 611, 611, 278, 278, 556, 278, 889, 611, 611, // `..o
    611, 611, 389, 556, 333, 611, 556, 778, 556, 556, 500, 389, 280, 389, 584, // p..~
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Weight {
    Regular,
    Bold,
}

fn is_latin(c: char) -> bool {
    (' '..='~').contains(&c)
}

/// The text as it is set: control characters become spaces, and a
/// character beyond UCS-2 becomes 〓.
fn clean(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            c if c.is_control() => ' ',
            c if u32::from(c) > 0xFFFF => '〓',
            // The middle dot of names like 阿依古丽·买买提: UniGB-UCS2-H
            // has it only as U+30FB (GB 2312's A1A4).
            '\u{b7}' | '\u{2022}' | '\u{2027}' | '\u{22c5}' => '\u{30fb}',
            c => c,
        })
        .collect()
}

fn advance(c: char, weight: Weight) -> f32 {
    if is_latin(c) {
        let table = match weight {
            Weight::Regular => &HELVETICA,
            Weight::Bold => &HELVETICA_BOLD,
        };
        // is_latin: c is ' '..='~', the table's 95 characters from FIRST_ASCII.
        u8::try_from(c)
            .ok()
            .and_then(|b| b.checked_sub(FIRST_ASCII))
            .and_then(|i| table.get(usize::from(i)))
            .map_or(CJK_ADVANCE, |w| f32::from(*w))
    } else {
        CJK_ADVANCE
    }
}

/// The width of `s` set at `size` points.
fn width(s: &str, size: f32, weight: Weight) -> f32 {
    s.chars().map(|c| advance(c, weight)).sum::<f32>() * size / 1000.0
}

/// Characters a line may not start with (Chinese closing punctuation).
fn no_break_before(c: char) -> bool {
    "，。、：；！？）》」』】”’,.;:!?)".contains(c)
}

/// Breaks `s` into lines no wider than `max`: at spaces, between CJK
/// characters (not before closing punctuation), and inside a word only
/// when the word alone is too wide (a long address).
fn wrap(s: &str, size: f32, weight: Weight, max: f32) -> Vec<String> {
    // Pieces that stay together: a run of non-space ASCII, one space, or
    // one non-ASCII character with the punctuation that must follow it.
    let mut pieces: Vec<String> = Vec::new();
    for c in s.chars() {
        let joins = match pieces.last() {
            None => false,
            Some(last) => {
                let prev = last.chars().last().unwrap_or(' ');
                no_break_before(c) || (is_latin(c) && c != ' ' && is_latin(prev) && prev != ' ')
            }
        };
        match pieces.last_mut() {
            Some(last) if joins => last.push(c),
            _ => pieces.push(c.to_string()),
        }
    }
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for piece in pieces {
        if width(&format!("{line}{piece}"), size, weight) <= max {
            line.push_str(&piece);
            continue;
        }
        if !line.trim().is_empty() {
            lines.push(line.trim_end().to_owned());
        }
        line = String::new();
        if piece == " " {
            continue;
        }
        for c in piece.chars() {
            if !line.is_empty() && width(&format!("{line}{c}"), size, weight) > max {
                lines.push(std::mem::take(&mut line));
            }
            line.push(c);
        }
    }
    if !line.trim().is_empty() {
        lines.push(line.trim_end().to_owned());
    }
    lines
}

/// At most `most` lines of `s`, the last one ending in … when text was cut.
fn wrap_at_most(s: &str, size: f32, weight: Weight, max: f32, most: usize) -> Vec<String> {
    let mut lines = wrap(s, size, weight, max);
    if lines.len() > most {
        lines.truncate(most);
        if let Some(last) = lines.last_mut() {
            while !last.is_empty() && width(&format!("{last}…"), size, weight) > max {
                last.pop();
            }
            last.push('…');
        }
    }
    lines
}

// ----- layout -----

#[derive(Debug, Clone, Copy, PartialEq)]
struct Rgb(f32, f32, f32);

// #1a365d
const NAVY: Rgb = Rgb(26.0 / 255.0, 54.0 / 255.0, 93.0 / 255.0);
// #0b6e4f
const GREEN: Rgb = Rgb(11.0 / 255.0, 110.0 / 255.0, 79.0 / 255.0);
// #718096
const GREY: Rgb = Rgb(113.0 / 255.0, 128.0 / 255.0, 150.0 / 255.0);
const INK: Rgb = Rgb(0.1, 0.1, 0.12);
// #b91c1c
const RED: Rgb = Rgb(185.0 / 255.0, 28.0 / 255.0, 28.0 / 255.0);
const PALE_RED: Rgb = Rgb(0.98, 0.86, 0.86);
const WHITE: Rgb = Rgb(1.0, 1.0, 1.0);

/// One line of text, at its baseline's left end.
#[derive(Debug, Clone, PartialEq)]
struct Line {
    text: String,
    x: f32,
    baseline: f32,
    size: f32,
    weight: Weight,
    color: Rgb,
}

impl Line {
    fn width(&self) -> f32 {
        width(&self.text, self.size, self.weight)
    }
    /// The box the glyphs may take (ascent and descent of both faces).
    #[cfg(test)]
    fn bounds(&self) -> Rect {
        Rect::new(
            self.x,
            self.baseline - 0.22 * self.size,
            self.x + self.width(),
            self.baseline + 0.88 * self.size,
        )
    }
}

/// Everything on the page, positioned (PDF coordinates: points from the
/// bottom left).
#[derive(Debug, Clone)]
struct Layout {
    lines: Vec<Line>,
    /// The badge's centre and radius; green when live.
    badge: (f32, f32, f32),
    live: bool,
    /// The red banner of a credential that is not live.
    banner: Option<Rect>,
    /// The stamp across the page (drawn first, under everything).
    stamp: Option<Line>,
    /// The QR code: its dark modules as rectangles.
    qr: Vec<Rect>,
    qr_box: Rect,
    /// The lowest point of the text above the QR code.
    flow_bottom: f32,
}

struct Cursor {
    lines: Vec<Line>,
    /// The baseline of the next line.
    y: f32,
}

impl Cursor {
    fn centred(&mut self, text: &str, size: f32, weight: Weight, color: Rgb) {
        let text = text.to_owned();
        let x = (PAGE_WIDTH - width(&text, size, weight)) / 2.0;
        self.lines.push(Line {
            text,
            x,
            baseline: self.y,
            size,
            weight,
            color,
        });
    }
    /// Wrapped, centred lines `leading` apart; the cursor ends on the last.
    fn centred_block(&mut self, lines: &[String], size: f32, weight: Weight, color: Rgb) {
        for (i, l) in lines.iter().enumerate() {
            if i > 0 {
                self.y -= size * 1.3;
            }
            self.centred(l, size, weight, color);
        }
    }
    fn at(&mut self, x: f32, text: &str, size: f32, weight: Weight, color: Rgb) {
        self.lines.push(Line {
            text: text.to_owned(),
            x,
            baseline: self.y,
            size,
            weight,
            color,
        });
    }
}

/// The QR code's side, quiet zone included, and where it sits.
const QR_SIDE: f32 = 118.0;
const QR_BOTTOM: f32 = 58.0;

/// The layout with the usual space between blocks, or less when long
/// texts need it to keep clear of the QR code.
fn layout(c: &Certificate) -> Result<Layout, CertificatePdfError> {
    let mut tight = None;
    for squeeze in [1.0, 0.7, 0.4, 0.0] {
        let l = layout_at(c, squeeze)?;
        if l.flow_bottom >= QR_BOTTOM + QR_SIDE + 6.0 {
            return Ok(l);
        }
        tight = Some(l);
    }
    // Unreachable with the caps on every text's lines (a test lays out the
    // longest); the tightest layout if not.
    tight.map_or_else(|| layout_at(c, 0.0), Ok)
}

fn layout_at(c: &Certificate, squeeze: f32) -> Result<Layout, CertificatePdfError> {
    let mut k = Cursor {
        lines: Vec::new(),
        y: 778.0,
    };
    let badge = lay_heading(&mut k, c, squeeze);
    let (banner, stamp) = lay_not_live(&mut k, c, squeeze);
    lay_facts(&mut k, c, squeeze);

    // The lowest glyph of the text above the QR code.
    let flow_bottom = k.y - 0.22 * 10.0;

    // The QR code of the live page, bottom left, with its caption beside it.
    let qr = qr_modules(&c.verify_url)?;
    let qr_box = Rect::new(MARGIN, QR_BOTTOM, MARGIN + QR_SIDE, QR_BOTTOM + QR_SIDE);
    lay_qr_caption(&mut k, c);

    Ok(Layout {
        lines: k.lines,
        badge,
        live: c.standing == Standing::Live,
        banner,
        stamp,
        qr,
        qr_box,
        flow_bottom,
    })
}

/// The issuer, heading, badge, holder, institution and achievement, from
/// the top of the page; the badge's centre and radius.
fn lay_heading(k: &mut Cursor, c: &Certificate, squeeze: f32) -> (f32, f32, f32) {
    let issuer = clean(&c.issuer);
    for l in wrap_at_most(&issuer, 11.0, Weight::Regular, COLUMN, 2) {
        k.centred(&l, 11.0, Weight::Regular, GREY);
        k.y -= 14.0;
    }
    k.y -= 18.0 * squeeze;
    let heading = wrap_at_most(&clean(&c.heading), 24.0, Weight::Bold, COLUMN, 2);
    k.centred_block(&heading, 24.0, Weight::Bold, NAVY);

    // The badge.
    let radius = 36.0;
    let badge_y = k.y - (6.0 + 18.0 * squeeze) - radius;
    let badge = (PAGE_WIDTH / 2.0, badge_y, radius);
    k.y = badge_y - radius - (12.0 + 18.0 * squeeze);

    k.centred(&clean(&c.preamble), 12.0, Weight::Regular, INK);
    // The name: as large as fits on one line, else wrapped at the smallest.
    let holder = clean(&c.holder);
    let mut size = 30.0;
    while size > 16.0 && width(&holder, size, Weight::Bold) > COLUMN {
        size -= 1.0;
    }
    k.y -= 4.0 + 10.0 * squeeze + size;
    let name = wrap_at_most(&holder, size, Weight::Bold, COLUMN, 2);
    k.centred_block(&name, size, Weight::Bold, INK);
    if let Some(i) = &c.institution {
        k.y -= 12.0 + 10.0 * squeeze;
        let lines = wrap_at_most(&clean(i), 12.0, Weight::Regular, COLUMN, 1);
        k.centred_block(&lines, 12.0, Weight::Regular, GREY);
    }
    k.y -= 12.0 + 16.0 * squeeze;
    k.centred(&clean(&c.awarded), 12.0, Weight::Regular, INK);
    k.y -= 17.0 + 7.0 * squeeze;
    let achievement = wrap_at_most(&clean(&c.achievement), 17.0, Weight::Bold, COLUMN, 2);
    k.centred_block(&achievement, 17.0, Weight::Bold, NAVY);
    badge
}

/// Not live: a red banner with the stamp and what it means, and the stamp
/// across the page.
fn lay_not_live(k: &mut Cursor, c: &Certificate, squeeze: f32) -> (Option<Rect>, Option<Line>) {
    let Standing::NotLive {
        stamp: word,
        explanation,
    } = &c.standing
    else {
        return (None, None);
    };
    let word = clean(word);
    let top = k.y - (6.0 + 12.0 * squeeze);
    k.y = top - 10.0 - 18.0;
    k.centred(&word, 18.0, Weight::Bold, WHITE);
    let words = wrap_at_most(&clean(explanation), 10.5, Weight::Regular, COLUMN - 24.0, 3);
    for l in &words {
        k.y -= 15.0;
        k.centred(l, 10.5, Weight::Regular, WHITE);
    }
    let bottom = k.y - 10.0;
    let banner = Rect::new(MARGIN, bottom, PAGE_WIDTH - MARGIN, top);
    k.y = bottom;
    // The stamp across the page, from lower left to upper right, as
    // large as fits the diagonal.
    let diagonal = (PAGE_WIDTH * PAGE_WIDTH + PAGE_HEIGHT * PAGE_HEIGHT).sqrt();
    let size = (0.6 * diagonal * 1000.0 / width(&word, 1000.0, Weight::Bold)).min(130.0);
    let stamp = Line {
        x: 0.0,
        baseline: 0.0,
        text: word,
        size,
        weight: Weight::Bold,
        color: PALE_RED,
    };
    (Some(banner), Some(stamp))
}

/// The facts, as label and value, and the criteria, numbered.
fn lay_facts(k: &mut Cursor, c: &Certificate, squeeze: f32) {
    // The facts, as label and value.
    k.y -= 12.0 + 18.0 * squeeze;
    let label_x = MARGIN + 16.0;
    let value_x = MARGIN + 150.0;
    let value_width = PAGE_WIDTH - MARGIN - value_x;
    for (label, value) in &c.facts {
        k.at(label_x, &clean(label), 10.0, Weight::Regular, GREY);
        let lines = wrap_at_most(&clean(value), 11.0, Weight::Regular, value_width, 2);
        for (i, l) in lines.iter().enumerate() {
            if i > 0 {
                k.y -= 14.0;
            }
            k.at(value_x, l, 11.0, Weight::Regular, INK);
        }
        k.y -= 19.0;
    }

    // The criteria, numbered.
    k.y -= 8.0 * squeeze;
    k.at(
        label_x,
        &clean(&c.criteria_heading),
        12.0,
        Weight::Bold,
        NAVY,
    );
    let item_x = label_x + 16.0;
    for (i, criterion) in c.criteria.iter().enumerate() {
        k.y -= 17.0;
        k.at(label_x, &format!("{}.", i + 1), 10.0, Weight::Regular, INK);
        let lines = wrap_at_most(
            &clean(criterion),
            10.0,
            Weight::Regular,
            PAGE_WIDTH - MARGIN - item_x,
            2,
        );
        for (j, l) in lines.iter().enumerate() {
            if j > 0 {
                k.y -= 13.0;
            }
            k.at(item_x, l, 10.0, Weight::Regular, INK);
        }
    }
}

/// The QR code of `url`: its dark modules as rectangles, runs of a row
/// joined, in the box at the bottom left.
fn qr_modules(url: &str) -> Result<Vec<Rect>, CertificatePdfError> {
    let code = qrcode::QrCode::with_error_correction_level(url.as_bytes(), qrcode::EcLevel::M)?;
    let modules = code.width();
    let quiet = 4;
    let unit = QR_SIDE / modules_f32(modules + 2 * quiet);
    let colors = code.to_colors();
    let mut qr = Vec::new();
    for (row, line) in colors.chunks(modules.max(1)).enumerate() {
        let mut col = 0;
        while col < line.len() {
            if line.get(col) != Some(&qrcode::Color::Dark) {
                col += 1;
                continue;
            }
            let start = col;
            while line.get(col) == Some(&qrcode::Color::Dark) {
                col += 1;
            }
            let x = MARGIN + modules_f32(quiet + start) * unit;
            let top = QR_BOTTOM + QR_SIDE - modules_f32(quiet + row) * unit;
            qr.push(Rect::new(
                x,
                top - unit,
                x + modules_f32(col - start) * unit,
                top,
            ));
        }
    }
    Ok(qr)
}

/// A count of QR modules as `f32`: a QR code is at most 177 modules wide
/// (plus the quiet zone), exact in `f32`.
fn modules_f32(n: usize) -> f32 {
    f32::from(u16::try_from(n).unwrap_or(u16::MAX))
}

/// The caption beside the QR code: scan me, the address, how it was produced.
fn lay_qr_caption(k: &mut Cursor, c: &Certificate) {
    let text_x = MARGIN + QR_SIDE + 14.0;
    let text_width = PAGE_WIDTH - MARGIN - text_x;
    k.y = QR_BOTTOM + QR_SIDE - 24.0;
    for l in wrap_at_most(&clean(&c.scan), 11.0, Weight::Bold, text_width, 2) {
        k.at(text_x, &l, 11.0, Weight::Bold, NAVY);
        k.y -= 14.0;
    }
    for l in wrap_at_most(&clean(&c.verify_url), 9.0, Weight::Regular, text_width, 2) {
        k.at(text_x, &l, 9.0, Weight::Regular, INK);
        k.y -= 12.0;
    }
    k.y -= 4.0;
    for l in wrap_at_most(&clean(&c.produced), 8.5, Weight::Regular, text_width, 4) {
        k.at(text_x, &l, 8.5, Weight::Regular, GREY);
        k.y -= 11.0;
    }
}

// ----- drawing -----

fn fill(content: &mut Content, c: Rgb) {
    content.set_fill_rgb(c.0, c.1, c.2);
}

fn stroke(content: &mut Content, c: Rgb) {
    content.set_stroke_rgb(c.0, c.1, c.2);
}

/// A circle as four Bézier arcs.
fn circle(content: &mut Content, cx: f32, cy: f32, r: f32) {
    let k = 0.552_284_8 * r;
    content.move_to(cx + r, cy);
    content.cubic_to(cx + r, cy + k, cx + k, cy + r, cx, cy + r);
    content.cubic_to(cx - k, cy + r, cx - r, cy + k, cx - r, cy);
    content.cubic_to(cx - r, cy - k, cx - k, cy - r, cx, cy - r);
    content.cubic_to(cx + k, cy - r, cx + r, cy - k, cx + r, cy);
    content.close_path();
}

/// The runs of a line, each in one font: ASCII in Helvetica (WinAnsi
/// bytes), the rest in STSong-Light (UCS-2, big-endian).
fn runs(text: &str) -> Vec<(bool, Vec<u8>)> {
    let mut out: Vec<(bool, Vec<u8>)> = Vec::new();
    for c in text.chars() {
        let latin = is_latin(c);
        let bytes: Vec<u8> = if latin {
            // is_latin: ASCII, one byte.
            vec![u8::try_from(c).unwrap_or(b'?')]
        } else {
            let unit = u16::try_from(u32::from(c)).unwrap_or(0x3013);
            unit.to_be_bytes().to_vec()
        };
        match out.last_mut() {
            Some((l, run)) if *l == latin => run.extend(bytes),
            _ => out.push((latin, bytes)),
        }
    }
    out
}

/// One line of text, with a transform (`[a b c d e f]`) for its origin.
fn text(content: &mut Content, line: &Line, matrix: [f32; 6]) {
    fill(content, line.color);
    stroke(content, line.color);
    // Song has no bold face: a bold CJK run is filled and stroked.
    content.set_line_width(line.size * 0.03);
    content.begin_text();
    content.set_text_matrix(matrix);
    for (latin, bytes) in runs(&line.text) {
        if latin {
            let font = match line.weight {
                Weight::Regular => LATIN,
                Weight::Bold => LATIN_BOLD,
            };
            content.set_font(Name(font), line.size);
            content.set_text_rendering_mode(TextRenderingMode::Fill);
        } else {
            content.set_font(Name(CJK), line.size);
            content.set_text_rendering_mode(match line.weight {
                Weight::Regular => TextRenderingMode::Fill,
                Weight::Bold => TextRenderingMode::FillStroke,
            });
        }
        content.show(Str(&bytes));
    }
    content.end_text();
}

fn draw(l: &Layout) -> Vec<u8> {
    let mut content = Content::new();
    // The stamp under everything, along the page's diagonal.
    if let Some(s) = &l.stamp {
        let angle = PAGE_HEIGHT.atan2(PAGE_WIDTH);
        let (sin, cos) = angle.sin_cos();
        let w = s.width();
        // Centre the stamp's middle (half its width along, a third of its
        // size up) on the page's centre.
        let along = w / 2.0;
        let up = s.size * 0.33;
        let x = PAGE_WIDTH / 2.0 - along * cos + up * sin;
        let y = PAGE_HEIGHT / 2.0 - along * sin - up * cos;
        text(&mut content, s, [cos, sin, -sin, cos, x, y]);
    }
    // The frame.
    stroke(&mut content, NAVY);
    content.set_line_width(2.5);
    content.rect(22.0, 22.0, PAGE_WIDTH - 44.0, PAGE_HEIGHT - 44.0);
    content.stroke();
    content.set_line_width(0.75);
    content.rect(28.0, 28.0, PAGE_WIDTH - 56.0, PAGE_HEIGHT - 56.0);
    content.stroke();
    // The badge of the public page (ring, core, tick), at its 120-unit scale.
    let (cx, cy, r) = l.badge;
    let unit = r / 56.0;
    fill(&mut content, NAVY);
    circle(&mut content, cx, cy, r);
    content.fill_nonzero();
    fill(&mut content, if l.live { GREEN } else { GREY });
    circle(&mut content, cx, cy, 46.0 * unit);
    content.fill_nonzero();
    stroke(&mut content, WHITE);
    content.set_line_width(9.0 * unit);
    content.set_line_cap(LineCapStyle::RoundCap);
    content.set_line_join(LineJoinStyle::RoundJoin);
    let at = |x: f32, y: f32| (cx + (x - 60.0) * unit, cy - (y - 60.0) * unit);
    let (x, y) = at(38.0, 62.0);
    content.move_to(x, y);
    let (x, y) = at(53.0, 77.0);
    content.line_to(x, y);
    let (x, y) = at(83.0, 43.0);
    content.line_to(x, y);
    content.stroke();
    content.set_line_cap(LineCapStyle::ButtCap);
    content.set_line_join(LineJoinStyle::MiterJoin);
    // The banner.
    if let Some(b) = l.banner {
        fill(&mut content, RED);
        content.rect(b.x1, b.y1, b.x2 - b.x1, b.y2 - b.y1);
        content.fill_nonzero();
    }
    // The QR code, on white (the stamp may pass under it).
    let q = l.qr_box;
    fill(&mut content, WHITE);
    content.rect(q.x1, q.y1, q.x2 - q.x1, q.y2 - q.y1);
    content.fill_nonzero();
    fill(&mut content, Rgb(0.0, 0.0, 0.0));
    for m in &l.qr {
        content.rect(m.x1, m.y1, m.x2 - m.x1, m.y2 - m.y1);
    }
    content.fill_nonzero();
    for line in &l.lines {
        text(
            &mut content,
            line,
            [1.0, 0.0, 0.0, 1.0, line.x, line.baseline],
        );
    }
    content.finish().to_vec()
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::indexing_slicing,
        clippy::as_conversions,
        reason = "tests index and cast the fixtures they build; a panic is a failed test"
    )]

    use super::*;

    fn certificate(standing: Standing) -> Certificate {
        Certificate {
            lang: "zh-CN".into(),
            document_title: "证书 PAED-2026-000001-7".into(),
            issuer: "医院联盟质量控制委员会".into(),
            heading: "联盟医生资格证书".into(),
            preamble: "兹证明".into(),
            holder: "李晓梅".into(),
            institution: Some("龙溪社区卫生服务中心".into()),
            awarded: "已获得".into(),
            achievement: "联盟认证医生 · 儿科联盟守门人医生".into(),
            facts: vec![
                ("证书编号".into(), "PAED-2026-000001-7".into()),
                ("颁发机构".into(), "医院联盟质量控制委员会".into()),
                ("有效期自".into(), "2026-01-05".into()),
                ("有效期至".into(), "2029-01-05".into()),
                ("状态（2026-05-03）".into(), "有效".into()),
            ],
            standing,
            criteria_heading: "获得条件".into(),
            criteria: vec![
                "完成该方向的线上课程、测验和工作坊".into(),
                "通过笔试".into(),
                "通过双盲评分的病例分析考核和实践考站".into(),
                "经联盟委员会达到法定人数的投票批准".into(),
            ],
            verify_url: "https://gatekeeper.example.cn/verify/PAED-2026-000001-7".into(),
            scan: "扫码核验实时状态".into(),
            produced: "本文件生成于 2026-05-03 10:00（Asia/Shanghai）。".into(),
        }
    }

    fn revoked() -> Standing {
        Standing::NotLive {
            stamp: "已撤销".into(),
            explanation: "本证书当前无效：已被委员会撤销，不再有效，且为最终决定。".into(),
        }
    }

    fn overlaps(a: Rect, b: Rect) -> bool {
        a.x1 < b.x2 && b.x1 < a.x2 && a.y1 < b.y2 && b.y1 < a.y2
    }

    /// Nothing overlaps, everything is inside the frame, the text clears
    /// the badge, the banner and the QR code.
    fn assert_clean(l: &Layout) {
        let inside = Rect::new(34.0, 34.0, PAGE_WIDTH - 34.0, PAGE_HEIGHT - 34.0);
        let (cx, cy, r) = l.badge;
        let badge = Rect::new(cx - r, cy - r, cx + r, cy + r);
        for (i, a) in l.lines.iter().enumerate() {
            let b = a.bounds();
            assert!(
                b.x1 >= inside.x1 && b.x2 <= inside.x2 && b.y1 >= inside.y1 && b.y2 <= inside.y2,
                "{a:?} leaves the page"
            );
            assert!(!overlaps(b, badge), "{a:?} is on the badge");
            assert!(!overlaps(b, l.qr_box), "{a:?} is on the QR code");
            for other in &l.lines[i + 1..] {
                assert!(!overlaps(b, other.bounds()), "{a:?} overlaps {other:?}");
            }
            if let Some(banner) = l.banner {
                let within = b.y1 >= banner.y1 && b.y2 <= banner.y2;
                assert!(within || !overlaps(b, banner), "{a:?} straddles the banner");
            }
        }
        if let Some(banner) = l.banner {
            assert!(!overlaps(banner, badge) && !overlaps(banner, l.qr_box));
        }
    }

    #[test]
    fn the_name_is_centred_large_and_everything_has_its_place() {
        let l = layout(&certificate(Standing::Live)).unwrap();
        assert_clean(&l);
        let name = l.lines.iter().find(|x| x.text == "李晓梅").unwrap();
        assert_eq!(name.size, 30.0);
        let centre = name.x + name.width() / 2.0;
        assert!((centre - PAGE_WIDTH / 2.0).abs() < 0.01, "{centre}");
        assert!(l.live && l.banner.is_none() && l.stamp.is_none());
    }

    #[test]
    fn a_dead_credential_has_a_banner_and_a_stamp_and_a_grey_badge() {
        let l = layout(&certificate(revoked())).unwrap();
        assert_clean(&l);
        assert!(!l.live);
        let banner = l.banner.unwrap();
        let stamp_line = l.lines.iter().find(|x| x.text == "已撤销").unwrap();
        assert!(stamp_line.baseline > banner.y1 && stamp_line.baseline < banner.y2);
        assert_eq!(stamp_line.color, WHITE);
        let stamp = l.stamp.unwrap();
        assert_eq!(stamp.text, "已撤销");
        assert!(stamp.size >= 100.0, "large: {}", stamp.size);
    }

    #[test]
    fn long_texts_shrink_wrap_or_are_cut_but_never_overflow() {
        let mut c = certificate(revoked());
        c.holder = "Maria-Magdalena Alexandrovna Konstantinopolskaya-Wei".into();
        c.achievement = "儿科".repeat(60);
        c.institution = Some("Community Health Service Centre ".repeat(6));
        c.criteria = vec!["完成课程".repeat(40); 4];
        c.facts[1].1 = "Hospital Alliance Quality-Control Committee ".repeat(4);
        c.scan = "Scan to check the status now ".repeat(5);
        c.produced = "Produced on 2026-05-03 10:00 (Asia/Shanghai). ".repeat(8);
        let l = layout(&c).unwrap();
        assert_clean(&l);
        let name = l
            .lines
            .iter()
            .find(|x| x.text.starts_with("Maria"))
            .unwrap();
        assert!(name.size < 30.0 && name.width() <= COLUMN, "{name:?}");
        let achievement: Vec<_> = l.lines.iter().filter(|x| x.size == 17.0).collect();
        assert_eq!(achievement.len(), 2);
        assert!(achievement[1].text.ends_with('…'));
    }

    #[test]
    fn wrapping_breaks_at_spaces_between_ideographs_and_inside_overlong_words() {
        let lines = wrap(
            "alpha beta gamma",
            10.0,
            Weight::Regular,
            width("alpha beta", 10.0, Weight::Regular),
        );
        assert_eq!(lines, ["alpha beta", "gamma"]);
        // Ideographs break anywhere, but not before closing punctuation.
        let lines = wrap("通过笔试。通过", 10.0, Weight::Regular, 40.0);
        assert_eq!(lines, ["通过笔", "试。通过"]);
        let lines = wrap(
            "https://example.cn/verify/PAED",
            10.0,
            Weight::Regular,
            60.0,
        );
        assert!(lines.len() > 1);
        assert_eq!(lines.concat(), "https://example.cn/verify/PAED");
        for l in &lines {
            assert!(width(l, 10.0, Weight::Regular) <= 60.0);
        }
    }

    #[test]
    fn text_is_encoded_per_font_and_beyond_ucs2_is_marked() {
        assert_eq!(
            runs("李 Li"),
            vec![(false, vec![0x67, 0x4e]), (true, b" Li".to_vec())]
        );
        assert_eq!(clean("a\tb\u{20000}"), "a b〓");
        assert_eq!(clean("阿依古丽·买买提"), "阿依古丽\u{30fb}买买提");
        // Helvetica's advances: "Li" = 556 + 222.
        assert!((width("Li", 10.0, Weight::Regular) - 7.78).abs() < 1e-4);
        assert_eq!(width("李晓梅", 10.0, Weight::Bold), 30.0);
    }

    #[test]
    fn the_file_is_one_a4_page_with_the_predefined_chinese_font() {
        let pdf = render(&certificate(Standing::Live)).unwrap();
        assert!(pdf.starts_with(b"%PDF-"));
        let text = String::from_utf8_lossy(&pdf);
        assert_eq!(
            text.matches("/Type /Page").count() - text.matches("/Type /Pages").count(),
            1
        );
        assert!(text.contains("/MediaBox [0 0 595 842]"), "A4");
        assert!(text.contains("/BaseFont /STSong-Light"));
        assert!(text.contains("/Encoding /UniGB-UCS2-H"));
        assert!(text.contains("/Ordering (GB1)"));
        assert!(!text.contains("/FontFile"), "no font is embedded");
        // Different credentials make different QR codes.
        let mut other = certificate(Standing::Live);
        other.verify_url = "https://gatekeeper.example.cn/verify/PAED-2026-000002-5".into();
        assert_ne!(
            layout(&other).unwrap().qr,
            layout(&certificate(Standing::Live)).unwrap().qr
        );
    }
}
