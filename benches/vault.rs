//! Credential vault benchmark: `creds status`, `creds add` and `exec` of one credential on a
//! vault with 10,000 credentials, beside the same on a one-credential vault. The vaults are
//! made with the release binary (`init`, then 9,999 entries sealed through the library and
//! written with one locked update, then one `drill --ratify`); every timed operation runs the
//! real binary (`CARGO_BIN_EXE_custody`), so the numbers include process start-up.
//! Run: `cargo bench --bench vault`.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use custody::vault::credential::{Credential, FieldName, Pending, Scope};
use custody::vault::seal::{self, SecretFields};
use custody::vault::store::{self, OnRollback};

const BIN: &str = env!("CARGO_BIN_EXE_custody");
const REPEAT: usize = 5;

fn run(args: &[&str], vault: &Path, stdin: Option<&str>) {
    let mut c = Command::new(BIN);
    let cut = args.iter().position(|a| *a == "--").unwrap_or(args.len());
    c.args(&args[..cut])
        .arg("--vault")
        .arg(vault)
        .args(&args[cut..])
        .stdin(Stdio::piped())
        .stdout(Stdio::null());
    let mut ch = c.spawn().unwrap();
    if let Some(s) = stdin {
        ch.stdin.take().unwrap().write_all(s.as_bytes()).unwrap();
    }
    drop(ch.stdin.take());
    let st = ch.wait().unwrap();
    assert!(st.success(), "custody {args:?} failed");
}

fn make(dir: &Path, n: usize) -> std::path::PathBuf {
    let vault = dir.join(format!("v{n}.json"));
    let out = dir.join(format!("sh{n}"));
    let st = Command::new(BIN)
        .arg("init")
        .arg("--vault")
        .arg(&vault)
        .arg("--out-dir")
        .arg(&out)
        .args([
            "--threshold",
            "2",
            "--iteration-exponent",
            "0",
            "--sheets",
            "txt",
        ])
        .args(["--custodian", "alice", "bob", "carol"])
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(st.success());
    let t = Instant::now();
    store::update(&vault, OnRollback::Refuse, |v, _| {
        for i in 0..n {
            let mut f = SecretFields::default();
            f.set(FieldName::ApiKey, format!("key-{i:05}"));
            f.set(
                FieldName::ApiSecret,
                format!("secret-{i:05}-{}", "x".repeat(48)),
            );
            let mut c = Credential {
                name: format!("c{i:05}"),
                exchange: "binance".into(),
                account: String::new(),
                scope: vec![Scope::Read, Scope::Trade],
                ip_allowlist: String::new(),
                created: 1_790_000_000,
                rotated: 1_790_000_000,
                expires: None,
                note: String::new(),
                fields: f.present(),
                sealed: String::new(),
                pending: Some(Pending::Added),
            };
            c.sealed = seal::seal(&v.vault_id(), &c, &f, &v.public().age_recipient).unwrap();
            v.credentials_mut().insert(c).expect("distinct names");
        }
        Ok::<(), store::StoreError>(())
    })
    .unwrap();
    let sealed = t.elapsed();
    let t = Instant::now();
    quorum(&vault, &out, &["drill", "--ratify"]);
    eprintln!(
        "built {n}-credential vault: sealing {sealed:.2?}, ratify {:.2?}, file {} KiB",
        t.elapsed(),
        std::fs::metadata(&vault).unwrap().len() / 1024
    );
    vault
}

fn quorum(vault: &Path, shares: &Path, args: &[&str]) {
    let a = shares.join("01-alice.txt");
    let b = shares.join("02-bob.txt");
    let mut full: Vec<&str> = args.to_vec();
    full.extend([
        "--share",
        a.to_str().unwrap(),
        "--share",
        b.to_str().unwrap(),
    ]);
    run(&full, vault, None);
}

fn median(mut f: impl FnMut(usize)) -> Duration {
    let mut t: Vec<Duration> = (0..REPEAT)
        .map(|i| {
            let s = Instant::now();
            f(i);
            s.elapsed()
        })
        .collect();
    t.sort();
    t[REPEAT / 2]
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let mut rows = Vec::new();
    for n in [1usize, 10_000] {
        let vault = make(dir.path(), n);
        let shares = dir.path().join(format!("sh{n}"));
        let status = median(|_| run(&["creds", "status"], &vault, None));
        let add = median(|i| {
            let name = format!("bench{i}");
            run(
                &[
                    "creds",
                    "add",
                    &name,
                    "--exchange",
                    "binance",
                    "--scope",
                    "trade",
                    "--from-json",
                    "-",
                ],
                &vault,
                Some(r#"{"api_key":"k","api_secret":"s"}"#),
            )
        });
        let exec = median(|_| {
            let a = shares.join("01-alice.txt");
            let b = shares.join("03-carol.txt");
            run(
                &[
                    "exec",
                    "--cred",
                    "c00000",
                    "--share",
                    a.to_str().unwrap(),
                    "--share",
                    b.to_str().unwrap(),
                    "--",
                    "true",
                ],
                &vault,
                None,
            )
        });
        rows.push((n, status, add, exec));
    }
    println!("| credentials | creds status | creds add | exec (1 credential, `true`) |");
    println!("|------------:|-------------:|----------:|----------------------------:|");
    for (n, s, a, e) in rows {
        println!("| {n:>11} | {s:>12.1?} | {a:>9.1?} | {e:>27.1?} |");
    }
}
