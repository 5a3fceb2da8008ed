//! The share token's byte layout and text form: round trips, the exact layout, and every
//! rejection (prefix, base64, magic, unknown version, truncation at every length, trailing
//! bytes, any flipped bit).

use custody::keys::MasterSecret;
use custody::slip39::{self, GroupSpec};
use custody::token::{Token, TokenError, TokenInfo};
use custody::wire;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

fn sample() -> Token {
    let mut rng = ChaCha20Rng::seed_from_u64(7);
    let master = MasterSecret::from_bytes(&[0x42; 32]).unwrap();
    let keys = master.derive().unwrap();
    let groups = slip39::generate_shares(
        &mut rng,
        master.expose(),
        b"",
        1,
        &[GroupSpec {
            member_threshold: 2,
            member_count: 3,
        }],
        true,
        0,
    )
    .unwrap();
    let info = TokenInfo {
        vault_id: [9; 16],
        epoch: 3,
        created: 1_764_352_800,
        custodian: "Zoë Ops".into(),
        group: "Board".into(),
    };
    Token::sign(info, groups[0][1].clone(), keys.signing_key()).unwrap()
}

#[test]
fn round_trip_bytes_and_text() {
    let t = sample();
    let bytes = t.to_bytes();
    let back = Token::from_bytes(&bytes).unwrap();
    assert_eq!(back.info, t.info);
    assert_eq!(back.share.to_words(), t.share.to_words());
    assert_eq!(back.public_key, t.public_key);
    let text = t.to_text();
    assert!(text.starts_with("custody-share:"));
    assert!(
        text[14..]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    );
    let again = Token::from_text(&format!("  {}\n", text.as_str())).unwrap();
    assert_eq!(again.to_bytes(), bytes);
}

#[test]
fn layout_is_as_specified() {
    let t = sample();
    let b = t.to_bytes();
    assert_eq!(&b[0..4], b"CUST");
    assert_eq!(b[4], 1);
    assert_eq!(&b[5..21], &[9u8; 16]);
    assert_eq!(&b[21..25], &3u32.to_be_bytes());
    assert_eq!(&b[25..33], &1_764_352_800u64.to_be_bytes());
    let name = "Zoë Ops".as_bytes();
    assert_eq!(usize::from(b[33]), name.len());
    assert_eq!(&b[34..34 + name.len()], name);
    let g = 34 + name.len();
    assert_eq!(&b[g..g + 6], b"\x05Board");
    let wc = g + 6;
    assert_eq!(b[wc], 33);
    let packed = (33 * 10usize).div_ceil(8);
    let pk = wc + 1 + packed;
    assert_eq!(&b[pk..pk + 32], t.public_key.as_bytes());
    assert_eq!(b.len(), pk + 32 + 64);
    // First word index = the top 10 bits of the packed words.
    let first = (u16::from(b[wc + 1]) << 2) | u16::from(b[wc + 2] >> 6);
    assert_eq!(first, t.share.to_indices()[0]);
    assert!(b.len() <= wire::MAX_TOKEN_LEN);
}

#[test]
fn rejects_wrong_prefix_and_base64() {
    let text = sample().to_text();
    let body = &text[14..];
    assert!(matches!(
        Token::from_text(body),
        Err(TokenError::MissingPrefix)
    ));
    assert!(matches!(
        Token::from_text(&format!("custody-share:{}!", body)),
        Err(TokenError::Base64)
    ));
}

#[test]
fn unknown_version_has_its_own_error() {
    let mut b = sample().to_bytes().to_vec();
    b[4] = 2;
    assert!(matches!(
        Token::from_bytes(&b),
        Err(TokenError::UnsupportedVersion(2))
    ));
    let msg = Token::from_bytes(&b).unwrap_err().to_string();
    assert!(msg.contains("version 2"), "{msg}");
    b[0] = b'X';
    assert!(matches!(Token::from_bytes(&b), Err(TokenError::BadMagic)));
}

#[test]
fn every_truncation_is_rejected() {
    let b = sample().to_bytes();
    for len in 0..b.len() {
        match Token::from_bytes(&b[..len]) {
            Err(TokenError::Truncated { .. }) => {}
            other => panic!("length {len}: expected Truncated, got {other:?}"),
        }
    }
}

#[test]
fn trailing_bytes_are_rejected() {
    let mut b = sample().to_bytes().to_vec();
    b.push(0);
    assert!(matches!(
        Token::from_bytes(&b),
        Err(TokenError::TrailingBytes(1))
    ));
}

#[test]
fn every_bit_flip_is_rejected() {
    let b = sample().to_bytes();
    for i in 0..b.len() {
        for bit in 0..8 {
            let mut m = b.to_vec();
            m[i] ^= 1 << bit;
            assert!(
                Token::from_bytes(&m).is_err(),
                "flipping bit {bit} of byte {i} was accepted"
            );
        }
    }
}

#[test]
fn a_token_signed_by_another_key_verifies_only_under_that_key() {
    let t = sample();
    let other = MasterSecret::from_bytes(&[0x43; 32])
        .unwrap()
        .derive()
        .unwrap();
    let forged = Token::sign(t.info.clone(), t.share.clone(), other.signing_key()).unwrap();
    let parsed = Token::from_bytes(&forged.to_bytes()).unwrap();
    assert_ne!(parsed.public_key, t.public_key);
}

#[test]
fn names_are_bounded() {
    let t = sample();
    let mut info = t.info.clone();
    info.custodian = "x".repeat(65);
    let keys = MasterSecret::from_bytes(&[0x42; 32])
        .unwrap()
        .derive()
        .unwrap();
    assert!(matches!(
        Token::sign(info.clone(), t.share.clone(), keys.signing_key()),
        Err(TokenError::BadName { .. })
    ));
    info.custodian = "tab\there".into();
    assert!(Token::sign(info, t.share.clone(), keys.signing_key()).is_err());
}

#[test]
fn overlong_text_is_refused_before_decoding() {
    let text = format!("custody-share:{}", "A".repeat(2000));
    assert!(matches!(
        Token::from_text(&text),
        Err(TokenError::TooLong { chars: 2000 })
    ));
}
