//! The audit log anchored in the vault: every successful quorum ceremony signs the log's head
//! (seq + hash) into the vault file, so that `audit verify` alone — with no head kept by hand —
//! detects the final signed records removed, the whole log deleted, a log of another vault put
//! in its place, and the anchor itself removed (the generation sidecar remembers it); and a
//! later ceremony does not move the anchor past a log that lost anchored records.

use std::fs;
use std::path::PathBuf;

use assert_cmd::Command;
use predicates::prelude::*;
use predicates::str::contains;
use serde_json::Value;

mod common;
use common::init_args;

const T0: u64 = 1_790_000_000;

fn custody() -> Command {
    let mut c = common::custody();
    c.env("CUSTODY_FAKE_NOW", T0.to_string());
    c
}

struct V {
    _dir: tempfile::TempDir,
    root: PathBuf,
    vault: PathBuf,
}

impl V {
    fn new(name: &str) -> V {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_path_buf();
        let vault = root.join(format!("{name}.json"));
        init_args(
            &mut custody(),
            &vault,
            &root.join(format!("{name}-sh")),
            "2",
            "txt",
        )
        .args(["--custodian", "alice", "bob", "carol"])
        .assert()
        .success();
        V {
            _dir: dir,
            root,
            vault,
        }
    }

    fn share(&self, n: usize) -> PathBuf {
        let stem = self.vault.file_stem().unwrap().to_str().unwrap().to_owned();
        let name = ["alice", "bob", "carol"][n - 1];
        self.root.join(format!("{stem}-sh/{n:02}-{name}.txt"))
    }

    fn drill(&self) -> Command {
        let mut c = custody();
        c.arg("drill").arg("--vault").arg(&self.vault);
        c.arg("--share").arg(self.share(1));
        c.arg("--share").arg(self.share(3));
        c
    }

    fn verify(&self) -> Command {
        let mut c = custody();
        c.args(["audit", "verify", "--vault"]).arg(&self.vault);
        c
    }

    fn log(&self) -> PathBuf {
        PathBuf::from(format!("{}.audit", self.vault.display()))
    }

    fn json(&self) -> Value {
        serde_json::from_str(&fs::read_to_string(&self.vault).unwrap()).unwrap()
    }

    fn lines(&self) -> Vec<String> {
        fs::read_to_string(self.log())
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    /// Keep the log's first `n` lines.
    fn cut_to(&self, n: usize) {
        let mut keep = self.lines()[..n].join("\n");
        keep.push('\n');
        fs::write(self.log(), keep).unwrap();
    }
}

#[test]
fn each_successful_ceremony_anchors_the_log_head_in_the_vault() {
    let v = V::new("fund");
    assert!(v.json().get("audit_anchor").is_none());
    v.drill().assert().success();
    let n = v.lines().len();
    let a = &v.json()["audit_anchor"];
    assert_eq!(a["seq"], n as u64);
    v.verify()
        .assert()
        .success()
        .stdout(contains(format!("anchored in the vault at seq {n}")));
    // A second drill moves the anchor to its own closing record.
    v.drill().assert().success();
    assert_eq!(v.json()["audit_anchor"]["seq"], v.lines().len() as u64);
    // A failed ceremony (too few shares) is recorded but cannot sign: the anchor stays.
    let before = v.json()["audit_anchor"].clone();
    custody()
        .arg("drill")
        .arg("--vault")
        .arg(&v.vault)
        .arg("--share")
        .arg(v.share(1))
        .assert()
        .code(1);
    assert_eq!(v.json()["audit_anchor"], before);
    v.verify().assert().success();
}

#[test]
fn removing_the_final_signed_ceremony_is_detected() {
    let v = V::new("fund");
    v.drill().assert().success();
    let first = v.lines().len();
    v.drill().assert().success();
    v.cut_to(first);
    v.verify()
        .assert()
        .code(1)
        .stdout(contains("NOT INTACT").and(contains("records were removed")));
}

#[test]
fn deleting_the_log_is_detected() {
    let v = V::new("fund");
    v.drill().assert().success();
    fs::remove_file(v.log()).unwrap();
    v.verify()
        .assert()
        .code(1)
        .stdout(contains("NOT INTACT").and(contains("records were removed")));
}

#[test]
fn a_log_from_another_vault_is_detected() {
    let v = V::new("fund");
    let other = V::new("other");
    v.drill().assert().success();
    other.drill().assert().success();
    other.drill().assert().success();
    fs::copy(other.log(), v.log()).unwrap();
    v.verify()
        .assert()
        .code(1)
        .stdout(contains("NOT INTACT").and(contains("is not the anchored record")));
}

#[test]
fn removing_the_anchor_from_the_vault_is_detected() {
    let v = V::new("fund");
    v.drill().assert().success();
    v.drill().assert().success();
    let first_ceremony_end = v.json()["audit_anchor"]["seq"].as_u64().unwrap();
    let mut j = v.json();
    j.as_object_mut().unwrap().remove("audit_anchor");
    fs::write(&v.vault, serde_json::to_string_pretty(&j).unwrap()).unwrap();
    v.cut_to(2);
    v.verify().assert().code(1).stdout(contains(format!(
        "the log ends at seq 2 but the anchored head is seq {first_ceremony_end}: records were \
         removed"
    )));
}

#[test]
fn an_edited_anchor_breaks_its_signature() {
    let v = V::new("fund");
    v.drill().assert().success();
    let mut j = v.json();
    let seq = j["audit_anchor"]["seq"].as_u64().unwrap();
    j["audit_anchor"]["seq"] = Value::from(seq - 1);
    fs::write(&v.vault, serde_json::to_string_pretty(&j).unwrap()).unwrap();
    v.verify()
        .assert()
        .code(1)
        .stderr(contains("audit_anchor").and(contains("does not verify")));
}

#[test]
fn a_ceremony_does_not_re_anchor_a_cut_log() {
    let v = V::new("fund");
    v.drill().assert().success();
    let first = v.lines().len();
    v.drill().assert().success();
    let anchored = v.json()["audit_anchor"].clone();
    v.cut_to(first);
    // The drill itself passes and is recorded, but the vault keeps the anchor as evidence.
    v.drill()
        .assert()
        .code(1)
        .stdout(contains("Drill passed"))
        .stderr(contains("no longer holds the record the vault anchored"));
    assert_eq!(v.json()["audit_anchor"], anchored);
    v.verify().assert().code(1);
}

/// Two ceremonies that close in one order and anchor in the other: the later anchor stands and
/// the earlier ceremony's anchoring is not an error (its record is covered by the chain).
#[test]
fn an_older_head_arriving_late_is_covered_not_an_error() {
    use custody::audit;
    use custody::vault::store;
    let v = V::new("fund");
    v.drill().assert().success();
    let first = audit::head(&v.log()).unwrap();
    v.drill().assert().success();
    let second = audit::head(&v.log()).unwrap();
    assert!(second.seq > first.seq);
    // Re-anchoring the first head needs the keys: take them from a quorum of the shares.
    let vault = store::load(&v.vault).unwrap();
    let shares: Vec<_> = [v.share(1), v.share(2)]
        .iter()
        .map(|p| custody::input::read_file(p).unwrap())
        .collect();
    let unlocked = custody::quorum::unlock(&shares, Some(&vault), None).unwrap();
    audit::anchor_in_vault(&v.vault, &unlocked.keys, first, T0).unwrap();
    assert_eq!(
        v.json()["audit_anchor"]["seq"].as_u64().unwrap(),
        second.seq
    );
}
