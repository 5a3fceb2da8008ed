//! The `custody` binary holding a ceremony on a pseudo-terminal: a drill typed at the
//! terminal, Ctrl-C and the time limit. (The terminal code itself is tested inside the binary,
//! `src/cli/interactive_tests.rs`.) Every transcript is checked to hold no share word.

use custody::slip39::Share;

mod common;
use common::pty::drive;

fn words_of(s: &Share) -> Vec<String> {
    s.to_words().split(' ').map(String::from).collect()
}

/// Words the program itself may print (its messages' vocabulary): a share word that is also
/// one of these cannot prove an echo, so [`assert_no_secrets`] skips it.
fn vocabulary() -> Vec<String> {
    let text = [
        include_str!("../src/cli/interactive.rs"),
        include_str!("../src/gathering.rs"),
        include_str!("../src/quorum.rs"),
        include_str!("../src/cli/drill.rs"),
        include_str!("../src/input.rs"),
    ]
    .concat();
    text.split(|c: char| !c.is_ascii_alphabetic())
        .map(|w| w.to_ascii_lowercase())
        .collect()
}

// ---- the binary on a pseudo-terminal (needs `drill` to call the ceremony) ----

/// [`drive`], with custody's standard output going to the file `stdout` instead of the
/// terminal (standard input and standard error stay on it).
fn drive_stdout_to(
    steps: &[(&str, String)],
    stdout: &std::path::Path,
    args: &[&str],
) -> (String, i32) {
    use std::ffi::OsStr;
    let mut all: Vec<&OsStr> = vec![
        OsStr::new("-c"),
        OsStr::new("out=$1; shift; exec \"$0\" \"$@\" >\"$out\""),
        OsStr::new(env!("CARGO_BIN_EXE_custody")),
        stdout.as_os_str(),
    ];
    all.extend(args.iter().map(OsStr::new));
    common::pty::drive_program(steps, OsStr::new("/bin/sh"), &all, &mut |_| {})
}

struct InitDir {
    dir: tempfile::TempDir,
    vault: String,
}

fn init_vault() -> InitDir {
    let dir = tempfile::tempdir().unwrap();
    let vault = dir.path().join("fund.vault");
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_custody"))
        .args(["init", "--vault"])
        .arg(&vault)
        .arg("--out-dir")
        .arg(dir.path().join("shares"))
        .args([
            "--threshold",
            "3",
            "--custodian",
            "alice",
            "bob",
            "carol",
            "dave",
            "--sheets",
            "txt,png",
            "--iteration-exponent",
            "0",
        ])
        .output()
        .unwrap();
    assert!(status.status.success(), "{status:?}");
    InitDir {
        vault: vault.display().to_string(),
        dir,
    }
}

/// The token and the words of a share file written by init.
fn share_file(d: &InitDir, name: &str) -> (String, Vec<String>) {
    let text = std::fs::read_to_string(d.dir.path().join("shares").join(name)).unwrap();
    let p = custody::input::parse_text(name, &text).unwrap();
    (p.token.unwrap().to_text().to_string(), words_of(&p.share))
}

#[test]
fn binary_drill_at_a_terminal() {
    let d = init_vault();
    let png = d.dir.path().join("shares/01-alice.png");
    assert!(png.exists());
    let (bob_token, _) = share_file(&d, "02-bob.txt");
    let (_, carol_words) = share_file(&d, "03-carol.txt");
    let mut steps = vec![
        ("expect", "> ".to_owned()),
        ("send", format!("{}\r", png.display())),
        ("expect", "Accepted: alice".to_owned()),
        ("send", format!("{bob_token}\r")),
        ("expect", "Accepted: bob".to_owned()),
        ("send", "words\r".to_owned()),
        ("expect", "word 1: ".to_owned()),
    ];
    for (i, w) in carol_words.iter().enumerate() {
        if i == 4 {
            steps.push(("send", "acid\r".to_owned()));
            steps.push(("expect", "word 5 ✓".to_owned()));
            steps.push(("send", "undo\r".to_owned()));
            steps.push(("expect", "removed word 5".to_owned()));
        }
        let typed = if i == 2 {
            &w[..4.min(w.len())]
        } else {
            w.as_str()
        };
        steps.push(("send", format!("{typed}\r")));
        steps.push(("expect", format!("word {} ✓", i + 1)));
    }
    steps.push(("expect", "Quorum reached".to_owned()));
    steps.push(("send", "\r".to_owned()));
    steps.push(("expect", "Drill passed".to_owned()));
    let (t, code) = drive(&steps, &["drill", "--vault", &d.vault, "--interactive"]);
    assert_eq!(code, 0, "{t}");
    for want in [
        "Accepted: alice (custodians, share 1, signature verified). Progress: custodians 1 of 3",
        "Accepted: bob (custodians, share 2, signature verified). Progress: custodians 2 of 3",
        "Accepted: carol (custodians, share 3). Progress: custodians complete",
        "Drill passed: the quorum reconstructs this vault's master key",
    ] {
        assert!(t.contains(want), "missing {want:?} in:\n{t}");
    }
    let (alice_token, alice_words) = share_file(&d, "01-alice.txt");
    let (_, bob_words) = share_file(&d, "02-bob.txt");
    let vocab = vocabulary();
    let shown: Vec<String> = t
        .split(|c: char| !c.is_ascii_alphabetic())
        .map(|w| w.to_ascii_lowercase())
        .collect();
    for w in alice_words.iter().chain(&bob_words).chain(&carol_words) {
        assert!(vocab.contains(w) || !shown.contains(w), "{w:?} shown:\n{t}");
    }
    for tok in [&alice_token, &bob_token] {
        assert!(!t.contains(&tok[tok.len() - 40..]), "token shown:\n{t}");
    }
}

#[test]
fn binary_ctrl_c_cancels() {
    let d = init_vault();
    let (bob_token, _) = share_file(&d, "02-bob.txt");
    let steps = [
        ("expect", "> ".to_owned()),
        ("send", format!("{bob_token}\r")),
        ("expect", "Accepted: bob".to_owned()),
        ("send", format!("{bob_token}\r")),
        ("expect", "Rejected".to_owned()),
        ("send", "\x03".to_owned()),
    ];
    let (t, code) = drive(&steps, &["drill", "--vault", &d.vault, "--interactive"]);
    assert_eq!(code, 1, "{t}");
    assert!(t.contains("cancelled"), "{t}");
    assert!(t.contains("nothing was kept"), "{t}");
    assert!(!t.contains("Drill passed"), "{t}");
    // The audit log holds the share refused at the terminal and the cancelled outcome.
    let log = std::fs::read_to_string(format!("{}.audit", d.vault)).unwrap();
    let rejected: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("\"event\":\"share-rejected\""))
        .collect();
    assert_eq!(rejected.len(), 1, "{log}");
    assert!(rejected[0].contains("already presented"), "{log}");
    assert!(log.contains("cancelled"), "{log}");
    assert!(!log.contains(&bob_token[bob_token.len() - 40..]), "{log}");
}

#[test]
fn binary_time_limit() {
    let d = init_vault();
    let steps = [("expect", "> ".to_owned())];
    let (t, code) = drive(
        &steps,
        &[
            "drill",
            "--vault",
            &d.vault,
            "--interactive",
            "--timeout",
            "2s",
        ],
    );
    assert_eq!(code, 1, "{t}");
    assert!(t.contains("timed out after 2 seconds"), "{t}");
    assert!(t.contains("allow more time with --timeout"), "{t}");
}

#[test]
fn a_signal_during_the_ceremony_leaves_the_terminal_as_it_was() {
    let d = init_vault();
    let (bob_token, _) = share_file(&d, "02-bob.txt");
    for (sig, number) in [("TERM", 15), ("HUP", 1), ("INT", 2), ("QUIT", 3)] {
        let steps = [
            ("expect", "> ".to_owned()),
            ("send", format!("{bob_token}\r")),
            ("expect", "Accepted: bob".to_owned()),
            ("kill", sig.to_owned()),
        ];
        let (t, code) = drive(&steps, &["drill", "--vault", &d.vault, "--interactive"]);
        // Ended by the signal itself (the shell's 128 + n is Python's -n here).
        assert_eq!(code, -number, "{sig}: {t}");
        assert!(t.contains("TERMINAL echo=1 icanon=1"), "{sig}: {t}");
    }
}

/// reshare, then confirm, held at the terminal (`--interactive`) like a drill; `extend`'s
/// ceremony ends at its `--timeout`.
#[test]
fn change_commands_hold_the_ceremony_at_a_terminal() {
    let d = init_vault();
    let token = |dir: &str, name: &str| {
        let text = std::fs::read_to_string(d.dir.path().join(dir).join(name)).unwrap();
        custody::input::parse_text(name, &text)
            .unwrap()
            .token
            .unwrap()
            .to_text()
            .to_string()
    };
    let mut steps = vec![("expect", "> ".to_owned())];
    for (file, who) in [
        ("01-alice.txt", "alice"),
        ("02-bob.txt", "bob"),
        ("03-carol.txt", "carol"),
    ] {
        steps.push(("send", format!("{}\r", token("shares", file))));
        steps.push(("expect", format!("Accepted: {who}")));
    }
    steps.push(("expect", "Quorum reached".to_owned()));
    steps.push(("send", "\r".to_owned()));
    steps.push(("expect", "Prepared a reshare".to_owned()));
    let new_dir = d.dir.path().join("new");
    let (t, code) = drive(
        &steps,
        &[
            "reshare",
            "--vault",
            &d.vault,
            "--interactive",
            "--out-dir",
            new_dir.to_str().unwrap(),
            "--threshold",
            "2",
            "--custodian",
            "xavier",
            "yvonne",
            "zoe",
            "--sheets",
            "txt",
        ],
    );
    assert_eq!(code, 0, "{t}");

    // confirm: the NEW shares, which the current vault does not know yet.
    let steps = [
        ("expect", "> ".to_owned()),
        ("send", format!("{}\r", token("new", "01-xavier.txt"))),
        ("expect", "Accepted".to_owned()),
        ("send", format!("{}\r", token("new", "03-zoe.txt"))),
        ("expect", "Quorum reached".to_owned()),
        ("send", "\r".to_owned()),
        ("expect", "Confirmed the reshare".to_owned()),
    ];
    let (t, code) = drive(&steps, &["confirm", "--vault", &d.vault, "--interactive"]);
    assert_eq!(code, 0, "{t}");

    let (t, code) = drive(
        &[("expect", "> ".to_owned())],
        &[
            "extend",
            "--vault",
            &d.vault,
            "--custodian",
            "wendy",
            "--out-dir",
            d.dir.path().join("w").to_str().unwrap(),
            "--interactive",
            "--timeout",
            "2s",
        ],
    );
    assert_eq!(code, 1, "{t}");
    assert!(t.contains("timed out after 2 seconds"), "{t}");
}

/// `--interactive --json`: the ceremony's prompts and progress stay on the terminal, and
/// standard output holds the one JSON document and nothing else (reshare, then confirm).
#[test]
fn json_at_a_terminal_prints_only_the_document_on_standard_output() {
    let d = init_vault();
    let token = |dir: &str, name: &str| {
        let text = std::fs::read_to_string(d.dir.path().join(dir).join(name)).unwrap();
        custody::input::parse_text(name, &text)
            .unwrap()
            .token
            .unwrap()
            .to_text()
            .to_string()
    };
    let mut steps = vec![("expect", "> ".to_owned())];
    for (file, who) in [
        ("01-alice.txt", "alice"),
        ("02-bob.txt", "bob"),
        ("03-carol.txt", "carol"),
    ] {
        steps.push(("send", format!("{}\r", token("shares", file))));
        steps.push(("expect", format!("Accepted: {who}")));
    }
    steps.push(("expect", "Quorum reached".to_owned()));
    steps.push(("send", "\r".to_owned()));
    let new_dir = d.dir.path().join("new");
    let doc = d.dir.path().join("reshare.json");
    let (t, code) = drive_stdout_to(
        &steps,
        &doc,
        &[
            "reshare",
            "--vault",
            &d.vault,
            "--interactive",
            "--json",
            "--out-dir",
            new_dir.to_str().unwrap(),
            "--threshold",
            "2",
            "--custodian",
            "xavier",
            "yvonne",
            "zoe",
            "--sheets",
            "txt",
        ],
    );
    assert_eq!(code, 0, "{t}");
    assert!(t.contains("Accepted: carol"), "{t}");
    let only_document = |path: &std::path::Path, format: &str| {
        let text = std::fs::read_to_string(path).unwrap();
        assert_eq!(text.lines().count(), 1, "{text}");
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["format"], format, "{text}");
    };
    only_document(&doc, "custody-reshare/1");
    assert!(
        !t.contains("custody-reshare/1"),
        "the document reached the terminal:\n{t}"
    );

    let steps = [
        ("expect", "> ".to_owned()),
        ("send", format!("{}\r", token("new", "01-xavier.txt"))),
        ("expect", "Accepted".to_owned()),
        ("send", format!("{}\r", token("new", "03-zoe.txt"))),
        ("expect", "Quorum reached".to_owned()),
        ("send", "\r".to_owned()),
    ];
    let doc = d.dir.path().join("confirm.json");
    let (t, code) = drive_stdout_to(
        &steps,
        &doc,
        &["confirm", "--vault", &d.vault, "--interactive", "--json"],
    );
    assert_eq!(code, 0, "{t}");
    only_document(&doc, "custody-confirm/1");
}
