//! Peak memory (maximum resident set size) of each CLI command on a demo vault, measured with
//! `/usr/bin/time -f %M` (GNU time; Debian package `time`) around the real `custody` binary
//! built by `cargo bench --bench memory`. Prints a table; also the wall time of each command.
//! The vault: `init` of 2 of alice/bob/carol with text share files and the default iteration
//! exponent; one binance credential. Pictures given to `check-share`: a real share's 300 dpi
//! A4 sheet (`sheet --format png`, 2480 x 3508), the worst picture under the pixel cap (noise,
//! no code: every attempt runs until the detector's work budget is spent), and two pictures
//! above it (refused from their header).

use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

const TIME: &str = "/usr/bin/time";

/// Runs custody `args` in `dir` under GNU time; returns (max RSS in KiB, wall ms). The
/// command must succeed, or with `refused`, fail with exit status 1.
fn measure(dir: &Path, args: &[&str], stdin: Option<&str>, refused: bool) -> (u64, u128) {
    let out_file = dir.join("time.out");
    let mut c = Command::new(TIME);
    c.arg("-f")
        .arg("%M")
        .arg("-o")
        .arg(&out_file)
        .arg(env!("CARGO_BIN_EXE_custody"))
        .args(args)
        .current_dir(dir)
        .env_remove("CUSTODY_VAULT");
    if let Some(s) = stdin {
        fs::write(dir.join("stdin.txt"), s).unwrap();
        c.stdin(fs::File::open(dir.join("stdin.txt")).unwrap());
    }
    let start = Instant::now();
    let out = c.output().unwrap();
    let ms = start.elapsed().as_millis();
    assert!(
        if refused {
            out.status.code() == Some(1)
        } else {
            out.status.success()
        },
        "custody {args:?}: {:?}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let kib = fs::read_to_string(&out_file)
        .unwrap()
        .lines()
        .last()
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    (kib, ms)
}

/// A `w × h` PNG, colour type `color`, with every row made by `row(y)`, written as it goes.
fn write_png(path: &Path, w: u32, h: u32, color: png::ColorType, row: impl Fn(u32) -> Vec<u8>) {
    use std::io::Write;
    let file = std::io::BufWriter::new(fs::File::create(path).unwrap());
    let mut enc = png::Encoder::new(file, w, h);
    enc.set_color(color);
    enc.set_depth(png::BitDepth::Eight);
    enc.set_compression(png::Compression::Fast);
    let mut writer = enc.write_header().unwrap();
    let mut stream = writer.stream_writer().unwrap();
    for y in 0..h {
        stream.write_all(&row(y)).unwrap();
    }
    stream.finish().unwrap();
    writer.finish().unwrap();
}

fn pictures(dir: &Path) {
    write_png(
        &dir.join("uniform-20000.png"),
        20_000,
        20_000,
        png::ColorType::Grayscale,
        |_| vec![0; 20_000],
    );
    write_png(
        &dir.join("rgb-11000.png"),
        11_000,
        11_000,
        png::ColorType::Rgb,
        |_| (0..33_000u32).map(|x| (x * 7 % 256) as u8).collect(),
    );
    // 6324 x 6324 = 39.99 million pixels of noise: the largest picture accepted, and one on
    // which every attempt searches hard.
    let mut x = 0x9e37_79b9u32;
    let noise: Vec<u8> = (0..6324 * 64)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x >> 24) as u8
        })
        .collect();
    write_png(
        &dir.join("noise-40mp.png"),
        6324,
        6324,
        png::ColorType::Grayscale,
        |y| {
            let at = (y as usize % 63) * 6324;
            noise[at..at + 6324].to_vec()
        },
    );
}

fn main() {
    if !Path::new(TIME).exists() {
        eprintln!("note: {TIME} (Debian package `time`) not installed; skipping the memory bench");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let json = r#"{"api_key":"AKEY-bench","api_secret":"SSEC-bench"}"#;
    pictures(dir);
    let steps: Vec<(&str, Vec<&str>, Option<&str>)> = vec![
        (
            "init (3 share files)",
            vec![
                "init",
                "--vault",
                "v.json",
                "--out-dir",
                "sh",
                "--threshold",
                "2",
                "--sheets",
                "txt",
                "--custodian",
                "alice",
                "bob",
                "carol",
            ],
            None,
        ),
        (
            "check-share",
            vec!["check-share", "--vault", "v.json", "sh/01-alice.txt"],
            None,
        ),
        (
            "sheet --format pdf",
            vec![
                "sheet",
                "--vault",
                "v.json",
                "sh/01-alice.txt",
                "--format",
                "pdf",
                "-o",
                "a.pdf",
            ],
            None,
        ),
        (
            "sheet --format png",
            vec![
                "sheet",
                "--vault",
                "v.json",
                "sh/01-alice.txt",
                "--format",
                "png",
                "-o",
                "a.png",
            ],
            None,
        ),
        (
            "check-share: 300 dpi A4 sheet",
            vec!["check-share", "--vault", "v.json", "a.png"],
            None,
        ),
        (
            "check-share: 40 Mpx noise PNG",
            vec!["check-share", "--vault", "v.json", "noise-40mp.png"],
            None,
        ),
        (
            "check-share: 11000^2 RGB PNG",
            vec!["check-share", "--vault", "v.json", "rgb-11000.png"],
            None,
        ),
        (
            "check-share: 20000^2 gray PNG",
            vec!["check-share", "--vault", "v.json", "uniform-20000.png"],
            None,
        ),
        (
            "creds add",
            vec![
                "creds",
                "add",
                "bn",
                "--vault",
                "v.json",
                "--exchange",
                "binance",
                "--scope",
                "trade",
                "--from-json",
                "-",
            ],
            Some(json),
        ),
        (
            "creds status",
            vec!["creds", "status", "--vault", "v.json"],
            None,
        ),
        (
            "drill --ratify --certificate",
            vec![
                "drill",
                "--vault",
                "v.json",
                "--share",
                "sh/01-alice.txt",
                "--share",
                "sh/03-carol.txt",
                "--ratify",
                "--certificate",
                "cert.json",
            ],
            None,
        ),
        (
            "exec -- true",
            vec![
                "exec",
                "--vault",
                "v.json",
                "--share",
                "sh/01-alice.txt",
                "--share",
                "sh/03-carol.txt",
                "--cred",
                "bn",
                "--",
                "true",
            ],
            None,
        ),
        (
            "audit verify",
            vec!["audit", "verify", "--vault", "v.json"],
            None,
        ),
        (
            "verify-certificate",
            vec!["verify-certificate", "--vault", "v.json", "cert.json"],
            None,
        ),
    ];
    println!("Peak memory of each custody command (max RSS, GNU time), demo vault");
    println!("{:<30} {:>12} {:>10}", "command", "max RSS", "wall");
    for (label, args, stdin) in &steps {
        // The pictures without a share are refused (exit status 1).
        let refused = label.starts_with("check-share: ") && !label.ends_with("sheet");
        let (kib, ms) = measure(dir, args, *stdin, refused);
        println!(
            "{:<30} {:>8.1} MiB {:>7} ms",
            label,
            kib as f64 / 1024.0,
            ms
        );
    }
}
