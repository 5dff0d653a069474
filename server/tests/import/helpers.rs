//! Sample school lists and the encoders that turn them into files.

use rust_xlsxwriter::{Formula, Workbook};
use server::schools::{ImportError, LineError, School};

/// The canonical Chinese header.
pub const HEADER_ZH: [&str; 8] = [
    "学校编号",
    "学校名称",
    "省",
    "市/州",
    "县",
    "县代码",
    "学生数",
    "目标册数",
];

/// Three good rows in header order, in real poverty counties.
pub const GOOD_ROWS: [[&str; 8]; 3] = [
    [
        "S-001",
        "榕江县示例小学",
        "贵州省",
        "黔东南苗族侗族自治州",
        "榕江县",
        "522632",
        "420",
        "900",
    ],
    [
        "S-002",
        "福贡县示例小学",
        "云南省",
        "怒江傈僳族自治州",
        "福贡县",
        "533323",
        "312",
        "600",
    ],
    [
        "S-003",
        "东乡族自治县示例小学",
        "甘肃省",
        "临夏回族自治州",
        "东乡族自治县",
        "622926",
        "1050",
        "2000",
    ],
];

/// The schools [`GOOD_ROWS`] describe.
pub fn good_schools() -> Vec<School> {
    GOOD_ROWS
        .iter()
        .map(|row| School {
            id: row[0].to_owned(),
            name: row[1].to_owned(),
            province: row[2].to_owned(),
            prefecture: row[3].to_owned(),
            county: row[4].to_owned(),
            county_code: row[5].parse().expect("the sample codes are valid"),
            pupils: row[6].parse().expect("a number"),
            target_books: row[7].parse().expect("a number"),
        })
        .collect()
}

/// Lines of cells joined with `delimiter`, each line ended by `line_end`.
/// Cells are written as given (tests quote where they need to).
pub fn delimited<R: AsRef<[C]>, C: AsRef<str>>(
    rows: &[R],
    delimiter: &str,
    line_end: &str,
) -> String {
    rows.iter()
        .map(|row| {
            let cells: Vec<&str> = row.as_ref().iter().map(AsRef::as_ref).collect();
            cells.join(delimiter) + line_end
        })
        .collect()
}

/// The header and [`GOOD_ROWS`] as comma-separated text.
pub fn good_csv() -> String {
    let mut rows = vec![HEADER_ZH];
    rows.extend(GOOD_ROWS);
    delimited(&rows, ",", "\n")
}

/// A cell of a test workbook.
#[derive(Debug, Clone, Copy)]
pub enum XlsxCell<'a> {
    Text(&'a str),
    Number(f64),
    /// A formula whose cached result is a spreadsheet error such as `#N/A`.
    ErrorResult(&'a str),
    Empty,
}

/// An XLSX workbook whose first sheet holds `rows`, starting at row
/// `first_row` (0-based, so 0 is the spreadsheet's line 1).
pub fn xlsx(first_row: u32, rows: &[Vec<XlsxCell<'_>>]) -> Vec<u8> {
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    for (row, cells) in (first_row..).zip(rows) {
        for (column, cell) in (0..).zip(cells) {
            match *cell {
                XlsxCell::Text(text) => sheet.write_string(row, column, text),
                XlsxCell::Number(number) => sheet.write_number(row, column, number),
                XlsxCell::ErrorResult(error) => {
                    sheet.write_formula(row, column, Formula::new("=NA()").set_result(error))
                }
                XlsxCell::Empty => continue,
            }
            .expect("a cell inside the sheet's limits");
        }
    }
    workbook.save_to_buffer().expect("an in-memory workbook")
}

/// The header and [`GOOD_ROWS`] as workbook cells: numbers as numbers, as
/// Excel stores what a user types into a cell.
pub fn good_xlsx_rows() -> Vec<Vec<XlsxCell<'static>>> {
    let mut rows = vec![HEADER_ZH.iter().map(|h| XlsxCell::Text(h)).collect()];
    for row in &GOOD_ROWS {
        rows.push(
            row.iter()
                .enumerate()
                .map(|(column, text)| match column {
                    5..=7 => XlsxCell::Number(text.parse().expect("a number")),
                    _ => XlsxCell::Text(text),
                })
                .collect(),
        );
    }
    rows
}

/// The line errors of a refused import; panics with the error otherwise.
pub fn line_errors(result: Result<Vec<School>, ImportError>) -> Vec<LineError> {
    match result {
        Err(ImportError::BadLines { errors }) => errors,
        other => panic!("expected line errors, got {other:?}"),
    }
}
