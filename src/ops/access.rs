//! The agent access policy's use cases. Without a quorum: [`add`] and [`remove`] propose a
//! change (it takes effect when a quorum ratifies it, except that a removal stops granting at
//! once), recorded in the audit log; [`list`] shows every rule and where it stands. For the
//! agent: [`ratified`] is the policy in force, or why nothing may be granted. Writes go through
//! [`store::update`] (writer lock, re-read, atomic replace); a quorum ratifies with
//! [`crate::ops::ratify`].

use std::fmt;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::audit::{AuditError, AuditLog};
use crate::clock::Clock;
use crate::vault::Vault;
use crate::vault::access::{
    AccessError, AccessPolicy, AccessRule, ListedRule, Proposal, ProxyTerms, Rate, RuleError,
    Selector, TermsError,
};
use crate::vault::store::{self, OnRollback, StoreError};
use crate::wire;

/// Why a policy operation did not happen. Nothing was written unless the variant says so.
#[derive(Debug)]
pub enum AgentPolicyError {
    /// A selector, rate or credential list breaks the rules.
    Rule(RuleError),
    /// Proxy terms break the rules (a front end building [`ProxyTerms`] from what it was
    /// given reports it this way).
    Terms(TermsError),
    /// The executable path is not UTF-8 (the vault file stores text).
    ExeNotUtf8(PathBuf),
    /// The executable path goes through a symbolic link: the kernel reports the target.
    ExeLink {
        /// The path as given.
        given: PathBuf,
        /// Where it leads: what `/proc/PID/exe` would say.
        real: PathBuf,
    },
    /// The executable is a script: the kernel reports its interpreter.
    ExeScript {
        /// The path as given.
        given: PathBuf,
    },
    /// A credential the vault does not have.
    UnknownCredential {
        /// The name given.
        name: String,
        /// The credentials the vault has.
        known: Vec<String>,
    },
    /// The policy already has [`wire::MAX_AGENT_RULES`] rules.
    TooManyRules,
    /// No rule (ratified or proposed) names exactly these clients.
    NoSuchRule {
        /// The selector given, in words (`uid 1000 exe /opt/bot/run`).
        selector: String,
        /// The selectors of the rules there are.
        rules: Vec<String>,
    },
    /// The stored policy grants nothing (changed outside custody, or not vouched for).
    Access(AccessError),
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

impl fmt::Display for AgentPolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AgentPolicyError::Rule(e) => e.fmt(f),
            AgentPolicyError::Terms(e) => e.fmt(f),
            AgentPolicyError::ExeNotUtf8(p) => write!(
                f,
                "the executable path {} is not UTF-8; the vault stores paths as text",
                p.display()
            ),
            AgentPolicyError::ExeLink { given, real } => write!(
                f,
                "the executable {} is reached through a symbolic link to {}: the kernel reports \
                 the real file for a running program, so name {} instead",
                given.display(),
                real.display(),
                real.display()
            ),
            AgentPolicyError::ExeScript { given } => write!(
                f,
                "{} is a script (it starts with `#!`): the kernel reports its interpreter for a \
                 running script, never the script; name the bot's uid and systemd unit instead",
                given.display()
            ),
            AgentPolicyError::UnknownCredential { name, known } => {
                write!(f, "no credential `{name}` in the vault")?;
                if known.is_empty() {
                    write!(f, " (it has none)")
                } else {
                    write!(f, " (it has: {})", known.join(", "))
                }
            }
            AgentPolicyError::TooManyRules => write!(
                f,
                "the agent access policy already has {} rules, the most it may hold",
                wire::MAX_AGENT_RULES
            ),
            AgentPolicyError::NoSuchRule { selector, rules } => {
                write!(f, "no rule of the agent access policy is for `{selector}`")?;
                if rules.is_empty() {
                    write!(f, " (the policy has no rule)")
                } else {
                    write!(f, " (rules are for: {})", rules.join("; "))
                }
            }
            AgentPolicyError::Access(e) => e.fmt(f),
            AgentPolicyError::Store(e) => e.fmt(f),
            AgentPolicyError::NotRecorded { change, source } => write!(
                f,
                "{change} was written to the vault, but the audit log could not record it: \
                 {source}"
            ),
        }
    }
}

impl std::error::Error for AgentPolicyError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            AgentPolicyError::Rule(e) => Some(e),
            AgentPolicyError::Terms(e) => Some(e),
            AgentPolicyError::Access(e) => Some(e),
            AgentPolicyError::Store(e) => Some(e),
            AgentPolicyError::NotRecorded { source, .. } => Some(source),
            _ => None,
        }
    }
}

super::wrap_errors!(AgentPolicyError,
    RuleError => Rule,
    TermsError => Terms,
    AccessError => Access,
    StoreError => Store,
);

/// The clients a rule names, as a front end was given them (checked by [`add`] and [`remove`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientSpec {
    /// The user id.
    pub uid: u32,
    /// The group id, if the rule names one.
    pub gid: Option<u32>,
    /// The executable, if the rule names one: absolute, as `/proc/PID/exe` reports it.
    pub exe: Option<PathBuf>,
    /// The systemd unit, if the rule names one.
    pub unit: Option<String>,
}

impl ClientSpec {
    /// The selector, every part checked (the executable as text).
    pub fn selector(&self) -> Result<Selector, AgentPolicyError> {
        let exe = self
            .exe
            .as_deref()
            .map(|p| {
                p.to_str()
                    .ok_or_else(|| AgentPolicyError::ExeNotUtf8(p.to_path_buf()))
            })
            .transpose()?;
        Ok(Selector::new(
            self.uid,
            self.gid,
            exe,
            self.unit.as_deref(),
        )?)
    }
}

/// A rule to propose: which clients, which credentials, how many requests a minute, and what
/// the signing proxy lets through for them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RuleRequest {
    /// The clients.
    pub client: ClientSpec,
    /// The credentials (each must be in the vault).
    pub credentials: Vec<String>,
    /// Requests a minute.
    pub rate: Rate,
    /// The signing proxy's terms (the default: no withdrawal, no order limit).
    pub terms: ProxyTerms,
}

/// What [`add`] or [`remove`] proposed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proposed {
    /// The rule added (or replacing another), or the rule removed.
    pub rule: AccessRule,
    /// What it did to the policy awaiting ratification.
    pub outcome: Proposal,
}

/// On this machine, an executable given through a link, or a script, can never be what the
/// kernel reports for a running program. A path that does not exist here is taken as given (the
/// policy may be written away from the agent's machine).
fn check_exe_here(exe: &Path) -> Result<(), AgentPolicyError> {
    let Ok(real) = exe.canonicalize() else {
        return Ok(());
    };
    if real != exe {
        return Err(AgentPolicyError::ExeLink {
            given: exe.to_path_buf(),
            real,
        });
    }
    let mut head = [0u8; 2];
    let is_script = std::fs::metadata(exe).is_ok_and(|m| m.is_file())
        && File::open(exe)
            .and_then(|mut f| f.read_exact(&mut head))
            .is_ok()
        && head == *b"#!";
    if is_script {
        return Err(AgentPolicyError::ExeScript {
            given: exe.to_path_buf(),
        });
    }
    Ok(())
}

fn record(path: &Path, action: &str, change: String, clock: Clock) -> Result<(), AgentPolicyError> {
    AuditLog::open(path)
        .and_then(|log| log.record_policy_change(action, &change, clock))
        .map(drop)
        .map_err(|source| AgentPolicyError::NotRecorded { change, source })
}

/// Propose a rule without a quorum: it replaces the rule for the same clients, or is added,
/// and grants nothing until a quorum ratifies it (a replaced rule stays in force until then).
/// Refuses credentials the vault does not have, an executable that cannot match what the kernel
/// reports, a policy changed outside custody, and a vault older than one seen here. The change
/// is recorded in the audit log (unless nothing changed).
pub fn add(path: &Path, request: &RuleRequest, clock: Clock) -> Result<Proposed, AgentPolicyError> {
    let selector = request.client.selector()?;
    if let Some(exe) = selector.exe() {
        check_exe_here(exe)?;
    }
    let rule = AccessRule::new(selector, request.credentials.clone(), request.rate)?
        .with_terms(request.terms.clone());
    let outcome = store::update(path, OnRollback::Refuse, |vault: &mut Vault, _| {
        if let Some(name) = rule
            .credentials()
            .iter()
            .find(|n| vault.credentials().get(n).is_none())
        {
            return Err(AgentPolicyError::UnknownCredential {
                name: name.clone(),
                known: vault.credentials().iter().map(|c| c.name.clone()).collect(),
            });
        }
        let next = vault.proposed_access();
        if next.len() >= wire::MAX_AGENT_RULES
            && !next.iter().any(|r| r.selector() == rule.selector())
        {
            return Err(AgentPolicyError::TooManyRules);
        }
        Ok(vault.propose_access_rule(rule.clone())?)
    })?;
    let summary = match &outcome {
        Proposal::Unchanged => None,
        Proposal::Replaced(old) => Some(format!("{rule} (replacing {old})")),
        Proposal::Reverted(old) => Some(format!(
            "{rule} (withdrawing the pending {old}; the ratified rule stands)"
        )),
        _ => Some(rule.to_string()),
    };
    if let Some(summary) = summary {
        record(path, "agent policy add", summary, clock)?;
    }
    Ok(Proposed { rule, outcome })
}

/// Propose removing the rule for exactly these clients, without a quorum: it stops granting
/// at once; a quorum's ratification records the removal. Refuses a selector no rule has (naming
/// the rules there are), a policy changed outside custody and an older vault. Recorded in the
/// audit log.
pub fn remove(
    path: &Path,
    client: &ClientSpec,
    clock: Clock,
) -> Result<Proposed, AgentPolicyError> {
    let selector = client.selector()?;
    let outcome = store::update(path, OnRollback::Refuse, |vault: &mut Vault, _| match vault
        .propose_access_removal(&selector)?
    {
        Some(p) => Ok(p),
        None => Err(AgentPolicyError::NoSuchRule {
            selector: selector.to_string(),
            rules: vault
                .proposed_access()
                .iter()
                .map(|r| r.selector().to_string())
                .collect(),
        }),
    })?;
    let (Proposal::Removed(rule) | Proposal::Withdrawn(rule)) = outcome.clone() else {
        unreachable!("a removal proposes a removal")
    };
    let summary = match outcome {
        Proposal::Withdrawn(_) => format!("{rule} (pending, never ratified)"),
        _ => rule.to_string(),
    };
    record(path, "agent policy remove", summary, clock)?;
    Ok(Proposed { rule, outcome })
}

/// Every rule of the policy and where it stands.
#[derive(Clone, Debug)]
pub struct Listing {
    /// Ratified and proposed rules, in canonical order (a ratified rule before the change
    /// proposed for it).
    pub rules: Vec<ListedRule>,
    /// Why the policy grants nothing, when it does not.
    pub problem: Option<AccessError>,
    /// The credentials the rules in force let some client receive.
    pub granted: Vec<String>,
    /// Credentials some rule lists that the vault does not have (removed or renamed since).
    pub missing: Vec<String>,
}

/// The policy of the vault at `path`, rule by rule (no quorum).
pub fn list(path: &Path) -> Result<Listing, AgentPolicyError> {
    let vault = store::load(path)?;
    let seen = store::seen_beside(path)?;
    let (rules, problem) = vault.access_listing(seen);
    let granted = match vault.ratified_access(seen) {
        Ok(p) => p.credentials().into_iter().map(str::to_owned).collect(),
        Err(_) => Vec::new(),
    };
    let mut missing: Vec<String> = rules
        .iter()
        .flat_map(|r| r.rule.credentials())
        .filter(|n| vault.credentials().get(n).is_none())
        .cloned()
        .collect();
    missing.sort();
    missing.dedup();
    Ok(Listing {
        rules,
        problem,
        granted,
        missing,
    })
}

/// The agent access policy in force in the vault at `path`: what the agent may grant, checked
/// against the quorum's ratification and the generation sidecar beside the vault. A policy
/// changed outside custody, a record that does not verify or an older copy of the vault grants
/// nothing, and is refused with the reason.
pub fn ratified(path: &Path) -> Result<AccessPolicy, AgentPolicyError> {
    let vault = store::load(path)?;
    let seen = store::seen_beside(path)?;
    Ok(vault.ratified_access(seen)?)
}
