//! Inputs found by fuzzing, replayed so that each fixed bug stays fixed. Each file under
//! `tests/fixtures/fuzz-regressions/` is named `<target>-<what>.<ext>` and checked with the same
//! property its fuzz target asserts.

use custody::vault::Vault;

/// `vault_file` found (after 9.4 million executions) that a malformed credential entry, which
/// the vault keeps verbatim as evidence, holding a float such as `3e+93` changed on every
/// rewrite (`3.0000000000000002e+93`): serde_json's default float parser is not exact. With
/// `float_roundtrip` the entry re-serialises to the same text.
#[test]
fn vault_file_float_roundtrip() {
    let text = include_str!("fixtures/fuzz-regressions/vault_file-float-roundtrip.json");
    let v = Vault::from_json(text).expect("the fuzz input parses as a vault");
    let json = v.to_json();
    let again = Vault::from_json(&json).expect("a vault's own to_json must parse");
    assert_eq!(again.to_json(), json);
    assert!(
        json.contains("3e+93"),
        "the kept entry's number is unchanged"
    );
}
