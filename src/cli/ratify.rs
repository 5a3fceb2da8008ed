//! Ratification on the command line (`--ratify` on quorum commands): under the writer lock,
//! show the metadata of every credential added or rotated without a quorum (never a secret),
//! test-open each, and sign the new ratification record. Without `--ratify`, remind the
//! officers what is waiting.

use std::io::Write;
use std::path::Path;

use super::CliError;
use custody::keys::DerivedKeys;
use custody::timefmt;
use custody::vault::Vault;
use custody::vault::credential::Credential;
use custody::vault::ratify::EntryState;
use custody::vault::sidecar::{self, Seen};
use custody::vault::store::{self, OnRollback};

fn w(e: std::io::Error) -> CliError {
    CliError::Terminal(e.to_string())
}

/// One line of public metadata.
pub fn describe(c: &Credential) -> String {
    let fields: Vec<&str> = c.fields.iter().map(|f| f.as_str()).collect();
    format!(
        "{} — {}{} — scope {} — fields {} — rotated {}{}{}",
        c.name,
        c.exchange,
        if c.account.is_empty() {
            String::new()
        } else {
            format!(" account {}", c.account)
        },
        c.scope_string(),
        fields.join(","),
        timefmt::date(c.rotated),
        c.expires
            .as_ref()
            .map(|e| format!(" — expires {e}"))
            .unwrap_or_default(),
        if c.ip_allowlist.is_empty() {
            String::new()
        } else {
            format!(" — IP allow-list: {}", c.ip_allowlist)
        },
    )
}

/// Inside a locked update: show what awaits ratification, test-open and sign it. Returns
/// the names newly ratified (empty if nothing needed signing).
pub fn ratify_in(
    vault: &mut Vault,
    keys: &DerivedKeys,
    seen: Option<Seen>,
    out: &mut dyn Write,
) -> Result<Vec<String>, CliError> {
    let a = vault.assess(seen);
    let pending = a.pending(vault);
    if let Some(r) = &a.rollback {
        writeln!(out, "Ratifying despite a rollback: {r}").map_err(w)?;
    }
    if !pending.is_empty() {
        writeln!(
            out,
            "Credentials awaiting ratification (check each against your change records):"
        )
        .map_err(w)?;
        for (c, state) in vault.credentials.entries.iter().zip(&a.entries) {
            if matches!(state, EntryState::Pending(_) | EntryState::Unverified) {
                writeln!(out, "  {} [{}]", describe(c), state.describe()).map_err(w)?;
            }
        }
    }
    match vault.ratify(keys, seen, super::clock().now())? {
        None => {
            writeln!(out, "Credentials: nothing awaits ratification.").map_err(w)?;
            Ok(Vec::new())
        }
        Some(names) => {
            writeln!(
                out,
                "Ratified {} credential(s): the quorum signed generation {}, covering {} credential(s).",
                names.len(),
                vault.credentials.generation(),
                vault.ratified_list().len()
            )
            .map_err(w)?;
            Ok(names)
        }
    }
}

/// Ratify what awaits ratification in the vault at `path`, under its writer lock.
pub fn ratify(
    path: &Path,
    keys: &DerivedKeys,
    out: &mut dyn Write,
) -> Result<Vec<String>, CliError> {
    store::update(path, OnRollback::Allow, |vault: &mut Vault, seen| {
        ratify_in(vault, keys, seen, out)
    })
}

/// Without `--ratify`: list what awaits ratification and any tampering, and say what to do.
pub fn remind(vault: &Vault, path: &Path, out: &mut dyn Write) -> Result<(), CliError> {
    let a = vault.assess(sidecar::read(path));
    let pending = a.pending(vault);
    if !pending.is_empty() {
        writeln!(
            out,
            "{} credential(s) await ratification; `exec` will not hand them out until a quorum \
             re-runs this command with --ratify:",
            pending.len()
        )
        .map_err(w)?;
        for c in pending {
            writeln!(out, "  {}", describe(c)).map_err(w)?;
        }
    }
    for line in a.tamper_lines(vault) {
        writeln!(out, "warning: {line}").map_err(w)?;
    }
    Ok(())
}
