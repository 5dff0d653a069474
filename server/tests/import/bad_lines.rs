//! Every kind of bad line is reported with the line number a spreadsheet
//! user sees, every bad line of a file at once, and nothing is imported.

use encoding_rs::GBK;
use server::schools::{CountyCodeError, Field, LineError, LineProblem, parse_school_file};

use crate::helpers::{GOOD_ROWS, HEADER_ZH, XlsxCell, delimited, line_errors, xlsx};

/// A school row in header order, good except where the test changes it.
fn row(id: &str, name: &str, county_code: &str, pupils: &str, target: &str) -> Vec<String> {
    [
        id,
        name,
        "贵州省",
        "黔东南苗族侗族自治州",
        "榕江县",
        county_code,
        pupils,
        target,
    ]
    .map(str::to_owned)
    .to_vec()
}

/// One file with every kind of bad line, and the errors it must produce.
fn file_with_every_problem() -> (String, Vec<LineError>) {
    let long_name = "长".repeat(101);
    let long_id = format!("S-{}", "9".repeat(31));
    let lines: Vec<Vec<String>> = vec![
        HEADER_ZH.map(str::to_owned).to_vec(),                 // 1
        GOOD_ROWS[0].map(str::to_owned).to_vec(),              // 2
        row("S-003", "", "522632", "420", "900"),              // 3
        row("S-004", "A校", "52263", "420", "900"),            // 4
        row("S-005", "B校", "522600", "420", "900"),           // 5
        row("S-006", "C校", "992632", "420", "900"),           // 6
        row("S-007", "D校", "522632", "abc", "-5"),            // 7
        row("S-008", "E校", "522632", "0", "900"),             // 8
        row("S-009", "F校", "522632", "420", "0"),             // 9
        row("S-010", "G校", "522632", "420.5", "99999999999"), // 10
        row("S-011", "H校", "522632", "100001", "900"),        // 11
        row("S-001", "重复的学校", "522632", "420", "900"),    // 12
        row("S-013", &long_name, "522632", "420", "900"),      // 13
        row("S 014", "I校", "522632", "420", "900"),           // 14
        vec!["S-015".to_owned(), "J校".to_owned()],            // 15
        row("S-016", "\"K\n校\"", "522632", "420", "900"),     // 16-17
        vec![String::new(); 8],                                // 18
        row("S-019", "L校", "522632", "420", "900"),           // 19
        row(&long_id, "M校", "522632", "420", "900"),          // 20
    ];
    let problem = |line, reason| LineError { line, reason };
    let expected = vec![
        problem(3, LineProblem::MissingField { field: Field::Name }),
        problem(
            4,
            LineProblem::BadCountyCode {
                value: "52263".into(),
                problem: CountyCodeError::NotSixDigits,
            },
        ),
        problem(
            5,
            LineProblem::BadCountyCode {
                value: "522600".into(),
                problem: CountyCodeError::NotACounty,
            },
        ),
        problem(
            6,
            LineProblem::BadCountyCode {
                value: "992632".into(),
                problem: CountyCodeError::UnknownProvince { province: 99 },
            },
        ),
        problem(
            7,
            LineProblem::NotAWholeNumber {
                field: Field::Pupils,
                value: "abc".into(),
            },
        ),
        problem(
            7,
            LineProblem::NotAWholeNumber {
                field: Field::TargetBooks,
                value: "-5".into(),
            },
        ),
        problem(
            8,
            LineProblem::Zero {
                field: Field::Pupils,
            },
        ),
        problem(
            9,
            LineProblem::Zero {
                field: Field::TargetBooks,
            },
        ),
        problem(
            10,
            LineProblem::NotAWholeNumber {
                field: Field::Pupils,
                value: "420.5".into(),
            },
        ),
        problem(
            10,
            LineProblem::TooLarge {
                field: Field::TargetBooks,
                value: "99999999999".into(),
                max: 1_000_000,
            },
        ),
        problem(
            11,
            LineProblem::TooLarge {
                field: Field::Pupils,
                value: "100001".into(),
                max: 100_000,
            },
        ),
        problem(
            12,
            LineProblem::RepeatedSchoolId {
                id: "S-001".into(),
                first_line: 2,
            },
        ),
        problem(
            13,
            LineProblem::TooLong {
                field: Field::Name,
                chars: 101,
                max_chars: 100,
            },
        ),
        problem(
            14,
            LineProblem::BadSchoolId {
                value: "S 014".into(),
            },
        ),
        problem(
            15,
            LineProblem::MissingField {
                field: Field::Province,
            },
        ),
        problem(
            15,
            LineProblem::MissingField {
                field: Field::Prefecture,
            },
        ),
        problem(
            15,
            LineProblem::MissingField {
                field: Field::County,
            },
        ),
        problem(
            15,
            LineProblem::MissingField {
                field: Field::CountyCode,
            },
        ),
        problem(
            15,
            LineProblem::MissingField {
                field: Field::Pupils,
            },
        ),
        problem(
            15,
            LineProblem::MissingField {
                field: Field::TargetBooks,
            },
        ),
        problem(16, LineProblem::ControlCharacter { field: Field::Name }),
        problem(20, LineProblem::BadSchoolId { value: long_id }),
    ];
    (delimited(&lines, ",", "\r\n"), expected)
}

#[test]
fn every_bad_line_is_reported_with_its_line_number_and_nothing_is_imported() {
    let (text, expected) = file_with_every_problem();
    let errors = line_errors(parse_school_file("schools.csv", text.as_bytes()));
    assert_eq!(errors, expected, "every problem, in line order");
}

#[test]
fn gbk_files_report_the_same_lines() {
    let (text, expected) = file_with_every_problem();
    let (bytes, _, unmappable) = GBK.encode(&text);
    assert!(!unmappable, "every character exists in GBK");
    let errors = line_errors(parse_school_file("schools.csv", &bytes));
    assert_eq!(errors, expected, "the encoding does not move line numbers");
}

#[test]
fn the_message_names_each_line_in_chinese_and_english() {
    let (text, _) = file_with_every_problem();
    let error = parse_school_file("schools.csv", text.as_bytes()).expect_err("bad lines");
    let message = error.to_string();
    for expected in [
        "22 处错误，未导入任何学校 / 22 problems, nothing was imported",
        "第 3 行 / line 3: 缺少“学校名称” / missing name",
        "第 12 行 / line 12: 学校编号“S-001”与第 2 行重复 / school id \"S-001\" repeats line 2",
        "第 8 行 / line 8: “学生数”不能为 0 / pupils cannot be 0",
    ] {
        assert!(
            message.contains(expected),
            "{expected:?} missing from:\n{message}"
        );
    }
}

#[test]
fn xlsx_lines_are_the_rows_excel_shows() {
    use XlsxCell::{Empty, ErrorResult, Number, Text};
    let good = |id| {
        vec![
            Text(id),
            Text("某示例小学"),
            Text("贵州省"),
            Text("黔东南苗族侗族自治州"),
            Text("榕江县"),
            Number(522_632.0),
            Number(420.0),
            Number(900.0),
        ]
    };
    let mut not_available = good("X-5");
    not_available[6] = ErrorResult("#N/A");
    let mut fraction = good("X-6");
    fraction[7] = Number(3.5);
    let mut short_code = good("X-8");
    short_code[5] = Number(52_263.0);
    // Rows 1-2 are empty (a title would go there); the header is on row 3.
    let workbook = xlsx(
        2,
        &[
            HEADER_ZH.iter().map(|h| Text(h)).collect(),
            good("X-4"),
            not_available,
            fraction,
            vec![Empty; 8],
            short_code,
        ],
    );
    let errors = line_errors(parse_school_file("schools.xlsx", &workbook));
    assert_eq!(
        errors,
        vec![
            LineError {
                line: 5,
                reason: LineProblem::ErrorValue {
                    field: Field::Pupils,
                    value: "#N/A".into(),
                },
            },
            LineError {
                line: 6,
                reason: LineProblem::NotAWholeNumber {
                    field: Field::TargetBooks,
                    value: "3.5".into(),
                },
            },
            LineError {
                line: 8,
                reason: LineProblem::BadCountyCode {
                    value: "52263".into(),
                    problem: CountyCodeError::NotSixDigits,
                },
            },
        ],
        "spreadsheet rows, counting the empty rows above the header"
    );
}

/// Parses a file whose line 3 is the first good row with `field`'s cell
/// (0-based, header order) set to `value`, and checks it is refused with
/// one formula error naming `first`.
fn check_formula_like(column: usize, value: &str, field: Field, first: char) {
    let mut bad = GOOD_ROWS[1].map(str::to_owned);
    // Quoted, so a carriage return stays inside the cell.
    bad[column] = format!("\"{value}\"");
    let lines = vec![
        HEADER_ZH.map(str::to_owned).to_vec(),
        GOOD_ROWS[0].map(str::to_owned).to_vec(),
        bad.to_vec(),
    ];
    let text = delimited(&lines, ",", "\n");
    let errors = line_errors(parse_school_file("schools.csv", text.as_bytes()));
    assert_eq!(
        errors,
        vec![LineError {
            line: 3,
            reason: LineProblem::FormulaLike { field, first },
        }],
        "{value:?} in {field} is refused as formula-like"
    );
}

#[test]
fn text_that_a_spreadsheet_would_run_as_a_formula_is_refused() {
    check_formula_like(
        1,
        "=HYPERLINK(\"\"http://x\"\",\"\"y\"\")",
        Field::Name,
        '=',
    );
    check_formula_like(2, "+86 贵州省", Field::Province, '+');
    check_formula_like(0, "-5", Field::Id, '-');
    check_formula_like(4, "@SUM(A1)", Field::County, '@');
    check_formula_like(3, "\t黔东南", Field::Prefecture, '\t');
    check_formula_like(1, "\r示例小学", Field::Name, '\r');
    // Spaces are trimmed before the name is stored, so they do not hide it.
    check_formula_like(1, "  =1+1", Field::Name, '=');
}

#[test]
fn a_formula_sign_inside_text_is_fine() {
    let mut row = GOOD_ROWS[0];
    row[1] = "一（2）班 = 二班 + 三班";
    row[0] = "S-1";
    let text = delimited(&[HEADER_ZH, row], ",", "\n");
    let schools = parse_school_file("schools.csv", text.as_bytes()).expect("imported");
    assert_eq!(schools[0].name, row[1], "only the start of a field matters");
}

#[test]
fn formula_like_xlsx_cells_are_refused_too_and_explained_in_both_languages() {
    use XlsxCell::{Number, Text};
    let row = |id, name, county| {
        vec![
            Text(id),
            Text(name),
            Text("贵州省"),
            Text("黔东南苗族侗族自治州"),
            Text(county),
            Number(522_632.0),
            Number(420.0),
            Number(900.0),
        ]
    };
    let workbook = xlsx(
        0,
        &[
            HEADER_ZH.iter().map(|h| Text(h)).collect(),
            row("X-1", "=cmd|' /C calc'!A0", "榕江县"),
            row("X-2", "示例小学", "\t榕江县"),
        ],
    );
    let error = parse_school_file("schools.xlsx", &workbook).expect_err("refused");
    let message = error.to_string();
    for expected in [
        "第 2 行 / line 2: “学校名称”以“=”开头，电子表格会把它当作公式，请删去或改写开头 / name begins with \"=\", which a spreadsheet would run as a formula",
        "第 3 行 / line 3: “县”以制表符开头",
        "county begins with a tab",
    ] {
        assert!(
            message.contains(expected),
            "{expected:?} missing from:\n{message}"
        );
    }
}

#[test]
fn lines_below_a_title_keep_their_spreadsheet_numbers() {
    let mut bad = GOOD_ROWS[1];
    bad[6] = "0";
    let csv = format!(
        "2026 年受赠学校名单,,,,,,,\n注：学生数以秋季学期为准,,,,,,,\n\n{}",
        delimited(&[HEADER_ZH, GOOD_ROWS[0], bad], ",", "\n")
    );
    let expected = vec![LineError {
        line: 6,
        reason: LineProblem::Zero {
            field: Field::Pupils,
        },
    }];
    let errors = line_errors(parse_school_file("schools.csv", csv.as_bytes()));
    assert_eq!(
        errors, expected,
        "CSV: title, note, blank, header, good, bad"
    );

    use XlsxCell::Text;
    let text_row = |row: &[&'static str]| row.iter().map(|cell| Text(cell)).collect::<Vec<_>>();
    let workbook = xlsx(
        0,
        &[
            vec![Text("2026 年受赠学校名单")],
            vec![Text("注：学生数以秋季学期为准")],
            vec![],
            text_row(&HEADER_ZH),
            text_row(&GOOD_ROWS[0]),
            text_row(&bad),
        ],
    );
    let errors = line_errors(parse_school_file("schools.xlsx", &workbook));
    assert_eq!(errors, expected, "XLSX: the same rows");
}
