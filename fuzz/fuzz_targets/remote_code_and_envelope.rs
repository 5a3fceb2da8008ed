//! Fuzz the remote ceremony's parsers: arbitrary bytes as a ceremony code (bytes and text) and
//! as an envelope offered to a host session must never panic; a code that parses re-encodes to
//! exactly its bytes (a parse is unique), and no arbitrary text is accepted as an envelope.
#![no_main]

use custody::remote::{CeremonyCode, HostSession};
use libfuzzer_sys::fuzz_target;
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::SeedableRng;

fuzz_target!(|data: &[u8]| {
    if let Ok(c) = CeremonyCode::from_bytes(data) {
        assert_eq!(c.to_bytes().as_slice(), data);
        let _ = c.phrase().to_string();
    }
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(c) = CeremonyCode::from_text(text) {
        assert_eq!(CeremonyCode::from_text(&c.to_text()).unwrap(), c);
    }
    let mut rng = ChaCha20Rng::seed_from_u64(16);
    let mut session =
        HostSession::open(&mut rng, [0x11; 16], 2, "drill", 1_767_225_600, 1800, None).unwrap();
    // Sealed to a key only this process knows: arbitrary input can never open.
    assert!(session.accept("fuzz", text, 1_767_225_600).is_err());
    assert!(session.contributions().is_empty());
});
