//! `custody init`: a new master secret (OS randomness, optionally mixed with officer entropy),
//! split into SLIP-39 shares by the policy, one signed share file per custodian, and the
//! signed vault file. Nothing is written unless the whole set verifies; nothing is overwritten.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use rand_core::{OsRng, RngCore};
use zeroize::Zeroizing;

use super::{CliError, InitArgs};
use super::{secret_input, sheets};
use crate::harden;
use crate::keys::MasterSecret;
use crate::policy::Policy;
use crate::slip39;
use crate::timefmt;
use crate::token::{Token, TokenInfo};
use crate::vault::store::{self, StoreError};
use crate::vault::{Slip39Params, Vault};
use crate::wire;

/// File-name form of a custodian name: lower-case letters and digits, `-` between runs.
pub fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let t = out.trim_matches('-');
    if t.is_empty() {
        "custodian".into()
    } else {
        t.into()
    }
}

fn policy_from(args: &InitArgs) -> Result<Policy, CliError> {
    let names: Vec<String> = args
        .custodians
        .iter()
        .flat_map(|c| c.split(','))
        .map(|c| c.trim().to_owned())
        .filter(|c| !c.is_empty())
        .collect();
    if args.group.is_empty() {
        let k = args.threshold.ok_or_else(|| {
            CliError::Usage(
                "say how many custodians must come together: --threshold K \
                 (or define groups with --group NAME:K)"
                    .into(),
            )
        })?;
        Ok(Policy::single(k, &names)?)
    } else {
        Ok(Policy::grouped(&args.group, &names, args.group_threshold)?)
    }
}

/// The base path for each custodian, in policy order: `DIR/NN-<slug>` (an extension per format).
fn share_bases(dir: &Path, policy: &Policy) -> Vec<PathBuf> {
    let mut n = 0;
    let mut out = Vec::new();
    for g in &policy.groups {
        for c in &g.custodians {
            n += 1;
            out.push(dir.join(format!("{n:02}-{}", slug(&c.name))));
        }
    }
    out
}

pub fn run(args: InitArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let hardening = harden::for_quorum();
    let policy = policy_from(&args)?;
    let formats = sheets::parse_formats(&args.sheets)?;

    // Refuse before any secret exists if anything would be overwritten.
    let bases = share_bases(&args.out_dir, &policy);
    let files: Vec<Vec<PathBuf>> = bases
        .iter()
        .map(|b| formats.iter().map(|&f| sheets::path_for(b, f)).collect())
        .collect();
    for p in std::iter::once(&args.vault).chain(files.iter().flatten()) {
        if p.exists() {
            return Err(StoreError::Exists(p.clone()).into());
        }
    }

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
    let now = timefmt::now();

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
    let mut tokens = Vec::new();
    for (g, shares) in policy.groups.iter().zip(groups) {
        for (c, share) in g.custodians.iter().zip(shares) {
            let info = TokenInfo {
                vault_id,
                epoch: vault.epoch,
                created: now,
                custodian: c.name.clone(),
                group: g.name.clone(),
            };
            tokens.push(Token::sign(info, share, keys.signing_key())?);
        }
    }

    // Self-check before writing: every group's first threshold shares, re-read from their text
    // form, must reconstruct a secret that derives this vault's key.
    self_check(&tokens, &vault, passphrase.as_ref().map(|p| p.as_bytes()))?;
    drop(master);
    drop(keys);

    fs::create_dir_all(&args.out_dir).map_err(|source| CliError::Write {
        path: args.out_dir.clone(),
        source,
    })?;
    let fingerprint = vault.fingerprint();
    let mut written: Vec<&PathBuf> = Vec::new();
    let result = (|| -> Result<(), CliError> {
        for (t, paths) in tokens.iter().zip(&files) {
            for (&format, p) in formats.iter().zip(paths) {
                let bytes = sheets::render(format, t, &policy, &fingerprint, args.paper);
                sheets::write(p, &bytes)?;
                written.push(p);
            }
        }
        store::create_new(&args.vault, vault.to_json().as_bytes(), 0o644)?;
        Ok(())
    })();
    if let Err(e) = result {
        for p in written {
            let _ = fs::remove_file(p);
        }
        return Err(e);
    }

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
    for (t, paths) in tokens.iter().zip(&files) {
        let names: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        writeln!(
            out,
            "  {} (group {}): {}",
            t.info.custodian,
            t.info.group,
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
    for warning in hardening.warnings() {
        writeln!(out, "warning: {warning}").map_err(w)?;
    }
    Ok(())
}

fn self_check(tokens: &[Token], vault: &Vault, passphrase: Option<&[u8]>) -> Result<(), CliError> {
    let mut presented = Vec::new();
    let needed = usize::from(vault.policy.group_threshold);
    for (gi, g) in vault.policy.groups.iter().enumerate().take(needed) {
        for t in tokens
            .iter()
            .filter(|t| usize::from(t.share.group_index) == gi)
            .take(usize::from(g.member_threshold))
        {
            let text: Zeroizing<String> = t.to_text();
            let p = crate::input::parse_text("self-check", &text)
                .map_err(|e| CliError::SelfCheck(e.to_string()))?;
            presented.push(p);
        }
    }
    crate::quorum::unlock(&presented, Some(vault), passphrase)
        .map(drop)
        .map_err(|e| CliError::SelfCheck(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::slug;

    #[test]
    fn slugs() {
        assert_eq!(slug("Alice Smith"), "alice-smith");
        assert_eq!(slug("  Bob/Ops!! "), "bob-ops");
        assert_eq!(slug("Zoë"), "zo");
        assert_eq!(slug("---"), "custodian");
    }
}
