//! Evidence from a drill, end to end on real files: the ceremony lands in the audit log (which
//! verifies offline), every credential is test-opened, a signed certificate is written and
//! verifies without a quorum, and tampering with either is caught.

use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;
use predicates::str::contains;

mod common;
use common::{custody, init_args};

struct Setup {
    _dir: tempfile::TempDir,
    root: PathBuf,
    vault: PathBuf,
}

impl Setup {
    fn share(&self, n: usize, name: &str) -> PathBuf {
        self.root.join("shares").join(format!("{n:02}-{name}.txt"))
    }
    fn drill(&self) -> Command {
        let mut c = custody();
        c.arg("drill").arg("--vault").arg(&self.vault);
        for (n, name) in [(1, "alice"), (2, "bob"), (3, "carol")] {
            c.arg("--share").arg(self.share(n, name));
        }
        c
    }
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    let vault = root.join("vault.json");
    init_args(&mut custody(), &vault, &root.join("shares"), "3", "txt")
        .args(["--custodian", "alice", "bob", "carol", "dave"])
        .assert()
        .success();
    custody()
        .args(["creds", "add", "--vault"])
        .arg(&vault)
        .args([
            "binance-main",
            "--exchange",
            "binance",
            "--scope",
            "read,trade",
            "--from-json",
            "-",
        ])
        .write_stdin(r#"{"api_key":"AKEY-evidence-1","api_secret":"SSECRET-evidence-1"}"#)
        .assert()
        .success();
    Setup {
        _dir: dir,
        root,
        vault,
    }
}

fn audit_lines(vault: &Path) -> Vec<serde_json::Value> {
    let mut p = vault.as_os_str().to_owned();
    p.push(".audit");
    fs::read_to_string(PathBuf::from(p))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn drill_records_ratifies_test_opens_and_certifies() {
    let s = setup();
    let cert = s.root.join("drill-cert.json");
    s.drill()
        .arg("--ratify")
        .arg("--certificate")
        .arg(&cert)
        .assert()
        .success()
        .stdout(contains("binance-main: opens"))
        .stdout(contains("recorded in the vault's audit log"))
        .stdout(contains("AKEY-evidence-1").not())
        .stdout(contains("SSECRET-evidence-1").not());
    let log = fs::read_to_string(format!("{}.audit", s.vault.display())).unwrap();
    assert!(log.contains("alice") && log.contains("carol"));
    assert!(!log.contains("SSECRET-evidence-1"));
    let records = audit_lines(&s.vault);
    assert!(
        records.iter().any(|r| r.get("sig").is_some()),
        "a signed closing record"
    );
    custody()
        .args(["audit", "verify", "--vault"])
        .arg(&s.vault)
        .assert()
        .success();
    custody()
        .arg("verify-certificate")
        .arg(&cert)
        .arg("--vault")
        .arg(&s.vault)
        .assert()
        .success()
        .stdout(contains("valid"))
        .stdout(contains("binance-main"));
    assert!(
        fs::read_to_string(format!("{}.txt", cert.display()))
            .unwrap()
            .contains("alice")
    );
    // A forged result in the certificate is detected.
    let text = fs::read_to_string(&cert).unwrap();
    let forged = s.root.join("forged.json");
    fs::write(&forged, text.replace("alice", "mallory")).unwrap();
    custody()
        .arg("verify-certificate")
        .arg(&forged)
        .arg("--vault")
        .arg(&s.vault)
        .assert()
        .code(1);
    // The certificate is never overwritten, and that is known before the ceremony: the
    // audit log and the vault stay as they were (no ratification, no record).
    custody()
        .args(["creds", "add", "--vault"])
        .arg(&s.vault)
        .args([
            "later",
            "--exchange",
            "binance",
            "--scope",
            "trade",
            "--from-json",
            "-",
        ])
        .write_stdin(r#"{"api_key":"k2","api_secret":"s2"}"#)
        .assert()
        .success();
    let (log_before, vault_before) = (audit_lines(&s.vault).len(), fs::read(&s.vault).unwrap());
    s.drill()
        .arg("--ratify")
        .arg("--certificate")
        .arg(&cert)
        .assert()
        .code(1)
        .stderr(contains("exists"));
    // A certificate in a folder that does not exist: refused before the ceremony too.
    s.drill()
        .arg("--certificate")
        .arg(s.root.join("no-such-folder/cert.json"))
        .assert()
        .code(1)
        .stderr(contains("cannot write"));
    assert_eq!(audit_lines(&s.vault).len(), log_before);
    assert_eq!(fs::read(&s.vault).unwrap(), vault_before);
}

#[test]
fn failed_ceremonies_are_recorded_and_the_log_detects_edits() {
    let s = setup();
    let mut c = custody();
    c.arg("drill").arg("--vault").arg(&s.vault);
    c.arg("--share").arg(s.share(1, "alice"));
    c.assert().code(1).stderr(contains("have 1 of 3"));
    let records = audit_lines(&s.vault);
    let text = serde_json::to_string(&records).unwrap();
    assert!(text.contains("have 1 of 3"), "{text}");
    s.drill().assert().success();
    custody()
        .args(["audit", "verify", "--vault"])
        .arg(&s.vault)
        .assert()
        .success();
    // Edit one record: the chain breaks and the line is named.
    let path = format!("{}.audit", s.vault.display());
    let log = fs::read_to_string(&path).unwrap();
    fs::write(&path, log.replacen("alice", "alicf", 1)).unwrap();
    custody()
        .args(["audit", "verify", "--vault"])
        .arg(&s.vault)
        .assert()
        .code(1)
        .stdout(contains("NOT INTACT"))
        .stdout(contains("hash chain broken"));
}

#[test]
fn a_damaged_credential_fails_the_drill_by_name() {
    let s = setup();
    s.drill().arg("--ratify").assert().success();
    // Replace the ciphertext with one sealed to another vault's recipient: it no longer opens.
    let other = setup();
    let mine: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&s.vault).unwrap()).unwrap();
    let theirs: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&other.vault).unwrap()).unwrap();
    let a = mine["credentials"]["entries"][0]["sealed"]
        .as_str()
        .unwrap()
        .to_owned();
    let b = theirs["credentials"]["entries"][0]["sealed"]
        .as_str()
        .unwrap()
        .to_owned();
    let text = fs::read_to_string(&s.vault).unwrap();
    let a_json = serde_json::to_string(&a).unwrap();
    let b_json = serde_json::to_string(&b).unwrap();
    assert!(text.contains(a_json.trim_matches('"')) || text.contains(&a_json));
    let edited = text.replace(&a_json[1..a_json.len() - 1], &b_json[1..b_json.len() - 1]);
    assert_ne!(edited, text);
    fs::write(&s.vault, edited).unwrap();
    s.drill()
        .assert()
        .code(1)
        .stdout(contains("binance-main: FAILED"))
        .stderr(contains("binance-main"));
}

#[test]
fn passphrase_and_words_share_standard_input() {
    let dir = tempfile::tempdir().unwrap();
    let vault = dir.path().join("v.json");
    let shares = dir.path().join("s");
    init_args(&mut custody(), &vault, &shares, "2", "txt")
        .args(["--passphrase-stdin", "--custodian", "a", "b", "c"])
        .write_stdin("open sesame\n")
        .assert()
        .success();
    let words = |f: &str| {
        fs::read_to_string(shares.join(f))
            .unwrap()
            .lines()
            .find_map(|l| l.strip_prefix("words: ").map(str::to_owned))
            .unwrap()
    };
    custody()
        .arg("drill")
        .arg("--vault")
        .arg(&vault)
        .args(["--passphrase-stdin", "--words-stdin"])
        .write_stdin(format!(
            "open sesame\n{}\n{}\n",
            words("01-a.txt"),
            words("03-c.txt")
        ))
        .assert()
        .success()
        .stdout(contains("Drill passed"));
}
