//! Printed share sheets: one page per custodian with the share token as a QR code, the SLIP-39
//! words as a typed fallback, the vault fingerprint and short instructions.
//!
//! Every back-end (PDF, SVG, PNG) draws the same [`layout::Page`], computed once in points, so
//! the three outputs agree to the point. The terminal back-end only shows the QR code.

mod fonts;
pub mod layout;
mod pdf;
pub mod pdf_read;
mod png;
mod qr;
mod svg;
mod terminal;

use std::fmt;
use std::str::FromStr;

use zeroize::Zeroizing;

pub use qr::{QR_EC_LEVEL, QrMatrix};

/// Paper size of the printed sheet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Paper {
    /// ISO A4, 210 × 297 mm.
    A4,
    /// US Letter, 8.5 × 11 in.
    Letter,
}

impl Paper {
    /// Page size in PostScript points (1/72 in): (width, height).
    pub fn size_pt(self) -> (f32, f32) {
        match self {
            Paper::A4 => (595.276, 841.89),
            Paper::Letter => (612.0, 792.0),
        }
    }
}

impl FromStr for Paper {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "a4" => Ok(Paper::A4),
            "letter" | "us-letter" => Ok(Paper::Letter),
            other => Err(format!(
                "unknown paper size '{other}': use 'a4' or 'letter'"
            )),
        }
    }
}

impl fmt::Display for Paper {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Paper::A4 => "a4",
            Paper::Letter => "letter",
        })
    }
}

/// Output format of a sheet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Vector PDF with selectable text (standard Helvetica/Courier fonts).
    Pdf,
    /// Raster PNG at 300 dpi.
    Png,
    /// Vector SVG with the exact (Unicode) text.
    Svg,
    /// QR code drawn with Unicode half blocks, for showing on a screen.
    Terminal,
    /// Plain text (rendered by the CLI, not by this module).
    Txt,
}

impl FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "pdf" => Ok(Format::Pdf),
            "png" => Ok(Format::Png),
            "svg" => Ok(Format::Svg),
            "terminal" | "term" => Ok(Format::Terminal),
            "txt" | "text" => Ok(Format::Txt),
            other => Err(format!(
                "unknown sheet format '{other}': use pdf, png, svg, terminal or txt"
            )),
        }
    }
}

impl Format {
    /// Usual file extension (without the dot); `None` for the terminal.
    pub fn extension(self) -> Option<&'static str> {
        match self {
            Format::Pdf => Some("pdf"),
            Format::Png => Some("png"),
            Format::Svg => Some("svg"),
            Format::Txt => Some("txt"),
            Format::Terminal => None,
        }
    }
}

/// Everything printed on one custodian's sheet.
#[derive(Clone)]
pub struct SheetData {
    /// Heading, e.g. "custody share — Acme Fund treasury vault".
    pub title: String,
    /// Custodian's name.
    pub custodian: String,
    /// Name of the custodian's group.
    pub group: String,
    /// 1-based member number within the group.
    pub member_number: u8,
    /// Shares of this group needed to recover the group.
    pub member_threshold: u8,
    /// Shares issued in this group.
    pub member_count: u8,
    /// Groups needed to recover the master secret.
    pub group_threshold: u8,
    /// Groups in total.
    pub group_count: u8,
    /// The whole policy, one line each, e.g. "Ops: any 2 of 3 (alice, bob, carol)".
    pub policy_lines: Vec<String>,
    /// Vault fingerprint for reading aloud, e.g. "K7Q2-M9XD-4HTR-PA3C".
    pub fingerprint: String,
    /// Vault id (hex).
    pub vault_id: String,
    /// Key epoch of the share set.
    pub epoch: u32,
    /// Creation date, e.g. "2026-11-28".
    pub created: String,
    /// The QR payload (ASCII share token).
    pub token: Zeroizing<String>,
    /// The SLIP-39 words of the share.
    pub words: Zeroizing<Vec<String>>,
}

impl fmt::Debug for SheetData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SheetData")
            .field("custodian", &self.custodian)
            .field("group", &self.group)
            .field("member_number", &self.member_number)
            .field("fingerprint", &self.fingerprint)
            .field("token", &"<redacted>")
            .field("words", &"<redacted>")
            .finish_non_exhaustive()
    }
}

/// Whether both sheets custody draws itself show `c` as itself: the PDF (standard Helvetica and
/// Courier in WinAnsiEncoding: [`pdf::win_ansi`]) and the PNG (the embedded Liberation faces,
/// whose character maps must all have a glyph for it). This is the one rule for which names a
/// sheet can print; the embedded fonts cover Latin, Greek, Cyrillic and Hebrew, the PDF
/// encoding only ASCII, Latin-1 and 27 more characters (`€ ‚ ƒ „ … † ‡ ˆ ‰ Š ‹ Œ Ž ‘ ’ “ ” • – —
/// ˜ ™ š › œ ž Ÿ`), so the rule comes to WinAnsiEncoding.
pub fn can_draw(c: char) -> bool {
    pdf::win_ansi(c).is_some() && fonts::every_face_has(c)
}

/// The distinct characters of `text` that [`can_draw`] refuses, in order of appearance.
pub fn undrawable(text: &str) -> Vec<char> {
    let mut out: Vec<char> = Vec::new();
    for c in text.chars() {
        if !can_draw(c) && !out.contains(&c) {
            out.push(c);
        }
    }
    out
}

/// A sheet that would not show whose it is: the custodian's name has characters the sheet's
/// fonts cannot draw (a name stored before custody refused such names).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Undrawable {
    /// The custodian's name, as stored.
    pub custodian: String,
    /// The characters of it the sheet cannot draw ([`undrawable`]).
    pub chars: Vec<char>,
}

impl fmt::Display for Undrawable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let chars: Vec<String> = self
            .chars
            .iter()
            .map(|&c| match c {
                c if c.is_control() || c.is_whitespace() => format!("U+{:04X}", c as u32),
                c => format!("U+{:04X} {c}", c as u32),
            })
            .collect();
        write!(
            f,
            "the sheet would not show whose it is: its fonts cannot print {} in the custodian \
             name `{}`",
            chars.join(", "),
            self.custodian
        )
    }
}

impl std::error::Error for Undrawable {}

fn holder_shown(data: &SheetData) -> Result<(), Undrawable> {
    let chars = undrawable(&data.custodian);
    if chars.is_empty() {
        Ok(())
    } else {
        Err(Undrawable {
            custodian: data.custodian.clone(),
            chars,
        })
    }
}

/// Renders the sheet as a one-page vector PDF; refused if it would not show the custodian's
/// name ([`can_draw`]).
///
/// # Panics
/// If the token is too long for a QR code (more than ~1600 bytes), which a share token never is.
pub fn render_pdf(data: &SheetData, paper: Paper) -> Result<Zeroizing<Vec<u8>>, Undrawable> {
    holder_shown(data)?;
    Ok(pdf::render(&layout::layout(data, paper), &data.token))
}

/// Renders the sheet as an SVG document (sized in millimetres, text kept exact).
///
/// # Panics
/// As [`render_pdf`].
pub fn render_svg(data: &SheetData, paper: Paper) -> Zeroizing<String> {
    svg::render(&layout::layout(data, paper))
}

/// Renders the sheet as a grayscale PNG at [`PNG_DPI`] dots per inch; refused as
/// [`render_pdf`] is.
///
/// # Panics
/// As [`render_pdf`].
pub fn render_png(data: &SheetData, paper: Paper) -> Result<Zeroizing<Vec<u8>>, Undrawable> {
    holder_shown(data)?;
    Ok(png::render(&layout::layout(data, paper), PNG_DPI))
}

/// Resolution of [`render_png`].
pub const PNG_DPI: u32 = 300;

/// Draws `token` as a QR code with Unicode half blocks (two modules per character cell) and a
/// 4-module quiet zone. With `colours` (for a terminal) it forces black-on-white with ANSI
/// colours so that it scans from light and dark terminals alike; without (a file, a pipe) it
/// writes no escape codes.
///
/// # Panics
/// As [`render_pdf`].
pub fn render_terminal(token: &str, colours: bool) -> Zeroizing<String> {
    terminal::render(&QrMatrix::encode(token), colours)
}

/// The text lines of the sheet in reading order (snapshot tests, accessibility, `txt` output).
pub fn text_content(data: &SheetData) -> Vec<String> {
    layout::text_lines(data)
}
