//! "Board 1-of-2 AND Ops 2-of-3": a 1-of-n group is issued as n copies of the group's one
//! SLIP-39 member share, each in a token naming its holder. The drill matrix at the quorum
//! layer, the holder named by check-share, copies counted once (never a duplicate error, never a
//! conflict, never a wrong secret), and the terminal ceremony's gathering.

use custody::gathering::{Gathering, Outcome};
use custody::input::{Presented, Source, parse_text};
use custody::quorum::{QuorumError, ShareProblem, check_share, unlock};
use custody::testkit::{TestVault, test_vault};
use custody::token::{Token, TokenInfo};

/// Board 1-of-2 (frank, gina) AND Ops 2-of-3 (olga, oscar, otto): group threshold 2.
fn board_and_ops() -> TestVault {
    test_vault(
        7,
        7,
        13,
        &[
            ("Board", 1, &["frank", "gina"]),
            ("Ops", 2, &["olga", "oscar", "otto"]),
        ],
        2,
    )
}

fn token(label: &str, t: &Token) -> Presented {
    parse_text(label, &t.to_text()).unwrap()
}

fn words(label: &str, t: &Token) -> Presented {
    parse_text(label, &t.share.to_words()).unwrap()
}

/// The shares named: `frank`, `gina`, `olga`, `oscar`, `otto`.
fn shares(t: &TestVault, who: &[&str]) -> Vec<Presented> {
    who.iter()
        .map(|&name| {
            let tok = t
                .tokens
                .iter()
                .flatten()
                .find(|k| k.info.custodian == name)
                .unwrap();
            token(name, tok)
        })
        .collect()
}

#[test]
fn copies_are_one_slip39_share_in_tokens_naming_each_holder() {
    let t = board_and_ops();
    let (frank, gina) = (&t.tokens[0][0], &t.tokens[0][1]);
    assert_eq!(frank.info.custodian, "frank");
    assert_eq!(gina.info.custodian, "gina");
    // The same SLIP-39 share (member 1 of 1 of group Board), in two different signed tokens.
    assert_eq!(frank.share.to_words(), gina.share.to_words());
    assert_eq!(
        (frank.share.member_index, frank.share.member_threshold),
        (0, 1)
    );
    assert_ne!(frank.to_text().as_str(), gina.to_text().as_str());
    // check-share names the holder from the token, with the holder's number in the group.
    let m = check_share(&token("g", gina), &t.vault).unwrap();
    assert_eq!((m.custodian.as_str(), m.group.as_str()), ("gina", "Board"));
    assert_eq!((m.member_number, m.holders), (2, 2));
    let m = check_share(&token("f", frank), &t.vault).unwrap();
    assert_eq!((m.custodian.as_str(), m.member_number), ("frank", 1));
    // The words alone cannot say whose copy they are: both holders are named.
    let m = check_share(&words("w", frank), &t.vault).unwrap();
    assert_eq!(m.custodian, "frank or gina");
    assert!(!m.signed);
}

#[test]
fn a_token_naming_someone_else_for_a_copy_is_refused() {
    let t = board_and_ops();
    let forged = Token::sign(
        TokenInfo {
            custodian: "olga".into(),
            ..t.tokens[0][0].info.clone()
        },
        t.tokens[0][0].share.clone(),
        t.keys.signing_key(),
    )
    .unwrap();
    let e = check_share(&token("x", &forged), &t.vault).unwrap_err();
    assert!(
        matches!(&e, ShareProblem::NameMismatch { token, vault }
            if token == "olga (group Board)" && vault.contains("frank and gina")),
        "{e:?}"
    );
}

#[test]
fn drill_matrix_board_1_of_2_and_ops_2_of_3() {
    let t = board_and_ops();
    let opens = |who: &[&str]| unlock(&shares(&t, who), Some(&t.vault), None);
    for who in [
        &["frank", "olga", "oscar"][..],
        &["gina", "olga", "oscar"],
        &["gina", "oscar", "otto"],
        &["olga", "frank", "otto"],
    ] {
        let u = opens(who).unwrap_or_else(|e| panic!("{who:?}: {e}"));
        assert_eq!(u.master.expose(), &[7u8; 32], "{who:?}");
        assert!(u.counted_once.is_empty());
    }
    // Board alone, even both copies: Ops is missing.
    let e = opens(&["frank", "gina"]).unwrap_err();
    let QuorumError::TooFew { lines } = &e else {
        panic!("{e:?}")
    };
    assert!(
        lines.contains(&"have 0 of 2 for group Ops".to_string()),
        "{lines:?}"
    );
    assert!(
        lines.contains(&"1 of the 2 groups are complete; 2 are needed".to_string()),
        "{lines:?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("frank's and gina's copies") && l.contains("count once")),
        "{lines:?}"
    );
    // Ops alone, all three: Board is missing.
    let e = opens(&["olga", "oscar", "otto"]).unwrap_err();
    let QuorumError::TooFew { lines } = &e else {
        panic!("{e:?}")
    };
    assert!(
        lines.contains(&"have 0 of 1 for group Board".to_string()),
        "{lines:?}"
    );
    // Both copies and two of Ops: opens, and the copies count once.
    let u = opens(&["frank", "gina", "olga", "oscar"]).unwrap();
    assert_eq!(u.master.expose(), &[7u8; 32]);
    assert_eq!(u.counted_once.len(), 1);
    let c = &u.counted_once[0];
    assert_eq!(
        (c.group.as_str(), c.holders.clone()),
        ("Board", vec!["frank".to_string(), "gina".to_string()])
    );
    assert_eq!(
        c.to_string(),
        "frank's and gina's copies of group Board's one share are the same share: presented \
         together they count once"
    );
    let names: Vec<_> = u.members.iter().map(|m| m.custodian.as_str()).collect();
    assert_eq!(names, ["frank", "gina", "olga", "oscar"]);
    // One Ops share short, even with both copies.
    assert!(matches!(
        opens(&["frank", "gina", "olga"]),
        Err(QuorumError::TooFew { .. })
    ));
}

#[test]
fn a_copy_presented_twice_by_one_holder_is_still_a_duplicate() {
    let t = board_and_ops();
    let mut ps = shares(&t, &["frank", "olga", "oscar"]);
    ps.push(token("frank-again", &t.tokens[0][0]));
    assert!(matches!(
        unlock(&ps, Some(&t.vault), None),
        Err(QuorumError::Duplicate { .. })
    ));
}

#[test]
fn a_damaged_copy_is_a_conflict_never_a_wrong_secret() {
    let t = board_and_ops();
    let mut ps = shares(&t, &["frank", "olga", "oscar"]);
    let mut damaged = t.tokens[0][1].share.clone();
    damaged.value[0] ^= 1;
    ps.push(Presented {
        label: "gina-typed".into(),
        source: Source::Words,
        token: None,
        share: damaged,
    });
    let e = unlock(&ps, Some(&t.vault), None).unwrap_err();
    assert!(
        matches!(&e, QuorumError::Conflict { first, second, .. } if first == "frank" && second == "gina-typed"),
        "{e:?}"
    );
}

#[test]
fn a_token_and_the_other_holders_words_count_once() {
    let t = board_and_ops();
    let mut ps = shares(&t, &["frank", "olga", "oscar"]);
    ps.push(words("gina-words", &t.tokens[0][1]));
    let u = unlock(&ps, Some(&t.vault), None).unwrap();
    assert_eq!(u.master.expose(), &[7u8; 32]);
    assert_eq!(u.counted_once[0].holders, ["frank", "frank or gina"]);
    // Without a vault too (standard SLIP-39 shares: a threshold-1 group's share, twice).
    let u = unlock(&ps, None, None).unwrap();
    assert_eq!(u.master.expose(), &[7u8; 32]);
    assert_eq!(u.counted_once.len(), 1);
}

#[test]
fn the_ceremony_accepts_the_second_copy_and_counts_it_once() {
    let t = board_and_ops();
    let mut g = Gathering::new(Some(&t.vault));
    for p in shares(&t, &["frank", "gina"]) {
        assert!(matches!(g.present(p), Outcome::Accepted { .. }));
    }
    assert_eq!(
        g.summary_line(),
        "Board complete, Ops 0 of 2 — 1 of 2 groups complete, 2 needed"
    );
    assert!(!g.is_ready());
    assert!(
        g.copies_note()
            .is_some_and(|n| n.contains("frank's and gina's copies") && n.contains("count once")),
        "{:?}",
        g.copies_note()
    );
    // frank's own token again is refused as presented twice.
    assert!(matches!(
        g.present(token("again", &t.tokens[0][0])),
        Outcome::Rejected { .. }
    ));
    for p in shares(&t, &["olga", "otto"]) {
        assert!(matches!(g.present(p), Outcome::Accepted { .. }));
    }
    assert!(g.is_ready());
    assert!(!g.has_extra_shares());
    g.cross_check().unwrap();
    let u = unlock(&g.into_shares(), Some(&t.vault), None).unwrap();
    assert_eq!(u.master.expose(), &[7u8; 32]);
    assert_eq!(u.counted_once[0].holders, ["frank", "gina"]);
}

#[test]
fn the_reference_implementation_recovers_from_one_copy_and_two_ops_shares() {
    let t = board_and_ops();
    // gina's copy (the words on her sheet) and two Ops shares: standard SLIP-39 shares that
    // python-shamir-mnemonic combines without custody.
    let words: Vec<String> = [&t.tokens[0][1], &t.tokens[1][0], &t.tokens[1][2]]
        .iter()
        .map(|k| k.share.to_words().to_string())
        .collect();
    let script = r#"
import sys
from shamir_mnemonic import combine_mnemonics
print(combine_mnemonics(sys.argv[1:]).hex())
"#;
    match std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(&words)
        .output()
    {
        Ok(out) if out.status.success() => {
            assert_eq!(
                String::from_utf8(out.stdout).unwrap().trim(),
                "07".repeat(32)
            );
        }
        other => {
            assert!(
                std::env::var_os("CI").is_none(),
                "shamir-mnemonic is needed in CI: {other:?}"
            );
            eprintln!("python3 with shamir_mnemonic not available; skipping");
        }
    }
}
