//! `/report`: the public drill-down (national → province → prefecture →
//! county → school) of any period, aggregates only, no sign-in: anyone can
//! see where the books go. The report is the admin console's
//! ([`crate::allocation::drill_down::DrillDown`]), with public links (a
//! school leads to its public page).

use maud::{Markup, PreEscaped, html};

use super::{Audience, both, layout};
use crate::admin::layout::{link, period_selector};
use crate::admin::reports::{chart, linked_table, trail};
use crate::allocation::drill_down::{DrillDown, Level};
use crate::tables::to_html;

/// The public report's path.
const PATH: &str = "/report";

/// The few rules the selector needs beyond the public style sheet.
const EXTRA_CSS: &str = "\
form.inline{display:flex;flex-wrap:wrap;gap:.5rem;align-items:flex-end}\
form.inline button{width:auto;font-size:1rem;padding:.4rem .9rem}\
input{font:inherit;padding:.3rem .4rem}\
.presets{display:flex;flex-wrap:wrap;gap:.25rem;margin:.5rem 0}\
.presets a{padding:.1rem .5rem;border:1px solid #eadfc8;border-radius:1rem;text-decoration:none;font-size:.9em}\
.presets a[aria-current]{background:#c2410c;color:#fff}\
.muted{color:#666;font-size:.9em}.scroll{overflow-x:auto}.trail{margin:.5rem 0}\
.scroll>table.data{width:max-content;min-width:100%}\
table.data th,table.data td{max-width:22rem}table.data th[scope=row]{white-space:nowrap}\
";

/// The public report page of `report`.
pub fn report_page(report: &DrillDown) -> Markup {
    let period = report.period;
    let area_link = |level: &Level| link(PATH, &[&level.query(), &period.query()]);
    let table = linked_table(report, area_link, |id| format!("/schools/{id}"));
    layout(
        "图书去向 Where the books go",
        Audience::Public,
        None,
        html! {
            style { (PreEscaped(EXTRA_CSS)) }
            h1 { (both("图书去向", "Where the books go")) }
            p { (both("每一本书分到了哪里：按地区逐级查看，任何时间段。", "Where every book went: area by area, for any period.")) }
            (trail(report, area_link))
            (period_selector(PATH, &report.level.query(), period))
            (chart(report))
            div.scroll { (to_html(&table)) }
            p.muted {
                (both("只含汇总数字，不含任何参与者信息。", "Aggregates only: nothing about any player."))
                " " a href="/api/report" { "JSON" } " · " a href="/api/report?format=csv" { "CSV" }
            }
        },
    )
}
