//! Ratification: a quorum reviews the credentials added or rotated without one, test-opens
//! each, and signs a new ratification record, under the vault's writer lock. Without a
//! ratification, [`waiting`] says what awaits one and what was changed outside custody.

use std::fmt;
use std::path::Path;

use crate::keys::DerivedKeys;
use crate::vault::Vault;
use crate::vault::access::RuleChange;
use crate::vault::credential::Credential;
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

/// Inside a locked update: review what awaits ratification, test-open it and sign.
pub fn ratify_in(
    vault: &mut Vault,
    keys: &DerivedKeys,
    seen: Option<Seen>,
    now: u64,
) -> Result<Ratified, RatifyError> {
    let a = vault.assess(seen);
    let reviewed = vault
        .credentials()
        .iter()
        .zip(&a.entries)
        .filter(|(_, s)| matches!(s, EntryState::Pending(_) | EntryState::Unverified))
        .map(|(c, s)| (c.clone(), s.clone()))
        .collect();
    let access_reviewed = vault.access_to_ratify(a.record);
    let signed = vault.ratify(keys, seen, now)?;
    let access_in_force = vault
        .access_against(vault.record_state())
        .map_or(0, |p| p.rules().len());
    Ok(Ratified {
        over_rollback: a.rollback,
        reviewed,
        signed,
        generation: vault.credentials().generation(),
        covered: vault.ratified_list().len(),
        access_reviewed,
        access_in_force,
    })
}

/// Ratify what awaits ratification in the vault at `path`, under its writer lock. Returns the
/// report and the vault as written.
pub fn ratify(
    path: &Path,
    keys: &DerivedKeys,
    now: u64,
) -> Result<(Ratified, Vault), RatifyFailure> {
    store::update_keeping(path, OnRollback::Allow, |vault: &mut Vault, seen| {
        Ok::<_, RatifyFailure>(ratify_in(vault, keys, seen, now)?)
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
}

/// Without a ratification: list what awaits one and any tampering.
pub fn waiting(vault: &Vault, path: &Path) -> Result<Waiting, StoreError> {
    let a = vault.assess_beside(path)?;
    Ok(Waiting {
        pending: a.pending(vault).into_iter().cloned().collect(),
        tampered: a.tamper_lines(vault),
        access_pending: vault.access_to_ratify(a.record),
    })
}
