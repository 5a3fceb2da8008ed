//! The credential use cases. Without a quorum: [`add`] and [`rotate`] seal new secret fields
//! to the vault's age recipient at once (the entry then awaits ratification), [`status`] and
//! [`show`] report metadata, rotation age and tampering. With a quorum (an open
//! [`Session`]): [`reveal`] opens one credential (break-glass), [`remove`] and [`rename`]
//! change the list and keep the ratification record in step. Every write goes through
//! [`store::update`] (writer lock, re-read, atomic replace).

use std::fmt;
use std::path::Path;

use crate::audit::AuditError;
use crate::clock::Clock;
use crate::keys::DerivedKeys;
use crate::ops::ratify::{self, Consent, Ratified, RatifyFailure};
use crate::ops::session::{Session, SessionError};
use crate::vault::access::RuleChange;
use crate::vault::credential::{
    Credential, EntryError, Pending, Scope, check_exchange, check_name, check_new_name, check_text,
    env_prefix, parse_date, parse_scopes,
};
use crate::vault::ratify::{EntryState, RatifyError, RecordState};
use crate::vault::seal::{self, SealError, SecretFields};
use crate::vault::store::{self, OnRollback, StoreError};
use crate::vault::{Rollback, Seen};
use crate::vault::{SetError, Vault};

/// Why a credential operation did not happen. Nothing was written unless the variant says so.
#[derive(Debug)]
pub enum CredError {
    /// The name is not there, exists already, or clashes with another's variables.
    Set(SetError),
    /// The entry was changed outside custody; a quorum must look at it first.
    Tampered {
        /// The entry's name.
        name: String,
        /// What was found.
        state: EntryState,
    },
    /// The quorum's ratification record does not verify (a quorum edit needs a ratification).
    RecordInvalid,
    /// The vault file is older than one already used here (a quorum edit needs a ratification).
    RolledBack(Rollback),
    /// A name, exchange, scope, date or text argument is malformed.
    Entry(EntryError),
    /// Secret fields are missing, or could not be sealed or opened.
    Seal(SealError),
    /// The vault could not be read, locked or written.
    Store(StoreError),
    /// The ratification asked for could not be signed.
    Ratify(RatifyError),
    /// The quorum session could not be opened.
    Session(SessionError),
    /// The ceremony could not be recorded.
    Audit(AuditError),
}

impl fmt::Display for CredError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CredError::Set(e) => e.fmt(f),
            CredError::Tampered { name, state } => write!(
                f,
                "credential `{name}` was changed outside custody ({}); a quorum must look at it \
                 first",
                state.describe()
            ),
            CredError::RecordInvalid => write!(
                f,
                "the quorum's ratification record does not verify (edited outside custody)"
            ),
            CredError::RolledBack(r) => r.fmt(f),
            CredError::Entry(e) => e.fmt(f),
            CredError::Seal(e) => e.fmt(f),
            CredError::Store(e) => e.fmt(f),
            CredError::Ratify(e) => e.fmt(f),
            CredError::Session(e) => e.fmt(f),
            CredError::Audit(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for CredError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            CredError::Entry(e) => Some(e),
            CredError::Seal(e) => Some(e),
            CredError::Store(e) => Some(e),
            CredError::Ratify(e) => Some(e),
            CredError::Session(e) => Some(e),
            CredError::Audit(e) => Some(e),
            CredError::Set(e) => Some(e),
            CredError::Tampered { .. } | CredError::RecordInvalid | CredError::RolledBack(_) => {
                None
            }
        }
    }
}

super::wrap_errors!(CredError,
    EntryError => Entry,
    SealError => Seal,
    StoreError => Store,
    RatifyError => Ratify,
    SessionError => Session,
    AuditError => Audit,
    SetError => Set,
);

impl From<RatifyFailure> for CredError {
    fn from(e: RatifyFailure) -> Self {
        match e {
            RatifyFailure::Store(e) => CredError::Store(e),
            RatifyFailure::Refused(e) => CredError::Ratify(e),
        }
    }
}

fn not_found(name: &str) -> CredError {
    CredError::Set(SetError::NotFound { name: name.into() })
}

/// A credential to add: its public metadata as given (checked by [`add`]).
#[derive(Clone, Debug, Default)]
pub struct NewCredential {
    /// The credential's name (letters, digits, `.`, `_`, `-`).
    pub name: String,
    /// One of [`crate::vault::credential::EXCHANGES`], any case.
    pub exchange: String,
    /// Account or sub-account; empty when the exchange has only one.
    pub account: String,
    /// Comma-separated: `read`, `trade`, `withdraw`.
    pub scope: String,
    /// `YYYY-MM-DD`, the day the exchange key stops working.
    pub expires: Option<String>,
    /// A free note.
    pub note: String,
    /// A note on the key's IP allow-list at the exchange.
    pub ip_allowlist: String,
}

/// A [`NewCredential`] whose fields passed their checks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checked {
    /// The exchange in its canonical (lower-case) spelling.
    pub exchange: String,
    /// The scopes, sorted, without repeats.
    pub scope: Vec<Scope>,
}

impl NewCredential {
    /// Check every field (a front end calls this before asking for the secret fields).
    pub fn check(&self) -> Result<Checked, CredError> {
        check_new_name(&self.name)?;
        let exchange = check_exchange(&self.exchange)?;
        let scope = parse_scopes(&self.scope)?;
        if let Some(e) = &self.expires {
            parse_date(e)?;
        }
        check_text("account", &self.account)?;
        check_text("note", &self.note)?;
        check_text("IP allow-list note", &self.ip_allowlist)?;
        Ok(Checked { exchange, scope })
    }
}

/// What [`add`] wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Added {
    /// The credential's name.
    pub name: String,
    /// The exchange, in its canonical spelling.
    pub exchange: String,
    /// The scopes, sorted.
    pub scope: Vec<Scope>,
    /// The credential can withdraw funds (a release needs an explicit permission).
    pub withdraw: bool,
}

/// Add a credential without a quorum: check it, seal `fields` to the vault's age recipient
/// and write it, marked as awaiting ratification. Refuses a name that exists or whose
/// environment variables clash with another's, and a vault older than one seen here.
pub fn add(
    path: &Path,
    new: &NewCredential,
    fields: &SecretFields,
    clock: Clock,
) -> Result<Added, CredError> {
    let Checked { exchange, scope } = new.check()?;
    fields.check_for(&exchange)?;
    store::update(path, OnRollback::Refuse, |vault: &mut Vault, _| {
        vault.credentials().name_free(&new.name, None)?;
        let now = clock.now();
        let mut c = Credential {
            name: new.name.clone(),
            exchange: exchange.clone(),
            account: new.account.clone(),
            scope: scope.clone(),
            ip_allowlist: new.ip_allowlist.clone(),
            created: now,
            rotated: now,
            expires: new.expires.clone(),
            note: new.note.clone(),
            fields: fields.present(),
            sealed: String::new(),
            pending: Some(Pending::Added),
        };
        c.sealed = seal::seal(&vault.vault_id(), &c, fields, &vault.public().age_recipient)?;
        vault.credentials_mut().insert(c)?;
        Ok::<_, CredError>(())
    })?;
    Ok(Added {
        name: new.name.clone(),
        withdraw: scope.contains(&Scope::Withdraw),
        exchange,
        scope,
    })
}

/// A rotation: the credential's name and the metadata to change with the secret (`None`
/// keeps what is stored).
#[derive(Clone, Debug, Default)]
pub struct Rotation {
    /// The credential to rotate.
    pub name: String,
    /// Comma-separated scopes.
    pub scope: Option<String>,
    /// `YYYY-MM-DD`.
    pub expires: Option<String>,
    /// A new free note.
    pub note: Option<String>,
    /// A new IP allow-list note.
    pub ip_allowlist: Option<String>,
}

impl Rotation {
    /// Check every field; the new scope list if one was given.
    pub fn check(&self) -> Result<Option<Vec<Scope>>, CredError> {
        check_name(&self.name)?;
        let scope = self.scope.as_deref().map(parse_scopes).transpose()?;
        if let Some(e) = &self.expires {
            parse_date(e)?;
        }
        for (what, t) in [
            ("note", &self.note),
            ("IP allow-list note", &self.ip_allowlist),
        ] {
            if let Some(t) = t {
                check_text(what, t)?;
            }
        }
        Ok(scope)
    }
}

/// The exchange of the credential `name` (it decides which secret fields a rotation needs).
pub fn exchange_of(path: &Path, name: &str) -> Result<String, CredError> {
    store::load(path)?
        .credentials()
        .get(name)
        .map(|c| c.exchange.clone())
        .ok_or_else(|| not_found(name))
}

/// What [`rotate`] wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rotated {
    /// The credential's name.
    pub name: String,
    /// When the entry now says it was rotated (Unix seconds).
    pub rotated: u64,
}

/// Rotate a credential without a quorum: seal the new `fields` (and any metadata change) in
/// place; the entry then awaits ratification. Refuses an entry changed outside custody (a
/// rotation must not launder an edit) and a vault older than one seen here.
pub fn rotate(
    path: &Path,
    rotation: &Rotation,
    fields: &SecretFields,
    clock: Clock,
) -> Result<Rotated, CredError> {
    let scope = rotation.check()?;
    let name = &rotation.name;
    store::update(path, OnRollback::Refuse, |vault: &mut Vault, seen| {
        let state = vault
            .assess(seen)
            .state_of(vault, name)
            .cloned()
            .ok_or_else(|| not_found(name))?;
        if state.is_tampered() {
            return Err(CredError::Tampered {
                name: name.clone(),
                state,
            });
        }
        let mut c = vault
            .credentials()
            .get(name)
            .ok_or_else(|| not_found(name))?
            .clone();
        fields.check_for(&c.exchange)?;
        if let Some(s) = &scope {
            c.scope = s.clone();
        }
        if rotation.expires.is_some() {
            c.expires = rotation.expires.clone();
        }
        if let Some(n) = &rotation.note {
            c.note = n.clone();
        }
        if let Some(n) = &rotation.ip_allowlist {
            c.ip_allowlist = n.clone();
        }
        c.rotated = clock.now().max(c.created);
        c.fields = fields.present();
        c.pending = Some(if c.pending == Some(Pending::Added) {
            Pending::Added
        } else {
            Pending::Rotated
        });
        c.sealed = seal::seal(&vault.vault_id(), &c, fields, &vault.public().age_recipient)?;
        let rotated = c.rotated;
        vault.credentials_mut().replace(c)?;
        Ok(Rotated {
            name: name.clone(),
            rotated,
        })
    })
}

/// One credential in a [`Status`] report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    /// The entry's public metadata (`sealed` is the ciphertext; nothing secret).
    pub credential: Credential,
    /// How it stands against the ratification record.
    pub state: EntryState,
    /// Whole days since the last rotation.
    pub age_days: u64,
    /// Older than the vault's rotation policy.
    pub overdue: bool,
    /// On or past its expiry day.
    pub expired: bool,
    /// Its exchange key was sealed before the master rotation at this time (Unix seconds):
    /// the retired quorum could read it, so it must be rotated at the exchange.
    pub sealed_before_rotation: Option<u64>,
}

impl Row {
    /// Awaiting ratification (added or rotated without a quorum, or unverifiable).
    pub fn unratified(&self) -> bool {
        matches!(self.state, EntryState::Pending(_) | EntryState::Unverified)
    }

    /// Can withdraw funds.
    pub fn withdraw(&self) -> bool {
        self.credential.has_scope(Scope::Withdraw)
    }
}

/// Every credential's metadata and state, and what a quorum must look at.
#[derive(Clone, Debug)]
pub struct Status {
    /// The parsed entries, in file order.
    pub rows: Vec<Row>,
    /// Entries that do not parse: (name, problem).
    pub malformed: Vec<(String, String)>,
    /// A credential is overdue this many days after its last rotation.
    pub rotation_days: u32,
    /// The ratification record's state.
    pub record: RecordState,
    /// The record's generation (0 if never ratified; the stored number if it does not verify).
    pub generation: u64,
    /// The write revision.
    pub revision: u64,
    /// Names awaiting ratification.
    pub unratified: Vec<String>,
    /// Names overdue for rotation.
    pub overdue: Vec<String>,
    /// Names past their expiry day.
    pub expired: Vec<String>,
    /// Names whose exchange key was sealed before the last master rotation.
    pub rotate_at_exchange: Vec<String>,
    /// Names that can withdraw funds.
    pub withdraw_scoped: Vec<String>,
    /// Ratified names with no entry: deleted outside custody.
    pub deleted: Vec<String>,
    /// The vault file is older than one already used here.
    pub rollback: Option<Rollback>,
    /// One line per problem a quorum must look at (tampering, deletion, malformed, rollback,
    /// an agent access policy changed outside custody).
    pub problems: Vec<String>,
    /// Changes to the agent access policy awaiting ratification.
    pub access_pending: Vec<RuleChange>,
}

fn names(rows: &[Row], keep: impl Fn(&Row) -> bool) -> Vec<String> {
    rows.iter()
        .filter(|r| keep(r))
        .map(|r| r.credential.name.clone())
        .collect()
}

/// The status of every credential in the vault at `path` at `clock`'s time (no quorum).
pub fn status(path: &Path, clock: Clock) -> Result<Status, CredError> {
    let vault = store::load(path)?;
    let assessment = vault.assess_beside(path)?;
    let now = clock.now();
    let set = vault.credentials();
    let rows: Vec<Row> = set
        .iter()
        .zip(&assessment.entries)
        .map(|(c, state)| {
            let age_days = c.age_days(now);
            Row {
                credential: c.clone(),
                state: state.clone(),
                age_days,
                overdue: age_days > u64::from(set.rotation_days()),
                expired: c.is_expired(now),
                sealed_before_rotation: vault.sealed_before_rotation(c),
            }
        })
        .collect();
    let generation = match assessment.record {
        RecordState::Never => 0,
        RecordState::Valid { generation } => generation,
        RecordState::Invalid => set.generation(),
    };
    Ok(Status {
        unratified: names(&rows, Row::unratified),
        overdue: names(&rows, |r| r.overdue),
        expired: names(&rows, |r| r.expired),
        rotate_at_exchange: names(&rows, |r| r.sealed_before_rotation.is_some()),
        withdraw_scoped: names(&rows, Row::withdraw),
        problems: assessment.tamper_lines(&vault),
        access_pending: vault.access_to_ratify(assessment.record),
        rows,
        malformed: assessment.malformed,
        rotation_days: set.rotation_days(),
        record: assessment.record,
        generation,
        revision: set.revision(),
        deleted: assessment.deleted,
        rollback: assessment.rollback,
    })
}

/// One credential's metadata and state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shown {
    /// The entry's public metadata.
    pub credential: Credential,
    /// How it stands against the ratification record.
    pub state: EntryState,
}

/// The metadata of the credential `name` (no quorum; nothing secret).
pub fn show(path: &Path, name: &str) -> Result<Shown, CredError> {
    let vault = store::load(path)?;
    let assessment = vault.assess_beside(path)?;
    let credential = vault
        .credentials()
        .get(name)
        .cloned()
        .ok_or_else(|| not_found(name))?;
    let state = assessment
        .state_of(&vault, name)
        .cloned()
        .ok_or_else(|| not_found(name))?;
    Ok(Shown { credential, state })
}

/// One credential opened by a quorum (break-glass). The fields are zeroized on drop.
pub struct Revealed {
    /// The entry's public metadata.
    pub credential: Credential,
    /// How it stands against the ratification record.
    pub state: EntryState,
    /// The secret fields.
    pub fields: SecretFields,
    /// The ratification signed first, if one was asked for.
    pub ratified: Option<Ratified>,
    /// Problems in the vault a quorum should look at (tampering, rollback...).
    pub warnings: Vec<String>,
    /// What the process hardening could not do.
    pub hardening_warnings: Vec<String>,
}

/// Break-glass: with the quorum of `session`, optionally ratify first (once `ratify_first`
/// agrees), then open the one credential `name` and record its opening. The session is
/// finished (signed success, or the failure's reason).
pub fn reveal(
    session: Session,
    name: &str,
    ratify_first: Option<&mut dyn Consent>,
) -> Result<Revealed, CredError> {
    let outcome = reveal_in(&session, name, ratify_first);
    session.finish(outcome, |_| "break-glass: one credential revealed".into())
}

fn reveal_in(
    session: &Session,
    name: &str,
    ratify_first: Option<&mut dyn Consent>,
) -> Result<Revealed, CredError> {
    let path = session.path();
    let ratified = match ratify_first {
        Some(consent) => {
            Some(ratify::ratify(path, session.keys(), session.clock().now(), consent)?.0)
        }
        None => None,
    };
    let vault = store::load(path)?;
    let assessment = vault.assess_beside(path)?;
    let credential = vault
        .credentials()
        .get(name)
        .cloned()
        .ok_or_else(|| not_found(name))?;
    let state = assessment
        .state_of(&vault, name)
        .cloned()
        .ok_or_else(|| not_found(name))?;
    let fields = seal::open(
        &vault.vault_id(),
        &credential,
        session.keys().age_identity(),
    )?;
    session.credentials_opened(&[name.to_owned()])?;
    Ok(Revealed {
        credential,
        state,
        fields,
        ratified,
        warnings: assessment.tamper_lines(&vault),
        hardening_warnings: session.hardening_warnings(),
    })
}

/// Quorum edits need a record that verifies and no rollback, unless they ratify too.
fn check_record(vault: &Vault, seen: Option<Seen>, ratify_too: bool) -> Result<(), CredError> {
    if ratify_too {
        return Ok(());
    }
    let a = vault.assess(seen);
    if let Some(r) = a.rollback {
        return Err(CredError::RolledBack(r));
    }
    if a.record == RecordState::Invalid {
        return Err(CredError::RecordInvalid);
    }
    Ok(())
}

/// What [`remove`] did.
#[derive(Clone, Debug)]
pub struct Removed {
    /// The credential removed.
    pub name: String,
    /// The ratification signed afterwards, if one was asked for.
    pub ratified: Option<Ratified>,
    /// What the process hardening could not do.
    pub hardening_warnings: Vec<String>,
}

/// With the quorum of `session`, remove the credential `name` (valid, malformed, or only
/// listed in the ratification record) and re-sign the record without it; with `ratify_too`,
/// ratify what awaits ratification in the same write, once that [`Consent`] agrees (declined:
/// nothing is written, the entry stays). Without it, refuses while the record does not verify
/// or the file is an older copy. The session is finished.
pub fn remove(
    session: Session,
    name: &str,
    ratify_too: Option<&mut dyn Consent>,
) -> Result<Removed, CredError> {
    let outcome = remove_in(&session, name, ratify_too);
    session.finish(outcome, |r| format!("creds remove {}", r.name))
}

fn remove_in(
    session: &Session,
    name: &str,
    mut ratify_too: Option<&mut dyn Consent>,
) -> Result<Removed, CredError> {
    let keys = session.keys();
    let now = session.clock().now();
    store::update(
        session.path(),
        OnRollback::Allow,
        |vault: &mut Vault, seen| {
            check_record(vault, seen, ratify_too.is_some())?;
            let valid = vault.assess(seen).record != RecordState::Invalid;
            let listed = vault.ratified_list();
            let was_listed = listed.iter().any(|(n, _)| n == name);
            if !vault.credentials_mut().remove(name) && !was_listed {
                return Err(not_found(name));
            }
            if valid {
                let rest = listed.into_iter().filter(|(n, _)| n != name).collect();
                vault.sign_ratification(keys, rest, seen, now);
            }
            Ok(Removed {
                name: name.to_owned(),
                ratified: ratify_in(vault, keys, seen, now, ratify_too.take())?,
                hardening_warnings: session.hardening_warnings(),
            })
        },
    )
}

fn ratify_in(
    vault: &mut Vault,
    keys: &DerivedKeys,
    seen: Option<Seen>,
    now: u64,
    wanted: Option<&mut dyn Consent>,
) -> Result<Option<Ratified>, CredError> {
    let Some(consent) = wanted else {
        return Ok(None);
    };
    Ok(Some(ratify::ratify_in(vault, keys, seen, now, consent)?))
}

/// What [`rename`] did.
#[derive(Clone, Debug)]
pub struct Renamed {
    /// The name it had.
    pub old: String,
    /// The name it has now.
    pub new: String,
    /// The prefix of the environment variables the credential is now released under.
    pub env_prefix: String,
    /// The ratification signed afterwards, if one was asked for.
    pub ratified: Option<Ratified>,
    /// What the process hardening could not do.
    pub hardening_warnings: Vec<String>,
}

/// With the quorum of `session`, rename the credential `old` to `new` (resealed under the new
/// name; a ratified entry stays ratified). Refuses an entry changed outside custody and a new
/// name that exists or clashes; with `ratify_too`, ratifies in the same write as
/// [`remove`] does; without it, refuses while the record does not verify or the file is an
/// older copy. The session is finished.
pub fn rename(
    session: Session,
    old: &str,
    new: &str,
    ratify_too: Option<&mut dyn Consent>,
) -> Result<Renamed, CredError> {
    let outcome = check_new_name(new)
        .map_err(CredError::from)
        .and_then(|()| rename_in(&session, old, new, ratify_too));
    session.finish(outcome, |r| format!("creds rename {}", r.old))
}

fn rename_in(
    session: &Session,
    old: &str,
    new: &str,
    mut ratify_too: Option<&mut dyn Consent>,
) -> Result<Renamed, CredError> {
    let keys = session.keys();
    let now = session.clock().now();
    store::update(
        session.path(),
        OnRollback::Allow,
        |vault: &mut Vault, seen| {
            check_record(vault, seen, ratify_too.is_some())?;
            let assessment = vault.assess(seen);
            let state = assessment
                .state_of(vault, old)
                .cloned()
                .ok_or_else(|| not_found(old))?;
            if state.is_tampered() {
                return Err(CredError::Tampered {
                    name: old.to_owned(),
                    state,
                });
            }
            vault.credentials().name_free(new, Some(old))?;
            let vault_id = vault.vault_id();
            let before = vault.credentials().get(old).ok_or_else(|| not_found(old))?;
            let fields = seal::open(&vault_id, before, keys.age_identity())?;
            let mut renamed = before.clone();
            renamed.name = new.to_owned();
            renamed.pending = match state {
                EntryState::Ratified => None,
                _ => Some(Pending::Added),
            };
            renamed.sealed =
                seal::seal(&vault_id, &renamed, &fields, &vault.public().age_recipient)?;
            drop(fields);
            let digest = renamed.digest(&vault_id);
            vault.credentials_mut().rename(old, renamed)?;
            if assessment.record != RecordState::Invalid {
                let mut listed: Vec<_> = vault
                    .ratified_list()
                    .into_iter()
                    .filter(|(n, _)| n != old)
                    .collect();
                if state == EntryState::Ratified {
                    listed.push((new.to_owned(), digest));
                }
                vault.sign_ratification(keys, listed, seen, now);
            }
            Ok(Renamed {
                old: old.to_owned(),
                new: new.to_owned(),
                env_prefix: env_prefix(new),
                ratified: ratify_in(vault, keys, seen, now, ratify_too.take())?,
                hardening_warnings: session.hardening_warnings(),
            })
        },
    )
}
