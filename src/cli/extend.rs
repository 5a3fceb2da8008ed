//! `custody extend`: additional shares for new custodians of one group, without changing the
//! secret, the SLIP-39 identifier or the epoch. The quorum must include at least the group's
//! member threshold of shares: their values fix the group's member polynomial, which is
//! evaluated (`gf256::interpolate`) at the next free member indices. The new custodians join
//! the policy, the manifest is re-signed, and every new share is checked to combine with
//! existing shares of its group before anything is written.

use std::io::Write;

use zeroize::Zeroizing;

use super::rekey::{failed, present, w};
use super::{CliError, ExtendArgs, sheets};
use custody::ops::issue;
use custody::audit::{AuditLog, Ceremony};
use custody::gf256;
use custody::policy::{Custodian, MAX_MEMBERS, PolicyError};
use custody::slip39::Share;
use custody::vault::Vault;
use custody::vault::change::ChangeError;
use custody::vault::store::{self, OnRollback};

pub fn run(args: ExtendArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let vault = store::load(&args.vault)?;
    if let Some(p) = &vault.pending_change {
        return Err(ChangeError::AlreadyPending {
            kind: p.kind,
            created: p.created,
        }
        .into());
    }
    // The target group.
    let gi = match &args.group {
        Some(name) => vault
            .policy
            .groups
            .iter()
            .position(|g| g.name == *name)
            .ok_or_else(|| {
                CliError::Usage(format!(
                    "this vault has no group `{name}`; its groups are: {}",
                    vault
                        .policy
                        .groups
                        .iter()
                        .map(|g| g.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })?,
        None if vault.policy.groups.len() == 1 => 0,
        None => {
            return Err(CliError::Usage(
                "this vault has several groups: say which one the new custodians join with \
                 --group NAME"
                    .into(),
            ));
        }
    };
    let names: Vec<String> = args
        .custodians
        .iter()
        .flat_map(|c| c.split(','))
        .map(|c| c.trim().to_owned())
        .filter(|c| !c.is_empty())
        .collect();
    if names.is_empty() {
        return Err(PolicyError::NoCustodians.into());
    }
    // The new policy: each new custodian at the lowest free member index.
    let mut policy = vault.policy.clone();
    let group = &mut policy.groups[gi];
    let group_name = group.name.clone();
    let count = group.custodians.len() + names.len();
    if count > MAX_MEMBERS {
        return Err(PolicyError::TooManyMembers {
            group: group_name,
            count,
        }
        .into());
    }
    let mut new_indices = Vec::with_capacity(names.len());
    for name in &names {
        let free = (0..MAX_MEMBERS as u8)
            .find(|i| !group.custodians.iter().any(|c| c.member_index == *i))
            .expect("fewer than 16 members");
        group.custodians.push(Custodian {
            name: name.clone(),
            member_index: free,
        });
        new_indices.push(free);
    }
    policy.validate()?;
    let threshold = policy.groups[gi].member_threshold;
    // Files numbered after every existing custodian.
    let existing: usize = vault.policy.groups.iter().map(|g| g.custodians.len()).sum();
    let numbered: Vec<(usize, String)> = names
        .iter()
        .enumerate()
        .map(|(i, n)| (existing + i + 1, n.clone()))
        .collect();
    let formats = sheets::parse_formats(&args.sheets)?;
    let layout = issue::plan(&args.out_dir, &numbered, formats, None)?;

    let pres = present(&args.quorum, &vault)?;
    let ceremony = Ceremony::begin(&AuditLog::open(&args.vault)?, "extend", &vault, super::clock())?;
    let result = (|| -> Result<_, CliError> {
        let unlocked = pres.unlock(&vault, &ceremony)?;
        let in_group: Vec<&Share> = pres
            .presented
            .iter()
            .map(|p| &p.share)
            .filter(|s| usize::from(s.group_index) == gi)
            .collect();
        if in_group.len() < usize::from(threshold) {
            return Err(CliError::Refused(format!(
                "extending group {group_name} needs at least {threshold} of its own shares in the \
                 quorum (they define the group's polynomial); {} were given",
                in_group.len()
            )));
        }
        let points: Vec<(u8, &[u8])> = in_group
            .iter()
            .take(usize::from(threshold))
            .map(|s| (s.member_index, s.value.as_slice()))
            .collect();
        let base = in_group[0];
        let mut shares = Vec::with_capacity(names.len());
        for (name, &index) in names.iter().zip(&new_indices) {
            let value: Zeroizing<Vec<u8>> = gf256::interpolate(&points, index)
                .map_err(|e| CliError::SelfCheck(e.to_string()))?;
            let share = Share {
                member_index: index,
                value,
                ..base.clone()
            };
            shares.push((group_name.clone(), name.clone(), share));
        }
        let now = super::clock().now();
        let tokens = issue::sign_tokens(
            shares,
            vault.vault_id,
            vault.epoch,
            now,
            unlocked.keys.signing_key(),
        )?;
        // Each new share, with threshold - 1 presented shares of its group (and the other
        // groups' shares of the quorum), must reconstruct this vault's key.
        let mut view = vault.clone();
        view.policy = policy.clone();
        let others: Vec<_> = pres
            .presented
            .iter()
            .filter(|p| usize::from(p.share.group_index) != gi)
            .cloned()
            .collect();
        let mine: Vec<_> = pres
            .presented
            .iter()
            .filter(|p| usize::from(p.share.group_index) == gi)
            .take(usize::from(threshold) - 1)
            .cloned()
            .collect();
        for t in &tokens {
            let mut set = others.clone();
            set.extend(mine.iter().cloned());
            set.push(issue::reread(t)?);
            issue::check_unlock(&set, &view, pres.passphrase_bytes())?;
        }
        let fingerprint = vault.fingerprint();
        issue::write_all(&layout, &tokens, &policy, &fingerprint, args.paper, || {
            store::update(&args.vault, OnRollback::Refuse, |v: &mut Vault, seen| {
                if v.policy != vault.policy || v.epoch != vault.epoch {
                    return Err(CliError::from(ChangeError::ChangedMeanwhile));
                }
                if let Some(p) = &v.pending_change {
                    return Err(ChangeError::AlreadyPending {
                        kind: p.kind,
                        created: p.created,
                    }
                    .into());
                }
                v.resign_policy(&unlocked.keys, policy.clone(), seen, now);
                Ok(())
            })
        })?;
        Ok((unlocked, tokens))
    })();
    let (unlocked, tokens) = match result {
        Ok(r) => r,
        Err(e) => return failed(ceremony, e),
    };
    ceremony.note("group", &group_name)?;
    ceremony.succeed(
        &unlocked.keys,
        &format!(
            "extended group {group_name} with {} new custodian(s): {}",
            names.len(),
            names.join(", ")
        ),
    )?;
    drop(unlocked);

    writeln!(
        out,
        "Extended group {group_name} of {} with {} new custodian(s); same secret, epoch {}.",
        args.vault.display(),
        names.len(),
        vault.epoch
    )
    .map_err(w)?;
    for line in policy.describe() {
        writeln!(out, "  policy       {line}").map_err(w)?;
    }
    sheets::list_new_files(out, &tokens, &layout)?;
    writeln!(
        out,
        "Each new share combines with the group's existing shares; check each printed sheet with \
         custody check-share --vault {} FILE",
        args.vault.display()
    )
    .map_err(w)?;
    for warning in pres.hardening.warnings() {
        writeln!(out, "warning: {warning}").map_err(w)?;
    }
    Ok(())
}
