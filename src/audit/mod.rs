//! The tamper-evident audit log `<vault>.audit`: one JSON record per line, hash-chained, the
//! closing record of every successful ceremony signed with the master key.
//!
//! Writing: [`AuditLog::open`] names the files beside the vault; [`Ceremony::begin`] records
//! the start of a ceremony; [`Ceremony::share_accepted`], [`Ceremony::share_rejected`],
//! [`Ceremony::note`] and [`Ceremony::credentials_opened`] record its steps;
//! [`Ceremony::succeed`] (signed, needs the quorum's [`DerivedKeys`]) or [`Ceremony::fail`]
//! closes it. Dropping an unfinished ceremony records the outcome `abandoned`. An `exec` that
//! started a program closes with [`Ceremony::succeed_handing_over`], which certifies a
//! one-time key in the signed record; the returned [`ExitRecorder`] later appends how the
//! program ended, signed with that key, without the master key (see `exit`). Every record is
//! appended under an exclusive lock (`<vault>.audit.lock`) with O_APPEND, in one write, and
//! fsync, so concurrent ceremonies interleave without forking the chain; a write that fails
//! half-way is cut back off ([`AuditError::AppendFailed`]). The agent's signing proxy records
//! its requests in batches ([`AgentRecorder::proxied`]): one signed record per request, one
//! write and one fsync per batch. [`LockedLog::record_repair`]
//! records the removal of a torn final line (the `audit repair` operation), and
//! [`AuditLog::record_policy_change`] a change to the agent access policy made without a
//! quorum, [`AuditLog::record_host_change`] one to the known hosts. Neither the log
//! nor its lock file is ever reached through a symbolic link.
//!
//! Reading: [`inspect`] / [`verify`] check every line (syntax, seq continuity, hash chain,
//! signatures) and name the line of every problem; [`head`] gives the last record's seq and hash
//! so that something outside the log (the vault manifest, a certificate) can anchor it, and
//! [`verify_against_head`] checks a log against such an anchor. Without an anchor, removing
//! whole records from the end of the log is not detectable (shares-format.md, "Audit log").
//!
//! Nothing secret is ever written: the API takes only names, labels and reasons.

mod agent;
mod anchor;
mod chain;
mod change_without_quorum;
mod exit;
mod proxied;
mod record;
mod repair;
mod verify;

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use ed25519_dalek::{Signer, VerifyingKey};
use rand_core::{OsRng, RngCore};

use crate::clock::Clock;
use crate::keys::{DerivedKeys, fingerprint, hex};
use crate::quorum::Member;
use crate::safe_file::{self, FileError, ReadRules, Refusal};
use crate::timefmt;
use crate::vault::Vault;
use crate::wire;

pub use agent::{AgentClient, AgentProblem, AgentRecorder};
pub use anchor::anchor_in_vault;
pub use chain::{
    GENESIS_PREV, LockedLog, MAX_LINE_LEN, line_hash, signed_message, split_signature,
};
pub use exit::{ExitProblem, ExitRecorder, ProgramEnd, signal_name};
pub use proxied::{
    MAX_PROXIED_BATCH, ProxiedOutcome, ProxiedProblem, ProxiedRequest, REQUEST_CLASSES,
};
pub use record::{Event, Outcome, Record};
pub use verify::{
    AuditReport, CeremonySummary, Problem, RETIRED_KEY_NOTE, RetiredKey, anchor_problem_in,
    inspect, inspect_bytes, verify, verify_against_head,
};

/// The last record of a log: its seq and the SHA-256 of its line. `seq` 0 with the all-zero
/// hash is the empty log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LogHead {
    /// Sequence number of the last record (records count from 1; 0 means no record yet).
    pub seq: u64,
    /// SHA-256 of the last record's line, without its newline ([`GENESIS_PREV`] if empty).
    pub hash: [u8; 32],
}

impl LogHead {
    /// The head of an empty log.
    pub fn genesis() -> LogHead {
        LogHead {
            seq: 0,
            hash: GENESIS_PREV,
        }
    }

    /// The hash as 64 lowercase hex digits, the form [`LogHead::parse`] reads back.
    pub fn hash_hex(&self) -> String {
        hex(&self.hash)
    }

    /// Parse `seq` and a 64-hex-digit hash (as printed by `audit verify`).
    pub fn parse(seq: u64, hash_hex: &str) -> Option<LogHead> {
        Some(LogHead {
            seq,
            hash: chain::parse_hash(hash_hex)?,
        })
    }
}

impl fmt::Display for LogHead {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "seq {} hash {}", self.seq, self.hash_hex())
    }
}

/// Why the audit log could not be written or read, or what is wrong with it.
#[derive(Debug)]
pub enum AuditError {
    /// The file system refused (`action` is "open", "read", "lock", "append to").
    Io {
        /// What was being attempted, phrased to follow "cannot".
        action: &'static str,
        /// The file concerned: the log or its lock file.
        path: PathBuf,
        /// The operating system's error.
        source: io::Error,
    },
    /// A record could not be appended (a full disk, a quota, the file-size limit, an I/O
    /// error): the part written, if any, was cut off again — or could not be.
    AppendFailed {
        /// The log file.
        path: PathBuf,
        /// Why the write (or its fsync) failed.
        source: io::Error,
        /// Whether the log is as it was before this record.
        restored: Restored,
    },
    /// The log or its lock file was refused before it was read or written: a symbolic link,
    /// not a regular file, or larger than [`wire::MAX_AUDIT_LOG_BYTES`].
    Refused {
        /// The file refused.
        path: PathBuf,
        /// Why.
        problem: Refusal,
    },
    /// Appending is refused: the last line is not a complete record.
    Damaged {
        /// The log file.
        path: PathBuf,
        /// What is wrong with its end, e.g. truncated inside a record.
        problem: String,
    },
    /// A record would exceed [`MAX_LINE_LEN`].
    RecordTooLong {
        /// The record's length in bytes, without the newline.
        len: usize,
    },
    /// A batch of proxied requests longer than [`MAX_PROXIED_BATCH`]; nothing was written.
    BatchTooLarge {
        /// How many requests the batch held.
        len: usize,
    },
    /// A proxied request cannot be recorded as it is; nothing of its batch was written.
    BadProxiedRequest {
        /// Its place in the batch, from 0.
        index: usize,
        /// How many requests the batch held.
        of: usize,
        /// What is wrong with it.
        problem: ProxiedProblem,
    },
    /// `succeed` was given keys that are not the vault's.
    WrongKey {
        /// Fingerprint of the vault's public key (see [`fingerprint`]).
        vault: String,
        /// Fingerprint of the public key of the keys that were given.
        given: String,
    },
    /// The ceremony is recorded (its closing record is `head`) but the vault could not be
    /// updated to anchor it.
    NotAnchored {
        /// The closing record that was not anchored.
        head: LogHead,
        /// The vault file.
        vault: PathBuf,
        /// Why the vault could not be written.
        source: Box<crate::vault::store::StoreError>,
    },
    /// The ceremony is recorded (`head`), but the log no longer holds the record the vault
    /// anchored before: records were removed or the log replaced. The anchor was kept.
    AnchoredRecordMissing {
        /// The closing record of this ceremony.
        head: LogHead,
        /// The head the vault anchors, which the log no longer holds.
        anchored: LogHead,
    },
    /// Verification found problems (each names its line).
    Tampered {
        /// The log file that was verified.
        path: PathBuf,
        /// Every problem found, each naming its line.
        problems: Vec<Problem>,
    },
}

impl fmt::Display for AuditError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuditError::Io {
                action,
                path,
                source,
            } => write!(
                f,
                "cannot {action} the audit log {}: {source}; check the folder's permissions and \
                 free space (the ceremony is not recorded until this works)",
                path.display()
            ),
            AuditError::AppendFailed {
                path,
                source,
                restored: Restored::AsItWas,
            } => write!(
                f,
                "cannot append to the audit log {}: {source}; the log is as it was before this \
                 record (the part written was cut off again). Free space (or raise the limit), \
                 then run the ceremony again: it is not recorded until this works",
                path.display()
            ),
            AuditError::AppendFailed {
                path,
                source,
                restored: Restored::Torn { undo },
            } => write!(
                f,
                "cannot append to the audit log {}: {source}, and the part of the record already \
                 written could not be cut off again ({undo}): the log may now end inside a \
                 record, and no ceremony can be recorded until that torn line is repaired",
                path.display()
            ),
            AuditError::Refused {
                path,
                problem: Refusal::TooLarge { limit },
            } => write!(
                f,
                "{} is larger than {}, the most custody reads whole (some 200 000 records); \
                 nothing was read. Ceremonies are still recorded (appending reads only the end \
                 of the log); keep the file",
                path.display(),
                safe_file::human_size(*limit)
            ),
            AuditError::Refused { path, problem } => write!(f, "{} {problem}", path.display()),
            AuditError::Damaged { path, problem } => write!(
                f,
                "the audit log {} cannot be appended to: {problem}. Verify the log; if its only \
                 problem is a torn final line (a write that was interrupted), it can be repaired, \
                 keeping a copy of the damaged file",
                path.display()
            ),
            AuditError::RecordTooLong { len } => write!(
                f,
                "an audit record would be {len} bytes, more than the {MAX_LINE_LEN} allowed; \
                 shorten the note or reason (please report this)"
            ),
            AuditError::BatchTooLarge { len } => write!(
                f,
                "a batch of {len} proxied requests is more than the {MAX_PROXIED_BATCH} one \
                 audit write records; nothing of it was written: record it in parts (please \
                 report this)"
            ),
            AuditError::BadProxiedRequest { index, of, problem } => write!(
                f,
                "proxied request {} of {of} cannot be recorded: {problem}; nothing of the batch \
                 was written (please report this)",
                index + 1
            ),
            AuditError::WrongKey { vault, given } => write!(
                f,
                "the key given to sign the audit record has fingerprint {given}, but the vault's \
                 is {vault}; nothing was signed (please report this)"
            ),
            AuditError::NotAnchored {
                head,
                vault,
                source,
            } => write!(
                f,
                "the ceremony is recorded in the audit log (seq {}), but the vault {} could not \
                 be updated to anchor it: {source}. What the ceremony did stands; the next \
                 successful ceremony anchors the log",
                head.seq,
                vault.display()
            ),
            AuditError::AnchoredRecordMissing { head, anchored } => write!(
                f,
                "the ceremony is recorded in the audit log (seq {}), but the log no longer holds \
                 the record the vault anchored ({anchored}): records were removed from the log, \
                 or it was replaced. The vault's anchor was left as it was, as evidence",
                head.seq
            ),
            AuditError::Tampered { path, problems } => {
                write!(
                    f,
                    "the audit log {} failed verification ({} problem(s)):",
                    path.display(),
                    problems.len()
                )?;
                for p in problems {
                    write!(f, "\n  {p}")?;
                }
                write!(
                    f,
                    "\nKeep the file as evidence, compare it with your backups, and tell the \
                     other officers"
                )
            }
        }
    }
}

impl std::error::Error for AuditError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            AuditError::Io { source, .. } | AuditError::AppendFailed { source, .. } => Some(source),
            AuditError::NotAnchored { source, .. } => Some(source.as_ref()),
            _ => None,
        }
    }
}

/// Whether a failed append left the log as it was.
#[derive(Debug)]
pub enum Restored {
    /// The log is byte for byte as it was before the record (the part written, if any, was
    /// cut off and the file fsynced).
    AsItWas,
    /// Cutting the part written off again failed: the log may end inside a record.
    Torn {
        /// Why the cut failed.
        undo: io::Error,
    },
}

/// The audit log of one vault: `<vault>.audit` and its lock file `<vault>.audit.lock`.
#[derive(Clone, Debug)]
pub struct AuditLog {
    path: PathBuf,
    lock_path: PathBuf,
}

fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(suffix);
    path.with_file_name(name)
}

/// `<vault>.audit`.
pub fn log_path(vault_path: &Path) -> PathBuf {
    sibling(vault_path, ".audit")
}

impl AuditLog {
    /// The log beside the vault file at `vault_path`. Nothing is created until the first
    /// record is appended; the folder must exist.
    pub fn open(vault_path: &Path) -> Result<AuditLog, AuditError> {
        let path = log_path(vault_path);
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        std::fs::metadata(&dir).map_err(|source| AuditError::Io {
            action: "open",
            path: path.clone(),
            source,
        })?;
        Ok(AuditLog {
            lock_path: sibling(vault_path, ".audit.lock"),
            path,
        })
    }

    /// The log file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The current head (seq 0 when the log is empty or missing).
    pub fn head(&self) -> Result<LogHead, AuditError> {
        head(&self.path)
    }

    fn io(&self, action: &'static str, path: &Path, source: io::Error) -> AuditError {
        AuditError::Io {
            action,
            path: path.to_path_buf(),
            source,
        }
    }
}

/// The head (seq and hash of the last complete line) of the log at `log_path`, without
/// verifying the chain, reading only the log's end. A missing or empty file gives
/// [`LogHead::genesis`]; a link or a file that is not a regular one is refused.
pub fn head(log_path: &Path) -> Result<LogHead, AuditError> {
    match chain::open_log(log_path, false) {
        Err(AuditError::Io { source, .. }) if source.kind() == io::ErrorKind::NotFound => {
            Ok(LogHead::genesis())
        }
        Err(e) => Err(e),
        Ok((mut file, len)) => chain::read_tail(log_path, &mut file, len),
    }
}

/// The whole log at `log_path`, `None` when there is none: a regular file (not a link) of at
/// most [`wire::MAX_AUDIT_LOG_BYTES`], opened without waiting.
pub fn read_log(log_path: &Path) -> Result<Option<Vec<u8>>, AuditError> {
    match safe_file::read(log_path, ReadRules::own(wire::MAX_AUDIT_LOG_BYTES)) {
        Ok(mut bytes) => Ok(Some(std::mem::take(&mut *bytes))),
        Err(FileError::Io(e)) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(FileError::Io(source)) => Err(AuditError::Io {
            action: "read",
            path: log_path.to_path_buf(),
            source,
        }),
        Err(FileError::Refused(problem)) => Err(AuditError::Refused {
            path: log_path.to_path_buf(),
            problem,
        }),
    }
}

/// The machine's host name, from the kernel (`/proc/sys/kernel/hostname`); never from the
/// environment, which any caller can set. `"unknown"` if it cannot be read.
pub fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown".into())
}

/// One ceremony's records. Create with [`Ceremony::begin`]; close with [`Ceremony::succeed`] or
/// [`Ceremony::fail`]; dropping it unfinished records the outcome `abandoned`.
#[derive(Debug)]
pub struct Ceremony {
    log: AuditLog,
    id: String,
    host: String,
    vault_key: VerifyingKey,
    clock: Clock,
    finished: bool,
}

impl Ceremony {
    /// Record the start of `action` ("drill", "exec", "reshare", ...) on `vault`.
    pub fn begin(
        log: &AuditLog,
        action: &str,
        vault: &Vault,
        clock: Clock,
    ) -> Result<Ceremony, AuditError> {
        let mut id = [0u8; 8];
        OsRng.fill_bytes(&mut id);
        let c = Ceremony {
            log: log.clone(),
            id: hex(&id),
            host: host_name(),
            vault_key: *vault.public_key(),
            clock,
            finished: false,
        };
        let mut r = c.record(Event::Start);
        r.format = Some(wire::AUDIT_FORMAT.to_owned());
        r.action = Some(action.to_owned());
        r.vault_id = Some(vault.vault_id_hex());
        r.fingerprint = Some(vault.fingerprint());
        r.epoch = Some(vault.epoch());
        match c.append(r) {
            Ok(_) => Ok(c),
            Err(e) => {
                let mut c = c;
                c.finished = true; // nothing recorded: nothing to abandon
                Err(e)
            }
        }
    }

    /// The ceremony id that links its records.
    pub fn id(&self) -> &str {
        &self.id
    }

    fn record(&self, event: Event) -> Record {
        Record {
            time: timefmt::rfc3339(self.clock.now()),
            host: self.host.clone(),
            ceremony: self.id.clone(),
            event,
            ..Record::default()
        }
    }

    fn append(&self, r: Record) -> Result<LogHead, AuditError> {
        chain::append(&self.log, |seq, prev| Ok(chain::body_line(r, seq, prev)))
    }

    /// A presented share passed its checks.
    pub fn share_accepted(&self, m: &Member) -> Result<(), AuditError> {
        let mut r = self.record(Event::ShareAccepted);
        r.custodian = Some(m.custodian.clone());
        r.group = Some(m.group.clone());
        r.member = Some(m.member_number);
        r.input = Some(m.label.clone());
        r.source = Some(m.source.as_str().to_owned());
        self.append(r).map(drop)
    }

    /// A presented share was refused: its input label (never its content) and why.
    pub fn share_rejected(&self, label: &str, reason: &str) -> Result<(), AuditError> {
        let mut r = self.record(Event::ShareRejected);
        r.input = Some(label.to_owned());
        r.reason = Some(reason.to_owned());
        self.append(r).map(drop)
    }

    /// A detail of the action, e.g. `note("exchange", "kraken")`. Never pass a secret.
    pub fn note(&self, key: &str, value: &str) -> Result<(), AuditError> {
        let mut r = self.record(Event::Note);
        r.key = Some(key.to_owned());
        r.value = Some(value.to_owned());
        self.append(r).map(drop)
    }

    /// The credentials this ceremony opened, by name.
    pub fn credentials_opened(&self, names: &[String]) -> Result<(), AuditError> {
        let mut r = self.record(Event::CredentialsOpened);
        r.credentials = Some(names.to_vec());
        self.append(r).map(drop)
    }

    /// Close the ceremony as successful: the outcome record is signed with the master key over
    /// the chain up to and including it. Returns the new head (put it on a certificate).
    pub fn succeed(self, keys: &DerivedKeys, summary: &str) -> Result<LogHead, AuditError> {
        self.close_signed(keys, summary, Certify::Nothing)
    }

    /// Close an `agent-unlock` ceremony as successful, as [`Ceremony::succeed`] does: the
    /// signed record also certifies a fresh key (`agent_key`) made for this unlock, and the
    /// returned recorder signs the agent's later records (grants, refusals, the seal) with that
    /// key alone. Drop the master key as soon as this returns.
    pub fn succeed_for_agent(
        self,
        keys: &DerivedKeys,
        summary: &str,
    ) -> Result<(LogHead, AgentRecorder), AuditError> {
        let key = exit::OneTimeKey::generate();
        let (log, id, host, clock) = (
            self.log.clone(),
            self.id.clone(),
            self.host.clone(),
            self.clock,
        );
        let head = self.close_signed(keys, summary, Certify::Agent(key.public_hex()))?;
        let recorder = AgentRecorder {
            log,
            ceremony: id,
            host,
            clock,
            key: std::sync::Mutex::new(key),
            test_upstream: std::sync::Mutex::new(None),
        };
        Ok((head, recorder))
    }

    /// Close the ceremony as successful, as [`Ceremony::succeed`] does, for an action that
    /// handed credentials to program `pid`: the signed record also certifies a fresh one-time
    /// key (`exit_key`), and the returned recorder appends, with that key alone, how the
    /// program ended. Drop the master key as soon as this returns.
    pub fn succeed_handing_over(
        self,
        keys: &DerivedKeys,
        summary: &str,
        pid: u32,
    ) -> Result<(LogHead, ExitRecorder), AuditError> {
        let started = std::time::Instant::now();
        let key = exit::OneTimeKey::generate();
        let (log, id, host, clock) = (
            self.log.clone(),
            self.id.clone(),
            self.host.clone(),
            self.clock,
        );
        let head = self.close_signed(keys, summary, Certify::Exit(key.public_hex()))?;
        let recorder = ExitRecorder {
            log,
            ceremony: id,
            host,
            clock,
            key,
            pid,
            started,
        };
        Ok((head, recorder))
    }

    fn close_signed(
        mut self,
        keys: &DerivedKeys,
        summary: &str,
        certify: Certify,
    ) -> Result<LogHead, AuditError> {
        if keys.verifying_key() != self.vault_key {
            return Err(AuditError::WrongKey {
                vault: fingerprint(&self.vault_key),
                given: fingerprint(&keys.verifying_key()),
            });
        }
        let mut r = self.record(Event::Outcome);
        r.outcome = Some(Outcome::Succeeded);
        r.summary = Some(summary.to_owned());
        match certify {
            Certify::Nothing => {}
            Certify::Exit(k) => r.exit_key = Some(k),
            Certify::Agent(k) => r.agent_key = Some(k),
        }
        let head = chain::append(&self.log, |seq, prev| {
            let body = chain::body_line(r, seq, prev);
            let sig = keys
                .signing_key()
                .sign(&signed_message(seq, prev, body.as_bytes()));
            Ok(chain::with_signature(&body, &sig.to_bytes()))
        })?;
        self.finished = true;
        Ok(head)
    }

    /// Close the ceremony as failed, with the reason (an error message; never a secret).
    pub fn fail(mut self, reason: &str) -> Result<LogHead, AuditError> {
        let mut r = self.record(Event::Outcome);
        r.outcome = Some(Outcome::Failed);
        r.reason = Some(reason.to_owned());
        let head = self.append(r)?;
        self.finished = true;
        Ok(head)
    }
}

/// The key a signed closing record certifies, if any.
enum Certify {
    Nothing,
    /// For the `program-ended` record of an `exec`.
    Exit(String),
    /// For the records of an unlocked agent.
    Agent(String),
}

impl Drop for Ceremony {
    fn drop(&mut self) {
        if !self.finished {
            let mut r = self.record(Event::Outcome);
            r.outcome = Some(Outcome::Abandoned);
            let _ = self.append(r);
        }
    }
}
