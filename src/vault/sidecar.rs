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

/// An audit head (seq, line hash) the vault anchored.
pub type AnchoredHead = (u64, [u8; 32]);

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

/// Read the sidecar: the numbers, and the newest audit head anchored (if any). `None` when it
/// is missing, unreadable (a folder, a device, too large) or malformed. A symbolic link is
/// refused.
fn read_all(vault: &Path) -> Result<Option<(Seen, Option<AnchoredHead>)>, LinkedSidecar> {
    let path = path_for(vault);
    match safe_file::read(&path, ReadRules::own(MAX_SIDECAR_BYTES)) {
        Ok(bytes) => Ok(std::str::from_utf8(&bytes).ok().and_then(parse)),
        Err(FileError::Refused(Refusal::SymbolicLink)) => Err(LinkedSidecar(path)),
        Err(_) => Ok(None),
    }
}

fn parse(text: &str) -> Option<(Seen, Option<AnchoredHead>)> {
    let mut lines = text.lines();
    if lines.next()? != wire::GENERATION_SIDECAR_HEADER {
        return None;
    }
    let mut seen = Seen::default();
    let mut head = None;
    for line in lines {
        match line.split_once(' ')? {
            ("generation", n) => seen.generation = n.parse().ok()?,
            ("revision", n) => seen.revision = n.parse().ok()?,
            ("audit_head", v) => {
                let (seq, hash) = v.split_once(' ')?;
                let hash = crate::keys::unhex(hash)?.try_into().ok()?;
                head = Some((seq.parse().ok()?, hash));
            }
            _ => return None,
        }
    }
    Some((seen, head))
}

/// Read the sidecar's numbers; `None` when it is missing, unreadable or malformed. A symbolic
/// link is refused.
pub fn read(vault: &Path) -> Result<Option<Seen>, LinkedSidecar> {
    Ok(read_all(vault)?.map(|(seen, _)| seen))
}

/// The newest audit head the sidecar saw anchored: the log must still hold it even if the
/// vault's own anchor was removed or an older vault put back. A symbolic link is refused.
pub fn read_audit_head(vault: &Path) -> Result<Option<AnchoredHead>, LinkedSidecar> {
    Ok(read_all(vault)?.and_then(|(_, head)| head))
}

/// The newer (higher seq) of two anchored heads.
pub fn newer_head(a: Option<AnchoredHead>, b: Option<AnchoredHead>) -> Option<AnchoredHead> {
    match (a, b) {
        (Some(x), Some(y)) => Some(if y.0 > x.0 { y } else { x }),
        (x, y) => x.or(y),
    }
}

/// Compare a vault's numbers with what the sidecar recorded.
pub fn check(file: Seen, seen: Option<Seen>) -> Option<Rollback> {
    let seen = seen?;
    (file.generation < seen.generation || file.revision < seen.revision)
        .then_some(Rollback { file, seen })
}

/// The sidecar's text for `seen` (the store writes it atomically, under the writer lock, after
/// the vault itself was replaced).
pub fn encode(seen: Seen, audit_head: Option<AnchoredHead>) -> String {
    let mut s = format!(
        "{}\ngeneration {}\nrevision {}\n",
        wire::GENERATION_SIDECAR_HEADER,
        seen.generation,
        seen.revision
    );
    if let Some((seq, hash)) = audit_head {
        s.push_str(&format!("audit_head {seq} {}\n", crate::keys::hex(&hash)));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_anchored_head_round_trips_and_the_newer_one_wins() {
        let dir = tempfile::tempdir().unwrap();
        let vault = dir.path().join("v.json");
        let seen = Seen {
            generation: 3,
            revision: 9,
        };
        let head = Some((42, [7; 32]));
        std::fs::write(path_for(&vault), encode(seen, head)).unwrap();
        assert_eq!(read(&vault), Ok(Some(seen)));
        assert_eq!(read_audit_head(&vault), Ok(head));
        std::fs::write(path_for(&vault), encode(seen, None)).unwrap();
        assert_eq!(read(&vault), Ok(Some(seen)));
        assert_eq!(read_audit_head(&vault), Ok(None));
        let older = Some((41, [1; 32]));
        assert_eq!(newer_head(head, older), head);
        assert_eq!(newer_head(older, head), head);
        assert_eq!(newer_head(None, older), older);
    }
}
