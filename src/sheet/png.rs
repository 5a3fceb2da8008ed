//! PNG back-end: rasterises the layout into an 8-bit grayscale bitmap (text: glyph outlines
//! of the embedded fonts from `skrifa`, filled by `ab_glyph_rasterizer`) and writes it with a
//! pHYs chunk for the resolution.

use ab_glyph_rasterizer::{Point, Rasterizer, point};
use skrifa::instance::{LocationRef, Size};
use skrifa::outline::pen::PathStyle;
use skrifa::outline::{DrawSettings, OutlinePen};
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
    let upem = font.units_per_em();
    // Outlines come scaled by em_px / upem pixels per font unit. The HarfBuzz path style
    // scales in f32; the default (FreeType) style rounds points to 1/64 pixel.
    let settings = || {
        DrawSettings::unhinted(Size::new(em_px), LocationRef::default())
            .with_path_style(PathStyle::HarfBuzz)
    };
    let mut pen_x = x;
    for ch in text.chars() {
        let id = font.glyph_id(ch);
        if let Some(outline) = font.outline(id) {
            let mut path = GlyphPath::default();
            // A glyph that fails to draw (damaged data) is left blank, as a missing one is.
            if outline.draw(settings(), &mut path).is_ok() {
                path.fill(point(pen_x, baseline), |px, py, cov| {
                    c.blend(px, py, cov, ink)
                });
            }
        }
        pen_x += font.advance_unscaled(id) / upem * em_px;
    }
}

/// One segment of a glyph outline, in pixels, y down, relative to the glyph origin.
enum Segment {
    Line(Point, Point),
    Quad(Point, Point, Point),
    Cubic(Point, Point, Point, Point),
}

/// Collects a glyph outline from `skrifa` (font units scaled to pixels, y up) as y-down
/// segments with their bounds, closing every contour.
struct GlyphPath {
    segments: Vec<Segment>,
    start: Point,
    last: Point,
    min: Point,
    max: Point,
}

impl Default for GlyphPath {
    fn default() -> Self {
        GlyphPath {
            segments: Vec::new(),
            start: point(0.0, 0.0),
            last: point(0.0, 0.0),
            min: point(f32::INFINITY, f32::INFINITY),
            max: point(f32::NEG_INFINITY, f32::NEG_INFINITY),
        }
    }
}

impl GlyphPath {
    /// Flips y and grows the bounds over the point (control points included, as the
    /// font's own glyph boxes are).
    fn add(&mut self, x: f32, y: f32) -> Point {
        let p = point(x, -y);
        self.min = point(self.min.x.min(p.x), self.min.y.min(p.y));
        self.max = point(self.max.x.max(p.x), self.max.y.max(p.y));
        p
    }

    /// Fills the outline with its origin at `origin` (canvas pixels), calling `blend` with
    /// the canvas position and coverage of every pixel of the glyph's box.
    fn fill(mut self, origin: Point, mut blend: impl FnMut(i64, i64, f32)) {
        self.close();
        if self.segments.is_empty() {
            return;
        }
        // Pixel box of the glyph; the subpixel fraction of the origin is rounded together
        // with the outline so that identical fractions give identical boxes.
        let (tx, fx) = (origin.x.trunc(), origin.x.fract());
        let (ty, fy) = (origin.y.trunc(), origin.y.fract());
        let x0 = (self.min.x + fx).floor() + tx;
        let y0 = (self.min.y + fy).floor() + ty;
        let x1 = (self.max.x + fx).ceil() + tx;
        let y1 = (self.max.y + fy).ceil() + ty;
        let offset = point(origin.x - x0, origin.y - y0);
        let mut r = Rasterizer::new((x1 - x0) as usize, (y1 - y0) as usize);
        for s in &self.segments {
            match *s {
                Segment::Line(p0, p1) => r.draw_line(p0 + offset, p1 + offset),
                Segment::Quad(p0, p1, p2) => r.draw_quad(p0 + offset, p1 + offset, p2 + offset),
                Segment::Cubic(p0, p1, p2, p3) => {
                    r.draw_cubic(p0 + offset, p1 + offset, p2 + offset, p3 + offset)
                }
            }
        }
        r.for_each_pixel_2d(|gx, gy, cov| blend(x0 as i64 + gx as i64, y0 as i64 + gy as i64, cov));
    }
}

impl OutlinePen for GlyphPath {
    fn move_to(&mut self, x: f32, y: f32) {
        self.close();
        let p = self.add(x, y);
        self.start = p;
        self.last = p;
    }

    fn line_to(&mut self, x: f32, y: f32) {
        let p = self.add(x, y);
        self.segments.push(Segment::Line(self.last, p));
        self.last = p;
    }

    fn quad_to(&mut self, cx0: f32, cy0: f32, x: f32, y: f32) {
        let c0 = self.add(cx0, cy0);
        let p = self.add(x, y);
        self.segments.push(Segment::Quad(self.last, c0, p));
        self.last = p;
    }

    fn curve_to(&mut self, cx0: f32, cy0: f32, cx1: f32, cy1: f32, x: f32, y: f32) {
        let c0 = self.add(cx0, cy0);
        let c1 = self.add(cx1, cy1);
        let p = self.add(x, y);
        self.segments.push(Segment::Cubic(self.last, c0, c1, p));
        self.last = p;
    }

    /// Closes the contour with a line back to its start (the rasteriser accumulates
    /// signed coverage, so every contour must be closed).
    fn close(&mut self) {
        if self.last != self.start {
            self.segments.push(Segment::Line(self.last, self.start));
            self.last = self.start;
        }
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
