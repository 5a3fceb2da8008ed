//! The use cases: each operation takes typed inputs (paths resolved, shares already read) and
//! returns a typed result or error. Nothing here prints, prompts or knows about flags; the
//! command line (in the binary, `src/cli/`) and other front ends are thin shells over these
//! functions, and each maps the typed errors to its own advice.
//!
//! A quorum operation runs inside one [`session`]: begin (harden the process, load the vault,
//! record the start in the audit log), unlock with the shares the front end read, run the
//! operation, and finish (a signed record of success, or the failure with its reason). A front
//! end that releases one credential to a program, with the library alone:
//!
//! ```no_run
//! use std::path::Path;
//! use custody::audit::ProgramEnd;
//! use custody::clock::Clock;
//! use custody::input;
//! use custody::ops::release::{self, ReleaseOptions};
//! use custody::ops::session::{Begun, Presentation};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let vault = Path::new("fund.vault.json");
//! let begun = Begun::begin(vault, "exec", Clock::system())?;
//! let presentation = Presentation {
//!     shares: vec![
//!         input::read_file(Path::new("01-alice.share.txt"))?,
//!         input::read_file(Path::new("02-bob.share.txt"))?,
//!     ],
//!     ..Presentation::default()
//! };
//! let session = begun.unlock(&presentation)?;
//! let names = ["binance-main".to_string()];
//! // `None`: ratify nothing (`Some(&mut consent)` would first show what awaits
//! // ratification to a `ratify::Consent` and sign it if it agrees).
//! let mut releasing = release::open(session, &names, ReleaseOptions::default(), None)?;
//! let released = std::mem::take(&mut releasing.released);
//! let mut bot = std::process::Command::new("./bot");
//! for (name, value) in release::environment(release::EnvStyle::Plain, &released.opened) {
//!     bot.env(name, value);
//! }
//! let spawned = bot.spawn();
//! drop((released, bot)); // the program has its copy; erase ours
//! match spawned {
//!     Ok(mut child) => {
//!         // The ceremony closes and the master key is erased while the program runs; a
//!         // vault that could not be updated to anchor the closing record is reported, not
//!         // fatal: the bot is already running.
//!         let mut running = releasing.started("./bot", child.id())?;
//!         if let Some(problem) = running.take_not_anchored() {
//!             eprintln!("warning: {problem}");
//!         }
//!         running.ended(ProgramEnd::from(child.wait()?))?;
//!     }
//!     Err(e) => releasing.not_started("./bot", &e.to_string())?,
//! }
//! # Ok(())
//! # }
//! ```
//!
//! | module | operation |
//! | --- | --- |
//! | [`session`] | one quorum ceremony around one action, written to the audit log |
//! | [`init`] | a new vault and its first share set |
//! | [`issue`] | signing, self-checking and writing a share set (sheets and share files) |
//! | [`creds`] | add, rotate, status, show, reveal, remove, rename a credential |
//! | [`ratify`] | review, test-open and sign what was added or rotated without a quorum |
//! | [`release`] | the gate deciding which credentials may leave, and opening them |
//! | [`drill`] | a recovery drill and its certificate |
//! | [`rekey`] | reshare, rotate-master, confirm, cancel |
//! | [`extend`] | more custodians for a group, same secret |
//! | [`replace`] | a custodian removed or replaced (sheet lost, custodian leaves): a master rotation |
//! | [`rebuild`] | a lost vault file rebuilt from a quorum of its shares (no credentials) |
//! | [`agent_unlock`] | a quorum unlocks the agent: open what its access policy grants, keep a signing key, erase the master |
//! | [`audit_repair`] | remove a torn final line from the audit log, keeping a copy (no quorum) |
//! | [`access`] | the agent access policy: propose and remove rules (no quorum), list, the policy in force |
//! | [`hosts`] | the known hosts: propose and remove ceremony hosts (no quorum), list, the host a key belongs to |

/// `From` conversions that wrap a cause in one variant of an operation's error:
/// `wrap_errors!(CredError, StoreError => Store, ...)`.
macro_rules! wrap_errors {
    ($target:ident, $($t:ty => $v:ident),* $(,)?) => {
        $(impl From<$t> for $target {
            fn from(e: $t) -> Self {
                $target::$v(e)
            }
        })*
    };
}
use wrap_errors;

pub mod access;
pub mod agent_unlock;
pub mod audit_repair;
pub mod audit_verify;
pub mod creds;
pub mod drill;
pub mod extend;
pub mod hosts;
pub mod init;
pub mod issue;
pub mod ratify;
pub mod rebuild;
pub mod rekey;
pub mod release;
pub mod replace;
pub mod session;
