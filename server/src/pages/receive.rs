//! The school's secret page, printed as a QR code on each shipment: it lists
//! the books shipped and not yet confirmed, and one button confirms that
//! they arrived.
//!
//! The link itself is the credential, so the page keeps it out of search
//! engines and out of `Referer` headers (see [`super::Audience`]).

use maud::{Markup, html};
use sim::wire::SchoolRef;

use super::school::{BookStage, stage_badge};
use super::{Audience, both, layout, place};

/// What the receipt-confirmation page shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiveView {
    /// The school the link belongs to.
    pub school: SchoolRef,
    /// Books shipped to the school and not yet confirmed, by number, in
    /// order.
    pub awaiting_confirmation: Vec<u64>,
    /// How many books the school has already confirmed.
    pub received: u64,
    /// Where the confirmation form posts (`method="post"`, no fields):
    /// usually the secret link itself.
    pub confirm_url: String,
    /// On the answer to that post: how many books were just confirmed.
    pub just_confirmed: Option<u64>,
}

/// The receipt-confirmation page of one school.
pub fn receive_page(view: &ReceiveView) -> Markup {
    let school = &view.school;
    layout(
        "确认收到图书 Confirm receipt",
        Audience::SecretLink,
        None,
        html! {
            h1 { (both("确认收到图书", "Confirm receipt of books")) }
            p { strong { (school.name) } br; (place(school)) }
            @if let Some(count) = view.just_confirmed {
                p.notice role="status" {
                    "已确认收到 " (count) " 本书，谢谢！"
                    br;
                    span.en lang="en" { "Confirmed " (count) " books. Thank you!" }
                }
            }
            section.card {
                @if view.awaiting_confirmation.is_empty() {
                    p { (both("没有待确认的书。", "No books are waiting for confirmation.")) }
                } @else {
                    h2 {
                        (stage_badge(BookStage::Shipped)) " "
                        (both("待确认", "awaiting confirmation")) "："
                        (view.awaiting_confirmation.len())
                    }
                    p {
                        @for (index, number) in view.awaiting_confirmation.iter().enumerate() {
                            @if index > 0 { "、" }
                            "#" (number)
                        }
                    }
                    form method="post" action=(view.confirm_url) {
                        button type="submit" { "确认收到 / Confirm receipt" }
                    }
                }
            }
            p {
                (stage_badge(BookStage::Received)) " " (view.received)
            }
            p { a href={ "/schools/" (school.id) } { (both("本校的全部图书", "All of this school's books")) } }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(awaiting: Vec<u64>, just_confirmed: Option<u64>) -> ReceiveView {
        ReceiveView {
            school: SchoolRef {
                id: "DEMO-03".into(),
                name: "<img src=x onerror=alert(1)>示例小学".into(),
                province: "甘肃省".into(),
                prefecture: "临夏回族自治州".into(),
                county: "东乡族自治县".into(),
                county_code: "622926".into(),
            },
            awaiting_confirmation: awaiting,
            received: 40,
            confirm_url: "/receive/s3cr3t\"><script>".into(),
            just_confirmed,
        }
    }

    #[test]
    fn shipped_books_come_with_a_confirm_button_that_posts() {
        let page = receive_page(&view(vec![5, 9, 12], None)).into_string();
        for expected in [
            "#5、#9、#12",
            "待确认",
            "<form method=\"post\" action=\"/receive/s3cr3t&quot;&gt;&lt;script&gt;\">",
            "确认收到 / Confirm receipt",
        ] {
            assert!(page.contains(expected), "{expected:?} missing from {page}");
        }
        assert!(!page.contains("role=\"status\""), "no notice before a post");
    }

    #[test]
    fn the_secret_link_is_kept_from_search_engines_and_referers() {
        let page = receive_page(&view(vec![5], None)).into_string();
        assert!(page.contains("content=\"noindex, nofollow\""), "{page}");
        assert!(
            page.contains("name=\"referrer\" content=\"no-referrer\""),
            "{page}"
        );
    }

    #[test]
    fn after_confirming_the_page_thanks_and_offers_no_button() {
        let page = receive_page(&view(Vec::new(), Some(3))).into_string();
        assert!(page.contains("已确认收到 3 本书"), "Chinese notice: {page}");
        assert!(page.contains("Confirmed 3 books"), "English notice: {page}");
        assert!(page.contains("没有待确认的书"), "nothing left: {page}");
        assert!(!page.contains("<form"), "no button without books: {page}");
    }

    #[test]
    fn hostile_names_are_escaped() {
        let page = receive_page(&view(vec![1], None)).into_string();
        assert!(
            !page.contains("<img") && !page.contains("<script>"),
            "no injected markup: {page}"
        );
        assert!(
            page.contains("&lt;img src=x onerror=alert(1)&gt;"),
            "{page}"
        );
    }
}
