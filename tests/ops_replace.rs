//! `ops::replace` driven directly (no command line): the successor policy keeps the shape
//! (same groups and thresholds, members renumbered), refuses with typed errors when the
//! custodian is unknown, the successor clashes, the reason is missing or the policy would
//! break; a replacement is a pending master rotation that `rekey::confirm` completes, after
//! which the removed custodian's share is stale.

use std::path::PathBuf;

use custody::clock::Clock;
use custody::input;
use custody::ops::rekey::{self, ChangeKind, Output};
use custody::ops::replace::{self, ReplaceError, Replacement};
use custody::ops::session::{Presentation, SessionError};
use custody::policy::{Policy, PolicyError};
use custody::quorum::QuorumError;
use custody::sheet::{Format, Paper};
use custody::vault::store;

mod common;
use common::init_args;

const T0: u64 = 1_790_000_000; // 2026-09-21
const DAY: u64 = 86_400;
const OLD: [&str; 5] = ["alice", "bob", "carol", "dave", "erin"];

fn names(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

fn present(files: &[PathBuf]) -> Presentation {
    Presentation {
        shares: files.iter().map(|f| input::read_file(f).unwrap()).collect(),
        ..Presentation::default()
    }
}

#[test]
fn the_successor_policy_keeps_the_shape_and_renumbers_members() {
    let p = Policy::grouped(
        &names(&["Ops:2", "Board:2"]),
        &names(&[
            "Ops/alice",
            "Ops/bob",
            "Ops/carol",
            "Board/dave",
            "Board/erin",
        ]),
        Some(2),
    )
    .unwrap();
    let (next, group) = replace::successor_policy(&p, "BOB", None).unwrap();
    assert_eq!(group, "Ops");
    assert_eq!(
        next.describe(),
        [
            "Ops: any 2 of 2 (alice, carol)",
            "Board: any 2 of 2 (dave, erin)",
            "Needed: 2 of the 2 groups"
        ]
    );
    assert_eq!(next.groups[0].custodians[1].member_index, 1);
    let (next, _) = replace::successor_policy(&p, "dave", Some("fay")).unwrap();
    assert_eq!(next.describe()[1], "Board: any 2 of 2 (fay, erin)");

    assert!(matches!(
        replace::successor_policy(&p, "zed", None),
        Err(ReplaceError::UnknownCustodian { ref custodians, .. }) if custodians.len() == 5
    ));
    // Board would need 2 of its 1 custodian.
    assert!(matches!(
        replace::successor_policy(&p, "erin", None),
        Err(ReplaceError::PolicyAfter {
            ref group,
            replaced: false,
            source: PolicyError::BadMemberThreshold { threshold: 2, count: 1, .. },
            ..
        }) if group == "Board"
    ));
    assert!(matches!(
        replace::successor_policy(&p, "erin", Some("Alice")),
        Err(ReplaceError::PolicyAfter {
            replaced: true,
            source: PolicyError::DuplicateName { .. },
            ..
        })
    ));
    assert!(matches!(
        replace::check_reason(""),
        Err(ReplaceError::BadReason(_))
    ));
    assert!(matches!(
        replace::check_reason("lost\nsheet"),
        Err(ReplaceError::BadReason(_))
    ));
    assert!(replace::check_reason("sheet lost").is_ok());
}

#[test]
fn a_replacement_is_a_master_rotation_and_the_removed_share_is_stale_after_confirm() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let vault = root.join("vault.json");
    let mut c = common::custody();
    c.env("CUSTODY_FAKE_NOW", T0.to_string());
    init_args(&mut c, &vault, &root.join("sh"), "3", "txt")
        .arg("--custodian")
        .args(OLD)
        .assert()
        .success();
    let old = |n: usize| root.join(format!("sh/{n:02}-{}.txt", OLD[n - 1]));
    let output = Output {
        out_dir: root.join("new"),
        formats: vec![Format::Txt],
        paper: Paper::A4,
        delivery: Default::default(),
    };
    let replacement = Replacement {
        remove: "dave".into(),
        add: None,
        reason: "sheet lost".into(),
    };
    let r = replace::replace_custodian(
        &vault,
        &present(&[old(1), old(2), old(3)]),
        &replacement,
        &output,
        Clock::fixed(T0 + DAY),
    )
    .unwrap();
    assert_eq!(r.removed, "dave");
    assert_eq!(r.prepared.kind, ChangeKind::RotateMaster);
    assert_eq!(r.prepared.tokens.len(), 4);
    let v = store::load(&vault).unwrap();
    assert_eq!(v.epoch(), 1);
    assert_eq!(v.pending_change().unwrap().kind(), ChangeKind::RotateMaster);

    // A second change cannot start while this one waits.
    assert!(matches!(
        replace::replace_custodian(
            &vault,
            &present(&[old(1), old(2), old(3)]),
            &replacement,
            &output,
            Clock::fixed(T0 + DAY),
        ),
        Err(ReplaceError::Rekey(rekey::RekeyError::Change(_)))
    ));

    let new = |n: usize, name: &str| root.join(format!("new/{n:02}-{name}.txt"));
    rekey::confirm(
        &vault,
        &present(&[new(1, "alice"), new(2, "bob"), new(4, "erin")]),
        Clock::fixed(T0 + 2 * DAY),
    )
    .unwrap();
    let v = store::load(&vault).unwrap();
    assert_eq!(v.epoch(), 2);
    assert_eq!(
        v.policy().describe(),
        ["custodians: any 3 of 4 (alice, bob, carol, erin)"]
    );
    // dave's share, with two new ones, does not open the vault.
    let begun =
        custody::ops::session::Begun::begin(&vault, "drill", Clock::fixed(T0 + 3 * DAY)).unwrap();
    assert!(matches!(
        begun.unlock(&present(&[old(4), new(1, "alice"), new(2, "bob")])),
        Err(SessionError::Quorum(QuorumError::Rejected(ref r))) if r.len() == 1
    ));
}
