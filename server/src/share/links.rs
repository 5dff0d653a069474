//! The handlers of sharing: a share link `/s/{code}` (the game page itself,
//! with the sharer's preview tags), the preview cards, and `robots.txt`.
//!
//! A share link answers 200 with the game page, never a redirect, whatever
//! query parameters apps append to it; the page keeps the first code its
//! player arrived with and starts rounds with it. Opening the link credits
//! nothing: only a referred player's first counted round does, in the
//! ledger (see `store::rules`).

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, LOCATION};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use sim::wire::{ApiError, BookStatus};

use super::cards::{CardUnavailable, card_data, card_file, parse_card_file, shown_total};
use super::meta::OpenGraph;
use super::{CardData, CardVariant, texts};
use crate::domain::ShareCode;
use crate::error::AppError;
use crate::routes::paths;
use crate::state::{App, AppState};
use crate::static_files;
use crate::store::ShareStanding;

/// `Cache-Control` of a card under its content-hashed address.
const IMMUTABLE: HeaderValue = HeaderValue::from_static("public, max-age=31536000, immutable");

/// The path of share code `code`'s link.
pub fn share_path(code: ShareCode) -> String {
    format!("/s/{code}")
}

/// The path of the card of `code` whose content is `data`.
pub fn share_card_path(code: ShareCode, data: &CardData, variant: CardVariant) -> String {
    format!("/s/{code}/card/{}", card_file(data, variant))
}

/// The path of the campaign card whose content is `data`.
fn campaign_card_path(data: &CardData, variant: CardVariant) -> String {
    format!("/card/{}", card_file(data, variant))
}

impl App {
    /// The running total, as cards round it.
    fn campaign_total(&self) -> u64 {
        self.store.totals().borrow().participations
    }

    /// What `code`'s card shows, seen from `base_url`.
    pub fn share_card_data(
        &self,
        code: ShareCode,
        standing: Option<&ShareStanding>,
        base_url: &str,
    ) -> CardData {
        card_data(
            standing,
            self.campaign_total(),
            format!("{base_url}{}", share_path(code)),
        )
    }

    /// The campaign card's content, seen from `base_url`.
    fn campaign_card_data(&self, base_url: &str) -> CardData {
        card_data(None, self.campaign_total(), format!("{base_url}/"))
    }

    /// The preview tags of a page about the campaign as a whole (`/`, and
    /// the public book pages, which name no sharer): `url` is the page's
    /// own absolute address.
    pub fn campaign_open_graph(&self, base_url: &str, url: String) -> OpenGraph {
        let data = self.campaign_card_data(base_url);
        OpenGraph {
            title: format!("{} · {}", texts::SITE_ZH, texts::CAMPAIGN_ZH),
            description: format!(
                "{}。{}{}{}。",
                texts::HOW_IT_WORKS_ZH,
                texts::TOTAL_ZH_BEFORE,
                shown_total(self.campaign_total()),
                texts::TOTAL_ZH_AFTER
            ),
            url,
            image: format!("{base_url}{}", campaign_card_path(&data, CardVariant::Og)),
            image_alt: format!("{}：{}", texts::SITE_ZH, texts::CAMPAIGN_ZH),
        }
    }
}

/// The preview tags of `code`'s share link.
fn share_open_graph(
    state: &App,
    code: ShareCode,
    standing: Option<&ShareStanding>,
    base_url: &str,
) -> OpenGraph {
    let url = format!("{base_url}{}", share_path(code));
    let mut open_graph = state.campaign_open_graph(base_url, url);
    let data = state.share_card_data(code, standing, base_url);
    open_graph.image = format!(
        "{base_url}{}",
        share_card_path(code, &data, CardVariant::Og)
    );
    if let Some(sharer) = &data.sharer {
        let book = standing
            .and_then(|standing| standing.latest.as_ref())
            .and_then(|latest| match &latest.book {
                BookStatus::Allocated { book, school } => Some(format!(
                    "最近一次参与的第 {book} 本书送往{}（{}{}）。",
                    school.name, school.province, school.county
                )),
                _ => None,
            })
            .unwrap_or_default();
        open_graph.description = format!(
            "{}{}{}。{book}{}{}{}。",
            texts::SHARER_ZH_BEFORE,
            sharer.participations,
            texts::SHARER_ZH_AFTER,
            texts::TOTAL_ZH_BEFORE,
            data.campaign_total,
            texts::TOTAL_ZH_AFTER
        );
        open_graph.image_alt = format!(
            "{}{}{}",
            texts::SHARER_ZH_BEFORE,
            sharer.participations,
            texts::SHARER_ZH_AFTER
        );
    }
    open_graph
}

/// `GET /s/{code}`: the game page, with the sharer's preview tags. An
/// unknown or malformed code still gets the game (with the campaign's
/// tags): whoever follows a link deserves the game.
#[utoipa::path(
    get,
    path = paths::SHARE_PAGE,
    tag = "sharing",
    summary = "A share link: the game page, with the sharer's preview tags (HTML)",
    description = "An unknown or malformed code still gets the game, with the campaign's tags.",
    params(("code" = String, Path, description = "A share code")),
    responses(
        (status = 200, description = "The game page", content_type = "text/html", body = String),
        (status = 503, description = "The game is not built yet (`cargo xtask dist`)",
            content_type = "text/plain", body = String),
        (status = 500, description = "A server fault", content(
            (ApiError = "application/json"),
            ("text/plain"),
        )),
    ),
)]
pub async fn show_share_page(
    State(state): State<AppState>,
    Path(code): Path<String>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let base_url = state.public_base_url(&headers);
    let open_graph = match ShareCode::parse(&code) {
        Ok(code) => {
            let standing = state.store.share_standing(code).await?;
            match &standing {
                Some(standing) => share_open_graph(&state, code, Some(standing), &base_url),
                None => state.campaign_open_graph(&base_url, format!("{base_url}/")),
            }
        }
        Err(_) => state.campaign_open_graph(&base_url, format!("{base_url}/")),
    };
    Ok(static_files::game_page(&state, &open_graph).await)
}

/// `GET /s/{code}/card/{variant}-{key}.png`: a share code's preview card.
#[utoipa::path(
    get,
    path = paths::SHARE_CARD,
    tag = "sharing",
    summary = "A share code's preview card (PNG, immutable)",
    description = "A stale key (what the card shows has changed since) is sent to the current \
                   card.",
    params(
        ("code" = String, Path, description = "A share code"),
        ("file" = String, Path, description = "`{variant}-{key}.png`: the variant (`og` \
            1200x630, `mp` 1000x800, `thumb` 300x300) and the card's content hash"),
    ),
    responses(
        (status = 200, description = "The card", content_type = "image/png", body = Vec<u8>),
        (status = 302, description = "The key is stale: the current card",
            headers(("Location" = String, description = "The current card's path"))),
        (status = 404, description = "Not a card's file name, or no such code"),
        (status = 503, description = "The font subset is missing (`cargo xtask dist`)",
            content_type = "text/plain", body = String),
        (status = 500, description = "Refused: `server_error`", body = ApiError),
    ),
)]
pub async fn get_share_card(
    State(state): State<AppState>,
    Path((code, file)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let (Ok(code), Some((variant, _))) = (ShareCode::parse(&code), parse_card_file(&file)) else {
        return Ok(StatusCode::NOT_FOUND.into_response());
    };
    let Some(standing) = state.store.share_standing(code).await? else {
        return Ok(StatusCode::NOT_FOUND.into_response());
    };
    let base_url = state.public_base_url(&headers);
    let data = state.share_card_data(code, Some(&standing), &base_url);
    let current = share_card_path(code, &data, variant);
    serve_card(&state, &file, &current, data, variant).await
}

/// `GET /card/{variant}-{key}.png`: the campaign's preview card.
#[utoipa::path(
    get,
    path = paths::CAMPAIGN_CARD,
    tag = "sharing",
    summary = "The campaign's preview card (PNG, immutable)",
    description = "A stale key (what the card shows has changed since) is sent to the current \
                   card.",
    params(("file" = String, Path, description = "`{variant}-{key}.png`: the variant (`og` \
        1200x630, `mp` 1000x800, `thumb` 300x300) and the card's content hash")),
    responses(
        (status = 200, description = "The card", content_type = "image/png", body = Vec<u8>),
        (status = 302, description = "The key is stale: the current card",
            headers(("Location" = String, description = "The current card's path"))),
        (status = 404, description = "Not a card's file name, or no such code"),
        (status = 503, description = "The font subset is missing (`cargo xtask dist`)",
            content_type = "text/plain", body = String),
        (status = 500, description = "Refused: `server_error`", body = ApiError),
    ),
)]
pub async fn get_campaign_card(
    State(state): State<AppState>,
    Path(file): Path<String>,
    headers: HeaderMap,
) -> Response {
    let Some((variant, _)) = parse_card_file(&file) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let data = state.campaign_card_data(&state.public_base_url(&headers));
    let current = campaign_card_path(&data, variant);
    match serve_card(&state, &file, &current, data, variant).await {
        Ok(response) => response,
        Err(error) => error.into_response(),
    }
}

/// Answers the card `data` if `requested` is its current file name, else
/// sends the client to `current` (what the card shows has changed).
async fn serve_card(
    state: &App,
    requested: &str,
    current: &str,
    data: CardData,
    variant: CardVariant,
) -> Result<Response, AppError> {
    if !current.ends_with(&format!("/{requested}")) {
        return Ok((
            StatusCode::FOUND,
            [
                (
                    LOCATION,
                    HeaderValue::from_str(current).map_err(AppError::internal)?,
                ),
                (CACHE_CONTROL, HeaderValue::from_static("no-cache")),
            ],
        )
            .into_response());
    }
    match state.cards.png(data, variant).await {
        Ok(png) => Ok((
            [
                (CONTENT_TYPE, HeaderValue::from_static("image/png")),
                (CACHE_CONTROL, IMMUTABLE),
            ],
            Body::from(png),
        )
            .into_response()),
        Err(CardUnavailable::NoFonts) => {
            tracing::error!("a card was asked for, but the font subset is missing");
            Ok((
                StatusCode::SERVICE_UNAVAILABLE,
                "Cards need the font subset: run `cargo xtask dist`.\n",
            )
                .into_response())
        }
        Err(error) => Err(AppError::internal(error)),
    }
}

/// `GET /robots.txt`: crawlers may read the game, the share links, the
/// book pages and the cards (link previews need them), not the API, the
/// admin console or the schools' secret receipt links.
#[utoipa::path(
    get,
    path = paths::ROBOTS,
    tag = "sharing",
    summary = "What crawlers may read",
    responses((status = 200, description = "robots.txt", content_type = "text/plain", body = String)),
)]
pub async fn get_robots() -> impl IntoResponse {
    (
        [(
            CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        )],
        "User-agent: *\nAllow: /\nDisallow: /api/\nDisallow: /admin\nDisallow: /receive/\n",
    )
}
