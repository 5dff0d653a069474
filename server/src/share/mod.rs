//! What people share: preview cards (PNG) and QR posters (A4 PDF) of a
//! share link, drawn with one font subset.
//!
//! - [`fonts`]: the Noto Sans CJK SC subset that `cargo xtask dist` writes
//!   to `dist/fonts/`, loaded once per process into one font database
//!   ([`Fonts`]), which both the cards and the posters use.
//! - [`card`]: [`draw_card`] composes a card as SVG and rasterises it with
//!   resvg; [`card_key`] names a card by what it shows.
//! - [`poster`]: [`poster_pdf`] draws an A4 poster with a large QR code into
//!   a PDF with krilla, the text kept as real, selectable text.
//! - [`texts`]: every fixed word drawn, recognition only.
//! - [`cards`]: serving cards: what a share code's card shows, its
//!   content-hashed file name, and drawing off the async threads, one at a
//!   time, into a bounded cache.
//! - [`meta`]: the Open Graph and Twitter tags of a page.
//! - [`links`]: the handlers: `/s/{code}`, the cards, `robots.txt`.
//! - [`posters`]: a poster's own share code and its PDF, for the command
//!   line and the admin console.
//!
//! Share codes themselves, and who they credit, are the ledger's
//! (`store::rules`): a referred player's first counted round credits the
//! sharer in the transaction that counts it.
//!
//! Both drawings are pure, synchronous functions from plain structs to
//! bytes: no I/O, no clock, and no database type. Cards and posters share
//! one SVG stack (resvg, usvg, tiny-skia and fontdb at the versions
//! krilla-svg uses), and compose their SVG with the same helpers
//! (`svg.rs`, `wrap.rs`), which escape every text and wrap it by the font's
//! real advances.

pub mod card;
pub mod cards;
pub mod fonts;
pub mod links;
pub mod meta;
pub mod poster;
pub mod posters;
mod svg;
pub mod texts;
mod wrap;

pub use card::{
    CardBook, CardData, CardError, CardSchool, CardVariant, Sharer, card_key, draw_card,
};
pub use fonts::{Fonts, FontsError};
pub use poster::{PosterData, PosterError, poster_pdf};

use resvg::usvg;

/// How usvg reads the SVGs composed here: with the subset's database, and
/// its family for any text that names none.
fn svg_options(fonts: &Fonts) -> usvg::Options<'static> {
    usvg::Options {
        font_family: fonts::FAMILY.to_owned(),
        languages: vec!["zh-CN".to_owned(), "en".to_owned()],
        fontdb: fonts.database().clone(),
        ..usvg::Options::default()
    }
}

/// Helpers for the tests of cards and posters: reading back what was drawn.
#[cfg(test)]
mod testing {
    use resvg::{tiny_skia, usvg};

    use super::Fonts;

    /// The text of the first QR code found in `pixmap`, if one decodes.
    pub(crate) fn decode_qr(pixmap: &tiny_skia::Pixmap) -> Option<String> {
        let width = pixmap.width() as usize;
        let pixels = pixmap.pixels();
        let mut image =
            rqrr::PreparedImage::prepare_from_greyscale(width, pixmap.height() as usize, |x, y| {
                let pixel = pixels[y * width + x];
                let sum =
                    u16::from(pixel.red()) + u16::from(pixel.green()) + u16::from(pixel.blue());
                // At most 255: three channels averaged.
                u8::try_from(sum / 3).unwrap_or(u8::MAX)
            });
        image
            .detect_grids()
            .into_iter()
            .find_map(|grid| grid.decode().ok())
            .map(|(_, text)| text)
    }

    /// Keeps `bytes` as `share/<name>` in the artifacts folder
    /// (`DREAMFAIRY_ARTIFACTS`, else `<workspace>/artifacts`), for people to
    /// look at what the tests drew.
    pub(crate) fn save_artifact(name: &str, bytes: &[u8]) {
        let folder = std::env::var_os("DREAMFAIRY_ARTIFACTS")
            .map_or_else(
                || std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../artifacts"),
                std::path::PathBuf::from,
            )
            .join("share");
        std::fs::create_dir_all(&folder).expect("the artifacts folder can be created");
        std::fs::write(folder.join(name), bytes).expect("an artifact can be written");
    }

    /// Every text element of `svg` as usvg lays it out: its characters and
    /// the box of its ink on the canvas (the glyph outlines, not the taller
    /// line box of the font's ascent and descent).
    pub(crate) fn text_nodes(fonts: &Fonts, svg: &str) -> Vec<(String, usvg::Rect)> {
        fn walk(group: &usvg::Group, found: &mut Vec<(String, usvg::Rect)>) {
            for node in group.children() {
                match node {
                    usvg::Node::Group(group) => walk(group, found),
                    usvg::Node::Text(text) => {
                        let content: String =
                            text.chunks().iter().map(|chunk| chunk.text()).collect();
                        found.push((content, text.flattened().abs_bounding_box()));
                    }
                    usvg::Node::Path(_) | usvg::Node::Image(_) => {}
                }
            }
        }
        let tree = usvg::Tree::from_str(svg, &super::svg_options(fonts))
            .unwrap_or_else(|error| panic!("the composed SVG parses: {error}\n{svg}"));
        let mut found = Vec::new();
        walk(tree.root(), &mut found);
        found
    }
}
