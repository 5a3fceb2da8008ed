//! Reading custody's own PDF sheets back as share inputs, without printing them: the share
//! token from the document information dictionary (`/CustodyShareToken`, written by
//! [`super::pdf`]), or, when a custody PDF lacks it, the recovery words as drawn on the page
//! (the 11.5 pt bold Courier strings of the content stream, in order). Only custody's PDFs
//! are read: their producer is `custody`, nothing is compressed, and the strings are plain
//! ASCII. Any other PDF is refused as [`PdfSheetError::Foreign`].

use std::fmt;

use zeroize::Zeroizing;

use super::pdf::{PRODUCER, TOKEN_KEY};

/// Whether `bytes` are a PDF file (any producer).
pub fn is_pdf(bytes: &[u8]) -> bool {
    bytes.starts_with(b"%PDF-")
}

/// What a custody PDF sheet gave.
#[derive(Debug)]
pub enum SheetText {
    /// The share token's text (`custody-share:...`).
    Token(Zeroizing<String>),
    /// The recovery words, single spaces (no token in the file).
    Words(Zeroizing<String>),
}

/// Why a PDF gave no share.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PdfSheetError {
    /// A PDF custody did not write (another producer, or a sheet re-saved by another program).
    Foreign,
    /// A custody PDF with neither a token entry nor recovery words.
    NoShare,
}

impl fmt::Display for PdfSheetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PdfSheetError::Foreign => {
                "it is a PDF custody did not write (or one re-saved by another program); custody \
                 reads only its own PDF sheets: give the share file, a photo or scan of the \
                 printed sheet (PNG/JPEG), or type the words"
            }
            PdfSheetError::NoShare => {
                "it is a custody PDF but holds no share token and no share words (damaged or \
                 edited); give the share file or a photo of the printed sheet"
            }
        })
    }
}

impl std::error::Error for PdfSheetError {}

/// The share in custody's PDF sheet `bytes` (which [`is_pdf`]).
pub fn read(bytes: &[u8]) -> Result<SheetText, PdfSheetError> {
    if find(bytes, PRODUCER.as_bytes()).is_none() {
        return Err(PdfSheetError::Foreign);
    }
    let key = format!("{TOKEN_KEY} (");
    if let Some(at) = find(bytes, key.as_bytes()) {
        let rest = &bytes[at + key.len()..];
        if let Some(end) = rest.iter().position(|&b| b == b')') {
            // A token is base64url text: anything else is not custody's token.
            let text = &rest[..end];
            if text.iter().all(|b| b.is_ascii_graphic()) {
                let t = std::str::from_utf8(text).expect("ASCII");
                return Ok(SheetText::Token(Zeroizing::new(t.to_owned())));
            }
        }
    }
    let words = words(bytes);
    if words.is_empty() {
        return Err(PdfSheetError::NoShare);
    }
    Ok(SheetText::Words(Zeroizing::new(words.join(" "))))
}

/// The strings drawn as recovery words (`/F4 11.5 Tf ... (word) Tj`), in drawing order; only
/// lower-case ASCII words qualify.
fn words(bytes: &[u8]) -> Zeroizing<Vec<String>> {
    let mut out = Zeroizing::new(Vec::new());
    for line in bytes.split(|&b| b == b'\n') {
        let Ok(line) = std::str::from_utf8(line) else {
            continue;
        };
        if !line.starts_with("BT ") || !line.contains(" /F4 11.5 Tf ") {
            continue;
        }
        let Some(body) = line.strip_suffix(") Tj ET") else {
            continue;
        };
        let Some(open) = body.find('(') else {
            continue;
        };
        let word = &body[open + 1..];
        if !word.is_empty() && word.bytes().all(|b| b.is_ascii_lowercase()) {
            out.push(word.to_owned());
        }
    }
    out
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}
