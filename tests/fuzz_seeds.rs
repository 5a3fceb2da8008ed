//! The committed fuzz seeds (`fuzz/seeds/<target>/`) are real outputs of `custody demo --keep`;
//! this test replays each through the property its fuzz target asserts and checks that each
//! still *parses* (or, for the audit log, verifies intact). If a format change made a seed
//! stale, fuzzing would start from rejected inputs and stop reaching the deep paths; this test
//! fails first and says which seed to regenerate (fuzz/README.md, "Seeds").

use std::path::{Path, PathBuf};

use custody::audit::inspect_bytes;
use custody::input::{Source, parse_bytes};
use custody::scan::decode_qr_codes;
use custody::slip39::Share;
use custody::token::Token;
use custody::vault::Vault;

fn seeds(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/seeds")
        .join(target);
    let mut out: Vec<(PathBuf, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| {
            let path = e.unwrap().path();
            let bytes = std::fs::read(&path).unwrap();
            (path, bytes)
        })
        .collect();
    out.sort();
    assert!(!out.is_empty(), "no seeds in {}", dir.display());
    out
}

fn seed_vault() -> Vault {
    let (_, bytes) = seeds("vault_file")
        .into_iter()
        .find(|(p, _)| p.ends_with("demo.vault"))
        .expect("fuzz/seeds/vault_file/demo.vault");
    Vault::from_json(std::str::from_utf8(&bytes).unwrap()).expect("demo.vault parses")
}

#[test]
fn token_seeds_parse_and_round_trip() {
    for (path, bytes) in seeds("token") {
        let token = match Token::from_bytes(&bytes) {
            Ok(t) => t,
            Err(_) => Token::from_text(std::str::from_utf8(&bytes).unwrap().trim())
                .unwrap_or_else(|e| panic!("{}: {e}", path.display())),
        };
        let again = Token::from_bytes(&token.to_bytes()).unwrap();
        assert_eq!(again.to_bytes(), token.to_bytes(), "{}", path.display());
    }
}

#[test]
fn share_file_seeds_are_read_as_shares() {
    for (path, bytes) in seeds("share_file") {
        let presented =
            parse_bytes("seed", &bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_ne!(presented.source, Source::Image, "{}", path.display());
    }
}

#[test]
fn slip39_word_seeds_parse_and_round_trip() {
    for (path, bytes) in seeds("slip39_words") {
        let text = std::str::from_utf8(&bytes).unwrap();
        let share =
            Share::from_words(text.trim()).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(
            Share::from_words(&share.to_words()).unwrap().to_words(),
            share.to_words()
        );
    }
}

#[test]
fn vault_seeds_parse_and_re_serialise() {
    for (path, bytes) in seeds("vault_file") {
        let v = Vault::from_json(std::str::from_utf8(&bytes).unwrap())
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let json = v.to_json();
        assert_eq!(
            Vault::from_json(&json).unwrap().to_json(),
            json,
            "{}",
            path.display()
        );
    }
}

#[test]
fn audit_seed_verifies_against_the_seed_vault() {
    let key = *seed_vault().public_key();
    for (path, bytes) in seeds("audit_log") {
        let report = inspect_bytes(&bytes, &key);
        assert!(
            report.is_intact(),
            "{}: {:?}",
            path.display(),
            report
                .problems
                .iter()
                .map(|p| p.to_string())
                .collect::<Vec<_>>()
        );
        assert!(
            report.records > 1 && report.last_signed.is_some(),
            "{}",
            path.display()
        );
    }
}

#[test]
fn image_seeds_decode_to_a_share() {
    let mut pictures = 0;
    for (path, bytes) in seeds("image") {
        if custody::scan::is_image(&bytes) {
            pictures += 1;
            let codes =
                decode_qr_codes(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            assert_eq!(codes.len(), 1, "{}", path.display());
            let presented = parse_bytes("seed", &bytes).unwrap();
            assert_eq!(presented.source, Source::Image, "{}", path.display());
        } else {
            parse_bytes("seed", &bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        }
    }
    assert!(
        pictures > 0,
        "the image target needs at least one picture seed"
    );
}

#[test]
fn remote_code_seeds_parse_and_round_trip() {
    use custody::remote::CeremonyCode;
    let seeds = seeds("remote_code_and_envelope");
    assert_eq!(seeds.len(), 3);
    for (path, bytes) in seeds {
        let code = match CeremonyCode::from_bytes(&bytes) {
            Ok(c) => c,
            Err(_) => CeremonyCode::from_text(std::str::from_utf8(&bytes).unwrap())
                .unwrap_or_else(|e| panic!("{}: {e}", path.display())),
        };
        assert_eq!(
            CeremonyCode::from_bytes(&code.to_bytes()).unwrap(),
            code,
            "{}",
            path.display()
        );
    }
}
