//! `custody rebuild-vault`: the vault file is lost, the sheets are not. The command line reads
//! a quorum of shares (and the passphrase, if the shares use one), runs
//! [`custody::ops::rebuild`] and says what was and was not recovered.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;

use super::rekey::warnings;
use super::{ChangeShareArgs, CliError, interactive, secret_input};
use custody::harden;
use custody::ops::rebuild::{self, GroupShape};
use custody::ops::session::Presentation;
use custody::timefmt;

/// `custody rebuild-vault`.
#[derive(Args, Debug)]
#[command(after_help = "Examples:\n  \
    custody rebuild-vault --out fund.vault.json --share shares/01-alice.txt --share shares/02-bob.txt --share shares/03-carol.txt --members 5\n  \
    custody drill --vault fund.vault.json --share shares/02-bob.txt --share shares/04-dave.txt --share shares/05-erin.txt")]
pub struct RebuildArgs {
    /// The vault file to write (it must not exist, nor its audit log `<FILE>.audit`).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// A quorum of the vault's shares; at least one must carry its signed token (share file,
    /// token, sheet photo): bare words do not say which vault they belong to.
    #[command(flatten)]
    pub quorum: ChangeShareArgs,
    /// How many custodians each group has, in group order: N, or K/N for a group none of
    /// whose shares is presented (the policy line on any sheet shows it). Without it, a group
    /// is taken to end at the highest member number presented.
    #[arg(long, value_name = "N|K/N")]
    pub members: Vec<GroupShape>,
    /// Print one JSON object (`custody-rebuild-vault/1`, docs/json.md) instead of text.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: RebuildArgs, out: &mut dyn Write) -> Result<(), CliError> {
    // Before any share is read (the rebuild ceremony hardens again).
    let _ = harden::for_quorum();
    if args.quorum.remote.remote {
        return Err(CliError::Usage(
            "rebuild-vault has no vault for a remote ceremony's code to name: bring a quorum of \
             shares (or their holders) to this machine"
                .into(),
        ));
    }
    let share_args = args.quorum.share_args();
    // With --passphrase-stdin the passphrase is the first line of standard input: read it
    // before any share that also comes from there.
    let passphrase = secret_input::passphrase(&args.quorum.passphrase, false)?;
    // No vault to check each share against at the terminal: the rebuild checks them together.
    let mut refused = Vec::new();
    let shares = interactive::shares_from_args_or_tty(
        &share_args,
        None,
        None,
        &mut super::escaping::stderr(),
        &mut refused,
    )?
    .shares;
    let pres = Presentation {
        shares,
        passphrase,
        refused,
        remote: None,
    };
    let r = rebuild::rebuild(&args.out, &pres, &args.members, super::clock())?;
    let v = &r.vault;
    if args.json {
        let doc = serde_json::json!({
            "format": "custody-rebuild-vault/1",
            "ok": true,
            "vault": r.path.display().to_string(),
            "audit_log": r.audit_log.display().to_string(),
            "shares": pres.shares.len(),
            "vault_id": v.vault_id_hex(),
            "fingerprint": v.fingerprint(),
            "epoch": v.epoch(),
            "epoch_started": timefmt::rfc3339(v.epoch_started()),
            "policy": v.policy().sentence(),
            "assumed": r.assumed.iter().map(|(group, count)| serde_json::json!({
                "group": group,
                "custodians": count,
            })).collect::<Vec<_>>(),
            "unknown": r.unknown,
            "warnings": r.hardening_warnings,
        });
        writeln!(out, "{doc}")?;
        return Ok(());
    }
    writeln!(
        out,
        "Rebuilt {} from {} shares; its audit log {} begins with the rebuild.",
        r.path.display(),
        pres.shares.len(),
        r.audit_log.display()
    )?;
    writeln!(out, "  vault id     {}", v.vault_id_hex())?;
    writeln!(out, "  fingerprint  {}", v.fingerprint())?;
    writeln!(
        out,
        "  epoch        {} (shares made on {})",
        v.epoch(),
        timefmt::date(v.epoch_started())
    )?;
    for line in v.policy().describe() {
        writeln!(out, "  policy       {line}")?;
    }
    for (group, count) in &r.assumed {
        writeln!(
            out,
            "note: group {group} taken to have {count} custodians (the highest member number \
             presented); if it has more, their shares are refused: rebuild again with --members"
        )?;
    }
    if !r.unknown.is_empty() {
        writeln!(
            out,
            "Not named by any share presented: {}. Their shares are accepted under the name \
             their token carries; the next `custody reshare` names everyone.",
            r.unknown.join(", ")
        )?;
    }
    writeln!(
        out,
        "Not recovered: the credentials sealed in the lost file are not on the shares. If any \
         copy of the vault exists (a backup, its `.bak`), use that copy instead: it holds them. \
         Otherwise add each again with `custody creds add` (new keys from the exchange)."
    )?;
    writeln!(
        out,
        "Check it: custody drill --vault {} --share ... (any quorum)",
        r.path.display()
    )?;
    warnings(out, &r.hardening_warnings)
}
