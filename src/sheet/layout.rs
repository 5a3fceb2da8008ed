//! Page layout in PostScript points (origin top-left, y down), shared by all back-ends.
//!
//! [`layout`] places every text line, rule and the QR code; the PDF, SVG and PNG writers
//! only translate these items into their own drawing commands.

use zeroize::Zeroize;

use super::fonts::{self, Face};
use super::qr::{QUIET_ZONE, QrMatrix};
use super::{Paper, SheetData};

/// One line of text; `y` is the baseline.
pub struct Text {
    /// Left edge of the first character, in points from the page's left edge.
    pub x: f32,
    /// Baseline, in points from the page's top edge.
    pub y: f32,
    /// Font size in points (the em).
    pub size: f32,
    /// Typeface.
    pub face: Face,
    /// 0.0 = black, 1.0 = white.
    pub gray: f32,
    /// The characters drawn (may be share words: zeroised with the page).
    pub text: String,
}

/// A filled rectangle (rules and boxes); `(x, y)` is the top-left corner.
pub struct Rect {
    /// Left edge, in points from the page's left edge.
    pub x: f32,
    /// Top edge, in points from the page's top edge.
    pub y: f32,
    /// Width in points.
    pub w: f32,
    /// Height in points.
    pub h: f32,
    /// Fill: 0.0 = black, 1.0 = white.
    pub gray: f32,
}

/// The QR code: `(x, y)` is the top-left corner of the quiet zone.
pub struct QrPlacement {
    /// Left edge of the quiet zone, in points from the page's left edge.
    pub x: f32,
    /// Top edge of the quiet zone, in points from the page's top edge.
    pub y: f32,
    /// Module edge in points (a whole number of pixels at 300 dpi).
    pub module: f32,
    /// The symbol's modules (without the quiet zone).
    pub matrix: QrMatrix,
}

/// Everything drawn on one page. Text is zeroised on drop (it holds the share words).
pub struct Page {
    /// Page width in points.
    pub width: f32,
    /// Page height in points.
    pub height: f32,
    /// Document title (PDF `/Title`, SVG `<title>`): the sheet's heading.
    pub title: String,
    /// Every text line, in drawing order.
    pub texts: Vec<Text>,
    /// Every filled rectangle (rules and frames).
    pub rects: Vec<Rect>,
    /// Where the QR code goes.
    pub qr: QrPlacement,
}

impl Drop for Page {
    fn drop(&mut self) {
        for t in &mut self.texts {
            t.text.zeroize();
        }
    }
}

const MARGIN_X: f32 = 50.0;
const MARGIN_TOP: f32 = 44.0;
const MARGIN_BOTTOM: f32 = 36.0;
const LABEL_GRAY: f32 = 0.38;
const BODY: f32 = 8.8;
/// Words per row of the fallback word table.
const WORD_COLUMNS: usize = 4;

/// Custodian instructions, one paragraph each.
pub const INSTRUCTIONS: [&str; 5] = [
    "Store this sheet in a safe place that only you control, such as a home safe or a bank deposit box.",
    "Never copy, scan or photograph it outside a ceremony, and never type the words into any other device or website.",
    "On its own this sheet recovers nothing; a quorum of sheets recovers the vault's keys. Never hand it to another custodian.",
    "At a ceremony: bring this sheet; the officers scan its QR code (or you read out the words) on the ceremony computer; nothing from it is kept, and you take the sheet home again.",
    "If it is lost, damaged or seen by anyone else, tell the officers at once so that the shares can be reissued.",
];

/// Recovery hints for the case where custody itself is unavailable.
pub const RECOVERY_HINTS: [&str; 2] = [
    "These words are a standard SLIP-39 share: any SLIP-39 implementation can recover the master secret from a quorum of them.",
    "shares-format.md in the custody repository says how keys are derived from the master secret.",
];

pub(super) fn identity_lines(d: &SheetData) -> [String; 3] {
    [
        format!("Custodian: {}", d.custodian),
        format!("Group: {}", d.group),
        share_line(d),
    ]
}

fn share_line(d: &SheetData) -> String {
    if d.member_threshold == 1 && d.member_count > 1 {
        // The group's one share, held in copies (the words are the same on every copy).
        return format!(
            "Copy {} of group {}'s one share \u{2014} any 1 of its {} holders recovers this group",
            d.member_number, d.group, d.member_count
        );
    }
    format!(
        "Share {} of group {} \u{2014} any {} of {} recover this group",
        d.member_number, d.group, d.member_threshold, d.member_count
    )
}

fn groups_line(d: &SheetData) -> String {
    format!(
        "Recovery policy ({} of {} groups needed)",
        d.group_threshold, d.group_count
    )
}

fn words_heading(d: &SheetData) -> String {
    format!(
        "Recovery words \u{2014} SLIP-39 share, {} words (type these if the QR code cannot be read)",
        d.words.len()
    )
}

const QR_CAPTION: &str = "Share token \u{2014} scanned by the officers at a ceremony";

/// The sheet's text in reading order, paragraphs unwrapped.
pub(super) fn text_lines(d: &SheetData) -> Vec<String> {
    let mut out = vec![d.title.clone()];
    out.extend(identity_lines(d));
    out.push(groups_line(d));
    out.extend(d.policy_lines.iter().cloned());
    out.push(format!("Vault fingerprint: {}", d.fingerprint));
    out.push(format!("Vault id: {}", d.vault_id));
    out.push(format!("Created: {}", d.created));
    out.push(format!("Epoch: {}", d.epoch));
    out.push(format!("[QR code] {QR_CAPTION}"));
    out.push(words_heading(d));
    out.extend(
        d.words
            .iter()
            .enumerate()
            .map(|(i, w)| format!("{}. {w}", i + 1)),
    );
    out.push("Custodian instructions".into());
    out.extend(INSTRUCTIONS.iter().map(|s| s.to_string()));
    out.push("Recovery without custody".into());
    out.extend(RECOVERY_HINTS.iter().map(|s| s.to_string()));
    out
}

struct Builder {
    texts: Vec<Text>,
    rects: Vec<Rect>,
}

impl Builder {
    fn text(&mut self, x: f32, y: f32, size: f32, face: Face, gray: f32, text: impl Into<String>) {
        self.texts.push(Text {
            x,
            y,
            size,
            face,
            gray,
            text: text.into(),
        });
    }
    fn rule(&mut self, x: f32, y: f32, w: f32, h: f32, gray: f32) {
        self.rects.push(Rect { x, y, w, h, gray });
    }
    fn frame(&mut self, x: f32, y: f32, w: f32, h: f32, t: f32, gray: f32) {
        self.rule(x, y, w, t, gray);
        self.rule(x, y + h - t, w, t, gray);
        self.rule(x, y, t, h, gray);
        self.rule(x + w - t, y, t, h, gray);
    }
    /// Wrapped paragraph starting with its first baseline at `y`; returns the next baseline.
    #[allow(clippy::too_many_arguments)]
    fn paragraph(
        &mut self,
        x: f32,
        y: f32,
        w: f32,
        size: f32,
        face: Face,
        lead: f32,
        text: &str,
    ) -> f32 {
        let mut y = y;
        for line in fonts::wrap(face, size, text, w) {
            self.text(x, y, size, face, 0.0, line);
            y += lead;
        }
        y
    }
    /// Section heading: small bold label with a hairline under it; returns the next baseline.
    fn heading(&mut self, x: f32, y: f32, w: f32, text: &str) -> f32 {
        self.text(x, y, 9.5, Face::SansBold, 0.0, text);
        self.rule(x, y + 3.5, w, 0.5, 0.55);
        y + 15.0
    }
}

/// Lays out one sheet on `paper`.
pub fn layout(d: &SheetData, paper: Paper) -> Page {
    // Largest QR module (whole pixels at 300 dpi) that lets everything fit on the page.
    for px in (5..=12).rev() {
        let page = layout_with(
            d,
            paper,
            QrMatrix::encode(&d.token),
            px as f32 * 72.0 / 300.0,
        );
        if page.fits {
            return page.page;
        }
    }
    layout_with(d, paper, QrMatrix::encode(&d.token), 5.0 * 72.0 / 300.0).page
}

struct Attempt {
    page: Page,
    fits: bool,
}

fn layout_with(d: &SheetData, paper: Paper, matrix: QrMatrix, module: f32) -> Attempt {
    let (pw, ph) = paper.size_pt();
    let left = MARGIN_X;
    let width = pw - 2.0 * MARGIN_X;
    let mut b = Builder {
        texts: Vec::new(),
        rects: Vec::new(),
    };

    // Title and identity.
    let mut y = MARGIN_TOP + 16.0;
    for line in fonts::wrap(Face::SansBold, 17.0, &d.title, width) {
        b.text(left, y, 17.0, Face::SansBold, 0.0, line);
        y += 20.0;
    }
    b.rule(left, y - 12.0, width, 1.2, 0.0);
    y += 8.0;
    let col2 = left + width * 0.56;
    b.text(left, y, 7.5, Face::Sans, LABEL_GRAY, "CUSTODIAN");
    b.text(col2, y, 7.5, Face::Sans, LABEL_GRAY, "GROUP");
    y += 16.0;
    let name_w = col2 - left - 10.0;
    let name_lines = fonts::wrap(Face::SansBold, 15.0, &d.custodian, name_w);
    let group_lines = fonts::wrap(Face::SansBold, 15.0, &d.group, pw - MARGIN_X - col2);
    for (i, line) in name_lines.iter().enumerate() {
        b.text(
            left,
            y + i as f32 * 18.0,
            15.0,
            Face::SansBold,
            0.0,
            line.clone(),
        );
    }
    for (i, line) in group_lines.iter().enumerate() {
        b.text(
            col2,
            y + i as f32 * 18.0,
            15.0,
            Face::SansBold,
            0.0,
            line.clone(),
        );
    }
    y += name_lines.len().max(group_lines.len()) as f32 * 18.0;
    y = b.paragraph(left, y, width, 11.0, Face::Sans, 14.0, &share_line(d));
    y += 6.0;
    b.text(
        left,
        y,
        7.5,
        Face::Sans,
        LABEL_GRAY,
        groups_line(d).to_uppercase(),
    );
    y += 12.0;
    for line in &d.policy_lines {
        y = b.paragraph(left + 8.0, y, width - 8.0, 9.5, Face::Sans, 12.0, line);
    }
    y += 4.0;

    // QR code (left) and vault identity (right).
    let side = (matrix.width() + 2 * QUIET_ZONE) as f32 * module;
    let qr_top = y;
    let qr = QrPlacement {
        x: left - QUIET_ZONE as f32 * module,
        y: qr_top,
        module,
        matrix,
    };
    let rx = left + side - (QUIET_ZONE as f32 * module) + 18.0;
    let rw = pw - MARGIN_X - rx;
    let mut ry = qr_top + QUIET_ZONE as f32 * module + 8.0;
    b.text(
        rx,
        ry,
        7.5,
        Face::Sans,
        LABEL_GRAY,
        "VAULT FINGERPRINT (READ ALOUD TO CHECK)",
    );
    ry += 8.0;
    let fp_size = fit_size(Face::MonoBold, &d.fingerprint, rw - 16.0, 19.0);
    b.frame(rx, ry, rw, fp_size + 16.0, 1.0, 0.0);
    b.text(
        rx + 8.0,
        ry + 8.0 + fp_size * 0.8,
        fp_size,
        Face::MonoBold,
        0.0,
        d.fingerprint.clone(),
    );
    ry += fp_size + 16.0 + 18.0;
    b.text(rx, ry, 7.5, Face::Sans, LABEL_GRAY, "VAULT ID");
    ry += 12.0;
    let id_chars = ((rw / fonts::text_width(Face::Mono, 8.5, "0")).floor() as usize).max(8);
    let id: Vec<char> = d.vault_id.chars().collect();
    for chunk in id.chunks(id_chars) {
        b.text(
            rx,
            ry,
            8.5,
            Face::Mono,
            0.0,
            chunk.iter().collect::<String>(),
        );
        ry += 11.0;
    }
    ry += 8.0;
    b.text(rx, ry, 7.5, Face::Sans, LABEL_GRAY, "CREATED");
    b.text(rx + rw * 0.55, ry, 7.5, Face::Sans, LABEL_GRAY, "EPOCH");
    ry += 14.0;
    b.text(rx, ry, 11.0, Face::Sans, 0.0, d.created.clone());
    b.text(
        rx + rw * 0.55,
        ry,
        11.0,
        Face::Sans,
        0.0,
        d.epoch.to_string(),
    );
    ry += 22.0;
    let cap_bottom = qr_top + side - QUIET_ZONE as f32 * module;
    let cap_lines = fonts::wrap(Face::Sans, BODY, QR_CAPTION, rw);
    let mut cy = (cap_bottom - (cap_lines.len() as f32 - 1.0) * 11.0).max(ry);
    for line in cap_lines {
        b.text(rx, cy, BODY, Face::Sans, LABEL_GRAY, line);
        cy += 11.0;
    }
    y = (qr_top + side).max(cy) + 10.0;

    // Fallback words.
    y = heading_wrapped(&mut b, left, y, width, &words_heading(d));
    let rows = d.words.len().div_ceil(WORD_COLUMNS);
    let col_w = width / WORD_COLUMNS as f32;
    let num_w = fonts::text_width(Face::Sans, 9.0, "00.");
    for (i, word) in d.words.iter().enumerate() {
        let (col, row) = (i / rows, i % rows);
        let x = left + col as f32 * col_w;
        let wy = y + 2.0 + row as f32 * 15.5;
        let num = format!("{}.", i + 1);
        let nx = x + num_w - fonts::text_width(Face::Sans, 9.0, &num);
        b.text(nx, wy, 9.0, Face::Sans, LABEL_GRAY, num);
        b.text(x + num_w + 5.0, wy, 11.5, Face::MonoBold, 0.0, word.clone());
    }
    y += 2.0 + rows as f32 * 15.5 + 6.0;

    // Instructions and recovery hints.
    y = heading_wrapped(&mut b, left, y, width, "Custodian instructions");
    for p in INSTRUCTIONS {
        b.text(left + 2.0, y, BODY, Face::Sans, 0.0, "\u{2022}");
        y = b.paragraph(left + 11.0, y, width - 11.0, BODY, Face::Sans, 11.0, p) + 2.0;
    }
    y += 6.0;
    y = heading_wrapped(&mut b, left, y, width, "Recovery without custody");
    for p in RECOVERY_HINTS {
        y = b.paragraph(left, y, width, BODY, Face::Sans, 11.0, p) + 2.0;
    }
    let fits = y - 11.0 <= ph - MARGIN_BOTTOM;

    Attempt {
        page: Page {
            width: pw,
            height: ph,
            title: d.title.clone(),
            texts: b.texts,
            rects: b.rects,
            qr,
        },
        fits,
    }
}

fn heading_wrapped(b: &mut Builder, x: f32, y: f32, w: f32, text: &str) -> f32 {
    let lines = fonts::wrap(Face::SansBold, 9.5, text, w);
    let n = lines.len();
    let mut y = y;
    for (i, line) in lines.into_iter().enumerate() {
        if i + 1 == n {
            return b.heading(x, y, w, &line);
        }
        b.text(x, y, 9.5, Face::SansBold, 0.0, line);
        y += 12.0;
    }
    y
}

/// Largest size up to `max` at which `text` fits in `width` points.
fn fit_size(face: Face, text: &str, width: f32, max: f32) -> f32 {
    let w = fonts::text_width(face, max, text);
    if w <= width {
        max
    } else {
        (max * width / w).max(6.0)
    }
}
