//! CSV files that are safe to open in a spreadsheet, and read back exactly.
//!
//! A spreadsheet runs a cell that begins with `=`, `+`, `-` or `@` as a
//! formula, and some also after a leading tab or carriage return; a school
//! name such as `=HYPERLINK("http://x","y")` in an export would then become
//! a live link, or worse (CSV injection). Following OWASP, every text field
//! that begins with one of these is written with a single quote `'` in
//! front, which spreadsheets show as text ([`neutralise`]). Numbers are not
//! text: a negative count is written as `-5`, without a quote.
//!
//! The quote must not change what `server verify` reads back, so
//! [`restore_neutralised`] removes it again, and only where it was added.
//! For that the rule is a bijection: a value gets a quote when it begins
//! with any number of quotes (zero included) and then one of the formula
//! characters, and the reader removes one quote from a value that begins
//! with one or more quotes and then one of them. `'=x` (a name that really
//! begins with a quote) is therefore written `''=x` and read back as `'=x`,
//! and `'hello` is written and read unchanged.
//!
//! Every CSV writer of the server is a [`CsvWriter`], which applies the
//! rule while serialising (so it sees strings and numbers apart), and every
//! reader of those files is [`read_csv`].

use std::borrow::Cow;
use std::io::{self, Write};

use serde::de::DeserializeOwned;
use serde::ser::{
    Serialize, SerializeMap, SerializeSeq, SerializeStruct, SerializeStructVariant, SerializeTuple,
    SerializeTupleStruct, SerializeTupleVariant, Serializer,
};

use super::{Cell, Table};

/// The byte-order mark that makes Excel read a CSV file as UTF-8 (without
/// it, Excel in China reads GBK and the Chinese becomes garbage).
pub const BOM: &str = "\u{feff}";

/// The characters that make a spreadsheet read a cell as a formula when
/// the cell begins with them (OWASP's list).
const FORMULA_STARTS: [u8; 6] = [b'=', b'+', b'-', b'@', b'\t', b'\r'];

/// The prefix that makes a spreadsheet show a cell as text.
const QUOTE: u8 = b'\'';

/// True when `text` begins with a character that makes a spreadsheet read
/// it as a formula: `=`, `+`, `-`, `@`, a tab or a carriage return.
pub fn starts_like_formula(text: &str) -> bool {
    text.as_bytes()
        .first()
        .is_some_and(|first| FORMULA_STARTS.contains(first))
}

/// True when a field needs a quote in front: it begins with zero or more
/// quotes and then a formula character (see the module docs for why the
/// quotes count).
fn needs_quote(field: &[u8]) -> bool {
    let after_quotes = field.iter().position(|&b| b != QUOTE);
    after_quotes
        .and_then(|index| field.get(index))
        .is_some_and(|first| FORMULA_STARTS.contains(first))
}

/// `text` as a CSV field a spreadsheet shows as text: with a `'` in front
/// when it begins with `=`, `+`, `-`, `@`, a tab or a carriage return (or
/// with quotes and then one of those); unchanged otherwise.
pub fn neutralise(text: &str) -> Cow<'_, str> {
    if needs_quote(text.as_bytes()) {
        Cow::Owned(format!("'{text}"))
    } else {
        Cow::Borrowed(text)
    }
}

/// The value [`neutralise`] was given, from the field it returned.
pub fn restore_neutralised(field: &str) -> Cow<'_, str> {
    match field.strip_prefix('\'') {
        Some(rest) if needs_quote(rest.as_bytes()) => Cow::Borrowed(rest),
        _ => Cow::Borrowed(field),
    }
}

/// A CSV writer for files people open in a spreadsheet: UTF-8 with a
/// byte-order mark, a header line from the field names of the first record
/// (when records are structs), and every string field
/// [neutralised](neutralise), numbers untouched.
#[derive(Debug)]
pub struct CsvWriter<W: Write> {
    inner: csv::Writer<W>,
}

impl<W: Write> CsvWriter<W> {
    /// Starts a CSV file on `out` by writing the byte-order mark.
    pub fn new(mut out: W) -> io::Result<Self> {
        out.write_all(BOM.as_bytes())?;
        Ok(Self {
            inner: csv::Writer::from_writer(out),
        })
    }

    /// Writes one record, as [`csv::Writer::serialize`] does (a struct's
    /// field names become the header line before the first record), with
    /// every string neutralised.
    pub fn serialize<T: Serialize>(&mut self, record: T) -> csv::Result<()> {
        self.inner.serialize(Neutralised(&record))
    }

    /// Writes out whatever is buffered.
    pub fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }

    /// Flushes and gives back the output.
    pub fn into_inner(self) -> io::Result<W> {
        self.inner.into_inner().map_err(|error| error.into_error())
    }
}

/// Reads every record of a CSV file made by a [`CsvWriter`] (the
/// byte-order mark is optional), into `T` by its header line, with every
/// field [restored](restore_neutralised) first.
pub fn read_csv<T: DeserializeOwned>(bytes: &[u8]) -> csv::Result<Vec<T>> {
    let bytes = bytes.strip_prefix(BOM.as_bytes()).unwrap_or(bytes);
    let mut reader = csv::Reader::from_reader(bytes);
    let headers = reader.headers()?.clone();
    reader
        .records()
        .map(|record| {
            let record = record?;
            // A number field never begins with a quote, so restoring every
            // field only ever changes the strings that were neutralised.
            let mut restored: csv::StringRecord = record.iter().map(restore_neutralised).collect();
            // Keep the position, so a bad value is reported with its line.
            restored.set_position(record.position().cloned());
            restored.deserialize(Some(&headers))
        })
        .collect()
}

/// A [`Table`] as CSV: UTF-8 with a byte-order mark, a header line of the
/// Chinese column names, one line per row, then the totals row if any.
/// Fields are the cells' [plain text](Cell::plain_text), counts as numbers
/// and text neutralised. The title and filters are not in the file (a CSV
/// file has no place for them that machines would not trip on): they are
/// in its name and in the XLSX export.
pub fn to_csv(table: &Table) -> Vec<u8> {
    let mut writer = CsvWriter::new(Vec::new()).expect("writing to memory cannot fail");
    let header: Vec<Field<'_>> = table
        .columns()
        .iter()
        .map(|column| Field::Text(column.zh))
        .collect();
    let lines = std::iter::once(header)
        .chain(table.rows().iter().map(|row| fields(row)))
        .chain(table.totals().map(fields));
    for line in lines {
        // Only strings and numbers into memory, every line as long as the
        // header (the table checked its rows): nothing here can fail.
        writer
            .serialize(line)
            .expect("a table's lines serialise into memory");
    }
    writer.into_inner().expect("writing to memory cannot fail")
}

/// A CSV field of a table: a number stays a number (so a negative count
/// is not taken for a formula), everything else is text.
#[derive(Debug)]
enum Field<'a> {
    Text(&'a str),
    Owned(String),
    Number(i64),
}

impl Serialize for Field<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Text(text) => serializer.serialize_str(text),
            Self::Owned(text) => serializer.serialize_str(text),
            Self::Number(number) => serializer.serialize_i64(*number),
        }
    }
}

fn fields(row: &[Cell]) -> Vec<Field<'_>> {
    row.iter()
        .map(|cell| match cell {
            Cell::Text(text) | Cell::Id(text) => Field::Text(text),
            Cell::Count(count) => Field::Number(*count),
            other => Field::Owned(other.plain_text()),
        })
        .collect()
}

// The serialiser below wraps the csv crate's own: it passes everything
// through, except that strings (and chars and bytes) are neutralised, and
// the values inside compound types are wrapped again on their way down.

/// A value whose strings are neutralised as it is serialised.
struct Neutralised<'a, T: ?Sized>(&'a T);

impl<T: Serialize + ?Sized> Serialize for Neutralised<'_, T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(NeutralisingSerializer(serializer))
    }
}

/// A serialiser that neutralises strings, and hands everything else to `S`.
struct NeutralisingSerializer<S>(S);

/// A compound value (sequence, struct, map...) whose elements are wrapped
/// in [`Neutralised`].
struct Compound<C>(C);

impl<S: Serializer> Serializer for NeutralisingSerializer<S> {
    type Ok = S::Ok;
    type Error = S::Error;
    type SerializeSeq = Compound<S::SerializeSeq>;
    type SerializeTuple = Compound<S::SerializeTuple>;
    type SerializeTupleStruct = Compound<S::SerializeTupleStruct>;
    type SerializeTupleVariant = Compound<S::SerializeTupleVariant>;
    type SerializeMap = Compound<S::SerializeMap>;
    type SerializeStruct = Compound<S::SerializeStruct>;
    type SerializeStructVariant = Compound<S::SerializeStructVariant>;

    fn serialize_str(self, v: &str) -> Result<S::Ok, S::Error> {
        self.0.serialize_str(&neutralise(v))
    }

    fn serialize_char(self, v: char) -> Result<S::Ok, S::Error> {
        self.serialize_str(v.encode_utf8(&mut [0; 4]))
    }

    fn serialize_bytes(self, v: &[u8]) -> Result<S::Ok, S::Error> {
        if needs_quote(v) {
            self.0.serialize_bytes(&[&[QUOTE], v].concat())
        } else {
            self.0.serialize_bytes(v)
        }
    }

    fn serialize_bool(self, v: bool) -> Result<S::Ok, S::Error> {
        self.0.serialize_bool(v)
    }

    fn serialize_i8(self, v: i8) -> Result<S::Ok, S::Error> {
        self.0.serialize_i8(v)
    }

    fn serialize_i16(self, v: i16) -> Result<S::Ok, S::Error> {
        self.0.serialize_i16(v)
    }

    fn serialize_i32(self, v: i32) -> Result<S::Ok, S::Error> {
        self.0.serialize_i32(v)
    }

    fn serialize_i64(self, v: i64) -> Result<S::Ok, S::Error> {
        self.0.serialize_i64(v)
    }

    fn serialize_i128(self, v: i128) -> Result<S::Ok, S::Error> {
        self.0.serialize_i128(v)
    }

    fn serialize_u8(self, v: u8) -> Result<S::Ok, S::Error> {
        self.0.serialize_u8(v)
    }

    fn serialize_u16(self, v: u16) -> Result<S::Ok, S::Error> {
        self.0.serialize_u16(v)
    }

    fn serialize_u32(self, v: u32) -> Result<S::Ok, S::Error> {
        self.0.serialize_u32(v)
    }

    fn serialize_u64(self, v: u64) -> Result<S::Ok, S::Error> {
        self.0.serialize_u64(v)
    }

    fn serialize_u128(self, v: u128) -> Result<S::Ok, S::Error> {
        self.0.serialize_u128(v)
    }

    fn serialize_f32(self, v: f32) -> Result<S::Ok, S::Error> {
        self.0.serialize_f32(v)
    }

    fn serialize_f64(self, v: f64) -> Result<S::Ok, S::Error> {
        self.0.serialize_f64(v)
    }

    fn serialize_none(self) -> Result<S::Ok, S::Error> {
        self.0.serialize_none()
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<S::Ok, S::Error> {
        self.0.serialize_some(&Neutralised(value))
    }

    fn serialize_unit(self) -> Result<S::Ok, S::Error> {
        self.0.serialize_unit()
    }

    fn serialize_unit_struct(self, name: &'static str) -> Result<S::Ok, S::Error> {
        self.0.serialize_unit_struct(name)
    }

    // Variant names come from the code (`funded`, `allocated`), not from
    // people, so they pass as they are.
    fn serialize_unit_variant(
        self,
        name: &'static str,
        variant_index: u32,
        variant: &'static str,
    ) -> Result<S::Ok, S::Error> {
        self.0.serialize_unit_variant(name, variant_index, variant)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        value: &T,
    ) -> Result<S::Ok, S::Error> {
        self.0.serialize_newtype_struct(name, &Neutralised(value))
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        variant_index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<S::Ok, S::Error> {
        self.0
            .serialize_newtype_variant(name, variant_index, variant, &Neutralised(value))
    }

    fn serialize_seq(self, len: Option<usize>) -> Result<Self::SerializeSeq, S::Error> {
        self.0.serialize_seq(len).map(Compound)
    }

    fn serialize_tuple(self, len: usize) -> Result<Self::SerializeTuple, S::Error> {
        self.0.serialize_tuple(len).map(Compound)
    }

    fn serialize_tuple_struct(
        self,
        name: &'static str,
        len: usize,
    ) -> Result<Self::SerializeTupleStruct, S::Error> {
        self.0.serialize_tuple_struct(name, len).map(Compound)
    }

    fn serialize_tuple_variant(
        self,
        name: &'static str,
        variant_index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeTupleVariant, S::Error> {
        self.0
            .serialize_tuple_variant(name, variant_index, variant, len)
            .map(Compound)
    }

    fn serialize_map(self, len: Option<usize>) -> Result<Self::SerializeMap, S::Error> {
        self.0.serialize_map(len).map(Compound)
    }

    fn serialize_struct(
        self,
        name: &'static str,
        len: usize,
    ) -> Result<Self::SerializeStruct, S::Error> {
        self.0.serialize_struct(name, len).map(Compound)
    }

    fn serialize_struct_variant(
        self,
        name: &'static str,
        variant_index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeStructVariant, S::Error> {
        self.0
            .serialize_struct_variant(name, variant_index, variant, len)
            .map(Compound)
    }

    fn is_human_readable(&self) -> bool {
        self.0.is_human_readable()
    }
}

impl<C: SerializeSeq> SerializeSeq for Compound<C> {
    type Ok = C::Ok;
    type Error = C::Error;

    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), C::Error> {
        self.0.serialize_element(&Neutralised(value))
    }

    fn end(self) -> Result<C::Ok, C::Error> {
        self.0.end()
    }
}

impl<C: SerializeTuple> SerializeTuple for Compound<C> {
    type Ok = C::Ok;
    type Error = C::Error;

    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), C::Error> {
        self.0.serialize_element(&Neutralised(value))
    }

    fn end(self) -> Result<C::Ok, C::Error> {
        self.0.end()
    }
}

impl<C: SerializeTupleStruct> SerializeTupleStruct for Compound<C> {
    type Ok = C::Ok;
    type Error = C::Error;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), C::Error> {
        self.0.serialize_field(&Neutralised(value))
    }

    fn end(self) -> Result<C::Ok, C::Error> {
        self.0.end()
    }
}

impl<C: SerializeTupleVariant> SerializeTupleVariant for Compound<C> {
    type Ok = C::Ok;
    type Error = C::Error;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), C::Error> {
        self.0.serialize_field(&Neutralised(value))
    }

    fn end(self) -> Result<C::Ok, C::Error> {
        self.0.end()
    }
}

impl<C: SerializeMap> SerializeMap for Compound<C> {
    type Ok = C::Ok;
    type Error = C::Error;

    // A map's keys become header fields, so they are neutralised too.
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), C::Error> {
        self.0.serialize_key(&Neutralised(key))
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), C::Error> {
        self.0.serialize_value(&Neutralised(value))
    }

    fn end(self) -> Result<C::Ok, C::Error> {
        self.0.end()
    }
}

impl<C: SerializeStruct> SerializeStruct for Compound<C> {
    type Ok = C::Ok;
    type Error = C::Error;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), C::Error> {
        self.0.serialize_field(key, &Neutralised(value))
    }

    fn skip_field(&mut self, key: &'static str) -> Result<(), C::Error> {
        self.0.skip_field(key)
    }

    fn end(self) -> Result<C::Ok, C::Error> {
        self.0.end()
    }
}

impl<C: SerializeStructVariant> SerializeStructVariant for Compound<C> {
    type Ok = C::Ok;
    type Error = C::Error;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), C::Error> {
        self.0.serialize_field(key, &Neutralised(value))
    }

    fn skip_field(&mut self, key: &'static str) -> Result<(), C::Error> {
        self.0.skip_field(key)
    }

    fn end(self) -> Result<C::Ok, C::Error> {
        self.0.end()
    }
}

#[cfg(test)]
mod tests {
    use serde::{Deserialize, Serialize};

    use super::super::sample;
    use super::*;

    #[test]
    fn formula_starts_get_a_quote_and_nothing_else_does() {
        let check = |value: &str, expected: &str| {
            assert_eq!(neutralise(value), expected, "written form of {value:?}");
            assert_eq!(
                restore_neutralised(&neutralise(value)),
                value,
                "{value:?} reads back as itself"
            );
        };
        check("=1+1", "'=1+1");
        check("+86 138", "'+86 138");
        check("-5 班", "'-5 班");
        check("@SUM(A1)", "'@SUM(A1)");
        check("\tx", "'\tx");
        check("\rx", "'\rx");
        check(
            "=HYPERLINK(\"http://x\",\"y\")",
            "'=HYPERLINK(\"http://x\",\"y\")",
        );
        // A value that really begins with quotes keeps them all.
        check("'=x", "''=x");
        check("''@x", "'''@x");
        // Nothing to neutralise: unchanged, quotes included.
        check("'hello", "'hello");
        check("'", "'");
        check("''", "''");
        check("", "");
        check("贵州省", "贵州省");
        check("5-1 班", "5-1 班");
        check(" =x", " =x");
        check("S-001", "S-001");
    }

    #[test]
    fn restoring_only_removes_a_quote_the_writer_added() {
        for field in ["'hello", "'", "'5", "x'=y", "=raw"] {
            assert_eq!(
                restore_neutralised(field),
                field,
                "{field:?} was not neutralised, so it reads as written"
            );
        }
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Row {
        name: String,
        change: i64,
        school: Option<String>,
        state: State,
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "snake_case")]
    enum State {
        Funded,
    }

    fn rows() -> Vec<Row> {
        vec![
            Row {
                name: "=HYPERLINK(\"http://x\",\"y\")".into(),
                change: -5,
                school: Some("@school".into()),
                state: State::Funded,
            },
            Row {
                name: "'=quoted".into(),
                change: 7,
                school: None,
                state: State::Funded,
            },
            Row {
                name: "榕江县示例小学".into(),
                change: 0,
                school: Some("-5 班".into()),
                state: State::Funded,
            },
        ]
    }

    fn written(rows: &[Row]) -> Vec<u8> {
        let mut writer = CsvWriter::new(Vec::new()).unwrap();
        for row in rows {
            writer.serialize(row).unwrap();
        }
        writer.into_inner().unwrap()
    }

    #[test]
    fn the_writer_neutralises_strings_but_not_numbers() {
        let bytes = written(&rows());
        let text = String::from_utf8(bytes).expect("UTF-8");
        assert_eq!(
            text,
            "\u{feff}name,change,school,state\n\
             \"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\",-5,'@school,funded\n\
             ''=quoted,7,,funded\n\
             榕江县示例小学,0,'-5 班,funded\n",
            "a BOM, the header, strings quoted against formulas, -5 left a number"
        );
    }

    #[test]
    fn what_the_writer_wrote_the_reader_reads_back() {
        let bytes = written(&rows());
        let back: Vec<Row> = read_csv(&bytes).expect("readable");
        assert_eq!(back, rows(), "every value, quotes and all");
        let without_bom: Vec<Row> = read_csv(&bytes[BOM.len()..]).expect("readable without a BOM");
        assert_eq!(without_bom, rows(), "the BOM is optional");
    }

    #[test]
    fn a_bad_value_is_reported_with_its_line() {
        let bytes = "name,change,school,state\nx,seven,,funded\n".as_bytes();
        let error = read_csv::<Row>(bytes).expect_err("seven is not a number");
        let line = error.position().map(csv::Position::line);
        assert_eq!(line, Some(2), "the error names line 2: {error}");
    }

    #[test]
    fn a_table_becomes_csv_with_a_bom_chinese_headers_and_no_live_formulas() {
        let bytes = to_csv(&sample::table());
        let text = std::str::from_utf8(&bytes).expect("UTF-8");
        let body = text.strip_prefix(BOM).expect("starts with a BOM for Excel");
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(body.as_bytes());
        let lines: Vec<Vec<String>> = reader
            .records()
            .map(|record| record.unwrap().iter().map(str::to_owned).collect())
            .collect();
        let expected = [
            vec![
                "学校编号",
                "学校名称",
                "图书",
                "首本日期",
                "最后变动",
                "已收比例",
            ],
            vec![
                "00123",
                "榕江县示例小学",
                "5800000",
                "2026-07-01",
                "2026-07-01 08:30:05",
                "12.5%",
            ],
            vec![
                "440000",
                "'=HYPERLINK(\"http://x\",\"y\")",
                "-5",
                "",
                "",
                "",
            ],
            vec!["'-5", "'-5 班", "0", "2026-09-30", "", "66.7%"],
            vec!["合计", "", "5799995", "", "", "27.3%"],
        ];
        assert_eq!(
            lines, expected,
            "the header, every row as on screen, then the totals"
        );
        for (number, line) in lines.iter().enumerate() {
            for field in line {
                // A count may be negative: a number, which is not a formula.
                assert!(
                    !starts_like_formula(field) || field.parse::<i64>().is_ok(),
                    "line {number}: {field:?} would run as a formula"
                );
            }
        }
    }
}
