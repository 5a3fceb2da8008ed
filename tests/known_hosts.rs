//! `custody host-key new|show` and `custody hosts add|remove|list` end to end on real files: a
//! host key file is written 0600 and never overwritten, one others may read is refused, a host
//! added without a quorum is not trusted until `drill --ratify` signs it (the drill lists it
//! with its fingerprint), a removal stops trust at once and is ratified the same way, a host
//! edited into the vault file by hand is reported as tampered and trusted nowhere, bad keys
//! and names are refused naming the input, and every change is in the audit log.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;
use predicates::str::contains;
use serde_json::Value;

use custody::host_key;
use custody::keys::fingerprint;
use custody::vault::hosts::{HostState, PendingHost};
use custody::vault::store;

mod common;

const T0: u64 = 1_790_000_000;

struct V {
    dir: tempfile::TempDir,
    vault: PathBuf,
}

fn vault() -> V {
    let (dir, vault) = common::vault_2_of_3();
    V { dir, vault }
}

impl V {
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = common::custody();
        c.env("CUSTODY_FAKE_NOW", T0.to_string()).args(args);
        c
    }

    fn hosts(&self, args: &[&str]) -> Command {
        let mut c = self.cmd(&["hosts"]);
        c.args(args).arg("--vault").arg(&self.vault);
        c
    }

    fn new_key(&self, name: &str) -> (PathBuf, String) {
        let file = self.path(name);
        let out = self
            .cmd(&["host-key", "new", "-o"])
            .arg(&file)
            .assert()
            .success()
            .get_output()
            .stdout
            .clone();
        let out = String::from_utf8(out).unwrap();
        let public = out
            .lines()
            .find(|l| l.starts_with("custody-host:"))
            .unwrap()
            .to_owned();
        (file, public)
    }

    fn drill_ratify(&self) -> Command {
        let sh = self.path("sh");
        let mut c = self.cmd(&["drill", "--ratify", "--vault"]);
        c.arg(&self.vault)
            .arg("--share")
            .arg(sh.join("01-alice.txt"))
            .arg("--share")
            .arg(sh.join("03-carol.txt"));
        c
    }

    fn list_json(&self) -> Value {
        let out = self
            .hosts(&["list", "--json"])
            .assert()
            .get_output()
            .stdout
            .clone();
        serde_json::from_str(String::from_utf8(out).unwrap().lines().next().unwrap()).unwrap()
    }

    fn trusted(&self, key_file: &Path) -> Option<String> {
        let key = host_key::load(key_file).unwrap().verifying_key();
        store::load(&self.vault).unwrap().ratified_host(&key)
    }
}

#[test]
fn a_host_key_file_is_private_never_overwritten_and_shows_its_public_form() {
    let v = vault();
    let (file, public) = v.new_key("host.key");
    assert_eq!(
        fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let key = host_key::load(&file).unwrap().verifying_key();
    assert_eq!(public, host_key::public_text(&key));
    let text = fs::read_to_string(&file).unwrap();
    assert!(text.contains(&fingerprint(&key)), "{text}");
    v.cmd(&["host-key", "show"])
        .arg(&file)
        .assert()
        .success()
        .stdout(format!("{public}\n# fingerprint {}\n", fingerprint(&key)));

    let before = fs::read(&file).unwrap();
    v.cmd(&["host-key", "new", "-o"])
        .arg(&file)
        .assert()
        .failure()
        .stderr(contains("already exists"))
        .stderr(contains("never overwrites a host key"));
    assert_eq!(fs::read(&file).unwrap(), before);

    fs::set_permissions(&file, fs::Permissions::from_mode(0o644)).unwrap();
    v.cmd(&["host-key", "show"])
        .arg(&file)
        .assert()
        .failure()
        .stderr(contains("host.key has mode 0644"))
        .stderr(contains("chmod 600"))
        .stdout(predicate::str::is_empty());
}

#[test]
fn a_host_is_trusted_only_once_a_quorum_ratifies_it_and_untrusted_at_once_when_removed() {
    let v = vault();
    let (file, public) = v.new_key("ops.key");
    v.hosts(&["list"])
        .assert()
        .success()
        .stdout(contains("knows no host"));

    v.hosts(&["add", "ops-laptop", &public])
        .assert()
        .success()
        .stdout(contains("Proposed host ops-laptop <"))
        .stdout(contains("not trusted until a quorum ratifies it"));
    let j = v.list_json();
    assert_eq!(j["format"], "custody-known-hosts/1");
    assert_eq!(j["ok"], true);
    assert_eq!(j["hosts"][0]["name"], "ops-laptop");
    assert_eq!(j["hosts"][0]["key"], public.as_str());
    assert_eq!(j["hosts"][0]["state"], "add-pending");
    assert_eq!(j["hosts"][0]["trusted"], false);
    assert_eq!(v.trusted(&file), None);
    let vault_now = store::load(&v.vault).unwrap();
    let listed = vault_now.known_hosts();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].state, HostState::Pending(PendingHost::Add));

    // Adding the same host again changes nothing; another name for the key is refused.
    v.hosts(&["add", "ops-laptop", &public])
        .assert()
        .success()
        .stdout(contains("Unchanged"));
    v.hosts(&["add", "other-name", &public])
        .assert()
        .failure()
        .stderr(contains("already known as host `ops-laptop"));

    // The drill lists it with its fingerprint, then signs it.
    let key = host_key::load(&file).unwrap().verifying_key();
    v.drill_ratify()
        .assert()
        .success()
        .stderr(contains(format!(
            "known hosts: host added: ops-laptop <{}>",
            fingerprint(&key)
        )))
        .stdout(contains(
            "Known hosts: 1 change(s) ratified; 1 host(s) trusted.",
        ));
    assert_eq!(v.trusted(&file).as_deref(), Some("ops-laptop"));
    let j = v.list_json();
    assert_eq!(j["hosts"][0]["state"], "ratified");
    assert_eq!(j["hosts"][0]["trusted"], true);
    // A second ratification has nothing new to sign for the hosts.
    v.drill_ratify()
        .assert()
        .success()
        .stdout(contains("Known hosts:").not());

    // A second host, from a saved `host-key show`, pending beside the ratified one.
    let (file2, _) = v.new_key("agent.key");
    let shown = v.path("agent.host");
    let out = v
        .cmd(&["host-key", "show"])
        .arg(&file2)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    fs::write(&shown, out).unwrap();
    v.hosts(&["add", "agent-box"])
        .arg(&shown)
        .assert()
        .success();
    assert_eq!(v.trusted(&file2), None);
    assert_eq!(v.trusted(&file).as_deref(), Some("ops-laptop"));

    // Removal: no longer trusted at once, listed as removal-pending until ratified.
    v.hosts(&["remove", "ops-laptop"])
        .assert()
        .success()
        .stdout(contains("Removed host ops-laptop"))
        .stdout(contains("no longer trusted"));
    assert_eq!(v.trusted(&file), None);
    let j = v.list_json();
    let states: Vec<(&str, &str)> = j["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| (h["name"].as_str().unwrap(), h["state"].as_str().unwrap()))
        .collect();
    assert_eq!(
        states,
        [
            ("agent-box", "add-pending"),
            ("ops-laptop", "removal-pending")
        ]
    );
    v.drill_ratify()
        .assert()
        .success()
        .stderr(contains(
            "known hosts: host removed (no longer trusted): ops-laptop <",
        ))
        .stderr(contains("known hosts: host added: agent-box <"))
        .stdout(contains(
            "Known hosts: 2 change(s) ratified; 1 host(s) trusted.",
        ));
    assert_eq!(v.trusted(&file), None);
    assert_eq!(v.trusted(&file2).as_deref(), Some("agent-box"));
    let j = v.list_json();
    assert_eq!(j["hosts"].as_array().unwrap().len(), 1);

    // A host added then removed before any quorum is withdrawn; unknown names are refused.
    v.hosts(&["add", "spare", &public]).assert().success();
    v.hosts(&["remove", "spare"])
        .assert()
        .success()
        .stdout(contains("Withdrew the pending host spare"));
    v.hosts(&["remove", "nobody"])
        .assert()
        .failure()
        .stderr(contains("no known host is called `nobody`"))
        .stderr(contains("agent-box"));

    let log = fs::read_to_string(format!("{}.audit", v.vault.display())).unwrap();
    assert_eq!(log.matches("\"event\":\"known-host\"").count(), 5, "{log}");
    assert!(log.contains("\"action\":\"hosts remove\""), "{log}");
    v.cmd(&["audit", "verify", "--vault"])
        .arg(&v.vault)
        .assert()
        .success();
}

#[test]
fn a_host_edited_into_the_vault_by_hand_is_tampered_and_trusted_nowhere() {
    let v = vault();
    let (file, public) = v.new_key("ops.key");
    let (intruder_file, intruder) = v.new_key("intruder.key");
    let text = fs::read_to_string(&v.vault).unwrap();
    let mut j: Value = serde_json::from_str(&text).unwrap();
    j["known_hosts"] = serde_json::json!({
        "ratified": [{"name": "evil", "key": intruder, "added_at": "2026-09-21T12:00:00Z"}],
        "proposed": null,
    });
    fs::write(&v.vault, serde_json::to_string_pretty(&j).unwrap()).unwrap();
    assert_eq!(v.trusted(&intruder_file), None);
    let j = v.list_json();
    assert_eq!(j["ok"], false);
    assert_eq!(j["hosts"][0]["state"], "tampered");
    assert_eq!(j["hosts"][0]["trusted"], false);
    v.hosts(&["list"])
        .assert()
        .failure()
        .stdout(contains("evil <"))
        .stdout(contains("TAMPERED"))
        .stderr(contains("changed outside custody"))
        .stderr(contains("VAULT.bak"));
    // Nothing builds on the edit, and no quorum signs over it.
    v.hosts(&["add", "ops-laptop", &public])
        .assert()
        .failure()
        .stderr(contains("changed outside custody"));
    v.drill_ratify()
        .assert()
        .failure()
        .stderr(contains("the known hosts were changed outside custody"));
    v.cmd(&["creds", "status", "--vault"])
        .arg(&v.vault)
        .assert()
        .stdout(contains("known hosts were changed outside custody"));

    // Put back, ratify a real host, then swap a key in the ratified set by hand.
    fs::write(&v.vault, &text).unwrap();
    v.hosts(&["add", "ops-laptop", &public]).assert().success();
    v.drill_ratify().assert().success();
    assert_eq!(v.trusted(&file).as_deref(), Some("ops-laptop"));
    let mut j: Value = serde_json::from_str(&fs::read_to_string(&v.vault).unwrap()).unwrap();
    j["known_hosts"]["ratified"][0]["key"] = intruder.as_str().into();
    fs::write(&v.vault, serde_json::to_string_pretty(&j).unwrap()).unwrap();
    assert_eq!(v.trusted(&intruder_file), None);
    assert_eq!(v.trusted(&file), None);
    assert_eq!(v.list_json()["hosts"][0]["state"], "tampered");
}

#[test]
fn bad_keys_and_names_are_refused_naming_the_input() {
    let v = vault();
    let (secret_file, public) = v.new_key("ops.key");
    let cases: Vec<(String, &str)> = vec![
        (
            "custody-host:AAAA".into(),
            "the host key given is not a host public key: it holds 3 bytes",
        ),
        (
            "custody-host:***".into(),
            "the host key given is not a host public key: what follows `custody-host:` is not base64url",
        ),
        (
            secret_file.display().to_string(),
            "is not a host public key: it is a host's SECRET key",
        ),
        (
            v.path("missing.host").display().to_string(),
            "missing.host could not be read",
        ),
    ];
    for (key, wanted) in cases {
        v.hosts(&["add", "ops-laptop", &key])
            .assert()
            .failure()
            .stderr(contains(wanted));
    }
    let secret = fs::read_to_string(&secret_file).unwrap();
    let secret_line = secret
        .lines()
        .find(|l| l.starts_with("custody-host-key:"))
        .unwrap();
    v.hosts(&["add", "ops-laptop", secret_line])
        .assert()
        .failure()
        .stderr(contains("SECRET key"))
        .stderr(contains(secret_line).not());
    v.hosts(&["add", "bad/name", &public])
        .assert()
        .failure()
        .stderr(contains("the host name `bad/name` cannot be used"));
    v.hosts(&["add", " ", &public]).assert().failure();
    assert!(v.list_json()["hosts"].as_array().unwrap().is_empty());
}
