//! `GET /report`: the public drill-down report as HTML (aggregates only,
//! no sign-in), computed by the same code as the admin console's.

use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::admin::error::AdminError;
use crate::admin::reports::{PeriodChoice, resolve_period};
use crate::allocation::drill_down::{DrillDown, Level};
use crate::pages;
use crate::state::AppState;

/// The report's query: a level and a period.
#[derive(Debug, Default, Deserialize)]
pub struct AreaReportQuery {
    #[serde(flatten)]
    period: PeriodChoice,
    province: Option<String>,
    prefecture: Option<String>,
    county: Option<String>,
}

/// `GET /report?province=…&prefecture=…&county=…&preset=…`.
pub async fn show_report(
    State(state): State<AppState>,
    Query(query): Query<AreaReportQuery>,
) -> Result<Response, AdminError> {
    let (period, whole) = resolve_period(&state, &query.period).await?;
    let level = Level::from_query(
        query.province.as_deref(),
        query.prefecture.as_deref(),
        query.county.as_deref(),
    );
    let Some(report) = DrillDown::load(state.store.admin(), &level, period, whole).await? else {
        return Ok((StatusCode::NOT_FOUND, pages::not_found_page()).into_response());
    };
    Ok((
        [(header::CACHE_CONTROL, "public, max-age=5")],
        pages::report_page(&report),
    )
        .into_response())
}
