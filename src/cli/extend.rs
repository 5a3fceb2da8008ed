//! `custody extend`: additional shares for new custodians of one group, same secret and epoch.
//! The command line reads the shares and the passphrase, runs [`custody::ops::extend`] and
//! prints its report.

use std::io::Write;

use super::rekey::{present, warnings};
use super::{CliError, ExtendArgs, sheets};
use custody::ops::extend::{self, ExtendError};
use custody::ops::rekey::{Output, check_none_pending};
use custody::policy::PolicyError;
use custody::vault::store;

pub fn run(args: ExtendArgs, out: &mut dyn Write) -> Result<(), CliError> {
    // Refusals that need no shares come first.
    let vault = store::load(&args.vault)?;
    check_none_pending(&vault).map_err(ExtendError::from)?;
    let gi = extend::target_group(vault.policy(), args.group.as_deref())?;
    let names: Vec<String> = args
        .custodians
        .iter()
        .flat_map(|c| c.split(','))
        .map(|c| c.trim().to_owned())
        .filter(|c| !c.is_empty())
        .collect();
    if names.is_empty() {
        return Err(PolicyError::NoCustodians.into());
    }
    // The new names are checked before any custodian presents a share.
    let mut next = vault.policy().clone();
    let added = next.add_custodians(gi, &names).map_err(ExtendError::from)?;
    let delivery = args.deliver.delivery()?;
    let issued: Vec<String> = added
        .iter()
        .filter_map(|&i| next.custodian(gi as u8, i).map(|(_, c)| c.name.clone()))
        .collect();
    delivery
        .check(&next, &issued)
        .map_err(|e| CliError::Issue(custody::ops::issue::IssueError::Delivery(e)))?;
    let output = Output {
        out_dir: args.out_dir.clone(),
        formats: sheets::parse_formats(&args.sheets)?,
        paper: args.paper,
        delivery,
    };
    let pres = present(&args.quorum, &vault, "extend")?;
    let e = extend::extend(
        &args.vault,
        &pres,
        args.group.as_deref(),
        &names,
        &output,
        super::clock(),
    )?;

    if args.json {
        let doc = serde_json::json!({
            "format": "custody-extend/1",
            "ok": true,
            "vault": args.vault.display().to_string(),
            "vault_id": vault.vault_id_hex(),
            "fingerprint": vault.fingerprint(),
            "epoch": e.epoch,
            "group": e.group,
            "policy": e.policy.sentence(),
            "custodians": sheets::files_json(&e.tokens, &e.layout),
            "warnings": e.hardening_warnings,
        });
        writeln!(out, "{doc}")?;
        return Ok(());
    }
    writeln!(
        out,
        "Extended group {} of {} with {} new custodian(s); same secret, epoch {}.",
        e.group,
        args.vault.display(),
        e.custodians.len(),
        e.epoch
    )?;
    for line in e.policy.describe() {
        writeln!(out, "  policy       {line}")?;
    }
    sheets::list_new_files(out, &e.tokens, &e.layout)?;
    writeln!(
        out,
        "Each new share combines with the group's existing shares; check each printed sheet with \
         custody check-share --vault {} FILE",
        args.vault.display()
    )?;
    warnings(out, &e.hardening_warnings)
}
