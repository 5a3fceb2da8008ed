//! Progress of slow work (writing many sheets, reading photos of sheets) on one line of the
//! terminal, rewritten in place — "writing sheets: 3/12 carol", "reading photo 1/3: a.jpg" —
//! and erased before anything else is printed, so the command's output is the same as
//! without it. Shown on standard error, and only when standard output and standard error
//! are both terminals and the command does not print JSON ([`enable`], called once by
//! `main`); otherwise [`on_terminal`] gives a reporter that shows nothing.
//!
//! The line's own carriage return and erase are custody's; the subject (a custodian's name, a
//! path) is escaped ([`custody::terminal_text`]) and the line is cut to the terminal's width
//! so that it never wraps (a wrapped line could not be erased).

use std::io::{self, IsTerminal, Write};
use std::sync::OnceLock;

use custody::progress::{Progress, Silent, Step, Task};
use custody::terminal_text::escape;

/// Go to the start of the line and erase it.
const ERASE: &str = "\r\x1b[K";

/// Width assumed when the terminal does not say.
const DEFAULT_WIDTH: usize = 80;

static SHOWN: OnceLock<bool> = OnceLock::new();

/// Decide once, for the whole command, whether progress is shown: with `json` never,
/// otherwise when standard output and standard error are both terminals.
pub fn enable(json: bool) {
    let _ = SHOWN.set(!json && io::stdout().is_terminal() && io::stderr().is_terminal());
}

/// The reporter a slow step should use: the line on standard error if [`enable`] allowed it,
/// else one that shows nothing. Drop it (which erases the line) before printing the result.
pub fn on_terminal() -> Box<dyn Progress> {
    if *SHOWN.get().unwrap_or(&false) {
        let width = rustix::termios::tcgetwinsize(io::stderr())
            .ok()
            .map(|w| usize::from(w.ws_col))
            .filter(|&w| w > 0)
            .unwrap_or(DEFAULT_WIDTH);
        Box::new(Line::new(io::stderr(), width))
    } else {
        Box::new(Silent)
    }
}

/// The text of one step, escaped, before it is cut to the width.
pub fn describe(step: &Step<'_>) -> String {
    let subject = escape(step.subject);
    match step.task {
        Task::WritingSheets => format!("writing sheets: {}/{} {subject}", step.number, step.total),
        Task::ReadingPicture => {
            format!("reading photo {}/{}: {subject}", step.number, step.total)
        }
    }
}

/// One line of a terminal `width` columns wide, rewritten at each step and erased when
/// dropped (if anything was shown).
pub struct Line<W: Write> {
    out: W,
    width: usize,
    shown: bool,
}

impl<W: Write> Line<W> {
    /// A progress line on `out`, a terminal `width` columns wide.
    pub fn new(out: W, width: usize) -> Self {
        Line {
            out,
            width,
            shown: false,
        }
    }
}

impl<W: Write> Progress for Line<W> {
    fn step(&mut self, step: Step<'_>) {
        // One column is left free: a character in the last column makes some terminals wrap.
        let text: String = describe(&step)
            .chars()
            .take(self.width.saturating_sub(1))
            .collect();
        // Progress is a courtesy: a terminal that cannot be written to does not stop the work.
        let _ = write!(self.out, "{ERASE}{text}").and_then(|()| self.out.flush());
        self.shown = true;
    }
}

impl<W: Write> Drop for Line<W> {
    fn drop(&mut self) {
        if self.shown {
            let _ = write!(self.out, "{ERASE}").and_then(|()| self.out.flush());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(task: Task, number: usize, total: usize, subject: &str) -> Step<'_> {
        Step {
            task,
            number,
            total,
            subject,
        }
    }

    #[test]
    fn each_step_rewrites_the_line_and_the_end_erases_it() {
        let mut out = Vec::new();
        {
            let mut line = Line::new(&mut out, 80);
            line.step(step(Task::WritingSheets, 1, 12, "alice"));
            line.step(step(Task::WritingSheets, 2, 12, "bob"));
        }
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "\r\x1b[Kwriting sheets: 1/12 alice\r\x1b[Kwriting sheets: 2/12 bob\r\x1b[K"
        );
    }

    #[test]
    fn nothing_shown_nothing_erased() {
        let mut out = Vec::new();
        drop(Line::new(&mut out, 80));
        assert!(out.is_empty());
    }

    #[test]
    fn subjects_are_escaped_and_the_line_never_wraps() {
        let mut out = Vec::new();
        {
            let mut line = Line::new(&mut out, 30);
            line.step(step(
                Task::ReadingPicture,
                1,
                3,
                "\x1b[2Jscan\u{202E}gpj.png",
            ));
        }
        let text = String::from_utf8(out).unwrap();
        let shown = text
            .strip_prefix("\r\x1b[K")
            .and_then(|t| t.strip_suffix("\r\x1b[K"))
            .unwrap();
        assert_eq!(shown, "reading photo 1/3: \\u001B[2Js");
        assert_eq!(shown.chars().count(), 29);
        assert!(!shown.contains('\x1b'));
    }
}
