//! Kraken spot REST: `API-Sign` = base64(HMAC-SHA512(base64-decode(secret), URI path +
//! SHA-256(nonce + POST data))), where the nonce is also the first POST parameter and must
//! increase with every request of the key (Kraken API documentation, "Spot REST
//! Authentication"). The key goes in `API-Key`.
//!
//! As the proxy's [`Kraken`] venue on `api.kraken.com`: the bot's `nonce` and `otp` are
//! removed (from a form, or from a JSON object, which ccxt sends for batch orders) and the
//! proxy's nonce is put first, followed by the credential's passphrase as `otp` when it has
//! one (Kraken's static-password two-factor option for API keys: store the password as the
//! credential's passphrase). The nonce is the proxy's [`Stamp::nonce`], strictly increasing
//! across restarts on a microsecond scale; ccxt sends milliseconds, so a key ccxt used directly
//! keeps working through the proxy, but once the proxy has used a key, a bot signing with
//! millisecond nonces is refused by Kraken ("EAPI:Invalid nonce").

use std::borrow::Cow;
use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::class::{Class, Endpoint, Method, Orders};
use super::order_fields::{Fields, json_body, object};
use super::request::{Body, Param, Request, join};
use super::venue::{OrderFacts, Outgoing, Secrets, SignError, Stamp, Venue, api_key, ascii_field};

/// The headers Kraken authenticates by.
pub const HEADERS: [&str; 2] = ["API-Key", "API-Sign"];

/// The secret as Kraken issues it is base64 text; it does not decode.
#[derive(Debug, PartialEq, Eq)]
pub struct NotBase64;

impl fmt::Display for NotBase64 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the Kraken API secret is not base64 text, as Kraken issues it")
    }
}

impl std::error::Error for NotBase64 {}

/// The HMAC key: the secret's base64 decoded, in a buffer that zeroizes on drop.
pub fn decode_secret(secret_text: &str) -> Result<Zeroizing<Vec<u8>>, NotBase64> {
    let mut out = Zeroizing::new(vec![0u8; secret_text.len()]);
    let n = STANDARD
        .decode_slice(secret_text.trim().as_bytes(), &mut out)
        .map_err(|_| NotBase64)?;
    out.truncate(n);
    Ok(out)
}

/// `API-Sign` for a request to `uri_path` (`/0/private/AddOrder`) with `nonce` and the POST
/// data as sent (which carries the same nonce).
pub fn signature(key: &[u8], uri_path: &str, nonce: &str, post_data: &[u8]) -> String {
    let mut inner = Sha256::new();
    inner.update(nonce.as_bytes());
    inner.update(post_data);
    let digest = inner.finalize();
    STANDARD.encode(super::hmac_sha512(key, &[uri_path.as_bytes(), &digest]))
}

/// The REST host.
pub const HOST: &str = "api.kraken.com";

/// The parameters that authenticate a request, which the proxy writes itself.
const AUTH_PARAMS: [&str; 2] = ["nonce", "otp"];

use Class::{Public, Read, Trade, Withdraw};
use Method::{Get, Post};

/// `api.kraken.com`: what ccxt 4.5.75's `kraken` (spot) calls; docs/proxy-endpoints.md names
/// the ccxt method of each row.
pub const TABLE: &[Endpoint] = &[
    Endpoint::new(Get, "/0/public/Assets", Public),
    Endpoint::new(Get, "/0/public/AssetPairs", Public),
    Endpoint::new(Get, "/0/public/Time", Public),
    Endpoint::new(Get, "/0/public/SystemStatus", Public),
    Endpoint::new(Get, "/0/public/Ticker", Public),
    Endpoint::new(Get, "/0/public/Depth", Public),
    Endpoint::new(Get, "/0/public/OHLC", Public),
    Endpoint::new(Get, "/0/public/Trades", Public),
    Endpoint::new(Post, "/0/private/BalanceEx", Read),
    Endpoint::new(Post, "/0/private/QueryOrders", Read),
    Endpoint::new(Post, "/0/private/OpenOrders", Read),
    Endpoint::new(Post, "/0/private/ClosedOrders", Read),
    Endpoint::new(Post, "/0/private/TradesHistory", Read),
    Endpoint::new(Post, "/0/private/TradeVolume", Read),
    Endpoint::new(Post, "/0/private/OpenPositions", Read),
    Endpoint::new(Post, "/0/private/DepositMethods", Read),
    Endpoint::new(Post, "/0/private/DepositStatus", Read),
    Endpoint::new(Post, "/0/private/WithdrawStatus", Read),
    Endpoint::order(Post, "/0/private/AddOrder"),
    Endpoint::order(Post, "/0/private/AmendOrder"),
    Endpoint::new(Post, "/0/private/CancelOrder", Trade),
    Endpoint::new(Post, "/0/private/CancelAll", Trade),
    Endpoint::new(Post, "/0/private/Withdraw", Withdraw),
    Endpoint::new(Post, "/0/private/WalletTransfer", Withdraw),
    Endpoint::new(Post, "/0/private/DepositAddresses", Withdraw),
];

/// Kraken spot, for the signing proxy.
pub struct Kraken;

/// A JSON object's members in order, values as written; `None` if `bytes` is not an object.
fn members(bytes: &[u8]) -> Option<Vec<(String, Box<RawValue>)>> {
    use serde::de::{Deserializer as _, MapAccess, Visitor};
    struct Members;
    impl<'de> Visitor<'de> for Members {
        type Value = Vec<(String, Box<RawValue>)>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Self::Value, A::Error> {
            let mut out = Vec::new();
            while let Some(k) = a.next_key::<String>()? {
                out.push((k, a.next_value::<Box<RawValue>>()?));
            }
            Ok(out)
        }
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let m = de.deserialize_map(Members).ok()?;
    de.end().ok()?;
    Some(m)
}

/// `{` first members, then `rest`, `}`, each member as `"key":value`.
fn object_text(first: &[(&str, String)], rest: &[(String, Box<RawValue>)]) -> Vec<u8> {
    let mut parts: Vec<String> = first
        .iter()
        .map(|(k, v)| format!("{}:{v}", serde_json::Value::from(*k)))
        .collect();
    parts.extend(
        rest.iter()
            .map(|(k, v)| format!("{}:{}", serde_json::Value::from(k.as_str()), v.get())),
    );
    format!("{{{}}}", parts.join(",")).into_bytes()
}

/// Percent-encode `s` for a form value (everything but unreserved characters).
fn form_value(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// What one Kraken order says: `pair`, `price`, `volume`, in the quote currency when `oflags`
/// has `viqc` (ccxt's market buy by cost). An amendment (`AmendOrder`) names no pair; it gives
/// `limit_price` and `order_qty`.
fn facts(f: &Fields<'_>, amend: bool) -> Result<OrderFacts, String> {
    if amend {
        return Ok(OrderFacts {
            price: f.text("limit_price")?,
            quantity: f.text("order_qty")?,
            ..OrderFacts::default()
        });
    }
    let volume = f.text("volume")?;
    let viqc = f
        .text("oflags")?
        .is_some_and(|o| o.split(',').any(|flag| flag.trim() == "viqc"));
    let mut facts = OrderFacts {
        symbol: f.text("pair")?,
        price: f.text("price")?,
        ..OrderFacts::default()
    };
    if viqc {
        facts.quote_amount = volume;
    } else {
        facts.quantity = volume;
    }
    Ok(facts)
}

impl Venue for Kraken {
    fn exchange(&self) -> &'static str {
        "kraken"
    }

    fn hosts(&self) -> &'static [&'static str] {
        &[HOST]
    }

    fn endpoints(&self, host: &str) -> &'static [Endpoint] {
        if host == HOST { TABLE } else { &[] }
    }

    fn bot_key<'r>(&self, req: &'r Request) -> Option<Cow<'r, str>> {
        req.header("api-key").map(Cow::Borrowed)
    }

    fn strip(&self, req: &mut Request) {
        req.remove_params(&AUTH_PARAMS);
        if let Body::Json(j) = &req.body
            && let Some(m) = members(j)
        {
            let kept: Vec<_> = m
                .into_iter()
                .filter(|(k, _)| !AUTH_PARAMS.contains(&k.as_str()))
                .collect();
            req.body = Body::Json(object_text(&[], &kept));
        }
    }

    /// An order (`AddOrder`) or an amendment (`AmendOrder`), from the form (or a JSON object).
    fn orders(&self, req: &Request, endpoint: &Endpoint) -> Result<Vec<OrderFacts>, String> {
        if endpoint.orders == Orders::None {
            return Ok(Vec::new());
        }
        let amend = endpoint.path == "/0/private/AmendOrder";
        if let Body::Json(_) = req.body {
            let body = json_body(req)?;
            return Ok(vec![facts(
                &Fields::Json(object(&body, "the order")?),
                amend,
            )?]);
        }
        Ok(vec![facts(&Fields::Params(req), amend)?])
    }

    fn sign(&self, req: &Request, secrets: &Secrets, stamp: Stamp) -> Result<Outgoing, SignError> {
        let key = api_key(secrets)?;
        let hmac_key =
            ascii_field(&secrets.secret, "base64 text, as Kraken issues it").and_then(|t| {
                decode_secret(t)
                    .map_err(|_| SignError::BadSecret("base64 text, as Kraken issues it"))
            })?;
        let otp = match &secrets.passphrase {
            Some(p) => Some(ascii_field(
                p,
                "printable ASCII text (the key's two-factor password)",
            )?),
            None => None,
        };
        let nonce = stamp.nonce.to_string();
        let body = match &req.body {
            Body::Json(j) => match members(j) {
                Some(m) => {
                    let mut first =
                        vec![("nonce", serde_json::Value::from(nonce.as_str()).to_string())];
                    if let Some(o) = otp {
                        first.push(("otp", serde_json::Value::from(o).to_string()));
                    }
                    object_text(&first, &m)
                }
                None => j.clone(),
            },
            other => {
                let mut form = vec![Param {
                    name: "nonce".to_owned(),
                    value: nonce.clone(),
                }];
                if let Some(o) = otp {
                    form.push(Param {
                        name: "otp".to_owned(),
                        value: form_value(o),
                    });
                }
                if let Body::Form(f) = other {
                    form.extend(f.iter().cloned());
                }
                join(&form).into_bytes()
            }
        };
        let sign = signature(&hmac_key, &req.path, &nonce, &body);
        let content_type = match req.body {
            Body::Json(_) => "application/json",
            _ => "application/x-www-form-urlencoded",
        };
        Ok(Outgoing {
            path_and_query: req.path_and_query(),
            headers: vec![
                (HEADERS[0], key.to_owned()),
                (HEADERS[1], sign),
                ("content-type", content_type.to_owned()),
            ],
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
    const JSON: &str = "application/json";
    const DOC_SECRET: &str =
        "kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg==";

    /// Kraken's own example (Spot REST Authentication, "Example").
    #[test]
    fn the_documented_example() {
        let key = decode_secret(
            "kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg==",
        )
        .unwrap();
        assert_eq!(
            signature(
                &key,
                "/0/private/AddOrder",
                "1616492376594",
                b"nonce=1616492376594&ordertype=limit&pair=XBTUSD&price=37500&type=buy&volume=1.25"
            ),
            "4/dpxb3iT4tp/ZCVEwSnEsLxx0bqyhLpdfOpc6fn7OR8+UClSV5n9E6aSS8MPtnRfp32bAb0nmbRn6H8ndwLUQ=="
        );
        assert_eq!(decode_secret("not base64!"), Err(NotBase64));
    }

    /// The documented example as ccxt sends it (its own nonce first): the proxy's nonce
    /// replaces it and the signature is Kraken's published one.
    #[test]
    fn a_bots_order_is_signed_as_the_documented_example() {
        let mut r = request(
            Post,
            HOST,
            "/0/private/AddOrder",
            b"nonce=1&ordertype=limit&pair=XBTUSD&price=37500&type=buy&volume=1.25",
            FORM,
            &[("api-key", "proxy-token"), ("api-sign", "x")],
        );
        assert_eq!(Kraken.bot_key(&r).as_deref(), Some("proxy-token"));
        Kraken.strip(&mut r);
        let out = Kraken
            .sign(
                &r,
                &secrets("real-key", DOC_SECRET, None),
                Stamp {
                    unix_ms: 1,
                    nonce: 1_616_492_376_594,
                },
            )
            .unwrap();
        assert_eq!(
            out.body,
            b"nonce=1616492376594&ordertype=limit&pair=XBTUSD&price=37500&type=buy&volume=1.25"
        );
        assert_eq!(
            header(&out.headers, "API-Sign"),
            Some(
                "4/dpxb3iT4tp/ZCVEwSnEsLxx0bqyhLpdfOpc6fn7OR8+UClSV5n9E6aSS8MPtnRfp32bAb0nmbRn6H8ndwLUQ=="
            )
        );
        assert_eq!(header(&out.headers, "API-Key"), Some("real-key"));
        assert_eq!(header(&out.headers, "content-type"), Some(FORM));
    }

    #[test]
    fn the_passphrase_goes_as_otp_encoded_after_the_nonce() {
        let mut r = request(
            Post,
            HOST,
            "/0/private/BalanceEx",
            b"nonce=5&otp=bots",
            FORM,
            &[],
        );
        Kraken.strip(&mut r);
        assert_eq!(r.body, Body::Form(vec![]));
        let s = secrets("k", DOC_SECRET, Some("pa ss&w=rd"));
        let out = Kraken
            .sign(
                &r,
                &s,
                Stamp {
                    unix_ms: 1,
                    nonce: 42,
                },
            )
            .unwrap();
        assert_eq!(out.body, b"nonce=42&otp=pa%20ss%26w%3Drd");
        let key = decode_secret(DOC_SECRET).unwrap();
        assert_eq!(
            header(&out.headers, "API-Sign").unwrap(),
            signature(&key, "/0/private/BalanceEx", "42", &out.body)
        );
        // No body at all: the nonce is the whole form.
        let e = request(Post, HOST, "/0/private/BalanceEx", b"", FORM, &[]);
        assert_eq!(
            Kraken
                .sign(
                    &e,
                    &secrets("k", DOC_SECRET, None),
                    Stamp {
                        unix_ms: 1,
                        nonce: 7
                    }
                )
                .unwrap()
                .body,
            b"nonce=7"
        );
    }

    #[test]
    fn a_json_body_gets_the_nonce_first_and_keeps_the_rest_as_written() {
        let mut r = request(
            Post,
            HOST,
            "/0/private/AddOrder",
            br#"{"nonce":"1","pair":"XBTUSD","volume":1.10,"otp":"x","o":{"a":[1, 2]}}"#,
            JSON,
            &[],
        );
        Kraken.strip(&mut r);
        assert_eq!(
            r.body_bytes(),
            br#"{"pair":"XBTUSD","volume":1.10,"o":{"a":[1, 2]}}"#
        );
        let out = Kraken
            .sign(
                &r,
                &secrets("k", DOC_SECRET, Some("pw")),
                Stamp {
                    unix_ms: 1,
                    nonce: 9,
                },
            )
            .unwrap();
        assert_eq!(
            out.body,
            br#"{"nonce":"9","otp":"pw","pair":"XBTUSD","volume":1.10,"o":{"a":[1, 2]}}"#
        );
        assert_eq!(header(&out.headers, "content-type"), Some(JSON));
        let key = decode_secret(DOC_SECRET).unwrap();
        assert_eq!(
            header(&out.headers, "API-Sign").unwrap(),
            signature(&key, "/0/private/AddOrder", "9", &out.body)
        );
        let add = lookup(TABLE, Post, "/0/private/AddOrder").unwrap();
        // A JSON number is read as its value.
        assert_eq!(
            Kraken.orders(&r, add).unwrap()[0].quantity.as_deref(),
            Some("1.1")
        );
    }

    #[test]
    fn a_secret_that_is_not_base64_is_refused() {
        let r = request(Post, HOST, "/0/private/BalanceEx", b"nonce=1", FORM, &[]);
        assert!(matches!(
            Kraken.sign(
                &r,
                &secrets("k", "not base64!", None),
                Stamp {
                    unix_ms: 1,
                    nonce: 1
                }
            ),
            Err(SignError::BadSecret(_))
        ));
    }

    #[test]
    fn orders_say_pair_price_volume_or_cost() {
        let add = lookup(TABLE, Post, "/0/private/AddOrder").unwrap();
        let r = request(
            Post,
            HOST,
            "/0/private/AddOrder",
            b"nonce=1&pair=XXBTZUSD&type=buy&ordertype=limit&volume=0.01&price=20000",
            FORM,
            &[],
        );
        assert_eq!(
            Kraken.orders(&r, add).unwrap(),
            vec![OrderFacts {
                symbol: Some("XXBTZUSD".into()),
                price: Some("20000".into()),
                quantity: Some("0.01".into()),
                ..OrderFacts::default()
            }]
        );
        // ccxt's create_market_buy_order_with_cost.
        let r = request(
            Post,
            HOST,
            "/0/private/AddOrder",
            b"nonce=1&pair=XXBTZUSD&type=buy&ordertype=market&volume=100&oflags=fciq%2Cviqc",
            FORM,
            &[],
        );
        let f = Kraken.orders(&r, add).unwrap();
        assert_eq!(
            (f[0].quote_amount.as_deref(), f[0].quantity.as_deref()),
            (Some("100"), None)
        );
        let amend = lookup(TABLE, Post, "/0/private/AmendOrder").unwrap();
        let r = request(
            Post,
            HOST,
            "/0/private/AmendOrder",
            b"nonce=1&txid=123&order_qty=0.02&limit_price=21000",
            FORM,
            &[],
        );
        assert_eq!(
            Kraken.orders(&r, amend).unwrap(),
            vec![OrderFacts {
                price: Some("21000".into()),
                quantity: Some("0.02".into()),
                ..OrderFacts::default()
            }]
        );
    }

    #[test]
    fn ccxts_calls_are_in_the_table_with_their_class() {
        let calls: &[(Method, &str, Class)] = &[
            (Get, "/0/public/AssetPairs", Public),         // load_markets
            (Post, "/0/private/BalanceEx", Read),          // fetch_balance
            (Post, "/0/private/AddOrder", Trade),          // create_order
            (Post, "/0/private/AmendOrder", Trade),        // edit_order
            (Post, "/0/private/CancelAll", Trade),         // cancel_all_orders
            (Post, "/0/private/TradeVolume", Read),        // fetch_trading_fee
            (Post, "/0/private/Withdraw", Withdraw),       // withdraw
            (Post, "/0/private/WalletTransfer", Withdraw), // transfer
        ];
        for (m, p, c) in calls {
            assert_eq!(lookup(TABLE, *m, p).map(|e| e.class), Some(*c), "{p}");
        }
        assert!(lookup(TABLE, Post, "/0/private/AddOrderBatch").is_none());
        assert!(lookup(TABLE, Post, "/0/private/Balance").is_none());
    }
}
