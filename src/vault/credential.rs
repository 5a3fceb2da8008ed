//! One credential entry: its public metadata (name, exchange, account, scope, dates, notes),
//! the list of secret fields it holds, the age ciphertext sealing them, and the entry's
//! canonical bytes and SHA-256 digest, which the quorum's ratification manifest signs
//! (shares-format.md, "Credential entry").

use std::fmt;

use sha2::{Digest, Sha256};
use time::Date;
use time::macros::format_description;

use super::manifest::put_str;
use crate::wire;

/// Longest credential name in bytes; names are `[A-Za-z0-9._-]`.
pub const MAX_CRED_NAME_LEN: usize = 64;
/// Longest account, IP allow-list note, or free note, in bytes.
pub const MAX_TEXT_LEN: usize = 2000;

/// Exchanges custody knows the secret fields of; `generic` takes any non-empty set of fields.
pub const EXCHANGES: &[&str] = &[
    "binance", "bitfinex", "bitget", "bitstamp", "bybit", "coinbase", "deribit", "gateio",
    "gemini", "kraken", "kucoin", "okx", "generic",
];

/// What a credential allows on the exchange. Ordered from least to most dangerous.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    /// Read-only access: balances, orders, positions and history.
    Read,
    /// Placing and cancelling orders.
    Trade,
    /// Moving funds off the exchange.
    Withdraw,
}

impl Scope {
    /// The scope's lower-case name, as in the vault file and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Trade => "trade",
            Scope::Withdraw => "withdraw",
        }
    }

    fn code(self) -> u8 {
        match self {
            Scope::Read => 1,
            Scope::Trade => 2,
            Scope::Withdraw => 3,
        }
    }

    /// The scope named `s` (case-insensitive, surrounding whitespace ignored); `None` if unknown.
    pub fn parse(s: &str) -> Option<Scope> {
        match s.trim().to_ascii_lowercase().as_str() {
            "read" => Some(Scope::Read),
            "trade" => Some(Scope::Trade),
            "withdraw" => Some(Scope::Withdraw),
            _ => None,
        }
    }
}

/// The secret fields an entry can hold, in canonical order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FieldName {
    /// The exchange's API key (`api_key`), which identifies the key pair.
    ApiKey,
    /// The API secret that signs requests (`api_secret`).
    ApiSecret,
    /// The API passphrase some exchanges require, such as OKX, KuCoin and Bitget (`passphrase`);
    /// for Kraken, the API key's two-factor password, which the signing proxy sends as `otp`.
    Passphrase,
    /// The account's user id, for exchanges that ask for it (`uid`).
    Uid,
    /// A PEM-encoded private key, as Coinbase's key-based API uses (`private_key_pem`).
    PrivateKeyPem,
}

impl FieldName {
    /// Every field, in canonical order (the order of `fields` and of the canonical bytes).
    pub const ALL: [FieldName; 5] = [
        FieldName::ApiKey,
        FieldName::ApiSecret,
        FieldName::Passphrase,
        FieldName::Uid,
        FieldName::PrivateKeyPem,
    ];

    /// The JSON key (input, sealed plaintext, `--stdin-json`).
    pub fn as_str(self) -> &'static str {
        match self {
            FieldName::ApiKey => "api_key",
            FieldName::ApiSecret => "api_secret",
            FieldName::Passphrase => "passphrase",
            FieldName::Uid => "uid",
            FieldName::PrivateKeyPem => "private_key_pem",
        }
    }

    /// The field whose JSON key is exactly `s`; `None` if there is none.
    pub fn parse(s: &str) -> Option<FieldName> {
        FieldName::ALL.into_iter().find(|f| f.as_str() == s)
    }

    fn code(self) -> u8 {
        match self {
            FieldName::ApiKey => 1,
            FieldName::ApiSecret => 2,
            FieldName::Passphrase => 3,
            FieldName::Uid => 4,
            FieldName::PrivateKeyPem => 5,
        }
    }
}

/// Why an entry was written without a quorum and awaits ratification. Not signed: it only
/// lets status tell a rotation made by custody from an edit made by hand.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pending {
    /// A new entry written by `creds add` and never ratified.
    Added,
    /// A ratified entry whose secret `creds rotate` replaced.
    Rotated,
}

impl Pending {
    /// The value of the entry's `pending` field in the vault file.
    pub fn as_str(self) -> &'static str {
        match self {
            Pending::Added => "added",
            Pending::Rotated => "rotated",
        }
    }
}

/// One credential as stored in the vault. Everything here is public except what `sealed`
/// encrypts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Credential {
    /// Unique name, 1 to [`MAX_CRED_NAME_LEN`] bytes of `[A-Za-z0-9._-]`.
    pub name: String,
    /// One of [`EXCHANGES`], in lower case.
    pub exchange: String,
    /// Account or sub-account; empty when the exchange has only one.
    pub account: String,
    /// Sorted, without repeats, never empty.
    pub scope: Vec<Scope>,
    /// Free-text note of the exchange-side IP allow-list; may be empty.
    pub ip_allowlist: String,
    /// Unix seconds.
    pub created: u64,
    /// Unix seconds of the last rotation (equal to `created` until the first rotation).
    pub rotated: u64,
    /// `YYYY-MM-DD`, the day the exchange key stops working.
    pub expires: Option<String>,
    /// Free note; may be empty.
    pub note: String,
    /// Which secret fields `sealed` holds, sorted.
    pub fields: Vec<FieldName>,
    /// ASCII-armored age ciphertext of the sealed plaintext.
    pub sealed: String,
    /// Set when the entry was written without a quorum and awaits ratification; not signed.
    pub pending: Option<Pending>,
}

/// A malformed credential argument or stored field.
#[derive(Debug, PartialEq, Eq)]
pub enum EntryError {
    /// This credential name is empty, too long or has characters outside `[A-Za-z0-9._-]`.
    Name(String),
    /// This new credential name does not start with a letter, so its variables would not be
    /// names a POSIX shell accepts (`1abc` gives `1ABC_API_KEY`, `.` gives `__API_KEY`).
    NameStart(String),
    /// This credential (stored before new names had to start with a letter) would reach a
    /// program as variables that are not POSIX shell names (`1abc` gives `1ABC_API_KEY`).
    ShellName(String),
    /// This exchange is not one of [`EXCHANGES`] (or is stored other than in lower case).
    Exchange(String),
    /// This scope word is not `read`, `trade` or `withdraw`.
    Scope(String),
    /// This expiry is not a `YYYY-MM-DD` date.
    Expires(String),
    /// A text is longer than [`MAX_TEXT_LEN`] bytes or contains control characters.
    Text {
        /// Which text, in words: `account`, `note` or `IP allow-list note`.
        what: &'static str,
    },
    /// No scope was given.
    NoScope,
}

impl fmt::Display for EntryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EntryError::Name(n) => write!(
                f,
                "`{n}` is not a valid credential name: use 1 to {MAX_CRED_NAME_LEN} letters, digits, `.`, `_` or `-`"
            ),
            EntryError::NameStart(n) => write!(
                f,
                "`{n}` cannot be a new credential name: a name must start with a letter, so that \
                 its variables (`{}_API_KEY`...) are names a POSIX shell accepts",
                env_prefix(n)
            ),
            EntryError::ShellName(n) => write!(
                f,
                "credential `{n}` would reach the program as `{}_API_KEY`..., which are not \
                 names a POSIX shell accepts (a variable name starts with a letter or `_`), so \
                 `sh` would drop them",
                env_prefix(n)
            ),
            EntryError::Exchange(e) => write!(
                f,
                "unknown exchange `{e}`: use one of {} (generic takes any fields)",
                EXCHANGES.join(", ")
            ),
            EntryError::Scope(s) => write!(
                f,
                "unknown scope `{s}`: use read, trade and/or withdraw, comma-separated"
            ),
            EntryError::NoScope => write!(
                f,
                "no scope given: a credential needs at least one (read, trade, withdraw)"
            ),
            EntryError::Expires(s) => write!(
                f,
                "`{s}` is not a date: write the expiry as YYYY-MM-DD (RFC 3339 full-date)"
            ),
            EntryError::Text { what } => write!(
                f,
                "the {what} is too long or contains control characters (at most {MAX_TEXT_LEN} bytes, one line)"
            ),
        }
    }
}

impl std::error::Error for EntryError {}

/// Check a credential name: 1 to [`MAX_CRED_NAME_LEN`] bytes of `[A-Za-z0-9._-]`.
pub fn check_name(name: &str) -> Result<(), EntryError> {
    let ok = (1..=MAX_CRED_NAME_LEN).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(EntryError::Name(name.to_owned()))
    }
}

/// Check a name for a new credential (added or renamed to): [`check_name`]'s rule, and a
/// letter first, so that every variable `exec` sets for it (`NAME_API_KEY`...) matches
/// `[A-Za-z_][A-Za-z0-9_]*`, the names a POSIX shell accepts. Entries already in a vault are
/// read with [`check_name`] alone.
pub fn check_new_name(name: &str) -> Result<(), EntryError> {
    check_name(name)?;
    if name.starts_with(|c: char| c.is_ascii_alphabetic()) {
        Ok(())
    } else {
        Err(EntryError::NameStart(name.to_owned()))
    }
}

/// Check that the variables `exec` sets for the credential `name` (`NAME_API_KEY`...) are
/// POSIX shell names, `[A-Za-z_][A-Za-z0-9_]*`: true of every name [`check_new_name`] admits,
/// not of one stored earlier that starts with a digit.
pub fn check_shell_variables(name: &str) -> Result<(), EntryError> {
    if env_prefix(name).starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
        Ok(())
    } else {
        Err(EntryError::ShellName(name.to_owned()))
    }
}

/// Check an exchange name (case-insensitive, surrounding whitespace ignored) and return it in
/// its canonical lower-case form.
pub fn check_exchange(ex: &str) -> Result<String, EntryError> {
    let lower = ex.trim().to_ascii_lowercase();
    if EXCHANGES.contains(&lower.as_str()) {
        Ok(lower)
    } else {
        Err(EntryError::Exchange(ex.to_owned()))
    }
}

/// `read,trade` to a sorted scope list.
pub fn parse_scopes(s: &str) -> Result<Vec<Scope>, EntryError> {
    let mut out = Vec::new();
    for part in s.split(',').filter(|p| !p.trim().is_empty()) {
        out.push(Scope::parse(part).ok_or_else(|| EntryError::Scope(part.to_owned()))?);
    }
    out.sort_unstable();
    out.dedup();
    if out.is_empty() {
        return Err(EntryError::NoScope);
    }
    Ok(out)
}

/// Parse `YYYY-MM-DD`.
pub fn parse_date(s: &str) -> Result<Date, EntryError> {
    Date::parse(s, format_description!("[year]-[month]-[day]"))
        .map_err(|_| EntryError::Expires(s.to_owned()))
}

/// Check a one-line text field (account, IP note, note): at most [`MAX_TEXT_LEN`] bytes and no
/// control characters; `what` names the field in the error.
pub fn check_text(what: &'static str, s: &str) -> Result<(), EntryError> {
    if s.len() <= MAX_TEXT_LEN && !s.chars().any(char::is_control) {
        Ok(())
    } else {
        Err(EntryError::Text { what })
    }
}

/// The environment-variable prefix for a credential name: upper case, other characters `_`.
pub fn env_prefix(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect()
}

/// The secret fields an exchange needs (at least one of each inner list).
pub fn required_fields(exchange: &str) -> &'static [&'static [FieldName]] {
    use FieldName::*;
    match exchange {
        "okx" | "kucoin" | "bitget" => &[&[ApiKey], &[ApiSecret], &[Passphrase]],
        "coinbase" => &[&[ApiKey], &[ApiSecret, PrivateKeyPem]],
        "generic" => &[],
        _ => &[&[ApiKey], &[ApiSecret]],
    }
}

impl Credential {
    /// Whether the credential allows `s`.
    pub fn has_scope(&self, s: Scope) -> bool {
        self.scope.contains(&s)
    }

    /// The scopes comma-separated in canonical order, such as `read,trade`.
    pub fn scope_string(&self) -> String {
        self.scope
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Check every metadata field (names, lengths, dates, ordering).
    pub fn validate(&self) -> Result<(), EntryError> {
        check_name(&self.name)?;
        if check_exchange(&self.exchange)? != self.exchange {
            return Err(EntryError::Exchange(self.exchange.clone()));
        }
        check_text("account", &self.account)?;
        check_text("IP allow-list note", &self.ip_allowlist)?;
        check_text("note", &self.note)?;
        if self.scope.is_empty() {
            return Err(EntryError::NoScope);
        }
        if let Some(e) = &self.expires {
            parse_date(e)?;
        }
        Ok(())
    }

    /// Whole days since the last rotation at `now` (Unix seconds).
    pub fn age_days(&self, now: u64) -> u64 {
        now.saturating_sub(self.rotated) / 86_400
    }

    /// Expired on or after its expiry day (UTC).
    pub fn is_expired(&self, now: u64) -> bool {
        let Some(e) = self.expires.as_deref().and_then(|e| parse_date(e).ok()) else {
            return false;
        };
        let today = time::OffsetDateTime::from_unix_timestamp(now.min(253_402_300_799) as i64)
            .map(|t| t.date())
            .unwrap_or(Date::MIN);
        today >= e
    }

    /// The canonical bytes the ratification manifest's digest covers:
    /// DOMAIN || vault id || name || exchange || account || scopes || IP note || created ||
    /// rotated || expires || note || field names || sealed ciphertext. `pending` is excluded.
    pub fn canonical_bytes(&self, vault_id: &[u8; wire::VAULT_ID_LEN]) -> Vec<u8> {
        let mut out = wire::CREDENTIAL_DOMAIN.to_vec();
        out.extend_from_slice(vault_id);
        put_str(&mut out, &self.name);
        put_str(&mut out, &self.exchange);
        put_str(&mut out, &self.account);
        out.push(self.scope.len() as u8);
        out.extend(self.scope.iter().map(|s| s.code()));
        put_str(&mut out, &self.ip_allowlist);
        out.extend_from_slice(&self.created.to_be_bytes());
        out.extend_from_slice(&self.rotated.to_be_bytes());
        put_str(&mut out, self.expires.as_deref().unwrap_or(""));
        put_str(&mut out, &self.note);
        out.push(self.fields.len() as u8);
        out.extend(self.fields.iter().map(|f| f.code()));
        out.extend_from_slice(&(self.sealed.len() as u32).to_be_bytes());
        out.extend_from_slice(self.sealed.as_bytes());
        out
    }

    /// SHA-256 of the canonical bytes.
    pub fn digest(&self, vault_id: &[u8; wire::VAULT_ID_LEN]) -> [u8; 32] {
        Sha256::digest(self.canonical_bytes(vault_id)).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_scopes() {
        assert!(check_name("binance-main_1.x").is_ok());
        assert!(check_name("").is_err());
        assert!(check_name("a b").is_err());
        assert!(check_name(&"a".repeat(65)).is_err());
        // New names start with a letter: their variables are shell names.
        assert!(check_new_name("binance-main_1.x").is_ok());
        for bad in ["1abc", ".", "..", "_x", "-x", ""] {
            assert!(check_new_name(bad).is_err(), "{bad}");
        }
        assert!(matches!(
            check_new_name("1abc"),
            Err(EntryError::NameStart(_))
        ));
        assert!(check_name("1abc").is_ok(), "an existing entry still reads");
        assert_eq!(
            check_shell_variables("1abc"),
            Err(EntryError::ShellName("1abc".into()))
        );
        for ok in ["a1", ".", "..", "_x", "-x", "binance-main"] {
            assert!(check_shell_variables(ok).is_ok(), "{ok}");
        }
        let m = EntryError::NameStart("1abc".into()).to_string();
        assert!(
            m.contains("1ABC_API_KEY") && m.contains("start with a letter"),
            "{m}"
        );
        assert_eq!(
            parse_scopes("trade, read,trade").unwrap(),
            vec![Scope::Read, Scope::Trade]
        );
        assert!(parse_scopes("").is_err());
        assert!(parse_scopes("admin").is_err());
        assert_eq!(env_prefix("binance-main.1"), "BINANCE_MAIN_1");
        assert!(parse_date("2027-03-01").is_ok());
        assert!(parse_date("2027-13-01").is_err());
    }
}
