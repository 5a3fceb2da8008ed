//! Minimal hand-written PDF 1.4 writer: one page, standard Type 1 fonts (Helvetica,
//! Helvetica-Bold, Courier) with WinAnsi encoding, text as real selectable text, the QR code
//! as filled rectangles. No font embedding, no compression, no dependencies. The share token
//! is also written as text in the document information dictionary (`/CustodyShareToken`), so
//! that custody can read its own sheet back without printing it ([`super::pdf_read`]).

use std::fmt::Write as _;

use zeroize::Zeroizing;

use super::fonts::Face;
use super::layout::Page;

/// The document information dictionary's key holding the share token (shares-format.md,
/// "Printed sheet").
pub(super) const TOKEN_KEY: &str = "/CustodyShareToken";
/// The producer custody writes; a PDF without it is not one of custody's sheets.
pub(super) const PRODUCER: &str = "/Producer (custody)";

pub(super) fn render(page: &Page, token: &str) -> Zeroizing<Vec<u8>> {
    let h = page.height;
    let mut content = Zeroizing::new(String::new());
    let c = &mut *content;

    for r in &page.rects {
        let _ = writeln!(
            c,
            "{} g {} {} {} {} re f",
            n(r.gray),
            n(r.x),
            n(h - r.y - r.h),
            n(r.w),
            n(r.h)
        );
    }
    let q = &page.qr;
    let _ = writeln!(c, "0 g");
    for (row, col, len) in q.matrix.dark_runs() {
        let x = q.x + (col + super::qr::QUIET_ZONE) as f32 * q.module;
        let y = q.y + (row + super::qr::QUIET_ZONE + 1) as f32 * q.module;
        let _ = writeln!(
            c,
            "{} {} {} {} re",
            n(x),
            n(h - y),
            n(len as f32 * q.module),
            n(q.module)
        );
    }
    let _ = writeln!(c, "f");
    for t in &page.texts {
        let font = match t.face {
            Face::Sans => "F1",
            Face::SansBold => "F2",
            Face::Mono => "F3",
            Face::MonoBold => "F4",
        };
        let _ = write!(
            c,
            "BT {} g /{font} {} Tf {} {} Td (",
            n(t.gray),
            n(t.size),
            n(t.x),
            n(h - t.y)
        );
        pdf_string(c, &t.text);
        let _ = writeln!(c, ") Tj ET");
    }

    let mut title = String::new();
    pdf_string(&mut title, &page.title);
    let objects: Vec<String> = vec![
        "<< /Type /Catalog /Pages 2 0 R >>".into(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".into(),
        format!(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {} {}] /Resources << /Font << /F1 5 0 R /F2 6 0 R /F3 7 0 R /F4 8 0 R >> >> /Contents 4 0 R >>",
            n(page.width),
            n(page.height)
        ),
        String::new(), // content stream, written below
        font_dict("Helvetica"),
        font_dict("Helvetica-Bold"),
        font_dict("Courier"),
        font_dict("Courier-Bold"),
        String::new(), // document information (holds the token), written below
    ];
    let mut info = Zeroizing::new(format!("<< /Title ({title}) {PRODUCER} {TOKEN_KEY} ("));
    pdf_string(&mut info, token);
    info.push_str(") >>");

    let mut out = Zeroizing::new(Vec::with_capacity(content.len() + 2048));
    out.extend_from_slice(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n");
    let mut offsets = Vec::with_capacity(objects.len());
    for (i, obj) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n", i + 1).as_bytes());
        if i == 3 {
            out.extend_from_slice(format!("<< /Length {} >>\nstream\n", content.len()).as_bytes());
            out.extend_from_slice(content.as_bytes());
            out.extend_from_slice(b"endstream");
        } else if i == objects.len() - 1 {
            out.extend_from_slice(info.as_bytes());
        } else {
            out.extend_from_slice(obj.as_bytes());
        }
        out.extend_from_slice(b"\nendobj\n");
    }
    let xref = out.len();
    let mut tail = format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1);
    for off in offsets {
        let _ = writeln!(tail, "{off:010} 00000 n ");
    }
    let _ = write!(
        tail,
        "trailer\n<< /Size {} /Root 1 0 R /Info {} 0 R >>\nstartxref\n{xref}\n%%EOF\n",
        objects.len() + 1,
        objects.len()
    );
    out.extend_from_slice(tail.as_bytes());
    out
}

fn font_dict(base: &str) -> String {
    format!("<< /Type /Font /Subtype /Type1 /BaseFont /{base} /Encoding /WinAnsiEncoding >>")
}

/// Number with at most 3 decimals and no trailing zeros.
fn n(v: f32) -> String {
    let s = format!("{v:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".into() } else { s.into() }
}

/// Appends `text` as the body of a PDF literal string: WinAnsi bytes, with `( ) \` escaped and
/// non-ASCII bytes written as octal escapes. A tab is a space; characters WinAnsi lacks become
/// `?` (custodian names never hold one: [`super::can_draw`]).
fn pdf_string(out: &mut String, text: &str) {
    for ch in text.chars() {
        let b = if ch == '\t' {
            b' '
        } else {
            win_ansi(ch).unwrap_or(b'?')
        };
        match b {
            b'(' | b')' | b'\\' => {
                out.push('\\');
                out.push(b as char);
            }
            0x20..=0x7e => out.push(b as char),
            _ => {
                let _ = write!(out, "\\{b:03o}");
            }
        }
    }
}

/// The WinAnsiEncoding byte of `ch` (PDF 1.7, annex D.2), if it has one: printable ASCII,
/// U+00A0 to U+00FF, and the 27 characters Windows code page 1252 puts at 0x80 to 0x9F.
pub(super) fn win_ansi(ch: char) -> Option<u8> {
    Some(match ch {
        ' '..='~' => ch as u8,
        '\u{a0}'..='\u{ff}' => ch as u32 as u8,
        '\u{20ac}' => 0x80,
        '\u{201a}' => 0x82,
        '\u{0192}' => 0x83,
        '\u{201e}' => 0x84,
        '\u{2026}' => 0x85,
        '\u{2020}' => 0x86,
        '\u{2021}' => 0x87,
        '\u{02c6}' => 0x88,
        '\u{2030}' => 0x89,
        '\u{0160}' => 0x8a,
        '\u{2039}' => 0x8b,
        '\u{0152}' => 0x8c,
        '\u{017d}' => 0x8e,
        '\u{2018}' => 0x91,
        '\u{2019}' => 0x92,
        '\u{201c}' => 0x93,
        '\u{201d}' => 0x94,
        '\u{2022}' => 0x95,
        '\u{2013}' => 0x96,
        '\u{2014}' => 0x97,
        '\u{02dc}' => 0x98,
        '\u{2122}' => 0x99,
        '\u{0161}' => 0x9a,
        '\u{203a}' => 0x9b,
        '\u{0153}' => 0x9c,
        '\u{017e}' => 0x9e,
        '\u{0178}' => 0x9f,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_escaped_and_transliterated() {
        let mut s = String::new();
        pdf_string(&mut s, "a(b)c\\d — José 李\tŠŒ");
        assert_eq!(s, "a\\(b\\)c\\\\d \\227 Jos\\351 ? \\212\\214");
    }

    #[test]
    fn numbers_are_compact() {
        assert_eq!(n(12.0), "12");
        assert_eq!(n(0.5), "0.5");
        assert_eq!(n(-0.0001), "0");
    }
}
