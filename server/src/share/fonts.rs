//! The font subset the cards and the posters draw with, loaded once per
//! process from the dist folder (`dist/fonts/`, written by
//! `cargo xtask dist`) into one shared font database.
//!
//! The font is read at run time rather than compiled in, so that a plain
//! `cargo build` works before the pipeline has made the subset, and the
//! binary does not carry 1.5 MB it only needs for sharing.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use resvg::usvg::fontdb;

/// The folder of the fonts below the dist folder.
pub const FONTS_FOLDER: &str = "fonts";
/// The subset files, as `xtask/src/fonts.rs` names them.
pub const REGULAR_FILE: &str = "NotoSansCJKsc-Regular.subset.otf";
pub const BOLD_FILE: &str = "NotoSansCJKsc-Bold.subset.otf";
/// The characters each face must have a glyph for, as the pipeline
/// computed them (line breaks are not part of the set).
pub const REQUIRED_CHARS_FILE: &str = "required-chars.txt";
pub const REQUIRED_BOLD_CHARS_FILE: &str = "required-chars-bold.txt";
/// The family name of both faces, which the SVGs ask for.
pub(crate) const FAMILY: &str = "Noto Sans CJK SC";

/// Why the fonts could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum FontsError {
    /// A subset file is not there: the pipeline has not run.
    #[error(
        "the share font {} is missing: run `cargo xtask dist` (it writes dist/fonts/), \
         or point --dist at a folder it built",
        path.display()
    )]
    Missing { path: PathBuf },
    /// A subset file exists but could not be read.
    #[error("reading the share font {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A subset file is not an OpenType font of the expected family.
    #[error("{} is not the {FAMILY} font subset (run `cargo xtask dist` again)", path.display())]
    Invalid { path: PathBuf },
}

/// The two faces of the subset in one font database, cheap to clone (an
/// `Arc` inside) and shared by every card and poster of the process.
#[derive(Clone)]
pub struct Fonts {
    inner: Arc<Loaded>,
}

struct Loaded {
    database: Arc<fontdb::Database>,
    regular: Arc<Vec<u8>>,
    bold: Arc<Vec<u8>>,
}

impl fmt::Debug for Fonts {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("Fonts")
            .field("faces", &self.inner.database.len())
            .field("regular_bytes", &self.inner.regular.len())
            .field("bold_bytes", &self.inner.bold.len())
            .finish()
    }
}

/// The weight of a run of text. Bold has only ASCII and the fixed texts
/// (`texts.rs`); anything else falls back to Regular, in measuring as in
/// drawing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Weight {
    Regular,
    Bold,
}

impl Weight {
    /// The SVG `font-weight` value.
    pub(crate) fn css(self) -> u16 {
        match self {
            Self::Regular => 400,
            Self::Bold => 700,
        }
    }
}

impl Fonts {
    /// Loads the subset from `dist/fonts/` of the dist folder `dist`.
    pub fn from_dist(dist: &Path) -> Result<Self, FontsError> {
        Self::load(&dist.join(FONTS_FOLDER))
    }

    /// Loads the subset from `folder`, which holds [`REGULAR_FILE`] and
    /// [`BOLD_FILE`].
    pub fn load(folder: &Path) -> Result<Self, FontsError> {
        let regular = read_face(&folder.join(REGULAR_FILE))?;
        let bold = read_face(&folder.join(BOLD_FILE))?;
        let mut database = fontdb::Database::new();
        for face in [&regular, &bold] {
            database.load_font_source(fontdb::Source::Binary(face.clone()));
        }
        // SVGs name the family; a generic `sans-serif` lands on it too.
        database.set_sans_serif_family(FAMILY);
        Ok(Self {
            inner: Arc::new(Loaded {
                database: Arc::new(database),
                regular,
                bold,
            }),
        })
    }

    /// The font database, for `usvg::Options::fontdb`.
    pub fn database(&self) -> &Arc<fontdb::Database> {
        &self.inner.database
    }

    /// The raw bytes of a face (an OpenType font with CFF outlines).
    pub(crate) fn face_bytes(&self, weight: Weight) -> &[u8] {
        match weight {
            Weight::Regular => &self.inner.regular,
            Weight::Bold => &self.inner.bold,
        }
    }

    /// Both faces parsed, for measuring many runs of text.
    pub(crate) fn measurer(&self) -> Measurer<'_> {
        // Both faces were parsed when loaded, so parsing again succeeds.
        let parse = |weight| {
            ttf_parser::Face::parse(self.face_bytes(weight), 0).expect("parsed when loaded")
        };
        Measurer {
            regular: parse(Weight::Regular),
            bold: parse(Weight::Bold),
        }
    }
}

/// Measures text with the real glyph advances of the subset. The subset has
/// no kerning or other layout features, so the sum of the advances is what
/// usvg lays out.
pub(crate) struct Measurer<'a> {
    regular: ttf_parser::Face<'a>,
    bold: ttf_parser::Face<'a>,
}

impl Measurer<'_> {
    /// The advance of `char` at `size` (in the units of `size`, pixels or
    /// points), from the face of `weight`, else from Regular, else the
    /// width of the missing-glyph box.
    pub(crate) fn advance(&self, char: char, weight: Weight, size: f32) -> f32 {
        let primary = match weight {
            Weight::Regular => &self.regular,
            Weight::Bold => &self.bold,
        };
        let advance_in = |face: &ttf_parser::Face<'_>| {
            let glyph = face.glyph_index(char)?;
            let units = face.glyph_hor_advance(glyph)?;
            Some(f32::from(units) / f32::from(face.units_per_em()))
        };
        let em = advance_in(primary)
            .or_else(|| advance_in(&self.regular))
            .or_else(|| {
                let units = self.regular.glyph_hor_advance(ttf_parser::GlyphId(0))?;
                Some(f32::from(units) / f32::from(self.regular.units_per_em()))
            })
            .unwrap_or(1.0);
        em * size
    }

    /// The width of `text` on one line.
    pub(crate) fn width(&self, text: &str, weight: Weight, size: f32) -> f32 {
        text.chars()
            .map(|char| self.advance(char, weight, size))
            .sum()
    }
}

fn read_face(path: &Path) -> Result<Arc<Vec<u8>>, FontsError> {
    let bytes = std::fs::read(path).map_err(|source| {
        if source.kind() == std::io::ErrorKind::NotFound {
            FontsError::Missing { path: path.into() }
        } else {
            FontsError::Read {
                path: path.into(),
                source,
            }
        }
    })?;
    let is_the_family = ttf_parser::Face::parse(&bytes, 0).is_ok_and(|face| {
        face.names().into_iter().any(|name| {
            name.name_id == ttf_parser::name_id::FAMILY
                && name.to_string().as_deref() == Some(FAMILY)
        })
    });
    if !is_the_family {
        return Err(FontsError::Invalid { path: path.into() });
    }
    Ok(Arc::new(bytes))
}

/// Where tests find the built fonts: the dist folder of `DREAMFAIRY_DIST`
/// (set by `cargo xtask test`), else `dist/` of the workspace. A missing font
/// fails the test with what to run, never skips it.
#[cfg(test)]
pub(crate) mod testing {
    use std::path::PathBuf;
    use std::sync::OnceLock;

    use super::*;

    pub(crate) fn dist_dir() -> PathBuf {
        std::env::var_os("DREAMFAIRY_DIST").map_or_else(
            || Path::new(env!("CARGO_MANIFEST_DIR")).join("../dist"),
            PathBuf::from,
        )
    }

    /// The fonts, loaded once for all the tests of the process.
    pub(crate) fn fonts() -> &'static Fonts {
        static FONTS: OnceLock<Fonts> = OnceLock::new();
        FONTS.get_or_init(|| {
            Fonts::from_dist(&dist_dir())
                .unwrap_or_else(|error| panic!("the share tests need the font subset: {error}"))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::testing::{dist_dir, fonts};
    use super::*;

    /// Every character of `list_file` that `face` has no glyph for.
    fn missing_glyphs(list_file: &str, weight: Weight) -> Vec<char> {
        let path = dist_dir().join(FONTS_FOLDER).join(list_file);
        let required = std::fs::read_to_string(&path).unwrap_or_else(|error| {
            panic!(
                "{} is missing ({error}): run `cargo xtask dist`",
                path.display()
            )
        });
        let face = ttf_parser::Face::parse(fonts().face_bytes(weight), 0).unwrap();
        let required: Vec<char> = required.chars().filter(|char| *char != '\n').collect();
        assert!(
            required.len() > 90,
            "{list_file} lists only {} characters",
            required.len()
        );
        required
            .into_iter()
            .filter(|char| face.glyph_index(*char).is_none_or(|glyph| glyph.0 == 0))
            .collect()
    }

    #[test]
    fn the_regular_subset_has_a_glyph_for_every_required_character() {
        let missing = missing_glyphs(REQUIRED_CHARS_FILE, Weight::Regular);
        assert!(
            missing.is_empty(),
            "Regular has no glyph for {} characters: {}",
            missing.len(),
            missing.iter().collect::<String>()
        );
    }

    #[test]
    fn the_bold_subset_has_a_glyph_for_every_fixed_text_character() {
        let missing = missing_glyphs(REQUIRED_BOLD_CHARS_FILE, Weight::Bold);
        assert!(
            missing.is_empty(),
            "Bold has no glyph for {} characters: {}",
            missing.len(),
            missing.iter().collect::<String>()
        );
        let face = ttf_parser::Face::parse(fonts().face_bytes(Weight::Bold), 0).unwrap();
        for text in crate::share::texts::ALL {
            let missing: String = text
                .chars()
                .filter(|char| face.glyph_index(*char).is_none())
                .collect();
            assert!(missing.is_empty(), "Bold lacks {missing:?} of {text:?}");
        }
    }

    #[test]
    fn the_database_holds_both_weights_of_the_family() {
        let database = fonts().database();
        let mut weights: Vec<u16> = database
            .faces()
            .filter(|face| face.families.iter().any(|(name, _)| name == FAMILY))
            .map(|face| face.weight.0)
            .collect();
        weights.sort_unstable();
        assert_eq!(
            weights,
            [400, 700],
            "one Regular and one Bold {FAMILY} face"
        );
    }

    #[test]
    fn measuring_uses_the_real_advances() {
        let measurer = fonts().measurer();
        let wide = measurer.width("图书馆", Weight::Regular, 100.0);
        assert!(
            (wide - 300.0).abs() < 1.0,
            "CJK glyphs are one em wide: {wide}"
        );
        let narrow = measurer.width("ill", Weight::Regular, 100.0);
        assert!(
            narrow < 100.0,
            "Latin is proportional, `ill` is narrow: {narrow}"
        );
        let bold_fallback = measurer.width("啊", Weight::Bold, 100.0);
        assert!(
            (bold_fallback - 100.0).abs() < 1.0,
            "a character missing in Bold is measured in Regular: {bold_fallback}"
        );
    }

    #[test]
    fn a_missing_folder_says_to_run_the_pipeline() {
        let error = Fonts::load(Path::new("/nonexistent/fonts")).unwrap_err();
        assert!(
            matches!(error, FontsError::Missing { .. }),
            "missing, not {error:?}"
        );
        assert!(
            error.to_string().contains("cargo xtask dist"),
            "the message says what to run: {error}"
        );
    }
}
