//! The public form of a host key: `custody-host:` followed by the 32-byte Ed25519 public key in
//! base64url without padding (43 characters), on one line (shares-format.md, "Host key file").

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::VerifyingKey;

use crate::wire;

/// What is wrong with a host public key's text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PublicKeyProblem {
    /// It is the secret key's line (`custody-host-key:`), which must never leave the host.
    Secret,
    /// It does not start with `custody-host:`.
    NoPrefix,
    /// What follows the prefix is not base64url without padding.
    NotBase64,
    /// It decodes to this many bytes, not 32.
    Length(usize),
    /// The 32 bytes are not a valid Ed25519 public key (not a curve point, or a weak one).
    NotAKey,
}

impl fmt::Display for PublicKeyProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PublicKeyProblem::Secret => write!(
                f,
                "it is a host's SECRET key (`{}`); give its public form, which `custody host-key \
                 show FILE` prints",
                wire::HOST_SECRET_PREFIX
            ),
            PublicKeyProblem::NoPrefix => write!(
                f,
                "it does not start with `{}`; give the line `custody host-key show FILE` prints \
                 on the host",
                wire::HOST_PUBLIC_PREFIX
            ),
            PublicKeyProblem::NotBase64 => write!(
                f,
                "what follows `{}` is not base64url (A-Z, a-z, 0-9, `-`, `_`, no padding); \
                 copy the line again",
                wire::HOST_PUBLIC_PREFIX
            ),
            PublicKeyProblem::Length(n) => write!(
                f,
                "it holds {n} bytes, not the 32 of an Ed25519 public key; copy the whole line \
                 again"
            ),
            PublicKeyProblem::NotAKey => write!(
                f,
                "its 32 bytes are not a valid Ed25519 public key; copy the line again"
            ),
        }
    }
}

impl std::error::Error for PublicKeyProblem {}

/// `custody-host:` + base64url of `key`.
pub fn public_text(key: &VerifyingKey) -> String {
    format!(
        "{}{}",
        wire::HOST_PUBLIC_PREFIX,
        URL_SAFE_NO_PAD.encode(key.as_bytes())
    )
}

/// Parse a host's public form (surrounding whitespace ignored). Checked in this order: not a
/// secret line, the prefix, base64url, 32 bytes, a valid key that is not of small order.
pub fn parse_public(text: &str) -> Result<VerifyingKey, PublicKeyProblem> {
    let text = text.trim();
    if text.starts_with(wire::HOST_SECRET_PREFIX) {
        return Err(PublicKeyProblem::Secret);
    }
    let b64 = text
        .strip_prefix(wire::HOST_PUBLIC_PREFIX)
        .ok_or(PublicKeyProblem::NoPrefix)?;
    let bytes = URL_SAFE_NO_PAD
        .decode(b64)
        .map_err(|_| PublicKeyProblem::NotBase64)?;
    let raw: [u8; 32] = bytes
        .as_slice()
        .try_into()
        .map_err(|_| PublicKeyProblem::Length(bytes.len()))?;
    let key = VerifyingKey::from_bytes(&raw).map_err(|_| PublicKeyProblem::NotAKey)?;
    if key.is_weak() {
        return Err(PublicKeyProblem::NotAKey);
    }
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::SigningKey;

    #[test]
    fn the_public_form_round_trips_and_matches_its_vector() {
        let key = SigningKey::from_bytes(&[7; 32]).verifying_key();
        let text = public_text(&key);
        assert_eq!(
            text,
            "custody-host:6kpsY-KcUgq-9VB7Ey7F-ZVHdq6-vnuSQh7qaRRG0iw"
        );
        assert_eq!(text.len(), "custody-host:".len() + 43);
        assert_eq!(parse_public(&format!("  {text}\n")), Ok(key));
    }

    #[test]
    fn every_bad_form_is_refused_with_its_reason() {
        let good = public_text(&SigningKey::from_bytes(&[7; 32]).verifying_key());
        let b64 = good.strip_prefix("custody-host:").unwrap();
        let cases = [
            (format!("custody-host-key:{b64}"), PublicKeyProblem::Secret),
            (b64.to_owned(), PublicKeyProblem::NoPrefix),
            ("custody-host:***".to_owned(), PublicKeyProblem::NotBase64),
            (format!("{good}="), PublicKeyProblem::NotBase64),
            (
                format!("custody-host:{}", &b64[..40]),
                PublicKeyProblem::Length(30),
            ),
            (
                format!("custody-host:{}", URL_SAFE_NO_PAD.encode([0u8; 32])),
                PublicKeyProblem::NotAKey,
            ),
        ];
        for (text, want) in cases {
            assert_eq!(parse_public(&text), Err(want), "{text}");
        }
    }
}
