//! Property tests of the SLIP-0039 implementation with deterministic ChaCha randomness:
//! round trips over every single-level configuration and many two-level ones, extra and
//! tampered shares, duplicates, mnemonic encoding and checksum suggestions.
//! Loops use `split_ems`/`recover_ems` (no PBKDF2) so the suite stays fast in debug builds.

use custody::slip39::{self, EncryptedMasterSecret, GroupSpec, Share, Slip39Error};
use rand_chacha::ChaCha20Rng;
use rand_core::{RngCore, SeedableRng};
use zeroize::Zeroizing;

fn rng(seed: u64) -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(seed)
}

fn below(rng: &mut ChaCha20Rng, n: usize) -> usize {
    (rng.next_u64() % n as u64) as usize
}

fn random_ems(rng: &mut ChaCha20Rng, len: usize) -> EncryptedMasterSecret {
    let mut ciphertext = Zeroizing::new(vec![0u8; len]);
    rng.fill_bytes(&mut ciphertext);
    EncryptedMasterSecret {
        identifier: (rng.next_u32() & 0x7FFF) as u16,
        extendable: rng.next_u32() & 1 == 1,
        iteration_exponent: 0,
        ciphertext,
    }
}

/// A shuffled random k-subset of `items`.
fn choose<T: Clone>(rng: &mut ChaCha20Rng, items: &[T], k: usize) -> Vec<T> {
    let mut pool = items.to_vec();
    let mut out = Vec::with_capacity(k);
    for _ in 0..k {
        let i = below(rng, pool.len());
        out.push(pool.swap_remove(i));
    }
    out
}

const LENGTHS: [usize; 4] = [16, 20, 32, 64];

#[test]
fn every_single_level_configuration_round_trips() {
    let mut r = rng(10);
    let mut configs = 0;
    for n in 1..=16u8 {
        for t in 1..=n {
            let ems = random_ems(&mut r, LENGTHS[configs % LENGTHS.len()]);
            let spec = [GroupSpec {
                member_threshold: t,
                member_count: n,
            }];
            let result = slip39::split_ems(&mut r, &ems, 1, &spec);
            if t == 1 && n > 1 {
                assert!(
                    matches!(result, Err(Slip39Error::InvalidThreshold { .. })),
                    "1-of-{n} must be refused"
                );
                continue;
            }
            let groups = result.unwrap();
            assert_eq!(groups.len(), 1);
            let members = &groups[0];
            assert_eq!(members.len(), usize::from(n));
            for (i, s) in members.iter().enumerate() {
                assert_eq!(
                    (
                        s.group_index,
                        s.member_index,
                        s.member_threshold,
                        s.group_threshold,
                        s.group_count
                    ),
                    (0, i as u8, t, 1, 1)
                );
            }
            for _ in 0..3 {
                let subset = choose(&mut r, members, usize::from(t));
                let recovered = slip39::recover_ems(&subset).unwrap();
                assert_eq!(recovered.ciphertext, ems.ciphertext, "{t}-of-{n}");
                assert_eq!(
                    (recovered.identifier, recovered.extendable),
                    (ems.identifier, ems.extendable)
                );
            }
            // All n shares (extras included) also work.
            let all = choose(&mut r, members, usize::from(n));
            assert_eq!(
                slip39::recover_ems(&all).unwrap().ciphertext,
                ems.ciphertext
            );
            if t > 1 {
                let short = choose(&mut r, members, usize::from(t - 1));
                assert_eq!(
                    slip39::recover_ems(&short).unwrap_err(),
                    Slip39Error::InsufficientMembers {
                        group_index: 0,
                        have: usize::from(t - 1),
                        need: usize::from(t)
                    }
                );
            }
            configs += 1;
        }
    }
    assert_eq!(configs, 136 - 15);
}

#[test]
fn threshold_one_shares_equal_the_secret() {
    let mut r = rng(11);
    let ems = random_ems(&mut r, 32);
    let spec = [GroupSpec {
        member_threshold: 1,
        member_count: 1,
    }; 3];
    let groups = slip39::split_ems(&mut r, &ems, 1, &spec).unwrap();
    for g in &groups {
        assert_eq!(g[0].value, ems.ciphertext);
    }
    // Any one group recovers; all three together too.
    assert_eq!(
        slip39::recover_ems(&groups[2]).unwrap().ciphertext,
        ems.ciphertext
    );
    let all: Vec<Share> = groups.iter().flatten().cloned().collect();
    assert_eq!(
        slip39::recover_ems(&all).unwrap().ciphertext,
        ems.ciphertext
    );
}

#[test]
fn two_level_configurations_round_trip() {
    let mut r = rng(12);
    for round in 0..150 {
        let group_count = 1 + below(&mut r, 5);
        let group_threshold = 1 + below(&mut r, group_count);
        let spec: Vec<GroupSpec> = (0..group_count)
            .map(|_| {
                let t = 1 + below(&mut r, 4) as u8;
                let n = if t == 1 {
                    1
                } else {
                    t + below(&mut r, usize::from(6 - t)) as u8
                };
                GroupSpec {
                    member_threshold: t,
                    member_count: n,
                }
            })
            .collect();
        let ems = random_ems(&mut r, LENGTHS[round % LENGTHS.len()]);
        let groups = slip39::split_ems(&mut r, &ems, group_threshold as u8, &spec).unwrap();
        let chosen_groups = choose(
            &mut r,
            &(0..group_count).collect::<Vec<_>>(),
            group_threshold,
        );
        let mut shares = Vec::new();
        for &g in &chosen_groups {
            shares.extend(choose(
                &mut r,
                &groups[g],
                usize::from(spec[g].member_threshold),
            ));
        }
        let shuffled = choose(&mut r, &shares, shares.len());
        assert_eq!(
            slip39::recover_ems(&shuffled).unwrap().ciphertext,
            ems.ciphertext,
            "{group_threshold} of {spec:?}"
        );

        // Every share of every group: extra members and extra groups are accepted.
        let everything: Vec<Share> = groups.iter().flatten().cloned().collect();
        assert_eq!(
            slip39::recover_ems(&everything).unwrap().ciphertext,
            ems.ciphertext
        );

        if group_threshold > 1 {
            // Drop one whole group: too few groups.
            let fewer: Vec<Share> = shares
                .iter()
                .filter(|s| usize::from(s.group_index) != chosen_groups[0])
                .cloned()
                .collect();
            assert_eq!(
                slip39::recover_ems(&fewer).unwrap_err(),
                Slip39Error::InsufficientGroups {
                    have: group_threshold - 1,
                    need: group_threshold
                }
            );
        }
        let g0 = chosen_groups[0];
        let need = usize::from(spec[g0].member_threshold);
        if need > 1 {
            // Drop one member of a chosen group: that group is incomplete.
            let victim = shares
                .iter()
                .position(|s| usize::from(s.group_index) == g0)
                .unwrap();
            let mut fewer = shares.clone();
            fewer.remove(victim);
            assert_eq!(
                slip39::recover_ems(&fewer).unwrap_err(),
                Slip39Error::InsufficientMembers {
                    group_index: g0 as u8,
                    have: need - 1,
                    need
                }
            );
        }
    }
}

#[test]
fn tampered_extra_share_is_named() {
    let mut r = rng(13);
    for len in LENGTHS {
        let ems = random_ems(&mut r, len);
        let spec = [GroupSpec {
            member_threshold: 3,
            member_count: 6,
        }];
        let members = slip39::split_ems(&mut r, &ems, 1, &spec).unwrap().remove(0);
        for victim in 0..6 {
            let mut shares = members.clone();
            let byte = below(&mut r, len);
            shares[victim].value[byte] ^= 1 + (r.next_u32() % 255) as u8;
            let err = slip39::recover_ems(&shares).unwrap_err();
            assert_eq!(
                err,
                Slip39Error::InconsistentShares {
                    shares: vec![victim],
                    group_index: Some(0)
                }
            );
            assert!(err.to_string().contains(&format!("#{}", victim + 1)));
        }
        // Two tampered shares among six with threshold 3: still a verifying subset of honest ones.
        let mut shares = members.clone();
        shares[1].value[0] ^= 0x55;
        shares[4].value[len - 1] ^= 0xAA;
        assert_eq!(
            slip39::recover_ems(&shares).unwrap_err(),
            Slip39Error::InconsistentShares {
                shares: vec![1, 4],
                group_index: Some(0)
            }
        );
        // Exactly the threshold with one tampered: the digest catches it.
        let mut exact = members[..3].to_vec();
        exact[2].value[3] ^= 0x01;
        assert_eq!(
            slip39::recover_ems(&exact).unwrap_err(),
            Slip39Error::DigestMismatch {
                group_index: Some(0)
            }
        );
    }
}

#[test]
fn tampered_extra_group_is_named() {
    let mut r = rng(14);
    let ems = random_ems(&mut r, 32);
    let spec = [
        GroupSpec {
            member_threshold: 2,
            member_count: 3,
        },
        GroupSpec {
            member_threshold: 1,
            member_count: 1,
        },
        GroupSpec {
            member_threshold: 2,
            member_count: 2,
        },
    ];
    let groups = slip39::split_ems(&mut r, &ems, 2, &spec).unwrap();
    let mut shares: Vec<Share> = vec![
        groups[0][0].clone(),
        groups[0][2].clone(),
        groups[1][0].clone(),
    ];
    shares.extend(groups[2].iter().cloned());
    assert_eq!(
        slip39::recover_ems(&shares).unwrap().ciphertext,
        ems.ciphertext
    );
    // The 1-of-1 group's share has no member digest; tampering it is caught at group level.
    shares[2].value[7] ^= 0x10;
    assert_eq!(
        slip39::recover_ems(&shares).unwrap_err(),
        Slip39Error::InconsistentShares {
            shares: vec![2],
            group_index: None
        }
    );
    // With only the threshold number of groups, the group digest catches it.
    let exact = vec![shares[0].clone(), shares[1].clone(), shares[2].clone()];
    assert_eq!(
        slip39::recover_ems(&exact).unwrap_err(),
        Slip39Error::DigestMismatch { group_index: None }
    );
}

#[test]
fn duplicates_are_never_combined() {
    let mut r = rng(15);
    let ems = random_ems(&mut r, 16);
    let spec = [GroupSpec {
        member_threshold: 2,
        member_count: 3,
    }];
    let members = slip39::split_ems(&mut r, &ems, 1, &spec).unwrap().remove(0);
    let same = vec![members[0].clone(), members[1].clone(), members[0].clone()];
    assert_eq!(
        slip39::recover_ems(&same).unwrap_err(),
        Slip39Error::DuplicateMember {
            group_index: 0,
            member_index: 0,
            first: 0,
            second: 2,
            identical: true
        }
    );
    let mut forged = members[2].clone();
    forged.member_index = 1;
    let err = slip39::recover_ems(&[members[0].clone(), members[1].clone(), forged]).unwrap_err();
    assert_eq!(
        err,
        Slip39Error::DuplicateMember {
            group_index: 0,
            member_index: 1,
            first: 1,
            second: 2,
            identical: false
        }
    );
}

#[test]
fn mismatched_parameters_name_both_shares() {
    let mut r = rng(16);
    let ems = random_ems(&mut r, 16);
    let spec = [GroupSpec {
        member_threshold: 2,
        member_count: 3,
    }];
    let members = slip39::split_ems(&mut r, &ems, 1, &spec).unwrap().remove(0);
    type Edit = fn(&mut Share);
    let cases: [(&str, Edit); 6] = [
        ("identifier", |s| s.identifier ^= 1),
        ("extendable flag", |s| s.extendable = !s.extendable),
        ("iteration exponent", |s| s.iteration_exponent = 3),
        ("group count", |s| s.group_count = 2),
        ("share length", |s| s.value.extend_from_slice(&[0, 0])),
        ("member threshold", |s| s.member_threshold = 3),
    ];
    for (field, edit) in cases {
        let mut shares = members.clone();
        edit(&mut shares[2]);
        let expected_first = 0;
        assert_eq!(
            slip39::recover_ems(&shares).unwrap_err(),
            Slip39Error::MismatchedParameter {
                field,
                first: expected_first,
                other: 2
            },
            "{field}"
        );
    }
}

fn random_share(r: &mut ChaCha20Rng) -> Share {
    let group_count = 1 + below(r, 16) as u8;
    let len = 2 * (8 + below(r, 57)); // 16..=128 bytes, even
    let mut value = Zeroizing::new(vec![0u8; len]);
    r.fill_bytes(&mut value);
    Share {
        identifier: (r.next_u32() & 0x7FFF) as u16,
        extendable: r.next_u32() & 1 == 1,
        iteration_exponent: below(r, 16) as u8,
        group_index: below(r, 16) as u8,
        group_threshold: 1 + below(r, usize::from(group_count)) as u8,
        group_count,
        member_index: below(r, 16) as u8,
        member_threshold: 1 + below(r, 16) as u8,
        value,
    }
}

fn same_share(a: &Share, b: &Share) -> bool {
    (
        a.identifier,
        a.extendable,
        a.iteration_exponent,
        a.group_index,
        a.group_threshold,
        a.group_count,
        a.member_index,
        a.member_threshold,
    ) == (
        b.identifier,
        b.extendable,
        b.iteration_exponent,
        b.group_index,
        b.group_threshold,
        b.group_count,
        b.member_index,
        b.member_threshold,
    ) && a.value == b.value
}

#[test]
fn words_round_trip() {
    let mut r = rng(17);
    for _ in 0..500 {
        let share = random_share(&mut r);
        let words = share.to_words();
        assert!(!words.contains("  ") && words == Zeroizing::new(words.to_lowercase()));
        let parsed = Share::from_words(&words).unwrap();
        assert!(same_share(&share, &parsed), "{share:?} vs {parsed:?}");
        let parsed = Share::from_indices(&share.to_indices()).unwrap();
        assert!(same_share(&share, &parsed));
    }
}

#[test]
fn lenient_input_forms() {
    let mut r = rng(18);
    let share = random_share(&mut r);
    let words = share.to_words();
    let shouting = words.to_uppercase();
    assert!(same_share(&Share::from_words(&shouting).unwrap(), &share));
    let numbered: String = words
        .split(' ')
        .enumerate()
        .map(|(i, w)| format!("{}. {w}\n", i + 1))
        .collect();
    assert!(same_share(&Share::from_words(&numbered).unwrap(), &share));
    let spaced = format!("  \t{}\n", words.replace(' ', "   "));
    assert!(same_share(&Share::from_words(&spaced).unwrap(), &share));
}

#[test]
fn unknown_word_is_named_with_its_position() {
    let mut r = rng(19);
    let share = random_share(&mut r);
    let mut words: Vec<String> = share.to_words().split(' ').map(str::to_owned).collect();
    words[4] = "bitcoin".into();
    assert_eq!(
        Share::from_words(&words.join(" ")).unwrap_err(),
        Slip39Error::UnknownWord {
            position: 5,
            word: "bitcoin".into()
        }
    );
    // Prefixes are not accepted as words.
    words[4] = "acad".into();
    assert!(matches!(
        Share::from_words(&words.join(" ")),
        Err(Slip39Error::UnknownWord { position: 5, .. })
    ));
    assert_eq!(Share::from_words("   ").unwrap_err(), Slip39Error::Empty);
}

#[test]
fn single_wrong_word_gets_the_right_suggestion() {
    let mut r = rng(20);
    for _ in 0..300 {
        let share = random_share(&mut r);
        let indices = share.to_indices();
        let position = below(&mut r, indices.len());
        let mut wrong = indices.to_vec();
        wrong[position] = (wrong[position] + 1 + below(&mut r, 1023) as u16) % 1024;
        let text: Vec<&str> = wrong.iter().map(|&i| slip39::word(i)).collect();
        let err = Share::from_words(&text.join(" ")).unwrap_err();
        assert_eq!(
            err,
            Slip39Error::InvalidChecksum {
                suggestion: Some((position + 1, slip39::word(indices[position])))
            },
            "position {position}"
        );
    }
}

#[test]
fn two_wrong_words_get_no_suggestion() {
    let mut r = rng(21);
    for _ in 0..100 {
        let share = random_share(&mut r);
        let indices = share.to_indices();
        let mut wrong = indices.to_vec();
        // Keep word 2 (which carries the extendable flag) intact.
        let positions = choose(&mut r, &(2..indices.len()).collect::<Vec<_>>(), 2);
        for p in positions {
            wrong[p] = (wrong[p] + 1 + below(&mut r, 1023) as u16) % 1024;
        }
        assert_eq!(
            Share::from_indices(&wrong).unwrap_err(),
            Slip39Error::InvalidChecksum { suggestion: None }
        );
    }
}

#[test]
fn length_errors() {
    let mut r = rng(22);
    let share = random_share(&mut r);
    let indices = share.to_indices();
    assert!(matches!(
        Share::from_indices(&indices[..19]),
        Err(Slip39Error::TooFewWords { have: 19, min: 20 })
    ));
    assert!(matches!(
        Share::from_indices(&[0; 21]),
        Err(Slip39Error::InvalidWordCount { have: 21 })
    ));
    assert!(matches!(
        Share::from_indices(&[0; 400]),
        Err(Slip39Error::TooManyWords { have: 400, .. })
    ));
    assert!(matches!(
        Share::from_indices(&[1024; 20]),
        Err(Slip39Error::UnknownWord { position: 1, .. })
    ));
}

#[test]
fn generate_and_combine_with_passphrase() {
    let mut r = rng(23);
    let spec = [
        GroupSpec {
            member_threshold: 2,
            member_count: 3,
        },
        GroupSpec {
            member_threshold: 3,
            member_count: 5,
        },
    ];
    for (len, extendable) in [(16, false), (32, true), (64, false)] {
        let mut secret = vec![0u8; len];
        r.fill_bytes(&mut secret);
        let groups =
            slip39::generate_shares(&mut r, &secret, b"TREZOR pass", 1, &spec, extendable, 0)
                .unwrap();
        let words: Vec<String> = groups[1][1..4]
            .iter()
            .map(|s| s.to_words().to_string())
            .collect();
        let parsed: Vec<Share> = words
            .iter()
            .map(|w| Share::from_words(w).unwrap())
            .collect();
        assert_eq!(
            slip39::combine(&parsed, b"TREZOR pass").unwrap().as_slice(),
            secret.as_slice()
        );
        assert_ne!(
            slip39::combine(&parsed, b"").unwrap().as_slice(),
            secret.as_slice()
        );
        assert_eq!(
            slip39::combine(&parsed, "é".as_bytes()).unwrap_err(),
            Slip39Error::InvalidPassphrase
        );
        assert!(
            groups
                .iter()
                .flatten()
                .all(|s| s.extendable == extendable && s.identifier < 0x8000)
        );
    }
}

#[test]
fn encryption_round_trips_and_depends_on_identifier_only_when_not_extendable() {
    let secret = [7u8; 16];
    let a = EncryptedMasterSecret::encrypt(&secret, b"pw", 1, false, 0).unwrap();
    let b = EncryptedMasterSecret::encrypt(&secret, b"pw", 2, false, 0).unwrap();
    assert_ne!(a.ciphertext, b.ciphertext);
    assert_eq!(a.decrypt(b"pw").unwrap().as_slice(), &secret);
    let c = EncryptedMasterSecret::encrypt(&secret, b"pw", 1, true, 0).unwrap();
    let d = EncryptedMasterSecret::encrypt(&secret, b"pw", 2, true, 0).unwrap();
    assert_eq!(c.ciphertext, d.ciphertext);
    assert_eq!(d.decrypt(b"pw").unwrap().as_slice(), &secret);
}

#[test]
fn invalid_split_requests() {
    let mut r = rng(24);
    let g = |t, n| GroupSpec {
        member_threshold: t,
        member_count: n,
    };
    let refuse = |r: &mut ChaCha20Rng, secret: &[u8], pass: &[u8], gt, groups: &[GroupSpec]| {
        slip39::generate_shares(r, secret, pass, gt, groups, true, 0).unwrap_err()
    };
    assert_eq!(
        refuse(&mut r, &[0; 14], b"", 1, &[g(1, 1)]),
        Slip39Error::SecretTooShort { len: 14 }
    );
    assert_eq!(
        refuse(&mut r, &[0; 17], b"", 1, &[g(1, 1)]),
        Slip39Error::OddLength { len: 17 }
    );
    assert_eq!(
        refuse(&mut r, &[0; 16], b"\n", 1, &[g(1, 1)]),
        Slip39Error::InvalidPassphrase
    );
    for (gt, groups) in [
        (2, vec![g(1, 1)]),
        (0, vec![g(1, 1)]),
        (1, vec![g(3, 2)]),
        (1, vec![g(0, 2)]),
        (1, vec![g(1, 2)]),
        (1, vec![g(2, 17)]),
        (1, vec![g(1, 1); 17]),
        (1, vec![]),
    ] {
        assert!(
            matches!(
                refuse(&mut r, &[0; 16], b"", gt, &groups),
                Slip39Error::InvalidThreshold { .. }
            ),
            "{gt} {groups:?}"
        );
    }
}

#[test]
fn secrets_never_appear_in_debug_output() {
    let mut r = rng(25);
    let mut share = random_share(&mut r);
    share.value.iter_mut().for_each(|b| *b = 0xAB);
    let debug = format!("{share:?}");
    assert!(
        debug.contains("<redacted>")
            && !debug.contains("171")
            && !debug.to_lowercase().contains("ab,")
    );
    let ems = EncryptedMasterSecret {
        identifier: 1,
        extendable: true,
        iteration_exponent: 0,
        ciphertext: Zeroizing::new(vec![0xAB; 16]),
    };
    let debug = format!("{ems:?}");
    assert!(debug.contains("<redacted>") && !debug.contains("171"));
}

#[test]
fn word_list_lookups() {
    assert_eq!(slip39::word(0), "academic");
    assert_eq!(slip39::word(1023), "zero");
    assert_eq!(slip39::word_index("ACADEMIC"), Some(0));
    assert_eq!(slip39::word_index("zero"), Some(1023));
    assert_eq!(slip39::word_index("acad"), None);
    assert_eq!(slip39::word_index(""), None);
    for i in 0..1024u16 {
        assert_eq!(slip39::word_index(slip39::word(i)), Some(i));
        assert_eq!(
            slip39::complete_prefix(&slip39::word(i)[..4]),
            vec![slip39::word(i)]
        );
    }
    assert_eq!(
        slip39::complete_prefix("ac"),
        vec![
            "academic", "acid", "acne", "acquire", "acrobat", "activity", "actress"
        ]
    );
    assert_eq!(slip39::complete_prefix("").len(), 1024);
    assert!(slip39::complete_prefix("qq").is_empty());
}
