//! One exchange request the agent's signing proxy forwarded or refused, and how a batch of
//! them is recorded: one `agent-proxied` record per request, in the unlock's session, each
//! chained and signed with the session's agent key exactly like `agent-granted`, the whole
//! batch appended with one write and one fsync under the log's lock (so a busy bot does not
//! wait for an fsync per order). The log holds either every record of a batch or none.
//!
//! A record says who asked (uid, pid, executable), with which credential, on which exchange,
//! the method and the canonical path, what the request would do (`class`), whether it was
//! forwarded, the exchange's HTTP status and the time spent: never a query string, a body, a
//! signature or a key. What can be checked of that is checked before anything is written: a
//! path with a query (`?`) or fragment (`#`), white space or a control character is refused,
//! since the query is where an exchange's signature travels (Binance, Kraken).

use std::fmt;

use super::agent::AgentRecorder;
pub use super::record::ProxiedOutcome;
use super::record::{Event, Record};
use super::{AuditError, LogHead};
use crate::timefmt;

/// The most requests one call of [`AgentRecorder::proxied`] records (one write of at most
/// 1024 lines of at most [`super::MAX_LINE_LEN`] bytes each; some 600 bytes each in
/// practice). A longer batch is refused whole: record it in several calls.
pub const MAX_PROXIED_BATCH: usize = 1024;

/// What a proxied request would do, as the proxy classified it: the only values `class` takes.
pub const REQUEST_CLASSES: [&str; 5] = ["public", "read", "trade", "withdraw", "unknown"];

/// The longest method recorded (`OPTIONS` is 7 letters).
const MAX_METHOD_LEN: usize = 16;

/// The longest exchange name recorded.
const MAX_EXCHANGE_LEN: usize = 32;

/// One request the signing proxy forwarded or refused (owned; queued by the proxy until it
/// records a batch). It carries no secret: see the module's rules.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProxiedRequest {
    /// When it was answered (unix seconds).
    pub time: u64,
    /// The client's user id, from the kernel.
    pub uid: u32,
    /// The client's process id, when the kernel said.
    pub pid: Option<u32>,
    /// The client's executable, when the agent could read it.
    pub exe: Option<String>,
    /// The credential it was signed with, or would have been; `None` when it was refused
    /// before a credential was known.
    pub credential: Option<String>,
    /// The exchange, e.g. `binance` (lower-case letters, digits and `-`).
    pub exchange: String,
    /// The HTTP method, e.g. `GET` (capital letters).
    pub method: String,
    /// The canonical path, without query or fragment, e.g. `/api/v3/order`.
    pub path: String,
    /// One of [`REQUEST_CLASSES`].
    pub class: String,
    /// Forwarded or refused.
    pub outcome: ProxiedOutcome,
    /// Why it was refused (text safe to record: no secret).
    pub reason: Option<String>,
    /// The HTTP status the exchange answered with, when it answered.
    pub upstream_status: Option<u16>,
    /// Microseconds the request spent in the proxy, the exchange's answer included.
    pub latency_us: Option<u64>,
}

/// Why a [`ProxiedRequest`] cannot be recorded as it is (the proxy's mistake: a record must
/// never carry what could hold a secret).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProxiedProblem {
    /// `method` is not 1 to 16 capital letters.
    Method,
    /// `path` does not begin with `/`, or holds a query, a fragment, white space or a
    /// control character.
    Path,
    /// `class` is not one of [`REQUEST_CLASSES`].
    Class,
    /// `exchange` is not 1 to 32 lower-case letters, digits and `-`.
    Exchange,
}

impl fmt::Display for ProxiedProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProxiedProblem::Method => write!(
                f,
                "its method is not 1 to {MAX_METHOD_LEN} capital letters (A-Z)"
            ),
            ProxiedProblem::Path => f.write_str(
                "its path is not a canonical path: it must begin with `/` and hold no query \
                 (`?`, where a signature travels), fragment (`#`), white space or control \
                 character",
            ),
            ProxiedProblem::Class => {
                write!(f, "its class is not one of {}", REQUEST_CLASSES.join(", "))
            }
            ProxiedProblem::Exchange => write!(
                f,
                "its exchange is not 1 to {MAX_EXCHANGE_LEN} lower-case letters, digits and `-`"
            ),
        }
    }
}

impl ProxiedRequest {
    /// Whether what it would record can hold nothing but what the rules allow.
    pub fn check(&self) -> Result<(), ProxiedProblem> {
        let m = &self.method;
        if m.is_empty() || m.len() > MAX_METHOD_LEN || !m.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(ProxiedProblem::Method);
        }
        let p = &self.path;
        if !p.starts_with('/')
            || p.chars()
                .any(|c| c == '?' || c == '#' || c.is_whitespace() || c.is_control())
        {
            return Err(ProxiedProblem::Path);
        }
        if !REQUEST_CLASSES.contains(&self.class.as_str()) {
            return Err(ProxiedProblem::Class);
        }
        let e = &self.exchange;
        if e.is_empty()
            || e.len() > MAX_EXCHANGE_LEN
            || !e
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err(ProxiedProblem::Exchange);
        }
        Ok(())
    }
}

impl AgentRecorder {
    /// Record `batch`: one `agent-proxied` record per request, in order, each chained and
    /// signed with the session's agent key, all appended in one write and one fsync under the
    /// log's lock. The log then holds every record of the batch, or (on any error) none:
    /// a batch longer than [`MAX_PROXIED_BATCH`], a request that fails
    /// [`ProxiedRequest::check`] or whose record would be too long is refused before anything
    /// is written, and a write that fails half-way is cut back. An empty batch writes
    /// nothing. Records carry `test_upstream` once [`AgentRecorder::set_test_upstream`] was
    /// told of one. Returns the log's head.
    pub fn proxied(&self, batch: &[ProxiedRequest]) -> Result<LogHead, AuditError> {
        if batch.len() > MAX_PROXIED_BATCH {
            return Err(AuditError::BatchTooLarge { len: batch.len() });
        }
        for (index, request) in batch.iter().enumerate() {
            request
                .check()
                .map_err(|problem| AuditError::BadProxiedRequest {
                    index,
                    of: batch.len(),
                    problem,
                })?;
        }
        if batch.is_empty() {
            return self.log.head();
        }
        self.append_all(batch.iter().map(|q| self.proxied_record(q)).collect())
    }

    fn proxied_record(&self, q: &ProxiedRequest) -> Record {
        let mut r = self.record(Event::AgentProxied, None);
        r.time = timefmt::rfc3339(q.time);
        r.peer_uid = Some(q.uid);
        r.peer_pid = q.pid;
        r.peer_exe = q.exe.clone();
        r.credentials = q.credential.clone().map(|c| vec![c]);
        r.exchange = Some(q.exchange.clone());
        r.request = Some(format!("{} {}", q.method, q.path));
        r.class = Some(q.class.clone());
        r.proxy_outcome = Some(q.outcome);
        r.reason = q.reason.clone();
        r.upstream_status = q.upstream_status;
        r.latency_us = q.latency_us;
        r
    }
}

#[cfg(test)]
mod tests {
    use ed25519_dalek::Signer;

    use super::*;
    use crate::audit::chain::{self, signed_message};
    use crate::audit::{AgentProblem, AuditLog, Ceremony, Problem};
    use crate::clock::Clock;
    use crate::testkit::{test_keys, vault_for};

    fn request() -> ProxiedRequest {
        ProxiedRequest {
            time: 1_790_000_000,
            uid: 1001,
            pid: Some(7),
            exe: None,
            credential: Some("binance-main".into()),
            exchange: "binance".into(),
            method: "GET".into(),
            path: "/api/v3/order".into(),
            class: "read".into(),
            outcome: ProxiedOutcome::Forwarded,
            reason: None,
            upstream_status: Some(200),
            latency_us: Some(900),
        }
    }

    #[test]
    fn a_record_the_agent_key_signs_after_the_seal_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let vault_path = dir.path().join("fund.vault");
        let keys = test_keys(7);
        let vault = vault_for(&keys, 0x11);
        let log = AuditLog::open(&vault_path).unwrap();
        let c = Ceremony::begin(&log, "agent-unlock", &vault, Clock::fixed(1_790_000_000)).unwrap();
        let (_, recorder) = c.succeed_for_agent(&keys, "agent unlocked").unwrap();
        recorder.proxied(&[request()]).unwrap();
        // The key, as someone who read it out of the agent's memory would hold it.
        let stolen = recorder
            .key
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .signing_key();
        let replay = recorder.proxied_record(&request());
        recorder.sealed("on request").unwrap();
        let head = chain::append(&log, |seq, prev| {
            let body = chain::body_line(replay, seq, prev);
            let sig = stolen.sign(&signed_message(seq, prev, body.as_bytes()));
            Ok(chain::with_signature(&body, &sig.to_bytes()))
        })
        .unwrap();
        let report = crate::audit::inspect(log.path(), vault.public_key()).unwrap();
        assert_eq!(
            report.problems,
            vec![Problem::AgentRecord {
                line: head.seq as usize,
                problem: AgentProblem::AfterSeal
            }]
        );
    }
}
