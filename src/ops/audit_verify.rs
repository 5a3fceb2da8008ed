//! `audit verify` as a use case: the whole log checked (syntax, seq, chain, signatures, with
//! the retired keys a master rotation handed over), then against the head the vault anchors
//! (signed at the last successful ceremony), against the newest head the generation sidecar saw
//! anchored, and
//! against any head the officer kept (`--anchor`). Together these detect the final records cut
//! off, the log deleted or swapped for another vault's, and the anchor removed.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::audit::{self, AuditError, AuditReport, LogHead};
use crate::vault::store::{self, StoreError};
use crate::vault::{AuditAnchor, Vault};

/// What was checked and found.
#[derive(Debug)]
pub struct Verified {
    /// The vault the log belongs to.
    pub vault: Vault,
    /// The log file.
    pub log: PathBuf,
    /// The log's report; its `problems` include the anchor checks.
    pub report: AuditReport,
    /// The head the vault anchors, if a successful ceremony has anchored one.
    pub anchor: Option<AuditAnchor>,
    /// The head the officer gave, if any.
    pub kept: Option<LogHead>,
}

impl Verified {
    /// No problem found.
    pub fn is_intact(&self) -> bool {
        self.report.problems.is_empty()
    }
}

/// Why the log could not be checked at all.
#[derive(Debug)]
pub enum AuditVerifyError {
    /// The vault (whose key signs the log) could not be read or does not verify.
    Vault(StoreError),
    /// The log could not be read.
    Audit(AuditError),
}

impl fmt::Display for AuditVerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuditVerifyError::Vault(e) => e.fmt(f),
            AuditVerifyError::Audit(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for AuditVerifyError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            AuditVerifyError::Vault(e) => Some(e),
            AuditVerifyError::Audit(e) => Some(e),
        }
    }
}

super::wrap_errors!(
    AuditVerifyError,
    StoreError => Vault,
    AuditError => Audit,
);

/// Check the audit log of the vault at `vault_path`; `kept` is a head the officer kept.
/// Problems are reported in [`Verified::report`], not as errors.
pub fn verify(vault_path: &Path, kept: Option<LogHead>) -> Result<Verified, AuditVerifyError> {
    let vault = store::load(vault_path)?;
    let log = audit::log_path(vault_path);
    // Read once: the chain and every anchor are checked against the same bytes.
    let bytes = audit::read_log(&log)?.unwrap_or_default();
    let mut report = audit::inspect_bytes(&bytes, vault.public_key());
    let anchor = vault.audit_anchor().cloned();
    // The vault's anchor, the newest head the sidecar saw anchored here (the vault's anchor
    // may have been removed, or an older vault put back), and the head the officer kept.
    let beside = store::anchored_head_beside(vault_path)?;
    let heads = anchor
        .as_ref()
        .map(|a| (a.seq, a.hash))
        .into_iter()
        .chain(beside)
        .map(|(seq, hash)| LogHead { seq, hash })
        .chain(kept);
    for head in heads {
        if let Some(p) = audit::anchor_problem_in(&bytes, &head)
            && !report.problems.contains(&p)
        {
            report.problems.push(p);
        }
    }
    Ok(Verified {
        vault,
        log,
        report,
        anchor,
        kept,
    })
}
