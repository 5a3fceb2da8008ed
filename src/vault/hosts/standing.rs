//! How the stored known hosts stand against the quorum's ratification record: the hosts
//! trusted, the changes awaiting a quorum, or why nobody is trusted (edited outside custody, a
//! record that does not verify, an older vault file put back).

use std::fmt;

use ed25519_dalek::VerifyingKey;

use super::stored::{HostProposal, ProposeHostError, StoredHosts};
use super::{HostEntry, canonical};
use crate::vault::ratify::RecordState;
use crate::vault::{Rollback, Seen, Vault, sidecar};

/// Which change to a host awaits a quorum.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PendingHost {
    /// Added without a quorum: not trusted until ratified.
    Add,
    /// Ratified, then removed without a quorum: no longer trusted; the removal awaits
    /// ratification.
    Remove,
}

/// Where one known host stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HostState {
    /// Ratified by a quorum and unchanged since: trusted.
    Ratified,
    /// A change made without a quorum awaits ratification: not trusted.
    Pending(PendingHost),
    /// The set was edited outside custody (its ratified part is not what the quorum signed):
    /// not trusted.
    Tampered,
    /// Nothing vouches for it (the ratification record does not verify): not trusted.
    Unverified,
}

impl HostState {
    /// Whether a ceremony code signed by this host is trusted.
    pub fn is_trusted(self) -> bool {
        self == HostState::Ratified
    }

    /// The state's name in `custody-known-hosts/1` (`ratified`, `add-pending`,
    /// `removal-pending`, `tampered`, `unverified`).
    pub fn as_str(self) -> &'static str {
        match self {
            HostState::Ratified => "ratified",
            HostState::Pending(PendingHost::Add) => "add-pending",
            HostState::Pending(PendingHost::Remove) => "removal-pending",
            HostState::Tampered => "tampered",
            HostState::Unverified => "unverified",
        }
    }

    /// The state in words, for the text listing.
    pub fn describe(self) -> &'static str {
        match self {
            HostState::Ratified => "ratified, trusted",
            HostState::Pending(PendingHost::Add) => {
                "pending: not trusted until a quorum ratifies it"
            }
            HostState::Pending(PendingHost::Remove) => {
                "removed without a quorum: no longer trusted; the removal awaits ratification"
            }
            HostState::Tampered => "TAMPERED: not trusted",
            HostState::Unverified => "unverified: not trusted",
        }
    }
}

/// One known host and where it stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KnownHost {
    /// The host's name.
    pub name: String,
    /// The host's long-term public key.
    pub key: VerifyingKey,
    /// When it was added (Unix seconds).
    pub added_at: u64,
    /// Where it stands.
    pub state: HostState,
}

/// A change to the known hosts made without a quorum, awaiting (or under) ratification.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HostChange {
    /// A host to trust.
    Added(HostEntry),
    /// A ratified host no longer trusted; the ratification records the removal.
    Removed(HostEntry),
    /// A host a ratification will sign anew because the record does not verify.
    Unverified(HostEntry),
}

impl HostChange {
    /// One line for reports, e.g. "host added: ops-laptop <ABCD-EFGH-IJKL-MNOP>".
    pub fn describe(&self) -> String {
        match self {
            HostChange::Added(h) => format!("host added: {h}"),
            HostChange::Removed(h) => format!("host removed (no longer trusted): {h}"),
            HostChange::Unverified(h) => format!("host unverified: {h}"),
        }
    }
}

/// Why the known hosts trust nobody.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HostsError {
    /// The quorum's ratification record does not verify, so no host is vouched for.
    RecordInvalid,
    /// The ratified hosts are not what the quorum signed: the vault file was edited.
    Tampered {
        /// What was found, in words.
        problem: &'static str,
    },
    /// The stored set does not parse.
    Malformed {
        /// Why, naming the field.
        problem: String,
    },
    /// The vault file is older than one already used here.
    RolledBack(Rollback),
}

impl fmt::Display for HostsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HostsError::RecordInvalid => write!(
                f,
                "the known hosts trust nobody: the quorum's ratification record does not \
                 verify (edited outside custody), so no host is vouched for"
            ),
            HostsError::Tampered { problem } => write!(
                f,
                "the known hosts were changed outside custody ({problem}); they trust nobody"
            ),
            HostsError::Malformed { problem } => write!(
                f,
                "the known hosts in the vault file are malformed ({problem}); they trust nobody"
            ),
            HostsError::RolledBack(r) => {
                write!(f, "{r}; the known hosts of an older copy trust nobody")
            }
        }
    }
}

impl std::error::Error for HostsError {}

/// The changes from `ratified` to `next`, removals then additions, each in name order.
fn changes(ratified: &[HostEntry], next: &[HostEntry]) -> Vec<HostChange> {
    let removed = ratified
        .iter()
        .filter(|r| !next.contains(r))
        .cloned()
        .map(HostChange::Removed);
    let added = next
        .iter()
        .filter(|n| !ratified.contains(n))
        .cloned()
        .map(HostChange::Added);
    removed.chain(added).collect()
}

impl Vault {
    /// The hosts trusted now, and the changes awaiting a quorum, against `record` (no
    /// rollback check).
    pub(crate) fn hosts_against(
        &self,
        record: RecordState,
    ) -> Result<(Vec<HostEntry>, Vec<HostChange>), HostsError> {
        if let StoredHosts::Malformed { problem, .. } = &self.hosts {
            return Err(HostsError::Malformed {
                problem: problem.clone(),
            });
        }
        let (ratified, next) = (self.hosts.ratified(), self.hosts.next());
        let signed = match record {
            // Without any host, there is nothing for a record to vouch for.
            RecordState::Invalid if self.hosts == StoredHosts::Absent => None,
            RecordState::Invalid => return Err(HostsError::RecordInvalid),
            RecordState::Never => None,
            RecordState::Valid { .. } => {
                self.credentials.ratification().and_then(|r| r.known_hosts)
            }
        };
        let stored = canonical::digest(&self.vault_id, ratified);
        if stored != signed {
            return Err(HostsError::Tampered {
                problem: match (signed, stored) {
                    (Some(_), None) => "the ratified hosts were removed",
                    (None, _) => "it has ratified hosts that no quorum signed",
                    _ => "its ratified hosts differ from what the quorum signed",
                },
            });
        }
        let trusted = ratified
            .iter()
            .filter(|r| next.contains(r))
            .cloned()
            .collect();
        Ok((trusted, changes(ratified, next)))
    }

    /// The hosts trusted now: ratified by a quorum, not removed since, checked against the
    /// ratification record and the generation sidecar's numbers `seen`. Refuses, trusting
    /// nobody, when the set was changed outside custody, does not parse, the record does not
    /// verify, or the file is older than one seen here. A vault without hosts gives none.
    pub fn trusted_hosts(&self, seen: Option<Seen>) -> Result<Vec<HostEntry>, HostsError> {
        if let Some(r) = sidecar::check(self.seen_numbers(), seen) {
            return Err(HostsError::RolledBack(r));
        }
        Ok(self.hosts_against(self.record_state())?.0)
    }

    /// The name of the host whose long-term key is `key`, when that host is ratified by a
    /// quorum, not removed since, and the ratification verifies; `None` otherwise (unknown,
    /// pending, tampered, unverified). This vault alone: use [`Vault::trusted_hosts`] with the
    /// sidecar's numbers to refuse an older copy of the file too.
    pub fn ratified_host(&self, key: &VerifyingKey) -> Option<String> {
        let (trusted, _) = self.hosts_against(self.record_state()).ok()?;
        trusted.into_iter().find(|h| h.key == *key).map(|h| h.name)
    }

    /// Every host, ratified and proposed, in name order (a ratified host before a pending
    /// re-addition of the same name), with where it stands. A set that does not parse lists
    /// nothing ([`Vault::hosts_problem`] says why).
    pub fn known_hosts(&self) -> Vec<KnownHost> {
        let ratified = self.hosts.ratified();
        let next = self.hosts.next();
        let uniform = match self.hosts_against(self.record_state()) {
            Ok(_) => None,
            Err(HostsError::RecordInvalid) => Some(HostState::Unverified),
            Err(_) => Some(HostState::Tampered),
        };
        let listed = |h: &HostEntry, state: HostState| KnownHost {
            name: h.name.clone(),
            key: h.key,
            added_at: h.added_at,
            state,
        };
        let mut out: Vec<KnownHost> = ratified
            .iter()
            .map(|r| {
                let state = uniform.unwrap_or(if next.contains(r) {
                    HostState::Ratified
                } else {
                    HostState::Pending(PendingHost::Remove)
                });
                listed(r, state)
            })
            .collect();
        out.extend(
            next.iter()
                .filter(|n| !ratified.contains(n))
                .map(|n| listed(n, HostState::Pending(PendingHost::Add))),
        );
        // Stable: a ratified host comes before a pending one of the same name.
        out.sort_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()));
        out
    }

    /// Why the known hosts trust nobody, if they do not (the sidecar's numbers `seen` check
    /// for an older copy).
    pub fn hosts_problem(&self, seen: Option<Seen>) -> Option<HostsError> {
        self.trusted_hosts(seen).err()
    }

    /// The known hosts' problem when they were changed outside custody (edited or malformed);
    /// a record that does not verify is reported on its own.
    pub(crate) fn hosts_tamper_line(&self, record: RecordState) -> Option<String> {
        match self.hosts_against(record) {
            Err(e @ (HostsError::Tampered { .. } | HostsError::Malformed { .. })) => {
                Some(e.to_string())
            }
            _ => None,
        }
    }

    /// What a ratification would sign of the known hosts, given the record's state: the
    /// pending changes, or, when the record does not verify, every host (as unverified).
    pub(crate) fn hosts_to_ratify(&self, record: RecordState) -> Vec<HostChange> {
        match self.hosts_against(record) {
            Ok((_, pending)) => pending,
            Err(HostsError::RecordInvalid) => self
                .hosts
                .next()
                .iter()
                .cloned()
                .map(HostChange::Unverified)
                .collect(),
            Err(_) => Vec::new(),
        }
    }

    /// The SHA-256 a ratification signs for the set as proposed, and the set made the
    /// ratified one (call only while signing a ratification).
    pub(crate) fn ratify_hosts(&mut self) -> Option<[u8; 32]> {
        self.hosts.ratify();
        canonical::digest(&self.vault_id, self.hosts.ratified())
    }

    /// The set as it will stand once a quorum ratifies what is proposed (empty when the stored
    /// set does not parse).
    pub fn proposed_hosts(&self) -> &[HostEntry] {
        self.hosts.next()
    }

    /// Propose trusting `host` without a quorum (its name must meet the custodian-name rules:
    /// give it through [`crate::custodian_name::admit`]); it is trusted only once a quorum
    /// ratifies it. Refuses a set changed outside custody, so that a proposal never builds on
    /// an edit.
    pub fn propose_host(&mut self, host: HostEntry) -> Result<HostProposal, ProposeHost> {
        self.editable_hosts()?;
        Ok(self.hosts.propose(host)?)
    }

    /// Propose removing the host called `name` without a quorum: it is no longer trusted at
    /// once, and a quorum's ratification records the removal. `Ok(None)` when no host has that
    /// name. Refuses a set changed outside custody.
    pub fn propose_host_removal(&mut self, name: &str) -> Result<Option<HostProposal>, HostsError> {
        self.editable_hosts()?;
        Ok(self.hosts.propose_removal(name))
    }

    fn editable_hosts(&self) -> Result<(), HostsError> {
        match self.hosts_against(self.record_state()) {
            Err(e @ (HostsError::Tampered { .. } | HostsError::Malformed { .. })) => Err(e),
            _ => Ok(()),
        }
    }
}

/// Why [`Vault::propose_host`] changed nothing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProposeHost {
    /// The stored set was changed outside custody.
    Hosts(HostsError),
    /// The host conflicts with one there is, or the set is full.
    Refused(ProposeHostError),
}

impl fmt::Display for ProposeHost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProposeHost::Hosts(e) => e.fmt(f),
            ProposeHost::Refused(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for ProposeHost {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ProposeHost::Hosts(e) => Some(e),
            ProposeHost::Refused(e) => Some(e),
        }
    }
}

impl From<HostsError> for ProposeHost {
    fn from(e: HostsError) -> Self {
        ProposeHost::Hosts(e)
    }
}

impl From<ProposeHostError> for ProposeHost {
    fn from(e: ProposeHostError) -> Self {
        ProposeHost::Refused(e)
    }
}
