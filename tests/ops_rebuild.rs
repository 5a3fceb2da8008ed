//! `ops::rebuild` driven directly (no command line): typed refusals (the file or its log
//! exists, no token, tokens of two vaults, a group with no share and no size, a size smaller
//! than a member presented), placeholders that the rules for new names accept, and a group
//! none of whose shares was presented rebuilt from its given K/N.

use std::path::{Path, PathBuf};

use custody::clock::Clock;
use custody::custodian_name;
use custody::input;
use custody::ops::rebuild::{self, GroupShape, RebuildError};
use custody::ops::session::Presentation;

mod common;

const T0: u64 = 1_790_000_000; // 2026-09-21

fn present(files: &[PathBuf]) -> Presentation {
    Presentation {
        shares: files.iter().map(|f| input::read_file(f).unwrap()).collect(),
        ..Presentation::default()
    }
}

/// Two groups, Ops 2 of 3 (a1, b2, c3) and Board 2 of 2 (d4, e5), one group needed, in `dir`.
fn two_groups(dir: &Path, name: &str) -> PathBuf {
    let vault = dir.join(format!("{name}.json"));
    common::custody()
        .env("CUSTODY_FAKE_NOW", T0.to_string())
        .arg("init")
        .arg("--vault")
        .arg(&vault)
        .arg("--out-dir")
        .arg(dir.join(name))
        .args(["--iteration-exponent", "0", "--sheets", "txt"])
        .args([
            "--group",
            "Ops:2",
            "--group",
            "Board:2",
            "--group-threshold",
            "1",
        ])
        .args([
            "--custodian",
            "Ops/a1",
            "Ops/b2",
            "Ops/c3",
            "Board/d4",
            "Board/e5",
        ])
        .assert()
        .success();
    std::fs::remove_file(&vault).unwrap();
    dir.join(name)
}

fn shape(s: &str) -> GroupShape {
    s.parse().unwrap()
}

#[test]
fn placeholders_meet_the_rules_for_new_names() {
    for name in [
        custodian_name::unknown_custodian(1, 4),
        custodian_name::unknown_group(2),
    ] {
        assert_eq!(custodian_name::admit(&name).as_deref(), Ok(name.as_str()));
        assert!(custodian_name::is_placeholder(&name), "{name}");
    }
    for name in [
        "unknown",
        "unknown-",
        "unknown-1",
        "unknown-1.x",
        "dave",
        "unknown-group-",
    ] {
        assert!(!custodian_name::is_placeholder(name), "{name}");
    }
    assert_eq!(
        shape("5"),
        GroupShape {
            threshold: None,
            count: 5
        }
    );
    assert_eq!(
        shape("2/3"),
        GroupShape {
            threshold: Some(2),
            count: 3
        }
    );
    assert!("0".parse::<GroupShape>().is_err());
    assert!("17".parse::<GroupShape>().is_err());
}

#[test]
fn a_group_without_shares_needs_its_size_and_gets_placeholders() {
    let dir = tempfile::tempdir().unwrap();
    let sh = two_groups(dir.path(), "v");
    let out = dir.path().join("rebuilt.json");
    let ops = [sh.join("01-a1.txt"), sh.join("03-c3.txt")];
    let clock = Clock::fixed(T0 + 100);

    assert!(matches!(
        rebuild::rebuild(&out, &present(&ops), &[shape("3")], clock),
        Err(RebuildError::GroupShapeNeeded {
            group: 2,
            groups: 2
        })
    ));
    assert!(matches!(
        rebuild::rebuild(&out, &present(&ops), &[shape("2"), shape("2/2")], clock),
        Err(RebuildError::ShapeDisagrees { group: 1, .. })
    ));
    assert!(matches!(
        rebuild::rebuild(&out, &present(&ops), &[shape("3/3"), shape("2/2")], clock),
        Err(RebuildError::ShapeDisagrees { group: 1, .. })
    ));
    assert!(matches!(
        rebuild::rebuild(
            &out,
            &present(&ops),
            &[shape("3"), shape("2/2"), shape("1")],
            clock
        ),
        Err(RebuildError::TooManyShapes {
            given: 3,
            groups: 2
        })
    ));
    assert!(!out.exists());

    let r = rebuild::rebuild(&out, &present(&ops), &[shape("3"), shape("2/2")], clock).unwrap();
    assert_eq!(
        r.vault.policy().describe(),
        [
            "Ops: any 2 of 3 (a1, unknown-1.2, c3)",
            "unknown-group-2: any 2 of 2 (unknown-2.1, unknown-2.2)",
            "Needed: 1 of the 2 groups"
        ]
    );
    assert_eq!(r.unknown, ["unknown-1.2", "unknown-2.1", "unknown-2.2"]);
    assert!(r.assumed.is_empty());
    // Board's sheets open the rebuilt vault, named by their tokens.
    let begun = custody::ops::session::Begun::begin(&out, "drill", Clock::fixed(T0 + 200)).unwrap();
    let session = begun
        .unlock(&present(&[sh.join("04-d4.txt"), sh.join("05-e5.txt")]))
        .unwrap();
    let names: Vec<&str> = session
        .members()
        .iter()
        .map(|m| m.custodian.as_str())
        .collect();
    assert_eq!(names, ["d4", "e5"]);
    assert_eq!(session.members()[0].group, "Board");
    session
        .finish(Ok::<(), custody::audit::AuditError>(()), |()| {
            "drill".into()
        })
        .unwrap();

    // Never over the rebuilt vault, nor over a log left where it would go.
    assert!(matches!(
        rebuild::rebuild(&out, &present(&ops), &[shape("3"), shape("2/2")], clock),
        Err(RebuildError::Exists(ref p)) if *p == out
    ));
    let other = dir.path().join("other.json");
    std::fs::write(dir.path().join("other.json.audit"), b"").unwrap();
    assert!(matches!(
        rebuild::rebuild(&other, &present(&ops), &[shape("3"), shape("2/2")], clock),
        Err(RebuildError::Exists(ref p)) if p.ends_with("other.json.audit")
    ));
}

#[test]
fn tokens_must_name_one_vault_and_at_least_one_is_needed() {
    let dir = tempfile::tempdir().unwrap();
    let v = two_groups(dir.path(), "v");
    let w = two_groups(dir.path(), "w");
    let out = dir.path().join("rebuilt.json");
    let clock = Clock::fixed(T0 + 100);
    assert!(matches!(
        rebuild::rebuild(
            &out,
            &present(&[v.join("01-a1.txt"), w.join("02-b2.txt")]),
            &[],
            clock
        ),
        Err(RebuildError::TokensDisagree {
            field: "vault id",
            ..
        })
    ));
    let words: Vec<PathBuf> = ["01-a1", "02-b2"]
        .iter()
        .map(|n| {
            let p = dir.path().join(format!("{n}.words"));
            std::fs::write(&p, common::field(&v.join(format!("{n}.txt")), "words")).unwrap();
            p
        })
        .collect();
    assert!(matches!(
        rebuild::rebuild(&out, &present(&words), &[], clock),
        Err(RebuildError::NoToken)
    ));
    assert!(!out.exists());
}
