//! The envelope: a custodian's signed share token with the ceremony's particulars, sealed with
//! age to the host's one-time X25519 key and ASCII-armored (shares-format.md, "Remote
//! ceremony", "Envelope"). This file holds the plaintext layout, sealing, and the errors of
//! both sealing and opening ([`super::HostSession::accept`] opens).

use std::fmt;
use std::io::Write as _;

use rand_core::{CryptoRng, RngCore};
use zeroize::Zeroizing;

use super::code::{CeremonyCode, valid_purpose};
use crate::keys::hex;
use crate::token::{Token, TokenError};
use crate::wire;

/// Why an envelope could not be sealed (custodian side) or was refused (host side). The host's
/// checks run in the order of the variants from `TooLong` to `Token`.
#[derive(Debug)]
pub enum EnvelopeError {
    /// Sealing: the code's time is up.
    CodeExpired {
        /// The code's expiry, Unix seconds.
        expires: u64,
        /// The time now, Unix seconds.
        now: u64,
    },
    /// Sealing: the share belongs to another vault than the ceremony's.
    ShareVault {
        /// The share token's vault id (hex).
        share: String,
        /// The ceremony code's vault id (hex).
        code: String,
    },
    /// Sealing: the share is of another epoch than the ceremony's.
    ShareEpoch {
        /// The share token's epoch.
        share: u32,
        /// The ceremony code's epoch.
        code: u32,
    },
    /// Sealing: age could not encrypt (an internal error: report it).
    Seal(String),
    /// The text is longer than any envelope can be.
    TooLong {
        /// Its length in bytes.
        len: usize,
    },
    /// The text is not an ASCII-armored age file.
    NotAnEnvelope,
    /// The envelope was sealed to another X25519 key than this session's.
    NotForThisCeremony,
    /// The envelope's ciphertext does not authenticate: edited, cut short or damaged.
    Damaged,
    /// The decrypted bytes are not an envelope of this layout.
    Layout {
        /// What is wrong, e.g. `bad magic`, or the field the bytes end in.
        problem: String,
    },
    /// The envelope names another session.
    WrongSession {
        /// The envelope's session id (hex).
        envelope: String,
        /// This session's id (hex).
        session: String,
    },
    /// The envelope names another host key.
    WrongHostKey {
        /// The envelope's host key (hex).
        envelope: String,
        /// This session's host key (hex).
        session: String,
    },
    /// The envelope's or the session's time is up.
    Expired {
        /// The expiry, Unix seconds.
        expires: u64,
        /// The time now, Unix seconds.
        now: u64,
    },
    /// This envelope was already accepted in this session (another copy of it).
    AlreadyUsed {
        /// The label of the copy accepted first.
        first: String,
    },
    /// The envelope, or the share in it, is for another vault.
    WrongVault {
        /// The envelope's (or its share's) vault id (hex).
        envelope: String,
        /// This session's vault id (hex).
        session: String,
    },
    /// The envelope, or the share in it, is for another epoch.
    WrongEpoch {
        /// The envelope's (or its share's) epoch.
        envelope: u32,
        /// This session's epoch.
        session: u32,
    },
    /// The envelope was made for another purpose.
    WrongPurpose {
        /// The envelope's purpose.
        envelope: String,
        /// This session's purpose.
        session: String,
    },
    /// The share token inside does not parse or verify.
    Token(TokenError),
}

impl fmt::Display for EnvelopeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use crate::timefmt::rfc3339;
        match self {
            EnvelopeError::CodeExpired { expires, now } => write!(
                f,
                "the ceremony code expired at {} (it is now {}); ask the host for a new one",
                rfc3339(*expires),
                rfc3339(*now)
            ),
            EnvelopeError::ShareVault { share, code } => write!(
                f,
                "the share is for vault {share}, the ceremony for vault {code}: this is not the \
                 ceremony for this share"
            ),
            EnvelopeError::ShareEpoch { share, code } => write!(
                f,
                "the share is of epoch {share}, the ceremony takes shares of epoch {code}: use \
                 your current share, or ask the host which ceremony this is"
            ),
            EnvelopeError::Seal(e) => write!(f, "the envelope could not be sealed: {e}"),
            EnvelopeError::TooLong { len } => write!(
                f,
                "it is {len} bytes, longer than any envelope ({} at most)",
                wire::MAX_ENVELOPE_TEXT_LEN
            ),
            EnvelopeError::NotAnEnvelope => f.write_str(
                "it is not an envelope (an age file in ASCII armor, starting with \
                 -----BEGIN AGE ENCRYPTED FILE-----)",
            ),
            EnvelopeError::NotForThisCeremony => f.write_str(
                "it is sealed to another ceremony key: made for another session, another host, \
                 or for a code swapped in transit (or its key part was damaged)",
            ),
            EnvelopeError::Damaged => f.write_str(
                "it does not authenticate: it was edited or damaged in transit (or cut short)",
            ),
            EnvelopeError::Layout { problem } => write!(
                f,
                "it opened but is not a custody envelope of this version ({problem})"
            ),
            EnvelopeError::WrongSession { envelope, session } => write!(
                f,
                "it is for ceremony session {envelope}, this session is {session}"
            ),
            EnvelopeError::WrongHostKey { envelope, session } => write!(
                f,
                "it names host key {envelope}, this session's key is {session}"
            ),
            EnvelopeError::Expired { expires, now } => write!(
                f,
                "the ceremony expired at {} (it is now {})",
                rfc3339(*expires),
                rfc3339(*now)
            ),
            EnvelopeError::AlreadyUsed { first } => write!(
                f,
                "this envelope was already used in this ceremony (as {first}); each envelope \
                 opens once"
            ),
            EnvelopeError::WrongVault { envelope, session } => write!(
                f,
                "it is for vault {envelope}, this ceremony is for vault {session}"
            ),
            EnvelopeError::WrongEpoch { envelope, session } => write!(
                f,
                "it is for epoch {envelope}, this ceremony takes shares of epoch {session}"
            ),
            EnvelopeError::WrongPurpose { envelope, session } => write!(
                f,
                "it was made for `{envelope}`, this ceremony is for `{session}`"
            ),
            EnvelopeError::Token(e) => write!(f, "the share token inside is refused: {e}"),
        }
    }
}

impl std::error::Error for EnvelopeError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            EnvelopeError::Token(e) => Some(e),
            _ => None,
        }
    }
}

/// An envelope's decrypted contents, fields in wire order; the token kept as bytes (secret)
/// until the host's other checks have passed.
pub struct EnvelopeContents {
    /// Random id: the same envelope opens once per session.
    pub envelope_id: [u8; wire::REMOTE_ENVELOPE_ID_LEN],
    /// The session the envelope was sealed for.
    pub session_id: [u8; wire::REMOTE_SESSION_ID_LEN],
    /// The host key the envelope was sealed to.
    pub host_key: [u8; wire::REMOTE_HOST_KEY_LEN],
    /// The ceremony's vault.
    pub vault_id: [u8; wire::VAULT_ID_LEN],
    /// The ceremony's epoch.
    pub epoch: u32,
    /// The ceremony's purpose.
    pub purpose: String,
    /// The ceremony code's expiry, Unix seconds.
    pub expires: u64,
    /// The signed share token's bytes (secret).
    pub token: Zeroizing<Vec<u8>>,
}

impl fmt::Debug for EnvelopeContents {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EnvelopeContents")
            .field("envelope_id", &hex(&self.envelope_id))
            .field("session_id", &hex(&self.session_id))
            .field("purpose", &self.purpose)
            .field("token", &"<redacted>")
            .finish_non_exhaustive()
    }
}

fn layout(problem: impl Into<String>) -> EnvelopeError {
    EnvelopeError::Layout {
        problem: problem.into(),
    }
}

impl EnvelopeContents {
    /// The contents for `token` under `code`, with the given envelope id.
    pub fn new(
        envelope_id: [u8; wire::REMOTE_ENVELOPE_ID_LEN],
        code: &CeremonyCode,
        token: &Token,
    ) -> EnvelopeContents {
        EnvelopeContents {
            envelope_id,
            session_id: *code.session_id(),
            host_key: *code.host_key(),
            vault_id: *code.vault_id(),
            epoch: code.epoch(),
            purpose: code.purpose().to_owned(),
            expires: code.expires(),
            token: token.to_bytes(),
        }
    }

    /// The plaintext bytes in wire order (secret: they hold the share).
    pub fn to_bytes(&self) -> Zeroizing<Vec<u8>> {
        let mut b = Zeroizing::new(Vec::with_capacity(wire::REMOTE_MAX_ENVELOPE_PLAINTEXT_LEN));
        b.extend_from_slice(&wire::REMOTE_ENVELOPE_MAGIC);
        b.push(wire::REMOTE_ENVELOPE_VERSION);
        b.extend_from_slice(&self.envelope_id);
        b.extend_from_slice(&self.session_id);
        b.extend_from_slice(&self.host_key);
        b.extend_from_slice(&self.vault_id);
        b.extend_from_slice(&self.epoch.to_be_bytes());
        b.push(self.purpose.len() as u8);
        b.extend_from_slice(self.purpose.as_bytes());
        b.extend_from_slice(&self.expires.to_be_bytes());
        b.extend_from_slice(&(self.token.len() as u16).to_be_bytes());
        b.extend_from_slice(&self.token);
        b
    }

    /// Parse plaintext bytes in wire order (host check 5); the token is not parsed yet.
    pub fn from_bytes(bytes: &[u8]) -> Result<EnvelopeContents, EnvelopeError> {
        let mut pos = 0usize;
        let mut take = |n: usize, field: &str| -> Result<&[u8], EnvelopeError> {
            let end = pos.checked_add(n).filter(|&e| e <= bytes.len());
            let end = end.ok_or_else(|| layout(format!("it ends inside the {field}")))?;
            let s = &bytes[pos..end];
            pos = end;
            Ok(s)
        };
        if take(4, "magic")? != wire::REMOTE_ENVELOPE_MAGIC {
            return Err(layout("bad magic"));
        }
        let version = take(1, "version")?[0];
        if version != wire::REMOTE_ENVELOPE_VERSION {
            return Err(layout(format!(
                "layout version {version}, this custody reads {}",
                wire::REMOTE_ENVELOPE_VERSION
            )));
        }
        let envelope_id = take(wire::REMOTE_ENVELOPE_ID_LEN, "envelope id")?
            .try_into()
            .expect("length");
        let session_id = take(wire::REMOTE_SESSION_ID_LEN, "session id")?
            .try_into()
            .expect("length");
        let host_key = take(wire::REMOTE_HOST_KEY_LEN, "host key")?
            .try_into()
            .expect("length");
        let vault_id = take(wire::VAULT_ID_LEN, "vault id")?
            .try_into()
            .expect("length");
        let epoch = u32::from_be_bytes(take(4, "epoch")?.try_into().expect("length"));
        let len = usize::from(take(1, "purpose length")?[0]);
        let purpose = std::str::from_utf8(take(len, "purpose")?)
            .ok()
            .filter(|p| valid_purpose(p))
            .ok_or_else(|| layout("the purpose is not an action name"))?
            .to_owned();
        let expires = u64::from_be_bytes(take(8, "expiry")?.try_into().expect("length"));
        let token_len = usize::from(u16::from_be_bytes(
            take(2, "token length")?.try_into().expect("length"),
        ));
        if token_len > wire::MAX_TOKEN_LEN {
            return Err(layout(format!(
                "a {token_len}-byte token, longer than any share token"
            )));
        }
        let token = Zeroizing::new(take(token_len, "token")?.to_vec());
        if pos != bytes.len() {
            return Err(layout(format!(
                "{} unexpected bytes after the token",
                bytes.len() - pos
            )));
        }
        Ok(EnvelopeContents {
            envelope_id,
            session_id,
            host_key,
            vault_id,
            epoch,
            purpose,
            expires,
            token,
        })
    }
}

/// Whether `token` is a share of the ceremony's vault and epoch (custodian checks 16-17);
/// the errors name both values.
pub fn check_token(code: &CeremonyCode, token: &Token) -> Result<(), EnvelopeError> {
    if token.info.vault_id != *code.vault_id() {
        return Err(EnvelopeError::ShareVault {
            share: hex(&token.info.vault_id),
            code: hex(code.vault_id()),
        });
    }
    if token.info.epoch != code.epoch() {
        return Err(EnvelopeError::ShareEpoch {
            share: token.info.epoch,
            code: code.epoch(),
        });
    }
    Ok(())
}

/// Seal `token` for the ceremony of `code`: checks that the code has not expired at `now` and
/// that the token is of the code's vault and epoch, then encrypts the envelope plaintext (with
/// a random envelope id from `rng`) to the code's host key with age, ASCII-armored
/// (`-----BEGIN AGE ENCRYPTED FILE-----`). The custodian confirms the comparison phrase first.
pub fn seal_envelope<R: RngCore + CryptoRng>(
    rng: &mut R,
    code: &CeremonyCode,
    token: &Token,
    now: u64,
) -> Result<Zeroizing<String>, EnvelopeError> {
    if now > code.expires() {
        return Err(EnvelopeError::CodeExpired {
            expires: code.expires(),
            now,
        });
    }
    check_token(code, token)?;
    let mut envelope_id = [0u8; wire::REMOTE_ENVELOPE_ID_LEN];
    rng.fill_bytes(&mut envelope_id);
    let plaintext = EnvelopeContents::new(envelope_id, code, token).to_bytes();
    let recipient = code.recipient();
    let seal = |e: std::io::Error| EnvelopeError::Seal(e.to_string());
    let encryptor = age::Encryptor::with_recipients(std::iter::once(&recipient as _))
        .map_err(|e| EnvelopeError::Seal(e.to_string()))?;
    let mut out = Vec::with_capacity(2 * plaintext.len() + 512);
    let armor = age::armor::ArmoredWriter::wrap_output(&mut out, age::armor::Format::AsciiArmor)
        .map_err(seal)?;
    let mut w = encryptor.wrap_output(armor).map_err(seal)?;
    w.write_all(&plaintext)
        .and_then(|()| w.finish())
        .and_then(|a| a.finish())
        .map_err(seal)?;
    let text = String::from_utf8(out).map_err(|e| EnvelopeError::Seal(e.to_string()))?;
    Ok(Zeroizing::new(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contents() -> EnvelopeContents {
        EnvelopeContents {
            envelope_id: [1; 16],
            session_id: [2; 16],
            host_key: [3; 32],
            vault_id: [4; 16],
            epoch: 5,
            purpose: "drill".into(),
            expires: 6,
            token: Zeroizing::new(vec![7; 200]),
        }
    }

    #[test]
    fn plaintext_round_trip_and_length() {
        let c = contents();
        let b = c.to_bytes();
        assert_eq!(b.len(), 4 + 1 + 16 + 16 + 32 + 16 + 4 + 1 + 5 + 8 + 2 + 200);
        let back = EnvelopeContents::from_bytes(&b).unwrap();
        assert_eq!(back.to_bytes(), b);
        assert!(!format!("{back:?}").contains("7, 7"));
    }

    #[test]
    fn plaintext_rejections() {
        let b = contents().to_bytes();
        for n in 0..b.len() {
            let e = EnvelopeContents::from_bytes(&b[..n]).unwrap_err();
            assert!(e.to_string().contains("ends inside"), "cut at {n}: {e}");
        }
        let mut bad = b.to_vec();
        bad[0] = b'X';
        assert!(
            EnvelopeContents::from_bytes(&bad)
                .unwrap_err()
                .to_string()
                .contains("bad magic")
        );
        let mut bad = b.to_vec();
        bad[4] = 2;
        assert!(
            EnvelopeContents::from_bytes(&bad)
                .unwrap_err()
                .to_string()
                .contains("version 2")
        );
        let mut bad = b.to_vec();
        bad[90] = b'D'; // first purpose letter
        assert!(
            EnvelopeContents::from_bytes(&bad)
                .unwrap_err()
                .to_string()
                .contains("purpose")
        );
        let mut bad = b.to_vec();
        bad.push(0);
        assert!(
            EnvelopeContents::from_bytes(&bad)
                .unwrap_err()
                .to_string()
                .contains("1 unexpected")
        );
        let mut c = contents();
        c.token = Zeroizing::new(vec![0; wire::MAX_TOKEN_LEN + 1]);
        assert!(
            EnvelopeContents::from_bytes(&c.to_bytes())
                .unwrap_err()
                .to_string()
                .contains("longer than any share token")
        );
    }
}
