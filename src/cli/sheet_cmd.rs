//! `custody sheet`: reprint one share as a PDF, PNG or SVG sheet, or draw its QR code on the
//! terminal for an air-gapped phone to read. The share must carry a signed token of this vault.

use std::io::{IsTerminal, Write};

use super::shares_in::read_one;
use super::{CliError, SheetArgs};
use custody::harden;
use custody::ops::issue;
use custody::quorum::check_share;
use custody::sheet::{self, Format};
use custody::terminal_text::escape;
use custody::vault::store;

pub fn run(args: SheetArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let _hardening = harden::for_quorum();
    let vault = store::load(&args.vault)?;
    let presented = read_one(&args.share, (1, 1), &mut *super::progress::on_terminal())?;
    let label = presented.label.clone();
    check_share(&presented, &vault).map_err(|p| CliError::Usage(format!("share {label}: {p}")))?;
    let token = presented.token.ok_or_else(|| {
        CliError::Usage(format!(
            "share {label} is only words: a sheet's QR code carries the signed token, so give \
             the share file or a photo of the old sheet"
        ))
    })?;
    let w = CliError::Output;
    if args.format == Format::Terminal {
        // Colours only for a terminal; a file or a pipe gets the plain half blocks.
        // `out` is not escaped here (the colours are custody's own): the names from the token
        // are escaped by hand.
        let qr = sheet::render_terminal(&token.to_text(), std::io::stdout().is_terminal());
        out.write_all(qr.as_bytes()).map_err(w)?;
        writeln!(
            out,
            "{} — share {} of group {}, vault {}. Clear the screen when done.",
            escape(&token.info.custodian),
            token.share.member_index + 1,
            escape(&token.info.group),
            vault.fingerprint()
        )
        .map_err(w)?;
        return Ok(());
    }
    let output = args.output.ok_or_else(|| {
        CliError::Usage("say where to write the sheet: -o FILE (it must not exist)".into())
    })?;
    let bytes = issue::render_sheet(
        args.format,
        &token,
        vault.policy(),
        &vault.fingerprint(),
        args.paper,
    )?;
    issue::write_share_file(&output, &bytes)?;
    writeln!(
        out,
        "Wrote {} ({}'s share, {}). Print it, then check the print: custody check-share --vault {} PHOTO",
        output.display(),
        token.info.custodian,
        args.paper,
        args.vault.display()
    )
    .map_err(w)?;
    Ok(())
}
