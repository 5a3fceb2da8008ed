//! The demo's steps: each printed as the command an officer would type (so it can be pasted
//! into a shell) and run in-process, and the background processes the demo starts.

use std::io::Write;
use std::path::Path;

use clap::Parser;

use super::{Cli, CliError};

pub(super) const CUSTODIANS: [&str; 5] = ["alice", "bob", "carol", "dave", "erin"];

pub(super) fn say(out: &mut dyn Write, text: &str) -> Result<(), CliError> {
    writeln!(out, "{text}").map_err(CliError::Output)
}

/// `arg` as a POSIX shell word: as it is when it has only characters no shell treats
/// specially, otherwise in single quotes (a `'` inside written `'\''`).
pub(super) fn shell_word(arg: &str) -> String {
    let plain = !arg.is_empty()
        && arg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_@%+=:,./-".contains(c));
    if plain {
        arg.to_owned()
    } else {
        format!("'{}'", arg.replace('\'', "'\\''"))
    }
}

/// Print the command as it can be pasted into a shell, run it in-process, and return its
/// result.
pub(super) fn step(out: &mut dyn Write, args: &[String]) -> Result<(), CliError> {
    let words: Vec<String> = args.iter().map(|a| shell_word(a)).collect();
    say(out, &format!("\n$ custody {}", words.join(" ")))?;
    let cli =
        Cli::try_parse_from(std::iter::once("custody".to_owned()).chain(args.iter().cloned()))
            .map_err(|e| CliError::Usage(e.to_string()))?;
    super::run(cli, out)
}

pub(super) fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

pub(super) fn share(dir: &Path, n: usize) -> String {
    dir.join(format!("{:02}-{}.txt", n, CUSTODIANS[n - 1]))
        .display()
        .to_string()
}

/// A background process, ended with SIGTERM when stopped or dropped.
pub(super) struct Background(pub(super) std::process::Child);

impl Background {
    pub(super) fn stop(&mut self) {
        if let Some(pid) = i32::try_from(self.0.id())
            .ok()
            .and_then(rustix::process::Pid::from_raw)
        {
            let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
        }
        let _ = self.0.wait();
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        self.stop();
    }
}
