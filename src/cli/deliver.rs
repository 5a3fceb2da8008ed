//! The command line's side of delivered shares: `--deliver NAME=RECIPIENT` and
//! `--deliver-file FILE` (on init, reshare, rotate-master, replace-custodian and extend), and
//! `--identity FILE` for reading shares delivered encrypted to their custodian.

use std::path::{Path, PathBuf};

use clap::Args;
use custody::delivery::{AgeIdentity, Delivery, Recipients};
use custody::safe_file::{self, ReadRules};
use custody::terminal_text::escape;
use custody::wire;

use super::CliError;

/// Which custodians receive their new share encrypted to their own age recipient.
#[derive(Args, Debug, Default, Clone)]
pub struct DeliverArgs {
    /// Write NAME's share file and sheets only as age ciphertexts (FILE.age) to their own age
    /// recipient (age1..., from `age-keygen`; several as age1...,age1...). Repeat per
    /// custodian.
    #[arg(long = "deliver", value_name = "NAME=RECIPIENT")]
    pub deliver: Vec<String>,
    /// Read the custodians to deliver to from FILE: one per line, `NAME RECIPIENT` or
    /// `NAME=RECIPIENT`; `#` comments and blank lines are ignored.
    #[arg(long = "deliver-file", value_name = "FILE")]
    pub deliver_file: Option<PathBuf>,
}

impl DeliverArgs {
    /// The delivery these options describe (empty when none is given). A custodian named
    /// twice, in the options or the file or across both, is refused.
    pub fn delivery(&self) -> Result<Delivery, CliError> {
        let mut d = Delivery::new();
        for spec in &self.deliver {
            d.add_spec(spec)
                .map_err(|e| CliError::Usage(format!("--deliver: {e}")))?;
        }
        if let Some(path) = &self.deliver_file {
            let shown = escape(&path.display().to_string()).into_owned();
            let bytes = safe_file::read(
                path,
                ReadRules::named(wire::MAX_DELIVER_FILE_BYTES).or_pipe(),
            )
            .map_err(|e| CliError::Usage(format!("--deliver-file {shown}: {e}")))?;
            let text = std::str::from_utf8(&bytes).map_err(|_| {
                CliError::Usage(format!(
                    "--deliver-file {shown}: it is not text; write one `NAME RECIPIENT` per line"
                ))
            })?;
            let listed = Delivery::parse_list(text)
                .map_err(|e| CliError::Usage(format!("--deliver-file {shown}: {e}")))?;
            d.merge(listed)
                .map_err(|e| CliError::Usage(format!("--deliver-file {shown}: {e}")))?;
        }
        Ok(d)
    }
}

/// Read every `--identity FILE` (standard age identity files).
pub fn identities(paths: &[PathBuf]) -> Result<Vec<AgeIdentity>, CliError> {
    let mut out = Vec::new();
    for p in paths {
        out.extend(
            custody::delivery::read_identity_file(Path::new(p))
                .map_err(|e| CliError::Usage(format!("--identity: {e}")))?,
        );
    }
    Ok(out)
}

/// ` (encrypted to age1...)` after a delivered custodian's files in a report; empty otherwise.
pub fn note(to: Option<&Recipients>) -> String {
    match to {
        Some(r) => format!(" (encrypted to {})", r.texts().join(", ")),
        None => String::new(),
    }
}
