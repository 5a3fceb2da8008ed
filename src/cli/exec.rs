//! `custody exec`: a quorum opens only the named credentials ([`custody::ops::release`] decides
//! which may leave), custody starts the program with them (variables in the child's
//! environment, or one JSON object on its standard input), wipes its own copies, waits, and
//! exits with the child's status (128 + signal if killed). Signals, and the program's life
//! bound to custody's, are in `child.rs`. The audit record closes once the program has started
//! ("credentials handed to PROGRAM (pid N)", after which the master key is erased) or failed to
//! ("cannot start PROGRAM: ..."); when the program ends, the library appends how (exit code or
//! signal, how long it ran), signed with the one-time key the closing record certified.

use std::io::Write;
use std::process::{Command, Stdio};

use zeroize::Zeroizing;

use super::{CliError, EnvStyle, ExecArgs, child, quorum_open, ratify};
use custody::audit::ProgramEnd;
use custody::ops::ratify::Consent;
use custody::ops::release::{self, ReleaseOptions};
use custody::vault::credential::check_name;

impl From<EnvStyle> for release::EnvStyle {
    fn from(s: EnvStyle) -> Self {
        match s {
            EnvStyle::Plain => release::EnvStyle::Plain,
            EnvStyle::Freqtrade => release::EnvStyle::Freqtrade,
        }
    }
}

/// The credentials a program is to receive, each once, in order: every name checked, and
/// (unless they go as JSON) each credential's variables valid in `style`; freqtrade's names
/// hold one credential only. Checked before any share is read.
pub fn credential_names(
    creds: &[String],
    style: EnvStyle,
    stdin_json: bool,
) -> Result<Vec<String>, CliError> {
    let mut names: Vec<String> = Vec::new();
    for n in creds {
        check_name(n)?;
        if !stdin_json {
            release::EnvStyle::from(style).check_name(n)?;
        }
        if !names.contains(n) {
            names.push(n.clone());
        }
    }
    if style == EnvStyle::Freqtrade && names.len() != 1 {
        return Err(CliError::Usage(
            "--env-style freqtrade sets FREQTRADE__EXCHANGE__*, which holds one credential: \
             give exactly one --cred"
                .into(),
        ));
    }
    Ok(names)
}

pub fn run(a: ExecArgs, _out: &mut dyn Write) -> Result<(), CliError> {
    if a.stdin_json {
        quorum_open::refuse_stdin(
            &a.quorum.shares,
            &a.quorum.passphrase,
            "--stdin-json gives standard input to the program",
        )?;
    }
    let names = credential_names(&a.creds, a.env_style, a.stdin_json)?;
    let program = a.command[0].clone();

    let session =
        quorum_open::open_session(&a.vault, "exec", &a.quorum.shares, &a.quorum.passphrase)?;
    let options = ReleaseOptions {
        allow_withdraw: a.allow_withdraw,
        allow_expired: a.allow_expired,
    };
    let mut asking = a.quorum.consent();
    let consent = asking.as_mut().map(|c| c as &mut dyn Consent);
    let mut err = super::escaping::stderr();
    // The ceremony stays open (with the master key) only until the program has started or
    // failed to: its closing record says which.
    let mut releasing = match release::open(session, &names, options, consent) {
        Ok(r) => r,
        Err(e) => {
            // A ratification that was signed before the refusal stands: show what it covered.
            if let release::ReleaseError::AfterRatifying { ratified, .. } = &e {
                ratify::print_ratified(ratified, &mut err)?;
            }
            return Err(e.into());
        }
    };
    let release::Released {
        opened,
        warnings,
        ratified,
        hardening_warnings,
    } = std::mem::take(&mut releasing.released);
    if let Some(r) = &ratified {
        ratify::print_ratified(r, &mut err)?;
    }
    for w in &warnings {
        writeln!(err, "warning: {w}").ok();
    }

    let mut cmd = Command::new(&program);
    cmd.args(&a.command[1..]);
    child::die_with_custody(&mut cmd);
    let mut stdin_bytes: Option<Zeroizing<Vec<u8>>> = None;
    if a.stdin_json {
        let buf = release::stdin_json(&opened).map_err(CliError::Encode)?;
        stdin_bytes = Some(buf);
        cmd.stdin(Stdio::piped());
    } else {
        for (k, v) in release::environment(a.env_style.into(), &opened) {
            cmd.env(k, v);
        }
    }
    let program_name = program.to_string_lossy().into_owned();
    // Caught from now on, so that no signal ends custody before the program can have it.
    let forwarder = child::Forwarder::install().map_err(CliError::Signals)?;
    let spawned = cmd.spawn();
    // The child has its copy; erase ours (the allocator wipes what Command freed).
    drop(opened);
    drop(cmd);
    let mut child = match spawned {
        Ok(c) => c,
        Err(e) => {
            releasing.not_started(&program_name, &e.to_string())?;
            return Err(CliError::Spawn {
                program: program_name,
                source: e,
            });
        }
    };
    let forwarding = forwarder.forward_to(child.id());
    // The ceremony closes; the master key is erased while the program runs.
    let mut running = releasing.started(&program_name, child.id())?;
    if let Some(problem) = running.take_not_anchored() {
        writeln!(err, "warning: {problem}").ok();
    }
    for warning in hardening_warnings {
        writeln!(err, "warning: {warning}").ok();
    }
    let status =
        child::feed_and_wait(&mut child, forwarding, stdin_bytes).map_err(CliError::Wait)?;
    // The program's own status stays custody's exit status even if this cannot be recorded.
    if let Err(e) = running.ended(ProgramEnd::from(status)) {
        writeln!(
            err,
            "warning: how {program_name} ended ({}) is not in the audit log: {e}",
            ProgramEnd::from(status)
        )
        .ok();
    }
    match child::exit_code(status) {
        0 => Ok(()),
        code => Err(CliError::ChildExited(code)),
    }
}
