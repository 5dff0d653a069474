//! QR posters: one A4 page to print and pin up in a classroom or at an
//! event, with a headline, one line of explanation, an optional class or
//! event label, and a QR code of the share link large enough to scan from
//! across a room.
//!
//! The page is composed as SVG with the same helpers as the cards and
//! turned into PDF by krilla (through krilla-svg): the text stays real text
//! (selectable, searchable, read by screen readers) in the font subset,
//! which krilla embeds subsetted again to just the glyphs on the page.

use krilla::geom::Size;
use krilla::metadata::Metadata;
use krilla::page::PageSettings;
use krilla_svg::{SurfaceExt as _, SvgSettings};
use qrcode::EcLevel;
use resvg::usvg;

use super::fonts::{Fonts, Weight};
use super::svg::{Anchor, QrGrid, Svg, TextStyle};
use super::texts;
use super::wrap::wrap;

/// A4 in PDF points (1/72 inch): 210 × 297 mm.
pub const A4_WIDTH_PT: f32 = 210.0 * POINTS_PER_MM;
pub const A4_HEIGHT_PT: f32 = 297.0 * POINTS_PER_MM;
const POINTS_PER_MM: f32 = 72.0 / 25.4;
/// Width of the QR symbol itself, without its quiet zone: at least this (a
/// phone reads it from about two metres away), and up to
/// [`QR_SYMBOL_MAX_MM`] where the page has room.
pub const QR_SYMBOL_MIN_MM: f32 = 82.0;
pub const QR_SYMBOL_MAX_MM: f32 = 100.0;

const MARGIN: f32 = 40.0;
const BRAND: &str = "#7a4b00";
const INK: &str = "#222";
const MUTED: &str = "#555";

/// What a poster shows besides its fixed texts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PosterData {
    /// The link the QR code leads to (absolute). It is printed under the
    /// code without its `https://`, for people who type it.
    pub share_url: String,
    /// Who the poster is for, e.g. "三年级二班" or an event's name; shown
    /// above the QR code. Long labels are wrapped to two lines and
    /// shortened with "…".
    pub label: Option<String>,
}

/// Why a poster could not be made.
#[derive(Debug, thiserror::Error)]
pub enum PosterError {
    /// The share URL is too long for a QR code at level Q.
    #[error("the share URL ({0} bytes) is too long for a QR code")]
    UrlTooLong(usize),
    /// The composed SVG did not parse: a bug in this module.
    #[error("the poster's SVG is invalid: {0}")]
    Svg(#[from] usvg::Error),
    /// krilla could not write the PDF (e.g. embedding the font failed).
    #[error("writing the poster's PDF: {0}")]
    Pdf(String),
}

/// The poster of `data` as a one-page A4 PDF. CPU-bound (tens of
/// milliseconds): call it off the async threads.
pub fn poster_pdf(fonts: &Fonts, data: &PosterData) -> Result<Vec<u8>, PosterError> {
    let composed = compose(fonts, data)?;
    let tree = usvg::Tree::from_str(&composed.svg, &super::svg_options(fonts))?;
    let size = Size::from_wh(A4_WIDTH_PT, A4_HEIGHT_PT).expect("A4 is a valid size");
    let mut document = krilla::Document::new();
    document.set_metadata(
        Metadata::new()
            .title(format!(
                "{} · {}",
                texts::SITE_ZH,
                texts::POSTER_HEADLINE_ZH
            ))
            .language("zh-CN".to_owned())
            .creator(texts::SITE_EN.to_owned()),
    );
    let mut page = document.start_page_with(PageSettings::new(size));
    let mut surface = page.surface();
    surface.draw_svg(
        &tree,
        size,
        SvgSettings {
            embed_text: true,
            ..SvgSettings::default()
        },
    );
    surface.finish();
    page.finish();
    document
        .finish()
        .map_err(|error| PosterError::Pdf(error.to_string()))
}

/// The address as printed: without the scheme or a trailing slash.
fn printed_url(share_url: &str) -> &str {
    let url = share_url
        .strip_prefix("https://")
        .or_else(|| share_url.strip_prefix("http://"))
        .unwrap_or(share_url);
    url.strip_suffix('/').unwrap_or(url)
}

/// A poster's SVG and where its QR code is, for the layout tests.
#[derive(Debug)]
struct Composed {
    svg: String,
    /// The QR code with its quiet zone: x, y and side in points.
    #[cfg_attr(not(test), expect(dead_code, reason = "read by the layout tests"))]
    qr: (f32, f32, f32),
}

fn style(size: f32, weight: Weight, fill: &'static str) -> TextStyle {
    TextStyle { size, weight, fill }
}

fn compose(fonts: &Fonts, data: &PosterData) -> Result<Composed, PosterError> {
    // Level Q: a printed poster gets creased, smudged and photographed at an
    // angle; Q still reads with a quarter of the code damaged.
    let qr = QrGrid::new(&data.share_url, EcLevel::Q)
        .ok_or(PosterError::UrlTooLong(data.share_url.len()))?;
    let measurer = fonts.measurer();
    let (width, height) = (A4_WIDTH_PT, A4_HEIGHT_PT);
    let text_width = width - 2.0 * MARGIN;
    let mut svg = Svg::new(width, height, "#fff");
    svg.rect(0.0, 0.0, width, 8.0, BRAND);

    // Lines flow down from the top of the page.
    let mut y = MARGIN;
    let lines = |svg: &mut Svg, y: &mut f32, text: &str, style: TextStyle, max_lines| {
        let wrapped = wrap(text, text_width, max_lines, |char| {
            measurer.advance(char, style.weight, style.size)
        });
        for line in wrapped {
            svg.text(MARGIN, style.baseline(*y), &line, style, Anchor::Start);
            *y += style.line_height();
        }
    };

    let site = style(18.0, Weight::Bold, BRAND);
    let site_en = style(10.0, Weight::Regular, MUTED);
    let site_width = measurer.width(texts::SITE_ZH, site.weight, site.size);
    svg.text(
        MARGIN,
        site.baseline(y),
        texts::SITE_ZH,
        site,
        Anchor::Start,
    );
    svg.text(
        MARGIN + site_width + 8.0,
        site.baseline(y),
        texts::SITE_EN,
        site_en,
        Anchor::Start,
    );
    y += site.line_height() + 14.0;
    lines(
        &mut svg,
        &mut y,
        texts::POSTER_HEADLINE_ZH,
        style(26.0, Weight::Bold, INK),
        3,
    );
    lines(
        &mut svg,
        &mut y,
        texts::POSTER_HEADLINE_EN,
        style(11.0, Weight::Regular, MUTED),
        2,
    );
    y += 10.0;
    lines(
        &mut svg,
        &mut y,
        texts::POSTER_LINE_ZH,
        style(12.0, Weight::Regular, INK),
        3,
    );
    lines(
        &mut svg,
        &mut y,
        texts::POSTER_LINE_EN,
        style(10.0, Weight::Regular, MUTED),
        3,
    );
    y += 12.0;

    if let Some(label) = data
        .label
        .as_deref()
        .map(str::trim)
        .filter(|label| !label.is_empty())
    {
        let label_style = style(20.0, Weight::Regular, INK);
        let padding = 8.0;
        let frame_lines = wrap(label, text_width - 2.0 * padding, 2, |char| {
            measurer.advance(char, label_style.weight, label_style.size)
        });
        let frame_height = frame_lines.len() as f32 * label_style.line_height() + 2.0 * padding;
        svg.frame(
            (MARGIN, y, text_width, frame_height),
            8.0,
            "#fffaf0",
            BRAND,
            1.2,
        );
        let mut line_top = y + padding;
        for line in frame_lines {
            svg.text(
                width / 2.0,
                label_style.baseline(line_top),
                &line,
                label_style,
                Anchor::Middle,
            );
            line_top += label_style.line_height();
        }
        y += frame_height + 12.0;
    }

    // The QR block (code, caption, address) is as large as the room left
    // above the footer allows, within its bounds, and centred in it.
    let caption = style(13.0, Weight::Regular, MUTED);
    let url_style = style(18.0, Weight::Bold, INK);
    let url_lines = wrap(printed_url(&data.share_url), text_width, 2, |char| {
        measurer.advance(char, url_style.weight, url_style.size)
    });
    let footer = style(10.0, Weight::Regular, MUTED);
    let footer_top = height - MARGIN - footer.line_height();
    let words_height = caption.line_height() + url_lines.len() as f32 * url_style.line_height();
    let room = footer_top - y;
    let symbol_share = qr.modules() as f32 / qr.side_with_quiet_zone() as f32;
    let symbol_mm = ((room - words_height - 24.0) * symbol_share / POINTS_PER_MM)
        .clamp(QR_SYMBOL_MIN_MM, QR_SYMBOL_MAX_MM);
    let module = symbol_mm * POINTS_PER_MM / qr.modules() as f32;
    let qr_side = module * qr.side_with_quiet_zone() as f32;
    let block_height = qr_side + words_height;
    let qr_y = y + ((room - block_height) / 2.0).max(0.0);
    let qr_x = (width - qr_side) / 2.0;
    svg.qr(&qr, qr_x, qr_y, module);
    let mut below = qr_y + qr_side;
    let scan = format!("{} {}", texts::POSTER_SCAN_ZH, texts::POSTER_SCAN_EN);
    svg.text(
        width / 2.0,
        caption.baseline(below),
        &scan,
        caption,
        Anchor::Middle,
    );
    below += caption.line_height();
    for line in url_lines {
        svg.text(
            width / 2.0,
            url_style.baseline(below),
            &line,
            url_style,
            Anchor::Middle,
        );
        below += url_style.line_height();
    }
    let footer_text = format!("{} {}", texts::SITE_ZH, texts::SITE_EN);
    svg.text(
        width / 2.0,
        footer.baseline(footer_top),
        &footer_text,
        footer,
        Anchor::Middle,
    );

    Ok(Composed {
        svg: svg.finish(),
        qr: (qr_x, qr_y, qr_side),
    })
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::process::Command;

    use resvg::tiny_skia;

    use super::super::fonts::testing::fonts;
    use super::super::testing::{decode_qr, save_artifact, text_nodes};
    use super::*;

    const URL: &str = "https://yuanmeng.example.org/s/Ab3dE9xK";

    fn poster(label: Option<&str>) -> PosterData {
        PosterData {
            share_url: URL.to_owned(),
            label: label.map(str::to_owned),
        }
    }

    /// Runs a poppler-utils tool, failing the test with what to install
    /// when it is missing.
    fn poppler(tool: &str, args: &[&std::ffi::OsStr]) -> Vec<u8> {
        let output = Command::new(tool)
            .args(args)
            .output()
            .unwrap_or_else(|error| {
                panic!(
                    "the poster tests need `{tool}` ({error}): install poppler-utils \
                 (`apt-get install poppler-utils`; `cargo xtask test` does it as root)"
                )
            });
        assert!(
            output.status.success(),
            "{tool} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        output.stdout
    }

    fn write_pdf(folder: &Path, data: &PosterData) -> std::path::PathBuf {
        let pdf = poster_pdf(fonts(), data).unwrap_or_else(|error| panic!("{error}"));
        assert!(pdf.starts_with(b"%PDF-"), "a PDF file");
        let path = folder.join("poster.pdf");
        std::fs::write(&path, pdf).unwrap();
        path
    }

    #[test]
    fn the_poster_is_one_a4_page() {
        let folder = tempfile::tempdir().unwrap();
        let pdf = write_pdf(folder.path(), &poster(Some("三年级二班")));
        let info = String::from_utf8(poppler("pdfinfo", &[pdf.as_os_str()])).unwrap();
        assert!(
            info.lines()
                .any(|line| line.split_whitespace().eq(["Pages:", "1"])),
            "one page: {info}"
        );
        let size_line = info
            .lines()
            .find(|line| line.starts_with("Page size:"))
            .unwrap_or_else(|| panic!("pdfinfo gives a page size: {info}"));
        let numbers: Vec<f32> = size_line
            .split_whitespace()
            .filter_map(|word| word.parse().ok())
            .collect();
        assert!(
            matches!(numbers[..], [width, height, ..] if (width - 595.0).abs() < 1.0 && (height - 842.0).abs() < 1.0),
            "A4 is 595 × 842 pt: {size_line}"
        );
    }

    #[test]
    fn the_poster_text_is_real_text_with_the_headline_and_the_address() {
        let folder = tempfile::tempdir().unwrap();
        let label = "某某小学 2025 读书节 & <活动>";
        let pdf = write_pdf(folder.path(), &poster(Some(label)));
        let text = poppler("pdftotext", &[pdf.as_os_str(), "-".as_ref()]);
        let text = String::from_utf8(text).expect("pdftotext writes UTF-8");
        // Lines may break anywhere in Chinese: compare without white space.
        let joined: String = text.split_whitespace().collect();
        for (what, expected) in [
            ("the headline", texts::POSTER_HEADLINE_ZH),
            ("the short address", printed_url(URL)),
            ("the label", "某某小学2025读书节&<活动>"),
            ("the site's name", texts::SITE_ZH),
        ] {
            assert!(
                joined.contains(expected),
                "{what} {expected:?} is in the text: {text}"
            );
        }
        for word in texts::FORBIDDEN_WORDS {
            assert!(!joined.to_lowercase().contains(word), "{word:?} in {text}");
        }
    }

    #[test]
    fn the_printed_qr_code_reads_back_as_the_share_url() {
        let folder = tempfile::tempdir().unwrap();
        let pdf = write_pdf(folder.path(), &poster(Some("三年级二班")));
        let prefix = folder.path().join("page");
        poppler(
            "pdftoppm",
            &[
                "-r".as_ref(),
                "150".as_ref(),
                "-png".as_ref(),
                "-singlefile".as_ref(),
                pdf.as_os_str(),
                prefix.as_os_str(),
            ],
        );
        let png = std::fs::read(prefix.with_extension("png")).unwrap();
        save_artifact("poster.png", &png);
        save_artifact("poster.pdf", &std::fs::read(&pdf).unwrap());
        let page = tiny_skia::Pixmap::decode_png(&png).expect("pdftoppm writes a PNG");
        // 595.28 pt at 150 dpi is 1240.2 pixels, which pdftoppm rounds up.
        assert_eq!((page.width(), page.height()), (1241, 1754), "A4 at 150 dpi");
        assert_eq!(
            decode_qr(&page).as_deref(),
            Some(URL),
            "the QR code on paper"
        );
    }

    #[test]
    fn the_qr_code_is_large_with_its_quiet_zone_and_nothing_on_it() {
        for label in [
            None,
            Some("三年级二班"),
            Some(&*"很长的活动名称".repeat(20)),
        ] {
            let composed = compose(fonts(), &poster(label)).unwrap();
            let (qr_x, qr_y, qr_side) = composed.qr;
            let qr = QrGrid::new(URL, EcLevel::Q).unwrap();
            let symbol_mm =
                qr_side / POINTS_PER_MM * qr.modules() as f32 / qr.side_with_quiet_zone() as f32;
            assert!(symbol_mm >= 80.0, "the symbol is {symbol_mm} mm wide");
            assert!(
                qr_x >= 0.0
                    && qr_x + qr_side <= A4_WIDTH_PT
                    && qr_y >= 0.0
                    && qr_y + qr_side <= A4_HEIGHT_PT,
                "{label:?}: the QR code {:?} is on the page",
                composed.qr
            );
            for (text, bounds) in text_nodes(fonts(), &composed.svg) {
                let on_page = bounds.left() >= 0.0
                    && bounds.top() >= 0.0
                    && bounds.right() <= A4_WIDTH_PT
                    && bounds.bottom() <= A4_HEIGHT_PT;
                assert!(on_page, "{label:?}: {text:?} at {bounds:?} leaves the page");
                let on_qr = bounds.right() > qr_x
                    && bounds.left() < qr_x + qr_side
                    && bounds.bottom() > qr_y
                    && bounds.top() < qr_y + qr_side;
                assert!(
                    !on_qr,
                    "{label:?}: {text:?} at {bounds:?} covers the QR code"
                );
            }
        }
    }

    #[test]
    fn addresses_are_printed_without_their_scheme() {
        for (url, printed) in [
            ("https://example.org/s/abc", "example.org/s/abc"),
            ("http://example.org/", "example.org"),
            ("example.org/s/x", "example.org/s/x"),
        ] {
            assert_eq!(printed_url(url), printed, "{url}");
        }
    }
}
