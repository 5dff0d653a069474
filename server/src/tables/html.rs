//! A [`Table`] on screen: the HTML table the admin pages show, from the
//! same value the exports are made of.
//!
//! The caption carries the title and the filters; column headers are
//! Chinese with the English beneath; the first cell of each row heads its
//! row for screen readers; counts and percentages line up on the right in
//! tabular figures; the totals are a `<tfoot>`. maud escapes every value,
//! so names from an imported school list can never become markup.

use maud::{Markup, html};

use super::{Cell, Column, Table, beijing_text, group_thousands};

/// The style rules the table needs, for the admin pages' style sheet.
pub const TABLE_CSS: &str = "\
table.data{width:100%;border-collapse:collapse;font-variant-numeric:tabular-nums}\
table.data caption{text-align:left;font-weight:bold;padding:.25rem 0 .5rem}\
table.data caption .filters{display:block;font-weight:normal;color:#555;font-size:.9em}\
table.data th,table.data td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid #eee;vertical-align:top}\
table.data thead th{border-bottom:2px solid #ccc}\
table.data th .en{display:block;font-weight:normal}\
table.data .num{text-align:right;white-space:nowrap}\
table.data tfoot th,table.data tfoot td{font-weight:bold;border-top:2px solid #ccc}\
table.data .empty{text-align:center;color:#666}\
";

/// The table as an HTML `<table class="data">`.
pub fn to_html(table: &Table) -> Markup {
    let columns = table.columns();
    html! {
        table.data {
            caption {
                (table.title_zh()) " " span.en lang="en" { (table.title_en()) }
                @if !table.filters().is_empty() {
                    span.filters {
                        @for (index, filter) in table.filters().iter().enumerate() {
                            @if index > 0 { "；" }
                            (filter.zh) " " span.en lang="en" { (filter.en) } "：" (filter.value)
                        }
                    }
                }
            }
            thead {
                tr {
                    @for column in columns {
                        th scope="col" class=[alignment(column)] {
                            (column.zh) " " span.en lang="en" { (column.en) }
                        }
                    }
                }
            }
            tbody {
                @for (index, row) in table.rows().iter().enumerate() {
                    (html_row(columns, row, table.row_link(index)))
                }
                @if table.rows().is_empty() {
                    tr {
                        td.empty colspan=(columns.len().max(1)) {
                            "暂无数据 " span.en lang="en" { "No data yet" }
                        }
                    }
                }
            }
            @if let Some(totals) = table.totals() {
                tfoot { (html_row(columns, totals, None)) }
            }
        }
    }
}

/// One row: the first cell heads the row (a link when `link` is given),
/// the others are data.
fn html_row(columns: &[Column], cells: &[Cell], link: Option<&str>) -> Markup {
    html! {
        tr {
            @for (index, (column, cell)) in columns.iter().zip(cells).enumerate() {
                @if index == 0 {
                    th scope="row" class=[alignment(column)] {
                        @if let Some(href) = link {
                            a href=(href) { (cell_content(cell)) }
                        } @else {
                            (cell_content(cell))
                        }
                    }
                } @else {
                    td class=[alignment(column)] { (cell_content(cell)) }
                }
            }
        }
    }
}

/// `num` for columns of quantities, which align on the right.
fn alignment(column: &Column) -> Option<&'static str> {
    column.kind.is_numeric().then_some("num")
}

fn cell_content(cell: &Cell) -> Markup {
    html! {
        @match cell {
            Cell::Text(text) | Cell::Id(text) => (text),
            Cell::Count(count) => (group_thousands(*count)),
            Cell::Date(date) => time datetime=(date.to_string()) { (date.to_string()) },
            Cell::DateTime(instant) => {
                time datetime=(instant.to_string()) { (beijing_text(*instant)) }
            },
            Cell::Percent(share) => (share.percent_text().unwrap_or_default()),
            Cell::Empty => "",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::sample;
    use super::*;

    #[test]
    fn the_caption_and_headers_are_in_both_languages() {
        let html = to_html(&sample::table()).into_string();
        assert!(
            html.contains(
                "<caption>学校图书 <span class=\"en\" lang=\"en\">Books by school</span>"
            ),
            "the title: {html}"
        );
        assert!(
            html.contains(
                "期间 <span class=\"en\" lang=\"en\">Period</span>：2026-07-01 至 2026-09-30"
            ),
            "the filters: {html}"
        );
        assert!(
            html.contains(
                "<th scope=\"col\" class=\"num\">图书 <span class=\"en\" lang=\"en\">Books</span></th>"
            ),
            "a numeric header, aligned with its numbers: {html}"
        );
        assert!(
            html.contains(
                "<th scope=\"col\">学校编号 <span class=\"en\" lang=\"en\">School id</span></th>"
            ),
            "a text header: {html}"
        );
    }

    #[test]
    fn cells_show_as_on_screen_and_names_are_escaped() {
        let html = to_html(&sample::table()).into_string();
        for expected in [
            "<th scope=\"row\">00123</th>",
            "<td class=\"num\">5,800,000</td>",
            "<td class=\"num\">-5</td>",
            "<td><time datetime=\"2026-07-01\">2026-07-01</time></td>",
            "<time datetime=\"2026-07-01T00:30:05Z\">2026-07-01 08:30:05</time>",
            "<td class=\"num\">12.5%</td>",
            "<td>=HYPERLINK(&quot;http://x&quot;,&quot;y&quot;)</td>",
        ] {
            assert!(html.contains(expected), "{expected} in {html}");
        }
    }

    #[test]
    fn totals_are_the_footer() {
        let html = to_html(&sample::table()).into_string();
        let footer = html
            .split("<tfoot>")
            .nth(1)
            .expect("a tfoot")
            .split("</tfoot>")
            .next()
            .expect("closed");
        assert!(
            footer.contains("<th scope=\"row\">合计</th>"),
            "the label heads the row: {footer}"
        );
        assert!(
            footer.contains("<td class=\"num\">5,799,995</td>"),
            "the total: {footer}"
        );
        let no_totals = Table::new("t", "t", sample::columns());
        assert!(
            !to_html(&no_totals).into_string().contains("<tfoot>"),
            "no totals, no footer"
        );
    }

    #[test]
    fn a_linked_row_links_its_first_cell_on_screen_only() {
        let mut table = Table::new("t", "t", sample::columns());
        let row = sample::table().rows()[0].clone();
        table
            .push_linked_row(row, "/admin/schools/00123?x=\"1\"".into())
            .unwrap();
        let html = to_html(&table).into_string();
        assert!(
            html.contains(
                "<th scope=\"row\"><a href=\"/admin/schools/00123?x=&quot;1&quot;\">00123</a></th>"
            ),
            "the link, escaped: {html}"
        );
        assert_eq!(
            table.row_link(0),
            Some("/admin/schools/00123?x=\"1\""),
            "kept"
        );
        assert!(
            !String::from_utf8(crate::tables::to_csv(&table))
                .unwrap()
                .contains("/admin"),
            "exports carry no link"
        );
    }

    #[test]
    fn an_empty_table_says_so() {
        let html = to_html(&Table::new("空", "Empty", sample::columns())).into_string();
        assert!(
            html.contains("<td class=\"empty\" colspan=\"6\">暂无数据 "),
            "one row spanning every column: {html}"
        );
    }
}
