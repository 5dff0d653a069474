//! The built game, served from the dist directory (`cargo xtask dist`).
//!
//! - `GET /` is `index.html`, revalidated on every visit (`no-cache`) so a
//!   new release reaches players at once.
//! - `GET /static/*` are content-hashed files: cached for a year as
//!   `immutable`, and served precompressed (`.br`, `.gz` siblings) when the
//!   browser accepts it, with the original file's MIME type
//!   (`application/wasm`, `text/javascript`, ...).

use std::io;
use std::path::Path;

use axum::Router;
use axum::extract::State;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderValue, Response, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::state::AppState;

/// `Cache-Control` of hashed static files.
const IMMUTABLE: HeaderValue = HeaderValue::from_static("public, max-age=31536000, immutable");

/// The routes of the game's files, under `dist`.
pub fn router(dist: &Path) -> Router<AppState> {
    let hashed_files = ServeDir::new(dist.join("static"))
        .precompressed_br()
        .precompressed_gzip();
    Router::new().route("/", get(get_index)).nest_service(
        "/static",
        tower::ServiceBuilder::new()
            .layer(SetResponseHeaderLayer::overriding(
                CACHE_CONTROL,
                immutable_if_found,
            ))
            .service(hashed_files),
    )
}

/// Only a file that was found may be cached for a year; a 404 must not be.
fn immutable_if_found<B>(response: &Response<B>) -> Option<HeaderValue> {
    response.status().is_success().then_some(IMMUTABLE)
}

/// `GET /`: the game's page, or 503 with what to do if it is not built yet.
async fn get_index(State(state): State<AppState>) -> impl IntoResponse {
    match tokio::fs::read(state.dist.join("index.html")).await {
        Ok(page) => (
            [
                (
                    CONTENT_TYPE,
                    HeaderValue::from_static("text/html; charset=utf-8"),
                ),
                (CACHE_CONTROL, HeaderValue::from_static("no-cache")),
            ],
            page,
        )
            .into_response(),
        Err(error) if error.kind() == io::ErrorKind::NotFound => (
            StatusCode::SERVICE_UNAVAILABLE,
            "The game is not built yet: run `cargo xtask dist`, then reload this page.\n",
        )
            .into_response(),
        Err(error) => {
            tracing::error!(%error, dist = %state.dist.display(), "cannot read index.html");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}
