//! The command line's error type: every lower layer's error, plus the command line's own,
//! each rendered as a message for the officer at the keyboard.

use std::fmt;
use std::path::PathBuf;

use custody::audit::AuditError;
use custody::certificate::CertError;
use custody::input::InputError;
use custody::keys::KeyError;
use custody::ops::access::AgentPolicyError;
use custody::ops::creds::CredError;
use custody::ops::drill::DrillError;
use custody::ops::extend::ExtendError;
use custody::ops::init::InitError;
use custody::ops::rekey::RekeyError;
use custody::ops::release::ReleaseError;
use custody::ops::session::SessionError;
use custody::policy::PolicyError;
use custody::quorum::QuorumError;
use custody::remote::{CodeError, EnvelopeError, PhraseMismatch};
use custody::slip39::Slip39Error;
use custody::token::TokenError;
use custody::vault::VaultError;
use custody::vault::change::ChangeError;
use custody::vault::credential::EntryError;
use custody::vault::ratify::RatifyError;
use custody::vault::seal::SealError;
use custody::vault::store::StoreError;

#[derive(Debug)]
pub enum CliError {
    /// The command line asks for something inconsistent.
    Usage(String),
    /// A secret must be typed at a terminal and there is none (exit 1: the command line was
    /// fine, the situation was not); the message says which flag gives it another way.
    NoTerminal(String),
    Policy(PolicyError),
    Store(StoreError),
    Input(InputError),
    /// Several share inputs could not be read.
    Inputs(Vec<InputError>),
    Quorum(QuorumError),
    Key(KeyError),
    Slip39(Slip39Error),
    Token(TokenError),
    Vault(VaultError),
    /// Reading standard input or using the terminal failed.
    Terminal {
        /// What was being read or used.
        channel: Channel,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The terminal ceremony ended before a quorum was gathered (nothing was kept).
    CeremonyEnded(CeremonyEnd),
    /// `exec`: the program could not be started.
    Spawn {
        /// The program as given.
        program: String,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// `exec`: waiting for the program failed.
    Wait(std::io::Error),
    /// `exec`: the signals to forward to the program could not be caught.
    Signals(std::io::Error),
    /// `exec --stdin-json`: the credentials could not be encoded.
    Encode(serde_json::Error),
    /// An input is larger than anything custody reads from there can be.
    TooLarge {
        /// What was being read.
        what: &'static str,
        /// The limit, in bytes.
        limit: u64,
    },
    /// A file given on the command line was refused before it was read (not a regular file
    /// or a pipe, for example).
    Refused {
        /// The file.
        path: PathBuf,
        /// Why.
        problem: custody::safe_file::Refusal,
    },
    /// Reading a file given on the command line failed.
    Read {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// Writing a file failed.
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    /// `check-share`: some shares failed (each already reported).
    ChecksFailed {
        failed: usize,
        total: usize,
    },
    /// The demo's own expectation failed (a bug in custody: the message says which).
    SelfCheck(&'static str),
    /// The audit log could not be written or read, or failed verification.
    Audit(AuditError),
    /// `audit repair` did not repair the log.
    Repair(custody::ops::audit_repair::RepairError),
    /// A drill certificate could not be written or did not verify.
    Certificate(CertError),
    /// The drill ran and is recorded (and any ratification stands), but its certificate could
    /// not be written afterwards.
    CertificateAfterDrill(CertError),
    /// A credential argument or stored field is malformed.
    Entry(EntryError),
    /// Secret fields could not be read, sealed or opened.
    Seal(SealError),
    Ratify(RatifyError),
    /// A reshare, rotate-master, confirm or cancel could not go ahead.
    Change(ChangeError),
    /// `creds status` found problems a quorum must look at (already listed).
    StatusProblems(usize),
    /// A ratification could not be signed or written.
    Ratification(custody::ops::ratify::RatifyFailure),
    /// A credential operation did not happen (add, rotate, show, remove, rename...).
    Creds(CredError),
    /// A new share set could not be issued.
    Issue(custody::ops::issue::IssueError),
    /// A reshare, rotate-master, confirm or cancel could not go ahead.
    Rekey(RekeyError),
    /// `extend` could not go ahead.
    Extend(ExtendError),
    /// `replace-custodian` could not go ahead.
    Replace(Box<custody::ops::replace::ReplaceError>),
    /// `rebuild-vault` could not go ahead.
    Rebuild(Box<custody::ops::rebuild::RebuildError>),
    /// Writing the report to standard output failed (a closed pipe ends quietly).
    Output(std::io::Error),
    /// `exec`: the child ran and exited with this status (not an error of custody's own).
    ChildExited(u8),
    /// `exec`: the credentials were not released.
    Release(ReleaseError),
    /// `drill` could not be held or failed.
    Drill(DrillError),
    /// `init` could not create the vault.
    Init(InitError),
    /// `agent run`: the agent could not start.
    Agent(custody::agent::server::AgentError),
    /// `agent ...`: the agent did not do what was asked.
    AgentClient(custody::agent::client::ClientError),
    /// The quorum did not agree to what `agent unlock --ratify` would sign; nothing was sent.
    Declined(String),
    /// A share was refused before it was sent anywhere (`agent unlock`).
    ShareRefused {
        /// The input's label.
        label: String,
        /// Why.
        problem: String,
    },
    /// `agent policy` did not change or list the agent access policy, or found it granting
    /// nothing (changed outside custody, not vouched for).
    AgentPolicy(AgentPolicyError),
    /// `contribute`: the ceremony code was refused.
    Code(CodeError),
    /// `contribute`: the envelope could not be sealed.
    Envelope(EnvelopeError),
    /// `contribute --phrase`: the phrase given is not the code's; nothing was written.
    PhraseMismatch(PhraseMismatch),
    /// `contribute`: the custodian did not confirm the phrase; nothing was written.
    NotContributed(String),
    /// A remote ceremony (`--remote`) could not be held.
    Remote(super::remote_host_error::RemoteHostError),
    /// `host-key` could not write or read a host key file.
    HostKey(custody::host_key::HostKeyError),
    /// `hosts` did not change or list the known hosts, or found them trusting nobody.
    Hosts(custody::ops::hosts::HostsOpError),
}

impl CliError {
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Usage(_) => 2,
            CliError::Remote(
                super::remote_host_error::RemoteHostError::NoVault
                | super::remote_host_error::RemoteHostError::NoWayIn,
            ) => 2,
            CliError::Extend(ExtendError::NoSuchGroup { .. } | ExtendError::GroupNeeded { .. }) => {
                2
            }
            CliError::ChildExited(code) => *code,
            _ => 1,
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CliError::Usage(s) | CliError::NoTerminal(s) => f.write_str(s),
            CliError::Policy(e) => e.fmt(f),
            CliError::Store(e) => e.fmt(f),
            CliError::Input(e) => e.fmt(f),
            CliError::Inputs(list) => {
                write!(f, "{} share inputs could not be read:", list.len())?;
                for e in list {
                    write!(f, "\n  {e}")?;
                }
                Ok(())
            }
            CliError::Quorum(e) => e.fmt(f),
            CliError::Key(e) => e.fmt(f),
            CliError::Slip39(e) => e.fmt(f),
            CliError::Token(e) => e.fmt(f),
            CliError::Vault(e) => e.fmt(f),
            CliError::Remote(e) => e.fmt(f),
            CliError::Terminal { channel, source } => match channel {
                Channel::Terminal => write!(f, "cannot use the terminal: {source}"),
                Channel::Ceremony => {
                    write!(f, "cannot use the terminal for the ceremony: {source}")
                }
                Channel::Stdin => write!(f, "cannot read standard input: {source}"),
            },
            CliError::CeremonyEnded(end) => {
                match end {
                    CeremonyEnd::Cancelled => f.write_str("the ceremony was cancelled (Ctrl-C)")?,
                    CeremonyEnd::Aborted => f.write_str("the ceremony was aborted")?,
                    CeremonyEnd::TimedOut(t) => write!(f, "ceremony timed out after {t}")?,
                    CeremonyEnd::Closed => {
                        f.write_str("the terminal closed during the ceremony")?
                    }
                }
                f.write_str("; nothing was kept: every share presented was wiped from memory")
            }
            CliError::Spawn { program, source } => write!(f, "cannot start {program}: {source}"),
            CliError::Wait(e) => write!(f, "waiting for the program failed: {e}"),
            CliError::Signals(e) => write!(
                f,
                "cannot catch the signals to forward to the program: {e}; nothing was started"
            ),
            CliError::Encode(e) => write!(f, "cannot encode the credentials: {e}"),
            CliError::TooLarge { what, limit } => write!(
                f,
                "{what} is larger than {} KiB, more than it can legitimately be; nothing was read \
                 beyond that",
                limit / 1024
            ),
            CliError::Refused { path, problem } => write!(f, "{} {problem}", path.display()),
            CliError::Read { path, source } => {
                write!(f, "cannot read {}: {source}", path.display())
            }
            CliError::Write { path, source } => {
                write!(f, "cannot write {}: {source}", path.display())
            }
            CliError::ChecksFailed { failed, total } => write!(
                f,
                "{failed} of {total} share(s) failed the check (see above); those custodians \
                 should bring their printed sheet, or the vault may need new shares"
            ),
            CliError::Entry(e) => e.fmt(f),
            CliError::Creds(e) => e.fmt(f),
            CliError::Rekey(e) => e.fmt(f),
            CliError::Extend(e) => e.fmt(f),
            CliError::Replace(e) => e.fmt(f),
            CliError::Rebuild(e) => e.fmt(f),
            CliError::Seal(e) => e.fmt(f),
            CliError::Ratify(e) => e.fmt(f),
            CliError::Change(e) => e.fmt(f),
            CliError::StatusProblems(n) => write!(
                f,
                "{n} problem(s) in the vault need a quorum's attention (listed above)"
            ),
            CliError::ChildExited(code) => write!(f, "the program exited with status {code}"),
            CliError::Audit(e) => e.fmt(f),
            CliError::Repair(e) => e.fmt(f),
            CliError::Issue(e) => e.fmt(f),
            CliError::Ratification(e) => e.fmt(f),
            CliError::Output(e) => write!(f, "cannot write the report: {e}"),
            CliError::Certificate(e) => e.fmt(f),
            CliError::CertificateAfterDrill(e) => write!(
                f,
                "the drill ran and is recorded in the audit log (a ratification asked for was \
                 signed), but its certificate was not written: {e}"
            ),
            CliError::Release(e) => e.fmt(f),
            CliError::Drill(e) => e.fmt(f),
            CliError::Init(e) => e.fmt(f),
            CliError::Agent(e) => e.fmt(f),
            CliError::AgentClient(e) => e.fmt(f),
            CliError::Declined(why) => write!(
                f,
                "nothing was ratified and nothing was sent to the agent: {why}"
            ),
            CliError::ShareRefused { label, problem } => {
                write!(f, "{label}: {problem}; nothing was sent to the agent")
            }
            CliError::AgentPolicy(e) => e.fmt(f),
            CliError::Code(e) => e.fmt(f),
            CliError::Envelope(e) => e.fmt(f),
            CliError::PhraseMismatch(e) => write!(
                f,
                "{e}: the code you hold may not be the one the host shows (swapped in transit); \
                 nothing was written, do not send your share"
            ),
            CliError::NotContributed(why) => write!(f, "nothing was written: {why}"),
            CliError::HostKey(e) => e.fmt(f),
            CliError::Hosts(e) => e.fmt(f),
            CliError::SelfCheck(e) => {
                write!(f, "the demonstration did not behave as expected: {e}")
            }
        }
    }
}

impl std::error::Error for CliError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            CliError::Policy(e) => Some(e),
            CliError::Store(e) => Some(e),
            CliError::Input(e) => Some(e),
            CliError::Code(e) => Some(e),
            CliError::Envelope(e) => Some(e),
            CliError::PhraseMismatch(e) => Some(e),
            CliError::Quorum(e) => Some(e),
            CliError::Key(e) => Some(e),
            CliError::Slip39(e) => Some(e),
            CliError::Token(e) => Some(e),
            CliError::Vault(e) => Some(e),
            CliError::Remote(e) => Some(e),
            CliError::Terminal { source, .. }
            | CliError::Read { source, .. }
            | CliError::Write { source, .. }
            | CliError::Spawn { source, .. } => Some(source),
            CliError::Wait(e) | CliError::Output(e) | CliError::Signals(e) => Some(e),
            CliError::Encode(e) => Some(e),
            CliError::Audit(e) => Some(e),
            CliError::Repair(e) => Some(e),
            CliError::Certificate(e) | CliError::CertificateAfterDrill(e) => Some(e),
            CliError::Entry(e) => Some(e),
            CliError::Seal(e) => Some(e),
            CliError::Ratify(e) => Some(e),
            CliError::Change(e) => Some(e),
            CliError::Ratification(e) => Some(e),
            CliError::Creds(e) => Some(e),
            CliError::Issue(e) => Some(e),
            CliError::Rekey(e) => Some(e),
            CliError::Extend(e) => Some(e),
            CliError::Replace(e) => Some(e.as_ref()),
            CliError::Rebuild(e) => Some(e.as_ref()),
            CliError::Release(e) => Some(e),
            CliError::Drill(e) => Some(e),
            CliError::Init(e) => Some(e),
            CliError::Agent(e) => Some(e),
            CliError::AgentClient(e) => Some(e),
            CliError::AgentPolicy(e) => Some(e),
            CliError::HostKey(e) => Some(e),
            CliError::Hosts(e) => Some(e),
            _ => None,
        }
    }
}

/// What a [`CliError::Terminal`] was reading or using.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Channel {
    /// The controlling terminal (a hidden prompt).
    Terminal,
    /// The terminal, for the share-by-share ceremony.
    Ceremony,
    /// Standard input.
    Stdin,
}

/// How the terminal ceremony ended without a quorum.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CeremonyEnd {
    /// Ctrl-C.
    Cancelled,
    /// An officer typed `abort`.
    Aborted,
    /// The time allowed ran out (the limit, as shown to the officers).
    TimedOut(String),
    /// The terminal closed (end of input).
    Closed,
}

impl From<SessionError> for CliError {
    fn from(e: SessionError) -> Self {
        match e {
            SessionError::Vault(e) => CliError::Store(e),
            SessionError::Audit(e) => CliError::Audit(e),
            SessionError::Quorum(e) => CliError::Quorum(e),
        }
    }
}

macro_rules! from {
    ($($t:ty => $v:ident),* $(,)?) => {
        $(impl From<$t> for CliError {
            fn from(e: $t) -> Self {
                CliError::$v(e)
            }
        })*
    };
}

from!(
    PolicyError => Policy,
    StoreError => Store,
    InputError => Input,
    QuorumError => Quorum,
    KeyError => Key,
    Slip39Error => Slip39,
    TokenError => Token,
    VaultError => Vault,
    AuditError => Audit,
    CertError => Certificate,
    EntryError => Entry,
    SealError => Seal,
    RatifyError => Ratify,
    ChangeError => Change,
    custody::ops::issue::IssueError => Issue,
    CredError => Creds,
    RekeyError => Rekey,
    ExtendError => Extend,
    custody::ops::ratify::RatifyFailure => Ratification,
    ReleaseError => Release,
    DrillError => Drill,
    InitError => Init,
    custody::agent::server::AgentError => Agent,
    custody::agent::client::ClientError => AgentClient,
    AgentPolicyError => AgentPolicy,
    CodeError => Code,
    EnvelopeError => Envelope,
    PhraseMismatch => PhraseMismatch,
    super::remote_host_error::RemoteHostError => Remote,
    custody::host_key::HostKeyError => HostKey,
    custody::ops::hosts::HostsOpError => Hosts,
    std::io::Error => Output,
);

impl From<custody::ops::replace::ReplaceError> for CliError {
    fn from(e: custody::ops::replace::ReplaceError) -> Self {
        CliError::Replace(Box::new(e))
    }
}

impl From<custody::ops::rebuild::RebuildError> for CliError {
    fn from(e: custody::ops::rebuild::RebuildError) -> Self {
        CliError::Rebuild(Box::new(e))
    }
}
