//! `custody rebuild-vault` end to end on real files: a 3-of-5 vault at epoch 2 is lost; three
//! sheets rebuild it with the same vault id, fingerprint and epoch; a drill with two other
//! custodians' sheets passes and names them; check-share names a custodian the rebuild could
//! not; the new audit log starts with the rebuild and verifies. It never overwrites, needs a
//! token (bare words cannot name the vault), and says when a group's size was assumed.

use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;
use predicates::str::contains;
use serde_json::Value;

mod common;
use common::init_args;

const T0: u64 = 1_790_000_000; // 2026-09-21
const DAY: u64 = 86_400;
const NAMES: [&str; 5] = ["alice", "bob", "carol", "dave", "erin"];

fn custody(now: u64) -> Command {
    let mut c = common::custody();
    c.env("CUSTODY_FAKE_NOW", now.to_string());
    c
}

fn json(path: &Path) -> Value {
    serde_json::from_str(&fs::read_to_string(path).unwrap()).unwrap()
}

struct Lost {
    _dir: tempfile::TempDir,
    root: PathBuf,
    /// The lost vault's JSON, read before it was lost.
    was: Value,
}

impl Lost {
    fn sheet(&self, n: usize) -> PathBuf {
        self.root.join(format!("new/{n:02}-{}.txt", NAMES[n - 1]))
    }

    fn rebuild(&self, out: &Path, sheets: &[usize], extra: &[&str]) -> Command {
        let mut c = custody(T0 + 5 * DAY);
        c.arg("rebuild-vault").arg("--out").arg(out).args(extra);
        for n in sheets {
            c.arg("--share").arg(self.sheet(*n));
        }
        c
    }
}

/// A 3-of-5 vault, reshared once (epoch 2, sheets in `new/`), then lost with its backup.
fn lost_vault() -> Lost {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    let vault = root.join("vault.json");
    init_args(&mut custody(T0), &vault, &root.join("sh"), "3", "txt")
        .arg("--custodian")
        .args(NAMES)
        .assert()
        .success();
    let mut c = custody(T0 + DAY);
    c.args(["reshare", "--vault"]).arg(&vault);
    for n in 1..=3 {
        c.arg("--share")
            .arg(root.join(format!("sh/{n:02}-{}.txt", NAMES[n - 1])));
    }
    c.arg("--out-dir")
        .arg(root.join("new"))
        .args(["--threshold", "3", "--sheets", "txt", "--custodian"])
        .args(NAMES)
        .assert()
        .success();
    let mut c = custody(T0 + 2 * DAY);
    c.args(["confirm", "--vault"]).arg(&vault);
    for n in 1..=3 {
        c.arg("--share")
            .arg(root.join(format!("new/{n:02}-{}.txt", NAMES[n - 1])));
    }
    c.assert().success();
    let was = json(&vault);
    assert_eq!(was["epoch"], 2);
    fs::remove_file(&vault).unwrap();
    let _ = fs::remove_file(root.join("vault.json.bak"));
    Lost {
        _dir: dir,
        root,
        was,
    }
}

#[test]
fn three_sheets_rebuild_the_lost_vault_and_the_others_are_named_once_they_come() {
    let l = lost_vault();
    let out = l.root.join("rebuilt.json");
    let printed = l
        .rebuild(&out, &[1, 2, 3], &["--members", "5"])
        .assert()
        .success()
        .stdout(
            contains("custodians: any 3 of 5 (alice, bob, carol, unknown-1.4, unknown-1.5)")
                .and(contains("Not recovered: the credentials")),
        )
        .get_output()
        .stdout
        .clone();
    println!("{}", String::from_utf8_lossy(&printed));
    let now = json(&out);
    for field in [
        "vault_id",
        "fingerprint",
        "epoch",
        "ed25519_public_key",
        "age_recipient",
    ] {
        assert!(l.was.get(field).is_some(), "{field}");
        assert_eq!(now.get(field), l.was.get(field), "{field}");
    }
    assert_eq!(now["slip39"], l.was["slip39"]);
    let printed = String::from_utf8_lossy(&printed).into_owned();
    assert!(printed.contains(l.was["fingerprint"].as_str().unwrap()));
    assert!(printed.contains(l.was["vault_id"].as_str().unwrap()));

    // A drill against the rebuilt vault with dave and erin passes and names them.
    let mut c = custody(T0 + 6 * DAY);
    c.args(["drill", "--vault"]).arg(&out);
    for n in [2, 4, 5] {
        c.arg("--share").arg(l.sheet(n));
    }
    let drilled = c
        .assert()
        .success()
        .stdout(
            contains("dave")
                .and(contains("erin"))
                .and(contains("epoch 2")),
        )
        .get_output()
        .stdout
        .clone();
    println!("{}", String::from_utf8_lossy(&drilled));
    // check-share names erin from her token.
    let checked = custody(T0 + 6 * DAY)
        .args(["check-share", "--vault"])
        .arg(&out)
        .arg(l.sheet(5))
        .assert()
        .success()
        .stdout(contains("erin"))
        .get_output()
        .stdout
        .clone();
    println!("{}", String::from_utf8_lossy(&checked));

    // The new audit log starts with the rebuild, signed, and verifies.
    custody(T0 + 6 * DAY)
        .args(["audit", "verify", "--vault"])
        .arg(&out)
        .assert()
        .success();
    custody(T0 + 6 * DAY)
        .args(["audit", "show", "--vault"])
        .arg(&out)
        .assert()
        .success()
        .stdout(contains("rebuild-vault").and(contains("rebuilt from 3 shares")));

    // Never over an existing vault (or log).
    let before = fs::read(&out).unwrap();
    l.rebuild(&out, &[3, 4, 5], &["--members", "5"])
        .assert()
        .code(1)
        .stderr(contains("exists").and(contains("never overwrites")));
    assert_eq!(fs::read(&out).unwrap(), before);
}

#[test]
fn without_sizes_a_group_ends_at_the_highest_member_presented() {
    let l = lost_vault();
    let out = l.root.join("rebuilt.json");
    l.rebuild(&out, &[1, 2, 4], &[]).assert().success().stdout(
        contains("any 3 of 4 (alice, bob, unknown-1.3, dave)")
            .and(contains("taken to have 4 custodians")),
    );
    // erin (member 5) is beyond it: refused, naming the member.
    custody(T0 + 6 * DAY)
        .args(["check-share", "--vault"])
        .arg(&out)
        .arg(l.sheet(5))
        .assert()
        .code(1);
}

#[test]
fn bare_words_cannot_name_the_vault() {
    let l = lost_vault();
    let words: Vec<PathBuf> = (1..=3)
        .map(|n| {
            let w = common::field(&l.sheet(n), "words");
            let p = l.root.join(format!("w{n}.txt"));
            fs::write(&p, w).unwrap();
            p
        })
        .collect();
    let out = l.root.join("rebuilt.json");
    let mut c = custody(T0 + 5 * DAY);
    c.arg("rebuild-vault").arg("--out").arg(&out);
    for w in &words {
        c.arg("--share").arg(w);
    }
    c.assert()
        .code(1)
        .stderr(contains("none of the shares carries a signed token"));
    assert!(!out.exists());
    // One token among them is enough: the words join the quorum.
    let mut c = custody(T0 + 5 * DAY);
    c.arg("rebuild-vault")
        .arg("--out")
        .arg(&out)
        .args(["--members", "5", "--share"])
        .arg(l.sheet(1))
        .arg("--share")
        .arg(&words[1])
        .arg("--share")
        .arg(&words[2]);
    c.assert().success().stdout(contains(
        "any 3 of 5 (alice, unknown-1.2, unknown-1.3, unknown-1.4, unknown-1.5)",
    ));
}
