//! How the stored agent access policy stands against the quorum's ratification record: the
//! rules in force, the changes awaiting a quorum, or why nothing can be granted (edited outside
//! custody, a record that does not verify, an older vault file put back).

use std::fmt;

use super::stored::{Proposal, StoredAccess};
use super::{AccessPolicy, AccessRule, canonical};
use crate::vault::ratify::RecordState;
use crate::vault::{Rollback, Seen, Vault, sidecar};

/// A change to the policy made without a quorum, awaiting ratification. It grants nothing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RuleChange {
    /// A rule for a client selector no ratified rule names.
    Added(AccessRule),
    /// A ratified rule replaced by another for the same selector; the ratified one stays in
    /// force until a quorum ratifies the change.
    Changed {
        /// The rule in force.
        ratified: AccessRule,
        /// The rule proposed in its place.
        proposed: AccessRule,
    },
    /// A ratified rule removed: it no longer grants anything; a quorum's ratification
    /// records the removal.
    Removed(AccessRule),
    /// A rule a ratification will sign anew because the record does not verify (nothing
    /// vouches for it until then).
    Unverified(AccessRule),
}

impl RuleChange {
    /// One line for reports, e.g. "added: uid 1000: binance-main at 60/min".
    pub fn describe(&self) -> String {
        match self {
            RuleChange::Added(r) => format!("added: {r}"),
            RuleChange::Changed { ratified, proposed } => {
                let mut was = ratified.grant_text();
                if ratified.terms().is_default() && !proposed.terms().is_default() {
                    // Say what the proxy allows until then, though it is the default.
                    was.push_str("; proxy: ");
                    was.push_str(&ratified.terms().describe());
                }
                format!("changed: {proposed} (in force until ratified: {was})")
            }
            RuleChange::Removed(r) => format!("removed (no longer in force): {r}"),
            RuleChange::Unverified(r) => format!("unverified: {r}"),
        }
    }
}

/// Why the agent access policy grants nothing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AccessError {
    /// The quorum's ratification record does not verify, so nothing in the policy is vouched for.
    RecordInvalid,
    /// The ratified rules are not what the quorum signed: the vault file was edited.
    Tampered {
        /// What was found, in words.
        problem: &'static str,
    },
    /// The stored policy does not parse.
    Malformed {
        /// Why, naming the field.
        problem: String,
    },
    /// The vault file is older than one already used here.
    RolledBack(Rollback),
}

impl fmt::Display for AccessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AccessError::RecordInvalid => write!(
                f,
                "the agent access policy grants nothing: the quorum's ratification record does \
                 not verify (edited outside custody), so no rule is vouched for"
            ),
            AccessError::Tampered { problem } => write!(
                f,
                "the agent access policy was changed outside custody ({problem}); it grants \
                 nothing"
            ),
            AccessError::Malformed { problem } => write!(
                f,
                "the agent access policy in the vault file is malformed ({problem}); it grants \
                 nothing"
            ),
            AccessError::RolledBack(r) => {
                write!(
                    f,
                    "{r}; the agent access policy of an older copy grants nothing"
                )
            }
        }
    }
}

impl std::error::Error for AccessError {}

/// Where one rule stands, for `agent policy list`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuleState {
    /// Ratified and unchanged: in force.
    Ratified,
    /// Ratified and in force; a changed version awaits ratification.
    ChangePending,
    /// Ratified, then removed without a quorum: no longer in force; awaits ratification.
    RemovalPending,
    /// Added or changed without a quorum: not in force until ratified.
    Pending,
    /// The policy was edited outside custody: not in force.
    Tampered,
    /// Nothing vouches for it (the record does not verify, or the file is an older copy).
    Unverified,
}

impl RuleState {
    /// Whether the rule grants anything.
    pub fn in_force(self) -> bool {
        matches!(self, RuleState::Ratified | RuleState::ChangePending)
    }

    /// The state's name in `custody-agent-policy/1` (`ratified`, `change-pending`,
    /// `removal-pending`, `pending`, `tampered`, `unverified`).
    pub fn as_str(self) -> &'static str {
        match self {
            RuleState::Ratified => "ratified",
            RuleState::ChangePending => "change-pending",
            RuleState::RemovalPending => "removal-pending",
            RuleState::Pending => "pending",
            RuleState::Tampered => "tampered",
            RuleState::Unverified => "unverified",
        }
    }

    /// The state in words, for the text listing.
    pub fn describe(self) -> &'static str {
        match self {
            RuleState::Ratified => "ratified, in force",
            RuleState::ChangePending => "ratified, in force; a change awaits ratification",
            RuleState::RemovalPending => {
                "removed without a quorum: not in force; the removal awaits ratification"
            }
            RuleState::Pending => "pending: grants nothing until a quorum ratifies it",
            RuleState::Tampered => "TAMPERED: grants nothing",
            RuleState::Unverified => "unverified: grants nothing",
        }
    }
}

/// One rule of the listing and where it stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListedRule {
    /// The rule.
    pub rule: AccessRule,
    /// Where it stands.
    pub state: RuleState,
}

/// The changes from `ratified` to `next`, in selector order.
fn changes(ratified: &[AccessRule], next: &[AccessRule]) -> Vec<RuleChange> {
    let mut out = Vec::new();
    for r in ratified {
        match next.iter().find(|n| n.selector() == r.selector()) {
            None => out.push(RuleChange::Removed(r.clone())),
            Some(n) if n != r => out.push(RuleChange::Changed {
                ratified: r.clone(),
                proposed: n.clone(),
            }),
            Some(_) => {}
        }
    }
    for n in next {
        if !ratified.iter().any(|r| r.selector() == n.selector()) {
            out.push(RuleChange::Added(n.clone()));
        }
    }
    out.sort_by(|a, b| selector_of(a).cmp(selector_of(b)));
    out
}

fn selector_of(c: &RuleChange) -> &super::Selector {
    match c {
        RuleChange::Added(r) | RuleChange::Removed(r) | RuleChange::Unverified(r) => r.selector(),
        RuleChange::Changed { ratified, .. } => ratified.selector(),
    }
}

impl Vault {
    /// The agent access policy in force, checked against the quorum's ratification record and
    /// the generation sidecar's numbers `seen` (see [`crate::vault::store`]): the rules a
    /// quorum ratified, less those removed since without a quorum, with the changes that await
    /// a quorum listed apart (they grant nothing). Refuses, granting nothing at all, when the
    /// ratified rules are not what the quorum signed, the stored policy does not parse, the
    /// record does not verify, or the file is older than one seen here. A vault without a
    /// policy gives an empty one.
    pub fn ratified_access(&self, seen: Option<Seen>) -> Result<AccessPolicy, AccessError> {
        if let Some(r) = sidecar::check(self.seen_numbers(), seen) {
            return Err(AccessError::RolledBack(r));
        }
        self.access_against(self.record_state())
    }

    /// [`Vault::ratified_access`] without the rollback check, against `record`.
    pub(crate) fn access_against(&self, record: RecordState) -> Result<AccessPolicy, AccessError> {
        if let StoredAccess::Malformed { problem, .. } = &self.access {
            return Err(AccessError::Malformed {
                problem: problem.clone(),
            });
        }
        let (ratified, next) = (self.access.ratified(), self.access.next());
        let signed = match record {
            // Without any rule, there is nothing for a record to vouch for.
            RecordState::Invalid if self.access == StoredAccess::Absent => None,
            RecordState::Invalid => return Err(AccessError::RecordInvalid),
            RecordState::Never => None,
            RecordState::Valid { .. } => {
                self.credentials.ratification().and_then(|r| r.agent_access)
            }
        };
        let stored = canonical::digest(&self.vault_id, ratified);
        if stored != signed {
            return Err(AccessError::Tampered {
                problem: match (signed, stored) {
                    (Some(_), None) => "the ratified rules were removed",
                    (None, _) => "it has ratified rules that no quorum signed",
                    _ => "its ratified rules differ from what the quorum signed",
                },
            });
        }
        let in_force = ratified
            .iter()
            .filter(|r| next.iter().any(|n| n.selector() == r.selector()))
            .cloned()
            .collect();
        Ok(AccessPolicy::new(in_force, changes(ratified, next)))
    }

    /// What a ratification would sign of the policy, given the record's state: the pending
    /// changes, or, when the record does not verify, every rule (as unverified).
    pub(crate) fn access_to_ratify(&self, record: RecordState) -> Vec<RuleChange> {
        match self.access_against(record) {
            Ok(p) => p.pending().to_vec(),
            Err(AccessError::RecordInvalid) => self
                .access
                .next()
                .iter()
                .cloned()
                .map(RuleChange::Unverified)
                .collect(),
            Err(_) => Vec::new(),
        }
    }

    /// The SHA-256 a ratification signs for the policy as proposed, and the policy made the
    /// ratified one (call only while signing a ratification).
    pub(crate) fn ratify_access(&mut self) -> Option<[u8; 32]> {
        self.access.ratify();
        canonical::digest(&self.vault_id, self.access.ratified())
    }

    /// Every rule, ratified and proposed, with where it stands, and the reason the policy
    /// grants nothing, if it does not (the sidecar's numbers `seen` check for an older copy).
    pub fn access_listing(&self, seen: Option<Seen>) -> (Vec<ListedRule>, Option<AccessError>) {
        let ratified = self.access.ratified();
        let next = self.access.next();
        match self.ratified_access(seen) {
            Ok(_) => {
                let mut out: Vec<ListedRule> = ratified
                    .iter()
                    .map(|r| ListedRule {
                        rule: r.clone(),
                        state: match next.iter().find(|n| n.selector() == r.selector()) {
                            None => RuleState::RemovalPending,
                            Some(n) if n != r => RuleState::ChangePending,
                            Some(_) => RuleState::Ratified,
                        },
                    })
                    .collect();
                out.extend(
                    next.iter()
                        .filter(|n| !ratified.contains(n))
                        .map(|n| ListedRule {
                            rule: n.clone(),
                            state: RuleState::Pending,
                        }),
                );
                // Stable: a ratified rule comes before the change proposed for it.
                out.sort_by(|a, b| a.rule.selector().cmp(b.rule.selector()));
                (out, None)
            }
            Err(e) => {
                let state = match e {
                    AccessError::Tampered { .. } | AccessError::Malformed { .. } => {
                        RuleState::Tampered
                    }
                    AccessError::RecordInvalid | AccessError::RolledBack(_) => {
                        RuleState::Unverified
                    }
                };
                let mut rules: Vec<&AccessRule> = ratified.iter().collect();
                rules.extend(next.iter().filter(|n| !ratified.contains(n)));
                rules.sort_by(|a, b| a.selector().cmp(b.selector()));
                let out = rules
                    .into_iter()
                    .map(|r| ListedRule {
                        rule: r.clone(),
                        state,
                    })
                    .collect();
                (out, Some(e))
            }
        }
    }

    /// The policy as it will stand once a quorum ratifies what is proposed (empty when the
    /// stored policy does not parse).
    pub fn proposed_access(&self) -> &[AccessRule] {
        self.access.next()
    }

    /// Propose `rule` without a quorum (it replaces the rule for the same selector, or is
    /// added); it grants nothing until a quorum ratifies it. Refuses a policy changed outside
    /// custody, so that a proposal never builds on an edit.
    pub fn propose_access_rule(&mut self, rule: AccessRule) -> Result<Proposal, AccessError> {
        self.editable_access()?;
        Ok(self.access.propose(rule))
    }

    /// Propose removing the rule for `selector` without a quorum: it stops granting at once,
    /// and a quorum's ratification records the removal. `Ok(None)` when no rule has that
    /// selector. Refuses a policy changed outside custody.
    pub fn propose_access_removal(
        &mut self,
        selector: &super::Selector,
    ) -> Result<Option<Proposal>, AccessError> {
        self.editable_access()?;
        Ok(self.access.propose_removal(selector))
    }

    fn editable_access(&self) -> Result<(), AccessError> {
        match self.access_against(self.record_state()) {
            Err(e @ (AccessError::Tampered { .. } | AccessError::Malformed { .. })) => Err(e),
            _ => Ok(()),
        }
    }
}
