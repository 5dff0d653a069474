//! The game's files: the page, hashed files precompressed and cached.

use std::fs;
use std::path::Path;

use reqwest::StatusCode;

use crate::helpers::{Db, TestApp, spawn_app};

/// Writes a small build like `cargo xtask dist` makes into `dist`.
fn write_dist(dist: &Path) {
    let static_dir = dist.join("static");
    fs::create_dir_all(&static_dir).unwrap();
    let page = "<!doctype html><title>圆梦精灵图书馆</title><!-- share-meta -->";
    fs::write(dist.join("index.html"), page).unwrap();
    fs::write(dist.join("index.html.br"), format!("br:{page}")).unwrap();
    for (name, body) in [
        ("game-1a2b3c4d.js", "export default 1;"),
        ("game-1a2b3c4d_bg.wasm", "\0asm"),
    ] {
        fs::write(static_dir.join(name), body).unwrap();
        fs::write(static_dir.join(format!("{name}.br")), format!("br:{body}")).unwrap();
        fs::write(static_dir.join(format!("{name}.gz")), format!("gz:{body}")).unwrap();
    }
}

async fn get(app: &TestApp, path: &str, accept_encoding: Option<&str>) -> reqwest::Response {
    let mut request = app.client.get(app.url(path));
    if let Some(encodings) = accept_encoding {
        request = request.header("accept-encoding", encodings);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn without_a_build_the_page_says_how_to_make_one() {
    let app = spawn_app(Db::Sqlite).await;
    let response = get(&app, "/", None).await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        response.text().await.unwrap().contains("cargo xtask dist"),
        "the fix is named"
    );
}

#[tokio::test]
async fn the_page_is_revalidated_on_every_visit() {
    let app = spawn_app(Db::Sqlite).await;
    write_dist(&app.config.dist);
    let response = get(&app, "/", None).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["cache-control"], "no-cache");
    assert_eq!(
        response.headers()["content-type"],
        "text/html; charset=utf-8"
    );
    assert!(response.text().await.unwrap().contains("圆梦精灵图书馆"));
}

#[tokio::test]
async fn the_page_carries_its_preview_tags_compressed_when_the_browser_accepts_it() {
    let app = spawn_app(Db::Sqlite).await;
    write_dist(&app.config.dist);
    let response = get(&app, "/", Some("gzip, deflate, br")).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["content-encoding"],
        "br",
        "brotli is chosen"
    );
    assert_eq!(response.headers()["cache-control"], "no-cache");
    assert_eq!(
        response.headers()["content-type"],
        "text/html; charset=utf-8"
    );
    let compressed = response.bytes().await.unwrap();
    let mut page = String::new();
    std::io::Read::read_to_string(
        &mut brotli::Decompressor::new(compressed.as_ref(), 4096),
        &mut page,
    )
    .expect("a brotli body");
    assert!(
        page.starts_with("<!doctype html><title>圆梦精灵图书馆</title><meta property=\"og:type\""),
        "the campaign's preview tags take the template's slot: {page}"
    );
    assert!(
        page.contains(&format!("content=\"{}/card/og-", app.base_url)),
        "with the absolute address of the campaign card: {page}"
    );
}

#[tokio::test]
async fn hashed_files_are_precompressed_typed_and_immutable() {
    let app = spawn_app(Db::Sqlite).await;
    write_dist(&app.config.dist);
    let cases = [
        (
            "/static/game-1a2b3c4d_bg.wasm",
            Some("gzip, deflate, br"),
            "application/wasm",
            Some("br"),
            "br:\0asm",
        ),
        (
            "/static/game-1a2b3c4d_bg.wasm",
            Some("gzip"),
            "application/wasm",
            Some("gzip"),
            "gz:\0asm",
        ),
        (
            "/static/game-1a2b3c4d_bg.wasm",
            None,
            "application/wasm",
            None,
            "\0asm",
        ),
        (
            "/static/game-1a2b3c4d.js",
            Some("br"),
            "text/javascript",
            Some("br"),
            "br:export default 1;",
        ),
    ];
    for (path, accept, content_type, encoding, body) in cases {
        let response = get(&app, path, accept).await;
        let what = format!("{path} with Accept-Encoding {accept:?}");
        assert_eq!(response.status(), StatusCode::OK, "{what}");
        let headers = response.headers();
        assert!(
            headers["content-type"]
                .to_str()
                .unwrap()
                .starts_with(content_type),
            "{what}: content-type {:?}",
            headers["content-type"]
        );
        assert_eq!(
            headers
                .get("content-encoding")
                .map(|value| value.to_str().unwrap()),
            encoding,
            "{what}"
        );
        assert_eq!(
            headers["cache-control"], "public, max-age=31536000, immutable",
            "{what}"
        );
        assert_eq!(response.text().await.unwrap(), body, "{what}");
    }
}

#[tokio::test]
async fn a_missing_file_is_404_and_not_cached() {
    let app = spawn_app(Db::Sqlite).await;
    write_dist(&app.config.dist);
    let response = get(&app, "/static/game-00000000.js", Some("br")).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert!(
        response.headers().get("cache-control").is_none(),
        "a 404 must not be cached for a year"
    );
}
