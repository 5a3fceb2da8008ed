//! The known hosts' use cases. Without a quorum: [`add`] and [`remove`] propose a change (an
//! added host is trusted only once a quorum ratifies it; a removed one stops being trusted at
//! once), recorded in the audit log; [`list`] shows every host and where it stands. For a
//! ceremony: [`ratified_host`] names the trusted host a key belongs to. Writes go through
//! [`store::update`] (writer lock, re-read, atomic replace); a quorum ratifies with
//! [`crate::ops::ratify`], with the credentials and the agent access policy.

use std::fmt;
use std::path::{Path, PathBuf};

use ed25519_dalek::VerifyingKey;

use crate::audit::{AuditError, AuditLog};
use crate::clock::Clock;
use crate::custodian_name::{self, NameRule};
use crate::host_key::{PublicKeyProblem, parse_public};
use crate::safe_file::{self, FileError, ReadRules};
use crate::vault::Vault;
use crate::vault::hosts::{
    HostEntry, HostProposal, HostsError, KnownHost, ProposeHost, ProposeHostError,
};
use crate::vault::store::{self, OnRollback, StoreError};
use crate::wire;

/// Where a host public key came from, to name it in an error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeySource {
    /// Typed on the command line (or given as text).
    Text,
    /// Read from this file.
    File(PathBuf),
}

impl fmt::Display for KeySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeySource::Text => write!(f, "the host key given"),
            KeySource::File(p) => write!(f, "the host key in {}", p.display()),
        }
    }
}

/// Why a known-hosts operation did not happen. Nothing was written unless the variant says so.
#[derive(Debug)]
pub enum HostsOpError {
    /// The host name breaks the naming rules.
    Name {
        /// The name given.
        name: String,
        /// The rule it breaks.
        rule: NameRule,
    },
    /// The host public key is not one.
    Key {
        /// Where it came from.
        source: KeySource,
        /// What is wrong with it.
        problem: PublicKeyProblem,
    },
    /// The file said to hold the host public key could not be read.
    KeyFile {
        /// The file.
        path: PathBuf,
        /// Why.
        source: FileError,
    },
    /// The host conflicts with a known one, or the set is full.
    Refused(ProposeHostError),
    /// The stored hosts trust nobody (changed outside custody, or not vouched for).
    Hosts(HostsError),
    /// No host (ratified or proposed) has this name.
    NoSuchHost {
        /// The name given.
        name: String,
        /// The names there are.
        hosts: Vec<String>,
    },
    /// The vault could not be read, locked or written.
    Store(StoreError),
    /// The change was written to the vault, but the audit log could not record it.
    NotRecorded {
        /// The change, in words.
        change: String,
        /// Why the log could not take it.
        source: AuditError,
    },
}

impl fmt::Display for HostsOpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HostsOpError::Name { name, rule } => {
                write!(f, "the host name `{name}` cannot be used: {rule}")
            }
            HostsOpError::Key { source, problem } => {
                write!(f, "{source} is not a host public key: {problem}")
            }
            HostsOpError::KeyFile { path, source } => write!(
                f,
                "the host key file {} could not be read: {source}",
                path.display()
            ),
            HostsOpError::Refused(e) => e.fmt(f),
            HostsOpError::Hosts(e) => e.fmt(f),
            HostsOpError::NoSuchHost { name, hosts } => {
                write!(f, "no known host is called `{name}`")?;
                if hosts.is_empty() {
                    write!(f, " (the vault knows no host)")
                } else {
                    write!(f, " (the known hosts are: {})", hosts.join(", "))
                }
            }
            HostsOpError::Store(e) => e.fmt(f),
            HostsOpError::NotRecorded { change, source } => write!(
                f,
                "{change} was written to the vault, but the audit log could not record it: \
                 {source}"
            ),
        }
    }
}

impl std::error::Error for HostsOpError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            HostsOpError::Key { problem, .. } => Some(problem),
            HostsOpError::KeyFile { source, .. } => Some(source),
            HostsOpError::Refused(e) => Some(e),
            HostsOpError::Hosts(e) => Some(e),
            HostsOpError::Store(e) => Some(e),
            HostsOpError::NotRecorded { source, .. } => Some(source),
            HostsOpError::Name { .. } | HostsOpError::NoSuchHost { .. } => None,
        }
    }
}

super::wrap_errors!(HostsOpError,
    ProposeHostError => Refused,
    HostsError => Hosts,
    StoreError => Store,
);

impl From<ProposeHost> for HostsOpError {
    fn from(e: ProposeHost) -> Self {
        match e {
            ProposeHost::Hosts(e) => HostsOpError::Hosts(e),
            ProposeHost::Refused(e) => HostsOpError::Refused(e),
        }
    }
}

/// A host public key from `given`: the `custody-host:` text itself, or the path of a file
/// holding it (at most [`wire::MAX_HOST_KEY_FILE_BYTES`]; `#` comment lines and blank lines
/// are skipped, so the output of `custody host-key show` serves). Anything starting with
/// `custody-host` is taken as text, never as a file name.
pub fn read_key(given: &str) -> Result<VerifyingKey, HostsOpError> {
    if given.trim_start().starts_with("custody-host") {
        return parse_public(given).map_err(|problem| HostsOpError::Key {
            source: KeySource::Text,
            problem,
        });
    }
    let path = PathBuf::from(given);
    let bytes = safe_file::read(
        &path,
        ReadRules::named(wire::MAX_HOST_KEY_FILE_BYTES).or_pipe(),
    )
    .map_err(|source| HostsOpError::KeyFile {
        path: path.clone(),
        source,
    })?;
    let bad = |problem| HostsOpError::Key {
        source: KeySource::File(path.clone()),
        problem,
    };
    let text = std::str::from_utf8(&bytes).map_err(|_| bad(PublicKeyProblem::NoPrefix))?;
    let mut lines = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'));
    let line = lines.next().ok_or(bad(PublicKeyProblem::NoPrefix))?;
    if lines.next().is_some() {
        // A second line: a host key file (its secret line) or something else entirely.
        if text.contains(wire::HOST_SECRET_PREFIX) {
            return Err(bad(PublicKeyProblem::Secret));
        }
        return Err(bad(PublicKeyProblem::NoPrefix));
    }
    parse_public(line).map_err(bad)
}

fn record(path: &Path, action: &str, change: String, clock: Clock) -> Result<(), HostsOpError> {
    AuditLog::open(path)
        .and_then(|log| log.record_host_change(action, &change, clock))
        .map(drop)
        .map_err(|source| HostsOpError::NotRecorded { change, source })
}

/// What [`add`] or [`remove`] proposed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostProposed {
    /// The host added (or restored), or removed.
    pub host: HostEntry,
    /// What it did to the set awaiting ratification.
    pub outcome: HostProposal,
}

/// Propose trusting the host `name` with long-term key `key`, without a quorum: it is trusted
/// only once a quorum ratifies it. Refuses a name that breaks the custodian-name rules, a name
/// or key already known (under another key or name), a set changed outside custody, and a
/// vault older than one seen here. Recorded in the audit log (unless nothing changed).
pub fn add(
    path: &Path,
    name: &str,
    key: VerifyingKey,
    clock: Clock,
) -> Result<HostProposed, HostsOpError> {
    let name = custodian_name::admit(name).map_err(|rule| HostsOpError::Name {
        name: name.to_owned(),
        rule,
    })?;
    let host = HostEntry {
        name,
        key,
        added_at: clock.now(),
    };
    let outcome = store::update(path, OnRollback::Refuse, |vault: &mut Vault, _| {
        Ok::<_, HostsOpError>(vault.propose_host(host.clone())?)
    })?;
    let summary = match outcome {
        HostProposal::Unchanged => None,
        HostProposal::Restored => Some(format!("{host} (withdrawing its pending removal)")),
        _ => Some(host.to_string()),
    };
    if let Some(summary) = summary {
        record(path, "hosts add", summary, clock)?;
    }
    Ok(HostProposed { host, outcome })
}

/// Propose removing the host called exactly `name`, without a quorum: it is no longer trusted,
/// at once; a quorum's ratification records the removal. Refuses a name no host has (naming
/// the hosts there are), a set changed outside custody and an older vault. Recorded in the
/// audit log.
pub fn remove(path: &Path, name: &str, clock: Clock) -> Result<HostProposed, HostsOpError> {
    let outcome = store::update(path, OnRollback::Refuse, |vault: &mut Vault, _| match vault
        .propose_host_removal(name)?
    {
        Some(p) => Ok(p),
        None => Err(HostsOpError::NoSuchHost {
            name: name.to_owned(),
            hosts: vault
                .proposed_hosts()
                .iter()
                .map(|h| h.name.clone())
                .collect(),
        }),
    })?;
    let (HostProposal::Removed(host) | HostProposal::Withdrawn(host)) = outcome.clone() else {
        unreachable!("a removal proposes a removal")
    };
    let summary = match outcome {
        HostProposal::Withdrawn(_) => format!("{host} (pending, never ratified)"),
        _ => host.to_string(),
    };
    record(path, "hosts remove", summary, clock)?;
    Ok(HostProposed { host, outcome })
}

/// Every known host and where it stands.
#[derive(Clone, Debug)]
pub struct HostListing {
    /// Ratified and proposed hosts, in name order.
    pub hosts: Vec<KnownHost>,
    /// Why the known hosts trust nobody, when they do not (then no host is trusted, whatever
    /// its state says).
    pub problem: Option<HostsError>,
}

/// The known hosts of the vault at `path` (no quorum). An older copy of the vault (by the
/// generation sidecar) trusts nobody: its hosts are listed as unverified.
pub fn list(path: &Path) -> Result<HostListing, HostsOpError> {
    let vault = store::load(path)?;
    let seen = store::seen_beside(path)?;
    let problem = vault.hosts_problem(seen);
    let mut hosts = vault.known_hosts();
    if matches!(problem, Some(HostsError::RolledBack(_))) {
        for h in &mut hosts {
            h.state = crate::vault::hosts::HostState::Unverified;
        }
    }
    Ok(HostListing { hosts, problem })
}

/// The name of the trusted host whose key is `key` in the vault at `path`: ratified by a
/// quorum, not removed since, the ratification verifying, and the file not older than one
/// seen here (the generation sidecar). `Ok(None)`: not a trusted host.
pub fn ratified_host(path: &Path, key: &VerifyingKey) -> Result<Option<String>, HostsOpError> {
    let vault = store::load(path)?;
    let seen = store::seen_beside(path)?;
    Ok(vault
        .trusted_hosts(seen)
        .ok()
        .and_then(|hosts| hosts.into_iter().find(|h| h.key == *key))
        .map(|h| h.name))
}
