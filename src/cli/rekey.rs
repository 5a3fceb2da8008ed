//! `custody reshare`, `rotate-master`, `confirm` and `cancel`: changing who holds the shares.
//! The command line reads the shares and the passphrase, runs [`custody::ops::rekey`] and
//! prints its report with what to do next.

use std::io::Write;
use std::path::Path;

use serde_json::json;

use super::{ChangeArgs, ChangeShareArgs, CliError, PendingArgs, secret_input};
use super::{interactive, sheets};
use custody::harden;
use custody::ops::rekey::{self, ChangeKind, Output};
use custody::ops::session::Presentation;
use custody::timefmt;
use custody::vault::Vault;
use custody::vault::change::ChangeError;
use custody::vault::store;

/// Harden the process, then read the shares and the passphrase (prompting for it when
/// `vault` needs one and a terminal is there). At the terminal ceremony (`--interactive`, or
/// no share given on a terminal) each share is checked against `vault` as it is presented.
pub(super) fn present(
    args: &ChangeShareArgs,
    vault: &Vault,
    action: &str,
) -> Result<Presentation, CliError> {
    present_checked(args, Some(vault), (vault, action))
}

/// [`present`] for `confirm` and `cancel`, whose shares may belong to the pending set: the
/// terminal ceremony checks only that the shares form one SLIP-39 set (the operation then
/// checks them against the current or the pending set). A remote ceremony's code names the
/// key set `remote_set` (for `confirm`, the pending set).
fn present_pending(
    args: &ChangeShareArgs,
    remote_set: &Vault,
    action: &str,
) -> Result<Presentation, CliError> {
    present_checked(args, None, (remote_set, action))
}

fn present_checked(
    args: &ChangeShareArgs,
    check_against: Option<&Vault>,
    remote: (&Vault, &str),
) -> Result<Presentation, CliError> {
    // Before any share is read (the operation hardens again when its ceremony begins).
    let _ = harden::for_quorum();
    let needs_passphrase = remote.0.slip39().passphrase;
    let share_args = args.share_args();
    // With --passphrase-stdin the passphrase is the first line of standard input, so read it
    // before any share that also comes from standard input.
    let given = secret_input::passphrase(&args.passphrase, false)?;
    let mut refused = Vec::new();
    let gathered = interactive::shares_from_args_or_tty(
        &share_args,
        check_against,
        Some(remote),
        &mut super::escaping::stderr(),
        &mut refused,
    )?;
    let passphrase = secret_input::or_prompt(given, needs_passphrase)?;
    Ok(Presentation {
        shares: gathered.shares,
        passphrase,
        refused,
        remote: gathered.remote,
    })
}

/// The vault at `path`, refused when no change is pending in it.
fn pending_vault(path: &Path) -> Result<Vault, CliError> {
    let vault = store::load(path)?;
    if vault.pending_change().is_none() {
        return Err(ChangeError::NothingPending.into());
    }
    Ok(vault)
}

/// `warning: ...` for each of `warnings`.
pub(super) fn warnings(out: &mut dyn Write, warnings: &[String]) -> Result<(), CliError> {
    for warning in warnings {
        writeln!(out, "warning: {warning}")?;
    }
    Ok(())
}

/// `custody reshare` (`rotate == false`) and `custody rotate-master` (`rotate == true`).
pub fn reshare(args: ChangeArgs, rotate: bool, out: &mut dyn Write) -> Result<(), CliError> {
    let kind = if rotate {
        ChangeKind::RotateMaster
    } else {
        ChangeKind::Reshare
    };
    // Refusals that need no shares come first.
    let vault = store::load(&args.vault)?;
    rekey::check_none_pending(&vault)?;
    let policy = args.policy.policy()?;
    let delivery = args.deliver.delivery()?;
    delivery
        .check_all(&policy)
        .map_err(|e| CliError::Issue(custody::ops::issue::IssueError::Delivery(e)))?;
    let output = Output {
        out_dir: args.out_dir.clone(),
        formats: sheets::parse_formats(&args.sheets)?,
        paper: args.paper,
        delivery,
    };
    let pres = present(&args.quorum, &vault, kind.as_str())?;
    let r = rekey::prepare(kind, &args.vault, &pres, policy, &output, super::clock())?;

    if args.json {
        let mut warnings = Vec::new();
        if !rotate {
            warnings.push(RESHARE_REVOKES_NOBODY.to_owned());
        }
        warnings.extend(r.hardening_warnings.iter().cloned());
        let mut doc = json!({
            "format": format!("custody-{}/1", kind.as_str()),
            "ok": true,
            "vault": args.vault.display().to_string(),
            "vault_id": vault.vault_id_hex(),
            "epoch": r.epoch,
            "new_epoch": r.new_epoch,
            "fingerprint": r.fingerprint,
            "policy": r.policy.sentence(),
            "pending": true,
            "custodians": sheets::files_json(&r.tokens, &r.layout),
            "warnings": warnings,
        });
        if rotate {
            doc["resealed"] = r.resealed.into();
        }
        writeln!(out, "{doc}")?;
        return Ok(());
    }
    let v = args.vault.display();
    writeln!(
        out,
        "Prepared a {} of {v} (epoch {} -> {}); it takes effect only after `confirm`.",
        kind.as_str(),
        r.epoch,
        r.new_epoch
    )?;
    if rotate {
        writeln!(
            out,
            "  new fingerprint  {}   (a NEW master key; every sheet of the new set shows it)",
            r.fingerprint
        )?;
        writeln!(
            out,
            "  credentials      {} resealed to the new key (kept in the pending record)",
            r.resealed
        )?;
    } else {
        writeln!(out, "  fingerprint      {}   (unchanged)", r.fingerprint)?;
    }
    for line in r.policy.describe() {
        writeln!(out, "  new policy       {line}")?;
    }
    sheets::list_new_files(out, &r.tokens, &r.layout)?;
    writeln!(
        out,
        "The current shares stay valid until the change is confirmed."
    )?;
    writeln!(out, "Next:")?;
    writeln!(
        out,
        "  1. Print the new sheets, then scan a threshold of them back (photos or share files):\n     \
         custody confirm --vault {v} --share NEW ..."
    )?;
    writeln!(
        out,
        "  2. Or drop the change: custody cancel --vault {v} --share ... (a quorum of either set)"
    )?;
    if !rotate {
        writeln!(out, "warning: {RESHARE_REVOKES_NOBODY}")?;
    }
    warnings(out, &r.hardening_warnings)
}

/// The warning of a reshare's report.
const RESHARE_REVOKES_NOBODY: &str = "after a reshare the old shares still reconstruct the same \
    master secret mathematically (custody refuses them as stale, but SLIP-39 combine does not); \
    to revoke old custodians, use `custody rotate-master`";

/// The warning of a confirmed reshare's report.
const CONFIRMED_RESHARE_REVOKES_NOBODY: &str = "old shares still reconstruct the same master \
    secret mathematically; if any old custodian must lose access, run `custody rotate-master` \
    with the new set";

/// `custody confirm`: a threshold of the NEW shares makes the pending change take effect.
pub fn confirm(args: PendingArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let vault = pending_vault(&args.vault)?;
    // The new set's shares confirm: a remote code names the pending key set's epoch.
    let pending = vault.pending_view().unwrap_or_else(|| vault.clone());
    let pres = present_pending(&args.quorum, &pending, "confirm")?;
    let c = rekey::confirm(&args.vault, &pres, super::clock())?;
    if args.json {
        let mut warnings = Vec::new();
        if c.kind == ChangeKind::Reshare {
            warnings.push(CONFIRMED_RESHARE_REVOKES_NOBODY.to_owned());
        }
        warnings.extend(c.hardening_warnings.iter().cloned());
        let mut doc = json!({
            "format": "custody-confirm/1",
            "ok": true,
            "vault": args.vault.display().to_string(),
            "vault_id": vault.vault_id_hex(),
            "change": c.kind.as_str(),
            "old_epoch": c.old_epoch,
            "epoch": c.epoch,
            "began": timefmt::rfc3339(c.began),
            "fingerprint": c.fingerprint,
            "policy": c.policy.sentence(),
            "backup": match &c.backup {
                Some(Ok(bak)) => Some(bak.display().to_string()),
                _ => None,
            },
            "rotate_at_exchange": c.rotate_at_exchange.iter().map(|(name, exchange)| json!({
                "name": name,
                "exchange": exchange,
            })).collect::<Vec<_>>(),
            "warnings": warnings,
        });
        if let Some(Err(e)) = &c.backup {
            doc["backup_error"] = e.as_str().into();
        }
        writeln!(out, "{doc}")?;
        return Ok(());
    }
    writeln!(
        out,
        "Confirmed the {} of {}: epoch {} began on {}.",
        c.kind.as_str(),
        args.vault.display(),
        c.epoch,
        timefmt::date(c.began)
    )?;
    writeln!(out, "  fingerprint  {}", c.fingerprint)?;
    for line in c.policy.describe() {
        writeln!(out, "  policy       {line}")?;
    }
    writeln!(
        out,
        "Shares of epoch {} are now refused as stale; have the old custodians destroy their sheets.",
        c.old_epoch
    )?;
    match c.kind {
        ChangeKind::Reshare => writeln!(out, "warning: {CONFIRMED_RESHARE_REVOKES_NOBODY}"),
        ChangeKind::RotateMaster => writeln!(
            out,
            "The master key was replaced and every credential is sealed to the new key: old \
             shares open nothing in this vault. The audit log records the handover, so \
             `custody audit verify` still checks the records signed before the rotation."
        ),
    }?;
    match &c.backup {
        Some(Ok(bak)) => writeln!(
            out,
            "The backup {} now holds the new vault. Destroy every other copy of the vault taken \
             before this change: with the old sheets it still opens the credentials.",
            bak.display()
        )?,
        Some(Err(e)) => writeln!(
            out,
            "WARNING: the backup could not be replaced ({e}): it is still sealed to the retired \
             key and the old sheets open it. Delete `{}.bak` by hand.",
            args.vault.display()
        )?,
        None => {}
    }
    if !c.rotate_at_exchange.is_empty() {
        writeln!(
            out,
            "The old quorum could read these exchange keys until now: rotate these exchange keys \
             at the exchange, then record each new key with `custody creds rotate NAME`:"
        )?;
        for (name, exchange) in &c.rotate_at_exchange {
            writeln!(out, "  {name} ({exchange})")?;
        }
    }
    warnings(out, &c.hardening_warnings)
}

/// `custody cancel`: a quorum of the current set, or of the pending set, drops the change.
pub fn cancel(args: PendingArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let vault = pending_vault(&args.vault)?;
    // A remote code names the current set: remote custodians cancel with their current shares.
    let pres = present_pending(&args.quorum, &vault, "cancel")?;
    let c = rekey::cancel(&args.vault, &pres, super::clock())?;
    if args.json {
        let doc = json!({
            "format": "custody-cancel/1",
            "ok": true,
            "vault": args.vault.display().to_string(),
            "vault_id": vault.vault_id_hex(),
            "change": c.kind.as_str(),
            "prepared": timefmt::rfc3339(c.prepared),
            "epoch": c.epoch,
            "cancelled_epoch": c.cancelled_epoch,
            "cancelled_by": if c.by_new { "new" } else { "current" },
            "warnings": c.hardening_warnings,
        });
        writeln!(out, "{doc}")?;
        return Ok(());
    }
    writeln!(
        out,
        "Cancelled the pending {} of {} (prepared {}). The current shares (epoch {}) stay valid.",
        c.kind.as_str(),
        args.vault.display(),
        timefmt::date(c.prepared),
        c.epoch
    )?;
    writeln!(
        out,
        "Destroy every sheet and file of the cancelled set (epoch {}).",
        c.cancelled_epoch
    )?;
    warnings(out, &c.hardening_warnings)
}
