//! `ops::release` driven directly with real files: the exec gate refuses each kind of
//! credential it must refuse with a typed error, and releases exactly the named credentials;
//! how the program ended is recorded after the ceremony, signed with the one-time key the
//! closing record certified, and a forged or edited end record is named by `audit::verify`.

use std::fs;
use std::path::{Path, PathBuf};

use custody::audit::{self, Event, ExitProblem, Problem, ProgramEnd, Record};
use custody::clock::Clock;
use custody::input;
use custody::ops::creds::{self, NewCredential};
use custody::ops::ratify;
use custody::ops::release::{
    self, EnvStyle, ReleaseError, ReleaseOptions, ReleaseWarning, Released, Releasing,
};
use custody::ops::session::{Begun, Presentation};
use custody::testkit::{self, TestVault};
use custody::vault::credential::{FieldName, Pending, Scope};
use custody::vault::ratify::EntryState;
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
    let tv = testkit::test_vault(7, 3, 11, &[("", 2, &["alice", "bob", "carol"])], 1);
    store::create_new(&path, tv.vault.to_json().as_bytes(), 0o644).unwrap();
    Fx {
        _dir: dir,
        path,
        tv,
    }
}

fn fields(key: &str) -> SecretFields {
    let mut f = SecretFields::default();
    f.set(FieldName::ApiKey, key.into());
    f.set(FieldName::ApiSecret, format!("{key}-secret"));
    f
}

/// Add a credential with the library's own operation: sealed, awaiting ratification.
fn add(path: &Path, name: &str, scope: Vec<Scope>, key: &str) {
    let scope: Vec<&str> = scope.iter().map(|s| s.as_str()).collect();
    let new = NewCredential {
        name: name.into(),
        exchange: "binance".into(),
        scope: scope.join(","),
        ..NewCredential::default()
    };
    creds::add(path, &new, &fields(key), Clock::fixed(NOW)).unwrap();
}

fn ratify_all(fx: &Fx) {
    ratify::ratify(&fx.path, &fx.tv.keys, NOW, &mut ratify::Unasked).unwrap();
}

/// Two ratified trade credentials `a` and `b`.
fn ratified_pair() -> Fx {
    let fx = fixture();
    add(&fx.path, "a", vec![Scope::Trade], "key-a");
    add(&fx.path, "b", vec![Scope::Trade], "key-b");
    ratify_all(&fx);
    fx
}

fn presentation(tv: &TestVault) -> Presentation {
    let shares = [&tv.tokens[0][0], &tv.tokens[0][2]]
        .iter()
        .enumerate()
        .map(|(i, t)| input::parse_text(&format!("share {i}"), &t.to_text()).unwrap())
        .collect();
    Presentation {
        shares,
        ..Presentation::default()
    }
}

fn release(fx: &Fx, names: &[&str], options: ReleaseOptions) -> Result<Released, ReleaseError> {
    release_with(fx, names, options, None)
}

/// [`release`], ratifying first whatever awaits it.
fn release_ratifying(
    fx: &Fx,
    names: &[&str],
    options: ReleaseOptions,
) -> Result<Released, ReleaseError> {
    release_with(fx, names, options, Some(&mut ratify::Unasked))
}

fn release_with(
    fx: &Fx,
    names: &[&str],
    options: ReleaseOptions,
    ratify: Option<&mut dyn ratify::Consent>,
) -> Result<Released, ReleaseError> {
    let begun = Begun::begin(&fx.path, "exec", Clock::fixed(NOW)).unwrap();
    let session = begun.unlock(&presentation(&fx.tv)).unwrap();
    let names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
    let mut releasing = release::open(session, &names, options, ratify)?;
    let released = std::mem::take(&mut releasing.released);
    releasing.started("bot", 4242).unwrap();
    Ok(released)
}

fn edit_json(path: &Path, edit: impl FnOnce(&mut Value)) {
    let mut j: Value = serde_json::from_slice(&fs::read(path).unwrap()).unwrap();
    edit(&mut j);
    fs::write(path, serde_json::to_vec_pretty(&j).unwrap()).unwrap();
}

fn entry_mut<'a>(j: &'a mut Value, name: &str) -> &'a mut Value {
    j["credentials"]["entries"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|e| e["name"] == name)
        .unwrap()
}

#[test]
fn releases_exactly_the_named_credential() {
    let fx = ratified_pair();
    let r = release(&fx, &["b"], ReleaseOptions::default()).unwrap();
    assert_eq!(r.opened.len(), 1);
    assert_eq!(r.opened[0].0.name, "b");
    assert_eq!(r.opened[0].1.api_key.as_deref(), Some("key-b"));
    assert!(r.warnings.is_empty());
    assert!(r.ratified.is_none());
    let env = release::environment(EnvStyle::Plain, &r.opened);
    assert_eq!(
        env,
        vec![
            ("B_API_KEY".to_string(), "key-b"),
            ("B_API_SECRET".to_string(), "key-b-secret"),
        ]
    );
    let env = release::environment(EnvStyle::Freqtrade, &r.opened);
    assert_eq!(env[0], ("FREQTRADE__EXCHANGE__KEY".to_string(), "key-b"));
    let json: Value = serde_json::from_slice(&release::stdin_json(&r.opened).unwrap()).unwrap();
    assert_eq!(json["b"]["api_key"], "key-b");
    assert!(json.get("a").is_none());
    // The release is recorded, signed, with the program's label.
    let log = fs::read_to_string(custody::audit::AuditLog::open(&fx.path).unwrap().path()).unwrap();
    assert!(log.contains("credentials handed to bot"), "{log}");
}

#[test]
fn unknown_credential_is_not_found() {
    let fx = ratified_pair();
    let e = release(&fx, &["a", "zzz"], ReleaseOptions::default())
        .err()
        .unwrap();
    assert!(
        matches!(&e, ReleaseError::NotFound { name } if name == "zzz"),
        "{e:?}"
    );
}

#[test]
fn unratified_is_refused_then_ratify_releases_it() {
    let fx = ratified_pair();
    add(&fx.path, "c", vec![Scope::Trade], "key-c");
    let e = release(&fx, &["c"], ReleaseOptions::default())
        .err()
        .unwrap();
    assert!(
        matches!(&e, ReleaseError::Unratified { name, change: Pending::Added, date } if name == "c" && *date == NOW),
        "{e:?}"
    );
    let r = release_ratifying(&fx, &["c"], ReleaseOptions::default()).unwrap();
    assert_eq!(r.opened.len(), 1);
    assert_eq!(r.opened[0].1.api_key.as_deref(), Some("key-c"));
    let ratified = r.ratified.expect("a ratification report");
    assert_eq!(ratified.signed, Some(vec!["c".to_string()]));
    // Ratified now: released without ratifying again.
    release(&fx, &["c"], ReleaseOptions::default()).unwrap();
}

#[test]
fn withdraw_scope_needs_allow_withdraw() {
    let fx = fixture();
    add(&fx.path, "w", vec![Scope::Trade, Scope::Withdraw], "key-w");
    ratify_all(&fx);
    let e = release(&fx, &["w"], ReleaseOptions::default())
        .err()
        .unwrap();
    assert!(
        matches!(&e, ReleaseError::Withdraw { name } if name == "w"),
        "{e:?}"
    );
    let options = ReleaseOptions {
        allow_withdraw: true,
        ..ReleaseOptions::default()
    };
    let r = release(&fx, &["w"], options).unwrap();
    assert_eq!(r.opened[0].0.name, "w");
}

#[test]
fn a_refusal_after_ratifying_keeps_the_ratification_and_its_report() {
    let fx = ratified_pair();
    add(&fx.path, "w", vec![Scope::Trade, Scope::Withdraw], "key-w");
    let e = release_ratifying(&fx, &["w"], ReleaseOptions::default())
        .err()
        .unwrap();
    let ReleaseError::AfterRatifying { ratified, refusal } = &e else {
        panic!("expected a refusal after ratifying, got {e:?}");
    };
    assert!(matches!(refusal.as_ref(), ReleaseError::Withdraw { name } if name == "w"));
    assert_eq!(ratified.signed.as_deref(), Some(&["w".to_string()][..]));
    assert_eq!(e.credential(), Some("w"));
    assert!(e.to_string().contains("withdraw"), "{e}");
    // The ratification stands: w is released (with withdraw allowed) without ratifying again.
    let options = ReleaseOptions {
        allow_withdraw: true,
        ..ReleaseOptions::default()
    };
    let r = release(&fx, &["w"], options).unwrap();
    assert!(r.ratified.is_none());
    assert_eq!(r.opened[0].0.name, "w");
}

#[test]
fn tampered_entry_is_refused() {
    let fx = ratified_pair();
    edit_json(&fx.path, |j| entry_mut(j, "a")["account"] = "other".into());
    let e = release(&fx, &["a"], ReleaseOptions::default())
        .err()
        .unwrap();
    assert!(
        matches!(&e, ReleaseError::Tampered { name, state: EntryState::Changed } if name == "a"),
        "{e:?}"
    );
    // The untouched one still goes.
    release(&fx, &["b"], ReleaseOptions::default()).unwrap();
}

#[test]
fn deleted_and_malformed_entries_are_refused() {
    let fx = ratified_pair();
    edit_json(&fx.path, |j| {
        j["credentials"]["entries"]
            .as_array_mut()
            .unwrap()
            .retain(|e| e["name"] != "a");
        entry_mut(j, "b")["scope"] = serde_json::json!(["root"]);
    });
    let e = release(&fx, &["a"], ReleaseOptions::default())
        .err()
        .unwrap();
    assert!(
        matches!(&e, ReleaseError::Deleted { name } if name == "a"),
        "{e:?}"
    );
    let e = release(&fx, &["b"], ReleaseOptions::default())
        .err()
        .unwrap();
    assert!(
        matches!(&e, ReleaseError::Malformed { name, problem } if name == "b" && problem.contains("root")),
        "{e:?}"
    );
}

#[test]
fn edited_ratification_record_is_unverified() {
    let fx = ratified_pair();
    edit_json(&fx.path, |j| {
        j["credentials"]["ratification"]["generation"] = 99.into();
    });
    let e = release(&fx, &["a"], ReleaseOptions::default())
        .err()
        .unwrap();
    assert!(
        matches!(&e, ReleaseError::Unverified { name } if name == "a"),
        "{e:?}"
    );
    // A quorum reviews and re-signs everything, and the credential goes.
    release_ratifying(&fx, &["a"], ReleaseOptions::default()).unwrap();
}

#[test]
fn old_file_restored_is_a_rollback() {
    let fx = ratified_pair();
    let old = fs::read(&fx.path).unwrap();
    add(&fx.path, "c", vec![Scope::Trade], "key-c");
    ratify_all(&fx);
    fs::write(&fx.path, &old).unwrap();
    let e = release(&fx, &["a"], ReleaseOptions::default())
        .err()
        .unwrap();
    assert!(matches!(&e, ReleaseError::RolledBack(_)), "{e:?}");
    // Ratifying over the rollback is the quorum's deliberate choice.
    release_ratifying(&fx, &["a"], ReleaseOptions::default()).unwrap();
}

#[test]
fn swapped_ciphertext_is_refused() {
    let fx = ratified_pair();
    // b's ciphertext under a's entry: the ratified digest no longer matches.
    edit_json(&fx.path, |j| {
        let b = entry_mut(j, "b")["sealed"].clone();
        entry_mut(j, "a")["sealed"] = b;
    });
    let e = release(&fx, &["a"], ReleaseOptions::default())
        .err()
        .unwrap();
    assert!(
        matches!(&e, ReleaseError::Tampered { name, state: EntryState::Changed } if name == "a"),
        "{e:?}"
    );
}

#[test]
fn vault_replaced_while_the_quorum_met_is_refused() {
    let fx = ratified_pair();
    let begun = Begun::begin(&fx.path, "exec", Clock::fixed(NOW)).unwrap();
    let session = begun.unlock(&presentation(&fx.tv)).unwrap();
    // Another vault (other keys) put in its place.
    let other = testkit::test_vault(8, 3, 12, &[("", 2, &["alice", "bob", "carol"])], 1);
    fs::write(&fx.path, other.vault.to_json()).unwrap();
    let e = release::open(session, &["a".to_string()], ReleaseOptions::default(), None)
        .err()
        .unwrap();
    assert!(matches!(e, ReleaseError::KeysChanged), "{e:?}");
}

fn open_at(
    fx: &Fx,
    at: u64,
    name: &str,
    options: ReleaseOptions,
) -> Result<Releasing, ReleaseError> {
    let begun = Begun::begin(&fx.path, "exec", Clock::fixed(at)).unwrap();
    let session = begun.unlock(&presentation(&fx.tv)).unwrap();
    release::open(session, &[name.to_string()], options, None)
}

fn audit_text(fx: &Fx) -> String {
    fs::read_to_string(custody::audit::AuditLog::open(&fx.path).unwrap().path()).unwrap()
}

#[test]
fn overdue_credentials_are_released_with_a_warning() {
    let fx = fixture();
    add(&fx.path, "old", vec![Scope::Trade], "key-old");
    ratify_all(&fx);
    // Far in the future: overdue for rotation.
    let mut r = open_at(&fx, NOW + 400 * 86_400, "old", ReleaseOptions::default()).unwrap();
    let released = std::mem::take(&mut r.released);
    r.started("bot", 7).unwrap();
    assert!(
        matches!(&released.warnings[..], [ReleaseWarning::Overdue { name, .. }] if name == "old"),
        "{:?}",
        released.warnings
    );
}

#[test]
fn expired_credentials_are_refused_unless_allowed_and_then_recorded() {
    let fx = fixture();
    let new = NewCredential {
        name: "short".into(),
        exchange: "binance".into(),
        scope: "trade".into(),
        expires: Some("2025-12-31".into()),
        ..NewCredential::default()
    };
    creds::add(&fx.path, &new, &fields("key-s"), Clock::fixed(NOW)).unwrap();
    ratify_all(&fx);
    let after = NOW + 40 * 86_400; // 2026-01-08
    let e = open_at(&fx, after, "short", ReleaseOptions::default())
        .err()
        .unwrap();
    assert_eq!(
        format!("{e:?}"),
        format!(
            "{:?}",
            ReleaseError::Expired {
                name: "short".into(),
                expires: "2025-12-31".into()
            }
        )
    );
    assert!(!audit_text(&fx).contains("expired_allowed"));
    let options = ReleaseOptions {
        allow_expired: true,
        ..ReleaseOptions::default()
    };
    let mut r = open_at(&fx, after, "short", options).unwrap();
    assert!(matches!(
        &r.released.warnings[..],
        [ReleaseWarning::Expired { name, .. }] if name == "short"
    ));
    assert_eq!(r.released.opened[0].1.api_key.as_deref(), Some("key-s"));
    drop(std::mem::take(&mut r.released));
    r.started("bot", 4242).unwrap();
    let log = audit_text(&fx);
    assert!(log.contains("expired_allowed"), "{log}");
    assert!(
        log.contains("credentials handed to bot (pid 4242)"),
        "{log}"
    );
}

#[test]
fn a_program_that_does_not_start_is_recorded_as_such() {
    let fx = ratified_pair();
    let r = open_at(&fx, NOW, "a", ReleaseOptions::default()).unwrap();
    r.not_started("/nonexistent/bot", "No such file or directory (os error 2)")
        .unwrap();
    let log = audit_text(&fx);
    let last = log.lines().last().unwrap();
    assert!(
        last.contains("cannot start /nonexistent/bot: No such file or directory")
            && last.contains("no credential left custody"),
        "{last}"
    );
    assert!(!log.contains("credentials handed to"), "{log}");
}

/// Release `a`, start `sh -c script` as the program, wait for it and record how it ended.
fn run_program(fx: &Fx, script: &str) -> ProgramEnd {
    let mut r = open_at(fx, NOW, "a", ReleaseOptions::default()).unwrap();
    drop(std::mem::take(&mut r.released));
    let mut child = std::process::Command::new("sh")
        .args(["-c", script])
        .spawn()
        .unwrap();
    let running = r.started("sh", child.id()).unwrap();
    assert_eq!(running.pid(), child.id());
    let end = ProgramEnd::from(child.wait().unwrap());
    running.ended(end).unwrap();
    end
}

fn log_lines(fx: &Fx) -> Vec<String> {
    audit_text(fx).lines().map(str::to_owned).collect()
}

fn inspect(fx: &Fx) -> audit::AuditReport {
    audit::inspect(&audit::log_path(&fx.path), fx.tv.vault.public_key()).unwrap()
}

/// Append `rec` to the log with a correct seq and chain, signed (if at all) with `key`.
fn append_forged(fx: &Fx, mut rec: Record, key: Option<&ed25519_dalek::SigningKey>) {
    use ed25519_dalek::Signer;
    let lines = log_lines(fx);
    let last = lines.last().unwrap();
    let last_rec: Record = serde_json::from_str(last).unwrap();
    let prev = audit::line_hash(last.as_bytes());
    rec.seq = last_rec.seq + 1;
    rec.prev = custody::keys::hex(&prev);
    rec.sig = None;
    let body = serde_json::to_string(&rec).unwrap();
    if let Some(key) = key {
        let sig = key.sign(&audit::signed_message(rec.seq, &prev, body.as_bytes()));
        use base64::Engine;
        rec.sig = Some(base64::engine::general_purpose::STANDARD.encode(sig.to_bytes()));
    }
    let mut text = audit_text(fx);
    text.push_str(&serde_json::to_string(&rec).unwrap());
    text.push('\n');
    fs::write(audit::log_path(&fx.path), text).unwrap();
}

#[test]
fn how_the_program_ended_is_recorded_after_the_ceremony_and_verifies() {
    let fx = ratified_pair();
    assert_eq!(run_program(&fx, "exit 3"), ProgramEnd::Exited { code: 3 });
    assert_eq!(
        run_program(&fx, "kill -TERM $$"),
        ProgramEnd::Signalled { signal: 15 }
    );
    let report = audit::verify(&audit::log_path(&fx.path), fx.tv.vault.public_key()).unwrap();
    // Both end records verify under the keys their ceremonies certified, and nothing is
    // left unsigned after the last signed record.
    assert_eq!(report.program_ends.len(), 2);
    assert_eq!(report.unsigned_tail(), 0);
    assert!(report.tail_ceremonies().is_empty());
    let records: Vec<&Record> = report.lines.iter().map(|(_, r)| r).collect();
    let ends: Vec<(usize, &Record)> = records
        .iter()
        .enumerate()
        .filter(|(_, r)| r.event == Event::ProgramEnded)
        .map(|(i, r)| (i, *r))
        .collect();
    for (i, end) in &ends {
        // Right after its ceremony's signed close, which certifies a key.
        let close = records[i - 1];
        assert_eq!(close.ceremony, end.ceremony);
        assert!(close.sig.is_some() && close.exit_key.is_some(), "{close:?}");
        assert!(end.sig.is_some() && end.ran_ms.is_some() && end.pid.is_some());
        assert!(
            close
                .summary
                .as_deref()
                .unwrap()
                .ends_with(&format!("(pid {})", end.pid.unwrap()))
        );
    }
    assert_eq!((ends[0].1.exit_code, ends[0].1.signal), (Some(3), None));
    assert_eq!((ends[1].1.exit_code, ends[1].1.signal), (None, Some(15)));
    assert_eq!(ends[1].1.signal_name.as_deref(), Some("SIGTERM"));
    assert!(ends[0].1.describe().contains("exited with code 3 after"));
    assert!(
        ends[1]
            .1
            .describe()
            .contains("was ended by signal 15 (SIGTERM) after")
    );
}

#[test]
fn an_edited_end_record_is_named() {
    let fx = ratified_pair();
    run_program(&fx, "exit 3");
    let mut lines = log_lines(&fx);
    let last = lines.len() - 1;
    lines[last] = lines[last].replace("\"exit_code\":3", "\"exit_code\":0");
    fs::write(audit::log_path(&fx.path), lines.join("\n") + "\n").unwrap();
    let line = last + 1;
    assert_eq!(
        inspect(&fx).problems,
        vec![Problem::ProgramEnded {
            line,
            problem: ExitProblem::BadSignature
        }]
    );
}

#[test]
fn end_records_without_a_certified_key_are_named() {
    let fx = ratified_pair();
    run_program(&fx, "exit 0");
    let end: Record = serde_json::from_str(log_lines(&fx).last().unwrap()).unwrap();
    // A second end record for the same ceremony, signed with some other key.
    let other = ed25519_dalek::SigningKey::from_bytes(&[9; 32]);
    let mut second = end.clone();
    second.exit_code = Some(1);
    append_forged(&fx, second, Some(&other));
    let second_line = log_lines(&fx).len();
    // An end record for a ceremony that certified no key (its program did not start), and
    // one without a signature.
    let r = open_at(&fx, NOW, "a", ReleaseOptions::default()).unwrap();
    r.not_started("bot", "No such file or directory").unwrap();
    let failed: Record = serde_json::from_str(log_lines(&fx).last().unwrap()).unwrap();
    assert_ne!(failed.ceremony, end.ceremony);
    let mut foreign = end.clone();
    foreign.ceremony = failed.ceremony;
    append_forged(&fx, foreign, Some(&other));
    append_forged(&fx, end.clone(), None);
    let n = log_lines(&fx).len();
    let report = inspect(&fx);
    assert_eq!(
        report.problems,
        vec![
            Problem::ProgramEnded {
                line: second_line,
                problem: ExitProblem::Uncertified
            },
            Problem::ProgramEnded {
                line: n - 1,
                problem: ExitProblem::Uncertified
            },
            Problem::ProgramEnded {
                line: n,
                problem: ExitProblem::Uncertified
            },
        ]
    );
    // The genuine one still verifies.
    let genuine = report
        .lines
        .iter()
        .find(|(_, r)| r.event == Event::ProgramEnded)
        .unwrap()
        .0;
    assert_eq!(report.program_ends, vec![genuine]);
}
