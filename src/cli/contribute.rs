//! `custody contribute`: a custodian away from the host seals their share for the host's remote
//! ceremony. The code is checked against the share (vault, epoch, not expired), the comparison
//! phrase is compared by voice, and only then is the envelope written (shares-format.md,
//! "Remote ceremony", custodian checks).

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use clap::Args;
use ed25519_dalek::VerifyingKey;

use super::CliError;
use super::interactive::{Line, TerminalTty, Tty, read_line};
use super::shares_in::read_one_with;
use custody::keys::hex;
use custody::remote::{self, CeremonyCode, CodeError};
use custody::safe_file::{self, FileError, ReadRules};
use custody::terminal_text::escape;
use custody::vault::Vault;
use custody::vault::store;
use custody::{harden, quorum, scan, sheet, timefmt, wire};

/// How long the custodian has to answer the phrase question.
const CONFIRM_TIMEOUT: Duration = Duration::from_secs(10 * 60);
/// The largest `--code @FILE` read: the longest code text with room for line ends.
const MAX_CODE_FILE_BYTES: u64 = 4096;

#[derive(Args, Debug)]
pub struct ContributeArgs {
    /// The host's ceremony code: its text (custody-ceremony:...), @FILE holding the text, or a
    /// photo or screenshot (PNG/JPEG) of its QR code.
    #[arg(long, value_name = "CODE")]
    pub code: String,
    /// Your share: share file, token file, photo or scan of your sheet (PNG/JPEG), custody's
    /// PDF sheet, or - for standard input. It must carry the signed token (not bare words).
    #[arg(value_name = "SHARE")]
    pub share: PathBuf,
    /// The comparison phrase as the host read it out (8 words; the first 4 letters of each
    /// are enough). Without it custody shows the phrase and asks at the terminal.
    #[arg(long, value_name = "WORDS")]
    pub phrase: Option<String>,
    /// Where to write the envelope (it must not exist; mode 0600). Without it, standard output.
    #[arg(short, long, value_name = "ENVELOPE")]
    pub output: Option<PathBuf>,
    /// The vault (default: $CUSTODY_VAULT): check the share and the code against it, and a
    /// signed code's host against the vault's enrolled hosts.
    #[arg(long, env = "CUSTODY_VAULT")]
    pub vault: Option<PathBuf>,
    /// Draw the envelope's QR code on standard error even when it is not a terminal.
    #[arg(long)]
    pub qr: bool,
    /// Your age identity file, when your share was delivered to you encrypted (FILE.age).
    #[arg(long = "identity", value_name = "FILE")]
    pub identities: Vec<PathBuf>,
}

/// Who showed the code, as far as custody can tell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostVerdict {
    /// Signed by this enrolled host.
    Verified(String),
    /// Signed, by a key that is not an enrolled host's.
    UnknownSigner(VerifyingKey),
    /// Not signed.
    Unsigned,
}

/// Check a signed code's signer against the enrolled hosts: `known` names the host whose
/// long-term key this is, if any (the vault's known hosts plug in here). The signature itself
/// was verified when the code was read.
pub fn host_verdict(
    code: &CeremonyCode,
    known: &dyn Fn(&VerifyingKey) -> Option<String>,
) -> HostVerdict {
    match code.signer() {
        None => HostVerdict::Unsigned,
        Some(key) => match known(&key) {
            Some(name) => HostVerdict::Verified(name),
            None => HostVerdict::UnknownSigner(key),
        },
    }
}

/// The enrolled hosts of `vault`, by long-term key: only a host a quorum ratified (known
/// hosts, shares-format.md), never one merely proposed or written into the file by hand.
fn enrolled_hosts(vault: &Vault) -> impl Fn(&VerifyingKey) -> Option<String> + '_ {
    move |key: &VerifyingKey| vault.ratified_host(key)
}

/// The line shown for `verdict`; "verified" only for an enrolled host's signature.
fn verdict_line(verdict: &HostVerdict) -> String {
    match verdict {
        HostVerdict::Verified(name) => format!(
            "host verified: the code is signed by enrolled host {name}; still compare the phrase"
        ),
        HostVerdict::UnknownSigner(key) => format!(
            "host NOT verified (signed by key {}, not an enrolled host's): compare the phrase",
            &hex(key.as_bytes())[..16]
        ),
        HostVerdict::Unsigned => "host NOT verified: compare the phrase".into(),
    }
}

/// Read `--code`: the text itself, `@FILE`, or a file (a photo of the QR code, or the text).
fn read_code(arg: &str) -> Result<CeremonyCode, CliError> {
    if arg.trim_start().starts_with(wire::REMOTE_CODE_TEXT_PREFIX) {
        return Ok(CeremonyCode::from_text(arg)?);
    }
    let (path, rules) = match arg.strip_prefix('@') {
        Some(p) => (
            Path::new(p),
            ReadRules::named(MAX_CODE_FILE_BYTES).or_pipe(),
        ),
        None => (
            Path::new(arg),
            ReadRules::named(wire::MAX_SHARE_INPUT_BYTES),
        ),
    };
    if arg.starts_with('@') || path.exists() {
        let bytes = safe_file::read(path, rules).map_err(|e| file_error(path, e))?;
        if scan::is_image(&bytes) {
            return code_in_picture(path, &bytes);
        }
        let text = std::str::from_utf8(&bytes).map_err(|_| CodeError::MissingPrefix)?;
        return Ok(CeremonyCode::from_text(text)?);
    }
    Err(CliError::Usage(format!(
        "--code {}: neither a ceremony code (custody-ceremony:...) nor a file; give the code's \
         text, @FILE holding it, or a photo of its QR code",
        escape(arg)
    )))
}

fn file_error(path: &Path, e: FileError) -> CliError {
    match e {
        FileError::Io(source) => CliError::Read {
            path: path.to_owned(),
            source,
        },
        FileError::Refused(problem) => CliError::Refused {
            path: path.to_owned(),
            problem,
        },
    }
}

/// The one ceremony code in a picture.
fn code_in_picture(path: &Path, bytes: &[u8]) -> Result<CeremonyCode, CliError> {
    let payloads = scan::decode_qr_codes(bytes)
        .map_err(|e| CliError::Usage(format!("--code {}: {e}", path.display())))?;
    let mut codes: Vec<String> = payloads
        .into_iter()
        .filter(|p| p.trim().starts_with(wire::REMOTE_CODE_TEXT_PREFIX))
        .collect();
    codes.dedup();
    match codes.as_slice() {
        [one] => Ok(CeremonyCode::from_text(one)?),
        [] => Err(CliError::Usage(format!(
            "--code {}: the picture holds no ceremony code; photograph the QR code the host \
             shows, or copy its text",
            path.display()
        ))),
        _ => Err(CliError::Usage(format!(
            "--code {}: the picture shows {} different ceremony codes; photograph one",
            path.display(),
            codes.len()
        ))),
    }
}

/// Ask on the terminal whether the host reads out exactly `phrase`; only `y` or `yes` agrees.
fn confirm_on(tty: &mut dyn Tty, phrase: &str) -> Result<(), CliError> {
    let ask =
        format!("comparison phrase: {phrase}\nDoes the host read out exactly these words? [y/N] ");
    tty.write_str(&ask).map_err(terminal_error)?;
    let why = match read_line(tty, Instant::now() + CONFIRM_TIMEOUT) {
        Ok(Line::Text(t)) => {
            let _ = tty.write_str(&format!("{}\n", escape(t.trim())));
            if matches!(t.trim().to_ascii_lowercase().as_str(), "y" | "yes") {
                return Ok(());
            }
            "the phrase was not confirmed; if the host's words differ, the code may have been \
             swapped: do not send your share, call the host"
                .to_owned()
        }
        Ok(Line::Cancelled) => "cancelled (Ctrl-C)".to_owned(),
        Ok(Line::TimedOut) => "no answer came within 10 minutes".to_owned(),
        Ok(Line::Eof) => "the terminal closed before an answer".to_owned(),
        Err(e) => format!("the answer could not be read ({e})"),
    };
    Err(CliError::NotContributed(why))
}

fn terminal_error(source: std::io::Error) -> CliError {
    CliError::Terminal {
        channel: super::error::Channel::Terminal,
        source,
    }
}

pub fn run(args: ContributeArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let hardening = harden::for_quorum();
    let mut err = super::escaping::stderr();
    for w in hardening.warnings() {
        writeln!(err, "custody: warning: {w}")?;
    }
    let now = super::clock().now();
    // 1-15: the code, then its time.
    let code = read_code(&args.code)?;
    code.check_fresh(now)?;
    // The share must carry its signed token.
    let identities = super::deliver::identities(&args.identities)?;
    let presented = read_one_with(
        &args.share,
        &identities,
        (1, 1),
        &mut *super::progress::on_terminal(),
    )?;
    let label = presented.label.clone();
    let Some(token) = presented.token.clone() else {
        return Err(CliError::Usage(format!(
            "share {label} is only words: an envelope carries the share's signed token, so \
             give your share file or a photo of your sheet"
        )));
    };
    // 16-17: the share is of the ceremony's vault and epoch.
    remote::check_token(&code, &token)?;
    let vault = match &args.vault {
        Some(path) => {
            let vault = store::load(path)?;
            if vault.vault_id() != *code.vault_id() {
                return Err(remote::EnvelopeError::ShareVault {
                    share: hex(&vault.vault_id()),
                    code: hex(code.vault_id()),
                }
                .into());
            }
            quorum::check_share(&presented, &vault).map_err(|p| CliError::ShareRefused {
                label: label.clone(),
                problem: p.to_string(),
            })?;
            Some(vault)
        }
        None => None,
    };
    drop(presented);
    writeln!(
        err,
        "this ceremony: vault {}, epoch {}, for {}, expires {}",
        hex(code.vault_id()),
        code.epoch(),
        code.purpose(),
        timefmt::rfc3339(code.expires())
    )?;
    writeln!(
        err,
        "your share: {} (group {}), epoch {}, vault fingerprint {} (the host's screen shows it \
         too)",
        token.info.custodian,
        token.info.group,
        token.info.epoch,
        custody::keys::fingerprint(&token.public_key)
    )?;
    let verdict = match &vault {
        Some(v) => host_verdict(&code, &enrolled_hosts(v)),
        None => host_verdict(&code, &|_: &VerifyingKey| None),
    };
    writeln!(err, "{}", verdict_line(&verdict))?;
    let phrase = code.phrase();
    // 18: the phrase, compared by voice.
    match &args.phrase {
        Some(given) => {
            writeln!(err, "comparison phrase: {phrase}")?;
            phrase.check(given)?;
            writeln!(err, "the phrase given matches")?;
        }
        None => {
            if !(std::io::stdin().is_terminal() || std::io::stderr().is_terminal()) {
                return Err(CliError::Usage(
                    "there is no terminal to confirm the comparison phrase on: give the words \
                     the host reads out with --phrase \"...\""
                        .into(),
                ));
            }
            let mut tty = TerminalTty::open()?;
            confirm_on(&mut tty, &phrase.to_string())?;
        }
    }
    let envelope = remote::seal_envelope(&mut rand_core::OsRng, &code, &token, now)?;
    drop(token);
    match &args.output {
        Some(path) => {
            safe_file::create_own(path, envelope.as_bytes(), 0o600).map_err(|e| match e {
                FileError::Io(source) => CliError::Write {
                    path: path.clone(),
                    source,
                },
                FileError::Refused(problem) => CliError::Refused {
                    path: path.clone(),
                    problem,
                },
            })?;
            writeln!(
                out,
                "Wrote the envelope to {}: send it to the host (only this ceremony's session can \
                 open it, once).",
                path.display()
            )?;
        }
        None => out.write_all(envelope.as_bytes())?,
    }
    out.flush()?;
    let stderr_tty = std::io::stderr().is_terminal();
    if stderr_tty || args.qr {
        // The envelope is sealed: its QR code shows nothing secret. Custody's own drawing, so
        // it is written as is (colours only for a terminal).
        let qr = sheet::render_terminal(&envelope, stderr_tty);
        let mut raw = std::io::stderr().lock();
        raw.write_all(qr.as_bytes())?;
        raw.flush()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use custody::remote::CeremonyCode;
    use ed25519_dalek::SigningKey;

    fn code(signed: bool) -> CeremonyCode {
        let mut c = CeremonyCode::new([1; 16], [9; 32], [7; 16], 3, "drill", 100).unwrap();
        if signed {
            c.sign(&SigningKey::from_bytes(&[4; 32]));
        }
        c
    }

    #[test]
    fn verdicts_say_verified_only_for_an_enrolled_host() {
        let known = SigningKey::from_bytes(&[4; 32]).verifying_key();
        let lookup = move |k: &VerifyingKey| (*k == known).then(|| "ops-laptop".to_owned());
        assert_eq!(
            host_verdict(&code(true), &lookup),
            HostVerdict::Verified("ops-laptop".into())
        );
        assert_eq!(host_verdict(&code(false), &lookup), HostVerdict::Unsigned);
        let nobody = |_: &VerifyingKey| None;
        let unknown = host_verdict(&code(true), &nobody);
        assert!(matches!(unknown, HostVerdict::UnknownSigner(_)));
        for v in [unknown, HostVerdict::Unsigned] {
            let line = verdict_line(&v);
            assert!(line.contains("NOT verified"), "{line}");
        }
        assert!(verdict_line(&HostVerdict::Verified("h".into())).starts_with("host verified"));
    }

    #[test]
    fn the_terminal_question_takes_only_yes() {
        use super::super::interactive_tests::Script;
        for answer in ["y", "YES", " yes "] {
            let mut tty = Script::new(&[answer]);
            assert!(confirm_on(&mut tty, "acid bulb").is_ok(), "{answer}");
            assert!(tty.output.contains("comparison phrase: acid bulb\n"));
            assert!(
                tty.output
                    .contains("Does the host read out exactly these words? [y/N]")
            );
        }
        for answer in ["n", "", "yy", "sure", "\u{3}"] {
            let mut tty = Script::new(&[answer]);
            assert!(
                matches!(confirm_on(&mut tty, "x"), Err(CliError::NotContributed(_))),
                "{answer:?}"
            );
        }
        // No answer before the time limit.
        let mut tty = Script::new(&[]);
        match confirm_on(&mut tty, "x") {
            Err(CliError::NotContributed(why)) => assert!(why.contains("10 minutes")),
            other => panic!("{other:?}"),
        }
    }
}
