//! `GET /api/report`: the public report, in JSON or (`?format=csv`) CSV.
//! Aggregates only: totals and books by province, county and school against
//! their targets; nothing about any player. Served from memory, at most
//! about 1 s behind the ledger (see [`crate::report_cache`]).

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use sim::wire::RejectReason;

use crate::allocation::Report;
use crate::error::AppError;
use crate::openapi::refusals;
use crate::routes::paths;
use crate::state::AppState;

/// The report's formats.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, clap::ValueEnum, utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum ReportFormat {
    /// `crate::allocation::Report` as JSON.
    #[default]
    Json,
    /// One CSV line per campaign, province, county and school (UTF-8 with a
    /// byte-order mark, for Excel).
    Csv,
}

/// The query string of [`get_report`].
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    /// `json` (the default) or `csv`.
    #[serde(default)]
    #[param(inline)]
    format: ReportFormat,
}

refusals!(
    /// What [`get_report`] may refuse.
    ReportRefusals: MalformedRequest, ServerError
);

/// The report, answered from the bodies [`crate::report_cache`] keeps
/// ready: a request costs a copy of references, not a read of 10,000
/// schools. The report may lag the ledger by up to
/// [`REFRESH_PERIOD`](crate::report_cache::REFRESH_PERIOD) plus one rebuild
/// (about 1 s); `Cache-Control` lets caches keep it that long too.
#[utoipa::path(
    get,
    path = paths::REPORT,
    tag = "reads",
    summary = "The public report (aggregates only)",
    description = "Totals and books by province, county and school against their targets, \
                   and what share links brought (codes only). Served from a copy rebuilt in \
                   the background when the ledger changed: it may lag the ledger by up to \
                   about 1 s. `Cache-Control: public, max-age=1`.",
    params(ReportQuery),
    responses(
        (status = 200, description = "The report", content(
            (Report = "application/json"),
            (String = "text/csv"),
        )),
        ReportRefusals,
    ),
)]
pub async fn get_report(
    State(state): State<AppState>,
    query: Result<Query<ReportQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, AppError> {
    let Query(query) = query.map_err(|_| RejectReason::MalformedRequest)?;
    let bodies = state.report.bodies(state.store.as_ref()).await?;
    let cache_control = (header::CACHE_CONTROL, "public, max-age=1");
    Ok(match query.format {
        ReportFormat::Json => (
            [(header::CONTENT_TYPE, "application/json"), cache_control],
            bodies.json,
        )
            .into_response(),
        ReportFormat::Csv => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                (
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"report.csv\"",
                ),
                cache_control,
            ],
            bodies.csv,
        )
            .into_response(),
    })
}
