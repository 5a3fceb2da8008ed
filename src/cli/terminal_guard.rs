//! Putting the terminal back when a signal ends custody while it has echo (or canonical mode)
//! turned off: the terminal ceremony and the hidden passphrase prompt restore the terminal when
//! they finish or fail, but SIGTERM, SIGHUP, SIGINT or SIGQUIT sent from outside would end the
//! process before that code runs and leave the officer's terminal mute.
//!
//! While a [`TerminalGuard`] lives, each of those signals first restores the saved terminal
//! settings (tcsetattr is an ioctl, safe in a signal handler), then ends custody as the signal
//! would have (so the exit status still says which signal it was). The caller restores the
//! terminal itself on its ordinary paths.
//!
//! signal-hook cannot give a signal its default disposition back once an action was registered
//! for it (an unregistered signal is then ignored). So a dropped guard leaves actions behind
//! that end custody as the signal would by default, until [`stand_down`] removes them for code
//! that handles these signals itself (`exec`'s forwarding to the program).

use std::os::fd::{AsRawFd, BorrowedFd};
use std::sync::Mutex;

use rustix::termios::{self, OptionalActions, Termios};
use signal_hook::SigId;

/// The signals that would end custody with the terminal left as it is.
const ENDING: [i32; 4] = [
    signal_hook::consts::SIGTERM,
    signal_hook::consts::SIGHUP,
    signal_hook::consts::SIGINT,
    signal_hook::consts::SIGQUIT,
];

/// The default-emulating actions left behind by dropped guards.
static DEFAULTS: Mutex<Vec<SigId>> = Mutex::new(Vec::new());

/// Remove the actions that end custody on these signals (the caller has registered its own).
pub fn stand_down() {
    let mut defaults = DEFAULTS.lock().unwrap_or_else(|p| p.into_inner());
    for id in defaults.drain(..) {
        signal_hook::low_level::unregister(id);
    }
}

/// Restores `saved` on the terminal if a signal ends custody meanwhile.
pub struct TerminalGuard {
    ids: Vec<SigId>,
}

impl TerminalGuard {
    /// Guard the terminal `tty` (kept open by the caller for the guard's life), whose settings
    /// before custody changed them are `saved`.
    pub fn new(tty: &impl AsRawFd, saved: &Termios) -> TerminalGuard {
        // The restoring actions end custody themselves; default-emulating ones left by an
        // earlier guard would run first and end it before the terminal is restored.
        stand_down();
        let fd = tty.as_raw_fd();
        let mut ids = Vec::with_capacity(ENDING.len());
        for signal in ENDING {
            let saved = saved.clone();
            // SAFETY: the handler only makes two async-signal-safe calls: tcsetattr (an ioctl
            // through rustix, no allocation or lock) on a descriptor the caller keeps open while
            // the guard lives, and signal-hook's emulate_default_handler, made for handlers.
            #[allow(unsafe_code)]
            let id = unsafe {
                signal_hook::low_level::register(signal, move || {
                    let tty = BorrowedFd::borrow_raw(fd);
                    let _ = termios::tcsetattr(tty, OptionalActions::Now, &saved);
                    let _ = signal_hook::low_level::emulate_default_handler(signal);
                })
            };
            // Registering fails only for signals that cannot be caught; these four can.
            if let Ok(id) = id {
                ids.push(id);
            }
        }
        TerminalGuard { ids }
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        let mut defaults = DEFAULTS.lock().unwrap_or_else(|p| p.into_inner());
        if defaults.is_empty() {
            for signal in ENDING {
                // SAFETY: the action only calls signal-hook's emulate_default_handler.
                #[allow(unsafe_code)]
                let id = unsafe {
                    signal_hook::low_level::register(signal, move || {
                        let _ = signal_hook::low_level::emulate_default_handler(signal);
                    })
                };
                if let Ok(id) = id {
                    defaults.push(id);
                }
            }
        }
        for id in self.ids.drain(..) {
            signal_hook::low_level::unregister(id);
        }
    }
}
