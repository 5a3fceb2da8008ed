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

#[test]
fn proxy_terms_are_added_listed_and_pending_until_ratified() {
    let v = vault();
    let terms = [
        "--allow-withdraw",
        "--orders-per-second",
        "5",
        "--orders-per-minute",
        "100",
        "--symbols",
        "ethusdt,BTCUSDT",
        "--max-notional",
        "50000.50",
    ];
    let shown = "uid 1000: main at 60/min; proxy: withdraw allowed, 5 orders/s, 100 orders/min, \
                 symbols BTCUSDT ETHUSDT, max notional 50000.5";
    v.policy(&["add", "--uid", "1000", "--cred", "main"])
        .args(terms)
        .assert()
        .success()
        .stdout(contains(shown))
        .stdout(contains("grants nothing until a quorum ratifies it"));
    v.policy(&["list"])
        .assert()
        .success()
        .stdout(contains(format!("{shown}  [pending")));
    let j = v.list_json();
    let r = &j["rules"][0];
    assert_eq!(r["allow_withdraw"], true, "{j}");
    assert_eq!(r["orders_per_second"], 5);
    assert_eq!(r["orders_per_minute"], 100);
    assert_eq!(r["symbols"], serde_json::json!(["BTCUSDT", "ETHUSDT"]));
    assert_eq!(r["max_notional"], "50000.5");

    v.drill_ratify()
        .assert()
        .success()
        .stdout(contains(format!("added: {shown}")));
    assert_eq!(v.list_json()["rules"][0]["state"], "ratified");

    // The same rule without the withdrawal grant: a change, pending; the ratified terms (with
    // withdrawal) stay in force until a quorum ratifies it.
    v.policy(&["add", "--uid", "1000", "--cred", "main"])
        .args(&terms[1..])
        .assert()
        .success()
        .stdout(contains(
            "(replacing uid 1000: main at 60/min; proxy: withdraw allowed",
        ))
        .stdout(contains("a rule it replaces stays in force until then"));
    let j = v.list_json();
    let states: Vec<(&str, bool, bool)> = j["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["state"].as_str().unwrap(),
                r["in_force"].as_bool().unwrap(),
                r["allow_withdraw"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        states,
        [("change-pending", true, true), ("pending", false, false)]
    );
    v.cmd(&["creds", "status"])
        .assert()
        .success()
        .stdout(contains(
            "changed: uid 1000: main at 60/min; proxy: 5 orders/s, 100 orders/min, symbols \
             BTCUSDT ETHUSDT, max notional 50000.5 (in force until ratified: main at 60/min; \
             proxy: withdraw allowed,",
        ));
    v.drill_ratify().assert().success();
    let j = v.list_json();
    assert_eq!(j["rules"].as_array().unwrap().len(), 1);
    assert_eq!(j["rules"][0]["state"], "ratified");
    assert_eq!(j["rules"][0]["allow_withdraw"], false);

    // A rule without terms lists the defaults.
    v.policy(&["add", "--uid", "2000", "--cred", "hedge"])
        .assert()
        .success()
        .stdout(contains("uid 2000: hedge at 60/min."));
    let j = v.list_json();
    let r = &j["rules"][1];
    assert_eq!(r["uid"], 2000);
    assert_eq!(r["allow_withdraw"], false);
    assert_eq!(r["orders_per_second"], Value::Null);
    assert_eq!(r["orders_per_minute"], Value::Null);
    assert_eq!(r["symbols"], serde_json::json!([]));
    assert_eq!(r["max_notional"], Value::Null);
    v.cmd(&["audit", "verify"]).assert().success();
}

#[test]
fn bad_proxy_terms_are_refused_naming_each_value() {
    let v = vault();
    let add = |extra: &[&str]| {
        let mut c = v.policy(&["add", "--uid", "1000", "--cred", "main"]);
        c.args(extra);
        c
    };
    for (args, flag, want) in [
        (
            &["--orders-per-second", "0"][..],
            "--orders-per-second",
            "1 to 10000",
        ),
        (
            &["--orders-per-second", "10001"],
            "--orders-per-second",
            "10001 orders a second",
        ),
        (
            &["--orders-per-second", "five"],
            "--orders-per-second",
            "five",
        ),
        (
            &["--orders-per-minute", "600001"],
            "--orders-per-minute",
            "1 to 600000",
        ),
        (
            &["--symbols", "BTC USDT"],
            "--symbols",
            "the symbol `BTC USDT`",
        ),
        (
            &["--symbols", "BTCUSDT,,ETHUSDT"],
            "--symbols",
            "it is empty",
        ),
        (&["--max-notional=-5"], "--max-notional", "it has a sign"),
        (
            &["--max-notional", "1e6"],
            "--max-notional",
            "it has an exponent",
        ),
        (
            &["--max-notional", "50,000"],
            "--max-notional",
            "`50,000` is not a plain decimal",
        ),
        (
            &["--max-notional", "1000000000000000000"],
            "--max-notional",
            "more than 18 digits before the point",
        ),
    ] {
        add(args)
            .assert()
            .code(2)
            .stderr(contains(flag))
            .stderr(contains(want));
    }
    let many: Vec<String> = (0..257).map(|i| format!("S{i}")).collect();
    add(&["--symbols", &many.join(",")])
        .assert()
        .code(1)
        .stderr(contains(
            "257 symbols are listed; a rule allows at most 256",
        ));
    // Nothing was written by any of them.
    let text = fs::read_to_string(&v.vault).unwrap();
    assert!(!text.contains("agent_access"), "{text}");
    // The help shows the flags with an example.
    v.policy(&["add", "--help"])
        .assert()
        .success()
        .stdout(contains("--allow-withdraw"))
        .stdout(contains("--symbols BTCUSDT,ETHUSDT --max-notional 50000"));
}
