//! Files custody reads are capped by what they can legitimately be, and a file where a file is
//! expected must be one: the vault (16 MiB, written and read), the audit log (its cap), a
//! credential's secret fields (64 KiB, through the library too), and `creds add --from-json`,
//! which takes a regular file or a pipe (`<(pass show x)`) up to 64 KiB.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use assert_cmd::Command;
use custody::audit::{self, AuditError};
use custody::clock::Clock;
use custody::ops::creds::{self, CredError, NewCredential};
use custody::safe_file::Refusal;
use custody::testkit;
use custody::vault::credential::{Credential, Pending, Scope};
use custody::vault::seal::{SealError, SecretFields};
use custody::vault::store::{self, OnRollback, StoreError};
use custody::wire;
use predicates::str::contains;

mod common;

struct V {
    dir: tempfile::TempDir,
    vault: PathBuf,
}

impl V {
    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = common::custody();
        c.args(args)
            .arg("--vault")
            .arg(&self.vault)
            .timeout(Duration::from_secs(60));
        c
    }

    fn add_from(&self, name: &str, from: &Path) -> Command {
        let mut c = self.cmd(&[
            "creds",
            "add",
            name,
            "--exchange",
            "binance",
            "--scope",
            "trade",
        ]);
        c.arg("--from-json").arg(from);
        c
    }
}

fn vault() -> V {
    let (dir, vault) = common::vault_2_of_3();
    V { dir, vault }
}

fn mkfifo(p: &Path) {
    assert!(
        std::process::Command::new("mkfifo")
            .arg(p)
            .status()
            .unwrap()
            .success()
    );
}

#[test]
fn a_vault_file_over_16_mib_is_refused_without_being_loaded() {
    let v = vault();
    // Still valid JSON: the vault followed by 17 MiB of spaces.
    let mut f = fs::OpenOptions::new().append(true).open(&v.vault).unwrap();
    f.write_all(&vec![b' '; 17 * 1024 * 1024]).unwrap();
    drop(f);
    for args in [&["creds", "list"][..], &["audit", "verify"]] {
        v.cmd(args)
            .assert()
            .code(1)
            .stderr(contains("fund.vault is larger than 16 MiB"));
    }
}

#[test]
fn a_vault_or_audit_log_that_is_not_a_regular_file_is_refused_at_once() {
    let v = vault();
    let log = audit::log_path(&v.vault);
    mkfifo(&log);
    let start = Instant::now();
    v.cmd(&["audit", "verify"])
        .assert()
        .code(1)
        .stderr(contains("is not a regular file"));
    assert!(start.elapsed() < Duration::from_secs(10));
    fs::remove_file(&log).unwrap();
    let fifo_vault = v.dir.path().join("fifo.vault");
    mkfifo(&fifo_vault);
    let start = Instant::now();
    let mut c = common::custody();
    c.args(["creds", "list", "--vault"])
        .arg(&fifo_vault)
        .timeout(Duration::from_secs(30))
        .assert()
        .code(1)
        .stderr(contains("fifo.vault is not a regular file"));
    assert!(start.elapsed() < Duration::from_secs(10));
}

#[test]
fn an_audit_log_over_its_cap_is_refused_without_being_read() {
    let v = vault();
    let log = audit::log_path(&v.vault);
    // Sparse: takes no disk space.
    fs::File::create(&log)
        .unwrap()
        .set_len(wire::MAX_AUDIT_LOG_BYTES + 1)
        .unwrap();
    let start = Instant::now();
    v.cmd(&["audit", "verify"])
        .assert()
        .code(1)
        .stderr(contains("fund.vault.audit is larger than"));
    v.cmd(&["audit", "show", "--raw"])
        .assert()
        .code(1)
        .stderr(contains("larger than"));
    v.cmd(&["audit", "show", "--json"])
        .assert()
        .code(1)
        .stderr(contains("larger than"))
        .stdout(contains("custody-error/1"));
    assert!(start.elapsed() < Duration::from_secs(20));
    let key = store::load(&v.vault).unwrap();
    assert!(matches!(
        audit::inspect(&log, key.public_key()),
        Err(AuditError::Refused {
            problem: Refusal::TooLarge { .. },
            ..
        })
    ));
}

fn library_vault() -> (tempfile::TempDir, PathBuf) {
    let tv = testkit::test_vault(
        7,
        3,
        11,
        &[("custodians", 2, &["alice", "bob", "carol"])],
        1,
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vault.json");
    store::create_new(&path, tv.vault.to_json().as_bytes(), 0o644).unwrap();
    (dir, path)
}

#[test]
fn a_vault_larger_than_16_mib_is_never_written() {
    let (_dir, path) = library_vault();
    let before = fs::read(&path).unwrap();
    let r = store::update(&path, OnRollback::Refuse, |v, _| {
        v.credentials_mut()
            .insert(Credential {
                name: "huge".into(),
                exchange: "binance".into(),
                account: String::new(),
                scope: vec![Scope::Trade],
                ip_allowlist: String::new(),
                created: 1,
                rotated: 1,
                expires: None,
                note: String::new(),
                fields: vec![],
                sealed: "x".repeat(17 * 1024 * 1024),
                pending: Some(Pending::Added),
            })
            .unwrap();
        Ok::<_, StoreError>(())
    });
    assert!(
        matches!(r, Err(StoreError::TooLargeToWrite { limit, .. }) if limit == wire::MAX_VAULT_FILE_BYTES),
        "{r:?}"
    );
    assert_eq!(fs::read(&path).unwrap(), before);
}

#[test]
fn a_50_mb_secret_is_refused_by_the_library_too() {
    let (_dir, path) = library_vault();
    let before = fs::read(&path).unwrap();
    let mut fields = SecretFields::default();
    fields.api_key = Some("k".into());
    fields.api_secret = Some("s".repeat(50 * 1000 * 1000));
    let new = NewCredential {
        name: "big".into(),
        exchange: "binance".into(),
        scope: "trade".into(),
        ..NewCredential::default()
    };
    let r = creds::add(&path, &new, &fields, Clock::fixed(1_790_000_000));
    assert!(
        matches!(r, Err(CredError::Seal(SealError::TooLarge { limit, .. })) if limit == wire::MAX_SECRET_FIELDS_BYTES),
        "{r:?}"
    );
    assert_eq!(fs::read(&path).unwrap(), before);
    // JSON over the cap is refused before it is parsed.
    let json = format!(r#"{{"api_key":"k","api_secret":"{}"}}"#, "s".repeat(70_000));
    assert!(matches!(
        SecretFields::from_json(json.as_bytes()),
        Err(SealError::TooLarge { .. })
    ));
}

#[test]
fn from_json_reads_a_pipe_or_a_fifo_up_to_its_cap() {
    let v = vault();
    // /dev/stdin is the pipe assert_cmd writes to (what `<(pass show x)` also gives).
    v.add_from("piped", Path::new("/dev/stdin"))
        .write_stdin(r#"{"api_key":"k1","api_secret":"s1"}"#)
        .assert()
        .success()
        .stdout(contains("piped"));
    // A named FIFO whose writer comes later: custody waits for it, as `cat` would.
    let fifo = v.dir.path().join("cred.fifo");
    mkfifo(&fifo);
    let writer = {
        let fifo = fifo.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(500));
            fs::write(&fifo, r#"{"api_key":"k2","api_secret":"s2"}"#).unwrap();
        })
    };
    v.add_from("fifo", &fifo).assert().success();
    writer.join().unwrap();
    // Process substitution, when bash is there.
    if common::have("bash", "the process-substitution case") {
        let bin = assert_cmd::cargo::cargo_bin("custody");
        let out = std::process::Command::new("bash")
            .arg("-c")
            .arg(
                "\"$0\" creds add subst --exchange binance --scope trade --vault \"$1\" \
                 --from-json <(printf '%s' '{\"api_key\":\"k3\",\"api_secret\":\"s3\"}')",
            )
            .arg(&bin)
            .arg(&v.vault)
            .env_remove("CUSTODY_VAULT")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // A pipe over the cap: refused at 64 KiB.
    let big = format!(
        r#"{{"api_key":"k","api_secret":"{}"}}"#,
        "s".repeat(100 * 1024)
    );
    v.add_from("big", Path::new("/dev/stdin"))
        .write_stdin(big)
        .assert()
        .code(1)
        .stderr(contains("larger than 64 KiB"));
    // A device is still refused at once.
    let start = Instant::now();
    v.add_from("zero", Path::new("/dev/zero"))
        .assert()
        .code(1)
        .stderr(contains("/dev/zero is not a regular file or a pipe"));
    assert!(start.elapsed() < Duration::from_secs(10));
    v.cmd(&["creds", "list"])
        .assert()
        .success()
        .stdout(contains("piped"))
        .stdout(contains("fifo"));
}

#[test]
fn a_certificate_that_is_a_device_or_too_large_is_refused_at_once() {
    let v = vault();
    let big = v.dir.path().join("big.json");
    fs::File::create(&big)
        .unwrap()
        .set_len(custody::certificate::MAX_CERTIFICATE_BYTES + 1)
        .unwrap();
    for (file, want) in [
        (
            PathBuf::from("/dev/zero"),
            "/dev/zero is not a regular file",
        ),
        (big, "big.json is larger than 1 MiB"),
    ] {
        let start = Instant::now();
        let mut c = common::custody();
        c.arg("verify-certificate")
            .arg(&file)
            .arg("--vault")
            .arg(&v.vault)
            .timeout(Duration::from_secs(30))
            .assert()
            .code(1)
            .stderr(contains(want));
        assert!(start.elapsed() < Duration::from_secs(10), "{file:?}");
    }
}
