//! The text share file `NN-<custodian>.txt`: `key: value` lines with the custodian's details,
//! the signed token and the SLIP-39 words (shares-format.md, "Text share file").

use std::fmt;

use zeroize::Zeroizing;

use crate::policy::Policy;
use crate::slip39::{Share, Slip39Error};
use crate::timefmt;
use crate::token::{Token, TokenError};

/// What a share file holds once parsed. The token, when present, is authoritative; every
/// other field must agree with it.
pub struct ShareFile {
    /// The signed share token from the `token:` line, if the file has one.
    pub token: Option<Token>,
    /// The SLIP-39 share: the `words:` line's, or the token's when there is no `words:` line.
    pub share: Share,
}

/// Why a share file could not be read.
#[derive(Debug)]
pub enum ShareFileError {
    /// A line is neither a comment, blank, nor `key: value`.
    BadLine {
        /// Line number (1-based).
        line: usize,
    },
    /// A key appears twice.
    RepeatedKey {
        /// The key, lowercased.
        key: String,
        /// Line number (1-based) of its second occurrence.
        line: usize,
    },
    /// Neither a `token:` nor a `words:` line.
    NoShare,
    /// The `token:` line is not a valid share token.
    Token(TokenError),
    /// The `words:` line is not a valid SLIP-39 share.
    Words(Slip39Error),
    /// The words line and the token hold different shares.
    WordsDisagree,
    /// A descriptive field contradicts the signed token (the file was edited).
    FieldDisagrees {
        /// The field's key, e.g. `custodian` or `epoch`.
        key: &'static str,
        /// The value the file's line gives.
        file: String,
        /// The value the signed token gives.
        token: String,
    },
}

impl fmt::Display for ShareFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ShareFileError::BadLine { line } => write!(
                f,
                "line {line} is not `key: value`; the file may be damaged: use the printed sheet"
            ),
            ShareFileError::RepeatedKey { key, line } => {
                write!(f, "`{key}` appears again on line {line}; keep one")
            }
            ShareFileError::NoShare => write!(
                f,
                "the file has neither a `token:` nor a `words:` line, so it holds no share"
            ),
            ShareFileError::Token(e) => write!(f, "token: {e}"),
            ShareFileError::Words(e) => write!(f, "words: {e}"),
            ShareFileError::WordsDisagree => write!(
                f,
                "the `words:` line and the `token:` line hold different shares: the file was \
                 edited; check both against the printed sheet"
            ),
            ShareFileError::FieldDisagrees { key, file, token } => write!(
                f,
                "`{key}` says `{file}` but the signed token says `{token}`: the file was edited; \
                 trust the printed sheet"
            ),
        }
    }
}

impl std::error::Error for ShareFileError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ShareFileError::Token(e) => Some(e),
            ShareFileError::Words(e) => Some(e),
            _ => None,
        }
    }
}

/// Render the text share file for one custodian.
pub fn render(token: &Token, policy: &Policy, fingerprint: &str) -> Zeroizing<String> {
    let s = &token.share;
    let group = &policy.groups[usize::from(s.group_index)];
    let mut out = Zeroizing::new(String::new());
    let mut line = |k: &str, v: &str| {
        out.push_str(k);
        out.push_str(": ");
        out.push_str(v);
        out.push('\n');
    };
    let header = "# custody share file. KEEP IT SECRET: enough of these open the vault.\n\
                  # Check it at any time (no quorum needed): custody check-share --vault VAULT THIS-FILE\n\
                  # The words are a standard SLIP-39 share; shares-format.md explains recovery.\n";
    line("custodian", &token.info.custodian);
    line("group", &token.info.group);
    line("index", &(u16::from(s.member_index) + 1).to_string());
    line("threshold", &s.member_threshold.to_string());
    line("members", &group.custodians.len().to_string());
    if group.holds_copies()
        && let Some(c) = group
            .custodians
            .iter()
            .find(|c| crate::custodian_name::same(&c.name, &token.info.custodian))
    {
        // Every holder of the group has the same share; this is their copy.
        line(
            "copy",
            &format!(
                "{} of {}",
                u16::from(c.member_index) + 1,
                group.custodians.len()
            ),
        );
    }
    line("group-threshold", &s.group_threshold.to_string());
    line("groups", &s.group_count.to_string());
    line("fingerprint", fingerprint);
    line("vault-id", &crate::keys::hex(&token.info.vault_id));
    line("epoch", &token.info.epoch.to_string());
    line("created", &timefmt::date(token.info.created));
    line("token", &token.to_text());
    line("words", &s.to_words());
    let mut full = Zeroizing::new(String::from(header));
    full.push_str(&out);
    full
}

/// Whether `text` looks like a share file (has a `token:` or `words:` line).
pub fn looks_like(text: &str) -> bool {
    text.lines().any(|l| {
        let l = l.trim_start().to_ascii_lowercase();
        l.starts_with("token:") || l.starts_with("words:")
    })
}

/// Parse a share file, checking every descriptive field against the token.
pub fn parse(text: &str) -> Result<ShareFile, ShareFileError> {
    let mut fields: Vec<(String, Zeroizing<String>, usize)> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let l = raw.trim();
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        let (k, v) = l
            .split_once(':')
            .ok_or(ShareFileError::BadLine { line: i + 1 })?;
        let k = k.trim().to_ascii_lowercase();
        if k.is_empty() || k.contains(char::is_whitespace) {
            return Err(ShareFileError::BadLine { line: i + 1 });
        }
        if fields.iter().any(|(x, _, _)| *x == k) {
            return Err(ShareFileError::RepeatedKey {
                key: k,
                line: i + 1,
            });
        }
        fields.push((k, Zeroizing::new(v.trim().to_owned()), i + 1));
    }
    let get = |k: &str| {
        fields
            .iter()
            .find(|(x, _, _)| x == k)
            .map(|(_, v, _)| v.as_str())
    };
    let token = match get("token") {
        Some(t) => Some(Token::from_text(t).map_err(ShareFileError::Token)?),
        None => None,
    };
    let words = match get("words") {
        Some(w) => Some(Share::from_words(w).map_err(ShareFileError::Words)?),
        None => None,
    };
    let share = match (&token, words) {
        (None, None) => return Err(ShareFileError::NoShare),
        (Some(t), Some(w)) => {
            if t.share.to_indices().as_slice() != w.to_indices().as_slice() {
                return Err(ShareFileError::WordsDisagree);
            }
            w
        }
        (Some(t), None) => t.share.clone(),
        (None, Some(w)) => w,
    };
    if let Some(t) = &token {
        let expect: [(&'static str, String); 7] = [
            ("custodian", t.info.custodian.clone()),
            ("group", t.info.group.clone()),
            ("index", (u16::from(share.member_index) + 1).to_string()),
            ("threshold", share.member_threshold.to_string()),
            ("epoch", t.info.epoch.to_string()),
            ("vault-id", crate::keys::hex(&t.info.vault_id)),
            ("fingerprint", crate::keys::fingerprint(&t.public_key)),
        ];
        for (key, want) in expect {
            // Names also compare in NFC: an editor may have re-saved the file so.
            let agrees = |have: &str| {
                have.eq_ignore_ascii_case(&want)
                    || (matches!(key, "custodian" | "group")
                        && crate::custodian_name::same(have, &want))
            };
            if let Some(have) = get(key)
                && !agrees(have)
            {
                return Err(ShareFileError::FieldDisagrees {
                    key,
                    file: have.to_owned(),
                    token: want,
                });
            }
        }
    }
    Ok(ShareFile { token, share })
}
