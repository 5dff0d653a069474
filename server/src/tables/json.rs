//! A [`Table`] as JSON, for scripts: the same title, filters, columns, rows
//! and totals as the screen, each row an object keyed by the columns'
//! [keys](super::Column::key).

use serde_json::{Map, Value, json};

use super::{Cell, Table};

/// The table as one JSON document:
///
/// ```json
/// {
///   "title": { "zh": "学校图书", "en": "Books by school" },
///   "filters": [ { "key": "period", "zh": "期间", "en": "Period", "value": "2026-07-01 至 2026-09-30" } ],
///   "columns": [ { "key": "books", "zh": "图书", "en": "Books", "kind": "count", "note_zh": "…", "note_en": "…" } ],
///   "rows": [ { "school_id": "00123", "books": 5800000, "first_book_on": "2026-07-01",
///               "last_change_at": "2026-07-01T08:30:05+08:00", "received_share": 0.125 } ],
///   "totals": { "books": 5799995 }
/// }
/// ```
///
/// Counts are numbers; ids and text are strings; dates are `YYYY-MM-DD`;
/// instants are RFC 3339 in Beijing time; shares are the fraction (`0.125`
/// for the `12.5%` on screen); an empty cell, or a share of nothing, is
/// `null`. `totals` is `null` when the table has none.
pub fn to_json(table: &Table) -> Value {
    let row_object = |row: &[Cell]| -> Value {
        let object: Map<String, Value> = table
            .columns()
            .iter()
            .zip(row)
            .map(|(column, cell)| (column.key.to_owned(), value(cell)))
            .collect();
        Value::Object(object)
    };
    json!({
        "title": { "zh": table.title_zh(), "en": table.title_en() },
        "filters": table.filters().iter().map(|filter| json!({
            "key": filter.key,
            "zh": filter.zh,
            "en": filter.en,
            "value": filter.value,
        })).collect::<Vec<_>>(),
        "columns": table.columns().iter().map(|column| json!({
            "key": column.key,
            "zh": column.zh,
            "en": column.en,
            "kind": column.kind.name(),
            "note_zh": column.note_zh,
            "note_en": column.note_en,
        })).collect::<Vec<_>>(),
        "rows": table.rows().iter().map(|row| row_object(row)).collect::<Vec<_>>(),
        "totals": table.totals().map(row_object),
    })
}

fn value(cell: &Cell) -> Value {
    match cell {
        Cell::Text(text) | Cell::Id(text) => Value::from(text.as_str()),
        Cell::Count(count) => Value::from(*count),
        Cell::Date(date) => Value::from(date.to_string()),
        Cell::DateTime(instant) => Value::from(
            super::beijing(*instant)
                .strftime("%Y-%m-%dT%H:%M:%S+08:00")
                .to_string(),
        ),
        Cell::Percent(share) => share.ratio().map_or(Value::Null, Value::from),
        Cell::Empty => Value::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::super::sample;
    use super::*;

    #[test]
    fn rows_are_objects_with_numbers_as_numbers_and_ids_as_strings() {
        let document = to_json(&sample::table());
        assert_eq!(
            document["rows"],
            json!([
                {
                    "school_id": "00123",
                    "name": "榕江县示例小学",
                    "books": 5_800_000,
                    "first_book_on": "2026-07-01",
                    "last_change_at": "2026-07-01T08:30:05+08:00",
                    "received_share": 0.125,
                },
                {
                    "school_id": "440000",
                    "name": "=HYPERLINK(\"http://x\",\"y\")",
                    "books": -5,
                    "first_book_on": null,
                    "last_change_at": null,
                    "received_share": null,
                },
                {
                    "school_id": "-5",
                    "name": "-5 班",
                    "books": 0,
                    "first_book_on": "2026-09-30",
                    "last_change_at": null,
                    "received_share": 2.0 / 3.0,
                },
            ]),
            "the same rows as the table; JSON needs no formula quoting"
        );
        assert_eq!(
            document["totals"],
            json!({
                "school_id": "合计",
                "name": null,
                "books": 5_799_995,
                "first_book_on": null,
                "last_change_at": null,
                "received_share": 3.0 / 11.0,
            }),
            "the totals row"
        );
    }

    #[test]
    fn the_document_describes_itself() {
        let document = to_json(&sample::table());
        assert_eq!(
            document["title"],
            json!({ "zh": "学校图书", "en": "Books by school" }),
            "both titles"
        );
        assert_eq!(
            document["filters"][0],
            json!({
                "key": "period",
                "zh": "期间",
                "en": "Period",
                "value": "2026-07-01 至 2026-09-30",
            }),
            "the period filter"
        );
        let kinds: Vec<&str> = document["columns"]
            .as_array()
            .expect("an array of columns")
            .iter()
            .map(|column| column["kind"].as_str().expect("a kind"))
            .collect();
        assert_eq!(
            kinds,
            ["id", "text", "count", "date", "date_time", "percent"],
            "columns in order, with their kinds"
        );
        let no_totals = to_json(&Table::new("t", "t", sample::columns()));
        assert_eq!(no_totals["totals"], Value::Null, "no totals row: null");
        assert_eq!(no_totals["rows"], json!([]), "no rows: an empty array");
    }
}
