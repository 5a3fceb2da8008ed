//! Share sheets: PDF/PNG/SVG output carries exactly the token in a QR code readable by zbar
//! and by our scanner, the text is real and complete, and the layout stays on the page.

use std::path::Path;
use std::process::Command;

use custody::scan;
use custody::sheet::{self, Paper, SheetData};
use zeroize::Zeroizing;

mod common;
use common::{have, token_text};

/// What is skipped when a tool is missing.
const SKIPPED: &str = "the part of this test that needs it";

const WORDS: &str = "academic acid acne academic academic fact scene texture guilt husband nuclear \
    ranked lunar teacher shaft intimate hesitate tactics mineral olympic sack favorite standard \
    prayer belong budget early lunch forward mayor smoking spray oven";

fn data(n_words: usize) -> SheetData {
    SheetData {
        title: "custody share \u{2014} Acme Fund treasury vault".into(),
        custodian: "Zoë O'Brien (ops) \\ Šárka".into(),
        group: "Ops".into(),
        member_number: 2,
        member_threshold: 2,
        member_count: 3,
        group_threshold: 2,
        group_count: 2,
        policy_lines: vec![
            "Ops: any 2 of 3 (alice, bob, carol)".into(),
            "Board: any 1 of 2 (dave, erin)".into(),
            "Needed: 2 of the 2 groups".into(),
        ],
        fingerprint: "K7Q2-M9XD-4HTR-PA3C".into(),
        vault_id: "9f3c2a71d04be5568a1f0c3e7b92d4a6e8f1c05b3a7d9e2f4c6b8a0d1e3f5a7c".into(),
        epoch: 3,
        created: "2026-11-28".into(),
        token: Zeroizing::new(token_text(n_words as u64)),
        words: Zeroizing::new(
            WORDS
                .split_whitespace()
                .take(n_words)
                .map(String::from)
                .collect(),
        ),
    }
}

/// Whether an external tool is installed. Missing: a failure under CI, a skip elsewhere.
/// QR payloads zbar finds in a picture file.
fn zbar(path: &Path) -> Vec<String> {
    let out = Command::new("zbarimg")
        .args(["--raw", "-q", "-Sdisable", "-Sqrcode.enable", "-Sbinary"])
        .arg(path)
        .output()
        .expect("running zbarimg");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

fn pdf_to_png(pdf: &[u8], dpi: u32, dir: &Path) -> Vec<u8> {
    let src = dir.join("sheet.pdf");
    std::fs::write(&src, pdf).unwrap();
    let status = Command::new("pdftoppm")
        .args(["-r", &dpi.to_string(), "-png", "-singlefile"])
        .arg(&src)
        .arg(dir.join("page"))
        .status()
        .expect("running pdftoppm");
    assert!(status.success());
    std::fs::read(dir.join("page.png")).unwrap()
}

#[test]
fn pdf_qr_is_read_by_zbar_and_by_our_scanner() {
    if !(have("pdftoppm", SKIPPED) && have("zbarimg", SKIPPED)) {
        return;
    }
    for (paper, words) in [(Paper::A4, 20), (Paper::Letter, 33)] {
        let d = data(words);
        let dir = tempfile::tempdir().unwrap();
        let png = pdf_to_png(&sheet::render_pdf(&d, paper).unwrap(), 300, dir.path());
        assert_eq!(
            zbar(&dir.path().join("page.png")),
            vec![d.token.to_string()],
            "{paper}"
        );
        assert_eq!(
            scan::decode_qr_codes(&png).unwrap(),
            vec![d.token.to_string()],
            "{paper}"
        );
    }
}

#[test]
fn pdf_text_is_selectable_and_escaped() {
    let d = data(33);
    let pdf = sheet::render_pdf(&d, Paper::A4).unwrap();
    assert!(pdf.starts_with(b"%PDF-1.4"));
    assert!(pdf.ends_with(b"%%EOF\n"));
    // Non-ASCII in WinAnsi as octal escapes, parentheses and backslash escaped.
    let raw = String::from_utf8_lossy(&pdf);
    assert!(
        raw.contains(r"(Zo\353 O'Brien \(ops\) \\ \212\341rka) Tj"),
        "escaped custodian name"
    );
    // The token is drawn only as the QR code; as text it is only in the document information
    // (`/CustodyShareToken`, for custody to read its own sheet back), not on the page.
    let stream_end = raw.find("endstream").unwrap();
    assert!(
        !raw[..stream_end].contains(d.token.as_str()),
        "the token is not drawn as text"
    );
    assert!(
        raw[stream_end..].contains(&format!("/CustodyShareToken ({})", d.token.as_str())),
        "the token is in the document information"
    );
    if !have("pdftotext", SKIPPED) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("s.pdf"), &*pdf).unwrap();
    let out = Command::new("pdftotext")
        .args(["-enc", "UTF-8"])
        .arg(dir.path().join("s.pdf"))
        .arg("-")
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        !text.contains(d.token.as_str()),
        "the token is not page text"
    );
    for (i, w) in d.words.iter().enumerate() {
        assert!(
            text.contains(&format!("{}.", i + 1)) && text.contains(w.as_str()),
            "word {w}"
        );
    }
    for needle in [
        "K7Q2-M9XD-4HTR-PA3C",
        "Zoë O'Brien (ops) \\ Šárka",
        "any 2 of 3 recover this group",
        "Board: any 1 of 2 (dave, erin)",
        "2026-11-28",
        "shares-format.md",
    ] {
        assert!(
            text.contains(needle),
            "{needle:?} missing from the PDF text:\n{text}"
        );
    }
}

#[test]
fn png_is_300dpi_and_its_qr_reads_back() {
    let d = data(20);
    let png = sheet::render_png(&d, Paper::A4).unwrap();
    let gray = scan::load_gray(&png).unwrap();
    assert_eq!((gray.w, gray.h), (2480, 3508), "A4 at 300 dpi");
    // pHYs chunk: 11811 pixels per metre = 300 dpi.
    let phys = png
        .windows(4)
        .position(|w| w == b"pHYs")
        .expect("pHYs chunk");
    assert_eq!(
        &png[phys + 4..phys + 13],
        &[0, 0, 0x2e, 0x23, 0, 0, 0x2e, 0x23, 1]
    );
    assert_eq!(
        scan::decode_qr_codes(&png).unwrap(),
        vec![d.token.to_string()]
    );
    let letter = scan::load_gray(&sheet::render_png(&d, Paper::Letter).unwrap()).unwrap();
    assert_eq!((letter.w, letter.h), (2550, 3300));
    if have("zbarimg", SKIPPED) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sheet.png");
        std::fs::write(&path, &*png).unwrap();
        assert_eq!(zbar(&path), vec![d.token.to_string()]);
    }
}

#[test]
fn svg_has_the_exact_text_and_a_qr_path() {
    let d = data(33);
    let svg = sheet::render_svg(&d, Paper::Letter);
    assert!(svg.contains(r#"width="215.9mm" height="279.4mm""#));
    for w in d.words.iter() {
        assert!(svg.contains(&format!(">{w}</text>")), "word {w} as <text>");
    }
    assert!(
        svg.contains(">Zoë O&apos;Brien (ops) \\ Šárka</text>"),
        "exact, escaped name"
    );
    assert!(svg.contains(">K7Q2-M9XD-4HTR-PA3C</text>"));
    assert!(svg.contains(r##"<path fill="#000" shape-rendering="crispEdges" d="M"##));
    // Rasterise when a converter exists, and read the QR back.
    if Command::new("sh")
        .args(["-c", "command -v rsvg-convert"])
        .output()
        .is_ok_and(|o| o.status.success())
        && have("zbarimg", SKIPPED)
    {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("s.svg"), svg.as_bytes()).unwrap();
        let status = Command::new("rsvg-convert")
            .args(["-d", "300", "-p", "300", "-b", "white", "-o"])
            .arg(dir.path().join("s.png"))
            .arg(dir.path().join("s.svg"))
            .status()
            .unwrap();
        assert!(status.success());
        assert_eq!(zbar(&dir.path().join("s.png")), vec![d.token.to_string()]);
        let png = std::fs::read(dir.path().join("s.png")).unwrap();
        assert_eq!(
            scan::decode_qr_codes(&png).unwrap(),
            vec![d.token.to_string()]
        );
    } else {
        eprintln!("note: rsvg-convert not installed; SVG checked as text only");
    }
}

#[test]
fn text_content_matches_snapshot() {
    let lines = sheet::text_content(&data(20)).join("\n") + "\n";
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sheet/text_content.txt");
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&path, &lines).unwrap();
    }
    let expected = std::fs::read_to_string(&path)
        .expect("snapshot missing: run with UPDATE_SNAPSHOTS=1 and review the file");
    assert_eq!(
        lines, expected,
        "text_content changed: review, then UPDATE_SNAPSHOTS=1"
    );
}

#[test]
fn layout_stays_on_the_page_and_clear_of_the_qr_code() {
    for paper in [Paper::A4, Paper::Letter] {
        let mut d = data(33);
        d.policy_lines
            .push("Auditors: any 1 of 4 (frank, grace, heidi, ivan)".into());
        let page = sheet::layout::layout(&d, paper);
        let q = &page.qr;
        let side = (q.matrix.width() + 8) as f32 * q.module;
        // A module is a whole number of pixels at 300 dpi, at least 0.6 mm.
        let px = q.module * 300.0 / 72.0;
        assert!(
            (px - px.round()).abs() < 1e-3 && px >= 7.0,
            "{paper}: {px} px per module"
        );
        for t in &page.texts {
            assert!(
                t.x >= 40.0 && t.y <= page.height - 30.0 && t.y >= 40.0,
                "{paper}: {:?} off the page",
                t.text
            );
            let inside_qr =
                t.x < q.x + side && t.x >= q.x && t.y > q.y && t.y - t.size < q.y + side;
            assert!(!inside_qr, "{paper}: {:?} overlaps the QR code", t.text);
        }
        let words: Vec<_> = page
            .texts
            .iter()
            .filter(|t| d.words.contains(&t.text))
            .collect();
        assert_eq!(words.len(), 33);
    }
}

#[test]
fn qr_uses_level_q_and_fits_a_320_character_token() {
    assert_eq!(sheet::QR_EC_LEVEL, qrcode::EcLevel::Q);
    let long = "custody-share:".to_string() + &"A".repeat(306);
    let m = sheet::QrMatrix::encode(&long);
    assert!(
        m.width() <= 81,
        "version 16 or lower, got {} modules",
        m.width()
    );
}

#[test]
fn terminal_qr_decodes_when_redrawn_as_pixels() {
    let t = token_text(9);
    let term = sheet::render_terminal(&t, true);
    let plain = sheet::render_terminal(&t, false);
    assert!(!plain.contains('\x1b'));
    assert_eq!(
        plain.lines().count(),
        term.lines().count(),
        "the same drawing without colours"
    );
    let lines: Vec<Vec<char>> = term
        .lines()
        .map(|l| {
            // Strip the ANSI colour codes: ESC [ ... m.
            let mut out = Vec::new();
            let mut chars = l.chars();
            while let Some(c) = chars.next() {
                if c == '\x1b' {
                    for c in chars.by_ref() {
                        if c == 'm' {
                            break;
                        }
                    }
                } else {
                    out.push(c);
                }
            }
            out
        })
        .collect();
    assert!(lines.iter().all(|l| l.len() == lines[0].len()));
    assert!(term.starts_with("\x1b[30;107m") && term.lines().all(|l| l.ends_with("\x1b[0m")));
    const S: usize = 4; // pixels per module
    let (w, h) = (lines[0].len() * S, lines.len() * 2 * S);
    let mut g = scan::Gray::filled(w, h, 255);
    for (row, line) in lines.iter().enumerate() {
        for (col, &c) in line.iter().enumerate() {
            let (top, bottom) = match c {
                '█' => (true, true),
                '▀' => (true, false),
                '▄' => (false, true),
                ' ' => (false, false),
                other => panic!("unexpected character {other:?}"),
            };
            for (half, dark) in [(0, top), (1, bottom)] {
                if dark {
                    for y in 0..S {
                        let y = (row * 2 + half) * S + y;
                        g.px[y * w + col * S..y * w + col * S + S].fill(0);
                    }
                }
            }
        }
    }
    // Quiet zone: the first and last two text lines are blank.
    assert!(
        lines[..2]
            .iter()
            .chain(&lines[lines.len() - 2..])
            .all(|l| l.iter().all(|&c| c == ' '))
    );
    assert_eq!(scan::decode_gray(&g).unwrap(), vec![t]);
}

#[test]
fn paper_and_format_parse() {
    assert_eq!("A4".parse::<Paper>().unwrap(), Paper::A4);
    assert_eq!("letter".parse::<Paper>().unwrap(), Paper::Letter);
    assert!("a5".parse::<Paper>().unwrap_err().contains("a4"));
    assert_eq!("svg".parse::<sheet::Format>().unwrap(), sheet::Format::Svg);
}

#[test]
fn no_pdf_or_png_sheet_without_its_holders_name() {
    // Ł is in the PNG fonts but not in the PDF's WinAnsiEncoding: neither sheet is drawn.
    let mut d = data(20);
    d.custodian = "Łukasz".into();
    let refused = sheet::Undrawable {
        custodian: "Łukasz".into(),
        chars: vec!['Ł'],
    };
    assert_eq!(sheet::render_pdf(&d, Paper::A4).unwrap_err(), refused);
    assert_eq!(sheet::render_png(&d, Paper::A4).unwrap_err(), refused);
    d.custodian = "李伟 Li".into();
    assert_eq!(
        sheet::render_pdf(&d, Paper::A4).unwrap_err().chars,
        ['李', '伟']
    );
    // The rule, from the fonts and the PDF encoding: Latin-1 and cp1252's extra letters.
    assert!("Zoë Šárka Œuvre Ÿves ÆØÅ ß €".chars().all(sheet::can_draw));
    assert!(!"ŁőăΣЖא\u{301}".chars().any(sheet::can_draw));
}
