//! `custody host-key new|show` and `custody hosts add|remove|list`: a ceremony host's
//! long-term key (`custody::host_key`) and the vault's known hosts over `custody::ops::hosts`.
//! Hosts are added and removed without a quorum, and trusted only once a quorum ratifies them
//! with `--ratify` on any quorum command (`agent unlock` included).

use std::io::Write;
use std::path::PathBuf;

use clap::{Args, Subcommand};
use serde_json::json;

use super::{CliError, examples};
use custody::host_key::{self, public_text};
use custody::keys::fingerprint;
use custody::ops::hosts::{self, HostsOpError};
use custody::timefmt;
use custody::vault::hosts::HostProposal;

/// `custody host-key ...`.
#[derive(Subcommand, Debug)]
pub enum HostKeyCommand {
    /// Generate this machine's long-term host key (a secret file, mode 0600) and print its
    /// public form, to enrol with `custody hosts add`.
    #[command(after_help = examples::HOST_KEY_NEW)]
    New(HostKeyNewArgs),
    /// Print the public form and fingerprint of a host key file.
    #[command(after_help = examples::HOST_KEY_SHOW)]
    Show(HostKeyShowArgs),
}

#[derive(Args, Debug)]
pub struct HostKeyNewArgs {
    /// Where to write the secret key file (never overwritten).
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: PathBuf,
}

#[derive(Args, Debug)]
pub struct HostKeyShowArgs {
    /// The host key file `custody host-key new` wrote.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
}

/// `custody hosts ...`.
#[derive(Subcommand, Debug)]
pub enum HostsCommand {
    /// Propose a known host (no quorum): custodians trust ceremony codes it signs once a
    /// quorum ratifies it.
    #[command(after_help = examples::HOSTS_ADD)]
    Add(HostsAddArgs),
    /// Remove a known host (no quorum): it is no longer trusted, at once; a quorum's
    /// ratification records the removal.
    #[command(after_help = examples::HOSTS_REMOVE)]
    Remove(HostsRemoveArgs),
    /// Every known host and where it stands: ratified and trusted, pending, or tampered.
    #[command(after_help = examples::HOSTS_LIST)]
    List(HostsListArgs),
}

#[derive(Args, Debug)]
pub struct HostsAddArgs {
    /// The vault (default: $CUSTODY_VAULT).
    #[arg(long, env = "CUSTODY_VAULT")]
    pub vault: PathBuf,
    /// The host's name, as custodians will see it (custodian-name rules).
    pub name: String,
    /// The host's public key: the `custody-host:...` line `custody host-key show` prints,
    /// or a file holding it.
    pub key: String,
}

#[derive(Args, Debug)]
pub struct HostsRemoveArgs {
    /// The vault (default: $CUSTODY_VAULT).
    #[arg(long, env = "CUSTODY_VAULT")]
    pub vault: PathBuf,
    /// The host's name, exactly as `custody hosts list` shows it.
    pub name: String,
}

#[derive(Args, Debug)]
pub struct HostsListArgs {
    /// The vault (default: $CUSTODY_VAULT).
    #[arg(long, env = "CUSTODY_VAULT")]
    pub vault: PathBuf,
    /// Print one JSON object (`custody-known-hosts/1`, docs/json.md) instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Run `custody host-key ...`.
pub fn run_host_key(cmd: HostKeyCommand, out: &mut dyn Write) -> Result<(), CliError> {
    match cmd {
        HostKeyCommand::New(a) => {
            let public = host_key::generate(&a.output)?;
            writeln!(
                out,
                "Wrote the host key to {} (mode 0600): keep it on this machine only.",
                a.output.display()
            )?;
            writeln!(
                out,
                "Its public form, for `custody hosts add --vault VAULT NAME KEY`:"
            )?;
            print_public(&public, out)
        }
        HostKeyCommand::Show(a) => {
            let key = host_key::load(&a.file)?;
            print_public(&key.verifying_key(), out)
        }
    }
}

/// The public line, then the fingerprint as a comment (so that the output, saved to a file,
/// is itself a KEY for `hosts add`).
fn print_public(key: &ed25519_dalek::VerifyingKey, out: &mut dyn Write) -> Result<(), CliError> {
    writeln!(out, "{}", public_text(key))?;
    writeln!(out, "# fingerprint {}", fingerprint(key))?;
    Ok(())
}

/// Run `custody hosts ...`.
pub fn run(cmd: HostsCommand, out: &mut dyn Write) -> Result<(), CliError> {
    match cmd {
        HostsCommand::Add(a) => add(a, out),
        HostsCommand::Remove(a) => remove(a, out),
        HostsCommand::List(a) => list(a, out),
    }
}

/// Whether `custody hosts ...` prints a JSON document.
pub fn wants_json(cmd: &HostsCommand) -> bool {
    matches!(cmd, HostsCommand::List(a) if a.json)
}

fn add(a: HostsAddArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let key = hosts::read_key(&a.key)?;
    let proposed = hosts::add(&a.vault, &a.name, key, super::clock())?;
    match proposed.outcome {
        HostProposal::Unchanged => writeln!(
            out,
            "Unchanged: the vault already knows host {}.",
            proposed.host
        )?,
        HostProposal::Restored => writeln!(
            out,
            "Withdrew the pending removal of host {}: it is trusted again, as ratified.",
            proposed.host
        )?,
        _ => writeln!(
            out,
            "Proposed host {}.\nIt is not trusted until a quorum ratifies it (custody drill \
             --vault {} --ratify, or --ratify on any quorum command); the officers check the \
             fingerprint above against `custody host-key show` on that machine.",
            proposed.host,
            a.vault.display()
        )?,
    }
    Ok(())
}

fn remove(a: HostsRemoveArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let proposed = hosts::remove(&a.vault, &a.name, super::clock())?;
    if let HostProposal::Withdrawn(h) = &proposed.outcome {
        writeln!(
            out,
            "Withdrew the pending host {h}: no quorum had ratified it, so it was never trusted, \
             and nothing awaits a quorum for it now."
        )?;
        return Ok(());
    }
    writeln!(
        out,
        "Removed host {}: it is no longer trusted. A quorum's next ratification records the \
         removal (custody drill --vault {} --ratify).",
        proposed.host,
        a.vault.display()
    )?;
    Ok(())
}

fn list(a: HostsListArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let listing = hosts::list(&a.vault)?;
    if a.json {
        let hosts: Vec<_> = listing
            .hosts
            .iter()
            .map(|h| {
                json!({
                    "name": h.name,
                    "key": public_text(&h.key),
                    "fingerprint": fingerprint(&h.key),
                    "added_at": timefmt::rfc3339(h.added_at),
                    "state": h.state.as_str(),
                    "trusted": h.state.is_trusted() && listing.problem.is_none(),
                })
            })
            .collect();
        let doc = json!({
            "format": "custody-known-hosts/1",
            "ok": listing.problem.is_none(),
            "hosts": hosts,
            "problem": listing.problem.as_ref().map(|p| p.to_string()),
        });
        writeln!(out, "{doc}")?;
    } else {
        if listing.hosts.is_empty() {
            writeln!(
                out,
                "The vault {} knows no host: custodians compare ceremony codes by phrase.",
                a.vault.display()
            )?;
        }
        for h in &listing.hosts {
            writeln!(
                out,
                "{} <{}>  added {}  [{}]",
                h.name,
                fingerprint(&h.key),
                timefmt::date(h.added_at),
                h.state.describe()
            )?;
        }
    }
    match listing.problem {
        Some(p) => Err(HostsOpError::Hosts(p).into()),
        None => Ok(()),
    }
}
