//! The host's side of a remote ceremony, end to end through the binary: `--remote` on a quorum
//! command shows a ceremony code and comparison phrase; remote custodians' envelopes
//! (`custody contribute`) arrive in a folder (`--envelope-dir`), as named files (`--envelope`)
//! or pasted at the terminal, mixed with shares presented locally; the audit log records the
//! session and each envelope; and every hostile case is refused with its reason: a replayed
//! envelope, one for another vault, one edited in transit, one made for a swapped code, a
//! second copy, an expired session, and a ceremony aborted half-way.

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{custody, pty};

/// A 3-of-5 vault (alice .. erin) in a new temporary folder.
fn vault_3_of_5() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let vault = dir.path().join("fund.vault");
    common::init_args(&mut custody(), &vault, &dir.path().join("sh"), "3", "txt")
        .args(["--custodian", "alice", "bob", "carol", "dave", "erin"])
        .assert()
        .success();
    (dir, vault)
}

const NAMES: [&str; 5] = ["alice", "bob", "carol", "dave", "erin"];

fn share(dir: &Path, n: usize) -> PathBuf {
    dir.join("sh").join(format!("{n:02}-{}.txt", NAMES[n - 1]))
}

/// A host command running in the background, its standard error read line by line.
struct Host {
    child: Child,
    lines: std::sync::mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Host {
    fn start(args: &[&str]) -> Host {
        let mut child = Command::new(env!("CARGO_BIN_EXE_custody"))
            .args(args)
            .env_remove("CUSTODY_VAULT")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let err = child.stderr.take().unwrap();
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Host {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// The value of the first line starting with `prefix` (waiting for it).
    fn value(&mut self, prefix: &str) -> String {
        let end = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(v) = self.seen.iter().find_map(|l| l.strip_prefix(prefix)) {
                return v.trim().to_owned();
            }
            let left = end.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(l) => self.seen.push(l),
                Err(_) => panic!("never saw {prefix:?}; saw:\n{}", self.seen.join("\n")),
            }
        }
    }

    /// Wait until a line containing `text` appears.
    fn wait_for(&mut self, text: &str) {
        let end = Instant::now() + Duration::from_secs(60);
        while !self.seen.iter().any(|l| l.contains(text)) {
            let left = end.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(l) => self.seen.push(l),
                Err(_) => panic!("never saw {text:?}; saw:\n{}", self.seen.join("\n")),
            }
        }
    }

    /// Wait for the host to end: its exit code, standard output and all of standard error.
    fn finish(mut self) -> (i32, String, String) {
        let mut out = String::new();
        use std::io::Read;
        self.child
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut out)
            .unwrap();
        let status = self.child.wait().unwrap();
        while let Ok(l) = self.lines.recv_timeout(Duration::from_secs(5)) {
            self.seen.push(l);
        }
        (status.code().unwrap_or(-1), out, self.seen.join("\n"))
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `custody contribute` for share `n` with the code and phrase the host showed, writing `out`.
fn contribute(dir: &Path, code: &str, phrase: &str, n: usize, out: &Path) {
    custody()
        .args(["contribute", "--code", code])
        .arg(share(dir, n))
        .args(["--phrase", phrase, "-o"])
        .arg(out)
        .assert()
        .success();
}

fn audit_text(vault: &Path) -> String {
    std::fs::read_to_string(format!("{}.audit", vault.display())).unwrap()
}

#[test]
fn a_drill_with_two_envelopes_from_a_folder_and_one_local_share() {
    let (dir, vault) = vault_3_of_5();
    let inbox = dir.path().join("inbox");
    std::fs::create_dir(&inbox).unwrap();
    let v = vault.to_str().unwrap();
    let alice = share(dir.path(), 1);
    let mut host = Host::start(&[
        "drill",
        "--vault",
        v,
        "--remote",
        "--share",
        alice.to_str().unwrap(),
        "--envelope-dir",
        inbox.to_str().unwrap(),
        "--timeout",
        "2m",
    ]);
    let code = host.value("ceremony code: ");
    let phrase = host.value("comparison phrase: ");
    assert!(code.starts_with("custody-ceremony:"), "{code}");
    assert_eq!(phrase.split(' ').count(), 8, "{phrase}");
    host.wait_for("Waiting for envelopes");
    contribute(dir.path(), &code, &phrase, 2, &inbox.join("bob.envelope"));
    host.wait_for("Accepted: bob");
    contribute(dir.path(), &code, &phrase, 4, &inbox.join("dave.envelope"));
    let (status, out, err) = host.finish();
    assert_eq!(status, 0, "{err}\n{out}");
    assert!(err.contains("Accepted: dave"), "{err}");
    assert!(err.contains("Proceeding with the shares of"), "{err}");
    assert!(
        out.contains("Drill passed") || out.contains("passed"),
        "{out}"
    );
    // The audit log: the session (its phrase's hash), and each envelope with when it came.
    let log = audit_text(&vault);
    assert!(log.contains("remote-ceremony"), "{log}");
    let hash = {
        use sha2::{Digest, Sha256};
        custody::keys::hex(&Sha256::digest(phrase.as_bytes()))
    };
    assert!(log.contains(&hash), "phrase hash missing:\n{log}");
    assert!(log.contains("bob.envelope, received"), "{log}");
    assert!(log.contains("dave.envelope, received"), "{log}");
    custody()
        .args(["audit", "verify", "--vault", v])
        .assert()
        .success();

    // Replayed into a later session: refused, named, and the drill does not pass on it.
    let inbox2 = dir.path().join("inbox2");
    std::fs::create_dir(&inbox2).unwrap();
    std::fs::copy(
        inbox.join("bob.envelope"),
        inbox2.join("bob-again.envelope"),
    )
    .unwrap();
    let host = Host::start(&[
        "drill",
        "--vault",
        v,
        "--remote",
        "--share",
        alice.to_str().unwrap(),
        "--envelope-dir",
        inbox2.to_str().unwrap(),
        "--timeout",
        "3s",
    ]);
    let (status, _, err) = host.finish();
    assert_ne!(status, 0, "{err}");
    assert!(err.contains("Refused envelope"), "{err}");
    assert!(err.contains("bob-again.envelope"), "{err}");
    assert!(
        err.contains("another ceremony key") || err.contains("another session"),
        "{err}"
    );
    assert!(err.contains("Time is up"), "{err}");
}

#[test]
fn named_envelopes_are_waited_for_and_hostile_ones_refused_with_their_reason() {
    let (dir, vault) = vault_3_of_5();
    let (other_dir, _other_vault) = vault_3_of_5();
    let v = vault.to_str().unwrap();
    let carol = dir.path().join("carol.envelope");
    let copy = dir.path().join("carol-copy.envelope");
    let edited = dir.path().join("dave-edited.envelope");
    let foreign = dir.path().join("foreign.envelope");
    let erin = dir.path().join("erin.envelope");
    let mut host = Host::start(&[
        "drill",
        "--vault",
        v,
        "--remote",
        "--envelope",
        carol.to_str().unwrap(),
        "--envelope",
        copy.to_str().unwrap(),
        "--envelope",
        edited.to_str().unwrap(),
        "--envelope",
        foreign.to_str().unwrap(),
        "--envelope",
        erin.to_str().unwrap(),
        "--share",
        share(dir.path(), 1).to_str().unwrap(),
        "--timeout",
        "2m",
    ]);
    let code = host.value("ceremony code: ");
    let phrase = host.value("comparison phrase: ");
    // A custodian of ANOTHER vault cannot make an envelope for this code at all...
    custody()
        .args(["contribute", "--code", &code])
        .arg(share(other_dir.path(), 3))
        .args(["--phrase", &phrase, "-o"])
        .arg(&foreign)
        .assert()
        .failure();
    assert!(!foreign.exists());
    // ... so the file named `foreign` is an envelope of another vault's ceremony, pasted here.
    let mut other = Host::start(&[
        "drill",
        "--vault",
        _other_vault.to_str().unwrap(),
        "--remote",
        "--envelope-dir",
        other_dir.path().to_str().unwrap(),
        "--timeout",
        "20s",
    ]);
    let other_code = other.value("ceremony code: ");
    let other_phrase = other.value("comparison phrase: ");
    contribute(
        other_dir.path(),
        &other_code,
        &other_phrase,
        3,
        &dir.path().join("foreign.tmp"),
    );
    drop(other);
    contribute(dir.path(), &code, &phrase, 3, &carol);
    std::fs::copy(&carol, &copy).unwrap();
    contribute(dir.path(), &code, &phrase, 4, &dir.path().join("dave.tmp"));
    // Edited in transit: one base64 character of the armored body changed.
    let mut text = std::fs::read_to_string(dir.path().join("dave.tmp")).unwrap();
    let at = text.find('\n').unwrap() + 10;
    let c = text.as_bytes()[at];
    let swapped = if c == b'A' { "B" } else { "A" };
    text.replace_range(at..at + 1, swapped);
    std::fs::write(&edited, text).unwrap();
    std::fs::rename(dir.path().join("foreign.tmp"), &foreign).unwrap();
    contribute(dir.path(), &code, &phrase, 5, &erin);
    let (status, out, err) = host.finish();
    assert_eq!(status, 0, "{err}\n{out}");
    assert!(err.contains("Accepted: carol"), "{err}");
    assert!(err.contains("Accepted: erin"), "{err}");
    // Each refusal names the file and says why.
    let refused = |name: &str| {
        err.lines()
            .find(|l| l.starts_with("Refused") && l.contains(name))
            .unwrap_or_else(|| panic!("{name} not refused:\n{err}"))
            .to_owned()
    };
    assert!(refused("carol-copy.envelope").contains("already"), "{err}");
    assert!(
        refused("carol-copy.envelope").contains("carol.envelope"),
        "{err}"
    );
    let e = refused("dave-edited.envelope");
    assert!(e.contains("edited") || e.contains("damaged"), "{e}");
    let f = refused("foreign.envelope");
    assert!(
        f.contains("another ceremony key") || f.contains("another"),
        "{f}"
    );
    let log = audit_text(&vault);
    assert!(log.contains("share-rejected"), "{log}");
    assert!(log.contains("dave-edited.envelope"), "{log}");
}

#[test]
fn remote_needs_a_vault_and_a_way_for_envelopes_to_arrive() {
    let (dir, vault) = vault_3_of_5();
    // No vault: nothing for the code to name.
    custody()
        .args(["drill", "--remote", "--share"])
        .arg(share(dir.path(), 1))
        .assert()
        .code(2)
        .stderr(predicates::str::contains("--remote needs the vault"));
    // Shares but no --envelope / --envelope-dir and no terminal.
    custody()
        .args(["drill", "--remote", "--vault"])
        .arg(&vault)
        .arg("--share")
        .arg(share(dir.path(), 1))
        .assert()
        .code(2)
        .stderr(predicates::str::contains("--envelope-dir"));
    // --envelope without --remote.
    custody()
        .args(["drill", "--vault"])
        .arg(&vault)
        .args(["--envelope", "x.envelope"])
        .assert()
        .code(2);
    // rebuild-vault has no vault to name.
    custody()
        .args(["rebuild-vault", "--out"])
        .arg(dir.path().join("new.vault"))
        .args(["--remote", "--envelope-dir"])
        .arg(dir.path())
        .assert()
        .code(2)
        .stderr(predicates::str::contains("rebuild-vault"));
}

#[test]
fn time_running_out_keeps_nothing_and_says_who_never_came() {
    let (dir, vault) = vault_3_of_5();
    let missing = dir.path().join("never.envelope");
    let host = Host::start(&[
        "drill",
        "--vault",
        vault.to_str().unwrap(),
        "--remote",
        "--share",
        share(dir.path(), 1).to_str().unwrap(),
        "--envelope",
        missing.to_str().unwrap(),
        "--timeout",
        "2s",
    ]);
    let (status, _, err) = host.finish();
    assert_ne!(status, 0);
    assert!(err.contains("Time is up"), "{err}");
    assert!(err.contains("never.envelope"), "{err}");
    assert!(
        err.contains("nothing was kept") || err.contains("Nothing was kept"),
        "{err}"
    );
    let log = audit_text(&vault);
    assert!(
        log.contains("\"outcome\":\"failed\"") || log.contains("failed"),
        "{log}"
    );
}

/// The shell command that makes an envelope from the code and phrase in `$TRANSCRIPT` for
/// share `share` and prints it (for the terminal driver's `sendcmd`).
fn envelope_cmd(share: &Path) -> String {
    format!(
        "code=$(printf '%s' \"$TRANSCRIPT\" | tr -d '\\r' | sed -n 's/.*ceremony code: \\(custody-ceremony:[A-Za-z0-9_-]*\\).*/\\1/p' | tail -1); \
         phrase=$(printf '%s' \"$TRANSCRIPT\" | tr -d '\\r' | sed -n 's/.*comparison phrase: \\([a-z ]*\\).*/\\1/p' | tail -1); \
         {} contribute --code \"$code\" '{}' --phrase \"$phrase\"",
        env!("CARGO_BIN_EXE_custody"),
        share.display()
    )
}

#[test]
fn at_the_terminal_envelopes_are_pasted_among_local_shares_and_a_copy_is_refused() {
    let (dir, vault) = vault_3_of_5();
    let alice = share(dir.path(), 1).display().to_string();
    let saved = dir.path().join("bob.envelope");
    let steps = [
        ("expect", "Next custodian".to_owned()),
        ("send", format!("{alice}\r")),
        ("expect", "Accepted: alice".to_owned()),
        (
            "sendcmd",
            format!(
                "{} | tee '{}'",
                envelope_cmd(&share(dir.path(), 2)),
                saved.display()
            ),
        ),
        ("expect", "Accepted: bob".to_owned()),
        // The same envelope again: each envelope opens once.
        ("sendcmd", format!("cat '{}'", saved.display())),
        ("expect", "Refused".to_owned()),
        ("sendcmd", envelope_cmd(&share(dir.path(), 3))),
        ("expect", "Quorum reached".to_owned()),
        ("send", "\r".to_owned()),
    ];
    let v = vault.display().to_string();
    let (transcript, code) = pty::drive(&steps, &["drill", "--vault", &v, "--remote"]);
    assert_eq!(code, 0, "{transcript}");
    assert!(
        transcript.contains("ceremony code: custody-ceremony:"),
        "{transcript}"
    );
    assert!(transcript.contains("by envelope"), "{transcript}");
    assert!(transcript.contains("already"), "{transcript}");
    assert!(transcript.contains("Accepted: carol"), "{transcript}");
    assert!(
        transcript.contains("TERMINAL echo=1 icanon=1"),
        "{transcript}"
    );
}

#[test]
fn an_aborted_ceremony_keeps_nothing_and_its_envelopes_never_open_again() {
    let (dir, vault) = vault_3_of_5();
    let v = vault.display().to_string();
    let saved = dir.path().join("bob.envelope");
    let save = format!(
        "{} | tee '{}'",
        envelope_cmd(&share(dir.path(), 2)),
        saved.display()
    );
    let steps = [
        ("expect", "Next custodian".to_owned()),
        ("sendcmd", save),
        ("expect", "Accepted: bob".to_owned()),
        ("send", "abort\r".to_owned()),
    ];
    let (transcript, code) = pty::drive(&steps, &["drill", "--vault", &v, "--remote"]);
    assert_ne!(code, 0, "{transcript}");
    assert!(transcript.contains("Nothing was kept"), "{transcript}");
    assert!(
        audit_text(&vault).contains("aborted"),
        "{}",
        audit_text(&vault)
    );
    // The same envelope in a new ceremony: its key is gone.
    let paste = format!("cat '{}'", saved.display());
    let steps = [
        ("expect", "Next custodian".to_owned()),
        ("sendcmd", paste),
        ("expect", "Refused".to_owned()),
        ("send", "abort\r".to_owned()),
    ];
    let (transcript, _) = pty::drive(&steps, &["drill", "--vault", &v, "--remote"]);
    assert!(
        transcript.contains("another ceremony key") || transcript.contains("another session"),
        "{transcript}"
    );
}

#[test]
fn a_code_from_an_enrolled_host_is_verified_and_one_from_any_other_host_never_is() {
    let (dir, vault) = vault_3_of_5();
    let v = vault.to_str().unwrap();
    let key = dir.path().join("ops-laptop.key");
    let stranger = dir.path().join("stranger.key");
    for k in [&key, &stranger] {
        custody()
            .args(["host-key", "new", "-o"])
            .arg(k)
            .assert()
            .success();
    }
    let public = dir.path().join("ops-laptop.host");
    let shown = custody()
        .args(["host-key", "show"])
        .arg(&key)
        .output()
        .unwrap();
    std::fs::write(&public, &shown.stdout).unwrap();
    custody()
        .args(["hosts", "add", "--vault", v, "ops-laptop"])
        .arg(&public)
        .assert()
        .success();

    // Signs a code with `host_key`, returns what `contribute --vault` says of it.
    let verdict = |host_key: &Path| {
        let inbox = tempfile::tempdir().unwrap();
        let mut host = Host::start(&[
            "drill",
            "--vault",
            v,
            "--remote",
            "--host-key",
            host_key.to_str().unwrap(),
            "--envelope-dir",
            inbox.path().to_str().unwrap(),
            "--timeout",
            "30s",
        ]);
        let code = host.value("ceremony code: ");
        let phrase = host.value("comparison phrase: ");
        let out = custody()
            .args(["contribute", "--vault", v, "--code", &code])
            .arg(share(dir.path(), 2))
            .args(["--phrase", &phrase, "-o"])
            .arg(inbox.path().join("bob.envelope"))
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    // Proposed but not ratified: not verified.
    let e = verdict(&key);
    assert!(e.contains("host NOT verified"), "{e}");
    // A quorum ratifies the host.
    custody()
        .args(["drill", "--vault", v, "--ratify"])
        .args(["--share", share(dir.path(), 1).to_str().unwrap()])
        .args(["--share", share(dir.path(), 3).to_str().unwrap()])
        .args(["--share", share(dir.path(), 5).to_str().unwrap()])
        .assert()
        .success();
    let e = verdict(&key);
    assert!(e.contains("host verified"), "{e}");
    assert!(e.contains("ops-laptop"), "{e}");
    assert!(!e.contains("NOT verified"), "{e}");
    // Another machine's key (signed, but not enrolled): never shown as verified.
    let e = verdict(&stranger);
    assert!(e.contains("host NOT verified"), "{e}");
}

/// Run a host command that waits for envelopes in `inbox`; bob (share 2 of the agent
/// fixture) contributes one; return the host's exit code and standard error.
fn with_bob_remote(f: &common::agent::Fixture, args: &[&str], inbox: &Path) -> (i32, String) {
    let mut host = Host::start(args);
    let code = host.value("ceremony code: ");
    let phrase = host.value("comparison phrase: ");
    custody()
        .args(["contribute", "--code", &code])
        .arg(f.share(2))
        .args(["--phrase", &phrase, "-o"])
        .arg(inbox.join("bob.envelope"))
        .assert()
        .success();
    let (status, _, err) = host.finish();
    (status, err)
}

#[test]
fn exec_and_agent_unlock_take_envelopes_too_and_the_agent_records_the_session() {
    use common::agent::{Agent, fixture};
    let f = fixture();
    let v = f.vault.to_str().unwrap();
    let alice = f.share(1);
    // exec: the program gets the credential; one share here, one by envelope.
    let inbox = f.dir.path().join("inbox-exec");
    std::fs::create_dir(&inbox).unwrap();
    let (status, err) = with_bob_remote(
        &f,
        &[
            "exec",
            "--vault",
            v,
            "--cred",
            "binance-main",
            "--remote",
            "--share",
            alice.to_str().unwrap(),
            "--envelope-dir",
            inbox.to_str().unwrap(),
            "--",
            "sh",
            "-c",
            "test -n \"$BINANCE_MAIN_API_KEY\"",
        ],
        &inbox,
    );
    assert_eq!(status, 0, "{err}");
    assert!(err.contains("Remote ceremony for `exec`"), "{err}");
    // agent unlock: the client opens the envelope; the agent records the session.
    let agent = Agent::start(&f, &[]);
    let inbox = f.dir.path().join("inbox-agent");
    std::fs::create_dir(&inbox).unwrap();
    let socket = agent.socket.to_str().unwrap().to_owned();
    let (status, err) = with_bob_remote(
        &f,
        &[
            "agent",
            "unlock",
            "--socket",
            &socket,
            "--vault",
            v,
            "--remote",
            "--share",
            alice.to_str().unwrap(),
            "--envelope-dir",
            inbox.to_str().unwrap(),
        ],
        &inbox,
    );
    assert_eq!(status, 0, "{err}");
    assert!(err.contains("Remote ceremony for `agent-unlock`"), "{err}");
    let log = audit_text(&f.vault);
    let unlock = log
        .lines()
        .skip_while(|l| !l.contains("\"agent-unlock\""))
        .collect::<Vec<_>>()
        .join("\n");
    assert!(unlock.contains("remote-ceremony"), "{log}");
    assert!(unlock.contains("bob.envelope, received"), "{log}");
    assert!(unlock.contains("(via agent unlock)"), "{log}");
    // A malformed `remote` member is refused before anything is looked at.
    let answer = agent.raw(
        br#"{"v":1,"op":"unlock","shares":[{"label":"x","text":"y"}],"remote":{"session_id":"zz","phrase_hash":"00","expires":1,"envelopes":1}}"#,
    );
    assert_eq!(answer["ok"], false, "{answer}");
    assert!(answer.to_string().contains("session_id"), "{answer}");
}

/// A photo of an envelope's QR code (as `contribute` draws it on the custodian's screen).
fn qr_photo(text: &str, path: &Path) {
    let m = custody::sheet::QrMatrix::encode(text);
    let px = 4;
    let side = (m.width() + 8) * px;
    let mut g = custody::scan::Gray::filled(side, side, 255);
    for y in 0..side {
        for x in 0..side {
            let (mx, my) = ((x / px).wrapping_sub(4), (y / px).wrapping_sub(4));
            if m.is_dark(mx, my) {
                g.px[y * side + x] = 0;
            }
        }
    }
    std::fs::write(path, custody::scan::degrade::to_png(&g)).unwrap();
}

#[test]
fn an_envelope_arrives_as_a_photo_of_its_qr_code() {
    let (dir, vault) = vault_3_of_5();
    let photo = dir.path().join("carol.png");
    let mut host = Host::start(&[
        "drill",
        "--vault",
        vault.to_str().unwrap(),
        "--remote",
        "--share",
        share(dir.path(), 1).to_str().unwrap(),
        "--share",
        share(dir.path(), 2).to_str().unwrap(),
        "--envelope",
        photo.to_str().unwrap(),
        "--timeout",
        "1m",
    ]);
    let code = host.value("ceremony code: ");
    let phrase = host.value("comparison phrase: ");
    let text_file = dir.path().join("carol.envelope");
    contribute(dir.path(), &code, &phrase, 3, &text_file);
    let text = std::fs::read_to_string(&text_file).unwrap();
    let partial = dir.path().join("carol.png.part");
    qr_photo(&text, &partial);
    std::fs::rename(&partial, &photo).unwrap();
    let (status, _, err) = host.finish();
    assert_eq!(status, 0, "{err}");
    assert!(err.contains("Accepted: carol"), "{err}");
    assert!(err.contains("carol.png"), "{err}");
}
