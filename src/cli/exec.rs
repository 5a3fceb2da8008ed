//! `custody exec`: a quorum opens only the named credentials, custody starts the program with
//! them (variables in the child's environment, or one JSON object on its standard input),
//! wipes its own copies, waits, and exits with the child's status (128 + signal if killed).
//! Unratified, tampered, rolled-back or (without --allow-withdraw) withdraw-scoped
//! credentials are refused before anything is opened.

use std::collections::BTreeMap;
use std::io::Write;
use std::process::{Command, Stdio};

use serde::Serialize;
use zeroize::Zeroizing;

use super::{CliError, EnvStyle, ExecArgs, quorum_open, ratify};
use custody::timefmt;
use custody::vault::credential::{Credential, Scope, check_name, env_prefix};
use custody::vault::ratify::{EntryState, RecordState};
use custody::vault::seal::{self, SecretFields};
use custody::vault::{sidecar, store};

fn refused(name: &str, why: impl std::fmt::Display) -> CliError {
    CliError::Refused(format!("credential `{name}`: {why}"))
}

/// The variables for one credential: (name, value) pairs.
fn variables<'a>(style: EnvStyle, c: &Credential, f: &'a SecretFields) -> Vec<(String, &'a str)> {
    let mut out = Vec::new();
    match style {
        EnvStyle::Plain => {
            let p = env_prefix(&c.name);
            let pairs = [
                ("API_KEY", f.api_key.as_deref()),
                ("API_SECRET", f.api_secret.as_deref()),
                ("API_PASSPHRASE", f.passphrase.as_deref()),
                ("API_UID", f.uid.as_deref()),
                ("API_PRIVATE_KEY", f.private_key_pem.as_deref()),
            ];
            for (suffix, v) in pairs {
                if let Some(v) = v {
                    out.push((format!("{p}_{suffix}"), v));
                }
            }
        }
        EnvStyle::Freqtrade => {
            let pairs = [
                ("KEY", f.api_key.as_deref()),
                (
                    "SECRET",
                    f.api_secret.as_deref().or(f.private_key_pem.as_deref()),
                ),
                ("PASSWORD", f.passphrase.as_deref()),
                ("UID", f.uid.as_deref()),
            ];
            for (suffix, v) in pairs {
                if let Some(v) = v {
                    out.push((format!("FREQTRADE__EXCHANGE__{suffix}"), v));
                }
            }
        }
    }
    out
}

#[derive(Serialize)]
struct StdinEntry<'a> {
    exchange: &'a str,
    account: &'a str,
    scope: Vec<&'static str>,
    #[serde(flatten)]
    fields: &'a SecretFields,
}

pub fn run(a: ExecArgs, _out: &mut dyn Write) -> Result<(), CliError> {
    if a.stdin_json {
        quorum_open::refuse_stdin(
            &a.quorum.shares,
            &a.quorum.passphrase,
            "--stdin-json gives standard input to the program",
        )?;
    }
    let mut names: Vec<String> = Vec::new();
    for n in &a.creds {
        check_name(n)?;
        if !names.contains(n) {
            names.push(n.clone());
        }
    }
    if a.env_style == EnvStyle::Freqtrade && names.len() != 1 {
        return Err(CliError::Usage(
            "--env-style freqtrade sets FREQTRADE__EXCHANGE__*, which holds one credential: \
             give exactly one --cred"
                .into(),
        ));
    }
    let program = a.command[0].clone();

    let quorum_open::Recorded {
        unlocked,
        hardening,
        audit,
        ..
    } = quorum_open::open_recorded(&a.vault, "exec", &a.quorum.shares, &a.quorum.passphrase)?;
    let mut err = std::io::stderr();
    let prepared = (|| -> Result<Vec<(Credential, SecretFields)>, CliError> {
        if a.quorum.ratify {
            ratify::ratify(&a.vault, &unlocked.keys, &mut err)?;
        }
        // Re-read: what is opened is what the vault holds now.
        let vault = store::load(&a.vault)?;
        if vault.public != unlocked.keys.public() {
            return Err(CliError::Refused(
                "the vault file changed its keys while the quorum was read; run exec again".into(),
            ));
        }
        let assessment = vault.assess(sidecar::read(&a.vault));
        if let Some(r) = assessment.rollback {
            return Err(CliError::Refused(format!(
                "{r}; or run exec with --ratify to review and re-sign"
            )));
        }
        let now = super::clock().now();
        let mut chosen: Vec<Credential> = Vec::new();
        for name in &names {
            let Some(c) = vault.credentials().get(name) else {
                if assessment.deleted.contains(name) {
                    return Err(refused(
                        name,
                        "it was ratified but is missing from the vault: deleted outside custody. \
                     Restore the vault from `<vault>.bak` or your copy",
                    ));
                }
                if let Some((_, p)) = assessment.malformed.iter().find(|(n, _)| n == name) {
                    return Err(refused(
                        name,
                        format!(
                            "its entry is malformed ({p}): it was edited outside custody; restore the vault from `<vault>.bak`"
                        ),
                    ));
                }
                return Err(refused(
                    name,
                    "no such credential in the vault (`custody creds list` shows them)",
                ));
            };
            let state = assessment.state_of(&vault, name).expect("entry exists");
            match state {
                EntryState::Ratified => {}
                EntryState::Pending(p) => {
                    return Err(refused(
                        name,
                        format!(
                            "it is unratified ({} on {} without a quorum). The quorum ratifies it by \
                         re-running this command with --ratify, which shows it before signing",
                            p.as_str(),
                            timefmt::date(c.rotated)
                        ),
                    ));
                }
                EntryState::Unverified => {
                    return Err(refused(
                        name,
                        "the quorum's ratification record does not verify (edited outside custody); \
                     re-run with --ratify to review and re-sign every credential",
                    ));
                }
                s => {
                    return Err(refused(
                        name,
                        format!(
                            "{}. Restore the vault from `<vault>.bak` or your copy, or remove the \
                         entry (`custody creds remove {name}`, quorum) and add it again",
                            s.describe()
                        ),
                    ));
                }
            }
            debug_assert!(matches!(assessment.record, RecordState::Valid { .. }));
            if c.has_scope(Scope::Withdraw) && !a.allow_withdraw {
                return Err(refused(
                    name,
                    "its scope includes withdraw; give --allow-withdraw if this program really must \
                 be able to move funds (better: use a trade-only key)",
                ));
            }
            if c.is_expired(now) {
                writeln!(
                err,
                "warning: credential `{name}` expired on {}; the exchange will probably refuse it",
                c.expires.as_deref().unwrap_or("?")
            )
            .ok();
            } else if c.age_days(now) > u64::from(vault.credentials().rotation_days()) {
                writeln!(
                err,
                "warning: credential `{name}` is overdue for rotation ({} days old, policy {} days)",
                c.age_days(now),
                vault.credentials().rotation_days()
            )
            .ok();
            }
            chosen.push(c.clone());
        }

        // Open only the named credentials.
        let mut opened: Vec<(Credential, SecretFields)> = Vec::new();
        for c in chosen {
            let f = seal::open(&vault.vault_id, &c, unlocked.keys.age_identity())?;
            opened.push((c, f));
        }
        Ok(opened)
    })();
    let opened = match prepared {
        Ok(o) => o,
        Err(e) => {
            audit.fail(&e.to_string())?;
            return Err(e);
        }
    };
    // Record what was opened for whom (names only), sign the record, erase the master key.
    audit.credentials_opened(&names)?;
    audit.succeed(
        &unlocked.keys,
        &format!("credentials handed to {}", program.to_string_lossy()),
    )?;
    drop(unlocked);

    let mut cmd = Command::new(&program);
    cmd.args(&a.command[1..]);
    let mut stdin_bytes: Option<Zeroizing<Vec<u8>>> = None;
    if a.stdin_json {
        let map: BTreeMap<&str, StdinEntry<'_>> = opened
            .iter()
            .map(|(c, f)| {
                (
                    c.name.as_str(),
                    StdinEntry {
                        exchange: &c.exchange,
                        account: &c.account,
                        scope: c.scope.iter().map(|s| s.as_str()).collect(),
                        fields: f,
                    },
                )
            })
            .collect();
        let cap = 256
            + opened
                .iter()
                .map(|(c, _)| 6 * c.sealed.len() + 512)
                .sum::<usize>();
        let mut buf = Zeroizing::new(Vec::with_capacity(cap));
        serde_json::to_writer(&mut *buf, &map)
            .map_err(|e| CliError::Terminal(format!("cannot encode the credentials: {e}")))?;
        buf.push(b'\n');
        stdin_bytes = Some(buf);
        cmd.stdin(Stdio::piped());
    } else {
        for (c, f) in &opened {
            for (k, v) in variables(a.env_style, c, f) {
                cmd.env(k, v);
            }
        }
    }
    let spawned = cmd.spawn();
    // The child has its copy; erase ours (the allocator wipes what Command freed).
    drop(opened);
    let mut child = match spawned {
        Ok(c) => c,
        Err(e) => {
            drop(cmd);
            return Err(CliError::Refused(format!(
                "cannot start {}: {e}",
                program.to_string_lossy()
            )));
        }
    };
    drop(cmd);
    let writer = match (stdin_bytes, child.stdin.take()) {
        (Some(buf), Some(mut pipe)) => Some(std::thread::spawn(move || {
            // A child that exits without reading makes this fail with EPIPE: that is its choice.
            let _ = pipe.write_all(&buf);
            drop(buf);
        })),
        _ => None,
    };
    for warning in hardening.warnings() {
        writeln!(err, "warning: {warning}").ok();
    }
    let status = child
        .wait()
        .map_err(|e| CliError::Terminal(format!("waiting for the program failed: {e}")))?;
    if let Some(t) = writer {
        let _ = t.join();
    }
    use std::os::unix::process::ExitStatusExt;
    let code = match (status.code(), status.signal()) {
        (Some(c), _) => c.clamp(0, 255) as u8,
        (None, Some(sig)) => (128 + sig).clamp(0, 255) as u8,
        _ => 1,
    };
    if code == 0 {
        Ok(())
    } else {
        Err(CliError::ChildExited(code))
    }
}
