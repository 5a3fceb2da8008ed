//! The generation sidecar `<vault>.generation`: the highest ratification generation and write
//! revision this folder has seen, rewritten under the writer lock after every write. A vault
//! file whose numbers are lower is an older copy put back ("rollback"). The sidecar is only as
//! trustworthy as the folder it sits in (shares-format.md, "Rollback detection").

use std::fs;
use std::path::{Path, PathBuf};

use crate::wire;

/// The highest numbers written beside a vault.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Seen {
    /// Ratification generation (0 before the first ratification).
    pub generation: u64,
    /// Write revision, incremented by every write with or without a quorum.
    pub revision: u64,
    /// The newest audit head (seq, line hash) the vault has anchored here, if any: the log must
    /// still hold it even if the vault's own anchor was removed or an older vault put back.
    pub audit_head: Option<(u64, [u8; 32])>,
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

/// Read the sidecar; `None` when it is missing or unreadable.
pub fn read(vault: &Path) -> Option<Seen> {
    let text = fs::read_to_string(path_for(vault)).ok()?;
    let mut lines = text.lines();
    if lines.next()? != wire::GENERATION_SIDECAR_HEADER {
        return None;
    }
    let mut seen = Seen::default();
    for line in lines {
        match line.split_once(' ')? {
            ("generation", n) => seen.generation = n.parse().ok()?,
            ("revision", n) => seen.revision = n.parse().ok()?,
            ("audit_head", v) => {
                let (seq, hash) = v.split_once(' ')?;
                let hash = crate::keys::unhex(hash)?.try_into().ok()?;
                seen.audit_head = Some((seq.parse().ok()?, hash));
            }
            _ => return None,
        }
    }
    Some(seen)
}

/// The newer (higher seq) of two anchored heads.
pub fn newer_head(
    a: Option<(u64, [u8; 32])>,
    b: Option<(u64, [u8; 32])>,
) -> Option<(u64, [u8; 32])> {
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
pub fn encode(seen: Seen) -> String {
    let mut s = format!(
        "{}\ngeneration {}\nrevision {}\n",
        wire::GENERATION_SIDECAR_HEADER,
        seen.generation,
        seen.revision
    );
    if let Some((seq, hash)) = seen.audit_head {
        s.push_str(&format!("audit_head {seq} {}\n", crate::keys::hex(&hash)));
    }
    s
}
