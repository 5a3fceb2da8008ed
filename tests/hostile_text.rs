//! Text custody did not write never reaches the terminal as control sequences: a path, a
//! credential entry of an edited vault and a line of an edited audit log carrying ESC
//! sequences (screen clear, OSC 52 clipboard write), BEL, a carriage return and a bidi override
//! are printed escaped by every command that shows them.

use std::fs;
use std::path::PathBuf;

use serde_json::Value;

mod common;
use common::init_args;

/// The characters a terminal acts on that the hostile texts below carry.
const RAW: [char; 5] = ['\u{1b}', '\u{7}', '\r', '\u{202E}', '\u{9b}'];
const EVIL: &str = "x\u{1b}[2J\u{1b}]52;c;SGk=\u{7}\rok\u{202E}txt\u{9b}";

struct V {
    _dir: tempfile::TempDir,
    vault: PathBuf,
}

fn vault() -> V {
    let dir = tempfile::tempdir().unwrap();
    let vault = dir.path().join("vault.json");
    init_args(
        &mut common::custody(),
        &vault,
        &dir.path().join("sh"),
        "2",
        "txt",
    )
    .args(["--custodian", "alice", "bob", "carol"])
    .assert()
    .success();
    V { _dir: dir, vault }
}

/// Everything custody printed, checked to hold none of [`RAW`] and to show the escapes.
fn shown(out: &std::process::Output) -> String {
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    for c in RAW {
        assert!(!all.contains(c), "raw {c:?} printed:\n{all:?}");
    }
    all
}

#[test]
fn a_hostile_path_in_an_error_is_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(format!("{EVIL}.json"));
    let out = common::custody()
        .args(["creds", "list", "--vault"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let all = shown(&out);
    assert!(
        all.contains("\\u001B[2J") && all.contains("\\u202E"),
        "{all}"
    );
}

#[test]
fn a_hostile_entry_in_an_edited_vault_is_escaped() {
    let v = vault();
    common::custody()
        .args([
            "creds",
            "add",
            "bn",
            "--exchange",
            "binance",
            "--scope",
            "trade",
        ])
        .args(["--from-json", "-", "--vault"])
        .arg(&v.vault)
        .write_stdin(r#"{"api_key":"k","api_secret":"s"}"#)
        .assert()
        .success();
    let mut j: Value = serde_json::from_str(&fs::read_to_string(&v.vault).unwrap()).unwrap();
    // Edited by hand into what custody would never write: control sequences in its fields.
    j["credentials"]["entries"][0]["exchange"] = EVIL.into();
    fs::write(&v.vault, serde_json::to_string_pretty(&j).unwrap()).unwrap();
    for args in [["creds", "status"], ["creds", "list"]] {
        let out = common::custody()
            .args(args)
            .arg("--vault")
            .arg(&v.vault)
            .output()
            .unwrap();
        let all = shown(&out);
        assert!(all.contains("\\u001B"), "{args:?}: {all}");
    }
}

#[test]
fn a_hostile_line_in_an_edited_audit_log_is_escaped() {
    let v = vault();
    // A drill writes the log; then a record is edited by hand.
    let sh = v.vault.with_file_name("sh");
    common::custody()
        .args(["drill", "--vault"])
        .arg(&v.vault)
        .arg("--share")
        .arg(sh.join("01-alice.txt"))
        .arg("--share")
        .arg(sh.join("02-bob.txt"))
        .assert()
        .success();
    let log = v.vault.with_file_name("vault.json.audit");
    // A share's file name in a record, edited into control sequences (as JSON escapes).
    let escaped = serde_json::to_string(EVIL).unwrap();
    let text = fs::read_to_string(&log)
        .unwrap()
        .replace("01-alice.txt", &escaped[1..escaped.len() - 1]);
    fs::write(&log, text).unwrap();
    for sub in ["show", "verify"] {
        let out = common::custody()
            .args(["audit", sub, "--vault"])
            .arg(&v.vault)
            .output()
            .unwrap();
        let all = shown(&out);
        // `show` prints the edited record (escaped); `verify` names the broken line only.
        assert!(
            sub != "show" || all.contains("\\u001B"),
            "audit {sub}: {all}"
        );
    }
}
