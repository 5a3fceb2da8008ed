//! A bot's request as the proxy checks and signs it: method, pinned host, canonical path, the
//! query's parameters and the body, each parsed once so that what is checked is what is
//! forwarded.
//!
//! - Query and form parameters keep the bytes the bot wrote (percent-encoded) and their order;
//!   a name given twice, or both in the query and in a form body, is refused (an exchange
//!   might take either copy).
//! - A JSON body is forwarded byte for byte as the bot sent it, after checking that it is one
//!   JSON value without a duplicate key at any depth (a duplicate is read as the first copy by
//!   some parsers and the last by others).

use std::fmt::Write as _;

use super::class::Method;

/// Why a request cannot be checked: it is refused as malformed (HTTP 400, or 413 when too
/// large).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Malformed {
    /// 400 or 413.
    pub status: u16,
    /// What is wrong, in words (never a secret; text from the request is escaped).
    pub message: String,
}

impl Malformed {
    /// 400 with `message`.
    pub fn new(message: impl Into<String>) -> Malformed {
        Malformed {
            status: 400,
            message: message.into(),
        }
    }

    /// 413 with `message`.
    pub fn too_large(message: impl Into<String>) -> Malformed {
        Malformed {
            status: 413,
            message: message.into(),
        }
    }
}

/// Decode `%XX` escapes once (`+` stays `+`). `None` if an escape is malformed or the result
/// is not UTF-8.
pub fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let h = hex(*b.get(i + 1)?)?;
            let l = hex(*b.get(i + 2)?)?;
            out.push(h << 4 | l);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The value of one hex digit.
pub fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// The largest request body taken.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// The most parameters in a query or form body.
pub const MAX_PARAMS: usize = 256;

/// One parameter, as written (percent-encoded).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Param {
    /// The name, as written.
    pub name: String,
    /// The value, as written.
    pub value: String,
}

impl Param {
    /// The value decoded (`+` is a space, then `%XX`), as the exchange reads it.
    pub fn decoded(&self) -> Option<String> {
        percent_decode(&self.value.replace('+', " "))
    }
}

/// The body of a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Body {
    /// No body.
    Empty,
    /// `application/x-www-form-urlencoded` parameters.
    Form(Vec<Param>),
    /// A JSON document, the bytes as sent.
    Json(Vec<u8>),
}

/// A request ready for the exchange module.
#[derive(Clone, Debug)]
pub struct Request {
    /// The method.
    pub method: Method,
    /// The pinned host it is for.
    pub host: &'static str,
    /// The canonical path.
    pub path: String,
    /// The query's parameters, in order.
    pub query: Vec<Param>,
    /// The body.
    pub body: Body,
    /// The bot's headers, lower-case names (read by exchange modules for the key the bot
    /// sent; never forwarded).
    pub headers: Vec<(String, String)>,
}

impl Request {
    /// `METHOD /path`, as refusals and audit records name an endpoint.
    pub fn endpoint(&self) -> String {
        format!("{} {}", self.method.as_str(), self.path)
    }

    /// The bot's header `name` (lower case), if it sent one.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The parameter `name` from the query or the form body.
    pub fn param(&self, name: &str) -> Option<&Param> {
        self.query
            .iter()
            .find(|p| p.name == name)
            .or(match &self.body {
                Body::Form(f) => f.iter().find(|p| p.name == name),
                _ => None,
            })
    }

    /// Remove the parameters named in `names` from the query and the form body.
    pub fn remove_params(&mut self, names: &[&str]) {
        self.query.retain(|p| !names.contains(&p.name.as_str()));
        if let Body::Form(f) = &mut self.body {
            f.retain(|p| !names.contains(&p.name.as_str()));
        }
    }

    /// The query string as forwarded (`a=1&b=2`, may be empty).
    pub fn query_string(&self) -> String {
        join(&self.query)
    }

    /// The path with its query (`/path?a=1`), as forwarded.
    pub fn path_and_query(&self) -> String {
        let q = self.query_string();
        if q.is_empty() {
            self.path.clone()
        } else {
            format!("{}?{q}", self.path)
        }
    }

    /// The body's bytes as forwarded.
    pub fn body_bytes(&self) -> Vec<u8> {
        match &self.body {
            Body::Empty => Vec::new(),
            Body::Form(f) => join(f).into_bytes(),
            Body::Json(j) => j.clone(),
        }
    }
}

/// `name=value&...` as written.
pub fn join(params: &[Param]) -> String {
    let mut s = String::new();
    for (i, p) in params.iter().enumerate() {
        if i > 0 {
            s.push('&');
        }
        let _ = write!(s, "{}={}", p.name, p.value);
    }
    s
}

/// Parse `a=1&b=2` (percent-encoded as written). Refuses a name given twice, an empty name, a
/// name outside `[A-Za-z0-9_.\[\]-]` once decoded, and more than [`MAX_PARAMS`].
pub fn parse_params(s: &str, what: &str) -> Result<Vec<Param>, Malformed> {
    let mut out: Vec<Param> = Vec::new();
    if s.is_empty() {
        return Ok(out);
    }
    for part in s.split('&') {
        if part.is_empty() {
            return Err(Malformed::new(format!(
                "the {what} has an empty parameter (`&&`)"
            )));
        }
        let (name, value) = part.split_once('=').unwrap_or((part, ""));
        let decoded = percent_decode(name).unwrap_or_default();
        if decoded.is_empty()
            || !decoded
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_.[]-".contains(&b))
            || decoded != name
        {
            return Err(Malformed::new(format!(
                "the {what} has a parameter name `{}` that is not plain letters, digits and _.[]-",
                crate::terminal_text::escape(name)
            )));
        }
        if out.iter().any(|p| p.name == name) {
            return Err(Malformed::new(format!(
                "the {what} gives the parameter `{name}` twice: an exchange might read either \
                 copy, so the proxy takes each name once"
            )));
        }
        if out.len() == MAX_PARAMS {
            return Err(Malformed::new(format!(
                "the {what} has more than {MAX_PARAMS} parameters"
            )));
        }
        out.push(Param {
            name: name.to_owned(),
            value: value.to_owned(),
        });
    }
    Ok(out)
}

/// Check that `bytes` is one JSON value without a duplicate key in any object.
pub fn check_json(bytes: &[u8]) -> Result<(), Malformed> {
    use serde::de::{Deserializer as _, IgnoredAny, MapAccess, SeqAccess, Visitor};
    use std::fmt;

    struct NoDup;
    impl<'de> serde::de::DeserializeSeed<'de> for NoDup {
        type Value = ();
        fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
            d.deserialize_any(NoDup)
        }
    }
    impl<'de> Visitor<'de> for NoDup {
        type Value = ();
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a JSON value")
        }
        fn visit_bool<E>(self, _: bool) -> Result<(), E> {
            Ok(())
        }
        fn visit_i64<E>(self, _: i64) -> Result<(), E> {
            Ok(())
        }
        fn visit_u64<E>(self, _: u64) -> Result<(), E> {
            Ok(())
        }
        fn visit_f64<E>(self, _: f64) -> Result<(), E> {
            Ok(())
        }
        fn visit_str<E>(self, _: &str) -> Result<(), E> {
            Ok(())
        }
        fn visit_unit<E>(self) -> Result<(), E> {
            Ok(())
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<(), A::Error> {
            while a.next_element_seed(NoDup)?.is_some() {}
            Ok(())
        }
        fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<(), A::Error> {
            let mut keys: Vec<String> = Vec::new();
            while let Some(k) = a.next_key::<String>()? {
                if keys.contains(&k) {
                    return Err(serde::de::Error::custom(format!(
                        "the key `{}` appears twice in one object",
                        crate::terminal_text::escape(&k)
                    )));
                }
                a.next_value_seed(NoDup)?;
                keys.push(k);
            }
            Ok(())
        }
    }
    let _ = IgnoredAny;
    let mut de = serde_json::Deserializer::from_slice(bytes);
    de.deserialize_any(NoDup)
        .and_then(|()| de.end())
        .map_err(|e| {
            Malformed::new(format!(
                "the JSON body is refused: {e}; an exchange might read a duplicate key either way"
            ))
        })
}

/// Build the body from the bot's bytes and content type, and refuse a parameter given both in
/// the query and in a form body.
pub fn parse_body(
    bytes: &[u8],
    content_type: Option<&str>,
    query: &[Param],
) -> Result<Body, Malformed> {
    if bytes.is_empty() {
        return Ok(Body::Empty);
    }
    if bytes.len() > MAX_BODY_BYTES {
        return Err(Malformed::too_large(format!(
            "the body is larger than {MAX_BODY_BYTES} bytes"
        )));
    }
    let ct = content_type
        .map(|c| {
            c.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .unwrap_or_default();
    let text = std::str::from_utf8(bytes).map_err(|_| Malformed::new("the body is not UTF-8"))?;
    let looks_json = matches!(text.trim_start().as_bytes().first(), Some(b'{' | b'['));
    if ct == "application/json" || (ct.is_empty() && looks_json) {
        check_json(bytes)?;
        return Ok(Body::Json(bytes.to_vec()));
    }
    if ct == "application/x-www-form-urlencoded" || ct.is_empty() {
        let form = parse_params(text, "form body")?;
        if let Some(p) = form.iter().find(|p| query.iter().any(|q| q.name == p.name)) {
            return Err(Malformed::new(format!(
                "the parameter `{}` is given both in the query and in the body: an exchange \
                 might read either, so give it once",
                p.name
            )));
        }
        return Ok(Body::Form(form));
    }
    Err(Malformed::new(format!(
        "the body's content type `{}` is not one the exchanges take (JSON or a form)",
        crate::terminal_text::escape(&ct)
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_keep_their_bytes_and_refuse_repeats() {
        let p = parse_params(
            "symbol=BTCUSDT&price=20000.5&symbols=%5B%22A%22%5D",
            "query",
        )
        .unwrap();
        assert_eq!(
            join(&p),
            "symbol=BTCUSDT&price=20000.5&symbols=%5B%22A%22%5D"
        );
        assert_eq!(p[2].decoded().unwrap(), "[\"A\"]");
        assert!(parse_params("a=1&a=2", "query").is_err());
        assert!(parse_params("a=1&&b=2", "query").is_err());
        assert!(parse_params("%61=1", "query").is_err());
        assert!(parse_params("=1", "query").is_err());
    }

    #[test]
    fn json_bodies_with_duplicate_keys_are_refused_at_any_depth() {
        assert!(check_json(br#"{"a":1,"b":[{"c":2}]}"#).is_ok());
        assert!(check_json(br#"{"a":1,"a":2}"#).is_err());
        assert!(check_json(br#"[{"x":{"y":1,"y":1}}]"#).is_err());
        assert!(check_json(br#"{"a":1} {"b":2}"#).is_err());
        assert!(check_json(br#"{"a":1"#).is_err());
    }

    #[test]
    fn a_parameter_in_both_query_and_body_is_refused() {
        let q = parse_params("symbol=BTCUSDT", "query").unwrap();
        assert!(
            parse_body(
                b"symbol=ETHUSDT",
                Some("application/x-www-form-urlencoded"),
                &q
            )
            .is_err()
        );
        assert!(matches!(
            parse_body(b"side=BUY", Some("application/x-www-form-urlencoded"), &q).unwrap(),
            Body::Form(_)
        ));
        assert!(matches!(
            parse_body(br#"{"a":1}"#, Some("application/json; charset=utf-8"), &q).unwrap(),
            Body::Json(_)
        ));
        assert!(parse_body(b"x", Some("text/plain"), &q).is_err());
    }
}
