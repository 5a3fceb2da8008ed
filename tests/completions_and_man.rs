//! `custody completions SHELL` and `custody man`: the scripts parse in their shell, and the
//! man pages cover every command, with its examples and the exit codes.

use std::fs;

use predicates::str::contains;

mod common;
use common::{custody, have};

/// Every leaf command as its man page names it.
const COMMANDS: [&str; 40] = [
    "init",
    "check-share",
    "drill",
    "sheet",
    "demo",
    "creds-add",
    "creds-rotate",
    "creds-list",
    "creds-status",
    "creds-show",
    "creds-remove",
    "creds-rename",
    "exec",
    "agent-run",
    "agent-unlock",
    "agent-seal",
    "agent-status",
    "agent-exec",
    "agent-policy-add",
    "agent-policy-remove",
    "agent-policy-list",
    "host-key-new",
    "host-key-show",
    "hosts-add",
    "hosts-remove",
    "hosts-list",
    "audit-verify",
    "audit-show",
    "audit-repair",
    "verify-certificate",
    "reshare",
    "rotate-master",
    "confirm",
    "cancel",
    "extend",
    "replace-custodian",
    "rebuild-vault",
    "contribute",
    "completions",
    "man",
];

fn completion(shell: &str) -> String {
    let out = custody().args(["completions", shell]).assert().success();
    String::from_utf8(out.get_output().stdout.clone()).unwrap()
}

#[test]
fn bash_completion_parses_and_knows_every_command() {
    let script = completion("bash");
    if have("bash", "the bash completion check") {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("custody.bash");
        fs::write(&file, &script).unwrap();
        let st = std::process::Command::new("bash")
            .arg("-n")
            .arg(&file)
            .status()
            .unwrap();
        assert!(st.success(), "bash -n refused the completion script");
    }
    for c in [
        "rotate-master",
        "check-share",
        "verify-certificate",
        "--share",
        "--interactive",
    ] {
        assert!(script.contains(c), "{c} not completed");
    }
    // --paper completes its values.
    assert!(script.contains("a4 letter"), "--paper values not completed");
}

#[test]
fn every_shell_gets_a_script() {
    for (shell, marker) in [
        ("zsh", "#compdef custody"),
        ("fish", "complete -c custody"),
        ("elvish", "edit:completion:arg-completer[custody]"),
        ("powershell", "Register-ArgumentCompleter"),
    ] {
        let script = completion(shell);
        assert!(script.contains(marker), "{shell}: no {marker:?}");
        assert!(script.contains("rotate-master"), "{shell}");
    }
    if have("zsh", "the zsh completion check") {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("_custody");
        fs::write(&file, completion("zsh")).unwrap();
        let st = std::process::Command::new("zsh")
            .arg("-n")
            .arg(&file)
            .status()
            .unwrap();
        assert!(st.success(), "zsh -n refused the completion script");
    }
    custody()
        .args(["completions", "tcsh"])
        .assert()
        .code(2)
        .stderr(contains("bash"));
}

#[test]
fn the_main_man_page_lists_every_command_and_the_exit_codes() {
    let out = custody().arg("man").assert().success();
    let page = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(
        page.starts_with(".ie") || page.contains(".TH custody 1"),
        "{page}"
    );
    for c in [
        "init",
        "drill",
        "creds",
        "agent",
        "audit",
        "rotate-master",
        "completions",
        "man",
    ] {
        let want = format!("custody\\-{}(1)", c.replace('-', "\\-"));
        assert!(page.contains(&want), "{want} missing");
    }
    assert!(page.contains("Exit codes:"), "exit codes missing");
}

#[test]
fn man_writes_one_page_per_command_and_never_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    let man = dir.path().join("man1");
    custody()
        .args(["man", "--out-dir"])
        .arg(&man)
        .assert()
        .success()
        // One page per command, plus `custody` and the `creds`, `agent`, `agent policy`,
        // `audit`, `host-key` and `hosts` groups.
        .stdout(contains(format!("Wrote {} man pages", COMMANDS.len() + 7)));
    for c in COMMANDS {
        let page = fs::read_to_string(man.join(format!("custody-{c}.1")))
            .unwrap_or_else(|e| panic!("custody-{c}.1: {e}"));
        let title = format!(".TH custody-{c} 1  \"custody ");
        assert!(page.contains(&title), "{c}: no {title:?} in\n{page}");
        assert!(page.contains("Examples:"), "{c}: no examples");
    }
    assert!(man.join("custody.1").exists());
    assert!(man.join("custody-creds.1").exists());
    assert!(man.join("custody-audit.1").exists());
    assert!(man.join("custody-agent.1").exists());
    assert!(man.join("custody-agent-policy.1").exists());

    // A second run finds the pages there and changes nothing.
    fs::write(man.join("custody-drill.1"), "local edit\n").unwrap();
    custody()
        .args(["man", "--out-dir"])
        .arg(&man)
        .assert()
        .code(1)
        .stderr(contains("already there"))
        .stderr(contains("nothing was written"));
    assert_eq!(
        fs::read_to_string(man.join("custody-drill.1")).unwrap(),
        "local edit\n"
    );
}
