//! Charts drawn on the server as inline SVG, for the admin console: no
//! script, no chart library, nothing for the browser to download.
//!
//! - [`bar_chart`]: values by category (books by province, refusals by
//!   reason) as horizontal bars, which leave room for long Chinese labels.
//! - [`daily_chart`]: one value per day over a period (participations per
//!   day), as columns, or as a line when the period is too long for
//!   columns to stay readable.
//!
//! Each chart is drawn in a fixed coordinate system (`viewBox`) and scales
//! to the width of its container, on a phone or a desktop ([`CHART_CSS`]).
//!
//! # Accessibility
//!
//! A chart always stands beside a table of the same numbers
//! ([`crate::tables::to_html`]), which is the accessible form: exact,
//! navigable cell by cell. So a chart is one image to assistive technology
//! (`role="img"`, named by its `<title>` through `aria-labelledby`) whose
//! name says what it shows and that the numbers are in the table; its bars
//! and labels are not read one by one. It is not hidden altogether
//! (`aria-hidden`), because a reader who meets an unnamed picture on the
//! page should still learn what it is and where its numbers are.
//!
//! # Numbers
//!
//! Axis ticks are round (1, 2 or 5 times a power of ten). Tick labels of
//! large axes use 万 (10⁴) and 亿 (10⁸), as Chinese readers count
//! (5,800,000 on an axis to 6,000,000 reads `200万`, `400万`, `600万`),
//! because they are short and the staff read Chinese; a bar's own value is
//! written in full with thousands separators (`5,800,000`), as in the
//! table. maud escapes every label.

use std::collections::HashMap;

use jiff::Span;
use jiff::civil::Date;
use maud::{Markup, html};

use crate::tables::{display_width, group_thousands};

/// The style rules the charts need, for the admin pages' style sheet.
pub const CHART_CSS: &str = "\
svg.chart{display:block;width:100%;height:auto;max-width:32rem;margin:.5rem 0}\
";

/// Width of every chart in SVG user units; on a 360-pixel phone a unit is
/// about 0.85 pixels, on a desktop (at most 32rem wide) 1.3.
const WIDTH: f64 = 400.0;
/// Size of labels, in user units.
const FONT: f64 = 12.0;
/// Size of axis tick labels, in user units.
const TICK_FONT: f64 = 11.0;
/// Estimated width of a narrow character (a digit, a Latin letter) per
/// unit of font size; a wide (CJK) character counts twice.
const NARROW_EM: f64 = 0.55;
/// Most intervals an axis is divided into.
const MAX_INTERVALS: u128 = 5;

/// Colour of bars, columns and lines (the site's orange).
const INK: &str = "#c2410c";
/// Colour of text.
const TEXT: &str = "#333";
/// Colour of grid lines.
const GRID: &str = "#e5e5e5";
/// Colour of the axis lines.
const AXIS: &str = "#999";

/// What a chart is called, and the id its `<title>` is given so the
/// `<svg>` can point at it.
#[derive(Debug, Clone, Copy)]
pub struct ChartTitle<'a> {
    /// An id unique on the page, for `aria-labelledby`
    /// (`"books-by-province"`): ASCII letters, digits and `-`.
    pub id: &'a str,
    /// The title in Chinese (`"各省图书册数"`).
    pub zh: &'a str,
    /// The title in English (`"Books by province"`).
    pub en: &'a str,
}

/// One bar of a [`bar_chart`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bar<'a> {
    /// The category (`"贵州省"`).
    pub label: &'a str,
    /// Its value (books, refusals).
    pub value: u64,
}

/// One value per day, for every day of a period: days without data are
/// zeros, so a quiet day shows as a gap, not as a missing day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DailySeries {
    first_day: Date,
    values: Vec<u64>,
}

impl DailySeries {
    /// The series whose day `i` is `first_day` plus `i` days.
    pub fn new(first_day: Date, values: Vec<u64>) -> Self {
        Self { first_day, values }
    }

    /// The series from `first` to `last` (both included) with the counts
    /// of `counts` (summed when a day repeats); days not in `counts` are
    /// zero, counts outside the period are left out. Empty when `last` is
    /// before `first`.
    pub fn from_counts(
        first: Date,
        last: Date,
        counts: impl IntoIterator<Item = (Date, u64)>,
    ) -> Self {
        let mut by_day: HashMap<Date, u64> = HashMap::new();
        for (day, count) in counts {
            let total = by_day.entry(day).or_default();
            *total = total.saturating_add(count);
        }
        let values = days_from(first)
            .take_while(|day| *day <= last)
            .map(|day| by_day.get(&day).copied().unwrap_or_default())
            .collect();
        Self::new(first, values)
    }

    /// The first day.
    pub fn first_day(&self) -> Date {
        self.first_day
    }

    /// The values, one per day from the first.
    pub fn values(&self) -> &[u64] {
        &self.values
    }
}

/// `first` and every day after it.
fn days_from(first: Date) -> impl Iterator<Item = Date> {
    first.series(Span::new().days(1))
}

/// A horizontal bar chart of `bars`, top to bottom in the order given.
/// Labels too long for the label column (40% of the width) are shortened
/// with `…`; the table beside the chart has them in full.
pub fn bar_chart(title: &ChartTitle<'_>, bars: &[Bar<'_>]) -> Markup {
    if bars.is_empty() {
        return no_data(title);
    }
    const TOP: f64 = 6.0;
    const ROW: f64 = 24.0;
    const BAR: f64 = 16.0;
    const GAP: f64 = 6.0;
    const TICKS_HEIGHT: f64 = 20.0;

    let axis = Axis::for_max(bars.iter().map(|bar| bar.value).max().unwrap_or_default());
    let max_label = WIDTH * 0.4;
    let label_width = bars
        .iter()
        .map(|bar| text_width(bar.label, FONT))
        .fold(0.0, f64::max)
        .min(max_label);
    let value_texts: Vec<String> = bars.iter().map(|bar| group_u64(bar.value)).collect();
    let value_width = value_texts
        .iter()
        .map(|text| text_width(text, FONT))
        .fold(0.0, f64::max);
    let plot_x = label_width + GAP;
    let plot_width = (WIDTH - plot_x - GAP - value_width - 2.0).max(1.0);
    let plot_bottom = TOP + ROW * bars.len() as f64;
    let height = plot_bottom + TICKS_HEIGHT;
    let x_of = |value: u64| plot_x + axis.fraction(value) * plot_width;

    svg(
        title,
        height,
        html! {
            @for tick in axis.ticks() {
                line x1=(n(x_of(tick))) y1=(n(TOP)) x2=(n(x_of(tick))) y2=(n(plot_bottom))
                    stroke=(GRID) {}
                text x=(n(x_of(tick))) y=(n(plot_bottom + 14.0)) font-size=(n(TICK_FONT))
                    text-anchor="middle" fill=(TEXT) { (axis.label(tick)) }
            }
            line x1=(n(plot_x)) y1=(n(TOP)) x2=(n(plot_x)) y2=(n(plot_bottom)) stroke=(AXIS) {}
            @for (index, (bar, value_text)) in bars.iter().zip(&value_texts).enumerate() {
                @let row_top = TOP + ROW * index as f64;
                @let middle = row_top + ROW / 2.0;
                @let baseline = middle + FONT * 0.35;
                @let bar_width = x_of(bar.value) - plot_x;
                text x=(n(label_width)) y=(n(baseline)) text-anchor="end" fill=(TEXT) {
                    (shorten(bar.label, max_label, FONT))
                }
                rect.bar x=(n(plot_x)) y=(n(middle - BAR / 2.0)) width=(n(bar_width))
                    height=(n(BAR)) fill=(INK) {}
                text x=(n(plot_x + bar_width + 4.0)) y=(n(baseline)) fill=(TEXT) { (value_text) }
            }
        },
    )
}

/// Days up to which [`daily_chart`] draws columns; longer series are drawn
/// as a line, since columns narrower than about 5 units turn into noise.
const MAX_COLUMN_DAYS: usize = 62;

/// A chart of one value per day: columns (a line for long periods), the
/// days along the bottom (every day, every other day, weekly, fortnightly
/// or monthly, so at most about 7 labels fit), round values up the side.
pub fn daily_chart(title: &ChartTitle<'_>, series: &DailySeries) -> Markup {
    let values = series.values();
    if values.is_empty() {
        return no_data(title);
    }
    const HEIGHT: f64 = 200.0;
    const TOP: f64 = 8.0;
    const RIGHT: f64 = 8.0;
    const BOTTOM: f64 = 22.0;
    const MAX_COLUMN: f64 = 40.0;

    let axis = Axis::for_max(values.iter().copied().max().unwrap_or_default());
    let tick_labels: Vec<(u64, String)> =
        axis.ticks().map(|tick| (tick, axis.label(tick))).collect();
    let label_width = tick_labels
        .iter()
        .map(|(_, label)| text_width(label, TICK_FONT))
        .fold(0.0, f64::max);
    let plot_x = label_width + 6.0;
    let plot_width = WIDTH - RIGHT - plot_x;
    let plot_bottom = HEIGHT - BOTTOM;
    let plot_height = plot_bottom - TOP;
    let slot = plot_width / values.len() as f64;
    let y_of = |value: u64| plot_bottom - axis.fraction(value) * plot_height;
    let centre_of = |index: usize| plot_x + slot * (index as f64 + 0.5);

    let marks = if values.len() <= MAX_COLUMN_DAYS {
        let column = (slot * 0.75).min(MAX_COLUMN);
        html! {
            @for (index, &value) in values.iter().enumerate() {
                rect.bar x=(n(centre_of(index) - column / 2.0)) y=(n(y_of(value)))
                    width=(n(column)) height=(n(plot_bottom - y_of(value))) fill=(INK) {}
            }
        }
    } else {
        let points: Vec<String> = values
            .iter()
            .enumerate()
            .map(|(index, &value)| format!("{},{}", n(centre_of(index)), n(y_of(value))))
            .collect();
        let line = points.join(" ");
        let area = format!(
            "{},{} {line} {},{}",
            n(centre_of(0)),
            n(plot_bottom),
            n(centre_of(values.len() - 1)),
            n(plot_bottom)
        );
        html! {
            polygon points=(area) fill=(INK) fill-opacity="0.15" {}
            polyline.line points=(line) fill="none" stroke=(INK) stroke-width="1.5" {}
        }
    };

    svg(
        title,
        HEIGHT,
        html! {
            @for (tick, label) in &tick_labels {
                line x1=(n(plot_x)) y1=(n(y_of(*tick))) x2=(n(WIDTH - RIGHT)) y2=(n(y_of(*tick)))
                    stroke=(GRID) {}
                text x=(n(plot_x - 4.0)) y=(n(y_of(*tick) + TICK_FONT * 0.35)) font-size=(n(TICK_FONT))
                    text-anchor="end" fill=(TEXT) { (label) }
            }
            (marks)
            line x1=(n(plot_x)) y1=(n(plot_bottom)) x2=(n(WIDTH - RIGHT)) y2=(n(plot_bottom))
                stroke=(AXIS) {}
            @for (index, label) in day_ticks(series.first_day(), values.len()) {
                @let half = text_width(&label, TICK_FONT) / 2.0;
                // Labels near the right edge end there instead of being cut off.
                @let (x, anchor) = if centre_of(index) + half > WIDTH {
                    (WIDTH - 1.0, "end")
                } else {
                    (centre_of(index), "middle")
                };
                text.day x=(n(x)) y=(n(plot_bottom + 15.0)) font-size=(n(TICK_FONT))
                    text-anchor=(anchor) fill=(TEXT) { (label) }
            }
        },
    )
}

/// The days to label under `days` days from `first`, with their labels:
/// every day up to 7 days, every other day up to 14, weekly up to 49,
/// fortnightly up to 98, then the first of each month (every second or
/// third month when there are many), so at most about 7 labels.
fn day_ticks(first: Date, days: usize) -> Vec<(usize, String)> {
    let day_label = |day: Date| format!("{}月{}日", day.month(), day.day());
    let step = match days {
        0..=7 => 1,
        8..=14 => 2,
        15..=49 => 7,
        50..=98 => 14,
        _ => 0,
    };
    if step > 0 {
        return days_from(first)
            .take(days)
            .enumerate()
            .step_by(step)
            .map(|(index, day)| (index, day_label(day)))
            .collect();
    }
    let month_starts: Vec<(usize, Date)> = days_from(first)
        .take(days)
        .enumerate()
        .filter(|(_, day)| day.day() == 1)
        .collect();
    let every = month_starts.len().div_ceil(7).max(1);
    month_starts
        .into_iter()
        .step_by(every)
        .enumerate()
        .map(|(position, (index, day))| {
            // The year is shown where it could be in doubt: on the first
            // label and on every January.
            let label = if position == 0 || day.month() == 1 {
                format!("{}年{}月", day.year(), day.month())
            } else {
                format!("{}月", day.month())
            };
            (index, label)
        })
        .collect()
}

/// The `<svg>` around a chart's marks: scalable, one named image.
fn svg(title: &ChartTitle<'_>, height: f64, marks: Markup) -> Markup {
    let title_id = format!("{}-title", title.id);
    html! {
        svg.chart xmlns="http://www.w3.org/2000/svg" viewBox=(format!("0 0 {} {}", n(WIDTH), n(height)))
            role="img" aria-labelledby=(title_id) font-size=(n(FONT)) {
            title id=(title_id) {
                (title.zh) "（数字见旁边的表格）" (title.en) " (the numbers are in the table beside it)"
            }
            (marks)
        }
    }
}

/// A chart with nothing to draw says so, in the same frame.
fn no_data(title: &ChartTitle<'_>) -> Markup {
    const HEIGHT: f64 = 60.0;
    svg(
        title,
        HEIGHT,
        html! {
            rect x="0.5" y="0.5" width=(n(WIDTH - 1.0)) height=(n(HEIGHT - 1.0)) fill="none"
                stroke=(GRID) {}
            text.empty x=(n(WIDTH / 2.0)) y=(n(HEIGHT / 2.0 + FONT * 0.35)) text-anchor="middle"
                fill=(TEXT) { "暂无数据 No data yet" }
        },
    )
}

/// A value axis from zero: ticks every `step`, up to `top`, the first
/// multiple of `step` at or above the largest value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Axis {
    /// 1, 2 or 5 times a power of ten.
    step: u128,
    /// A multiple of `step`, at least 1.
    top: u128,
}

impl Axis {
    /// The axis with the smallest round step that reaches `max` in at most
    /// [`MAX_INTERVALS`] intervals (0 to 1 when every value is zero).
    fn for_max(max: u64) -> Self {
        let max = u128::from(max).max(1);
        let mut power = 1u128;
        loop {
            for multiple in [1, 2, 5] {
                let step = multiple * power;
                let intervals = max.div_ceil(step);
                if intervals <= MAX_INTERVALS {
                    return Self {
                        step,
                        top: intervals * step,
                    };
                }
            }
            power *= 10;
        }
    }

    /// Every tick from 0 to `top`.
    fn ticks(self) -> impl Iterator<Item = u64> {
        (0..=self.top / self.step)
            .map(move |index| u64::try_from(index * self.step).unwrap_or(u64::MAX))
    }

    /// Where `value` sits between 0 and `top`, from 0.0 to 1.0.
    fn fraction(self, value: u64) -> f64 {
        value as f64 / self.top as f64
    }

    /// A tick's label: grouped digits (`8,000`) on small axes, 万 or 亿
    /// with as many decimals as the step needs on large ones (`0.2万`,
    /// `1万`, `600万`, `1.5亿`).
    fn label(self, tick: u64) -> String {
        let (unit, name) = if self.top >= 100_000_000 {
            (100_000_000u128, "亿")
        } else if self.top >= 10_000 {
            (10_000, "万")
        } else {
            return group_u64(tick);
        };
        let decimals = (0..4)
            .find(|&decimals| (self.step * 10u128.pow(decimals)).is_multiple_of(unit))
            .unwrap_or(4);
        let scaled = u128::from(tick) as f64 / unit as f64;
        let text = format!("{scaled:.prec$}", prec = decimals as usize);
        let text = if text.contains('.') {
            text.trim_end_matches('0').trim_end_matches('.')
        } else {
            &text
        };
        if text == "0" {
            "0".to_owned()
        } else {
            format!("{text}{name}")
        }
    }
}

/// An unsigned count grouped by thousands (`5,800,000`).
fn group_u64(value: u64) -> String {
    group_thousands(i64::try_from(value).unwrap_or(i64::MAX))
}

/// The estimated width of `text` at `font_size`, in user units.
fn text_width(text: &str, font_size: f64) -> f64 {
    display_width(text) as f64 * NARROW_EM * font_size
}

/// `text`, cut with `…` to fit `width` user units at `font_size`.
fn shorten(text: &str, width: f64, font_size: f64) -> String {
    if text_width(text, font_size) <= width {
        return text.to_owned();
    }
    let ellipsis = text_width("…", font_size);
    let mut shortened = String::new();
    for c in text.chars() {
        let mut candidate = shortened.clone();
        candidate.push(c);
        if text_width(&candidate, font_size) + ellipsis > width {
            break;
        }
        shortened = candidate;
    }
    shortened.push('…');
    shortened
}

/// A coordinate with at most one decimal (`12.5`, `40`): enough at these
/// sizes, and short.
fn n(value: f64) -> String {
    let text = format!("{value:.1}");
    match text.strip_suffix(".0") {
        Some("-0") => "0".to_owned(),
        Some(whole) => whole.to_owned(),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use jiff::civil::date;
    use quick_xml::events::Event;
    use quick_xml::{Reader, XmlVersion};

    use super::*;

    /// One element of a parsed chart: its name, attributes and the text
    /// directly inside it.
    #[derive(Debug)]
    struct Element {
        name: String,
        attributes: HashMap<String, String>,
        text: String,
    }

    impl Element {
        fn attribute(&self, name: &str) -> &str {
            self.attributes
                .get(name)
                .unwrap_or_else(|| panic!("<{}> has no {name}: {self:?}", self.name))
        }

        fn number(&self, name: &str) -> f64 {
            self.attribute(name)
                .parse()
                .unwrap_or_else(|_| panic!("{name} of {self:?} is a number"))
        }
    }

    /// Parses `markup` as XML (panicking if it is not well-formed, with one
    /// `<svg>` root) into its elements in document order.
    fn parse(markup: &Markup) -> Vec<Element> {
        let xml = &markup.0;
        let mut reader = Reader::from_str(xml);
        let mut elements: Vec<Element> = Vec::new();
        let mut open: Vec<usize> = Vec::new();
        let mut roots = 0;
        loop {
            let event = reader
                .read_event()
                .unwrap_or_else(|error| panic!("not well-formed XML ({error}): {xml}"));
            let opens = matches!(event, Event::Start(_));
            match event {
                Event::Start(start) | Event::Empty(start) => {
                    if open.is_empty() {
                        roots += 1;
                    }
                    let attributes = start
                        .attributes()
                        .map(|attribute| {
                            let attribute = attribute.expect("a well-formed attribute");
                            let key = attribute.key.as_ref().to_owned();
                            let value = attribute
                                .normalized_value(XmlVersion::Implicit1_0)
                                .expect("escaped")
                                .into_owned();
                            (key, value)
                        })
                        .collect();
                    elements.push(Element {
                        name: start.name().as_ref().to_owned(),
                        attributes,
                        text: String::new(),
                    });
                    if opens {
                        open.push(elements.len() - 1);
                    }
                }
                Event::End(_) => {
                    open.pop();
                }
                Event::Text(text) => {
                    if let Some(&index) = open.last() {
                        elements[index].text.push_str(&text.xml10_content());
                    }
                }
                Event::GeneralRef(reference) => {
                    let name = reference.as_ref().to_owned();
                    let character = match name.as_str() {
                        "amp" => '&',
                        "lt" => '<',
                        "gt" => '>',
                        "quot" => '"',
                        "apos" => '\'',
                        other => panic!("unexpected entity &{other};"),
                    };
                    if let Some(&index) = open.last() {
                        elements[index].text.push(character);
                    }
                }
                Event::Eof => break,
                _ => {}
            }
        }
        assert!(open.is_empty(), "every element is closed: {xml}");
        assert_eq!(roots, 1, "one root element: {xml}");
        assert_eq!(elements[0].name, "svg", "the root is <svg>: {xml}");
        elements
    }

    fn named<'a>(elements: &'a [Element], name: &str, class: Option<&str>) -> Vec<&'a Element> {
        elements
            .iter()
            .filter(|element| element.name == name)
            .filter(|element| {
                class.is_none_or(|class| {
                    element.attributes.get("class").map(String::as_str) == Some(class)
                })
            })
            .collect()
    }

    const TITLE: ChartTitle<'static> = ChartTitle {
        id: "books-by-province",
        zh: "各省图书册数",
        en: "Books by province",
    };

    /// Checks what every chart must be: one scalable image named by its
    /// title, fitting its view box.
    fn check_frame(elements: &[Element]) {
        let svg = &elements[0];
        assert_eq!(
            svg.attribute("role"),
            "img",
            "one image to assistive technology"
        );
        assert_eq!(
            svg.attribute("aria-labelledby"),
            "books-by-province-title",
            "named by its title"
        );
        assert!(
            !svg.attributes.contains_key("width") && !svg.attributes.contains_key("height"),
            "no fixed size: it scales with its container"
        );
        let view_box: Vec<f64> = svg
            .attribute("viewBox")
            .split(' ')
            .map(|number| number.parse().expect("a number"))
            .collect();
        assert_eq!(
            view_box[..3],
            [0.0, 0.0, WIDTH],
            "the view box: {view_box:?}"
        );
        let title = &elements[1];
        assert_eq!(title.name, "title", "the title comes first");
        assert_eq!(
            title.attribute("id"),
            "books-by-province-title",
            "the id pointed at"
        );
        assert!(
            title.text.contains("各省图书册数") && title.text.contains("in the table"),
            "the title says what and where the numbers are: {}",
            title.text
        );
        for element in named(elements, "text", None) {
            let x = element.number("x");
            assert!(
                (0.0..=WIDTH).contains(&x),
                "text starts inside the chart: {element:?}"
            );
            let y = element.number("y");
            assert!(
                (0.0..=view_box[3]).contains(&y),
                "text inside the chart: {element:?}"
            );
        }
    }

    #[test]
    fn bars_are_proportional_to_their_values() {
        let bars = [
            Bar {
                label: "贵州省",
                value: 5_800_000,
            },
            Bar {
                label: "云南省",
                value: 2_900_000,
            },
            Bar {
                label: "甘肃省",
                value: 0,
            },
            Bar {
                label: "西藏自治区",
                value: 1_450_000,
            },
        ];
        let elements = parse(&bar_chart(&TITLE, &bars));
        check_frame(&elements);
        let widths: Vec<f64> = named(&elements, "rect", Some("bar"))
            .iter()
            .map(|rect| rect.number("width"))
            .collect();
        assert_eq!(widths.len(), 4, "one bar per category");
        assert_eq!(widths[2], 0.0, "a zero is a bar of no length");
        for (index, bar) in bars.iter().enumerate() {
            let expected = widths[0] * bar.value as f64 / 5_800_000.0;
            assert!(
                (widths[index] - expected).abs() <= 0.1,
                "{}: width {} should be {expected} (rounded to 0.1)",
                bar.label,
                widths[index]
            );
        }
        let texts: Vec<&str> = named(&elements, "text", None)
            .iter()
            .map(|t| t.text.as_str())
            .collect();
        for expected in ["贵州省", "5,800,000", "0", "200万", "600万"] {
            assert!(
                texts.contains(&expected),
                "{expected:?} is drawn: {texts:?}"
            );
        }
    }

    #[test]
    fn long_labels_are_shortened_and_every_label_is_escaped() {
        let long = "黔东南苗族侗族自治州榕江县第一示例小学附属幼儿园";
        let bars = [
            Bar {
                label: long,
                value: 3,
            },
            Bar {
                label: "<script>&</script>",
                value: 1,
            },
        ];
        let markup = bar_chart(&TITLE, &bars);
        assert!(
            !markup.0.contains("<script>"),
            "labels are escaped: {}",
            markup.0
        );
        let elements = parse(&markup);
        let texts: Vec<&str> = named(&elements, "text", None)
            .iter()
            .map(|t| t.text.as_str())
            .collect();
        let shortened = texts
            .iter()
            .find(|text| text.starts_with("黔东南"))
            .expect("the long label is drawn");
        assert!(shortened.ends_with('…'), "shortened: {shortened}");
        assert!(
            text_width(shortened, FONT) <= WIDTH * 0.4,
            "it fits the label column: {shortened}"
        );
        assert!(
            texts.contains(&"<script>&</script>"),
            "the text itself survives: {texts:?}"
        );
    }

    #[test]
    fn a_single_bar_and_all_zero_bars_still_draw() {
        let one = parse(&bar_chart(
            &TITLE,
            &[Bar {
                label: "贵州省",
                value: 7,
            }],
        ));
        check_frame(&one);
        let bars = named(&one, "rect", Some("bar"));
        assert_eq!(bars.len(), 1, "one bar");
        assert!(
            bars[0].number("width") > 0.0,
            "a positive value has a length"
        );

        let zeros = parse(&bar_chart(
            &TITLE,
            &[
                Bar {
                    label: "A",
                    value: 0,
                },
                Bar {
                    label: "B",
                    value: 0,
                },
            ],
        ));
        check_frame(&zeros);
        assert!(
            named(&zeros, "rect", Some("bar"))
                .iter()
                .all(|bar| bar.number("width") == 0.0),
            "zeros have no length"
        );
    }

    #[test]
    fn no_data_says_so() {
        for markup in [
            bar_chart(&TITLE, &[]),
            daily_chart(&TITLE, &DailySeries::new(date(2026, 7, 1), vec![])),
        ] {
            let elements = parse(&markup);
            check_frame(&elements);
            let message = named(&elements, "text", Some("empty"));
            assert_eq!(message.len(), 1, "one message");
            assert_eq!(message[0].text, "暂无数据 No data yet", "in both languages");
            assert!(
                named(&elements, "rect", Some("bar")).is_empty(),
                "and no bars"
            );
        }
    }

    #[test]
    fn axes_have_round_ticks() {
        let check = |max: u64, step: u128, top: u128| {
            let axis = Axis::for_max(max);
            assert_eq!(axis, Axis { step, top }, "the axis for {max}");
            let mut mantissa = step;
            while mantissa.is_multiple_of(10) {
                mantissa /= 10;
            }
            assert!(
                [1, 2, 5].contains(&mantissa),
                "{step} is 1, 2 or 5 times a power of ten"
            );
            assert!(top >= u128::from(max), "{top} reaches {max}");
            assert!(
                top / step <= MAX_INTERVALS,
                "at most {MAX_INTERVALS} intervals"
            );
        };
        check(0, 1, 1);
        check(1, 1, 1);
        check(3, 1, 3);
        check(7, 2, 8);
        check(10, 2, 10);
        check(99, 20, 100);
        check(12_000, 5_000, 15_000);
        check(5_800_000, 2_000_000, 6_000_000);
        check(
            u64::MAX,
            5_000_000_000_000_000_000,
            20_000_000_000_000_000_000,
        );
    }

    #[test]
    fn tick_labels_are_short() {
        let check = |max: u64, expected: &[&str]| {
            let axis = Axis::for_max(max);
            let labels: Vec<String> = axis.ticks().map(|tick| axis.label(tick)).collect();
            assert_eq!(labels, expected, "ticks up to {max}");
        };
        check(0, &["0", "1"]);
        check(7, &["0", "2", "4", "6", "8"]);
        check(4_500, &["0", "1,000", "2,000", "3,000", "4,000", "5,000"]);
        check(12_000, &["0", "0.5万", "1万", "1.5万"]);
        check(5_800_000, &["0", "200万", "400万", "600万"]);
        check(150_000_000, &["0", "0.5亿", "1亿", "1.5亿"]);
    }

    fn week() -> DailySeries {
        DailySeries::new(date(2026, 7, 1), vec![120, 0, 340, 5_800, 90, 0, 15])
    }

    #[test]
    fn columns_are_proportional_and_every_day_of_a_week_is_labelled() {
        let elements = parse(&daily_chart(&TITLE, &week()));
        check_frame(&elements);
        let columns = named(&elements, "rect", Some("bar"));
        assert_eq!(columns.len(), 7, "one column per day");
        let heights: Vec<f64> = columns
            .iter()
            .map(|column| column.number("height"))
            .collect();
        let bottoms: Vec<f64> = columns
            .iter()
            .map(|column| column.number("y") + column.number("height"))
            .collect();
        assert!(
            bottoms
                .windows(2)
                .all(|pair| (pair[0] - pair[1]).abs() <= 0.1),
            "one baseline: {bottoms:?}"
        );
        let axis = Axis::for_max(5_800);
        let full = heights[3] * axis.top as f64 / 5_800.0;
        for (day, (&height, &value)) in heights.iter().zip(week().values()).enumerate() {
            let expected = full * value as f64 / axis.top as f64;
            assert!(
                (height - expected).abs() <= 0.2,
                "day {day}: {height} should be {expected}"
            );
        }
        let days: Vec<&str> = named(&elements, "text", Some("day"))
            .iter()
            .map(|t| t.text.as_str())
            .collect();
        assert_eq!(
            days,
            [
                "7月1日", "7月2日", "7月3日", "7月4日", "7月5日", "7月6日", "7月7日"
            ],
            "a week: every day"
        );
    }

    #[test]
    fn a_single_day_is_one_column_of_bounded_width() {
        let elements = parse(&daily_chart(
            &TITLE,
            &DailySeries::new(date(2026, 7, 1), vec![42]),
        ));
        check_frame(&elements);
        let columns = named(&elements, "rect", Some("bar"));
        assert_eq!(columns.len(), 1, "one column");
        assert!(
            columns[0].number("width") <= 40.0,
            "not a wall: {:?}",
            columns[0]
        );
        let days: Vec<&str> = named(&elements, "text", Some("day"))
            .iter()
            .map(|t| t.text.as_str())
            .collect();
        assert_eq!(days, ["7月1日"], "its day");
    }

    #[test]
    fn day_labels_thin_out_as_periods_grow() {
        let check = |first: Date, days: usize, expected: &[&str]| {
            let labels: Vec<String> = day_ticks(first, days)
                .into_iter()
                .map(|(_, label)| label)
                .collect();
            assert_eq!(labels, expected, "{days} days from {first}");
        };
        check(
            date(2026, 7, 1),
            14,
            &[
                "7月1日",
                "7月3日",
                "7月5日",
                "7月7日",
                "7月9日",
                "7月11日",
                "7月13日",
            ],
        );
        check(
            date(2026, 7, 1),
            31,
            &["7月1日", "7月8日", "7月15日", "7月22日", "7月29日"],
        );
        check(
            date(2026, 7, 1),
            92,
            &[
                "7月1日",
                "7月15日",
                "7月29日",
                "8月12日",
                "8月26日",
                "9月9日",
                "9月23日",
            ],
        );
        check(
            date(2026, 7, 1),
            184,
            &["2026年7月", "8月", "9月", "10月", "11月", "12月"],
        );
        check(
            date(2026, 7, 1),
            365,
            &["2026年7月", "9月", "11月", "2027年1月", "3月", "5月"],
        );
    }

    #[test]
    fn long_periods_are_a_line_with_month_labels() {
        let values: Vec<u64> = (0..92).map(|day| day * 1_000).collect();
        let series = DailySeries::new(date(2026, 7, 1), values);
        let elements = parse(&daily_chart(&TITLE, &series));
        check_frame(&elements);
        assert!(
            named(&elements, "rect", Some("bar")).is_empty(),
            "no columns"
        );
        let line = named(&elements, "polyline", Some("line"));
        assert_eq!(line.len(), 1, "one line");
        assert_eq!(
            line[0].attribute("points").split(' ').count(),
            92,
            "a point per day"
        );
        let days = named(&elements, "text", Some("day"));
        assert!(days.len() <= 7, "at most 7 day labels: {days:?}");
    }

    #[test]
    fn sparse_counts_fill_the_period_with_zeros() {
        let series = DailySeries::from_counts(
            date(2026, 7, 1),
            date(2026, 7, 5),
            [
                (date(2026, 7, 2), 3),
                (date(2026, 7, 2), 4),
                (date(2026, 7, 5), 1),
                (date(2026, 6, 30), 99),
                (date(2026, 7, 6), 99),
            ],
        );
        assert_eq!(
            series.values(),
            [0, 7, 0, 0, 1],
            "zeros, sums, nothing outside"
        );
        let backwards = DailySeries::from_counts(date(2026, 7, 5), date(2026, 7, 1), []);
        assert!(backwards.values().is_empty(), "an empty period");
    }

    #[test]
    fn coordinates_are_short() {
        for (value, expected) in [
            (12.0, "12"),
            (12.26, "12.3"),
            (0.04, "0"),
            (-0.04, "0"),
            (399.96, "400"),
        ] {
            assert_eq!(n(value), expected, "{value}");
        }
    }
}
