//! The local exchange mocks (tests/exchange_mock/mock.py, Python, TLS with a throwaway CA) and
//! the ccxt bot (bot.py), for the signing proxy's tests. The mocks verify every signature
//! exactly as each exchange documents it, with the real credentials.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

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
