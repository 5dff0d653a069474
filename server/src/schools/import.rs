//! Importing a school list from the file an admin uploads.
//!
//! # Formats
//!
//! - CSV in UTF-8, with or without a byte order mark, or in GBK (what Excel
//!   in China writes for "CSV (逗号分隔)"). The delimiter is whichever of `,`,
//!   tab and `;` the header line uses most.
//! - XLSX (and XLSM): the first worksheet.
//!
//! Old binary `.xls` workbooks are refused with the advice to save as XLSX
//! or CSV.
//!
//! # Columns
//!
//! The header is the first row, within the first [`HEADER_SEARCH_LINES`]
//! lines, that names every field: staff files often carry a title
//! ("2026 年受赠学校名单") or notes above it, and those rows are skipped.
//! Columns may come in any order, and columns with other headers (备注,
//! contacts) are ignored. Each field
//! answers to several headers, compared after dropping spaces, `_`, `-`,
//! `/`, a byte order mark and a unit in brackets (`学生数（人）`), ignoring
//! ASCII case:
//!
//! | field | canonical headers | also accepted |
//! |---|---|---|
//! | [`Field::Id`] | 学校编号, `school_id` | `id`, 编号, 学校代码, 学校标识码 |
//! | [`Field::Name`] | 学校名称, `name` | `school_name`, `school`, 学校, 校名, 名称 |
//! | [`Field::Province`] | 省, `province` | 省份, 省（区、市） |
//! | [`Field::Prefecture`] | 市/州, `prefecture` | `city`, 市, 州, 地市, 地区, 市州盟 |
//! | [`Field::County`] | 县, `county` | 县区, 区县, 县（市、区）, 县名称 |
//! | [`Field::CountyCode`] | 县代码, `county_code` | `code`, 区划代码, 行政区划代码, 县区代码 |
//! | [`Field::Pupils`] | 学生数, `pupils` | `students`, 学生人数, 在校生数 |
//! | [`Field::TargetBooks`] | 目标册数, `target_books` | `target`, `books`, 目标, 目标图书 |
//!
//! # Validation
//!
//! Every problem on every line is reported with the line number the user
//! sees in a spreadsheet (the header is usually line 1); rows that are
//! entirely blank are skipped. A text field (id, name, province,
//! prefecture, county) may not begin with `=`, `+`, `-`, `@`, a tab or a
//! carriage return: a spreadsheet would run it as a formula when the name
//! comes back in an export, so it is refused here, where the admin can
//! still fix it. A file with any problem imports nothing:
//! [`parse_school_file`] then returns [`ImportError::BadLines`] with all of
//! them, so the admin can fix the file in one pass.

mod columns;
mod read;

use std::collections::HashMap;

pub use columns::Field;
use columns::{ColumnMap, HeaderProblem};
use read::{Cell, Row};

use super::{CountyCode, CountyCodeError, School};
use crate::tables::starts_like_formula;

/// Longest school id, in characters.
pub const MAX_ID_CHARS: usize = 32;
/// Longest school name, in characters.
pub const MAX_NAME_CHARS: usize = 100;
/// Longest province, prefecture or county name, in characters.
pub const MAX_PLACE_CHARS: usize = 50;
/// Most pupils one school may have: far above any real primary school, so
/// only a typo (an extra digit, a phone number) reaches it.
pub const MAX_PUPILS: u32 = 100_000;
/// Most books one school may be given as a target.
pub const MAX_TARGET_BOOKS: u32 = 1_000_000;
/// How many lines from the top of the file the header may be on (1-based,
/// as a spreadsheet numbers them): room for a title and a few notes.
pub const HEADER_SEARCH_LINES: usize = 10;

/// Parses a school list from the bytes of an uploaded file; `file_name`
/// (only its extension matters) helps tell the format when the content
/// does not.
///
/// Returns every school, in file order, or an error that lists every
/// problem found; nothing is imported from a file with any problem.
pub fn parse_school_file(file_name: &str, bytes: &[u8]) -> Result<Vec<School>, ImportError> {
    let rows: Vec<Row> = read::rows(file_name, bytes)?
        .into_iter()
        .filter(|row| !row.is_blank())
        .collect();
    let (header_index, columns) = find_header(&rows)?;
    let rows = rows.get(header_index + 1..).unwrap_or_default();

    let mut schools = Vec::new();
    let mut errors = Vec::new();
    let mut first_line_of_id = HashMap::new();
    for row in rows {
        match parse_line(row, &columns, &mut first_line_of_id) {
            Ok(school) => schools.push(school),
            Err(problems) => errors.extend(problems.into_iter().map(|reason| LineError {
                line: row.line,
                reason,
            })),
        }
    }
    if !errors.is_empty() {
        return Err(ImportError::BadLines { errors });
    }
    if schools.is_empty() {
        return Err(ImportError::NoSchools);
    }
    Ok(schools)
}

/// Finds the header among the non-blank `rows`: the first row within the
/// first [`HEADER_SEARCH_LINES`] lines that names every field. Returns its
/// index in `rows` and where each field is.
///
/// When no row qualifies, the error names the row that came closest (the
/// most fields named, the earliest of equals) and what it lacks; when the
/// first lines hold no row at all, the first row and every field.
fn find_header(rows: &[Row]) -> Result<(usize, ColumnMap), ImportError> {
    let first = rows.first().ok_or(ImportError::Empty)?;
    let mut closest: Option<(usize, Vec<Field>)> = None;
    let candidates = rows
        .iter()
        .enumerate()
        .take_while(|(_, row)| row.line <= HEADER_SEARCH_LINES);
    for (index, row) in candidates {
        let texts: Vec<&str> = row.cells.iter().map(cell_text).collect();
        match ColumnMap::from_headers(&texts) {
            Ok(columns) => return Ok((index, columns)),
            Err(HeaderProblem::Repeated {
                field,
                first_column,
                second_column,
            }) => {
                return Err(ImportError::RepeatedColumn {
                    field,
                    first_column,
                    second_column,
                });
            }
            Err(HeaderProblem::Missing(missing)) => {
                if closest
                    .as_ref()
                    .is_none_or(|(_, fewest)| missing.len() < fewest.len())
                {
                    closest = Some((row.line, missing));
                }
            }
        }
    }
    let (header_line, missing) = closest.unwrap_or_else(|| (first.line, Field::ALL.to_vec()));
    Err(ImportError::MissingColumns {
        header_line,
        missing,
    })
}

/// Reads one school from `row`, or every problem it has.
/// `first_line_of_id` remembers where each id was first seen, to report
/// repeats.
fn parse_line(
    row: &Row,
    columns: &ColumnMap,
    first_line_of_id: &mut HashMap<String, usize>,
) -> Result<School, Vec<LineProblem>> {
    let mut line = LineReader {
        row,
        columns,
        problems: Vec::new(),
    };
    let id = line.read_text(Field::Id, school_id);
    let name = line.read_text(Field::Name, text(MAX_NAME_CHARS));
    let province = line.read_text(Field::Province, text(MAX_PLACE_CHARS));
    let prefecture = line.read_text(Field::Prefecture, text(MAX_PLACE_CHARS));
    let county = line.read_text(Field::County, text(MAX_PLACE_CHARS));
    let county_code = line.read(Field::CountyCode, county_code);
    let pupils = line.read(Field::Pupils, count(MAX_PUPILS));
    let target_books = line.read(Field::TargetBooks, count(MAX_TARGET_BOOKS));
    let mut problems = line.problems;
    if let Some(id) = &id {
        match first_line_of_id.get(id) {
            Some(&first_line) => problems.push(LineProblem::RepeatedSchoolId {
                id: id.clone(),
                first_line,
            }),
            None => {
                first_line_of_id.insert(id.clone(), row.line);
            }
        }
    }

    // A field that could not be read is `None` and has its problem listed.
    let school = || {
        Some(School {
            id: id?,
            name: name?,
            province: province?,
            prefecture: prefecture?,
            county: county?,
            county_code: county_code?,
            pupils: pupils?,
            target_books: target_books?,
        })
    };
    match school() {
        Some(school) if problems.is_empty() => Ok(school),
        _ => Err(problems),
    }
}

/// Reads the fields of one row, collecting every problem instead of
/// stopping at the first.
struct LineReader<'a> {
    row: &'a Row,
    columns: &'a ColumnMap,
    problems: Vec<LineProblem>,
}

impl LineReader<'_> {
    /// Parses `field`'s trimmed, non-empty text with `parse`; `None` (and
    /// a noted problem) when the cell is empty, an error value, or `parse`
    /// refuses it.
    fn read<T>(
        &mut self,
        field: Field,
        parse: impl FnOnce(&str, Field) -> Result<T, LineProblem>,
    ) -> Option<T> {
        self.read_cell(field, |value, field| parse(value.trim(), field))
    }

    /// [`Self::read`] for a text field, which is refused first if it
    /// begins like a spreadsheet formula: with a tab or carriage return
    /// before trimming, or with `=`, `+`, `-` or `@` after it (the trimmed
    /// text is what is stored and exported later).
    fn read_text<T>(
        &mut self,
        field: Field,
        parse: impl FnOnce(&str, Field) -> Result<T, LineProblem>,
    ) -> Option<T> {
        self.read_cell(field, |value, field| {
            let trimmed = value.trim();
            for text in [value, trimmed] {
                if starts_like_formula(text) {
                    let first = text.chars().next().unwrap_or_default();
                    return Err(LineProblem::FormulaLike { field, first });
                }
            }
            parse(trimmed, field)
        })
    }

    /// Runs `parse` on `field`'s untrimmed text when it has any besides
    /// spaces, noting the problem otherwise.
    fn read_cell<T>(
        &mut self,
        field: Field,
        parse: impl FnOnce(&str, Field) -> Result<T, LineProblem>,
    ) -> Option<T> {
        let parsed = match self.row.cells.get(self.columns.column(field)) {
            Some(Cell::Error(error)) => Err(LineProblem::ErrorValue {
                field,
                value: error.clone(),
            }),
            Some(Cell::Text(text)) if !text.trim().is_empty() => parse(text, field),
            // A short row (fewer cells than the header) is missing the rest.
            _ => Err(LineProblem::MissingField { field }),
        };
        parsed.map_err(|problem| self.problems.push(problem)).ok()
    }
}

/// The text of a header cell (an error value such as `#N/A` names no field).
fn cell_text(cell: &Cell) -> &str {
    match cell {
        Cell::Text(text) => text,
        Cell::Error(_) => "",
    }
}

/// A parser for a name-like field: printable, at most `max_chars` long.
fn text(max_chars: usize) -> impl FnOnce(&str, Field) -> Result<String, LineProblem> {
    move |value, field| {
        if value.chars().any(char::is_control) {
            return Err(LineProblem::ControlCharacter { field });
        }
        let chars = value.chars().count();
        if chars > max_chars {
            return Err(LineProblem::TooLong {
                field,
                chars,
                max_chars,
            });
        }
        Ok(value.to_owned())
    }
}

/// A school id that can stand in a URL.
fn school_id(value: &str, _: Field) -> Result<String, LineProblem> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_');
    if value.chars().count() > MAX_ID_CHARS || !value.chars().all(allowed) {
        return Err(LineProblem::BadSchoolId {
            value: value.to_owned(),
        });
    }
    Ok(value.to_owned())
}

/// A county-level GB/T 2260 code.
fn county_code(value: &str, _: Field) -> Result<CountyCode, LineProblem> {
    value.parse().map_err(|problem| LineProblem::BadCountyCode {
        value: value.to_owned(),
        problem,
    })
}

/// A parser for a whole number from 1 to `max`.
fn count(max: u32) -> impl FnOnce(&str, Field) -> Result<u32, LineProblem> {
    move |value, field| {
        if !value.bytes().all(|b| b.is_ascii_digit()) {
            return Err(LineProblem::NotAWholeNumber {
                field,
                value: value.to_owned(),
            });
        }
        // Only digits, so the parse can only fail by overflowing.
        let too_large = || LineProblem::TooLarge {
            field,
            value: value.to_owned(),
            max,
        };
        match value.parse::<u32>().map_err(|_| too_large())? {
            0 => Err(LineProblem::Zero { field }),
            n if n > max => Err(too_large()),
            n => Ok(n),
        }
    }
}

// Import errors travel across threads (axum handlers, `anyhow` in the CLI):
// checked at compile time.
const _: fn() = || {
    fn send_sync<T: Send + Sync + 'static>() {}
    send_sync::<ImportError>();
};

/// Why a school list was not imported. Every message is in Chinese, then
/// English.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// Neither the content nor the name says CSV or XLSX.
    #[error(
        "无法识别文件 {file_name} 的格式，请上传 CSV 或 XLSX / cannot tell the format of {file_name}: upload CSV or XLSX"
    )]
    UnknownFormat {
        /// The uploaded file's name.
        file_name: String,
    },
    /// An old binary Excel workbook (`.xls`).
    #[error(
        "不支持旧版 Excel（.xls）文件，请另存为 XLSX 或 CSV / old Excel (.xls) files are not supported: save as XLSX or CSV"
    )]
    LegacyExcel,
    /// Text that is neither UTF-8 nor GBK.
    #[error(
        "第 {line} 行含有既非 UTF-8 也非 GBK 的字节，请另存为“CSV UTF-8”或 XLSX / line {line} has bytes that are neither UTF-8 nor GBK: save as \"CSV UTF-8\" or XLSX"
    )]
    Undecodable {
        /// The first line with such bytes (1-based).
        line: usize,
    },
    /// The CSV reader failed.
    #[error("无法读取 CSV / cannot read the CSV: {0}")]
    Csv(#[source] csv::Error),
    /// The workbook is damaged or not XLSX.
    #[error("无法读取 XLSX 工作簿 / cannot read the XLSX workbook: {0}")]
    Xlsx(#[source] calamine::XlsxError),
    /// The workbook has no worksheet.
    #[error("工作簿中没有工作表 / the workbook has no worksheet")]
    NoWorksheet,
    /// Nothing but blank rows.
    #[error("文件是空的 / the file is empty")]
    Empty,
    /// No row within the first [`HEADER_SEARCH_LINES`] lines names every
    /// field.
    #[error(
        "前 {HEADER_SEARCH_LINES} 行中没有表头，表头须含以下各列：{}；最接近的第 {header_line} 行缺少列：{} / no header within the first {HEADER_SEARCH_LINES} lines naming the columns {}; the closest, line {header_line}, lacks columns: {}",
        join(Field::ALL.iter().map(|f| f.zh()), "、"),
        join(missing.iter().map(|f| f.zh()), "、"),
        join(Field::ALL.iter().map(|f| f.en()), ", "),
        join(missing.iter().map(|f| f.en()), ", ")
    )]
    MissingColumns {
        /// The line (1-based) of the row that named the most fields, or
        /// the first non-blank line when none is within the first lines.
        header_line: usize,
        /// The fields that row lacks, in canonical order.
        missing: Vec<Field>,
    },
    /// Two header columns name the same field.
    #[error(
        "第 {first_column} 列和第 {second_column} 列都是“{}” / columns {first_column} and {second_column} are both {}",
        field.zh(),
        field.en()
    )]
    RepeatedColumn {
        /// The field named twice.
        field: Field,
        /// The first column naming it (1-based).
        first_column: usize,
        /// The second column naming it (1-based).
        second_column: usize,
    },
    /// A header but no schools.
    #[error("只有表头，没有学校 / there is a header but no schools")]
    NoSchools,
    /// Lines with problems; nothing was imported.
    #[error(
        "{} 处错误，未导入任何学校 / {} problems, nothing was imported:\n{}",
        errors.len(),
        errors.len(),
        join(errors.iter(), "\n")
    )]
    BadLines {
        /// Every problem, in line order.
        errors: Vec<LineError>,
    },
}

/// One problem on one line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("第 {line} 行 / line {line}: {reason}")]
pub struct LineError {
    /// The line, as a spreadsheet shows it (1-based; the header is usually
    /// line 1).
    pub line: usize,
    /// What is wrong with it.
    pub reason: LineProblem,
}

/// What is wrong with a line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LineProblem {
    /// A field is empty, or the row ends before its column.
    #[error("缺少“{}” / missing {}", field.zh(), field.en())]
    MissingField {
        /// The empty field.
        field: Field,
    },
    /// The cell holds a spreadsheet error value (`#N/A`, `#REF!`).
    #[error("“{}”是错误值 {value} / {} is the error value {value}", field.zh(), field.en())]
    ErrorValue {
        /// The field.
        field: Field,
        /// The error value as the spreadsheet shows it.
        value: String,
    },
    /// An id that is too long or has characters other than `A-Z a-z 0-9 - _`.
    #[error(
        "学校编号“{value}”应为 1-{MAX_ID_CHARS} 个字母、数字、- 或 _ / school id {value:?} must be 1-{MAX_ID_CHARS} letters, digits, - or _"
    )]
    BadSchoolId {
        /// The id as written.
        value: String,
    },
    /// The id was already used on an earlier line.
    #[error("学校编号“{id}”与第 {first_line} 行重复 / school id {id:?} repeats line {first_line}")]
    RepeatedSchoolId {
        /// The repeated id.
        id: String,
        /// Where it was first used.
        first_line: usize,
    },
    /// Text longer than allowed.
    #[error(
        "“{}”有 {chars} 个字，最多 {max_chars} 个 / {} has {chars} characters, at most {max_chars} allowed",
        field.zh(),
        field.en()
    )]
    TooLong {
        /// The field.
        field: Field,
        /// Its length, in characters.
        chars: usize,
        /// The longest allowed, in characters.
        max_chars: usize,
    },
    /// Text with a line break or another control character.
    #[error("“{}”含有换行或控制字符 / {} contains a line break or control character", field.zh(), field.en())]
    ControlCharacter {
        /// The field.
        field: Field,
    },
    /// Text that begins with `=`, `+`, `-`, `@`, a tab or a carriage
    /// return, which a spreadsheet would run as a formula.
    #[error(
        "“{}”以{}开头，电子表格会把它当作公式，请删去或改写开头 / {} begins with {}, which a spreadsheet would run as a formula: remove or reword the start",
        field.zh(),
        leading_zh(*first),
        field.en(),
        leading_en(*first)
    )]
    FormulaLike {
        /// The field.
        field: Field,
        /// The character it begins with.
        first: char,
    },
    /// Not a county-level GB/T 2260 code.
    #[error("县代码“{value}”无效 / bad county code {value:?}: {problem}")]
    BadCountyCode {
        /// The code as written.
        value: String,
        /// Why it is not one.
        problem: CountyCodeError,
    },
    /// Not a whole number (a fraction, a sign, letters).
    #[error("“{}”应为整数，而不是“{value}” / {} must be a whole number, not {value:?}", field.zh(), field.en())]
    NotAWholeNumber {
        /// The field.
        field: Field,
        /// The value as written.
        value: String,
    },
    /// Zero, where at least 1 is needed.
    #[error("“{}”不能为 0 / {} cannot be 0", field.zh(), field.en())]
    Zero {
        /// The field.
        field: Field,
    },
    /// Larger than any plausible value.
    #[error(
        "“{}”的值 {value} 超过上限 {max} / {} of {value} exceeds the limit of {max}",
        field.zh(),
        field.en()
    )]
    TooLarge {
        /// The field.
        field: Field,
        /// The value as written.
        value: String,
        /// The largest allowed.
        max: u32,
    },
}

/// A formula-starting character as a Chinese message names it (tabs and
/// carriage returns are invisible, so they are named in words).
fn leading_zh(first: char) -> String {
    match first {
        '\t' => "制表符".to_owned(),
        '\r' => "回车符".to_owned(),
        c => format!("“{c}”"),
    }
}

/// A formula-starting character as an English message names it.
fn leading_en(first: char) -> String {
    match first {
        '\t' => "a tab".to_owned(),
        '\r' => "a carriage return".to_owned(),
        c => format!("\"{c}\""),
    }
}

/// `items` displayed one after another, separated by `separator`.
fn join<T: std::fmt::Display>(items: impl Iterator<Item = T>, separator: &str) -> String {
    items
        .map(|item| item.to_string())
        .collect::<Vec<_>>()
        .join(separator)
}
