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
use crate::routes::paths;
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
#[utoipa::path(
    get,
    path = paths::PUBLIC_REPORT,
    tag = "pages",
    summary = "The public drill-down report (HTML, aggregates only)",
    description = "National by default; a province, a prefecture of a province, or a county \
                   (by code, which wins over the others) one level down. The period is a \
                   preset, or `from` and `to` (both ends included, the whole campaign where one \
                   is missing). A period backwards or longer than 10,000 days is refused.",
    params(
        ("province" = Option<String>, Query, description = "A province's name"),
        ("prefecture" = Option<String>, Query, description = "A prefecture of `province`"),
        ("county" = Option<String>, Query, description = "A county's code"),
        ("preset" = Option<String>, Query,
            description = "A named period (wins over `from` and `to`); empty is none",
            pattern = "^(today|7d|30d|quarter|last-quarter|campaign)?$"),
        ("from" = Option<String>, Query, description = "First day, YYYY-MM-DD; empty is none",
            pattern = "^([0-9]{4}-[0-9]{2}-[0-9]{2})?$"),
        ("to" = Option<String>, Query, description = "Last day, YYYY-MM-DD; empty is none",
            pattern = "^([0-9]{4}-[0-9]{2}-[0-9]{2})?$"),
    ),
    responses(
        (status = 200, description = "The report page", content_type = "text/html", body = String),
        (status = 400, description = "A period that cannot be read or is backwards or too long \
            (a page), or a query string that cannot be read (plain text)", content(
            (String = "text/html"),
            (String = "text/plain"),
        )),
        (status = 404, description = "No such area", content_type = "text/html", body = String),
        (status = 500, description = "A server fault", content_type = "text/html", body = String),
    ),
)]
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
