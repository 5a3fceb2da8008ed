//! Where a bot's request is going: the request target ccxt sends to a `proxyUrl`, taken apart
//! and checked before anything else looks at it.
//!
//! ccxt appends the exchange URL to `proxyUrl` (`http://127.0.0.1:PORT/TOKEN/`), raw when the
//! URL has no query (`/TOKEN/https://api.binance.com/api/v3/exchangeInfo`) and percent-encoded
//! as a whole when it has one (`/TOKEN/https%3A%2F%2Fapi.binance.com%2Fapi%2Fv3%2Faccount%3F
//! timestamp%3D1`): the encoded form is decoded exactly once. What comes out must be an `https`
//! URL whose host is one of an exchange's pinned hosts, with a path in canonical form: the
//! proxy refuses what an exchange might read differently (`//`, `.` and `..` segments, any
//! `%`, a trailing `/`, a port, user info, a fragment) instead of normalising it, so that the
//! path it checks is the path the exchange serves.

use super::refusal::Refusal;
use crate::exchange::request::{hex, percent_decode};

/// The longest request target taken (ccxt's longest requests are batch orders in the query).
pub const MAX_TARGET_BYTES: usize = 16 * 1024;

/// A proxy token's length: 32 random bytes in unpadded base64url.
pub const TOKEN_CHARS: usize = 43;

/// The parts of a request target.
#[derive(Debug, PartialEq, Eq)]
pub struct Target {
    /// The proxy token from the first path segment.
    pub token: String,
    /// The exchange host, lower case, as written.
    pub host: String,
    /// The path, canonical.
    pub path: String,
    /// The query string as the bot wrote it (percent-encoded), without `?`; may be empty.
    pub query: String,
}

fn bad(msg: impl Into<String>) -> Refusal {
    Refusal::malformed(msg)
}

/// Take a request target apart (see the module documentation).
pub fn parse(target: &str) -> Result<Target, Refusal> {
    if target.len() > MAX_TARGET_BYTES {
        return Err(bad(format!(
            "the request target is longer than {MAX_TARGET_BYTES} bytes"
        )));
    }
    let rest = target.strip_prefix('/').ok_or_else(|| {
        bad("the proxy takes ccxt's proxyUrl form: http://HOST:PORT/TOKEN/https://EXCHANGE/PATH")
    })?;
    let (token, rest) = rest.split_once('/').ok_or_else(|| {
        bad(
            "no exchange URL after the proxy token: set ccxt's proxyUrl to the <NAME>_PROXY_URL \
             value custody gave the bot, ending in `/`",
        )
    })?;
    if token.len() != TOKEN_CHARS
        || !token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(Refusal::unauthenticated(
            "the proxy URL does not carry a proxy token: set ccxt's proxyUrl to the \
             <NAME>_PROXY_URL value custody gave the bot",
        ));
    }
    let url = if rest.starts_with("https://") {
        rest.to_owned()
    } else if rest.len() >= 14 && rest[..14].eq_ignore_ascii_case("https%3A%2F%2F") {
        if rest.contains('?') {
            return Err(bad(
                "the exchange URL is percent-encoded but has a raw `?`: send it either raw or \
                 encoded as a whole, as ccxt does",
            ));
        }
        percent_decode(rest)
            .ok_or_else(|| bad("the percent-encoded exchange URL has a malformed escape"))?
    } else if rest.starts_with("http://")
        || rest.len() >= 11 && rest[..11].eq_ignore_ascii_case("http%3A%2F%2F")
    {
        return Err(bad("exchange URLs must be https"));
    } else {
        return Err(bad(
            "the proxy takes ccxt's proxyUrl form: http://HOST:PORT/TOKEN/https://EXCHANGE/PATH",
        ));
    };
    split_url(&url, token)
}

fn split_url(url: &str, token: &str) -> Result<Target, Refusal> {
    let after = &url["https://".len()..];
    if after.contains('#') {
        return Err(bad("the exchange URL has a fragment (`#`)"));
    }
    let host_end = after.find(['/', '?']).unwrap_or(after.len());
    let host = &after[..host_end];
    if host.is_empty() {
        return Err(bad("the exchange URL has no host"));
    }
    if host.contains('@') {
        return Err(bad("the exchange URL carries user info (`user@host`)"));
    }
    if host.contains(':') {
        return Err(bad(format!(
            "the exchange URL names a port (`{}`): only the exchange's standard https port is reachable",
            crate::terminal_text::escape(host)
        )));
    }
    if host.bytes().any(|b| b.is_ascii_uppercase()) || host.ends_with('.') {
        return Err(bad(format!(
            "the exchange host `{}` is not written as the exchange's own (lower case, no trailing dot)",
            crate::terminal_text::escape(host)
        )));
    }
    let rest = &after[host_end..];
    let (path, query) = match rest.split_once('?') {
        Some((p, q)) => (p, q),
        None => (rest, ""),
    };
    check_path(path)?;
    check_query(query)?;
    Ok(Target {
        token: token.to_owned(),
        host: host.to_owned(),
        path: path.to_owned(),
        query: query.to_owned(),
    })
}

/// A path in canonical form: starts with `/`, segments of `[A-Za-z0-9_.:-]` (no empty, `.`
/// or `..` segment), no trailing `/`, no `%`.
fn check_path(path: &str) -> Result<(), Refusal> {
    let shown = || crate::terminal_text::escape(path);
    if path.is_empty() || path == "/" {
        return Err(bad("the exchange URL has no path"));
    }
    if !path.starts_with('/') {
        return Err(bad("the exchange path must start with `/`"));
    }
    if path.contains('%') {
        return Err(bad(format!(
            "the path `{}` contains a percent-escape: exchanges' endpoint paths have none, so \
             the proxy does not decode one",
            shown()
        )));
    }
    if path.ends_with('/') {
        return Err(bad(format!(
            "the path `{}` ends with `/`: remove it",
            shown()
        )));
    }
    for seg in path[1..].split('/') {
        if seg.is_empty() {
            return Err(bad(format!(
                "the path `{}` has an empty segment (`//`)",
                shown()
            )));
        }
        if seg == "." || seg == ".." {
            return Err(bad(format!("the path `{}` has a `{seg}` segment", shown())));
        }
        if !seg
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_.:-".contains(&b))
        {
            return Err(bad(format!(
                "the path `{}` has a character outside A-Z a-z 0-9 _ . : -",
                shown()
            )));
        }
    }
    Ok(())
}

/// A query of printable ASCII that a URL may hold literally, with well-formed escapes.
fn check_query(q: &str) -> Result<(), Refusal> {
    let b = q.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                if b.get(i + 1).and_then(|&c| hex(c)).is_none()
                    || b.get(i + 2).and_then(|&c| hex(c)).is_none()
                {
                    return Err(bad("the query has a malformed percent-escape"));
                }
                i += 3;
                continue;
            }
            c if c.is_ascii_alphanumeric() || b"-._~!$'()*+,;=:@/?&[]\"{}".contains(&c) => {}
            _ => {
                return Err(bad(
                    "the query has a character a URL cannot hold literally (space, control, \
                     non-ASCII): percent-encode it",
                ));
            }
        }
        i += 1;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOK: &str = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

    fn p(rest: &str) -> Result<Target, Refusal> {
        parse(&format!("/{TOK}/{rest}"))
    }

    #[test]
    fn raw_and_encoded_targets_give_the_same_parts() {
        let raw = p("https://api.binance.com/api/v3/exchangeInfo").unwrap();
        assert_eq!(raw.host, "api.binance.com");
        assert_eq!(raw.path, "/api/v3/exchangeInfo");
        assert_eq!(raw.query, "");
        let enc = p("https%3A%2F%2Fapi.binance.com%2Fapi%2Fv3%2Faccount%3Ftimestamp%3D1%26symbols%3D%255B%2522BTCUSDT%2522%255D").unwrap();
        assert_eq!(enc.path, "/api/v3/account");
        assert_eq!(enc.query, "timestamp=1&symbols=%5B%22BTCUSDT%22%5D");
        assert_eq!(enc.token, TOK);
    }

    #[test]
    fn path_tricks_are_refused_not_normalised() {
        for bad in [
            "https://api.binance.com//api/v3/order",
            "https://api.binance.com/api/v3/order/",
            "https://api.binance.com/api/v3/./order",
            "https://api.binance.com/api/v3/../v1/order",
            "https%3A%2F%2Fapi.binance.com%2Fapi%252Fv3%2Forder%3Fa%3D1",
            "https://api.binance.com/api/v3/order%2F",
            "https://API.binance.com/api/v3/order",
            "https://api.binance.com./api/v3/order",
            "https://api.binance.com:8443/api/v3/order",
            "https://user@api.binance.com/api/v3/order",
            "https://api.binance.com/api/v3/order#x",
            "http://api.binance.com/api/v3/order",
            "https://api.binance.com",
            "ftp://x/y",
        ] {
            let e = p(bad).unwrap_err();
            assert_eq!(e.status, 400, "{bad}");
        }
    }

    #[test]
    fn a_missing_or_malformed_token_is_unauthenticated() {
        assert_eq!(
            parse("/short/https://api.binance.com/x")
                .unwrap_err()
                .status,
            401
        );
        assert_eq!(parse("/https://api.binance.com/x").unwrap_err().status, 401);
    }
}
