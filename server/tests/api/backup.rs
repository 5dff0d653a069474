//! `server backup` while the server serves under load, restored into a new
//! data folder (SQLite) or a new database (PostgreSQL, with `pg_restore`),
//! as the README says: the copy passes `check-ledger`, its export passes
//! `verify`, and every receipt acknowledged before the backup started is in
//! it.

use std::path::Path;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use server::domain::RoundId;
use server::metrics::LedgerMetrics;
use server::store::postgres::ScratchDatabase;
use server::store::{self, Location};
use sim::wire::Receipt;

use crate::helpers::{Db, TestApp, on_both_backends, spawn_app};

on_both_backends!(
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    a_backup_taken_under_load_restores_whole,
);

/// Most rounds the load sends (it stops earlier once the backup is done).
const MAX_LOAD_ROUNDS: usize = 300;

/// Runs the real `server` binary with `args`.
fn server(args: &[&str]) -> Output {
    run(Command::new(env!("CARGO_BIN_EXE_server")).args(args))
}

/// Runs `command`, which must succeed.
fn run(command: &mut Command) -> Output {
    let args: Vec<_> = command.get_args().map(|arg| arg.to_owned()).collect();
    let output = command
        .env_remove("DREAMFAIRY_DATA_DIR")
        .env_remove("DATABASE_URL")
        .env("RUST_LOG", "warn")
        .output()
        .expect("the program runs");
    assert!(
        output.status.success(),
        "{:?} {args:?}: {}\n{}",
        command.get_program(),
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn text(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// Finishes rounds one after another until `stop`, recording each receipt.
async fn load(app: Arc<TestApp>, receipts: Arc<Mutex<Vec<Receipt>>>, stop: Arc<AtomicBool>) {
    for _ in 0..MAX_LOAD_ROUNDS {
        if stop.load(Ordering::Relaxed) {
            return;
        }
        let receipt = app.play_and_count(None).await;
        receipts.lock().unwrap().push(receipt);
    }
}

/// `words`, then `more`.
fn args<'a>(words: &[&'a str], more: &'a [String]) -> Vec<&'a str> {
    words
        .iter()
        .copied()
        .chain(more.iter().map(String::as_str))
        .collect()
}

async fn a_backup_taken_under_load_restores_whole(db: Db) {
    let app = Arc::new(spawn_app(db).await);
    let ledger = app.ledger_args();
    let schools = Path::new(env!("CARGO_MANIFEST_DIR")).join("../assets/demo/schools.csv");
    server(&args(
        &["import-schools", "--file", text(&schools)],
        &ledger,
    ));
    server(&args(
        &[
            "pledge",
            "--sponsor",
            "测试基金会",
            "--participations-per-book",
            "2",
            "--books",
            "1000",
        ],
        &ledger,
    ));
    let receipts = Arc::new(Mutex::new(Vec::new()));
    for _ in 0..10 {
        let receipt = app.play_and_count(None).await;
        receipts.lock().unwrap().push(receipt);
    }

    // Load on two clients while the backup runs.
    let stop = Arc::new(AtomicBool::new(false));
    let loads: Vec<_> = (0..2)
        .map(|_| tokio::spawn(load(app.clone(), receipts.clone(), stop.clone())))
        .collect();
    // Wait until the load has been counted at least once more.
    let mut totals = app.ledger_totals();
    tokio::time::timeout(
        crate::helpers::WAIT,
        totals.wait_for(|totals| totals.participations > 12),
    )
    .await
    .expect("the load counts")
    .unwrap();
    let acknowledged_before: Vec<Receipt> = receipts.lock().unwrap().clone();
    let backups = tempfile::tempdir().unwrap();
    let backup_file = backups.path().join("ledger-backup");
    let report = {
        let (ledger, out) = (ledger.clone(), text(&backup_file).to_owned());
        tokio::task::spawn_blocking(move || server(&args(&["backup", "--out", &out], &ledger)))
            .await
            .unwrap()
    };
    stop.store(true, Ordering::Relaxed);
    for load in loads {
        load.await.unwrap();
    }
    let report: serde_json::Value = serde_json::from_slice(&report.stdout).unwrap();
    let last_in_backup = report["last_number"].as_u64().unwrap();
    let served = app.totals().await.participations;
    assert!(
        last_in_backup >= acknowledged_before.len() as u64,
        "{report}; {} acknowledged before",
        acknowledged_before.len()
    );
    assert!(last_in_backup <= served, "{report}; {served} served");

    // Restore into a new data folder, or a new database, as the README says.
    let restored = tempfile::tempdir().unwrap();
    let (location, restored_database) = match db {
        Db::Sqlite => {
            std::fs::copy(&backup_file, restored.path().join(store::sqlite::FILE_NAME)).unwrap();
            let location = Location::Sqlite {
                data_dir: restored.path().to_owned(),
            };
            (location, None)
        }
        Db::Postgres => {
            let database = ScratchDatabase::for_tests().await;
            run(Command::new("pg_restore")
                .args(["--no-owner", "--exit-on-error", "--single-transaction"])
                .args(["--dbname", database.url().as_str()])
                .arg(&backup_file));
            let location = Location::Postgres {
                url: database.url().clone(),
            };
            (location, Some(database))
        }
    };
    let mut restored_ledger = vec!["--data-dir".to_owned(), text(restored.path()).to_owned()];
    if let Some(database) = &restored_database {
        restored_ledger.extend([
            "--database-url".to_owned(),
            database.url().as_str().to_owned(),
        ]);
    }
    let check: serde_json::Value =
        serde_json::from_slice(&server(&args(&["check-ledger"], &restored_ledger)).stdout).unwrap();
    assert_eq!(
        check["participations"].as_u64(),
        Some(last_in_backup),
        "{check}"
    );
    assert_eq!(check["problems"], serde_json::json!([]), "{check}");
    let export = restored.path().join("export");
    server(&args(&["export", "--out", text(&export)], &restored_ledger));
    server(&["verify", text(&export)]);

    // Every receipt acknowledged before the backup started, as answered.
    let ledger = store::open_with_defaults(&location, LedgerMetrics::default())
        .await
        .unwrap();
    for receipt in &acknowledged_before {
        let round = RoundId::parse(&receipt.round_id).unwrap();
        let found = ledger.find_round(round).await.unwrap();
        assert_eq!(
            found.map(|participation| participation.number),
            Some(receipt.participation),
            "round {} in the backup",
            receipt.round_id
        );
    }
    ledger.close().await.unwrap();
}
