//! Drill certificates: round trip, the text page, every field edit detected, another vault's
//! key and the wrong vault rejected, write-once files, and `custody verify-certificate`.

use std::fs;

use custody::audit::LogHead;
use custody::certificate::{
    CertError, Certificate, text_path, verify_certificate, write_certificate,
};
use custody::input::Source;
use custody::keys::DerivedKeys;
use custody::quorum::Member;
use custody::testkit::{test_keys, vault_for};
use custody::vault::Vault;
use predicates::str::contains;
use serde_json::Value;

mod common;
use common::custody;

fn member(name: &str, n: u8, source: Source) -> Member {
    Member {
        label: format!("{name}.txt"),
        custodian: name.into(),
        group: "custodians".into(),
        group_index: 0,
        member_number: n,
        holders: 1,
        source,
        signed: true,
    }
}

/// The certificates' time (2026-11-28T18:00:00Z).
const NOW: u64 = 1_795_888_800;

fn issue(vault: &Vault, k: &DerivedKeys) -> Certificate {
    Certificate::issue(
        vault,
        k,
        &[
            member("alice", 1, Source::ShareFile),
            member("carol", 3, Source::Image),
        ],
        2,
        &[
            ("kraken-trading".into(), Ok(())),
            ("binance-read".into(), Err("wrong recipient".into())),
        ],
        LogHead {
            seq: 42,
            hash: [0xab; 32],
        },
        NOW,
    )
    .unwrap()
}

#[test]
fn round_trip_and_text() {
    let k = test_keys(1);
    let v = vault_for(&k, 1);
    let c = issue(&v, &k);
    let json = c.to_json();
    let back = verify_certificate(&json, &v).unwrap();
    assert_eq!(back, c);
    assert_eq!(back.participants.len(), 2);
    assert_eq!(back.credentials[1].result, "failed: wrong recipient");
    assert_eq!(back.tool_version, env!("CARGO_PKG_VERSION"));
    let text = c.render_text();
    for needle in [
        "CUSTODY DRILL CERTIFICATE",
        v.fingerprint().as_str(),
        "alice (group custodians, share 1), presented as share file",
        "carol (group custodians, share 3), presented as image",
        "kraken-trading: opened",
        "binance-read: failed: wrong recipient",
        "seq 42",
        "Shares used     2",
    ] {
        assert!(text.contains(needle), "{needle} missing from\n{text}");
    }
    // Canonical bytes start with the domain; no credentials is fine.
    assert!(
        c.canonical_bytes()
            .starts_with(b"custody/v1/drill-certificate\0")
    );
    let empty = Certificate::issue(&v, &k, &[], 0, &[], LogHead::genesis(), NOW).unwrap();
    verify_certificate(&empty.to_json(), &v).unwrap();
    assert!(empty.render_text().contains("none opened"));
}

fn edit(json: &str, path: &[&str], f: impl FnOnce(&mut Value)) -> String {
    let mut v: Value = serde_json::from_str(json).unwrap();
    let mut cur = &mut v;
    for p in path {
        cur = match p.parse::<usize>() {
            Ok(i) => &mut cur[i],
            Err(_) => &mut cur[*p],
        };
    }
    f(cur);
    serde_json::to_string_pretty(&v).unwrap()
}

#[test]
fn every_field_edit_is_detected() {
    let k = test_keys(1);
    let v = vault_for(&k, 1);
    let json = issue(&v, &k).to_json();
    let s = |x: &str| Value::String(x.into());
    let cases: Vec<(&[&str], Value)> = vec![
        (&["vault_id"], s(&"22".repeat(16))),
        (&["fingerprint"], s("AAAA-BBBB-CCCC-DDDD")),
        (&["epoch"], Value::from(2)),
        (&["time"], s("2020-01-01T00:00:00Z")),
        (&["host"], s("elsewhere")),
        (&["tool_version"], s("9.9.9")),
        (&["shares_used"], Value::from(3)),
        (&["participants", "0", "custodian"], s("mallory")),
        (&["participants", "0", "group"], s("board")),
        (&["participants", "1", "member"], Value::from(2)),
        (&["participants", "0", "input"], s("token")),
        (&["credentials", "0", "name"], s("kraken-withdraw")),
        (&["credentials", "1", "result"], s("opened")),
        (&["audit_head", "seq"], Value::from(43)),
        (&["audit_head", "hash"], s(&"cd".repeat(32))),
    ];
    for (path, value) in cases {
        let edited = edit(&json, path, |x| *x = value.clone());
        let err = verify_certificate(&edited, &v).expect_err(&format!("edit of {path:?}"));
        match path[0] {
            "vault_id" | "fingerprint" => assert!(matches!(err, CertError::WrongVault { .. })),
            _ => {
                assert!(matches!(err, CertError::Forged), "{path:?}: {err}");
                assert!(err.to_string().contains("FORGED OR ALTERED"));
            }
        }
    }
    // Removing a participant or a credential, or replacing the signature.
    let fewer = edit(&json, &["participants"], |x| {
        x.as_array_mut().unwrap().pop();
    });
    assert!(matches!(
        verify_certificate(&fewer, &v),
        Err(CertError::Forged)
    ));
    let fewer = edit(&json, &["credentials"], |x| {
        x.as_array_mut().unwrap().remove(1);
    });
    assert!(matches!(
        verify_certificate(&fewer, &v),
        Err(CertError::Forged)
    ));
    let resigned = Certificate::issue(&v, &k, &[], 0, &[], LogHead::genesis(), NOW).unwrap();
    let sig = serde_json::from_str::<Value>(&resigned.to_json()).unwrap()["signature"].clone();
    let swapped = edit(&json, &["signature"], |x| *x = sig);
    assert!(matches!(
        verify_certificate(&swapped, &v),
        Err(CertError::Forged)
    ));
    // Syntax and format.
    assert!(matches!(
        verify_certificate(
            &edit(&json, &["format"], |x| *x =
                s("custody-drill-certificate/2")),
            &v
        ),
        Err(CertError::UnknownFormat(_))
    ));
    assert!(matches!(
        verify_certificate(&edit(&json, &["extra"], |x| *x = s("y")), &v),
        Err(CertError::Syntax(_))
    ));
    let e = verify_certificate("not json", &v).unwrap_err();
    assert!(matches!(e, CertError::Syntax(_)));
    // The JSON parser's error is the cause, not a copy of its text.
    let cause = std::error::Error::source(&e).unwrap();
    assert!(cause.downcast_ref::<serde_json::Error>().is_some());
    assert!(matches!(
        verify_certificate("{\"vault_id\": \"00\"}", &v),
        Err(CertError::NoFormat)
    ));
}

#[test]
fn another_vaults_key_and_the_wrong_vault_are_rejected() {
    let (ka, kb) = (test_keys(1), test_keys(2));
    let (va, vb) = (vault_for(&ka, 1), vault_for(&kb, 2));
    let cb = issue(&vb, &kb).to_json();
    // A genuine certificate of vault B checked against vault A.
    assert!(matches!(
        verify_certificate(&cb, &va),
        Err(CertError::WrongVault { .. })
    ));
    // Vault B's key, relabelled as vault A: a forgery.
    let relabelled = edit(&cb, &["vault_id"], |x| {
        *x = Value::String(va.vault_id_hex())
    });
    let relabelled = edit(&relabelled, &["fingerprint"], |x| {
        *x = Value::String(va.fingerprint())
    });
    assert!(matches!(
        verify_certificate(&relabelled, &va),
        Err(CertError::Forged)
    ));
    // Keys that are not the vault's cannot issue one.
    assert!(matches!(
        Certificate::issue(&va, &kb, &[], 0, &[], LogHead::genesis(), NOW),
        Err(CertError::WrongKey)
    ));
    // Same key, different vault id (a second vault made from the same master secret).
    let va2 = vault_for(&ka, 9);
    assert!(matches!(
        verify_certificate(&issue(&va, &ka).to_json(), &va2),
        Err(CertError::WrongVault { .. })
    ));
}

#[test]
fn write_certificate_writes_json_and_text_once() {
    let k = test_keys(1);
    let v = vault_for(&k, 1);
    let c = issue(&v, &k);
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("drill-2026Q1.json");
    let (json, txt) = write_certificate(&p, &c).unwrap();
    assert_eq!(txt, text_path(&p));
    assert_eq!(txt.file_name().unwrap(), "drill-2026Q1.json.txt");
    assert_eq!(fs::read_to_string(&json).unwrap(), c.to_json());
    assert_eq!(fs::read_to_string(&txt).unwrap(), c.render_text());
    assert!(matches!(
        write_certificate(&p, &c),
        Err(CertError::Exists(_))
    ));
    // A leftover .txt blocks too, and nothing is written.
    let q = dir.path().join("other.json");
    fs::write(text_path(&q), "old").unwrap();
    assert!(matches!(
        write_certificate(&q, &c),
        Err(CertError::Exists(_))
    ));
    assert!(!q.exists());
}

#[test]
fn cli_verify_certificate() {
    let k = test_keys(1);
    let v = vault_for(&k, 1);
    let dir = tempfile::tempdir().unwrap();
    let vault = dir.path().join("fund.vault");
    fs::write(&vault, v.to_json()).unwrap();
    let cert = dir.path().join("drill.json");
    write_certificate(&cert, &issue(&v, &k)).unwrap();
    custody()
        .arg("verify-certificate")
        .arg(&cert)
        .arg("--vault")
        .arg(&vault)
        .assert()
        .success()
        .stdout(contains("CUSTODY DRILL CERTIFICATE"))
        .stdout(contains("valid: signed by this vault's master key"));
    let forged = dir.path().join("forged.json");
    let text = fs::read_to_string(&cert)
        .unwrap()
        .replace("\"alice\"", "\"mallory\"");
    fs::write(&forged, text).unwrap();
    custody()
        .arg("verify-certificate")
        .arg(&forged)
        .arg("--vault")
        .arg(&vault)
        .assert()
        .code(1)
        .stderr(contains("FORGED OR ALTERED"));
    // Another vault.
    let kb = test_keys(2);
    let vb = vault_for(&kb, 2);
    let vault_b = dir.path().join("other.vault");
    fs::write(&vault_b, vb.to_json()).unwrap();
    custody()
        .arg("verify-certificate")
        .arg(&cert)
        .arg("--vault")
        .arg(&vault_b)
        .assert()
        .code(1)
        .stderr(contains("not this vault"));
}
