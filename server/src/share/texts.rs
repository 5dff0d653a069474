//! Every fixed word the cards and posters draw, Chinese first with English
//! beside it, in one place so that the copy can be read and checked whole.
//!
//! `cargo xtask dist` keeps every character of this file in the font subset
//! (both weights), so a new word here needs no other change. The copy is
//! recognition only: it invites people to play, and never promises anything
//! in return for sharing (a test checks the words that must not appear).

/// The site's name.
pub const SITE_ZH: &str = "圆梦精灵图书馆";
pub const SITE_EN: &str = "Dream Fairy Library";

/// The sharer, who stays anonymous, and how often they took part:
/// `SHARER_ZH_BEFORE` N `SHARER_ZH_AFTER`.
pub const SHARER_ZH_BEFORE: &str = "一位同学参与了 ";
pub const SHARER_ZH_AFTER: &str = " 次";
/// English: `SHARER_EN_BEFORE` N `SHARER_EN_AFTER`, or
/// [`SHARER_EN_ONCE`] when N is 1.
pub const SHARER_EN_BEFORE: &str = "Someone has taken part ";
pub const SHARER_EN_AFTER: &str = " times";
pub const SHARER_EN_ONCE: &str = "Someone has taken part once";

/// The book of the sharer's latest participation: `BOOK_ZH_BEFORE` K
/// `BOOK_ZH_AFTER`, and in English `BOOK_EN` K.
pub const BOOK_ZH_BEFORE: &str = "最近一次参与：第 ";
pub const BOOK_ZH_AFTER: &str = " 本书";
pub const BOOK_EN: &str = "Latest: book #";
/// Said of that book's school before one is chosen (the book is still
/// being funded, or funded and waiting for a school with room).
pub const SCHOOL_PENDING_ZH: &str = "学校待定，将按公开规则分配";
pub const SCHOOL_PENDING_EN: &str = "Its school will be chosen by public rules";
/// Put before the school's name.
pub const SCHOOL_ZH: &str = "送往 ";

/// The campaign card's headline (the card of `/`, with no sharer).
pub const CAMPAIGN_ZH: &str = "玩一局小游戏，帮贫困县的孩子凑一本书";
pub const CAMPAIGN_EN: &str = "Play a short game, help fund a book for a child";
/// What a card says instead of a book when there is none to name.
pub const HOW_IT_WORKS_ZH: &str = "赞助方按参与次数捐书，每本书送往哪所学校都公开可查";
pub const HOW_IT_WORKS_EN: &str = "Sponsors fund books by participations; every school is public";

/// The campaign's total: `TOTAL_ZH_BEFORE` N `TOTAL_ZH_AFTER`, and in
/// English N `TOTAL_EN_AFTER`.
pub const TOTAL_ZH_BEFORE: &str = "全站已累计参与 ";
pub const TOTAL_ZH_AFTER: &str = " 次";
pub const TOTAL_EN_AFTER: &str = " participations so far";

/// Beside the QR code.
pub const SCAN_ZH: &str = "扫码玩一局";
pub const SCAN_EN: &str = "Scan to play";

/// The poster's headline, its English and its one line of explanation.
pub const POSTER_HEADLINE_ZH: &str = "一起来圆梦：玩一局小游戏，帮贫困县的孩子凑一本书";
pub const POSTER_HEADLINE_EN: &str =
    "Play a short game together and help fund a book for a child in a poverty county";
pub const POSTER_LINE_ZH: &str = "扫码即玩，一局约一分钟，无需下载和注册。赞助方按大家的参与次数捐书，每一本书送往哪所学校都公开可查。";
pub const POSTER_LINE_EN: &str = "About a minute a round, nothing to install. Sponsors fund books by the number of participations, and where every book goes is public.";
/// Under the poster's QR code, before the printed address.
pub const POSTER_SCAN_ZH: &str = "手机扫码，或在浏览器输入：";
pub const POSTER_SCAN_EN: &str = "Scan with a phone, or type:";

/// Every text above, for the checks of the copy as a whole.
pub const ALL: &[&str] = &[
    SITE_ZH,
    SITE_EN,
    SHARER_ZH_BEFORE,
    SHARER_ZH_AFTER,
    SHARER_EN_BEFORE,
    SHARER_EN_AFTER,
    SHARER_EN_ONCE,
    BOOK_ZH_BEFORE,
    BOOK_ZH_AFTER,
    BOOK_EN,
    SCHOOL_PENDING_ZH,
    SCHOOL_PENDING_EN,
    SCHOOL_ZH,
    CAMPAIGN_ZH,
    CAMPAIGN_EN,
    HOW_IT_WORKS_ZH,
    HOW_IT_WORKS_EN,
    TOTAL_ZH_BEFORE,
    TOTAL_ZH_AFTER,
    TOTAL_EN_AFTER,
    SCAN_ZH,
    SCAN_EN,
    POSTER_HEADLINE_ZH,
    POSTER_HEADLINE_EN,
    POSTER_LINE_ZH,
    POSTER_LINE_EN,
    POSTER_SCAN_ZH,
    POSTER_SCAN_EN,
];

/// Words the copy must never use: sharing is recognition, never a reward.
pub const FORBIDDEN_WORDS: &[&str] = &["红包", "现金", "领取", "奖励", "reward", "cash"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_copy_promises_nothing_for_sharing() {
        for text in ALL {
            for word in FORBIDDEN_WORDS {
                assert!(
                    !text.to_lowercase().contains(word),
                    "{text:?} contains the forbidden word {word:?}"
                );
            }
        }
    }
}
