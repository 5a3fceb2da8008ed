//! What the agent's threads share: its state (sealed, or what an unlocked agent holds), its
//! counters and budgets, and the steps every request path takes: refusing, naming the client,
//! admitting a client's request for credentials, and sealing (which first writes the signing
//! proxy's queued records).

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock, RwLock};
use std::time::Instant;

use zeroize::Zeroizing;

use super::config::{Config, UNNAMED_CLIENT_RATE};
use super::holding::Holding;
use super::peer::PeerFacts;
use super::protocol::{self, ErrorCode};
use super::rate::{Decision, Limiter};
use crate::audit::{AgentClient, AgentRecorder, ProxiedOutcome, ProxiedRequest};
use crate::proxy::nonce::Nonces;
use crate::proxy::server::Running;
use crate::proxy::session::Answered;
use crate::terminal_text::escape;
use crate::vault::access::{AccessRule, Client};

pub(super) enum State {
    Sealed {
        /// Unix seconds.
        since: u64,
        reason: String,
    },
    Unlocked(Box<Holding>),
}

#[derive(Default)]
pub(super) struct Stats {
    pub(super) requests: AtomicU64,
    pub(super) grants: AtomicU64,
    pub(super) refusals: AtomicU64,
    pub(super) rate_limited: AtomicU64,
}

/// A key for the rate limiter: one budget per user and policy rule (or none).
pub(super) type LimitKey = (u32, Option<usize>);

pub(super) struct Shared {
    pub(super) cfg: Config,
    pub(super) owner: u32,
    pub(super) state: RwLock<State>,
    pub(super) unlocking: AtomicBool,
    pub(super) last_use: Mutex<Instant>,
    pub(super) limiter: Mutex<Limiter<LimitKey>>,
    pub(super) stats: Stats,
    pub(super) connections: AtomicUsize,
    pub(super) stopping: AtomicBool,
    pub(super) log: Box<dyn Fn(&str) + Send + Sync>,
    /// The signing proxy, once it listens.
    pub(super) proxy: OnceLock<Running>,
    /// Requests the proxy answered, waiting for the next batch of audit records.
    pub(super) proxied: Mutex<Vec<Answered>>,
    /// The proxy's nonces.
    pub(super) nonces: Option<Nonces>,
}

/// Seal: take everything out of the state at once (no request is being served meanwhile),
/// record why with the agent key, and wipe.
pub(super) fn seal(shared: &Shared, reason: &str) {
    let taken = {
        let mut state = shared.state.write().unwrap_or_else(|p| p.into_inner());
        match std::mem::replace(
            &mut *state,
            State::Sealed {
                since: shared.cfg.clock.now(),
                reason: reason.to_owned(),
            },
        ) {
            State::Unlocked(h) => Some(h),
            sealed @ State::Sealed { .. } => {
                *state = sealed;
                None
            }
        }
    };
    shared
        .limiter
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clear();
    if let Some(p) = shared.proxy.get() {
        p.clear_budgets();
    }
    if let Some(h) = taken {
        flush_into(shared, &h.recorder);
        let Holding { held, recorder, .. } = *h;
        let count = held.len();
        drop(held);
        if let Err(e) = recorder.sealed(reason) {
            (shared.log)(&format!(
                "warning: the seal is not in the audit log: {}",
                escape(&e.to_string())
            ));
        }
        (shared.log)(&format!(
            "sealed: {}; {count} credential(s) wiped",
            escape(reason)
        ));
    }
}

/// A refusal: counted, logged, and (while unlocked, for a client that asked for something)
/// recorded by the caller.
pub(super) fn refuse(
    shared: &Shared,
    facts: Option<&PeerFacts>,
    code: ErrorCode,
    message: &str,
) -> Zeroizing<Vec<u8>> {
    shared.stats.refusals.fetch_add(1, Ordering::Relaxed);
    let who = facts.map_or_else(|| "a client".to_owned(), describe);
    (shared.log)(&format!("refused {who}: {}", escape(message)));
    Zeroizing::new(protocol::error_line(code, message))
}

pub(super) fn describe(f: &PeerFacts) -> String {
    let mut s = format!("uid {} pid {}", f.uid, f.pid);
    if let Some(e) = &f.exe {
        s.push_str(&format!(" ({}", escape(&e.display().to_string())));
        if let Some(u) = &f.unit {
            s.push_str(&format!(", {}", escape(u)));
        }
        s.push(')');
    } else if let Some(u) = &f.unit {
        s.push_str(&format!(" ({})", escape(u)));
    }
    s
}

pub(super) fn client_of(f: &PeerFacts) -> Client {
    Client {
        uid: f.uid,
        gid: f.gid,
        pid: f.pid,
        exe: f.exe.clone(),
        unit: f.unit.clone(),
    }
}

/// Run `record` with the audit log's view of the client `facts` describes.
pub(super) fn with_audit_client<T>(
    facts: &PeerFacts,
    record: impl FnOnce(&AgentClient<'_>) -> T,
) -> T {
    let exe = facts.exe.as_ref().map(|e| e.display().to_string());
    record(&AgentClient {
        uid: facts.uid,
        gid: facts.gid,
        pid: facts.pid,
        exe: exe.as_deref(),
        unit: facts.unit.as_deref(),
    })
}

/// The rule in force that admits `client` (for whatever credentials), the most specific.
pub(super) fn rule_for<'p>(
    policy: &'p crate::vault::access::AccessPolicy,
    client: &Client,
) -> Option<&'p AccessRule> {
    policy
        .rules()
        .iter()
        .filter(|r| r.admits(client))
        .max_by_key(|r| r.selector().specificity())
}

pub(super) fn is_officer(shared: &Shared, uid: u32) -> bool {
    uid == shared.owner || uid == 0
}

/// Check a client's request for `names` (fetch or proxy tokens): the vault unchanged, the
/// agent unlocked, the client within its rate, every name granted to it and held. On success
/// the state stays read-locked for the caller; otherwise the answer to send.
pub(super) fn admit<'s>(
    shared: &'s Shared,
    facts: &PeerFacts,
    names: &[String],
) -> Result<std::sync::RwLockReadGuard<'s, State>, Zeroizing<Vec<u8>>> {
    // A vault that changed is noticed here too, not only at the next tick.
    let changed = {
        let mut state = shared.state.write().unwrap_or_else(|p| p.into_inner());
        match &mut *state {
            State::Unlocked(h) => h.vault_problem(),
            State::Sealed { .. } => None,
        }
    };
    if let Some(p) = changed {
        let reason = format!("the vault changed under it: {p}");
        seal(shared, &reason);
        return Err(refuse(
            shared,
            Some(facts),
            ErrorCode::VaultChanged,
            &format!("the agent sealed itself: {reason}; a quorum must unlock it again"),
        ));
    }
    let state = shared.state.read().unwrap_or_else(|p| p.into_inner());
    let h = match &*state {
        State::Unlocked(h) => h,
        State::Sealed { reason, .. } => {
            let message = format!(
                "the agent is sealed ({reason}); a quorum must unlock it (`custody agent unlock`)"
            );
            drop(state);
            return Err(refuse(shared, Some(facts), ErrorCode::Sealed, &message));
        }
    };
    let client = client_of(facts);
    let rule = rule_for(&h.policy, &client);
    let rate = rule.map_or(UNNAMED_CLIENT_RATE, |r| r.rate().requests_per_minute());
    // The rule's address identifies it while this holding lives (the limiter is cleared
    // when the agent seals, and the holding with its rules is only replaced after a seal).
    let key: LimitKey = (facts.uid, rule.map(|r| std::ptr::from_ref(r) as usize));
    let decision = shared
        .limiter
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .take(&key, rate, Instant::now());
    if let Decision::Limited { record, count } = decision {
        shared.stats.rate_limited.fetch_add(1, Ordering::Relaxed);
        shared.stats.refusals.fetch_add(1, Ordering::Relaxed);
        let message = format!(
            "rate limit: at most {rate} requests a minute for this client; try again later"
        );
        if record {
            let _ = with_audit_client(facts, |c| h.recorder.refused(c, names, &message, count));
            (shared.log)(&format!(
                "refused {}: {} ({count} time(s))",
                describe(facts),
                escape(&message)
            ));
        }
        return Err(Zeroizing::new(protocol::error_line(
            ErrorCode::RateLimited,
            &message,
        )));
    }
    // Every name must be granted and held, or nothing is sent.
    for name in names {
        let problem = if rule.is_none() {
            Some((
                ErrorCode::NotPermitted,
                format!(
                    "the agent's access policy names no client uid {} with this executable \
                     and unit; an officer adds one with `custody agent policy add` and a \
                     quorum ratifies it",
                    facts.uid
                ),
            ))
        } else if h.policy.grants(&client, name).is_none() {
            Some((
                ErrorCode::NotGranted,
                format!("the access policy does not grant credential `{name}` to this client"),
            ))
        } else if h.get(name).is_none() {
            let why = h.not_opened.iter().find(|(n, _)| n == name).map_or_else(
                || "it is not in the vault".to_owned(),
                |(_, why)| why.clone(),
            );
            Some((
                ErrorCode::NotHeld,
                format!("the agent does not hold credential `{name}`: {why}"),
            ))
        } else {
            None
        };
        if let Some((code, message)) = problem {
            if let Err(e) = with_audit_client(facts, |c| h.recorder.refused(c, names, &message, 1))
            {
                (shared.log)(&format!(
                    "warning: a refusal is not in the audit log: {}",
                    escape(&e.to_string())
                ));
            }
            drop(state);
            return Err(refuse(shared, Some(facts), code, &message));
        }
    }
    Ok(state)
}

fn to_record(a: Answered) -> ProxiedRequest {
    ProxiedRequest {
        time: a.time,
        uid: a.uid.unwrap_or(u32::MAX),
        pid: None,
        exe: None,
        credential: a.credential,
        exchange: a.exchange.unwrap_or_default(),
        method: a.method,
        path: a.path.unwrap_or_default(),
        class: a.class.unwrap_or_else(|| "unknown".into()),
        outcome: if a.refused.is_some() {
            ProxiedOutcome::Refused
        } else {
            ProxiedOutcome::Forwarded
        },
        reason: a.refused,
        upstream_status: a.upstream_status,
        latency_us: Some(a.latency_us),
    }
}

/// Write the queued records with `recorder` (called before the seal record).
pub(super) fn flush_into(shared: &Shared, recorder: &AgentRecorder) {
    let batch: Vec<Answered> =
        std::mem::take(&mut *shared.proxied.lock().unwrap_or_else(|p| p.into_inner()));
    for chunk in batch.chunks(crate::audit::MAX_PROXIED_BATCH) {
        let records: Vec<ProxiedRequest> = chunk.iter().cloned().map(to_record).collect();
        if let Err(e) = recorder.proxied(&records) {
            (shared.log)(&format!(
                "warning: {} proxy record(s) are not in the audit log: {}",
                records.len(),
                escape(&e.to_string())
            ));
        }
    }
}
