//! What the proxy asks the agent for each request: who the token belongs to and what it may
//! do ([`Session`]), and where the request's record goes. The agent implements [`Backend`];
//! the proxy never sees the policy or the vault.

use std::sync::Arc;

use super::refusal::Refusal;
use crate::exchange::venue::Secrets;
use crate::vault::access::ProxyTerms;
use crate::vault::credential::Scope;

/// What a valid token lets its bot do, for one request.
pub struct Session {
    /// The credential the token stands for.
    pub credential: String,
    /// Its exchange (`binance`).
    pub exchange: String,
    /// Its scope.
    pub scope: Vec<Scope>,
    /// What the policy rule that admitted the bot allows through the proxy.
    pub terms: ProxyTerms,
    /// The secret fields, in locked memory (wiped when the agent seals and the last request
    /// using them ends).
    pub secrets: Arc<Secrets>,
    /// The token's number, which keys the order budgets.
    pub token_id: u64,
    /// The client, as records name it (uid, executable when known).
    pub client: String,
}

/// One request the proxy answered, for the audit log (no secret, no signature, no query, no
/// body).
#[derive(Clone, Debug)]
pub struct Answered {
    /// Unix seconds.
    pub time: u64,
    /// The client's uid (from the kernel), if known.
    pub uid: Option<u32>,
    /// The credential, once known.
    pub credential: Option<String>,
    /// The exchange, once known.
    pub exchange: Option<String>,
    /// The method.
    pub method: String,
    /// The canonical path, once parsed.
    pub path: Option<String>,
    /// The endpoint's class, `unknown` when not in the table.
    pub class: Option<String>,
    /// Why it was refused; `None` when forwarded.
    pub refused: Option<String>,
    /// The HTTP status the client got.
    pub status: u16,
    /// The exchange's status, when forwarded.
    pub upstream_status: Option<u16>,
    /// Microseconds spent in the proxy, upstream included.
    pub latency_us: u64,
}

/// The agent, as the proxy sees it.
pub trait Backend: Send + Sync + 'static {
    /// The session for `token` presented by a client whose uid the kernel reports as `uid`;
    /// a refusal (401, or 503 while sealed) otherwise.
    fn session(&self, token: &str, uid: Option<u32>) -> Result<Session, Refusal>;

    /// Queue `answered` for the audit log (written in batches).
    fn record(&self, answered: Answered);

    /// A nonce larger than any given before, across restarts.
    fn nonce(&self) -> Result<u64, Refusal>;
}
