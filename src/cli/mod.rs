//! The command line: clap definitions for every command in this one file, dispatch to one
//! file per command family, and the mapping of errors to officer-facing messages and exit
//! codes (0 success, 1 the operation failed or a check did not pass, 2 usage error).

mod advice;
mod agent;
mod agent_policy;
mod audit;
mod certificate;
mod check_share;
mod child;
mod completions;
mod contribute;
#[cfg(test)]
mod conventions_tests;
mod creds;
mod deliver;
mod demo;
mod demo_remote;
mod demo_steps;
mod drill;
mod duration;
mod error;
mod escaping;
mod examples;
mod exec;
mod extend;
mod hosts;
mod init;
mod interactive;
#[cfg(test)]
mod interactive_tests;
mod man;
mod progress;
mod quorum_open;
mod ratify;
mod rebuild;
mod rekey;
mod remote_host;
mod remote_host_error;
mod replace;
mod secret_input;
mod secret_json;
mod shares_in;
mod sheet_cmd;
mod sheets;
mod terminal_guard;

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
                  stdin or a hidden prompt, never from the command line.",
    after_help = examples::TOP
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Create a vault: a new master secret, split into one share per custodian.
    #[command(after_help = examples::INIT)]
    Init(InitArgs),
    /// Check shares one by one against the vault (no quorum, nothing secret shown).
    #[command(after_help = examples::CHECK_SHARE)]
    CheckShare(CheckShareArgs),
    /// Reconstruct the master key from a quorum in locked memory and verify it; shows nothing secret.
    #[command(after_help = examples::DRILL)]
    Drill(DrillArgs),
    /// Print one share again as a sheet (PDF, PNG, SVG) or show its QR code on the terminal.
    #[command(after_help = examples::SHEET)]
    Sheet(SheetArgs),
    /// Run a full ceremony in a temporary folder, narrating each step.
    #[command(after_help = examples::DEMO)]
    Demo(DemoArgs),
    /// Exchange API credentials: add, rotate, list and status without a quorum; show, remove
    /// and rename with one.
    Creds(CredsArgs),
    /// Open credentials with a quorum and start a program with them (environment or stdin).
    #[command(after_help = examples::EXEC)]
    Exec(ExecArgs),
    /// Check or show the vault's tamper-evident audit log (no quorum needed).
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Check a drill certificate offline against the vault file (no quorum needed).
    #[command(after_help = examples::VERIFY_CERTIFICATE)]
    VerifyCertificate(VerifyCertificateArgs),
    /// New custodians and policy for the same master secret (quorum); takes effect after
    /// `confirm`. Old shares still reconstruct the secret mathematically: revoke with
    /// rotate-master.
    #[command(after_help = examples::RESHARE)]
    Reshare(ChangeArgs),
    /// New master secret, keys and shares; every credential resealed (quorum); takes effect
    /// after `confirm`. Old shares then open nothing in this vault.
    #[command(after_help = examples::ROTATE_MASTER)]
    RotateMaster(ChangeArgs),
    /// Scan back a threshold of the NEW shares to make a pending reshare or rotate-master
    /// take effect.
    #[command(after_help = examples::CONFIRM)]
    Confirm(PendingArgs),
    /// Drop a pending reshare or rotate-master (a quorum of the current or of the new set).
    #[command(after_help = examples::CANCEL)]
    Cancel(PendingArgs),
    /// Additional shares for new custodians of a group, same secret and epoch (quorum).
    #[command(after_help = examples::EXTEND)]
    Extend(ExtendArgs),
    /// A sheet is lost, a custodian leaves, a sheet may be stolen: new master key and sheets
    /// without (or with a replacement for) one custodian, every credential resealed (quorum);
    /// takes effect after `confirm`.
    ReplaceCustodian(replace::ReplaceArgs),
    /// The vault file is lost: rebuild the public vault (id, keys, epoch, policy as far as the
    /// shares tell it) from a quorum of shares. Its credentials are not on the shares.
    RebuildVault(rebuild::RebuildArgs),
    /// The agent: a quorum unlocks it once, then bots fetch the credentials its ratified
    /// access policy grants them, without a quorum for each restart.
    #[command(subcommand)]
    Agent(agent::AgentCommand),
    /// Remote ceremony: check the host's ceremony code against your share, compare the phrase
    /// by voice, and seal the share into an envelope only that ceremony can open, once.
    #[command(after_help = examples::CONTRIBUTE)]
    Contribute(contribute::ContributeArgs),
    /// This machine's long-term host key, which signs the ceremony codes it shows (`--remote`):
    /// generate one, or show its public form.
    #[command(subcommand)]
    HostKey(hosts::HostKeyCommand),
    /// The vault's known hosts: ceremony hosts whose signed codes custodians trust once a
    /// quorum ratifies them.
    #[command(subcommand)]
    Hosts(hosts::HostsCommand),
    /// Print the shell completion script for bash, zsh, fish, elvish or powershell.
    #[command(after_help = examples::COMPLETIONS)]
    Completions(completions::CompletionsArgs),
    /// Write the man pages: one per command into a folder, or the main page to standard output.
    #[command(after_help = examples::MAN)]
    Man(man::ManArgs),
}

/// The quorum presenting shares to a custodian-change command.
#[derive(Args, Debug, Default)]
pub struct ChangeShareArgs {
    /// A share input: share file, token file, words, photo or scan of a sheet (PNG/JPEG),
    /// custody's PDF sheet, or - for standard input. Repeat per share.
    #[arg(long = "share", value_name = "SHARE")]
    pub shares: Vec<PathBuf>,
    /// Read shares from standard input, one per line (a token or the words of one share).
    #[arg(long)]
    pub words_stdin: bool,
    /// An age identity file (`age-keygen`'s output) opening shares delivered encrypted to
    /// their custodian (FILE.age). Repeat for several custodians' identities.
    #[arg(long = "identity", value_name = "FILE")]
    pub identities: Vec<PathBuf>,
    /// Hold the ceremony at the terminal: custodians present shares one after another (the
    /// default when no share is given and standard input is a terminal).
    #[arg(long, conflicts_with_all = ["shares", "words_stdin"])]
    pub interactive: bool,
    /// Time allowed for the ceremony (10m, 90s, 1h; default 10m, 30m with --remote); when it
    /// runs out, everything is wiped.
    #[arg(long)]
    pub timeout: Option<interactive::CeremonyTimeout>,
    #[command(flatten)]
    pub remote: RemoteArgs,
    #[command(flatten)]
    pub passphrase: PassphraseArgs,
}

impl ChangeShareArgs {
    /// These arguments as the [`ShareArgs`] every quorum reads its shares with.
    pub fn share_args(&self) -> ShareArgs {
        ShareArgs {
            shares: self.shares.clone(),
            words_stdin: self.words_stdin,
            identities: self.identities.clone(),
            interactive: self.interactive,
            timeout: self.timeout,
            remote: self.remote.clone(),
        }
    }
}

/// `custody reshare` / `custody rotate-master`: the current quorum and the new policy.
#[derive(Args, Debug)]
pub struct ChangeArgs {
    /// The vault to change (default: $CUSTODY_VAULT).
    #[arg(long, env = "CUSTODY_VAULT")]
    pub vault: PathBuf,
    /// The CURRENT set's shares (a quorum of them).
    #[command(flatten)]
    pub quorum: ChangeShareArgs,
    /// Folder for the new share files (created if missing; existing files are never overwritten).
    #[arg(long)]
    pub out_dir: PathBuf,
    /// The (new) custodians and thresholds.
    #[command(flatten)]
    pub policy: PolicyArgs,
    /// Which files to write per custodian: any of txt (share file), pdf, png (300 dpi), svg.
    #[arg(long, default_value = "txt,pdf")]
    pub sheets: String,
    /// Paper size of the sheets.
    #[arg(long, default_value = "a4", value_parser = sheets::paper_parser())]
    pub paper: custody::sheet::Paper,
    /// Print one JSON object (`custody-reshare/1` or `custody-rotate-master/1`, docs/json.md)
    /// instead of text.
    #[arg(long)]
    pub json: bool,
    /// Custodians who receive their new share encrypted to their own age recipient.
    #[command(flatten)]
    pub deliver: deliver::DeliverArgs,
}

/// `custody confirm` / `custody cancel`.
#[derive(Args, Debug)]
pub struct PendingArgs {
    /// The vault with the pending change (default: $CUSTODY_VAULT).
    #[arg(long, env = "CUSTODY_VAULT")]
    pub vault: PathBuf,
    /// confirm: the NEW shares (a threshold of them); cancel: a quorum of either set.
    #[command(flatten)]
    pub quorum: ChangeShareArgs,
    /// Print one JSON object (`custody-confirm/1` or `custody-cancel/1`, docs/json.md)
    /// instead of text.
    #[arg(long)]
    pub json: bool,
}

/// `custody extend`.
#[derive(Args, Debug)]
pub struct ExtendArgs {
    /// The vault to extend (default: $CUSTODY_VAULT).
    #[arg(long, env = "CUSTODY_VAULT")]
    pub vault: PathBuf,
    /// The current shares: a quorum including at least the threshold of the target group.
    #[command(flatten)]
    pub quorum: ChangeShareArgs,
    /// The new custodians' names. Repeat, or list several.
    #[arg(long = "custodian", num_args = 1.., required = true)]
    pub custodians: Vec<String>,
    /// The group they join (needed when the vault has several groups).
    #[arg(long)]
    pub group: Option<String>,
    /// Folder for the new share files (created if missing; existing files are never overwritten).
    #[arg(long)]
    pub out_dir: PathBuf,
    /// Which files to write per custodian: any of txt (share file), pdf, png (300 dpi), svg.
    #[arg(long, default_value = "txt,pdf")]
    pub sheets: String,
    /// Paper size of the sheets.
    #[arg(long, default_value = "a4", value_parser = sheets::paper_parser())]
    pub paper: custody::sheet::Paper,
    /// Print one JSON object (`custody-extend/1`, docs/json.md) instead of text.
    #[arg(long)]
    pub json: bool,
    /// Custodians who receive their new share encrypted to their own age recipient.
    #[command(flatten)]
    pub deliver: deliver::DeliverArgs,
}

/// `custody audit ...`.
#[derive(Subcommand, Debug)]
pub enum AuditCommand {
    /// Check every record: syntax, sequence, hash chain, signatures. Exit 1 naming each problem.
    #[command(after_help = examples::AUDIT_VERIFY)]
    Verify(AuditVerifyArgs),
    /// Print the log as a table (one JSON object with --json, its lines as stored with --raw).
    #[command(after_help = examples::AUDIT_SHOW)]
    Show(AuditShowArgs),
    /// Remove a torn final line (a write that was interrupted), keeping a copy of the damaged
    /// log and recording the repair in it. Refuses any other damage; no quorum needed.
    #[command(after_help = examples::AUDIT_REPAIR)]
    Repair(AuditRepairArgs),
}

#[derive(Args, Debug)]
pub struct AuditRepairArgs {
    /// The vault whose log (`<vault>.audit`) to repair; its public key checks the signatures.
    #[arg(long, env = "CUSTODY_VAULT")]
    pub vault: PathBuf,
}

#[derive(Args, Debug)]
pub struct AuditVerifyArgs {
    /// The vault whose log (`<vault>.audit`) to check; its public key checks the signatures.
    #[arg(long, env = "CUSTODY_VAULT")]
    pub vault: PathBuf,
    /// A head recorded earlier (SEQ:HASH, as printed by this command or on a certificate):
    /// also require that record to be present and unchanged.
    #[arg(long, value_name = "SEQ:HASH")]
    pub anchor: Option<String>,
    /// Print one JSON object (`custody-audit-verify/1`, docs/json.md) instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct AuditShowArgs {
    /// The vault whose log (`<vault>.audit`) to show.
    #[arg(long, env = "CUSTODY_VAULT")]
    pub vault: PathBuf,
    /// Print one JSON object (`custody-audit-show/1`, docs/json.md) instead of the table:
    /// every record, its event in words, and the summary.
    #[arg(long)]
    pub json: bool,
    /// Print the log's lines exactly as stored (bytes unchanged, nothing checked).
    #[arg(long, conflicts_with = "json")]
    pub raw: bool,
}

#[derive(Args, Debug)]
pub struct VerifyCertificateArgs {
    /// The certificate's JSON file (not the .txt page).
    pub file: PathBuf,
    /// The vault the certificate should be for.
    #[arg(long, env = "CUSTODY_VAULT")]
    pub vault: PathBuf,
    /// Print one JSON object (`custody-verify-certificate/1`, docs/json.md) instead of text.
    #[arg(long)]
    pub json: bool,
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

/// A policy on the command line, as `init`, `reshare` and `rotate-master` take it.
#[derive(Args, Debug)]
pub struct PolicyArgs {
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
}

#[derive(Args, Debug)]
pub struct InitArgs {
    /// The vault file to create (it must not exist).
    #[arg(long, env = "CUSTODY_VAULT")]
    pub vault: PathBuf,
    /// Folder for the share files (created if missing; existing files are never overwritten).
    #[arg(long)]
    pub out_dir: PathBuf,
    /// The (new) custodians and thresholds.
    #[command(flatten)]
    pub policy: PolicyArgs,
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
    #[arg(long, default_value = "a4", value_parser = sheets::paper_parser())]
    pub paper: custody::sheet::Paper,
    /// Print one JSON object (`custody-init/1`, docs/json.md) instead of text.
    #[arg(long)]
    pub json: bool,
    /// Custodians who receive their new share encrypted to their own age recipient.
    #[command(flatten)]
    pub deliver: deliver::DeliverArgs,
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
    pub format: custody::sheet::Format,
    /// Paper size.
    #[arg(long, default_value = "a4", value_parser = sheets::paper_parser())]
    pub paper: custody::sheet::Paper,
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
    /// An age identity file (`age-keygen`'s output) opening shares delivered encrypted to
    /// their custodian (FILE.age). Repeat for several custodians' identities.
    #[arg(long = "identity", value_name = "FILE")]
    pub identities: Vec<PathBuf>,
    /// Print one JSON object (`custody-check-share/1`, docs/json.md) instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Where a quorum's shares come from.
#[derive(Args, Debug, Default)]
pub struct ShareArgs {
    /// A share input: share file, token file, words, photo or scan of a sheet (PNG/JPEG),
    /// custody's PDF sheet, or - for standard input. Repeat per share.
    #[arg(long = "share", value_name = "SHARE")]
    pub shares: Vec<PathBuf>,
    /// Read shares from standard input, one per line (a token or the words of one share).
    #[arg(long)]
    pub words_stdin: bool,
    /// An age identity file (`age-keygen`'s output) opening shares delivered encrypted to
    /// their custodian (FILE.age). Repeat for several custodians' identities.
    #[arg(long = "identity", value_name = "FILE")]
    pub identities: Vec<PathBuf>,
    /// Hold the ceremony at the terminal: custodians present shares one after another (the
    /// default when no share is given and standard input is a terminal).
    #[arg(long, conflicts_with_all = ["shares", "words_stdin"])]
    pub interactive: bool,
    /// Time allowed for the ceremony (10m, 90s, 1h; default 10m, 30m with --remote); when it
    /// runs out, everything is wiped.
    #[arg(long)]
    pub timeout: Option<interactive::CeremonyTimeout>,
    #[command(flatten)]
    pub remote: RemoteArgs,
}

/// A remote ceremony: custodians elsewhere send their shares as envelopes sealed to a one-time
/// ceremony key (`custody contribute`), mixed freely with shares presented here.
#[derive(Args, Debug, Clone, Default)]
pub struct RemoteArgs {
    /// Open a remote ceremony: show a one-time ceremony code (text and QR) and its comparison
    /// phrase; remote custodians turn the code and their share into an envelope with
    /// `custody contribute` and read the phrase back to you.
    #[arg(long)]
    pub remote: bool,
    /// An envelope from a remote custodian (its armored text, or a photo of its QR code); the
    /// ceremony waits for the file to appear. Repeat per envelope.
    #[arg(long = "envelope", value_name = "FILE", requires = "remote")]
    pub envelopes: Vec<PathBuf>,
    /// Read envelopes from DIR as they appear, until the quorum is reached or time runs out
    /// (for a host without a terminal).
    #[arg(long, value_name = "DIR", requires = "remote")]
    pub envelope_dir: Option<PathBuf>,
    /// Sign the ceremony code with this machine's host key (`custody host-key new`); custodians
    /// holding the vault see the code verified when the host is enrolled in it.
    #[arg(long, value_name = "FILE", requires = "remote")]
    pub host_key: Option<PathBuf>,
}

impl ShareArgs {
    /// The time allowed for the ceremony: `--timeout`, else 10 minutes, or 30 with `--remote`.
    pub fn timeout(&self) -> interactive::CeremonyTimeout {
        self.timeout.unwrap_or(if self.remote.remote {
            interactive::CeremonyTimeout(std::time::Duration::from_secs(
                custody::wire::REMOTE_DEFAULT_LIFETIME_SECS,
            ))
        } else {
            interactive::CeremonyTimeout::default()
        })
    }
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
    /// Ratify the credentials added or rotated without a quorum, so that `exec` may use them
    /// (needs --vault): test-open them and list them; at a terminal ask "Sign these N
    /// entries? [y/N]" (anything but y signs nothing, exit 1); without a terminal sign exactly
    /// the entries listed.
    #[arg(long, requires = "vault")]
    pub ratify: bool,
    /// Write a signed drill certificate to FILE (JSON) and FILE.txt (readable page); check it
    /// later, without a quorum, with `custody verify-certificate FILE --vault V`.
    #[arg(long, value_name = "FILE", requires = "vault")]
    pub certificate: Option<PathBuf>,
}

/// A quorum command's shares, passphrase and ratification choice.
#[derive(Args, Debug, Default)]
pub struct QuorumArgs {
    #[command(flatten)]
    pub shares: ShareArgs,
    #[command(flatten)]
    pub passphrase: PassphraseArgs,
    /// Ratify the credentials added or rotated without a quorum first, so that `exec` may use
    /// them: test-open them and list them; at a terminal ask "Sign these N entries? [y/N]"
    /// (anything but y signs nothing, exit 1); without a terminal sign exactly the entries
    /// listed.
    #[arg(long)]
    pub ratify: bool,
}

#[derive(Args, Debug)]
pub struct CredsArgs {
    #[command(subcommand)]
    pub command: CredsCommand,
}

#[derive(Subcommand, Debug)]
pub enum CredsCommand {
    /// Add a credential (no quorum; it stays unratified until a quorum ratifies it).
    #[command(after_help = examples::CREDS_ADD)]
    Add(CredAddArgs),
    /// Replace a credential's secret fields with new ones and record the rotation date (no quorum).
    #[command(after_help = examples::CREDS_ROTATE)]
    Rotate(CredRotateArgs),
    /// List the credentials' metadata (no quorum, nothing secret).
    #[command(after_help = examples::CREDS_LIST)]
    List(CredListArgs),
    /// Age since rotation, overdue, expired, withdraw-scoped, unratified and tampered entries.
    #[command(after_help = examples::CREDS_STATUS)]
    Status(CredListArgs),
    /// Show a credential's metadata; with --reveal (quorum) print its secret fields: break-glass.
    #[command(after_help = examples::CREDS_SHOW)]
    Show(CredShowArgs),
    /// Remove a credential (quorum).
    #[command(after_help = examples::CREDS_REMOVE)]
    Remove(CredRemoveArgs),
    /// Rename a credential (quorum; it is re-sealed under the new name).
    #[command(after_help = examples::CREDS_RENAME)]
    Rename(CredRenameArgs),
}

/// Where new secret fields come from: a JSON object in a file or on stdin, else a hidden prompt.
#[derive(Args, Debug)]
pub struct SecretFieldArgs {
    /// Read the secret fields as one JSON object, e.g. {"api_key":"…","api_secret":"…"}, from
    /// FILE or - (standard input). Without it custody asks at the terminal, without echo.
    #[arg(long, value_name = "FILE|-")]
    pub from_json: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct CredAddArgs {
    /// The vault to add the credential to (default: $CUSTODY_VAULT).
    #[arg(long, env = "CUSTODY_VAULT")]
    pub vault: PathBuf,
    /// Credential name: 1-64 letters, digits, `.`, `_`, `-` (it names the bot's variables).
    pub name: String,
    /// binance, coinbase, kraken, okx, bybit, deribit, bitfinex, kucoin, bitget, gateio,
    /// bitstamp, gemini or generic.
    #[arg(long)]
    pub exchange: String,
    /// Account or sub-account on the exchange.
    #[arg(long, default_value = "")]
    pub account: String,
    /// What the exchange key may do: read, trade, withdraw (comma-separated).
    #[arg(long)]
    pub scope: String,
    /// The day the exchange key expires (YYYY-MM-DD).
    #[arg(long)]
    pub expires: Option<String>,
    /// A free note (not secret).
    #[arg(long, default_value = "")]
    pub note: String,
    /// The IP allow-list configured at the exchange, as a note (not secret).
    #[arg(long, default_value = "")]
    pub ip_allowlist: String,
    #[command(flatten)]
    pub secrets: SecretFieldArgs,
}

#[derive(Args, Debug)]
pub struct CredRotateArgs {
    /// The vault holding the credential (default: $CUSTODY_VAULT).
    #[arg(long, env = "CUSTODY_VAULT")]
    pub vault: PathBuf,
    /// The credential whose exchange key was replaced.
    pub name: String,
    /// New scope, if the new key's differs.
    #[arg(long)]
    pub scope: Option<String>,
    /// New expiry day (YYYY-MM-DD).
    #[arg(long)]
    pub expires: Option<String>,
    /// Replace the note.
    #[arg(long)]
    pub note: Option<String>,
    /// Replace the IP allow-list note.
    #[arg(long)]
    pub ip_allowlist: Option<String>,
    #[command(flatten)]
    pub secrets: SecretFieldArgs,
}

#[derive(Args, Debug)]
pub struct CredListArgs {
    /// The vault whose credentials to list (default: $CUSTODY_VAULT).
    #[arg(long, env = "CUSTODY_VAULT")]
    pub vault: PathBuf,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct CredShowArgs {
    /// The vault holding the credential (default: $CUSTODY_VAULT).
    #[arg(long, env = "CUSTODY_VAULT")]
    pub vault: PathBuf,
    /// The credential to show.
    pub name: String,
    /// Break-glass: with a quorum, print the secret fields on standard output.
    #[arg(long)]
    pub reveal: bool,
    #[command(flatten)]
    pub quorum: QuorumArgs,
    /// Print one JSON object (`custody-creds-show/1`, docs/json.md) instead of text; the
    /// secret fields only with --reveal.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct CredRemoveArgs {
    /// The vault holding the credential (default: $CUSTODY_VAULT).
    #[arg(long, env = "CUSTODY_VAULT")]
    pub vault: PathBuf,
    /// The credential to remove.
    pub name: String,
    #[command(flatten)]
    pub quorum: QuorumArgs,
}

#[derive(Args, Debug)]
pub struct CredRenameArgs {
    /// The vault holding the credential (default: $CUSTODY_VAULT).
    #[arg(long, env = "CUSTODY_VAULT")]
    pub vault: PathBuf,
    /// The credential's current name.
    pub name: String,
    /// Its new name: 1-64 letters, digits, `.`, `_`, `-` (it names the bot's variables).
    pub new_name: String,
    #[command(flatten)]
    pub quorum: QuorumArgs,
}

/// How `exec` names the variables it gives the child.
#[derive(clap::ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum EnvStyle {
    /// `<NAME>_API_KEY`, `<NAME>_API_SECRET`, `<NAME>_API_PASSPHRASE`, `<NAME>_API_UID`,
    /// `<NAME>_API_PRIVATE_KEY`.
    #[default]
    Plain,
    /// `FREQTRADE__EXCHANGE__KEY`, `__SECRET`, `__PASSWORD`, `__UID` (one credential only).
    Freqtrade,
}

#[derive(Args, Debug)]
pub struct ExecArgs {
    /// The vault holding the credentials (default: $CUSTODY_VAULT).
    #[arg(long, env = "CUSTODY_VAULT")]
    pub vault: PathBuf,
    /// The credentials to open (comma-separated or repeated).
    #[arg(long = "cred", value_delimiter = ',', required = true)]
    pub creds: Vec<String>,
    #[command(flatten)]
    pub quorum: QuorumArgs,
    /// Allow credentials whose scope includes withdraw.
    #[arg(long)]
    pub allow_withdraw: bool,
    /// Allow credentials past their expiry day (recorded in the audit log).
    #[arg(long)]
    pub allow_expired: bool,
    /// Variable names for the child.
    #[arg(long, value_enum, default_value_t = EnvStyle::Plain)]
    pub env_style: EnvStyle,
    /// Write one JSON object with the credentials to the child's standard input instead of
    /// setting any variable (shares then cannot come from standard input).
    #[arg(long, conflicts_with = "env_style")]
    pub stdin_json: bool,
    /// The program and its arguments, after `--`.
    #[arg(last = true, required = true, value_name = "COMMAND")]
    pub command: Vec<std::ffi::OsString>,
}

#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Keep the demo's files in this folder (must not exist) instead of a temporary one.
    #[arg(long)]
    pub keep: Option<PathBuf>,
}

/// The clock every command uses: the system's. Debug builds (the test suite) honour
/// `CUSTODY_FAKE_NOW` (Unix seconds) so that tests can move time; a release build has no way
/// to change custody's idea of the time.
pub fn clock() -> custody::clock::Clock {
    #[cfg(debug_assertions)]
    if let Some(t) =
        std::env::var_os("CUSTODY_FAKE_NOW").and_then(|v| v.to_str().and_then(|s| s.parse().ok()))
    {
        return custody::clock::Clock::fixed(t);
    }
    custody::clock::Clock::system()
}

/// Run a parsed command, writing its report to `out`.
pub fn run(cli: Cli, out: &mut dyn std::io::Write) -> Result<(), CliError> {
    match cli.command {
        Command::Init(a) => init::run(a, out),
        Command::CheckShare(a) => check_share::run(a, out),
        Command::Drill(a) => drill::run(a, out),
        Command::Sheet(a) => sheet_cmd::run(a, out),
        Command::Demo(a) => demo::run(a, out),
        Command::Audit(AuditCommand::Verify(a)) => audit::verify(a, out),
        Command::Audit(AuditCommand::Show(a)) => audit::show(a, out),
        Command::Audit(AuditCommand::Repair(a)) => audit::repair(a, clock(), out),
        Command::VerifyCertificate(a) => certificate::run(a, out),
        Command::Creds(a) => creds::run(a, out),
        Command::Exec(a) => exec::run(a, out),
        Command::Agent(a) => agent::run(a, out),
        Command::HostKey(a) => hosts::run_host_key(a, out),
        Command::Hosts(a) => hosts::run(a, out),
        Command::Reshare(a) => rekey::reshare(a, false, out),
        Command::RotateMaster(a) => rekey::reshare(a, true, out),
        Command::Confirm(a) => rekey::confirm(a, out),
        Command::Cancel(a) => rekey::cancel(a, out),
        Command::Extend(a) => extend::run(a, out),
        Command::ReplaceCustodian(a) => replace::run(a, out),
        Command::RebuildVault(a) => rebuild::run(a, out),
        Command::Contribute(a) => contribute::run(a, out),
        Command::Completions(a) => completions::run(a, out),
        Command::Man(a) => man::run(a, out),
    }
}

/// The binary's entry point: parse, run, print errors, return the exit code.
pub fn main() -> std::process::ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        // Help and version are custody's own text: clap prints them as usual.
        Err(e) if !e.use_stderr() => e.exit(),
        // A usage error quotes what was typed: escaped, like everything else custody prints.
        Err(e) => {
            let _ = write!(escaping::stderr(), "{}", e.render());
            return std::process::ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2));
        }
    };
    let json = cli.command.wants_json();
    progress::enable(json);
    // Everything printed is escaped (text from share files, vaults and audit logs included),
    // except the coloured QR code `sheet --format terminal` draws on a terminal.
    let raw =
        matches!(&cli.command, Command::Sheet(a) if a.format == custody::sheet::Format::Terminal);
    let mut stdout: Box<dyn std::io::Write> = if raw {
        Box::new(std::io::stdout().lock())
    } else {
        Box::new(escaping::Escaping::new(std::io::stdout().lock()))
    };
    let result = run(cli, &mut stdout).and_then(|()| stdout.flush().map_err(CliError::Output));
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(CliError::ChildExited(code)) => std::process::ExitCode::from(code),
        // The reader of the report went away (`| head`): end quietly, as if killed by SIGPIPE.
        Err(e) if advice::is_broken_pipe(&e) => std::process::ExitCode::from(128 + 13),
        Err(e) => {
            let advice = advice::advice(&e);
            if json {
                let mut obj = serde_json::json!({
                    "format": "custody-error/1",
                    "ok": false,
                    "error": e.to_string(),
                });
                if let Some(a) = &advice {
                    obj["advice"] = a.as_str().into();
                }
                let _ = writeln!(stdout, "{obj}");
            }
            let _ = stdout.flush();
            let mut err = escaping::stderr();
            let _ = writeln!(err, "custody: error: {e}");
            for line in advice.iter().flat_map(|a| a.lines()) {
                let _ = writeln!(err, "custody: {line}");
            }
            std::process::ExitCode::from(e.exit_code())
        }
    }
}

use std::io::Write as _;

impl Command {
    /// Whether the command prints a JSON document (`--json`): its errors are then a JSON
    /// document too (`custody-error/1`, docs/json.md), after anything it printed.
    fn wants_json(&self) -> bool {
        match self {
            Command::Drill(a) => a.json,
            Command::Creds(CredsArgs {
                command: CredsCommand::Status(a) | CredsCommand::List(a),
            }) => a.json,
            Command::Creds(CredsArgs {
                command: CredsCommand::Show(a),
            }) => a.json,
            Command::Audit(AuditCommand::Verify(a)) => a.json,
            Command::Audit(AuditCommand::Show(a)) => a.json,
            Command::VerifyCertificate(a) => a.json,
            Command::CheckShare(a) => a.json,
            Command::Init(a) => a.json,
            Command::Agent(a) => a.wants_json(),
            Command::Hosts(a) => hosts::wants_json(a),
            Command::Reshare(a) | Command::RotateMaster(a) => a.json,
            Command::Confirm(a) | Command::Cancel(a) => a.json,
            Command::Extend(a) => a.json,
            Command::ReplaceCustodian(a) => a.json,
            Command::RebuildVault(a) => a.json,
            _ => false,
        }
    }
}
