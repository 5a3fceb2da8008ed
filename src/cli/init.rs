//! `custody init`: a new master secret (OS randomness, optionally mixed with officer entropy),
//! split into SLIP-39 shares by the policy, one signed share file per custodian, and the
//! signed vault file. Nothing is written unless the whole set verifies; nothing is overwritten.

use std::io::Write;

use rand_core::{OsRng, RngCore};

use super::{CliError, InitArgs, PolicyArgs};
use super::{secret_input, sheets};
use custody::ops::issue;
use custody::harden;
use custody::keys::MasterSecret;
use custody::policy::Policy;
use custody::slip39;
use custody::vault::store;
use custody::vault::{Slip39Params, Vault};
use custody::wire;

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
    let hardening = harden::for_quorum();
    let policy = args.policy.policy()?;
    let formats = sheets::parse_formats(&args.sheets)?;

    // Refuse before any secret exists if anything would be overwritten.
    let layout = issue::plan(
        &args.out_dir,
        &issue::numbered(&policy),
        formats,
        Some(&args.vault),
    )?;

    let entropy = if args.entropy_stdin {
        let e = secret_input::stdin_all()?;
        if e.len() < 16 {
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

    let master = MasterSecret::generate(&mut OsRng, entropy.as_deref().map(|e| e.as_slice()));
    drop(entropy);
    let keys = master.derive()?;
    let mut vault_id = [0u8; wire::VAULT_ID_LEN];
    OsRng.fill_bytes(&mut vault_id);
    let now = super::clock().now();

    let pass_bytes: &[u8] = passphrase.as_ref().map(|p| p.as_bytes()).unwrap_or(b"");
    let groups = slip39::generate_shares(
        &mut OsRng,
        master.expose(),
        pass_bytes,
        policy.group_threshold,
        &policy.group_specs(),
        true,
        args.iteration_exponent,
    )?;
    let identifier = groups[0][0].identifier;
    let vault = Vault::create(
        vault_id,
        now,
        &keys,
        Slip39Params {
            identifier,
            extendable: true,
            iteration_exponent: args.iteration_exponent,
            passphrase: passphrase.is_some(),
        },
        policy.clone(),
    )?;

    // One signed token per custodian, in policy order.
    let tokens = issue::sign_tokens(
        issue::policy_shares(&policy, groups),
        vault_id,
        vault.epoch,
        now,
        keys.signing_key(),
    )?;

    // Self-check before writing: every group's first threshold shares, re-read from their text
    // form, must reconstruct a secret that derives this vault's key.
    issue::self_check(&tokens, &vault, passphrase.as_ref().map(|p| p.as_bytes()))?;
    drop(master);
    drop(keys);

    let fingerprint = vault.fingerprint();
    issue::write_all(&layout, &tokens, &policy, &fingerprint, args.paper, || {
        store::create_new(&args.vault, vault.to_json().as_bytes(), 0o644)?;
        Ok::<(), CliError>(())
    })?;

    let w = |e: std::io::Error| CliError::Terminal(e.to_string());
    writeln!(out, "Created vault {}", args.vault.display()).map_err(w)?;
    writeln!(
        out,
        "  fingerprint  {fingerprint}   (read it aloud; every sheet shows it)"
    )
    .map_err(w)?;
    writeln!(out, "  vault id     {}", vault.vault_id_hex()).map_err(w)?;
    writeln!(out, "  epoch        {}", vault.epoch).map_err(w)?;
    for line in policy.describe() {
        writeln!(out, "  policy       {line}").map_err(w)?;
    }
    if vault.slip39.passphrase {
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
    sheets::list_files(out, &tokens, &layout)?;
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
    for warning in hardening.warnings() {
        writeln!(out, "warning: {warning}").map_err(w)?;
    }
    Ok(())
}

