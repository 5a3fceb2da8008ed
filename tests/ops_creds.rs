//! The credential operations driven through the library (`custody::ops::creds`) on real
//! vault files in a temporary folder: add, rotate, status, show, reveal, remove and rename,
//! and their refusals matched as typed errors. `tests/creds.rs` checks the command line's
//! wording; this file checks the rules.

use std::fs;
use std::path::{Path, PathBuf};

use custody::clock::Clock;
use custody::input;
use custody::ops::creds::{self, CredError, NewCredential, Rotation};
use custody::ops::ratify;
use custody::ops::session::{Begun, Presentation, Session};
use custody::testkit::{self, TestVault};
use custody::vault::credential::{Credential, EntryError, FieldName, Pending, Scope};
use custody::vault::ratify::{EntryState, RecordState};
use custody::vault::seal::{SealError, SecretFields};
use custody::vault::store::{self, StoreError};
use custody::vault::{CredentialSet, SetError};
use serde_json::Value;

const T0: u64 = 1_790_000_000;

fn clock() -> Clock {
    Clock::fixed(T0)
}

struct Fixture {
    _dir: tempfile::TempDir,
    path: PathBuf,
    tv: TestVault,
}

/// A vault of 2 of alice, bob, carol written to a temporary folder.
fn fixture() -> Fixture {
    let tv = testkit::test_vault(
        7,
        3,
        11,
        &[("custodians", 2, &["alice", "bob", "carol"])],
        1,
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vault.json");
    store::create_new(&path, tv.vault.to_json().as_bytes(), 0o644).unwrap();
    Fixture {
        _dir: dir,
        path,
        tv,
    }
}

impl Fixture {
    /// A quorum session (alice and carol) on the vault.
    fn session(&self, action: &str) -> Session {
        let shares = [0, 2]
            .iter()
            .map(|&i| {
                let t = &self.tv.tokens[0][i];
                input::parse_text(&format!("share {i}"), &t.to_text()).unwrap()
            })
            .collect();
        let begun = Begun::begin(&self.path, action, clock()).unwrap();
        begun
            .unlock(&Presentation {
                shares,
                ..Presentation::default()
            })
            .unwrap()
    }

    fn add(&self, name: &str) -> Result<creds::Added, CredError> {
        creds::add(
            &self.path,
            &new(name, "binance", "read,trade"),
            &fields("k", "s"),
            clock(),
        )
    }

    fn ratify(&self) {
        ratify::ratify(&self.path, &self.tv.keys, T0, &mut ratify::Unasked).unwrap();
    }

    fn json(&self) -> Value {
        serde_json::from_str(&fs::read_to_string(&self.path).unwrap()).unwrap()
    }

    fn write_json(&self, v: &Value) {
        fs::write(&self.path, serde_json::to_string_pretty(v).unwrap()).unwrap();
    }

    fn status(&self) -> creds::Status {
        creds::status(&self.path, clock()).unwrap()
    }
}

fn new(name: &str, exchange: &str, scope: &str) -> NewCredential {
    NewCredential {
        name: name.into(),
        exchange: exchange.into(),
        scope: scope.into(),
        ..NewCredential::default()
    }
}

fn fields(k: &str, s: &str) -> SecretFields {
    SecretFields::from_json(format!(r#"{{"api_key":"{k}","api_secret":"{s}"}}"#).as_bytes())
        .unwrap()
}

fn rotation(name: &str) -> Rotation {
    Rotation {
        name: name.into(),
        ..Rotation::default()
    }
}

fn sibling(p: &Path, suffix: &str) -> PathBuf {
    let mut s = p.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

#[test]
fn add_refuses_duplicates_clashes_and_bad_arguments() {
    let f = fixture();
    let added = f.add("binance-main").unwrap();
    assert_eq!(added.scope, vec![Scope::Read, Scope::Trade]);
    assert!(!added.withdraw);
    assert!(matches!(
        f.add("binance-main"),
        Err(CredError::Set(SetError::Exists { name })) if name == "binance-main"
    ));
    assert!(matches!(
        f.add("BINANCE_MAIN"),
        Err(CredError::Set(SetError::Clash { name, other })) if name == "BINANCE_MAIN" && other == "binance-main"
    ));
    assert!(matches!(
        f.add("a b"),
        Err(CredError::Entry(EntryError::Name(_)))
    ));
    let bad_exchange = creds::add(
        &f.path,
        &new("x", "ftx", "trade"),
        &fields("k", "s"),
        clock(),
    );
    assert!(matches!(
        bad_exchange,
        Err(CredError::Entry(EntryError::Exchange(_)))
    ));
    let no_scope = creds::add(
        &f.path,
        &new("x", "binance", ""),
        &fields("k", "s"),
        clock(),
    );
    assert!(matches!(
        no_scope,
        Err(CredError::Entry(EntryError::NoScope))
    ));
    // okx needs a passphrase.
    let okx = creds::add(
        &f.path,
        &new("o", "okx", "trade"),
        &fields("k", "s"),
        clock(),
    );
    assert!(matches!(
        okx,
        Err(CredError::Seal(SealError::MissingField { .. }))
    ));
    let wd = creds::add(
        &f.path,
        &new("w", "kraken", "withdraw"),
        &fields("k", "s"),
        clock(),
    );
    assert!(wd.unwrap().withdraw);
    // Only the two good adds were written.
    let s = f.status();
    let names: Vec<&str> = s.rows.iter().map(|r| r.credential.name.as_str()).collect();
    assert_eq!(names, ["binance-main", "w"]);
    assert_eq!(s.unratified, ["binance-main", "w"]);
    assert_eq!(s.withdraw_scoped, ["w"]);
    assert_eq!(s.revision, 2);
    assert_eq!(s.record, RecordState::Never);
    assert!(s.problems.is_empty());
}

#[test]
fn rotate_reseals_and_awaits_ratification() {
    let f = fixture();
    f.add("a").unwrap();
    f.ratify();
    assert_eq!(creds::exchange_of(&f.path, "a").unwrap(), "binance");
    assert!(matches!(
        creds::exchange_of(&f.path, "zz"),
        Err(CredError::Set(SetError::NotFound { name })) if name == "zz"
    ));
    let later = Clock::fixed(T0 + 86_400 * 3);
    let r = Rotation {
        scope: Some("read".into()),
        note: Some("new key".into()),
        ..rotation("a")
    };
    let rotated = creds::rotate(&f.path, &r, &fields("k2", "s2"), later).unwrap();
    assert_eq!(rotated.rotated, T0 + 86_400 * 3);
    let shown = creds::show(&f.path, "a").unwrap();
    assert_eq!(shown.state, EntryState::Pending(Pending::Rotated));
    assert_eq!(shown.credential.scope, vec![Scope::Read]);
    assert_eq!(shown.credential.note, "new key");
    assert!(matches!(
        creds::rotate(&f.path, &rotation("zz"), &fields("k", "s"), clock()),
        Err(CredError::Set(SetError::NotFound { .. }))
    ));
    assert!(matches!(
        creds::show(&f.path, "zz"),
        Err(CredError::Set(SetError::NotFound { .. }))
    ));
    // The quorum reveals the new secret once it has ratified it.
    let revealed = creds::reveal(
        f.session("creds show --reveal"),
        "a",
        Some(&mut ratify::Unasked),
    )
    .unwrap();
    assert_eq!(revealed.state, EntryState::Ratified);
    assert_eq!(revealed.fields.get(FieldName::ApiKey), Some("k2"));
    assert_eq!(revealed.ratified.unwrap().signed.unwrap(), ["a"]);
}

#[test]
fn rotate_refuses_an_entry_changed_outside_custody() {
    let f = fixture();
    f.add("a").unwrap();
    f.ratify();
    let mut j = f.json();
    j["credentials"]["entries"][0]["scope"] = serde_json::json!(["read", "trade", "withdraw"]);
    f.write_json(&j);
    let r = creds::rotate(&f.path, &rotation("a"), &fields("k", "s"), clock());
    assert!(matches!(
        r,
        Err(CredError::Tampered { name, state: EntryState::Changed }) if name == "a"
    ));
    // A quorum rename refuses it too, and the session records the failure.
    let r = creds::rename(f.session("creds rename"), "a", "b", None);
    assert!(matches!(r, Err(CredError::Tampered { .. })));
    assert_eq!(f.status().problems.len(), 1);
}

#[test]
fn remove_and_rename_keep_the_ratification_in_step() {
    let f = fixture();
    f.add("a").unwrap();
    f.add("b").unwrap();
    f.add("c").unwrap();
    f.ratify();
    let removed = creds::remove(f.session("creds remove"), "b", None).unwrap();
    assert_eq!(removed.name, "b");
    assert!(removed.ratified.is_none());
    assert!(matches!(
        creds::remove(f.session("creds remove"), "b", None),
        Err(CredError::Set(SetError::NotFound { name })) if name == "b"
    ));
    let renamed = creds::rename(f.session("creds rename"), "a", "a-new", None).unwrap();
    assert_eq!(renamed.env_prefix, "A_NEW");
    assert!(matches!(
        creds::rename(f.session("creds rename"), "a-new", "c", None),
        Err(CredError::Set(SetError::Exists { name })) if name == "c"
    ));
    assert!(matches!(
        creds::rename(f.session("creds rename"), "a-new", "C", None),
        Err(CredError::Set(SetError::Clash { name, other })) if name == "C" && other == "c"
    ));
    assert!(matches!(
        creds::rename(f.session("creds rename"), "zz", "y", None),
        Err(CredError::Set(SetError::NotFound { name })) if name == "zz"
    ));
    assert!(matches!(
        creds::rename(f.session("creds rename"), "c", "no good", None),
        Err(CredError::Entry(EntryError::Name(_)))
    ));
    // A rename that only changes the variables' spelling of its own name is allowed.
    creds::rename(f.session("creds rename"), "c", "C", None).unwrap();
    let s = f.status();
    assert!(s.problems.is_empty(), "{:?}", s.problems);
    let rows: Vec<(&str, &EntryState)> = s
        .rows
        .iter()
        .map(|r| (r.credential.name.as_str(), &r.state))
        .collect();
    assert_eq!(
        rows,
        [
            ("a-new", &EntryState::Ratified),
            ("C", &EntryState::Ratified)
        ]
    );
    let revealed = creds::reveal(f.session("creds show --reveal"), "a-new", None).unwrap();
    assert_eq!(revealed.fields.get(FieldName::ApiSecret), Some("s"));
}

#[test]
fn quorum_edits_need_a_valid_record_or_a_ratification() {
    let f = fixture();
    f.add("a").unwrap();
    f.add("b").unwrap();
    f.ratify();
    let good = f.json();
    let mut j = good.clone();
    j["credentials"]["ratification"]["generation"] = 99.into();
    f.write_json(&j);
    assert_eq!(f.status().record, RecordState::Invalid);
    assert!(matches!(
        creds::remove(f.session("creds remove"), "b", None),
        Err(CredError::RecordInvalid)
    ));
    assert!(matches!(
        creds::rename(f.session("creds rename"), "b", "bb", None),
        Err(CredError::RecordInvalid)
    ));
    let removed =
        creds::remove(f.session("creds remove"), "b", Some(&mut ratify::Unasked)).unwrap();
    assert_eq!(removed.ratified.unwrap().signed.unwrap(), ["a"]);
    assert!(f.status().problems.is_empty());
}

#[test]
fn an_old_file_put_back_is_refused() {
    let f = fixture();
    f.add("a").unwrap();
    f.add("b").unwrap();
    f.ratify();
    let before = fs::read_to_string(&f.path).unwrap();
    creds::remove(f.session("creds remove"), "b", None).unwrap();
    fs::write(&f.path, &before).unwrap();
    assert!(f.status().rollback.is_some());
    assert!(matches!(
        f.add("n"),
        Err(CredError::Store(StoreError::RolledBack { .. }))
    ));
    assert!(matches!(
        creds::remove(f.session("creds remove"), "a", None),
        Err(CredError::RolledBack(_))
    ));
    // The backup is what was there before the last write.
    assert!(sibling(&f.path, ".bak").exists());
    creds::remove(f.session("creds remove"), "b", Some(&mut ratify::Unasked)).unwrap();
    assert!(f.status().problems.is_empty());
}

#[test]
fn errors_chain_to_their_cause() {
    use std::error::Error;
    let f = fixture();
    let e = f.add("a b").unwrap_err();
    assert!(e.source().is_some());
    f.add("a").unwrap();
    let e = f.add("a").unwrap_err();
    // The set's rule is the cause; the operation adds nothing of its own to the message.
    let cause = e.source().unwrap().downcast_ref::<SetError>().unwrap();
    assert_eq!(cause, &SetError::Exists { name: "a".into() });
    assert_eq!(e.to_string(), cause.to_string());
    assert!(CredError::RecordInvalid.source().is_none());
    // No flag or command name in the library's wording.
    for e in [e, CredError::RecordInvalid] {
        let m = e.to_string();
        assert!(!m.contains("--") && !m.contains("custody creds"), "{m}");
    }
}

fn entry(name: &str) -> Credential {
    Credential {
        name: name.into(),
        exchange: "binance".into(),
        account: String::new(),
        scope: vec![Scope::Trade],
        ip_allowlist: String::new(),
        created: T0,
        rotated: T0,
        expires: None,
        note: String::new(),
        fields: vec![FieldName::ApiKey, FieldName::ApiSecret],
        sealed: "sealed".into(),
        pending: Some(Pending::Added),
    }
}

#[test]
fn credential_set_keeps_names_distinct() {
    let mut set = CredentialSet::default();
    assert_eq!(set.rotation_days(), custody::vault::DEFAULT_ROTATION_DAYS);
    set.insert(entry("binance-main")).unwrap();
    assert_eq!(
        set.insert(entry("binance-main")),
        Err(SetError::Exists {
            name: "binance-main".into()
        })
    );
    assert_eq!(
        set.insert(entry("BINANCE.MAIN")),
        Err(SetError::Clash {
            name: "BINANCE.MAIN".into(),
            other: "binance-main".into()
        })
    );
    set.insert(entry("other")).unwrap();
    assert_eq!(set.len(), 2);
    assert!(matches!(
        set.rename("other", entry("Binance_Main")),
        Err(SetError::Clash { .. })
    ));
    assert!(matches!(
        set.replace(entry("missing")),
        Err(SetError::NotFound { .. })
    ));
    let mut rotated = entry("other");
    rotated.rotated = T0 + 1;
    assert_eq!(set.replace(rotated).unwrap().rotated, T0);
    set.rename("other", entry("OTHER")).unwrap();
    assert!(set.get("OTHER").is_some() && set.get("other").is_none());
    assert!(set.remove("OTHER"));
    assert!(!set.remove("OTHER"));
    assert_eq!(set.revision(), 0);
}

#[test]
fn new_names_must_give_shell_variable_names() {
    let f = fixture();
    for bad in ["1abc", ".", "..", "_x"] {
        assert!(
            matches!(f.add(bad), Err(CredError::Entry(EntryError::NameStart(n))) if n == bad),
            "{bad}"
        );
    }
    f.add("a1").unwrap();
    assert!(f.status().rows.iter().all(|r| r.credential.name == "a1"));
}

#[test]
fn the_write_revision_never_wraps() {
    let f = fixture();
    f.add("a").unwrap();
    let mut j = f.json();
    j["credentials"]["revision"] = serde_json::json!(u64::MAX);
    f.write_json(&j);
    let sidecar = f.path.with_file_name("vault.json.generation");
    let text = fs::read_to_string(&sidecar).unwrap();
    let generation = text.lines().find(|l| l.starts_with("generation ")).unwrap();
    fs::write(
        &sidecar,
        format!(
            "custody-vault-generation/1\n{generation}\nrevision {}\n",
            u64::MAX
        ),
    )
    .unwrap();
    let before = fs::read(&f.path).unwrap();
    let e = f.add("b").unwrap_err();
    assert!(
        matches!(&e, CredError::Store(StoreError::RevisionExhausted(p)) if *p == f.path),
        "{e:?}"
    );
    assert!(e.to_string().contains("Nothing was written"), "{e}");
    assert_eq!(fs::read(&f.path).unwrap(), before);
}

#[test]
fn a_sidecar_that_cannot_be_written_does_not_hide_the_change() {
    let f = fixture();
    f.add("a").unwrap();
    let sidecar = f.path.with_file_name("vault.json.generation");
    fs::remove_file(&sidecar).unwrap();
    fs::create_dir(&sidecar).unwrap();
    let e = f.add("b").unwrap_err();
    assert!(
        matches!(&e, CredError::Store(StoreError::SidecarNotWritten { path, .. }) if *path == f.path),
        "{e:?}"
    );
    let m = e.to_string();
    assert!(
        m.contains("the change stands") && !m.contains("nothing"),
        "{m}"
    );
    // It was added.
    let names: Vec<String> = f
        .status()
        .rows
        .iter()
        .map(|r| r.credential.name.clone())
        .collect();
    assert_eq!(names, ["a", "b"]);
}

/// The positions of `keys` (as `"key":`) in `text`, each searched after the previous one;
/// `None` for a key that does not follow in that order.
fn keys_in_order(text: &str, keys: &[&str]) -> Result<(), String> {
    let mut at = 0;
    for k in keys {
        let needle = format!("\"{k}\":");
        match text[at..].find(&needle) {
            Some(i) => at += i + needle.len(),
            None => return Err(format!("`{k}` is not after the keys before it in:\n{text}")),
        }
    }
    Ok(())
}

/// The Entry table of shares-format.md, in its order: writers emit the fields in that order.
const ENTRY_FIELDS: [&str; 12] = [
    "name",
    "exchange",
    "account",
    "scope",
    "ip_allowlist",
    "created",
    "rotated",
    "expires",
    "note",
    "fields",
    "sealed",
    "pending",
];

#[test]
fn entries_are_written_in_the_order_of_the_entry_table() {
    let f = fixture();
    f.add("binance-main").unwrap();
    let text = fs::read_to_string(&f.path).unwrap();
    let creds = &text[text.find("\"credentials\":").unwrap()..];
    let entries = &creds[creds.find("\"entries\": [").unwrap()..];
    keys_in_order(entries, &ENTRY_FIELDS).unwrap();
}

// ---- consent: what a ratification signs is what its Consent was shown ----

/// `(name, state, digest)` of each entry a [`ratify::Review`] shows.
fn shown(review: &ratify::Review) -> Vec<(String, EntryState, [u8; 32])> {
    review
        .entries
        .iter()
        .map(|e| (e.credential.name.clone(), e.state.clone(), e.digest))
        .collect()
}

#[test]
fn consent_is_shown_exactly_what_is_then_signed() {
    let f = fixture();
    f.add("a").unwrap();
    f.ratify();
    creds::rotate(&f.path, &rotation("a"), &fields("k2", "s2"), clock()).unwrap();
    f.add("b").unwrap();
    let mut seen = Vec::new();
    let (r, vault) = ratify::ratify(&f.path, &f.tv.keys, T0, &mut |review: &ratify::Review| {
        seen = shown(review);
        ratify::Answer::Sign
    })
    .unwrap();
    let digest = |name: &str| {
        vault
            .credentials()
            .get(name)
            .unwrap()
            .digest(&vault.vault_id())
    };
    assert_eq!(
        seen,
        [
            (
                "a".into(),
                EntryState::Pending(Pending::Rotated),
                digest("a")
            ),
            ("b".into(), EntryState::Pending(Pending::Added), digest("b")),
        ]
    );
    assert_eq!(r.signed, Some(vec!["a".to_string(), "b".to_string()]));
    // The record now covers exactly the digests shown.
    let listed: Vec<(String, [u8; 32])> = seen.iter().map(|(n, _, d)| (n.clone(), *d)).collect();
    assert_eq!(vault.ratified_list(), listed);
}

#[test]
fn a_declined_ratification_signs_nothing_and_changes_nothing() {
    let f = fixture();
    f.add("a").unwrap();
    let before = fs::read(&f.path).unwrap();
    let e = ratify::ratify(&f.path, &f.tv.keys, T0, &mut |_: &ratify::Review| {
        ratify::Answer::Decline("the quorum did not answer yes".into())
    })
    .unwrap_err();
    assert!(
        matches!(
            &e,
            ratify::RatifyFailure::Refused(custody::vault::ratify::RatifyError::Declined {
                entries: 1,
                reason,
            }) if reason == "the quorum did not answer yes"
        ),
        "{e:?}"
    );
    assert_eq!(
        e.to_string(),
        "nothing was ratified: the quorum did not answer yes, so the 1 entry listed was not \
         signed and the vault is unchanged"
    );
    assert_eq!(fs::read(&f.path).unwrap(), before);
    assert_eq!(f.status().unratified, vec!["a".to_string()]);

    // Declined inside a quorum edit (removing a, then ratifying b): the whole write is
    // dropped, and a stays.
    f.add("b").unwrap();
    let before = fs::read(&f.path).unwrap();
    let e = creds::remove(
        f.session("creds remove"),
        "a",
        Some(&mut |_: &ratify::Review| ratify::Answer::Decline("no".into())),
    )
    .unwrap_err();
    assert!(matches!(&e, CredError::Ratify(_)), "{e:?}");
    assert_eq!(fs::read(&f.path).unwrap(), before);
}

#[test]
fn nothing_to_sign_asks_nobody() {
    let f = fixture();
    f.add("a").unwrap();
    f.ratify();
    let (r, _) = ratify::ratify(&f.path, &f.tv.keys, T0, &mut |_: &ratify::Review| {
        panic!("asked with nothing to sign")
    })
    .unwrap();
    assert_eq!(r.signed, None);
}
