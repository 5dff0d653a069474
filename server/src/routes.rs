//! Every route of the server, in one place, grouped by who calls it.

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use tower_http::trace::TraceLayer;

use crate::api::{area_report, books, live, players, report, rounds, totals};
use crate::share::links;
use crate::state::AppState;
use crate::{admin, openapi, ops, security_headers, static_files};

/// The paths of the JSON API and of operations, shared with the OpenAPI
/// document so the two cannot drift apart.
pub mod paths {
    /// Start a round.
    pub const ROUNDS: &str = "/api/rounds";
    /// Finish a round.
    pub const FINISH_ROUND: &str = "/api/rounds/{round_id}/finish";
    /// Running totals.
    pub const TOTALS: &str = "/api/totals";
    /// Running totals as server-sent events.
    pub const LIVE: &str = "/api/live";
    /// A player's history.
    pub const PLAYER_PARTICIPATIONS: &str = "/api/players/{player_id}/participations";
    /// A player's share link and what it brought.
    pub const PLAYER_SHARING: &str = "/api/players/{player_id}/sharing";
    /// The public report (aggregates only; `?format=csv` for CSV).
    pub const REPORT: &str = "/api/report";
    /// The public page of one participation.
    pub const PARTICIPATION_PAGE: &str = "/p/{number}";
    /// The public drill-down report (HTML, aggregates only).
    pub const PUBLIC_REPORT: &str = "/report";
    /// The public page of one school.
    pub const SCHOOL_PAGE: &str = "/schools/{school_id}";
    /// A school's receipt link (its secret is printed on each shipment).
    pub const RECEIVE: &str = "/receive/{secret}";
    /// A share link: the game page, with the sharer's preview tags.
    pub const SHARE_PAGE: &str = "/s/{code}";
    /// A share link's preview card (`{variant}-{key}.png`).
    pub const SHARE_CARD: &str = "/s/{code}/card/{file}";
    /// The campaign's preview card (`{variant}-{key}.png`).
    pub const CAMPAIGN_CARD: &str = "/card/{file}";
    /// What crawlers may read.
    pub const ROBOTS: &str = "/robots.txt";
    /// The OpenAPI document of the public API.
    pub const OPENAPI: &str = "/api/openapi.json";
    /// Liveness.
    pub const HEALTHZ: &str = "/healthz";
    /// Prometheus metrics.
    pub const METRICS: &str = "/metrics";

    /// Every path of the public JSON API (documented in the OpenAPI document).
    pub const PUBLIC_API: [&str; 7] = [
        ROUNDS,
        FINISH_ROUND,
        TOTALS,
        LIVE,
        PLAYER_PARTICIPATIONS,
        PLAYER_SHARING,
        REPORT,
    ];
}

/// The whole application.
pub fn router(state: AppState) -> Router {
    use paths::*;

    // Called by the game (and by anyone: the API is public).
    let game_api = Router::new()
        .route(ROUNDS, post(rounds::start_round))
        .route(FINISH_ROUND, post(rounds::finish_round))
        .route(TOTALS, get(totals::get_totals))
        .route(LIVE, get(live::stream_totals))
        .route(PLAYER_PARTICIPATIONS, get(players::list_participations))
        .route(PLAYER_SHARING, get(players::get_sharing))
        .route(REPORT, get(report::get_report))
        .route(OPENAPI, get(openapi::get_document));

    // Opened by anyone from a receipt, a share or a QR code: the books.
    let book_pages = Router::new()
        .route(PUBLIC_REPORT, get(area_report::show_report))
        .route(PARTICIPATION_PAGE, get(books::show_participation))
        .route(SCHOOL_PAGE, get(books::show_school))
        .route(
            RECEIVE,
            get(books::show_receipt_link).post(books::confirm_receipt),
        );

    // Opened from a share: the link (the game page), its preview cards,
    // and what crawlers fetching previews may read.
    let sharing = Router::new()
        .route(
            SHARE_PAGE,
            get(links::show_share_page).layer(static_files::page_compression()),
        )
        .route(SHARE_CARD, get(links::get_share_card))
        .route(CAMPAIGN_CARD, get(links::get_campaign_card))
        .route(ROBOTS, get(links::get_robots));

    // Called by the operators' monitoring.
    let operations = Router::new()
        .route(HEALTHZ, get(ops::healthz))
        .route(METRICS, get(ops::get_metrics));

    // Used by the foundation's staff: the admin console, every route of it
    // listed with its access rule in `admin::routes::ROUTES`.
    let admin_console = admin::routes::router(&state);

    // Fetched by browsers: the game itself.
    let game_files = static_files::router(&state.dist);

    Router::new()
        .merge(game_api)
        .merge(book_pages)
        .merge(admin_console)
        .merge(sharing)
        .merge(operations)
        .merge(game_files)
        .layer(DefaultBodyLimit::max(state.policy.max_body_bytes))
        .layer(axum::middleware::from_fn(
            security_headers::add_security_headers,
        ))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}
