//! Shares delivered encrypted to each custodian's own age recipient, end to end on real files:
//! `init --deliver` writes a delivered custodian's share file and sheets only as age
//! ciphertexts (`NN-name.txt.age`, `NN-name.pdf.age`), the real `age -d` opens them, custody
//! reads them with `--identity` (check-share, drill, confirm) and refuses them without one or
//! with the wrong one, naming the file; unknown names, bad recipients and duplicates are
//! refused with nothing written; reshare, rotate-master and replace-custodian deliver too.

use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;
use predicates::str::contains;
use secrecy::ExposeSecret;
use serde_json::Value;

mod common;
use common::init_args;

const T0: u64 = 1_790_000_000; // 2026-09-21
const DAY: u64 = 86_400;

fn custody(now: u64) -> Command {
    let mut c = common::custody();
    c.env("CUSTODY_FAKE_NOW", now.to_string());
    c
}

/// A custodian's key pair: the identity file (as `age-keygen -o` writes it) and the public
/// `age1...` line.
struct Key {
    file: PathBuf,
    public: String,
}

fn keygen(dir: &Path, name: &str) -> Key {
    let id = age::x25519::Identity::generate();
    let public = id.to_public().to_string();
    let file = dir.join(format!("{name}-id.txt"));
    fs::write(
        &file,
        format!(
            "# created: 2026-09-21T00:00:00Z\n# public key: {public}\n{}\n",
            id.to_string().expose_secret()
        ),
    )
    .unwrap();
    Key { file, public }
}

struct V {
    _dir: tempfile::TempDir,
    root: PathBuf,
    vault: PathBuf,
    bob: Key,
    carol: Key,
    stranger: Key,
}

impl V {
    fn sh(&self, name: &str) -> PathBuf {
        self.root.join("sh").join(name)
    }
}

/// Everything in `dir`, sorted by name.
fn listing(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// A 2-of-3 vault of alice, bob and carol, bob's and carol's shares delivered to their keys
/// (txt and pdf), with the `--json` report.
fn delivered_vault() -> (V, Value) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    let bob = keygen(&root, "bob");
    let carol = keygen(&root, "carol");
    let stranger = keygen(&root, "stranger");
    let vault = root.join("fund.vault");
    let out = init_args(&mut custody(T0), &vault, &root.join("sh"), "2", "txt,pdf")
        .args(["--custodian", "alice", "bob", "carol", "--json"])
        .arg("--deliver")
        .arg(format!("bob={}", bob.public))
        .arg("--deliver")
        .arg(format!("Carol={}", carol.public))
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let report: Value = serde_json::from_slice(&out).unwrap();
    (
        V {
            _dir: dir,
            root,
            vault,
            bob,
            carol,
            stranger,
        },
        report,
    )
}

#[test]
fn init_writes_delivered_shares_only_as_age_files() {
    let (v, report) = delivered_vault();
    assert_eq!(
        listing(&v.root.join("sh")),
        [
            "01-alice.pdf",
            "01-alice.txt",
            "02-bob.pdf.age",
            "02-bob.txt.age",
            "03-carol.pdf.age",
            "03-carol.txt.age"
        ]
    );
    for f in [
        "02-bob.txt.age",
        "02-bob.pdf.age",
        "03-carol.txt.age",
        "03-carol.pdf.age",
    ] {
        let bytes = fs::read(v.sh(f)).unwrap();
        assert!(bytes.starts_with(b"age-encryption.org/v1\n"), "{f}");
        assert!(
            !bytes.windows(14).any(|w| w == b"custody-share:"),
            "{f} holds a token in the clear"
        );
        assert!(!bytes.windows(4).any(|w| w == b"%PDF"), "{f}");
    }
    let custodians = report["custodians"].as_array().unwrap();
    assert!(custodians[0].get("delivered_to").is_none());
    assert_eq!(custodians[1]["delivered_to"][0], v.bob.public.as_str());
    assert_eq!(custodians[2]["delivered_to"][0], v.carol.public.as_str());
    assert!(
        custodians[2]["files"][0]
            .as_str()
            .unwrap()
            .ends_with("03-carol.txt.age")
    );
}

#[test]
fn text_report_says_which_shares_were_encrypted_and_to_whom() {
    let dir = tempfile::tempdir().unwrap();
    let bob = keygen(dir.path(), "bob");
    let list = dir.path().join("deliver.txt");
    fs::write(
        &list,
        format!("# custodians abroad\n\nbob {}\n", bob.public),
    )
    .unwrap();
    init_args(
        &mut custody(T0),
        &dir.path().join("v"),
        &dir.path().join("sh"),
        "2",
        "txt",
    )
    .args(["--custodian", "alice", "bob", "carol", "--deliver-file"])
    .arg(&list)
    .assert()
    .success()
    .stdout(contains(format!(
        "02-bob.txt.age (encrypted to {})",
        bob.public
    )))
    .stdout(contains("01-alice.txt\n"));
}

#[test]
fn the_age_tool_opens_a_delivered_share_and_sheet() {
    if !common::have("age", "decrypting delivered shares with age -d") {
        return;
    }
    let (v, _) = delivered_vault();
    let plain = v.root.join("bob-share.txt");
    let pdf = v.root.join("bob-sheet.pdf");
    for (from, to) in [("02-bob.txt.age", &plain), ("02-bob.pdf.age", &pdf)] {
        let st = std::process::Command::new("age")
            .arg("-d")
            .arg("-i")
            .arg(&v.bob.file)
            .arg("-o")
            .arg(to)
            .arg(v.sh(from))
            .status()
            .unwrap();
        assert!(st.success(), "age -d {from}");
    }
    // A share file like alice's plaintext one: same keys in the same order, same vault.
    let keys = |p: &Path| -> Vec<String> {
        fs::read_to_string(p)
            .unwrap()
            .lines()
            .filter_map(|l| l.split_once(": ").map(|(k, _)| k.to_owned()))
            .collect()
    };
    assert_eq!(keys(&plain), keys(&v.sh("01-alice.txt")));
    for k in ["vault-id", "fingerprint", "epoch"] {
        assert_eq!(
            common::field(&plain, k),
            common::field(&v.sh("01-alice.txt"), k)
        );
    }
    assert_eq!(common::field(&plain, "custodian"), "bob");
    // The token inside is the one custody reads straight from the .age file.
    assert!(fs::read(&pdf).unwrap().starts_with(b"%PDF"));
    for input in [&plain, &pdf] {
        custody(T0)
            .arg("check-share")
            .arg("--vault")
            .arg(&v.vault)
            .arg(input)
            .assert()
            .success()
            .stdout(contains("bob"));
    }
    // The same share, read by custody from the ciphertext with bob's identity: one quorum
    // with the decrypted copy is refused as the same share given twice.
    custody(T0)
        .args(["drill", "--vault"])
        .arg(&v.vault)
        .arg("--share")
        .arg(&plain)
        .arg("--share")
        .arg(v.sh("02-bob.txt.age"))
        .arg("--identity")
        .arg(&v.bob.file)
        .assert()
        .failure();
}

#[test]
fn check_share_reads_a_delivered_share_with_its_identity() {
    let (v, _) = delivered_vault();
    let out = custody(T0)
        .arg("check-share")
        .arg("--vault")
        .arg(&v.vault)
        .arg("--identity")
        .arg(&v.carol.file)
        .arg(v.sh("03-carol.txt.age"))
        .arg(v.sh("03-carol.pdf.age"))
        .arg(v.sh("01-alice.txt"))
        .arg("--json")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let doc: Value = serde_json::from_slice(&out).unwrap();
    let shares = doc["shares"].as_array().unwrap();
    assert_eq!(shares[0]["custodian"], "carol");
    assert_eq!(shares[0]["signed"], true);
    assert_eq!(shares[1]["custodian"], "carol");
    assert_eq!(shares[2]["custodian"], "alice");
}

#[test]
fn check_share_refuses_a_delivered_share_without_or_with_the_wrong_identity() {
    let (v, _) = delivered_vault();
    let file = v.sh("02-bob.txt.age");
    let shown = file.display().to_string();
    custody(T0)
        .arg("check-share")
        .arg("--vault")
        .arg(&v.vault)
        .arg(&file)
        .assert()
        .failure()
        .stdout(contains(&shown))
        .stdout(contains(
            "this share is encrypted to its custodian (age); give --identity FILE",
        ));
    for wrong in [&v.stranger.file, &v.carol.file] {
        custody(T0)
            .arg("check-share")
            .arg("--vault")
            .arg(&v.vault)
            .arg("--identity")
            .arg(wrong)
            .arg(&file)
            .assert()
            .failure()
            .stdout(contains(&shown))
            .stdout(contains(
                "none of the identities given (--identity) opens it",
            ));
    }
    // An identity file that is not one is refused, naming it.
    custody(T0)
        .arg("check-share")
        .arg("--vault")
        .arg(&v.vault)
        .arg("--identity")
        .arg(v.sh("01-alice.txt"))
        .arg(&file)
        .assert()
        .code(2)
        .stderr(contains("01-alice.txt"))
        .stderr(contains("not an age identity file"));
}

#[test]
fn drill_with_two_delivered_shares_and_one_plain_one() {
    let (v, _) = delivered_vault();
    custody(T0)
        .args(["drill", "--vault"])
        .arg(&v.vault)
        .arg("--share")
        .arg(v.sh("02-bob.pdf.age"))
        .arg("--share")
        .arg(v.sh("03-carol.txt.age"))
        .arg("--share")
        .arg(v.sh("01-alice.txt"))
        .arg("--identity")
        .arg(&v.bob.file)
        .arg("--identity")
        .arg(&v.carol.file)
        .assert()
        .success();
    // Without carol's identity her share cannot be read: the drill names it.
    custody(T0)
        .args(["drill", "--vault"])
        .arg(&v.vault)
        .arg("--share")
        .arg(v.sh("02-bob.pdf.age"))
        .arg("--share")
        .arg(v.sh("03-carol.txt.age"))
        .arg("--identity")
        .arg(&v.bob.file)
        .assert()
        .failure()
        .stderr(contains("03-carol.txt.age"));
}

/// `init` refused: nothing at all is written.
fn refused_init(extra: &[&str], deliver_file: Option<&str>, message: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let vault = dir.path().join("v");
    let sh = dir.path().join("sh");
    let mut c = custody(T0);
    init_args(&mut c, &vault, &sh, "2", "txt,pdf")
        .args(["--custodian", "alice", "bob", "carol"])
        .args(extra);
    if let Some(text) = deliver_file {
        let f = dir.path().join("deliver.txt");
        fs::write(&f, text).unwrap();
        c.arg("--deliver-file").arg(f);
    }
    let mut a = c.assert().failure();
    for m in message {
        a = a.stderr(contains(*m));
    }
    assert!(!vault.exists());
    assert!(!sh.exists() || listing(&sh).is_empty());
}

#[test]
fn refusals_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let k = keygen(dir.path(), "k");
    let good = format!("bob={}", k.public);
    refused_init(
        &[
            "--deliver",
            &good,
            "--deliver",
            &format!("dave={}", k.public),
        ],
        None,
        &["`dave`", "alice, bob, carol"],
    );
    refused_init(
        &["--deliver", "carol=age1notarecipient"],
        None,
        &["`carol`", "is not an age recipient"],
    );
    refused_init(
        &[
            "--deliver",
            "carol=ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHs carol@home",
        ],
        None,
        &["`carol`", "SSH key", "native age recipients"],
    );
    refused_init(
        &[],
        Some(&format!("bob {}\n# again\nBOB={}\n", k.public, k.public)),
        &["`BOB`", "named twice"],
    );
    refused_init(
        &["--deliver", &good],
        Some(&format!("bob {}\n", k.public)),
        &["named twice"],
    );
    refused_init(&[], Some("carol\n"), &["line 1", "NAME RECIPIENT"]);
    refused_init(&["--deliver", "carol"], None, &["NAME=RECIPIENT"]);
}

/// A 2-of-3 vault with plain shares for the change commands.
fn plain_vault() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let vault = dir.path().join("fund.vault");
    init_args(&mut custody(T0), &vault, &dir.path().join("sh"), "2", "txt")
        .args(["--custodian", "alice", "bob", "carol"])
        .assert()
        .success();
    (dir, vault)
}

#[test]
fn reshare_and_rotate_master_deliver_and_confirm_reads_them() {
    for cmd in ["reshare", "rotate-master"] {
        let (dir, vault) = plain_vault();
        let root = dir.path();
        let gina = keygen(root, "gina");
        let hank = keygen(root, "hank");
        let change = |extra: &[String]| {
            let mut c = custody(T0 + DAY);
            c.arg(cmd)
                .arg("--vault")
                .arg(&vault)
                .arg("--share")
                .arg(root.join("sh/01-alice.txt"))
                .arg("--share")
                .arg(root.join("sh/02-bob.txt"))
                .arg("--out-dir")
                .arg(root.join("new"))
                .args(["--threshold", "2", "--sheets", "txt"])
                .args(["--custodian", "frank", "gina", "hank", "--json"])
                .args(extra);
            c
        };
        // A name not in the new policy (alice holds an old share only) is refused first.
        change(&["--deliver".into(), format!("alice={}", gina.public)])
            .assert()
            .failure()
            .stderr(contains("`alice`"))
            .stderr(contains("frank, gina, hank"));
        assert!(!root.join("new").exists());
        let out = change(&[
            "--deliver".into(),
            format!("gina={}", gina.public),
            "--deliver".into(),
            format!("hank={}", hank.public),
        ])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
        let doc: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(
            doc["custodians"][1]["delivered_to"][0],
            gina.public.as_str()
        );
        assert!(doc["custodians"][0].get("delivered_to").is_none());
        assert_eq!(
            listing(&root.join("new")),
            ["01-frank.txt", "02-gina.txt.age", "03-hank.txt.age"]
        );
        custody(T0 + 2 * DAY)
            .arg("confirm")
            .arg("--vault")
            .arg(&vault)
            .arg("--share")
            .arg(root.join("new/02-gina.txt.age"))
            .arg("--share")
            .arg(root.join("new/03-hank.txt.age"))
            .arg("--identity")
            .arg(&gina.file)
            .arg("--identity")
            .arg(&hank.file)
            .assert()
            .success();
        custody(T0 + 3 * DAY)
            .arg("drill")
            .arg("--vault")
            .arg(&vault)
            .arg("--share")
            .arg(root.join("new/01-frank.txt"))
            .arg("--share")
            .arg(root.join("new/03-hank.txt.age"))
            .arg("--identity")
            .arg(&hank.file)
            .assert()
            .success();
    }
}

#[test]
fn replace_custodian_delivers_the_new_sheets() {
    let (dir, vault) = plain_vault();
    let root = dir.path();
    let erin = keygen(root, "erin");
    let replace = |deliver: &str| {
        let mut c = custody(T0 + DAY);
        c.arg("replace-custodian")
            .arg("--vault")
            .arg(&vault)
            .args([
                "--remove",
                "carol",
                "--add",
                "erin",
                "--reason",
                "moved abroad",
            ])
            .arg("--share")
            .arg(root.join("sh/01-alice.txt"))
            .arg("--share")
            .arg(root.join("sh/02-bob.txt"))
            .arg("--out-dir")
            .arg(root.join("new"))
            .args(["--sheets", "txt,pdf", "--deliver", deliver]);
        c
    };
    // carol leaves: no new share of hers to deliver.
    replace(&format!("carol={}", erin.public))
        .assert()
        .failure()
        .stderr(contains("`carol`"))
        .stderr(contains("alice, bob, erin"));
    assert!(!root.join("new").exists());
    replace(&format!("erin={}", erin.public))
        .assert()
        .success()
        .stdout(contains(format!(
            "03-erin.txt.age, {} (encrypted to {})",
            root.join("new/03-erin.pdf.age").display(),
            erin.public
        )));
    assert_eq!(
        listing(&root.join("new")),
        [
            "01-alice.pdf",
            "01-alice.txt",
            "02-bob.pdf",
            "02-bob.txt",
            "03-erin.pdf.age",
            "03-erin.txt.age"
        ]
    );
    custody(T0 + 2 * DAY)
        .arg("check-share")
        .arg("--vault")
        .arg(&vault)
        .arg("--identity")
        .arg(&erin.file)
        .arg(root.join("new/03-erin.pdf.age"))
        .assert()
        .stdout(contains("erin"));
}

#[test]
fn extend_refuses_delivery_to_a_custodian_it_does_not_issue() {
    let (dir, vault) = plain_vault();
    let root = dir.path();
    let k = keygen(root, "dan");
    custody(T0 + DAY)
        .arg("extend")
        .arg("--vault")
        .arg(&vault)
        .arg("--share")
        .arg(root.join("sh/01-alice.txt"))
        .arg("--share")
        .arg(root.join("sh/02-bob.txt"))
        .args(["--custodian", "dan", "--sheets", "txt"])
        .arg("--out-dir")
        .arg(root.join("more"))
        .arg("--deliver")
        .arg(format!("bob={}", k.public))
        .assert()
        .failure()
        .stderr(contains("`bob` gets no new share"));
    assert!(!root.join("more").exists());
    custody(T0 + DAY)
        .arg("extend")
        .arg("--vault")
        .arg(&vault)
        .arg("--share")
        .arg(root.join("sh/01-alice.txt"))
        .arg("--share")
        .arg(root.join("sh/02-bob.txt"))
        .args(["--custodian", "dan", "--sheets", "txt"])
        .arg("--out-dir")
        .arg(root.join("more"))
        .arg("--deliver")
        .arg(format!("dan={}", k.public))
        .assert()
        .success();
    assert_eq!(listing(&root.join("more")), ["04-dan.txt.age"]);
    custody(T0 + DAY)
        .arg("drill")
        .arg("--vault")
        .arg(&vault)
        .arg("--share")
        .arg(root.join("sh/01-alice.txt"))
        .arg("--share")
        .arg(root.join("more/04-dan.txt.age"))
        .arg("--identity")
        .arg(&k.file)
        .assert()
        .success()
        .stdout(predicate::str::is_empty().not());
}
