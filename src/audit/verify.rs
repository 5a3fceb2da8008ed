//! Checking a whole audit log: every line parses, seq runs 1, 2, 3, ... without gaps, each
//! `prev` is the hash of the line before, every successful outcome carries a valid signature
//! under the vault's key, and no other record does but the `program-ended` record that the
//! one-time key certified by its ceremony's closing record signs (`exit.rs`) and the
//! `agent-*` records (`agent-granted`, `agent-refused`, `agent-proxied`, `agent-sealed`) that
//! the agent key certified by its unlock's closing record signs (`agent.rs`). Every problem
//! names its line.

use std::fmt;
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signature, VerifyingKey};

use super::agent::{self, AgentClaim, AgentProblem};
use super::chain::{self, GENESIS_PREV, MAX_LINE_LEN, line_hash, signed_message};
use super::exit::{self, ExitProblem};
use super::record::{Event, Outcome, Record};
use super::{AuditError, LogHead};

/// One thing wrong with a log. Line numbers count from 1.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    /// The line is not a valid audit record.
    Unparsable {
        /// Line number (1-based).
        line: usize,
        /// Why it does not parse (not UTF-8, too long, or the JSON error).
        reason: String,
    },
    /// The file's last line has no newline: cut off.
    Truncated {
        /// Line number of the incomplete last line.
        line: usize,
    },
    /// The first record's seq is not 1.
    FirstSeq {
        /// Line number (1-based).
        line: usize,
        /// The seq the first record carries.
        seq: u64,
    },
    /// seq jumps forward: records were deleted.
    SeqGap {
        /// Line number (1-based).
        line: usize,
        /// The previous record's seq.
        from: u64,
        /// This record's seq (more than `from + 1`).
        to: u64,
    },
    /// seq does not increase: records were reordered or duplicated.
    SeqBackwards {
        /// Line number (1-based).
        line: usize,
        /// The previous record's seq.
        from: u64,
        /// This record's seq (at most `from`).
        to: u64,
    },
    /// `prev` is not the hash of the line before.
    ChainBroken {
        /// Line number (1-based).
        line: usize,
    },
    /// The first line's `prev` is not the all-zero value.
    BadGenesis,
    /// A signature does not verify under the vault's key.
    BadSignature {
        /// Line number (1-based).
        line: usize,
    },
    /// A record claims success but carries no signature.
    UnsignedSuccess {
        /// Line number (1-based).
        line: usize,
    },
    /// A signature on a record that is not a successful outcome.
    UnexpectedSignature {
        /// Line number (1-based).
        line: usize,
    },
    /// The anchored head's record is not in the log.
    HeadMissing {
        /// The head that was anchored outside the log.
        anchored: LogHead,
        /// The seq of the log's last record.
        last_seq: u64,
    },
    /// The record at the anchored seq is not the anchored one.
    HeadMismatch {
        /// The head that was anchored outside the log.
        anchored: LogHead,
        /// Line number of the record that carries the anchored seq.
        line: usize,
    },
    /// A `program-ended` record is not certified or not signed by its one-time key.
    ProgramEnded {
        /// Line number (1-based).
        line: usize,
        /// What is wrong with it.
        problem: ExitProblem,
    },
    /// An `agent-*` record is not certified, not signed by its agent key, or follows the
    /// session's seal.
    AgentRecord {
        /// Line number (1-based).
        line: usize,
        /// What is wrong with it.
        problem: AgentProblem,
    },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Unparsable { line, reason } => {
                write!(f, "line {line}: not a valid audit record ({reason})")
            }
            Problem::Truncated { line } => write!(
                f,
                "line {line}: file ends inside a record: truncated (or a write was interrupted)"
            ),
            Problem::FirstSeq { line, seq } => write!(
                f,
                "line {line}: the first record has seq {seq}, not 1: the start of the log was removed"
            ),
            Problem::SeqGap { line, from, to } => write!(
                f,
                "line {line}: seq jumps from {from} to {to}: {} record(s) deleted",
                to - from - 1
            ),
            Problem::SeqBackwards { line, from, to } => write!(
                f,
                "line {line}: seq goes from {from} to {to}: records were reordered or duplicated"
            ),
            Problem::ChainBroken { line } => write!(
                f,
                "line {line}: hash chain broken — line {} was edited or a line was removed",
                line - 1
            ),
            Problem::BadGenesis => write!(
                f,
                "line 1: `prev` is not the all-zero value of a first record: the start of the log \
                 was removed or edited"
            ),
            Problem::BadSignature { line } => write!(
                f,
                "line {line}: the signature does not verify under the vault's key: this record \
                 or one before it was edited, or the record was forged"
            ),
            Problem::UnsignedSuccess { line } => write!(
                f,
                "line {line}: claims a successful ceremony but is not signed: it was written by \
                 someone without the master key"
            ),
            Problem::UnexpectedSignature { line } => write!(
                f,
                "line {line}: carries a signature, which only a successful outcome may: the \
                 record was altered"
            ),
            Problem::HeadMissing { anchored, last_seq } => write!(
                f,
                "the log ends at seq {last_seq} but the anchored head is seq {}: records were \
                 removed from the end",
                anchored.seq
            ),
            Problem::HeadMismatch { anchored, line } => write!(
                f,
                "line {line}: seq {} is not the anchored record (hash {}): the log was rewritten",
                anchored.seq,
                anchored.hash_hex()
            ),
            Problem::ProgramEnded { line, problem } => write!(f, "line {line}: {problem}"),
            Problem::AgentRecord { line, problem } => write!(f, "line {line}: {problem}"),
        }
    }
}

/// One ceremony as the log tells it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CeremonySummary {
    /// The ceremony id (16 hex digits) shared by its records.
    pub id: String,
    /// The action from its start record (`?` if the first record seen has none).
    pub action: String,
    /// Time of its first record (RFC 3339 UTC).
    pub started: String,
    /// Host name from its first record.
    pub host: String,
    /// Line number of its first record.
    pub first_line: usize,
    /// Line number of its last record.
    pub last_line: usize,
    /// `None`: no outcome yet (in progress, or the program was killed).
    pub outcome: Option<Outcome>,
    /// The outcome's reason or summary.
    pub detail: Option<String>,
    /// Custodians whose shares were accepted, in log order (`?` when a record names none).
    pub shares_accepted: Vec<String>,
    /// Number of shares rejected.
    pub shares_rejected: usize,
}

impl CeremonySummary {
    /// The outcome with its reason or summary, e.g. `failed: <reason>`; without an outcome,
    /// says the ceremony is in progress or was stopped (or, for an audit repair, what it did).
    pub fn status(&self) -> String {
        match (self.outcome, &self.detail) {
            (None, Some(d)) => d.clone(),
            (None, None) => "no outcome: in progress, or the program was stopped".into(),
            (Some(o), Some(d)) => format!("{}: {d}", o.as_str()),
            (Some(o), None) => o.as_str().into(),
        }
    }
}

/// What a log holds and what is wrong with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditReport {
    /// Complete lines.
    pub records: usize,
    /// The last complete line's seq and hash (genesis when empty).
    pub head: LogHead,
    /// The last signed record's head and line, if any.
    pub last_signed: Option<(LogHead, usize)>,
    /// Ceremonies in log order.
    pub ceremonies: Vec<CeremonySummary>,
    /// Empty when the log is intact.
    pub problems: Vec<Problem>,
    /// Every parsed record with its line number (for `audit show`).
    pub lines: Vec<(usize, Record)>,
    /// The master keys this vault retired, newest first, each vouched for by the signed
    /// record of the master rotation that retired it (the chain of handovers from the
    /// vault's current key). Drill certificates signed before a rotation verify under these.
    pub retired_keys: Vec<RetiredKey>,
    /// Lines of the `program-ended` records signed by the one-time key their ceremony's
    /// signed record certified, and of the `agent-*` records signed by the agent key their
    /// unlock ceremony certified: covered by a signature, like the signed records.
    pub program_ends: Vec<usize>,
}

/// A master key a confirmed rotate-master retired, as the audit log records it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetiredKey {
    /// The retired Ed25519 public key.
    pub key: VerifyingKey,
    /// When the rotation that retired it was recorded (the note's RFC 3339 `time`).
    pub retired_at: String,
}

impl AuditReport {
    /// Whether no problem was found.
    pub fn is_intact(&self) -> bool {
        self.problems.is_empty()
    }

    /// Records after the last signed one, other than certified `program-ended` records:
    /// protected only by the hash chain, not by a signature.
    pub fn unsigned_tail(&self) -> usize {
        let after = self.last_signed.map_or(0, |(_, l)| l);
        let ends = self.program_ends.iter().filter(|&&l| l > after).count();
        self.records - after - ends
    }

    /// Ceremonies with a record after the last signed record (failed, abandoned, in
    /// progress), other than an `exec` whose last record is its certified `program-ended`.
    pub fn tail_ceremonies(&self) -> Vec<&CeremonySummary> {
        let after = self.last_signed.map_or(0, |(_, l)| l);
        self.ceremonies
            .iter()
            .filter(|c| c.last_line > after && !self.program_ends.contains(&c.last_line))
            .collect()
    }
}

/// Read and check the whole log at `log_path` against the vault key `key`, collecting every
/// problem. Fails only when the file cannot be read; a missing file is an empty log.
pub fn inspect(log_path: &Path, key: &VerifyingKey) -> Result<AuditReport, AuditError> {
    let bytes = super::read_log(log_path)?.unwrap_or_default();
    Ok(inspect_bytes(&bytes, key))
}

/// [`inspect`], failing with [`AuditError::Tampered`] when anything is wrong.
pub fn verify(log_path: &Path, key: &VerifyingKey) -> Result<AuditReport, AuditError> {
    let report = inspect(log_path, key)?;
    if report.is_intact() {
        Ok(report)
    } else {
        Err(AuditError::Tampered {
            path: log_path.to_path_buf(),
            problems: report.problems,
        })
    }
}

/// [`verify`], and also require the record `anchored` (from a vault manifest, a certificate
/// or a printed report) to be in the log with the same hash. This detects whole records
/// removed from the end, which the chain alone cannot.
pub fn verify_against_head(
    log_path: &Path,
    key: &VerifyingKey,
    anchored: &LogHead,
) -> Result<AuditReport, AuditError> {
    let bytes = super::read_log(log_path)?.unwrap_or_default();
    let mut report = inspect_bytes(&bytes, key);
    report.problems.extend(anchor_problem_in(&bytes, anchored));
    if report.is_intact() {
        Ok(report)
    } else {
        Err(AuditError::Tampered {
            path: log_path.to_path_buf(),
            problems: report.problems,
        })
    }
}

/// Whether the log `bytes` still hold the record `anchored` with the same hash: `None` if
/// they do (or `anchored` is the empty log's head), else [`Problem::HeadMissing`] or
/// [`Problem::HeadMismatch`]. Reads the lines only; the chain is [`inspect`]'s business.
pub fn anchor_problem_in(bytes: &[u8], anchored: &LogHead) -> Option<Problem> {
    if anchored.seq == 0 {
        return None;
    }
    // Complete lines only: a torn final line is not a record.
    let complete = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let mut last_seq = 0;
    for (i, l) in bytes[..complete].split(|&b| b == b'\n').enumerate() {
        let Ok(r) = serde_json::from_slice::<Record>(l) else {
            continue;
        };
        last_seq = last_seq.max(r.seq);
        if r.seq == anchored.seq {
            return (line_hash(l) != anchored.hash).then_some(Problem::HeadMismatch {
                anchored: *anchored,
                line: i + 1,
            });
        }
    }
    Some(Problem::HeadMissing {
        anchored: *anchored,
        last_seq,
    })
}

/// [`inspect`] on log bytes already in memory (also what the `audit_log` fuzz target feeds).
pub fn inspect_bytes(bytes: &[u8], key: &VerifyingKey) -> AuditReport {
    let mut problems = Vec::new();
    let mut pieces: Vec<&[u8]> = bytes.split(|&b| b == b'\n').collect();
    // `split` yields a final empty piece when the file ends with a newline.
    let last = pieces.pop().unwrap_or_default();
    if !last.is_empty() {
        problems.push(Problem::Truncated {
            line: pieces.len() + 1,
        });
    }
    let mut report = AuditReport {
        records: pieces.len(),
        head: LogHead::genesis(),
        last_signed: None,
        ceremonies: Vec::new(),
        problems: Vec::new(),
        lines: Vec::new(),
        retired_keys: Vec::new(),
        program_ends: Vec::new(),
    };
    let mut prev_hash = GENESIS_PREV;
    let mut prev_seq: Option<u64> = None;
    let mut signed: Vec<SignedRecord> = Vec::new();
    let mut retired: Vec<(String, RetiredKey)> = Vec::new();
    let mut ended: Vec<exit::Claim> = Vec::new();
    let mut certified: Vec<exit::Certified> = Vec::new();
    let mut agent_claims: Vec<AgentClaim> = Vec::new();
    let mut agent_keys: Vec<exit::Certified> = Vec::new();
    for (i, raw) in pieces.iter().enumerate() {
        let line = i + 1;
        let hash = line_hash(raw);
        let parsed = if raw.len() > MAX_LINE_LEN {
            Err("longer than any record".to_owned())
        } else {
            std::str::from_utf8(raw)
                .map_err(|_| "not UTF-8".to_owned())
                .and_then(|s| {
                    serde_json::from_str::<Record>(s)
                        .map(|r| (s, r))
                        .map_err(|e| e.to_string())
                })
        };
        let (text, rec) = match parsed {
            Ok(x) => x,
            Err(reason) => {
                problems.push(Problem::Unparsable { line, reason });
                prev_hash = hash;
                prev_seq = prev_seq.map(|s| s + 1);
                continue;
            }
        };
        // seq continuity
        match prev_seq {
            None if line == 1 && rec.seq != 1 => {
                problems.push(Problem::FirstSeq { line, seq: rec.seq })
            }
            Some(p) if rec.seq > p + 1 => problems.push(Problem::SeqGap {
                line,
                from: p,
                to: rec.seq,
            }),
            Some(p) if rec.seq <= p => problems.push(Problem::SeqBackwards {
                line,
                from: p,
                to: rec.seq,
            }),
            _ => {}
        }
        prev_seq = Some(rec.seq);
        // hash chain
        if chain::parse_hash(&rec.prev) != Some(prev_hash) {
            problems.push(if line == 1 {
                Problem::BadGenesis
            } else {
                Problem::ChainBroken { line }
            });
        }
        // signature
        let success = rec.event == Event::Outcome && rec.outcome == Some(Outcome::Succeeded);
        let program_ended = rec.event == Event::ProgramEnded;
        if program_ended {
            // Checked after the whole file, against the key its ceremony certified.
            ended.push(exit::Claim::of(line, &rec, text));
        }
        let by_agent = matches!(
            rec.event,
            Event::AgentGranted
                | Event::AgentRefused
                | Event::AgentProxied
                | Event::AgentProxyToken
                | Event::AgentSealed
        );
        if by_agent {
            // Likewise, against the agent key its unlock ceremony certified.
            agent_claims.push(AgentClaim {
                claim: exit::Claim::of(line, &rec, text),
                sealed: rec.event == Event::AgentSealed,
            });
        }
        match (&rec.sig, success) {
            (None, true) => problems.push(Problem::UnsignedSuccess { line }),
            (Some(_), false) if !program_ended && !by_agent => {
                problems.push(Problem::UnexpectedSignature { line })
            }
            (Some(sig), true) => signed.push(SignedRecord {
                line,
                seq: rec.seq,
                hash,
                ceremony: rec.ceremony.clone(),
                claimed_prev: chain::parse_hash(&rec.prev).unwrap_or([0xff; 32]),
                body: chain::split_signature(text)
                    .filter(|(_, member)| member == sig)
                    .map(|(body, _)| body),
                sig: STANDARD
                    .decode(sig)
                    .ok()
                    .and_then(|b| <[u8; 64]>::try_from(b).ok()),
                exit_key: rec.exit_key.clone(),
                agent_key: rec.agent_key.clone(),
            }),
            (_, false) => {}
        }
        if rec.event == Event::Note
            && rec.key.as_deref() == Some(RETIRED_KEY_NOTE)
            && let Some(k) = rec
                .value
                .as_deref()
                .and_then(crate::keys::unhex)
                .and_then(|b| <[u8; 32]>::try_from(b).ok())
                .and_then(|b| VerifyingKey::from_bytes(&b).ok())
        {
            retired.push((
                rec.ceremony.clone(),
                RetiredKey {
                    key: k,
                    retired_at: rec.time.clone(),
                },
            ));
        }
        summarise(&mut report.ceremonies, line, &rec);
        report.lines.push((line, rec));
        prev_hash = hash;
        report.head = LogHead {
            seq: prev_seq.unwrap_or(0),
            hash,
        };
    }
    // Signatures, newest first: the newest are under the vault's current key; a ceremony that
    // retired a key (rotate-master confirmed) and whose own signature verifies hands the older
    // records over to the retired key it names.
    let mut key = *key;
    for r in signed.iter().rev() {
        let ok = match (&r.body, &r.sig) {
            (Some(body), Some(sig)) => key
                .verify_strict(
                    &signed_message(r.seq, &r.claimed_prev, body.as_bytes()),
                    &Signature::from_bytes(sig),
                )
                .is_ok(),
            _ => false,
        };
        if ok {
            if report.last_signed.is_none() {
                report.last_signed = Some((
                    LogHead {
                        seq: r.seq,
                        hash: r.hash,
                    },
                    r.line,
                ));
            }
            if let Some((_, old)) = retired.iter().find(|(c, _)| *c == r.ceremony)
                && !report.retired_keys.contains(old)
            {
                key = old.key;
                report.retired_keys.push(old.clone());
            }
            if let Some(k) = &r.exit_key {
                certified.push(exit::Certified {
                    line: r.line,
                    ceremony: r.ceremony.clone(),
                    key: k.clone(),
                });
            }
            if let Some(k) = &r.agent_key {
                agent_keys.push(exit::Certified {
                    line: r.line,
                    ceremony: r.ceremony.clone(),
                    key: k.clone(),
                });
            }
        } else {
            problems.push(Problem::BadSignature { line: r.line });
        }
    }
    let (exit_problems, verified_ends) = exit::check(&ended, &certified);
    problems.extend(
        exit_problems
            .into_iter()
            .map(|(line, problem)| Problem::ProgramEnded { line, problem }),
    );
    report.program_ends = verified_ends;
    let (agent_problems, verified_agent) = agent::check(&agent_claims, &agent_keys);
    problems.extend(
        agent_problems
            .into_iter()
            .map(|(line, problem)| Problem::AgentRecord { line, problem }),
    );
    report.program_ends.extend(verified_agent);
    report.program_ends.sort_unstable();
    report.problems = problems;
    report
}

/// The note a ceremony that replaces the master key writes, before its signed close, with the
/// hex Ed25519 public key it retires. Records before that ceremony verify under the retired key.
pub const RETIRED_KEY_NOTE: &str = "retired_key";

/// A signed record, checked after the whole file is read (newest first).
struct SignedRecord {
    line: usize,
    seq: u64,
    hash: [u8; 32],
    ceremony: String,
    claimed_prev: [u8; 32],
    body: Option<String>,
    sig: Option<[u8; 64]>,
    /// The one-time key it certifies for its program's `program-ended` record, if any.
    exit_key: Option<String>,
    /// The key it certifies for an unlocked agent's records, if any.
    agent_key: Option<String>,
}

fn summarise(ceremonies: &mut Vec<CeremonySummary>, line: usize, rec: &Record) {
    let idx = match ceremonies.iter().rposition(|c| c.id == rec.ceremony) {
        Some(i) => i,
        None => {
            ceremonies.push(CeremonySummary {
                id: rec.ceremony.clone(),
                action: rec.action.clone().unwrap_or_else(|| "?".into()),
                started: rec.time.clone(),
                host: rec.host.clone(),
                first_line: line,
                last_line: line,
                outcome: None,
                detail: None,
                shares_accepted: Vec::new(),
                shares_rejected: 0,
            });
            ceremonies.len() - 1
        }
    };
    let c = &mut ceremonies[idx];
    c.last_line = line;
    match rec.event {
        Event::ShareAccepted => c
            .shares_accepted
            .push(rec.custodian.clone().unwrap_or_else(|| "?".into())),
        Event::ShareRejected => c.shares_rejected += 1,
        Event::Outcome => {
            c.outcome = rec.outcome;
            c.detail = rec.reason.clone().or_else(|| rec.summary.clone());
        }
        Event::AuditRepair => {
            c.action = Event::AuditRepair.as_str().into();
            c.detail = Some(rec.describe());
        }
        Event::AgentPolicy | Event::KnownHost => c.detail = rec.summary.clone(),
        _ => {}
    }
}
