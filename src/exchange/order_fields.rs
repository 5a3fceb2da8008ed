//! An order request's fields as the exchange reads them, for [`super::venue::OrderFacts`]:
//! from the query and a form body (percent-decoded once, `+` a space) or from a JSON object
//! (strings as they are, numbers as their JSON text). A field of another JSON type (an object,
//! an array, `true`) is refused rather than guessed at.

use serde_json::{Map, Value};

use super::request::{Body, Request};

/// Where an order's fields are read from.
pub enum Fields<'r> {
    /// The query and form parameters of a request.
    Params(&'r Request),
    /// One JSON object (an order, or one order of a batch).
    Json(&'r Map<String, Value>),
}

impl Fields<'_> {
    /// The field `name` as text, `None` if absent (or JSON `null`).
    pub fn text(&self, name: &str) -> Result<Option<String>, String> {
        match self {
            Fields::Params(req) => match req.param(name) {
                None => Ok(None),
                Some(p) => p.decoded().map(Some).ok_or_else(|| {
                    format!("the parameter `{name}` is not valid percent-encoded UTF-8")
                }),
            },
            Fields::Json(obj) => json_text(obj, name),
        }
    }
}

/// The member `name` of `obj` as text (see the module documentation).
pub fn json_text(obj: &Map<String, Value>, name: &str) -> Result<Option<String>, String> {
    match obj.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(_) => Err(format!("the field `{name}` is not a string or a number")),
    }
}

/// The request's JSON body (the proxy checked it is one JSON value).
pub fn json_body(req: &Request) -> Result<Value, String> {
    match &req.body {
        Body::Json(b) => {
            serde_json::from_slice(b).map_err(|e| format!("the JSON body is refused: {e}"))
        }
        _ => Err("the order is not in a JSON body, where this exchange takes it".to_owned()),
    }
}

/// `v` as a JSON object, or what is wrong with it.
pub fn object<'v>(v: &'v Value, what: &str) -> Result<&'v Map<String, Value>, String> {
    v.as_object()
        .ok_or_else(|| format!("{what} is not a JSON object"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exchange::class::Method;
    use crate::exchange::request::{parse_body, parse_params};

    fn req(query: &str, body: &[u8], ct: &str) -> Request {
        let q = parse_params(query, "query").unwrap();
        let body = parse_body(body, Some(ct), &q).unwrap();
        Request {
            method: Method::Post,
            host: "api.example.com",
            path: "/o".into(),
            query: q,
            body,
            headers: vec![],
        }
    }

    #[test]
    fn params_are_decoded_once_from_the_query_or_the_form() {
        let r = req(
            "symbol=BTC%2FUSD",
            b"price=20000.5&note=a+b%2B",
            "application/x-www-form-urlencoded",
        );
        let f = Fields::Params(&r);
        assert_eq!(f.text("symbol").unwrap().as_deref(), Some("BTC/USD"));
        assert_eq!(f.text("price").unwrap().as_deref(), Some("20000.5"));
        assert_eq!(f.text("note").unwrap().as_deref(), Some("a b+"));
        assert_eq!(f.text("quantity").unwrap(), None);
        let bad = req("symbol=%FF", b"", "application/x-www-form-urlencoded");
        assert!(Fields::Params(&bad).text("symbol").is_err());
    }

    #[test]
    fn json_strings_and_numbers_are_text_other_types_are_refused() {
        let r = req(
            "",
            br#"{"px":"20000","sz":0.5,"n":null,"o":{"a":1},"b":true}"#,
            "application/json",
        );
        let v = json_body(&r).unwrap();
        let o = object(&v, "the body").unwrap();
        let f = Fields::Json(o);
        assert_eq!(f.text("px").unwrap().as_deref(), Some("20000"));
        assert_eq!(f.text("sz").unwrap().as_deref(), Some("0.5"));
        assert_eq!(f.text("n").unwrap(), None);
        assert!(f.text("o").is_err());
        assert!(f.text("b").is_err());
        assert!(object(&Value::Array(vec![]), "the body").is_err());
    }
}
