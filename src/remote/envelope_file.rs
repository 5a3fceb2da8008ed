//! Reading an envelope a remote custodian sent: its armored text in a file, or a photo or scan
//! of its QR code. What the envelope says is checked by [`super::HostSession::accept`]; this
//! only turns a file into its text.

use std::fmt;
use std::path::Path;

use zeroize::Zeroizing;

use crate::safe_file::{self, FileError, ReadRules};
use crate::scan::{self, ScanError};
use crate::wire;

/// Whether `text` is an envelope's armored text (it starts with age's armor line).
pub fn looks_like_envelope(text: &str) -> bool {
    text.trim_start().starts_with(wire::AGE_ARMOR_BEGIN)
}

/// Why an envelope file could not be read.
#[derive(Debug)]
pub enum EnvelopeFileError {
    /// The file could not be read, is not a regular file, or is larger than a photo may be.
    File(FileError),
    /// The file is neither text nor a PNG or JPEG picture.
    NotText,
    /// The picture could not be read, or holds no QR code.
    Scan(ScanError),
    /// The text, or every QR code in the picture, is not an envelope (no age armor line).
    NotAnEnvelope,
}

impl fmt::Display for EnvelopeFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EnvelopeFileError::File(e) => e.fmt(f),
            EnvelopeFileError::NotText => {
                f.write_str("it is neither text nor a PNG or JPEG picture")
            }
            EnvelopeFileError::Scan(e) => write!(f, "the picture could not be read: {e}"),
            EnvelopeFileError::NotAnEnvelope => write!(
                f,
                "it is not an envelope (an envelope starts with `{}`)",
                wire::AGE_ARMOR_BEGIN
            ),
        }
    }
}

impl std::error::Error for EnvelopeFileError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            EnvelopeFileError::File(e) => Some(e),
            EnvelopeFileError::Scan(e) => Some(e),
            _ => None,
        }
    }
}

/// The envelope text in `bytes`: the text itself, or the QR code of a picture that holds one.
/// `Ok(None)`: text that is not an envelope (a share file, say), so the caller may read it as
/// something else.
pub fn from_bytes(bytes: &[u8]) -> Result<Option<Zeroizing<String>>, EnvelopeFileError> {
    if scan::is_image(bytes) {
        let found = scan::decode_qr_codes(bytes).map_err(EnvelopeFileError::Scan)?;
        let mut found: Vec<Zeroizing<String>> = found.into_iter().map(Zeroizing::new).collect();
        return Ok(found
            .iter()
            .position(|t| looks_like_envelope(t))
            .map(|i| found.swap_remove(i)));
    }
    let text = std::str::from_utf8(bytes).map_err(|_| EnvelopeFileError::NotText)?;
    Ok(looks_like_envelope(text).then(|| Zeroizing::new(text.to_owned())))
}

/// Read the envelope in the file at `path` (links followed; a photo may be as large as a
/// share photo, [`wire::MAX_SHARE_INPUT_BYTES`]).
pub fn read(path: &Path) -> Result<Zeroizing<String>, EnvelopeFileError> {
    read_if_envelope(path)?.ok_or(EnvelopeFileError::NotAnEnvelope)
}

/// [`read`], but `Ok(None)` when the file is readable and is not an envelope.
pub fn read_if_envelope(path: &Path) -> Result<Option<Zeroizing<String>>, EnvelopeFileError> {
    let bytes = safe_file::read(path, ReadRules::named(wire::MAX_SHARE_INPUT_BYTES))
        .map_err(EnvelopeFileError::File)?;
    from_bytes(&bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_envelopes_and_others() {
        let env = format!(
            "\n{}\nYWJj\n-----END AGE ENCRYPTED FILE-----\n",
            wire::AGE_ARMOR_BEGIN
        );
        assert!(looks_like_envelope(&env));
        assert_eq!(
            from_bytes(env.as_bytes())
                .unwrap()
                .as_deref()
                .map(|s| s.as_str()),
            Some(env.as_str())
        );
        assert!(from_bytes(b"custody-share:AAAA").unwrap().is_none());
        assert!(matches!(
            from_bytes(&[0xff, 0xfe, 0x00]),
            Err(EnvelopeFileError::NotText)
        ));
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("share.txt");
        std::fs::write(&p, "abandon ability").unwrap();
        assert!(matches!(read(&p), Err(EnvelopeFileError::NotAnEnvelope)));
        assert!(read_if_envelope(&p).unwrap().is_none());
        assert!(matches!(
            read(&dir.path().join("missing")),
            Err(EnvelopeFileError::File(_))
        ));
    }
}
