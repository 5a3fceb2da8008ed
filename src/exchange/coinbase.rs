//! Coinbase Advanced Trade (`api.coinbase.com`), signed the way ccxt 4.5.75 signs for the kind
//! of key the credential holds:
//!
//! - a CDP key whose secret is an EC P-256 private key in PEM (SEC1 `EC PRIVATE KEY`, as
//!   Coinbase issues it, or PKCS#8 `PRIVATE KEY`): `Authorization: Bearer` a JWT signed with
//!   ES256 (Advanced Trade API documentation, "API Key Authentication"): header `{alg: ES256,
//!   kid: key name, nonce: 16 random bytes in hex, typ: JWT}`, claims `{sub: key name, iss:
//!   "cdp", nbf: now, exp: now + 120, uri: "METHOD api.coinbase.com/path"}` (the path without
//!   its query), signature r ‖ s (64 bytes) in unpadded base64url;
//! - a CDP key whose secret is Ed25519 (base64 of the 32-byte seed and the 32-byte public key):
//!   the same JWT signed with EdDSA, with the CDP SDK's claims `{sub, iss: "cdp", aud:
//!   ["cdp_service"], nbf, exp, uris: [uri]}`;
//! - any other secret, a legacy API key: `CB-ACCESS-KEY`, `CB-ACCESS-TIMESTAMP` (seconds) and
//!   `CB-ACCESS-SIGN` = hex(HMAC-SHA256(secret, timestamp + method + path + body)), the query
//!   added after the path (`?a=1`) for a `/v2/` GET only, as ccxt does.
//!
//! The bot's own JWT is signed with a dummy key: the proxy reads its key name (`sub`, or the
//! header's `kid`) without verifying it, because the proxy token is what authenticates the bot.

use std::borrow::Cow;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Map, Value, json};
use zeroize::Zeroizing;

use super::class::{Class, Endpoint, Method, Orders};
use super::order_fields::{Fields, json_body, json_text, object};
use super::request::Request;
use super::venue::{OrderFacts, Outgoing, Secrets, SignError, Stamp, Venue, api_key};
use crate::keys::hex;

/// The REST host.
pub const HOST: &str = "api.coinbase.com";

/// How long a JWT the proxy signs is valid, in seconds (Coinbase's limit).
pub const JWT_LIFETIME_SECS: u64 = 120;

use Class::{Public, Read, Trade, Withdraw};
use Method::{Get, Post};

/// `api.coinbase.com`: what ccxt 4.5.75's `coinbase` calls; docs/proxy-endpoints.md names the
/// ccxt method of each row. Of the v2 (Coinbase App) endpoints, only those these methods need.
pub const TABLE: &[Endpoint] = &[
    Endpoint::new(Get, "/v2/currencies", Public),
    Endpoint::new(Get, "/v2/currencies/crypto", Public),
    Endpoint::new(Get, "/v2/exchange-rates", Public),
    Endpoint::new(Get, "/v2/time", Public),
    Endpoint::new(Get, "/api/v3/brokerage/market/products", Public),
    Endpoint::new(Get, "/api/v3/brokerage/market/products/{}/ticker", Public),
    Endpoint::new(Get, "/api/v3/brokerage/market/products/{}/candles", Public),
    Endpoint::new(Get, "/api/v3/brokerage/market/product_book", Public),
    Endpoint::new(Get, "/api/v3/brokerage/transaction_summary", Read),
    Endpoint::new(Get, "/v2/accounts", Read),
    Endpoint::new(Get, "/api/v3/brokerage/accounts", Read),
    Endpoint::new(Get, "/api/v3/brokerage/orders/historical/{}", Read),
    Endpoint::new(Get, "/api/v3/brokerage/intx/positions/{}", Read),
    Endpoint::new(Get, "/v2/accounts/{}/deposits", Read),
    Endpoint::new(Get, "/v2/accounts/{}/withdrawals", Read),
    Endpoint::order(Post, "/api/v3/brokerage/orders"),
    Endpoint::order(Post, "/api/v3/brokerage/orders/edit"),
    Endpoint::new(Post, "/api/v3/brokerage/orders/batch_cancel", Trade),
    Endpoint::new(Post, "/v2/accounts/{}/transactions", Withdraw),
    Endpoint::new(Post, "/api/v3/brokerage/portfolios/move_funds", Withdraw),
    Endpoint::new(Get, "/v2/accounts/{}/addresses", Withdraw),
];

/// Coinbase Advanced Trade, for the signing proxy.
pub struct Coinbase;

/// The key a credential's secret is.
enum Key {
    /// EC P-256 (a CDP key).
    Es256(p256::ecdsa::SigningKey),
    /// Ed25519 (a CDP key).
    Ed25519(ed25519_dalek::SigningKey),
    /// An HMAC secret (a legacy API key).
    Hmac,
}

const BAD_PEM: &str = "an EC P-256 private key in PEM (`-----BEGIN EC PRIVATE KEY-----`), as \
                       Coinbase issues it";
const BAD_ED25519: &str = "an Ed25519 key in base64 (its seed and public key, 64 bytes), as \
                           Coinbase issues it";

/// What `secret` is (see the module documentation).
fn key(secret: &[u8]) -> Result<Key, SignError> {
    let text = std::str::from_utf8(secret).map_err(|_| SignError::BadSecret(BAD_PEM))?;
    let text = text.trim();
    if text.starts_with("-----BEGIN") {
        // A key pasted from Coinbase's JSON download may keep its `\n` escapes.
        let pem: Zeroizing<String> = Zeroizing::new(if text.contains('\n') {
            text.to_owned()
        } else {
            text.replace("\\n", "\n")
        });
        use p256::pkcs8::DecodePrivateKey;
        let sk = p256::SecretKey::from_sec1_pem(&pem)
            .or_else(|_| p256::SecretKey::from_pkcs8_pem(&pem))
            .map_err(|_| SignError::BadSecret(BAD_PEM))?;
        return Ok(Key::Es256(p256::ecdsa::SigningKey::from(&sk)));
    }
    let mut raw = Zeroizing::new([0u8; 66]);
    if let Ok(64) = STANDARD.decode_slice(text.as_bytes(), &mut raw[..]) {
        let mut seed = Zeroizing::new([0u8; 32]);
        seed.copy_from_slice(&raw[..32]);
        let sk = ed25519_dalek::SigningKey::from_bytes(&seed);
        if sk.verifying_key().as_bytes()[..] != raw[32..64] {
            return Err(SignError::BadSecret(BAD_ED25519));
        }
        return Ok(Key::Ed25519(sk));
    }
    Ok(Key::Hmac)
}

fn b64url_json(v: &Value) -> String {
    URL_SAFE_NO_PAD.encode(v.to_string())
}

/// The JWT for `uri` at `secs`, signed by `key` (ES256 or EdDSA) as the key `name`.
fn jwt(key: &Key, name: &str, uri: &str, secs: u64) -> String {
    let mut nonce = [0u8; 16];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut nonce);
    let (alg, claims) = match key {
        Key::Ed25519(_) => (
            "EdDSA",
            json!({"sub": name, "iss": "cdp", "aud": ["cdp_service"], "nbf": secs,
                   "exp": secs + JWT_LIFETIME_SECS, "uris": [uri]}),
        ),
        _ => (
            "ES256",
            json!({"sub": name, "iss": "cdp", "nbf": secs, "exp": secs + JWT_LIFETIME_SECS,
                   "uri": uri}),
        ),
    };
    let header = json!({"alg": alg, "kid": name, "nonce": hex(&nonce), "typ": "JWT"});
    let signing_input = format!("{}.{}", b64url_json(&header), b64url_json(&claims));
    let signature: Vec<u8> = match key {
        Key::Es256(k) => {
            let s: p256::ecdsa::Signature =
                p256::ecdsa::signature::Signer::sign(k, signing_input.as_bytes());
            s.to_bytes().to_vec()
        }
        Key::Ed25519(k) => ed25519_dalek::Signer::sign(k, signing_input.as_bytes())
            .to_bytes()
            .to_vec(),
        Key::Hmac => unreachable!("HMAC keys sign no JWT"),
    };
    format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

/// The key name a JWT carries: its claims' `sub`, else its header's `kid` (both must agree
/// when both are there). Not verified: see the module documentation.
fn jwt_key(token: &str) -> Option<String> {
    let mut parts = token.split('.');
    let (h, c, _s) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let field = |part: &str, name: &str| -> Option<String> {
        let bytes = URL_SAFE_NO_PAD.decode(part.trim_end_matches('=')).ok()?;
        let v: Value = serde_json::from_slice(&bytes).ok()?;
        v.get(name)?.as_str().map(str::to_owned)
    };
    match (field(c, "sub"), field(h, "kid")) {
        (Some(s), Some(k)) if s != k => None,
        (Some(s), _) => Some(s),
        (None, k) => k,
    }
}

/// What a Coinbase order says: `product_id`, and from the one member of
/// `order_configuration` (`limit_limit_gtc`, `market_market_ioc`, ...) `limit_price`,
/// `base_size` and `quote_size`.
fn order_facts(order: &Map<String, Value>) -> Result<OrderFacts, String> {
    let symbol = json_text(order, "product_id")?;
    let config = order
        .get("order_configuration")
        .ok_or("the order has no `order_configuration`")?;
    let config = object(config, "`order_configuration`")?;
    let mut kinds = config.iter();
    let (Some((kind, params)), None) = (kinds.next(), kinds.next()) else {
        return Err("`order_configuration` must hold exactly one order type".to_owned());
    };
    let p = object(
        params,
        &format!(
            "`order_configuration.{}`",
            crate::terminal_text::escape(kind)
        ),
    )?;
    let f = Fields::Json(p);
    Ok(OrderFacts {
        symbol,
        price: f.text("limit_price")?,
        quantity: f.text("base_size")?,
        quote_amount: f.text("quote_size")?,
        contracts: None,
    })
}

impl Venue for Coinbase {
    fn exchange(&self) -> &'static str {
        "coinbase"
    }

    /// A fresh P-256 key in PKCS#8 PEM (which names its curve, as Python's `cryptography`
    /// requires; p256's SEC1 form leaves the curve out), so that the bot's ccxt signs its own (discarded) JWT:
    /// ccxt needs a well-formed EC key to sign at all.
    fn dummy_secret(&self) -> zeroize::Zeroizing<String> {
        let key = p256::SecretKey::random(&mut rand_core::OsRng);
        use p256::pkcs8::EncodePrivateKey;
        key.to_pkcs8_pem(p256::pkcs8::LineEnding::LF)
            .expect("a fresh P-256 key encodes")
    }

    fn hosts(&self) -> &'static [&'static str] {
        &[HOST]
    }

    fn endpoints(&self, host: &str) -> &'static [Endpoint] {
        if host == HOST { TABLE } else { &[] }
    }

    fn bot_key<'r>(&self, req: &'r Request) -> Option<Cow<'r, str>> {
        if let Some(auth) = req.header("authorization") {
            return auth
                .strip_prefix("Bearer ")
                .and_then(|t| jwt_key(t.trim()))
                .map(Cow::Owned);
        }
        req.header("cb-access-key").map(Cow::Borrowed)
    }

    /// Nothing: Coinbase's authentication is in headers, which the proxy never forwards.
    fn strip(&self, _req: &mut Request) {}

    /// An order (`/api/v3/brokerage/orders`) or an edit (`/api/v3/brokerage/orders/edit`,
    /// which names no product: `price` and `size`).
    fn orders(&self, req: &Request, endpoint: &Endpoint) -> Result<Vec<OrderFacts>, String> {
        if endpoint.orders == Orders::None {
            return Ok(Vec::new());
        }
        let body = json_body(req)?;
        let order = object(&body, "the order")?;
        if endpoint.path == "/api/v3/brokerage/orders/edit" {
            let f = Fields::Json(order);
            return Ok(vec![OrderFacts {
                price: f.text("price")?,
                quantity: f.text("size")?,
                ..OrderFacts::default()
            }]);
        }
        Ok(vec![order_facts(order)?])
    }

    fn sign(&self, req: &Request, secrets: &Secrets, stamp: Stamp) -> Result<Outgoing, SignError> {
        let name = api_key(secrets)?;
        let secs = stamp.unix_ms / 1000;
        let body = req.body_bytes();
        let mut headers = match key(secrets.secret.expose())? {
            Key::Hmac => {
                let mut prehash = format!("{secs}{}{}", req.method.as_str(), req.path).into_bytes();
                if req.method == Method::Get {
                    let q = req.query_string();
                    if req.path.starts_with("/v2/") && !q.is_empty() {
                        prehash.push(b'?');
                        prehash.extend_from_slice(q.as_bytes());
                    }
                } else {
                    prehash.extend_from_slice(&body);
                }
                let sign = hex(&super::hmac_sha256(secrets.secret.expose(), &[&prehash]));
                vec![
                    ("CB-ACCESS-KEY", name.to_owned()),
                    ("CB-ACCESS-SIGN", sign),
                    ("CB-ACCESS-TIMESTAMP", secs.to_string()),
                ]
            }
            k => {
                let uri = format!("{} {HOST}{}", req.method.as_str(), req.path);
                vec![(
                    "Authorization",
                    format!("Bearer {}", jwt(&k, name, &uri, secs)),
                )]
            }
        };
        if !body.is_empty() {
            headers.push(("content-type", "application/json".to_owned()));
        }
        Ok(Outgoing {
            path_and_query: req.path_and_query(),
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
    use p256::ecdsa::signature::Verifier;
    use p256::pkcs8::EncodePrivateKey;

    const JSON: &str = "application/json";
    const NAME: &str = "organizations/0b5e4c1a/apiKeys/7d2f9e3c";
    const STAMP: Stamp = Stamp {
        unix_ms: 1_790_000_000_123,
        nonce: 1,
    };

    /// A fixed P-256 key (scalar 0x11…11) in SEC1 PEM, as Coinbase issues it.
    fn ec_key() -> (p256::SecretKey, String) {
        let sk = p256::SecretKey::from_slice(&[0x11; 32]).unwrap();
        let pem = sk.to_sec1_pem(p256::pkcs8::LineEnding::LF).unwrap();
        (sk, pem.to_string())
    }

    fn parts(token: &str) -> (Value, Value, Vec<u8>) {
        let p: Vec<&str> = token.split('.').collect();
        assert_eq!(p.len(), 3);
        let j = |s: &str| serde_json::from_slice(&URL_SAFE_NO_PAD.decode(s).unwrap()).unwrap();
        (j(p[0]), j(p[1]), URL_SAFE_NO_PAD.decode(p[2]).unwrap())
    }

    fn bearer(out: &Outgoing) -> String {
        header(&out.headers, "Authorization")
            .unwrap()
            .strip_prefix("Bearer ")
            .unwrap()
            .to_owned()
    }

    #[test]
    fn a_pem_key_signs_an_es256_jwt_that_verifies_with_the_documented_claims() {
        let (sk, pem) = ec_key();
        let r = request(
            Get,
            HOST,
            "/api/v3/brokerage/orders/historical/batch?order_status=OPEN&product_id=BTC-USD",
            b"",
            JSON,
            &[],
        );
        let out = Coinbase
            .sign(&r, &secrets(NAME, &pem, None), STAMP)
            .unwrap();
        assert_eq!(
            out.path_and_query,
            "/api/v3/brokerage/orders/historical/batch?order_status=OPEN&product_id=BTC-USD"
        );
        let token = bearer(&out);
        let (h, c, sig) = parts(&token);
        assert_eq!(h["alg"], "ES256");
        assert_eq!(h["typ"], "JWT");
        assert_eq!(h["kid"], NAME);
        let nonce = h["nonce"].as_str().unwrap();
        assert!(nonce.len() == 32 && nonce.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(
            c,
            json!({"sub": NAME, "iss": "cdp", "nbf": 1_790_000_000u64, "exp": 1_790_000_120u64,
                   "uri": "GET api.coinbase.com/api/v3/brokerage/orders/historical/batch"})
        );
        assert_eq!(sig.len(), 64);
        let vk = p256::ecdsa::VerifyingKey::from(sk.public_key());
        let signature = p256::ecdsa::Signature::from_slice(&sig).unwrap();
        let input = token.rsplit_once('.').unwrap().0;
        vk.verify(input.as_bytes(), &signature).unwrap();
        // Each JWT has its own nonce.
        let again = bearer(
            &Coinbase
                .sign(&r, &secrets(NAME, &pem, None), STAMP)
                .unwrap(),
        );
        assert_ne!(parts(&again).0["nonce"], h["nonce"]);
    }

    #[test]
    fn pkcs8_and_escaped_newline_pem_keys_are_taken_other_pem_is_refused() {
        let (sk, pem) = ec_key();
        let pkcs8 = sk.to_pkcs8_pem(p256::pkcs8::LineEnding::LF).unwrap();
        let escaped = pem.trim_end().replace('\n', "\\n");
        let body = br#"{"order_ids":["1"]}"#;
        let r = request(
            Post,
            HOST,
            "/api/v3/brokerage/orders/batch_cancel",
            body,
            JSON,
            &[],
        );
        for secret in [pkcs8.as_str(), escaped.as_str()] {
            let out = Coinbase
                .sign(&r, &secrets(NAME, secret, None), STAMP)
                .unwrap();
            let (_, c, _) = parts(&bearer(&out));
            assert_eq!(
                c["uri"],
                "POST api.coinbase.com/api/v3/brokerage/orders/batch_cancel"
            );
            assert_eq!(out.body, body);
            assert_eq!(header(&out.headers, "content-type"), Some(JSON));
        }
        let garbage = "-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n";
        assert!(matches!(
            Coinbase.sign(&r, &secrets(NAME, garbage, None), STAMP),
            Err(SignError::BadSecret(_))
        ));
    }

    #[test]
    fn an_ed25519_key_signs_an_eddsa_jwt() {
        let sk = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
        let mut raw = [7u8; 32].to_vec();
        raw.extend_from_slice(sk.verifying_key().as_bytes());
        let secret = STANDARD.encode(&raw);
        assert_eq!(secret.len(), 88);
        let r = request(Get, HOST, "/v2/accounts", b"", JSON, &[]);
        let token = bearer(
            &Coinbase
                .sign(&r, &secrets("key-id", &secret, None), STAMP)
                .unwrap(),
        );
        let (h, c, sig) = parts(&token);
        assert_eq!(h["alg"], "EdDSA");
        assert_eq!(c["uris"], json!(["GET api.coinbase.com/v2/accounts"]));
        assert_eq!(c["aud"], json!(["cdp_service"]));
        let input = token.rsplit_once('.').unwrap().0;
        sk.verifying_key()
            .verify_strict(
                input.as_bytes(),
                &ed25519_dalek::Signature::from_slice(&sig).unwrap(),
            )
            .unwrap();
        // A seed whose public half does not match is not a key Coinbase issued.
        raw[40] ^= 1;
        assert!(matches!(
            Coinbase.sign(&r, &secrets("key-id", &STANDARD.encode(&raw), None), STAMP),
            Err(SignError::BadSecret(_))
        ));
    }

    /// ccxt 4.5.75 still signs a legacy key (any other secret) with CB-ACCESS-*; the known
    /// answers are ccxt's own `sign()` for the same key, secret and time.
    #[test]
    fn a_legacy_key_signs_with_hmac_as_ccxt_does() {
        let s = secrets("legacy-key", "legacysecret0123456789abcdefghij", None);
        let r = request(
            Post,
            HOST,
            "/api/v3/brokerage/orders",
            br#"{"a":1}"#,
            JSON,
            &[],
        );
        let out = Coinbase.sign(&r, &s, STAMP).unwrap();
        assert_eq!(header(&out.headers, "CB-ACCESS-KEY"), Some("legacy-key"));
        assert_eq!(
            header(&out.headers, "CB-ACCESS-TIMESTAMP"),
            Some("1790000000")
        );
        assert_eq!(
            header(&out.headers, "CB-ACCESS-SIGN"),
            Some(
                hex(&crate::exchange::hmac_sha256(
                    b"legacysecret0123456789abcdefghij",
                    &[b"1790000000POST/api/v3/brokerage/orders{\"a\":1}"]
                ))
                .as_str()
            )
        );
        assert_eq!(
            header(&out.headers, "CB-ACCESS-SIGN"),
            Some("adad4a02fcdf1a2552f647a2c044053ddcfaa89e4103d6ccaffb5124d534c18a")
        );
        assert_eq!(header(&out.headers, "Authorization"), None);
        // A v3 GET signs the path alone, a v2 GET the path and its query.
        let v3 = request(
            Get,
            HOST,
            "/api/v3/brokerage/accounts?limit=250",
            b"",
            JSON,
            &[],
        );
        let v2 = request(Get, HOST, "/v2/accounts?limit=100", b"", JSON, &[]);
        let sign = |r: &Request| {
            header(
                &Coinbase.sign(r, &s, STAMP).unwrap().headers,
                "CB-ACCESS-SIGN",
            )
            .unwrap()
            .to_owned()
        };
        assert_eq!(
            sign(&v3),
            hex(&crate::exchange::hmac_sha256(
                b"legacysecret0123456789abcdefghij",
                &[b"1790000000GET/api/v3/brokerage/accounts"]
            ))
        );
        assert_eq!(
            sign(&v2),
            "6431102cd307b264ae16b7c43ca45994df284aecbadd1e4f239556b9760ee0b1"
        );
    }

    #[test]
    fn the_bots_key_is_read_from_its_jwt_or_its_header() {
        let (_, pem) = ec_key();
        let r = request(Get, HOST, "/v2/accounts", b"", JSON, &[]);
        let bots = bearer(
            &Coinbase
                .sign(&r, &secrets("proxy-token", &pem, None), STAMP)
                .unwrap(),
        );
        let with = |h: &[(&str, &str)]| request(Get, HOST, "/v2/accounts", b"", JSON, h);
        let auth = format!("Bearer {bots}");
        assert_eq!(
            Coinbase
                .bot_key(&with(&[("authorization", &auth)]))
                .as_deref(),
            Some("proxy-token")
        );
        assert_eq!(
            Coinbase
                .bot_key(&with(&[("cb-access-key", "proxy-token")]))
                .as_deref(),
            Some("proxy-token")
        );
        assert_eq!(
            Coinbase.bot_key(&with(&[("authorization", "Bearer not.a.jwt")])),
            None
        );
        assert_eq!(
            Coinbase.bot_key(&with(&[("authorization", "Basic eA==")])),
            None
        );
        // sub and kid disagree: no key.
        let h = b64url_json(&json!({"alg": "ES256", "kid": "a"}));
        let c = b64url_json(&json!({"sub": "b"}));
        let mixed = format!("Bearer {h}.{c}.sig");
        assert_eq!(Coinbase.bot_key(&with(&[("authorization", &mixed)])), None);
        assert_eq!(Coinbase.bot_key(&with(&[])), None);
    }

    #[test]
    fn orders_say_product_price_and_size() {
        let create = lookup(TABLE, Post, "/api/v3/brokerage/orders").unwrap();
        let one = |body: &[u8]| {
            let r = request(Post, HOST, "/api/v3/brokerage/orders", body, JSON, &[]);
            Coinbase.orders(&r, create).map(|mut v| v.remove(0))
        };
        // As ccxt sends a limit buy, a market buy by cost and a market sell.
        assert_eq!(
            one(br#"{"client_order_id":"c","product_id":"BTC-USD","side":"BUY","order_configuration":{"limit_limit_gtc":{"base_size":"0.01","limit_price":"20000","post_only":false}}}"#).unwrap(),
            OrderFacts {
                symbol: Some("BTC-USD".into()),
                price: Some("20000".into()),
                quantity: Some("0.01".into()),
                ..OrderFacts::default()
            }
        );
        let f = one(br#"{"product_id":"BTC-USD","side":"BUY","order_configuration":{"market_market_ioc":{"quote_size":"100"}}}"#).unwrap();
        assert_eq!(
            (f.quote_amount.as_deref(), f.quantity, f.price),
            (Some("100"), None, None)
        );
        let f = one(br#"{"product_id":"BTC-USD","side":"SELL","order_configuration":{"market_market_ioc":{"base_size":"0.01"}}}"#).unwrap();
        assert_eq!(f.quantity.as_deref(), Some("0.01"));
        for bad in [
            &br#"{"product_id":"BTC-USD"}"#[..],
            br#"{"product_id":"BTC-USD","order_configuration":{}}"#,
            br#"{"product_id":"BTC-USD","order_configuration":{"a":{"base_size":"1"},"b":{"base_size":"2"}}}"#,
            br#"{"product_id":"BTC-USD","order_configuration":{"limit_limit_gtc":"x"}}"#,
        ] {
            assert!(one(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
        let edit = lookup(TABLE, Post, "/api/v3/brokerage/orders/edit").unwrap();
        let r = request(
            Post,
            HOST,
            "/api/v3/brokerage/orders/edit",
            br#"{"order_id":"123","size":"0.02","price":"21000"}"#,
            JSON,
            &[],
        );
        assert_eq!(
            Coinbase.orders(&r, edit).unwrap(),
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
            (Get, "/api/v3/brokerage/market/products", Public), // load_markets, fetch_tickers
            (
                Get,
                "/api/v3/brokerage/market/products/BTC-USD/ticker",
                Public,
            ), // fetch_ticker, fetch_trades
            (
                Get,
                "/api/v3/brokerage/market/products/BTC-USD/candles",
                Public,
            ), // fetch_ohlcv
            (Get, "/v2/accounts", Read),                        // fetch_balance
            (
                Get,
                "/api/v3/brokerage/orders/historical/2f1e3a4b-0c9d-4e8f-a7b6-5c4d3e2f1a0b",
                Read,
            ), // fetch_order
            (Get, "/api/v3/brokerage/orders/historical/batch", Read), // fetch_open_orders
            (Get, "/api/v3/brokerage/orders/historical/fills", Read), // fetch_my_trades
            (Post, "/api/v3/brokerage/orders", Trade),          // create_order
            (Post, "/api/v3/brokerage/orders/batch_cancel", Trade), // cancel_order
            (Post, "/api/v3/brokerage/orders/edit", Trade),     // edit_order
            (Get, "/v2/accounts/2f1e3a4b/deposits", Read),      // fetch_deposits
        ];
        for (m, p, c) in calls {
            assert_eq!(lookup(TABLE, *m, p).map(|e| e.class), Some(*c), "{p}");
        }
        assert!(lookup(TABLE, Get, "/v2/accounts/2f1e3a4b/transactions").is_none());
        assert!(lookup(TABLE, Post, "/v2/accounts/2f1e3a4b/addresses").is_none());
        assert!(lookup(TABLE, Get, "/v2/user").is_none());
    }
}
