//! Sharing in the console: what share links brought (codes only, never a
//! person), and QR posters for classrooms and events.
//!
//! The figures are the public report's own ([`crate::store::Store::sharing`]);
//! a poster gets a share code of its own, so the class or event is credited,
//! and the PDF is the command line's (`server poster`), made by the same
//! function ([`crate::share::posters::make_poster`]).

use axum::Form;
use axum::extract::{Query, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use maud::html;
use serde::Deserialize;

use super::chart::{Bar, ChartTitle, bar_chart};
use super::error::{AdminError, AdminResult};
use super::export;
use super::layout::{self, Section, both, csrf_field, export_links};
use super::routes::paths;
use super::session::{Operator, RequireRole, Viewer};
use crate::allocation::SharingFigures;
use crate::domain::Role;
use crate::share::posters::{PosterFailure, make_poster};
use crate::state::AppState;
use crate::tables::{Cell, Column, ColumnKind, Filter, Table, attachment, to_html};

/// Longest poster label, in characters: one line under the headline.
const MAX_LABEL_CHARS: usize = 40;

/// The codes that referred the most players, as a table.
fn top_codes_table(figures: &SharingFigures) -> Table {
    let count = |key, zh, en, note_zh, note_en| Column {
        key,
        zh,
        en,
        kind: ColumnKind::Count,
        note_zh,
        note_en,
    };
    let mut table = Table::new(
        "分享带来的参与",
        "What share links brought",
        vec![
            Column {
                key: "code",
                zh: "分享码",
                en: "Share code",
                kind: ColumnKind::Id,
                note_zh: "分享链接 /s/{分享码} 中的码；不含任何个人信息",
                note_en: "The code of the share link /s/{code}; no personal data",
            },
            count(
                "referred_players",
                "带来的新玩家",
                "Players referred",
                "首次计入的一局经由该链接的玩家数",
                "Players whose first counted round came through the link",
            ),
            count(
                "participations",
                "经由链接的参与",
                "Participations via the link",
                "经由该链接计入的参与人次",
                "Participations counted through the link",
            ),
        ],
    )
    .with_filter(Filter::new("as_of", "截至", "As of", "现在 now"));
    for top in &figures.top_codes {
        // The columns are fixed above, so every row fits them.
        let _ = table.push_row(vec![
            Cell::id(&top.code),
            Cell::count(top.referred_players),
            Cell::count(top.participations),
        ]);
    }
    let _ = table.set_totals(vec![
        Cell::text("全部 All"),
        Cell::count(figures.referred_players),
        Cell::count(figures.participations_via_share),
    ]);
    table
}

/// The query of the sharing page and its export.
#[derive(Debug, Deserialize)]
pub struct SharingQuery {
    /// The export's format (`xlsx`, `csv`, `json`).
    format: Option<String>,
}

/// `GET /admin/sharing`: what share links brought, and the poster form.
pub async fn show_sharing(
    State(state): State<AppState>,
    RequireRole(signed, ..): RequireRole<Viewer>,
) -> AdminResult<Response> {
    let figures = state.store.sharing().await?;
    let participations = state.store.totals().borrow().participations;
    let share = crate::tables::Share {
        part: figures.participations_via_share,
        whole: participations,
    };
    let bars: Vec<(String, u64)> = figures
        .top_codes
        .iter()
        .map(|top| (top.code.clone(), top.referred_players))
        .collect();
    let content = html! {
        div.stats {
            div.stat { (both("经由分享的参与", "Via share links")) b { (figures.participations_via_share) } }
            div.stat { (both("占全部参与", "Share of all")) b { (share.percent_text().unwrap_or_else(|| "—".into())) } }
            div.stat { (both("带来的新玩家", "Players referred")) b { (figures.referred_players) } }
        }
        p.note {
            (both(
                "分享只是一种感谢：它不资助、不解锁任何东西。这里只列出分享码，不含任何个人信息。",
                "Sharing is recognition only: it funds and unlocks nothing. Only codes are listed, no personal data.",
            ))
        }
        h2 { (both("带来新玩家最多的分享码", "Codes that referred the most players")) }
        div.pair {
            div {
                (bar_chart(
                    &ChartTitle { id: "top-codes", zh: "各分享码带来的新玩家", en: "Players referred by code" },
                    &bars.iter().map(|(label, value)| Bar { label, value: *value }).collect::<Vec<_>>(),
                ))
            }
            div {
                div.scroll { (to_html(&top_codes_table(&figures))) }
                (export_links(paths::SHARING_EXPORT, ""))
            }
        }
        @if signed.user.role.allows(Role::Operator) {
            h2 { (both("班级 / 活动海报", "Posters for a class or an event")) }
            p {
                (both(
                    "每张海报有自己的分享码：记在班级或活动名下，而不是某个人。A4 PDF，二维码不小于 80 毫米，可复印。",
                    "Each poster gets a share code of its own, credited to the class or event, not a person. A4 PDF, a QR code of at least 80 mm that survives photocopying.",
                ))
            }
            form method="post" action=(paths::SHARING_POSTER) {
                (csrf_field(&signed))
                label {
                    (both("班级或活动（可不填）", "Class or event (optional)"))
                    input type="text" name="label" maxlength=(MAX_LABEL_CHARS) placeholder="三年级二班";
                }
                button type="submit" { (both("制作海报", "Make a poster")) }
            }
        }
    };
    Ok(layout::page(&signed, Section::Sharing, ("分享", "Sharing"), content).into_response())
}

/// `GET /admin/sharing/export?format=…`: the top codes' table.
pub async fn export_sharing(
    State(state): State<AppState>,
    RequireRole(signed, ..): RequireRole<Viewer>,
    Query(query): Query<SharingQuery>,
) -> AdminResult<Response> {
    let format = export::format(query.format.as_deref())?;
    let table = top_codes_table(&state.store.sharing().await?);
    export::download(&state, &signed, table, "分享码", format).await
}

/// The poster form (its one field is always sent, empty for no label).
#[derive(Debug, Deserialize)]
pub struct PosterForm {
    /// The class or event; empty for none.
    label: String,
}

/// `POST /admin/sharing/poster`: a new code and its poster, as a PDF
/// download (audited).
pub async fn make_poster_pdf(
    State(state): State<AppState>,
    RequireRole(signed, ..): RequireRole<Operator>,
    headers: HeaderMap,
    Form(form): Form<PosterForm>,
) -> AdminResult<Response> {
    let label = form.label.trim();
    if label.chars().count() > MAX_LABEL_CHARS
        || crate::tables::starts_like_formula(label)
        || label.chars().any(char::is_control)
    {
        return Err(AdminError::BadRequest(format!(
            "班级或活动名称最多 {MAX_LABEL_CHARS} 个字，且不以 = + - @ 开头 / \
             a label is at most {MAX_LABEL_CHARS} characters, not starting with = + - @"
        )));
    }
    let fonts = state
        .cards
        .fonts()
        .cloned()
        .ok_or_else(|| AdminError::Export("海报字体缺失：请运行 cargo xtask dist / the poster font is missing: run cargo xtask dist".into()))?;
    let base_url = state.public_base_url(&headers);
    let label = (!label.is_empty()).then(|| label.to_owned());
    let poster = make_poster(
        state.store.as_ref(),
        fonts,
        &base_url,
        label,
        signed.actor(),
    )
    .await
    .map_err(|failure| match failure {
        PosterFailure::Store(error) => AdminError::Store(error),
        other => AdminError::Export(other.to_string()),
    })?;
    Ok((
        [
            (CONTENT_TYPE, HeaderValue::from_static("application/pdf")),
            (
                CONTENT_DISPOSITION,
                attachment(&format!("海报-{}", poster.code), "pdf"),
            ),
            (CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        poster.pdf,
    )
        .into_response())
}
