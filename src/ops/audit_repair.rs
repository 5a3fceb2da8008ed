//! `audit repair`: remove a torn final line from a vault's audit log — the partial record an
//! interrupted write (a full disk, a crash, an older custody) left behind, after which no
//! ceremony can be recorded — keeping a copy of the damaged log and recording the repair in
//! the log itself. Nothing else is ever repaired: a log with any other problem is refused with
//! what verification found, and left as it is.
//!
//! Under the vault's writer lock and the log's append lock: read and verify the whole log
//! under the vault's key; if it is intact, change nothing; if its only problem is a torn final
//! line (no longer than one record), write the damaged log to `<vault>.audit.torn-<UTC time>`
//! (mode 0600, never overwriting anything), cut the torn bytes off, and append an
//! `audit-repair` record naming the bytes removed and the copy. No quorum is present, so the
//! record is not signed; the hash chain covers it like every other record.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::audit::{self, AuditError, AuditLog, LogHead, MAX_LINE_LEN, Problem};
use crate::clock::Clock;
use crate::safe_file::{self, FileError};
use crate::timefmt;
use crate::vault::store::{self, StoreError};

/// What [`repair`] found and did.
#[derive(Debug, PartialEq, Eq)]
pub enum Repair {
    /// There is no audit log yet: nothing to repair, nothing changed.
    Missing,
    /// The log verifies: nothing to repair, nothing changed.
    Intact {
        /// Its records.
        records: usize,
    },
    /// The torn final line was removed, the damaged log kept, and the repair recorded.
    Repaired {
        /// Bytes of the torn line removed.
        removed_bytes: u64,
        /// The copy of the damaged log (beside it).
        copy: PathBuf,
        /// The log's head after the repair record.
        head: LogHead,
    },
}

/// Why the log was not repaired. Unless the variant says otherwise, nothing was changed.
#[derive(Debug)]
pub enum RepairError {
    /// The vault could not be locked or read.
    Store(StoreError),
    /// The log could not be locked, read or written.
    Audit(AuditError),
    /// The log has problems other than a torn final line (each names its line).
    NotOnlyTorn {
        /// Every problem verification found.
        problems: Vec<Problem>,
    },
    /// The unterminated end of the log is longer than any record: not what an interrupted
    /// write leaves.
    TornTooLong {
        /// Its length in bytes.
        len: u64,
    },
    /// The copy of the damaged log could not be written (nothing else was changed).
    Copy {
        /// The copy's path.
        path: PathBuf,
        /// Why.
        source: FileError,
    },
    /// The copy was kept, but cutting the torn line off or recording the repair failed.
    AfterCopy {
        /// The copy of the damaged log, kept.
        copy: PathBuf,
        /// What failed.
        source: AuditError,
    },
}

impl fmt::Display for RepairError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RepairError::Store(e) => e.fmt(f),
            RepairError::Audit(e) => e.fmt(f),
            RepairError::NotOnlyTorn { problems } => {
                write!(
                    f,
                    "the audit log was not repaired: a repair removes only a torn final line, \
                     and verification found {} other problem(s):",
                    problems
                        .iter()
                        .filter(|p| !matches!(p, Problem::Truncated { .. }))
                        .count()
                )?;
                for p in problems {
                    write!(f, "\n  {p}")?;
                }
                write!(
                    f,
                    "\nNothing was changed. Keep the file as evidence, compare it with your \
                     backups, and tell the other officers"
                )
            }
            RepairError::TornTooLong { len } => write!(
                f,
                "the audit log was not repaired: it ends with {len} bytes that are not a \
                 complete line, more than any record ({MAX_LINE_LEN} bytes), so they are not \
                 what an interrupted write leaves. Nothing was changed; keep the file as evidence"
            ),
            RepairError::Copy { path, source } => write!(
                f,
                "the audit log was not repaired: cannot keep its copy {}: {source}. Nothing was \
                 changed",
                path.display()
            ),
            RepairError::AfterCopy { copy, source } => write!(
                f,
                "the damaged audit log was copied to {}, but the repair did not complete: \
                 {source}",
                copy.display()
            ),
        }
    }
}

impl std::error::Error for RepairError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            RepairError::Store(e) => Some(e),
            RepairError::Audit(e) | RepairError::AfterCopy { source: e, .. } => Some(e),
            RepairError::Copy { source, .. } => Some(source),
            RepairError::NotOnlyTorn { .. } | RepairError::TornTooLong { .. } => None,
        }
    }
}

super::wrap_errors!(RepairError,
    StoreError => Store,
    AuditError => Audit,
);

/// The copy's path: `<vault>.audit.torn-<UTC time>` beside the log.
fn copy_path(log: &Path, now: u64) -> PathBuf {
    let mut name = log.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".torn-{}", timefmt::compact(now)));
    log.with_file_name(name)
}

/// Repair the audit log of the vault at `vault_path` if, and only if, its one problem is a
/// torn final line (see the module documentation). No quorum is needed.
pub fn repair(vault_path: &Path, clock: Clock) -> Result<Repair, RepairError> {
    let _writer = store::lock(vault_path)?;
    let vault = store::load(vault_path)?;
    let log = AuditLog::open(vault_path)?;
    let locked = log.lock()?;
    let Some(bytes) = audit::read_log(log.path())? else {
        return Ok(Repair::Missing);
    };
    let report = audit::inspect_bytes(&bytes, vault.public_key());
    if report.is_intact() {
        return Ok(Repair::Intact {
            records: report.records,
        });
    }
    let only_torn = matches!(
        report.problems.as_slice(),
        [Problem::Truncated { line }] if *line == report.records + 1
    );
    if !only_torn {
        return Err(RepairError::NotOnlyTorn {
            problems: report.problems,
        });
    }
    let keep = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let torn = (bytes.len() - keep) as u64;
    if torn > MAX_LINE_LEN as u64 {
        return Err(RepairError::TornTooLong { len: torn });
    }
    let copy = copy_path(log.path(), clock.now());
    safe_file::create_own(&copy, &bytes, 0o600).map_err(|source| RepairError::Copy {
        path: copy.clone(),
        source,
    })?;
    let name = copy
        .file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned();
    let after_copy = |source| RepairError::AfterCopy {
        copy: copy.clone(),
        source,
    };
    locked.truncate(keep as u64).map_err(after_copy)?;
    let head = locked
        .record_repair(torn, &name, clock)
        .map_err(after_copy)?;
    Ok(Repair::Repaired {
        removed_bytes: torn,
        copy,
        head,
    })
}
