//! The canonical byte string a vault's manifest signature covers. Hand-written and
//! length-prefixed so that it never depends on JSON formatting (shares-format.md, "Manifest").

use super::Vault;
use crate::wire;

fn put_str(out: &mut Vec<u8>, s: &str) {
    let b = s.as_bytes();
    out.extend_from_slice(&(b.len() as u16).to_be_bytes());
    out.extend_from_slice(b);
}

/// DOMAIN || format || vault id || created || epoch || epoch started || Ed25519 key ||
/// age recipient || SLIP-39 parameters || policy.
pub(super) fn bytes(v: &Vault) -> Vec<u8> {
    let mut out = wire::MANIFEST_SIGNATURE_DOMAIN.to_vec();
    put_str(&mut out, wire::VAULT_FORMAT);
    out.extend_from_slice(&v.vault_id);
    out.extend_from_slice(&v.created.to_be_bytes());
    out.extend_from_slice(&v.epoch.to_be_bytes());
    out.extend_from_slice(&v.epoch_started.to_be_bytes());
    out.extend_from_slice(v.public.ed25519.as_bytes());
    put_str(&mut out, &v.public.age_recipient);
    out.extend_from_slice(&v.slip39.identifier.to_be_bytes());
    out.push(u8::from(v.slip39.extendable));
    out.push(v.slip39.iteration_exponent);
    out.push(u8::from(v.slip39.passphrase));
    out.push(v.policy.group_threshold);
    out.push(v.policy.groups.len() as u8);
    for g in &v.policy.groups {
        put_str(&mut out, &g.name);
        out.push(g.member_threshold);
        out.push(g.custodians.len() as u8);
        for c in &g.custodians {
            out.push(c.member_index);
            put_str(&mut out, &c.name);
        }
    }
    out
}
