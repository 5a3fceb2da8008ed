//! The generation sidecar `<vault>.generation`: the highest ratification generation and write
//! revision this folder has seen, rewritten under the writer lock after every write. A vault
//! file whose numbers are lower is an older copy put back ("rollback"). The sidecar is only as
//! trustworthy as the folder it sits in (shares-format.md, "Rollback detection").

use std::path::{Path, PathBuf};

use crate::safe_file::{self, FileError, ReadRules, Refusal};
use crate::wire;

/// The most a sidecar is read: its three short lines fit many times over.
const MAX_SIDECAR_BYTES: u64 = 4096;

/// The highest numbers written beside a vault.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Seen {
    /// Ratification generation (0 before the first ratification).
    pub generation: u64,
    /// Write revision, incremented by every write with or without a quorum.
    pub revision: u64,
}

/// The vault file is older than one this folder has seen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rollback {
    /// The numbers in the vault file.
    pub file: Seen,
    /// The numbers the sidecar recorded, at least one of them higher.
    pub seen: Seen,
}

impl std::fmt::Display for Rollback {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the vault file is an older copy (ratification generation {}, write revision {}) \
             than one already used here (generation {}, revision {}): an old file was restored. \
             Put the newest vault back; if restoring the old one was deliberate, a quorum \
             must re-ratify it",
            self.file.generation, self.file.revision, self.seen.generation, self.seen.revision
        )
    }
}

/// The sidecar's path for the vault at `vault`: `<vault>.generation`, in the same folder.
pub fn path_for(vault: &Path) -> PathBuf {
    let mut name = vault.file_name().unwrap_or_default().to_os_string();
    name.push(".generation");
    vault.with_file_name(name)
}

/// The sidecar (this path) is a symbolic link: custody neither reads through it nor replaces
/// it (the store reports it as refused).
#[derive(Debug, PartialEq, Eq)]
pub struct LinkedSidecar(pub PathBuf);

/// Read the sidecar; `None` when it is missing, unreadable (a folder, a device, too large) or
/// malformed. A symbolic link is refused.
pub fn read(vault: &Path) -> Result<Option<Seen>, LinkedSidecar> {
    let path = path_for(vault);
    match safe_file::read(&path, ReadRules::own(MAX_SIDECAR_BYTES)) {
        Ok(bytes) => Ok(std::str::from_utf8(&bytes).ok().and_then(parse)),
        Err(FileError::Refused(Refusal::SymbolicLink)) => Err(LinkedSidecar(path)),
        Err(_) => Ok(None),
    }
}

fn parse(text: &str) -> Option<Seen> {
    let mut lines = text.lines();
    if lines.next()? != wire::GENERATION_SIDECAR_HEADER {
        return None;
    }
    let mut seen = Seen::default();
    for line in lines {
        match line.split_once(' ')? {
            ("generation", n) => seen.generation = n.parse().ok()?,
            ("revision", n) => seen.revision = n.parse().ok()?,
            _ => return None,
        }
    }
    Some(seen)
}

/// Compare a vault's numbers with what the sidecar recorded.
pub fn check(file: Seen, seen: Option<Seen>) -> Option<Rollback> {
    let seen = seen?;
    (file.generation < seen.generation || file.revision < seen.revision)
        .then_some(Rollback { file, seen })
}

/// The sidecar's text for `seen` (the store writes it atomically, under the writer lock, after
/// the vault itself was replaced).
pub fn encode(seen: Seen) -> String {
    format!(
        "{}\ngeneration {}\nrevision {}\n",
        wire::GENERATION_SIDECAR_HEADER,
        seen.generation,
        seen.revision
    )
}
