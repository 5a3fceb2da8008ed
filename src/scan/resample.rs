//! Rescaling a grayscale picture with a triangle (linear) filter, area-weighted when shrinking:
//! the arithmetic of `image::imageops::resize(.., FilterType::Triangle)`, step for step (same
//! weights, same order of additions, same rounding), so the scanner's attempts see the pixels
//! they always saw, without `image`'s memory cost.
//!
//! `image` resamples the columns of the whole picture into an intermediate of 16 bytes per
//! pixel (four `f32` channels) before resampling the rows: 95 MB for a 300 dpi A4 page scaled
//! to 2400 pixels, 280 MB for an 11000 x 11000 picture. Here each output row is made from the
//! input rows under its filter window into one `f32` row, then resampled across at once, so
//! the only extra memory is one row of `f32`.

use zeroize::Zeroizing;

use super::Gray;

/// `image`'s triangle kernel (support 1).
fn triangle(x: f32) -> f32 {
    if x.abs() < 1.0 { 1.0 - x.abs() } else { 0.0 }
}

/// The filter window of every output position along an axis of `from` pixels resized to
/// `to`: the first input pixel and the normalised weights, as `image` computes them.
fn windows(from: u32, to: u32) -> Vec<(usize, Vec<f32>)> {
    let ratio = from as f32 / to as f32;
    let sratio = if ratio < 1.0 { 1.0 } else { ratio };
    let support = sratio; // triangle support (1.0) times sratio
    (0..to)
        .map(|out| {
            let input = (out as f32 + 0.5) * ratio;
            let left = ((input - support).floor() as i64).clamp(0, i64::from(from) - 1);
            let right = ((input + support).ceil() as i64).clamp(left + 1, i64::from(from)) as u32;
            let left = left as u32;
            let input = input - 0.5;
            let mut ws: Vec<f32> = (left..right)
                .map(|i| triangle((i as f32 - input) / sratio))
                .collect();
            let sum: f32 = ws.iter().fold(0.0, |s, w| s + w);
            for w in ws.iter_mut() {
                *w /= sum;
            }
            (left as usize, ws)
        })
        .collect()
}

/// `src` resized to `nw × nh` (both at least 1).
pub(super) fn resize(src: &Gray, nw: usize, nh: usize) -> Gray {
    if (nw, nh) == (src.w, src.h) {
        return Gray {
            w: src.w,
            h: src.h,
            px: src.px.clone(),
        };
    }
    let (w, h) = (src.w, src.h);
    let rows = windows(h as u32, nh as u32);
    let cols = windows(w as u32, nw as u32);
    let mut out = Zeroizing::new(vec![0u8; nw * nh]);
    let mut column_pass = Zeroizing::new(vec![0f32; w]);
    for (y, (top, ws)) in rows.iter().enumerate() {
        // Vertical: this output row from the input rows under its window.
        column_pass.fill(0.0);
        for (i, wt) in ws.iter().enumerate() {
            let row = &src.px[(top + i) * w..(top + i + 1) * w];
            for (acc, &p) in column_pass.iter_mut().zip(row) {
                *acc += f32::from(p) * wt;
            }
        }
        // Horizontal: across that row.
        let line = &mut out[y * nw..(y + 1) * nw];
        for (o, (left, ws)) in line.iter_mut().zip(&cols) {
            let mut t = 0.0f32;
            for (i, wt) in ws.iter().enumerate() {
                t += column_pass[left + i] * wt;
            }
            *o = t.clamp(0.0, 255.0).round() as u8;
        }
    }
    Gray {
        w: nw,
        h: nh,
        px: out,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::imageops::{self, FilterType};
    use image::{GrayImage, ImageBuffer};

    fn noise(w: usize, h: usize, seed: u32) -> Gray {
        let mut x = seed | 1;
        let px = (0..w * h)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                (x >> 24) as u8
            })
            .collect();
        Gray {
            w,
            h,
            px: Zeroizing::new(px),
        }
    }

    fn with_image(g: &Gray, nw: usize, nh: usize) -> Vec<u8> {
        let img: GrayImage = ImageBuffer::from_raw(g.w as u32, g.h as u32, g.px.to_vec()).unwrap();
        imageops::resize(&img, nw as u32, nh as u32, FilterType::Triangle).into_raw()
    }

    #[test]
    fn same_pixels_as_image_resize() {
        for (w, h, nw, nh) in [
            (97, 61, 40, 25),
            (61, 97, 25, 40),
            (50, 50, 100, 100),
            (33, 20, 66, 40),
            (300, 17, 7, 3),
            (1, 1, 3, 2),
            (5, 9, 1, 1),
        ] {
            let g = noise(w, h, (w * 31 + h) as u32);
            assert_eq!(
                *resize(&g, nw, nh).px,
                with_image(&g, nw, nh),
                "{w}x{h} -> {nw}x{nh}"
            );
        }
    }
}
