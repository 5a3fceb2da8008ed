//! A drill: a quorum reconstructs the master secret in locked memory and custody verifies it
//! (SLIP-39 digest, token signatures, derived key = the vault's), ratifies what awaits a
//! quorum (or lists it), test-opens every stored credential (authentication only), closes the
//! ceremony as passed or failed with the reason, and can issue a signed drill certificate.
//! Without a vault, plain SLIP-39 shares are combined and the derived keys described. The
//! report holds nothing secret.

use std::fmt;

use crate::audit::AuditError;
use crate::certificate::{CertError, Certificate};
use crate::harden::Hardening;
use crate::keys::{fingerprint, hex};
use crate::ops::ratify::{self, Consent, Ratified, RatifyFailure, Waiting};
use crate::ops::session::{self, Presentation, Session};
use crate::quorum::{CountedOnce, Member, QuorumError, Unlocked};
use crate::vault::Vault;
use crate::vault::seal::{self, SealError};

/// What the drill should do besides verifying (ratifying is [`drill`]'s own argument).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DrillOptions {
    /// Issue a drill certificate signed with the master key, citing the closing record.
    pub certificate: bool,
}

/// What the drill did about ratification.
#[derive(Clone, Debug)]
pub enum Ratification {
    /// The quorum ratified (the report of what it reviewed and signed).
    Ratified(Ratified),
    /// Not asked to ratify: what awaits a ratification, and what was changed outside custody.
    Waiting(Waiting),
}

/// The public facts of a reconstructed quorum.
#[derive(Clone, Debug)]
pub struct QuorumFacts {
    /// The master key's fingerprint.
    pub fingerprint: String,
    /// The Ed25519 public key, hex.
    pub public_key_hex: String,
    /// The age recipient the credentials are sealed to.
    pub age_recipient: String,
    /// Every share presented, in order.
    pub members: Vec<Member>,
    /// Groups presented short of their threshold (their shares took no part).
    pub incomplete_groups: Vec<String>,
    /// Copies of one group's share presented by several holders: each counted once.
    pub counted_once: Vec<CountedOnce>,
    /// The master secret's length in bytes.
    pub secret_bytes: usize,
    /// Whether the secret's pages were locked in memory (not swappable).
    pub memory_locked: bool,
    /// Whether core dumps were disabled and the process made non-dumpable.
    pub core_dumps_disabled: bool,
    /// What the process hardening could not do.
    pub hardening_warnings: Vec<String>,
}

impl QuorumFacts {
    fn of(unlocked: &Unlocked, hardening_warnings: Vec<String>) -> QuorumFacts {
        let pk = unlocked.keys.verifying_key();
        QuorumFacts {
            fingerprint: fingerprint(&pk),
            public_key_hex: hex(pk.as_bytes()),
            age_recipient: unlocked.keys.age_recipient().to_string(),
            members: unlocked.members.clone(),
            incomplete_groups: unlocked.incomplete_groups.clone(),
            counted_once: unlocked.counted_once.clone(),
            secret_bytes: unlocked.master.len(),
            memory_locked: unlocked.master.is_locked(),
            core_dumps_disabled: hardening_warnings.is_empty(),
            hardening_warnings,
        }
    }
}

/// The test-open of one credential.
#[derive(Debug)]
pub struct CredentialCheck {
    /// The credential's name.
    pub name: String,
    /// `Ok` when its ciphertext authenticated under the quorum's identity.
    pub result: Result<(), SealError>,
}

/// What a drill found. Nothing secret.
#[derive(Debug)]
pub struct DrillReport {
    /// The vault drilled against (as written, after a ratification); `None` without one.
    pub vault: Option<Vault>,
    /// The quorum.
    pub quorum: QuorumFacts,
    /// Every credential test-opened, in vault order.
    pub credentials: Vec<CredentialCheck>,
    /// What happened about ratification (with a vault only).
    pub ratification: Option<Ratification>,
    /// The signed certificate, when asked for (the front end writes it).
    pub certificate: Option<Certificate>,
    /// The drill is recorded, but its closing record could not be anchored in the vault (the
    /// front end reports it after the drill's result).
    pub not_anchored: Option<AuditError>,
}

impl DrillReport {
    /// The credentials that did not open.
    pub fn failed(&self) -> Vec<&str> {
        self.credentials
            .iter()
            .filter(|c| c.result.is_err())
            .map(|c| c.name.as_str())
            .collect()
    }

    /// Whether every credential opened.
    pub fn passed(&self) -> bool {
        self.credentials.iter().all(|c| c.result.is_ok())
    }

    /// The drill's verdict: an error naming the credentials that did not open.
    pub fn verdict(&self) -> Result<(), DrillError> {
        let failed = self.failed();
        if failed.is_empty() {
            Ok(())
        } else {
            Err(DrillError::CredentialsFailed {
                names: failed.into_iter().map(String::from).collect(),
            })
        }
    }
}

/// Why a drill could not be held, or failed.
#[derive(Debug)]
pub enum DrillError {
    /// The shares do not make a quorum (without a vault).
    Quorum(QuorumError),
    /// The ratification asked for did not happen.
    Ratify(RatifyFailure),
    /// The audit log could not be written.
    Audit(AuditError),
    /// The drill certificate could not be issued.
    Certificate(CertError),
    /// The quorum is good, but these credentials did not open.
    CredentialsFailed {
        /// The names of the credentials that did not open, in vault order.
        names: Vec<String>,
    },
}

impl fmt::Display for DrillError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DrillError::Quorum(e) => e.fmt(f),
            DrillError::Ratify(e) => e.fmt(f),
            DrillError::Audit(e) => e.fmt(f),
            DrillError::Certificate(e) => e.fmt(f),
            DrillError::CredentialsFailed { names } => write!(
                f,
                "the quorum is good, but credential(s) {} could not be opened: their ciphertext \
                 is damaged or was replaced",
                names.join(", ")
            ),
        }
    }
}

impl std::error::Error for DrillError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            DrillError::Quorum(e) => Some(e),
            DrillError::Ratify(e) => Some(e),
            DrillError::Audit(e) => Some(e),
            DrillError::Certificate(e) => Some(e),
            DrillError::CredentialsFailed { .. } => None,
        }
    }
}

super::wrap_errors!(
    DrillError,
    QuorumError => Quorum,
    RatifyFailure => Ratify,
    AuditError => Audit,
    CertError => Certificate,
);

/// Test-open every credential of `vault`: the age ciphertext must authenticate under the
/// quorum's identity and repeat the entry's identity. Nothing opened is kept.
pub fn test_open(vault: &Vault, unlocked: &Unlocked) -> Vec<CredentialCheck> {
    vault
        .credentials()
        .iter()
        .map(|c| CredentialCheck {
            name: c.name.clone(),
            result: seal::open(&vault.vault_id(), c, unlocked.keys.age_identity()).map(drop),
        })
        .collect()
}

/// Ratify (or list what waits), and record it.
fn ratify_step(
    session: &Session,
    ratify: Option<&mut dyn Consent>,
) -> Result<(Ratification, Vault), DrillError> {
    if let Some(consent) = ratify {
        let (r, vault) = ratify::ratify(
            session.path(),
            session.keys(),
            session.clock().now(),
            consent,
        )?;
        session.note("ratified", "credentials reviewed and signed")?;
        Ok((Ratification::Ratified(r), vault))
    } else {
        let w = ratify::waiting(session.vault(), session.path()).map_err(RatifyFailure::Store)?;
        Ok((Ratification::Waiting(w), session.vault().clone()))
    }
}

/// Hold the drill with the quorum of `session`. With `ratify`, first review, test-open and
/// sign what awaits ratification once that [`Consent`] agrees. Credentials that do not open
/// close the ceremony as failed, but the report is still returned: its
/// [`DrillReport::verdict`] names them. A failed (or declined) ratification closes the
/// ceremony as failed and is returned as the error.
pub fn drill(
    session: Session,
    options: DrillOptions,
    ratify: Option<&mut dyn Consent>,
) -> Result<DrillReport, DrillError> {
    let (ratification, vault) = match ratify_step(&session, ratify) {
        Ok(v) => v,
        Err(e) => {
            return Err(session
                .finish::<(), _>(Err(e), |_| String::new())
                .expect_err("a failure stays a failure"));
        }
    };
    let checks = test_open(&vault, session.unlocked());
    let failed: Vec<&str> = checks
        .iter()
        .filter(|c| c.result.is_err())
        .map(|c| c.name.as_str())
        .collect();
    session.note(
        "credentials test-opened",
        &format!(
            "{} of {} authenticated",
            checks.len() - failed.len(),
            checks.len()
        ),
    )?;
    let hardening_warnings = session.hardening_warnings();
    let now = session.clock().now();
    let closed = if failed.is_empty() {
        session.close_succeeded("drill passed")?
    } else {
        session.close_failed(&format!(
            "quorum verified, but credential(s) {} did not open",
            failed.join(", ")
        ))?
    };
    let (head, unlocked, not_anchored) = (closed.head, closed.unlocked, closed.not_anchored);
    let certificate = if options.certificate {
        let results: Vec<(String, Result<(), String>)> = checks
            .iter()
            .map(|c| {
                (
                    c.name.clone(),
                    c.result.as_ref().map(|_| ()).map_err(|e| e.to_string()),
                )
            })
            .collect();
        Some(Certificate::from_unlocked(
            &vault, &unlocked, &results, head, now,
        )?)
    } else {
        None
    };
    let quorum = QuorumFacts::of(&unlocked, hardening_warnings);
    drop(unlocked);
    Ok(DrillReport {
        vault: Some(vault),
        quorum,
        credentials: checks,
        ratification: Some(ratification),
        certificate,
        not_anchored,
    })
}

/// Combine plain SLIP-39 shares with no vault to compare with (nothing is recorded), and
/// describe the keys they derive.
pub fn drill_without_vault(presented: &Presentation) -> Result<DrillReport, DrillError> {
    let (unlocked, hardening): (Unlocked, Hardening) = session::unlock_without_vault(presented)?;
    let quorum = QuorumFacts::of(&unlocked, hardening.warnings());
    drop(unlocked);
    Ok(DrillReport {
        vault: None,
        quorum,
        credentials: Vec::new(),
        ratification: None,
        certificate: None,
        not_anchored: None,
    })
}
