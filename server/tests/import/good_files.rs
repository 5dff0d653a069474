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
