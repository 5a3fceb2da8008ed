//! QR code for a terminal: Unicode half blocks, two module rows per text line.

use std::fmt::Write as _;

use zeroize::Zeroizing;

use super::qr::{QUIET_ZONE, QrMatrix};

/// ANSI: black foreground on bright-white background, so dark modules stay dark on any theme.
const START: &str = "\x1b[30;107m";
const RESET: &str = "\x1b[0m";

/// The half-block drawing, with the ANSI colours (for a terminal) or without (for a file or a
/// pipe, where escape codes would only be noise).
pub(super) fn render(qr: &QrMatrix, colours: bool) -> Zeroizing<String> {
    let q = QUIET_ZONE;
    let side = qr.width() + 2 * q;
    let dark = |x: usize, y: usize| x >= q && y >= q && qr.is_dark(x - q, y - q);
    let mut out = Zeroizing::new(String::with_capacity((side + 12) * side.div_ceil(2) * 3));
    for row in (0..side).step_by(2) {
        if colours {
            out.push_str(START);
        }
        for x in 0..side {
            let top = dark(x, row);
            let bottom = row + 1 < side && dark(x, row + 1);
            out.push(match (top, bottom) {
                (true, true) => '█',
                (true, false) => '▀',
                (false, true) => '▄',
                (false, false) => ' ',
            });
        }
        if colours {
            let _ = write!(out, "{RESET}");
        }
        out.push('\n');
    }
    out
}
