//! From the bytes of an uploaded file to rows of cells, each row with the
//! line number a spreadsheet user sees (the first row is line 1).
//!
//! Formats are told apart by content first, because a file's name often
//! lies (an XLSX renamed to `.csv`): a ZIP container is XLSX, an OLE
//! container is the old binary `.xls` (refused with advice), anything else
//! is CSV text. Text is UTF-8 when it is valid UTF-8 (a byte order mark is
//! dropped), else GBK, which is what Excel in China writes for "CSV (逗号分隔)";
//! a file is one or the other as a whole.

use std::io::Cursor;
use std::path::Path;

use calamine::{Data, Reader, Xlsx};
use encoding_rs::{DecoderResult, GBK};

use super::{HEADER_SEARCH_LINES, ImportError};

/// One row of the file.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Row {
    /// Where the row is, as a spreadsheet shows it (1-based; the header is
    /// usually line 1).
    pub line: usize,
    /// Its cells, left to right.
    pub cells: Vec<Cell>,
}

/// One cell of a [`Row`].
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Cell {
    /// A value, as text (numbers from a spreadsheet written without a
    /// fraction when they have none: `522632`, not `522632.0`).
    Text(String),
    /// A spreadsheet error value such as `#N/A` or `#REF!`.
    Error(String),
}

impl Row {
    /// True when every cell is empty or spaces: Excel leaves such rows
    /// behind (`,,,,,,,` in CSV), and they are skipped, not reported.
    pub fn is_blank(&self) -> bool {
        self.cells
            .iter()
            .all(|cell| matches!(cell, Cell::Text(text) if text.trim().is_empty()))
    }
}

/// The magic number that starts a ZIP container (XLSX).
const ZIP_MAGIC: &[u8] = b"PK\x03\x04";
/// The magic number that starts an OLE compound file (legacy XLS).
const OLE_MAGIC: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
/// Extensions of files read as CSV text (compared in lower case).
const TEXT_EXTENSIONS: [&str; 3] = ["csv", "txt", "tsv"];
/// Extensions of files read as XLSX workbooks (compared in lower case).
const XLSX_EXTENSIONS: [&str; 2] = ["xlsx", "xlsm"];

/// Reads every row of the file (blank rows included, so callers decide).
pub(super) fn rows(file_name: &str, bytes: &[u8]) -> Result<Vec<Row>, ImportError> {
    let extension = Path::new(file_name)
        .extension()
        .and_then(|extension| extension.to_str())
        .map(str::to_ascii_lowercase);
    let extension = extension.as_deref();
    if bytes.starts_with(ZIP_MAGIC) || extension.is_some_and(|e| XLSX_EXTENSIONS.contains(&e)) {
        xlsx_rows(bytes)
    } else if bytes.starts_with(OLE_MAGIC) || extension == Some("xls") {
        Err(ImportError::LegacyExcel)
    } else if extension.is_none_or(|e| TEXT_EXTENSIONS.contains(&e)) {
        csv_rows(&decode_text(bytes)?)
    } else {
        Err(ImportError::UnknownFormat {
            file_name: file_name.to_owned(),
        })
    }
}

/// The text of a CSV file: UTF-8 (without its byte order mark) if valid,
/// else GBK, else an error naming the first line that is neither.
fn decode_text(bytes: &[u8]) -> Result<String, ImportError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let utf8_error = match std::str::from_utf8(bytes) {
        Ok(text) => return Ok(text.to_owned()),
        Err(error) => error,
    };
    decode_gbk(bytes).map_err(|gbk_bad_offset| {
        // The encoding that reads further is the file's likely one, so its
        // first bad byte is the one to show. Neither encoding uses the byte
        // 0x0A inside a character, so counting it finds the line even in
        // bytes that do not decode.
        let bad_offset = gbk_bad_offset.max(utf8_error.valid_up_to());
        let newlines = bytes
            .get(..bad_offset)
            .unwrap_or(bytes)
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        ImportError::Undecodable { line: newlines + 1 }
    })
}

/// Decodes GBK (GB 18030, its superset, as the WHATWG Encoding Standard
/// does), refusing malformed bytes instead of replacing them; the error is
/// the byte offset of the first malformed sequence.
fn decode_gbk(bytes: &[u8]) -> Result<String, usize> {
    let mut decoder = GBK.new_decoder_without_bom_handling();
    let capacity = |decoder: &encoding_rs::Decoder, remaining: usize| {
        decoder
            .max_utf8_buffer_length_without_replacement(remaining)
            .unwrap_or(remaining)
    };
    let mut text = String::with_capacity(capacity(&decoder, bytes.len()));
    let mut consumed = 0;
    loop {
        let rest = bytes.get(consumed..).unwrap_or_default();
        let (result, read) = decoder.decode_to_string_without_replacement(rest, &mut text, true);
        consumed += read;
        match result {
            DecoderResult::InputEmpty => return Ok(text),
            DecoderResult::OutputFull => {
                let remaining = bytes.len().saturating_sub(consumed);
                text.reserve(capacity(&decoder, remaining).max(4));
            }
            DecoderResult::Malformed(bad_len, read_after) => {
                return Err(consumed
                    .saturating_sub(usize::from(read_after))
                    .saturating_sub(usize::from(bad_len)));
            }
        }
    }
}

/// Splits CSV text into rows, with the delimiter the header uses most
/// (`,` normally; `\t` for Excel's "text (tab delimited)"; `;` where
/// Excel's list separator is the semicolon).
///
/// The header may sit below a title or notes, which have few delimiters or
/// none, so each candidate is judged by the line among the first
/// [`HEADER_SEARCH_LINES`] non-blank ones where it occurs most: the header.
fn csv_rows(text: &str) -> Result<Vec<Row>, ImportError> {
    let first_lines: Vec<&str> = text
        .lines()
        .filter(|line| !line.trim().is_empty())
        .take(HEADER_SEARCH_LINES)
        .collect();
    let delimiter = [b',', b'\t', b';']
        .into_iter()
        .max_by_key(|&candidate| {
            let most = first_lines
                .iter()
                .map(|line| line.bytes().filter(|&b| b == candidate).count())
                .max()
                .unwrap_or_default();
            // Ties (a one-column file) go to the comma.
            (most, candidate == b',')
        })
        .unwrap_or(b',');
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(text.as_bytes());
    let mut lines = LineCounter::new(text);
    reader
        .records()
        .map(|record| {
            let record = record.map_err(ImportError::Csv)?;
            let byte = record.position().map_or(0, |position| {
                usize::try_from(position.byte()).unwrap_or(usize::MAX)
            });
            let line = lines.line_of_record_at(byte);
            Ok(Row {
                line,
                cells: record
                    .iter()
                    .map(|cell| Cell::Text(cell.to_owned()))
                    .collect(),
            })
        })
        .collect()
}

/// Finds the line each CSV record starts on.
///
/// The csv crate's own `Position::line` is not the line a spreadsheet
/// shows: it is taken before the line breaks between records (the `\n` of a
/// CRLF, blank lines) are skipped. Its byte offset is right up to those
/// breaks, so lines are counted here from the offset, stepping over them.
/// Records come in order, so counting resumes where it stopped and the
/// whole file is scanned once.
struct LineCounter<'a> {
    text: &'a [u8],
    /// Bytes before this offset are counted...
    counted_to: usize,
    /// ...and hold this many line breaks.
    breaks: usize,
}

impl<'a> LineCounter<'a> {
    fn new(text: &'a str) -> Self {
        Self {
            text: text.as_bytes(),
            counted_to: 0,
            breaks: 0,
        }
    }

    /// The 1-based line of the record whose position says `byte`. A line
    /// break is `\r\n`, `\n` or a lone `\r`, as in the csv crate.
    fn line_of_record_at(&mut self, byte: usize) -> usize {
        let is_break = |b: &u8| matches!(b, b'\r' | b'\n');
        let start = self
            .text
            .iter()
            .skip(byte)
            .position(|b| !is_break(b))
            .map_or(self.text.len(), |skipped| byte + skipped)
            .max(self.counted_to);
        let span = self.text.get(self.counted_to..start).unwrap_or_default();
        self.breaks += span
            .iter()
            .enumerate()
            .filter(|&(i, &b)| {
                // `start` is never inside a CRLF, so the byte after a `\r`
                // at the end of `span` is not a `\n`.
                b == b'\n' || (b == b'\r' && span.get(i + 1) != Some(&b'\n'))
            })
            .count();
        self.counted_to = start;
        self.breaks + 1
    }
}

/// The rows of the first worksheet of an XLSX workbook.
fn xlsx_rows(bytes: &[u8]) -> Result<Vec<Row>, ImportError> {
    let mut workbook: Xlsx<_> =
        calamine::open_workbook_from_rs(Cursor::new(bytes)).map_err(ImportError::Xlsx)?;
    let range = workbook
        .worksheet_range_at(0)
        .ok_or(ImportError::NoWorksheet)?
        .map_err(ImportError::Xlsx)?;
    // The range starts at the first used cell, not at A1: rows above it
    // still count for the line numbers the user sees.
    let first_row = range
        .start()
        .map_or(0, |(row, _)| usize::try_from(row).unwrap_or(usize::MAX));
    Ok(range
        .rows()
        .enumerate()
        .map(|(index, cells)| Row {
            line: first_row.saturating_add(index).saturating_add(1),
            cells: cells.iter().map(xlsx_cell).collect(),
        })
        .collect())
}

/// One workbook cell as text.
fn xlsx_cell(data: &Data) -> Cell {
    match data {
        Data::Error(error) => Cell::Error(error.to_string()),
        Data::String(text) => Cell::Text(text.clone()),
        // `f64`'s Display writes whole numbers without a fraction or an
        // exponent (522632.0 -> "522632"), and keeps a fraction visible
        // (3.5 -> "3.5") so it is reported rather than rounded away.
        other => Cell::Text(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(rows: &[Row]) -> Vec<(usize, Vec<String>)> {
        rows.iter()
            .map(|row| {
                let cells = row
                    .cells
                    .iter()
                    .map(|cell| match cell {
                        Cell::Text(text) | Cell::Error(text) => text.clone(),
                    })
                    .collect();
                (row.line, cells)
            })
            .collect()
    }

    #[test]
    fn csv_rows_keep_the_line_numbers_a_spreadsheet_shows() {
        // The same sheet with each kind of line break: a header, a row, a
        // blank line, a row with a line break inside quotes, a last row.
        for line_break in ["\r\n", "\n", "\r"] {
            let text = ["a,b", "1,2", "", "\"multi", "line\",3", "4,5", ""].join(line_break);
            let quoted = format!("multi{line_break}line");
            let rows = csv_rows(&text).expect("valid CSV");
            assert_eq!(
                texts(&rows),
                vec![
                    (1, vec!["a".to_owned(), "b".to_owned()]),
                    (2, vec!["1".to_owned(), "2".to_owned()]),
                    (4, vec![quoted, "3".to_owned()]),
                    (6, vec!["4".to_owned(), "5".to_owned()]),
                ],
                "{line_break:?}: a blank line is skipped but counted, a quoted line break counts"
            );
        }
    }

    #[test]
    fn the_delimiter_is_the_one_the_header_uses() {
        for (text, expected) in [
            ("a,b;c\n", vec!["a", "b;c"]),
            ("a\tb\tc,d\n", vec!["a", "b", "c,d"]),
            ("a;b;c\n", vec!["a", "b", "c"]),
            ("abc\n", vec!["abc"]),
            ("\n\na;b\n", vec!["a", "b"]),
            // A title line above the header has no delimiter, or fewer.
            ("2026 年受赠学校名单\na\tb\tc\n", vec!["a", "b", "c"]),
            ("Schools, 2026\na\tb\tc\n", vec!["a", "b", "c"]),
        ] {
            let rows = csv_rows(text).expect("valid CSV");
            // The last line is the header in every case.
            assert_eq!(
                texts(&rows).last().expect("a row").1,
                expected.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
                "{text:?}"
            );
        }
    }

    #[test]
    fn text_is_utf8_else_gbk() {
        let (gbk, _, _) = GBK.encode("学校,县\n");
        assert_eq!(decode_text(&gbk).expect("GBK"), "学校,县\n", "GBK decoded");
        assert_eq!(
            decode_text("\u{feff}学校".as_bytes()).expect("UTF-8"),
            "学校",
            "the byte order mark is dropped"
        );
    }

    #[test]
    fn undecodable_bytes_are_reported_with_their_line() {
        // 0xFF starts no character in GBK and none in UTF-8.
        let bytes = b"a,b\n1,2\n3,\xFF\n";
        assert!(
            matches!(
                decode_text(bytes),
                Err(ImportError::Undecodable { line: 3 })
            ),
            "the bad byte is on line 3"
        );
        // UTF-8 Chinese is not GBK either, but UTF-8 reads further: the
        // bad byte is shown where UTF-8 stops, not where GBK does.
        let mut bytes = "学校,县\n示例,县\n".as_bytes().to_vec();
        bytes.push(0xFF);
        assert!(
            matches!(
                decode_text(&bytes),
                Err(ImportError::Undecodable { line: 3 })
            ),
            "the bad byte ends line 2, so it starts line 3"
        );
        let (gbk, _, _) = GBK.encode("学校,县\n示例,县\n");
        let mut gbk = gbk.into_owned();
        gbk.extend_from_slice(b"x,\xFF");
        assert!(
            matches!(decode_text(&gbk), Err(ImportError::Undecodable { line: 3 })),
            "GBK reads further, so its stop is shown"
        );
    }
}
