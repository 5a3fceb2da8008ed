//! How the agent runs: what `custody agent run` was given.

use std::path::PathBuf;
use std::time::Duration;

use crate::clock::Clock;
use crate::proxy::server::ProxyConfig;

/// Requests a minute for a client the policy does not name (its refusals are budgeted too,
/// so that it cannot fill the audit log).
pub const UNNAMED_CLIENT_RATE: u32 = 60;

/// How the agent runs.
#[derive(Clone, Debug)]
pub struct Config {
    /// The vault file.
    pub vault: PathBuf,
    /// The socket path.
    pub socket: PathBuf,
    /// A group whose members may connect (socket 0660, folder 0710), if any.
    pub socket_group: Option<u32>,
    /// Seal this long after an unlock, whatever happens.
    pub max_ttl: Duration,
    /// Seal after this long without a credential handed out, if set.
    pub idle_ttl: Option<Duration>,
    /// The clock records are written with.
    pub clock: Clock,
    /// The signing proxy, if enabled (`--proxy-listen`).
    pub proxy: Option<ProxyConfig>,
}
