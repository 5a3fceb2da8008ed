//! Why the host could not hold a remote ceremony (`--remote`): what the command line asked is
//! inconsistent, or the host key, the session or the envelope folder could not be used.

use std::fmt;
use std::path::PathBuf;

use custody::remote::CodeError;

/// Why a remote ceremony could not be held.
#[derive(Debug)]
pub enum RemoteHostError {
    /// `--remote` without a vault: the code binds the vault's id and epoch.
    NoVault,
    /// The host key file could not be used.
    HostKey {
        /// The file given with `--host-key`.
        path: PathBuf,
        /// What was wrong with it.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The session could not be opened.
    Open(CodeError),
    /// `--envelope-dir` cannot be watched.
    Inbox {
        /// The folder given.
        dir: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// Neither `--envelope`, `--envelope-dir` nor a terminal: no envelope could arrive.
    NoWayIn,
}

impl fmt::Display for RemoteHostError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RemoteHostError::NoVault => f.write_str(
                "--remote needs the vault (--vault): the ceremony code names its id and epoch",
            ),
            RemoteHostError::HostKey { path, source } => {
                write!(f, "cannot use the host key {}: {source}", path.display())
            }
            RemoteHostError::Open(e) => write!(f, "cannot open the remote ceremony: {e}"),
            RemoteHostError::Inbox { dir, source } => write!(
                f,
                "cannot watch {} for envelopes: {source}; give an existing folder",
                dir.display()
            ),
            RemoteHostError::NoWayIn => f.write_str(
                "a remote ceremony without a terminal needs --envelope FILE or --envelope-dir \
                 DIR to receive the custodians' envelopes (or hold it at a terminal: \
                 --interactive)",
            ),
        }
    }
}

impl std::error::Error for RemoteHostError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            RemoteHostError::HostKey { source, .. } => Some(source.as_ref()),
            RemoteHostError::Open(e) => Some(e),
            RemoteHostError::Inbox { source, .. } => Some(source),
            _ => None,
        }
    }
}
