//! The agent: a long-running process that a quorum unlocks once, and that then hands the
//! credentials its ratified access policy grants to the clients it names, over a Unix socket,
//! without a quorum for each bot restart (docs/agent-protocol.md).
//!
//! It starts sealed, holding no secret. An unlock runs the usual quorum ceremony in the agent
//! (`ops::agent_unlock`), opens what the policy grants, and erases the master secret and every
//! derived key; only the opened credentials stay, in locked memory, with a key made for the
//! session to sign the agent's audit records. Every request's client is identified by the
//! kernel (`peer`), checked against the policy and its rate limit (`rate`), and recorded. It
//! seals itself at its time limit, when idle, on SIGTERM/SIGINT/SIGHUP, and when the vault
//! changes under it (`holding`).
//!
//! | module | what |
//! | --- | --- |
//! | [`protocol`] | requests and answers on the socket, every limit |
//! | [`socket`] | where the socket lives and how it is made safe |
//! | [`peer`] | who the client is, from the kernel, per request |
//! | [`rate`] | per-client request budgets |
//! | [`holding`] | what an unlocked agent holds, and noticing vault changes |
//! | [`server`] | the service: connections, requests, sealing |
//! | [`client`] | asking an agent (what `custody agent ...` and the tests use) |

pub mod client;
pub mod config;
pub mod holding;
pub mod peer;
pub mod protocol;
pub mod proxy_link;
pub mod proxy_tokens;
pub mod rate;
pub mod server;
pub mod shared;
pub mod socket;
