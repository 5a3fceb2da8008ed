//! Custodian names: stored in NFC; invisible, bidirectional, control and odd spacing
//! characters refused; names that are one name after NFC and case folding refused; characters
//! the sheets cannot print refused with a printable label asked for instead; the same rules at
//! init, reshare and extend; sheet files named after their holder. Vaults written before these
//! rules keep working, and no sheet is printed that would not show its holder's name.

use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use custody::policy::{Custodian, Group, Policy};
use custody::testkit;
use custody::vault::store;
use predicates::prelude::*;
use predicates::str::contains;
use serde_json::Value;

mod common;
use common::init_args;

fn init(dir: &Path, names: &[&str]) -> Command {
    let mut c = common::custody();
    init_args(&mut c, &dir.join("vault.json"), &dir.join("sh"), "2", "txt")
        .arg("--custodian")
        .args(names);
    c
}

/// `init` with `names` is refused naming `shown` (as printed, escaped) and saying `rule`;
/// nothing is written.
fn refused(names: &[&str], shown: &str, rule: &str) {
    let dir = tempfile::tempdir().unwrap();
    let out = init(dir.path(), names).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(0), "{names:?} accepted");
    assert!(
        err.contains(shown) && err.contains(rule),
        "{names:?}: expected `{shown}` and `{rule}` in:\n{err}"
    );
    assert!(!dir.path().join("vault.json").exists(), "{names:?}");
    assert!(!dir.path().join("sh").exists(), "{names:?}");
}

#[test]
fn init_refuses_invisible_bidi_control_and_spacing_characters() {
    refused(&["bob", "bob\u{200B}"], "bob\\u200B", "invisible");
    refused(
        &["carol", "alice\u{202E}txt.exe"],
        "alice\\u202Etxt.exe",
        "bidirectional",
    );
    refused(&["carol", "al\u{2066}ice"], "al\\u2066ice", "bidirectional");
    refused(&["carol", "dave\u{FEFF}"], "dave\\uFEFF", "invisible");
    refused(&["carol", "er\u{AD}in"], "er\\u00ADin", "invisible");
    refused(&["carol", "x\u{1b}[2Jy"], "x\\u001B[2Jy", "control");
    refused(&["carol", "x\u{9b}y"], "x\\u009By", "control");
    refused(&["carol", "bob\u{A0}smith"], "U+00A0", "spac");
    refused(&["carol", "bob  smith"], "bob  smith", "spac");
    refused(&["carol", "..."], "...", "letter or digit");
}

#[test]
fn init_refuses_names_that_are_one_name_after_normalisation_and_case_folding() {
    refused(&["bob", "Bob", "carol"], "Bob", "same name");
    refused(&["é", "e\u{301}", "carol"], "U+0065 U+0301", "same name");
    refused(&["straße", "STRASSE", "carol"], "STRASSE", "same name");
}

#[test]
fn init_refuses_names_the_sheets_cannot_print_and_asks_for_a_latin_label() {
    refused(&["carol", "李伟"], "U+674E", "transliteration");
    refused(&["carol", "محمد"], "U+0645", "Latin");
    refused(&["carol", "dan😀"], "U+1F600", "cannot print");
    // Greek is in the PNG fonts but not in the PDF's encoding: not printable on every sheet.
    refused(&["carol", "Σοφία"], "U+03A3", "cannot print");
}

#[test]
fn init_stores_nfc_and_names_sheet_files_after_their_holders() {
    let dir = tempfile::tempdir().unwrap();
    init(dir.path(), &["e\u{301}mile", "Zoë", "Šárka", "Øystein"])
        .assert()
        .success();
    let v: Value =
        serde_json::from_str(&fs::read_to_string(dir.path().join("vault.json")).unwrap()).unwrap();
    let names: Vec<&str> = v["policy"]["groups"][0]["custodians"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["\u{E9}mile", "Zoë", "Šárka", "Øystein"]);
    let sh = dir.path().join("sh");
    for (file, name) in [
        ("01-emile.txt", "\u{E9}mile"),
        ("02-zoe.txt", "Zoë"),
        ("03-sarka.txt", "Šárka"),
        ("04-oystein.txt", "Øystein"),
    ] {
        assert_eq!(common::field(&sh.join(file), "custodian"), name);
    }
}

/// A vault initialised with alice, bob, carol (2 of 3), for the change commands.
struct Three {
    dir: tempfile::TempDir,
}

impl Three {
    fn new() -> Three {
        let dir = tempfile::tempdir().unwrap();
        init(dir.path(), &["alice", "bob", "carol"])
            .assert()
            .success();
        Three { dir }
    }

    fn vault(&self) -> PathBuf {
        self.dir.path().join("vault.json")
    }

    fn change(&self, command: &str) -> Command {
        let mut c = common::custody();
        let sh = self.dir.path().join("sh");
        c.arg(command)
            .arg("--vault")
            .arg(self.vault())
            .arg("--share")
            .arg(sh.join("01-alice.txt"))
            .arg("--share")
            .arg(sh.join("02-bob.txt"))
            .arg("--out-dir")
            .arg(self.dir.path().join("new"))
            .args(["--sheets", "txt"]);
        c
    }
}

#[test]
fn extend_and_reshare_apply_the_same_rules() {
    let v = Three::new();
    let before = fs::read(v.vault()).unwrap();
    for (names, shown, rule) in [
        (&["Alice"][..], "Alice", "same name"),
        (&["dave\u{200D}"][..], "dave\\u200D", "invisible"),
        (&["李"][..], "U+674E", "transliteration"),
    ] {
        let out = v
            .change("extend")
            .arg("--custodian")
            .args(names)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "extend {names:?}: {err}");
        assert!(
            err.contains(shown) && err.contains(rule),
            "extend {names:?}: {err}"
        );
    }
    for command in ["reshare", "rotate-master"] {
        v.change(command)
            .args(["--threshold", "2", "--custodian", "frank", "fr\u{202D}ank"])
            .assert()
            .code(1)
            .stderr(contains("fr\\u202Dank").and(contains("bidirectional")));
        v.change(command)
            .args([
                "--group",
                "Ops:2",
                "--group",
                "OPS:1",
                "--group-threshold",
                "1",
            ])
            .args(["--custodian", "Ops/frank", "Ops/gina", "OPS/hank"])
            .assert()
            .code(1)
            .stderr(contains("same name"));
    }
    assert_eq!(fs::read(v.vault()).unwrap(), before, "nothing written");
    assert!(!v.dir.path().join("new").exists());
    // A name in NFD joins in NFC.
    v.change("extend")
        .args(["--custodian", "Ame\u{301}lie"])
        .assert()
        .success();
    let j: Value = serde_json::from_str(&fs::read_to_string(v.vault()).unwrap()).unwrap();
    assert_eq!(
        j["policy"]["groups"][0]["custodians"][3]["name"],
        "Am\u{E9}lie"
    );
    assert_eq!(
        common::field(&v.dir.path().join("new/04-amelie.txt"), "custodian"),
        "Am\u{E9}lie"
    );
}

/// A vault written before the name rules: custodians `李伟` and `e` + U+0301, written with
/// their share files into a folder.
struct Old {
    dir: tempfile::TempDir,
}

impl Old {
    fn new() -> Old {
        let names = ["李伟", "e\u{301}", "bob"];
        let policy = Policy {
            group_threshold: 1,
            groups: vec![Group {
                name: "custodians".into(),
                member_threshold: 2,
                custodians: names
                    .iter()
                    .enumerate()
                    .map(|(i, n)| Custodian {
                        name: (*n).into(),
                        member_index: i as u8,
                    })
                    .collect(),
            }],
        };
        let tv = testkit::test_vault_for_policy(5, 6, 7, policy.clone());
        let dir = tempfile::tempdir().unwrap();
        store::create_new(
            &dir.path().join("vault.json"),
            tv.vault.to_json().as_bytes(),
            0o644,
        )
        .unwrap();
        let fp = tv.vault.fingerprint();
        for (i, t) in tv.tokens[0].iter().enumerate() {
            let text = custody::sharefile::render(t, &policy, &fp);
            fs::write(dir.path().join(format!("{}.txt", i + 1)), text).unwrap();
        }
        Old { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

#[test]
fn a_vault_written_before_the_rules_still_opens() {
    let old = Old::new();
    // A text editor that saved the share file in NFC changes its header, not its token.
    let p = old.path("2.txt");
    let text = fs::read_to_string(&p).unwrap();
    assert!(text.contains("custodian: e\u{301}\n"), "{text}");
    fs::write(
        &p,
        text.replace("custodian: e\u{301}\n", "custodian: \u{E9}\n"),
    )
    .unwrap();
    common::custody()
        .arg("check-share")
        .arg("--vault")
        .arg(old.path("vault.json"))
        .args([old.path("1.txt"), old.path("2.txt"), old.path("3.txt")])
        .assert()
        .success()
        .stdout(contains("李伟"));
    common::custody()
        .arg("drill")
        .arg("--vault")
        .arg(old.path("vault.json"))
        .arg("--share")
        .arg(old.path("1.txt"))
        .arg("--share")
        .arg(old.path("2.txt"))
        .assert()
        .success();
}

#[test]
fn no_sheet_is_printed_that_would_not_show_its_holder() {
    let old = Old::new();
    for format in ["pdf", "png"] {
        let out = old.path(&format!("li.{format}"));
        common::custody()
            .arg("sheet")
            .arg("--vault")
            .arg(old.path("vault.json"))
            .arg(old.path("1.txt"))
            .args(["--format", format, "-o"])
            .arg(&out)
            .assert()
            .code(1)
            .stderr(
                contains("李伟")
                    .and(contains("U+674E"))
                    .and(contains("reshare")),
            );
        assert!(!out.exists(), "{format}");
    }
    // bob's sheet prints (the other names in the policy line are not his to show).
    common::custody()
        .arg("sheet")
        .arg("--vault")
        .arg(old.path("vault.json"))
        .arg(old.path("3.txt"))
        .args(["--format", "pdf", "-o"])
        .arg(old.path("bob.pdf"))
        .assert()
        .success();
}
