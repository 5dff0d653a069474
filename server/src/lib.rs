//! The 圆梦精灵图书馆 (Dream Fairy Library) server: the round API, the
//! participation ledger and the game's static files.
//!
//! One participation flows through it like this:
//!
//! 1. `POST /api/rounds` ([`api::rounds`]) issues a round id, a seed and a
//!    token signed with the server secret ([`token`]); nothing is written.
//! 2. `POST /api/rounds/{id}/finish` checks the token, the idempotency key
//!    ([`idempotency`]), the server time spent, replays the input log with
//!    `sim` ([`AppState::replay`]), applies the caps
//!    ([`caps`]), then appends the participation to the ledger ([`store`])
//!    and answers the receipt once it is durable.
//!    Refusals answer one JSON shape ([`error`]) and are recorded.
//! 3. The ledger's single writer commits in groups and publishes the running
//!    tallies, which `/api/totals` and `/api/live` serve from memory;
//!    `/api/report` is served from bodies [`report_cache`] rebuilds in the
//!    background when the ledger changed.
//!
//! Layout: [`routes`] lists every route; handlers live in [`api`], [`ops`]
//! and [`static_files`]; [`state`] is what they share; [`config`] is the
//! command line; [`domain`] holds the parsed identifiers; no database type
//! leaves [`store`]. [`tables`] renders a table on screen and exports the
//! same value as XLSX, CSV and JSON, and writes every CSV the server makes;
//! [`admin`] holds the admin console's pieces (its charts, so far).

pub mod admin;
pub mod allocation;
pub mod api;
pub mod caps;
pub mod config;
pub mod domain;
pub mod error;
pub mod idempotency;
pub mod metrics;
pub mod openapi;
pub mod ops;
pub mod pages;
pub mod report_cache;
pub mod routes;
pub mod schools;
pub mod security_headers;
pub mod share;
pub mod state;
pub mod static_files;
pub mod store;
pub mod tables;
pub mod token;

use std::future::Future;
use std::net::SocketAddr;
use std::time::{SystemTime, UNIX_EPOCH};

pub use config::ServeConfig;
pub use routes::router;
pub use state::AppState;
use tokio::net::TcpListener;

/// Why serving stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// Accepting or serving connections failed.
    #[error("serving HTTP: {0}")]
    Io(#[from] std::io::Error),
    /// The ledger could not finish its queued writes.
    #[error("closing the ledger: {0}")]
    Store(#[from] store::StoreError),
}

/// Serves `state` on `listener` until `shutdown` resolves, then shuts down
/// gracefully: stops accepting, ends live streams, lets requests in flight
/// finish, and writes everything queued in the ledger before returning.
/// Meanwhile it keeps the public report fresh ([`report_cache::keep_fresh`]).
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let app = router(state.clone()).into_make_service_with_connect_info::<SocketAddr>();
    let stopping = state.shutdown.clone();
    let report_refresher = tokio::spawn({
        let state = state.clone();
        async move {
            report_cache::keep_fresh(&state.report, state.store.as_ref(), state.shutdown.clone())
                .await;
        }
    });
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            shutdown.await;
            tracing::info!("shutting down: finishing requests in flight");
            stopping.cancel();
        })
        .await?;
    // It stops at the shutdown signal; a rebuild under way finishes first.
    if let Err(error) = report_refresher.await {
        tracing::error!(%error, "the report refresher failed");
    }
    state.store.close().await?;
    tracing::info!("ledger closed, every acknowledged participation is on disk");
    Ok(())
}

/// Now, in milliseconds since the Unix epoch (0 if the clock is before it).
pub fn now_unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| {
            u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
        })
}
