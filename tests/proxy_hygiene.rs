//! The signing proxy's refusals, request by request, over raw HTTP: what a bot (or something
//! pretending to be one) might send to get a request through that the policy forbids, or read
//! differently by the exchange than by custody. Each is refused with the documented status and
//! JSON body before anything reaches the exchange (the mocks' request log shows nothing of
//! them), and each refusal is an audit record.

mod common;

use common::exchange_mock::{Mock, agent, ccxt_available, http, token, vault};

fn enc(url: &str) -> String {
    url.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn json(body: &str) -> serde_json::Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body:?}"))
}

#[test]
fn hostile_requests_are_refused_before_the_exchange_sees_them() {
    if !ccxt_available() {
        return;
    }
    let mock = Mock::start(&["binance", "okx"]);
    let f = vault(
        &mock,
        &[
            ("binance-main", "binance", "binance", "read,trade"),
            ("okx-main", "okx", "okx", "read,trade"),
        ],
        &[
            "--symbols",
            "BTCUSDT,BTC-USDT",
            "--max-notional",
            "1000",
            "--orders-per-minute",
            "2",
        ],
    );
    let (a, listen) = agent(&f, &mock, &["binance", "okx"]);
    let tok = token(&a, "binance-main");
    let okx_tok = token(&a, "okx-main");
    let before = mock.requests().len();
    let get = |url: &str, key: &str| {
        http(
            &listen,
            &format!("GET /{tok}/{url} HTTP/1.1\r\nX-MBX-APIKEY: {key}"),
            b"",
        )
    };
    let signed = "timestamp=1&signature=00";
    // (what, status, request) for GETs with the bot's own key header.
    let cases: Vec<(&str, u16, (u16, String))> = vec![
        (
            "a token this agent never issued",
            401,
            http(
                &listen,
                &format!(
                    "GET /{}/https://api.binance.com/api/v3/account HTTP/1.1",
                    "A".repeat(43)
                ),
                b"",
            ),
        ),
        (
            "no token at all",
            401,
            http(&listen, "GET /https://api.binance.com/api/v3/account HTTP/1.1", b""),
        ),
        (
            "the bot's API key is not its token",
            401,
            get(&enc(&format!("https://api.binance.com/api/v3/account?{signed}")), "real-looking-key"),
        ),
        (
            "an empty path segment",
            400,
            get("https://api.binance.com//api/v3/account", &tok),
        ),
        (
            "a trailing slash",
            400,
            get("https://api.binance.com/api/v3/account/", &tok),
        ),
        (
            "an encoded slash inside the path",
            400,
            get(&enc("https://api.binance.com/api/v3%2Faccount?timestamp=1"), &tok),
        ),
        (
            "a dot-dot segment",
            400,
            get("https://api.binance.com/api/v3/../v1/account", &tok),
        ),
        (
            "another case of the path",
            403,
            get("https://api.binance.com/API/v3/account", &tok),
        ),
        (
            "a host that is not pinned",
            404,
            get("https://api.binance.us/api/v3/account", &tok),
        ),
        (
            "a port on the exchange host",
            400,
            get("https://api.binance.com:444/api/v3/account", &tok),
        ),
        (
            "plain http",
            400,
            get("http://api.binance.com/api/v3/account", &tok),
        ),
        (
            "a parameter given twice",
            400,
            get(
                &enc("https://api.binance.com/api/v3/order?symbol=BTCUSDT&symbol=ETHUSDT&timestamp=1&signature=00"),
                &tok,
            ),
        ),
        (
            "a legacy API version",
            403,
            get(&enc(&format!("https://api.binance.com/wapi/v3/withdraw.html?{signed}")), &tok),
        ),
        (
            "a withdrawal without the withdraw scope",
            403,
            http(
                &listen,
                &format!(
                    "POST /{tok}/{} HTTP/1.1\r\nX-MBX-APIKEY: {tok}",
                    enc(&format!(
                        "https://api.binance.com/sapi/v1/capital/withdraw/apply?coin=BTC&address=x&amount=1&{signed}"
                    ))
                ),
                b"",
            ),
        ),
        (
            "a method-override header",
            400,
            http(
                &listen,
                &format!(
                    "GET /{tok}/{} HTTP/1.1\r\nX-MBX-APIKEY: {tok}\r\nX-HTTP-Method-Override: DELETE",
                    enc(&format!("https://api.binance.com/api/v3/openOrders?symbol=BTCUSDT&{signed}"))
                ),
                b"",
            ),
        ),
        (
            "a parameter both in the query and in the body",
            400,
            http(
                &listen,
                &format!(
                    "POST /{tok}/{} HTTP/1.1\r\nX-MBX-APIKEY: {tok}\r\nContent-Type: application/x-www-form-urlencoded",
                    enc("https://api.binance.com/api/v3/order?symbol=BTCUSDT")
                ),
                b"symbol=ETHUSDT&side=BUY&type=LIMIT&quantity=0.001&price=100&timestamp=1&signature=00",
            ),
        ),
        (
            "an order on a symbol the policy does not allow",
            403,
            http(
                &listen,
                &format!(
                    "POST /{tok}/{} HTTP/1.1\r\nX-MBX-APIKEY: {tok}",
                    enc(&format!("https://api.binance.com/api/v3/order?symbol=ETHUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.001&price=100&{signed}"))
                ),
                b"",
            ),
        ),
        (
            "an order above the maximum notional",
            403,
            http(
                &listen,
                &format!(
                    "POST /{tok}/{} HTTP/1.1\r\nX-MBX-APIKEY: {tok}",
                    enc(&format!("https://api.binance.com/api/v3/order?symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.1&price=20000&{signed}"))
                ),
                b"",
            ),
        ),
        (
            "a JSON body with a duplicate key",
            400,
            http(
                &listen,
                &format!(
                    "POST /{okx_tok}/https://www.okx.com/api/v5/trade/order HTTP/1.1\r\nOK-ACCESS-KEY: {okx_tok}\r\nContent-Type: application/json"
                ),
                br#"{"instId":"BTC-USDT","tdMode":"cash","side":"buy","ordType":"limit","sz":"0.001","px":"100","instId":"ETH-USDT"}"#,
            ),
        ),
        (
            "another exchange's host with this token",
            403,
            get("https://www.okx.com/api/v5/account/balance", &tok),
        ),
        (
            "CONNECT",
            405,
            http(&listen, &format!("PATCH /{tok}/https://api.binance.com/api/v3/order HTTP/1.1"), b""),
        ),
    ];
    for (what, want, (status, body)) in &cases {
        assert_eq!(status, want, "{what}: {body}");
        let v = json(body);
        assert!(
            v["error"].as_str().is_some_and(|e| !e.is_empty()),
            "{what}: {body}"
        );
        for m in ["endpoint", "needs", "credential"] {
            assert!(v.get(m).is_some(), "{what}: no `{m}` member: {body}");
        }
        if *want == 403 {
            assert!(v["needs"].is_string(), "{what}: {body}");
        }
    }
    // The withdrawal names what it needs and why.
    let (_, body) = &cases
        .iter()
        .find(|c| c.0.starts_with("a withdrawal"))
        .unwrap()
        .2;
    let v = json(body);
    assert_eq!(v["needs"], "withdraw");
    assert_eq!(v["endpoint"], "POST /sapi/v1/capital/withdraw/apply");
    assert_eq!(v["credential"], "binance-main");
    assert_eq!(
        v["code"], -1002,
        "Binance's own error members, for ccxt: {body}"
    );
    // The legacy endpoint is unknown, and its refusal guesses the class it would need.
    let (_, body) = &cases
        .iter()
        .find(|c| c.0 == "a legacy API version")
        .unwrap()
        .2;
    assert_eq!(json(body)["needs"], "withdraw", "{body}");
    // Nothing above reached an exchange.
    assert_eq!(
        mock.requests().len(),
        before,
        "{:?}",
        &mock.requests()[before..]
    );

    // Order limits: two orders a minute pass the proxy (the mock answers them), the third is
    // refused with 429.
    let order = |n: u32| {
        http(
            &listen,
            &format!(
                "POST /{tok}/{} HTTP/1.1\r\nX-MBX-APIKEY: {tok}",
                enc(&format!(
                    "https://api.binance.com/api/v3/order?symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.001&price={}&{signed}",
                    20000 + n
                ))
            ),
            b"",
        )
    };
    assert_ne!(order(1).0, 429);
    assert_ne!(order(2).0, 429);
    let (status, body) = order(3);
    assert_eq!(status, 429, "{body}");
    assert_eq!(json(&body)["needs"], "trade");

    // Sealed: every token is forgotten.
    a.cmd("seal", &[]).assert().success();
    let (status, body) = get("https://api.binance.com/api/v3/ping", &tok);
    assert!(status == 503 || status == 401, "{status} {body}");
    // Every refusal above is an audit record, and the log verifies.
    let audit = std::fs::read_to_string(format!("{}.audit", f.vault.display())).unwrap();
    let refused = audit
        .lines()
        .filter(|l| l.contains("agent-proxied") && l.contains("refused"))
        .count();
    // (Requests refused before their target parsed name no exchange path: eight above.)
    assert!(
        refused >= cases.len() - 8,
        "{refused} refusals recorded:\n{audit}"
    );
    assert!(!audit.contains("signature=00") && !audit.contains(&tok));
    f.cmd(&["audit", "verify"]).assert().success();
}
