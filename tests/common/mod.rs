//! Helpers shared by the integration tests: the `custody` binary as a command, the check for an
//! external tool (required under CI, otherwise its part of a test is skipped), the quick `init`
//! arguments, and reading a `key: value` line of a share file; [`pty`] runs a program on a
//! pseudo-terminal.
#![allow(dead_code)] // each test file uses only some of these

pub mod agent;
pub mod exchange_mock;
pub mod pty;

use std::fs;
use std::path::Path;

use assert_cmd::Command;

/// The `custody` binary, with `CUSTODY_VAULT` removed so the caller's environment cannot leak in.
pub fn custody() -> Command {
    let mut c = Command::cargo_bin("custody").unwrap();
    c.env_remove("CUSTODY_VAULT");
    c
}

/// Whether `tool` is on the PATH. Under CI (`CI` set) a missing tool fails the test; otherwise
/// a note says what is `skipped` and the caller skips it.
pub fn have(tool: &str, skipped: &str) -> bool {
    let found = std::process::Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "{tool} is required when CI is set"
        );
        eprintln!("note: {tool} not installed; skipping {skipped}");
    }
    found
}

/// `init --vault VAULT --out-dir OUT_DIR --threshold THRESHOLD --iteration-exponent 0 --sheets
/// SHEETS` on `cmd` (iteration exponent 0 keeps tests quick); the caller adds the custodians.
pub fn init_args<'c>(
    cmd: &'c mut Command,
    vault: &Path,
    out_dir: &Path,
    threshold: &str,
    sheets: &str,
) -> &'c mut Command {
    cmd.arg("init")
        .arg("--vault")
        .arg(vault)
        .arg("--out-dir")
        .arg(out_dir)
        .args([
            "--threshold",
            threshold,
            "--iteration-exponent",
            "0",
            "--sheets",
            sheets,
        ])
}

/// A 2-of-3 vault of alice, bob and carol made by `init` in a new temporary folder:
/// `DIR/fund.vault`, its share files `DIR/sh/01-alice.txt` .. `DIR/sh/03-carol.txt`.
pub fn vault_2_of_3() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let vault = dir.path().join("fund.vault");
    init_args(&mut custody(), &vault, &dir.path().join("sh"), "2", "txt")
        .args(["--custodian", "alice", "bob", "carol"])
        .assert()
        .success();
    (dir, vault)
}

/// The value of the `key: value` line of the text file at `path`.
pub fn field(path: &Path, key: &str) -> String {
    let text = fs::read_to_string(path).unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{key}: ")))
        .unwrap_or_else(|| panic!("no {key} in {}", path.display()))
        .to_owned()
}

/// A token-shaped text (the `custody-share:` prefix and 220 bytes from a ChaCha20 RNG seeded
/// with `seed`, base64url) for sheets that only need something of a real token's size.
pub fn token_text(seed: u64) -> String {
    use base64::Engine as _;
    use rand_chacha::ChaCha20Rng;
    use rand_chacha::rand_core::{RngCore, SeedableRng};

    let mut bytes = [0u8; 220];
    ChaCha20Rng::seed_from_u64(seed).fill_bytes(&mut bytes);
    format!(
        "custody-share:{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

/// A `w × h` PNG of one gray level, written row by row: a uniform picture compresses to a few
/// hundred KB whatever its declared size (20000 x 20000: ~400 KB).
pub fn uniform_png(w: u32, h: u32, level: u8) -> Vec<u8> {
    use std::io::Write;
    let mut out = Vec::new();
    let mut enc = png::Encoder::new(&mut out, w, h);
    enc.set_color(png::ColorType::Grayscale);
    enc.set_depth(png::BitDepth::Eight);
    enc.set_compression(png::Compression::Fast);
    enc.set_filter(png::Filter::NoFilter);
    let mut writer = enc.write_header().unwrap();
    let mut stream = writer.stream_writer().unwrap();
    let row = vec![level; w as usize];
    for _ in 0..h {
        stream.write_all(&row).unwrap();
    }
    stream.finish().unwrap();
    writer.finish().unwrap();
    out
}
