//! `/schools/{id}`: one school, its target and every book allocated to it
//! with where that book is in its lifecycle.

use maud::{Markup, html};
use serde::{Deserialize, Serialize};
use sim::wire::SchoolRef;

use super::{Audience, both, layout, place};
use crate::share::meta::OpenGraph;

/// What the school page shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchoolView {
    /// The school.
    pub school: SchoolRef,
    /// Pupils at the school.
    pub pupils: u32,
    /// Books it should receive at most.
    pub target_books: u32,
    /// Its books, in book-number order.
    pub books: Vec<BookView>,
    /// The page's link-preview tags.
    pub open_graph: Option<OpenGraph>,
}

/// One of a school's books.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BookView {
    /// The book's number in the campaign (from 1).
    pub number: u64,
    /// Where it is in its lifecycle.
    pub stage: BookStage,
}

/// Where a book is in its lifecycle, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BookStage {
    /// Enough participations and a sponsor pledge paid for it.
    Funded,
    /// The apportionment gave it to a school.
    Allocated,
    /// The foundation sent it to the school.
    Shipped,
    /// The school confirmed it arrived.
    Received,
}

impl BookStage {
    /// Every stage, in lifecycle order.
    pub const ALL: [BookStage; 4] = [
        BookStage::Funded,
        BookStage::Allocated,
        BookStage::Shipped,
        BookStage::Received,
    ];

    /// The stage's name in Chinese.
    pub fn zh(self) -> &'static str {
        match self {
            BookStage::Funded => "已资助",
            BookStage::Allocated => "已分配",
            BookStage::Shipped => "已发货",
            BookStage::Received => "已收到",
        }
    }

    /// The stage's name in English.
    pub fn en(self) -> &'static str {
        match self {
            BookStage::Funded => "funded",
            BookStage::Allocated => "allocated",
            BookStage::Shipped => "shipped",
            BookStage::Received => "received",
        }
    }
}

/// The page of one school.
pub fn school_page(view: &SchoolView) -> Markup {
    let school = &view.school;
    let books = u64::try_from(view.books.len()).unwrap_or(u64::MAX);
    layout(
        &school.name,
        Audience::Public,
        view.open_graph.as_ref(),
        html! {
            h1 { (school.name) }
            p { (place(school)) " · " (both("县代码", "county code")) " " (school.county_code) }
            section.card {
                dl {
                    dt { (both("学生数", "Pupils")) }
                    dd { (view.pupils) }
                    dt { (both("目标册数", "Target")) }
                    dd { (view.target_books) }
                    dt { (both("已分到", "Books so far")) }
                    dd { (books) " / " (view.target_books) }
                }
                progress value=(books) max=(view.target_books) {
                    (books) " / " (view.target_books)
                }
            }
            h2 { (both("图书", "Books")) }
            @if view.books.is_empty() {
                p { (both("还没有分到书。", "No books yet.")) }
            } @else {
                p {
                    @for stage in BookStage::ALL {
                        (stage_badge(stage)) " "
                        (view.books.iter().filter(|book| book.stage == stage).count())
                        " "
                    }
                }
                table {
                    thead { tr { th { (both("书号", "Book")) } th { (both("状态", "Status")) } } }
                    tbody {
                        @for book in &view.books {
                            tr { td { "#" (book.number) } td { (stage_badge(book.stage)) } }
                        }
                    }
                }
            }
        },
    )
}

/// A coloured label naming `stage` in both languages.
pub(super) fn stage_badge(stage: BookStage) -> Markup {
    html! {
        span class={ "stage stage-" (stage.en()) } { (both(stage.zh(), stage.en())) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(name: &str, books: Vec<BookView>) -> SchoolView {
        SchoolView {
            school: SchoolRef {
                id: "DEMO-02".into(),
                name: name.into(),
                province: "云南省".into(),
                prefecture: "怒江傈僳族自治州".into(),
                county: "福贡县".into(),
                county_code: "533323".into(),
            },
            pupils: 312,
            target_books: 600,
            open_graph: None,
            books,
        }
    }

    #[test]
    fn the_page_shows_the_school_its_numbers_and_every_book_with_its_stage() {
        let books = vec![
            BookView {
                number: 3,
                stage: BookStage::Received,
            },
            BookView {
                number: 11,
                stage: BookStage::Shipped,
            },
            BookView {
                number: 19,
                stage: BookStage::Allocated,
            },
        ];
        let page = school_page(&view("福贡县示例小学", books)).into_string();
        for expected in [
            "<title>福贡县示例小学 · 圆梦精灵图书馆</title>",
            "云南省 怒江傈僳族自治州 福贡县",
            "533323",
            "<dd>312</dd>",
            "<dd>600</dd>",
            "<dd>3 / 600</dd>",
            "<progress value=\"3\" max=\"600\">",
            "<td>#3</td><td><span class=\"stage stage-received\">已收到",
            "<td>#11</td><td><span class=\"stage stage-shipped\">已发货",
            "<td>#19</td><td><span class=\"stage stage-allocated\">已分配",
        ] {
            assert!(page.contains(expected), "{expected:?} missing from {page}");
        }
    }

    #[test]
    fn a_school_without_books_says_so() {
        let page = school_page(&view("示例小学", Vec::new())).into_string();
        assert!(page.contains("还没有分到书"), "Chinese: {page}");
        assert!(page.contains("No books yet"), "English: {page}");
        assert!(!page.contains("<table"), "no empty table: {page}");
    }

    #[test]
    fn hostile_school_names_are_escaped() {
        let page = school_page(&view("<script>alert('x')</script>", Vec::new())).into_string();
        assert!(!page.contains("<script>"), "no injected markup: {page}");
        assert!(
            page.contains("&lt;script&gt;"),
            "shown as text, in the title and the heading: {page}"
        );
    }

    #[test]
    fn stages_serialise_as_snake_case_in_lifecycle_order() {
        let names: Vec<String> = BookStage::ALL
            .iter()
            .map(|stage| serde_json::to_string(stage).expect("serialise"))
            .collect();
        assert_eq!(
            names,
            ["\"funded\"", "\"allocated\"", "\"shipped\"", "\"received\""],
            "the JSON names"
        );
        assert!(
            BookStage::ALL.windows(2).all(|pair| pair[0] < pair[1]),
            "ordered as the lifecycle runs"
        );
    }
}
