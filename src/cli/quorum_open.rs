//! Opening a quorum on the command line, shared by `drill`, `exec` and the quorum `creds`
//! commands: process hardening first, then the vault, the shares (`--share` / `--words-stdin`,
//! or the terminal ceremony), the SLIP-39 passphrase (flag, else a prompt when the vault needs
//! one), and reconstruction in locked memory. [`open_recorded`] also writes the ceremony to the
//! vault's audit log: its start, every share accepted or rejected, and its outcome.

use std::io::IsTerminal;
use std::path::Path;

use zeroize::Zeroizing;

use super::{CliError, PassphraseArgs, ShareArgs, interactive, secret_input};
use custody::audit::{self, AuditLog};
use custody::harden::{self, Hardening};
use custody::input::Presented;
use custody::ops::session::{Begun, Presentation, Session, SessionError};
use custody::quorum::{self, QuorumError, Unlocked};
use custody::vault::{Vault, store};

/// A reconstructed quorum of plain SLIP-39 shares (no vault).
pub struct Quorum {
    pub unlocked: Unlocked,
    pub hardening: Hardening,
}

/// A reconstructed quorum whose ceremony is being written to the vault's audit log. The
/// command finishes the record with `audit.succeed(..)` or `audit.fail(..)`; dropping it
/// unfinished records the ceremony as abandoned.
pub struct Recorded {
    pub vault: Vault,
    pub unlocked: Unlocked,
    pub hardening: Hardening,
    pub audit: audit::Ceremony,
}

/// Refuse every way of reading shares or the passphrase from standard input (for commands
/// that give standard input to something else, such as `exec --stdin-json`).
pub fn refuse_stdin(shares: &ShareArgs, pass: &PassphraseArgs, why: &str) -> Result<(), CliError> {
    if shares.words_stdin
        || pass.passphrase_stdin
        || shares.shares.iter().any(|p| p == Path::new("-"))
    {
        return Err(CliError::Usage(format!(
            "{why}, so shares and the passphrase cannot also come from standard input: \
             use --share FILE and --passphrase-prompt"
        )));
    }
    Ok(())
}

/// Read the shares and passphrase and reconstruct, checked against `vault` when given.
fn reconstruct(
    vault: Option<&Vault>,
    shares: &ShareArgs,
    pass: &PassphraseArgs,
    rejected: &mut Vec<(String, String)>,
) -> Result<Unlocked, CliError> {
    // With --passphrase-stdin the passphrase is the first line of standard input, so read it
    // before any share that also comes from standard input.
    let mut passphrase = secret_input::passphrase(pass, false)?;
    let presented =
        interactive::shares_from_args_or_tty(shares, vault, &mut std::io::stderr(), rejected)?;
    if passphrase.is_none()
        && vault.is_some_and(|v| v.slip39.passphrase)
        && std::io::stdin().is_terminal()
    {
        passphrase = Some(secret_input::prompt_hidden("SLIP-39 passphrase: ")?);
    }
    Ok(quorum::unlock(
        &presented,
        vault,
        passphrase.as_ref().map(|p| p.as_bytes()),
    )?)
}

/// Harden the process, read plain SLIP-39 shares and the passphrase, and reconstruct without a
/// vault (nothing to check against and no audit log to write).
pub fn open_without_vault(shares: &ShareArgs, pass: &PassphraseArgs) -> Result<Quorum, CliError> {
    let hardening = harden::for_quorum();
    let unlocked = reconstruct(None, shares, pass, &mut Vec::new())?;
    Ok(Quorum {
        unlocked,
        hardening,
    })
}

/// Harden the process, load the vault, read the shares and passphrase, and reconstruct,
/// writing the ceremony (`action`, e.g. "drill") to `<vault>.audit`: a failed
/// ceremony is recorded with its reason and every rejected share before the error returns.
pub fn open_recorded(
    vault_path: &Path,
    action: &str,
    shares: &ShareArgs,
    pass: &PassphraseArgs,
) -> Result<Recorded, CliError> {
    let hardening = harden::for_quorum();
    let vault = store::load(vault_path)?;
    let log = AuditLog::open(vault_path)?;
    let ceremony = audit::Ceremony::begin(&log, action, &vault, super::clock())?;
    // Shares refused at the terminal are recorded whatever the outcome.
    let mut refused_at_terminal = Vec::new();
    let result = reconstruct(Some(&vault), shares, pass, &mut refused_at_terminal);
    for (label, reason) in &refused_at_terminal {
        ceremony.share_rejected(label, reason)?;
    }
    match result {
        Ok(unlocked) => {
            for m in &unlocked.members {
                ceremony.share_accepted(m)?;
            }
            Ok(Recorded {
                vault,
                unlocked,
                hardening,
                audit: ceremony,
            })
        }
        Err(e) => {
            if let CliError::Quorum(QuorumError::Rejected(list)) = &e {
                for (label, problem) in list {
                    ceremony.share_rejected(label, &problem.to_string())?;
                }
            }
            ceremony.fail(&e.to_string())?;
            Err(e)
        }
    }
}

/// What the library's quorum session could not do, as the command line reports it.
pub fn session_error(e: SessionError) -> CliError {
    match e {
        SessionError::Vault(e) => CliError::Store(e),
        SessionError::Audit(e) => CliError::Audit(e),
        SessionError::Quorum(e) => CliError::Quorum(e),
    }
}

/// Begin the recorded ceremony `action` on the vault at `vault_path` (the library's
/// [`Begun`]), read the shares and passphrase as [`open_recorded`] does, and unlock: an open
/// [`Session`] for an operation of `custody::ops` to finish. A failure to gather the shares
/// is recorded (with every share refused at the terminal) before the error returns.
pub fn open_session(
    vault_path: &Path,
    action: &str,
    shares: &ShareArgs,
    pass: &PassphraseArgs,
) -> Result<Session, CliError> {
    let begun = Begun::begin(vault_path, action, super::clock()).map_err(session_error)?;
    let mut refused = Vec::new();
    match gather(begun.vault(), shares, pass, &mut refused) {
        Ok((shares, passphrase)) => begun
            .unlock(&Presentation {
                shares,
                passphrase,
                refused,
            })
            .map_err(session_error),
        Err(e) => Err(begun
            .fail_with_refused(&refused, e)
            .map_err(session_error)?),
    }
}

/// The shares and the passphrase, read in the order [`reconstruct`] reads them.
fn gather(
    vault: &Vault,
    shares: &ShareArgs,
    pass: &PassphraseArgs,
    refused: &mut Vec<(String, String)>,
) -> Result<(Vec<Presented>, Option<Zeroizing<String>>), CliError> {
    let mut passphrase = secret_input::passphrase(pass, false)?;
    let presented =
        interactive::shares_from_args_or_tty(shares, Some(vault), &mut std::io::stderr(), refused)?;
    if passphrase.is_none() && vault.slip39.passphrase && std::io::stdin().is_terminal() {
        passphrase = Some(secret_input::prompt_hidden("SLIP-39 passphrase: ")?);
    }
    Ok((presented, passphrase))
}
