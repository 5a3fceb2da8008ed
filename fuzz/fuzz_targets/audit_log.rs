//! Fuzz the audit log verifier: `audit::inspect_bytes` on arbitrary bytes must never panic,
//! whatever the lines claim (seq numbers, hashes, signatures, retired keys). Every input is
//! checked twice: against the key of the demo vault whose log is the seed in
//! `fuzz/seeds/audit_log/` (so signatures verify and the deep paths are reached), and against
//! an unrelated fixed key (every signature fails).
#![no_main]

use std::sync::OnceLock;

use custody::audit::inspect_bytes;
use custody::keys::MasterSecret;
use custody::vault::Vault;
use ed25519_dalek::VerifyingKey;
use libfuzzer_sys::fuzz_target;

fn keys() -> &'static [VerifyingKey; 2] {
    static KEYS: OnceLock<[VerifyingKey; 2]> = OnceLock::new();
    KEYS.get_or_init(|| {
        let fixed = MasterSecret::from_bytes(&[7; 32])
            .unwrap()
            .derive()
            .unwrap()
            .verifying_key();
        // The demo vault that wrote the seed log (`custody demo --keep`).
        let demo = *Vault::from_json(include_str!("../seeds/vault_file/demo.vault"))
            .expect("the seed vault parses")
            .public_key();
        [fixed, demo]
    })
}

fuzz_target!(|data: &[u8]| {
    let [fixed, demo] = keys();
    let report = inspect_bytes(data, fixed);
    let _ = report.is_intact();
    let _ = report.unsigned_tail();
    for p in &report.problems {
        let _ = p.to_string();
    }
    let report = inspect_bytes(data, demo);
    for c in report.tail_ceremonies() {
        let _ = c.status();
    }
    for p in &report.problems {
        let _ = p.to_string();
    }
});
