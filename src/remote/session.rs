//! The host's side of a remote ceremony: a one-time X25519 key, the ceremony code that names
//! it, and the ordered checks every envelope passes before its share joins the quorum
//! (shares-format.md, "Remote ceremony", host checks). The key is erased when the session ends.

use std::fmt;

use ed25519_dalek::SigningKey;
use rand_core::{CryptoRng, RngCore};
use zeroize::Zeroizing;

use super::code::{CeremonyCode, CodeError};
use super::envelope::{EnvelopeContents, EnvelopeError};
use super::phrase::ComparisonPhrase;
use crate::input::{Presented, Source};
use crate::keys::hex;
use crate::token::Token;
use crate::wire;

/// An envelope accepted in this session, for the audit record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Contribution {
    /// The label the envelope was given (a file name, `pasted envelope 2`, ...).
    pub label: String,
    /// The envelope's random id, 32 hex digits.
    pub envelope_id_hex: String,
    /// When it was accepted, Unix seconds.
    pub received_at: u64,
}

/// A remote ceremony held by this machine: open it, show its code and phrase, accept
/// envelopes, then drop or [`HostSession::close`] it, which erases the key.
pub struct HostSession {
    code: CeremonyCode,
    /// The one-time X25519 secret, inside age's identity type (an x25519-dalek
    /// `StaticSecret`, zeroized when dropped).
    identity: age::x25519::Identity,
    accepted: Vec<Contribution>,
}

impl fmt::Debug for HostSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HostSession")
            .field("code", &self.code)
            .field("identity", &"<redacted>")
            .field("accepted", &self.accepted.len())
            .finish()
    }
}

impl HostSession {
    /// Open a session for `purpose` on vault `vault_id` at `epoch`: a fresh X25519 key and
    /// session id from `rng`, valid until `now + lifetime_secs`; the code is signed when an
    /// enrolled host's `signer` key is given.
    pub fn open<R: RngCore + CryptoRng>(
        rng: &mut R,
        vault_id: [u8; wire::VAULT_ID_LEN],
        epoch: u32,
        purpose: &str,
        now: u64,
        lifetime_secs: u64,
        signer: Option<&SigningKey>,
    ) -> Result<Self, CodeError> {
        let mut session_id = [0u8; wire::REMOTE_SESSION_ID_LEN];
        rng.fill_bytes(&mut session_id);
        let secret = x25519_dalek::StaticSecret::random_from_rng(&mut *rng);
        let host_key = x25519_dalek::PublicKey::from(&secret).to_bytes();
        let identity = crate::keys::age_identity(Zeroizing::new(secret.to_bytes()).as_slice())
            .expect("32 bytes always form an age identity");
        drop(secret);
        let mut code = CeremonyCode::new(
            session_id,
            host_key,
            vault_id,
            epoch,
            purpose,
            now.saturating_add(lifetime_secs),
        )?;
        if let Some(key) = signer {
            code.sign(key);
        }
        Ok(HostSession {
            code,
            identity,
            accepted: Vec::new(),
        })
    }

    /// The code to show the custodians (text and QR code).
    pub fn code(&self) -> &CeremonyCode {
        &self.code
    }

    /// The phrase to read out to each custodian.
    pub fn phrase(&self) -> ComparisonPhrase {
        self.code.phrase()
    }

    /// When the session stops accepting envelopes, Unix seconds.
    pub fn expires(&self) -> u64 {
        self.code.expires()
    }

    /// The envelopes accepted so far, in order.
    pub fn contributions(&self) -> &[Contribution] {
        &self.accepted
    }

    /// Open an envelope given as `text` (labelled `label` in messages and records) and check it,
    /// in this order: size; age armor; sealed to this session's key; authentic; plaintext
    /// layout; session id; host key; not expired at `now`; not already accepted; vault id;
    /// epoch; purpose; the share token (parsed and verified under its own key). The share is
    /// returned for the same checks as a share presented in person.
    pub fn accept(
        &mut self,
        label: &str,
        text: &str,
        now: u64,
    ) -> Result<Presented, EnvelopeError> {
        // 1. size
        if text.len() > wire::MAX_ENVELOPE_TEXT_LEN {
            return Err(EnvelopeError::TooLong { len: text.len() });
        }
        // 2. an age file in ASCII armor
        let armored = text.trim();
        if !super::envelope_file::looks_like_envelope(armored) {
            return Err(EnvelopeError::NotAnEnvelope);
        }
        // 3-4. sealed to this session's key, and authentic
        let plaintext = self.decrypt(armored.as_bytes())?;
        // 5. layout
        let contents = EnvelopeContents::from_bytes(&plaintext)?;
        drop(plaintext);
        let code = &self.code;
        // 6. session id
        if contents.session_id != *code.session_id() {
            return Err(EnvelopeError::WrongSession {
                envelope: hex(&contents.session_id),
                session: hex(code.session_id()),
            });
        }
        // 7. host key
        if contents.host_key != *code.host_key() {
            return Err(EnvelopeError::WrongHostKey {
                envelope: hex(&contents.host_key),
                session: hex(code.host_key()),
            });
        }
        // 8. not expired: by the session's clock and by the envelope's own word
        let expires = code.expires().min(contents.expires);
        if now > expires {
            return Err(EnvelopeError::Expired { expires, now });
        }
        // 9. each envelope opens once
        let envelope_id_hex = hex(&contents.envelope_id);
        if let Some(first) = self
            .accepted
            .iter()
            .find(|c| c.envelope_id_hex == envelope_id_hex)
        {
            return Err(EnvelopeError::AlreadyUsed {
                first: first.label.clone(),
            });
        }
        // 10. vault id
        if contents.vault_id != *code.vault_id() {
            return Err(EnvelopeError::WrongVault {
                envelope: hex(&contents.vault_id),
                session: hex(code.vault_id()),
            });
        }
        // 11. epoch
        if contents.epoch != code.epoch() {
            return Err(EnvelopeError::WrongEpoch {
                envelope: contents.epoch,
                session: code.epoch(),
            });
        }
        // 12. purpose
        if contents.purpose != code.purpose() {
            return Err(EnvelopeError::WrongPurpose {
                envelope: contents.purpose.clone(),
                session: code.purpose().to_owned(),
            });
        }
        // 13. the token, verified under its own key, of this vault and epoch too
        let token = Token::from_bytes(&contents.token).map_err(EnvelopeError::Token)?;
        if token.info.vault_id != *code.vault_id() {
            return Err(EnvelopeError::WrongVault {
                envelope: hex(&token.info.vault_id),
                session: hex(code.vault_id()),
            });
        }
        if token.info.epoch != code.epoch() {
            return Err(EnvelopeError::WrongEpoch {
                envelope: token.info.epoch,
                session: code.epoch(),
            });
        }
        self.accepted.push(Contribution {
            label: label.to_owned(),
            envelope_id_hex,
            received_at: now,
        });
        Ok(Presented {
            label: label.to_owned(),
            source: Source::Envelope,
            share: token.share.clone(),
            token: Some(token),
        })
    }

    fn decrypt(&self, armored: &[u8]) -> Result<Zeroizing<Vec<u8>>, EnvelopeError> {
        use age::DecryptError as D;
        use std::io::Read as _;
        let classify = |e: D| match e {
            D::NoMatchingKeys => EnvelopeError::NotForThisCeremony,
            _ => EnvelopeError::Damaged,
        };
        let decryptor = age::Decryptor::new_buffered(age::armor::ArmoredReader::new(armored))
            .map_err(classify)?;
        let mut reader = decryptor
            .decrypt(std::iter::once(&self.identity as &dyn age::Identity))
            .map_err(classify)?;
        let mut out = Zeroizing::new(Vec::with_capacity(wire::REMOTE_MAX_ENVELOPE_PLAINTEXT_LEN));
        // Read at most one byte more than any envelope holds: a longer plaintext is refused
        // without being read whole.
        let cap = wire::REMOTE_MAX_ENVELOPE_PLAINTEXT_LEN as u64 + 1;
        (&mut reader)
            .take(cap)
            .read_to_end(&mut out)
            .map_err(|_| EnvelopeError::Damaged)?;
        if out.len() as u64 == cap {
            return Err(EnvelopeError::Layout {
                problem: "longer than any envelope".into(),
            });
        }
        Ok(out)
    }

    /// End the session: the key is erased (as on drop).
    pub fn close(self) {
        drop(self);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    #[test]
    fn open_makes_a_code_for_this_key() {
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let s = HostSession::open(&mut rng, [7; 16], 2, "exec", 100, 60, None).unwrap();
        assert_eq!(s.expires(), 160);
        assert_eq!(s.code().purpose(), "exec");
        assert_eq!(
            s.code().recipient().to_string(),
            s.identity.to_public().to_string()
        );
        assert!(s.contributions().is_empty());
        assert!(!format!("{s:?}").contains("AGE-SECRET"));
        let key = SigningKey::from_bytes(&[5; 32]);
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let signed = HostSession::open(&mut rng, [7; 16], 2, "exec", 100, 60, Some(&key)).unwrap();
        assert_eq!(signed.code().signer(), Some(key.verifying_key()));
        assert_eq!(signed.code().host_key(), s.code().host_key());
        assert!(matches!(
            HostSession::open(&mut rng, [7; 16], 2, "Exec", 100, 60, None),
            Err(CodeError::BadPurpose)
        ));
    }

    #[test]
    fn refuses_non_envelopes_before_decrypting() {
        let mut rng = ChaCha20Rng::seed_from_u64(2);
        let mut s = HostSession::open(&mut rng, [7; 16], 2, "exec", 100, 60, None).unwrap();
        assert!(matches!(
            s.accept("x", &"A".repeat(wire::MAX_ENVELOPE_TEXT_LEN + 1), 100),
            Err(EnvelopeError::TooLong { .. })
        ));
        assert!(matches!(
            s.accept("x", "custody-share:AAAA", 100),
            Err(EnvelopeError::NotAnEnvelope)
        ));
        assert!(matches!(
            s.accept(
                "x",
                "-----BEGIN AGE ENCRYPTED FILE-----\nnonsense\n-----END AGE ENCRYPTED FILE-----\n",
                100
            ),
            Err(EnvelopeError::Damaged)
        ));
    }
}
