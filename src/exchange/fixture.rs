//! Requests as a bot sends them and credentials as the vault holds them, for the exchange
//! modules' unit tests (compiled for tests only).

use super::class::Method;
use super::request::{Request, parse_body, parse_params};
use super::venue::Secrets;
use crate::secret::SecretBytes;

/// The request `method host path_and_query` with `body` of content type `ct` and the bot's
/// `headers` (lower-case names), parsed as the proxy parses it.
pub fn request(
    method: Method,
    host: &'static str,
    path_and_query: &str,
    body: &[u8],
    ct: &str,
    headers: &[(&str, &str)],
) -> Request {
    let (path, query) = path_and_query
        .split_once('?')
        .unwrap_or((path_and_query, ""));
    let query = parse_params(query, "query").unwrap();
    let body = parse_body(body, Some(ct), &query).unwrap();
    Request {
        method,
        host,
        path: path.to_owned(),
        query,
        body,
        headers: headers
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect(),
    }
}

/// A credential's secret fields.
pub fn secrets(api_key: &str, secret: &str, passphrase: Option<&str>) -> Secrets {
    Secrets {
        api_key: SecretBytes::copy_from(api_key.as_bytes()),
        secret: SecretBytes::copy_from(secret.as_bytes()),
        passphrase: passphrase.map(|p| SecretBytes::copy_from(p.as_bytes())),
    }
}

/// The value of header `name` in `headers`.
pub fn header<'o>(headers: &'o [(&'static str, String)], name: &str) -> Option<&'o str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}
