//! Peak memory (maximum resident set size) of each CLI command on a demo vault, measured with
//! `/usr/bin/time -f %M` (GNU time; Debian package `time`) around the real `custody` binary
//! built by `cargo bench --bench memory`. Prints a table; also the wall time of each command.
//! The vault: `init` of 2 of alice/bob/carol with text share files and the default iteration
//! exponent; one binance credential.

use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

const TIME: &str = "/usr/bin/time";

/// Runs custody `args` in `dir` under GNU time; returns (max RSS in KiB, wall ms).
fn measure(dir: &Path, args: &[&str], stdin: Option<&str>) -> (u64, u128) {
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
        out.status.success(),
        "custody {args:?} failed: {}",
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

fn main() {
    if !Path::new(TIME).exists() {
        eprintln!("note: {TIME} (Debian package `time`) not installed; skipping the memory bench");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let json = r#"{"api_key":"AKEY-bench","api_secret":"SSEC-bench"}"#;
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
        let (kib, ms) = measure(dir, args, *stdin);
        println!(
            "{:<30} {:>8.1} MiB {:>7} ms",
            label,
            kib as f64 / 1024.0,
            ms
        );
    }
}
