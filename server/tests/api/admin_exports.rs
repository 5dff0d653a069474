//! Exports hold exactly what the screen shows: a filtered report's rows
//! and totals, in XLSX (read back with calamine), CSV (byte-order mark,
//! formula-like text neutralised) and JSON, against the HTML table of the
//! same query, and against `/api/report`.

use std::io::Cursor;

use calamine::{Data, Reader as _, Xlsx};
use reqwest::StatusCode;
use reqwest::header;
use server::allocation::Report;
use server::domain::Role;
use server::tables::{DATA_SHEET, restore_neutralised};

use crate::console::table_rows;
use crate::helpers::{Db, WAIT, on_both_backends, spawn_app};

on_both_backends!(
    a_filtered_report_exports_exactly_its_rows_with_the_public_totals,
    csv_exports_neutralise_formulas_and_every_export_is_audited,
    a_period_report_from_the_day_tallies_equals_the_running_tallies,
);

/// Digits only (the screen groups thousands, files do not).
fn plain(text: &str) -> String {
    text.replace(',', "")
}

async fn a_filtered_report_exports_exactly_its_rows_with_the_public_totals(db: Db) {
    let app = spawn_app(db).await;
    app.set_up_console_campaign(9).await;
    app.create_user("viewer", Role::Viewer).await;
    let viewer = app.sign_in("viewer").await;

    let query = "province=%E8%B4%B5%E5%B7%9E%E7%9C%81&prefecture=%E9%BB%94%E4%B8%9C%E5%8D%97%E8%8B%97%E6%97%8F%E4%BE%97%E6%97%8F%E8%87%AA%E6%B2%BB%E5%B7%9E&preset=campaign";
    let page = viewer.page(&format!("/admin/report?{query}")).await;
    let (rows, totals) = table_rows(&page, "各县图书");
    assert_eq!(rows.len(), 1, "one county of 黔东南州 on screen: {rows:?}");
    let screen: Vec<Vec<String>> = rows
        .iter()
        .map(|row| row.iter().map(|cell| plain(cell)).collect())
        .collect();

    // CSV: a BOM, a header, then the same rows and the totals.
    let csv = viewer
        .get(&format!(
            "/admin/report/export?{query}&table=areas&format=csv"
        ))
        .await;
    assert_eq!(csv.status(), StatusCode::OK, "the CSV downloads");
    let disposition = csv.headers()[header::CONTENT_DISPOSITION]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        disposition.contains("filename*=UTF-8''%E5%9C%B0%E5%8C%BA%E6%8A%A5%E5%91%8A"),
        "a Chinese file name (地区报告…): {disposition}"
    );
    let csv = csv.bytes().await.unwrap();
    assert!(csv.starts_with("\u{feff}".as_bytes()), "a BOM for Excel");
    let csv_rows: Vec<Vec<String>> = csv::Reader::from_reader(&csv[3..])
        .records()
        .map(|record| {
            record
                .unwrap()
                .iter()
                .map(|field| restore_neutralised(field).into_owned())
                .collect()
        })
        .collect();
    // The header line is read as the CSV's header.
    assert_eq!(
        &csv_rows[..rows.len()],
        &screen[..],
        "CSV rows are the screen's"
    );
    let csv_totals = &csv_rows[rows.len()];
    assert_eq!(csv_totals[0], "合计", "then the totals");

    // XLSX: the data sheet, title, filters, header, rows, totals.
    let xlsx = viewer
        .get(&format!(
            "/admin/report/export?{query}&table=areas&format=xlsx"
        ))
        .await
        .bytes()
        .await
        .unwrap();
    let mut workbook: Xlsx<_> = Xlsx::new(Cursor::new(xlsx.to_vec())).expect("a workbook");
    let sheet = workbook
        .worksheet_range(DATA_SHEET)
        .expect("the data sheet");
    // The last column is a share, shown as a percentage.
    let percent_column = screen[0].len() - 1;
    let cells: Vec<Vec<String>> = sheet
        .rows()
        .map(|row| {
            row.iter()
                .enumerate()
                .map(|(column, cell)| match cell {
                    Data::Float(share) if column == percent_column => {
                        format!("{:.1}%", share * 100.0)
                    }
                    Data::Float(number) => format!("{number}"),
                    Data::Int(number) => number.to_string(),
                    Data::Empty => String::new(),
                    other => other.to_string(),
                })
                .collect()
        })
        .collect();
    assert!(
        cells[1][0].contains("贵州省"),
        "the filters are on line 2: {:?}",
        cells[1]
    );
    assert_eq!(
        &cells[3..3 + rows.len()],
        &screen[..],
        "XLSX rows are the screen's"
    );

    // JSON: the same rows, and totals equal to the public report's.
    let json: serde_json::Value = viewer
        .get(&format!(
            "/admin/report/export?{query}&table=areas&format=json"
        ))
        .await
        .json()
        .await
        .unwrap();
    let json_rows = json["rows"].as_array().unwrap();
    assert_eq!(json_rows.len(), rows.len(), "JSON has the screen's rows");
    assert_eq!(json_rows[0]["county_code"], "522634", "the county, by code");
    // The public report is rebuilt in the background: wait for the
    // rebuild that has the whole campaign (its last change, the shipment,
    // included), then ask HTTP.
    let mut rebuilds = app.state.report.subscribe();
    tokio::time::timeout(
        WAIT,
        rebuilds.wait_for(|bodies| {
            bodies.as_ref().is_some_and(|bodies| {
                serde_json::from_slice::<Report>(&bodies.json).is_ok_and(|report| {
                    report.totals.progress.allocated == 9 && report.totals.progress.shipped > 0
                })
            })
        }),
    )
    .await
    .expect("the report catches up within the wait")
    .expect("the report cache lives as long as the server");
    let public: Report = app
        .client
        .get(app.url("/api/report"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let county = public
        .counties
        .iter()
        .find(|county| county.county_code == "522634")
        .expect("the county in /api/report");
    for (key, expected) in [
        ("schools", county.progress.schools),
        ("target_books", county.progress.target_books),
        ("allocated", county.progress.allocated),
        ("shipped", county.progress.shipped),
        ("received", county.progress.received),
    ] {
        assert_eq!(json["totals"][key], expected, "{key} equals /api/report");
    }
    assert_eq!(
        plain(&totals[3]),
        county.progress.target_books.to_string(),
        "the screen's total target too"
    );
    assert!(
        county.progress.allocated > 0,
        "books were allocated: {county:?}"
    );
    app.shutdown().await;
}

async fn csv_exports_neutralise_formulas_and_every_export_is_audited(db: Db) {
    let app = spawn_app(db).await;
    app.set_up_console_campaign(3).await;
    app.create_user("viewer", Role::Viewer).await;
    let viewer = app.sign_in("viewer").await;
    let csv = viewer
        .get("/admin/pledges/export?format=csv")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        csv.contains("'=HYPERLINK(\"\"http://x\"\")基金会"),
        "the sponsor's formula-like name gets a quote: {csv}"
    );
    assert_eq!(
        viewer.get("/admin/audit").await.status(),
        StatusCode::FORBIDDEN,
        "viewers cannot read the audit log"
    );
    let audit = app
        .state
        .store
        .admin()
        .audit_log(&Default::default(), server::store::admin::Window::all(100))
        .await
        .unwrap();
    let export = audit
        .rows
        .iter()
        .find(|record| record.entry.action == server::store::admin::AuditAction::Exported)
        .expect("the export is in the audit log");
    assert_eq!(export.entry.actor.name, "viewer", "by the viewer");
    assert_eq!(
        export.entry.target, "认捐进度.csv",
        "of the pledges, as CSV"
    );
    app.shutdown().await;
}

async fn a_period_report_from_the_day_tallies_equals_the_running_tallies(db: Db) {
    use server::allocation::drill_down::{DrillDown, Level};
    use server::domain::{ChinaDay, Period};

    let app = spawn_app(db).await;
    app.set_up_console_campaign(9).await;
    let secret = app.state.store.receipt_secret("A").await.unwrap().unwrap();
    app.state
        .store
        .receive_books(&secret, server::store::Actor::receipt_link("127.0.0.1"))
        .await
        .unwrap();
    let today = ChinaDay::from_unix_ms(server::now_unix_ms());
    let period = Period::new(today.plus_days(-3), today).unwrap();
    let admin = app.state.store.admin();
    for level in [
        Level::National,
        Level::Province {
            province: "贵州省".into(),
        },
        Level::County {
            county_code: "522634".into(),
        },
    ] {
        let running = DrillDown::load(admin, &level, period, true)
            .await
            .unwrap()
            .unwrap();
        let by_day = DrillDown::load(admin, &level, period, false)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            running.lines, by_day.lines,
            "{level:?}: the per-day tallies add up to the running ones"
        );
        assert!(running.totals.books.received > 0, "A's books were received");
    }
    let yesterday = Period::new(today.plus_days(-1), today.plus_days(-1)).unwrap();
    let nothing = DrillDown::load(admin, &Level::National, yesterday, false)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        nothing.totals.books,
        Default::default(),
        "nothing moved yesterday"
    );
    app.shutdown().await;
}
