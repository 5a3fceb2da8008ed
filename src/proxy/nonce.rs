//! Nonces that only go up, across agent restarts (Kraken refuses a nonce not larger than the
//! last one it saw for the key).
//!
//! A nonce is the current Unix time in microseconds, or one more than the last nonce if that
//! is larger. Before a nonce passes the ceiling recorded on disk, a new ceiling one minute
//! ahead is written (temporary file, fsync, rename) to `<vault>.proxy-nonce`; a restarted
//! agent starts above the recorded ceiling, so it never reuses a nonce even if the clock went
//! back, and the disk is written about once a minute, not per request.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// How far ahead of the last nonce a ceiling is reserved (microseconds).
pub const RESERVE_US: u64 = 60_000_000;

/// The nonce source of one agent.
pub struct Nonces {
    path: PathBuf,
    /// (last nonce given, ceiling on disk).
    state: Mutex<(u64, u64)>,
}

/// The file next to the vault that records the ceiling.
pub fn path_for(vault: &Path) -> PathBuf {
    let mut p = vault.as_os_str().to_owned();
    p.push(".proxy-nonce");
    PathBuf::from(p)
}

impl Nonces {
    /// Read the recorded ceiling at `path` (none yet: 0). A file that is not a number is an
    /// error, never silently reset.
    pub fn open(path: PathBuf) -> io::Result<Nonces> {
        let ceiling = match fs::read_to_string(&path) {
            Ok(s) => s.trim().parse::<u64>().map_err(|_| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "{} does not hold a number; it records the highest nonce the proxy \
                         may have used: restore it, or set it to a value above the last nonce \
                         sent to the exchange",
                        path.display()
                    ),
                )
            })?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => 0,
            Err(e) => return Err(e),
        };
        Ok(Nonces {
            path,
            state: Mutex::new((ceiling, ceiling)),
        })
    }

    /// The next nonce at `now_us` (Unix microseconds).
    pub fn next(&self, now_us: u64) -> io::Result<u64> {
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let n = now_us.max(st.0.saturating_add(1));
        if n >= st.1 {
            let ceiling = n.saturating_add(RESERVE_US);
            write_atomically(&self.path, ceiling)?;
            st.1 = ceiling;
        }
        st.0 = n;
        Ok(n)
    }
}

fn write_atomically(path: &Path, value: u64) -> io::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    {
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&tmp)?;
        writeln!(f, "{value}")?;
        f.sync_all()?;
    }
    fs::rename(&tmp, path)?;
    if let Some(dir) = path.parent() {
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonces_rise_across_restarts_even_when_the_clock_goes_back() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("v.proxy-nonce");
        let a = Nonces::open(p.clone()).unwrap();
        let n1 = a.next(1_000).unwrap();
        let n2 = a.next(1_000).unwrap();
        let n3 = a.next(500).unwrap();
        assert!(n1 < n2 && n2 < n3);
        drop(a);
        // Restarted with the clock an hour back: still above everything given out.
        let b = Nonces::open(p.clone()).unwrap();
        let n4 = b.next(10).unwrap();
        assert!(n4 > n3 + RESERVE_US - 10, "{n4}");
        fs::write(&p, "garbage").unwrap();
        assert!(Nonces::open(p).is_err());
    }
}
