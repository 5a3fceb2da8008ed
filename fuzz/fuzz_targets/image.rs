//! Fuzz the picture path: `scan::decode_qr_codes` (PNG/JPEG decoding, binarisation, QR
//! detection and decoding) and `input::parse_bytes` (which sends pictures there too) on
//! arbitrary bytes must never panic. Run with `-max_len=65536`: decoders allocate in
//! proportion to the declared image size, and large pictures only make each run slower.
#![no_main]

use custody::input::parse_bytes;
use custody::scan::{decode_qr_codes, is_image};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // `parse_bytes` sends anything that looks like a picture through the whole scan; bytes it
    // does not take for a picture still go to the decoder directly (format guessing, errors),
    // without scanning real pictures twice.
    if !is_image(data) {
        let _ = decode_qr_codes(data);
    }
    let _ = parse_bytes("fuzz", data);
});
