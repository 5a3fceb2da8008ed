//! What the signing proxy needs from each exchange: its pinned hosts, its endpoint table, where
//! a bot's request carries the API key and its own authentication, what an order request
//! says (symbol, price, quantity), and how to sign the exact bytes that are forwarded.
//!
//! Adding an exchange means adding one module that implements [`Venue`] and listing it in
//! [`VENUES`]; the proxy's pipeline (`crate::proxy`) is shared.

use super::class::Endpoint;
use super::request::Request;
use crate::secret::SecretBytes;

/// A credential's secret fields, as the proxy signs with them (in locked memory).
pub struct Secrets {
    /// The API key (Coinbase: the key name `organizations/.../apiKeys/...`).
    pub api_key: SecretBytes,
    /// The signing secret (Coinbase: the EC private key in PEM).
    pub secret: SecretBytes,
    /// The passphrase, where the exchange has one (OKX).
    pub passphrase: Option<SecretBytes>,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secrets(<redacted>)")
    }
}

/// Time and nonce for one signature, chosen by the proxy (never the bot's).
#[derive(Clone, Copy, Debug)]
pub struct Stamp {
    /// Unix time in milliseconds.
    pub unix_ms: u64,
    /// A nonce larger than every nonce the agent used before, across restarts.
    pub nonce: u64,
}

/// The request as it goes to the exchange.
pub struct Outgoing {
    /// The path with its query, exactly as signed.
    pub path_and_query: String,
    /// Headers to set (authentication and content type); nothing the bot sent is forwarded.
    pub headers: Vec<(&'static str, String)>,
    /// The body, exactly as signed.
    pub body: Vec<u8>,
}

/// Header values carry the API key, a passphrase and signatures: Debug names the headers only
/// (and shows the content type).
impl std::fmt::Debug for Outgoing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let headers: Vec<String> = self
            .headers
            .iter()
            .map(|(n, v)| {
                if n.eq_ignore_ascii_case("content-type") {
                    format!("{n}: {v}")
                } else {
                    format!("{n}: <redacted>")
                }
            })
            .collect();
        f.debug_struct("Outgoing")
            .field("path_and_query", &self.path_and_query)
            .field("headers", &headers)
            .field("body_bytes", &self.body.len())
            .finish()
    }
}

/// What an order request says, for the policy's symbol and notional limits.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OrderFacts {
    /// The exchange's symbol, as in the request (`BTCUSDT`, `BTC-USDT`, `XBTUSDT`).
    pub symbol: Option<String>,
    /// The limit price, if the order has one.
    pub price: Option<String>,
    /// The quantity in the base currency, if given that way.
    pub quantity: Option<String>,
    /// The amount in the quote currency, if given that way (market buys by cost; Bybit spot
    /// market buys by default; Bybit inverse contracts, whose quantity is in USD).
    pub quote_amount: Option<String>,
    /// The quantity in contracts, if given that way (OKX futures, swaps and options: each
    /// contract is a fixed amount the exchange lists per instrument, `ctVal`, which the
    /// request does not carry).
    pub contracts: Option<String>,
}

/// Why a request cannot be signed.
#[derive(Debug)]
pub enum SignError {
    /// The credential lacks a field the exchange signs with.
    MissingField(&'static str),
    /// The secret is not in the form the exchange issues (e.g. not base64, not an EC key).
    BadSecret(&'static str),
}

impl std::fmt::Display for SignError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SignError::MissingField(n) => write!(
                f,
                "the credential has no {n}, which this exchange signs with: rotate it with \
                 `custody creds rotate` giving the {n}"
            ),
            SignError::BadSecret(what) => write!(
                f,
                "the credential's secret is not {what}: check what the exchange issued and \
                 rotate it with `custody creds rotate`"
            ),
        }
    }
}

impl std::error::Error for SignError {}

/// One exchange, as the signing proxy sees it.
pub trait Venue: Sync {
    /// The exchange's name, as credentials name it (`binance`).
    fn exchange(&self) -> &'static str;

    /// The hosts the proxy forwards to for this exchange (pinned: nothing else is reachable).
    fn hosts(&self) -> &'static [&'static str];

    /// The endpoint table for `host` (one of [`Venue::hosts`]).
    fn endpoints(&self, host: &str) -> &'static [Endpoint];

    /// Whether the exchange has a passphrase (the bot then gets a dummy one).
    fn has_passphrase(&self) -> bool {
        false
    }

    /// A secret for the bot's ccxt to sign its own requests with (the proxy throws that
    /// signature away): any secret ccxt accepts for this exchange. Not a secret of anyone's.
    fn dummy_secret(&self) -> zeroize::Zeroizing<String> {
        // Valid base64 (Kraken's ccxt decodes the secret before signing).
        zeroize::Zeroizing::new(DUMMY_SECRET.to_owned())
    }

    /// Members of this exchange's own error body to add to a refusal (never `error`,
    /// `endpoint`, `needs` or `credential`), chosen so that ccxt raises `PermissionDenied`
    /// with `message` (docs/proxy-ccxt-endpoints.md, "How a refusal reaches the bot").
    fn refusal_members(&self, _message: &str) -> Vec<(&'static str, serde_json::Value)> {
        Vec::new()
    }

    /// The API key the bot's request carries, if any (it must be the bot's proxy token).
    fn bot_key<'r>(&self, req: &'r Request) -> Option<std::borrow::Cow<'r, str>>;

    /// Remove the authentication the bot put in the query or body (signature, timestamp,
    /// nonce, ...), so that only the proxy's is forwarded.
    fn strip(&self, req: &mut Request);

    /// What the orders an order request places say (one per order; a batch gives several).
    fn orders(&self, req: &Request, endpoint: &Endpoint) -> Result<Vec<OrderFacts>, String>;

    /// Sign `req` for a private endpoint with `secrets` at `stamp`.
    fn sign(&self, req: &Request, secrets: &Secrets, stamp: Stamp) -> Result<Outgoing, SignError>;

    /// The request for a public endpoint: the bot's path, query and body, no authentication.
    fn public(&self, req: &Request) -> Outgoing {
        let body = req.body_bytes();
        let mut headers = Vec::new();
        if !body.is_empty() {
            headers.push(("content-type", content_type(req).to_owned()));
        }
        Outgoing {
            path_and_query: req.path_and_query(),
            headers,
            body,
        }
    }
}

/// The dummy secret most exchanges' bots get: base64 of `custody-proxy-dummy-secret`.
pub const DUMMY_SECRET: &str = "Y3VzdG9keS1wcm94eS1kdW1teS1zZWNyZXQ=";

/// The dummy passphrase bots get where the exchange has one.
pub const DUMMY_PASSPHRASE: &str = "custody-proxy-dummy";

/// The content type of a request's body.
pub fn content_type(req: &Request) -> &'static str {
    match req.body {
        super::request::Body::Json(_) => "application/json",
        _ => "application/x-www-form-urlencoded",
    }
}

/// A secret field as the text the exchange issued, for a header or a signature: printable
/// ASCII only, so that nothing in it can end a header line or be read differently.
pub(crate) fn ascii_field<'s>(
    field: &'s SecretBytes,
    what: &'static str,
) -> Result<&'s str, SignError> {
    let b = field.expose();
    if b.iter().all(|c| (0x20..0x7f).contains(c)) {
        Ok(std::str::from_utf8(b).expect("printable ASCII is UTF-8"))
    } else {
        Err(SignError::BadSecret(what))
    }
}

/// The passphrase, which this exchange signs with.
pub(crate) fn passphrase(secrets: &Secrets) -> Result<&str, SignError> {
    let p = secrets
        .passphrase
        .as_ref()
        .ok_or(SignError::MissingField("passphrase"))?;
    ascii_field(
        p,
        "printable ASCII text (the passphrase), as the exchange issues it",
    )
}

/// The API key as header text.
pub(crate) fn api_key(secrets: &Secrets) -> Result<&str, SignError> {
    ascii_field(
        &secrets.api_key,
        "printable ASCII text (the API key), as the exchange issues it",
    )
}
