//! custody: quorum control of a trading fund's exchange API credentials.
//!
//! A master secret is split into SLIP-39 shares held by named custodians; a quorum of them
//! reconstructs it in locked memory to derive an Ed25519 signing key and an age identity.
//! Layering (lower modules never import upper ones):
//! `gf256` <- `slip39` <- `secret`/`keys`/`token` <- `input`/`quorum` <- `vault` <- `cli`.

// Unsafe code only where a local, commented `#[allow(unsafe_code)]` says why (harden, wipe_alloc,
// the SSSE3 kernel in gf256).
#![deny(unsafe_code)]

// A module is declared here only once it compiles; the crate builds at every commit.
pub mod audit;
pub mod certificate;
pub mod clock;
pub mod gathering;
pub mod gf256;
pub mod harden;
pub mod input;
pub mod keys;
pub mod ops;
pub mod policy;
pub mod quorum;
pub mod secret;
pub mod sharefile;
pub mod slip39;
#[cfg(feature = "testkit")]
pub mod testkit;
pub mod timefmt;
pub mod token;
pub mod vault;
pub mod wipe_alloc;
pub mod wire;
// --- sheet/scan modules (issue 3) ---
pub mod scan;
pub mod sheet;
