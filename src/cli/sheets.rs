//! Turning a share into its printable sheet: the sheet content from a token and the vault's
//! policy, and writing it in the chosen formats next to (or instead of) the text share file.

use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use super::CliError;
use crate::policy::Policy;
use crate::sharefile;
use crate::sheet::{self, Format, Paper, SheetData};
use crate::timefmt;
use crate::token::Token;
use crate::vault::store;

/// Parse `--sheets pdf,png,svg,txt`.
pub fn parse_formats(list: &str) -> Result<Vec<Format>, CliError> {
    let mut out = Vec::new();
    for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let f: Format = item.parse().map_err(CliError::Usage)?;
        if f == Format::Terminal {
            return Err(CliError::Usage(
                "--sheets writes files: choose from pdf, png, svg and txt (show one share on \
                 screen with `custody sheet FILE --format terminal`)"
                    .into(),
            ));
        }
        if !out.contains(&f) {
            out.push(f);
        }
    }
    if out.is_empty() {
        return Err(CliError::Usage(
            "--sheets needs at least one of pdf, png, svg, txt".into(),
        ));
    }
    Ok(out)
}

/// The content of one custodian's sheet.
pub fn sheet_data(token: &Token, policy: &Policy, fingerprint: &str) -> SheetData {
    let s = &token.share;
    let group = &policy.groups[usize::from(s.group_index)];
    SheetData {
        title: "custody share sheet".into(),
        custodian: token.info.custodian.clone(),
        group: token.info.group.clone(),
        member_number: s.member_index + 1,
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

/// The bytes of a sheet in a file format (not `Terminal`).
pub fn render(
    format: Format,
    token: &Token,
    policy: &Policy,
    fingerprint: &str,
    paper: Paper,
) -> Zeroizing<Vec<u8>> {
    let data = sheet_data(token, policy, fingerprint);
    match format {
        Format::Pdf => sheet::render_pdf(&data, paper),
        Format::Png => sheet::render_png(&data, paper),
        Format::Svg => Zeroizing::new(sheet::render_svg(&data, paper).as_bytes().to_vec()),
        Format::Txt => Zeroizing::new(
            sharefile::render(token, policy, fingerprint)
                .as_bytes()
                .to_vec(),
        ),
        Format::Terminal => Zeroizing::new(sheet::render_terminal(&data.token).as_bytes().to_vec()),
    }
}

/// `base` with the format's extension (`DIR/NN-name` -> `DIR/NN-name.pdf`).
pub fn path_for(base: &Path, format: Format) -> PathBuf {
    let mut p = base.as_os_str().to_owned();
    p.push(".");
    p.push(format.extension().unwrap_or("txt"));
    PathBuf::from(p)
}

/// Write one sheet file (mode 0600: it is a share), refusing to overwrite.
pub fn write(path: &Path, bytes: &[u8]) -> Result<(), CliError> {
    store::create_new(path, bytes, 0o600)?;
    Ok(())
}
