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
use sim::wire::Totals;
use tokio_stream::StreamExt as _;
use tokio_stream::wrappers::WatchStream;
use utoipa::{PartialSchema as _, ToSchema as _};

use crate::domain::ChinaDay;
use crate::routes::paths;
use crate::state::AppState;

/// Least time between two events of one stream (at most 4 a second).
pub const MIN_INTERVAL: Duration = Duration::from_millis(250);

/// The name of every event of the stream.
pub const EVENT_NAME: &str = "totals";

/// One event of the stream, as the API document describes it: named
/// [`EVENT_NAME`], its data a JSON `Totals`. Only a schema: the events
/// themselves are written by [`stream_totals`].
#[derive(Debug)]
pub struct TotalsEvent;

impl utoipa::PartialSchema for TotalsEvent {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::{ObjectBuilder, Ref, Type};
        let event = ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some([EVENT_NAME]));
        let data = ObjectBuilder::new()
            .schema_type(Type::String)
            .content_media_type("application/json")
            .content_schema(Some(Ref::from_schema_name(Totals::name())));
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .description(Some(
                "One server-sent event: `event: totals`, and `data:` the running totals as JSON",
            ))
            .property("event", event)
            .required("event")
            .property("data", data)
            .required("data")
            .into()
    }
}

impl utoipa::ToSchema for TotalsEvent {
    fn schemas(
        schemas: &mut Vec<(
            String,
            utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
        )>,
    ) {
        schemas.push((Totals::name().into_owned(), Totals::schema()));
        Totals::schemas(schemas);
    }
}

/// Streams `sim::wire::Totals` as JSON `totals` events.
#[utoipa::path(
    get,
    path = paths::LIVE,
    tag = "reads",
    summary = "The running totals as server-sent events",
    description = "One `totals` event on connect, then one whenever the ledger commits, at \
                   most 4 a second; comments keep the connection alive. The stream ends when \
                   the server shuts down.",
    responses((status = 200, description = "An endless event stream",
        content_type = "text/event-stream", item_schema = TotalsEvent)),
)]
pub async fn stream_totals(
    State(state): State<AppState>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let events = WatchStream::new(state.store.totals())
        .throttle(MIN_INTERVAL)
        .map(|totals| {
            let today = ChinaDay::from_unix_ms(crate::now_unix_ms());
            let event = Event::default().event(EVENT_NAME);
            // Totals always serialise; an empty event is the harmless fallback.
            Ok(event.json_data(totals.to_wire(today)).unwrap_or_default())
        });
    let until_shutdown =
        futures::StreamExt::take_until(events, state.shutdown.clone().cancelled_owned());
    Sse::new(until_shutdown).keep_alive(KeepAlive::default())
}
