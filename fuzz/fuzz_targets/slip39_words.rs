//! Fuzz target: `Share::from_words` must never panic on arbitrary UTF-8, and any share it
//! accepts must survive `to_words` -> `from_words` unchanged.
#![no_main]

use custody::slip39::Share;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Ok(share) = Share::from_words(text) {
        let words = share.to_words();
        let again = Share::from_words(&words).expect("canonical words must parse");
        assert_eq!(again.to_words(), words);
        assert_eq!(
            (
                again.identifier,
                again.extendable,
                again.iteration_exponent,
                again.group_index
            ),
            (
                share.identifier,
                share.extendable,
                share.iteration_exponent,
                share.group_index
            )
        );
        assert_eq!(
            (
                again.group_threshold,
                again.group_count,
                again.member_index,
                again.member_threshold
            ),
            (
                share.group_threshold,
                share.group_count,
                share.member_index,
                share.member_threshold
            )
        );
        assert_eq!(again.value, share.value);
    }
});
