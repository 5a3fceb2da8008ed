//! `custody exec`: a quorum opens only the named credentials ([`custody::ops::release`] decides
//! which may leave), custody starts the program with them (variables in the child's
//! environment, or one JSON object on its standard input), wipes its own copies, waits, and
//! exits with the child's status (128 + signal if killed).

use std::io::Write;
use std::process::{Command, Stdio};

use zeroize::Zeroizing;

use super::{CliError, EnvStyle, ExecArgs, quorum_open, ratify};
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

    let session =
        quorum_open::open_session(&a.vault, "exec", &a.quorum.shares, &a.quorum.passphrase)?;
    let options = ReleaseOptions {
        allow_withdraw: a.allow_withdraw,
        ratify: a.quorum.ratify,
    };
    // The ceremony is closed (and the master key erased) when this returns.
    let mut err = std::io::stderr();
    let released = match release::release(session, &names, options, &program.to_string_lossy()) {
        Ok(r) => r,
        Err(e) => {
            // A ratification that was signed before the refusal stands: show what it covered.
            if let release::ReleaseError::AfterRatifying { ratified, .. } = &e {
                ratify::print_ratified(ratified, &mut err)?;
            }
            return Err(e.into());
        }
    };
    if let Some(r) = &released.ratified {
        ratify::print_ratified(r, &mut err)?;
    }
    for w in &released.warnings {
        writeln!(err, "warning: {w}").ok();
    }
    let release::Released {
        opened,
        hardening_warnings,
        ..
    } = released;

    let mut cmd = Command::new(&program);
    cmd.args(&a.command[1..]);
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
    let spawned = cmd.spawn();
    // The child has its copy; erase ours (the allocator wipes what Command freed).
    drop(opened);
    let mut child = match spawned {
        Ok(c) => c,
        Err(e) => {
            drop(cmd);
            return Err(CliError::Spawn {
                program: program.to_string_lossy().into_owned(),
                source: e,
            });
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
    for warning in hardening_warnings {
        writeln!(err, "warning: {warning}").ok();
    }
    let status = child.wait().map_err(CliError::Wait)?;
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
