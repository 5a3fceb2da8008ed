//! The vault's JSON file form: parsing with every field checked, and writing. The JSON is a
//! convenience for people and tools; the signature covers the canonical manifest bytes.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signature, VerifyingKey};
use serde::{Deserialize, Serialize};

use super::access;
use super::audit_anchor::AuditAnchor;
use super::change::{ChangeKind, PendingChange, Rotation};
use super::credential::{self, Credential, FieldName, Pending, Scope};
use super::credential_set::{CredentialSet, Malformed};
use super::hosts;
use super::ratify::Ratification;
use super::{Slip39Params, Vault, VaultError};
use crate::keys::{PublicKeys, hex, unhex};
use crate::policy::Policy;
use crate::timefmt;
use crate::wire;

/// The `slip39` object of the vault file and of a pending change.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Slip39Json {
    pub(super) identifier: u16,
    pub(super) extendable: bool,
    pub(super) iteration_exponent: u8,
    pub(super) passphrase: bool,
}

impl From<&Slip39Params> for Slip39Json {
    fn from(p: &Slip39Params) -> Slip39Json {
        Slip39Json {
            identifier: p.identifier,
            extendable: p.extendable,
            iteration_exponent: p.iteration_exponent,
            passphrase: p.passphrase,
        }
    }
}

impl From<&Slip39Json> for Slip39Params {
    fn from(j: &Slip39Json) -> Slip39Params {
        Slip39Params {
            identifier: j.identifier,
            extendable: j.extendable,
            iteration_exponent: j.iteration_exponent,
            passphrase: j.passphrase,
        }
    }
}

/// The vault file. Read with `C` and `P` as [`serde_json::Value`] (entries and the pending
/// change are parsed on their own, so that a bad entry is reported, not fatal); written with
/// [`EntryOut`] and [`PendingJson`], so that every object's fields come out in the order of
/// the tables in shares-format.md (a `Value` would sort them).
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct VaultJson<
    C = serde_json::Value,
    P = serde_json::Value,
    A = serde_json::Value,
    H = serde_json::Value,
> {
    format: String,
    vault_id: String,
    created: String,
    epoch: u32,
    epoch_started: String,
    /// Present once a rotate-master was confirmed (covered by the manifest signature).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    master_rotated: Option<String>,
    fingerprint: String,
    ed25519_public_key: String,
    age_recipient: String,
    slip39: Slip39Json,
    policy: Policy,
    manifest_signature: String,
    /// Absent in vaults written before credentials existed; read as an empty set.
    #[serde(default)]
    credentials: Option<CredentialsJson<C>>,
    /// The agent access policy (see `access/`); absent when the vault has none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    agent_access: Option<A>,
    /// The known hosts (see `hosts/`); absent when the vault has none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    known_hosts: Option<H>,
    /// A reshare or rotate-master waiting for `custody confirm` (see `change.rs`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pending_change: Option<P>,
    /// The audit head signed at the last successful ceremony (see `audit_anchor.rs`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    audit_anchor: Option<AuditAnchorJson>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct AuditAnchorJson {
    seq: u64,
    hash: String,
    at: String,
    signature: String,
}

fn anchor_to_json(a: &AuditAnchor) -> AuditAnchorJson {
    AuditAnchorJson {
        seq: a.seq,
        hash: hex(&a.hash),
        at: timefmt::rfc3339(a.at),
        signature: STANDARD.encode(a.signature_bytes()),
    }
}

fn anchor_from_json(j: AuditAnchorJson) -> Result<AuditAnchor, VaultFileError> {
    let hash: [u8; 32] = unhex(&j.hash)
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| field("audit_anchor.hash", "expected 64 hex digits"))?;
    let at = timefmt::parse_rfc3339(&j.at)
        .ok_or_else(|| field("audit_anchor.at", "expected an RFC 3339 time"))?;
    let sig: [u8; 64] = STANDARD
        .decode(&j.signature)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| field("audit_anchor.signature", "expected base64 of 64 bytes"))?;
    if j.seq == 0 {
        return Err(field("audit_anchor.seq", "records count from 1"));
    }
    Ok(AuditAnchor {
        seq: j.seq,
        hash,
        at,
        signature: Signature::from_bytes(&sig),
    })
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CredentialsJson<E = serde_json::Value> {
    rotation_days: u32,
    revision: u64,
    ratification: Option<RatificationJson>,
    /// Parsed one by one so that a bad entry is reported, not fatal.
    entries: Vec<E>,
}

/// An entry as written: parsed entries field by field in the table's order, malformed ones
/// copied back as they were read.
#[derive(Serialize)]
#[serde(untagged)]
enum EntryOut {
    Parsed(Box<EntryJson>),
    Verbatim(serde_json::Value),
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RatificationJson {
    generation: u64,
    ratified_at: String,
    entries: Vec<RatifiedJson>,
    /// SHA-256 of the ratified agent access policy, when it has rules (see `access/`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    agent_access_sha256: Option<String>,
    /// SHA-256 of the ratified known hosts, when there are any (see `hosts/`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    known_hosts_sha256: Option<String>,
    signature: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RatifiedJson {
    name: String,
    sha256: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct EntryJson {
    name: String,
    exchange: String,
    account: String,
    scope: Vec<String>,
    ip_allowlist: String,
    created: String,
    rotated: String,
    expires: Option<String>,
    note: String,
    fields: Vec<String>,
    sealed: String,
    pending: Option<String>,
}

/// Why a vault file could not be used.
#[derive(Debug)]
pub enum VaultFileError {
    /// Not JSON, or a field is missing, unknown or of the wrong type.
    Syntax(serde_json::Error),
    /// JSON without a `format` field: not a custody vault.
    NoFormat,
    /// The `format` field names a format this build does not read.
    UnknownFormat(String),
    /// A field's value is malformed.
    Field {
        /// The field's JSON path, such as `vault_id` or `credentials.rotation_days`.
        field: &'static str,
        /// What is wrong with its value, in words.
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
            VaultFileError::NoFormat => write!(
                f,
                "the vault file is not a valid custody vault (no `format` field); restore it \
                 from its backup"
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

impl std::error::Error for VaultFileError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            VaultFileError::Syntax(e) => Some(e),
            VaultFileError::Content(e) => Some(e),
            _ => None,
        }
    }
}

fn field(field: &'static str, problem: impl Into<String>) -> VaultFileError {
    VaultFileError::Field {
        field,
        problem: problem.into(),
    }
}

pub(super) fn to_json(v: &Vault) -> String {
    let j: VaultJson<
        EntryOut,
        PendingJson<EntryOut>,
        access::json::AccessOut,
        hosts::json::HostsOut,
    > = VaultJson {
        format: wire::VAULT_FORMAT.to_owned(),
        vault_id: hex(&v.vault_id),
        created: timefmt::rfc3339(v.created),
        epoch: v.epoch,
        epoch_started: timefmt::rfc3339(v.epoch_started),
        master_rotated: v.master_rotated.map(timefmt::rfc3339),
        fingerprint: v.fingerprint(),
        ed25519_public_key: hex(v.public.ed25519.as_bytes()),
        age_recipient: v.public.age_recipient.clone(),
        slip39: Slip39Json::from(&v.slip39),
        policy: v.policy.clone(),
        manifest_signature: STANDARD.encode(v.signature.to_bytes()),
        credentials: Some(credentials_to_json(&v.credentials)),
        agent_access: access::json::to_json(&v.access),
        known_hosts: hosts::json::to_json(&v.hosts),
        pending_change: v.pending_change.as_ref().map(pending_to_json),
        audit_anchor: v.audit_anchor.as_ref().map(anchor_to_json),
    };
    let mut s = serde_json::to_string_pretty(&j).expect("vault JSON serialises");
    s.push('\n');
    s
}

pub(super) fn from_json(text: &str) -> Result<Vault, VaultFileError> {
    // Read `format` first so that a future format gets its own error, not a syntax error.
    let loose: serde_json::Value = serde_json::from_str(text).map_err(VaultFileError::Syntax)?;
    match loose.get("format").and_then(|f| f.as_str()) {
        Some(f) if f == wire::VAULT_FORMAT => {}
        Some(f) => return Err(VaultFileError::UnknownFormat(f.to_owned())),
        None => return Err(VaultFileError::NoFormat),
    }
    let j: VaultJson = serde_json::from_value(loose).map_err(VaultFileError::Syntax)?;
    let vault_id: [u8; wire::VAULT_ID_LEN] = unhex(&j.vault_id)
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| field("vault_id", "expected 32 hex digits"))?;
    let created = timefmt::parse_rfc3339(&j.created)
        .ok_or_else(|| field("created", "expected an RFC 3339 time"))?;
    let epoch_started = timefmt::parse_rfc3339(&j.epoch_started)
        .ok_or_else(|| field("epoch_started", "expected an RFC 3339 time"))?;
    let master_rotated = j
        .master_rotated
        .as_deref()
        .map(|t| {
            timefmt::parse_rfc3339(t)
                .ok_or_else(|| field("master_rotated", "expected an RFC 3339 time"))
        })
        .transpose()?;
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
        master_rotated,
        public: PublicKeys {
            ed25519,
            age_recipient: j.age_recipient,
        },
        slip39: Slip39Params::from(&j.slip39),
        policy: j.policy,
        credentials: match j.credentials {
            Some(c) => credentials_from_json(c)?,
            None => CredentialSet::default(),
        },
        access: j.agent_access.map_or(
            access::stored::StoredAccess::Absent,
            access::json::from_json,
        ),
        hosts: j
            .known_hosts
            .map_or(hosts::stored::StoredHosts::Absent, hosts::json::from_json),
        pending_change: j.pending_change.map(pending_from_json).transpose()?,
        audit_anchor: j.audit_anchor.map(anchor_from_json).transpose()?,
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
    if let Some(a) = &v.audit_anchor
        && !a.verifies(&v.vault_id, &v.public.ed25519)
    {
        return Err(field(
            "audit_anchor",
            "its signature does not verify under the vault's key: it was edited outside custody",
        ));
    }
    if let Some(p) = &v.pending_change {
        p.verify(&v).map_err(|e| VaultFileError::Field {
            field: "pending_change",
            problem: e.to_string(),
        })?;
    }
    Ok(v)
}

fn entry_to_json(c: &Credential) -> EntryOut {
    EntryOut::Parsed(Box::new(EntryJson {
        name: c.name.clone(),
        exchange: c.exchange.clone(),
        account: c.account.clone(),
        scope: c.scope.iter().map(|s| s.as_str().to_owned()).collect(),
        ip_allowlist: c.ip_allowlist.clone(),
        created: timefmt::rfc3339(c.created),
        rotated: timefmt::rfc3339(c.rotated),
        expires: c.expires.clone(),
        note: c.note.clone(),
        fields: c.fields.iter().map(|f| f.as_str().to_owned()).collect(),
        sealed: c.sealed.clone(),
        pending: c.pending.map(|p| p.as_str().to_owned()),
    }))
}

fn credentials_to_json(set: &CredentialSet) -> CredentialsJson<EntryOut> {
    let mut entries: Vec<EntryOut> = set.entries().iter().map(entry_to_json).collect();
    entries.extend(
        set.malformed()
            .iter()
            .map(|m| EntryOut::Verbatim(m.raw().clone())),
    );
    CredentialsJson {
        rotation_days: set.rotation_days(),
        revision: set.revision(),
        ratification: set.ratification().map(|r| RatificationJson {
            generation: r.generation,
            ratified_at: timefmt::rfc3339(r.ratified_at),
            entries: r
                .entries
                .iter()
                .map(|(name, d)| RatifiedJson {
                    name: name.clone(),
                    sha256: hex(d),
                })
                .collect(),
            agent_access_sha256: r.agent_access.as_ref().map(|d| hex(d)),
            known_hosts_sha256: r.known_hosts.as_ref().map(|d| hex(d)),
            signature: STANDARD.encode(r.signature.to_bytes()),
        }),
        entries,
    }
}

/// One entry from its JSON; the error is the problem to report.
pub(super) fn entry_from_json(raw: &serde_json::Value) -> Result<Credential, String> {
    let j: EntryJson = serde_json::from_value(raw.clone()).map_err(|e| e.to_string())?;
    let mut scope = Vec::new();
    for s in &j.scope {
        scope.push(Scope::parse(s).ok_or_else(|| format!("unknown scope `{s}`"))?);
    }
    if scope.windows(2).any(|w| w[0] >= w[1]) {
        return Err("scopes not in canonical order".into());
    }
    let mut fields = Vec::new();
    for f in &j.fields {
        fields.push(FieldName::parse(f).ok_or_else(|| format!("unknown secret field `{f}`"))?);
    }
    if fields.windows(2).any(|w| w[0] >= w[1]) || fields.is_empty() {
        return Err("field list empty or not in canonical order".into());
    }
    let time = |what: &str, s: &str| {
        timefmt::parse_rfc3339(s).ok_or_else(|| format!("`{what}` is not an RFC 3339 time"))
    };
    let pending = match j.pending.as_deref() {
        None => None,
        Some("added") => Some(Pending::Added),
        Some("rotated") => Some(Pending::Rotated),
        Some(p) => return Err(format!("unknown pending state `{p}`")),
    };
    if !j.sealed.starts_with(wire::AGE_ARMOR_BEGIN) {
        return Err("`sealed` is not an armored age ciphertext".into());
    }
    let c = Credential {
        created: time("created", &j.created)?,
        rotated: time("rotated", &j.rotated)?,
        name: j.name,
        exchange: j.exchange,
        account: j.account,
        scope,
        ip_allowlist: j.ip_allowlist,
        expires: j.expires,
        note: j.note,
        fields,
        sealed: j.sealed,
        pending,
    };
    c.validate().map_err(|e| e.to_string())?;
    Ok(c)
}

fn credentials_from_json(j: CredentialsJson) -> Result<CredentialSet, VaultFileError> {
    if j.rotation_days == 0 {
        return Err(field("credentials.rotation_days", "must be at least 1"));
    }
    // A damaged record keeps its place but can never verify (zero signature).
    let ratification = j.ratification.map(|r| {
        let signature = STANDARD
            .decode(&r.signature)
            .ok()
            .and_then(|b| <[u8; 64]>::try_from(b).ok())
            .unwrap_or([0; 64]);
        Ratification {
            generation: r.generation,
            ratified_at: timefmt::parse_rfc3339(&r.ratified_at).unwrap_or(0),
            entries: r
                .entries
                .into_iter()
                .map(|e| {
                    let d = unhex(&e.sha256)
                        .and_then(|b| <[u8; 32]>::try_from(b).ok())
                        .unwrap_or([0; 32]);
                    (e.name, d)
                })
                .collect(),
            agent_access: r.agent_access_sha256.map(|d| {
                unhex(&d)
                    .and_then(|b| <[u8; 32]>::try_from(b).ok())
                    .unwrap_or([0; 32])
            }),
            known_hosts: r.known_hosts_sha256.map(|d| {
                unhex(&d)
                    .and_then(|b| <[u8; 32]>::try_from(b).ok())
                    .unwrap_or([0; 32])
            }),
            signature: Signature::from_bytes(&signature),
        }
    });
    let mut set = CredentialSet::new(j.rotation_days, j.revision, ratification);
    // Environment-variable prefixes taken so far (names must not collide there).
    let mut prefixes: std::collections::HashMap<String, String> = std::collections::HashMap::new();
    for (i, raw) in j.entries.into_iter().enumerate() {
        let name = raw
            .get("name")
            .and_then(|n| n.as_str())
            .filter(|n| credential::check_name(n).is_ok())
            .map(str::to_owned)
            .unwrap_or_else(|| format!("#{}", i + 1));
        let parsed = entry_from_json(&raw).and_then(|c| {
            match prefixes.get(&credential::env_prefix(&c.name)) {
                Some(other) => Err(format!("its name clashes with `{other}`")),
                None => Ok(c),
            }
        });
        match parsed {
            Ok(c) => {
                prefixes.insert(credential::env_prefix(&c.name), c.name.clone());
                set.push_loaded(c)
            }
            Err(problem) => set.push_malformed(Malformed::new(name, problem, raw)),
        }
    }
    Ok(set)
}

// --- The pending change's JSON form ---------------------------------------------------------------------------

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RotationJson<E = serde_json::Value> {
    ed25519_public_key: String,
    fingerprint: String,
    age_recipient: String,
    credentials_based_on: String,
    credentials: Vec<E>,
    new_key_signature: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PendingJson<E = serde_json::Value> {
    kind: String,
    epoch: u32,
    created: String,
    slip39: Slip39Json,
    policy: Policy,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    rotation: Option<RotationJson<E>>,
    signature: String,
}

fn bad_pending(problem: impl Into<String>) -> VaultFileError {
    VaultFileError::Field {
        field: "pending_change",
        problem: problem.into(),
    }
}

fn sig_from(s: &str, what: &str) -> Result<Signature, VaultFileError> {
    let b: [u8; 64] = STANDARD
        .decode(s)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| bad_pending(format!("{what}: expected base64 of 64 bytes")))?;
    Ok(Signature::from_bytes(&b))
}

/// The JSON form of a pending change.
fn pending_to_json(p: &PendingChange) -> PendingJson<EntryOut> {
    PendingJson {
        kind: p.kind.as_str().to_owned(),
        epoch: p.epoch,
        created: timefmt::rfc3339(p.created),
        slip39: Slip39Json::from(&p.slip39),
        policy: p.policy.clone(),
        rotation: p.rotation.as_ref().map(|r| RotationJson {
            ed25519_public_key: hex(r.public.ed25519.as_bytes()),
            fingerprint: r.public.fingerprint(),
            age_recipient: r.public.age_recipient.clone(),
            credentials_based_on: hex(&r.based_on),
            credentials: r.credentials.iter().map(entry_to_json).collect(),
            new_key_signature: STANDARD.encode(r.new_signature.to_bytes()),
        }),
        signature: STANDARD.encode(p.signature.to_bytes()),
    }
}

/// Parse a pending change strictly (every field checked; signatures are checked by
/// [`PendingChange::verify`] once the vault around it is known).
pub(super) fn pending_from_json(raw: serde_json::Value) -> Result<PendingChange, VaultFileError> {
    let j: PendingJson = serde_json::from_value(raw).map_err(|e| bad_pending(e.to_string()))?;
    let kind = match j.kind.as_str() {
        "reshare" => ChangeKind::Reshare,
        "rotate-master" => ChangeKind::RotateMaster,
        k => return Err(bad_pending(format!("unknown kind `{k}`"))),
    };
    let created = timefmt::parse_rfc3339(&j.created)
        .ok_or_else(|| bad_pending("`created` is not RFC 3339"))?;
    if j.slip39.identifier >= 1 << 15 || j.slip39.iteration_exponent > 15 {
        return Err(bad_pending(
            "SLIP-39 identifier or iteration exponent out of range",
        ));
    }
    let rotation = match j.rotation {
        None => None,
        Some(r) => {
            let pk: [u8; 32] = unhex(&r.ed25519_public_key)
                .and_then(|b| b.try_into().ok())
                .ok_or_else(|| {
                    bad_pending("rotation.ed25519_public_key: expected 64 hex digits")
                })?;
            let ed25519 = VerifyingKey::from_bytes(&pk)
                .map_err(|_| bad_pending("rotation.ed25519_public_key: not a valid Ed25519 key"))?;
            r.age_recipient
                .parse::<age::x25519::Recipient>()
                .map_err(|e| bad_pending(format!("rotation.age_recipient: {e}")))?;
            let public = PublicKeys {
                ed25519,
                age_recipient: r.age_recipient,
            };
            if public.fingerprint() != r.fingerprint {
                return Err(bad_pending("rotation.fingerprint is not the new key's"));
            }
            let based_on: [u8; 32] = unhex(&r.credentials_based_on)
                .and_then(|b| b.try_into().ok())
                .ok_or_else(|| {
                    bad_pending("rotation.credentials_based_on: expected 64 hex digits")
                })?;
            let mut credentials = Vec::with_capacity(r.credentials.len());
            for (i, e) in r.credentials.iter().enumerate() {
                credentials.push(
                    entry_from_json(e)
                        .map_err(|p| bad_pending(format!("rotation.credentials[{i}]: {p}")))?,
                );
            }
            Some(Rotation {
                public,
                credentials,
                based_on,
                new_signature: sig_from(&r.new_key_signature, "rotation.new_key_signature")?,
            })
        }
    };
    Ok(PendingChange {
        kind,
        epoch: j.epoch,
        created,
        slip39: Slip39Params::from(&j.slip39),
        policy: j.policy,
        rotation,
        signature: sig_from(&j.signature, "signature")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error as _;

    #[test]
    fn syntax_errors_keep_the_parser_error_as_their_cause() {
        let e = from_json("not json").unwrap_err();
        assert!(matches!(e, VaultFileError::Syntax(_)));
        assert!(e.source().unwrap().is::<serde_json::Error>());
        assert!(matches!(
            from_json("{\"vault_id\": \"00\"}"),
            Err(VaultFileError::NoFormat)
        ));
        let e = from_json("{\"format\": \"custody-vault/999\"}").unwrap_err();
        assert!(matches!(&e, VaultFileError::UnknownFormat(f) if f == "custody-vault/999"));
        assert!(e.source().is_none());
    }
}
