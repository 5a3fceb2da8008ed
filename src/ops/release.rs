//! Releasing credentials to a program: the gate that decides which credentials may leave the
//! vault, and opening exactly those. Unratified, tampered, rolled-back, deleted, malformed,
//! unknown and (unless allowed) withdraw-scoped credentials are refused before anything is
//! opened; what is opened is recorded (names only) and the ceremony closed with a signed
//! record. Also the names under which a program receives them (environment variables, or one
//! JSON object). Starting the program is the front end's business; once it has started, the
//! master key is erased, and how the program ends (exit code or signal, how long it ran) is
//! recorded after the ceremony, signed with a one-time key the closing record certifies
//! ([`Running::ended`]).

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;
use zeroize::Zeroizing;

use crate::audit::{AuditError, ExitRecorder, ProgramEnd};
use crate::ops::ratify::{self, Consent, Ratified, RatifyFailure};
use crate::ops::session::Session;
use crate::timefmt;
use crate::vault::Rollback;
use crate::vault::Vault;
use crate::vault::credential::{
    Credential, EntryError, Pending, Scope, check_shell_variables, env_prefix,
};
use crate::vault::ratify::EntryState;
use crate::vault::seal::{self, SealError, SecretFields};
use crate::vault::store::{self, StoreError};

/// What the quorum allows beyond the default.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReleaseOptions {
    /// Release credentials whose scope includes withdraw.
    pub allow_withdraw: bool,
    /// Release credentials past their expiry day (recorded in the audit log).
    pub allow_expired: bool,
}

/// Something the officers should know about a released credential (it is released anyway).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReleaseWarning {
    /// Past its expiry day, released because the quorum allowed it.
    Expired {
        /// The credential's name.
        name: String,
        /// Its expiry day, `YYYY-MM-DD` (UTC).
        expires: String,
    },
    /// Older than the vault's rotation policy.
    Overdue {
        /// The credential's name.
        name: String,
        /// Whole days since its last rotation.
        age_days: u64,
        /// The vault's rotation policy: days after a rotation before a credential is overdue.
        policy_days: u32,
    },
}

impl fmt::Display for ReleaseWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReleaseWarning::Expired { name, expires } => write!(
                f,
                "credential `{name}` expired on {expires} and is released as allowed; the \
                 exchange will probably refuse it"
            ),
            ReleaseWarning::Overdue {
                name,
                age_days,
                policy_days,
            } => write!(
                f,
                "credential `{name}` is overdue for rotation ({age_days} days old, policy \
                 {policy_days} days)"
            ),
        }
    }
}

/// The credentials released, opened. The secret fields zeroize on drop: drop them as soon as
/// the program has its copy.
#[derive(Default)]
pub struct Released {
    /// The named credentials, in the order named, with their secret fields.
    pub opened: Vec<(Credential, SecretFields)>,
    /// Expired or overdue credentials among them.
    pub warnings: Vec<ReleaseWarning>,
    /// What a ratification reviewed and signed first, if one was asked for.
    pub ratified: Option<Ratified>,
    /// What the process hardening could not do.
    pub hardening_warnings: Vec<String>,
}

/// Why no credential was released. Every variant means nothing was opened for the program.
#[derive(Debug)]
pub enum ReleaseError {
    /// No credential of that name in the vault.
    NotFound {
        /// The name asked for.
        name: String,
    },
    /// Ratified once, now missing from the vault: deleted outside custody.
    Deleted {
        /// The credential's name.
        name: String,
    },
    /// The entry does not parse: it was edited outside custody.
    Malformed {
        /// The entry's name.
        name: String,
        /// Why it does not parse or validate.
        problem: String,
    },
    /// Added or rotated without a quorum and not ratified since.
    Unratified {
        /// The credential's name.
        name: String,
        /// Whether it was added or rotated.
        change: Pending,
        /// When it was added or rotated (Unix seconds).
        date: u64,
    },
    /// The quorum's ratification record does not verify, so nothing can be vouched for.
    Unverified {
        /// The credential asked for.
        name: String,
    },
    /// Changed outside custody since the quorum ratified it, or never added by custody.
    Tampered {
        /// The credential's name.
        name: String,
        /// What the assessment found: changed since ratified, or unlisted.
        state: EntryState,
    },
    /// Its scope includes withdraw, and that was not allowed.
    Withdraw {
        /// The credential's name.
        name: String,
    },
    /// It is past its expiry day, and that was not allowed.
    Expired {
        /// The credential's name.
        name: String,
        /// Its expiry day, `YYYY-MM-DD` (UTC).
        expires: String,
    },
    /// The vault file is an older copy than one already used here.
    RolledBack(Rollback),
    /// The vault's keys are no longer the quorum's (the file changed while the quorum met).
    KeysChanged,
    /// The ratification asked for did not happen.
    Ratify(RatifyFailure),
    /// A credential did not open with the quorum's key.
    Seal(SealError),
    /// The vault could not be read.
    Store(StoreError),
    /// The audit log could not be written: nothing is released unrecorded.
    Audit(AuditError),
    /// The ratification asked for was signed and written, then the release was refused: the
    /// report of what was ratified is kept for the officers.
    AfterRatifying {
        /// What the ratification reviewed and signed (it stands).
        ratified: Box<Ratified>,
        /// Why nothing was released.
        refusal: Box<ReleaseError>,
    },
}

impl ReleaseError {
    /// The credential the refusal is about, if it is about one.
    pub fn credential(&self) -> Option<&str> {
        match self {
            ReleaseError::NotFound { name }
            | ReleaseError::Deleted { name }
            | ReleaseError::Malformed { name, .. }
            | ReleaseError::Unratified { name, .. }
            | ReleaseError::Unverified { name }
            | ReleaseError::Tampered { name, .. }
            | ReleaseError::Withdraw { name }
            | ReleaseError::Expired { name, .. } => Some(name),
            ReleaseError::AfterRatifying { refusal, .. } => refusal.credential(),
            _ => None,
        }
    }
}

impl fmt::Display for ReleaseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReleaseError::NotFound { name } => {
                write!(f, "credential `{name}`: no such credential in the vault")
            }
            ReleaseError::Deleted { name } => write!(
                f,
                "credential `{name}`: it was ratified but is missing from the vault: deleted \
                 outside custody"
            ),
            ReleaseError::Malformed { name, problem } => write!(
                f,
                "credential `{name}`: its entry is malformed ({problem}): it was edited outside \
                 custody"
            ),
            ReleaseError::Unratified { name, change, date } => write!(
                f,
                "credential `{name}`: it is unratified ({} on {} without a quorum)",
                change.as_str(),
                timefmt::date(*date)
            ),
            ReleaseError::Unverified { name } => write!(
                f,
                "credential `{name}`: the quorum's ratification record does not verify (edited \
                 outside custody)"
            ),
            ReleaseError::Tampered { name, state } => {
                write!(f, "credential `{name}`: {}", state.describe())
            }
            ReleaseError::Withdraw { name } => {
                write!(f, "credential `{name}`: its scope includes withdraw")
            }
            ReleaseError::Expired { name, expires } => write!(
                f,
                "credential `{name}`: it expired on {expires}; the exchange will probably refuse it"
            ),
            ReleaseError::RolledBack(r) => r.fmt(f),
            ReleaseError::KeysChanged => {
                f.write_str("the vault file changed its keys while the quorum was read")
            }
            ReleaseError::Ratify(e) => e.fmt(f),
            ReleaseError::Seal(e) => e.fmt(f),
            ReleaseError::Store(e) => e.fmt(f),
            ReleaseError::Audit(e) => e.fmt(f),
            ReleaseError::AfterRatifying { refusal, .. } => write!(
                f,
                "{refusal} (the ratification before it was signed and stands)"
            ),
        }
    }
}

impl std::error::Error for ReleaseError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ReleaseError::Ratify(e) => Some(e),
            ReleaseError::Seal(e) => Some(e),
            ReleaseError::Store(e) => Some(e),
            ReleaseError::Audit(e) => Some(e),
            ReleaseError::AfterRatifying { refusal, .. } => Some(refusal.as_ref()),
            _ => None,
        }
    }
}

super::wrap_errors!(
    ReleaseError,
    RatifyFailure => Ratify,
    SealError => Seal,
    StoreError => Store,
    AuditError => Audit,
);

/// Run the gate on `names` (no repeats) with the quorum of `session` and open them. With
/// `ratify` the quorum first ratifies what awaits it, once that [`Consent`] agrees to exactly
/// what would be signed. The vault is read once more
/// (or taken as the ratification wrote it): what is released is what the vault holds now.
/// The opened names (and any expired credential released as allowed) are recorded; on refusal
/// the ceremony closes as failed with the reason. On success the ceremony stays open until the
/// front end says what became of the program: [`Releasing::started`] or
/// [`Releasing::not_started`] (dropping it records the ceremony as abandoned).
pub fn open(
    session: Session,
    names: &[String],
    options: ReleaseOptions,
    ratify: Option<&mut dyn Consent>,
) -> Result<Releasing, ReleaseError> {
    let hardening_warnings = session.hardening_warnings();
    let outcome = gate(&session, names, options, ratify).and_then(|r| {
        session.credentials_opened(names)?;
        let expired: Vec<&str> =
            r.1.iter()
                .filter_map(|w| match w {
                    ReleaseWarning::Expired { name, .. } => Some(name.as_str()),
                    ReleaseWarning::Overdue { .. } => None,
                })
                .collect();
        if !expired.is_empty() {
            session.note("expired_allowed", &expired.join(","))?;
        }
        Ok(r)
    });
    match outcome {
        Ok((opened, warnings, ratified)) => Ok(Releasing {
            session,
            released: Released {
                opened,
                warnings,
                ratified,
                hardening_warnings,
            },
        }),
        Err(e) => Err(session.finish(Err(e), |_: &()| String::new()).unwrap_err()),
    }
}

/// Credentials that passed the gate and are open, with the ceremony still open: the front end
/// starts the program with the credentials in `released` (taking them out with
/// `std::mem::take` lets it erase them as soon as the program has its copy), then closes the
/// record with what happened. The master secret is erased when it is closed or dropped.
pub struct Releasing {
    session: Session,
    /// The credentials opened, the warnings and any ratification.
    pub released: Released,
}

impl Releasing {
    /// The program started with the credentials (process `pid`): close the ceremony with a
    /// record signed with the master key, "credentials handed to `program` (pid N)", which
    /// also certifies a one-time key, and anchor it in the vault; the master secret and derived
    /// keys are erased. The returned [`Running`] records how the program ends with that key
    /// alone. The program runs either way: a failure to anchor is kept in the [`Running`]
    /// ([`Running::take_not_anchored`]) to report, not returned as an error that would stop it.
    pub fn started(self, program: &str, pid: u32) -> Result<Running, AuditError> {
        let Releasing { session, released } = self;
        drop(released);
        let (recorder, not_anchored) = session
            .close_handing_over(&format!("credentials handed to {program} (pid {pid})"), pid)?;
        Ok(Running {
            recorder,
            not_anchored,
        })
    }

    /// The program could not be started (`reason`): no credential left custody; close the
    /// ceremony as failed with the reason.
    pub fn not_started(self, program: &str, reason: &str) -> Result<(), AuditError> {
        let Releasing { session, released } = self;
        drop(released);
        session
            .close_failed(&format!(
                "cannot start {program}: {reason}; no credential left custody"
            ))
            .map(drop)
    }
}

/// A program running with released credentials, its ceremony closed and the master key
/// erased. Holds only the one-time key that the closing record certified, to sign the record
/// of how the program ends. Dropped without [`Running::ended`] (or if custody is killed), it
/// records nothing.
#[derive(Debug)]
pub struct Running {
    recorder: ExitRecorder,
    not_anchored: Option<AuditError>,
}

impl Running {
    /// Why the ceremony's closing record could not be anchored in the vault, if it could not
    /// (the ceremony is recorded either way); taken once, to report.
    pub fn take_not_anchored(&mut self) -> Option<AuditError> {
        self.not_anchored.take()
    }

    /// The program's process id.
    pub fn pid(&self) -> u32 {
        self.recorder.pid()
    }

    /// The program ended as `end` (`ProgramEnd::from` its wait status): append the
    /// ceremony's `program-ended` record (exit code or signal, and how long it ran since
    /// [`Releasing::started`]), signed with the one-time key, which is then erased.
    pub fn ended(self, end: ProgramEnd) -> Result<(), AuditError> {
        self.recorder.record(end).map(drop)
    }
}

/// The credentials opened for the program, with their secret fields.
type Opened = Vec<(Credential, SecretFields)>;

type Gated = (Opened, Vec<ReleaseWarning>, Option<Ratified>);

fn gate(
    session: &Session,
    names: &[String],
    options: ReleaseOptions,
    ratify: Option<&mut dyn Consent>,
) -> Result<Gated, ReleaseError> {
    let path = session.path();
    let keys = session.keys();
    let now = session.clock().now();
    let Some(consent) = ratify else {
        let (opened, warnings) = check_and_open(session, &store::load(path)?, names, options)?;
        return Ok((opened, warnings, None));
    };
    let (ratified, vault) = ratify::ratify(path, keys, now, consent)?;
    match check_and_open(session, &vault, names, options) {
        Ok((opened, warnings)) => Ok((opened, warnings, Some(ratified))),
        Err(refusal) => Err(ReleaseError::AfterRatifying {
            ratified: Box::new(ratified),
            refusal: Box::new(refusal),
        }),
    }
}

/// What [`open_each`] opened and what it refused.
#[derive(Default)]
pub struct OpenedEach {
    /// The credentials that passed the gate, opened, in the order named.
    pub opened: Vec<(Credential, SecretFields)>,
    /// Expired or overdue credentials among them.
    pub warnings: Vec<ReleaseWarning>,
    /// The credentials refused, each with why (nothing of them was opened).
    pub refused: Vec<(String, ReleaseError)>,
}

/// The gate of [`open`] for each of `names` on its own, on `vault` as it now stands (read by
/// the caller, after any ratification): every credential that passes is opened, every other
/// one is refused with its reason, so that one bad credential does not hold back the rest
/// (the agent opens what its access policy grants this way). Nothing is recorded here.
pub fn open_each(
    session: &Session,
    vault: &Vault,
    names: &[String],
    options: ReleaseOptions,
) -> Result<OpenedEach, ReleaseError> {
    let mut out = OpenedEach::default();
    for name in names {
        match check_and_open(session, vault, std::slice::from_ref(name), options) {
            Ok((opened, warnings)) => {
                out.opened.extend(opened);
                out.warnings.extend(warnings);
            }
            // The vault as a whole cannot be trusted: nothing is opened.
            Err(e @ (ReleaseError::RolledBack(_) | ReleaseError::KeysChanged)) => return Err(e),
            Err(e) => out.refused.push((name.clone(), e)),
        }
    }
    Ok(out)
}

/// The gate proper on `vault` as it now stands, then opening the named credentials.
fn check_and_open(
    session: &Session,
    vault: &Vault,
    names: &[String],
    options: ReleaseOptions,
) -> Result<(Opened, Vec<ReleaseWarning>), ReleaseError> {
    let path = session.path();
    let keys = session.keys();
    let now = session.clock().now();
    if *vault.public() != keys.public() {
        return Err(ReleaseError::KeysChanged);
    }
    // A ratification resolved any rollback under the writer lock (it signs a generation above
    // the sidecar's, and hands back the vault as written), so this check passes after one.
    let assessment = vault.assess_beside(path)?;
    if let Some(r) = assessment.rollback {
        return Err(ReleaseError::RolledBack(r));
    }
    let mut chosen: Vec<&Credential> = Vec::new();
    let mut warnings = Vec::new();
    for name in names {
        let Some(c) = vault.credentials().get(name) else {
            let name = name.clone();
            if assessment.deleted.contains(&name) {
                return Err(ReleaseError::Deleted { name });
            }
            if let Some((_, p)) = assessment.malformed.iter().find(|(n, _)| *n == name) {
                return Err(ReleaseError::Malformed {
                    problem: p.clone(),
                    name,
                });
            }
            return Err(ReleaseError::NotFound { name });
        };
        let name = name.clone();
        match assessment.state_of(vault, &name) {
            Some(EntryState::Ratified) => {}
            Some(EntryState::Pending(p)) => {
                return Err(ReleaseError::Unratified {
                    name,
                    change: *p,
                    date: c.rotated,
                });
            }
            Some(EntryState::Unverified) => return Err(ReleaseError::Unverified { name }),
            Some(state) => {
                return Err(ReleaseError::Tampered {
                    name,
                    state: state.clone(),
                });
            }
            None => return Err(ReleaseError::NotFound { name }),
        }
        if c.has_scope(Scope::Withdraw) && !options.allow_withdraw {
            return Err(ReleaseError::Withdraw { name });
        }
        if c.is_expired(now) {
            let expires = c.expires.clone().unwrap_or_default();
            if !options.allow_expired {
                return Err(ReleaseError::Expired { name, expires });
            }
            warnings.push(ReleaseWarning::Expired { name, expires });
        } else if c.age_days(now) > u64::from(vault.credentials().rotation_days()) {
            warnings.push(ReleaseWarning::Overdue {
                name,
                age_days: c.age_days(now),
                policy_days: vault.credentials().rotation_days(),
            });
        }
        chosen.push(c);
    }
    // Open only the named credentials.
    let mut opened = Vec::with_capacity(chosen.len());
    for c in chosen {
        let f = seal::open(&vault.vault_id(), c, keys.age_identity())?;
        opened.push((c.clone(), f));
    }
    Ok((opened, warnings))
}

/// How a program receives credentials as environment variables.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum EnvStyle {
    /// `<NAME>_API_KEY`, `<NAME>_API_SECRET`, `<NAME>_API_PASSPHRASE`, `<NAME>_API_UID`,
    /// `<NAME>_API_PRIVATE_KEY` for each credential.
    #[default]
    Plain,
    /// `FREQTRADE__EXCHANGE__KEY`, `__SECRET`, `__PASSWORD`, `__UID` (one credential only).
    Freqtrade,
}

impl EnvStyle {
    /// Refuse a credential whose variables in this style would not be POSIX shell names
    /// ([`check_shell_variables`]; only [`EnvStyle::Plain`] names variables after it). Front
    /// ends call this before the ceremony.
    pub fn check_name(self, name: &str) -> Result<(), EntryError> {
        match self {
            EnvStyle::Plain => check_shell_variables(name),
            EnvStyle::Freqtrade => Ok(()),
        }
    }
}

/// The variables for one credential: (name, value) pairs, only for the fields it has.
pub fn variables<'a>(
    style: EnvStyle,
    c: &Credential,
    f: &'a SecretFields,
) -> Vec<(String, &'a str)> {
    variables_named(style, &c.name, f)
}

/// [`variables`] for a credential known by its name only (as the agent hands it out).
pub fn variables_named<'a>(
    style: EnvStyle,
    name: &str,
    f: &'a SecretFields,
) -> Vec<(String, &'a str)> {
    let pairs: Vec<(String, Option<&'a str>)> = match style {
        EnvStyle::Plain => {
            let p = env_prefix(name);
            [
                ("API_KEY", f.api_key.as_deref()),
                ("API_SECRET", f.api_secret.as_deref()),
                ("API_PASSPHRASE", f.passphrase.as_deref()),
                ("API_UID", f.uid.as_deref()),
                ("API_PRIVATE_KEY", f.private_key_pem.as_deref()),
            ]
            .into_iter()
            .map(|(s, v)| (format!("{p}_{s}"), v))
            .collect()
        }
        EnvStyle::Freqtrade => [
            ("KEY", f.api_key.as_deref()),
            (
                "SECRET",
                f.api_secret.as_deref().or(f.private_key_pem.as_deref()),
            ),
            ("PASSWORD", f.passphrase.as_deref()),
            ("UID", f.uid.as_deref()),
        ]
        .into_iter()
        .map(|(s, v)| (format!("FREQTRADE__EXCHANGE__{s}"), v))
        .collect(),
    };
    pairs
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k, v)))
        .collect()
}

/// The variables `agent exec --proxy` gives a program for credential `name` of an exchange
/// served by the signing proxy: its proxy token in place of the API key, a dummy secret (which
/// ccxt needs to sign its own requests; the proxy replaces that signature), a dummy passphrase
/// where the exchange has one, and the value for ccxt's `proxyUrl`. Plain style:
/// `<NAME>_API_KEY`, `<NAME>_API_SECRET`, `<NAME>_API_PASSPHRASE`, `<NAME>_PROXY_URL`;
/// freqtrade style: `FREQTRADE__EXCHANGE__KEY`, `__SECRET`, `__PASSWORD` and
/// `FREQTRADE__EXCHANGE__CCXT_CONFIG__PROXYURL`.
pub fn proxy_variables<'a>(
    style: EnvStyle,
    name: &str,
    token: &'a str,
    dummy_secret: &'a str,
    dummy_passphrase: Option<&'a str>,
    proxy_url: &'a str,
) -> Vec<(String, &'a str)> {
    let mut v = match style {
        EnvStyle::Plain => {
            let p = env_prefix(name);
            vec![
                (format!("{p}_API_KEY"), token),
                (format!("{p}_API_SECRET"), dummy_secret),
                (format!("{p}_PROXY_URL"), proxy_url),
            ]
        }
        EnvStyle::Freqtrade => vec![
            ("FREQTRADE__EXCHANGE__KEY".to_owned(), token),
            ("FREQTRADE__EXCHANGE__SECRET".to_owned(), dummy_secret),
            (
                "FREQTRADE__EXCHANGE__CCXT_CONFIG__PROXYURL".to_owned(),
                proxy_url,
            ),
        ],
    };
    if let Some(p) = dummy_passphrase {
        v.push(match style {
            EnvStyle::Plain => (format!("{}_API_PASSPHRASE", env_prefix(name)), p),
            EnvStyle::Freqtrade => ("FREQTRADE__EXCHANGE__PASSWORD".to_owned(), p),
        });
    }
    v
}

/// Every variable for every opened credential, in order.
pub fn environment(style: EnvStyle, opened: &[(Credential, SecretFields)]) -> Vec<(String, &str)> {
    opened
        .iter()
        .flat_map(|(c, f)| variables(style, c, f))
        .collect()
}

#[derive(Serialize)]
struct StdinEntry<'a> {
    exchange: &'a str,
    account: &'a str,
    scope: Vec<&'static str>,
    #[serde(flatten)]
    fields: &'a SecretFields,
}

/// One JSON object (and a newline) keyed by credential name, each with its exchange, account,
/// scope and secret fields, in a buffer that zeroizes on drop.
pub fn stdin_json(
    opened: &[(Credential, SecretFields)],
) -> Result<Zeroizing<Vec<u8>>, serde_json::Error> {
    let map: BTreeMap<&str, StdinEntry<'_>> = opened
        .iter()
        .map(|(c, f)| {
            (
                c.name.as_str(),
                StdinEntry {
                    exchange: &c.exchange,
                    account: &c.account,
                    scope: c.scope.iter().map(|s| s.as_str()).collect(),
                    fields: f,
                },
            )
        })
        .collect();
    // Reserve enough up front that the buffer never reallocates (leaving a copy behind).
    let cap = 256
        + opened
            .iter()
            .map(|(c, _)| 6 * c.sealed.len() + 512)
            .sum::<usize>();
    let mut buf = Zeroizing::new(Vec::with_capacity(cap));
    serde_json::to_writer(&mut *buf, &map)?;
    buf.push(b'\n');
    Ok(buf)
}

/// One credential as [`stdin_json`] writes it under its name (exchange, account, scope and
/// the secret fields present), alone, in a buffer that zeroizes on drop: what the agent keeps
/// for each credential it holds and sends to a client that fetches it.
pub fn entry_json(
    c: &Credential,
    f: &SecretFields,
) -> Result<Zeroizing<Vec<u8>>, serde_json::Error> {
    let entry = StdinEntry {
        exchange: &c.exchange,
        account: &c.account,
        scope: c.scope.iter().map(|s| s.as_str()).collect(),
        fields: f,
    };
    let mut buf = Zeroizing::new(Vec::with_capacity(6 * c.sealed.len() + 512));
    serde_json::to_writer(&mut *buf, &entry)?;
    Ok(buf)
}
