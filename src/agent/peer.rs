//! Who is at the other end of the agent's socket, from the kernel only: `SO_PEERCRED` gives
//! the uid, gid and pid of the process that connected; a pidfd opened on that pid right away
//! pins the process, so that its executable (`/proc/PID/exe`) and systemd unit
//! (`/proc/PID/cgroup`) are read again for every request and belong to the same process, not
//! to another one that later got the same pid (the pidfd shows the process has exited, and
//! the request is refused). Nothing the client says about itself is believed.

use std::fs;
use std::io;
use std::os::fd::OwnedFd;
use std::os::unix::net::UnixStream;
use std::path::PathBuf;

use rustix::event::{PollFd, PollFlags};
use rustix::process::{Pid, PidfdFlags};

/// The peer of one connection, as the kernel reported it when it connected.
pub struct Peer {
    /// User id.
    pub uid: u32,
    /// Group id.
    pub gid: u32,
    /// Process id.
    pub pid: u32,
    /// A pidfd on that process, where the kernel has pidfds (Linux 5.3+).
    pidfd: Option<OwnedFd>,
}

/// What the agent knows of the client at one request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeerFacts {
    /// User id (`SO_PEERCRED`).
    pub uid: u32,
    /// Group id (`SO_PEERCRED`).
    pub gid: u32,
    /// Process id (`SO_PEERCRED`).
    pub pid: u32,
    /// The executable, when readable (reading another user's needs root or the same uid).
    pub exe: Option<PathBuf>,
    /// The systemd unit the process runs in (`*.service` or `*.scope`), if any.
    pub unit: Option<String>,
}

/// Why the peer cannot be identified for a request.
#[derive(Debug)]
pub enum PeerError {
    /// `SO_PEERCRED` failed.
    Credentials(io::Error),
    /// The process that connected has exited (its connection lives on in another process,
    /// or its pid could now belong to someone else).
    Gone,
}

impl std::fmt::Display for PeerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PeerError::Credentials(e) => {
                write!(f, "the kernel did not say who the client is: {e}")
            }
            PeerError::Gone => f.write_str(
                "the process that opened this connection has exited; connect again from the \
                 process that makes the request",
            ),
        }
    }
}

impl std::error::Error for PeerError {}

impl Peer {
    /// The peer of `stream`, from `SO_PEERCRED`, pinned with a pidfd. A peer in another PID
    /// namespace (another container) has pid 0 here: it is known by uid and gid only.
    pub fn of(stream: &UnixStream) -> Result<Peer, PeerError> {
        let cred = peercred(stream).map_err(PeerError::Credentials)?;
        let pid = u32::try_from(cred.pid).unwrap_or(0);
        let pidfd = i32::try_from(pid)
            .ok()
            .and_then(Pid::from_raw)
            .and_then(|p| rustix::process::pidfd_open(p, PidfdFlags::empty()).ok());
        Ok(Peer {
            uid: cred.uid,
            gid: cred.gid,
            pid,
            pidfd,
        })
    }

    /// Whether the process that connected is still running (its pidfd is not readable).
    /// Without a pidfd, whether a process with its pid exists; a peer with no pid here (pid 0,
    /// another PID namespace) cannot be checked and counts as running.
    fn alive(&self) -> bool {
        if self.pid == 0 {
            return true;
        }
        match &self.pidfd {
            Some(fd) => {
                let mut fds = [PollFd::new(fd, PollFlags::IN)];
                match rustix::event::poll(&mut fds, Some(&rustix::event::Timespec::default())) {
                    Ok(0) => true,
                    Ok(_) => !fds[0].revents().contains(PollFlags::IN),
                    Err(_) => false,
                }
            }
            None => i32::try_from(self.pid)
                .ok()
                .and_then(Pid::from_raw)
                .is_some_and(|p| rustix::process::test_kill_process(p).is_ok()),
        }
    }

    /// The facts for one request: read now, and only if the process is still the one that
    /// connected (checked after reading, so a process that exits meanwhile is refused).
    pub fn facts(&self) -> Result<PeerFacts, PeerError> {
        if !self.alive() {
            return Err(PeerError::Gone);
        }
        let (exe, unit) = if self.pid == 0 {
            (None, None)
        } else {
            (
                fs::read_link(format!("/proc/{}/exe", self.pid)).ok(),
                fs::read_to_string(format!("/proc/{}/cgroup", self.pid))
                    .ok()
                    .and_then(|text| unit_of(&text)),
            )
        };
        if !self.alive() {
            return Err(PeerError::Gone);
        }
        Ok(PeerFacts {
            uid: self.uid,
            gid: self.gid,
            pid: self.pid,
            exe,
            unit,
        })
    }
}

/// `getsockopt(SO_PEERCRED)` into the kernel's own structure (its pid may be 0).
// getsockopt writes into a caller-provided buffer: the one unsafe call here (see SAFETY).
#[allow(unsafe_code)]
fn peercred(stream: &UnixStream) -> io::Result<libc::ucred> {
    use std::os::fd::AsRawFd;
    let mut cred = libc::ucred {
        pid: 0,
        uid: u32::MAX,
        gid: u32::MAX,
    };
    let mut len = std::mem::size_of::<libc::ucred>() as libc::socklen_t;
    // SAFETY: `cred` is a live, writable `ucred` and `len` its exact size; the kernel writes at
    // most `len` bytes into it and stores the length written back into `len`. The descriptor
    // is borrowed from `stream` for the duration of the call.
    let rc = unsafe {
        libc::getsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_PEERCRED,
            std::ptr::from_mut(&mut cred).cast(),
            &mut len,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    if len as usize != std::mem::size_of::<libc::ucred>() {
        return Err(io::Error::other("SO_PEERCRED returned a short answer"));
    }
    Ok(cred)
}

/// The systemd unit in a `/proc/PID/cgroup` text: the last path component of the unified
/// (`0::`) hierarchy that names a service or scope, e.g. `bot.service` from
/// `0::/system.slice/bot.service`.
pub fn unit_of(cgroup: &str) -> Option<String> {
    let path = cgroup.lines().find_map(|l| l.strip_prefix("0::"))?;
    path.split('/')
        .rev()
        .find(|c| c.ends_with(".service") || c.ends_with(".scope"))
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_come_from_the_unified_hierarchy() {
        assert_eq!(
            unit_of("0::/system.slice/bot.service\n").as_deref(),
            Some("bot.service")
        );
        assert_eq!(
            unit_of("0::/user.slice/user-1000.slice/user@1000.service/app.slice/run-u7.scope\n")
                .as_deref(),
            Some("run-u7.scope")
        );
        assert_eq!(unit_of("0::/\n"), None);
        assert_eq!(unit_of("1:name=systemd:/system.slice/x.service\n"), None);
    }

    #[test]
    fn the_peer_of_a_socket_pair_is_this_process() {
        let (a, _b) = UnixStream::pair().unwrap();
        let peer = Peer::of(&a).unwrap();
        let facts = peer.facts().unwrap();
        assert_eq!(facts.pid, std::process::id());
        assert_eq!(facts.uid, rustix::process::getuid().as_raw());
        assert_eq!(facts.exe, std::env::current_exe().ok());
    }
}
