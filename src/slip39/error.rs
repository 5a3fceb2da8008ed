//! Errors of SLIP-0039 parsing, splitting and combining, worded for the people at a recovery
//! ceremony. Positions into a `shares` slice are 0-based; word positions are 1-based.
//! Neither `Debug` nor `Display` ever contains share values or secrets.

use std::fmt;

/// Everything that can go wrong with SLIP-39 shares.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Slip39Error {
    /// No shares (or no words) were given.
    Empty,
    /// A mnemonic has fewer words than the shortest valid share.
    TooFewWords {
        /// Words in the mnemonic (list numbering not counted).
        have: usize,
        /// Words in the shortest valid share ([`MIN_WORDS`](super::MIN_WORDS)).
        min: usize,
    },
    /// A mnemonic has more words than the longest share this tool accepts.
    TooManyWords {
        /// Words in the mnemonic (list numbering not counted).
        have: usize,
        /// Words in the longest share accepted ([`MAX_WORDS`](super::MAX_WORDS)).
        max: usize,
    },
    /// No valid share has this many words (the padding would exceed 8 bits).
    InvalidWordCount {
        /// Words in the mnemonic (list numbering not counted).
        have: usize,
    },
    /// The word at `position` (1-based) is not in the SLIP-39 word list.
    UnknownWord {
        /// 1-based word position.
        position: usize,
        /// The word as typed (at most 32 characters), or the out-of-range index in decimal.
        word: String,
    },
    /// The checksum does not match. If replacing exactly one word fixes it, `suggestion` holds
    /// that word's position (1-based) and the replacement word.
    InvalidChecksum {
        /// The single-word fix, if exactly one exists: 1-based position and replacement word.
        suggestion: Option<(usize, &'static str)>,
    },
    /// The padding bits in front of the share value are not all zero.
    InvalidPadding,
    /// A secret (or share value) is shorter than 16 bytes.
    SecretTooShort {
        /// Length in bytes.
        len: usize,
    },
    /// A secret (or share value) is longer than this tool accepts.
    SecretTooLong {
        /// Length in bytes.
        len: usize,
        /// Longest accepted length in bytes ([`MAX_SECRET_BYTES`](super::MAX_SECRET_BYTES)).
        max: usize,
    },
    /// A secret (or share value) has an odd number of bytes.
    OddLength {
        /// Length in bytes.
        len: usize,
    },
    /// The thresholds or counts are impossible or not allowed.
    InvalidThreshold {
        /// Which rule is broken, in words.
        reason: &'static str,
    },
    /// A parameter is outside its range (identifier, iteration exponent, counts).
    InvalidParameter {
        /// The parameter's name, e.g. `identifier` or `iteration exponent`.
        field: &'static str,
        /// The value given.
        value: u32,
    },
    /// The share at `position` has fields no valid share can have.
    MalformedShare {
        /// 0-based position of the share in `shares`.
        position: usize,
        /// Which field is impossible, in words.
        reason: &'static str,
    },
    /// Shares `first` and `other` disagree on `field`, so they cannot belong to the same set.
    MismatchedParameter {
        /// The parameter that differs, e.g. `identifier`, `group count`, `member threshold`.
        field: &'static str,
        /// 0-based position of the share compared against.
        first: usize,
        /// 0-based position of the share that differs from it.
        other: usize,
    },
    /// Shares `first` and `second` have the same group and member index. `identical` tells
    /// whether they are the very same share entered twice.
    DuplicateMember {
        /// The SLIP-39 group index (0-based) both shares carry.
        group_index: u8,
        /// The SLIP-39 member index (0-based) both shares carry.
        member_index: u8,
        /// 0-based position of the earlier share.
        first: usize,
        /// 0-based position of the later share.
        second: usize,
        /// Whether the two share values are equal (the same share entered twice).
        identical: bool,
    },
    /// Fewer groups than the group threshold are present.
    InsufficientGroups {
        /// Groups with at least one share entered.
        have: usize,
        /// The group threshold.
        need: usize,
    },
    /// A group has fewer shares than its member threshold.
    InsufficientMembers {
        /// The SLIP-39 group index (0-based) of the incomplete group closest to completion.
        group_index: u8,
        /// Shares of that group entered.
        have: usize,
        /// The group's member threshold.
        need: usize,
    },
    /// The recovered secret fails its integrity check (`None`: the group level).
    DigestMismatch {
        /// The SLIP-39 group index (0-based) whose member shares fail the digest; `None` when the group shares do.
        group_index: Option<u8>,
    },
    /// These shares (positions) do not lie on the polynomial the other shares agree on.
    InconsistentShares {
        /// 0-based positions of the disagreeing shares, ascending.
        shares: Vec<usize>,
        /// The SLIP-39 group index (0-based) the shares belong to; `None` when whole groups
        /// disagree (every share of those groups is listed).
        group_index: Option<u8>,
    },
    /// The passphrase contains characters other than printable ASCII (32..=126).
    InvalidPassphrase,
}

fn share_list(f: &mut fmt::Formatter<'_>, shares: &[usize]) -> fmt::Result {
    for (i, s) in shares.iter().enumerate() {
        if i > 0 {
            f.write_str(if i + 1 == shares.len() { " and " } else { ", " })?;
        }
        write!(f, "#{}", s + 1)?;
    }
    Ok(())
}

impl fmt::Display for Slip39Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use Slip39Error::*;
        match self {
            Empty => f.write_str("no shares were entered"),
            TooFewWords { have, min } => write!(
                f,
                "this share has {have} words, but a share has at least {min}; a word may be missing"
            ),
            TooManyWords { have, max } => write!(
                f,
                "this share has {have} words, more than the {max} this tool accepts; words from another share may have been included"
            ),
            InvalidWordCount { have } => write!(
                f,
                "no valid share has {have} words; a word is probably missing or repeated"
            ),
            UnknownWord { position, word } => write!(
                f,
                "word {position} (\"{word}\") is not a SLIP-39 word; check its spelling on the sheet"
            ),
            InvalidChecksum { suggestion: Some((position, word)) } => write!(
                f,
                "the share's checksum does not match; word {position} is probably wrong (\"{word}\" would make the checksum valid): check that word on the sheet"
            ),
            InvalidChecksum { suggestion: None } => f.write_str(
                "the share's checksum does not match; at least one word is wrong, re-read the whole share",
            ),
            InvalidPadding => f.write_str(
                "the share is invalid (non-zero padding bits); it was not produced by a SLIP-39 tool or was mistyped",
            ),
            SecretTooShort { len } => write!(f, "the secret is {len} bytes; at least 16 are required"),
            SecretTooLong { len, max } => write!(f, "the secret is {len} bytes; at most {max} are supported"),
            OddLength { len } => write!(f, "the secret is {len} bytes; the length must be even"),
            InvalidThreshold { reason } => write!(f, "invalid threshold: {reason}"),
            InvalidParameter { field, value } => write!(f, "the {field} {value} is out of range"),
            MalformedShare { position, reason } => write!(f, "share #{} is malformed: {reason}", position + 1),
            MismatchedParameter { field, first, other } => write!(
                f,
                "share #{} and share #{} have a different {field}; they do not belong to the same set of shares",
                first + 1,
                other + 1
            ),
            DuplicateMember { group_index, member_index, first, second, identical } => {
                if *identical {
                    write!(
                        f,
                        "share #{} and share #{} are the same share (group {}, member {}) entered twice",
                        first + 1,
                        second + 1,
                        group_index + 1,
                        member_index + 1
                    )
                } else {
                    write!(
                        f,
                        "share #{} and share #{} both claim to be member {} of group {} but differ; one of them is not genuine or was mistyped",
                        first + 1,
                        second + 1,
                        member_index + 1,
                        group_index + 1
                    )
                }
            }
            InsufficientGroups { have, need } => write!(
                f,
                "shares from {have} group(s) were entered, but {need} groups are required"
            ),
            InsufficientMembers { group_index, have, need } => write!(
                f,
                "group {} has {have} share(s), but {need} are required",
                group_index + 1
            ),
            DigestMismatch { group_index: Some(g) } => write!(
                f,
                "the shares of group {} do not combine to a valid secret; at least one of them is not genuine",
                g + 1
            ),
            DigestMismatch { group_index: None } => f.write_str(
                "the groups do not combine to a valid secret; at least one share is not genuine",
            ),
            InconsistentShares { shares, group_index } => {
                f.write_str("share(s) ")?;
                share_list(f, shares)?;
                match group_index {
                    Some(g) => write!(f, " in group {} disagree with the other shares of that group; they are not genuine or were mistyped", g + 1),
                    None => f.write_str(" disagree with the other groups; they are not genuine or were mistyped"),
                }
            }
            InvalidPassphrase => f.write_str(
                "the passphrase may contain only printable ASCII characters (letters, digits, punctuation, space)",
            ),
        }
    }
}

impl std::error::Error for Slip39Error {}
