//! The signing proxy driven by real, unmodified ccxt (Python, the version scripts/test pins)
//! against local mocks of each exchange that verify signatures exactly as the exchange
//! documents them (tests/exchange_mock/). Per exchange: load markets, fetch the balance,
//! place, fetch and cancel a limit order, and try a withdrawal, which custody refuses before
//! the exchange sees it. The bot holds only its proxy token and a dummy secret.

mod common;

use std::time::Duration;

use common::agent::Agent;
use common::exchange_mock::{Mock, agent, bot_args, ccxt_available, vault};

/// ccxt id, credential name, custody exchange.
const BOTS: &[(&str, &str, &str)] = &[
    ("binance", "binance-main", "binance"),
    ("binanceusdm", "binance-main", "binance"),
    ("okx", "okx-main", "okx"),
    ("bybit", "bybit-main", "bybit"),
    ("kraken", "kraken-main", "kraken"),
    ("coinbase", "coinbase-main", "coinbase"),
];

/// Run bot.py for `id` under `agent exec --proxy --cred NAME`; its one JSON line.
fn run_bot(a: &Agent, id: &str, name: &str, scenario: &str) -> serde_json::Value {
    let mut args = vec![
        "--proxy".to_owned(),
        "--cred".to_owned(),
        name.to_owned(),
        "--".to_owned(),
    ];
    args.extend(bot_args(&[
        "--exchange",
        id,
        "--env",
        name,
        "--scenario",
        scenario,
    ]));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = a
        .cmd("exec", &refs)
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout.lines().last().unwrap_or("");
    serde_json::from_str(line).unwrap_or_else(|e| {
        panic!(
            "{id}: no JSON line from the bot ({e}): status {:?}\nstdout: {stdout}\nstderr: {}\nagent: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr),
            a.log()
        )
    })
}

#[test]
fn ccxt_bots_trade_through_the_proxy_and_withdrawals_are_refused() {
    if !ccxt_available() {
        return;
    }
    let ids: Vec<&str> = BOTS.iter().map(|b| b.0).collect();
    let mock = Mock::start(&ids);
    let creds: Vec<(&str, &str, &str, &str)> = BOTS
        .iter()
        .filter(|b| b.0 != "binanceusdm")
        .map(|(id, name, ex)| (*name, *id, *ex, "read,trade"))
        .collect();
    let f = vault(&mock, &creds, &[]);
    let (a, _listen) = agent(&f, &mock, &ids);
    let results: Vec<(String, serde_json::Value)> = std::thread::scope(|s| {
        let handles: Vec<_> = BOTS
            .iter()
            .map(|(id, name, _)| {
                let a = &a;
                s.spawn(move || (id.to_string(), run_bot(a, id, name, "full")))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut matrix = String::new();
    for (id, r) in &results {
        assert_eq!(r["ok"], true, "{id}: {r}\nagent log:\n{}", a.log());
        assert!(r["order_id"].is_string(), "{id}: no order placed: {r}");
        assert_eq!(r["cancelled"], true, "{id}: {r}");
        assert_eq!(
            r["withdraw"]["ok"], false,
            "{id}: the withdrawal went through: {r}"
        );
        let msg = r["withdraw"]["message"].as_str().unwrap_or("");
        assert!(
            msg.contains("moves funds") || msg.contains("withdraw"),
            "{id}: the withdrawal's refusal does not say why: {msg}"
        );
        matrix.push_str(&format!(
            "{id}: balance ok, order {} placed and cancelled, withdraw refused ({})\n",
            r["order_id"], r["withdraw"]["error"]
        ));
    }
    eprintln!("{matrix}");
    // The mocks saw every private request correctly signed, and never a withdrawal.
    let seen = mock.requests();
    assert!(!seen.is_empty());
    for r in &seen {
        assert_ne!(
            r["verdict"], "rejected",
            "a mock rejected a proxied request: {r}"
        );
        let path = r["path"].as_str().unwrap_or("");
        assert!(
            !path.contains("withdraw") && !path.ends_with("/transactions"),
            "a withdrawal reached the exchange: {r}"
        );
    }
    // The bot never had the secret: the agent's audit log names each request, and no record
    // holds a secret value.
    a.cmd("seal", &[]).assert().success();
    let audit = std::fs::read_to_string(format!("{}.audit", f.vault.display())).unwrap();
    assert!(audit.contains("agent-proxied"), "{audit}");
    for (id, _, _) in BOTS {
        let secret = mock.creds[*id]["secret"].as_str().unwrap();
        assert!(!audit.contains(secret), "the audit log holds {id}'s secret");
    }
    f.cmd(&["audit", "verify"]).assert().success();
}
