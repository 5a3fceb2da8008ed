//! Synthetic photo degradations (rotation, blur, noise, JPEG, low resolution, perspective,
//! uneven light) used by the tests and the benchmark to measure the scanner on a corpus made
//! from rendered sheets. Not used by the scanner itself.

use image::ImageEncoder as _;
use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::PngEncoder;
use zeroize::Zeroizing;

use super::Gray;

/// Bilinear sample at (x, y); white outside the picture (paper on a light table).
fn sample(g: &Gray, x: f32, y: f32) -> u8 {
    if x < 0.0 || y < 0.0 || x > (g.w - 1) as f32 || y > (g.h - 1) as f32 {
        return 255;
    }
    let (x0, y0) = (x.floor() as usize, y.floor() as usize);
    let (x1, y1) = ((x0 + 1).min(g.w - 1), (y0 + 1).min(g.h - 1));
    let (fx, fy) = (x - x0 as f32, y - y0 as f32);
    let top = g.get(x0, y0) as f32 * (1.0 - fx) + g.get(x1, y0) as f32 * fx;
    let bottom = g.get(x0, y1) as f32 * (1.0 - fx) + g.get(x1, y1) as f32 * fx;
    (top * (1.0 - fy) + bottom * fy).round() as u8
}

/// Rotated by `degrees` (counter-clockwise) about the centre, on a canvas grown to fit.
pub fn rotate(g: &Gray, degrees: f32) -> Gray {
    let quarter = degrees.rem_euclid(360.0);
    if quarter == 90.0 || quarter == 180.0 || quarter == 270.0 {
        return rotate_quarter(g, (quarter / 90.0) as u32);
    }
    let (s, c) = degrees.to_radians().sin_cos();
    let (w, h) = (g.w as f32, g.h as f32);
    let nw = (w * c.abs() + h * s.abs()).ceil() as usize;
    let nh = (w * s.abs() + h * c.abs()).ceil() as usize;
    let mut out = Gray::filled(nw, nh, 255);
    let (cx, cy, ncx, ncy) = (w / 2.0, h / 2.0, nw as f32 / 2.0, nh as f32 / 2.0);
    for y in 0..nh {
        for x in 0..nw {
            let (dx, dy) = (x as f32 - ncx, y as f32 - ncy);
            out.px[y * nw + x] = sample(g, c * dx - s * dy + cx, s * dx + c * dy + cy);
        }
    }
    out
}

/// Exact rotation by `quarters` × 90°.
pub fn rotate_quarter(g: &Gray, quarters: u32) -> Gray {
    let (w, h) = (g.w, g.h);
    match quarters % 4 {
        0 => Gray {
            w,
            h,
            px: g.px.clone(),
        },
        2 => Gray {
            w,
            h,
            px: Zeroizing::new(g.px.iter().rev().copied().collect()),
        },
        q => {
            let mut out = Gray::filled(h, w, 255);
            for y in 0..h {
                for x in 0..w {
                    let (nx, ny) = if q == 1 {
                        (y, w - 1 - x)
                    } else {
                        (h - 1 - y, x)
                    };
                    out.px[ny * h + nx] = g.get(x, y);
                }
            }
            out
        }
    }
}

/// Gaussian blur with standard deviation `sigma` pixels.
pub fn blur(g: &Gray, sigma: f32) -> Gray {
    g.blur(sigma)
}

/// Adds uniform noise of ± `amplitude` grey levels (deterministic for a `seed`).
pub fn noise(g: &Gray, amplitude: u8, seed: u64) -> Gray {
    let mut state = seed | 1;
    let span = 2 * amplitude as i32 + 1;
    let px =
        g.px.iter()
            .map(|&p| {
                // xorshift64*: plenty for test noise.
                state ^= state >> 12;
                state ^= state << 25;
                state ^= state >> 27;
                let r = (state.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 33) as i32;
                (p as i32 + r % span - amplitude as i32).clamp(0, 255) as u8
            })
            .collect();
    Gray {
        w: g.w,
        h: g.h,
        px: Zeroizing::new(px),
    }
}

/// Resampled from `from_dpi` to `to_dpi`.
pub fn resample(g: &Gray, from_dpi: f32, to_dpi: f32) -> Gray {
    g.scaled(to_dpi / from_dpi)
}

/// Perspective: the page seen from below, top edge shortened by `squeeze` (0..1) of the width
/// and the whole quad slightly rotated, as in a hand-held phone photo.
pub fn perspective(g: &Gray, squeeze: f32) -> Gray {
    let (w, h) = (g.w as f32, g.h as f32);
    let inset = w * squeeze / 2.0;
    // Destination corners of the source's (0,0), (1,0), (1,1), (0,1).
    let quad = [
        (inset, h * 0.03),
        (w - inset * 0.7, 0.0),
        (w, h),
        (w * 0.02, h * 0.98),
    ];
    let m = square_to_quad(quad);
    let inv = invert3(m);
    let mut out = Gray::filled(g.w, g.h, 255);
    for y in 0..g.h {
        for x in 0..g.w {
            let (xf, yf) = (x as f32, y as f32);
            let d = inv[6] * xf + inv[7] * yf + inv[8];
            let u = (inv[0] * xf + inv[1] * yf + inv[2]) / d;
            let v = (inv[3] * xf + inv[4] * yf + inv[5]) / d;
            out.px[y * g.w + x] = sample(g, u * (w - 1.0), v * (h - 1.0));
        }
    }
    out
}

/// Projective map of the unit square onto `q` (Heckbert), as a row-major 3×3 matrix.
fn square_to_quad(q: [(f32, f32); 4]) -> [f32; 9] {
    let [(x0, y0), (x1, y1), (x2, y2), (x3, y3)] = q;
    let (dx1, dx2, dx3) = (x1 - x2, x3 - x2, x0 - x1 + x2 - x3);
    let (dy1, dy2, dy3) = (y1 - y2, y3 - y2, y0 - y1 + y2 - y3);
    let den = dx1 * dy2 - dx2 * dy1;
    let g = (dx3 * dy2 - dx2 * dy3) / den;
    let h = (dx1 * dy3 - dx3 * dy1) / den;
    [
        x1 - x0 + g * x1,
        x3 - x0 + h * x3,
        x0,
        y1 - y0 + g * y1,
        y3 - y0 + h * y3,
        y0,
        g,
        h,
        1.0,
    ]
}

fn invert3(m: [f32; 9]) -> [f32; 9] {
    let [a, b, c, d, e, f, g, h, i] = m;
    let det = a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g);
    [
        (e * i - f * h) / det,
        (c * h - b * i) / det,
        (b * f - c * e) / det,
        (f * g - d * i) / det,
        (a * i - c * g) / det,
        (c * d - a * f) / det,
        (d * h - e * g) / det,
        (b * g - a * h) / det,
        (a * e - b * d) / det,
    ]
}

/// Uneven light: brightness falls from 100 % at the top-left to `darkest` (0..1) at the
/// bottom-right, with a soft shadow band across the middle.
pub fn uneven_light(g: &Gray, darkest: f32) -> Gray {
    let mut out = Gray::filled(g.w, g.h, 0);
    let diag = (g.w + g.h) as f32;
    for y in 0..g.h {
        for x in 0..g.w {
            let t = (x + y) as f32 / diag;
            let band = (-((y as f32 / g.h as f32 - 0.5) * 6.0).powi(2)).exp() * 0.25;
            let k = (1.0 - (1.0 - darkest) * t - band).max(0.05);
            out.px[y * g.w + x] = (g.get(x, y) as f32 * k).round() as u8;
        }
    }
    out
}

/// Encoded as JPEG at `quality` (1..=100).
pub fn to_jpeg(g: &Gray, quality: u8) -> Vec<u8> {
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, quality)
        .write_image(&g.px, g.w as u32, g.h as u32, image::ExtendedColorType::L8)
        .expect("JPEG encoding in memory");
    out
}

/// Encoded as PNG.
pub fn to_png(g: &Gray) -> Vec<u8> {
    let mut out = Vec::new();
    PngEncoder::new(&mut out)
        .write_image(&g.px, g.w as u32, g.h as u32, image::ExtendedColorType::L8)
        .expect("PNG encoding in memory");
    out
}

/// The named degradations of the test corpus, applied to a 300 dpi sheet picture; each
/// yields an encoded picture (PNG, or JPEG for the JPEG case).
pub fn corpus(sheet: &Gray) -> Vec<(&'static str, Vec<u8>)> {
    let at150 = resample(sheet, 300.0, 150.0);
    vec![
        ("clean 300dpi", to_png(sheet)),
        ("rotated 7deg", to_png(&rotate(&at150, 7.0))),
        ("rotated 90deg", to_png(&rotate(&at150, 90.0))),
        ("rotated 180deg", to_png(&rotate(&at150, 180.0))),
        ("gaussian blur s=2.5 @300dpi", to_png(&blur(sheet, 2.5))),
        ("noise +-60", to_png(&noise(&at150, 60, 7))),
        ("jpeg q40", to_jpeg(&at150, 40)),
        ("downscaled 150dpi", to_png(&at150)),
        ("downscaled 100dpi", to_png(&resample(sheet, 300.0, 100.0))),
        ("perspective 25%", to_png(&perspective(&at150, 0.25))),
        ("uneven light 25%", to_png(&uneven_light(&at150, 0.25))),
        (
            "combined: 150dpi rot 7deg blur noise light jpeg q40",
            to_jpeg(
                &uneven_light(&noise(&blur(&rotate(&at150, 7.0), 1.2), 25, 3), 0.4),
                40,
            ),
        ),
    ]
}
