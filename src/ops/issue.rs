//! Issuing a set of new shares, shared by init, reshare, rotate-master and extend: where each
//! custodian's files go (refusing to overwrite), one signed token per share, the self-check
//! that the tokens read back from their text form reconstruct the vault's key, and writing
//! every file before the vault change is committed (removing them again if the commit fails).
//! Also the content of one printed sheet, for reprinting a share.
//!
//! A custodian named in a [`Delivery`] gets every file only as an age ciphertext to their own
//! recipient (`NN-name.txt.age`, `NN-name.pdf.age`): each file is rendered in memory, encrypted
//! there and only the ciphertext is written. The self-check therefore never re-reads written
//! files: it re-reads every token from its text form in memory, before anything is encrypted
//! or written ([`self_check`]).

use std::fmt;
use std::fs;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use ed25519_dalek::SigningKey;
use zeroize::Zeroizing;

use crate::delivery::{Delivery, DeliveryError, Recipients};
use crate::input::{InputError, Presented};
use crate::policy::Policy;
use crate::progress::{Progress, Step, Task};
use crate::quorum::QuorumError;
use crate::sharefile;
use crate::sheet::{self, Format, Paper, SheetData};
use crate::slip39::Share;
use crate::timefmt;
use crate::token::{Token, TokenError, TokenInfo};
use crate::vault::Vault;
use crate::vault::store::{self, StoreError};
use crate::wire;

/// Why a share set could not be issued. Every variant means nothing was left behind: files
/// written before the failure are removed again.
#[derive(Debug)]
pub enum IssueError {
    /// A share file or sheet (or the vault, for init) already exists; nothing is overwritten.
    Exists(PathBuf),
    /// The output folder could not be created.
    CreateDir {
        /// The folder.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A share file or sheet could not be written.
    Write(StoreError),
    /// A token could not be signed.
    Token(TokenError),
    /// A sheet would not show whose it is: the custodian's name (stored before custody refused
    /// such names) has characters the sheet's fonts cannot draw.
    Undrawable(sheet::Undrawable),
    /// A new token did not read back from its own text form (a bug: nothing was written).
    SelfCheckReread(InputError),
    /// The new shares did not reconstruct the vault's key (a bug: nothing was written).
    SelfCheckUnlock(QuorumError),
    /// A delivery names a custodian who gets no new share here, or a share could not be
    /// encrypted to its custodian's recipient.
    Delivery(DeliveryError),
}

impl fmt::Display for IssueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IssueError::Exists(p) => write!(
                f,
                "{} already exists; custody never overwrites a vault or share file",
                p.display()
            ),
            IssueError::CreateDir { path, source } => {
                write!(f, "cannot create the folder {}: {source}", path.display())
            }
            IssueError::Write(e) => e.fmt(f),
            IssueError::Token(e) => write!(f, "a new share could not be signed: {e}"),
            IssueError::Undrawable(e) => e.fmt(f),
            IssueError::SelfCheckReread(e) => write!(
                f,
                "the new shares failed their own check (a token did not read back: {e}); \
                 nothing was written"
            ),
            IssueError::SelfCheckUnlock(e) => write!(
                f,
                "the new shares failed their own check ({e}); nothing was written"
            ),
            IssueError::Delivery(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for IssueError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            IssueError::CreateDir { source, .. } => Some(source),
            IssueError::Write(e) => Some(e),
            IssueError::Token(e) => Some(e),
            IssueError::Undrawable(e) => Some(e),
            IssueError::SelfCheckReread(e) => Some(e),
            IssueError::SelfCheckUnlock(e) => Some(e),
            IssueError::Delivery(e) => Some(e),
            IssueError::Exists(_) => None,
        }
    }
}

impl IssueError {
    /// Whether this is a self-check failure (a bug in custody, never the officer's doing).
    pub fn is_self_check(&self) -> bool {
        matches!(
            self,
            IssueError::SelfCheckReread(_) | IssueError::SelfCheckUnlock(_)
        )
    }
}

/// File-name form of a custodian name ([`custodian_name::file_name_part`]), `custodian` when
/// the name gives none (only a name stored before the rules for new names can).
pub fn slug(name: &str) -> String {
    crate::custodian_name::file_name_part(name).unwrap_or_else(|| "custodian".into())
}

/// Where each new share's files go: one row per token, one path per format; and, for a
/// delivered custodian, the recipients every file of the row is encrypted to.
#[derive(Clone, Debug)]
pub struct Layout {
    out_dir: PathBuf,
    formats: Vec<Format>,
    files: Vec<Vec<PathBuf>>,
    delivered: Vec<Option<Recipients>>,
}

impl Layout {
    /// The files of each share, in the order the shares are issued (a delivered custodian's
    /// end in `.age`).
    pub fn files(&self) -> &[Vec<PathBuf>] {
        &self.files
    }

    /// For each share, in the same order, the recipients its files are encrypted to (`None`:
    /// written in plaintext, as without delivery).
    pub fn delivered(&self) -> &[Option<Recipients>] {
        &self.delivered
    }
}

/// Number the custodians of `policy` 1, 2, ... in policy order (how init names files).
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
/// exists) if any of them, or `also` (the vault for init), already exists.
pub fn plan(
    out_dir: &Path,
    custodians: &[(usize, String)],
    formats: Vec<Format>,
    also: Option<&Path>,
) -> Result<Layout, IssueError> {
    plan_files(out_dir, custodians, formats, also, &Delivery::new())
}

/// [`plan`], with the custodians `delivery` names receiving their files only as age
/// ciphertexts (`DIR/NN-<slug>.<ext>.age`). Every custodian named must be one of `policy`'s
/// (the policy the new shares are for) and one of `custodians` (those whose shares are
/// written); otherwise nothing is planned.
pub fn plan_delivered(
    out_dir: &Path,
    custodians: &[(usize, String)],
    formats: Vec<Format>,
    also: Option<&Path>,
    delivery: &Delivery,
    policy: &Policy,
) -> Result<Layout, IssueError> {
    let issued: Vec<String> = custodians.iter().map(|(_, n)| n.clone()).collect();
    delivery
        .check(policy, &issued)
        .map_err(IssueError::Delivery)?;
    plan_files(out_dir, custodians, formats, also, delivery)
}

fn plan_files(
    out_dir: &Path,
    custodians: &[(usize, String)],
    formats: Vec<Format>,
    also: Option<&Path>,
    delivery: &Delivery,
) -> Result<Layout, IssueError> {
    let delivered: Vec<Option<Recipients>> = custodians
        .iter()
        .map(|(_, name)| delivery.recipients_for(name).cloned())
        .collect();
    let files: Vec<Vec<PathBuf>> = custodians
        .iter()
        .zip(&delivered)
        .map(|((n, name), to)| {
            let base = out_dir.join(format!("{n:02}-{}", slug(name)));
            formats
                .iter()
                .map(|&f| {
                    let p = path_for(&base, f);
                    if to.is_some() { delivered_path(&p) } else { p }
                })
                .collect()
        })
        .collect();
    for p in also
        .into_iter()
        .chain(files.iter().flatten().map(PathBuf::as_path))
    {
        if p.exists() {
            return Err(IssueError::Exists(p.to_path_buf()));
        }
    }
    Ok(Layout {
        out_dir: out_dir.to_path_buf(),
        formats,
        files,
        delivered,
    })
}

/// `path` with `.age` appended (`03-carol.pdf` -> `03-carol.pdf.age`): where a delivered
/// custodian's file goes.
pub fn delivered_path(path: &Path) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(".");
    p.push(wire::DELIVERED_EXTENSION);
    PathBuf::from(p)
}

/// (group name, custodian name, share) for every custodian of `policy`, in policy order, from
/// the groups of shares SLIP-39 made for it (split with [`Policy::group_specs`]). In a group
/// whose one share is held in copies ([`crate::policy::Group::holds_copies`]) every custodian
/// gets a copy of that share; their tokens tell the copies apart by the holder's name.
pub fn policy_shares(policy: &Policy, groups: Vec<Vec<Share>>) -> Vec<(String, String, Share)> {
    let mut out = Vec::new();
    for (g, shares) in policy.groups.iter().zip(groups) {
        if g.holds_copies() {
            for c in &g.custodians {
                if let Some(share) = shares.first() {
                    out.push((g.name.clone(), c.name.clone(), share.clone()));
                }
            }
        } else {
            for (c, share) in g.custodians.iter().zip(shares) {
                out.push((g.name.clone(), c.name.clone(), share));
            }
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
) -> Result<Vec<Token>, IssueError> {
    let mut tokens = Vec::with_capacity(shares.len());
    for (group, custodian, share) in shares {
        let info = TokenInfo {
            vault_id,
            epoch,
            created,
            custodian,
            group,
        };
        tokens.push(Token::sign(info, share, key).map_err(IssueError::Token)?);
    }
    Ok(tokens)
}

/// Re-read a token from its text form, as a custodian would present it.
pub fn reread(t: &Token) -> Result<Presented, IssueError> {
    let text: Zeroizing<String> = t.to_text();
    crate::input::parse_text("self-check", &text).map_err(IssueError::SelfCheckReread)
}

/// Every group's first threshold tokens (enough groups), re-read from their text form, must
/// reconstruct a secret that derives `vault`'s key.
pub fn self_check(
    tokens: &[Token],
    vault: &Vault,
    passphrase: Option<&[u8]>,
) -> Result<(), IssueError> {
    let mut presented = Vec::new();
    let needed = usize::from(vault.policy().group_threshold);
    for (gi, g) in vault.policy().groups.iter().enumerate().take(needed) {
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
) -> Result<(), IssueError> {
    crate::quorum::unlock(presented, Some(vault), passphrase)
        .map(drop)
        .map_err(IssueError::SelfCheckUnlock)
}

/// Write every token's files (mode 0600, never overwriting), telling `progress` as each
/// custodian's begin ([`Task::WritingSheets`]), then run `commit` (the vault write). If
/// anything fails, the files written so far are removed again. A delivered custodian's files
/// ([`Layout::delivered`]) are rendered and encrypted in memory; only the ciphertext is
/// written, and the rendered plaintext is wiped.
pub fn write_all<E: From<IssueError>>(
    layout: &Layout,
    tokens: &[Token],
    policy: &Policy,
    fingerprint: &str,
    paper: Paper,
    progress: &mut dyn Progress,
    commit: impl FnOnce() -> Result<(), E>,
) -> Result<(), E> {
    // Folders custody creates hold shares: owner only, whatever the umask (an existing folder
    // is left as its owner set it).
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&layout.out_dir)
        .map_err(|source| IssueError::CreateDir {
            path: layout.out_dir.clone(),
            source,
        })?;
    let mut written: Vec<&PathBuf> = Vec::new();
    let result = (|| -> Result<(), E> {
        for (i, ((t, paths), to)) in tokens
            .iter()
            .zip(&layout.files)
            .zip(&layout.delivered)
            .enumerate()
        {
            progress.step(Step {
                task: Task::WritingSheets,
                number: i + 1,
                total: tokens.len(),
                subject: &t.info.custodian,
            });
            for (&format, p) in layout.formats.iter().zip(paths) {
                let bytes = render_sheet(format, t, policy, fingerprint, paper)?;
                match to {
                    Some(r) => {
                        let sealed = r
                            .encrypt(&t.info.custodian, &bytes)
                            .map_err(IssueError::Delivery)?;
                        drop(bytes);
                        write_share_file(p, &sealed)?;
                    }
                    None => write_share_file(p, &bytes)?,
                }
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

/// The content of one custodian's sheet.
pub fn sheet_data(token: &Token, policy: &Policy, fingerprint: &str) -> SheetData {
    let s = &token.share;
    let group = &policy.groups[usize::from(s.group_index)];
    // In a group that holds copies, the holder's number in the group (the copy number); the
    // SLIP-39 member index of every copy is 0.
    let member_number = match group.custodians.iter().find(|c| {
        group.holds_copies() && crate::custodian_name::same(&c.name, &token.info.custodian)
    }) {
        Some(c) => c.member_index + 1,
        None => s.member_index + 1,
    };
    SheetData {
        title: "custody share sheet".into(),
        custodian: token.info.custodian.clone(),
        group: token.info.group.clone(),
        member_number,
        member_threshold: s.member_threshold,
        member_count: group.custodians.len() as u8,
        group_threshold: s.group_threshold,
        group_count: s.group_count,
        policy_lines: policy.describe(),
        fingerprint: fingerprint.to_owned(),
        vault_id: crate::keys::hex(&token.info.vault_id),
        epoch: token.info.epoch,
        created: timefmt::date(token.info.created),
        token: token.to_text(),
        words: Zeroizing::new(s.to_words().split(' ').map(str::to_owned).collect()),
    }
}

/// The bytes of a share in one format: a sheet (PDF, PNG, SVG, terminal half-blocks) or the
/// text share file. A PDF or PNG sheet that could not show the custodian's name is refused.
pub fn render_sheet(
    format: Format,
    token: &Token,
    policy: &Policy,
    fingerprint: &str,
    paper: Paper,
) -> Result<Zeroizing<Vec<u8>>, IssueError> {
    let data = sheet_data(token, policy, fingerprint);
    Ok(match format {
        Format::Pdf => sheet::render_pdf(&data, paper).map_err(IssueError::Undrawable)?,
        Format::Png => sheet::render_png(&data, paper).map_err(IssueError::Undrawable)?,
        Format::Svg => Zeroizing::new(sheet::render_svg(&data, paper).as_bytes().to_vec()),
        Format::Txt => Zeroizing::new(
            sharefile::render(token, policy, fingerprint)
                .as_bytes()
                .to_vec(),
        ),
        Format::Terminal => Zeroizing::new(
            sheet::render_terminal(&data.token, false)
                .as_bytes()
                .to_vec(),
        ),
    })
}

/// `base` with the format's extension (`DIR/NN-name` -> `DIR/NN-name.pdf`).
pub fn path_for(base: &Path, format: Format) -> PathBuf {
    let mut p = base.as_os_str().to_owned();
    p.push(".");
    p.push(format.extension().unwrap_or("txt"));
    PathBuf::from(p)
}

/// Write one share file or sheet (mode 0600: it is a share), refusing to overwrite.
pub fn write_share_file(path: &Path, bytes: &[u8]) -> Result<(), IssueError> {
    store::create_new(path, bytes, 0o600).map_err(|e| match e {
        StoreError::Exists(p) => IssueError::Exists(p),
        e => IssueError::Write(e),
    })
}

#[cfg(test)]
mod tests {
    use super::slug;

    #[test]
    fn slugs() {
        assert_eq!(slug("Alice Smith"), "alice-smith");
        assert_eq!(slug("  Bob/Ops!! "), "bob-ops");
        assert_eq!(slug("Zoë"), "zoe");
        assert_eq!(slug("É\u{301}mile Œuvre-Ærø"), "emile-oeuvre-aero");
        assert_eq!(slug("Straße Þór ƒ½"), "strasse-thor-f1-2");
        assert_eq!(slug("---"), "custodian");
        // Every one-character name a new policy admits gives a file name part of its own.
        for c in (0..0x2200u32).filter_map(char::from_u32) {
            if crate::custodian_name::admit(&c.to_string()).is_ok() {
                let s = slug(&c.to_string());
                assert!(
                    s != "custodian" && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'),
                    "{c:?} -> {s}"
                );
            }
        }
    }
}
