//! Naming a download: the export formats, their media types, and a
//! `Content-Disposition` that keeps a Chinese file name.
//!
//! Browsers take the UTF-8 name from `filename*` (RFC 6266 with the RFC
//! 5987 encoding: `UTF-8''` and percent-encoded bytes) and fall back to the
//! plain `filename`, which must be ASCII. The fallback keeps the ASCII
//! letters, digits, `-`, `_` and `.` of the name, so `学校报告-2026Q3.xlsx`
//! falls back to `2026Q3.xlsx` rather than to a row of underscores.

use axum::http::HeaderValue;

/// A format a table can be downloaded in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExportFormat {
    /// An Excel workbook ([`super::to_xlsx`]).
    Xlsx,
    /// CSV in UTF-8 with a byte-order mark ([`super::to_csv`]).
    Csv,
    /// JSON ([`super::to_json`]).
    Json,
}

impl ExportFormat {
    /// The file name extension, without the dot (`"xlsx"`).
    pub fn extension(self) -> &'static str {
        match self {
            Self::Xlsx => "xlsx",
            Self::Csv => "csv",
            Self::Json => "json",
        }
    }

    /// The media type for `Content-Type`.
    pub fn media_type(self) -> &'static str {
        match self {
            Self::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Self::Csv => "text/csv; charset=utf-8",
            Self::Json => "application/json",
        }
    }
}

/// The fallback name when nothing of the stem is ASCII.
const FALLBACK_STEM: &str = "export";

/// `attachment; filename="<ASCII fallback>"; filename*=UTF-8''<encoded>`
/// for a file named `file_stem` (`"学校报告-2026Q3"`) with `format`'s
/// extension. Path separators and control characters in the stem become
/// `_`, so the name is always one plain file name.
pub fn content_disposition(file_stem: &str, format: ExportFormat) -> HeaderValue {
    attachment(file_stem, format.extension())
}

/// [`content_disposition`] for a file of any `extension` (`"pdf"`).
pub fn attachment(file_stem: &str, extension: &str) -> HeaderValue {
    let stem: String = file_stem
        .trim()
        .chars()
        .map(|c| {
            if c.is_control() || matches!(c, '/' | '\\') {
                '_'
            } else {
                c
            }
        })
        .collect();
    let value = format!(
        "attachment; filename=\"{}.{extension}\"; filename*=UTF-8''{}.{extension}",
        ascii_fallback(&stem),
        percent_encode(&stem),
    );
    // Only ASCII letters, digits and `!#$%&+-.^_`|~'=;"* and spaces go into
    // the value, all valid in a header, so this never falls back.
    HeaderValue::from_str(&value).unwrap_or(HeaderValue::from_static("attachment"))
}

/// The stem's ASCII letters, digits, `-`, `_` and `.`, anything else
/// written as `_`, runs of `_` made one, trimmed of separators at either
/// end (so it cannot start with a dot either).
fn ascii_fallback(stem: &str) -> String {
    let mut fallback = String::with_capacity(stem.len());
    for c in stem.chars() {
        let kept = c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
        let c = if kept { c } else { '_' };
        if !(c == '_' && fallback.ends_with('_')) {
            fallback.push(c);
        }
    }
    let trimmed = fallback.trim_matches(['-', '_', '.']);
    if trimmed.is_empty() {
        FALLBACK_STEM.to_owned()
    } else {
        trimmed.to_owned()
    }
}

/// RFC 5987 `value-chars`: every byte outside `attr-char` as `%XX`.
fn percent_encode(text: &str) -> String {
    let mut encoded = String::with_capacity(text.len() * 3);
    for byte in text.bytes() {
        let attr_char = byte.is_ascii_alphanumeric()
            || matches!(
                byte,
                b'!' | b'#' | b'$' | b'&' | b'+' | b'-' | b'.' | b'^' | b'_' | b'`' | b'|' | b'~'
            );
        if attr_char {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The two names a browser reads from the header: the ASCII fallback
    /// and the decoded UTF-8 name.
    fn names(header: &HeaderValue) -> (String, String) {
        let value = header.to_str().expect("an ASCII header");
        let fallback = value
            .split("filename=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .expect("a quoted filename");
        let encoded = value
            .split("filename*=UTF-8''")
            .nth(1)
            .expect("a filename* parameter");
        let mut bytes = Vec::new();
        let mut rest = encoded.as_bytes();
        while let Some((&first, tail)) = rest.split_first() {
            if first == b'%' {
                let hex = std::str::from_utf8(&tail[..2]).expect("two hex digits");
                bytes.push(u8::from_str_radix(hex, 16).expect("hex"));
                rest = &tail[2..];
            } else {
                bytes.push(first);
                rest = tail;
            }
        }
        (
            fallback.to_owned(),
            String::from_utf8(bytes).expect("UTF-8"),
        )
    }

    #[test]
    fn the_chinese_name_round_trips_and_the_fallback_is_plain_ascii() {
        let check = |stem: &str, format, fallback: &str, utf8: &str| {
            let header = content_disposition(stem, format);
            let value = header.to_str().expect("ASCII");
            assert!(value.starts_with("attachment; "), "{value}");
            let (read_fallback, read_utf8) = names(&header);
            assert_eq!(read_fallback, fallback, "the fallback of {stem:?}");
            assert_eq!(read_utf8, utf8, "the UTF-8 name of {stem:?}");
            assert!(
                read_fallback
                    .chars()
                    .all(|c| c.is_ascii_graphic() && !matches!(c, '"' | '\\' | '/' | '%')),
                "{read_fallback:?} is plain ASCII"
            );
        };
        check(
            "学校报告-2026Q3",
            ExportFormat::Xlsx,
            "2026Q3.xlsx",
            "学校报告-2026Q3.xlsx",
        );
        check("各省图书", ExportFormat::Csv, "export.csv", "各省图书.csv");
        check(
            "report 2026 \"Q3\"",
            ExportFormat::Json,
            "report_2026_Q3.json",
            "report 2026 \"Q3\".json",
        );
        check(
            "../密码/x\r\ny",
            ExportFormat::Csv,
            "x_y.csv",
            ".._密码_x__y.csv",
        );
        check("100%;'x'", ExportFormat::Csv, "100_x.csv", "100%;'x'.csv");
    }

    #[test]
    fn formats_name_their_extension_and_media_type() {
        assert_eq!(ExportFormat::Xlsx.extension(), "xlsx", "xlsx");
        assert!(
            ExportFormat::Csv.media_type().contains("charset=utf-8"),
            "CSV says its encoding"
        );
        assert_eq!(ExportFormat::Json.media_type(), "application/json", "JSON");
    }
}
