//! A quorum unlocks the agent: the same quorum checks as every ceremony (each bad share
//! named, never a wrong secret), then the credentials the ratified access policy grants are
//! each put through the release gate (ratified, not tampered, not expired, not
//! withdraw-scoped unless allowed) and opened; the ceremony closes with a record signed with
//! the master key that certifies a key made for this unlock, and the master secret and every
//! key derived from it are erased. What remains is the opened credentials, the policy, and
//! the recorder that signs the agent's later records (`audit::AgentRecorder`).

use std::fmt;
use std::path::Path;

use crate::audit::{AgentRecorder, AuditError};
use crate::clock::Clock;
use crate::ops::ratify::{self, Answer, Ratified, RatifyFailure, Review};
use crate::ops::release::{self, ReleaseError, ReleaseOptions, ReleaseWarning};
use crate::ops::session::{Begun, Presentation, SessionError};
use crate::vault::Vault;
use crate::vault::access::{AccessError, AccessPolicy};
use crate::vault::credential::Credential;
use crate::vault::seal::SecretFields;
use crate::vault::store::{self, StoreError};

/// What an agent unlock hands the agent. The secret fields zeroize on drop.
pub struct AgentUnlocked {
    /// The credentials opened, in name order, with their secret fields.
    pub opened: Vec<(Credential, SecretFields)>,
    /// Granted credentials that were not opened, each with why.
    pub not_opened: Vec<(String, String)>,
    /// Expired (allowed) or overdue credentials among the opened ones.
    pub warnings: Vec<ReleaseWarning>,
    /// The ratified access policy the agent serves by.
    pub policy: AccessPolicy,
    /// The vault as it stood when the credentials were opened (to notice changes under the
    /// agent).
    pub vault: Vault,
    /// Signs the agent's later records; its key is the one the closing record certified.
    pub recorder: AgentRecorder,
    /// What a ratification reviewed and signed first, if one was asked for.
    pub ratified: Option<Ratified>,
    /// Why the closing record could not be anchored in the vault, if it could not.
    pub not_anchored: Option<AuditError>,
    /// What the process hardening could not do.
    pub hardening_warnings: Vec<String>,
}

/// Why the agent was not unlocked. Nothing was opened (or what was opened is erased).
#[derive(Debug)]
pub enum AgentUnlockError {
    /// The ceremony could not start, or the shares do not make a quorum (each named).
    Session(SessionError),
    /// The ratification asked for failed.
    Ratify(RatifyFailure),
    /// The vault could not be read again.
    Store(StoreError),
    /// The vault's access policy was changed outside custody, or does not verify.
    Policy(AccessError),
    /// The ratified access policy grants no credential at all.
    NothingGranted,
    /// No granted credential could be opened; each with why.
    NothingOpened(Vec<(String, String)>),
    /// The vault as a whole cannot be trusted (rolled back, or its keys changed).
    Release(ReleaseError),
    /// The audit log could not be written.
    Audit(AuditError),
}

impl fmt::Display for AgentUnlockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AgentUnlockError::Session(e) => e.fmt(f),
            AgentUnlockError::Ratify(e) => e.fmt(f),
            AgentUnlockError::Store(e) => e.fmt(f),
            AgentUnlockError::Policy(e) => write!(f, "the agent access policy: {e}"),
            AgentUnlockError::NothingGranted => f.write_str(
                "the vault's ratified agent access policy grants no credential to any client",
            ),
            AgentUnlockError::NothingOpened(list) => {
                f.write_str("no credential the access policy grants could be opened: ")?;
                let parts: Vec<String> = list.iter().map(|(_, why)| why.clone()).collect();
                f.write_str(&parts.join("; "))
            }
            AgentUnlockError::Release(e) => e.fmt(f),
            AgentUnlockError::Audit(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for AgentUnlockError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            AgentUnlockError::Session(e) => Some(e),
            AgentUnlockError::Ratify(e) => Some(e),
            AgentUnlockError::Store(e) => Some(e),
            AgentUnlockError::Policy(e) => Some(e),
            AgentUnlockError::Release(e) => Some(e),
            AgentUnlockError::Audit(e) => Some(e),
            _ => None,
        }
    }
}

super::wrap_errors!(
    AgentUnlockError,
    SessionError => Session,
    RatifyFailure => Ratify,
    StoreError => Store,
    AccessError => Policy,
    ReleaseError => Release,
    AuditError => Audit,
);

/// What the officers agreed to ratify before the shares were sent (they reviewed the vault on
/// their side): the ratification signs only if it would sign exactly this.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Consented {
    /// SHA-256 of each entry's canonical bytes (the digests shown), in any order.
    pub entries: Vec<[u8; 32]>,
    /// Each change of the agent access policy, as [`crate::vault::access::RuleChange::describe`]
    /// words it.
    pub policy: Vec<String>,
    /// Each change of the known hosts, as [`crate::vault::hosts::HostChange::describe`] words
    /// it.
    pub hosts: Vec<String>,
}

impl Consented {
    /// Whether `review` is exactly what was agreed to.
    pub fn matches(&self, review: &Review) -> bool {
        let mut want = self.entries.clone();
        want.sort_unstable();
        let mut got: Vec<[u8; 32]> = review.entries.iter().map(|e| e.digest).collect();
        got.sort_unstable();
        let mut want_p = self.policy.clone();
        want_p.sort();
        let mut got_p: Vec<String> = review.access.iter().map(|c| c.describe()).collect();
        got_p.sort();
        let mut want_h = self.hosts.clone();
        want_h.sort();
        let mut got_h: Vec<String> = review.hosts.iter().map(|c| c.describe()).collect();
        got_h.sort();
        want == got && want_p == got_p && want_h == got_h
    }
}

/// Whether to ratify first, and with what consent.
#[derive(Clone, Debug, Default)]
pub enum Ratify {
    /// Do not ratify.
    #[default]
    No,
    /// Sign what awaits ratification, whatever it is (a client without a terminal: it listed
    /// what awaited on its side).
    Listed,
    /// Sign only if it is exactly what the officers agreed to.
    Exactly(Consented),
}

/// Run the agent's unlock ceremony on the vault at `path` with the shares `presented`.
/// `summary` completes the signed closing record ("agent unlocked: N credentials held, until
/// ..."), given the names opened.
pub fn unlock(
    path: &Path,
    presented: &Presentation,
    options: ReleaseOptions,
    ratify_first: Ratify,
    clock: Clock,
    summary: impl FnOnce(&[String]) -> String,
) -> Result<AgentUnlocked, AgentUnlockError> {
    let begun = Begun::begin(path, "agent-unlock", clock)?;
    let session = begun.unlock(presented)?;
    let hardening_warnings = session.hardening_warnings();
    let opening = (|| -> Result<_, AgentUnlockError> {
        let mut consent = |review: &Review| match &ratify_first {
            Ratify::Exactly(c) if !c.matches(review) => Answer::Decline(
                "what awaits ratification in the vault is not what the officers reviewed \
                 (it changed meanwhile); review it again"
                    .into(),
            ),
            _ => Answer::Sign,
        };
        let (ratified, vault) = if matches!(ratify_first, Ratify::No) {
            (None, store::load(path)?)
        } else {
            let (r, v) = ratify::ratify(path, session.keys(), clock.now(), &mut consent)?;
            (Some(r), v)
        };
        let policy = vault.ratified_access(store::seen_beside(path)?)?;
        let names: Vec<String> = policy
            .credentials()
            .into_iter()
            .map(str::to_owned)
            .collect();
        if names.is_empty() {
            return Err(AgentUnlockError::NothingGranted);
        }
        let each = release::open_each(&session, &vault, &names, options)?;
        let not_opened: Vec<(String, String)> = each
            .refused
            .iter()
            .map(|(n, e)| (n.clone(), e.to_string()))
            .collect();
        if each.opened.is_empty() {
            return Err(AgentUnlockError::NothingOpened(not_opened));
        }
        Ok((each, not_opened, policy, vault, ratified))
    })();
    let (each, not_opened, policy, vault, ratified) = match opening {
        Ok(x) => x,
        Err(e) => {
            let reason = e.to_string();
            let _ = session.close_failed(&reason)?;
            return Err(e);
        }
    };
    let names: Vec<String> = each.opened.iter().map(|(c, _)| c.name.clone()).collect();
    session.credentials_opened(&names)?;
    for (name, why) in not_opened.iter() {
        session.note("not_opened", &format!("{name}: {why}"))?;
    }
    let (recorder, not_anchored) = session.close_for_agent(&summary(&names))?;
    Ok(AgentUnlocked {
        opened: each.opened,
        not_opened,
        warnings: each.warnings,
        policy,
        vault,
        recorder,
        ratified,
        not_anchored,
        hardening_warnings,
    })
}
