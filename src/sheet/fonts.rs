//! Embedded fonts (Liberation, SIL OFL 1.1 — see `fonts/LICENSE.txt`) and text measurement.
//!
//! Liberation Sans and Mono are metric-compatible with Helvetica and Courier, so widths
//! measured here are exact for the PDF back-end's standard fonts as well as for PNG output.

use std::sync::OnceLock;

use ab_glyph::{Font as _, FontRef};

/// The three faces a sheet uses.
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

/// The parsed font file of `face`.
pub fn font(face: Face) -> &'static FontRef<'static> {
    static FONTS: OnceLock<[FontRef<'static>; 4]> = OnceLock::new();
    let fonts = FONTS.get_or_init(|| {
        [SANS, SANS_BOLD, MONO, MONO_BOLD]
            .map(|b| FontRef::try_from_slice(b).expect("embedded font parses"))
    });
    &fonts[face as usize]
}

/// Advance width of `text` at `size` points, in points (no kerning, as PDF `Tj` draws it).
pub fn text_width(face: Face, size: f32, text: &str) -> f32 {
    let f = font(face);
    let upem = f.units_per_em().unwrap_or(2048.0);
    let units: f32 = text
        .chars()
        .map(|c| f.h_advance_unscaled(f.glyph_id(c)))
        .sum();
    units / upem * size
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
