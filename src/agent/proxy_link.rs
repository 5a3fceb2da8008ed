//! The agent's side of the signing proxy: issuing tokens over the socket (`proxy` requests),
//! answering the proxy's questions about a token ([`Backend`]), and writing the proxy's
//! audit records in batches.
//!
//! A token is issued only to a client the access policy admits for the credential, exactly as
//! a `fetch` would be checked (rate limit included), and only for a credential the agent holds
//! with the fields its exchange signs with. Using it needs the same uid (from the kernel) and
//! the agent still unlocked in the same session.

use std::sync::Arc;
use std::time::Duration;

use zeroize::Zeroizing;

use super::peer::PeerFacts;
use super::protocol::{ErrorCode, PROXY_VERSION};
use super::shared::{self, Shared, State, flush_into};
use crate::exchange::registry;
use crate::proxy::refusal::Refusal;
use crate::proxy::session::{Answered, Backend, Session};
use crate::terminal_text::escape;
use crate::vault::credential::Scope;

/// How often the proxy's queued records are written (one write and one fsync per batch).
pub const FLUSH_EVERY: Duration = Duration::from_millis(250);

/// The most records queued; past it the proxy refuses requests until the queue is written
/// (a log that cannot keep up must not grow memory without bound).
pub const MAX_QUEUED: usize = 16 * 1024;

/// The agent, as its proxy sees it.
pub struct ProxyLink(pub(super) Arc<Shared>);

/// Write the queued records, if the agent is unlocked (the batch of a sealed session was
/// written before its seal record).
pub(super) fn flush(shared: &Shared) {
    let state = shared.state.read().unwrap_or_else(|p| p.into_inner());
    if let State::Unlocked(h) = &*state {
        flush_into(shared, &h.recorder);
    }
}

/// Answer a `proxy` request: a token per credential, and the URL for ccxt's `proxyUrl`.
pub(super) fn issue(shared: &Shared, facts: &PeerFacts, names: &[String]) -> Zeroizing<Vec<u8>> {
    let Some(running) = shared.proxy.get() else {
        return shared::refuse(
            shared,
            Some(facts),
            ErrorCode::NoProxy,
            "this agent runs without a signing proxy: start it with `custody agent run ... \
             --proxy-listen 127.0.0.1:PORT`",
        );
    };
    let state = match shared::admit(shared, facts, names) {
        Ok(s) => s,
        Err(answer) => return answer,
    };
    let State::Unlocked(h) = &*state else {
        unreachable!("admit returns an unlocked state")
    };
    let client = shared::client_of(facts);
    for n in names {
        let held = h.get(n).expect("admit checked it is held");
        let problem = match registry::by_name(&held.exchange) {
            None => Some(format!(
                "credential `{n}` is a {} key, and the signing proxy serves {}",
                escape(&held.exchange),
                registry::VENUES
                    .iter()
                    .map(|v| v.exchange())
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
            Some(_) if held.signing.is_none() => Some(format!(
                "credential `{n}` lacks a field its exchange signs with (an API key and a \
                 secret or private key, and a passphrase where the exchange has one)"
            )),
            Some(_) => None,
        };
        if let Some(message) = problem {
            drop(state);
            return shared::refuse(shared, Some(facts), ErrorCode::NoProxy, &message);
        }
    }
    if let Err(e) = shared::with_audit_client(facts, |c| h.recorder.proxy_tokens(c, names)) {
        let message =
            format!("the tokens could not be recorded in the audit log, so none was issued: {e}");
        drop(state);
        return shared::refuse(shared, Some(facts), ErrorCode::Audit, &message);
    }
    let url = running.addr;
    let mut out = Zeroizing::new(Vec::with_capacity(256 + 160 * names.len()));
    out.extend_from_slice(
        format!("{{\"v\":{PROXY_VERSION},\"ok\":true,\"proxy\":{{\"url\":\"http://{url}/\",\"credentials\":[")
            .as_bytes(),
    );
    let mut tokens = h.tokens.lock().unwrap_or_else(|p| p.into_inner());
    for (i, n) in names.iter().enumerate() {
        let held = h.get(n).expect("checked");
        let terms = h
            .policy
            .grants(&client, n)
            .map(|r| r.terms().clone())
            .unwrap_or_default();
        let token = tokens.issue(facts.uid, n, terms, shared::describe(facts));
        let v = registry::by_name(&held.exchange).expect("checked");
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(
            format!(
                "{{\"name\":{},\"exchange\":{},\"passphrase\":{},\"token\":\"",
                serde_json::to_string(n).expect("JSON"),
                serde_json::to_string(&held.exchange).expect("JSON"),
                v.has_passphrase()
            )
            .as_bytes(),
        );
        out.extend_from_slice(token.as_bytes());
        out.extend_from_slice(b"\"}");
    }
    out.extend_from_slice(b"]}}\n");
    drop(tokens);
    (shared.log)(&format!(
        "issued proxy token(s) for {} to {}",
        names.join(", "),
        shared::describe(facts)
    ));
    out
}

impl Backend for ProxyLink {
    fn session(&self, token: &str, uid: Option<u32>) -> Result<Session, Refusal> {
        let shared = &self.0;
        if shared
            .proxied
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .len()
            >= MAX_QUEUED
        {
            return Err(Refusal::with_status(
                503,
                format!(
                    "the audit log is not keeping up ({MAX_QUEUED} proxied requests wait to be \
                     recorded), so nothing more is forwarded until they are; retry shortly"
                ),
            ));
        }
        let state = shared.state.read().unwrap_or_else(|p| p.into_inner());
        let h = match &*state {
            State::Unlocked(h) => h,
            State::Sealed { reason, .. } => {
                return Err(Refusal::with_status(
                    503,
                    format!(
                        "the agent is sealed ({}); a quorum must unlock it, and the bot must be \
                         restarted with a new token (`custody agent exec --proxy`)",
                        escape(reason)
                    ),
                ));
            }
        };
        let tokens = h.tokens.lock().unwrap_or_else(|p| p.into_inner());
        let unknown = || {
            Refusal::unauthenticated(
                "the proxy token is not one this agent issued in its current session (tokens \
                 end when the agent seals): restart the bot with `custody agent exec --proxy`",
            )
        };
        let issued = tokens.find(token).ok_or_else(unknown)?;
        if uid != Some(issued.uid) {
            return Err(unknown());
        }
        let held = h.get(&issued.credential).ok_or_else(unknown)?;
        let secrets = held.signing.clone().ok_or_else(unknown)?;
        // A bot trading through the proxy is using its credential (`--idle-ttl`).
        *shared.last_use.lock().unwrap_or_else(|p| p.into_inner()) = std::time::Instant::now();
        Ok(Session {
            credential: issued.credential.clone(),
            exchange: held.exchange.clone(),
            scope: held.scope.split(',').filter_map(Scope::parse).collect(),
            terms: issued.terms.clone(),
            secrets,
            token_id: issued.id,
            client: issued.client.clone(),
        })
    }

    fn record(&self, answered: Answered) {
        let mut q = self.0.proxied.lock().unwrap_or_else(|p| p.into_inner());
        if q.len() < MAX_QUEUED {
            q.push(answered);
        }
    }

    fn nonce(&self) -> Result<u64, Refusal> {
        let now_us = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_micros() as u64)
            .unwrap_or(0);
        match &self.0.nonces {
            Some(n) => n.next(now_us).map_err(|e| {
                Refusal::with_status(
                    503,
                    format!("the proxy cannot record its nonce reservation: {e}"),
                )
            }),
            None => Ok(now_us),
        }
    }
}
