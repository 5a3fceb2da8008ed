//! The audit anchor: the head of the vault's audit log (seq and line hash of its last record)
//! when the last successful quorum ceremony closed, signed with the master key and kept in the
//! vault file. With it `audit verify` detects, without any head kept by hand, the final records
//! removed, the log deleted, or another vault's log put in its place (shares-format.md,
//! "Audit log", "Anchoring").
//!
//! The anchor holds the head's numbers itself (not the audit module's type), so that the vault
//! does not depend on the audit log it anchors.

use ed25519_dalek::{Signature, Signer, VerifyingKey};

use super::Vault;
use crate::keys::DerivedKeys;
use crate::wire;

/// A signed audit head.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditAnchor {
    /// Sequence number of the anchored record (the closing record of a successful ceremony).
    pub seq: u64,
    /// SHA-256 of that record's line, without its newline.
    pub hash: [u8; 32],
    /// When it was anchored (Unix seconds).
    pub at: u64,
    pub(super) signature: Signature,
}

impl AuditAnchor {
    /// The signed bytes: DOMAIN || vault id || u64 seq || hash || u64 at.
    pub(super) fn message(
        vault_id: &[u8; wire::VAULT_ID_LEN],
        seq: u64,
        hash: &[u8; 32],
        at: u64,
    ) -> Vec<u8> {
        let mut m = wire::AUDIT_ANCHOR_DOMAIN.to_vec();
        m.extend_from_slice(vault_id);
        m.extend_from_slice(&seq.to_be_bytes());
        m.extend_from_slice(hash);
        m.extend_from_slice(&at.to_be_bytes());
        m
    }

    /// Whether the signature verifies for `vault_id` under `key`.
    pub(super) fn verifies(&self, vault_id: &[u8; wire::VAULT_ID_LEN], key: &VerifyingKey) -> bool {
        key.verify_strict(
            &AuditAnchor::message(vault_id, self.seq, &self.hash, self.at),
            &self.signature,
        )
        .is_ok()
    }

    /// The signature's 64 bytes.
    pub fn signature_bytes(&self) -> [u8; 64] {
        self.signature.to_bytes()
    }
}

/// The anchor could not be set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnchorRefused {
    /// The keys are not this vault's (a ceremony of a pending share set, say).
    OtherKey,
    /// The head is older than the one already anchored.
    Older {
        /// The seq the vault already anchors.
        anchored: u64,
    },
}

impl Vault {
    /// The audit anchor, if a successful ceremony has set one.
    pub fn audit_anchor(&self) -> Option<&AuditAnchor> {
        self.audit_anchor.as_ref()
    }

    /// Anchor the audit head (`seq`, `hash`) at time `at`, signed with `keys` (the vault's).
    /// Refuses another key and a head older than the one anchored; the same head is kept as it
    /// is (no change, so no write).
    pub fn anchor_audit(
        &mut self,
        keys: &DerivedKeys,
        seq: u64,
        hash: [u8; 32],
        at: u64,
    ) -> Result<(), AnchorRefused> {
        if keys.verifying_key() != self.public.ed25519 {
            return Err(AnchorRefused::OtherKey);
        }
        if let Some(a) = &self.audit_anchor {
            if a.seq > seq {
                return Err(AnchorRefused::Older { anchored: a.seq });
            }
            if a.seq == seq && a.hash == hash {
                return Ok(());
            }
        }
        self.audit_anchor = Some(self.signed_anchor(keys, seq, hash, at));
        Ok(())
    }

    /// Re-sign the current anchor with `keys` (a confirmed master rotation replaces the key
    /// that signed it; the head stays the same).
    pub(super) fn resign_anchor(&mut self, keys: &DerivedKeys) {
        if let Some(a) = self.audit_anchor.take() {
            self.audit_anchor = Some(self.signed_anchor(keys, a.seq, a.hash, a.at));
        }
    }

    fn signed_anchor(&self, keys: &DerivedKeys, seq: u64, hash: [u8; 32], at: u64) -> AuditAnchor {
        let signature =
            keys.signing_key()
                .sign(&AuditAnchor::message(&self.vault_id, seq, &hash, at));
        AuditAnchor {
            seq,
            hash,
            at,
            signature,
        }
    }
}
