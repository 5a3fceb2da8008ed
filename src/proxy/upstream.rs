//! The way out: HTTPS to the exchanges' pinned hosts only, certificates checked against the
//! Mozilla root set compiled in (webpki-roots), HTTP/1.1, redirects never followed (a 3xx is
//! returned to the bot as it came), a time limit on connecting and on the exchange's answer.
//!
//! For tests, an **upstream override** sends one exchange's requests to another `https` URL
//! (a local mock) whose certificate must chain to a CA given with it; only the command line
//! can set it (`--upstream-override EXCHANGE=https://HOST:PORT --upstream-ca CA.pem`), never
//! the environment, and the agent's status and every audit record say it is on.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

use crate::exchange::venue::Outgoing;

/// How long the exchange has to answer (headers) after the request is sent.
pub const ANSWER_TIMEOUT: Duration = Duration::from_secs(30);

/// Why the upstream could not be set up.
#[derive(Debug)]
pub enum UpstreamError {
    /// An override is not `EXCHANGE=https://HOST:PORT`.
    Override(String),
    /// The CA file could not be read or holds no certificate.
    Ca {
        /// The file.
        path: String,
        /// What is wrong.
        problem: String,
    },
    /// An override was given without `--upstream-ca`.
    NoCa,
    /// TLS could not be configured.
    Tls(rustls::Error),
}

impl std::fmt::Display for UpstreamError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            UpstreamError::Override(s) => write!(
                f,
                "--upstream-override `{}` is not EXCHANGE=https://HOST:PORT for an exchange the \
                 proxy serves",
                crate::terminal_text::escape(s)
            ),
            UpstreamError::Ca { path, problem } => write!(
                f,
                "--upstream-ca {}: {problem}",
                crate::terminal_text::escape(path)
            ),
            UpstreamError::NoCa => f.write_str(
                "--upstream-override needs --upstream-ca CA.pem: the test exchange's \
                 certificate is checked against that CA only",
            ),
            UpstreamError::Tls(e) => write!(f, "TLS set-up failed: {e}"),
        }
    }
}

impl std::error::Error for UpstreamError {}

/// One override: where an exchange's requests (or one pinned host's) go instead.
#[derive(Clone, Debug)]
pub struct Override {
    /// What is overridden as given: an exchange (`binance`) or one pinned host
    /// (`fapi.binance.com`).
    pub exchange: String,
    /// The pinned hosts it covers.
    pub hosts: Vec<&'static str>,
    /// `https://HOST:PORT`, without a path.
    pub base: String,
}

impl Override {
    /// Parse `EXCHANGE=https://HOST:PORT` (every host of the exchange) or
    /// `PINNED-HOST=https://HOST:PORT` (that host only).
    pub fn parse(s: &str) -> Result<Override, UpstreamError> {
        let bad = || UpstreamError::Override(s.to_owned());
        let (ex, url) = s.split_once('=').ok_or_else(bad)?;
        let hosts: Vec<&'static str> = match crate::exchange::registry::by_name(ex) {
            Some(v) => v.hosts().to_vec(),
            None => vec![crate::exchange::registry::for_host(ex).ok_or_else(bad)?.1],
        };
        let rest = url.strip_prefix("https://").ok_or_else(bad)?;
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest.is_empty()
            || !rest
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b".:-[]".contains(&b))
        {
            return Err(bad());
        }
        Ok(Override {
            exchange: ex.to_owned(),
            hosts,
            base: format!("https://{rest}"),
        })
    }
}

type HttpsClient = Client<HttpsConnector<HttpConnector>, Full<Bytes>>;

/// The proxy's HTTPS client.
pub struct Upstream {
    pinned: HttpsClient,
    /// The test client and, per pinned host, where its requests go instead.
    test: Option<(HttpsClient, HashMap<&'static str, String>)>,
    /// The overrides as given, for status and records.
    shown: Option<String>,
}

fn client(roots: rustls::RootCertStore) -> Result<HttpsClient, UpstreamError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(UpstreamError::Tls)?
        .with_root_certificates(roots)
        .with_no_client_auth();
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_connect_timeout(Some(Duration::from_secs(10)));
    http.set_nodelay(true);
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_only()
        .enable_http1()
        .wrap_connector(http);
    Ok(Client::builder(TokioExecutor::new())
        .pool_idle_timeout(Duration::from_secs(60))
        .build(https))
}

impl Upstream {
    /// The client for the pinned hosts, plus the test overrides with their CA if given.
    pub fn new(overrides: &[Override], ca: Option<&Path>) -> Result<Upstream, UpstreamError> {
        let mut roots = rustls::RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        let pinned = client(roots)?;
        let test = if overrides.is_empty() {
            None
        } else {
            let ca = ca.ok_or(UpstreamError::NoCa)?;
            let shown = ca.display().to_string();
            let mut roots = rustls::RootCertStore::empty();
            let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(ca)
                .map_err(|e| UpstreamError::Ca {
                    path: shown.clone(),
                    problem: e.to_string(),
                })?
                .collect::<Result<_, _>>()
                .map_err(|e| UpstreamError::Ca {
                    path: shown.clone(),
                    problem: e.to_string(),
                })?;
            if certs.is_empty() {
                return Err(UpstreamError::Ca {
                    path: shown,
                    problem: "no PEM certificate in it".into(),
                });
            }
            for c in certs {
                roots.add(c).map_err(|e| UpstreamError::Ca {
                    path: shown.clone(),
                    problem: e.to_string(),
                })?;
            }
            let mut map = HashMap::new();
            // Later overrides win, so that a host given alone refines its exchange's.
            for o in overrides {
                for h in &o.hosts {
                    map.insert(*h, o.base.clone());
                }
            }
            Some((client(roots)?, map))
        };
        let shown = (!overrides.is_empty()).then(|| {
            overrides
                .iter()
                .map(|o| format!("{}={}", o.exchange, o.base))
                .collect::<Vec<_>>()
                .join(", ")
        });
        Ok(Upstream {
            pinned,
            test,
            shown,
        })
    }

    /// `exchange=url, ...` when overrides are on (said loudly by status and records).
    pub fn overrides(&self) -> Option<String> {
        self.shown.clone()
    }

    /// Send `out` to `host` (a pinned host) with `method`, and return the exchange's answer
    /// (its body streams through).
    pub async fn send(
        &self,
        host: &str,
        method: &str,
        out: Outgoing,
    ) -> Result<hyper::Response<hyper::body::Incoming>, String> {
        let (client, uri) = match &self.test {
            Some((c, m)) if m.contains_key(host) => {
                (c, format!("{}{}", m[host], out.path_and_query))
            }
            _ => (
                &self.pinned,
                format!("https://{host}{}", out.path_and_query),
            ),
        };
        let mut b = hyper::Request::builder()
            .method(method)
            .uri(&uri)
            .header(
                "user-agent",
                concat!("custody-proxy/", env!("CARGO_PKG_VERSION")),
            )
            .header("accept", "application/json");
        for (k, v) in &out.headers {
            b = b.header(*k, v);
        }
        let req = b
            .body(Full::new(Bytes::from(out.body)))
            .map_err(|e| format!("the request could not be built: {e}"))?;
        match tokio::time::timeout(ANSWER_TIMEOUT, client.request(req)).await {
            Err(_) => Err(format!(
                "the exchange did not answer within {} s",
                ANSWER_TIMEOUT.as_secs()
            )),
            Ok(Err(e)) => Err(format!("the exchange could not be reached: {}", chain(&e))),
            Ok(Ok(r)) => Ok(r),
        }
    }
}

fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_are_checked() {
        assert!(Override::parse("binance=https://127.0.0.1:4431").is_ok());
        for bad in [
            "binance=http://127.0.0.1:1",
            "nosuch=https://127.0.0.1:1",
            "binance",
            "binance=https://h/p",
            "binance=https://",
        ] {
            assert!(Override::parse(bad).is_err(), "{bad}");
        }
    }
}
