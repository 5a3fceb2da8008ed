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
/// — a mutated crop of a sheet's QR code — that kept the scanner busy for about 24 s (release
/// build) before it reported that no QR code could be read: from three finder-pattern-like
/// shapes, rqrr's alignment-pattern search estimated a pattern of 3.7 million pixels and
/// spiralled through ~370 million positions in each of the 16 attempts. Fixed by metering the
/// detector's work (`src/scan/metered.rs`): an attempt over its budget is stopped and counts
/// as finding nothing. The check is on the work counted, not on time, so it cannot depend on
/// the machine; `cargo bench --bench scan` shows the time (about 1 s in release).
#[test]
fn image_slow_grid_search_is_refused_cleanly() {
    let bytes = include_bytes!("fixtures/fuzz-regressions/image-slow-grid-search.png");
    let err = custody::scan::decode_qr_codes(bytes).expect_err("no share in it");
    assert_eq!(
        err,
        custody::scan::ScanError::NoQrFound {
            width: 260,
            height: 250
        }
    );
    let gray = custody::scan::load_gray(bytes).unwrap();
    let (found, trace) = custody::scan::decode_gray_attempts(&gray);
    assert!(found.is_empty());
    let stopped = trace.iter().filter(|a| a.stopped).count();
    assert!(
        stopped >= 10,
        "the runaway search must be cut short in most attempts, was in {stopped} of {}",
        trace.len()
    );
    for a in &trace {
        assert!(a.work <= a.budget, "{a:?}");
        assert_eq!(a.stopped, a.work == a.budget, "{a:?}");
    }
    // All attempts together stay within a few honest attempts' work, where the search
    // alone used to take ~6 billion steps.
    let total: u64 = trace.iter().map(|a| a.work).sum();
    assert!(total < 500_000_000, "{total} steps");
}
