//! A ceremony host's long-term Ed25519 key: the machine that runs a quorum command with
//! `--remote` (an officer's machine, the agent's) signs its ceremony codes with it, so that a
//! custodian whose vault lists the host as known can check a code by signature rather than by
//! comparing phrases. The secret stays in a file on the host (mode 0600); its public form,
//! `custody-host:` + base64url of the 32-byte key, is what a vault enrols
//! ([`crate::vault::hosts`]).
//!
//! - [`public`] (`public.rs`): the public form, written and parsed;
//! - [`secret_file`] (`secret_file.rs`): the secret file, generated, written and loaded.

pub mod public;
pub mod secret_file;

pub use public::{PublicKeyProblem, parse_public, public_text};
pub use secret_file::{HostKeyError, generate, load};
