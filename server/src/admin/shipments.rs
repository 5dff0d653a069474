//! `/admin/shipments`: every shipment with whether its school confirmed
//! it, and (operators) marking books shipped: choose the allocated books
//! by school, county or book range, see what that takes school by school,
//! then record carrier, tracking number and day. Each school gets a
//! shipment of its own, with a printable sheet that carries the school's
//! receipt QR code.

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use serde::Deserialize;

use super::dashboard::school_link;
use super::error::{AdminError, AdminResult};
use super::export;
use super::layout::{self, PAGE_ROWS, Section, both, csrf_field, export_links, link, pager};
use super::routes::paths;
use super::session::{Operator, RequireRole, Viewer};
use crate::domain::{ChinaDay, Role};
use crate::state::AppState;
use crate::store::ShipRequest;
use crate::store::admin::{BookSelection, ShipmentDetails, ShipmentFilter, ShipmentRecord, Window};
use crate::tables::{Cell, Column, ColumnKind, Filter, Table, starts_like_formula, to_html};

/// The page of a shipment's sheet.
fn sheet_link(id: u64) -> String {
    paths::SHIPMENT_SHEET.replace("{shipment_id}", &id.to_string())
}

/// Shipments as a table.
pub fn shipments_table(shipments: &[ShipmentRecord]) -> Table {
    let column = |key, zh, en, kind, note_zh, note_en| Column {
        key,
        zh,
        en,
        kind,
        note_zh,
        note_en,
    };
    let mut table = Table::new(
        "发货单",
        "Shipments",
        vec![
            column(
                "shipment",
                "发货单",
                "Shipment",
                ColumnKind::Count,
                "发货单编号",
                "The shipment's number",
            ),
            column(
                "school",
                "学校",
                "School",
                ColumnKind::Text,
                "收货学校",
                "The school it goes to",
            ),
            column(
                "county",
                "县",
                "County",
                ColumnKind::Text,
                "学校所在县",
                "The school's county",
            ),
            column(
                "books",
                "册数",
                "Books",
                ColumnKind::Count,
                "本单图书册数",
                "Books in it",
            ),
            column(
                "book_range",
                "书号",
                "Book numbers",
                ColumnKind::Text,
                "首本至末本书号",
                "First to last book number",
            ),
            column(
                "carrier",
                "承运",
                "Carrier",
                ColumnKind::Text,
                "快递或物流公司",
                "The carrier",
            ),
            column(
                "tracking",
                "运单号",
                "Tracking",
                ColumnKind::Id,
                "运单号",
                "The tracking number",
            ),
            column(
                "shipped_on",
                "发出日期",
                "Shipped on",
                ColumnKind::Date,
                "发出的日期（北京时间）",
                "The day it left (Beijing time)",
            ),
            column(
                "confirmed_at",
                "学校确认",
                "Confirmed",
                ColumnKind::DateTime,
                "学校确认收货的时间；空为未确认",
                "When the school confirmed it; empty if not yet",
            ),
        ],
    );
    for shipment in shipments {
        let school = shipment.school.as_ref();
        let _ = table.push_linked_row(
            vec![
                Cell::count(shipment.id),
                Cell::text(school.map_or("（多校 several）".to_owned(), |s| s.name.clone())),
                Cell::text(
                    school.map_or(String::new(), |s| format!("{} {}", s.province, s.county)),
                ),
                Cell::count(shipment.books),
                Cell::text(format!("{}-{}", shipment.first_book, shipment.last_book)),
                shipment
                    .details
                    .carrier
                    .clone()
                    .map_or(Cell::Empty, Cell::Text),
                shipment
                    .details
                    .tracking
                    .clone()
                    .map_or(Cell::Empty, Cell::Id),
                shipment
                    .details
                    .shipped_on
                    .map_or(Cell::Empty, |day| Cell::Date(day.date())),
                shipment
                    .confirmed_at_ms
                    .map_or(Cell::Empty, layout::instant_cell),
            ],
            sheet_link(shipment.id),
        );
    }
    table
}

/// The shipments page's query.
#[derive(Debug, Default, Deserialize)]
pub struct ShipmentsQuery {
    /// `confirmed`, `unconfirmed` or nothing for all.
    status: Option<String>,
    /// Only this school.
    school: Option<String>,
    page: Option<u64>,
    /// After marking: the shipments made, comma-separated.
    made: Option<String>,
    format: Option<String>,
}

impl ShipmentsQuery {
    fn filter(&self) -> ShipmentFilter {
        ShipmentFilter {
            school: self.school.clone().filter(|school| !school.is_empty()),
            confirmed: match self.status.as_deref() {
                Some("confirmed") => Some(true),
                Some("unconfirmed") => Some(false),
                _ => None,
            },
            shipped_by: None,
        }
    }

    fn query(&self) -> String {
        let mut pairs = Vec::new();
        if let Some(status) = self.status.as_deref().filter(|s| !s.is_empty()) {
            pairs.push(("status", status));
        }
        if let Some(school) = self.school.as_deref().filter(|s| !s.is_empty()) {
            pairs.push(("school", school));
        }
        serde_urlencoded::to_string(pairs).unwrap_or_default()
    }

    fn filtered(&self, table: Table) -> Table {
        let status = match self.status.as_deref() {
            Some("confirmed") => "已确认 confirmed",
            Some("unconfirmed") => "未确认 unconfirmed",
            _ => "全部 all",
        };
        let table = table.with_filter(Filter::new("status", "状态", "Status", status));
        match self.school.as_deref().filter(|s| !s.is_empty()) {
            Some(school) => table.with_filter(Filter::new("school", "学校", "School", school)),
            None => table,
        }
    }
}

/// `GET /admin/shipments`.
pub async fn show_shipments(
    State(state): State<AppState>,
    RequireRole(signed, ..): RequireRole<Viewer>,
    Query(query): Query<ShipmentsQuery>,
) -> AdminResult<Response> {
    let page = query.page.unwrap_or(1).max(1);
    let shipments = state
        .store
        .admin()
        .shipments(
            &query.filter(),
            Window {
                offset: (page - 1) * PAGE_ROWS,
                limit: PAGE_ROWS,
            },
        )
        .await?;
    let table = query.filtered(shipments_table(&shipments.rows));
    let keep = query.query();
    let made: Vec<u64> = query
        .made
        .as_deref()
        .unwrap_or_default()
        .split(',')
        .filter_map(|id| id.parse().ok())
        .collect();
    let content = html! {
        @if !made.is_empty() {
            div.notice role="status" {
                "已标记发货，请打印各校发货单：" span lang="en" { "Marked shipped; print each school's sheet:" }
                " "
                @for id in &made { a href=(sheet_link(*id)) { "#" (id) } " " }
            }
        }
        @if signed.user.role.allows(Role::Operator) {
            h2 { (both("标记发货", "Mark books shipped")) }
            form.inline.card method="get" action=(paths::NEW_SHIPMENT) {
                label { (both("按", "By")) br;
                    select name="by" {
                        option value="school" { "学校编号 School id" }
                        option value="county" { "县代码 County code" }
                        option value="books" { "书号范围 Book range (1-100)" }
                    }
                }
                label { (both("值", "Value")) br; input type="text" name="value" required; }
                button type="submit" { "查看待发图书 " span lang="en" { "See the books" } }
            }
        }
        h2 { (both("发货单", "Shipments")) }
        form.inline.noprint method="get" action=(paths::SHIPMENTS) {
            label { (both("状态", "Status")) br;
                select name="status" {
                    option value="" { "全部 All" }
                    option value="unconfirmed" selected[query.status.as_deref() == Some("unconfirmed")] { "未确认 Unconfirmed" }
                    option value="confirmed" selected[query.status.as_deref() == Some("confirmed")] { "已确认 Confirmed" }
                }
            }
            label { (both("学校编号", "School id")) br; input type="text" name="school" value=(query.school.clone().unwrap_or_default()); }
            button.secondary type="submit" { "筛选 " span lang="en" { "Filter" } }
        }
        div.scroll { (to_html(&table)) }
        (pager(page, shipments.total, |page| link(paths::SHIPMENTS, &[&keep, &format!("page={page}")])))
        (export_links(paths::SHIPMENTS_EXPORT, &keep))
    };
    Ok(layout::page(&signed, Section::Shipments, ("发货", "Shipments"), content).into_response())
}

/// `GET /admin/shipments/export`: every shipment the filters keep.
pub async fn export_shipments(
    State(state): State<AppState>,
    RequireRole(signed, ..): RequireRole<Viewer>,
    Query(query): Query<ShipmentsQuery>,
) -> AdminResult<Response> {
    let format = export::format(query.format.as_deref())?;
    let shipments = state
        .store
        .admin()
        .shipments(&query.filter(), Window::all(export::MAX_ROWS))
        .await?;
    let table = query.filtered(shipments_table(&shipments.rows));
    export::download(&state, &signed, table, "发货单", format).await
}

/// A selection of books as the forms name it.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct SelectionForm {
    by: String,
    value: String,
}

impl SelectionForm {
    fn parse(&self) -> AdminResult<BookSelection> {
        let value = self.value.trim();
        let bad = |message: &str| Err(AdminError::BadRequest(message.to_owned()));
        if value.is_empty() {
            return bad(
                "请填写学校编号、县代码或书号范围 / enter a school id, a county code or a book range",
            );
        }
        match self.by.as_str() {
            "school" => Ok(BookSelection::School(value.to_owned())),
            "county" => Ok(BookSelection::County(value.to_owned())),
            "books" => {
                let number = |part: &str| part.trim().parse::<u64>().ok();
                let range = match value.split_once('-') {
                    Some((first, last)) => number(first).zip(number(last)),
                    None => number(value).map(|n| (n, n)),
                };
                match range {
                    Some((first, last)) if first >= 1 && first <= last => {
                        Ok(BookSelection::Books(first..=last))
                    }
                    _ => bad("书号范围应为“首-末”，从 1 起 / a book range is FIRST-LAST, from 1"),
                }
            }
            _ => bad("按学校、县或书号选择 / choose by school, county or books"),
        }
    }
}

/// `GET /admin/shipments/new?by=…&value=…`: the allocated books the
/// selection takes, school by school, and the form that ships them.
pub async fn preview_shipment(
    State(state): State<AppState>,
    RequireRole(signed, ..): RequireRole<Operator>,
    Query(selection_form): Query<SelectionForm>,
) -> AdminResult<Response> {
    let selection = selection_form.parse()?;
    let books = state.store.admin().allocated_books(&selection).await?;
    let mut by_school: std::collections::BTreeMap<&str, Vec<u64>> = Default::default();
    for (book, school) in &books {
        by_school.entry(school).or_default().push(*book);
    }
    let mut table = Table::new(
        "待发图书",
        "Books to ship",
        vec![
            Column {
                key: "school_id",
                zh: "学校编号",
                en: "School id",
                kind: ColumnKind::Id,
                note_zh: "学校名单中的编号",
                note_en: "The school's id",
            },
            Column {
                key: "books",
                zh: "册数",
                en: "Books",
                kind: ColumnKind::Count,
                note_zh: "已分配、未发货的册数",
                note_en: "Books allocated, not shipped",
            },
            Column {
                key: "book_range",
                zh: "书号",
                en: "Book numbers",
                kind: ColumnKind::Text,
                note_zh: "首本至末本书号",
                note_en: "First to last book number",
            },
        ],
    )
    .with_filter(Filter::new(
        "selection",
        "选择",
        "Selection",
        selection.to_string(),
    ));
    for (school, numbers) in &by_school {
        let _ = table.push_linked_row(
            vec![
                Cell::id(*school),
                Cell::count(numbers.len() as u64),
                Cell::text(format!(
                    "{}-{}",
                    numbers.first().copied().unwrap_or_default(),
                    numbers.last().copied().unwrap_or_default()
                )),
            ],
            school_link(school),
        );
    }
    let _ = table.set_totals(vec![
        Cell::text(format!("{} 所 schools", by_school.len())),
        Cell::count(books.len() as u64),
        Cell::Empty,
    ]);
    let today = ChinaDay::from_unix_ms(crate::now_unix_ms());
    let content = html! {
        div.scroll { (to_html(&table)) }
        @if books.is_empty() {
            p.problem { (both("没有已分配、未发货的图书。", "No allocated books are waiting to ship.")) }
        } @else {
            form.stack.card method="post" action=(paths::SHIPMENTS) {
                (csrf_field(&signed))
                input type="hidden" name="by" value=(selection_form.by);
                input type="hidden" name="value" value=(selection_form.value);
                label { (both("承运", "Carrier")) input type="text" name="carrier" maxlength="50"; }
                label { (both("运单号", "Tracking number")) input type="text" name="tracking" maxlength="50"; }
                label { (both("发出日期", "Shipped on")) input type="date" name="shipped_on" value=(today.to_string()) max=(today.to_string()); }
                label { (both("备注", "Note")) input type="text" name="note" maxlength="200"; }
                button type="submit" { "标记为已发货（每校一单） " span lang="en" { "Mark shipped (one shipment per school)" } }
            }
        }
    };
    Ok(layout::page(
        &signed,
        Section::Shipments,
        ("标记发货", "Mark books shipped"),
        content,
    )
    .into_response())
}

/// The mark-shipped form.
#[derive(Debug, Deserialize)]
pub struct ShipForm {
    #[serde(flatten)]
    selection: SelectionForm,
    #[serde(default)]
    carrier: String,
    #[serde(default)]
    tracking: String,
    #[serde(default)]
    shipped_on: String,
    #[serde(default)]
    note: String,
}

/// An optional text field: trimmed, empty is none, at most `max`
/// characters, never starting like a spreadsheet formula.
fn optional_text(text: &str, max: usize) -> AdminResult<Option<String>> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    if text.chars().count() > max || starts_like_formula(text) {
        return Err(AdminError::BadRequest(format!(
            "“{text}”太长或以 = + - @ 开头 / {text:?} is too long or starts with = + - @"
        )));
    }
    Ok(Some(text.to_owned()))
}

/// `POST /admin/shipments`: marks the selection's allocated books shipped,
/// one shipment per school.
pub async fn mark_shipped(
    State(state): State<AppState>,
    RequireRole(signed, ..): RequireRole<Operator>,
    Form(form): Form<ShipForm>,
) -> AdminResult<Response> {
    let selection = form.selection.parse()?;
    let shipped_on = match form.shipped_on.trim() {
        "" => None,
        text => Some(ChinaDay::from_date(text.parse().map_err(|_| {
            AdminError::BadRequest("日期应为 YYYY-MM-DD / the day is YYYY-MM-DD".into())
        })?)),
    };
    let request = ShipRequest {
        selection,
        details: ShipmentDetails {
            carrier: optional_text(&form.carrier, 50)?,
            tracking: optional_text(&form.tracking, 50)?,
            shipped_on,
            note: optional_text(&form.note, 200)?,
        },
    };
    let outcome = state.store.ship(request, signed.actor()).await?;
    if outcome.shipments.is_empty() {
        return Err(AdminError::BadRequest(
            "没有已分配、未发货的图书 / no allocated books are waiting to ship".into(),
        ));
    }
    let made: Vec<String> = outcome
        .shipments
        .iter()
        .map(|made| made.shipment.to_string())
        .collect();
    Ok(Redirect::to(&format!("{}?made={}", paths::SHIPMENTS, made.join(","))).into_response())
}

/// `GET /admin/shipments/{id}`: the printable sheet of one shipment, with
/// the school's receipt QR code.
pub async fn show_shipment_sheet(
    State(state): State<AppState>,
    RequireRole(signed, ..): RequireRole<Operator>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> AdminResult<Response> {
    let id: u64 = id.parse().map_err(|_| AdminError::NotFound)?;
    let (shipment, books, secret) = state
        .store
        .admin()
        .shipment(id)
        .await?
        .ok_or(AdminError::NotFound)?;
    let receipt_url =
        secret.map(|secret| format!("{}/receive/{secret}", state.public_base_url(&headers)));
    let details = &shipment.details;
    let content = html! {
        section.card {
            @if let Some(school) = &shipment.school {
                h2 { (school.name) }
                p { (school.province) " " (school.prefecture) " " (school.county) "（" (school.county_code) "）" }
                p { (both("学校编号", "School id")) "：" (school.id) }
            }
            dl {
                dt { (both("发货单", "Shipment")) } dd { "#" (shipment.id) }
                dt { (both("册数", "Books")) } dd { (shipment.books) }
                dt { (both("发出日期", "Shipped on")) } dd { (details.shipped_on.map(|d| d.to_string()).unwrap_or_default()) }
                dt { (both("承运", "Carrier")) } dd { (details.carrier.clone().unwrap_or_default()) }
                dt { (both("运单号", "Tracking")) } dd { (details.tracking.clone().unwrap_or_default()) }
                @if let Some(note) = &details.note { dt { (both("备注", "Note")) } dd { (note) } }
                dt { (both("学校确认", "Confirmed")) }
                dd {
                    @match shipment.confirmed_at_ms {
                        Some(at) => { (layout::beijing_minute(at)) }
                        None => { (both("尚未确认", "not yet")) }
                    }
                }
            }
            h2 { (both("书号", "Book numbers")) }
            p {
                @for (index, book) in books.iter().enumerate() {
                    @if index > 0 { "、" }
                    "#" (book)
                }
            }
        }
        @if let Some(url) = receipt_url {
            figure.card.qr {
                @if let Some(code) = crate::pages::qr_code(&url) { (code) }
                figcaption {
                    "收到图书后请扫码确认。" br;
                    span lang="en" { "When the books arrive, scan to confirm receipt." }
                    br; span.url { (url) }
                }
            }
        }
        p.noprint.muted { (both("用浏览器的“打印”打印本页（导航不会打印）。", "Print this page with the browser's Print (the navigation is left out).")) }
    };
    Ok(layout::page(
        &signed,
        Section::Shipments,
        ("发货单", "Shipment sheet"),
        content,
    )
    .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selections_are_parsed_from_the_form() {
        let parse = |by: &str, value: &str| {
            SelectionForm {
                by: by.into(),
                value: value.into(),
            }
            .parse()
            .ok()
        };
        assert_eq!(
            parse("school", " DEMO-01 "),
            Some(BookSelection::School("DEMO-01".into())),
            "a school"
        );
        assert_eq!(
            parse("county", "522632"),
            Some(BookSelection::County("522632".into())),
            "a county"
        );
        assert_eq!(
            parse("books", "3-9"),
            Some(BookSelection::Books(3..=9)),
            "a range"
        );
        assert_eq!(
            parse("books", "7"),
            Some(BookSelection::Books(7..=7)),
            "one book"
        );
        assert_eq!(parse("books", "9-3"), None, "backwards");
        assert_eq!(parse("books", "0-3"), None, "books start at 1");
        assert_eq!(parse("school", ""), None, "empty");
        assert_eq!(parse("everything", "x"), None, "unknown kind");
    }
}
