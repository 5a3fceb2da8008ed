//! Sealing a credential's secret fields to the vault's age recipient and opening them with the
//! quorum's age identity. The sealed plaintext repeats the entry's identity (vault id, name,
//! exchange, account, scope); opening checks it against the entry's metadata so that a
//! ciphertext moved from one entry to another is refused (shares-format.md, "Sealed plaintext").

use std::fmt;
use std::io::Write;

use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use super::credential::{Credential, FieldName, Scope, required_fields};
use crate::keys::hex;
use crate::wire;

/// The secret fields of one credential. Zeroized on drop; never printed by `Debug`.
#[derive(Default, Clone, Zeroize, ZeroizeOnDrop, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretFields {
    /// The exchange's API key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key: Option<String>,
    /// The API secret that signs requests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_secret: Option<String>,
    /// The API passphrase (also read from the JSON key `password`).
    #[serde(default, alias = "password", skip_serializing_if = "Option::is_none")]
    pub passphrase: Option<String>,
    /// The account's user id on the exchange.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    /// A PEM-encoded private key (also read from the JSON key `private_key`).
    #[serde(
        default,
        alias = "private_key",
        skip_serializing_if = "Option::is_none"
    )]
    pub private_key_pem: Option<String>,
}

impl fmt::Debug for SecretFields {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.present().iter().map(|n| n.as_str()).collect();
        write!(f, "SecretFields(<redacted: {}>)", names.join(", "))
    }
}

/// Why secret fields could not be taken, sealed or opened. Messages never contain secrets.
#[derive(Debug, PartialEq, Eq)]
pub enum SealError {
    /// The input JSON is not an object of known string fields (position only, never content).
    Input(String),
    /// A field the exchange needs is missing.
    MissingField {
        /// The credential's exchange.
        exchange: String,
        /// The missing field, or its alternatives joined by ` or `.
        needs: String,
    },
    /// The vault's age recipient is unusable (the vault file is damaged).
    Recipient(String),
    /// Serialising the sealed plaintext or age encryption failed (the library's message).
    Encrypt(String),
    /// The secret fields (or the JSON giving them) are larger than any credential's can be.
    TooLarge {
        /// Their size in bytes.
        len: u64,
        /// The cap, [`wire::MAX_SECRET_FIELDS_BYTES`].
        limit: u64,
    },
    /// The ciphertext does not open with this vault's identity.
    Decrypt {
        /// The credential's name.
        name: String,
    },
    /// It opened but is not a custody sealed credential.
    Plaintext {
        /// The credential's name.
        name: String,
    },
    /// It opened, but names a different entry: the ciphertext was moved.
    Moved {
        /// The credential's name.
        name: String,
        /// What differs: `vault id`, `name`, `exchange`, `account`, `scope` or `field list`.
        what: &'static str,
    },
}

impl fmt::Display for SealError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SealError::Input(e) => write!(
                f,
                "the secret fields must be one JSON object such as \
                 {{\"api_key\":\"…\",\"api_secret\":\"…\",\"passphrase\":\"…\"}} with string values \
                 (keys: api_key, api_secret, passphrase, uid, private_key_pem): {e}"
            ),
            SealError::MissingField { exchange, needs } => write!(
                f,
                "a {exchange} credential needs {needs}; give it in the JSON or at the prompt"
            ),
            SealError::Recipient(e) => write!(
                f,
                "the vault's age recipient cannot be used ({e}); restore the vault from its backup"
            ),
            SealError::Encrypt(e) => write!(f, "sealing failed: {e}"),
            SealError::TooLarge { len, limit } => write!(
                f,
                "the secret fields are {len} bytes, more than the {} KiB a credential's secret \
                 fields may hold together; nothing was written",
                limit / 1024
            ),
            SealError::Decrypt { name } => write!(
                f,
                "credential `{name}` does not open with this vault's key: its ciphertext was \
                 replaced or damaged outside custody. Restore the vault from its backup (the \
                 `.bak` file beside it) or rotate the credential"
            ),
            SealError::Plaintext { name } => write!(
                f,
                "credential `{name}` opens but is not a custody credential: it was replaced \
                 outside custody; rotate the credential"
            ),
            SealError::Moved { name, what } => write!(
                f,
                "credential `{name}`: ciphertext moved between entries (the sealed {what} differs \
                 from the entry's). Restore the vault from its backup (the `.bak` file beside it) \
                 or rotate the credential"
            ),
        }
    }
}

impl std::error::Error for SealError {}

impl SecretFields {
    /// Parse `{"api_key": "...", ...}` of at most [`wire::MAX_SECRET_FIELDS_BYTES`]. Errors
    /// give only the position, never the content.
    pub fn from_json(bytes: &[u8]) -> Result<SecretFields, SealError> {
        if bytes.len() as u64 > wire::MAX_SECRET_FIELDS_BYTES {
            return Err(SealError::TooLarge {
                len: bytes.len() as u64,
                limit: wire::MAX_SECRET_FIELDS_BYTES,
            });
        }
        let f: SecretFields = serde_json::from_slice(bytes).map_err(|e| {
            SealError::Input(format!(
                "{:?} error at line {} column {}",
                e.classify(),
                e.line(),
                e.column()
            ))
        })?;
        if f.present().is_empty() {
            return Err(SealError::Input("no field given".into()));
        }
        for n in FieldName::ALL {
            if f.get(n).is_some_and(str::is_empty) {
                return Err(SealError::Input(format!("`{}` is empty", n.as_str())));
            }
        }
        Ok(f)
    }

    /// The value of field `n`, if present.
    pub fn get(&self, n: FieldName) -> Option<&str> {
        match n {
            FieldName::ApiKey => self.api_key.as_deref(),
            FieldName::ApiSecret => self.api_secret.as_deref(),
            FieldName::Passphrase => self.passphrase.as_deref(),
            FieldName::Uid => self.uid.as_deref(),
            FieldName::PrivateKeyPem => self.private_key_pem.as_deref(),
        }
    }

    /// Set field `n` to `v`, zeroizing any value it replaces.
    pub fn set(&mut self, n: FieldName, v: String) {
        let slot = match n {
            FieldName::ApiKey => &mut self.api_key,
            FieldName::ApiSecret => &mut self.api_secret,
            FieldName::Passphrase => &mut self.passphrase,
            FieldName::Uid => &mut self.uid,
            FieldName::PrivateKeyPem => &mut self.private_key_pem,
        };
        if let Some(old) = slot.as_mut() {
            old.zeroize();
        }
        *slot = Some(v);
    }

    /// The fields present, in canonical order.
    pub fn present(&self) -> Vec<FieldName> {
        FieldName::ALL
            .into_iter()
            .filter(|&n| self.get(n).is_some())
            .collect()
    }

    /// Check that the fields together hold at most [`wire::MAX_SECRET_FIELDS_BYTES`] and that
    /// the exchange's required fields are present (before a new secret is sealed).
    pub fn check_for(&self, exchange: &str) -> Result<(), SealError> {
        let len: u64 = FieldName::ALL
            .iter()
            .map(|&n| self.get(n).map_or(0, |v| v.len() as u64))
            .sum();
        if len > wire::MAX_SECRET_FIELDS_BYTES {
            return Err(SealError::TooLarge {
                len,
                limit: wire::MAX_SECRET_FIELDS_BYTES,
            });
        }
        for alternatives in required_fields(exchange) {
            if !alternatives.iter().any(|&n| self.get(n).is_some()) {
                let names: Vec<&str> = alternatives.iter().map(|n| n.as_str()).collect();
                return Err(SealError::MissingField {
                    exchange: exchange.to_owned(),
                    needs: names.join(" or "),
                });
            }
        }
        Ok(())
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Plaintext {
    custody_credential: u32,
    vault_id: String,
    name: String,
    exchange: String,
    account: String,
    scope: Vec<String>,
    fields: SecretFields,
}

fn scope_strings(s: &[Scope]) -> Vec<String> {
    s.iter().map(|s| s.as_str().to_owned()).collect()
}

/// Seal `fields` for `entry` (its identity is repeated inside) to the age `recipient`;
/// returns the ASCII-armored ciphertext, which `age -d -i identity.txt` decrypts.
pub fn seal(
    vault_id: &[u8; wire::VAULT_ID_LEN],
    entry: &Credential,
    fields: &SecretFields,
    recipient: &str,
) -> Result<String, SealError> {
    let recipient: age::x25519::Recipient = recipient
        .parse()
        .map_err(|e: &str| SealError::Recipient(e.to_owned()))?;
    let plain = Plaintext {
        custody_credential: wire::SEALED_CREDENTIAL_VERSION,
        vault_id: hex(vault_id),
        name: entry.name.clone(),
        exchange: entry.exchange.clone(),
        account: entry.account.clone(),
        scope: scope_strings(&entry.scope),
        fields: fields.clone(),
    };
    // Serialise into a buffer large enough never to reallocate (no stray copies).
    let cap = 512
        + FieldName::ALL
            .iter()
            .map(|&n| fields.get(n).map_or(0, |v| 6 * v.len() + 32))
            .sum::<usize>();
    let mut bytes = Zeroizing::new(Vec::with_capacity(cap));
    serde_json::to_writer(&mut *bytes, &plain).map_err(|e| SealError::Encrypt(e.to_string()))?;
    drop(plain);
    let encryptor = age::Encryptor::with_recipients(std::iter::once(&recipient as _))
        .map_err(|e| SealError::Encrypt(e.to_string()))?;
    let mut out = Vec::with_capacity(bytes.len() * 2 + 512);
    let armor = age::armor::ArmoredWriter::wrap_output(&mut out, age::armor::Format::AsciiArmor)
        .map_err(|e| SealError::Encrypt(e.to_string()))?;
    let mut w = encryptor
        .wrap_output(armor)
        .map_err(|e| SealError::Encrypt(e.to_string()))?;
    w.write_all(&bytes)
        .and_then(|()| w.finish())
        .and_then(|a| a.finish())
        .map_err(|e| SealError::Encrypt(e.to_string()))?;
    String::from_utf8(out).map_err(|e| SealError::Encrypt(e.to_string()))
}

/// Open `entry` with the quorum's identity and check that the sealed identity is the entry's.
pub fn open(
    vault_id: &[u8; wire::VAULT_ID_LEN],
    entry: &Credential,
    identity: &age::x25519::Identity,
) -> Result<SecretFields, SealError> {
    let name = entry.name.clone();
    let bytes = Zeroizing::new(
        age::decrypt(identity, entry.sealed.as_bytes())
            .map_err(|_| SealError::Decrypt { name: name.clone() })?,
    );
    let mut plain: Plaintext =
        serde_json::from_slice(&bytes).map_err(|_| SealError::Plaintext { name: name.clone() })?;
    drop(bytes);
    let moved = |what| SealError::Moved {
        name: name.clone(),
        what,
    };
    if plain.custody_credential != wire::SEALED_CREDENTIAL_VERSION {
        return Err(SealError::Plaintext { name });
    }
    if plain.vault_id != hex(vault_id) {
        return Err(moved("vault id"));
    }
    if plain.name != entry.name {
        return Err(moved("name"));
    }
    if plain.exchange != entry.exchange {
        return Err(moved("exchange"));
    }
    if plain.account != entry.account {
        return Err(moved("account"));
    }
    if plain.scope != scope_strings(&entry.scope) {
        return Err(moved("scope"));
    }
    if plain.fields.present() != entry.fields {
        return Err(moved("field list"));
    }
    Ok(std::mem::take(&mut plain.fields))
}
