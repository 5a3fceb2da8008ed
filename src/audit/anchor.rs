//! Anchoring the log in the vault: after the closing record of a successful ceremony, its head
//! is signed into the vault file ([`crate::vault::AuditAnchor`]). The anchor only moves forward,
//! and never past a log that no longer holds a record anchored before (the vault's, or the
//! newest one the generation sidecar saw): that evidence is kept for `audit verify`.

use std::path::Path;

use super::verify::anchor_problem_in;
use super::{AuditError, LogHead, log_path, read_log};
use crate::keys::DerivedKeys;
use crate::vault::store::{self, OnRollback, StoreError};
use crate::vault::{AnchorRefused, Vault};

/// What stopped the anchor from moving (inside the vault's write lock).
enum Stop {
    Store(StoreError),
    Audit(AuditError),
}

impl From<StoreError> for Stop {
    fn from(e: StoreError) -> Stop {
        Stop::Store(e)
    }
}

/// Sign `head` (the closing record of a successful ceremony) into the vault at `vault_path`
/// with `keys`, at time `now`. Keys that are not the vault's (a ceremony of a pending share
/// set) anchor nothing. The ceremony is recorded whatever this returns; the errors say so.
pub fn anchor_in_vault(
    vault_path: &Path,
    keys: &DerivedKeys,
    head: LogHead,
    now: u64,
) -> Result<(), AuditError> {
    let log = log_path(vault_path);
    let outcome = store::update(vault_path, OnRollback::Refuse, |v: &mut Vault, _| {
        if keys.verifying_key() != *v.public_key() {
            return Ok(());
        }
        // Every head anchored before — the vault's, and the newest the sidecar saw (the vault's
        // may have been removed, or an older vault put back) — must still be in the log.
        let heads: Vec<LogHead> = [
            v.audit_anchor().map(|a| (a.seq, a.hash)),
            store::anchored_head_beside(vault_path)?,
        ]
        .into_iter()
        .flatten()
        .map(|(seq, hash)| LogHead { seq, hash })
        .collect();
        if !heads.is_empty() {
            let bytes = read_log(&log).map_err(Stop::Audit)?.unwrap_or_default();
            if let Some(&anchored) = heads
                .iter()
                .find(|h| anchor_problem_in(&bytes, h).is_some())
            {
                return Err(Stop::Audit(AuditError::AnchoredRecordMissing {
                    head,
                    anchored,
                }));
            }
        }
        let before = heads.iter().map(|h| h.seq).max();
        // Another ceremony that closed after this one has anchored already: its record
        // chains to ours, so ours is covered.
        if before.is_some_and(|b| b > head.seq) {
            return Ok(());
        }
        match v.anchor_audit(keys, head.seq, head.hash, now) {
            // Both refusals were ruled out above (another key anchors nothing; an older head
            // is covered by the newer anchor).
            Ok(()) | Err(AnchorRefused::OtherKey) | Err(AnchorRefused::Older { .. }) => Ok(()),
        }
    });
    outcome.map_err(|stop| match stop {
        Stop::Audit(e) => e,
        Stop::Store(source) => AuditError::NotAnchored {
            head,
            vault: vault_path.to_path_buf(),
            source: Box::new(source),
        },
    })
}
