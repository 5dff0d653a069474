//! The built game, served from the dist directory (`cargo xtask dist`).
//!
//! - `GET /` is `index.html`, revalidated on every visit (`no-cache`) so a
//!   new release reaches players at once, and precompressed like the rest.
//! - `GET /static/*` are content-hashed files: cached for a year as
//!   `immutable`, and served precompressed (`.br`, `.gz` siblings) when the
//!   browser accepts it, with the original file's MIME type
//!   (`application/wasm`, `text/javascript`, ...).

use std::path::Path;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tower::ServiceExt as _;
use tower_http::services::{ServeDir, ServeFile};
use tower_http::set_header::SetResponseHeaderLayer;

use crate::state::AppState;

/// `Content-Type` of the page (the charset spelled out for old browsers).
const HTML: HeaderValue = HeaderValue::from_static("text/html; charset=utf-8");
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
fn immutable_if_found<B>(response: &axum::http::Response<B>) -> Option<HeaderValue> {
    response.status().is_success().then_some(IMMUTABLE)
}

/// `GET /`: the game's page, or 503 with what to do if it is not built yet.
async fn get_index(State(state): State<AppState>, request: Request) -> Response {
    let page = state.dist.join("index.html");
    let served = ServeFile::new(&page)
        .precompressed_br()
        .precompressed_gzip()
        .oneshot(request)
        .await;
    let mut response = match served {
        Ok(response) => response.map(Body::new),
        Err(error) => {
            tracing::error!(%error, page = %page.display(), "cannot serve index.html");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    match response.status() {
        StatusCode::NOT_FOUND => (
            StatusCode::SERVICE_UNAVAILABLE,
            "The game is not built yet: run `cargo xtask dist`, then reload this page.\n",
        )
            .into_response(),
        status if status.is_success() => {
            let headers = response.headers_mut();
            headers.insert(CONTENT_TYPE, HTML);
            headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
            response
        }
        _ => response,
    }
}
