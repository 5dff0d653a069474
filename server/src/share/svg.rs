//! Composing the SVG documents of cards and posters in code: rectangles,
//! lines of text and QR codes, with every piece of text XML-escaped, so
//! that a school name from an imported list can never become markup.
//!
//! Coordinates are in the document's own unit: pixels for cards, points
//! for posters.

use std::fmt::Write as _;

use qrcode::{Color, EcLevel, QrCode};

use super::fonts::{FAMILY, Weight};

/// White space around a QR code, in modules: the 4 that ISO/IEC 18004 asks
/// for, so that phone cameras find the code on any background.
pub(crate) const QUIET_ZONE_MODULES: usize = 4;

/// Where a line of text is anchored at its `x`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Anchor {
    Start,
    Middle,
}

/// How a line of text looks.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TextStyle {
    /// Font size, in the document's unit.
    pub size: f32,
    pub weight: Weight,
    /// An SVG colour, e.g. `#222`.
    pub fill: &'static str,
}

impl TextStyle {
    /// Height of one line: the em box and a little air.
    pub(crate) fn line_height(&self) -> f32 {
        self.size * 1.3
    }

    /// The baseline of a line whose box starts at `top`: the CJK em box
    /// (0.88 em above the baseline, 0.12 below in Noto Sans CJK) centred in
    /// the line.
    pub(crate) fn baseline(&self, top: f32) -> f32 {
        top + (self.line_height() - self.size) / 2.0 + 0.88 * self.size
    }
}

/// An SVG document being written.
#[derive(Debug)]
pub(crate) struct Svg {
    out: String,
}

impl Svg {
    /// A `width` × `height` document filled with `background`.
    pub(crate) fn new(width: f32, height: f32, background: &str) -> Self {
        let mut svg = Self {
            out: String::with_capacity(16 * 1024),
        };
        svg.write(format_args!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" \
             viewBox=\"0 0 {width} {height}\" font-family=\"{FAMILY}\">"
        ));
        svg.rect(0.0, 0.0, width, height, background);
        svg
    }

    pub(crate) fn rect(&mut self, x: f32, y: f32, width: f32, height: f32, fill: &str) {
        self.write(format_args!(
            "<rect x=\"{x}\" y=\"{y}\" width=\"{width}\" height=\"{height}\" fill=\"{fill}\"/>"
        ));
    }

    /// A rectangle with rounded corners and an outline.
    pub(crate) fn frame(
        &mut self,
        (x, y, width, height): (f32, f32, f32, f32),
        radius: f32,
        fill: &str,
        stroke: &str,
        stroke_width: f32,
    ) {
        self.write(format_args!(
            "<rect x=\"{x}\" y=\"{y}\" width=\"{width}\" height=\"{height}\" rx=\"{radius}\" \
             fill=\"{fill}\" stroke=\"{stroke}\" stroke-width=\"{stroke_width}\"/>"
        ));
    }

    /// One line of text with its baseline at `baseline`.
    pub(crate) fn text(
        &mut self,
        x: f32,
        baseline: f32,
        text: &str,
        style: TextStyle,
        anchor: Anchor,
    ) {
        let anchor = match anchor {
            Anchor::Start => "start",
            Anchor::Middle => "middle",
        };
        self.write(format_args!(
            "<text x=\"{x}\" y=\"{baseline}\" font-size=\"{}\" font-weight=\"{}\" fill=\"{}\" \
             text-anchor=\"{anchor}\">{}</text>",
            style.size,
            style.weight.css(),
            style.fill,
            escape(text)
        ));
    }

    /// `qr` with its quiet zone, black on white, its top left corner
    /// (outside the quiet zone) at `(x, y)`, each module `module` wide.
    pub(crate) fn qr(&mut self, qr: &QrGrid, x: f32, y: f32, module: f32) {
        let side = qr.side_with_quiet_zone() as f32 * module;
        self.rect(x, y, side, side, "#fff");
        let origin_x = x + QUIET_ZONE_MODULES as f32 * module;
        let origin_y = y + QUIET_ZONE_MODULES as f32 * module;
        // One subpath per horizontal run of dark modules keeps the path a
        // few kilobytes; crispEdges keeps module edges sharp in the PNG.
        self.out
            .push_str("<path fill=\"#000\" shape-rendering=\"crispEdges\" d=\"");
        for row in 0..qr.modules {
            let mut column = 0;
            while column < qr.modules {
                if !qr.is_dark(column, row) {
                    column += 1;
                    continue;
                }
                let run_start = column;
                while column < qr.modules && qr.is_dark(column, row) {
                    column += 1;
                }
                let run = (column - run_start) as f32 * module;
                self.write(format_args!(
                    "M{} {}h{run}v{module}h-{run}z",
                    origin_x + run_start as f32 * module,
                    origin_y + row as f32 * module,
                ));
            }
        }
        self.out.push_str("\"/>");
    }

    pub(crate) fn finish(mut self) -> String {
        self.out.push_str("</svg>");
        self.out
    }

    fn write(&mut self, arguments: std::fmt::Arguments<'_>) {
        // Writing to a String cannot fail.
        let _ = self.out.write_fmt(arguments);
    }
}

/// `text` with the five XML special characters escaped.
pub(crate) fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for char in text.chars() {
        match char {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&apos;"),
            // Control characters are not allowed in XML at all.
            char if char.is_control() => {}
            char => escaped.push(char),
        }
    }
    escaped
}

/// The modules of a QR code.
#[derive(Debug, Clone)]
pub(crate) struct QrGrid {
    modules: usize,
    dark: Vec<bool>,
}

impl QrGrid {
    /// The QR code of `data` at error-correction `level`, or `None` if no
    /// QR code holds that much.
    pub(crate) fn new(data: &str, level: EcLevel) -> Option<Self> {
        let code = QrCode::with_error_correction_level(data.as_bytes(), level).ok()?;
        Some(Self {
            modules: code.width(),
            dark: code
                .to_colors()
                .into_iter()
                .map(|color| color == Color::Dark)
                .collect(),
        })
    }

    /// Modules on a side, without the quiet zone.
    pub(crate) fn modules(&self) -> usize {
        self.modules
    }

    /// Modules on a side, with the quiet zone.
    pub(crate) fn side_with_quiet_zone(&self) -> usize {
        self.modules + 2 * QUIET_ZONE_MODULES
    }

    fn is_dark(&self, column: usize, row: usize) -> bool {
        self.dark[row * self.modules + column]
    }
}

/// `number` with thousands separators, as Chinese pages write counts:
/// `1,234,567`.
pub(crate) fn grouped(number: u64) -> String {
    let digits = number.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_so_names_cannot_become_markup() {
        let style = TextStyle {
            size: 10.0,
            weight: Weight::Regular,
            fill: "#000",
        };
        let mut svg = Svg::new(100.0, 100.0, "#fff");
        svg.text(
            0.0,
            10.0,
            "<tspan>\"A&B\" 'x'</tspan>\u{7}",
            style,
            Anchor::Start,
        );
        let svg = svg.finish();
        assert!(
            svg.contains("&lt;tspan&gt;&quot;A&amp;B&quot; &apos;x&apos;&lt;/tspan&gt;</text>"),
            "every special character escaped, control characters dropped: {svg}"
        );
        assert!(!svg.contains("<tspan>"), "no markup from text: {svg}");
    }

    #[test]
    fn qr_codes_are_one_path_of_runs_inside_a_quiet_zone() {
        let qr = QrGrid::new("https://example.org/s/abc", EcLevel::M).expect("a short URL fits");
        assert_eq!(qr.modules() % 4, 1, "QR sides are 17 + 4 × version modules");
        assert_eq!(
            qr.side_with_quiet_zone(),
            qr.modules() + 8,
            "4 modules each side"
        );
        let mut svg = Svg::new(200.0, 200.0, "#eee");
        svg.qr(&qr, 10.0, 10.0, 2.0);
        let svg = svg.finish();
        assert_eq!(svg.matches("<path").count(), 1, "one path: {svg}");
        // The finder pattern's top row is the first run, 7 modules long,
        // starting after the quiet zone.
        assert!(svg.contains("d=\"M18 18h14v2h-14z"), "first run: {svg}");
    }

    #[test]
    fn urls_too_long_for_a_qr_code_give_none() {
        let long = "x".repeat(5_000);
        assert!(
            QrGrid::new(&long, EcLevel::Q).is_none(),
            "no QR code holds 5,000 bytes"
        );
    }

    #[test]
    fn counts_are_grouped_by_thousands() {
        for (number, expected) in [
            (0, "0"),
            (999, "999"),
            (1_000, "1,000"),
            (1_234_567, "1,234,567"),
        ] {
            assert_eq!(grouped(number), expected, "{number}");
        }
    }
}
