//! Tables as the admin console shows them, and the files they are exported
//! as. One [`Table`] value is rendered on screen ([`to_html`]) and exported
//! as XLSX ([`to_xlsx`]), CSV ([`to_csv`]) and JSON ([`to_json`]), so an
//! export holds exactly what the screen shows: the same title, filters,
//! columns, rows and totals, in the same order.
//!
//! A table is typed by column ([`ColumnKind`]) and every cell is checked
//! against its column when it is added ([`Table::push_row`]), so the writers
//! can trust that an id column holds ids: written as text everywhere, so a
//! county code such as `440000` or a school id such as `00123` survives
//! Excel, while counts are real numbers and dates real dates.
//!
//! Every CSV file the server writes, these tables and the allocation's
//! report and open data alike, goes through one [`CsvWriter`], which
//! neutralises text a spreadsheet would run as a formula ([`neutralise`]);
//! [`read_csv`] undoes it exactly, so `server verify` reads back the values
//! that were exported.
//!
//! Downloads are named with [`content_disposition`], which keeps a Chinese
//! file name and gives old browsers an ASCII one.

mod csv_file;
mod download;
mod html;
mod json;
mod xlsx_file;

use std::fmt;

use jiff::Timestamp;
use jiff::civil::{self, Date};
use jiff::tz;

pub use csv_file::{
    BOM, CsvWriter, neutralise, read_csv, restore_neutralised, starts_like_formula, to_csv,
};
pub use download::{ExportFormat, attachment, content_disposition};
pub use html::{TABLE_CSS, to_html};
pub use json::to_json;
pub use xlsx_file::{ABOUT_SHEET, DATA_SHEET, to_xlsx};

/// What a column holds, which decides how each format writes its cells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ColumnKind {
    /// Words: names, places, states.
    Text,
    /// An identifier that may look like a number (a school id, a county
    /// code): always written as text, so leading zeros and long digit runs
    /// survive spreadsheets.
    Id,
    /// A whole number (books, participations, schools; a change may be
    /// negative): a number in every format, right-aligned on screen.
    Count,
    /// A calendar day (China time): a real date in Excel.
    Date,
    /// An instant, shown in Beijing time (UTC+8) to the second: a real date
    /// and time in Excel.
    DateTime,
    /// A share of a whole ([`Share`]), shown as a percentage with one
    /// decimal.
    Percent,
}

impl ColumnKind {
    /// The kind's name in the JSON export (`"count"`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Text => "text",
            Self::Id => "id",
            Self::Count => "count",
            Self::Date => "date",
            Self::DateTime => "date_time",
            Self::Percent => "percent",
        }
    }

    /// What the kind means to a reader of the explanation sheet, in Chinese.
    fn zh(self) -> &'static str {
        match self {
            Self::Text => "文本",
            Self::Id => "编号（文本，不作数字）",
            Self::Count => "数量（整数）",
            Self::Date => "日期（北京时间）",
            Self::DateTime => "日期时间（北京时间，精确到秒）",
            Self::Percent => "百分比（保留一位小数）",
        }
    }

    /// What the kind means to a reader of the explanation sheet, in English.
    fn en(self) -> &'static str {
        match self {
            Self::Text => "text",
            Self::Id => "identifier (text, not a number)",
            Self::Count => "count (whole number)",
            Self::Date => "date (Beijing time)",
            Self::DateTime => "date and time (Beijing time, to the second)",
            Self::Percent => "percentage (one decimal)",
        }
    }

    /// True for kinds read as quantities, which line up on the right.
    pub fn is_numeric(self) -> bool {
        matches!(self, Self::Count | Self::Percent)
    }
}

/// One column of a [`Table`]: how it is keyed, headed and explained.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// The key of its values in the JSON export (`"books"`): stable, ASCII,
    /// `snake_case`.
    pub key: &'static str,
    /// Its header in Chinese (`"图书"`), the header of every export.
    pub zh: &'static str,
    /// Its header in English (`"Books"`), shown under the Chinese on screen
    /// and in the explanation sheet.
    pub en: &'static str,
    /// What it holds.
    pub kind: ColumnKind,
    /// What it means, in Chinese, for the explanation sheet
    /// (`"已分配给学校的图书册数"`).
    pub note_zh: &'static str,
    /// What it means, in English, for the explanation sheet.
    pub note_en: &'static str,
}

/// A condition that chose the rows of a [`Table`] (a period, a province),
/// shown above the table and in every export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    /// Its key in the JSON export (`"period"`).
    pub key: &'static str,
    /// Its label in Chinese (`"期间"`).
    pub zh: &'static str,
    /// Its label in English (`"Period"`).
    pub en: &'static str,
    /// Its value as shown (`"2026-07-01 至 2026-09-30"`).
    pub value: String,
}

impl Filter {
    /// A filter with the given key, labels and value.
    pub fn new(
        key: &'static str,
        zh: &'static str,
        en: &'static str,
        value: impl Into<String>,
    ) -> Self {
        Self {
            key,
            zh,
            en,
            value: value.into(),
        }
    }

    /// The period from `first` to `last`, both days included
    /// (`2026-07-01 至 2026-09-30`).
    pub fn period(first: Date, last: Date) -> Self {
        Self::new("period", "期间", "Period", format!("{first} 至 {last}"))
    }
}

/// A part of a whole (books received of books allocated), kept as both
/// counts so nothing is rounded before it is shown. With a whole of zero
/// there is no percentage, and the cell is shown empty.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Share {
    /// The part.
    pub part: u64,
    /// The whole.
    pub whole: u64,
}

impl Share {
    /// The part as a fraction of the whole (`0.125` for 1 of 8), or `None`
    /// when the whole is zero.
    pub fn ratio(self) -> Option<f64> {
        // Counts far below 2^53, so the conversions are exact.
        (self.whole != 0).then(|| self.part as f64 / self.whole as f64)
    }

    /// The percentage as shown, with one decimal (`"12.5%"`), or `None`
    /// when the whole is zero.
    pub fn percent_text(self) -> Option<String> {
        self.ratio().map(|ratio| format!("{:.1}%", ratio * 100.0))
    }
}

/// One value of a [`Table`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cell {
    /// Words, in a [`ColumnKind::Text`] column (or a totals label).
    Text(String),
    /// An identifier, in a [`ColumnKind::Id`] column.
    Id(String),
    /// A whole number, in a [`ColumnKind::Count`] column.
    Count(i64),
    /// A calendar day, in a [`ColumnKind::Date`] column.
    Date(Date),
    /// An instant, in a [`ColumnKind::DateTime`] column.
    DateTime(Timestamp),
    /// A share, in a [`ColumnKind::Percent`] column.
    Percent(Share),
    /// No value, in any column.
    Empty,
}

impl Cell {
    /// A text cell.
    pub fn text(text: impl Into<String>) -> Self {
        Self::Text(text.into())
    }

    /// An id cell.
    pub fn id(id: impl Into<String>) -> Self {
        Self::Id(id.into())
    }

    /// A count cell from an unsigned count (saturating at `i64::MAX`, far
    /// beyond any campaign).
    pub fn count(count: u64) -> Self {
        Self::Count(i64::try_from(count).unwrap_or(i64::MAX))
    }

    /// A percent cell of `part` out of `whole`.
    pub fn percent(part: u64, whole: u64) -> Self {
        Self::Percent(Share { part, whole })
    }

    /// The column kind the cell belongs in (`None` for [`Cell::Empty`],
    /// which belongs anywhere).
    pub fn kind(&self) -> Option<ColumnKind> {
        match self {
            Self::Text(_) => Some(ColumnKind::Text),
            Self::Id(_) => Some(ColumnKind::Id),
            Self::Count(_) => Some(ColumnKind::Count),
            Self::Date(_) => Some(ColumnKind::Date),
            Self::DateTime(_) => Some(ColumnKind::DateTime),
            Self::Percent(_) => Some(ColumnKind::Percent),
            Self::Empty => None,
        }
    }

    /// The value as plain text, as CSV carries it: counts without grouping
    /// (`5800000`), dates as `2026-07-01`, instants in Beijing time as
    /// `2026-07-01 08:30:05`, shares as `12.5%`; empty for no value.
    pub fn plain_text(&self) -> String {
        match self {
            Self::Text(text) | Self::Id(text) => text.clone(),
            Self::Count(count) => count.to_string(),
            Self::Date(date) => date.to_string(),
            Self::DateTime(instant) => beijing_text(*instant),
            Self::Percent(share) => share.percent_text().unwrap_or_default(),
            Self::Empty => String::new(),
        }
    }
}

/// Where a refused row was headed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowPlace {
    /// The body row at this index (from 0).
    Body(usize),
    /// The totals row.
    Totals,
}

impl fmt::Display for RowPlace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Body(index) => write!(f, "row {index}"),
            Self::Totals => write!(f, "the totals row"),
        }
    }
}

/// A row that does not fit its table's columns: a mistake in the code that
/// builds the table, reported instead of exporting a misleading file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TableError {
    /// The row has another number of cells than the table has columns.
    #[error("{place} has {cells} cells for {columns} columns")]
    Length {
        /// The row.
        place: RowPlace,
        /// Its cells.
        cells: usize,
        /// The table's columns.
        columns: usize,
    },
    /// A cell of one kind in a column of another.
    #[error("{place}, column {column}: a {found:?} cell in a {expected:?} column")]
    Kind {
        /// The row.
        place: RowPlace,
        /// The column's key.
        column: &'static str,
        /// The column's kind.
        expected: ColumnKind,
        /// The cell's kind.
        found: ColumnKind,
    },
}

/// A table as the admin console shows it: a title, the filters that chose
/// its rows, typed columns, rows and an optional totals row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    title_zh: String,
    title_en: String,
    filters: Vec<Filter>,
    columns: Vec<Column>,
    rows: Vec<Vec<Cell>>,
    /// Per row: where its first cell links to on screen.
    links: Vec<Option<String>>,
    totals: Option<Vec<Cell>>,
}

impl Table {
    /// An empty table titled `title_zh` (`"各省图书"`) and `title_en`
    /// (`"Books by province"`), with `columns`.
    pub fn new(
        title_zh: impl Into<String>,
        title_en: impl Into<String>,
        columns: Vec<Column>,
    ) -> Self {
        Self {
            title_zh: title_zh.into(),
            title_en: title_en.into(),
            filters: Vec::new(),
            columns,
            rows: Vec::new(),
            links: Vec::new(),
            totals: None,
        }
    }

    /// The table with `filter` added after the filters it has.
    pub fn with_filter(mut self, filter: Filter) -> Self {
        self.filters.push(filter);
        self
    }

    /// Adds a row, after checking that it has one cell per column and each
    /// cell fits its column (or is empty).
    pub fn push_row(&mut self, cells: Vec<Cell>) -> Result<(), TableError> {
        self.check(RowPlace::Body(self.rows.len()), &cells)?;
        self.rows.push(cells);
        self.links.push(None);
        Ok(())
    }

    /// Adds a row like [`Self::push_row`] whose first cell links to `href`
    /// on screen (a drill-down, a school's page). Exports carry the cell's
    /// value only.
    pub fn push_linked_row(&mut self, cells: Vec<Cell>, href: String) -> Result<(), TableError> {
        self.push_row(cells)?;
        if let Some(link) = self.links.last_mut() {
            *link = Some(href);
        }
        Ok(())
    }

    /// Where row `index`'s first cell links to on screen, if anywhere.
    pub fn row_link(&self, index: usize) -> Option<&str> {
        self.links.get(index).and_then(Option::as_deref)
    }

    /// Sets the totals row, checked like [`Self::push_row`] except that a
    /// text cell (a label such as `合计`) fits any column.
    pub fn set_totals(&mut self, cells: Vec<Cell>) -> Result<(), TableError> {
        self.check(RowPlace::Totals, &cells)?;
        self.totals = Some(cells);
        Ok(())
    }

    fn check(&self, place: RowPlace, cells: &[Cell]) -> Result<(), TableError> {
        if cells.len() != self.columns.len() {
            return Err(TableError::Length {
                place,
                cells: cells.len(),
                columns: self.columns.len(),
            });
        }
        for (column, cell) in self.columns.iter().zip(cells) {
            let Some(found) = cell.kind() else { continue };
            let label = place == RowPlace::Totals && found == ColumnKind::Text;
            if found != column.kind && !label {
                return Err(TableError::Kind {
                    place,
                    column: column.key,
                    expected: column.kind,
                    found,
                });
            }
        }
        Ok(())
    }

    /// The title in Chinese.
    pub fn title_zh(&self) -> &str {
        &self.title_zh
    }

    /// The title in English.
    pub fn title_en(&self) -> &str {
        &self.title_en
    }

    /// The filters that chose the rows, in order.
    pub fn filters(&self) -> &[Filter] {
        &self.filters
    }

    /// The columns, left to right.
    pub fn columns(&self) -> &[Column] {
        &self.columns
    }

    /// The rows, top to bottom; each has one cell per column.
    pub fn rows(&self) -> &[Vec<Cell>] {
        &self.rows
    }

    /// The totals row, if any; it has one cell per column.
    pub fn totals(&self) -> Option<&[Cell]> {
        self.totals.as_deref()
    }

    /// The filters on one line, labels in both languages
    /// (`期间 Period：2026-07-01 至 2026-09-30；省 Province：贵州省`), or
    /// `无筛选 No filters`.
    pub fn filters_line(&self) -> String {
        if self.filters.is_empty() {
            return "无筛选 No filters".to_owned();
        }
        self.filters
            .iter()
            .map(|filter| format!("{} {}：{}", filter.zh, filter.en, filter.value))
            .collect::<Vec<_>>()
            .join("；")
    }
}

/// China Standard Time: UTC+8 all year, as the campaign's days are
/// ([`crate::domain::ChinaDay`]).
fn beijing(instant: Timestamp) -> civil::DateTime {
    tz::offset(8).to_datetime(instant)
}

/// An instant in Beijing time, to the second (`2026-07-01 08:30:05`).
fn beijing_text(instant: Timestamp) -> String {
    beijing(instant).strftime("%Y-%m-%d %H:%M:%S").to_string()
}

/// `count` with a comma between groups of three digits (`5,800,000`), as
/// the screen shows counts.
pub(crate) fn group_thousands(count: i64) -> String {
    let digits = count.unsigned_abs().to_string();
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if count < 0 {
        grouped.push('-');
    }
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    grouped
}

/// How many columns of a monospaced grid `text` takes: 2 for each wide
/// character (CJK ideographs, kana, hangul, full-width forms), 1 for the
/// rest. Spreadsheet column widths and chart labels are sized with it.
pub(crate) fn display_width(text: &str) -> usize {
    text.chars().map(|c| if is_wide(c) { 2 } else { 1 }).sum()
}

/// True for characters East Asian fonts draw about twice as wide as a
/// digit (the ranges Unicode's East Asian Width calls wide or full-width).
fn is_wide(c: char) -> bool {
    matches!(u32::from(c),
        0x1100..=0x115F
        | 0x2E80..=0x303E
        | 0x3041..=0x33FF
        | 0x3400..=0x4DBF
        | 0x4E00..=0x9FFF
        | 0xA000..=0xA4CF
        | 0xAC00..=0xD7A3
        | 0xF900..=0xFAFF
        | 0xFE30..=0xFE4F
        | 0xFF00..=0xFF60
        | 0xFFE0..=0xFFE6
        | 0x20000..=0x3FFFD)
}

/// A small table that uses every kind of column, a formula-like name, ids
/// that look like numbers, a negative count, and totals: the shared sample
/// of the format tests.
#[cfg(test)]
pub(crate) mod sample {
    use jiff::civil::date;

    use super::*;

    /// The sample's columns, one of each kind.
    pub fn columns() -> Vec<Column> {
        vec![
            Column {
                key: "school_id",
                zh: "学校编号",
                en: "School id",
                kind: ColumnKind::Id,
                note_zh: "学校名单中的编号",
                note_en: "The school's id in the list",
            },
            Column {
                key: "name",
                zh: "学校名称",
                en: "School",
                kind: ColumnKind::Text,
                note_zh: "学校全称",
                note_en: "The school's full name",
            },
            Column {
                key: "books",
                zh: "图书",
                en: "Books",
                kind: ColumnKind::Count,
                note_zh: "已分配的图书册数",
                note_en: "Books allocated",
            },
            Column {
                key: "first_book_on",
                zh: "首本日期",
                en: "First book on",
                kind: ColumnKind::Date,
                note_zh: "第一本书分配的日期",
                note_en: "The day its first book was allocated",
            },
            Column {
                key: "last_change_at",
                zh: "最后变动",
                en: "Last change",
                kind: ColumnKind::DateTime,
                note_zh: "最后一次变动的时间",
                note_en: "When it last changed",
            },
            Column {
                key: "received_share",
                zh: "已收比例",
                en: "Received",
                kind: ColumnKind::Percent,
                note_zh: "已收到的图书占已分配的比例",
                note_en: "Books received, of books allocated",
            },
        ]
    }

    /// 2026-07-01 08:30:05 in Beijing.
    pub fn morning() -> Timestamp {
        "2026-07-01T00:30:05Z".parse().expect("a valid instant")
    }

    /// The sample table.
    pub fn table() -> Table {
        let mut table = Table::new("学校图书", "Books by school", columns())
            .with_filter(Filter::period(date(2026, 7, 1), date(2026, 9, 30)))
            .with_filter(Filter::new("province", "省", "Province", "贵州省"));
        let rows = [
            vec![
                Cell::id("00123"),
                Cell::text("榕江县示例小学"),
                Cell::count(5_800_000),
                Cell::Date(date(2026, 7, 1)),
                Cell::DateTime(morning()),
                Cell::percent(1, 8),
            ],
            vec![
                Cell::id("440000"),
                Cell::text("=HYPERLINK(\"http://x\",\"y\")"),
                Cell::Count(-5),
                Cell::Empty,
                Cell::Empty,
                Cell::percent(0, 0),
            ],
            vec![
                Cell::id("-5"),
                Cell::text("-5 班"),
                Cell::count(0),
                Cell::Date(date(2026, 9, 30)),
                Cell::Empty,
                Cell::percent(2, 3),
            ],
        ];
        for row in rows {
            table.push_row(row).expect("the sample fits its columns");
        }
        table
            .set_totals(vec![
                Cell::text("合计"),
                Cell::Empty,
                Cell::count(5_799_995),
                Cell::Empty,
                Cell::Empty,
                Cell::percent(3, 11),
            ])
            .expect("the totals fit");
        table
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_must_fit_their_columns() {
        let mut table = Table::new("t", "t", sample::columns());
        let too_short = vec![Cell::id("1")];
        assert_eq!(
            table.push_row(too_short),
            Err(TableError::Length {
                place: RowPlace::Body(0),
                cells: 1,
                columns: 6
            }),
            "a short row is refused"
        );
        let mut count_as_id = sample::table().rows()[0].clone();
        count_as_id[0] = Cell::count(123);
        assert_eq!(
            table.push_row(count_as_id),
            Err(TableError::Kind {
                place: RowPlace::Body(0),
                column: "school_id",
                expected: ColumnKind::Id,
                found: ColumnKind::Count
            }),
            "an id column takes no number, so ids cannot lose their zeros"
        );
        let empty = vec![Cell::Empty; 6];
        assert_eq!(table.push_row(empty), Ok(()), "empty fits anywhere");
    }

    #[test]
    fn a_totals_label_fits_any_column_but_numbers_do_not() {
        let mut table = Table::new("t", "t", sample::columns());
        let mut totals = vec![Cell::Empty; 6];
        totals[2] = Cell::text("合计");
        assert_eq!(table.set_totals(totals), Ok(()), "a label anywhere");
        let mut totals = vec![Cell::Empty; 6];
        totals[1] = Cell::count(3);
        assert!(
            matches!(
                table.set_totals(totals),
                Err(TableError::Kind {
                    place: RowPlace::Totals,
                    ..
                })
            ),
            "a count in a text column is still a mistake"
        );
    }

    #[test]
    fn plain_text_is_what_csv_carries() {
        let check = |cell: Cell, expected: &str| {
            assert_eq!(cell.plain_text(), expected, "{cell:?}");
        };
        check(Cell::count(5_800_000), "5800000");
        check(Cell::Count(-5), "-5");
        check(Cell::Date(civil::date(2026, 7, 1)), "2026-07-01");
        check(Cell::DateTime(sample::morning()), "2026-07-01 08:30:05");
        check(Cell::percent(1, 8), "12.5%");
        check(Cell::percent(2, 3), "66.7%");
        check(Cell::percent(0, 0), "");
        check(Cell::id("00123"), "00123");
        check(Cell::Empty, "");
    }

    #[test]
    fn counts_are_grouped_by_thousands_on_screen() {
        for (count, expected) in [
            (0, "0"),
            (999, "999"),
            (1_000, "1,000"),
            (5_800_000, "5,800,000"),
            (-1_234_567, "-1,234,567"),
            (i64::MIN, "-9,223,372,036,854,775,808"),
        ] {
            assert_eq!(group_thousands(count), expected, "{count}");
        }
    }

    #[test]
    fn wide_characters_count_twice() {
        for (text, expected) in [
            ("", 0),
            ("abc", 3),
            ("贵州省", 6),
            ("S-001 小学", 10),
            ("（人）", 6),
        ] {
            assert_eq!(display_width(text), expected, "{text:?}");
        }
    }

    #[test]
    fn filters_read_on_one_line() {
        assert_eq!(
            sample::table().filters_line(),
            "期间 Period：2026-07-01 至 2026-09-30；省 Province：贵州省",
            "both filters, both languages"
        );
        assert_eq!(
            Table::new("t", "t", vec![]).filters_line(),
            "无筛选 No filters",
            "says so when there are none"
        );
    }
}
