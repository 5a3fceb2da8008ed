//! The SLIP-0039 English word list (1024 words, sorted, unique 4-letter prefixes) and lookups.

use std::sync::OnceLock;

/// The list as shipped by the reference implementation (MIT), one word per line.
const WORDLIST_TEXT: &str = include_str!("wordlist.txt");

/// Number of words; every word encodes 10 bits.
pub const WORD_COUNT: usize = 1024;

fn words() -> &'static [&'static str] {
    static WORDS: OnceLock<Vec<&'static str>> = OnceLock::new();
    WORDS.get_or_init(|| {
        let list: Vec<&'static str> = WORDLIST_TEXT
            .lines()
            .map(str::trim)
            .filter(|w| !w.is_empty())
            .collect();
        assert_eq!(
            list.len(),
            WORD_COUNT,
            "embedded SLIP-39 word list must have 1024 words"
        );
        assert!(
            list.windows(2).all(|w| w[0] < w[1]),
            "embedded SLIP-39 word list must be sorted"
        );
        list
    })
}

/// The word with the given index. Panics if `index >= 1024`.
pub fn word(index: u16) -> &'static str {
    words()[usize::from(index)]
}

/// The index of `word`, matched exactly but case-insensitively (ASCII only).
pub fn word_index(word: &str) -> Option<u16> {
    if word.len() > 8 || !word.is_ascii() {
        return None;
    }
    let lower = word.to_ascii_lowercase();
    words()
        .binary_search(&lower.as_str())
        .ok()
        .and_then(|i| u16::try_from(i).ok())
}

/// All words that start with `prefix` (case-insensitive, ASCII), in list order.
pub fn complete_prefix(prefix: &str) -> Vec<&'static str> {
    if !prefix.is_ascii() {
        return Vec::new();
    }
    let lower = prefix.to_ascii_lowercase();
    let list = words();
    let start = list.partition_point(|w| *w < lower.as_str());
    list[start..]
        .iter()
        .take_while(|w| w.starts_with(lower.as_str()))
        .copied()
        .collect()
}
