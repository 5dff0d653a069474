//! The public pages the server renders as HTML: one per participation
//! (`/p/{n}`), one per school (`/schools/{id}`), the school's secret page for
//! confirming that its books arrived, and the 404 page.
//!
//! Each page is a pure function from a plain view struct to
//! [`maud::Markup`]: the handlers fill the views from the store, the pages
//! only lay them out, so they are tested without a server. maud escapes
//! every value it interpolates, so names from an imported school list can
//! never become markup; the only raw HTML is this module's own CSS and the
//! QR code's SVG, which [`qrcode`] generates from a module grid.
//!
//! Text is Chinese first with English beside it, and the layout is one
//! narrow column that reads on a phone.

mod participation;
mod receive;
mod report;
mod school;

use maud::{DOCTYPE, Markup, PreEscaped, html};
use qrcode::{EcLevel, QrCode, render::svg};

use crate::share::meta::OpenGraph;

pub use participation::{ParticipationView, participation_page};
pub use receive::{ReceiveView, receive_page};
pub use report::report_page;
pub use school::{BookStage, BookView, SchoolView, school_page};

/// The site's name, in both languages.
const SITE_ZH: &str = "圆梦精灵图书馆";
const SITE_EN: &str = "Dream Fairy Library";

/// The only style sheet: small enough to inline, so a page is one request.
const CSS: &str = "\
*{box-sizing:border-box}\
body{margin:0 auto;max-width:40rem;padding:1rem;font:16px/1.6 system-ui,-apple-system,\"PingFang SC\",\"Microsoft YaHei\",\"Noto Sans CJK SC\",sans-serif;color:#222;background:#fffdf7}\
header a{color:#7a4b00;font-weight:bold;text-decoration:none}\
h1{font-size:1.5rem;line-height:1.3;margin:1rem 0 .5rem}\
h2{font-size:1.15rem;margin:1.5rem 0 .5rem}\
.en{color:#666;font-size:.9em}\
.card{background:#fff;border:1px solid #eadfc8;border-radius:.75rem;padding:1rem;margin:1rem 0}\
.card>:first-child{margin-top:0}.card>:last-child{margin-bottom:0}\
.place{color:#555}\
dl{display:grid;grid-template-columns:auto 1fr;gap:.25rem 1rem;margin:0}\
dt{color:#555}dd{margin:0}\
table{width:100%;border-collapse:collapse}\
th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid #eee}\
.stage{display:inline-block;border-radius:1rem;padding:0 .6rem;font-size:.85em;background:#eee}\
.stage-funded{background:#fff3c4}.stage-allocated{background:#dbeafe}\
.stage-shipped{background:#ede9fe}.stage-received{background:#d1fae5}\
.qr{text-align:center}.qr svg{width:12rem;height:12rem}\
.url{word-break:break-all;font-size:.85em;color:#555}\
.notice{background:#d1fae5;border-radius:.5rem;padding:.75rem}\
button{font:inherit;font-size:1.1rem;width:100%;padding:.8rem;border:0;border-radius:.6rem;background:#c2410c;color:#fff;cursor:pointer}\
button .en{color:inherit}\
progress{width:100%}\
footer{margin-top:2rem;color:#595959;font-size:.85em}\
";

/// Who may see a page, which decides what the page tells browsers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Audience {
    /// Anyone; search engines and sharing welcome.
    Public,
    /// Whoever holds a secret link: kept out of search engines, and no
    /// `Referer` carries the link to the sites it links to.
    SecretLink,
}

/// The frame around every page. `title` is shown in the browser's tab;
/// `open_graph` are the page's link-preview tags, if it has any.
fn layout(
    title: &str,
    audience: Audience,
    open_graph: Option<&OpenGraph>,
    content: Markup,
) -> Markup {
    html! {
        (DOCTYPE)
        html lang="zh-CN" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                // No icon to fetch (and no 404 for one).
                link rel="icon" type="image/svg+xml" href=(crate::static_files::FAVICON_SVG);
                @if audience == Audience::SecretLink {
                    meta name="robots" content="noindex, nofollow";
                    meta name="referrer" content="no-referrer";
                }
                title { (title) " · " (SITE_ZH) }
                @if let Some(open_graph) = open_graph {
                    (open_graph.tags())
                }
                style {
                    (PreEscaped(CSS))
                    (PreEscaped(crate::tables::TABLE_CSS))
                    (PreEscaped(crate::admin::chart::CHART_CSS))
                }
            }
            body {
                header { a href="/" { (SITE_ZH) " " span.en lang="en" { (SITE_EN) } } }
                main { (content) }
                footer {
                    "每一次参与都在为贫困县的孩子凑齐一本书。"
                    br;
                    span.en lang="en" {
                        "Every participation helps fund a book for a child in a poverty county."
                    }
                }
            }
        }
    }
}

/// Chinese text with its English translation beside it.
fn both(zh: &str, en: &str) -> Markup {
    html! { (zh) " " span.en lang="en" { (en) } }
}

/// A school's place, largest first as Chinese addresses are written:
/// `province prefecture county`.
fn place(school: &sim::wire::SchoolRef) -> Markup {
    html! {
        span.place {
            (school.province) " " (school.prefecture) " " (school.county)
        }
    }
}

/// The page for any address that names nothing (answered with 404).
pub fn not_found_page() -> Markup {
    layout(
        "页面不存在 Page not found",
        Audience::Public,
        None,
        html! {
            h1 { (both("页面不存在", "Page not found")) }
            p { (both("这个地址没有对应的页面。", "Nothing lives at this address.")) }
            p { a href="/" { (both("去玩一局，凑一本书", "Play a round, fund a book")) } }
        },
    )
}

/// A QR code of `url` as inline SVG, or `None` if the URL is too long for
/// any QR code (about 2,300 bytes at this error-correction level).
pub(crate) fn qr_code(url: &str) -> Option<Markup> {
    // Level M survives a smudged print-out and keeps the code small.
    let code = QrCode::with_error_correction_level(url.as_bytes(), EcLevel::M).ok()?;
    let image = code
        .render::<svg::Color<'_>>()
        .min_dimensions(192, 192)
        .dark_color(svg::Color("#222"))
        .light_color(svg::Color("#fff"))
        .build();
    // The renderer writes a standalone XML document; inline SVG in HTML
    // starts at the <svg> element.
    let start = image.find("<svg")?;
    Some(PreEscaped(image[start..].to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_404_page_says_so_in_both_languages() {
        let page = not_found_page().into_string();
        assert!(page.starts_with("<!DOCTYPE html>"), "a full document");
        assert!(page.contains("页面不存在"), "Chinese: {page}");
        assert!(page.contains("Page not found"), "English: {page}");
        assert!(page.contains("name=\"viewport\""), "mobile-friendly");
        assert!(
            !page.contains("noindex"),
            "public pages may be indexed: {page}"
        );
    }

    #[test]
    fn qr_codes_are_inline_svg_of_their_url() {
        let first = qr_code("https://example.org/p/1").expect("a short URL fits");
        let second = qr_code("https://example.org/p/2").expect("a short URL fits");
        let first = first.into_string();
        assert!(first.starts_with("<svg"), "inline, without an XML prolog");
        assert!(first.ends_with("</svg>"), "one complete element");
        assert!(first.contains("<path"), "dark modules are drawn");
        assert_ne!(
            first,
            second.into_string(),
            "different URLs give different codes"
        );
    }

    #[test]
    fn urls_too_long_for_a_qr_code_give_none() {
        let long = format!("https://example.org/{}", "x".repeat(5_000));
        assert!(qr_code(&long).is_none(), "no QR code holds 5,000 bytes");
    }
}
