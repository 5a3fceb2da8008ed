//! The agent's signing proxy (docs/agent-protocol.md, "Signing proxy"): bots send exchange
//! REST requests through the unlocked agent, with a proxy token in place of the API key and
//! ccxt's standard `proxyUrl`; the proxy checks each request against the credential's scope
//! and the ratified policy, signs it with the real secret (which the bot never holds) and
//! forwards it to the exchange's pinned hosts over TLS.
//!
//! | module | what |
//! | --- | --- |
//! | [`target`] | the request target ccxt sends, taken apart and checked |
//! | [`pipeline`] | one request, check by check, to the exchange and back |
//! | [`session`] | what the agent tells the proxy about a token; what it records |
//! | [`order_budget`] | orders per second and minute per token |
//! | [`nonce`] | nonces that rise across restarts |
//! | [`upstream`] | HTTPS to the pinned hosts (and the test-only override) |
//! | [`tcp_peer`] | the client's uid, from the kernel |
//! | [`refusal`] | the JSON error a bot gets instead |
//! | [`server`] | the loopback listener and its runtime |

pub mod nonce;
pub mod order_budget;
pub mod pipeline;
pub mod refusal;
pub mod server;
pub mod session;
pub mod target;
pub mod tcp_peer;
pub mod upstream;
