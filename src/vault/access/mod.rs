//! The agent access policy stored in the vault: which local clients (named by what the kernel
//! says about a socket's peer: uid, and optionally gid, executable and systemd unit) may
//! receive which credentials from the agent, each rule with a request rate limit and the terms
//! of the agent's signing proxy (withdrawals, order limits, symbols, maximum notional).
//!
//! Rules are added, changed and removed without a quorum, as *proposals*; a proposal takes
//! effect only once a quorum ratifies it with the same `--ratify` that ratifies credentials (the
//! ratification record then signs the SHA-256 of the policy's canonical bytes). Until then the
//! ratified rules stay in force, except that a rule removed without a quorum stops granting at
//! once: without a quorum, access can only be taken away. A ratified part that differs from what
//! the quorum signed (an edit of the vault file) is *tampered* and grants nothing.
//!
//! - [`Client`] (`client.rs`): the facts the kernel gives about a peer;
//! - [`Selector`], [`Rate`], [`AccessRule`] (`rule.rs`): one rule and its checks;
//! - [`ProxyTerms`] (`terms.rs`): what a rule lets through the signing proxy beyond the
//!   credentials' scope, and [`Notional`] (`notional.rs`): the exact decimal its order-size
//!   limit is compared in;
//! - [`AccessPolicy`] (`policy.rs`): the rules in force, [`AccessPolicy::grants`];
//! - [`RuleChange`], [`AccessError`] and the vault's methods (`standing.rs`): how the stored
//!   policy stands against the ratification record;
//! - the stored form (`stored.rs`), its canonical bytes (`canonical.rs`) and its JSON
//!   (`json.rs`), private to the vault.

mod canonical;
mod client;
pub(super) mod json;
mod notional;
mod policy;
mod rule;
mod standing;
pub(super) mod stored;
mod terms;

pub use client::Client;
pub use notional::Notional;
pub use policy::AccessPolicy;
pub use rule::{AccessRule, Rate, RuleError, Selector};
pub use standing::{AccessError, ListedRule, RuleChange, RuleState};
pub use stored::Proposal;
pub use terms::{DecimalField, ProxyTerms, TermsError};
