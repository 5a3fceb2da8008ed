//! The host's side of a remote ceremony (`--remote` on every quorum command): open the
//! one-time session ([`custody::remote::HostSession`]), show its ceremony code, comparison
//! phrase and QR, and — without a terminal — wait for envelopes named with `--envelope` or
//! dropped into `--envelope-dir`, each checked on arrival and gathered with the shares given
//! here ([`custody::gathering::Gathering`]) until the quorum is reached or time runs out.
//! The session's key is erased when the session is dropped: on success, failure, timeout or
//! abort alike.

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use super::error::CeremonyEnd;
use super::{CliError, ShareArgs, shares_in};
use custody::delivery::AgeIdentity;
use custody::gathering::{Gathering, Outcome};
use custody::input::Presented;
use custody::remote::HostSession;
use custody::remote::envelope_file::{self, EnvelopeFileError};
use custody::remote::inbox::Inbox;

use super::remote_host_error::RemoteHostError;
use custody::vault::Vault;

/// How often the inbox is looked at while waiting.
const POLL: Duration = Duration::from_millis(200);

/// Open the remote session `args` asks for (`None` without `--remote`) for `remote`: the
/// vault (or pending key set) whose id and epoch the code names, and the action; and show its code, phrase and QR on standard error (standard output may belong to
/// the command's result or to a program; everything shown is custody's own text).
pub fn open(
    args: &ShareArgs,
    remote: Option<(&Vault, &str)>,
) -> Result<Option<HostSession>, CliError> {
    if !args.remote.remote {
        return Ok(None);
    }
    let (vault, purpose) = remote.ok_or(RemoteHostError::NoVault)?;
    let signer = match &args.remote.host_key {
        Some(path) => Some(load_host_key(path)?),
        None => None,
    };
    let now = super::clock().now();
    let session = HostSession::open(
        &mut rand_core::OsRng,
        vault.vault_id(),
        vault.epoch(),
        purpose,
        now,
        args.timeout().0.as_secs(),
        signer.as_deref(),
    )
    .map_err(RemoteHostError::Open)?;
    show(&session, vault, purpose, &mut std::io::stderr().lock())?;
    Ok(Some(session))
}

/// The host key's signing key, loaded from `path`.
fn load_host_key(path: &Path) -> Result<Box<ed25519_dalek::SigningKey>, RemoteHostError> {
    custody::host_key::load(path)
        .map(Box::new)
        .map_err(|e| RemoteHostError::HostKey {
            path: path.to_owned(),
            source: Box::new(e),
        })
}

/// The block the host reads out and sends: what the ceremony is, the code, the phrase, the QR.
fn show(
    session: &HostSession,
    vault: &Vault,
    purpose: &str,
    err: &mut dyn Write,
) -> Result<(), CliError> {
    let code = session.code();
    let signed = match code.signer() {
        Some(k) => format!(
            "signed by this machine's host key {}",
            custody::keys::fingerprint(&k)
        ),
        None => "not signed (no --host-key): custodians must compare the phrase".to_owned(),
    };
    let text = code.to_text();
    writeln!(
        err,
        "Remote ceremony for `{purpose}` on vault {} (epoch {}), open until {}; {signed}.",
        vault.fingerprint(),
        vault.epoch(),
        custody::timefmt::rfc3339(session.expires())
    )?;
    writeln!(err, "ceremony code: {}", text.as_str())?;
    writeln!(err, "comparison phrase: {}", session.phrase())?;
    let colours = std::io::stderr().is_terminal();
    write!(
        err,
        "{}",
        custody::sheet::render_terminal(&text, colours).as_str()
    )?;
    writeln!(
        err,
        "Send the code to each remote custodian by any channel. Each runs\n  custody contribute \
         --code CODE THEIR-SHARE -o envelope.txt\nthen calls you and reads back the phrase it \
         shows: it must be exactly the one above. If it differs, the code was changed on its \
         way: do not accept that custodian's envelope."
    )?;
    Ok(())
}

/// The label of an envelope read from `what`, received at `now`, as the audit log keeps it.
pub fn envelope_label(what: &str, now: u64) -> String {
    format!(
        "envelope {what}, received {}",
        custody::timefmt::rfc3339(now)
    )
}

/// Open the envelope `text` (from `what`) in `session`: the share inside, or why it was refused.
pub fn accept(
    session: &mut HostSession,
    what: &str,
    text: &str,
) -> Result<Presented, (String, String)> {
    let now = super::clock().now();
    let label = envelope_label(what, now);
    session
        .accept(&label, text, now)
        .map_err(|e| (format!("envelope {what}"), e.to_string()))
}

/// Read and open the envelope file at `path`.
pub fn accept_file(session: &mut HostSession, path: &Path) -> Result<Presented, (String, String)> {
    let what = path.display().to_string();
    match envelope_file::read(path) {
        Ok(text) => accept(session, &what, &text),
        Err(e) => Err((format!("envelope {what}"), read_problem(&e))),
    }
}

fn read_problem(e: &EnvelopeFileError) -> String {
    format!("cannot read it: {e}")
}

/// The quorum's shares for a remote ceremony without a terminal: the shares given here
/// (`--share`, `--words-stdin`), then envelopes as they arrive, each checked on arrival against
/// `vault` (when given) and the shares already accepted; until the quorum is reached and every
/// `--envelope` file was read, or `--timeout` runs out (then nothing is kept). Progress and
/// refusals go to `err`; refusals are added to `rejected`.
pub fn collect_waiting(
    args: &ShareArgs,
    vault: Option<&Vault>,
    session: &mut HostSession,
    identities: &[AgeIdentity],
    err: &mut dyn Write,
    rejected: &mut Vec<(String, String)>,
) -> Result<Vec<Presented>, CliError> {
    if args.remote.envelopes.is_empty() && args.remote.envelope_dir.is_none() {
        return Err(RemoteHostError::NoWayIn.into());
    }
    let timeout = args.timeout();
    let deadline = Instant::now() + timeout.0;
    let mut inbox = Inbox::new(
        args.remote.envelopes.clone(),
        args.remote.envelope_dir.clone(),
    )
    .map_err(|source| RemoteHostError::Inbox {
        dir: args.remote.envelope_dir.clone().unwrap_or_default(),
        source,
    })?;
    let mut gathering = Gathering::new(vault);
    let local = shares_in::collect(args, identities)?;
    for p in local {
        present(&mut gathering, p, err, rejected)?;
    }
    writeln!(
        err,
        "Waiting for envelopes ({}) until {}. Progress: {}",
        waiting_for(args),
        custody::timefmt::rfc3339(session.expires()),
        gathering.summary_line()
    )?;
    loop {
        for path in inbox.poll() {
            match accept_file(session, &path) {
                Ok(p) => present(&mut gathering, p, err, rejected)?,
                Err((label, reason)) => {
                    writeln!(
                        err,
                        "Refused {}: {}. Nothing of it was kept.",
                        custody::terminal_text::escape(&label),
                        custody::terminal_text::escape(&reason)
                    )?;
                    rejected.push((label, reason));
                }
            }
        }
        if gathering.is_ready() && inbox.named_waiting().is_empty() {
            break;
        }
        if Instant::now() >= deadline {
            let waiting: Vec<String> = inbox
                .named_waiting()
                .iter()
                .map(|p| p.display().to_string())
                .collect();
            writeln!(
                err,
                "Time is up ({timeout}). Progress: {}{}. Nothing was kept.",
                gathering.summary_line(),
                if waiting.is_empty() {
                    String::new()
                } else {
                    format!("; never arrived: {}", waiting.join(", "))
                }
            )?;
            return Err(CliError::CeremonyEnded(CeremonyEnd::TimedOut(
                timeout.to_string(),
            )));
        }
        std::thread::sleep(POLL);
    }
    if let Err(why) = gathering.cross_check() {
        writeln!(err, "Cross-check FAILED: {why}.")?;
    }
    let who = gathering.presented().join(", ");
    writeln!(err, "Proceeding with the shares of {who}.")?;
    Ok(gathering.into_shares())
}

fn waiting_for(args: &ShareArgs) -> String {
    let mut parts = Vec::new();
    if !args.remote.envelopes.is_empty() {
        parts.push(format!("{} named file(s)", args.remote.envelopes.len()));
    }
    if let Some(d) = &args.remote.envelope_dir {
        parts.push(format!("new files in {}", d.display()));
    }
    custody::terminal_text::escape(&parts.join(" and ")).into_owned()
}

/// Present one share to `gathering`, telling `err` what became of it.
fn present(
    gathering: &mut Gathering<'_>,
    p: Presented,
    err: &mut dyn Write,
    rejected: &mut Vec<(String, String)>,
) -> Result<(), CliError> {
    let label = p.label.clone();
    let line = match gathering.present(p) {
        Outcome::Accepted { member, progress } => format!(
            "Accepted: {} ({}, {}). Progress: {progress}",
            member.custodian, member.group, member.label
        ),
        Outcome::Rejected { reason, .. } => {
            let line = format!("Refused {label}: {reason}. Nothing of it was kept.");
            rejected.push((label, reason));
            line
        }
    };
    writeln!(err, "{}", custody::terminal_text::escape(&line))?;
    Ok(())
}
