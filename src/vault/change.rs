//! A pending custodian change: what a reshare or a master rotation prepared, and what a
//! confirmation applies once a threshold of the new shares has been scanned back.
//! The record sits in the vault file (`pending_change`) beside the current, still fully valid
//! set; it is signed by the current master key (and, for a rotation, also by the new one) over
//! hand-written canonical bytes that bind it to the current manifest (shares-format.md,
//! "Epochs and pending changes").

use std::fmt;

use ed25519_dalek::{Signature, Signer, VerifyingKey};
use sha2::{Digest, Sha256};

use super::credential::Credential;
use super::manifest::put_str;
use super::ratify::RecordState;
use super::sidecar::Seen;
use super::{Slip39Params, Vault, manifest};
use crate::keys::{DerivedKeys, PublicKeys, fingerprint};
use crate::policy::{Policy, PolicyError};
use crate::timefmt;
use crate::wire;

/// Which change is pending.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChangeKind {
    /// New custodians and policy, same master secret and keys.
    Reshare,
    /// New master secret, keys and resealed credentials.
    RotateMaster,
}

impl ChangeKind {
    /// The name used in the vault file and the audit log.
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Reshare => "reshare",
            ChangeKind::RotateMaster => "rotate-master",
        }
    }

    fn code(self) -> u8 {
        match self {
            ChangeKind::Reshare => 1,
            ChangeKind::RotateMaster => 2,
        }
    }
}

/// What a master rotation replaces besides the shares.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rotation {
    /// The new master key's public halves.
    pub(super) public: PublicKeys,
    /// Every credential entry, resealed to the new age recipient (same order and metadata).
    pub(super) credentials: Vec<Credential>,
    /// [`credentials_state`] of the vault when the entries were resealed: confirm refuses if
    /// the credentials changed since.
    pub(super) based_on: [u8; 32],
    /// The new key's signature over the same canonical bytes.
    pub(super) new_signature: Signature,
}

/// A prepared change waiting to be confirmed (or cancelled).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingChange {
    /// Reshare or master rotation.
    pub(super) kind: ChangeKind,
    /// The epoch the new shares carry (the vault's epoch + 1).
    pub(super) epoch: u32,
    /// When the change was prepared (Unix seconds); the new tokens' creation time.
    pub(super) created: u64,
    /// The new share set's SLIP-39 parameters.
    pub(super) slip39: Slip39Params,
    /// Who will hold the new shares.
    pub(super) policy: Policy,
    /// Present exactly for [`ChangeKind::RotateMaster`].
    pub(super) rotation: Option<Rotation>,
    /// The current master key's signature.
    pub(super) signature: Signature,
}

impl Rotation {
    /// The new master key's public halves.
    pub fn public(&self) -> &PublicKeys {
        &self.public
    }

    /// Every credential entry, resealed to the new age recipient.
    pub fn credentials(&self) -> &[Credential] {
        &self.credentials
    }

    /// The digest of the vault's credentials when they were resealed.
    pub fn based_on(&self) -> [u8; 32] {
        self.based_on
    }
}

impl PendingChange {
    /// Reshare or master rotation.
    pub fn kind(&self) -> ChangeKind {
        self.kind
    }

    /// The epoch the new shares carry (the vault's epoch + 1).
    pub fn epoch(&self) -> u32 {
        self.epoch
    }

    /// When the change was prepared (Unix seconds); the new tokens' creation time.
    pub fn created(&self) -> u64 {
        self.created
    }

    /// The new share set's SLIP-39 parameters.
    pub fn slip39(&self) -> &Slip39Params {
        &self.slip39
    }

    /// Who will hold the new shares.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// The new keys and resealed credentials, exactly for [`ChangeKind::RotateMaster`].
    pub fn rotation(&self) -> Option<&Rotation> {
        self.rotation.as_ref()
    }
}

/// Why a pending change cannot be made, confirmed or cancelled.
#[derive(Debug, PartialEq, Eq)]
pub enum ChangeError {
    /// A change is already waiting.
    AlreadyPending {
        /// What is waiting.
        kind: ChangeKind,
        /// When it was prepared (Unix seconds).
        created: u64,
    },
    /// Nothing to confirm or cancel.
    NothingPending,
    /// The pending record changed between reading it and writing the vault.
    ChangedMeanwhile,
    /// Credentials were added, rotated, removed or edited after a master rotation resealed them.
    CredentialsChanged,
    /// The credential ratification record does not verify or entries were tampered with.
    Tampered(Vec<String>),
    /// The given keys are not those the change expects.
    WrongKey {
        /// The fingerprint the change expects.
        expected: String,
        /// The fingerprint of the keys given.
        given: String,
    },
}

impl fmt::Display for ChangeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChangeError::AlreadyPending { kind, created } => write!(
                f,
                "a {} prepared on {} is already waiting for confirmation; only one change may be \
                 pending",
                kind.as_str(),
                timefmt::date(*created)
            ),
            ChangeError::NothingPending => {
                write!(f, "no custodian change is pending in this vault")
            }
            ChangeError::ChangedMeanwhile => write!(
                f,
                "the pending change was replaced or removed meanwhile; nothing was written"
            ),
            ChangeError::CredentialsChanged => write!(
                f,
                "credentials were added, rotated, renamed or removed after the master rotation \
                 resealed them, so the new key cannot open them: nothing was changed"
            ),
            ChangeError::Tampered(lines) => {
                write!(
                    f,
                    "the vault's credentials were changed outside custody; nothing was changed:"
                )?;
                for l in lines {
                    write!(f, "\n  {l}")?;
                }
                Ok(())
            }
            ChangeError::WrongKey { expected, given } => write!(
                f,
                "the quorum's key has fingerprint {given}, but the change expects {expected} \
                 (please report this); nothing was changed"
            ),
        }
    }
}

impl std::error::Error for ChangeError {}

/// SHA-256 over every credential entry of `v` in file order (`str16(name) || entry digest`,
/// then for each malformed entry `str16(name) || SHA-256(its JSON)`).
pub fn credentials_state(v: &Vault) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update((v.credentials.len() as u32).to_be_bytes());
    for c in v.credentials.iter() {
        let mut b = Vec::new();
        put_str(&mut b, &c.name);
        h.update(&b);
        h.update(c.digest(&v.vault_id));
    }
    h.update((v.credentials.malformed().len() as u32).to_be_bytes());
    for m in v.credentials.malformed() {
        let mut b = Vec::new();
        put_str(&mut b, m.name());
        h.update(&b);
        h.update(Sha256::digest(m.raw().to_string().as_bytes()));
    }
    h.finalize().into()
}

/// The canonical bytes both signatures cover (shares-format.md, "Pending change"):
/// DOMAIN || str16(format) || vault id || SHA-256(current manifest) || kind || new epoch ||
/// created || SLIP-39 parameters || policy || for a rotation: new Ed25519 key ||
/// str16(new age recipient) || based-on state || count || per entry str16(name) || digest.
fn signed_bytes(v: &Vault, p: &PendingChange) -> Vec<u8> {
    let mut out = wire::PENDING_CHANGE_SIGNATURE_DOMAIN.to_vec();
    put_str(&mut out, wire::VAULT_FORMAT);
    out.extend_from_slice(&v.vault_id);
    out.extend_from_slice(&Sha256::digest(manifest::bytes(v)));
    out.push(p.kind.code());
    out.extend_from_slice(&p.epoch.to_be_bytes());
    out.extend_from_slice(&p.created.to_be_bytes());
    manifest::put_params(&mut out, &p.slip39, &p.policy);
    if let Some(r) = &p.rotation {
        out.extend_from_slice(r.public.ed25519.as_bytes());
        put_str(&mut out, &r.public.age_recipient);
        out.extend_from_slice(&r.based_on);
        out.extend_from_slice(&(r.credentials.len() as u32).to_be_bytes());
        for c in &r.credentials {
            put_str(&mut out, &c.name);
            out.extend_from_slice(&c.digest(&v.vault_id));
        }
    }
    out
}

impl PendingChange {
    /// Prepare and sign a change of `vault` with the current quorum's `current` keys. For a
    /// rotation, `rotation` holds the new keys and the resealed entries.
    pub fn new(
        vault: &Vault,
        current: &DerivedKeys,
        slip39: Slip39Params,
        policy: Policy,
        created: u64,
        rotation: Option<(&DerivedKeys, Vec<Credential>)>,
    ) -> Result<PendingChange, ChangeError> {
        if let Some(p) = &vault.pending_change {
            return Err(ChangeError::AlreadyPending {
                kind: p.kind,
                created: p.created,
            });
        }
        if current.verifying_key() != *vault.public_key() {
            return Err(ChangeError::WrongKey {
                expected: vault.fingerprint(),
                given: fingerprint(&current.verifying_key()),
            });
        }
        let zero = Signature::from_bytes(&[0; 64]);
        let mut p = PendingChange {
            kind: if rotation.is_some() {
                ChangeKind::RotateMaster
            } else {
                ChangeKind::Reshare
            },
            epoch: vault.epoch + 1,
            created,
            slip39,
            policy,
            rotation: rotation.as_ref().map(|(keys, creds)| Rotation {
                public: keys.public(),
                credentials: creds.clone(),
                based_on: credentials_state(vault),
                new_signature: zero,
            }),
            signature: zero,
        };
        let msg = signed_bytes(vault, &p);
        p.signature = current.signing_key().sign(&msg);
        if let (Some(r), Some((keys, _))) = (&mut p.rotation, rotation) {
            r.new_signature = keys.signing_key().sign(&msg);
        }
        Ok(p)
    }

    /// The public key the new shares' tokens are signed with.
    pub fn public_key<'a>(&'a self, vault: &'a Vault) -> &'a VerifyingKey {
        match &self.rotation {
            Some(r) => &r.public.ed25519,
            None => vault.public_key(),
        }
    }

    /// Check both signatures against `vault` (the record must belong to this manifest).
    pub fn verify(&self, vault: &Vault) -> Result<(), PendingInvalid> {
        if (self.kind == ChangeKind::RotateMaster) != self.rotation.is_some() {
            return Err(PendingInvalid::KindMismatch);
        }
        if self.epoch != vault.epoch.wrapping_add(1) {
            return Err(PendingInvalid::Epoch {
                record: self.epoch,
                vault: vault.epoch,
            });
        }
        self.policy.validate().map_err(PendingInvalid::Policy)?;
        let msg = signed_bytes(vault, self);
        vault
            .public_key()
            .verify_strict(&msg, &self.signature)
            .map_err(|_| PendingInvalid::CurrentSignature)?;
        if let Some(r) = &self.rotation {
            r.public
                .ed25519
                .verify_strict(&msg, &r.new_signature)
                .map_err(|_| PendingInvalid::NewSignature)?;
        }
        Ok(())
    }
}

/// Why a pending-change record does not belong to its vault or does not verify.
#[derive(Debug, PartialEq, Eq)]
pub enum PendingInvalid {
    /// A rotation without new keys, or a reshare with them.
    KindMismatch,
    /// The record is for another epoch than the vault's next one.
    Epoch {
        /// The epoch the record's new shares carry.
        record: u32,
        /// The vault's current epoch.
        vault: u32,
    },
    /// The new policy is not a valid policy.
    Policy(PolicyError),
    /// The current master key's signature over the record does not verify.
    CurrentSignature,
    /// The new master key's signature over the record does not verify.
    NewSignature,
}

impl fmt::Display for PendingInvalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PendingInvalid::KindMismatch => f.write_str("its kind does not match its content"),
            PendingInvalid::Epoch { record, vault } => write!(
                f,
                "it is for epoch {record}, but the vault is at epoch {vault}"
            ),
            PendingInvalid::Policy(e) => e.fmt(f),
            PendingInvalid::CurrentSignature => {
                f.write_str("the current key's signature does not verify")
            }
            PendingInvalid::NewSignature => f.write_str("the new key's signature does not verify"),
        }
    }
}

impl std::error::Error for PendingInvalid {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            PendingInvalid::Policy(e) => Some(e),
            _ => None,
        }
    }
}

impl Vault {
    /// The vault as it will be once the pending change is confirmed (new epoch, parameters,
    /// policy and, for a rotation, keys and credentials), for checking the new shares against.
    /// Its manifest signature is the current one, so it does not verify: never write it.
    pub fn pending_view(&self) -> Option<Vault> {
        Some(self.view_with(self.pending_change.as_ref()?))
    }

    /// The vault as it will be once `p` is confirmed (see [`Vault::pending_view`]), for checking
    /// new shares before the change is recorded. Never write it.
    pub fn view_with(&self, p: &PendingChange) -> Vault {
        let mut v = self.clone();
        v.pending_change = None;
        v.epoch = p.epoch;
        v.epoch_started = p.created;
        v.slip39 = p.slip39.clone();
        v.policy = p.policy.clone();
        if let Some(r) = &p.rotation {
            v.public = r.public.clone();
            v.credentials.replace_entries(r.credentials.clone());
        }
        v
    }

    /// Record `pending` as the change waiting for confirmation. Refuses when a change is
    /// already waiting, when `pending` was not made from this vault's manifest (it changed
    /// meanwhile), and, for a master rotation, when the credentials changed after they were
    /// resealed.
    pub fn propose_change(&mut self, pending: PendingChange) -> Result<(), ChangeError> {
        if let Some(p) = &self.pending_change {
            return Err(ChangeError::AlreadyPending {
                kind: p.kind,
                created: p.created,
            });
        }
        pending
            .verify(self)
            .map_err(|_| ChangeError::ChangedMeanwhile)?;
        if let Some(r) = &pending.rotation
            && credentials_state(self) != r.based_on
        {
            return Err(ChangeError::CredentialsChanged);
        }
        self.pending_change = Some(pending);
        Ok(())
    }

    /// An unsigned copy with `policy` in place of the current one, for checking the new
    /// shares of an extended group before the policy is re-signed. Never write it.
    pub fn policy_view(&self, policy: Policy) -> Vault {
        let mut v = self.clone();
        v.policy = policy;
        v
    }

    /// Apply the pending change (`expected` is the record the caller checked the shares
    /// against): new epoch starting `now`, new parameters and policy, for a rotation the new
    /// keys and resealed credentials; the manifest is re-signed with `keys` (the new quorum's)
    /// and, if the credential ratification verified before, it is re-signed over the same
    /// entries (resealed digests for a rotation).
    pub fn confirm_pending(
        &mut self,
        expected: &PendingChange,
        keys: &DerivedKeys,
        seen: Option<Seen>,
        now: u64,
    ) -> Result<(), ChangeError> {
        let p = match &self.pending_change {
            None => return Err(ChangeError::NothingPending),
            Some(p) if p != expected => return Err(ChangeError::ChangedMeanwhile),
            Some(p) => p.clone(),
        };
        let expected_key = *p.public_key(self);
        if keys.verifying_key() != expected_key {
            return Err(ChangeError::WrongKey {
                expected: fingerprint(&expected_key),
                given: fingerprint(&keys.verifying_key()),
            });
        }
        let assessment = self.assess(seen);
        let was_valid = matches!(assessment.record, RecordState::Valid { .. });
        let mut listed = self.ratified_list();
        if let Some(r) = &p.rotation {
            if credentials_state(self) != r.based_on {
                return Err(ChangeError::CredentialsChanged);
            }
            let tampered = assessment.tamper_lines(self);
            if !tampered.is_empty() {
                return Err(ChangeError::Tampered(tampered));
            }
            // Each ratified entry is listed again with its resealed digest.
            for (name, digest) in &mut listed {
                let old = self.credentials.get(name).map(|c| c.digest(&self.vault_id));
                let new = r.credentials.iter().find(|c| c.name == *name);
                if let (Some(old), Some(new)) = (old, new)
                    && old == *digest
                {
                    *digest = new.digest(&self.vault_id);
                }
            }
            self.public = r.public.clone();
            self.credentials.replace_entries(r.credentials.clone());
            self.master_rotated = Some(now);
        }
        self.pending_change = None;
        self.epoch = p.epoch;
        self.epoch_started = now;
        self.slip39 = p.slip39;
        self.policy = p.policy;
        self.sign(keys);
        self.resign_anchor(keys);
        if was_valid {
            self.sign_ratification(keys, listed, seen, now);
        }
        Ok(())
    }

    /// Drop the pending change (the manifest does not cover it, so no key is needed).
    pub fn cancel_pending(&mut self, expected: &PendingChange) -> Result<(), ChangeError> {
        match &self.pending_change {
            None => Err(ChangeError::NothingPending),
            Some(p) if p != expected => Err(ChangeError::ChangedMeanwhile),
            Some(_) => {
                self.pending_change = None;
                Ok(())
            }
        }
    }

    /// Re-sign the manifest after a policy change with the same key (`extend`), keeping the
    /// credential ratification valid over the same entries if it verified before.
    pub fn resign_policy(
        &mut self,
        keys: &DerivedKeys,
        policy: Policy,
        seen: Option<Seen>,
        now: u64,
    ) {
        let was_valid = matches!(self.assess(seen).record, RecordState::Valid { .. });
        let listed = self.ratified_list();
        self.policy = policy;
        self.sign(keys);
        if was_valid {
            self.sign_ratification(keys, listed, seen, now);
        }
    }
}
