//! The frame of every console page: the navigation (only the sections the
//! user's role may open: hiding is a courtesy, the server checks every
//! request anyway), the user and the sign-out button, and the pieces pages
//! share: the period selector, the pager, export links, the CSRF field.
//!
//! Chinese first with English beside it, like the public pages; one
//! column on a 360-pixel phone, wider on a desktop; tables scroll
//! sideways inside their box rather than stretching the page.

use axum::http::StatusCode;
use maud::{DOCTYPE, Markup, PreEscaped, html};

use super::session::SignedIn;
use crate::admin::chart::CHART_CSS;
use crate::domain::{Period, Preset, Role};
use crate::tables::TABLE_CSS;

/// The console's own style rules (the tables' and charts' follow).
const CSS: &str = "\
*{box-sizing:border-box}\
body{margin:0;font:15px/1.55 system-ui,-apple-system,\"PingFang SC\",\"Microsoft YaHei\",\"Noto Sans CJK SC\",sans-serif;color:#222;background:#fafaf7}\
a{color:#9a3412}\
header.top{background:#7c2d12;color:#fff;padding:.5rem 1rem;display:flex;flex-wrap:wrap;gap:.25rem 1rem;align-items:center}\
header.top a{color:#fff}\
header.top .brand{font-weight:bold;text-decoration:none;margin-right:auto}\
header.top form{display:inline;margin:0}\
header.top button{background:none;border:1px solid #fed7aa;color:#fff;padding:.1rem .6rem;border-radius:.4rem;font:inherit;cursor:pointer}\
nav.sections{background:#fff;border-bottom:1px solid #e7e5e4;padding:.25rem .5rem;display:flex;flex-wrap:wrap;gap:.1rem}\
nav.sections a{padding:.35rem .6rem;border-radius:.4rem;text-decoration:none;color:#444;white-space:nowrap}\
nav.sections a[aria-current]{background:#ffedd5;color:#7c2d12;font-weight:bold}\
main{max-width:72rem;margin:0 auto;padding:1rem}\
h1{font-size:1.35rem;margin:.25rem 0 .75rem}h2{font-size:1.1rem;margin:1.5rem 0 .5rem}\
.en{color:#666;font-size:.9em;font-weight:normal}\
.card{background:#fff;border:1px solid #e7e5e4;border-radius:.6rem;padding:.75rem 1rem;margin:.75rem 0}\
.card>:first-child{margin-top:0}.card>:last-child{margin-bottom:0}\
.stats{display:grid;grid-template-columns:repeat(auto-fit,minmax(9.5rem,1fr));gap:.5rem;margin:.75rem 0}\
.stat{background:#fff;border:1px solid #e7e5e4;border-radius:.6rem;padding:.5rem .75rem}\
.stat b{display:block;font-size:1.4rem;font-variant-numeric:tabular-nums}\
.scroll{overflow-x:auto;-webkit-overflow-scrolling:touch}\
.pair{display:grid;grid-template-columns:minmax(0,1fr);gap:0 1.5rem}\
.pair>*{min-width:0}\
@media (min-width:60rem){.pair{grid-template-columns:minmax(0,2fr) minmax(0,3fr)}}\
table.data th[scope=row]{white-space:nowrap}\
.scroll>table.data{width:max-content;min-width:100%}\
table.data th,table.data td{max-width:22rem}\
form.inline{display:flex;flex-wrap:wrap;gap:.5rem;align-items:flex-end}\
label{display:block;font-size:.9em;color:#444}\
input,select{font:inherit;padding:.35rem .5rem;border:1px solid #ccc;border-radius:.4rem;max-width:100%;background:#fff}\
form.stack label{margin:.5rem 0}form.stack input,form.stack select{width:100%}\
button,.button{font:inherit;padding:.4rem .9rem;border:0;border-radius:.45rem;background:#c2410c;color:#fff;cursor:pointer;text-decoration:none;display:inline-block}\
button.secondary{background:#e7e5e4;color:#222}\
button .en,.button .en{color:inherit}\
.presets{display:flex;flex-wrap:wrap;gap:.25rem;margin:.5rem 0}\
.presets a{padding:.15rem .55rem;border:1px solid #e7e5e4;border-radius:1rem;text-decoration:none;background:#fff;font-size:.9em}\
.presets a[aria-current]{background:#c2410c;color:#fff;border-color:#c2410c}\
.exports{font-size:.9em;margin:.25rem 0 .75rem}\
.exports a{margin-right:.5rem}\
.pager{display:flex;flex-wrap:wrap;gap:.5rem;align-items:center;margin:.5rem 0}\
.trail{font-size:.95em;margin:.25rem 0 .75rem}\
.notice{background:#d1fae5;border-radius:.5rem;padding:.6rem .8rem}\
.problem{background:#fee2e2;border-radius:.5rem;padding:.6rem .8rem}\
.muted{color:#666}\
dl{display:grid;grid-template-columns:auto 1fr;gap:.25rem 1rem;margin:0}dt{color:#555}dd{margin:0}\
.qr svg{width:11rem;height:11rem}\
.url{word-break:break-all;font-size:.85em;color:#555}\
@media print{header.top,nav.sections,.noprint{display:none}main{max-width:none;padding:0}body{background:#fff}}\
";

/// A part of the console, one item of the navigation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    /// The dashboard.
    Dashboard,
    /// The drill-down reports and the school pages.
    Reports,
    /// Sponsor pledges.
    Pledges,
    /// Shipments.
    Shipments,
    /// School list imports.
    Import,
    /// Sharing: what share links brought, and posters.
    Sharing,
    /// Users.
    Users,
    /// The audit log.
    Audit,
}

impl Section {
    /// Every section, in navigation order.
    pub const ALL: [Section; 8] = [
        Section::Dashboard,
        Section::Reports,
        Section::Pledges,
        Section::Shipments,
        Section::Import,
        Section::Sharing,
        Section::Users,
        Section::Audit,
    ];

    /// Where it lives.
    pub fn path(self) -> &'static str {
        use super::routes::paths;
        match self {
            Self::Dashboard => paths::DASHBOARD,
            Self::Reports => paths::REPORT,
            Self::Pledges => paths::PLEDGES,
            Self::Shipments => paths::SHIPMENTS,
            Self::Import => paths::IMPORT,
            Self::Sharing => paths::SHARING,
            Self::Users => paths::USERS,
            Self::Audit => paths::AUDIT,
        }
    }

    /// The least role that may open it.
    pub fn role(self) -> Role {
        match self {
            Self::Dashboard | Self::Reports | Self::Pledges | Self::Shipments | Self::Sharing => {
                Role::Viewer
            }
            Self::Import => Role::Operator,
            Self::Users | Self::Audit => Role::Admin,
        }
    }

    /// Its name in Chinese and English.
    pub fn names(self) -> (&'static str, &'static str) {
        match self {
            Self::Dashboard => ("概览", "Dashboard"),
            Self::Reports => ("报告", "Reports"),
            Self::Pledges => ("认捐", "Pledges"),
            Self::Shipments => ("发货", "Shipments"),
            Self::Import => ("导入名单", "Import"),
            Self::Sharing => ("分享", "Sharing"),
            Self::Users => ("用户", "Users"),
            Self::Audit => ("审计日志", "Audit log"),
        }
    }
}

/// Chinese text with its English beside it.
pub fn both(zh: &str, en: &str) -> Markup {
    html! { (zh) " " span.en lang="en" { (en) } }
}

fn head(title: &str) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            meta name="robots" content="noindex, nofollow";
            meta name="referrer" content="same-origin";
            link rel="icon" type="image/svg+xml" href=(crate::static_files::FAVICON_SVG);
            title { (title) " · 圆梦精灵图书馆 管理" }
            style { (PreEscaped(CSS)) (PreEscaped(TABLE_CSS)) (PreEscaped(CHART_CSS)) }
        }
    }
}

/// A console page for the signed-in user, in `section`.
pub fn page(signed: &SignedIn, section: Section, title: (&str, &str), content: Markup) -> Markup {
    let (zh, en) = title;
    html! {
        (DOCTYPE)
        html lang="zh-CN" {
            (head(&format!("{zh} {en}")))
            body {
                header.top {
                    a.brand href=(super::routes::paths::DASHBOARD) { "圆梦精灵图书馆 · 管理 " span lang="en" { "Admin" } }
                    span {
                        (signed.user.name.as_str()) " · " (signed.user.role.zh()) " " span lang="en" { (signed.user.role.en()) }
                    }
                    form method="post" action=(super::routes::paths::SIGN_OUT) {
                        (csrf_field(signed))
                        button type="submit" { "退出 " span lang="en" { "Sign out" } }
                    }
                }
                nav.sections aria-label="控制台 Console" {
                    @for item in Section::ALL {
                        @if signed.user.role.allows(item.role()) {
                            @let (item_zh, item_en) = item.names();
                            a href=(item.path()) aria-current=[(item == section).then_some("page")] {
                                (item_zh) " " span.en lang="en" { (item_en) }
                            }
                        }
                    }
                }
                main {
                    h1 { (both(zh, en)) }
                    (content)
                }
            }
        }
    }
}

/// A page with no navigation: sign-in, and answers to refused requests.
pub fn bare_page(title: (&str, &str), content: Markup) -> Markup {
    let (zh, en) = title;
    html! {
        (DOCTYPE)
        html lang="zh-CN" {
            (head(&format!("{zh} {en}")))
            body {
                header.top {
                    a.brand href=(super::routes::paths::DASHBOARD) { "圆梦精灵图书馆 · 管理 " span lang="en" { "Admin" } }
                }
                main { h1 { (both(zh, en)) } (content) }
            }
        }
    }
}

/// The answer to a refused or failed request.
pub fn message_page(status: StatusCode, zh: &str, en: &str, detail: Option<&str>) -> Markup {
    bare_page(
        (zh, en),
        html! {
            p.muted { "HTTP " (status.as_u16()) }
            @if let Some(detail) = detail { p.problem { (detail) } }
            p { a href=(super::routes::paths::DASHBOARD) { (both("返回概览", "Back to the dashboard")) } }
        },
    )
}

/// The hidden field that carries the session's CSRF token in a form.
pub fn csrf_field(signed: &SignedIn) -> Markup {
    html! { input type="hidden" name="csrf" value=(signed.csrf_token); }
}

/// `path` with `query` (either may be empty).
pub fn link(path: &str, query: &[&str]) -> String {
    let query: Vec<&str> = query
        .iter()
        .copied()
        .filter(|part| !part.is_empty())
        .collect();
    if query.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{}", query.join("&"))
    }
}

/// The period selector: dates, and the presets as links. `keep` is the
/// query of the other choices on the page (an area), kept by both.
pub fn period_selector(path: &str, keep: &str, period: Period) -> Markup {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(keep).unwrap_or_default();
    html! {
        div.card.noprint {
            form.inline method="get" action=(path) {
                @for (key, value) in &pairs {
                    input type="hidden" name=(key) value=(value);
                }
                label { (both("从", "From")) br; input type="date" name="from" value=(period.first().to_string()); }
                label { (both("至", "To")) br; input type="date" name="to" value=(period.last().to_string()); }
                button type="submit" { "查看 " span lang="en" { "Show" } }
            }
            div.presets {
                @for preset in Preset::ALL {
                    a href=(link(path, &[keep, &format!("preset={}", preset.key())]))
                        aria-current=[(period.chosen_preset() == Some(preset)).then_some("true")] {
                        (preset.zh()) " " span lang="en" { (preset.en()) }
                    }
                }
            }
            p.muted { (both("期间", "Period")) "：" (period.first()) " 至 " (period.last()) "（" (both("北京时间", "Beijing time")) "）" }
        }
    }
}

/// Links to download one table in each format: `export_path?query&format=…`.
pub fn export_links(export_path: &str, query: &str) -> Markup {
    html! {
        p.exports.noprint {
            (both("导出", "Export")) "："
            a href=(link(export_path, &[query, "format=xlsx"])) { "Excel (XLSX)" }
            a href=(link(export_path, &[query, "format=csv"])) { "CSV" }
            a href=(link(export_path, &[query, "format=json"])) { "JSON" }
        }
    }
}

/// Rows shown per page of a long list.
pub const PAGE_ROWS: u64 = 50;

/// Pages of `total` rows at [`PAGE_ROWS`] a page (at least 1).
pub fn pages(total: u64) -> u64 {
    total.div_ceil(PAGE_ROWS).max(1)
}

/// The pager of a long list on page `page` (from 1) of `total` rows;
/// `link_to` gives the address of a page.
pub fn pager(page: u64, total: u64, link_to: impl Fn(u64) -> String) -> Markup {
    let pages = pages(total);
    html! {
        @if pages > 1 {
            nav.pager.noprint aria-label="分页 Pages" {
                @if page > 1 { a href=(link_to(page - 1)) rel="prev" { "‹ 上一页 " span lang="en" { "Previous" } } }
                span { "第 " (page) " / " (pages) " 页 · 共 " (total) " 行 " span.en lang="en" { "page " (page) " of " (pages) ", " (total) " rows" } }
                @if page < pages { a href=(link_to(page + 1)) rel="next" { "下一页 › " span lang="en" { "Next" } } }
            }
        }
    }
}

/// An instant, in Beijing time to the minute (`2026-07-01 08:30`).
pub fn beijing_minute(unix_ms: u64) -> String {
    let instant = jiff::Timestamp::from_millisecond(i64::try_from(unix_ms).unwrap_or(i64::MAX))
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    jiff::tz::offset(8)
        .to_datetime(instant)
        .strftime("%Y-%m-%d %H:%M")
        .to_string()
}

/// An instant as a table cell.
pub fn instant_cell(unix_ms: u64) -> crate::tables::Cell {
    jiff::Timestamp::from_millisecond(i64::try_from(unix_ms).unwrap_or(i64::MAX))
        .map_or(crate::tables::Cell::Empty, crate::tables::Cell::DateTime)
}
