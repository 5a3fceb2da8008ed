//! The proxy's listener: HTTP/1.1 on a loopback TCP address, served by a two-thread tokio
//! runtime of its own next to the agent's socket threads. Each connection's client is
//! identified once, from the kernel ([`tcp_peer`](super::tcp_peer)); every request on it is
//! then checked by the [`pipeline`](super::pipeline).

use std::convert::Infallible;
use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};

use super::order_budget::OrderBudgets;
use super::pipeline::Proxy;
use super::session::Backend;
use super::upstream::{Override, Upstream, UpstreamError};

/// The most client connections served at once; more wait in the kernel's queue.
pub const MAX_CONNECTIONS: usize = 1024;

/// How long a client has to send a request's headers.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(30);

/// How the proxy runs.
#[derive(Clone, Debug)]
pub struct ProxyConfig {
    /// Where it listens (a loopback address).
    pub listen: SocketAddr,
    /// Test-only upstream overrides.
    pub overrides: Vec<Override>,
    /// The CA the overrides' certificates chain to.
    pub ca: Option<PathBuf>,
}

/// Why the proxy could not start.
#[derive(Debug)]
pub enum ProxyError {
    /// The address is not a loopback address.
    NotLoopback(SocketAddr),
    /// It could not listen there.
    Listen(SocketAddr, std::io::Error),
    /// The upstream could not be set up.
    Upstream(UpstreamError),
    /// The runtime could not start.
    Runtime(std::io::Error),
}

impl std::fmt::Display for ProxyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ProxyError::NotLoopback(a) => write!(
                f,
                "--proxy-listen {a} is not a loopback address: the proxy serves bots on this \
                 machine only; give 127.0.0.1:PORT or [::1]:PORT"
            ),
            ProxyError::Listen(a, e) => write!(f, "cannot listen on {a}: {e}"),
            ProxyError::Upstream(e) => e.fmt(f),
            ProxyError::Runtime(e) => write!(f, "cannot start the proxy's threads: {e}"),
        }
    }
}

impl std::error::Error for ProxyError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ProxyError::Listen(_, e) | ProxyError::Runtime(e) => Some(e),
            ProxyError::Upstream(e) => Some(e),
            ProxyError::NotLoopback(_) => None,
        }
    }
}

/// A running proxy.
pub struct Running {
    /// The address it listens on (the port resolved when 0 was given).
    pub addr: SocketAddr,
    /// The test overrides in force, if any (`exchange=url, ...`).
    pub overrides: Option<String>,
    proxy: Arc<Proxy>,
}

impl Running {
    /// The URL a bot gives ccxt as `proxyUrl` for `token`.
    pub fn url_for(&self, token: &str) -> String {
        format!("http://{}/{token}/", self.addr)
    }

    /// Forget the order budgets (on seal).
    pub fn clear_budgets(&self) {
        self.proxy
            .budgets
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }
}

/// Listen at `cfg.listen` and serve in the background.
pub fn start(cfg: ProxyConfig, backend: Arc<dyn Backend>) -> Result<Running, ProxyError> {
    if !cfg.listen.ip().is_loopback() {
        return Err(ProxyError::NotLoopback(cfg.listen));
    }
    let upstream =
        Upstream::new(&cfg.overrides, cfg.ca.as_deref()).map_err(ProxyError::Upstream)?;
    let overrides = upstream.overrides();
    let listener = TcpListener::bind(cfg.listen).map_err(|e| ProxyError::Listen(cfg.listen, e))?;
    listener
        .set_nonblocking(true)
        .map_err(|e| ProxyError::Listen(cfg.listen, e))?;
    let addr = listener
        .local_addr()
        .map_err(|e| ProxyError::Listen(cfg.listen, e))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("custody-proxy")
        .enable_all()
        .build()
        .map_err(ProxyError::Runtime)?;
    let proxy = Arc::new(Proxy {
        backend,
        upstream,
        budgets: Mutex::new(OrderBudgets::default()),
    });
    let serving = Arc::clone(&proxy);
    std::thread::Builder::new()
        .name("custody-proxy-accept".into())
        .spawn(move || runtime.block_on(serve(listener, serving)))
        .map_err(ProxyError::Runtime)?;
    Ok(Running {
        addr,
        overrides,
        proxy,
    })
}

async fn serve(listener: TcpListener, proxy: Arc<Proxy>) {
    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
        return;
    };
    let slots = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    loop {
        let Ok(permit) = Arc::clone(&slots).acquire_owned().await else {
            return;
        };
        let Ok((stream, peer)) = listener.accept().await else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        let local = stream.local_addr().ok();
        let proxy = Arc::clone(&proxy);
        tokio::spawn(async move {
            let uid = local.and_then(|l| super::tcp_peer::uid_of(peer, l));
            let service = service_fn(move |req| {
                let proxy = Arc::clone(&proxy);
                async move { Ok::<_, Infallible>(proxy.handle(uid, req).await) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT)
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), service)
                .await;
            drop(permit);
        });
    }
}
