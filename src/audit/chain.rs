//! The hash chain and the append path: each line's `prev` is the SHA-256 of the previous
//! line's exact bytes; a successful ceremony's outcome line is signed over the chain up to and
//! including its own body; appends happen under `<vault>.audit.lock` with O_APPEND, one write
//! and fsync per record (or per batch of records, [`append_many`]), and a failed append is cut
//! back so that no torn line stays behind.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest, Sha256};

use super::record::Record;
use super::{AuditError, AuditLog, LogHead, Restored};
use crate::keys::hex;
use crate::safe_file::{self, FileError, Refusal};
use crate::wire;

/// `prev` of the first record: 32 zero bytes.
pub const GENESIS_PREV: [u8; 32] = [0; 32];

/// The member a signed line ends with, before the base64 signature and `"}`.
pub(super) const SIG_MEMBER: &str = ",\"sig\":\"";

/// Longest line a writer emits or a reader accepts (bytes, without the newline).
pub const MAX_LINE_LEN: usize = 64 * 1024;

/// SHA-256 of one line's bytes (without the newline): the next record's `prev`.
pub fn line_hash(line: &[u8]) -> [u8; 32] {
    Sha256::digest(line).into()
}

/// The message a successful outcome's signature covers:
/// `AUDIT_SIGNATURE_DOMAIN || u64(seq) || prev (32 bytes) || SHA-256(body)`, where `body` is the
/// line without its signature member (see [`split_signature`]). `prev` chains to every earlier
/// line, so the signature covers the whole log up to and including this record.
pub fn signed_message(seq: u64, prev: &[u8; 32], body: &[u8]) -> Vec<u8> {
    let mut m = wire::AUDIT_SIGNATURE_DOMAIN.to_vec();
    m.extend_from_slice(&seq.to_be_bytes());
    m.extend_from_slice(prev);
    m.extend_from_slice(&Sha256::digest(body));
    m
}

/// Split a signed line into its body (the line with the final `,"sig":"…"` member removed,
/// closing `}` kept) and the base64 signature. `None` when the line carries no signature member
/// at the very end. JSON escapes `"` inside strings, so the member cannot occur inside a value.
pub fn split_signature(line: &str) -> Option<(String, &str)> {
    let at = line.rfind(SIG_MEMBER)?;
    let rest = &line[at + SIG_MEMBER.len()..];
    let sig = rest.strip_suffix("\"}")?;
    if sig.contains('"') {
        return None;
    }
    let mut body = line[..at].to_owned();
    body.push('}');
    Some((body, sig))
}

/// Parse hex of a 32-byte hash.
pub fn parse_hash(s: &str) -> Option<[u8; 32]> {
    crate::keys::unhex(s)?.try_into().ok()
}

/// The last complete line of the log at `path` (seq and hash), reading only the file's tail
/// (at most two records' worth: a longer last line is refused). `len` is the file's length.
pub(super) fn read_tail(path: &Path, file: &mut File, len: u64) -> Result<LogHead, AuditError> {
    let io = |source| AuditError::Io {
        action: "read",
        path: path.to_path_buf(),
        source,
    };
    if len == 0 {
        return Ok(LogHead::genesis());
    }
    let mut want: u64 = 4096;
    loop {
        let start = len.saturating_sub(want);
        file.seek(SeekFrom::Start(start)).map_err(io)?;
        let mut buf = Vec::with_capacity((len - start) as usize);
        Read::by_ref(file)
            .take(len - start)
            .read_to_end(&mut buf)
            .map_err(io)?;
        if buf.last() != Some(&b'\n') {
            return Err(AuditError::Damaged {
                path: path.to_path_buf(),
                problem: "it ends inside a record (truncated, or a write was interrupted)".into(),
            });
        }
        let body = &buf[..buf.len() - 1];
        let line = match body.iter().rposition(|&b| b == b'\n') {
            Some(i) => &body[i + 1..],
            None if start == 0 => body,
            None if want as usize > 2 * MAX_LINE_LEN => {
                return Err(AuditError::Damaged {
                    path: path.to_path_buf(),
                    problem: "its last line is longer than any record".into(),
                });
            }
            None => {
                want *= 4;
                continue;
            }
        };
        if line.len() > MAX_LINE_LEN {
            return Err(AuditError::Damaged {
                path: path.to_path_buf(),
                problem: "its last line is longer than any record".into(),
            });
        }
        let rec: Record = serde_json::from_slice(line).map_err(|e| AuditError::Damaged {
            path: path.to_path_buf(),
            problem: format!("its last line is not an audit record ({e})"),
        })?;
        return Ok(LogHead {
            seq: rec.seq,
            hash: line_hash(line),
        });
    }
}

/// A file of the log's, opened or refused.
fn file_err<'a>(action: &'static str, path: &'a Path) -> impl FnOnce(FileError) -> AuditError + 'a {
    move |e| match e {
        FileError::Io(source) => AuditError::Io {
            action,
            path: path.to_path_buf(),
            source,
        },
        FileError::Refused(problem) => AuditError::Refused {
            path: path.to_path_buf(),
            problem,
        },
    }
}

/// Open the log at `path` for reading (and appending, with `append`), never through a link,
/// without waiting; it must be a regular file. Returns the file and its length.
pub(super) fn open_log(path: &Path, append: bool) -> Result<(File, u64), AuditError> {
    let mut options = OpenOptions::new();
    options.read(true);
    if append {
        options.append(true).create(true).mode(0o644);
    }
    let file = safe_file::open_own(path, &mut options).map_err(file_err("open", path))?;
    let meta = file.metadata().map_err(|source| AuditError::Io {
        action: "read",
        path: path.to_path_buf(),
        source,
    })?;
    if !meta.is_file() {
        return Err(AuditError::Refused {
            path: path.to_path_buf(),
            problem: Refusal::NotAFile {
                pipes_allowed: false,
            },
        });
    }
    Ok((file, meta.len()))
}

/// The log held under its exclusive append lock (`<vault>.audit.lock`) until dropped: records
/// are appended, and the log may be cut back, only through it.
#[derive(Debug)]
pub struct LockedLog<'a> {
    log: &'a AuditLog,
    _lock: File,
}

impl AuditLog {
    /// Take the log's exclusive append lock, waiting for other appenders. The lock file is
    /// never followed through a link.
    pub fn lock(&self) -> Result<LockedLog<'_>, AuditError> {
        let lock = safe_file::open_own(
            &self.lock_path,
            OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .mode(0o600),
        )
        .map_err(file_err("open", &self.lock_path))?;
        lock.lock()
            .map_err(|e| self.io("lock", &self.lock_path, e))?;
        Ok(LockedLog {
            log: self,
            _lock: lock,
        })
    }
}

impl LockedLog<'_> {
    /// Append one record. `build` receives the new record's seq and prev and returns the full
    /// line (without newline); the lock is held, so the chain cannot fork between reading the
    /// tail and writing. The line and its newline go to the file in one write; if that write
    /// is short or fails, or the fsync after it fails, the file is cut back to its previous
    /// length ([`AuditError::AppendFailed`] says whether that worked). Returns the new head.
    pub(super) fn append(
        &self,
        build: impl FnOnce(u64, &[u8; 32]) -> Result<String, AuditError>,
    ) -> Result<LogHead, AuditError> {
        let mut build = Some(build);
        self.append_many(1, |seq, prev| {
            let build = build.take().expect("one record");
            build(seq, prev)
        })
    }

    /// Append `count` records (at least one) as [`LockedLog::append`] appends one: `build` is
    /// called `count` times, each time with the next seq and the hash of the line it built
    /// before (the log's last line, the first time). Every line is built and checked before
    /// anything is written; then all of them go to the file in one write and one fsync, and a
    /// short or failed write, or a failed fsync, cuts the file back to its previous length, so
    /// that the log holds either every record of the batch or none. Returns the new head.
    pub(super) fn append_many(
        &self,
        count: usize,
        mut build: impl FnMut(u64, &[u8; 32]) -> Result<String, AuditError>,
    ) -> Result<LogHead, AuditError> {
        assert!(count > 0, "a batch of no record is not appended");
        let log = self.log;
        let (mut file, len) = open_log(&log.path, true)?;
        let mut head = read_tail(&log.path, &mut file, len)?;
        let mut bytes = Vec::new();
        for _ in 0..count {
            let seq = head.seq + 1;
            let line = build(seq, &head.hash)?;
            if line.len() > MAX_LINE_LEN || line.contains('\n') {
                return Err(AuditError::RecordTooLong { len: line.len() });
            }
            bytes.extend_from_slice(line.as_bytes());
            bytes.push(b'\n');
            head = LogHead {
                seq,
                hash: line_hash(line.as_bytes()),
            };
        }
        // One write, never retried: a second write after a short one is what a file-size
        // limit answers with SIGXFSZ, which would end custody with half a record written.
        let written = match file.write(&bytes) {
            Ok(n) if n == bytes.len() => file.sync_data(),
            Ok(n) => Err(io::Error::new(
                io::ErrorKind::StorageFull,
                format!(
                    "only {n} of the {} bytes of {} could be written (the disk or a quota is \
                     full, or the file-size limit was reached)",
                    bytes.len(),
                    if count == 1 {
                        "the record".to_owned()
                    } else {
                        format!("{count} records")
                    }
                ),
            )),
            Err(e) => Err(e),
        };
        if let Err(source) = written {
            return Err(AuditError::AppendFailed {
                path: log.path.clone(),
                source,
                restored: cut_back(&file, len),
            });
        }
        Ok(head)
    }

    /// Cut the log back to its first `len` bytes and fsync it (removing a torn final line).
    pub fn truncate(&self, len: u64) -> Result<(), AuditError> {
        let log = self.log;
        let file = safe_file::open_own(&log.path, OpenOptions::new().write(true))
            .map_err(file_err("open", &log.path))?;
        file.set_len(len)
            .and_then(|()| file.sync_all())
            .map_err(|e| log.io("truncate", &log.path, e))
    }
}

/// Put the log back to `len` bytes after a failed append, and say whether it is as it was.
fn cut_back(file: &File, len: u64) -> Restored {
    match file.set_len(len).and_then(|()| file.sync_all()) {
        Ok(()) => Restored::AsItWas,
        // Nothing may have been written at all: then it is as it was anyway.
        Err(undo) => match file.metadata() {
            Ok(m) if m.len() == len => Restored::AsItWas,
            _ => Restored::Torn { undo },
        },
    }
}

/// Append one record under the log's lock (see [`LockedLog::append`]).
pub(super) fn append(
    log: &AuditLog,
    build: impl FnOnce(u64, &[u8; 32]) -> Result<String, AuditError>,
) -> Result<LogHead, AuditError> {
    log.lock()?.append(build)
}

/// Append `count` records (at least one) under the log's lock, in one write and one fsync
/// (see [`LockedLog::append_many`]).
pub(super) fn append_many(
    log: &AuditLog,
    count: usize,
    build: impl FnMut(u64, &[u8; 32]) -> Result<String, AuditError>,
) -> Result<LogHead, AuditError> {
    log.lock()?.append_many(count, build)
}

/// Serialise `rec` (which must not yet carry `sig`) with the chain fields filled in.
pub(super) fn body_line(mut rec: Record, seq: u64, prev: &[u8; 32]) -> String {
    rec.seq = seq;
    rec.prev = hex(prev);
    rec.sig = None;
    serde_json::to_string(&rec).expect("audit records serialise")
}

/// Add the signature member to a body line.
pub(super) fn with_signature(body: &str, sig: &[u8; 64]) -> String {
    let mut line = body.strip_suffix('}').expect("JSON object").to_owned();
    line.push_str(SIG_MEMBER);
    line.push_str(&STANDARD.encode(sig));
    line.push_str("\"}");
    line
}
