//! `custody demo`: a complete ceremony in a temporary folder — init 3-of-5, every custodian
//! checks their share, a drill with three, and the two mistakes people make most (too few
//! shares, one share twice) — each step printed as the command an officer would type.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Parser;

use super::{Cli, CliError, DemoArgs};

const CUSTODIANS: [&str; 5] = ["alice", "bob", "carol", "dave", "erin"];

fn say(out: &mut dyn Write, text: &str) -> Result<(), CliError> {
    writeln!(out, "{text}").map_err(|e| CliError::Terminal(e.to_string()))
}

/// Print the command, run it in-process, and return its result.
fn step(out: &mut dyn Write, args: &[String]) -> Result<(), CliError> {
    say(out, &format!("\n$ custody {}", args.join(" ")))?;
    let cli =
        Cli::try_parse_from(std::iter::once("custody".to_owned()).chain(args.iter().cloned()))
            .map_err(|e| CliError::Usage(e.to_string()))?;
    super::run(cli, out)
}

fn share(dir: &Path, n: usize) -> String {
    dir.join(format!("{:02}-{}.txt", n, CUSTODIANS[n - 1]))
        .display()
        .to_string()
}

pub fn run(args: DemoArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let _temp;
    let root: PathBuf = match &args.keep {
        Some(dir) => {
            std::fs::create_dir(dir).map_err(|source| CliError::Write {
                path: dir.clone(),
                source,
            })?;
            dir.clone()
        }
        None => {
            _temp = tempfile_dir()?;
            _temp.0.clone()
        }
    };
    say(
        out,
        "custody demo: a full ceremony for a 3-of-5 custody set-up.",
    )?;
    say(
        out,
        &format!(
            "Working in {} (removed at the end unless --keep); paths below are relative to it.",
            root.display()
        ),
    )?;
    std::env::set_current_dir(&root).map_err(|source| CliError::Write {
        path: root.clone(),
        source,
    })?;
    let vault = "vault.json".to_owned();
    let shares = PathBuf::from("shares");

    say(
        out,
        "\n== 1. Initialise: a new master secret, split so that any 3 of 5 custodians can recover it.",
    )?;
    let mut init: Vec<String> = ["init", "--vault", &vault, "--out-dir"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    init.push(shares.display().to_string());
    init.extend(["--threshold".into(), "3".into(), "--custodian".into()]);
    init.extend(CUSTODIANS.iter().map(|s| s.to_string()));
    step(out, &init)?;

    say(
        out,
        "\n== 2. Each custodian checks their own share against the vault (no quorum needed).",
    )?;
    let mut check = vec!["check-share".to_owned(), "--vault".into(), vault.clone()];
    check.extend((1..=5).map(|n| share(&shares, n)));
    step(out, &check)?;

    say(
        out,
        "\n== 3. Drill: alice, carol and erin reconstruct the key in locked memory and verify it.",
    )?;
    let mut drill = vec!["drill".to_owned(), "--vault".into(), vault.clone()];
    for n in [1, 3, 5] {
        drill.extend(["--share".into(), share(&shares, n)]);
    }
    step(out, &drill)?;

    say(
        out,
        "\n== 4. What a failed ceremony looks like: only two custodians came.",
    )?;
    let mut few = vec!["drill".to_owned(), "--vault".into(), vault.clone()];
    for n in [2, 4] {
        few.extend(["--share".into(), share(&shares, n)]);
    }
    match step(out, &few) {
        Err(e) => say(
            out,
            &format!("custody: error: {e}\n(expected: two shares are not a quorum)"),
        )?,
        Ok(()) => {
            return Err(CliError::SelfCheck(
                "two shares unlocked a 3-of-5 vault".into(),
            ));
        }
    }

    say(
        out,
        "\n== 5. And when one sheet is presented twice, custody refuses instead of guessing.",
    )?;
    let mut dup = vec!["drill".to_owned(), "--vault".into(), vault.clone()];
    for n in [1, 2, 2] {
        dup.extend(["--share".into(), share(&shares, n)]);
    }
    match step(out, &dup) {
        Err(e) => say(
            out,
            &format!("custody: error: {e}\n(expected: a duplicate is never counted twice)"),
        )?,
        Ok(()) => {
            return Err(CliError::SelfCheck(
                "a duplicated share was accepted".into(),
            ));
        }
    }

    say(
        out,
        "\nDemo complete. In a real set-up each custodian keeps their own share file or printed",
    )?;
    say(
        out,
        "sheet in a safe place, and the vault file is backed up; it holds nothing secret.",
    )?;
    Ok(())
}

/// A temporary folder removed on drop.
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn tempfile_dir() -> Result<TempDir, CliError> {
    use rand_core::{OsRng, RngCore};
    let base = std::env::temp_dir();
    let mut tag = [0u8; 8];
    OsRng.fill_bytes(&mut tag);
    let dir = base.join(format!("custody-demo-{}", crate::keys::hex(&tag)));
    std::fs::create_dir(&dir).map_err(|source| CliError::Write {
        path: dir.clone(),
        source,
    })?;
    Ok(TempDir(dir))
}
