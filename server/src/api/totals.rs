//! `GET /api/totals`: the campaign's running totals, from memory.

use axum::Json;
use axum::extract::State;
use sim::wire::Totals;

use crate::domain::ChinaDay;
use crate::routes::paths;
use crate::state::AppState;

/// Participations, today's participations (China time) and rejections by
/// reason. Served from the tallies the ledger publishes after each commit,
/// so it costs the same at 5.8 million participations as at none.
#[utoipa::path(
    get,
    path = paths::TOTALS,
    tag = "reads",
    summary = "The running totals",
    description = "Participations, today's (China Standard Time) and refused finishes by \
                   reason, from memory.",
    responses((status = 200, description = "The totals", body = Totals)),
)]
pub async fn get_totals(State(state): State<AppState>) -> Json<Totals> {
    let today = ChinaDay::from_unix_ms(crate::now_unix_ms());
    Json(state.store.totals().borrow().to_wire(today))
}
