//! `custody creds`: add and rotate credentials without a quorum (secret fields from a hidden
//! prompt or a JSON object, sealed at once to the vault's age recipient), list and status
//! (metadata, rotation age, tampering), and the quorum commands show --reveal (break-glass),
//! remove and rename. Every write goes through `store::update` (lock, re-read, replace).

use std::io::{IsTerminal, Write};
use std::path::Path;

use serde_json::json;

use super::ratify::{describe, ratify_in};
use super::{
    CliError, CredAddArgs, CredListArgs, CredRemoveArgs, CredRenameArgs, CredRotateArgs,
    CredShowArgs, CredsArgs, CredsCommand, QuorumArgs, SecretFieldArgs, quorum_open, secret_input,
};
use custody::audit;
use custody::keys::DerivedKeys;
use custody::timefmt;
use custody::vault::credential::{
    self, Credential, FieldName, Pending, Scope, check_exchange, check_name, check_text,
    parse_date, parse_scopes, required_fields,
};
use custody::vault::ratify::{EntryState, RecordState};
use custody::vault::seal::{self, SecretFields};
use custody::vault::store::{self, OnRollback};
use custody::vault::{Vault, sidecar};

fn w(e: std::io::Error) -> CliError {
    CliError::Terminal(e.to_string())
}

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
        Some(p) if p == Path::new("-") => SecretFields::from_json(&secret_input::stdin_all()?)?,
        Some(p) => {
            let bytes = zeroize::Zeroizing::new(
                std::fs::read(p)
                    .map_err(|e| CliError::Usage(format!("cannot read {}: {e}", p.display())))?,
            );
            SecretFields::from_json(&bytes)?
        }
        None => {
            if !std::io::stdin().is_terminal() {
                return Err(CliError::Usage(
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

fn check_expires(e: &Option<String>) -> Result<(), CliError> {
    if let Some(e) = e {
        parse_date(e)?;
    }
    Ok(())
}

fn add(a: CredAddArgs, out: &mut dyn Write) -> Result<(), CliError> {
    check_name(&a.name)?;
    let exchange = check_exchange(&a.exchange)?;
    let scope = parse_scopes(&a.scope)?;
    check_expires(&a.expires)?;
    check_text("account", &a.account)?;
    check_text("note", &a.note)?;
    check_text("IP allow-list note", &a.ip_allowlist)?;
    let fields = read_fields(&a.secrets, &exchange, &a.name)?;
    store::update(&a.vault, OnRollback::Refuse, |vault: &mut Vault, _| {
        if vault.credentials.get(&a.name).is_some() {
            return Err(CliError::Refused(format!(
                "credential `{}` already exists: replace its secret with `custody creds rotate {}`, \
                 or choose another name",
                a.name, a.name
            )));
        }
        if let Some(other) = vault.credentials.clash(&a.name) {
            return Err(CliError::Refused(format!(
                "the name `{}` gives the same variable names as the existing credential `{other}`; \
                 choose another name",
                a.name
            )));
        }
        let now = super::clock().now();
        let mut c = Credential {
            name: a.name.clone(),
            exchange: exchange.clone(),
            account: a.account.clone(),
            scope: scope.clone(),
            ip_allowlist: a.ip_allowlist.clone(),
            created: now,
            rotated: now,
            expires: a.expires.clone(),
            note: a.note.clone(),
            fields: fields.present(),
            sealed: String::new(),
            pending: Some(Pending::Added),
        };
        c.sealed = seal::seal(&vault.vault_id, &c, &fields, &vault.public.age_recipient)?;
        vault.credentials.entries.push(c);
        Ok(())
    })?;
    drop(fields);
    writeln!(
        out,
        "Added credential {} ({exchange}, scope {}); its secret fields are sealed to the vault's \
         age key.",
        a.name,
        scope
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(",")
    )
    .map_err(w)?;
    writeln!(
        out,
        "It is unratified: `custody exec` hands it out only after a quorum ratifies it \
         (custody drill --vault {} --ratify, or exec --ratify).",
        a.vault.display()
    )
    .map_err(w)?;
    if scope.contains(&Scope::Withdraw) {
        writeln!(
            out,
            "warning: this credential can withdraw funds; exec will need --allow-withdraw"
        )
        .map_err(w)?;
    }
    Ok(())
}

fn rotate(a: CredRotateArgs, out: &mut dyn Write) -> Result<(), CliError> {
    check_name(&a.name)?;
    let scope = a.scope.as_deref().map(parse_scopes).transpose()?;
    check_expires(&a.expires)?;
    for (what, t) in [("note", &a.note), ("IP allow-list note", &a.ip_allowlist)] {
        if let Some(t) = t {
            check_text(what, t)?;
        }
    }
    // The exchange decides which fields are needed; read it (no lock needed to look).
    let exchange = store::load(&a.vault)?
        .credentials
        .get(&a.name)
        .map(|c| c.exchange.clone())
        .ok_or_else(|| not_found(&a.name))?;
    let fields = read_fields(&a.secrets, &exchange, &a.name)?;
    store::update(&a.vault, OnRollback::Refuse, |vault: &mut Vault, seen| {
        let state = vault
            .assess(seen)
            .state_of(vault, &a.name)
            .cloned()
            .ok_or_else(|| not_found(&a.name))?;
        if state.is_tampered() {
            return Err(CliError::Refused(format!(
                "credential `{}` was changed outside custody ({}); a quorum must look at it \
                 first: restore the vault from `<vault>.bak`, or remove the entry (quorum) and add \
                 it again",
                a.name,
                state.describe()
            )));
        }
        let vault_id = vault.vault_id;
        let recipient = vault.public.age_recipient.clone();
        let c = vault
            .credentials
            .get_mut(&a.name)
            .ok_or_else(|| not_found(&a.name))?;
        if let Some(s) = &scope {
            c.scope = s.clone();
        }
        if a.expires.is_some() {
            c.expires = a.expires.clone();
        }
        if let Some(n) = &a.note {
            c.note = n.clone();
        }
        if let Some(n) = &a.ip_allowlist {
            c.ip_allowlist = n.clone();
        }
        c.rotated = super::clock().now().max(c.created);
        c.fields = fields.present();
        c.pending = Some(if c.pending == Some(Pending::Added) {
            Pending::Added
        } else {
            Pending::Rotated
        });
        c.sealed = seal::seal(&vault_id, c, &fields, &recipient)?;
        Ok(())
    })?;
    drop(fields);
    writeln!(
        out,
        "Rotated credential {} on {}. It is unratified until a quorum ratifies it \
         (custody drill --vault {} --ratify); until then exec refuses it.",
        a.name,
        timefmt::date(super::clock().now()),
        a.vault.display()
    )
    .map_err(w)?;
    writeln!(
        out,
        "Revoke the old key at the exchange once the bots run with the new one."
    )
    .map_err(w)?;
    Ok(())
}

fn not_found(name: &str) -> CliError {
    CliError::Refused(format!(
        "no credential `{name}` in the vault (`custody creds list` shows them)"
    ))
}

struct Row<'a> {
    c: &'a Credential,
    state: &'a EntryState,
    age_days: u64,
    overdue: bool,
    expired: bool,
}

fn rows<'a>(vault: &'a Vault, states: &'a [EntryState], now: u64) -> Vec<Row<'a>> {
    vault
        .credentials
        .entries
        .iter()
        .zip(states)
        .map(|(c, state)| {
            let age_days = c.age_days(now);
            Row {
                c,
                state,
                age_days,
                overdue: age_days > u64::from(vault.credentials.rotation_days),
                expired: c.is_expired(now),
            }
        })
        .collect()
}

fn list(a: CredListArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let vault = store::load(&a.vault)?;
    let assessment = vault.assess(sidecar::read(&a.vault));
    let now = super::clock().now();
    let rows = rows(&vault, &assessment.entries, now);
    if a.json {
        let list: Vec<_> = rows.iter().map(|r| row_json(r)).collect();
        writeln!(out, "{}", json!({ "ok": true, "credentials": list })).map_err(w)?;
        return Ok(());
    }
    if rows.is_empty() {
        writeln!(out, "No credentials in {}.", a.vault.display()).map_err(w)?;
    }
    for r in &rows {
        writeln!(out, "{} [{}]", describe(r.c), r.state.describe()).map_err(w)?;
    }
    for m in &vault.credentials.malformed {
        writeln!(out, "{} [MALFORMED: {}]", m.name, m.problem).map_err(w)?;
    }
    Ok(())
}

fn row_json(r: &Row<'_>) -> serde_json::Value {
    json!({
        "name": r.c.name,
        "exchange": r.c.exchange,
        "account": r.c.account,
        "scope": r.c.scope.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
        "fields": r.c.fields.iter().map(|f| f.as_str()).collect::<Vec<_>>(),
        "ip_allowlist": r.c.ip_allowlist,
        "note": r.c.note,
        "created": timefmt::rfc3339(r.c.created),
        "rotated": timefmt::rfc3339(r.c.rotated),
        "expires": r.c.expires,
        "age_days": r.age_days,
        "overdue": r.overdue,
        "expired": r.expired,
        "withdraw": r.c.has_scope(Scope::Withdraw),
        "ratified": *r.state == EntryState::Ratified,
        "state": r.state.describe(),
        "tampered": r.state.is_tampered(),
    })
}

fn status(a: CredListArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let vault = store::load(&a.vault)?;
    let assessment = vault.assess(sidecar::read(&a.vault));
    let now = super::clock().now();
    let rows = rows(&vault, &assessment.entries, now);
    let problems = assessment.tamper_lines(&vault);
    let days = vault.credentials.rotation_days;
    let (record, generation) = match assessment.record {
        RecordState::Never => ("never ratified", 0),
        RecordState::Valid { generation } => ("valid", generation),
        RecordState::Invalid => ("INVALID", vault.credentials.generation()),
    };
    if a.json {
        let obj = json!({
            "ok": problems.is_empty(),
            "rotation_days": days,
            "ratification": record,
            "generation": generation,
            "revision": vault.credentials.revision,
            "credentials": rows.iter().map(row_json).collect::<Vec<_>>(),
            "unratified": rows.iter().filter(|r| matches!(r.state, EntryState::Pending(_) | EntryState::Unverified)).map(|r| r.c.name.as_str()).collect::<Vec<_>>(),
            "overdue": rows.iter().filter(|r| r.overdue).map(|r| r.c.name.as_str()).collect::<Vec<_>>(),
            "expired": rows.iter().filter(|r| r.expired).map(|r| r.c.name.as_str()).collect::<Vec<_>>(),
            "withdraw_scoped": rows.iter().filter(|r| r.c.has_scope(Scope::Withdraw)).map(|r| r.c.name.as_str()).collect::<Vec<_>>(),
            "deleted": assessment.deleted,
            "malformed": assessment.malformed.iter().map(|(n, p)| json!({"name": n, "problem": p})).collect::<Vec<_>>(),
            "rollback": assessment.rollback.map(|r| r.to_string()),
            "problems": problems,
        });
        writeln!(out, "{obj}").map_err(w)?;
        return if problems.is_empty() {
            Ok(())
        } else {
            Err(CliError::StatusProblems(problems.len()))
        };
    }
    writeln!(
        out,
        "{} credential(s); rotation policy {days} days; ratification {record} (generation {generation}).",
        rows.len()
    )
    .map_err(w)?;
    for r in &rows {
        let mut flags = Vec::new();
        if r.overdue {
            flags.push(format!("OVERDUE (policy {days} days)"));
        }
        if r.expired {
            flags.push("EXPIRED".to_owned());
        }
        if r.c.has_scope(Scope::Withdraw) {
            flags.push("WITHDRAW-SCOPED".to_owned());
        }
        writeln!(
            out,
            "  {:<24} {:<9} rotated {} ({} days ago){}  [{}]{}",
            r.c.name,
            r.c.exchange,
            timefmt::date(r.c.rotated),
            r.age_days,
            r.c.expires
                .as_ref()
                .map(|e| format!(", expires {e}"))
                .unwrap_or_default(),
            r.state.describe(),
            if flags.is_empty() {
                String::new()
            } else {
                format!("  {}", flags.join(", "))
            }
        )
        .map_err(w)?;
    }
    let unratified = rows
        .iter()
        .filter(|r| matches!(r.state, EntryState::Pending(_) | EntryState::Unverified))
        .count();
    if unratified > 0 {
        writeln!(
            out,
            "{unratified} credential(s) unratified: a quorum ratifies them with \
             `custody drill --vault {} --ratify`.",
            a.vault.display()
        )
        .map_err(w)?;
    }
    for p in &problems {
        writeln!(out, "PROBLEM: {p}").map_err(w)?;
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

fn show(a: CredShowArgs, out: &mut dyn Write) -> Result<(), CliError> {
    if !a.reveal {
        if quorum_given(&a.quorum) {
            return Err(CliError::Usage(
                "shares are needed only with --reveal; without it show prints metadata only".into(),
            ));
        }
        let vault = store::load(&a.vault)?;
        let assessment = vault.assess(sidecar::read(&a.vault));
        let c = vault
            .credentials
            .get(&a.name)
            .ok_or_else(|| not_found(&a.name))?;
        let state = assessment.state_of(&vault, &a.name).expect("entry exists");
        writeln!(out, "{} [{}]", describe(c), state.describe()).map_err(w)?;
        writeln!(out, "  created {}", timefmt::rfc3339(c.created)).map_err(w)?;
        writeln!(out, "  rotated {}", timefmt::rfc3339(c.rotated)).map_err(w)?;
        if !c.note.is_empty() {
            writeln!(out, "  note    {}", c.note).map_err(w)?;
        }
        return Ok(());
    }
    let quorum_open::Recorded {
        unlocked,
        hardening,
        audit,
        ..
    } = quorum_open::open_recorded(
        &a.vault,
        "creds show --reveal",
        &a.quorum.shares,
        &a.quorum.passphrase,
    )?;
    if a.quorum.ratify {
        super::ratify::ratify(&a.vault, &unlocked.keys, out)?;
    }
    let vault = store::load(&a.vault)?;
    let assessment = vault.assess(sidecar::read(&a.vault));
    let c = vault
        .credentials
        .get(&a.name)
        .ok_or_else(|| not_found(&a.name))?;
    let state = assessment.state_of(&vault, &a.name).expect("entry exists");
    let fields = match seal::open(&vault.vault_id, c, unlocked.keys.age_identity()) {
        Ok(f) => f,
        Err(e) => {
            audit.fail(&e.to_string())?;
            return Err(e.into());
        }
    };
    audit.credentials_opened(std::slice::from_ref(&a.name))?;
    audit.succeed(&unlocked.keys, "break-glass: one credential revealed")?;
    drop(unlocked);
    eprintln!(
        "WARNING: break-glass. The secret fields of `{}` follow on standard output. Anyone who \
         sees them can use the exchange key: clear the screen, and rotate the key at the \
         exchange (then `custody creds rotate {}`) if it may have been exposed.",
        a.name, a.name
    );
    if *state != EntryState::Ratified {
        eprintln!("warning: this credential is {}", state.describe());
    }
    for l in assessment.tamper_lines(&vault) {
        eprintln!("warning: {l}");
    }
    writeln!(out, "{}", describe(c)).map_err(w)?;
    for n in FieldName::ALL {
        if let Some(v) = fields.get(n) {
            writeln!(out, "{}: {v}", n.as_str()).map_err(w)?;
        }
    }
    drop(fields);
    for warning in hardening.warnings() {
        eprintln!("warning: {warning}");
    }
    Ok(())
}

/// Quorum edits need a record that verifies and no rollback, unless they ratify too.
fn check_record(vault: &Vault, seen: Option<sidecar::Seen>, ratify: bool) -> Result<(), CliError> {
    let a = vault.assess(seen);
    if ratify {
        return Ok(());
    }
    if let Some(r) = a.rollback {
        return Err(CliError::Refused(format!(
            "{r}; or re-run this command with --ratify"
        )));
    }
    if a.record == RecordState::Invalid {
        return Err(CliError::Refused(
            "the quorum's ratification record does not verify (edited outside custody): re-run \
             this command with --ratify to review and re-sign every credential"
                .into(),
        ));
    }
    Ok(())
}

/// Record a quorum edit in the audit log: success with `summary`, or the edit's error, which
/// is then returned.
fn record_outcome(
    audit: audit::Ceremony,
    keys: &DerivedKeys,
    updated: Result<(), CliError>,
    summary: &str,
) -> Result<(), CliError> {
    match updated {
        Ok(()) => {
            audit.succeed(keys, summary)?;
        }
        Err(e) => {
            audit.fail(&e.to_string())?;
            return Err(e);
        }
    }
    Ok(())
}

fn remove(a: CredRemoveArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let quorum_open::Recorded {
        unlocked,
        hardening,
        audit,
        ..
    } = quorum_open::open_recorded(
        &a.vault,
        "creds remove",
        &a.quorum.shares,
        &a.quorum.passphrase,
    )?;
    let keys = &unlocked.keys;
    let updated = store::update(&a.vault, OnRollback::Allow, |vault: &mut Vault, seen| {
        check_record(vault, seen, a.quorum.ratify)?;
        let valid = vault.assess(seen).record != RecordState::Invalid;
        let listed = vault.ratified_list();
        let was_listed = listed.iter().any(|(n, _)| *n == a.name);
        if !vault.credentials.remove(&a.name) && !was_listed {
            return Err(not_found(&a.name));
        }
        if valid {
            let rest = listed.into_iter().filter(|(n, _)| *n != a.name).collect();
            vault.sign_ratification(keys, rest, seen, super::clock().now());
        }
        writeln!(out, "Removed credential {}.", a.name).map_err(w)?;
        if a.quorum.ratify {
            ratify_in(vault, keys, seen, out)?;
        }
        Ok(())
    });
    record_outcome(audit, keys, updated, &format!("creds remove {}", a.name))?;
    writeln!(
        out,
        "Revoke its key at the exchange too; the vault no longer holds it (the previous version \
         stays in `<vault>.bak` until the next write)."
    )
    .map_err(w)?;
    for warning in hardening.warnings() {
        writeln!(out, "warning: {warning}").map_err(w)?;
    }
    Ok(())
}

fn rename(a: CredRenameArgs, out: &mut dyn Write) -> Result<(), CliError> {
    check_name(&a.new_name)?;
    let quorum_open::Recorded {
        unlocked,
        hardening,
        audit,
        ..
    } = quorum_open::open_recorded(
        &a.vault,
        "creds rename",
        &a.quorum.shares,
        &a.quorum.passphrase,
    )?;
    let keys = &unlocked.keys;
    let updated = store::update(&a.vault, OnRollback::Allow, |vault: &mut Vault, seen| {
        check_record(vault, seen, a.quorum.ratify)?;
        let assessment = vault.assess(seen);
        let state = assessment
            .state_of(vault, &a.name)
            .cloned()
            .ok_or_else(|| not_found(&a.name))?;
        if state.is_tampered() {
            return Err(CliError::Refused(format!(
                "credential `{}` was changed outside custody ({}); remove it and add it again \
                 instead of renaming it",
                a.name,
                state.describe()
            )));
        }
        if vault.credentials.get(&a.new_name).is_some()
            || vault
                .credentials
                .clash(&a.new_name)
                .is_some_and(|n| n != a.name)
        {
            return Err(CliError::Refused(format!(
                "a credential named like `{}` already exists; choose another name",
                a.new_name
            )));
        }
        let vault_id = vault.vault_id;
        let old = vault.credentials.get(&a.name).expect("state found").clone();
        let fields = seal::open(&vault_id, &old, keys.age_identity())?;
        let mut new = old.clone();
        new.name = a.new_name.clone();
        new.pending = match (&state, old.pending) {
            (EntryState::Ratified, _) => None,
            _ => Some(Pending::Added),
        };
        new.sealed = seal::seal(&vault_id, &new, &fields, &vault.public.age_recipient)?;
        drop(fields);
        let digest = new.digest(&vault_id);
        *vault.credentials.get_mut(&a.name).expect("state found") = new;
        if assessment.record != RecordState::Invalid {
            let mut listed: Vec<_> = vault
                .ratified_list()
                .into_iter()
                .filter(|(n, _)| *n != a.name)
                .collect();
            if state == EntryState::Ratified {
                listed.push((a.new_name.clone(), digest));
            }
            vault.sign_ratification(keys, listed, seen, super::clock().now());
        }
        writeln!(out, "Renamed credential {} to {}.", a.name, a.new_name).map_err(w)?;
        if a.quorum.ratify {
            ratify_in(vault, keys, seen, out)?;
        }
        Ok(())
    });
    record_outcome(audit, keys, updated, &format!("creds rename {}", a.name))?;
    writeln!(
        out,
        "Bots now receive it as {}_API_KEY etc.; update their configuration.",
        credential::env_prefix(&a.new_name)
    )
    .map_err(w)?;
    for warning in hardening.warnings() {
        writeln!(out, "warning: {warning}").map_err(w)?;
    }
    Ok(())
}
