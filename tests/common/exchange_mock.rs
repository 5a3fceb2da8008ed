//! The local exchange mocks (tests/exchange_mock/mock.py, Python, TLS with a throwaway CA) and
//! the ccxt bot (bot.py), for the signing proxy's tests. The mocks verify every signature
//! exactly as each exchange documents it, with the real credentials.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::agent::{Agent, Fixture, my_uid};
use super::{custody, init_args};

/// Whether Python with ccxt (and its `cryptography`) is installed. Under CI (`CI` set) it must
/// be (scripts/test installs it); elsewhere a note says the test is skipped.
pub fn ccxt_available() -> bool {
    let ok = std::process::Command::new("python3")
        .args(["-c", "import ccxt, cryptography"])
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        assert!(
            std::env::var_os("CI").is_none(),
            "python3 with ccxt is not installed: scripts/test installs it"
        );
        eprintln!("skipped: python3 with ccxt is not installed (scripts/test installs it)");
    }
    ok
}

/// The mock script folder.
pub fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/exchange_mock")
}

/// Running mocks for some exchanges.
pub struct Mock {
    pub child: Child,
    pub dir: tempfile::TempDir,
    /// ccxt id -> port.
    pub ports: serde_json::Value,
    /// ccxt id -> {apiKey, secret, password?}.
    pub creds: serde_json::Value,
}

impl Mock {
    /// Start mocks for `ids` (ccxt ids); `binanceusdm` gets the same key as `binance`, as
    /// one Binance key serves both.
    pub fn start(ids: &[&str]) -> Mock {
        let dir = tempfile::tempdir().unwrap();
        let out = Command::new("python3")
            .arg("-B")
            .arg(dir_path("make_creds.py"))
            .args(ids)
            .output()
            .expect("python3 runs make_creds.py (scripts/test installs ccxt)");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut creds: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        if creds.get("binanceusdm").is_some() && creds.get("binance").is_some() {
            creds["binanceusdm"] = creds["binance"].clone();
        }
        let path = dir.path().join("creds.json");
        std::fs::write(&path, creds.to_string()).unwrap();
        let child = Command::new("python3")
            .arg("-B")
            .arg(dir_path("mock.py"))
            .arg("--creds")
            .arg(&path)
            .arg("--dir")
            .arg(dir.path().join("mock"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.path().join("mock.err")).unwrap())
            .spawn()
            .unwrap();
        let ports_file = dir.path().join("mock/ports.json");
        let start = Instant::now();
        let ports = loop {
            if let Ok(s) = std::fs::read_to_string(&ports_file)
                && let Ok(v) = serde_json::from_str::<serde_json::Value>(&s)
            {
                break v;
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "the mock did not start: {}",
                std::fs::read_to_string(dir.path().join("mock.err")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        Mock {
            child,
            dir,
            ports,
            creds,
        }
    }

    /// The mocks' CA certificate.
    pub fn ca(&self) -> PathBuf {
        self.dir.path().join("mock/ca.pem")
    }

    /// `https://127.0.0.1:PORT` of the mock for `id`.
    pub fn url(&self, id: &str) -> String {
        format!("https://127.0.0.1:{}", self.ports[id].as_u64().unwrap())
    }

    /// The request log: one JSON object per request the mocks received.
    pub fn requests(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(self.dir.path().join("mock/requests.jsonl"))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }

    /// The credential JSON custody stores for `id` (`creds add --from-json -`).
    pub fn credential_json(&self, id: &str) -> String {
        let c = &self.creds[id];
        let mut v = serde_json::json!({"api_key": c["apiKey"]});
        if id == "coinbase" {
            v["private_key_pem"] = c["secret"].clone();
        } else {
            v["api_secret"] = c["secret"].clone();
        }
        if let Some(p) = c.get("password") {
            v["passphrase"] = p.clone();
        }
        v.to_string()
    }
}

impl Drop for Mock {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn dir_path(script: &str) -> PathBuf {
    dir().join(script)
}

/// `python3 bot.py ARGS`, as a command line for `agent exec -- ...`.
pub fn bot_args(args: &[&str]) -> Vec<String> {
    let mut v = vec![
        "python3".to_owned(),
        "-B".to_owned(),
        dir_path("bot.py").display().to_string(),
    ];
    v.extend(args.iter().map(|s| s.to_string()));
    v
}

/// A 2-of-3 vault holding the mock credentials for `creds` (name, ccxt id, custody exchange,
/// scope), an access policy for this user with `policy_flags`, ratified by a drill.
pub fn vault(mock: &Mock, creds: &[(&str, &str, &str, &str)], policy_flags: &[&str]) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let vault = dir.path().join("fund.vault");
    init_args(&mut custody(), &vault, &dir.path().join("sh"), "2", "txt")
        .args(["--custodian", "alice", "bob", "carol"])
        .assert()
        .success();
    let f = Fixture { dir, vault };
    let mut names = Vec::new();
    for (name, id, exchange, scope) in creds {
        f.cmd(&[
            "creds",
            "add",
            name,
            "--exchange",
            exchange,
            "--scope",
            scope,
            "--from-json",
            "-",
        ])
        .write_stdin(mock.credential_json(id))
        .assert()
        .success();
        names.push(*name);
    }
    let uid = my_uid().to_string();
    let joined = names.join(",");
    let mut add = vec![
        "agent", "policy", "add", "--uid", &uid, "--cred", &joined, "--rate", "6000/min",
    ];
    add.extend_from_slice(policy_flags);
    f.cmd(&add).assert().success();
    f.cmd(&["drill", "--ratify"])
        .arg("--share")
        .arg(f.share(1))
        .arg("--share")
        .arg(f.share(2))
        .assert()
        .success();
    f
}

/// An agent with the proxy on an ephemeral port, every exchange sent to its mock.
pub fn agent(f: &Fixture, mock: &Mock, ids: &[&str]) -> (Agent, String) {
    let mut extra: Vec<String> = vec!["--proxy-listen".into(), "127.0.0.1:0".into()];
    for id in ids {
        let target = match *id {
            "binance" => "api.binance.com".to_owned(),
            "binanceusdm" => "fapi.binance.com".to_owned(),
            other => other.to_owned(),
        };
        extra.push("--upstream-override".into());
        extra.push(format!("{target}={}", mock.url(id)));
    }
    extra.push("--upstream-ca".into());
    extra.push(mock.ca().display().to_string());
    let refs: Vec<&str> = extra.iter().map(String::as_str).collect();
    let a = Agent::start(f, &refs);
    a.wait_for("signing proxy on");
    a.unlock_cmd(f, &["--allow-withdraw"]).assert().success();
    let st: serde_json::Value = serde_json::from_slice(
        &a.cmd("status", &["--json"])
            .assert()
            .success()
            .get_output()
            .stdout,
    )
    .unwrap();
    let listen = st["proxy"]["listen"].as_str().unwrap().to_owned();
    (a, listen)
}

/// A proxy token for credential `name`, as `agent exec --proxy` gives it to a program.
pub fn token(a: &Agent, name: &str) -> String {
    let var = format!(
        "{}_API_KEY",
        name.to_ascii_uppercase().replace(['-', '.'], "_")
    );
    let out = a
        .cmd(
            "exec",
            &[
                "--proxy",
                "--cred",
                name,
                "--",
                "sh",
                "-c",
                &format!("printf %s \"${var}\""),
            ],
        )
        .assert()
        .success();
    String::from_utf8(out.get_output().stdout.clone()).unwrap()
}

/// One raw HTTP/1.1 request to the proxy at `listen`: (status, body as JSON or text).
pub fn http(listen: &str, head: &str, body: &[u8]) -> (u16, String) {
    use std::io::{Read, Write};
    let mut c = std::net::TcpStream::connect(listen).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let req = format!(
        "{head}\r\nHost: {listen}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    c.write_all(req.as_bytes()).unwrap();
    c.write_all(body).unwrap();
    let mut answer = Vec::new();
    let _ = c.read_to_end(&mut answer);
    let text = String::from_utf8_lossy(&answer).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map_or(String::new(), |(_, b)| b.to_owned());
    (status, body)
}
