//! The vault's JSON file form: parsing with every field checked, and writing. The JSON is a
//! convenience for people and tools; the signature covers the canonical manifest bytes.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signature, VerifyingKey};
use serde::{Deserialize, Serialize};

use super::{Slip39Params, Vault, VaultError};
use crate::keys::{PublicKeys, hex, unhex};
use crate::policy::Policy;
use crate::timefmt;
use crate::wire;

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Slip39Json {
    identifier: u16,
    extendable: bool,
    iteration_exponent: u8,
    passphrase: bool,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct VaultJson {
    format: String,
    vault_id: String,
    created: String,
    epoch: u32,
    epoch_started: String,
    fingerprint: String,
    ed25519_public_key: String,
    age_recipient: String,
    slip39: Slip39Json,
    policy: Policy,
    manifest_signature: String,
}

/// Why a vault file could not be used.
#[derive(Debug)]
pub enum VaultFileError {
    /// Not JSON, or a field is missing, unknown or of the wrong type.
    Syntax(String),
    /// The `format` field names a format this build does not read.
    UnknownFormat(String),
    /// A field's value is malformed.
    Field {
        field: &'static str,
        problem: String,
    },
    /// The content is well formed but does not verify.
    Content(VaultError),
}

impl fmt::Display for VaultFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VaultFileError::Syntax(e) => write!(
                f,
                "the vault file is not a valid custody vault ({e}); restore it from its backup"
            ),
            VaultFileError::UnknownFormat(s) => write!(
                f,
                "the vault file has format `{s}`; this custody reads `{}`: use a matching version of custody",
                wire::VAULT_FORMAT
            ),
            VaultFileError::Field { field, problem } => write!(
                f,
                "the vault file's `{field}` field is invalid ({problem}); restore the file from its backup"
            ),
            VaultFileError::Content(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for VaultFileError {}

fn field(field: &'static str, problem: impl Into<String>) -> VaultFileError {
    VaultFileError::Field {
        field,
        problem: problem.into(),
    }
}

pub(super) fn to_json(v: &Vault) -> String {
    let j = VaultJson {
        format: wire::VAULT_FORMAT.to_owned(),
        vault_id: hex(&v.vault_id),
        created: timefmt::rfc3339(v.created),
        epoch: v.epoch,
        epoch_started: timefmt::rfc3339(v.epoch_started),
        fingerprint: v.fingerprint(),
        ed25519_public_key: hex(v.public.ed25519.as_bytes()),
        age_recipient: v.public.age_recipient.clone(),
        slip39: Slip39Json {
            identifier: v.slip39.identifier,
            extendable: v.slip39.extendable,
            iteration_exponent: v.slip39.iteration_exponent,
            passphrase: v.slip39.passphrase,
        },
        policy: v.policy.clone(),
        manifest_signature: STANDARD.encode(v.signature.to_bytes()),
    };
    let mut s = serde_json::to_string_pretty(&j).expect("vault JSON serialises");
    s.push('\n');
    s
}

pub(super) fn from_json(text: &str) -> Result<Vault, VaultFileError> {
    // Read `format` first so that a future format gets its own error, not a syntax error.
    let loose: serde_json::Value =
        serde_json::from_str(text).map_err(|e| VaultFileError::Syntax(e.to_string()))?;
    match loose.get("format").and_then(|f| f.as_str()) {
        Some(f) if f == wire::VAULT_FORMAT => {}
        Some(f) => return Err(VaultFileError::UnknownFormat(f.to_owned())),
        None => return Err(VaultFileError::Syntax("no `format` field".into())),
    }
    let j: VaultJson =
        serde_json::from_value(loose).map_err(|e| VaultFileError::Syntax(e.to_string()))?;
    let vault_id: [u8; wire::VAULT_ID_LEN] = unhex(&j.vault_id)
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| field("vault_id", "expected 32 hex digits"))?;
    let created = timefmt::parse_rfc3339(&j.created)
        .ok_or_else(|| field("created", "expected an RFC 3339 time"))?;
    let epoch_started = timefmt::parse_rfc3339(&j.epoch_started)
        .ok_or_else(|| field("epoch_started", "expected an RFC 3339 time"))?;
    let pk: [u8; 32] = unhex(&j.ed25519_public_key)
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| field("ed25519_public_key", "expected 64 hex digits"))?;
    let ed25519 = VerifyingKey::from_bytes(&pk)
        .map_err(|_| field("ed25519_public_key", "not a valid Ed25519 key"))?;
    j.age_recipient
        .parse::<age::x25519::Recipient>()
        .map_err(|e| field("age_recipient", e.to_string()))?;
    let sig: [u8; 64] = STANDARD
        .decode(&j.manifest_signature)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| field("manifest_signature", "expected base64 of 64 bytes"))?;
    if j.slip39.identifier >= 1 << 15 {
        return Err(field("slip39.identifier", "must be below 32768"));
    }
    if j.slip39.iteration_exponent > 15 {
        return Err(field("slip39.iteration_exponent", "must be 0 to 15"));
    }
    if j.epoch == 0 {
        return Err(field("epoch", "epochs start at 1"));
    }
    let v = Vault {
        vault_id,
        created,
        epoch: j.epoch,
        epoch_started,
        public: PublicKeys {
            ed25519,
            age_recipient: j.age_recipient,
        },
        slip39: Slip39Params {
            identifier: j.slip39.identifier,
            extendable: j.slip39.extendable,
            iteration_exponent: j.slip39.iteration_exponent,
            passphrase: j.slip39.passphrase,
        },
        policy: j.policy,
        signature: Signature::from_bytes(&sig),
    };
    let computed = v.fingerprint();
    if j.fingerprint != computed {
        return Err(VaultFileError::Content(VaultError::FingerprintMismatch {
            stored: j.fingerprint,
            computed,
        }));
    }
    v.verify().map_err(VaultFileError::Content)?;
    Ok(v)
}
