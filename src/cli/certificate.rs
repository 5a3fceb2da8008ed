//! `custody verify-certificate`: check a drill certificate offline against the vault file (no
//! quorum): format, signature under the vault's key over the canonical bytes, same vault. Prints
//! the certificate's text page and "valid". `drill --certificate FILE` writes one with
//! [`custody::certificate::write_certificate`].

use std::io::Write;

use super::{CliError, VerifyCertificateArgs};
use custody::audit;
use custody::certificate::{self, SignedBy};
use custody::safe_file::{self, FileError, ReadRules};
use custody::vault::store;

pub fn run(args: VerifyCertificateArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let vault = store::load(&args.vault)?;
    let rules = ReadRules::named(certificate::MAX_CERTIFICATE_BYTES);
    let bytes = safe_file::read(&args.file, rules).map_err(|e| match e {
        FileError::Io(source) => CliError::Read {
            path: args.file.clone(),
            source,
        },
        FileError::Refused(problem) => CliError::Refused {
            path: args.file.clone(),
            problem,
        },
    })?;
    let text = std::str::from_utf8(&bytes).map_err(|e| CliError::Read {
        path: args.file.clone(),
        source: std::io::Error::new(std::io::ErrorKind::InvalidData, e),
    })?;
    // A certificate from before a master rotation is signed by a key the vault retired; the
    // audit log beside the vault vouches for each retired key (a missing log vouches for none).
    let retired = audit::inspect(&audit::log_path(&args.vault), vault.public_key())
        .map(|r| r.retired_keys)
        .unwrap_or_default();
    let (cert, signed_by) =
        certificate::verify_certificate_across_rotations(text, &vault, &retired)?;
    let w = CliError::Output;
    if args.json {
        let certificate: serde_json::Value =
            serde_json::from_str(&cert.to_json()).map_err(CliError::Encode)?;
        let (signed_by, retired_at) = match &signed_by {
            SignedBy::Current => ("current", None),
            SignedBy::Retired(old) => ("retired", Some(old.retired_at.clone())),
        };
        let doc = serde_json::json!({
            "format": "custody-verify-certificate/1",
            "ok": true,
            "signed_by": signed_by,
            "retired_at": retired_at,
            "vault_fingerprint": vault.fingerprint(),
            "vault_epoch": vault.epoch(),
            "certificate": certificate,
        });
        writeln!(out, "{doc}").map_err(w)?;
        return Ok(());
    }
    out.write_all(cert.render_text().as_bytes()).map_err(w)?;
    writeln!(out).map_err(w)?;
    match signed_by {
        SignedBy::Current => writeln!(
            out,
            "valid: signed by this vault's master key (fingerprint {}); compare it with the \
             custodians' sheets",
            vault.fingerprint()
        ),
        SignedBy::Retired(old) => writeln!(
            out,
            "valid: signed by this vault's master key of epoch {} (fingerprint {}), retired on \
             {} by a master rotation that the audit log records under the current key \
             (fingerprint {})",
            cert.epoch,
            cert.fingerprint,
            old.retired_at.get(..10).unwrap_or(&old.retired_at),
            vault.fingerprint()
        ),
    }
    .map_err(w)?;
    if cert.epoch < vault.epoch() {
        writeln!(
            out,
            "note: the certificate is from epoch {}; the vault is now at epoch {} (the shares \
             were replaced since)",
            cert.epoch,
            vault.epoch()
        )
        .map_err(w)?;
    }
    Ok(())
}
