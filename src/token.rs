//! The signed share token: what a sheet's QR code carries and what a share file's `token:` line
//! holds. A hand-written, versioned byte layout (see `shares-format.md`, "Share token"),
//! signed with the vault's Ed25519 key, and its text form `custody-share:` + base64url.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use zeroize::Zeroizing;

use crate::slip39::{Share, Slip39Error};
use crate::wire;

/// Why a token could not be read. Every variant says what to do next.
#[derive(Debug)]
pub enum TokenError {
    /// The text does not start with `custody-share:`.
    MissingPrefix,
    /// The text after the prefix is not base64url.
    Base64,
    /// The bytes end inside a field.
    Truncated {
        /// The field the bytes end in, e.g. `epoch` or `custodian name`.
        field: &'static str,
    },
    /// The first four bytes are not `CUST`.
    BadMagic,
    /// A token version this build does not know.
    UnsupportedVersion(u8),
    /// A name is empty, longer than 64 bytes, not UTF-8, or contains control characters.
    BadName {
        /// Which name: `custodian name` or `group name`.
        field: &'static str,
    },
    /// The SLIP-39 word count is outside 20..=59.
    WordCount(usize),
    /// The unused bits after the packed words are not zero.
    NonZeroPadding,
    /// Bytes follow the signature.
    TrailingBytes(usize),
    /// The text is longer than any token can be.
    TooLong {
        /// Length of the text after the `custody-share:` prefix, in characters.
        chars: usize,
    },
    /// The embedded SLIP-39 share is invalid.
    Share(Slip39Error),
    /// The embedded public key is not a valid Ed25519 point.
    BadPublicKey,
    /// The signature does not verify under the embedded public key.
    BadSignature,
}

impl fmt::Display for TokenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const RETYPE: &str = "rescan the QR code, or use the sheet's words instead of the token";
        match self {
            TokenError::MissingPrefix => write!(
                f,
                "this is not a custody share token (it must start with `{}`)",
                wire::TOKEN_TEXT_PREFIX
            ),
            TokenError::Base64 => write!(
                f,
                "the token is damaged: it is not valid base64url text; {RETYPE}"
            ),
            TokenError::Truncated { field } => {
                write!(
                    f,
                    "the token is cut short (it ends inside the {field}); {RETYPE}"
                )
            }
            TokenError::BadMagic => write!(f, "the token is not a custody share token; {RETYPE}"),
            TokenError::UnsupportedVersion(v) => write!(
                f,
                "the token has layout version {v}, which this version of custody does not know \
                 (it reads version {}); use a newer custody, or the sheet's SLIP-39 words",
                wire::TOKEN_VERSION
            ),
            TokenError::BadName { field } => {
                write!(f, "the token's {field} is not a valid name; {RETYPE}")
            }
            TokenError::WordCount(n) => write!(
                f,
                "the token holds {n} SLIP-39 words; a share has {} to {}; {RETYPE}",
                wire::MIN_TOKEN_WORDS,
                wire::MAX_TOKEN_WORDS
            ),
            TokenError::NonZeroPadding => {
                write!(f, "the token is damaged (non-zero padding bits); {RETYPE}")
            }
            TokenError::TrailingBytes(n) => {
                write!(
                    f,
                    "the token has {n} unexpected bytes after its signature; {RETYPE}"
                )
            }
            TokenError::TooLong { chars } => write!(
                f,
                "the token text is {chars} characters, longer than any share token; {RETYPE}"
            ),
            TokenError::Share(e) => write!(f, "the token's SLIP-39 share is invalid: {e}"),
            TokenError::BadPublicKey => {
                write!(
                    f,
                    "the token's public key is not a valid Ed25519 key; {RETYPE}"
                )
            }
            TokenError::BadSignature => write!(
                f,
                "the token's signature does not verify: the token was altered or forged. \
                 Do not use this share; compare the sheet with the custodian's original"
            ),
        }
    }
}

impl std::error::Error for TokenError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            TokenError::Share(e) => Some(e),
            _ => None,
        }
    }
}

/// Who holds a share and where it belongs: the signed fields beside the share itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenInfo {
    /// The 16-byte identifier of the vault the share belongs to.
    pub vault_id: [u8; wire::VAULT_ID_LEN],
    /// The vault epoch the share was made in (a reshare or master rotation starts a new one).
    pub epoch: u32,
    /// Creation time, Unix seconds UTC.
    pub created: u64,
    /// Name of the custodian who holds the share (1 to 64 UTF-8 bytes).
    pub custodian: String,
    /// Name of the custodian's group in the vault's policy (1 to 64 UTF-8 bytes).
    pub group: String,
}

/// A parsed token whose signature verified under its own embedded public key. Whether that key
/// is the vault's is the caller's check.
#[derive(Clone, Debug)]
pub struct Token {
    /// The signed fields beside the share: vault, epoch, creation time, names.
    pub info: TokenInfo,
    /// The SLIP-39 share the token carries (secret).
    pub share: Share,
    /// The embedded Ed25519 key the signature verified under; compare it with the vault's.
    pub public_key: VerifyingKey,
    signature: Signature,
}

fn check_name(field: &'static str, name: &str) -> Result<(), TokenError> {
    if name.is_empty() || name.len() > wire::MAX_NAME_LEN || name.chars().any(char::is_control) {
        return Err(TokenError::BadName { field });
    }
    Ok(())
}

/// Pack 10-bit word indices big-endian, zero-padded to a byte boundary.
fn pack_words(indices: &[u16]) -> Zeroizing<Vec<u8>> {
    let mut out = Zeroizing::new(Vec::with_capacity((indices.len() * 10).div_ceil(8)));
    let mut acc: u32 = 0;
    let mut bits = 0;
    for &w in indices {
        acc = (acc << 10) | u32::from(w & 0x3ff);
        bits += 10;
        while bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
        acc &= (1 << bits) - 1;
    }
    if bits > 0 {
        out.push((acc << (8 - bits)) as u8);
    }
    out
}

fn unpack_words(bytes: &[u8], count: usize) -> Result<Zeroizing<Vec<u16>>, TokenError> {
    let mut out = Zeroizing::new(Vec::with_capacity(count));
    let mut acc: u32 = 0;
    let mut bits = 0;
    for &b in bytes {
        acc = (acc << 8) | u32::from(b);
        bits += 8;
        if bits >= 10 && out.len() < count {
            bits -= 10;
            out.push(((acc >> bits) & 0x3ff) as u16);
            acc &= (1 << bits) - 1;
        }
    }
    if out.len() != count || acc != 0 {
        return Err(TokenError::NonZeroPadding);
    }
    Ok(out)
}

/// Reads fields in wire order, naming the field that runs out.
struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, field: &'static str) -> Result<&'a [u8], TokenError> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.bytes.len());
        let end = end.ok_or(TokenError::Truncated { field })?;
        let s = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    fn u8(&mut self, field: &'static str) -> Result<u8, TokenError> {
        Ok(self.take(1, field)?[0])
    }

    fn name(&mut self, field: &'static str) -> Result<String, TokenError> {
        let len = usize::from(self.u8(field)?);
        let raw = self.take(len, field)?;
        let s = std::str::from_utf8(raw).map_err(|_| TokenError::BadName { field })?;
        check_name(field, s)?;
        Ok(s.to_owned())
    }
}

impl Token {
    /// Build and sign a token. Names must be 1..=64 bytes without control characters.
    pub fn sign(info: TokenInfo, share: Share, key: &SigningKey) -> Result<Token, TokenError> {
        check_name("custodian name", &info.custodian)?;
        check_name("group name", &info.group)?;
        let public_key = key.verifying_key();
        let mut t = Token {
            info,
            share,
            public_key,
            signature: Signature::from_bytes(&[0u8; 64]),
        };
        let body = t.body_bytes();
        let mut msg = Zeroizing::new(wire::TOKEN_SIGNATURE_DOMAIN.to_vec());
        msg.extend_from_slice(&body);
        t.signature = key.sign(&msg);
        Ok(t)
    }

    /// Everything before the signature, in wire order.
    fn body_bytes(&self) -> Zeroizing<Vec<u8>> {
        let mut b = Zeroizing::new(Vec::with_capacity(wire::MAX_TOKEN_LEN));
        b.extend_from_slice(&wire::TOKEN_MAGIC);
        b.push(wire::TOKEN_VERSION);
        b.extend_from_slice(&self.info.vault_id);
        b.extend_from_slice(&self.info.epoch.to_be_bytes());
        b.extend_from_slice(&self.info.created.to_be_bytes());
        for name in [&self.info.custodian, &self.info.group] {
            b.push(name.len() as u8);
            b.extend_from_slice(name.as_bytes());
        }
        let indices = self.share.to_indices();
        b.push(indices.len() as u8);
        b.extend_from_slice(&pack_words(&indices));
        b.extend_from_slice(self.public_key.as_bytes());
        b
    }

    /// The token's bytes (secret: they contain the share).
    pub fn to_bytes(&self) -> Zeroizing<Vec<u8>> {
        let mut b = self.body_bytes();
        b.extend_from_slice(&self.signature.to_bytes());
        b
    }

    /// `custody-share:` followed by unpadded base64url of the bytes.
    pub fn to_text(&self) -> Zeroizing<String> {
        let mut s = Zeroizing::new(String::from(wire::TOKEN_TEXT_PREFIX));
        URL_SAFE_NO_PAD.encode_string(self.to_bytes().as_slice(), &mut s);
        s
    }

    /// Parse text form; surrounding whitespace is ignored.
    pub fn from_text(text: &str) -> Result<Token, TokenError> {
        let body = text
            .trim()
            .strip_prefix(wire::TOKEN_TEXT_PREFIX)
            .ok_or(TokenError::MissingPrefix)?;
        // Bound the work before decoding: base64 of the longest token.
        if body.len() > (wire::MAX_TOKEN_LEN * 4).div_ceil(3) {
            return Err(TokenError::TooLong { chars: body.len() });
        }
        let bytes = Zeroizing::new(
            URL_SAFE_NO_PAD
                .decode(body)
                .map_err(|_| TokenError::Base64)?,
        );
        Token::from_bytes(&bytes)
    }

    /// Parse bytes in wire order (shares-format.md, "Share token", checks 1-11).
    pub fn from_bytes(bytes: &[u8]) -> Result<Token, TokenError> {
        let mut r = Reader { bytes, pos: 0 };
        // 1. magic
        if r.take(4, "magic")? != wire::TOKEN_MAGIC {
            return Err(TokenError::BadMagic);
        }
        // 2. version: an unknown version is its own error, before anything else is read.
        let version = r.u8("version")?;
        if version != wire::TOKEN_VERSION {
            return Err(TokenError::UnsupportedVersion(version));
        }
        // 3-5. vault id, epoch, creation time
        let vault_id: [u8; wire::VAULT_ID_LEN] = r
            .take(wire::VAULT_ID_LEN, "vault id")?
            .try_into()
            .expect("length");
        let epoch = u32::from_be_bytes(r.take(4, "epoch")?.try_into().expect("length"));
        let created = u64::from_be_bytes(r.take(8, "creation time")?.try_into().expect("length"));
        // 6-7. names
        let custodian = r.name("custodian name")?;
        let group = r.name("group name")?;
        // 8. SLIP-39 words
        let count = usize::from(r.u8("word count")?);
        if !(wire::MIN_TOKEN_WORDS..=wire::MAX_TOKEN_WORDS).contains(&count) {
            return Err(TokenError::WordCount(count));
        }
        let packed = r.take((count * 10).div_ceil(8), "SLIP-39 words")?;
        let indices = unpack_words(packed, count)?;
        let share = Share::from_indices(&indices).map_err(TokenError::Share)?;
        // 9. public key and signature
        let pk_bytes: [u8; 32] = r.take(32, "public key")?.try_into().expect("length");
        let public_key =
            VerifyingKey::from_bytes(&pk_bytes).map_err(|_| TokenError::BadPublicKey)?;
        let signed_len = r.pos;
        let sig_bytes: [u8; 64] = r.take(64, "signature")?.try_into().expect("length");
        // 10. nothing after the signature
        if r.pos != bytes.len() {
            return Err(TokenError::TrailingBytes(bytes.len() - r.pos));
        }
        // 11. the signature over DOMAIN || everything before it
        let signature = Signature::from_bytes(&sig_bytes);
        let mut msg = Zeroizing::new(wire::TOKEN_SIGNATURE_DOMAIN.to_vec());
        msg.extend_from_slice(&bytes[..signed_len]);
        public_key
            .verify_strict(&msg, &signature)
            .map_err(|_| TokenError::BadSignature)?;
        Ok(Token {
            info: TokenInfo {
                vault_id,
                epoch,
                created,
                custodian,
                group,
            },
            share,
            public_key,
            signature,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pack_unpack_round_trip() {
        let words: Vec<u16> = (0..33).map(|i| (i * 31 + 7) as u16 % 1024).collect();
        let packed = pack_words(&words);
        assert_eq!(packed.len(), (33 * 10usize).div_ceil(8));
        assert_eq!(
            unpack_words(&packed, 33).unwrap().as_slice(),
            words.as_slice()
        );
    }

    #[test]
    fn unpack_rejects_padding_bits() {
        let words = vec![1023u16; 21]; // 210 bits -> 27 bytes, 6 padding bits
        let mut packed = pack_words(&words);
        let last = packed.len() - 1;
        packed[last] |= 1;
        assert!(matches!(
            unpack_words(&packed, 21),
            Err(TokenError::NonZeroPadding)
        ));
    }
}
