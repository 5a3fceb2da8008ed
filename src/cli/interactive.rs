//! The ceremony at a terminal: custodians present their shares one after another — a path to a
//! photo or share file, a pasted token, or the words typed one at a time — and each is checked
//! on the spot ([`custody::gathering::Gathering`]). Nothing typed is ever echoed: the terminal is put
//! in a no-echo, character-at-a-time mode for the whole ceremony and restored on every exit.
//! Ctrl-C (read as a byte, not a signal), `abort`, the terminal closing, or the time limit
//! (`--timeout`, default 10 minutes) end the ceremony and wipe every share presented.
//!
//! The conversation goes through the [`Tty`] trait, so tests drive it with a scripted terminal;
//! [`TerminalTty`] is the real `/dev/tty`.

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{self, IsTerminal, Read, Write};
use std::path::PathBuf;
use std::str::FromStr;
use std::time::{Duration, Instant};

use rustix::event::{PollFd, PollFlags, Timespec};
use rustix::termios::{self, LocalModes, OptionalActions, SpecialCodeIndex, Termios};
use zeroize::Zeroizing;

use super::error::CeremonyEnd;
use super::error::Channel;
use super::terminal_guard::TerminalGuard;
use super::{CliError, ShareArgs, shares_in};
use custody::delivery::AgeIdentity;
use custody::gathering::{Gathering, Outcome, WordEntry};
use custody::input::{self, InputError, InputErrorKind, Presented, Source};
use custody::remote::envelope_file;
use custody::remote::{CeremonyRecord, HostSession};
use custody::slip39::Slip39Error;
use custody::vault::Vault;
use custody::wire;

/// How long a whole ceremony may take (`--timeout`): `10m`, `90s`, `1h`, `1m30s`; a bare
/// number is seconds. The default is 10 minutes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CeremonyTimeout(pub Duration);

impl Default for CeremonyTimeout {
    fn default() -> Self {
        CeremonyTimeout(Duration::from_secs(600))
    }
}

impl FromStr for CeremonyTimeout {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match super::duration::seconds(s) {
            Some(secs) => positive(secs, s),
            None => Err(format!(
                "`{s}` is not a duration; write it like 10m, 90s, 1h or 1m30s"
            )),
        }
    }
}

fn positive(secs: u64, s: &str) -> Result<CeremonyTimeout, String> {
    if secs == 0 {
        return Err(format!("the ceremony timeout `{s}` must be more than zero"));
    }
    if secs > 24 * 3600 {
        return Err(format!("the ceremony timeout `{s}` is more than a day"));
    }
    Ok(CeremonyTimeout(Duration::from_secs(secs)))
}

impl fmt::Display for CeremonyTimeout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.0.as_secs();
        let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
        let mut parts = Vec::new();
        for (n, unit) in [(h, "hour"), (m, "minute"), (s, "second")] {
            if n > 0 {
                parts.push(format!("{n} {unit}{}", if n == 1 { "" } else { "s" }));
            }
        }
        if parts.is_empty() {
            parts.push(format!("{} milliseconds", self.0.as_millis()));
        }
        f.write_str(&parts.join(" "))
    }
}

/// What reading one byte from the terminal gave.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadByte {
    Byte(u8),
    /// The deadline passed first.
    TimedOut,
    /// The terminal closed (hang-up, end of input).
    Eof,
}

/// A terminal the ceremony talks through.
pub trait Tty {
    /// One byte of input, waiting at most until `deadline`.
    fn read_byte(&mut self, deadline: Instant) -> io::Result<ReadByte>;
    /// Show text (never anything secret).
    fn write_str(&mut self, text: &str) -> io::Result<()>;
}

/// The controlling terminal (`/dev/tty`) in no-echo, character-at-a-time mode with signals
/// off (so Ctrl-C arrives as a byte). Dropping it restores the terminal as it was.
pub struct TerminalTty {
    file: File,
    saved: Termios,
    /// Restores `saved` if a signal ends custody during the ceremony.
    _guard: TerminalGuard,
}

fn terminal(source: io::Error) -> CliError {
    CliError::Terminal {
        channel: Channel::Ceremony,
        source,
    }
}

impl TerminalTty {
    /// Open the controlling terminal.
    pub fn open() -> Result<Self, CliError> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .open("/dev/tty")
            .map_err(terminal)?;
        Self::from_file(file).map_err(terminal)
    }

    /// Take over an open terminal device.
    pub fn from_file(file: File) -> io::Result<Self> {
        let saved = termios::tcgetattr(&file)?;
        let mut quiet = saved.clone();
        quiet.local_modes.remove(
            LocalModes::ECHO
                | LocalModes::ECHONL
                | LocalModes::ICANON
                | LocalModes::ISIG
                | LocalModes::IEXTEN,
        );
        quiet.special_codes[SpecialCodeIndex::VMIN] = 1;
        quiet.special_codes[SpecialCodeIndex::VTIME] = 0;
        let guard = TerminalGuard::new(&file, &saved);
        termios::tcsetattr(&file, OptionalActions::Flush, &quiet)?;
        Ok(TerminalTty {
            file,
            saved,
            _guard: guard,
        })
    }
}

impl Drop for TerminalTty {
    fn drop(&mut self) {
        // Discard anything typed but not read (it may be part of a share), then restore.
        let _ = termios::tcsetattr(&self.file, OptionalActions::Flush, &self.saved);
    }
}

impl Tty for TerminalTty {
    fn read_byte(&mut self, deadline: Instant) -> io::Result<ReadByte> {
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(ReadByte::TimedOut);
            }
            let ts = Timespec {
                tv_sec: left.as_secs().try_into().unwrap_or(i64::MAX),
                tv_nsec: left.subsec_nanos().into(),
            };
            let mut fds = [PollFd::new(&self.file, PollFlags::IN)];
            match rustix::event::poll(&mut fds, Some(&ts)) {
                Ok(0) => continue,
                Ok(_) => {}
                Err(rustix::io::Errno::INTR) => continue,
                Err(e) => return Err(e.into()),
            }
            let revents = fds[0].revents();
            if !revents.contains(PollFlags::IN)
                && revents.intersects(PollFlags::HUP | PollFlags::ERR | PollFlags::NVAL)
            {
                return Ok(ReadByte::Eof);
            }
            let mut b = [0u8; 1];
            match (&self.file).read(&mut b) {
                Ok(0) => return Ok(ReadByte::Eof),
                Ok(_) => return Ok(ReadByte::Byte(b[0])),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                // A pseudo-terminal whose other side closed reads as EIO.
                Err(e) if e.raw_os_error() == Some(rustix::io::Errno::IO.raw_os_error()) => {
                    return Ok(ReadByte::Eof);
                }
                Err(e) => return Err(e),
            }
        }
    }

    fn write_str(&mut self, text: &str) -> io::Result<()> {
        (&self.file).write_all(text.as_bytes())?;
        (&self.file).flush()
    }
}

/// One line of input, or why there is none.
pub enum Line {
    Text(Zeroizing<String>),
    Cancelled,
    TimedOut,
    Eof,
}

/// Longest line kept (a pasted token is a few hundred bytes).
const MAX_LINE: usize = 16 * 1024;

/// Read one line: Enter ends it, Backspace and Ctrl-U edit it, Ctrl-C / Ctrl-\ cancel the
/// ceremony, Ctrl-D on an empty line ends input, escape sequences (arrow keys) are ignored.
pub fn read_line(tty: &mut dyn Tty, deadline: Instant) -> io::Result<Line> {
    let mut buf = Zeroizing::new(Vec::with_capacity(MAX_LINE));
    let mut escape = 0u8; // 0 none, 1 after ESC, 2 inside a CSI sequence
    loop {
        let b = match tty.read_byte(deadline)? {
            ReadByte::Byte(b) => b,
            ReadByte::TimedOut => return Ok(Line::TimedOut),
            ReadByte::Eof => return Ok(Line::Eof),
        };
        match escape {
            1 => {
                escape = if b == b'[' || b == b'O' { 2 } else { 0 };
                continue;
            }
            2 => {
                if (0x40..=0x7e).contains(&b) {
                    escape = 0;
                }
                continue;
            }
            _ => {}
        }
        match b {
            0x03 | 0x1c => return Ok(Line::Cancelled),
            0x04 if buf.is_empty() => return Ok(Line::Eof),
            b'\r' | b'\n' => break,
            0x7f | 0x08 => {
                if let Some(last) = buf.pop() {
                    let _ = last;
                }
            }
            0x15 => buf.clear(),
            0x1b => escape = 1,
            b if b < 0x20 => {}
            b => {
                if buf.len() < MAX_LINE {
                    buf.push(b);
                }
            }
        }
    }
    let bytes = std::mem::take(&mut *buf);
    let text = match String::from_utf8(bytes) {
        Ok(s) => Zeroizing::new(s),
        Err(e) => {
            let bytes = Zeroizing::new(e.into_bytes());
            Zeroizing::new(String::from_utf8_lossy(&bytes).into_owned())
        }
    };
    Ok(Line::Text(text))
}

struct Session<'t, 'v, 'r> {
    tty: &'t mut dyn Tty,
    ceremony: Gathering<'v>,
    deadline: Instant,
    timeout: CeremonyTimeout,
    /// Every share refused on the spot, as (input label, reason), for the audit log.
    rejected: &'r mut Vec<(String, String)>,
    /// The remote ceremony's session (`--remote`): envelopes are opened with it.
    remote: Option<&'r mut HostSession>,
    /// The custodians' age identities (`--identity`), for shares delivered encrypted.
    identities: &'r [AgeIdentity],
}

const HELP: &str = "\
  a path         read a photo or scan of a share sheet, or a share file
  custody-share: paste the token (the text under the sheet's QR code)
  words          type the share's words one at a time
  status         show who has presented and how far each group is
  -----BEGIN AGE paste a remote custodian's envelope, all its lines (with --remote); or
                 give the envelope's file, or a photo of its QR code, as a path
  code           show the remote ceremony's code and comparison phrase again
  remove NAME    take back NAME's share (for example one the cross-check named)
  done           finish once the quorum is reached (or press Enter)
  abort          end the ceremony and wipe everything (Ctrl-C does the same)\n";

impl Session<'_, '_, '_> {
    /// Open the envelope `text` (from `what`) and present its share, or say why not.
    fn envelope(&mut self, what: &str, text: &str) -> Result<(), CliError> {
        let Some(session) = self.remote.as_deref_mut() else {
            return self.say(
                "That is a remote custodian's envelope, but this ceremony is not remote: \
                 start the command with --remote. Nothing was kept from it.\n",
            );
        };
        match super::remote_host::accept(session, what, text) {
            Ok(p) => self.present(p),
            Err((label, reason)) => {
                let msg = format!("Refused {label}: {reason}. Nothing of it was kept.\n");
                self.rejected.push((label, reason));
                self.say(&msg)
            }
        }
    }

    /// The rest of an envelope pasted at the prompt, whose first line was `first`: lines up
    /// to age's closing armor line (blank lines from pasting skipped), at most
    /// [`wire::MAX_ENVELOPE_TEXT_LEN`] characters. `None` (said why) when it is too long.
    fn pasted_envelope(&mut self, first: &str) -> Result<Option<Zeroizing<String>>, CliError> {
        let mut text = Zeroizing::new(String::with_capacity(wire::MAX_ENVELOPE_TEXT_LEN + 80));
        text.push_str(first.trim());
        text.push('\n');
        loop {
            let line = self.line_inline()?;
            let l = line.trim();
            if l.is_empty() {
                continue;
            }
            if text.len() + l.len() + 1 > wire::MAX_ENVELOPE_TEXT_LEN {
                self.say(&format!(
                    "\nThat envelope is longer than an envelope can be ({} characters); \
                     nothing of it was kept. Check that it was copied whole and alone.\n",
                    wire::MAX_ENVELOPE_TEXT_LEN
                ))?;
                return Ok(None);
            }
            text.push_str(l);
            text.push('\n');
            if l.starts_with(wire::AGE_ARMOR_END) {
                self.say("\n")?;
                return Ok(Some(text));
            }
        }
    }

    /// Show the remote ceremony's code and phrase again.
    fn show_code(&mut self) -> Result<(), CliError> {
        let msg = match self.remote.as_deref() {
            Some(r) => format!(
                "ceremony code: {}\ncomparison phrase: {}\nOpen until {}.\n",
                r.code().to_text().as_str(),
                r.phrase(),
                custody::timefmt::rfc3339(r.expires())
            ),
            None => "This ceremony is not remote (start the command with --remote).\n".into(),
        };
        self.say(&msg)
    }

    /// Show `text`, escaping what a terminal would obey (names, labels and paths in it come
    /// from share files and the officers); a lone "\r" is the ceremony's own carriage return.
    fn say(&mut self, text: &str) -> Result<(), CliError> {
        if text == "\r" {
            return self.tty.write_str(text).map_err(terminal);
        }
        self.tty
            .write_str(&custody::terminal_text::escape(text))
            .map_err(terminal)
    }

    /// The next line, turning Ctrl-C, the time limit and a closed terminal into errors.
    fn line(&mut self) -> Result<Zeroizing<String>, CliError> {
        let t = self.line_inline()?;
        // Enter is not echoed; move to the next line ourselves.
        self.say("\n")?;
        Ok(t)
    }

    fn status(&mut self) -> Result<(), CliError> {
        let who = self.ceremony.presented();
        let line = format!(
            "Progress: {}\nPresented so far: {}\n",
            self.ceremony.summary_line(),
            if who.is_empty() {
                "nobody yet".to_owned()
            } else {
                who.join(", ")
            }
        );
        self.say(&line)
    }

    fn intro(&mut self, vault: Option<&Vault>) -> Result<(), CliError> {
        let mut text = String::from(
            "Quorum ceremony. Nothing you type is shown on the screen. Ctrl-C or `abort` ends \
             the ceremony and keeps nothing.\n",
        );
        match vault {
            Some(v) => {
                text.push_str(&format!(
                    "Vault fingerprint {} (epoch {}): compare it with the one on your sheet.\n",
                    v.fingerprint(),
                    v.epoch()
                ));
                for l in v.policy().describe() {
                    text.push_str(&format!("  {l}\n"));
                }
            }
            None => text.push_str("No vault given: plain SLIP-39 shares will be combined.\n"),
        }
        if self.remote.is_some() {
            text.push_str(
                "Remote ceremony: remote custodians' envelopes are pasted here, or given as a \
                 file or a photo of their QR code; `code` shows the code and phrase again.\n",
            );
        }
        text.push_str(&format!("Time allowed: {}.\n", self.timeout));
        self.say(&text)
    }

    fn run(&mut self, vault: Option<&Vault>) -> Result<(), CliError> {
        self.intro(vault)?;
        loop {
            let prompt = if self.ceremony.is_ready() {
                "\nQuorum reached. Present more shares to cross-check, or press Enter to proceed\n> "
            } else {
                "\nNext custodian: scan path, paste token, or type `words` (`help` for more)\n> "
            };
            self.say(prompt)?;
            let line = self.line()?;
            let cmd = line.trim();
            let lower = Zeroizing::new(cmd.to_ascii_lowercase());
            match lower.as_str() {
                "" | "done" | "proceed" => {
                    if self.ceremony.is_ready() {
                        return Ok(());
                    }
                    if lower.is_empty() {
                        continue;
                    }
                    let msg = format!(
                        "Not yet: {}. More custodians must present.\n",
                        self.ceremony.summary_line()
                    );
                    self.say(&msg)?;
                    continue;
                }
                "status" => {
                    self.status()?;
                    continue;
                }
                "code" => {
                    self.show_code()?;
                    continue;
                }
                "help" | "?" => {
                    self.say(HELP)?;
                    continue;
                }
                "abort" | "quit" | "exit" => {
                    self.say("Ceremony aborted. Nothing was kept.\n")?;
                    return Err(CliError::CeremonyEnded(CeremonyEnd::Aborted));
                }
                "words" => {
                    if let Some(p) = self.words()? {
                        self.present(p)?;
                    }
                    continue;
                }
                _ => {}
            }
            if let Some(name) = lower
                .strip_prefix("remove ")
                .or_else(|| lower.strip_prefix("withdraw "))
            {
                let name = cmd[cmd.len() - name.len()..].trim().to_owned();
                let n = self.ceremony.withdraw(&name);
                let msg = if n == 0 {
                    format!("Nobody called {name} has presented; nothing was removed.\n")
                } else {
                    format!(
                        "{name}'s share was taken back and wiped. Progress: {}\n",
                        self.ceremony.summary_line()
                    )
                };
                self.say(&msg)?;
                continue;
            }
            if envelope_file::looks_like_envelope(cmd) {
                let first = Zeroizing::new(cmd.to_owned());
                drop(line);
                if let Some(text) = self.pasted_envelope(&first)? {
                    self.envelope("pasted at the terminal", &text)?;
                }
                continue;
            }
            if cmd.starts_with(wire::TOKEN_TEXT_PREFIX) {
                let r = input::parse_text("pasted token", cmd);
                drop(line);
                self.presented(r)?;
                continue;
            }
            if let Some(path) = as_existing_file(cmd) {
                drop(line);
                let name = path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_else(|| path.display().to_string());
                self.say(&format!("Reading {name} ...\n"))?;
                if self.remote.is_some()
                    && let Ok(Some(text)) = envelope_file::read_if_envelope(&path)
                {
                    self.envelope(&path.display().to_string(), &text)?;
                    continue;
                }
                let r = input::read_file_with(&path, self.identities);
                self.presented(r)?;
                continue;
            }
            if cmd.split_whitespace().count() >= custody::slip39::MIN_WORDS {
                let r = input::parse_text("pasted words", cmd);
                drop(line);
                self.presented(r)?;
                continue;
            }
            drop(line);
            self.say(
                "That is neither a file here, a token (custody-share:...), nor a command; \
                 nothing was kept from it. Type `help` for the choices.\n",
            )?;
        }
    }

    fn presented(&mut self, r: Result<Presented, InputError>) -> Result<(), CliError> {
        match r {
            Ok(p) => self.present(p),
            Err(e) => {
                let reason = input_problem(&e);
                self.rejected.push((e.label.clone(), reason.clone()));
                let msg = format!("Rejected: {reason}. Nothing was kept.\n");
                self.say(&msg)
            }
        }
    }

    fn present(&mut self, p: Presented) -> Result<(), CliError> {
        let label = p.label.clone();
        let copies_before = self.ceremony.copies_note();
        match self.ceremony.present(p) {
            Outcome::Accepted { member, progress } => {
                let mut msg = format!(
                    "Accepted: {} ({}, {} {}{}{}). Progress: {progress}\n",
                    member.custodian,
                    member.group,
                    if member.holders > 1 { "copy" } else { "share" },
                    member.member_number,
                    if member.signed {
                        ", signature verified"
                    } else {
                        ""
                    },
                    if member.source == Source::Envelope {
                        ", by envelope"
                    } else {
                        ""
                    }
                );
                let copies = self.ceremony.copies_note();
                if let Some(note) = copies.filter(|n| Some(n) != copies_before.as_ref()) {
                    msg.push_str(&format!("  {note}.\n"));
                }
                self.say(&msg)?;
                if self.ceremony.is_ready() {
                    let extra = self.ceremony.has_extra_shares();
                    let msg = match self.ceremony.cross_check() {
                        Ok(()) if extra => format!(
                            "Cross-check: all {} shares agree.\n",
                            self.ceremony.presented().len()
                        ),
                        Ok(()) => "The shares fit together (SLIP-39 digest verified).\n".into(),
                        Err(why) => format!(
                            "Cross-check FAILED: {why}. Type `remove NAME` to take a share back, \
                             or proceed and the check will stop there.\n"
                        ),
                    };
                    self.say(&msg)?;
                }
                Ok(())
            }
            Outcome::Rejected { reason, problem } => {
                let mut msg = format!("Rejected: {reason}. Nothing of it was kept.\n");
                if let Some(advice) = problem.as_ref().and_then(super::advice::share_problem) {
                    msg.push_str(&format!("  ({advice})\n"));
                }
                self.rejected.push((label, reason));
                self.say(&msg)
            }
        }
    }

    /// Word-by-word entry of one share. `None`: the officer dropped it.
    fn words(&mut self) -> Result<Option<Presented>, CliError> {
        let mut entry = WordEntry::new(self.ceremony.expected_words());
        let count = match entry.expected() {
            Some(n) => format!("This share has {n} words. "),
            None => String::new(),
        };
        self.say(&format!(
            "Type the words one per line (several on a line is fine), each followed by Enter. \
             {count}Nothing is shown: each word is confirmed by its number. The first four \
             letters are enough. `undo` removes the last word, `fix N` retypes word N, `done` \
             (or an empty line) finishes, `cancel` drops this share.\n"
        ))?;
        loop {
            self.say(&format!("word {}: ", entry.len() + 1))?;
            let line = self.line_inline()?;
            // Back to the start of the prompt line: the answer replaces "word N: ".
            self.say("\r")?;
            let cmd = Zeroizing::new(line.trim().to_ascii_lowercase());
            match cmd.as_str() {
                "undo" => {
                    let msg = match entry.undo() {
                        Some(n) => format!("removed word {}; {n} words so far\n", n + 1),
                        None => "no words yet\n".to_owned(),
                    };
                    self.say(&msg)?;
                    continue;
                }
                "cancel" => {
                    self.say("This share was dropped; nothing of it was kept.\n")?;
                    return Ok(None);
                }
                "abort" => {
                    self.say("Ceremony aborted. Nothing was kept.\n")?;
                    return Err(CliError::CeremonyEnded(CeremonyEnd::Aborted));
                }
                "status" => {
                    self.say(&format!("{} words typed so far.\n", entry.len()))?;
                    self.status()?;
                    continue;
                }
                "" | "done" => {
                    if let Some(p) = self.finish(&entry)? {
                        return Ok(Some(p));
                    }
                    continue;
                }
                _ => {}
            }
            if let Some(n) = cmd.strip_prefix("fix ") {
                let Ok(position) = n.trim().parse::<usize>() else {
                    self.say("write it as `fix N`, N being the word's number\n")?;
                    continue;
                };
                if position == 0 || position > entry.len() {
                    self.say(&format!("there is no word {position} yet\n"))?;
                    continue;
                }
                self.say(&format!("word {position} again: "))?;
                let again = self.line_inline()?;
                self.say("\r")?;
                let msg = match entry.replace(position, &again) {
                    Ok(_) => format!("word {position} ✓ (replaced)\n"),
                    Err(e) => format!("{e}\n"),
                };
                drop(again);
                self.say(&msg)?;
                if entry.looks_complete()
                    && let Some(p) = self.finish(&entry)?
                {
                    return Ok(Some(p));
                }
                continue;
            }
            drop(cmd);
            let mut msg = String::new();
            for w in line.split_whitespace() {
                match entry.push(w) {
                    Ok(t) => {
                        let of = entry
                            .expected()
                            .map(|e| format!(" of {e}"))
                            .unwrap_or_default();
                        msg.push_str(&format!(
                            "word {} ✓ ({}{of}{})\n",
                            t.position,
                            t.position,
                            if t.completed {
                                ", completed from its first letters"
                            } else {
                                ""
                            }
                        ));
                    }
                    Err(e) => {
                        msg.push_str(&format!("{e}\n"));
                        break;
                    }
                }
                if entry.looks_complete() {
                    break;
                }
            }
            drop(line);
            // Length unknown (first share of the ceremony) and a full custody share's worth of
            // words typed, but the checksum fails: say so now rather than wait for `done`.
            if entry.expected().is_none()
                && entry.len() == custody::gathering::words_for_value_len(32)
                && let Err(Slip39Error::InvalidChecksum { suggestion }) = entry.finish()
            {
                let n = entry.len();
                msg.push_str(&match suggestion {
                    Some((position, _)) => format!(
                        "{n} words so far. If this share has {n} words, its checksum does not \
                         match: word {position} is probably wrong; check it on the sheet and \
                         type `fix {position}`. Otherwise go on.\n"
                    ),
                    None => format!(
                        "{n} words so far. If this share has {n} words, its checksum does not \
                         match: check the words on the sheet (`fix N` retypes word N). \
                         Otherwise go on.\n"
                    ),
                });
            }
            self.say(&msg)?;
            if entry.looks_complete()
                && let Some(p) = self.finish(&entry)?
            {
                return Ok(Some(p));
            }
        }
    }

    /// A line read after an inline prompt ("word 5: "): the answer stays on that line. Ctrl-C,
    /// the time limit and a closed terminal become errors.
    fn line_inline(&mut self) -> Result<Zeroizing<String>, CliError> {
        let line = read_line(self.tty, self.deadline).map_err(terminal)?;
        match line {
            Line::Text(t) => Ok(t),
            Line::Cancelled => {
                self.say("\n^C Ceremony cancelled. Nothing was kept.\n")?;
                Err(CliError::CeremonyEnded(CeremonyEnd::Cancelled))
            }
            Line::TimedOut => {
                self.say(&format!(
                    "\nTime is up ({}). Nothing was kept.\n",
                    self.timeout
                ))?;
                Err(CliError::CeremonyEnded(CeremonyEnd::TimedOut(
                    self.timeout.to_string(),
                )))
            }
            Line::Eof => Err(CliError::CeremonyEnded(CeremonyEnd::Closed)),
        }
    }

    /// Decode the typed words; `None` (with the reason shown) when they do not form a share.
    fn finish(&mut self, entry: &WordEntry) -> Result<Option<Presented>, CliError> {
        match entry.finish() {
            Ok(share) => Ok(Some(Presented {
                label: "typed words".into(),
                source: Source::Words,
                token: None,
                share,
            })),
            Err(e) => {
                let msg = match e {
                    Slip39Error::InvalidChecksum {
                        suggestion: Some((position, _)),
                    } => format!(
                        "The share's checksum does not match: word {position} is probably wrong. \
                         Check it on the sheet and type `fix {position}`.\n"
                    ),
                    Slip39Error::InvalidChecksum { suggestion: None } => {
                        "The share's checksum does not match: at least one word is wrong. Check \
                         the words on the sheet; `fix N` retypes word N, `cancel` starts over.\n"
                            .to_owned()
                    }
                    Slip39Error::Empty => "No words yet.\n".to_owned(),
                    other => format!("{other}.\n"),
                };
                self.say(&msg)?;
                Ok(None)
            }
        }
    }
}

/// A share input's problem, without repeating any word of it.
fn input_problem(e: &InputError) -> String {
    match &e.kind {
        InputErrorKind::Words(Slip39Error::UnknownWord { position, .. }) => format!(
            "share {}: word {position} is not a SLIP-39 word; check its spelling on the sheet",
            e.label
        ),
        _ => e.to_string(),
    }
}

/// The line as a path to an existing file: surrounding quotes (added by drag and drop) and a
/// leading `~/` are understood.
fn as_existing_file(line: &str) -> Option<PathBuf> {
    let t = line.trim();
    let t = t
        .strip_prefix('\'')
        .and_then(|s| s.strip_suffix('\''))
        .or_else(|| t.strip_prefix('"').and_then(|s| s.strip_suffix('"')))
        .unwrap_or(t);
    let path = match t.strip_prefix("~/") {
        Some(rest) => PathBuf::from(std::env::var_os("HOME")?).join(rest),
        None => PathBuf::from(t),
    };
    path.is_file().then_some(path)
}

/// Run a ceremony on `tty` until a quorum is reached and the officers proceed. On any other
/// ending every share is wiped and an error says why.
#[cfg(test)]
pub fn collect_on(
    tty: &mut dyn Tty,
    vault: Option<&Vault>,
    timeout: Duration,
) -> Result<Vec<Presented>, CliError> {
    collect_on_logged(tty, vault, timeout, None, &[], &mut Vec::new())
}

/// [`collect_on`], adding every share refused on the spot to `rejected` as (label, reason),
/// also when the ceremony ends in an error; envelopes are opened with `remote`, if given, and
/// shares delivered encrypted with `identities`.
pub fn collect_on_logged<'r>(
    tty: &mut dyn Tty,
    vault: Option<&Vault>,
    timeout: Duration,
    remote: Option<&'r mut HostSession>,
    identities: &'r [AgeIdentity],
    rejected: &'r mut Vec<(String, String)>,
) -> Result<Vec<Presented>, CliError> {
    let mut s = Session {
        tty,
        ceremony: Gathering::new(vault),
        deadline: Instant::now() + timeout,
        timeout: CeremonyTimeout(timeout),
        rejected,
        remote,
        identities,
    };
    s.run(vault)?;
    let who = s.ceremony.presented().join(", ");
    s.say(&format!("Proceeding with the shares of {who}.\n"))?;
    Ok(s.ceremony.into_shares())
}

/// The ceremony on this process's terminal. The conversation happens on `/dev/tty`; `out` gets
/// one closing line naming who presented (nothing secret).
pub fn collect(
    vault: Option<&Vault>,
    timeout: Duration,
    remote: Option<&mut HostSession>,
    identities: &[AgeIdentity],
    out: &mut dyn Write,
    rejected: &mut Vec<(String, String)>,
) -> Result<Vec<Presented>, CliError> {
    let shares = {
        let mut tty = TerminalTty::open()?;
        collect_on_logged(&mut tty, vault, timeout, remote, identities, rejected)?
        // `tty` drops here: the terminal is restored before anything else is printed.
    };
    writeln!(out, "{} share(s) presented at the terminal.", shares.len())?;
    Ok(shares)
}

/// Whether these arguments ask for the interactive ceremony: `--interactive`, or no share
/// (nor envelope) given on the command line while standard input is a terminal.
pub fn wants_ceremony(args: &ShareArgs) -> bool {
    args.interactive
        || (args.shares.is_empty()
            && !args.words_stdin
            && args.remote.envelopes.is_empty()
            && args.remote.envelope_dir.is_none()
            && io::stdin().is_terminal())
}

/// The shares a quorum presented, and the remote ceremony they were gathered in.
pub struct Gathered {
    /// The shares, in order of presentation.
    pub shares: Vec<Presented>,
    /// What the audit log keeps of the remote ceremony (`--remote`).
    pub remote: Option<CeremonyRecord>,
}

/// The quorum's shares: from the ceremony at the terminal when [`wants_ceremony`], otherwise
/// from `--share` / `--words-stdin`, each checked against `vault` when given. With
/// `--remote`, envelopes too (at the terminal, or waited for with `--envelope` /
/// `--envelope-dir`) for the ceremony `remote`: the vault (or key set) whose id and epoch the
/// code names, and the action (`drill`, `exec`, ...). Shares refused on the spot are added to
/// `rejected`. The remote session's key is erased before this returns, whatever the outcome.
pub fn shares_from_args_or_tty(
    args: &ShareArgs,
    vault: Option<&Vault>,
    remote: Option<(&Vault, &str)>,
    out: &mut dyn Write,
    rejected: &mut Vec<(String, String)>,
) -> Result<Gathered, CliError> {
    // Read before the code is shown: a bad identity file fails before anyone contributes.
    let identities = super::deliver::identities(&args.identities)?;
    let mut remote = super::remote_host::open(args, remote)?;
    let shares = if wants_ceremony(args) {
        collect(
            vault,
            args.timeout().0,
            remote.as_mut(),
            &identities,
            out,
            rejected,
        )?
    } else if let Some(session) = remote.as_mut() {
        super::remote_host::collect_waiting(args, vault, session, &identities, out, rejected)?
    } else {
        shares_in::collect(args, &identities)?
    };
    let record = remote.as_ref().map(CeremonyRecord::of);
    drop(remote);
    Ok(Gathered {
        shares,
        remote: record,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_parse_and_print() {
        let t = |s: &str| s.parse::<CeremonyTimeout>().map(|t| t.0.as_secs());
        assert_eq!(t("10m"), Ok(600));
        assert_eq!(t("90s"), Ok(90));
        assert_eq!(t("90"), Ok(90));
        assert_eq!(t("1h"), Ok(3600));
        assert_eq!(t("1m30s"), Ok(90));
        assert_eq!(t(" 2S "), Ok(2));
        for bad in ["", "0", "0s", "m", "10x", "5m3", "-1m", "25h"] {
            assert!(t(bad).is_err(), "{bad}");
        }
        let show = |s: u64| CeremonyTimeout(Duration::from_secs(s)).to_string();
        assert_eq!(show(600), "10 minutes");
        assert_eq!(show(2), "2 seconds");
        assert_eq!(show(90), "1 minute 30 seconds");
        assert_eq!(CeremonyTimeout::default().0, Duration::from_secs(600));
    }

    #[test]
    fn quoted_and_missing_paths() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("a b.png");
        std::fs::write(&f, b"x").unwrap();
        let quoted = format!("'{}'", f.display());
        assert_eq!(as_existing_file(&quoted), Some(f.clone()));
        assert_eq!(as_existing_file(&f.display().to_string()), Some(f));
        assert_eq!(as_existing_file("academic acid"), None);
        assert_eq!(as_existing_file(&dir.path().display().to_string()), None);
    }
}
