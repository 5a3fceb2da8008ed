//! custody never follows a symbolic link to one of its own files. Each file it keeps beside a
//! vault (`.audit`, `.audit.lock`, `.lock`, `.generation`, `.bak`), the vault itself, a
//! certificate and a temporary file, made a link to a file elsewhere: the command is refused
//! with an error naming the link, and the link's target is neither created nor changed.

use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use custody::audit;
use custody::safe_file::Refusal;
use custody::vault::store::{self, StoreError};
use predicates::str::contains;

mod common;

const LINK_REFUSED: &str = "is a symbolic link; custody does not follow links for its own files: replace it with the \
     file itself";

struct V {
    dir: tempfile::TempDir,
    vault: PathBuf,
    /// A folder elsewhere that links point into.
    elsewhere: tempfile::TempDir,
}

impl V {
    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = common::custody();
        c.args(args).arg("--vault").arg(&self.vault);
        c
    }

    fn drill(&self) -> Command {
        let mut c = self.cmd(&["drill"]);
        c.arg("--share")
            .arg(self.dir.path().join("sh/01-alice.txt"))
            .arg("--share")
            .arg(self.dir.path().join("sh/03-carol.txt"));
        c
    }

    fn add(&self, name: &str) -> Command {
        let mut c = self.cmd(&[
            "creds",
            "add",
            name,
            "--exchange",
            "binance",
            "--scope",
            "trade",
            "--from-json",
            "-",
        ]);
        c.write_stdin(r#"{"api_key":"k","api_secret":"s"}"#);
        c
    }

    fn beside(&self, suffix: &str) -> PathBuf {
        let mut name = self.vault.file_name().unwrap().to_os_string();
        name.push(suffix);
        self.vault.with_file_name(name)
    }

    /// Replace `<vault><suffix>` by a link to a file elsewhere holding `content` (or to a
    /// missing file when `None`); returns the target.
    fn link(&self, suffix: &str, content: Option<&str>) -> PathBuf {
        let target = self.elsewhere.path().join(format!("target{suffix}"));
        if let Some(c) = content {
            fs::write(&target, c).unwrap();
        }
        let at = self.beside(suffix);
        let _ = fs::remove_file(&at);
        symlink(&target, &at).unwrap();
        target
    }
}

/// A 2-of-3 vault with one credential added and one drill recorded (so every sidecar exists).
fn vault() -> V {
    let (dir, vault) = common::vault_2_of_3();
    let v = V {
        dir,
        vault,
        elsewhere: tempfile::tempdir().unwrap(),
    };
    v.add("first").assert().success();
    v.drill().assert().success();
    v
}

fn refused(cmd: &mut Command, link: &Path) {
    let out = cmd.output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains(&link.display().to_string()), "{err}");
    assert!(err.contains(LINK_REFUSED), "{err}");
}

#[test]
fn a_linked_audit_log_or_audit_lock_is_refused_and_its_target_not_created() {
    for suffix in [".audit", ".audit.lock"] {
        let v = vault();
        let target = v.link(suffix, None);
        refused(&mut v.drill(), &v.beside(suffix));
        assert!(!target.exists(), "{suffix}: the link's target was created");
    }
    // Reading a linked log is refused too.
    let v = vault();
    let log = v.beside(".audit");
    let copy = v.elsewhere.path().join("log");
    fs::rename(&log, &copy).unwrap();
    symlink(&copy, &log).unwrap();
    refused(&mut v.cmd(&["audit", "verify"]), &log);
    refused(&mut v.cmd(&["audit", "show"]), &log);
    refused(&mut v.cmd(&["audit", "show", "--raw"]), &log);
    refused(&mut v.cmd(&["audit", "show", "--json"]), &log);
    refused(&mut v.cmd(&["audit", "repair"]), &log);
}

#[test]
fn a_linked_vault_lock_generation_or_backup_is_refused_and_its_target_unchanged() {
    for (suffix, content) in [
        (".lock", None),
        (
            ".generation",
            Some("custody-generation/1\ngeneration 0\nrevision 1\n"),
        ),
        (".bak", Some("an older vault elsewhere")),
    ] {
        let v = vault();
        let target = v.link(suffix, content);
        let vault_before = fs::read(&v.vault).unwrap();
        refused(&mut v.add("second"), &v.beside(suffix));
        match content {
            None => assert!(!target.exists(), "{suffix}: target created"),
            Some(c) => assert_eq!(fs::read_to_string(&target).unwrap(), c, "{suffix}"),
        }
        assert_eq!(fs::read(&v.vault).unwrap(), vault_before, "{suffix}");
        assert!(
            fs::symlink_metadata(v.beside(suffix))
                .unwrap()
                .file_type()
                .is_symlink(),
            "{suffix}: the link was replaced"
        );
    }
}

#[test]
fn a_linked_vault_is_refused_for_reads_and_writes_never_split() {
    let v = vault();
    let real = v.elsewhere.path().join("real.vault");
    fs::rename(&v.vault, &real).unwrap();
    symlink(&real, &v.vault).unwrap();
    let before = fs::read(&real).unwrap();
    refused(&mut v.add("second"), &v.vault);
    refused(&mut v.cmd(&["creds", "list"]), &v.vault);
    refused(&mut v.drill(), &v.vault);
    assert_eq!(fs::read(&real).unwrap(), before);
    assert!(
        fs::symlink_metadata(&v.vault)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    // The real path works.
    let mut c = common::custody();
    c.args(["creds", "list", "--vault"])
        .arg(&real)
        .assert()
        .success()
        .stdout(contains("first"));
}

#[test]
fn a_certificate_path_that_is_a_link_is_refused_before_the_drill() {
    let v = vault();
    let target = v.elsewhere.path().join("cert.json");
    let cert = v.dir.path().join("cert.json");
    symlink(&target, &cert).unwrap();
    let log_before = fs::read(v.beside(".audit")).unwrap();
    v.drill()
        .arg("--certificate")
        .arg(&cert)
        .assert()
        .code(1)
        .stderr(contains("already exists"));
    assert!(!target.exists());
    assert_eq!(fs::read(v.beside(".audit")).unwrap(), log_before);
}

#[test]
fn library_refusals_are_typed_and_temporary_files_are_never_followed() {
    let dir = tempfile::tempdir().unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    let path = dir.path().join("v.json");
    // A link where the store's temporary file goes: creation fails, the target is not made.
    let tmp = dir
        .path()
        .join(format!("v.json.tmp.{}", std::process::id()));
    let target = elsewhere.path().join("t");
    symlink(&target, &tmp).unwrap();
    assert!(store::create_new(&path, b"{}", 0o644).is_err());
    assert!(!target.exists());
    assert!(!path.exists());
    fs::remove_file(&tmp).unwrap();
    // A linked vault: StoreError::Refused naming it.
    let real = elsewhere.path().join("real.json");
    fs::write(&real, "{}").unwrap();
    symlink(&real, &path).unwrap();
    assert!(matches!(
        store::load(&path),
        Err(StoreError::Refused { path: p, problem: Refusal::SymbolicLink }) if p == path
    ));
    assert!(matches!(
        store::lock(&dir.path().join("w.json")).map(drop),
        Ok(())
    ));
    symlink(&target, dir.path().join("x.json.lock")).unwrap();
    assert!(matches!(
        store::lock(&dir.path().join("x.json")).map(drop),
        Err(StoreError::Refused {
            problem: Refusal::SymbolicLink,
            ..
        })
    ));
    // A linked audit log: AuditError::Refused.
    let log = audit::log_path(&dir.path().join("y.json"));
    symlink(&target, &log).unwrap();
    assert!(matches!(
        audit::head(&log),
        Err(audit::AuditError::Refused {
            problem: Refusal::SymbolicLink,
            ..
        })
    ));
    assert!(!target.exists());
}
