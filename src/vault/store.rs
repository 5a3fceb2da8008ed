//! Durable vault files: atomic creation and replacement (temp file, fsync, rename or link,
//! fsync of the directory), an exclusive lock file so concurrent writers serialise, and the
//! previous version kept as `<vault>.bak`. The vault and every file beside it are opened
//! through [`crate::safe_file`]: never through a symbolic link, and the vault read up to
//! [`wire::MAX_VAULT_FILE_BYTES`] (nor written larger).

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use super::sidecar::{self, Rollback};
use super::{Vault, VaultFileError};
use crate::safe_file::{self, FileError, ReadRules, Refusal, human_size};
use crate::wire;

/// Why the vault could not be read or written.
#[derive(Debug)]
pub enum StoreError {
    /// The vault file could not be read (or does not exist).
    Read {
        /// The vault file.
        path: PathBuf,
        /// The I/O error; `NotFound` when there is no vault there.
        source: io::Error,
    },
    /// A file could not be created, written, locked or renamed into place.
    Write {
        /// The file that failed: the vault or a share file, or a temporary, backup, lock or
        /// sidecar file.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
    /// `init` refuses to overwrite.
    Exists(PathBuf),
    /// The vault file was read but does not parse or does not verify.
    Invalid {
        /// The vault file.
        path: PathBuf,
        /// What is wrong with it.
        source: VaultFileError,
    },
    /// A write without a quorum on a vault older than one already seen here.
    RolledBack {
        /// The vault file.
        path: PathBuf,
        /// The file's numbers and the higher ones the sidecar recorded.
        rollback: Rollback,
    },
    /// The vault was written, but the generation sidecar beside it could not be: the change
    /// stands; until the sidecar is written again, a copy of the old vault put back would not be
    /// recognised as one.
    SidecarNotWritten {
        /// The vault file (written).
        path: PathBuf,
        /// Why the sidecar was not.
        source: Box<StoreError>,
    },
    /// The write revision (in the file or its sidecar) is already 2^64 - 1: no later write can
    /// be numbered above it, so none is made.
    RevisionExhausted(PathBuf),
    /// The vault or a file custody keeps beside it was refused before it was read or written:
    /// a symbolic link, not a regular file, or larger than a vault can be
    /// ([`wire::MAX_VAULT_FILE_BYTES`]).
    Refused {
        /// The file refused (the vault, or its lock, backup, sidecar or temporary file).
        path: PathBuf,
        /// Why.
        problem: Refusal,
    },
    /// The vault as changed would be larger than [`wire::MAX_VAULT_FILE_BYTES`]: it was not
    /// written.
    TooLargeToWrite {
        /// The vault file (unchanged).
        path: PathBuf,
        /// The size it would have had, in bytes.
        len: u64,
        /// The cap, in bytes.
        limit: u64,
    },
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreError::Read { path, source } if source.kind() == io::ErrorKind::NotFound => {
                write!(f, "no vault at {}", path.display())
            }
            StoreError::Read { path, source } => {
                write!(f, "cannot read the vault {}: {source}", path.display())
            }
            StoreError::Write { path, source } => write!(
                f,
                "cannot write {}: {source} (that file is as it was)",
                path.display()
            ),
            StoreError::Exists(path) => write!(
                f,
                "{} already exists; custody never overwrites a vault or share file: \
                 choose another path or move the old one away",
                path.display()
            ),
            StoreError::Invalid { path, source } => write!(f, "{}: {source}", path.display()),
            StoreError::RolledBack { path, rollback } => {
                write!(f, "{}: {rollback}. Nothing was written", path.display())
            }
            StoreError::SidecarNotWritten { path, source } => write!(
                f,
                "{} was written (the change stands), but its .generation sidecar was not: \
                 {source}",
                path.display()
            ),
            StoreError::RevisionExhausted(path) => write!(
                f,
                "{}: the write revision (in the file or its .generation sidecar) is already \
                 the largest number there is, which custody never writes itself: the file or the \
                 sidecar was edited. Nothing was written",
                path.display()
            ),
            StoreError::Refused { path, problem } => write!(f, "{} {problem}", path.display()),
            StoreError::TooLargeToWrite { path, len, limit } => write!(
                f,
                "{}: the vault would be {len} bytes, more than the {} a vault file may hold; \
                 nothing was written. Remove credentials that are no longer used",
                path.display(),
                human_size(*limit)
            ),
        }
    }
}

impl std::error::Error for StoreError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            StoreError::Read { source, .. } | StoreError::Write { source, .. } => Some(source),
            StoreError::Invalid { source, .. } => Some(source),
            StoreError::SidecarNotWritten { source, .. } => Some(source.as_ref()),
            _ => None,
        }
    }
}

impl From<sidecar::LinkedSidecar> for StoreError {
    fn from(sidecar::LinkedSidecar(path): sidecar::LinkedSidecar) -> Self {
        StoreError::Refused {
            path,
            problem: Refusal::SymbolicLink,
        }
    }
}

fn write_err(path: &Path) -> impl FnOnce(io::Error) -> StoreError + '_ {
    move |source| StoreError::Write {
        path: path.to_path_buf(),
        source,
    }
}

/// A file custody writes could not be opened: the system's error, or custody's refusal.
fn own_write_err(path: &Path) -> impl FnOnce(FileError) -> StoreError + '_ {
    move |e| match e {
        FileError::Io(source) => StoreError::Write {
            path: path.to_path_buf(),
            source,
        },
        FileError::Refused(problem) => StoreError::Refused {
            path: path.to_path_buf(),
            problem,
        },
    }
}

/// Refuse to replace `path` if it is a symbolic link (a rename would replace the link itself
/// and leave its target as it was).
fn refuse_link(path: &Path) -> Result<(), StoreError> {
    match path.symlink_metadata() {
        Ok(m) if m.file_type().is_symlink() => Err(StoreError::Refused {
            path: path.to_path_buf(),
            problem: Refusal::SymbolicLink,
        }),
        _ => Ok(()),
    }
}

/// Read and verify the vault at `path`: a regular file, not a symbolic link, of at most
/// [`wire::MAX_VAULT_FILE_BYTES`].
pub fn load(path: &Path) -> Result<Vault, StoreError> {
    let bytes =
        safe_file::read(path, ReadRules::own(wire::MAX_VAULT_FILE_BYTES)).map_err(|e| match e {
            FileError::Io(source) => StoreError::Read {
                path: path.to_path_buf(),
                source,
            },
            FileError::Refused(problem) => StoreError::Refused {
                path: path.to_path_buf(),
                problem,
            },
        })?;
    let text = std::str::from_utf8(&bytes).map_err(|e| StoreError::Read {
        path: path.to_path_buf(),
        source: io::Error::new(io::ErrorKind::InvalidData, e),
    })?;
    Vault::from_json(text).map_err(|source| StoreError::Invalid {
        path: path.to_path_buf(),
        source,
    })
}

fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(suffix);
    path.with_file_name(name)
}

fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

fn fsync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Write `bytes` to a fresh temporary file beside `path`, fsynced (never through a link).
fn write_temp(path: &Path, bytes: &[u8], mode: u32) -> Result<PathBuf, StoreError> {
    let tmp = sibling(path, &format!(".tmp.{}", std::process::id()));
    let mut f = safe_file::open_own(
        &tmp,
        OpenOptions::new().write(true).create_new(true).mode(mode),
    )
    .map_err(own_write_err(&tmp))?;
    let res = f.write_all(bytes).and_then(|()| f.sync_all());
    if let Err(e) = res {
        let _ = fs::remove_file(&tmp);
        return Err(write_err(&tmp)(e));
    }
    Ok(tmp)
}

/// Create `path` with `bytes` atomically; fails with [`StoreError::Exists`] if it exists. The
/// file appears complete or not at all (hard link of an fsynced temp file, then directory fsync).
/// `mode` is the Unix permission (0o600 for share files, 0o644 for the public vault).
pub fn create_new(path: &Path, bytes: &[u8], mode: u32) -> Result<(), StoreError> {
    let tmp = write_temp(path, bytes, mode)?;
    let linked = fs::hard_link(&tmp, path);
    let _ = fs::remove_file(&tmp);
    match linked {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            return Err(StoreError::Exists(path.to_path_buf()));
        }
        Err(e) => return Err(write_err(path)(e)),
    }
    fsync_dir(parent_dir(path)).map_err(write_err(path))
}

/// An exclusive writer's lock on a vault, held until dropped.
pub struct WriteLock {
    _file: File,
}

/// Take the vault's writer lock (`<vault>.lock`), waiting for other writers.
pub fn lock(path: &Path) -> Result<WriteLock, StoreError> {
    let lock_path = sibling(path, ".lock");
    // Owner read/write only, whatever the umask (it holds nothing, but nobody else needs it).
    let file = safe_file::open_own(
        &lock_path,
        OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600),
    )
    .map_err(own_write_err(&lock_path))?;
    file.lock().map_err(write_err(&lock_path))?;
    Ok(WriteLock { _file: file })
}

/// Replace the vault at `path` with `bytes` while holding `lock`: the old file is kept as
/// `<vault>.bak`; a crash at any instant leaves either the old or the new vault in place.
/// Neither the vault nor its backup may be a symbolic link (refused before anything is
/// written).
pub fn replace(path: &Path, bytes: &[u8], lock: &WriteLock) -> Result<(), StoreError> {
    refuse_linked_vault_or_backup(path)?;
    let tmp = write_temp(path, bytes, 0o644)?;
    // Backup of the vault as it is; the vault itself is untouched until the rename below.
    if let Err(e) = back_up(path, lock) {
        let _ = fs::remove_file(&tmp);
        return Err(e);
    }
    if let Err(e) = fs::rename(&tmp, path) {
        let _ = fs::remove_file(&tmp);
        return Err(write_err(path)(e));
    }
    fsync_dir(parent_dir(path)).map_err(write_err(path))
}

/// The newest audit head (seq, line hash) the generation sidecar beside the vault at `path`
/// saw anchored, if any.
pub fn anchored_head_beside(path: &Path) -> Result<Option<(u64, [u8; 32])>, StoreError> {
    Ok(sidecar::read_audit_head(path)?)
}

/// Refuse a vault or a `<vault>.bak` that is a symbolic link.
fn refuse_linked_vault_or_backup(path: &Path) -> Result<(), StoreError> {
    refuse_link(path)?;
    refuse_link(&sibling(path, ".bak"))
}

/// Copy the vault at `path` to `<vault>.bak` (through `<vault>.bak.tmp`: copy, fsync, rename
/// over the previous backup), neither file reached through a symbolic link. Returns the
/// backup's path.
fn back_up(path: &Path, _lock: &WriteLock) -> Result<PathBuf, StoreError> {
    refuse_linked_vault_or_backup(path)?;
    let bak = sibling(path, ".bak");
    let bak_tmp = sibling(path, ".bak.tmp");
    let _ = fs::remove_file(&bak_tmp);
    let copied = (|| -> Result<(), StoreError> {
        let mut from = safe_file::open_own(path, OpenOptions::new().read(true))
            .map_err(own_write_err(&bak))?;
        let mut to = safe_file::open_own(
            &bak_tmp,
            OpenOptions::new().write(true).create_new(true).mode(0o644),
        )
        .map_err(own_write_err(&bak_tmp))?;
        io::copy(&mut from, &mut to)
            .and_then(|_| to.sync_all())
            .and_then(|()| fs::rename(&bak_tmp, &bak))
            .map_err(write_err(&bak))
    })();
    if let Err(e) = copied {
        let _ = fs::remove_file(&bak_tmp);
        return Err(e);
    }
    Ok(bak)
}

/// Make `<vault>.bak` a copy of the vault as it now is, under the writer lock. After a master
/// rotation the previous backup is still sealed to the retired key, which the old quorum's
/// sheets open: the backup must not keep that state. Returns the backup's path.
pub fn refresh_backup(path: &Path) -> Result<PathBuf, StoreError> {
    let lock = lock(path)?;
    let bak = back_up(path, &lock)?;
    fsync_dir(parent_dir(path)).map_err(write_err(&bak))?;
    Ok(bak)
}

/// Replace `path` with `bytes` atomically, without a backup (for small companion files such
/// as the generation sidecar), while holding the vault's `lock`.
pub fn write_atomic(path: &Path, bytes: &[u8], _lock: &WriteLock) -> Result<(), StoreError> {
    refuse_link(path)?;
    let tmp = write_temp(path, bytes, 0o644)?;
    if let Err(e) = fs::rename(&tmp, path) {
        let _ = fs::remove_file(&tmp);
        return Err(write_err(path)(e));
    }
    fsync_dir(parent_dir(path)).map_err(write_err(path))
}

/// The numbers the generation sidecar beside the vault at `path` records, if there is one
/// (refused when it is a symbolic link): what [`Vault::ratified_access`] and
/// [`Vault::assess`] compare the vault with to find an older copy put back.
pub fn seen_beside(path: &Path) -> Result<Option<sidecar::Seen>, StoreError> {
    sidecar::read(path).map_err(StoreError::from)
}

/// Whether [`update`] may write a vault older than the generation sidecar records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnRollback {
    /// Writes without a quorum: refuse, so that a restored old file is not made to look new.
    Refuse,
    /// A quorum's ratification resolves the rollback by signing a higher generation.
    Allow,
}

/// The one way credentials are written: take the writer lock, re-read and verify the vault
/// under it, let `edit` change it, and if anything changed bump the write revision, replace
/// the file atomically (backup kept) and record the new numbers in the sidecar.
pub fn update<T, E: From<StoreError>>(
    path: &Path,
    on_rollback: OnRollback,
    edit: impl FnOnce(&mut Vault, Option<sidecar::Seen>) -> Result<T, E>,
) -> Result<T, E> {
    update_keeping(path, on_rollback, edit).map(|(out, _)| out)
}

/// [`update`], also returning the vault as it now stands on disk (its write revision bumped if
/// anything changed), so that a caller reads what was written without loading it again.
pub fn update_keeping<T, E: From<StoreError>>(
    path: &Path,
    on_rollback: OnRollback,
    edit: impl FnOnce(&mut Vault, Option<sidecar::Seen>) -> Result<T, E>,
) -> Result<(T, Vault), E> {
    let lock = lock(path)?;
    let mut vault = load(path)?;
    let seen = sidecar::read(path).map_err(StoreError::from)?;
    let seen_head = sidecar::read_audit_head(path).map_err(StoreError::from)?;
    if on_rollback == OnRollback::Refuse
        && let Some(rollback) = sidecar::check(vault.seen_numbers(), seen)
    {
        return Err(StoreError::RolledBack {
            path: path.to_path_buf(),
            rollback,
        }
        .into());
    }
    let before = vault.clone();
    let out = edit(&mut vault, seen)?;
    if vault != before {
        vault
            .credentials
            .bump_revision(seen.map_or(0, |s| s.revision))
            .ok_or_else(|| StoreError::RevisionExhausted(path.to_path_buf()))?;
        let json = vault.to_json();
        if json.len() as u64 > wire::MAX_VAULT_FILE_BYTES {
            return Err(StoreError::TooLargeToWrite {
                path: path.to_path_buf(),
                len: json.len() as u64,
                limit: wire::MAX_VAULT_FILE_BYTES,
            }
            .into());
        }
        replace(path, json.as_bytes(), &lock)?;
        let mut numbers = vault.seen_numbers();
        if let Some(s) = seen {
            numbers.generation = numbers.generation.max(s.generation);
        }
        let audit_head =
            sidecar::newer_head(vault.audit_anchor().map(|a| (a.seq, a.hash)), seen_head);
        // The vault is replaced: an error from here on must not read as "nothing changed".
        write_atomic(
            &sidecar::path_for(path),
            sidecar::encode(numbers, audit_head).as_bytes(),
            &lock,
        )
        .map_err(|e| StoreError::SidecarNotWritten {
            path: path.to_path_buf(),
            source: Box::new(e),
        })?;
    }
    Ok((out, vault))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_errors_chain_to_the_system_error() {
        use std::error::Error as _;
        let dir = tempfile::tempdir().unwrap();
        let e = load(&dir.path().join("none.json")).unwrap_err();
        let io = e.source().unwrap().downcast_ref::<io::Error>().unwrap();
        assert_eq!(io.kind(), io::ErrorKind::NotFound);
        let p = dir.path().join("v.json");
        fs::write(&p, "not json").unwrap();
        let e = load(&p).unwrap_err();
        let file = e
            .source()
            .unwrap()
            .downcast_ref::<VaultFileError>()
            .unwrap();
        assert!(file.source().unwrap().is::<serde_json::Error>());
    }

    #[test]
    fn create_new_refuses_to_overwrite() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("v.json");
        create_new(&p, b"one", 0o644).unwrap();
        assert!(matches!(
            create_new(&p, b"two", 0o644),
            Err(StoreError::Exists(_))
        ));
        assert_eq!(fs::read(&p).unwrap(), b"one");
        // No temporary file is left behind.
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn replace_keeps_backup() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("v.json");
        create_new(&p, b"one", 0o644).unwrap();
        let l = lock(&p).unwrap();
        replace(&p, b"two", &l).unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"two");
        assert_eq!(fs::read(sibling(&p, ".bak")).unwrap(), b"one");
    }
}
