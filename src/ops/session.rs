//! One quorum ceremony around one action, written to the vault's audit log.
//!
//! [`Begun::begin`] hardens the process (no core dumps, secret pages locked), loads the vault
//! and records the ceremony's start; the front end then gathers the shares (from files, or at
//! a terminal, checking each against [`Begun::vault`]) and hands them over as a
//! [`Presentation`]; [`Begun::unlock`] runs the quorum checks and records every share accepted
//! or refused. The resulting [`Session`] holds the master secret in locked memory until it is
//! finished with [`Session::finish`] (success signed with the master key, or failure with its
//! reason) or dropped (recorded as abandoned); either way the secret is zeroized.

use std::fmt;
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use crate::audit::{self, AgentRecorder, AuditError, AuditLog, ExitRecorder, LogHead};
use crate::clock::Clock;
use crate::harden::{self, Hardening};
use crate::input::Presented;
use crate::keys::DerivedKeys;
use crate::quorum::{self, Member, QuorumError, Unlocked};
use crate::remote::CeremonyRecord;
use crate::vault::Vault;
use crate::vault::store::{self, StoreError};

/// The most of a failure's message an audit record keeps.
const MAX_REASON_LEN: usize = 1500;

/// What a quorum presents: the shares as read (in order), the SLIP-39 passphrase if the
/// shares use one, and the shares a front end refused before the session saw them (at the
/// terminal), which are recorded too.
#[derive(Default)]
pub struct Presentation {
    /// The shares, in order of presentation.
    pub shares: Vec<Presented>,
    /// The SLIP-39 passphrase, if any.
    pub passphrase: Option<Zeroizing<String>>,
    /// Shares refused on the spot: (input label, reason). Never their content.
    pub refused: Vec<(String, String)>,
    /// The remote ceremony the shares were gathered in, if any (`--remote`): recorded as the
    /// ceremony's `remote-ceremony` note before the shares.
    pub remote: Option<CeremonyRecord>,
}

impl Presentation {
    /// The passphrase as bytes, if one was given.
    pub fn passphrase_bytes(&self) -> Option<&[u8]> {
        self.passphrase.as_ref().map(|p| p.as_bytes())
    }
}

/// Why a quorum session could not open or be recorded.
#[derive(Debug)]
pub enum SessionError {
    /// The vault could not be read or does not verify.
    Vault(StoreError),
    /// The audit log could not be opened or appended to: nothing happens unrecorded.
    Audit(AuditError),
    /// The shares do not make a quorum for this vault (each bad share is named).
    Quorum(QuorumError),
}

impl fmt::Display for SessionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SessionError::Vault(e) => e.fmt(f),
            SessionError::Audit(e) => e.fmt(f),
            SessionError::Quorum(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for SessionError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            SessionError::Vault(e) => Some(e),
            SessionError::Audit(e) => Some(e),
            SessionError::Quorum(e) => Some(e),
        }
    }
}

super::wrap_errors!(
    SessionError,
    StoreError => Vault,
    AuditError => Audit,
);

/// A ceremony that has started (and is recorded) but has no quorum yet.
pub struct Begun {
    path: PathBuf,
    vault: Vault,
    ceremony: audit::Ceremony,
    hardening: Hardening,
    clock: Clock,
}

/// Harden this process for secrets: no core dumps, not dumpable, secret pages locked.
fn harden() -> Hardening {
    harden::for_quorum()
}

impl Begun {
    /// Harden the process, load and verify the vault at `path`, and record the start of
    /// `action` ("drill", "exec", ...) in its audit log.
    pub fn begin(path: &Path, action: &str, clock: Clock) -> Result<Begun, SessionError> {
        let hardening = harden();
        let vault = store::load(path)?;
        Begun::begin_on(path, vault, action, clock, hardening)
    }

    /// [`Begun::begin`] for a ceremony of another key set than the vault's current one (the
    /// pending set of a custodian change, given as its view of the vault).
    pub fn begin_as(
        path: &Path,
        target: Vault,
        action: &str,
        clock: Clock,
    ) -> Result<Begun, SessionError> {
        Begun::begin_on(path, target, action, clock, harden())
    }

    fn begin_on(
        path: &Path,
        vault: Vault,
        action: &str,
        clock: Clock,
        hardening: Hardening,
    ) -> Result<Begun, SessionError> {
        let log = AuditLog::open(path)?;
        let ceremony = audit::Ceremony::begin(&log, action, &vault, clock)?;
        Ok(Begun {
            path: path.to_path_buf(),
            vault,
            ceremony,
            hardening,
            clock,
        })
    }

    /// The vault the shares are checked against.
    pub fn vault(&self) -> &Vault {
        &self.vault
    }

    /// Run the quorum checks on `presented` and reconstruct the master secret in locked
    /// memory. Every share refused on the spot, accepted, or rejected by the checks is
    /// recorded; a failure closes the ceremony with its reason before the error returns.
    pub fn unlock(self, presented: &Presentation) -> Result<Session, SessionError> {
        if let Some(r) = &presented.remote {
            self.ceremony.note("remote-ceremony", &r.note_value())?;
        }
        for (label, reason) in &presented.refused {
            self.ceremony.share_rejected(label, reason)?;
        }
        match quorum::unlock(
            &presented.shares,
            Some(&self.vault),
            presented.passphrase_bytes(),
        ) {
            Ok(unlocked) => {
                for m in &unlocked.members {
                    self.ceremony.share_accepted(m)?;
                }
                for c in &unlocked.counted_once {
                    self.ceremony.note("counted_once", &c.to_string())?;
                }
                Ok(Session {
                    path: self.path,
                    vault: self.vault,
                    unlocked,
                    ceremony: self.ceremony,
                    hardening: self.hardening,
                    clock: self.clock,
                })
            }
            Err(e) => {
                if let QuorumError::Rejected(list) = &e {
                    for (label, problem) in list {
                        self.ceremony.share_rejected(label, &problem.to_string())?;
                    }
                }
                record_failure(self.ceremony, &e)?;
                Err(SessionError::Quorum(e))
            }
        }
    }

    /// Close the ceremony as failed with `reason` before any quorum was reached (for example
    /// when the front end could not gather the shares), and hand the reason back.
    pub fn fail<E: fmt::Display>(self, reason: E) -> Result<E, SessionError> {
        record_failure(self.ceremony, &reason)?;
        Ok(reason)
    }

    /// Record shares refused before the ceremony could go on, then fail it with `reason`.
    pub fn fail_with_refused<E: fmt::Display>(
        self,
        refused: &[(String, String)],
        reason: E,
    ) -> Result<E, SessionError> {
        for (label, why) in refused {
            self.ceremony.share_rejected(label, why)?;
        }
        record_failure(self.ceremony, &reason)?;
        Ok(reason)
    }

    /// What the process hardening could not do (to tell the officers).
    pub fn hardening_warnings(&self) -> Vec<String> {
        self.hardening.warnings()
    }
}

/// Close `ceremony` as failed with `reason`'s message, shortened to fit a record.
fn record_failure(ceremony: audit::Ceremony, reason: &dyn fmt::Display) -> Result<(), AuditError> {
    let mut text = reason.to_string();
    if text.len() > MAX_REASON_LEN {
        let mut cut = MAX_REASON_LEN;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push('…');
    }
    ceremony.fail(&text).map(drop)
}

/// An open quorum: the master secret and the keys derived from it, in locked memory, with its
/// ceremony being recorded. Dropping it unfinished records the ceremony as abandoned.
pub struct Session {
    path: PathBuf,
    vault: Vault,
    unlocked: Unlocked,
    ceremony: audit::Ceremony,
    hardening: Hardening,
    clock: Clock,
}

impl Session {
    /// The vault file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The vault as it was when the ceremony began.
    pub fn vault(&self) -> &Vault {
        &self.vault
    }

    /// The reconstructed quorum (master secret, derived keys, who presented).
    pub fn unlocked(&self) -> &Unlocked {
        &self.unlocked
    }

    /// The keys derived from the master secret.
    pub fn keys(&self) -> &DerivedKeys {
        &self.unlocked.keys
    }

    /// Every share presented, in order.
    pub fn members(&self) -> &[Member] {
        &self.unlocked.members
    }

    /// The clock this session records with.
    pub fn clock(&self) -> Clock {
        self.clock
    }

    /// Add a `key = value` note to the ceremony's record (nothing secret).
    pub fn note(&self, key: &str, value: &str) -> Result<(), AuditError> {
        self.ceremony.note(key, value)
    }

    /// Record which credentials were opened (names only).
    pub fn credentials_opened(&self, names: &[String]) -> Result<(), AuditError> {
        self.ceremony.credentials_opened(names)
    }

    /// The audit log's head so far (for certificates that cite it).
    pub fn audit_head(&self) -> Result<LogHead, AuditError> {
        AuditLog::open(&self.path)?.head()
    }

    /// What the process hardening could not do (to tell the officers).
    pub fn hardening_warnings(&self) -> Vec<String> {
        self.hardening.warnings()
    }

    /// Close the ceremony with the action's outcome: on success a record signed with the
    /// master key and `summary(&value)`, on failure the error's message. The master secret is
    /// erased either way. An audit failure on success is returned as `E`.
    pub fn finish<T, E>(
        self,
        outcome: Result<T, E>,
        summary: impl FnOnce(&T) -> String,
    ) -> Result<T, E>
    where
        E: fmt::Display + From<AuditError>,
    {
        let Session {
            path,
            unlocked,
            ceremony,
            clock,
            ..
        } = self;
        match outcome {
            Ok(v) => {
                let head = ceremony.succeed(&unlocked.keys, &summary(&v))?;
                audit::anchor_in_vault(&path, &unlocked.keys, head, clock.now())?;
                Ok(v)
            }
            Err(e) => {
                record_failure(ceremony, &e)?;
                Err(e)
            }
        }
    }

    /// Close the ceremony as succeeded (a record signed with the master key, then anchored in
    /// the vault) and keep the unlocked quorum, for an action that still needs the keys
    /// afterwards (signing a drill certificate that cites the closing record). Drop the
    /// returned quorum promptly. The closing record is written or this fails; anchoring it is
    /// reported in [`Closed::not_anchored`], so that the action's result is not lost.
    pub fn close_succeeded(self, summary: &str) -> Result<Closed, AuditError> {
        let head = self.ceremony.succeed(&self.unlocked.keys, summary)?;
        let not_anchored =
            audit::anchor_in_vault(&self.path, &self.unlocked.keys, head, self.clock.now()).err();
        Ok(Closed {
            head,
            unlocked: self.unlocked,
            not_anchored,
        })
    }

    /// Close the ceremony as succeeded for an action that handed credentials to program
    /// `pid`: the record, signed with the master key, also certifies a one-time key for the
    /// record of how the program ends. The master secret and the keys derived from it are
    /// erased before this returns; the returned recorder holds only the one-time key.
    /// The closing record is anchored in the vault before the keys are erased; a failure to
    /// anchor it is returned beside the recorder, to report (the ceremony is recorded).
    pub fn close_handing_over(
        self,
        summary: &str,
        pid: u32,
    ) -> Result<(ExitRecorder, Option<AuditError>), AuditError> {
        let Session {
            path,
            unlocked,
            ceremony,
            clock,
            ..
        } = self;
        let (head, recorder) = ceremony.succeed_handing_over(&unlocked.keys, summary, pid)?;
        let not_anchored = audit::anchor_in_vault(&path, &unlocked.keys, head, clock.now()).err();
        drop(unlocked);
        Ok((recorder, not_anchored))
    }

    /// Close an `agent-unlock` ceremony as succeeded: the record, signed with the master key,
    /// also certifies a key made for this unlock, which the returned recorder keeps to sign
    /// the agent's later records. The closing record is anchored in the vault, then the master
    /// secret and the keys derived from it are erased before this returns. A failure to
    /// anchor is returned beside the recorder, to report (the ceremony is recorded).
    pub fn close_for_agent(
        self,
        summary: &str,
    ) -> Result<(AgentRecorder, Option<AuditError>), AuditError> {
        let Session {
            path,
            unlocked,
            ceremony,
            clock,
            ..
        } = self;
        let (head, recorder) = ceremony.succeed_for_agent(&unlocked.keys, summary)?;
        let not_anchored = audit::anchor_in_vault(&path, &unlocked.keys, head, clock.now()).err();
        drop(unlocked);
        Ok((recorder, not_anchored))
    }

    /// Close the ceremony as failed with `reason` and keep the unlocked quorum (see
    /// [`Session::close_succeeded`]).
    pub fn close_failed(self, reason: &str) -> Result<Closed, AuditError> {
        let head = self.ceremony.fail(reason)?;
        Ok(Closed {
            head,
            unlocked: self.unlocked,
            not_anchored: None,
        })
    }
}

/// A ceremony closed as succeeded, with its quorum still open.
pub struct Closed {
    /// The signed closing record.
    pub head: LogHead,
    /// The quorum: drop it as soon as the keys are no longer needed.
    pub unlocked: Unlocked,
    /// Why the closing record could not be anchored in the vault, if it could not (the
    /// ceremony is recorded either way).
    pub not_anchored: Option<AuditError>,
}

/// A quorum of plain SLIP-39 shares with no vault to check against (combining a hardware
/// wallet's backup, say): nothing is recorded.
pub fn unlock_without_vault(
    presented: &Presentation,
) -> Result<(Unlocked, Hardening), QuorumError> {
    let hardening = harden();
    let unlocked = quorum::unlock(&presented.shares, None, presented.passphrase_bytes())?;
    Ok((unlocked, hardening))
}
