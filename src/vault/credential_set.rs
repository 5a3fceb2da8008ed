//! The vault's credential list: the entries, the rotation policy, the write revision counter,
//! and the quorum's signed ratification record. Entries that cannot be parsed are kept
//! verbatim (and reported) so that no write ever destroys the evidence of an edit.
//!
//! The fields are private: entries are added, replaced, renamed and removed through methods
//! that keep the set's rules (one entry per name, no two names giving the same environment
//! variables), and only the vault's own code moves the revision and the ratification record.

use std::fmt;

use super::credential::{Credential, env_prefix};
use super::ratify::Ratification;

/// Days between rotations before a credential is overdue, unless the vault says otherwise.
pub const DEFAULT_ROTATION_DAYS: u32 = 90;

/// A stored entry that does not parse or validate; written back unchanged.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Malformed {
    name: String,
    problem: String,
    raw: serde_json::Value,
}

impl Malformed {
    pub(crate) fn new(name: String, problem: String, raw: serde_json::Value) -> Malformed {
        Malformed { name, problem, raw }
    }

    /// The `name` field if it had one, else `#<position>`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Why it does not parse.
    pub fn problem(&self) -> &str {
        &self.problem
    }

    /// The entry exactly as stored.
    pub fn raw(&self) -> &serde_json::Value {
        &self.raw
    }
}

/// Why a change to the credential list breaks one of its rules.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SetError {
    /// No entry of that name.
    NotFound {
        /// The name asked for.
        name: String,
    },
    /// An entry of that name exists already.
    Exists {
        /// The name asked for.
        name: String,
    },
    /// Another entry's name gives the same environment variables (`a-b` and `A_B`).
    Clash {
        /// The name asked for.
        name: String,
        /// The existing entry it clashes with.
        other: String,
    },
}

impl fmt::Display for SetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SetError::NotFound { name } => write!(f, "no credential `{name}` in the vault"),
            SetError::Exists { name } => write!(f, "credential `{name}` already exists"),
            SetError::Clash { name, other } => write!(
                f,
                "the name `{name}` gives the same variable names as the existing credential \
                 `{other}`"
            ),
        }
    }
}

impl std::error::Error for SetError {}

/// Every credential in the vault, with the state the quorum ratified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CredentialSet {
    /// A credential is overdue this many days after its last rotation.
    rotation_days: u32,
    /// Incremented by every write (quorum or not); compared with the generation sidecar.
    revision: u64,
    /// The last ratification, if a quorum ever signed one.
    ratification: Option<Ratification>,
    entries: Vec<Credential>,
    malformed: Vec<Malformed>,
}

impl Default for CredentialSet {
    fn default() -> Self {
        CredentialSet::new(DEFAULT_ROTATION_DAYS, 0, None)
    }
}

impl CredentialSet {
    /// An empty list with these numbers (the vault file's loader fills it).
    pub(crate) fn new(
        rotation_days: u32,
        revision: u64,
        ratification: Option<Ratification>,
    ) -> CredentialSet {
        CredentialSet {
            rotation_days,
            revision,
            ratification,
            entries: Vec::new(),
            malformed: Vec::new(),
        }
    }

    /// The parsed entries, in file order.
    pub fn entries(&self) -> &[Credential] {
        &self.entries
    }

    /// The parsed entries, in file order.
    pub fn iter(&self) -> std::slice::Iter<'_, Credential> {
        self.entries.iter()
    }

    /// How many parsed entries there are.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there is no parsed entry.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Entries kept verbatim because they do not parse.
    pub fn malformed(&self) -> &[Malformed] {
        &self.malformed
    }

    /// A credential is overdue this many days after its last rotation.
    pub fn rotation_days(&self) -> u32 {
        self.rotation_days
    }

    /// The write revision (incremented by every write).
    pub fn revision(&self) -> u64 {
        self.revision
    }

    /// The last ratification record, if a quorum ever signed one (verified or not).
    pub fn ratification(&self) -> Option<&Ratification> {
        self.ratification.as_ref()
    }

    /// The generation of the last ratification (0 if none).
    pub fn generation(&self) -> u64 {
        self.ratification.as_ref().map_or(0, |r| r.generation)
    }

    /// The entry called `name`.
    pub fn get(&self, name: &str) -> Option<&Credential> {
        self.entries.iter().find(|c| c.name == name)
    }

    /// An existing entry (or malformed entry) whose name maps to the same environment
    /// variables as `name` (`a-b` and `A_B` collide).
    pub fn clash(&self, name: &str) -> Option<&str> {
        let p = env_prefix(name);
        self.entries
            .iter()
            .map(|c| c.name.as_str())
            .chain(self.malformed.iter().map(|m| m.name.as_str()))
            .find(|n| env_prefix(n) == p)
    }

    /// Whether an entry may be given the name `name`: no entry (valid or malformed) has it, and
    /// no other's environment variables would be the same (`except`, the entry being renamed,
    /// does not count).
    pub fn name_free(&self, name: &str, except: Option<&str>) -> Result<(), SetError> {
        if self.get(name).is_some() || self.malformed.iter().any(|m| m.name == name) {
            return Err(SetError::Exists { name: name.into() });
        }
        let clash = self
            .entries
            .iter()
            .map(|c| c.name.as_str())
            .chain(self.malformed.iter().map(|m| m.name.as_str()))
            .filter(|n| Some(*n) != except)
            .find(|n| env_prefix(n) == env_prefix(name));
        match clash {
            Some(other) => Err(SetError::Clash {
                name: name.into(),
                other: other.into(),
            }),
            None => Ok(()),
        }
    }

    /// Add a new entry; refuses a name that exists or clashes with another's variables.
    pub fn insert(&mut self, c: Credential) -> Result<(), SetError> {
        self.name_free(&c.name, None)?;
        self.entries.push(c);
        Ok(())
    }

    /// Replace the entry of the same name (a rotation or a metadata change); returns the old one.
    pub fn replace(&mut self, c: Credential) -> Result<Credential, SetError> {
        let slot = self
            .entries
            .iter_mut()
            .find(|e| e.name == c.name)
            .ok_or_else(|| SetError::NotFound {
                name: c.name.clone(),
            })?;
        Ok(std::mem::replace(slot, c))
    }

    /// Put `new` in the place of the entry called `old` (a rename: `new` carries the new
    /// name); refuses a new name that exists or clashes with any entry but `old`.
    pub fn rename(&mut self, old: &str, new: Credential) -> Result<Credential, SetError> {
        let i = self
            .entries
            .iter()
            .position(|e| e.name == old)
            .ok_or_else(|| SetError::NotFound { name: old.into() })?;
        self.name_free(&new.name, Some(old))?;
        Ok(std::mem::replace(&mut self.entries[i], new))
    }

    /// Remove the entry called `name` (valid or malformed); whether there was one.
    pub fn remove(&mut self, name: &str) -> bool {
        let before = self.entries.len() + self.malformed.len();
        self.entries.retain(|c| c.name != name);
        self.malformed.retain(|m| m.name != name);
        before != self.entries.len() + self.malformed.len()
    }

    /// Move the write revision past both this file's and `seen` (the sidecar's). `None`, and
    /// nothing changed, when the revision is already the largest there is: it never wraps to 0
    /// (which would make every later write look like a rollback, or hide a real one).
    pub(crate) fn bump_revision(&mut self, seen: u64) -> Option<()> {
        self.revision = self.revision.max(seen).checked_add(1)?;
        Some(())
    }

    /// Install a newly signed ratification record.
    pub(crate) fn set_ratification(&mut self, r: Ratification) {
        self.ratification = Some(r);
    }

    /// The entries, for the vault's own bookkeeping (clearing pending marks): no entry can be
    /// added or removed through this.
    pub(crate) fn entries_mut(&mut self) -> &mut [Credential] {
        &mut self.entries
    }

    /// Replace every parsed entry at once (the resealed entries of a master rotation, which
    /// carry the same names).
    pub(crate) fn replace_entries(&mut self, entries: Vec<Credential>) {
        self.entries = entries;
    }

    /// Append an entry read from the file (the loader checks clashes its own way, reporting
    /// the later of two clashing entries as malformed).
    pub(crate) fn push_loaded(&mut self, c: Credential) {
        self.entries.push(c);
    }

    /// Keep an entry that does not parse.
    pub(crate) fn push_malformed(&mut self, m: Malformed) {
        self.malformed.push(m);
    }
}
