//! Reading share tokens from photos and scans: PNG or JPEG in, QR payloads out.
//!
//! Decoding uses `rqrr` (chosen by measurement, see `benches/scan.rs`) on a series of
//! pre-processed copies of the picture — several scales and binarisations — and stops at the
//! first copy that yields a code, so clean scans are fast and bad photos still get every try.
//! Each attempt's detection work is metered and capped at a fixed number of steps per pixel
//! (see `metered`), so no picture can keep the detector searching without end.

#[cfg(feature = "testkit")]
pub mod degrade;
mod image_ops;
mod metered;

use std::fmt;

use zeroize::Zeroizing;

pub use image_ops::Gray;

/// Why a picture gave no share token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScanError {
    /// The bytes are not a PNG or JPEG picture.
    NotAnImage,
    /// It looks like a PNG or JPEG but cannot be decoded (truncated or corrupt file).
    Decode(String),
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

/// Decodes a PNG or JPEG into 8-bit grayscale.
pub fn load_gray(bytes: &[u8]) -> Result<Gray, ScanError> {
    let format = image_format(bytes).ok_or(ScanError::NotAnImage)?;
    let img = image::load_from_memory_with_format(bytes, format)
        .map_err(|e| ScanError::Decode(e.to_string()))?;
    let luma = img.into_luma8();
    let (w, h) = luma.dimensions();
    Ok(Gray {
        w: w as usize,
        h: h as usize,
        px: Zeroizing::new(luma.into_raw()),
    })
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
    /// Steps allowed: the attempt is stopped, as if it found nothing, when `work` would
    /// exceed this.
    pub budget: u64,
    /// Whether the attempt was stopped for exceeding its budget.
    pub stopped: bool,
}

/// Decodes as [`decode_gray`] does, and reports every attempt made, in order: the last one
/// is the one that found the codes, if any did.
pub fn decode_gray_attempts(gray: &Gray) -> (Vec<String>, Vec<AttemptTrace>) {
    let mut trace = Vec::new();
    for attempt in image_ops::attempts(gray) {
        let (found, t) = decode_prepared(&attempt.image, attempt.binarised, attempt.name);
        trace.push(t);
        if !found.is_empty() {
            return (found, trace);
        }
    }
    (Vec::new(), trace)
}

/// One detection over one pre-processed picture, within its work budget.
fn decode_prepared(img: &Gray, binarised: bool, name: String) -> (Vec<String>, AttemptTrace) {
    let budget = metered::budget(img.w, img.h);
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
