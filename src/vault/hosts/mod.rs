//! The known hosts: machines whose long-term Ed25519 key ([`crate::host_key`]) the vault
//! vouches for, by name, so that a custodian holding the vault file can check a ceremony code
//! such a host signed instead of comparing phrases by voice.
//!
//! Like the agent access policy, hosts are added and removed without a quorum, as *proposals*,
//! and trusted only once a quorum ratifies them with the same `--ratify` that ratifies
//! credentials (the ratification record then signs the SHA-256 of the set's canonical bytes).
//! Nothing pending is trusted: an added host waits for a quorum, a removed one stops being
//! trusted at once. A ratified set that differs from what the quorum signed (an edit of the
//! vault file) is *tampered* and trusts nobody.
//!
//! - [`HostEntry`], [`HostProposal`] and the stored form (`stored.rs`);
//! - the canonical bytes the ratification signs the digest of (`canonical.rs`);
//! - the JSON form in the vault file (`json.rs`);
//! - [`KnownHost`], [`HostState`], [`HostChange`], [`HostsError`] and the vault's methods
//!   (`standing.rs`): how the stored set stands against the ratification record.

mod canonical;
pub(super) mod json;
mod standing;
pub(super) mod stored;

pub use standing::{HostChange, HostState, HostsError, KnownHost, PendingHost, ProposeHost};
pub use stored::{HostEntry, HostProposal, ProposeHostError};
