//! Drawing what people share, on one thread:
//!
//! - `draw_card`: one preview card of each variant, composed, laid out,
//!   rasterised and encoded as PNG (target: at most 20 ms each on one core,
//!   so a cold card never holds a request long);
//! - `poster_pdf`: one A4 QR poster as PDF, font embedding included;
//! - `card_key`: naming a card by what it shows, done on every request for
//!   a card's URL;
//! - `load_fonts`: reading the font subset into the shared database, once
//!   per process.
//!
//! Needs the font subset (`cargo xtask dist`), from `DREAMFAIRY_DIST` or
//! `<workspace>/dist`.
//!
//! Run: `CARGO_TARGET_DIR=... cargo bench -p server --bench share`.

use std::path::PathBuf;
use std::sync::LazyLock;

use server::share::{
    CardBook, CardData, CardSchool, CardVariant, Fonts, PosterData, Sharer, card_key, draw_card,
    poster_pdf,
};

fn main() {
    divan::main();
}

fn dist_dir() -> PathBuf {
    std::env::var_os("DREAMFAIRY_DIST").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../dist"),
        PathBuf::from,
    )
}

static FONTS: LazyLock<Fonts> = LazyLock::new(|| {
    Fonts::from_dist(&dist_dir()).unwrap_or_else(|error| panic!("the share bench: {error}"))
});

/// A typical card: a sharer whose latest book has a school with a
/// middle-length name.
fn card() -> CardData {
    CardData {
        sharer: Some(Sharer {
            participations: 27,
            latest_book: Some(CardBook {
                number: 48_213,
                school: Some(CardSchool {
                    name: "黔南布依族苗族自治州平塘县示例镇中心小学".to_owned(),
                    county: "平塘县".to_owned(),
                    province: "贵州省".to_owned(),
                }),
            }),
        }),
        campaign_total: 2_345_678,
        share_url: "https://yuanmeng.example.org/s/Ab3dE9xK".to_owned(),
    }
}

#[divan::bench(args = CardVariant::ALL)]
fn draw_card_png(bencher: divan::Bencher, variant: CardVariant) {
    let fonts = &*FONTS;
    let data = card();
    bencher.bench(|| draw_card(fonts, &data, variant).expect("the card draws"));
}

#[divan::bench]
fn poster(bencher: divan::Bencher) {
    let fonts = &*FONTS;
    let data = PosterData {
        share_url: "https://yuanmeng.example.org/s/Ab3dE9xK".to_owned(),
        label: Some("三年级二班".to_owned()),
    };
    bencher.bench(|| poster_pdf(fonts, &data).expect("the poster draws"));
}

#[divan::bench]
fn key(bencher: divan::Bencher) {
    let data = card();
    bencher.bench(|| card_key(&data, CardVariant::Og));
}

#[divan::bench(sample_count = 10)]
fn load_fonts() -> Fonts {
    Fonts::from_dist(&dist_dir()).expect("the fonts load")
}
