//! The built game, served from the dist directory (`cargo xtask dist`).
//!
//! - `GET /` is `index.html`, revalidated on every visit (`no-cache`) so a
//!   new release reaches players at once, with the campaign's preview tags
//!   put in its [`META_SLOT`] (share links serve the same page with their
//!   own, see [`game_page`]); it is compressed as it is sent.
//! - `GET /static/*` are content-hashed files: cached for a year as
//!   `immutable`, and served precompressed (`.br`, `.gz` siblings) when the
//!   browser accepts it, with the original file's MIME type
//!   (`application/wasm`, `text/javascript`, ...).

use std::path::Path;

use axum::Router;
use axum::extract::State;
use axum::http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tower_http::CompressionLevel;
use tower_http::compression::CompressionLayer;
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::security_headers::page_policy;
use crate::share::meta::OpenGraph;
use crate::state::{App, AppState};

/// `Content-Type` of the page (the charset spelled out for old browsers).
const HTML: HeaderValue = HeaderValue::from_static("text/html; charset=utf-8");
/// `Cache-Control` of hashed static files.
const IMMUTABLE: HeaderValue = HeaderValue::from_static("public, max-age=31536000, immutable");

/// The routes of the game's files, under `dist`.
pub fn router(dist: &Path) -> Router<AppState> {
    let hashed_files = ServeDir::new(dist.join("static"))
        .precompressed_br()
        .precompressed_gzip();
    Router::new()
        .route("/", get(get_index).layer(page_compression()))
        .route(FAVICON_SVG, get(get_favicon))
        .route("/favicon.ico", get(get_favicon))
        .nest_service(
            "/static",
            tower::ServiceBuilder::new()
                .layer(SetResponseHeaderLayer::overriding(
                    CACHE_CONTROL,
                    immutable_if_found,
                ))
                .service(hashed_files),
        )
}

/// The site's icon (a book and a star), linked by every page; browsers
/// that ask for `/favicon.ico` without reading the page get the same.
pub const FAVICON_SVG: &str = "/favicon.svg";

/// `GET /favicon.svg` and `GET /favicon.ico`.
async fn get_favicon() -> impl IntoResponse {
    (
        [
            (CONTENT_TYPE, HeaderValue::from_static("image/svg+xml")),
            (
                CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=86400"),
            ),
        ],
        include_str!("../../assets/favicon.svg"),
    )
}

/// Compression for the game page, made per request (its preview tags vary):
/// brotli at a middle quality costs well under a millisecond for it.
pub fn page_compression() -> CompressionLayer {
    CompressionLayer::new().quality(CompressionLevel::Precise(5))
}

/// Only a file that was found may be cached for a year; a 404 must not be.
fn immutable_if_found<B>(response: &axum::http::Response<B>) -> Option<HeaderValue> {
    response.status().is_success().then_some(IMMUTABLE)
}

/// Where `index.html` (rendered from `game/web/index.html`) takes a page's
/// preview tags.
pub const META_SLOT: &str = "<!-- share-meta -->";

/// `GET /`: the game's page, with the campaign's preview tags.
async fn get_index(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let base_url = state.public_base_url(&headers);
    let open_graph = state.campaign_open_graph(&base_url, format!("{base_url}/"));
    game_page(&state, &open_graph).await
}

/// The game's page with `open_graph`'s tags, or 503 with what to do if it
/// is not built yet.
pub async fn game_page(state: &App, open_graph: &OpenGraph) -> Response {
    let page = state.dist.join("index.html");
    match tokio::fs::read_to_string(&page).await {
        Ok(template) => {
            let page = template.replacen(META_SLOT, &open_graph.tags().into_string(), 1);
            (
                [
                    (CONTENT_TYPE, HTML),
                    (CACHE_CONTROL, HeaderValue::from_static("no-cache")),
                    // Set here, before the route compresses the page.
                    (CONTENT_SECURITY_POLICY, page_policy(&page)),
                ],
                page,
            )
                .into_response()
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => (
            StatusCode::SERVICE_UNAVAILABLE,
            "The game is not built yet: run `cargo xtask dist`, then reload this page.\n",
        )
            .into_response(),
        Err(error) => {
            tracing::error!(%error, page = %page.display(), "cannot serve index.html");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}
