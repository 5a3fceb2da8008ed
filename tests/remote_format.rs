//! The remote ceremony's formats (shares-format.md, "Remote ceremony"): the known-answer vectors
//! the spec prints (code text unsigned and signed, phrases, envelope plaintext), the envelope
//! sizes, and the hostile cases: a swapped code, replay into a later session, another vault's,
//! epoch's or purpose's envelope, expiry, an edited, truncated or oversized envelope, and a
//! second copy of one.

use custody::input::Source;
use custody::keys::MasterSecret;
use custody::remote::{
    CeremonyCode, CodeError, EnvelopeContents, EnvelopeError, HostSession, seal_envelope,
};
use custody::slip39::{self, GroupSpec};
use custody::token::{Token, TokenInfo};
use custody::wire;
use ed25519_dalek::SigningKey;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

const VAULT: [u8; 16] = [0x11; 16];
const EPOCH: u32 = 2;
const NOW: u64 = 1_767_225_600; // 2026-01-01T00:00:00Z
const LIFETIME: u64 = wire::REMOTE_DEFAULT_LIFETIME_SECS;

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// A share token of a 256-bit secret, signed by the vault key of master secret 0x42..
fn token_with(vault: [u8; 16], epoch: u32, custodian: &str, group: &str) -> Token {
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
        vault_id: vault,
        epoch,
        created: NOW - 86_400,
        custodian: custodian.into(),
        group: group.into(),
    };
    Token::sign(info, groups[0][1].clone(), keys.signing_key()).unwrap()
}

fn token() -> Token {
    token_with(VAULT, EPOCH, "bob", "Ops")
}

/// The vector session: ChaCha20 seeded with 16 gives the session id, then the X25519 secret.
fn session(signed: bool) -> HostSession {
    let mut rng = ChaCha20Rng::seed_from_u64(16);
    let key = SigningKey::from_bytes(&[0x22; 32]);
    HostSession::open(
        &mut rng,
        VAULT,
        EPOCH,
        "drill",
        NOW,
        LIFETIME,
        signed.then_some(&key),
    )
    .unwrap()
}

fn seal(s: &HostSession, t: &Token, seed: u64) -> String {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    seal_envelope(&mut rng, s.code(), t, NOW)
        .unwrap()
        .to_string()
}

/// Seal arbitrary plaintext to the session's key, as a forger who holds the code could.
fn seal_raw(s: &HostSession, plaintext: &[u8]) -> String {
    age::encrypt_and_armor(&s.code().recipient(), plaintext).unwrap()
}

const CODE_BYTES: &str = "434345520100cf6ec445d8a0a6886ab26c94db6eb258d9a350884abda83d7321f30d692e90a1965b2d1fd69d796dcd80badf6072c83b1111111111111111111111111111111100000002056472696c6c000000006955c008";
const CODE_TEXT: &str = "custody-ceremony:Q0NFUgEAz27ERdigpohqsmyU226yWNmjUIhKvag9cyHzDWkukKGWWy0f1p15bc2Aut9gcsg7EREREREREREREREREREREQAAAAIFZHJpbGwAAAAAaVXACA";
const PHRASE: &str = "dance database exclude failure tolerate lily drove voter";
const PHRASE_INDICES: [u16; 8] = [187, 189, 310, 325, 924, 529, 245, 990];
const PHRASE_HASH: &str = "729db569583956f0c0378d80fbfcf954c9d9392f87c87c2dc7ab375d1ba0a313";
const SIGNED_CODE_TEXT: &str = "custody-ceremony:Q0NFUgEBz27ERdigpohqsmyU226yWNmjUIhKvag9cyHzDWkukKGWWy0f1p15bc2Aut9gcsg7EREREREREREREREREREREQAAAAIFZHJpbGwAAAAAaVXACKCapfR6Z1mAL_lV-NwtKhSlyZ0jvpf4ZBJ_-Tg0VaTwji7TKqT-adKcB-9Hgdj98KOLhi4G0WpTCJxGwfehgnTn4G9caDo5iMcm-Hjqsja50tfd7p98SHUTDBD9ZzqeBA";
const SIGNED_PHRASE: &str = "bumpy mason luxury regret single hesitate fragment program";
const TOKEN_HEX: &str = "43555354011111111111111111111111111111111100000002000000006954678003626f62034f707321328b00001104ea4b701dceb8d52c09a562680bc159840fd9f8b018b348a01fb1e16820b4a6cf2f2e5540d82e7e7a73c0e0f27cda9bab18e06e49d2718bf5f5d4ff044b76f19091ab70e4bfe4dd84036ee0bcdff2ddd0c9af943066ebb57fcb2c0c467526beda0e523bc06ed8d28fe37fc7de501d485f47b3a6284b8a04cb5fb17343711854895bfc7102";

#[test]
fn code_vectors() {
    let s = session(false);
    let c = s.code();
    assert_eq!(hex(c.session_id()), "cf6ec445d8a0a6886ab26c94db6eb258");
    assert_eq!(
        hex(c.host_key()),
        "d9a350884abda83d7321f30d692e90a1965b2d1fd69d796dcd80badf6072c83b"
    );
    assert_eq!(hex(&c.to_bytes()), CODE_BYTES);
    assert_eq!(c.to_text(), CODE_TEXT);
    assert_eq!(c.expires(), NOW + 1800);
    assert_eq!(c.phrase().to_string(), PHRASE);
    assert_eq!(c.phrase().indices(), PHRASE_INDICES);
    assert_eq!(c.phrase().hash_hex(), PHRASE_HASH);
    assert_eq!(CeremonyCode::from_text(CODE_TEXT).unwrap(), *c);
    let signed = session(true);
    assert_eq!(signed.code().to_text(), SIGNED_CODE_TEXT);
    assert_eq!(signed.code().phrase().to_string(), SIGNED_PHRASE);
    let back = CeremonyCode::from_text(SIGNED_CODE_TEXT).unwrap();
    assert_eq!(
        back.signer(),
        Some(SigningKey::from_bytes(&[0x22; 32]).verifying_key())
    );
    // Lengths the spec states: 88 bytes / 135 characters unsigned, 184 / 263 signed.
    assert_eq!(c.to_bytes().len(), 88);
    assert_eq!(CODE_TEXT.len(), 135);
    assert_eq!(back.to_bytes().len(), 184);
    assert_eq!(SIGNED_CODE_TEXT.len(), 263);
    assert!(wire::MAX_CODE_TEXT_LEN >= "custody-ceremony:".len() + (211usize * 4).div_ceil(3));
}

#[test]
fn envelope_plaintext_vector() {
    let t = token();
    assert_eq!(hex(&t.to_bytes()), TOKEN_HEX);
    let s = session(false);
    let p = EnvelopeContents::new([0x33; 16], s.code(), &t).to_bytes();
    let want = format!(
        "434e4556 01 {} {} {} {} 00000002 05 6472696c6c 000000006955c008 00b4 {}",
        "33".repeat(16),
        "cf6ec445d8a0a6886ab26c94db6eb258",
        "d9a350884abda83d7321f30d692e90a1965b2d1fd69d796dcd80badf6072c83b",
        "11".repeat(16),
        TOKEN_HEX
    )
    .replace(' ', "");
    // "CENV" is 43 45 4e 56
    let want = want.replacen("434e4556", "43454e56", 1);
    assert_eq!(hex(&p), want);
    assert_eq!(p.len(), 285);
    let back = EnvelopeContents::from_bytes(&p).unwrap();
    assert_eq!(back.envelope_id, [0x33; 16]);
    assert_eq!(back.purpose, "drill");
    assert_eq!(hex(&back.token), TOKEN_HEX);
}

#[test]
fn accepted_envelope_is_the_share() {
    let mut s = session(false);
    let t = token();
    let text = seal(&s, &t, 1);
    assert!(text.starts_with("-----BEGIN AGE ENCRYPTED FILE-----"));
    let p = s.accept("bob.envelope", &text, NOW + 60).unwrap();
    assert_eq!(p.source, Source::Envelope);
    assert_eq!(p.source.as_str(), "envelope");
    assert_eq!(p.label, "bob.envelope");
    assert_eq!(p.token.as_ref().unwrap().info.custodian, "bob");
    assert_eq!(p.share.to_words(), t.share.to_words());
    let c = s.contributions();
    assert_eq!(c.len(), 1);
    assert_eq!(c[0].label, "bob.envelope");
    assert_eq!(c[0].envelope_id_hex.len(), 32);
    assert_eq!(c[0].received_at, NOW + 60);
    // A second, different envelope of the same share is a new contribution (the quorum's own
    // duplicate check handles the share itself).
    let again = seal(&s, &t, 2);
    assert!(s.accept("bob again", &again, NOW + 61).is_ok());
    assert_eq!(s.contributions().len(), 2);
    s.close();
}

#[test]
fn second_copy_is_refused_naming_the_first() {
    let mut s = session(false);
    let text = seal(&s, &token(), 1);
    s.accept("bob.envelope", &text, NOW).unwrap();
    match s.accept("pasted envelope 3", &text, NOW) {
        Err(EnvelopeError::AlreadyUsed { first }) => assert_eq!(first, "bob.envelope"),
        other => panic!("{other:?}"),
    }
    let msg = s.accept("x", &text, NOW).unwrap_err().to_string();
    assert!(
        msg.contains("bob.envelope") && msg.contains("once"),
        "{msg}"
    );
    assert_eq!(s.contributions().len(), 1);
}

#[test]
fn swapped_code_gives_another_phrase_and_cannot_be_opened() {
    let mut real = session(false);
    let mut rng = ChaCha20Rng::seed_from_u64(99);
    let attacker = HostSession::open(&mut rng, VAULT, EPOCH, "drill", NOW, LIFETIME, None).unwrap();
    assert_ne!(attacker.phrase(), real.phrase());
    assert!(!real.phrase().matches(&attacker.phrase().to_string()));
    let text = seal(&attacker, &token(), 1);
    let e = real.accept("bob", &text, NOW).unwrap_err();
    assert!(matches!(e, EnvelopeError::NotForThisCeremony), "{e:?}");
    assert!(e.to_string().contains("swapped in transit"));
}

#[test]
fn replay_into_a_later_session_is_refused() {
    let first = session(false);
    let text = seal(&first, &token(), 1);
    first.close();
    let mut rng = ChaCha20Rng::seed_from_u64(17);
    let mut later =
        HostSession::open(&mut rng, VAULT, EPOCH, "drill", NOW + 3600, LIFETIME, None).unwrap();
    assert!(matches!(
        later.accept("old", &text, NOW + 3600),
        Err(EnvelopeError::NotForThisCeremony)
    ));
}

#[test]
fn expired_is_refused_by_host_and_custodian() {
    let mut s = session(false);
    let text = seal(&s, &token(), 1);
    let late = NOW + LIFETIME + 1;
    match s.accept("bob", &text, late) {
        Err(EnvelopeError::Expired { expires, now }) => {
            assert_eq!((expires, now), (NOW + LIFETIME, late))
        }
        other => panic!("{other:?}"),
    }
    assert!(s.accept("bob", &text, NOW + LIFETIME).is_ok());
    let mut rng = ChaCha20Rng::seed_from_u64(3);
    assert!(matches!(
        seal_envelope(&mut rng, s.code(), &token(), late),
        Err(EnvelopeError::CodeExpired { .. })
    ));
    assert!(matches!(
        s.code().check_fresh(late),
        Err(CodeError::Expired { .. })
    ));
}

#[test]
fn custodian_refuses_another_vault_or_epoch() {
    let s = session(false);
    let mut rng = ChaCha20Rng::seed_from_u64(3);
    let other_vault = token_with([0x12; 16], EPOCH, "bob", "Ops");
    let e = seal_envelope(&mut rng, s.code(), &other_vault, NOW).unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains(&"12".repeat(16)) && msg.contains(&"11".repeat(16)),
        "{msg}"
    );
    let old_epoch = token_with(VAULT, 1, "bob", "Ops");
    let msg = seal_envelope(&mut rng, s.code(), &old_epoch, NOW)
        .unwrap_err()
        .to_string();
    assert!(msg.contains("epoch 1") && msg.contains("epoch 2"), "{msg}");
}

/// The forged-plaintext cases: a forger holding the code seals whatever they like to it.
#[test]
fn host_checks_every_field_in_order() {
    let t = token();
    let base = |s: &HostSession| EnvelopeContents::new([0x44; 16], s.code(), &t);
    let mut s = session(false);

    let mut c = base(&s);
    c.session_id = [0; 16];
    assert!(matches!(
        s.accept("x", &seal_raw(&s, &c.to_bytes()), NOW),
        Err(EnvelopeError::WrongSession { .. })
    ));
    let mut c = base(&s);
    c.host_key = [9; 32];
    assert!(matches!(
        s.accept("x", &seal_raw(&s, &c.to_bytes()), NOW),
        Err(EnvelopeError::WrongHostKey { .. })
    ));
    let mut c = base(&s);
    c.expires = NOW - 1;
    assert!(matches!(
        s.accept("x", &seal_raw(&s, &c.to_bytes()), NOW),
        Err(EnvelopeError::Expired { .. })
    ));
    let mut c = base(&s);
    c.vault_id = [0x12; 16];
    let e = s
        .accept("x", &seal_raw(&s, &c.to_bytes()), NOW)
        .unwrap_err();
    assert!(matches!(e, EnvelopeError::WrongVault { .. }), "{e:?}");
    assert!(e.to_string().contains(&"12".repeat(16)));
    let mut c = base(&s);
    c.epoch = 3;
    assert!(matches!(
        s.accept("x", &seal_raw(&s, &c.to_bytes()), NOW),
        Err(EnvelopeError::WrongEpoch {
            envelope: 3,
            session: 2
        })
    ));
    let mut c = base(&s);
    c.purpose = "exec".into();
    assert!(matches!(
        s.accept("x", &seal_raw(&s, &c.to_bytes()), NOW),
        Err(EnvelopeError::WrongPurpose { .. })
    ));
    // Another vault's token inside an envelope that names this vault.
    let c = EnvelopeContents::new([0x45; 16], s.code(), &token_with([0x12; 16], 2, "b", "g"));
    assert!(matches!(
        s.accept("x", &seal_raw(&s, &c.to_bytes()), NOW),
        Err(EnvelopeError::WrongVault { .. })
    ));
    // A token whose signature fails.
    let mut c = base(&s);
    let last = c.token.len() - 1;
    c.token[last] ^= 1;
    assert!(matches!(
        s.accept("x", &seal_raw(&s, &c.to_bytes()), NOW),
        Err(EnvelopeError::Token(_))
    ));
    // Not the layout at all.
    assert!(matches!(
        s.accept("x", &seal_raw(&s, b"CUST\x01 not an envelope"), NOW),
        Err(EnvelopeError::Layout { .. })
    ));
    assert!(matches!(
        s.accept("x", &seal_raw(&s, &[0u8; 2000]), NOW),
        Err(EnvelopeError::Layout { .. })
    ));
    // An expired envelope is refused before it counts as used: nothing was accepted.
    assert!(s.contributions().is_empty());
    // The untouched forgery-free envelope still goes through.
    assert!(
        s.accept("ok", &seal_raw(&s, &base(&s).to_bytes()), NOW)
            .is_ok()
    );
}

#[test]
fn edited_truncated_or_oversized_envelopes_are_refused() {
    let mut s = session(false);
    let text = seal(&s, &token(), 1);
    let lines: Vec<&str> = text.lines().collect();
    // Flip one base64 character in the last body line (the payload and its tag).
    let body_last = lines.len() - 2;
    let mut edited: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    let mut chars: Vec<char> = edited[body_last].chars().collect();
    chars[2] = if chars[2] == 'A' { 'B' } else { 'A' };
    edited[body_last] = chars.into_iter().collect();
    let e = s.accept("x", &(edited.join("\n") + "\n"), NOW).unwrap_err();
    assert!(matches!(e, EnvelopeError::Damaged), "{e:?}");
    assert!(e.to_string().contains("edited or damaged"));
    // Any single character changed anywhere in the body is refused, never accepted.
    for line in 1..lines.len() - 1 {
        for pos in (0..lines[line].len()).step_by(7) {
            let mut e: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
            let mut c: Vec<char> = e[line].chars().collect();
            c[pos] = if c[pos] == 'x' { 'y' } else { 'x' };
            e[line] = c.into_iter().collect();
            let r = s.accept("x", &(e.join("\n") + "\n"), NOW);
            assert!(
                matches!(
                    r,
                    Err(EnvelopeError::Damaged | EnvelopeError::NotForThisCeremony)
                ),
                "line {line} pos {pos}: {r:?}"
            );
        }
    }
    // Cut short at every line.
    for keep in 1..lines.len() {
        let cut = lines[..keep].join("\n");
        assert!(s.accept("x", &cut, NOW).is_err(), "kept {keep} lines");
    }
    let long = format!("{text}{}", " ".repeat(wire::MAX_ENVELOPE_TEXT_LEN));
    assert!(matches!(
        s.accept("x", &long, NOW),
        Err(EnvelopeError::TooLong { .. })
    ));
    assert!(matches!(
        s.accept("x", CODE_TEXT, NOW),
        Err(EnvelopeError::NotAnEnvelope)
    ));
    assert!(s.contributions().is_empty());
    assert!(s.accept("x", &text, NOW).is_ok());
}

#[test]
fn truncated_and_oversized_codes_are_refused() {
    for n in 0..CODE_TEXT.len() {
        assert!(CeremonyCode::from_text(&CODE_TEXT[..n]).is_err(), "{n}");
    }
    let long = format!("{SIGNED_CODE_TEXT}{}", "A".repeat(64));
    assert!(matches!(
        CeremonyCode::from_text(&long),
        Err(CodeError::TooLong { .. })
    ));
}

/// The sizes reported for issue 16: the envelope of a 256-bit secret's token with 64-byte
/// names and the longest purpose name in use, and the QR version it needs at the sheet's level.
#[test]
fn envelope_size_fits_one_qr_code() {
    let long = "x".repeat(wire::MAX_NAME_LEN);
    let t = token_with(VAULT, EPOCH, &long, &long);
    let mut rng = ChaCha20Rng::seed_from_u64(5);
    let key = SigningKey::from_bytes(&[0x22; 32]);
    let s = HostSession::open(
        &mut rng,
        VAULT,
        EPOCH,
        "replace-custodian",
        NOW,
        LIFETIME,
        Some(&key),
    )
    .unwrap();
    let version_of = |t: &str| (custody::sheet::QrMatrix::encode(t).width() - 17) / 4;
    // age adds a random "grease" stanza to every header, so the size varies from envelope to
    // envelope: measure many.
    let texts: Vec<String> = (0..16).map(|i| seal(&s, &t, i)).collect();
    let sizes: Vec<usize> = texts.iter().map(String::len).collect();
    let (min, max) = (*sizes.iter().min().unwrap(), *sizes.iter().max().unwrap());
    let versions: Vec<usize> = texts.iter().map(|t| version_of(t)).collect();
    println!(
        "token {} bytes; envelope {min}..={max} chars, QR version {}..={} at {:?}; code {} chars",
        t.to_bytes().len(),
        versions.iter().min().unwrap(),
        versions.iter().max().unwrap(),
        custody::sheet::QR_EC_LEVEL,
        s.code().to_text().len()
    );
    // One QR code (version 40 is the largest), and far below the host's cap.
    assert!(max <= 1400, "{max}");
    assert!(versions.iter().all(|&v| v <= 36), "{versions:?}");
    assert_eq!(version_of(&s.code().to_text()), 15);
    // The spec's vectors: version 9 unsigned, 15 signed.
    assert_eq!(version_of(CODE_TEXT), 9);
    assert_eq!(version_of(SIGNED_CODE_TEXT), 15);
}
