//! SLIP-0039: Shamir's secret-sharing for mnemonic codes.
//!
//! A master secret is encrypted with a passphrase ([`EncryptedMasterSecret`]), split in two
//! levels (groups, then members) with [`split_ems`] / [`generate_shares`], and each share is
//! written as a mnemonic of 10-bit words ([`Share::to_words`]). [`combine`] checks a set of
//! shares as the specification requires and recovers the secret; extra shares beyond the
//! thresholds are accepted only if they agree with the recovered polynomials. [`extend_group`]
//! adds members to a group from a threshold of its shares.

mod cipher;
mod error;
mod extend;
mod rs1024;
mod scheme;
mod shamir;
mod share;
mod wordlist;

pub use cipher::EncryptedMasterSecret;
pub use error::Slip39Error;
pub use extend::extend_group;
pub use scheme::{
    GroupSpec, Inconsistency, check_consistent, combine, generate_shares, recover_ems, split_ems,
};
pub use share::{MAX_WORDS, MIN_WORDS, Share};
pub use wordlist::{WORD_COUNT, complete_prefix, word, word_index};

/// Shortest master secret (and share value): 128 bits.
pub const MIN_SECRET_BYTES: usize = 16;
/// Longest master secret this crate accepts: 1024 bits (BIP-32 seeds are at most 512).
pub const MAX_SECRET_BYTES: usize = 128;
/// Maximum number of groups, and of members in a group.
pub const MAX_SHARE_COUNT: u8 = 16;
