//! The state every handler shares: cheap to clone, one `Arc` inside.

use std::ops::Deref;
use std::path::PathBuf;
use std::sync::Arc;

use sim::wire::RejectReason;
use sim::{InputLog, Outcome, ReplayError, Rules, Seed};
use tokio_util::sync::CancellationToken;

use crate::caps::AddressLimiter;
use crate::config::{RoundPolicy, ServeConfig};
use crate::domain::{PlayerId, RoundId};
use crate::error::AppError;
use crate::idempotency::InFlight;
use crate::metrics::Metrics;
use crate::report_cache::ReportCache;
use crate::share::Fonts;
use crate::share::cards::CardPainter;
use crate::store::{self, RejectionRecord, Store, StoreError};
use crate::token::{SecretError, TokenKey};

/// Handle on [`App`], given to every handler.
#[derive(Debug, Clone)]
pub struct AppState(Arc<App>);

impl Deref for AppState {
    type Target = App;

    fn deref(&self) -> &App {
        &self.0
    }
}

/// What the server is made of.
#[derive(Debug)]
pub struct App {
    /// The participation ledger.
    pub store: Arc<dyn Store>,
    /// Signs and verifies round tokens.
    pub tokens: TokenKey,
    /// Timing, caps and limits of the round API.
    pub policy: RoundPolicy,
    /// The rules rounds are played and replayed with.
    pub rules: Rules,
    /// Per-address request limit.
    pub limiter: AddressLimiter,
    /// Rounds whose finish is being handled.
    pub in_flight: Arc<InFlight>,
    /// Prometheus metrics.
    pub metrics: Arc<Metrics>,
    /// The built game (`index.html`, `static/`).
    pub dist: PathBuf,
    /// The public address of the server, without a trailing `/`.
    pub public_url: Option<String>,
    /// The public report, serialised, kept fresh while [`crate::serve`] runs.
    pub report: ReportCache,
    /// The admin console's sessions settings, password hashing and uploads.
    pub admin: crate::admin::AdminState,
    /// Draws and keeps the preview cards of share links.
    pub cards: CardPainter,
    /// Cancelled when the server starts shutting down (ends live streams and
    /// the report's refresher).
    pub shutdown: CancellationToken,
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// The data directory could not be created.
    #[error("data directory {path}: {source}")]
    DataDir {
        /// The directory.
        path: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The token secret could not be set up.
    #[error(transparent)]
    Secret(#[from] SecretError),
    /// The ledger could not be opened.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl AppState {
    /// Opens everything `config` names: creates the data directory, loads or
    /// creates the token secret, opens the ledger and starts its writer.
    pub async fn open(config: &ServeConfig) -> Result<Self, StartupError> {
        let data_dir = &config.data_dir;
        std::fs::create_dir_all(data_dir).map_err(|source| StartupError::DataDir {
            path: data_dir.display().to_string(),
            source,
        })?;
        let tokens = match &config.secret {
            Some(secret) => TokenKey::new(secret.as_bytes())?,
            None => TokenKey::load_or_create(&data_dir.join("secret.key"))?,
        };
        let metrics = Arc::new(Metrics::default());
        let location = config.ledger_location();
        let store = store::open(
            &location,
            config.ledger.writer_config(&location),
            metrics.ledger.clone(),
        )
        .await?;
        Self::from_parts(store, tokens, metrics, config)
    }

    /// Assembles the state from parts already open (tests use another store
    /// or a known secret this way).
    pub fn from_parts(
        store: Arc<dyn Store>,
        tokens: TokenKey,
        metrics: Arc<Metrics>,
        config: &ServeConfig,
    ) -> Result<Self, StartupError> {
        Ok(Self(Arc::new(App {
            store,
            tokens,
            policy: config.rounds.clone(),
            rules: Rules::CURRENT,
            limiter: AddressLimiter::new(
                config.rounds.address_rate_per_sec,
                config.rounds.address_burst,
            ),
            in_flight: Arc::default(),
            metrics,
            dist: config.dist.clone(),
            public_url: config
                .public_url
                .as_ref()
                .map(|url| url.trim_end_matches('/').to_owned()),
            report: ReportCache::default(),
            admin: crate::admin::AdminState::new(&config.admin, config.public_url.as_deref()),
            cards: CardPainter::new(load_fonts(&config.dist)),
            shutdown: CancellationToken::new(),
        })))
    }
}

/// The card font from `dist`, or `None` (logged: cards answer 503 until a
/// restart after `cargo xtask dist`, and everything else works).
fn load_fonts(dist: &std::path::Path) -> Option<Fonts> {
    match Fonts::from_dist(dist) {
        Ok(fonts) => Some(fonts),
        Err(error) => {
            tracing::warn!(%error, "preview cards are unavailable");
            None
        }
    }
}

impl App {
    /// The address pages print for themselves: the configured public URL,
    /// or `http://` and the request's `Host` header.
    pub fn public_base_url(&self, headers: &axum::http::HeaderMap) -> String {
        if let Some(url) = &self.public_url {
            return url.clone();
        }
        let host = headers
            .get(axum::http::header::HOST)
            .and_then(|host| host.to_str().ok())
            .unwrap_or("localhost");
        format!("http://{host}")
    }

    /// Replays `log` from `seed` under the server's rules, right here on
    /// the async worker thread, with that thread's warm [`sim::Replayer`].
    ///
    /// Why not a thread of its own: a replay takes 50 to 100 µs, within
    /// what an async task may run between two awaits, while handing it to
    /// a replay thread and back cost two wake-ups and two context switches
    /// per finish. Inline took the server's CPU per finish down by 11 to
    /// 17 %, and `bench-ingest` at 128 in flight from about 6,800 to 8,200
    /// finishes a second (BENCHMARKS.md, 2026-12-01 fourth session).
    pub fn replay(&self, seed: Seed, log: &InputLog) -> Result<Outcome, ReplayError> {
        let started = std::time::Instant::now();
        let outcome = sim::replay(seed, &self.rules, log);
        self.metrics.observe_replay(started.elapsed());
        outcome
    }

    /// Records a refused round-API request (reason, round and player when
    /// known) and gives the error back, for `map_err`.
    pub fn refused(
        &self,
        error: AppError,
        round: Option<RoundId>,
        player: Option<PlayerId>,
    ) -> AppError {
        if let Some(reason) = error.reject_reason() {
            self.record_rejection(reason, round, player);
        }
        error
    }

    fn record_rejection(
        &self,
        reason: RejectReason,
        round: Option<RoundId>,
        player: Option<PlayerId>,
    ) {
        tracing::debug!(?reason, round.id = ?round.map(|id| id.to_string()), "request refused");
        self.metrics.count_rejection(reason);
        self.store.record_rejection(RejectionRecord {
            at_ms: crate::now_unix_ms(),
            reason,
            round,
            player,
        });
    }
}
