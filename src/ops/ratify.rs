//! Ratification: a quorum reviews the credentials added or rotated without one (and the agent
//! access policy's and the known hosts' changes), test-opens each credential, and signs a new ratification record, under the vault's writer lock. Just before it
//! signs, a [`Consent`] is shown exactly what would be signed ([`Review`]) and agrees or not;
//! what it saw is what is signed, in the same locked write. Without a ratification,
//! [`waiting`] says what awaits one and what was changed outside custody.

use std::fmt;
use std::path::Path;

use crate::keys::DerivedKeys;
use crate::vault::Vault;
use crate::vault::access::RuleChange;
use crate::vault::credential::Credential;
use crate::vault::hosts::HostChange;
use crate::vault::ratify::{EntryState, RatifyError};
use crate::vault::store::{self, OnRollback, StoreError};
use crate::vault::{Rollback, Seen};

/// What a ratification reviewed and signed.
#[derive(Clone, Debug)]
pub struct Ratified {
    /// A rollback the quorum ratified over (the vault was older than one seen here).
    pub over_rollback: Option<Rollback>,
    /// The entries shown for review: added or rotated without a quorum, or unverified.
    pub reviewed: Vec<(Credential, EntryState)>,
    /// The names newly ratified; `None` when nothing needed signing.
    pub signed: Option<Vec<String>>,
    /// The generation of the ratification record now in the vault.
    pub generation: u64,
    /// How many credentials the record now covers.
    pub covered: usize,
    /// The agent access policy's changes shown for review (and signed, if `signed` is set).
    pub access_reviewed: Vec<RuleChange>,
    /// How many rules of the agent access policy are in force now.
    pub access_in_force: usize,
    /// The known hosts' changes shown for review (and signed, if `signed` is set).
    pub hosts_reviewed: Vec<HostChange>,
    /// How many known hosts are trusted now.
    pub hosts_trusted: usize,
}

/// One entry a ratification would sign anew, as shown to the quorum.
#[derive(Clone, Debug)]
pub struct ToSign {
    /// The entry's public metadata (nothing secret).
    pub credential: Credential,
    /// Why it awaits a signature: added or rotated without a quorum, or unverified (the
    /// record does not verify, so every entry is signed again).
    pub state: EntryState,
    /// SHA-256 of its canonical bytes: what the signature will cover.
    pub digest: [u8; 32],
}

/// Everything a ratification is about to sign.
#[derive(Clone, Debug)]
pub struct Review {
    /// The entries to sign anew, in vault order; each has already opened with the quorum's
    /// identity.
    pub entries: Vec<ToSign>,
    /// The agent access policy's changes the signature would bring into force.
    pub access: Vec<RuleChange>,
    /// The known hosts' changes the signature would bring into force (each host shown with
    /// its fingerprint, for the officers to check against the host's own).
    pub hosts: Vec<HostChange>,
    /// A rollback the signature would accept: the vault is older than one seen here.
    pub over_rollback: Option<Rollback>,
}

/// The answer to a [`Review`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    /// Sign exactly what was shown.
    Sign,
    /// Sign nothing, for this reason ("the quorum answered no").
    Decline(String),
}

/// Who agrees to a ratification before it is signed: a front end shows the [`Review`] and
/// asks, or signs exactly what it shows. A closure `|review: &Review| Answer::Sign` is one.
pub trait Consent {
    /// Answer for the quorum, once, just before the signature.
    fn consent(&mut self, review: &Review) -> Answer;
}

impl<F: FnMut(&Review) -> Answer> Consent for F {
    fn consent(&mut self, review: &Review) -> Answer {
        self(review)
    }
}

/// Signs whatever awaits ratification without showing it to anyone: for callers that check
/// the result themselves (tests, tools). A front end in front of officers asks instead.
#[derive(Clone, Copy, Debug, Default)]
pub struct Unasked;

impl Consent for Unasked {
    fn consent(&mut self, _: &Review) -> Answer {
        Answer::Sign
    }
}

/// Why a ratification did not happen.
#[derive(Debug)]
pub enum RatifyFailure {
    /// The vault could not be read, locked or written.
    Store(StoreError),
    /// Entries were changed outside custody, or one failed its test-open.
    Refused(RatifyError),
}

impl fmt::Display for RatifyFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RatifyFailure::Store(e) => e.fmt(f),
            RatifyFailure::Refused(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for RatifyFailure {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            RatifyFailure::Store(e) => Some(e),
            RatifyFailure::Refused(e) => Some(e),
        }
    }
}

impl From<StoreError> for RatifyFailure {
    fn from(e: StoreError) -> Self {
        RatifyFailure::Store(e)
    }
}

impl From<RatifyError> for RatifyFailure {
    fn from(e: RatifyError) -> Self {
        RatifyFailure::Refused(e)
    }
}

/// Inside a locked update: review what awaits ratification, test-open it, show it to
/// `consent`, and sign it if the answer is [`Answer::Sign`] ([`RatifyError::Declined`]
/// otherwise, with nothing changed). Nothing to sign asks nothing.
pub fn ratify_in(
    vault: &mut Vault,
    keys: &DerivedKeys,
    seen: Option<Seen>,
    now: u64,
    consent: &mut dyn Consent,
) -> Result<Ratified, RatifyError> {
    let a = vault.assess(seen);
    let reviewed: Vec<(Credential, EntryState)> = vault
        .credentials()
        .iter()
        .zip(&a.entries)
        .filter(|(_, s)| matches!(s, EntryState::Pending(_) | EntryState::Unverified))
        .map(|(c, s)| (c.clone(), s.clone()))
        .collect();
    let access_reviewed = vault.access_to_ratify(a.record);
    let hosts_reviewed = vault.hosts_to_ratify(a.record);
    let vault_id = vault.vault_id();
    let review = Review {
        entries: reviewed
            .iter()
            .map(|(c, s)| ToSign {
                credential: c.clone(),
                state: s.clone(),
                digest: c.digest(&vault_id),
            })
            .collect(),
        access: access_reviewed.clone(),
        hosts: hosts_reviewed.clone(),
        over_rollback: a.rollback,
    };
    let signed = vault.ratify_if(keys, seen, now, || match consent.consent(&review) {
        Answer::Sign => Ok(()),
        Answer::Decline(reason) => Err(reason),
    })?;
    let access_in_force = vault
        .access_against(vault.record_state())
        .map_or(0, |p| p.rules().len());
    let hosts_trusted = vault
        .hosts_against(vault.record_state())
        .map_or(0, |(trusted, _)| trusted.len());
    Ok(Ratified {
        over_rollback: a.rollback,
        reviewed,
        signed,
        generation: vault.credentials().generation(),
        covered: vault.ratified_list().len(),
        access_reviewed,
        access_in_force,
        hosts_reviewed,
        hosts_trusted,
    })
}

/// Ratify what awaits ratification in the vault at `path`, under its writer lock, once
/// `consent` agrees to exactly what it would sign. Returns the report and the vault as
/// written.
pub fn ratify(
    path: &Path,
    keys: &DerivedKeys,
    now: u64,
    consent: &mut dyn Consent,
) -> Result<(Ratified, Vault), RatifyFailure> {
    store::update_keeping(path, OnRollback::Allow, |vault: &mut Vault, seen| {
        Ok::<_, RatifyFailure>(ratify_in(vault, keys, seen, now, consent)?)
    })
}

/// What awaits a ratification in `vault` (at `path`), and what was changed outside custody.
#[derive(Clone, Debug)]
pub struct Waiting {
    /// Credentials added or rotated without a quorum (or unverified).
    pub pending: Vec<Credential>,
    /// One line per entry changed outside custody, and any rollback.
    pub tampered: Vec<String>,
    /// Changes to the agent access policy made without a quorum.
    pub access_pending: Vec<RuleChange>,
    /// Changes to the known hosts made without a quorum.
    pub hosts_pending: Vec<HostChange>,
}

/// Without a ratification: list what awaits one and any tampering.
pub fn waiting(vault: &Vault, path: &Path) -> Result<Waiting, StoreError> {
    let a = vault.assess_beside(path)?;
    Ok(Waiting {
        pending: a.pending(vault).into_iter().cloned().collect(),
        tampered: a.tamper_lines(vault),
        access_pending: vault.access_to_ratify(a.record),
        hosts_pending: vault.hosts_to_ratify(a.record),
    })
}
