//! Appends that fail half-way, and `custody audit repair`. A real short write is made by
//! running custody under `RLIMIT_FSIZE` (set in the child before exec, with SIGXFSZ ignored
//! so the write fails with EFBIG instead of killing it): the record is cut, custody truncates
//! the log back and says the log is as it was. A torn final line left by an older custody or
//! a crash is removed by `audit repair`, which keeps a copy and records the repair.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use custody::audit::{self, AuditError};
use custody::clock::Clock;
use custody::ops::audit_repair::{self, Repair, RepairError};
use predicates::str::contains;

mod common;

const T0: u64 = 1_790_000_000;

struct V {
    dir: tempfile::TempDir,
    vault: PathBuf,
}

impl V {
    fn log(&self) -> PathBuf {
        audit::log_path(&self.vault)
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = common::custody();
        c.env("CUSTODY_FAKE_NOW", T0.to_string())
            .args(args)
            .arg("--vault")
            .arg(&self.vault);
        c
    }

    /// `drill --vault V --share alice --share carol`, as arguments.
    fn drill_args(&self) -> Vec<std::ffi::OsString> {
        let mut a: Vec<std::ffi::OsString> = vec!["drill".into(), "--vault".into()];
        a.push(self.vault.clone().into());
        for s in ["sh/01-alice.txt", "sh/03-carol.txt"] {
            a.push("--share".into());
            a.push(self.dir.path().join(s).into());
        }
        a
    }

    fn drill(&self) -> Command {
        let mut c = common::custody();
        c.env("CUSTODY_FAKE_NOW", T0.to_string())
            .args(self.drill_args());
        c
    }

    /// The copies `audit repair` kept, by file name.
    fn torn_copies(&self) -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = fs::read_dir(self.dir.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| {
                p.file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with("fund.vault.audit.torn-")
            })
            .collect();
        v.sort();
        v
    }
}

/// A 2-of-3 vault with one drill in its log.
fn vault() -> V {
    let (dir, vault) = common::vault_2_of_3();
    let v = V { dir, vault };
    v.drill().assert().success();
    v
}

/// Run custody with `args`, its file-size limit at `limit` bytes and SIGXFSZ ignored
/// (through `sh`, whose `trap ''` is inherited across exec).
fn under_fsize_limit(args: &[std::ffi::OsString], limit: u64) -> std::process::Output {
    let mut c = std::process::Command::new("sh");
    c.arg("-c")
        .arg("trap '' XFSZ; exec \"$0\" \"$@\"")
        .arg(assert_cmd::cargo::cargo_bin("custody"))
        .args(args)
        .env("CUSTODY_FAKE_NOW", T0.to_string())
        .env_remove("CUSTODY_VAULT");
    // SAFETY: setrlimit is async-signal-safe; nothing else runs between fork and exec.
    unsafe {
        c.pre_exec(move || {
            rustix::process::setrlimit(
                rustix::process::Resource::Fsize,
                rustix::process::Rlimit {
                    current: Some(limit),
                    maximum: Some(limit),
                },
            )
            .map_err(std::io::Error::from)
        });
    }
    c.output().unwrap()
}

#[test]
fn a_short_audit_write_is_undone_and_the_log_stays_as_it_was() {
    let v = vault();
    let before = fs::read(v.log()).unwrap();
    // Room for 40 more bytes: the ceremony's first record is cut short (a real short write),
    // then, with no room at all, the write fails outright (EFBIG).
    for room in [40, 0] {
        let out = under_fsize_limit(&v.drill_args(), before.len() as u64 + room);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "room {room}: {err}");
        assert!(err.contains("cannot append to the audit log"), "{err}");
        assert!(
            err.contains("the log is as it was before this record"),
            "room {room}: {err}"
        );
        assert_eq!(fs::read(v.log()).unwrap(), before, "room {room}");
    }
    // Nothing to repair: the next drill is recorded and the log verifies.
    v.drill().assert().success();
    v.cmd(&["audit", "verify"])
        .assert()
        .success()
        .stdout(contains("Intact"));
}

/// A torn final line: the first 57 bytes of a real record appended to the log.
fn tear(v: &V) -> Vec<u8> {
    let mut bytes = fs::read(v.log()).unwrap();
    let first = bytes.split(|&b| b == b'\n').next().unwrap().to_vec();
    bytes.extend_from_slice(&first[..57]);
    fs::write(v.log(), &bytes).unwrap();
    bytes
}

#[test]
fn audit_repair_removes_a_torn_final_line_keeps_a_copy_and_records_it() {
    let v = vault();
    let intact = fs::read(v.log()).unwrap();
    let torn = tear(&v);
    v.drill()
        .assert()
        .code(1)
        .stderr(contains("ends inside a record"))
        .stderr(contains("custody audit repair"));
    v.cmd(&["audit", "repair"])
        .assert()
        .success()
        .stdout(contains("removed the torn final line (57 bytes)"))
        .stdout(contains("fund.vault.audit.torn-"))
        .stdout(contains("Intact"));
    let copies = v.torn_copies();
    assert_eq!(copies.len(), 1, "{copies:?}");
    assert_eq!(
        fs::read(&copies[0]).unwrap(),
        torn,
        "the copy is the damaged log"
    );
    let mode = fs::metadata(&copies[0]).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    // The log is the intact part, then one record of the repair.
    let now = fs::read(v.log()).unwrap();
    assert!(now.starts_with(&intact));
    let added = std::str::from_utf8(&now[intact.len()..]).unwrap();
    assert_eq!(added.lines().count(), 1, "{added}");
    let name = copies[0].file_name().unwrap().to_str().unwrap();
    assert!(added.contains("\"event\":\"audit-repair\""), "{added}");
    assert!(added.contains("\"removed_bytes\":57"), "{added}");
    assert!(added.contains(&format!("\"copy\":\"{name}\"")), "{added}");
    v.cmd(&["audit", "verify"])
        .assert()
        .success()
        .stdout(contains("Intact"))
        .stdout(contains("audit-repair"))
        .stdout(contains("57 bytes"));
    v.cmd(&["audit", "show"])
        .assert()
        .success()
        .stdout(contains(
            "audit repaired: removed a torn final line of 57 bytes",
        ));
    // Ceremonies are recorded again.
    v.drill().assert().success();
    v.cmd(&["audit", "verify"]).assert().success();
    // A second repair finds nothing to do.
    let now = fs::read(v.log()).unwrap();
    v.cmd(&["audit", "repair"])
        .assert()
        .success()
        .stdout(contains("nothing to repair"));
    assert_eq!(fs::read(v.log()).unwrap(), now);
    assert_eq!(v.torn_copies().len(), 1);
}

#[test]
fn audit_repair_of_an_intact_or_missing_log_changes_nothing() {
    let v = vault();
    let before = fs::read(v.log()).unwrap();
    v.cmd(&["audit", "repair"])
        .assert()
        .success()
        .stdout(contains("intact"))
        .stdout(contains("nothing to repair; nothing was changed"));
    assert_eq!(fs::read(v.log()).unwrap(), before);
    assert!(v.torn_copies().is_empty());
    fs::remove_file(v.log()).unwrap();
    v.cmd(&["audit", "repair"])
        .assert()
        .success()
        .stdout(contains("nothing to repair"));
    assert!(!v.log().exists());
}

#[test]
fn audit_repair_refuses_any_other_damage_and_changes_nothing() {
    let v = vault();
    // An edited record and a torn end: not only a torn write.
    let text = fs::read_to_string(v.log()).unwrap();
    fs::write(v.log(), text.replacen("\"alice\"", "\"mallory\"", 1)).unwrap();
    tear(&v);
    let before = fs::read(v.log()).unwrap();
    v.cmd(&["audit", "repair"])
        .assert()
        .code(1)
        .stderr(contains("not repaired"))
        .stderr(contains("hash chain broken"))
        .stderr(contains("Nothing was changed"));
    assert_eq!(fs::read(v.log()).unwrap(), before);
    assert!(v.torn_copies().is_empty());
}

fn lib_vault(v: &V) -> custody::vault::Vault {
    custody::vault::store::load(&v.vault).unwrap()
}

#[test]
fn repair_through_the_library() {
    let v = vault();
    let clock = Clock::fixed(T0);
    assert!(matches!(
        audit_repair::repair(&v.vault, clock),
        Ok(Repair::Intact { records }) if records > 0
    ));
    tear(&v);
    let done = audit_repair::repair(&v.vault, clock).unwrap();
    let Repair::Repaired {
        removed_bytes,
        copy,
        head,
    } = done
    else {
        panic!("expected a repair, got {done:?}");
    };
    assert_eq!(removed_bytes, 57);
    assert_eq!(
        copy.file_name().unwrap().to_str().unwrap(),
        "fund.vault.audit.torn-20260921T141320Z"
    );
    let report = audit::verify(&v.log(), lib_vault(&v).public_key()).unwrap();
    assert_eq!(report.head, head);

    // Any other damage: refused, with verify's problems.
    let text = fs::read_to_string(v.log()).unwrap();
    fs::write(v.log(), text.replacen("\"carol\"", "\"mallory\"", 1)).unwrap();
    tear(&v);
    assert!(matches!(
        audit_repair::repair(&v.vault, clock),
        Err(RepairError::NotOnlyTorn { problems }) if !problems.is_empty()
    ));

    // A "torn line" longer than any record is not what a torn write leaves.
    let v = vault();
    let mut bytes = fs::read(v.log()).unwrap();
    bytes.extend(std::iter::repeat_n(b'x', audit::MAX_LINE_LEN + 2));
    fs::write(v.log(), &bytes).unwrap();
    assert!(matches!(
        audit_repair::repair(&v.vault, clock),
        Err(RepairError::TornTooLong { .. })
    ));
    assert_eq!(fs::read(v.log()).unwrap(), bytes);
}

#[test]
fn append_failure_says_whether_the_log_is_as_it_was() {
    // The library's error for a failed append names the log and says it is as it was.
    let e = AuditError::AppendFailed {
        path: Path::new("/v/fund.vault.audit").to_path_buf(),
        source: std::io::Error::from_raw_os_error(28),
        restored: audit::Restored::AsItWas,
    };
    let msg = e.to_string();
    assert!(msg.contains("/v/fund.vault.audit"), "{msg}");
    assert!(msg.contains("No space left on device"), "{msg}");
    assert!(
        msg.contains("the log is as it was before this record"),
        "{msg}"
    );
    let e = AuditError::AppendFailed {
        path: Path::new("/v/fund.vault.audit").to_path_buf(),
        source: std::io::Error::from_raw_os_error(28),
        restored: audit::Restored::Torn {
            undo: std::io::Error::from_raw_os_error(5),
        },
    };
    let msg = e.to_string();
    assert!(msg.contains("may now end inside a record"), "{msg}");
    assert!(!msg.contains("as it was"), "{msg}");
}
