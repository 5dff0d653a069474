//! Operations endpoints: liveness and Prometheus metrics.

use axum::extract::State;
use axum::http::HeaderValue;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;

use crate::routes::paths;
use crate::state::AppState;

/// `GET /healthz`: 200 while the process serves requests.
#[utoipa::path(
    get,
    path = paths::HEALTHZ,
    tag = "operations",
    summary = "Liveness",
    responses((status = 200, description = "`ok`", content_type = "text/plain", body = String)),
)]
pub async fn healthz() -> &'static str {
    "ok\n"
}

/// `GET /metrics`: Prometheus text exposition.
#[utoipa::path(
    get,
    path = paths::METRICS,
    tag = "operations",
    summary = "Prometheus metrics (OpenMetrics text)",
    responses((status = 200, description = "The metrics",
        content_type = "application/openmetrics-text", body = String)),
)]
pub async fn get_metrics(State(state): State<AppState>) -> impl IntoResponse {
    let totals = state.store.totals().borrow().clone();
    (
        [(
            CONTENT_TYPE,
            HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
        )],
        state.metrics.encode(&totals),
    )
}
