//! The two-level SLIP-0039 scheme: splitting an encrypted master secret into groups of member
//! shares, and checking and combining shares back into it (accepting extra shares, which are
//! verified against the recovered polynomials).

use std::collections::BTreeMap;

use rand_core::{CryptoRng, RngCore};
use zeroize::Zeroizing;

use super::MAX_SHARE_COUNT;
use super::cipher::{
    EncryptedMasterSecret, check_passphrase, check_public_params, check_secret_len,
};
use super::error::Slip39Error;
use super::shamir::{self, Recovery, ct_eq};
use super::share::Share;

/// Threshold and size of one group.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GroupSpec {
    /// Members needed to reconstruct the group share.
    pub member_threshold: u8,
    /// Members in the group.
    pub member_count: u8,
}

/// Splits an already encrypted master secret into `groups.len()` groups of member shares,
/// any `group_threshold` groups being needed. As in the specification and the reference
/// implementation, a group with member threshold 1 must have exactly one member.
pub fn split_ems<R: RngCore + CryptoRng>(
    rng: &mut R,
    ems: &EncryptedMasterSecret,
    group_threshold: u8,
    groups: &[GroupSpec],
) -> Result<Vec<Vec<Share>>, Slip39Error> {
    check_secret_len(ems.ciphertext.len())?;
    check_public_params(ems.identifier, ems.iteration_exponent)?;
    if groups.is_empty() {
        return Err(Slip39Error::InvalidThreshold {
            reason: "at least one group is required",
        });
    }
    if groups.len() > usize::from(MAX_SHARE_COUNT) {
        return Err(Slip39Error::InvalidThreshold {
            reason: "at most 16 groups are allowed",
        });
    }
    if group_threshold == 0 {
        return Err(Slip39Error::InvalidThreshold {
            reason: "the group threshold must be at least 1",
        });
    }
    if usize::from(group_threshold) > groups.len() {
        return Err(Slip39Error::InvalidThreshold {
            reason: "the group threshold is greater than the number of groups",
        });
    }
    for g in groups {
        if g.member_threshold == 0 {
            return Err(Slip39Error::InvalidThreshold {
                reason: "a member threshold must be at least 1",
            });
        }
        if g.member_count > MAX_SHARE_COUNT {
            return Err(Slip39Error::InvalidThreshold {
                reason: "a group may have at most 16 members",
            });
        }
        if g.member_threshold > g.member_count {
            return Err(Slip39Error::InvalidThreshold {
                reason: "a member threshold is greater than its group's member count",
            });
        }
        if g.member_threshold == 1 && g.member_count > 1 {
            return Err(Slip39Error::InvalidThreshold {
                reason: "a group with member threshold 1 must have exactly one member (1-of-1); give copies of that share instead",
            });
        }
    }
    let group_count = groups.len() as u8;
    let group_secrets = shamir::split_secret(rng, group_threshold, group_count, &ems.ciphertext);
    let mut out = Vec::with_capacity(groups.len());
    for (group_index, (spec, group_secret)) in groups.iter().zip(&group_secrets).enumerate() {
        let values =
            shamir::split_secret(rng, spec.member_threshold, spec.member_count, group_secret);
        let members = values
            .into_iter()
            .enumerate()
            .map(|(member_index, value)| Share {
                identifier: ems.identifier,
                extendable: ems.extendable,
                iteration_exponent: ems.iteration_exponent,
                group_index: group_index as u8,
                group_threshold,
                group_count,
                member_index: member_index as u8,
                member_threshold: spec.member_threshold,
                value,
            })
            .collect();
        out.push(members);
    }
    Ok(out)
}

/// Encrypts `master_secret` with `passphrase` under a random 15-bit identifier (two bytes
/// from `rng`, taken before any other randomness) and splits it with [`split_ems`].
pub fn generate_shares<R: RngCore + CryptoRng>(
    rng: &mut R,
    master_secret: &[u8],
    passphrase: &[u8],
    group_threshold: u8,
    groups: &[GroupSpec],
    extendable: bool,
    iteration_exponent: u8,
) -> Result<Vec<Vec<Share>>, Slip39Error> {
    check_passphrase(passphrase)?;
    check_secret_len(master_secret.len())?;
    check_public_params(0, iteration_exponent)?;
    let mut id_bytes = [0u8; 2];
    rng.fill_bytes(&mut id_bytes);
    let identifier = u16::from_be_bytes(id_bytes) & 0x7FFF;
    let ems = EncryptedMasterSecret::encrypt(
        master_secret,
        passphrase,
        identifier,
        extendable,
        iteration_exponent,
    )?;
    split_ems(rng, &ems, group_threshold, groups)
}

/// Checks one share's fields on their own.
fn check_share(position: usize, s: &Share) -> Result<(), Slip39Error> {
    let malformed = |reason| Err(Slip39Error::MalformedShare { position, reason });
    if s.identifier >> 15 != 0 {
        return malformed("identifier is wider than 15 bits");
    }
    if s.iteration_exponent > 15 {
        return malformed("iteration exponent is wider than 4 bits");
    }
    if !(1..=MAX_SHARE_COUNT).contains(&s.group_count)
        || !(1..=s.group_count).contains(&s.group_threshold)
    {
        return Err(Slip39Error::InvalidThreshold {
            reason: "the share's group threshold is greater than its group count",
        });
    }
    if s.group_index >= MAX_SHARE_COUNT {
        return malformed("group index out of range");
    }
    if s.member_index >= MAX_SHARE_COUNT {
        return malformed("member index out of range");
    }
    if !(1..=MAX_SHARE_COUNT).contains(&s.member_threshold) {
        return malformed("member threshold out of range");
    }
    match check_secret_len(s.value.len()) {
        Ok(()) => Ok(()),
        Err(_) => malformed("share value length is invalid"),
    }
}

/// A public parameter on which two shares of one set disagree (see [`check_consistent`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Inconsistency {
    /// The random 15-bit identifier common to all shares of a set.
    Identifier,
    /// The extendable backup flag.
    Extendable,
    /// The iteration exponent of the passphrase encryption.
    IterationExponent,
    /// The number of groups needed to recover the secret.
    GroupThreshold,
    /// The number of groups.
    GroupCount,
    /// The share values' length (the master secret's length).
    ShareLength,
    /// Two shares of the same group name different member thresholds.
    MemberThreshold,
}

impl Inconsistency {
    /// The parameter's name, as every message about it says it.
    pub fn name(self) -> &'static str {
        match self {
            Inconsistency::Identifier => "identifier",
            Inconsistency::Extendable => "extendable flag",
            Inconsistency::IterationExponent => "iteration exponent",
            Inconsistency::GroupThreshold => "group threshold",
            Inconsistency::GroupCount => "group count",
            Inconsistency::ShareLength => "share length",
            Inconsistency::MemberThreshold => "member threshold",
        }
    }
}

impl std::fmt::Display for Inconsistency {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "their {} differs", self.name())
    }
}

/// The one rule for whether two shares can belong to one set: they agree on the identifier,
/// the extendable flag, the iteration exponent, the group threshold and count and the share
/// length, and (when of the same group) on the member threshold. The first disagreement, in
/// that order. Member indices, values and digests are not compared here.
pub fn check_consistent(a: &Share, b: &Share) -> Result<(), Inconsistency> {
    let checks = [
        (a.identifier == b.identifier, Inconsistency::Identifier),
        (a.extendable == b.extendable, Inconsistency::Extendable),
        (
            a.iteration_exponent == b.iteration_exponent,
            Inconsistency::IterationExponent,
        ),
        (
            a.group_threshold == b.group_threshold,
            Inconsistency::GroupThreshold,
        ),
        (a.group_count == b.group_count, Inconsistency::GroupCount),
        (a.value.len() == b.value.len(), Inconsistency::ShareLength),
        (
            a.group_index != b.group_index || a.member_threshold == b.member_threshold,
            Inconsistency::MemberThreshold,
        ),
    ];
    match checks.into_iter().find(|(ok, _)| !ok) {
        Some((_, i)) => Err(i),
        None => Ok(()),
    }
}

/// Combines shares into the encrypted master secret, checking everything the specification
/// requires. Unlike the reference implementation, more shares than needed are accepted: a
/// threshold-sized subset whose digest verifies is found, and every other share must lie on
/// the same polynomial (otherwise [`Slip39Error::InconsistentShares`] names them). Groups
/// with too few members are ignored when enough other groups are complete.
pub fn recover_ems(shares: &[Share]) -> Result<EncryptedMasterSecret, Slip39Error> {
    let first = shares.first().ok_or(Slip39Error::Empty)?;
    for (position, s) in shares.iter().enumerate() {
        check_share(position, s)?;
    }
    for (other, s) in shares.iter().enumerate().skip(1) {
        check_consistent(first, s).map_err(|i| Slip39Error::MismatchedParameter {
            field: i.name(),
            first: 0,
            other,
        })?;
    }

    // Group the shares; check member thresholds and duplicates within each group.
    let mut groups: BTreeMap<u8, Vec<usize>> = BTreeMap::new();
    for (position, s) in shares.iter().enumerate() {
        let members = groups.entry(s.group_index).or_default();
        if let Some(&leader) = members.first()
            && let Err(i) = check_consistent(&shares[leader], s)
        {
            return Err(Slip39Error::MismatchedParameter {
                field: i.name(),
                first: leader,
                other: position,
            });
        }
        if let Some(&earlier) = members
            .iter()
            .find(|&&p| shares[p].member_index == s.member_index)
        {
            return Err(Slip39Error::DuplicateMember {
                group_index: s.group_index,
                member_index: s.member_index,
                first: earlier,
                second: position,
                identical: ct_eq(&shares[earlier].value, &s.value),
            });
        }
        members.push(position);
    }

    let group_threshold = usize::from(first.group_threshold);
    if groups.len() < group_threshold {
        return Err(Slip39Error::InsufficientGroups {
            have: groups.len(),
            need: group_threshold,
        });
    }
    let complete: Vec<(u8, &Vec<usize>)> = groups
        .iter()
        .filter(|(_, members)| members.len() >= usize::from(shares[members[0]].member_threshold))
        .map(|(&g, m)| (g, m))
        .collect();
    if complete.len() < group_threshold {
        // Report the incomplete group closest to completion (lowest index on ties).
        let (group_index, members) = groups
            .iter()
            .filter(|(_, m)| m.len() < usize::from(shares[m[0]].member_threshold))
            .max_by_key(|(g, m)| (m.len(), std::cmp::Reverse(**g)))
            .expect("some group is incomplete");
        return Err(Slip39Error::InsufficientMembers {
            group_index: *group_index,
            have: members.len(),
            need: usize::from(shares[members[0]].member_threshold),
        });
    }

    // Recover each complete group's secret.
    let mut group_secrets: Vec<(u8, Zeroizing<Vec<u8>>)> = Vec::with_capacity(complete.len());
    for &(group_index, members) in &complete {
        let points: Vec<(u8, &[u8])> = members
            .iter()
            .map(|&p| (shares[p].member_index, shares[p].value.as_slice()))
            .collect();
        match shamir::recover(shares[members[0]].member_threshold, &points) {
            Recovery::Secret(secret) => group_secrets.push((group_index, secret)),
            Recovery::Inconsistent(bad) => {
                return Err(Slip39Error::InconsistentShares {
                    shares: bad.into_iter().map(|i| members[i]).collect(),
                    group_index: Some(group_index),
                });
            }
            Recovery::DigestMismatch => {
                return Err(Slip39Error::DigestMismatch {
                    group_index: Some(group_index),
                });
            }
        }
    }

    // Recover the EMS from the group secrets.
    let points: Vec<(u8, &[u8])> = group_secrets
        .iter()
        .map(|(g, s)| (*g, s.as_slice()))
        .collect();
    let ciphertext = match shamir::recover(first.group_threshold, &points) {
        Recovery::Secret(secret) => secret,
        Recovery::Inconsistent(bad) => {
            let mut positions: Vec<usize> = bad
                .iter()
                .flat_map(|&i| complete[i].1.iter().copied())
                .collect();
            positions.sort_unstable();
            return Err(Slip39Error::InconsistentShares {
                shares: positions,
                group_index: None,
            });
        }
        Recovery::DigestMismatch => return Err(Slip39Error::DigestMismatch { group_index: None }),
    };
    Ok(EncryptedMasterSecret {
        identifier: first.identifier,
        extendable: first.extendable,
        iteration_exponent: first.iteration_exponent,
        ciphertext,
    })
}

/// Combines shares and decrypts the master secret with `passphrase` (printable ASCII; use
/// an empty passphrase if none was set).
pub fn combine(shares: &[Share], passphrase: &[u8]) -> Result<Zeroizing<Vec<u8>>, Slip39Error> {
    check_passphrase(passphrase)?;
    recover_ems(shares)?.decrypt(passphrase)
}
