//! The program `exec` hands credentials to, run as a supervisor expects of a wrapper: signals
//! sent to custody reach the program, custody waits for it and exits with its status (128 + n
//! when a signal ended it), and the program does not outlive custody unnoticed.
//!
//! - Before custody starts the program it catches SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1 and
//!   SIGUSR2 (so none can end custody in between); once the program runs, each of them sent to
//!   custody by a process (`kill`, systemd, docker, supervisord, runit) is sent on to it.
//!   Signals from the terminal (Ctrl-C, Ctrl-\) are not sent twice: the kernel already
//!   delivers them to the program, which stays in custody's process group and keeps the
//!   terminal.
//! - On Linux the program is started with `PR_SET_PDEATHSIG = SIGKILL`: if custody itself is
//!   killed with SIGKILL (nothing can be forwarded then), the kernel ends the program too, so a
//!   restarted custody never runs next to an orphaned bot on the same API key.

use std::io;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Command, ExitStatus};
use std::thread::JoinHandle;

use rustix::process::{Pid, Signal};
use signal_hook::iterator::SignalsInfo;
use signal_hook::iterator::exfiltrator::WithOrigin;
use signal_hook::low_level::siginfo::Cause;

/// The signals forwarded to the program.
pub const FORWARDED: [Signal; 6] = [
    Signal::TERM,
    Signal::INT,
    Signal::HUP,
    Signal::QUIT,
    Signal::USR1,
    Signal::USR2,
];

/// Make the program die with custody (Linux): set in the child between fork and exec.
pub fn die_with_custody(cmd: &mut Command) {
    let parent = rustix::process::getpid();
    // SAFETY: the closure runs in the forked child before exec, where only async-signal-safe
    // calls are allowed; prctl(2) and getppid(2) are plain system calls (rustix makes them
    // without allocating or locking).
    #[allow(unsafe_code)]
    unsafe {
        cmd.pre_exec(move || {
            rustix::process::set_parent_process_death_signal(Some(Signal::KILL))?;
            // custody may have died between fork and prctl: then the parent is no longer it.
            if rustix::process::getppid() != Some(parent) {
                return Err(io::Error::other(
                    "custody exited while starting the program",
                ));
            }
            Ok(())
        });
    }
}

/// Signals caught from before the program starts until it has ended.
pub struct Forwarder {
    signals: SignalsInfo<WithOrigin>,
}

impl Forwarder {
    /// Catch the forwarded signals (call before starting the program).
    pub fn install() -> io::Result<Forwarder> {
        let numbers: Vec<i32> = FORWARDED.iter().map(|s| s.as_raw()).collect();
        let signals = SignalsInfo::<WithOrigin>::new(numbers)?;
        // After a terminal ceremony, actions that end custody on these signals are left
        // behind (see terminal_guard.rs); from now on the signals are forwarded instead.
        super::terminal_guard::stand_down();
        Ok(Forwarder { signals })
    }

    /// Send every caught signal that a process sent to custody on to `pid`, until
    /// [`Forwarding::stop`]. Signals caught before this call are forwarded too.
    pub fn forward_to(mut self, pid: u32) -> Forwarding {
        let handle = self.signals.handle();
        let thread = std::thread::spawn(move || {
            let Some(target) = i32::try_from(pid).ok().and_then(Pid::from_raw) else {
                return;
            };
            for origin in self.signals.forever() {
                if matches!(origin.cause, Cause::Kernel) {
                    // From the terminal: the program, in the same process group, has it too.
                    continue;
                }
                if let Some(signal) = Signal::from_named_raw(origin.signal) {
                    // The program may have ended meanwhile (ESRCH): nothing to forward to.
                    let _ = rustix::process::kill_process(target, signal);
                }
            }
        });
        Forwarding { handle, thread }
    }
}

/// Signals being forwarded to a running program.
pub struct Forwarding {
    handle: signal_hook::iterator::Handle,
    thread: JoinHandle<()>,
}

impl Forwarding {
    /// Stop forwarding (the program has ended). The signals stay caught until custody exits,
    /// which it does next.
    pub fn stop(self) {
        self.handle.close();
        let _ = self.thread.join();
    }
}

/// Hand `stdin` (the credentials as JSON, if any) to the program on a thread of its own,
/// wait for the program to end, and stop forwarding signals. A program that exits without
/// reading its input makes the write fail with EPIPE: that is its choice.
pub fn feed_and_wait(
    child: &mut std::process::Child,
    forwarding: Forwarding,
    stdin: Option<zeroize::Zeroizing<Vec<u8>>>,
) -> io::Result<ExitStatus> {
    use std::io::Write;
    let writer = match (stdin, child.stdin.take()) {
        (Some(buf), Some(mut pipe)) => Some(std::thread::spawn(move || {
            let _ = pipe.write_all(&buf);
            drop(buf);
        })),
        _ => None,
    };
    let status = child.wait();
    forwarding.stop();
    if let Some(t) = writer {
        let _ = t.join();
    }
    status
}

/// custody's exit status for the program's: its own code, or 128 + n when signal n ended it.
pub fn exit_code(status: ExitStatus) -> u8 {
    match (status.code(), status.signal()) {
        (Some(c), _) => c.clamp(0, 255) as u8,
        (None, Some(sig)) => (128 + sig).clamp(0, 255) as u8,
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_follow_the_shell_convention() {
        assert_eq!(exit_code(ExitStatus::from_raw(0)), 0);
        assert_eq!(exit_code(ExitStatus::from_raw(3 << 8)), 3);
        // Killed by SIGTERM (15): 143, as a shell reports it.
        assert_eq!(exit_code(ExitStatus::from_raw(15)), 143);
        assert_eq!(exit_code(ExitStatus::from_raw(9)), 137);
    }
}
