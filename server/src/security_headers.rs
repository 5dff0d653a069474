//! The security headers every answer carries, set in one place.
//!
//! - `X-Content-Type-Options: nosniff` and `Referrer-Policy: same-origin` on
//!   every answer.
//! - A `Content-Security-Policy` on every answer. An HTML page may load
//!   only from this origin, and run or apply only its own inline `<script>`
//!   and `<style>` elements, each allowed by its SHA-256 ([`page_policy`]);
//!   no page may be framed by another site. Anything else (JSON, images,
//!   downloads) gets `default-src 'none'`: if a browser ever rendered it, it
//!   could run nothing.
//!
//! The page's hashes are taken from the page itself as it is sent, so a
//! changed template can never be blocked by a stale list. Pages compressed
//! by their route (the game page) set their policy before compression with
//! the same [`page_policy`]; the middleware leaves an existing policy alone.

use axum::body::Body;
use axum::extract::Request;
use axum::http::header::{CONTENT_ENCODING, CONTENT_SECURITY_POLICY, CONTENT_TYPE};
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use sha2::{Digest as _, Sha256};

/// Policy of everything that is not an HTML page.
const NOT_A_PAGE: HeaderValue =
    HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'; base-uri 'none'");

/// Adds the security headers to `next`'s answer (an `axum::middleware::from_fn`).
pub async fn add_security_headers(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let (mut parts, body) = response.into_parts();
    let headers = &mut parts.headers;
    headers.insert(
        HeaderName::from_static("x-content-type-options"),
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        HeaderName::from_static("referrer-policy"),
        HeaderValue::from_static("same-origin"),
    );
    if headers.contains_key(CONTENT_SECURITY_POLICY) {
        return Response::from_parts(parts, body);
    }
    let is_html = headers
        .get(CONTENT_TYPE)
        .is_some_and(|value| value.as_bytes().starts_with(b"text/html"));
    if !is_html || headers.contains_key(CONTENT_ENCODING) {
        headers.insert(CONTENT_SECURITY_POLICY, NOT_A_PAGE);
        return Response::from_parts(parts, body);
    }
    // Server pages are made whole in memory, so reading them back costs a
    // copy, not a wait.
    match axum::body::to_bytes(body, usize::MAX).await {
        Ok(bytes) => {
            let policy = page_policy(&String::from_utf8_lossy(&bytes));
            parts.headers.insert(CONTENT_SECURITY_POLICY, policy);
            Response::from_parts(parts, Body::from(bytes))
        }
        Err(error) => {
            tracing::error!(%error, "cannot read a page to sign its inline elements");
            axum::http::StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// The `Content-Security-Policy` of an HTML `page`: its own origin only
/// (WebAssembly compiled from it included), plus its inline `<script>` and
/// `<style>` elements by hash.
pub fn page_policy(page: &str) -> HeaderValue {
    let scripts = inline_element_hashes(page, "script");
    let styles = inline_element_hashes(page, "style");
    let policy = format!(
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'{scripts}; \
         style-src 'self'{styles}; img-src 'self' data: blob:; connect-src 'self'; \
         object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    );
    HeaderValue::from_str(&policy).expect("hashes are base64, the rest is ASCII")
}

/// `" 'sha256-…'"` for the content of every inline `<tag>` element of
/// `page` (one with a `src` attribute loads a file and needs no hash).
fn inline_element_hashes(page: &str, tag: &str) -> String {
    let (open, close) = (format!("<{tag}"), format!("</{tag}>"));
    let mut hashes = String::new();
    let mut rest = page;
    while let Some(start) = rest.find(&open) {
        let after_name = &rest[start + open.len()..];
        // `<scripts>` or `<styled-box>` are other elements.
        if !after_name.starts_with(['>', ' ', '\t', '\n', '\r']) {
            rest = after_name;
            continue;
        }
        let Some(tag_end) = after_name.find('>') else {
            break;
        };
        let attributes = &after_name[..tag_end];
        let content_and_rest = &after_name[tag_end + 1..];
        let Some(content_end) = content_and_rest.find(&close) else {
            break;
        };
        if !attributes.contains("src=") {
            let digest = Sha256::digest(&content_and_rest.as_bytes()[..content_end]);
            hashes.push_str(" 'sha256-");
            hashes.push_str(&base64::engine::general_purpose::STANDARD.encode(digest));
            hashes.push('\'');
        }
        rest = &content_and_rest[content_end + close.len()..];
    }
    hashes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sha256_base64(text: &str) -> String {
        base64::engine::general_purpose::STANDARD.encode(Sha256::digest(text.as_bytes()))
    }

    #[test]
    fn every_inline_script_and_style_is_allowed_by_its_hash() {
        let page = "<html><head><style>body{color:red}</style>\
                    <script src=\"/static/game.js\"></script>\
                    <script type=\"module\">run()</script></head>\
                    <body><styled-box></styled-box><script>\nlet a = 1;\n</script></body></html>";
        let policy = page_policy(page);
        let policy = policy.to_str().unwrap();
        let script_src = policy
            .split("; ")
            .find(|directive| directive.starts_with("script-src"))
            .unwrap();
        assert_eq!(
            script_src,
            format!(
                "script-src 'self' 'wasm-unsafe-eval' 'sha256-{}' 'sha256-{}'",
                sha256_base64("run()"),
                sha256_base64("\nlet a = 1;\n")
            )
        );
        assert!(
            policy.contains(&format!(
                "style-src 'self' 'sha256-{}';",
                sha256_base64("body{color:red}")
            )),
            "{policy}"
        );
        assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
        assert!(!policy.contains("unsafe-inline"), "{policy}");
    }

    #[test]
    fn a_page_without_inline_elements_allows_none() {
        let policy = page_policy("<p>only text</p>");
        assert!(
            policy
                .to_str()
                .unwrap()
                .contains("script-src 'self' 'wasm-unsafe-eval'; style-src 'self';"),
            "{policy:?}"
        );
    }

    #[test]
    fn an_unclosed_element_ends_the_search_without_panicking() {
        let policy = page_policy("<script>never closed <style");
        assert!(!policy.to_str().unwrap().contains("sha256"), "{policy:?}");
    }
}
