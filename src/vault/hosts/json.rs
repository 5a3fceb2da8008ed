//! The JSON form of the known hosts in the vault file (`known_hosts`; shares-format.md, "Known
//! hosts"). Every field is required; unknown fields are refused; a value that does not parse is
//! kept verbatim by the caller.

use serde::{Deserialize, Serialize};

use super::HostEntry;
use super::stored::StoredHosts;
use crate::custodian_name;
use crate::host_key::{parse_public, public_text};
use crate::timefmt;
use crate::wire;

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct HostsJson {
    ratified: Vec<HostJson>,
    proposed: Option<Vec<HostJson>>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct HostJson {
    name: String,
    key: String,
    added_at: String,
}

fn host_to_json(h: &HostEntry) -> HostJson {
    HostJson {
        name: h.name.clone(),
        key: public_text(&h.key),
        added_at: timefmt::rfc3339(h.added_at),
    }
}

fn hosts_from_json(part: &str, list: Vec<HostJson>) -> Result<Vec<HostEntry>, String> {
    if list.len() > wire::MAX_KNOWN_HOSTS {
        return Err(format!(
            "`{part}` has {} hosts; at most {} are allowed",
            list.len(),
            wire::MAX_KNOWN_HOSTS
        ));
    }
    let mut hosts = Vec::with_capacity(list.len());
    for (i, j) in list.into_iter().enumerate() {
        custodian_name::check_stored(&j.name).map_err(|e| format!("`{part}[{i}].name`: {e}"))?;
        let key = parse_public(&j.key).map_err(|e| format!("`{part}[{i}].key`: {e}"))?;
        if public_text(&key) != j.key {
            return Err(format!("`{part}[{i}].key`: not written canonically"));
        }
        let added_at = timefmt::parse_rfc3339(&j.added_at)
            .ok_or_else(|| format!("`{part}[{i}].added_at`: expected an RFC 3339 time"))?;
        hosts.push(HostEntry {
            name: j.name,
            key,
            added_at,
        });
    }
    if hosts
        .windows(2)
        .any(|w| w[0].name.as_bytes() >= w[1].name.as_bytes())
    {
        return Err(format!(
            "`{part}`: hosts not sorted by name, or two hosts with one name"
        ));
    }
    let mut keys: Vec<&[u8; 32]> = hosts.iter().map(|h| h.key.as_bytes()).collect();
    keys.sort();
    if keys.windows(2).any(|w| w[0] == w[1]) {
        return Err(format!("`{part}`: two hosts with one key"));
    }
    Ok(hosts)
}

/// `known_hosts` as written: a parsed set field by field in the table's order, a malformed one
/// copied back as it was read.
#[derive(Serialize)]
#[serde(untagged)]
pub(crate) enum HostsOut {
    Parsed(HostsJson),
    Verbatim(serde_json::Value),
}

/// The `known_hosts` value, or `None` when the vault has no host (the field is then left out,
/// so that a vault without one is written exactly as before known hosts existed).
pub(crate) fn to_json(h: &StoredHosts) -> Option<HostsOut> {
    match h {
        StoredHosts::Absent => None,
        StoredHosts::Malformed { raw, .. } => Some(HostsOut::Verbatim(raw.clone())),
        StoredHosts::Hosts { ratified, proposed } => Some(HostsOut::Parsed(HostsJson {
            ratified: ratified.iter().map(host_to_json).collect(),
            proposed: proposed
                .as_ref()
                .map(|p| p.iter().map(host_to_json).collect()),
        })),
    }
}

/// Parse `known_hosts`: a value that is not a valid set is kept as [`StoredHosts::Malformed`].
pub(crate) fn from_json(raw: serde_json::Value) -> StoredHosts {
    let parsed = serde_json::from_value::<HostsJson>(raw.clone())
        .map_err(|e| e.to_string())
        .and_then(|j| {
            let ratified = hosts_from_json("ratified", j.ratified)?;
            let proposed = j
                .proposed
                .map(|p| hosts_from_json("proposed", p))
                .transpose()?;
            Ok(StoredHosts::Hosts { ratified, proposed })
        });
    match parsed {
        Ok(h) => h,
        Err(problem) => StoredHosts::Malformed { raw, problem },
    }
}
