//! The meta tags that make a link show a preview: Open Graph (WeChat,
//! QQ, Weibo, most chat apps) and Twitter's card, on the game page, the
//! share pages, and the public book pages.

use maud::{Markup, html};

use super::CardVariant;

/// What a page tells link previews about itself. Every URL is absolute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenGraph {
    /// The preview's title.
    pub title: String,
    /// One or two sentences under it.
    pub description: String,
    /// The page's own address.
    pub url: String,
    /// The card's address (a [`CardVariant::Og`] card).
    pub image: String,
    /// What the card shows, for readers that cannot see it.
    pub image_alt: String,
}

/// The card size the meta tags announce.
const IMAGE: CardVariant = CardVariant::Og;

impl OpenGraph {
    /// The tags, for a page's `<head>`.
    pub fn tags(&self) -> Markup {
        let (width, height) = IMAGE.size();
        html! {
            meta property="og:type" content="website";
            meta property="og:site_name" content="圆梦精灵图书馆";
            meta property="og:locale" content="zh_CN";
            meta property="og:title" content=(self.title);
            meta property="og:description" content=(self.description);
            meta property="og:url" content=(self.url);
            meta property="og:image" content=(self.image);
            meta property="og:image:type" content="image/png";
            meta property="og:image:width" content=(width);
            meta property="og:image:height" content=(height);
            meta property="og:image:alt" content=(self.image_alt);
            meta name="twitter:card" content="summary_large_image";
            meta name="twitter:title" content=(self.title);
            meta name="twitter:description" content=(self.description);
            meta name="twitter:image" content=(self.image);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tags_carry_absolute_urls_and_the_card_size_escaped() {
        let tags = OpenGraph {
            title: "圆梦 \"精灵\"".into(),
            description: "<b>一本书</b>".into(),
            url: "https://example.org/s/7K3M9QRT".into(),
            image: "https://example.org/s/7K3M9QRT/card/og-0123.png".into(),
            image_alt: "卡片".into(),
        }
        .tags()
        .into_string();
        for expected in [
            r#"<meta property="og:url" content="https://example.org/s/7K3M9QRT">"#,
            r#"<meta property="og:image" content="https://example.org/s/7K3M9QRT/card/og-0123.png">"#,
            r#"<meta property="og:image:width" content="1200">"#,
            r#"<meta property="og:image:height" content="630">"#,
            r#"<meta name="twitter:card" content="summary_large_image">"#,
            r#"content="圆梦 &quot;精灵&quot;""#,
            r#"content="&lt;b&gt;一本书&lt;/b&gt;""#,
        ] {
            assert!(tags.contains(expected), "{expected} in {tags}");
        }
    }
}
