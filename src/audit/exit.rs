//! How the program of an `exec` ceremony ended, recorded after the ceremony has closed and
//! without keeping the master key for it.
//!
//! The ceremony's closing record (a succeeded outcome, signed with the master key) carries
//! `exit_key`: the public half of a one-time Ed25519 key made for this program alone. The
//! master secret and the keys derived from it are then erased; while the program runs,
//! custody holds only the one-time key (in locked memory). When the program ends, one
//! `program-ended` record — its exit code or the signal that ended it, and how long it ran —
//! is appended to the log, signed with the one-time key, and the key is erased.
//!
//! Verification ([`check`], called by `verify`): a `program-ended` record must come after
//! its ceremony's closing record, that record's master-key signature must verify and certify
//! an `exit_key`, the record's own signature must verify under that key (over the same
//! message as a closing record's, see `chain::signed_message`), and a ceremony has at most one
//! such record. If custody itself is killed before the program ends, no record is written.

use std::fmt;
use std::process::ExitStatus;
use std::time::Instant;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use rand_core::{OsRng, RngCore};
use rustix::process::Signal;

use super::chain::{self, signed_message};
use super::record::{Event, Record};
use super::{AuditError, AuditLog, LogHead};
use crate::clock::Clock;
use crate::keys::hex;
use crate::secret::SecretBytes;
use crate::timefmt;

/// How a program ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProgramEnd {
    /// It exited with this status code.
    Exited {
        /// The exit status (0-255).
        code: i32,
    },
    /// A signal ended it.
    Signalled {
        /// The signal's number.
        signal: i32,
    },
}

impl From<ExitStatus> for ProgramEnd {
    fn from(status: ExitStatus) -> ProgramEnd {
        use std::os::unix::process::ExitStatusExt;
        match (status.code(), status.signal()) {
            (Some(code), _) => ProgramEnd::Exited { code },
            (None, Some(signal)) => ProgramEnd::Signalled { signal },
            // `wait` reports only ended programs, which exited or were signalled; a raw
            // status that is neither is kept as it is.
            (None, None) => ProgramEnd::Exited {
                code: status.into_raw(),
            },
        }
    }
}

impl fmt::Display for ProgramEnd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            ProgramEnd::Exited { code } => write!(f, "exited with code {code}"),
            ProgramEnd::Signalled { signal } => match signal_name(signal) {
                Some(name) => write!(f, "was ended by signal {signal} ({name})"),
                None => write!(f, "was ended by signal {signal}"),
            },
        }
    }
}

/// The conventional name of signal `n` on this system (`SIGTERM`), if it has one.
pub fn signal_name(n: i32) -> Option<&'static str> {
    const NAMES: [(Signal, &str); 15] = [
        (Signal::HUP, "SIGHUP"),
        (Signal::INT, "SIGINT"),
        (Signal::QUIT, "SIGQUIT"),
        (Signal::ILL, "SIGILL"),
        (Signal::TRAP, "SIGTRAP"),
        (Signal::ABORT, "SIGABRT"),
        (Signal::BUS, "SIGBUS"),
        (Signal::FPE, "SIGFPE"),
        (Signal::KILL, "SIGKILL"),
        (Signal::USR1, "SIGUSR1"),
        (Signal::SEGV, "SIGSEGV"),
        (Signal::USR2, "SIGUSR2"),
        (Signal::PIPE, "SIGPIPE"),
        (Signal::ALARM, "SIGALRM"),
        (Signal::TERM, "SIGTERM"),
    ];
    NAMES
        .iter()
        .find(|(s, _)| s.as_raw() == n)
        .map(|(_, name)| *name)
}

/// A one-time Ed25519 key: its 32-byte seed in locked, zeroized memory.
pub(super) struct OneTimeKey {
    seed: SecretBytes,
}

impl OneTimeKey {
    /// A fresh key from the operating system's random generator.
    pub(super) fn generate() -> OneTimeKey {
        let mut seed = SecretBytes::zeroed(32);
        OsRng.fill_bytes(seed.expose_mut());
        OneTimeKey { seed }
    }

    pub(super) fn signing_key(&self) -> SigningKey {
        let seed: &[u8; 32] = self.seed.expose().try_into().expect("32-byte seed");
        SigningKey::from_bytes(seed)
    }

    /// The public key in hex, as the closing record's `exit_key` carries it.
    pub(super) fn public_hex(&self) -> String {
        hex(self.signing_key().verifying_key().as_bytes())
    }
}

/// What is needed, after an `exec` ceremony closed, to record how its program ended: the log,
/// the ceremony, the program's pid and start, and the one-time key the closing record
/// certified. Dropping it records nothing.
pub struct ExitRecorder {
    pub(super) log: AuditLog,
    pub(super) ceremony: String,
    pub(super) host: String,
    pub(super) clock: Clock,
    pub(super) key: OneTimeKey,
    pub(super) pid: u32,
    /// When the program was handed over (just before the closing record was written).
    pub(super) started: Instant,
}

impl fmt::Debug for ExitRecorder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExitRecorder")
            .field("ceremony", &self.ceremony)
            .field("pid", &self.pid)
            .field("key", &"<redacted>")
            .finish()
    }
}

impl ExitRecorder {
    /// The program's process id.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Append the `program-ended` record, signed with the one-time key, which is erased
    /// afterwards. Returns the new head.
    pub fn record(self, end: ProgramEnd) -> Result<LogHead, AuditError> {
        let mut r = Record {
            time: timefmt::rfc3339(self.clock.now()),
            host: self.host.clone(),
            ceremony: self.ceremony.clone(),
            event: Event::ProgramEnded,
            pid: Some(self.pid),
            ran_ms: Some(u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)),
            ..Record::default()
        };
        match end {
            ProgramEnd::Exited { code } => r.exit_code = Some(code),
            ProgramEnd::Signalled { signal } => {
                r.signal = Some(signal);
                r.signal_name = signal_name(signal).map(str::to_owned);
            }
        }
        let key = self.key.signing_key();
        chain::append(&self.log, |seq, prev| {
            let body = chain::body_line(r, seq, prev);
            let sig = key.sign(&signed_message(seq, prev, body.as_bytes()));
            Ok(chain::with_signature(&body, &sig.to_bytes()))
        })
    }
}

/// What is wrong with a `program-ended` record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitProblem {
    /// No verified closing record of its ceremony before it certifies a one-time key, or
    /// that key already signed an earlier `program-ended` record.
    Uncertified,
    /// Unsigned, or its signature does not verify under the certified one-time key.
    BadSignature,
}

impl fmt::Display for ExitProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ExitProblem::Uncertified => {
                "records how a program ended, but no signed closing record of its ceremony \
                 before it certifies a key for that (or one record already used it): it was \
                 added by someone else"
            }
            ExitProblem::BadSignature => {
                "records how a program ended, but is not signed with the one-time key its \
                 ceremony's signed record certified: the record was edited or forged"
            }
        })
    }
}

/// A `program-ended` record, as read, waiting for its check.
pub(super) struct Claim {
    pub line: usize,
    pub seq: u64,
    pub ceremony: String,
    pub prev: [u8; 32],
    /// The line without its signature member (`None`: no signature at the end).
    pub body: Option<String>,
    pub sig: Option<[u8; 64]>,
}

impl Claim {
    /// The record `rec` read from line `line`, whose exact text is `text`.
    pub(super) fn of(line: usize, rec: &Record, text: &str) -> Claim {
        let sig = rec.sig.as_deref();
        Claim {
            line,
            seq: rec.seq,
            ceremony: rec.ceremony.clone(),
            prev: chain::parse_hash(&rec.prev).unwrap_or([0xff; 32]),
            body: sig.and_then(|sig| {
                chain::split_signature(text)
                    .filter(|(_, member)| *member == sig)
                    .map(|(body, _)| body)
            }),
            sig: sig
                .and_then(|s| STANDARD.decode(s).ok())
                .and_then(|b| <[u8; 64]>::try_from(b).ok()),
        }
    }
}

impl Claim {
    /// Whether the record carries a signature that verifies strictly under `key`.
    pub(super) fn signed_by(&self, key: &VerifyingKey) -> bool {
        match (&self.body, &self.sig) {
            (Some(body), Some(sig)) => key
                .verify_strict(
                    &signed_message(self.seq, &self.prev, body.as_bytes()),
                    &Signature::from_bytes(sig),
                )
                .is_ok(),
            _ => false,
        }
    }
}

/// The Ed25519 public key a closing record certifies, from its 64-hex-digit member.
pub(super) fn certified_key(hex: &str) -> Option<VerifyingKey> {
    crate::keys::unhex(hex)
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
        .and_then(|b| VerifyingKey::from_bytes(&b).ok())
}

/// A closing record whose master-key signature verified and that certifies a key.
pub(super) struct Certified {
    pub line: usize,
    pub ceremony: String,
    /// The `exit_key` member as written (hex).
    pub key: String,
}

/// Check every claim against the keys certified before it in its ceremony. Returns the
/// problems (line, what) and the lines of the records that verified.
pub(super) fn check(
    claims: &[Claim],
    certified: &[Certified],
) -> (Vec<(usize, ExitProblem)>, Vec<usize>) {
    let mut problems = Vec::new();
    let mut verified = Vec::new();
    let mut used: Vec<&str> = Vec::new();
    for c in claims {
        let key = certified
            .iter()
            .filter(|k| k.ceremony == c.ceremony && k.line < c.line)
            .find(|k| !used.contains(&k.ceremony.as_str()))
            .and_then(|k| {
                used.push(&k.ceremony);
                certified_key(&k.key)
            });
        let Some(key) = key else {
            problems.push((c.line, ExitProblem::Uncertified));
            continue;
        };
        let ok = c.signed_by(&key);
        if ok {
            verified.push(c.line);
        } else {
            problems.push((c.line, ExitProblem::BadSignature));
        }
    }
    (problems, verified)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ends_read_as_a_shell_reports_them() {
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(
            ProgramEnd::from(ExitStatus::from_raw(3 << 8)),
            ProgramEnd::Exited { code: 3 }
        );
        let term = ProgramEnd::from(ExitStatus::from_raw(15));
        assert_eq!(term, ProgramEnd::Signalled { signal: 15 });
        assert_eq!(term.to_string(), "was ended by signal 15 (SIGTERM)");
        assert_eq!(signal_name(9), Some("SIGKILL"));
        assert_eq!(signal_name(64), None);
    }
}
