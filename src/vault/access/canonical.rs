//! The canonical bytes of an agent access policy, whose SHA-256 the quorum's ratification
//! signs (shares-format.md, "Agent access policy"). Hand-written and length-prefixed, so that
//! they never depend on JSON formatting or on the order rules were added in.

use sha2::{Digest, Sha256};

use super::AccessRule;
use crate::vault::manifest::put_str;
use crate::wire;

fn put_opt_str(out: &mut Vec<u8>, s: Option<&str>) {
    match s {
        None => out.push(0),
        Some(s) => {
            out.push(1);
            put_str(out, s);
        }
    }
}

fn put_opt_u32(out: &mut Vec<u8>, n: Option<u32>) {
    match n {
        None => out.push(0),
        Some(n) => {
            out.push(1);
            out.extend_from_slice(&n.to_be_bytes());
        }
    }
}

/// DOMAIN || vault id || u32 rule count || each rule in canonical (selector) order: u32 uid ||
/// u8 0, or u8 1 and u32 gid || u8 0, or u8 1 and str16 exe || u8 0, or u8 1 and str16 unit ||
/// u32 requests a minute || u16 credential count || str16 each name, sorted by bytes. Then,
/// only when some rule has proxy terms other than the defaults, str16("proxy_terms") and each
/// rule's terms in the same order: u8 withdraw || u8 0, or u8 1 and u32 orders a second ||
/// u8 0, or u8 1 and u32 orders a minute || u16 symbol count || str16 each symbol, sorted ||
/// u8 0, or u8 1 and str16 canonical max notional. A policy without terms thus keeps the
/// bytes (and the digest its ratification signed) it had before terms existed.
pub(super) fn bytes(vault_id: &[u8; wire::VAULT_ID_LEN], rules: &[AccessRule]) -> Vec<u8> {
    let mut sorted: Vec<&AccessRule> = rules.iter().collect();
    sorted.sort_by(|a, b| a.selector().cmp(b.selector()));
    let mut out = wire::AGENT_ACCESS_DOMAIN.to_vec();
    out.extend_from_slice(vault_id);
    out.extend_from_slice(&(sorted.len() as u32).to_be_bytes());
    for r in &sorted {
        let s = r.selector();
        out.extend_from_slice(&s.uid().to_be_bytes());
        put_opt_u32(&mut out, s.gid());
        put_opt_str(&mut out, s.exe_str());
        put_opt_str(&mut out, s.unit());
        out.extend_from_slice(&r.rate().requests_per_minute().to_be_bytes());
        out.extend_from_slice(&(r.credentials().len() as u16).to_be_bytes());
        for c in r.credentials() {
            put_str(&mut out, c);
        }
    }
    if sorted.iter().any(|r| !r.terms().is_default()) {
        put_str(&mut out, wire::AGENT_ACCESS_TERMS_TAG);
        for r in &sorted {
            let t = r.terms();
            out.push(u8::from(t.allows_withdraw()));
            put_opt_u32(&mut out, t.orders_per_second());
            put_opt_u32(&mut out, t.orders_per_minute());
            out.extend_from_slice(&(t.symbols().len() as u16).to_be_bytes());
            for s in t.symbols() {
                put_str(&mut out, s);
            }
            put_opt_str(&mut out, t.max_notional().map(|n| n.to_string()).as_deref());
        }
    }
    out
}

/// SHA-256 of [`bytes`]; `None` for a policy without rules (a ratification then carries no
/// agent access field, exactly as before the policy existed).
pub(super) fn digest(
    vault_id: &[u8; wire::VAULT_ID_LEN],
    rules: &[AccessRule],
) -> Option<[u8; 32]> {
    if rules.is_empty() {
        None
    } else {
        Some(Sha256::digest(bytes(vault_id, rules)).into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vault::access::{Notional, ProxyTerms, Rate, Selector};

    fn rule(uid: u32, exe: Option<&str>, creds: &[&str], rate: u64) -> AccessRule {
        AccessRule::new(
            Selector::new(uid, None, exe, None).unwrap(),
            creds.iter().map(|c| c.to_string()).collect(),
            Rate::per_minute(rate).unwrap(),
        )
        .unwrap()
    }

    #[test]
    fn the_bytes_follow_the_table_and_ignore_insertion_order() {
        let id = [7u8; 16];
        let a = rule(1000, Some("/x"), &["b", "a"], 60);
        let b = rule(999, None, &["c"], 5);
        let bytes1 = bytes(&id, &[a.clone(), b.clone()]);
        assert_eq!(bytes1, bytes(&id, &[b, a]));
        let mut want = b"custody/v1/agent-access\0".to_vec();
        want.extend_from_slice(&id);
        want.extend_from_slice(&2u32.to_be_bytes());
        // uid 999: no gid, exe or unit; 5/min; one credential "c".
        want.extend_from_slice(&999u32.to_be_bytes());
        want.extend_from_slice(&[0, 0, 0]);
        want.extend_from_slice(&5u32.to_be_bytes());
        want.extend_from_slice(&1u16.to_be_bytes());
        want.extend_from_slice(&[0, 1, b'c']);
        // uid 1000 exe /x, 60/min, "a" and "b".
        want.extend_from_slice(&1000u32.to_be_bytes());
        want.extend_from_slice(&[0, 1, 0, 2, b'/', b'x', 0]);
        want.extend_from_slice(&60u32.to_be_bytes());
        want.extend_from_slice(&2u16.to_be_bytes());
        want.extend_from_slice(&[0, 1, b'a', 0, 1, b'b']);
        assert_eq!(bytes1, want);
        assert_eq!(digest(&id, &[]), None);
    }

    /// A policy of default-term rules (gid, exe and unit both absent and present, several
    /// credentials, rates): its digest as computed before rules had proxy terms, so that every
    /// ratification signed then keeps verifying.
    #[test]
    fn a_policy_of_default_terms_keeps_the_digest_it_had_before_terms_existed() {
        let id = [0x11u8; 16];
        let rules = [
            rule(
                1000,
                Some("/opt/bot/run"),
                &["okx-hedge", "binance-main"],
                120,
            ),
            rule(1000, None, &["binance-main"], 60),
            AccessRule::new(
                Selector::new(1001, Some(100), None, Some("tradebot.service")).unwrap(),
                vec!["kraken-spot".into()],
                Rate::per_minute(600_000).unwrap(),
            )
            .unwrap(),
        ];
        let d = digest(&id, &rules).unwrap();
        let hex: String = d.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            "0eadad9b9c56223f88a5f1fbe730f8b173051a8f7d8434d8c20ca1444b307851"
        );
    }

    fn terms() -> ProxyTerms {
        ProxyTerms::default()
            .with_withdraw(true)
            .with_orders_per_second(5)
            .unwrap()
            .with_symbols(["ETHUSDT", "BTCUSDT"])
            .unwrap()
            .with_max_notional(Notional::parse("50000.5").unwrap())
    }

    #[test]
    fn terms_are_an_extension_after_the_rules_in_the_same_order() {
        let id = [7u8; 16];
        let a = rule(1000, Some("/x"), &["b", "a"], 60).with_terms(terms());
        let b = rule(999, None, &["c"], 5);
        let old = bytes(
            &id,
            &[a.clone().with_terms(ProxyTerms::default()), b.clone()],
        );
        let new = bytes(&id, &[a.clone(), b.clone()]);
        assert_eq!(new, bytes(&id, &[b.clone(), a.clone()]));
        // The rules' part is what it was; the extension follows.
        assert_eq!(&new[..old.len()], old.as_slice());
        let mut want = vec![0, 11];
        want.extend_from_slice(b"proxy_terms");
        // uid 999 (first in canonical order): the defaults.
        want.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
        // uid 1000: withdraw, 5/s, no per-minute limit, two symbols sorted, max notional.
        want.push(1);
        want.push(1);
        want.extend_from_slice(&5u32.to_be_bytes());
        want.push(0);
        want.extend_from_slice(&2u16.to_be_bytes());
        want.extend_from_slice(&[0, 7]);
        want.extend_from_slice(b"BTCUSDT");
        want.extend_from_slice(&[0, 7]);
        want.extend_from_slice(b"ETHUSDT");
        want.push(1);
        want.extend_from_slice(&[0, 7]);
        want.extend_from_slice(b"50000.5");
        assert_eq!(&new[old.len()..], want.as_slice());
    }

    #[test]
    fn every_change_of_terms_changes_the_digest() {
        let id = [7u8; 16];
        let base = rule(1000, None, &["a"], 60);
        let variants = [
            ProxyTerms::default(),
            ProxyTerms::default().with_withdraw(true),
            ProxyTerms::default().with_orders_per_second(5).unwrap(),
            ProxyTerms::default().with_orders_per_second(6).unwrap(),
            ProxyTerms::default().with_orders_per_minute(5).unwrap(),
            ProxyTerms::default().with_symbols(["BTCUSDT"]).unwrap(),
            ProxyTerms::default()
                .with_symbols(["BTCUSDT", "ETHUSDT"])
                .unwrap(),
            ProxyTerms::default().with_max_notional(Notional::parse("1").unwrap()),
            ProxyTerms::default().with_max_notional(Notional::parse("1.5").unwrap()),
            terms(),
        ];
        let digests: std::collections::BTreeSet<[u8; 32]> = variants
            .iter()
            .map(|t| digest(&id, &[base.clone().with_terms(t.clone())]).unwrap())
            .collect();
        assert_eq!(digests.len(), variants.len());
        // The same terms on the other rule of two: another digest too.
        let other = rule(2000, None, &["a"], 60);
        assert_ne!(
            digest(&id, &[base.clone().with_terms(terms()), other.clone()]),
            digest(&id, &[base, other.with_terms(terms())])
        );
    }

    /// The test vector of shares-format.md ("Agent access policy"), computed there from the
    /// byte table with Python: one rule, then the same rule with proxy terms.
    #[test]
    fn the_documented_test_vector_holds() {
        let id = [0x11u8; 16];
        let plain = rule(1001, None, &["binance-main"], 60);
        let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
        assert_eq!(
            hex(&digest(&id, std::slice::from_ref(&plain)).unwrap()),
            "b78366eac3c02fed14a8425ef03fc6969ca375c05e5b29db247935edec7d9b0a"
        );
        let with = plain.with_terms(
            ProxyTerms::default()
                .with_orders_per_second(5)
                .unwrap()
                .with_symbols(["ethusdt", "BTCUSDT"])
                .unwrap()
                .with_max_notional(Notional::parse("50000").unwrap()),
        );
        let b = bytes(&id, std::slice::from_ref(&with));
        assert_eq!(
            hex(&b),
            concat!(
                "637573746f64792f76312f6167656e742d616363657373001111111111111111",
                "111111111111111100000001000003e90000000000003c0001000c62696e616e",
                "63652d6d61696e000b70726f78795f7465726d73000100000005000002000742",
                "5443555344540007455448555344540100053530303030",
            )
        );
        assert_eq!(
            hex(&digest(&id, &[with]).unwrap()),
            "8a5f83846173616c4286891c400a7aead35edd2054209be11dd04676159c2c93"
        );
    }
}
