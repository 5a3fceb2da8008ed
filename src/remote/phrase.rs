//! The comparison phrase: 8 SLIP-39 words (80 bits) from a hash of the whole ceremony code,
//! read aloud between host and custodian so that a code swapped in transit is caught before a
//! share is sealed to it (shares-format.md, "Remote ceremony", "Comparison phrase").

use std::fmt;

use sha2::{Digest, Sha256};

use crate::slip39;
use crate::wire;

/// Letters that identify a SLIP-39 word on their own (the list's words differ in their first 4).
const PREFIX_LETTERS: usize = 4;

/// Why a phrase typed back does not match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PhraseMismatch {
    /// A different number of words than the phrase has.
    WordCount {
        /// How many words were given.
        given: usize,
    },
    /// The word at this position (1-based) is not the phrase's word or its first 4 letters.
    Word {
        /// 1-based position.
        position: usize,
    },
}

impl fmt::Display for PhraseMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PhraseMismatch::WordCount { given } => write!(
                f,
                "the phrase given has {given} words; the comparison phrase has {}",
                wire::REMOTE_PHRASE_WORDS
            ),
            PhraseMismatch::Word { position } => write!(
                f,
                "word {position} of the phrase given differs from this code's comparison phrase"
            ),
        }
    }
}

impl std::error::Error for PhraseMismatch {}

/// Eight SLIP-39 words derived from a ceremony code.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct ComparisonPhrase {
    indices: [u16; wire::REMOTE_PHRASE_WORDS],
}

impl ComparisonPhrase {
    /// The phrase of a code given as its bytes (trailer included): the first 80 bits of
    /// SHA-256(`REMOTE_PHRASE_DOMAIN` || code bytes), ten bits a word, most significant first.
    pub fn of_code_bytes(code: &[u8]) -> ComparisonPhrase {
        let digest = Sha256::new()
            .chain_update(wire::REMOTE_PHRASE_DOMAIN)
            .chain_update(code)
            .finalize();
        let mut head = [0u8; 16];
        head[..10].copy_from_slice(&digest[..10]);
        let bits = u128::from_be_bytes(head) >> 48; // the first 80 bits
        let mut indices = [0u16; wire::REMOTE_PHRASE_WORDS];
        for (i, w) in indices.iter_mut().enumerate() {
            *w = ((bits >> (70 - 10 * i)) & 0x3ff) as u16;
        }
        ComparisonPhrase { indices }
    }

    /// The word indices (0..1024) in order.
    pub fn indices(&self) -> [u16; wire::REMOTE_PHRASE_WORDS] {
        self.indices
    }

    /// The words in order.
    pub fn words(&self) -> [&'static str; wire::REMOTE_PHRASE_WORDS] {
        self.indices.map(slip39::word)
    }

    /// Check a phrase typed or heard back: the same words in order, in any case, separated by
    /// any whitespace; each word in full or as its first 4 letters. Anything else differs.
    pub fn check(&self, given: &str) -> Result<(), PhraseMismatch> {
        let parts: Vec<&str> = given.split_whitespace().collect();
        if parts.len() != wire::REMOTE_PHRASE_WORDS {
            return Err(PhraseMismatch::WordCount { given: parts.len() });
        }
        for (i, (part, word)) in parts.iter().zip(self.words()).enumerate() {
            let lower = part.to_ascii_lowercase();
            let ok = lower == word || (lower.len() == PREFIX_LETTERS && word.starts_with(&lower));
            if !ok {
                return Err(PhraseMismatch::Word { position: i + 1 });
            }
        }
        Ok(())
    }

    /// Whether `given` is this phrase ([`ComparisonPhrase::check`]).
    pub fn matches(&self, given: &str) -> bool {
        self.check(given).is_ok()
    }

    /// SHA-256 of the phrase text (words joined by single spaces), 64 lowercase hex digits:
    /// what the audit record keeps of the phrase compared.
    pub fn hash_hex(&self) -> String {
        Sha256::digest(self.to_string().as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

impl fmt::Display for ComparisonPhrase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.words().join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_are_taken_in_order() {
        let p = ComparisonPhrase::of_code_bytes(b"example");
        let digest = Sha256::new()
            .chain_update(wire::REMOTE_PHRASE_DOMAIN)
            .chain_update(b"example")
            .finalize();
        // The first word is the first 10 bits, the last word bits 70..80.
        let first = (u16::from(digest[0]) << 2) | u16::from(digest[1] >> 6);
        let last = (u16::from(digest[8] & 0x03) << 8) | u16::from(digest[9]);
        assert_eq!(p.indices()[0], first);
        assert_eq!(p.indices()[7], last);
        assert_eq!(p.to_string().split(' ').count(), 8);
        assert_ne!(p, ComparisonPhrase::of_code_bytes(b"examplf"));
    }

    #[test]
    fn matching_rules() {
        let p = ComparisonPhrase::of_code_bytes(b"code");
        let words = p.words();
        let text = p.to_string();
        assert!(p.matches(&text));
        assert!(p.matches(&text.to_uppercase()));
        assert!(p.matches(&format!("  {}\n", words.join("\t \n"))));
        let prefixes: Vec<String> = words.iter().map(|w| w[..4].to_owned()).collect();
        assert!(p.matches(&prefixes.join(" ")));
        // Three letters, or five of a longer word, are not accepted.
        let mut three = prefixes.clone();
        three[2] = words[2][..3].to_owned();
        assert_eq!(
            p.check(&three.join(" ")),
            Err(PhraseMismatch::Word { position: 3 })
        );
        if words[5].len() > 5 {
            let mut five = prefixes.clone();
            five[5] = words[5][..5].to_owned();
            assert_eq!(
                p.check(&five.join(" ")),
                Err(PhraseMismatch::Word { position: 6 })
            );
        }
        assert_eq!(
            p.check(&words[..7].join(" ")),
            Err(PhraseMismatch::WordCount { given: 7 })
        );
        assert_eq!(
            p.check(&format!("{text} {}", words[0])),
            Err(PhraseMismatch::WordCount { given: 9 })
        );
        let mut swapped = words;
        swapped.swap(0, 1);
        assert!(!p.matches(&swapped.join(" ")) || words[0] == words[1]);
        assert_eq!(p.check(""), Err(PhraseMismatch::WordCount { given: 0 }));
    }

    #[test]
    fn hash_is_of_the_text() {
        let p = ComparisonPhrase::of_code_bytes(b"code");
        let h = p.hash_hex();
        assert_eq!(h.len(), 64);
        let expect: String = Sha256::digest(p.to_string())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(h, expect);
    }
}
