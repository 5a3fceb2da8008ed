//! `custody replace-custodian` end to end on real files: dave's sheet is lost, so alice, bob
//! and carol remove him (or replace him by fay); nothing changes until a threshold of the new
//! sheets is confirmed; then every old sheet (dave's included) is refused, the credentials open
//! with the new set, the reason is in the audit log, and the exchange keys to rotate are listed.
//! Refusals (unknown name, a policy that would break, no reason) come before any share is read.

use std::fs;
use std::path::PathBuf;

use assert_cmd::Command;
use predicates::prelude::*;
use predicates::str::contains;
use serde_json::Value;

mod common;
use common::init_args;

const T0: u64 = 1_790_000_000; // 2026-09-21
const DAY: u64 = 86_400;
const OLD: [&str; 5] = ["alice", "bob", "carol", "dave", "erin"];

fn custody(now: u64) -> Command {
    let mut c = common::custody();
    c.env("CUSTODY_FAKE_NOW", now.to_string());
    c
}

struct V {
    _dir: tempfile::TempDir,
    root: PathBuf,
    vault: PathBuf,
}

impl V {
    fn old(&self, n: usize) -> PathBuf {
        self.root.join(format!("sh/{n:02}-{}.txt", OLD[n - 1]))
    }

    fn fresh(&self, n: usize, name: &str) -> PathBuf {
        self.root.join(format!("new/{n:02}-{name}.txt"))
    }

    fn run(&self, now: u64, args: &[&str], shares: &[PathBuf]) -> Command {
        let mut c = custody(now);
        c.args(args).arg("--vault").arg(&self.vault);
        for s in shares {
            c.arg("--share").arg(s);
        }
        c
    }

    /// `replace-custodian --remove dave` by alice, bob, carol, new files in `new/`.
    fn replace(&self, now: u64, extra: &[&str]) -> Command {
        let mut c = self.run(
            now,
            &["replace-custodian"],
            &[self.old(1), self.old(2), self.old(3)],
        );
        c.arg("--out-dir")
            .arg(self.root.join("new"))
            .args(["--sheets", "txt"])
            .args(extra);
        c
    }

    fn json(&self) -> Value {
        serde_json::from_str(&fs::read_to_string(&self.vault).unwrap()).unwrap()
    }
}

/// A 3-of-5 vault (alice..erin) in `sh/` with two ratified credentials.
fn vault() -> V {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    let vault = root.join("vault.json");
    init_args(&mut custody(T0), &vault, &root.join("sh"), "3", "txt")
        .arg("--custodian")
        .args(OLD)
        .assert()
        .success();
    let v = V {
        _dir: dir,
        root,
        vault,
    };
    for (name, exchange) in [("binance-main", "binance"), ("kraken-hedge", "kraken")] {
        custody(T0)
            .args(["creds", "add", name, "--exchange", exchange])
            .args(["--scope", "trade", "--vault"])
            .arg(&v.vault)
            .args(["--from-json", "-"])
            .write_stdin(format!(
                r#"{{"api_key":"k-{name}","api_secret":"s-{name}"}}"#
            ))
            .assert()
            .success();
    }
    v.run(T0, &["drill", "--ratify"], &[v.old(1), v.old(2), v.old(3)])
        .assert()
        .success();
    v
}

#[test]
fn a_lost_sheet_is_revoked_by_a_master_rotation_that_confirm_completes() {
    let v = vault();
    let old_fp = v.json()["fingerprint"].as_str().unwrap().to_owned();
    let out = v
        .replace(T0 + DAY, &["--remove", "dave", "--reason", "sheet lost"])
        .assert()
        .success()
        .stdout(
            contains("Prepared the removal of dave from group custodians")
                .and(contains("(reason: sheet lost)"))
                .and(contains("epoch 1 -> 2"))
                .and(contains("2 resealed"))
                .and(contains("custodians: any 3 of 4 (alice, bob, carol, erin)"))
                .and(contains("new/04-erin.txt"))
                .and(contains("binance-main (binance)"))
                .and(contains("kraken-hedge (kraken)")),
        )
        .get_output()
        .stdout
        .clone();
    println!("{}", String::from_utf8_lossy(&out));
    assert!(!v.root.join("new/04-dave.txt").exists());
    assert_eq!(v.json()["pending_change"]["kind"], "rotate-master");

    // Nothing has taken effect: dave's sheet still drills with two others.
    v.run(T0 + DAY, &["drill"], &[v.old(4), v.old(1), v.old(2)])
        .assert()
        .success();

    let new = [
        v.fresh(1, "alice"),
        v.fresh(2, "bob"),
        v.fresh(3, "carol"),
        v.fresh(4, "erin"),
    ];
    let out = v
        .run(T0 + 2 * DAY, &["confirm"], &new[..3])
        .assert()
        .success()
        .stdout(
            contains("epoch 2 began")
                .and(contains("rotate these exchange keys at the exchange"))
                .and(contains("binance-main (binance)"))
                .and(contains("kraken-hedge (kraken)")),
        )
        .get_output()
        .stdout
        .clone();
    println!("{}", String::from_utf8_lossy(&out));
    assert_ne!(v.json()["fingerprint"].as_str().unwrap(), old_fp);

    // Every old sheet is refused, dave's among them; dave's alone opens nothing either.
    v.run(T0 + 3 * DAY, &["drill"], &[v.old(1), v.old(2), v.old(3)])
        .assert()
        .code(1)
        .stderr(contains("stale"));
    v.run(
        T0 + 3 * DAY,
        &["drill"],
        &[v.old(4), v.fresh(1, "alice"), v.fresh(2, "bob")],
    )
    .assert()
    .code(1)
    .stderr(contains("stale"));
    custody(T0 + 3 * DAY)
        .arg("check-share")
        .arg("--vault")
        .arg(&v.vault)
        .arg(v.old(4))
        .assert()
        .code(1);
    // The new set opens the resealed credentials.
    v.run(
        T0 + 3 * DAY,
        &["creds", "show", "binance-main", "--reveal"],
        &[v.fresh(2, "bob"), v.fresh(3, "carol"), v.fresh(4, "erin")],
    )
    .assert()
    .success()
    .stdout(contains("k-binance-main"));

    // The audit log verifies and records who left and why.
    custody(T0 + 3 * DAY)
        .args(["audit", "verify", "--vault"])
        .arg(&v.vault)
        .assert()
        .success();
    custody(T0 + 3 * DAY)
        .args(["audit", "show", "--vault"])
        .arg(&v.vault)
        .assert()
        .success()
        .stdout(
            contains("replace-custodian")
                .and(contains("sheet lost"))
                .and(contains("dave")),
        );
}

#[test]
fn a_departing_custodian_is_replaced_in_place_by_a_new_one() {
    let v = vault();
    v.replace(
        T0 + DAY,
        &[
            "--remove",
            "dave",
            "--add",
            "fay",
            "--reason",
            "left the firm",
        ],
    )
    .assert()
    .success()
    .stdout(
        contains("replacement of dave by fay")
            .and(contains("any 3 of 5 (alice, bob, carol, fay, erin)"))
            .and(contains("new/04-fay.txt")),
    );
    v.run(
        T0 + 2 * DAY,
        &["confirm"],
        &[v.fresh(4, "fay"), v.fresh(5, "erin"), v.fresh(1, "alice")],
    )
    .assert()
    .success();
    assert_eq!(
        v.json()["policy"]["groups"][0]["custodians"][3]["name"],
        "fay"
    );
}

#[test]
fn refusals_come_before_any_share_is_read_and_change_nothing() {
    let v = vault();
    let before = fs::read(&v.vault).unwrap();
    // A name the vault does not have: its custodians are listed.
    v.replace(T0 + DAY, &["--remove", "zed", "--reason", "sheet lost"])
        .assert()
        .code(1)
        .stderr(contains("no custodian named").and(contains("alice, bob, carol, dave, erin")));
    // No reason.
    v.replace(T0 + DAY, &["--remove", "dave", "--reason", " "])
        .assert()
        .code(1)
        .stderr(contains("reason is empty"));
    // A successor already in the vault.
    v.replace(
        T0 + DAY,
        &["--remove", "dave", "--add", "Erin", "--reason", "x"],
    )
    .assert()
    .code(1)
    .stderr(contains("used twice").or(contains("same name")));
    assert_eq!(fs::read(&v.vault).unwrap(), before);
    assert!(!v.root.join("new").exists());

    // A 3-of-3 vault cannot lose a custodian without a successor: it says why and what to do.
    let dir = tempfile::tempdir().unwrap();
    let small = dir.path().join("v.json");
    init_args(&mut custody(T0), &small, &dir.path().join("sh"), "3", "txt")
        .args(["--custodian", "a1", "b2", "c3"])
        .assert()
        .success();
    custody(T0 + DAY)
        .args(["replace-custodian", "--remove", "c3", "--reason", "left"])
        .arg("--vault")
        .arg(&small)
        .arg("--out-dir")
        .arg(dir.path().join("new"))
        .args(["--share", "nonexistent-share.txt"])
        .assert()
        .code(1)
        .stderr(
            contains("removing c3 from group custodians leaves a policy that cannot be used")
                .and(contains("needs 3 of its 2 custodians"))
                .and(contains("--add NAME")),
        );
}
