//! PNG back-end: rasterises the layout into an 8-bit grayscale bitmap (text through
//! `ab_glyph` with the embedded fonts) and writes it with a pHYs chunk for the resolution.

use ab_glyph::{Font as _, PxScale, point};
use zeroize::Zeroizing;

use super::fonts::{self, Face};
use super::layout::Page;
use super::qr::QUIET_ZONE;

/// An 8-bit grayscale canvas, zeroised on drop (it holds the QR code and the words).
struct Canvas {
    w: usize,
    h: usize,
    px: Zeroizing<Vec<u8>>,
}

impl Canvas {
    fn fill(&mut self, x0: f32, y0: f32, x1: f32, y1: f32, value: u8) {
        let cx = |v: f32| (v.round().max(0.0) as usize).min(self.w);
        let cy = |v: f32| (v.round().max(0.0) as usize).min(self.h);
        let (x0, x1, y0, y1) = (cx(x0), cx(x1), cy(y0), cy(y1));
        for y in y0..y1 {
            self.px[y * self.w + x0..y * self.w + x1].fill(value);
        }
    }

    fn blend(&mut self, x: i64, y: i64, coverage: f32, ink: f32) {
        if x < 0 || y < 0 || x as usize >= self.w || y as usize >= self.h {
            return;
        }
        let p = &mut self.px[y as usize * self.w + x as usize];
        let c = coverage.clamp(0.0, 1.0);
        *p = (*p as f32 * (1.0 - c) + ink * c).round() as u8;
    }
}

pub(super) fn render(page: &Page, dpi: u32) -> Zeroizing<Vec<u8>> {
    let s = dpi as f32 / 72.0;
    let (w, h) = (
        (page.width * s).round() as usize,
        (page.height * s).round() as usize,
    );
    let mut c = Canvas {
        w,
        h,
        px: Zeroizing::new(vec![255u8; w * h]),
    };

    for r in &page.rects {
        // Keep hairlines at least one pixel thick.
        let (rw, rh) = ((r.w * s).max(1.0), (r.h * s).max(1.0));
        c.fill(
            r.x * s,
            r.y * s,
            r.x * s + rw,
            r.y * s + rh,
            (r.gray * 255.0).round() as u8,
        );
    }

    let q = &page.qr;
    let m = (q.module * s).round().max(1.0) as usize;
    let ox = (q.x * s).round() as usize + QUIET_ZONE * m;
    let oy = (q.y * s).round() as usize + QUIET_ZONE * m;
    for (row, col, len) in q.matrix.dark_runs() {
        let (x, y) = (ox + col * m, oy + row * m);
        c.fill(x as f32, y as f32, (x + len * m) as f32, (y + m) as f32, 0);
    }

    for t in &page.texts {
        draw_text(
            &mut c,
            t.face,
            t.size * s,
            t.x * s,
            t.y * s,
            t.gray * 255.0,
            &t.text,
        );
    }
    encode(&c, dpi)
}

fn draw_text(c: &mut Canvas, face: Face, em_px: f32, x: f32, baseline: f32, ink: f32, text: &str) {
    let font = fonts::font(face);
    let upem = font.units_per_em().unwrap_or(2048.0);
    // ab_glyph scales so that ascent - descent spans the PxScale; convert from em size.
    let height = font.height_unscaled();
    let scale = PxScale::from(em_px * height / upem);
    let mut pen = x;
    for ch in text.chars() {
        let id = font.glyph_id(ch);
        let glyph = id.with_scale_and_position(scale, point(pen, baseline));
        if let Some(outlined) = font.outline_glyph(glyph) {
            let b = outlined.px_bounds();
            outlined.draw(|gx, gy, cov| {
                c.blend(
                    b.min.x as i64 + gx as i64,
                    b.min.y as i64 + gy as i64,
                    cov,
                    ink,
                );
            });
        }
        pen += font.h_advance_unscaled(id) / upem * em_px;
    }
}

fn encode(c: &Canvas, dpi: u32) -> Zeroizing<Vec<u8>> {
    let mut out = Zeroizing::new(Vec::new());
    {
        let mut enc = png::Encoder::new(&mut *out, c.w as u32, c.h as u32);
        enc.set_color(png::ColorType::Grayscale);
        enc.set_depth(png::BitDepth::Eight);
        let ppm = (dpi as f64 / 0.0254).round() as u32;
        enc.set_pixel_dims(Some(png::PixelDimensions {
            xppu: ppm,
            yppu: ppm,
            unit: png::Unit::Meter,
        }));
        let mut writer = enc.write_header().expect("writing PNG to memory");
        writer
            .write_image_data(&c.px)
            .expect("writing PNG to memory");
        writer.finish().expect("writing PNG to memory");
    }
    out
}
