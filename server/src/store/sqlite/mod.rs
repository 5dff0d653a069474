//! The embedded SQLite ledger: one file under the data directory, WAL,
//! `synchronous=FULL`, one writer connection on a thread of its own (SQLite
//! calls block), and a small pool of read-only connections for lookups.
//!
//! Only the SQL ([`queries`]), the migrations and the connection handling
//! are here; the logic is the store's shared code ([`super::ledger`]).

mod admin_queries;
mod queries;

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use r2d2_sqlite::SqliteConnectionManager;
use rusqlite::{Connection, OpenFlags, Transaction, params};
use sim::wire::{RejectReason, SchoolRef};
use tokio::sync::oneshot;

use super::admin::{
    AreaFilter, AuditFilter, AuditRecord, BookLifecycle, BookSelection, CountySummary, Credentials,
    FailedSignIns, ListInfo, Movement, Page, PledgeRecord, SessionRecord, ShipmentFilter,
    ShipmentRecord, Unshipped, User, Window,
};
use super::backend::{
    AccountChanges, AccountsWrite, AllocationSince, AllocationTables, Backend, Changes,
    ConsoleRead, Head, LedgerRead, LedgerWrite, PlayerRow, Result, SchoolKey, ShareCodeRow,
    ShareDelta,
};
use super::bulk::{BulkLoadReport, CheckFacts, DayRecount, LedgerCheck, Synthetic, SyntheticLoad};
use super::ledger::Ledger;
use super::writer::WriterConfig;
use super::{Participation, Store, StoreError, backend_error};
use crate::allocation::{
    BookRecord, BookState, ListedSchool, Pledge, SchoolListVersion, SchoolTally,
};
use crate::domain::{PlayerId, RoundId, ShareCode, UserName};
use crate::metrics::LedgerMetrics;

/// The ledger's file name inside the data directory.
pub const FILE_NAME: &str = "ledger.sqlite3";

/// Schema migrations, applied in order; `PRAGMA user_version` counts those
/// already applied.
const MIGRATIONS: &[&str] = &[
    include_str!("migrations/0001_ledger.sql"),
    include_str!("migrations/0002_allocation.sql"),
    include_str!("migrations/0003_head.sql"),
    include_str!("migrations/0004_admin.sql"),
    include_str!("migrations/0005_sharing.sql"),
    include_str!("migrations/0006_append_only_players.sql"),
];

/// Read connections in the pool: lookups are short point queries.
const READ_CONNECTIONS: u32 = 4;

/// Connections for accounts transactions (sign-ins, sessions, the audit
/// log): SQLite lets one write at a time anyway.
const ACCOUNTS_CONNECTIONS: u32 = 2;

/// How long a connection waits for another's lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Opens (creating and migrating if needed) the ledger at `path` and starts
/// its writer.
pub async fn open(
    path: &Path,
    config: WriterConfig,
    metrics: LedgerMetrics,
) -> Result<Arc<dyn Store>> {
    let backend = SqliteBackend::open(path)?;
    let ledger = Ledger::start(backend, config, metrics).await?;
    tracing::info!(path = %path.display(), "ledger opened (SQLite)");
    Ok(Arc::new(ledger))
}

/// The SQLite backend: the file, its pool of read connections and its few
/// connections for accounts transactions.
#[derive(Debug)]
pub(crate) struct SqliteBackend {
    path: PathBuf,
    readers: r2d2::Pool<SqliteConnectionManager>,
    accounts: r2d2::Pool<SqliteConnectionManager>,
}

impl SqliteBackend {
    /// Creates and migrates the file if needed, and opens the read pool.
    fn open(path: &Path) -> Result<Self> {
        drop(open_writer_connection(path)?);
        let readers = r2d2::Pool::builder()
            .max_size(READ_CONNECTIONS)
            .test_on_check_out(false)
            .build(
                SqliteConnectionManager::file(path)
                    .with_flags(OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
                    .with_init(|conn| conn.busy_timeout(BUSY_TIMEOUT)),
            )
            .map_err(backend_error)?;
        // Created on first use: most processes (the CLI commands) never
        // touch the accounts.
        let accounts = r2d2::Pool::builder()
            .max_size(ACCOUNTS_CONNECTIONS)
            .min_idle(Some(0))
            .test_on_check_out(false)
            .build(
                SqliteConnectionManager::file(path)
                    .with_flags(OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX)
                    .with_init(|conn| {
                        conn.busy_timeout(BUSY_TIMEOUT)?;
                        conn.pragma_update(None, "synchronous", "FULL")
                    }),
            )
            .map_err(backend_error)?;
        Ok(Self {
            path: path.to_owned(),
            readers,
            accounts,
        })
    }
}

impl Backend for SqliteBackend {
    type Reader = SqliteReader;
    type WriterConnection = Connection;
    type Tx<'c> = SqliteTx<'c>;
    type AccountsTx = SqliteAccountsTx;

    async fn accounts_tx(&self) -> Result<SqliteAccountsTx> {
        let pool = self.accounts.clone();
        let conn = tokio::task::spawn_blocking(move || {
            let conn = pool.get().map_err(backend_error)?;
            // IMMEDIATE: the accounts' rules read and write under one lock.
            conn.execute_batch("BEGIN IMMEDIATE")
                .map_err(backend_error)?;
            Ok::<_, StoreError>(conn)
        })
        .await
        .map_err(backend_error)??;
        Ok(SqliteAccountsTx {
            conn: Some(conn),
            finished: false,
        })
    }

    async fn reader(&self) -> Result<SqliteReader> {
        let readers = self.readers.clone();
        let conn = tokio::task::spawn_blocking(move || readers.get())
            .await
            .map_err(backend_error)?
            .map_err(backend_error)?;
        Ok(SqliteReader { conn: Some(conn) })
    }

    async fn writer_connection(&self) -> Result<Connection> {
        open_writer_connection(&self.path)
    }

    async fn begin(conn: &mut Connection) -> Result<SqliteTx<'_>> {
        // IMMEDIATE takes the write lock now, so what the transaction reads
        // stays true until it commits.
        conn.execute_batch("BEGIN IMMEDIATE")
            .map_err(backend_error)?;
        Ok(SqliteTx {
            conn,
            finished: false,
        })
    }

    fn spawn_writer(
        &self,
        writer: impl Future<Output = ()> + Send + 'static,
    ) -> Result<oneshot::Receiver<()>> {
        // The writer's own runtime, for its batch window: SQLite calls block,
        // so they must not run on the server's async threads.
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .map_err(backend_error)?;
        let (stopped, on_stop) = oneshot::channel();
        std::thread::Builder::new()
            .name("ledger-writer".into())
            .spawn(move || {
                runtime.block_on(writer);
                let _ = stopped.send(());
            })
            .map_err(backend_error)?;
        Ok(on_stop)
    }
}

/// Whether `error` (or what caused it) is SQLite saying the storage refuses
/// writes for now: the disk is full, the file is read-only, or writing to it
/// failed. Such a transaction was rolled back; the next may succeed.
pub(crate) fn refuses_writes(error: &(dyn std::error::Error + 'static)) -> bool {
    use rusqlite::ErrorCode::{CannotOpen, DiskFull, ReadOnly, SystemIoFailure};
    std::iter::successors(Some(error), |error| error.source()).any(|error| {
        error
            .downcast_ref::<rusqlite::Error>()
            .and_then(rusqlite::Error::sqlite_error_code)
            .is_some_and(|code| matches!(code, DiskFull | ReadOnly | SystemIoFailure | CannotOpen))
    })
}

/// A pooled read connection. Each query runs on a blocking thread.
#[derive(Debug)]
pub(crate) struct SqliteReader {
    /// `None` only while a query has it.
    conn: Option<r2d2::PooledConnection<SqliteConnectionManager>>,
}

/// A write transaction on the writer's connection, which runs on the
/// writer's own thread, so its queries run in place. Rolled back if dropped
/// before [`LedgerWrite::commit`].
#[derive(Debug)]
pub(crate) struct SqliteTx<'c> {
    conn: &'c mut Connection,
    finished: bool,
}

impl Drop for SqliteTx<'_> {
    fn drop(&mut self) {
        if !self.finished
            && let Err(error) = self.conn.execute_batch("ROLLBACK")
        {
            tracing::error!(%error, "rolling back a ledger transaction failed");
        }
    }
}

/// An accounts transaction on a pooled connection of its own; each query
/// runs on a blocking thread. Rolled back if dropped before
/// [`AccountsWrite::commit`].
#[derive(Debug)]
pub(crate) struct SqliteAccountsTx {
    /// `None` only while a query has it.
    conn: Option<r2d2::PooledConnection<SqliteConnectionManager>>,
    finished: bool,
}

impl Drop for SqliteAccountsTx {
    fn drop(&mut self) {
        if !self.finished
            && let Some(conn) = &self.conn
            && let Err(error) = conn.execute_batch("ROLLBACK")
        {
            tracing::error!(%error, "rolling back an accounts transaction failed");
        }
    }
}

impl AccountsWrite for SqliteAccountsTx {
    async fn apply(&mut self, changes: &AccountChanges) -> Result<()> {
        let changes = changes.clone();
        self.run(move |conn| admin_queries::apply_accounts(conn, &changes))
            .await
    }

    async fn commit(mut self) -> Result<()> {
        self.run(|conn| conn.execute_batch("COMMIT")).await?;
        self.finished = true;
        Ok(())
    }
}

/// Runs a query on a connection, wherever that connection's queries run.
/// Every [`LedgerRead`] question is one query function of [`queries`] run
/// this way, so the SQL is written once for the pool and the writer.
trait RunQuery: Send {
    fn run<T: Send + 'static>(
        &mut self,
        query: impl FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> impl Future<Output = Result<T>> + Send;
}

impl RunQuery for SqliteReader {
    async fn run<T: Send + 'static>(
        &mut self,
        query: impl FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> Result<T> {
        run_pooled(&mut self.conn, "a read connection was lost", query).await
    }
}

impl RunQuery for SqliteAccountsTx {
    async fn run<T: Send + 'static>(
        &mut self,
        query: impl FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> Result<T> {
        run_pooled(&mut self.conn, "an accounts connection was lost", query).await
    }
}

/// Runs `query` on the pooled connection in `slot`, on a blocking thread,
/// and puts the connection back; `lost` says which one, should it be gone.
async fn run_pooled<T: Send + 'static>(
    slot: &mut Option<r2d2::PooledConnection<SqliteConnectionManager>>,
    lost: &'static str,
    query: impl FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
) -> Result<T> {
    let conn = slot
        .take()
        .ok_or_else(|| StoreError::Backend(lost.into()))?;
    let (conn, result) = tokio::task::spawn_blocking(move || {
        let result = query(&conn);
        (conn, result)
    })
    .await
    .map_err(backend_error)?;
    *slot = Some(conn);
    result.map_err(backend_error)
}

impl RunQuery for SqliteTx<'_> {
    async fn run<T: Send + 'static>(
        &mut self,
        query: impl FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> Result<T> {
        query(self.conn).map_err(backend_error)
    }
}

impl<C: RunQuery> LedgerRead for C {
    async fn head(&mut self) -> Result<Head> {
        self.run(queries::head).await
    }

    async fn rounds(&mut self, rounds: Vec<RoundId>) -> Result<Vec<Participation>> {
        self.run(move |conn| queries::rounds(conn, &rounds)).await
    }

    async fn player_history(&mut self, player: PlayerId, limit: u32) -> Result<Vec<Participation>> {
        self.run(move |conn| queries::player_history(conn, player, limit))
            .await
    }

    async fn participation(&mut self, number: u64) -> Result<Option<Participation>> {
        self.run(move |conn| queries::participation(conn, number))
            .await
    }

    async fn player_day_counts(&mut self, keys: Vec<(PlayerId, i64)>) -> Result<Vec<u64>> {
        self.run(move |conn| queries::player_day_counts(conn, &keys))
            .await
    }

    async fn day_tallies(&mut self, days: Vec<i64>) -> Result<Vec<u64>> {
        self.run(move |conn| queries::day_tallies(conn, &days))
            .await
    }

    async fn rejection_tallies(&mut self) -> Result<BTreeMap<RejectReason, u64>> {
        self.run(queries::rejection_tallies).await
    }

    async fn pledges(&mut self) -> Result<Vec<Pledge>> {
        self.run(queries::pledges).await
    }

    async fn allocation_tables(&mut self) -> Result<AllocationTables> {
        self.run(queries::allocation_tables).await
    }

    async fn allocation_since(&mut self, funded: u64) -> Result<AllocationSince> {
        self.run(move |conn| queries::allocation_since(conn, funded))
            .await
    }

    async fn book_schools(&mut self, books: Vec<u64>) -> Result<HashMap<u64, SchoolRef>> {
        self.run(move |conn| queries::book_schools(conn, &books))
            .await
    }

    async fn school(&mut self, key: SchoolKey) -> Result<Option<(SchoolTally, String)>> {
        self.run(move |conn| queries::school(conn, &key)).await
    }

    async fn school_books(&mut self, school: String) -> Result<Vec<(u64, BookState)>> {
        self.run(move |conn| queries::school_books(conn, &school))
            .await
    }

    async fn school_tallies(&mut self) -> Result<Vec<SchoolTally>> {
        self.run(queries::school_tallies).await
    }

    async fn school_lists(&mut self) -> Result<Vec<SchoolListVersion>> {
        self.run(queries::school_lists).await
    }

    async fn books(&mut self) -> Result<Vec<BookRecord>> {
        self.run(queries::books).await
    }

    async fn shipped_books_of(&mut self, school: String) -> Result<Vec<u64>> {
        self.run(move |conn| queries::shipped_books_of(conn, &school))
            .await
    }

    async fn next_shipment_id(&mut self) -> Result<u64> {
        self.run(queries::next_shipment_id).await
    }

    async fn players(&mut self, players: Vec<PlayerId>) -> Result<HashMap<PlayerId, PlayerRow>> {
        self.run(move |conn| queries::players(conn, &players)).await
    }

    async fn share_codes(
        &mut self,
        codes: Vec<ShareCode>,
    ) -> Result<HashMap<ShareCode, ShareCodeRow>> {
        self.run(move |conn| queries::share_codes(conn, &codes))
            .await
    }

    async fn top_share_codes(&mut self, limit: u32) -> Result<Vec<(ShareCode, ShareCodeRow)>> {
        self.run(move |conn| queries::top_share_codes(conn, limit))
            .await
    }

    async fn share_totals(&mut self) -> Result<ShareDelta> {
        self.run(queries::share_totals).await
    }

    async fn allocated_books(&mut self, selection: BookSelection) -> Result<Vec<(u64, String)>> {
        self.run(move |conn| admin_queries::allocated_books(conn, &selection))
            .await
    }

    async fn school_counties(&mut self, schools: Vec<String>) -> Result<HashMap<String, String>> {
        self.run(move |conn| admin_queries::school_counties(conn, &schools))
            .await
    }

    async fn unconfirmed_shipments_of(&mut self, school: String) -> Result<Vec<u64>> {
        self.run(move |conn| admin_queries::unconfirmed_shipments_of(conn, &school))
            .await
    }
}

impl<C: RunQuery> ConsoleRead for C {
    async fn credentials(&mut self, name: UserName) -> Result<Option<Credentials>> {
        self.run(move |conn| admin_queries::credentials(conn, &name))
            .await
    }

    async fn users(&mut self) -> Result<Vec<User>> {
        self.run(admin_queries::users).await
    }

    async fn session(&mut self, token_hash: [u8; 32]) -> Result<Option<SessionRecord>> {
        self.run(move |conn| admin_queries::session(conn, &token_hash))
            .await
    }

    async fn failed_sign_ins(
        &mut self,
        name: String,
        address: String,
        since_ms: u64,
    ) -> Result<FailedSignIns> {
        self.run(move |conn| admin_queries::failed_sign_ins(conn, &name, &address, since_ms))
            .await
    }

    async fn audit_log(
        &mut self,
        filter: AuditFilter,
        window: Window,
    ) -> Result<Page<AuditRecord>> {
        self.run(move |conn| admin_queries::audit_log(conn, &filter, window))
            .await
    }

    async fn first_day(&mut self) -> Result<Option<i64>> {
        self.run(admin_queries::first_day).await
    }

    async fn day_counts(&mut self, first: i64, last: i64) -> Result<Vec<(i64, u64)>> {
        self.run(move |conn| admin_queries::day_counts(conn, first, last))
            .await
    }

    async fn refusals(&mut self, first: i64, last: i64) -> Result<BTreeMap<RejectReason, u64>> {
        self.run(move |conn| admin_queries::refusals(conn, first, last))
            .await
    }

    async fn counties(&mut self) -> Result<Vec<CountySummary>> {
        self.run(admin_queries::counties).await
    }

    async fn county_movements(
        &mut self,
        first: i64,
        last: i64,
    ) -> Result<BTreeMap<String, Movement>> {
        self.run(move |conn| admin_queries::county_movements(conn, first, last))
            .await
    }

    async fn schools_in(&mut self, area: AreaFilter) -> Result<Vec<SchoolTally>> {
        self.run(move |conn| admin_queries::schools_in(conn, &area))
            .await
    }

    async fn school_movements(
        &mut self,
        schools: Vec<String>,
        first: i64,
        last: i64,
    ) -> Result<BTreeMap<String, Movement>> {
        self.run(move |conn| admin_queries::school_movements(conn, &schools, first, last))
            .await
    }

    async fn school_lifecycle(
        &mut self,
        school: String,
        window: Window,
    ) -> Result<Page<BookLifecycle>> {
        self.run(move |conn| admin_queries::school_lifecycle(conn, &school, window))
            .await
    }

    async fn pledge_records(&mut self) -> Result<Vec<PledgeRecord>> {
        self.run(admin_queries::pledge_records).await
    }

    async fn shipments(
        &mut self,
        filter: ShipmentFilter,
        window: Window,
    ) -> Result<Page<ShipmentRecord>> {
        self.run(move |conn| admin_queries::shipments(conn, &filter, window))
            .await
    }

    async fn shipment(&mut self, id: u64) -> Result<Option<ShipmentRecord>> {
        self.run(move |conn| admin_queries::shipment(conn, id))
            .await
    }

    async fn shipment_books(&mut self, id: u64) -> Result<Vec<u64>> {
        self.run(move |conn| admin_queries::shipment_books(conn, id))
            .await
    }

    async fn unshipped(&mut self, limit: u64) -> Result<Unshipped> {
        self.run(move |conn| admin_queries::unshipped(conn, limit))
            .await
    }

    async fn school_list_versions(&mut self) -> Result<Vec<ListInfo>> {
        self.run(admin_queries::school_list_versions).await
    }

    async fn latest_school_list(&mut self) -> Result<Option<(u32, Vec<ListedSchool>)>> {
        self.run(admin_queries::latest_school_list).await
    }
}

impl LedgerWrite for SqliteTx<'_> {
    async fn apply(&mut self, changes: &Changes) -> Result<()> {
        queries::apply(self.conn, changes).map_err(backend_error)
    }

    async fn commit(mut self) -> Result<()> {
        self.finished = true;
        // With `synchronous=FULL` in WAL mode, COMMIT returns once the WAL
        // is synced: the batch is durable.
        if let Err(error) = self.conn.execute_batch("COMMIT") {
            self.finished = false;
            return Err(backend_error(error));
        }
        Ok(())
    }
}

/// The writer's connection: WAL so readers never block it, `synchronous=FULL`
/// so a commit survives power loss, then the migrations.
fn open_writer_connection(path: &Path) -> Result<Connection> {
    let mut conn = Connection::open(path).map_err(backend_error)?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(backend_error)?;
    let mode: String = conn
        .query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))
        .map_err(backend_error)?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::Inconsistent(format!(
            "could not switch the ledger to WAL (got {mode})"
        )));
    }
    conn.pragma_update(None, "synchronous", "FULL")
        .map_err(backend_error)?;
    // 64 MiB of page cache: the player index is written at random places,
    // and its hot part should stay in memory (a 256 MiB cache measured no
    // faster at 5.8 million rows).
    conn.pragma_update(None, "cache_size", -65_536)
        .map_err(backend_error)?;
    migrate(&mut conn)?;
    Ok(conn)
}

/// Applies the migrations not applied yet, each in its own transaction.
/// SQLite's write lock (`BEGIN IMMEDIATE`) makes processes that start
/// together take turns; each re-reads the version under the lock.
fn migrate(conn: &mut Connection) -> Result<()> {
    loop {
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(backend_error)?;
        let applied: usize = tx
            .pragma_query_value(None, "user_version", |row| row.get(0))
            .map_err(backend_error)?;
        if applied > MIGRATIONS.len() {
            return Err(StoreError::Inconsistent(format!(
                "the ledger has schema version {applied}, newer than this server's {}",
                MIGRATIONS.len()
            )));
        }
        let Some(sql) = MIGRATIONS.get(applied) else {
            return Ok(());
        };
        tx.execute_batch(sql).map_err(backend_error)?;
        tx.pragma_update(None, "user_version", applied + 1)
            .map_err(backend_error)?;
        tx.commit().map_err(backend_error)?;
        tracing::info!(version = applied + 1, "ledger schema migrated");
    }
}

/// A read-only connection to `path`, waiting up to 5 s for a lock.
fn open_read_connection(path: &Path) -> Result<Connection> {
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(backend_error)?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(backend_error)?;
    Ok(conn)
}

/// Copies a consistent snapshot of the ledger at `path` to `out` while the
/// server keeps writing: `VACUUM INTO` reads in one read transaction (in
/// WAL mode it blocks no writer) and writes a compact copy, which is made
/// durable and then renamed into place, so `out` is never half a ledger.
pub fn backup(path: &Path, out: &Path) -> Result<BackupReport> {
    let partial = out.with_extension("partial");
    let _ = std::fs::remove_file(&partial);
    let conn = open_read_connection(path)?;
    conn.execute("VACUUM INTO ?1", params![partial.to_string_lossy()])
        .map_err(backend_error)?;
    drop(conn);
    std::fs::File::open(&partial)
        .and_then(|file| file.sync_all())
        .map_err(backend_error)?;
    std::fs::rename(&partial, out).map_err(backend_error)?;
    let copy = open_read_connection(out)?;
    let last_number: Option<u64> = copy
        .query_row("SELECT MAX(seq) FROM participations", [], |row| row.get(0))
        .map_err(backend_error)?;
    Ok(BackupReport {
        last_number: last_number.unwrap_or(0),
        bytes: std::fs::metadata(out).map_err(backend_error)?.len(),
    })
}

/// What [`backup`] copied.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct BackupReport {
    /// The last participation number in the copy (0 when empty): every
    /// participation up to it is there.
    pub last_number: u64,
    /// Size of the copy in bytes.
    pub bytes: u64,
}

/// Appends `count` synthetic participations ([`SyntheticLoad`]) through
/// the same schema, numbering and tallies as the writer, as fast as SQLite
/// allows. The server must not be running on this ledger.
///
/// Speed comes from doing it all in one transaction with the
/// participation indexes dropped and rebuilt at the end (one sort instead
/// of millions of random inserts), under a rollback journal rather than
/// the WAL (new pages need no journaling). It is all or nothing: a crash
/// mid-load leaves the ledger as it was.
pub fn bulk_load(
    path: &Path,
    count: u64,
    days: u32,
    now_ms: u64,
    seed: u64,
) -> Result<BulkLoadReport> {
    let started = Instant::now();
    let mut conn = open_writer_connection(path)?;
    set_journal_mode(&conn, "delete")?;
    // A one-off process: a large page cache and in-memory sorting for
    // the index rebuilds.
    conn.pragma_update(None, "cache_size", -524_288)
        .map_err(backend_error)?;
    conn.pragma_update(None, "temp_store", "MEMORY")
        .map_err(backend_error)?;

    let tx = conn.transaction().map_err(backend_error)?;
    let head = queries::head(&tx).map_err(backend_error)?;
    let first_number = head.next_number;
    let indexes = drop_participation_indexes(&tx)?;
    let load = SyntheticLoad::new(first_number, count, days, now_ms, seed);
    let tallies = queries::day_tallies(&tx, &load.days()).map_err(backend_error)?;
    let mut load = load.with_day_tallies(tallies);
    {
        let mut poster = tx
            .prepare("INSERT OR IGNORE INTO share_codes (code, label) VALUES (?1, ?2)")
            .map_err(backend_error)?;
        for code in load.poster_codes() {
            poster
                .execute(params![code.code.as_str(), code.label])
                .map_err(backend_error)?;
        }
        let mut insert = tx
            .prepare(queries::INSERT_PARTICIPATION)
            .map_err(backend_error)?;
        let mut insert_player = tx
            .prepare(
                "INSERT INTO players (player, participations, latest, referred_by) \
                 VALUES (?1, ?2, ?3, ?4)",
            )
            .map_err(backend_error)?;
        for item in load.by_ref() {
            match item {
                Synthetic::Participation(row) => {
                    queries::insert_participation(&mut insert, &row).map_err(backend_error)?;
                }
                Synthetic::Player(player) => {
                    insert_player
                        .execute(params![
                            player.id.to_bytes(),
                            player.participations,
                            player.latest,
                            player.referred_by.as_ref().map(ShareCode::as_str),
                        ])
                        .map_err(backend_error)?;
                }
            }
        }
    }
    let changes = load.finish(head);
    queries::apply_tallies(&tx, &changes).map_err(backend_error)?;
    queries::set_head(&tx, changes.head).map_err(backend_error)?;
    for sql in &indexes {
        tx.execute_batch(sql).map_err(backend_error)?;
    }
    tx.commit().map_err(backend_error)?;
    set_journal_mode(&conn, "wal")?;
    Ok(BulkLoadReport {
        loaded: count,
        first_number,
        last_number: first_number + count - 1,
        elapsed_secs: started.elapsed().as_secs_f64(),
    })
}

/// Switches the journal mode (needs the only connection to the file).
fn set_journal_mode(conn: &Connection, mode: &str) -> Result<()> {
    let set: String = conn
        .query_row(&format!("PRAGMA journal_mode = {mode}"), [], |row| {
            row.get(0)
        })
        .map_err(backend_error)?;
    if set.eq_ignore_ascii_case(mode) {
        Ok(())
    } else {
        Err(StoreError::Inconsistent(format!(
            "could not switch the ledger to {mode} journal (is a server running on it?)"
        )))
    }
}

/// Drops the indexes of `participations`, returning the SQL that recreates
/// them exactly as the migrations made them.
fn drop_participation_indexes(tx: &Transaction<'_>) -> Result<Vec<String>> {
    let indexes: Vec<(String, String)> = tx
        .prepare(
            "SELECT name, sql FROM sqlite_schema \
             WHERE type = 'index' AND tbl_name = 'participations' AND sql IS NOT NULL",
        )
        .and_then(|mut statement| {
            statement
                .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
                .collect()
        })
        .map_err(backend_error)?;
    for (name, _) in &indexes {
        tx.execute_batch(&format!("DROP INDEX \"{name}\""))
            .map_err(backend_error)?;
    }
    Ok(indexes.into_iter().map(|(_, sql)| sql).collect())
}

/// Recounts the ledger at `path` (read-only, scanning every row) and
/// checks its invariants ([`CheckFacts::check`]). For audits and the crash
/// test; never on a hot path.
pub fn check(path: &Path) -> Result<LedgerCheck> {
    let conn = open_read_connection(path)?;
    let mut facts = conn
        .query_row(
            "SELECT COUNT(*), COALESCE(MIN(seq), 0), COALESCE(MAX(seq), 0), \
             COUNT(DISTINCT round_id) FROM participations",
            [],
            |row| {
                Ok(CheckFacts {
                    participations: row.get(0)?,
                    first_number: row.get(1)?,
                    last_number: row.get(2)?,
                    distinct_rounds: row.get(3)?,
                    ..CheckFacts::default()
                })
            },
        )
        .map_err(backend_error)?;
    facts.rejections = conn
        .query_row("SELECT COUNT(*) FROM rejections", [], |row| row.get(0))
        .map_err(backend_error)?;
    facts.day_rows = grouped(
        &conn,
        "SELECT day, COUNT(*), MAX(day_count), COUNT(DISTINCT day_count) \
         FROM participations GROUP BY day",
        |row| {
            Ok((
                row.get(0)?,
                DayRecount {
                    rows: row.get(1)?,
                    max_day_count: row.get(2)?,
                    distinct_day_counts: row.get(3)?,
                },
            ))
        },
    )?;
    facts.day_tallies = grouped(
        &conn,
        "SELECT day, participations FROM day_tallies",
        pair::<i64>,
    )?;
    facts.share_code_rows = grouped(
        &conn,
        "SELECT referral, COUNT(*) FROM participations WHERE referral IS NOT NULL \
         GROUP BY referral",
        pair::<String>,
    )?;
    facts.share_code_tallies = grouped(
        &conn,
        "SELECT code, participations FROM share_codes WHERE participations > 0",
        pair::<String>,
    )?;
    facts.referring_rows = grouped(
        &conn,
        "SELECT referred_by, COUNT(*) FROM players WHERE referred_by IS NOT NULL \
         GROUP BY referred_by",
        pair::<String>,
    )?;
    facts.referring_tallies = grouped(
        &conn,
        "SELECT code, referred_players FROM share_codes WHERE referred_players > 0",
        pair::<String>,
    )?;
    let player_counts = |row: &rusqlite::Row<'_>| {
        Ok((
            PlayerId::from_bytes(row.get(0)?),
            (row.get::<_, u64>(1)?, row.get::<_, u64>(2)?),
        ))
    };
    facts.player_rows = grouped(
        &conn,
        "SELECT player, COUNT(*), MAX(seq) FROM participations GROUP BY player",
        player_counts,
    )?;
    facts.player_tallies = grouped(
        &conn,
        "SELECT player, participations, latest FROM players",
        player_counts,
    )?;
    facts.code_owner_mismatches = conn
        .query_row(
            "SELECT (SELECT COUNT(*) FROM players p LEFT JOIN share_codes s \
             ON s.code = p.share_code WHERE p.share_code IS NOT NULL AND s.owner IS NOT p.player) \
             + (SELECT COUNT(*) FROM share_codes s LEFT JOIN players p ON p.player = s.owner \
             WHERE s.owner IS NOT NULL AND p.share_code IS NOT s.code)",
            [],
            |row| row.get(0),
        )
        .map_err(backend_error)?;
    facts.share_code_sums = conn
        .query_row(
            "SELECT COALESCE(SUM(participations), 0), COALESCE(SUM(referred_players), 0) \
             FROM share_codes",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .map_err(backend_error)?;
    let totals = queries::share_totals(&conn).map_err(backend_error)?;
    facts.share_totals = (totals.participations, totals.referred_players);
    facts.rejection_rows = grouped(
        &conn,
        "SELECT reason, COUNT(*) FROM rejections GROUP BY reason",
        pair::<String>,
    )?;
    facts.rejection_tallies = grouped(
        &conn,
        "SELECT reason, rejections FROM rejection_tallies",
        pair::<String>,
    )?;
    facts.head = Some(queries::head(&conn).map_err(backend_error)?);
    Ok(facts.check())
}

/// A key and a count.
fn pair<K: rusqlite::types::FromSql>(row: &rusqlite::Row<'_>) -> rusqlite::Result<(K, u64)> {
    Ok((row.get(0)?, row.get(1)?))
}

/// The rows of `sql`, each turned into a key and a value by `read`.
fn grouped<K: Ord, V>(
    conn: &Connection,
    sql: &str,
    read: impl Fn(&rusqlite::Row<'_>) -> rusqlite::Result<(K, V)>,
) -> Result<BTreeMap<K, V>> {
    let mut statement = conn.prepare(sql).map_err(backend_error)?;
    let rows = statement.query_map([], read).map_err(backend_error)?;
    rows.collect::<rusqlite::Result<_>>().map_err(backend_error)
}
