//! Scanner: recognises pictures by content, reports useful errors, and decodes every picture
//! of a degraded corpus (made here from rendered sheets) that zbar decodes.

use std::process::Command;
use std::time::Instant;

use custody::scan::{self, Gray, ScanError, degrade};
use custody::sheet::{self, Paper, SheetData};
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::{RngCore, SeedableRng};
use zeroize::Zeroizing;

mod common;
use common::{have, token_text};

fn data(seed: u64) -> SheetData {
    SheetData {
        title: "custody share \u{2014} Acme Fund treasury vault".into(),
        custodian: "Alice Example".into(),
        group: "Ops".into(),
        member_number: 1,
        member_threshold: 2,
        member_count: 3,
        group_threshold: 1,
        group_count: 1,
        policy_lines: vec!["Ops: any 2 of 3 (alice, bob, carol)".into()],
        fingerprint: "K7Q2-M9XD-4HTR-PA3C".into(),
        vault_id: "9f3c2a71d04be5568a1f0c3e7b92d4a6".into(),
        epoch: 1,
        created: "2026-11-28".into(),
        token: Zeroizing::new(token_text(seed)),
        words: Zeroizing::new((0..20).map(|i| format!("word{i}")).collect()),
    }
}

fn zbar(bytes: &[u8]) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("img");
    std::fs::write(&path, bytes).unwrap();
    let out = Command::new("zbarimg")
        .args(["--raw", "-q", "-Sdisable", "-Sqrcode.enable", "-Sbinary"])
        .arg(&path)
        .output()
        .expect("running zbarimg");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn random_bytes_are_not_an_image() {
    let mut bytes = vec![0u8; 4096];
    ChaCha20Rng::seed_from_u64(1).fill_bytes(&mut bytes);
    bytes[0] = b'x';
    assert!(!scan::is_image(&bytes));
    assert_eq!(scan::decode_qr_codes(&bytes), Err(ScanError::NotAnImage));
    assert_eq!(scan::decode_qr_codes(b""), Err(ScanError::NotAnImage));
    // A share token or a PDF is not an image either, whatever its file name.
    assert!(!scan::is_image(token_text(1).as_bytes()));
    assert!(!scan::is_image(b"%PDF-1.4\n"));
}

#[test]
fn png_and_jpeg_are_recognised_by_content() {
    let g = Gray::filled(40, 30, 200);
    assert!(scan::is_image(&degrade::to_png(&g)));
    assert!(scan::is_image(&degrade::to_jpeg(&g, 80)));
}

#[test]
fn picture_without_qr_says_to_type_the_words() {
    // A rendered sheet with the QR code painted over: text but no code.
    let png = sheet::render_png(&data(2), Paper::A4).unwrap();
    let mut g = scan::load_gray(&png).unwrap();
    let w = g.w;
    for y in 900..2000 {
        g.px[y * w..y * w + 1500].fill(255);
    }
    let err = scan::decode_qr_codes(&degrade::to_png(&g)).unwrap_err();
    assert_eq!(
        err,
        ScanError::NoQrFound {
            width: 2480,
            height: 3508
        }
    );
    let msg = err.to_string();
    assert!(msg.contains("QR code could not be read"), "{msg}");
    // The library says what to do in domain terms; the command line adds its flags.
    assert!(msg.contains("type the share's words"), "{msg}");
    assert!(!msg.contains("--"), "{msg}");
}

#[test]
fn truncated_picture_is_a_decode_error() {
    let png = degrade::to_png(&Gray::filled(300, 300, 255));
    let err = scan::decode_qr_codes(&png[..png.len() / 2]).unwrap_err();
    assert!(matches!(err, ScanError::Decode(_)), "{err:?}");
    assert!(err.to_string().contains("new photo"));
}

#[test]
fn two_codes_in_one_picture_are_both_found() {
    let (a, b) = (token_text(3), token_text(4));
    let (ga, gb) = (qr_bitmap(&a, 6), qr_bitmap(&b, 6));
    let mut g = Gray::filled(ga.w + gb.w + 40, ga.h.max(gb.h), 255);
    for y in 0..ga.h {
        g.px[y * g.w..y * g.w + ga.w].copy_from_slice(&ga.px[y * ga.w..(y + 1) * ga.w]);
        let o = y * g.w + ga.w + 40;
        g.px[o..o + gb.w].copy_from_slice(&gb.px[y * gb.w..(y + 1) * gb.w]);
    }
    let mut found = scan::decode_qr_codes(&degrade::to_png(&g)).unwrap();
    found.sort();
    let mut want = vec![a, b];
    want.sort();
    assert_eq!(found, want);
}

/// A bare QR code with a 4-module quiet zone, `px` pixels a module.
fn qr_bitmap(text: &str, px: usize) -> Gray {
    let m = sheet::QrMatrix::encode(text);
    let side = (m.width() + 8) * px;
    let mut g = Gray::filled(side, side, 255);
    for y in 0..side {
        for x in 0..side {
            let (mx, my) = ((x / px).wrapping_sub(4), (y / px).wrapping_sub(4));
            if m.is_dark(mx, my) {
                g.px[y * side + x] = 0;
            }
        }
    }
    g
}

#[test]
fn degraded_corpus_ours_decodes_everything_zbar_decodes() {
    let with_zbar = have("zbarimg", "the comparison with zbar");
    let d = data(5);
    let mut sources: Vec<(&str, Gray)> = vec![(
        "png",
        scan::load_gray(&sheet::render_png(&d, Paper::A4).unwrap()).unwrap(),
    )];
    if with_zbar
        && Command::new("sh")
            .args(["-c", "command -v pdftoppm"])
            .output()
            .is_ok_and(|o| o.status.success())
    {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("s.pdf"),
            &*sheet::render_pdf(&d, Paper::Letter).unwrap(),
        )
        .unwrap();
        let ok = Command::new("pdftoppm")
            .args(["-r", "300", "-png", "-singlefile"])
            .arg(dir.path().join("s.pdf"))
            .arg(dir.path().join("p"))
            .status()
            .unwrap()
            .success();
        assert!(ok);
        sources.push((
            "pdf",
            scan::load_gray(&std::fs::read(dir.path().join("p.png")).unwrap()).unwrap(),
        ));
    }
    let want = vec![d.token.to_string()];
    let (mut ours_total, mut zbar_total, mut n) = (0, 0, 0);
    println!(
        "{:<6} {:<52} {:>5} {:>5} {:>8}  attempt",
        "sheet", "degradation", "ours", "zbar", "ms"
    );
    for (src, sheet_img) in &sources {
        for (name, bytes) in degrade::corpus(sheet_img) {
            let t = Instant::now();
            let gray = scan::load_gray(&bytes).unwrap();
            let (found, trace) = scan::decode_gray_attempts(&gray);
            let ms = t.elapsed().as_millis();
            let attempt = trace.last().filter(|_| !found.is_empty());
            // The detector's work budget (src/scan/metered.rs) must leave honest pictures
            // a wide margin: the attempt that reads the code uses at most half of it.
            if let Some(a) = attempt {
                assert!(
                    a.work * 2 <= a.budget,
                    "{src}/{name}: the successful attempt used {} of its {} steps",
                    a.work,
                    a.budget
                );
            }
            assert!(
                found.is_empty() || found == want,
                "wrong payload decoded from {name}"
            );
            let ours = found == want;
            let z = with_zbar && zbar(&bytes) == want;
            println!(
                "{src:<6} {name:<52} {:>5} {:>5} {ms:>8}  {}",
                mark(ours),
                if with_zbar { mark(z) } else { "-" },
                attempt.map(|a| a.name.as_str()).unwrap_or_default()
            );
            n += 1;
            ours_total += ours as u32;
            zbar_total += z as u32;
            assert!(
                ours || !z,
                "{src}/{name}: zbar decodes it but our scanner does not"
            );
        }
    }
    println!("decoded: ours {ours_total}/{n}, zbar {zbar_total}/{n}");
    // The clean, rotated-by-quarter and resampled pictures are easy: they must always work.
    assert!(
        ours_total as f32 >= n as f32 * 0.75,
        "our scanner decoded only {ours_total}/{n}"
    );
}

fn mark(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

#[test]
fn a_huge_picture_is_refused_from_its_header() {
    // 20000 x 20000 uniform pixels in a few hundred KB: before the cap, 1 min 48 s and 1.56 GB.
    let png = common::uniform_png(20_000, 20_000, 0);
    assert!(png.len() < 2_000_000, "{} bytes", png.len());
    let err = scan::decode_qr_codes(&png).unwrap_err();
    assert_eq!(
        err,
        ScanError::TooLarge {
            width: 20_000,
            height: 20_000,
            max_pixels: scan::MAX_PIXELS
        }
    );
    let msg = err.to_string();
    assert!(msg.contains("20000x20000"), "{msg}");
    assert!(msg.contains("400.0 million pixels"), "{msg}");
    assert!(msg.contains("40.0 million"), "{msg}");
    assert!(msg.contains("300 dpi"), "{msg}");
    assert!(matches!(
        scan::load_gray(&png),
        Err(ScanError::TooLarge { .. })
    ));
}

#[test]
fn a_picture_just_above_the_cap_is_refused_and_one_at_it_is_read() {
    // 40 million pixels exactly is read; one row more is not.
    let side = 8000;
    let rows = (scan::MAX_PIXELS / side) as u32;
    let at = common::uniform_png(side as u32, rows, 255);
    assert_eq!(
        scan::load_gray(&at).map(|g| (g.w, g.h)).ok(),
        Some((side as usize, rows as usize))
    );
    let above = common::uniform_png(side as u32, rows + 1, 255);
    assert!(matches!(
        scan::load_gray(&above),
        Err(ScanError::TooLarge { width: 8000, .. })
    ));
}

/// A JPEG whose frame header declares `w × h` (the scan data is a small picture's).
fn jpeg_declaring(w: u16, h: u16, rgb: bool) -> Vec<u8> {
    jpeg_frame(w, h, rgb, false)
}

/// [`jpeg_declaring`], optionally marked progressive (SOF2): only the header is read.
fn jpeg_frame(w: u16, h: u16, rgb: bool, progressive: bool) -> Vec<u8> {
    let mut bytes = Vec::new();
    let enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, 80);
    if rgb {
        let img = image::RgbImage::from_pixel(16, 16, image::Rgb([200, 100, 50]));
        img.write_with_encoder(enc).unwrap();
    } else {
        let img = image::GrayImage::from_pixel(16, 16, image::Luma([200]));
        img.write_with_encoder(enc).unwrap();
    }
    // SOF0: FF C0, length (2), precision (1), height (2), width (2).
    let at = bytes
        .windows(2)
        .position(|m| m == [0xff, 0xc0])
        .expect("a baseline frame header");
    bytes[at + 5..at + 7].copy_from_slice(&h.to_be_bytes());
    bytes[at + 7..at + 9].copy_from_slice(&w.to_be_bytes());
    if progressive {
        bytes[at + 1] = 0xc2;
    }
    bytes
}

#[test]
fn a_progressive_jpeg_is_capped_by_the_memory_its_coefficients_take() {
    // 15 million pixels: a baseline JPEG that size is read, but a progressive one keeps
    // 2 bytes per coefficient of each of its 3 components, 7 bytes a pixel in all.
    let cap = scan::pixel_cap(7);
    assert!(cap < 15_000_000 && cap * 7 <= scan::DECODE_BUDGET_BYTES);
    assert_eq!(
        scan::load_gray(&jpeg_frame(5000, 3000, true, true)).err(),
        Some(ScanError::TooLarge {
            width: 5000,
            height: 3000,
            max_pixels: cap
        })
    );
    // A grayscale progressive one: 1 + 2 bytes a pixel.
    assert_eq!(
        scan::load_gray(&jpeg_frame(8000, 5000, false, true)).err(),
        Some(ScanError::TooLarge {
            width: 8000,
            height: 5000,
            max_pixels: scan::pixel_cap(3)
        })
    );
    // The same header, baseline, passes the size check (what its short data then gives
    // does not matter here).
    assert!(!matches!(
        scan::load_gray(&jpeg_frame(5000, 3000, true, false)),
        Err(ScanError::TooLarge { .. })
    ));
}

#[test]
fn a_jpeg_declaring_huge_dimensions_is_refused_before_decoding() {
    for rgb in [false, true] {
        let err = scan::decode_qr_codes(&jpeg_declaring(11_000, 11_000, rgb)).unwrap_err();
        assert_eq!(
            err,
            ScanError::TooLarge {
                width: 11_000,
                height: 11_000,
                max_pixels: scan::MAX_PIXELS
            },
            "rgb: {rgb}"
        );
    }
}

#[test]
fn colour_scans_decode_to_gray_and_read() {
    // A rendered sheet as an RGB PNG and as a colour JPEG (what scanners and phones write):
    // both still read, and the PNG's gray is image's sRGB luma to within one level.
    let d = data(6);
    let gray = scan::load_gray(&sheet::render_png(&d, Paper::A4).unwrap()).unwrap();
    let rgb: Vec<u8> = gray
        .px
        .iter()
        .flat_map(|&p| [p, p.saturating_add(7), p.saturating_sub(9)])
        .collect();
    let img = image::RgbImage::from_raw(gray.w as u32, gray.h as u32, rgb).unwrap();
    let mut png = Vec::new();
    img.write_with_encoder(image::codecs::png::PngEncoder::new(&mut png))
        .unwrap();
    let ours = scan::load_gray(&png).unwrap();
    let theirs = image::load_from_memory(&png).unwrap().into_luma8();
    let theirs = theirs.into_raw();
    assert_eq!(ours.px.len(), theirs.len());
    assert!(
        ours.px
            .iter()
            .zip(&theirs)
            .all(|(a, b)| a.abs_diff(*b) <= 1)
    );
    assert_eq!(
        scan::decode_qr_codes(&png).unwrap(),
        vec![d.token.to_string()]
    );
    let mut jpeg = Vec::new();
    img.write_with_encoder(image::codecs::jpeg::JpegEncoder::new_with_quality(
        &mut jpeg, 85,
    ))
    .unwrap();
    assert_eq!(
        scan::decode_qr_codes(&jpeg).unwrap(),
        vec![d.token.to_string()]
    );
}

#[test]
fn all_attempts_on_one_picture_stay_within_its_work_budget() {
    // Noise is full of finder-pattern-like shapes: every attempt searches hard and finds
    // nothing. Each attempt had its own budget, but together a 2400 x 2400 picture of noise
    // took 940 million steps (5.5 s), and the budgets together allowed about 4 billion.
    let mut px = vec![0u8; 2400 * 2400];
    ChaCha20Rng::seed_from_u64(9).fill_bytes(&mut px);
    let g = Gray {
        w: 2400,
        h: 2400,
        px: Zeroizing::new(px),
    };
    let (found, trace) = scan::decode_gray_attempts(&g);
    assert!(found.is_empty());
    let total: u64 = trace.iter().map(|a| a.work).sum();
    assert!(
        total <= scan::PICTURE_WORK_BUDGET,
        "{total} steps in {} attempts",
        trace.len()
    );
    assert!(trace.iter().all(|a| a.work <= a.budget));
}
