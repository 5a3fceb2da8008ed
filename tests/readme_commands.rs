//! Every command README.md shows, run as written, in order, so that the README cannot drift
//! from the program.
//!
//! Which lines are commands: a fenced code block is a *command block* when one of its lines,
//! after leading spaces and an optional `$ ` prompt, starts with `custody `. If its custody
//! lines carry the `$ ` prompt (a shell session), each `$ ` line is a command and the lines
//! after it, up to the next `$ ` line or the end of the block, are what it prints: each must be
//! one of the lines the command wrote (standard output or error). In any other command block
//! every line that is neither blank nor a comment (`#` first) is a command, so `echo … |
//! custody …` runs too. A line ending in `\` goes on with the next.
//!
//! How they run: each command is given to `sh -c` exactly as written, in README order, in one
//! fresh temporary folder (the working folder), with the test build of `custody` first on
//! `PATH`, `CUSTODY_FAKE_NOW` fixed, no `CUSTODY_VAULT`, and an empty standard input (not a
//! terminal). It must exit 0, unless a table below says otherwise: [`INPUT`] (what is typed
//! at a command that asks at the terminal), [`REFUSALS`] (commands that show a
//! refusal, with their exit code), [`BEFORE`] (files a command needs that no earlier command
//! makes, such as a photo of a sheet or the bot it starts) and [`NOT_RUN`] (with the reason).
//! Each table key is a piece of exactly one command's text: a command the README drops fails
//! its key, and a command the README adds runs.

use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

mod common;
use common::pty::drive_program;

/// 2026-11-20 12:00 UTC: inside the README's dates (a 2026 Q4 drill, a key expiring 2027).
const NOW: &str = "1795176000";

/// A command of README.md.
#[derive(Debug)]
struct Cmd {
    /// README line of its first line.
    line: usize,
    /// As written (continuation lines included), without the `$ ` prompt and indentation.
    text: String,
    /// In a shell session: the lines shown under it.
    output: Vec<String>,
}

/// What is typed at a command's terminal: each `send` once its `expect` text was shown.
type Typed = &'static [(&'static str, &'static str)];

/// Commands that read from a terminal: they run at a pseudo-terminal (standard input, output
/// and error), where this is typed.
const INPUT: &[(&str, Typed)] = &[(
    // The hidden prompt asks for each field an okx key has (api_key, api_secret, passphrase)
    // and offers the optional one (uid): Enter skips it.
    "okx-hedge --exchange okx --scope trade",
    &[
        ("api_key for okx-hedge", "okx-key\r"),
        ("api_secret for okx-hedge", "okx-secret\r"),
        ("passphrase for okx-hedge", "okx-pass\r"),
        ("uid for okx-hedge", "\r"),
    ],
)];

/// Commands that show a refusal: the exit code they end with.
const REFUSALS: &[(&str, i32)] = &[
    ("--custodian bob \"$(printf 'bob", 1),
    ("--custodian carol 李伟", 1),
];

/// Set-up before a command: what it needs that no earlier command makes.
type Prepare = fn(&Path);

/// Set-up before commands, by key.
const BEFORE: &[(&str, Prepare)] = &[
    ("alice-photo.jpg bob-scan.png", photos_of_printed_sheets),
    (
        "--share alice.jpg --share carol.jpg --share erin.jpg",
        drill_photos,
    ),
    ("--from-json new-key.json", new_exchange_key),
    (
        "echo \"carol $(cat carol.pub)\" > deliver.txt",
        custodian_age_key,
    ),
    ("--share shares/04-dave.txt -- python3 bot.py", bot),
    ("custody reshare", keep_quick_start_vault),
    ("custody replace-custodian", back_to_quick_start_vault),
    ("custody rebuild-vault", vault_file_lost),
];

/// Commands that cannot run here, and why.
const NOT_RUN: &[(&str, &str)] = &[
    (
        "custody drill --vault fund.vault --remote --host-key ops-laptop.key",
        "a remote ceremony at a terminal waits for envelopes; tests/remote_ceremony.rs holds \
         one on a pseudo-terminal, envelopes pasted among local shares",
    ),
    (
        "--remote --share shares/01-alice.txt --envelope-dir inbox",
        "waits for envelopes made from the code it shows; tests/remote_ceremony.rs and the \
         demo run it with two custodians' envelopes",
    ),
    (
        "custody contribute --code 'custody-ceremony:Q0NFUgEA...'",
        "needs a live ceremony's code; tests/remote_ceremony.rs and tests/remote_contribute.rs \
         run contribute against one",
    ),
    (
        "--proxy-listen 127.0.0.1:8787",
        "the agent with its signing proxy is a long-running service; tests/proxy_ccxt.rs and \
         tests/proxy_hygiene.rs run `agent run --proxy-listen` against local exchange mocks",
    ),
    (
        "--proxy --cred binance-main -- python3 bot.py",
        "needs the running agent and a bot; tests/proxy_ccxt.rs runs `agent exec --proxy` with \
         real ccxt bots",
    ),
    (
        "--socket /run/custody/agent.sock --max-ttl 24h",
        "the agent is a long-running service on /run/custody; tests/agent.rs runs `agent run` \
         and every agent command below against a real agent",
    ),
    (
        "custody agent unlock --socket /run/custody/agent.sock --ratify",
        "needs the running agent; tests/agent.rs unlocks one, with --ratify",
    ),
    (
        "--cred binance-main -- ./bot",
        "needs the running agent; tests/agent.rs runs agent exec",
    ),
    (
        "custody agent status --socket /run/custody/agent.sock --json",
        "needs the running agent; tests/agent.rs checks agent status --json",
    ),
    (
        "custody agent seal --socket /run/custody/agent.sock",
        "needs the running agent; tests/agent.rs seals one",
    ),
    (
        "docker run -d --name custody-agent",
        "docker is not part of the test machine; the agent commands are run by tests/agent.rs",
    ),
    (
        "docker exec -it custody-agent",
        "docker is not part of the test machine; tests/agent.rs unlocks an agent",
    ),
    (
        "docker run --user 1001:1000",
        "docker is not part of the test machine; tests/agent.rs runs agent exec",
    ),
    (
        "custody completions bash >",
        "installs into /etc (root); tests/completions_and_man.rs checks the script",
    ),
    (
        "custody completions zsh >",
        "installs into zsh's own folder (${fpath[1]} is zsh syntax); tests/completions_and_man.rs",
    ),
    (
        "custody completions fish >",
        "installs into the user's fish configuration; tests/completions_and_man.rs",
    ),
    (
        "custody man --out-dir /usr/local/share/man/man1",
        "installs into /usr/local (root); tests/completions_and_man.rs checks the pages",
    ),
    (
        "custody man | man -l -",
        "opens the man viewer; tests/completions_and_man.rs checks the page",
    ),
    (
        "--env-style freqtrade -- freqtrade trade",
        "`...` stands for the vault and shares of the exec above, and freqtrade is not \
         installed; tests/creds.rs checks the freqtrade variables",
    ),
    (
        "--cred binance-main,okx-hedge --stdin-json -- ./bot",
        "`...` stands for the vault and shares of the exec above; tests/creds.rs checks \
         --stdin-json",
    ),
    (
        "custody drill --vault fund.vault --interactive",
        "a transcript of a ceremony typed at a terminal (shortened with `...`); \
         tests/ceremony.rs types the same ceremony on a pseudo-terminal",
    ),
];

/// The commands of `readme`, by the rule at the top of this file.
fn commands(readme: &str) -> Vec<Cmd> {
    let mut out = Vec::new();
    let mut block: Option<Vec<(usize, &str)>> = None;
    for (i, line) in readme.lines().enumerate() {
        if line.trim_start().starts_with("```") {
            match block.take() {
                Some(b) => out.extend(block_commands(&b)),
                None => block = Some(Vec::new()),
            }
            continue;
        }
        if let Some(b) = &mut block {
            b.push((i + 1, line.trim_start()));
        }
    }
    assert!(block.is_none(), "README.md ends inside a code block");
    out
}

fn block_commands(block: &[(usize, &str)]) -> Vec<Cmd> {
    let unprompted = |l: &str| l.strip_prefix("$ ").unwrap_or(l).starts_with("custody ");
    if !block.iter().any(|(_, l)| unprompted(l)) {
        return Vec::new();
    }
    let session = block.iter().any(|(_, l)| l.starts_with("$ custody "));
    let mut out: Vec<Cmd> = Vec::new();
    let mut continued = false;
    for &(n, l) in block {
        if continued {
            let cmd = out.last_mut().unwrap();
            cmd.text.push('\n');
            cmd.text.push_str(l);
        } else if session {
            match l.strip_prefix("$ ") {
                Some(c) => out.push(Cmd {
                    line: n,
                    text: c.to_owned(),
                    output: Vec::new(),
                }),
                None => match out.last_mut() {
                    Some(cmd) if !l.is_empty() => cmd.output.push(l.to_owned()),
                    _ => {}
                },
            }
        } else if !l.is_empty() && !l.starts_with('#') {
            out.push(Cmd {
                line: n,
                text: l.to_owned(),
                output: Vec::new(),
            });
        }
        continued = l.ends_with('\\') && !out.is_empty();
    }
    out
}

/// The one command `key` is a piece of; panics when none or several are.
fn the_command<'c>(cmds: &'c [Cmd], key: &str, table: &str) -> &'c Cmd {
    let found: Vec<&Cmd> = cmds.iter().filter(|c| c.text.contains(key)).collect();
    match found.as_slice() {
        [one] => one,
        [] => panic!(
            "{table} has {key:?}, but no README command contains it any more: update the table"
        ),
        many => panic!(
            "{table} key {key:?} is in {} README commands (lines {:?}): make it distinctive",
            many.len(),
            many.iter().map(|c| c.line).collect::<Vec<_>>()
        ),
    }
}

/// What a command did: its exit code and everything it printed.
struct Ran {
    code: i32,
    printed: String,
}

fn run(dir: &Path, cmd: &Cmd, typed: Option<Typed>) -> Ran {
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_custody")).parent().unwrap();
    let path = std::env::join_paths(std::iter::once(bin_dir.to_path_buf()).chain(
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
    ))
    .unwrap();
    let mut setup = |c: &mut Command| {
        c.current_dir(dir)
            .env("PATH", &path)
            .env("CUSTODY_FAKE_NOW", NOW)
            .env_remove("CUSTODY_VAULT");
    };
    if let Some(typed) = typed {
        let steps: Vec<(&str, String)> = typed
            .iter()
            .flat_map(|(expect, send)| [("expect", expect.to_string()), ("send", send.to_string())])
            .collect();
        let args = [OsStr::new("-c"), OsStr::new(&cmd.text)];
        let (printed, code) = drive_program(&steps, OsStr::new("/bin/sh"), &args, &mut setup);
        return Ran { code, printed };
    }
    let mut c = Command::new("sh");
    c.arg("-c").arg(&cmd.text).stdin(Stdio::null());
    setup(&mut c);
    let out = c.output().unwrap();
    Ran {
        code: out.status.code().unwrap_or(-1),
        printed: format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    }
}

#[test]
fn every_readme_command_runs_as_written() {
    let readme = fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let cmds = commands(&readme);
    assert!(cmds.len() > 20, "only {} commands found", cmds.len());
    // Every key names exactly one command.
    for (k, _) in INPUT {
        the_command(&cmds, k, "INPUT");
    }
    for (k, _) in REFUSALS {
        the_command(&cmds, k, "REFUSALS");
    }
    for (k, _) in BEFORE {
        the_command(&cmds, k, "BEFORE");
    }
    for (k, _) in NOT_RUN {
        the_command(&cmds, k, "NOT_RUN");
    }

    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("work");
    fs::create_dir(&work).unwrap();
    let mut ran = 0;
    for cmd in &cmds {
        let entry = |key: &&str| cmd.text.contains(*key);
        if NOT_RUN.iter().any(|(k, _)| entry(k)) {
            continue;
        }
        let started = Instant::now();
        for (_, prepare) in BEFORE.iter().filter(|(k, _)| entry(k)) {
            prepare(&work);
        }
        let prepared = started.elapsed();
        let typed = INPUT.iter().find(|(k, _)| entry(k)).map(|(_, t)| *t);
        let want = REFUSALS
            .iter()
            .find(|(k, _)| entry(k))
            .map_or(0, |(_, code)| *code);
        let r = run(&work, cmd, typed);
        eprintln!(
            "README line {}: exit {} in {:.2} s (set-up {:.2} s)",
            cmd.line,
            r.code,
            (started.elapsed() - prepared).as_secs_f64(),
            prepared.as_secs_f64()
        );
        assert_eq!(
            r.code, want,
            "README line {}: `{}` exited {} (expected {want}); it printed:\n{}",
            cmd.line, cmd.text, r.code, r.printed
        );
        let printed: Vec<&str> = r.printed.lines().map(str::trim_end).collect();
        for shown in &cmd.output {
            assert!(
                printed.contains(&shown.as_str()),
                "README line {}: `{}` shows\n  {shown}\nbut printed:\n{}",
                cmd.line,
                cmd.text,
                r.printed
            );
        }
        ran += 1;
    }
    assert_eq!(ran + NOT_RUN.len(), cmds.len());
}

/// The rule that picks commands, on a small README.
#[test]
fn commands_are_picked_by_the_documented_rule() {
    let text = "\
intro
```sh
cargo run -- demo
```
   ```sh
   # a comment
   echo x | custody creds add \\
       --from-json -
   custody drill   # note
   ```
```
$ custody init ... bad
custody: error: refused
custody: what to do

$ custody check-share x
OK
```
";
    let cmds = commands(text);
    let texts: Vec<&str> = cmds.iter().map(|c| c.text.as_str()).collect();
    assert_eq!(
        texts,
        [
            "echo x | custody creds add \\\n--from-json -",
            "custody drill   # note",
            "custody init ... bad",
            "custody check-share x",
        ]
    );
    assert_eq!(cmds[0].line, 7);
    assert_eq!(
        cmds[2].output,
        ["custody: error: refused", "custody: what to do"]
    );
    assert_eq!(cmds[3].output, ["OK"]);
}

/// A table key that names no command, or several, fails the test.
#[test]
fn a_key_must_name_exactly_one_command() {
    let cmds = commands("```\ncustody drill --share a\ncustody drill --share b\n```\n");
    assert_eq!(the_command(&cmds, "--share b", "T").line, 3);
    let gone = std::panic::catch_unwind(|| the_command(&cmds, "--ratify", "T").line);
    let both = std::panic::catch_unwind(|| the_command(&cmds, "custody drill", "T").line);
    assert!(gone.is_err() && both.is_err());
}

// ---- set-up steps ----

/// Run the test build of custody in `dir`; panics unless it succeeds.
fn custody_in(dir: &Path, args: &[&str]) {
    let out = common::custody()
        .current_dir(dir)
        .env("CUSTODY_FAKE_NOW", NOW)
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "custody {args:?}: {out:?}");
}

/// A picture of `share`'s printed sheet at `to`: a 300 dpi PNG as custody renders it, or a
/// JPEG of it (a photo or scan).
fn picture(dir: &Path, share: &str, to: &str) {
    let png = dir.join(format!("{to}.sheet.png"));
    custody_in(
        dir,
        &[
            "sheet",
            "--vault",
            "fund.vault",
            share,
            "--format",
            "png",
            "-o",
            png.to_str().unwrap(),
        ],
    );
    if to.ends_with(".png") {
        fs::rename(&png, dir.join(to)).unwrap();
        return;
    }
    // A photo: half the scan's resolution (150 dpi), as a phone at arm's length takes it.
    let img = image::open(&png).unwrap().to_luma8();
    let img = image::imageops::thumbnail(&img, img.width() / 2, img.height() / 2);
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 85)
        .encode_image(&img)
        .unwrap();
    fs::write(dir.join(to), jpeg).unwrap();
    fs::remove_file(png).unwrap();
}

/// Step 2 of the quick start: the printed sheets photographed or scanned, all at once (the
/// drill of step 5 shows the same photos again).
fn photos_of_printed_sheets(dir: &Path) {
    std::thread::scope(|s| {
        for (share, to) in [
            ("shares/01-alice.txt", "alice-photo.jpg"),
            ("shares/02-bob.txt", "bob-scan.png"),
            ("shares/03-carol.txt", "carol.jpg"),
            ("shares/05-erin.txt", "erin.jpg"),
        ] {
            s.spawn(move || picture(dir, share, to));
        }
    });
}

/// Step 5 of the quick start: alice's photo again, under the drill's name.
fn drill_photos(dir: &Path) {
    fs::copy(dir.join("alice-photo.jpg"), dir.join("alice.jpg")).unwrap();
}

/// The rotated key, as the exchange gave it.
fn new_exchange_key(dir: &Path) {
    fs::write(
        dir.join("new-key.json"),
        r#"{"api_key":"new-key","api_secret":"new-secret"}"#,
    )
    .unwrap();
}

/// What the README's custodian does at home before the officer names her recipient (that
/// block has no custody command, so it does not run by itself): `age-keygen` as written there.
fn custodian_age_key(dir: &Path) {
    if !common::have("age-keygen", "the README's delivered shares") {
        return;
    }
    let ok = Command::new("sh")
        .arg("-c")
        .arg("age-keygen -o custody-id.txt 2>/dev/null && age-keygen -y custody-id.txt > carol.pub")
        .current_dir(dir)
        .status()
        .unwrap()
        .success();
    assert!(ok, "age-keygen failed");
}

/// The bot `exec` starts: it fails unless it was given the credential.
fn bot(dir: &Path) {
    fs::write(
        dir.join("bot.py"),
        "import os, sys\n\
         sys.exit(0 if os.environ.get('BINANCE_MAIN_API_KEY') == 'new-key' else 3)\n",
    )
    .unwrap();
}

/// Where [`keep_quick_start_vault`] keeps the folder.
fn kept(dir: &Path) -> PathBuf {
    dir.with_file_name("quick-start")
}

/// Each section after "Credentials" starts from the quick start's vault (alice to erin, with
/// its credentials): keep a copy of the folder before the first changes custodians.
fn keep_quick_start_vault(dir: &Path) {
    copy_dir(dir, &kept(dir));
}

/// Put the folder back as [`keep_quick_start_vault`] kept it.
fn back_to_quick_start_vault(dir: &Path) {
    fs::remove_dir_all(dir).unwrap();
    copy_dir(&kept(dir), dir);
}

/// "The vault file is lost": the quick start's folder without its vault (nor the files custody
/// keeps beside it, which rebuild-vault will not write over).
fn vault_file_lost(dir: &Path) {
    back_to_quick_start_vault(dir);
    let lost = dir.with_file_name("lost");
    fs::create_dir(&lost).unwrap();
    for entry in fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        if entry
            .file_name()
            .to_string_lossy()
            .starts_with("fund.vault")
        {
            fs::rename(entry.path(), lost.join(entry.file_name())).unwrap();
        }
    }
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).unwrap();
        }
    }
}
