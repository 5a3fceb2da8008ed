//! Shares delivered to a custodian in another place: the officer names the custodian's own age
//! recipient, custody writes that custodian's share file and sheets only as age ciphertexts to
//! it (encrypted from memory: the plaintext never reaches the disk), and the custodian opens
//! them with the standard `age -d` at home, or hands them to custody with their identity file
//! (`--identity`). The ciphertext's plaintext is exactly the file custody would otherwise have
//! written, so the signed token inside is unchanged (shares-format.md, "Delivered shares").
//!
//! Recipients: native X25519 (`age1...`) only. SSH recipients would need age's `ssh` feature,
//! which pulls in `rsa` (RUSTSEC-2023-0071, no fixed release); plugin recipients
//! (`age1yubikey1...`) would need its `plugin` feature, which runs plugin programs found on
//! `$PATH` and adds crates the advisory snapshot has never looked up. Both are refused with a
//! message naming what is supported; a YubiKey holder can still receive a share through a
//! native identity kept on the same machine.

use std::fmt;
use std::io::Read;
use std::path::Path;

use zeroize::Zeroizing;

use crate::custodian_name;
use crate::policy::Policy;
use crate::wire;

/// An age identity custody can decrypt with (read by [`read_identity_file`]).
pub type AgeIdentity = Box<dyn age::Identity + Send + Sync>;

/// Why a recipient was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RecipientProblem {
    /// An SSH public key (`ssh-ed25519 ...`, `ssh-rsa ...`).
    Ssh,
    /// An age plugin recipient (`age1yubikey1...`): the plugin's name.
    Plugin(String),
    /// Not an age recipient at all.
    Invalid,
}

/// Why a delivery could not be set up, or a share not encrypted.
#[derive(Debug, PartialEq, Eq)]
pub enum DeliveryError {
    /// A line of a `--deliver-file`, or one `--deliver NAME=RECIPIENT`, does not parse.
    Syntax {
        /// Where: `line N` of the file, or `--deliver`.
        place: String,
        /// What is wrong with it.
        problem: &'static str,
    },
    /// The same custodian is named twice.
    Duplicate {
        /// The custodian, as named the second time.
        custodian: String,
    },
    /// A custodian's recipient cannot be used.
    Recipient {
        /// The custodian it was given for.
        custodian: String,
        /// Why.
        problem: RecipientProblem,
    },
    /// Custodians the policy does not have.
    UnknownCustodians {
        /// The names given.
        names: Vec<String>,
        /// The policy's custodians.
        custodians: Vec<String>,
    },
    /// Custodians of the policy whose share this command does not write.
    NotIssued {
        /// The names given.
        names: Vec<String>,
        /// The custodians whose shares are written.
        issued: Vec<String>,
    },
    /// age refused to encrypt (the library's message; nothing secret).
    Encrypt {
        /// The custodian.
        custodian: String,
        /// age's message.
        reason: String,
    },
}

impl fmt::Display for RecipientProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecipientProblem::Ssh => f.write_str(
                "is an SSH key; custody delivers only to native age recipients (age1...): \
                 the custodian makes one with `age-keygen -o ~/custody-id.txt`",
            ),
            RecipientProblem::Plugin(name) => write!(
                f,
                "is an age plugin recipient (age-plugin-{name}); custody delivers only to \
                 native age recipients (age1...): the custodian makes one with \
                 `age-keygen -o ~/custody-id.txt`"
            ),
            RecipientProblem::Invalid => f.write_str(
                "is not an age recipient; give the public key line age-keygen printed \
                 (age1 followed by 58 letters and digits)",
            ),
        }
    }
}

impl fmt::Display for DeliveryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeliveryError::Syntax { place, problem } => write!(f, "{place}: {problem}"),
            DeliveryError::Duplicate { custodian } => write!(
                f,
                "custodian {} is named twice for delivery; name each custodian once (list \
                 several recipients for one custodian as age1...,age1...)",
                custodian_name::spelled(custodian)
            ),
            DeliveryError::Recipient { custodian, problem } => write!(
                f,
                "the recipient given for {} {problem}",
                custodian_name::spelled(custodian)
            ),
            DeliveryError::UnknownCustodians { names, custodians } => write!(
                f,
                "no custodian named {} to deliver to; the custodians are {}",
                spelled_list(names),
                custodians.join(", ")
            ),
            DeliveryError::NotIssued { names, issued } => write!(
                f,
                "{} get{} no new share from this command, so there is nothing to deliver to \
                 them; the new shares are for {}",
                spelled_list(names),
                if names.len() == 1 { "s" } else { "" },
                issued.join(", ")
            ),
            DeliveryError::Encrypt { custodian, reason } => write!(
                f,
                "the share of {} could not be encrypted to their recipient: {reason}",
                custodian_name::spelled(custodian)
            ),
        }
    }
}

impl std::error::Error for DeliveryError {}

fn spelled_list(names: &[String]) -> String {
    names
        .iter()
        .map(|n| custodian_name::spelled(n))
        .collect::<Vec<_>>()
        .join(", ")
}

/// One custodian's age recipient(s), as given and parsed. Public keys: nothing secret.
#[derive(Clone)]
pub struct Recipients {
    texts: Vec<String>,
    parsed: Vec<age::x25519::Recipient>,
}

impl fmt::Debug for Recipients {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(&self.texts).finish()
    }
}

impl PartialEq for Recipients {
    fn eq(&self, other: &Self) -> bool {
        self.texts == other.texts
    }
}

impl Recipients {
    /// Parse `text`: one recipient, or several separated by commas (a custodian's home key
    /// and a backup key), for `custodian` (named in errors).
    pub fn parse(custodian: &str, text: &str) -> Result<Recipients, DeliveryError> {
        let refuse = |problem| DeliveryError::Recipient {
            custodian: custodian.to_owned(),
            problem,
        };
        let mut texts = Vec::new();
        let mut parsed = Vec::new();
        for one in text.split(',').map(str::trim) {
            if one.starts_with("ssh-") || one.starts_with("ecdsa-sha2-") {
                return Err(refuse(RecipientProblem::Ssh));
            }
            let lower = one.to_ascii_lowercase();
            if let Some(rest) = lower.strip_prefix("age1")
                && let Some(end) = rest.rfind('1')
                && end > 0
                && !rest[..end].contains(|c: char| !c.is_ascii_alphanumeric() && c != '-')
                && one.parse::<age::x25519::Recipient>().is_err()
            {
                return Err(refuse(RecipientProblem::Plugin(rest[..end].to_owned())));
            }
            let r = one
                .parse::<age::x25519::Recipient>()
                .map_err(|_| refuse(RecipientProblem::Invalid))?;
            texts.push(r.to_string());
            parsed.push(r);
        }
        Ok(Recipients { texts, parsed })
    }

    /// The recipients in their canonical text form (`age1...`).
    pub fn texts(&self) -> &[String] {
        &self.texts
    }

    /// Encrypt `plaintext` (a share file or sheet, in memory) to these recipients, in age's
    /// binary format: what `age -d -i KEY -o FILE FILE.age` opens. The ciphertext holds
    /// nothing readable without a matching identity.
    pub fn encrypt(&self, custodian: &str, plaintext: &[u8]) -> Result<Vec<u8>, DeliveryError> {
        use std::io::Write;
        let fail = |reason: String| DeliveryError::Encrypt {
            custodian: custodian.to_owned(),
            reason,
        };
        let encryptor =
            age::Encryptor::with_recipients(self.parsed.iter().map(|r| r as &dyn age::Recipient))
                .map_err(|e| fail(e.to_string()))?;
        let mut out = Vec::with_capacity(plaintext.len() + 256);
        let mut w = encryptor
            .wrap_output(&mut out)
            .map_err(|e| fail(e.to_string()))?;
        w.write_all(plaintext).map_err(|e| fail(e.to_string()))?;
        w.finish().map_err(|e| fail(e.to_string()))?;
        Ok(out)
    }
}

/// Which custodians receive their new share encrypted, and to which recipients: custodian
/// name -> [`Recipients`]. Names are matched as custody matches custodian names (NFC, case
/// folded: `Carol` is `carol`). Empty: every share is written as today.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Delivery {
    entries: Vec<(String, Recipients)>,
}

impl Delivery {
    /// No custodian delivered.
    pub fn new() -> Delivery {
        Delivery::default()
    }

    /// Deliver `custodian`'s share to `recipients` (one or several, comma-separated). A
    /// custodian named twice is refused.
    pub fn add(&mut self, custodian: &str, recipients: &str) -> Result<(), DeliveryError> {
        let custodian = custodian.trim();
        if custodian.is_empty() {
            return Err(DeliveryError::Syntax {
                place: "--deliver".into(),
                problem: "the custodian's name is empty",
            });
        }
        if self.position(custodian).is_some() {
            return Err(DeliveryError::Duplicate {
                custodian: custodian.to_owned(),
            });
        }
        let r = Recipients::parse(custodian, recipients)?;
        self.entries.push((custodian.to_owned(), r));
        Ok(())
    }

    /// Add one `NAME=RECIPIENT` (as `--deliver` gives it; the name may hold spaces, the
    /// recipient follows the last `=`).
    pub fn add_spec(&mut self, spec: &str) -> Result<(), DeliveryError> {
        let (name, recipient) = spec.rsplit_once('=').ok_or(DeliveryError::Syntax {
            place: "--deliver".into(),
            problem: "write NAME=RECIPIENT, for example --deliver carol=age1...",
        })?;
        self.add(name, recipient)
    }

    /// Parse a delivery list: one custodian per line, `NAME RECIPIENT` or `NAME=RECIPIENT`
    /// (the recipient is the last word; several for one custodian as `age1...,age1...`
    /// without spaces), blank lines and `#` comments ignored. A custodian named twice is
    /// refused.
    pub fn parse_list(text: &str) -> Result<Delivery, DeliveryError> {
        let mut d = Delivery::new();
        for (i, line) in text.lines().enumerate() {
            let place = || format!("line {}", i + 1);
            let line = strip_comment(line).trim();
            if line.is_empty() {
                continue;
            }
            let Some(cut) = line.rfind(|c: char| c.is_whitespace() || c == '=') else {
                return Err(DeliveryError::Syntax {
                    place: place(),
                    problem: "write NAME RECIPIENT or NAME=RECIPIENT",
                });
            };
            let recipient = &line[cut + 1..];
            let before = line[..cut].trim_end();
            let name = before.strip_suffix('=').unwrap_or(before).trim();
            if name.is_empty() || recipient.is_empty() {
                return Err(DeliveryError::Syntax {
                    place: place(),
                    problem: "write NAME RECIPIENT or NAME=RECIPIENT",
                });
            }
            d.add(name, recipient)?;
        }
        Ok(d)
    }

    /// Add every entry of `other` (a `--deliver-file` to the `--deliver` options), refusing a
    /// custodian named in both.
    pub fn merge(&mut self, other: Delivery) -> Result<(), DeliveryError> {
        for (name, r) in other.entries {
            if self.position(&name).is_some() {
                return Err(DeliveryError::Duplicate { custodian: name });
            }
            self.entries.push((name, r));
        }
        Ok(())
    }

    /// Whether no custodian is delivered.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The recipients of `custodian`'s share, if it is delivered.
    pub fn recipients_for(&self, custodian: &str) -> Option<&Recipients> {
        self.position(custodian).map(|i| &self.entries[i].1)
    }

    /// The custodians named, as given.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|(n, _)| n.as_str())
    }

    fn position(&self, custodian: &str) -> Option<usize> {
        let key = custodian_name::collision_key(custodian);
        self.entries
            .iter()
            .position(|(n, _)| custodian_name::collision_key(n) == key)
    }

    /// Every custodian named must be one of `policy`'s (when every custodian of `policy` gets
    /// a new share: init, reshare, rotate-master, replace-custodian).
    pub fn check_all(&self, policy: &Policy) -> Result<(), DeliveryError> {
        self.check(policy, &names_of(policy))
    }

    /// Every custodian named must be one of `policy`'s, and one of `issued` (those whose new
    /// shares this command writes).
    pub fn check(&self, policy: &Policy, issued: &[String]) -> Result<(), DeliveryError> {
        let all = names_of(policy);
        let known = |n: &str, among: &[String]| {
            let key = custodian_name::collision_key(n);
            among
                .iter()
                .any(|a| custodian_name::collision_key(a) == key)
        };
        let unknown: Vec<String> = self
            .names()
            .filter(|n| !known(n, &all))
            .map(str::to_owned)
            .collect();
        if !unknown.is_empty() {
            return Err(DeliveryError::UnknownCustodians {
                names: unknown,
                custodians: all,
            });
        }
        let not_issued: Vec<String> = self
            .names()
            .filter(|n| !known(n, issued))
            .map(str::to_owned)
            .collect();
        if !not_issued.is_empty() {
            return Err(DeliveryError::NotIssued {
                names: not_issued,
                issued: issued.to_vec(),
            });
        }
        Ok(())
    }
}

/// Every custodian of `policy`, in policy order.
fn names_of(policy: &Policy) -> Vec<String> {
    policy
        .groups
        .iter()
        .flat_map(|g| g.custodians.iter().map(|c| c.name.clone()))
        .collect()
}

/// `line` without a `#` comment (a `#` at the start or after whitespace).
fn strip_comment(line: &str) -> &str {
    let mut prev_space = true;
    for (i, c) in line.char_indices() {
        if c == '#' && prev_space {
            return &line[..i];
        }
        prev_space = c.is_whitespace();
    }
    line
}

/// Whether `bytes` are an age file: binary (`age-encryption.org/v1`) or ASCII-armored.
pub fn is_encrypted(bytes: &[u8]) -> bool {
    bytes.starts_with(wire::AGE_BINARY_MAGIC)
        || bytes
            .trim_ascii_start()
            .starts_with(wire::AGE_ARMOR_BEGIN.as_bytes())
}

/// Why a delivered share could not be opened.
#[derive(Debug)]
pub enum OpenError {
    /// No identity was given.
    NoIdentity,
    /// None of the identities given opens it (or it is passphrase-encrypted).
    NoMatchingIdentity,
    /// It is not a well-formed age file, or it was damaged (age's message).
    Damaged(String),
    /// Its plaintext is larger than the cap.
    TooLarge {
        /// The cap, in bytes.
        limit: u64,
    },
}

impl fmt::Display for OpenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OpenError::NoIdentity => f.write_str(
                "this share is encrypted to its custodian (age); give --identity FILE (the \
                 custodian's age identity) or decrypt it with `age -d`",
            ),
            OpenError::NoMatchingIdentity => f.write_str(
                "it is encrypted to a custodian (age), but none of the identities given \
                 (--identity) opens it: give the identity file of the custodian it was \
                 delivered to",
            ),
            OpenError::Damaged(e) => {
                write!(f, "it is an age file, but it cannot be decrypted: {e}")
            }
            OpenError::TooLarge { limit } => write!(
                f,
                "it decrypts to more than {}, more than any share file or sheet",
                crate::safe_file::human_size(*limit)
            ),
        }
    }
}

impl std::error::Error for OpenError {}

/// Decrypt a delivered share (binary or armored age) in memory with `identities`, reading at
/// most `limit` bytes of plaintext. The plaintext is wiped when dropped.
pub fn decrypt(
    bytes: &[u8],
    identities: &[AgeIdentity],
    limit: u64,
) -> Result<Zeroizing<Vec<u8>>, OpenError> {
    if identities.is_empty() {
        return Err(OpenError::NoIdentity);
    }
    let reader = age::armor::ArmoredReader::new(bytes.trim_ascii_start());
    let decryptor = age::Decryptor::new(reader).map_err(|e| OpenError::Damaged(e.to_string()))?;
    if decryptor.is_scrypt() {
        return Err(OpenError::NoMatchingIdentity);
    }
    let mut plain = decryptor
        .decrypt(identities.iter().map(|i| i.as_ref() as &dyn age::Identity))
        .map_err(|e| match e {
            age::DecryptError::NoMatchingKeys => OpenError::NoMatchingIdentity,
            e => OpenError::Damaged(e.to_string()),
        })?;
    let mut out = Zeroizing::new(Vec::new());
    (&mut plain)
        .take(limit + 1)
        .read_to_end(&mut out)
        .map_err(|e| OpenError::Damaged(e.to_string()))?;
    if out.len() as u64 > limit {
        return Err(OpenError::TooLarge { limit });
    }
    Ok(out)
}

/// An identity file that could not be used.
#[derive(Debug)]
pub struct IdentityFileError {
    /// The file, as given.
    pub path: String,
    /// What went wrong (never the file's content).
    pub problem: String,
}

impl fmt::Display for IdentityFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "identity file {}: {}", self.path, self.problem)
    }
}

impl std::error::Error for IdentityFileError {}

/// Read a standard age identity file (`age-keygen`'s output: `AGE-SECRET-KEY-1...` lines, `#`
/// comments), at most [`wire::MAX_IDENTITY_FILE_BYTES`], links followed. Plugin identities
/// (`AGE-PLUGIN-...`) and SSH private keys are refused, saying which kind is supported.
pub fn read_identity_file(path: &Path) -> Result<Vec<AgeIdentity>, IdentityFileError> {
    use crate::safe_file::{self, ReadRules};
    let fail = |problem: String| IdentityFileError {
        path: crate::terminal_text::escape(&path.display().to_string()).into_owned(),
        problem,
    };
    let bytes = safe_file::read(
        path,
        ReadRules::named(wire::MAX_IDENTITY_FILE_BYTES).or_pipe(),
    )
    .map_err(|e| fail(e.to_string()))?;
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| fail("it is not text; give the file age-keygen wrote".into()))?;
    for line in text.lines().map(str::trim) {
        if line.starts_with("AGE-PLUGIN-") {
            return Err(fail(
                "it holds an age plugin identity (AGE-PLUGIN-...); custody reads only native \
                 age identities (AGE-SECRET-KEY-1...): decrypt with `age -d` and the plugin \
                 instead"
                    .into(),
            ));
        }
        if line.starts_with("-----BEGIN OPENSSH PRIVATE KEY")
            || line.starts_with("-----BEGIN RSA PRIVATE KEY")
        {
            return Err(fail(
                "it is an SSH private key; custody reads only native age identities \
                 (AGE-SECRET-KEY-1..., from age-keygen)"
                    .into(),
            ));
        }
    }
    let file = age::IdentityFile::from_buffer(text.as_bytes()).map_err(|e| {
        fail(format!(
            "it is not an age identity file ({e}); give the file age-keygen wrote"
        ))
    })?;
    let ids = file.into_identities().map_err(|e| fail(e.to_string()))?;
    if ids.is_empty() {
        return Err(fail(
            "it holds no identity (AGE-SECRET-KEY-1... line); give the file age-keygen wrote"
                .into(),
        ));
    }
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::*;

    const R1: &str = "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p";

    fn r2() -> String {
        age::x25519::Identity::generate().to_public().to_string()
    }

    #[test]
    fn list_forms_comments_and_blanks() {
        let b = r2();
        let text = format!(
            "# who gets what\n\nalice {R1}\n  Bob Smith={b}   # Bob's home key\ncarol = {R1},{b}\n"
        );
        let d = Delivery::parse_list(&text).unwrap();
        assert_eq!(
            d.names().collect::<Vec<_>>(),
            ["alice", "Bob Smith", "carol"]
        );
        assert_eq!(d.recipients_for("ALICE").unwrap().texts(), [R1]);
        assert_eq!(
            d.recipients_for("bob smith").unwrap().texts(),
            std::slice::from_ref(&b)
        );
        assert_eq!(
            d.recipients_for("carol").unwrap().texts(),
            [R1.to_owned(), b]
        );
        assert!(d.recipients_for("dave").is_none());
        assert!(Delivery::parse_list("# nothing\n\n").unwrap().is_empty());
    }

    #[test]
    fn list_refusals() {
        let dup = Delivery::parse_list(&format!("alice {R1}\nAlice={R1}\n")).unwrap_err();
        assert_eq!(
            dup,
            DeliveryError::Duplicate {
                custodian: "Alice".into()
            }
        );
        let bad = Delivery::parse_list("alice age1nope\n").unwrap_err();
        assert_eq!(
            bad,
            DeliveryError::Recipient {
                custodian: "alice".into(),
                problem: RecipientProblem::Invalid
            }
        );
        assert!(bad.to_string().contains("`alice`"), "{bad}");
        let lone = Delivery::parse_list("\n\nalice\n").unwrap_err();
        assert_eq!(
            lone,
            DeliveryError::Syntax {
                place: "line 3".into(),
                problem: "write NAME RECIPIENT or NAME=RECIPIENT"
            }
        );
        assert!(matches!(
            Delivery::parse_list(&format!("={R1}\n")),
            Err(DeliveryError::Syntax { .. })
        ));
    }

    #[test]
    fn recipient_kinds() {
        let ssh = Recipients::parse("bob", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHs bob@home");
        assert_eq!(
            ssh.unwrap_err(),
            DeliveryError::Recipient {
                custodian: "bob".into(),
                problem: RecipientProblem::Ssh
            }
        );
        let yk = "age1yubikey1qwt50d05nh5vutpdzmlg5wn80xq5negm4uj9ghv0snvdd3yysf5yw3rhl3t";
        let e = Recipients::parse("bob", yk).unwrap_err();
        assert_eq!(
            e,
            DeliveryError::Recipient {
                custodian: "bob".into(),
                problem: RecipientProblem::Plugin("yubikey".into())
            }
        );
        assert!(e.to_string().contains("age-plugin-yubikey"), "{e}");
        assert!(Recipients::parse("bob", R1).is_ok());
    }

    #[test]
    fn add_spec_and_merge() {
        let mut d = Delivery::new();
        d.add_spec(&format!("Zoë Ann={R1}")).unwrap();
        assert!(matches!(
            d.add_spec("zoe"),
            Err(DeliveryError::Syntax { .. })
        ));
        let other = Delivery::parse_list(&format!("ZOË ANN {R1}")).unwrap();
        assert!(matches!(
            d.merge(other),
            Err(DeliveryError::Duplicate { .. })
        ));
    }

    #[test]
    fn check_against_policy() {
        let policy = Policy::single(2, &["alice".into(), "bob".into(), "carol".into()]).unwrap();
        let mut d = Delivery::new();
        d.add("Carol", R1).unwrap();
        d.check(&policy, &["alice".into(), "bob".into(), "carol".into()])
            .unwrap();
        let e = d.check(&policy, &["alice".into()]).unwrap_err();
        assert!(matches!(e, DeliveryError::NotIssued { .. }), "{e}");
        d.add("dave", R1).unwrap();
        d.add("erin", R1).unwrap();
        let e = d.check(&policy, &["carol".into()]).unwrap_err();
        assert_eq!(
            e,
            DeliveryError::UnknownCustodians {
                names: vec!["dave".into(), "erin".into()],
                custodians: vec!["alice".into(), "bob".into(), "carol".into()]
            }
        );
        assert!(e.to_string().contains("alice, bob, carol"), "{e}");
    }

    #[test]
    fn encrypt_then_decrypt_in_memory() {
        let id = age::x25519::Identity::generate();
        let other = age::x25519::Identity::generate();
        let r = Recipients::parse("alice", &id.to_public().to_string()).unwrap();
        let plain = b"custody-share:abc\n".repeat(5000);
        let ct = r.encrypt("alice", &plain).unwrap();
        assert!(ct.starts_with(wire::AGE_BINARY_MAGIC));
        assert!(is_encrypted(&ct));
        assert!(!ct.windows(17).any(|w| w == b"custody-share:abc"));
        let ids: Vec<AgeIdentity> = vec![Box::new(other.clone()), Box::new(id.clone())];
        assert_eq!(&*decrypt(&ct, &ids, 1 << 20).unwrap(), &plain[..]);
        assert!(matches!(
            decrypt(&ct, &ids, 100),
            Err(OpenError::TooLarge { limit: 100 })
        ));
        assert!(matches!(
            decrypt(&ct, &[], 1 << 20),
            Err(OpenError::NoIdentity)
        ));
        let wrong: Vec<AgeIdentity> = vec![Box::new(other)];
        assert!(matches!(
            decrypt(&ct, &wrong, 1 << 20),
            Err(OpenError::NoMatchingIdentity)
        ));
        let mut torn = ct.clone();
        torn.truncate(ct.len() - 10);
        assert!(matches!(
            decrypt(&torn, &ids, 1 << 20),
            Err(OpenError::Damaged(_))
        ));
    }

    #[test]
    fn armored_input_is_recognised_and_opened() {
        use std::io::Write;
        let id = age::x25519::Identity::generate();
        let recipient = id.to_public();
        let enc = age::Encryptor::with_recipients(std::iter::once(&recipient as _)).unwrap();
        let mut out = Vec::new();
        let armor =
            age::armor::ArmoredWriter::wrap_output(&mut out, age::armor::Format::AsciiArmor)
                .unwrap();
        let mut w = enc.wrap_output(armor).unwrap();
        w.write_all(b"hello").unwrap();
        w.finish().unwrap().finish().unwrap();
        let mut padded = b"\n  ".to_vec();
        padded.extend_from_slice(&out);
        assert!(is_encrypted(&padded));
        assert!(!is_encrypted(b"custody-share:abc"));
        let ids: Vec<AgeIdentity> = vec![Box::new(id)];
        assert_eq!(&*decrypt(&padded, &ids, 100).unwrap(), b"hello");
    }

    #[test]
    fn identity_files() {
        let dir = tempfile::tempdir().unwrap();
        let id = age::x25519::Identity::generate();
        let good = dir.path().join("id.txt");
        {
            use secrecy::ExposeSecret;
            std::fs::write(
                &good,
                format!("# created: now\n{}\n", id.to_string().expose_secret()),
            )
            .unwrap();
        }
        assert_eq!(read_identity_file(&good).unwrap().len(), 1);
        let plugin = dir.path().join("yk.txt");
        std::fs::write(&plugin, "AGE-PLUGIN-YUBIKEY-1QQQ\n").unwrap();
        let e = read_identity_file(&plugin).err().unwrap();
        assert!(e.to_string().contains("plugin"), "{e}");
        assert!(e.to_string().contains("yk.txt"), "{e}");
        let junk = dir.path().join("junk.txt");
        std::fs::write(&junk, "not a key\n").unwrap();
        let e = read_identity_file(&junk).err().unwrap();
        assert!(e.to_string().contains("not an age identity file"), "{e}");
        let empty = dir.path().join("empty.txt");
        std::fs::write(&empty, "# nothing\n").unwrap();
        assert!(read_identity_file(&empty).is_err());
        assert!(read_identity_file(&dir.path().join("missing")).is_err());
    }
}
