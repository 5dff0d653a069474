//! The embedded SQLite ledger: one file under the data directory, WAL,
//! `synchronous=FULL`, one writer thread (see `writer.rs`) and a small pool
//! of read-only connections for lookups.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use r2d2_sqlite::SqliteConnectionManager;
use rand::{Rng as _, SeedableRng as _};
use rusqlite::{Connection, OpenFlags, OptionalExtension, Row, Transaction, params};
use sim::wire::{BookStatus, RejectReason};
use tokio::sync::{mpsc, oneshot, watch};

use super::allocation::{self, ImportOutcome, PledgeOutcome, SchoolBooks, ShipOutcome};
use super::writer::{Command, Writer, WriterConfig};
use super::{
    AppendOutcome, LedgerTotals, NewParticipation, Participation, ParticipationBook,
    RejectionRecord, Store, StoreError, backend,
};
use crate::allocation::{ListedSchool, OpenData, Pledge, Report};
use crate::domain::{ChinaDay, PlayerId, ReferralCode, RoundId};
use crate::error::{reason_from_name, reason_name};
use crate::idempotency::{IdempotencyKey, RequestFingerprint};
use crate::metrics::LedgerMetrics;

/// Schema migrations, applied in order; `PRAGMA user_version` counts those
/// already applied.
const MIGRATIONS: &[&str] = &[
    include_str!("migrations/0001_ledger.sql"),
    include_str!("migrations/0002_allocation.sql"),
];

/// Read connections in the pool: lookups are short point queries.
const READ_CONNECTIONS: u32 = 4;

/// `SELECT` of every column [`participation_from_row`] reads, followed by
/// `$tail`.
macro_rules! select_participations {
    ($tail:literal) => {
        concat!(
            "SELECT seq, round_id, player, finished_at_ms, day_count, score, books_caught, ",
            "idempotency_key, fingerprint FROM participations ",
            $tail
        )
    };
}

pub(super) const FIND_ROUND: &str = select_participations!("WHERE round_id = ?1");
const PLAYER_HISTORY: &str = select_participations!("WHERE player = ?1 ORDER BY seq DESC LIMIT ?2");
pub(super) const COUNT_PLAYER_DAY: &str =
    "SELECT COUNT(*) FROM participations WHERE player = ?1 AND day = ?2";
pub(super) const INSERT_PARTICIPATION: &str = "INSERT INTO participations (seq, round_id, player, \
     referral, finished_at_ms, day, day_count, score, books_caught, ticks_played, state_hash, \
     rules_version, idempotency_key, fingerprint) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)";
pub(super) const INSERT_REJECTION: &str =
    "INSERT INTO rejections (at_ms, reason, round_id, player) VALUES (?1, ?2, ?3, ?4)";

/// The SQLite implementation of [`Store`].
#[derive(Debug)]
pub struct SqliteStore {
    queue: mpsc::Sender<Command>,
    readers: r2d2::Pool<SqliteConnectionManager>,
    totals: watch::Receiver<LedgerTotals>,
    writer_thread: Mutex<Option<JoinHandle<()>>>,
    /// A read connection of its own for [`Store::revision`]: SQLite's
    /// `PRAGMA data_version` counts the commits of *other* connections as
    /// seen by one connection, so it must always be asked on the same one.
    /// It never writes, so every commit counts.
    revision_conn: Arc<Mutex<Connection>>,
    metrics: LedgerMetrics,
}

impl SqliteStore {
    /// The ledger's file name inside the data directory.
    pub const FILE_NAME: &'static str = "ledger.sqlite3";

    /// Opens (creating and migrating if needed) the ledger at `path` and
    /// starts its writer thread.
    pub fn open(
        path: &Path,
        config: WriterConfig,
        metrics: LedgerMetrics,
    ) -> Result<Self, StoreError> {
        // The writer's own timer, for its batch window: it does not depend
        // on whichever runtime the server runs on.
        let timer = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .map_err(backend)?;
        let conn = open_writer_connection(path)?;
        let next_number = last_number(&conn)? + 1;
        let totals = load_totals(&conn, ChinaDay::from_unix_ms(crate::now_unix_ms()))?;
        let (totals_tx, totals_rx) = watch::channel(totals);

        let readers = r2d2::Pool::builder()
            .max_size(READ_CONNECTIONS)
            .test_on_check_out(false)
            .build(
                SqliteConnectionManager::file(path)
                    .with_flags(OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
                    .with_init(|conn| conn.busy_timeout(Duration::from_secs(5))),
            )
            .map_err(backend)?;

        let revision_conn = Arc::new(Mutex::new(open_read_connection(path)?));

        let (queue, commands) = mpsc::channel(config.queue_capacity);
        let writer = Writer::new(conn, next_number, totals_tx, metrics.clone());
        let writer_thread = std::thread::Builder::new()
            .name("ledger-writer".into())
            .spawn(move || writer.run(commands, config, timer))
            .map_err(backend)?;
        tracing::info!(path = %path.display(), participations = next_number - 1, "ledger opened");
        Ok(Self {
            queue,
            readers,
            totals: totals_rx,
            writer_thread: Mutex::new(Some(writer_thread)),
            revision_conn,
            metrics,
        })
    }

    /// Runs `query` on a pooled read connection, off the async threads.
    async fn read<T: Send + 'static>(
        &self,
        query: impl FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> Result<T, StoreError> {
        let readers = self.readers.clone();
        tokio::task::spawn_blocking(move || {
            let conn = readers.get().map_err(backend)?;
            query(&conn).map_err(backend)
        })
        .await
        .map_err(backend)?
    }

    /// Sends the writer the command `command` builds around a reply channel
    /// and waits for the answer (sent once the command's batch is durable).
    async fn ask_writer<T>(
        &self,
        command: impl FnOnce(oneshot::Sender<Result<T, StoreError>>) -> Command,
    ) -> Result<T, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.queue
            .send(command(reply))
            .await
            .map_err(|_| StoreError::WriterStopped)?;
        answer.await.map_err(|_| StoreError::WriterStopped)?
    }
}

#[async_trait::async_trait]
impl Store for SqliteStore {
    async fn append(&self, participation: NewParticipation) -> Result<AppendOutcome, StoreError> {
        self.ask_writer(|reply| Command::Append {
            participation: Box::new(participation),
            reply,
        })
        .await
    }

    fn record_rejection(&self, rejection: RejectionRecord) {
        if let Err(err) = self.queue.try_send(Command::Reject(rejection)) {
            self.metrics.rejections_dropped.inc();
            tracing::warn!(error = %err, "rejection not recorded: ledger queue full or closed");
        }
    }

    async fn find_round(&self, round: RoundId) -> Result<Option<Participation>, StoreError> {
        self.read(move |conn| {
            let found = conn
                .prepare_cached(FIND_ROUND)?
                .query_row([round.to_bytes()], participation_from_row)
                .optional()?;
            Ok(with_books(conn, Vec::from_iter(found))?.pop())
        })
        .await
    }

    async fn player_history(
        &self,
        player: PlayerId,
        limit: u32,
    ) -> Result<Vec<Participation>, StoreError> {
        self.read(move |conn| {
            let mut statement = conn.prepare_cached(PLAYER_HISTORY)?;
            let rows =
                statement.query_map(params![player.to_bytes(), limit], participation_from_row)?;
            with_books(conn, rows.collect::<rusqlite::Result<_>>()?)
        })
        .await
    }

    async fn participation_book(
        &self,
        number: u64,
    ) -> Result<Option<ParticipationBook>, StoreError> {
        self.read(move |conn| {
            let Some(finished_at_ms) = conn
                .prepare_cached("SELECT finished_at_ms FROM participations WHERE seq = ?1")?
                .query_row([number], |row| row.get(0))
                .optional()?
            else {
                return Ok(None);
            };
            Ok(allocation::current_statuses(conn, [number])?
                .pop()
                .map(|book| ParticipationBook {
                    number,
                    finished_at_ms,
                    book,
                }))
        })
        .await
    }

    async fn school_books(&self, school: &str) -> Result<Option<SchoolBooks>, StoreError> {
        let school = school.to_owned();
        self.read(move |conn| allocation::school_books(conn, Some(&school), None))
            .await
    }

    async fn school_by_receipt_secret(
        &self,
        secret: &str,
    ) -> Result<Option<SchoolBooks>, StoreError> {
        let secret = secret.to_owned();
        self.read(move |conn| allocation::school_books(conn, None, Some(&secret)))
            .await
    }

    async fn receive_books(&self, secret: &str) -> Result<Option<(String, u64)>, StoreError> {
        self.ask_writer(|reply| Command::Receive {
            secret: secret.to_owned(),
            reply,
        })
        .await
    }

    async fn report(&self) -> Result<Report, StoreError> {
        self.read(allocation::report).await
    }

    async fn revision(&self) -> Result<u64, StoreError> {
        let conn = Arc::clone(&self.revision_conn);
        tokio::task::spawn_blocking(move || {
            let conn = conn
                .lock()
                .map_err(|_| StoreError::Backend("the revision connection is poisoned".into()))?;
            let version: i64 = conn
                .query_row("PRAGMA data_version", [], |row| row.get(0))
                .map_err(backend)?;
            Ok(version.cast_unsigned())
        })
        .await
        .map_err(backend)?
    }

    fn totals(&self) -> watch::Receiver<LedgerTotals> {
        self.totals.clone()
    }

    async fn close(&self) -> Result<(), StoreError> {
        let (done, closed) = oneshot::channel();
        if self.queue.send(Command::Close { done }).await.is_ok() {
            // An error here means the writer stopped on its own already.
            let _ = closed.await;
        }
        let thread = self
            .writer_thread
            .lock()
            .map_err(|_| StoreError::WriterStopped)?
            .take();
        if let Some(thread) = thread {
            tokio::task::spawn_blocking(move || thread.join())
                .await
                .map_err(backend)?
                .map_err(|_| StoreError::Backend("the ledger writer thread panicked".into()))?;
        }
        Ok(())
    }
}

/// The writer's connection: WAL so readers never block it, `synchronous=FULL`
/// so a commit survives power loss, then the migrations.
fn open_writer_connection(path: &Path) -> Result<Connection, StoreError> {
    let mut conn = Connection::open(path).map_err(backend)?;
    conn.busy_timeout(Duration::from_secs(5)).map_err(backend)?;
    let mode: String = conn
        .query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))
        .map_err(backend)?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::Inconsistent(format!(
            "could not switch the ledger to WAL (got {mode})"
        )));
    }
    conn.pragma_update(None, "synchronous", "FULL")
        .map_err(backend)?;
    // 64 MiB of page cache: the player index is written at random places,
    // and its hot part should stay in memory (a 256 MiB cache measured no
    // faster at 5.8 million rows).
    conn.pragma_update(None, "cache_size", -65_536)
        .map_err(backend)?;
    migrate(&mut conn)?;
    Ok(conn)
}

/// Applies the migrations not applied yet, each in its own transaction.
fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let applied: usize = conn
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .map_err(backend)?;
    if applied > MIGRATIONS.len() {
        return Err(StoreError::Inconsistent(format!(
            "the ledger has schema version {applied}, newer than this server's {}",
            MIGRATIONS.len()
        )));
    }
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(applied) {
        let tx = conn.transaction().map_err(backend)?;
        tx.execute_batch(sql).map_err(backend)?;
        tx.pragma_update(None, "user_version", index + 1)
            .map_err(backend)?;
        tx.commit().map_err(backend)?;
        tracing::info!(version = index + 1, "ledger schema migrated");
    }
    Ok(())
}

/// The last participation number (0 for an empty ledger).
fn last_number(conn: &Connection) -> Result<u64, StoreError> {
    conn.query_row(
        "SELECT COALESCE(MAX(seq), 0) FROM participations",
        [],
        |row| row.get(0),
    )
    .map_err(backend)
}

/// The tallies as stored, with `today` as the current day.
fn load_totals(conn: &Connection, today: ChinaDay) -> Result<LedgerTotals, StoreError> {
    let participations = last_number(conn)?;
    let day_participations = day_tally(conn, today).map_err(backend)?;
    let mut rejections = BTreeMap::new();
    let mut statement = conn
        .prepare("SELECT reason, rejections FROM rejection_tallies")
        .map_err(backend)?;
    let rows = statement
        .query_map([], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, u64>(1)?))
        })
        .map_err(backend)?;
    for row in rows {
        let (key, count) = row.map_err(backend)?;
        match reason_from_name(&key) {
            Some(reason) => {
                rejections.insert(reason, count);
            }
            None => tracing::warn!(
                reason = key,
                "unknown rejection reason in the ledger, not shown"
            ),
        }
    }
    Ok(LedgerTotals {
        participations,
        day: today,
        day_participations,
        rejections,
    })
}

/// Participations already counted on `day`.
pub(super) fn day_tally(conn: &Connection, day: ChinaDay) -> rusqlite::Result<u64> {
    conn.prepare_cached("SELECT participations FROM day_tallies WHERE day = ?1")?
        .query_row([day.number()], |row| row.get(0))
        .optional()
        .map(Option::unwrap_or_default)
}

/// Writes the tallies a batch moved: absolute day counts, referral and
/// rejection increments.
pub(super) fn store_tallies(
    tx: &Transaction<'_>,
    day_counts: &BTreeMap<i64, u64>,
    referral_increments: &HashMap<&str, u64>,
    rejection_increments: &BTreeMap<RejectReason, u64>,
) -> rusqlite::Result<()> {
    let mut days = tx.prepare_cached(
        "INSERT INTO day_tallies (day, participations) VALUES (?1, ?2) \
         ON CONFLICT (day) DO UPDATE SET participations = excluded.participations",
    )?;
    for (day, count) in day_counts {
        days.execute(params![day, count])?;
    }
    let mut referrals = tx.prepare_cached(
        "INSERT INTO referral_tallies (code, participations) VALUES (?1, ?2) \
         ON CONFLICT (code) DO UPDATE SET participations = participations + excluded.participations",
    )?;
    for (code, increment) in referral_increments {
        referrals.execute(params![code, increment])?;
    }
    let mut rejections = tx.prepare_cached(
        "INSERT INTO rejection_tallies (reason, rejections) VALUES (?1, ?2) \
         ON CONFLICT (reason) DO UPDATE SET rejections = rejections + excluded.rejections",
    )?;
    for (reason, increment) in rejection_increments {
        rejections.execute(params![reason_name(*reason), increment])?;
    }
    Ok(())
}

/// Reads a row selected with `select_participations!`.
pub(super) fn participation_from_row(row: &Row<'_>) -> rusqlite::Result<Participation> {
    let key: String = row.get(7)?;
    Ok(Participation {
        number: row.get(0)?,
        round: RoundId::from_bytes(row.get(1)?),
        player: PlayerId::from_bytes(row.get(2)?),
        finished_at_ms: row.get(3)?,
        day_count: row.get(4)?,
        score: row.get(5)?,
        books_caught: row.get(6)?,
        idempotency_key: IdempotencyKey::parse(&key).map_err(|err| {
            rusqlite::Error::FromSqlConversionFailure(7, rusqlite::types::Type::Text, Box::new(err))
        })?,
        fingerprint: RequestFingerprint::from_bytes(row.get(8)?),
        // Filled in by `with_books`, which needs more than this row.
        book: BookStatus::AwaitingSponsor,
    })
}

/// Fills in where each participation's book stands now.
fn with_books(
    conn: &Connection,
    mut participations: Vec<Participation>,
) -> rusqlite::Result<Vec<Participation>> {
    let statuses = allocation::current_statuses(conn, participations.iter().map(|p| p.number))?;
    for (participation, book) in participations.iter_mut().zip(statuses) {
        participation.book = book;
    }
    Ok(participations)
}

/// Admin actions and open data, on a ledger file (the CLI's subcommands).
/// Each opens its own connection and takes SQLite's write lock for one
/// transaction, so it is safe while a server runs on the same file: the
/// server's writer rebuilds its allocator before its next batch.
impl SqliteStore {
    /// Runs `action` in one write transaction on the ledger at `path`
    /// (created and migrated if needed).
    fn admin<T>(
        path: &Path,
        action: impl FnOnce(&Transaction<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut conn = open_writer_connection(path)?;
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(backend)?;
        let result = action(&tx)?;
        tx.commit().map_err(backend)?;
        Ok(result)
    }

    /// Adds a sponsor pledge after the others; participations waiting for a
    /// sponsor fund books at once.
    pub fn pledge(path: &Path, pledge: Pledge) -> Result<PledgeOutcome, StoreError> {
        Self::admin(path, |tx| {
            allocation::add_pledge(tx, pledge, crate::now_unix_ms())
                .map_err(backend)?
                .map_err(|error| StoreError::Refused(error.to_string()))
        })
    }

    /// Imports a new version of the school list, named after `source` (the
    /// file it came from).
    pub fn import_schools(
        path: &Path,
        source: &str,
        schools: &[ListedSchool],
    ) -> Result<ImportOutcome, StoreError> {
        if schools.is_empty() {
            return Err(StoreError::Refused(
                "a school list needs at least one school".into(),
            ));
        }
        Self::admin(path, |tx| {
            allocation::import_list(tx, source, schools, crate::now_unix_ms())
        })
    }

    /// Marks the allocated books numbered `books` shipped, as one shipment.
    pub fn ship(
        path: &Path,
        books: std::ops::RangeInclusive<u64>,
        note: Option<&str>,
    ) -> Result<ShipOutcome, StoreError> {
        if books.is_empty() || *books.start() == 0 {
            return Err(StoreError::Refused(format!(
                "books {}-{} is not a range of book numbers (from 1)",
                books.start(),
                books.end()
            )));
        }
        Self::admin(path, |tx| {
            allocation::ship(tx, books, note, crate::now_unix_ms()).map_err(backend)
        })
    }

    /// Everything the open-data export publishes.
    pub fn export(path: &Path) -> Result<OpenData, StoreError> {
        let conn = open_read_only(path)?;
        allocation::export(&conn).map_err(backend)
    }

    /// The public report, read from the ledger at `path`.
    pub fn report_at(path: &Path) -> Result<Report, StoreError> {
        let conn = open_read_only(path)?;
        allocation::report(&conn).map_err(backend)
    }
}

/// A read-only connection to an existing ledger (which must be at this
/// build's schema version).
fn open_read_only(path: &Path) -> Result<Connection, StoreError> {
    // Opening for writing first applies any missing migration.
    drop(open_writer_connection(path)?);
    open_read_connection(path)
}

/// A read-only connection to `path`, waiting up to 5 s for a lock.
fn open_read_connection(path: &Path) -> Result<Connection, StoreError> {
    let conn =
        Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(backend)?;
    conn.busy_timeout(Duration::from_secs(5)).map_err(backend)?;
    Ok(conn)
}

/// What [`SqliteStore::bulk_load`] did.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct BulkLoadReport {
    /// Participations appended.
    pub loaded: u64,
    /// Number of the first one appended.
    pub first_number: u64,
    /// Number of the last one appended (= the ledger total afterwards).
    pub last_number: u64,
    /// Wall time of the load, in seconds.
    pub elapsed_secs: f64,
}

impl SqliteStore {
    /// Appends `count` synthetic participations (for benchmarks and
    /// rehearsals) through the same schema, numbering and tallies as the
    /// writer, as fast as SQLite allows. The server must not be running on
    /// this ledger.
    ///
    /// Rounds are spread evenly over the `days` China days before `now_ms`;
    /// players play one to three rounds each; one in ten comes through one
    /// of 500 referral codes; `seed` makes it repeatable.
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
    ) -> Result<BulkLoadReport, StoreError> {
        const DAY_MS: u64 = 24 * 60 * 60 * 1000;
        let started = Instant::now();
        let mut conn = open_writer_connection(path)?;
        set_journal_mode(&conn, "delete")?;
        // A one-off process: a large page cache and in-memory sorting for
        // the index rebuilds.
        conn.pragma_update(None, "cache_size", -524_288)
            .map_err(backend)?;
        conn.pragma_update(None, "temp_store", "MEMORY")
            .map_err(backend)?;

        let tx = conn.transaction().map_err(backend)?;
        let first_number = last_number(&tx)? + 1;
        let indexes = drop_participation_indexes(&tx)?;
        let span_ms = u64::from(days.max(1)) * DAY_MS;
        let start_ms = now_ms.saturating_sub(span_ms);
        let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(seed);
        let codes: Vec<ReferralCode> = (0..500)
            .map(|n| ReferralCode::parse(&format!("bulk{n:03}")))
            .collect::<Result<_, _>>()
            .map_err(|err| StoreError::Inconsistent(err.to_string()))?;
        let mut player = PlayerId::from_bytes(rng.random());
        let mut rounds_left_for_player = 0u32;
        let mut day_counts: BTreeMap<i64, u64> = BTreeMap::new();
        let mut referral_increments: HashMap<&str, u64> = HashMap::new();
        {
            let mut insert = tx.prepare(INSERT_PARTICIPATION).map_err(backend)?;
            for loaded in 0..count {
                let number = first_number + loaded;
                // In u128: span x count can pass u64 for very large loads.
                let offset_ms = u128::from(span_ms) * u128::from(loaded) / u128::from(count);
                let finished_at_ms = start_ms + u64::try_from(offset_ms).unwrap_or(span_ms);
                let day = ChinaDay::from_unix_ms(finished_at_ms);
                let day_count = match day_counts.get(&day.number()) {
                    Some(count) => count + 1,
                    None => day_tally(&tx, day).map_err(backend)? + 1,
                };
                day_counts.insert(day.number(), day_count);
                if rounds_left_for_player == 0 {
                    player = PlayerId::from_bytes(rng.random());
                    rounds_left_for_player = rng.random_range(1..=3);
                }
                rounds_left_for_player -= 1;
                let referral = rng
                    .random_ratio(1, 10)
                    .then(|| codes[rng.random_range(0..codes.len())].as_str());
                if let Some(code) = referral {
                    *referral_increments.entry(code).or_default() += 1;
                }
                let books_caught: u32 = rng.random_range(10..=30);
                insert
                    .execute(params![
                        number,
                        RoundId::from_bytes(rng.random()).to_bytes(),
                        player.to_bytes(),
                        referral,
                        finished_at_ms,
                        day.number(),
                        day_count,
                        books_caught * 10,
                        books_caught,
                        sim::Rules::CURRENT.round_ticks,
                        rng.random::<u64>().cast_signed(),
                        sim::RULES_VERSION,
                        format!("bulk-{number}"),
                        rng.random::<[u8; 32]>(),
                    ])
                    .map_err(backend)?;
            }
        }
        store_tallies(&tx, &day_counts, &referral_increments, &BTreeMap::new()).map_err(backend)?;
        for sql in &indexes {
            tx.execute_batch(sql).map_err(backend)?;
        }
        tx.commit().map_err(backend)?;
        set_journal_mode(&conn, "wal")?;
        Ok(BulkLoadReport {
            loaded: count,
            first_number,
            last_number: first_number + count - 1,
            elapsed_secs: started.elapsed().as_secs_f64(),
        })
    }
}

/// Switches the journal mode (needs the only connection to the file).
fn set_journal_mode(conn: &Connection, mode: &str) -> Result<(), StoreError> {
    let set: String = conn
        .query_row(&format!("PRAGMA journal_mode = {mode}"), [], |row| {
            row.get(0)
        })
        .map_err(backend)?;
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
fn drop_participation_indexes(tx: &Transaction<'_>) -> Result<Vec<String>, StoreError> {
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
        .map_err(backend)?;
    for (name, _) in &indexes {
        tx.execute_batch(&format!("DROP INDEX \"{name}\""))
            .map_err(backend)?;
    }
    Ok(indexes.into_iter().map(|(_, sql)| sql).collect())
}

/// The result of [`SqliteStore::check`]: the ledger recounted from its rows.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct LedgerCheck {
    /// Rows in the ledger.
    pub participations: u64,
    /// Smallest participation number (0 when empty).
    pub first_number: u64,
    /// Largest participation number (0 when empty).
    pub last_number: u64,
    /// Distinct round ids.
    pub distinct_rounds: u64,
    /// Rejections recorded.
    pub rejections: u64,
    /// Every broken invariant, in words; empty for a sound ledger.
    pub problems: Vec<String>,
}

impl SqliteStore {
    /// Recounts the ledger at `path` (read-only, scanning every row) and
    /// checks its invariants: numbers contiguous from 1, each round once,
    /// every tally equal to a recount of the rows, each day's running
    /// counts 1..=n. For audits and the crash test; never on a hot path.
    pub fn check(path: &Path) -> Result<LedgerCheck, StoreError> {
        let conn =
            Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(backend)?;
        let mut check = conn
            .query_row(
                "SELECT COUNT(*), COALESCE(MIN(seq), 0), COALESCE(MAX(seq), 0), COUNT(DISTINCT round_id) \
                 FROM participations",
                [],
                |row| {
                    Ok(LedgerCheck {
                        participations: row.get(0)?,
                        first_number: row.get(1)?,
                        last_number: row.get(2)?,
                        distinct_rounds: row.get(3)?,
                        ..LedgerCheck::default()
                    })
                },
            )
            .map_err(backend)?;
        check.rejections = conn
            .query_row("SELECT COUNT(*) FROM rejections", [], |row| row.get(0))
            .map_err(backend)?;

        let problems = &mut check.problems;
        if check.participations > 0
            && (check.first_number != 1 || check.last_number != check.participations)
        {
            problems.push(format!(
                "participation numbers are not contiguous from 1: {} rows numbered {}..={}",
                check.participations, check.first_number, check.last_number
            ));
        }
        if check.distinct_rounds != check.participations {
            problems.push(format!(
                "{} rows but {} distinct rounds",
                check.participations, check.distinct_rounds
            ));
        }

        let grouped = |sql: &str| -> Result<BTreeMap<String, (u64, u64, u64)>, StoreError> {
            let mut statement = conn.prepare(sql).map_err(backend)?;
            let rows = statement
                .query_map([], |row| {
                    Ok((
                        row.get::<_, rusqlite::types::Value>(0)?,
                        (row.get(1)?, row.get(2)?, row.get(3)?),
                    ))
                })
                .map_err(backend)?;
            rows.map(|row| {
                row.map(|(key, counts)| (format!("{key:?}"), counts))
                    .map_err(backend)
            })
            .collect()
        };
        let compare = |problems: &mut Vec<String>,
                       what: &str,
                       recount: &BTreeMap<String, (u64, u64, u64)>,
                       tally: &BTreeMap<String, (u64, u64, u64)>| {
            for key in recount.keys().chain(tally.keys()) {
                let counted = recount.get(key).map_or(0, |counts| counts.0);
                let tallied = tally.get(key).map_or(0, |counts| counts.0);
                if counted != tallied {
                    problems.push(format!(
                        "{what} {key}: {counted} rows but the tally says {tallied}"
                    ));
                }
            }
        };

        let days = grouped(
            "SELECT day, COUNT(*), MAX(day_count), COUNT(DISTINCT day_count) FROM participations GROUP BY day",
        )?;
        compare(
            problems,
            "day",
            &days,
            &grouped("SELECT day, participations, 0, 0 FROM day_tallies")?,
        );
        for (day, (rows, max_count, distinct_counts)) in &days {
            if max_count != rows || distinct_counts != rows {
                problems.push(format!("day {day}: running counts are not 1..={rows}"));
            }
        }
        compare(
            problems,
            "referral",
            &grouped(
                "SELECT referral, COUNT(*), 0, 0 FROM participations WHERE referral IS NOT NULL GROUP BY referral",
            )?,
            &grouped("SELECT code, participations, 0, 0 FROM referral_tallies")?,
        );
        compare(
            problems,
            "rejection reason",
            &grouped("SELECT reason, COUNT(*), 0, 0 FROM rejections GROUP BY reason")?,
            &grouped("SELECT reason, rejections, 0, 0 FROM rejection_tallies")?,
        );
        Ok(check)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bulk_loaded_ledger_passes_its_check() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(SqliteStore::FILE_NAME);
        let now_ms = 1_700_000_000_000;
        let first = SqliteStore::bulk_load(&path, 1_000, 3, now_ms, 7).unwrap();
        let second = SqliteStore::bulk_load(&path, 500, 1, now_ms, 8).unwrap();
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
        let check = SqliteStore::check(&path).unwrap();
        assert_eq!(check.participations, 1_500, "every loaded row is there");
        let conn = Connection::open(&path).unwrap();
        let indexes: u32 = conn
            .query_row(
                "SELECT COUNT(*) FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'participations'",
                [],
                |row| row.get(0),
            )
            .unwrap();
        assert_eq!(
            indexes, 2,
            "the bulk path rebuilds the round and player indexes"
        );
        let journal: String = conn
            .query_row("PRAGMA journal_mode", [], |row| row.get(0))
            .unwrap();
        assert_eq!(journal, "wal", "and leaves the ledger in WAL mode");
        assert!(
            check.problems.is_empty(),
            "a bulk load keeps every invariant: {:?}",
            check.problems
        );
    }

    #[test]
    fn the_check_notices_a_gap_and_a_wrong_tally() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(SqliteStore::FILE_NAME);
        SqliteStore::bulk_load(&path, 100, 1, 1_700_000_000_000, 1).unwrap();
        let conn = Connection::open(&path).unwrap();
        conn.execute("DELETE FROM participations WHERE seq = 50", [])
            .unwrap();
        let problems = SqliteStore::check(&path).unwrap().problems;
        assert!(
            problems.iter().any(|p| p.contains("not contiguous")),
            "gap not noticed: {problems:?}"
        );
        assert!(
            problems.iter().any(|p| p.contains("the tally says")),
            "tally drift not noticed: {problems:?}"
        );
    }
}
