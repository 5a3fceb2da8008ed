//! Grayscale picture operations for the scanner: rescaling and binarisations, and the list
//! of pre-processed copies tried in turn.

use zeroize::Zeroizing;

/// An 8-bit grayscale picture, row-major, zeroised on drop.
pub struct Gray {
    /// Width in pixels.
    pub w: usize,
    /// Height in pixels.
    pub h: usize,
    /// `w × h` luminance values, row-major (0 = black, 255 = white).
    pub px: Zeroizing<Vec<u8>>,
}

impl Gray {
    /// A `w × h` picture filled with `value`.
    pub fn filled(w: usize, h: usize, value: u8) -> Self {
        Gray {
            w,
            h,
            px: Zeroizing::new(vec![value; w * h]),
        }
    }

    /// Pixel at (x, y).
    pub fn get(&self, x: usize, y: usize) -> u8 {
        self.px[y * self.w + x]
    }

    /// Copy rescaled by `factor` (area-weighted when shrinking; see `resample`).
    pub fn scaled(&self, factor: f32) -> Gray {
        let nw = ((self.w as f32 * factor).round() as usize).max(1);
        let nh = ((self.h as f32 * factor).round() as usize).max(1);
        super::resample::resize(self, nw, nh)
    }

    /// An identical copy.
    fn copy(&self) -> Gray {
        Gray {
            w: self.w,
            h: self.h,
            px: self.px.clone(),
        }
    }

    /// Copy no larger than `max` pixels on its longer side.
    pub fn fit(&self, max: usize) -> Gray {
        let long = self.w.max(self.h);
        if long <= max {
            self.copy()
        } else {
            self.scaled(max as f32 / long as f32)
        }
    }

    /// Black (0) / white (255) by comparing each pixel with the mean of a square window of
    /// half-size `radius` around it, minus `bias`: copes with uneven light and shadows.
    /// Exact for windows of up to 16 million pixels (the scanner's are at most 350 x 350).
    pub fn mean_threshold(&self, radius: usize, bias: i32) -> Gray {
        let (w, h) = (self.w, self.h);
        // Sums modulo 2^32 (4 bytes a pixel, not 8): a window's sum comes out exact as long as
        // it is below 2^32, i.e. for windows of up to 16 million pixels.
        let mut integral = vec![0u32; (w + 1) * (h + 1)];
        for y in 0..h {
            let mut row = 0u32;
            for x in 0..w {
                row = row.wrapping_add(u32::from(self.get(x, y)));
                integral[(y + 1) * (w + 1) + x + 1] =
                    integral[y * (w + 1) + x + 1].wrapping_add(row);
            }
        }
        let mut out = Gray::filled(w, h, 255);
        for y in 0..h {
            let (y0, y1) = (y.saturating_sub(radius), (y + radius + 1).min(h));
            for x in 0..w {
                let (x0, x1) = (x.saturating_sub(radius), (x + radius + 1).min(w));
                let sum = integral[y1 * (w + 1) + x1]
                    .wrapping_add(integral[y0 * (w + 1) + x0])
                    .wrapping_sub(integral[y0 * (w + 1) + x1])
                    .wrapping_sub(integral[y1 * (w + 1) + x0]);
                // pixel < floor(sum / area) - bias, without dividing: for an integer k,
                // floor(sum / area) >= k exactly when sum >= k * area.
                let k = i64::from(self.get(x, y)) + i64::from(bias) + 1;
                let area = ((x1 - x0) * (y1 - y0)) as u64;
                if k <= 0 || u64::from(sum) >= k as u64 * area {
                    out.px[y * w + x] = 0;
                }
            }
        }
        out
    }

    /// Gaussian blur with standard deviation `sigma` pixels (separable).
    pub fn blur(&self, sigma: f32) -> Gray {
        let g = self;
        let r = (sigma * 3.0).ceil() as isize;
        let kernel: Vec<f32> = (-r..=r)
            .map(|i| (-(i * i) as f32 / (2.0 * sigma * sigma)).exp())
            .collect();
        let sum: f32 = kernel.iter().sum();
        let kernel: Vec<f32> = kernel.iter().map(|k| k / sum).collect();
        let (w, h) = (g.w as isize, g.h as isize);
        let mut tmp = vec![0f32; g.px.len()];
        for y in 0..h {
            for x in 0..w {
                let mut acc = 0.0;
                for (k, i) in kernel.iter().zip(-r..=r) {
                    acc += k * g.get((x + i).clamp(0, w - 1) as usize, y as usize) as f32;
                }
                tmp[(y * w + x) as usize] = acc;
            }
        }
        let mut out = Gray::filled(g.w, g.h, 0);
        for y in 0..h {
            for x in 0..w {
                let mut acc = 0.0;
                for (k, i) in kernel.iter().zip(-r..=r) {
                    acc += k * tmp[((y + i).clamp(0, h - 1) * w + x) as usize];
                }
                out.px[(y * w + x) as usize] = acc.round().clamp(0.0, 255.0) as u8;
            }
        }
        out
    }

    /// Black / white at the global Otsu threshold.
    pub fn otsu(&self) -> Gray {
        let mut hist = [0u64; 256];
        for &p in self.px.iter() {
            hist[p as usize] += 1;
        }
        let total = self.px.len() as f64;
        let sum_all: f64 = hist
            .iter()
            .enumerate()
            .map(|(i, &c)| i as f64 * c as f64)
            .sum();
        let (mut w_b, mut sum_b, mut best, mut threshold) = (0.0, 0.0, -1.0, 128u8);
        for (t, &c) in hist.iter().enumerate() {
            w_b += c as f64;
            if w_b == 0.0 || w_b == total {
                continue;
            }
            sum_b += t as f64 * c as f64;
            let (m_b, m_f) = (sum_b / w_b, (sum_all - sum_b) / (total - w_b));
            let between = w_b * (total - w_b) * (m_b - m_f) * (m_b - m_f);
            if between > best {
                best = between;
                threshold = t as u8;
            }
        }
        let px = self
            .px
            .iter()
            .map(|&p| if p <= threshold { 0 } else { 255 })
            .collect();
        Gray {
            w: self.w,
            h: self.h,
            px: Zeroizing::new(px),
        }
    }
}

/// One pre-processed copy of the picture to hand to the QR decoder.
pub(super) struct Attempt {
    pub name: String,
    pub image: Gray,
    /// Already black/white: skip the decoder's own thresholding.
    pub binarised: bool,
}

#[derive(Clone, Copy, PartialEq)]
enum Binarise {
    /// The decoder's own row-wise adaptive threshold.
    Decoder,
    /// Slight blur (sigma 1 px) against noise and JPEG blocks, then the decoder's threshold.
    BlurDecoder,
    /// Local mean of a window 1/`n` of the longer side, minus a bias.
    Mean(usize, i32),
    Otsu,
}

/// Marks a plan entry as "twice the picture's size" (only for pictures up to 1400 pixels).
const UPSCALE: usize = usize::MAX;

/// Pre-processed copies in the order tried: cheap and usually sufficient first.
pub(super) fn attempts(src: &Gray) -> impl Iterator<Item = Attempt> + '_ {
    let long = src.w.max(src.h);
    // Measured on the degraded corpus (tests/scan.rs): no single binarisation reads every
    // picture, so cheap and usually sufficient attempts come first, then the rest.
    let mut plan: Vec<(usize, Binarise)> = vec![
        (1600, Binarise::Decoder),
        (1000, Binarise::Decoder),
        (1600, Binarise::Mean(24, 6)),
        (1000, Binarise::Mean(24, 6)),
        (1600, Binarise::Otsu),
        (1600, Binarise::Mean(16, 6)),
        (1600, Binarise::BlurDecoder),
        (1300, Binarise::Mean(8, 0)),
        (1300, Binarise::Mean(40, 12)),
        (1000, Binarise::Mean(40, 6)),
        (2400, Binarise::Decoder),
        (700, Binarise::Decoder),
        (700, Binarise::Mean(16, 6)),
        (1300, Binarise::Decoder),
        (1300, Binarise::BlurDecoder),
        (1000, Binarise::BlurDecoder),
        (2400, Binarise::Mean(24, 6)),
        // Small pictures (modules of 2-4 pixels): enlarge so that finder patterns separate.
        (UPSCALE, Binarise::Decoder),
        (UPSCALE, Binarise::Mean(24, 6)),
    ];
    // Last resort for bad photos: a sweep of local-mean windows and biases.
    for size in [1600, 1300, 1000, 1900] {
        for (n, bias) in [
            (8, 0),
            (16, 0),
            (24, 0),
            (40, 0),
            (16, 12),
            (40, 12),
            (8, 6),
            (32, 3),
        ] {
            plan.push((size, Binarise::Mean(n, bias)));
        }
    }
    let mut seen: Vec<(usize, Binarise)> = Vec::new();
    // Each size is rescaled from the picture once and kept for the attempts that use it (at
    // most seven sizes, ~15 million pixels in all, whatever the picture's size).
    let mut bases: Vec<(usize, Gray)> = Vec::new();
    plan.into_iter().filter_map(move |(max, bin)| {
        // Sizes above the picture's own collapse to the picture itself; try each only once.
        let size = if max == UPSCALE {
            if long > 1400 { return None } else { long * 2 }
        } else {
            max.min(long)
        };
        let key = (size, bin);
        if seen.contains(&key) {
            return None;
        }
        seen.push(key);
        let base = match bases.iter().find(|(s, _)| *s == size) {
            Some((_, b)) => b.copy(),
            None => {
                let b = if size > long {
                    src.scaled(2.0)
                } else {
                    src.fit(size)
                };
                let copy = b.copy();
                bases.push((size, b));
                copy
            }
        };
        let (name, image, binarised) = match bin {
            Binarise::Decoder => (format!("{size}px"), base, false),
            Binarise::BlurDecoder => (format!("{size}px blur"), base.blur(1.0), false),
            Binarise::Mean(n, bias) => {
                let r = (base.w.max(base.h) / n / 2).max(4);
                (
                    format!("{size}px mean/{n}-{bias}"),
                    base.mean_threshold(r, bias),
                    true,
                )
            }
            Binarise::Otsu => (format!("{size}px otsu"), base.otsu(), true),
        };
        Some(Attempt {
            name,
            image,
            binarised,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_threshold_matches_direct_window_means() {
        let (w, h) = (61usize, 47usize);
        let mut x = 0x2545_f491u32;
        let px: Vec<u8> = (0..w * h)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                (x >> 24) as u8
            })
            .collect();
        let g = Gray {
            w,
            h,
            px: Zeroizing::new(px),
        };
        for (radius, bias) in [(4, 6), (9, 0), (100, 12), (3, -300), (5, 300)] {
            let out = g.mean_threshold(radius, bias);
            for y in 0..h {
                for x in 0..w {
                    let (y0, y1) = (y.saturating_sub(radius), (y + radius + 1).min(h));
                    let (x0, x1) = (x.saturating_sub(radius), (x + radius + 1).min(w));
                    let mut sum = 0u64;
                    for yy in y0..y1 {
                        for xx in x0..x1 {
                            sum += u64::from(g.get(xx, yy));
                        }
                    }
                    let mean = (sum / ((x1 - x0) * (y1 - y0)) as u64) as i32;
                    let black = i32::from(g.get(x, y)) < mean - bias;
                    assert_eq!(out.get(x, y), if black { 0 } else { 255 }, "({x}, {y})");
                }
            }
        }
    }
}
