//! The signing proxy's endpoint tables (src/exchange/<name>.rs, listed in `registry::VENUES`):
//! every row's path passes the proxy's own request-target rules (so a bot's request can match
//! it), no two rows of a host can match the same request, every host is a lower-case name the
//! proxy can reach over https, and docs/proxy-endpoints.md — what officers read to know what a
//! scope allows — lists exactly the rows of the tables, with the same class.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use custody::exchange::class::{Endpoint, Method, Orders};
use custody::exchange::registry::{self, VENUES};

/// The exchanges the proxy serves, in `VENUES` order.
const SERVED: [&str; 5] = ["binance", "okx", "bybit", "kraken", "coinbase"];

/// A proxy token's shape (43 base64url characters), for building request targets.
const TOKEN: &str = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

/// A value an id segment `{}` can take in a real request.
const ID: &str = "3f1c0a52-9b7e-4d1a-8c55-0e6f2b9a7d10";

fn rows() -> Vec<(&'static str, &'static str, &'static Endpoint)> {
    let mut out = Vec::new();
    for v in VENUES {
        for host in v.hosts() {
            for e in v.endpoints(host) {
                out.push((v.exchange(), *host, e));
            }
        }
    }
    out
}

#[test]
fn the_five_exchanges_are_served_under_their_credential_names() {
    let names: Vec<&str> = VENUES.iter().map(|v| v.exchange()).collect();
    assert_eq!(names, SERVED);
    for name in SERVED {
        assert!(
            custody::vault::credential::EXCHANGES.contains(&name),
            "{name} is not an exchange a credential can name"
        );
        assert_eq!(registry::by_name(name).map(|v| v.exchange()), Some(name));
    }
    for v in VENUES {
        for host in v.hosts() {
            assert!(!v.endpoints(host).is_empty(), "{host} has an empty table");
            assert_eq!(
                registry::for_host(host).map(|(v, h)| (v.exchange(), h)),
                Some((v.exchange(), *host))
            );
        }
    }
}

#[test]
fn hosts_are_lower_case_names_reachable_over_https_and_pinned_once() {
    let mut seen = BTreeSet::new();
    for v in VENUES {
        for host in v.hosts() {
            assert!(seen.insert(*host), "{host} is pinned twice");
            let labels: Vec<&str> = host.split('.').collect();
            assert!(labels.len() >= 2, "{host} is not a fully qualified name");
            for l in &labels {
                assert!(
                    !l.is_empty()
                        && l.len() <= 63
                        && !l.starts_with('-')
                        && !l.ends_with('-')
                        && l.bytes()
                            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
                    "{host}: label `{l}` is not a lower-case DNS label"
                );
            }
            // The proxy's own parser takes it as the host of an https URL.
            let t = custody::proxy::target::parse(&format!("/{TOKEN}/https://{host}/x"))
                .unwrap_or_else(|e| panic!("{host}: {}", e.error));
            assert_eq!(t.host, *host);
        }
    }
}

#[test]
fn every_path_passes_the_proxys_request_target_rules() {
    for (ex, host, e) in rows() {
        assert!(
            !e.path.contains('%') && !e.path.contains("//") && !e.path.ends_with('/'),
            "{ex} {}",
            e.path
        );
        let concrete = e.path.replace("{}", ID);
        let target = format!("/{TOKEN}/https://{host}{concrete}");
        let t = custody::proxy::target::parse(&target)
            .unwrap_or_else(|r| panic!("{ex} {} {}: {}", e.method.as_str(), e.path, r.error));
        assert_eq!(t.path, concrete);
        // The row matches the request it was written for, and only that row does.
        let table = registry::by_name(ex).unwrap().endpoints(host);
        let hit = custody::exchange::class::lookup(table, e.method, &t.path).unwrap_or_else(|| {
            panic!(
                "{ex} {} {} does not match itself",
                e.method.as_str(),
                e.path
            )
        });
        assert_eq!(hit.path, e.path);
    }
}

/// Whether one request could match both patterns (same method, same number of segments, each
/// pair equal or one of them an id).
fn overlap(a: &Endpoint, b: &Endpoint) -> bool {
    if a.method != b.method {
        return false;
    }
    let sa: Vec<&str> = a.path.split('/').collect();
    let sb: Vec<&str> = b.path.split('/').collect();
    sa.len() == sb.len()
        && sa
            .iter()
            .zip(&sb)
            .all(|(x, y)| x == y || *x == "{}" || *y == "{}")
}

#[test]
fn no_two_rows_of_a_host_can_match_the_same_request() {
    for v in VENUES {
        for host in v.hosts() {
            let t = v.endpoints(host);
            for (i, a) in t.iter().enumerate() {
                for b in &t[i + 1..] {
                    assert!(
                        !overlap(a, b),
                        "{host}: {} {} and {} {} overlap",
                        a.method.as_str(),
                        a.path,
                        b.method.as_str(),
                        b.path
                    );
                }
            }
        }
    }
}

/// One row of docs/proxy-endpoints.md: exchange, host, method, path, class cell.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct DocRow {
    exchange: String,
    host: String,
    method: String,
    path: String,
    class: String,
}

fn class_cell(e: &Endpoint) -> String {
    match e.orders {
        Orders::None => e.class.as_str().to_owned(),
        Orders::One => format!("{} (one order)", e.class.as_str()),
        Orders::Batch => format!("{} (orders)", e.class.as_str()),
    }
}

/// docs/proxy-endpoints.md: `## exchange`, `### host`, then rows `| METHOD | `path` | class | ccxt |`.
fn documented() -> Vec<DocRow> {
    let text =
        fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/proxy-endpoints.md"))
            .expect("docs/proxy-endpoints.md");
    let (mut exchange, mut host) = (String::new(), String::new());
    let mut out = Vec::new();
    for line in text.lines() {
        if let Some(h) = line.strip_prefix("### `") {
            host = h.trim_end_matches('`').to_owned();
        } else if let Some(h) = line.strip_prefix("## `") {
            exchange = h.trim_end_matches('`').to_owned();
            host.clear();
        } else if line.starts_with("| ") && !host.is_empty() {
            let cells: Vec<&str> = line.trim_matches('|').split(" | ").map(str::trim).collect();
            if cells[0] == "method" || cells[0].starts_with("---") {
                continue;
            }
            assert_eq!(
                cells.len(),
                4,
                "docs/proxy-endpoints.md: a row has 4 cells: {line}"
            );
            assert!(
                !cells[3].is_empty(),
                "docs/proxy-endpoints.md: no ccxt method named: {line}"
            );
            out.push(DocRow {
                exchange: exchange.clone(),
                host: host.clone(),
                method: cells[0].to_owned(),
                path: cells[1].trim_matches('`').to_owned(),
                class: cells[2].to_owned(),
            });
        }
    }
    out
}

#[test]
fn the_documentation_lists_exactly_the_tables() {
    let mut doc = documented();
    let mut code: Vec<DocRow> = rows()
        .into_iter()
        .map(|(ex, host, e)| DocRow {
            exchange: ex.to_owned(),
            host: host.to_owned(),
            method: e.method.as_str().to_owned(),
            path: e.path.to_owned(),
            class: class_cell(e),
        })
        .collect();
    doc.sort();
    code.sort();
    let missing: Vec<&DocRow> = code.iter().filter(|r| !doc.contains(r)).collect();
    let extra: Vec<&DocRow> = doc.iter().filter(|r| !code.contains(r)).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "docs/proxy-endpoints.md differs from the tables:\n not documented: {missing:#?}\n documented but not in a table: {extra:#?}"
    );
    assert_eq!(doc.len(), code.len(), "a row is documented twice");
}

#[test]
fn withdrawals_transfers_and_deposit_addresses_need_the_withdraw_scope() {
    // (exchange, host, method, path) of every endpoint that moves funds or hands out a
    // deposit address, as ccxt 4.5.75 calls them.
    let moves: &[(&str, &str, Method, &str)] = &[
        (
            "binance",
            "api.binance.com",
            Method::Post,
            "/sapi/v1/capital/withdraw/apply",
        ),
        (
            "binance",
            "api.binance.com",
            Method::Post,
            "/sapi/v1/asset/transfer",
        ),
        (
            "binance",
            "api.binance.com",
            Method::Get,
            "/sapi/v1/capital/deposit/address",
        ),
        (
            "okx",
            "www.okx.com",
            Method::Post,
            "/api/v5/asset/withdrawal",
        ),
        ("okx", "www.okx.com", Method::Post, "/api/v5/asset/transfer"),
        (
            "okx",
            "www.okx.com",
            Method::Get,
            "/api/v5/asset/deposit-address",
        ),
        (
            "bybit",
            "api.bybit.com",
            Method::Post,
            "/v5/asset/withdraw/create",
        ),
        (
            "bybit",
            "api.bybit.com",
            Method::Post,
            "/v5/asset/transfer/inter-transfer",
        ),
        (
            "bybit",
            "api.bybit.com",
            Method::Get,
            "/v5/asset/deposit/query-address",
        ),
        (
            "kraken",
            "api.kraken.com",
            Method::Post,
            "/0/private/Withdraw",
        ),
        (
            "kraken",
            "api.kraken.com",
            Method::Post,
            "/0/private/WalletTransfer",
        ),
        (
            "kraken",
            "api.kraken.com",
            Method::Post,
            "/0/private/DepositAddresses",
        ),
        (
            "coinbase",
            "api.coinbase.com",
            Method::Post,
            "/v2/accounts/3f1c0a52-9b7e-4d1a-8c55-0e6f2b9a7d10/transactions",
        ),
        (
            "coinbase",
            "api.coinbase.com",
            Method::Post,
            "/api/v3/brokerage/portfolios/move_funds",
        ),
        (
            "coinbase",
            "api.coinbase.com",
            Method::Get,
            "/v2/accounts/3f1c0a52-9b7e-4d1a-8c55-0e6f2b9a7d10/addresses",
        ),
    ];
    for (ex, host, m, path) in moves {
        let v = registry::by_name(ex).unwrap();
        let e = custody::exchange::class::lookup(v.endpoints(host), *m, path)
            .unwrap_or_else(|| panic!("{ex}: {} {path} is not in the table", m.as_str()));
        assert_eq!(
            e.class,
            custody::exchange::class::Class::Withdraw,
            "{ex} {path}"
        );
    }
    // Nothing else in any table is classed withdraw.
    let n = rows()
        .iter()
        .filter(|(_, _, e)| e.class == custody::exchange::class::Class::Withdraw)
        .count();
    assert_eq!(n, moves.len());
}
