//! The master secret and the keys derived from it with HKDF-SHA256: an Ed25519 signing key
//! (signs share tokens, the vault manifest, audit records, drill certificates) and an X25519
//! age identity (opens credentials). Also the spoken fingerprint of the public key.

use std::fmt;
use std::str::FromStr;

use ed25519_dalek::{SigningKey, VerifyingKey};
use hkdf::Hkdf;
use rand_core::{CryptoRng, RngCore};
use sha2::{Digest, Sha256};
use zeroize::{Zeroize, Zeroizing};

use crate::secret::SecretBytes;
use crate::wire;

/// Why a master secret or key could not be made.
#[derive(Debug)]
pub enum KeyError {
    /// The recovered secret's length is outside what custody derives keys from.
    SecretLength {
        /// The secret's length in bytes.
        len: usize,
    },
    /// The age identity could not be formed (an internal error: report it).
    AgeIdentity(String),
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyError::SecretLength { len } => write!(
                f,
                "the master secret is {len} bytes; custody needs an even length from {} to {} bytes",
                wire::MIN_SECRET_LEN,
                wire::MAX_SECRET_LEN
            ),
            KeyError::AgeIdentity(e) => write!(f, "could not form the age identity: {e}"),
        }
    }
}

impl std::error::Error for KeyError {}

/// The master secret, in locked, zeroized memory. It never leaves the process.
pub struct MasterSecret(SecretBytes);

impl MasterSecret {
    /// Take a recovered secret (for example from SLIP-39 combine).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, KeyError> {
        let len = bytes.len();
        if !(wire::MIN_SECRET_LEN..=wire::MAX_SECRET_LEN).contains(&len) || !len.is_multiple_of(2) {
            return Err(KeyError::SecretLength { len });
        }
        Ok(MasterSecret(SecretBytes::copy_from(bytes)))
    }

    /// A fresh 32-byte secret from `rng` (the OS generator in production), optionally mixed with
    /// officer-supplied entropy: `HKDF-Extract(salt = ENTROPY_MIX_SALT, ikm = os || SHA-256(extra))`.
    /// Mixing can only add entropy: the result is at least as unpredictable as the OS bytes.
    pub fn generate<R: RngCore + CryptoRng>(rng: &mut R, officer_entropy: Option<&[u8]>) -> Self {
        let mut os = SecretBytes::zeroed(wire::INIT_SECRET_LEN);
        rng.fill_bytes(os.expose_mut());
        match officer_entropy {
            None => MasterSecret(os),
            Some(extra) => {
                let mut ikm = SecretBytes::zeroed(wire::INIT_SECRET_LEN + 32);
                ikm.expose_mut()[..wire::INIT_SECRET_LEN].copy_from_slice(os.expose());
                let mut h = Sha256::digest(extra);
                ikm.expose_mut()[wire::INIT_SECRET_LEN..].copy_from_slice(&h);
                h.zeroize();
                let (prk, _) = Hkdf::<Sha256>::extract(Some(wire::ENTROPY_MIX_SALT), ikm.expose());
                let mut out = SecretBytes::zeroed(wire::INIT_SECRET_LEN);
                out.expose_mut().copy_from_slice(&prk);
                let mut prk = prk;
                prk.zeroize();
                MasterSecret(out)
            }
        }
    }

    /// The secret bytes, for reading. Do not copy them out of locked memory.
    pub fn expose(&self) -> &[u8] {
        self.0.expose()
    }

    /// The secret's length in bytes (even, 16 to 128).
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the secret has no bytes (never, for a secret made by this type).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether the secret's pages are locked in RAM (kept out of swap); locking can fail
    /// when `RLIMIT_MEMLOCK` is too low, and the secret is still zeroized on drop.
    pub fn is_locked(&self) -> bool {
        self.0.is_locked()
    }

    /// Derive the signing key and age identity.
    pub fn derive(&self) -> Result<DerivedKeys, KeyError> {
        let hk = Hkdf::<Sha256>::new(Some(wire::HKDF_SALT), self.expose());
        let mut seed = SecretBytes::zeroed(32);
        hk.expand(wire::HKDF_INFO_ED25519, seed.expose_mut())
            .expect("32 bytes is a valid HKDF-SHA256 length");
        let seed_arr: &[u8; 32] = seed.expose().try_into().expect("32 bytes");
        let signing = SigningKey::from_bytes(seed_arr);

        let mut x = SecretBytes::zeroed(32);
        hk.expand(wire::HKDF_INFO_AGE, x.expose_mut())
            .expect("32 bytes is a valid HKDF-SHA256 length");
        let age = age_identity(x.expose())?;
        Ok(DerivedKeys { signing, age })
    }
}

impl fmt::Debug for MasterSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MasterSecret(<redacted {} bytes>)", self.len())
    }
}

/// age's identity for 32 X25519 secret bytes, through its `AGE-SECRET-KEY-1…` encoding (the one
/// constructor age offers); every intermediate copy is wiped.
pub fn age_identity(x25519_secret: &[u8]) -> Result<age::x25519::Identity, KeyError> {
    let encoded = age_identity_string(x25519_secret)?;
    age::x25519::Identity::from_str(&encoded).map_err(|e| KeyError::AgeIdentity(e.to_string()))
}

/// The Bech32 `AGE-SECRET-KEY-1…` string for 32 X25519 secret bytes, as the standard `age`
/// tool reads it from an identity file.
pub fn age_identity_string(x25519_secret: &[u8]) -> Result<Zeroizing<String>, KeyError> {
    let hrp =
        bech32::Hrp::parse("age-secret-key-").map_err(|e| KeyError::AgeIdentity(e.to_string()))?;
    let mut s = bech32::encode::<bech32::Bech32>(hrp, x25519_secret)
        .map_err(|e| KeyError::AgeIdentity(e.to_string()))?;
    let upper = Zeroizing::new(s.to_ascii_uppercase());
    s.zeroize();
    Ok(upper)
}

/// Keys derived from the master secret. Both zeroize on drop.
pub struct DerivedKeys {
    signing: SigningKey,
    age: age::x25519::Identity,
}

impl DerivedKeys {
    /// The Ed25519 signing key: signs share tokens, the vault manifest, audit records and
    /// drill certificates.
    pub fn signing_key(&self) -> &SigningKey {
        &self.signing
    }

    /// The X25519 age identity that opens the sealed credentials.
    pub fn age_identity(&self) -> &age::x25519::Identity {
        &self.age
    }

    /// The Ed25519 public key, which the vault file stores and every token embeds.
    pub fn verifying_key(&self) -> VerifyingKey {
        self.signing.verifying_key()
    }

    /// The age recipient (public key) the credentials are sealed to.
    pub fn age_recipient(&self) -> age::x25519::Recipient {
        self.age.to_public()
    }

    /// Both public halves, as the vault file stores them.
    pub fn public(&self) -> PublicKeys {
        PublicKeys {
            ed25519: self.verifying_key(),
            age_recipient: self.age_recipient().to_string(),
        }
    }
}

impl fmt::Debug for DerivedKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DerivedKeys")
            .field("ed25519_public_key", &hex(self.verifying_key().as_bytes()))
            .field("secret", &"<redacted>")
            .finish()
    }
}

/// The public halves: what the vault file stores.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicKeys {
    /// The Ed25519 key that verifies tokens, the manifest, audit records and certificates.
    pub ed25519: VerifyingKey,
    /// The age recipient the credentials are sealed to, in its Bech32 `age1...` text form.
    pub age_recipient: String,
}

impl PublicKeys {
    /// The spoken fingerprint of the Ed25519 key (see [`fingerprint`]).
    pub fn fingerprint(&self) -> String {
        fingerprint(&self.ed25519)
    }
}

/// The spoken fingerprint of an Ed25519 public key: the first 10 bytes of
/// SHA-256(FINGERPRINT_DOMAIN || key), RFC 4648 base32 (A-Z, 2-7), in four groups of four.
pub fn fingerprint(key: &VerifyingKey) -> String {
    let mut h = Sha256::new();
    h.update(wire::FINGERPRINT_DOMAIN);
    h.update(key.as_bytes());
    let digest = h.finalize();
    let b32 = base32(&digest[..wire::FINGERPRINT_BYTES]);
    b32.as_bytes()
        .chunks(4)
        .map(|c| std::str::from_utf8(c).expect("ascii"))
        .collect::<Vec<_>>()
        .join("-")
}

/// RFC 4648 base32 without padding (public data only).
fn base32(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::new();
    let mut acc: u32 = 0;
    let mut bits = 0;
    for &b in bytes {
        acc = (acc << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(ALPHABET[((acc >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(ALPHABET[((acc << (5 - bits)) & 31) as usize] as char);
    }
    out
}

/// Lower-case hex of public bytes.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Parse lower- or upper-case hex of public bytes.
pub fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base32_rfc4648_vectors() {
        assert_eq!(base32(b""), "");
        assert_eq!(base32(b"f"), "MY");
        assert_eq!(base32(b"fo"), "MZXQ");
        assert_eq!(base32(b"foobar"), "MZXW6YTBOI");
    }

    #[test]
    fn hex_round_trip() {
        assert_eq!(hex(&[0, 1, 0xab]), "0001ab");
        assert_eq!(unhex("0001AB").unwrap(), vec![0, 1, 0xab]);
        assert!(unhex("0g").is_none());
        assert!(unhex("abc").is_none());
    }
}
