//! The command line's error type: every lower layer's error, plus the command line's own,
//! each rendered as a message for the officer at the keyboard.

use std::fmt;
use std::path::PathBuf;

use custody::audit::AuditError;
use custody::certificate::CertError;
use custody::input::InputError;
use custody::keys::KeyError;
use custody::ops::creds::CredError;
use custody::ops::drill::DrillError;
use custody::ops::extend::ExtendError;
use custody::ops::init::InitError;
use custody::ops::rekey::RekeyError;
use custody::ops::release::ReleaseError;
use custody::ops::session::SessionError;
use custody::policy::PolicyError;
use custody::quorum::QuorumError;
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
    /// Reading standard input or the terminal failed.
    Terminal(String),
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
    /// A self-check after splitting failed: nothing was written.
    SelfCheck(String),
    /// The audit log could not be written or read, or failed verification.
    Audit(AuditError),
    /// A drill certificate could not be written or did not verify.
    Certificate(CertError),
    /// A credential argument or stored field is malformed.
    Entry(EntryError),
    /// Secret fields could not be read, sealed or opened.
    Seal(SealError),
    Ratify(RatifyError),
    /// A reshare, rotate-master, confirm or cancel could not go ahead.
    Change(ChangeError),
    /// A credential command refused (the message says what to do).
    Refused(String),
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
}

impl CliError {
    /// What to type next, if the command line has advice for this error (src/cli/advice.rs).
    pub fn advice(&self) -> Option<String> {
        super::advice::advice(self)
    }

    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Usage(_) => 2,
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
            CliError::Usage(s) => f.write_str(s),
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
            CliError::Terminal(e) => f.write_str(e),
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
            CliError::Seal(e) => e.fmt(f),
            CliError::Ratify(e) => e.fmt(f),
            CliError::Change(e) => e.fmt(f),
            CliError::Refused(s) => f.write_str(s),
            CliError::StatusProblems(n) => write!(
                f,
                "{n} problem(s) in the vault need a quorum's attention (listed above)"
            ),
            CliError::ChildExited(code) => write!(f, "the program exited with status {code}"),
            CliError::Audit(e) => e.fmt(f),
            CliError::Issue(e) => e.fmt(f),
            CliError::Ratification(e) => e.fmt(f),
            CliError::Output(e) => write!(f, "cannot write the report: {e}"),
            CliError::Certificate(e) => e.fmt(f),
            CliError::Release(e) => e.fmt(f),
            CliError::Drill(e) => e.fmt(f),
            CliError::Init(e) => e.fmt(f),
            CliError::SelfCheck(e) => write!(
                f,
                "the new shares failed their own check ({e}); nothing was written. Please report this"
            ),
        }
    }
}

impl std::error::Error for CliError {}

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
    std::io::Error => Output,
);
