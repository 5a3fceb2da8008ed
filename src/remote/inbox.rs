//! Where a host without a terminal waits for envelopes: named files (`--envelope FILE`) that
//! may not exist yet, and a folder (`--envelope-dir DIR`) where envelopes are dropped as they
//! arrive. A file is handed over once it holds something and has not changed between two
//! looks, so a copy still being written is not read half-way; a file handed over is not
//! handed over again unless it changes.

use std::collections::HashMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// Most entries of the folder looked at per poll (the rest wait for the next).
pub const MAX_DIR_ENTRIES: usize = 1000;

/// What a file looked like: length and modification time.
type Look = (u64, Option<SystemTime>);

/// Named files and a folder, watched for envelopes.
#[derive(Debug)]
pub struct Inbox {
    named: Vec<PathBuf>,
    dir: Option<PathBuf>,
    /// Each file's look at the previous poll.
    last: HashMap<PathBuf, Look>,
    /// Each file's look when it was handed over.
    taken: HashMap<PathBuf, Look>,
}

impl Inbox {
    /// Watch `named` files and, if given, the folder `dir` (which must exist).
    pub fn new(named: Vec<PathBuf>, dir: Option<PathBuf>) -> io::Result<Inbox> {
        if let Some(d) = &dir
            && !fs::metadata(d)?.is_dir()
        {
            return Err(io::Error::new(
                io::ErrorKind::NotADirectory,
                format!("{} is not a folder", d.display()),
            ));
        }
        Ok(Inbox {
            named,
            dir,
            last: HashMap::new(),
            taken: HashMap::new(),
        })
    }

    /// Files ready to be read now, in a stable order (named files first, then the folder's by
    /// name). Hidden files and names ending in `.tmp` or `.part` in the folder are skipped.
    pub fn poll(&mut self) -> Vec<PathBuf> {
        let mut candidates = self.named.clone();
        if let Some(d) = &self.dir
            && let Ok(entries) = fs::read_dir(d)
        {
            let mut found: Vec<PathBuf> = entries
                .filter_map(Result::ok)
                .filter(|e| {
                    let n = e.file_name();
                    let n = n.to_string_lossy();
                    !n.starts_with('.') && !n.ends_with(".tmp") && !n.ends_with(".part")
                })
                .map(|e| e.path())
                .take(MAX_DIR_ENTRIES)
                .collect();
            found.sort();
            candidates.extend(found.into_iter().filter(|p| !self.named.contains(p)));
        }
        let mut ready = Vec::new();
        for path in candidates {
            let Some(look) = look(&path) else {
                self.last.remove(&path);
                continue;
            };
            let steady = self.last.get(&path) == Some(&look);
            self.last.insert(path.clone(), look);
            if steady && look.0 > 0 && self.taken.get(&path) != Some(&look) {
                self.taken.insert(path.clone(), look);
                ready.push(path);
            }
        }
        ready
    }

    /// The named files not handed over yet.
    pub fn named_waiting(&self) -> Vec<&Path> {
        self.named
            .iter()
            .filter(|p| !self.taken.contains_key(*p))
            .map(PathBuf::as_path)
            .collect()
    }
}

/// A regular file's look (links followed); `None` if it is missing or not a regular file.
fn look(path: &Path) -> Option<Look> {
    let m = fs::metadata(path).ok()?;
    m.is_file().then(|| (m.len(), m.modified().ok()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_handed_over_once_steady_and_again_when_changed() {
        let dir = tempfile::tempdir().unwrap();
        let named = dir.path().join("named.asc");
        let inbox_dir = dir.path().join("in");
        fs::create_dir(&inbox_dir).unwrap();
        let mut inbox = Inbox::new(vec![named.clone()], Some(inbox_dir.clone())).unwrap();
        assert!(inbox.poll().is_empty());
        assert_eq!(inbox.named_waiting(), vec![named.as_path()]);
        fs::write(&named, "x").unwrap();
        fs::write(inbox_dir.join("a.asc"), "y").unwrap();
        fs::write(inbox_dir.join(".hidden"), "y").unwrap();
        fs::write(inbox_dir.join("b.part"), "y").unwrap();
        fs::write(inbox_dir.join("empty"), "").unwrap();
        // First look: not steady yet.
        assert!(inbox.poll().is_empty());
        assert_eq!(inbox.poll(), vec![named.clone(), inbox_dir.join("a.asc")]);
        assert!(inbox.named_waiting().is_empty());
        assert!(inbox.poll().is_empty(), "handed over once");
        fs::write(inbox_dir.join("a.asc"), "changed").unwrap();
        assert!(inbox.poll().is_empty());
        assert_eq!(inbox.poll(), vec![inbox_dir.join("a.asc")]);
    }

    #[test]
    fn the_folder_must_exist_and_be_a_folder() {
        let dir = tempfile::tempdir().unwrap();
        assert!(Inbox::new(vec![], Some(dir.path().join("missing"))).is_err());
        let f = dir.path().join("f");
        fs::write(&f, "x").unwrap();
        assert!(Inbox::new(vec![], Some(f)).is_err());
    }
}
