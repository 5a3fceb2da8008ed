//! `custody contribute` on real files: the envelope written with a matching --phrase opens in
//! the host's session as the custodian's share; a wrong phrase, an expired code, another
//! vault's or epoch's code, bare words, a damaged code and no terminal are refused with
//! nothing written; the code is read as text, @FILE or a photo of its QR code.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use custody::remote::HostSession;
use custody::token::Token;
use predicates::str::contains;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

mod common;
use common::{custody, vault_2_of_3};

const NOW: u64 = 1_900_000_000;

fn bob(dir: &Path) -> PathBuf {
    dir.join("sh/02-bob.txt")
}

fn token_of(path: &Path) -> Token {
    custody::input::read_file(path).unwrap().token.unwrap()
}

fn session(vault: [u8; 16], epoch: u32, seed: u64) -> HostSession {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    HostSession::open(&mut rng, vault, epoch, "drill", NOW, 1800, None).unwrap()
}

fn contribute(code: &str, share: &Path) -> assert_cmd::Command {
    let mut c = custody();
    c.env("CUSTODY_FAKE_NOW", NOW.to_string())
        .args(["contribute", "--code", code])
        .arg(share);
    c
}

#[test]
fn envelope_with_matching_phrase_opens_at_the_host() {
    let (dir, vault) = vault_2_of_3();
    let t = token_of(&bob(dir.path()));
    let mut s = session(t.info.vault_id, t.info.epoch, 1);
    let out = dir.path().join("bob.envelope");
    // The first 4 letters of each word, upper case, are enough.
    let short: Vec<String> = s
        .phrase()
        .words()
        .iter()
        .map(|w| w[..4].to_uppercase())
        .collect();
    contribute(&s.code().to_text(), &bob(dir.path()))
        .arg("--phrase")
        .arg(short.join(" "))
        .arg("-o")
        .arg(&out)
        .arg("--vault")
        .arg(&vault)
        .assert()
        .success()
        .stdout(contains("Wrote the envelope"))
        .stderr(contains("this ceremony: vault"))
        .stderr(contains("for drill"))
        .stderr(contains("host NOT verified: compare the phrase"))
        .stderr(contains(format!("comparison phrase: {}", s.phrase())));
    let mode = fs::metadata(&out).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let text = fs::read_to_string(&out).unwrap();
    let p = s.accept("bob.envelope", &text, NOW + 5).unwrap();
    assert_eq!(p.token.unwrap().info.custodian, "bob");
    // Never overwritten.
    contribute(&s.code().to_text(), &bob(dir.path()))
        .arg("--phrase")
        .arg(s.phrase().to_string())
        .arg("-o")
        .arg(&out)
        .assert()
        .failure();
    assert_eq!(fs::read_to_string(&out).unwrap(), text);
}

#[test]
fn envelope_on_stdout_from_code_file_and_share_on_stdin() {
    let (dir, _vault) = vault_2_of_3();
    let t = token_of(&bob(dir.path()));
    let mut s = session(t.info.vault_id, t.info.epoch, 2);
    let code_file = dir.path().join("code.txt");
    fs::write(&code_file, format!("{}\n", s.code().to_text())).unwrap();
    let out = custody()
        .env("CUSTODY_FAKE_NOW", NOW.to_string())
        .args(["contribute", "--code"])
        .arg(format!("@{}", code_file.display()))
        .arg("-")
        .arg("--phrase")
        .arg(s.phrase().to_string())
        .arg("--qr")
        .write_stdin(fs::read(bob(dir.path())).unwrap())
        .assert()
        .success()
        .stderr(contains("█"))
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    assert!(text.starts_with("-----BEGIN AGE ENCRYPTED FILE-----"));
    assert!(s.accept("stdout", &text, NOW).is_ok());
}

#[test]
fn wrong_phrase_writes_nothing() {
    let (dir, _vault) = vault_2_of_3();
    let t = token_of(&bob(dir.path()));
    let s = session(t.info.vault_id, t.info.epoch, 3);
    let other = session(t.info.vault_id, t.info.epoch, 4);
    let out = dir.path().join("bob.envelope");
    contribute(&s.code().to_text(), &bob(dir.path()))
        .arg("--phrase")
        .arg(other.phrase().to_string())
        .arg("-o")
        .arg(&out)
        .assert()
        .code(1)
        .stdout("")
        .stderr(contains("swapped in transit"))
        .stderr(contains("nothing was written"));
    assert!(!out.exists());
}

#[test]
fn no_terminal_and_no_phrase_is_a_usage_error() {
    let (dir, _vault) = vault_2_of_3();
    let t = token_of(&bob(dir.path()));
    let s = session(t.info.vault_id, t.info.epoch, 5);
    contribute(&s.code().to_text(), &bob(dir.path()))
        .assert()
        .code(2)
        .stdout("")
        .stderr(contains("--phrase"));
}

#[test]
fn expired_code_is_refused() {
    let (dir, _vault) = vault_2_of_3();
    let t = token_of(&bob(dir.path()));
    let s = session(t.info.vault_id, t.info.epoch, 6);
    contribute(&s.code().to_text(), &bob(dir.path()))
        .env("CUSTODY_FAKE_NOW", (NOW + 1801).to_string())
        .arg("--phrase")
        .arg(s.phrase().to_string())
        .assert()
        .code(1)
        .stdout("")
        .stderr(contains("expired"))
        .stderr(contains("new one"))
        .stderr(contains("custody: the host opens a new session"));
}

#[test]
fn another_vault_or_epoch_is_refused_naming_both() {
    let (dir, vault) = vault_2_of_3();
    let t = token_of(&bob(dir.path()));
    let ours = t
        .info
        .vault_id
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<String>();
    let s = session([0xab; 16], t.info.epoch, 7);
    contribute(&s.code().to_text(), &bob(dir.path()))
        .arg("--phrase")
        .arg(s.phrase().to_string())
        .assert()
        .code(1)
        .stderr(contains("ab".repeat(16)))
        .stderr(contains(ours.as_str()));
    let s = session(t.info.vault_id, t.info.epoch + 1, 8);
    contribute(&s.code().to_text(), &bob(dir.path()))
        .arg("--phrase")
        .arg(s.phrase().to_string())
        .arg("--vault")
        .arg(&vault)
        .assert()
        .code(1)
        .stderr(contains(format!("epoch {}", t.info.epoch)))
        .stderr(contains(format!("epoch {}", t.info.epoch + 1)));
}

#[test]
fn bare_words_are_refused() {
    let (dir, _vault) = vault_2_of_3();
    let t = token_of(&bob(dir.path()));
    let s = session(t.info.vault_id, t.info.epoch, 9);
    let words = dir.path().join("words.txt");
    fs::write(&words, t.share.to_words().as_str()).unwrap();
    contribute(&s.code().to_text(), &words)
        .arg("--phrase")
        .arg(s.phrase().to_string())
        .assert()
        .code(2)
        .stderr(contains("only words"))
        .stderr(contains("share file or a photo of your sheet"));
}

#[test]
fn damaged_codes_are_refused() {
    let (dir, _vault) = vault_2_of_3();
    let t = token_of(&bob(dir.path()));
    let s = session(t.info.vault_id, t.info.epoch, 10);
    let text = s.code().to_text();
    contribute(&text[..text.len() - 10], &bob(dir.path()))
        .arg("--phrase")
        .arg(s.phrase().to_string())
        .assert()
        .code(1)
        .stderr(contains("cut short"));
    contribute(&format!("{text}{}", "A".repeat(400)), &bob(dir.path()))
        .arg("--phrase")
        .arg(s.phrase().to_string())
        .assert()
        .code(1)
        .stderr(contains("longer than any ceremony code"));
    contribute("no-such-file", &bob(dir.path()))
        .arg("--phrase")
        .arg(s.phrase().to_string())
        .assert()
        .code(2)
        .stderr(contains("neither a ceremony code"));
}

/// A photo of the host's screen: the code's QR code as a PNG.
#[test]
fn code_read_from_a_photo_of_its_qr_code() {
    let (dir, _vault) = vault_2_of_3();
    let t = token_of(&bob(dir.path()));
    let mut s = session(t.info.vault_id, t.info.epoch, 11);
    let m = custody::sheet::QrMatrix::encode(&s.code().to_text());
    let px = 6;
    let side = (m.width() + 8) * px;
    let mut g = custody::scan::Gray::filled(side, side, 255);
    for y in 0..side {
        for x in 0..side {
            let (mx, my) = ((x / px).wrapping_sub(4), (y / px).wrapping_sub(4));
            if m.is_dark(mx, my) {
                g.px[y * side + x] = 0;
            }
        }
    }
    let photo = dir.path().join("code.png");
    fs::write(&photo, custody::scan::degrade::to_png(&g)).unwrap();
    let out = dir.path().join("bob.envelope");
    contribute(photo.to_str().unwrap(), &bob(dir.path()))
        .arg("--phrase")
        .arg(s.phrase().to_string())
        .arg("-o")
        .arg(&out)
        .assert()
        .success();
    let text = fs::read_to_string(&out).unwrap();
    assert!(s.accept("photo", &text, NOW).is_ok());
}
