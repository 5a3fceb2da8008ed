//! Rebuilding a lost vault file from a quorum of its shares. The public vault is what the
//! shares and their signed tokens can say: the vault id, epoch and share-set creation time
//! (from the tokens), the SLIP-39 identifier, flags, iteration exponent and thresholds (from
//! the shares), and the keys the quorum reconstructs, which must be the public key the tokens
//! were signed with. Custodians and groups no presented token names get placeholders
//! ([`custodian_name::unknown_custodian`], `unknown-1.4`) until the next reshare. Credentials
//! sealed in the lost file are NOT on the shares: the rebuilt vault has none. It is written
//! only if neither the vault nor its audit log exists, and a new audit log beside it starts
//! with the rebuild ceremony (action `rebuild-vault`), signed by the rebuilt key.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use super::session::{self, Begun, Presentation, SessionError};
use crate::audit::{self, AuditError};
use crate::clock::Clock;
use crate::custodian_name;
use crate::keys::{self, KeyError};
use crate::policy::{Custodian, Group, MAX_MEMBERS, Policy};
use crate::quorum::QuorumError;
use crate::vault::store::{self, StoreError};
use crate::vault::{Slip39Params, Vault, VaultError};

/// How many custodians a group has and, for a group none of whose shares is presented, how
/// many of them it needs: `N`, or `K/N`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GroupShape {
    /// The member threshold, if given (needed for a group with no presented share).
    pub threshold: Option<u8>,
    /// The number of custodians.
    pub count: u8,
}

impl FromStr for GroupShape {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || format!("`{s}` is not a group size: write N (5) or K/N (3/5)");
        let num = |t: &str| -> Result<u8, String> {
            match t.trim().parse::<u8>() {
                Ok(n) if (1..=MAX_MEMBERS as u8).contains(&n) => Ok(n),
                _ => Err(bad()),
            }
        };
        match s.split_once('/') {
            Some((k, n)) => Ok(GroupShape {
                threshold: Some(num(k)?),
                count: num(n)?,
            }),
            None => Ok(GroupShape {
                threshold: None,
                count: num(s)?,
            }),
        }
    }
}

/// Why no vault was rebuilt. Nothing is left behind: a vault file written before a later
/// failure is removed again.
#[derive(Debug)]
pub enum RebuildError {
    /// The vault file, or an audit log at its path, exists: nothing is overwritten.
    Exists(PathBuf),
    /// No presented share carries a signed token: bare SLIP-39 words do not say which vault
    /// they belong to (its id, epoch and names are only in the tokens).
    NoToken,
    /// The presented tokens are not of one vault and epoch.
    TokensDisagree {
        /// What differs: `vault id`, `epoch` or `public key`.
        field: &'static str,
        /// The first input.
        first: String,
        /// The input that differs from it.
        other: String,
    },
    /// A bare-words share is of another SLIP-39 share set than the tokens.
    OtherSet {
        /// The input's label.
        label: String,
    },
    /// The shares do not make a quorum.
    Quorum(QuorumError),
    /// The keys could not be derived.
    Key(KeyError),
    /// The quorum reconstructs a key other than the one the tokens were signed with.
    WrongKey {
        /// Fingerprint of the key the shares combine to.
        derived: String,
        /// Fingerprint of the tokens' key.
        signed: String,
        /// Whether a passphrase was given.
        passphrase_given: bool,
    },
    /// A group none of whose shares was presented, and whose shape was not given.
    GroupShapeNeeded {
        /// The group's number (from 1).
        group: usize,
        /// How many groups the vault has.
        groups: usize,
    },
    /// A group's given shape contradicts its shares.
    ShapeDisagrees {
        /// The group's number (from 1).
        group: usize,
        /// What the officer gave.
        given: String,
        /// What the shares say.
        shares: String,
    },
    /// More group shapes were given than the vault has groups.
    TooManyShapes {
        /// How many were given.
        given: usize,
        /// How many groups the shares say the vault has.
        groups: usize,
    },
    /// The policy rebuilt is not a valid one (a 1-of-n group, say).
    Vault(VaultError),
    /// The vault file could not be written, or read back.
    Store(StoreError),
    /// The rebuild ceremony could not be recorded.
    Session(SessionError),
    /// The rebuild ceremony's record could not be written.
    Audit(AuditError),
}

impl fmt::Display for RebuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RebuildError::Exists(p) => write!(
                f,
                "{} exists; a rebuild never overwrites a vault or an audit log",
                p.display()
            ),
            RebuildError::NoToken => write!(
                f,
                "none of the shares carries a signed token, and bare SLIP-39 words do not say \
                 which vault they belong to (its id, epoch and custodian names are only in the \
                 tokens): present at least one share as a token, share file or sheet photo; the \
                 words alone still give the key's fingerprint in a drill without a vault"
            ),
            RebuildError::TokensDisagree {
                field,
                first,
                other,
            } => write!(
                f,
                "the tokens of {first} and {other} have different {field}s: they are not of one \
                 vault and share set"
            ),
            RebuildError::OtherSet { label } => write!(
                f,
                "{label} is of another SLIP-39 share set than the tokens (different identifier)"
            ),
            RebuildError::Quorum(e) => e.fmt(f),
            RebuildError::Key(e) => e.fmt(f),
            RebuildError::WrongKey {
                derived,
                signed,
                passphrase_given,
            } => write!(
                f,
                "the shares combine to key {derived}, but their tokens were signed by key \
                 {signed}{}",
                if *passphrase_given {
                    ": the passphrase is wrong, or the shares were altered"
                } else {
                    ": if the vault's shares were made with a SLIP-39 passphrase, give it"
                }
            ),
            RebuildError::GroupShapeNeeded { group, groups } => write!(
                f,
                "none of the shares presented is of group {group} (of {groups}): how many \
                 custodians it has and needs cannot be read from the shares; give it as K/N \
                 (the policy line on any sheet shows it)"
            ),
            RebuildError::ShapeDisagrees {
                group,
                given,
                shares,
            } => write!(
                f,
                "group {group} was given as {given}, but its shares say {shares}"
            ),
            RebuildError::TooManyShapes { given, groups } => write!(
                f,
                "{given} group sizes were given, but the shares say the vault has {groups} \
                 group(s)"
            ),
            RebuildError::Vault(e) => e.fmt(f),
            RebuildError::Store(e) => e.fmt(f),
            RebuildError::Session(e) => e.fmt(f),
            RebuildError::Audit(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for RebuildError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            RebuildError::Quorum(e) => Some(e),
            RebuildError::Key(e) => Some(e),
            RebuildError::Vault(e) => Some(e),
            RebuildError::Store(e) => Some(e),
            RebuildError::Session(e) => Some(e),
            RebuildError::Audit(e) => Some(e),
            _ => None,
        }
    }
}

super::wrap_errors!(RebuildError,
    QuorumError => Quorum,
    KeyError => Key,
    VaultError => Vault,
    StoreError => Store,
    SessionError => Session,
    AuditError => Audit,
);

/// The vault rebuilt. Nothing secret.
#[derive(Debug)]
pub struct Rebuilt {
    /// The vault file written.
    pub path: PathBuf,
    /// Its new audit log.
    pub audit_log: PathBuf,
    /// The vault as written.
    pub vault: Vault,
    /// Placeholders given to custodians no presented token names.
    pub unknown: Vec<String>,
    /// Groups whose number of custodians was not given and was taken as the highest member
    /// number presented (or the threshold): (group name, count).
    pub assumed: Vec<(String, u8)>,
    /// What the process hardening could not do.
    pub hardening_warnings: Vec<String>,
}

/// Rebuild the vault at `out` from `presentation` (a quorum; at least one share with a token),
/// `shapes` giving each group's size in group order (`N`, or `K/N` for a group with no
/// presented share; missing sizes are taken from the shares and reported in
/// [`Rebuilt::assumed`]).
pub fn rebuild(
    out: &Path,
    presentation: &Presentation,
    shapes: &[GroupShape],
    clock: Clock,
) -> Result<Rebuilt, RebuildError> {
    let log = audit::log_path(out);
    for p in [out, log.as_path()] {
        if p.exists() {
            return Err(RebuildError::Exists(p.to_path_buf()));
        }
    }
    let shares = &presentation.shares;
    let (first, token) = shares
        .iter()
        .find_map(|p| p.token.as_ref().map(|t| (p, t)))
        .ok_or(RebuildError::NoToken)?;
    for p in shares {
        let differs = match &p.token {
            Some(t) if t.info.vault_id != token.info.vault_id => Some("vault id"),
            Some(t) if t.info.epoch != token.info.epoch => Some("epoch"),
            Some(t) if t.public_key != token.public_key => Some("public key"),
            _ => None,
        };
        if let Some(field) = differs {
            return Err(RebuildError::TokensDisagree {
                field,
                first: first.label.clone(),
                other: p.label.clone(),
            });
        }
        if p.share.identifier != first.share.identifier {
            return Err(RebuildError::OtherSet {
                label: p.label.clone(),
            });
        }
    }
    let (unlocked, hardening) = session::unlock_without_vault(presentation)?;
    let derived = unlocked.keys.verifying_key();
    if derived != token.public_key {
        return Err(RebuildError::WrongKey {
            derived: keys::fingerprint(&derived),
            signed: keys::fingerprint(&token.public_key),
            passphrase_given: presentation.passphrase.is_some(),
        });
    }

    let s0 = &first.share;
    let groups = usize::from(s0.group_count);
    if shapes.len() > groups {
        return Err(RebuildError::TooManyShapes {
            given: shapes.len(),
            groups,
        });
    }
    let mut policy = Policy {
        group_threshold: s0.group_threshold,
        groups: Vec::with_capacity(groups),
    };
    let mut unknown = Vec::new();
    let mut assumed = Vec::new();
    for g in 0..groups {
        let of_group: Vec<_> = shares
            .iter()
            .filter(|p| usize::from(p.share.group_index) == g)
            .collect();
        let shape = shapes.get(g).copied();
        let name = of_group
            .iter()
            .find_map(|p| p.token.as_ref().map(|t| t.info.group.clone()))
            .unwrap_or_else(|| custodian_name::unknown_group(g + 1));
        let (threshold, count) = match of_group.first() {
            Some(p) => {
                let threshold = p.share.member_threshold;
                let highest = of_group
                    .iter()
                    .map(|p| p.share.member_index + 1)
                    .max()
                    .unwrap_or(1);
                if let Some(GroupShape {
                    threshold: Some(k), ..
                }) = shape
                    && k != threshold
                {
                    return Err(RebuildError::ShapeDisagrees {
                        group: g + 1,
                        given: format!("{k} of {}", shape.map_or(0, |s| s.count)),
                        shares: format!("{threshold} of them are needed"),
                    });
                }
                let least = highest.max(threshold);
                let count = match shape {
                    Some(s) if s.count < least => {
                        return Err(RebuildError::ShapeDisagrees {
                            group: g + 1,
                            given: format!("{} custodians", s.count),
                            shares: format!(
                                "at least {least} (a share has member number {highest}, {threshold} are needed)"
                            ),
                        });
                    }
                    Some(s) => s.count,
                    None => {
                        assumed.push((name.clone(), least));
                        least
                    }
                };
                (threshold, count)
            }
            None => match shape {
                Some(GroupShape {
                    threshold: Some(k),
                    count,
                }) => (k, count),
                _ => {
                    return Err(RebuildError::GroupShapeNeeded {
                        group: g + 1,
                        groups,
                    });
                }
            },
        };
        let custodians = (0..count)
            .map(|m| {
                let named = of_group.iter().find_map(|p| {
                    p.token
                        .as_ref()
                        .filter(|_| p.share.member_index == m)
                        .map(|t| t.info.custodian.clone())
                });
                let name = named.unwrap_or_else(|| {
                    let n = custodian_name::unknown_custodian(g + 1, usize::from(m) + 1);
                    unknown.push(n.clone());
                    n
                });
                Custodian {
                    name,
                    member_index: m,
                }
            })
            .collect();
        policy.groups.push(Group {
            name,
            member_threshold: threshold,
            custodians,
        });
    }
    let started = shares
        .iter()
        .filter_map(|p| p.token.as_ref().map(|t| t.info.created))
        .min()
        .unwrap_or(token.info.created);
    let vault = Vault::rebuilt(
        token.info.vault_id,
        token.info.epoch,
        started,
        &unlocked.keys,
        Slip39Params {
            identifier: s0.identifier,
            extendable: s0.extendable,
            iteration_exponent: s0.iteration_exponent,
            passphrase: presentation.passphrase.is_some(),
        },
        policy,
    )?;
    drop(unlocked);

    store::create_new(out, vault.to_json().as_bytes(), 0o644)?;
    // From here on the files are ours: remove them again if the ceremony cannot be recorded.
    let recorded = (|| -> Result<(), RebuildError> {
        let begun = Begun::begin(out, "rebuild-vault", clock)?;
        let session = begun.unlock(presentation)?;
        session.note("rebuilt-epoch", &vault.epoch().to_string())?;
        if !unknown.is_empty() {
            session.note("unknown-custodians", &unknown.join(", "))?;
        }
        session.finish(Ok::<(), RebuildError>(()), |()| {
            format!(
                "vault file rebuilt from {} shares (epoch {}); the credentials sealed in the \
                 lost file are not on the shares",
                shares.len(),
                vault.epoch()
            )
        })
    })();
    if let Err(e) = recorded {
        let _ = std::fs::remove_file(out);
        let _ = std::fs::remove_file(&log);
        return Err(e);
    }
    Ok(Rebuilt {
        path: out.to_path_buf(),
        audit_log: log,
        vault: store::load(out)?,
        unknown,
        assumed,
        hardening_warnings: hardening.warnings(),
    })
}
