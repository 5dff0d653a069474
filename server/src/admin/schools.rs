//! `/admin/schools/{id}`: one school, its books allocated, shipped and
//! received against its target, every book with its lifecycle dates (a
//! long list, paginated), and, for operators, the QR code of its receipt
//! link (the link is the school's credential, so viewers do not see it).

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use maud::html;
use serde::Deserialize;

use super::error::{AdminError, AdminResult};
use super::export;
use super::layout::{self, PAGE_ROWS, Section, both, export_links, link, pager};
use super::routes::paths;
use super::session::{RequireRole, Viewer};
use crate::allocation::{BookState, SchoolTally};
use crate::domain::Role;
use crate::state::AppState;
use crate::store::admin::{BookLifecycle, Window};
use crate::tables::{Cell, Column, ColumnKind, Filter, Table, to_html};

/// A book state in both languages.
fn state_text(state: BookState) -> &'static str {
    match state {
        BookState::Funded => "已资助 funded",
        BookState::Allocated => "已分配 allocated",
        BookState::Shipped => "已发货 shipped",
        BookState::Received => "已收到 received",
    }
}

fn books_table(tally: &SchoolTally, books: &[BookLifecycle]) -> Table {
    let column = |key, zh, en, kind, note_zh, note_en| Column {
        key,
        zh,
        en,
        kind,
        note_zh,
        note_en,
    };
    let mut table = Table::new(
        "学校图书",
        "The school's books",
        vec![
            column(
                "book",
                "书号",
                "Book",
                ColumnKind::Count,
                "图书在活动中的编号",
                "The book's number in the campaign",
            ),
            column(
                "state",
                "状态",
                "State",
                ColumnKind::Text,
                "图书当前所处的阶段",
                "Where the book is now",
            ),
            column(
                "funded_at",
                "资助时间",
                "Funded",
                ColumnKind::DateTime,
                "凑齐参与人次、获资助的时间",
                "When it was funded",
            ),
            column(
                "allocated_at",
                "分配时间",
                "Allocated",
                ColumnKind::DateTime,
                "分配给本校的时间",
                "When it was allocated to the school",
            ),
            column(
                "shipment",
                "发货单",
                "Shipment",
                ColumnKind::Count,
                "所在发货单",
                "Its shipment",
            ),
            column(
                "shipped_on",
                "发出日期",
                "Shipped on",
                ColumnKind::Date,
                "发货单发出的日期",
                "The day its shipment left",
            ),
            column(
                "received_at",
                "收到时间",
                "Received",
                ColumnKind::DateTime,
                "学校确认收到的时间",
                "When the school confirmed it",
            ),
        ],
    )
    .with_filter(Filter::new(
        "school",
        "学校",
        "School",
        format!("{} {}", tally.school.id, tally.school.name),
    ));
    for book in books {
        let _ = table.push_row(vec![
            Cell::count(book.book),
            Cell::text(state_text(book.state)),
            layout::instant_cell(book.funded_at_ms),
            book.allocated_at_ms
                .map_or(Cell::Empty, layout::instant_cell),
            book.shipment.map_or(Cell::Empty, Cell::count),
            book.shipped_on
                .map_or(Cell::Empty, |day| Cell::Date(day.date())),
            book.received_at_ms
                .map_or(Cell::Empty, layout::instant_cell),
        ]);
    }
    table
}

/// The school page's query.
#[derive(Debug, Default, Deserialize)]
pub struct SchoolQuery {
    page: Option<u64>,
    format: Option<String>,
}

/// `GET /admin/schools/{id}`.
pub async fn show_school(
    State(state): State<AppState>,
    RequireRole(signed, ..): RequireRole<Viewer>,
    Path(id): Path<String>,
    Query(query): Query<SchoolQuery>,
    headers: HeaderMap,
) -> AdminResult<Response> {
    let admin = state.store.admin();
    let (tally, secret) = admin
        .school_with_secret(&id)
        .await?
        .ok_or(AdminError::NotFound)?;
    let page = query.page.unwrap_or(1).max(1);
    let books = admin
        .school_lifecycle(
            &id,
            Window {
                offset: (page - 1) * PAGE_ROWS,
                limit: PAGE_ROWS,
            },
        )
        .await?;
    let school = &tally.school;
    let own = paths::SCHOOL.replace("{school_id}", &school.id);
    let receipt_url = format!("{}/receive/{secret}", state.public_base_url(&headers));
    let operator = signed.user.role.allows(Role::Operator);
    let content = html! {
        p.trail {
            a href=(link(paths::REPORT, &[&format!("county={}", school.county_code)])) {
                (school.province) " " (school.prefecture) " " (school.county)
            }
        }
        h2 { (school.name) " " span.muted { (school.id) } }
        div.stats {
            div.stat { (both("学生", "Pupils")) b { (tally.pupils) } }
            div.stat { (both("目标册数", "Target")) b { (tally.target_books) } }
            div.stat { (both("已分配", "Allocated")) b { (tally.allocated) } }
            div.stat { (both("已发货", "Shipped")) b { (tally.shipped) } }
            div.stat { (both("已收到", "Received")) b { (tally.received) } }
        }
        div.pair {
            div {
                div.scroll { (to_html(&books_table(&tally, &books.rows))) }
                (pager(page, books.total, |page| link(&own, &[&format!("page={page}")])))
                (export_links(&format!("{own}/export"), ""))
                p {
                    a href=(link(paths::SHIPMENTS, &[&format!("school={}", school.id)])) { (both("本校发货单", "This school's shipments")) }
                    " · "
                    a href=(format!("/schools/{}", school.id)) { (both("公开页面", "Public page")) }
                }
            }
            div {
                @if operator {
                    figure.card.qr {
                        @if let Some(code) = crate::pages::qr_code(&receipt_url) { (code) }
                        figcaption {
                            (both("学校确认收货链接", "The school's receipt link"))
                            br; span.url { (receipt_url) }
                        }
                    }
                } @else {
                    p.muted { (both("收货链接仅操作员可见。", "Only operators see the receipt link.")) }
                }
            }
        }
    };
    Ok(layout::page(&signed, Section::Reports, ("学校", "School"), content).into_response())
}

/// `GET /admin/schools/{id}/export`: every book of the school.
pub async fn export_school(
    State(state): State<AppState>,
    RequireRole(signed, ..): RequireRole<Viewer>,
    Path(id): Path<String>,
    Query(query): Query<SchoolQuery>,
) -> AdminResult<Response> {
    let format = export::format(query.format.as_deref())?;
    let admin = state.store.admin();
    let (tally, _) = admin
        .school_with_secret(&id)
        .await?
        .ok_or(AdminError::NotFound)?;
    let books = admin
        .school_lifecycle(&id, Window::all(export::MAX_ROWS))
        .await?;
    let stem = format!("学校图书-{}-{}", tally.school.id, tally.school.name);
    export::download(
        &state,
        &signed,
        books_table(&tally, &books.rows),
        &stem,
        format,
    )
    .await
}
