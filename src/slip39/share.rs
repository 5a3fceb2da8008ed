//! One SLIP-0039 share and its mnemonic encoding: identifier, flags and indices, the padded
//! share value, and the RS1024 checksum, as 10-bit words.

use std::fmt;

use zeroize::{Zeroize, Zeroizing};

use super::error::Slip39Error;
use super::rs1024::{self, CHECKSUM_WORDS};
use super::wordlist::{word, word_index};
use super::{MAX_SECRET_BYTES, MIN_SECRET_BYTES};

/// Words before the share value: identifier/flag/exponent (2) and group/member parameters (2).
const PREFIX_WORDS: usize = 4;
/// Words that are not share value.
const METADATA_WORDS: usize = PREFIX_WORDS + CHECKSUM_WORDS;
/// Shortest valid mnemonic: a 128-bit value takes 13 words.
pub const MIN_WORDS: usize = METADATA_WORDS + (MIN_SECRET_BYTES * 8).div_ceil(10);
/// Longest mnemonic this crate accepts (share value of `MAX_SECRET_BYTES`).
pub const MAX_WORDS: usize = METADATA_WORDS + (MAX_SECRET_BYTES * 8).div_ceil(10);

/// One share: public metadata and the secret share value.
#[derive(Clone)]
pub struct Share {
    /// Random 15-bit identifier common to all shares of a set.
    pub identifier: u16,
    /// Extendable backup flag.
    pub extendable: bool,
    /// Iteration exponent (4 bits) of the passphrase encryption.
    pub iteration_exponent: u8,
    /// Group index, 0..=15 (the x-coordinate of the group share).
    pub group_index: u8,
    /// Number of groups needed, 1..=16.
    pub group_threshold: u8,
    /// Number of groups, 1..=16.
    pub group_count: u8,
    /// Member index, 0..=15 (the x-coordinate of this share in its group).
    pub member_index: u8,
    /// Number of members of this group needed, 1..=16.
    pub member_threshold: u8,
    /// The share value (secret).
    pub value: Zeroizing<Vec<u8>>,
}

impl fmt::Debug for Share {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Share")
            .field("identifier", &self.identifier)
            .field("extendable", &self.extendable)
            .field("iteration_exponent", &self.iteration_exponent)
            .field("group_index", &self.group_index)
            .field("group_threshold", &self.group_threshold)
            .field("group_count", &self.group_count)
            .field("member_index", &self.member_index)
            .field("member_threshold", &self.member_threshold)
            .field("value", &"<redacted>")
            .finish()
    }
}

/// Whether a token is list numbering such as `1.`, `12)` or `3:` rather than a word.
fn is_numbering(token: &str) -> bool {
    let digits = token.trim_end_matches(['.', ')', ':']);
    !digits.is_empty()
        && digits.len() + 1 >= token.len()
        && digits.bytes().all(|b| b.is_ascii_digit())
}

impl Share {
    /// Parses a mnemonic: whitespace-separated words, case-insensitive. List numbering
    /// tokens (`1.`, `2)`, `3:`, `4`) are ignored. Positions in errors are 1-based and count
    /// words only.
    pub fn from_words(text: &str) -> Result<Share, Slip39Error> {
        let mut indices = Zeroizing::new(Vec::new());
        for token in text.split_whitespace().filter(|t| !is_numbering(t)) {
            if indices.len() > MAX_WORDS {
                // Count the rest without looking them up, for the error message.
                let rest = text.split_whitespace().filter(|t| !is_numbering(t)).count();
                return Err(Slip39Error::TooManyWords {
                    have: rest,
                    max: MAX_WORDS,
                });
            }
            match word_index(token) {
                Some(i) => indices.push(i),
                None => {
                    return Err(Slip39Error::UnknownWord {
                        position: indices.len() + 1,
                        word: token.chars().take(32).collect(),
                    });
                }
            }
        }
        Share::from_indices(&indices)
    }

    /// Decodes a share from its word indices (each < 1024).
    pub fn from_indices(indices: &[u16]) -> Result<Share, Slip39Error> {
        let len = indices.len();
        if len == 0 {
            return Err(Slip39Error::Empty);
        }
        if let Some(position) = indices.iter().position(|&i| i >= 1024) {
            return Err(Slip39Error::UnknownWord {
                position: position + 1,
                word: indices[position].to_string(),
            });
        }
        if len < MIN_WORDS {
            return Err(Slip39Error::TooFewWords {
                have: len,
                min: MIN_WORDS,
            });
        }
        if len > MAX_WORDS {
            return Err(Slip39Error::TooManyWords {
                have: len,
                max: MAX_WORDS,
            });
        }
        let value_words = len - METADATA_WORDS;
        let padding = (10 * value_words) % 16;
        if padding > 8 {
            return Err(Slip39Error::InvalidWordCount { have: len });
        }
        let extendable = rs1024::extendable_flag(indices);
        if !rs1024::verify_checksum(rs1024::customization(extendable), indices) {
            let fixes = rs1024::single_substitutions(indices);
            let suggestion = match fixes.as_slice() {
                [(position, replacement)] => Some((position + 1, word(*replacement))),
                _ => None,
            };
            return Err(Slip39Error::InvalidChecksum { suggestion });
        }

        let id_exp = (u32::from(indices[0]) << 10) | u32::from(indices[1]);
        let identifier = (id_exp >> 5) as u16;
        let iteration_exponent = (id_exp & 0xF) as u8;
        let params = (u32::from(indices[2]) << 10) | u32::from(indices[3]);
        let nibble = |shift: u32| ((params >> shift) & 0xF) as u8;
        let group_index = nibble(16);
        let group_threshold = nibble(12) + 1;
        let group_count = nibble(8) + 1;
        let member_index = nibble(4);
        let member_threshold = nibble(0) + 1;
        if group_threshold > group_count {
            return Err(Slip39Error::InvalidThreshold {
                reason: "the share's group threshold is greater than its group count",
            });
        }

        // Unpack the value words into bytes, most significant bit first.
        let value_bytes = (10 * value_words - padding) / 8;
        let mut value = Zeroizing::new(Vec::with_capacity(value_bytes));
        let mut acc: u32 = 0;
        let mut bits: u32 = 0;
        let mut skip = padding as u32;
        let mut padding_bits: u32 = 0;
        for &w in &indices[PREFIX_WORDS..len - CHECKSUM_WORDS] {
            acc = (acc << 10) | u32::from(w);
            bits += 10;
            if skip > 0 && bits >= skip {
                padding_bits |= acc >> (bits - skip);
                bits -= skip;
                skip = 0;
                acc &= (1 << bits) - 1;
            }
            while skip == 0 && bits >= 8 {
                bits -= 8;
                value.push(((acc >> bits) & 0xFF) as u8);
                acc &= (1 << bits) - 1;
            }
        }
        acc.zeroize();
        if padding_bits != 0 {
            return Err(Slip39Error::InvalidPadding);
        }
        debug_assert_eq!(value.len(), value_bytes);
        Ok(Share {
            identifier,
            extendable,
            iteration_exponent,
            group_index,
            group_threshold,
            group_count,
            member_index,
            member_threshold,
            value,
        })
    }

    /// The word indices of this share, checksum included. Fields are masked to their bit
    /// widths (thresholds and counts are stored minus one), so a share with out-of-range
    /// fields does not round-trip.
    pub fn to_indices(&self) -> Zeroizing<Vec<u16>> {
        let value_words = (self.value.len() * 8).div_ceil(10);
        let mut out = Zeroizing::new(Vec::with_capacity(METADATA_WORDS + value_words));
        let id_exp = (u32::from(self.identifier & 0x7FFF) << 5)
            | (u32::from(self.extendable) << 4)
            | u32::from(self.iteration_exponent & 0xF);
        let params = (u32::from(self.group_index & 0xF) << 16)
            | (u32::from(self.group_threshold.wrapping_sub(1) & 0xF) << 12)
            | (u32::from(self.group_count.wrapping_sub(1) & 0xF) << 8)
            | (u32::from(self.member_index & 0xF) << 4)
            | u32::from(self.member_threshold.wrapping_sub(1) & 0xF);
        for v in [id_exp >> 10, id_exp, params >> 10, params] {
            out.push((v & 1023) as u16);
        }
        // Left-pad the value with zero bits to a multiple of 10 bits.
        let mut acc: u32 = 0;
        let mut bits: u32 = (value_words * 10 - self.value.len() * 8) as u32;
        for &b in self.value.iter() {
            acc = (acc << 8) | u32::from(b);
            bits += 8;
            if bits >= 10 {
                bits -= 10;
                out.push(((acc >> bits) & 1023) as u16);
                acc &= (1 << bits) - 1;
            }
        }
        acc.zeroize();
        let checksum = rs1024::create_checksum(rs1024::customization(self.extendable), &out);
        out.extend_from_slice(&checksum);
        out
    }

    /// The mnemonic: lowercase words separated by single spaces.
    pub fn to_words(&self) -> Zeroizing<String> {
        let indices = self.to_indices();
        let mut text = Zeroizing::new(String::with_capacity(indices.len() * 9));
        for (i, &index) in indices.iter().enumerate() {
            if i > 0 {
                text.push(' ');
            }
            text.push_str(word(index));
        }
        text
    }
}
