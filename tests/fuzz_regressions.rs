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

/// `image` found (run 3 of 2026-11-28, after ~700,000 executions) a 2,140-byte, 260 x 250 PNG
/// — a mutated crop of a sheet's QR code — that keeps the scanner busy for about 26 s (release
/// build) before it reports that no QR code could be read: rqrr's grid search
/// (`SkewedGridLocation::from_group`, 99 % of the time) tries every grouping of the many
/// finder-pattern-like shapes in it. No panic and no wrong output, but an officer would wait.
/// OPEN: rqrr keeps its candidate list private, and a wall-clock limit on scanning was tried
/// and dropped (a legitimate full-page photo with no readable code can take as long in a debug
/// build, so the limit made results depend on machine speed). Run by hand, in release:
/// `cargo test --release --test fuzz_regressions -- --ignored image_slow`.
#[test]
#[ignore = "takes ~26 s: the grid-search bound is not in yet (see the comment)"]
fn image_slow_grid_search_is_refused_cleanly() {
    let bytes = include_bytes!("fixtures/fuzz-regressions/image-slow-grid-search.png");
    let started = std::time::Instant::now();
    let err = custody::scan::decode_qr_codes(bytes).expect_err("no share in it");
    assert_eq!(
        err,
        custody::scan::ScanError::NoQrFound {
            width: 260,
            height: 250
        }
    );
    eprintln!("refused after {:?}: {err}", started.elapsed());
}
