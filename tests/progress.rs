//! Progress of slow work: the library tells a [`Progress`] each step (each custodian's sheets
//! as init writes them, each picture before it is decoded); the binary shows it on one line
//! of a terminal, erased before its output, and shows nothing when standard output is not a
//! terminal or the command prints JSON.

use std::path::Path;

use custody::clock::Clock;
use custody::input;
use custody::ops::init::{self, InitRequest};
use custody::policy::Policy;
use custody::progress::{Step, Task};
use custody::sheet::{Format, Paper};

mod common;
use common::custody;
use common::pty::drive_program;

const NOW: u64 = 1_790_000_000;

/// What a closure reporter saw: (task, number, total, subject).
type Seen = Vec<(Task, usize, usize, String)>;

fn record(seen: &mut Seen) -> impl FnMut(Step<'_>) + '_ {
    |s: Step<'_>| seen.push((s.task, s.number, s.total, s.subject.to_owned()))
}

/// `ops::init` of `names` (threshold 2) into `dir`, writing `formats`, reporting to `seen`.
fn init_reporting(dir: &Path, names: &[&str], formats: Vec<Format>, seen: &mut Seen) {
    let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    init::plan(InitRequest {
        vault: dir.join("fund.vault"),
        out_dir: dir.join("shares"),
        policy: Policy::single(2, &names).unwrap(),
        iteration_exponent: 0,
        formats,
        paper: Paper::A4,
        delivery: Default::default(),
    })
    .unwrap()
    .create_reporting(None, None, Clock::fixed(NOW), &mut record(seen))
    .unwrap();
}

#[test]
fn init_tells_each_custodian_whose_sheets_it_writes() {
    let dir = tempfile::tempdir().unwrap();
    let mut seen = Seen::new();
    init_reporting(
        dir.path(),
        &["alice", "bob", "carol", "Zoë"],
        vec![Format::Txt],
        &mut seen,
    );
    let want: Seen = ["alice", "bob", "carol", "Zoë"]
        .iter()
        .enumerate()
        .map(|(i, n)| (Task::WritingSheets, i + 1, 4, n.to_string()))
        .collect();
    assert_eq!(seen, want);
}

#[test]
fn a_picture_is_announced_before_it_is_decoded_and_text_is_not() {
    let dir = tempfile::tempdir().unwrap();
    init_reporting(
        dir.path(),
        &["alice", "bob"],
        vec![Format::Txt, Format::Png],
        &mut Seen::new(),
    );
    let png = dir.path().join("shares/01-alice.png");
    let mut seen = Seen::new();
    let p = input::read_file_reporting(&png, (2, 3), &mut record(&mut seen)).unwrap();
    assert_eq!(p.source, input::Source::Image);
    assert_eq!(
        seen,
        [(Task::ReadingPicture, 2, 3, png.display().to_string())]
    );
    let mut seen = Seen::new();
    let txt = dir.path().join("shares/01-alice.txt");
    input::read_file_reporting(&txt, (1, 3), &mut record(&mut seen)).unwrap();
    let bytes = std::fs::read(&png).unwrap();
    input::parse_bytes_reporting("stdin", &bytes, (3, 3), &mut record(&mut seen)).unwrap();
    assert_eq!(seen, [(Task::ReadingPicture, 3, 3, "stdin".to_owned())]);
}

// ---- the binary ----

/// `custody ARGS` in `dir` on a pseudo-terminal: what it showed (line ends as `\n`, the
/// driver's own lines removed) and its exit code.
fn at_terminal(dir: &Path, args: &[&str]) -> (String, i32) {
    let program = std::ffi::OsStr::new(env!("CARGO_BIN_EXE_custody"));
    let args: Vec<&std::ffi::OsStr> = args.iter().map(std::ffi::OsStr::new).collect();
    let (t, code) = drive_program(&[], program, &args, &mut |c| {
        c.current_dir(dir).env_remove("CUSTODY_VAULT");
    });
    let shown = t
        .rsplit_once("\nTERMINAL echo=")
        .map_or(t.as_str(), |(s, _)| s)
        .replace("\r\n", "\n");
    (shown, code)
}

/// `text` without its progress lines: the text between two return-and-erase sequences, on
/// one line (a progress line never ends in a newline); what follows the last erase is output.
fn without_progress(text: &str) -> String {
    let parts: Vec<&str> = text.split("\r\x1b[K").collect();
    let last = parts.len() - 1;
    parts
        .iter()
        .enumerate()
        .filter(|&(i, p)| i == 0 || i == last || p.contains('\n'))
        .map(|(_, p)| *p)
        .collect()
}

/// The lines of an init report, without the two that differ between vaults.
fn same_lines(report: &str) -> Vec<&str> {
    report
        .lines()
        .filter(|l| !l.starts_with("  fingerprint") && !l.starts_with("  vault id"))
        .collect()
}

const TWELVE: [&str; 12] = [
    "alice", "bob", "carol", "dave", "erin", "frank", "gina", "hank", "ivy", "jo", "kim", "lee",
];

/// `init` of the twelve into `fund.vault` and `shares/` (share files only: quick).
fn init_twelve() -> Vec<String> {
    let mut args: Vec<String> = [
        "init",
        "--vault",
        "fund.vault",
        "--out-dir",
        "shares",
        "--threshold",
        "3",
        "--iteration-exponent",
        "0",
        "--sheets",
        "txt",
        "--custodian",
    ]
    .map(String::from)
    .to_vec();
    args.extend(TWELVE.map(String::from));
    args
}

#[test]
fn init_at_a_terminal_shows_each_custodian_then_erases_the_line() {
    let tty_dir = tempfile::tempdir().unwrap();
    let args = init_twelve();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (shown, code) = at_terminal(tty_dir.path(), &args);
    assert_eq!(code, 0, "{shown}");
    for (i, name) in TWELVE.iter().enumerate() {
        let line = format!("\r\x1b[Kwriting sheets: {}/12 {name}", i + 1);
        assert!(shown.contains(&line), "no {line:?} in {shown:?}");
    }
    // The line is erased before the report, which is what it is without a terminal.
    assert!(
        shown.contains("writing sheets: 12/12 lee\r\x1b[KCreated vault fund.vault\n"),
        "{shown:?}"
    );
    let plain_dir = tempfile::tempdir().unwrap();
    let plain = custody()
        .current_dir(plain_dir.path())
        .args(&args)
        .output()
        .unwrap();
    assert!(plain.status.success());
    assert!(plain.stderr.is_empty(), "{plain:?}");
    let plain = String::from_utf8(plain.stdout).unwrap();
    assert!(!plain.contains('\x1b') && !plain.contains("writing sheets"));
    let stripped = without_progress(&shown);
    assert_eq!(same_lines(&stripped), same_lines(&plain));
}

#[test]
fn pictures_read_at_a_terminal_are_shown_but_not_with_json_or_without_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    common::init_args(
        custody().current_dir(dir.path()),
        Path::new("fund.vault"),
        Path::new("shares"),
        "2",
        "txt,png",
    )
    .args(["--custodian", "alice", "bob", "carol"])
    .assert()
    .success();
    let check = [
        "check-share",
        "--vault",
        "fund.vault",
        "shares/01-alice.png",
        "shares/02-bob.txt",
        "shares/03-carol.png",
    ];
    let (shown, code) = at_terminal(dir.path(), &check);
    assert_eq!(code, 0, "{shown}");
    assert!(
        shown.starts_with(
            "\r\x1b[Kreading photo 1/3: shares/01-alice.png\
             \r\x1b[Kreading photo 3/3: shares/03-carol.png\r\x1b[KVault fund.vault"
        ),
        "{shown:?}"
    );
    let plain = custody()
        .current_dir(dir.path())
        .args(check)
        .output()
        .unwrap();
    assert!(plain.status.success());
    assert!(plain.stderr.is_empty(), "{plain:?}");
    assert_eq!(
        without_progress(&shown),
        String::from_utf8(plain.stdout).unwrap()
    );

    // --json: one document, nothing else, at a terminal too.
    let mut json = check.to_vec();
    json.push("--json");
    let (shown, code) = at_terminal(dir.path(), &json);
    assert_eq!(code, 0, "{shown}");
    assert!(
        shown.starts_with("{\"") && !shown.contains('\x1b'),
        "{shown:?}"
    );

    // A quorum command given pictures shows them too.
    let drill = [
        "drill",
        "--vault",
        "fund.vault",
        "--share",
        "shares/03-carol.png",
        "--share",
        "shares/01-alice.txt",
    ];
    let (shown, code) = at_terminal(dir.path(), &drill);
    assert_eq!(code, 0, "{shown}");
    assert!(
        shown.starts_with("\r\x1b[Kreading photo 1/2: shares/03-carol.png\r\x1b[KDrill passed"),
        "{shown:?}"
    );
}
