//! `custody exec` as a supervisor sees it: signals sent to custody reach the program and custody
//! exits with the program's status; how the program ended (exit code or signal) is recorded
//! after the ceremony and verifies; a program that cannot start is recorded as not started;
//! custody killed with SIGKILL does not leave the program running (and records no end);
//! expired credentials need `--allow-expired`. The program is a `sh` script that reports
//! through files.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rustix::process::{Pid, Signal};

mod common;
use common::init_args;

const T0: u64 = 1_790_000_000; // 2026-09-21

struct V {
    _dir: tempfile::TempDir,
    root: PathBuf,
    vault: PathBuf,
}

/// A 2-of-3 vault with the ratified credential `bn` (and `old`, which expired on 2026-01-31).
fn vault() -> V {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    let vault = root.join("vault.json");
    let mut c = common::custody();
    c.env("CUSTODY_FAKE_NOW", T0.to_string());
    init_args(&mut c, &vault, &root.join("sh"), "2", "txt")
        .args(["--custodian", "alice", "bob", "carol"])
        .assert()
        .success();
    let v = V {
        _dir: dir,
        root,
        vault,
    };
    for (name, extra) in [("bn", None), ("old", Some("2026-01-31"))] {
        let mut c = v.assert_cmd(&["creds", "add", name, "--exchange", "binance"]);
        c.args(["--scope", "trade", "--from-json", "-"]);
        if let Some(e) = extra {
            c.args(["--expires", e]);
        }
        c.write_stdin(r#"{"api_key":"k-sig","api_secret":"s-sig"}"#)
            .assert()
            .success();
    }
    v.assert_cmd(&["drill", "--ratify"])
        .args(v.shares())
        .assert()
        .success();
    v
}

impl V {
    fn shares(&self) -> Vec<String> {
        let mut out = Vec::new();
        for f in ["sh/01-alice.txt", "sh/03-carol.txt"] {
            out.push("--share".into());
            out.push(self.root.join(f).display().to_string());
        }
        out
    }

    fn assert_cmd(&self, args: &[&str]) -> assert_cmd::Command {
        let mut c = common::custody();
        c.env("CUSTODY_FAKE_NOW", T0.to_string());
        c.args(args).arg("--vault").arg(&self.vault);
        c
    }

    fn path(&self, name: &str) -> PathBuf {
        self.root.join(name)
    }

    /// `custody exec --cred bn -- sh -c script`, started in the background.
    fn exec_script(&self, script: &str) -> Child {
        let bin = assert_cmd::cargo::cargo_bin("custody");
        Command::new(bin)
            .env_remove("CUSTODY_VAULT")
            .env("CUSTODY_FAKE_NOW", T0.to_string())
            .env("DIR", &self.root)
            .args(["exec", "--cred", "bn", "--vault"])
            .arg(&self.vault)
            .args(self.shares())
            .args(["--", "sh", "-c", script])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(fs::File::create(self.path("stderr")).unwrap())
            .spawn()
            .unwrap()
    }

    fn audit(&self) -> String {
        fs::read_to_string(self.root.join("vault.json.audit")).unwrap()
    }

    /// The audit log's records, parsed.
    fn records(&self) -> Vec<serde_json::Value> {
        self.audit()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// The last exec ceremony's records: its closing record and the record after it.
    fn last_exec_end(&self) -> (serde_json::Value, Option<serde_json::Value>) {
        let records = self.records();
        let close = records
            .iter()
            .rposition(|r| r["event"] == "outcome")
            .unwrap();
        (records[close].clone(), records.get(close + 1).cloned())
    }

    /// `audit verify` passes, with nothing left unsigned after the last signed record;
    /// returns `audit show`'s output.
    fn verified_and_shown(&self) -> String {
        let out = self.assert_cmd(&["audit", "verify"]).output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(out.status.success(), "{text}");
        assert!(text.contains("Intact"), "{text}");
        assert!(!text.contains("after the last signed record"), "{text}");
        assert!(text.contains("how an exec's program ended"), "{text}");
        let out = self.assert_cmd(&["audit", "show"]).output().unwrap();
        assert!(out.status.success());
        let shown = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(shown.contains("Chain intact"), "{shown}");
        shown
    }
}

/// The pid in a closing record's "credentials handed to sh (pid N)".
fn handed_to_pid(close: &serde_json::Value) -> u64 {
    close["summary"]
        .as_str()
        .unwrap()
        .rsplit("(pid ")
        .next()
        .unwrap()
        .trim_end_matches(')')
        .parse()
        .unwrap()
}

/// Wait until `path` exists (the script is up), at most 20 s.
fn wait_for(path: &Path) {
    let start = Instant::now();
    while !path.exists() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "{} never appeared",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Wait for custody (at most 20 s, then kill it and fail: a hang means the program kept
/// running without it) and return its exit code.
fn finish(mut child: Child, v: &V) -> Option<i32> {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code();
        }
        if start.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            // And the program it left behind, so that a failing run does not leak it.
            if let Some(pid) = fs::read_to_string(v.path("ready"))
                .ok()
                .and_then(|p| p.trim().parse::<i32>().ok())
                .and_then(Pid::from_raw)
            {
                let _ = rustix::process::kill_process(pid, Signal::KILL);
            }
            panic!(
                "custody did not end: {}",
                fs::read_to_string(v.path("stderr")).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn signal(child: &Child, sig: Signal) {
    let pid = Pid::from_raw(child.id() as i32).unwrap();
    rustix::process::kill_process(pid, sig).unwrap();
}

/// Whether process `pid` is gone (or a zombie nobody reaped yet).
fn gone(pid: i32) -> bool {
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit(')')
            .next()
            .is_some_and(|rest| rest.trim_start().starts_with('Z')),
    }
}

/// A script that records which signal it got (trap) and exits with a code of its own.
const TRAPPING: &str = r#"
for s in TERM INT HUP QUIT USR1 USR2; do
  trap "echo $s > \"$DIR/got\"; exit 7" $s
done
echo $$ > "$DIR/ready.tmp" && mv "$DIR/ready.tmp" "$DIR/ready"
while :; do sleep 0.05; done
"#;

#[test]
fn every_forwarded_signal_reaches_the_program_and_its_status_is_custodys() {
    let v = vault();
    for (sig, name) in [
        (Signal::TERM, "TERM"),
        (Signal::INT, "INT"),
        (Signal::HUP, "HUP"),
        (Signal::QUIT, "QUIT"),
        (Signal::USR1, "USR1"),
        (Signal::USR2, "USR2"),
    ] {
        let _ = fs::remove_file(v.path("ready"));
        let _ = fs::remove_file(v.path("got"));
        let child = v.exec_script(TRAPPING);
        wait_for(&v.path("ready"));
        signal(&child, sig);
        assert_eq!(finish(child, &v), Some(7), "{name}");
        assert_eq!(fs::read_to_string(v.path("got")).unwrap().trim(), name);
    }
    let log = v.audit();
    assert_eq!(
        log.matches("credentials handed to sh (pid ").count(),
        6,
        "{log}"
    );
}

#[test]
fn a_program_ended_by_the_forwarded_signal_gives_128_plus_n() {
    let v = vault();
    let child = v.exec_script(r#"echo $$ > "$DIR/ready"; while :; do sleep 0.05; done"#);
    wait_for(&v.path("ready"));
    signal(&child, Signal::TERM);
    assert_eq!(finish(child, &v), Some(143));
}

#[test]
fn the_programs_exit_code_is_recorded_after_the_ceremony_and_verifies() {
    let v = vault();
    let child = v.exec_script(r#"sleep 0.2; exit 3"#);
    assert_eq!(finish(child, &v), Some(3));
    let (close, end) = v.last_exec_end();
    assert_eq!(close["outcome"], "succeeded");
    assert!(
        close["exit_key"].as_str().is_some_and(|k| k.len() == 64),
        "{close}"
    );
    let end = end.expect("a record of how the program ended");
    assert_eq!(end["event"], "program-ended", "{end}");
    assert_eq!(end["ceremony"], close["ceremony"]);
    assert_eq!(end["pid"].as_u64(), Some(handed_to_pid(&close)));
    assert_eq!(end["exit_code"], 3);
    assert!(end.get("signal").is_none(), "{end}");
    assert!(end["ran_ms"].as_u64().is_some_and(|ms| ms >= 200), "{end}");
    assert!(end["sig"].is_string(), "{end}");
    let shown = v.verified_and_shown();
    assert!(
        shown.contains(&format!(
            "program (pid {}) exited with code 3 after",
            handed_to_pid(&close)
        )),
        "{shown}"
    );
}

#[test]
fn a_program_ended_by_sigterm_is_recorded_as_signalled_and_verifies() {
    let v = vault();
    let child = v.exec_script(r#"echo $$ > "$DIR/ready"; while :; do sleep 0.05; done"#);
    wait_for(&v.path("ready"));
    // Sent to custody, as a supervisor does; custody forwards it to the program.
    signal(&child, Signal::TERM);
    assert_eq!(finish(child, &v), Some(143));
    let (close, end) = v.last_exec_end();
    let end = end.expect("a record of how the program ended");
    assert_eq!(end["event"], "program-ended", "{end}");
    assert_eq!(end["signal"], 15, "{end}");
    assert_eq!(end["signal_name"], "SIGTERM", "{end}");
    assert!(end.get("exit_code").is_none(), "{end}");
    let shown = v.verified_and_shown();
    assert!(
        shown.contains(&format!(
            "program (pid {}) was ended by signal 15 (SIGTERM) after",
            handed_to_pid(&close)
        )),
        "{shown}"
    );
}

#[test]
fn sigkill_to_custody_does_not_leave_the_program_running() {
    let v = vault();
    let child = v.exec_script(TRAPPING);
    wait_for(&v.path("ready"));
    let program: i32 = fs::read_to_string(v.path("ready"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(!gone(program));
    signal(&child, Signal::KILL);
    assert_eq!(finish(child, &v), None);
    let start = Instant::now();
    while !gone(program) {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the program {program} outlived custody"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // SIGKILL cannot be trapped, so the script did not report a signal.
    assert!(!v.path("got").exists());
    // custody died first: nothing records how the program ended, and the log is intact.
    assert!(!v.audit().contains("program-ended"));
    v.assert_cmd(&["audit", "verify"]).assert().success();
}

#[test]
fn a_program_that_cannot_start_is_recorded_as_not_started() {
    let v = vault();
    let out = v
        .assert_cmd(&["exec", "--cred", "bn"])
        .args(v.shares())
        .args(["--", "/nonexistent/prog"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot start /nonexistent/prog"), "{err}");
    let log = v.audit();
    let last = log.lines().last().unwrap();
    assert!(last.contains("cannot start /nonexistent/prog"), "{last}");
    assert!(last.contains("no credential left custody"), "{last}");
    assert!(
        !log.contains("credentials handed to /nonexistent/prog"),
        "{log}"
    );
}

#[test]
fn expired_credentials_need_allow_expired_which_is_recorded() {
    let v = vault();
    let out = v
        .assert_cmd(&["exec", "--cred", "old"])
        .args(v.shares())
        .args(["--", "true"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("credential `old`: it expired on 2026-01-31"),
        "{err}"
    );
    assert!(err.contains("--allow-expired"), "{err}");
    assert!(!v.audit().contains("expired_allowed"));
    let out = v
        .assert_cmd(&["exec", "--cred", "old", "--allow-expired"])
        .args(v.shares())
        .args(["--", "true"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("expired on 2026-01-31"));
    assert!(v.audit().contains("expired_allowed"));
}
