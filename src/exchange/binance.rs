//! Binance spot (`api.binance.com`) and USD-M futures (`fapi.binance.com`): "SIGNED" endpoints
//! take `signature` = hex(HMAC-SHA256(secretKey, totalParams)), where totalParams is the query
//! string concatenated with the request body, exactly as sent (Binance API documentation,
//! "SIGNED (TRADE, USER_DATA, AND MARGIN) Endpoint security"). The API key goes in the
//! `X-MBX-APIKEY` header; `timestamp` (and `recvWindow`) are parameters inside totalParams.
//!
//! As the proxy's [`Binance`] venue: the bot's `timestamp` and `signature` are removed, its
//! other parameters (`recvWindow` included) stay where it put them, and the proxy appends
//! `timestamp` then `signature` to the form body when the bot sent a non-empty one (ccxt
//! sends a POST's or PUT's parameters there), else to the query. Only HMAC keys are signed
//! with: a secret that is a PEM private key (Binance's Ed25519 and RSA keys) is refused.

use std::borrow::Cow;

use super::class::{Class, Endpoint, Method, Orders};
use super::order_fields::Fields;
use super::request::{Body, Param, Request, join};
use super::venue::{OrderFacts, Outgoing, Secrets, SignError, Stamp, Venue, api_key};
use crate::keys::hex;

/// The header that carries the API key.
pub const API_KEY_HEADER: &str = "X-MBX-APIKEY";

/// The `signature` parameter for `query` (without `?`) followed by `body`, as sent.
pub fn signature(secret: &[u8], query: &[u8], body: &[u8]) -> String {
    hex(&super::hmac_sha256(secret, &[query, body]))
}

/// Spot, wallet and account (`/api`, `/sapi`).
pub const SPOT_HOST: &str = "api.binance.com";

/// USD-M futures (`/fapi`).
pub const FUTURES_HOST: &str = "fapi.binance.com";

use Class::{Public, Read, Trade, Withdraw};
use Method::{Delete, Get, Post, Put};

/// `api.binance.com`: what ccxt 4.5.75's `binance` (spot) and `binanceusdm` (wallet) call;
/// docs/proxy-endpoints.md names the ccxt method of each row.
pub const SPOT: &[Endpoint] = &[
    Endpoint::new(Get, "/api/v3/exchangeInfo", Public),
    Endpoint::new(Get, "/api/v3/time", Public),
    Endpoint::new(Get, "/sapi/v1/system/status", Public),
    Endpoint::new(Get, "/api/v3/ticker/24hr", Public),
    Endpoint::new(Get, "/api/v3/depth", Public),
    Endpoint::new(Get, "/api/v3/klines", Public),
    Endpoint::new(Get, "/api/v3/aggTrades", Public),
    Endpoint::new(Get, "/sapi/v1/capital/config/getall", Read),
    Endpoint::new(Get, "/api/v3/account", Read),
    Endpoint::new(Get, "/api/v3/order", Read),
    Endpoint::new(Get, "/api/v3/openOrders", Read),
    Endpoint::new(Get, "/api/v3/allOrders", Read),
    Endpoint::new(Get, "/api/v3/myTrades", Read),
    Endpoint::new(Get, "/sapi/v1/asset/tradeFee", Read),
    Endpoint::new(Get, "/sapi/v1/capital/deposit/hisrec", Read),
    Endpoint::new(Get, "/sapi/v1/capital/withdraw/history", Read),
    Endpoint::order(Post, "/api/v3/order"),
    Endpoint::new(Delete, "/api/v3/order", Trade),
    Endpoint::new(Delete, "/api/v3/openOrders", Trade),
    Endpoint::order(Post, "/api/v3/order/cancelReplace"),
    Endpoint::new(Post, "/sapi/v1/capital/withdraw/apply", Withdraw),
    Endpoint::new(Post, "/sapi/v1/asset/transfer", Withdraw),
    Endpoint::new(Get, "/sapi/v1/capital/deposit/address", Withdraw),
];

/// `fapi.binance.com`: what ccxt 4.5.75's `binance` and `binanceusdm` call for USD-M futures.
pub const FUTURES: &[Endpoint] = &[
    Endpoint::new(Get, "/fapi/v1/exchangeInfo", Public),
    Endpoint::new(Get, "/fapi/v1/time", Public),
    Endpoint::new(Get, "/fapi/v1/ticker/24hr", Public),
    Endpoint::new(Get, "/fapi/v1/depth", Public),
    Endpoint::new(Get, "/fapi/v1/klines", Public),
    Endpoint::new(Get, "/fapi/v1/aggTrades", Public),
    Endpoint::new(Get, "/fapi/v1/premiumIndex", Public),
    Endpoint::new(Get, "/fapi/v3/account", Read),
    Endpoint::new(Get, "/fapi/v1/order", Read),
    Endpoint::new(Get, "/fapi/v1/openOrders", Read),
    Endpoint::new(Get, "/fapi/v1/allOrders", Read),
    Endpoint::new(Get, "/fapi/v1/userTrades", Read),
    Endpoint::new(Get, "/fapi/v1/commissionRate", Read),
    Endpoint::new(Get, "/fapi/v1/accountConfig", Read),
    Endpoint::new(Get, "/fapi/v1/leverageBracket", Read),
    Endpoint::new(Get, "/fapi/v3/positionRisk", Read),
    Endpoint::order(Post, "/fapi/v1/order"),
    Endpoint::order(Put, "/fapi/v1/order"),
    Endpoint::new(Delete, "/fapi/v1/order", Trade),
    Endpoint::new(Delete, "/fapi/v1/allOpenOrders", Trade),
    Endpoint::new(Post, "/fapi/v1/leverage", Trade),
    Endpoint::new(Post, "/fapi/v1/marginType", Trade),
];

fn param(name: &str, value: String) -> Param {
    Param {
        name: name.to_owned(),
        value,
    }
}

/// Binance spot and USD-M futures, for the signing proxy.
pub struct Binance;

impl Venue for Binance {
    fn exchange(&self) -> &'static str {
        "binance"
    }

    /// Binance's `-1002` ("You are not authorized to execute this request"), which ccxt
    /// raises as `PermissionDenied`.
    fn refusal_members(&self, message: &str) -> Vec<(&'static str, serde_json::Value)> {
        vec![
            ("code", serde_json::Value::from(-1002)),
            (
                "msg",
                serde_json::Value::from(format!(
                    "{message} (this key has no operation privilege for it)"
                )),
            ),
        ]
    }

    fn hosts(&self) -> &'static [&'static str] {
        &[SPOT_HOST, FUTURES_HOST]
    }

    fn endpoints(&self, host: &str) -> &'static [Endpoint] {
        match host {
            SPOT_HOST => SPOT,
            FUTURES_HOST => FUTURES,
            _ => &[],
        }
    }

    fn bot_key<'r>(&self, req: &'r Request) -> Option<Cow<'r, str>> {
        req.header("x-mbx-apikey").map(Cow::Borrowed)
    }

    fn strip(&self, req: &mut Request) {
        req.remove_params(&["signature", "timestamp"]);
    }

    /// An order (`POST /api/v3/order`, `/fapi/v1/order`), its replacement
    /// (`/api/v3/order/cancelReplace`) or a futures order's new price and quantity
    /// (`PUT /fapi/v1/order`): `symbol`, `price`, `quantity`, `quoteOrderQty`.
    fn orders(&self, req: &Request, endpoint: &Endpoint) -> Result<Vec<OrderFacts>, String> {
        if endpoint.orders == Orders::None {
            return Ok(Vec::new());
        }
        let f = Fields::Params(req);
        Ok(vec![OrderFacts {
            symbol: f.text("symbol")?,
            price: f.text("price")?,
            quantity: f.text("quantity")?,
            quote_amount: f.text("quoteOrderQty")?,
            contracts: None,
        }])
    }

    fn sign(&self, req: &Request, secrets: &Secrets, stamp: Stamp) -> Result<Outgoing, SignError> {
        let key = api_key(secrets)?;
        let secret = secrets.secret.expose();
        if secret.windows(11).any(|w| w == b"PRIVATE KEY") {
            return Err(SignError::BadSecret(
                "an HMAC secret key (the proxy does not sign with Binance's Ed25519 or RSA keys)",
            ));
        }
        let mut query = req.query.clone();
        let mut form = match &req.body {
            Body::Form(f) if !f.is_empty() => Some(f.clone()),
            _ => None,
        };
        let json: &[u8] = match &req.body {
            Body::Json(j) => j,
            _ => &[],
        };
        let ts = param("timestamp", stamp.unix_ms.to_string());
        match &mut form {
            Some(f) => f.push(ts),
            None => query.push(ts),
        }
        let signed_body = match &form {
            Some(f) => join(f).into_bytes(),
            None => json.to_vec(),
        };
        let sig = param(
            "signature",
            signature(secret, join(&query).as_bytes(), &signed_body),
        );
        let body = match &mut form {
            Some(f) => {
                f.push(sig);
                join(f).into_bytes()
            }
            None => {
                query.push(sig);
                signed_body
            }
        };
        let q = join(&query);
        let mut headers = vec![(API_KEY_HEADER, key.to_owned())];
        if !body.is_empty() {
            headers.push(("content-type", super::venue::content_type(req).to_owned()));
        }
        Ok(Outgoing {
            path_and_query: if q.is_empty() {
                req.path.clone()
            } else {
                format!("{}?{q}", req.path)
            },
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

    const FORM: &str = "application/x-www-form-urlencoded";

    /// Binance's own example (API documentation, "SIGNED Endpoint Examples for POST
    /// /api/v3/order", HMAC keys): the same parameters as a query string, or as the body.
    #[test]
    fn the_documented_example() {
        let secret = b"NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";
        let params = b"symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559";
        let want = "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71";
        assert_eq!(signature(secret, params, b""), want);
        assert_eq!(signature(secret, b"", params), want);
        // Split between query and body: the signature covers the concatenation.
        assert_eq!(signature(secret, &params[..50], &params[50..]), want);
    }

    const DOC_SECRET: &str = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";
    const DOC_KEY: &str = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A";
    const DOC_PARAMS: &str =
        "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000";
    const DOC_SIGNATURE: &str = "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71";
    const DOC_STAMP: Stamp = Stamp {
        unix_ms: 1_499_827_319_559,
        nonce: 1,
    };

    /// The documented example, sent by a bot as ccxt sends it (its own timestamp first and
    /// its own signature last, in the body): the proxy forwards Binance's example exactly.
    #[test]
    fn a_form_order_is_signed_as_the_documented_example() {
        let mut r = request(
            Post,
            SPOT_HOST,
            "/api/v3/order",
            format!("timestamp=1&{DOC_PARAMS}&signature=dummy").as_bytes(),
            FORM,
            &[("x-mbx-apikey", "proxy-token")],
        );
        assert_eq!(Binance.bot_key(&r).as_deref(), Some("proxy-token"));
        Binance.strip(&mut r);
        let out = Binance
            .sign(&r, &secrets(DOC_KEY, DOC_SECRET, None), DOC_STAMP)
            .unwrap();
        assert_eq!(out.path_and_query, "/api/v3/order");
        assert_eq!(
            String::from_utf8(out.body).unwrap(),
            format!("{DOC_PARAMS}&timestamp=1499827319559&signature={DOC_SIGNATURE}")
        );
        assert_eq!(header(&out.headers, "X-MBX-APIKEY"), Some(DOC_KEY));
        assert_eq!(header(&out.headers, "content-type"), Some(FORM));
        assert!(
            !format!(
                "{:?}",
                Outgoing {
                    path_and_query: String::new(),
                    headers: vec![(API_KEY_HEADER, DOC_KEY.into())],
                    body: vec![]
                }
            )
            .contains(DOC_KEY)
        );
    }

    #[test]
    fn a_query_request_is_signed_in_the_query() {
        let mut r = request(
            Delete,
            SPOT_HOST,
            &format!("/api/v3/order?timestamp=99&{DOC_PARAMS}&signature=dummy"),
            b"",
            FORM,
            &[],
        );
        Binance.strip(&mut r);
        let out = Binance
            .sign(&r, &secrets(DOC_KEY, DOC_SECRET, None), DOC_STAMP)
            .unwrap();
        assert_eq!(
            out.path_and_query,
            format!("/api/v3/order?{DOC_PARAMS}&timestamp=1499827319559&signature={DOC_SIGNATURE}")
        );
        assert!(out.body.is_empty());
        assert_eq!(header(&out.headers, "content-type"), None);
    }

    /// Parameters in both places (not what ccxt sends, but Binance signs the concatenation):
    /// the timestamp and signature go to the body, the signature covers query then body.
    #[test]
    fn query_and_body_are_signed_as_forwarded() {
        let (q, b) = DOC_PARAMS.split_once("&quantity").unwrap();
        let b = format!("quantity{b}");
        let r = request(
            Post,
            SPOT_HOST,
            &format!("/api/v3/order?{q}"),
            b.as_bytes(),
            FORM,
            &[],
        );
        let out = Binance
            .sign(&r, &secrets(DOC_KEY, DOC_SECRET, None), DOC_STAMP)
            .unwrap();
        let body = String::from_utf8(out.body).unwrap();
        let (signed, sig) = body.rsplit_once("&signature=").unwrap();
        assert_eq!(out.path_and_query, format!("/api/v3/order?{q}"));
        assert_eq!(
            sig,
            signature(DOC_SECRET.as_bytes(), q.as_bytes(), signed.as_bytes())
        );
        assert!(signed.ends_with("&timestamp=1499827319559"));
    }

    #[test]
    fn strip_removes_exactly_the_bots_timestamp_and_signature() {
        let mut r = request(
            Get,
            FUTURES_HOST,
            "/fapi/v1/openOrders?timestamp=1&symbol=BTCUSDT&recvWindow=10000&signature=x",
            b"",
            FORM,
            &[],
        );
        Binance.strip(&mut r);
        assert_eq!(r.query_string(), "symbol=BTCUSDT&recvWindow=10000");
        let mut f = request(
            Post,
            FUTURES_HOST,
            "/fapi/v1/order",
            b"timestamp=1&symbol=BTCUSDT&signature=x",
            FORM,
            &[],
        );
        Binance.strip(&mut f);
        assert_eq!(f.body_bytes(), b"symbol=BTCUSDT");
    }

    #[test]
    fn key_and_secret_must_be_what_binance_issues() {
        let r = request(Get, SPOT_HOST, "/api/v3/account", b"", FORM, &[]);
        let pem =
            "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n-----END PRIVATE KEY-----";
        assert!(matches!(
            Binance.sign(&r, &secrets(DOC_KEY, pem, None), DOC_STAMP),
            Err(SignError::BadSecret(_))
        ));
        assert!(matches!(
            Binance.sign(
                &r,
                &secrets("key\r\nX-Injected: 1", DOC_SECRET, None),
                DOC_STAMP
            ),
            Err(SignError::BadSecret(_))
        ));
    }

    #[test]
    fn orders_say_symbol_price_quantity_or_cost() {
        let order = lookup(SPOT, Post, "/api/v3/order").unwrap();
        let r = request(
            Post,
            SPOT_HOST,
            "/api/v3/order",
            b"symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=0.01&price=20000&timeInForce=GTC",
            FORM,
            &[],
        );
        assert_eq!(
            Binance.orders(&r, order).unwrap(),
            vec![OrderFacts {
                symbol: Some("BTCUSDT".into()),
                price: Some("20000".into()),
                quantity: Some("0.01".into()),
                ..OrderFacts::default()
            }]
        );
        let cost = request(
            Post,
            SPOT_HOST,
            "/api/v3/order",
            b"symbol=BTCUSDT&side=BUY&type=MARKET&quoteOrderQty=100",
            FORM,
            &[],
        );
        assert_eq!(
            Binance.orders(&cost, order).unwrap()[0]
                .quote_amount
                .as_deref(),
            Some("100")
        );
        let edit = lookup(FUTURES, Put, "/fapi/v1/order").unwrap();
        assert_eq!(edit.orders, Orders::One);
        let r = request(
            Put,
            FUTURES_HOST,
            "/fapi/v1/order",
            b"symbol=BTCUSDT&side=BUY&orderId=123&quantity=0.02&price=21000",
            FORM,
            &[],
        );
        assert_eq!(
            Binance.orders(&r, edit).unwrap()[0].price.as_deref(),
            Some("21000")
        );
        let cancel = lookup(SPOT, Delete, "/api/v3/order").unwrap();
        assert!(Binance.orders(&r, cancel).unwrap().is_empty());
    }

    /// What each ccxt 4.5.75 method calls (recorded from ccxt against a recording server).
    #[test]
    fn ccxts_calls_are_in_the_tables_with_their_class() {
        let spot: &[(Method, &str, Class)] = &[
            (Get, "/api/v3/exchangeInfo", Public),          // load_markets
            (Get, "/api/v3/ticker/24hr", Public),           // fetch_ticker(s)
            (Get, "/api/v3/account", Read),                 // fetch_balance
            (Post, "/api/v3/order", Trade),                 // create_order
            (Delete, "/api/v3/order", Trade),               // cancel_order
            (Delete, "/api/v3/openOrders", Trade),          // cancel_all_orders
            (Post, "/api/v3/order/cancelReplace", Trade),   // edit_order
            (Get, "/api/v3/allOrders", Read),               // fetch_closed_orders
            (Get, "/sapi/v1/asset/tradeFee", Read),         // fetch_trading_fee(s)
            (Get, "/sapi/v1/capital/deposit/hisrec", Read), // fetch_deposits
            (Post, "/sapi/v1/capital/withdraw/apply", Withdraw), // withdraw
        ];
        for (m, p, c) in spot {
            assert_eq!(lookup(SPOT, *m, p).map(|e| e.class), Some(*c), "{p}");
        }
        let fut: &[(Method, &str, Class)] = &[
            (Get, "/fapi/v3/account", Read),           // fetch_balance
            (Get, "/fapi/v3/positionRisk", Read),      // fetch_positions
            (Post, "/fapi/v1/leverage", Trade),        // set_leverage
            (Post, "/fapi/v1/marginType", Trade),      // set_margin_mode
            (Get, "/fapi/v1/premiumIndex", Public),    // fetch_funding_rate
            (Delete, "/fapi/v1/allOpenOrders", Trade), // cancel_all_orders
        ];
        for (m, p, c) in fut {
            assert_eq!(lookup(FUTURES, *m, p).map(|e| e.class), Some(*c), "{p}");
        }
        // Legacy and other products are not served.
        assert!(lookup(SPOT, Post, "/wapi/v3/withdraw.html").is_none());
        assert!(lookup(SPOT, Get, "/api/v1/account").is_none());
        assert!(lookup(SPOT, Post, "/sapi/v1/margin/order").is_none());
        assert!(lookup(FUTURES, Post, "/fapi/v1/batchOrders").is_none());
    }
}
