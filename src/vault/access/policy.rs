//! The rules in force: what the agent may hand out, and to whom.

use std::collections::BTreeSet;

use super::{AccessRule, Client, RuleChange};

/// The agent access policy in force: the rules a quorum ratified (less any removed since
/// without a quorum), in canonical order, and, for reports, the changes that await a quorum
/// (which grant nothing). Made only by [`crate::vault::Vault::ratified_access`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AccessPolicy {
    rules: Vec<AccessRule>,
    pending: Vec<RuleChange>,
}

impl AccessPolicy {
    pub(super) fn new(rules: Vec<AccessRule>, pending: Vec<RuleChange>) -> AccessPolicy {
        AccessPolicy { rules, pending }
    }

    /// The rule that lets `client` receive the credential `name`: of the rules in force that
    /// admit the client and list the credential, the most specific (naming the most of gid,
    /// executable and unit), the first in canonical order among equals. `None`: refused.
    pub fn grants(&self, client: &Client, name: &str) -> Option<&AccessRule> {
        let mut best: Option<&AccessRule> = None;
        for r in self
            .rules
            .iter()
            .filter(|r| r.admits(client) && r.lists(name))
        {
            if best.is_none_or(|b| r.selector().specificity() > b.selector().specificity()) {
                best = Some(r);
            }
        }
        best
    }

    /// Every credential some rule in force lists, sorted: what the agent opens at unlock.
    pub fn credentials(&self) -> Vec<&str> {
        self.rules
            .iter()
            .flat_map(|r| r.credentials().iter().map(String::as_str))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect()
    }

    /// The rules in force, in canonical order.
    pub fn rules(&self) -> &[AccessRule] {
        &self.rules
    }

    /// Changes made without a quorum that await ratification (they grant nothing).
    pub fn pending(&self) -> &[RuleChange] {
        &self.pending
    }

    /// Whether no rule is in force (the agent grants nothing).
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }
}
