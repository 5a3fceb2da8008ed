//! The JSON form of the agent access policy in the vault file (`agent_access`; shares-format.md,
//! "Agent access policy"). Every field is required, except a rule's proxy terms, each left out
//! when it is the default; unknown fields are refused; a value that does not parse is kept
//! verbatim by the caller.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize};

use super::stored::StoredAccess;
use super::{AccessRule, Notional, ProxyTerms, Rate, Selector};
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
    #[serde(
        default,
        skip_serializing_if = "is_false",
        deserialize_with = "allow_withdraw"
    )]
    allow_withdraw: bool,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "orders_per_second"
    )]
    orders_per_second: Option<u32>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "orders_per_minute"
    )]
    orders_per_minute: Option<u32>,
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "symbols"
    )]
    symbols: Vec<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "max_notional"
    )]
    max_notional: Option<String>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// A field's value, an error of the wrong type naming the field.
fn named<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D, name: &str) -> Result<T, D::Error> {
    T::deserialize(d).map_err(|e| D::Error::custom(format!("`{name}`: {e}")))
}

fn allow_withdraw<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    named(d, "allow_withdraw")
}

fn orders_per_second<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    named(d, "orders_per_second")
}

fn orders_per_minute<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    named(d, "orders_per_minute")
}

fn symbols<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    named(d, "symbols")
}

fn max_notional<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    named(d, "max_notional")
}

/// The proxy terms of a stored rule, each as custody writes it (symbols upper-case, sorted and
/// unique; the notional in canonical form), or what is wrong, naming the field.
fn terms_from_json(j: &RuleJson) -> Result<ProxyTerms, String> {
    fn at(field: &'static str) -> impl Fn(super::TermsError) -> String {
        move |e| format!("`{field}`: {e}")
    }
    let mut t = ProxyTerms::default().with_withdraw(j.allow_withdraw);
    if let Some(n) = j.orders_per_second {
        t = t
            .with_orders_per_second(u64::from(n))
            .map_err(at("orders_per_second"))?;
    }
    if let Some(n) = j.orders_per_minute {
        t = t
            .with_orders_per_minute(u64::from(n))
            .map_err(at("orders_per_minute"))?;
    }
    t = t.with_symbols(&j.symbols).map_err(at("symbols"))?;
    if t.symbols() != j.symbols.as_slice() {
        return Err("`symbols`: not upper-case, sorted by bytes and without repeats".into());
    }
    if let Some(text) = &j.max_notional {
        let n = Notional::parse(text).map_err(at("max_notional"))?;
        if n.to_string() != *text {
            return Err(format!(
                "`max_notional`: `{text}` is not written canonically (custody writes `{n}`)"
            ));
        }
        t = t.with_max_notional(n);
    }
    Ok(t)
}

fn rule_to_json(r: &AccessRule) -> RuleJson {
    let s = r.selector();
    let t = r.terms();
    RuleJson {
        uid: s.uid(),
        gid: s.gid(),
        exe: s.exe_str().map(str::to_owned),
        unit: s.unit().map(str::to_owned),
        credentials: r.credentials().to_vec(),
        rate_per_minute: r.rate().requests_per_minute(),
        allow_withdraw: t.allows_withdraw(),
        orders_per_second: t.orders_per_second(),
        orders_per_minute: t.orders_per_minute(),
        symbols: t.symbols().to_vec(),
        max_notional: t.max_notional().map(|n| n.to_string()),
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
        let terms = terms_from_json(&j).map_err(|e| format!("`{part}[{i}]`: {e}"))?;
        let rule = AccessRule::new(
            selector,
            j.credentials.clone(),
            Rate::per_minute(u64::from(j.rate_per_minute)).map_err(at)?,
        )
        .map_err(at)?
        .with_terms(terms);
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
