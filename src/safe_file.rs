//! How custody opens files. Two rules, one place:
//!
//! - **Its own files are never reached through a symbolic link.** The vault, `<vault>.audit`,
//!   `<vault>.audit.lock`, `<vault>.lock`, `<vault>.generation`, `<vault>.bak`, temporary
//!   files and the copies custody keeps are opened with `O_NOFOLLOW` ([`open_own`],
//!   [`create_own`], [`ReadRules::own`]); a link there is refused as
//!   [`Refusal::SymbolicLink`], naming the file, instead of being followed to wherever it
//!   points. (Folders above the file may be links; only the file's own name is checked.)
//! - **A file read whole is read up to a cap** ([`read`]): what it can legitimately be. It is
//!   opened without waiting (`O_NONBLOCK`, so a FIFO with no writer cannot block), checked
//!   with `fstat` to be a regular file — or, where the rules allow, a pipe — before anything is
//!   read, and never read past the cap ([`Refusal::NotAFile`], [`Refusal::TooLarge`]). Where
//!   pipes are allowed, a named FIFO is waited for like any reader would.
//!
//! Share files, the credential JSON of `creds add --from-json`, the vault, the audit log and
//! the generation sidecar are all read through [`read`]; README.md lists every cap.

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

use rustix::fs::OFlags;
use zeroize::Zeroizing;

/// Why custody refused a file without reading it, or without reading past its cap.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The path is a symbolic link, and the file is one of custody's own.
    SymbolicLink,
    /// The path is not a regular file (a device such as `/dev/zero`, a folder, a socket, or a
    /// pipe where none is allowed).
    NotAFile {
        /// Whether a pipe (FIFO) would have been accepted here.
        pipes_allowed: bool,
    },
    /// The file holds more than the cap.
    TooLarge {
        /// The cap, in bytes.
        limit: u64,
    },
}

/// A size in bytes as people read it: `16 MiB`, `64 KiB`, or `N bytes`.
pub fn human_size(bytes: u64) -> String {
    const KIB: u64 = 1024;
    const MIB: u64 = 1024 * 1024;
    if bytes >= MIB && bytes.is_multiple_of(MIB) {
        format!("{} MiB", bytes / MIB)
    } else if bytes >= KIB && bytes.is_multiple_of(KIB) {
        format!("{} KiB", bytes / KIB)
    } else {
        format!("{bytes} bytes")
    }
}

impl fmt::Display for Refusal {
    /// The predicate of a sentence whose subject is the file: "`PATH` is a symbolic link; …".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::SymbolicLink => f.write_str(
                "is a symbolic link; custody does not follow links for its own files: replace it \
                 with the file itself",
            ),
            Refusal::NotAFile {
                pipes_allowed: false,
            } => f.write_str("is not a regular file (it is a device, a pipe or a folder)"),
            Refusal::NotAFile {
                pipes_allowed: true,
            } => f.write_str("is not a regular file or a pipe (it is a device or a folder)"),
            Refusal::TooLarge { limit } => write!(
                f,
                "is larger than {}, more than it can legitimately be; nothing was read beyond that",
                human_size(*limit)
            ),
        }
    }
}

/// A file that could not be opened or read.
#[derive(Debug)]
pub enum FileError {
    /// The operating system refused (`NotFound` when there is no such file).
    Io(io::Error),
    /// custody refused the file (see [`Refusal`]).
    Refused(Refusal),
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FileError::Io(e) => e.fmt(f),
            FileError::Refused(r) => write!(f, "it {r}"),
        }
    }
}

impl std::error::Error for FileError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            FileError::Io(e) => Some(e),
            FileError::Refused(_) => None,
        }
    }
}

impl From<io::Error> for FileError {
    fn from(e: io::Error) -> Self {
        FileError::Io(e)
    }
}

/// `e`, from opening `path` with `O_NOFOLLOW`, as a refusal when the path is a link: `open`
/// gives ELOOP for a link (EEXIST with `O_CREAT | O_EXCL`).
fn link_refusal(path: &Path, e: io::Error) -> FileError {
    let maybe_link = e.raw_os_error() == Some(rustix::io::Errno::LOOP.raw_os_error())
        || e.kind() == io::ErrorKind::AlreadyExists;
    if maybe_link
        && path
            .symlink_metadata()
            .is_ok_and(|m| m.file_type().is_symlink())
    {
        FileError::Refused(Refusal::SymbolicLink)
    } else {
        FileError::Io(e)
    }
}

fn open_flags(
    path: &Path,
    options: &mut OpenOptions,
    follow_links: bool,
    extra: OFlags,
) -> Result<File, FileError> {
    let mut flags = extra;
    if !follow_links {
        flags |= OFlags::NOFOLLOW;
    }
    options
        .custom_flags(flags.bits() as i32)
        .open(path)
        .map_err(|e| link_refusal(path, e))
}

/// Open one of custody's own files with `options`, `O_NOFOLLOW` and `O_NONBLOCK` (set no
/// custom flags on `options`: this call sets them). A symbolic link is refused as
/// [`Refusal::SymbolicLink`]; a FIFO put in a lock file's place cannot block the open
/// (`O_NONBLOCK` changes nothing for a regular file).
pub fn open_own(path: &Path, options: &mut OpenOptions) -> Result<File, FileError> {
    open_flags(path, options, false, OFlags::NONBLOCK)
}

/// Create one of custody's own files with `bytes` and permission `mode` (whatever the umask:
/// the mode is set on the open file), refusing to overwrite anything, a link included; the
/// file and its folder are fsynced. A partly written file is removed.
pub fn create_own(path: &Path, bytes: &[u8], mode: u32) -> Result<(), FileError> {
    use std::os::unix::fs::PermissionsExt;
    let mut f = open_own(
        path,
        OpenOptions::new().write(true).create_new(true).mode(mode),
    )?;
    let res = f
        .set_permissions(std::fs::Permissions::from_mode(mode))
        .and_then(|()| f.write_all(bytes))
        .and_then(|()| f.sync_all());
    if let Err(e) = res {
        drop(f);
        let _ = std::fs::remove_file(path);
        return Err(FileError::Io(e));
    }
    // The new name itself must survive a crash too.
    let folder = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    File::open(folder)?.sync_all()?;
    Ok(())
}

/// What a [`read`] accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReadRules {
    /// The most bytes the file may hold.
    pub limit: u64,
    /// Whether a symbolic link is followed (a path the user named) or refused (custody's own
    /// file).
    pub follow_links: bool,
    /// Whether a pipe or FIFO is read too (up to the cap, waiting for its writer's data).
    pub pipes: bool,
}

impl ReadRules {
    /// One of custody's own files: a regular file, not through a link, at most `limit` bytes.
    pub const fn own(limit: u64) -> ReadRules {
        ReadRules {
            limit,
            follow_links: false,
            pipes: false,
        }
    }

    /// A file the user named: a regular file (links followed), at most `limit` bytes.
    pub const fn named(limit: u64) -> ReadRules {
        ReadRules {
            limit,
            follow_links: true,
            pipes: false,
        }
    }

    /// These rules, also accepting a pipe or FIFO (`<(pass show x)`, `/dev/stdin`).
    pub const fn or_pipe(self) -> ReadRules {
        ReadRules {
            pipes: true,
            ..self
        }
    }
}

/// Read the file at `path` whole, following `rules`: opened without waiting, checked to be a
/// regular file (or a pipe, if allowed) before anything is read, at most `rules.limit` bytes
/// (more is refused without reading further). The bytes are wiped when dropped.
pub fn read(path: &Path, rules: ReadRules) -> Result<Zeroizing<Vec<u8>>, FileError> {
    // A named FIFO where pipes are allowed is opened the ordinary way, which waits for its
    // writer (as `cat` would): opened without waiting, it would read as empty whenever custody
    // came first. Anything else is opened without waiting and checked before it is read.
    let named_fifo = rules.pipes && {
        let meta = if rules.follow_links {
            path.metadata()
        } else {
            path.symlink_metadata()
        };
        meta.is_ok_and(|m| m.file_type().is_fifo())
    };
    let wait = if named_fifo {
        OFlags::empty()
    } else {
        OFlags::NONBLOCK
    };
    let file = open_flags(
        path,
        OpenOptions::new().read(true),
        rules.follow_links,
        wait,
    )?;
    let meta = file.metadata()?;
    let kind = meta.file_type();
    if kind.is_fifo() && rules.pipes {
        // Wait for the writer's data from here on (a FIFO nobody writes to reads as empty).
        let flags = rustix::fs::fcntl_getfl(&file).map_err(io::Error::from)?;
        rustix::fs::fcntl_setfl(&file, flags - OFlags::NONBLOCK).map_err(io::Error::from)?;
    } else if !kind.is_file() {
        return Err(FileError::Refused(Refusal::NotAFile {
            pipes_allowed: rules.pipes,
        }));
    } else if meta.len() > rules.limit {
        return Err(FileError::Refused(Refusal::TooLarge { limit: rules.limit }));
    }
    let capacity = if kind.is_file() {
        meta.len().min(rules.limit)
    } else {
        0
    };
    let mut bytes = Zeroizing::new(Vec::with_capacity(capacity as usize));
    file.take(rules.limit + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > rules.limit {
        return Err(FileError::Refused(Refusal::TooLarge { limit: rules.limit }));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn own_files_refuse_links_named_files_follow_them() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real");
        std::fs::write(&real, b"abc").unwrap();
        let link = dir.path().join("link");
        symlink(&real, &link).unwrap();
        assert!(matches!(
            read(&link, ReadRules::own(10)),
            Err(FileError::Refused(Refusal::SymbolicLink))
        ));
        assert_eq!(&*read(&link, ReadRules::named(10)).unwrap(), b"abc");
        assert!(matches!(
            open_own(&link, OpenOptions::new().append(true)),
            Err(FileError::Refused(Refusal::SymbolicLink))
        ));
        assert!(matches!(
            create_own(&link, b"x", 0o600),
            Err(FileError::Refused(Refusal::SymbolicLink))
        ));
        assert_eq!(std::fs::read(&real).unwrap(), b"abc");
    }

    #[test]
    fn caps_and_kinds() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("f");
        std::fs::write(&f, b"0123456789").unwrap();
        assert_eq!(read(&f, ReadRules::own(10)).unwrap().len(), 10);
        assert!(matches!(
            read(&f, ReadRules::own(9)),
            Err(FileError::Refused(Refusal::TooLarge { limit: 9 }))
        ));
        assert!(matches!(
            read(Path::new("/dev/zero"), ReadRules::named(9).or_pipe()),
            Err(FileError::Refused(Refusal::NotAFile {
                pipes_allowed: true
            }))
        ));
        assert!(matches!(
            read(dir.path(), ReadRules::named(9)),
            Err(FileError::Refused(Refusal::NotAFile { .. }))
        ));
        assert!(matches!(
            read(&dir.path().join("none"), ReadRules::own(9)),
            Err(FileError::Io(e)) if e.kind() == io::ErrorKind::NotFound
        ));
        assert_eq!(human_size(16 * 1024 * 1024), "16 MiB");
        assert_eq!(human_size(64 * 1024), "64 KiB");
        assert_eq!(human_size(100), "100 bytes");
    }
}
