//! Drill certificates: a signed JSON record that a quorum reconstructed a vault's master key
//! (who took part, how many shares, which credentials opened, the audit log head), for
//! compliance files. The signature (the vault's Ed25519 key) covers hand-written, length-
//! prefixed canonical bytes re-derived from the parsed fields, never the JSON text
//! (shares-format.md, "Drill certificate"). [`Certificate::render_text`] is the page an officer
//! files; [`verify_certificate`] checks one offline against the vault file, without a quorum.

use std::fmt;
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signature, Signer};
use serde::{Deserialize, Serialize};

use crate::audit::{LogHead, RetiredKey};
use crate::keys::{DerivedKeys, fingerprint, hex, unhex};
use crate::quorum::{Member, Unlocked};
use crate::timefmt;
use crate::vault::Vault;
use crate::vault::store::{self, StoreError};
use crate::wire;

/// Longest string field of a certificate, in bytes (a failure reason is cut to this).
pub const MAX_FIELD_LEN: usize = 1024;

/// The largest certificate file read (`verify-certificate`): 1 MiB, room for hundreds of
/// custodians and credentials at [`MAX_FIELD_LEN`] each.
pub const MAX_CERTIFICATE_BYTES: u64 = 1024 * 1024;

/// One custodian who presented a share.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Participant {
    /// The custodian's name, as the vault (or the share token) records it.
    pub custodian: String,
    /// The name of the share group the custodian's share belongs to.
    pub group: String,
    /// 1-based member number within the group.
    pub member: u8,
    /// token, share file, words or image.
    pub input: String,
}

/// What happened to one credential during the drill.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CredentialResult {
    /// The credential's name in the vault.
    pub name: String,
    /// `opened`, or `failed: <reason>`.
    pub result: String,
}

/// A drill certificate. Build with [`Certificate::issue`]; read with [`verify_certificate`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Certificate {
    /// The drilled vault's random id (16 bytes; 32 hex digits in the JSON).
    pub vault_id: [u8; wire::VAULT_ID_LEN],
    /// The spoken fingerprint of the vault's Ed25519 key, as on the custodians' sheets.
    pub fingerprint: String,
    /// The vault's epoch at the drill: which share set (a reshare or master rotation raises it).
    pub epoch: u32,
    /// Unix seconds.
    pub time: u64,
    /// Host name of the machine the drill ran on, from the kernel.
    pub host: String,
    /// The custody version that issued the certificate (the crate's package version).
    pub tool_version: String,
    /// How many shares took part in the combination (shares of incomplete groups do not).
    pub shares_used: u16,
    /// Every custodian who presented a share, in the order presented.
    pub participants: Vec<Participant>,
    /// Each credential the drill tried to open, with its outcome.
    pub credentials: Vec<CredentialResult>,
    /// The audit log's head when the certificate was issued (the drill's signed record).
    pub audit_head: LogHead,
    signature: Signature,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct AuditHeadJson {
    seq: u64,
    hash: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CertificateJson {
    format: String,
    vault_id: String,
    fingerprint: String,
    epoch: u32,
    time: String,
    host: String,
    tool_version: String,
    shares_used: u16,
    participants: Vec<Participant>,
    credentials: Vec<CredentialResult>,
    audit_head: AuditHeadJson,
    signature: String,
}

/// Why a certificate could not be issued, written or accepted.
#[derive(Debug)]
pub enum CertError {
    /// Not JSON, or a field is missing, unknown or of the wrong type.
    Syntax(serde_json::Error),
    /// JSON without a `format` field: not a custody certificate.
    NoFormat,
    /// Another document, or a certificate format this build does not read.
    UnknownFormat(String),
    /// A field's value is malformed.
    Field {
        /// The JSON field's name, e.g. `vault_id` or `audit_head.hash`.
        field: &'static str,
        /// What the value should have been, e.g. "expected 64 hex digits".
        problem: String,
    },
    /// The certificate names another vault than the one given.
    WrongVault {
        /// The vault id (hex) and fingerprint the certificate names.
        certificate: String,
        /// The vault id (hex) and fingerprint of the vault file it was checked against.
        vault: String,
    },
    /// The signature does not verify under the vault's key: edited or forged.
    Forged,
    /// The certificate names this vault but a master key it no longer has, and no retired key
    /// the audit log vouches for is that key (the log is missing, or the certificate forged).
    EarlierKeyNotVouched {
        /// The fingerprint the certificate names.
        fingerprint: String,
        /// The certificate's epoch.
        epoch: u32,
    },
    /// `issue` was given keys that are not the vault's.
    WrongKey,
    /// A value is too long to be certified.
    TooLong {
        /// Which part is too long: "header", "lists", "participant", "credential result"
        /// or "share count".
        field: &'static str,
    },
    /// The certificate file (or its `.txt`) already exists.
    Exists(PathBuf),
    /// Writing the certificate's JSON or text file failed.
    Store(StoreError),
}

impl fmt::Display for CertError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CertError::Syntax(e) => write!(
                f,
                "this is not a custody drill certificate ({e}); check that you gave the .json \
                 file, not the .txt page"
            ),
            CertError::NoFormat => write!(
                f,
                "this is not a custody drill certificate (no `format` field); check that you \
                 gave the .json file, not the .txt page"
            ),
            CertError::UnknownFormat(s) => write!(
                f,
                "the certificate has format `{s}`; this custody reads `{}`: use a matching \
                 version of custody",
                wire::CERTIFICATE_FORMAT
            ),
            CertError::Field { field, problem } => write!(
                f,
                "the certificate's `{field}` field is invalid ({problem}): the file was damaged \
                 or edited; do not rely on it"
            ),
            CertError::WrongVault { certificate, vault } => write!(
                f,
                "the certificate is for vault {certificate}, not this vault ({vault}): it \
                 was checked against another vault file, or the certificate was edited"
            ),
            CertError::Forged => write!(
                f,
                "FORGED OR ALTERED: the certificate's signature does not verify under the \
                 vault's key — a field was edited after signing, or it was signed with another \
                 key. Do not rely on it; hold a new drill and report this to the other officers"
            ),
            CertError::EarlierKeyNotVouched { fingerprint, epoch } => write!(
                f,
                "the certificate names this vault, but it is signed by an earlier master key of \
                 this vault (epoch {epoch}, fingerprint {fingerprint}), and the vault's audit \
                 log does not vouch for that key: the master rotation that retired it is \
                 recorded only there. Check the certificate beside the vault's complete audit \
                 log (`<vault>.audit`), or treat it as unverified"
            ),
            CertError::WrongKey => write!(
                f,
                "the keys given to sign the certificate are not this vault's; nothing was \
                 signed (please report this)"
            ),
            CertError::TooLong { field } => write!(
                f,
                "the certificate's {field} is longer than {MAX_FIELD_LEN} bytes (or there are \
                 too many entries); please report this"
            ),
            CertError::Exists(p) => write!(
                f,
                "{} already exists; custody never overwrites a certificate: choose another name",
                p.display()
            ),
            CertError::Store(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for CertError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            CertError::Syntax(e) => Some(e),
            CertError::Store(e) => Some(e),
            _ => None,
        }
    }
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    let b = s.as_bytes();
    out.extend_from_slice(&(b.len() as u16).to_be_bytes());
    out.extend_from_slice(b);
}

fn cut(s: &str) -> String {
    if s.len() <= MAX_FIELD_LEN {
        return s.to_owned();
    }
    let mut end = MAX_FIELD_LEN;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_owned()
}

impl Certificate {
    /// Issue and sign a certificate for a drill on `vault` with the quorum's `keys`.
    /// `members` are the shares presented (`Unlocked::members`), `shares_used` how many took
    /// part in the combination, `credentials` each credential's name and whether it opened,
    /// `audit_head` the head returned by [`crate::audit::Ceremony::succeed`]. Time and host
    /// are taken now, from the clock and the kernel.
    pub fn issue(
        vault: &Vault,
        keys: &DerivedKeys,
        members: &[Member],
        shares_used: usize,
        credentials: &[(String, Result<(), String>)],
        audit_head: LogHead,
        now: u64,
    ) -> Result<Certificate, CertError> {
        let mut c = Certificate {
            vault_id: vault.vault_id(),
            fingerprint: vault.fingerprint(),
            epoch: vault.epoch(),
            time: now,
            host: cut(&crate::audit::host_name()),
            tool_version: env!("CARGO_PKG_VERSION").to_owned(),
            shares_used: u16::try_from(shares_used).map_err(|_| CertError::TooLong {
                field: "share count",
            })?,
            participants: members
                .iter()
                .map(|m| Participant {
                    custodian: m.custodian.clone(),
                    group: m.group.clone(),
                    member: m.member_number,
                    input: m.source.as_str().to_owned(),
                })
                .collect(),
            credentials: credentials
                .iter()
                .map(|(name, r)| CredentialResult {
                    name: cut(name),
                    result: match r {
                        Ok(()) => "opened".to_owned(),
                        Err(e) => cut(&format!("failed: {e}")),
                    },
                })
                .collect(),
            audit_head,
            signature: Signature::from_bytes(&[0; 64]),
        };
        c.check_lengths()?;
        if keys.verifying_key() != *vault.public_key() {
            return Err(CertError::WrongKey);
        }
        c.signature = keys.signing_key().sign(&c.canonical_bytes());
        Ok(c)
    }

    /// [`Certificate::issue`] from a successful quorum: every presented share is a participant;
    /// shares of groups left incomplete did not take part in the combination.
    pub fn from_unlocked(
        vault: &Vault,
        unlocked: &Unlocked,
        credentials: &[(String, Result<(), String>)],
        audit_head: LogHead,
        now: u64,
    ) -> Result<Certificate, CertError> {
        let used = unlocked
            .members
            .iter()
            .filter(|m| !unlocked.incomplete_groups.contains(&m.group))
            .count()
            // Copies of one group's share count as the one share they are.
            - unlocked
                .counted_once
                .iter()
                .map(|c| c.holders.len() - 1)
                .sum::<usize>();
        Certificate::issue(
            vault,
            &unlocked.keys,
            &unlocked.members,
            used,
            credentials,
            audit_head,
            now,
        )
    }

    fn check_lengths(&self) -> Result<(), CertError> {
        let long = |s: &str| s.len() > MAX_FIELD_LEN;
        if long(&self.host) || long(&self.tool_version) || long(&self.fingerprint) {
            return Err(CertError::TooLong { field: "header" });
        }
        if self.participants.len() > usize::from(u16::MAX)
            || self.credentials.len() > usize::from(u16::MAX)
        {
            return Err(CertError::TooLong { field: "lists" });
        }
        for p in &self.participants {
            if long(&p.custodian) || long(&p.group) || long(&p.input) {
                return Err(CertError::TooLong {
                    field: "participant",
                });
            }
        }
        for c in &self.credentials {
            if long(&c.name) || long(&c.result) {
                return Err(CertError::TooLong {
                    field: "credential result",
                });
            }
        }
        Ok(())
    }

    /// The bytes the signature covers (shares-format.md, "Drill certificate"):
    /// DOMAIN || str16(format) || vault id || str16(fingerprint) || u32 epoch || u64 time ||
    /// str16(host) || str16(tool version) || u16 shares used || u16 participant count ||
    /// per participant: str16(custodian) || str16(group) || u8 member || str16(input) ||
    /// u16 credential count || per credential: str16(name) || str16(result) ||
    /// u64 audit seq || 32-byte audit hash.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        let mut out = wire::CERTIFICATE_SIGNATURE_DOMAIN.to_vec();
        put_str(&mut out, wire::CERTIFICATE_FORMAT);
        out.extend_from_slice(&self.vault_id);
        put_str(&mut out, &self.fingerprint);
        out.extend_from_slice(&self.epoch.to_be_bytes());
        out.extend_from_slice(&self.time.to_be_bytes());
        put_str(&mut out, &self.host);
        put_str(&mut out, &self.tool_version);
        out.extend_from_slice(&self.shares_used.to_be_bytes());
        out.extend_from_slice(&(self.participants.len() as u16).to_be_bytes());
        for p in &self.participants {
            put_str(&mut out, &p.custodian);
            put_str(&mut out, &p.group);
            out.push(p.member);
            put_str(&mut out, &p.input);
        }
        out.extend_from_slice(&(self.credentials.len() as u16).to_be_bytes());
        for c in &self.credentials {
            put_str(&mut out, &c.name);
            put_str(&mut out, &c.result);
        }
        out.extend_from_slice(&self.audit_head.seq.to_be_bytes());
        out.extend_from_slice(&self.audit_head.hash);
        out
    }

    /// The vault id as 32 lowercase hex digits, as in the JSON form.
    pub fn vault_id_hex(&self) -> String {
        hex(&self.vault_id)
    }

    /// The JSON file form (pretty-printed, final newline).
    pub fn to_json(&self) -> String {
        let j = CertificateJson {
            format: wire::CERTIFICATE_FORMAT.to_owned(),
            vault_id: self.vault_id_hex(),
            fingerprint: self.fingerprint.clone(),
            epoch: self.epoch,
            time: timefmt::rfc3339(self.time),
            host: self.host.clone(),
            tool_version: self.tool_version.clone(),
            shares_used: self.shares_used,
            participants: self.participants.clone(),
            credentials: self.credentials.clone(),
            audit_head: AuditHeadJson {
                seq: self.audit_head.seq,
                hash: self.audit_head.hash_hex(),
            },
            signature: STANDARD.encode(self.signature.to_bytes()),
        };
        let mut s = serde_json::to_string_pretty(&j).expect("certificate serialises");
        s.push('\n');
        s
    }

    /// Parse the JSON form without checking the signature (use [`verify_certificate`]).
    pub fn parse_unverified(text: &str) -> Result<Certificate, CertError> {
        let loose: serde_json::Value = serde_json::from_str(text).map_err(CertError::Syntax)?;
        match loose.get("format").and_then(|f| f.as_str()) {
            Some(f) if f == wire::CERTIFICATE_FORMAT => {}
            Some(f) => return Err(CertError::UnknownFormat(f.to_owned())),
            None => return Err(CertError::NoFormat),
        }
        let j: CertificateJson = serde_json::from_value(loose).map_err(CertError::Syntax)?;
        let field = |field: &'static str, problem: &str| CertError::Field {
            field,
            problem: problem.to_owned(),
        };
        let vault_id = unhex(&j.vault_id)
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| field("vault_id", "expected 32 hex digits"))?;
        let time = timefmt::parse_rfc3339(&j.time)
            .ok_or_else(|| field("time", "expected an RFC 3339 time"))?;
        let audit_head = LogHead::parse(j.audit_head.seq, &j.audit_head.hash)
            .ok_or_else(|| field("audit_head.hash", "expected 64 hex digits"))?;
        let sig: [u8; 64] = STANDARD
            .decode(&j.signature)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| field("signature", "expected base64 of 64 bytes"))?;
        let c = Certificate {
            vault_id,
            fingerprint: j.fingerprint,
            epoch: j.epoch,
            time,
            host: j.host,
            tool_version: j.tool_version,
            shares_used: j.shares_used,
            participants: j.participants,
            credentials: j.credentials,
            audit_head,
            signature: Signature::from_bytes(&sig),
        };
        c.check_lengths()?;
        Ok(c)
    }

    /// The human-readable page, for the compliance file.
    pub fn render_text(&self) -> String {
        let mut s = String::new();
        let line = |s: &mut String, t: &str| {
            s.push_str(t);
            s.push('\n');
        };
        line(&mut s, "CUSTODY DRILL CERTIFICATE");
        line(&mut s, "=========================");
        line(&mut s, "");
        line(
            &mut s,
            "A quorum of custodians reconstructed this vault's master key in locked memory; the",
        );
        line(
            &mut s,
            "derived key matched the vault's. This page is signed with that key.",
        );
        line(&mut s, "");
        line(&mut s, &format!("Vault id        {}", self.vault_id_hex()));
        line(&mut s, &format!("Fingerprint     {}", self.fingerprint));
        line(&mut s, &format!("Epoch           {}", self.epoch));
        line(
            &mut s,
            &format!("Date            {}", timefmt::rfc3339(self.time)),
        );
        line(&mut s, &format!("Host            {}", self.host));
        line(&mut s, &format!("custody version {}", self.tool_version));
        line(&mut s, &format!("Shares used     {}", self.shares_used));
        line(&mut s, "");
        line(&mut s, "Participants:");
        for p in &self.participants {
            line(
                &mut s,
                &format!(
                    "  - {} (group {}, share {}), presented as {}",
                    p.custodian, p.group, p.member, p.input
                ),
            );
        }
        line(&mut s, "");
        if self.credentials.is_empty() {
            line(&mut s, "Credentials: none opened in this drill.");
        } else {
            line(&mut s, "Credentials:");
            for c in &self.credentials {
                line(&mut s, &format!("  - {}: {}", c.name, c.result));
            }
        }
        line(&mut s, "");
        line(
            &mut s,
            &format!(
                "Audit log head  seq {} sha256 {}",
                self.audit_head.seq,
                self.audit_head.hash_hex()
            ),
        );
        line(&mut s, "");
        line(
            &mut s,
            &format!(
                "Signature (Ed25519, base64): {}",
                STANDARD.encode(self.signature.to_bytes())
            ),
        );
        line(&mut s, "");
        line(
            &mut s,
            "Verify (offline, no quorum): custody verify-certificate CERT.json --vault VAULT",
        );
        line(
            &mut s,
            "and compare the fingerprint above with the one on the custodians' sheets.",
        );
        s
    }
}

/// Check a certificate's JSON against `vault`: format, fields, the signature under the vault's
/// key over the canonical bytes, and that it names this vault (id and fingerprint).
pub fn verify_certificate(json: &str, vault: &Vault) -> Result<Certificate, CertError> {
    let c = Certificate::parse_unverified(json)?;
    let ours = c.vault_id == vault.vault_id() && c.fingerprint == vault.fingerprint();
    let wrong_vault = || CertError::WrongVault {
        certificate: format!("{} (fingerprint {})", c.vault_id_hex(), c.fingerprint),
        vault: format!(
            "{} (fingerprint {})",
            vault.vault_id_hex(),
            fingerprint(vault.public_key())
        ),
    };
    if vault
        .public_key()
        .verify_strict(&c.canonical_bytes(), &c.signature)
        .is_err()
    {
        return Err(if ours {
            CertError::Forged
        } else {
            wrong_vault()
        });
    }
    if !ours {
        return Err(wrong_vault());
    }
    Ok(c)
}

/// Which key a valid certificate was signed with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SignedBy {
    /// The vault's current master key.
    Current,
    /// A master key the vault retired by a rotation the audit log records.
    Retired(Box<RetiredKey>),
}

/// [`verify_certificate`], also accepting a certificate signed before a master rotation: if
/// it names this vault and one of `retired` (the keys the audit log says this vault retired,
/// [`crate::audit::AuditReport::retired_keys`]) has its fingerprint and verifies its
/// signature, it is valid and [`SignedBy::Retired`] says so.
pub fn verify_certificate_across_rotations(
    json: &str,
    vault: &Vault,
    retired: &[RetiredKey],
) -> Result<(Certificate, SignedBy), CertError> {
    match verify_certificate(json, vault) {
        Ok(c) => Ok((c, SignedBy::Current)),
        Err(e @ (CertError::WrongVault { .. } | CertError::Forged)) => {
            let c = Certificate::parse_unverified(json)?;
            if c.vault_id != vault.vault_id() || c.fingerprint == vault.fingerprint() {
                // Another vault, or this key's signature that does not verify.
                return Err(e);
            }
            let Some(old) = retired
                .iter()
                .find(|r| fingerprint(&r.key) == c.fingerprint)
            else {
                return Err(CertError::EarlierKeyNotVouched {
                    fingerprint: c.fingerprint,
                    epoch: c.epoch,
                });
            };
            if old
                .key
                .verify_strict(&c.canonical_bytes(), &c.signature)
                .is_err()
            {
                return Err(CertError::Forged);
            }
            Ok((c, SignedBy::Retired(Box::new(old.clone()))))
        }
        Err(e) => Err(e),
    }
}

/// The `.txt` companion of a certificate file: `FILE` with `.txt` appended.
pub fn text_path(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_os_string();
    s.push(".txt");
    PathBuf::from(s)
}

/// Check, before a ceremony, that [`write_certificate`] can write `path` and `path.txt`: neither
/// exists, and the folder exists and is writable. (A drill that passes and is recorded but
/// then cannot write its certificate is what this avoids; a full disk can still stop it.)
pub fn check_destination(path: &Path) -> Result<(), CertError> {
    for p in [path.to_path_buf(), text_path(path)] {
        if p.symlink_metadata().is_ok() {
            return Err(CertError::Exists(p));
        }
    }
    let folder = match path.parent() {
        Some(f) if !f.as_os_str().is_empty() => f,
        _ => Path::new("."),
    };
    rustix::fs::access(
        folder,
        rustix::fs::Access::WRITE_OK | rustix::fs::Access::EXEC_OK,
    )
    .map_err(|e| {
        CertError::Store(StoreError::Write {
            path: path.to_path_buf(),
            source: e.into(),
        })
    })
}

/// Write `path` (JSON) and `path.txt` (the text page), refusing to overwrite either. Returns
/// the two paths.
pub fn write_certificate(path: &Path, cert: &Certificate) -> Result<(PathBuf, PathBuf), CertError> {
    let txt = text_path(path);
    for p in [path, txt.as_path()] {
        if p.symlink_metadata().is_ok() {
            return Err(CertError::Exists(p.to_path_buf()));
        }
    }
    let map = |e: StoreError| match e {
        StoreError::Exists(p) => CertError::Exists(p),
        e => CertError::Store(e),
    };
    store::create_new(path, cert.to_json().as_bytes(), 0o644).map_err(map)?;
    if let Err(e) = store::create_new(&txt, cert.render_text().as_bytes(), 0o644) {
        let _ = std::fs::remove_file(path);
        return Err(map(e));
    }
    Ok((path.to_path_buf(), txt))
}
