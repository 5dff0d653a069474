//! `GET /api/players/{player_id}/participations`: a player's own history.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use serde::Deserialize;
use sim::wire::{ParticipationRecord, RejectReason};

use crate::domain::PlayerId;
use crate::error::AppError;
use crate::state::AppState;
use crate::store::Participation;

/// Records answered when the request does not say.
const DEFAULT_LIMIT: u32 = 100;
/// Most records answered at once.
const MAX_LIMIT: u32 = 1_000;

/// The query string of [`list_participations`].
#[derive(Debug, Deserialize)]
pub struct HistoryQuery {
    /// How many records, newest first (default 100, at most 1000).
    limit: Option<u32>,
}

/// The player's participations, newest first. An unknown player simply has
/// none; the id is the only credential, as players are anonymous.
pub async fn list_participations(
    State(state): State<AppState>,
    Path(player_text): Path<String>,
    query: Result<Query<HistoryQuery>, QueryRejection>,
) -> Result<Json<Vec<ParticipationRecord>>, AppError> {
    let player = PlayerId::parse(&player_text).map_err(|_| RejectReason::MalformedRequest)?;
    let Query(query) = query.map_err(|_| RejectReason::MalformedRequest)?;
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT);
    let history = state.store.player_history(player, limit).await?;
    Ok(Json(history.iter().map(Participation::record).collect()))
}
