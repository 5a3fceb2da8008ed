//! `ops::drill` driven directly with real files: a drill that passes (with a certificate that
//! verifies), one that names the credential that does not open, ratification, a wrong share
//! named by the session, and the drill without a vault.

use std::fs;
use std::path::{Path, PathBuf};

use custody::certificate::verify_certificate;
use custody::clock::Clock;
use custody::input;
use custody::ops::creds::{self, NewCredential};
use custody::ops::drill::{self, DrillError, DrillOptions, Ratification};
use custody::ops::ratify::{Consent, Unasked};
use custody::ops::session::{Begun, Presentation, SessionError};
use custody::quorum::QuorumError;
use custody::testkit::{self, TestVault};
use custody::token::Token;
use custody::vault::credential::FieldName;
use custody::vault::seal::SecretFields;
use custody::vault::store::{self};
use serde_json::Value;

const NOW: u64 = testkit::CREATED + 86_400;

struct Fx {
    _dir: tempfile::TempDir,
    path: PathBuf,
    tv: TestVault,
}

fn fixture() -> Fx {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vault.json");
    let tv = testkit::test_vault(9, 4, 21, &[("", 2, &["alice", "bob", "carol"])], 1);
    store::create_new(&path, tv.vault.to_json().as_bytes(), 0o644).unwrap();
    Fx {
        _dir: dir,
        path,
        tv,
    }
}

/// Add a credential with the library's own operation: sealed, awaiting ratification.
fn add(path: &Path, name: &str, key: &str) {
    let new = NewCredential {
        name: name.into(),
        exchange: "binance".into(),
        scope: "trade".into(),
        ..NewCredential::default()
    };
    let mut f = SecretFields::default();
    f.set(FieldName::ApiKey, key.into());
    f.set(FieldName::ApiSecret, format!("{key}-secret"));
    creds::add(path, &new, &f, Clock::fixed(NOW)).unwrap();
}

fn presentation(tokens: &[&Token]) -> Presentation {
    let shares = tokens
        .iter()
        .enumerate()
        .map(|(i, t)| input::parse_text(&format!("share {}", i + 1), &t.to_text()).unwrap())
        .collect();
    Presentation {
        shares,
        ..Presentation::default()
    }
}

fn quorum(tv: &TestVault) -> Presentation {
    presentation(&[&tv.tokens[0][0], &tv.tokens[0][1]])
}

fn audit_text(path: &Path) -> String {
    fs::read_to_string(custody::audit::AuditLog::open(path).unwrap().path()).unwrap()
}

#[test]
fn drill_passes_and_certifies() {
    let fx = fixture();
    add(&fx.path, "a", "key-a");
    custody::ops::ratify::ratify(&fx.path, &fx.tv.keys, NOW, &mut Unasked).unwrap();
    let session = Begun::begin(&fx.path, "drill", Clock::fixed(NOW))
        .unwrap()
        .unlock(&quorum(&fx.tv))
        .unwrap();
    let options = DrillOptions { certificate: true };
    let r = drill::drill(session, options, None).unwrap();
    assert!(r.passed());
    assert!(r.verdict().is_ok());
    assert_eq!(r.credentials.len(), 1);
    assert_eq!(r.quorum.members.len(), 2);
    assert_eq!(r.quorum.fingerprint, fx.tv.vault.fingerprint());
    assert_eq!(r.quorum.secret_bytes, 32);
    assert!(matches!(&r.ratification, Some(Ratification::Waiting(w)) if w.pending.is_empty()));
    let cert = r.certificate.expect("a certificate");
    let vault = store::load(&fx.path).unwrap();
    verify_certificate(&cert.to_json(), &vault).unwrap();
    assert!(audit_text(&fx.path).contains("drill passed"));
}

#[test]
fn drill_lists_and_ratifies_what_waits() {
    let fx = fixture();
    add(&fx.path, "new", "key-new");
    let drill_with = |ratify: bool| {
        let session = Begun::begin(&fx.path, "drill", Clock::fixed(NOW))
            .unwrap()
            .unlock(&quorum(&fx.tv))
            .unwrap();
        let mut unasked = Unasked;
        let consent = ratify.then_some(&mut unasked as &mut dyn Consent);
        drill::drill(session, DrillOptions::default(), consent).unwrap()
    };
    let r = drill_with(false);
    assert!(
        matches!(&r.ratification, Some(Ratification::Waiting(w)) if w.pending.len() == 1),
        "{:?}",
        r.ratification
    );
    let r = drill_with(true);
    assert!(
        matches!(&r.ratification, Some(Ratification::Ratified(x)) if x.signed == Some(vec!["new".to_string()])),
        "{:?}",
        r.ratification
    );
    assert!(r.passed());
}

#[test]
fn drill_names_the_credential_that_does_not_open() {
    let fx = fixture();
    add(&fx.path, "a", "key-a");
    add(&fx.path, "b", "key-b");
    custody::ops::ratify::ratify(&fx.path, &fx.tv.keys, NOW, &mut Unasked).unwrap();
    // b's ciphertext put under a's entry.
    let mut j: Value = serde_json::from_slice(&fs::read(&fx.path).unwrap()).unwrap();
    let entries = j["credentials"]["entries"].as_array_mut().unwrap();
    let b = entries.iter().find(|e| e["name"] == "b").unwrap()["sealed"].clone();
    entries.iter_mut().find(|e| e["name"] == "a").unwrap()["sealed"] = b;
    fs::write(&fx.path, serde_json::to_vec(&j).unwrap()).unwrap();

    let session = Begun::begin(&fx.path, "drill", Clock::fixed(NOW))
        .unwrap()
        .unlock(&quorum(&fx.tv))
        .unwrap();
    let r = drill::drill(session, DrillOptions::default(), None).unwrap();
    assert!(!r.passed());
    assert_eq!(r.failed(), vec!["a"]);
    let e = r.verdict().unwrap_err();
    assert!(
        matches!(&e, DrillError::CredentialsFailed { names } if *names == ["a"]),
        "{e:?}"
    );
    assert!(audit_text(&fx.path).contains("did not open"));
}

#[test]
fn a_share_of_another_vault_is_named() {
    let fx = fixture();
    let other = testkit::test_vault(10, 5, 22, &[("", 2, &["alice", "bob", "carol"])], 1);
    let begun = Begun::begin(&fx.path, "drill", Clock::fixed(NOW)).unwrap();
    let e = begun
        .unlock(&presentation(&[&fx.tv.tokens[0][0], &other.tokens[0][1]]))
        .err()
        .unwrap();
    match &e {
        SessionError::Quorum(QuorumError::Rejected(list)) => {
            assert_eq!(list.len(), 1, "{list:?}");
            assert_eq!(list[0].0, "share 2");
        }
        e => panic!("expected the foreign share named, got {e:?}"),
    }
    // The failed ceremony and the refused share are recorded.
    let log = audit_text(&fx.path);
    assert!(log.contains("share 2"), "{log}");
}

#[test]
fn drill_without_a_vault_describes_the_keys() {
    let tv = testkit::test_vault(9, 4, 21, &[("", 2, &["alice", "bob", "carol"])], 1);
    let r = drill::drill_without_vault(&quorum(&tv)).unwrap();
    assert!(r.vault.is_none());
    assert_eq!(r.quorum.fingerprint, tv.vault.fingerprint());
    assert!(r.credentials.is_empty());
    assert!(r.ratification.is_none());
    // Too few shares: a typed quorum error.
    let e = drill::drill_without_vault(&presentation(&[&tv.tokens[0][0]]))
        .err()
        .unwrap();
    assert!(matches!(e, DrillError::Quorum(_)), "{e:?}");
}
