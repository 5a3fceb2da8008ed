//! The agent access policy as the vault file holds it: the rules a quorum ratified, and the
//! whole policy as proposed since without a quorum (absent when nothing is proposed). A stored
//! policy that does not parse is kept verbatim, so that no write destroys the evidence of an
//! edit, and grants nothing.

use super::{AccessRule, Selector};

/// What the vault file holds under `agent_access`.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub(crate) enum StoredAccess {
    /// Parsed: the ratified rules and the proposal, each in canonical order, selectors unique.
    Rules {
        /// What the quorum's ratification record covers (by digest).
        ratified: Vec<AccessRule>,
        /// The whole policy as changed without a quorum; `None` when no change awaits one.
        proposed: Option<Vec<AccessRule>>,
    },
    /// Not a valid policy: written back exactly as read; grants nothing.
    Malformed {
        /// The `agent_access` value as read.
        raw: serde_json::Value,
        /// Why it does not parse.
        problem: String,
    },
    /// No policy at all (a vault written before it existed, or one that never had a rule).
    #[default]
    Absent,
}

/// What a proposal did to the policy awaiting ratification.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Proposal {
    /// A rule for a client selector no rule named.
    Added,
    /// The rule with the same selector was replaced (it is returned).
    Replaced(AccessRule),
    /// The same rule was already proposed (or ratified with nothing pending): nothing changed.
    Unchanged,
    /// The rule was removed (it is returned): a ratified rule, which stops granting at once.
    Removed(AccessRule),
    /// A change awaiting a quorum was withdrawn: the rule is again exactly the ratified one,
    /// which stayed in force throughout (the withdrawn version is returned).
    Reverted(AccessRule),
    /// A rule no quorum ever ratified was removed: nothing awaits a quorum for it any more
    /// (it is returned; it never granted anything).
    Withdrawn(AccessRule),
}

impl StoredAccess {
    /// A stored policy from its parts: the absent form when it has no rule and no proposal.
    pub(crate) fn of(ratified: Vec<AccessRule>, proposed: Option<Vec<AccessRule>>) -> StoredAccess {
        let proposed = proposed.filter(|p| *p != ratified);
        if ratified.is_empty() && proposed.is_none() {
            StoredAccess::Absent
        } else {
            StoredAccess::Rules { ratified, proposed }
        }
    }

    /// The ratified rules (empty when malformed or absent).
    pub(crate) fn ratified(&self) -> &[AccessRule] {
        match self {
            StoredAccess::Rules { ratified, .. } => ratified,
            _ => &[],
        }
    }

    /// The policy as it will be once a quorum ratifies what is proposed.
    pub(crate) fn next(&self) -> &[AccessRule] {
        match self {
            StoredAccess::Rules {
                proposed: Some(p), ..
            } => p,
            other => other.ratified(),
        }
    }

    /// Propose `rule`: it replaces the rule with the same selector, or is added.
    pub(crate) fn propose(&mut self, rule: AccessRule) -> Proposal {
        let mut next = self.next().to_vec();
        let ratified = self.ratified().contains(&rule);
        let outcome = match next.iter().position(|r| r.selector() == rule.selector()) {
            Some(i) if next[i] == rule => return Proposal::Unchanged,
            Some(i) if ratified => Proposal::Reverted(std::mem::replace(&mut next[i], rule)),
            Some(i) => Proposal::Replaced(std::mem::replace(&mut next[i], rule)),
            None => {
                next.push(rule);
                next.sort_by(|a, b| a.selector().cmp(b.selector()));
                Proposal::Added
            }
        };
        *self = StoredAccess::of(self.ratified().to_vec(), Some(next));
        outcome
    }

    /// Propose removing the rule with `selector`; `None` when no rule (ratified or proposed)
    /// has it.
    pub(crate) fn propose_removal(&mut self, selector: &Selector) -> Option<Proposal> {
        let mut next = self.next().to_vec();
        let i = next.iter().position(|r| r.selector() == selector)?;
        let removed = next.remove(i);
        let ratified = self.ratified().iter().any(|r| r.selector() == selector);
        *self = StoredAccess::of(self.ratified().to_vec(), Some(next));
        Some(if ratified {
            Proposal::Removed(removed)
        } else {
            Proposal::Withdrawn(removed)
        })
    }

    /// A quorum ratified the proposal: it becomes the ratified policy.
    pub(crate) fn ratify(&mut self) {
        if let StoredAccess::Rules { .. } = self {
            *self = StoredAccess::of(self.next().to_vec(), None);
        }
    }
}
