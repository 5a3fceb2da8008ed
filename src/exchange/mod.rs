//! How each exchange authenticates a REST request, one module per exchange: the bytes it
//! signs and how the signature is written, exactly as the exchange documents it. These are
//! the signing steps of the signing proxy (issue 15): the proxy builds the exact bytes it
//! forwards, signs them here with the credential's secret (which never leaves locked memory
//! for the bot), and sets the exchange's headers or parameters. Each module cites the
//! exchange's documentation and carries its published example as a known-answer test where
//! the exchange publishes one; every scheme is also checked against Python's `hmac` module
//! (tests/exchange_signing.rs).
//!
//! | module | scheme |
//! | --- | --- |
//! | [`binance`] | hex HMAC-SHA256 of the query string concatenated with the body (spot and USD-M futures) |
//! | [`okx`] | base64 HMAC-SHA256 of timestamp + method + request path (with query) + body |
//! | [`bybit`] | hex HMAC-SHA256 of timestamp + API key + recv window + query string or body (v5) |
//! | [`kraken`] | base64 HMAC-SHA512, keyed by the base64-decoded secret, of the URI path + SHA-256(nonce + POST data) |
//! | [`coinbase`] | a JWT signed with ES256 (EC key in PEM) or EdDSA (Ed25519 key), or hex HMAC-SHA256 of timestamp + method + path + body (legacy keys) |
//!
//! Each module is also that exchange's [`venue::Venue`] for the proxy: its pinned hosts, its
//! endpoint table (docs/proxy-endpoints.md), where the bot's request carries its key and its
//! own authentication, and what an order request says ([`order_fields`] reads the fields).

use hmac::{Hmac, Mac};
use sha2::{Sha256, Sha512};

pub mod binance;
pub mod bybit;
pub mod class;
pub mod coinbase;
#[cfg(test)]
mod fixture;
pub mod kraken;
pub mod okx;
pub mod order_fields;
pub mod registry;
pub mod request;
pub mod stand_in;
pub mod venue;

/// HMAC-SHA256 under `key` (any length) of the concatenation of `parts`.
pub(crate) fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    for p in parts {
        mac.update(p);
    }
    mac.finalize().into_bytes().into()
}

/// HMAC-SHA512 under `key` (any length) of the concatenation of `parts`.
pub(crate) fn hmac_sha512(key: &[u8], parts: &[&[u8]]) -> [u8; 64] {
    let mut mac = Hmac::<Sha512>::new_from_slice(key).expect("HMAC takes keys of any length");
    for p in parts {
        mac.update(p);
    }
    mac.finalize().into_bytes().into()
}
