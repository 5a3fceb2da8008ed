//! Bybit v5 with an HMAC key: `X-BAPI-SIGN` = hex(HMAC-SHA256(secret, timestamp + apiKey +
//! recvWindow + payload)), where payload is the query string for GET and the JSON body for
//! POST, exactly as sent, timestamp is `X-BAPI-TIMESTAMP` (milliseconds) and recvWindow
//! `X-BAPI-RECV-WINDOW` (Bybit V5 API documentation, "Integration Guidance", authentication).
//! The key goes in `X-BAPI-API-KEY`.
//!
//! As the proxy's [`Bybit`] venue on `api.bybit.com`: the bot's authentication is all in
//! headers, which are never forwarded. The receive window is the bot's `X-BAPI-RECV-WINDOW`
//! when it is a whole number of milliseconds in 1..=60000 (ccxt's `recvWindow` option), else
//! 5000 (ccxt's and Bybit's default). The payload signed is the query string for a GET and the
//! body for anything else, exactly as forwarded.

use std::borrow::Cow;

use serde_json::{Map, Value};

use super::class::{Class, Endpoint, Method, Orders};
use super::order_fields::{Fields, json_body, object};
use super::request::Request;
use super::venue::{OrderFacts, Outgoing, Secrets, SignError, Stamp, Venue, api_key};
use crate::keys::hex;

/// The headers Bybit authenticates by.
pub const HEADERS: [&str; 4] = [
    "X-BAPI-API-KEY",
    "X-BAPI-TIMESTAMP",
    "X-BAPI-RECV-WINDOW",
    "X-BAPI-SIGN",
];

/// `X-BAPI-SIGN` for one request (`payload`: the query string without `?`, or the body).
pub fn signature(
    secret: &[u8],
    timestamp_ms: u64,
    api_key: &str,
    recv_window_ms: u64,
    payload: &[u8],
) -> String {
    hex(&super::hmac_sha256(
        secret,
        &[
            timestamp_ms.to_string().as_bytes(),
            api_key.as_bytes(),
            recv_window_ms.to_string().as_bytes(),
            payload,
        ],
    ))
}

/// The REST host (ccxt's `api.{hostname}` with its default hostname `bybit.com`).
pub const HOST: &str = "api.bybit.com";

/// The receive window when the bot gives none (or one out of range), in milliseconds.
pub const DEFAULT_RECV_WINDOW_MS: u64 = 5000;

/// The largest receive window taken from the bot, in milliseconds.
pub const MAX_RECV_WINDOW_MS: u64 = 60_000;

use Class::{Public, Read, Trade, Withdraw};
use Method::{Get, Post};

/// `api.bybit.com`: what ccxt 4.5.75's `bybit` calls (v5 only); docs/proxy-endpoints.md names
/// the ccxt method of each row.
pub const TABLE: &[Endpoint] = &[
    Endpoint::new(Get, "/v5/market/instruments-info", Public),
    Endpoint::new(Get, "/v5/market/time", Public),
    Endpoint::new(Get, "/v5/system/status", Public),
    Endpoint::new(Get, "/v5/market/tickers", Public),
    Endpoint::new(Get, "/v5/market/orderbook", Public),
    Endpoint::new(Get, "/v5/market/kline", Public),
    Endpoint::new(Get, "/v5/market/recent-trade", Public),
    Endpoint::new(Get, "/v5/asset/coin/query-info", Read),
    Endpoint::new(Get, "/v5/user/query-api", Read),
    Endpoint::new(Get, "/v5/account/info", Read),
    Endpoint::new(Get, "/v5/account/wallet-balance", Read),
    Endpoint::new(Get, "/v5/asset/transfer/query-account-coins-balance", Read),
    Endpoint::new(Get, "/v5/order/realtime", Read),
    Endpoint::new(Get, "/v5/order/history", Read),
    Endpoint::new(Get, "/v5/execution/list", Read),
    Endpoint::new(Get, "/v5/account/fee-rate", Read),
    Endpoint::new(Get, "/v5/position/list", Read),
    Endpoint::new(Get, "/v5/asset/deposit/query-record", Read),
    Endpoint::new(Get, "/v5/asset/withdraw/query-record", Read),
    Endpoint::order(Post, "/v5/order/create"),
    Endpoint::order(Post, "/v5/order/amend"),
    Endpoint::new(Post, "/v5/order/cancel", Trade),
    Endpoint::new(Post, "/v5/order/cancel-all", Trade),
    Endpoint::new(Post, "/v5/position/set-leverage", Trade),
    Endpoint::new(Post, "/v5/position/switch-isolated", Trade),
    Endpoint::new(Post, "/v5/account/set-margin-mode", Trade),
    Endpoint::new(Post, "/v5/asset/withdraw/create", Withdraw),
    Endpoint::new(Post, "/v5/asset/transfer/inter-transfer", Withdraw),
    Endpoint::new(Get, "/v5/asset/deposit/query-address", Withdraw),
];

/// Bybit v5, for the signing proxy.
pub struct Bybit;

/// The receive window the bot asked for, if it is one the proxy takes.
fn recv_window(req: &Request) -> u64 {
    req.header("x-bapi-recv-window")
        .filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|v| v.parse::<u64>().ok())
        .filter(|w| (1..=MAX_RECV_WINDOW_MS).contains(w))
        .unwrap_or(DEFAULT_RECV_WINDOW_MS)
}

/// What one Bybit order says: `symbol`, `price`, `qty`. The quantity is in the base currency
/// except for a spot market order, whose `qty` is in the quote currency when `marketUnit` is
/// `quoteCoin`, or when it is absent on a buy (Bybit's default), and for inverse contracts,
/// whose `qty` is in USD (the quote).
fn facts(order: &Map<String, Value>) -> Result<OrderFacts, String> {
    let f = Fields::Json(order);
    let category = f.text("category")?;
    let qty = f.text("qty")?;
    let mut facts = OrderFacts {
        symbol: f.text("symbol")?,
        price: f.text("price")?,
        ..OrderFacts::default()
    };
    let in_quote = match category.as_deref() {
        Some("inverse") => true,
        Some("spot") if f.text("orderType")?.as_deref() == Some("Market") => {
            match f.text("marketUnit")?.as_deref() {
                Some("quoteCoin") => true,
                Some("baseCoin") => false,
                None => f.text("side")?.as_deref() == Some("Buy"),
                Some(other) => {
                    return Err(format!(
                        "`marketUnit` is `{}`, neither `baseCoin` nor `quoteCoin`",
                        crate::terminal_text::escape(other)
                    ));
                }
            }
        }
        _ => false,
    };
    if in_quote {
        facts.quote_amount = qty;
    } else {
        facts.quantity = qty;
    }
    Ok(facts)
}

impl Venue for Bybit {
    fn exchange(&self) -> &'static str {
        "bybit"
    }

    /// Bybit's `10024` (compliance/permission), which ccxt raises as `PermissionDenied`.
    fn refusal_members(&self, message: &str) -> Vec<(&'static str, serde_json::Value)> {
        vec![
            ("retCode", serde_json::Value::from(10024)),
            ("retMsg", serde_json::Value::from(message)),
            ("result", serde_json::json!({})),
            ("retExtInfo", serde_json::json!({})),
            ("time", serde_json::Value::from(0)),
        ]
    }

    fn hosts(&self) -> &'static [&'static str] {
        &[HOST]
    }

    fn endpoints(&self, host: &str) -> &'static [Endpoint] {
        if host == HOST { TABLE } else { &[] }
    }

    fn bot_key<'r>(&self, req: &'r Request) -> Option<Cow<'r, str>> {
        req.header("x-bapi-api-key").map(Cow::Borrowed)
    }

    /// Nothing: Bybit v5's authentication is in headers, which the proxy never forwards.
    fn strip(&self, _req: &mut Request) {}

    /// An order (`/v5/order/create`) or an amendment (`/v5/order/amend`): one JSON object.
    fn orders(&self, req: &Request, endpoint: &Endpoint) -> Result<Vec<OrderFacts>, String> {
        if endpoint.orders == Orders::None {
            return Ok(Vec::new());
        }
        let body = json_body(req)?;
        Ok(vec![facts(object(&body, "the order")?)?])
    }

    fn sign(&self, req: &Request, secrets: &Secrets, stamp: Stamp) -> Result<Outgoing, SignError> {
        let key = api_key(secrets)?;
        let window = recv_window(req);
        let path_and_query = req.path_and_query();
        let body = req.body_bytes();
        let query = req.query_string();
        let payload = if req.method == Method::Get {
            query.as_bytes()
        } else {
            &body[..]
        };
        let sign = signature(secrets.secret.expose(), stamp.unix_ms, key, window, payload);
        let mut headers = vec![
            (HEADERS[0], key.to_owned()),
            (HEADERS[1], stamp.unix_ms.to_string()),
            (HEADERS[2], window.to_string()),
            (HEADERS[3], sign),
        ];
        if !body.is_empty() {
            headers.push(("content-type", super::venue::content_type(req).to_owned()));
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

    /// Values computed with Python's `hmac` module on the documented prehash, for the
    /// documentation's GET and POST examples (its placeholder key and secret).
    #[test]
    fn known_answers() {
        let secret = b"XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX";
        assert_eq!(
            signature(
                secret,
                1_658_384_314_791,
                "XXXXXXXXXX",
                5000,
                b"category=option&symbol=BTC-29JUL22-25000-C"
            ),
            "c4b59ee6add568ccee37372eb5cf6a54d02349863cc43102522c0e9d2654ce78"
        );
        assert_eq!(
            signature(
                secret,
                1_658_385_579_423,
                "XXXXXXXXXX",
                5000,
                br#"{"category":"option"}"#
            ),
            "acdec67a45d7ea44b8d1346ee5615bb0453b86208aa793eafb88d1165e11240d"
        );
    }

    const SECRET: &str = "XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX";

    /// The documentation's GET and POST examples, sent by a bot with its own (dummy) headers:
    /// the proxy's headers carry the known answers.
    #[test]
    fn the_documented_examples_are_signed_as_forwarded() {
        let s = secrets("XXXXXXXXXX", SECRET, None);
        let r = request(
            Get,
            HOST,
            "/v5/order/realtime?category=option&symbol=BTC-29JUL22-25000-C",
            b"",
            JSON,
            &[
                ("x-bapi-api-key", "proxy-token"),
                ("x-bapi-sign", "x"),
                ("x-bapi-recv-window", "5000"),
            ],
        );
        assert_eq!(Bybit.bot_key(&r).as_deref(), Some("proxy-token"));
        let out = Bybit
            .sign(
                &r,
                &s,
                Stamp {
                    unix_ms: 1_658_384_314_791,
                    nonce: 1,
                },
            )
            .unwrap();
        assert_eq!(
            out.path_and_query,
            "/v5/order/realtime?category=option&symbol=BTC-29JUL22-25000-C"
        );
        assert_eq!(
            header(&out.headers, "X-BAPI-SIGN"),
            Some("c4b59ee6add568ccee37372eb5cf6a54d02349863cc43102522c0e9d2654ce78")
        );
        assert_eq!(header(&out.headers, "X-BAPI-API-KEY"), Some("XXXXXXXXXX"));
        assert_eq!(
            header(&out.headers, "X-BAPI-TIMESTAMP"),
            Some("1658384314791")
        );
        assert_eq!(header(&out.headers, "X-BAPI-RECV-WINDOW"), Some("5000"));

        let p = request(
            Post,
            HOST,
            "/v5/order/create",
            br#"{"category":"option"}"#,
            JSON,
            &[],
        );
        let out = Bybit
            .sign(
                &p,
                &s,
                Stamp {
                    unix_ms: 1_658_385_579_423,
                    nonce: 1,
                },
            )
            .unwrap();
        assert_eq!(out.body, br#"{"category":"option"}"#);
        assert_eq!(
            header(&out.headers, "X-BAPI-SIGN"),
            Some("acdec67a45d7ea44b8d1346ee5615bb0453b86208aa793eafb88d1165e11240d")
        );
        assert_eq!(header(&out.headers, "content-type"), Some(JSON));
    }

    #[test]
    fn the_receive_window_is_the_bots_when_it_is_in_range() {
        let w = |v: &str| {
            recv_window(&request(
                Get,
                HOST,
                "/v5/account/info",
                b"",
                JSON,
                &[("x-bapi-recv-window", v)],
            ))
        };
        assert_eq!(w("10000"), 10_000);
        assert_eq!(w("60000"), 60_000);
        assert_eq!(w("1"), 1);
        for bad in [
            "0",
            "60001",
            "-5",
            "5000.0",
            "",
            "+7",
            "99999999999999999999999",
        ] {
            assert_eq!(w(bad), DEFAULT_RECV_WINDOW_MS, "{bad}");
        }
        assert_eq!(
            recv_window(&request(Get, HOST, "/v5/account/info", b"", JSON, &[])),
            5000
        );
    }

    #[test]
    fn strip_leaves_the_request_as_sent() {
        let mut r = request(
            Post,
            HOST,
            "/v5/order/cancel",
            br#"{"symbol":"BTCUSDT","orderId":"1","category":"spot"}"#,
            JSON,
            &[],
        );
        let before = r.body_bytes();
        Bybit.strip(&mut r);
        assert_eq!(r.body_bytes(), before);
    }

    #[test]
    fn orders_say_what_their_quantity_is_in() {
        let create = lookup(TABLE, Post, "/v5/order/create").unwrap();
        let one = |body: &[u8]| {
            let r = request(Post, HOST, "/v5/order/create", body, JSON, &[]);
            Bybit.orders(&r, create).map(|mut v| v.remove(0))
        };
        // As ccxt sends them: a spot limit buy, a spot market buy by cost, a spot market sell,
        // a linear perpetual limit buy.
        assert_eq!(
            one(br#"{"symbol":"BTCUSDT","side":"Buy","orderType":"Limit","price":"20000","category":"spot","qty":"0.01"}"#).unwrap(),
            OrderFacts {
                symbol: Some("BTCUSDT".into()),
                price: Some("20000".into()),
                quantity: Some("0.01".into()),
                ..OrderFacts::default()
            }
        );
        let f = one(br#"{"symbol":"BTCUSDT","side":"Buy","orderType":"Market","category":"spot","qty":"100"}"#).unwrap();
        assert_eq!((f.quote_amount.as_deref(), f.quantity), (Some("100"), None));
        let f = one(br#"{"symbol":"BTCUSDT","side":"Sell","orderType":"Market","category":"spot","marketUnit":"baseCoin","qty":"0.01"}"#).unwrap();
        assert_eq!(f.quantity.as_deref(), Some("0.01"));
        let f = one(br#"{"symbol":"BTCUSDT","side":"Buy","orderType":"Market","category":"spot","marketUnit":"baseCoin","qty":"0.01"}"#).unwrap();
        assert_eq!(f.quantity.as_deref(), Some("0.01"));
        let f = one(br#"{"symbol":"BTCUSDT","side":"Buy","orderType":"Limit","price":"20000","category":"linear","qty":"0.01"}"#).unwrap();
        assert_eq!(f.quantity.as_deref(), Some("0.01"));
        let f = one(br#"{"symbol":"BTCUSD","side":"Buy","orderType":"Limit","price":"20000","category":"inverse","qty":"100"}"#).unwrap();
        assert_eq!(f.quote_amount.as_deref(), Some("100"));
        assert!(one(br#"{"symbol":"BTCUSDT","side":"Buy","orderType":"Market","category":"spot","marketUnit":"coin","qty":"1"}"#).is_err());
        assert!(one(br#"[{"symbol":"BTCUSDT"}]"#).is_err());
        let amend = lookup(TABLE, Post, "/v5/order/amend").unwrap();
        let r = request(Post, HOST, "/v5/order/amend", br#"{"symbol":"BTCUSDT","orderId":"123","category":"spot","qty":"0.02","price":"21000"}"#, JSON, &[]);
        assert_eq!(
            Bybit.orders(&r, amend).unwrap()[0].price.as_deref(),
            Some("21000")
        );
    }

    #[test]
    fn ccxts_calls_are_in_the_table_with_their_class() {
        let calls: &[(Method, &str, Class)] = &[
            (Get, "/v5/market/instruments-info", Public), // load_markets
            (Get, "/v5/account/wallet-balance", Read),    // fetch_balance
            (Get, "/v5/user/query-api", Read),            // is_unified_enabled
            (Post, "/v5/order/create", Trade),            // create_order
            (Post, "/v5/order/cancel-all", Trade),        // cancel_all_orders
            (Get, "/v5/order/history", Read),             // fetch_closed_orders
            (Get, "/v5/position/list", Read),             // fetch_positions
            (Post, "/v5/position/set-leverage", Trade),   // set_leverage
            (Post, "/v5/account/set-margin-mode", Trade), // set_margin_mode (unified account)
            (Post, "/v5/asset/withdraw/create", Withdraw), // withdraw
        ];
        for (m, p, c) in calls {
            assert_eq!(lookup(TABLE, *m, p).map(|e| e.class), Some(*c), "{p}");
        }
        assert!(lookup(TABLE, Get, "/v2/private/wallet/balance").is_none());
        assert!(lookup(TABLE, Get, "/spot/v3/private/account").is_none());
        assert!(lookup(TABLE, Post, "/v5/order/create-batch").is_none());
    }
}
