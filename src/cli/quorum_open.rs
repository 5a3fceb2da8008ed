//! Opening a quorum on the command line, shared by `drill`, `exec` and the quorum `creds`
//! commands. [`open_session`] starts the ceremony with [`custody::ops::session`] (process
//! hardening, the vault, the record of its start), gathers the shares (`--share` /
//! `--words-stdin`, or the terminal ceremony, which checks each share against the vault) and
//! the SLIP-39 passphrase (flag, else a prompt when the vault needs one), and unlocks: every
//! share accepted or refused is written to the vault's audit log, and so is a failure.

use std::path::Path;

use zeroize::Zeroizing;

use super::interactive::Gathered;
use super::{CliError, PassphraseArgs, ShareArgs, interactive, secret_input};
use custody::ops::session::{Begun, Presentation, Session};
use custody::vault::Vault;

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

/// Read the shares and the passphrase, the shares checked against `vault` at the terminal
/// when given. Shares refused at the terminal are added to `refused` even when this fails.
fn gather(
    vault: Option<&Vault>,
    action: &str,
    shares: &ShareArgs,
    pass: &PassphraseArgs,
    refused: &mut Vec<(String, String)>,
) -> Result<(Gathered, Option<Zeroizing<String>>), CliError> {
    // With --passphrase-stdin the passphrase is the first line of standard input, so read it
    // before any share that also comes from standard input.
    let given = secret_input::passphrase(pass, false)?;
    let presented = interactive::shares_from_args_or_tty(
        shares,
        vault,
        vault.map(|v| (v, action)),
        &mut super::escaping::stderr(),
        refused,
    )?;
    let needed = vault.is_some_and(|v| v.slip39().passphrase);
    Ok((presented, secret_input::or_prompt(given, needed)?))
}

/// Gather a [`Presentation`] for the ceremony `begun` of `action`. If gathering fails, the
/// ceremony is closed as failed (with every share refused so far) and the error returned.
pub fn present(
    begun: Begun,
    action: &str,
    shares: &ShareArgs,
    pass: &PassphraseArgs,
) -> Result<(Begun, Presentation), CliError> {
    let mut refused = Vec::new();
    match gather(Some(begun.vault()), action, shares, pass, &mut refused) {
        Ok((gathered, passphrase)) => Ok((
            begun,
            Presentation {
                shares: gathered.shares,
                passphrase,
                refused,
                remote: gathered.remote,
            },
        )),
        Err(e) => Err(begun.fail_with_refused(&refused, e)?),
    }
}

/// Harden the process, load the vault, record the start of `action` (e.g. "drill") in
/// `<vault>.audit`, read the shares and passphrase, and unlock. A failed ceremony is recorded
/// with its reason and every refused share before the error returns.
pub fn open_session(
    path: &Path,
    action: &str,
    shares: &ShareArgs,
    pass: &PassphraseArgs,
) -> Result<Session, CliError> {
    let begun = Begun::begin(path, action, super::clock())?;
    let (begun, presentation) = present(begun, action, shares, pass)?;
    Ok(begun.unlock(&presentation)?)
}

/// Read plain SLIP-39 shares and the passphrase for a quorum without a vault (nothing to check
/// against and no audit log to write); [`custody::ops::session::unlock_without_vault`] or an
/// operation built on it reconstructs.
pub fn present_without_vault(
    shares: &ShareArgs,
    pass: &PassphraseArgs,
) -> Result<Presentation, CliError> {
    if shares.remote.remote {
        return Err(super::remote_host_error::RemoteHostError::NoVault.into());
    }
    let (gathered, passphrase) = gather(None, "drill", shares, pass, &mut Vec::new())?;
    Ok(Presentation {
        shares: gathered.shares,
        passphrase,
        ..Presentation::default()
    })
}
