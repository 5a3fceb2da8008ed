//! Ratification on the command line (`--ratify` on quorum commands): under the writer lock,
//! show the metadata of every credential added or rotated without a quorum (never a secret),
//! test-open each, list the agent access policy's changes, and sign the new ratification
//! record. Without `--ratify`, remind the officers what is waiting.

use std::io::Write;

use super::CliError;
use custody::ops::ratify::{Ratified, Waiting};
use custody::timefmt;
use custody::vault::access::RuleChange;
use custody::vault::credential::Credential;

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

/// Print what a ratification reviewed and signed.
pub fn print_ratified(r: &Ratified, out: &mut dyn Write) -> Result<(), CliError> {
    if let Some(rb) = &r.over_rollback {
        writeln!(out, "Ratifying despite a rollback: {rb}")?;
    }
    if !r.reviewed.is_empty() {
        writeln!(
            out,
            "Credentials awaiting ratification (check each against your change records):"
        )?;
        for (c, state) in &r.reviewed {
            writeln!(out, "  {} [{}]", describe(c), state.describe())?;
        }
    }
    print_access_changes(
        "Agent access policy changes awaiting ratification (check each against your change \
         records):",
        &r.access_reviewed,
        out,
    )?;
    match &r.signed {
        None => writeln!(out, "Credentials: nothing awaits ratification.")?,
        Some(names) if names.is_empty() && !r.access_reviewed.is_empty() => writeln!(
            out,
            "The quorum signed generation {}, covering {} credential(s).",
            r.generation, r.covered
        )?,
        Some(names) => writeln!(
            out,
            "Ratified {} credential(s): the quorum signed generation {}, covering {} credential(s).",
            names.len(),
            r.generation,
            r.covered
        )?,
    }
    if r.signed.is_some() && !r.access_reviewed.is_empty() {
        writeln!(
            out,
            "Agent access policy: {} change(s) ratified; {} access rule(s) in force.",
            r.access_reviewed.len(),
            r.access_in_force
        )?;
    }
    Ok(())
}

/// The changes to the agent access policy awaiting (or under) ratification, under `heading`.
pub fn print_access_changes(
    heading: &str,
    changes: &[RuleChange],
    out: &mut dyn Write,
) -> Result<(), CliError> {
    if !changes.is_empty() {
        writeln!(out, "{heading}")?;
        for c in changes {
            writeln!(out, "  {}", c.describe())?;
        }
    }
    Ok(())
}

/// Print what awaits ratification and any tampering, and say what to do.
pub fn print_waiting(w: &Waiting, out: &mut dyn Write) -> Result<(), CliError> {
    if !w.pending.is_empty() {
        writeln!(
            out,
            "{} credential(s) await ratification; `exec` will not hand them out until a quorum \
             re-runs this command with --ratify:",
            w.pending.len()
        )?;
        for c in &w.pending {
            writeln!(out, "  {}", describe(c))?;
        }
    }
    print_access_changes(
        &format!(
            "{} agent access policy change(s) await ratification; the agent applies them only \
             after a quorum re-runs this command with --ratify:",
            w.access_pending.len()
        ),
        &w.access_pending,
        out,
    )?;
    for line in &w.tampered {
        writeln!(out, "warning: {line}")?;
    }
    Ok(())
}
