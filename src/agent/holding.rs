//! What an unlocked agent holds: each opened credential as the JSON object a client receives
//! (exchange, account, scope, secret fields), in locked, zeroized memory; the ratified access
//! policy; the recorder that signs its records; when it seals; and what it watches to notice
//! the vault changing under it.

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use zeroize::Zeroizing;

use super::proxy_tokens::Tokens;
use crate::audit::AgentRecorder;
use crate::exchange::registry;
use crate::exchange::venue::Secrets;
use crate::ops::agent_unlock::AgentUnlocked;
use crate::ops::release;
use crate::secret::SecretBytes;
use crate::vault::Vault;
use crate::vault::access::AccessPolicy;
use crate::vault::ratify::EntryState;
use crate::vault::store;

/// One credential the agent holds.
pub struct Held {
    /// Its name.
    pub name: String,
    /// The exchange.
    pub exchange: String,
    /// The account label.
    pub account: String,
    /// Its scope, e.g. `read,trade`.
    pub scope: String,
    /// Its expiry day, if it has one.
    pub expires: Option<String>,
    /// Its secret fields as the signing proxy signs with them, when the proxy serves its
    /// exchange and it has the fields the exchange signs with.
    pub signing: Option<Arc<Secrets>>,
    /// SHA-256 of its canonical entry when it was opened.
    digest: [u8; 32],
    /// The object a client receives, in locked memory.
    object: SecretBytes,
}

impl Held {
    /// The JSON object a client receives for it (secret).
    pub fn object(&self) -> &[u8] {
        self.object.expose()
    }

    /// Whether its pages are locked in RAM.
    pub fn is_locked(&self) -> bool {
        self.object.is_locked()
    }
}

/// Everything an unlocked agent holds. Dropping it wipes every credential.
pub struct Holding {
    /// The credentials, by name order.
    pub held: Vec<Held>,
    /// Granted credentials not opened at unlock, with why.
    pub not_opened: Vec<(String, String)>,
    /// The ratified access policy.
    pub policy: AccessPolicy,
    /// Signs the agent's records with the key the unlock record certified.
    pub recorder: AgentRecorder,
    /// Unix seconds of the unlock.
    pub unlocked_at: u64,
    /// Unix seconds at which it seals (`--max-ttl`).
    pub expires_at: u64,
    /// The signing proxy's tokens issued in this session (wiped with the holding).
    pub tokens: Mutex<Tokens>,
    watch: VaultWatch,
}

impl Holding {
    /// Take what an unlock opened: each credential is serialised once into locked memory and
    /// the opened fields are dropped (zeroized).
    pub fn new(
        u: AgentUnlocked,
        vault_path: &Path,
        unlocked_at: u64,
        expires_at: u64,
    ) -> Result<Holding, serde_json::Error> {
        let AgentUnlocked {
            opened,
            not_opened,
            policy,
            vault,
            recorder,
            ..
        } = u;
        let id = vault.vault_id();
        let mut held = Vec::with_capacity(opened.len());
        for (c, f) in &opened {
            let json: Zeroizing<Vec<u8>> = release::entry_json(c, f)?;
            held.push(Held {
                signing: signing_secrets(&c.exchange, f).map(Arc::new),
                name: c.name.clone(),
                exchange: c.exchange.clone(),
                account: c.account.clone(),
                scope: c.scope_string(),
                expires: c.expires.clone(),
                digest: c.digest(&id),
                object: SecretBytes::copy_from(&json),
            });
        }
        drop(opened);
        held.sort_by(|a, b| a.name.cmp(&b.name));
        let watch = VaultWatch::new(vault_path);
        Ok(Holding {
            held,
            not_opened,
            policy,
            recorder,
            unlocked_at,
            expires_at,
            tokens: Mutex::new(Tokens::default()),
            watch,
        })
    }

    /// The credential named `name`, if held.
    pub fn get(&self, name: &str) -> Option<&Held> {
        self.held.iter().find(|h| h.name == name)
    }

    /// Why the vault no longer backs what the agent holds, if it changed under it: checked
    /// cheaply (the file's identity, size and time) and, when those moved, by reading it. A
    /// policy in force that only lost rules (removed without a quorum, which takes access
    /// away at once) is adopted; any other change of the policy in force is a problem.
    pub fn vault_problem(&mut self) -> Option<String> {
        match self.watch.check(&self.held, &self.policy) {
            Watched::Same => None,
            Watched::Narrowed(p) => {
                self.policy = p;
                None
            }
            Watched::Problem(why) => Some(why),
        }
    }
}

/// The fields the proxy signs `exchange`'s requests with, copied into locked memory; `None`
/// when the proxy does not serve the exchange or a field it needs is missing (the proxy then
/// refuses to issue a token for it, saying which).
fn signing_secrets(exchange: &str, f: &crate::vault::seal::SecretFields) -> Option<Secrets> {
    let v = registry::by_name(exchange)?;
    let key = f.api_key.as_deref()?;
    let secret = f.api_secret.as_deref().or(f.private_key_pem.as_deref())?;
    let passphrase = if v.has_passphrase() {
        Some(SecretBytes::copy_from(f.passphrase.as_deref()?.as_bytes()))
    } else {
        None
    };
    Some(Secrets {
        api_key: SecretBytes::copy_from(key.as_bytes()),
        secret: SecretBytes::copy_from(secret.as_bytes()),
        passphrase,
    })
}

/// The vault file's identity as last checked.
struct VaultWatch {
    path: PathBuf,
    stamp: Option<(u64, u64, u64, i64, i64)>,
}

/// What a look at the vault found.
enum Watched {
    /// Nothing the agent relies on changed.
    Same,
    /// The policy in force lost rules and nothing else changed: serve by this one.
    Narrowed(AccessPolicy),
    /// Seal, for this reason.
    Problem(String),
}

fn stamp(path: &Path) -> Option<(u64, u64, u64, i64, i64)> {
    fs::symlink_metadata(path)
        .ok()
        .map(|m| (m.dev(), m.ino(), m.size(), m.mtime(), m.mtime_nsec()))
}

impl VaultWatch {
    fn new(path: &Path) -> VaultWatch {
        VaultWatch {
            path: path.to_path_buf(),
            // Unknown: the first check reads the vault (the unlock itself rewrote it to
            // anchor its record).
            stamp: None,
        }
    }

    fn check(&mut self, held: &[Held], policy: &AccessPolicy) -> Watched {
        let now = stamp(&self.path);
        if now.is_some() && now == self.stamp {
            return Watched::Same;
        }
        let found = match store::load(&self.path) {
            Err(e) => Watched::Problem(format!(
                "the vault cannot be read or no longer verifies: {e}"
            )),
            Ok(vault) => changed(&vault, &self.path, held, policy),
        };
        if !matches!(found, Watched::Problem(_)) {
            self.stamp = now;
        }
        found
    }
}

/// What changed in `vault` that the agent relies on: a held credential rotated, removed,
/// no longer ratified or tampered with; the access policy in force changed or tampered with.
fn changed(vault: &Vault, path: &Path, held: &[Held], policy: &AccessPolicy) -> Watched {
    let id = vault.vault_id();
    let problem = |why: String| Watched::Problem(why);
    let assessment = match vault.assess_beside(path) {
        Ok(a) => a,
        Err(e) => return problem(format!("the vault's ratification cannot be checked: {e}")),
    };
    if let Some(r) = assessment.rollback {
        return problem(r.to_string());
    }
    for h in held {
        let Some(c) = vault.credentials().get(&h.name) else {
            return problem(format!(
                "credential `{}` was removed from the vault",
                h.name
            ));
        };
        if c.digest(&id) != h.digest {
            return problem(format!("credential `{}` changed in the vault", h.name));
        }
        match assessment.state_of(vault, &h.name) {
            Some(EntryState::Ratified) => {}
            Some(state) => {
                return problem(format!("credential `{}`: {}", h.name, state.describe()));
            }
            None => {
                return problem(format!(
                    "credential `{}` was removed from the vault",
                    h.name
                ));
            }
        }
    }
    let seen = match store::seen_beside(path) {
        Ok(s) => s,
        Err(e) => return problem(format!("the vault's generation record cannot be read: {e}")),
    };
    match vault.ratified_access(seen) {
        Err(e) => problem(e.to_string()),
        Ok(p) if p.rules() == policy.rules() => Watched::Same,
        Ok(p) if p.rules().iter().all(|r| policy.rules().contains(r)) => Watched::Narrowed(p),
        Ok(_) => problem(
            "the agent access policy in force changed (a quorum ratified new rules); unlock \
             again to serve by it"
                .to_owned(),
        ),
    }
}
