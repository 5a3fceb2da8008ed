//! The audit log through the library and the CLI: a log of several ceremonies verifies; every
//! kind of tampering (edit, deletion, reordering, truncation, forged or missing signature,
//! records removed from the end against an anchored head) is detected and named by line;
//! concurrent appenders keep one valid chain.

use std::fs;
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use custody::audit::{
    self, AuditError, AuditLog, Ceremony, LogHead, Outcome, Problem, signed_message,
    split_signature,
};
use custody::clock::Clock;
use custody::input::Source;
use custody::keys::{DerivedKeys, hex};
use custody::quorum::Member;
use custody::testkit::{test_keys, vault_for};
use custody::vault::Vault;
use ed25519_dalek::Signer;
use predicates::str::contains;
use sha2::{Digest, Sha256};

mod common;
use common::custody;

struct Fx {
    _dir: tempfile::TempDir,
    vault_path: PathBuf,
    log_path: PathBuf,
    keys: DerivedKeys,
    vault: Vault,
}

fn fixture() -> Fx {
    let dir = tempfile::tempdir().unwrap();
    let vault_path = dir.path().join("fund.vault");
    let keys = test_keys(7);
    let vault = vault_for(&keys, 0x11);
    fs::write(&vault_path, vault.to_json()).unwrap();
    Fx {
        log_path: audit::log_path(&vault_path),
        _dir: dir,
        vault_path,
        keys,
        vault,
    }
}

fn member(name: &str, n: u8) -> Member {
    Member {
        label: format!("shares/0{n}-{name}.txt"),
        custodian: name.into(),
        group: "custodians".into(),
        group_index: 0,
        member_number: n,
        holders: 1,
        source: Source::ShareFile,
        signed: true,
    }
}

/// Three ceremonies, 13 lines: a signed drill (lines 1-6), a failed exec (7-9), a signed
/// drill (10-13).
fn three_ceremonies(fx: &Fx) -> LogHead {
    let log = AuditLog::open(&fx.vault_path).unwrap();
    let c = Ceremony::begin(&log, "drill", &fx.vault, Clock::system()).unwrap();
    c.share_accepted(&member("alice", 1)).unwrap();
    c.share_accepted(&member("bob", 2)).unwrap();
    c.note("purpose", "quarterly drill").unwrap();
    c.credentials_opened(&["kraken-trading".into()]).unwrap();
    c.succeed(&fx.keys, "quorum verified").unwrap();
    let c = Ceremony::begin(&log, "exec", &fx.vault, Clock::system()).unwrap();
    c.share_rejected("stdin", "it is stale").unwrap();
    c.fail("not enough shares").unwrap();
    let c = Ceremony::begin(&log, "drill", &fx.vault, Clock::system()).unwrap();
    c.share_accepted(&member("bob", 2)).unwrap();
    c.share_accepted(&member("carol", 3)).unwrap();
    c.succeed(&fx.keys, "quorum verified").unwrap()
}

fn lines(p: &Path) -> Vec<String> {
    fs::read_to_string(p)
        .unwrap()
        .lines()
        .map(String::from)
        .collect()
}

fn write_lines(p: &Path, l: &[String]) {
    let mut s = l.join("\n");
    s.push('\n');
    fs::write(p, s).unwrap();
}

fn problems(fx: &Fx) -> Vec<Problem> {
    match audit::verify(&fx.log_path, fx.vault.public_key()) {
        Err(AuditError::Tampered { problems, .. }) => problems,
        other => panic!("expected tampering to be found, got {other:?}"),
    }
}

fn messages(fx: &Fx) -> String {
    problems(fx)
        .iter()
        .map(|p| p.to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn several_ceremonies_verify() {
    let fx = fixture();
    let head = three_ceremonies(&fx);
    let r = audit::verify(&fx.log_path, fx.vault.public_key()).unwrap();
    assert_eq!(r.records, 13);
    assert_eq!(r.ceremonies.len(), 3);
    assert_eq!(r.head, head);
    assert_eq!(audit::head(&fx.log_path).unwrap(), head);
    assert_eq!(r.last_signed.unwrap().1, 13);
    assert_eq!(r.unsigned_tail(), 0);
    assert_eq!(r.ceremonies[1].outcome, Some(Outcome::Failed));
    assert_eq!(r.ceremonies[0].shares_accepted, ["alice", "bob"]);
    // Chain rule by hand: line 1's prev is zero, each prev is SHA-256 of the line before.
    let l = lines(&fx.log_path);
    assert!(l[0].contains(&format!("\"prev\":\"{}\"", "0".repeat(64))));
    for i in 1..l.len() {
        let want = hex(&Sha256::digest(l[i - 1].as_bytes()));
        assert!(
            l[i].contains(&format!("\"prev\":\"{want}\"")),
            "line {}",
            i + 1
        );
    }
    // Every record has the time (RFC 3339 UTC) and the host; seq runs 1..13.
    for (i, line) in l.iter().enumerate() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(v["seq"], (i + 1) as u64);
        assert!(v["time"].as_str().unwrap().ends_with('Z'));
        assert!(!v["host"].as_str().unwrap().is_empty());
    }
    assert!(l[0].contains("\"format\":\"custody-audit/1\""));
    assert!(l[0].contains(&fx.vault.fingerprint()));
}

#[test]
fn unfinished_ceremony_is_abandoned_and_reported_in_tail() {
    let fx = fixture();
    three_ceremonies(&fx);
    let log = AuditLog::open(&fx.vault_path).unwrap();
    {
        let c = Ceremony::begin(&log, "reshare", &fx.vault, Clock::system()).unwrap();
        c.share_accepted(&member("alice", 1)).unwrap();
    } // dropped: abandoned
    let c = Ceremony::begin(&log, "drill", &fx.vault, Clock::system()).unwrap();
    let r = audit::verify(&fx.log_path, fx.vault.public_key()).unwrap();
    let tail = r.tail_ceremonies();
    assert_eq!(tail.len(), 2);
    assert_eq!(tail[0].outcome, Some(Outcome::Abandoned));
    assert_eq!(tail[1].outcome, None);
    assert!(tail[1].status().contains("in progress"));
    assert_eq!(r.unsigned_tail(), 4);
    drop(c);
}

#[test]
fn edited_line_is_named() {
    let fx = fixture();
    three_ceremonies(&fx);
    let mut l = lines(&fx.log_path);
    l[2] = l[2].replace("\"bob\"", "\"mallory\"");
    write_lines(&fx.log_path, &l);
    let p = problems(&fx);
    assert_eq!(p, vec![Problem::ChainBroken { line: 4 }]);
    assert!(
        messages(&fx)
            .contains("line 4: hash chain broken — line 3 was edited or a line was removed")
    );
}

#[test]
fn edited_signed_line_breaks_its_signature() {
    let fx = fixture();
    three_ceremonies(&fx);
    let mut l = lines(&fx.log_path);
    l[5] = l[5].replace("quorum verified", "quorum verified, all fine");
    write_lines(&fx.log_path, &l);
    let p = problems(&fx);
    assert!(p.contains(&Problem::BadSignature { line: 6 }));
    assert!(p.contains(&Problem::ChainBroken { line: 7 }));
}

#[test]
fn deleted_middle_line_is_named() {
    let fx = fixture();
    three_ceremonies(&fx);
    let mut l = lines(&fx.log_path);
    l.remove(4);
    write_lines(&fx.log_path, &l);
    let m = messages(&fx);
    assert!(m.contains("seq jumps from 4 to 6"), "{m}");
    assert!(m.contains("record(s) deleted"), "{m}");
}

#[test]
fn reordered_lines_are_named() {
    let fx = fixture();
    three_ceremonies(&fx);
    let mut l = lines(&fx.log_path);
    l.swap(7, 8);
    write_lines(&fx.log_path, &l);
    let p = problems(&fx);
    assert!(p.contains(&Problem::SeqGap {
        line: 8,
        from: 7,
        to: 9
    }));
    assert!(p.contains(&Problem::SeqBackwards {
        line: 9,
        from: 9,
        to: 8
    }));
    assert!(messages(&fx).contains("reordered"));
}

#[test]
fn truncation_mid_line_is_named() {
    let fx = fixture();
    three_ceremonies(&fx);
    let bytes = fs::read(&fx.log_path).unwrap();
    fs::write(&fx.log_path, &bytes[..bytes.len() - 30]).unwrap();
    assert!(problems(&fx).contains(&Problem::Truncated { line: 13 }));
    assert!(messages(&fx).contains("file ends inside a record: truncated"));
    // Appending to a truncated log is refused rather than forking the chain.
    let log = AuditLog::open(&fx.vault_path).unwrap();
    assert!(matches!(
        Ceremony::begin(&log, "drill", &fx.vault, Clock::system()),
        Err(AuditError::Damaged { .. })
    ));
}

#[test]
fn removed_final_ceremony_is_found_only_against_an_anchored_head() {
    let fx = fixture();
    let head = three_ceremonies(&fx);
    let mut l = lines(&fx.log_path);
    l.truncate(9); // the whole signed third ceremony is gone
    write_lines(&fx.log_path, &l);
    // The chain alone cannot tell (documented limit) ...
    let r = audit::verify(&fx.log_path, fx.vault.public_key()).unwrap();
    assert_eq!(r.records, 9);
    // ... the anchored head can.
    match audit::verify_against_head(&fx.log_path, fx.vault.public_key(), &head) {
        Err(AuditError::Tampered { problems, .. }) => {
            assert!(
                problems[0]
                    .to_string()
                    .contains("records were removed from the end")
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn verify_against_head_accepts_a_longer_intact_log_and_rejects_a_rewrite() {
    let fx = fixture();
    let log = AuditLog::open(&fx.vault_path).unwrap();
    let c = Ceremony::begin(&log, "drill", &fx.vault, Clock::system()).unwrap();
    let anchored = c.succeed(&fx.keys, "ok").unwrap();
    three_ceremonies(&fx);
    audit::verify_against_head(&fx.log_path, fx.vault.public_key(), &anchored).unwrap();
    let other = LogHead {
        seq: anchored.seq,
        hash: [9; 32],
    };
    match audit::verify_against_head(&fx.log_path, fx.vault.public_key(), &other) {
        Err(AuditError::Tampered { problems, .. }) => {
            assert!(matches!(problems[0], Problem::HeadMismatch { line: 2, .. }))
        }
        r => panic!("{r:?}"),
    }
}

/// Re-sign line `i` (0-based) of the log with `key`, keeping its body.
fn resign(l: &mut [String], i: usize, key: &DerivedKeys) {
    let body = split_signature(&l[i]).map_or_else(|| l[i].clone(), |(b, _)| b);
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let seq = v["seq"].as_u64().unwrap();
    let prev: [u8; 32] = custody::keys::unhex(v["prev"].as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap();
    let sig = key
        .signing_key()
        .sign(&signed_message(seq, &prev, body.as_bytes()));
    let mut line = body.strip_suffix('}').unwrap().to_owned();
    line.push_str(&format!(
        ",\"sig\":\"{}\"}}",
        STANDARD.encode(sig.to_bytes())
    ));
    l[i] = line;
}

#[test]
fn forged_signature_is_named() {
    let fx = fixture();
    three_ceremonies(&fx);
    let mut l = lines(&fx.log_path);
    resign(&mut l, 5, &test_keys(8));
    write_lines(&fx.log_path, &l);
    let p = problems(&fx);
    assert!(p.contains(&Problem::BadSignature { line: 6 }));
    assert!(messages(&fx).contains("line 6: the signature does not verify"));
}

#[test]
fn appended_success_without_the_key_is_named() {
    let fx = fixture();
    three_ceremonies(&fx);
    let mut l = lines(&fx.log_path);
    // A well-chained record claiming success, appended by someone without the master key.
    let prev = hex(&Sha256::digest(l[12].as_bytes()));
    let id = serde_json::from_str::<serde_json::Value>(&l[11]).unwrap()["ceremony"]
        .as_str()
        .unwrap()
        .to_owned();
    l.push(format!(
        "{{\"seq\":14,\"prev\":\"{prev}\",\"time\":\"2026-01-01T00:00:00Z\",\"host\":\"x\",\
         \"ceremony\":\"{id}\",\"event\":\"outcome\",\"outcome\":\"succeeded\",\"summary\":\"ok\"}}"
    ));
    write_lines(&fx.log_path, &l);
    assert_eq!(problems(&fx), vec![Problem::UnsignedSuccess { line: 14 }]);
    assert!(messages(&fx).contains("claims a successful ceremony but is not signed"));
    // Signing it with another key does not help.
    resign(&mut l, 13, &test_keys(8));
    write_lines(&fx.log_path, &l);
    assert_eq!(problems(&fx), vec![Problem::BadSignature { line: 14 }]);
}

#[test]
fn succeed_refuses_another_key() {
    let fx = fixture();
    let log = AuditLog::open(&fx.vault_path).unwrap();
    let c = Ceremony::begin(&log, "drill", &fx.vault, Clock::system()).unwrap();
    assert!(matches!(
        c.succeed(&test_keys(8), "x"),
        Err(AuditError::WrongKey { .. })
    ));
    // The ceremony was dropped unfinished: recorded as abandoned, and the log is intact.
    let r = audit::verify(&fx.log_path, fx.vault.public_key()).unwrap();
    assert_eq!(r.ceremonies[0].outcome, Some(Outcome::Abandoned));
}

#[test]
fn concurrent_appenders_keep_one_chain() {
    let fx = fixture();
    std::thread::scope(|s| {
        for t in 0..8 {
            let fx = &fx;
            s.spawn(move || {
                let log = AuditLog::open(&fx.vault_path).unwrap();
                for _ in 0..3 {
                    let c = Ceremony::begin(&log, "drill", &fx.vault, Clock::system()).unwrap();
                    c.share_accepted(&member("alice", 1)).unwrap();
                    c.note("thread", &t.to_string()).unwrap();
                    if t % 2 == 0 {
                        c.succeed(&fx.keys, "ok").unwrap();
                    } else {
                        c.fail("drill stopped").unwrap();
                    }
                }
            });
        }
    });
    let r = audit::verify(&fx.log_path, fx.vault.public_key()).unwrap();
    assert_eq!(r.records, 8 * 3 * 4);
    assert_eq!(r.ceremonies.len(), 24);
    assert!(r.ceremonies.iter().all(|c| c.last_line - c.first_line >= 3));
}

#[test]
fn no_secret_fields_and_missing_log_is_empty() {
    let fx = fixture();
    let r = audit::verify(&fx.log_path, fx.vault.public_key()).unwrap();
    assert_eq!(r.records, 0);
    assert_eq!(audit::head(&fx.log_path).unwrap(), LogHead::genesis());
    three_ceremonies(&fx);
    let text = fs::read_to_string(&fx.log_path).unwrap();
    for forbidden in [
        "words",
        "token",
        "passphrase",
        "custody-share:",
        "AGE-SECRET-KEY",
    ] {
        assert!(!text.contains(forbidden), "{forbidden}");
    }
}

// --- CLI ---

#[test]
fn cli_verify_intact_and_show() {
    let fx = fixture();
    let head = three_ceremonies(&fx);
    custody()
        .args(["audit", "verify", "--vault"])
        .arg(&fx.vault_path)
        .assert()
        .success()
        .stdout(contains("Intact"))
        .stdout(contains("13 record(s), 3 ceremonies"))
        .stdout(contains(head.hash_hex()));
    custody()
        .args(["audit", "verify", "--vault"])
        .arg(&fx.vault_path)
        .arg("--anchor")
        .arg(format!("{}:{}", head.seq, head.hash_hex()))
        .assert()
        .success()
        .stdout(contains("anchored head is present"));
    custody()
        .args(["audit", "show", "--vault"])
        .arg(&fx.vault_path)
        .assert()
        .success()
        .stdout(contains("share accepted: alice"))
        .stdout(contains("failed: not enough shares"))
        .stdout(contains("[signed]"));
    let raw = fs::read(&fx.log_path).unwrap();
    custody()
        .args(["audit", "show", "--raw", "--vault"])
        .arg(&fx.vault_path)
        .assert()
        .success()
        .stdout(raw);
}

/// `audit show --json`: one `custody-audit-show/1` object holding every stored record as
/// stored, with the table's event and summary; a damaged log is shown (exit 0, as the table),
/// its unreadable line as null and its problems listed; a missing vault is a `custody-error/1`.
#[test]
fn cli_show_json_holds_every_record_and_the_summary() {
    let fx = fixture();
    three_ceremonies(&fx);
    let show = || {
        let out = custody()
            .args(["audit", "show", "--json", "--vault"])
            .arg(&fx.vault_path)
            .assert()
            .success()
            .get_output()
            .stdout
            .clone();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text.lines().count(), 1, "{text}");
        serde_json::from_str::<serde_json::Value>(&text).unwrap()
    };
    let stored = lines(&fx.log_path);
    let v = show();
    assert_eq!(v["format"], "custody-audit-show/1");
    assert_eq!(v["ok"], true);
    assert_eq!(v["truncated"], false);
    assert_eq!(v["problems"], serde_json::json!([]));
    let records = v["records"].as_array().unwrap();
    assert_eq!(records.len(), 13);
    for (i, (r, line)) in records.iter().zip(&stored).enumerate() {
        assert_eq!(r["line"], i + 1);
        let as_stored: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(r["stored"], as_stored, "line {}", i + 1);
    }
    assert!(
        records[1]["event"]
            .as_str()
            .unwrap()
            .contains("share accepted: alice")
    );
    assert!(
        records[8]["event"]
            .as_str()
            .unwrap()
            .contains("failed: not enough shares")
    );

    // Line 3 made unreadable, and a torn final line.
    let mut l = stored.clone();
    l[2] = "not a record".into();
    let mut text = l.join("\n");
    text.push_str("\n{\"seq\":14");
    fs::write(&fx.log_path, text).unwrap();
    let v = show();
    assert_eq!(v["ok"], false);
    assert_eq!(v["truncated"], true);
    let records = v["records"].as_array().unwrap();
    assert_eq!(records.len(), 13);
    assert_eq!(records[2]["stored"], serde_json::Value::Null);
    assert_eq!(records[2]["event"], serde_json::Value::Null);
    let problems: Vec<&str> = v["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    assert!(
        problems.iter().any(|p| p.contains("line 3")),
        "{problems:?}"
    );

    let out = custody()
        .args(["audit", "show", "--json", "--vault"])
        .arg(fx.vault_path.with_extension("missing"))
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["format"], "custody-error/1");
}

#[test]
fn cli_verify_names_each_problem() {
    let fx = fixture();
    let head = three_ceremonies(&fx);
    let mut l = lines(&fx.log_path);
    l[2] = l[2].replace("\"bob\"", "\"mallory\"");
    l.remove(8);
    write_lines(&fx.log_path, &l);
    custody()
        .args(["audit", "verify", "--vault"])
        .arg(&fx.vault_path)
        .assert()
        .code(1)
        .stdout(contains("NOT INTACT"))
        .stderr(contains("line 4: hash chain broken"))
        .stderr(contains("seq jumps from 8 to 10"));
    let mut l = lines(&fx.log_path);
    l.truncate(9);
    write_lines(&fx.log_path, &l);
    custody()
        .args(["audit", "verify", "--vault"])
        .arg(&fx.vault_path)
        .arg("--anchor")
        .arg(format!("{}:{}", head.seq, head.hash_hex()))
        .assert()
        .code(1)
        .stderr(contains("removed from the end"));
}
