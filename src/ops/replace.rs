//! Replacing a custodian: a sheet is lost, a custodian leaves, a sheet may have been stolen.
//! One master rotation ([`rekey::prepare`], kind [`ChangeKind::RotateMaster`]) for the same
//! policy with the named custodian removed, or replaced by a new one in the same group and
//! place: a NEW master secret split for the remaining (and new) custodians, every credential
//! resealed to the new key, the reason recorded in the audit log. Like every custodian change,
//! nothing takes effect until a threshold of the new sheets is scanned back with
//! [`rekey::confirm`], which then retires the old key (old sheets open nothing), replaces the
//! vault's backup and lists the exchange keys to rotate at their exchanges.

use std::fmt;
use std::path::Path;

use super::rekey::{self, ChangeKind, Output, Prepared, RekeyError};
use super::session::Presentation;
use crate::clock::Clock;
use crate::custodian_name;
use crate::policy::{Policy, PolicyError};
use crate::vault::store;

/// The longest reason accepted, in bytes: a sentence for the audit log, not a report.
pub const MAX_REASON_LEN: usize = 200;

/// Who leaves, who (if anyone) takes the place, and why.
#[derive(Clone, Debug)]
pub struct Replacement {
    /// The custodian whose share is revoked, as named in the vault's policy.
    pub remove: String,
    /// A new custodian who takes the same place (group), if any.
    pub add: Option<String>,
    /// Why, in a few words ("sheet lost", "left the firm"): recorded in the audit log.
    pub reason: String,
}

/// Why a custodian could not be replaced. Refusals other than [`ReplaceError::Rekey`] come
/// before any share is read or anything is written.
#[derive(Debug)]
pub enum ReplaceError {
    /// The vault's policy has no custodian of this name.
    UnknownCustodian {
        /// The name asked for.
        name: String,
        /// The vault's custodians.
        custodians: Vec<String>,
    },
    /// No reason was given, or it is longer than [`MAX_REASON_LEN`] bytes or holds a control
    /// character.
    BadReason(&'static str),
    /// Without the custodian (and with the replacement, if any) the policy is not usable.
    PolicyAfter {
        /// The custodian removed.
        removed: String,
        /// The group they belonged to.
        group: String,
        /// Whether a replacement was named.
        replaced: bool,
        /// The rule the resulting policy breaks.
        source: PolicyError,
    },
    /// The master rotation itself could not be prepared.
    Rekey(RekeyError),
}

impl fmt::Display for ReplaceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReplaceError::UnknownCustodian { name, custodians } => write!(
                f,
                "the vault has no custodian named {}; its custodians are {}",
                custodian_name::spelled(name),
                custodians.join(", ")
            ),
            ReplaceError::BadReason(why) => write!(f, "the reason {why}"),
            ReplaceError::PolicyAfter {
                removed,
                group,
                replaced,
                source,
            } => write!(
                f,
                "{} {removed} from group {group} leaves a policy that cannot be used: {source}",
                if *replaced { "replacing" } else { "removing" }
            ),
            ReplaceError::Rekey(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for ReplaceError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ReplaceError::PolicyAfter { source, .. } => Some(source),
            ReplaceError::Rekey(e) => Some(e),
            _ => None,
        }
    }
}

impl From<RekeyError> for ReplaceError {
    fn from(e: RekeyError) -> Self {
        ReplaceError::Rekey(e)
    }
}

/// A replacement prepared and waiting for confirmation.
#[derive(Debug)]
pub struct Replaced {
    /// The master rotation prepared (new fingerprint, new policy, files written).
    pub prepared: Prepared,
    /// The custodian removed, as named in the policy.
    pub removed: String,
    /// Their group.
    pub group: String,
    /// The new custodian, if any (in NFC).
    pub added: Option<String>,
    /// Every credential (name, exchange) the vault holds: once the change is confirmed, each
    /// must be rotated at its exchange (the old quorum could read it).
    pub rotate_at_exchange: Vec<(String, String)>,
}

/// Whether `name` is the custodian `asked` names: names are unique after NFC and case folding,
/// so `Dave` finds `dave`.
fn is(name: &str, asked: &str) -> bool {
    custodian_name::collision_key(name) == custodian_name::collision_key(asked)
}

/// Check the reason: something to record, on one line, short.
pub fn check_reason(reason: &str) -> Result<(), ReplaceError> {
    if reason.trim().is_empty() {
        return Err(ReplaceError::BadReason(
            "is empty: say why in a few words (\"sheet lost\", \"left the firm\")",
        ));
    }
    if reason.len() > MAX_REASON_LEN {
        return Err(ReplaceError::BadReason(
            "is longer than 200 bytes: say why in a few words",
        ));
    }
    if reason.chars().any(char::is_control) {
        return Err(ReplaceError::BadReason(
            "has a control character (a line break, say): write it on one line",
        ));
    }
    Ok(())
}

/// The policy that follows `policy` once `remove` leaves (and `add`, if given, takes their
/// place in the same group): the same groups and thresholds, member indices renumbered from 0
/// (the new split numbers members afresh), every name checked as for a new share set.
/// Returns the new policy and the group `remove` belonged to.
pub fn successor_policy(
    policy: &Policy,
    remove: &str,
    add: Option<&str>,
) -> Result<(Policy, String), ReplaceError> {
    let mut next = policy.clone();
    let (gi, ci) = next
        .groups
        .iter()
        .enumerate()
        .find_map(|(gi, g)| {
            g.custodians
                .iter()
                .position(|c| is(&c.name, remove))
                .map(|ci| (gi, ci))
        })
        .ok_or_else(|| ReplaceError::UnknownCustodian {
            name: remove.to_owned(),
            custodians: policy
                .groups
                .iter()
                .flat_map(|g| g.custodians.iter().map(|c| c.name.clone()))
                .collect(),
        })?;
    let group = &mut next.groups[gi];
    let group_name = group.name.clone();
    let removed = group.custodians[ci].name.clone();
    match add {
        Some(name) => group.custodians[ci].name = name.to_owned(),
        None => {
            group.custodians.remove(ci);
        }
    }
    for g in &mut next.groups {
        for (i, c) in g.custodians.iter_mut().enumerate() {
            c.member_index = i.min(255) as u8;
        }
    }
    let next = next
        .for_new_shares()
        .map_err(|source| ReplaceError::PolicyAfter {
            removed: removed.clone(),
            group: group_name.clone(),
            replaced: add.is_some(),
            source,
        })?;
    Ok((next, group_name))
}

/// Prepare the replacement of a custodian of the vault at `path` with a quorum of the current
/// set (which may include the departing custodian's share): a master rotation for
/// [`successor_policy`], recorded as ceremony `replace-custodian` with notes `remove`, `add`
/// (if any) and `reason`. The current set stays valid until [`rekey::confirm`].
pub fn replace_custodian(
    path: &Path,
    presentation: &Presentation,
    replacement: &Replacement,
    output: &Output,
    clock: Clock,
) -> Result<Replaced, ReplaceError> {
    check_reason(&replacement.reason)?;
    let vault = store::load(path).map_err(RekeyError::from)?;
    rekey::check_none_pending(&vault).map_err(RekeyError::from)?;
    let (policy, group) = successor_policy(
        vault.policy(),
        &replacement.remove,
        replacement.add.as_deref(),
    )?;
    let removed = vault
        .policy()
        .groups
        .iter()
        .flat_map(|g| g.custodians.iter())
        .find(|c| is(&c.name, &replacement.remove))
        .map(|c| c.name.clone())
        .unwrap_or_else(|| replacement.remove.clone());
    let added = replacement.add.as_deref().map(|a| {
        policy
            .groups
            .iter()
            .flat_map(|g| g.custodians.iter())
            .find(|c| is(&c.name, a))
            .map_or_else(|| a.to_owned(), |c| c.name.clone())
    });
    let mut notes: Vec<(&str, &str)> = vec![("remove", &removed)];
    if let Some(a) = &added {
        notes.push(("add", a));
    }
    notes.push(("reason", &replacement.reason));
    let prepared = rekey::prepare_as(
        ChangeKind::RotateMaster,
        "replace-custodian",
        &notes,
        path,
        presentation,
        policy,
        output,
        clock,
    )?;
    let rotate_at_exchange = vault
        .credentials()
        .iter()
        .map(|c| (c.name.clone(), c.exchange.clone()))
        .collect();
    Ok(Replaced {
        prepared,
        removed,
        group,
        added,
        rotate_at_exchange,
    })
}
