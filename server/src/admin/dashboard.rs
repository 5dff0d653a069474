//! `/admin`: the dashboard. Totals now (participations today and in all;
//! books funded, allocated, shipped, received), participations per day and
//! refusals by reason over a period, the pledges with their books
//! remaining, and a to-do list: books allocated but not shipped, and
//! shipments the school has not confirmed after a set number of days.
//! Every chart stands beside the table of its numbers, and every table
//! downloads (`/admin/export?table=…`).

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use maud::html;
use serde::Deserialize;
use sim::wire::RejectReason;

use super::chart::{Bar, ChartTitle, DailySeries, bar_chart, daily_chart};
use super::error::{AdminError, AdminResult};
use super::export;
use super::layout::{self, Section, both, export_links, link, period_selector};
use super::pledges::{pledge_progress, pledges_table};
use super::reports::{PeriodChoice, resolve_period};
use super::routes::paths;
use super::session::{RequireRole, Viewer};
use super::shipments::shipments_table;
use crate::allocation::SchoolTally;
use crate::domain::{ChinaDay, Period};
use crate::error::reason_name;
use crate::state::{App, AppState};
use crate::store::admin::{Movement, Page, ShipmentFilter, ShipmentRecord, Unshipped, Window};
use crate::tables::{Cell, Column, ColumnKind, Filter, Table, to_html};

/// Schools listed in the to-do list, most waiting first.
const TODO_ROWS: u64 = 10;

/// The dashboard's query: a period, and for an export which table.
#[derive(Debug, Default, Deserialize)]
pub struct DashboardQuery {
    #[serde(flatten)]
    period: PeriodChoice,
    table: Option<String>,
    format: Option<String>,
}

/// A refusal reason in the staff's words, Chinese and English.
pub fn reason_label(reason: RejectReason) -> (&'static str, &'static str) {
    use RejectReason::*;
    match reason {
        MalformedRequest => ("请求格式错误", "Malformed request"),
        BodyTooLarge => ("请求过大", "Body too large"),
        InvalidToken => ("令牌无效", "Invalid token"),
        TokenExpired => ("令牌过期", "Token expired"),
        RoundAlreadyCounted => ("重复提交", "Already counted"),
        TooFast => ("用时过短", "Too fast"),
        ReplayMismatch => ("回放不符", "Replay mismatch"),
        RoundIncomplete => ("未完成", "Round incomplete"),
        RulesVersionMismatch => ("规则版本不符", "Rules version mismatch"),
        DailyCapReached => ("超过每日上限", "Daily cap reached"),
        RateLimited => ("请求过频", "Rate limited"),
        IdempotencyKeyReused => ("幂等键重用", "Idempotency key reused"),
        RequestInProgress => ("请求处理中", "Request in progress"),
        ServerError => ("服务器错误", "Server error"),
    }
}

/// What the dashboard shows.
struct Dashboard {
    period: Period,
    participations: u64,
    today: u64,
    books_funded: u64,
    books: Movement,
    days: DailySeries,
    refusals: Vec<(RejectReason, u64)>,
    pledges: Table,
    unshipped: Unshipped,
    overdue: Page<ShipmentRecord>,
    overdue_before: ChinaDay,
    overdue_days: i64,
    sharing: crate::allocation::SharingFigures,
}

async fn load(app: &App, period: Period) -> AdminResult<Dashboard> {
    let admin = app.store.admin();
    let today = ChinaDay::from_unix_ms(crate::now_unix_ms());
    let totals = app.store.totals().borrow().to_wire(today);
    let records = admin.pledge_records().await?;
    let progress = pledge_progress(&records, totals.participations);
    let books_funded = progress.iter().map(|line| line.funded).sum();
    let mut books = Movement::default();
    for county in admin.counties().await? {
        books.add(county.books);
    }
    let days = admin.day_counts(period.first(), period.last()).await?;
    let days = DailySeries::from_counts(
        period.first().date(),
        period.last().date(),
        days.into_iter().map(|(day, count)| (day.date(), count)),
    );
    let mut refusals: Vec<(RejectReason, u64)> = admin
        .refusals(period.first(), period.last())
        .await?
        .into_iter()
        .collect();
    refusals.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let overdue_before = today.plus_days(-app.admin.overdue_days);
    let overdue = admin
        .shipments(
            &ShipmentFilter {
                confirmed: Some(false),
                shipped_by: Some(overdue_before),
                ..ShipmentFilter::default()
            },
            Window {
                offset: 0,
                limit: TODO_ROWS,
            },
        )
        .await?;
    Ok(Dashboard {
        period,
        participations: totals.participations,
        today: totals.today,
        books_funded,
        books,
        days,
        refusals,
        pledges: pledges_table(&progress),
        unshipped: admin.unshipped(TODO_ROWS).await?,
        overdue,
        overdue_before,
        overdue_days: app.admin.overdue_days,
        sharing: app.store.sharing().await?,
    })
}

fn period_filter(period: Period) -> Filter {
    Filter::period(period.first().date(), period.last().date())
}

fn days_table(dashboard: &Dashboard) -> Table {
    let mut table = Table::new(
        "每日参与人次",
        "Participations per day",
        vec![
            Column {
                key: "day",
                zh: "日期",
                en: "Day",
                kind: ColumnKind::Date,
                note_zh: "北京时间的日期",
                note_en: "The day, Beijing time",
            },
            Column {
                key: "participations",
                zh: "参与人次",
                en: "Participations",
                kind: ColumnKind::Count,
                note_zh: "当天计入的有效参与",
                note_en: "Participations counted that day",
            },
        ],
    )
    .with_filter(period_filter(dashboard.period));
    let mut total = 0;
    for (offset, &count) in dashboard.days.values().iter().enumerate() {
        let day = dashboard.period.first().plus_days(offset as i64);
        total += count;
        let _ = table.push_row(vec![Cell::Date(day.date()), Cell::count(count)]);
    }
    let _ = table.set_totals(vec![Cell::text("合计"), Cell::count(total)]);
    table
}

fn refusals_table(dashboard: &Dashboard) -> Table {
    let mut table = Table::new(
        "拒绝原因",
        "Refusals by reason",
        vec![
            Column {
                key: "reason",
                zh: "原因",
                en: "Reason",
                kind: ColumnKind::Text,
                note_zh: "拒绝计入的原因",
                note_en: "Why the request was refused",
            },
            Column {
                key: "code",
                zh: "代码",
                en: "Code",
                kind: ColumnKind::Id,
                note_zh: "原因在接口中的名称",
                note_en: "The reason's name in the API",
            },
            Column {
                key: "refusals",
                zh: "次数",
                en: "Refusals",
                kind: ColumnKind::Count,
                note_zh: "期间内被拒绝的请求数",
                note_en: "Requests refused in the period",
            },
        ],
    )
    .with_filter(period_filter(dashboard.period));
    let mut total = 0;
    for &(reason, count) in &dashboard.refusals {
        let (zh, en) = reason_label(reason);
        total += count;
        let _ = table.push_row(vec![
            Cell::text(format!("{zh} {en}")),
            Cell::id(reason_name(reason)),
            Cell::count(count),
        ]);
    }
    let _ = table.set_totals(vec![Cell::text("合计"), Cell::Empty, Cell::count(total)]);
    table
}

/// The schools waiting longest for their books to be shipped.
fn unshipped_table(unshipped: &Unshipped) -> Table {
    let mut table = Table::new(
        "待发货",
        "Allocated, not shipped",
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
                key: "school",
                zh: "学校",
                en: "School",
                kind: ColumnKind::Text,
                note_zh: "学校名称",
                note_en: "The school's name",
            },
            Column {
                key: "county",
                zh: "县",
                en: "County",
                kind: ColumnKind::Text,
                note_zh: "省 市州 县",
                note_en: "Province, prefecture, county",
            },
            Column {
                key: "waiting",
                zh: "待发册数",
                en: "Books waiting",
                kind: ColumnKind::Count,
                note_zh: "已分配、尚未发货的图书册数",
                note_en: "Books allocated and not shipped",
            },
        ],
    )
    .with_filter(Filter::new(
        "shown",
        "显示",
        "Shown",
        format!(
            "待发最多的 {} 所 / the {} waiting most",
            TODO_ROWS, TODO_ROWS
        ),
    ));
    for tally in &unshipped.top {
        let _ = table.push_linked_row(school_row(tally), school_link(&tally.school.id));
    }
    let _ = table.set_totals(vec![
        Cell::text(format!("合计 {} 所", unshipped.schools)),
        Cell::Empty,
        Cell::Empty,
        Cell::count(unshipped.books),
    ]);
    table
}

fn school_row(tally: &SchoolTally) -> Vec<Cell> {
    let school = &tally.school;
    vec![
        Cell::id(&school.id),
        Cell::text(&school.name),
        Cell::text(format!(
            "{} {} {}",
            school.province, school.prefecture, school.county
        )),
        Cell::count(tally.allocated - tally.shipped),
    ]
}

/// The console page of school `id`.
pub fn school_link(id: &str) -> String {
    paths::SCHOOL.replace("{school_id}", id)
}

fn overdue_table(dashboard: &Dashboard) -> Table {
    shipments_table(&dashboard.overdue.rows).with_filter(Filter::new(
        "unconfirmed_since",
        "发出不晚于",
        "Shipped by",
        format!(
            "{}（超过 {} 天未确认 / unconfirmed after {} days）",
            dashboard.overdue_before, dashboard.overdue_days, dashboard.overdue_days
        ),
    ))
}

/// The dashboard's tables by name, for its exports.
fn table_named(dashboard: &Dashboard, name: &str) -> Option<(Table, String)> {
    let period = format!("{}至{}", dashboard.period.first(), dashboard.period.last());
    Some(match name {
        "days" => (days_table(dashboard), format!("每日参与-{period}")),
        "refusals" => (refusals_table(dashboard), format!("拒绝原因-{period}")),
        "pledges" => (dashboard.pledges.clone(), "认捐进度".to_owned()),
        "unshipped" => (unshipped_table(&dashboard.unshipped), "待发货".to_owned()),
        "overdue" => (overdue_table(dashboard), "未确认收货".to_owned()),
        _ => return None,
    })
}

/// `GET /admin`: the dashboard.
pub async fn show_dashboard(
    State(state): State<AppState>,
    RequireRole(signed, ..): RequireRole<Viewer>,
    Query(query): Query<DashboardQuery>,
) -> AdminResult<Response> {
    let (period, _) = resolve_period(&state, &query.period).await?;
    let dashboard = load(&state, period).await?;
    let keep = period.query();
    let exports =
        |table: &str| export_links(paths::DASHBOARD_EXPORT, &format!("{keep}&table={table}"));
    let refusal_bars: Vec<(String, u64)> = dashboard
        .refusals
        .iter()
        .map(|&(reason, count)| (reason_label(reason).0.to_owned(), count))
        .collect();
    let books = dashboard.books;
    let content = html! {
        div.stats {
            div.stat { (both("今日参与", "Today")) b { (dashboard.today) } }
            div.stat { (both("累计参与", "Participations")) b { (dashboard.participations) } }
            div.stat { (both("已资助图书", "Books funded")) b { (dashboard.books_funded) } }
            div.stat { (both("已分配", "Allocated")) b { (books.allocated) } }
            div.stat { (both("已发货", "Shipped")) b { (books.shipped) } }
            div.stat { (both("已收到", "Received")) b { (books.received) } }
            div.stat {
                a href=(paths::SHARING) { (both("经由分享的参与", "Via share links")) }
                b {
                    (crate::tables::Share {
                        part: dashboard.sharing.participations_via_share,
                        whole: dashboard.participations,
                    }
                    .percent_text()
                    .unwrap_or_else(|| "—".into()))
                }
            }
        }
        @if let Some(top) = dashboard.sharing.top_codes.first() {
            p {
                (both("带来新玩家最多的分享码", "Top referring code")) "："
                a href=(paths::SHARING) { (top.code) } " · "
                (both(&format!("{} 位新玩家", top.referred_players), &format!("{} players referred", top.referred_players)))
            }
        }
        h2 { (both("待办", "To do")) }
        div.pair {
            div {
                div.scroll { (to_html(&unshipped_table(&dashboard.unshipped))) }
                (exports("unshipped"))
                @if signed.user.role.allows(crate::domain::Role::Operator) && dashboard.unshipped.books > 0 {
                    p { a href=(paths::SHIPMENTS) { (both("去发货", "Ship books")) } }
                }
            }
            div {
                div.scroll { (to_html(&overdue_table(&dashboard))) }
                (exports("overdue"))
            }
        }
        (period_selector(paths::DASHBOARD, "", period))
        h2 { (both("每日参与", "Participations per day")) }
        div.pair {
            div { (daily_chart(&ChartTitle { id: "days", zh: "每日参与人次", en: "Participations per day" }, &dashboard.days)) }
            div { div.scroll { (to_html(&days_table(&dashboard))) } (exports("days")) }
        }
        h2 { (both("拒绝原因（防作弊统计）", "Refusals by reason (fraud statistics)")) }
        div.pair {
            div {
                (bar_chart(
                    &ChartTitle { id: "refusals", zh: "各原因拒绝次数", en: "Refusals by reason" },
                    &refusal_bars.iter().map(|(label, value)| Bar { label, value: *value }).collect::<Vec<_>>(),
                ))
            }
            div { div.scroll { (to_html(&refusals_table(&dashboard))) } (exports("refusals")) }
        }
        h2 { (both("认捐与剩余图书", "Pledges and books remaining")) }
        div.scroll { (to_html(&dashboard.pledges)) }
        (exports("pledges"))
        p { a href=(link(paths::REPORT, &[&keep])) { (both("按地区查看本期报告 →", "This period by area →")) } }
    };
    Ok(layout::page(&signed, Section::Dashboard, ("概览", "Dashboard"), content).into_response())
}

/// `GET /admin/export?table=…&format=…`: one of the dashboard's tables.
pub async fn export_dashboard(
    State(state): State<AppState>,
    RequireRole(signed, ..): RequireRole<Viewer>,
    Query(query): Query<DashboardQuery>,
) -> AdminResult<Response> {
    let format = export::format(query.format.as_deref())?;
    let (period, _) = resolve_period(&state, &query.period).await?;
    let dashboard = load(&state, period).await?;
    let (table, stem) = table_named(&dashboard, query.table.as_deref().unwrap_or_default())
        .ok_or(AdminError::NotFound)?;
    export::download(&state, &signed, table, &stem, format).await
}
