//! The canonical byte string a vault's manifest signature covers. Hand-written and
//! length-prefixed so that it never depends on JSON formatting (shares-format.md, "Manifest").

use super::{Slip39Params, Vault};
use crate::policy::Policy;
use crate::wire;

/// `str16`: a big-endian u16 byte length, then the UTF-8 bytes.
pub(super) fn put_str(out: &mut Vec<u8>, s: &str) {
    let b = s.as_bytes();
    out.extend_from_slice(&(b.len() as u16).to_be_bytes());
    out.extend_from_slice(b);
}

/// SLIP-39 parameters (identifier, extendable, iteration exponent, passphrase flag) then the
/// policy (group threshold, and per group its name, threshold and `index || name` members).
pub(super) fn put_params(out: &mut Vec<u8>, slip39: &Slip39Params, policy: &Policy) {
    out.extend_from_slice(&slip39.identifier.to_be_bytes());
    out.push(u8::from(slip39.extendable));
    out.push(slip39.iteration_exponent);
    out.push(u8::from(slip39.passphrase));
    out.push(policy.group_threshold);
    out.push(policy.groups.len() as u8);
    for g in &policy.groups {
        put_str(out, &g.name);
        out.push(g.member_threshold);
        out.push(g.custodians.len() as u8);
        for c in &g.custodians {
            out.push(c.member_index);
            put_str(out, &c.name);
        }
    }
}

/// DOMAIN || format || vault id || created || epoch || epoch started || Ed25519 key ||
/// age recipient || SLIP-39 parameters || policy, then, only for a vault whose master key was
/// rotated, str16("master_rotated") || u64 time (so that vaults signed before the field
/// existed verify unchanged, and removing the field breaks the signature).
pub(super) fn bytes(v: &Vault) -> Vec<u8> {
    let mut out = wire::MANIFEST_SIGNATURE_DOMAIN.to_vec();
    put_str(&mut out, wire::VAULT_FORMAT);
    out.extend_from_slice(&v.vault_id);
    out.extend_from_slice(&v.created.to_be_bytes());
    out.extend_from_slice(&v.epoch.to_be_bytes());
    out.extend_from_slice(&v.epoch_started.to_be_bytes());
    out.extend_from_slice(v.public.ed25519.as_bytes());
    put_str(&mut out, &v.public.age_recipient);
    put_params(&mut out, &v.slip39, &v.policy);
    if let Some(at) = v.master_rotated {
        put_str(&mut out, wire::MANIFEST_MASTER_ROTATED_TAG);
        out.extend_from_slice(&at.to_be_bytes());
    }
    out
}

/// The bytes the credential ratification signature covers: DOMAIN || SHA-256(vault manifest)
/// || generation || ratified-at || rotation days || entry count || for each ratified entry in
/// name order: str16(name) || SHA-256(entry canonical bytes), then, only when the quorum
/// ratified an agent access policy with rules, str16("agent_access") || SHA-256(its canonical
/// bytes) (so that records signed before the policy existed verify unchanged, and removing the
/// field breaks the signature), then, likewise only when the quorum ratified known hosts,
/// str16("known_hosts") || SHA-256(their canonical bytes).
pub(super) fn ratification_bytes(
    v: &Vault,
    generation: u64,
    ratified_at: u64,
    entries: &[(String, [u8; 32])],
    agent_access: Option<&[u8; 32]>,
    known_hosts: Option<&[u8; 32]>,
) -> Vec<u8> {
    use sha2::{Digest, Sha256};
    let mut out = wire::RATIFICATION_DOMAIN.to_vec();
    out.extend_from_slice(&Sha256::digest(bytes(v)));
    out.extend_from_slice(&generation.to_be_bytes());
    out.extend_from_slice(&ratified_at.to_be_bytes());
    out.extend_from_slice(&v.credentials.rotation_days().to_be_bytes());
    out.extend_from_slice(&(entries.len() as u32).to_be_bytes());
    for (name, digest) in entries {
        put_str(&mut out, name);
        out.extend_from_slice(digest);
    }
    if let Some(d) = agent_access {
        put_str(&mut out, wire::RATIFICATION_AGENT_ACCESS_TAG);
        out.extend_from_slice(d);
    }
    if let Some(d) = known_hosts {
        put_str(&mut out, wire::RATIFICATION_KNOWN_HOSTS_TAG);
        out.extend_from_slice(d);
    }
    out
}
