//! The demo's remote drill: alice is with the host; bob and dave are in other cities. The
//! host opens a remote ceremony (`drill --remote --envelope-dir`), each remote custodian turns
//! the ceremony code and their share into an envelope (`contribute`, the comparison phrase
//! typed as the host read it out), and the host's drill completes with two shares that
//! arrived as envelopes.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::CliError;
use super::demo_steps::{Background, say, share, step, strings};

/// The value after `prefix` on the first line of `log` that starts with it.
fn line_value(log: &str, prefix: &str) -> Option<String> {
    log.lines()
        .find_map(|l| l.strip_prefix(prefix))
        .map(|v| v.trim().to_owned())
}

/// Run the remote drill on `vault` with the demo's `shares`.
pub(super) fn remote_drill(
    out: &mut dyn Write,
    vault: &str,
    shares: &Path,
) -> Result<(), CliError> {
    say(
        out,
        "\n== 15. Custodians in other cities: a remote drill. alice is with the host machine; bob\n\
         and dave are elsewhere. The host opens a remote ceremony: a one-time ceremony code (and\n\
         its QR) to send to them, and a comparison phrase to check over the phone. Envelopes\n\
         are read from the folder inbox/ as they arrive (at a terminal they can be pasted too).",
    )?;
    std::fs::create_dir_all("inbox").map_err(|source| CliError::Write {
        path: "inbox".into(),
        source,
    })?;
    let alice = share(shares, 1);
    say(
        out,
        &format!(
            "\n$ custody drill --vault {vault} --remote --share {alice} --envelope-dir inbox \
             2> host.log &"
        ),
    )?;
    let exe = std::env::current_exe().map_err(|source| CliError::Spawn {
        program: "custody".into(),
        source,
    })?;
    let log = std::fs::File::create("host.log").map_err(|source| CliError::Write {
        path: "host.log".into(),
        source,
    })?;
    let report = std::fs::File::create("host.out").map_err(|source| CliError::Write {
        path: "host.out".into(),
        source,
    })?;
    let mut host = Background(
        Command::new(exe)
            .args(["drill", "--vault", vault, "--remote", "--share", &alice])
            .args(["--envelope-dir", "inbox", "--timeout", "2m"])
            .stdin(Stdio::null())
            .stdout(report)
            .stderr(log)
            .spawn()
            .map_err(|source| CliError::Spawn {
                program: "custody drill --remote".into(),
                source,
            })?,
    );
    let started = Instant::now();
    let (code, phrase) = loop {
        let log = std::fs::read_to_string("host.log").unwrap_or_default();
        if let (Some(c), Some(p)) = (
            line_value(&log, "ceremony code: "),
            line_value(&log, "comparison phrase: "),
        ) {
            break (c, p);
        }
        if started.elapsed() > Duration::from_secs(30) {
            return Err(CliError::SelfCheck("the remote ceremony did not open"));
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    say(
        out,
        &format!(
            "(host.log) ceremony code: {code}\n(host.log) comparison phrase: {phrase}\n\
             The host sends the code to bob and dave by chat or e-mail; it is not secret, but a\n\
             changed code would give a different phrase."
        ),
    )?;
    for (n, name) in [(2, "bob"), (4, "dave")] {
        say(
            out,
            &format!(
                "\nOn {name}'s machine: the code as received, {name}'s own share, and the phrase\n\
                 as the host reads it out on the phone (without --phrase, contribute shows it\n\
                 and asks). The envelope is sent back the same way and saved in inbox/."
            ),
        )?;
        let envelope = format!("inbox/{name}.envelope");
        step(
            out,
            &strings(&[
                "contribute",
                "--code",
                &code,
                &share(shares, n),
                "--phrase",
                &phrase,
                "-o",
                &envelope,
            ]),
        )?;
    }
    let waited = Instant::now();
    let status = loop {
        if let Some(status) = host.0.try_wait().map_err(CliError::Wait)? {
            break status;
        }
        if waited.elapsed() > Duration::from_secs(60) {
            return Err(CliError::SelfCheck("the remote drill did not finish"));
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let log = std::fs::read_to_string("host.log").unwrap_or_default();
    say(
        out,
        "\nThe host's terminal (host.log, after the code and its QR):",
    )?;
    for line in log.lines().filter(|l| {
        l.starts_with("Accepted:") || l.starts_with("Proceeding") || l.starts_with("Refused")
    }) {
        say(out, &format!("  {}", custody::terminal_text::escape(line)))?;
    }
    let report = std::fs::read_to_string("host.out").unwrap_or_default();
    say(out, "The drill's report (host.out):")?;
    for line in report.lines() {
        say(out, &format!("  {}", custody::terminal_text::escape(line)))?;
    }
    if !status.success() {
        return Err(CliError::SelfCheck(
            "the remote drill failed (see host.log)",
        ));
    }
    say(
        out,
        "\nThe audit log names both envelopes (when each arrived) and the phrase's SHA-256; the\n\
         ceremony key is gone, so the envelopes in inbox/ can never be opened again.",
    )?;
    step(out, &strings(&["audit", "verify", "--vault", vault]))?;
    Ok(())
}
