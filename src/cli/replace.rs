//! `custody replace-custodian`: a sheet is lost, a custodian leaves, a sheet may be stolen.
//! The command line checks the names and the reason, reads the current quorum, runs
//! [`custody::ops::replace`] and prints what to do next (confirm with the new sheets, then
//! rotate the listed exchange keys).

use std::io::Write;
use std::path::PathBuf;

use clap::Args;

use super::rekey::{present, warnings};
use super::{ChangeShareArgs, CliError, sheets};
use custody::ops::rekey::{Output, check_none_pending};
use custody::ops::replace::{self, Replacement};
use custody::vault::store;

/// `custody replace-custodian`.
#[derive(Args, Debug)]
#[command(after_help = "Examples:\n  \
    custody replace-custodian --vault fund.vault.json --remove dave --reason 'sheet lost' --share shares/01-alice.txt --share shares/02-bob.txt --share shares/03-carol.txt --out-dir new\n  \
    custody replace-custodian --vault fund.vault.json --remove dave --add erin --reason 'left the firm' --share shares/01-alice.txt --share shares/02-bob.txt --share shares/03-carol.txt --out-dir new\n  \
    custody confirm --vault fund.vault.json --share new/01-alice.txt --share new/02-bob.txt --share new/03-carol.txt")]
pub struct ReplaceArgs {
    /// The vault whose custodian is replaced.
    #[arg(long, env = "CUSTODY_VAULT")]
    pub vault: PathBuf,
    /// The CURRENT set's shares (a quorum of them; the departing custodian's may be among them).
    #[command(flatten)]
    pub quorum: ChangeShareArgs,
    /// The custodian whose share is revoked, as named in the vault's policy.
    #[arg(long, value_name = "NAME")]
    pub remove: String,
    /// A new custodian who takes the same place in the same group (otherwise the group just
    /// loses one member and keeps its threshold).
    #[arg(long, value_name = "NAME")]
    pub add: Option<String>,
    /// Why, in a few words ("sheet lost", "left the firm", "suspected theft"); recorded in the
    /// audit log.
    #[arg(long)]
    pub reason: String,
    /// Folder for the new share files (created if missing; existing files are never overwritten).
    #[arg(long)]
    pub out_dir: PathBuf,
    /// Which files to write per custodian: any of txt (share file), pdf, png (300 dpi), svg.
    #[arg(long, default_value = "txt,pdf")]
    pub sheets: String,
    /// Paper size of the sheets.
    #[arg(long, default_value = "a4", value_parser = super::sheets::paper_parser())]
    pub paper: custody::sheet::Paper,
    /// Print one JSON object (`custody-replace-custodian/1`, docs/json.md) instead of text.
    #[arg(long)]
    pub json: bool,
    /// Custodians who receive their new share encrypted to their own age recipient.
    #[command(flatten)]
    pub deliver: super::deliver::DeliverArgs,
}

pub fn run(args: ReplaceArgs, out: &mut dyn Write) -> Result<(), CliError> {
    // Refusals that need no shares come first.
    replace::check_reason(&args.reason)?;
    let vault = store::load(&args.vault)?;
    check_none_pending(&vault)?;
    let (next, _) = replace::successor_policy(vault.policy(), &args.remove, args.add.as_deref())?;
    let delivery = args.deliver.delivery()?;
    delivery
        .check_all(&next)
        .map_err(|e| CliError::Issue(custody::ops::issue::IssueError::Delivery(e)))?;
    let output = Output {
        out_dir: args.out_dir.clone(),
        formats: sheets::parse_formats(&args.sheets)?,
        paper: args.paper,
        delivery,
    };
    let pres = present(&args.quorum, &vault, "replace-custodian")?;
    let replacement = Replacement {
        remove: args.remove.clone(),
        add: args.add.clone(),
        reason: args.reason.clone(),
    };
    let r = replace::replace_custodian(&args.vault, &pres, &replacement, &output, super::clock())?;
    let p = &r.prepared;
    if args.json {
        let doc = serde_json::json!({
            "format": "custody-replace-custodian/1",
            "ok": true,
            "vault": args.vault.display().to_string(),
            "vault_id": vault.vault_id_hex(),
            "removed": r.removed,
            "added": r.added,
            "group": r.group,
            "reason": args.reason,
            "epoch": p.epoch,
            "new_epoch": p.new_epoch,
            "fingerprint": p.fingerprint,
            "resealed": p.resealed,
            "policy": p.policy.sentence(),
            "pending": true,
            "custodians": sheets::files_json(&p.tokens, &p.layout),
            "rotate_at_exchange": r.rotate_at_exchange.iter().map(|(name, exchange)| {
                serde_json::json!({ "name": name, "exchange": exchange })
            }).collect::<Vec<_>>(),
            "warnings": p.hardening_warnings,
        });
        writeln!(out, "{doc}")?;
        return Ok(());
    }
    let v = args.vault.display();
    match &r.added {
        Some(a) => writeln!(
            out,
            "Prepared the replacement of {} by {a} in group {} of {v} (reason: {}).",
            r.removed, r.group, args.reason
        )?,
        None => writeln!(
            out,
            "Prepared the removal of {} from group {} of {v} (reason: {}).",
            r.removed, r.group, args.reason
        )?,
    }
    writeln!(
        out,
        "  A master rotation (epoch {} -> {}); nothing takes effect until `confirm`.",
        p.epoch, p.new_epoch
    )?;
    writeln!(
        out,
        "  new fingerprint  {}   (a NEW master key; every sheet of the new set shows it)",
        p.fingerprint
    )?;
    writeln!(
        out,
        "  credentials      {} resealed to the new key (kept in the pending record)",
        p.resealed
    )?;
    for line in p.policy.describe() {
        writeln!(out, "  new policy       {line}")?;
    }
    sheets::list_new_files(out, &p.tokens, &p.layout)?;
    writeln!(
        out,
        "Until it is confirmed, the current sheets (including {}'s) stay valid.",
        r.removed
    )?;
    writeln!(out, "Next:")?;
    writeln!(
        out,
        "  1. Print the new sheets and hand them out, then scan a threshold of them back:\n     \
         custody confirm --vault {v} --share NEW ..."
    )?;
    writeln!(
        out,
        "     After that, every old sheet ({}'s too) opens nothing in this vault.",
        r.removed
    )?;
    if r.rotate_at_exchange.is_empty() {
        writeln!(
            out,
            "  2. The vault holds no exchange keys: nothing to rotate at an exchange."
        )?;
    } else {
        writeln!(
            out,
            "  2. Then rotate these exchange keys at the exchange (the old quorum could read \
             them), recording each new key with `custody creds rotate NAME`:"
        )?;
        for (name, exchange) in &r.rotate_at_exchange {
            writeln!(out, "       {name} ({exchange})")?;
        }
    }
    writeln!(
        out,
        "  Or drop the change: custody cancel --vault {v} --share ... (a quorum of either set)"
    )?;
    warnings(out, &p.hardening_warnings)
}
