//! `custody init`: parse the policy and formats, read the officer entropy and passphrase, and
//! let [`custody::ops::init`] create the vault and the share files; print what was written.

use std::io::Write;

use super::{CliError, InitArgs, PolicyArgs};
use super::{secret_input, sheets};
use custody::ops::init::{self, InitRequest};
use custody::policy::Policy;

impl PolicyArgs {
    /// The policy `--threshold K --custodian A B ...` or `--group NAME:K --custodian NAME/A ...`
    /// describe (used by `init`, `reshare` and `rotate-master`).
    pub fn policy(&self) -> Result<Policy, CliError> {
        let names: Vec<String> = self
            .custodians
            .iter()
            .flat_map(|c| c.split(','))
            .map(|c| c.trim().to_owned())
            .filter(|c| !c.is_empty())
            .collect();
        if self.group.is_empty() {
            let k = self.threshold.ok_or_else(|| {
                CliError::Usage(
                    "say how many custodians must come together: --threshold K \
                     (or define groups with --group NAME:K)"
                        .into(),
                )
            })?;
            Ok(Policy::single(k, &names)?)
        } else {
            Ok(Policy::grouped(&self.group, &names, self.group_threshold)?)
        }
    }
}

pub fn run(args: InitArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let policy = args.policy.policy()?;
    let formats = sheets::parse_formats(&args.sheets)?;

    // Hardens the process, and refuses before any secret exists if anything would be
    // overwritten.
    let planned = init::plan(InitRequest {
        vault: args.vault.clone(),
        out_dir: args.out_dir.clone(),
        policy: policy.clone(),
        iteration_exponent: args.iteration_exponent,
        formats,
        paper: args.paper,
        delivery: args.deliver.delivery()?,
    })?;

    let entropy = if args.entropy_stdin {
        let e = secret_input::stdin_all("--entropy-stdin", secret_input::MAX_STDIN_TEXT)?;
        if e.len() < init::MIN_OFFICER_ENTROPY {
            return Err(CliError::Usage(
                "--entropy-stdin read fewer than 16 bytes; give more (for example 100 dice rolls)"
                    .into(),
            ));
        }
        Some(e)
    } else {
        None
    };
    let passphrase = secret_input::passphrase(&args.passphrase, true)?;

    let mut progress = super::progress::on_terminal();
    let report = planned.create_reporting(
        entropy.as_deref().map(|e| e.as_slice()),
        passphrase.as_deref().map(|p| p.as_str()),
        super::clock(),
        &mut *progress,
    )?;
    // The progress line is erased before the report.
    drop(progress);
    drop(entropy);
    drop(passphrase);
    let vault = &report.vault;
    let fingerprint = vault.fingerprint();

    let w = CliError::Output;
    if args.json {
        let custodians: Vec<_> = report
            .files
            .iter()
            .map(|f| sheets::custodian_json(&f.custodian, &f.group, &f.files, &f.delivered_to))
            .collect();
        let doc = serde_json::json!({
            "format": "custody-init/1",
            "ok": true,
            "vault": args.vault.display().to_string(),
            "vault_id": vault.vault_id_hex(),
            "fingerprint": fingerprint,
            "epoch": vault.epoch(),
            "policy": policy.sentence(),
            "custodians": custodians,
            "warnings": report.hardening_warnings,
        });
        writeln!(out, "{doc}").map_err(w)?;
        return Ok(());
    }
    writeln!(out, "Created vault {}", args.vault.display()).map_err(w)?;
    writeln!(
        out,
        "  fingerprint  {fingerprint}   (read it aloud; every sheet shows it)"
    )
    .map_err(w)?;
    writeln!(out, "  vault id     {}", vault.vault_id_hex()).map_err(w)?;
    writeln!(out, "  epoch        {}", vault.epoch()).map_err(w)?;
    writeln!(out, "  policy       {}", policy.sentence()).map_err(w)?;
    if policy.groups.len() > 1 {
        let needed = policy.describe().pop().unwrap_or_default();
        writeln!(out, "               {needed}").map_err(w)?;
    }
    if vault.slip39().passphrase {
        writeln!(
            out,
            "  passphrase   required with every quorum (not stored anywhere)"
        )
        .map_err(w)?;
    }
    writeln!(
        out,
        "Share files (each one is secret; give each custodian only their own):"
    )
    .map_err(w)?;
    for f in &report.files {
        let names: Vec<String> = f.files.iter().map(|p| p.display().to_string()).collect();
        let delivered = if f.delivered_to.is_empty() {
            String::new()
        } else {
            format!(" (encrypted to {})", f.delivered_to.join(", "))
        };
        writeln!(
            out,
            "  {} (group {}): {}{delivered}",
            f.custodian,
            f.group,
            names.join(", ")
        )
        .map_err(w)?;
    }
    writeln!(
        out,
        "The master secret was written nowhere and is now erased from memory."
    )
    .map_err(w)?;
    let v = args.vault.display();
    writeln!(out, "Next:").map_err(w)?;
    writeln!(
        out,
        "  1. Print the sheets, then scan every printed sheet back (phone photo or scan):\n     \
         custody check-share --vault {v} sheet-photo.jpg ..."
    )
    .map_err(w)?;
    writeln!(
        out,
        "  2. Give each custodian their own sheet or file; delete every other copy."
    )
    .map_err(w)?;
    writeln!(
        out,
        "  3. Each custodian checks theirs at any time: custody check-share --vault {v} FILE"
    )
    .map_err(w)?;
    writeln!(
        out,
        "  4. Hold a drill with a quorum: custody drill --vault {v} --share A --share B ..."
    )
    .map_err(w)?;
    for warning in &report.hardening_warnings {
        writeln!(out, "warning: {warning}").map_err(w)?;
    }
    Ok(())
}
