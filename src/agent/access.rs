//! TEMPORARY stand-in for `vault::access` (being written on another branch); removed at merge.
#![allow(missing_docs, dead_code)]
use std::path::PathBuf;

use crate::vault::Vault;

#[derive(Clone, Debug)]
pub struct Client {
    pub uid: u32,
    pub gid: u32,
    pub pid: u32,
    pub exe: Option<PathBuf>,
    pub unit: Option<String>,
}

#[derive(Clone, Debug)]
pub struct AccessRule {
    uid: u32,
    creds: Vec<String>,
}

impl AccessRule {
    pub fn admits(&self, c: &Client) -> bool {
        c.uid == self.uid
    }
    pub fn credentials(&self) -> &[String] {
        &self.creds
    }
    pub fn rate_per_minute(&self) -> u32 {
        600
    }
}

#[derive(Clone, Debug, Default)]
pub struct AccessPolicy {
    rules: Vec<AccessRule>,
}

impl AccessPolicy {
    pub fn grants(&self, c: &Client, cred: &str) -> Option<&AccessRule> {
        self.rules
            .iter()
            .find(|r| r.admits(c) && r.creds.iter().any(|n| n == cred))
    }
    pub fn rule_for(&self, c: &Client) -> Option<&AccessRule> {
        self.rules.iter().find(|r| r.admits(c))
    }
    pub fn granted_credentials(&self) -> Vec<String> {
        let mut v: Vec<String> = self.rules.iter().flat_map(|r| r.creds.clone()).collect();
        v.sort();
        v.dedup();
        v
    }
    pub fn digest(&self) -> [u8; 32] {
        [0; 32]
    }
}

#[derive(Debug)]
pub struct AccessError(pub String);
impl std::fmt::Display for AccessError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for AccessError {}

pub fn ratified_access(v: &Vault) -> Result<AccessPolicy, AccessError> {
    Ok(AccessPolicy {
        rules: vec![AccessRule {
            uid: rustix::process::getuid().as_raw(),
            creds: v.credentials().iter().map(|c| c.name.clone()).collect(),
        }],
    })
}
