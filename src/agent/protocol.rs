//! The agent's socket protocol, version 1 (docs/agent-protocol.md): every request is one JSON
//! object on one line, every answer one JSON object on one line. All limits are here.
//!
//! Requests are read field by field from a strict shape (unknown members refused), so a
//! client written from the document alone meets exactly the checks listed there, in order:
//! size, UTF-8, a JSON object, its `v` (before any other member is looked at, so that a request
//! of a later version is told so whatever it holds), the request's shape, `op`, then the
//! members of that operation.

use std::time::Duration;

use serde::Deserialize;
use zeroize::Zeroizing;

/// The protocol version this agent speaks (`v` in every request and answer).
pub const VERSION: u64 = 1;

/// Version 2: version 1 plus the `proxy` operation and the `no-proxy` code. An agent speaks
/// both; a `proxy` request must say `"v": 2`, and its answer does.
pub const PROXY_VERSION: u64 = 2;

/// Longest request line, newline included. An `unlock` with sixteen tokens fits many times.
pub const MAX_REQUEST_BYTES: usize = 64 * 1024;

/// Longest answer a client accepts: [`MAX_FETCH_NAMES`] credentials of at most
/// `wire::MAX_SECRET_FIELDS_BYTES` (64 KiB) of secret fields each, which JSON escaping can
/// make up to six times longer, fit with room to spare.
pub const MAX_ANSWER_BYTES: usize = 32 * 1024 * 1024;

/// Most credentials one `fetch` may name.
pub const MAX_FETCH_NAMES: usize = 64;

/// Most shares one `unlock` may carry.
pub const MAX_UNLOCK_SHARES: usize = 32;

/// A request line must be complete within this time of the agent starting to read it (when
/// it accepts the connection, or after its previous answer on the same connection), or the
/// agent answers `timeout` and closes: an idle connection is closed after this time too.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// Connections served at once; one more is answered `busy` and closed. Bots that reconnect
/// for every fetch briefly hold two each while the agent reads the old one's close.
pub const MAX_CONNECTIONS: usize = 256;

/// Requests on one connection before the agent closes it (clients reconnect).
pub const MAX_REQUESTS_PER_CONNECTION: usize = 1000;

/// Why a request was not served: the `error` member of a failed answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorCode {
    /// The line is not a request of this protocol (names the member at fault).
    BadRequest,
    /// The line is longer than [`MAX_REQUEST_BYTES`].
    TooLarge,
    /// The line did not arrive within [`REQUEST_TIMEOUT`].
    Timeout,
    /// `v` is not a version this agent speaks.
    Version,
    /// Too many connections at once; try again shortly.
    Busy,
    /// The agent holds no credential: a quorum must unlock it (`custody agent unlock`).
    Sealed,
    /// The client may not make this request at all (unlock and seal: only the agent's own
    /// user and root; fetch: only clients the ratified access policy names).
    NotPermitted,
    /// The access policy does not grant this client the credential named.
    NotGranted,
    /// The credential is granted but the agent does not hold it (it could not be opened at
    /// unlock; the message says why).
    NotHeld,
    /// The client's rate limit is used up; try again later.
    RateLimited,
    /// An unlock was refused (the message names the shares at fault), or the agent is already
    /// unlocked, or another unlock is running.
    Unlock,
    /// The vault changed under the agent or cannot be read: it sealed itself.
    VaultChanged,
    /// The agent could not record the request in the audit log, so it did not serve it.
    Audit,
    /// A `proxy` request to an agent without a signing proxy (`--proxy-listen`), or for a
    /// credential of an exchange the proxy does not serve.
    NoProxy,
}

impl ErrorCode {
    /// The code as written in the answer.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadRequest => "bad-request",
            ErrorCode::TooLarge => "too-large",
            ErrorCode::Timeout => "timeout",
            ErrorCode::Version => "version",
            ErrorCode::Busy => "busy",
            ErrorCode::Sealed => "sealed",
            ErrorCode::NotPermitted => "not-permitted",
            ErrorCode::NotGranted => "not-granted",
            ErrorCode::NotHeld => "not-held",
            ErrorCode::RateLimited => "rate-limited",
            ErrorCode::Unlock => "unlock-refused",
            ErrorCode::VaultChanged => "vault-changed",
            ErrorCode::Audit => "audit",
            ErrorCode::NoProxy => "no-proxy",
        }
    }

    /// The code for `s`, as a client reads it.
    pub fn parse(s: &str) -> Option<ErrorCode> {
        [
            ErrorCode::BadRequest,
            ErrorCode::TooLarge,
            ErrorCode::Timeout,
            ErrorCode::Version,
            ErrorCode::Busy,
            ErrorCode::Sealed,
            ErrorCode::NotPermitted,
            ErrorCode::NotGranted,
            ErrorCode::NotHeld,
            ErrorCode::RateLimited,
            ErrorCode::Unlock,
            ErrorCode::VaultChanged,
            ErrorCode::Audit,
            ErrorCode::NoProxy,
        ]
        .into_iter()
        .find(|c| c.as_str() == s)
    }
}

/// One share of an `unlock` request: where the officer presented it, and its text (a
/// `custody-share:` token, or SLIP-39 words).
pub struct ShareText {
    /// The input label on the officer's side (a file name, `stdin`, `terminal`).
    pub label: String,
    /// The token or the words (secret).
    pub text: Zeroizing<String>,
}

/// A request, checked.
pub enum Request {
    /// How the agent stands (no secret in the answer).
    Status,
    /// The named credentials' fields.
    Fetch {
        /// The credentials, in order, without repeats.
        credentials: Vec<String>,
    },
    /// Proxy tokens for the named credentials (the signing proxy signs with them; the
    /// client never receives their secrets).
    Proxy {
        /// The credentials, in order, without repeats.
        credentials: Vec<String>,
    },
    /// A quorum's shares, to unlock a sealed agent.
    Unlock {
        /// The shares as presented.
        shares: Vec<ShareText>,
        /// The SLIP-39 passphrase, if the vault uses one.
        passphrase: Option<Zeroizing<String>>,
        /// Ratify what awaits ratification first (credentials and access policy): not at
        /// all, whatever awaits, or only exactly what the officers reviewed.
        ratify: crate::ops::agent_unlock::Ratify,
        /// Also open credentials past their expiry day.
        allow_expired: bool,
        /// Also open withdraw-scoped credentials.
        allow_withdraw: bool,
        /// The remote ceremony the shares were gathered in (`agent unlock --remote`).
        remote: Option<crate::remote::CeremonyRecord>,
    },
    /// Wipe every credential now.
    Seal,
}

/// A remote ceremony's record, as an `unlock` request carries it (shares-format.md's
/// `remote-ceremony` note; nothing secret).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WireRemote {
    session_id: String,
    phrase_hash: String,
    #[serde(default)]
    signer: Option<String>,
    expires: u64,
    envelopes: usize,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WireShare {
    label: String,
    text: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Wire {
    v: serde_json::Value,
    op: String,
    #[serde(default)]
    credentials: Option<Vec<String>>,
    #[serde(default)]
    shares: Option<Vec<WireShare>>,
    #[serde(default)]
    passphrase: Option<String>,
    #[serde(default)]
    ratify: Option<bool>,
    #[serde(default)]
    allow_expired: Option<bool>,
    #[serde(default)]
    allow_withdraw: Option<bool>,
    #[serde(default)]
    consented: Option<Vec<String>>,
    #[serde(default)]
    consented_policy: Option<Vec<String>>,
    #[serde(default)]
    remote: Option<WireRemote>,
    consented_hosts: Option<Vec<String>>,
}

/// A request's `v` alone; every other member is skipped unread.
#[derive(Deserialize)]
struct VersionOnly {
    #[serde(default)]
    v: Option<serde_json::Value>,
}

/// The `remote` member checked: hex of the right lengths, a fingerprint of at most 64
/// characters, at most 255 envelopes.
fn remote_record(r: WireRemote) -> Result<crate::remote::CeremonyRecord, Malformed> {
    let hex_of = |s: &str, len: usize| {
        s.len() == len
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    };
    if !hex_of(&r.session_id, 32) || !hex_of(&r.phrase_hash, 64) {
        return Err(bad(
            "`remote` holds `session_id` (32 hex digits) and `phrase_hash` (64 hex digits)",
        ));
    }
    if r.signer
        .as_ref()
        .is_some_and(|f| f.len() > 64 || !f.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
        || r.envelopes > 255
    {
        return Err(bad(
            "`remote.signer` is a key fingerprint and `remote.envelopes` at most 255",
        ));
    }
    Ok(crate::remote::CeremonyRecord {
        session_id: r.session_id,
        phrase_hash: r.phrase_hash,
        signer: r.signer,
        expires: r.expires,
        envelopes: r.envelopes,
    })
}

/// Why a request line was refused before it was looked at further.
#[derive(Debug, PartialEq, Eq)]
pub struct Malformed {
    /// The code to answer with.
    pub code: ErrorCode,
    /// What was wrong (never the line's content).
    pub message: String,
}

fn bad(message: impl Into<String>) -> Malformed {
    Malformed {
        code: ErrorCode::BadRequest,
        message: message.into(),
    }
}

/// Parse one request line (without its newline), checking in the documented order.
pub fn parse(line: &[u8]) -> Result<Request, Malformed> {
    // 1. Size (the reader also stops at the limit).
    if line.len() >= MAX_REQUEST_BYTES {
        return Err(Malformed {
            code: ErrorCode::TooLarge,
            message: format!("a request line is at most {MAX_REQUEST_BYTES} bytes"),
        });
    }
    // 2. UTF-8, and one JSON object (serde would also take an array for a struct). serde's
    //    messages name the member, never its value.
    let text = std::str::from_utf8(line).map_err(|_| bad("the request is not UTF-8"))?;
    if !text.trim_start().starts_with('{') {
        return Err(bad("the request is not a JSON object"));
    }
    let not_of_this_protocol = |e: serde_json::Error| {
        bad(format!(
            "the request is not a JSON object of this protocol: {:?} error at column {}{}",
            e.classify(),
            e.column(),
            unknown_member(&e.to_string())
        ))
    };
    // 3. The version, read alone (every other member skipped unread), so that a request of
    //    another version is answered `version` whatever members it carries.
    let version = || Malformed {
        code: ErrorCode::Version,
        message: format!(
            "this agent speaks protocol versions {VERSION} and {PROXY_VERSION} (`\"v\": {VERSION}`)"
        ),
    };
    let head: VersionOnly = serde_json::from_str(text).map_err(not_of_this_protocol)?;
    let spoken = |v: &serde_json::Value| matches!(v.as_u64(), Some(VERSION | PROXY_VERSION));
    if head.v.as_ref().is_some_and(|v| !spoken(v)) {
        return Err(version());
    }
    // 4. The request's shape: known members of the right types.
    let w: Wire = serde_json::from_str(text).map_err(not_of_this_protocol)?;
    if !spoken(&w.v) {
        return Err(version());
    }
    // 5. The operation and only its members.
    let only = |allowed: &[&str]| -> Result<(), Malformed> {
        let given = [
            ("credentials", w.credentials.is_some()),
            ("shares", w.shares.is_some()),
            ("passphrase", w.passphrase.is_some()),
            ("ratify", w.ratify.is_some()),
            ("allow_expired", w.allow_expired.is_some()),
            ("allow_withdraw", w.allow_withdraw.is_some()),
            ("consented", w.consented.is_some()),
            ("consented_policy", w.consented_policy.is_some()),
            ("remote", w.remote.is_some()),
            ("consented_hosts", w.consented_hosts.is_some()),
        ];
        match given
            .iter()
            .find(|(name, present)| *present && !allowed.contains(name))
        {
            Some((name, _)) => Err(bad(format!(
                "`{name}` is not a member of a `{}` request",
                w.op
            ))),
            None => Ok(()),
        }
    };
    match w.op.as_str() {
        "status" => {
            only(&[])?;
            Ok(Request::Status)
        }
        "seal" => {
            only(&[])?;
            Ok(Request::Seal)
        }
        "fetch" | "proxy" => {
            only(&["credentials"])?;
            if w.op == "proxy" && w.v.as_u64() != Some(PROXY_VERSION) {
                return Err(bad(format!(
                    "`proxy` is an operation of protocol version {PROXY_VERSION} (`\"v\": {PROXY_VERSION}`)"
                )));
            }
            let names = w
                .credentials
                .ok_or_else(|| bad(format!("a `{}` request names its `credentials`", w.op)))?;
            if names.is_empty() || names.len() > MAX_FETCH_NAMES {
                return Err(bad(format!(
                    "`credentials` names 1 to {MAX_FETCH_NAMES} credentials"
                )));
            }
            let mut credentials: Vec<String> = Vec::with_capacity(names.len());
            for n in names {
                if crate::vault::credential::check_name(&n).is_err() {
                    return Err(bad(
                        "`credentials` holds a name that is not a credential name (letters, \
                         digits, `-`, `_`, `.`)",
                    ));
                }
                if !credentials.contains(&n) {
                    credentials.push(n);
                }
            }
            Ok(if w.op == "fetch" {
                Request::Fetch { credentials }
            } else {
                Request::Proxy { credentials }
            })
        }
        "unlock" => {
            only(&[
                "shares",
                "passphrase",
                "ratify",
                "allow_expired",
                "allow_withdraw",
                "consented",
                "consented_policy",
                "remote",
                "consented_hosts",
            ])?;
            let shares = w
                .shares
                .ok_or_else(|| bad("an `unlock` request carries its `shares`"))?;
            if shares.is_empty() || shares.len() > MAX_UNLOCK_SHARES {
                return Err(bad(format!(
                    "`shares` holds 1 to {MAX_UNLOCK_SHARES} shares"
                )));
            }
            use crate::ops::agent_unlock::{Consented, Ratify};
            let ratify = match (
                w.ratify.unwrap_or(false),
                w.consented,
                w.consented_policy,
                w.consented_hosts,
            ) {
                (false, None, None, None) => Ratify::No,
                (false, _, _, _) => {
                    return Err(bad(
                        "`consented`, `consented_policy` and `consented_hosts` go with \
                         `\"ratify\": true`",
                    ));
                }
                (true, None, None, None) => Ratify::Listed,
                (true, entries, policy, hosts) => {
                    let mut digests = Vec::new();
                    for d in entries.unwrap_or_default() {
                        let b = crate::keys::unhex(&d)
                            .and_then(|b| <[u8; 32]>::try_from(b).ok())
                            .ok_or_else(|| bad("`consented` holds 64-hex-digit SHA-256 digests"))?;
                        digests.push(b);
                    }
                    Ratify::Exactly(Consented {
                        entries: digests,
                        policy: policy.unwrap_or_default(),
                        hosts: hosts.unwrap_or_default(),
                    })
                }
            };
            Ok(Request::Unlock {
                shares: shares
                    .into_iter()
                    .map(|s| ShareText {
                        label: s.label,
                        text: Zeroizing::new(s.text),
                    })
                    .collect(),
                passphrase: w.passphrase.map(Zeroizing::new),
                ratify,
                allow_expired: w.allow_expired.unwrap_or(false),
                allow_withdraw: w.allow_withdraw.unwrap_or(false),
                remote: w.remote.map(remote_record).transpose()?,
            })
        }
        _ => Err(bad(
            "`op` is one of `status`, `fetch`, `proxy`, `unlock`, `seal`",
        )),
    }
}

/// serde's "unknown field `x`" names the member at fault: keep that part of its message.
fn unknown_member(message: &str) -> String {
    match message.find("unknown field `") {
        Some(i) => {
            let rest = &message[i + "unknown field `".len()..];
            match rest.find('`') {
                Some(j)
                    if rest[..j]
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_') =>
                {
                    format!(" (unknown member `{}`)", &rest[..j])
                }
                _ => String::new(),
            }
        }
        None => String::new(),
    }
}

/// A failed answer line (with its newline).
pub fn error_line(code: ErrorCode, message: &str) -> Vec<u8> {
    let mut line = serde_json::to_vec(&serde_json::json!({
        "v": VERSION,
        "ok": false,
        "error": code.as_str(),
        "message": message,
    }))
    .expect("JSON");
    line.push(b'\n');
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(line: &str) -> ErrorCode {
        match parse(line.as_bytes()) {
            Err(m) => m.code,
            Ok(_) => panic!("accepted {line}"),
        }
    }

    #[test]
    fn requests_are_checked_in_order() {
        assert!(matches!(
            parse(br#"{"v":1,"op":"status"}"#),
            Ok(Request::Status)
        ));
        assert!(matches!(
            parse(br#"{"v":1,"op":"fetch","credentials":["a","a","b"]}"#),
            Ok(Request::Fetch { credentials }) if credentials == ["a", "b"]
        ));
        assert_eq!(code("not json"), ErrorCode::BadRequest);
        assert_eq!(code(r#"{"v":3,"op":"status"}"#), ErrorCode::Version);
        assert_eq!(code(r#"{"v":"1","op":"status"}"#), ErrorCode::Version);
        assert_eq!(code(r#"{"v":1,"op":"launch"}"#), ErrorCode::BadRequest);
        assert_eq!(
            code(r#"{"v":1,"op":"status","credentials":["a"]}"#),
            ErrorCode::BadRequest
        );
        assert_eq!(code(r#"{"v":1,"op":"fetch"}"#), ErrorCode::BadRequest);
        assert_eq!(
            code(r#"{"v":1,"op":"fetch","credentials":[]}"#),
            ErrorCode::BadRequest
        );
        assert_eq!(
            code(r#"{"v":1,"op":"fetch","credentials":["../x"]}"#),
            ErrorCode::BadRequest
        );
        let e = parse(br#"{"v":1,"op":"status","sneaky":1}"#).err().unwrap();
        assert!(
            e.message.contains("unknown member `sneaky`"),
            "{}",
            e.message
        );
        let long = vec![b' '; MAX_REQUEST_BYTES];
        assert_eq!(parse(&long).err().unwrap().code, ErrorCode::TooLarge);
    }

    #[test]
    fn an_unknown_version_is_refused_whatever_else_the_request_holds() {
        // A client trying a later version with members this agent does not know learns the
        // version is wrong, not that a member is (docs/agent-protocol.md, "Versioning").
        assert_eq!(
            code(r#"{"v":3,"op":"status","since":"2026-01-01"}"#),
            ErrorCode::Version
        );
        assert_eq!(code(r#"{"op":"inspect","v":3}"#), ErrorCode::Version);
        assert_eq!(
            code(r#"{"v":3,"op":"fetch","credentials":"binance-main"}"#),
            ErrorCode::Version
        );
        // Without `v`, or not JSON at all, it is not a request of this protocol.
        assert_eq!(code(r#"{"op":"status"}"#), ErrorCode::BadRequest);
        assert_eq!(code(r#"{"v":1,"op":"status""#), ErrorCode::BadRequest);
        assert_eq!(code(r#"[1]"#), ErrorCode::BadRequest);
        assert_eq!(code(r#"[1,"status"]"#), ErrorCode::BadRequest);
    }

    #[test]
    fn errors_never_echo_the_request() {
        let e = parse(
            br#"{"v":1,"op":"unlock","shares":[{"label":"a","text":"secret words"}],"ratify":"zebra"}"#,
        )
        .err()
        .unwrap();
        assert!(!e.message.contains("secret words"), "{}", e.message);
        assert!(!e.message.contains("zebra"), "{}", e.message);
    }

    #[test]
    fn codes_round_trip() {
        for c in [ErrorCode::Sealed, ErrorCode::RateLimited, ErrorCode::Unlock] {
            assert_eq!(ErrorCode::parse(c.as_str()), Some(c));
        }
    }
}
