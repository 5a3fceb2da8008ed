//! Ratification on the command line (`--ratify` on quorum commands): under the writer lock,
//! show the metadata of every credential added or rotated without a quorum (never a secret),
//! test-open each, list the agent access policy's changes, and, just before signing, [`Asking`]
//! shows exactly what would be signed (name, exchange, scope, why it waits, digest prefix; the
//! policy's changes; never a secret). At a terminal (standard input is one) it asks the quorum
//! "Sign these N entries? [y/N]" there, and anything but yes — no, Enter, end of input, Ctrl-C,
//! the `--timeout` running out — signs nothing. Without a terminal it prints the list on
//! standard error and signs exactly that. Without `--ratify`, remind the officers what is
//! waiting.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use super::CliError;
use super::interactive::{CeremonyTimeout, Line, TerminalTty, Tty, read_line};
use custody::keys::hex;
use custody::ops::ratify::{Answer, Consent, Ratified, Review, ToSign, Waiting};
use custody::terminal_text::escape;
use custody::timefmt;
use custody::vault::access::RuleChange;
use custody::vault::credential::Credential;
use custody::vault::hosts::HostChange;
use custody::vault::ratify::EntryState;

/// Hex digits of an entry's digest shown for the officers to compare.
const DIGEST_PREFIX: usize = 16;

/// The command line's [`Consent`]: asks at a terminal, else lists and signs (module docs).
pub struct Asking {
    timeout: CeremonyTimeout,
}

impl Asking {
    /// Ask with at most `timeout` for the answer (the command's `--timeout`).
    pub fn new(timeout: CeremonyTimeout) -> Self {
        Asking { timeout }
    }
}

impl Consent for Asking {
    fn consent(&mut self, review: &Review) -> Answer {
        if std::io::stdin().is_terminal() {
            return match TerminalTty::open() {
                Ok(mut tty) => ask_on(&mut tty, review, self.timeout.0),
                Err(e) => Answer::Decline(format!("the quorum could not be asked: {e}")),
            };
        }
        let mut err = super::escaping::stderr();
        let listed = write!(
            err,
            "Standard input is not a terminal, so nobody is asked: signing exactly what is \
             listed.\n{}",
            listing(review)
        )
        .and_then(|()| err.flush());
        match listed {
            Ok(()) => Answer::Sign,
            Err(e) => Answer::Decline(format!("the list could not be shown ({e})")),
        }
    }
}

impl super::QuorumArgs {
    /// How to agree to a ratification, when `--ratify` asks for one.
    pub fn consent(&self) -> Option<Asking> {
        self.ratify.then(|| Asking::new(self.shares.timeout()))
    }
}

/// Why an entry awaits the signature, in a word or two.
fn why(state: &EntryState) -> String {
    match state {
        EntryState::Pending(p) => p.as_str().to_owned(),
        EntryState::Unverified => "re-sign (the ratification record does not verify)".into(),
        other => other.describe(),
    }
}

/// One entry as shown before signing.
fn entry_line(e: &ToSign) -> String {
    format!(
        "  {} [{}] digest {}",
        describe(&e.credential),
        why(&e.state),
        &hex(&e.digest)[..DIGEST_PREFIX]
    )
}

/// What would be signed, ending with the question (without its answer).
pub fn listing(review: &Review) -> String {
    let n = review.entries.len() + review.access.len() + review.hosts.len();
    let mut text = format!(
        "To ratify: {n} {} (check each against your change records):\n",
        if n == 1 { "entry" } else { "entries" }
    );
    for e in &review.entries {
        text.push_str(&entry_line(e));
        text.push('\n');
    }
    for change in &review.access {
        text.push_str(&format!("  agent access policy: {}\n", change.describe()));
    }
    for change in &review.hosts {
        text.push_str(&format!(
            "  known hosts: {} (compare the fingerprint with `custody host-key show` on that \
             machine)\n",
            change.describe()
        ));
    }
    if let Some(rb) = &review.over_rollback {
        text.push_str(&format!(
            "Signing also accepts this older copy of the vault: {rb}\n"
        ));
    }
    text
}

/// The question for `review`.
fn question(review: &Review) -> String {
    match review.entries.len() + review.access.len() + review.hosts.len() {
        0 => "Sign the ratification record again over this older copy? [y/N] ".into(),
        1 => "Sign this 1 entry? [y/N] ".into(),
        n => format!("Sign these {n} entries? [y/N] "),
    }
}

/// Show `review` on `tty` and ask; only `y` or `yes` signs. The answer is shown back (it is
/// not secret; the terminal does not echo).
pub fn ask_on(tty: &mut dyn Tty, review: &Review, timeout: Duration) -> Answer {
    let text = format!("{}{}", listing(review), question(review));
    if let Err(e) = tty.write_str(&escape(&text)) {
        return Answer::Decline(format!("the quorum could not be asked: {e}"));
    }
    let answer = match read_line(tty, Instant::now() + timeout) {
        Ok(Line::Text(t)) => {
            let _ = tty.write_str(&format!("{}\n", escape(t.trim())));
            if matches!(t.trim().to_ascii_lowercase().as_str(), "y" | "yes") {
                return Answer::Sign;
            }
            "the quorum did not answer yes".to_owned()
        }
        Ok(Line::Cancelled) => "the quorum cancelled (Ctrl-C)".to_owned(),
        Ok(Line::TimedOut) => format!("no answer came within {}", CeremonyTimeout(timeout)),
        Ok(Line::Eof) => "the terminal closed before an answer (end of input)".to_owned(),
        Err(e) => format!("the answer could not be read ({e})"),
    };
    let _ = tty.write_str("Nothing was signed.\n");
    Answer::Decline(answer)
}

/// One line of public metadata.
pub fn describe(c: &Credential) -> String {
    let fields: Vec<&str> = c.fields.iter().map(|f| f.as_str()).collect();
    format!(
        "{} — {}{} — scope {} — fields {} — rotated {}{}{}",
        c.name,
        c.exchange,
        if c.account.is_empty() {
            String::new()
        } else {
            format!(" account {}", c.account)
        },
        c.scope_string(),
        fields.join(","),
        timefmt::date(c.rotated),
        c.expires
            .as_ref()
            .map(|e| format!(" — expires {e}"))
            .unwrap_or_default(),
        if c.ip_allowlist.is_empty() {
            String::new()
        } else {
            format!(" — IP allow-list: {}", c.ip_allowlist)
        },
    )
}

/// Print what a ratification reviewed and signed.
pub fn print_ratified(r: &Ratified, out: &mut dyn Write) -> Result<(), CliError> {
    if let Some(rb) = &r.over_rollback {
        writeln!(out, "Ratifying despite a rollback: {rb}")?;
    }
    if !r.reviewed.is_empty() {
        writeln!(
            out,
            "Credentials awaiting ratification (check each against your change records):"
        )?;
        for (c, state) in &r.reviewed {
            writeln!(out, "  {} [{}]", describe(c), state.describe())?;
        }
    }
    print_access_changes(
        "Agent access policy changes awaiting ratification (check each against your change \
         records):",
        &r.access_reviewed,
        out,
    )?;
    print_host_changes(
        "Known-host changes awaiting ratification (check each fingerprint with the host's \
         officer):",
        &r.hosts_reviewed,
        out,
    )?;
    match &r.signed {
        None => writeln!(out, "Credentials: nothing awaits ratification.")?,
        Some(names)
            if names.is_empty()
                && (!r.access_reviewed.is_empty() || !r.hosts_reviewed.is_empty()) =>
        {
            writeln!(
                out,
                "The quorum signed generation {}, covering {} credential(s).",
                r.generation, r.covered
            )?
        }
        Some(names) => writeln!(
            out,
            "Ratified {} credential(s): the quorum signed generation {}, covering {} credential(s).",
            names.len(),
            r.generation,
            r.covered
        )?,
    }
    if r.signed.is_some() && !r.access_reviewed.is_empty() {
        writeln!(
            out,
            "Agent access policy: {} change(s) ratified; {} access rule(s) in force.",
            r.access_reviewed.len(),
            r.access_in_force
        )?;
    }
    if r.signed.is_some() && !r.hosts_reviewed.is_empty() {
        writeln!(
            out,
            "Known hosts: {} change(s) ratified; {} host(s) trusted.",
            r.hosts_reviewed.len(),
            r.hosts_trusted
        )?;
    }
    Ok(())
}

/// The changes to the agent access policy awaiting (or under) ratification, under `heading`.
pub fn print_access_changes(
    heading: &str,
    changes: &[RuleChange],
    out: &mut dyn Write,
) -> Result<(), CliError> {
    if !changes.is_empty() {
        writeln!(out, "{heading}")?;
        for c in changes {
            writeln!(out, "  {}", c.describe())?;
        }
    }
    Ok(())
}

/// The changes to the known hosts awaiting (or under) ratification, under `heading`.
pub fn print_host_changes(
    heading: &str,
    changes: &[HostChange],
    out: &mut dyn Write,
) -> Result<(), CliError> {
    if !changes.is_empty() {
        writeln!(out, "{heading}")?;
        for c in changes {
            writeln!(out, "  {}", c.describe())?;
        }
    }
    Ok(())
}

/// Print what awaits ratification and any tampering, and say what to do.
pub fn print_waiting(w: &Waiting, out: &mut dyn Write) -> Result<(), CliError> {
    if !w.pending.is_empty() {
        writeln!(
            out,
            "{} credential(s) await ratification; `exec` will not hand them out until a quorum \
             re-runs this command with --ratify (it lists them and, at a terminal, asks before \
             signing; without one it signs exactly what it lists):",
            w.pending.len()
        )?;
        for c in &w.pending {
            writeln!(out, "  {}", describe(c))?;
        }
    }
    print_access_changes(
        &format!(
            "{} agent access policy change(s) await ratification; the agent applies them only \
             after a quorum re-runs this command with --ratify:",
            w.access_pending.len()
        ),
        &w.access_pending,
        out,
    )?;
    print_host_changes(
        &format!(
            "{} known-host change(s) await ratification; custodians trust a host's ceremony \
             codes only after a quorum re-runs this command with --ratify:",
            w.hosts_pending.len()
        ),
        &w.hosts_pending,
        out,
    )?;
    for line in &w.tampered {
        writeln!(out, "warning: {line}")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::interactive_tests::Script;
    use custody::vault::credential::{FieldName, Pending, Scope};

    fn review() -> Review {
        let credential = Credential {
            name: "binance-main".into(),
            exchange: "binance".into(),
            account: String::new(),
            scope: vec![Scope::Trade],
            ip_allowlist: String::new(),
            created: 1_790_000_000,
            rotated: 1_790_000_000,
            expires: None,
            note: String::new(),
            fields: vec![FieldName::ApiKey, FieldName::ApiSecret],
            sealed: String::new(),
            pending: Some(Pending::Rotated),
        };
        Review {
            entries: vec![ToSign {
                credential,
                state: EntryState::Pending(Pending::Rotated),
                digest: [0xab; 32],
            }],
            access: Vec::new(),
            hosts: Vec::new(),
            over_rollback: None,
        }
    }

    fn ask(lines: &[&str]) -> (Answer, String) {
        let mut tty = Script::new(lines);
        let answer = ask_on(&mut tty, &review(), Duration::from_secs(5));
        (answer, tty.output)
    }

    #[test]
    fn the_quorum_sees_the_entries_then_the_question() {
        let (answer, shown) = ask(&["YES"]);
        assert_eq!(answer, Answer::Sign);
        assert!(
            shown.starts_with(
                "To ratify: 1 entry (check each against your change records):\n  binance-main \
                 — binance — scope trade — fields api_key,api_secret — rotated "
            ),
            "{shown}"
        );
        assert!(
            shown.contains("[rotated] digest abababababababab\nSign this 1 entry? [y/N] YES\n"),
            "{shown}"
        );
    }

    #[test]
    fn anything_but_yes_signs_nothing() {
        for (lines, reason) in [
            (&["n"][..], "the quorum did not answer yes"),
            (&[""], "the quorum did not answer yes"),
            (&["sure"], "the quorum did not answer yes"),
            (&["\u{3}"], "the quorum cancelled (Ctrl-C)"),
            (
                &["\u{4}"],
                "the terminal closed before an answer (end of input)",
            ),
            (&[], "no answer came within 5 seconds"),
        ] {
            let (answer, shown) = ask(lines);
            assert_eq!(answer, Answer::Decline(reason.into()), "{lines:?}");
            assert!(shown.ends_with("Nothing was signed.\n"), "{shown}");
        }
    }
}
