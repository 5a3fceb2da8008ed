//! Key derivation as shares-format.md specifies it: HKDF-SHA256 with the documented salt and
//! labels, checked against an independent HKDF (Python's standard library), the standard `age`
//! tool, and the committed test vectors (tests/fixtures/format-vectors.txt, which
//! shares-format.md reproduces).

use std::process::Command;

use custody::keys::{MasterSecret, age_identity_string, fingerprint, hex};
use custody::slip39::{self, GroupSpec};
use custody::token::{Token, TokenInfo};
use custody::wire;
use hkdf::Hkdf;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use sha2::Sha256;

fn in_ci() -> bool {
    std::env::var_os("CI").is_some()
}

fn hkdf32(ikm: &[u8], info: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    Hkdf::<Sha256>::new(Some(wire::HKDF_SALT), ikm)
        .expand(info, &mut out)
        .unwrap();
    out
}

const SECRET: [u8; 32] = {
    let mut s = [0u8; 32];
    let mut i = 0;
    while i < 32 {
        s[i] = i as u8;
        i += 1;
    }
    s
};

#[test]
fn derivation_follows_the_spec() {
    for len in [16usize, 20, 32, 64, 128] {
        let secret: Vec<u8> = (0..len as u8).collect();
        let keys = MasterSecret::from_bytes(&secret).unwrap().derive().unwrap();
        assert_eq!(
            keys.signing_key().to_bytes(),
            hkdf32(&secret, wire::HKDF_INFO_ED25519)
        );
        let age = age_identity_string(&hkdf32(&secret, wire::HKDF_INFO_AGE)).unwrap();
        use secrecy::ExposeSecret;
        assert_eq!(
            keys.age_identity().to_string().expose_secret(),
            age.as_str()
        );
    }
}

#[test]
fn secret_lengths_outside_slip39_are_refused() {
    for len in [0usize, 15, 17, 31, 65, 130] {
        assert!(MasterSecret::from_bytes(&vec![1; len]).is_err(), "{len}");
    }
}

#[test]
fn hkdf_matches_python_stdlib() {
    let script = r#"
import hmac, hashlib, sys
salt, ikm, info = (bytes.fromhex(a) for a in sys.argv[1:4])
prk = hmac.new(salt, ikm, hashlib.sha256).digest()
print(hmac.new(prk, info + b"\x01", hashlib.sha256).hexdigest())
"#;
    for info in [wire::HKDF_INFO_ED25519, wire::HKDF_INFO_AGE] {
        let out = Command::new("python3")
            .args([
                "-c",
                script,
                &hex(wire::HKDF_SALT),
                &hex(&SECRET),
                &hex(info),
            ])
            .output();
        let Ok(out) = out else {
            assert!(!in_ci(), "python3 is needed in CI");
            eprintln!("python3 not found; skipping");
            return;
        };
        assert!(out.status.success());
        assert_eq!(
            String::from_utf8(out.stdout).unwrap().trim(),
            hex(&hkdf32(&SECRET, info))
        );
    }
}

#[test]
fn age_identity_is_accepted_by_age_keygen() {
    let keys = MasterSecret::from_bytes(&SECRET).unwrap().derive().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let id = dir.path().join("id.txt");
    let ident = age_identity_string(&hkdf32(&SECRET, wire::HKDF_INFO_AGE)).unwrap();
    std::fs::write(&id, format!("{}\n", ident.as_str())).unwrap();
    match Command::new("age-keygen").arg("-y").arg(&id).output() {
        Ok(out) => {
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            assert_eq!(
                String::from_utf8(out.stdout).unwrap().trim(),
                keys.age_recipient().to_string()
            );
        }
        Err(_) => {
            assert!(!in_ci(), "age-keygen (Debian package age) is needed in CI");
            eprintln!("age-keygen not found; skipping");
        }
    }
}

/// The vectors printed in shares-format.md: master secret -> keys -> shares -> tokens.
fn format_vectors() -> String {
    let mut out = String::new();
    let mut line = |k: &str, v: String| out.push_str(&format!("{k}: {v}\n"));
    let master = MasterSecret::from_bytes(&SECRET).unwrap();
    let keys = master.derive().unwrap();
    line("master_secret", hex(&SECRET));
    line(
        "hkdf_salt",
        format!("{:?}", std::str::from_utf8(wire::HKDF_SALT).unwrap()),
    );
    line(
        "ed25519_seed",
        hex(&hkdf32(&SECRET, wire::HKDF_INFO_ED25519)),
    );
    line("ed25519_public_key", hex(keys.verifying_key().as_bytes()));
    line("fingerprint", fingerprint(&keys.verifying_key()));
    line("x25519_secret", hex(&hkdf32(&SECRET, wire::HKDF_INFO_AGE)));
    line(
        "age_identity",
        age_identity_string(&hkdf32(&SECRET, wire::HKDF_INFO_AGE))
            .unwrap()
            .to_string(),
    );
    line("age_recipient", keys.age_recipient().to_string());
    // 2-of-3, one group, extendable, iteration exponent 0, no passphrase; randomness from
    // ChaCha20 seeded with 32 zero bytes.
    let mut rng = ChaCha20Rng::from_seed([0; 32]);
    let groups = slip39::generate_shares(
        &mut rng,
        &SECRET,
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
    for (i, (share, name)) in groups[0].iter().zip(["alice", "bob", "carol"]).enumerate() {
        line(
            &format!("share_{}_words", i + 1),
            share.to_words().to_string(),
        );
        let token = Token::sign(
            TokenInfo {
                vault_id: [0x11; 16],
                epoch: 1,
                created: 1_764_352_800,
                custodian: name.into(),
                group: "custodians".into(),
            },
            share.clone(),
            keys.signing_key(),
        )
        .unwrap();
        line(
            &format!("share_{}_token_hex", i + 1),
            hex(&token.to_bytes()),
        );
        line(
            &format!("share_{}_token", i + 1),
            token.to_text().to_string(),
        );
    }
    let back = slip39::combine(&[groups[0][2].clone(), groups[0][0].clone()], b"").unwrap();
    assert_eq!(back.as_slice(), &SECRET);
    // Board 1-of-2 (frank, gina) AND Ops 2-of-3 (olga, oscar, otto): Board's one SLIP-39
    // share, issued as a copy to each holder in a token naming them; randomness from ChaCha20
    // seeded with 32 bytes of 01.
    let policy = custody::policy::Policy::grouped(
        &["Board:1".into(), "Ops:2".into()],
        &[
            "Board/frank".into(),
            "Board/gina".into(),
            "Ops/olga".into(),
            "Ops/oscar".into(),
            "Ops/otto".into(),
        ],
        Some(2),
    )
    .unwrap();
    let mut rng = ChaCha20Rng::from_seed([1; 32]);
    let groups =
        slip39::generate_shares(&mut rng, &SECRET, b"", 2, &policy.group_specs(), true, 0).unwrap();
    let issued = custody::ops::issue::policy_shares(&policy, groups);
    let mut line = |k: &str, v: String| out.push_str(&format!("{k}: {v}\n"));
    line("copies_board_mnemonic", issued[0].2.to_words().to_string());
    for (i, (_, _, share)) in issued[2..].iter().enumerate() {
        line(
            &format!("copies_ops_{}_mnemonic", i + 1),
            share.to_words().to_string(),
        );
    }
    for (group, custodian, share) in &issued[..2] {
        let token = Token::sign(
            TokenInfo {
                vault_id: [0x22; 16],
                epoch: 1,
                created: 1_764_352_800,
                custodian: custodian.clone(),
                group: group.clone(),
            },
            share.clone(),
            keys.signing_key(),
        )
        .unwrap();
        line(
            &format!("copies_{custodian}_token"),
            token.to_text().to_string(),
        );
    }
    let back = slip39::combine(
        &[
            issued[1].2.clone(),
            issued[2].2.clone(),
            issued[4].2.clone(),
        ],
        b"",
    )
    .unwrap();
    assert_eq!(back.as_slice(), &SECRET);
    out
}

#[test]
fn format_vectors_match_the_committed_file() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/format-vectors.txt"
    );
    let got = format_vectors();
    if std::env::var_os("UPDATE_VECTORS").is_some() {
        std::fs::write(path, &got).unwrap();
    }
    let want = std::fs::read_to_string(path).expect("run with UPDATE_VECTORS=1 once");
    assert_eq!(
        got, want,
        "key derivation or token layout changed: update shares-format.md"
    );
}

#[test]
fn reference_implementation_recovers_the_vector_secret() {
    let text = format_vectors();
    let words: Vec<&str> = text
        .lines()
        .filter_map(|l| l.split_once("_words: "))
        .map(|(_, w)| w)
        .collect();
    assert_eq!(words.len(), 3);
    let script = r#"
import sys
from shamir_mnemonic import combine_mnemonics
print(combine_mnemonics([sys.argv[1], sys.argv[2]]).hex())
"#;
    match Command::new("python3")
        .args(["-c", script, words[0], words[2]])
        .output()
    {
        Ok(out) if out.status.success() => {
            assert_eq!(String::from_utf8(out.stdout).unwrap().trim(), hex(&SECRET));
        }
        other => {
            assert!(!in_ci(), "shamir-mnemonic is needed in CI: {other:?}");
            eprintln!("python3 with shamir_mnemonic not available; skipping");
        }
    }
}
