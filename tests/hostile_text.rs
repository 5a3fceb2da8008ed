//! The hostile-text corpus: text custody did not write never reaches the terminal as control
//! sequences. One table of payloads (ESC sequences, OSC 52, CR, C1, bidi overrides and isolates,
//! zero-width and other invisible characters) times one table of printing commands, each row
//! planting the payload where its command prints it (a path, a command-line value, a field of a
//! hand-edited vault, audit log, share file or certificate, a custodian name in a signed token of
//! a vault written before the name rules), and one runner: every case must show the payload,
//! escaped, and no raw ESC, CR, BEL, C1, bidi or invisible character on stdout or stderr.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::OnceLock;

use assert_cmd::Command;
use custody::policy::{Custodian, Group, Policy};
use custody::terminal_text::escape;
use custody::testkit;
use custody::vault::store;
use serde_json::Value;

mod common;
use common::init_args;

/// A hostile text; `controls` when it has C0/C1 controls (which no stored name or credential
/// note may hold, so rows that need a valid stored field skip it).
struct Payload {
    name: &'static str,
    text: &'static str,
    controls: bool,
}

const PAYLOADS: &[Payload] = &[
    Payload {
        name: "CSI screen clear",
        text: "a\u{1b}[2J\u{1b}[Hb",
        controls: true,
    },
    Payload {
        name: "OSC 52 clipboard write",
        text: "a\u{1b}]52;c;SGk=\u{7}b",
        controls: true,
    },
    Payload {
        name: "carriage return",
        text: "ok\rEVIL",
        controls: true,
    },
    Payload {
        name: "C1 CSI",
        text: "a\u{9b}31mb\u{85}c",
        controls: true,
    },
    Payload {
        name: "bidi override",
        text: "alice\u{202E}txt.exe",
        controls: false,
    },
    Payload {
        name: "bidi isolates and marks",
        text: "a\u{2067}b\u{2069}c\u{200F}d",
        controls: false,
    },
    Payload {
        name: "zero-width",
        text: "bob\u{200B}\u{200D}\u{FEFF}x",
        controls: false,
    },
    Payload {
        name: "line separator and tag",
        text: "a\u{2028}b\u{E0041}c",
        controls: false,
    },
];

/// Whether a character must never reach the terminal raw.
fn forbidden(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{8}' | '\u{b}'..='\u{1f}' | '\u{7f}'..='\u{9f}'
        | '\u{61C}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
        | '\u{2028}' | '\u{2029}' | '\u{2060}'..='\u{2069}' | '\u{FEFF}'
        | '\u{E0000}'..='\u{E007F}')
}

/// What is wrong with one stream: not UTF-8 (a raw byte passed through), or a raw character.
fn leak(stream: &str, bytes: &[u8]) -> Option<String> {
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => return Some(format!("{stream} is not UTF-8 at byte {}", e.valid_up_to())),
    };
    text.chars()
        .find(|&c| forbidden(c))
        .map(|c| format!("raw U+{:04X} on {stream}", c as u32))
}

/// The payload as custody shows it: escaped, or escaped inside a JSON string, or inside a JSON
/// string written in ASCII (`creds show --reveal --json`: every other character `\uXXXX`, a
/// surrogate pair above U+FFFF).
fn shown(all: &str, payload: &str) -> bool {
    let json = serde_json::to_string(payload).unwrap();
    let json = &json[1..json.len() - 1];
    let mut ascii = String::new();
    for c in json.chars() {
        if c.is_ascii() {
            ascii.push(c);
        } else {
            for u in c.encode_utf16(&mut [0; 2]) {
                ascii.push_str(&format!("\\u{u:04X}"));
            }
        }
    }
    all.contains(&*escape(payload)) || all.contains(&*escape(json)) || all.contains(&ascii)
}

/// A copy of the base fixture with one payload to plant.
struct Case {
    _dir: tempfile::TempDir,
    root: PathBuf,
    p: &'static Payload,
}

/// The base fixture, built once: a vault of alice, bob, carol (2 of 3) with txt share files,
/// credential `bn` added and ratified (so the audit log has records), a drill certificate.
fn base() -> &'static Path {
    static BASE: OnceLock<tempfile::TempDir> = OnceLock::new();
    BASE.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        init_args(
            &mut common::custody(),
            &root.join("vault.json"),
            &root.join("sh"),
            "2",
            "txt",
        )
        .args(["--custodian", "alice", "bob", "carol"])
        .assert()
        .success();
        let c = Case {
            _dir: tempfile::tempdir().unwrap(),
            root: root.to_path_buf(),
            p: &PAYLOADS[0],
        };
        c.cmd(&[
            "creds",
            "add",
            "bn",
            "--exchange",
            "binance",
            "--scope",
            "trade",
        ])
        .args(["--from-json", "-"])
        .write_stdin(r#"{"api_key":"k","api_secret":"s"}"#)
        .assert()
        .success();
        let cert = root.join("cert.json");
        c.quorum(&["drill", "--ratify", "--certificate", cert.to_str().unwrap()])
            .assert()
            .success();
        dir
    })
    .path()
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            fs::copy(e.path(), target).unwrap();
        }
    }
}

impl Case {
    fn new(p: &'static Payload) -> Case {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("case");
        copy_dir(base(), &root);
        Case { _dir: dir, root, p }
    }

    fn text(&self) -> &'static str {
        self.p.text
    }

    fn vault(&self) -> PathBuf {
        self.root.join("vault.json")
    }

    fn share(&self, n: usize) -> PathBuf {
        let name = ["alice", "bob", "carol"][n - 1];
        self.root.join(format!("sh/{n:02}-{name}.txt"))
    }

    /// A path in the case's folder whose file name carries the payload.
    fn hostile_path(&self, suffix: &str) -> PathBuf {
        self.root.join(format!("{}{suffix}", self.text()))
    }

    /// A copy of the whole case folder beside it, named by the payload.
    fn moved_to_hostile_folder(&self) -> PathBuf {
        let dir = self.root.with_file_name(self.text());
        copy_dir(&self.root, &dir);
        dir
    }

    /// `custody ARGS --vault VAULT`.
    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = common::custody();
        c.args(args).arg("--vault").arg(self.vault());
        c
    }

    /// `custody ARGS --vault VAULT --share alice --share bob`.
    fn quorum(&self, args: &[&str]) -> Command {
        let mut c = self.cmd(args);
        c.arg("--share")
            .arg(self.share(1))
            .arg("--share")
            .arg(self.share(2));
        c
    }

    fn edit_vault(&self, edit: impl FnOnce(&mut Value)) {
        let mut j: Value =
            serde_json::from_str(&fs::read_to_string(self.vault()).unwrap()).unwrap();
        edit(&mut j);
        fs::write(self.vault(), serde_json::to_string_pretty(&j).unwrap()).unwrap();
    }

    /// The credential `bn`'s exchange field edited by hand into the payload.
    fn hostile_entry(&self) {
        self.edit_vault(|j| j["credentials"]["entries"][0]["exchange"] = self.text().into());
    }

    /// A rule of the agent access policy put in by hand, its executable carrying the payload.
    fn hostile_rule(&self) {
        let exe = format!("/opt/{}", self.text());
        self.edit_vault(|j| {
            j["agent_access"] = serde_json::json!({
                "ratified": [{"uid": 1000, "gid": null, "exe": exe, "unit": null,
                              "credentials": ["bn"], "rate_per_minute": 60}],
                "proposed": null,
            })
        });
    }

    /// The share file name `01-alice.txt` recorded in the audit log, edited into the payload.
    fn hostile_log(&self) {
        let log = self.root.join("vault.json.audit");
        let json = serde_json::to_string(self.text()).unwrap();
        let text = fs::read_to_string(&log)
            .unwrap()
            .replace("01-alice.txt", &json[1..json.len() - 1]);
        fs::write(&log, text).unwrap();
    }

    /// A vault written before the name rules, whose second custodian is named by the payload
    /// (signed into that custodian's token): `old/vault.json` and `old/1.txt` .. `old/3.txt`.
    fn old_vault(&self) -> PathBuf {
        let names = ["alice", self.text(), "carol"];
        let policy = Policy {
            group_threshold: 1,
            groups: vec![Group {
                name: "custodians".into(),
                member_threshold: 2,
                custodians: names
                    .iter()
                    .enumerate()
                    .map(|(i, n)| Custodian {
                        name: (*n).into(),
                        member_index: i as u8,
                    })
                    .collect(),
            }],
        };
        let tv = testkit::test_vault_for_policy(3, 4, 5, policy.clone());
        let dir = self.root.join("old");
        fs::create_dir(&dir).unwrap();
        store::create_new(
            &dir.join("vault.json"),
            tv.vault.to_json().as_bytes(),
            0o644,
        )
        .unwrap();
        let fp = tv.vault.fingerprint();
        for (i, t) in tv.tokens[0].iter().enumerate() {
            let text = custody::sharefile::render(t, &policy, &fp);
            fs::write(dir.join(format!("{}.txt", i + 1)), text).unwrap();
        }
        dir
    }

    /// `custody ARGS --vault old/vault.json --share old/1.txt --share old/2.txt`.
    fn old_quorum(&self, args: &[&str]) -> Command {
        let old = self.old_vault();
        let mut c = common::custody();
        c.args(args)
            .arg("--vault")
            .arg(old.join("vault.json"))
            .arg("--share")
            .arg(old.join("1.txt"))
            .arg("--share")
            .arg(old.join("2.txt"));
        c
    }
}

/// One printing command, and how to plant the payload where it prints it.
struct Row {
    command: &'static str,
    /// The payload goes into a stored name or note, which may hold no control character.
    stored: bool,
    /// A usage error: clap drops ESC sequences from what it quotes, custody escapes the rest.
    usage: bool,
    run: fn(&Case) -> Command,
}

/// `text` without its ESC sequences (CSI up to the final byte, OSC up to BEL), as clap
/// quotes a value.
fn without_esc_sequences(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\u{1b}' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('[') => while chars.next().is_some_and(|c| !('@'..='~').contains(&c)) {},
            Some(']') => while chars.next().is_some_and(|c| c != '\u{7}') {},
            _ => {}
        }
    }
    out
}

const ROWS: &[Row] = &[
    Row {
        command: "init (vault and out-dir paths)",
        stored: false,
        usage: false,
        run: |c| {
            let mut cmd = common::custody();
            init_args(
                &mut cmd,
                &c.hostile_path(".json"),
                &c.hostile_path("-sh"),
                "2",
                "txt",
            )
            .args(["--custodian", "x", "y", "z"]);
            cmd
        },
    },
    Row {
        command: "init (custodian name)",
        stored: false,
        usage: false,
        run: |c| {
            let mut cmd = common::custody();
            init_args(
                &mut cmd,
                &c.root.join("n.json"),
                &c.root.join("n"),
                "2",
                "txt",
            )
            .args(["--custodian", "x", "y", c.text()]);
            cmd
        },
    },
    Row {
        command: "init (usage error: --threshold value)",
        stored: false,
        usage: true,
        run: |c| {
            let mut cmd = common::custody();
            cmd.args(["init", "--vault", "v", "--out-dir", "o", "--custodian", "a"])
                .args(["--threshold", c.text()]);
            cmd
        },
    },
    Row {
        command: "check-share (share path)",
        stored: false,
        usage: false,
        run: |c| {
            let p = c.hostile_path(".txt");
            fs::copy(c.share(1), &p).unwrap();
            let mut cmd = c.cmd(&["check-share"]);
            cmd.arg(p);
            cmd
        },
    },
    Row {
        command: "check-share (custodian name in a signed token)",
        stored: true,
        usage: false,
        run: |c| {
            let old = c.old_vault();
            let mut cmd = common::custody();
            cmd.arg("check-share")
                .arg("--vault")
                .arg(old.join("vault.json"))
                .arg(old.join("2.txt"));
            cmd
        },
    },
    Row {
        command: "drill (share path)",
        stored: false,
        usage: false,
        run: |c| {
            let p = c.hostile_path(".txt");
            fs::copy(c.share(1), &p).unwrap();
            let mut cmd = c.cmd(&["drill"]);
            cmd.arg("--share").arg(p).arg("--share").arg(c.share(2));
            cmd
        },
    },
    Row {
        command: "drill --json (share path)",
        stored: false,
        usage: false,
        run: |c| {
            let p = c.hostile_path(".txt");
            fs::copy(c.share(1), &p).unwrap();
            let mut cmd = c.cmd(&["drill", "--json"]);
            cmd.arg("--share").arg(p).arg("--share").arg(c.share(2));
            cmd
        },
    },
    Row {
        command: "drill (custodian names of an old vault)",
        stored: true,
        usage: false,
        run: |c| c.old_quorum(&["drill"]),
    },
    Row {
        command: "drill --ratify (hand-edited entry)",
        stored: false,
        usage: false,
        run: |c| {
            c.hostile_entry();
            c.quorum(&["drill", "--ratify"])
        },
    },
    Row {
        command: "drill --certificate, verify-certificate (names on an old vault's certificate)",
        stored: true,
        usage: false,
        run: |c| {
            let cert = c.root.join("old-cert.json");
            c.old_quorum(&["drill", "--certificate", cert.to_str().unwrap()])
                .assert()
                .success();
            let mut cmd = common::custody();
            cmd.arg("verify-certificate")
                .arg(&cert)
                .arg("--vault")
                .arg(c.root.join("old/vault.json"));
            cmd
        },
    },
    Row {
        command: "verify-certificate (certificate path)",
        stored: false,
        usage: false,
        run: |c| {
            let mut cmd = c.cmd(&["verify-certificate"]);
            cmd.arg(c.hostile_path(".json"));
            cmd
        },
    },
    Row {
        command: "sheet (share and output paths)",
        stored: false,
        usage: false,
        run: |c| {
            let p = c.hostile_path(".txt");
            fs::copy(c.share(1), &p).unwrap();
            let mut cmd = c.cmd(&["sheet", "--format", "svg"]);
            cmd.arg("-o").arg(c.hostile_path(".svg")).arg(p);
            cmd
        },
    },
    Row {
        command: "sheet --format terminal (custodian name in a signed token)",
        stored: true,
        usage: false,
        run: |c| {
            let old = c.old_vault();
            let mut cmd = common::custody();
            cmd.args(["sheet", "--format", "terminal", "--vault"])
                .arg(old.join("vault.json"))
                .arg(old.join("2.txt"));
            cmd
        },
    },
    Row {
        command: "demo (--keep path)",
        stored: false,
        usage: false,
        run: |c| {
            let mut cmd = common::custody();
            cmd.args(["demo", "--keep"]).arg(c.hostile_path(""));
            cmd
        },
    },
    Row {
        command: "creds add (credential name)",
        stored: false,
        usage: false,
        run: |c| {
            let mut cmd = c.cmd(&["creds", "add", c.text(), "--exchange", "binance"]);
            cmd.args(["--scope", "trade", "--from-json", "-"])
                .write_stdin(r#"{"api_key":"k","api_secret":"s"}"#);
            cmd
        },
    },
    Row {
        command: "creds add (note), creds show --reveal --json",
        stored: true,
        usage: false,
        run: |c| {
            c.cmd(&[
                "creds",
                "add",
                "x",
                "--exchange",
                "binance",
                "--scope",
                "trade",
            ])
            .args(["--note", c.text(), "--from-json", "-"])
            .write_stdin(r#"{"api_key":"k","api_secret":"s"}"#)
            .assert()
            .success();
            c.quorum(&["creds", "show", "x", "--reveal", "--json"])
        },
    },
    Row {
        command: "creds add (note), creds show",
        stored: true,
        usage: false,
        run: |c| {
            c.cmd(&[
                "creds",
                "add",
                "x",
                "--exchange",
                "binance",
                "--scope",
                "trade",
            ])
            .args(["--note", c.text(), "--from-json", "-"])
            .write_stdin(r#"{"api_key":"k","api_secret":"s"}"#)
            .assert()
            .success();
            c.cmd(&["creds", "show", "x"])
        },
    },
    Row {
        command: "creds rotate (credential name)",
        stored: false,
        usage: false,
        run: |c| {
            let mut cmd = c.cmd(&["creds", "rotate", c.text(), "--from-json", "-"]);
            cmd.write_stdin(r#"{"api_key":"k","api_secret":"s"}"#);
            cmd
        },
    },
    Row {
        command: "creds list (hand-edited entry)",
        stored: false,
        usage: false,
        run: |c| {
            c.hostile_entry();
            c.cmd(&["creds", "list"])
        },
    },
    Row {
        command: "creds status (hand-edited entry)",
        stored: false,
        usage: false,
        run: |c| {
            c.hostile_entry();
            c.cmd(&["creds", "status"])
        },
    },
    Row {
        command: "creds status --json (hand-edited entry)",
        stored: false,
        usage: false,
        run: |c| {
            c.hostile_entry();
            c.cmd(&["creds", "status", "--json"])
        },
    },
    Row {
        command: "agent policy list (hand-edited rule)",
        stored: false,
        usage: false,
        run: |c| {
            c.hostile_rule();
            c.cmd(&["agent", "policy", "list"])
        },
    },
    Row {
        command: "agent policy list --json (hand-edited rule)",
        stored: false,
        usage: false,
        run: |c| {
            c.hostile_rule();
            c.cmd(&["agent", "policy", "list", "--json"])
        },
    },
    Row {
        command: "agent policy add (--exe and --unit)",
        stored: false,
        usage: false,
        run: |c| {
            let mut cmd = c.cmd(&["agent", "policy", "add", "--uid", "1000", "--cred", "bn"]);
            cmd.arg("--exe").arg(format!("/opt/{}", c.text()));
            cmd
        },
    },
    Row {
        command: "agent policy remove (--unit)",
        stored: false,
        usage: false,
        run: |c| {
            let mut cmd = c.cmd(&["agent", "policy", "remove", "--uid", "1000"]);
            cmd.arg("--unit").arg(c.text());
            cmd
        },
    },
    Row {
        command: "creds show (credential name)",
        stored: false,
        usage: false,
        run: |c| c.cmd(&["creds", "show", c.text()]),
    },
    Row {
        command: "creds show --reveal (credential name)",
        stored: false,
        usage: false,
        run: |c| c.quorum(&["creds", "show", "--reveal", c.text()]),
    },
    Row {
        command: "creds remove (credential name)",
        stored: false,
        usage: false,
        run: |c| c.quorum(&["creds", "remove", c.text()]),
    },
    Row {
        command: "creds rename (new name)",
        stored: false,
        usage: false,
        run: |c| c.quorum(&["creds", "rename", "bn", c.text()]),
    },
    Row {
        command: "exec (credential name)",
        stored: false,
        usage: false,
        run: |c| {
            let mut cmd = c.quorum(&["exec", "--cred", c.text()]);
            cmd.args(["--", "true"]);
            cmd
        },
    },
    Row {
        command: "exec (program that cannot start)",
        stored: false,
        usage: false,
        run: |c| {
            let mut cmd = c.quorum(&["exec", "--cred", "bn"]);
            cmd.arg("--").arg(c.hostile_path(""));
            cmd
        },
    },
    Row {
        command: "audit show (hand-edited log)",
        stored: false,
        usage: false,
        run: |c| {
            c.hostile_log();
            c.cmd(&["audit", "show"])
        },
    },
    Row {
        command: "audit show --json (hand-edited log)",
        stored: false,
        usage: false,
        run: |c| {
            c.hostile_log();
            c.cmd(&["audit", "show", "--json"])
        },
    },
    Row {
        command: "audit show --raw (hand-edited log)",
        stored: false,
        usage: false,
        run: |c| {
            c.hostile_log();
            c.cmd(&["audit", "show", "--raw"])
        },
    },
    Row {
        command: "audit repair (torn log in a folder named by the payload)",
        stored: false,
        usage: false,
        run: |c| {
            // The whole case folder moved under a hostile name, its log ending mid-record:
            // repair prints the log's and the kept copy's paths.
            let dir = c.moved_to_hostile_folder();
            let log = dir.join("vault.json.audit");
            let mut bytes = fs::read(&log).unwrap();
            bytes.extend_from_slice(b"{\"seq\":");
            fs::write(&log, bytes).unwrap();
            let mut cmd = common::custody();
            cmd.args(["audit", "repair", "--vault"])
                .arg(dir.join("vault.json"));
            cmd
        },
    },
    Row {
        command: "audit verify (anchored log cut, folder named by the payload)",
        stored: false,
        usage: false,
        run: |c| {
            // The base vault's ceremonies anchored the log; cutting its last line is reported
            // with the log's path.
            let dir = c.moved_to_hostile_folder();
            let log = dir.join("vault.json.audit");
            let text = fs::read_to_string(&log).unwrap();
            let mut lines: Vec<&str> = text.lines().collect();
            lines.pop();
            fs::write(&log, lines.join("\n") + "\n").unwrap();
            let mut cmd = common::custody();
            cmd.args(["audit", "verify", "--vault"])
                .arg(dir.join("vault.json"));
            cmd
        },
    },
    Row {
        command: "audit verify (--anchor value)",
        stored: false,
        usage: false,
        run: |c| c.cmd(&["audit", "verify", "--anchor", c.text()]),
    },
    Row {
        command: "reshare (out-dir path)",
        stored: false,
        usage: false,
        run: |c| {
            let mut cmd = c.quorum(&["reshare", "--threshold", "2", "--sheets", "txt"]);
            cmd.args(["--custodian", "x", "y", "z", "--out-dir"])
                .arg(c.hostile_path(""));
            cmd
        },
    },
    Row {
        command: "rotate-master (custodian name)",
        stored: false,
        usage: false,
        run: |c| {
            let mut cmd = c.quorum(&["rotate-master", "--threshold", "2", "--sheets", "txt"]);
            cmd.args(["--custodian", "x", "y", c.text(), "--out-dir"])
                .arg(c.root.join("new"));
            cmd
        },
    },
    Row {
        command: "confirm (share path)",
        stored: false,
        usage: false,
        run: |c| {
            let new = c.root.join("new");
            c.quorum(&["reshare", "--threshold", "2", "--sheets", "txt"])
                .args(["--custodian", "x", "y", "z", "--out-dir"])
                .arg(&new)
                .assert()
                .success();
            // A share of the current set, which confirm names by its path.
            let p = c.hostile_path(".txt");
            fs::copy(c.share(1), &p).unwrap();
            let mut cmd = c.cmd(&["confirm"]);
            cmd.arg("--share").arg(p);
            cmd.arg("--share").arg(new.join("02-y.txt"));
            cmd
        },
    },
    Row {
        command: "cancel (share path)",
        stored: false,
        usage: false,
        run: |c| {
            c.quorum(&["reshare", "--threshold", "2", "--sheets", "txt"])
                .args(["--custodian", "x", "y", "z", "--out-dir"])
                .arg(c.root.join("new"))
                .assert()
                .success();
            // Not a share: cancel names the file it could not read.
            let p = c.hostile_path(".txt");
            fs::write(&p, "not a share\n").unwrap();
            let mut cmd = c.cmd(&["cancel"]);
            cmd.arg("--share").arg(p).arg("--share").arg(c.share(2));
            cmd
        },
    },
    Row {
        command: "extend (out-dir path)",
        stored: false,
        usage: false,
        run: |c| {
            let mut cmd = c.quorum(&["extend", "--custodian", "dave", "--sheets", "txt"]);
            cmd.arg("--out-dir").arg(c.hostile_path(""));
            cmd
        },
    },
    Row {
        command: "extend (group name)",
        stored: false,
        usage: false,
        run: |c| {
            let mut cmd = c.quorum(&["extend", "--custodian", "dave", "--group", c.text()]);
            cmd.arg("--out-dir").arg(c.root.join("new"));
            cmd
        },
    },
    Row {
        command: "extend (usage error: unexpected argument)",
        stored: false,
        usage: true,
        run: |c| {
            let mut cmd = common::custody();
            cmd.args(["extend", c.text()]);
            cmd
        },
    },
];

fn check(row: &Row, p: &'static Payload) -> Option<String> {
    let case = Case::new(p);
    let out: Output = (row.run)(&case).output().unwrap();
    let mut problems: Vec<String> = [("stdout", &out.stdout), ("stderr", &out.stderr)]
        .into_iter()
        .filter_map(|(s, b)| leak(s, b))
        .collect();
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let expected = if row.usage {
        without_esc_sequences(p.text)
    } else {
        p.text.to_owned()
    };
    if !shown(&all, &expected) {
        problems.push("payload not shown (escaped)".into());
    }
    (!problems.is_empty()).then(|| {
        format!(
            "{} × {}: {} (exit {:?})\n{all:?}",
            row.command,
            p.name,
            problems.join(", "),
            out.status.code()
        )
    })
}

#[test]
fn every_printing_command_escapes_every_hostile_text() {
    let failures: Vec<String> = ROWS
        .iter()
        .flat_map(|row| {
            PAYLOADS
                .iter()
                .filter(move |p| !(row.stored && p.controls))
                .filter_map(move |p| check(row, p))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of the cases leak or do not show the payload:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}
