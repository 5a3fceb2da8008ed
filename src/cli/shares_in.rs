//! Collecting a quorum's share inputs from the command line: `--share FILE` (or `-` for
//! standard input) and `--words-stdin` (one token or set of words per line). Photos and scans
//! are announced on the progress line while they are decoded.

use std::path::Path;

use super::secret_input::stdin_all;
use super::{CliError, ShareArgs};
use custody::delivery::AgeIdentity;
use custody::input::{self, InputError, InputErrorKind, Presented};
use custody::progress::Progress;
use custody::wire::MAX_SHARE_INPUT_BYTES;

/// Read one share input path (`-` = all of standard input), input `at.0` of `at.1` read
/// together: a picture is announced to `progress` before it is decoded.
pub fn read_one(
    path: &Path,
    at: (usize, usize),
    progress: &mut dyn Progress,
) -> Result<Presented, InputError> {
    read_one_with(path, &[], at, progress)
}

/// [`read_one`], opening a share delivered encrypted to its custodian with `identities`.
pub fn read_one_with(
    path: &Path,
    identities: &[AgeIdentity],
    at: (usize, usize),
    progress: &mut dyn Progress,
) -> Result<Presented, InputError> {
    if path == Path::new("-") {
        let bytes =
            stdin_all("the share on standard input", MAX_SHARE_INPUT_BYTES).map_err(|e| {
                InputError {
                    label: "stdin".into(),
                    kind: InputErrorKind::Io(std::io::Error::other(e.to_string())),
                }
            })?;
        return input::parse_bytes_with("stdin", &bytes, identities, at, progress);
    }
    input::read_file_reporting_with(path, identities, at, progress)
}

/// Every share the arguments name, in order, opening those delivered encrypted with
/// `identities` (`--identity`); all unreadable inputs are reported together.
pub fn collect(args: &ShareArgs, identities: &[AgeIdentity]) -> Result<Vec<Presented>, CliError> {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    let stdin_uses =
        args.shares.iter().filter(|p| *p == Path::new("-")).count() + usize::from(args.words_stdin);
    if stdin_uses > 1 {
        return Err(CliError::Usage(
            "standard input can feed only one of `--share -` and `--words-stdin`".into(),
        ));
    }
    let mut progress = super::progress::on_terminal();
    for (i, p) in args.shares.iter().enumerate() {
        match read_one_with(p, identities, (i + 1, args.shares.len()), &mut *progress) {
            Ok(s) => out.push(s),
            Err(e) => errors.push(e),
        }
    }
    drop(progress);
    if args.words_stdin {
        let bytes = stdin_all("--words-stdin", super::secret_input::MAX_STDIN_TEXT)?;
        let text = std::str::from_utf8(&bytes)
            .map_err(|_| CliError::Usage("standard input is not text".into()))?;
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            match input::parse_text(&format!("stdin line {}", i + 1), line) {
                Ok(s) => out.push(s),
                Err(e) => errors.push(e),
            }
        }
    }
    match errors.len() {
        0 => Ok(out),
        1 => Err(CliError::Input(errors.remove(0))),
        _ => Err(CliError::Inputs(errors)),
    }
}
