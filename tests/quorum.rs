//! The quorum layer on its own: each per-share check against the vault (foreign key, other
//! vault id, stale and newer epochs, other share set, unknown member, renamed custodian), the
//! set checks (conflict, mixed), and the inconsistent-extra-share report.

use custody::input::{Presented, Source, parse_text};
use custody::keys::DerivedKeys;
use custody::quorum::{QuorumError, ShareProblem, check_share, unlock};
use custody::slip39::Share;
use custody::testkit::test_vault;
use custody::token::Token;
use custody::vault::Vault;

struct Fixture {
    keys: DerivedKeys,
    vault: Vault,
    tokens: Vec<Token>,
}

/// A 3-of-4 vault (alice..dave) with id and master secret bytes `secret_byte`, split with `seed`.
fn fixture(secret_byte: u8, seed: u64) -> Fixture {
    let t = test_vault(
        secret_byte,
        secret_byte,
        seed,
        &[("custodians", 3, &["alice", "bob", "carol", "dave"])],
        1,
    );
    Fixture {
        keys: t.keys,
        vault: t.vault,
        tokens: t.tokens.into_iter().next().unwrap(),
    }
}

fn presented(label: &str, t: &Token) -> Presented {
    parse_text(label, &t.to_text()).unwrap()
}

fn words(label: &str, s: &Share) -> Presented {
    parse_text(label, &s.to_words()).unwrap()
}

#[test]
fn a_quorum_unlocks_and_names_members() {
    let f = fixture(1, 1);
    let ps: Vec<_> = [0, 2, 3]
        .iter()
        .map(|&i| presented(&format!("s{i}"), &f.tokens[i]))
        .collect();
    let u = unlock(&ps, Some(&f.vault), None).unwrap();
    assert_eq!(u.master.expose(), &[1u8; 32]);
    assert_eq!(u.keys.verifying_key(), f.keys.verifying_key());
    let names: Vec<_> = u.members.iter().map(|m| m.custodian.as_str()).collect();
    assert_eq!(names, ["alice", "carol", "dave"]);
    assert!(
        u.members
            .iter()
            .all(|m| m.signed && m.source == Source::Token)
    );
}

#[test]
fn foreign_key_and_other_vault_id() {
    let f = fixture(1, 1);
    let g = fixture(2, 2);
    assert!(matches!(
        check_share(&presented("x", &g.tokens[0]), &f.vault),
        Err(ShareProblem::ForeignKey { .. })
    ));
    // Signed with this vault's key but naming another vault id.
    let mut info = f.tokens[0].info.clone();
    info.vault_id = [0xee; 16];
    let t = Token::sign(info, f.tokens[0].share.clone(), f.keys.signing_key()).unwrap();
    assert_eq!(
        check_share(&presented("x", &t), &f.vault),
        Err(ShareProblem::OtherVaultId)
    );
}

#[test]
fn stale_and_newer_epochs() {
    let mut f = fixture(1, 1);
    f.vault = custody::testkit::at_epoch(&f.vault, &f.keys, 2, 1_767_225_600); // 2026-01-01
    let err = check_share(&presented("old", &f.tokens[0]), &f.vault).unwrap_err();
    assert_eq!(
        err,
        ShareProblem::Stale {
            share_epoch: 1,
            vault_epoch: 2,
            since: "2026-01-01".into()
        }
    );
    assert!(err.to_string().contains("replaced on 2026-01-01"));
    f.vault = custody::testkit::at_epoch(&f.vault, &f.keys, 1, 1_767_225_600);
    let mut info = f.tokens[0].info.clone();
    info.epoch = 5;
    let t = Token::sign(info, f.tokens[0].share.clone(), f.keys.signing_key()).unwrap();
    assert!(matches!(
        check_share(&presented("new", &t), &f.vault),
        Err(ShareProblem::NewerThanVault { share_epoch: 5, .. })
    ));
}

#[test]
fn words_from_another_set_are_refused() {
    let f = fixture(1, 1);
    let g = fixture(1, 99); // same secret, different identifier
    let p = words("w", &g.tokens[0].share);
    assert!(matches!(
        check_share(&p, &f.vault),
        Err(ShareProblem::OtherSet {
            what: "identifier",
            ..
        })
    ));
}

#[test]
fn renamed_custodian_and_unknown_member() {
    let mut f = fixture(1, 1);
    let mut info = f.tokens[1].info.clone();
    info.custodian = "mallory".into();
    let t = Token::sign(info, f.tokens[1].share.clone(), f.keys.signing_key()).unwrap();
    assert!(matches!(
        check_share(&presented("x", &t), &f.vault),
        Err(ShareProblem::NameMismatch { .. })
    ));
    let mut policy = f.vault.policy().clone();
    policy.groups[0].custodians.pop();
    f.vault = f.vault.policy_view(policy);
    assert_eq!(
        check_share(&words("w", &f.tokens[3].share), &f.vault),
        Err(ShareProblem::UnknownMember {
            group_index: 0,
            member_index: 3
        })
    );
}

#[test]
fn all_rejections_are_reported_together() {
    let f = fixture(1, 1);
    let g = fixture(2, 2);
    let ps = vec![
        presented("good", &f.tokens[0]),
        presented("bad1", &g.tokens[1]),
        presented("bad2", &g.tokens[2]),
    ];
    match unlock(&ps, Some(&f.vault), None) {
        Err(QuorumError::Rejected(list)) => {
            let labels: Vec<_> = list.iter().map(|(l, _)| l.as_str()).collect();
            assert_eq!(labels, ["bad1", "bad2"]);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn conflicting_share_for_one_slot_is_named() {
    let f = fixture(1, 1);
    let mut forged = f.tokens[1].share.clone();
    forged.value[0] ^= 1;
    let ps = vec![
        presented("alice", &f.tokens[0]),
        presented("bob", &f.tokens[1]),
        Presented {
            label: "bob-copy".into(),
            source: Source::Words,
            token: None,
            share: forged,
        },
    ];
    let e = unlock(&ps, Some(&f.vault), None).unwrap_err();
    assert!(
        matches!(&e, QuorumError::Conflict { first, second, .. } if first == "bob" && second == "bob-copy"),
        "{e:?}"
    );
}

#[test]
fn inconsistent_extra_share_is_named_never_a_wrong_secret() {
    let f = fixture(1, 1);
    let mut bad = f.tokens[3].share.clone();
    bad.value[5] ^= 0x40;
    let ps = vec![
        presented("alice", &f.tokens[0]),
        presented("bob", &f.tokens[1]),
        presented("carol", &f.tokens[2]),
        Presented {
            label: "dave-damaged".into(),
            source: Source::Words,
            token: None,
            share: bad,
        },
    ];
    match unlock(&ps, Some(&f.vault), None) {
        Err(QuorumError::Inconsistent { labels }) => assert_eq!(labels, ["dave-damaged"]),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_share_set_of_another_secret_with_forged_tokens_is_caught_by_the_key() {
    // Three words-only shares of another secret but with this vault's identifier cannot be
    // produced without the secret; shares of another secret are caught by the key comparison.
    let f = fixture(1, 1);
    let g = fixture(2, 1); // same RNG seed: same identifier, other secret
    assert_eq!(f.tokens[0].share.identifier, g.tokens[0].share.identifier);
    let ps: Vec<_> = (0..3)
        .map(|i| words(&format!("w{i}"), &g.tokens[i].share))
        .collect();
    assert!(matches!(
        unlock(&ps, Some(&f.vault), None),
        Err(QuorumError::WrongSecret {
            passphrase_given: false,
            ..
        })
    ));
}

#[test]
fn shares_of_two_sets_are_mixed_by_the_one_slip39_rule() {
    let f = fixture(1, 1);
    let g = fixture(1, 99); // same secret, different identifier
    let (a, b) = (&f.tokens[0].share, &g.tokens[1].share);
    assert_eq!(
        custody::slip39::check_consistent(a, b),
        Err(custody::slip39::Inconsistency::Identifier)
    );
    assert_eq!(
        custody::slip39::check_consistent(a, &f.tokens[1].share),
        Ok(())
    );
    // Without a vault, the quorum layer refuses the pair with the same parameter name.
    let err = unlock(&[words("a", a), words("b", b)], None, None).unwrap_err();
    assert!(
        matches!(
            err,
            QuorumError::Mixed {
                what: "identifier",
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn library_messages_name_no_flags() {
    let f = fixture(1, 1);
    let err = unlock(&[], Some(&f.vault), None).unwrap_err();
    assert!(matches!(err, QuorumError::NoShares), "{err:?}");
    let g = fixture(2, 2);
    let err = unlock(
        &[presented("x", &g.tokens[0]), presented("y", &f.tokens[1])],
        Some(&f.vault),
        None,
    )
    .unwrap_err();
    assert!(matches!(err, QuorumError::Rejected(_)), "{err:?}");
    for e in [QuorumError::NoShares, QuorumError::PassphraseRequired, err] {
        let msg = e.to_string();
        assert!(!msg.contains("--") && !msg.contains("`custody "), "{msg}");
    }
}
