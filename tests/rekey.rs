//! Custodian changes end to end on real files: reshare and rotate-master (prepared, refused
//! before confirm, confirmed, old sheets then refused as stale with the date), cancel by either
//! set, one pending change at a time, confirm with too few or wrong shares, and extend (a new
//! share that combines with old ones).

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
const KEY: &str = "AKEY-rekey-5d3c-unique";
const SECRET: &str = "SSEC-rekey-81aa-unique";

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

const OLD: [&str; 5] = ["alice", "bob", "carol", "dave", "erin"];
const NEW: [&str; 3] = ["frank", "gina", "hank"];

impl V {
    /// `dir/NN-name.txt`.
    fn file(&self, dir: &str, n: usize, name: &str) -> PathBuf {
        self.root.join(format!("{dir}/{n:02}-{name}.txt"))
    }

    fn old(&self, n: usize) -> PathBuf {
        self.file("sh", n, OLD[n - 1])
    }

    fn fresh(&self, n: usize) -> PathBuf {
        self.file("new", n, NEW[n - 1])
    }

    /// `custody ARGS --vault V --share S...` at time `now`.
    fn run(&self, now: u64, args: &[&str], shares: &[PathBuf]) -> Command {
        let mut c = custody(now);
        c.args(args).arg("--vault").arg(&self.vault);
        for s in shares {
            c.arg("--share").arg(s);
        }
        c
    }

    fn drill(&self, shares: &[PathBuf]) -> Command {
        self.run(T0 + 10 * DAY, &["drill"], shares)
    }

    /// reshare / rotate-master by alice, bob, carol to frank, gina, hank (2 of 3) in `new/`.
    fn change(&self, now: u64, cmd: &str) -> Command {
        let mut c = self.run(now, &[cmd], &[self.old(1), self.old(2), self.old(3)]);
        c.arg("--out-dir")
            .arg(self.root.join("new"))
            .args(["--threshold", "2", "--sheets", "txt"])
            .args(["--custodian", "frank", "gina", "hank"]);
        c
    }

    fn json(&self) -> Value {
        serde_json::from_str(&fs::read_to_string(&self.vault).unwrap()).unwrap()
    }
}

/// A 3-of-5 vault (alice..erin) in `sh/`, iteration exponent 0.
fn vault() -> V {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    let vault = root.join("vault.json");
    init_args(&mut custody(T0), &vault, &root.join("sh"), "3", "txt")
        .arg("--custodian")
        .args(OLD)
        .assert()
        .success();
    V {
        _dir: dir,
        root,
        vault,
    }
}

/// The SLIP-39 words of a share file, alone in a file (a bare-words share, no token).
fn words_only(v: &V, share: &Path, out: &str) -> PathBuf {
    let text = fs::read_to_string(share).unwrap();
    let words = text
        .lines()
        .find_map(|l| l.strip_prefix("words: "))
        .unwrap_or_else(|| panic!("no words in {}", share.display()));
    assert!(words.split_whitespace().count() >= 20);
    let p = v.root.join(out);
    fs::write(&p, words).unwrap();
    p
}

#[test]
fn reshare_confirm_then_old_sheets_are_stale() {
    let v = vault();
    v.change(T0 + DAY, "reshare")
        .assert()
        .success()
        .stdout(contains("epoch 1 -> 2").and(contains("new/01-frank.txt")))
        .stdout(contains("still reconstruct the same master secret"));
    assert!(v.json()["pending_change"]["kind"] == "reshare");

    // Until confirm: the old set still drills; the new shares are refused as pending.
    v.drill(&[v.old(3), v.old(4), v.old(5)])
        .assert()
        .success()
        .stdout(contains("epoch 1"));
    v.drill(&[v.fresh(1), v.fresh(2)])
        .assert()
        .code(1)
        .stderr(contains("pending reshare").and(contains("not yet confirmed")));
    custody(T0 + DAY)
        .arg("check-share")
        .arg("--vault")
        .arg(&v.vault)
        .arg(v.fresh(3))
        .assert()
        .code(1)
        .stdout(contains("not yet confirmed"));

    // Confirm with too few new shares, or with old shares: refused, nothing changes.
    v.run(T0 + 2 * DAY, &["confirm"], &[v.fresh(1)])
        .assert()
        .code(1)
        .stderr(contains("have 1 of 2"));
    v.run(T0 + 2 * DAY, &["confirm"], &[v.old(1), v.old(2), v.old(3)])
        .assert()
        .code(1)
        .stderr(contains("CURRENT set"));
    assert_eq!(v.json()["epoch"], 1);

    // Confirm with two new shares.
    v.run(T0 + 2 * DAY, &["confirm"], &[v.fresh(1), v.fresh(3)])
        .assert()
        .success()
        .stdout(contains("epoch 2 began on 2026-09-23"));
    let j = v.json();
    assert_eq!(j["epoch"], 2);
    assert!(j.get("pending_change").is_none());
    assert_eq!(j["policy"]["groups"][0]["custodians"][2]["name"], "hank");

    // Old share files are stale, naming the date; the new set drills at epoch 2.
    v.drill(&[v.old(1), v.old(2), v.old(3)])
        .assert()
        .code(1)
        .stderr(contains("stale").and(contains("replaced on 2026-09-23")));
    v.drill(&[v.fresh(2), v.fresh(3)])
        .assert()
        .success()
        .stdout(contains("epoch 2"));
    let out = v
        .run(
            T0 + 10 * DAY,
            &["drill", "--json"],
            &[v.fresh(1), v.fresh(2)],
        )
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let d: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(d["epoch"], 2);
    // Bare words of the old set are from another share set (different identifier).
    let bare: Vec<PathBuf> = (1..=3)
        .map(|n| words_only(&v, &v.old(n), &format!("old{n}.words")))
        .collect();
    v.drill(&bare)
        .assert()
        .code(1)
        .stderr(contains("another share set"));
    // The audit log holds both ceremonies and verifies.
    custody(T0 + 10 * DAY)
        .args(["audit", "verify", "--vault"])
        .arg(&v.vault)
        .assert()
        .success();
    custody(T0 + 10 * DAY)
        .args(["audit", "show", "--vault"])
        .arg(&v.vault)
        .assert()
        .success()
        .stdout(contains("reshare prepared").and(contains("reshare confirmed")));
}

#[test]
fn rotate_master_reseals_and_old_shares_open_nothing() {
    let v = vault();
    let json = format!(r#"{{"api_key":"{KEY}","api_secret":"{SECRET}"}}"#);
    custody(T0)
        .args([
            "creds",
            "add",
            "main",
            "--exchange",
            "binance",
            "--scope",
            "trade",
        ])
        .arg("--vault")
        .arg(&v.vault)
        .args(["--from-json", "-"])
        .write_stdin(json)
        .assert()
        .success();
    v.run(T0, &["drill", "--ratify"], &[v.old(1), v.old(2), v.old(3)])
        .assert()
        .success();
    let old_fp = v.json()["fingerprint"].as_str().unwrap().to_owned();
    let old_sealed = v.json()["credentials"]["entries"][0]["sealed"].clone();

    let out = v
        .change(T0 + DAY, "rotate-master")
        .assert()
        .success()
        .stdout(contains("new fingerprint").and(contains("1 resealed")))
        .get_output()
        .clone();
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(!text.contains(KEY) && !text.contains(SECRET));
    let file = fs::read_to_string(&v.vault).unwrap();
    assert!(!file.contains(KEY) && !file.contains(SECRET));
    // Before confirm: the old set still opens the credential, the new one is refused.
    let target = v.root.join("child.out");
    let script = format!(
        "printf '%s|%s' \"$MAIN_API_KEY\" \"$MAIN_API_SECRET\" > {}",
        target.display()
    );
    let exec = |shares: &[PathBuf]| {
        let mut c = v.run(T0 + 3 * DAY, &["exec", "--cred", "main"], shares);
        c.args(["--", "sh", "-c", &script]);
        c
    };
    exec(&[v.old(1), v.old(4), v.old(5)]).assert().success();
    assert_eq!(
        fs::read_to_string(&target).unwrap(),
        format!("{KEY}|{SECRET}")
    );
    fs::remove_file(&target).unwrap();
    exec(&[v.fresh(1), v.fresh(2)])
        .assert()
        .code(1)
        .stderr(contains("pending rotate-master"));

    v.run(T0 + 2 * DAY, &["confirm"], &[v.fresh(2), v.fresh(3)])
        .assert()
        .success()
        .stdout(contains("Confirmed the rotate-master"));
    let j = v.json();
    assert_eq!(j["epoch"], 2);
    assert_ne!(j["fingerprint"].as_str().unwrap(), old_fp);
    assert_ne!(j["credentials"]["entries"][0]["sealed"], old_sealed);

    // The new set gets the same credential values; the credential is still ratified.
    exec(&[v.fresh(1), v.fresh(3)]).assert().success();
    assert_eq!(
        fs::read_to_string(&target).unwrap(),
        format!("{KEY}|{SECRET}")
    );
    // Old share files are stale (naming the date); old bare words open nothing.
    exec(&[v.old(1), v.old(2), v.old(3)])
        .assert()
        .code(1)
        .stderr(contains("stale").and(contains("replaced on 2026-09-23")));
    let bare: Vec<PathBuf> = (1..=3)
        .map(|n| words_only(&v, &v.old(n), &format!("old{n}.words")))
        .collect();
    exec(&bare)
        .assert()
        .code(1)
        .stderr(contains("another share set"));
    // Even combined without the vault, old words give a different key than the vault's.
    let out = custody(T0)
        .arg("drill")
        .args(
            bare.iter()
                .flat_map(|b| ["--share".as_ref(), b.as_os_str()]),
        )
        .arg("--json")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let d: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(d["fingerprint"].as_str().unwrap(), old_fp);
    assert_ne!(d["fingerprint"], j["fingerprint"]);
    // The audit log spans the rotation: records signed by the retired key still verify,
    // because the confirm ceremony (signed by the new key) names the key it retired.
    custody(T0)
        .args(["audit", "verify", "--vault"])
        .arg(&v.vault)
        .assert()
        .success()
        .stdout(contains("Intact"));
    let log_path = format!("{}.audit", v.vault.display());
    let log = fs::read_to_string(&log_path).unwrap();
    assert!(log.contains("\"retired_key\""));
    // Forging the handover (naming another key) breaks the chain and the signature.
    let retired_line = log.lines().find(|l| l.contains("\"retired_key\"")).unwrap();
    let forged = log.replace(
        retired_line,
        &retired_line.replacen("\"value\":\"", "\"value\":\"00", 1),
    );
    fs::write(&log_path, forged).unwrap();
    custody(T0)
        .args(["audit", "verify", "--vault"])
        .arg(&v.vault)
        .assert()
        .code(1);
}

#[test]
fn cancel_by_either_set_and_one_change_at_a_time() {
    let v = vault();
    v.change(T0 + DAY, "reshare").assert().success();
    // A second change is refused while one is pending (nothing is written).
    let mut c = v.run(
        T0 + DAY,
        &["rotate-master"],
        &[v.old(1), v.old(2), v.old(3)],
    );
    c.arg("--out-dir")
        .arg(v.root.join("other"))
        .args(["--threshold", "2", "--sheets", "txt"])
        .args(["--custodian", "x", "y"])
        .assert()
        .code(1)
        .stderr(contains("already waiting").and(contains("custody cancel")));
    assert!(!v.root.join("other").exists());
    // Cancel by the old set.
    v.run(T0 + DAY, &["cancel"], &[v.old(2), v.old(4), v.old(5)])
        .assert()
        .success()
        .stdout(contains("Cancelled the pending reshare"));
    assert!(v.json().get("pending_change").is_none());
    v.run(T0 + DAY, &["confirm"], &[v.fresh(1), v.fresh(2)])
        .assert()
        .code(1)
        .stderr(contains("no custodian change is pending"));
    // The cancelled set's shares are from another set now.
    v.drill(&[v.fresh(1), v.fresh(2)]).assert().code(1);

    // A rotate-master, cancelled by the new set.
    fs::remove_dir_all(v.root.join("new")).unwrap();
    v.change(T0 + 2 * DAY, "rotate-master").assert().success();
    v.run(T0 + 2 * DAY, &["cancel"], &[v.fresh(1), v.fresh(3)])
        .assert()
        .success()
        .stdout(contains("Cancelled the pending rotate-master"));
    let j = v.json();
    assert!(j.get("pending_change").is_none());
    assert_eq!(j["epoch"], 1);
    v.drill(&[v.old(1), v.old(2), v.old(3)]).assert().success();
    // Cancel with too few shares is refused.
    fs::remove_dir_all(v.root.join("new")).unwrap();
    v.change(T0 + 3 * DAY, "reshare").assert().success();
    v.run(T0 + 3 * DAY, &["cancel"], &[v.old(1), v.old(2)])
        .assert()
        .code(1)
        .stderr(contains("have 2 of 3"));
    assert!(v.json().get("pending_change").is_some());
}

#[test]
fn confirm_refuses_wrong_shares_and_edited_records() {
    let v = vault();
    v.change(T0 + DAY, "reshare").assert().success();
    // Shares of another vault are refused.
    let other = vault();
    v.run(T0 + DAY, &["confirm"], &[other.old(1), other.old(2)])
        .assert()
        .code(1)
        .stderr(contains("rejected"));
    // An edited pending record makes the vault refuse to load.
    let mut j = v.json();
    j["pending_change"]["policy"]["groups"][0]["member_threshold"] = Value::from(3);
    fs::write(&v.vault, serde_json::to_string_pretty(&j).unwrap()).unwrap();
    v.run(T0 + DAY, &["confirm"], &[v.fresh(1), v.fresh(2)])
        .assert()
        .code(1)
        .stderr(contains("pending_change").and(contains("signature does not verify")));
}

#[test]
fn extend_adds_a_custodian_whose_share_combines_with_old_ones() {
    let v = vault();
    v.run(T0 + DAY, &["extend"], &[v.old(1), v.old(2), v.old(3)])
        .args(["--custodian", "fiona", "--sheets", "txt", "--out-dir"])
        .arg(v.root.join("ext"))
        .assert()
        .success()
        .stdout(contains("Extended group custodians").and(contains("06-fiona.txt")));
    let fiona = v.file("ext", 6, "fiona");
    let j = v.json();
    let custodians = &j["policy"]["groups"][0]["custodians"];
    assert_eq!(custodians[5]["name"], "fiona");
    assert_eq!(custodians[5]["member_index"], 5);
    assert_eq!(j["epoch"], 1);
    // The new share with two old ones reconstructs the vault's key.
    v.drill(&[fiona.clone(), v.old(4), v.old(5)])
        .assert()
        .success()
        .stdout(contains("fiona").and(contains("Drill passed")));
    v.drill(&[v.old(1), fiona.clone(), v.old(3)])
        .assert()
        .success();
    // The vault lists them.
    custody(T0)
        .arg("check-share")
        .arg("--vault")
        .arg(&v.vault)
        .arg(&fiona)
        .assert()
        .success()
        .stdout(contains("fiona"));
    // Too few shares of the group, and more than 16 members, are refused.
    v.run(T0 + DAY, &["extend"], &[v.old(1), v.old(2)])
        .args(["--custodian", "gus", "--sheets", "txt", "--out-dir"])
        .arg(v.root.join("ext2"))
        .assert()
        .code(1);
    let many: Vec<String> = (0..11).map(|i| format!("m{i}")).collect();
    v.run(T0 + DAY, &["extend"], &[v.old(1), v.old(2), v.old(3)])
        .arg("--custodian")
        .args(&many)
        .args(["--sheets", "txt", "--out-dir"])
        .arg(v.root.join("ext3"))
        .assert()
        .code(1)
        .stderr(contains("at most 16"));
    assert!(!v.root.join("ext3").exists());
}

#[test]
fn extend_names_the_group_flag_when_the_group_is_unclear() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let vault = root.join("vault.json");
    custody(T0)
        .arg("init")
        .arg("--vault")
        .arg(&vault)
        .arg("--out-dir")
        .arg(root.join("sh"))
        .args([
            "--group",
            "Ops:2",
            "--group",
            "Board:2",
            "--group-threshold",
            "1",
        ])
        .args(["--iteration-exponent", "0", "--sheets", "txt"])
        .args(["--custodian", "Ops/alice", "Ops/bob", "Ops/carol"])
        .args(["--custodian", "Board/dave", "Board/erin"])
        .assert()
        .success();
    let extend = |group: Option<&str>| {
        let mut c = custody(T0 + DAY);
        c.args(["extend", "--vault"]).arg(&vault);
        for f in ["01-alice", "02-bob"] {
            c.arg("--share").arg(root.join(format!("sh/{f}.txt")));
        }
        if let Some(g) = group {
            c.args(["--group", g]);
        }
        c.args(["--custodian", "fay", "--sheets", "txt", "--out-dir"])
            .arg(root.join("ext"));
        c
    };
    extend(None)
        .assert()
        .code(2)
        .stderr(contains("several groups").and(contains("--group NAME")));
    extend(Some("Nope"))
        .assert()
        .code(2)
        .stderr(contains("no group `Nope`").and(contains("Ops, Board")));
    extend(Some("Board"))
        .assert()
        .code(1)
        .stderr(contains("needs at least 2 of its own shares"));
    assert!(!root.join("ext").exists());
    extend(Some("Ops"))
        .assert()
        .success()
        .stdout(contains("06-fay.txt"));
}

/// After a master rotation the old quorum's sheets must open nothing anywhere custody keeps a
/// copy: `.bak` holds the new state. The exchange keys themselves were readable under the old
/// master, so confirm lists them, and `creds status` flags each until `creds rotate` replaces it.
#[test]
fn after_rotate_master_the_backup_is_new_and_exchange_keys_are_flagged_until_rotated() {
    let v = vault();
    for name in ["main", "spare"] {
        custody(T0)
            .args(["creds", "add", name, "--exchange", "kraken"])
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
    let old_fp = v.json()["fingerprint"].as_str().unwrap().to_owned();
    v.change(T0 + DAY, "rotate-master").assert().success();
    v.run(T0 + 2 * DAY, &["confirm"], &[v.fresh(2), v.fresh(3)])
        .assert()
        .success()
        .stdout(
            contains("rotate these exchange keys at the exchange")
                .and(contains("main (kraken)"))
                .and(contains("spare (kraken)"))
                .and(contains("vault.json.bak now holds the new vault")),
        );
    let new_fp = v.json()["fingerprint"].as_str().unwrap().to_owned();
    assert_ne!(new_fp, old_fp);
    let bak: Value =
        serde_json::from_str(&fs::read_to_string(v.root.join("vault.json.bak")).unwrap()).unwrap();
    assert_eq!(bak["fingerprint"].as_str().unwrap(), new_fp);
    assert_eq!(v.json()["master_rotated"], "2026-09-23T14:13:20Z");

    let status = |now: u64| {
        let out = custody(now)
            .args(["creds", "status", "--vault"])
            .arg(&v.vault)
            .assert()
            .get_output()
            .clone();
        String::from_utf8(out.stdout).unwrap()
    };
    let s = status(T0 + 3 * DAY);
    let flag = "ROTATE AT EXCHANGE (sealed before master rotation on 2026-09-23)";
    let line = |s: &str, name: &str| {
        s.lines()
            .find(|l| l.trim_start().starts_with(name))
            .unwrap()
            .to_owned()
    };
    assert!(line(&s, "main").contains(flag), "{s}");
    assert!(line(&s, "spare").contains(flag), "{s}");
    custody(T0 + 3 * DAY)
        .args(["creds", "rotate", "main", "--vault"])
        .arg(&v.vault)
        .args(["--from-json", "-"])
        .write_stdin(r#"{"api_key":"k-main-2","api_secret":"s-main-2"}"#)
        .assert()
        .success();
    let s = status(T0 + 3 * DAY);
    assert!(!line(&s, "main").contains("ROTATE AT EXCHANGE"), "{s}");
    assert!(line(&s, "spare").contains(flag), "{s}");
    let out = custody(T0 + 3 * DAY)
        .args(["creds", "status", "--json", "--vault"])
        .arg(&v.vault)
        .assert()
        .get_output()
        .stdout
        .clone();
    let j: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(j["rotate_at_exchange"], serde_json::json!(["spare"]));

    // The rotation date is signed with the manifest: removing it is tampering.
    let mut edited = v.json();
    edited.as_object_mut().unwrap().remove("master_rotated");
    fs::write(&v.vault, serde_json::to_string_pretty(&edited).unwrap()).unwrap();
    custody(T0 + 3 * DAY)
        .args(["creds", "status", "--vault"])
        .arg(&v.vault)
        .assert()
        .code(1)
        .stderr(contains("signature does not verify"));
}

/// A drill certificate signed before a master rotation stays verifiable after it: the audit
/// log beside the vault records, signed by the new key, which key the rotation retired.
#[test]
fn a_certificate_from_before_rotate_master_still_verifies() {
    let v = vault();
    let cert = v.root.join("drill-2026q3.json");
    v.run(T0, &["drill"], &[v.old(1), v.old(2), v.old(3)])
        .arg("--certificate")
        .arg(&cert)
        .assert()
        .success();
    let old_fp = v.json()["fingerprint"].as_str().unwrap().to_owned();
    v.change(T0 + DAY, "rotate-master").assert().success();
    v.run(T0 + 2 * DAY, &["confirm"], &[v.fresh(2), v.fresh(3)])
        .assert()
        .success();
    let check = || {
        let mut c = custody(T0 + 3 * DAY);
        c.arg("verify-certificate")
            .arg(&cert)
            .arg("--vault")
            .arg(&v.vault);
        c
    };
    check().assert().success().stdout(
        contains("valid: signed by this vault's master key of epoch 1")
            .and(contains(format!("fingerprint {old_fp}")))
            .and(contains("retired on 2026-09-23")),
    );
    // Without the log that records the handover, the old key cannot be vouched for: custody
    // says so instead of calling the certificate another vault's.
    fs::rename(
        format!("{}.audit", v.vault.display()),
        v.root.join("elsewhere.audit"),
    )
    .unwrap();
    check().assert().code(1).stderr(
        contains("signed by an earlier master key of this vault")
            .and(contains(&old_fp))
            .and(contains("not this vault").not()),
    );
    // A certificate of this vault edited after signing is still forged.
    fs::rename(
        v.root.join("elsewhere.audit"),
        format!("{}.audit", v.vault.display()),
    )
    .unwrap();
    let text = fs::read_to_string(&cert).unwrap();
    fs::write(
        &cert,
        text.replacen("\"shares_used\": 3", "\"shares_used\": 2", 1),
    )
    .unwrap();
    check()
        .assert()
        .code(1)
        .stderr(contains("FORGED OR ALTERED"));
}
