//! "Board 1-of-2 AND Ops 2-of-3" from the command line: init issues frank and gina copies of
//! Board's one share, check-share and drill name the holder, and the drill matrix (which
//! subsets open the vault, which do not) on real files, with the audit log naming every holder.

use std::fs;
use std::path::{Path, PathBuf};

use predicates::prelude::*;
use predicates::str::contains;

mod common;
use common::{custody, field};

struct Board {
    _dir: tempfile::TempDir,
    vault: PathBuf,
    shares: PathBuf,
}

/// Board 1-of-2 (frank, gina) AND Ops 2-of-3 (olga, oscar, otto), text share files.
fn board_and_ops() -> Board {
    let dir = tempfile::tempdir().unwrap();
    let vault = dir.path().join("v.json");
    let shares = dir.path().join("s");
    custody()
        .arg("init")
        .arg("--vault")
        .arg(&vault)
        .arg("--out-dir")
        .arg(&shares)
        .args([
            "--group",
            "Board:1",
            "--group",
            "Ops:2",
            "--group-threshold",
            "2",
        ])
        .args(["--iteration-exponent", "0", "--sheets", "txt"])
        .args(["--custodian", "Board/frank", "Board/gina"])
        .args(["--custodian", "Ops/olga", "Ops/oscar", "Ops/otto"])
        .assert()
        .success()
        .stdout(contains(
            "policy       Board: any 1 of 2 (frank, gina) AND Ops: any 2 of 3 (olga, oscar, otto)",
        ));
    Board {
        _dir: dir,
        vault,
        shares,
    }
}

fn file(b: &Board, who: &str) -> PathBuf {
    let n = ["frank", "gina", "olga", "oscar", "otto"]
        .iter()
        .position(|&x| x == who)
        .unwrap();
    b.shares.join(format!("{:02}-{who}.txt", n + 1))
}

fn drill(b: &Board, who: &[&str]) -> assert_cmd::assert::Assert {
    let mut c = custody();
    c.arg("drill").arg("--vault").arg(&b.vault);
    for w in who {
        c.arg("--share").arg(file(b, w));
    }
    c.assert()
}

fn audit(vault: &Path) -> String {
    let mut p = vault.as_os_str().to_owned();
    p.push(".audit");
    fs::read_to_string(PathBuf::from(p)).unwrap()
}

#[test]
fn frank_and_gina_hold_copies_of_boards_one_share() {
    let b = board_and_ops();
    let (frank, gina) = (file(&b, "frank"), file(&b, "gina"));
    // The same SLIP-39 words, in two tokens naming their holders.
    assert_eq!(field(&frank, "words"), field(&gina, "words"));
    assert_ne!(field(&frank, "token"), field(&gina, "token"));
    assert_eq!(field(&gina, "custodian"), "gina");
    assert_eq!(field(&gina, "index"), "1");
    assert_eq!(field(&gina, "copy"), "2 of 2");
    custody()
        .arg("check-share")
        .arg("--vault")
        .arg(&b.vault)
        .arg(&frank)
        .arg(&gina)
        .assert()
        .success()
        .stdout(contains(
            "gina — copy 2 of group Board's one share, held by frank and gina",
        ))
        .stdout(contains("frank — copy 1 of group Board's one share"));
    // The words alone: either holder's.
    let words = b.shares.join("words.txt");
    fs::write(&words, field(&frank, "words")).unwrap();
    custody()
        .arg("check-share")
        .arg("--vault")
        .arg(&b.vault)
        .arg(&words)
        .assert()
        .success()
        .stdout(contains(
            "frank or gina — copy 1 of group Board's one share",
        ));
}

#[test]
fn drill_matrix() {
    let b = board_and_ops();
    drill(&b, &["frank", "olga", "oscar"])
        .success()
        .stdout(contains("frank (group Board, copy 1)"));
    drill(&b, &["gina", "oscar", "otto"])
        .success()
        .stdout(contains("gina (group Board, copy 2)"));
    drill(&b, &["frank", "gina"])
        .code(1)
        .stderr(contains("have 0 of 2 for group Ops"))
        .stderr(contains("1 of the 2 groups are complete; 2 are needed"))
        .stderr(contains(
            "frank's and gina's copies of group Board's one share count once",
        ))
        .stderr(contains("duplicate").not().and(contains("twice").not()));
    drill(&b, &["olga", "oscar", "otto"])
        .code(1)
        .stderr(contains("have 0 of 1 for group Board"));
    drill(&b, &["frank", "gina", "olga", "oscar"])
        .success()
        .stdout(contains("frank (group Board, copy 1)"))
        .stdout(contains("gina (group Board, copy 2)"))
        .stdout(contains(
            "frank's and gina's copies of group Board's one share are the same share: \
             presented together they count once",
        ));
    let log = audit(&b.vault);
    assert!(log.contains(r#""custodian":"gina""#), "{log}");
    assert!(log.contains(r#""key":"counted_once""#), "{log}");
}

#[test]
fn a_certificate_names_both_holders_and_counts_the_share_once() {
    let b = board_and_ops();
    let cert = b.shares.join("drill.cert");
    let mut c = custody();
    c.arg("drill").arg("--vault").arg(&b.vault).arg("--json");
    for w in ["gina", "frank", "otto", "olga"] {
        c.arg("--share").arg(file(&b, w));
    }
    let out = c.arg("--certificate").arg(&cert).assert().success();
    let json: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(
        json["counted_once"][0]["holders"],
        serde_json::json!(["gina", "frank"])
    );
    assert_eq!(json["counted_once"][0]["group"], "Board");
    let signed: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&cert).unwrap()).unwrap();
    assert_eq!(signed["shares_used"], 3, "{signed}");
    custody()
        .arg("verify-certificate")
        .arg(&cert)
        .arg("--vault")
        .arg(&b.vault)
        .assert()
        .success()
        .stdout(contains("gina").and(contains("frank")));
}
