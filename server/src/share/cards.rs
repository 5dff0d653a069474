//! Serving preview cards: what a card of a share code shows, its
//! content-hashed address, and drawing it at most once per content.
//!
//! A card's address names what it shows ([`card_key`]), so it is served as
//! `immutable`; a request for an address whose content has moved on is sent
//! to the current one. Drawn cards are kept in a bounded cache, and drawing
//! runs on a blocking thread, one at a time, so it never takes the async
//! threads or more than one core from the round API.

use std::num::NonZeroUsize;
use std::sync::Mutex;

use axum::body::Bytes;
use lru::LruCache;
use sim::wire::BookStatus;
use tokio::sync::Semaphore;

use super::{CardBook, CardData, CardSchool, CardVariant, Fonts, Sharer, card_key, draw_card};
use crate::store::ShareStanding;

/// Cards kept drawn: about 130 KB each, so at most ~70 MB.
const CACHED_CARDS: usize = 512;

/// The campaign total as cards show it: its three leading digits, the rest
/// rounded down (5,812,345 shows 5,810,000). Cards then change only when
/// the shown total does, not with every participation, and the figure never
/// claims more than was counted.
pub fn shown_total(total: u64) -> u64 {
    let mut step = 1;
    while total / step >= 1_000 {
        step *= 10;
    }
    total / step * step
}

/// What the card of a share code shows: its player's count and latest
/// book, or, for a poster's code (no player), the campaign card with the
/// code's link.
pub fn card_data(
    standing: Option<&ShareStanding>,
    campaign_total: u64,
    share_url: String,
) -> CardData {
    let sharer = standing
        .filter(|standing| standing.owner_participations > 0)
        .map(|standing| Sharer {
            participations: standing.owner_participations,
            latest_book: standing
                .latest
                .as_ref()
                .and_then(|latest| card_book(&latest.book)),
        });
    CardData {
        sharer,
        campaign_total: shown_total(campaign_total),
        share_url,
    }
}

/// The book a card names, with its school once it has one.
fn card_book(book: &BookStatus) -> Option<CardBook> {
    match book {
        BookStatus::Allocated { book, school } => Some(CardBook {
            number: *book,
            school: Some(CardSchool {
                name: school.name.clone(),
                county: school.county.clone(),
                province: school.province.clone(),
            }),
        }),
        BookStatus::Funded { book } | BookStatus::Filling { book, .. } => Some(CardBook {
            number: *book,
            school: None,
        }),
        BookStatus::AwaitingSponsor => None,
    }
}

/// The file name of a card: `{variant}-{key}.png`.
pub fn card_file(data: &CardData, variant: CardVariant) -> String {
    format!("{}-{}.png", variant.name(), card_key(data, variant))
}

/// Reads a card file name: its variant and key.
pub fn parse_card_file(file: &str) -> Option<(CardVariant, &str)> {
    let (name, key) = file.strip_suffix(".png")?.split_once('-')?;
    let variant = CardVariant::ALL
        .into_iter()
        .find(|variant| variant.name() == name)?;
    Some((variant, key))
}

/// Why no card can be drawn.
#[derive(Debug, thiserror::Error)]
pub enum CardUnavailable {
    /// The font subset was not found at start.
    #[error("the card font is missing: run `cargo xtask dist`")]
    NoFonts,
    /// Drawing failed.
    #[error("drawing a card: {0}")]
    Draw(#[from] super::CardError),
    /// The drawing thread died.
    #[error("the card drawing task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

/// Draws cards, at most one at a time, and keeps the latest ones.
#[derive(Debug)]
pub struct CardPainter {
    fonts: Option<Fonts>,
    drawn: Mutex<LruCache<String, Bytes>>,
    drawing: Semaphore,
}

impl CardPainter {
    /// A painter with `fonts` (`None`: every card is unavailable, and the
    /// pages say so through their status, not by failing to start).
    pub fn new(fonts: Option<Fonts>) -> Self {
        Self {
            fonts,
            drawn: Mutex::new(LruCache::new(
                NonZeroUsize::new(CACHED_CARDS).unwrap_or(NonZeroUsize::MIN),
            )),
            drawing: Semaphore::new(1),
        }
    }

    /// The font, if it was found at start (posters use it too).
    pub fn fonts(&self) -> Option<&Fonts> {
        self.fonts.as_ref()
    }

    /// The PNG of `data` as `variant`, drawn now unless it was drawn before.
    pub async fn png(
        &self,
        data: CardData,
        variant: CardVariant,
    ) -> Result<Bytes, CardUnavailable> {
        let file = card_file(&data, variant);
        if let Some(png) = self.cached(&file) {
            return Ok(png);
        }
        let fonts = self.fonts.clone().ok_or(CardUnavailable::NoFonts)?;
        // The semaphore is never closed, so acquiring only waits.
        let _turn = self.drawing.acquire().await;
        // Another request may have drawn it while this one waited.
        if let Some(png) = self.cached(&file) {
            return Ok(png);
        }
        let png: Bytes = tokio::task::spawn_blocking(move || draw_card(&fonts, &data, variant))
            .await??
            .into();
        self.drawn
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .put(file, png.clone());
        Ok(png)
    }

    fn cached(&self, file: &str) -> Option<Bytes> {
        self.drawn
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(file)
            .cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shown_total_keeps_three_leading_digits() {
        for (total, shown) in [
            (0, 0),
            (7, 7),
            (999, 999),
            (1_234, 1_230),
            (58_765, 58_700),
            (5_812_345, 5_810_000),
        ] {
            assert_eq!(shown_total(total), shown, "{total} is shown as {shown}");
        }
    }

    #[test]
    fn card_files_name_their_variant_and_key() {
        let data = card_data(None, 1_234, "https://example.org/s/7K3M9QRT".into());
        for variant in CardVariant::ALL {
            let file = card_file(&data, variant);
            let (parsed, key) = parse_card_file(&file).expect("a card file reads back");
            assert_eq!(parsed, variant, "{file}: its variant");
            assert_eq!(key, card_key(&data, variant), "{file}: its key");
        }
        assert_eq!(parse_card_file("og.png"), None, "no key");
        assert_eq!(parse_card_file("big-0123.png"), None, "no such variant");
        assert_eq!(parse_card_file("og-0123.jpg"), None, "not a PNG");
    }
}
