//! Ratification: the quorum's Ed25519 signature over the ratified credential state (each
//! ratified entry's name and digest, a generation number, the rotation policy), and the
//! assessment of every entry against it: ratified, awaiting ratification (added or rotated
//! without a quorum), or changed outside custody (edited, swapped, deleted, injected).

use std::collections::{HashMap, HashSet};
use std::fmt;

use ed25519_dalek::{Signature, Signer};

use super::access::{AccessError, AccessPolicy};
use super::credential::{Credential, Pending};
use super::seal::{self, SealError};
use super::sidecar::{self, Rollback, Seen};
use super::{Vault, manifest};
use crate::keys::{DerivedKeys, hex};

/// The signed record of what a quorum ratified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ratification {
    /// Increases with every ratification; never reused.
    pub generation: u64,
    /// Unix seconds.
    pub ratified_at: u64,
    /// Ratified entries: name and SHA-256 of canonical bytes, sorted by name.
    pub entries: Vec<(String, [u8; 32])>,
    /// SHA-256 of the canonical bytes of the ratified agent access policy; `None` when it has
    /// no rules (shares-format.md, "Agent access policy").
    pub agent_access: Option<[u8; 32]>,
    /// SHA-256 of the canonical bytes of the ratified known hosts; `None` when there are none
    /// (shares-format.md, "Known hosts").
    pub known_hosts: Option<[u8; 32]>,
    /// The vault key's Ed25519 signature over the ratification manifest (shares-format.md,
    /// "Ratification manifest").
    pub signature: Signature,
}

/// How one entry stands against the ratification record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EntryState {
    /// Covered by the quorum's signature, unchanged since.
    Ratified,
    /// Added or rotated through custody without a quorum; a quorum has not ratified it yet.
    Pending(Pending),
    /// Listed in the signed record, but its content differs and no rotation was recorded.
    Changed,
    /// Not in the signed record, and not recorded as added by custody.
    Unlisted,
    /// The signed record itself does not verify, so nothing can be vouched for.
    Unverified,
}

impl EntryState {
    /// Changed outside custody: a quorum must look before anything uses it.
    pub fn is_tampered(&self) -> bool {
        matches!(self, EntryState::Changed | EntryState::Unlisted)
    }

    /// A short phrase for reports, e.g. "ratified" or "TAMPERED: ..." with what was changed.
    pub fn describe(&self) -> String {
        match self {
            EntryState::Ratified => "ratified".into(),
            EntryState::Pending(p) => format!("unratified ({})", p.as_str()),
            EntryState::Changed => {
                "TAMPERED: changed since the quorum ratified it, not by a rotation through custody"
                    .into()
            }
            EntryState::Unlisted => {
                "TAMPERED: not in the ratified record and not added through custody".into()
            }
            EntryState::Unverified => "unverified (the ratification record does not verify)".into(),
        }
    }
}

/// The state of the ratification record as a whole.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecordState {
    /// No quorum has ratified anything yet.
    Never,
    /// The signature verifies under the vault's key.
    Valid {
        /// The record's generation (see [`Ratification::generation`]).
        generation: u64,
    },
    /// The signature does not verify: the record was edited outside custody.
    Invalid,
}

/// Everything `creds status` reports and `exec` checks, computed from the vault alone (plus
/// the sidecar's numbers). Indices in `entries` match `vault.credentials().entries()`.
#[derive(Clone, Debug)]
pub struct Assessment {
    /// Whether there is a ratification record and whether its signature verifies.
    pub record: RecordState,
    /// How each parsed entry stands, in the vault's entry order.
    pub entries: Vec<EntryState>,
    /// Ratified names with no entry: deleted outside custody.
    pub deleted: Vec<String>,
    /// Entries that do not parse: (name, problem).
    pub malformed: Vec<(String, String)>,
    /// Set when the file's generation or revision is below the sidecar's: an older copy.
    pub rollback: Option<Rollback>,
    /// The agent access policy against the record (the rollback is in `rollback`): the rules
    /// in force and the changes awaiting a quorum, or why it grants nothing.
    pub access: Result<AccessPolicy, AccessError>,
    /// The known hosts' problem when they were changed outside custody (edited or malformed).
    pub hosts_tampered: Option<String>,
}

impl Assessment {
    /// The state of the entry called `name` in `vault` (the vault assessed); `None` if no
    /// parsed entry has that name.
    pub fn state_of(&self, vault: &Vault, name: &str) -> Option<&EntryState> {
        let i = vault.credentials.iter().position(|c| c.name == name)?;
        self.entries.get(i)
    }

    /// Every problem that means the file was changed outside custody, one line each.
    pub fn tamper_lines(&self, vault: &Vault) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(r) = &self.rollback {
            out.push(r.to_string());
        }
        if self.record == RecordState::Invalid {
            out.push(
                "the quorum's ratification record does not verify: it was edited outside custody"
                    .into(),
            );
        }
        for (c, s) in vault.credentials.iter().zip(&self.entries) {
            if s.is_tampered() {
                out.push(format!("credential `{}`: {}", c.name, s.describe()));
            }
        }
        for n in &self.deleted {
            out.push(format!(
                "credential `{n}` was ratified but is missing: deleted outside custody"
            ));
        }
        for (n, p) in &self.malformed {
            out.push(format!("credential `{n}` is malformed ({p})"));
        }
        if let Some(l) = self.access_tamper_line() {
            out.push(l);
        }
        out.extend(self.hosts_tampered.clone());
        out
    }

    /// The agent access policy's problem when it was changed outside custody (an edited or
    /// malformed policy); a record that does not verify is reported on its own line.
    fn access_tamper_line(&self) -> Option<String> {
        match &self.access {
            Err(e @ (AccessError::Tampered { .. } | AccessError::Malformed { .. })) => {
                Some(e.to_string())
            }
            _ => None,
        }
    }

    /// Entries a ratification would cover anew (pending, or all when unverifiable).
    pub fn pending<'v>(&self, vault: &'v Vault) -> Vec<&'v Credential> {
        vault
            .credentials
            .iter()
            .zip(&self.entries)
            .filter(|(_, s)| matches!(s, EntryState::Pending(_) | EntryState::Unverified))
            .map(|(c, _)| c)
            .collect()
    }
}

/// Why a ratification (or a quorum edit) could not be signed.
#[derive(Debug)]
pub enum RatifyError {
    /// Entries were changed outside custody; a quorum does not sign over them.
    Tampered(Vec<String>),
    /// An entry failed its test-open.
    Open(SealError),
    /// The quorum did not agree to sign the entries it was shown; nothing was signed.
    Declined {
        /// How many entries awaited the signature.
        entries: usize,
        /// Why, in the front end's words ("the quorum answered no", "no answer within 10
        /// minutes").
        reason: String,
    },
}

impl fmt::Display for RatifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RatifyError::Tampered(lines) => {
                write!(
                    f,
                    "nothing was ratified; the vault was changed outside custody:"
                )?;
                for l in lines {
                    write!(f, "\n  {l}")?;
                }
                write!(
                    f,
                    "\nRestore the vault from its backup (the `.bak` file beside it) or your copy, or \
                     have a quorum remove the named entries, then ratify again"
                )
            }
            RatifyError::Open(e) => write!(f, "nothing was ratified: {e}"),
            RatifyError::Declined { entries, reason } => write!(
                f,
                "nothing was ratified: {reason}, so the {entries} {} listed {} not signed and \
                 the vault is unchanged",
                if *entries == 1 { "entry" } else { "entries" },
                if *entries == 1 { "was" } else { "were" },
            ),
        }
    }
}

impl std::error::Error for RatifyError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            RatifyError::Open(e) => Some(e),
            _ => None,
        }
    }
}

impl Vault {
    /// Check the ratification signature (independent of the base signature).
    pub fn ratification_verifies(&self) -> bool {
        match self.credentials.ratification() {
            None => true,
            Some(r) => {
                let msg = manifest::ratification_bytes(
                    self,
                    r.generation,
                    r.ratified_at,
                    &r.entries,
                    r.agent_access.as_ref(),
                    r.known_hosts.as_ref(),
                );
                self.public
                    .ed25519
                    .verify_strict(&msg, &r.signature)
                    .is_ok()
            }
        }
    }

    /// The numbers the sidecar compares.
    pub fn seen_numbers(&self) -> Seen {
        Seen {
            generation: self.credentials.generation(),
            revision: self.credentials.revision(),
        }
    }

    /// Assess every entry against the generation sidecar beside the vault file at `path`
    /// (refused when the sidecar is a symbolic link).
    pub fn assess_beside(
        &self,
        path: &std::path::Path,
    ) -> Result<Assessment, super::store::StoreError> {
        Ok(self.assess(sidecar::read(path).map_err(super::store::StoreError::from)?))
    }

    /// Whether there is a ratification record and whether its signature verifies.
    pub fn record_state(&self) -> RecordState {
        match self.credentials.ratification() {
            None => RecordState::Never,
            Some(r) if self.ratification_verifies() => RecordState::Valid {
                generation: r.generation,
            },
            Some(_) => RecordState::Invalid,
        }
    }

    /// Assess every entry; `seen` is the sidecar's record, if any.
    pub fn assess(&self, seen: Option<Seen>) -> Assessment {
        let set = &self.credentials;
        let record = self.record_state();
        let listed: &[(String, [u8; 32])] = match (&record, set.ratification()) {
            (RecordState::Valid { .. }, Some(r)) => &r.entries,
            _ => &[],
        };
        let by_name: HashMap<&str, &[u8; 32]> =
            listed.iter().map(|(n, d)| (n.as_str(), d)).collect();
        let entries = set
            .iter()
            .map(|c| {
                if record == RecordState::Invalid {
                    return EntryState::Unverified;
                }
                match (by_name.get(c.name.as_str()), c.pending) {
                    (Some(d), _) if **d == c.digest(&self.vault_id) => EntryState::Ratified,
                    (Some(_), Some(Pending::Rotated)) => EntryState::Pending(Pending::Rotated),
                    (Some(_), _) => EntryState::Changed,
                    (None, Some(Pending::Added)) => EntryState::Pending(Pending::Added),
                    (None, _) => EntryState::Unlisted,
                }
            })
            .collect();
        let present: HashSet<&str> = set
            .iter()
            .map(|c| c.name.as_str())
            .chain(set.malformed().iter().map(|m| m.name()))
            .collect();
        let deleted = listed
            .iter()
            .filter(|(n, _)| !present.contains(n.as_str()))
            .map(|(n, _)| n.clone())
            .collect();
        let malformed = set
            .malformed()
            .iter()
            .map(|m| (m.name().to_owned(), m.problem().to_owned()))
            .collect();
        Assessment {
            record,
            entries,
            deleted,
            malformed,
            rollback: sidecar::check(self.seen_numbers(), seen),
            access: self.access_against(record),
            hosts_tampered: self.hosts_tamper_line(record),
        }
    }

    /// Sign a new ratification record listing exactly `listed` (name and digest), with a
    /// generation above both this file's and the sidecar's, carrying the current record's
    /// agent access and known-hosts digests forward (call it only when the record verified). Entries whose
    /// current digest is listed lose their `pending` flag.
    pub fn sign_ratification(
        &mut self,
        keys: &DerivedKeys,
        listed: Vec<(String, [u8; 32])>,
        seen: Option<Seen>,
        now: u64,
    ) {
        let access = self.credentials.ratification().and_then(|r| r.agent_access);
        let hosts = self.credentials.ratification().and_then(|r| r.known_hosts);
        self.sign_ratification_covering(keys, listed, access, hosts, seen, now);
    }

    /// [`Vault::sign_ratification`] with the agent access and known-hosts digests given.
    fn sign_ratification_covering(
        &mut self,
        keys: &DerivedKeys,
        mut listed: Vec<(String, [u8; 32])>,
        agent_access: Option<[u8; 32]>,
        known_hosts: Option<[u8; 32]>,
        seen: Option<Seen>,
        now: u64,
    ) {
        listed.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
        listed.dedup_by(|a, b| a.0 == b.0);
        let generation = self
            .credentials
            .generation()
            .max(seen.map_or(0, |s| s.generation))
            + 1;
        let msg = manifest::ratification_bytes(
            self,
            generation,
            now,
            &listed,
            agent_access.as_ref(),
            known_hosts.as_ref(),
        );
        let signature = keys.signing_key().sign(&msg);
        let vault_id = self.vault_id;
        let by_name: HashMap<&str, &[u8; 32]> =
            listed.iter().map(|(n, d)| (n.as_str(), d)).collect();
        for c in self.credentials.entries_mut() {
            if by_name
                .get(c.name.as_str())
                .is_some_and(|d| **d == c.digest(&vault_id))
            {
                c.pending = None;
            }
        }
        self.credentials.set_ratification(Ratification {
            generation,
            ratified_at: now,
            entries: listed,
            agent_access,
            known_hosts,
            signature,
        });
    }

    /// The (name, digest) pairs the current record covers, if it verifies (empty if none).
    pub fn ratified_list(&self) -> Vec<(String, [u8; 32])> {
        match self.credentials.ratification() {
            Some(r) if self.ratification_verifies() => r.entries.clone(),
            _ => Vec::new(),
        }
    }

    /// Ratify every pending entry after test-opening it with the quorum's identity, the
    /// agent access policy as proposed and the known hosts as proposed. Refuses if anything was changed outside custody (a
    /// rollback or an invalid record is resolved by a ratification). Returns the credential
    /// names newly ratified, or `None` when nothing needed signing.
    pub fn ratify(
        &mut self,
        keys: &DerivedKeys,
        seen: Option<Seen>,
        now: u64,
    ) -> Result<Option<Vec<String>>, RatifyError> {
        self.ratify_if(keys, seen, now, || Ok(()))
    }

    /// [`Vault::ratify`], asking `agree` once everything is checked and every entry to sign
    /// has opened, just before signing (not when nothing needs signing). `Err(reason)` from
    /// `agree` signs nothing and changes nothing: [`RatifyError::Declined`].
    pub fn ratify_if(
        &mut self,
        keys: &DerivedKeys,
        seen: Option<Seen>,
        now: u64,
        agree: impl FnOnce() -> Result<(), String>,
    ) -> Result<Option<Vec<String>>, RatifyError> {
        let a = self.assess(seen);
        let mut problems: Vec<String> = Vec::new();
        for (c, s) in self.credentials.iter().zip(&a.entries) {
            if s.is_tampered() {
                problems.push(format!("credential `{}`: {}", c.name, s.describe()));
            }
        }
        for n in &a.deleted {
            problems.push(format!(
                "credential `{n}` was ratified but is missing: deleted outside custody"
            ));
        }
        for (n, p) in &a.malformed {
            problems.push(format!("credential `{n}` is malformed ({p})"));
        }
        problems.extend(a.access_tamper_line());
        problems.extend(a.hosts_tampered.clone());
        if !problems.is_empty() {
            return Err(RatifyError::Tampered(problems));
        }
        let pending_entries = a.pending(self);
        let access_pending = !self.access_to_ratify(a.record).is_empty();
        let hosts_pending = !self.hosts_to_ratify(a.record).is_empty();
        if pending_entries.is_empty()
            && !access_pending
            && !hosts_pending
            && a.rollback.is_none()
            && a.record != RecordState::Invalid
        {
            return Ok(None);
        }
        let mut new_digests = Vec::with_capacity(pending_entries.len());
        for c in &pending_entries {
            seal::open(&self.vault_id, c, keys.age_identity()).map_err(RatifyError::Open)?;
            new_digests.push((c.name.clone(), c.digest(&self.vault_id)));
        }
        agree().map_err(|reason| RatifyError::Declined {
            entries: pending_entries.len(),
            reason,
        })?;
        let pending: Vec<String> = pending_entries.iter().map(|c| c.name.clone()).collect();
        let pending_set: HashSet<&str> = pending.iter().map(String::as_str).collect();
        let mut listed: Vec<(String, [u8; 32])> = self
            .ratified_list()
            .into_iter()
            .filter(|(n, _)| !pending_set.contains(n.as_str()))
            .collect();
        listed.extend(new_digests);
        let access = self.ratify_access();
        let hosts = self.ratify_hosts();
        self.sign_ratification_covering(keys, listed, access, hosts, seen, now);
        Ok(Some(pending))
    }
}

/// Lower-case hex of an entry digest (for reports).
pub fn digest_hex(d: &[u8; 32]) -> String {
    hex(d)
}
