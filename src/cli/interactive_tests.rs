//! The ceremony at a terminal, driven two ways: a scripted in-memory terminal (transcripts of
//! whole ceremonies: tokens, share files, typed words with prefixes, undo and fix, rejections,
//! cross-check, Ctrl-C and the time limit), and the real terminal code on a pseudo-terminal in
//! this process (no echo, Ctrl-C as a byte, poll() time limit, terminal restored). The binary
//! on a pseudo-terminal is tested in `tests/ceremony.rs`.
//! Every transcript is checked to hold no share word and no token text.

use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::time::{Duration, Instant};

use super::interactive::{ReadByte, TerminalTty, Tty, collect_on};
use custody::input::Source;
use custody::quorum;
use custody::slip39::Share;
use custody::testkit::{TestVault, test_vault};
use custody::token::Token;

fn fixture(seed: u64, groups: &[(&str, u8, &[&str])], group_threshold: u8) -> TestVault {
    test_vault(seed as u8 + 1, seed as u8, seed, groups, group_threshold)
}

fn single() -> TestVault {
    fixture(
        3,
        &[("custodians", 3, &["alice", "bob", "carol", "dave"])],
        1,
    )
}

fn words_of(s: &Share) -> Vec<String> {
    s.to_words().split(' ').map(String::from).collect()
}

/// Words the program itself may print (its messages' vocabulary): a share word that is also
/// one of these cannot prove an echo, so [`assert_no_secrets`] skips it.
fn vocabulary() -> Vec<String> {
    let text = [
        include_str!("interactive.rs"),
        include_str!("advice.rs"),
        include_str!("../gathering.rs"),
        include_str!("../quorum.rs"),
        include_str!("drill.rs"),
        include_str!("../input.rs"),
    ]
    .concat();
    text.split(|c: char| !c.is_ascii_alphabetic())
        .map(|w| w.to_ascii_lowercase())
        .collect()
}

/// The transcript shows no word of any of `shares`, no token text, and no typed prefix line.
fn assert_no_secrets(transcript: &str, shares: &[&Share], tokens: &[&Token]) {
    let vocab = vocabulary();
    let shown: Vec<String> = transcript
        .split(|c: char| !c.is_ascii_alphabetic())
        .map(|w| w.to_ascii_lowercase())
        .collect();
    let mut checked = 0;
    for s in shares {
        for w in words_of(s) {
            if vocab.contains(&w) {
                continue;
            }
            checked += 1;
            assert!(
                !shown.contains(&w),
                "share word {w:?} appears in the transcript:\n{transcript}"
            );
        }
    }
    assert!(
        checked > 20 * shares.len(),
        "too few words could be checked"
    );
    for t in tokens {
        let text = t.to_text().to_string();
        let body = &text[text.len() - 40..];
        assert!(
            !transcript.contains(body),
            "token text appears:\n{transcript}"
        );
    }
}

/// A terminal that plays a script: its input bytes, then (when they run out) the time limit.
pub(super) struct Script {
    input: VecDeque<u8>,
    pub(super) output: String,
}

impl Script {
    /// Each line typed and ended with Enter (a line ending in Ctrl-C is typed as it is).
    pub(super) fn new(lines: &[&str]) -> Self {
        let mut input = VecDeque::new();
        for l in lines {
            input.extend(l.bytes());
            if !l.ends_with('\u{3}') {
                input.push_back(b'\r');
            }
        }
        Script {
            input,
            output: String::new(),
        }
    }
}

impl Tty for Script {
    fn read_byte(&mut self, _deadline: Instant) -> io::Result<ReadByte> {
        Ok(self
            .input
            .pop_front()
            .map_or(ReadByte::TimedOut, ReadByte::Byte))
    }

    fn write_str(&mut self, text: &str) -> io::Result<()> {
        self.output.push_str(text);
        Ok(())
    }
}

/// Typed input for a share: one word per line, some as 4-letter prefixes in capitals, with a
/// wrong word removed by `undo` part way.
fn typed_lines(s: &Share) -> Vec<String> {
    let mut out = Vec::new();
    for (i, w) in words_of(s).into_iter().enumerate() {
        if i == 5 {
            out.push("zzzz".into()); // not a word: refused, nothing taken
            out.push("acid".into()); // a wrong but valid word ...
            out.push("undo".into()); // ... taken back
        }
        if i % 3 == 0 && w.len() > 4 {
            out.push(w[..4].to_uppercase());
        } else {
            out.push(w);
        }
    }
    out
}

#[test]
fn scripted_ceremony_token_file_and_typed_words() {
    let f = single();
    let dir = tempfile::tempdir().unwrap();
    let bob_file = dir.path().join("02-bob.txt");
    std::fs::write(&bob_file, &*f.tokens[0][1].to_text()).unwrap();
    let alice = f.tokens[0][0].to_text().to_string();
    let carol = &f.tokens[0][2].share;
    let mut lines: Vec<String> = vec![
        "status".into(),
        String::new(), // Enter before the quorum: nothing happens
        alice.clone(),
        alice.clone(), // the same share again: refused by name
        "no such thing".into(),
        format!("'{}'", bob_file.display()),
        "words".into(),
    ];
    lines.extend(typed_lines(carol));
    lines.push(String::new()); // Enter: proceed
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    let mut tty = Script::new(&refs);
    let shares = collect_on(&mut tty, Some(&f.vault), Duration::from_secs(600)).unwrap();
    let t = &tty.output;
    for want in [
        "Quorum ceremony. Nothing you type is shown",
        &format!("Vault fingerprint {}", f.vault.fingerprint()),
        "custodians: any 3 of 4 (alice, bob, carol, dave)",
        "Time allowed: 10 minutes.",
        "Next custodian: scan path, paste token, or type `words`",
        "Presented so far: nobody yet",
        "Accepted: alice (custodians, share 1, signature verified). Progress: custodians 1 of 3",
        "Rejected: alice's share was already presented.",
        "That is neither a file here, a token (custody-share:...), nor a command",
        "Reading 02-bob.txt ...",
        "Accepted: bob (custodians, share 2, signature verified). Progress: custodians 2 of 3",
        "This share has 33 words.",
        "word 1 ✓ (1 of 33, completed from its first letters)",
        "word 2 ✓ (2 of 33)",
        "word 6 is not a SLIP-39 word",
        "removed word 6; 5 words so far",
        "word 33 ✓ (33 of 33",
        "Accepted: carol (custodians, share 3). Progress: custodians complete",
        "The shares fit together (SLIP-39 digest verified).",
        "Quorum reached. Present more shares to cross-check, or press Enter to proceed",
        "Proceeding with the shares of alice, bob, carol.",
    ] {
        assert!(t.contains(want), "missing {want:?} in:\n{t}");
    }
    assert_no_secrets(
        t,
        &[&f.tokens[0][0].share, &f.tokens[0][1].share, carol],
        &[&f.tokens[0][0], &f.tokens[0][1]],
    );
    assert!(!t.contains("zzzz"), "an unknown word was echoed");
    assert_eq!(shares.len(), 3);
    assert_eq!(shares[2].source, Source::Words);
    assert_eq!(shares[2].label, "carol's typed words");
    let un = quorum::unlock(&shares, Some(&f.vault), None).unwrap();
    let names: Vec<&str> = un.members.iter().map(|m| m.custodian.as_str()).collect();
    assert_eq!(names, ["alice", "bob", "carol"]);
}

#[test]
fn scripted_checksum_error_names_the_word_and_fix_repairs_it() {
    let f = single();
    let dave = &f.tokens[0][3].share;
    let list = words_of(dave);
    let wrong = if list[9] == "academic" {
        "acid"
    } else {
        "academic"
    };
    let mut lines = vec!["words".to_owned()];
    // Several words on one line are fine too.
    lines.push(list[..9].join(" "));
    lines.push(wrong.into());
    lines.push(list[10..].join(" "));
    lines.push("fix 10".into());
    lines.push(list[9].clone());
    for t in &f.tokens[0][..2] {
        lines.push(t.to_text().to_string());
    }
    lines.push("done".into());
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    let mut tty = Script::new(&refs);
    let shares = collect_on(&mut tty, Some(&f.vault), Duration::from_secs(60)).unwrap();
    let t = &tty.output;
    assert!(
        t.contains("33 words so far. If this share has 33 words, its checksum does not match: word 10 is probably wrong; check it on the sheet and type `fix 10`."),
        "{t}"
    );
    assert!(t.contains("word 10 ✓ (replaced)"), "{t}");
    assert!(t.contains("Accepted: dave (custodians, share 4)"), "{t}");
    assert!(!t.contains(wrong) || vocabulary().contains(&wrong.to_owned()));
    assert_no_secrets(t, &[dave], &[]);
    assert_eq!(shares.len(), 3);
    quorum::unlock(&shares, Some(&f.vault), None).unwrap();
}

#[test]
fn scripted_two_groups_progress_and_rejections() {
    let f = fixture(
        4,
        &[
            ("Ops", 2, &["alice", "bob", "carol"]),
            ("Board", 1, &["dave"]),
        ],
        2,
    );
    let other = single();
    let lines = [
        "done".to_owned(),
        f.tokens[0][0].to_text().to_string(),
        other.tokens[0][1].to_text().to_string(), // another vault's share
        f.tokens[1][0].to_text().to_string(),
        f.tokens[0][2].to_text().to_string(),
        String::new(),
    ];
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    let mut tty = Script::new(&refs);
    let shares = collect_on(&mut tty, Some(&f.vault), Duration::from_secs(60)).unwrap();
    let t = &tty.output;
    for want in [
        "Ops: any 2 of 3 (alice, bob, carol)",
        "Needed: 2 of the 2 groups",
        "Not yet: Ops 0 of 2, Board 0 of 1 — 0 of 2 groups complete, 2 needed.",
        "Accepted: alice (Ops, share 1, signature verified). Progress: Ops 1 of 2, Board 0 of 1 — 0 of 2 groups complete, 2 needed",
        "Rejected: this share does not belong here: it was signed by the key with fingerprint",
        "Accepted: dave (Board, share 1, signature verified). Progress: Ops 1 of 2, Board complete — 1 of 2 groups complete, 2 needed",
        "Accepted: carol (Ops, share 3, signature verified). Progress: Ops complete, Board complete — 2 of 2 groups complete, 2 needed",
        "Proceeding with the shares of alice, dave, carol.",
    ] {
        assert!(t.contains(want), "missing {want:?} in:\n{t}");
    }
    quorum::unlock(&shares, Some(&f.vault), None).unwrap();
}

#[test]
fn scripted_extra_inconsistent_share_is_named_and_can_be_removed() {
    let f = single();
    let mut bad = f.tokens[0][3].share.clone();
    bad.value[3] ^= 0x10; // dave's share, mistyped into another valid-looking share
    let mut lines: Vec<String> = f.tokens[0][..3]
        .iter()
        .map(|t| t.to_text().to_string())
        .collect();
    lines.push(bad.to_words().to_string());
    lines.push("remove dave".into());
    lines.push(String::new());
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    let mut tty = Script::new(&refs);
    let shares = collect_on(&mut tty, Some(&f.vault), Duration::from_secs(60)).unwrap();
    let t = &tty.output;
    assert!(
        t.contains("Accepted: dave (custodians, share 4). Progress: custodians complete"),
        "{t}"
    );
    assert!(
        t.contains(
            "Cross-check FAILED: dave's pasted words does not agree with the rest of the quorum"
        ),
        "{t}"
    );
    assert!(
        t.contains("dave's share was taken back and wiped. Progress: custodians complete"),
        "{t}"
    );
    assert_no_secrets(t, &[&bad], &[]);
    assert_eq!(shares.len(), 3);
    quorum::unlock(&shares, Some(&f.vault), None).unwrap();
}

#[test]
fn scripted_extra_share_left_in_is_named_by_unlock() {
    let f = single();
    let mut bad = f.tokens[0][3].share.clone();
    bad.value[3] ^= 0x10;
    let mut lines: Vec<String> = f.tokens[0][..3]
        .iter()
        .map(|t| t.to_text().to_string())
        .collect();
    lines.push("words".into());
    lines.extend(words_of(&bad));
    lines.push(String::new());
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    let mut tty = Script::new(&refs);
    let shares = collect_on(&mut tty, Some(&f.vault), Duration::from_secs(60)).unwrap();
    assert!(tty.output.contains("Cross-check FAILED"), "{}", tty.output);
    let err = quorum::unlock(&shares, Some(&f.vault), None).unwrap_err();
    assert_eq!(
        err.to_string(),
        "share(s) dave's typed words do not agree with the others: they are damaged, forged, or \
         from another set. The rest of the quorum was consistent; leave those out"
    );
}

#[test]
fn scripted_ctrl_c_wipes_everything() {
    let f = single();
    let alice = f.tokens[0][0].to_text().to_string();
    let mut tty = Script::new(&[&alice, "words", "acad", "aci\u{3}"]);
    let err = collect_on(&mut tty, Some(&f.vault), Duration::from_secs(60)).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.starts_with("the ceremony was cancelled (Ctrl-C); nothing was kept"),
        "{msg}"
    );
    assert_eq!(err.exit_code(), 1);
    assert!(
        tty.output
            .contains("^C Ceremony cancelled. Nothing was kept.")
    );
    assert!(tty.output.contains("word 1 ✓"));
}

#[test]
fn scripted_abort_and_closed_terminal() {
    let f = single();
    let mut tty = Script::new(&["abort"]);
    let err = collect_on(&mut tty, Some(&f.vault), Duration::from_secs(60)).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("the ceremony was aborted; nothing was kept")
    );
    // Ctrl-D on an empty line: the terminal is gone.
    let mut tty = Script::new(&["\u{4}"]);
    let err = collect_on(&mut tty, Some(&f.vault), Duration::from_secs(60)).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("the terminal closed during the ceremony; nothing was kept"),
        "{err}"
    );
}

#[test]
fn scripted_time_limit() {
    let f = single();
    let alice = f.tokens[0][0].to_text().to_string();
    let mut tty = Script::new(&[&alice]);
    let err = collect_on(&mut tty, Some(&f.vault), Duration::from_secs(120)).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("ceremony timed out after 2 minutes; nothing was kept"),
        "{err}"
    );
    assert!(
        tty.output
            .contains("Time is up (2 minutes). Nothing was kept.")
    );
}

#[test]
fn scripted_without_vault() {
    let f = single();
    let mut lines: Vec<String> = f.tokens[0][..2]
        .iter()
        .map(|t| t.to_text().to_string())
        .collect();
    lines.push(f.tokens[0][2].share.to_words().to_string());
    lines.push(String::new());
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    let mut tty = Script::new(&refs);
    let shares = collect_on(&mut tty, None, Duration::from_secs(60)).unwrap();
    let t = &tty.output;
    assert!(t.contains("No vault given: plain SLIP-39 shares will be combined."));
    assert!(
        t.contains("Accepted: member 3 (#1, share 3). Progress: custodians complete"),
        "{t}"
    );
    quorum::unlock(&shares, None, None).unwrap();
}

// ---- the real terminal code on a pseudo-terminal, in this process ----

struct Pty {
    master: std::fs::File,
    slave: std::fs::File,
}

fn open_pty() -> Pty {
    use rustix::pty::{OpenptFlags, grantpt, openpt, ptsname, unlockpt};
    use std::os::unix::fs::OpenOptionsExt;
    let master = openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY | OpenptFlags::CLOEXEC).unwrap();
    grantpt(&master).unwrap();
    unlockpt(&master).unwrap();
    let name = ptsname(&master, Vec::new()).unwrap();
    let slave = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(rustix::fs::OFlags::NOCTTY.bits() as i32)
        .open(name.to_str().unwrap())
        .unwrap();
    Pty {
        master: std::fs::File::from(master),
        slave,
    }
}

/// Read the master side until `needle` appears (or 20 s pass); returns everything read.
fn expect(master: &mut std::fs::File, seen: &mut String, needle: &str) {
    use rustix::event::{PollFd, PollFlags, Timespec, poll};
    let end = Instant::now() + Duration::from_secs(20);
    while !seen.contains(needle) {
        assert!(
            Instant::now() < end,
            "timed out waiting for {needle:?}; saw:\n{seen}"
        );
        let mut fds = [PollFd::new(&*master, PollFlags::IN)];
        let ts = Timespec {
            tv_sec: 0,
            tv_nsec: 200_000_000,
        };
        if poll(&mut fds, Some(&ts)).unwrap() == 0 {
            continue;
        }
        let mut buf = [0u8; 4096];
        match master.read(&mut buf) {
            Ok(0) => panic!("terminal closed waiting for {needle:?}; saw:\n{seen}"),
            Ok(n) => seen.push_str(&String::from_utf8_lossy(&buf[..n])),
            Err(e) => panic!("{e}; saw:\n{seen}"),
        }
    }
}

fn echo_on(f: &std::fs::File) -> bool {
    rustix::termios::tcgetattr(f)
        .unwrap()
        .local_modes
        .contains(rustix::termios::LocalModes::ECHO)
}

#[test]
fn pty_no_echo_and_terminal_restored() {
    let f = single();
    let mut pty = open_pty();
    assert!(echo_on(&pty.slave));
    let probe = pty.slave.try_clone().unwrap();
    let vault = f.vault.clone();
    let slave = pty.slave.try_clone().unwrap();
    let worker = std::thread::spawn(move || {
        let mut tty = TerminalTty::from_file(slave).unwrap();
        collect_on(&mut tty, Some(&vault), Duration::from_secs(60))
    });
    let mut seen = String::new();
    expect(&mut pty.master, &mut seen, "> ");
    assert!(!echo_on(&probe), "echo must be off during the ceremony");
    pty.master
        .write_all(format!("{}\r", *f.tokens[0][0].to_text()).as_bytes())
        .unwrap();
    expect(&mut pty.master, &mut seen, "Accepted: alice");
    pty.master.write_all(b"words\r").unwrap();
    expect(&mut pty.master, &mut seen, "word 1: ");
    for (i, w) in words_of(&f.tokens[0][1].share).iter().enumerate() {
        let typed = if i == 2 { &w[..4.min(w.len())] } else { w };
        pty.master
            .write_all(format!("{typed}\r").as_bytes())
            .unwrap();
        expect(&mut pty.master, &mut seen, &format!("word {} ✓", i + 1));
    }
    expect(&mut pty.master, &mut seen, "Accepted: bob");
    pty.master
        .write_all(format!("{}\r", *f.tokens[0][2].to_text()).as_bytes())
        .unwrap();
    expect(&mut pty.master, &mut seen, "Quorum reached.");
    pty.master.write_all(b"\r").unwrap();
    let shares = worker.join().unwrap().unwrap();
    expect(
        &mut pty.master,
        &mut seen,
        "Proceeding with the shares of alice, bob, carol.",
    );
    assert_eq!(shares.len(), 3);
    assert!(echo_on(&probe), "the terminal must be restored");
    assert_no_secrets(
        &seen,
        &[&f.tokens[0][0].share, &f.tokens[0][1].share],
        &[&f.tokens[0][0], &f.tokens[0][2]],
    );
    quorum::unlock(&shares, Some(&f.vault), None).unwrap();
}

#[test]
fn pty_ctrl_c_and_time_limit() {
    let f = single();
    // Ctrl-C arrives as a byte (signals are off), not as SIGINT to this test process.
    let mut pty = open_pty();
    let probe = pty.slave.try_clone().unwrap();
    let vault = f.vault.clone();
    let slave = pty.slave.try_clone().unwrap();
    let worker = std::thread::spawn(move || {
        let mut tty = TerminalTty::from_file(slave).unwrap();
        collect_on(&mut tty, Some(&vault), Duration::from_secs(60))
    });
    let mut seen = String::new();
    expect(&mut pty.master, &mut seen, "> ");
    pty.master
        .write_all(format!("{}\rwords\racad\x03", *f.tokens[0][0].to_text()).as_bytes())
        .unwrap();
    let err = worker.join().unwrap().unwrap_err();
    assert!(err.to_string().contains("cancelled"), "{err}");
    expect(
        &mut pty.master,
        &mut seen,
        "Ceremony cancelled. Nothing was kept.",
    );
    assert!(echo_on(&probe));

    // The time limit, measured by poll() on the terminal.
    let mut pty = open_pty();
    let probe = pty.slave.try_clone().unwrap();
    let vault = f.vault.clone();
    let slave = pty.slave.try_clone().unwrap();
    let start = Instant::now();
    let worker = std::thread::spawn(move || {
        let mut tty = TerminalTty::from_file(slave).unwrap();
        collect_on(&mut tty, Some(&vault), Duration::from_secs(1))
    });
    let mut seen = String::new();
    expect(&mut pty.master, &mut seen, "> ");
    pty.master.write_all(b"stat").unwrap(); // half a line, then nothing
    let err = worker.join().unwrap().unwrap_err();
    let took = start.elapsed();
    assert!(
        err.to_string()
            .starts_with("ceremony timed out after 1 second"),
        "{err}"
    );
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(10),
        "{took:?}"
    );
    expect(&mut pty.master, &mut seen, "Time is up (1 second).");
    assert!(echo_on(&probe));
}
