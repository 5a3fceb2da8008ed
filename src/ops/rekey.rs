//! Changing who holds the shares: a reshare or a master rotation is prepared by a quorum of the
//! current set, then confirmed by a threshold of the new set, or cancelled by a quorum of
//! either.
//!
//! A reshare splits the SAME master secret anew for a new policy under a new SLIP-39
//! identifier; a master rotation makes a NEW master secret (new keys) and reseals every
//! credential to it in memory while the current quorum is open. Either writes the new share
//! files and a signed pending-change record into the vault; the current set stays valid.
//! [`confirm`] applies the change once a threshold of the NEW shares unlocks against the
//! pending parameters (epoch + 1); [`cancel`] drops it. Each is one audit-log ceremony.

use std::fmt;
use std::path::{Path, PathBuf};

use rand_core::OsRng;

use super::issue::{self, IssueError, Layout};
use super::session::{Begun, Presentation, SessionError};
use crate::audit::{AuditError, RETIRED_KEY_NOTE};
use crate::clock::Clock;
use crate::delivery::Delivery;
use crate::input::Presented;
use crate::keys::{self, DerivedKeys, KeyError, MasterSecret};
use crate::policy::{Policy, PolicyError};
use crate::quorum;
use crate::sheet::{Format, Paper};
use crate::slip39::{self, Share, Slip39Error};
use crate::token::Token;
use crate::vault::change::{ChangeError, PendingChange};
use crate::vault::credential::Credential;
use crate::vault::seal::{self, SealError};
use crate::vault::store::{self, OnRollback, StoreError};
use crate::vault::{Slip39Params, Vault};

pub use crate::vault::change::ChangeKind;

/// Why a custodian change could not be prepared, confirmed or cancelled. Nothing is left
/// half-done: share files written before a failure are removed again, and the vault is only
/// written as the last step.
#[derive(Debug)]
pub enum RekeyError {
    /// The ceremony could not start or be recorded, or the shares do not make a quorum.
    Session(SessionError),
    /// The vault could not be read or written.
    Store(StoreError),
    /// The change cannot be made, confirmed or cancelled in the vault's present state.
    Change(ChangeError),
    /// The new policy cannot be used (a name, a threshold): nothing was read or written.
    Policy(PolicyError),
    /// The new share set could not be issued (files exist, a write failed, self-check).
    Issue(IssueError),
    /// A credential could not be opened or resealed for the new key.
    Seal(SealError),
    /// The secret could not be split anew.
    Slip39(Slip39Error),
    /// The new master key could not be derived.
    Key(KeyError),
    /// The ceremony's record could not be written.
    Audit(AuditError),
    /// Confirmation was attempted with shares of the CURRENT set (they are named).
    CurrentSetShares {
        /// The input labels of the current set's shares.
        labels: Vec<String>,
        /// The current epoch.
        epoch: u32,
        /// What is pending.
        kind: ChangeKind,
        /// The epoch the new shares carry.
        pending_epoch: u32,
    },
}

impl fmt::Display for RekeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RekeyError::Session(e) => e.fmt(f),
            RekeyError::Store(e) => e.fmt(f),
            RekeyError::Change(e) => e.fmt(f),
            RekeyError::Policy(e) => e.fmt(f),
            RekeyError::Issue(e) => e.fmt(f),
            RekeyError::Seal(e) => e.fmt(f),
            RekeyError::Slip39(e) => write!(f, "the secret could not be split anew: {e}"),
            RekeyError::Key(e) => e.fmt(f),
            RekeyError::Audit(e) => e.fmt(f),
            RekeyError::CurrentSetShares {
                labels,
                epoch,
                kind,
                pending_epoch,
            } => write!(
                f,
                "share(s) {} belong to the CURRENT set (epoch {epoch}); confirming needs a \
                 threshold of the NEW shares written by the pending {} (epoch {pending_epoch})",
                labels.join(", "),
                kind.as_str()
            ),
        }
    }
}

impl std::error::Error for RekeyError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            RekeyError::Session(e) => Some(e),
            RekeyError::Store(e) => Some(e),
            RekeyError::Change(e) => Some(e),
            RekeyError::Policy(e) => Some(e),
            RekeyError::Issue(e) => Some(e),
            RekeyError::Seal(e) => Some(e),
            RekeyError::Slip39(e) => Some(e),
            RekeyError::Key(e) => Some(e),
            RekeyError::Audit(e) => Some(e),
            RekeyError::CurrentSetShares { .. } => None,
        }
    }
}

super::wrap_errors!(RekeyError,
    SessionError => Session,
    StoreError => Store,
    ChangeError => Change,
    PolicyError => Policy,
    IssueError => Issue,
    SealError => Seal,
    Slip39Error => Slip39,
    KeyError => Key,
    AuditError => Audit,
);

/// Where and how the new share set is written.
#[derive(Clone, Debug)]
pub struct Output {
    /// The folder for the new files (created if missing; nothing is overwritten).
    pub out_dir: PathBuf,
    /// The files written per custodian (share file, sheets).
    pub formats: Vec<Format>,
    /// The sheets' paper size.
    pub paper: Paper,
    /// The custodians whose new files are written only as age ciphertexts to their own
    /// recipients (empty: all in plaintext).
    pub delivery: Delivery,
}

/// A change prepared and waiting for confirmation.
#[derive(Debug)]
pub struct Prepared {
    /// Reshare or master rotation.
    pub kind: ChangeKind,
    /// The vault's (current) epoch.
    pub epoch: u32,
    /// The epoch the new shares carry.
    pub new_epoch: u32,
    /// The fingerprint every new sheet shows (a new one for a master rotation).
    pub fingerprint: String,
    /// How many credentials were resealed to the new key (0 for a reshare).
    pub resealed: usize,
    /// The new policy.
    pub policy: Policy,
    /// The new shares' tokens, in policy order (secret: for listing names and files only).
    pub tokens: Vec<Token>,
    /// Where each token's files were written.
    pub layout: Layout,
    /// What the process hardening could not do.
    pub hardening_warnings: Vec<String>,
}

/// Whether a change of this vault can start (none is pending).
pub fn check_none_pending(vault: &Vault) -> Result<(), ChangeError> {
    match &vault.pending_change() {
        Some(p) => Err(ChangeError::AlreadyPending {
            kind: p.kind(),
            created: p.created(),
        }),
        None => Ok(()),
    }
}

/// Split `secret` for `policy` under a fresh identifier that differs from `avoid` (so that
/// the new set can never be mistaken for the current one).
fn split_anew(
    secret: &[u8],
    passphrase: &[u8],
    policy: &Policy,
    iteration_exponent: u8,
    avoid: u16,
) -> Result<Vec<Vec<Share>>, Slip39Error> {
    loop {
        let groups = slip39::generate_shares(
            &mut OsRng,
            secret,
            passphrase,
            policy.group_threshold,
            &policy.group_specs(),
            true,
            iteration_exponent,
        )?;
        if groups[0][0].identifier != avoid {
            return Ok(groups);
        }
    }
}

/// Open every credential with the current identity and seal it again to `new_recipient`.
/// Refuses if anything was changed outside custody (the quorum does not launder it).
fn reseal_all(
    vault: &Vault,
    path: &Path,
    old: &DerivedKeys,
    new_recipient: &str,
) -> Result<Vec<Credential>, RekeyError> {
    let tampered = vault.assess_beside(path)?.tamper_lines(vault);
    if !tampered.is_empty() {
        return Err(ChangeError::Tampered(tampered).into());
    }
    let mut out = Vec::with_capacity(vault.credentials().len());
    for c in vault.credentials().iter() {
        let fields = seal::open(&vault.vault_id(), c, old.age_identity())?;
        let mut n = c.clone();
        n.sealed = seal::seal(&vault.vault_id(), c, &fields, new_recipient)?;
        out.push(n);
    }
    Ok(out)
}

/// A reshare: the same master secret split anew for `policy`.
pub fn reshare(
    path: &Path,
    presentation: &Presentation,
    policy: Policy,
    output: &Output,
    clock: Clock,
) -> Result<Prepared, RekeyError> {
    prepare(
        ChangeKind::Reshare,
        path,
        presentation,
        policy,
        output,
        clock,
    )
}

/// A master rotation: a new master secret split for `policy`, every credential resealed.
pub fn rotate_master(
    path: &Path,
    presentation: &Presentation,
    policy: Policy,
    output: &Output,
    clock: Clock,
) -> Result<Prepared, RekeyError> {
    prepare(
        ChangeKind::RotateMaster,
        path,
        presentation,
        policy,
        output,
        clock,
    )
}

/// Prepare a change of `kind` of the vault at `path` with a quorum of the current set: write
/// the new share files to `output` and the signed pending record into the vault. The current
/// set stays valid until [`confirm`].
pub fn prepare(
    kind: ChangeKind,
    path: &Path,
    presentation: &Presentation,
    policy: Policy,
    output: &Output,
    clock: Clock,
) -> Result<Prepared, RekeyError> {
    prepare_as(
        kind,
        kind.as_str(),
        &[],
        path,
        presentation,
        policy,
        output,
        clock,
    )
}

/// [`prepare`] recorded in the audit log as ceremony `action`, with `notes` (key, value)
/// written as soon as the quorum has unlocked (so a failure later still shows them).
#[allow(clippy::too_many_arguments)]
pub(crate) fn prepare_as(
    kind: ChangeKind,
    action: &str,
    notes: &[(&str, &str)],
    path: &Path,
    presentation: &Presentation,
    policy: Policy,
    output: &Output,
    clock: Clock,
) -> Result<Prepared, RekeyError> {
    // Refusals that need no quorum come before the ceremony.
    let policy = policy.for_new_shares()?;
    check_none_pending(&store::load(path)?)?;
    let layout = issue::plan_delivered(
        &output.out_dir,
        &issue::numbered(&policy),
        output.formats.clone(),
        None,
        &output.delivery,
        &policy,
    )?;
    let begun = Begun::begin(path, action, clock)?;
    if let Err(e) = check_none_pending(begun.vault()) {
        return Err(begun.fail(RekeyError::from(e))?);
    }
    let hardening_warnings = begun.hardening_warnings();
    let session = begun.unlock(presentation)?;
    let outcome = (|| -> Result<Prepared, RekeyError> {
        for (key, value) in notes {
            session.note(key, value)?;
        }
        let vault = session.vault();
        let unlocked = session.unlocked();
        let now = session.clock().now();
        let pass: &[u8] = presentation.passphrase_bytes().unwrap_or(b"");
        let rotate = kind == ChangeKind::RotateMaster;
        // The new master secret (rotation) lives only here; it is never written.
        let new_master = rotate.then(|| MasterSecret::generate(&mut OsRng, None));
        let new_keys = new_master.as_ref().map(MasterSecret::derive).transpose()?;
        let secret = new_master.as_ref().unwrap_or(&unlocked.master).expose();
        let groups = split_anew(
            secret,
            pass,
            &policy,
            vault.slip39().iteration_exponent,
            vault.slip39().identifier,
        )?;
        let params = Slip39Params {
            identifier: groups[0][0].identifier,
            extendable: true,
            iteration_exponent: vault.slip39().iteration_exponent,
            passphrase: vault.slip39().passphrase,
        };
        let rotation = match &new_keys {
            Some(k) => Some((
                k,
                reseal_all(vault, path, &unlocked.keys, &k.age_recipient().to_string())?,
            )),
            None => None,
        };
        let pending =
            PendingChange::new(vault, &unlocked.keys, params, policy.clone(), now, rotation)?;
        let signing = new_keys.as_ref().unwrap_or(&unlocked.keys);
        let tokens = issue::sign_tokens(
            issue::policy_shares(&policy, groups),
            vault.vault_id(),
            pending.epoch(),
            now,
            signing.signing_key(),
        )?;
        let view = vault.view_with(&pending);
        issue::self_check(&tokens, &view, presentation.passphrase_bytes())?;
        drop(new_keys);
        drop(new_master);
        let fingerprint = view.fingerprint();
        issue::write_all(
            &layout,
            &tokens,
            &policy,
            &fingerprint,
            output.paper,
            &mut crate::progress::Silent,
            || {
                store::update(path, OnRollback::Refuse, |v: &mut Vault, _| {
                    // One change at a time, bound to the manifest and credentials it was made
                    // from.
                    v.propose_change(pending.clone())
                        .map_err(RekeyError::Change)
                })
            },
        )?;
        session.note("new_epoch", &pending.epoch().to_string())?;
        session.note("new_identifier", &pending.slip39().identifier.to_string())?;
        Ok(Prepared {
            kind,
            epoch: vault.epoch(),
            new_epoch: pending.epoch(),
            fingerprint,
            resealed: pending
                .rotation()
                .as_ref()
                .map_or(0, |r| r.credentials().len()),
            policy,
            tokens,
            layout,
            hardening_warnings,
        })
    })();
    session.finish(outcome, |p| {
        format!(
            "{} prepared: {} new shares for epoch {}, waiting for confirmation",
            kind.as_str(),
            p.tokens.len(),
            p.new_epoch
        )
    })
}

/// Whether a presented share belongs to the pending set (by its token, else its identifier).
pub fn is_pending_share(p: &Presented, vault: &Vault, pending: &PendingChange) -> bool {
    match &p.token {
        Some(t) => t.info.epoch == pending.epoch() && t.public_key == *pending.public_key(vault),
        None => p.share.identifier == pending.slip39().identifier,
    }
}

/// The pending change of `vault` and the vault as it will be once it is confirmed.
fn pending_of(vault: &Vault) -> Result<(PendingChange, Vault), ChangeError> {
    let p = vault
        .pending_change()
        .cloned()
        .ok_or(ChangeError::NothingPending)?;
    let view = vault.pending_view().ok_or(ChangeError::NothingPending)?;
    Ok((p, view))
}

/// A confirmed change.
#[derive(Clone, Debug)]
pub struct Confirmed {
    /// What was confirmed.
    pub kind: ChangeKind,
    /// The epoch whose shares are now stale.
    pub old_epoch: u32,
    /// The epoch that began.
    pub epoch: u32,
    /// When it began (Unix seconds).
    pub began: u64,
    /// The vault's key fingerprint now.
    pub fingerprint: String,
    /// The policy now in force.
    pub policy: Policy,
    /// For a master rotation: every credential (name, exchange) whose exchange key was sealed
    /// to the retired master, so readable with the old shares and any older copy of the vault:
    /// each must be rotated at its exchange (then `creds rotate`). Empty for a reshare.
    pub rotate_at_exchange: Vec<(String, String)>,
    /// For a master rotation: the backup `<vault>.bak`, now a copy of the new vault (the one
    /// it replaced was sealed to the retired key), or why it could not be replaced (the
    /// change itself is confirmed either way).
    pub backup: Option<Result<PathBuf, String>>,
    /// What the process hardening could not do.
    pub hardening_warnings: Vec<String>,
}

/// Confirm the pending change of the vault at `path` with a threshold of the NEW shares. Shares
/// of the current set are refused, naming them.
pub fn confirm(
    path: &Path,
    presentation: &Presentation,
    clock: Clock,
) -> Result<Confirmed, RekeyError> {
    let vault = store::load(path)?;
    let (pending, view) = pending_of(&vault)?;
    // The ceremony is the new set's: it is signed with the key the vault will have.
    let begun = Begun::begin_as(path, view, "confirm", clock)?;
    let current: Vec<String> = presentation
        .shares
        .iter()
        .filter(|p| {
            !is_pending_share(p, &vault, &pending) && quorum::check_share(p, &vault).is_ok()
        })
        .map(|p| p.label.clone())
        .collect();
    if !current.is_empty() {
        return Err(begun.fail(RekeyError::CurrentSetShares {
            labels: current,
            epoch: vault.epoch(),
            kind: pending.kind(),
            pending_epoch: pending.epoch(),
        })?);
    }
    let hardening_warnings = begun.hardening_warnings();
    let session = begun.unlock(presentation)?;
    let outcome = (|| -> Result<Confirmed, RekeyError> {
        let now = session.clock().now();
        let keys = session.keys();
        let ((), now_vault) =
            store::update_keeping(path, OnRollback::Refuse, |v: &mut Vault, seen| {
                v.confirm_pending(&pending, keys, seen, now)
                    .map_err(RekeyError::from)
            })?;
        let mut rotate_at_exchange = Vec::new();
        let mut backup = None;
        if pending.kind() == ChangeKind::RotateMaster {
            // Hand the audit log's older records over to the key this ceremony retires.
            session.note(
                RETIRED_KEY_NOTE,
                &keys::hex(vault.public().ed25519.as_bytes()),
            )?;
            // The backup held the vault sealed to the retired key: replace it.
            backup = Some(store::refresh_backup(path).map_err(|e| e.to_string()));
            rotate_at_exchange = now_vault
                .credentials()
                .iter()
                .filter(|c| now_vault.sealed_before_rotation(c).is_some())
                .map(|c| (c.name.clone(), c.exchange.clone()))
                .collect();
        }
        Ok(Confirmed {
            kind: pending.kind(),
            old_epoch: vault.epoch(),
            epoch: pending.epoch(),
            began: now,
            fingerprint: keys::fingerprint(&keys.verifying_key()),
            policy: pending.policy().clone(),
            rotate_at_exchange,
            backup,
            hardening_warnings,
        })
    })();
    session.finish(outcome, |c| {
        format!(
            "{} confirmed: epoch {} began; shares of epoch {} are stale",
            c.kind.as_str(),
            c.epoch,
            c.old_epoch
        )
    })
}

/// A cancelled change.
#[derive(Clone, Debug)]
pub struct Cancelled {
    /// What was cancelled.
    pub kind: ChangeKind,
    /// When it had been prepared (Unix seconds).
    pub prepared: u64,
    /// The vault's epoch (its shares stay valid).
    pub epoch: u32,
    /// The epoch of the cancelled set (its shares are to be destroyed).
    pub cancelled_epoch: u32,
    /// Whether the new set (rather than the current one) cancelled it.
    pub by_new: bool,
    /// What the process hardening could not do.
    pub hardening_warnings: Vec<String>,
}

/// Drop the pending change of the vault at `path` with a quorum of the current set or of the
/// pending set (which one is judged from the first share presented).
pub fn cancel(
    path: &Path,
    presentation: &Presentation,
    clock: Clock,
) -> Result<Cancelled, RekeyError> {
    let vault = store::load(path)?;
    let (pending, view) = pending_of(&vault)?;
    let by_new = presentation
        .shares
        .first()
        .is_some_and(|p| is_pending_share(p, &vault, &pending));
    let target = if by_new { view } else { vault.clone() };
    let begun = Begun::begin_as(path, target, "cancel", clock)?;
    let hardening_warnings = begun.hardening_warnings();
    let session = begun.unlock(presentation)?;
    let outcome = store::update(path, OnRollback::Refuse, |v: &mut Vault, _| {
        v.cancel_pending(&pending).map_err(RekeyError::from)
    })
    .map(|()| Cancelled {
        kind: pending.kind(),
        prepared: pending.created(),
        epoch: vault.epoch(),
        cancelled_epoch: pending.epoch(),
        by_new,
        hardening_warnings,
    });
    session.finish(outcome, |c| {
        format!(
            "pending {} (epoch {}) cancelled by the {} set",
            c.kind.as_str(),
            c.cancelled_epoch,
            if c.by_new { "new" } else { "current" }
        )
    })
}
