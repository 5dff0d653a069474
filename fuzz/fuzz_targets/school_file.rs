//! Fuzz target: the school-file reader behind `server import-schools` and
//! the admin's upload (`server::schools::parse_school_file`).
//!
//! Input: the bytes of an uploaded file, read twice: named `x.csv` (CSV
//! text in UTF-8, UTF-8 with a byte order mark, or GBK; a ZIP is read as
//! XLSX whatever its name, since the content decides first) and named
//! `x.xlsx` (the ZIP and XML readers of calamine). Checks:
//!
//! - reading never panics, and a refusal's message (every bad line, in
//!   Chinese and English) formats;
//! - every school of a file that imports keeps the invariants the rest of
//!   the server trusts: an id of 1-32 URL-safe characters, unique in the
//!   file; names and places trimmed, not empty, within their lengths,
//!   without control characters and not starting like a spreadsheet
//!   formula; a county code of six digits that reads back as itself; pupils
//!   and target books from 1 to their maxima.

#![no_main]

use std::collections::HashSet;

use libfuzzer_sys::fuzz_target;
use server::schools::import::{
    MAX_ID_CHARS, MAX_NAME_CHARS, MAX_PLACE_CHARS, MAX_PUPILS, MAX_TARGET_BOOKS,
};
use server::schools::{CountyCode, School, parse_school_file};
use server::tables::starts_like_formula;

fuzz_target!(|data: &[u8]| {
    for file_name in ["x.csv", "x.xlsx"] {
        match parse_school_file(file_name, data) {
            Ok(schools) => check_schools(&schools),
            Err(error) => {
                let message = error.to_string();
                assert!(!message.is_empty(), "a refusal says why");
            }
        }
    }
});

fn check_schools(schools: &[School]) {
    assert!(!schools.is_empty(), "an import has at least one school");
    let mut ids = HashSet::new();
    for school in schools {
        let id = &school.id;
        assert!(
            (1..=MAX_ID_CHARS).contains(&id.len())
                && id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
            "a URL-safe id: {id:?}"
        );
        assert!(
            !starts_like_formula(id),
            "an id is not formula-like: {id:?}"
        );
        assert!(ids.insert(id), "ids are unique: {id:?}");
        check_text(&school.name, MAX_NAME_CHARS);
        for place in [&school.province, &school.prefecture, &school.county] {
            check_text(place, MAX_PLACE_CHARS);
        }
        let code = school.county_code.to_string();
        assert!(
            code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()),
            "a county code is six digits: {code:?}"
        );
        assert_eq!(
            code.parse::<CountyCode>(),
            Ok(school.county_code),
            "{code} reads back"
        );
        assert!(
            (1..=MAX_PUPILS).contains(&school.pupils),
            "pupils: {school:?}"
        );
        assert!(
            (1..=MAX_TARGET_BOOKS).contains(&school.target_books),
            "target books: {school:?}"
        );
    }
}

/// A name-like text as stored: what an export later writes and a
/// spreadsheet shows.
fn check_text(text: &str, max_chars: usize) {
    assert!(
        !text.is_empty() && text.trim() == text,
        "trimmed, not empty: {text:?}"
    );
    assert!(
        text.chars().count() <= max_chars,
        "at most {max_chars} characters: {text:?}"
    );
    assert!(
        !text.chars().any(char::is_control),
        "no control characters: {text:?}"
    );
    assert!(!starts_like_formula(text), "not formula-like: {text:?}");
}
