//! The command line: clap definitions for every command in this one file, dispatch to one
//! file per command family, and the mapping of errors to officer-facing messages and exit
//! codes (0 success, 1 the operation failed or a check did not pass, 2 usage error).

mod check_share;
mod demo;
mod drill;
mod error;
mod init;
mod secret_input;
mod shares_in;
mod sheet_cmd;
mod sheets;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

pub use error::CliError;

#[derive(Parser, Debug)]
#[command(
    name = "custody",
    version,
    about = "Quorum custody of exchange API credentials: SLIP-39 shares of a master key",
    long_about = "custody splits a master key into SLIP-39 shares held by named custodians. \
                  A quorum of them reconstructs it in locked memory to check the shares (drill) \
                  or to open exchange credentials. Shares and passphrases are read from files, \
                  stdin or a hidden prompt, never from the command line."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Create a vault: a new master secret, split into one share per custodian.
    Init(InitArgs),
    /// Check shares one by one against the vault (no quorum, nothing secret shown).
    CheckShare(CheckShareArgs),
    /// Reconstruct the master key from a quorum in locked memory and verify it; shows nothing secret.
    Drill(DrillArgs),
    /// Print one share again as a sheet (PDF, PNG, SVG) or show its QR code on the terminal.
    Sheet(SheetArgs),
    /// Run a full ceremony in a temporary folder, narrating each step.
    Demo(DemoArgs),
}

/// Where the SLIP-39 passphrase comes from, if the shares use one.
#[derive(Args, Debug, Default, Clone)]
pub struct PassphraseArgs {
    /// Read the SLIP-39 passphrase from the first line of standard input.
    #[arg(long, conflicts_with = "passphrase_prompt")]
    pub passphrase_stdin: bool,
    /// Ask for the SLIP-39 passphrase at the terminal, without echo.
    #[arg(long)]
    pub passphrase_prompt: bool,
}

#[derive(Args, Debug)]
pub struct InitArgs {
    /// The vault file to create (it must not exist).
    #[arg(long, env = "CUSTODY_VAULT")]
    pub vault: PathBuf,
    /// Folder for the share files (created if missing; existing files are never overwritten).
    #[arg(long)]
    pub out_dir: PathBuf,
    /// With a single group: how many custodians must come together.
    #[arg(long, conflicts_with_all = ["group", "group_threshold"])]
    pub threshold: Option<u8>,
    /// A custodian: NAME with --threshold, or GROUP/NAME with --group. Repeat, or list several.
    #[arg(long = "custodian", num_args = 1.., required = true)]
    pub custodians: Vec<String>,
    /// A group as NAME:K (K of its custodians needed). Repeat for each group.
    #[arg(long)]
    pub group: Vec<String>,
    /// How many groups must take part (needed when there are several).
    #[arg(long)]
    pub group_threshold: Option<u8>,
    /// SLIP-39 iteration exponent E: the passphrase cipher runs 10000 * 2^E PBKDF2 iterations.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u8).range(0..=15))]
    pub iteration_exponent: u8,
    /// Mix extra entropy (for example dice rolls) read from standard input into the OS randomness.
    #[arg(long, conflicts_with = "passphrase_stdin")]
    pub entropy_stdin: bool,
    /// Which files to write per custodian: any of txt (share file), pdf, png (300 dpi), svg.
    #[arg(long, default_value = "txt,pdf")]
    pub sheets: String,
    /// Paper size of the sheets.
    #[arg(long, default_value = "a4")]
    pub paper: crate::sheet::Paper,
    #[command(flatten)]
    pub passphrase: PassphraseArgs,
}

#[derive(Args, Debug)]
pub struct SheetArgs {
    /// The vault the share belongs to (for the policy and fingerprint printed on the sheet).
    #[arg(long, env = "CUSTODY_VAULT")]
    pub vault: PathBuf,
    /// The share: a share file, token file, or photo of the old sheet (- for standard input).
    pub share: PathBuf,
    /// pdf, png, svg, or terminal (the QR code drawn on this screen).
    #[arg(long, default_value = "pdf")]
    pub format: crate::sheet::Format,
    /// Paper size.
    #[arg(long, default_value = "a4")]
    pub paper: crate::sheet::Paper,
    /// Where to write the sheet (must not exist); not used with --format terminal.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct CheckShareArgs {
    /// The vault the shares should belong to.
    #[arg(long, env = "CUSTODY_VAULT")]
    pub vault: PathBuf,
    /// Share inputs: share files, token files, word files (or - for standard input).
    #[arg(required = true)]
    pub shares: Vec<PathBuf>,
}

/// Where a quorum's shares come from.
#[derive(Args, Debug, Default)]
pub struct ShareArgs {
    /// A share input: share file, token, words, or - for standard input. Repeat per share.
    #[arg(long = "share")]
    pub shares: Vec<PathBuf>,
    /// Read shares from standard input, one per line (a token or the words of one share).
    #[arg(long)]
    pub words_stdin: bool,
}

#[derive(Args, Debug)]
pub struct DrillArgs {
    /// The vault to verify against. Without it, plain SLIP-39 shares are combined and the
    /// derived fingerprint and public key are reported.
    #[arg(long, env = "CUSTODY_VAULT")]
    pub vault: Option<PathBuf>,
    #[command(flatten)]
    pub shares: ShareArgs,
    #[command(flatten)]
    pub passphrase: PassphraseArgs,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Keep the demo's files in this folder (must not exist) instead of a temporary one.
    #[arg(long)]
    pub keep: Option<PathBuf>,
}

/// Run a parsed command, writing its report to `out`.
pub fn run(cli: Cli, out: &mut dyn std::io::Write) -> Result<(), CliError> {
    match cli.command {
        Command::Init(a) => init::run(a, out),
        Command::CheckShare(a) => check_share::run(a, out),
        Command::Drill(a) => drill::run(a, out),
        Command::Sheet(a) => sheet_cmd::run(a, out),
        Command::Demo(a) => demo::run(a, out),
    }
}

/// The binary's entry point: parse, run, print errors, return the exit code.
pub fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let json = matches!(&cli.command, Command::Drill(d) if d.json);
    let mut stdout = std::io::stdout().lock();
    match run(cli, &mut stdout) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            if json {
                let obj = serde_json::json!({ "ok": false, "error": e.to_string() });
                let _ = writeln!(stdout, "{obj}");
            }
            eprintln!("custody: error: {e}");
            std::process::ExitCode::from(e.exit_code())
        }
    }
}

use std::io::Write as _;
