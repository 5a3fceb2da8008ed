//! Fuzz the vault file parser: `Vault::from_json` must never panic on arbitrary UTF-8, and a
//! vault that parses must re-serialise with `to_json` to text that parses again to an equal
//! vault (compared through its canonical `to_json` form, since `Vault` is not `PartialEq`).
#![no_main]

use custody::vault::Vault;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Ok(v) = Vault::from_json(text) {
        let json = v.to_json();
        let again = Vault::from_json(&json).expect("a vault's own to_json must parse");
        assert_eq!(again.to_json(), json);
        assert_eq!(again.vault_id(), v.vault_id());
        assert_eq!(again.epoch(), v.epoch());
        assert_eq!(again.public_key(), v.public_key());
    }
});
