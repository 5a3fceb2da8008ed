//! `custody reshare`, `rotate-master`, `confirm` and `cancel`: changing who holds the shares.
//!
//! `reshare` (a quorum of the current set) splits the SAME master secret anew for a new
//! policy under a new SLIP-39 identifier; `rotate-master` makes a NEW master secret (new keys)
//! and reseals every credential to it in memory while the old quorum is open. Either writes
//! the new share files and a signed pending-change record into the vault; the current set stays
//! valid. `confirm` applies the change once a threshold of the NEW shares unlocks against the
//! pending parameters (epoch + 1); `cancel` drops it with a quorum of either set. Each command
//! is an audit-log ceremony.

use std::io::{IsTerminal, Write};
use std::path::Path;

use rand_core::OsRng;
use zeroize::Zeroizing;

use super::{ChangeArgs, ChangeShareArgs, CliError, PendingArgs, ShareArgs, secret_input};
use super::{shares_in, sheets};
use custody::ops::issue;
use custody::audit::{AuditLog, Ceremony};
use custody::harden::{self, Hardening};
use custody::input::Presented;
use custody::keys::{DerivedKeys, MasterSecret};
use custody::quorum::{self, Unlocked};
use custody::slip39::{self, Share};
use custody::timefmt;
use custody::vault::change::{ChangeError, ChangeKind, PendingChange};
use custody::vault::credential::Credential;
use custody::vault::seal;
use custody::vault::store::{self, OnRollback};
use custody::vault::{Slip39Params, Vault, sidecar};

pub(super) fn w(e: std::io::Error) -> CliError {
    CliError::Terminal(e.to_string())
}

/// The shares and passphrase a custodian-change command was given (read before unlocking, so
/// that the command can choose which set to check them against).
pub(super) struct Presentation {
    pub presented: Vec<Presented>,
    pub passphrase: Option<Zeroizing<String>>,
    pub hardening: Hardening,
}

/// Harden the process, read the shares and the passphrase (prompting for it when `vault`
/// needs one and a terminal is there).
pub(super) fn present(args: &ChangeShareArgs, vault: &Vault) -> Result<Presentation, CliError> {
    let hardening = harden::for_quorum();
    let share_args = ShareArgs {
        shares: args.shares.clone(),
        words_stdin: args.words_stdin,
        ..ShareArgs::default()
    };
    let presented = shares_in::collect(&share_args)?;
    let mut passphrase = secret_input::passphrase(&args.passphrase, false)?;
    if passphrase.is_none() && vault.slip39.passphrase && std::io::stdin().is_terminal() {
        passphrase = Some(secret_input::prompt_hidden("SLIP-39 passphrase: ")?);
    }
    Ok(Presentation {
        presented,
        passphrase,
        hardening,
    })
}

impl Presentation {
    pub fn passphrase_bytes(&self) -> Option<&[u8]> {
        self.passphrase.as_ref().map(|p| p.as_bytes())
    }

    /// Unlock against `vault`, recording every accepted share in `ceremony`.
    pub fn unlock(&self, vault: &Vault, ceremony: &Ceremony) -> Result<Unlocked, CliError> {
        let unlocked = quorum::unlock(&self.presented, Some(vault), self.passphrase_bytes())?;
        for m in &unlocked.members {
            ceremony.share_accepted(m)?;
        }
        Ok(unlocked)
    }
}

/// Close `ceremony` as failed with `e`'s message (shortened to fit a record), then return `e`.
pub(super) fn failed<T>(ceremony: Ceremony, e: CliError) -> Result<T, CliError> {
    let mut reason = e.to_string();
    if reason.len() > 1500 {
        let mut cut = 1500;
        while !reason.is_char_boundary(cut) {
            cut -= 1;
        }
        reason.truncate(cut);
        reason.push('…');
    }
    let _ = ceremony.fail(&reason);
    Err(e)
}

/// Split `secret` for `policy` under a fresh identifier that differs from `avoid` (so that
/// the new set can never be mistaken for the current one).
pub(super) fn split_anew(
    secret: &[u8],
    passphrase: &[u8],
    policy: &custody::policy::Policy,
    iteration_exponent: u8,
    avoid: u16,
) -> Result<Vec<Vec<Share>>, CliError> {
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
) -> Result<Vec<Credential>, CliError> {
    let tampered = vault.assess(sidecar::read(path)).tamper_lines(vault);
    if !tampered.is_empty() {
        return Err(ChangeError::Tampered(tampered).into());
    }
    let mut out = Vec::with_capacity(vault.credentials().len());
    for c in vault.credentials().iter() {
        let fields = seal::open(&vault.vault_id, c, old.age_identity())?;
        let mut n = c.clone();
        n.sealed = seal::seal(&vault.vault_id, c, &fields, new_recipient)?;
        out.push(n);
    }
    Ok(out)
}

/// `custody reshare` (`rotate == false`) and `custody rotate-master` (`rotate == true`).
pub fn reshare(args: ChangeArgs, rotate: bool, out: &mut dyn Write) -> Result<(), CliError> {
    let action = if rotate { "rotate-master" } else { "reshare" };
    let vault = store::load(&args.vault)?;
    if let Some(p) = &vault.pending_change {
        return Err(ChangeError::AlreadyPending {
            kind: p.kind,
            created: p.created,
        }
        .into());
    }
    let policy = args.policy.policy()?;
    let formats = sheets::parse_formats(&args.sheets)?;
    let layout = issue::plan(&args.out_dir, &issue::numbered(&policy), formats, None)?;
    let pres = present(&args.quorum, &vault)?;
    let ceremony = Ceremony::begin(&AuditLog::open(&args.vault)?, action, &vault, super::clock())?;
    let result = (|| -> Result<_, CliError> {
        let unlocked = pres.unlock(&vault, &ceremony)?;
        let now = super::clock().now();
        let pass: &[u8] = pres.passphrase_bytes().unwrap_or(b"");
        let params = |identifier| Slip39Params {
            identifier,
            extendable: true,
            iteration_exponent: vault.slip39.iteration_exponent,
            passphrase: vault.slip39.passphrase,
        };
        // The new master secret (rotate) lives only in this function; it is never written.
        let new_master = rotate.then(|| MasterSecret::generate(&mut OsRng, None));
        let new_keys = new_master.as_ref().map(MasterSecret::derive).transpose()?;
        let secret = new_master.as_ref().unwrap_or(&unlocked.master).expose();
        let groups = split_anew(
            secret,
            pass,
            &policy,
            vault.slip39.iteration_exponent,
            vault.slip39.identifier,
        )?;
        let identifier = groups[0][0].identifier;
        let rotation = match &new_keys {
            Some(k) => Some((
                k,
                reseal_all(
                    &vault,
                    &args.vault,
                    &unlocked.keys,
                    &k.age_recipient().to_string(),
                )?,
            )),
            None => None,
        };
        let pending = PendingChange::new(
            &vault,
            &unlocked.keys,
            params(identifier),
            policy.clone(),
            now,
            rotation,
        )?;
        let signing = new_keys.as_ref().unwrap_or(&unlocked.keys);
        let tokens = issue::sign_tokens(
            issue::policy_shares(&policy, groups),
            vault.vault_id,
            pending.epoch,
            now,
            signing.signing_key(),
        )?;
        let mut with_pending = vault.clone();
        with_pending.pending_change = Some(pending.clone());
        let view = with_pending.pending_view().expect("pending set");
        issue::self_check(&tokens, &view, pres.passphrase_bytes())?;
        drop(new_keys);
        drop(new_master);
        let fingerprint = view.fingerprint();
        issue::write_all(&layout, &tokens, &policy, &fingerprint, args.paper, || {
            store::update(&args.vault, OnRollback::Refuse, |v: &mut Vault, _| {
                if let Some(p) = &v.pending_change {
                    return Err(CliError::from(ChangeError::AlreadyPending {
                        kind: p.kind,
                        created: p.created,
                    }));
                }
                // The record is bound to the manifest and credentials it was made from.
                pending
                    .verify(v)
                    .map_err(|_| CliError::from(ChangeError::ChangedMeanwhile))?;
                if let Some(r) = &pending.rotation
                    && custody::vault::change::credentials_state(v) != r.based_on
                {
                    return Err(ChangeError::CredentialsChanged.into());
                }
                v.pending_change = Some(pending.clone());
                Ok(())
            })
        })?;
        Ok((unlocked, tokens, pending, fingerprint))
    })();
    let (unlocked, tokens, pending, fingerprint) = match result {
        Ok(r) => r,
        Err(e) => return failed(ceremony, e),
    };
    ceremony.note("new_epoch", &pending.epoch.to_string())?;
    ceremony.note("new_identifier", &pending.slip39.identifier.to_string())?;
    ceremony.succeed(
        &unlocked.keys,
        &format!(
            "{action} prepared: {} new shares for epoch {}, waiting for confirm",
            tokens.len(),
            pending.epoch
        ),
    )?;
    drop(unlocked);

    let v = args.vault.display();
    writeln!(
        out,
        "Prepared a {action} of {v} (epoch {} -> {}); it takes effect only after `confirm`.",
        vault.epoch, pending.epoch
    )
    .map_err(w)?;
    if rotate {
        writeln!(
            out,
            "  new fingerprint  {fingerprint}   (a NEW master key; every sheet of the new set shows it)"
        )
        .map_err(w)?;
        writeln!(
            out,
            "  credentials      {} resealed to the new key (kept in the pending record)",
            pending.rotation.as_ref().map_or(0, |r| r.credentials.len())
        )
        .map_err(w)?;
    } else {
        writeln!(out, "  fingerprint      {fingerprint}   (unchanged)").map_err(w)?;
    }
    for line in policy.describe() {
        writeln!(out, "  new policy       {line}").map_err(w)?;
    }
    sheets::list_new_files(out, &tokens, &layout)?;
    writeln!(
        out,
        "The current shares stay valid until the change is confirmed."
    )
    .map_err(w)?;
    writeln!(out, "Next:").map_err(w)?;
    writeln!(
        out,
        "  1. Print the new sheets, then scan a threshold of them back (photos or share files):\n     \
         custody confirm --vault {v} --share NEW ..."
    )
    .map_err(w)?;
    writeln!(
        out,
        "  2. Or drop the change: custody cancel --vault {v} --share ... (a quorum of either set)"
    )
    .map_err(w)?;
    if !rotate {
        writeln!(
            out,
            "warning: after a reshare the old shares still reconstruct the same master secret \
             mathematically (custody refuses them as stale, but SLIP-39 combine does not); to \
             revoke old custodians, use `custody rotate-master`"
        )
        .map_err(w)?;
    }
    for warning in pres.hardening.warnings() {
        writeln!(out, "warning: {warning}").map_err(w)?;
    }
    Ok(())
}

/// Whether a presented share belongs to the pending set (by its token, else its identifier).
fn is_pending_share(p: &Presented, vault: &Vault, pending: &PendingChange) -> bool {
    match &p.token {
        Some(t) => t.info.epoch == pending.epoch && t.public_key == *pending.public_key(vault),
        None => p.share.identifier == pending.slip39.identifier,
    }
}

fn pending_of(vault: &Vault) -> Result<(PendingChange, Vault), CliError> {
    let p = vault
        .pending_change
        .clone()
        .ok_or(ChangeError::NothingPending)?;
    let view = vault.pending_view().expect("pending set");
    Ok((p, view))
}

/// `custody confirm`: a threshold of the NEW shares makes the pending change take effect.
pub fn confirm(args: PendingArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let vault = store::load(&args.vault)?;
    let (pending, view) = pending_of(&vault)?;
    let pres = present(&args.quorum, &vault)?;
    // The ceremony is the new set's: it is signed with the key the vault will have.
    let ceremony = Ceremony::begin(&AuditLog::open(&args.vault)?, "confirm", &view, super::clock())?;
    let result = (|| -> Result<_, CliError> {
        let current: Vec<&str> = pres
            .presented
            .iter()
            .filter(|p| {
                !is_pending_share(p, &vault, &pending) && quorum::check_share(p, &vault).is_ok()
            })
            .map(|p| p.label.as_str())
            .collect();
        if !current.is_empty() {
            return Err(CliError::Refused(format!(
                "share(s) {} belong to the CURRENT set (epoch {}); confirm needs a threshold of the \
                 NEW shares written by `{}` (epoch {})",
                current.join(", "),
                vault.epoch,
                pending.kind.as_str(),
                pending.epoch
            )));
        }
        let unlocked = pres.unlock(&view, &ceremony)?;
        let now = super::clock().now();
        store::update(&args.vault, OnRollback::Refuse, |v: &mut Vault, seen| {
            v.confirm_pending(&pending, &unlocked.keys, seen, now)
                .map_err(CliError::from)
        })?;
        Ok((unlocked, now))
    })();
    let (unlocked, now) = match result {
        Ok(r) => r,
        Err(e) => return failed(ceremony, e),
    };
    if pending.kind == ChangeKind::RotateMaster {
        // Hand the audit log's older records over to the key this ceremony retires.
        ceremony.note(
            custody::audit::RETIRED_KEY_NOTE,
            &custody::keys::hex(vault.public.ed25519.as_bytes()),
        )?;
    }
    ceremony.succeed(
        &unlocked.keys,
        &format!(
            "{} confirmed: epoch {} began; shares of epoch {} are stale",
            pending.kind.as_str(),
            pending.epoch,
            vault.epoch
        ),
    )?;
    let fp = custody::keys::fingerprint(&unlocked.keys.verifying_key());
    drop(unlocked);
    writeln!(
        out,
        "Confirmed the {} of {}: epoch {} began on {}.",
        pending.kind.as_str(),
        args.vault.display(),
        pending.epoch,
        timefmt::date(now)
    )
    .map_err(w)?;
    writeln!(out, "  fingerprint  {fp}").map_err(w)?;
    for line in pending.policy.describe() {
        writeln!(out, "  policy       {line}").map_err(w)?;
    }
    writeln!(
        out,
        "Shares of epoch {} are now refused as stale; have the old custodians destroy their sheets.",
        vault.epoch
    )
    .map_err(w)?;
    match pending.kind {
        ChangeKind::Reshare => writeln!(
            out,
            "warning: old shares still reconstruct the same master secret mathematically; if \
             any old custodian must lose access, run `custody rotate-master` with the new set"
        ),
        ChangeKind::RotateMaster => writeln!(
            out,
            "The master key was replaced and every credential is sealed to the new key: old \
             shares open nothing in this vault. The audit log records the handover, so \
             `custody audit verify` still checks the records signed before the rotation."
        ),
    }
    .map_err(w)?;
    for warning in pres.hardening.warnings() {
        writeln!(out, "warning: {warning}").map_err(w)?;
    }
    Ok(())
}

/// `custody cancel`: a quorum of the current set, or of the pending set, drops the change.
pub fn cancel(args: PendingArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let vault = store::load(&args.vault)?;
    let (pending, view) = pending_of(&vault)?;
    let pres = present(&args.quorum, &vault)?;
    let by_new = pres
        .presented
        .first()
        .is_some_and(|p| is_pending_share(p, &vault, &pending));
    let target = if by_new { &view } else { &vault };
    let ceremony = Ceremony::begin(&AuditLog::open(&args.vault)?, "cancel", target, super::clock())?;
    let result = (|| -> Result<_, CliError> {
        let unlocked = pres.unlock(target, &ceremony)?;
        store::update(&args.vault, OnRollback::Refuse, |v: &mut Vault, _| {
            v.cancel_pending(&pending).map_err(CliError::from)
        })?;
        Ok(unlocked)
    })();
    let unlocked = match result {
        Ok(r) => r,
        Err(e) => return failed(ceremony, e),
    };
    ceremony.succeed(
        &unlocked.keys,
        &format!(
            "pending {} (epoch {}) cancelled by the {} set",
            pending.kind.as_str(),
            pending.epoch,
            if by_new { "new" } else { "current" }
        ),
    )?;
    drop(unlocked);
    writeln!(
        out,
        "Cancelled the pending {} of {} (prepared {}). The current shares (epoch {}) stay valid.",
        pending.kind.as_str(),
        args.vault.display(),
        timefmt::date(pending.created),
        vault.epoch
    )
    .map_err(w)?;
    writeln!(
        out,
        "Destroy every sheet and file of the cancelled set (epoch {}).",
        pending.epoch
    )
    .map_err(w)?;
    for warning in pres.hardening.warnings() {
        writeln!(out, "warning: {warning}").map_err(w)?;
    }
    Ok(())
}
