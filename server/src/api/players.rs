//! A player's own pages of the API: their history, and their share link
//! with what it brought.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use serde::Deserialize;
use sim::wire::{ParticipationRecord, PlayerSharing, RejectReason};

use crate::domain::PlayerId;
use crate::error::AppError;
use crate::openapi::refusals;
use crate::routes::paths;
use crate::share::CardVariant;
use crate::share::links;
use crate::state::AppState;
use crate::store::Participation;

/// Records answered when the request does not say.
const DEFAULT_LIMIT: u32 = 100;
/// Most records answered at once.
const MAX_LIMIT: u32 = 1_000;

/// The query string of [`list_participations`].
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    /// How many records, newest first (default 100, at most 1000; any
    /// other number is refused).
    #[param(minimum = 1, maximum = 1000, default = 100)]
    limit: Option<u32>,
}

refusals!(
    /// What the player's reads may refuse.
    PlayerRefusals: MalformedRequest, ServerError
);

/// The player's participations, newest first. An unknown player simply has
/// none; the id is the only credential, as players are anonymous.
#[utoipa::path(
    get,
    path = paths::PLAYER_PARTICIPATIONS,
    tag = "reads",
    summary = "A player's own participations, newest first",
    description = "An unknown player simply has none: the id is the only credential, as \
                   players are anonymous.",
    params(
        ("player_id" = String, Path, format = "uuid", description = "From `RoundStarted`"),
        HistoryQuery,
    ),
    responses(
        (status = 200, description = "Newest first", body = Vec<ParticipationRecord>),
        PlayerRefusals,
    ),
)]
pub async fn list_participations(
    State(state): State<AppState>,
    Path(player_text): Path<String>,
    query: Result<Query<HistoryQuery>, QueryRejection>,
) -> Result<Json<Vec<ParticipationRecord>>, AppError> {
    let player = PlayerId::parse(&player_text).map_err(|_| RejectReason::MalformedRequest)?;
    let Query(query) = query.map_err(|_| RejectReason::MalformedRequest)?;
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(RejectReason::MalformedRequest.into());
    }
    let history = state.store.player_history(player, limit).await?;
    Ok(Json(history.iter().map(Participation::record).collect()))
}

/// `GET /api/players/{player_id}/sharing`: the player's share link and what
/// it brought (zeros for a player never counted). Recognition only.
#[utoipa::path(
    get,
    path = paths::PLAYER_SHARING,
    tag = "reads",
    summary = "A player's share link and what it brought",
    description = "Recognition only: it funds and unlocks nothing. Zeros and no code for a \
                   player never counted.",
    params(("player_id" = String, Path, format = "uuid", description = "From `RoundStarted`")),
    responses(
        (status = 200, description = "The player's sharing", body = PlayerSharing),
        PlayerRefusals,
    ),
)]
pub async fn get_sharing(
    State(state): State<AppState>,
    Path(player_text): Path<String>,
    headers: HeaderMap,
) -> Result<Json<PlayerSharing>, AppError> {
    let player = PlayerId::parse(&player_text).map_err(|_| RejectReason::MalformedRequest)?;
    let Some(standing) = state.store.player_standing(player).await? else {
        return Ok(Json(PlayerSharing {
            share_code: None,
            share_path: None,
            referred_players: 0,
            participations: 0,
            card_path: None,
        }));
    };
    let base_url = state.public_base_url(&headers);
    let code = standing.code;
    let card = state.share_card_data(code, Some(&standing), &base_url);
    Ok(Json(PlayerSharing {
        share_code: Some(code.to_string()),
        share_path: Some(links::share_path(code)),
        referred_players: standing.referred_players,
        participations: standing.owner_participations,
        card_path: Some(links::share_card_path(code, &card, CardVariant::Og)),
    }))
}
