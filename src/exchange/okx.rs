//! OKX v5: `OK-ACCESS-SIGN` = base64(HMAC-SHA256(secret, timestamp + method + requestPath +
//! body)), where timestamp is the `OK-ACCESS-TIMESTAMP` header (ISO 8601 UTC with
//! milliseconds, e.g. `2020-12-08T09:08:57.715Z`), method is upper case, requestPath includes
//! the query string (`/api/v5/account/balance?ccy=BTC`) and body is the JSON body as sent
//! (empty for GET) (OKX API v5 documentation, "REST Authentication"). The key and the
//! passphrase go in `OK-ACCESS-KEY` and `OK-ACCESS-PASSPHRASE`.
//!
//! As the proxy's [`Okx`] venue on `www.okx.com` (ccxt's default hostname): the bot's
//! authentication is all in headers, which are never forwarded; the proxy signs the JSON body
//! byte for byte as the bot sent it, with the query in the signed request path. A bot in
//! OKX's demo trading (ccxt's `set_sandbox_mode(True)`) sends `x-simulated-trading: 1`; the
//! proxy forwards that one header, with that one value, so that a demo credential works. It
//! widens nothing: OKX refuses a live key in the demo environment, and a demo key reaches
//! only demo funds.

use std::borrow::Cow;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value};

use super::class::{Class, Endpoint, Method, Orders};
use super::order_fields::{Fields, json_body, object};
use super::request::Request;
use super::venue::{OrderFacts, Outgoing, Secrets, SignError, Stamp, Venue, api_key, passphrase};

/// The headers OKX authenticates by, in the order the documentation lists them.
pub const HEADERS: [&str; 4] = [
    "OK-ACCESS-KEY",
    "OK-ACCESS-SIGN",
    "OK-ACCESS-TIMESTAMP",
    "OK-ACCESS-PASSPHRASE",
];

/// `OK-ACCESS-SIGN` for one request.
pub fn signature(
    secret: &[u8],
    timestamp: &str,
    method: &str,
    request_path: &str,
    body: &[u8],
) -> String {
    STANDARD.encode(super::hmac_sha256(
        secret,
        &[
            timestamp.as_bytes(),
            method.as_bytes(),
            request_path.as_bytes(),
            body,
        ],
    ))
}

/// The REST host.
pub const HOST: &str = "www.okx.com";

/// The demo-trading header, forwarded when the bot sends it with the value `1`.
pub const SIMULATED: &str = "x-simulated-trading";

use Class::{Public, Read, Trade, Withdraw};
use Method::{Get, Post};

/// `www.okx.com`: what ccxt 4.5.75's `okx` calls; docs/proxy-endpoints.md names the ccxt
/// method of each row.
pub const TABLE: &[Endpoint] = &[
    Endpoint::new(Get, "/api/v5/public/instruments", Public),
    Endpoint::new(Get, "/api/v5/public/time", Public),
    Endpoint::new(Get, "/api/v5/system/status", Public),
    Endpoint::new(Get, "/api/v5/market/ticker", Public),
    Endpoint::new(Get, "/api/v5/market/tickers", Public),
    Endpoint::new(Get, "/api/v5/market/books", Public),
    Endpoint::new(Get, "/api/v5/market/candles", Public),
    Endpoint::new(Get, "/api/v5/market/history-candles", Public),
    Endpoint::new(Get, "/api/v5/market/trades", Public),
    Endpoint::new(Get, "/api/v5/public/funding-rate", Public),
    Endpoint::new(Get, "/api/v5/asset/currencies", Read),
    Endpoint::new(Get, "/api/v5/account/balance", Read),
    Endpoint::new(Get, "/api/v5/asset/balances", Read),
    Endpoint::new(Get, "/api/v5/trade/order", Read),
    Endpoint::new(Get, "/api/v5/trade/orders-pending", Read),
    Endpoint::new(Get, "/api/v5/trade/orders-history", Read),
    Endpoint::new(Get, "/api/v5/trade/fills-history", Read),
    Endpoint::new(Get, "/api/v5/account/trade-fee", Read),
    Endpoint::new(Get, "/api/v5/account/positions", Read),
    Endpoint::new(Get, "/api/v5/asset/deposit-history", Read),
    Endpoint::new(Get, "/api/v5/asset/withdrawal-history", Read),
    Endpoint::batch(Post, "/api/v5/trade/batch-orders"),
    Endpoint::order(Post, "/api/v5/trade/order"),
    Endpoint::order(Post, "/api/v5/trade/amend-order"),
    Endpoint::new(Post, "/api/v5/trade/cancel-order", Trade),
    Endpoint::new(Post, "/api/v5/account/set-leverage", Trade),
    Endpoint::new(Post, "/api/v5/asset/withdrawal", Withdraw),
    Endpoint::new(Post, "/api/v5/asset/transfer", Withdraw),
    Endpoint::new(Get, "/api/v5/asset/deposit-address", Withdraw),
];

/// OKX v5, for the signing proxy.
pub struct Okx;

/// What one OKX order says. `instId` names spot and margin pairs as `BASE-QUOTE` and
/// derivatives with more parts (`BTC-USDT-SWAP`, `BTC-USD-250328`, `BTC-USD-250328-90000-C`),
/// whose `sz` is a number of contracts. A spot market order's `sz` is in the quote currency
/// when `tgtCcy` is `quote_ccy`, or when it is absent on a buy (OKX's default), else in the
/// base currency. An amendment gives `newPx` and `newSz`.
fn facts(order: &Map<String, Value>, amend: bool) -> Result<OrderFacts, String> {
    let f = Fields::Json(order);
    let symbol = f.text("instId")?;
    let (price, size) = if amend {
        (f.text("newPx")?, f.text("newSz")?)
    } else {
        (f.text("px")?, f.text("sz")?)
    };
    let mut facts = OrderFacts {
        symbol,
        price,
        ..OrderFacts::default()
    };
    let derivative = facts
        .symbol
        .as_deref()
        .is_some_and(|s| s.split('-').count() > 2);
    if derivative {
        facts.contracts = size;
        return Ok(facts);
    }
    let market = !amend && f.text("ordType")?.as_deref() == Some("market");
    let in_quote = market
        && match f.text("tgtCcy")?.as_deref() {
            Some("quote_ccy") => true,
            Some("base_ccy") => false,
            None => f.text("side")?.as_deref() == Some("buy"),
            Some(other) => {
                return Err(format!(
                    "`tgtCcy` is `{}`, neither `base_ccy` nor `quote_ccy`",
                    crate::terminal_text::escape(other)
                ));
            }
        };
    if in_quote {
        facts.quote_amount = size;
    } else {
        facts.quantity = size;
    }
    Ok(facts)
}

impl Venue for Okx {
    fn exchange(&self) -> &'static str {
        "okx"
    }

    /// OKX's `50027` ("This account is restricted from trading"), which ccxt raises as
    /// `PermissionDenied`.
    fn refusal_members(&self, message: &str) -> Vec<(&'static str, serde_json::Value)> {
        vec![
            ("code", serde_json::Value::from("50027")),
            ("msg", serde_json::Value::from(message)),
            ("data", serde_json::json!([])),
        ]
    }

    fn hosts(&self) -> &'static [&'static str] {
        &[HOST]
    }

    fn endpoints(&self, host: &str) -> &'static [Endpoint] {
        if host == HOST { TABLE } else { &[] }
    }

    fn has_passphrase(&self) -> bool {
        true
    }

    fn bot_key<'r>(&self, req: &'r Request) -> Option<Cow<'r, str>> {
        req.header("ok-access-key").map(Cow::Borrowed)
    }

    /// Nothing: OKX's authentication is in headers, which the proxy never forwards.
    fn strip(&self, _req: &mut Request) {}

    /// An order (`/api/v5/trade/order`: one JSON object), a batch
    /// (`/api/v5/trade/batch-orders`: an array of them; ccxt's `create_order` sends a batch of
    /// one) or an amendment (`/api/v5/trade/amend-order`).
    fn orders(&self, req: &Request, endpoint: &Endpoint) -> Result<Vec<OrderFacts>, String> {
        if endpoint.orders == Orders::None {
            return Ok(Vec::new());
        }
        let body = json_body(req)?;
        let amend = endpoint.path == "/api/v5/trade/amend-order";
        match (&body, endpoint.orders) {
            (Value::Array(list), Orders::Batch) => list
                .iter()
                .enumerate()
                .map(|(i, o)| facts(object(o, &format!("order {} of the batch", i + 1))?, false))
                .collect(),
            _ => Ok(vec![facts(object(&body, "the order")?, amend)?]),
        }
    }

    fn sign(&self, req: &Request, secrets: &Secrets, stamp: Stamp) -> Result<Outgoing, SignError> {
        let key = api_key(secrets)?;
        let pass = passphrase(secrets)?;
        let timestamp = crate::timefmt::iso8601_ms(stamp.unix_ms);
        let path_and_query = req.path_and_query();
        let body = req.body_bytes();
        let sign = signature(
            secrets.secret.expose(),
            &timestamp,
            req.method.as_str(),
            &path_and_query,
            &body,
        );
        let mut headers = vec![
            (HEADERS[0], key.to_owned()),
            (HEADERS[1], sign),
            (HEADERS[2], timestamp),
            (HEADERS[3], pass.to_owned()),
        ];
        if req.method != Method::Get {
            headers.push(("content-type", "application/json".to_owned()));
        }
        if req.header(SIMULATED) == Some("1") {
            headers.push((SIMULATED, "1".to_owned()));
        }
        Ok(Outgoing {
            path_and_query,
            headers,
            body,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exchange::class::lookup;
    use crate::exchange::fixture::{header, request, secrets};

    const JSON: &str = "application/json";

    /// OKX publishes no signature for its example; these values are Python's `hmac` and
    /// `base64` modules on the documented prehash (tests/exchange_signing.rs repeats the
    /// comparison on random requests).
    #[test]
    fn known_answers() {
        let secret = b"22582BD0CFF14C41EDBF1AB98506286D";
        let ts = "2020-12-08T09:08:57.715Z";
        assert_eq!(
            signature(secret, ts, "GET", "/api/v5/account/balance?ccy=BTC", b""),
            "HiZhvSfMtWJA3uUIVXV3a/bSXNPCWvYFXoGCVS8V4zY="
        );
        assert_eq!(
            signature(
                secret,
                ts,
                "POST",
                "/api/v5/trade/order",
                br#"{"instId":"BTC-USDT","tdMode":"cash","side":"buy","ordType":"market","sz":"1"}"#
            ),
            "poarYWqXwajP4hvrGG8YJJiau4gezJPSzNAUZz/FhQY="
        );
    }

    const SECRET: &str = "22582BD0CFF14C41EDBF1AB98506286D";
    /// 2020-12-08T09:08:57.715Z, the documentation's example time.
    const STAMP: Stamp = Stamp {
        unix_ms: 1_607_418_537_715,
        nonce: 1,
    };

    #[test]
    fn a_get_is_signed_with_its_query_and_a_post_with_its_body_as_sent() {
        let r = request(
            Get,
            HOST,
            "/api/v5/account/balance?ccy=BTC",
            b"",
            JSON,
            &[
                ("ok-access-key", "proxy-token"),
                ("ok-access-sign", "x"),
                ("ok-access-passphrase", "dummy"),
            ],
        );
        assert_eq!(Okx.bot_key(&r).as_deref(), Some("proxy-token"));
        let s = secrets("real-key", SECRET, Some("real-pass"));
        let out = Okx.sign(&r, &s, STAMP).unwrap();
        assert_eq!(out.path_and_query, "/api/v5/account/balance?ccy=BTC");
        assert_eq!(
            header(&out.headers, "OK-ACCESS-SIGN"),
            Some("HiZhvSfMtWJA3uUIVXV3a/bSXNPCWvYFXoGCVS8V4zY=")
        );
        assert_eq!(
            header(&out.headers, "OK-ACCESS-TIMESTAMP"),
            Some("2020-12-08T09:08:57.715Z")
        );
        assert_eq!(header(&out.headers, "OK-ACCESS-KEY"), Some("real-key"));
        assert_eq!(
            header(&out.headers, "OK-ACCESS-PASSPHRASE"),
            Some("real-pass")
        );
        assert_eq!(header(&out.headers, "content-type"), None);
        assert_eq!(header(&out.headers, SIMULATED), None);

        let body =
            br#"{"instId":"BTC-USDT","tdMode":"cash","side":"buy","ordType":"market","sz":"1"}"#;
        let p = request(
            Post,
            HOST,
            "/api/v5/trade/order",
            body,
            JSON,
            &[(SIMULATED, "1")],
        );
        let out = Okx.sign(&p, &s, STAMP).unwrap();
        assert_eq!(out.body, body);
        assert_eq!(
            header(&out.headers, "OK-ACCESS-SIGN"),
            Some("poarYWqXwajP4hvrGG8YJJiau4gezJPSzNAUZz/FhQY=")
        );
        assert_eq!(header(&out.headers, "content-type"), Some(JSON));
        assert_eq!(header(&out.headers, SIMULATED), Some("1"));
        let other = request(
            Get,
            HOST,
            "/api/v5/account/balance",
            b"",
            JSON,
            &[(SIMULATED, "true")],
        );
        assert_eq!(
            header(&Okx.sign(&other, &s, STAMP).unwrap().headers, SIMULATED),
            None
        );
    }

    #[test]
    fn the_passphrase_is_required() {
        let r = request(Get, HOST, "/api/v5/account/balance", b"", JSON, &[]);
        assert!(matches!(
            Okx.sign(&r, &secrets("k", SECRET, None), STAMP),
            Err(SignError::MissingField("passphrase"))
        ));
        assert!(Okx.has_passphrase());
    }

    #[test]
    fn strip_leaves_the_request_as_sent() {
        let mut r = request(
            Get,
            HOST,
            "/api/v5/trade/orders-pending?instId=BTC-USDT",
            b"",
            JSON,
            &[],
        );
        Okx.strip(&mut r);
        assert_eq!(r.query_string(), "instId=BTC-USDT");
    }

    #[test]
    fn orders_in_a_batch_an_object_or_an_amendment() {
        let batch = lookup(TABLE, Post, "/api/v5/trade/batch-orders").unwrap();
        // As ccxt sends create_order (limit), create_market_buy_order_with_cost and a swap order.
        let body = br#"[{"instId":"BTC-USDT","side":"buy","ordType":"limit","sz":"0.01","tdMode":"cash","tgtCcy":"base_ccy","px":"20000"},
            {"instId":"BTC-USDT","side":"buy","ordType":"market","sz":"100","tdMode":"cash","tgtCcy":"quote_ccy"},
            {"instId":"BTC-USDT-SWAP","side":"buy","ordType":"limit","sz":"1","tdMode":"cross","px":"20000"},
            {"instId":"BTC-USDT","side":"buy","ordType":"market","sz":"50"},
            {"instId":"BTC-USDT","side":"sell","ordType":"market","sz":"0.5"}]"#;
        let r = request(Post, HOST, "/api/v5/trade/batch-orders", body, JSON, &[]);
        let f = Okx.orders(&r, batch).unwrap();
        assert_eq!(f.len(), 5);
        assert_eq!(
            f[0],
            OrderFacts {
                symbol: Some("BTC-USDT".into()),
                price: Some("20000".into()),
                quantity: Some("0.01".into()),
                ..OrderFacts::default()
            }
        );
        assert_eq!(
            (f[1].quote_amount.as_deref(), f[1].quantity.as_deref()),
            (Some("100"), None)
        );
        assert_eq!(
            (f[2].contracts.as_deref(), f[2].quantity.as_deref()),
            (Some("1"), None)
        );
        assert_eq!(f[3].quote_amount.as_deref(), Some("50"));
        assert_eq!(f[4].quantity.as_deref(), Some("0.5"));

        let one = lookup(TABLE, Post, "/api/v5/trade/order").unwrap();
        let r = request(
            Post,
            HOST,
            "/api/v5/trade/order",
            br#"{"instId":"ETH-USDT","ordType":"limit","px":"3000","sz":"2","side":"sell"}"#,
            JSON,
            &[],
        );
        assert_eq!(
            Okx.orders(&r, one).unwrap()[0].symbol.as_deref(),
            Some("ETH-USDT")
        );
        let amend = lookup(TABLE, Post, "/api/v5/trade/amend-order").unwrap();
        let r = request(
            Post,
            HOST,
            "/api/v5/trade/amend-order",
            br#"{"instId":"BTC-USDT","ordId":"123","newSz":"0.02","newPx":"21000"}"#,
            JSON,
            &[],
        );
        let f = Okx.orders(&r, amend).unwrap();
        assert_eq!(
            (f[0].price.as_deref(), f[0].quantity.as_deref()),
            (Some("21000"), Some("0.02"))
        );

        for bad in [
            &br#"[1]"#[..],
            br#"{"instId":{"x":1}}"#,
            br#"[{"instId":"BTC-USDT","ordType":"market","tgtCcy":"usd","sz":"1"}]"#,
        ] {
            let r = request(Post, HOST, "/api/v5/trade/batch-orders", bad, JSON, &[]);
            assert!(
                Okx.orders(&r, batch).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn ccxts_calls_are_in_the_table_with_their_class() {
        let calls: &[(Method, &str, Class)] = &[
            (Get, "/api/v5/public/instruments", Public), // load_markets
            (Get, "/api/v5/market/history-candles", Public), // fetch_ohlcv with since
            (Get, "/api/v5/account/balance", Read),      // fetch_balance
            (Get, "/api/v5/trade/fills-history", Read),  // fetch_my_trades
            (Get, "/api/v5/account/positions", Read),    // fetch_positions
            (Post, "/api/v5/trade/batch-orders", Trade), // create_order
            (Post, "/api/v5/trade/cancel-order", Trade), // cancel_order
            (Post, "/api/v5/trade/amend-order", Trade),  // edit_order
            (Post, "/api/v5/account/set-leverage", Trade), // set_leverage, set_margin_mode
            (Get, "/api/v5/public/funding-rate", Public), // fetch_funding_rate
            (Post, "/api/v5/asset/withdrawal", Withdraw), // withdraw
            (Post, "/api/v5/asset/transfer", Withdraw),  // transfer
        ];
        for (m, p, c) in calls {
            assert_eq!(lookup(TABLE, *m, p).map(|e| e.class), Some(*c), "{p}");
        }
        assert!(lookup(TABLE, Get, "/api/v3/account").is_none());
        assert!(lookup(TABLE, Post, "/api/v5/trade/order-algo").is_none());
    }
}
