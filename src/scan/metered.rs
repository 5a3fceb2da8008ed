//! The picture handed to the QR detector, metered: every pixel read or write and every size
//! query the detector makes is counted, and past a fixed budget the detection is stopped.
//!
//! Why: fuzzing found a 260 x 250 picture whose finder-pattern-like shapes send rqrr's
//! alignment-pattern search (a spiral whose length comes from the shapes' apparent size, not
//! from the picture's) through ~370 million steps, ~1.5 s per attempt and ~24 s per picture;
//! the spiral's length is bounded only by `i32` arithmetic, so a worse picture could take
//! hours. rqrr keeps its candidate lists private, but reads the picture only through this
//! type (its `img` feature implements its buffer trait for any `image::GenericImage`), and
//! every step of that spiral asks the picture for its width. So the budget counts *work*, not
//! time: the same picture gives the same answer on every machine and in every build.
//!
//! Stopping: rqrr offers no way to abandon a search, so on the first access over budget this
//! type unwinds with [`std::panic::resume_unwind`] carrying [`OverBudget`] (which does not run
//! the panic hook: nothing is printed and a fuzzer's abort-on-panic hook is not triggered),
//! and [`super::decode_prepared`] catches exactly that payload; any other panic is passed on.
//! Everything rqrr built for that attempt is dropped; nothing of it is used.

use std::cell::Cell;
use std::rc::Rc;

use image::{GenericImage, GenericImageView, Luma, Pixel};
use zeroize::Zeroizing;

/// Detector steps allowed per pixel of the attempt's picture, on top of [`WORK_FLOOR`].
///
/// Measured (`cargo bench --bench scan`): on the 36 pictures of the degraded corpus the attempt
/// that reads the code uses at most 21.6 % of its budget (a blurred page, 1000-pixel attempt,
/// ~12 steps per pixel); `tests/scan.rs` fails if any uses more than half. Among the 970
/// loadable pictures of the `image` fuzz corpus, the 54 that still hold a readable code use at
/// most 26.6 % (small crops, where grid fitting, not pixels, dominates); 119 have an attempt
/// stopped, and none of those 119 yields a code without the budget either.
pub(super) const WORK_PER_PIXEL: u64 = 32;

/// Steps allowed whatever the picture's size: fitting and decoding one code takes 2-5 million
/// (a 260 x 250 crop of a sheet's code: 4.8 million), and small pictures must still get a
/// full search.
pub(super) const WORK_FLOOR: u64 = 16_000_000;

/// Detector steps allowed for all the attempts on one picture together: once spent, no
/// further attempt is made and the picture counts as holding no readable code.
///
/// Measured (`cargo bench --bench scan`): a sheet is read with 14-30 million steps (the
/// degraded corpus: at most 30 million, in at most five attempts); an A4 page without a code
/// takes all 47 attempts and 196 million; the fuzz finding `image-slow-grid-search` 284
/// million. Without this cap a 2400 x 2400 picture of noise took 940 million steps (5.5 s),
/// and the attempts' budgets together allow about 4 billion (30 s or more).
pub const PICTURE_WORK_BUDGET: u64 = 400_000_000;

/// The budget for one detection attempt on a `w × h` picture.
pub(super) fn budget(w: usize, h: usize) -> u64 {
    WORK_FLOOR + WORK_PER_PIXEL * (w as u64) * (h as u64)
}

/// The unwind payload that marks a detection stopped for exceeding its budget.
pub(super) struct OverBudget;

/// A grayscale picture that counts accesses; clones share the count (rqrr clones the picture
/// to test each grouping of finder patterns, and that work counts too).
#[derive(Clone)]
pub(super) struct Metered {
    w: u32,
    h: u32,
    px: Zeroizing<Vec<u8>>,
    used: Rc<Cell<u64>>,
    limit: u64,
}

impl Metered {
    /// A metered copy of `px` (`w × h`, row-major) allowed `limit` accesses.
    pub fn new(w: usize, h: usize, px: Zeroizing<Vec<u8>>, limit: u64) -> Self {
        assert_eq!(px.len(), w * h, "pixel buffer matches its dimensions");
        Metered {
            w: u32::try_from(w).expect("picture width fits in u32"),
            h: u32::try_from(h).expect("picture height fits in u32"),
            px,
            used: Rc::new(Cell::new(0)),
            limit,
        }
    }

    /// Accesses so far, by this picture and all its clones.
    #[cfg(test)]
    pub fn used(&self) -> u64 {
        self.used.get()
    }

    /// A handle on the shared count that outlives the picture (rqrr takes it by value).
    pub fn counter(&self) -> Rc<Cell<u64>> {
        Rc::clone(&self.used)
    }

    fn tick(&self) {
        let n = self.used.get() + 1;
        self.used.set(n);
        if n > self.limit {
            std::panic::resume_unwind(Box::new(OverBudget));
        }
    }

    fn index(&self, x: u32, y: u32) -> usize {
        y as usize * self.w as usize + x as usize
    }
}

impl GenericImageView for Metered {
    type Pixel = Luma<u8>;

    fn dimensions(&self) -> (u32, u32) {
        self.tick();
        (self.w, self.h)
    }

    fn get_pixel(&self, x: u32, y: u32) -> Luma<u8> {
        self.tick();
        Luma([self.px[self.index(x, y)]])
    }
}

impl GenericImage for Metered {
    fn get_pixel_mut(&mut self, x: u32, y: u32) -> &mut Luma<u8> {
        self.tick();
        let i = self.index(x, y);
        Luma::from_slice_mut(&mut self.px[i..i + 1])
    }

    fn put_pixel(&mut self, x: u32, y: u32, pixel: Luma<u8>) {
        self.tick();
        let i = self.index(x, y);
        self.px[i] = pixel.0[0];
    }

    fn blend_pixel(&mut self, x: u32, y: u32, pixel: Luma<u8>) {
        // Grayscale without alpha: blending is replacing.
        self.put_pixel(x, y, pixel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(limit: u64, steps: u64) -> Result<u64, bool> {
        let m = Metered::new(2, 2, Zeroizing::new(vec![0, 1, 2, 3]), limit);
        let counter = m.counter();
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let copy = m.clone();
            for i in 0..steps {
                let _ = copy.get_pixel((i % 2) as u32, 1);
            }
        }));
        match r {
            Ok(()) => Ok(counter.get()),
            Err(p) => Err(p.is::<OverBudget>()),
        }
    }

    #[test]
    fn work_within_budget_runs_and_is_counted() {
        assert_eq!(run(10, 10), Ok(10));
    }

    #[test]
    fn work_over_budget_is_stopped_with_the_marker() {
        assert_eq!(run(10, 11), Err(true));
    }

    #[test]
    fn reads_writes_and_size_queries_all_count() {
        let mut m = Metered::new(3, 1, Zeroizing::new(vec![7, 8, 9]), 100);
        assert_eq!(m.get_pixel(2, 0), Luma([9]));
        m.put_pixel(0, 0, Luma([1]));
        assert_eq!(m.width(), 3);
        assert_eq!(m.get_pixel(0, 0), Luma([1]));
        assert_eq!(m.used(), 4);
    }

    #[test]
    fn budget_grows_with_the_picture() {
        assert_eq!(budget(0, 0), WORK_FLOOR);
        assert_eq!(budget(100, 10), WORK_FLOOR + 1000 * WORK_PER_PIXEL);
    }
}
