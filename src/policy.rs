//! The quorum policy: groups of named custodians, each group with a member threshold, and how
//! many groups must take part. Maps one-to-one onto SLIP-39's two-level scheme.

use std::collections::{HashMap, HashSet};
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::custodian_name::{self, NameRule, spelled};
use crate::slip39::GroupSpec;
use crate::terminal_text::escape;

/// SLIP-39's limit on groups, and on members in a group.
pub const MAX_MEMBERS: usize = 16;

/// One person holding one member share of a group.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Custodian {
    /// The custodian's name, unique among all custodians of the policy: ignoring case in a
    /// stored policy; in a new one, in NFC and unique after NFC and case folding
    /// ([`custodian_name`]).
    pub name: String,
    /// The custodian's place in the group (0-based, unique in the group); printed on sheets as
    /// `index` + 1. It is the SLIP-39 member index of the custodian's share, except in a
    /// group whose one share is held in copies ([`Group::holds_copies`]): there every copy is
    /// SLIP-39 member 0 and this number only tells the holders apart.
    pub member_index: u8,
}

/// One SLIP-39 group: named custodians, of whom `member_threshold` must take part.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Group {
    /// The group's name, unique (ignoring case) among the policy's groups.
    pub name: String,
    /// How many of the group's custodians must combine their shares (1 to their number). A
    /// threshold of 1 with several custodians is issued as copies of the group's one SLIP-39
    /// member share, one copy per custodian ([`Group::holds_copies`]).
    pub member_threshold: u8,
    /// The group's custodians (1 to 16), each with its own member index.
    pub custodians: Vec<Custodian>,
}

/// Who must take part to open the vault: the groups, and how many of them are needed
/// (shares-format.md, "Policy rules").
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// How many groups must each meet their member threshold (1 to the number of groups).
    pub group_threshold: u8,
    /// The groups (1 to 16), in SLIP-39 group-index order.
    pub groups: Vec<Group>,
}

/// A policy that cannot be used, with what to change.
#[derive(Debug, PartialEq, Eq)]
pub enum PolicyError {
    /// No custodian was named at all (in the whole policy, or in a list of custodians to add).
    NoCustodians,
    /// This group or custodian name breaks a rule: [`custodian_name::admit`] for a new name,
    /// [`custodian_name::check_stored`] for one already stored.
    BadName {
        /// What it names: `custodian` or `group`.
        what: &'static str,
        /// The name, as given.
        name: String,
        /// The rule it breaks.
        rule: NameRule,
    },
    /// Two custodians, or two groups, have one name: compared ignoring case in a stored
    /// policy, and after NFC and case folding in a new one ([`custodian_name::collision_key`]).
    DuplicateName {
        /// What they name: `custodian` or `group`.
        what: &'static str,
        /// The name that came first.
        first: String,
        /// The name that repeats it.
        name: String,
    },
    /// This many groups were given; SLIP-39 allows at most [`MAX_MEMBERS`].
    TooManyGroups(usize),
    /// A group has (or would have) more than [`MAX_MEMBERS`] custodians.
    TooManyMembers {
        /// The group's name.
        group: String,
        /// How many custodians it has or would have.
        count: usize,
    },
    /// This group has no custodians.
    EmptyGroup(String),
    /// A group's member threshold is 0 or more than its number of custodians.
    BadMemberThreshold {
        /// The group's name.
        group: String,
        /// The member threshold asked for.
        threshold: u8,
        /// How many custodians the group has.
        count: usize,
    },
    /// The group threshold is 0 or more than the number of groups.
    BadGroupThreshold {
        /// The group threshold asked for.
        threshold: u8,
        /// How many groups the policy has.
        groups: usize,
    },
    /// A `GROUP/NAME` custodian names this group, which is not defined (or names none).
    UnknownGroup(String),
    /// Two custodians of a group share a member index, or an index is 16 or more.
    DuplicateMemberIndex {
        /// The group's name.
        group: String,
        /// The repeated or out-of-range member index (0-based).
        index: u8,
    },
    /// Several groups were given but not how many of them must take part.
    GroupThresholdNeeded,
    /// This group argument is not of the form `NAME:K`.
    BadGroupSpec(String),
    /// No group has this (0-based) index.
    NoGroupIndex(usize),
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PolicyError::NoCustodians => write!(f, "no custodians were named"),
            PolicyError::BadName { what, name, rule } => {
                write!(f, "the {what} name `{}` is refused: {rule}", escape(name))
            }
            PolicyError::DuplicateName { what, first, name } if first == name => write!(
                f,
                "the {what} name `{}` is used twice: every {what} needs a name of its own",
                escape(name)
            ),
            PolicyError::DuplicateName { what, first, name } => write!(
                f,
                "the {what} names {} and {} are the same name used twice once letter case and \
                 Unicode composition are ignored: every {what} needs a name of its own",
                spelled(first),
                spelled(name)
            ),
            PolicyError::TooManyGroups(n) => {
                write!(f, "{n} groups given; SLIP-39 allows at most {MAX_MEMBERS}")
            }
            PolicyError::TooManyMembers { group, count } => write!(
                f,
                "group {group} has {count} custodians; SLIP-39 allows at most {MAX_MEMBERS} per group"
            ),
            PolicyError::EmptyGroup(g) => write!(f, "group {g} has no custodians"),
            PolicyError::BadMemberThreshold {
                group,
                threshold,
                count,
            } => write!(
                f,
                "group {group} needs {threshold} of its {count} custodians, which is impossible: \
                 the threshold must be from 1 to {count}"
            ),
            PolicyError::BadGroupThreshold { threshold, groups } => write!(
                f,
                "the group threshold {threshold} must be from 1 to the number of groups ({groups})"
            ),
            PolicyError::UnknownGroup(g) => write!(
                f,
                "a custodian names group `{g}`, which the policy does not define"
            ),
            PolicyError::DuplicateMemberIndex { group, index } => {
                write!(
                    f,
                    "group {group} has two custodians with member index {index}"
                )
            }
            PolicyError::GroupThresholdNeeded => write!(
                f,
                "with several groups, the number of groups that must take part is needed"
            ),
            PolicyError::NoGroupIndex(i) => {
                write!(f, "the policy has no group number {}", i + 1)
            }
            PolicyError::BadGroupSpec(s) => {
                write!(f, "`{s}` is not a group: write NAME:K, for example Ops:2")
            }
        }
    }
}

impl std::error::Error for PolicyError {}

/// A [`PolicyError::BadName`] for `name`, if it breaks `rule`.
fn named(what: &'static str, name: &str, rule: Result<(), NameRule>) -> Result<(), PolicyError> {
    rule.map_err(|rule| PolicyError::BadName {
        what,
        name: name.to_owned(),
        rule,
    })
}

/// The NFC form of the new name `name` ([`custodian_name::admit`]).
fn admit(what: &'static str, name: &str) -> Result<String, PolicyError> {
    custodian_name::admit(name).map_err(|rule| PolicyError::BadName {
        what,
        name: name.to_owned(),
        rule,
    })
}

/// Refuse the first of `names` that is the same name as an earlier one after NFC and case
/// folding.
fn distinct<'a>(
    what: &'static str,
    names: impl IntoIterator<Item = &'a str>,
) -> Result<(), PolicyError> {
    let mut seen: Vec<(String, &str)> = Vec::new();
    for name in names {
        let key = custodian_name::collision_key(name);
        if let Some((_, first)) = seen.iter().find(|(k, _)| *k == key) {
            return Err(PolicyError::DuplicateName {
                what,
                first: (*first).to_owned(),
                name: name.to_owned(),
            });
        }
        seen.push((key, name));
    }
    Ok(())
}

impl Group {
    /// Whether the group's one SLIP-39 member share is held in copies: a member threshold of 1
    /// with several custodians ("any 1 of n"). SLIP-39 allows a threshold of 1 only with a
    /// single member share, and n holders of that one share are exactly "any 1 of n": each
    /// custodian receives a copy of the share (SLIP-39 member index 0) in a token naming them.
    pub fn holds_copies(&self) -> bool {
        self.member_threshold == 1 && self.custodians.len() > 1
    }

    /// How many SLIP-39 member shares the group is split into: one when it holds copies, else
    /// one per custodian.
    pub fn slip39_member_count(&self) -> u8 {
        if self.holds_copies() {
            1
        } else {
            self.custodians.len().min(255) as u8
        }
    }

    /// The SLIP-39 member index of `custodian`'s share: 0 for every copy when the group holds
    /// copies, else the custodian's member index.
    pub fn slip39_member_index(&self, custodian: &Custodian) -> u8 {
        if self.holds_copies() {
            0
        } else {
            custodian.member_index
        }
    }

    /// The custodians' names, in policy order, joined for a sentence: "frank and gina",
    /// "a, b and c".
    pub fn holder_names(&self) -> String {
        joined(self.custodians.iter().map(|c| c.name.as_str()), "and")
    }
}

/// `a`, `a and b`, `a, b and c` (or with `or`).
pub fn joined<'a>(names: impl IntoIterator<Item = &'a str>, conjunction: &str) -> String {
    let names: Vec<&str> = names.into_iter().collect();
    match names.split_last() {
        None => String::new(),
        Some((last, [])) => (*last).to_owned(),
        Some((last, rest)) => format!("{} {conjunction} {last}", rest.join(", ")),
    }
}

impl Policy {
    /// One group, called `custodians`, of `names` with threshold `k`: a new policy
    /// ([`Policy::for_new_shares`]).
    pub fn single(k: u8, names: &[String]) -> Result<Policy, PolicyError> {
        let group = Group {
            name: "custodians".into(),
            member_threshold: k,
            custodians: names
                .iter()
                .enumerate()
                .map(|(i, n)| Custodian {
                    name: n.clone(),
                    member_index: i.min(255) as u8,
                })
                .collect(),
        };
        Policy {
            group_threshold: 1,
            groups: vec![group],
        }
        .for_new_shares()
    }

    /// Several groups: `groups` as `NAME:K`, `custodians` as `GROUP/NAME` (the group named as
    /// in its `NAME:K`, up to Unicode composition): a new policy ([`Policy::for_new_shares`]).
    pub fn grouped(
        groups: &[String],
        custodians: &[String],
        group_threshold: Option<u8>,
    ) -> Result<Policy, PolicyError> {
        let mut out: Vec<Group> = Vec::new();
        for spec in groups {
            let (name, k) = spec
                .rsplit_once(':')
                .ok_or_else(|| PolicyError::BadGroupSpec(spec.clone()))?;
            let k: u8 = k
                .trim()
                .parse()
                .map_err(|_| PolicyError::BadGroupSpec(spec.clone()))?;
            out.push(Group {
                name: name.trim().to_owned(),
                member_threshold: k,
                custodians: Vec::new(),
            });
        }
        for c in custodians {
            let (g, name) = c
                .split_once('/')
                .ok_or_else(|| PolicyError::UnknownGroup(format!("(none given for `{c}`)")))?;
            let group = out
                .iter_mut()
                .find(|x| custodian_name::same(&x.name, g))
                .ok_or_else(|| PolicyError::UnknownGroup(g.to_owned()))?;
            let idx = group.custodians.len().min(255) as u8;
            group.custodians.push(Custodian {
                name: name.to_owned(),
                member_index: idx,
            });
        }
        let group_threshold = match group_threshold {
            Some(g) => g,
            None if out.len() == 1 => 1,
            None => return Err(PolicyError::GroupThresholdNeeded),
        };
        Policy {
            group_threshold,
            groups: out,
        }
        .for_new_shares()
    }

    /// This policy for a new share set (init, reshare, rotate-master): every group and
    /// custodian name checked by [`custodian_name::admit`] and stored in its NFC form, no two
    /// custodians (or groups) with one name after NFC and case folding, and every rule of
    /// [`Policy::validate`].
    pub fn for_new_shares(mut self) -> Result<Policy, PolicyError> {
        let mut nfc: Vec<Vec<String>> = Vec::with_capacity(self.groups.len());
        for g in &self.groups {
            let mut names = vec![admit("group", &g.name)?];
            for c in &g.custodians {
                names.push(admit("custodian", &c.name)?);
            }
            nfc.push(names);
        }
        // Compared as given, so that an error shows both spellings.
        distinct(
            "custodian",
            self.groups
                .iter()
                .flat_map(|g| g.custodians.iter().map(|c| c.name.as_str())),
        )?;
        distinct("group", self.groups.iter().map(|g| g.name.as_str()))?;
        for (g, names) in self.groups.iter_mut().zip(nfc) {
            let mut names = names.into_iter();
            g.name = names.next().unwrap_or_default();
            for (c, n) in g.custodians.iter_mut().zip(names) {
                c.name = n;
            }
        }
        self.validate()?;
        Ok(self)
    }

    /// Every rule SLIP-39 and custody place on a policy as stored (names by
    /// [`custodian_name::check_stored`], unique ignoring case), so that a vault written by an
    /// older custody still loads. A new policy also passes [`Policy::for_new_shares`].
    pub fn validate(&self) -> Result<(), PolicyError> {
        if self.groups.iter().all(|g| g.custodians.is_empty()) {
            return Err(PolicyError::NoCustodians);
        }
        if self.groups.len() > MAX_MEMBERS {
            return Err(PolicyError::TooManyGroups(self.groups.len()));
        }
        let mut names: HashMap<String, &str> = HashMap::new();
        for g in &self.groups {
            named("group", &g.name, custodian_name::check_stored(&g.name))?;
            if g.custodians.is_empty() {
                return Err(PolicyError::EmptyGroup(g.name.clone()));
            }
            let count = g.custodians.len();
            if count > MAX_MEMBERS {
                return Err(PolicyError::TooManyMembers {
                    group: g.name.clone(),
                    count,
                });
            }
            if g.member_threshold == 0 || usize::from(g.member_threshold) > count {
                return Err(PolicyError::BadMemberThreshold {
                    group: g.name.clone(),
                    threshold: g.member_threshold,
                    count,
                });
            }
            let mut idx = HashSet::new();
            for c in &g.custodians {
                named("custodian", &c.name, custodian_name::check_stored(&c.name))?;
                if let Some(first) = names.insert(c.name.to_lowercase(), &c.name) {
                    return Err(PolicyError::DuplicateName {
                        what: "custodian",
                        first: first.to_owned(),
                        name: c.name.clone(),
                    });
                }
                if usize::from(c.member_index) >= MAX_MEMBERS || !idx.insert(c.member_index) {
                    return Err(PolicyError::DuplicateMemberIndex {
                        group: g.name.clone(),
                        index: c.member_index,
                    });
                }
            }
        }
        let mut gnames: HashMap<String, &str> = HashMap::new();
        for g in &self.groups {
            if let Some(first) = gnames.insert(g.name.to_lowercase(), &g.name) {
                return Err(PolicyError::DuplicateName {
                    what: "group",
                    first: first.to_owned(),
                    name: g.name.clone(),
                });
            }
        }
        if self.group_threshold == 0 || usize::from(self.group_threshold) > self.groups.len() {
            return Err(PolicyError::BadGroupThreshold {
                threshold: self.group_threshold,
                groups: self.groups.len(),
            });
        }
        Ok(())
    }

    /// Add `names` as new custodians of group `group_index`, each at the lowest member index
    /// not yet taken in that group, and return those indices (in the order of `names`). Each
    /// new name is checked by [`custodian_name::admit`] and stored in NFC, and must not be the
    /// same name (after NFC and case folding) as any custodian's, old or new. The policy is
    /// left unchanged unless the result still validates (at most 16 members).
    pub fn add_custodians(
        &mut self,
        group_index: usize,
        names: &[String],
    ) -> Result<Vec<u8>, PolicyError> {
        if names.is_empty() {
            return Err(PolicyError::NoCustodians);
        }
        let mut taken: Vec<(String, String)> = self
            .groups
            .iter()
            .flat_map(|g| g.custodians.iter())
            .map(|c| (custodian_name::collision_key(&c.name), c.name.clone()))
            .collect();
        let mut admitted = Vec::with_capacity(names.len());
        for name in names {
            let nfc = admit("custodian", name)?;
            let key = custodian_name::collision_key(&nfc);
            if let Some((_, first)) = taken.iter().find(|(k, _)| *k == key) {
                return Err(PolicyError::DuplicateName {
                    what: "custodian",
                    first: first.clone(),
                    name: name.clone(),
                });
            }
            taken.push((key, nfc.clone()));
            admitted.push(nfc);
        }
        let mut next = self.clone();
        let group = next
            .groups
            .get_mut(group_index)
            .ok_or(PolicyError::NoGroupIndex(group_index))?;
        let count = group.custodians.len() + names.len();
        if count > MAX_MEMBERS {
            return Err(PolicyError::TooManyMembers {
                group: group.name.clone(),
                count,
            });
        }
        let mut indices = Vec::with_capacity(names.len());
        for name in admitted {
            let free = (0..MAX_MEMBERS as u8)
                .find(|i| !group.custodians.iter().any(|c| c.member_index == *i))
                .ok_or_else(|| PolicyError::TooManyMembers {
                    group: group.name.clone(),
                    count,
                })?;
            group.custodians.push(Custodian {
                name,
                member_index: free,
            });
            indices.push(free);
        }
        next.validate()?;
        *self = next;
        Ok(indices)
    }

    /// The SLIP-39 split parameters, group by group: a group whose one share is held in copies
    /// is one SLIP-39 member share ([`Group::slip39_member_count`]).
    pub fn group_specs(&self) -> Vec<GroupSpec> {
        self.groups
            .iter()
            .map(|g| GroupSpec {
                member_threshold: g.member_threshold,
                member_count: g.slip39_member_count(),
            })
            .collect()
    }

    /// The custodian holding member `member_index` of group `group_index`, if any: by the
    /// policy's member index (in a group that holds copies, the copy number, not the SLIP-39
    /// member index, which is 0 for every copy).
    pub fn custodian(&self, group_index: u8, member_index: u8) -> Option<(&Group, &Custodian)> {
        let g = self.groups.get(usize::from(group_index))?;
        let c = g
            .custodians
            .iter()
            .find(|c| c.member_index == member_index)?;
        Some((g, c))
    }

    /// The policy in plain words: one line per group ("Board: any 1 of 2 (frank, gina)"),
    /// then the group rule when there are several ("Needed: 2 of the 2 groups").
    pub fn describe(&self) -> Vec<String> {
        let mut lines: Vec<String> = self.groups.iter().map(group_line).collect();
        if self.groups.len() > 1 {
            lines.push(format!(
                "Needed: {} of the {} groups",
                self.group_threshold,
                self.groups.len()
            ));
        }
        lines
    }

    /// The policy in one line: the groups' lines joined by `AND` when every group is needed
    /// ("Board: any 1 of 2 (frank, gina) AND Ops: any 2 of 3 (alice, bob, carol)"), by `OR`
    /// when any one group will do, else "any K of the N groups: ...; ...".
    pub fn sentence(&self) -> String {
        let lines: Vec<String> = self.groups.iter().map(group_line).collect();
        let needed = usize::from(self.group_threshold);
        if lines.len() == 1 || needed == lines.len() {
            lines.join(" AND ")
        } else if needed == 1 {
            lines.join(" OR ")
        } else {
            format!(
                "any {needed} of the {} groups: {}",
                lines.len(),
                lines.join("; ")
            )
        }
    }
}

/// "Board: any 1 of 2 (frank, gina)".
fn group_line(g: &Group) -> String {
    let names: Vec<&str> = g.custodians.iter().map(|c| c.name.as_str()).collect();
    format!(
        "{}: any {} of {} ({})",
        g.name,
        g.member_threshold,
        g.custodians.len(),
        names.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn single_group_policy() {
        let p = Policy::single(3, &names(&["a", "b", "c", "d", "e"])).unwrap();
        assert_eq!(p.describe(), vec!["custodians: any 3 of 5 (a, b, c, d, e)"]);
        assert_eq!(p.custodian(0, 4).unwrap().1.name, "e");
        assert!(p.custodian(0, 5).is_none());
    }

    #[test]
    fn rejections() {
        assert_eq!(
            Policy::single(4, &names(&["a", "b", "c"])).unwrap_err(),
            PolicyError::BadMemberThreshold {
                group: "custodians".into(),
                threshold: 4,
                count: 3
            }
        );
        assert!(matches!(
            Policy::single(2, &names(&["a", "A"])),
            Err(PolicyError::DuplicateName { .. })
        ));
        assert!(matches!(
            Policy::single(2, &names(&["a", "x/y"])),
            Err(PolicyError::BadName {
                rule: NameRule::Slash,
                ..
            })
        ));
        let many: Vec<String> = (0..17).map(|i| format!("c{i}")).collect();
        assert!(matches!(
            Policy::single(2, &many),
            Err(PolicyError::TooManyMembers { .. })
        ));
        assert_eq!(
            Policy::grouped(
                &names(&["Ops:2", "Board:1"]),
                &names(&["Ops/a", "Ops/b", "Board/c"]),
                None
            )
            .unwrap_err(),
            PolicyError::GroupThresholdNeeded
        );
        assert_eq!(
            Policy::grouped(&names(&["Ops:2"]), &names(&["Ops/a", "Nope/b"]), None).unwrap_err(),
            PolicyError::UnknownGroup("Nope".into())
        );
        assert!(matches!(
            Policy::grouped(
                &names(&["Ops:2", "B:1"]),
                &names(&["Ops/a", "Ops/b", "B/c"]),
                Some(3)
            ),
            Err(PolicyError::BadGroupThreshold { .. })
        ));
        assert!(matches!(
            Policy::grouped(&names(&["Ops"]), &[], None),
            Err(PolicyError::BadGroupSpec(_))
        ));
    }

    #[test]
    fn add_custodians_takes_the_lowest_free_indices() {
        let mut p = Policy::grouped(
            &names(&["Ops:2", "Board:1"]),
            &names(&["Ops/a", "Ops/b", "Ops/c", "Board/d"]),
            Some(1),
        )
        .unwrap();
        // A gap at index 1 (as after a custodian left): it is filled first.
        p.groups[0].custodians.retain(|c| c.name != "b");
        assert_eq!(p.add_custodians(0, &names(&["e", "f"])).unwrap(), [1, 3]);
        let ops = &p.groups[0].custodians;
        assert_eq!(
            ops.iter()
                .map(|c| (c.name.as_str(), c.member_index))
                .collect::<Vec<_>>(),
            [("a", 0), ("c", 2), ("e", 1), ("f", 3)]
        );
        assert_eq!(p.describe()[0], "Ops: any 2 of 4 (a, c, e, f)");
        assert!(p.validate().is_ok());
    }

    #[test]
    fn add_custodians_refusals_leave_the_policy_unchanged() {
        let mut p = Policy::single(2, &names(&["a", "b", "c"])).unwrap();
        let before = p.clone();
        let many: Vec<String> = (0..14).map(|i| format!("m{i}")).collect();
        assert_eq!(
            p.add_custodians(0, &many).unwrap_err(),
            PolicyError::TooManyMembers {
                group: "custodians".into(),
                count: 17
            }
        );
        assert_eq!(
            p.add_custodians(0, &[]).unwrap_err(),
            PolicyError::NoCustodians
        );
        assert_eq!(
            p.add_custodians(1, &names(&["x"])).unwrap_err(),
            PolicyError::NoGroupIndex(1)
        );
        assert!(matches!(
            p.add_custodians(0, &names(&["x", "B"])),
            Err(PolicyError::DuplicateName { .. })
        ));
        assert!(matches!(
            p.add_custodians(0, &names(&["x/y"])),
            Err(PolicyError::BadName {
                rule: NameRule::Slash,
                ..
            })
        ));
        assert_eq!(p, before);
        // Exactly 16 members is allowed.
        assert_eq!(p.add_custodians(0, &many[..13]).unwrap().last(), Some(&15));
        assert_eq!(p.groups[0].custodians.len(), MAX_MEMBERS);
    }

    #[test]
    fn grouped_policy() {
        let p = Policy::grouped(
            &names(&["Ops:2", "Board:1"]),
            &names(&["Ops/alice", "Ops/bob", "Ops/carol", "Board/dave"]),
            Some(2),
        )
        .unwrap();
        assert_eq!(
            p.describe(),
            vec![
                "Ops: any 2 of 3 (alice, bob, carol)",
                "Board: any 1 of 1 (dave)",
                "Needed: 2 of the 2 groups"
            ]
        );
        assert_eq!(p.group_specs().len(), 2);
        assert_eq!(p.custodian(1, 0).unwrap().1.name, "dave");
    }

    #[test]
    fn one_of_many_is_held_in_copies() {
        let p = Policy::grouped(
            &names(&["Board:1", "Ops:2"]),
            &names(&["Board/frank", "Board/gina", "Ops/a", "Ops/b", "Ops/c"]),
            Some(2),
        )
        .unwrap();
        assert_eq!(
            p.sentence(),
            "Board: any 1 of 2 (frank, gina) AND Ops: any 2 of 3 (a, b, c)"
        );
        let board = &p.groups[0];
        assert!(board.holds_copies() && !p.groups[1].holds_copies());
        assert_eq!(board.slip39_member_count(), 1);
        assert_eq!(
            board
                .custodians
                .iter()
                .map(|c| (c.member_index, board.slip39_member_index(c)))
                .collect::<Vec<_>>(),
            [(0, 0), (1, 0)]
        );
        assert_eq!(board.holder_names(), "frank and gina");
        let specs = p.group_specs();
        assert_eq!((specs[0].member_threshold, specs[0].member_count), (1, 1));
        assert_eq!((specs[1].member_threshold, specs[1].member_count), (2, 3));
        // A single group of 1 of 2 is allowed too (either custodian opens alone).
        assert!(Policy::single(1, &names(&["a", "b"])).unwrap().groups[0].holds_copies());
        let any = Policy::grouped(
            &names(&["A:1", "B:1", "C:2"]),
            &names(&["A/x", "B/y", "C/z", "C/w"]),
            Some(2),
        )
        .unwrap();
        assert_eq!(
            any.sentence(),
            "any 2 of the 3 groups: A: any 1 of 1 (x); B: any 1 of 1 (y); C: any 2 of 2 (z, w)"
        );
    }
}
