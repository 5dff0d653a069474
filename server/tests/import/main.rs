//! Integration tests of school-list imports (`server::schools::parse_school_file`):
//! good files in every encoding and format, every kind of bad line reported
//! with the line number a spreadsheet user sees, whole-file refusals, and
//! the demo data in `assets/demo/` checked against the reference list of
//! poverty counties.
//!
//! Files are built inside the tests (GBK with `encoding_rs`, XLSX with
//! `rust_xlsxwriter`), so each test shows the exact bytes it reads.

mod bad_lines;
mod demo;
mod good_files;
mod helpers;
mod whole_file;
