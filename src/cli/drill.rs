//! `custody drill`: a quorum reconstructs the master secret in locked memory;
//! [`custody::ops::drill`] verifies it, test-opens every stored credential (authentication
//! only), records the ceremony in the audit log and can issue a signed drill certificate,
//! which is written here; the report says who took part. Nothing secret is shown or written.

use std::io::Write;

use serde_json::json;

use super::{CliError, DrillArgs, quorum_open, ratify};
use custody::certificate::{check_destination, write_certificate};
use custody::ops::drill::{self, DrillOptions, DrillReport, Ratification};
use custody::ops::ratify::Consent;

pub fn run(args: DrillArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let Some(path) = args.vault.as_deref() else {
        let presentation = quorum_open::present_without_vault(&args.shares, &args.passphrase)?;
        let report = drill::drill_without_vault(&presentation)?;
        drop(presentation);
        return print(&args, &report, out);
    };
    // Where the certificate goes is checked before the ceremony, not after it was recorded.
    if let Some(cert_path) = &args.certificate {
        check_destination(cert_path)?;
    }
    let session = quorum_open::open_session(path, "drill", &args.shares, &args.passphrase)?;
    let options = DrillOptions {
        certificate: args.certificate.is_some(),
    };
    let mut asking = args
        .ratify
        .then(|| ratify::Asking::new(args.shares.timeout()));
    let consent = asking.as_mut().map(|c| c as &mut dyn Consent);
    let mut report = drill::drill(session, options, consent)?;
    if let (Some(cert_path), Some(cert)) = (&args.certificate, &report.certificate) {
        write_certificate(cert_path, cert).map_err(CliError::CertificateAfterDrill)?;
    }
    print(&args, &report, out)?;
    report.verdict()?;
    match report.not_anchored.take() {
        Some(e) => Err(CliError::Audit(e)),
        None => Ok(()),
    }
}

fn print(args: &DrillArgs, report: &DrillReport, out: &mut dyn Write) -> Result<(), CliError> {
    let q = &report.quorum;
    let vault = report.vault.as_ref();
    let mut ratify_report = Vec::new();
    match &report.ratification {
        Some(Ratification::Ratified(r)) => ratify::print_ratified(r, &mut ratify_report)?,
        Some(Ratification::Waiting(w)) => ratify::print_waiting(w, &mut ratify_report)?,
        None => {}
    }
    let w = CliError::Output;
    if args.json {
        let custodians: Vec<_> = q
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
        let credentials: Vec<_> = report
            .credentials
            .iter()
            .map(|c| match &c.result {
                Ok(()) => json!({ "name": c.name, "opened": true }),
                Err(e) => json!({ "name": c.name, "opened": false, "error": e.to_string() }),
            })
            .collect();
        let obj = json!({
            "format": "custody-drill/1",
            "ok": report.passed(),
            "fingerprint": q.fingerprint,
            "ed25519_public_key": q.public_key_hex,
            "age_recipient": q.age_recipient,
            "vault_id": vault.map(|v| v.vault_id_hex()),
            "epoch": vault.map(|v| v.epoch()),
            "custodians": custodians,
            "incomplete_groups": q.incomplete_groups,
            "counted_once": q.counted_once.iter().map(|c| json!({
                "group": c.group,
                "holders": c.holders,
                "inputs": c.labels,
            })).collect::<Vec<_>>(),
            "secret_bytes": q.secret_bytes,
            "memory_locked": q.memory_locked,
            "core_dumps_disabled": q.core_dumps_disabled,
            "credentials": credentials,
            "ratification": String::from_utf8_lossy(&ratify_report).trim_end(),
            "certificate": args.certificate.as_ref().map(|p| p.display().to_string()),
        });
        writeln!(out, "{obj}").map_err(w)?;
        return Ok(());
    }
    match vault {
        Some(v) => writeln!(
            out,
            "Drill passed: the quorum reconstructs this vault's master key (epoch {}).",
            v.epoch()
        ),
        None => writeln!(
            out,
            "The shares combine to a {}-byte master secret (no vault given to compare with).",
            q.secret_bytes
        ),
    }
    .map_err(w)?;
    writeln!(out, "  fingerprint         {}", q.fingerprint).map_err(w)?;
    writeln!(out, "  ed25519 public key  {}", q.public_key_hex).map_err(w)?;
    writeln!(out, "  age recipient       {}", q.age_recipient).map_err(w)?;
    writeln!(out, "  custodians:").map_err(w)?;
    for m in &q.members {
        writeln!(
            out,
            "    {} (group {}, {} {}) from {} [{}{}]",
            m.custodian,
            m.group,
            if m.holders > 1 { "copy" } else { "share" },
            m.member_number,
            m.label,
            m.source.as_str(),
            if m.signed { ", signature verified" } else { "" }
        )
        .map_err(w)?;
    }
    for c in &q.counted_once {
        writeln!(out, "  {c}").map_err(w)?;
    }
    for g in &q.incomplete_groups {
        writeln!(
            out,
            "  group {g} was incomplete; its shares were not needed"
        )
        .map_err(w)?;
    }
    if !report.credentials.is_empty() {
        writeln!(out, "  credentials (test-opened, nothing shown):").map_err(w)?;
        for c in &report.credentials {
            match &c.result {
                Ok(()) => writeln!(out, "    {}: opens", c.name),
                Err(e) => writeln!(out, "    {}: FAILED — {e}", c.name),
            }
            .map_err(w)?;
        }
    }
    writeln!(
        out,
        "The secret was held only in {}memory and is now erased. Nothing secret was shown.",
        if q.memory_locked { "locked " } else { "" }
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
    out.write_all(&ratify_report).map_err(w)?;
    for warning in &q.hardening_warnings {
        writeln!(out, "warning: {warning}").map_err(w)?;
    }
    Ok(())
}
