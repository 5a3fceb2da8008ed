//! Fault injection: `custody creds add` killed with SIGKILL at random instants, many times.
//! After every kill the vault must load and verify, hold every entry whose add had exited
//! successfully, show no false rollback, and the backup must load too.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use custody::vault::store;

const RUNS: usize = 120;

fn add(bin: &Path, vault: &Path, name: &str) -> std::process::Child {
    let mut ch = Command::new(bin)
        .args([
            "creds",
            "add",
            name,
            "--exchange",
            "bybit",
            "--scope",
            "trade",
        ])
        .args(["--from-json", "-", "--vault"])
        .arg(vault)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    ch.stdin
        .take()
        .unwrap()
        .write_all(br#"{"api_key":"k","api_secret":"s"}"#)
        .unwrap();
    ch
}

#[test]
fn sigkill_at_random_instants_never_corrupts_or_loses() {
    let dir = tempfile::tempdir().unwrap();
    let vault = dir.path().join("v.json");
    let bin = assert_cmd::cargo::cargo_bin("custody");
    let ok = Command::new(&bin)
        .arg("init")
        .arg("--vault")
        .arg(&vault)
        .arg("--out-dir")
        .arg(dir.path().join("sh"))
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
    assert!(ok.success());
    // A few entries first so that each write has something to lose; time a complete add.
    let mut committed: Vec<String> = Vec::new();
    let mut full = Duration::ZERO;
    for i in 0..10 {
        let name = format!("base{i}");
        let t = Instant::now();
        assert!(add(&bin, &vault, &name).wait().unwrap().success());
        full = full.max(t.elapsed());
        committed.push(name);
    }
    // Deterministic pseudo-random delays across [0, 1.3 x a full add]. On a loaded machine an
    // add's duration varies a lot, so the window adapts: it shrinks after a run that finished
    // before the kill and grows after one that was killed, keeping kills landing throughout
    // the write (about half the runs) whatever the load.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let (mut killed, mut finished) = (0, 0);
    let mut window = full.as_micros() as u64 * 13 / 10;
    for i in 0..RUNS {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let name = format!("k{i}");
        let mut ch = add(&bin, &vault, &name);
        std::thread::sleep(Duration::from_micros(x % window.max(1)));
        let _ = ch.kill(); // SIGKILL
        let status = ch.wait().unwrap();
        if status.success() {
            finished += 1;
            committed.push(name.clone());
            window = (window * 9 / 10).max(100);
        } else {
            killed += 1;
            window = window * 21 / 20;
        }
        let v = store::load(&vault)
            .unwrap_or_else(|e| panic!("run {i}: vault broken after SIGKILL: {e}"));
        for n in &committed {
            assert!(
                v.credentials().get(n).is_some(),
                "run {i}: committed entry {n} lost"
            );
        }
        assert!(v.credentials().malformed().is_empty());
        let a = v.assess_beside(&vault).unwrap();
        assert!(a.rollback.is_none(), "run {i}: false rollback");
        assert!(
            a.tamper_lines(&v).is_empty(),
            "run {i}: {:?}",
            a.tamper_lines(&v)
        );
        let bak = vault.with_file_name("v.json.bak");
        store::load(&bak).unwrap_or_else(|e| panic!("run {i}: backup broken: {e}"));
    }
    eprintln!(
        "{RUNS} SIGKILL runs: {killed} killed, {finished} finished before the kill; \
         {} entries committed, all present",
        committed.len()
    );
    assert!(killed > RUNS / 4, "too few kills landed ({killed})");
}
