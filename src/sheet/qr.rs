//! The QR symbol of a share token, as a plain module matrix shared by every back-end.

use qrcode::{Color, EcLevel, QrCode};
use zeroize::Zeroizing;

/// Error-correction level of the printed QR code.
///
/// Q restores up to ~25 % damaged codewords, enough for a coffee stain, a fold line or a
/// faded corner on paper kept for years. H (~30 %) would need about three more versions
/// (12 more modules a side) for a 320-character token, shrinking every module of a fixed-size
/// print by ~13 % and making phone photos and 100 dpi scans harder, for 5 % more recovery;
/// the words printed below the code are the fallback for worse damage. A 320-byte token is
/// version 16 at Q (81 modules), ~0.9 mm a module in the ~84 mm printed code (11 px at 300 dpi).
pub const QR_EC_LEVEL: EcLevel = EcLevel::Q;

/// Quiet zone on every side, in modules (the QR specification's minimum).
pub const QUIET_ZONE: usize = 4;

/// A QR symbol: `width × width` modules, `true` = dark. Zeroised on drop.
pub struct QrMatrix {
    width: usize,
    dark: Zeroizing<Vec<bool>>,
}

impl QrMatrix {
    /// Encodes `text` in byte mode at [`QR_EC_LEVEL`].
    ///
    /// # Panics
    /// If `text` does not fit a version-40 symbol at that level (1663 bytes).
    pub fn encode(text: &str) -> Self {
        let code = QrCode::with_error_correction_level(text.as_bytes(), QR_EC_LEVEL)
            .expect("share token too long for a QR code");
        let width = code.width();
        let dark = Zeroizing::new(
            code.to_colors()
                .into_iter()
                .map(|c| c == Color::Dark)
                .collect(),
        );
        QrMatrix { width, dark }
    }

    /// Modules per side, without the quiet zone.
    pub fn width(&self) -> usize {
        self.width
    }

    /// Whether the module at column `x`, row `y` is dark (`false` outside the symbol).
    pub fn is_dark(&self, x: usize, y: usize) -> bool {
        x < self.width && y < self.width && self.dark[y * self.width + x]
    }

    /// Horizontal runs of dark modules: (row, first column, length). Keeps vector output small.
    pub fn dark_runs(&self) -> Vec<(usize, usize, usize)> {
        let mut runs = Vec::new();
        for y in 0..self.width {
            let mut x = 0;
            while x < self.width {
                if self.is_dark(x, y) {
                    let start = x;
                    while x < self.width && self.is_dark(x, y) {
                        x += 1;
                    }
                    runs.push((y, start, x - start));
                } else {
                    x += 1;
                }
            }
        }
        runs
    }
}
