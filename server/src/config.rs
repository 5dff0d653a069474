//! Configuration of `server serve`, from flags or environment variables.
//!
//! Every setting has a flag and a `DREAMFAIRY_*` variable; defaults are for
//! production (tests and benchmarks shorten waits and lift caps explicitly).

use std::net::SocketAddr;
use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::time::Duration;

use crate::store::{DatabaseUrl, Location, WriterConfig};

/// Everything `server serve` needs.
#[derive(Debug, Clone, clap::Args)]
pub struct ServeConfig {
    /// Address to listen on; port 0 picks a free port (printed on stdout).
    #[arg(long, env = "DREAMFAIRY_ADDR", default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    /// Directory of the ledger and the token secret; created if missing.
    /// With `--database-url` it holds only the secret (when `--secret` is
    /// not given).
    #[arg(long, env = "DREAMFAIRY_DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,
    /// The ledger in PostgreSQL (`postgres://user@host/db`), shared by any
    /// number of server processes, instead of the embedded SQLite file in
    /// the data directory.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true, value_parser = parse_database_url)]
    pub database_url: Option<DatabaseUrl>,
    /// Directory of the built game (`cargo xtask dist`).
    #[arg(long, env = "DREAMFAIRY_DIST", default_value = "dist")]
    pub dist: PathBuf,
    /// The server's public address (`https://example.org`), printed on
    /// participation pages and in their QR codes. Default: `http://` and the
    /// request's `Host`.
    #[arg(long, env = "DREAMFAIRY_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Secret for signing round tokens (at least 32 bytes). Default: a random
    /// one generated on first start and kept in `<data-dir>/secret.key`.
    #[arg(long, env = "DREAMFAIRY_SECRET", hide_env_values = true)]
    pub secret: Option<String>,
    /// Threads that answer requests: HTTP, token checks and replays (slow
    /// work such as exports and posters runs on a pool of its own).
    /// Default: on SQLite one fewer than the cores, at least one, so that
    /// the ledger's writer thread has a core to itself; on PostgreSQL as
    /// many as the cores (the writer is a task on these threads).
    #[arg(long, env = "DREAMFAIRY_WORKERS")]
    pub workers: Option<NonZeroUsize>,
    // (Flattened groups: their flags are documented on their own types.)
    #[command(flatten)]
    pub rounds: RoundPolicy,
    #[command(flatten)]
    pub ledger: LedgerSettings,
    #[command(flatten)]
    pub admin: AdminSettings,
}

impl ServeConfig {
    /// Where the ledger lives.
    pub fn ledger_location(&self) -> Location {
        Location::choose(self.database_url.as_ref(), &self.data_dir)
    }

    /// How many threads answer requests (see [`Self::workers`]).
    pub fn worker_threads(&self) -> usize {
        let cores = available_cores();
        let default = match self.ledger_location() {
            Location::Sqlite { .. } => cores.saturating_sub(1).max(1),
            Location::Postgres { .. } => cores,
        };
        self.workers.map_or(default, NonZeroUsize::get)
    }

    /// Production defaults with the given data and dist directories (for
    /// tests and embedding; the CLI gets the same defaults from clap).
    pub fn new(data_dir: impl Into<PathBuf>, dist: impl Into<PathBuf>) -> Self {
        Self {
            addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: data_dir.into(),
            database_url: None,
            dist: dist.into(),
            public_url: None,
            secret: None,
            workers: None,
            rounds: RoundPolicy::default(),
            ledger: LedgerSettings::default(),
            admin: AdminSettings::default(),
        }
    }
}

/// The cores this process may use (1 if the system cannot tell).
pub fn available_cores() -> usize {
    std::thread::available_parallelism().map_or(1, NonZeroUsize::get)
}

/// Parses `--database-url` (for clap).
pub fn parse_database_url(text: &str) -> Result<DatabaseUrl, String> {
    DatabaseUrl::parse(text).map_err(|error| error.to_string())
}

/// The rules a finish must pass besides the replay.
#[derive(Debug, Clone, clap::Args)]
pub struct RoundPolicy {
    /// Least server time between start and finish, in ms. Default: the time
    /// the round actually played (its ticks at the rules' tick rate; a round
    /// ends early once the shelf is full).
    #[arg(long, env = "DREAMFAIRY_MIN_ROUND_MS")]
    pub min_round_ms: Option<u64>,
    /// Most server time between start and finish before the token expires,
    /// in seconds.
    #[arg(long, env = "DREAMFAIRY_ROUND_MAX_AGE_SECS", default_value_t = RoundPolicy::DEFAULT_MAX_AGE_SECS)]
    pub round_max_age_secs: u64,
    /// Most counted rounds per player per China day.
    #[arg(long, env = "DREAMFAIRY_PLAYER_DAILY_CAP", default_value_t = RoundPolicy::DEFAULT_PLAYER_DAILY_CAP)]
    pub player_daily_cap: u32,
    /// Round-API requests per second allowed per client address, on average;
    /// 0 turns the limit off.
    #[arg(long, env = "DREAMFAIRY_ADDRESS_RATE", default_value_t = RoundPolicy::DEFAULT_ADDRESS_RATE)]
    pub address_rate_per_sec: u32,
    /// Requests a client address may send at once above its rate.
    #[arg(long, env = "DREAMFAIRY_ADDRESS_BURST", default_value_t = RoundPolicy::DEFAULT_ADDRESS_BURST)]
    pub address_burst: u32,
    /// Take the client address from the last `X-Forwarded-For` entry (only
    /// behind a reverse proxy that sets it).
    #[arg(long, env = "DREAMFAIRY_TRUST_FORWARDED_FOR")]
    pub trust_forwarded_for: bool,
    /// Largest request body accepted, in bytes.
    #[arg(long, env = "DREAMFAIRY_MAX_BODY_BYTES", default_value_t = RoundPolicy::DEFAULT_MAX_BODY_BYTES)]
    pub max_body_bytes: usize,
}

impl RoundPolicy {
    const DEFAULT_MAX_AGE_SECS: u64 = 30 * 60;
    const DEFAULT_PLAYER_DAILY_CAP: u32 = 20;
    // A classroom behind one address: 50 children finishing a round a minute
    // each stay far below this.
    const DEFAULT_ADDRESS_RATE: u32 = 20;
    const DEFAULT_ADDRESS_BURST: u32 = 100;
    // An input log is at most `sim::MAX_ENCODED_BYTES`; base64 and the rest
    // of the body fit well within this.
    const DEFAULT_MAX_BODY_BYTES: usize = 16 * 1024;

    /// The least time between start and finish of a round that played for
    /// `played`.
    pub fn min_round_time(&self, played: Duration) -> Duration {
        self.min_round_ms.map_or(played, Duration::from_millis)
    }

    /// The most time between start and finish.
    pub fn max_round_age(&self) -> Duration {
        Duration::from_secs(self.round_max_age_secs)
    }
}

impl Default for RoundPolicy {
    fn default() -> Self {
        Self {
            min_round_ms: None,
            round_max_age_secs: Self::DEFAULT_MAX_AGE_SECS,
            player_daily_cap: Self::DEFAULT_PLAYER_DAILY_CAP,
            address_rate_per_sec: Self::DEFAULT_ADDRESS_RATE,
            address_burst: Self::DEFAULT_ADDRESS_BURST,
            trust_forwarded_for: false,
            max_body_bytes: Self::DEFAULT_MAX_BODY_BYTES,
        }
    }
}

/// How the ledger writer batches.
#[derive(Debug, Clone, clap::Args)]
pub struct LedgerSettings {
    /// Most rows per ledger transaction.
    #[arg(long, env = "DREAMFAIRY_BATCH_MAX_ROWS", default_value_t = WriterConfig::DEFAULT_MAX_BATCH_ROWS)]
    pub batch_max_rows: usize,
    /// How long the writer gathers a batch after its first row, in
    /// microseconds (0: write whatever is queued at once). Default: 500
    /// on SQLite, 2,000 on PostgreSQL (see `WriterConfig::for_ledger`).
    #[arg(long, env = "DREAMFAIRY_BATCH_WINDOW_US")]
    pub batch_window_us: Option<u64>,
}

impl LedgerSettings {
    /// The writer configuration these settings describe, for the ledger at
    /// `location`.
    pub fn writer_config(&self, location: &Location) -> WriterConfig {
        let defaults = WriterConfig::for_ledger(location);
        WriterConfig {
            max_batch_rows: self.batch_max_rows.max(1),
            batch_window: self
                .batch_window_us
                .map_or(defaults.batch_window, Duration::from_micros),
            ..defaults
        }
    }
}

impl Default for LedgerSettings {
    fn default() -> Self {
        Self {
            batch_max_rows: WriterConfig::DEFAULT_MAX_BATCH_ROWS,
            batch_window_us: None,
        }
    }
}

/// The admin console's settings.
#[derive(Debug, Clone, clap::Args)]
pub struct AdminSettings {
    /// Minutes after which an unused admin session ends.
    #[arg(long, env = "DREAMFAIRY_ADMIN_IDLE_MINUTES", default_value_t = 30)]
    pub admin_idle_minutes: u64,
    /// Days after which an unconfirmed shipment is on the dashboard's
    /// to-do list.
    #[arg(long, env = "DREAMFAIRY_ADMIN_OVERDUE_DAYS", default_value_t = 14)]
    pub admin_overdue_days: u32,
}

impl Default for AdminSettings {
    fn default() -> Self {
        Self {
            admin_idle_minutes: 30,
            admin_overdue_days: 14,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ledgers() -> (Location, Location) {
        let sqlite = Location::Sqlite {
            data_dir: PathBuf::from("data"),
        };
        let postgres = Location::Postgres {
            url: parse_database_url("postgresql:///ledger?host=/run/postgresql").unwrap(),
        };
        (sqlite, postgres)
    }

    #[test]
    fn the_batch_window_defaults_per_backend_and_an_explicit_one_wins() {
        let (sqlite, postgres) = ledgers();
        let defaults = LedgerSettings::default();
        assert_eq!(
            defaults.writer_config(&sqlite).batch_window,
            Duration::from_micros(500),
            "SQLite's commit is cheap: a short window"
        );
        assert_eq!(
            defaults.writer_config(&postgres).batch_window,
            Duration::from_millis(2),
            "PostgreSQL's costs its CPU: a longer one"
        );
        let chosen = LedgerSettings {
            batch_window_us: Some(0),
            ..LedgerSettings::default()
        };
        for location in [&sqlite, &postgres] {
            assert_eq!(
                chosen.writer_config(location).batch_window,
                Duration::ZERO,
                "--batch-window-us applies to either backend"
            );
        }
    }

    #[test]
    fn sqlite_s_writer_thread_keeps_a_core_unless_workers_are_chosen() {
        let mut config = ServeConfig::new("data", "dist");
        let cores = available_cores();
        let on_sqlite = config.worker_threads();
        assert!(on_sqlite >= 1, "at least one thread answers");
        assert!(
            on_sqlite < cores || cores == 1,
            "{on_sqlite} workers on {cores} cores leave none to SQLite's writer"
        );
        let Location::Postgres { url } = ledgers().1 else {
            unreachable!("the second is PostgreSQL's")
        };
        config.database_url = Some(url);
        assert_eq!(
            config.worker_threads(),
            cores,
            "PostgreSQL's writer is a task on the workers: every core"
        );
        config.workers = NonZeroUsize::new(cores + 3);
        assert_eq!(config.worker_threads(), cores + 3, "--workers wins");
    }
}
