//! Every route of the server, in one place, grouped by who calls it.

use axum::Router;
use axum::extract::DefaultBodyLimit;
use tower_http::trace::TraceLayer;
use utoipa::OpenApi as _;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::api::{area_report, books, live, players, report, rounds, totals};
use crate::share::links;
use crate::state::AppState;
use crate::{admin, openapi, ops, security_headers, static_files};

/// The paths of the public routes: the router and the OpenAPI document
/// (each handler's `#[utoipa::path]`) spell them from here.
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
}

/// Every public route, each registered with its operation in the API
/// document (`utoipa_axum::routes!` adds a handler to the router and its
/// `#[utoipa::path]` to the document in one step, so neither can go without
/// the other). Only the admin console and the game's files stay out.
pub fn public() -> OpenApiRouter<AppState> {
    // Called by the game (and by anyone: the API is public).
    let game_api = OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .routes(routes!(rounds::start_round))
        .routes(routes!(rounds::finish_round))
        .routes(routes!(totals::get_totals))
        .routes(routes!(live::stream_totals))
        .routes(routes!(players::list_participations))
        .routes(routes!(players::get_sharing))
        .routes(routes!(report::get_report));

    // Opened by anyone from a receipt, a share or a QR code: the books.
    let book_pages = OpenApiRouter::new()
        .routes(routes!(area_report::show_report))
        .routes(routes!(books::show_participation))
        .routes(routes!(books::show_school))
        .routes(routes!(books::show_receipt_link, books::confirm_receipt));

    // Opened from a share: the link (the game page), its preview cards,
    // and what crawlers fetching previews may read.
    let share_page = OpenApiRouter::new()
        .routes(routes!(links::show_share_page))
        .layer(static_files::page_compression());
    let sharing = OpenApiRouter::new()
        .merge(share_page)
        .routes(routes!(links::get_share_card))
        .routes(routes!(links::get_campaign_card))
        .routes(routes!(links::get_robots));

    // Called by the operators' monitoring, and by API clients.
    let operations = OpenApiRouter::new()
        .routes(routes!(ops::healthz))
        .routes(routes!(ops::get_metrics))
        .routes(routes!(openapi::get_document));

    game_api.merge(book_pages).merge(sharing).merge(operations)
}

/// The whole application.
pub fn router(state: AppState) -> Router {
    let (public, _document) = public().split_for_parts();

    // Used by the foundation's staff: the admin console, every route of it
    // listed with its access rule in `admin::routes::ROUTES`.
    let admin_console = admin::routes::router(&state);

    // Fetched by browsers: the game itself.
    let game_files = static_files::router(&state.dist);

    Router::new()
        .merge(public)
        .merge(admin_console)
        .merge(game_files)
        .layer(DefaultBodyLimit::max(state.policy.max_body_bytes))
        .layer(axum::middleware::from_fn(
            security_headers::add_security_headers,
        ))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}
