//! `custody drill`: a quorum reconstructs the master secret in locked memory; custody verifies
//! it (SLIP-39 digest, token signatures, derived key = the vault's), test-opens every stored
//! credential (authentication only), records the ceremony in the audit log, optionally writes
//! a signed drill certificate, and reports who took part. Nothing secret is shown or written.

use std::io::Write;

use serde_json::json;

use super::{CliError, DrillArgs, quorum_open, ratify};
use custody::certificate::{Certificate, write_certificate};
use custody::harden::Hardening;
use custody::keys::{fingerprint, hex};
use custody::quorum::Unlocked;
use custody::vault::{Vault, seal};

/// Test-open every credential: the age ciphertext must authenticate under the quorum's
/// identity and repeat the entry's identity. Nothing opened is kept.
fn test_open(vault: &Vault, unlocked: &Unlocked) -> Vec<(String, Result<(), String>)> {
    vault
        .credentials()
        .iter()
        .map(|c| {
            let r = seal::open(&vault.vault_id, c, unlocked.keys.age_identity())
                .map(drop)
                .map_err(|e| e.to_string());
            (c.name.clone(), r)
        })
        .collect()
}

pub fn run(args: DrillArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let Some(path) = args.vault.as_deref() else {
        let q = quorum_open::open_without_vault(&args.shares, &args.passphrase)?;
        return report(&args, None, &q.unlocked, &q.hardening, &[], &[], out);
    };
    let quorum_open::Recorded {
        vault,
        unlocked,
        hardening,
        audit,
    } = quorum_open::open_recorded(path, "drill", &args.shares, &args.passphrase)?;
    // Credentials awaiting ratification: sign them with --ratify, else say so.
    let mut ratify_report = Vec::new();
    if args.ratify {
        ratify::ratify(path, &unlocked.keys, &mut ratify_report)?;
        audit.note("ratified", "credentials reviewed and signed")?;
    } else {
        ratify::remind(&vault, path, &mut ratify_report)?;
    }
    let creds = test_open(&vault, &unlocked);
    let failed: Vec<&str> = creds
        .iter()
        .filter(|(_, r)| r.is_err())
        .map(|(n, _)| n.as_str())
        .collect();
    audit.note(
        "credentials test-opened",
        &format!(
            "{} of {} authenticated",
            creds.len() - failed.len(),
            creds.len()
        ),
    )?;
    let head = if failed.is_empty() {
        audit.succeed(&unlocked.keys, "drill passed")?
    } else {
        audit.fail(&format!(
            "quorum verified, but credential(s) {} did not open",
            failed.join(", ")
        ))?
    };
    if let Some(cert_path) = &args.certificate {
        let cert = Certificate::from_unlocked(&vault, &unlocked, &creds, head, super::clock().now())?;
        write_certificate(cert_path, &cert)?;
    }
    report(
        &args,
        Some(&vault),
        &unlocked,
        &hardening,
        &creds,
        &ratify_report,
        out,
    )?;
    if !failed.is_empty() {
        return Err(CliError::Refused(format!(
            "the quorum is good, but credential(s) {} could not be opened: their ciphertext is \
             damaged or was replaced. Restore the vault from its backup, or rotate those keys",
            failed.join(", ")
        )));
    }
    Ok(())
}

fn report(
    args: &DrillArgs,
    vault: Option<&Vault>,
    unlocked: &Unlocked,
    hardening: &Hardening,
    creds: &[(String, Result<(), String>)],
    ratify_report: &[u8],
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let pk = unlocked.keys.verifying_key();
    let fp = fingerprint(&pk);
    let locked = unlocked.master.is_locked();
    let w = |e: std::io::Error| CliError::Terminal(e.to_string());
    if args.json {
        let custodians: Vec<_> = unlocked
            .members
            .iter()
            .map(|m| {
                json!({
                    "name": m.custodian,
                    "group": m.group,
                    "index": m.member_number,
                    "source": m.source.as_str(),
                    "input": m.label,
                    "signed": m.signed,
                })
            })
            .collect();
        let credentials: Vec<_> = creds
            .iter()
            .map(|(name, r)| match r {
                Ok(()) => json!({ "name": name, "opened": true }),
                Err(e) => json!({ "name": name, "opened": false, "error": e }),
            })
            .collect();
        let obj = json!({
            "ok": creds.iter().all(|(_, r)| r.is_ok()),
            "fingerprint": fp,
            "ed25519_public_key": hex(pk.as_bytes()),
            "age_recipient": unlocked.keys.age_recipient().to_string(),
            "vault_id": vault.map(|v| v.vault_id_hex()),
            "epoch": vault.map(|v| v.epoch),
            "custodians": custodians,
            "incomplete_groups": unlocked.incomplete_groups,
            "secret_bytes": unlocked.master.len(),
            "memory_locked": locked,
            "core_dumps_disabled": hardening.no_core_limit.is_ok() && hardening.non_dumpable.is_ok(),
            "credentials": credentials,
            "ratification": String::from_utf8_lossy(ratify_report).trim_end(),
            "certificate": args.certificate.as_ref().map(|p| p.display().to_string()),
        });
        writeln!(out, "{obj}").map_err(w)?;
        return Ok(());
    }
    match vault {
        Some(v) => writeln!(
            out,
            "Drill passed: the quorum reconstructs this vault's master key (epoch {}).",
            v.epoch
        ),
        None => writeln!(
            out,
            "The shares combine to a {}-byte master secret (no vault given to compare with).",
            unlocked.master.len()
        ),
    }
    .map_err(w)?;
    writeln!(out, "  fingerprint         {fp}").map_err(w)?;
    writeln!(out, "  ed25519 public key  {}", hex(pk.as_bytes())).map_err(w)?;
    writeln!(
        out,
        "  age recipient       {}",
        unlocked.keys.age_recipient()
    )
    .map_err(w)?;
    writeln!(out, "  custodians:").map_err(w)?;
    for m in &unlocked.members {
        writeln!(
            out,
            "    {} (group {}, share {}) from {} [{}{}]",
            m.custodian,
            m.group,
            m.member_number,
            m.label,
            m.source.as_str(),
            if m.signed { ", signature verified" } else { "" }
        )
        .map_err(w)?;
    }
    for g in &unlocked.incomplete_groups {
        writeln!(
            out,
            "  group {g} was incomplete; its shares were not needed"
        )
        .map_err(w)?;
    }
    if !creds.is_empty() {
        writeln!(out, "  credentials (test-opened, nothing shown):").map_err(w)?;
        for (name, r) in creds {
            match r {
                Ok(()) => writeln!(out, "    {name}: opens"),
                Err(e) => writeln!(out, "    {name}: FAILED — {e}"),
            }
            .map_err(w)?;
        }
    }
    writeln!(
        out,
        "The secret was held only in {}memory and is now erased. Nothing secret was shown.",
        if locked { "locked " } else { "" }
    )
    .map_err(w)?;
    if vault.is_some() {
        writeln!(out, "The ceremony is recorded in the vault's audit log.").map_err(w)?;
    }
    if let Some(p) = &args.certificate {
        writeln!(
            out,
            "Drill certificate: {} (and {}.txt); verify it with custody verify-certificate",
            p.display(),
            p.display()
        )
        .map_err(w)?;
    }
    out.write_all(ratify_report).map_err(w)?;
    for warning in hardening.warnings() {
        writeln!(out, "warning: {warning}").map_err(w)?;
    }
    Ok(())
}
