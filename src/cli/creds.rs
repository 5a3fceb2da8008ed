//! `custody creds`: the command line over `custody::ops::creds`. It reads the secret fields
//! (a hidden prompt or a JSON object), gathers the quorum for show --reveal (break-glass),
//! remove and rename, calls the operation and prints its report; the operations check,
//! seal and write (through `store::update`: lock, re-read, replace).

use std::io::{IsTerminal, Write};
use std::path::Path;

use serde_json::{Map, Value, json};

use super::ratify::{describe, print_ratified};
use super::{
    CliError, CredAddArgs, CredListArgs, CredRemoveArgs, CredRenameArgs, CredRotateArgs,
    CredShowArgs, CredsArgs, CredsCommand, QuorumArgs, SecretFieldArgs, quorum_open, secret_input,
    secret_json,
};
use custody::ops::creds::{self, NewCredential, Rotation, Row};
use custody::ops::ratify::Consent;
use custody::timefmt;
use custody::vault::credential::{Credential, FieldName, Scope, check_name, required_fields};
use custody::vault::ratify::{EntryState, RecordState};
use custody::vault::seal::SecretFields;

pub fn run(args: CredsArgs, out: &mut dyn Write) -> Result<(), CliError> {
    match args.command {
        CredsCommand::Add(a) => add(a, out),
        CredsCommand::Rotate(a) => rotate(a, out),
        CredsCommand::List(a) => list(a, out),
        CredsCommand::Status(a) => status(a, out),
        CredsCommand::Show(a) => show(a, out),
        CredsCommand::Remove(a) => remove(a, out),
        CredsCommand::Rename(a) => rename(a, out),
    }
}

/// The secret fields, from `--from-json FILE|-` or else hidden prompts at the terminal.
fn read_fields(
    src: &SecretFieldArgs,
    exchange: &str,
    name: &str,
) -> Result<SecretFields, CliError> {
    let fields = match &src.from_json {
        Some(p) if p == Path::new("-") => SecretFields::from_json(&secret_input::stdin_all(
            "the credential JSON on standard input",
            secret_input::MAX_CREDENTIAL_JSON,
        )?)?,
        Some(p) => {
            // A regular file or a pipe (`--from-json <(pass show x)`), links followed, up to
            // the cap; a device or a folder is refused without reading.
            use custody::safe_file::{self, FileError, ReadRules, Refusal};
            let rules = ReadRules::named(secret_input::MAX_CREDENTIAL_JSON).or_pipe();
            let bytes = safe_file::read(p, rules).map_err(|e| match e {
                FileError::Io(source) => CliError::Read {
                    path: p.clone(),
                    source,
                },
                FileError::Refused(Refusal::TooLarge { limit }) => CliError::TooLarge {
                    what: "the credential JSON file",
                    limit,
                },
                FileError::Refused(problem) => CliError::Refused {
                    path: p.clone(),
                    problem,
                },
            })?;
            SecretFields::from_json(&bytes)?
        }
        None => {
            if !std::io::stdin().is_terminal() {
                return Err(CliError::NoTerminal(
                    "no terminal to ask for the secret fields: give them as a JSON object with \
                     --from-json FILE or --from-json - (standard input); never as flags"
                        .into(),
                ));
            }
            prompt_fields(exchange, name)?
        }
    };
    fields.check_for(exchange)?;
    Ok(fields)
}

fn prompt_fields(exchange: &str, name: &str) -> Result<SecretFields, CliError> {
    let mut fields = SecretFields::default();
    let required: Vec<FieldName> = required_fields(exchange)
        .iter()
        .map(|alts| alts[0])
        .collect();
    for n in FieldName::ALL {
        if n == FieldName::PrivateKeyPem {
            continue; // multi-line: only through --from-json
        }
        let needed = required.contains(&n);
        let prompt = format!(
            "{} for {name} ({exchange}){}: ",
            n.as_str(),
            if needed { "" } else { " — Enter to skip" }
        );
        let v = secret_input::prompt_hidden(&prompt)?;
        if v.is_empty() {
            if needed {
                return Err(CliError::Usage(format!(
                    "{} is needed for a {exchange} credential; nothing was written",
                    n.as_str()
                )));
            }
            continue;
        }
        fields.set(n, v.to_string());
    }
    if fields.present().is_empty() {
        return Err(CliError::Usage(
            "no secret field given; nothing was written".into(),
        ));
    }
    Ok(fields)
}

fn scope_list(scope: &[custody::vault::credential::Scope]) -> String {
    scope
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

fn add(a: CredAddArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let new = NewCredential {
        name: a.name,
        exchange: a.exchange,
        account: a.account,
        scope: a.scope,
        expires: a.expires,
        note: a.note,
        ip_allowlist: a.ip_allowlist,
    };
    // Check the arguments before asking for any secret.
    let checked = new.check()?;
    let fields = read_fields(&a.secrets, &checked.exchange, &new.name)?;
    let added = creds::add(&a.vault, &new, &fields, super::clock())?;
    drop(fields);
    writeln!(
        out,
        "Added credential {} ({}, scope {}); its secret fields are sealed to the vault's \
         age key.",
        added.name,
        added.exchange,
        scope_list(&added.scope)
    )?;
    writeln!(
        out,
        "It is unratified: `custody exec` hands it out only after a quorum ratifies it \
         (custody drill --vault {} --ratify, or exec --ratify).",
        a.vault.display()
    )?;
    if added.withdraw {
        writeln!(
            out,
            "warning: this credential can withdraw funds; exec will need --allow-withdraw"
        )?;
    }
    Ok(())
}

fn rotate(a: CredRotateArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let rotation = Rotation {
        name: a.name,
        scope: a.scope,
        expires: a.expires,
        note: a.note,
        ip_allowlist: a.ip_allowlist,
    };
    rotation.check()?;
    // The exchange decides which fields are needed.
    let exchange = creds::exchange_of(&a.vault, &rotation.name)?;
    let fields = read_fields(&a.secrets, &exchange, &rotation.name)?;
    let rotated = creds::rotate(&a.vault, &rotation, &fields, super::clock())?;
    drop(fields);
    writeln!(
        out,
        "Rotated credential {} on {}. It is unratified until a quorum ratifies it \
         (custody drill --vault {} --ratify); until then exec refuses it.",
        rotated.name,
        timefmt::date(rotated.rotated),
        a.vault.display()
    )?;
    writeln!(
        out,
        "Revoke the old key at the exchange once the bots run with the new one."
    )?;
    Ok(())
}

fn list(a: CredListArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let status = creds::status(&a.vault, super::clock())?;
    if a.json {
        let list: Vec<_> = status.rows.iter().map(row_json).collect();
        let malformed: Vec<_> = status
            .malformed
            .iter()
            .map(|(n, p)| json!({"name": n, "problem": p}))
            .collect();
        let doc = json!({
            "format": "custody-creds-list/1",
            "ok": true,
            "credentials": list,
            "malformed": malformed,
        });
        writeln!(out, "{doc}")?;
        return Ok(());
    }
    if status.rows.is_empty() {
        writeln!(out, "No credentials in {}.", a.vault.display())?;
    }
    for r in &status.rows {
        writeln!(out, "{} [{}]", describe(&r.credential), r.state.describe())?;
    }
    for (name, problem) in &status.malformed {
        writeln!(out, "{name} [MALFORMED: {problem}]")?;
    }
    Ok(())
}

fn row_json(r: &Row) -> serde_json::Value {
    let c = &r.credential;
    json!({
        "name": c.name,
        "exchange": c.exchange,
        "account": c.account,
        "scope": c.scope.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
        "fields": c.fields.iter().map(|f| f.as_str()).collect::<Vec<_>>(),
        "ip_allowlist": c.ip_allowlist,
        "note": c.note,
        "created": timefmt::rfc3339(c.created),
        "rotated": timefmt::rfc3339(c.rotated),
        "expires": c.expires,
        "age_days": r.age_days,
        "overdue": r.overdue,
        "expired": r.expired,
        "sealed_before_rotation": r.sealed_before_rotation.map(timefmt::rfc3339),
        "withdraw": r.withdraw(),
        "ratified": r.state == EntryState::Ratified,
        "state": r.state.describe(),
        "tampered": r.state.is_tampered(),
    })
}

fn status(a: CredListArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let s = creds::status(&a.vault, super::clock())?;
    let days = s.rotation_days;
    let record = match s.record {
        RecordState::Never => "never ratified",
        RecordState::Valid { .. } => "valid",
        RecordState::Invalid => "INVALID",
    };
    let problems = &s.problems;
    if a.json {
        let obj = json!({
            "format": "custody-creds-status/1",
            "ok": problems.is_empty(),
            "rotation_days": days,
            "ratification": record,
            "generation": s.generation,
            "revision": s.revision,
            "credentials": s.rows.iter().map(row_json).collect::<Vec<_>>(),
            "unratified": s.unratified,
            "overdue": s.overdue,
            "expired": s.expired,
            "rotate_at_exchange": s.rotate_at_exchange,
            "withdraw_scoped": s.withdraw_scoped,
            "deleted": s.deleted,
            "malformed": s.malformed.iter().map(|(n, p)| json!({"name": n, "problem": p})).collect::<Vec<_>>(),
            "rollback": s.rollback.map(|r| r.to_string()),
            "agent_policy_pending": s.access_pending.iter().map(|c| c.describe()).collect::<Vec<_>>(),
            "problems": problems,
        });
        writeln!(out, "{obj}")?;
        return if problems.is_empty() {
            Ok(())
        } else {
            Err(CliError::StatusProblems(problems.len()))
        };
    }
    writeln!(
        out,
        "{} credential(s); rotation policy {days} days; ratification {record} (generation {}).",
        s.rows.len(),
        s.generation
    )?;
    for r in &s.rows {
        let c = &r.credential;
        let mut flags = Vec::new();
        if r.overdue {
            flags.push(format!("OVERDUE (policy {days} days)"));
        }
        if r.expired {
            flags.push("EXPIRED".to_owned());
        }
        if let Some(at) = r.sealed_before_rotation {
            flags.push(format!(
                "ROTATE AT EXCHANGE (sealed before master rotation on {})",
                timefmt::date(at)
            ));
        }
        if r.withdraw() {
            flags.push("WITHDRAW-SCOPED".to_owned());
        }
        writeln!(
            out,
            "  {:<24} {:<9} rotated {} ({} days ago){}  [{}]{}",
            c.name,
            c.exchange,
            timefmt::date(c.rotated),
            r.age_days,
            c.expires
                .as_ref()
                .map(|e| format!(", expires {e}"))
                .unwrap_or_default(),
            r.state.describe(),
            if flags.is_empty() {
                String::new()
            } else {
                format!("  {}", flags.join(", "))
            }
        )?;
    }
    if !s.unratified.is_empty() {
        writeln!(
            out,
            "{} credential(s) unratified: a quorum ratifies them with \
             `custody drill --vault {} --ratify`.",
            s.unratified.len(),
            a.vault.display()
        )?;
    }
    super::ratify::print_access_changes(
        &format!(
            "{} agent access policy change(s) await ratification (a quorum ratifies them with \
             `custody drill --vault {} --ratify`):",
            s.access_pending.len(),
            a.vault.display()
        ),
        &s.access_pending,
        out,
    )?;
    if !s.rotate_at_exchange.is_empty() {
        writeln!(
            out,
            "{} exchange key(s) were readable with the retired master's shares: rotate each at \
             its exchange, then `custody creds rotate --vault {} NAME`.",
            s.rotate_at_exchange.len(),
            a.vault.display()
        )?;
    }
    for p in problems {
        writeln!(out, "PROBLEM: {p}")?;
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(CliError::StatusProblems(problems.len()))
    }
}

fn quorum_given(q: &QuorumArgs) -> bool {
    !q.shares.shares.is_empty() || q.shares.words_stdin || q.ratify
}

/// The public part of `custody-creds-show/1`: the entry's metadata and state.
fn show_json(
    c: &Credential,
    state: &EntryState,
    revealed: bool,
    ratification: &str,
    warnings: &[String],
) -> Map<String, Value> {
    let doc = json!({
        "format": "custody-creds-show/1",
        "ok": true,
        "name": c.name,
        "exchange": c.exchange,
        "account": c.account,
        "scope": c.scope.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
        "fields": c.fields.iter().map(|f| f.as_str()).collect::<Vec<_>>(),
        "ip_allowlist": c.ip_allowlist,
        "note": c.note,
        "created": timefmt::rfc3339(c.created),
        "rotated": timefmt::rfc3339(c.rotated),
        "expires": c.expires,
        "withdraw": c.has_scope(Scope::Withdraw),
        "ratified": *state == EntryState::Ratified,
        "state": state.describe(),
        "tampered": state.is_tampered(),
        "revealed": revealed,
        "ratification": ratification,
        "warnings": warnings,
    });
    match doc {
        Value::Object(map) => map,
        _ => unreachable!("json! of an object literal is an object"),
    }
}

fn show(a: CredShowArgs, out: &mut dyn Write) -> Result<(), CliError> {
    if !a.reveal {
        if quorum_given(&a.quorum) {
            return Err(CliError::Usage(
                "shares are needed only with --reveal; without it show prints metadata only".into(),
            ));
        }
        let shown = creds::show(&a.vault, &a.name)?;
        let c = &shown.credential;
        if a.json {
            let doc = show_json(c, &shown.state, false, "", &[]);
            writeln!(out, "{}", Value::Object(doc))?;
            return Ok(());
        }
        writeln!(out, "{} [{}]", describe(c), shown.state.describe())?;
        writeln!(out, "  created {}", timefmt::rfc3339(c.created))?;
        writeln!(out, "  rotated {}", timefmt::rfc3339(c.rotated))?;
        if !c.note.is_empty() {
            writeln!(out, "  note    {}", c.note)?;
        }
        return Ok(());
    }
    let session = quorum_open::open_session(
        &a.vault,
        "creds show --reveal",
        &a.quorum.shares,
        &a.quorum.passphrase,
    )?;
    let mut asking = a.quorum.consent();
    let revealed = creds::reveal(
        session,
        &a.name,
        asking.as_mut().map(|c| c as &mut dyn Consent),
    )?;
    let mut ratification = Vec::new();
    if let Some(r) = &revealed.ratified {
        print_ratified(r, &mut ratification)?;
    }
    let mut warnings = Vec::new();
    if revealed.state != EntryState::Ratified {
        warnings.push(format!("this credential is {}", revealed.state.describe()));
    }
    warnings.extend(revealed.warnings.iter().cloned());
    let mut err = super::escaping::stderr();
    writeln!(
        err,
        "WARNING: break-glass. The secret fields of `{}` follow on standard output. Anyone who \
         sees them can use the exchange key: clear the screen, and rotate the key at the \
         exchange (then `custody creds rotate {}`) if it may have been exposed.",
        a.name, a.name
    )?;
    for l in &warnings {
        writeln!(err, "warning: {l}")?;
    }
    if a.json {
        warnings.extend(revealed.hardening_warnings.iter().cloned());
        let public = show_json(
            &revealed.credential,
            &revealed.state,
            true,
            String::from_utf8_lossy(&ratification).trim_end(),
            &warnings,
        );
        let doc = secret_json::document_with_secrets(&public, "secrets", &revealed.fields);
        out.write_all(&doc)?;
    } else {
        out.write_all(&ratification)?;
        writeln!(out, "{}", describe(&revealed.credential))?;
        for n in FieldName::ALL {
            if let Some(v) = revealed.fields.get(n) {
                writeln!(out, "{}: {v}", n.as_str())?;
            }
        }
    }
    for warning in &revealed.hardening_warnings {
        writeln!(err, "warning: {warning}")?;
    }
    Ok(())
}

fn remove(a: CredRemoveArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let session = quorum_open::open_session(
        &a.vault,
        "creds remove",
        &a.quorum.shares,
        &a.quorum.passphrase,
    )?;
    let mut asking = a.quorum.consent();
    let removed = creds::remove(
        session,
        &a.name,
        asking.as_mut().map(|c| c as &mut dyn Consent),
    )?;
    writeln!(out, "Removed credential {}.", removed.name)?;
    if let Some(r) = &removed.ratified {
        print_ratified(r, out)?;
    }
    writeln!(
        out,
        "Revoke its key at the exchange too; the vault no longer holds it (the previous version \
         stays in `<vault>.bak` until the next write)."
    )?;
    for warning in &removed.hardening_warnings {
        writeln!(out, "warning: {warning}")?;
    }
    Ok(())
}

fn rename(a: CredRenameArgs, out: &mut dyn Write) -> Result<(), CliError> {
    check_name(&a.new_name)?;
    let session = quorum_open::open_session(
        &a.vault,
        "creds rename",
        &a.quorum.shares,
        &a.quorum.passphrase,
    )?;
    let mut asking = a.quorum.consent();
    let renamed = creds::rename(
        session,
        &a.name,
        &a.new_name,
        asking.as_mut().map(|c| c as &mut dyn Consent),
    )?;
    writeln!(
        out,
        "Renamed credential {} to {}.",
        renamed.old, renamed.new
    )?;
    if let Some(r) = &renamed.ratified {
        print_ratified(r, out)?;
    }
    writeln!(
        out,
        "Bots now receive it as {}_API_KEY etc.; update their configuration.",
        renamed.env_prefix
    )?;
    for warning in &renamed.hardening_warnings {
        writeln!(out, "warning: {warning}")?;
    }
    Ok(())
}
