//! `/admin/report`: the drill-down (national → province → prefecture →
//! county → school) of a period, each level a chart beside its table, and
//! every school of the area as a long paginated list. The report itself
//! is [`DrillDown`], shared with the public `/report`.

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use serde::Deserialize;

use super::chart::{ChartTitle, bar_chart};
use super::dashboard::school_link;
use super::error::{AdminError, AdminResult};
use super::export;
use super::layout::{self, PAGE_ROWS, Section, both, export_links, link, pager, period_selector};
use super::routes::paths;
use super::session::{RequireRole, Viewer};
use crate::allocation::drill_down::{DrillDown, Level};
use crate::domain::{ChinaDay, Period};
use crate::state::{App, AppState};
use crate::store::admin::{Movement, Window};
use crate::tables::{Cell, Column, ColumnKind, Filter, Table, to_html};

/// A period as a query asks for it.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct PeriodChoice {
    preset: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

impl PeriodChoice {
    /// True when the query names no period at all.
    pub fn is_empty(&self) -> bool {
        [&self.preset, &self.from, &self.to]
            .iter()
            .all(|part| part.as_deref().is_none_or(|text| text.trim().is_empty()))
    }
}

/// The period a query asks for (the whole campaign by default), and
/// whether it is the whole campaign.
pub async fn resolve_period(app: &App, choice: &PeriodChoice) -> AdminResult<(Period, bool)> {
    let today = ChinaDay::from_unix_ms(crate::now_unix_ms());
    let start = app.store.admin().campaign_start().await?;
    let period = Period::from_query(
        choice.preset.as_deref(),
        choice.from.as_deref(),
        choice.to.as_deref(),
        today,
        start,
    )
    .map_err(|error| AdminError::BadRequest(error.to_string()))?;
    Ok((period, period.is_whole_campaign(today, start)))
}

/// The report's query.
#[derive(Debug, Default, Deserialize)]
pub struct ReportQuery {
    #[serde(flatten)]
    period: PeriodChoice,
    province: Option<String>,
    prefecture: Option<String>,
    county: Option<String>,
    /// `schools` lists every school of the area.
    list: Option<String>,
    page: Option<u64>,
    /// For an export: `areas` (the drill-down) or `schools`.
    table: Option<String>,
    format: Option<String>,
}

impl ReportQuery {
    fn level(&self) -> Level {
        Level::from_query(
            self.province.as_deref(),
            self.prefecture.as_deref(),
            self.county.as_deref(),
        )
    }
}

/// The drill-down's table with every line linked one level down:
/// `area_link` for an area, `school_link` for a school.
pub fn linked_table(
    report: &DrillDown,
    area_link: impl Fn(&Level) -> String,
    school_link: impl Fn(&str) -> String,
) -> Table {
    let plain = report.table();
    let mut table = Table::new(plain.title_zh(), plain.title_en(), plain.columns().to_vec());
    for filter in plain.filters() {
        table = table.with_filter(filter.clone());
    }
    for (line, row) in report.lines.iter().zip(plain.rows()) {
        let href = match (&line.next, &line.code) {
            (Some(level), _) => area_link(level),
            (None, Some(id)) => school_link(id),
            (None, None) => String::new(),
        };
        let _ = table.push_linked_row(row.clone(), href);
    }
    if let Some(totals) = plain.totals() {
        let _ = table.set_totals(totals.to_vec());
    }
    table
}

/// The trail of links from the national level to `report`'s level.
pub fn trail(report: &DrillDown, area_link: impl Fn(&Level) -> String) -> Markup {
    html! {
        nav.trail aria-label="层级 Levels" {
            @for (index, (name, level)) in report.trail.iter().enumerate() {
                @if index > 0 { " › " }
                @if index + 1 == report.trail.len() { strong { (name) } }
                @else { a href=(area_link(level)) { (name) } }
            }
        }
    }
}

/// The chart of a drill-down: books allocated per line.
pub fn chart(report: &DrillDown) -> Markup {
    let (zh, en) = report.part_names();
    bar_chart(
        &ChartTitle {
            id: "drill-down",
            zh: &format!("各{zh}已分配图书"),
            en: &format!("Books allocated by {}", en.to_lowercase()),
        },
        &report.bars(),
    )
}

/// Every school of the area (one page of them, or all for an export),
/// with how its books moved in the period.
async fn schools_table(
    app: &App,
    report: &DrillDown,
    whole_campaign: bool,
    window: Window,
) -> AdminResult<(Table, u64)> {
    let admin = app.store.admin();
    let all = admin.schools_in(&report.level.area()).await?;
    let total = all.len() as u64;
    let shown: Vec<_> = all
        .into_iter()
        .skip(usize::try_from(window.offset).unwrap_or(usize::MAX))
        .take(usize::try_from(window.limit).unwrap_or(usize::MAX))
        .collect();
    let moved = if whole_campaign {
        None
    } else {
        let ids = shown.iter().map(|tally| tally.school.id.clone()).collect();
        Some(
            admin
                .school_movements(ids, report.period.first(), report.period.last())
                .await?,
        )
    };
    let area = report
        .trail
        .iter()
        .map(|(name, _)| name.as_str())
        .collect::<Vec<_>>()
        .join(" / ");
    let text = |key, zh, en, kind| Column {
        key,
        zh,
        en,
        kind,
        note_zh: "",
        note_en: "",
    };
    let mut columns = vec![
        Column {
            note_zh: "学校名单中的编号",
            note_en: "The school's id in the school list",
            ..text("school_id", "学校编号", "School id", ColumnKind::Id)
        },
        Column {
            note_zh: "学校名称",
            note_en: "The school's name",
            ..text("name", "学校", "School", ColumnKind::Text)
        },
        Column {
            note_zh: "省、市州、县",
            note_en: "Province, prefecture, county",
            ..text("place", "地区", "Place", ColumnKind::Text)
        },
        Column {
            note_zh: "GB/T 2260 县级行政区划代码",
            note_en: "The county's GB/T 2260 code",
            ..text("county_code", "县代码", "County code", ColumnKind::Id)
        },
    ];
    columns.extend(report.table().columns().iter().rev().take(5).rev().cloned());
    let mut table = Table::new("各校图书", "Books by school", columns)
        .with_filter(Filter::period(
            report.period.first().date(),
            report.period.last().date(),
        ))
        .with_filter(Filter::new("area", "地区", "Area", area));
    let mut totals = Movement::default();
    let mut target = 0;
    for tally in &shown {
        let school = &tally.school;
        let books = match &moved {
            None => Movement {
                allocated: tally.allocated,
                shipped: tally.shipped,
                received: tally.received,
            },
            Some(moved) => moved.get(&school.id).copied().unwrap_or_default(),
        };
        totals.add(books);
        target += u64::from(tally.target_books);
        let _ = table.push_linked_row(
            vec![
                Cell::id(&school.id),
                Cell::text(&school.name),
                Cell::text(format!(
                    "{} {} {}",
                    school.province, school.prefecture, school.county
                )),
                Cell::id(&school.county_code),
                Cell::count(u64::from(tally.target_books)),
                Cell::count(books.allocated),
                Cell::count(books.shipped),
                Cell::count(books.received),
                Cell::percent(books.received, u64::from(tally.target_books)),
            ],
            school_link(&school.id),
        );
    }
    let _ = table.set_totals(vec![
        Cell::text("合计"),
        Cell::Empty,
        Cell::Empty,
        Cell::Empty,
        Cell::count(target),
        Cell::count(totals.allocated),
        Cell::count(totals.shipped),
        Cell::count(totals.received),
        Cell::percent(totals.received, target),
    ]);
    Ok((table, total))
}

fn admin_area_link(period: Period) -> impl Fn(&Level) -> String {
    move |level| link(paths::REPORT, &[&level.query(), &period.query()])
}

async fn load(app: &App, query: &ReportQuery) -> AdminResult<(DrillDown, bool)> {
    let (period, whole) = resolve_period(app, &query.period).await?;
    let report = DrillDown::load(app.store.admin(), &query.level(), period, whole)
        .await?
        .ok_or(AdminError::NotFound)?;
    Ok((report, whole))
}

/// `GET /admin/report`: one level of the drill-down, or the schools of an
/// area (`list=schools`).
pub async fn show_report(
    State(state): State<AppState>,
    RequireRole(signed, ..): RequireRole<Viewer>,
    Query(query): Query<ReportQuery>,
) -> AdminResult<Response> {
    let (report, whole) = load(&state, &query).await?;
    let period = report.period;
    let level_query = report.level.query();
    let keep = [level_query.as_str(), &period.query()].join("&");
    let area_link = admin_area_link(period);
    let listing = query.list.as_deref() == Some("schools");
    let content = if listing {
        let page = query.page.unwrap_or(1).max(1);
        let window = Window {
            offset: (page - 1) * PAGE_ROWS,
            limit: PAGE_ROWS,
        };
        let (table, total) = schools_table(&state, &report, whole, window).await?;
        html! {
            (trail(&report, &area_link))
            (period_selector(paths::REPORT, &format!("{level_query}&list=schools"), period))
            p { a href=(area_link(&report.level)) { (both("← 返回地区汇总", "← Back to the areas")) } }
            div.scroll { (to_html(&table)) }
            (pager(page, total, |page| link(paths::REPORT, &[&keep, "list=schools", &format!("page={page}")])))
            (export_links(paths::REPORT_EXPORT, &format!("{keep}&table=schools")))
        }
    } else {
        let table = linked_table(&report, &area_link, school_link);
        html! {
            (trail(&report, &area_link))
            (period_selector(paths::REPORT, &level_query, period))
            div.pair {
                div { (chart(&report)) }
                div {
                    div.scroll { (to_html(&table)) }
                    (export_links(paths::REPORT_EXPORT, &format!("{keep}&table=areas")))
                }
            }
            p {
                a href=(link(paths::REPORT, &[&keep, "list=schools"])) {
                    (both("列出本地区全部学校", "List every school of this area"))
                }
                " · "
                a href=(link("/report", &[&keep])) { (both("公开报告", "Public report")) }
            }
        }
    };
    Ok(layout::page(
        &signed,
        Section::Reports,
        ("地区报告", "Report by area"),
        content,
    )
    .into_response())
}

/// `GET /admin/report/export?table=areas|schools&format=…`: the level's
/// table, or every school of the area.
pub async fn export_report(
    State(state): State<AppState>,
    RequireRole(signed, ..): RequireRole<Viewer>,
    Query(query): Query<ReportQuery>,
) -> AdminResult<Response> {
    let format = export::format(query.format.as_deref())?;
    let (report, whole) = load(&state, &query).await?;
    let area = report
        .trail
        .last()
        .map(|(name, _)| name.clone())
        .unwrap_or_default();
    let period = format!("{}至{}", report.period.first(), report.period.last());
    let (table, stem) = match query.table.as_deref().unwrap_or("areas") {
        "areas" => (report.table(), format!("地区报告-{area}-{period}")),
        "schools" => (
            schools_table(&state, &report, whole, Window::all(export::MAX_ROWS))
                .await?
                .0,
            format!("学校报告-{area}-{period}"),
        ),
        _ => return Err(AdminError::NotFound),
    };
    export::download(&state, &signed, table, &stem, format).await
}
