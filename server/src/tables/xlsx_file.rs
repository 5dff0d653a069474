//! A [`Table`] as an Excel workbook, for staff who sort, filter and print.
//!
//! The first sheet, [`DATA_SHEET`], reads like the screen: the title on
//! line 1, the filters on line 2, the header of Chinese column names on
//! line 3 (bold, frozen, with an autofilter), the rows, then the totals in
//! bold. English column names and what each column means are on the second
//! sheet, [`ABOUT_SHEET`], rather than on a second header line: a second
//! header line would be taken for data by sorting, filtering and pivot
//! tables, and one header row is what every tool expects.
//!
//! Values keep their types: ids are text (with Excel's text format, and
//! its "number stored as text" warning switched off for them), counts are
//! numbers, dates and times are real Excel dates in Beijing time, shares
//! are numbers shown as percentages. Text is always written as a string
//! cell, never as a formula; text that begins like a formula also gets
//! Excel's quote prefix, so it stays text even when someone edits the cell.

use rust_xlsxwriter::{
    ColNum, DocProperties, ExcelDateTime, Format, FormatAlign, FormatBorder, IgnoreError, RowNum,
    Workbook, Worksheet, XlsxError,
};

use super::{Cell, ColumnKind, Table, beijing, display_width, starts_like_formula};

/// The name of the sheet that holds the table.
pub const DATA_SHEET: &str = "数据 Data";
/// The name of the sheet that explains the columns and filters.
pub const ABOUT_SHEET: &str = "说明 About";

/// Where the title is on the data sheet (0-based: line 1).
const TITLE_ROW: RowNum = 0;
/// Where the filters are (line 2).
const FILTERS_ROW: RowNum = 1;
/// Where the header is (line 3); rows follow it.
const HEADER_ROW: RowNum = 2;

/// Narrowest data column, in Excel's width units (about one digit each).
const MIN_WIDTH: usize = 8;
/// Widest data column, in Excel's width units: longer text wraps in the
/// cell rather than pushing the next columns off screen.
const MAX_WIDTH: usize = 60;

/// The table as an XLSX workbook (see the module docs for its layout).
///
/// Fails only where Excel has limits: more than 1,048,575 rows, or a text
/// longer than 32,767 characters.
pub fn to_xlsx(table: &Table) -> Result<Vec<u8>, XlsxError> {
    let mut workbook = Workbook::new();
    workbook.set_properties(
        &DocProperties::new()
            .set_title(format!("{} {}", table.title_zh(), table.title_en()))
            .set_subject(table.filters_line())
            .set_company("圆梦精灵图书馆 Dream Fairy Library"),
    );
    write_data_sheet(workbook.add_worksheet(), table)?;
    write_about_sheet(workbook.add_worksheet(), table)?;
    workbook.save_to_buffer()
}

/// The cell formats of one row style (plain rows or the bold totals).
struct Formats {
    text: Format,
    /// Text that begins like a formula: Excel's quote prefix keeps it text
    /// even after someone edits the cell.
    quoted_text: Format,
    id: Format,
    quoted_id: Format,
    count: Format,
    date: Format,
    date_time: Format,
    percent: Format,
}

impl Formats {
    fn new(base: &Format) -> Self {
        // "@" is Excel's text format: what is typed into an id cell stays text.
        let id = base.clone().set_num_format("@");
        Self {
            text: base.clone(),
            quoted_text: base.clone().set_quote_prefix(),
            quoted_id: id.clone().set_quote_prefix(),
            id,
            count: base.clone().set_num_format("#,##0"),
            date: base.clone().set_num_format("yyyy-mm-dd"),
            date_time: base.clone().set_num_format("yyyy-mm-dd hh:mm:ss"),
            percent: base.clone().set_num_format("0.0%"),
        }
    }
}

fn write_data_sheet(sheet: &mut Worksheet, table: &Table) -> Result<(), XlsxError> {
    sheet.set_name(DATA_SHEET)?;
    let title = Format::new().set_bold().set_font_size(14);
    sheet.write_string_with_format(
        TITLE_ROW,
        0,
        format!("{} {}", table.title_zh(), table.title_en()),
        &title,
    )?;
    write_text(
        sheet,
        FILTERS_ROW,
        0,
        &table.filters_line(),
        &Formats::new(&Format::new()),
    )?;

    let header = Format::new()
        .set_bold()
        .set_text_wrap()
        .set_align(FormatAlign::Top)
        .set_border_bottom(FormatBorder::Thin);
    for (column, described) in (0..).zip(table.columns()) {
        sheet.write_string_with_format(HEADER_ROW, column, described.zh, &header)?;
    }

    let plain = Formats::new(&Format::new());
    let bold = Formats::new(&Format::new().set_bold().set_border_top(FormatBorder::Thin));
    let mut row = HEADER_ROW;
    for cells in table.rows() {
        row += 1;
        write_row(sheet, row, cells, &plain)?;
    }
    let last_data_row = row;
    if let Some(totals) = table.totals() {
        row += 1;
        write_row(sheet, row, totals, &bold)?;
    }

    let Some(last_column) = table
        .columns()
        .len()
        .checked_sub(1)
        .and_then(|last| ColNum::try_from(last).ok())
    else {
        return Ok(());
    };
    for (column, width) in (0..).zip(column_widths(table)) {
        // Widths are small whole numbers (8 to 60), exact as f64.
        sheet.set_column_width(column, width as f64)?;
    }
    // The title, filters and header stay in view while scrolling, and the
    // header is repeated on every printed page.
    sheet.set_freeze_panes(HEADER_ROW + 1, 0)?;
    sheet.set_repeat_rows(HEADER_ROW, HEADER_ROW)?;
    sheet.set_print_fit_to_pages(1, 0);
    // The autofilter covers the rows but not the totals, so sorting never
    // moves the totals into the data.
    sheet.autofilter(HEADER_ROW, 0, last_data_row, last_column)?;
    if row > HEADER_ROW {
        for (column, described) in (0..).zip(table.columns()) {
            if described.kind == ColumnKind::Id {
                sheet.ignore_error_range(
                    HEADER_ROW + 1,
                    column,
                    row,
                    column,
                    IgnoreError::NumberStoredAsText,
                )?;
            }
        }
    }
    Ok(())
}

fn write_row(
    sheet: &mut Worksheet,
    row: RowNum,
    cells: &[Cell],
    formats: &Formats,
) -> Result<(), XlsxError> {
    for (column, cell) in (0..).zip(cells) {
        write_cell(sheet, row, column, cell, formats)?;
    }
    Ok(())
}

fn write_cell<'a>(
    sheet: &'a mut Worksheet,
    row: RowNum,
    column: ColNum,
    cell: &Cell,
    formats: &Formats,
) -> Result<&'a mut Worksheet, XlsxError> {
    match cell {
        Cell::Text(text) => write_text(sheet, row, column, text, formats),
        Cell::Id(id) => {
            let format = if starts_like_formula(id) {
                &formats.quoted_id
            } else {
                &formats.id
            };
            sheet.write_string_with_format(row, column, id.as_str(), format)
        }
        // Counts are far below 2^53, so they are exact as f64.
        Cell::Count(count) => {
            sheet.write_number_with_format(row, column, *count as f64, &formats.count)
        }
        Cell::Date(date) => {
            let date = excel_date(date.year(), date.month(), date.day())?;
            sheet.write_datetime_with_format(row, column, date, &formats.date)
        }
        Cell::DateTime(instant) => {
            // Excel has no time zones: the wall clock in Beijing, to the
            // second, as the screen and the CSV show it.
            let local = beijing(*instant);
            let date_time = excel_date(local.year(), local.month(), local.day())?.and_hms(
                u16::try_from(local.hour()).unwrap_or_default(),
                u8::try_from(local.minute()).unwrap_or_default(),
                local.second(),
            )?;
            sheet.write_datetime_with_format(row, column, date_time, &formats.date_time)
        }
        Cell::Percent(share) => match share.ratio() {
            Some(ratio) => sheet.write_number_with_format(row, column, ratio, &formats.percent),
            None => sheet.write_blank(row, column, &formats.text),
        },
        Cell::Empty => sheet.write_blank(row, column, &formats.text),
    }
}

/// Writes `text` as a string cell (never a formula), with the quote prefix
/// when it begins like one.
fn write_text<'a>(
    sheet: &'a mut Worksheet,
    row: RowNum,
    column: ColNum,
    text: &str,
    formats: &Formats,
) -> Result<&'a mut Worksheet, XlsxError> {
    let format = if starts_like_formula(text) {
        &formats.quoted_text
    } else {
        &formats.text
    };
    sheet.write_string_with_format(row, column, text, format)
}

/// An Excel date, or the range error Excel's calendar (years 1900 to 9999)
/// gives for a day outside it.
fn excel_date(year: i16, month: i8, day: i8) -> Result<ExcelDateTime, XlsxError> {
    let out_of_range = || XlsxError::DateTimeRangeError(format!("{year:04}-{month:02}-{day:02}"));
    ExcelDateTime::from_ymd(
        u16::try_from(year).map_err(|_| out_of_range())?,
        u8::try_from(month).map_err(|_| out_of_range())?,
        u8::try_from(day).map_err(|_| out_of_range())?,
    )
}

/// Each column's width in Excel's units (about one digit): the widest of
/// its header and cells as shown, CJK characters counting double, plus room
/// for the autofilter button, between [`MIN_WIDTH`] and [`MAX_WIDTH`].
fn column_widths(table: &Table) -> Vec<usize> {
    table
        .columns()
        .iter()
        .enumerate()
        .map(|(index, column)| {
            let cells = table
                .rows()
                .iter()
                .map(Vec::as_slice)
                .chain(table.totals())
                .filter_map(|row| row.get(index));
            let widest = cells
                .map(|cell| match cell {
                    // Grouped as the "#,##0" format shows them.
                    Cell::Count(count) => super::group_thousands(*count).len(),
                    Cell::DateTime(_) => "2026-07-01 08:30:05".len(),
                    other => display_width(&other.plain_text()),
                })
                .chain([display_width(column.zh)])
                .max()
                .unwrap_or_default();
            (widest + 3).clamp(MIN_WIDTH, MAX_WIDTH)
        })
        .collect()
}

fn write_about_sheet(sheet: &mut Worksheet, table: &Table) -> Result<(), XlsxError> {
    sheet.set_name(ABOUT_SHEET)?;
    let title = Format::new().set_bold().set_font_size(14);
    let bold = Format::new()
        .set_bold()
        .set_border_bottom(FormatBorder::Thin);
    let wrap = Format::new().set_text_wrap().set_align(FormatAlign::Top);
    let plain = Formats::new(&wrap);
    for (column, width) in (0..).zip([18.0, 22.0, 18.0, 24.0, 40.0, 50.0]) {
        sheet.set_column_width(column, width)?;
    }

    sheet.write_string_with_format(
        0,
        0,
        format!("{} {}", table.title_zh(), table.title_en()),
        &title,
    )?;
    sheet.write_string(
        1,
        0,
        format!("本文件与管理后台屏幕上的表格内容一致，数据在“{DATA_SHEET}”表。"),
    )?;
    sheet.write_string(
        2,
        0,
        format!(
            "This file holds exactly the table the admin console showed; the data is on the sheet \"{DATA_SHEET}\"."
        ),
    )?;

    let mut row: RowNum = 4;
    for (column, heading) in (0..).zip(["筛选 Filter", "English", "值 Value"]) {
        sheet.write_string_with_format(row, column, heading, &bold)?;
    }
    if table.filters().is_empty() {
        row += 1;
        sheet.write_string(row, 0, "无筛选 No filters: every row is shown")?;
    }
    for filter in table.filters() {
        row += 1;
        sheet.write_string_with_format(row, 0, filter.zh, &wrap)?;
        sheet.write_string_with_format(row, 1, filter.en, &wrap)?;
        write_text(sheet, row, 2, &filter.value, &plain)?;
    }

    row += 2;
    let headings = [
        "列名 Column",
        "English",
        "JSON 键 key",
        "类型 Type",
        "说明",
        "Description",
    ];
    for (column, heading) in (0..).zip(headings) {
        sheet.write_string_with_format(row, column, heading, &bold)?;
    }
    for described in table.columns() {
        row += 1;
        let kind = format!("{} {}", described.kind.zh(), described.kind.en());
        let texts = [
            described.zh,
            described.en,
            described.key,
            &kind,
            described.note_zh,
            described.note_en,
        ];
        for (column, text) in (0..).zip(texts) {
            write_text(sheet, row, column, text, &plain)?;
        }
    }
    if table.totals().is_some() {
        row += 2;
        sheet.write_string(row, 0, "最后一行（粗体）是合计。")?;
        sheet.write_string(row + 1, 0, "The last row (in bold) holds the totals.")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use calamine::{Data, Range, Reader, Xlsx};

    use super::super::sample;
    use super::*;

    fn workbook(table: &Table) -> Xlsx<Cursor<Vec<u8>>> {
        let bytes = to_xlsx(table).expect("the table fits in a workbook");
        calamine::open_workbook_from_rs(Cursor::new(bytes)).expect("a readable workbook")
    }

    fn data_sheet(table: &Table) -> Range<Data> {
        workbook(table)
            .worksheet_range(DATA_SHEET)
            .expect("the data sheet")
    }

    /// The cell at a spreadsheet position (0-based row and column).
    fn at(range: &Range<Data>, row: u32, column: u32) -> Data {
        range.get_value((row, column)).cloned().unwrap_or_default()
    }

    fn text(value: &str) -> Data {
        Data::String(value.to_owned())
    }

    /// A date cell as (year, month, day, hour, minute, second).
    fn date_parts(data: &Data) -> Option<(u16, u8, u8, u8, u8, u8)> {
        match data {
            Data::DateTime(date) if date.is_datetime() => {
                let (y, mo, d, h, mi, s, _) = date.to_ymd_hms_milli();
                Some((y, mo, d, h, mi, s))
            }
            _ => None,
        }
    }

    #[test]
    fn the_title_filters_and_chinese_header_come_first() {
        let range = data_sheet(&sample::table());
        assert_eq!(
            at(&range, 0, 0),
            text("学校图书 Books by school"),
            "line 1 is the title"
        );
        assert_eq!(
            at(&range, 1, 0),
            text("期间 Period：2026-07-01 至 2026-09-30；省 Province：贵州省"),
            "line 2 holds the filters"
        );
        let header: Vec<Data> = (0..6).map(|column| at(&range, 2, column)).collect();
        let expected: Vec<Data> = [
            "学校编号",
            "学校名称",
            "图书",
            "首本日期",
            "最后变动",
            "已收比例",
        ]
        .into_iter()
        .map(text)
        .collect();
        assert_eq!(header, expected, "line 3 is the Chinese header");
    }

    #[test]
    fn ids_stay_text_counts_are_numbers_and_dates_are_dates() {
        let range = data_sheet(&sample::table());
        // Line 4 is the first row.
        assert_eq!(at(&range, 3, 0), text("00123"), "leading zeros kept");
        assert_eq!(at(&range, 4, 0), text("440000"), "a code stays text");
        assert_eq!(at(&range, 5, 0), text("-5"), "an id that looks negative");
        assert_eq!(
            at(&range, 3, 2),
            Data::Float(5_800_000.0),
            "a count is a number"
        );
        assert_eq!(at(&range, 4, 2), Data::Float(-5.0), "a negative count too");
        assert_eq!(
            date_parts(&at(&range, 3, 3)),
            Some((2026, 7, 1, 0, 0, 0)),
            "a date is an Excel date"
        );
        assert_eq!(
            date_parts(&at(&range, 3, 4)),
            Some((2026, 7, 1, 8, 30, 5)),
            "an instant is its Beijing wall clock"
        );
        assert_eq!(at(&range, 3, 5), Data::Float(0.125), "1 of 8 is 0.125");
        assert_eq!(at(&range, 4, 3), Data::Empty, "an empty cell is empty");
        assert_eq!(
            at(&range, 4, 5),
            Data::Empty,
            "a share of nothing has no value"
        );
    }

    #[test]
    fn formula_like_text_is_a_string_not_a_formula() {
        let bytes = to_xlsx(&sample::table()).expect("a workbook");
        let mut workbook: Xlsx<_> =
            calamine::open_workbook_from_rs(Cursor::new(bytes)).expect("readable");
        let range = workbook
            .worksheet_range(DATA_SHEET)
            .expect("the data sheet");
        assert_eq!(
            at(&range, 4, 1),
            text("=HYPERLINK(\"http://x\",\"y\")"),
            "the name is kept as written"
        );
        assert_eq!(at(&range, 5, 1), text("-5 班"), "so is this one");
        let formulas = workbook
            .worksheet_formula(DATA_SHEET)
            .expect("formulas readable");
        assert!(
            formulas
                .used_cells()
                .all(|(_, _, formula)| formula.is_empty()),
            "no cell holds a formula: {formulas:?}"
        );
    }

    #[test]
    fn the_rows_and_totals_are_the_tables() {
        let table = sample::table();
        let range = data_sheet(&table);
        let read_rows: Vec<Vec<Data>> = (3..=6)
            .map(|row| (0..6).map(|column| at(&range, row, column)).collect())
            .collect();
        let shown: Vec<Vec<String>> = read_rows
            .iter()
            .map(|row| {
                row.iter()
                    .map(|data| match date_parts(data) {
                        Some((y, mo, d, 0, 0, 0)) => format!("{y:04}-{mo:02}-{d:02}"),
                        Some((y, mo, d, h, mi, s)) => {
                            format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}")
                        }
                        None => match data {
                            Data::Float(number) if number.fract() != 0.0 => {
                                format!("{:.1}%", number * 100.0)
                            }
                            other => other.to_string(),
                        },
                    })
                    .collect()
            })
            .collect();
        let expected: Vec<Vec<String>> = table
            .rows()
            .iter()
            .chain(table.totals().map(<[Cell]>::to_vec).as_ref())
            .map(|row| row.iter().map(Cell::plain_text).collect())
            .collect();
        assert_eq!(shown, expected, "every row, then the totals, as on screen");
        assert_eq!(
            range.end().map(|(row, _)| row),
            Some(6),
            "nothing after the totals"
        );
    }

    #[test]
    fn the_about_sheet_explains_every_column_and_filter() {
        let table = sample::table();
        let mut workbook = workbook(&table);
        assert_eq!(
            workbook.sheet_names(),
            [DATA_SHEET, ABOUT_SHEET],
            "data first, then the explanation"
        );
        let about = workbook.worksheet_range(ABOUT_SHEET).expect("the sheet");
        let texts: Vec<String> = about
            .rows()
            .flat_map(|row| row.iter().map(|data| data.to_string()))
            .collect();
        for column in table.columns() {
            for expected in [
                column.zh,
                column.en,
                column.key,
                column.note_zh,
                column.note_en,
            ] {
                assert!(
                    texts.iter().any(|text| text == expected),
                    "{expected:?} is explained: {texts:?}"
                );
            }
        }
        for expected in ["期间", "Period", "2026-07-01 至 2026-09-30", "贵州省"] {
            assert!(
                texts.iter().any(|text| text == expected),
                "the filter {expected:?} is listed"
            );
        }
    }

    #[test]
    fn an_empty_table_still_makes_a_workbook() {
        let table = Table::new("空表", "Empty", sample::columns());
        let range = data_sheet(&table);
        assert_eq!(at(&range, 2, 0), text("学校编号"), "the header is there");
        assert_eq!(
            range.end().map(|(row, _)| row),
            Some(2),
            "and no row after it"
        );
        let no_columns = Table::new("无列", "No columns", Vec::new());
        assert!(to_xlsx(&no_columns).is_ok(), "even without columns");
    }

    #[test]
    fn columns_are_wide_enough_for_chinese() {
        let widths = column_widths(&sample::table());
        // The formula-like name has 26 characters, "榕江县示例小学" 7 wide
        // ones (14 units): the longer sets the width, plus 3.
        assert_eq!(widths[1], 29, "the longest name sets the width: {widths:?}");
        assert_eq!(widths[2], 12, "\"5,800,000\" is 9 units, plus 3");
        assert_eq!(widths[4], 22, "a date and time");
        assert!(
            widths.iter().all(|&w| (MIN_WIDTH..=MAX_WIDTH).contains(&w)),
            "within bounds: {widths:?}"
        );
    }
}
