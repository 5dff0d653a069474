//! `GET /api/live`: the running totals as server-sent events.
//!
//! One `totals` event on connect, then one whenever the ledger commits, but
//! at most [`MIN_INTERVAL`] apart: the tallies live in a `watch` channel,
//! which keeps only the latest value, so bursts of commits coalesce into one
//! event. Streams end when the server shuts down, so they never hold up a
//! graceful shutdown.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::Stream;
use tokio_stream::StreamExt as _;
use tokio_stream::wrappers::WatchStream;

use crate::domain::ChinaDay;
use crate::state::AppState;

/// Least time between two events of one stream (at most 4 a second).
pub const MIN_INTERVAL: Duration = Duration::from_millis(250);

/// Streams `sim::wire::Totals` as JSON `totals` events.
pub async fn stream_totals(
    State(state): State<AppState>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let events = WatchStream::new(state.store.totals())
        .throttle(MIN_INTERVAL)
        .map(|totals| {
            let today = ChinaDay::from_unix_ms(crate::now_unix_ms());
            let event = Event::default().event("totals");
            // Totals always serialise; an empty event is the harmless fallback.
            Ok(event.json_data(totals.to_wire(today)).unwrap_or_default())
        });
    let until_shutdown =
        futures::StreamExt::take_until(events, state.shutdown.clone().cancelled_owned());
    Sse::new(until_shutdown).keep_alive(KeepAlive::default())
}
