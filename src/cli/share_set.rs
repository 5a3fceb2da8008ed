//! Making a set of new shares real, shared by `init`, `reshare`, `rotate-master` and `extend`:
//! where each custodian's files go (refusing to overwrite), one signed token per share, the
//! self-check that the tokens read back from text reconstruct the vault's key, and writing
//! every file before the vault change is committed (removing them again if the commit fails).

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use ed25519_dalek::SigningKey;
use zeroize::Zeroizing;

use super::init::slug;
use super::{CliError, sheets};
use crate::input::Presented;
use crate::policy::Policy;
use crate::sheet::{Format, Paper};
use crate::slip39::Share;
use crate::token::{Token, TokenInfo};
use crate::vault::Vault;
use crate::vault::store::StoreError;
use crate::wire;

/// Where each new share's files go: one row per token, one path per format.
pub struct Layout {
    pub out_dir: PathBuf,
    pub formats: Vec<Format>,
    pub files: Vec<Vec<PathBuf>>,
}

/// Number the custodians of `policy` 1, 2, ... in policy order (how `init` names files).
pub fn numbered(policy: &Policy) -> Vec<(usize, String)> {
    policy
        .groups
        .iter()
        .flat_map(|g| g.custodians.iter())
        .enumerate()
        .map(|(i, c)| (i + 1, c.name.clone()))
        .collect()
}

/// `DIR/NN-<slug>.<ext>` for each numbered custodian and format. Refuses (before any secret
/// exists) if any of them, or `also` (the vault for `init`), already exists.
pub fn plan(
    out_dir: &Path,
    custodians: &[(usize, String)],
    formats: Vec<Format>,
    also: Option<&Path>,
) -> Result<Layout, CliError> {
    let files: Vec<Vec<PathBuf>> = custodians
        .iter()
        .map(|(n, name)| {
            let base = out_dir.join(format!("{n:02}-{}", slug(name)));
            formats
                .iter()
                .map(|&f| sheets::path_for(&base, f))
                .collect()
        })
        .collect();
    for p in also
        .into_iter()
        .chain(files.iter().flatten().map(PathBuf::as_path))
    {
        if p.exists() {
            return Err(StoreError::Exists(p.to_path_buf()).into());
        }
    }
    Ok(Layout {
        out_dir: out_dir.to_path_buf(),
        formats,
        files,
    })
}

/// (group name, custodian name, share) for every custodian of `policy`, in policy order, from
/// the groups of shares SLIP-39 made for it.
pub fn policy_shares(policy: &Policy, groups: Vec<Vec<Share>>) -> Vec<(String, String, Share)> {
    let mut out = Vec::new();
    for (g, shares) in policy.groups.iter().zip(groups) {
        for (c, share) in g.custodians.iter().zip(shares) {
            out.push((g.name.clone(), c.name.clone(), share));
        }
    }
    out
}

/// One signed token per share.
pub fn sign_tokens(
    shares: Vec<(String, String, Share)>,
    vault_id: [u8; wire::VAULT_ID_LEN],
    epoch: u32,
    created: u64,
    key: &SigningKey,
) -> Result<Vec<Token>, CliError> {
    let mut tokens = Vec::with_capacity(shares.len());
    for (group, custodian, share) in shares {
        let info = TokenInfo {
            vault_id,
            epoch,
            created,
            custodian,
            group,
        };
        tokens.push(Token::sign(info, share, key)?);
    }
    Ok(tokens)
}

/// Re-read a token from its text form, as a custodian would present it.
pub fn reread(t: &Token) -> Result<Presented, CliError> {
    let text: Zeroizing<String> = t.to_text();
    crate::input::parse_text("self-check", &text).map_err(|e| CliError::SelfCheck(e.to_string()))
}

/// Every group's first threshold tokens (enough groups), re-read from their text form, must
/// reconstruct a secret that derives `vault`'s key.
pub fn self_check(
    tokens: &[Token],
    vault: &Vault,
    passphrase: Option<&[u8]>,
) -> Result<(), CliError> {
    let mut presented = Vec::new();
    let needed = usize::from(vault.policy.group_threshold);
    for (gi, g) in vault.policy.groups.iter().enumerate().take(needed) {
        for t in tokens
            .iter()
            .filter(|t| usize::from(t.share.group_index) == gi)
            .take(usize::from(g.member_threshold))
        {
            presented.push(reread(t)?);
        }
    }
    check_unlock(&presented, vault, passphrase)
}

/// `presented` must unlock `vault` (a self-check: failure means a bug, nothing is written).
pub fn check_unlock(
    presented: &[Presented],
    vault: &Vault,
    passphrase: Option<&[u8]>,
) -> Result<(), CliError> {
    crate::quorum::unlock(presented, Some(vault), passphrase)
        .map(drop)
        .map_err(|e| CliError::SelfCheck(e.to_string()))
}

/// Write every token's files (mode 0600, never overwriting), then run `commit` (the vault
/// write). If anything fails, the files written so far are removed again.
pub fn write_all(
    layout: &Layout,
    tokens: &[Token],
    policy: &Policy,
    fingerprint: &str,
    paper: Paper,
    commit: impl FnOnce() -> Result<(), CliError>,
) -> Result<(), CliError> {
    fs::create_dir_all(&layout.out_dir).map_err(|source| CliError::Write {
        path: layout.out_dir.clone(),
        source,
    })?;
    let mut written: Vec<&PathBuf> = Vec::new();
    let result = (|| -> Result<(), CliError> {
        for (t, paths) in tokens.iter().zip(&layout.files) {
            for (&format, p) in layout.formats.iter().zip(paths) {
                let bytes = sheets::render(format, t, policy, fingerprint, paper);
                sheets::write(p, &bytes)?;
                written.push(p);
            }
        }
        commit()
    })();
    if let Err(e) = result {
        for p in written {
            let _ = fs::remove_file(p);
        }
        return Err(e);
    }
    Ok(())
}

/// The heading "New share files (...)", then [`list_files`]: the report of a change that
/// wrote a new share set.
pub fn list_new_files(
    out: &mut dyn Write,
    tokens: &[Token],
    layout: &Layout,
) -> Result<(), CliError> {
    writeln!(
        out,
        "New share files (each one is secret; give each custodian only their own):"
    )
    .map_err(|e| CliError::Terminal(e.to_string()))?;
    list_files(out, tokens, layout)
}

/// `  NAME (group G): file, file` for every token.
pub fn list_files(out: &mut dyn Write, tokens: &[Token], layout: &Layout) -> Result<(), CliError> {
    for (t, paths) in tokens.iter().zip(&layout.files) {
        let names: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        writeln!(
            out,
            "  {} (group {}): {}",
            t.info.custodian,
            t.info.group,
            names.join(", ")
        )
        .map_err(|e| CliError::Terminal(e.to_string()))?;
    }
    Ok(())
}
