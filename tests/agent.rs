//! The agent end to end, through the real binary: unlock once, bots restart without a quorum,
//! refusals, sealing in every way, and the audit trail.

use std::fs;
use std::time::Duration;

use predicates::str::contains;

mod common;
use common::agent::{self, Agent, BINANCE_KEY, BINANCE_SECRET, OKX_KEY};

#[test]
fn one_unlock_serves_many_restarts_without_a_quorum() {
    let f = agent::fixture();
    let a = Agent::start(&f, &[]);
    a.cmd("status", &["--json"])
        .assert()
        .success()
        .stdout(contains(r#""state":"sealed""#));
    a.unlock(&f);
    let status: serde_json::Value =
        serde_json::from_slice(&a.cmd("status", &["--json"]).output().unwrap().stdout).unwrap();
    assert_eq!(status["state"], "unlocked");
    assert_eq!(status["format"], "custody-agent-status/1");
    assert_eq!(
        status["credentials"],
        serde_json::json!(["binance-main", "okx-main"])
    );
    assert!(status["expires_at"].is_string());
    // A bot restarting 20 times: no share anywhere, the same variables as `custody exec`.
    for _ in 0..20 {
        let out = a
            .cmd("exec", &["--cred", "binance-main", "--", "sh", "-c"])
            .arg("test \"$BINANCE_MAIN_API_KEY\" = \"$K\" && test \"$BINANCE_MAIN_API_SECRET\" = \"$S\"")
            .env("K", BINANCE_KEY)
            .env("S", BINANCE_SECRET)
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
    }
    // The exit status is the program's.
    a.cmd(
        "exec",
        &["--cred", "binance-main", "--", "sh", "-c", "exit 7"],
    )
    .assert()
    .code(7);
    // --stdin-json: one object keyed by name, as `custody exec --stdin-json` gives.
    let out = a
        .cmd("exec", &["--cred", "okx-main", "--stdin-json", "--", "cat"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["okx-main"]["api_key"], OKX_KEY);
    assert_eq!(v["okx-main"]["exchange"], "okx");
    // Sealed: a clear refusal, and nothing is served.
    a.cmd("seal", &[]).assert().success();
    a.cmd("exec", &["--cred", "binance-main", "--", "true"])
        .assert()
        .code(1)
        .stderr(contains("sealed"));
    // The audit log verifies, grants and the seal included, each signed by the agent key.
    f.cmd(&["audit", "verify"])
        .assert()
        .success()
        .stdout(contains("what an unlocked agent handed out"));
    let log = fs::read_to_string(f.vault.with_extension("vault.audit"))
        .unwrap_or_else(|_| fs::read_to_string(format!("{}.audit", f.vault.display())).unwrap());
    assert_eq!(log.matches(r#""event":"agent-granted""#).count(), 21 + 1);
    assert!(log.contains(r#""event":"agent-sealed""#));
    assert!(log.contains(r#""agent_key":""#));
    assert!(!log.contains(BINANCE_SECRET) && !log.contains(BINANCE_KEY));
    let _ = Duration::from_secs(0);
}
