//! The known hosts as the vault file holds them: the set a quorum ratified, and the whole set
//! as proposed since without a quorum (absent when nothing is proposed). A stored set that does
//! not parse is kept verbatim, so that no write destroys the evidence of an edit, and trusts
//! nobody.

use std::fmt;

use ed25519_dalek::VerifyingKey;

use crate::custodian_name;
use crate::keys::fingerprint;

/// One known host: a name people recognise, the host's Ed25519 public key, and when it was
/// proposed (Unix seconds).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostEntry {
    /// The host's name (custodian-name rules: NFC, printable, no `/`).
    pub name: String,
    /// The host's long-term public key.
    pub key: VerifyingKey,
    /// When it was added (Unix seconds).
    pub added_at: u64,
}

impl fmt::Display for HostEntry {
    /// `NAME <FINGERPRINT>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} <{}>", self.name, fingerprint(&self.key))
    }
}

/// What the vault file holds under `known_hosts`.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub(crate) enum StoredHosts {
    /// Parsed: the ratified set and the proposal, each sorted by name, names and keys unique.
    Hosts {
        /// What the quorum's ratification record covers (by digest).
        ratified: Vec<HostEntry>,
        /// The whole set as changed without a quorum; `None` when no change awaits one.
        proposed: Option<Vec<HostEntry>>,
    },
    /// Not a valid set: written back exactly as read; trusts nobody.
    Malformed {
        /// The `known_hosts` value as read.
        raw: serde_json::Value,
        /// Why it does not parse.
        problem: String,
    },
    /// No host at all (a vault written before known hosts existed, or one that never had one).
    #[default]
    Absent,
}

/// What a proposal did to the set awaiting ratification.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HostProposal {
    /// A new host, trusted once a quorum ratifies it.
    Added,
    /// The host was already proposed or ratified with this name and key: nothing changed.
    Unchanged,
    /// A ratified host whose removal awaited a quorum is back: the removal was withdrawn and
    /// the ratified entry is trusted again.
    Restored,
    /// A ratified host was removed (it is returned): no longer trusted, at once.
    Removed(HostEntry),
    /// A host no quorum ever ratified was removed (it is returned; it was never trusted).
    Withdrawn(HostEntry),
}

/// Why a host cannot be added.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProposeHostError {
    /// Another host has this name (compared ignoring letter case and composition).
    NameTaken {
        /// The host there is.
        existing: Box<HostEntry>,
    },
    /// This key is already known under another name.
    KeyTaken {
        /// The host there is.
        existing: Box<HostEntry>,
    },
    /// The set already holds [`crate::wire::MAX_KNOWN_HOSTS`] hosts.
    Full,
}

impl fmt::Display for ProposeHostError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProposeHostError::NameTaken { existing } => write!(
                f,
                "a known host is already called `{}` (key {}); choose another name, or remove \
                 that host first",
                existing.name,
                fingerprint(&existing.key)
            ),
            ProposeHostError::KeyTaken { existing } => write!(
                f,
                "this key is already known as host `{existing}`; a key is enrolled under one \
                 name only (remove that host first to rename it)"
            ),
            ProposeHostError::Full => write!(
                f,
                "the vault already knows {} hosts, the most it may hold",
                crate::wire::MAX_KNOWN_HOSTS
            ),
        }
    }
}

impl std::error::Error for ProposeHostError {}

fn sort(hosts: &mut [HostEntry]) {
    hosts.sort_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()));
}

impl StoredHosts {
    /// A stored set from its parts: the absent form when it has no host and no proposal.
    pub(crate) fn of(ratified: Vec<HostEntry>, proposed: Option<Vec<HostEntry>>) -> StoredHosts {
        let proposed = proposed.filter(|p| *p != ratified);
        if ratified.is_empty() && proposed.is_none() {
            StoredHosts::Absent
        } else {
            StoredHosts::Hosts { ratified, proposed }
        }
    }

    /// The ratified set (empty when malformed or absent).
    pub(crate) fn ratified(&self) -> &[HostEntry] {
        match self {
            StoredHosts::Hosts { ratified, .. } => ratified,
            _ => &[],
        }
    }

    /// The set as it will be once a quorum ratifies what is proposed.
    pub(crate) fn next(&self) -> &[HostEntry] {
        match self {
            StoredHosts::Hosts {
                proposed: Some(p), ..
            } => p,
            other => other.ratified(),
        }
    }

    /// Propose adding `host` (its name already checked). A ratified host with the same name and
    /// key whose removal is pending is restored as it was ratified.
    pub(crate) fn propose(&mut self, host: HostEntry) -> Result<HostProposal, ProposeHostError> {
        let mut next = self.next().to_vec();
        let key = custodian_name::collision_key(&host.name);
        if let Some(e) = next
            .iter()
            .find(|e| custodian_name::collision_key(&e.name) == key)
        {
            return if e.name == host.name && e.key == host.key {
                Ok(HostProposal::Unchanged)
            } else {
                Err(ProposeHostError::NameTaken {
                    existing: Box::new(e.clone()),
                })
            };
        }
        if let Some(e) = next.iter().find(|e| e.key == host.key) {
            return Err(ProposeHostError::KeyTaken {
                existing: Box::new(e.clone()),
            });
        }
        if next.len() >= crate::wire::MAX_KNOWN_HOSTS {
            return Err(ProposeHostError::Full);
        }
        let ratified = self
            .ratified()
            .iter()
            .find(|r| r.name == host.name && r.key == host.key)
            .cloned();
        let outcome = if ratified.is_some() {
            HostProposal::Restored
        } else {
            HostProposal::Added
        };
        next.push(ratified.unwrap_or(host));
        sort(&mut next);
        *self = StoredHosts::of(self.ratified().to_vec(), Some(next));
        Ok(outcome)
    }

    /// Propose removing the host called `name` (exactly); `None` when no host (ratified or
    /// proposed) has it.
    pub(crate) fn propose_removal(&mut self, name: &str) -> Option<HostProposal> {
        let mut next = self.next().to_vec();
        let i = next.iter().position(|e| e.name == name)?;
        let removed = next.remove(i);
        let ratified = self.ratified().contains(&removed);
        *self = StoredHosts::of(self.ratified().to_vec(), Some(next));
        Some(if ratified {
            HostProposal::Removed(removed)
        } else {
            HostProposal::Withdrawn(removed)
        })
    }

    /// A quorum ratified the proposal: it becomes the ratified set.
    pub(crate) fn ratify(&mut self) {
        if let StoredHosts::Hosts { .. } = self {
            *self = StoredHosts::of(self.next().to_vec(), None);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::SigningKey;

    fn host(name: &str, seed: u8) -> HostEntry {
        HostEntry {
            name: name.into(),
            key: SigningKey::from_bytes(&[seed; 32]).verifying_key(),
            added_at: 1_790_000_000,
        }
    }

    #[test]
    fn adding_then_ratifying_then_removing() {
        let mut s = StoredHosts::Absent;
        assert_eq!(s.propose(host("ops-laptop", 1)), Ok(HostProposal::Added));
        assert_eq!(s.propose(host("agent", 2)), Ok(HostProposal::Added));
        assert!(s.ratified().is_empty());
        assert_eq!(
            s.next().iter().map(|e| e.name.as_str()).collect::<Vec<_>>(),
            ["agent", "ops-laptop"]
        );
        assert_eq!(s.propose(host("agent", 2)), Ok(HostProposal::Unchanged));
        s.ratify();
        assert_eq!(s.ratified().len(), 2);
        assert_eq!(s.next(), s.ratified());
        assert_eq!(
            s.propose_removal("agent"),
            Some(HostProposal::Removed(host("agent", 2)))
        );
        assert_eq!(s.next().len(), 1);
        assert_eq!(s.ratified().len(), 2);
        // Re-adding the removed host withdraws the removal: the ratified entry is back.
        let mut later = host("agent", 2);
        later.added_at += 99;
        assert_eq!(s.propose(later), Ok(HostProposal::Restored));
        assert!(matches!(s, StoredHosts::Hosts { proposed: None, .. }));
        assert_eq!(s.propose_removal("nobody"), None);
    }

    #[test]
    fn names_and_keys_are_unique() {
        let mut s = StoredHosts::Absent;
        s.propose(host("Ops", 1)).unwrap();
        assert_eq!(
            s.propose(host("ops", 3)),
            Err(ProposeHostError::NameTaken {
                existing: Box::new(host("Ops", 1))
            })
        );
        assert_eq!(
            s.propose(host("other", 1)),
            Err(ProposeHostError::KeyTaken {
                existing: Box::new(host("Ops", 1))
            })
        );
        assert_eq!(
            s.propose_removal("Ops"),
            Some(HostProposal::Withdrawn(host("Ops", 1)))
        );
        assert_eq!(s, StoredHosts::Absent);
    }
}
