//! SVG back-end: a millimetre-sized document in points, exact Unicode text as `<text>`
//! elements and the QR code as one crisp path.

use std::fmt::Write as _;

use zeroize::Zeroizing;

use super::fonts::Face;
use super::layout::Page;
use super::qr::QUIET_ZONE;

const PT_TO_MM: f32 = 25.4 / 72.0;

pub(super) fn render(page: &Page) -> Zeroizing<String> {
    let mut s = Zeroizing::new(String::new());
    let o = &mut *s;
    let _ = writeln!(o, r#"<?xml version="1.0" encoding="UTF-8"?>"#);
    let _ = writeln!(
        o,
        r#"<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="{:.1}mm" height="{:.1}mm" viewBox="0 0 {} {}">"#,
        page.width * PT_TO_MM,
        page.height * PT_TO_MM,
        page.width,
        page.height
    );
    let _ = write!(o, "<title>");
    escape(o, &page.title);
    let _ = writeln!(o, "</title>");
    let _ = writeln!(o, r##"<rect width="100%" height="100%" fill="#fff"/>"##);
    for r in &page.rects {
        let _ = writeln!(
            o,
            r#"<rect x="{}" y="{}" width="{}" height="{}" fill="{}"/>"#,
            r.x,
            r.y,
            r.w,
            r.h,
            color(r.gray)
        );
    }
    let q = &page.qr;
    let _ = write!(o, r##"<path fill="#000" shape-rendering="crispEdges" d=""##);
    for (row, col, len) in q.matrix.dark_runs() {
        let x = q.x + (col + QUIET_ZONE) as f32 * q.module;
        let y = q.y + (row + QUIET_ZONE) as f32 * q.module;
        let _ = write!(
            o,
            "M{x} {y}h{}v{}h-{}z",
            len as f32 * q.module,
            q.module,
            len as f32 * q.module
        );
    }
    let _ = writeln!(o, r#""/>"#);
    for t in &page.texts {
        let (family, weight) = match t.face {
            Face::Sans => ("Helvetica, Arial, 'Liberation Sans', sans-serif", "normal"),
            Face::SansBold => ("Helvetica, Arial, 'Liberation Sans', sans-serif", "bold"),
            Face::Mono => (
                "'Courier New', Courier, 'Liberation Mono', monospace",
                "normal",
            ),
            Face::MonoBold => (
                "'Courier New', Courier, 'Liberation Mono', monospace",
                "bold",
            ),
        };
        let _ = write!(
            o,
            r#"<text x="{}" y="{}" font-family="{family}" font-size="{}" font-weight="{weight}" fill="{}" xml:space="preserve">"#,
            t.x,
            t.y,
            t.size,
            color(t.gray)
        );
        escape(o, &t.text);
        let _ = writeln!(o, "</text>");
    }
    let _ = writeln!(o, "</svg>");
    s
}

fn color(gray: f32) -> String {
    let v = (gray.clamp(0.0, 1.0) * 255.0).round() as u8;
    format!("#{v:02x}{v:02x}{v:02x}")
}

fn escape(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 => out.push(' '),
            c => out.push(c),
        }
    }
}
