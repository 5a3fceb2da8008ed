//! `custody audit verify`, `custody audit show` and `custody audit repair`: check the vault's
//! audit log (syntax, seq, hash chain, signatures; optionally against an anchored head), print
//! it as a table, as one JSON document or as its lines as stored, and remove a torn final line
//! (`custody::ops::audit_repair`). No quorum needed.

use std::io::Write;
use std::path::Path;

use serde_json::Value;

use super::{AuditRepairArgs, AuditShowArgs, AuditVerifyArgs, CliError};
use custody::audit::{self, AuditError, AuditReport, LogHead, Problem};
use custody::clock::Clock;
use custody::ops::audit_repair::{self, Repair};
use custody::ops::audit_verify::{self, AuditVerifyError};
use custody::timefmt;
use custody::vault::store;

/// A failed write of the report (a closed pipe ends quietly in `main`).
fn w(e: std::io::Error) -> CliError {
    CliError::Output(e)
}

fn parse_anchor(s: &str) -> Result<LogHead, CliError> {
    s.split_once(':')
        .and_then(|(seq, hash)| LogHead::parse(seq.trim().parse().ok()?, hash.trim()))
        .ok_or_else(|| {
            CliError::Usage(format!(
                "--anchor {s}: expected SEQ:HASH, e.g. 12:3f5a… (64 hex digits), as printed by \
                 `custody audit verify`"
            ))
        })
}

/// The exit of `audit verify`: success when intact, else the problems as an error.
fn verdict(checked: &audit_verify::Verified) -> Result<(), CliError> {
    if checked.is_intact() {
        Ok(())
    } else {
        Err(CliError::Audit(AuditError::Tampered {
            path: checked.log.clone(),
            problems: checked.report.problems.clone(),
        }))
    }
}

pub fn verify(args: AuditVerifyArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let kept = args.anchor.as_deref().map(parse_anchor).transpose()?;
    let checked = audit_verify::verify(&args.vault, kept).map_err(|e| match e {
        AuditVerifyError::Vault(e) => CliError::from(e),
        AuditVerifyError::Audit(e) => CliError::Audit(e),
    })?;
    let (vault, path, report) = (&checked.vault, &checked.log, &checked.report);
    if args.json {
        let head = |h: &LogHead| serde_json::json!({ "seq": h.seq, "hash": h.hash_hex() });
        let doc = serde_json::json!({
            "format": "custody-audit-verify/1",
            "ok": report.problems.is_empty(),
            "log": path.display().to_string(),
            "fingerprint": vault.fingerprint(),
            "records": report.records,
            "ceremonies": report.ceremonies.len(),
            "head": head(&report.head),
            "last_signed": report.last_signed.map(|(h, line)| serde_json::json!({
                "seq": h.seq,
                "hash": h.hash_hex(),
                "line": line,
            })),
            "anchor": checked.anchor.as_ref().map(|a| serde_json::json!({
                "seq": a.seq,
                "hash": custody::keys::hex(&a.hash),
                "at": timefmt::rfc3339(a.at),
            })),
            "kept_anchor": checked.kept.as_ref().map(head),
            "unsigned_tail": report.unsigned_tail(),
            "program_ends": report.program_ends.len(),
            "tail_ceremonies": report.tail_ceremonies().iter().map(|c| serde_json::json!({
                "id": c.id,
                "action": c.action,
                "started": c.started,
                "host": c.host,
                "status": c.status(),
            })).collect::<Vec<_>>(),
            "problems": report.problems.iter().map(|p| p.to_string()).collect::<Vec<_>>(),
        });
        writeln!(out, "{doc}").map_err(w)?;
        return verdict(&checked);
    }
    writeln!(
        out,
        "Audit log {} (vault fingerprint {})",
        path.display(),
        vault.fingerprint()
    )
    .map_err(w)?;
    if report.records == 0 && report.problems.is_empty() {
        writeln!(out, "  empty: no ceremony has been recorded yet").map_err(w)?;
        return Ok(());
    }
    writeln!(
        out,
        "  {} record(s), {} ceremon{}; head: {}",
        report.records,
        report.ceremonies.len(),
        if report.ceremonies.len() == 1 {
            "y"
        } else {
            "ies"
        },
        report.head
    )
    .map_err(w)?;
    match &checked.anchor {
        Some(a) => writeln!(
            out,
            "  anchored in the vault at seq {} (signed {} by the master key at the last \
             successful ceremony)",
            a.seq,
            timefmt::rfc3339(a.at)
        ),
        None => writeln!(
            out,
            "  not anchored in the vault yet (the first successful ceremony anchors it)"
        ),
    }
    .map_err(w)?;
    match report.last_signed {
        Some((h, line)) => writeln!(
            out,
            "  last signed record: line {line} ({h}); everything up to it is covered by the \
             master key's signature"
        ),
        None => writeln!(
            out,
            "  no signed record yet: the log is protected only by its hash chain"
        ),
    }
    .map_err(w)?;
    let signed_line = report.last_signed.map_or(0, |(_, line)| line);
    let ends = report
        .program_ends
        .iter()
        .filter(|&&l| l > signed_line)
        .count();
    if ends > 0 {
        writeln!(
            out,
            "  {ends} record(s) after it are each signed with the key its ceremony's signed \
             record certified (how an exec's program ended; what an unlocked agent handed out \
             or refused, and why it sealed)"
        )
        .map_err(w)?;
    }
    let tail = report.unsigned_tail();
    if tail > 0 {
        writeln!(
            out,
            "  {tail} record(s) after the last signed record (normal for a failed, abandoned or \
             running ceremony, or an audit repair; they are protected only by the hash chain):"
        )
        .map_err(w)?;
        for c in report.tail_ceremonies() {
            writeln!(
                out,
                "    ceremony {} ({}, started {} on {}): {}",
                c.id,
                c.action,
                c.started,
                c.host,
                c.status()
            )
            .map_err(w)?;
        }
    }
    if checked.kept.is_some() && report.problems.is_empty() {
        writeln!(
            out,
            "  the anchored head is present and unchanged (the head you kept)"
        )
        .map_err(w)?;
    }
    if report.problems.is_empty() {
        writeln!(
            out,
            "Intact: every line parses, seq is continuous, the hash chain holds and every \
             signature verifies{}",
            if checked.anchor.is_some() {
                "; the log holds the head the vault anchors, so no record up to it was removed."
            } else {
                ". Nothing anchors the log yet: until a successful ceremony does, records \
                 removed from its end go unnoticed."
            }
        )
        .map_err(w)?;
        Ok(())
    } else {
        writeln!(out, "NOT INTACT: {} problem(s):", report.problems.len()).map_err(w)?;
        for p in &report.problems {
            writeln!(out, "  {p}").map_err(w)?;
        }
        verdict(&checked)
    }
}

pub fn show(args: AuditShowArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let path = audit::log_path(&args.vault);
    if args.raw {
        return match audit::read_log(&path)? {
            Some(bytes) => out.write_all(&bytes).map_err(w),
            None => Ok(()),
        };
    }
    let vault = store::load(&args.vault)?;
    let bytes = audit::read_log(&path)?.unwrap_or_default();
    let report = audit::inspect_bytes(&bytes, vault.public_key());
    if args.json {
        return show_json(&path, &bytes, &report, out).map_err(w);
    }
    if report.records == 0 {
        writeln!(out, "The audit log {} is empty.", path.display()).map_err(w)?;
    } else {
        writeln!(
            out,
            "{:>5}  {:>5}  {:<20}  {:<12}  {:<16}  event",
            "line", "seq", "time (UTC)", "host", "ceremony"
        )
        .map_err(w)?;
        let mut recs = report.lines.iter().peekable();
        for line in 1..=report.records {
            match recs.peek() {
                Some((l, r)) if *l == line => {
                    writeln!(
                        out,
                        "{:>5}  {:>5}  {:<20}  {:<12}  {:<16}  {}",
                        line,
                        r.seq,
                        r.time,
                        r.host,
                        r.ceremony,
                        r.describe()
                    )
                    .map_err(w)?;
                    recs.next();
                }
                _ => writeln!(out, "{line:>5}  (not a readable record)").map_err(w)?,
            }
        }
    }
    if report.problems.is_empty() {
        writeln!(out, "Chain intact ({} record(s)).", report.records).map_err(w)?;
    } else {
        let truncated = report
            .problems
            .iter()
            .any(|p| matches!(p, Problem::Truncated { .. }));
        writeln!(
            out,
            "WARNING: {} problem(s){}; run `custody audit verify` for details.",
            report.problems.len(),
            if truncated {
                " (the file is truncated)"
            } else {
                ""
            }
        )
        .map_err(w)?;
    }
    Ok(())
}

/// `custody-audit-show/1`, written record by record (a log of 64 MiB is never held as one
/// document): each complete line's number, its event in words and the record it stores
/// (null for a line that is not a readable record), then the summary.
fn show_json(
    path: &Path,
    bytes: &[u8],
    report: &AuditReport,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    write!(
        out,
        "{{\"format\":\"custody-audit-show/1\",\"ok\":{},\"log\":{},\"records\":[",
        report.problems.is_empty(),
        Value::from(path.display().to_string())
    )?;
    let mut recs = report.lines.iter().peekable();
    for (i, raw) in bytes
        .split(|&b| b == b'\n')
        .take(report.records)
        .enumerate()
    {
        let line = i + 1;
        if i > 0 {
            out.write_all(b",")?;
        }
        // A line read as a record is JSON; re-written compact (a hand-edited line may carry
        // a carriage return or other white space between its fields).
        let stored = match recs.peek() {
            Some((l, r)) if *l == line => {
                recs.next();
                serde_json::from_slice::<Value>(raw)
                    .ok()
                    .map(|v| (r.describe(), v))
            }
            _ => None,
        };
        match stored {
            Some((event, record)) => {
                write!(
                    out,
                    "{{\"line\":{line},\"event\":{},\"stored\":",
                    Value::from(event)
                )?;
                serde_json::to_writer(&mut *out, &record)?;
                out.write_all(b"}")?;
            }
            None => write!(out, "{{\"line\":{line},\"event\":null,\"stored\":null}}")?,
        }
    }
    let truncated = report
        .problems
        .iter()
        .any(|p| matches!(p, Problem::Truncated { .. }));
    let problems: Vec<String> = report.problems.iter().map(|p| p.to_string()).collect();
    writeln!(
        out,
        "],\"truncated\":{truncated},\"problems\":{}}}",
        Value::from(problems)
    )
}

pub fn repair(args: AuditRepairArgs, clock: Clock, out: &mut dyn Write) -> Result<(), CliError> {
    let path = audit::log_path(&args.vault);
    match audit_repair::repair(&args.vault, clock).map_err(CliError::Repair)? {
        Repair::Missing => writeln!(
            out,
            "There is no audit log at {} yet: nothing to repair; nothing was changed.",
            path.display()
        )
        .map_err(w),
        Repair::Intact { records } => writeln!(
            out,
            "The audit log {} is intact ({records} record(s)): nothing to repair; nothing was \
             changed.",
            path.display()
        )
        .map_err(w),
        Repair::Repaired {
            removed_bytes,
            copy,
            head,
        } => {
            writeln!(
                out,
                "Audit log {}: removed the torn final line ({removed_bytes} bytes) that an \
                 interrupted write left.",
                path.display()
            )
            .map_err(w)?;
            writeln!(
                out,
                "  the damaged log is kept as {} (mode 0600): keep it with your records",
                copy.display()
            )
            .map_err(w)?;
            writeln!(
                out,
                "  the repair is recorded in the log (not signed: no quorum was present); \
                 head: {head}"
            )
            .map_err(w)?;
            let vault = store::load(&args.vault)?;
            let report = audit::verify(&path, vault.public_key())?;
            writeln!(
                out,
                "Intact: {} record(s); the hash chain holds and every signature verifies. \
                 Ceremonies are recorded again.",
                report.records
            )
            .map_err(w)
        }
    }
}
