//! custody reads back its own PDF sheets as share inputs: the token embedded in the sheet
//! (or, in a custody PDF without one, the printed words), for check-share and every command
//! that takes `--share`. Other PDFs are refused, saying what to give instead.

use std::fs;
use std::path::{Path, PathBuf};

use predicates::prelude::*;
use predicates::str::contains;

mod common;
use common::{custody, init_args};

struct Init {
    _dir: tempfile::TempDir,
    root: PathBuf,
    vault: PathBuf,
}

impl Init {
    fn pdf(&self, name: &str) -> PathBuf {
        self.root.join("sh").join(format!("{name}.pdf"))
    }
}

fn init() -> Init {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_owned();
    let vault = root.join("v.json");
    init_args(&mut custody(), &vault, &root.join("sh"), "2", "txt,pdf")
        .args(["--custodian", "alice", "bob", "carol"])
        .assert()
        .success();
    Init {
        _dir: dir,
        root,
        vault,
    }
}

fn check(vault: &Path, input: &Path) -> assert_cmd::assert::Assert {
    custody()
        .arg("check-share")
        .arg("--vault")
        .arg(vault)
        .arg(input)
        .assert()
}

#[test]
fn check_share_reads_custodys_pdf_sheet() {
    let i = init();
    check(&i.vault, &i.pdf("01-alice"))
        .success()
        .stdout(contains("alice — share 1 of group custodians"))
        .stdout(contains("token signature valid"));
}

#[test]
fn quorum_commands_take_pdf_sheets() {
    let i = init();
    custody()
        .arg("drill")
        .arg("--vault")
        .arg(&i.vault)
        .arg("--share")
        .arg(i.pdf("01-alice"))
        .arg("--share")
        .arg(i.pdf("03-carol"))
        .assert()
        .success()
        .stdout(contains("Drill passed"));
    // A reshare and its confirm, both from PDF sheets.
    custody()
        .arg("reshare")
        .arg("--vault")
        .arg(&i.vault)
        .arg("--share")
        .arg(i.pdf("02-bob"))
        .arg("--share")
        .arg(i.pdf("03-carol"))
        .arg("--out-dir")
        .arg(i.root.join("new"))
        .args([
            "--threshold",
            "2",
            "--custodian",
            "dan",
            "eve",
            "--sheets",
            "pdf",
        ])
        .assert()
        .success();
    custody()
        .arg("confirm")
        .arg("--vault")
        .arg(&i.vault)
        .arg("--share")
        .arg(i.root.join("new/01-dan.pdf"))
        .arg("--share")
        .arg(i.root.join("new/02-eve.pdf"))
        .assert()
        .success()
        .stdout(contains("Confirmed the reshare"));
}

/// A custody PDF whose token entry is missing (hand-edited, or cut out): the printed words
/// still give the share, unsigned.
#[test]
fn a_custody_pdf_without_its_token_falls_back_to_the_words() {
    let i = init();
    let bytes = fs::read(i.pdf("02-bob")).unwrap();
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let start = text
        .find("/CustodyShareToken (")
        .expect("the token is embedded");
    let end = start + text[start..].find(')').unwrap() + 1;
    let mut cut = bytes[..start].to_vec();
    cut.extend_from_slice(&bytes[end..]);
    let edited = i.root.join("bob-no-token.pdf");
    fs::write(&edited, &cut).unwrap();
    check(&i.vault, &edited)
        .success()
        .stdout(contains("share 2 of group custodians"))
        .stdout(contains("token signature valid").not());
}

#[test]
fn other_pdfs_are_refused_clearly() {
    let i = init();
    let foreign = i.root.join("scan.pdf");
    fs::write(
        &foreign,
        b"%PDF-1.7\n1 0 obj\n<< /Producer (Scanner 3000) >>\nendobj\ntrailer\n<< >>\n%%EOF\n",
    )
    .unwrap();
    check(&i.vault, &foreign)
        .code(1)
        .stdout(contains("FAIL  share"))
        .stdout(contains("a PDF custody did not write"))
        .stdout(contains("photo or scan of the printed sheet"));
    // A custody PDF with neither token nor words.
    let empty = i.root.join("empty.pdf");
    fs::write(
        &empty,
        b"%PDF-1.4\n9 0 obj\n<< /Title (x) /Producer (custody) >>\nendobj\n%%EOF\n",
    )
    .unwrap();
    check(&i.vault, &empty)
        .code(1)
        .stdout(contains("holds no share token and no share words"));
    // The same refusal where a quorum is read.
    custody()
        .arg("drill")
        .arg("--vault")
        .arg(&i.vault)
        .arg("--share")
        .arg(&foreign)
        .arg("--share")
        .arg(i.pdf("01-alice"))
        .assert()
        .code(1)
        .stderr(contains("a PDF custody did not write"));
}

#[test]
fn check_share_help_lists_every_accepted_input() {
    let out = custody().args(["check-share", "--help"]).assert().success();
    let help = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    for input in [
        "share file",
        "token file",
        "words",
        "PNG or JPEG",
        "custody's own PDF sheet",
    ] {
        assert!(help.contains(input), "{input:?} missing from:\n{help}");
    }
}
