//! `/admin/audit` (admins only): the audit log, newest first, filtered by
//! action, actor and period, paginated, and exported with the same
//! filters. Nothing here, or anywhere, edits or deletes it.

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use maud::html;
use serde::Deserialize;

use super::error::{AdminError, AdminResult};
use super::export;
use super::layout::{self, PAGE_ROWS, Section, both, export_links, link, pager};
use super::reports::{PeriodChoice, resolve_period};
use super::routes::paths;
use super::session::{Admin, RequireRole};
use crate::domain::Period;
use crate::state::AppState;
use crate::store::admin::{AuditAction, AuditFilter, AuditRecord, Window};
use crate::tables::{Cell, Column, ColumnKind, Filter, Table, to_html};

/// The audit page's query.
#[derive(Debug, Default, Deserialize)]
pub struct AuditQuery {
    #[serde(flatten)]
    period: PeriodChoice,
    action: Option<String>,
    actor: Option<String>,
    page: Option<u64>,
    format: Option<String>,
}

impl AuditQuery {
    fn action(&self) -> AdminResult<Option<AuditAction>> {
        match self.action.as_deref().filter(|a| !a.is_empty()) {
            None => Ok(None),
            Some(name) => AuditAction::from_name(name)
                .map(Some)
                .ok_or_else(|| AdminError::BadRequest(format!("unknown action {name:?}"))),
        }
    }

    fn actor(&self) -> Option<String> {
        self.actor
            .as_deref()
            .map(str::trim)
            .filter(|a| !a.is_empty())
            .map(str::to_owned)
    }

    /// The filter; with no period asked for, every entry ever written
    /// (accounts are created before the campaign's first day).
    fn filter(&self, period: Period) -> AdminResult<AuditFilter> {
        let timed = !self.period.is_empty();
        Ok(AuditFilter {
            action: self.action()?,
            actor: self.actor(),
            from_ms: timed.then(|| period.first().start_unix_ms()),
            until_ms: timed.then(|| period.last().plus_days(1).start_unix_ms()),
        })
    }

    /// The query of the filters (for links), without the period.
    fn keep(&self) -> String {
        let mut pairs = Vec::new();
        if let Some(action) = self.action.as_deref().filter(|a| !a.is_empty()) {
            pairs.push(("action", action.to_owned()));
        }
        if let Some(actor) = self.actor() {
            pairs.push(("actor", actor));
        }
        serde_urlencoded::to_string(pairs).unwrap_or_default()
    }
}

/// Longest detail shown or exported, in characters (a spreadsheet cell
/// holds at most 32,767).
const MAX_DETAIL_CHARS: usize = 2_000;

/// `detail`, cut to [`MAX_DETAIL_CHARS`] with `…` when longer.
fn shortened(detail: &str) -> String {
    if detail.chars().count() <= MAX_DETAIL_CHARS {
        detail.to_owned()
    } else {
        let mut cut: String = detail.chars().take(MAX_DETAIL_CHARS).collect();
        cut.push('…');
        cut
    }
}

fn audit_table(records: &[AuditRecord], query: &AuditQuery, period: Period) -> AdminResult<Table> {
    let column = |key, zh, en, kind, note_zh, note_en| Column {
        key,
        zh,
        en,
        kind,
        note_zh,
        note_en,
    };
    let mut table = Table::new(
        "审计日志",
        "Audit log",
        vec![
            column(
                "id",
                "序号",
                "No.",
                ColumnKind::Count,
                "写入的顺序",
                "The order it was written in",
            ),
            column(
                "at",
                "时间",
                "When",
                ColumnKind::DateTime,
                "北京时间",
                "Beijing time",
            ),
            column(
                "actor",
                "操作者",
                "Who",
                ColumnKind::Text,
                "用户、系统用户、学校收货链接或未登录者",
                "A user, an OS user, a school's receipt link, or someone signed out",
            ),
            column(
                "address",
                "地址",
                "Address",
                ColumnKind::Id,
                "客户端 IP 地址",
                "The client's IP address",
            ),
            column(
                "action",
                "操作",
                "Action",
                ColumnKind::Text,
                "做了什么",
                "What was done",
            ),
            column(
                "target",
                "对象",
                "Target",
                ColumnKind::Text,
                "对哪个用户、学校、文件或表格",
                "Which user, school, file or table",
            ),
            column(
                "detail",
                "详情",
                "Details",
                ColumnKind::Text,
                "详细内容",
                "The details",
            ),
        ],
    );
    if !query.period.is_empty() {
        table = table.with_filter(Filter::period(period.first().date(), period.last().date()));
    }
    if let Some(action) = query.action()? {
        table = table.with_filter(Filter::new("action", "操作", "Action", action.name()));
    }
    if let Some(actor) = query.actor() {
        table = table.with_filter(Filter::new("actor", "操作者", "Who", actor));
    }
    for record in records {
        let entry = &record.entry;
        let _ = table.push_row(vec![
            Cell::count(record.id),
            layout::instant_cell(entry.at_ms),
            Cell::text(format!(
                "{} ({})",
                entry.actor.name,
                entry.actor.kind.name()
            )),
            entry.actor.address.clone().map_or(Cell::Empty, Cell::Id),
            Cell::text(format!("{} {}", entry.action.zh(), entry.action.en())),
            Cell::text(&entry.target),
            Cell::text(shortened(&entry.detail)),
        ]);
    }
    Ok(table)
}

/// `GET /admin/audit`.
pub async fn show_audit(
    State(state): State<AppState>,
    RequireRole(signed, ..): RequireRole<Admin>,
    Query(query): Query<AuditQuery>,
) -> AdminResult<Response> {
    let (period, _) = resolve_period(&state, &query.period).await?;
    let page = query.page.unwrap_or(1).max(1);
    let records = state
        .store
        .admin()
        .audit_log(
            &query.filter(period)?,
            Window {
                offset: (page - 1) * PAGE_ROWS,
                limit: PAGE_ROWS,
            },
        )
        .await?;
    let table = audit_table(&records.rows, &query, period)?;
    let keep = query.keep();
    let period_query = if query.period.is_empty() {
        String::new()
    } else {
        period.query()
    };
    let all = [keep.as_str(), &period_query].join("&");
    let content = html! {
        form.inline.card.noprint method="get" action=(paths::AUDIT) {
            @if !query.period.is_empty() {
                input type="hidden" name="from" value=(period.first().to_string());
                input type="hidden" name="to" value=(period.last().to_string());
            }
            label { (both("操作", "Action")) br;
                select name="action" {
                    option value="" { "全部 All" }
                    @for action in AuditAction::ALL {
                        option value=(action.name()) selected[query.action.as_deref() == Some(action.name())] { (action.zh()) " " (action.en()) }
                    }
                }
            }
            label { (both("操作者", "Who")) br; input type="text" name="actor" value=(query.actor().unwrap_or_default()); }
            button.secondary type="submit" { "筛选 " span lang="en" { "Filter" } }
        }
        (layout::period_selector(paths::AUDIT, &keep, period))
        div.scroll { (to_html(&table)) }
        (pager(page, records.total, |page| link(paths::AUDIT, &[&all, &format!("page={page}")])))
        (export_links(paths::AUDIT_EXPORT, &all))
        p.muted { (both("审计日志只能追加，任何人都不能修改或删除。", "The audit log is append-only: nobody can change or delete it.")) }
    };
    Ok(layout::page(&signed, Section::Audit, ("审计日志", "Audit log"), content).into_response())
}

/// `GET /admin/audit/export`: every entry the filters keep.
pub async fn export_audit(
    State(state): State<AppState>,
    RequireRole(signed, ..): RequireRole<Admin>,
    Query(query): Query<AuditQuery>,
) -> AdminResult<Response> {
    let format = export::format(query.format.as_deref())?;
    let (period, _) = resolve_period(&state, &query.period).await?;
    let records = state
        .store
        .admin()
        .audit_log(&query.filter(period)?, Window::all(export::MAX_ROWS))
        .await?;
    let table = audit_table(&records.rows, &query, period)?;
    let stem = if query.period.is_empty() {
        "审计日志".to_owned()
    } else {
        format!("审计日志-{}至{}", period.first(), period.last())
    };
    export::download(&state, &signed, table, &stem, format).await
}
