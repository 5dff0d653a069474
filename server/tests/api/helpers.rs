//! Test helpers: a real server on 127.0.0.1:0 in a temporary data directory,
//! on either ledger backend ([`Db`]), an HTTP client, and the round-trips
//! every test needs.
//!
//! A test that talks to the ledger is written once, as an `async fn` taking
//! a [`Db`], and run on both backends by [`on_both_backends!`].

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use reqwest::StatusCode;
use server::allocation::ListedSchool;
use server::config::ServeConfig;
use server::metrics::{LedgerMetrics, Metrics};
use server::store::postgres::ScratchDatabase;
use server::store::{self, Actor, ImportOutcome, LedgerCheck, LedgerTotals, Store, StoreError};
use server::token::TokenKey;
use server::{AppState, ServeError};
use sim::Rules;
use sim::wire::{
    ApiError, FinishRoundRequest, RejectReason, RoundStarted, StartRoundRequest, Totals,
};
use tempfile::TempDir;
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;

/// Which ledger backend a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    /// The embedded SQLite file in the test's data directory.
    Sqlite,
    /// A database of the test's own on the PostgreSQL server of
    /// `DREAMFAIRY_TEST_POSTGRES_URL` (see [`ScratchDatabase::for_tests`]).
    Postgres,
}

/// Runs each named `async fn(Db)` once per backend, as the tests
/// `<name>::sqlite` and `<name>::postgres`. An optional first argument is
/// the test attribute (default `#[tokio::test]`).
macro_rules! on_both_backends {
    (#[$test:meta] $($name:ident),+ $(,)?) => {
        $(
            mod $name {
                #[$test]
                async fn sqlite() {
                    super::$name($crate::helpers::Db::Sqlite).await;
                }

                #[$test]
                async fn postgres() {
                    super::$name($crate::helpers::Db::Postgres).await;
                }
            }
        )+
    };
    ($($name:ident),+ $(,)?) => {
        on_both_backends!(#[tokio::test] $($name),+);
    };
}
pub(crate) use on_both_backends;

/// The token secret of test servers, so tests can sign tokens of their own.
pub const SECRET: &str = "test-secret-test-secret-test-secret-0123";

/// Rounds started at most to find one the scripted player completes.
const MAX_SEEDS_TRIED: usize = 20;

/// How long a test waits for something the server does asynchronously.
pub const WAIT: Duration = Duration::from_secs(10);

/// A server running in this process, with everything a test needs.
#[derive(Debug)]
pub struct TestApp {
    /// `http://127.0.0.1:PORT`.
    pub base_url: String,
    /// A client for it (no compression, no proxy).
    pub client: reqwest::Client,
    /// Signs tokens exactly as the server does.
    pub tokens: TokenKey,
    /// The server's state (its store, for watching the tallies).
    pub state: AppState,
    /// The configuration it was started with.
    pub config: ServeConfig,
    stop: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<Result<(), ServeError>>>,
    /// Kept alive for the life of the test (and reused by `restart`).
    pub data_dir: Arc<TempDir>,
    /// The test's PostgreSQL database, if it runs on PostgreSQL: dropped
    /// with the last handle.
    database: Option<Arc<ScratchDatabase>>,
}

/// Test defaults: no minimum wait (rounds are played by the bot at CPU
/// speed) and no per-address limit (every test client is 127.0.0.1); the
/// ledger in `database` if given, else in `data_dir`.
pub fn test_config(data_dir: &TempDir, database: Option<&ScratchDatabase>) -> ServeConfig {
    let mut config = ServeConfig::new(data_dir.path(), data_dir.path().join("dist"));
    config.database_url = database.map(|database| database.url().clone());
    config.secret = Some(SECRET.into());
    config.rounds.min_round_ms = Some(0);
    config.rounds.address_rate_per_sec = 0;
    config
}

/// A new ledger on `db`, empty: a temporary data directory (which also
/// holds the SQLite file) and, on PostgreSQL, a database of its own.
pub async fn fresh_ledger(db: Db) -> (Arc<TempDir>, Option<Arc<ScratchDatabase>>) {
    let data_dir = Arc::new(tempfile::tempdir().expect("a temporary data directory"));
    let database = match db {
        Db::Sqlite => None,
        Db::Postgres => Some(Arc::new(ScratchDatabase::for_tests().await)),
    };
    (data_dir, database)
}

/// A server on `db` with the test defaults.
pub async fn spawn_app(db: Db) -> TestApp {
    spawn_app_with(db, |_| {}).await
}

/// A server on `db` with the test defaults changed by `configure`.
pub async fn spawn_app_with(db: Db, configure: impl FnOnce(&mut ServeConfig)) -> TestApp {
    let (data_dir, database) = fresh_ledger(db).await;
    let mut config = test_config(&data_dir, database.as_deref());
    configure(&mut config);
    start(config, data_dir, database, None).await
}

/// A server on `db` whose store is `wrap` applied to the real one (to hold
/// requests at a chosen point).
pub async fn spawn_app_with_store(
    db: Db,
    wrap: impl FnOnce(Arc<dyn Store>) -> Arc<dyn Store>,
) -> TestApp {
    let (data_dir, database) = fresh_ledger(db).await;
    let config = test_config(&data_dir, database.as_deref());
    let metrics = Arc::new(Metrics::default());
    let location = config.ledger_location();
    let inner = store::open(
        &location,
        config.ledger.writer_config(&location),
        metrics.ledger.clone(),
    )
    .await
    .expect("the ledger opens");
    let tokens = TokenKey::new(SECRET.as_bytes()).unwrap();
    let state =
        AppState::from_parts(wrap(inner), tokens, metrics, &config).expect("the state assembles");
    start(config, data_dir, database, Some(state)).await
}

/// Serves `state`, or the state `config` opens.
async fn start(
    config: ServeConfig,
    data_dir: Arc<TempDir>,
    database: Option<Arc<ScratchDatabase>>,
    state: Option<AppState>,
) -> TestApp {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free port");
    let base_url = format!("http://{}", listener.local_addr().unwrap());
    let state = match state {
        Some(state) => state,
        None => AppState::open(&config)
            .await
            .expect("the server state opens"),
    };
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(server::serve(listener, state.clone(), async {
        let _ = stopped.await;
    }));
    TestApp {
        base_url,
        client: reqwest::Client::builder().no_proxy().build().unwrap(),
        tokens: TokenKey::new(SECRET.as_bytes()).unwrap(),
        state,
        config,
        stop: Some(stop),
        server: Some(server),
        data_dir,
        database,
    }
}

impl TestApp {
    /// Shuts the server down gracefully and waits until the ledger is closed.
    pub async fn shutdown(mut self) {
        self.stop_server().await;
    }

    async fn stop_server(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            let result = tokio::time::timeout(WAIT, server)
                .await
                .expect("graceful shutdown within the wait");
            result.expect("the server task").expect("a clean shutdown");
        }
    }

    /// Stops this server and starts another on the same data directory
    /// and configuration (a planned restart).
    pub async fn restart(mut self) -> TestApp {
        self.stop_server().await;
        start(
            self.config.clone(),
            Arc::clone(&self.data_dir),
            self.database.clone(),
            None,
        )
        .await
    }

    /// Shuts the server down and audits its ledger (`server check-ledger`).
    pub async fn shutdown_and_check(self) -> LedgerCheck {
        let location = self.config.ledger_location();
        // The ledger outlives the server until the audit is done.
        let (_data_dir, _database) = (Arc::clone(&self.data_dir), self.database.clone());
        self.shutdown().await;
        store::check(&location)
            .await
            .expect("the ledger can be audited")
    }

    /// Runs `command` on the ledger as an admin command would: another
    /// ledger on the same database (its own connections and writer), beside
    /// the running server, closed afterwards.
    pub async fn cli<T, F>(
        &self,
        command: impl FnOnce(Arc<dyn Store>) -> F,
    ) -> Result<T, StoreError>
    where
        F: Future<Output = Result<T, StoreError>>,
    {
        let location = self.config.ledger_location();
        let cli = store::open_with_defaults(&location, LedgerMetrics::default())
            .await
            .expect("the CLI opens the ledger");
        let result = command(Arc::clone(&cli)).await;
        cli.close().await.expect("the CLI closes the ledger");
        result
    }

    /// Imports `schools` as a new list named `source`, as the CLI would.
    pub async fn cli_import(&self, source: &str, schools: Vec<ListedSchool>) -> ImportOutcome {
        self.cli(|cli| async move {
            cli.import_schools(source, schools, None, Actor::os_user("test"))
                .await
        })
        .await
        .expect("the list imports")
    }

    /// The arguments that point a `server` subcommand at this test's
    /// ledger: its data directory and, on PostgreSQL, its database.
    pub fn ledger_args(&self) -> Vec<String> {
        let mut args = vec![
            "--data-dir".to_owned(),
            self.config.data_dir.to_string_lossy().into_owned(),
        ];
        if let Some(database) = &self.database {
            args.extend([
                "--database-url".to_owned(),
                database.url().as_str().to_owned(),
            ]);
        }
        args
    }

    /// Runs `statement` on the test's database itself, around the server
    /// (as someone with database access would): the rows it changed, or
    /// the database's refusal.
    pub async fn execute_sql(&self, statement: &str) -> Result<u64, String> {
        match &self.database {
            None => self
                .sqlite_connection()
                .execute(statement, [])
                .map(|changed| changed as u64)
                .map_err(|error| error.to_string()),
            Some(database) => self
                .postgres_client(database)
                .await
                .execute(statement, &[])
                .await
                .map_err(|error| format!("{error:?}")),
        }
    }

    /// The first column, as text, of every row `query` answers on the
    /// test's database itself.
    pub async fn query_texts(&self, query: &str) -> Vec<String> {
        match &self.database {
            None => self
                .sqlite_connection()
                .prepare(query)
                .and_then(|mut statement| {
                    statement
                        .query_map([], |row| row.get(0))?
                        .collect::<Result<_, _>>()
                })
                .expect("the query runs"),
            Some(database) => self
                .postgres_client(database)
                .await
                .query(query, &[])
                .await
                .expect("the query runs")
                .iter()
                .map(|row| row.get(0))
                .collect(),
        }
    }

    /// A connection to the SQLite ledger (which must exist).
    fn sqlite_connection(&self) -> rusqlite::Connection {
        rusqlite::Connection::open_with_flags(
            self.data_dir.path().join(store::sqlite::FILE_NAME),
            rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE,
        )
        .expect("the test's SQLite ledger opens")
    }

    /// A connection of its own to the test's PostgreSQL database.
    async fn postgres_client(&self, database: &ScratchDatabase) -> tokio_postgres::Client {
        let (client, connection) =
            tokio_postgres::connect(database.url().as_str(), tokio_postgres::NoTls)
                .await
                .expect("the test's PostgreSQL database answers");
        tokio::spawn(connection);
        client
    }

    /// `base_url` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// Starts a round as `request`.
    pub async fn start_round_with(&self, request: &StartRoundRequest) -> RoundStarted {
        let response = self
            .client
            .post(self.url("/api/rounds"))
            .json(request)
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            StatusCode::OK,
            "start round: {}",
            response.text().await.unwrap()
        );
        response.json().await.expect("a RoundStarted body")
    }

    /// Starts a round for a new player.
    pub async fn start_round(&self) -> RoundStarted {
        self.start_round_with(&StartRoundRequest {
            player: None,
            referral: None,
        })
        .await
    }

    /// Starts a round for `player`.
    pub async fn start_round_as(&self, player: &str) -> RoundStarted {
        self.start_round_with(&StartRoundRequest {
            player: Some(player.into()),
            referral: None,
        })
        .await
    }

    /// Posts `body` (raw bytes) to the finish endpoint of `round_id`.
    pub async fn finish_raw(
        &self,
        round_id: &str,
        key: Option<&str>,
        body: Vec<u8>,
    ) -> reqwest::Response {
        let mut request = self
            .client
            .post(self.url(&format!("/api/rounds/{round_id}/finish")))
            .header("content-type", "application/json")
            .body(body);
        if let Some(key) = key {
            request = request.header("idempotency-key", key);
        }
        request.send().await.unwrap()
    }

    /// Posts a finish request.
    pub async fn finish(
        &self,
        round_id: &str,
        key: &str,
        request: &FinishRoundRequest,
    ) -> reqwest::Response {
        self.finish_raw(round_id, Some(key), serde_json::to_vec(request).unwrap())
            .await
    }

    /// Starts rounds as `start` until the scripted player completes one (it
    /// completes most seeds), and returns it with the finish request an
    /// honest client would send.
    pub async fn played_round_with(
        &self,
        start: &StartRoundRequest,
    ) -> (RoundStarted, FinishRoundRequest) {
        for _ in 0..MAX_SEEDS_TRIED {
            let started = self.start_round_with(start).await;
            let request = play(&started);
            if request.outcome.completed {
                return (started, request);
            }
        }
        panic!("the scripted player completed none of {MAX_SEEDS_TRIED} rounds");
    }

    /// [`Self::played_round_with`] for `player` (a new player if `None`).
    pub async fn played_round(&self, player: Option<&str>) -> (RoundStarted, FinishRoundRequest) {
        self.played_round_with(&StartRoundRequest {
            player: player.map(str::to_owned),
            referral: None,
        })
        .await
    }

    /// Plays and finishes a round for `player` (a new player if `None`),
    /// expecting a receipt.
    pub async fn play_and_count(&self, player: Option<&str>) -> sim::wire::Receipt {
        self.play_and_count_with(&StartRoundRequest {
            player: player.map(str::to_owned),
            referral: None,
        })
        .await
    }

    /// Plays and finishes a round started as `start`, expecting a receipt.
    pub async fn play_and_count_with(&self, start: &StartRoundRequest) -> sim::wire::Receipt {
        let (started, request) = self.played_round_with(start).await;
        let response = self
            .finish(&started.round_id, &started.round_id, &request)
            .await;
        assert_eq!(
            response.status(),
            StatusCode::OK,
            "finish: {}",
            response.text().await.unwrap()
        );
        response.json().await.expect("a Receipt body")
    }

    /// `GET /api/totals`.
    pub async fn totals(&self) -> Totals {
        let response = self
            .client
            .get(self.url("/api/totals"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        response.json().await.expect("a Totals body")
    }

    /// The ledger's tallies as published after each commit.
    pub fn ledger_totals(&self) -> watch::Receiver<LedgerTotals> {
        self.state.store.totals()
    }

    /// Runs `request`, which must be refused with `status` and `reason`, and
    /// checks that the refusal is recorded (its tally moves by one) while
    /// the participation tallies do not move.
    pub async fn assert_refused<F>(&self, status: StatusCode, reason: RejectReason, request: F)
    where
        F: Future<Output = reqwest::Response>,
    {
        let before = self.ledger_totals().borrow().clone();
        let response = request.await;
        assert_eq!(response.status(), status, "status for {reason:?}");
        let error: ApiError = response.json().await.expect("an ApiError body");
        assert_eq!(error.reason, reason, "reason");
        assert_eq!(
            error,
            ApiError::from(reason),
            "the messages are the reason's own"
        );

        let expected = before.rejections.get(&reason).copied().unwrap_or(0) + 1;
        let mut totals = self.ledger_totals();
        let recorded = tokio::time::timeout(
            WAIT,
            totals.wait_for(|totals| {
                totals.rejections.get(&reason).copied().unwrap_or(0) >= expected
            }),
        )
        .await;
        assert!(recorded.is_ok(), "the {reason:?} refusal must be recorded");
        let after = self.totals().await;
        assert_eq!(
            after.participations, before.participations,
            "a refusal counts no participation"
        );
        assert_eq!(
            after.rejections.get(&reason).copied(),
            Some(expected),
            "one more {reason:?} in /api/totals"
        );
    }
}

/// Plays `started` with the scripted player: the finish request an honest
/// client would send.
pub fn play(started: &RoundStarted) -> FinishRoundRequest {
    let (input_log, outcome) = sim::bot::play_round(started.seed, &Rules::CURRENT);
    FinishRoundRequest {
        token: started.token.clone(),
        input_log,
        outcome,
    }
}
