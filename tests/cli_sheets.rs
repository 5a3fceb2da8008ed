//! Sheets from the command line: `init --sheets`, `custody sheet` in every format, and shares
//! read back from pictures of the printed sheets (rasterised with poppler's pdftoppm, as a
//! printer and scanner would), including a full drill from three sheet images.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command as Std;

use predicates::str::contains;

mod common;
use common::{custody, field, have, init_args};

fn init(dir: &Path, sheets: &str) -> (PathBuf, PathBuf) {
    let vault = dir.join("vault.json");
    let shares = dir.join("shares");
    init_args(&mut custody(), &vault, &shares, "3", sheets)
        .args(["--custodian", "alice", "bob", "carol", "dave", "erin"])
        .assert()
        .success()
        .stdout(contains("scan every printed sheet back"));
    (vault, shares)
}

#[test]
fn init_writes_every_requested_format() {
    let dir = tempfile::tempdir().unwrap();
    let (_, shares) = init(dir.path(), "txt,pdf,png,svg");
    for base in ["01-alice", "03-carol", "05-erin"] {
        let pdf = fs::read(shares.join(format!("{base}.pdf"))).unwrap();
        assert!(pdf.starts_with(b"%PDF-"));
        let png = fs::read(shares.join(format!("{base}.png"))).unwrap();
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
        let svg = fs::read_to_string(shares.join(format!("{base}.svg"))).unwrap();
        assert!(svg.contains("<svg"));
        assert!(svg.contains(&base[3..]), "custodian name in the SVG text");
    }
    assert_eq!(fs::read_dir(&shares).unwrap().count(), 20);
}

#[test]
fn init_rejects_unknown_sheet_formats() {
    let dir = tempfile::tempdir().unwrap();
    custody()
        .arg("init")
        .arg("--vault")
        .arg(dir.path().join("v.json"))
        .arg("--out-dir")
        .arg(dir.path().join("s"))
        .args([
            "--threshold",
            "2",
            "--sheets",
            "pdf,docx",
            "--custodian",
            "a",
            "b",
        ])
        .assert()
        .code(2)
        .stderr(contains("docx"));
    assert!(!dir.path().join("v.json").exists());
}

#[test]
fn drill_from_three_sheet_images() {
    let dir = tempfile::tempdir().unwrap();
    let (vault, shares) = init(dir.path(), "png");
    assert!(!shares.join("01-alice.txt").exists());
    custody()
        .arg("drill")
        .arg("--vault")
        .arg(&vault)
        .arg("--share")
        .arg(shares.join("01-alice.png"))
        .arg("--share")
        .arg(shares.join("03-carol.png"))
        .arg("--share")
        .arg(shares.join("05-erin.png"))
        .assert()
        .success()
        .stdout(contains("Drill passed"))
        .stdout(contains("[image, signature verified]"));
}

#[test]
fn printed_pdf_scanned_back_checks_and_drills() {
    if !have("pdftoppm", "the test") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (vault, shares) = init(dir.path(), "txt,pdf");
    let mut photos = Vec::new();
    for (base, fmt) in [
        ("01-alice", "-jpeg"),
        ("02-bob", "-png"),
        ("04-dave", "-jpeg"),
    ] {
        let out = dir.path().join(format!("scan-{base}"));
        let st = Std::new("pdftoppm")
            .args(["-r", "150", fmt, "-singlefile"])
            .arg(shares.join(format!("{base}.pdf")))
            .arg(&out)
            .status()
            .unwrap();
        assert!(st.success());
        let ext = if fmt == "-png" { "png" } else { "jpg" };
        // Give the picture a misleading name: detection is by content.
        let photo = dir.path().join(format!("{base}-photo.dat"));
        fs::rename(out.with_extension(ext), &photo).unwrap();
        photos.push(photo);
    }
    let mut check = custody();
    check.arg("check-share").arg("--vault").arg(&vault);
    check.args(&photos);
    check
        .assert()
        .success()
        .stdout(contains("alice"))
        .stdout(contains("dave"));
    let mut drill = custody();
    drill.arg("drill").arg("--vault").arg(&vault).arg("--json");
    for p in &photos {
        drill.arg("--share").arg(p);
    }
    let out = drill.assert().success().get_output().stdout.clone();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["ok"], true);
    assert!(
        v["custodians"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["source"] == "image")
    );
}

#[test]
fn sheet_command_reprints_in_each_format() {
    let dir = tempfile::tempdir().unwrap();
    let (vault, shares) = init(dir.path(), "txt");
    let share = shares.join("02-bob.txt");
    for (fmt, magic) in [("pdf", &b"%PDF-"[..]), ("png", b"\x89PNG"), ("svg", b"<")] {
        let out = dir.path().join(format!("bob.{fmt}"));
        custody()
            .arg("sheet")
            .arg("--vault")
            .arg(&vault)
            .arg(&share)
            .args(["--format", fmt, "--paper", "letter", "-o"])
            .arg(&out)
            .assert()
            .success()
            .stdout(contains("bob's share"));
        assert!(fs::read(&out).unwrap().starts_with(magic), "{fmt}");
        // Never overwritten.
        custody()
            .arg("sheet")
            .arg("--vault")
            .arg(&vault)
            .arg(&share)
            .args(["--format", fmt, "-o"])
            .arg(&out)
            .assert()
            .code(1)
            .stderr(contains("already exists"));
    }
    // The reprinted PNG reads back as bob's share.
    custody()
        .arg("check-share")
        .arg("--vault")
        .arg(&vault)
        .arg(dir.path().join("bob.png"))
        .assert()
        .success()
        .stdout(contains("bob — share 2"));
}

#[test]
fn terminal_qr_is_drawn_and_needs_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let (vault, shares) = init(dir.path(), "txt");
    let out = custody()
        .arg("sheet")
        .arg("--vault")
        .arg(&vault)
        .arg(shares.join("01-alice.txt"))
        .args(["--format", "terminal"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains('█') || text.contains('▀') || text.contains('▄'));
    assert!(text.contains("alice — share 1 of group custodians"));
    assert!(!text.contains(&field(&shares.join("01-alice.txt"), "token")));
    // Standard output is a pipe here, not a terminal: no colour codes.
    assert!(!text.contains('\x1b'), "{text:?}");
}

#[test]
fn sheet_needs_a_token_and_the_right_vault() {
    let dir = tempfile::tempdir().unwrap();
    let (vault, shares) = init(dir.path(), "txt");
    let words = dir.path().join("words.txt");
    let text = fs::read_to_string(shares.join("01-alice.txt")).unwrap();
    fs::write(
        &words,
        text.lines()
            .find_map(|l| l.strip_prefix("words: "))
            .unwrap(),
    )
    .unwrap();
    custody()
        .arg("sheet")
        .arg("--vault")
        .arg(&vault)
        .arg(&words)
        .args(["-o"])
        .arg(dir.path().join("x.pdf"))
        .assert()
        .code(2)
        .stderr(contains("only words"));
    let other = tempfile::tempdir().unwrap();
    let (other_vault, _) = init(other.path(), "txt");
    custody()
        .arg("sheet")
        .arg("--vault")
        .arg(&other_vault)
        .arg(shares.join("01-alice.txt"))
        .args(["-o"])
        .arg(dir.path().join("y.pdf"))
        .assert()
        .code(2)
        .stderr(contains("another vault"));
    custody()
        .arg("sheet")
        .arg("--vault")
        .arg(&vault)
        .arg(shares.join("01-alice.txt"))
        .assert()
        .code(2)
        .stderr(contains("-o FILE"));
}

#[test]
fn pictures_without_a_share_point_to_the_words() {
    let dir = tempfile::tempdir().unwrap();
    let (vault, shares) = init(dir.path(), "txt");
    // A blank white PNG.
    let blank = dir.path().join("blank.png");
    let img = image::GrayImage::from_pixel(400, 300, image::Luma([255u8]));
    img.save(&blank).unwrap();
    // custody's own PDF sheet is a share input (tests/pdf_input.rs has the rest); the blank
    // picture still fails, pointing to the words.
    custody()
        .arg("sheet")
        .arg("--vault")
        .arg(&vault)
        .arg(shares.join("01-alice.txt"))
        .args(["--format", "pdf", "-o"])
        .arg(dir.path().join("a.pdf"))
        .assert()
        .success();
    custody()
        .arg("check-share")
        .arg("--vault")
        .arg(&vault)
        .arg(&blank)
        .arg(dir.path().join("a.pdf"))
        .assert()
        .code(1)
        .stdout(contains("blank.png"))
        .stdout(contains("--words-stdin"))
        .stdout(contains("a.pdf: alice"))
        .stdout(contains("FAIL  share").count(1));
}

#[test]
fn an_oversized_picture_is_refused_naming_it_its_size_and_the_cap() {
    let dir = tempfile::tempdir().unwrap();
    let (vault, shares) = init(dir.path(), "txt,png");
    // 11000 x 11000 declared in a small file: refused from its header, nothing decoded.
    let huge = dir.path().join("huge-scan.png");
    fs::write(&huge, common::uniform_png(11_000, 11_000, 0)).unwrap();
    custody()
        .arg("check-share")
        .arg("--vault")
        .arg(&vault)
        .arg(&huge)
        .arg(shares.join("02-bob.png"))
        .assert()
        .code(1)
        .stdout(contains("huge-scan.png"))
        .stdout(contains("11000x11000 pixels (121.0 million pixels)"))
        .stdout(contains("more than the 40.0 million pixels"))
        .stdout(contains("at 300 dpi"))
        .stdout(contains("--words-stdin"))
        // The realistic scan beside it (a 300 dpi A4 sheet of a real share) still reads.
        .stdout(contains("bob"));
}
