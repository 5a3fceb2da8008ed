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

fn check(docs: &BTreeMap<String, BTreeMap<String, Field>>, v: &Value, seen: &mut BTreeSet<String>) {
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
    let missing: Vec<_> = fields
        .iter()
        .filter(|(p, f)| !f.optional && !emitted.contains(*p))
        .map(|(p, _)| p)
        .collect();
    assert!(
        missing.is_empty(),
        "{format}: documented but not printed: {missing:?}"
    );
    seen.insert(format.to_owned());
}

#[test]
fn every_json_document_prints_exactly_its_documented_fields() {
    let docs = documented();
    let mut seen = BTreeSet::new();
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

    let all: BTreeSet<String> = docs.keys().cloned().collect();
    assert_eq!(seen, all, "every documented JSON document is checked");
}
