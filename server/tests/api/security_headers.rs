//! The security headers: on the game page, an API answer and a server page.

use reqwest::StatusCode;
use reqwest::header::HeaderMap;

use crate::helpers::{Db, spawn_app};

// Headers do not depend on the ledger: these run on SQLite only.

/// The page's policy, split into directives.
fn directives(headers: &HeaderMap) -> Vec<String> {
    let policy = headers["content-security-policy"].to_str().unwrap();
    policy
        .split(';')
        .map(|part| part.trim().to_owned())
        .collect()
}

fn assert_common_headers(headers: &HeaderMap, what: &str) {
    assert_eq!(headers["x-content-type-options"], "nosniff", "{what}");
    assert_eq!(headers["referrer-policy"], "same-origin", "{what}");
    let directives = directives(headers);
    assert!(
        directives.contains(&"frame-ancestors 'none'".to_owned()),
        "{what}: {directives:?}"
    );
    assert!(
        !directives
            .iter()
            .any(|directive| directive.contains("unsafe-inline")
                || directive.contains("http:")
                || directive.contains("https:")
                || directive.contains('*')),
        "{what}: nothing inline by default, nothing from another origin: {directives:?}"
    );
}

/// `'sha256-…'` of `text`, as a policy names it.
fn source_hash(text: &str) -> String {
    use base64::Engine as _;
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(text.as_bytes());
    format!(
        "'sha256-{}'",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

#[tokio::test]
async fn the_game_page_allows_its_own_inline_script_and_style_by_hash_even_compressed() {
    let app = spawn_app(Db::Sqlite).await;
    std::fs::create_dir_all(&app.config.dist).unwrap();
    let (script, style) = ("window.started = 1;", "body{margin:0}");
    std::fs::write(
        app.config.dist.join("index.html"),
        format!(
            "<!doctype html><title>圆梦精灵图书馆</title><!-- share-meta -->\
             <style>{style}</style><script type=\"module\">{script}</script>"
        ),
    )
    .unwrap();
    for accept_encoding in ["identity", "br"] {
        let response = app
            .client
            .get(app.url("/"))
            .header("accept-encoding", accept_encoding)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let headers = response.headers();
        assert_common_headers(headers, accept_encoding);
        let directives = directives(headers);
        assert!(
            directives.contains(&format!(
                "script-src 'self' 'wasm-unsafe-eval' {}",
                source_hash(script)
            )),
            "{accept_encoding}: {directives:?}"
        );
        assert!(
            directives.contains(&format!("style-src 'self' {}", source_hash(style))),
            "{accept_encoding}: {directives:?}"
        );
        assert!(directives.contains(&"default-src 'self'".to_owned()));
    }
}

#[tokio::test]
async fn an_api_answer_may_run_nothing() {
    let app = spawn_app(Db::Sqlite).await;
    let response = app.client.get(app.url("/api/totals")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_common_headers(response.headers(), "/api/totals");
    assert!(
        directives(response.headers()).contains(&"default-src 'none'".to_owned()),
        "{:?}",
        response.headers()
    );
}

#[tokio::test]
async fn a_server_page_allows_exactly_its_own_style_and_its_icon_is_served() {
    let app = spawn_app(Db::Sqlite).await;
    for path in ["/report", "/admin/login"] {
        let response = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let headers = response.headers().clone();
        assert_common_headers(&headers, path);
        let page = response.text().await.unwrap();
        let style = page
            .split_once("<style>")
            .and_then(|(_, rest)| rest.split_once("</style>"))
            .map(|(style, _)| style)
            .expect("the page has its style inline");
        let directives = directives(&headers);
        let style_src = directives
            .iter()
            .find(|directive| directive.starts_with("style-src 'self' "))
            .expect("a style-src");
        assert!(
            style_src.contains(&source_hash(style)),
            "{path}: {directives:?}"
        );
        assert!(
            directives.contains(&"script-src 'self' 'wasm-unsafe-eval'".to_owned()),
            "{path}: no inline script on a server page: {directives:?}"
        );
        assert!(
            page.contains("href=\"/favicon.svg\""),
            "{path} links the icon"
        );
    }
    for path in ["/favicon.svg", "/favicon.ico"] {
        let response = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert_eq!(
            response.headers()["content-type"],
            "image/svg+xml",
            "{path}"
        );
        assert!(response.text().await.unwrap().starts_with("<svg"), "{path}");
    }
}
