//! The command line's side of share files and sheets: parsing `--sheets pdf,png,svg,txt`, and
//! listing the files a new share set was written to.

use std::io::Write;

use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
use custody::ops::issue::Layout;
use custody::sheet::{Format, Paper};
use custody::token::Token;

use super::CliError;

/// `--paper`: `a4` or `letter` (`us-letter` also accepted), listed in the help and completed
/// by the shell completions.
pub fn paper_parser() -> impl TypedValueParser<Value = Paper> {
    PossibleValuesParser::new([
        PossibleValue::new("a4").help("A4, 210 x 297 mm"),
        PossibleValue::new("letter")
            .alias("us-letter")
            .help("US Letter, 8.5 x 11 in"),
    ])
    .map(|s| s.parse::<Paper>().expect("a listed paper size parses"))
}

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
    )?;
    list_files(out, tokens, layout)
}

/// `  NAME (group G): file, file` for every token.
pub fn list_files(out: &mut dyn Write, tokens: &[Token], layout: &Layout) -> Result<(), CliError> {
    for ((t, paths), to) in tokens.iter().zip(layout.files()).zip(layout.delivered()) {
        let names: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        writeln!(
            out,
            "  {} (group {}): {}{}",
            t.info.custodian,
            t.info.group,
            names.join(", "),
            super::deliver::note(to.as_ref())
        )?;
    }
    Ok(())
}

/// `{"name", "group", "files"}` for every token, with `delivered_to` (the age recipients)
/// for a custodian whose files were encrypted to them: the custodians of a JSON report of a
/// change that wrote a new share set (as `custody-init/1` lists them).
pub fn files_json(tokens: &[Token], layout: &Layout) -> Vec<serde_json::Value> {
    tokens
        .iter()
        .zip(layout.files())
        .zip(layout.delivered())
        .map(|((t, paths), to)| {
            custodian_json(
                &t.info.custodian,
                &t.info.group,
                paths,
                to.as_ref().map(|r| r.texts()).unwrap_or_default(),
            )
        })
        .collect()
}

/// One custodian of a report: `{"name", "group", "files"}`, and `delivered_to` when
/// `delivered_to` is not empty.
pub fn custodian_json(
    name: &str,
    group: &str,
    files: &[std::path::PathBuf],
    delivered_to: &[String],
) -> serde_json::Value {
    let mut v = serde_json::json!({
        "name": name,
        "group": group,
        "files": files.iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
    });
    if !delivered_to.is_empty() {
        v["delivered_to"] = serde_json::json!(delivered_to);
    }
    v
}
