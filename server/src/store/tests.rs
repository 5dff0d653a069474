//! The store's own tests, each run on both backends: the bulk load and the
//! audit, and several ledgers on one database at once, as several server
//! processes (or a server and an admin command) use it: numbers stay
//! contiguous, a round counts once, the daily cap holds, allocation is the
//! one rule's, and each ledger's totals show everyone's commits.

use std::sync::Arc;
use std::time::Duration;

use sim::Outcome;
use sim::wire::RejectReason;

use super::testing::{Db, TestLedger, on_both_backends};
use super::{Actor, AppendOutcome, Location, NewParticipation, RejectionRecord, Store, sqlite};
use crate::allocation::open_data::sample_school;
use crate::allocation::{Pledge, verify};
use crate::domain::{PlayerId, RoundId};
use crate::idempotency::{IdempotencyKey, RequestFingerprint};
use crate::metrics::LedgerMetrics;

on_both_backends!(
    a_bulk_loaded_ledger_passes_its_check,
    the_check_notices_a_gap_and_a_wrong_tally,
    two_ledgers_number_in_one_contiguous_sequence,
    a_round_sent_to_two_ledgers_at_once_counts_once,
    the_daily_cap_holds_across_ledgers,
    allocation_across_ledgers_is_the_one_rules,
    a_ledger_replays_the_others_participations_instead_of_rebuilding,
    each_ledger_publishes_the_others_commits_within_a_second,
);

/// When the tests' rounds finish: 2026-07-01 12:00 in China.
const NOON_MS: u64 = 1_782_878_400_000;

/// How long a test waits for something the ledger does in the background.
const WAIT: Duration = Duration::from_secs(10);

/// The staleness bound the totals promise across processes.
const WITHIN_A_SECOND: Duration = Duration::from_secs(1);

/// A verified round: round `round`, player `player`, its own key and body,
/// at most `cap` a day.
fn verified(round: u64, player: u8, cap: u32) -> NewParticipation {
    let mut round_bytes = [0u8; 16];
    round_bytes[..8].copy_from_slice(&round.to_be_bytes());
    NewParticipation {
        round: RoundId::from_bytes(round_bytes),
        player: PlayerId::from_bytes([player; 16]),
        referral: None,
        finished_at_ms: NOON_MS,
        outcome: Outcome {
            books_caught: 30,
            score: 300,
            completed: true,
            ticks_played: 900,
            state_hash: round,
        },
        rules_version: sim::RULES_VERSION,
        idempotency_key: IdempotencyKey::parse(&format!("key-{round}")).unwrap(),
        fingerprint: RequestFingerprint::of(&round.to_be_bytes()),
        player_daily_cap: cap,
    }
}

/// Runs `sql` on the ledger's database directly (to break it on purpose).
async fn execute(location: &Location, sql: &str) {
    match location {
        Location::Sqlite { data_dir } => {
            let conn = rusqlite::Connection::open(data_dir.join(sqlite::FILE_NAME)).unwrap();
            conn.execute_batch(sql).unwrap();
        }
        Location::Postgres { url } => {
            let (client, connection) = url
                .driver_config()
                .connect(tokio_postgres::NoTls)
                .await
                .unwrap();
            let driver = tokio::spawn(connection);
            client.batch_execute(sql).await.unwrap();
            drop(client);
            driver.await.unwrap().unwrap();
        }
    }
}

/// The secondary indexes of the participations table (the primary key
/// aside).
async fn participation_indexes(location: &Location) -> u32 {
    match location {
        Location::Sqlite { data_dir } => {
            let conn = rusqlite::Connection::open(data_dir.join(sqlite::FILE_NAME)).unwrap();
            conn.query_row(
                "SELECT COUNT(*) FROM sqlite_schema WHERE type = 'index' \
                 AND tbl_name = 'participations' AND sql IS NOT NULL",
                [],
                |row| row.get(0),
            )
            .unwrap()
        }
        Location::Postgres { url } => {
            let (client, connection) = url
                .driver_config()
                .connect(tokio_postgres::NoTls)
                .await
                .unwrap();
            let driver = tokio::spawn(connection);
            let count: i64 = client
                .query_one(
                    "SELECT COUNT(*) FROM pg_index \
                     WHERE indrelid = 'participations'::regclass AND NOT indisprimary",
                    &[],
                )
                .await
                .unwrap()
                .get(0);
            drop(client);
            driver.await.unwrap().unwrap();
            u32::try_from(count).unwrap()
        }
    }
}

async fn a_bulk_loaded_ledger_passes_its_check(db: Db) {
    let ledger = TestLedger::new(db).await;
    let location = &ledger.location;
    let now_ms = 1_700_000_000_000;
    let first = super::bulk_load(location, 1_000, 3, now_ms, 7)
        .await
        .unwrap();
    let second = super::bulk_load(location, 500, 1, now_ms, 8).await.unwrap();
    assert_eq!(
        (first.first_number, first.last_number),
        (1, 1_000),
        "first load numbers"
    );
    assert_eq!(
        (second.first_number, second.last_number),
        (1_001, 1_500),
        "second load continues"
    );
    let check = super::check(location).await.unwrap();
    assert_eq!(check.participations, 1_500, "every loaded row is there");
    assert_eq!(
        participation_indexes(location).await,
        2,
        "the bulk path rebuilds the round and player indexes"
    );
    if let Location::Sqlite { data_dir } = location {
        let conn = rusqlite::Connection::open(data_dir.join(sqlite::FILE_NAME)).unwrap();
        let journal: String = conn
            .query_row("PRAGMA journal_mode", [], |row| row.get(0))
            .unwrap();
        assert_eq!(journal, "wal", "and leaves the ledger in WAL mode");
    }
    assert!(
        check.problems.is_empty(),
        "a bulk load keeps every invariant: {:?}",
        check.problems
    );
}

async fn the_check_notices_a_gap_and_a_wrong_tally(db: Db) {
    let ledger = TestLedger::new(db).await;
    super::bulk_load(&ledger.location, 100, 1, 1_700_000_000_000, 1)
        .await
        .unwrap();
    execute(
        &ledger.location,
        "DELETE FROM participations WHERE seq = 50",
    )
    .await;
    // A code that names a player as its owner, whose row names no code.
    execute(
        &ledger.location,
        "INSERT INTO share_codes (code, owner) SELECT 'AAAAAAAA', player FROM players LIMIT 1",
    )
    .await;
    let problems = super::check(&ledger.location).await.unwrap().problems;
    assert!(
        problems.iter().any(|p| p.contains("not contiguous")),
        "gap not noticed: {problems:?}"
    );
    assert!(
        problems.iter().any(|p| p.contains("the tally says")),
        "tally drift not noticed: {problems:?}"
    );
    assert!(
        problems
            .iter()
            .any(|p| p == "1 players and share codes do not name each other as code and owner"),
        "a code's owner without the code not noticed: {problems:?}"
    );
}

/// The number an append was counted under, or why not.
fn number(outcome: &AppendOutcome) -> Result<u64, &'static str> {
    match outcome {
        AppendOutcome::Appended(participation) => Ok(participation.number),
        AppendOutcome::RoundAlreadyCounted(_) => Err("already counted"),
        AppendOutcome::DailyCapReached => Err("daily cap"),
    }
}

async fn two_ledgers_number_in_one_contiguous_sequence(db: Db) {
    const ROUNDS: u64 = 60;
    let ledger = TestLedger::new(db).await;
    let (a, b) = (ledger.open().await, ledger.open().await);
    let appends = (1..=ROUNDS).map(|round| {
        let store = if round % 2 == 0 { &a } else { &b };
        store.append(verified(round, (round % 7) as u8, 1_000))
    });
    let outcomes = futures::future::join_all(appends).await;
    let mut numbers: Vec<u64> = outcomes
        .iter()
        .map(|outcome| number(outcome.as_ref().unwrap()).unwrap())
        .collect();
    numbers.sort_unstable();
    assert_eq!(
        numbers,
        (1..=ROUNDS).collect::<Vec<_>>(),
        "the rounds of both ledgers share one sequence, without gap or repeat"
    );
    for store in [&a, &b] {
        store.close().await.unwrap();
    }
    let check = super::check(&ledger.location).await.unwrap();
    assert!(
        check.problems.is_empty() && check.participations == ROUNDS,
        "the audit agrees: {check:?}"
    );
}

async fn a_round_sent_to_two_ledgers_at_once_counts_once(db: Db) {
    const ROUNDS: u64 = 20;
    let ledger = TestLedger::new(db).await;
    let (a, b) = (ledger.open().await, ledger.open().await);
    for round in 1..=ROUNDS {
        // The same key and body, at two processes at once (a retry that
        // the reverse proxy sent elsewhere).
        let (first, second) = tokio::join!(
            a.append(verified(round, 1, 1_000)),
            b.append(verified(round, 1, 1_000))
        );
        let (first, second) = (first.unwrap(), second.unwrap());
        let (counted, repeated) = match (&first, &second) {
            (AppendOutcome::Appended(counted), AppendOutcome::RoundAlreadyCounted(repeated))
            | (AppendOutcome::RoundAlreadyCounted(repeated), AppendOutcome::Appended(counted)) => {
                (counted, repeated)
            }
            other => panic!("round {round}: one counts it, the other finds it counted: {other:?}"),
        };
        assert_eq!(
            counted.receipt(),
            repeated.receipt(),
            "round {round}: the same receipt from either process"
        );
        assert_eq!(
            counted.number, round,
            "round {round} is counted once, in order"
        );
    }
    for store in [&a, &b] {
        store.close().await.unwrap();
    }
    let check = super::check(&ledger.location).await.unwrap();
    assert_eq!(check.participations, ROUNDS, "each round once: {check:?}");
    assert!(check.problems.is_empty(), "{:?}", check.problems);
}

async fn the_daily_cap_holds_across_ledgers(db: Db) {
    const CAP: u32 = 3;
    const TRIED: u64 = 8;
    let ledger = TestLedger::new(db).await;
    let (a, b) = (ledger.open().await, ledger.open().await);
    let appends = (1..=TRIED).map(|round| {
        let store = if round % 2 == 0 { &a } else { &b };
        store.append(verified(round, 9, CAP))
    });
    let outcomes = futures::future::join_all(appends).await;
    let counted = outcomes
        .iter()
        .filter(|outcome| matches!(outcome, Ok(AppendOutcome::Appended(_))))
        .count();
    let capped = outcomes
        .iter()
        .filter(|outcome| matches!(outcome, Ok(AppendOutcome::DailyCapReached)))
        .count();
    assert_eq!(
        (counted, capped),
        (CAP as usize, (TRIED - u64::from(CAP)) as usize),
        "exactly the cap is counted, whichever process each finish reached: {outcomes:?}"
    );
    for store in [&a, &b] {
        store.close().await.unwrap();
    }
}

async fn allocation_across_ledgers_is_the_one_rules(db: Db) {
    let ledger = TestLedger::new(db).await;
    let (a, b) = (ledger.open().await, ledger.open().await);
    a.import_schools(
        "one.csv",
        vec![
            sample_school("A", 300, 4),
            sample_school("B", 200, 3),
            sample_school("C", 100, 9),
        ],
        None,
        Actor::os_user("test"),
    )
    .await
    .unwrap();
    b.pledge(
        Pledge {
            sponsor: "s".into(),
            participations_per_book: 2,
            book_cap: 40,
        },
        Actor::os_user("test"),
    )
    .await
    .unwrap();
    let mut round = 0;
    for stage in 0..3 {
        // Each ledger's allocator must catch up with the other's books
        // before it allocates its own.
        let appends = (0..12).map(|_| {
            round += 1;
            let store = if round % 3 == 0 { &a } else { &b };
            store.append(verified(round, (round % 5) as u8, 1_000))
        });
        for outcome in futures::future::join_all(appends).await {
            number(&outcome.unwrap()).unwrap();
        }
        if stage == 1 {
            // A new list, from the ledger that did not import the first.
            b.import_schools(
                "two.csv",
                vec![sample_school("B", 200, 3), sample_school("D", 500, 9)],
                None,
                Actor::os_user("test"),
            )
            .await
            .unwrap();
        }
    }
    let open_data = a.export().await.unwrap();
    assert_eq!(
        open_data.books.len(),
        18,
        "36 participations at 2 a book fund 18 books"
    );
    let report = verify(&open_data);
    assert!(
        report.passed(),
        "every book has the school one process would have given it: {report:?}"
    );
    for store in [&a, &b] {
        store.close().await.unwrap();
    }
}

async fn a_ledger_replays_the_others_participations_instead_of_rebuilding(db: Db) {
    let ledger = TestLedger::new(db).await;
    let metrics = LedgerMetrics::default();
    let (a, b) = (
        ledger.open_with_metrics(metrics.clone()).await,
        ledger.open().await,
    );
    b.import_schools(
        "one.csv",
        vec![sample_school("A", 300, 40), sample_school("B", 200, 40)],
        None,
        Actor::os_user("test"),
    )
    .await
    .unwrap();
    b.pledge(
        Pledge {
            sponsor: "s".into(),
            participations_per_book: 1,
            book_cap: 100,
        },
        Actor::os_user("test"),
    )
    .await
    .unwrap();
    // Taking turns: before each of its batches, `a` must catch up with the
    // book `b` just funded and allocated.
    for round in 1..=20 {
        let store = if round % 2 == 0 { &a } else { &b };
        number(&store.append(verified(round, 1, 1_000)).await.unwrap()).unwrap();
    }
    assert_eq!(
        metrics.allocator_rebuilds.get(),
        1,
        "one rebuild when the writer started; the other's books were replayed after"
    );
    b.import_schools(
        "two.csv",
        vec![sample_school("C", 100, 40)],
        None,
        Actor::os_user("test"),
    )
    .await
    .unwrap();
    a.append(verified(21, 1, 1_000)).await.unwrap();
    assert_eq!(
        metrics.allocator_rebuilds.get(),
        2,
        "a new school list from elsewhere is read in full"
    );
    let report = verify(&a.export().await.unwrap());
    assert!(
        report.passed() && report.books_checked == 21,
        "each of the 21 books has the school one process would have given it: {report:?}"
    );
    for store in [&a, &b] {
        store.close().await.unwrap();
    }
}

async fn each_ledger_publishes_the_others_commits_within_a_second(db: Db) {
    let ledger = TestLedger::new(db).await;
    let (a, b) = (ledger.open().await, ledger.open().await);
    let mut seen_by_a = a.totals();
    for round in 1..=3 {
        b.append(verified(round, 1, 1_000)).await.unwrap();
    }
    b.record_rejection(RejectionRecord {
        at_ms: NOON_MS,
        reason: RejectReason::TooFast,
        round: None,
        player: None,
    });
    // The writer takes commands in order: once this append is answered,
    // the refusal queued before it is committed too.
    b.append(verified(4, 1, 1_000)).await.unwrap();
    let published = tokio::time::timeout(
        WITHIN_A_SECOND,
        seen_by_a.wait_for(|totals| {
            totals.participations == 4 && totals.rejections.get(&RejectReason::TooFast) == Some(&1)
        }),
    )
    .await
    .map(drop);
    assert!(
        published.is_ok(),
        "the other ledger's participations and refusals reach this one's totals within a second: {:?}",
        *seen_by_a.borrow()
    );

    // Its own commits still publish at once, exactly, on top.
    a.append(verified(5, 2, 1_000)).await.unwrap();
    let own = tokio::time::timeout(
        WAIT,
        seen_by_a.wait_for(|totals| totals.participations == 5),
    )
    .await
    .map(drop);
    assert!(own.is_ok(), "its own commit is published");
    assert_eq!(
        seen_by_a.borrow().rejections.get(&RejectReason::TooFast),
        Some(&1),
        "and the refusal counted elsewhere is neither lost nor counted twice"
    );
    let stores: [&Arc<dyn Store>; 2] = [&a, &b];
    for store in stores {
        store.close().await.unwrap();
    }
}
