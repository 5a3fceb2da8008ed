//! A report written into a closed pipe (`custody ... | head`) ends the command quietly with the
//! conventional status 141 (128 + SIGPIPE), not with "error: Broken pipe".

mod common;

use std::process::Stdio;

use common::{custody, init_args};

#[test]
fn closed_stdout_ends_quietly_with_141() {
    let dir = tempfile::tempdir().unwrap();
    let vault = dir.path().join("v.json");
    let mut init = custody();
    init_args(&mut init, &vault, &dir.path().join("s"), "2", "txt")
        .args(["--custodian", "a", "b"])
        .assert()
        .success();
    // check-share on every share, twice over: several report lines, each a separate write.
    let shares: Vec<_> = ["01-a.txt", "02-b.txt"]
        .iter()
        .map(|n| dir.path().join("s").join(n))
        .collect();
    for args in [
        vec!["audit".to_owned(), "verify".to_owned()],
        vec!["check-share".to_owned()],
    ] {
        // The pipe's reading end is closed before the child starts: its first write fails.
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("custody"));
        cmd.env_remove("CUSTODY_VAULT")
            .args(&args)
            .arg("--vault")
            .arg(&vault)
            .stdin(Stdio::null())
            .stdout(Stdio::from(writer))
            .stderr(Stdio::piped());
        if args[0] == "check-share" {
            cmd.args(&shares).args(&shares);
        }
        let out = cmd.output().unwrap();
        assert_eq!(out.status.code(), Some(141), "{args:?}: {out:?}");
        assert!(
            out.stderr.is_empty(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
