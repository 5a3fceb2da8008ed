//! Extending a group: additional shares for new custodians of one group, without changing the
//! secret, the SLIP-39 identifier or the epoch. The quorum must include at least the group's
//! member threshold of shares: they fix the group's member polynomial
//! ([`slip39::extend_group`]), which is evaluated at the lowest free member indices
//! ([`Policy::add_custodians`]). The new custodians join the policy, the manifest is re-signed,
//! and every new share is checked to combine with existing shares of its group before anything
//! is written.

use std::fmt;
use std::path::Path;

use super::issue::{self, IssueError, Layout};
use super::rekey::{Output, check_none_pending};
use super::session::{Begun, Presentation, SessionError};
use crate::audit::AuditError;
use crate::clock::Clock;
use crate::policy::{Policy, PolicyError};
use crate::slip39::{self, Share, Slip39Error};
use crate::token::Token;
use crate::vault::Vault;
use crate::vault::change::ChangeError;
use crate::vault::store::{self, OnRollback, StoreError};

/// Why a group could not be extended. Nothing is left half-done: files written before a
/// failure are removed again, and the vault is only written as the last step.
#[derive(Debug)]
pub enum ExtendError {
    /// The ceremony could not start or be recorded, or the shares do not make a quorum.
    Session(SessionError),
    /// The vault could not be read or written.
    Store(StoreError),
    /// A custodian change is pending: the policy cannot change under it.
    Change(ChangeError),
    /// The new custodians do not fit the policy (names, 16 members at most).
    Policy(PolicyError),
    /// The new shares could not be issued (files exist, a write failed, self-check).
    Issue(IssueError),
    /// The group's shares could not be extended.
    Slip39(Slip39Error),
    /// The ceremony's record could not be written.
    Audit(AuditError),
    /// The vault has no group of that name.
    NoSuchGroup {
        /// The name asked for.
        name: String,
        /// The vault's groups.
        groups: Vec<String>,
    },
    /// The vault has several groups and none was named.
    GroupNeeded {
        /// The vault's groups.
        groups: Vec<String>,
    },
    /// The quorum holds fewer shares of the target group than its member threshold.
    TooFewGroupShares {
        /// The target group.
        group: String,
        /// Its member threshold.
        threshold: u8,
        /// How many of its shares were presented.
        given: usize,
    },
    /// The vault's policy or epoch changed while the shares were being made.
    VaultChanged,
}

impl fmt::Display for ExtendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExtendError::Session(e) => e.fmt(f),
            ExtendError::Store(e) => e.fmt(f),
            ExtendError::Change(e) => e.fmt(f),
            ExtendError::Policy(e) => e.fmt(f),
            ExtendError::Issue(e) => e.fmt(f),
            ExtendError::Slip39(e) => write!(f, "the group's shares cannot be extended: {e}"),
            ExtendError::Audit(e) => e.fmt(f),
            ExtendError::NoSuchGroup { name, groups } => write!(
                f,
                "this vault has no group `{name}`; its groups are: {}",
                groups.join(", ")
            ),
            ExtendError::GroupNeeded { groups } => write!(
                f,
                "this vault has several groups ({}): the group the new custodians join must be \
                 named",
                groups.join(", ")
            ),
            ExtendError::TooFewGroupShares {
                group,
                threshold,
                given,
            } => write!(
                f,
                "extending group {group} needs at least {threshold} of its own shares in the \
                 quorum (they define the group's polynomial); {given} were given"
            ),
            ExtendError::VaultChanged => write!(
                f,
                "the vault's policy or epoch changed while the new shares were made; nothing was \
                 written"
            ),
        }
    }
}

impl std::error::Error for ExtendError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ExtendError::Session(e) => Some(e),
            ExtendError::Store(e) => Some(e),
            ExtendError::Change(e) => Some(e),
            ExtendError::Policy(e) => Some(e),
            ExtendError::Issue(e) => Some(e),
            ExtendError::Slip39(e) => Some(e),
            ExtendError::Audit(e) => Some(e),
            ExtendError::NoSuchGroup { .. }
            | ExtendError::GroupNeeded { .. }
            | ExtendError::TooFewGroupShares { .. }
            | ExtendError::VaultChanged => None,
        }
    }
}

super::wrap_errors!(ExtendError,
    SessionError => Session,
    StoreError => Store,
    ChangeError => Change,
    PolicyError => Policy,
    IssueError => Issue,
    Slip39Error => Slip39,
    AuditError => Audit,
);

/// A group extended with new custodians.
#[derive(Debug)]
pub struct Extended {
    /// The group they joined.
    pub group: String,
    /// The new custodians, in order.
    pub custodians: Vec<String>,
    /// Their member indices (0-based).
    pub member_indices: Vec<u8>,
    /// The vault's epoch (unchanged).
    pub epoch: u32,
    /// The policy now in force.
    pub policy: Policy,
    /// The new shares' tokens (secret: for listing names and files only).
    pub tokens: Vec<Token>,
    /// Where each token's files were written.
    pub layout: Layout,
    /// What the process hardening could not do.
    pub hardening_warnings: Vec<String>,
}

/// The index of the group named `group`, or the only group when none is named.
pub fn target_group(policy: &Policy, group: Option<&str>) -> Result<usize, ExtendError> {
    let names = || policy.groups.iter().map(|g| g.name.clone()).collect();
    match group {
        Some(name) => policy
            .groups
            .iter()
            .position(|g| g.name == name)
            .or_else(|| {
                policy
                    .groups
                    .iter()
                    .position(|g| crate::custodian_name::same(&g.name, name))
            })
            .ok_or_else(|| ExtendError::NoSuchGroup {
                name: name.to_owned(),
                groups: names(),
            }),
        None if policy.groups.len() == 1 => Ok(0),
        None => Err(ExtendError::GroupNeeded { groups: names() }),
    }
}

/// Add `custodians` to `group` (or the only group) of the vault at `path`, with a quorum that
/// holds at least the group's member threshold of its shares; their share files go to
/// `output`, numbered after every existing custodian.
pub fn extend(
    path: &Path,
    presentation: &Presentation,
    group: Option<&str>,
    custodians: &[String],
    output: &Output,
    clock: Clock,
) -> Result<Extended, ExtendError> {
    // Refusals that need no quorum come before the ceremony.
    let vault = store::load(path)?;
    check_none_pending(&vault)?;
    let gi = target_group(vault.policy(), group)?;
    let mut policy = vault.policy().clone();
    let new_indices = policy.add_custodians(gi, custodians)?;
    // The names as the policy stores them (NFC), for the tokens, files and report.
    let custodians: &[String] = &new_indices
        .iter()
        .filter_map(|&i| policy.custodian(gi as u8, i).map(|(_, c)| c.name.clone()))
        .collect::<Vec<_>>();
    let group_name = policy.groups[gi].name.clone();
    let threshold = policy.groups[gi].member_threshold;
    let existing: usize = vault
        .policy()
        .groups
        .iter()
        .map(|g| g.custodians.len())
        .sum();
    let numbered: Vec<(usize, String)> = custodians
        .iter()
        .enumerate()
        .map(|(i, n)| (existing + i + 1, n.clone()))
        .collect();
    let layout = issue::plan_delivered(
        &output.out_dir,
        &numbered,
        output.formats.clone(),
        None,
        &output.delivery,
        &policy,
    )?;

    let begun = Begun::begin_as(path, vault.clone(), "extend", clock)?;
    let hardening_warnings = begun.hardening_warnings();
    let session = begun.unlock(presentation)?;
    let outcome = (|| -> Result<Extended, ExtendError> {
        let in_group = |s: &&Share| usize::from(s.group_index) == gi;
        let mine: Vec<&Share> = presentation
            .shares
            .iter()
            .map(|p| &p.share)
            .filter(in_group)
            .collect();
        if mine.len() < usize::from(threshold) {
            return Err(ExtendError::TooFewGroupShares {
                group: group_name.clone(),
                threshold,
                given: mine.len(),
            });
        }
        // A group of threshold 1 holds its one share in copies: each new custodian gets a copy
        // (SLIP-39 member 0), not a new member share.
        let new_shares: Vec<Share> = if policy.groups[gi].holds_copies() {
            custodians.iter().map(|_| mine[0].clone()).collect()
        } else {
            slip39::extend_group(&mine, &new_indices)?
        };
        let shares = new_shares
            .into_iter()
            .zip(custodians)
            .map(|(share, name)| (group_name.clone(), name.clone(), share))
            .collect();
        let now = session.clock().now();
        let keys = session.keys();
        let tokens = issue::sign_tokens(
            shares,
            vault.vault_id(),
            vault.epoch(),
            now,
            keys.signing_key(),
        )?;
        // Each new share, with threshold - 1 presented shares of its group (and the other
        // groups' shares of the quorum), must reconstruct this vault's key.
        let view = vault.policy_view(policy.clone());
        let (mine, others): (Vec<_>, Vec<_>) = presentation
            .shares
            .iter()
            .cloned()
            .partition(|p| usize::from(p.share.group_index) == gi);
        for t in &tokens {
            let mut set = others.clone();
            set.extend(mine.iter().take(usize::from(threshold) - 1).cloned());
            set.push(issue::reread(t)?);
            issue::check_unlock(&set, &view, presentation.passphrase_bytes())?;
        }
        let fingerprint = vault.fingerprint();
        issue::write_all(
            &layout,
            &tokens,
            &policy,
            &fingerprint,
            output.paper,
            &mut crate::progress::Silent,
            || {
                store::update(path, OnRollback::Refuse, |v: &mut Vault, seen| {
                    if v.policy() != vault.policy() || v.epoch() != vault.epoch() {
                        return Err(ExtendError::VaultChanged);
                    }
                    check_none_pending(v)?;
                    v.resign_policy(keys, policy.clone(), seen, now);
                    Ok(())
                })
            },
        )?;
        session.note("group", &group_name)?;
        Ok(Extended {
            group: group_name.clone(),
            custodians: custodians.to_vec(),
            member_indices: new_indices.clone(),
            epoch: vault.epoch(),
            policy: policy.clone(),
            tokens,
            layout,
            hardening_warnings,
        })
    })();
    session.finish(outcome, |e| {
        format!(
            "extended group {} with {} new custodian(s): {}",
            e.group,
            e.custodians.len(),
            e.custodians.join(", ")
        )
    })
}
