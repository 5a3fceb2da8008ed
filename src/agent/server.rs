//! The agent's service: listen on the socket, serve each connection in its own thread (at
//! most [`MAX_CONNECTIONS`]), answer each request by the protocol, and seal at the deadline,
//! after the idle time, on SIGTERM/SIGINT/SIGHUP, on request, or when the vault changes
//! under it.
//!
//! Who may ask what, decided per request from the kernel's account of the peer:
//! - `status`: the agent's own user, root, and the users the ratified access policy names;
//! - `unlock`, `seal`: the agent's own user and root;
//! - `fetch`: clients the ratified access policy admits, for the credentials it grants them,
//!   within their rate limit.
//!
//! While unlocked, every grant and every refusal of a client is written to the audit log,
//! signed with the key the unlock record certified, before the answer is sent (rate-limit
//! refusals once a minute per client, with their count). While sealed there is nothing to
//! hand out; refusals are counted and logged to standard error only.

use std::io::{self, BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::{Duration, Instant};

use zeroize::Zeroizing;

pub use super::config::{Config, UNNAMED_CLIENT_RATE};
use super::holding::Holding;
use super::peer::{Peer, PeerFacts};
use super::protocol::{
    self, ErrorCode, MAX_CONNECTIONS, MAX_REQUEST_BYTES, MAX_REQUESTS_PER_CONNECTION,
    REQUEST_TIMEOUT, Request, VERSION,
};
use super::rate::Limiter;
use super::shared::{
    Shared, State, Stats, admit, client_of, describe, is_officer, refuse, rule_for, seal,
    with_audit_client,
};
use super::socket::{self, SocketError};
use crate::input;
use crate::ops::agent_unlock::{self, AgentUnlockError};
use crate::ops::release::ReleaseOptions;
use crate::ops::session::Presentation;
use crate::proxy::nonce::{self, Nonces};
use crate::proxy::server::ProxyError;
use crate::terminal_text::escape;
use crate::timefmt;

/// The stack of a connection's thread (one per connection, up to `MAX_CONNECTIONS`).
pub const CONNECTION_STACK_BYTES: usize = 256 * 1024;

/// How often the agent checks its deadlines and the vault file.
pub const TICK: Duration = Duration::from_millis(500);

/// Why the agent could not run.
#[derive(Debug)]
pub enum AgentError {
    /// The vault could not be read or does not verify.
    Vault(crate::vault::store::StoreError),
    /// The socket could not be set up.
    Socket(SocketError),
    /// Signals could not be caught.
    Signals(io::Error),
    /// The signing proxy could not start.
    Proxy(ProxyError),
    /// The proxy's nonce record next to the vault could not be read.
    Nonces(io::Error),
}

impl std::fmt::Display for AgentError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AgentError::Vault(e) => e.fmt(f),
            AgentError::Socket(e) => e.fmt(f),
            AgentError::Signals(e) => write!(f, "cannot catch SIGTERM and SIGINT: {e}"),
            AgentError::Proxy(e) => write!(f, "the signing proxy cannot start: {e}"),
            AgentError::Nonces(e) => write!(f, "the signing proxy cannot start: {e}"),
        }
    }
}

impl std::error::Error for AgentError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            AgentError::Vault(e) => Some(e),
            AgentError::Socket(e) => Some(e),
            AgentError::Signals(e) | AgentError::Nonces(e) => Some(e),
            AgentError::Proxy(e) => Some(e),
        }
    }
}

/// Run the agent in the foreground until SIGTERM, SIGINT or SIGHUP: sealed at first, holding
/// no secret. `log` receives one line per event (the front end writes them to stderr).
pub fn run(mut cfg: Config, log: Box<dyn Fn(&str) + Send + Sync>) -> Result<(), AgentError> {
    let hardening = crate::harden::for_quorum();
    // Absolute, so that officers unlocking from another folder find the vault it reports.
    for p in [&mut cfg.vault, &mut cfg.socket] {
        if let Ok(abs) = std::path::absolute(&*p) {
            *p = abs;
        }
    }
    // The vault must be there and verify before anyone is told the agent runs.
    let vault = crate::vault::store::load(&cfg.vault).map_err(AgentError::Vault)?;
    let nonces = match cfg.proxy {
        Some(_) => Some(Nonces::open(nonce::path_for(&cfg.vault)).map_err(AgentError::Nonces)?),
        None => None,
    };
    let listening = socket::listen(&cfg.socket, cfg.socket_group).map_err(AgentError::Socket)?;
    for w in hardening.warnings() {
        log(&format!("warning: {w}"));
    }
    let shared = Arc::new(Shared {
        owner: rustix::process::geteuid().as_raw(),
        state: RwLock::new(State::Sealed {
            since: cfg.clock.now(),
            reason: "started".into(),
        }),
        unlocking: AtomicBool::new(false),
        last_use: Mutex::new(Instant::now()),
        limiter: Mutex::new(Limiter::default()),
        stats: Stats::default(),
        connections: AtomicUsize::new(0),
        stopping: AtomicBool::new(false),
        cfg,
        log,
        proxy: OnceLock::new(),
        proxied: Mutex::new(Vec::new()),
        nonces,
    });
    if let Some(pc) = shared.cfg.proxy.clone() {
        let link = Arc::new(super::proxy_link::ProxyLink(Arc::clone(&shared)));
        let running = crate::proxy::server::start(pc, link).map_err(AgentError::Proxy)?;
        (shared.log)(&format!(
            "signing proxy on http://{} (ccxt proxyUrl; bots get theirs from `custody agent \
             exec --proxy`)",
            running.addr
        ));
        if let Some(o) = &running.overrides {
            (shared.log)(&format!(
                "WARNING: TEST UPSTREAM OVERRIDE IN FORCE ({}): requests for these exchanges \
                 go to a test server, not to the exchange; every audit record says so",
                escape(o)
            ));
        }
        let _ = shared.proxy.set(running);
        let flusher = Arc::clone(&shared);
        std::thread::spawn(move || {
            while !flusher.stopping.load(Ordering::SeqCst) {
                std::thread::sleep(super::proxy_link::FLUSH_EVERY);
                super::proxy_link::flush(&flusher);
            }
        });
    }
    (shared.log)(&format!(
        "listening on {} for vault {} ({}), sealed: a quorum unlocks it with `custody agent \
         unlock`",
        escape(&listening.path.display().to_string()),
        escape(&shared.cfg.vault.display().to_string()),
        vault.fingerprint()
    ));
    drop(vault);

    let numbers = [
        rustix::process::Signal::TERM.as_raw(),
        rustix::process::Signal::INT.as_raw(),
        rustix::process::Signal::HUP.as_raw(),
    ];
    let mut signals = signal_hook::iterator::Signals::new(numbers).map_err(AgentError::Signals)?;
    {
        let shared = Arc::clone(&shared);
        let path = listening.path.clone();
        std::thread::spawn(move || {
            if let Some(n) = signals.forever().next() {
                let name = crate::audit::signal_name(n).unwrap_or("a signal");
                seal(&shared, &format!("the agent received {name} and stopped"));
                shared.stopping.store(true, Ordering::SeqCst);
                // Wake the accept loop.
                let _ = UnixStream::connect(&path);
            }
        });
    }
    {
        let shared = Arc::clone(&shared);
        std::thread::spawn(move || {
            while !shared.stopping.load(Ordering::SeqCst) {
                std::thread::sleep(TICK);
                if let Some(reason) = due_to_seal(&shared) {
                    seal(&shared, &reason);
                }
            }
        });
    }

    for stream in listening.listener.incoming() {
        if shared.stopping.load(Ordering::SeqCst) {
            break;
        }
        let Ok(mut stream) = stream else { continue };
        if shared.connections.fetch_add(1, Ordering::SeqCst) >= MAX_CONNECTIONS {
            shared.connections.fetch_sub(1, Ordering::SeqCst);
            let _ = stream.set_write_timeout(Some(Duration::from_millis(200)));
            let _ = stream.write_all(&protocol::error_line(
                ErrorCode::Busy,
                "the agent is serving as many connections as it takes; try again shortly",
            ));
            continue;
        }
        let shared = Arc::clone(&shared);
        let spawned = std::thread::Builder::new()
            .name("custody-agent-conn".into())
            .stack_size(CONNECTION_STACK_BYTES)
            .spawn({
                let shared = Arc::clone(&shared);
                move || {
                    serve(&shared, stream);
                    shared.connections.fetch_sub(1, Ordering::SeqCst);
                }
            });
        if spawned.is_err() {
            // No thread for it (out of memory or threads): the connection is dropped unserved.
            shared.connections.fetch_sub(1, Ordering::SeqCst);
        }
    }
    (shared.log)("stopped; the socket is removed");
    Ok(())
}

/// Why the agent should seal now, if it should: its deadline passed, it was idle too long, or
/// the vault changed under it.
fn due_to_seal(shared: &Shared) -> Option<String> {
    let mut state = shared.state.write().unwrap_or_else(|p| p.into_inner());
    let State::Unlocked(h) = &mut *state else {
        return None;
    };
    let now = shared.cfg.clock.now();
    if now >= h.expires_at {
        return Some(format!(
            "its time limit (--max-ttl) ran out at {}",
            timefmt::rfc3339(h.expires_at)
        ));
    }
    if let Some(idle) = shared.cfg.idle_ttl {
        let last = *shared.last_use.lock().unwrap_or_else(|p| p.into_inner());
        if last.elapsed() >= idle {
            return Some(format!(
                "no credential was handed out for {} (--idle-ttl)",
                timefmt::duration(u64::try_from(idle.as_millis()).unwrap_or(u64::MAX))
            ));
        }
    }
    h.vault_problem()
        .map(|p| format!("the vault changed under it: {p}"))
}

/// Read one request line within [`REQUEST_TIMEOUT`], at most [`MAX_REQUEST_BYTES`].
/// `Ok(None)`: the client closed the connection.
fn read_request(
    reader: &mut BufReader<UnixStream>,
) -> Result<Option<Zeroizing<Vec<u8>>>, ErrorCode> {
    let deadline = Instant::now() + REQUEST_TIMEOUT;
    let mut line = Zeroizing::new(Vec::with_capacity(512));
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(ErrorCode::Timeout);
        }
        let _ = reader.get_ref().set_read_timeout(Some(left));
        let buf = match reader.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                return Err(ErrorCode::Timeout);
            }
            Err(_) => return Ok(None),
        };
        if buf.is_empty() {
            return if line.is_empty() {
                Ok(None)
            } else {
                Err(ErrorCode::BadRequest)
            };
        }
        let (take, done) = match buf.iter().position(|&b| b == b'\n') {
            Some(i) => (i + 1, true),
            None => (buf.len(), false),
        };
        if line.len() + take > MAX_REQUEST_BYTES {
            return Err(ErrorCode::TooLarge);
        }
        crate::zeroizing_json::reserve(&mut line, take);
        line.extend_from_slice(&buf[..take]);
        reader.consume(take);
        if done {
            line.pop();
            return Ok(Some(line));
        }
    }
}

/// Serve one connection: its requests in turn, until it closes, errs or has made
/// [`MAX_REQUESTS_PER_CONNECTION`].
fn serve(shared: &Shared, stream: UnixStream) {
    let _ = stream.set_write_timeout(Some(REQUEST_TIMEOUT));
    let Ok(writer) = stream.try_clone() else {
        return;
    };
    let mut writer = writer;
    let peer = match Peer::of(&stream) {
        Ok(p) => p,
        Err(e) => {
            let _ = writer.write_all(&protocol::error_line(
                ErrorCode::NotPermitted,
                &e.to_string(),
            ));
            return;
        }
    };
    let mut reader = BufReader::with_capacity(16 * 1024, stream);
    for _ in 0..MAX_REQUESTS_PER_CONNECTION {
        let answer = match read_request(&mut reader) {
            Ok(None) => return,
            Ok(Some(line)) => {
                shared.stats.requests.fetch_add(1, Ordering::Relaxed);
                answer(shared, &peer, &line)
            }
            Err(code) => {
                shared.stats.refusals.fetch_add(1, Ordering::Relaxed);
                let message = match code {
                    ErrorCode::Timeout => format!(
                        "a request must arrive whole within {} s",
                        REQUEST_TIMEOUT.as_secs()
                    ),
                    ErrorCode::TooLarge => {
                        format!("a request line is at most {MAX_REQUEST_BYTES} bytes")
                    }
                    _ => "the connection ended in the middle of a request".into(),
                };
                let _ = writer.write_all(&protocol::error_line(code, &message));
                return;
            }
        };
        if writer.write_all(&answer).is_err() {
            return;
        }
    }
}

/// The answer to one request line.
fn answer(shared: &Shared, peer: &Peer, line: &[u8]) -> Zeroizing<Vec<u8>> {
    let request = match protocol::parse(line) {
        Ok(r) => r,
        Err(m) => return refuse(shared, None, m.code, &m.message),
    };
    let facts = match peer.facts() {
        Ok(f) => f,
        Err(e) => return refuse(shared, None, ErrorCode::NotPermitted, &e.to_string()),
    };
    match request {
        Request::Status => status(shared, &facts),
        Request::Seal => {
            if !is_officer(shared, facts.uid) {
                return refuse(
                    shared,
                    Some(&facts),
                    ErrorCode::NotPermitted,
                    "only the agent's own user and root may seal it",
                );
            }
            seal(
                shared,
                &format!("sealed on request of {}", describe(&facts)),
            );
            ok_line(serde_json::json!({"state": "sealed"}))
        }
        Request::Unlock {
            shares,
            passphrase,
            ratify,
            allow_expired,
            allow_withdraw,
            remote,
        } => {
            if !is_officer(shared, facts.uid) {
                return refuse(
                    shared,
                    Some(&facts),
                    ErrorCode::NotPermitted,
                    "only the agent's own user and root may unlock it",
                );
            }
            let options = ReleaseOptions {
                allow_withdraw,
                allow_expired,
            };
            unlock(shared, &facts, shares, passphrase, options, ratify, remote)
        }
        Request::Fetch { credentials } => fetch(shared, &facts, &credentials),
        Request::Proxy { credentials } => super::proxy_link::issue(shared, &facts, &credentials),
    }
}

fn ok_line(mut v: serde_json::Value) -> Zeroizing<Vec<u8>> {
    if let serde_json::Value::Object(m) = &mut v {
        m.insert("v".into(), VERSION.into());
        m.insert("ok".into(), true.into());
    }
    let mut line = serde_json::to_vec(&v).expect("JSON");
    line.push(b'\n');
    Zeroizing::new(line)
}

fn status(shared: &Shared, facts: &PeerFacts) -> Zeroizing<Vec<u8>> {
    let state = shared.state.read().unwrap_or_else(|p| p.into_inner());
    let named = match &*state {
        State::Unlocked(h) => rule_for(&h.policy, &client_of(facts)).is_some(),
        State::Sealed { .. } => false,
    };
    if !is_officer(shared, facts.uid) && !named {
        drop(state);
        return refuse(
            shared,
            Some(facts),
            ErrorCode::NotPermitted,
            "only the agent's own user, root and clients the access policy names may ask its \
             status",
        );
    }
    let s = &shared.stats;
    let mut v = serde_json::json!({
        "vault": shared.cfg.vault.display().to_string(),
        "socket": shared.cfg.socket.display().to_string(),
        "pid": std::process::id(),
        "requests": s.requests.load(Ordering::Relaxed),
        "grants": s.grants.load(Ordering::Relaxed),
        "refusals": s.refusals.load(Ordering::Relaxed),
        "rate_limited": s.rate_limited.load(Ordering::Relaxed),
        "idle_ttl_s": shared.cfg.idle_ttl.map(|d| d.as_secs()),
        "max_ttl_s": shared.cfg.max_ttl.as_secs(),
        "proxy": shared.proxy.get().map(|p| serde_json::json!({
            "listen": p.addr.to_string(),
            "test_upstream": p.overrides,
        })),
    });
    let m = v.as_object_mut().expect("object");
    match &*state {
        State::Sealed { since, reason } => {
            m.insert("state".into(), "sealed".into());
            m.insert("sealed_at".into(), timefmt::rfc3339(*since).into());
            m.insert("sealed_because".into(), reason.clone().into());
            m.insert("credentials".into(), serde_json::json!([]));
            m.insert("expires_at".into(), serde_json::Value::Null);
        }
        State::Unlocked(h) => {
            m.insert("state".into(), "unlocked".into());
            m.insert("unlocked_at".into(), timefmt::rfc3339(h.unlocked_at).into());
            m.insert("expires_at".into(), timefmt::rfc3339(h.expires_at).into());
            m.insert(
                "credentials".into(),
                h.held.iter().map(|c| c.name.clone()).collect(),
            );
            m.insert(
                "held".into(),
                h.held
                    .iter()
                    .map(|c| {
                        serde_json::json!({
                            "name": c.name,
                            "exchange": c.exchange,
                            "account": c.account,
                            "scope": c.scope,
                            "expires": c.expires,
                            "locked": c.is_locked(),
                        })
                    })
                    .collect(),
            );
            m.insert(
                "not_opened".into(),
                h.not_opened
                    .iter()
                    .map(|(n, why)| serde_json::json!({"name": n, "reason": why}))
                    .collect(),
            );
            m.insert("ceremony".into(), h.recorder.ceremony().into());
        }
    }
    ok_line(v)
}

fn unlock(
    shared: &Shared,
    facts: &PeerFacts,
    shares: Vec<protocol::ShareText>,
    passphrase: Option<Zeroizing<String>>,
    options: ReleaseOptions,
    ratify: agent_unlock::Ratify,
    remote: Option<crate::remote::CeremonyRecord>,
) -> Zeroizing<Vec<u8>> {
    if matches!(
        &*shared.state.read().unwrap_or_else(|p| p.into_inner()),
        State::Unlocked(_)
    ) {
        return refuse(
            shared,
            Some(facts),
            ErrorCode::Unlock,
            "the agent is already unlocked; seal it first (`custody agent seal`) to unlock it \
             with other shares",
        );
    }
    if shared.unlocking.swap(true, Ordering::SeqCst) {
        return refuse(
            shared,
            Some(facts),
            ErrorCode::Unlock,
            "another unlock is running; wait for it to finish",
        );
    }
    let mut refused_here: Vec<(String, String)> = Vec::new();
    let result = (|| {
        let mut presentation = Presentation {
            passphrase,
            remote,
            ..Presentation::default()
        };
        for s in &shares {
            let label = format!("{} (via agent unlock)", s.label);
            match input::parse_text(&label, &s.text) {
                Ok(p) => presentation.shares.push(p),
                Err(e) => presentation.refused.push((label, e.to_string())),
            }
        }
        drop(shares);
        refused_here = presentation.refused.clone();
        let max_ttl = shared.cfg.max_ttl;
        let now = shared.cfg.clock.now();
        let expires_at = now.saturating_add(max_ttl.as_secs());
        let unlocked = agent_unlock::unlock(
            &shared.cfg.vault,
            &presentation,
            options,
            ratify,
            shared.cfg.clock,
            |names: &[String]| {
                format!(
                    "agent unlocked: {} credential(s) held until {} ({})",
                    names.len(),
                    timefmt::rfc3339(expires_at),
                    names.join(", ")
                )
            },
        )?;
        drop(presentation);
        let warnings: Vec<String> = unlocked
            .warnings
            .iter()
            .map(|w| w.to_string())
            .chain(unlocked.not_anchored.iter().map(|e| e.to_string()))
            .chain(unlocked.hardening_warnings.iter().cloned())
            .collect();
        let holding = Holding::new(unlocked, &shared.cfg.vault, now, expires_at)
            .map_err(|e| AgentUnlockError::NothingOpened(vec![(String::new(), e.to_string())]))?;
        // A test upstream is said by every record of the session.
        holding
            .recorder
            .set_test_upstream(shared.proxy.get().and_then(|p| p.overrides.clone()));
        Ok::<_, AgentUnlockError>((holding, warnings))
    })();
    let answer = match result {
        Ok((holding, warnings)) => {
            let names: Vec<String> = holding.held.iter().map(|h| h.name.clone()).collect();
            let body = serde_json::json!({
                "state": "unlocked",
                "credentials": names,
                "not_opened": holding.not_opened.iter()
                    .map(|(n, why)| serde_json::json!({"name": n, "reason": why}))
                    .collect::<Vec<_>>(),
                "warnings": warnings,
                "unlocked_at": timefmt::rfc3339(holding.unlocked_at),
                "expires_at": timefmt::rfc3339(holding.expires_at),
                "ceremony": holding.recorder.ceremony(),
            });
            (shared.log)(&format!(
                "unlocked by {} until {}: holding {}",
                describe(facts),
                timefmt::rfc3339(holding.expires_at),
                names.join(", ")
            ));
            for (n, why) in &holding.not_opened {
                (shared.log)(&format!("not opened: {n}: {}", escape(why)));
            }
            *shared.last_use.lock().unwrap_or_else(|p| p.into_inner()) = Instant::now();
            *shared.state.write().unwrap_or_else(|p| p.into_inner()) =
                State::Unlocked(Box::new(holding));
            ok_line(body)
        }
        Err(e) => {
            let mut message = e.to_string();
            if !refused_here.is_empty() {
                let list: Vec<String> = refused_here
                    .iter()
                    .map(|(label, why)| format!("{label}: {why}"))
                    .collect();
                message.push_str(&format!(
                    "; refused before the quorum checks: {}",
                    list.join("; ")
                ));
            }
            refuse(shared, Some(facts), ErrorCode::Unlock, &message)
        }
    };
    shared.unlocking.store(false, Ordering::SeqCst);
    answer
}

fn fetch(shared: &Shared, facts: &PeerFacts, names: &[String]) -> Zeroizing<Vec<u8>> {
    let state = match admit(shared, facts, names) {
        Ok(s) => s,
        Err(answer) => return answer,
    };
    let State::Unlocked(h) = &*state else {
        unreachable!("admit returns an unlocked state")
    };
    if let Err(e) = with_audit_client(facts, |c| h.recorder.granted(c, names)) {
        let message =
            format!("the grant could not be recorded in the audit log, so nothing was sent: {e}");
        drop(state);
        return refuse(shared, Some(facts), ErrorCode::Audit, &message);
    }
    let mut size = 64;
    for n in names {
        size += n.len() + 8 + h.get(n).map_or(0, |c| c.object().len());
    }
    let mut out = Zeroizing::new(Vec::with_capacity(size));
    out.extend_from_slice(format!("{{\"v\":{VERSION},\"ok\":true,\"credentials\":{{").as_bytes());
    for (i, n) in names.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(serde_json::to_string(n).expect("JSON").as_bytes());
        out.push(b':');
        out.extend_from_slice(h.get(n).expect("checked above").object());
    }
    out.extend_from_slice(b"}}\n");
    shared.stats.grants.fetch_add(1, Ordering::Relaxed);
    *shared.last_use.lock().unwrap_or_else(|p| p.into_inner()) = Instant::now();
    (shared.log)(&format!(
        "handed {} to {}",
        names.join(", "),
        describe(facts)
    ));
    out
}
