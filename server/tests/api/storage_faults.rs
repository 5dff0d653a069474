//! Broken storage: the data folder on a small filesystem of its own (a
//! loop-mounted ext4 image) that fills up, then a ledger file made
//! read-only (immutable: root ignores permission bits).
//!
//! While writes fail, finishes answer 503 with `Retry-After`, reads keep
//! being served, and nothing unacknowledged is counted; once the storage
//! takes writes again, the same requests count, each once.
//!
//! Mounting needs root. Under `CI=true` a machine that cannot mount fails
//! the test; elsewhere it says so and stops.
//!
//! SQLite only: it breaks the SQLite file itself; PostgreSQL's storage is
//! the database server's, outside the server process.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use reqwest::StatusCode;
use server::store::sqlite;
use sim::wire::{FinishRoundRequest, Receipt, RoundStarted};

use crate::helpers::{Db, TestApp, spawn_app_with};

/// Size of the filesystem: room for the ledger's first pages only.
const DISK_MIB: u64 = 16;
/// Most rounds sent while waiting for the storage to refuse one.
const MAX_ROUNDS_UNTIL_REFUSED: usize = 400;

/// An ext4 image mounted on a temporary folder; unmounted when dropped.
struct LoopDisk {
    _folder: tempfile::TempDir,
    mount_point: PathBuf,
}

impl LoopDisk {
    fn mount() -> Option<LoopDisk> {
        let folder = tempfile::tempdir().unwrap();
        let image = folder.path().join("disk.ext4");
        let mount_point = folder.path().join("mnt");
        fs::create_dir(&mount_point).unwrap();
        fs::File::create(&image)
            .unwrap()
            .set_len(DISK_MIB << 20)
            .unwrap();
        let made = run("mkfs.ext4", &["-q", "-F", path(&image)])
            .and_then(|()| run("mount", &["-o", "loop", path(&image), path(&mount_point)]));
        match made {
            Ok(()) => Some(LoopDisk {
                _folder: folder,
                mount_point,
            }),
            Err(why) if std::env::var("CI").as_deref() == Ok("true") => {
                panic!("CI=true and no loop-mounted filesystem could be made: {why}")
            }
            Err(why) => {
                eprintln!("NOT RUN: storage fault tests need root and a loop device: {why}");
                None
            }
        }
    }

    /// Writes zeros into a file until the filesystem is full; returns it.
    fn fill(&self) -> PathBuf {
        let filler = self.mount_point.join("filler");
        let mut file = fs::File::create(&filler).unwrap();
        let chunk = vec![0u8; 64 << 10];
        for _ in 0..(DISK_MIB << 20) / chunk.len() as u64 + 1 {
            if let Err(error) = file.write_all(&chunk).and_then(|()| file.sync_all()) {
                assert_eq!(error.raw_os_error(), Some(28), "ENOSPC, got {error}");
                return filler;
            }
        }
        panic!("the filesystem never filled up");
    }
}

impl Drop for LoopDisk {
    fn drop(&mut self) {
        let _ = run("umount", &["-l", path(&self.mount_point)]);
    }
}

/// Files made immutable (no write succeeds, not even root's, not even
/// through a descriptor opened before); writable again when dropped.
struct ReadOnly(Vec<PathBuf>);

impl ReadOnly {
    fn make(files: &[PathBuf]) -> ReadOnly {
        for file in files {
            run("chattr", &["+i", path(file)]).unwrap();
        }
        ReadOnly(files.to_vec())
    }
}

impl Drop for ReadOnly {
    fn drop(&mut self) {
        for file in &self.0 {
            let _ = run("chattr", &["-i", path(file)]);
        }
    }
}

fn path(path: &Path) -> &str {
    path.to_str().unwrap()
}

fn run(program: &str, args: &[&str]) -> Result<(), String> {
    let output = Command::new(program)
        .args(args)
        .output()
        .map_err(|error| format!("{program}: {error}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{program} {args:?}: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ))
    }
}

/// A played round and its finish, ready to be sent (and sent again).
struct Finish {
    started: RoundStarted,
    request: FinishRoundRequest,
}

impl Finish {
    async fn new(app: &TestApp) -> Finish {
        let (started, request) = app.played_round(None).await;
        Finish { started, request }
    }

    async fn send(&self, app: &TestApp) -> reqwest::Response {
        let id = &self.started.round_id;
        app.finish(id, id, &self.request).await
    }
}

/// Sends new rounds until one is refused with 503; returns the receipts of
/// those counted before it, and the refused one.
async fn count_until_refused(app: &TestApp) -> (Vec<Receipt>, Finish) {
    let mut receipts = Vec::new();
    for _ in 0..MAX_ROUNDS_UNTIL_REFUSED {
        let finish = Finish::new(app).await;
        let response = finish.send(app).await;
        match response.status() {
            StatusCode::OK => receipts.push(response.json().await.unwrap()),
            StatusCode::SERVICE_UNAVAILABLE => {
                assert_eq!(
                    response.headers()["retry-after"],
                    "5",
                    "a 503 says when to retry"
                );
                return (receipts, finish);
            }
            status => panic!("{status}: {}", response.text().await.unwrap()),
        }
    }
    panic!("no finish was refused in {MAX_ROUNDS_UNTIL_REFUSED} rounds");
}

/// While the storage refuses writes: reads are served, and another finish
/// is refused too.
async fn assert_reads_served_and_writes_refused(app: &TestApp, counted: u64) {
    assert_eq!(app.totals().await.participations, counted, "/api/totals");
    let report = app.client.get(app.url("/api/report")).send().await.unwrap();
    assert_eq!(report.status(), StatusCode::OK, "/api/report");
    let page = app.client.get(app.url("/p/1")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK, "/p/1");
    let another = Finish::new(app).await;
    assert_eq!(
        another.send(app).await.status(),
        StatusCode::SERVICE_UNAVAILABLE
    );
}

/// Sends `refused` again: counted now, once, numbered next.
async fn assert_counted_on_retry(app: &TestApp, refused: &Finish, counted: u64) -> Receipt {
    let response = refused.send(app).await;
    assert_eq!(
        response.status(),
        StatusCode::OK,
        "{}",
        response.text().await.unwrap()
    );
    let receipt: Receipt = response.json().await.unwrap();
    assert_eq!(
        receipt.participation,
        counted + 1,
        "nothing unacknowledged counted"
    );
    receipt
}

#[tokio::test]
async fn a_full_disk_and_a_read_only_ledger_refuse_writes_with_503_then_resume() {
    let Some(disk) = LoopDisk::mount() else {
        return;
    };
    let data_dir = disk.mount_point.join("data");
    let app = spawn_app_with(Db::Sqlite, |config| config.data_dir = data_dir.clone()).await;
    let mut counted = Vec::new();
    for _ in 0..3 {
        counted.push(app.play_and_count(None).await);
    }

    // The disk fills up.
    let filler = disk.fill();
    let (before_full, refused) = count_until_refused(&app).await;
    counted.extend(before_full);
    assert_reads_served_and_writes_refused(&app, counted.len() as u64).await;
    fs::remove_file(&filler).unwrap();
    counted.push(assert_counted_on_retry(&app, &refused, counted.len() as u64).await);
    counted.push(app.play_and_count(None).await);

    // The ledger's files become read-only (not the shared-memory index,
    // which SQLite maps into memory).
    let ledger = data_dir.join(sqlite::FILE_NAME);
    let read_only = ReadOnly::make(&[ledger.clone(), data_dir.join("ledger.sqlite3-wal")]);
    let refused = Finish::new(&app).await;
    let response = refused.send(&app).await;
    assert_eq!(
        response.status(),
        StatusCode::SERVICE_UNAVAILABLE,
        "read-only ledger"
    );
    assert_eq!(response.headers()["retry-after"], "5");
    assert_reads_served_and_writes_refused(&app, counted.len() as u64).await;
    drop(read_only);
    counted.push(assert_counted_on_retry(&app, &refused, counted.len() as u64).await);
    counted.push(app.play_and_count(None).await);

    // Every acknowledged participation is there once, numbered 1..N.
    let numbers: Vec<u64> = counted
        .iter()
        .map(|receipt| receipt.participation)
        .collect();
    assert_eq!(numbers, (1..=counted.len() as u64).collect::<Vec<_>>());
    assert_eq!(app.totals().await.participations, counted.len() as u64);
    app.shutdown().await;
    let check = sqlite::check(&ledger).unwrap();
    assert!(check.problems.is_empty(), "{:?}", check.problems);
    assert_eq!(check.participations, counted.len() as u64);
}
