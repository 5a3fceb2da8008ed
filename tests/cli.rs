//! The command line end to end on real files: init, check-share, drill (text and JSON), and
//! every rejection an officer can run into, each checked for its exit code and its message.

use std::fs;
use std::path::PathBuf;

use assert_cmd::Command;
use predicates::prelude::*;
use predicates::str::contains;

mod common;
use common::{custody, field, init_args};

struct Setup {
    _dir: tempfile::TempDir,
    root: PathBuf,
    vault: PathBuf,
    shares: PathBuf,
}

impl Setup {
    fn share(&self, n: usize, name: &str) -> PathBuf {
        self.shares.join(format!("{n:02}-{name}.txt"))
    }
}

/// `custody init` 3-of-5 (alice..erin) with iteration exponent 0 to keep tests quick.
fn init_3_of_5(extra: &[&str], stdin: Option<&str>) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    let vault = root.join("vault.json");
    let shares = root.join("shares");
    let mut cmd = custody();
    init_args(&mut cmd, &vault, &shares, "3", "txt")
        .args(["--custodian", "alice", "bob", "carol", "dave", "erin"])
        .args(extra);
    if let Some(s) = stdin {
        cmd.write_stdin(s);
    }
    cmd.assert()
        .success()
        .stdout(contains("fingerprint"))
        .stdout(contains("01-alice.txt"));
    Setup {
        _dir: dir,
        root,
        vault,
        shares,
    }
}

fn drill(s: &Setup, names: &[(usize, &str)]) -> Command {
    let mut c = custody();
    c.arg("drill").arg("--vault").arg(&s.vault);
    for (n, name) in names {
        c.arg("--share").arg(s.share(*n, name));
    }
    c
}

#[test]
fn init_writes_vault_and_share_files() {
    let s = init_3_of_5(&[], None);
    let vault: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&s.vault).unwrap()).unwrap();
    assert_eq!(vault["format"], "custody-vault/1");
    assert_eq!(vault["epoch"], 1);
    assert_eq!(vault["slip39"]["extendable"], true);
    assert_eq!(vault["slip39"]["iteration_exponent"], 0);
    assert_eq!(vault["policy"]["groups"][0]["member_threshold"], 3);
    let fp = vault["fingerprint"].as_str().unwrap().to_owned();
    assert_eq!(fp.len(), 19);
    for (n, name) in [
        (1, "alice"),
        (2, "bob"),
        (3, "carol"),
        (4, "dave"),
        (5, "erin"),
    ] {
        let p = s.share(n, name);
        assert_eq!(field(&p, "custodian"), name);
        assert_eq!(field(&p, "group"), "custodians");
        assert_eq!(field(&p, "index"), n.to_string());
        assert_eq!(field(&p, "threshold"), "3");
        assert_eq!(field(&p, "fingerprint"), fp);
        assert!(field(&p, "token").starts_with("custody-share:"));
        assert_eq!(field(&p, "words").split(' ').count(), 33);
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    assert_eq!(fs::read_dir(&s.shares).unwrap().count(), 5);
}

#[test]
fn init_writes_text_and_pdf_by_default() {
    let dir = tempfile::tempdir().unwrap();
    custody()
        .arg("init")
        .arg("--vault")
        .arg(dir.path().join("v.json"))
        .arg("--out-dir")
        .arg(dir.path().join("s"))
        .args([
            "--threshold",
            "2",
            "--iteration-exponent",
            "0",
            "--custodian",
            "a",
            "b",
        ])
        .assert()
        .success();
    let mut names: Vec<String> = fs::read_dir(dir.path().join("s"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["01-a.pdf", "01-a.txt", "02-b.pdf", "02-b.txt"]);
}

#[test]
fn init_refuses_to_overwrite() {
    let s = init_3_of_5(&[], None);
    let before = fs::read(&s.vault).unwrap();
    custody()
        .arg("init")
        .arg("--vault")
        .arg(&s.vault)
        .arg("--out-dir")
        .arg(s.root.join("other"))
        .args(["--threshold", "2", "--custodian", "x", "y"])
        .assert()
        .code(1)
        .stderr(contains("already exists"));
    assert_eq!(fs::read(&s.vault).unwrap(), before);
    // Existing share files block too, and nothing is written.
    let v2 = s.root.join("v2.json");
    custody()
        .arg("init")
        .arg("--vault")
        .arg(&v2)
        .arg("--out-dir")
        .arg(&s.shares)
        .args(["--threshold", "3", "--custodian", "alice", "bob", "carol"])
        .assert()
        .code(1)
        .stderr(contains("01-alice.txt already exists"));
    assert!(!v2.exists());
}

#[test]
fn init_rejects_bad_policies() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        custody()
            .arg("init")
            .arg("--vault")
            .arg(dir.path().join("v.json"))
            .arg("--out-dir")
            .arg(dir.path().join("s"))
            .args(args)
            .assert()
    };
    run(&["--threshold", "4", "--custodian", "a", "b", "c"])
        .code(1)
        .stderr(contains("needs 4 of its 3 custodians"));
    run(&["--custodian", "a", "b"])
        .code(2)
        .stderr(contains("--threshold"));
    run(&[
        "--group",
        "Ops:2",
        "--group",
        "Board:1",
        "--custodian",
        "Ops/a",
        "Ops/b",
        "Board/c",
    ])
    .code(1)
    .stderr(contains("--group-threshold"));
    run(&["--threshold", "2", "--custodian", "a", "A"])
        .code(1)
        .stderr(contains("used twice"));
    assert!(!dir.path().join("v.json").exists());
    assert!(!dir.path().join("s").exists());
}

#[test]
fn check_share_accepts_all_and_names_each() {
    let s = init_3_of_5(&[], None);
    custody()
        .arg("check-share")
        .arg("--vault")
        .arg(&s.vault)
        .arg(s.share(1, "alice"))
        .arg(s.share(5, "erin"))
        .assert()
        .success()
        .stdout(contains("alice — share 1 of group custodians (any 3 of 5"))
        .stdout(contains("erin — share 5"))
        .stdout(contains("token signature valid"));
}

#[test]
fn check_share_vault_from_environment() {
    let s = init_3_of_5(&[], None);
    custody()
        .env("CUSTODY_VAULT", &s.vault)
        .arg("check-share")
        .arg(s.share(2, "bob"))
        .assert()
        .success()
        .stdout(contains("bob"));
}

#[test]
fn check_share_rejects_tampered_and_foreign_shares() {
    let s = init_3_of_5(&[], None);
    let other = init_3_of_5(&[], None);
    // A token with one character changed.
    let token = field(&s.share(1, "alice"), "token");
    let mut bytes = token.into_bytes();
    let i = bytes.len() - 30;
    bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
    let tampered = s.root.join("tampered.txt");
    fs::write(&tampered, &bytes).unwrap();
    // Words with one word replaced.
    let words = field(&s.share(2, "bob"), "words");
    let mut w: Vec<&str> = words.split(' ').collect();
    w[5] = if w[5] == "academic" {
        "acid"
    } else {
        "academic"
    };
    let bad_words = s.root.join("bad-words.txt");
    fs::write(&bad_words, w.join(" ")).unwrap();
    custody()
        .arg("check-share")
        .arg("--vault")
        .arg(&s.vault)
        .arg(&tampered)
        .arg(&bad_words)
        .arg(other.share(3, "carol"))
        .arg(s.share(4, "dave"))
        .assert()
        .code(1)
        .stdout(contains("FAIL  share ").and(contains("tampered.txt")))
        .stdout(contains("bad-words.txt").and(contains("checksum")))
        .stdout(contains("belongs to another vault"))
        .stdout(contains("OK    ").and(contains("dave")))
        .stderr(contains("3 of 4 share(s) failed"));
}

#[test]
fn drill_with_three_succeeds_text_and_json() {
    let s = init_3_of_5(&[], None);
    let fp = field(&s.share(1, "alice"), "fingerprint");
    drill(&s, &[(1, "alice"), (3, "carol"), (5, "erin")])
        .assert()
        .success()
        .stdout(contains("Drill passed"))
        .stdout(contains(&fp))
        .stdout(contains("carol (group custodians, share 3)"));
    let out = drill(&s, &[(2, "bob"), (4, "dave"), (5, "erin")])
        .arg("--json")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["ok"], true);
    assert_eq!(v["fingerprint"], fp.as_str());
    let vault: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&s.vault).unwrap()).unwrap();
    assert_eq!(v["ed25519_public_key"], vault["ed25519_public_key"]);
    assert_eq!(v["age_recipient"], vault["age_recipient"]);
    let names: Vec<&str> = v["custodians"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["bob", "dave", "erin"]);
    assert_eq!(v["core_dumps_disabled"], true);
}

#[test]
fn drill_with_all_five_checks_the_extras() {
    let s = init_3_of_5(&[], None);
    drill(
        &s,
        &[
            (1, "alice"),
            (2, "bob"),
            (3, "carol"),
            (4, "dave"),
            (5, "erin"),
        ],
    )
    .assert()
    .success();
}

#[test]
fn drill_too_few_names_the_group() {
    let s = init_3_of_5(&[], None);
    drill(&s, &[(2, "bob"), (4, "dave")])
        .assert()
        .code(1)
        .stderr(contains("have 2 of 3 for group custodians"));
    drill(&s, &[(2, "bob"), (4, "dave")])
        .arg("--json")
        .assert()
        .code(1)
        .stdout(contains("\"ok\":false"));
}

#[test]
fn drill_duplicate_share_is_refused() {
    let s = init_3_of_5(&[], None);
    drill(&s, &[(1, "alice"), (2, "bob"), (2, "bob")])
        .assert()
        .code(1)
        .stderr(contains("presented twice"))
        .stderr(contains("02-bob.txt"));
    // The same share as a file and as bare words is still the same share.
    let words = s.root.join("bob-words.txt");
    fs::write(&words, field(&s.share(2, "bob"), "words")).unwrap();
    drill(&s, &[(1, "alice"), (2, "bob")])
        .arg("--share")
        .arg(&words)
        .assert()
        .code(1)
        .stderr(contains("presented twice"))
        .stderr(contains("bob-words.txt"));
}

#[test]
fn drill_mixed_vaults_are_refused() {
    let s = init_3_of_5(&[], None);
    let other = init_3_of_5(&[], None);
    drill(&s, &[(1, "alice"), (2, "bob")])
        .arg("--share")
        .arg(other.share(3, "carol"))
        .assert()
        .code(1)
        .stderr(contains("another vault"))
        .stderr(contains("03-carol.txt"));
    // Without a vault, tokens from two vaults are named as a mixed set.
    custody()
        .arg("drill")
        .arg("--share")
        .arg(s.share(1, "alice"))
        .arg("--share")
        .arg(s.share(2, "bob"))
        .arg("--share")
        .arg(other.share(3, "carol"))
        .assert()
        .code(1)
        .stderr(contains("different share sets"));
}

#[test]
fn drill_from_words_only_and_tokens_only() {
    let s = init_3_of_5(&[], None);
    let a = s.root.join("a.words");
    let b = s.root.join("b.token");
    fs::write(&a, field(&s.share(1, "alice"), "words")).unwrap();
    fs::write(&b, field(&s.share(2, "bob"), "token")).unwrap();
    drill(&s, &[(3, "carol")])
        .arg("--share")
        .arg(&a)
        .arg("--share")
        .arg(&b)
        .assert()
        .success()
        .stdout(contains("[words]"))
        .stdout(contains("[token, signature verified]"));
    // Words on standard input, one share per line.
    let stdin = format!(
        "{}\n{}\n{}\n",
        field(&s.share(1, "alice"), "words"),
        field(&s.share(4, "dave"), "token"),
        field(&s.share(5, "erin"), "words")
    );
    custody()
        .arg("drill")
        .arg("--vault")
        .arg(&s.vault)
        .arg("--words-stdin")
        .write_stdin(stdin)
        .assert()
        .success()
        .stdout(contains("stdin line 3"));
}

#[test]
fn drill_without_vault_reports_derived_key() {
    let s = init_3_of_5(&[], None);
    let vault: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&s.vault).unwrap()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = custody();
    cmd.arg("drill").arg("--json");
    for (i, (n, name)) in [(1, "alice"), (2, "bob"), (3, "carol")].iter().enumerate() {
        let p = dir.path().join(format!("{i}.txt"));
        fs::write(&p, field(&s.share(*n, name), "words")).unwrap();
        cmd.arg("--share").arg(p);
    }
    let out = cmd.assert().success().get_output().stdout.clone();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["fingerprint"], vault["fingerprint"]);
    assert_eq!(v["ed25519_public_key"], vault["ed25519_public_key"]);
}

#[test]
fn passphrase_is_required_and_checked() {
    let s = init_3_of_5(&["--passphrase-stdin"], Some("correct horse\n"));
    let vault: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&s.vault).unwrap()).unwrap();
    assert_eq!(vault["slip39"]["passphrase"], true);
    let q = [(1, "alice"), (2, "bob"), (3, "carol")];
    drill(&s, &q)
        .assert()
        .code(1)
        .stderr(contains("protected by a SLIP-39 passphrase"));
    drill(&s, &q)
        .arg("--passphrase-stdin")
        .write_stdin("wrong horse\n")
        .assert()
        .code(1)
        .stderr(contains("passphrase is probably wrong"));
    drill(&s, &q)
        .arg("--passphrase-stdin")
        .write_stdin("correct horse\n")
        .assert()
        .success();
}

#[test]
fn groups_need_their_thresholds() {
    let dir = tempfile::tempdir().unwrap();
    let vault = dir.path().join("v.json");
    let shares = dir.path().join("s");
    custody()
        .arg("init")
        .arg("--vault")
        .arg(&vault)
        .arg("--out-dir")
        .arg(&shares)
        .args([
            "--group",
            "Ops:2",
            "--group",
            "Board:2",
            "--group-threshold",
            "2",
        ])
        .args([
            "--iteration-exponent",
            "0",
            "--custodian",
            "Ops/alice",
            "Ops/bob",
            "Ops/carol",
        ])
        .args(["--custodian", "Board/dave", "Board/erin"])
        .assert()
        .success()
        .stdout(contains("Needed: 2 of the 2 groups"));
    let run = |files: &[&str]| {
        let mut c = custody();
        c.arg("drill").arg("--vault").arg(&vault);
        for f in files {
            c.arg("--share").arg(shares.join(f));
        }
        c.assert()
    };
    run(&["01-alice.txt", "02-bob.txt", "04-dave.txt"])
        .code(1)
        .stderr(contains("group Ops: complete"))
        .stderr(contains("have 1 of 2 for group Board"))
        .stderr(contains("1 of the 2 groups are complete; 2 are needed"));
    run(&["01-alice.txt", "03-carol.txt", "04-dave.txt", "05-erin.txt"])
        .success()
        .stdout(contains("dave (group Board, share 1)"));
}

#[test]
fn edited_vault_is_detected() {
    let s = init_3_of_5(&[], None);
    let text = fs::read_to_string(&s.vault).unwrap();
    fs::write(
        &s.vault,
        text.replace("\"member_threshold\": 3", "\"member_threshold\": 2"),
    )
    .unwrap();
    drill(&s, &[(1, "alice"), (2, "bob")])
        .assert()
        .code(1)
        .stderr(contains("signature does not verify"));
    fs::write(&s.vault, "{\"format\": \"custody-vault/9\"}").unwrap();
    custody()
        .arg("check-share")
        .arg("--vault")
        .arg(&s.vault)
        .arg(s.share(1, "alice"))
        .assert()
        .code(1)
        .stderr(contains("custody-vault/9"));
}

#[test]
fn share_file_edits_are_detected() {
    let s = init_3_of_5(&[], None);
    let p = s.share(1, "alice");
    let text = fs::read_to_string(&p).unwrap();
    let edited = s.root.join("edited.txt");
    fs::write(
        &edited,
        text.replace("custodian: alice", "custodian: mallory"),
    )
    .unwrap();
    custody()
        .arg("check-share")
        .arg("--vault")
        .arg(&s.vault)
        .arg(&edited)
        .assert()
        .code(1)
        .stdout(contains("edited.txt"))
        .stdout(contains("signed token says `alice`"));
    // Words of bob under alice's token.
    let bob_words = field(&s.share(2, "bob"), "words");
    let alice_words = field(&p, "words");
    fs::write(&edited, text.replace(&alice_words, &bob_words)).unwrap();
    custody()
        .arg("check-share")
        .arg("--vault")
        .arg(&s.vault)
        .arg(&edited)
        .assert()
        .code(1)
        .stdout(contains("different shares"));
}

#[test]
fn unreadable_inputs_are_named() {
    let s = init_3_of_5(&[], None);
    let empty = s.root.join("empty.txt");
    fs::write(&empty, "").unwrap();
    let binary = s.root.join("bin.dat");
    fs::write(&binary, [0xff, 0xfe, 0x00, 0x80]).unwrap();
    drill(&s, &[(1, "alice")])
        .arg("--share")
        .arg(&empty)
        .arg("--share")
        .arg(&binary)
        .arg("--share")
        .arg(s.root.join("missing.txt"))
        .assert()
        .code(1)
        .stderr(contains("3 share inputs could not be read"))
        .stderr(contains("empty.txt: it is empty"))
        .stderr(contains("bin.dat"))
        .stderr(contains("missing.txt: cannot read it"));
}

#[test]
fn demo_runs() {
    custody()
        .arg("demo")
        .assert()
        .success()
        .stdout(contains("Drill passed"))
        .stdout(contains("have 2 of 3 for group custodians"))
        .stdout(contains("presented twice"))
        .stdout(contains("binance-main: opens"))
        .stdout(contains("valid: signed by this vault's master key"))
        .stdout(contains("Intact"))
        .stdout(contains("bot: got BINANCE_MAIN_API_KEY (13 characters)"))
        .stdout(contains("demo-secret-0001").not())
        .stdout(contains("Demo complete"));
}

#[test]
fn passphrase_given_to_a_vault_without_one_is_refused() {
    let s = init_3_of_5(&[], None);
    drill(&s, &[(1, "alice"), (2, "bob"), (3, "carol")])
        .arg("--passphrase-stdin")
        .write_stdin("anything\n")
        .assert()
        .code(1)
        .stderr(contains("made without a SLIP-39 passphrase"));
}

#[test]
fn capitalised_share_file_keys_are_read() {
    let s = init_3_of_5(&[], None);
    let text = fs::read_to_string(s.share(1, "alice")).unwrap();
    let p = s.root.join("caps.txt");
    fs::write(
        &p,
        text.replace("token:", "Token:").replace("words:", "Words:"),
    )
    .unwrap();
    custody()
        .arg("check-share")
        .arg("--vault")
        .arg(&s.vault)
        .arg(&p)
        .assert()
        .success()
        .stdout(contains("alice"));
}

/// A hardware-wallet style backup: SLIP-39 official vector 4 (128-bit secret, 2-of-3,
/// passphrase "TREZOR"), combined without a vault.
#[test]
fn drill_combines_a_hardware_wallet_backup_without_a_vault() {
    let vectors: serde_json::Value = serde_json::from_str(
        &fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/slip39/vectors.json"
        ))
        .unwrap(),
    )
    .unwrap();
    let v = &vectors[3];
    assert!(
        v[0].as_str()
            .unwrap()
            .starts_with("4. Basic sharing 2-of-3 (128 bits)")
    );
    let secret = custody::keys::unhex(v[2].as_str().unwrap()).unwrap();
    assert_eq!(secret.len(), 16);
    let keys = custody::keys::MasterSecret::from_bytes(&secret)
        .unwrap()
        .derive()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = custody();
    cmd.args(["drill", "--json", "--passphrase-stdin"]);
    for (i, m) in v[1].as_array().unwrap().iter().enumerate() {
        let p = dir.path().join(format!("share{i}.txt"));
        fs::write(&p, m.as_str().unwrap()).unwrap();
        cmd.arg("--share").arg(p);
    }
    let out = cmd
        .write_stdin("TREZOR\n")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let r: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(r["secret_bytes"], 16);
    assert_eq!(
        r["fingerprint"],
        custody::keys::fingerprint(&keys.verifying_key()).as_str()
    );
    assert_eq!(
        r["ed25519_public_key"],
        custody::keys::hex(keys.verifying_key().as_bytes()).as_str()
    );
}

#[test]
fn files_custody_creates_are_private_whatever_the_umask() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let vault = dir.path().join("v.json");
    let out = dir.path().join("new/shares");
    let bin = assert_cmd::cargo::cargo_bin("custody");
    // umask 000 lets every mode bit through: custody must ask for the private modes itself.
    let script = format!(
        "umask 000 && '{bin}' init --vault '{vault}' --out-dir '{out}' --threshold 2 \
         --iteration-exponent 0 --sheets txt --custodian alice bob carol && \
         printf '%s' '{{\"api_key\":\"k\",\"api_secret\":\"s\"}}' | '{bin}' creds add bn \
         --exchange binance --scope trade --from-json - --vault '{vault}'",
        bin = bin.display(),
        vault = vault.display(),
        out = out.display(),
    );
    let status = std::process::Command::new("sh")
        .args(["-c", &script])
        .env_remove("CUSTODY_VAULT")
        .output()
        .unwrap();
    assert!(status.status.success(), "{status:?}");
    let mode = |p: &std::path::Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&out), 0o700, "share folder");
    assert_eq!(mode(&out.join("01-alice.txt")), 0o600, "share file");
    assert_eq!(mode(&dir.path().join("v.json.lock")), 0o600, "lock file");
}

#[test]
fn share_inputs_that_are_not_regular_files_or_too_large_are_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let vault = dir.path().join("v.json");
    init_args(&mut custody(), &vault, &dir.path().join("sh"), "2", "txt")
        .args(["--custodian", "alice", "bob", "carol"])
        .assert()
        .success();
    let fifo = dir.path().join("fifo");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    // Sparse: 65 MiB of zeros that take no disk space.
    let big = dir.path().join("big.png");
    fs::File::create(&big)
        .unwrap()
        .set_len(65 * 1024 * 1024)
        .unwrap();
    for (input, want) in [
        (PathBuf::from("/dev/zero"), "not a regular file"),
        (fifo, "not a regular file"),
        (dir.path().to_path_buf(), "not a regular file"),
        (big, "larger than 64 MiB"),
    ] {
        let start = std::time::Instant::now();
        let out = custody()
            .arg("check-share")
            .arg("--vault")
            .arg(&vault)
            .arg(&input)
            .timeout(std::time::Duration::from_secs(30))
            .output()
            .unwrap();
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(out.status.code(), Some(1), "{input:?}: {all}");
        assert!(all.contains(want), "{input:?}: {all}");
        assert!(
            start.elapsed() < std::time::Duration::from_secs(10),
            "{input:?}"
        );
    }
}

#[test]
fn endless_or_oversized_standard_input_is_refused_at_its_cap() {
    let dir = tempfile::tempdir().unwrap();
    let vault = dir.path().join("v.json");
    // --entropy-stdin < /dev/zero: refused at 1 MiB instead of reading forever.
    let out = std::process::Command::new(assert_cmd::cargo::cargo_bin("custody"))
        .env_remove("CUSTODY_VAULT")
        .args(["init", "--vault"])
        .arg(&vault)
        .arg("--out-dir")
        .arg(dir.path().join("sh"))
        .args([
            "--threshold",
            "2",
            "--iteration-exponent",
            "0",
            "--sheets",
            "txt",
        ])
        .args(["--custodian", "alice", "bob", "carol", "--entropy-stdin"])
        .stdin(fs::File::open("/dev/zero").unwrap())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--entropy-stdin is larger than 1024 KiB"),
        "{err}"
    );
    assert!(!vault.exists());
    init_args(&mut custody(), &vault, &dir.path().join("sh"), "2", "txt")
        .args(["--custodian", "alice", "bob", "carol"])
        .assert()
        .success();
    let before = fs::read(&vault).unwrap();
    // A 100 KiB api_secret: refused, the vault untouched.
    let json = format!(
        r#"{{"api_key":"k","api_secret":"{}"}}"#,
        "s".repeat(100 * 1024)
    );
    custody()
        .args([
            "creds",
            "add",
            "bn",
            "--exchange",
            "binance",
            "--scope",
            "trade",
        ])
        .args(["--from-json", "-", "--vault"])
        .arg(&vault)
        .write_stdin(json.clone())
        .assert()
        .code(1)
        .stderr(contains("larger than 64 KiB"));
    let file = dir.path().join("cred.json");
    fs::write(&file, json).unwrap();
    custody()
        .args([
            "creds",
            "add",
            "bn",
            "--exchange",
            "binance",
            "--scope",
            "trade",
        ])
        .arg("--from-json")
        .arg(&file)
        .arg("--vault")
        .arg(&vault)
        .assert()
        .code(1)
        .stderr(contains("larger than 64 KiB"));
    assert_eq!(fs::read(&vault).unwrap(), before);
}

/// Every command the demo prints pastes into a POSIX shell as it ran: the exec step's
/// `sh -c '…'` keeps its quoting, and run again by `sh` from the kept folder it works.
#[test]
fn demo_prints_commands_that_paste_into_a_shell() {
    let dir = tempfile::tempdir().unwrap();
    let kept = dir.path().join("demo");
    let out = custody()
        .arg("demo")
        .arg("--keep")
        .arg(&kept)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    let line = text
        .lines()
        .find(|l| l.starts_with("$ custody exec "))
        .expect("the demo prints its exec step");
    assert!(
        line.contains("-- sh -c 'echo \"bot: got BINANCE_MAIN_API_KEY"),
        "{line}"
    );
    let bin = assert_cmd::cargo::cargo_bin("custody");
    let pasted = format!("'{}'{}", bin.display(), &line["$ custody".len()..]);
    let run = std::process::Command::new("sh")
        .arg("-c")
        .arg(&pasted)
        .current_dir(&kept)
        .env_remove("CUSTODY_VAULT")
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(
        String::from_utf8_lossy(&run.stdout)
            .contains("bot: got BINANCE_MAIN_API_KEY (13 characters)")
    );
}
