//! Each exchange module (src/exchange/<name>.rs) against Python ccxt 4.5.75 itself:
//! tests/fixtures/ccxt_requests.py builds every exchange with the *real* test credentials and a
//! pinned clock and records the requests ccxt makes for the methods a bot uses. Each request is
//! then handled as the proxy handles a bot's: its target is taken apart by the proxy's parser,
//! its host must be pinned and its method and path a row of the table, its key is read back,
//! an order's facts must be readable, and after `strip` the module's `sign` at ccxt's time (and
//! nonce) must give ccxt's own request: the same path, query, body and authentication headers
//! for OKX, Bybit, Kraken and Coinbase (a legacy key, whose signature is deterministic), and
//! for Binance the same parameters in the same place with a valid signature (the proxy writes
//! `timestamp` last where ccxt writes it first).
//!
//! Skipped, with a note, where ccxt 4.5.75 is not installed (`pip install ccxt==4.5.75`).

use std::io::Write;
use std::process::{Command, Stdio};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use custody::exchange::binance;
use custody::exchange::class::{Class, Method, Orders, lookup};
use custody::exchange::registry;
use custody::exchange::request::{Param, Request, parse_body, parse_params};
use custody::exchange::venue::{Secrets, Stamp};
use custody::secret::SecretBytes;
use serde_json::{Value, json};

mod common;

const TOKEN: &str = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

fn creds() -> Value {
    json!({
        "binance": {"apiKey": "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A",
                    "secret": "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"},
        "okx": {"apiKey": "985d5b66-57ce-40fb-b714-afc0b9787083",
                "secret": "22582BD0CFF14C41EDBF1AB98506286D", "password": "real-passphrase"},
        "bybit": {"apiKey": "XXXXXXXXXXbybitkey", "secret": "XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"},
        "kraken": {"apiKey": "kraken-key",
                   "secret": STANDARD.encode((0u8..64).collect::<Vec<u8>>())},
        "coinbase": {"apiKey": "legacy-coinbase-key", "secret": "legacysecret0123456789abcdefghij"},
    })
}

/// ccxt's requests, or `None` (with a note) where ccxt 4.5.75 is not installed.
fn ccxt_requests(creds: &Value) -> Option<Vec<Value>> {
    if !common::have("python3", "the ccxt round trip") {
        return None;
    }
    let v = Command::new("python3")
        .args(["-c", "import ccxt; print(ccxt.__version__)"])
        .output()
        .unwrap();
    if String::from_utf8_lossy(&v.stdout).trim() != "4.5.75" {
        eprintln!("note: Python ccxt 4.5.75 not installed; skipping the ccxt round trip");
        return None;
    }
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/ccxt_requests.py"
    );
    let mut py = Command::new("python3")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    py.stdin
        .take()
        .unwrap()
        .write_all(creds.to_string().as_bytes())
        .unwrap();
    let out = py.wait_with_output().unwrap();
    assert!(out.status.success(), "{out:?}");
    Some(serde_json::from_slice(&out.stdout).unwrap())
}

fn secrets(c: &Value) -> Secrets {
    Secrets {
        api_key: SecretBytes::copy_from(c["apiKey"].as_str().unwrap().as_bytes()),
        secret: SecretBytes::copy_from(c["secret"].as_str().unwrap().as_bytes()),
        passphrase: c["password"]
            .as_str()
            .map(|p| SecretBytes::copy_from(p.as_bytes())),
    }
}

fn header<'h>(headers: &'h [(&'static str, String)], name: &str) -> Option<&'h str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Binance's parameters without `timestamp` and `signature`, and where they were.
fn binance_params(query: &str, body: &[u8]) -> (Vec<Param>, Vec<Param>) {
    let keep = |p: &Param| p.name != "timestamp" && p.name != "signature";
    let q = parse_params(query, "query").unwrap();
    let b = parse_params(std::str::from_utf8(body).unwrap(), "body").unwrap();
    (
        q.into_iter().filter(keep).collect(),
        b.into_iter().filter(keep).collect(),
    )
}

#[test]
fn every_request_ccxt_makes_is_served_and_signed_as_ccxt_signs_it() {
    let creds = creds();
    let Some(recorded) = ccxt_requests(&creds) else {
        return;
    };
    assert!(
        recorded.len() > 100,
        "ccxt made only {} requests",
        recorded.len()
    );
    let (mut signed, mut public, mut orders) = (0, 0, 0);
    for r in &recorded {
        let ex = r["exchange"].as_str().unwrap();
        let what = format!("{ex} {} ({})", r["url"], r["call"]);
        let url = r["url"].as_str().unwrap();
        let t = custody::proxy::target::parse(&format!("/{TOKEN}/{url}"))
            .unwrap_or_else(|e| panic!("{what}: {}", e.error));
        let (v, host) =
            registry::for_host(&t.host).unwrap_or_else(|| panic!("{what}: host not pinned"));
        assert_eq!(v.exchange(), ex, "{what}");
        let method = Method::parse(r["method"].as_str().unwrap()).unwrap();
        let ccxt_headers: Vec<(String, String)> = r["headers"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v.as_str().unwrap().to_owned()))
            .collect();
        let ccxt_body = r["body"].as_str().unwrap_or("").as_bytes().to_vec();
        let query = parse_params(&t.query, "query").unwrap();
        let ct = ccxt_headers
            .iter()
            .find(|(n, _)| n == "content-type")
            .map(|(_, v)| v.as_str());
        let mut req = Request {
            method,
            host,
            body: parse_body(&ccxt_body, ct, &query)
                .unwrap_or_else(|e| panic!("{what}: {}", e.message)),
            path: t.path.clone(),
            query,
            headers: ccxt_headers.clone(),
        };
        let endpoint = lookup(v.endpoints(host), method, &req.path).unwrap_or_else(|| {
            panic!(
                "{what}: {} {} is not in the table",
                method.as_str(),
                req.path
            )
        });
        if endpoint.class == Class::Public {
            assert_eq!(
                v.public(&req).path_and_query,
                url.trim_start_matches(&format!("https://{host}"))
                    .trim_end_matches('?'),
                "{what}"
            );
            public += 1;
            continue;
        }
        let c = &creds[ex];
        assert_eq!(
            v.bot_key(&req).as_deref(),
            c["apiKey"].as_str(),
            "{what}: the key is not read back"
        );
        if endpoint.orders != Orders::None {
            let facts = v
                .orders(&req, endpoint)
                .unwrap_or_else(|e| panic!("{what}: {e}"));
            assert!(!facts.is_empty(), "{what}");
            for f in &facts {
                assert!(
                    f.price.is_some()
                        || f.quantity.is_some()
                        || f.quote_amount.is_some()
                        || f.contracts.is_some(),
                    "{what}: {f:?}"
                );
            }
            orders += 1;
        }
        v.strip(&mut req);
        let ms = r["ms"].as_u64().unwrap();
        let out = v
            .sign(
                &req,
                &secrets(c),
                Stamp {
                    unix_ms: ms,
                    nonce: ms,
                },
            )
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        let ccxt_header = |n: &str| {
            ccxt_headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(n))
                .map(|(_, v)| v.as_str())
        };
        if !ccxt_body.is_empty() {
            assert_eq!(
                header(&out.headers, "content-type"),
                ccxt_header("content-type"),
                "{what}"
            );
        }
        if ex == "binance" {
            let (path, q) = out
                .path_and_query
                .split_once('?')
                .unwrap_or((&out.path_and_query, ""));
            assert_eq!(path, t.path, "{what}");
            assert_eq!(
                binance_params(q, &out.body),
                binance_params(&t.query, &ccxt_body),
                "{what}"
            );
            let all = if out.body.is_empty() {
                q.to_owned()
            } else {
                String::from_utf8(out.body.clone()).unwrap()
            };
            let (unsigned, sig) = all
                .rsplit_once("&signature=")
                .unwrap_or_else(|| panic!("{what}: no signature last"));
            assert!(unsigned.ends_with(&format!("timestamp={ms}")), "{what}");
            let (sq, sb) = if out.body.is_empty() {
                (unsigned, "")
            } else {
                (q, unsigned)
            };
            assert_eq!(
                sig,
                binance::signature(
                    c["secret"].as_str().unwrap().as_bytes(),
                    sq.as_bytes(),
                    sb.as_bytes()
                ),
                "{what}"
            );
            assert_eq!(
                header(&out.headers, "X-MBX-APIKEY"),
                ccxt_header("X-MBX-APIKEY"),
                "{what}"
            );
        } else {
            let ccxt_path = url
                .trim_start_matches(&format!("https://{host}"))
                .trim_end_matches('?');
            assert_eq!(out.path_and_query, ccxt_path, "{what}");
            assert_eq!(
                String::from_utf8_lossy(&out.body),
                String::from_utf8_lossy(&ccxt_body),
                "{what}"
            );
            let auth: &[&str] = match ex {
                "okx" => &[
                    "OK-ACCESS-KEY",
                    "OK-ACCESS-SIGN",
                    "OK-ACCESS-TIMESTAMP",
                    "OK-ACCESS-PASSPHRASE",
                ],
                "bybit" => &[
                    "X-BAPI-API-KEY",
                    "X-BAPI-TIMESTAMP",
                    "X-BAPI-RECV-WINDOW",
                    "X-BAPI-SIGN",
                ],
                "kraken" => &["API-Key", "API-Sign"],
                _ => &["CB-ACCESS-KEY", "CB-ACCESS-SIGN", "CB-ACCESS-TIMESTAMP"],
            };
            for h in auth {
                assert!(ccxt_header(h).is_some(), "{what}: ccxt sent no {h}");
                assert_eq!(header(&out.headers, h), ccxt_header(h), "{what}: {h}");
            }
        }
        signed += 1;
    }
    eprintln!("ccxt round trip: {signed} signed, {public} public, {orders} order requests");
    assert!(
        signed > 80 && public > 20 && orders > 15,
        "{signed} {public} {orders}"
    );
}
