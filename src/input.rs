//! Any share input — a token, a text share file, bare SLIP-39 words, or (with `scan`) a photo
//! of a sheet — read into one [`Presented`] share, labelled by where it came from.

use std::fmt;
use std::path::Path;

use zeroize::Zeroizing;

use crate::progress::{Progress, Silent, Step, Task};
use crate::sharefile::{self, ShareFileError};
use crate::slip39::{Share, Slip39Error};
use crate::token::{Token, TokenError};
use crate::wire;

/// How a share was presented.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// The text form of a signed share token (`custody-share:` + base64url).
    Token,
    /// A text share file (`NN-<custodian>.txt`): details, token and words.
    ShareFile,
    /// Bare SLIP-39 words, typed or pasted; no token, so nothing signed.
    Words,
    /// A photo or scan of a share sheet (or of its QR code) holding a token.
    Image,
    /// custody's own PDF sheet, read without printing: its embedded token (or its words).
    PdfSheet,
    /// A remote custodian's envelope, opened by the host's ceremony session
    /// ([`crate::remote::HostSession::accept`]): a signed token.
    Envelope,
}

impl Source {
    /// The source's name in messages: `token`, `share file`, `words`, `image`, `PDF sheet` or
    /// `envelope`.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Token => "token",
            Source::ShareFile => "share file",
            Source::Words => "words",
            Source::Image => "image",
            Source::PdfSheet => "PDF sheet",
            Source::Envelope => "envelope",
        }
    }
}

/// One presented share, parsed; its token (if any) verified under its own key.
#[derive(Clone, Debug)]
pub struct Presented {
    /// Where it came from: a file path, `stdin`, or `stdin line N`.
    pub label: String,
    /// What kind of input it was.
    pub source: Source,
    /// The token, when the input carried one; verified under its own embedded key only, not
    /// yet against the vault's.
    pub token: Option<Token>,
    /// The SLIP-39 share itself (secret).
    pub share: Share,
}

/// A share input that could not be read, naming it.
#[derive(Debug)]
pub struct InputError {
    /// The input's label, as in [`Presented::label`].
    pub label: String,
    /// What went wrong.
    pub kind: InputErrorKind,
}

/// What went wrong reading one share input.
#[derive(Debug)]
pub enum InputErrorKind {
    /// The file could not be read.
    Io(std::io::Error),
    /// The input is empty or only whitespace.
    Empty,
    /// The bytes are neither UTF-8 text nor a PNG or JPEG picture.
    NotText,
    /// The text starts with `custody-share:` but is not a valid token.
    Token(TokenError),
    /// The text looks like a share file but does not parse as one.
    ShareFile(ShareFileError),
    /// The text, read as bare SLIP-39 words, is not a valid share.
    Words(Slip39Error),
    /// The picture could not be read, or no QR code was found in it.
    Image(crate::scan::ScanError),
    /// The picture's QR code is not a custody share token.
    NoShareToken,
    /// The picture shows this many different share tokens.
    SeveralTokens(usize),
    /// A PDF that is not custody's sheet, or a custody PDF without a share.
    Pdf(crate::sheet::pdf_read::PdfSheetError),
    /// The path is not a regular file (a device such as `/dev/zero`, a FIFO, a folder).
    NotAFile,
    /// The file is larger than any share input can be.
    TooLarge {
        /// The limit, in bytes ([`wire::MAX_SHARE_INPUT_BYTES`]).
        limit: u64,
    },
    /// The input is a share delivered encrypted to its custodian (age), and it could not be
    /// opened: no identity was given, none given opens it, or it is damaged.
    Encrypted(crate::delivery::OpenError),
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "share {}: ", self.label)?;
        match &self.kind {
            InputErrorKind::Io(e) => write!(f, "cannot read it: {e}"),
            InputErrorKind::Empty => write!(f, "it is empty"),
            InputErrorKind::NotAFile => write!(
                f,
                "it is not a regular file (a device, a pipe or a folder); give the share file \
                 or a photo of the sheet"
            ),
            InputErrorKind::TooLarge { limit } => write!(
                f,
                "it is larger than {} MiB, more than any share file or sheet photo; give the \
                 share file, or a smaller photo of the sheet",
                limit / (1024 * 1024)
            ),
            InputErrorKind::NotText => write!(
                f,
                "it is neither text, a PNG/JPEG image nor a custody PDF sheet; give a share file, \
                 a token, the words, a photo of the sheet, or custody's PDF sheet"
            ),
            InputErrorKind::Token(e) => e.fmt(f),
            InputErrorKind::ShareFile(e) => e.fmt(f),
            InputErrorKind::Words(e) => e.fmt(f),
            InputErrorKind::Image(e) => e.fmt(f),
            InputErrorKind::NoShareToken => f.write_str(
                "the picture holds a QR code, but not a custody share token; photograph the \
                 share sheet's QR code, or type the share's words instead",
            ),
            InputErrorKind::Pdf(e) => e.fmt(f),
            InputErrorKind::Encrypted(e) => e.fmt(f),
            InputErrorKind::SeveralTokens(n) => write!(
                f,
                "the picture shows {n} different share tokens; photograph one sheet at a time"
            ),
        }
    }
}

impl std::error::Error for InputError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            InputErrorKind::Io(e) => Some(e),
            InputErrorKind::Token(e) => Some(e),
            InputErrorKind::ShareFile(e) => Some(e),
            InputErrorKind::Words(e) => Some(e),
            InputErrorKind::Image(e) => Some(e),
            InputErrorKind::Pdf(e) => Some(e),
            InputErrorKind::Encrypted(e) => Some(e),
            _ => None,
        }
    }
}

/// Drop list numbering ("1.", "2)", "12") that people add when copying words.
fn strip_numbering(text: &str) -> Zeroizing<String> {
    let mut out = Zeroizing::new(String::with_capacity(text.len()));
    for w in text.split_whitespace() {
        let bare = w.trim_end_matches(['.', ')', ':']);
        if !bare.is_empty() && bare.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(w);
    }
    out
}

/// Parse share text of any kind (token, share file, or words).
pub fn parse_text(label: &str, text: &str) -> Result<Presented, InputError> {
    let err = |kind| InputError {
        label: label.to_owned(),
        kind,
    };
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(err(InputErrorKind::Empty));
    }
    if trimmed.starts_with(wire::TOKEN_TEXT_PREFIX) {
        let token = Token::from_text(trimmed).map_err(|e| err(InputErrorKind::Token(e)))?;
        return Ok(Presented {
            label: label.to_owned(),
            source: Source::Token,
            share: token.share.clone(),
            token: Some(token),
        });
    }
    if sharefile::looks_like(trimmed) {
        let f = sharefile::parse(trimmed).map_err(|e| err(InputErrorKind::ShareFile(e)))?;
        return Ok(Presented {
            label: label.to_owned(),
            source: Source::ShareFile,
            token: f.token,
            share: f.share,
        });
    }
    let words = strip_numbering(trimmed);
    let share = Share::from_words(&words).map_err(|e| err(InputErrorKind::Words(e)))?;
    Ok(Presented {
        label: label.to_owned(),
        source: Source::Words,
        token: None,
        share,
    })
}

/// Read the share token out of a photo or scan of a sheet (or of a bare QR code).
fn parse_image(label: &str, bytes: &[u8]) -> Result<Presented, InputError> {
    let err = |kind| InputError {
        label: label.to_owned(),
        kind,
    };
    let payloads =
        crate::scan::decode_qr_codes(bytes).map_err(|e| err(InputErrorKind::Image(e)))?;
    let mut tokens: Vec<Zeroizing<String>> = Vec::new();
    for p in payloads {
        let p = Zeroizing::new(p);
        if p.trim().starts_with(wire::TOKEN_TEXT_PREFIX) && !tokens.iter().any(|t| **t == *p) {
            tokens.push(p);
        }
    }
    match tokens.len() {
        0 => Err(err(InputErrorKind::NoShareToken)),
        1 => {
            let token = Token::from_text(&tokens[0]).map_err(|e| err(InputErrorKind::Token(e)))?;
            Ok(Presented {
                label: label.to_owned(),
                source: Source::Image,
                share: token.share.clone(),
                token: Some(token),
            })
        }
        n => Err(err(InputErrorKind::SeveralTokens(n))),
    }
}

/// Read the share out of custody's own PDF sheet: its embedded token, else its printed words.
fn parse_pdf(label: &str, bytes: &[u8]) -> Result<Presented, InputError> {
    use crate::sheet::pdf_read::{self, SheetText};
    let text = pdf_read::read(bytes).map_err(|e| InputError {
        label: label.to_owned(),
        kind: InputErrorKind::Pdf(e),
    })?;
    let mut p = match &text {
        SheetText::Token(t) | SheetText::Words(t) => parse_text(label, t)?,
    };
    p.source = Source::PdfSheet;
    Ok(p)
}

/// Parse the bytes of a share input: text of any kind, a PDF sheet custody wrote, or an image
/// of a sheet / QR code
/// (recognised by its content, not its file name).
pub fn parse_bytes(label: &str, bytes: &[u8]) -> Result<Presented, InputError> {
    parse_bytes_reporting(label, bytes, (1, 1), &mut Silent)
}

/// [`parse_bytes`] for input `at.0` of `at.1` read together: a picture is announced to
/// `progress` ([`Task::ReadingPicture`]) before it is decoded, which can take seconds.
pub fn parse_bytes_reporting(
    label: &str,
    bytes: &[u8],
    at: (usize, usize),
    progress: &mut dyn Progress,
) -> Result<Presented, InputError> {
    parse_bytes_with(label, bytes, &[], at, progress)
}

/// [`parse_bytes_reporting`] that also opens a share delivered encrypted to its custodian
/// (binary or armored age, [`crate::delivery`]) with `identities`, in memory (at most
/// [`wire::MAX_SHARE_INPUT_BYTES`] of plaintext), then parses what it holds as usual (a share
/// file, a PDF sheet, ...) under the same label. Without identities such an input is refused
/// with [`InputErrorKind::Encrypted`], saying how to open it.
pub fn parse_bytes_with(
    label: &str,
    bytes: &[u8],
    identities: &[crate::delivery::AgeIdentity],
    at: (usize, usize),
    progress: &mut dyn Progress,
) -> Result<Presented, InputError> {
    let err = |kind| InputError {
        label: label.to_owned(),
        kind,
    };
    if crate::delivery::is_encrypted(bytes) {
        let plain = crate::delivery::decrypt(bytes, identities, wire::MAX_SHARE_INPUT_BYTES)
            .map_err(|e| err(InputErrorKind::Encrypted(e)))?;
        // One layer only: an age file inside is refused as encrypted.
        return parse_bytes_with(label, &plain, &[], at, progress);
    }
    if crate::scan::is_image(bytes) {
        progress.step(Step {
            task: Task::ReadingPicture,
            number: at.0,
            total: at.1,
            subject: label,
        });
        return parse_image(label, bytes);
    }
    if crate::sheet::pdf_read::is_pdf(bytes) {
        return parse_pdf(label, bytes);
    }
    let text = std::str::from_utf8(bytes).map_err(|_| err(InputErrorKind::NotText))?;
    parse_text(label, text)
}

/// Read one share from a file: a regular file of at most [`wire::MAX_SHARE_INPUT_BYTES`]
/// (links followed). The file is opened without waiting (a FIFO with no writer does not
/// block) and checked to be a regular file before anything is read ([`crate::safe_file`]).
pub fn read_file(path: &Path) -> Result<Presented, InputError> {
    read_file_reporting(path, (1, 1), &mut Silent)
}

/// [`read_file`] for input `at.0` of `at.1` read together, telling `progress` before a
/// picture is decoded ([`parse_bytes_reporting`]).
pub fn read_file_reporting(
    path: &Path,
    at: (usize, usize),
    progress: &mut dyn Progress,
) -> Result<Presented, InputError> {
    read_file_reporting_with(path, &[], at, progress)
}

/// [`read_file`] that also opens a share delivered encrypted to its custodian with
/// `identities` ([`parse_bytes_with`]); the label is still the file's path.
pub fn read_file_with(
    path: &Path,
    identities: &[crate::delivery::AgeIdentity],
) -> Result<Presented, InputError> {
    read_file_reporting_with(path, identities, (1, 1), &mut Silent)
}

/// [`read_file_with`] for input `at.0` of `at.1` read together ([`read_file_reporting`]).
pub fn read_file_reporting_with(
    path: &Path,
    identities: &[crate::delivery::AgeIdentity],
    at: (usize, usize),
    progress: &mut dyn Progress,
) -> Result<Presented, InputError> {
    use crate::safe_file::{self, FileError, ReadRules, Refusal};
    let label = path.display().to_string();
    let bytes =
        safe_file::read(path, ReadRules::named(wire::MAX_SHARE_INPUT_BYTES)).map_err(|e| {
            InputError {
                label: label.clone(),
                kind: match e {
                    FileError::Io(e) => InputErrorKind::Io(e),
                    FileError::Refused(Refusal::TooLarge { limit }) => {
                        InputErrorKind::TooLarge { limit }
                    }
                    // Links are followed here, so only "not a regular file" remains.
                    FileError::Refused(Refusal::NotAFile { .. } | Refusal::SymbolicLink) => {
                        InputErrorKind::NotAFile
                    }
                },
            }
        })?;
    parse_bytes_with(&label, &bytes, identities, at, progress)
}
