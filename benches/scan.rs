//! Scanner benchmark: decode time of three 300 dpi sheet pictures, ours against `zbarimg`,
//! decode success per degradation of the test corpus, and the detector work each picture
//! needed against its budget (`src/scan/metered.rs`). Run: `cargo bench --bench scan`.

use std::process::Command;
use std::time::{Duration, Instant};

use custody::scan::{self, degrade};
use custody::sheet::{self, Paper, SheetData};
use zeroize::Zeroizing;

fn sheet_data(seed: u8, words: usize) -> SheetData {
    // A made-up token of realistic length: "custody-share:" + 294 base64url characters.
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut x = 0x9e37_79b9_7f4a_7c15u64 ^ seed as u64;
    let body: String = (0..294)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            alphabet[(x % 64) as usize] as char
        })
        .collect();
    SheetData {
        title: "custody share \u{2014} Acme Fund treasury vault".into(),
        custodian: format!("Custodian {seed}"),
        group: "Ops".into(),
        member_number: seed,
        member_threshold: 2,
        member_count: 3,
        group_threshold: 1,
        group_count: 1,
        policy_lines: vec!["Ops: any 2 of 3 (alice, bob, carol)".into()],
        fingerprint: "K7Q2-M9XD-4HTR-PA3C".into(),
        vault_id: "9f3c2a71d04be5568a1f0c3e7b92d4a6".into(),
        epoch: 1,
        created: "2026-11-28".into(),
        token: Zeroizing::new(format!("custody-share:{body}")),
        words: Zeroizing::new((0..words).map(|i| format!("word{i}")).collect()),
    }
}

fn zbar_installed() -> bool {
    Command::new("sh")
        .args(["-c", "command -v zbarimg"])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// zbar's payloads and wall time (process start included) for one encoded picture.
fn zbar(bytes: &[u8]) -> (Vec<String>, Duration) {
    let path = std::env::temp_dir().join(format!("custody-bench-{}.img", std::process::id()));
    std::fs::write(&path, bytes).unwrap();
    let t = Instant::now();
    let out = Command::new("zbarimg")
        .args(["--raw", "-q", "-Sdisable", "-Sqrcode.enable", "-Sbinary"])
        .arg(&path)
        .output()
        .expect("running zbarimg");
    let elapsed = t.elapsed();
    let _ = std::fs::remove_file(&path);
    (
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_string)
            .collect(),
        elapsed,
    )
}

fn main() {
    let with_zbar = zbar_installed();
    if !with_zbar {
        println!("note: zbarimg not installed; only our scanner is measured");
    }
    let sheets = [
        ("A4, 20 words", sheet_data(1, 20), Paper::A4),
        ("A4, 33 words", sheet_data(2, 33), Paper::A4),
        ("Letter, 33 words", sheet_data(3, 33), Paper::Letter),
    ];
    let pngs: Vec<_> = sheets
        .iter()
        .map(|(_, d, p)| sheet::render_png(d, *p).unwrap())
        .collect();

    println!("\n300 dpi sheet pictures (PNG), median of 5 runs, decode incl. PNG decoding");
    println!("{:<18} {:>10} {:>10}", "sheet", "ours ms", "zbar ms");
    for ((name, d, _), png) in sheets.iter().zip(&pngs) {
        let mut ours = Vec::new();
        let mut theirs = Vec::new();
        for _ in 0..5 {
            let t = Instant::now();
            let found = scan::decode_qr_codes(png).expect("our scanner reads a clean sheet");
            ours.push(t.elapsed());
            assert_eq!(found, vec![d.token.to_string()]);
            if with_zbar {
                let (found, elapsed) = zbar(png);
                assert_eq!(found, vec![d.token.to_string()]);
                theirs.push(elapsed);
            }
        }
        println!(
            "{name:<18} {:>10.1} {:>10}",
            ms(median(&mut ours)),
            if with_zbar {
                format!("{:.1}", ms(median(&mut theirs)))
            } else {
                "-".into()
            }
        );
    }

    println!("\nDegraded corpus (from the three sheets): pictures decoded");
    println!(
        "{:<52} {:>6} {:>6} {:>9}",
        "degradation", "ours", "zbar", "ours ms"
    );
    let corpora: Vec<_> = pngs
        .iter()
        .map(|p| degrade::corpus(&scan::load_gray(p).unwrap()))
        .collect();
    let (mut total_ours, mut total_zbar, mut total) = (0, 0, 0);
    // The successful attempt using the largest share of its work budget.
    let mut tightest: Option<(f64, String)> = None;
    for i in 0..corpora[0].len() {
        let name = corpora[0][i].0;
        let (mut ours, mut theirs, mut time) = (0, 0, Duration::ZERO);
        for ((_, d, _), corpus) in sheets.iter().zip(&corpora) {
            let want = vec![d.token.to_string()];
            let bytes = &corpus[i].1;
            let t = Instant::now();
            let gray = scan::load_gray(bytes).unwrap();
            let (found, trace) = scan::decode_gray_attempts(&gray);
            time += t.elapsed();
            ours += (found == want) as u32;
            if let Some(last) = trace.last().filter(|_| found == want) {
                let share = last.work as f64 / last.budget as f64;
                if tightest.as_ref().is_none_or(|(s, _)| share > *s) {
                    tightest = Some((share, format!("{name}, attempt {}", last.name)));
                }
            }
            if with_zbar {
                theirs += (zbar(bytes).0 == want) as u32;
            }
        }
        total_ours += ours;
        total_zbar += theirs;
        total += sheets.len();
        println!(
            "{name:<52} {:>6} {:>6} {:>9.1}",
            format!("{ours}/{}", sheets.len()),
            if with_zbar {
                format!("{theirs}/{}", sheets.len())
            } else {
                "-".into()
            },
            ms(time) / sheets.len() as f64
        );
    }
    println!(
        "{:<52} {:>6} {:>6}",
        "total",
        format!("{total_ours}/{total}"),
        if with_zbar {
            format!("{total_zbar}/{total}")
        } else {
            "-".into()
        }
    );
    if let Some((share, which)) = tightest {
        println!(
            "\nDetector work: the successful attempt closest to its budget used {:.1} % of it \
             ({which})",
            share * 100.0
        );
    }
    work_bounds(&pngs[0]);
}

/// Worst cases for the work budget: a page with no code at all (every attempt runs to the
/// end), and the picture fuzzing found that sent rqrr's search through ~370 million steps.
fn work_bounds(sheet_png: &[u8]) {
    let mut page = scan::load_gray(sheet_png).unwrap();
    let w = page.w;
    for y in 900..2000 {
        page.px[y * w..y * w + 1500].fill(255);
    }
    let slow = scan::load_gray(include_bytes!(
        "../tests/fixtures/fuzz-regressions/image-slow-grid-search.png"
    ))
    .unwrap();
    println!(
        "\n{:<44} {:>8} {:>8} {:>14} {:>14} {:>9}",
        "no code found in", "attempts", "stopped", "steps", "budget", "ms"
    );
    for (name, gray) in [
        ("A4 page, QR painted out (2480x3508)", &page),
        ("fuzz finding image-slow-grid-search (260x250)", &slow),
    ] {
        let t = Instant::now();
        let (found, trace) = scan::decode_gray_attempts(gray);
        let elapsed = t.elapsed();
        assert!(found.is_empty());
        println!(
            "{name:<44} {:>8} {:>8} {:>14} {:>14} {:>9.1}",
            trace.len(),
            trace.iter().filter(|a| a.stopped).count(),
            trace.iter().map(|a| a.work).sum::<u64>(),
            trace.iter().map(|a| a.budget).sum::<u64>(),
            ms(elapsed)
        );
    }
}

fn median(v: &mut [Duration]) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
