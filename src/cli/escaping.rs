//! Everything the command line prints goes through [`Escaping`], which writes text custody did
//! not write (names, paths, vault and audit fields) so that a terminal shows it instead of
//! obeying it ([`custody::terminal_text`]). The only output exempt is custody's own escape
//! codes: the coloured QR code of `sheet --format terminal` on a terminal, and the progress
//! line's return-and-erase (`progress.rs`, which escapes the names and paths it shows).

use std::io::{self, Write};

use custody::terminal_text::escape;

/// Standard error, escaped.
pub fn stderr() -> Escaping<io::Stderr> {
    Escaping::new(io::stderr())
}

/// A writer that escapes what a terminal would act on; bytes that are not UTF-8 are shown as
/// `\xNN`. Text is passed on as soon as it is whole (a character split across writes waits for
/// its other bytes).
pub struct Escaping<W: Write> {
    inner: W,
    pending: Vec<u8>,
}

impl<W: Write> Escaping<W> {
    /// Escape what is written to `inner`.
    pub fn new(inner: W) -> Self {
        Escaping {
            inner,
            pending: Vec::new(),
        }
    }

    /// Pass on what is whole; with `all`, also the bytes of an unfinished character.
    fn drain(&mut self, all: bool) -> io::Result<()> {
        loop {
            match std::str::from_utf8(&self.pending) {
                Ok(text) => {
                    self.inner.write_all(escape(text).as_bytes())?;
                    self.pending.clear();
                    return Ok(());
                }
                Err(e) => {
                    let good = e.valid_up_to();
                    let text = std::str::from_utf8(&self.pending[..good]).unwrap_or_default();
                    self.inner.write_all(escape(text).as_bytes())?;
                    let bad = match e.error_len() {
                        Some(n) => n,
                        None if all => self.pending.len() - good,
                        None => {
                            self.pending.drain(..good);
                            return Ok(());
                        }
                    };
                    for b in &self.pending[good..good + bad] {
                        write!(self.inner, "\\x{b:02X}")?;
                    }
                    self.pending.drain(..good + bad);
                }
            }
        }
    }
}

impl<W: Write> Write for Escaping<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        // Whole text with nothing held back goes straight through, uncopied (a document
        // holding secret values is written whole, in printable ASCII).
        if self.pending.is_empty()
            && let Ok(text) = std::str::from_utf8(buf)
        {
            self.inner.write_all(escape(text).as_bytes())?;
            return Ok(buf.len());
        }
        self.pending.extend_from_slice(buf);
        self.drain(false)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.drain(true)?;
        self.inner.flush()
    }
}

impl<W: Write> Drop for Escaping<W> {
    fn drop(&mut self) {
        let _ = self.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn through(chunks: &[&[u8]]) -> String {
        let mut out = Vec::new();
        {
            let mut w = Escaping::new(&mut out);
            for c in chunks {
                w.write_all(c).unwrap();
            }
        }
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn escapes_across_writes_and_keeps_split_characters_whole() {
        assert_eq!(
            through(&[b"name: \x1b[2J", b"ok\n"]),
            "name: \\u001B[2Jok\n"
        );
        let rlo = "\u{202E}".as_bytes();
        assert_eq!(through(&[b"a", &rlo[..1], &rlo[1..], b"b"]), "a\\u202Eb");
        let e = "é".as_bytes();
        assert_eq!(through(&[&e[..1], &e[1..]]), "é");
        assert_eq!(
            through(&[b"bad \xff byte", b" cut \xc3"]),
            "bad \\xFF byte cut \\xC3"
        );
    }

    #[test]
    fn whole_safe_text_is_passed_on_without_a_copy() {
        // A JSON document holding secret values (`creds show --reveal --json`) is written
        // whole and is printable ASCII: it must reach the terminal without being copied
        // into the writer's own buffer, which does not zeroize.
        let mut out = Vec::new();
        let mut w = Escaping::new(&mut out);
        w.write_all(b"{\"api_secret\":\"s\\u00e9\"}\n").unwrap();
        assert_eq!(w.pending.capacity(), 0, "the text was copied");
        drop(w);
        assert_eq!(out, b"{\"api_secret\":\"s\\u00e9\"}\n");
    }
}
