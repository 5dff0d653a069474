//! Books over real HTTP: pledges and school lists added through the admin
//! commands' functions while the server runs, receipts and histories that
//! carry books, the open-data export and `verify`, shipping and the schools'
//! receipt links, the public report and the book pages.

use reqwest::StatusCode;
use server::allocation::{Difference, ListedSchool, OpenData, Pledge, Report, verify};
use server::store::admin::{BookSelection, ShipmentDetails};
use server::store::{Actor, ShipRequest};
use sim::wire::{BookStatus, ParticipationRecord, Receipt, SchoolRef};

use crate::helpers::{Db, TestApp, WAIT, on_both_backends, spawn_app};

on_both_backends!(
    receipts_carry_their_book_and_the_export_verifies,
    books_are_shipped_received_and_reported,
    participations_and_schools_have_public_pages,
    a_new_list_applies_from_the_next_book_and_survives_a_restart,
    a_funded_book_waits_for_a_school_with_room,
);

/// Two schools: A (300 pupils, target 2) and B (100 pupils, target 5).
pub(crate) fn schools() -> Vec<ListedSchool> {
    [("A", 300, 2), ("B", 100, 5)]
        .into_iter()
        .map(|(id, pupils, target_books)| ListedSchool {
            school: SchoolRef {
                id: id.into(),
                name: format!("{id} 希望小学"),
                province: "贵州省".into(),
                prefecture: "黔东南苗族侗族自治州".into(),
                county: "雷山县".into(),
                county_code: "522634".into(),
            },
            pupils,
            target_books,
        })
        .collect()
}

impl TestApp {
    /// Imports [`schools`] and pledges one book per 2 participations, up to
    /// 3 books, as the CLI would (another ledger on the same database,
    /// while the server runs).
    async fn set_up_campaign(&self) {
        let imported = self.cli_import("schools.csv", schools()).await;
        assert_eq!(
            (imported.version, imported.first_book),
            (1, 1),
            "the first list"
        );
        let pledged = self
            .cli(|cli| async move {
                cli.pledge(
                    Pledge {
                        sponsor: "测试基金会".into(),
                        participations_per_book: 2,
                        book_cap: 3,
                    },
                    Actor::os_user("test"),
                )
                .await
            })
            .await
            .expect("the pledge is valid");
        assert_eq!(pledged.books_pledged, 3, "three books pledged");
    }

    async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }
}

fn school_of(status: &BookStatus) -> Option<&str> {
    match status {
        BookStatus::Allocated { school, .. } => Some(&school.id),
        _ => None,
    }
}

async fn receipts_carry_their_book_and_the_export_verifies(db: Db) {
    let app = spawn_app(db).await;
    app.set_up_campaign().await;
    let player = app.play_and_count(None).await.player;
    let mut receipts: Vec<Receipt> = vec![];
    for _ in 0..7 {
        receipts.push(app.play_and_count(Some(&player)).await);
    }
    // Participation 1 went to book 1 too; receipts here are 2..=8.
    let books: Vec<(u64, BookStatus)> = receipts
        .iter()
        .map(|receipt| (receipt.participation, receipt.book.clone()))
        .collect();
    assert_eq!(books[0].0, 2, "numbers continue from the first round");
    // A (300) takes book 1, then A (300/3 = 100) ties B (100) and has the
    // smaller id: book 2; A is then at its target, so book 3 is B's.
    let expected_schools = [Some("A"), None, Some("A"), None, Some("B"), None, None];
    for ((number, status), school) in books.iter().zip(expected_schools) {
        assert_eq!(
            school_of(status),
            school,
            "participation {number}: {status:?}"
        );
    }
    assert_eq!(
        books[1].1,
        BookStatus::Filling {
            book: 2,
            participations_needed: 1
        },
        "participation 3 counts toward book 2, one more needed"
    );
    assert_eq!(
        books[6].1,
        BookStatus::AwaitingSponsor,
        "participation 8 is beyond the pledge"
    );

    let history: Vec<ParticipationRecord> = app
        .get(&format!("/api/players/{player}/participations"))
        .await
        .json()
        .await
        .unwrap();
    let participation_3 = history.iter().find(|r| r.participation == 3).unwrap();
    assert_eq!(
        school_of(&participation_3.book),
        Some("A"),
        "the history shows the book as it stands now: funded by participation 4"
    );

    let data = app
        .cli(|cli| async move { cli.export().await })
        .await
        .unwrap();
    assert_eq!(
        data.participations, 8,
        "the export counts every participation"
    );
    assert_eq!(data.books.len(), 3, "three books funded");
    let dir = tempfile::tempdir().unwrap();
    data.write_dir(dir.path()).unwrap();
    let published = OpenData::read_csv_dir(dir.path()).unwrap();
    let report = verify(&published);
    assert!(
        report.passed(),
        "a real run verifies: {:?}",
        report.differences
    );

    // Tamper with one book's school in the published CSV.
    let books_csv = dir.path().join("books.csv");
    let text = std::fs::read_to_string(&books_csv).unwrap();
    let tampered = text.replacen("3,allocated,B,1", "3,allocated,A,1", 1);
    assert_ne!(text, tampered, "book 3 is in the CSV as written: {text}");
    std::fs::write(&books_csv, tampered).unwrap();
    let report = verify(&OpenData::read_csv_dir(dir.path()).unwrap());
    assert_eq!(
        report.differences,
        [Difference::School {
            book: 3,
            expected: Some("B".into()),
            found: Some("A".into())
        }],
        "verify names the tampered book"
    );
    app.shutdown().await;
}

async fn books_are_shipped_received_and_reported(db: Db) {
    let app = spawn_app(db).await;
    app.set_up_campaign().await;
    for _ in 0..6 {
        app.play_and_count(None).await;
    }
    let shipped = app
        .cli(|cli| async move {
            cli.ship(
                ShipRequest {
                    selection: BookSelection::Books(1..=2),
                    details: ShipmentDetails {
                        carrier: Some("顺丰".into()),
                        tracking: Some("SF123".into()),
                        ..ShipmentDetails::default()
                    },
                },
                Actor::os_user("test"),
            )
            .await
        })
        .await
        .unwrap();
    assert_eq!(shipped.books_shipped, 2, "books 1 and 2 shipped");

    let secret = app
        .state
        .store
        .receipt_secret("A")
        .await
        .unwrap()
        .expect("school A has a receipt link");
    let page = app.get(&format!("/receive/{secret}")).await;
    assert_eq!(page.status(), StatusCode::OK, "the school's link opens");
    let confirmed = app
        .client
        .post(app.url(&format!("/receive/{secret}")))
        .send()
        .await
        .unwrap();
    assert_eq!(confirmed.status(), StatusCode::OK, "the school confirms");
    assert_eq!(
        app.get("/receive/not-a-secret").await.status(),
        StatusCode::NOT_FOUND,
        "an unknown secret names nothing"
    );

    // The report is rebuilt in the background within about a second of a
    // change: wait for the rebuild that shows the receipt, then ask HTTP.
    let mut rebuilds = app.state.report.subscribe();
    tokio::time::timeout(
        WAIT,
        rebuilds.wait_for(|bodies| {
            bodies.as_ref().is_some_and(|bodies| {
                serde_json::from_slice::<Report>(&bodies.json)
                    .is_ok_and(|report| report.totals.progress.received == 2)
            })
        }),
    )
    .await
    .expect("the receipt reaches the report within the wait")
    .expect("the report cache lives as long as the server");
    let response = app.get("/api/report").await;
    assert_eq!(
        response
            .headers()
            .get(reqwest::header::CACHE_CONTROL)
            .and_then(|value| value.to_str().ok()),
        Some("public, max-age=1"),
        "caches may keep the report as long as the server does"
    );
    let report: Report = response.json().await.unwrap();
    let totals = &report.totals;
    assert_eq!(
        (
            totals.participations,
            totals.books_funded,
            totals.books_pledged
        ),
        (6, 3, 3),
        "campaign figures"
    );
    assert_eq!(
        (
            totals.progress.allocated,
            totals.progress.shipped,
            totals.progress.received
        ),
        (3, 2, 2),
        "3 allocated, A's 2 shipped and received"
    );
    assert_eq!(totals.progress.target_books, 7, "targets 2 + 5");
    let a = report.schools.iter().find(|s| s.school.id == "A").unwrap();
    assert_eq!((a.allocated, a.received), (2, 2), "school A's tally");
    assert_eq!(report.counties.len(), 1, "one county");
    assert_eq!(
        report.counties[0].progress.allocated, 3,
        "the county adds its schools"
    );

    let csv = app.get("/api/report?format=csv").await;
    assert_eq!(csv.status(), StatusCode::OK, "CSV report");
    let csv = csv.text().await.unwrap();
    assert!(
        csv.contains("school,贵州省,雷山县,522634,A,A 希望小学,1,2,2,2,2"),
        "school A's line: {csv}"
    );
    assert_eq!(
        app.cli(|cli| async move { cli.report().await })
            .await
            .unwrap(),
        report,
        "the CLI report is the endpoint's"
    );
    app.shutdown().await;
}

async fn participations_and_schools_have_public_pages(db: Db) {
    let app = spawn_app(db).await;
    app.set_up_campaign().await;
    let receipt = app.play_and_count(None).await;
    app.play_and_count(None).await;

    let page = app.get(&format!("/p/{}", receipt.participation)).await;
    assert_eq!(page.status(), StatusCode::OK, "the participation's page");
    let html = page.text().await.unwrap();
    assert!(
        html.contains("A 希望小学"),
        "it names the school of its book"
    );
    assert_eq!(
        app.get("/p/99").await.status(),
        StatusCode::NOT_FOUND,
        "no participation 99"
    );
    assert_eq!(
        app.get("/p/x").await.status(),
        StatusCode::NOT_FOUND,
        "not a number"
    );

    let school = app.get("/schools/A").await;
    assert_eq!(school.status(), StatusCode::OK, "the school's page");
    assert!(
        school.text().await.unwrap().contains("A 希望小学"),
        "it names the school"
    );
    assert_eq!(
        app.get("/schools/Z").await.status(),
        StatusCode::NOT_FOUND,
        "no school Z"
    );
    app.shutdown().await;
}

async fn a_new_list_applies_from_the_next_book_and_survives_a_restart(db: Db) {
    let app = spawn_app(db).await;
    app.set_up_campaign().await;
    for _ in 0..2 {
        app.play_and_count(None).await;
    }
    // Book 1 went to A. The new list drops A and adds C.
    let mut second = schools();
    second[0].school.id = "C".into();
    let imported = app.cli_import("v2.csv", second.clone()).await;
    assert_eq!(
        (imported.version, imported.first_book),
        (2, 2),
        "applies from book 2"
    );
    let app = app.restart().await;
    for _ in 0..4 {
        app.play_and_count(None).await;
    }
    let data = app
        .cli(|cli| async move { cli.export().await })
        .await
        .unwrap();
    let schools: Vec<_> = data.books.iter().map(|b| b.school.as_deref()).collect();
    assert_eq!(
        schools,
        [Some("A"), Some("C"), Some("B")],
        "C (300) then B (100 vs C 100: B < C)"
    );
    assert!(
        verify(&data).passed(),
        "and it verifies: {:?}",
        verify(&data).differences
    );
    app.shutdown().await;
}

async fn a_funded_book_waits_for_a_school_with_room(db: Db) {
    let app = spawn_app(db).await;
    let mut full = schools();
    full.truncate(1);
    full[0].target_books = 1;
    app.cli_import("one.csv", full.clone()).await;
    app.cli(|cli| async move {
        cli.pledge(
            Pledge {
                sponsor: "测试基金会".into(),
                participations_per_book: 1,
                book_cap: 5,
            },
            Actor::os_user("test"),
        )
        .await
    })
    .await
    .unwrap();
    let first = app.play_and_count(None).await;
    assert_eq!(school_of(&first.book), Some("A"), "book 1 fills A's target");
    let second = app.play_and_count(Some(first.player.as_str())).await;
    assert_eq!(
        second.book,
        BookStatus::Funded { book: 2 },
        "book 2 is funded, but every school is at its target"
    );
    let page = app.get(&format!("/p/{}", second.participation)).await;
    assert!(
        page.text()
            .await
            .unwrap()
            .contains("waiting for a school with room"),
        "the public page says the book waits for a school"
    );

    // A new list with room gives the waiting book its school: A's target
    // is now 2, and its next average 300/3 ties B's 100/1 (A < B).
    let imported = app.cli_import("two.csv", schools()).await;
    assert_eq!(
        (imported.first_book, imported.books_allocated),
        (2, 1),
        "the list applies from the waiting book and allocates it"
    );
    let history: Vec<ParticipationRecord> = app
        .get(&format!("/api/players/{}/participations", first.player))
        .await
        .json()
        .await
        .unwrap();
    let record = history
        .iter()
        .find(|record| record.participation == second.participation)
        .expect("the second participation is in the history");
    assert_eq!(
        school_of(&record.book),
        Some("A"),
        "book 2 went to A once it had room: {:?}",
        record.book
    );
    app.shutdown().await;
}
