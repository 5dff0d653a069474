//! Good files import every school, whatever the encoding, format, line
//! endings, delimiter or column order.

use encoding_rs::GBK;
use server::schools::parse_school_file;

use crate::helpers::{
    GOOD_ROWS, HEADER_ZH, XlsxCell, delimited, good_csv, good_schools, good_xlsx_rows, xlsx,
};

/// Parses `bytes` as `file_name` and checks it yields [`good_schools`].
fn check(file_name: &str, bytes: &[u8], what: &str) {
    match parse_school_file(file_name, bytes) {
        Ok(schools) => assert_eq!(schools, good_schools(), "{what}: the schools read"),
        Err(error) => panic!("{what}: refused with {error}"),
    }
}

#[test]
fn utf8_without_a_byte_order_mark() {
    check("schools.csv", good_csv().as_bytes(), "UTF-8");
}

#[test]
fn utf8_with_a_byte_order_mark_and_crlf_as_excel_saves_csv_utf8() {
    let mut rows = vec![HEADER_ZH];
    rows.extend(GOOD_ROWS);
    let text = format!("\u{feff}{}", delimited(&rows, ",", "\r\n"));
    check("学校名单.csv", text.as_bytes(), "UTF-8 with BOM and CRLF");
}

#[test]
fn gbk_as_excel_in_china_saves_csv() {
    let mut rows = vec![HEADER_ZH];
    rows.extend(GOOD_ROWS);
    let text = delimited(&rows, ",", "\r\n");
    let (bytes, _, unmappable) = GBK.encode(&text);
    assert!(!unmappable, "every sample character exists in GBK");
    assert!(
        std::str::from_utf8(&bytes).is_err(),
        "the GBK bytes are not UTF-8, so detection is really exercised"
    );
    check("学校名单.csv", &bytes, "GBK");
}

#[test]
fn gbk_tab_delimited_text_as_excel_saves_txt() {
    let mut rows = vec![HEADER_ZH];
    rows.extend(GOOD_ROWS);
    let text = delimited(&rows, "\t", "\r\n");
    let (bytes, _, _) = GBK.encode(&text);
    check("学校名单.txt", &bytes, "GBK, tab-delimited");
}

#[test]
fn english_headers_in_another_order_with_extra_columns_and_blank_rows() {
    // Columns: notes, pupils, name, county, id, code, province, target, prefecture.
    let order = [6, 1, 4, 0, 5, 2, 7, 3];
    let header = [
        "notes",
        "Pupils",
        "Name",
        "County",
        "School ID",
        "County Code",
        "Province",
        "Target Books",
        "Prefecture",
    ];
    let mut rows = vec![header.map(str::to_owned).to_vec()];
    for row in &GOOD_ROWS {
        let mut cells = vec!["\"a note, with a comma\"".to_owned()];
        cells.extend(order.iter().map(|&field| format!(" {} ", row[field])));
        rows.push(cells);
    }
    rows.push(vec![String::new(); 9]);
    rows.push(vec![String::new(); 9]);
    check(
        "schools.csv",
        delimited(&rows, ",", "\n").as_bytes(),
        "English headers, shuffled, padded cells, trailing blank rows",
    );
}

#[test]
fn xlsx_with_numbers_stored_as_numbers() {
    check("学校名单.xlsx", &xlsx(0, &good_xlsx_rows()), "XLSX");
}

#[test]
fn xlsx_with_every_cell_stored_as_text() {
    let mut rows = vec![HEADER_ZH.iter().map(|h| XlsxCell::Text(h)).collect()];
    rows.extend(
        GOOD_ROWS
            .iter()
            .map(|row| row.iter().map(|text| XlsxCell::Text(text)).collect()),
    );
    check("学校名单.xlsx", &xlsx(0, &rows), "XLSX, text cells");
}

#[test]
fn the_content_decides_the_format_not_the_name() {
    let workbook = xlsx(0, &good_xlsx_rows());
    check("renamed.csv", &workbook, "an XLSX named .csv");
    check("upload", &workbook, "an XLSX without an extension");
    check(
        "upload",
        good_csv().as_bytes(),
        "a CSV without an extension",
    );
}

/// Title and notes rows as staff put them above the header: one title, or
/// a title, a note and a contact line. CSV from Excel pads them with
/// delimiters to the width of the sheet.
const TITLES: [&[&str]; 2] = [
    &["2026 年受赠学校名单"],
    &[
        "2026 年受赠学校名单",
        "注：学生数以 2026 年秋季学期为准，目标册数按每人 2 册计",
        "联系人：张老师",
    ],
];

/// The good rows under `titles`, each padded to the header's width with
/// `delimiter` when `padded`.
fn titled_text(titles: &[&str], delimiter: &str, padded: bool) -> String {
    let padding = if padded {
        delimiter.repeat(HEADER_ZH.len() - 1)
    } else {
        String::new()
    };
    let mut text: String = titles
        .iter()
        .map(|title| format!("{title}{padding}\r\n"))
        .collect();
    let mut rows = vec![HEADER_ZH];
    rows.extend(GOOD_ROWS);
    text.push_str(&delimited(&rows, delimiter, "\r\n"));
    text
}

#[test]
fn csv_with_a_title_and_notes_above_the_header() {
    for titles in TITLES {
        for padded in [true, false] {
            let what = format!("{} title rows, padded: {padded}", titles.len());
            let text = titled_text(titles, ",", padded);
            check("学校名单.csv", text.as_bytes(), &format!("UTF-8, {what}"));
            let with_bom = format!("\u{feff}{text}");
            check(
                "学校名单.csv",
                with_bom.as_bytes(),
                &format!("UTF-8 BOM, {what}"),
            );
            let (gbk, _, unmappable) = GBK.encode(&text);
            assert!(!unmappable, "every character exists in GBK");
            check("学校名单.csv", &gbk, &format!("GBK, {what}"));
            let tab_delimited = titled_text(titles, "\t", padded);
            let (tabbed, _, _) = GBK.encode(&tab_delimited);
            check(
                "学校名单.txt",
                &tabbed,
                &format!("GBK tab-delimited, {what}"),
            );
        }
    }
}

#[test]
fn xlsx_with_a_title_and_notes_above_the_header() {
    for titles in TITLES {
        let mut rows: Vec<Vec<XlsxCell<'_>>> = titles
            .iter()
            .map(|title| vec![XlsxCell::Text(title)])
            .collect();
        // A blank row between the notes and the header, as staff leave one.
        rows.push(vec![]);
        rows.extend(good_xlsx_rows());
        check(
            "学校名单.xlsx",
            &xlsx(0, &rows),
            &format!("XLSX, {} title rows", titles.len()),
        );
    }
}

#[test]
fn the_header_may_be_on_line_10() {
    let titles: Vec<String> = (1..=9).map(|n| format!("说明第 {n} 行")).collect();
    let titles: Vec<&str> = titles.iter().map(String::as_str).collect();
    check(
        "学校名单.csv",
        titled_text(&titles, ",", true).as_bytes(),
        "nine lines of notes",
    );
}
