//! docs/json.md lists, for every JSON document custody prints, exactly the fields it prints:
//! each command is run with `--json` on real files and the fields of its output (as paths:
//! `a.b`, `a[].b`) must all be documented, and every documented field that is not optional
//! must be printed. Every document names its `format`.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

use serde_json::Value;

mod common;

/// A documented field: its type column and whether it is optional.
struct Field {
    kind: String,
    optional: bool,
}

/// docs/json.md: format name → documented fields by path.
fn documented() -> BTreeMap<String, BTreeMap<String, Field>> {
    let text = fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/json.md"))
        .expect("docs/json.md");
    let mut docs = BTreeMap::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        if let Some(h) = line.strip_prefix("## `") {
            let name = h.split('`').next().unwrap().to_owned();
            docs.insert(name.clone(), BTreeMap::new());
            current = Some(name);
            continue;
        }
        let (Some(doc), Some(row)) = (&current, line.strip_prefix("| `")) else {
            continue;
        };
        let cells: Vec<&str> = row.split(" | ").collect();
        let path = cells[0].trim_end_matches('`').to_owned();
        let field = Field {
            kind: cells[1].trim().to_owned(),
            optional: cells[2].trim_start().starts_with("optional"),
        };
        docs.get_mut(doc).unwrap().insert(path, field);
    }
    docs
}

/// Every field path of `v` (an object), not descending into fields documented as opaque.
fn paths(v: &Value, prefix: &str, opaque: &BTreeSet<String>, out: &mut BTreeSet<String>) {
    let Value::Object(map) = v else { return };
    for (k, v) in map {
        let path = format!("{prefix}{k}");
        out.insert(path.clone());
        if opaque.contains(&path) {
            continue;
        }
        match v {
            Value::Object(_) => paths(v, &format!("{path}."), opaque, out),
            Value::Array(items) => {
                for item in items {
                    paths(item, &format!("{path}[]."), opaque, out);
                }
            }
            _ => {}
        }
    }
}

/// The first line of a command's standard output, as JSON.
fn first_json(out: &[u8]) -> Value {
    let text = String::from_utf8_lossy(out);
    serde_json::from_str(text.lines().next().expect("a JSON line")).expect("JSON")
}

/// Formats checked so far, each with every field path any of its documents printed.
type Seen = BTreeMap<String, BTreeSet<String>>;

/// The paths of `v`'s fields that are arrays and empty.
fn empty_arrays(v: &Value, prefix: &str, out: &mut BTreeSet<String>) {
    let Value::Object(map) = v else { return };
    for (k, v) in map {
        let path = format!("{prefix}{k}");
        match v {
            Value::Array(items) if items.is_empty() => {
                out.insert(path);
            }
            Value::Array(items) => {
                for item in items {
                    empty_arrays(item, &format!("{path}[]."), out);
                }
            }
            Value::Object(_) => empty_arrays(v, &format!("{path}."), out),
            _ => {}
        }
    }
}

/// Every field `v` prints is documented, and every documented field that is not optional is
/// printed (a field of the elements of an array `v` prints empty excepted; some other document
/// of the same format must print it, which the end of the test checks).
fn check(docs: &BTreeMap<String, BTreeMap<String, Field>>, v: &Value, seen: &mut Seen) {
    let format = v["format"]
        .as_str()
        .expect("every document names its format");
    let fields = docs
        .get(format)
        .unwrap_or_else(|| panic!("{format} is not documented in docs/json.md"));
    let opaque: BTreeSet<String> = fields
        .iter()
        .filter(|(_, f)| {
            !matches!(f.kind.as_str(), "object" | "array") && !f.kind.contains("object")
        })
        .map(|(p, _)| p.clone())
        .collect();
    let mut emitted = BTreeSet::new();
    paths(v, "", &opaque, &mut emitted);
    let undocumented: Vec<_> = emitted
        .iter()
        .filter(|p| !fields.contains_key(*p))
        .collect();
    assert!(
        undocumented.is_empty(),
        "{format}: printed but not documented: {undocumented:?}"
    );
    let mut empty = BTreeSet::new();
    empty_arrays(v, "", &mut empty);
    let in_empty_array = |p: &str| empty.iter().any(|a| p.starts_with(&format!("{a}[].")));
    let missing: Vec<_> = fields
        .iter()
        .filter(|(p, f)| !f.optional && !emitted.contains(*p) && !in_empty_array(p))
        .map(|(p, _)| p)
        .collect();
    assert!(
        missing.is_empty(),
        "{format}: documented but not printed: {missing:?}"
    );
    seen.entry(format.to_owned()).or_default().extend(emitted);
}

#[test]
fn every_json_document_prints_exactly_its_documented_fields() {
    let docs = documented();
    let mut seen = Seen::new();
    let fresh = tempfile::tempdir().unwrap();
    let mut init = common::custody();
    common::init_args(
        &mut init,
        &fresh.path().join("v.json"),
        &fresh.path().join("sh"),
        "2",
        "txt,svg",
    )
    .args(["--custodian", "alice", "bob", "carol", "--json"]);
    let out = init.assert().success().get_output().stdout.clone();
    let v = first_json(&out);
    assert_eq!(v["custodians"][2]["files"].as_array().unwrap().len(), 2);
    check(&docs, &v, &mut seen);
    let (dir, vault) = common::vault_2_of_3();
    let sh = dir.path().join("sh");
    let cmd = |args: &[&str]| {
        let mut c = common::custody();
        c.args(args).arg("--vault").arg(&vault);
        c
    };
    cmd(&[
        "creds",
        "add",
        "main",
        "--exchange",
        "kraken",
        "--scope",
        "trade",
    ])
    .args(["--from-json", "-"])
    .write_stdin(r#"{"api_key":"k-json-docs","api_secret":"s-json-docs"}"#)
    .assert()
    .success();
    let cert = dir.path().join("c.json");
    let out = cmd(&["drill", "--ratify", "--json"])
        .arg("--certificate")
        .arg(&cert)
        .arg("--share")
        .arg(sh.join("01-alice.txt"))
        .arg("--share")
        .arg(sh.join("02-bob.txt"))
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    check(&docs, &first_json(&out), &mut seen);

    // A drill of an AND-policy vault with both copies of Board's share: `counted_once`.
    let and = tempfile::tempdir().unwrap();
    common::custody()
        .arg("init")
        .arg("--vault")
        .arg(and.path().join("v.json"))
        .arg("--out-dir")
        .arg(and.path().join("s"))
        .args([
            "--group",
            "Board:1",
            "--group",
            "Ops:2",
            "--group-threshold",
            "2",
        ])
        .args(["--iteration-exponent", "0", "--sheets", "txt"])
        .args([
            "--custodian",
            "Board/frank",
            "Board/gina",
            "Ops/olga",
            "Ops/oscar",
        ])
        .assert()
        .success();
    let mut drill = common::custody();
    drill
        .arg("drill")
        .arg("--vault")
        .arg(and.path().join("v.json"))
        .arg("--json");
    for f in fs::read_dir(and.path().join("s")).unwrap() {
        drill.arg("--share").arg(f.unwrap().path());
    }
    let out = drill.assert().success().get_output().stdout.clone();
    let v = first_json(&out);
    assert_eq!(v["counted_once"][0]["group"], "Board", "{v}");
    check(&docs, &v, &mut seen);

    // creds show: metadata only, then with --reveal the secrets too.
    let out = cmd(&["creds", "show", "main", "--json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v = first_json(&out);
    assert!(v.get("secrets").is_none());
    check(&docs, &v, &mut seen);
    let out = cmd(&["creds", "show", "main", "--reveal", "--json"])
        .arg("--share")
        .arg(sh.join("01-alice.txt"))
        .arg("--share")
        .arg(sh.join("03-carol.txt"))
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v = first_json(&out);
    assert_eq!(v["secrets"]["api_secret"], "s-json-docs");
    check(&docs, &v, &mut seen);

    // One share that belongs and one that does not.
    let stray = dir.path().join("stray.txt");
    fs::write(&stray, "not a share\n").unwrap();
    let out = cmd(&["check-share", "--json"])
        .arg(sh.join("03-carol.txt"))
        .arg(&stray)
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let v = first_json(&out);
    assert_eq!(v["shares"][0]["custodian"], "carol");
    assert_eq!(v["shares"][1]["ok"], false);
    check(&docs, &v, &mut seen);

    // A failed drill: the error document, and a ceremony in the log's unsigned tail.
    let out = cmd(&["drill", "--json"])
        .arg("--share")
        .arg(sh.join("01-alice.txt"))
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    check(&docs, &first_json(&out), &mut seen);

    let out = cmd(&["verify-certificate", "--json"])
        .arg(&cert)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    check(&docs, &first_json(&out), &mut seen);

    let head = custody::audit::head(&custody::audit::log_path(&vault)).unwrap();
    let out = cmd(&["audit", "verify", "--json"])
        .arg("--anchor")
        .arg(format!("{}:{}", head.seq, head.hash_hex()))
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v = first_json(&out);
    assert!(!v["tail_ceremonies"].as_array().unwrap().is_empty());
    check(&docs, &v, &mut seen);

    // An agent access policy, listed as JSON: one rule a quorum ratified, one pending (with
    // proxy terms).
    cmd(&["agent", "policy", "add", "--uid", "1000", "--cred", "main"])
        .assert()
        .success();
    cmd(&["drill", "--ratify"])
        .arg("--share")
        .arg(sh.join("01-alice.txt"))
        .arg("--share")
        .arg(sh.join("02-bob.txt"))
        .assert()
        .success();
    cmd(&["agent", "policy", "add", "--uid", "1001", "--gid", "1001"])
        .args([
            "--exe",
            "/opt/bot/run",
            "--unit",
            "bot.service",
            "--cred",
            "main",
            "--symbols",
            "BTCUSDT",
            "--max-notional",
            "50000",
        ])
        .assert()
        .success();
    let out = cmd(&["agent", "policy", "list", "--json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v = first_json(&out);
    assert_eq!(v["rules"].as_array().unwrap().len(), 2);
    check(&docs, &v, &mut seen);

    // Known hosts, listed as JSON: one host a quorum ratified (with the policy above), one
    // pending.
    let mut public = Vec::new();
    for name in ["ops.key", "agent.key"] {
        let out = common::custody()
            .args(["host-key", "new", "-o"])
            .arg(dir.path().join(name))
            .assert()
            .success()
            .get_output()
            .stdout
            .clone();
        let text = String::from_utf8(out).unwrap();
        public.push(
            text.lines()
                .find(|l| l.starts_with("custody-host:"))
                .unwrap()
                .to_owned(),
        );
    }
    cmd(&["hosts", "add", "ops-laptop", &public[0]])
        .assert()
        .success();
    cmd(&["drill", "--ratify"])
        .arg("--share")
        .arg(sh.join("01-alice.txt"))
        .arg("--share")
        .arg(sh.join("02-bob.txt"))
        .assert()
        .success();
    cmd(&["hosts", "add", "agent-box", &public[1]])
        .assert()
        .success();
    let out = cmd(&["hosts", "list", "--json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v = first_json(&out);
    assert_eq!(v["hosts"].as_array().unwrap().len(), 2);
    check(&docs, &v, &mut seen);

    let out = cmd(&["audit", "show", "--json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v = first_json(&out);
    assert!(v["records"][0]["stored"]["seq"] == 1);
    check(&docs, &v, &mut seen);

    // A malformed entry, so that the `malformed[]` fields are printed too.
    let mut j: Value = serde_json::from_str(&fs::read_to_string(&vault).unwrap()).unwrap();
    let mut bad = j["credentials"]["entries"][0].clone();
    bad["name"] = "broken".into();
    bad["scope"] = serde_json::json!(["root"]);
    j["credentials"]["entries"]
        .as_array_mut()
        .unwrap()
        .push(bad);
    fs::write(&vault, serde_json::to_string_pretty(&j).unwrap()).unwrap();
    let out = cmd(&["creds", "list", "--json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    check(&docs, &first_json(&out), &mut seen);
    let out = cmd(&["creds", "status", "--json"])
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    check(&docs, &first_json(&out), &mut seen);

    change_commands(&docs, &mut seen);
    extend_replace_rebuild(&docs, &mut seen);
    agent_documents(&docs, &mut seen);

    let all: BTreeSet<String> = docs.keys().cloned().collect();
    let checked: BTreeSet<String> = seen.keys().cloned().collect();
    assert_eq!(checked, all, "every documented JSON document is checked");
    for (format, printed) in &seen {
        let never: Vec<_> = docs[format]
            .iter()
            .filter(|(p, f)| !f.optional && !printed.contains(*p))
            .map(|(p, _)| p)
            .collect();
        assert!(never.is_empty(), "{format}: never printed: {never:?}");
    }
}

/// Run `cmd`, which must exit with `code`; check its document and return it.
fn run_json(
    docs: &BTreeMap<String, BTreeMap<String, Field>>,
    seen: &mut Seen,
    cmd: &mut assert_cmd::Command,
    code: i32,
) -> Value {
    let out = cmd.assert().code(code).get_output().stdout.clone();
    let text = String::from_utf8_lossy(&out);
    assert_eq!(text.lines().count(), 1, "one JSON line: {text}");
    let v = first_json(&out);
    check(docs, &v, seen);
    v
}

/// A failure of a command given `--json`: exit 1 and a `custody-error/1` document whose
/// error says `says`.
fn failure(
    docs: &BTreeMap<String, BTreeMap<String, Field>>,
    seen: &mut Seen,
    cmd: &mut assert_cmd::Command,
    says: &str,
) {
    let v = run_json(docs, seen, cmd, 1);
    assert_eq!(v["format"], "custody-error/1");
    let error = v["error"].as_str().unwrap();
    assert!(error.contains(says), "{says:?} not in {error:?}");
}

/// reshare, confirm, rotate-master, cancel, rotate-master again and confirm, on a vault with
/// one credential: each document, and a failure of each command.
fn change_commands(docs: &BTreeMap<String, BTreeMap<String, Field>>, seen: &mut Seen) {
    let (dir, vault) = common::vault_2_of_3();
    let path = |p: &str| dir.path().join(p);
    // An hour passes between commands (a credential is sealed before the master rotates).
    let now = std::cell::Cell::new(1_790_000_000u64);
    let cmd = |args: &[&str], shares: &[&str]| {
        now.set(now.get() + 3600);
        let mut c = common::custody();
        c.env("CUSTODY_FAKE_NOW", now.get().to_string());
        c.args(args).arg("--vault").arg(&vault);
        for s in shares {
            c.arg("--share").arg(path(s));
        }
        c
    };
    let new_policy = ["--threshold", "2", "--custodian", "dave", "erin", "frank"];
    let change = |kind: &str, out_dir: &str, shares: &[&str]| {
        let mut c = cmd(&[kind, "--json", "--sheets", "txt"], shares);
        c.arg("--out-dir").arg(path(out_dir)).args(new_policy);
        c
    };
    cmd(
        &[
            "creds",
            "add",
            "main",
            "--exchange",
            "kraken",
            "--scope",
            "trade",
        ],
        &[],
    )
    .args(["--from-json", "-"])
    .write_stdin(r#"{"api_key":"k","api_secret":"s"}"#)
    .assert()
    .success();

    let v = run_json(
        docs,
        seen,
        &mut change("reshare", "new", &["sh/01-alice.txt", "sh/02-bob.txt"]),
        0,
    );
    assert_eq!(
        (v["epoch"].as_u64(), v["new_epoch"].as_u64()),
        (Some(1), Some(2))
    );
    assert_eq!(v["pending"], true);
    assert_eq!(v["custodians"][1]["name"], "erin");
    assert!(
        v["custodians"][1]["files"][0]
            .as_str()
            .unwrap()
            .ends_with("02-erin.txt")
    );
    // One change at a time: refused before any share is read.
    failure(
        docs,
        seen,
        &mut change("reshare", "again", &["sh/01-alice.txt", "sh/02-bob.txt"]),
        "pending",
    );
    // confirm with the current set's shares, then with the new ones.
    failure(
        docs,
        seen,
        &mut cmd(
            &["confirm", "--json"],
            &["sh/01-alice.txt", "sh/02-bob.txt"],
        ),
        "CURRENT set",
    );
    let v = run_json(
        docs,
        seen,
        &mut cmd(
            &["confirm", "--json"],
            &["new/01-dave.txt", "new/03-frank.txt"],
        ),
        0,
    );
    assert_eq!(v["change"], "reshare");
    assert_eq!(v["epoch"], 2);
    assert_eq!(v["backup"], Value::Null);
    // Nothing pending now.
    failure(
        docs,
        seen,
        &mut cmd(
            &["cancel", "--json"],
            &["new/01-dave.txt", "new/03-frank.txt"],
        ),
        "change is pending",
    );
    failure(
        docs,
        seen,
        &mut change(
            "rotate-master",
            "rot",
            &["sh/01-alice.txt", "sh/02-bob.txt"],
        ),
        "stale",
    );
    let v = run_json(
        docs,
        seen,
        &mut change(
            "rotate-master",
            "rot",
            &["new/01-dave.txt", "new/02-erin.txt"],
        ),
        0,
    );
    assert_eq!(v["resealed"], 1);
    let v = run_json(
        docs,
        seen,
        &mut cmd(
            &["cancel", "--json"],
            &["rot/01-dave.txt", "rot/02-erin.txt"],
        ),
        0,
    );
    assert_eq!(v["change"], "rotate-master");
    assert_eq!(v["cancelled_by"], "new");
    assert_eq!(
        (v["epoch"].as_u64(), v["cancelled_epoch"].as_u64()),
        (Some(2), Some(3))
    );
    run_json(
        docs,
        seen,
        &mut change(
            "rotate-master",
            "rot2",
            &["new/01-dave.txt", "new/02-erin.txt"],
        ),
        0,
    );
    let v = run_json(
        docs,
        seen,
        &mut cmd(
            &["confirm", "--json"],
            &["rot2/02-erin.txt", "rot2/03-frank.txt"],
        ),
        0,
    );
    assert_eq!(
        v["rotate_at_exchange"],
        serde_json::json!([{ "name": "main", "exchange": "kraken" }])
    );
    assert!(v["backup"].as_str().unwrap().ends_with(".bak"));
}

/// extend, replace-custodian (then cancelled) and rebuild-vault from some of the shares, on a
/// vault with one credential: each document, and a failure of each command.
/// The agent's documents: status sealed, the unlock, status unlocked (with a credential not
/// opened, so that `not_opened[]` is printed), and an error.
fn agent_documents(docs: &BTreeMap<String, BTreeMap<String, Field>>, seen: &mut Seen) {
    use common::agent::{self, Agent};
    let f = agent::fixture();
    // okx-main edited by hand: granted but not opened.
    let mut j: Value = serde_json::from_str(&fs::read_to_string(&f.vault).unwrap()).unwrap();
    for e in j["credentials"]["entries"].as_array_mut().unwrap() {
        if e["name"] == "okx-main" {
            e["account"] = "edited".into();
        }
    }
    fs::write(&f.vault, serde_json::to_string_pretty(&j).unwrap()).unwrap();
    let a = Agent::start(&f, &["--idle-ttl", "1h"]);
    let json = |c: &mut assert_cmd::Command| first_json(&c.output().unwrap().stdout);
    let v = json(&mut a.cmd("status", &["--json"]));
    assert_eq!(v["state"], "sealed", "{v}");
    check(docs, &v, seen);
    let v = json(&mut a.unlock_cmd(&f, &["--json"]));
    assert_eq!(v["not_opened"][0]["name"], "okx-main", "{v}");
    check(docs, &v, seen);
    let v = json(&mut a.cmd("status", &["--json"]));
    assert_eq!(v["state"], "unlocked", "{v}");
    check(docs, &v, seen);
    // A refusal in --json mode is a custody-error/1 document.
    let v = json(a.cmd("unlock", &["--json", "--share"]).arg(f.share(3)));
    assert_eq!(v["format"], "custody-error/1", "{v}");
    check(docs, &v, seen);
}

fn extend_replace_rebuild(docs: &BTreeMap<String, BTreeMap<String, Field>>, seen: &mut Seen) {
    let (dir, vault) = common::vault_2_of_3();
    let path = |p: &str| dir.path().join(p);
    let now = std::cell::Cell::new(1_790_000_000u64);
    let cmd = |args: &[&str], vault: &Path, shares: &[&str]| {
        now.set(now.get() + 3600);
        let mut c = common::custody();
        c.env("CUSTODY_FAKE_NOW", now.get().to_string());
        c.args(args).arg("--vault").arg(vault);
        for s in shares {
            c.arg("--share").arg(path(s));
        }
        c
    };
    let quorum = ["sh/01-alice.txt", "sh/02-bob.txt"];
    cmd(
        &[
            "creds",
            "add",
            "main",
            "--exchange",
            "kraken",
            "--scope",
            "trade",
        ],
        &vault,
        &[],
    )
    .args(["--from-json", "-"])
    .write_stdin(r#"{"api_key":"k","api_secret":"s"}"#)
    .assert()
    .success();

    let extend = |vault: &Path| {
        let mut c = cmd(&["extend", "--json", "--custodian", "dave"], vault, &quorum);
        c.arg("--out-dir")
            .arg(path("ext"))
            .args(["--sheets", "txt"]);
        c
    };
    failure(
        docs,
        seen,
        &mut extend(&path("missing.vault")),
        "missing.vault",
    );
    let v = run_json(docs, seen, &mut extend(&vault), 0);
    assert_eq!(v["custodians"][0]["name"], "dave");
    assert_eq!(v["group"], "custodians");
    assert_eq!(v["epoch"], 1);

    let replace = |remove: &str| {
        let mut c = cmd(
            &["replace-custodian", "--json", "--remove", remove],
            &vault,
            &quorum,
        );
        c.args(["--reason", "sheet lost", "--sheets", "txt", "--out-dir"])
            .arg(path("rep"));
        c
    };
    failure(docs, seen, &mut replace("zed"), "zed");
    let v = run_json(docs, seen, &mut replace("carol"), 0);
    assert_eq!(v["removed"], "carol");
    assert_eq!(v["added"], Value::Null);
    assert_eq!(v["pending"], true);
    assert_eq!(
        v["rotate_at_exchange"],
        serde_json::json!([{ "name": "main", "exchange": "kraken" }])
    );
    cmd(&["cancel"], &vault, &quorum).assert().success();

    // The vault "lost": rebuilt from alice's and dave's shares, without --members.
    let rebuild = |out: &Path| {
        let mut c = common::custody();
        c.args(["rebuild-vault", "--json", "--out"]).arg(out);
        for s in ["sh/01-alice.txt", "ext/04-dave.txt"] {
            c.arg("--share").arg(path(s));
        }
        c
    };
    failure(docs, seen, &mut rebuild(&vault), "exists");
    let v = run_json(docs, seen, &mut rebuild(&path("rebuilt.vault")), 0);
    assert_eq!(v["epoch"], 1);
    assert_eq!(v["shares"], 2);
    assert_eq!(
        v["assumed"],
        serde_json::json!([{ "group": "custodians", "custodians": 4 }])
    );
    assert_eq!(v["unknown"].as_array().unwrap().len(), 2);
}
