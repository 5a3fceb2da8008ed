//! SLIP-0039 against the official test vectors and against fixtures produced by Trezor's
//! reference implementation (`scripts/gen-slip39-fixtures.py`), including byte-identical
//! share generation from a replayed random stream.

use custody::slip39::{self, GroupSpec, Share, Slip39Error};
use rand_core::{CryptoRng, RngCore};
use serde_json::Value;

const VECTORS: &str = include_str!("fixtures/slip39/vectors.json");
const REFERENCE: &str = include_str!("fixtures/slip39/reference.json");

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap().to_owned())
        .collect()
}

/// Parses every mnemonic, then combines.
fn combine_words(mnemonics: &[String], passphrase: &[u8]) -> Result<Vec<u8>, Slip39Error> {
    let shares = mnemonics
        .iter()
        .map(|m| Share::from_words(m))
        .collect::<Result<Vec<_>, _>>()?;
    slip39::combine(&shares, passphrase).map(|s| s.to_vec())
}

/// The error kind expected for each invalid official vector (by number).
fn check_official_error(number: usize, err: &Slip39Error) {
    use Slip39Error::*;
    let ok = match number {
        2 => {
            *err == InvalidChecksum {
                suggestion: Some((20, "keyboard")),
            }
        }
        21 => {
            *err == InvalidChecksum {
                suggestion: Some((33, "luck")),
            }
        }
        3 | 22 => *err == InvalidPadding,
        5 | 24 => {
            *err == InsufficientMembers {
                group_index: 0,
                have: 1,
                need: 2,
            }
        }
        6 | 25 => matches!(
            err,
            MismatchedParameter {
                field: "identifier",
                ..
            }
        ),
        7 | 26 => matches!(
            err,
            MismatchedParameter {
                field: "iteration exponent",
                ..
            }
        ),
        8 | 27 => matches!(
            err,
            MismatchedParameter {
                field: "group threshold",
                ..
            }
        ),
        9 | 28 => matches!(
            err,
            MismatchedParameter {
                field: "group count",
                first: 0,
                other: 1
            }
        ),
        10 | 29 => matches!(err, InvalidThreshold { .. }),
        11 | 30 => matches!(
            err,
            DuplicateMember {
                first: 0,
                second: 1,
                identical: false,
                ..
            }
        ),
        12 | 31 => matches!(
            err,
            MismatchedParameter {
                field: "member threshold",
                first: 0,
                other: 1
            }
        ),
        13 | 32 => {
            *err == DigestMismatch {
                group_index: Some(0),
            }
        }
        14 | 33 => *err == InsufficientGroups { have: 1, need: 2 },
        15 | 34 => *err == InsufficientGroups { have: 1, need: 2 },
        16 | 35 => matches!(
            err,
            InsufficientMembers {
                have: 1,
                need: 2,
                ..
            }
        ),
        39 => matches!(err, TooFewWords { have: 19, min: 20 }),
        40 => *err == InvalidWordCount { have: 21 },
        _ => false,
    };
    assert!(ok, "vector {number}: unexpected error {err:?}");
}

#[test]
fn official_vectors() {
    let vectors: Value = serde_json::from_str(VECTORS).unwrap();
    let vectors = vectors.as_array().unwrap();
    assert_eq!(vectors.len(), 40);
    let (mut valid, mut invalid) = (0, 0);
    for (i, v) in vectors.iter().enumerate() {
        let number = i + 1;
        let description = v[0].as_str().unwrap();
        assert!(description.starts_with(&format!("{number}. ")));
        let mnemonics = strings(&v[1]);
        let expected = v[2].as_str().unwrap();
        let result = combine_words(&mnemonics, b"TREZOR");
        if expected.is_empty() {
            let err = result.expect_err(description);
            check_official_error(number, &err);
            assert!(!err.to_string().is_empty());
            invalid += 1;
        } else {
            let secret = result.unwrap_or_else(|e| panic!("{description}: {e:?}"));
            assert_eq!(hex(&secret), expected, "{description}");
            valid += 1;
        }
    }
    assert_eq!((valid, invalid), (10, 30));
}

#[test]
fn official_vector_shares_round_trip_through_words() {
    let vectors: Value = serde_json::from_str(VECTORS).unwrap();
    let mut parsed = 0;
    for v in vectors.as_array().unwrap() {
        for m in strings(&v[1]) {
            if let Ok(share) = Share::from_words(&m) {
                assert_eq!(share.to_words().as_str(), m);
                assert_eq!(
                    Share::from_indices(&share.to_indices())
                        .unwrap()
                        .to_words()
                        .as_str(),
                    m
                );
                parsed += 1;
            }
        }
    }
    assert!(parsed > 60);
}

#[test]
fn upstream_vectors_41_to_45() {
    let fixture: Value = serde_json::from_str(REFERENCE).unwrap();
    let cases = fixture["upstream_vectors_41_45"].as_array().unwrap();
    assert_eq!(cases.len(), 5);
    for case in cases {
        let description = case[0].as_str().unwrap();
        let mnemonics = strings(&case[1]);
        let secret =
            combine_words(&mnemonics, b"TREZOR").unwrap_or_else(|e| panic!("{description}: {e:?}"));
        assert_eq!(hex(&secret), case[2].as_str().unwrap(), "{description}");
        let extendable = Share::from_words(&mnemonics[0]).unwrap().extendable;
        assert_eq!(
            extendable,
            description.contains("xtendable"),
            "{description}"
        );
    }
}

#[test]
fn reference_valid_cases_combine() {
    let fixture: Value = serde_json::from_str(REFERENCE).unwrap();
    let cases = fixture["valid"].as_array().unwrap();
    assert!(cases.len() >= 12);
    for case in cases {
        let description = case["description"].as_str().unwrap();
        let mnemonics = strings(&case["mnemonics"]);
        let passphrase = case["passphrase"].as_str().unwrap().as_bytes();
        let secret = combine_words(&mnemonics, passphrase)
            .unwrap_or_else(|e| panic!("{description}: {e:?}"));
        assert_eq!(
            hex(&secret),
            case["master_secret"].as_str().unwrap(),
            "{description}"
        );
        let share = Share::from_words(&mnemonics[0]).unwrap();
        assert_eq!(share.extendable, case["extendable"].as_bool().unwrap());
        assert_eq!(
            u64::from(share.iteration_exponent),
            case["iteration_exponent"].as_u64().unwrap()
        );
        // A different passphrase decrypts to a different secret (no error: by design).
        // Only for e = 0: PBKDF2 is slow in debug builds.
        if share.iteration_exponent == 0 {
            let other = combine_words(&mnemonics, b"not the passphrase").unwrap();
            assert_ne!(hex(&other), case["master_secret"].as_str().unwrap());
        }
    }
}

fn error_kind(err: &Slip39Error) -> &'static str {
    use Slip39Error::*;
    match err {
        Empty => "Empty",
        TooFewWords { .. } => "TooFewWords",
        TooManyWords { .. } => "TooManyWords",
        InvalidWordCount { .. } => "InvalidWordCount",
        UnknownWord { .. } => "UnknownWord",
        InvalidChecksum { .. } => "InvalidChecksum",
        InvalidPadding => "InvalidPadding",
        SecretTooShort { .. } => "SecretTooShort",
        SecretTooLong { .. } => "SecretTooLong",
        OddLength { .. } => "OddLength",
        InvalidThreshold { .. } => "InvalidThreshold",
        InvalidParameter { .. } => "InvalidParameter",
        MalformedShare { .. } => "MalformedShare",
        MismatchedParameter { .. } => "MismatchedParameter",
        DuplicateMember { .. } => "DuplicateMember",
        InsufficientGroups { .. } => "InsufficientGroups",
        InsufficientMembers { .. } => "InsufficientMembers",
        DigestMismatch { .. } => "DigestMismatch",
        InconsistentShares { .. } => "InconsistentShares",
        InvalidPassphrase => "InvalidPassphrase",
    }
}

#[test]
fn reference_invalid_cases_are_rejected() {
    let fixture: Value = serde_json::from_str(REFERENCE).unwrap();
    let cases = fixture["invalid"].as_array().unwrap();
    assert!(cases.len() >= 15);
    for case in cases {
        let description = case["description"].as_str().unwrap();
        let mnemonics = strings(&case["mnemonics"]);
        let passphrase = case["passphrase"].as_str().unwrap().as_bytes();
        let err = combine_words(&mnemonics, passphrase).expect_err(description);
        assert_eq!(
            error_kind(&err),
            case["error"].as_str().unwrap(),
            "{description}: {err:?}"
        );
        // Specific positions where the fixture construction fixes them.
        match description {
            "bad checksum (last word changed)" | "bad checksum (middle word changed)" => {
                let Slip39Error::InvalidChecksum {
                    suggestion: Some((position, word)),
                } = err
                else {
                    panic!("{description}: no suggestion in {err:?}");
                };
                let original = Share::from_words(&mnemonics[2]).unwrap(); // intact sibling
                assert_eq!(original.to_words().split(' ').count(), 20);
                assert!(
                    position == 20 || position == 8,
                    "{description}: position {position}"
                );
                assert!(slip39::word_index(word).is_some());
            }
            "duplicate member index, different value" => {
                assert!(matches!(
                    err,
                    Slip39Error::DuplicateMember {
                        first: 0,
                        second: 2,
                        identical: false,
                        ..
                    }
                ));
            }
            "mixed identifiers" | "mixed identifiers (re-encoded)" => {
                assert!(matches!(
                    err,
                    Slip39Error::MismatchedParameter {
                        field: "identifier",
                        ..
                    }
                ));
            }
            "member threshold mismatch" => {
                assert!(matches!(
                    err,
                    Slip39Error::MismatchedParameter {
                        field: "member threshold",
                        first: 0,
                        other: 2
                    }
                ));
            }
            "bad group-level digest" => {
                assert_eq!(err, Slip39Error::DigestMismatch { group_index: None })
            }
            "bad digest (one value byte flipped, checksum valid)" => {
                assert_eq!(
                    err,
                    Slip39Error::DigestMismatch {
                        group_index: Some(0)
                    }
                );
            }
            "unknown word" => {
                assert_eq!(
                    err,
                    Slip39Error::UnknownWord {
                        position: 6,
                        word: "bitcoin".into()
                    }
                );
            }
            _ => {}
        }
    }
}

/// An RNG that replays a fixed byte stream (the bytes the reference consumed).
struct Replay {
    bytes: Vec<u8>,
    at: usize,
}

impl RngCore for Replay {
    fn next_u32(&mut self) -> u32 {
        let mut b = [0u8; 4];
        self.fill_bytes(&mut b);
        u32::from_le_bytes(b)
    }
    fn next_u64(&mut self) -> u64 {
        let mut b = [0u8; 8];
        self.fill_bytes(&mut b);
        u64::from_le_bytes(b)
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        let end = self.at + dest.len();
        assert!(
            end <= self.bytes.len(),
            "consumed more randomness than the reference"
        );
        dest.copy_from_slice(&self.bytes[self.at..end]);
        self.at = end;
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

impl CryptoRng for Replay {}

/// The reference consumes randomness in the same order we do (identifier, then per level the
/// `t - 2` random shares followed by the digest's random part, groups before members, groups
/// in order), so the same stream must give byte-identical mnemonics.
#[test]
fn generation_is_byte_identical_to_reference_with_same_randomness() {
    let fixture: Value = serde_json::from_str(REFERENCE).unwrap();
    let cases = fixture["deterministic"].as_array().unwrap();
    assert!(cases.len() >= 3);
    for case in cases {
        let mut rng = Replay {
            bytes: unhex(case["random_bytes"].as_str().unwrap()),
            at: 0,
        };
        let secret = unhex(case["master_secret"].as_str().unwrap());
        let groups: Vec<GroupSpec> = case["groups"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| GroupSpec {
                member_threshold: g[0].as_u64().unwrap() as u8,
                member_count: g[1].as_u64().unwrap() as u8,
            })
            .collect();
        let shares = slip39::generate_shares(
            &mut rng,
            &secret,
            case["passphrase"].as_str().unwrap().as_bytes(),
            case["group_threshold"].as_u64().unwrap() as u8,
            &groups,
            case["extendable"].as_bool().unwrap(),
            case["iteration_exponent"].as_u64().unwrap() as u8,
        )
        .unwrap();
        assert_eq!(
            rng.at,
            rng.bytes.len(),
            "consumed less randomness than the reference"
        );
        let expected = case["mnemonics"].as_array().unwrap();
        assert_eq!(shares.len(), expected.len());
        for (ours, theirs) in shares.iter().zip(expected) {
            let theirs = strings(theirs);
            let ours: Vec<String> = ours.iter().map(|s| s.to_words().to_string()).collect();
            assert_eq!(ours, theirs);
        }
    }
}
