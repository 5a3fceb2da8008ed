//! The agent's socket: where it lives and how it is made safe to listen on.
//!
//! The socket is a Unix stream socket (never TCP) inside a directory the agent's user owns,
//! mode 0700 (0710 with a socket group, so that members of that group can reach the socket
//! but not list or change the directory); the socket itself is 0600 (0660 with the group).
//! Only processes that can reach it can connect, and every request is then checked against
//! the kernel's account of who sent it (`peer.rs`).
//!
//! What may already be at the path: nothing (bind); a socket with no agent behind it (a
//! crashed agent's: removed, then bind); a socket with a live agent behind it (refused: one
//! agent per socket); a symbolic link or anything else (refused, never followed or removed).

use std::fmt;
use std::fs;
use std::io;
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, MetadataExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};

/// The socket's file name inside its directory, when only the directory is implied.
pub const SOCKET_NAME: &str = "agent.sock";

/// The default socket path: `$XDG_RUNTIME_DIR/custody/agent.sock` when that variable names an
/// absolute directory, else `/run/custody/agent.sock`.
pub fn default_path() -> PathBuf {
    match std::env::var_os("XDG_RUNTIME_DIR").map(PathBuf::from) {
        Some(dir) if dir.is_absolute() => dir.join("custody").join(SOCKET_NAME),
        _ => PathBuf::from("/run/custody").join(SOCKET_NAME),
    }
}

/// Why the agent cannot listen at a path.
#[derive(Debug)]
pub enum SocketError {
    /// The path has no parent directory or file name.
    BadPath(PathBuf),
    /// The directory could not be created or inspected.
    Directory {
        /// The directory.
        dir: PathBuf,
        /// What failed.
        source: io::Error,
    },
    /// The directory is a symbolic link, not a directory, or not owned by this user, or
    /// others may write to it.
    UnsafeDirectory {
        /// The directory.
        dir: PathBuf,
        /// What is wrong with it.
        problem: String,
    },
    /// Something other than a socket is at the path (a symbolic link included).
    NotASocket(PathBuf),
    /// Another agent is listening there.
    InUse(PathBuf),
    /// Binding or setting permissions failed.
    Io {
        /// What failed.
        action: &'static str,
        /// The socket path.
        path: PathBuf,
        /// The error.
        source: io::Error,
    },
}

impl fmt::Display for SocketError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SocketError::BadPath(p) => write!(f, "{}: not a usable socket path", p.display()),
            SocketError::Directory { dir, source } => {
                write!(
                    f,
                    "{}: cannot prepare the socket's folder: {source}",
                    dir.display()
                )
            }
            SocketError::UnsafeDirectory { dir, problem } => write!(
                f,
                "{}: the socket's folder {problem}; the agent listens only in a folder its own \
                 user owns and no one else can write to",
                dir.display()
            ),
            SocketError::NotASocket(p) => write!(
                f,
                "{}: something other than a socket is there (a symbolic link, a file or a \
                 folder); it was left alone",
                p.display()
            ),
            SocketError::InUse(p) => write!(
                f,
                "{}: another agent is already listening there",
                p.display()
            ),
            SocketError::Io {
                action,
                path,
                source,
            } => write!(
                f,
                "{}: cannot {action} the socket: {source}",
                path.display()
            ),
        }
    }
}

impl std::error::Error for SocketError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            SocketError::Directory { source, .. } | SocketError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// A listening socket; the socket file is removed when it is dropped.
pub struct Listening {
    /// The listener.
    pub listener: UnixListener,
    /// Where it listens.
    pub path: PathBuf,
    /// Identifies the file this agent made (device, inode), so only that one is removed.
    made: (u64, u64),
}

impl Drop for Listening {
    fn drop(&mut self) {
        if let Ok(m) = fs::symlink_metadata(&self.path)
            && (m.dev(), m.ino()) == self.made
        {
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// Prepare the folder, deal with what is at `path`, and listen there. With `group`, the
/// folder is 0710 and the socket 0660, both in that group.
pub fn listen(path: &Path, group: Option<u32>) -> Result<Listening, SocketError> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .ok_or_else(|| SocketError::BadPath(path.to_path_buf()))?;
    if path.file_name().is_none() {
        return Err(SocketError::BadPath(path.to_path_buf()));
    }
    prepare_dir(dir, group)?;
    match fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_socket() => match UnixStream::connect(path) {
            Ok(_) => return Err(SocketError::InUse(path.to_path_buf())),
            Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => {
                fs::remove_file(path).map_err(|source| SocketError::Io {
                    action: "remove the stale",
                    path: path.to_path_buf(),
                    source,
                })?;
            }
            Err(source) => {
                return Err(SocketError::Io {
                    action: "check the existing",
                    path: path.to_path_buf(),
                    source,
                });
            }
        },
        Ok(_) => return Err(SocketError::NotASocket(path.to_path_buf())),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(source) => {
            return Err(SocketError::Io {
                action: "inspect",
                path: path.to_path_buf(),
                source,
            });
        }
    }
    let io = |action| {
        move |source| SocketError::Io {
            action,
            path: path.to_path_buf(),
            source,
        }
    };
    let listener = UnixListener::bind(path).map_err(io("bind"))?;
    let mode = if group.is_some() { 0o660 } else { 0o600 };
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
        .map_err(io("set permissions on"))?;
    if let Some(g) = group {
        std::os::unix::fs::chown(path, None, Some(g)).map_err(io("set the group of"))?;
    }
    let m = fs::symlink_metadata(path).map_err(io("inspect"))?;
    Ok(Listening {
        listener,
        path: path.to_path_buf(),
        made: (m.dev(), m.ino()),
    })
}

/// Create `dir` (0700, or 0710 in `group`) if missing; refuse it if it is a symbolic link,
/// not a directory, not owned by this user, or writable by anyone else. An existing folder's
/// mode is not changed.
fn prepare_dir(dir: &Path, group: Option<u32>) -> Result<(), SocketError> {
    let mode = if group.is_some() { 0o710 } else { 0o700 };
    let unsafe_dir = |problem: &str| SocketError::UnsafeDirectory {
        dir: dir.to_path_buf(),
        problem: problem.to_owned(),
    };
    let mut created = false;
    let meta = match fs::symlink_metadata(dir) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            created = true;
            fs::DirBuilder::new()
                .recursive(true)
                .mode(mode)
                .create(dir)
                .map_err(|source| SocketError::Directory {
                    dir: dir.to_path_buf(),
                    source,
                })?;
            fs::symlink_metadata(dir).map_err(|source| SocketError::Directory {
                dir: dir.to_path_buf(),
                source,
            })?
        }
        Err(source) => {
            return Err(SocketError::Directory {
                dir: dir.to_path_buf(),
                source,
            });
        }
    };
    if meta.file_type().is_symlink() {
        return Err(unsafe_dir("is a symbolic link"));
    }
    if !meta.is_dir() {
        return Err(unsafe_dir("is not a folder"));
    }
    if meta.uid() != rustix::process::geteuid().as_raw() {
        return Err(unsafe_dir(&format!(
            "belongs to uid {}, not to the agent's user",
            meta.uid()
        )));
    }
    if meta.mode() & 0o022 != 0 {
        return Err(unsafe_dir("can be written by other users"));
    }
    if !created {
        // A folder the operator chose is left as it is: the socket's own mode protects it.
        return Ok(());
    }
    // `mkdir` applied the umask: set the mode exactly.
    fs::set_permissions(dir, fs::Permissions::from_mode(mode)).map_err(|source| {
        SocketError::Directory {
            dir: dir.to_path_buf(),
            source,
        }
    })?;
    if let Some(g) = group {
        std::os::unix::fs::chown(dir, None, Some(g)).map_err(|source| SocketError::Directory {
            dir: dir.to_path_buf(),
            source,
        })?;
    }
    Ok(())
}
