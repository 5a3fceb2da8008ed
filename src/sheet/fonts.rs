//! Embedded fonts (Liberation, SIL OFL 1.1 — see `fonts/LICENSE.txt`), parsed with `skrifa`,
//! and text measurement.
//!
//! Liberation Sans and Mono are metric-compatible with Helvetica and Courier, so widths
//! measured here are exact for the PDF back-end's standard fonts as well as for PNG output.

use std::sync::OnceLock;

use skrifa::charmap::Charmap;
use skrifa::instance::{LocationRef, Size};
use skrifa::metrics::GlyphMetrics;
use skrifa::outline::OutlineGlyphCollection;
use skrifa::{FontRef, GlyphId, MetadataProvider as _, OutlineGlyph};

/// The four faces a sheet uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Face {
    /// Helvetica / Liberation Sans.
    Sans,
    /// Helvetica-Bold / Liberation Sans Bold.
    SansBold,
    /// Courier / Liberation Mono.
    Mono,
    /// Courier-Bold / Liberation Mono Bold.
    MonoBold,
}

static SANS: &[u8] = include_bytes!("fonts/LiberationSans-Regular.ttf");
static SANS_BOLD: &[u8] = include_bytes!("fonts/LiberationSans-Bold.ttf");
static MONO: &[u8] = include_bytes!("fonts/LiberationMono-Regular.ttf");
static MONO_BOLD: &[u8] = include_bytes!("fonts/LiberationMono-Bold.ttf");

/// One parsed font file (through `skrifa`): character map, advance widths and outlines,
/// parsed once and kept for the life of the process.
pub struct Font {
    charmap: Charmap<'static>,
    /// Unscaled: advances in font units.
    advances: GlyphMetrics<'static>,
    outlines: OutlineGlyphCollection<'static>,
    units_per_em: f32,
}

impl Font {
    fn parse(data: &'static [u8]) -> Self {
        let font = FontRef::new(data).expect("embedded font parses");
        let upem = font
            .metrics(Size::unscaled(), LocationRef::default())
            .units_per_em;
        Font {
            charmap: font.charmap(),
            advances: font.glyph_metrics(Size::unscaled(), LocationRef::default()),
            outlines: font.outline_glyphs(),
            units_per_em: if upem == 0 { 2048.0 } else { f32::from(upem) },
        }
    }

    /// Font design units per em.
    pub fn units_per_em(&self) -> f32 {
        self.units_per_em
    }

    /// The glyph for `c`; `.notdef` (glyph 0) if the font has none.
    pub fn glyph_id(&self, c: char) -> GlyphId {
        self.charmap.map(c).unwrap_or(GlyphId::NOTDEF)
    }

    /// Advance width of `glyph` in font units.
    pub fn advance_unscaled(&self, glyph: GlyphId) -> f32 {
        self.advances.advance_width(glyph).unwrap_or(0.0)
    }

    /// The scalable outline of `glyph`, if it has one.
    pub fn outline(&self, glyph: GlyphId) -> Option<OutlineGlyph<'static>> {
        self.outlines.get(glyph)
    }
}

/// The parsed font file of `face`.
pub fn font(face: Face) -> &'static Font {
    static FONTS: OnceLock<[Font; 4]> = OnceLock::new();
    let fonts = FONTS.get_or_init(|| [SANS, SANS_BOLD, MONO, MONO_BOLD].map(Font::parse));
    &fonts[face as usize]
}

/// Whether every face maps `c` to a glyph of its own (not `.notdef`), read from the font
/// files' character maps.
pub fn every_face_has(c: char) -> bool {
    [Face::Sans, Face::SansBold, Face::Mono, Face::MonoBold]
        .into_iter()
        .all(|face| {
            font(face)
                .charmap
                .map(c)
                .is_some_and(|g| g != GlyphId::NOTDEF)
        })
}

/// Advance width of `text` at `size` points, in points (no kerning, as PDF `Tj` draws it).
pub fn text_width(face: Face, size: f32, text: &str) -> f32 {
    let f = font(face);
    let units: f32 = text
        .chars()
        .map(|c| f.advance_unscaled(f.glyph_id(c)))
        .sum();
    units / f.units_per_em() * size
}

/// Greedy word wrap of `text` into lines no wider than `max_width` points. A single word
/// longer than the line is broken between characters.
pub fn wrap(face: Face, size: f32, text: &str, max_width: f32) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let candidate = if line.is_empty() {
            word.to_string()
        } else {
            format!("{line} {word}")
        };
        if text_width(face, size, &candidate) <= max_width {
            line = candidate;
            continue;
        }
        if !line.is_empty() {
            lines.push(std::mem::take(&mut line));
        }
        for c in word.chars() {
            line.push(c);
            if text_width(face, size, &line) > max_width && line.chars().count() > 1 {
                line.pop();
                lines.push(std::mem::take(&mut line));
                line.push(c);
            }
        }
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}
