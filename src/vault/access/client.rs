//! A client of the agent as the kernel describes it: never what the client says about itself.

use std::path::PathBuf;

/// What the kernel says about the process at the other end of the agent's socket
/// (`SO_PEERCRED`, `/proc/PID/exe`, `/proc/PID/cgroup`). The agent fills it for every request;
/// [`super::AccessRule::admits`] compares a rule with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Client {
    /// The peer's effective user id.
    pub uid: u32,
    /// The peer's effective group id.
    pub gid: u32,
    /// The peer's process id (for the audit log; rules never name it).
    pub pid: u32,
    /// The peer's executable as the kernel reports it (`/proc/PID/exe`, absolute, links
    /// resolved); `None` when it could not be read.
    pub exe: Option<PathBuf>,
    /// The systemd unit the peer runs in (`bot.service`), when it runs in one.
    pub unit: Option<String>,
}
