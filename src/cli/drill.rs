//! `custody drill`: a quorum reconstructs the master secret in locked memory; custody verifies
//! it (SLIP-39 digest, token signatures, derived key = the vault's) and reports who took part.
//! Nothing secret is shown or written.

use std::io::Write;

use serde_json::json;

use super::{CliError, DrillArgs, quorum_open, ratify};
use crate::keys::{fingerprint, hex};

pub fn run(args: DrillArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let quorum_open::Quorum {
        vault,
        unlocked,
        hardening,
    } = quorum_open::open(args.vault.as_deref(), &args.shares, &args.passphrase)?;
    // Credentials awaiting ratification: sign them with --ratify, else say so.
    let mut ratify_report = Vec::new();
    if let Some(path) = args.vault.as_deref() {
        if args.ratify {
            ratify::ratify(path, &unlocked.keys, &mut ratify_report)?;
        } else if let Some(v) = &vault {
            ratify::remind(v, path, &mut ratify_report)?;
        }
    }
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
        let obj = json!({
            "ok": true,
            "fingerprint": fp,
            "ed25519_public_key": hex(pk.as_bytes()),
            "age_recipient": unlocked.keys.age_recipient().to_string(),
            "vault_id": vault.as_ref().map(|v| v.vault_id_hex()),
            "epoch": vault.as_ref().map(|v| v.epoch),
            "custodians": custodians,
            "incomplete_groups": unlocked.incomplete_groups,
            "secret_bytes": unlocked.master.len(),
            "memory_locked": locked,
            "core_dumps_disabled": hardening.no_core_limit.is_ok() && hardening.non_dumpable.is_ok(),
            "credentials": String::from_utf8_lossy(&ratify_report).trim_end(),
        });
        writeln!(out, "{obj}").map_err(w)?;
        return Ok(());
    }
    match &vault {
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
    writeln!(
        out,
        "The secret was held only in {}memory and is now erased. Nothing secret was shown.",
        if locked { "locked " } else { "" }
    )
    .map_err(w)?;
    out.write_all(&ratify_report).map_err(w)?;
    for warning in hardening.warnings() {
        writeln!(out, "warning: {warning}").map_err(w)?;
    }
    Ok(())
}
