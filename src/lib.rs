//! custody: quorum control of a trading fund's exchange API credentials.
//!
//! A master secret is split into SLIP-39 shares held by named custodians; a quorum of them
//! reconstructs it in locked memory to derive an Ed25519 signing key and an age identity.
//! Layering (lower modules never import upper ones; ARCHITECTURE.md draws the floors):
//! `gf256`, `wire`, `clock`, `progress`, `sheet`, `scan` <- `slip39`, `secret`, `custodian_name` <- `keys`, `token`,
//! `policy` <- `vault`, `sharefile` <- `input` <- `quorum`, `remote` <- `audit`, `gathering` <-
//! `certificate` <- `ops`. The command line lives in the binary (`src/main.rs` declares it),
//! so nothing here can import it.

// Unsafe code only where a local, commented `#[allow(unsafe_code)]` says why (harden, wipe_alloc,
// the SSSE3 kernel in gf256).
#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod agent;
pub mod audit;
pub mod certificate;
pub mod clock;
pub mod custodian_name;
pub mod delivery;
pub mod exchange;
pub mod gathering;
pub mod gf256;
pub mod harden;
pub mod host_key;
pub mod input;
pub mod keys;
pub mod ops;
pub mod policy;
pub mod progress;
pub mod proxy;
pub mod quorum;
pub mod remote;
pub mod safe_file;
pub mod scan;
pub mod secret;
pub mod sharefile;
pub mod sheet;
pub mod slip39;
pub mod terminal_text;
#[cfg(feature = "testkit")]
pub mod testkit;
pub mod timefmt;
pub mod token;
pub mod vault;
pub mod wipe_alloc;
pub mod wire;
pub mod zeroizing_json;
