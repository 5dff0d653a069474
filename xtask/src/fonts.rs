//! The CJK font subset the share cards and posters draw with, written to
//! `dist/fonts/` by `cargo xtask dist` (or alone by `cargo xtask fonts`).
//!
//! The source is Debian's `fonts-noto-cjk` (SIL OFL 1.1): the Simplified
//! Chinese face of its `.ttc` collections. `pyftsubset` (fontTools, pinned,
//! installed from PyPI into a virtual environment under the target folder)
//! keeps only the characters the server can ever need to draw:
//!
//! - Regular: all of GB2312, every character of the 832 poverty counties'
//!   reference list and of the demo data, printable ASCII, and the fixed
//!   texts of the cards and posters (`server/src/share/texts.rs`);
//! - Bold: printable ASCII and those fixed texts only, because only the
//!   headings are bold. Names from imported school lists are drawn in
//!   Regular, so the bold face stays a few dozen kilobytes.
//!
//! The subset is cached under the target folder by a hash of its inputs, so
//! a second run copies it instead of subsetting again. The character lists
//! are written beside the fonts so that the server's tests can check that
//! every required character has a glyph.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail, ensure};
use sha2::{Digest, Sha256};
use xshell::{Shell, cmd};

use crate::setup::{ensure_python_package, is_root};
use crate::workspace::Workspace;

/// The Debian package holding the source fonts.
const FONT_PACKAGE: &str = "fonts-noto-cjk";
/// Its collections: one file per weight, one face per region inside.
const SOURCE_REGULAR: &str = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc";
const SOURCE_BOLD: &str = "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc";
/// The face of each collection that is subset (Simplified Chinese glyph
/// forms). Its index in the collection is looked up by this name, so a
/// repackaged collection in another order still gives the SC face.
const FAMILY: &str = "Noto Sans CJK SC";
/// fontTools from PyPI, pinned so that the same inputs give the same subset.
const FONTTOOLS_VERSION: &str = "4.61.1";

/// The reference list of poverty counties, relative to the workspace root
/// (the project's shared data folder sits beside the clone).
const COUNTIES_CSV: &str = "../shared/data/poverty_counties_832.csv";
/// Every `.csv` of this folder is demo data the cards may show.
const DEMO_DIR: &str = "assets/demo";
/// The fixed texts of the cards and posters: every character of this file is
/// kept (its comments too, which costs a handful of glyphs and means nobody
/// has to remember to list a new character).
const FIXED_TEXTS: &str = "server/src/share/texts.rs";
/// The OFL text with the fonts' copyright notice, copied beside the subset.
const LICENCE: &str = "assets/fonts/OFL.txt";

/// File names in `dist/fonts/`. The server's `share::fonts` module reads
/// the same names.
pub const REGULAR_FILE: &str = "NotoSansCJKsc-Regular.subset.otf";
pub const BOLD_FILE: &str = "NotoSansCJKsc-Bold.subset.otf";
const REGULAR_CHARS_FILE: &str = "required-chars.txt";
const BOLD_CHARS_FILE: &str = "required-chars-bold.txt";
const LICENCE_FILE: &str = "OFL.txt";

/// Writes the font subset, its character lists and its licence to
/// `dist/fonts/`, subsetting only when the inputs changed since the cached
/// run.
pub fn build(ws: &Workspace) -> Result<()> {
    let fixed_texts = read_text(&ws.root.join(FIXED_TEXTS))?;
    let mut bold_chars = printable_ascii();
    bold_chars.extend(drawable_chars(&fixed_texts));
    let mut regular_chars = gb2312_chars();
    regular_chars.extend(&bold_chars);
    regular_chars.extend(drawable_chars(&read_text(&ws.root.join(COUNTIES_CSV))?));
    for demo_file in csv_files(&ws.root.join(DEMO_DIR))? {
        regular_chars.extend(drawable_chars(&read_text(&demo_file)?));
    }

    ensure_font_package(&ws.sh)?;
    let faces = [
        (SOURCE_REGULAR, REGULAR_FILE, &regular_chars),
        (SOURCE_BOLD, BOLD_FILE, &bold_chars),
    ];
    let cache = ws
        .target_dir
        .join("xtask")
        .join("fonts")
        .join(&inputs_hash(&faces)?[..16]);
    if cache.join(REGULAR_FILE).exists() && cache.join(BOLD_FILE).exists() {
        eprintln!("xtask: the font subset is up to date");
    } else {
        subset_into(ws, &faces, &cache)?;
    }

    let folder = ws.dist_dir().join("fonts");
    if folder.exists() {
        std::fs::remove_dir_all(&folder)?;
    }
    std::fs::create_dir_all(&folder)?;
    for file in [REGULAR_FILE, BOLD_FILE] {
        std::fs::copy(cache.join(file), folder.join(file))
            .with_context(|| format!("copying {file} from the font cache"))?;
    }
    std::fs::write(
        folder.join(REGULAR_CHARS_FILE),
        char_list_text(&regular_chars),
    )?;
    std::fs::write(folder.join(BOLD_CHARS_FILE), char_list_text(&bold_chars))?;
    std::fs::copy(ws.root.join(LICENCE), folder.join(LICENCE_FILE))
        .with_context(|| format!("copying {LICENCE}"))?;

    for (_, file, chars) in faces {
        let bytes = std::fs::read(folder.join(file))?;
        println!(
            "dist/fonts/{file}: {} bytes ({:.1} KiB), {} glyphs, {} required characters",
            bytes.len(),
            bytes.len() as f64 / 1024.0,
            glyph_count(&bytes).context("the subset has no readable maxp table")?,
            chars.len()
        );
    }
    Ok(())
}

/// Runs `pyftsubset` for each face into a fresh `cache` folder.
fn subset_into(
    ws: &Workspace,
    faces: &[(&str, &str, &BTreeSet<char>)],
    cache: &Path,
) -> Result<()> {
    let venv = ensure_python_package(ws, "fonts-venv", "fonttools", FONTTOOLS_VERSION)?;
    let python = venv.join("bin").join("python");
    let pyftsubset = venv.join("bin").join("pyftsubset");
    let staging = cache.with_extension("partial");
    if staging.exists() {
        std::fs::remove_dir_all(&staging)?;
    }
    std::fs::create_dir_all(&staging)?;
    for (source, file, chars) in faces {
        let index = face_index(&ws.sh, &python, source)?;
        let unicodes = staging.join(format!("{file}.unicodes"));
        std::fs::write(&unicodes, unicodes_file_text(chars))?;
        let output = staging.join(file);
        eprintln!(
            "xtask: subsetting {FAMILY} (face {index} of {source}) to {} characters",
            chars.len()
        );
        let options = SUBSET_OPTIONS;
        let font_number = format!("--font-number={index}");
        cmd!(
            ws.sh,
            "{pyftsubset} {source} {font_number} --unicodes-file={unicodes} --output-file={output} {options...}"
        )
        .run()?;
    }
    if cache.exists() {
        std::fs::remove_dir_all(cache)?;
    }
    // Renamed into place only once both faces are written, so a cache entry
    // is either complete or absent.
    std::fs::rename(&staging, cache)?;
    Ok(())
}

/// How `pyftsubset` trims the faces, beyond the characters.
const SUBSET_OPTIONS: [&str; 6] = [
    // Fail rather than silently drop a character the font does not have.
    "--no-ignore-missing-unicodes",
    // Text is drawn left to right only, so the mirrored forms of brackets
    // and maths symbols are not needed (and some are not in the font).
    "--no-bidi-closure",
    // No OpenType layout features: the server measures text with the glyph
    // advances alone, which is then exactly what is drawn.
    "--layout-features=",
    // Hints do nothing for resvg's anti-aliased drawing nor for PDF viewers
    // at print sizes, and cost about a tenth of the file.
    "--no-hinting",
    // Cards and posters are written horizontally only.
    "--drop-tables+=vhea,vmtx,VORG",
    // Keep the copyright, licence description and licence URL records.
    "--name-IDs=0,1,2,3,4,5,6,13,14",
];

/// Hashes everything that decides the subset's bytes: the source files (by
/// path, size and modification time, as installed by the Debian package),
/// the characters, the options and the fontTools version.
fn inputs_hash(faces: &[(&str, &str, &BTreeSet<char>)]) -> Result<String> {
    let mut hasher = Sha256::new();
    let mut field = |bytes: &[u8]| {
        hasher.update((bytes.len() as u64).to_le_bytes());
        hasher.update(bytes);
    };
    field(FONTTOOLS_VERSION.as_bytes());
    field(FAMILY.as_bytes());
    for option in SUBSET_OPTIONS {
        field(option.as_bytes());
    }
    for (source, file, chars) in faces {
        let metadata = std::fs::metadata(source)
            .with_context(|| format!("reading the metadata of {source}"))?;
        let modified = metadata
            .modified()?
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |since| since.as_nanos());
        field(source.as_bytes());
        field(&metadata.len().to_le_bytes());
        field(&modified.to_le_bytes());
        field(file.as_bytes());
        field(chars.iter().collect::<String>().as_bytes());
    }
    Ok(hex::encode(hasher.finalize()))
}

/// Every character of GB2312: each double-byte code the standard assigns,
/// decoded with `encoding_rs`'s GBK decoder. Rows A1-A9 hold the 682
/// symbols (punctuation, full-width ASCII, kana, Greek, Cyrillic, pinyin,
/// bopomofo, box drawing), rows B0-F7 the 6,763 hanzi. The cells GB2312
/// leaves empty are skipped rather than decoded, because GBK fills some of
/// them with characters outside GB2312.
fn gb2312_chars() -> BTreeSet<char> {
    let mut chars = BTreeSet::new();
    for (lead, trail) in gb2312_codes() {
        let code = [lead, trail];
        let (text, had_errors) = encoding_rs::GBK.decode_without_bom_handling(&code);
        let mut decoded = text.chars();
        if let (false, Some(char), None) = (had_errors, decoded.next(), decoded.next())
            && !is_private_use(char)
        {
            chars.insert(char);
        }
    }
    chars
}

/// The (row, cell) bytes of every code GB2312 assigns.
fn gb2312_codes() -> impl Iterator<Item = (u8, u8)> {
    // Symbol rows: the ranges of cells in use, from the standard's tables.
    const SYMBOL_CELLS: [(u8, &[(u8, u8)]); 9] = [
        (0xA1, &[(0xA1, 0xFE)]),
        (0xA2, &[(0xB1, 0xE2), (0xE5, 0xEE), (0xF1, 0xFC)]),
        (0xA3, &[(0xA1, 0xFE)]),
        (0xA4, &[(0xA1, 0xF3)]),
        (0xA5, &[(0xA1, 0xF6)]),
        (0xA6, &[(0xA1, 0xB8), (0xC1, 0xD8)]),
        (0xA7, &[(0xA1, 0xC1), (0xD1, 0xF1)]),
        (0xA8, &[(0xA1, 0xBA), (0xC5, 0xE9)]),
        (0xA9, &[(0xA4, 0xEF)]),
    ];
    let symbols = SYMBOL_CELLS.into_iter().flat_map(|(lead, ranges)| {
        ranges
            .iter()
            .flat_map(move |&(first, last)| (first..=last).map(move |trail| (lead, trail)))
    });
    // Hanzi rows are full, but for the five last cells of row D7.
    let hanzi = (0xB0..=0xF7_u8)
        .flat_map(|lead| (0xA1..=0xFE_u8).map(move |trail| (lead, trail)))
        .filter(|&(lead, trail)| !(lead == 0xD7 && trail >= 0xFA));
    symbols.chain(hanzi)
}

fn is_private_use(char: char) -> bool {
    matches!(char, '\u{E000}'..='\u{F8FF}')
}

fn printable_ascii() -> BTreeSet<char> {
    (' '..='~').collect()
}

/// The characters of `text` that are drawn: all but line breaks, tabs and
/// other control characters.
fn drawable_chars(text: &str) -> impl Iterator<Item = char> + '_ {
    text.chars().filter(|char| !char.is_control())
}

fn read_text(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
}

fn csv_files(folder: &Path) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in
        std::fs::read_dir(folder).with_context(|| format!("listing {}", folder.display()))?
    {
        let path = entry?.path();
        if path.extension().is_some_and(|extension| extension == "csv") {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// The required characters as text, 64 to a line (line breaks are not part
/// of the set).
fn char_list_text(chars: &BTreeSet<char>) -> String {
    let chars: Vec<char> = chars.iter().copied().collect();
    let mut text = String::new();
    for line in chars.chunks(64) {
        text.extend(line);
        text.push('\n');
    }
    text
}

/// `pyftsubset --unicodes-file`: one hexadecimal code point a line.
fn unicodes_file_text(chars: &BTreeSet<char>) -> String {
    let mut text = String::new();
    for char in chars {
        // Writing to a String cannot fail.
        let _ = writeln!(text, "{:04X}", u32::from(*char));
    }
    text
}

/// Installs Debian's `fonts-noto-cjk` when running as root and it is
/// missing; otherwise says what to install.
fn ensure_font_package(sh: &Shell) -> Result<()> {
    if Path::new(SOURCE_REGULAR).exists() && Path::new(SOURCE_BOLD).exists() {
        return Ok(());
    }
    if !is_root(sh)? {
        bail!(
            "the font subset is made from Debian's {FONT_PACKAGE}. Install it with \
             `sudo apt-get install {FONT_PACKAGE}`"
        );
    }
    eprintln!("xtask: installing {FONT_PACKAGE} from Debian's packages");
    cmd!(sh, "apt-get update -q").run()?;
    cmd!(
        sh,
        "apt-get install -y -q --no-install-recommends {FONT_PACKAGE}"
    )
    .env("DEBIAN_FRONTEND", "noninteractive")
    .run()?;
    ensure!(
        Path::new(SOURCE_REGULAR).exists() && Path::new(SOURCE_BOLD).exists(),
        "apt-get installed {FONT_PACKAGE}, but {SOURCE_REGULAR} or {SOURCE_BOLD} is missing"
    );
    Ok(())
}

/// The index of the [`FAMILY`] face inside the collection `source`.
fn face_index(sh: &Shell, python: &Path, source: &str) -> Result<u32> {
    const FIND_FACE: &str = "\
import sys
from fontTools.ttLib import TTCollection
for index, font in enumerate(TTCollection(sys.argv[1], lazy=True)):
    if font['name'].getDebugName(1) == sys.argv[2]:
        print(index)
        break
";
    let index = cmd!(sh, "{python} -c {FIND_FACE} {source} {FAMILY}")
        .quiet()
        .read()?;
    index
        .trim()
        .parse()
        .with_context(|| format!("{source} has no face named {FAMILY}"))
}

/// The number of glyphs of an OpenType font, from its `maxp` table.
fn glyph_count(font: &[u8]) -> Option<u16> {
    let read_u16 = |at: usize| Some(u16::from_be_bytes(font.get(at..at + 2)?.try_into().ok()?));
    let read_u32 = |at: usize| Some(u32::from_be_bytes(font.get(at..at + 4)?.try_into().ok()?));
    let tables = read_u16(4)?;
    (0..usize::from(tables)).find_map(|table| {
        let record = 12 + 16 * table;
        (font.get(record..record + 4)? == b"maxp")
            .then(|| read_u16(usize::try_from(read_u32(record + 8)?).ok()? + 4))
            .flatten()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gb2312_has_its_hanzi_and_symbols_and_nothing_private() {
        let chars = gb2312_chars();
        assert_eq!(
            gb2312_codes().count(),
            7_445,
            "GB2312 assigns 682 symbols and 6,763 hanzi"
        );
        assert_eq!(
            chars.len(),
            7_445,
            "every code decodes to its own character"
        );
        for (char, code) in [
            ('啊', "B0A1"),
            ('齄', "F7FE"),
            ('　', "A1A1"),
            ('…', "A1AD"),
            ('·', "A1A4"),
        ] {
            assert!(chars.contains(&char), "{char} ({code}) is missing");
        }
        assert!(
            !chars.iter().copied().any(is_private_use),
            "empty codes must not become private-use characters"
        );
    }

    #[test]
    fn character_lists_drop_control_characters_and_keep_the_rest() {
        let chars: BTreeSet<char> = drawable_chars("平塘县,示例\r\n小学 A").collect();
        let listed = char_list_text(&chars);
        assert_eq!(
            listed, " ,A例县塘学小平示\n",
            "sorted, one line, no CR/LF kept"
        );
        assert_eq!(
            unicodes_file_text(&chars).lines().next(),
            Some("0020"),
            "hex code points"
        );
    }

    #[test]
    fn glyph_count_reads_maxp() {
        // A table directory with one record, `maxp` at offset 28, 7 glyphs.
        let mut font = vec![0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0];
        font.extend(b"maxp");
        font.extend([0, 0, 0, 0, 0, 0, 0, 28, 0, 0, 0, 6]);
        font.extend([0, 0, 0x50, 0, 0, 7]);
        assert_eq!(
            glyph_count(&font),
            Some(7),
            "numGlyphs is maxp's third field"
        );
        assert_eq!(
            glyph_count(&font[..10]),
            None,
            "a truncated font has no count"
        );
    }
}
