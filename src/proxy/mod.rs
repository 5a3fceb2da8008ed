//! The agent's signing proxy (docs/agent-protocol.md, "Signing proxy"): bots send exchange
//! REST requests through the unlocked agent with a proxy token in place of the API key; the
//! proxy checks each against the policy and signs it with the real secret, which the bot never
//! holds.

pub mod refusal;
pub mod target;
