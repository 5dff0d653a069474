//! `/p/{n}`: one participation, the book it funded and where that book
//! goes, with a QR code of the page's own address for sharing.

use jiff::Timestamp;
use jiff::tz::{self, TimeZone};
use maud::{Markup, html};
use sim::wire::BookStatus;

use super::{Audience, both, layout, place, qr_code};
use crate::share::meta::OpenGraph;

/// What the participation page shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParticipationView {
    /// The participation's number in the campaign (from 1).
    pub number: u64,
    /// When it was counted, in milliseconds since the Unix epoch (shown in
    /// China Standard Time).
    pub counted_at_ms: u64,
    /// What it funded, as the receipt says.
    pub book: BookStatus,
    /// This page's own absolute URL (`https://example.org/p/123`), printed
    /// and encoded in the QR code.
    pub page_url: String,
    /// The page's link-preview tags.
    pub open_graph: Option<OpenGraph>,
}

/// The page of one participation.
pub fn participation_page(view: &ParticipationView) -> Markup {
    let title = format!("第 {} 次参与 Participation #{}", view.number, view.number);
    layout(
        &title,
        Audience::Public,
        view.open_graph.as_ref(),
        html! {
            h1 {
                "第 " (view.number) " 次参与 "
                span.en lang="en" { "Participation #" (view.number) }
            }
            @if let Some(when) = china_time(view.counted_at_ms) {
                p {
                    (both("时间", "When")) "："
                    time datetime=(when.iso) { (when.local) }
                    " " (both("北京时间", "Beijing time"))
                }
            }
            section.card { (book(&view.book)) }
            p { a href="/report" { (both("所有图书的去向：各地报告", "Where all the books go: the report by area")) } }
            figure.qr {
                @if let Some(code) = qr_code(&view.page_url) {
                    (code)
                }
                figcaption {
                    (both("扫码打开本页", "Scan to open this page"))
                    br;
                    span.url { (view.page_url) }
                }
            }
        },
    )
}

/// What the participation's book is doing.
fn book(status: &BookStatus) -> Markup {
    match status {
        BookStatus::Allocated { book, school } => html! {
            h2 {
                "资助了第 " (book) " 本书 "
                span.en lang="en" { "Funded book #" (book) }
            }
            p {
                (both("送往", "Going to")) "："
                a href={ "/schools/" (school.id) } { (school.name) }
                br;
                (place(school))
            }
        },
        BookStatus::Filling {
            book,
            participations_needed,
        } => html! {
            h2 {
                "正在凑齐第 " (book) " 本书 "
                span.en lang="en" { "Filling book #" (book) }
            }
            p {
                "还差 " (participations_needed) " 次参与就能资助这本书。"
                br;
                span.en lang="en" {
                    "It needs " (participations_needed) " more participations to be funded."
                }
            }
        },
        BookStatus::Funded { book } => html! {
            h2 {
                "资助了第 " (book) " 本书 "
                span.en lang="en" { "Funded book #" (book) }
            }
            p {
                "这本书已获资助，正在等待有名额的学校；新的学校名单导入后即会分配。"
                br;
                span.en lang="en" {
                    "The book is funded and waiting for a school with room; it is allocated when a new school list is imported."
                }
            }
        },
        BookStatus::AwaitingSponsor => html! {
            h2 { (both("已计入，等待赞助方", "Counted, waiting for a sponsor")) }
            p {
                "现有赞助已全部兑现；新的赞助方加入后，这次参与会变成书。"
                br;
                span.en lang="en" {
                    "Every current pledge is used up; this participation becomes a book when a new sponsor joins."
                }
            }
        },
    }
}

/// An instant in China Standard Time, for display and for `<time>`.
struct ChinaTime {
    /// `2019-06-01 12:34`.
    local: String,
    /// `2019-06-01T12:34:56+08:00`.
    iso: String,
}

/// `unix_ms` in China Standard Time (UTC+8, no daylight saving), or `None`
/// for an instant outside the calendar's range.
fn china_time(unix_ms: u64) -> Option<ChinaTime> {
    let instant = Timestamp::from_millisecond(i64::try_from(unix_ms).ok()?).ok()?;
    let local = instant.to_zoned_datetime(TimeZone::fixed(tz::offset(8)));
    Some(ChinaTime {
        local: local.strftime("%Y-%m-%d %H:%M").to_string(),
        iso: local.strftime("%Y-%m-%dT%H:%M:%S%:z").to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use sim::wire::SchoolRef;

    fn school(name: &str) -> SchoolRef {
        SchoolRef {
            id: "DEMO-01".into(),
            name: name.into(),
            province: "贵州省".into(),
            prefecture: "黔东南苗族侗族自治州".into(),
            county: "榕江县".into(),
            county_code: "522632".into(),
        }
    }

    fn view(book: BookStatus) -> ParticipationView {
        ParticipationView {
            number: 1_234,
            // 2019-06-01T12:34:56+08:00
            counted_at_ms: 1_559_363_696_000,
            book,
            page_url: "https://example.org/p/1234".into(),
            open_graph: None,
        }
    }

    #[test]
    fn an_allocated_book_names_its_school_and_place() {
        let page = participation_page(&view(BookStatus::Allocated {
            book: 77,
            school: school("榕江县第一示例小学"),
        }))
        .into_string();
        for expected in [
            "第 1234 次参与",
            "Participation #1234",
            "资助了第 77 本书",
            "Funded book #77",
            "href=\"/schools/DEMO-01\"",
            "榕江县第一示例小学",
            "贵州省 黔东南苗族侗族自治州 榕江县",
            "2019-06-01 12:34",
            "datetime=\"2019-06-01T12:34:56+08:00\"",
        ] {
            assert!(page.contains(expected), "{expected:?} missing from {page}");
        }
    }

    #[test]
    fn a_filling_book_says_how_many_participations_it_needs() {
        let page = participation_page(&view(BookStatus::Filling {
            book: 78,
            participations_needed: 6,
        }))
        .into_string();
        for expected in [
            "正在凑齐第 78 本书",
            "还差 6 次参与",
            "It needs 6 more participations",
        ] {
            assert!(page.contains(expected), "{expected:?} missing from {page}");
        }
    }

    #[test]
    fn a_funded_book_without_a_school_says_it_waits_for_one() {
        let page = participation_page(&view(BookStatus::Funded { book: 79 })).into_string();
        for expected in [
            "资助了第 79 本书",
            "Funded book #79",
            "等待有名额的学校",
            "waiting for a school with room",
        ] {
            assert!(page.contains(expected), "{expected:?} missing from {page}");
        }
        assert!(
            !page.contains("href=\"/schools/"),
            "no school to link to yet: {page}"
        );
    }

    #[test]
    fn beyond_every_pledge_the_page_says_it_waits_for_a_sponsor() {
        let page = participation_page(&view(BookStatus::AwaitingSponsor)).into_string();
        assert!(page.contains("等待赞助方"), "Chinese: {page}");
        assert!(page.contains("waiting for a sponsor"), "English: {page}");
    }

    #[test]
    fn the_page_carries_a_qr_code_of_its_own_address() {
        let page = participation_page(&view(BookStatus::AwaitingSponsor)).into_string();
        let svg_start = page.find("<svg").expect("an inline SVG QR code");
        let svg_end = page.find("</svg>").expect("the SVG is closed");
        assert!(
            svg_end - svg_start > 1_000,
            "the SVG draws a real code, not an empty box"
        );
        assert!(
            page.contains("https://example.org/p/1234"),
            "the address is printed under the code"
        );
    }

    #[test]
    fn hostile_school_names_are_escaped() {
        let mut hostile = school("<script>alert(1)</script>");
        hostile.id = "\"><script>x</script>".into();
        hostile.county = "<b>县</b>".into();
        let page = participation_page(&ParticipationView {
            page_url: "https://example.org/p/1?<script>".into(),
            ..view(BookStatus::Allocated {
                book: 1,
                school: hostile,
            })
        })
        .into_string();
        assert!(
            !page.contains("<script>") && !page.contains("<b>"),
            "no injected markup survives: {page}"
        );
        assert!(
            page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "the name is shown as text: {page}"
        );
        assert!(
            page.contains("&quot;&gt;&lt;script&gt;"),
            "the id cannot leave its attribute: {page}"
        );
    }

    #[test]
    fn instants_beyond_the_calendar_are_left_out() {
        assert!(
            china_time(u64::MAX).is_none(),
            "no panic and no time for an absurd instant"
        );
        let page = participation_page(&ParticipationView {
            counted_at_ms: u64::MAX,
            ..view(BookStatus::AwaitingSponsor)
        })
        .into_string();
        assert!(!page.contains("<time"), "no time element: {page}");
    }
}
