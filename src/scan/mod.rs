//! Reading share tokens from photos and scans: PNG or JPEG in, QR payloads out.
//!
//! Decoding uses `rqrr` (chosen by measurement, see `benches/scan.rs`) on a series of
//! pre-processed copies of the picture — several scales and binarisations — and stops at the
//! first copy that yields a code, so clean scans are fast and bad photos still get many tries.
//! Each attempt's detection work is metered and capped at a fixed number of steps per pixel,
//! and all attempts on one picture together at [`PICTURE_WORK_BUDGET`] (see `metered`), so no
//! picture can keep the detector searching without end.
//!
//! Size: a picture above [`MAX_PIXELS`] (lower for JPEG encodings that cost more memory, see
//! `decode`) is refused from its header, before decoding; decoding produces gray directly
//! (a byte per pixel); the attempts work on copies of at most 2400 pixels on the longer side,
//! each size rescaled from the picture once with one row of working memory (`resample`).
//! Measured in release builds (README, "Security notes"): a 300 dpi scan reads in about 0.1 s
//! and 23 MiB; the worst picture accepted takes a few seconds and about 150 MiB.

mod decode;
#[cfg(feature = "testkit")]
pub mod degrade;
mod image_ops;
mod metered;
mod resample;

use std::fmt;

use zeroize::Zeroizing;

pub use decode::{DECODE_BUDGET_BYTES, MAX_PIXELS, pixel_cap};
pub use image_ops::Gray;
pub use metered::PICTURE_WORK_BUDGET;

/// Why a picture gave no share token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScanError {
    /// The bytes are not a PNG or JPEG picture.
    NotAnImage,
    /// It looks like a PNG or JPEG but cannot be decoded (truncated or corrupt file).
    Decode(String),
    /// The picture has more pixels than the scanner reads (found from its header; nothing
    /// was decoded).
    TooLarge {
        /// Width in pixels, from the header.
        width: u32,
        /// Height in pixels, from the header.
        height: u32,
        /// The most pixels accepted in a picture of this kind: [`MAX_PIXELS`], or less for a
        /// JPEG encoding that needs more memory per pixel ([`pixel_cap`]).
        max_pixels: u64,
    },
    /// The picture was read but no QR code could be decoded in it.
    NoQrFound {
        /// Width of the picture in pixels.
        width: u32,
        /// Height of the picture in pixels.
        height: u32,
    },
}

impl fmt::Display for ScanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScanError::NotAnImage => f.write_str(
                "this file is not a PNG or JPEG picture, nor a share file; give a photo or scan \
                 of the share sheet, or the share file itself",
            ),
            ScanError::Decode(why) => write!(
                f,
                "the picture could not be opened ({why}); it may be truncated or damaged: take \
                 a new photo or scan of the sheet"
            ),
            ScanError::TooLarge {
                width,
                height,
                max_pixels,
            } => write!(
                f,
                "this picture is {width}x{height} pixels ({}), more than the {} the scanner \
                 reads in a picture of this kind; nothing was decoded. Scan the sheet again at \
                 300 dpi (an A4 page is then 2480x3508), or photograph it at the camera's \
                 normal resolution",
                megapixels(u64::from(*width) * u64::from(*height)),
                megapixels(*max_pixels)
            ),
            ScanError::NoQrFound { width, height } => write!(
                f,
                "the QR code could not be read in this {width}x{height} picture. Try a sharper, \
                 well-lit photo with the whole code flat and in view, or type the share's \
                 words instead"
            ),
        }
    }
}

impl std::error::Error for ScanError {}

/// `n` pixels in millions, one decimal: `8.7 million pixels`.
fn megapixels(n: u64) -> String {
    format!("{:.1} million pixels", n as f64 / 1e6)
}

/// Whether `bytes` is a PNG or JPEG picture, judged by its content (magic bytes).
pub fn is_image(bytes: &[u8]) -> bool {
    image_format(bytes).is_some()
}

fn image_format(bytes: &[u8]) -> Option<image::ImageFormat> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(image::ImageFormat::Png)
    } else if bytes.starts_with(&[0xff, 0xd8, 0xff]) {
        Some(image::ImageFormat::Jpeg)
    } else {
        None
    }
}

/// Decodes a PNG or JPEG into 8-bit grayscale, refusing a picture above its pixel cap from
/// its header, before decoding ([`ScanError::TooLarge`]).
pub fn load_gray(bytes: &[u8]) -> Result<Gray, ScanError> {
    match image_format(bytes).ok_or(ScanError::NotAnImage)? {
        image::ImageFormat::Png => decode::png_gray(bytes),
        _ => decode::jpeg_gray(bytes),
    }
}

/// All QR payloads found in a PNG or JPEG picture, as text, in the order found, without
/// duplicates.
pub fn decode_qr_codes(bytes: &[u8]) -> Result<Vec<String>, ScanError> {
    let gray = load_gray(bytes)?;
    decode_gray(&gray)
}

/// As [`decode_qr_codes`], for an already decoded grayscale picture.
pub fn decode_gray(gray: &Gray) -> Result<Vec<String>, ScanError> {
    let found = decode_gray_attempts(gray).0;
    if found.is_empty() {
        Err(ScanError::NoQrFound {
            width: gray.w as u32,
            height: gray.h as u32,
        })
    } else {
        Ok(found)
    }
}

/// What one pre-processed attempt cost and gave (for measurements and tests).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptTrace {
    /// Which pre-processing: size and binarisation, e.g. `1600px mean/24-6`.
    pub name: String,
    /// Detector steps used (pixel reads, writes and size queries).
    pub work: u64,
    /// Steps allowed (its own budget, or what was left of the picture's): the attempt is
    /// stopped, as if it found nothing, when `work` would exceed this.
    pub budget: u64,
    /// Whether the attempt was stopped for exceeding its budget.
    pub stopped: bool,
}

/// Decodes as [`decode_gray`] does, and reports every attempt made, in order: the last one
/// is the one that found the codes, if any did. The attempts together use at most
/// [`PICTURE_WORK_BUDGET`] detector steps; each is allowed what its own budget and the rest
/// of the picture's allow.
pub fn decode_gray_attempts(gray: &Gray) -> (Vec<String>, Vec<AttemptTrace>) {
    let mut trace = Vec::new();
    let mut left = PICTURE_WORK_BUDGET;
    for attempt in image_ops::attempts(gray) {
        if left == 0 {
            break;
        }
        let (found, t) = decode_prepared(&attempt.image, attempt.binarised, attempt.name, left);
        left -= t.work;
        trace.push(t);
        if !found.is_empty() {
            return (found, trace);
        }
    }
    (Vec::new(), trace)
}

/// One detection over one pre-processed picture, within its work budget and at most `left`
/// steps.
fn decode_prepared(
    img: &Gray,
    binarised: bool,
    name: String,
    left: u64,
) -> (Vec<String>, AttemptTrace) {
    let budget = metered::budget(img.w, img.h).min(left);
    let px = if binarised {
        // rqrr's "already prepared" form: 1 is black, 0 is white.
        Zeroizing::new(img.px.iter().map(|&p| u8::from(p < 128)).collect())
    } else {
        img.px.clone()
    };
    let picture = metered::Metered::new(img.w, img.h, px, budget);
    let counter = picture.counter();
    let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
        let mut prepared = if binarised {
            rqrr::PreparedImage::without_preparation(picture)
        } else {
            rqrr::PreparedImage::prepare(picture)
        };
        let mut out: Vec<String> = Vec::new();
        for grid in prepared.detect_grids() {
            if let Ok((_, text)) = grid.decode()
                && !out.contains(&text)
            {
                out.push(text);
            }
        }
        out
    }));
    let (found, stopped) = match run {
        Ok(found) => (found, false),
        Err(payload) if payload.is::<metered::OverBudget>() => (Vec::new(), true),
        // A bug in the detector: not ours to hide.
        Err(payload) => std::panic::resume_unwind(payload),
    };
    let trace = AttemptTrace {
        name,
        work: counter.get().min(budget),
        budget,
        stopped,
    };
    (found, trace)
}
