//! The PostgreSQL ledger: the scale-out backend, which any number of server
//! processes share.
//!
//! Each process has a small pool of read connections and one writer
//! connection, used by the store's single writer ([`super::writer`]) as a
//! tokio task. A write transaction begins by locking the one row of
//! `ledger_head` (`SELECT ... FOR UPDATE`): the writers of every process
//! take turns on it, so what a transaction reads stays true until it
//! commits, participation numbers stay contiguous in commit order, and a
//! round counted by one process is seen as counted by the next. Commits
//! answer once PostgreSQL has flushed them (`synchronous_commit = on`).
//!
//! Migrations run at start under an advisory lock, so processes that start
//! together apply them once.
//!
//! Only the SQL ([`queries`]), the migrations and the connection handling
//! are here; the logic is the store's shared code ([`super::ledger`]).

mod admin_queries;
mod backup;
mod bulk;
mod queries;
mod scratch;

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::future::Future;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use deadpool_postgres::{GenericClient, Manager, ManagerConfig, Object, Pool, RecyclingMethod};
use sim::wire::{RejectReason, SchoolRef};
use tokio::sync::oneshot;
use tokio_postgres::NoTls;

pub use backup::backup;
pub use bulk::{bulk_load, check};
pub use scratch::{ScratchDatabase, TEST_URL_VARIABLE};

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
use super::ledger::Ledger;
use super::writer::WriterConfig;
use super::{Participation, Store, StoreError, backend_error};
use crate::allocation::{
    BookRecord, BookState, ListedSchool, Pledge, SchoolListVersion, SchoolTally,
};
use crate::domain::{PlayerId, RoundId, ShareCode, UserName};
use crate::metrics::LedgerMetrics;

/// Schema migrations, applied in order; `ledger_schema.version` counts those
/// already applied. The same files, in the same order, as SQLite's, which
/// they mirror.
const MIGRATIONS: &[&str] = &[
    include_str!("migrations/0001_ledger.sql"),
    include_str!("migrations/0002_allocation.sql"),
    include_str!("migrations/0003_head.sql"),
    include_str!("migrations/0004_admin.sql"),
    include_str!("migrations/0005_sharing.sql"),
    include_str!("migrations/0006_append_only_players.sql"),
];

/// The advisory lock migrations run under (any fixed number shared by every
/// process of this server: "dreamfai" in ASCII).
const MIGRATION_LOCK: i64 = 0x6472_6561_6d66_6169;

/// Begins an accounts transaction: commits wait for the disk whatever the
/// database's default, and the transaction-scoped advisory lock (another
/// fixed number, "dfaccnts") makes accounts transactions of every process
/// take turns, so the accounts' rules read and write under one lock, as
/// SQLite's `BEGIN IMMEDIATE` does. The ledger writer never takes it.
const BEGIN_ACCOUNTS: &str = "BEGIN; SET LOCAL synchronous_commit TO on; \
     SELECT pg_advisory_xact_lock(7378146524893918323);";

/// Connections per process for accounts transactions (sign-ins, sessions,
/// the audit log of the console): they take turns on one lock anyway.
const ACCOUNTS_CONNECTIONS: usize = 2;

/// Read connections per process: lookups are short point queries.
const READ_CONNECTIONS: usize = 8;

/// How long a connection attempt may take, unless the URL says otherwise.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a request waits for a free read connection before failing.
const POOL_WAIT: Duration = Duration::from_secs(30);

/// Session option: plan prepared statements once, generically.
const GENERIC_PLANS: &str = "-c plan_cache_mode=force_generic_plan";

/// The application name the server's connections show in
/// `pg_stat_activity`, unless the URL names one.
const APPLICATION_NAME: &str = "dream-fairy-library";

/// A PostgreSQL connection string: a URL (`postgres://user@host/db`,
/// `postgresql:///db?host=/run/postgresql`) or `key=value` pairs. Parsed
/// when read, so a bad one fails at the command line; its `Debug` form
/// never shows the password.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl(Arc<ParsedUrl>);

/// A connection string and what it says.
#[derive(PartialEq, Eq)]
struct ParsedUrl {
    text: String,
    config: tokio_postgres::Config,
}

impl DatabaseUrl {
    /// Parses `text`.
    pub fn parse(text: &str) -> Result<Self> {
        let config = tokio_postgres::Config::from_str(text).map_err(|error| {
            StoreError::Refused(format!("not a PostgreSQL connection string: {error}"))
        })?;
        Ok(Self(Arc::new(ParsedUrl {
            text: text.to_owned(),
            config,
        })))
    }

    /// The connection string as given (with its password, if any): for
    /// handing to another process.
    pub fn as_str(&self) -> &str {
        &self.0.text
    }

    /// The database it names (`None`: the user's name, PostgreSQL's
    /// default).
    pub fn dbname(&self) -> Option<&str> {
        self.0.config.get_dbname()
    }

    /// The same server and credentials, database `dbname`.
    pub fn with_dbname(&self, dbname: &str) -> Result<Self> {
        let text =
            if self.0.text.starts_with("postgres://") || self.0.text.starts_with("postgresql://") {
                // Query parameters are read after the path, so this one wins.
                let separator = if self.0.text.contains('?') { '&' } else { '?' };
                format!("{}{separator}dbname={dbname}", self.0.text)
            } else {
                // In the key=value form the last value of a key wins.
                format!("{} dbname={dbname}", self.0.text)
            };
        Self::parse(&text)
    }

    /// The driver's configuration, with this server's defaults for what the
    /// string leaves out.
    pub(crate) fn driver_config(&self) -> tokio_postgres::Config {
        let mut config = self.0.config.clone();
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        if config.get_application_name().is_none() {
            config.application_name(APPLICATION_NAME);
        }
        // Every statement is prepared once per connection and is a lookup
        // by key: planning it anew for each execution (PostgreSQL's custom
        // plans, its default for the first executions and whenever it
        // judges them cheaper) costs more CPU than running it.
        let options = match config.get_options() {
            Some(options) => format!("{options} {GENERIC_PLANS}"),
            None => GENERIC_PLANS.to_owned(),
        };
        config.options(options);
        config
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The driver's own Debug hides the password.
        fmt::Debug::fmt(&self.0.config, f)
    }
}

impl fmt::Display for DatabaseUrl {
    /// Where it points, for logs: hosts, ports, database and user, never the
    /// password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hosts: Vec<String> = self
            .0
            .config
            .get_hosts()
            .iter()
            .map(|host| match host {
                tokio_postgres::config::Host::Tcp(name) => name.clone(),
                #[cfg(unix)]
                tokio_postgres::config::Host::Unix(path) => path.display().to_string(),
            })
            .collect();
        write!(
            f,
            "postgres {} port {:?} database {} user {}",
            hosts.join(","),
            self.0.config.get_ports(),
            self.0.config.get_dbname().unwrap_or("(default)"),
            self.0.config.get_user().unwrap_or("(default)"),
        )
    }
}

/// Opens (migrating if needed) the ledger in the database `url` names and
/// starts its writer.
pub async fn open(
    url: &DatabaseUrl,
    config: WriterConfig,
    metrics: LedgerMetrics,
) -> Result<Arc<dyn Store>> {
    let backend = PgBackend::connect(url).await?;
    let ledger = Ledger::start(backend, config, metrics).await?;
    tracing::info!(database = %url, "ledger opened (PostgreSQL)");
    Ok(Arc::new(ledger))
}

/// A pool of connections to `url`, at most `size` at once.
fn pool(url: &DatabaseUrl, size: usize) -> Result<Pool> {
    let manager = Manager::from_config(
        url.driver_config(),
        NoTls,
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    Pool::builder(manager)
        .max_size(size)
        .runtime(deadpool_postgres::Runtime::Tokio1)
        .wait_timeout(Some(POOL_WAIT))
        .create_timeout(Some(CONNECT_TIMEOUT))
        .build()
        .map_err(backend_error)
}

/// The PostgreSQL backend: a pool of read connections, and a pool of one
/// for the writer (which reconnects through it after losing its connection).
#[derive(Debug)]
pub(crate) struct PgBackend {
    readers: Pool,
    writer: Pool,
    accounts: Pool,
}

impl PgBackend {
    /// Connects, checks that commits are durable, and migrates.
    async fn connect(url: &DatabaseUrl) -> Result<Self> {
        let readers = pool(url, READ_CONNECTIONS)?;
        let writer = pool(url, 1)?;
        let accounts = pool(url, ACCOUNTS_CONNECTIONS)?;
        let mut client = readers.get().await.map_err(backend_error)?;
        warn_if_fsync_is_off(&client).await?;
        migrate(&mut client).await?;
        Ok(Self {
            readers,
            writer,
            accounts,
        })
    }
}

/// Logs a warning when the database server does not flush to disk at all:
/// the ledger then cannot keep its promise that an answered finish survives
/// a crash of the database machine.
async fn warn_if_fsync_is_off(client: &Object) -> Result<()> {
    if setting(client, "fsync").await? == "off" {
        tracing::warn!(
            "PostgreSQL runs with fsync = off: acknowledged participations may be lost if the \
             database machine crashes"
        );
    }
    Ok(())
}

/// The current value of a PostgreSQL setting.
async fn setting(client: &Object, name: &str) -> Result<String> {
    client
        .query_one(&format!("SHOW {name}"), &[])
        .await
        .and_then(|row| row.try_get(0))
        .map_err(backend_error)
}

/// Makes the writer's commits wait for the disk: a database configured with
/// `synchronous_commit = off` would answer COMMIT before the batch is
/// durable. (`local`, `remote_write`, `on` and `remote_apply` all flush
/// locally first, and are kept.)
async fn ensure_durable_commits(client: &Object) -> Result<()> {
    if setting(client, "synchronous_commit").await? == "off" {
        client
            .batch_execute("SET synchronous_commit TO on")
            .await
            .map_err(backend_error)?;
    }
    Ok(())
}

/// Applies the migrations not applied yet, each in its own transaction,
/// holding the advisory lock so that processes starting together take
/// turns; each reads the version under the lock.
async fn migrate(client: &mut Object) -> Result<()> {
    client
        .execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK])
        .await
        .map_err(backend_error)?;
    let migrated = apply_migrations(client).await;
    // The lock is the session's: it would also go with the connection.
    let unlocked = client
        .execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK])
        .await
        .map_err(backend_error);
    migrated.and(unlocked.map(drop))
}

async fn apply_migrations(client: &mut Object) -> Result<()> {
    let new_database: bool = client
        .query_one("SELECT to_regclass('ledger_schema') IS NULL", &[])
        .await
        .and_then(|row| row.try_get(0))
        .map_err(backend_error)?;
    if new_database {
        client
            .batch_execute(
                "CREATE TABLE ledger_schema (\
                     id      BIGINT PRIMARY KEY CHECK (id = 1), \
                     version BIGINT NOT NULL\
                 );\
                 INSERT INTO ledger_schema (id, version) VALUES (1, 0);",
            )
            .await
            .map_err(backend_error)?;
    }
    let applied: i64 = client
        .query_one("SELECT version FROM ledger_schema WHERE id = 1", &[])
        .await
        .and_then(|row| row.try_get(0))
        .map_err(backend_error)?;
    let applied = usize::try_from(applied)
        .map_err(|_| StoreError::Inconsistent(format!("schema version {applied}")))?;
    if applied > MIGRATIONS.len() {
        return Err(StoreError::Inconsistent(format!(
            "the ledger has schema version {applied}, newer than this server's {}",
            MIGRATIONS.len()
        )));
    }
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(applied) {
        let version = index as i64 + 1;
        let tx = client.transaction().await.map_err(backend_error)?;
        tx.batch_execute(sql).await.map_err(backend_error)?;
        tx.execute(
            "UPDATE ledger_schema SET version = $1 WHERE id = 1",
            &[&version],
        )
        .await
        .map_err(backend_error)?;
        tx.commit().await.map_err(backend_error)?;
        tracing::info!(version, "ledger schema migrated (PostgreSQL)");
    }
    Ok(())
}

impl Backend for PgBackend {
    type Reader = PgReader;
    type WriterConnection = PgWriterConnection;
    type Tx<'c> = PgTx<'c>;
    type AccountsTx = PgAccountsTx;

    async fn accounts_tx(&self) -> Result<PgAccountsTx> {
        let client = self.accounts.get().await.map_err(backend_error)?;
        client
            .batch_execute(BEGIN_ACCOUNTS)
            .await
            .map_err(backend_error)?;
        Ok(PgConn {
            client: AccountsConn(Some(client)),
            known_head: None,
        })
    }

    async fn reader(&self) -> Result<PgReader> {
        Ok(PgConn {
            client: self.readers.get().await.map_err(backend_error)?,
            known_head: None,
        })
    }

    async fn writer_connection(&self) -> Result<PgWriterConnection> {
        Ok(PgWriterConnection {
            pool: self.writer.clone(),
            client: None,
        })
    }

    async fn begin(conn: &mut PgWriterConnection) -> Result<PgTx<'_>> {
        let client = conn.connected().await?;
        let tx = client.transaction().await.map_err(backend_error)?;
        // The write lock: every writer of every process takes this row
        // first, and keeps it until its commit or rollback.
        let head = queries::lock_head(&tx).await?;
        Ok(PgConn {
            client: tx,
            known_head: Some(head),
        })
    }

    fn spawn_writer(
        &self,
        writer: impl Future<Output = ()> + Send + 'static,
    ) -> Result<oneshot::Receiver<()>> {
        // The driver is asynchronous: the writer is a task like any other.
        let (stopped, on_stop) = oneshot::channel();
        tokio::spawn(async move {
            writer.await;
            let _ = stopped.send(());
        });
        Ok(on_stop)
    }
}

/// The writer's connection, taken from its pool of one when first needed
/// and again whenever the last one was lost (a restart of the database, a
/// network cut).
#[derive(Debug)]
pub(crate) struct PgWriterConnection {
    pool: Pool,
    client: Option<Object>,
}

impl PgWriterConnection {
    /// A live connection.
    async fn connected(&mut self) -> Result<&mut Object> {
        if self.client.as_ref().is_none_or(|client| client.is_closed()) {
            // Give the lost one back first: the pool has room for one.
            self.client = None;
            let client = self.pool.get().await.map_err(backend_error)?;
            ensure_durable_commits(&client).await?;
            self.client = Some(client);
        }
        self.client
            .as_mut()
            .ok_or_else(|| StoreError::Backend("the writer has no connection".into()))
    }
}

/// A connection the ledger's questions are asked on: a pooled read
/// connection ([`PgReader`]) or the writer's transaction ([`PgTx`]). The
/// same SQL answers on both.
pub(crate) struct PgConn<C> {
    client: C,
    /// The head, when it is known without asking: read when the write lock
    /// was taken, until the first question about it or the first write.
    known_head: Option<Head>,
}

/// A pooled read connection; each question runs in a transaction of its
/// own (autocommit).
pub(crate) type PgReader = PgConn<Object>;

/// A write transaction on the writer's connection, holding the lock of the
/// head row from its start. Rolled back if dropped before
/// [`LedgerWrite::commit`].
pub(crate) type PgTx<'c> = PgConn<deadpool_postgres::Transaction<'c>>;

impl<C> fmt::Debug for PgConn<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgConn")
            .field("known_head", &self.known_head)
            .finish_non_exhaustive()
    }
}

impl<C: GenericClient + Send> LedgerRead for PgConn<C> {
    async fn head(&mut self) -> Result<Head> {
        match self.known_head.take() {
            Some(head) => Ok(head),
            None => queries::head(&self.client).await,
        }
    }

    async fn rounds(&mut self, rounds: Vec<RoundId>) -> Result<Vec<Participation>> {
        queries::rounds(&self.client, &rounds).await
    }

    async fn player_history(&mut self, player: PlayerId, limit: u32) -> Result<Vec<Participation>> {
        queries::player_history(&self.client, player, limit).await
    }

    async fn participation(&mut self, number: u64) -> Result<Option<Participation>> {
        queries::participation(&self.client, number).await
    }

    async fn player_day_counts(&mut self, keys: Vec<(PlayerId, i64)>) -> Result<Vec<u64>> {
        queries::player_day_counts(&self.client, &keys).await
    }

    async fn day_tallies(&mut self, days: Vec<i64>) -> Result<Vec<u64>> {
        queries::day_tallies(&self.client, &days).await
    }

    async fn rejection_tallies(&mut self) -> Result<BTreeMap<RejectReason, u64>> {
        queries::rejection_tallies(&self.client).await
    }

    async fn pledges(&mut self) -> Result<Vec<Pledge>> {
        queries::pledges(&self.client).await
    }

    async fn allocation_tables(&mut self) -> Result<AllocationTables> {
        queries::allocation_tables(&self.client).await
    }

    async fn allocation_since(&mut self, funded: u64) -> Result<AllocationSince> {
        queries::allocation_since(&self.client, funded).await
    }

    async fn book_schools(&mut self, books: Vec<u64>) -> Result<HashMap<u64, SchoolRef>> {
        queries::book_schools(&self.client, &books).await
    }

    async fn school(&mut self, key: SchoolKey) -> Result<Option<(SchoolTally, String)>> {
        queries::school(&self.client, &key).await
    }

    async fn school_books(&mut self, school: String) -> Result<Vec<(u64, BookState)>> {
        queries::school_books(&self.client, &school).await
    }

    async fn school_tallies(&mut self) -> Result<Vec<SchoolTally>> {
        queries::school_tallies(&self.client).await
    }

    async fn school_lists(&mut self) -> Result<Vec<SchoolListVersion>> {
        queries::school_lists(&self.client).await
    }

    async fn books(&mut self) -> Result<Vec<BookRecord>> {
        queries::books(&self.client).await
    }

    async fn shipped_books_of(&mut self, school: String) -> Result<Vec<u64>> {
        queries::shipped_books_of(&self.client, &school).await
    }

    async fn next_shipment_id(&mut self) -> Result<u64> {
        queries::next_shipment_id(&self.client).await
    }

    async fn players(&mut self, players: Vec<PlayerId>) -> Result<HashMap<PlayerId, PlayerRow>> {
        queries::players(&self.client, &players).await
    }

    async fn share_codes(
        &mut self,
        codes: Vec<ShareCode>,
    ) -> Result<HashMap<ShareCode, ShareCodeRow>> {
        queries::share_codes(&self.client, &codes).await
    }

    async fn top_share_codes(&mut self, limit: u32) -> Result<Vec<(ShareCode, ShareCodeRow)>> {
        queries::top_share_codes(&self.client, limit).await
    }

    async fn share_totals(&mut self) -> Result<ShareDelta> {
        queries::share_totals(&self.client).await
    }

    async fn allocated_books(&mut self, selection: BookSelection) -> Result<Vec<(u64, String)>> {
        admin_queries::allocated_books(&self.client, &selection).await
    }

    async fn school_counties(&mut self, schools: Vec<String>) -> Result<HashMap<String, String>> {
        admin_queries::school_counties(&self.client, &schools).await
    }

    async fn unconfirmed_shipments_of(&mut self, school: String) -> Result<Vec<u64>> {
        admin_queries::unconfirmed_shipments_of(&self.client, &school).await
    }
}

/// What the console's questions are asked on: a pooled read connection
/// or an accounts transaction's. The same SQL answers on both.
pub(crate) trait ConsoleClient {
    /// The client.
    type Client: GenericClient + Send + Sync;

    /// The client, or an error if the transaction has ended.
    fn console_client(&self) -> Result<&Self::Client>;
}

impl ConsoleClient for Object {
    type Client = Object;

    fn console_client(&self) -> Result<&Object> {
        Ok(self)
    }
}

impl<C: ConsoleClient + Send> ConsoleRead for PgConn<C> {
    async fn credentials(&mut self, name: UserName) -> Result<Option<Credentials>> {
        admin_queries::credentials(self.client.console_client()?, &name).await
    }

    async fn users(&mut self) -> Result<Vec<User>> {
        admin_queries::users(self.client.console_client()?).await
    }

    async fn session(&mut self, token_hash: [u8; 32]) -> Result<Option<SessionRecord>> {
        admin_queries::session(self.client.console_client()?, &token_hash).await
    }

    async fn failed_sign_ins(
        &mut self,
        name: String,
        address: String,
        since_ms: u64,
    ) -> Result<FailedSignIns> {
        admin_queries::failed_sign_ins(self.client.console_client()?, &name, &address, since_ms)
            .await
    }

    async fn audit_log(
        &mut self,
        filter: AuditFilter,
        window: Window,
    ) -> Result<Page<AuditRecord>> {
        admin_queries::audit_log(self.client.console_client()?, &filter, window).await
    }

    async fn first_day(&mut self) -> Result<Option<i64>> {
        admin_queries::first_day(self.client.console_client()?).await
    }

    async fn day_counts(&mut self, first: i64, last: i64) -> Result<Vec<(i64, u64)>> {
        admin_queries::day_counts(self.client.console_client()?, first, last).await
    }

    async fn refusals(&mut self, first: i64, last: i64) -> Result<BTreeMap<RejectReason, u64>> {
        admin_queries::refusals(self.client.console_client()?, first, last).await
    }

    async fn counties(&mut self) -> Result<Vec<CountySummary>> {
        admin_queries::counties(self.client.console_client()?).await
    }

    async fn county_movements(
        &mut self,
        first: i64,
        last: i64,
    ) -> Result<BTreeMap<String, Movement>> {
        admin_queries::county_movements(self.client.console_client()?, first, last).await
    }

    async fn schools_in(&mut self, area: AreaFilter) -> Result<Vec<SchoolTally>> {
        admin_queries::schools_in(self.client.console_client()?, &area).await
    }

    async fn school_movements(
        &mut self,
        schools: Vec<String>,
        first: i64,
        last: i64,
    ) -> Result<BTreeMap<String, Movement>> {
        admin_queries::school_movements(self.client.console_client()?, &schools, first, last).await
    }

    async fn school_lifecycle(
        &mut self,
        school: String,
        window: Window,
    ) -> Result<Page<BookLifecycle>> {
        admin_queries::school_lifecycle(self.client.console_client()?, &school, window).await
    }

    async fn pledge_records(&mut self) -> Result<Vec<PledgeRecord>> {
        admin_queries::pledge_records(self.client.console_client()?).await
    }

    async fn shipments(
        &mut self,
        filter: ShipmentFilter,
        window: Window,
    ) -> Result<Page<ShipmentRecord>> {
        admin_queries::shipments(self.client.console_client()?, &filter, window).await
    }

    async fn shipment(&mut self, id: u64) -> Result<Option<ShipmentRecord>> {
        admin_queries::shipment(self.client.console_client()?, id).await
    }

    async fn shipment_books(&mut self, id: u64) -> Result<Vec<u64>> {
        admin_queries::shipment_books(self.client.console_client()?, id).await
    }

    async fn unshipped(&mut self, limit: u64) -> Result<Unshipped> {
        admin_queries::unshipped(self.client.console_client()?, limit).await
    }

    async fn school_list_versions(&mut self) -> Result<Vec<ListInfo>> {
        admin_queries::school_list_versions(self.client.console_client()?).await
    }

    async fn latest_school_list(&mut self) -> Result<Option<(u32, Vec<ListedSchool>)>> {
        admin_queries::latest_school_list(self.client.console_client()?).await
    }
}

/// The connection of an accounts transaction (begun by
/// [`BEGIN_ACCOUNTS`]), from the accounts pool. Rolled back if dropped
/// before [`AccountsWrite::commit`].
pub(crate) struct AccountsConn(Option<Object>);

impl ConsoleClient for AccountsConn {
    type Client = Object;

    fn console_client(&self) -> Result<&Object> {
        self.0
            .as_ref()
            .ok_or_else(|| StoreError::Backend("the accounts transaction has ended".into()))
    }
}

/// An accounts transaction.
pub(crate) type PgAccountsTx = PgConn<AccountsConn>;

impl AccountsWrite for PgAccountsTx {
    async fn apply(&mut self, changes: &AccountChanges) -> Result<()> {
        admin_queries::apply_accounts(self.client.console_client()?, changes).await
    }

    async fn commit(mut self) -> Result<()> {
        let client = self
            .client
            .0
            .take()
            .ok_or_else(|| StoreError::Backend("the accounts transaction has ended".into()))?;
        // With `synchronous_commit` on (set for this transaction), COMMIT
        // returns once the commit record is on disk.
        match client.batch_execute("COMMIT").await {
            Ok(()) => Ok(()),
            Err(error) => {
                // In doubt: the connection is not reused.
                drop(Object::take(client));
                Err(backend_error(error))
            }
        }
    }
}

impl Drop for AccountsConn {
    fn drop(&mut self) {
        let Some(client) = self.0.take() else {
            return;
        };
        // The connection goes back to the pool only once rolled back;
        // without a runtime to roll back on, it is closed instead (which
        // ends the transaction on the server too).
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(async move {
                    if let Err(error) = client.batch_execute("ROLLBACK").await {
                        tracing::error!(%error, "rolling back an accounts transaction failed");
                        drop(Object::take(client));
                    }
                });
            }
            Err(_) => drop(Object::take(client)),
        }
    }
}

impl LedgerWrite for PgTx<'_> {
    async fn apply(&mut self, changes: &Changes) -> Result<()> {
        self.known_head = None;
        queries::apply(&self.client, changes).await
    }

    async fn commit(self) -> Result<()> {
        // With `synchronous_commit = on` (the default), COMMIT returns once
        // the commit record is flushed to disk: the batch is durable.
        self.client.commit().await.map_err(backend_error)
    }
}

/// Whether `error` (or what caused it) is PostgreSQL saying its storage
/// refuses writes for now: a full disk, too few resources, an I/O error,
/// or a read-only server or transaction. Such a transaction did not
/// commit; the next may.
pub(crate) fn refuses_writes(error: &(dyn std::error::Error + 'static)) -> bool {
    use tokio_postgres::error::SqlState;
    std::iter::successors(Some(error), |error| error.source()).any(|error| {
        error
            .downcast_ref::<tokio_postgres::Error>()
            .and_then(tokio_postgres::Error::code)
            .is_some_and(|code| {
                [
                    SqlState::DISK_FULL,
                    SqlState::INSUFFICIENT_RESOURCES,
                    SqlState::OUT_OF_MEMORY,
                    SqlState::IO_ERROR,
                    SqlState::READ_ONLY_SQL_TRANSACTION,
                ]
                .contains(code)
            })
    })
}
