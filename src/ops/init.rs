//! Creating a vault: a new master secret (OS randomness, optionally mixed with officer
//! entropy), split into SLIP-39 shares by the policy, one signed share file (and sheets) per
//! custodian, and the signed vault file. Nothing is written unless the whole set verifies;
//! nothing is overwritten, and an existing file is refused before any secret exists.

use std::fmt;
use std::path::{Path, PathBuf};

use rand_core::{OsRng, RngCore};

use crate::clock::Clock;
use crate::delivery::Delivery;
use crate::harden::{self, Hardening};
use crate::keys::{KeyError, MasterSecret};
use crate::ops::issue::{self, IssueError, Layout};
use crate::policy::Policy;
use crate::progress::{Progress, Silent};
use crate::sheet::{Format, Paper};
use crate::slip39::{self, Slip39Error};
use crate::vault::store::{self, StoreError};
use crate::vault::{Slip39Params, Vault, VaultError};
use crate::wire;

/// The least officer entropy accepted, in bytes.
pub const MIN_OFFICER_ENTROPY: usize = 16;

/// What to create, and where.
#[derive(Clone, Debug)]
pub struct InitRequest {
    /// The vault file to create (it must not exist).
    pub vault: PathBuf,
    /// The folder for the share files (created if missing).
    pub out_dir: PathBuf,
    /// The custodians and thresholds.
    pub policy: Policy,
    /// SLIP-39 iteration exponent (the passphrase cipher runs 10000 * 2^E PBKDF2 iterations).
    pub iteration_exponent: u8,
    /// Which files to write per custodian.
    pub formats: Vec<Format>,
    /// Paper size of the sheets.
    pub paper: Paper,
    /// The custodians whose files are written only as age ciphertexts to their own recipients
    /// (empty: all in plaintext).
    pub delivery: Delivery,
}

/// One custodian's new files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IssuedFiles {
    /// The custodian's name, as in the policy.
    pub custodian: String,
    /// The name of the policy group the custodian belongs to.
    pub group: String,
    /// The paths written for this custodian, one per requested format, in that order.
    pub files: Vec<PathBuf>,
    /// The age recipients the files are encrypted to (`age1...`); empty when they were
    /// written in plaintext.
    pub delivered_to: Vec<String>,
}

/// The vault created. Nothing secret.
#[derive(Debug)]
pub struct InitReport {
    /// The vault file written.
    pub path: PathBuf,
    /// The vault as written.
    pub vault: Vault,
    /// Each custodian's files, in policy order.
    pub files: Vec<IssuedFiles>,
    /// What the process hardening could not do.
    pub hardening_warnings: Vec<String>,
}

/// Why no vault was created. Nothing is left behind.
#[derive(Debug)]
pub enum InitError {
    /// The officer entropy is too short to count.
    ShortEntropy {
        /// How many bytes of officer entropy were given.
        len: usize,
    },
    /// A share file or sheet could not be planned or written (one exists already, say), or
    /// the new set failed its self-check.
    Issue(IssueError),
    /// The vault file could not be written.
    Store(StoreError),
    /// The master key could not be derived.
    Key(KeyError),
    /// The secret could not be split (a passphrase SLIP-39 refuses, say).
    Slip39(Slip39Error),
    /// The vault could not be made (the policy is invalid, say).
    Vault(VaultError),
}

impl fmt::Display for InitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InitError::ShortEntropy { len } => write!(
                f,
                "the officer entropy has {len} bytes, fewer than {MIN_OFFICER_ENTROPY}; give \
                 more (for example 100 dice rolls)"
            ),
            InitError::Issue(e) => e.fmt(f),
            InitError::Store(e) => e.fmt(f),
            InitError::Key(e) => e.fmt(f),
            InitError::Slip39(e) => e.fmt(f),
            InitError::Vault(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for InitError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            InitError::ShortEntropy { .. } => None,
            InitError::Issue(e) => Some(e),
            InitError::Store(e) => Some(e),
            InitError::Key(e) => Some(e),
            InitError::Slip39(e) => Some(e),
            InitError::Vault(e) => Some(e),
        }
    }
}

super::wrap_errors!(
    InitError,
    IssueError => Issue,
    StoreError => Store,
    KeyError => Key,
    Slip39Error => Slip39,
    VaultError => Vault,
);

/// A vault creation checked to write nothing over anything, with the process hardened; no
/// secret exists yet. The front end reads the officer entropy and passphrase next, then calls
/// [`Planned::create`].
pub struct Planned {
    request: InitRequest,
    layout: Layout,
    hardening: Hardening,
}

/// Harden the process and refuse if the vault or any share file already exists.
pub fn plan(request: InitRequest) -> Result<Planned, InitError> {
    let hardening = harden::for_quorum();
    let mut request = request;
    request.policy = request
        .policy
        .for_new_shares()
        .map_err(VaultError::Policy)?;
    let layout = issue::plan_delivered(
        &request.out_dir,
        &issue::numbered(&request.policy),
        request.formats.clone(),
        Some(&request.vault),
        &request.delivery,
        &request.policy,
    )?;
    Ok(Planned {
        request,
        layout,
        hardening,
    })
}

impl Planned {
    /// The vault file this will create.
    pub fn vault_path(&self) -> &Path {
        &self.request.vault
    }

    /// Generate the master secret (mixing in `entropy` if given), split it by the policy with
    /// `passphrase` (if any), sign one token per custodian and the vault, check that the new
    /// shares read back and reconstruct the vault's key, then write every share file and the
    /// vault. The master secret is erased before anything is written.
    pub fn create(
        self,
        entropy: Option<&[u8]>,
        passphrase: Option<&str>,
        clock: Clock,
    ) -> Result<InitReport, InitError> {
        self.create_reporting(entropy, passphrase, clock, &mut Silent)
    }

    /// [`Planned::create`], telling `progress` as each custodian's files begin to be written
    /// ([`Task::WritingSheets`](crate::progress::Task::WritingSheets): rendering a PDF or PNG
    /// sheet takes a moment, and a policy may have many custodians).
    pub fn create_reporting(
        self,
        entropy: Option<&[u8]>,
        passphrase: Option<&str>,
        clock: Clock,
        progress: &mut dyn Progress,
    ) -> Result<InitReport, InitError> {
        if let Some(e) = entropy
            && e.len() < MIN_OFFICER_ENTROPY
        {
            return Err(InitError::ShortEntropy { len: e.len() });
        }
        let Planned {
            request,
            layout,
            hardening,
        } = self;
        let policy = &request.policy;
        let master = MasterSecret::generate(&mut OsRng, entropy);
        let keys = master.derive()?;
        let mut vault_id = [0u8; wire::VAULT_ID_LEN];
        OsRng.fill_bytes(&mut vault_id);
        let now = clock.now();

        let pass_bytes: &[u8] = passphrase.map(str::as_bytes).unwrap_or(b"");
        let groups = slip39::generate_shares(
            &mut OsRng,
            master.expose(),
            pass_bytes,
            policy.group_threshold,
            &policy.group_specs(),
            true,
            request.iteration_exponent,
        )?;
        let identifier = groups[0][0].identifier;
        let vault = Vault::create(
            vault_id,
            now,
            &keys,
            Slip39Params {
                identifier,
                extendable: true,
                iteration_exponent: request.iteration_exponent,
                passphrase: passphrase.is_some(),
            },
            policy.clone(),
        )?;

        // One signed token per custodian, in policy order.
        let tokens = issue::sign_tokens(
            issue::policy_shares(policy, groups),
            vault_id,
            vault.epoch(),
            now,
            keys.signing_key(),
        )?;

        // Self-check before writing: every group's first threshold shares, re-read from their
        // text form, must reconstruct a secret that derives this vault's key.
        issue::self_check(&tokens, &vault, passphrase.map(str::as_bytes))?;
        drop(master);
        drop(keys);

        let fingerprint = vault.fingerprint();
        issue::write_all(
            &layout,
            &tokens,
            policy,
            &fingerprint,
            request.paper,
            progress,
            || {
                store::create_new(&request.vault, vault.to_json().as_bytes(), 0o644)?;
                Ok::<(), InitError>(())
            },
        )?;
        let files = tokens
            .iter()
            .zip(layout.files())
            .zip(layout.delivered())
            .map(|((t, paths), to)| IssuedFiles {
                custodian: t.info.custodian.clone(),
                group: t.info.group.clone(),
                files: paths.clone(),
                delivered_to: to.as_ref().map(|r| r.texts().to_vec()).unwrap_or_default(),
            })
            .collect();
        drop(tokens);
        Ok(InitReport {
            path: request.vault,
            vault,
            files,
            hardening_warnings: hardening.warnings(),
        })
    }
}

/// [`plan`] and [`Planned::create`] in one step.
pub fn init(
    request: InitRequest,
    entropy: Option<&[u8]>,
    passphrase: Option<&str>,
    clock: Clock,
) -> Result<InitReport, InitError> {
    plan(request)?.create(entropy, passphrase, clock)
}
