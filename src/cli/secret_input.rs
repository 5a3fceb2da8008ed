//! Secret input for the command line: the SLIP-39 passphrase and officer entropy, from standard
//! input or a hidden terminal prompt. Never from argv or the environment.

use std::fs::OpenOptions;
use std::io::{BufRead, BufReader, Read, Write};

use rustix::termios::{self, LocalModes, OptionalActions};
use zeroize::Zeroizing;

use super::error::Channel;
use super::terminal_guard::TerminalGuard;
use super::{CliError, PassphraseArgs};

fn terminal(source: std::io::Error) -> CliError {
    CliError::Terminal {
        channel: Channel::Terminal,
        source,
    }
}

fn stdin(source: std::io::Error) -> CliError {
    CliError::Terminal {
        channel: Channel::Stdin,
        source,
    }
}

/// Ask `prompt` on the controlling terminal and read one line without echo.
pub fn prompt_hidden(prompt: &str) -> Result<Zeroizing<String>, CliError> {
    let tty = OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")
        .map_err(terminal)?;
    let mut w = &tty;
    w.write_all(prompt.as_bytes()).map_err(terminal)?;
    w.flush().map_err(terminal)?;
    let orig = termios::tcgetattr(&tty).map_err(|e| terminal(e.into()))?;
    let mut quiet = orig.clone();
    quiet.local_modes.remove(LocalModes::ECHO);
    quiet.local_modes.insert(LocalModes::ECHONL);
    let guard = TerminalGuard::new(&tty, &orig);
    termios::tcsetattr(&tty, OptionalActions::Now, &quiet).map_err(|e| terminal(e.into()))?;
    let mut line = Zeroizing::new(String::new());
    let read = BufReader::new(&tty).read_line(&mut line);
    let _ = termios::tcsetattr(&tty, OptionalActions::Now, &orig);
    drop(guard);
    read.map_err(terminal)?;
    trim_newline(&mut line);
    Ok(line)
}

fn trim_newline(s: &mut Zeroizing<String>) {
    while s.ends_with('\n') || s.ends_with('\r') {
        s.pop();
    }
}

/// The most a passphrase line read from standard input may hold.
const MAX_LINE: u64 = 64 * 1024;

/// The first line of standard input (at most 64 KiB).
pub fn stdin_line() -> Result<Zeroizing<String>, CliError> {
    let mut line = Zeroizing::new(String::new());
    std::io::stdin()
        .lock()
        .take(MAX_LINE + 1)
        .read_line(&mut line)
        .map_err(stdin)?;
    if line.len() as u64 > MAX_LINE {
        return Err(CliError::TooLarge {
            what: "the line on standard input",
            limit: MAX_LINE,
        });
    }
    trim_newline(&mut line);
    Ok(line)
}

/// All of standard input, as bytes: at most `limit` bytes of `what` (refused beyond, without
/// reading further).
pub fn stdin_all(what: &'static str, limit: u64) -> Result<Zeroizing<Vec<u8>>, CliError> {
    read_capped(std::io::stdin().lock(), what, limit).map_err(|e| match e {
        CliError::Read { source, .. } => stdin(source),
        e => e,
    })
}

/// At most `limit` bytes from `r`; more is refused as [`CliError::TooLarge`].
fn read_capped(
    r: impl Read,
    what: &'static str,
    limit: u64,
) -> Result<Zeroizing<Vec<u8>>, CliError> {
    let mut buf = Zeroizing::new(Vec::new());
    r.take(limit + 1)
        .read_to_end(&mut buf)
        .map_err(|source| CliError::Read {
            path: what.into(),
            source,
        })?;
    if buf.len() as u64 > limit {
        return Err(CliError::TooLarge { what, limit });
    }
    Ok(buf)
}

/// The most credential JSON (`--from-json`) may hold: room for a PEM private key and a few
/// fields, nothing like the 50 MB that would bloat every later read of the vault (the library
/// holds the secret fields to the same cap).
pub const MAX_CREDENTIAL_JSON: u64 = custody::wire::MAX_SECRET_FIELDS_BYTES;
/// The most `--entropy-stdin` or `--words-stdin` reads.
pub const MAX_STDIN_TEXT: u64 = 1024 * 1024;

/// SLIP-39 passphrases are printable ASCII.
fn check_passphrase(p: &str) -> Result<(), CliError> {
    if p.bytes().all(|b| (32..=126).contains(&b)) {
        Ok(())
    } else {
        Err(CliError::Usage(
            "the passphrase may contain only printable ASCII characters (SLIP-39 rule)".into(),
        ))
    }
}

/// The passphrase the arguments ask for, if any. With `confirm`, a prompt asks twice.
pub fn passphrase(
    args: &PassphraseArgs,
    confirm: bool,
) -> Result<Option<Zeroizing<String>>, CliError> {
    let p = if args.passphrase_stdin {
        stdin_line()?
    } else if args.passphrase_prompt {
        let p = prompt_hidden("SLIP-39 passphrase: ")?;
        if confirm {
            let again = prompt_hidden("Same passphrase again: ")?;
            if *again != *p {
                return Err(CliError::Usage(
                    "the two passphrases differ; nothing was created".into(),
                ));
            }
        }
        p
    } else {
        return Ok(None);
    };
    check_passphrase(&p)?;
    if p.is_empty() {
        return Err(CliError::Usage(
            "the passphrase is empty; leave out --passphrase-stdin/--passphrase-prompt for none"
                .into(),
        ));
    }
    Ok(Some(p))
}

/// The passphrase to open a vault with: `given` (from [`passphrase`]) or, when none was given,
/// the vault's shares need one and standard input is a terminal, asked on a hidden prompt and
/// held to the same rules. Read the shares between the two calls, so that a passphrase on the
/// first line of standard input comes before any share from it.
pub fn or_prompt(
    given: Option<Zeroizing<String>>,
    needed: bool,
) -> Result<Option<Zeroizing<String>>, CliError> {
    use std::io::IsTerminal;
    if given.is_some() || !needed || !std::io::stdin().is_terminal() {
        return Ok(given);
    }
    let p = prompt_hidden("SLIP-39 passphrase: ")?;
    check_passphrase(&p)?;
    Ok((!p.is_empty()).then_some(p))
}
