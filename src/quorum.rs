//! From an untrusted pile of presented shares to a validated quorum and the master secret:
//! each share checked alone against the vault, then the set checked (duplicates, mixed sets,
//! enough members per group), then SLIP-39 combine, then the derived public key compared with
//! the vault's. Every error names the share(s) at fault.

use std::fmt;

use subtle::ConstantTimeEq;

use crate::custodian_name;
use crate::input::{Presented, Source};
use crate::keys::{DerivedKeys, KeyError, MasterSecret, fingerprint};
use crate::slip39::{self, Slip39Error};
use crate::timefmt;
use crate::vault::Vault;

/// Whose share this is, as far as the vault (or the token) says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    /// How the share was presented: its [`Presented::label`] (a file path, `stdin`, ...).
    pub label: String,
    /// The custodian the vault's policy (or the token) gives the share to; `member N` without
    /// either.
    pub custodian: String,
    /// The custodian's group, as the vault's policy (or the token) names it; `#N` without either.
    pub group: String,
    /// 0-based SLIP-39 group index of the share.
    pub group_index: u8,
    /// 1-based number within the group: SLIP-39 member index + 1, or in a group whose one
    /// share is held in copies the holder's number in the group (1 when the holder is unknown:
    /// words without a token).
    pub member_number: u8,
    /// How many custodians hold this very share: 1, or in a group whose one share is held in
    /// copies ("any 1 of n", [`crate::policy::Group::holds_copies`]) n. Copies presented
    /// together count once.
    pub holders: u8,
    /// What kind of input the share came in (token, share file, words, image).
    pub source: Source,
    /// The share carried a token whose signature verified under the vault's key.
    pub signed: bool,
}

/// Why one share does not belong to this vault's current set.
#[derive(Debug, PartialEq, Eq)]
pub enum ShareProblem {
    /// Signed by a different key: another vault, or a forgery.
    ForeignKey {
        /// Spoken fingerprint of the key that signed the share's token.
        share_fingerprint: String,
        /// Spoken fingerprint of this vault's signing key.
        vault_fingerprint: String,
    },
    /// Signed by this vault's key but names another vault id.
    OtherVaultId,
    /// From an earlier epoch: replaced by a reshare or master rotation.
    Stale {
        /// Epoch the share's token carries.
        share_epoch: u32,
        /// The vault's current epoch.
        vault_epoch: u32,
        /// Date (`YYYY-MM-DD`) the vault's current epoch began, when the share was replaced.
        since: String,
    },
    /// From a later epoch than this vault file.
    NewerThanVault {
        /// Epoch the share's token carries.
        share_epoch: u32,
        /// Epoch of the vault file given, older than the share.
        vault_epoch: u32,
    },
    /// From the new set of a reshare or rotate-master that `custody confirm` has not yet
    /// confirmed.
    PendingNotConfirmed {
        /// The pending change: `reshare` or `rotate-master`.
        kind: &'static str,
        /// The epoch the pending change's new shares carry.
        epoch: u32,
    },
    /// SLIP-39 identifier or parameters differ from the vault's current share set.
    OtherSet {
        /// The parameter that differs: `identifier`, `extendable flag`, `iteration exponent`,
        /// `group policy` or `member threshold`.
        what: &'static str,
        /// The parameter's value in the share.
        share: String,
        /// The parameter's value in the vault's current share set.
        vault: String,
    },
    /// No custodian of this vault holds that member index.
    UnknownMember {
        /// 0-based SLIP-39 group index of the share.
        group_index: u8,
        /// 0-based SLIP-39 member index of the share.
        member_index: u8,
    },
    /// The token names a different custodian or group than the vault's policy.
    NameMismatch {
        /// Custodian and group the token names, as `name (group G)`.
        token: String,
        /// Custodian and group the vault gives that share to, as `name (group G)`.
        vault: String,
    },
}

impl fmt::Display for ShareProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ShareProblem::ForeignKey {
                share_fingerprint,
                vault_fingerprint,
            } => write!(
                f,
                "it was signed by the key with fingerprint {share_fingerprint}, but this vault's is \
                 {vault_fingerprint}: it belongs to another vault (or is forged)"
            ),
            ShareProblem::OtherVaultId => {
                write!(f, "it names a different vault id than this vault file")
            }
            ShareProblem::Stale {
                share_epoch,
                vault_epoch,
                since,
            } => write!(
                f,
                "it is stale: it belongs to epoch {share_epoch}, but the shares were replaced on \
                 {since} (the vault is at epoch {vault_epoch}); use the custodian's current sheet"
            ),
            ShareProblem::NewerThanVault {
                share_epoch,
                vault_epoch,
            } => write!(
                f,
                "it belongs to epoch {share_epoch}, newer than this vault file (epoch {vault_epoch}): \
                 you are using an old copy of the vault; use the current one"
            ),
            ShareProblem::PendingNotConfirmed { kind, epoch } => write!(
                f,
                "it belongs to the pending {kind} (epoch {epoch}), not yet confirmed: until \
                 the new set is confirmed, use the current shares"
            ),
            ShareProblem::OtherSet { what, share, vault } => write!(
                f,
                "its SLIP-39 {what} is {share} but this vault's shares have {vault}: it is from \
                 another share set (an older epoch or another vault)"
            ),
            ShareProblem::UnknownMember {
                group_index,
                member_index,
            } => write!(
                f,
                "no custodian of this vault holds member {} of group #{}",
                u16::from(*member_index) + 1,
                u16::from(*group_index) + 1
            ),
            ShareProblem::NameMismatch { token, vault } => write!(
                f,
                "its token says it is {token}'s, but the vault gives that share to {vault}"
            ),
        }
    }
}

/// Check one share against the vault, on its own (what `check-share` reports).
pub fn check_share(p: &Presented, vault: &Vault) -> Result<Member, ShareProblem> {
    let s = &p.share;
    if let Some(pending) = &vault.pending_change() {
        let new_set = match &p.token {
            Some(t) => {
                t.info.epoch == pending.epoch() && t.public_key == *pending.public_key(vault)
            }
            None => s.identifier == pending.slip39().identifier,
        };
        if new_set {
            return Err(ShareProblem::PendingNotConfirmed {
                kind: pending.kind().as_str(),
                epoch: pending.epoch(),
            });
        }
    }
    if let Some(t) = &p.token {
        // A token of this vault from before a master rotation carries the retired key: say
        // that it is stale rather than foreign (it is refused either way).
        if t.public_key != *vault.public_key()
            && t.info.vault_id == vault.vault_id()
            && t.info.epoch < vault.epoch()
        {
            return Err(ShareProblem::Stale {
                share_epoch: t.info.epoch,
                vault_epoch: vault.epoch(),
                since: timefmt::date(vault.epoch_started()),
            });
        }
        if t.public_key != *vault.public_key() {
            return Err(ShareProblem::ForeignKey {
                share_fingerprint: fingerprint(&t.public_key),
                vault_fingerprint: vault.fingerprint(),
            });
        }
        if t.info.vault_id != vault.vault_id() {
            return Err(ShareProblem::OtherVaultId);
        }
        if t.info.epoch < vault.epoch() {
            return Err(ShareProblem::Stale {
                share_epoch: t.info.epoch,
                vault_epoch: vault.epoch(),
                since: timefmt::date(vault.epoch_started()),
            });
        }
        if t.info.epoch > vault.epoch() {
            return Err(ShareProblem::NewerThanVault {
                share_epoch: t.info.epoch,
                vault_epoch: vault.epoch(),
            });
        }
    }
    let other = |what: &'static str, share: String, v: String| ShareProblem::OtherSet {
        what,
        share,
        vault: v,
    };
    if s.identifier != vault.slip39().identifier {
        return Err(other(
            "identifier",
            s.identifier.to_string(),
            vault.slip39().identifier.to_string(),
        ));
    }
    if s.extendable != vault.slip39().extendable {
        return Err(other(
            "extendable flag",
            s.extendable.to_string(),
            vault.slip39().extendable.to_string(),
        ));
    }
    if s.iteration_exponent != vault.slip39().iteration_exponent {
        return Err(other(
            "iteration exponent",
            s.iteration_exponent.to_string(),
            vault.slip39().iteration_exponent.to_string(),
        ));
    }
    let policy = &vault.policy();
    if usize::from(s.group_count) != policy.groups.len()
        || s.group_threshold != policy.group_threshold
    {
        return Err(other(
            "group policy",
            format!("{} of {} groups", s.group_threshold, s.group_count),
            format!("{} of {}", policy.group_threshold, policy.groups.len()),
        ));
    }
    let unknown = ShareProblem::UnknownMember {
        group_index: s.group_index,
        member_index: s.member_index,
    };
    let copies = policy
        .groups
        .get(usize::from(s.group_index))
        .filter(|g| g.holds_copies());
    if let Some(group) = copies {
        // Every custodian holds a copy of the group's one share (SLIP-39 member 0); the token,
        // if any, names which copy this is.
        if s.member_index != 0 {
            return Err(unknown);
        }
        if s.member_threshold != group.member_threshold {
            return Err(other(
                "member threshold",
                s.member_threshold.to_string(),
                group.member_threshold.to_string(),
            ));
        }
        let holder = match &p.token {
            Some(t) => Some(
                group
                    .custodians
                    .iter()
                    .find(|c| {
                        custodian_name::same(&t.info.custodian, &c.name)
                            && custodian_name::same(&t.info.group, &group.name)
                    })
                    .ok_or_else(|| ShareProblem::NameMismatch {
                        token: format!("{} (group {})", t.info.custodian, t.info.group),
                        vault: format!(
                            "{} (group {}, each holding a copy)",
                            group.holder_names(),
                            group.name
                        ),
                    })?,
            ),
            None => None,
        };
        return Ok(Member {
            label: p.label.clone(),
            custodian: match holder {
                Some(c) => c.name.clone(),
                None => {
                    crate::policy::joined(group.custodians.iter().map(|c| c.name.as_str()), "or")
                }
            },
            group: group.name.clone(),
            group_index: s.group_index,
            member_number: holder.map_or(1, |c| c.member_index + 1),
            holders: group.custodians.len() as u8,
            source: p.source,
            signed: p.token.is_some(),
        });
    }
    let (group, custodian) = policy
        .custodian(s.group_index, s.member_index)
        .ok_or(unknown)?;
    if s.member_threshold != group.member_threshold {
        return Err(other(
            "member threshold",
            s.member_threshold.to_string(),
            group.member_threshold.to_string(),
        ));
    }
    // A rebuilt vault's placeholder (`unknown-1.4`) takes the name the signed token carries.
    let unknown_custodian = custodian_name::is_placeholder(&custodian.name);
    let unknown_group = custodian_name::is_placeholder(&group.name);
    if let Some(t) = &p.token
        && !((unknown_custodian || custodian_name::same(&t.info.custodian, &custodian.name))
            && (unknown_group || custodian_name::same(&t.info.group, &group.name)))
    {
        return Err(ShareProblem::NameMismatch {
            token: format!("{} (group {})", t.info.custodian, t.info.group),
            vault: format!("{} (group {})", custodian.name, group.name),
        });
    }
    let named = |unknown: bool, stored: &str, signed: Option<&str>| match signed {
        Some(n) if unknown => n.to_owned(),
        _ => stored.to_owned(),
    };
    let info = p.token.as_ref().map(|t| &t.info);
    Ok(Member {
        label: p.label.clone(),
        custodian: named(
            unknown_custodian,
            &custodian.name,
            info.map(|i| i.custodian.as_str()),
        ),
        group: named(unknown_group, &group.name, info.map(|i| i.group.as_str())),
        group_index: s.group_index,
        member_number: s.member_index + 1,
        holders: 1,
        source: p.source,
        signed: p.token.is_some(),
    })
}

/// Name a share without a vault: from its token, else by position.
pub fn member_without_vault(p: &Presented) -> Member {
    let s = &p.share;
    let (custodian, group) = match &p.token {
        Some(t) => (t.info.custodian.clone(), t.info.group.clone()),
        None => (
            format!("member {}", u16::from(s.member_index) + 1),
            format!("#{}", u16::from(s.group_index) + 1),
        ),
    };
    Member {
        label: p.label.clone(),
        custodian,
        group,
        group_index: s.group_index,
        member_number: s.member_index + 1,
        holders: 1,
        source: p.source,
        signed: p.token.is_some(),
    }
}

/// Why a set of shares did not yield the master secret. Never a wrong secret.
#[derive(Debug)]
pub enum QuorumError {
    /// No share was presented at all.
    NoShares,
    /// One or more shares failed their individual checks.
    Rejected(Vec<(String, ShareProblem)>),
    /// The same share was presented twice.
    Duplicate {
        /// Label of the first copy presented.
        first: String,
        /// Label of the second copy.
        second: String,
        /// Whose share it is: `custodian, member N of group G`.
        who: String,
    },
    /// Two different shares claim the same custodian slot.
    Conflict {
        /// Label of the first share claiming the slot.
        first: String,
        /// Label of the other share claiming it.
        second: String,
        /// The slot both claim: `custodian, member N of group G`.
        who: String,
    },
    /// Shares from different vaults, sets or epochs.
    Mixed {
        /// Label of the first share presented, which the others are compared with.
        first: String,
        /// Label of the share whose set differs from it.
        other: String,
        /// The parameter that differs (see [`set_difference`]).
        what: &'static str,
    },
    /// Not enough shares: one line per group, e.g. "have 2 of 3 for group Ops".
    TooFew {
        /// One line per group, complete or not, then (with several groups) how many groups
        /// are complete of how many needed.
        lines: Vec<String>,
    },
    /// The vault needs the SLIP-39 passphrase and none was given.
    PassphraseRequired,
    /// A passphrase was given but the vault's shares were made without one.
    PassphraseNotUsed,
    /// These shares disagree with the rest of the quorum.
    Inconsistent {
        /// Labels of the shares off the polynomial the rest agree on.
        labels: Vec<String>,
    },
    /// The shares combine to something whose digest does not verify.
    Digest {
        /// The group whose member shares fail their digest; `None` when the combined groups do.
        group: Option<String>,
    },
    /// The secret recovered does not derive the vault's key.
    WrongSecret {
        /// Spoken fingerprint of the vault's key (without a vault, of the tokens' key).
        expected: String,
        /// Spoken fingerprint of the key the recovered secret derives.
        derived: String,
        /// Whether a SLIP-39 passphrase was given (then it is most likely mistyped).
        passphrase_given: bool,
    },
    /// SLIP-39 could not combine the shares for another reason (see [`Slip39Error`]).
    Slip39(Slip39Error),
    /// The recovered secret does not yield custody's keys (see [`KeyError`]).
    Key(KeyError),
}

impl fmt::Display for QuorumError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            QuorumError::NoShares => write!(f, "no shares given"),
            QuorumError::Rejected(list) => {
                write!(f, "{} share(s) rejected:", list.len())?;
                for (label, p) in list {
                    write!(f, "\n  share {label}: {p}")?;
                }
                Ok(())
            }
            QuorumError::Duplicate { first, second, who } => write!(
                f,
                "shares {first} and {second} are the same share ({who}) presented twice; \
                 each custodian presents their own share once"
            ),
            QuorumError::Conflict { first, second, who } => write!(
                f,
                "shares {first} and {second} both claim to be {who} but differ: at least one is \
                 damaged or forged; check both against the printed sheets"
            ),
            QuorumError::Mixed { first, other, what } => write!(
                f,
                "shares {first} and {other} come from different share sets (their {what} differs): \
                 use shares of one vault and one epoch only"
            ),
            QuorumError::TooFew { lines } => {
                write!(f, "not enough shares to reconstruct:")?;
                for l in lines {
                    write!(f, "\n  {l}")?;
                }
                Ok(())
            }
            QuorumError::PassphraseRequired => write!(
                f,
                "this vault's shares are protected by a SLIP-39 passphrase, and none was \
                 given"
            ),
            QuorumError::PassphraseNotUsed => write!(
                f,
                "this vault's shares were made without a SLIP-39 passphrase, but one was \
                 given"
            ),
            QuorumError::Inconsistent { labels } => write!(
                f,
                "share(s) {} do not agree with the others: they are damaged, forged, or from \
                 another set. The rest of the quorum was consistent; leave those out",
                labels.join(", ")
            ),
            QuorumError::Digest { group } => write!(
                f,
                "the shares{} do not fit together (the SLIP-39 digest check failed): at least one \
                 is damaged or forged. No secret was produced",
                group
                    .as_ref()
                    .map(|g| format!(" of group {g}"))
                    .unwrap_or_default()
            ),
            QuorumError::WrongSecret {
                expected,
                derived,
                passphrase_given,
            } => {
                write!(
                    f,
                    "the shares combine, but to a key with fingerprint {derived}, not this vault's \
                     {expected}: "
                )?;
                if *passphrase_given {
                    write!(
                        f,
                        "the passphrase is probably wrong (SLIP-39 cannot detect a wrong passphrase); try again"
                    )
                } else {
                    write!(
                        f,
                        "these shares belong to another vault, or a passphrase is needed"
                    )
                }
            }
            QuorumError::Slip39(e) => e.fmt(f),
            QuorumError::Key(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for QuorumError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            QuorumError::Slip39(e) => Some(e),
            QuorumError::Key(e) => Some(e),
            _ => None,
        }
    }
}

/// The result of a successful quorum. Dropping it zeroizes the secret and keys.
pub struct Unlocked {
    /// The reconstructed master secret, in locked memory.
    pub master: MasterSecret,
    /// The signing key and age identity derived from it; their public key is the vault's
    /// (or the tokens').
    pub keys: DerivedKeys,
    /// Every share presented, in order of presentation.
    pub members: Vec<Member>,
    /// Groups presented but short of their threshold: their shares took no part.
    pub incomplete_groups: Vec<String>,
    /// Copies of one group's share presented by several of its holders: each counted once.
    pub counted_once: Vec<CountedOnce>,
}

/// Copies of one group's share ("any 1 of n": every holder has a copy of the group's one
/// SLIP-39 share) presented together by several holders: they count once, as one share.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CountedOnce {
    /// The group's name.
    pub group: String,
    /// 0-based SLIP-39 group index.
    pub group_index: u8,
    /// The holders whose copies were presented, in order of presentation.
    pub holders: Vec<String>,
    /// The copies' input labels, in the same order.
    pub labels: Vec<String>,
}

impl CountedOnce {
    /// "frank's and gina's copies of group Board's one share".
    pub fn copies(&self) -> String {
        let owned: Vec<String> = self.holders.iter().map(|h| format!("{h}'s")).collect();
        format!(
            "{} copies of group {}'s one share",
            crate::policy::joined(owned.iter().map(String::as_str), "and"),
            self.group
        )
    }
}

impl fmt::Display for CountedOnce {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} are the same share: presented together they count once",
            self.copies()
        )
    }
}

/// Whether `q` and `p` (equal shares in one slot) are copies held by different custodians of
/// a group that holds copies, rather than one share presented twice: a member threshold of 1
/// (with a vault: a group of several holders), and tokens naming different holders (or a
/// share without a token, whose holder cannot be told).
pub(crate) fn is_copy(
    with_vault: bool,
    q: &Presented,
    mq: &Member,
    p: &Presented,
    mp: &Member,
) -> bool {
    p.share.member_threshold == 1
        && (!with_vault || mp.holders > 1)
        && (q.token.is_none()
            || p.token.is_none()
            || !custodian_name::same(&mq.custodian, &mp.custodian))
}

impl fmt::Debug for Unlocked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Unlocked")
            .field("keys", &self.keys)
            .field("members", &self.members)
            .finish_non_exhaustive()
    }
}

/// Which parameter, if any, puts share `b` in a different share set than share `a`: one that
/// [`slip39::check_consistent`] finds (identifier, flag, iteration exponent, thresholds, share
/// length), or (when both carry tokens) another signing key, vault id or epoch.
pub fn set_difference(a: &Presented, b: &Presented) -> Option<&'static str> {
    if let Err(i) = crate::slip39::check_consistent(&a.share, &b.share) {
        Some(i.name())
    } else {
        match (&a.token, &b.token) {
            (Some(s), Some(t)) if s.public_key != t.public_key => Some("signing key"),
            (Some(s), Some(t)) if s.info.vault_id != t.info.vault_id => Some("vault id"),
            (Some(s), Some(t)) if s.info.epoch != t.info.epoch => Some("epoch"),
            _ => None,
        }
    }
}

fn group_name(vault: Option<&Vault>, members: &[Member], gi: u8) -> String {
    if let Some(v) = vault
        && let Some(g) = v.policy().groups.get(usize::from(gi))
    {
        return g.name.clone();
    }
    members
        .iter()
        .find(|m| m.group_index == gi)
        .map(|m| m.group.clone())
        .unwrap_or_else(|| format!("#{}", u16::from(gi) + 1))
}

/// Validate the presented shares and reconstruct the master secret.
pub fn unlock(
    presented: &[Presented],
    vault: Option<&Vault>,
    passphrase: Option<&[u8]>,
) -> Result<Unlocked, QuorumError> {
    if presented.is_empty() {
        return Err(QuorumError::NoShares);
    }
    // 1. Each share alone.
    let mut members = Vec::with_capacity(presented.len());
    let mut rejected = Vec::new();
    for p in presented {
        match vault {
            Some(v) => match check_share(p, v) {
                Ok(m) => members.push(m),
                Err(e) => rejected.push((p.label.clone(), e)),
            },
            None => members.push(member_without_vault(p)),
        }
    }
    if !rejected.is_empty() {
        return Err(QuorumError::Rejected(rejected));
    }
    if let Some(v) = vault {
        if v.slip39().passphrase && passphrase.is_none() {
            return Err(QuorumError::PassphraseRequired);
        }
        if !v.slip39().passphrase && passphrase.is_some() {
            return Err(QuorumError::PassphraseNotUsed);
        }
    }
    // 2. The set: one vault / set / epoch, no share twice, no slot claimed twice.
    let first = &presented[0];
    for p in &presented[1..] {
        let what = set_difference(first, p);
        if let Some(what) = what {
            return Err(QuorumError::Mixed {
                first: first.label.clone(),
                other: p.label.clone(),
                what,
            });
        }
    }
    // Copies of a group's one share held by several custodians ("any 1 of n") count once;
    // any other share presented twice, or two different shares in one slot, is refused.
    let mut counted: Vec<usize> = Vec::with_capacity(presented.len());
    let mut counted_once: Vec<CountedOnce> = Vec::new();
    for (i, p) in presented.iter().enumerate() {
        let Some(&j) = counted.iter().find(|&&j| {
            presented[j].share.group_index == p.share.group_index
                && presented[j].share.member_index == p.share.member_index
        }) else {
            counted.push(i);
            continue;
        };
        let q = &presented[j];
        let same: bool = q
            .share
            .value
            .as_slice()
            .ct_eq(p.share.value.as_slice())
            .into();
        let (mq, mp) = (&members[j], &members[i]);
        if same && is_copy(vault.is_some(), q, mq, p, mp) {
            match counted_once
                .iter_mut()
                .find(|c| c.group_index == p.share.group_index)
            {
                Some(c) => {
                    c.holders.push(mp.custodian.clone());
                    c.labels.push(p.label.clone());
                }
                None => counted_once.push(CountedOnce {
                    group: mq.group.clone(),
                    group_index: p.share.group_index,
                    holders: vec![mq.custodian.clone(), mp.custodian.clone()],
                    labels: vec![q.label.clone(), p.label.clone()],
                }),
            }
            continue;
        }
        let who = format!(
            "{}, member {} of group {}",
            mq.custodian, mq.member_number, mq.group
        );
        let (first, second) = (q.label.clone(), p.label.clone());
        return Err(if same {
            QuorumError::Duplicate { first, second, who }
        } else {
            QuorumError::Conflict { first, second, who }
        });
    }
    // 3. Enough members in enough groups.
    let s0 = &first.share;
    let mut complete = Vec::new();
    let mut lines = Vec::new();
    let mut incomplete_groups = Vec::new();
    let mut group_indices: Vec<u8> = presented.iter().map(|p| p.share.group_index).collect();
    group_indices.sort_unstable();
    group_indices.dedup();
    for &gi in &group_indices {
        let shares: Vec<&Presented> = counted
            .iter()
            .map(|&i| &presented[i])
            .filter(|p| p.share.group_index == gi)
            .collect();
        let need = shares[0].share.member_threshold;
        let have = shares.len();
        let name = group_name(vault, &members, gi);
        if have >= usize::from(need) {
            complete.push(gi);
            match counted_once.iter().find(|c| c.group_index == gi) {
                Some(c) => lines.push(format!(
                    "group {name}: complete ({have} of {need} needed; {} count once)",
                    c.copies()
                )),
                None => lines.push(format!("group {name}: complete ({have} of {need} needed)")),
            }
        } else {
            lines.push(format!("have {have} of {need} for group {name}"));
            incomplete_groups.push(name);
        }
    }
    if let Some(v) = vault {
        for (gi, g) in v.policy().groups.iter().enumerate() {
            if !group_indices.contains(&(gi as u8)) {
                lines.push(format!(
                    "have 0 of {} for group {}",
                    g.member_threshold, g.name
                ));
            }
        }
    }
    if complete.len() < usize::from(s0.group_threshold) {
        if s0.group_count > 1 {
            lines.push(format!(
                "{} of the {} groups are complete; {} are needed",
                complete.len(),
                s0.group_count,
                s0.group_threshold
            ));
        }
        return Err(QuorumError::TooFew { lines });
    }
    // 4. Combine the complete groups' shares (SLIP-39 checks digests and extra shares).
    let used: Vec<usize> = counted
        .iter()
        .copied()
        .filter(|&i| complete.contains(&presented[i].share.group_index))
        .collect();
    let shares: Vec<slip39::Share> = used.iter().map(|&i| presented[i].share.clone()).collect();
    let secret = slip39::combine(&shares, passphrase.unwrap_or(b"")).map_err(|e| match e {
        Slip39Error::InconsistentShares { shares, .. } => QuorumError::Inconsistent {
            labels: shares
                .iter()
                .map(|&k| presented[used[k]].label.clone())
                .collect(),
        },
        Slip39Error::DigestMismatch { group_index } => QuorumError::Digest {
            group: group_index.map(|gi| group_name(vault, &members, gi)),
        },
        other => QuorumError::Slip39(other),
    })?;
    let master = MasterSecret::from_bytes(&secret).map_err(QuorumError::Key)?;
    drop(secret);
    let keys = master.derive().map_err(QuorumError::Key)?;
    // 5. The derived key must be the vault's (or the tokens').
    let expected = vault.map(|v| *v.public_key()).or_else(|| {
        presented
            .iter()
            .find_map(|p| p.token.as_ref().map(|t| t.public_key))
    });
    if let Some(pk) = expected
        && keys.verifying_key() != pk
    {
        return Err(QuorumError::WrongSecret {
            expected: fingerprint(&pk),
            derived: fingerprint(&keys.verifying_key()),
            passphrase_given: passphrase.is_some(),
        });
    }
    Ok(Unlocked {
        master,
        keys,
        members,
        incomplete_groups,
        counted_once,
    })
}
