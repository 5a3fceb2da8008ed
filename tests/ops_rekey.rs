//! The custodian-change operations driven directly (no command line): reshare then confirm
//! with the new shares, confirm refused with the current set, cancel by either set, one change
//! at a time, rotate-master resealing credentials, and extend (a new share that combines;
//! unknown group, missing group and too few of the group's shares refused). Fixture vaults are
//! made with the `custody` binary (real share files), then read with `custody::input`.

use std::fs;
use std::path::PathBuf;

use custody::clock::Clock;
use custody::input;
use custody::ops::extend::{self, ExtendError};
use custody::ops::rekey::{self, ChangeKind, Output, RekeyError};
use custody::ops::session::{Presentation, SessionError};
use custody::policy::{Policy, PolicyError};
use custody::quorum;
use custody::sheet::{Format, Paper};
use custody::vault::change::{ChangeError, PendingInvalid};
use custody::vault::seal;
use custody::vault::store;

mod common;
use common::init_args;

const T0: u64 = 1_790_000_000; // 2026-09-21
const DAY: u64 = 86_400;
const KEY: &str = "AKEY-opsrekey-77e1";
const OLD: [&str; 5] = ["alice", "bob", "carol", "dave", "erin"];

struct V {
    _dir: tempfile::TempDir,
    root: PathBuf,
    vault: PathBuf,
}

impl V {
    fn share(&self, dir: &str, n: usize, name: &str) -> PathBuf {
        self.root.join(format!("{dir}/{n:02}-{name}.txt"))
    }

    fn old(&self, n: usize) -> PathBuf {
        self.share("sh", n, OLD[n - 1])
    }

    fn output(&self, dir: &str) -> Output {
        Output {
            out_dir: self.root.join(dir),
            formats: vec![Format::Txt],
            paper: Paper::A4,
            delivery: Default::default(),
        }
    }
}

/// A 3-of-5 vault (alice..erin) with its share files in `sh/`.
fn vault() -> V {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    let vault = root.join("vault.json");
    let mut c = common::custody();
    c.env("CUSTODY_FAKE_NOW", T0.to_string());
    init_args(&mut c, &vault, &root.join("sh"), "3", "txt")
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

/// The shares in `files`, read as a quorum would present them.
fn present(files: &[PathBuf]) -> Presentation {
    Presentation {
        shares: files.iter().map(|f| input::read_file(f).unwrap()).collect(),
        ..Presentation::default()
    }
}

fn names(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// frank, gina, hank, any 2 of 3.
fn new_policy() -> Policy {
    Policy::single(2, &names(&["frank", "gina", "hank"])).unwrap()
}

fn fresh(v: &V, n: usize) -> PathBuf {
    v.share("new", n, ["frank", "gina", "hank"][n - 1])
}

fn clock(days: u64) -> Clock {
    Clock::fixed(T0 + days * DAY)
}

fn reshare(v: &V) -> rekey::Prepared {
    rekey::reshare(
        &v.vault,
        &present(&[v.old(1), v.old(2), v.old(3)]),
        new_policy(),
        &v.output("new"),
        clock(1),
    )
    .unwrap()
}

#[test]
fn reshare_then_confirm_with_the_new_shares() {
    let v = vault();
    let before = store::load(&v.vault).unwrap();
    let p = reshare(&v);
    assert_eq!(p.kind, ChangeKind::Reshare);
    assert_eq!((p.epoch, p.new_epoch), (1, 2));
    assert_eq!(p.fingerprint, before.fingerprint());
    assert_eq!(p.resealed, 0);
    assert_eq!(p.tokens.len(), 3);
    assert_eq!(p.layout.files()[0], vec![fresh(&v, 1)]);
    assert!(fresh(&v, 3).exists());
    let pending = store::load(&v.vault).unwrap();
    assert_eq!(pending.epoch(), 1);
    assert!(pending.pending_change().is_some());

    let c = rekey::confirm(&v.vault, &present(&[fresh(&v, 1), fresh(&v, 3)]), clock(2)).unwrap();
    assert_eq!(c.kind, ChangeKind::Reshare);
    assert_eq!((c.old_epoch, c.epoch, c.began), (1, 2, T0 + 2 * DAY));
    assert_eq!(c.fingerprint, before.fingerprint());
    assert_eq!(c.policy, new_policy());
    let after = store::load(&v.vault).unwrap();
    assert_eq!(after.epoch(), 2);
    assert!(after.pending_change().is_none());
    assert_eq!(after.policy(), &new_policy());
    // The new shares make a quorum of the vault now; nothing more to confirm.
    quorum::unlock(
        &present(&[fresh(&v, 2), fresh(&v, 3)]).shares,
        Some(&after),
        None,
    )
    .unwrap();
    assert!(matches!(
        rekey::confirm(&v.vault, &present(&[fresh(&v, 1), fresh(&v, 2)]), clock(3)),
        Err(RekeyError::Change(ChangeError::NothingPending))
    )); // Both ceremonies are in the audit log, which verifies.
    custody::audit::verify(&custody::audit::log_path(&v.vault), after.public_key()).unwrap();
}

#[test]
fn confirm_refuses_shares_of_the_current_set() {
    let v = vault();
    reshare(&v);
    let e = rekey::confirm(
        &v.vault,
        &present(&[v.old(1), v.old(2), v.old(3)]),
        clock(2),
    )
    .unwrap_err();
    match &e {
        RekeyError::CurrentSetShares {
            labels,
            epoch: 1,
            kind: ChangeKind::Reshare,
            pending_epoch: 2,
        } => assert_eq!(labels.len(), 3),
        other => panic!("unexpected {other:?}"),
    }
    // Mixed in with new shares, the current set's share is still named.
    assert!(matches!(
        rekey::confirm(&v.vault, &present(&[fresh(&v, 1), v.old(4)]), clock(2)),
        Err(RekeyError::CurrentSetShares { ref labels, .. }) if labels.len() == 1
    ));
    // Too few new shares: the quorum is refused.
    assert!(matches!(
        rekey::confirm(&v.vault, &present(&[fresh(&v, 1)]), clock(2)),
        Err(RekeyError::Session(SessionError::Quorum(_)))
    ));
    let j = store::load(&v.vault).unwrap();
    assert_eq!(j.epoch(), 1);
    assert!(j.pending_change().is_some());
}

#[test]
fn cancel_by_either_set() {
    let v = vault();
    reshare(&v);
    let c = rekey::cancel(
        &v.vault,
        &present(&[v.old(2), v.old(4), v.old(5)]),
        clock(1),
    )
    .unwrap();
    assert!(!c.by_new);
    assert_eq!(c.kind, ChangeKind::Reshare);
    assert_eq!((c.epoch, c.cancelled_epoch, c.prepared), (1, 2, T0 + DAY));
    assert!(store::load(&v.vault).unwrap().pending_change().is_none());
    assert!(matches!(
        rekey::cancel(
            &v.vault,
            &present(&[v.old(1), v.old(2), v.old(3)]),
            clock(1)
        ),
        Err(RekeyError::Change(ChangeError::NothingPending))
    ));

    fs::remove_dir_all(v.root.join("new")).unwrap();
    reshare(&v);
    let c = rekey::cancel(&v.vault, &present(&[fresh(&v, 1), fresh(&v, 3)]), clock(2)).unwrap();
    assert!(c.by_new);
    let after = store::load(&v.vault).unwrap();
    assert!(after.pending_change().is_none());
    assert_eq!(after.epoch(), 1);
}

#[test]
fn one_change_at_a_time() {
    let v = vault();
    reshare(&v);
    let e = rekey::rotate_master(
        &v.vault,
        &present(&[v.old(1), v.old(2), v.old(3)]),
        new_policy(),
        &v.output("other"),
        clock(1),
    )
    .unwrap_err();
    assert!(matches!(
        e,
        RekeyError::Change(ChangeError::AlreadyPending {
            kind: ChangeKind::Reshare,
            created
        }) if created == T0 + DAY
    ));
    assert!(!v.root.join("other").exists());
    // Extending is refused while a change is pending, too.
    assert!(matches!(
        extend::extend(
            &v.vault,
            &present(&[v.old(1), v.old(2), v.old(3)]),
            None,
            &names(&["fiona"]),
            &v.output("ext"),
            clock(1),
        ),
        Err(ExtendError::Change(ChangeError::AlreadyPending { .. }))
    ));
}

#[test]
fn a_pending_record_belongs_to_one_manifest() {
    let v = vault();
    reshare(&v);
    let with = store::load(&v.vault).unwrap();
    let pending = with.pending_change().unwrap().clone();
    assert_eq!(pending.verify(&with), Ok(()));
    // The same vault once the change is dropped: the record still fits its manifest.
    let mut without = with.clone();
    without.cancel_pending(&pending).unwrap();
    assert_eq!(pending.verify(&without), Ok(()));
    // A second record is refused while one waits.
    let mut again = with.clone();
    assert!(matches!(
        again.propose_change(pending.clone()),
        Err(ChangeError::AlreadyPending { .. })
    ));
    // Another vault (another key) does not accept the record: its signature is not that key's.
    let other = vault();
    let other_vault = store::load(&other.vault).unwrap();
    assert_eq!(
        pending.verify(&other_vault),
        Err(PendingInvalid::CurrentSignature)
    );
    let mut other_vault = other_vault;
    assert_eq!(
        other_vault.propose_change(pending.clone()),
        Err(ChangeError::ChangedMeanwhile)
    );
    assert!(other_vault.pending_change().is_none());
    // Back on its own vault it is accepted again.
    without.propose_change(pending.clone()).unwrap();
    assert_eq!(without.pending_change(), Some(&pending));
}

#[test]
fn files_in_the_way_are_refused_before_any_quorum() {
    let v = vault();
    fs::create_dir_all(v.root.join("new")).unwrap();
    fs::write(fresh(&v, 2), "keep me").unwrap();
    assert!(matches!(
        rekey::reshare(
            &v.vault,
            &present(&[v.old(1), v.old(2), v.old(3)]),
            new_policy(),
            &v.output("new"),
            clock(1),
        ),
        Err(RekeyError::Issue(custody::ops::issue::IssueError::Exists(ref p))) if *p == fresh(&v, 2)
    ));
    assert_eq!(fs::read_to_string(fresh(&v, 2)).unwrap(), "keep me");
    assert!(store::load(&v.vault).unwrap().pending_change().is_none());
}

#[test]
fn rotate_master_reseals_credentials() {
    let v = vault();
    let json = format!(r#"{{"api_key":"{KEY}","api_secret":"s3cret-opsrekey"}}"#);
    common::custody()
        .env("CUSTODY_FAKE_NOW", T0.to_string())
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
    let before = store::load(&v.vault).unwrap();
    let old_sealed = before.credentials().get("main").unwrap().sealed.clone();

    let p = rekey::rotate_master(
        &v.vault,
        &present(&[v.old(1), v.old(2), v.old(3)]),
        new_policy(),
        &v.output("new"),
        clock(1),
    )
    .unwrap();
    assert_eq!(p.kind, ChangeKind::RotateMaster);
    assert_eq!(p.resealed, 1);
    assert_ne!(p.fingerprint, before.fingerprint());
    // Until confirmed, the vault's credential is sealed to the old key as before.
    let pending = store::load(&v.vault).unwrap();
    assert_eq!(
        pending.credentials().get("main").unwrap().sealed,
        old_sealed
    );

    let c = rekey::confirm(&v.vault, &present(&[fresh(&v, 2), fresh(&v, 3)]), clock(2)).unwrap();
    assert_eq!(c.kind, ChangeKind::RotateMaster);
    assert_eq!(c.fingerprint, p.fingerprint);
    assert_eq!(
        c.rotate_at_exchange,
        vec![("main".to_owned(), "binance".to_owned())]
    );
    let bak = c.backup.clone().unwrap().unwrap();
    assert_eq!(store::load(&bak).unwrap().fingerprint(), p.fingerprint);
    let after = store::load(&v.vault).unwrap();
    assert_eq!(after.master_rotated(), Some(clock(2).now()));
    assert!(
        after
            .sealed_before_rotation(after.credentials().get("main").unwrap())
            .is_some()
    );
    assert_eq!(after.fingerprint(), p.fingerprint);
    let entry = after.credentials().get("main").unwrap();
    assert_ne!(entry.sealed, old_sealed);
    // The new set's keys open it; the old set's keys do not.
    let new = quorum::unlock(
        &present(&[fresh(&v, 1), fresh(&v, 3)]).shares,
        Some(&after),
        None,
    )
    .unwrap();
    let fields = seal::open(&after.vault_id(), entry, new.keys.age_identity()).unwrap();
    assert_eq!(fields.api_key.as_deref(), Some(KEY));
    let old = quorum::unlock(
        &present(&[v.old(1), v.old(2), v.old(3)]).shares,
        Some(&before),
        None,
    )
    .unwrap();
    assert!(seal::open(&after.vault_id(), entry, old.keys.age_identity()).is_err()); // The log verifies across the rotation (the confirm record names the retired key).
    custody::audit::verify(&custody::audit::log_path(&v.vault), after.public_key()).unwrap();
}

#[test]
fn extend_adds_a_custodian_whose_share_combines() {
    let v = vault();
    let e = extend::extend(
        &v.vault,
        &present(&[v.old(1), v.old(2), v.old(3)]),
        None,
        &names(&["fiona"]),
        &v.output("ext"),
        clock(1),
    )
    .unwrap();
    assert_eq!(e.group, "custodians");
    assert_eq!(e.member_indices, [5]);
    assert_eq!(e.epoch, 1);
    let fiona = v.share("ext", 6, "fiona");
    assert_eq!(e.layout.files()[0], vec![fiona.clone()]);
    let after = store::load(&v.vault).unwrap();
    assert_eq!(after.epoch(), 1);
    assert_eq!(after.policy(), &e.policy);
    assert_eq!(after.policy().custodian(0, 5).unwrap().1.name, "fiona");
    // The new share with two old ones reconstructs the vault's key.
    let u = quorum::unlock(
        &present(&[fiona.clone(), v.old(4), v.old(5)]).shares,
        Some(&after),
        None,
    )
    .unwrap();
    assert_eq!(u.keys.verifying_key(), *after.public_key());
    // And as plain SLIP-39 shares, without the vault.
    let shares: Vec<_> = present(&[v.old(2), fiona, v.old(5)])
        .shares
        .into_iter()
        .map(|p| p.share)
        .collect();
    let secret = custody::slip39::combine(&shares, b"").unwrap();
    assert_eq!(&secret[..], u.master.expose());
}

#[test]
fn extend_refusals() {
    let v = vault();
    let quorum3 = || present(&[v.old(1), v.old(2), v.old(3)]);
    assert!(matches!(
        extend::extend(&v.vault, &quorum3(), Some("Board"), &names(&["x"]), &v.output("e1"), clock(1)),
        Err(ExtendError::NoSuchGroup { ref name, ref groups }) if name == "Board" && groups == &["custodians"]
    ));
    // Two shares of a 3-of-5 group make no quorum.
    assert!(matches!(
        extend::extend(
            &v.vault,
            &present(&[v.old(1), v.old(2)]),
            None,
            &names(&["x"]),
            &v.output("e2"),
            clock(1)
        ),
        Err(ExtendError::Session(SessionError::Quorum(_)))
    ));
    // More than 16 members.
    let many: Vec<String> = (0..12).map(|i| format!("m{i}")).collect();
    assert!(matches!(
        extend::extend(&v.vault, &quorum3(), None, &many, &v.output("e3"), clock(1)),
        Err(ExtendError::Policy(PolicyError::TooManyMembers {
            count: 17,
            ..
        }))
    ));
    for d in ["e1", "e2", "e3"] {
        assert!(!v.root.join(d).exists());
    }
    assert_eq!(
        store::load(&v.vault).unwrap().policy().groups[0]
            .custodians
            .len(),
        5
    );
}

#[test]
fn extend_needs_the_group_and_a_threshold_of_its_shares() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let vault = root.join("vault.json");
    common::custody()
        .env("CUSTODY_FAKE_NOW", T0.to_string())
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
    let f = |n: usize, name: &str| root.join(format!("sh/{n:02}-{name}.txt"));
    let out = |d: &str| Output {
        out_dir: root.join(d),
        formats: vec![Format::Txt],
        paper: Paper::A4,
        delivery: Default::default(),
    };
    // Ops completes the quorum; Board has one share of its two.
    let pres = || present(&[f(1, "alice"), f(2, "bob"), f(4, "dave")]);
    assert!(matches!(
        extend::extend(&vault, &pres(), None, &names(&["fay"]), &out("x"), clock(1)),
        Err(ExtendError::GroupNeeded { ref groups }) if groups == &["Ops", "Board"]
    ));
    assert!(matches!(
        extend::extend(&vault, &pres(), Some("Board"), &names(&["fay"]), &out("x"), clock(1)),
        Err(ExtendError::TooFewGroupShares { ref group, threshold: 2, given: 1 }) if group == "Board"
    ));
    assert!(!root.join("x").exists());
    // Ops can be extended by the same quorum; the new member is numbered after everyone.
    let e = extend::extend(
        &vault,
        &pres(),
        Some("Ops"),
        &names(&["fay"]),
        &out("x"),
        clock(1),
    )
    .unwrap();
    assert_eq!(e.member_indices, [3]);
    let fay = root.join("x/06-fay.txt");
    let after = store::load(&vault).unwrap();
    quorum::unlock(&present(&[fay, f(3, "carol")]).shares, Some(&after), None).unwrap();
}

#[test]
fn errors_chain_to_their_cause_and_name_no_commands() {
    use std::error::Error as _;
    let v = vault();
    reshare(&v);
    let e = rekey::rotate_master(
        &v.vault,
        &present(&[v.old(1), v.old(2), v.old(3)]),
        new_policy(),
        &v.output("other"),
        clock(1),
    )
    .unwrap_err();
    assert!(e.source().is_some());
    let text = e.to_string();
    assert!(text.contains("already waiting"), "{text}");
    assert!(!text.contains("custody ") && !text.contains("--"), "{text}");
    let e = extend::extend(
        &v.vault,
        &present(&[v.old(1)]),
        Some("nope"),
        &names(&["x"]),
        &v.output("e"),
        clock(1),
    )
    .unwrap_err();
    assert!(!e.to_string().contains("--"), "{e}");
}

#[test]
fn extend_of_a_group_of_threshold_1_issues_a_copy_of_its_one_share() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let vault = root.join("vault.json");
    common::custody()
        .env("CUSTODY_FAKE_NOW", T0.to_string())
        .arg("init")
        .arg("--vault")
        .arg(&vault)
        .arg("--out-dir")
        .arg(root.join("sh"))
        .args([
            "--group",
            "Board:1",
            "--group",
            "Ops:2",
            "--group-threshold",
            "2",
        ])
        .args(["--iteration-exponent", "0", "--sheets", "txt"])
        .args([
            "--custodian",
            "Board/frank",
            "Ops/olga",
            "Ops/oscar",
            "Ops/otto",
        ])
        .assert()
        .success();
    let f = |n: usize, name: &str| root.join(format!("sh/{n:02}-{name}.txt"));
    let e = extend::extend(
        &vault,
        &present(&[f(1, "frank"), f(2, "olga"), f(3, "oscar")]),
        Some("Board"),
        &names(&["gina"]),
        &Output {
            out_dir: root.join("ext"),
            formats: vec![Format::Txt],
            paper: Paper::A4,
            delivery: Default::default(),
        },
        clock(1),
    )
    .unwrap();
    assert_eq!(e.member_indices, [1]);
    let after = store::load(&vault).unwrap();
    assert_eq!(
        after.policy().sentence(),
        "Board: any 1 of 2 (frank, gina) AND Ops: any 2 of 3 (olga, oscar, otto)"
    );
    let gina = root.join("ext/05-gina.txt");
    let frank = input::read_file(&f(1, "frank")).unwrap();
    let copy = input::read_file(&gina).unwrap();
    assert_eq!(frank.share.to_words(), copy.share.to_words());
    // gina's copy with two Ops shares opens; with frank's copy alone Ops is still missing.
    let u = quorum::unlock(
        &present(&[gina.clone(), f(3, "oscar"), f(4, "otto")]).shares,
        Some(&after),
        None,
    )
    .unwrap();
    assert_eq!(u.members[0].custodian, "gina");
    assert!(matches!(
        quorum::unlock(&present(&[gina, f(1, "frank")]).shares, Some(&after), None),
        Err(quorum::QuorumError::TooFew { .. })
    ));
}
