//! A running agent for the tests: a 2-of-3 vault (alice, bob, carol) with two ratified
//! credentials, `binance-main` and `okx-main`, whose access policy grants both to this test's
//! own user; `custody agent run` on a socket in the vault's folder, stopped when dropped.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::{custody, init_args};

/// The API key and secret of `binance-main` (test values).
pub const BINANCE_KEY: &str = "agent-test-binance-key-3f9a";
/// The secret of `binance-main`.
pub const BINANCE_SECRET: &str = "agent-test-binance-secret-77c1";
/// The API key of `okx-main`.
pub const OKX_KEY: &str = "agent-test-okx-key-a1b2";

/// A vault for the agent, its folder, and its share files.
pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub vault: PathBuf,
}

impl Fixture {
    /// Share file `n` (1 alice, 2 bob, 3 carol).
    pub fn share(&self, n: usize) -> PathBuf {
        let name = ["alice", "bob", "carol"][n - 1];
        self.dir.path().join("sh").join(format!("0{n}-{name}.txt"))
    }

    /// A command on this vault: `args` then `--vault`.
    pub fn cmd(&self, args: &[&str]) -> assert_cmd::Command {
        let mut c = custody();
        c.args(args).arg("--vault").arg(&self.vault);
        c
    }

    /// The socket path the agent of this fixture listens on.
    pub fn socket(&self) -> PathBuf {
        self.dir.path().join("run").join("agent.sock")
    }
}

/// Make the fixture vault: init, two credentials, a policy for this user, ratified by a drill.
pub fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let vault = dir.path().join("fund.vault");
    init_args(&mut custody(), &vault, &dir.path().join("sh"), "2", "txt")
        .args(["--custodian", "alice", "bob", "carol"])
        .assert()
        .success();
    let f = Fixture { dir, vault };
    for (name, exchange, json) in [
        (
            "binance-main",
            "binance",
            format!(r#"{{"api_key":"{BINANCE_KEY}","api_secret":"{BINANCE_SECRET}"}}"#),
        ),
        (
            "okx-main",
            "okx",
            format!(r#"{{"api_key":"{OKX_KEY}","api_secret":"s","passphrase":"p"}}"#),
        ),
    ] {
        f.cmd(&[
            "creds",
            "add",
            name,
            "--exchange",
            exchange,
            "--scope",
            "read,trade",
            "--from-json",
            "-",
        ])
        .write_stdin(json)
        .assert()
        .success();
    }
    grant_to_me(&f, &["binance-main", "okx-main"]);
    f.cmd(&["drill", "--ratify"])
        .arg("--share")
        .arg(f.share(1))
        .arg("--share")
        .arg(f.share(2))
        .assert()
        .success();
    f
}

/// Add an access-policy rule granting `creds` to this process's user (pending until ratified),
/// at `rate` requests a minute.
pub fn grant(f: &Fixture, uid: u32, creds: &[&str], rate: u64) {
    use custody::ops::access::{self, ClientSpec, RuleRequest};
    access::add(
        &f.vault,
        &RuleRequest {
            client: ClientSpec {
                uid,
                ..ClientSpec::default()
            },
            credentials: creds.iter().map(|c| c.to_string()).collect(),
            rate: custody::vault::access::Rate::per_minute(rate).unwrap(),
            terms: custody::vault::access::ProxyTerms::default(),
        },
        custody::clock::Clock::system(),
    )
    .unwrap();
}

/// [`grant`] to this process's user at 6000 requests a minute.
pub fn grant_to_me(f: &Fixture, creds: &[&str]) {
    grant(f, my_uid(), creds, 6000);
}

/// A running `custody agent run`.
pub struct Agent {
    pub child: Child,
    pub socket: PathBuf,
    pub stderr: PathBuf,
}

impl Agent {
    /// Start an agent on `f`'s vault with `extra` arguments, and wait until it listens.
    pub fn start(f: &Fixture, extra: &[&str]) -> Agent {
        Agent::start_with(f, extra, |c| c)
    }

    /// [`Agent::start`] through `launch`, which receives the command that runs the agent and
    /// returns the one to spawn: the same under another uid, or another program running it
    /// (strace). Its standard error is the agent's log; `child` is what `launch` returned.
    pub fn start_with(
        f: &Fixture,
        extra: &[&str],
        launch: impl FnOnce(Command) -> Command,
    ) -> Agent {
        let stderr = f.dir.path().join(format!("agent-{}.err", rand_suffix()));
        let socket = f.socket();
        let mut agent = Command::new(assert_cmd::cargo::cargo_bin("custody"));
        agent
            .args(["agent", "run", "--vault"])
            .arg(&f.vault)
            .arg("--socket")
            .arg(&socket)
            .args(extra)
            .env_remove("CUSTODY_VAULT");
        let child = launch(agent)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&stderr).unwrap())
            .spawn()
            .unwrap();
        let a = Agent {
            child,
            socket,
            stderr,
        };
        a.wait_for("listening on");
        a
    }

    /// Wait (up to 20 s) until the agent's log contains `text`.
    pub fn wait_for(&self, text: &str) {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(20) {
            if self.log().contains(text) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("the agent never logged {text:?}; its log:\n{}", self.log());
    }

    /// What the agent logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    /// `custody agent SUBCOMMAND --socket S` plus `args`.
    pub fn cmd(&self, sub: &str, args: &[&str]) -> assert_cmd::Command {
        let mut c = custody();
        c.args(["agent", sub, "--socket"])
            .arg(&self.socket)
            .args(args);
        c
    }

    /// `custody agent unlock` with `extra` arguments and shares 1 and 2 of `f`.
    pub fn unlock_cmd(&self, f: &Fixture, extra: &[&str]) -> assert_cmd::Command {
        let mut c = self.cmd("unlock", extra);
        c.arg("--share")
            .arg(f.share(1))
            .arg("--share")
            .arg(f.share(2));
        c
    }

    /// Unlock with shares 1 and 2 of `f`.
    pub fn unlock(&self, f: &Fixture) {
        self.unlock_cmd(f, &[]).assert().success();
    }

    /// Send one raw request line (without newline) and read one answer line.
    pub fn raw(&self, line: &[u8]) -> serde_json::Value {
        let mut s = UnixStream::connect(&self.socket).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        s.write_all(line).unwrap();
        s.write_all(b"\n").unwrap();
        let mut answer = String::new();
        BufReader::new(s).read_line(&mut answer).unwrap();
        serde_json::from_str(&answer).unwrap_or_else(|e| panic!("{e}: {answer:?}"))
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn rand_suffix() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(std::process::id() as u64);
    h.finish() % 1_000_000
}

/// The uid of this process.
pub fn my_uid() -> u32 {
    rustix::process::getuid().as_raw()
}

/// Whether `path` exists.
pub fn exists(path: &Path) -> bool {
    path.symlink_metadata().is_ok()
}
