//! The credential vault end to end on real files: add / rotate / status / exec round trips,
//! ratification, quorum show / remove / rename, every tamper case (metadata edited, ciphertext
//! swapped, entry deleted or injected, ratification record edited, old file restored), 20
//! concurrent adds, and distinctive secret values that must never appear in custody's output.

use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;
use predicates::str::contains;
use serde_json::Value;

mod common;
use common::{have, init_args};

const KEY: &str = "AKEY-7c1d9f-unique-key-value";
const SECRET: &str = "SSEC-b83e02-unique-secret-value";
const KEY2: &str = "AKEY-rotated-44aa1e";
const SECRET2: &str = "SSEC-rotated-9f9f01";
const PASS: &str = "PASS-okx-55d1e7";
const T0: u64 = 1_790_000_000;

fn custody() -> Command {
    let mut c = common::custody();
    c.env("CUSTODY_FAKE_NOW", T0.to_string());
    c
}

struct V {
    _dir: tempfile::TempDir,
    root: PathBuf,
    vault: PathBuf,
}

impl V {
    fn share(&self, n: usize) -> PathBuf {
        let name = ["alice", "bob", "carol"][n - 1];
        self.root.join(format!("sh/{n:02}-{name}.txt"))
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = custody();
        c.args(args).arg("--vault").arg(&self.vault);
        c
    }

    /// A quorum command: `args` then --vault and two shares.
    fn quorum(&self, args: &[&str]) -> Command {
        let mut c = self.cmd(args);
        c.arg("--share")
            .arg(self.share(1))
            .arg("--share")
            .arg(self.share(3));
        c
    }

    fn add(&self, name: &str, exchange: &str, scope: &str, json: &str) -> Command {
        let mut c = self.cmd(&[
            "creds",
            "add",
            name,
            "--exchange",
            exchange,
            "--scope",
            scope,
            "--from-json",
            "-",
        ]);
        c.write_stdin(json.to_owned());
        c
    }

    fn ratify(&self) {
        self.quorum(&["drill", "--ratify"]).assert().success();
    }

    fn json(&self) -> Value {
        serde_json::from_str(&fs::read_to_string(&self.vault).unwrap()).unwrap()
    }

    fn write_json(&self, v: &Value) {
        fs::write(&self.vault, serde_json::to_string_pretty(v).unwrap()).unwrap();
    }

    /// Run `sh -c script` under exec with the given extra exec arguments.
    fn exec(&self, creds: &str, extra: &[&str], script: &str) -> Command {
        let mut c = self.quorum(&["exec", "--cred", creds]);
        c.args(extra).args(["--", "sh", "-c", script]);
        c
    }
}

fn vault() -> V {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    let vault = root.join("vault.json");
    init_args(&mut custody(), &vault, &root.join("sh"), "2", "txt")
        .args(["--custodian", "alice", "bob", "carol"])
        .assert()
        .success();
    V {
        _dir: dir,
        root,
        vault,
    }
}

fn binance_json(k: &str, s: &str) -> String {
    format!(r#"{{"api_key":"{k}","api_secret":"{s}"}}"#)
}

/// custody's own output never carries a secret value.
fn clean(out: &std::process::Output) {
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    for s in [KEY, SECRET, KEY2, SECRET2, PASS] {
        assert!(!all.contains(s), "secret {s} leaked in:\n{all}");
    }
}

#[test]
fn add_ratify_exec_rotate_round_trip() {
    let v = vault();
    let out = v
        .add(
            "binance-main",
            "binance",
            "read,trade",
            &binance_json(KEY, SECRET),
        )
        .assert()
        .success()
        .stdout(contains("unratified"))
        .get_output()
        .clone();
    clean(&out);
    // Metadata is readable without a quorum; the secret is not in the file in clear.
    let text = fs::read_to_string(&v.vault).unwrap();
    assert!(!text.contains(KEY) && !text.contains(SECRET));
    let out = v
        .cmd(&["creds", "status"])
        .assert()
        .success()
        .stdout(contains("binance-main").and(contains("unratified (added)")))
        .get_output()
        .clone();
    clean(&out);
    // exec refuses the unratified entry and says what to do.
    let script =
        "printf '%s|%s' \"$BINANCE_MAIN_API_KEY\" \"$BINANCE_MAIN_API_SECRET\" > \"$0.out\"";
    let target = v.root.join("child");
    let script = script.replace("$0", target.to_str().unwrap());
    let out = v
        .exec("binance-main", &[], &script)
        .assert()
        .code(1)
        .stderr(contains("unratified").and(contains("--ratify")))
        .get_output()
        .clone();
    clean(&out);
    // exec --ratify shows the entry, signs, and runs the child with exactly the stored values.
    let out = v
        .exec("binance-main", &["--ratify"], &script)
        .assert()
        .success()
        .stderr(contains("binance-main").and(contains("Ratified 1")))
        .get_output()
        .clone();
    clean(&out);
    let got = fs::read_to_string(target.with_extension("out")).unwrap();
    assert_eq!(got, format!("{KEY}|{SECRET}"));

    // Rotation: no quorum; recorded; exec refuses until ratified again.
    let mut c = v.cmd(&["creds", "rotate", "binance-main", "--from-json", "-"]);
    c.env("CUSTODY_FAKE_NOW", (T0 + 86_400 * 3).to_string());
    let out = c
        .write_stdin(binance_json(KEY2, SECRET2))
        .assert()
        .success()
        .stdout(contains("Rotated"))
        .get_output()
        .clone();
    clean(&out);
    let j = v.json();
    let e = &j["credentials"]["entries"][0];
    assert_eq!(e["pending"], "rotated");
    assert_ne!(e["rotated"], e["created"]);
    v.exec("binance-main", &[], &script)
        .assert()
        .code(1)
        .stderr(contains("unratified (rotated"));
    v.ratify();
    v.exec("binance-main", &[], &script).assert().success();
    let got = fs::read_to_string(target.with_extension("out")).unwrap();
    assert_eq!(got, format!("{KEY2}|{SECRET2}"));
    // The child's exit status is passed through; a signal becomes 128 + signal.
    v.exec("binance-main", &[], "exit 7").assert().code(7);
    v.exec("binance-main", &[], "kill -TERM $$")
        .assert()
        .code(128 + 15);
}

#[test]
fn status_reports_age_overdue_expired_withdraw() {
    let v = vault();
    v.add("old", "kraken", "read", &binance_json(KEY, SECRET))
        .assert()
        .success();
    let mut c = v.cmd(&[
        "creds",
        "add",
        "wd",
        "--exchange",
        "okx",
        "--scope",
        "withdraw,read",
        "--expires",
        "2026-09-01",
        "--account",
        "sub-7",
        "--from-json",
        "-",
    ]);
    c.write_stdin(format!(
        r#"{{"api_key":"{KEY2}","api_secret":"{SECRET2}","password":"{PASS}"}}"#
    ))
    .assert()
    .success()
    .stdout(contains("--allow-withdraw"));
    let mut c = v.cmd(&["creds", "status", "--json"]);
    c.env("CUSTODY_FAKE_NOW", (T0 + 100 * 86_400).to_string());
    let out = c.assert().success().get_output().clone();
    clean(&out);
    let j: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(j["overdue"], serde_json::json!(["old", "wd"]));
    assert_eq!(j["expired"], serde_json::json!(["wd"]));
    assert_eq!(j["withdraw_scoped"], serde_json::json!(["wd"]));
    assert_eq!(j["unratified"], serde_json::json!(["old", "wd"]));
    assert_eq!(j["credentials"][0]["age_days"], 100);
    assert_eq!(j["rotation_days"], 90);
    let mut c = v.cmd(&["creds", "status"]);
    c.env("CUSTODY_FAKE_NOW", (T0 + 100 * 86_400).to_string());
    c.assert().success().stdout(
        contains("OVERDUE")
            .and(contains("EXPIRED"))
            .and(contains("WITHDRAW-SCOPED")),
    );
    v.cmd(&["creds", "list"])
        .assert()
        .success()
        .stdout(contains("account sub-7").and(contains("scope read,withdraw")));
    // Withdraw scope needs --allow-withdraw; okx passphrase reaches the child.
    v.ratify();
    v.exec("wd", &[], "true")
        .assert()
        .code(1)
        .stderr(contains("--allow-withdraw"));
    // It also expired (2026-09-01): that needs --allow-expired too.
    v.exec("wd", &["--allow-withdraw"], "true")
        .assert()
        .code(1)
        .stderr(contains("expired on 2026-09-01").and(contains("--allow-expired")));
    let out = v
        .exec(
            "wd",
            &["--allow-withdraw", "--allow-expired"],
            "test \"$WD_API_PASSPHRASE\" = PASS-okx-55d1e7",
        )
        .assert()
        .success()
        .get_output()
        .clone();
    clean(&out);
}

#[test]
fn input_errors_never_echo_secrets() {
    let v = vault();
    // okx needs a passphrase.
    let out = v
        .add("o", "okx", "trade", &binance_json(KEY, SECRET))
        .assert()
        .code(1)
        .stderr(contains("passphrase"))
        .get_output()
        .clone();
    clean(&out);
    // A non-string value or unknown key: only the position is reported.
    for bad in [
        format!(r#"{{"api_key":"{KEY}","api_secret":["{SECRET}"]}}"#),
        format!(r#"{{"api_key":"{KEY}","zzz":"{SECRET}"}}"#),
        format!(r#"{{"api_key":"{KEY}" "api_secret":"{SECRET}"}}"#),
    ] {
        let out = v
            .add("b", "binance", "trade", &bad)
            .assert()
            .failure()
            .get_output()
            .clone();
        clean(&out);
    }
    // No terminal and no --from-json: refused with what to do.
    v.cmd(&[
        "creds",
        "add",
        "b",
        "--exchange",
        "binance",
        "--scope",
        "trade",
    ])
    .assert()
    .code(1)
    .stderr(contains("--from-json"));
    v.add("a b", "binance", "trade", &binance_json(KEY, SECRET))
        .assert()
        .failure()
        .stderr(contains("not a valid credential name"));
    v.add("x", "ftx", "trade", &binance_json(KEY, SECRET))
        .assert()
        .failure()
        .stderr(contains("unknown exchange"));
    v.add("x", "binance", "admin", &binance_json(KEY, SECRET))
        .assert()
        .failure()
        .stderr(contains("unknown scope"));
    v.add("x", "binance", "trade", &binance_json(KEY, SECRET))
        .assert()
        .success();
    v.add("x", "binance", "trade", &binance_json(KEY, SECRET))
        .assert()
        .failure()
        .stderr(contains("already exists"));
    v.add("X", "binance", "trade", &binance_json(KEY, SECRET))
        .assert()
        .failure()
        .stderr(contains("same variable names"));
}

#[test]
fn freqtrade_style_stdin_json_and_python_signing() {
    let v = vault();
    let mut c = v.cmd(&[
        "creds",
        "add",
        "cb",
        "--exchange",
        "coinbase",
        "--scope",
        "trade",
        "--from-json",
        "-",
    ]);
    let pem =
        "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIPEMunique0001\n-----END EC PRIVATE KEY-----\n";
    c.write_stdin(
        serde_json::json!({"api_key": KEY, "private_key_pem": pem, "uid": "UID-1"}).to_string(),
    )
    .assert()
    .success();
    v.add("bn", "binance", "read,trade", &binance_json(KEY2, SECRET2))
        .assert()
        .success();
    v.ratify();
    // freqtrade: exactly one credential, FREQTRADE__EXCHANGE__*.
    v.exec("cb", &["--env-style", "freqtrade"], "test \"$FREQTRADE__EXCHANGE__KEY\" = AKEY-7c1d9f-unique-key-value && test \"$FREQTRADE__EXCHANGE__UID\" = UID-1 && printf %s \"$FREQTRADE__EXCHANGE__SECRET\" | grep -q MHcCAQEEIPEMunique0001")
        .assert()
        .success();
    v.exec("cb,bn", &["--env-style", "freqtrade"], "true")
        .assert()
        .code(2)
        .stderr(contains("exactly one"));
    // --stdin-json: one object on stdin, and no variable.
    let dump = v.root.join("stdin.json");
    let script = format!("cat > {}; test -z \"$BN_API_KEY\"", dump.display());
    v.exec("cb,bn", &["--stdin-json"], &script)
        .assert()
        .success();
    let j: Value = serde_json::from_str(&fs::read_to_string(&dump).unwrap()).unwrap();
    assert_eq!(j["bn"]["api_key"], KEY2);
    assert_eq!(j["bn"]["api_secret"], SECRET2);
    assert_eq!(j["bn"]["exchange"], "binance");
    assert_eq!(j["cb"]["private_key_pem"], pem);
    // Shares cannot come from stdin when the child gets it.
    let mut c = v.cmd(&["exec", "--cred", "bn", "--stdin-json", "--words-stdin"]);
    c.args(["--", "true"])
        .assert()
        .code(2)
        .stderr(contains("cannot also come from standard input"));

    // A Python bot signs a Binance-style request offline with the values it received.
    if !have("python3", "that part of the test") {
        return;
    }
    let py = r#"
import hashlib, hmac, os, sys
key, secret = os.environ["BN_API_KEY"], os.environ["BN_API_SECRET"]
query = "symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=1&price=9000&timestamp=1700000000000"
sig = hmac.new(secret.encode(), query.encode(), hashlib.sha256).hexdigest()
print(key + " " + sig)
"#;
    let out = v
        .quorum(&["exec", "--cred", "bn"])
        .args(["--", "python3", "-c", py])
        .assert()
        .success()
        .get_output()
        .clone();
    let expected = {
        use hmac::{Hmac, Mac};
        let mut m = Hmac::<sha2::Sha256>::new_from_slice(SECRET2.as_bytes()).unwrap();
        m.update(
            b"symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=1&price=9000&timestamp=1700000000000",
        );
        m.finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    };
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("{KEY2} {expected}")
    );
}

/// Whether an external tool is installed; with `CI` set a missing tool fails the test.
#[test]
fn show_reveal_remove_rename_need_a_quorum() {
    let v = vault();
    v.add("a", "binance", "trade", &binance_json(KEY, SECRET))
        .assert()
        .success();
    v.add("b", "binance", "trade", &binance_json(KEY2, SECRET2))
        .assert()
        .success();
    let out = v
        .cmd(&["creds", "show", "a"])
        .assert()
        .success()
        .stdout(contains("binance"))
        .get_output()
        .clone();
    clean(&out);
    // Break-glass: the secret on stdout, a warning on stderr.
    let out = v
        .quorum(&["creds", "show", "a", "--reveal", "--ratify"])
        .assert()
        .success()
        .stdout(contains(format!("api_secret: {SECRET}")))
        .stderr(contains("break-glass"))
        .get_output()
        .clone();
    assert!(!String::from_utf8_lossy(&out.stderr).contains(SECRET));
    // Remove and rename without shares fail (clap or quorum), with shares succeed.
    v.cmd(&["creds", "remove", "b"])
        .assert()
        .code(1)
        .stderr(contains("no shares"));
    v.quorum(&["creds", "remove", "b"])
        .assert()
        .success()
        .stdout(contains("Removed"));
    v.quorum(&["creds", "rename", "a", "a-new"])
        .assert()
        .success();
    let st = v
        .cmd(&["creds", "status", "--json"])
        .assert()
        .success()
        .get_output()
        .clone();
    let j: Value = serde_json::from_slice(&st.stdout).unwrap();
    assert_eq!(j["credentials"].as_array().unwrap().len(), 1);
    assert_eq!(j["credentials"][0]["name"], "a-new");
    assert_eq!(j["credentials"][0]["ratified"], true);
    v.exec(
        "a-new",
        &[],
        "test \"$A_NEW_API_SECRET\" = SSEC-b83e02-unique-secret-value",
    )
    .assert()
    .success();
}

/// `creds show --json`: metadata only, and no secret value anywhere in the output; with
/// `--reveal`, the document holds exactly the secret values (quote, backslash, newline, tab,
/// accented and bidirectional characters survive, escaped as JSON in pure ASCII), and a
/// failure is a `custody-error/1` document.
#[test]
fn show_json_prints_secret_values_only_with_reveal() {
    let v = vault();
    // Everything JSON must escape, and characters a terminal would act on.
    let odd = "SSEC-odd \"q\" back\\slash\nline\ttab é \u{202E}rlo end";
    let input = serde_json::json!({ "api_key": KEY, "api_secret": odd }).to_string();
    v.add("a", "binance", "trade,withdraw", &input)
        .assert()
        .success();
    let out = v
        .cmd(&["creds", "show", "a", "--json"])
        .assert()
        .success()
        .get_output()
        .clone();
    clean(&out);
    let text = String::from_utf8(out.stdout.clone()).unwrap();
    assert!(
        !text.contains("SSEC-odd") && !text.contains("rlo end"),
        "{text}"
    );
    assert_eq!(text.lines().count(), 1, "{text}");
    let j: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(j["format"], "custody-creds-show/1");
    assert_eq!(j["ok"], true);
    assert_eq!(j["name"], "a");
    assert_eq!(j["exchange"], "binance");
    assert_eq!(j["fields"], serde_json::json!(["api_key", "api_secret"]));
    assert_eq!(j["withdraw"], true);
    assert_eq!(j["revealed"], false);
    assert!(j.get("secrets").is_none(), "{j}");

    let out = v
        .quorum(&["creds", "show", "a", "--reveal", "--json"])
        .assert()
        .success()
        .stderr(contains("break-glass"))
        .get_output()
        .clone();
    let text = String::from_utf8(out.stdout.clone()).unwrap();
    assert!(
        text.bytes()
            .all(|b| b == b'\n' || (b' '..=b'~').contains(&b)),
        "not printable ASCII: {text:?}"
    );
    assert_eq!(text.lines().count(), 1, "{text}");
    let j: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(j["format"], "custody-creds-show/1");
    assert_eq!(j["revealed"], true);
    assert_eq!(
        j["secrets"],
        serde_json::json!({ "api_key": KEY, "api_secret": odd })
    );
    assert_eq!(j["name"], "a");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains(KEY) && !stderr.contains("SSEC-odd"),
        "{stderr}"
    );

    // Failures: a credential that does not exist, and a wrong share (another vault's).
    for mut cmd in [
        v.cmd(&["creds", "show", "zz", "--json"]),
        v.quorum(&["creds", "show", "zz", "--reveal", "--json"]),
    ] {
        let out = cmd.assert().code(1).get_output().clone();
        let j: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(j["format"], "custody-error/1", "{j}");
        assert!(j["error"].as_str().unwrap().contains("zz"), "{j}");
    }
    let other = vault();
    let out = v
        .cmd(&["creds", "show", "a", "--reveal", "--json"])
        .arg("--share")
        .arg(other.share(1))
        .arg("--share")
        .arg(other.share(2))
        .assert()
        .code(1)
        .get_output()
        .clone();
    clean(&out);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains("SSEC-odd"), "{text}");
    let j: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(j["format"], "custody-error/1", "{j}");
}

/// A vault with two ratified entries, `a` and `b`.
fn ratified_pair() -> V {
    let v = vault();
    v.add("a", "binance", "trade", &binance_json(KEY, SECRET))
        .assert()
        .success();
    v.add("b", "binance", "trade", &binance_json(KEY2, SECRET2))
        .assert()
        .success();
    v.ratify();
    v.cmd(&["creds", "status"]).assert().success();
    v
}

fn entry_mut<'a>(j: &'a mut Value, name: &str) -> &'a mut Value {
    j["credentials"]["entries"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|e| e["name"] == name)
        .unwrap()
}

#[test]
fn tamper_metadata_changed_is_named() {
    let v = ratified_pair();
    let mut j = v.json();
    entry_mut(&mut j, "a")["scope"] = serde_json::json!(["read", "trade", "withdraw"]);
    v.write_json(&j);
    v.cmd(&["creds", "status"])
        .assert()
        .code(1)
        .stdout(contains(
            "`a`: TAMPERED: changed since the quorum ratified it",
        ));
    v.exec("a", &["--allow-withdraw"], "true")
        .assert()
        .code(1)
        .stderr(contains("credential `a`: TAMPERED").and(contains(".bak")));
    // b is untouched and still usable.
    v.exec("b", &[], "true").assert().success();
    // A rotation cannot launder the edit; ratification refuses it.
    v.cmd(&["creds", "rotate", "a", "--from-json", "-"])
        .write_stdin(binance_json(KEY, SECRET))
        .assert()
        .code(1)
        .stderr(contains("changed outside custody"));
    v.quorum(&["drill", "--ratify"])
        .assert()
        .code(1)
        .stderr(contains("nothing was ratified"));
}

#[test]
fn tamper_ciphertext_swapped_is_detected_even_when_disguised() {
    let v = ratified_pair();
    let mut j = v.json();
    let sa = entry_mut(&mut j, "a")["sealed"].clone();
    let sb = entry_mut(&mut j, "b")["sealed"].clone();
    entry_mut(&mut j, "a")["sealed"] = sb;
    entry_mut(&mut j, "b")["sealed"] = sa;
    v.write_json(&j);
    v.cmd(&["creds", "status"])
        .assert()
        .code(1)
        .stdout(contains("`a`: TAMPERED").and(contains("`b`: TAMPERED")));
    v.exec("a", &[], "true").assert().code(1);
    // Disguised as rotations: unratified, and the quorum's test-open names the swap.
    entry_mut(&mut j, "a")["pending"] = "rotated".into();
    entry_mut(&mut j, "b")["pending"] = "rotated".into();
    v.write_json(&j);
    v.exec("a", &[], "true")
        .assert()
        .code(1)
        .stderr(contains("unratified"));
    v.quorum(&["drill", "--ratify"])
        .assert()
        .code(1)
        .stderr(contains("ciphertext moved between entries"));
    // A sealed entry copied from another vault (different key) does not open.
    let other = vault();
    other
        .add("a", "binance", "trade", &binance_json(KEY, SECRET))
        .assert()
        .success();
    let mut j = v.json();
    let foreign = other.json()["credentials"]["entries"][0]["sealed"].clone();
    entry_mut(&mut j, "a")["sealed"] = foreign;
    entry_mut(&mut j, "b")["sealed"] = entry_mut(&mut v.json(), "a")["sealed"].clone();
    v.write_json(&j);
    v.quorum(&["drill", "--ratify"])
        .assert()
        .code(1)
        .stderr(contains("does not open with this vault's key"));
}

#[test]
fn tamper_deleted_injected_malformed_and_record_edited() {
    let v = ratified_pair();
    let good = v.json();
    // Deleted.
    let mut j = good.clone();
    j["credentials"]["entries"]
        .as_array_mut()
        .unwrap()
        .retain(|e| e["name"] != "b");
    v.write_json(&j);
    v.cmd(&["creds", "status"])
        .assert()
        .code(1)
        .stdout(contains(
            "`b` was ratified but is missing: deleted outside custody",
        ));
    v.exec("b", &[], "true")
        .assert()
        .code(1)
        .stderr(contains("deleted outside custody"));
    // Injected (a copy of a under a new name, no pending mark).
    let mut j = good.clone();
    let mut c = entry_mut(&mut j, "a").clone();
    c["name"] = "c".into();
    j["credentials"]["entries"].as_array_mut().unwrap().push(c);
    v.write_json(&j);
    v.cmd(&["creds", "status"])
        .assert()
        .code(1)
        .stdout(contains("`c`: TAMPERED: not in the ratified record"));
    // Malformed entry: reported by name, the rest of the vault still usable.
    let mut j = good.clone();
    entry_mut(&mut j, "b")["scope"] = serde_json::json!(["root"]);
    v.write_json(&j);
    v.cmd(&["creds", "status"])
        .assert()
        .code(1)
        .stdout(contains("`b` is malformed (unknown scope `root`)"));
    v.exec("a", &[], "true").assert().success();
    v.exec("b", &[], "true")
        .assert()
        .code(1)
        .stderr(contains("malformed"));
    // Ratification record edited: nothing can be vouched for. (The exec above anchored its
    // audit record in the vault, a write: the copy carries the current write revision, so
    // that it is not an old file put back.)
    let mut j = good.clone();
    j["credentials"]["ratification"]["generation"] = 99.into();
    j["credentials"]["revision"] = v.json()["credentials"]["revision"].clone();
    v.write_json(&j);
    v.cmd(&["creds", "status"])
        .assert()
        .code(1)
        .stdout(contains("ratification record does not verify"));
    v.exec("a", &[], "true")
        .assert()
        .code(1)
        .stderr(contains("does not verify"));
    // A quorum reviews and re-signs everything.
    v.exec("a", &["--ratify"], "true").assert().success();
    v.cmd(&["creds", "status"]).assert().success();
}

#[test]
fn tamper_old_file_restored_is_detected() {
    let v = ratified_pair();
    // Remove b with a quorum (generation rises), then put the old file back.
    let before = fs::read_to_string(&v.vault).unwrap();
    v.quorum(&["creds", "remove", "b"]).assert().success();
    fs::write(&v.vault, &before).unwrap();
    v.cmd(&["creds", "status"])
        .assert()
        .code(1)
        .stdout(contains("older copy"));
    v.exec("b", &[], "true")
        .assert()
        .code(1)
        .stderr(contains("an old file was restored"));
    // A no-quorum write refuses rather than make the old file look new.
    v.add("n", "binance", "trade", &binance_json(KEY, SECRET))
        .assert()
        .code(1)
        .stderr(contains("older copy"));
    // Restoring the backup after an unratified add is detected too (revision).
    let v = ratified_pair();
    v.add("n", "binance", "trade", &binance_json(KEY, SECRET))
        .assert()
        .success();
    fs::copy(sibling(&v.vault, ".bak"), &v.vault).unwrap();
    v.cmd(&["creds", "status"])
        .assert()
        .code(1)
        .stdout(contains("older copy"));
    // Deliberate restore: a quorum re-ratifies.
    v.quorum(&["drill", "--ratify"]).assert().success();
    v.cmd(&["creds", "status"]).assert().success();
}

fn sibling(p: &Path, suffix: &str) -> PathBuf {
    let mut s = p.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

#[test]
fn base_signature_still_guards_the_vault() {
    let v = ratified_pair();
    let mut j = v.json();
    j["policy"]["groups"][0]["member_threshold"] = 3.into();
    v.write_json(&j);
    v.cmd(&["creds", "status"])
        .assert()
        .code(1)
        .stderr(contains("signature does not verify").or(contains("policy")));
}

#[test]
fn twenty_concurrent_adds_all_present() {
    let v = vault();
    let bin = assert_cmd::cargo::cargo_bin("custody");
    let children: Vec<_> = (0..20)
        .map(|i| {
            let mut c = std::process::Command::new(&bin);
            c.args(["creds", "add", &format!("c{i}"), "--exchange", "bybit"])
                .args(["--scope", "trade", "--from-json", "-", "--vault"])
                .arg(&v.vault)
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::null());
            let mut ch = c.spawn().unwrap();
            use std::io::Write;
            ch.stdin
                .take()
                .unwrap()
                .write_all(binance_json(&format!("k{i}"), &format!("s{i}")).as_bytes())
                .unwrap();
            ch
        })
        .collect();
    for mut ch in children {
        assert!(ch.wait().unwrap().success());
    }
    let j = v.json();
    let mut names: Vec<String> = j["credentials"]["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    let mut want: Vec<String> = (0..20).map(|i| format!("c{i}")).collect();
    want.sort();
    assert_eq!(names, want);
    assert_eq!(j["credentials"]["revision"], 20);
    v.ratify();
    v.exec("c13", &[], "test \"$C13_API_SECRET\" = s13")
        .assert()
        .success();
}

#[test]
fn refusals_say_what_to_type_next() {
    let v = ratified_pair();
    // Not found: the command that lists them.
    v.cmd(&["creds", "rotate", "zz", "--from-json", "-"])
        .write_stdin(binance_json(KEY, SECRET))
        .assert()
        .code(1)
        .stderr(contains("no credential `zz`").and(contains("custody creds list")));
    v.quorum(&["creds", "remove", "zz"])
        .assert()
        .code(1)
        .stderr(contains("no credential `zz`"));
    // A duplicate: the rotate command for it.
    v.add("a", "binance", "trade", &binance_json(KEY, SECRET))
        .assert()
        .code(1)
        .stderr(contains("already exists").and(contains("custody creds rotate a")));
    // Rename onto an existing name or a clashing one.
    v.quorum(&["creds", "rename", "a", "b"])
        .assert()
        .code(1)
        .stderr(contains("already exists"));
    v.quorum(&["creds", "rename", "a", "B"])
        .assert()
        .code(1)
        .stderr(contains("same variable names").and(contains("choose another name")));
    // An invalid record: re-run with --ratify.
    let mut j = v.json();
    j["credentials"]["ratification"]["generation"] = 99.into();
    v.write_json(&j);
    v.quorum(&["creds", "remove", "b"])
        .assert()
        .code(1)
        .stderr(contains("does not verify").and(contains("--ratify")));
    v.quorum(&["creds", "remove", "b", "--ratify"])
        .assert()
        .success()
        .stdout(contains("Removed credential b.").and(contains("Ratified")));
    // A tampered entry cannot be rotated: restore or remove it.
    let mut j = v.json();
    entry_mut(&mut j, "a")["note"] = "edited".into();
    v.write_json(&j);
    v.cmd(&["creds", "rotate", "a", "--from-json", "-"])
        .write_stdin(binance_json(KEY, SECRET))
        .assert()
        .code(1)
        .stderr(
            contains("changed outside custody")
                .and(contains(".bak"))
                .and(contains("custody creds remove a")),
        );
}

#[test]
fn exec_refuses_a_name_whose_variables_a_shell_drops() {
    // An entry named before names had to start with a letter (`1abc`) would reach the program
    // as `1ABC_API_KEY`, which `sh` silently drops: exec refuses it before any share is read.
    let v = ratified_pair();
    let fifo_free = v.root.join("never-read");
    for style in [&[][..], &["--env-style", "freqtrade"][..]] {
        let mut c = v.cmd(&["exec", "--cred", "1abc"]);
        c.args(style)
            .arg("--share")
            .arg(&fifo_free)
            .args(["--", "true"]);
        let out = c.output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        if style.is_empty() {
            assert_eq!(out.status.code(), Some(1), "{err}");
            assert!(
                err.contains("1ABC_API_KEY")
                    && err.contains("POSIX shell")
                    && err.contains("custody creds rename 1abc")
                    && err.contains("--stdin-json"),
                "{err}"
            );
        } else {
            // FREQTRADE__EXCHANGE__* are shell names whatever the credential is called.
            assert!(!err.contains("POSIX shell"), "{err}");
        }
    }
    // As one JSON object on standard input the name is a JSON key: no variable, no refusal.
    v.cmd(&["exec", "--cred", "1abc", "--stdin-json"])
        .arg("--share")
        .arg(&fifo_free)
        .args(["--", "true"])
        .assert()
        .code(1)
        .stderr(contains("POSIX shell").not());
}

// ---- --ratify: the list first, then a question at a terminal ----

/// A vault with two credentials awaiting ratification: binance-main and okx-hedge.
fn two_awaiting() -> V {
    let v = vault();
    v.add(
        "binance-main",
        "binance",
        "read,trade",
        &binance_json(KEY, SECRET),
    )
    .assert()
    .success();
    let okx = format!(r#"{{"api_key":"{KEY2}","api_secret":"{SECRET2}","passphrase":"{PASS}"}}"#);
    v.add("okx-hedge", "okx", "trade", &okx).assert().success();
    v
}

/// The SHA-256 of each entry the vault's ratification record covers, by name.
fn signed_digests(v: &V) -> Vec<(String, String)> {
    v.json()["credentials"]["ratification"]["entries"]
        .as_array()
        .map(|es| {
            es.iter()
                .map(|e| {
                    let field = |k: &str| e[k].as_str().unwrap().to_owned();
                    (field("name"), field("sha256"))
                })
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn ratify_without_a_terminal_lists_then_signs_exactly_what_it_listed() {
    let v = two_awaiting();
    let out = v.quorum(&["drill", "--ratify"]).output().unwrap();
    assert!(out.status.success(), "{out:?}");
    clean(&out);
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.starts_with(
            "Standard input is not a terminal, so nobody is asked: signing exactly what is \
             listed.\nTo ratify: 2 entries (check each against your change records):\n"
        ),
        "{err}"
    );
    let signed = signed_digests(&v);
    assert_eq!(signed.len(), 2);
    for (name, sha) in &signed {
        let line = err
            .lines()
            .find(|l| l.starts_with(&format!("  {name} — ")))
            .unwrap_or_else(|| panic!("{name} not listed:\n{err}"));
        assert!(line.contains("[added]"), "{line}");
        assert!(line.ends_with(&format!("digest {}", &sha[..16])), "{line}");
    }
    assert!(!err.contains("[y/N]"), "{err}");
}

/// `drill --ratify` on a pseudo-terminal (standard input a terminal, shares from files),
/// answering the question with `answer`.
fn drill_ratify_at_a_terminal(v: &V, answer: &str) -> (String, i32) {
    let args = [
        "drill".to_owned(),
        "--vault".to_owned(),
        v.vault.display().to_string(),
        "--share".to_owned(),
        v.share(1).display().to_string(),
        "--share".to_owned(),
        v.share(3).display().to_string(),
        "--ratify".to_owned(),
    ];
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    common::pty::drive(
        &[
            ("expect", "Sign these 2 entries? [y/N] ".to_owned()),
            ("send", answer.to_owned()),
        ],
        &args,
    )
}

#[test]
fn ratify_at_a_terminal_signs_on_yes() {
    let v = two_awaiting();
    let (t, code) = drill_ratify_at_a_terminal(&v, "y\r");
    assert_eq!(code, 0, "{t}");
    assert!(t.contains("To ratify: 2 entries"), "{t}");
    assert!(t.contains("  okx-hedge — okx — scope trade"), "{t}");
    assert!(
        t.contains("Ratified 2 credential(s): the quorum signed generation 1"),
        "{t}"
    );
    assert_eq!(signed_digests(&v).len(), 2);
    for s in [KEY, SECRET, KEY2, SECRET2, PASS] {
        assert!(!t.contains(s), "{s} shown:\n{t}");
    }
}

#[test]
fn ratify_at_a_terminal_signs_nothing_on_no_or_end_of_input() {
    for (answer, reason) in [
        ("n\r", "the quorum did not answer yes"),
        ("\r", "the quorum did not answer yes"),
        (
            "\u{4}",
            "the terminal closed before an answer (end of input)",
        ),
    ] {
        let v = two_awaiting();
        let before = fs::read(&v.vault).unwrap();
        let (t, code) = drill_ratify_at_a_terminal(&v, answer);
        assert_eq!(code, 1, "{answer:?}: {t}");
        assert!(t.contains("Nothing was signed."), "{t}");
        assert!(
            t.contains(&format!(
                "custody: error: nothing was ratified: {reason}, so the 2 entries listed were \
                 not signed and the vault is unchanged"
            )),
            "{answer:?}: {t}"
        );
        assert!(t.contains("answer y"), "{t}");
        assert_eq!(fs::read(&v.vault).unwrap(), before, "{answer:?}");
        assert!(signed_digests(&v).is_empty());
        // The ceremony is recorded as failed, with the reason.
        let audit = fs::read_to_string(format!("{}.audit", v.vault.display())).unwrap();
        assert!(audit.contains(reason), "{audit}");
    }
}

#[test]
fn exec_refusing_an_unratified_entry_says_what_ratify_will_do() {
    let v = two_awaiting();
    v.exec("binance-main", &[], "true")
        .assert()
        .code(1)
        .stderr(contains("credential `binance-main`: it is unratified"))
        .stderr(contains(
            "at a terminal, asks \"Sign these N entries? [y/N]\" before signing; without a \
             terminal it signs exactly the entries it lists",
        ));
}
