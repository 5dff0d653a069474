//! `GET /api/totals`: the campaign's running totals, from memory.

use axum::Json;
use axum::extract::State;
use sim::wire::Totals;

use crate::domain::ChinaDay;
use crate::state::AppState;

/// Participations, today's participations (China time) and rejections by
/// reason. Served from the tallies the ledger publishes after each commit,
/// so it costs the same at 5.8 million participations as at none.
pub async fn get_totals(State(state): State<AppState>) -> Json<Totals> {
    let today = ChinaDay::from_unix_ms(crate::now_unix_ms());
    Json(state.store.totals().borrow().to_wire(today))
}
