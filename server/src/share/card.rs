//! Preview cards: the PNG picture a chat app or social site shows beside a
//! share link, drawn from an SVG composed in code (usvg lays out the text,
//! resvg rasterises).
//!
//! A card names no one: it says how often an anonymous sharer took part,
//! the book and school of their latest participation, the campaign's total,
//! and carries a QR code of the link. The same function draws the campaign
//! card of `/`, which has no sharer. Drawing takes milliseconds of CPU, so
//! it is a plain synchronous function for the server to run off its async
//! threads, and [`card_key`] names a card by what it shows, so it can be
//! served under an immutable URL and drawn again only when that changes.

use qrcode::EcLevel;
use resvg::{tiny_skia, usvg};
use sha2::{Digest, Sha256};

use super::fonts::{Fonts, Measurer, Weight};
use super::svg::{Anchor, QrGrid, Svg, TextStyle, grouped};
use super::texts;
use super::wrap::wrap;

/// Bump when the layout changes, so cards drawn before get new keys. (The
/// texts are part of the key already.)
const LAYOUT_VERSION: u32 = 1;

/// The card's background, the site's paper colour.
const PAPER: &str = "#fffdf7";
/// The site's brown, for its name and the top band.
const BRAND: &str = "#7a4b00";
/// Main text.
const INK: &str = "#222";
/// Secondary text and English.
const MUTED: &str = "#666";

/// The picture sizes sharing targets expect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CardVariant {
    /// 1200 × 630 px: Open Graph and Twitter's `summary_large_image`.
    Og,
    /// 1000 × 800 px (5:4): the cover of a mini-program share.
    Mini,
    /// 300 × 300 px: a square thumbnail (chat link previews, `summary`).
    Thumb,
}

impl CardVariant {
    /// Every variant, e.g. to draw them all.
    pub const ALL: [Self; 3] = [Self::Og, Self::Mini, Self::Thumb];

    /// Width and height in pixels.
    pub fn size(self) -> (u32, u32) {
        match self {
            Self::Og => (1200, 630),
            Self::Mini => (1000, 800),
            Self::Thumb => (300, 300),
        }
    }

    /// A short lowercase name, for URLs and logs (`og`, `mini`, `thumb`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Og => "og",
            Self::Mini => "mini",
            Self::Thumb => "thumb",
        }
    }
}

/// What a card shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardData {
    /// The person who shared the link, or `None` for the campaign card.
    pub sharer: Option<Sharer>,
    /// Participations counted in the whole campaign.
    pub campaign_total: u64,
    /// The link the QR code leads to (absolute, e.g.
    /// `https://example.org/s/AbC123`).
    pub share_url: String,
}

/// The sharer, anonymous: only what they did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sharer {
    /// Their counted participations.
    pub participations: u64,
    /// The book of their latest participation, if it has a number (a
    /// participation beyond every sponsor pledge has none yet).
    pub latest_book: Option<CardBook>,
}

/// A book, and its school once it has one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardBook {
    /// The book's number in the campaign, from 1.
    pub number: u64,
    /// The school that receives it, or `None` while it is being funded or
    /// waits for a school.
    pub school: Option<CardSchool>,
}

/// Where a book goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardSchool {
    pub name: String,
    /// County (县), as in the school list.
    pub county: String,
    /// Province (省).
    pub province: String,
}

/// Why a card could not be drawn.
#[derive(Debug, thiserror::Error)]
pub enum CardError {
    /// The share URL is too long for a QR code (about 2,300 bytes).
    #[error("the share URL ({0} bytes) is too long for a QR code")]
    UrlTooLong(usize),
    /// The composed SVG did not parse: a bug in this module.
    #[error("the card's SVG is invalid: {0}")]
    Svg(#[from] usvg::Error),
    /// Encoding the PNG failed.
    #[error("encoding the card as PNG: {0}")]
    Png(String),
}

/// Draws the card of `data` in `variant` as a PNG of exactly
/// [`CardVariant::size`] pixels. CPU-bound (a few milliseconds): call it off
/// the async threads.
pub fn draw_card(
    fonts: &Fonts,
    data: &CardData,
    variant: CardVariant,
) -> Result<Vec<u8>, CardError> {
    let composed = compose(fonts, data, variant)?;
    let tree = usvg::Tree::from_str(&composed.svg, &super::svg_options(fonts))?;
    let (width, height) = variant.size();
    let mut pixmap =
        tiny_skia::Pixmap::new(width, height).expect("card sizes are non-zero and small");
    resvg::render(
        &tree,
        tiny_skia::Transform::identity(),
        &mut pixmap.as_mut(),
    );
    pixmap
        .encode_png()
        .map_err(|error| CardError::Png(error.to_string()))
}

/// A name for the card of `data` in `variant` that changes exactly when
/// what the card shows changes: the first 16 hexadecimal digits of a
/// SHA-256 over every field drawn, the variant, the fixed texts and the
/// layout version. Equal keys, equal pictures.
pub fn card_key(data: &CardData, variant: CardVariant) -> String {
    let mut hasher = Sha256::new();
    let mut field = |bytes: &[u8]| {
        // Length-prefixed, so no two different cards encode alike.
        hasher.update((bytes.len() as u64).to_le_bytes());
        hasher.update(bytes);
    };
    field(b"dream-fairy-card");
    field(&LAYOUT_VERSION.to_le_bytes());
    for text in texts::ALL {
        field(text.as_bytes());
    }
    field(variant.name().as_bytes());
    field(data.share_url.as_bytes());
    field(&data.campaign_total.to_le_bytes());
    match &data.sharer {
        None => field(b"campaign"),
        Some(sharer) => {
            field(b"sharer");
            field(&sharer.participations.to_le_bytes());
            match &sharer.latest_book {
                None => field(b"no book"),
                Some(book) => {
                    field(b"book");
                    field(&book.number.to_le_bytes());
                    match &book.school {
                        None => field(b"no school"),
                        Some(school) => {
                            field(b"school");
                            field(school.name.as_bytes());
                            field(school.county.as_bytes());
                            field(school.province.as_bytes());
                        }
                    }
                }
            }
        }
    }
    let digest = hasher.finalize();
    hex::encode(&digest[..8])
}

/// A card's SVG and where its QR code is, for the layout tests.
#[derive(Debug)]
struct Composed {
    svg: String,
    /// The QR code with its quiet zone: x, y and side in pixels.
    #[cfg_attr(not(test), expect(dead_code, reason = "read by the layout tests"))]
    qr: (f32, f32, f32),
}

/// Sizes of the two-column layouts (text left, QR code right), in pixels.
struct Columns {
    margin: f32,
    /// Between the text and the QR code.
    gutter: f32,
    /// The most the QR code with its quiet zone may take on a side.
    qr_side: f32,
    /// Multiplies every font size.
    scale: f32,
}

fn compose(fonts: &Fonts, data: &CardData, variant: CardVariant) -> Result<Composed, CardError> {
    // Level M: a card is seen on a screen, where codes stay clean, and M
    // keeps the modules larger than Q would.
    let qr = QrGrid::new(&data.share_url, EcLevel::M)
        .ok_or(CardError::UrlTooLong(data.share_url.len()))?;
    let measurer = fonts.measurer();
    Ok(match variant {
        CardVariant::Og => compose_columns(
            &measurer,
            data,
            &qr,
            variant,
            &Columns {
                margin: 56.0,
                gutter: 48.0,
                qr_side: 336.0,
                scale: 1.0,
            },
        ),
        CardVariant::Mini => compose_columns(
            &measurer,
            data,
            &qr,
            variant,
            &Columns {
                margin: 52.0,
                gutter: 40.0,
                qr_side: 320.0,
                scale: 0.92,
            },
        ),
        CardVariant::Thumb => compose_thumb(&measurer, data, &qr),
    })
}

fn style(size: f32, weight: Weight, fill: &'static str) -> TextStyle {
    TextStyle { size, weight, fill }
}

/// Text flowing down a column, one line after another.
struct Column<'a> {
    svg: &'a mut Svg,
    measurer: &'a Measurer<'a>,
    x: f32,
    width: f32,
    /// Top of the next line.
    y: f32,
}

impl Column<'_> {
    /// `text` wrapped to at most `max_lines` lines.
    fn paragraph(&mut self, text: &str, style: TextStyle, max_lines: usize) {
        let lines = wrap(text, self.width, max_lines, |char| {
            self.measurer.advance(char, style.weight, style.size)
        });
        for line in lines {
            self.svg
                .text(self.x, style.baseline(self.y), &line, style, Anchor::Start);
            self.y += style.line_height();
        }
    }

    /// One line of Chinese with its English beside it when both fit, else
    /// the Chinese alone (shortened if it must be).
    fn line_with_english(&mut self, zh: &str, zh_style: TextStyle, en: &str, en_style: TextStyle) {
        let zh_width = self.measurer.width(zh, zh_style.weight, zh_style.size);
        let space = en_style.size * 0.6;
        let en_width = self.measurer.width(en, en_style.weight, en_style.size);
        if zh_width + space + en_width <= self.width {
            let baseline = zh_style.baseline(self.y);
            self.svg.text(self.x, baseline, zh, zh_style, Anchor::Start);
            self.svg.text(
                self.x + zh_width + space,
                baseline,
                en,
                en_style,
                Anchor::Start,
            );
            self.y += zh_style.line_height();
        } else {
            self.paragraph(zh, zh_style, 1);
        }
    }

    fn gap(&mut self, height: f32) {
        self.y += height;
    }
}

fn sharer_line_zh(participations: u64) -> String {
    format!(
        "{}{}{}",
        texts::SHARER_ZH_BEFORE,
        grouped(participations),
        texts::SHARER_ZH_AFTER
    )
}

fn sharer_line_en(participations: u64) -> String {
    if participations == 1 {
        texts::SHARER_EN_ONCE.to_owned()
    } else {
        format!(
            "{}{}{}",
            texts::SHARER_EN_BEFORE,
            grouped(participations),
            texts::SHARER_EN_AFTER
        )
    }
}

fn total_line_zh(total: u64) -> String {
    format!(
        "{}{}{}",
        texts::TOTAL_ZH_BEFORE,
        grouped(total),
        texts::TOTAL_ZH_AFTER
    )
}

/// The Og and Mini cards: the words in a column on the left, the QR code
/// and "scan to play" on the right.
fn compose_columns(
    measurer: &Measurer<'_>,
    data: &CardData,
    qr: &QrGrid,
    variant: CardVariant,
    layout: &Columns,
) -> Composed {
    let (width, height) = variant.size();
    let (width, height) = (width as f32, height as f32);
    let scale = layout.scale;
    let mut svg = Svg::new(width, height, PAPER);
    svg.rect(0.0, 0.0, width, 10.0, BRAND);

    // The QR code: whole pixels per module keep its edges sharp.
    let module = (layout.qr_side / qr.side_with_quiet_zone() as f32)
        .floor()
        .max(1.0);
    let qr_side = module * qr.side_with_quiet_zone() as f32;
    let caption_zh = style(26.0 * scale, Weight::Bold, INK);
    let caption_en = style(19.0 * scale, Weight::Regular, MUTED);
    let qr_block = qr_side + caption_zh.line_height() + caption_en.line_height();
    let qr_x = width - layout.margin - qr_side;
    let qr_y = ((height - qr_block) / 2.0).max(layout.margin);
    svg.qr(qr, qr_x, qr_y, module);
    let caption_x = qr_x + qr_side / 2.0;
    let mut caption_top = qr_y + qr_side;
    svg.text(
        caption_x,
        caption_zh.baseline(caption_top),
        texts::SCAN_ZH,
        caption_zh,
        Anchor::Middle,
    );
    caption_top += caption_zh.line_height();
    svg.text(
        caption_x,
        caption_en.baseline(caption_top),
        texts::SCAN_EN,
        caption_en,
        Anchor::Middle,
    );

    let column_width = qr_x - layout.gutter - layout.margin;
    let mut column = Column {
        svg: &mut svg,
        measurer,
        x: layout.margin,
        width: column_width,
        y: layout.margin,
    };
    column.line_with_english(
        texts::SITE_ZH,
        style(34.0 * scale, Weight::Bold, BRAND),
        texts::SITE_EN,
        style(20.0 * scale, Weight::Regular, MUTED),
    );
    column.gap(24.0 * scale);
    let headline = style(50.0 * scale, Weight::Bold, INK);
    let headline_en = style(22.0 * scale, Weight::Regular, MUTED);
    let detail = style(26.0 * scale, Weight::Regular, INK);
    let detail_en = style(19.0 * scale, Weight::Regular, MUTED);
    match &data.sharer {
        Some(sharer) => {
            column.paragraph(&sharer_line_zh(sharer.participations), headline, 2);
            column.paragraph(&sharer_line_en(sharer.participations), headline_en, 1);
        }
        None => {
            column.paragraph(texts::CAMPAIGN_ZH, headline, 2);
            column.paragraph(texts::CAMPAIGN_EN, headline_en, 1);
        }
    }
    column.gap(22.0 * scale);
    match data
        .sharer
        .as_ref()
        .and_then(|sharer| sharer.latest_book.as_ref())
    {
        Some(book) => {
            let number = grouped(book.number);
            column.line_with_english(
                &format!("{}{number}{}", texts::BOOK_ZH_BEFORE, texts::BOOK_ZH_AFTER),
                detail,
                &format!("{}{number}", texts::BOOK_EN),
                detail_en,
            );
            column.gap(6.0 * scale);
            match &book.school {
                Some(school) => {
                    let name = style(34.0 * scale, Weight::Regular, INK);
                    column.paragraph(&format!("{}{}", texts::SCHOOL_ZH, school.name), name, 2);
                    let place = style(24.0 * scale, Weight::Regular, MUTED);
                    column.paragraph(&format!("{} {}", school.province, school.county), place, 1);
                }
                None => {
                    column.paragraph(texts::SCHOOL_PENDING_ZH, detail, 2);
                    column.paragraph(texts::SCHOOL_PENDING_EN, detail_en, 1);
                }
            }
        }
        None => {
            column.paragraph(texts::HOW_IT_WORKS_ZH, detail, 2);
            column.paragraph(texts::HOW_IT_WORKS_EN, detail_en, 2);
        }
    }

    // The campaign total sits at the bottom of the column.
    let total = style(26.0 * scale, Weight::Bold, BRAND);
    let total_en = style(19.0 * scale, Weight::Regular, MUTED);
    column.y = height - layout.margin - total.line_height() - total_en.line_height();
    column.paragraph(&total_line_zh(data.campaign_total), total, 1);
    column.paragraph(
        &format!("{}{}", grouped(data.campaign_total), texts::TOTAL_EN_AFTER),
        total_en,
        1,
    );

    Composed {
        svg: svg.finish(),
        qr: (qr_x, qr_y, qr_side),
    }
}

/// The square thumbnail: the site's name, a large QR code, and one line:
/// the sharer's count, or the campaign's total.
fn compose_thumb(measurer: &Measurer<'_>, data: &CardData, qr: &QrGrid) -> Composed {
    let (width, height) = CardVariant::Thumb.size();
    let (width, height) = (width as f32, height as f32);
    let margin = 12.0;
    let mut svg = Svg::new(width, height, PAPER);
    svg.rect(0.0, 0.0, width, 6.0, BRAND);
    let title = style(22.0, Weight::Bold, BRAND);
    let line = style(17.0, Weight::Bold, INK);
    let title_top = margin;
    svg.text(
        width / 2.0,
        title.baseline(title_top),
        texts::SITE_ZH,
        title,
        Anchor::Middle,
    );

    let qr_top = title_top + title.line_height() + 4.0;
    let line_top = height - margin - line.line_height();
    let room = (line_top - 4.0 - qr_top).min(width - 2.0 * margin);
    let module = (room / qr.side_with_quiet_zone() as f32).floor().max(1.0);
    let qr_side = module * qr.side_with_quiet_zone() as f32;
    let qr_x = ((width - qr_side) / 2.0).round();
    let qr_y = (qr_top + (room - qr_side) / 2.0).round();
    svg.qr(qr, qr_x, qr_y, module);

    let text = match &data.sharer {
        Some(sharer) => sharer_line_zh(sharer.participations),
        None => total_line_zh(data.campaign_total),
    };
    let lines = wrap(&text, width - 2.0 * margin, 1, |char| {
        measurer.advance(char, line.weight, line.size)
    });
    for text in lines {
        svg.text(
            width / 2.0,
            line.baseline(line_top),
            &text,
            line,
            Anchor::Middle,
        );
    }
    Composed {
        svg: svg.finish(),
        qr: (qr_x, qr_y, qr_side),
    }
}

#[cfg(test)]
mod tests {
    use super::super::fonts::testing::fonts;
    use super::super::testing::{decode_qr, save_artifact, text_nodes};
    use super::*;

    const URL: &str = "https://yuanmeng.example.org/s/Ab3dE9xK";

    fn school(name: &str) -> CardSchool {
        CardSchool {
            name: name.to_owned(),
            county: "平塘县".to_owned(),
            province: "贵州省".to_owned(),
        }
    }

    fn sharer_card(school_name: &str) -> CardData {
        CardData {
            sharer: Some(Sharer {
                participations: 12,
                latest_book: Some(CardBook {
                    number: 3_456,
                    school: Some(school(school_name)),
                }),
            }),
            campaign_total: 1_234_567,
            share_url: URL.to_owned(),
        }
    }

    /// Every kind of card the server draws, with a short name for files.
    fn every_kind_of_card() -> Vec<(&'static str, CardData)> {
        let long_name = "黔南布依族苗族自治州平塘县某某镇某某村第一中心完全小学附属幼儿园教学点分校（虚构示例）";
        assert!(long_name.chars().count() >= 40, "the long name is long");
        let mut no_school = sharer_card("");
        no_school
            .sharer
            .as_mut()
            .unwrap()
            .latest_book
            .as_mut()
            .unwrap()
            .school = None;
        let mut no_book = sharer_card("");
        no_book.sharer.as_mut().unwrap().latest_book = None;
        vec![
            (
                "a sharer whose book has a school",
                sharer_card("平塘县示例小学"),
            ),
            ("a school name of 40+ characters", sharer_card(long_name)),
            ("a book without a school yet", no_school),
            ("a sharer without a book", no_book),
            (
                "the campaign card",
                CardData {
                    sharer: None,
                    campaign_total: 987_654_321,
                    share_url: URL.to_owned(),
                },
            ),
        ]
    }

    fn png_size_and_pixels(png: &[u8]) -> tiny_skia::Pixmap {
        tiny_skia::Pixmap::decode_png(png).expect("draw_card returns a valid PNG")
    }

    #[test]
    fn each_variant_has_its_exact_size_and_a_qr_code_of_the_link() {
        for (kind, data) in every_kind_of_card() {
            for variant in CardVariant::ALL {
                let png = draw_card(fonts(), &data, variant)
                    .unwrap_or_else(|error| panic!("{kind}, {variant:?}: {error}"));
                let pixmap = png_size_and_pixels(&png);
                assert_eq!(
                    (pixmap.width(), pixmap.height()),
                    variant.size(),
                    "{kind}, {variant:?}: the PNG's size"
                );
                assert_eq!(
                    decode_qr(&pixmap).as_deref(),
                    Some(URL),
                    "{kind}, {variant:?}: the QR code reads back as the share URL"
                );
                let file = format!("card-{}-{}.png", kind.replace(' ', "-"), variant.name());
                save_artifact(&file, &png);
            }
        }
    }

    #[test]
    fn cards_are_not_blank() {
        let png = draw_card(fonts(), &sharer_card("平塘县示例小学"), CardVariant::Og).unwrap();
        let pixmap = png_size_and_pixels(&png);
        let mut colours: Vec<[u8; 4]> = pixmap
            .pixels()
            .iter()
            .map(|pixel| [pixel.red(), pixel.green(), pixel.blue(), pixel.alpha()])
            .collect();
        colours.sort_unstable();
        colours.dedup();
        assert!(
            colours.len() > 20,
            "text is anti-aliased into many shades, found {} colours",
            colours.len()
        );
        // The text column (left of the QR code) holds dark ink: the words.
        let dark_text_pixels = (0..pixmap.height())
            .flat_map(|y| (0..700).map(move |x| (x, y)))
            .filter(|&(x, y)| {
                let pixel = pixmap.pixel(x, y).unwrap();
                u16::from(pixel.red()) + u16::from(pixel.green()) + u16::from(pixel.blue()) < 200
            })
            .count();
        assert!(
            dark_text_pixels > 5_000,
            "the text column has only {dark_text_pixels} dark pixels"
        );
    }

    #[test]
    fn text_stays_inside_the_card_and_off_the_qr_code() {
        for (kind, data) in every_kind_of_card() {
            for variant in CardVariant::ALL {
                let composed = compose(fonts(), &data, variant).unwrap();
                let (width, height) = variant.size();
                let (qr_x, qr_y, qr_side) = composed.qr;
                assert!(
                    qr_x >= 0.0
                        && qr_y >= 0.0
                        && qr_x + qr_side <= width as f32
                        && qr_y + qr_side <= height as f32,
                    "{kind}, {variant:?}: the QR code {:?} is inside the card",
                    composed.qr
                );
                for (text, bounds) in text_nodes(fonts(), &composed.svg) {
                    let inside = bounds.left() >= 0.0
                        && bounds.top() >= 0.0
                        && bounds.right() <= width as f32
                        && bounds.bottom() <= height as f32;
                    assert!(
                        inside,
                        "{kind}, {variant:?}: {text:?} at {bounds:?} leaves the card"
                    );
                    let on_qr = bounds.right() > qr_x
                        && bounds.left() < qr_x + qr_side
                        && bounds.bottom() > qr_y
                        && bounds.top() < qr_y + qr_side;
                    assert!(
                        !on_qr,
                        "{kind}, {variant:?}: {text:?} at {bounds:?} covers the QR code"
                    );
                }
            }
        }
    }

    #[test]
    fn cards_show_what_they_should_and_no_forbidden_words() {
        for (kind, data) in every_kind_of_card() {
            let composed = compose(fonts(), &data, CardVariant::Og).unwrap();
            let shown: String = text_nodes(fonts(), &composed.svg)
                .into_iter()
                .map(|(text, _)| text)
                .collect::<Vec<_>>()
                // Wrapped lines read as one text.
                .concat();
            assert!(
                shown.contains(texts::SITE_ZH),
                "{kind}: the site's name: {shown}"
            );
            assert!(
                shown.contains("1,234,567") || shown.contains("987,654,321"),
                "{kind}: the total: {shown}"
            );
            for word in texts::FORBIDDEN_WORDS {
                assert!(
                    !shown.to_lowercase().contains(word),
                    "{kind}: {word:?} in {shown}"
                );
            }
            match &data.sharer {
                Some(sharer) => {
                    assert!(
                        shown.contains("一位同学参与了 12 次"),
                        "{kind}: the count: {shown}"
                    );
                    if let Some(CardBook {
                        school: Some(school),
                        ..
                    }) = &sharer.latest_book
                    {
                        assert!(shown.contains("第 3,456 本书"), "{kind}: the book: {shown}");
                        assert!(
                            shown.contains("贵州省 平塘县"),
                            "{kind}: the place: {shown}"
                        );
                        let start: String = school.name.chars().take(8).collect();
                        assert!(shown.contains(&start), "{kind}: the school's name: {shown}");
                    }
                }
                None => assert!(
                    shown.contains(texts::CAMPAIGN_ZH),
                    "{kind}: the campaign: {shown}"
                ),
            }
        }
    }

    #[test]
    fn a_long_school_name_is_shortened_with_an_ellipsis() {
        let name = "某".repeat(80);
        let composed = compose(fonts(), &sharer_card(&name), CardVariant::Og).unwrap();
        let shown: Vec<String> = text_nodes(fonts(), &composed.svg)
            .into_iter()
            .map(|(text, _)| text)
            .collect();
        let school_lines: Vec<&String> =
            shown.iter().filter(|text| text.contains("某某")).collect();
        assert_eq!(school_lines.len(), 2, "two lines of school name: {shown:?}");
        assert!(
            school_lines[1].ends_with('…'),
            "the second ends with …: {shown:?}"
        );
    }

    #[test]
    fn card_keys_change_exactly_with_what_is_shown() {
        let card = sharer_card("平塘县示例小学");
        let key = card_key(&card, CardVariant::Og);
        assert_eq!(key.len(), 16, "16 hex digits: {key}");
        assert!(
            key.chars().all(|char| char.is_ascii_hexdigit()),
            "hex: {key}"
        );
        assert_eq!(
            key,
            card_key(&card.clone(), CardVariant::Og),
            "the same card, the same key"
        );
        let mut changed = Vec::new();
        let mut more = card.clone();
        more.campaign_total += 1;
        changed.push(("the total", more));
        let mut other_school = card.clone();
        other_school
            .sharer
            .as_mut()
            .unwrap()
            .latest_book
            .as_mut()
            .unwrap()
            .school = Some(school("另一所示例小学"));
        changed.push(("the school", other_school));
        let mut other_url = card.clone();
        other_url.share_url.push('x');
        changed.push(("the URL", other_url));
        let mut campaign = card.clone();
        campaign.sharer = None;
        changed.push(("no sharer", campaign));
        for (what, other) in changed {
            assert_ne!(
                card_key(&other, CardVariant::Og),
                key,
                "changing {what} changes the key"
            );
        }
        assert_ne!(
            card_key(&card, CardVariant::Thumb),
            key,
            "each variant has its own key"
        );
    }

    #[test]
    fn urls_too_long_for_a_qr_code_are_an_error() {
        let mut card = sharer_card("平塘县示例小学");
        card.share_url = format!("https://example.org/{}", "x".repeat(5_000));
        let error = draw_card(fonts(), &card, CardVariant::Og).unwrap_err();
        assert!(matches!(error, CardError::UrlTooLong(_)), "{error:?}");
    }
}
