//! Process hygiene for commands that hold the master secret: no core dumps, not ptrace-able
//! by other users' processes, and page locking so secrets are not written to swap.

use std::io;

/// What [`for_quorum`] achieved. Each field is `Ok` when the protection is in force.
#[derive(Debug)]
pub struct Hardening {
    /// `prctl(PR_SET_DUMPABLE, 0)`: no core file, `/proc/PID/mem` closed to other processes.
    pub non_dumpable: io::Result<()>,
    /// `RLIMIT_CORE` set to 0 (soft and hard).
    pub no_core_limit: io::Result<()>,
}

impl Hardening {
    /// Messages describing protections that could not be put in place, for the operator.
    pub fn warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Err(e) = &self.non_dumpable {
            out.push(format!("could not mark the process non-dumpable: {e}"));
        }
        if let Err(e) = &self.no_core_limit {
            out.push(format!("could not disable core dumps: {e}"));
        }
        out
    }
}

/// Disable core dumps and make the process non-dumpable. Call before any secret is read.
pub fn for_quorum() -> Hardening {
    let no_core_limit = rustix::process::setrlimit(
        rustix::process::Resource::Core,
        rustix::process::Rlimit {
            current: Some(0),
            maximum: Some(0),
        },
    )
    .map_err(io::Error::from);
    #[cfg(target_os = "linux")]
    let non_dumpable =
        rustix::process::set_dumpable_behavior(rustix::process::DumpableBehavior::NotDumpable)
            .map_err(io::Error::from);
    #[cfg(not(target_os = "linux"))]
    let non_dumpable = Ok(());
    Hardening {
        non_dumpable,
        no_core_limit,
    }
}

/// Lock the pages holding `buf` into RAM. Returns whether it worked (an unprivileged process
/// may exceed `RLIMIT_MEMLOCK`; the secret is still zeroized, only swap protection is lost).
// mlock takes a raw pointer: the one unsafe call here (see SAFETY below).
#[allow(unsafe_code)]
pub fn lock(buf: &[u8]) -> bool {
    if buf.is_empty() {
        return true;
    }
    // SAFETY: the range is a live allocation owned by the caller for the duration of the call;
    // mlock does not read or write the memory.
    unsafe { rustix::mm::mlock(buf.as_ptr() as *mut _, buf.len()).is_ok() }
}

/// Undo [`lock`]. Call after the buffer has been zeroized and before it is freed.
// munlock takes a raw pointer: the one unsafe call here (see SAFETY below).
#[allow(unsafe_code)]
pub fn unlock(buf: &[u8]) {
    if buf.is_empty() {
        return;
    }
    // SAFETY: as in `lock`; munlock does not touch the contents.
    unsafe {
        let _ = rustix::mm::munlock(buf.as_ptr() as *mut _, buf.len());
    }
}
