//! The JSON form of the agent access policy in the vault file (`agent_access`; shares-format.md,
//! "Agent access policy"). Every field is required and unknown fields are refused; a value that
//! does not parse is kept verbatim by the caller.

use serde::{Deserialize, Serialize};

use super::stored::StoredAccess;
use super::{AccessRule, Rate, Selector};
use crate::wire;

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AccessJson {
    ratified: Vec<RuleJson>,
    proposed: Option<Vec<RuleJson>>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleJson {
    uid: u32,
    gid: Option<u32>,
    exe: Option<String>,
    unit: Option<String>,
    credentials: Vec<String>,
    rate_per_minute: u32,
}

fn rule_to_json(r: &AccessRule) -> RuleJson {
    let s = r.selector();
    RuleJson {
        uid: s.uid(),
        gid: s.gid(),
        exe: s.exe_str().map(str::to_owned),
        unit: s.unit().map(str::to_owned),
        credentials: r.credentials().to_vec(),
        rate_per_minute: r.rate().requests_per_minute(),
    }
}

fn rules_from_json(part: &str, list: Vec<RuleJson>) -> Result<Vec<AccessRule>, String> {
    if list.len() > wire::MAX_AGENT_RULES {
        return Err(format!(
            "`{part}` has {} rules; at most {} are allowed",
            list.len(),
            wire::MAX_AGENT_RULES
        ));
    }
    let mut rules = Vec::with_capacity(list.len());
    for (i, j) in list.into_iter().enumerate() {
        let at = |e: super::RuleError| format!("`{part}[{i}]`: {e}");
        let selector =
            Selector::new(j.uid, j.gid, j.exe.as_deref(), j.unit.as_deref()).map_err(at)?;
        let rule = AccessRule::new(
            selector,
            j.credentials.clone(),
            Rate::per_minute(u64::from(j.rate_per_minute)).map_err(at)?,
        )
        .map_err(at)?;
        if rule.credentials() != j.credentials.as_slice() {
            return Err(format!(
                "`{part}[{i}]`: credentials not sorted by name or repeated"
            ));
        }
        rules.push(rule);
    }
    if rules.windows(2).any(|w| w[0].selector() >= w[1].selector()) {
        return Err(format!(
            "`{part}`: rules not in canonical order, or two rules for one client selector"
        ));
    }
    Ok(rules)
}

/// `agent_access` as written: a parsed policy field by field in the table's order, a
/// malformed one copied back as it was read.
#[derive(Serialize)]
#[serde(untagged)]
pub(crate) enum AccessOut {
    Parsed(AccessJson),
    Verbatim(serde_json::Value),
}

/// The `agent_access` value, or `None` when the vault has no policy (the field is then left
/// out, so that a vault without one is written exactly as before the policy existed).
pub(crate) fn to_json(a: &StoredAccess) -> Option<AccessOut> {
    match a {
        StoredAccess::Absent => None,
        StoredAccess::Malformed { raw, .. } => Some(AccessOut::Verbatim(raw.clone())),
        StoredAccess::Rules { ratified, proposed } => Some(AccessOut::Parsed(AccessJson {
            ratified: ratified.iter().map(rule_to_json).collect(),
            proposed: proposed
                .as_ref()
                .map(|p| p.iter().map(rule_to_json).collect()),
        })),
    }
}

/// Parse `agent_access`: a value that is not a valid policy is kept as [`StoredAccess::Malformed`].
pub(crate) fn from_json(raw: serde_json::Value) -> StoredAccess {
    let parsed = serde_json::from_value::<AccessJson>(raw.clone())
        .map_err(|e| e.to_string())
        .and_then(|j| {
            let ratified = rules_from_json("ratified", j.ratified)?;
            let proposed = j
                .proposed
                .map(|p| rules_from_json("proposed", p))
                .transpose()?;
            Ok(StoredAccess::Rules { ratified, proposed })
        });
    match parsed {
        Ok(a) => a,
        Err(problem) => StoredAccess::Malformed { raw, problem },
    }
}
