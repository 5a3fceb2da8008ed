//! The ceremony code: what the host of a remote ceremony shows (as text and as one QR code) so
//! that a custodian elsewhere can seal a share to this session and no other. A versioned byte
//! layout (shares-format.md, "Remote ceremony", "Ceremony code") with an optional signature
//! trailer by an enrolled host's Ed25519 key, and its text form `custody-ceremony:` +
//! base64url.

use std::fmt;
use std::str::FromStr;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};

use super::phrase::ComparisonPhrase;
use crate::wire;

/// Why a ceremony code could not be made or read, one variant per check (in the order of
/// shares-format.md, "Remote ceremony", custodian checks).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeError {
    /// The text does not start with `custody-ceremony:`.
    MissingPrefix,
    /// The text is longer than any ceremony code can be.
    TooLong {
        /// Length of the text, in characters (after surrounding whitespace is removed).
        chars: usize,
    },
    /// The text after the prefix is not unpadded base64url.
    Base64,
    /// The bytes end inside a field.
    Truncated {
        /// The field the bytes end in.
        field: &'static str,
    },
    /// The first four bytes are not `CCER`.
    BadMagic,
    /// A code layout version this build does not know.
    UnsupportedVersion(u8),
    /// Flag bits this build does not know are set.
    UnknownFlags(u8),
    /// The host's X25519 key is of low order (the all-zero key among them): anything sealed
    /// to it could be read by anyone.
    WeakHostKey,
    /// The purpose is empty, longer than 32 bytes, or has a character outside `[a-z0-9-]`.
    BadPurpose,
    /// The signer's key in the trailer is not a valid Ed25519 key.
    BadSignerKey,
    /// Bytes follow the last field.
    TrailingBytes(usize),
    /// The trailer's signature does not verify under the trailer's key.
    BadSignature,
    /// The code's time is up.
    Expired {
        /// When it expired, Unix seconds.
        expires: u64,
        /// The time now, Unix seconds.
        now: u64,
    },
}

impl fmt::Display for CodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const AGAIN: &str = "copy or scan the code again from the host's screen";
        match self {
            CodeError::MissingPrefix => write!(
                f,
                "this is not a ceremony code (it must start with `{}`)",
                wire::REMOTE_CODE_TEXT_PREFIX
            ),
            CodeError::TooLong { chars } => write!(
                f,
                "the ceremony code is {chars} characters, longer than any ceremony code ({} at \
                 most); {AGAIN}",
                wire::MAX_CODE_TEXT_LEN
            ),
            CodeError::Base64 => write!(
                f,
                "the ceremony code is damaged: it is not valid base64url text; {AGAIN}"
            ),
            CodeError::Truncated { field } => write!(
                f,
                "the ceremony code is cut short (it ends inside the {field}); {AGAIN}"
            ),
            CodeError::BadMagic => write!(f, "this is not a custody ceremony code; {AGAIN}"),
            CodeError::UnsupportedVersion(v) => write!(
                f,
                "the ceremony code has layout version {v}, which this version of custody does \
                 not know (it reads version {}); use the same custody version as the host",
                wire::REMOTE_CODE_VERSION
            ),
            CodeError::UnknownFlags(flags) => write!(
                f,
                "the ceremony code sets flags {flags:#04x}, which this version of custody does \
                 not know (it knows {:#04x}); use the same custody version as the host",
                wire::REMOTE_CODE_KNOWN_FLAGS
            ),
            CodeError::WeakHostKey => write!(
                f,
                "the ceremony code's host key is a low-order X25519 key, which anyone could \
                 decrypt for: this code was not made by custody. Do not send a share; tell the host"
            ),
            CodeError::BadPurpose => write!(
                f,
                "the ceremony code's purpose is not an action name (1 to {} characters of a-z, \
                 0-9 and -); {AGAIN}",
                wire::REMOTE_MAX_PURPOSE_LEN
            ),
            CodeError::BadSignerKey => write!(
                f,
                "the ceremony code's signer key is not a valid Ed25519 key; {AGAIN}"
            ),
            CodeError::TrailingBytes(n) => write!(
                f,
                "the ceremony code has {n} unexpected bytes after its last field; {AGAIN}"
            ),
            CodeError::BadSignature => write!(
                f,
                "the ceremony code's signature does not verify: the code was altered after the \
                 host signed it. Do not send a share; tell the host"
            ),
            CodeError::Expired { expires, now } => write!(
                f,
                "the ceremony code expired at {} (it is now {}); ask the host for a new one",
                crate::timefmt::rfc3339(*expires),
                crate::timefmt::rfc3339(*now)
            ),
        }
    }
}

impl std::error::Error for CodeError {}

/// Whether an X25519 public key is of low order (its shared secret with any clamped scalar is
/// all zeros): the 0 and 1 points, the order-8 points, and their non-canonical encodings.
/// Every clamped scalar is a multiple of the cofactor 8, so one multiplication tells.
pub(crate) fn is_low_order(key: &[u8; 32]) -> bool {
    // Any clamped scalar would do; this one is fixed and public.
    const PROBE: [u8; 32] = [0x5a; 32];
    x25519_dalek::x25519(PROBE, *key) == [0u8; 32]
}

/// Whether `purpose` is an action name: 1..=32 bytes of `[a-z0-9-]`.
pub(crate) fn valid_purpose(purpose: &str) -> bool {
    (1..=wire::REMOTE_MAX_PURPOSE_LEN).contains(&purpose.len())
        && purpose
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// A parsed ceremony code: whose session, which host key, which vault and epoch, what for,
/// until when, and, if an enrolled host signed it, the signer (verified).
#[derive(Clone, PartialEq, Eq)]
pub struct CeremonyCode {
    session_id: [u8; wire::REMOTE_SESSION_ID_LEN],
    host_key: [u8; wire::REMOTE_HOST_KEY_LEN],
    vault_id: [u8; wire::VAULT_ID_LEN],
    epoch: u32,
    purpose: String,
    expires: u64,
    signed: Option<(VerifyingKey, Signature)>,
}

impl fmt::Debug for CeremonyCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Nothing in a code is secret; the text form is the most useful rendering.
        write!(f, "CeremonyCode({})", self.to_text())
    }
}

/// Reads fields in wire order, naming the field that runs out.
struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, field: &'static str) -> Result<&'a [u8], CodeError> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.bytes.len());
        let end = end.ok_or(CodeError::Truncated { field })?;
        let s = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    fn array<const N: usize>(&mut self, field: &'static str) -> Result<[u8; N], CodeError> {
        Ok(self.take(N, field)?.try_into().expect("length"))
    }
}

impl CeremonyCode {
    /// An unsigned code. Refuses a low-order host key and a purpose outside `[a-z0-9-]{1,32}`.
    pub fn new(
        session_id: [u8; wire::REMOTE_SESSION_ID_LEN],
        host_key: [u8; wire::REMOTE_HOST_KEY_LEN],
        vault_id: [u8; wire::VAULT_ID_LEN],
        epoch: u32,
        purpose: &str,
        expires: u64,
    ) -> Result<CeremonyCode, CodeError> {
        if is_low_order(&host_key) {
            return Err(CodeError::WeakHostKey);
        }
        if !valid_purpose(purpose) {
            return Err(CodeError::BadPurpose);
        }
        Ok(CeremonyCode {
            session_id,
            host_key,
            vault_id,
            epoch,
            purpose: purpose.to_owned(),
            expires,
            signed: None,
        })
    }

    /// The code's bytes before the trailer, with the flags byte as it will be sent.
    fn body_bytes(&self, flags: u8) -> Vec<u8> {
        let mut b = Vec::with_capacity(wire::REMOTE_MAX_CODE_LEN);
        b.extend_from_slice(&wire::REMOTE_CODE_MAGIC);
        b.push(wire::REMOTE_CODE_VERSION);
        b.push(flags);
        b.extend_from_slice(&self.session_id);
        b.extend_from_slice(&self.host_key);
        b.extend_from_slice(&self.vault_id);
        b.extend_from_slice(&self.epoch.to_be_bytes());
        b.push(self.purpose.len() as u8);
        b.extend_from_slice(self.purpose.as_bytes());
        b.extend_from_slice(&self.expires.to_be_bytes());
        b
    }

    fn signed_message(body: &[u8]) -> Vec<u8> {
        let mut msg = wire::REMOTE_CODE_SIGNATURE_DOMAIN.to_vec();
        msg.extend_from_slice(body);
        msg
    }

    /// Sign the code with an enrolled host's long-term key (replacing any earlier signature):
    /// the trailer carries the key and the signature over
    /// `REMOTE_CODE_SIGNATURE_DOMAIN || the code bytes before the trailer`.
    pub fn sign(&mut self, key: &SigningKey) {
        let body = self.body_bytes(wire::REMOTE_CODE_FLAG_SIGNED);
        let signature = key.sign(&Self::signed_message(&body));
        self.signed = Some((key.verifying_key(), signature));
    }

    /// The code's bytes in wire order, trailer included when signed.
    pub fn to_bytes(&self) -> Vec<u8> {
        match &self.signed {
            None => self.body_bytes(0),
            Some((key, signature)) => {
                let mut b = self.body_bytes(wire::REMOTE_CODE_FLAG_SIGNED);
                b.extend_from_slice(key.as_bytes());
                b.extend_from_slice(&signature.to_bytes());
                b
            }
        }
    }

    /// `custody-ceremony:` followed by unpadded base64url of the bytes.
    pub fn to_text(&self) -> String {
        let mut s = String::from(wire::REMOTE_CODE_TEXT_PREFIX);
        URL_SAFE_NO_PAD.encode_string(self.to_bytes(), &mut s);
        s
    }

    /// Parse the text form; surrounding whitespace is ignored, nothing else is.
    pub fn from_text(text: &str) -> Result<CeremonyCode, CodeError> {
        let text = text.trim();
        // Bound the work before anything else: the longest code's text.
        if text.len() > wire::MAX_CODE_TEXT_LEN {
            return Err(CodeError::TooLong {
                chars: text.chars().count(),
            });
        }
        let body = text
            .strip_prefix(wire::REMOTE_CODE_TEXT_PREFIX)
            .ok_or(CodeError::MissingPrefix)?;
        let bytes = URL_SAFE_NO_PAD
            .decode(body)
            .map_err(|_| CodeError::Base64)?;
        CeremonyCode::from_bytes(&bytes)
    }

    /// Parse bytes in wire order (shares-format.md, "Remote ceremony", custodian checks 3-14).
    pub fn from_bytes(bytes: &[u8]) -> Result<CeremonyCode, CodeError> {
        let mut r = Reader { bytes, pos: 0 };
        // 3. magic
        if r.take(4, "magic")? != wire::REMOTE_CODE_MAGIC {
            return Err(CodeError::BadMagic);
        }
        // 4. version, before anything else is read
        let version = r.take(1, "version")?[0];
        if version != wire::REMOTE_CODE_VERSION {
            return Err(CodeError::UnsupportedVersion(version));
        }
        // 5. flags: only known bits
        let flags = r.take(1, "flags")?[0];
        if flags & !wire::REMOTE_CODE_KNOWN_FLAGS != 0 {
            return Err(CodeError::UnknownFlags(flags));
        }
        // 6. session id
        let session_id = r.array::<{ wire::REMOTE_SESSION_ID_LEN }>("session id")?;
        // 7. host key: not of low order
        let host_key = r.array::<{ wire::REMOTE_HOST_KEY_LEN }>("host key")?;
        if is_low_order(&host_key) {
            return Err(CodeError::WeakHostKey);
        }
        // 8-9. vault id, epoch
        let vault_id = r.array::<{ wire::VAULT_ID_LEN }>("vault id")?;
        let epoch = u32::from_be_bytes(r.array::<4>("epoch")?);
        // 10. purpose
        let len = usize::from(r.take(1, "purpose length")?[0]);
        let raw = r.take(len, "purpose")?;
        let purpose = std::str::from_utf8(raw).map_err(|_| CodeError::BadPurpose)?;
        if !valid_purpose(purpose) {
            return Err(CodeError::BadPurpose);
        }
        // 11. expiry
        let expires = u64::from_be_bytes(r.array::<8>("expiry")?);
        let body_len = r.pos;
        // 12. the trailer, when the flag says so
        let trailer = if flags & wire::REMOTE_CODE_FLAG_SIGNED != 0 {
            let key = r.array::<{ wire::PUBLIC_KEY_LEN }>("signer key")?;
            let key = VerifyingKey::from_bytes(&key).map_err(|_| CodeError::BadSignerKey)?;
            let sig = r.array::<{ wire::SIGNATURE_LEN }>("signature")?;
            Some((key, Signature::from_bytes(&sig)))
        } else {
            None
        };
        // 13. nothing after the last field
        if r.pos != bytes.len() {
            return Err(CodeError::TrailingBytes(bytes.len() - r.pos));
        }
        // 14. the signature over DOMAIN || the bytes before the trailer
        if let Some((key, signature)) = &trailer {
            key.verify_strict(&Self::signed_message(&bytes[..body_len]), signature)
                .map_err(|_| CodeError::BadSignature)?;
        }
        Ok(CeremonyCode {
            session_id,
            host_key,
            vault_id,
            epoch,
            purpose: purpose.to_owned(),
            expires,
            signed: trailer,
        })
    }

    /// Refuse the code once its time is up (`now` later than its expiry).
    pub fn check_fresh(&self, now: u64) -> Result<(), CodeError> {
        if now > self.expires {
            return Err(CodeError::Expired {
                expires: self.expires,
                now,
            });
        }
        Ok(())
    }

    /// The key whose signature over the code verified, if the code is signed. Whether it is an
    /// enrolled host's key is the caller's check (the vault's known hosts).
    pub fn signer(&self) -> Option<VerifyingKey> {
        self.signed.as_ref().map(|(key, _)| *key)
    }

    /// The session's random id.
    pub fn session_id(&self) -> &[u8; wire::REMOTE_SESSION_ID_LEN] {
        &self.session_id
    }

    /// The host's one-time X25519 public key.
    pub fn host_key(&self) -> &[u8; wire::REMOTE_HOST_KEY_LEN] {
        &self.host_key
    }

    /// The vault the ceremony is for.
    pub fn vault_id(&self) -> &[u8; wire::VAULT_ID_LEN] {
        &self.vault_id
    }

    /// The vault epoch whose shares the ceremony takes.
    pub fn epoch(&self) -> u32 {
        self.epoch
    }

    /// The quorum command the shares are for (`drill`, `exec`, ...).
    pub fn purpose(&self) -> &str {
        &self.purpose
    }

    /// When the code stops being accepted, Unix seconds.
    pub fn expires(&self) -> u64 {
        self.expires
    }

    /// The host key as an age recipient (`age1...`), what envelopes are sealed to.
    pub fn recipient(&self) -> age::x25519::Recipient {
        let hrp = bech32::Hrp::parse("age").expect("valid human-readable part");
        let text = bech32::encode::<bech32::Bech32>(hrp, &self.host_key)
            .expect("32 bytes fit a Bech32 string");
        age::x25519::Recipient::from_str(&text).expect("a Bech32 X25519 key is an age recipient")
    }

    /// The words custodian and host read to each other to be sure they hold the same code.
    pub fn phrase(&self) -> ComparisonPhrase {
        ComparisonPhrase::of_code_bytes(&self.to_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> CeremonyCode {
        CeremonyCode::new([1; 16], [9; 32], [7; 16], 3, "drill", 1_800_000_000).unwrap()
    }

    fn signer() -> SigningKey {
        SigningKey::from_bytes(&[0x33; 32])
    }

    #[test]
    fn round_trips_unsigned_and_signed() {
        let c = sample();
        assert_eq!(CeremonyCode::from_text(&c.to_text()).unwrap(), c);
        assert_eq!(c.to_bytes().len(), wire::REMOTE_CODE_FIXED_LEN + 5);
        assert!(c.signer().is_none());
        let mut s = c.clone();
        s.sign(&signer());
        let back = CeremonyCode::from_text(&format!(" {}\n", s.to_text())).unwrap();
        assert_eq!(back.signer(), Some(signer().verifying_key()));
        assert_eq!(back, s);
        assert_eq!(
            s.to_bytes().len(),
            wire::REMOTE_CODE_FIXED_LEN + 5 + wire::PUBLIC_KEY_LEN + wire::SIGNATURE_LEN
        );
        assert_ne!(c.phrase(), s.phrase());
    }

    #[test]
    fn text_rejections() {
        let text = sample().to_text();
        assert_eq!(
            CeremonyCode::from_text(&text[1..]),
            Err(CodeError::MissingPrefix)
        );
        assert_eq!(
            CeremonyCode::from_text(&format!("{text}!")),
            Err(CodeError::Base64)
        );
        let long = format!("{text}{}", "A".repeat(wire::MAX_CODE_TEXT_LEN));
        assert!(matches!(
            CeremonyCode::from_text(&long),
            Err(CodeError::TooLong { .. })
        ));
    }

    #[test]
    fn every_truncation_names_a_field() {
        let mut s = sample();
        s.sign(&signer());
        let bytes = s.to_bytes();
        for n in 0..bytes.len() {
            assert!(
                matches!(
                    CeremonyCode::from_bytes(&bytes[..n]),
                    Err(CodeError::Truncated { .. })
                ),
                "cut at {n}"
            );
        }
    }

    #[test]
    fn field_rejections() {
        let good = sample().to_bytes();
        let with = |i: usize, v: u8| {
            let mut b = good.clone();
            b[i] = v;
            CeremonyCode::from_bytes(&b)
        };
        assert_eq!(with(0, b'X'), Err(CodeError::BadMagic));
        assert_eq!(with(4, 2), Err(CodeError::UnsupportedVersion(2)));
        assert_eq!(with(5, 0x02), Err(CodeError::UnknownFlags(0x02)));
        // flag says signed, no trailer follows
        assert_eq!(
            with(5, 0x01),
            Err(CodeError::Truncated {
                field: "signer key"
            })
        );
        let purpose_at = 4 + 1 + 1 + 16 + 32 + 16 + 4;
        assert_eq!(with(purpose_at + 1, b'D'), Err(CodeError::BadPurpose));
        assert!(matches!(
            with(purpose_at, 0),
            Err(CodeError::BadPurpose | CodeError::Truncated { .. })
        ));
        let mut extra = good.clone();
        extra.push(0);
        assert_eq!(
            CeremonyCode::from_bytes(&extra),
            Err(CodeError::TrailingBytes(1))
        );
    }

    #[test]
    fn empty_purpose_refused() {
        let mut b = sample().to_bytes();
        let at = 4 + 1 + 1 + 16 + 32 + 16 + 4;
        b[at] = 0;
        b.drain(at + 1..at + 6);
        assert_eq!(CeremonyCode::from_bytes(&b), Err(CodeError::BadPurpose));
    }

    #[test]
    fn low_order_host_keys_refused() {
        let mut p_minus_1 = [0xff; 32];
        p_minus_1[0] = 0xec;
        p_minus_1[31] = 0x7f;
        let mut one = [0u8; 32];
        one[0] = 1;
        // p and p + 1 encode 0 and 1 again; the top bit is ignored by X25519.
        let mut p = p_minus_1;
        p[0] = 0xed;
        let mut p_plus_1 = p_minus_1;
        p_plus_1[0] = 0xee;
        let mut zero_high_bit = [0u8; 32];
        zero_high_bit[31] = 0x80;
        for key in [[0u8; 32], one, p_minus_1, p, p_plus_1, zero_high_bit] {
            assert!(is_low_order(&key));
            assert_eq!(
                CeremonyCode::new([1; 16], key, [7; 16], 3, "drill", 0),
                Err(CodeError::WeakHostKey)
            );
            let mut b = sample().to_bytes();
            b[22..54].copy_from_slice(&key);
            assert_eq!(CeremonyCode::from_bytes(&b), Err(CodeError::WeakHostKey));
        }
        assert!(!is_low_order(&[9; 32]));
    }

    #[test]
    fn signature_checks() {
        let mut s = sample();
        s.sign(&signer());
        let good = s.to_bytes();
        // Any changed byte of the signed part or of the signature is refused.
        for i in 0..good.len() {
            let mut b = good.clone();
            b[i] ^= 0x01;
            let r = CeremonyCode::from_bytes(&b);
            assert!(r.is_err(), "byte {i} changed and accepted");
        }
        let mut b = good.clone();
        b[60] ^= 0x80; // vault id
        assert_eq!(CeremonyCode::from_bytes(&b), Err(CodeError::BadSignature));
        // Clearing the flag leaves 96 trailing bytes rather than an unsigned code.
        let mut b = good.clone();
        b[5] = 0;
        assert_eq!(
            CeremonyCode::from_bytes(&b),
            Err(CodeError::TrailingBytes(96))
        );
        // A signer key that is no Ed25519 point.
        let mut b = good.clone();
        let key_at = good.len() - 96;
        b[key_at..key_at + 32].copy_from_slice(&[0xff; 32]);
        assert!(matches!(
            CeremonyCode::from_bytes(&b),
            Err(CodeError::BadSignerKey | CodeError::BadSignature)
        ));
    }

    #[test]
    fn expiry_and_recipient() {
        let c = sample();
        assert!(c.check_fresh(1_800_000_000).is_ok());
        assert_eq!(
            c.check_fresh(1_800_000_001),
            Err(CodeError::Expired {
                expires: 1_800_000_000,
                now: 1_800_000_001
            })
        );
        assert!(c.recipient().to_string().starts_with("age1"));
        assert!(
            CodeError::Expired { expires: 0, now: 1 }
                .to_string()
                .contains("new one")
        );
    }

    #[test]
    fn purposes() {
        for ok in [
            "drill",
            "agent-unlock",
            "rotate-master",
            "a",
            &"x".repeat(32),
        ] {
            assert!(valid_purpose(ok), "{ok}");
        }
        for bad in ["", "Drill", "drill ", "drïll", "a_b", &"x".repeat(33)] {
            assert!(!valid_purpose(bad), "{bad}");
        }
    }
}
