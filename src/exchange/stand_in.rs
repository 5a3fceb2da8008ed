//! A stand-in for Binance on loopback, for `custody demo` and the proxy benchmark: an HTTPS
//! server with a throwaway CA of its own that checks each signed request exactly as Binance
//! documents it (the `X-MBX-APIKEY` header is the credential's key; `signature` is the last
//! parameter and is hex HMAC-SHA256 over the query string followed by the body, both as
//! sent; `timestamp` within 5 s of now) and refuses anything else with Binance's own error
//! body. It serves `GET /api/v3/ping`, `GET /api/v3/account` and `POST /api/v3/order`, and
//! answers any other signed request with `{}`. It is never a default: the proxy reaches it only
//! through the test-only upstream override.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use zeroize::Zeroizing;

/// A running stand-in.
pub struct StandIn {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Its CA certificate (PEM), for `--upstream-ca`.
    pub ca: PathBuf,
    /// Signed requests it accepted.
    pub accepted: Arc<AtomicU64>,
    /// Requests it refused.
    pub refused: Arc<AtomicU64>,
}

impl StandIn {
    /// The value for `--upstream-override`.
    pub fn override_arg(&self) -> String {
        format!("binance=https://{}", self.addr)
    }
}

fn pem(label: &str, der: &[u8]) -> String {
    use base64::Engine;
    let b = base64::engine::general_purpose::STANDARD.encode(der);
    let mut s = format!("-----BEGIN {label}-----\n");
    for line in b.as_bytes().chunks(64) {
        s.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
        s.push('\n');
    }
    s.push_str(&format!("-----END {label}-----\n"));
    s
}

/// Start a stand-in that accepts requests signed with `key` and `secret`; its CA goes to
/// `dir/stand-in-ca.pem`.
pub fn start(key: &str, secret: &[u8], dir: &Path) -> Result<StandIn, String> {
    let e = |what: &str, x: &dyn std::fmt::Display| format!("{what}: {x}");
    let ca_key = rcgen::KeyPair::generate().map_err(|x| e("CA key", &x))?;
    let mut ca_params =
        rcgen::CertificateParams::new(Vec::<String>::new()).map_err(|x| e("CA", &x))?;
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "custody stand-in exchange CA");
    let ca_cert = ca_params.self_signed(&ca_key).map_err(|x| e("CA", &x))?;
    let issuer = rcgen::Issuer::new(ca_params, ca_key);
    let leaf_key = rcgen::KeyPair::generate().map_err(|x| e("key", &x))?;
    let leaf = rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
        .map_err(|x| e("certificate", &x))?
        .signed_by(&leaf_key, &issuer)
        .map_err(|x| e("certificate", &x))?;
    let ca = dir.join("stand-in-ca.pem");
    std::fs::write(&ca, pem("CERTIFICATE", ca_cert.der())).map_err(|x| e("CA file", &x))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let tls = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|x| e("TLS", &x))?
        .with_no_client_auth()
        .with_single_cert(
            vec![leaf.der().clone()],
            rustls_pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into()),
        )
        .map_err(|x| e("TLS", &x))?;
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls));
    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(|x| e("listen", &x))?;
    listener
        .set_nonblocking(true)
        .map_err(|x| e("listen", &x))?;
    let addr = listener.local_addr().map_err(|x| e("listen", &x))?;
    let accepted = Arc::new(AtomicU64::new(0));
    let refused = Arc::new(AtomicU64::new(0));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .map_err(|x| e("runtime", &x))?;
    let creds = Arc::new((key.to_owned(), Zeroizing::new(secret.to_vec())));
    let (acc, re) = (Arc::clone(&accepted), Arc::clone(&refused));
    std::thread::spawn(move || {
        runtime.block_on(async move {
            let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
                return;
            };
            while let Ok((tcp, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                let (creds, acc, re) = (Arc::clone(&creds), Arc::clone(&acc), Arc::clone(&re));
                tokio::spawn(async move {
                    let Ok(tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let svc = service_fn(move |req| {
                        let (creds, acc, re) =
                            (Arc::clone(&creds), Arc::clone(&acc), Arc::clone(&re));
                        async move {
                            let (status, body) = answer(req, &creds.0, &creds.1).await;
                            if status == 200 {
                                acc.fetch_add(1, Ordering::Relaxed);
                            } else {
                                re.fetch_add(1, Ordering::Relaxed);
                            }
                            Ok::<_, Infallible>(
                                hyper::Response::builder()
                                    .status(status)
                                    .header("content-type", "application/json")
                                    .body(Full::new(Bytes::from(body)))
                                    .expect("response"),
                            )
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(tls), svc)
                        .await;
                });
            }
        });
    });
    Ok(StandIn {
        addr,
        ca,
        accepted,
        refused,
    })
}

const BAD_SIGNATURE: &str = r#"{"code":-1022,"msg":"Signature for this request is not valid."}"#;
const BAD_KEY: &str = r#"{"code":-2015,"msg":"Invalid API-key, IP, or permissions for action."}"#;

async fn answer(
    req: hyper::Request<hyper::body::Incoming>,
    key: &str,
    secret: &[u8],
) -> (u16, String) {
    let method = req.method().as_str().to_owned();
    let path = req.uri().path().to_owned();
    let query = req.uri().query().unwrap_or("").to_owned();
    let sent_key = req
        .headers()
        .get("x-mbx-apikey")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let Ok(body) = req.into_body().collect().await else {
        return (400, r#"{"code":-1000,"msg":"body"}"#.into());
    };
    let body = body.to_bytes();
    if path == "/api/v3/ping" {
        return (200, "{}".into());
    }
    // Binance: "SIGNED endpoints require an additional parameter, signature ... The signature
    // is not case sensitive. totalParams is defined as the query string concatenated with the
    // request body."
    if sent_key.as_deref() != Some(key) {
        return (401, BAD_KEY.into());
    }
    let (signed_q, sig_q) = split_signature(&query);
    let body_s = String::from_utf8_lossy(&body).into_owned();
    let (signed_b, sig_b) = split_signature(&body_s);
    let (total, sig) = match (sig_q, sig_b) {
        (Some(s), None) if body.is_empty() => (signed_q.to_owned(), s),
        (None, Some(s)) => (format!("{query}{signed_b}"), s),
        _ => return (400, BAD_SIGNATURE.into()),
    };
    let want = super::binance::signature(secret, total.as_bytes(), b"");
    if !want.eq_ignore_ascii_case(sig) {
        return (400, BAD_SIGNATURE.into());
    }
    let ts = total
        .split('&')
        .find_map(|p| p.strip_prefix("timestamp="))
        .and_then(|t| t.parse::<u64>().ok());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    if ts.is_none_or(|t| t.abs_diff(now) > 5000) {
        return (
            400,
            r#"{"code":-1021,"msg":"Timestamp for this request is outside of the recvWindow."}"#
                .into(),
        );
    }
    match (method.as_str(), path.as_str()) {
        ("GET", "/api/v3/account") => (
            200,
            r#"{"canTrade":true,"canWithdraw":false,"balances":[{"asset":"BTC","free":"0.50000000","locked":"0.00000000"},{"asset":"USDT","free":"25000.00","locked":"0.00"}]}"#.into(),
        ),
        ("POST", "/api/v3/order") => (
            200,
            format!(
                r#"{{"symbol":"BTCUSDT","orderId":{},"status":"NEW","type":"LIMIT","side":"BUY"}}"#,
                now % 1_000_000
            ),
        ),
        _ => (200, "{}".into()),
    }
}

/// `(everything before "&signature=", the signature)` when `signature` is the last parameter.
fn split_signature(s: &str) -> (&str, Option<&str>) {
    match s.rfind("signature=") {
        Some(0) => ("", Some(&s["signature=".len()..])),
        Some(i) if s.as_bytes()[i - 1] == b'&' => (&s[..i - 1], Some(&s[i + "signature=".len()..])),
        _ => (s, None),
    }
}
