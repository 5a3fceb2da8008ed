//! Opening a quorum on the command line, shared by `drill`, `exec` and the quorum `creds`
//! commands: process hardening first, then the vault, the shares (`--share` /
//! `--words-stdin`), the SLIP-39 passphrase (flag, else a prompt when the vault needs one),
//! and reconstruction in locked memory.

use std::io::IsTerminal;
use std::path::Path;

use super::{CliError, PassphraseArgs, ShareArgs, secret_input, shares_in};
use crate::harden::{self, Hardening};
use crate::quorum::{self, Unlocked};
use crate::vault::{Vault, store};

/// A reconstructed quorum with the vault it was checked against.
pub struct Quorum {
    pub vault: Option<Vault>,
    pub unlocked: Unlocked,
    pub hardening: Hardening,
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

/// Harden the process, load the vault (if any), read the shares and passphrase, and unlock.
pub fn open(
    vault_path: Option<&Path>,
    shares: &ShareArgs,
    pass: &PassphraseArgs,
) -> Result<Quorum, CliError> {
    let hardening = harden::for_quorum();
    let vault = vault_path.map(store::load).transpose()?;
    let presented = shares_in::collect(shares)?;
    let mut passphrase = secret_input::passphrase(pass, false)?;
    if passphrase.is_none()
        && vault.as_ref().is_some_and(|v| v.slip39.passphrase)
        && std::io::stdin().is_terminal()
    {
        passphrase = Some(secret_input::prompt_hidden("SLIP-39 passphrase: ")?);
    }
    let unlocked = quorum::unlock(
        &presented,
        vault.as_ref(),
        passphrase.as_ref().map(|p| p.as_bytes()),
    )?;
    Ok(Quorum {
        vault,
        unlocked,
        hardening,
    })
}

/// [`open`] for commands that always need a vault.
pub fn open_vault(
    vault_path: &Path,
    shares: &ShareArgs,
    pass: &PassphraseArgs,
) -> Result<(Vault, Unlocked, Hardening), CliError> {
    let q = open(Some(vault_path), shares, pass)?;
    Ok((
        q.vault.expect("a vault path was given"),
        q.unlocked,
        q.hardening,
    ))
}
