//! `ops::init` driven directly: a vault and one share file per custodian, every file new; an
//! existing vault or share file is refused before any secret exists.

use std::fs;
use std::path::Path;

use custody::clock::Clock;
use custody::input;
use custody::ops::init::{self, InitError, InitRequest};
use custody::ops::issue::IssueError;
use custody::ops::session::{Begun, Presentation};
use custody::policy::Policy;
use custody::sheet::{Format, Paper};
use custody::vault::store;

const NOW: u64 = 1_790_000_000;

fn request(dir: &Path) -> InitRequest {
    let names: Vec<String> = ["alice", "bob", "carol"].map(String::from).to_vec();
    InitRequest {
        vault: dir.join("vault.json"),
        out_dir: dir.join("shares"),
        policy: Policy::single(2, &names).unwrap(),
        iteration_exponent: 0,
        formats: vec![Format::Txt],
        paper: Paper::A4,
        delivery: Default::default(),
    }
}

#[test]
fn creates_a_vault_whose_shares_open_it() {
    let dir = tempfile::tempdir().unwrap();
    let r = init::init(request(dir.path()), None, None, Clock::fixed(NOW)).unwrap();
    assert_eq!(r.path, dir.path().join("vault.json"));
    let loaded = store::load(&r.path).unwrap();
    assert_eq!(loaded.fingerprint(), r.vault.fingerprint());
    assert_eq!(r.files.len(), 3);
    assert_eq!(r.files[0].custodian, "alice");
    assert_eq!(
        r.files[1].files,
        vec![dir.path().join("shares").join("02-bob.txt")]
    );
    // Any two of the share files written make a quorum for the vault.
    let shares = [&r.files[0].files[0], &r.files[2].files[0]]
        .iter()
        .map(|p| input::read_file(p).unwrap())
        .collect();
    let begun = Begun::begin(&r.path, "drill", Clock::fixed(NOW)).unwrap();
    let session = begun
        .unlock(&Presentation {
            shares,
            ..Presentation::default()
        })
        .unwrap();
    assert_eq!(&session.keys().public(), loaded.public());
    session
        .finish(Ok::<(), custody::audit::AuditError>(()), |_| "ok".into())
        .unwrap();
}

#[test]
fn with_entropy_and_passphrase() {
    let dir = tempfile::tempdir().unwrap();
    let entropy = [42u8; 32];
    let r = init::init(
        request(dir.path()),
        Some(&entropy),
        Some("correct horse"),
        Clock::fixed(NOW),
    )
    .unwrap();
    assert!(r.vault.slip39().passphrase);
}

#[test]
fn short_entropy_is_refused_and_nothing_written() {
    let dir = tempfile::tempdir().unwrap();
    let e = init::init(request(dir.path()), Some(b"short"), None, Clock::fixed(NOW))
        .err()
        .unwrap();
    assert!(matches!(e, InitError::ShortEntropy { len: 5 }), "{e:?}");
    assert!(!dir.path().join("vault.json").exists());
    assert!(!dir.path().join("shares").exists());
}

#[test]
fn existing_vault_is_refused_before_any_secret() {
    let dir = tempfile::tempdir().unwrap();
    let req = request(dir.path());
    fs::write(&req.vault, b"precious").unwrap();
    // `plan` refuses: no master secret was generated, no file written.
    let e = init::plan(req.clone()).err().unwrap();
    assert!(
        matches!(&e, InitError::Issue(IssueError::Exists(p)) if *p == req.vault),
        "{e:?}"
    );
    assert_eq!(fs::read(&req.vault).unwrap(), b"precious");
    assert!(!req.out_dir.exists());
}

#[test]
fn existing_share_file_is_refused_before_any_secret() {
    let dir = tempfile::tempdir().unwrap();
    let req = request(dir.path());
    fs::create_dir_all(&req.out_dir).unwrap();
    let carol = req.out_dir.join("03-carol.txt");
    fs::write(&carol, b"old share").unwrap();
    let e = init::plan(req.clone()).err().unwrap();
    assert!(
        matches!(&e, InitError::Issue(IssueError::Exists(p)) if *p == carol),
        "{e:?}"
    );
    assert!(!req.vault.exists());
    assert!(!req.out_dir.join("01-alice.txt").exists());
    assert_eq!(fs::read(&carol).unwrap(), b"old share");
}

#[test]
fn a_policy_built_by_hand_meets_the_name_rules_too() {
    use custody::custodian_name::NameRule;
    use custody::policy::PolicyError;
    use custody::vault::VaultError;

    // A front end that builds the policy itself cannot slip past the rules of
    // `Policy::single`/`grouped`: init normalises and checks every name first.
    let with = |names: &[&str]| {
        let dir = tempfile::tempdir().unwrap();
        let mut r = request(dir.path());
        for (c, n) in r.policy.groups[0].custodians.iter_mut().zip(names) {
            c.name = (*n).into();
        }
        (init::init(r, None, None, Clock::fixed(NOW)), dir)
    };
    let (r, dir) = with(&["alice", "bob\u{200B}", "carol"]);
    assert!(matches!(
        r,
        Err(InitError::Vault(VaultError::Policy(PolicyError::BadName {
            rule: NameRule::Invisible('\u{200B}'),
            ..
        })))
    ));
    assert!(!dir.path().join("vault.json").exists());
    let (r, _dir) = with(&["alice", "ALICE", "carol"]);
    assert!(matches!(
        r,
        Err(InitError::Vault(VaultError::Policy(
            PolicyError::DuplicateName { .. }
        )))
    ));
    let (r, _dir) = with(&["alice", "bob", "Đorđe"]);
    assert!(matches!(
        r,
        Err(InitError::Vault(VaultError::Policy(PolicyError::BadName {
            rule: NameRule::Unprintable(_),
            ..
        })))
    ));
    // Stored in NFC, as the token and the share file carry it.
    let (r, _dir) = with(&["alice", "bob", "Andre\u{301}"]);
    let r = r.unwrap();
    assert_eq!(r.vault.policy().groups[0].custodians[2].name, "Andr\u{E9}");
    assert_eq!(r.files[2].custodian, "Andr\u{E9}");
    assert!(r.files[2].files[0].ends_with("03-andre.txt"));
}
