//! Fuzz the share-input reader (share files, tokens, words): arbitrary input must never panic.
#![no_main]

use custody::input::parse_bytes;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = parse_bytes("fuzz", data);
});
