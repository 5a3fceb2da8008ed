//! The hash chain and the append path: each line's `prev` is the SHA-256 of the previous
//! line's exact bytes; a successful ceremony's outcome line is signed over the chain up to and
//! including its own body; appends happen under `<vault>.audit.lock` with O_APPEND and fsync.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest, Sha256};

use super::record::Record;
use super::{AuditError, AuditLog, LogHead};
use crate::keys::hex;
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

/// The last complete line of the log (seq and hash), reading only the file's tail.
fn read_tail(log: &AuditLog, file: &mut File) -> Result<LogHead, AuditError> {
    let len = file
        .metadata()
        .map_err(|e| log.io("read", &log.path, e))?
        .len();
    if len == 0 {
        return Ok(LogHead::genesis());
    }
    let mut want: u64 = 4096;
    loop {
        let start = len.saturating_sub(want);
        file.seek(SeekFrom::Start(start))
            .map_err(|e| log.io("read", &log.path, e))?;
        let mut buf = Vec::with_capacity((len - start) as usize);
        Read::by_ref(file)
            .take(len - start)
            .read_to_end(&mut buf)
            .map_err(|e| log.io("read", &log.path, e))?;
        if buf.last() != Some(&b'\n') {
            return Err(AuditError::Damaged {
                path: log.path.clone(),
                problem: "it ends inside a record (truncated, or a write was interrupted)".into(),
            });
        }
        let body = &buf[..buf.len() - 1];
        let line = match body.iter().rposition(|&b| b == b'\n') {
            Some(i) => &body[i + 1..],
            None if start == 0 => body,
            None if want as usize > 2 * MAX_LINE_LEN => {
                return Err(AuditError::Damaged {
                    path: log.path.clone(),
                    problem: "its last line is longer than any record".into(),
                });
            }
            None => {
                want *= 4;
                continue;
            }
        };
        let rec: Record = serde_json::from_slice(line).map_err(|e| AuditError::Damaged {
            path: log.path.clone(),
            problem: format!("its last line is not an audit record ({e})"),
        })?;
        return Ok(LogHead {
            seq: rec.seq,
            hash: line_hash(line),
        });
    }
}

/// Append one record. `build` receives the new record's seq and prev and returns the full line
/// (without newline); it runs under the lock, so the chain cannot fork between reading the
/// tail and writing. Returns the new head.
pub(super) fn append(
    log: &AuditLog,
    build: impl FnOnce(u64, &[u8; 32]) -> Result<String, AuditError>,
) -> Result<LogHead, AuditError> {
    let lock = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&log.lock_path)
        .map_err(|e| log.io("open", &log.lock_path, e))?;
    lock.lock().map_err(|e| log.io("lock", &log.lock_path, e))?;
    let mut file = {
        use std::os::unix::fs::OpenOptionsExt;
        OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .mode(0o644)
            .open(&log.path)
            .map_err(|e| log.io("open", &log.path, e))?
    };
    let tail = read_tail(log, &mut file)?;
    let seq = tail.seq + 1;
    let line = build(seq, &tail.hash)?;
    if line.len() > MAX_LINE_LEN || line.contains('\n') {
        return Err(AuditError::RecordTooLong { len: line.len() });
    }
    let mut bytes = Vec::with_capacity(line.len() + 1);
    bytes.extend_from_slice(line.as_bytes());
    bytes.push(b'\n');
    file.write_all(&bytes)
        .and_then(|()| file.sync_data())
        .map_err(|e| log.io("append to", &log.path, e))?;
    drop(lock);
    Ok(LogHead {
        seq,
        hash: line_hash(line.as_bytes()),
    })
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
