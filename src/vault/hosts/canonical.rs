//! The canonical bytes of a known-hosts set, whose SHA-256 the quorum's ratification signs
//! (shares-format.md, "Known hosts"). Hand-written and length-prefixed, so that they never
//! depend on JSON formatting or on the order hosts were added in.

use sha2::{Digest, Sha256};

use super::HostEntry;
use crate::vault::manifest::put_str;
use crate::wire;

/// DOMAIN || vault id || u32 host count || each host in name order (by bytes): str16 name ||
/// 32-byte Ed25519 public key || u64 added-at.
pub(super) fn bytes(vault_id: &[u8; wire::VAULT_ID_LEN], hosts: &[HostEntry]) -> Vec<u8> {
    let mut sorted: Vec<&HostEntry> = hosts.iter().collect();
    sorted.sort_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()));
    let mut out = wire::KNOWN_HOSTS_DOMAIN.to_vec();
    out.extend_from_slice(vault_id);
    out.extend_from_slice(&(sorted.len() as u32).to_be_bytes());
    for h in sorted {
        put_str(&mut out, &h.name);
        out.extend_from_slice(h.key.as_bytes());
        out.extend_from_slice(&h.added_at.to_be_bytes());
    }
    out
}

/// SHA-256 of [`bytes`]; `None` for a set without hosts (a ratification then carries no
/// known-hosts field, exactly as before known hosts existed).
pub(super) fn digest(vault_id: &[u8; wire::VAULT_ID_LEN], hosts: &[HostEntry]) -> Option<[u8; 32]> {
    if hosts.is_empty() {
        return None;
    }
    Some(Sha256::digest(bytes(vault_id, hosts)).into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::hex;
    use ed25519_dalek::SigningKey;

    /// The vector in shares-format.md, "Known hosts".
    #[test]
    fn the_canonical_bytes_and_digest_match_the_spec_vector() {
        let host = HostEntry {
            name: "ops-laptop".into(),
            key: SigningKey::from_bytes(&[7; 32]).verifying_key(),
            added_at: 1_790_000_000,
        };
        let id = [0x11; 16];
        let b = bytes(&id, std::slice::from_ref(&host));
        let spec = "637573746f64792f76312f6b6e6f776e2d686f737473001111111111111111\
                    111111111111111100000001000a6f70732d6c6170746f70ea4a6c63e29c520a\
                    bef5507b132ec5f9954776aebebe7b92421eea691446d22c000000006ab13b80";
        assert_eq!(b.len(), 95);
        assert_eq!(hex(&b), spec);
        assert_eq!(
            &b[..23 + 16 + 4 + 12],
            [
                &b"custody/v1/known-hosts\0"[..],
                &[0x11; 16],
                &[0, 0, 0, 1, 0, 10],
                b"ops-laptop"
            ]
            .concat()
        );
        assert_eq!(
            hex(&digest(&id, &[host]).unwrap()),
            "34e76eff3989ebd0eb24fb59770cedfc959e54001c257674b4c973eaeaaf848c"
        );
        assert_eq!(digest(&id, &[]), None);
    }

    #[test]
    fn the_order_hosts_were_added_in_does_not_matter() {
        let a = HostEntry {
            name: "a".into(),
            key: SigningKey::from_bytes(&[1; 32]).verifying_key(),
            added_at: 1,
        };
        let b = HostEntry {
            name: "b".into(),
            key: SigningKey::from_bytes(&[2; 32]).verifying_key(),
            added_at: 2,
        };
        let id = [0; 16];
        assert_eq!(
            digest(&id, &[a.clone(), b.clone()]),
            digest(&id, &[b.clone(), a.clone()])
        );
        let mut moved = b.clone();
        moved.added_at = 3;
        assert_ne!(digest(&id, &[a.clone(), b]), digest(&id, &[a, moved]));
    }
}
