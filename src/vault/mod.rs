//! The vault: the public record of one custody set-up (identity, public keys, SLIP-39
//! parameters, policy, epoch), signed with the master key, and the sealed exchange credentials
//! beside it with the quorum's ratification record.
//!
//! The public surface: [`Vault`] and its parameters here; the namespaces [`store`] (the only
//! way a vault is read and written), [`seal`] (age sealing of a credential's secret fields),
//! [`credential`] (one entry's public metadata and its rules), [`ratify`] (the quorum's
//! ratification record and the assessment of every entry) and [`change`] (a pending reshare
//! or master rotation), [`access`] (the agent access policy) and [`hosts`] (the known hosts). The credential set, the rollback sidecar, the file form and the
//! canonical manifest are private; what of them is public is re-exported below.

pub mod access;
mod audit_anchor;
pub mod change;
pub mod credential;
mod credential_set;
mod file;
pub mod hosts;
mod manifest;
pub mod ratify;
pub mod seal;
mod sidecar;
pub mod store;

use std::fmt;

use ed25519_dalek::{Signature, Signer, VerifyingKey};

use crate::keys::{DerivedKeys, PublicKeys};
use crate::policy::{Policy, PolicyError};
use crate::wire;

pub use audit_anchor::{AnchorRefused, AuditAnchor};
pub use credential_set::{CredentialSet, DEFAULT_ROTATION_DAYS, SetError};
pub use file::VaultFileError;
pub use sidecar::{Rollback, Seen};

/// SLIP-39 parameters shared by every share of the current epoch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Slip39Params {
    /// The SLIP-39 identifier (15 bits) every share of the set carries.
    pub identifier: u16,
    /// The SLIP-39 extendable flag (the identifier is not mixed into the encryption).
    pub extendable: bool,
    /// The SLIP-39 iteration exponent (PBKDF2 rounds = 10000 * 2^e).
    pub iteration_exponent: u8,
    /// Whether the shares were made with a SLIP-39 passphrase (the passphrase itself is never stored).
    pub passphrase: bool,
}

/// A vault as held in memory: everything in it is public. Its fields are read through the
/// accessors below and changed only by the methods that keep its rules: [`Vault::create`],
/// the custodian-change methods ([`change`]), the ratification methods ([`ratify`]) and
/// [`CredentialSet`]'s methods.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Vault {
    vault_id: [u8; wire::VAULT_ID_LEN],
    /// Unix seconds.
    created: u64,
    epoch: u32,
    /// When the current epoch began (Unix seconds).
    epoch_started: u64,
    /// When a confirmed rotate-master last replaced the master key (Unix seconds); `None` if
    /// it never was (or was before custody recorded it). Covered by `signature`.
    master_rotated: Option<u64>,
    public: PublicKeys,
    slip39: Slip39Params,
    policy: Policy,
    /// Sealed credentials and their ratification (not covered by `signature`; the
    /// ratification record carries its own signature binding this manifest).
    credentials: CredentialSet,
    /// The agent access policy: ratified rules and a proposal (not covered by `signature`; the
    /// ratification record signs the ratified rules' digest, see [`access`]).
    access: access::stored::StoredAccess,
    /// The known hosts: a ratified set and a proposal (not covered by `signature`; the
    /// ratification record signs the ratified set's digest, see [`hosts`]).
    hosts: hosts::stored::StoredHosts,
    /// A reshare or master rotation waiting for confirmation (not covered by `signature`;
    /// it carries its own, see [`change`]).
    pending_change: Option<change::PendingChange>,
    /// The audit log's head at the last successful quorum ceremony (not covered by
    /// `signature`; it carries its own, see [`AuditAnchor`]).
    audit_anchor: Option<AuditAnchor>,
    signature: Signature,
}

/// What is wrong with a vault's content (beyond its file syntax).
#[derive(Debug)]
pub enum VaultError {
    /// The policy in the vault is not a valid policy.
    Policy(PolicyError),
    /// The manifest signature does not verify: the file was edited outside custody.
    BadSignature,
    /// The stored fingerprint is not the public key's.
    FingerprintMismatch {
        /// The fingerprint written in the file.
        stored: String,
        /// The fingerprint of the public key in the file.
        computed: String,
    },
}

impl fmt::Display for VaultError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VaultError::Policy(e) => write!(f, "the vault's policy is invalid: {e}"),
            VaultError::BadSignature => write!(
                f,
                "the vault's signature does not verify: the file was changed outside custody. \
                 Restore it from its backup (the `.bak` file beside it) or from your copy, and compare the \
                 fingerprint with the one printed on the sheets"
            ),
            VaultError::FingerprintMismatch { stored, computed } => write!(
                f,
                "the vault's fingerprint field says {stored} but its public key has fingerprint \
                 {computed}: the file was changed outside custody; restore it from a backup"
            ),
        }
    }
}

impl std::error::Error for VaultError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            VaultError::Policy(e) => Some(e),
            _ => None,
        }
    }
}

impl Vault {
    /// The vault's random identifier (16 bytes), carried by every share token.
    pub fn vault_id(&self) -> [u8; wire::VAULT_ID_LEN] {
        self.vault_id
    }

    /// When the vault was created (Unix seconds).
    pub fn created(&self) -> u64 {
        self.created
    }

    /// The share-set epoch: 1 at creation, one more with each confirmed reshare or rotation.
    pub fn epoch(&self) -> u32 {
        self.epoch
    }

    /// When the current epoch began (Unix seconds).
    pub fn epoch_started(&self) -> u64 {
        self.epoch_started
    }

    /// When a confirmed master rotation last replaced the master key (Unix seconds), if ever.
    /// Every exchange key whose secret was last set before then was readable with the retired
    /// master's shares and must be rotated at its exchange ([`Vault::sealed_before_rotation`]).
    pub fn master_rotated(&self) -> Option<u64> {
        self.master_rotated
    }

    /// The master rotation `credential` predates, if it does: its secret was last set
    /// (`rotated`) before the current master key replaced the one it was first sealed to, so
    /// anyone holding the old quorum's shares and an old copy of the vault can read it.
    pub fn sealed_before_rotation(&self, credential: &credential::Credential) -> Option<u64> {
        self.master_rotated.filter(|&at| credential.rotated < at)
    }

    /// The master key's public halves: Ed25519 verifying key and age recipient.
    pub fn public(&self) -> &PublicKeys {
        &self.public
    }

    /// The SLIP-39 parameters of the current share set.
    pub fn slip39(&self) -> &Slip39Params {
        &self.slip39
    }

    /// Who holds the current shares: groups, thresholds, custodians.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// The reshare or master rotation waiting for confirmation, if any.
    pub fn pending_change(&self) -> Option<&change::PendingChange> {
        self.pending_change.as_ref()
    }

    /// A new vault at epoch 1, signed with `keys`.
    pub fn create(
        vault_id: [u8; wire::VAULT_ID_LEN],
        created: u64,
        keys: &DerivedKeys,
        slip39: Slip39Params,
        policy: Policy,
    ) -> Result<Vault, VaultError> {
        policy.validate().map_err(VaultError::Policy)?;
        let mut v = Vault {
            vault_id,
            created,
            epoch: 1,
            epoch_started: created,
            master_rotated: None,
            public: keys.public(),
            slip39,
            policy,
            credentials: CredentialSet::default(),
            access: access::stored::StoredAccess::Absent,
            hosts: hosts::stored::StoredHosts::Absent,
            pending_change: None,
            audit_anchor: None,
            signature: Signature::from_bytes(&[0; 64]),
        };
        v.sign(keys);
        Ok(v)
    }

    /// A vault rebuilt from a quorum of its shares after the file was lost: the id, epoch and
    /// SLIP-39 parameters their signed tokens carry, the keys the quorum derives, `policy` as
    /// far as the shares tell it, no credentials, signed with `keys`. `started` (the share
    /// set's creation time) stands for both the creation time and the epoch's start.
    pub fn rebuilt(
        vault_id: [u8; wire::VAULT_ID_LEN],
        epoch: u32,
        started: u64,
        keys: &DerivedKeys,
        slip39: Slip39Params,
        policy: Policy,
    ) -> Result<Vault, VaultError> {
        let mut v = Vault::create(vault_id, started, keys, slip39, policy)?;
        v.epoch = epoch;
        v.sign(keys);
        Ok(v)
    }

    /// Re-sign the manifest after a change (needs the master key).
    pub fn sign(&mut self, keys: &DerivedKeys) {
        self.signature = keys.signing_key().sign(&manifest::bytes(self));
    }

    /// Check the manifest signature and the policy.
    pub fn verify(&self) -> Result<(), VaultError> {
        self.policy.validate().map_err(VaultError::Policy)?;
        self.public
            .ed25519
            .verify_strict(&manifest::bytes(self), &self.signature)
            .map_err(|_| VaultError::BadSignature)
    }

    /// The sealed credentials and their ratification record.
    pub fn credentials(&self) -> &CredentialSet {
        &self.credentials
    }

    /// The credential list, to add, replace, rename or remove entries (each method keeps the
    /// list's rules; the revision and the ratification record stay the vault's own).
    pub fn credentials_mut(&mut self) -> &mut CredentialSet {
        &mut self.credentials
    }

    /// The master key's Ed25519 verifying key.
    pub fn public_key(&self) -> &VerifyingKey {
        &self.public.ed25519
    }

    /// The master key's fingerprint, as printed on every sheet.
    pub fn fingerprint(&self) -> String {
        self.public.fingerprint()
    }

    /// The vault id in lower-case hex (32 digits).
    pub fn vault_id_hex(&self) -> String {
        crate::keys::hex(&self.vault_id)
    }

    /// The canonical bytes the manifest signature covers (documented in shares-format.md).
    pub fn manifest_bytes(&self) -> Vec<u8> {
        manifest::bytes(self)
    }

    /// Serialise to the JSON file form.
    pub fn to_json(&self) -> String {
        file::to_json(self)
    }

    /// Parse the JSON file form and verify it (format, fingerprint, signature, policy).
    pub fn from_json(text: &str) -> Result<Vault, VaultFileError> {
        file::from_json(text)
    }
}

#[cfg(feature = "testkit")]
impl Vault {
    /// Test support ([`crate::testkit::at_epoch`]): this vault at share-set `epoch`, begun at
    /// `started`, re-signed with `keys`.
    pub(crate) fn at_epoch_for_tests(&self, keys: &DerivedKeys, epoch: u32, started: u64) -> Vault {
        let mut v = self.clone();
        v.epoch = epoch;
        v.epoch_started = started;
        v.sign(keys);
        v
    }
}
