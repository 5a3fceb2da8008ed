//! The vault's credential list: the entries, the rotation policy, the write revision counter,
//! and the quorum's signed ratification record. Entries that cannot be parsed are kept
//! verbatim (and reported) so that no write ever destroys the evidence of an edit.

use super::credential::{Credential, env_prefix};
use super::ratify::Ratification;
use crate::wire;

/// A stored entry that does not parse or validate; written back unchanged.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Malformed {
    /// The `name` field if it had one, else `#<position>`.
    pub name: String,
    pub problem: String,
    pub raw: serde_json::Value,
}

/// Every credential in the vault, with the state the quorum ratified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CredentialSet {
    /// A credential is overdue this many days after its last rotation.
    pub rotation_days: u32,
    /// Incremented by every write (quorum or not); compared with the generation sidecar.
    pub revision: u64,
    /// The last ratification, if a quorum ever signed one.
    pub ratification: Option<Ratification>,
    pub entries: Vec<Credential>,
    pub malformed: Vec<Malformed>,
}

impl Default for CredentialSet {
    fn default() -> Self {
        CredentialSet {
            rotation_days: wire::DEFAULT_ROTATION_DAYS,
            revision: 0,
            ratification: None,
            entries: Vec::new(),
            malformed: Vec::new(),
        }
    }
}

impl CredentialSet {
    pub fn get(&self, name: &str) -> Option<&Credential> {
        self.entries.iter().find(|c| c.name == name)
    }

    pub fn get_mut(&mut self, name: &str) -> Option<&mut Credential> {
        self.entries.iter_mut().find(|c| c.name == name)
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

    /// Remove the entry called `name` (valid or malformed); whether there was one.
    pub fn remove(&mut self, name: &str) -> bool {
        let before = self.entries.len() + self.malformed.len();
        self.entries.retain(|c| c.name != name);
        self.malformed.retain(|m| m.name != name);
        before != self.entries.len() + self.malformed.len()
    }

    /// The generation of the last ratification (0 if none).
    pub fn generation(&self) -> u64 {
        self.ratification.as_ref().map_or(0, |r| r.generation)
    }
}
