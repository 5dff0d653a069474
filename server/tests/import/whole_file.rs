//! Files refused as a whole: nothing to read, an unreadable format or
//! encoding, or a header that does not name every field once.

use server::schools::{Field, ImportError, parse_school_file};

use crate::helpers::{GOOD_ROWS, HEADER_ZH, delimited, good_csv};

/// Parses `bytes` as `file_name`, expecting a whole-file refusal.
fn refusal(file_name: &str, bytes: &[u8]) -> ImportError {
    match parse_school_file(file_name, bytes) {
        Ok(schools) => panic!("{file_name}: imported {} schools", schools.len()),
        Err(error) => error,
    }
}

#[test]
fn empty_files_and_blank_rows_only_are_empty() {
    for (what, bytes) in [
        ("no bytes", &b""[..]),
        ("a byte order mark", b"\xEF\xBB\xBF"),
        ("blank rows", b",,,,\r\n\r\n , ,\r\n"),
    ] {
        let error = refusal("schools.csv", bytes);
        assert!(matches!(error, ImportError::Empty), "{what}: got {error:?}");
    }
}

#[test]
fn a_header_without_schools_is_refused() {
    let text = delimited(&[HEADER_ZH], ",", "\n");
    let error = refusal("schools.csv", text.as_bytes());
    assert!(matches!(error, ImportError::NoSchools), "got {error:?}");
}

#[test]
fn missing_columns_are_all_named_with_the_header_line() {
    let text = "\n学校编号,学校名称,省,市/州,县,县代码\nS-1,某校,贵州省,黔东南,榕江县,522632\n";
    let error = refusal("schools.csv", text.as_bytes());
    match &error {
        ImportError::MissingColumns {
            header_line,
            missing,
        } => {
            assert_eq!(*header_line, 2, "the header follows a blank line");
            assert_eq!(
                missing,
                &vec![Field::Pupils, Field::TargetBooks],
                "both absent fields"
            );
        }
        other => panic!("expected missing columns, got {other:?}"),
    }
    let message = error.to_string();
    assert!(
        message.contains("缺少列：学生数、目标册数") && message.contains("pupils, target_books"),
        "both languages: {message}"
    );
}

#[test]
fn a_header_below_line_10_is_not_found_and_the_message_says_what_was_looked_for() {
    let mut rows: Vec<Vec<String>> = (1..=10)
        .map(|n| vec![format!("说明第 {n} 行"), String::new()])
        .collect();
    rows.push(HEADER_ZH.map(str::to_owned).to_vec());
    rows.push(GOOD_ROWS[0].map(str::to_owned).to_vec());
    let text = delimited(&rows, ",", "\n");
    let error = refusal("schools.csv", text.as_bytes());
    match &error {
        ImportError::MissingColumns {
            header_line,
            missing,
        } => {
            assert_eq!(*header_line, 1, "no row came closer than the first");
            assert_eq!(missing, &Field::ALL.to_vec(), "it names no field");
        }
        other => panic!("expected missing columns, got {other:?}"),
    }
    let message = error.to_string();
    for expected in [
        "前 10 行中没有表头，表头须含以下各列：学校编号、学校名称、省、市/州、县、县代码、学生数、目标册数",
        "no header within the first 10 lines naming the columns school_id, name, province, prefecture, county, county_code, pupils, target_books",
    ] {
        assert!(
            message.contains(expected),
            "{expected:?} missing from: {message}"
        );
    }
}

#[test]
fn the_closest_row_to_a_header_is_named() {
    // A title, then a header without the two count columns.
    let text = "2026 年受赠学校名单\n学校编号,学校名称,省,市/州,县,县代码\nS-1,某校,贵州省,黔东南,榕江县,522632\n";
    let error = refusal("schools.csv", text.as_bytes());
    assert!(
        matches!(
            &error,
            ImportError::MissingColumns { header_line: 2, missing }
                if missing == &vec![Field::Pupils, Field::TargetBooks]
        ),
        "the title names no field, line 2 names six: got {error:?}"
    );
}

#[test]
fn a_field_named_by_two_columns_is_ambiguous() {
    let text = good_csv().replacen("目标册数", "目标册数,target_books", 1);
    let error = refusal("schools.csv", text.as_bytes());
    assert!(
        matches!(
            error,
            ImportError::RepeatedColumn {
                field: Field::TargetBooks,
                first_column: 8,
                second_column: 9,
            }
        ),
        "got {error:?}"
    );
}

#[test]
fn bytes_neither_utf8_nor_gbk_are_refused_with_their_line() {
    let mut bytes = good_csv().into_bytes();
    // A byte that starts no character in either encoding, on line 3.
    let line_3 = bytes
        .iter()
        .enumerate()
        .filter(|&(_, &b)| b == b'\n')
        .nth(1)
        .map(|(i, _)| i + 1)
        .expect("the sample has 4 lines");
    bytes.insert(line_3 + 2, 0xFF);
    let error = refusal("schools.csv", &bytes);
    assert!(
        matches!(error, ImportError::Undecodable { line: 3 }),
        "got {error:?}"
    );
}

#[test]
fn unknown_and_legacy_formats_are_refused_with_advice() {
    let error = refusal("schools.pdf", b"%PDF-1.7");
    assert!(
        matches!(&error, ImportError::UnknownFormat { file_name } if file_name == "schools.pdf"),
        "got {error:?}"
    );

    let ole = [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1, 0, 0];
    for (name, bytes) in [("schools.xls", &b"anything"[..]), ("upload", &ole[..])] {
        let error = refusal(name, bytes);
        assert!(
            matches!(error, ImportError::LegacyExcel),
            "{name}: got {error:?}"
        );
        assert!(
            error.to_string().contains("XLSX"),
            "the message says what to save as: {error}"
        );
    }
}

#[test]
fn a_damaged_workbook_is_refused() {
    let error = refusal("schools.xlsx", b"PK\x03\x04 not really a zip");
    assert!(matches!(error, ImportError::Xlsx(_)), "got {error:?}");
}
