//! The host key file: the host's Ed25519 seed in text, kept on the host with mode 0600.
//!
//! ```text
//! # custody host key: SECRET, keep this file on this machine only (mode 0600)
//! # public custody-host:<base64url of the public key> fingerprint XXXX-XXXX-XXXX-XXXX
//! custody-host-key:<base64url of the 32-byte seed>
//! ```
//!
//! Lines starting with `#` and blank lines are comments; exactly one line is the secret. The
//! file is created new (never over another file or through a link) with mode 0600, and
//! refused on loading when its group or others may read or write it (shares-format.md, "Host
//! key file").

use std::fmt;
use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::{SigningKey, VerifyingKey};
use rand_core::OsRng;
use zeroize::Zeroizing;

use super::public::public_text;
use crate::keys::fingerprint;
use crate::safe_file::{self, FileError};
use crate::wire;

/// Why a host key file could not be written or used. Never holds any of the secret.
#[derive(Debug)]
pub enum HostKeyError {
    /// A file (or link) is already at the path: a host key is never overwritten.
    Exists(PathBuf),
    /// The file could not be created, opened or read.
    Io {
        /// The host key file.
        path: PathBuf,
        /// What the system said.
        source: io::Error,
    },
    /// The path is not a regular file, or is larger than a host key file can be.
    Refused {
        /// The host key file.
        path: PathBuf,
        /// Why.
        refusal: safe_file::Refusal,
    },
    /// The file's group or other users may read or write it.
    Exposed {
        /// The host key file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The file is not a host key file.
    Malformed {
        /// The host key file.
        path: PathBuf,
        /// What is wrong (it never quotes the file).
        problem: &'static str,
    },
}

impl fmt::Display for HostKeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HostKeyError::Exists(p) => write!(
                f,
                "{} already exists; custody never overwrites a host key: choose another file, \
                 or remove that one first if it is really no longer needed",
                p.display()
            ),
            HostKeyError::Io { path, source } => {
                write!(f, "the host key file {}: {source}", path.display())
            }
            HostKeyError::Refused { path, refusal } => {
                write!(f, "the host key file {} {refusal}", path.display())
            }
            HostKeyError::Exposed { path, mode } => write!(
                f,
                "the host key file {} has mode {mode:04o}: its group or other users may read \
                 or change it. Run `chmod 600 {}`, and if anyone else may have copied it, make \
                 a new key and have the vault's known host replaced",
                path.display(),
                path.display()
            ),
            HostKeyError::Malformed { path, problem } => write!(
                f,
                "{} is not a custody host key file ({problem}); give the file `custody host-key \
                 new` wrote",
                path.display()
            ),
        }
    }
}

impl std::error::Error for HostKeyError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            HostKeyError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

fn from_file_error(path: &Path, e: FileError) -> HostKeyError {
    match e {
        FileError::Io(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            HostKeyError::Exists(path.to_path_buf())
        }
        FileError::Refused(safe_file::Refusal::SymbolicLink) => {
            HostKeyError::Exists(path.to_path_buf())
        }
        FileError::Io(source) => HostKeyError::Io {
            path: path.to_path_buf(),
            source,
        },
        FileError::Refused(refusal) => HostKeyError::Refused {
            path: path.to_path_buf(),
            refusal,
        },
    }
}

/// The file's text for `key` (comments, then the secret line), in a buffer wiped on drop.
fn file_text(key: &SigningKey) -> Zeroizing<String> {
    let public = key.verifying_key();
    let mut text = Zeroizing::new(String::with_capacity(256));
    text.push_str(
        "# custody host key: SECRET, keep this file on this machine only (mode 0600)\n# public ",
    );
    text.push_str(&public_text(&public));
    text.push_str(" fingerprint ");
    text.push_str(&fingerprint(&public));
    text.push('\n');
    text.push_str(wire::HOST_SECRET_PREFIX);
    let seed = Zeroizing::new(key.to_bytes());
    let mut b64 = Zeroizing::new([0u8; 43]);
    let n = URL_SAFE_NO_PAD
        .encode_slice(&seed[..], &mut b64[..])
        .expect("32 bytes are 43 base64url characters");
    text.push_str(std::str::from_utf8(&b64[..n]).expect("base64url is ASCII"));
    text.push('\n');
    text
}

/// Generate a new host key and write it to `path` (created new, mode 0600, whatever the umask;
/// refused if anything is at `path`, a link included). Returns the public key.
pub fn generate(path: &Path) -> Result<VerifyingKey, HostKeyError> {
    if path.symlink_metadata().is_ok() {
        return Err(HostKeyError::Exists(path.to_path_buf()));
    }
    let key = SigningKey::generate(&mut OsRng);
    safe_file::create_own(path, file_text(&key).as_bytes(), 0o600)
        .map_err(|e| from_file_error(path, e))?;
    Ok(key.verifying_key())
}

/// The secret in a host key file's text. Comments and blank lines aside, the text must be
/// exactly one `custody-host-key:` line of 43 base64url characters (32 bytes).
fn parse(path: &Path, text: &[u8]) -> Result<SigningKey, HostKeyError> {
    let bad = |problem| HostKeyError::Malformed {
        path: path.to_path_buf(),
        problem,
    };
    let text = std::str::from_utf8(text).map_err(|_| bad("it is not UTF-8 text"))?;
    let mut secret = None;
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if secret.is_some() {
            return Err(bad("it has more than one key line"));
        }
        secret = Some(line.strip_prefix(wire::HOST_SECRET_PREFIX).ok_or(bad(
            "a line is neither a comment nor a `custody-host-key:` line",
        ))?);
    }
    let b64 = secret.ok_or(bad("it has no `custody-host-key:` line"))?;
    if b64.len() != 43 {
        return Err(bad("the key is not 43 base64url characters (32 bytes)"));
    }
    let mut seed = Zeroizing::new([0u8; 33]);
    let n = URL_SAFE_NO_PAD
        .decode_slice(b64, &mut seed[..])
        .map_err(|_| bad("the key is not base64url"))?;
    if n != 32 {
        return Err(bad("the key is not 32 bytes"));
    }
    let mut exact = Zeroizing::new([0u8; 32]);
    exact.copy_from_slice(&seed[..32]);
    Ok(SigningKey::from_bytes(&exact))
}

/// Load the host key at `path` (a link is followed; the file it reaches is checked): a
/// regular file of at most [`wire::MAX_HOST_KEY_FILE_BYTES`] that neither its group nor
/// others may read or write. The key wipes itself when dropped.
pub fn load(path: &Path) -> Result<SigningKey, HostKeyError> {
    let io = |source| HostKeyError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = File::options()
        .read(true)
        .custom_flags(rustix::fs::OFlags::NONBLOCK.bits() as i32)
        .open(path)
        .map_err(io)?;
    let meta = file.metadata().map_err(io)?;
    if !meta.is_file() {
        return Err(HostKeyError::Refused {
            path: path.to_path_buf(),
            refusal: safe_file::Refusal::NotAFile {
                pipes_allowed: false,
            },
        });
    }
    let mode = meta.mode() & 0o7777;
    if mode & 0o077 != 0 {
        return Err(HostKeyError::Exposed {
            path: path.to_path_buf(),
            mode,
        });
    }
    let limit = wire::MAX_HOST_KEY_FILE_BYTES;
    let mut bytes = Zeroizing::new(Vec::with_capacity(512));
    file.take(limit + 1).read_to_end(&mut bytes).map_err(io)?;
    if bytes.len() as u64 > limit {
        return Err(HostKeyError::Refused {
            path: path.to_path_buf(),
            refusal: safe_file::Refusal::TooLarge { limit },
        });
    }
    parse(path, &bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn dir() -> tempfile::TempDir {
        tempfile::tempdir().unwrap()
    }

    #[test]
    fn a_generated_key_loads_back_and_is_never_overwritten() {
        let d = dir();
        let p = d.path().join("host.key");
        let public = generate(&p).unwrap();
        let meta = std::fs::metadata(&p).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        let text = std::fs::read_to_string(&p).unwrap();
        assert!(text.contains(&public_text(&public)), "{text}");
        assert!(text.contains(&fingerprint(&public)), "{text}");
        assert_eq!(load(&p).unwrap().verifying_key(), public);
        let before = std::fs::read(&p).unwrap();
        assert!(matches!(generate(&p), Err(HostKeyError::Exists(_))));
        assert_eq!(std::fs::read(&p).unwrap(), before);
    }

    #[test]
    fn a_known_seed_gives_its_known_file() {
        let key = SigningKey::from_bytes(&[7; 32]);
        let text = file_text(&key);
        assert!(
            text.ends_with("\ncustody-host-key:BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc\n"),
            "{}",
            *text
        );
        let d = dir();
        assert_eq!(
            parse(&d.path().join("k"), text.as_bytes())
                .unwrap()
                .to_bytes(),
            [7; 32]
        );
    }

    #[test]
    fn a_file_others_may_read_is_refused() {
        let d = dir();
        let p = d.path().join("host.key");
        generate(&p).unwrap();
        for mode in [0o644, 0o640, 0o604, 0o620] {
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
            let e = load(&p).unwrap_err();
            assert!(matches!(e, HostKeyError::Exposed { mode: m, .. } if m == mode));
            assert!(e.to_string().contains("chmod 600"), "{e}");
        }
    }

    #[test]
    fn malformed_files_are_refused_naming_the_file_without_quoting_it() {
        let d = dir();
        let p = d.path().join("bad.key");
        for (text, problem) in [
            (&b"\xff"[..], "it is not UTF-8 text"),
            (b"# only a comment\n", "it has no `custody-host-key:` line"),
            (b"hello\n", "a line is neither a comment nor a `custody-host-key:` line"),
            (
                b"custody-host-key:BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc\ncustody-host-key:BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc\n",
                "it has more than one key line",
            ),
            (b"custody-host-key:BwcH\n", "the key is not 43 base64url characters (32 bytes)"),
            (
                b"custody-host-key:Bwc*BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc\n",
                "the key is not base64url",
            ),
        ] {
            let e = parse(&p, text).unwrap_err();
            assert!(
                matches!(&e, HostKeyError::Malformed { problem: got, .. } if *got == problem),
                "{e}"
            );
            assert!(e.to_string().contains("bad.key"), "{e}");
            assert!(!e.to_string().contains("BwcH"), "{e}");
        }
        std::fs::write(&p, vec![b'#'; 5000]).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert!(matches!(
            load(&p),
            Err(HostKeyError::Refused {
                refusal: safe_file::Refusal::TooLarge { .. },
                ..
            })
        ));
        assert!(matches!(
            load(d.path()),
            Err(HostKeyError::Refused { .. } | HostKeyError::Io { .. })
        ));
    }
}
