//! `custody agent policy add|remove|list` end to end on real files: a rule proposed without a
//! quorum grants nothing until `drill --ratify` signs it, `list` (and `--json`) says where each
//! rule stands, `creds status` and the drill report name what awaits a quorum, refusals name
//! what is wrong and what to type next, a hand-edited policy is reported as tampered, and every
//! change is in the audit log, which still verifies.

use std::fs;
use std::path::PathBuf;

use assert_cmd::Command;
use predicates::prelude::*;
use predicates::str::contains;
use serde_json::Value;

mod common;

const T0: u64 = 1_790_000_000;

struct V {
    dir: tempfile::TempDir,
    vault: PathBuf,
}

/// A 2-of-3 vault with the credentials `main` (kraken) and `hedge` (bybit), not yet ratified.
fn vault() -> V {
    let (dir, vault) = common::vault_2_of_3();
    let v = V { dir, vault };
    for (name, exchange) in [("main", "kraken"), ("hedge", "bybit")] {
        v.cmd(&[
            "creds",
            "add",
            name,
            "--exchange",
            exchange,
            "--scope",
            "trade",
        ])
        .args(["--from-json", "-"])
        .write_stdin(r#"{"api_key":"k-agent-policy","api_secret":"s-agent-policy"}"#)
        .assert()
        .success();
    }
    v
}

impl V {
    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = common::custody();
        c.env("CUSTODY_FAKE_NOW", T0.to_string())
            .args(args)
            .arg("--vault")
            .arg(&self.vault);
        c
    }

    fn policy(&self, args: &[&str]) -> Command {
        let mut all = vec!["agent", "policy"];
        all.extend_from_slice(args);
        self.cmd(&all)
    }

    fn drill_ratify(&self) -> Command {
        let sh = self.dir.path().join("sh");
        let mut c = self.cmd(&["drill", "--ratify"]);
        c.arg("--share")
            .arg(sh.join("01-alice.txt"))
            .arg("--share")
            .arg(sh.join("03-carol.txt"));
        c
    }

    fn list_json(&self) -> Value {
        let out = self
            .policy(&["list", "--json"])
            .assert()
            .get_output()
            .stdout
            .clone();
        serde_json::from_str(String::from_utf8(out).unwrap().lines().next().unwrap()).unwrap()
    }
}

#[test]
fn a_rule_added_without_a_quorum_takes_effect_when_a_drill_ratifies_it() {
    let v = vault();
    v.policy(&["list"])
        .assert()
        .success()
        .stdout(contains("no rule"));

    v.policy(&[
        "add",
        "--uid",
        "1000",
        "--cred",
        "main,hedge",
        "--rate",
        "120/min",
    ])
    .assert()
    .success()
    .stdout(contains("uid 1000: hedge, main at 120/min"))
    .stdout(contains("grants nothing until a quorum ratifies it"))
    .stdout(contains("--ratify"));
    v.policy(&["list"])
        .assert()
        .success()
        .stdout(contains("uid 1000: hedge, main at 120/min"))
        .stdout(contains("pending"));
    let j = v.list_json();
    assert_eq!(j["format"], "custody-agent-policy/1");
    assert_eq!(j["ok"], true);
    assert_eq!(j["rules"][0]["state"], "pending");
    assert_eq!(j["rules"][0]["in_force"], false);
    assert_eq!(j["rules"][0]["rate_per_minute"], 120);
    assert_eq!(j["granted"], serde_json::json!([]));

    // creds status names the change awaiting a quorum (no problem: exit 0).
    v.cmd(&["creds", "status"])
        .assert()
        .success()
        .stdout(contains("agent access policy change(s) await ratification"))
        .stdout(contains("added: uid 1000"));

    // The drill shows the change for review and signs it with the credentials.
    v.drill_ratify()
        .assert()
        .success()
        .stdout(contains(
            "Agent access policy changes awaiting ratification",
        ))
        .stdout(contains("added: uid 1000: hedge, main at 120/min"))
        .stdout(contains("1 access rule(s) in force"));
    let j = v.list_json();
    assert_eq!(j["rules"][0]["state"], "ratified");
    assert_eq!(j["rules"][0]["in_force"], true);
    assert_eq!(j["granted"], serde_json::json!(["hedge", "main"]));
    v.policy(&["list"])
        .assert()
        .success()
        .stdout(contains("ratified, in force"));

    // A narrower rule for one executable of the same uid: a new selector, pending.
    v.policy(&[
        "add",
        "--uid",
        "1000",
        "--exe",
        "/opt/bot/run",
        "--unit",
        "bot.service",
    ])
    .args(["--cred", "main"])
    .assert()
    .success()
    .stdout(contains(
        "uid 1000 exe /opt/bot/run unit bot.service: main at 60/min",
    ));

    // Removing the first rule stops it granting at once.
    v.policy(&["remove", "--uid", "1000"])
        .assert()
        .success()
        .stdout(contains("no longer grants anything"));
    let j = v.list_json();
    let states: Vec<&str> = j["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["removal-pending", "pending"]);
    assert_eq!(j["granted"], serde_json::json!([]));
    // Removing the rule no quorum ratified withdraws it.
    v.policy(&[
        "remove",
        "--uid",
        "1000",
        "--exe",
        "/opt/bot/run",
        "--unit",
        "bot.service",
    ])
    .assert()
    .success()
    .stdout(contains("Withdrew the pending rule"));
    assert_eq!(v.list_json()["rules"].as_array().unwrap().len(), 1);

    // Each change is in the audit log, which still verifies.
    v.cmd(&["audit", "show"])
        .assert()
        .success()
        .stdout(contains(
            "agent policy add: uid 1000: hedge, main at 120/min",
        ))
        .stdout(contains("agent policy remove: uid 1000"));
    v.cmd(&["audit", "verify"]).assert().success();
}

#[test]
fn refusals_name_the_problem_and_what_to_type() {
    let v = vault();
    v.policy(&["add", "--uid", "1000", "--cred", "nope"])
        .assert()
        .code(1)
        .stderr(contains(
            "no credential `nope` in the vault (it has: main, hedge)",
        ))
        .stderr(contains("custody creds add"));
    v.policy(&["add", "--uid", "1000", "--cred", "main", "--rate", "60"])
        .assert()
        .code(2)
        .stderr(contains("N/min"));
    v.policy(&["add", "--uid", "1000", "--cred", "main", "--exe", "bot"])
        .assert()
        .code(1)
        .stderr(contains("not an absolute path"))
        .stderr(contains("readlink /proc/PID/exe"));
    v.policy(&["add", "--uid", "1000", "--cred", "main", "--unit", "bot"])
        .assert()
        .code(1)
        .stderr(contains("`.service` or `.scope`"));
    v.policy(&["add", "--cred", "main"])
        .assert()
        .code(2)
        .stderr(contains("--uid"));
    v.policy(&["remove", "--uid", "7"])
        .assert()
        .code(1)
        .stderr(contains(
            "no rule of the agent access policy is for `uid 7`",
        ))
        .stderr(contains("custody agent policy list"));
    // Nothing was written by any of them.
    let text = fs::read_to_string(&v.vault).unwrap();
    assert!(!text.contains("agent_access"), "{text}");
}

#[test]
fn a_hand_edited_policy_is_reported_and_grants_nothing() {
    let v = vault();
    v.policy(&["add", "--uid", "1000", "--cred", "main"])
        .assert()
        .success();
    v.drill_ratify().assert().success();
    let good = fs::read_to_string(&v.vault).unwrap();
    let mut j: Value = serde_json::from_str(&good).unwrap();
    j["agent_access"]["ratified"][0]["credentials"] = serde_json::json!(["hedge", "main"]);
    fs::write(&v.vault, serde_json::to_string_pretty(&j).unwrap()).unwrap();

    v.policy(&["list"])
        .assert()
        .code(1)
        .stdout(contains("TAMPERED"))
        .stderr(contains("changed outside custody"))
        .stderr(contains(".bak"));
    let j = v.list_json();
    assert_eq!(j["ok"], false);
    assert_eq!(j["rules"][0]["state"], "tampered");
    assert!(
        j["problem"]
            .as_str()
            .unwrap()
            .contains("changed outside custody")
    );
    v.cmd(&["creds", "status"])
        .assert()
        .code(1)
        .stdout(contains(
            "PROBLEM: the agent access policy was changed outside custody",
        ));
    v.drill_ratify()
        .assert()
        .code(1)
        .stderr(contains("nothing was ratified"))
        .stderr(contains("agent access policy"));
    v.policy(&["add", "--uid", "2000", "--cred", "main"])
        .assert()
        .code(1)
        .stderr(contains("changed outside custody"));
    // The file as custody wrote it, put back: the ratified policy is in force again.
    fs::write(&v.vault, good).unwrap();
    v.policy(&["list"])
        .assert()
        .success()
        .stdout(contains("ratified, in force"))
        .stdout(contains("TAMPERED").not());
}
