//! Decoding a PNG or JPEG into 8-bit grayscale within fixed bounds: the picture's dimensions
//! are read from its header and checked against a pixel cap before any pixel is decoded, and
//! the pixels are converted to gray as they are decoded, so that memory is about one byte per
//! pixel whatever the colour type.
//!
//! Why: a 389 KB PNG can declare 20000 x 20000 uniform pixels; decoded as RGB and resampled
//! in floating point it took 1 min 48 s and 1.56 GB. The cap refuses it at once, naming its
//! size. The cap is in pixels, and lower for JPEG encodings the decoder must hold whole in
//! memory (progressive: every DCT coefficient; colour models without a luma channel: RGB
//! output), so that every accepted picture decodes in about [`DECODE_BUDGET_BYTES`].
//!
//! - PNG (`png` crate, with its own allocation limit): rows are read one at a time, expanded
//!   to 8 bits per sample and converted to gray into the output (Adam7 passes are placed
//!   with `png::expand_interlaced_row`). Text and ICC chunks are skipped.
//! - JPEG (`zune-jpeg`): YCbCr and grayscale pictures decode straight to their luma channel
//!   (one byte per pixel, the chroma planes are never stored); other colour models (RGB,
//!   CMYK, YCCK) decode to RGB and are converted in place.
//!
//! Gray is the luma of sRGB (Rec. 709 weights), `(2126 R + 7152 G + 722 B) / 10000` rounded;
//! alpha is ignored.

use std::io::Cursor;

use zeroize::Zeroizing;
use zune_jpeg::zune_core::bytestream::ZCursor;
use zune_jpeg::zune_core::colorspace::ColorSpace;
use zune_jpeg::zune_core::options::DecoderOptions;

use super::{Gray, ScanError};

/// Most pixels (width × height) in a picture the scanner reads. A 300 dpi scan of an A4
/// sheet is 2480 x 3508 (8.7 million), at 600 dpi 34.8 million; a 12-megapixel phone photo
/// 12.2 million. Larger pictures are refused before decoding.
pub const MAX_PIXELS: u64 = 40_000_000;

/// Memory a decoder may use for one picture's pixels (and, for a progressive JPEG, its DCT
/// coefficients). Encodings that need more than one byte per pixel get a proportionally lower
/// pixel cap than [`MAX_PIXELS`]: see [`pixel_cap`].
pub const DECODE_BUDGET_BYTES: u64 = 96 * 1024 * 1024;

/// Allocation limit handed to the PNG decoder for its own buffers (one row, compressed
/// chunks it must hold); pixels are not counted here, they go to our gray buffer.
const PNG_DECODER_LIMIT_BYTES: usize = 8 * 1024 * 1024;

/// The pixel cap for a picture whose decoding costs `bytes_per_pixel` bytes per pixel: at
/// most [`MAX_PIXELS`], and no more than [`DECODE_BUDGET_BYTES`] allows.
pub fn pixel_cap(bytes_per_pixel: u64) -> u64 {
    MAX_PIXELS.min(DECODE_BUDGET_BYTES / bytes_per_pixel.max(1))
}

/// Refuse a `width × height` picture above `cap` pixels (before anything is decoded).
fn check_size(width: u32, height: u32, cap: u64) -> Result<usize, ScanError> {
    let pixels = u64::from(width) * u64::from(height);
    if pixels == 0 {
        return Err(ScanError::Decode("the picture has no pixels".into()));
    }
    if pixels > cap {
        return Err(ScanError::TooLarge {
            width,
            height,
            max_pixels: cap,
        });
    }
    usize::try_from(pixels).map_err(|_| ScanError::TooLarge {
        width,
        height,
        max_pixels: cap,
    })
}

/// sRGB luma (Rec. 709 weights), rounded to the nearest level.
fn luma(r: u8, g: u8, b: u8) -> u8 {
    ((2126 * u32::from(r) + 7152 * u32::from(g) + 722 * u32::from(b) + 5000) / 10000) as u8
}

/// Gray values of one row of `channels`-sample pixels (1 gray, 2 gray+alpha, 3 RGB, 4 RGBA).
fn row_to_gray(row: &[u8], channels: usize, out: &mut [u8]) {
    match channels {
        1 => out.copy_from_slice(&row[..out.len()]),
        2 => {
            for (o, px) in out.iter_mut().zip(row.chunks_exact(2)) {
                *o = px[0];
            }
        }
        n => {
            for (o, px) in out.iter_mut().zip(row.chunks_exact(n)) {
                *o = luma(px[0], px[1], px[2]);
            }
        }
    }
}

/// A PNG, read row by row into gray.
pub(super) fn png_gray(bytes: &[u8]) -> Result<Gray, ScanError> {
    let fail = |e: png::DecodingError| ScanError::Decode(e.to_string());
    let mut decoder = png::Decoder::new_with_limits(
        Cursor::new(bytes),
        png::Limits {
            bytes: PNG_DECODER_LIMIT_BYTES,
        },
    );
    decoder.set_ignore_text_chunk(true);
    decoder.set_ignore_iccp_chunk(true);
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let header = decoder.read_header_info().map_err(fail)?;
    let (width, height) = (header.width, header.height);
    let len = check_size(width, height, pixel_cap(1))?;
    let mut reader = decoder.read_info().map_err(fail)?;
    let channels = reader.output_color_type().0.samples();
    let w = width as usize;
    let mut px = Zeroizing::new(vec![0u8; len]);
    let mut pass_row = Zeroizing::new(vec![0u8; w]);
    let mut rows = 0usize;
    while let Some(row) = reader.next_interlaced_row().map_err(fail)? {
        match *row.interlace() {
            png::InterlaceInfo::Null(_) => {
                let Some(out) = px.get_mut(rows * w..(rows + 1) * w) else {
                    break;
                };
                row_to_gray(row.data(), channels, out);
            }
            png::InterlaceInfo::Adam7(ref info) => {
                let n = row.data().len() / channels;
                row_to_gray(row.data(), channels, &mut pass_row[..n]);
                png::expand_interlaced_row(&mut px, w, &pass_row[..n], info, 8);
            }
        }
        rows += 1;
    }
    Ok(Gray {
        w,
        h: height as usize,
        px,
    })
}

/// A JPEG, decoded to its luma channel (or to RGB, converted in place).
pub(super) fn jpeg_gray(bytes: &[u8]) -> Result<Gray, ScanError> {
    let fail = |e: zune_jpeg::errors::DecodeErrors| ScanError::Decode(e.to_string());
    let options = DecoderOptions::default()
        .set_strict_mode(false)
        .set_max_width(usize::from(u16::MAX))
        .set_max_height(usize::from(u16::MAX));
    let mut decoder = zune_jpeg::JpegDecoder::new_with_options(ZCursor::new(bytes), options);
    decoder.decode_headers().map_err(fail)?;
    let info = decoder
        .info()
        .ok_or_else(|| ScanError::Decode("no JPEG header".into()))?;
    let input = decoder
        .input_colorspace()
        .ok_or_else(|| ScanError::Decode("no JPEG header".into()))?;
    // Luma straight from YCbCr or gray; anything else through RGB.
    let out_space = match input {
        ColorSpace::YCbCr | ColorSpace::Luma => ColorSpace::Luma,
        _ => ColorSpace::RGB,
    };
    let out_bytes = out_space.num_components() as u64;
    // A progressive JPEG keeps every coefficient (2 bytes) of every component until its last
    // scan; counted as if every component were at full resolution.
    let coefficient_bytes = if info.sof.is_progressive() {
        2 * u64::from(info.components.max(1))
    } else {
        0
    };
    let (width, height) = (u32::from(info.width), u32::from(info.height));
    let len = check_size(width, height, pixel_cap(out_bytes + coefficient_bytes))?;
    decoder.set_options(options.jpeg_set_out_colorspace(out_space));
    let mut px = Zeroizing::new(vec![0u8; len * out_space.num_components()]);
    decoder.decode_into(&mut px).map_err(fail)?;
    if out_space == ColorSpace::RGB {
        // In place: gray pixel i is written after RGB pixel i has been read.
        for i in 0..len {
            px[i] = luma(px[3 * i], px[3 * i + 1], px[3 * i + 2]);
        }
        px.truncate(len);
    }
    Ok(Gray {
        w: width as usize,
        h: height as usize,
        px,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luma_is_the_rounded_rec709_weighting() {
        for (r, g, b) in [
            (0, 0, 0),
            (255, 255, 255),
            (10, 200, 30),
            (255, 0, 0),
            (1, 2, 3),
        ] {
            let exact = 0.2126 * f64::from(r) + 0.7152 * f64::from(g) + 0.0722 * f64::from(b);
            assert_eq!(luma(r, g, b), exact.round() as u8, "({r}, {g}, {b})");
        }
    }

    /// A PNG of `w × h` pixels of `channels` samples (1 gray, 3 RGB), Adam7-interlaced,
    /// written by hand (stored deflate blocks): the `png` crate does not write interlaced.
    fn interlaced_png(w: usize, h: usize, channels: usize, px: &[u8]) -> Vec<u8> {
        const PASSES: [(usize, usize, usize, usize); 7] = [
            (0, 0, 8, 8),
            (4, 0, 8, 8),
            (0, 4, 4, 8),
            (2, 0, 4, 4),
            (0, 2, 2, 4),
            (1, 0, 2, 2),
            (0, 1, 1, 2),
        ];
        let mut raw = Vec::new();
        for (x0, y0, dx, dy) in PASSES {
            if x0 >= w || y0 >= h {
                continue;
            }
            for y in (y0..h).step_by(dy) {
                raw.push(0); // filter: none
                for x in (x0..w).step_by(dx) {
                    let i = (y * w + x) * channels;
                    raw.extend_from_slice(&px[i..i + channels]);
                }
            }
        }
        let mut z = vec![0x78, 0x01];
        let blocks: Vec<&[u8]> = raw.chunks(65535).collect();
        for (i, b) in blocks.iter().enumerate() {
            z.push(u8::from(i + 1 == blocks.len()));
            let n = b.len() as u16;
            z.extend_from_slice(&n.to_le_bytes());
            z.extend_from_slice(&(!n).to_le_bytes());
            z.extend_from_slice(b);
        }
        let (mut a, mut b) = (1u32, 0u32);
        for &byte in &raw {
            a = (a + u32::from(byte)) % 65521;
            b = (b + a) % 65521;
        }
        z.extend_from_slice(&((b << 16) | a).to_be_bytes());
        let crc = |data: &[u8]| {
            let mut c = 0xffff_ffffu32;
            for &byte in data {
                c ^= u32::from(byte);
                for _ in 0..8 {
                    c = if c & 1 == 1 {
                        (c >> 1) ^ 0xedb8_8320
                    } else {
                        c >> 1
                    };
                }
            }
            !c
        };
        let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
        let mut ihdr = Vec::new();
        ihdr.extend_from_slice(&(w as u32).to_be_bytes());
        ihdr.extend_from_slice(&(h as u32).to_be_bytes());
        ihdr.extend_from_slice(&[8, if channels == 3 { 2 } else { 0 }, 0, 0, 1]);
        for (kind, data) in [(&b"IHDR"[..], ihdr), (b"IDAT", z), (b"IEND", Vec::new())] {
            out.extend_from_slice(&(data.len() as u32).to_be_bytes());
            let mut body = kind.to_vec();
            body.extend_from_slice(&data);
            out.extend_from_slice(&body);
            out.extend_from_slice(&crc(&body).to_be_bytes());
        }
        out
    }

    #[test]
    fn interlaced_pngs_decode_pixel_for_pixel() {
        for (w, h) in [(37, 23), (1, 1), (3, 9), (64, 64)] {
            let gray: Vec<u8> = (0..w * h).map(|i| (i * 37 % 251) as u8).collect();
            let g = png_gray(&interlaced_png(w, h, 1, &gray)).unwrap();
            assert_eq!((g.w, g.h), (w, h));
            assert_eq!(*g.px, gray, "gray {w}x{h}");
            let rgb: Vec<u8> = (0..w * h * 3).map(|i| (i * 53 % 256) as u8).collect();
            let want: Vec<u8> = rgb.chunks(3).map(|p| luma(p[0], p[1], p[2])).collect();
            let g = png_gray(&interlaced_png(w, h, 3, &rgb)).unwrap();
            assert_eq!(*g.px, want, "rgb {w}x{h}");
        }
    }

    #[test]
    fn caps_follow_the_bytes_per_pixel() {
        assert_eq!(pixel_cap(1), MAX_PIXELS);
        assert!(pixel_cap(7) < MAX_PIXELS);
        assert!(pixel_cap(7) * 7 <= DECODE_BUDGET_BYTES);
    }

    #[test]
    fn size_check_names_the_cap() {
        assert_eq!(check_size(100, 100, 10_000), Ok(10_000));
        assert_eq!(
            check_size(100, 101, 10_000),
            Err(ScanError::TooLarge {
                width: 100,
                height: 101,
                max_pixels: 10_000
            })
        );
        assert!(matches!(check_size(0, 5, 10), Err(ScanError::Decode(_))));
    }
}
