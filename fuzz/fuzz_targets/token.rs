//! Fuzz the share-token parser: arbitrary bytes and text must never panic, and every token that
//! parses must re-encode to exactly the bytes it came from (a parse is unique).
#![no_main]

use custody::token::Token;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(t) = Token::from_bytes(data) {
        assert_eq!(t.to_bytes().as_slice(), data);
    }
    if let Ok(text) = std::str::from_utf8(data)
        && let Ok(t) = Token::from_text(text)
    {
        assert_eq!(
            Token::from_text(&t.to_text()).unwrap().to_bytes(),
            t.to_bytes()
        );
    }
});
