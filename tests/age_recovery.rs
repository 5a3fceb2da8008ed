//! Recovery without custody: the master secret of a quorum, the Python key derivation printed
//! in shares-format.md (run as written), and Debian's standard `age` tool decrypting a
//! credential straight out of the vault file. Needs `python3` and `age`; with `CI` set they
//! must be installed, otherwise the test is skipped with a note.

use std::fs;
use std::process::Command;

use custody::keys::hex;

mod common;
use common::{have, init_args};

/// The first ```python block of the "Recovery without custody" section.
fn derive_script() -> String {
    python_block(0)
}

/// The `n`th (0-based) ```python block of the "Recovery without custody" section, unindented.
fn python_block(n: usize) -> String {
    let doc = fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/shares-format.md")).unwrap();
    let section = &doc[doc.find("### Recovery without custody").unwrap()..];
    let section = &section[..section.find("\n## ").unwrap()];
    let mut from = 0;
    for _ in 0..n {
        from += section[from..].find("```python").unwrap() + "```python".len();
    }
    let start = from
        + section[from..]
            .find("```python")
            .unwrap_or_else(|| panic!("python block {n} of the recovery section is missing"))
        + "```python".len();
    let end = start + section[start..].find("```").unwrap();
    section[start..end]
        .lines()
        .map(|l| l.strip_prefix("   ").unwrap_or(l))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn standard_age_decrypts_a_credential_with_the_documented_identity() {
    if !have("python3", "the age recovery test") || !have("age", "the age recovery test") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let vault = root.join("v.json");
    let bin = assert_cmd::cargo::cargo_bin("custody");
    let run = |args: &[&str], stdin: Option<&str>| {
        let mut c = assert_cmd::Command::new(&bin);
        c.args(args).arg("--vault").arg(&vault);
        if let Some(s) = stdin {
            c.write_stdin(s.to_owned());
        }
        c.assert().success();
    };
    let mut init = assert_cmd::Command::new(&bin);
    init_args(&mut init, &vault, &root.join("sh"), "2", "txt")
        .args(["--custodian", "alice", "bob", "carol"])
        .assert()
        .success();
    run(
        &[
            "creds",
            "add",
            "okx-main",
            "--exchange",
            "okx",
            "--account",
            "sub-3",
            "--scope",
            "read,trade",
            "--from-json",
            "-",
        ],
        Some(r#"{"api_key":"K-recover-1","api_secret":"S-recover-2","passphrase":"P-recover-3"}"#),
    );

    // 1. The master secret from a quorum (any SLIP-39 implementation gives the same bytes).
    let v = custody::vault::store::load(&vault).unwrap();
    let shares: Vec<_> = ["01-alice.txt", "03-carol.txt"]
        .iter()
        .map(|f| custody::input::read_file(&root.join("sh").join(f)).unwrap())
        .collect();
    let unlocked = custody::quorum::unlock(&shares, Some(&v), None).unwrap();
    let master_hex = hex(unlocked.master.expose());

    // 2. The documented derivation, run as printed.
    fs::write(root.join("derive.py"), derive_script()).unwrap();
    let out = Command::new("python3")
        .arg(root.join("derive.py"))
        .arg(&master_hex)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let identity = text
        .lines()
        .find(|l| l.starts_with("AGE-SECRET-KEY-1"))
        .unwrap();
    let id_path = root.join("identity.txt");
    fs::write(&id_path, format!("{identity}\n")).unwrap();
    let recipient = Command::new("age-keygen")
        .arg("-y")
        .arg(&id_path)
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned());
    if let Ok(r) = recipient
        && !r.is_empty()
    {
        assert_eq!(r, v.public().age_recipient);
    }

    // 3. The entry's `sealed` field is a standard armored age file.
    let j: serde_json::Value = serde_json::from_str(&fs::read_to_string(&vault).unwrap()).unwrap();
    let sealed = j["credentials"]["entries"][0]["sealed"].as_str().unwrap();
    fs::write(root.join("okx-main.age"), sealed).unwrap();
    let out = Command::new("age")
        .arg("-d")
        .arg("-i")
        .arg(&id_path)
        .arg(root.join("okx-main.age"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let plain: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(plain["custody_credential"], 1);
    assert_eq!(plain["vault_id"], v.vault_id_hex());
    assert_eq!(plain["name"], "okx-main");
    assert_eq!(plain["exchange"], "okx");
    assert_eq!(plain["account"], "sub-3");
    assert_eq!(plain["scope"], serde_json::json!(["read", "trade"]));
    assert_eq!(plain["fields"]["api_key"], "K-recover-1");
    assert_eq!(plain["fields"]["api_secret"], "S-recover-2");
    assert_eq!(plain["fields"]["passphrase"], "P-recover-3");
}

/// Whether python3 can import `module`; under CI it must.
fn python_has(module: &str) -> bool {
    let ok = Command::new("python3")
        .args(["-c", &format!("import {module}")])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var_os("CI").is_none(),
            "python3 -m {module} is required when CI is set"
        );
        eprintln!("note: python module {module} missing; skipping the fingerprint recipe test");
    }
    ok
}

/// Step 5's recipe (the second python block, run as printed, with the seed the first block
/// printed) gives the vault's public key and spoken fingerprint.
#[test]
fn the_documented_fingerprint_recipe_gives_the_vault_fingerprint() {
    if !have("python3", "the fingerprint recipe test") || !python_has("cryptography") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let vault = root.join("v.json");
    let mut init = assert_cmd::Command::new(assert_cmd::cargo::cargo_bin("custody"));
    init_args(&mut init, &vault, &root.join("sh"), "2", "txt")
        .args(["--custodian", "alice", "bob", "carol"])
        .assert()
        .success();
    let v = custody::vault::store::load(&vault).unwrap();
    let shares: Vec<_> = ["02-bob.txt", "03-carol.txt"]
        .iter()
        .map(|f| custody::input::read_file(&root.join("sh").join(f)).unwrap())
        .collect();
    let unlocked = custody::quorum::unlock(&shares, Some(&v), None).unwrap();
    let master_hex = hex(unlocked.master.expose());

    let run = |script: String, arg: &str| {
        let file = root.join("script.py");
        fs::write(&file, script).unwrap();
        let out = Command::new("python3")
            .arg(&file)
            .arg(arg)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let derived = run(derive_script(), &master_hex);
    let seed = derived
        .lines()
        .find_map(|l| l.strip_prefix("ed25519 seed: "))
        .unwrap()
        .to_owned();
    let printed = run(python_block(1), &seed);
    let j: serde_json::Value = serde_json::from_str(&fs::read_to_string(&vault).unwrap()).unwrap();
    assert_eq!(
        printed,
        format!(
            "ed25519_public_key: {}\nfingerprint: {}\n",
            j["ed25519_public_key"].as_str().unwrap(),
            v.fingerprint()
        )
    );
}
