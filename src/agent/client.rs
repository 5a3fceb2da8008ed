//! Asking an agent: one request, one answer, over its socket (docs/agent-protocol.md). What
//! `custody agent unlock|seal|status|exec` use; a Python or Go client does the same in a few
//! lines.

use std::fmt;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use zeroize::Zeroizing;

use super::protocol::{ErrorCode, MAX_ANSWER_BYTES, PROXY_VERSION, VERSION};
use crate::vault::seal::SecretFields;
use crate::zeroizing_json;

/// How long a client waits for an answer (an unlock runs a whole quorum ceremony).
pub const ANSWER_TIMEOUT: Duration = Duration::from_secs(120);

/// Why a request got no useful answer.
#[derive(Debug)]
pub enum ClientError {
    /// Nothing listens at the socket: the agent is not running (or the path is wrong).
    NotRunning {
        /// The socket path.
        socket: PathBuf,
        /// What connecting said.
        source: io::Error,
    },
    /// Talking to the agent failed midway.
    Io {
        /// The socket path.
        socket: PathBuf,
        /// The error.
        source: io::Error,
    },
    /// The agent refused the request.
    Refused {
        /// The protocol's error code, if it is one this client knows.
        code: Option<ErrorCode>,
        /// The code as sent.
        code_text: String,
        /// The agent's message.
        message: String,
    },
    /// The answer is not an answer of this protocol.
    BadAnswer(String),
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientError::NotRunning { socket, source } => {
                write!(f, "no agent is running at {} ({source})", socket.display())
            }
            ClientError::Io { socket, source } => {
                write!(
                    f,
                    "talking to the agent at {} failed: {source}",
                    socket.display()
                )
            }
            ClientError::Refused {
                code_text, message, ..
            } => write!(f, "the agent refused ({code_text}): {message}"),
            ClientError::BadAnswer(why) => write!(f, "the agent's answer is not understood: {why}"),
        }
    }
}

impl std::error::Error for ClientError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ClientError::NotRunning { source, .. } | ClientError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// Send one request line (`request`, without newline) and return the answer line, checked
/// to be `"ok": true` (a refusal is [`ClientError::Refused`]).
pub fn call(socket: &Path, request: &[u8]) -> Result<Zeroizing<Vec<u8>>, ClientError> {
    let io_err = |source| ClientError::Io {
        socket: socket.to_path_buf(),
        source,
    };
    let mut stream = UnixStream::connect(socket).map_err(|source| ClientError::NotRunning {
        socket: socket.to_path_buf(),
        source,
    })?;
    stream
        .set_read_timeout(Some(ANSWER_TIMEOUT))
        .map_err(io_err)?;
    let mut line = Zeroizing::new(Vec::with_capacity(request.len() + 1));
    line.extend_from_slice(request);
    line.push(b'\n');
    stream.write_all(&line).map_err(io_err)?;
    drop(line);
    let mut reader = BufReader::new(stream.take(MAX_ANSWER_BYTES as u64 + 1));
    let mut answer = Zeroizing::new(Vec::with_capacity(4096));
    read_line(&mut reader, &mut answer).map_err(io_err)?;
    if answer.last() != Some(&b'\n') {
        return Err(if answer.is_empty() {
            ClientError::NotRunning {
                socket: socket.to_path_buf(),
                source: io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the agent closed the connection without answering (it stopped)",
                ),
            }
        } else {
            ClientError::BadAnswer("it is cut off or too long".into())
        });
    }
    answer.pop();
    // Only the head members are read here; a secret-bearing answer is parsed by its caller.
    let head: HeadOnly = serde_json::from_slice(&answer).map_err(|e| {
        ClientError::BadAnswer(format!("not JSON of this protocol ({:?})", e.classify()))
    })?;
    if head.v != VERSION && head.v != PROXY_VERSION {
        return Err(ClientError::BadAnswer(format!(
            "protocol version {} (this custody speaks {VERSION} and {PROXY_VERSION})",
            head.v
        )));
    }
    if !head.ok {
        let code_text = head.error.unwrap_or_else(|| "?".into());
        return Err(ClientError::Refused {
            code: ErrorCode::parse(&code_text),
            code_text,
            message: head.message.unwrap_or_default(),
        });
    }
    Ok(answer)
}

/// The head members of any answer; other members are skipped unread.
#[derive(Deserialize)]
struct HeadOnly {
    v: u64,
    ok: bool,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    message: Option<String>,
}

/// Read up to and including a newline into a zeroizing buffer without leaving copies behind.
fn read_line(reader: &mut impl BufRead, out: &mut Zeroizing<Vec<u8>>) -> io::Result<()> {
    loop {
        let buf = reader.fill_buf()?;
        if buf.is_empty() {
            return Ok(());
        }
        let (take, done) = match buf.iter().position(|&b| b == b'\n') {
            Some(i) => (i + 1, true),
            None => (buf.len(), false),
        };
        zeroizing_json::reserve(out, take);
        out.extend_from_slice(&buf[..take]);
        reader.consume(take);
        if done {
            return Ok(());
        }
    }
}

/// The agent's status (no secret), as JSON.
pub fn status(socket: &Path) -> Result<serde_json::Value, ClientError> {
    let answer = call(socket, br#"{"v":1,"op":"status"}"#)?;
    serde_json::from_slice(&answer).map_err(|e| ClientError::BadAnswer(e.to_string()))
}

/// Seal the agent now.
pub fn seal(socket: &Path) -> Result<(), ClientError> {
    call(socket, br#"{"v":1,"op":"seal"}"#).map(drop)
}

/// One share for [`unlock`]: where it came from, and its token or words (secret).
pub struct UnlockShare {
    /// The input label (a file name, `terminal`).
    pub label: String,
    /// A `custody-share:` token, or SLIP-39 words.
    pub text: Zeroizing<String>,
}

/// What an unlock asks beyond the default.
#[derive(Clone, Copy, Debug, Default)]
pub struct UnlockFlags {
    /// Ratify what awaits ratification first.
    pub ratify: bool,
    /// Open credentials past their expiry day too.
    pub allow_expired: bool,
    /// Open withdraw-scoped credentials too.
    pub allow_withdraw: bool,
}

/// With [`UnlockFlags::ratify`]: what the officers reviewed and agreed to sign (entry digests,
/// access-policy and known-host changes in words); the agent signs only exactly that. `None`: sign what
/// awaits.
pub type ConsentedList = Option<crate::ops::agent_unlock::Consented>;

/// Ask the agent to unlock with `shares` (and the SLIP-39 passphrase, if any). Returns the
/// agent's answer (no secret): credentials held, not opened, warnings, expiry.
pub fn unlock(
    socket: &Path,
    shares: &[UnlockShare],
    passphrase: Option<&str>,
    flags: UnlockFlags,
    consented: &ConsentedList,
    remote: Option<&crate::remote::CeremonyRecord>,
) -> Result<serde_json::Value, ClientError> {
    // The request holds the shares: build it in a zeroizing buffer that only ever grows by
    // moving (zeroizing_json), escaping by hand.
    use zeroizing_json::{push_raw, push_string};
    let mut req = Zeroizing::new(Vec::new());
    push_raw(&mut req, br#"{"v":1,"op":"unlock","shares":["#);
    for (i, s) in shares.iter().enumerate() {
        if i > 0 {
            push_raw(&mut req, b",");
        }
        push_raw(&mut req, br#"{"label":"#);
        push_string(&mut req, &s.label);
        push_raw(&mut req, br#","text":"#);
        push_string(&mut req, &s.text);
        push_raw(&mut req, b"}");
    }
    push_raw(&mut req, b"]");
    if let Some(p) = passphrase {
        push_raw(&mut req, br#","passphrase":"#);
        push_string(&mut req, p);
    }
    for (name, on) in [
        ("ratify", flags.ratify),
        ("allow_expired", flags.allow_expired),
        ("allow_withdraw", flags.allow_withdraw),
    ] {
        if on {
            push_raw(&mut req, format!(",\"{name}\":true").as_bytes());
        }
    }
    if let (true, Some(c)) = (flags.ratify, consented) {
        let digests: Vec<String> = c.entries.iter().map(|d| crate::keys::hex(d)).collect();
        push_raw(&mut req, b",\"consented\":");
        push_raw(
            &mut req,
            serde_json::to_string(&digests).expect("JSON").as_bytes(),
        );
        push_raw(&mut req, b",\"consented_policy\":");
        push_raw(
            &mut req,
            serde_json::to_string(&c.policy).expect("JSON").as_bytes(),
        );
        if !c.hosts.is_empty() {
            push_raw(&mut req, b",\"consented_hosts\":");
            push_raw(
                &mut req,
                serde_json::to_string(&c.hosts).expect("JSON").as_bytes(),
            );
        }
    }
    if let Some(r) = remote {
        push_raw(&mut req, b",\"remote\":");
        let doc = serde_json::json!({
            "session_id": r.session_id,
            "phrase_hash": r.phrase_hash,
            "signer": r.signer,
            "expires": r.expires,
            "envelopes": r.envelopes,
        });
        push_raw(&mut req, doc.to_string().as_bytes());
    }
    push_raw(&mut req, b"}");
    let answer = call(socket, &req)?;
    serde_json::from_slice(&answer).map_err(|e| ClientError::BadAnswer(e.to_string()))
}

/// A credential as the agent hands it out.
#[derive(Deserialize)]
pub struct Fetched {
    /// The exchange.
    pub exchange: String,
    /// The account label.
    pub account: String,
    /// The scope, e.g. `["read", "trade"]`.
    pub scope: Vec<String>,
    /// The secret fields.
    #[serde(flatten)]
    pub fields: FetchedFields,
}

/// The secret fields of a fetched credential (zeroized on drop).
#[derive(Deserialize, Default, zeroize::Zeroize, zeroize::ZeroizeOnDrop)]
pub struct FetchedFields {
    /// `api_key`.
    #[serde(default)]
    pub api_key: Option<String>,
    /// `api_secret`.
    #[serde(default)]
    pub api_secret: Option<String>,
    /// `passphrase`.
    #[serde(default)]
    pub passphrase: Option<String>,
    /// `uid`.
    #[serde(default)]
    pub uid: Option<String>,
    /// `private_key_pem`.
    #[serde(default)]
    pub private_key_pem: Option<String>,
}

impl FetchedFields {
    /// As the vault's [`SecretFields`] (moving the values).
    pub fn into_secret_fields(mut self) -> SecretFields {
        SecretFields {
            api_key: self.api_key.take(),
            api_secret: self.api_secret.take(),
            passphrase: self.passphrase.take(),
            uid: self.uid.take(),
            private_key_pem: self.private_key_pem.take(),
        }
    }
}

/// What [`fetch`] returns: the credentials in the order named, and the answer's
/// `credentials` object as sent (what `--stdin-json` hands a program).
pub struct FetchedSet {
    /// Name and credential, in the order asked.
    pub credentials: Vec<(String, Fetched)>,
    /// The `credentials` member of the answer, one JSON object followed by a newline.
    pub object: Zeroizing<Vec<u8>>,
}

/// Fetch the named credentials (each name once).
pub fn fetch(socket: &Path, names: &[String]) -> Result<FetchedSet, ClientError> {
    let req =
        serde_json::to_vec(&serde_json::json!({"v": VERSION, "op": "fetch", "credentials": names}))
            .expect("JSON");
    let answer = call(socket, &req)?;
    let parsed: AnswerWithHead = serde_json::from_slice(&answer).map_err(|e| {
        ClientError::BadAnswer(format!("{:?} error in a fetch answer", e.classify()))
    })?;
    let mut map = parsed.credentials;
    let mut credentials = Vec::with_capacity(names.len());
    for n in names {
        let c = map.remove(n).ok_or_else(|| {
            ClientError::BadAnswer(format!("the answer does not hold credential `{n}`"))
        })?;
        credentials.push((n.clone(), c));
    }
    // The object as sent: from `"credentials":` to the answer's closing brace.
    let key = br#""credentials":"#;
    let start = answer
        .windows(key.len())
        .position(|w| w == key)
        .map(|i| i + key.len())
        .ok_or_else(|| ClientError::BadAnswer("no credentials member".into()))?;
    let end = answer.len().saturating_sub(1); // the answer's own closing brace
    let mut object = Zeroizing::new(Vec::with_capacity(end - start + 1));
    object.extend_from_slice(&answer[start..end]);
    object.push(b'\n');
    Ok(FetchedSet {
        credentials,
        object,
    })
}

/// A fetch answer; members a later version adds are ignored (docs/agent-protocol.md,
/// "Versioning").
#[derive(Deserialize)]
struct AnswerWithHead {
    #[allow(dead_code)]
    v: u64,
    #[allow(dead_code)]
    ok: bool,
    credentials: std::collections::BTreeMap<String, Fetched>,
}

/// One credential's proxy token, as the agent issued it.
#[derive(Deserialize)]
pub struct ProxyGrant {
    /// The credential.
    pub name: String,
    /// Its exchange.
    pub exchange: String,
    /// Whether the exchange has a passphrase (the bot then gets a dummy one).
    pub passphrase: bool,
    /// The token (secret: it lets this user trade through the proxy).
    #[serde(deserialize_with = "zeroizing_string")]
    pub token: Zeroizing<String>,
}

/// What [`proxy`] returns.
#[derive(Deserialize)]
pub struct ProxyGrants {
    /// The proxy's base URL (`http://127.0.0.1:PORT/`); a bot's `proxyUrl` is this followed
    /// by its token and `/`.
    pub url: String,
    /// One token per credential, in the order asked.
    pub credentials: Vec<ProxyGrant>,
}

impl ProxyGrant {
    /// The value for ccxt's `proxyUrl`.
    pub fn proxy_url(&self, base: &str) -> Zeroizing<String> {
        let mut s = Zeroizing::new(String::with_capacity(base.len() + self.token.len() + 1));
        s.push_str(base);
        s.push_str(&self.token);
        s.push('/');
        s
    }
}

fn zeroizing_string<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Zeroizing<String>, D::Error> {
    String::deserialize(d).map(Zeroizing::new)
}

#[derive(Deserialize)]
struct ProxyAnswer {
    proxy: ProxyGrants,
}

/// Ask the agent's signing proxy for a token per credential (each name once).
pub fn proxy(socket: &Path, names: &[String]) -> Result<ProxyGrants, ClientError> {
    let req = serde_json::to_vec(
        &serde_json::json!({"v": PROXY_VERSION, "op": "proxy", "credentials": names}),
    )
    .expect("JSON");
    let answer = call(socket, &req)?;
    let parsed: ProxyAnswer = serde_json::from_slice(&answer).map_err(|e| {
        ClientError::BadAnswer(format!("{:?} error in a proxy answer", e.classify()))
    })?;
    let mut grants = parsed.proxy;
    let mut ordered = Vec::with_capacity(names.len());
    for n in names {
        let i = grants
            .credentials
            .iter()
            .position(|g| &g.name == n)
            .ok_or_else(|| {
                ClientError::BadAnswer(format!("the answer holds no token for `{n}`"))
            })?;
        ordered.push(grants.credentials.swap_remove(i));
    }
    grants.credentials = ordered;
    Ok(grants)
}
