//! Sharing over real HTTP: share codes on receipts, the credit a referred
//! player's first counted round gives the sharer (exactly once, under
//! retries and races, and never for self-referral, a player counted before,
//! an unknown code or a page view), the share link's page and preview tags,
//! and the cards under their content-hashed addresses.

use std::path::PathBuf;

use reqwest::StatusCode;
use server::allocation::Report;
use sim::wire::{PlayerSharing, Receipt, StartRoundRequest};

use crate::helpers::{Db, TestApp, on_both_backends, spawn_app, spawn_app_with};

on_both_backends!(
    a_referred_players_first_counted_round_credits_the_sharer_once,
    a_retried_finish_and_racing_finishes_credit_once,
    self_referral_a_counted_player_an_unknown_code_and_page_views_credit_nothing,
    the_tally_survives_a_restart,
    pages_carry_absolute_preview_tags_whose_images_have_their_size,
    a_card_is_immutable_under_its_content_hash_and_drawn_again_when_it_changes,
    the_console_shows_what_share_links_brought_and_makes_posters,
);

/// The built game with its font subset: `DREAMFAIRY_DIST` (set by `cargo
/// xtask test`), else the workspace's `dist/`.
fn built_dist() -> PathBuf {
    let dist = std::env::var_os("DREAMFAIRY_DIST").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../dist"),
        PathBuf::from,
    );
    assert!(
        dist.join("fonts")
            .join("NotoSansCJKsc-Regular.subset.otf")
            .is_file()
            && dist.join("index.html").is_file(),
        "the card tests need the built game and its fonts in {}: run `cargo xtask dist` \
         (or `cargo xtask test`)",
        dist.display()
    );
    dist
}

/// A server on the built game, so cards can be drawn and pages served.
async fn spawn_app_with_cards(db: Db) -> TestApp {
    let dist = built_dist();
    spawn_app_with(db, move |config| config.dist = dist).await
}

fn start_as(player: Option<&str>, referral: Option<&str>) -> StartRoundRequest {
    StartRoundRequest {
        player: player.map(str::to_owned),
        referral: referral.map(str::to_owned),
    }
}

impl TestApp {
    /// `GET /api/players/{player}/sharing`.
    async fn sharing(&self, player: &str) -> PlayerSharing {
        let response = self
            .client
            .get(self.url(&format!("/api/players/{player}/sharing")))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "the sharing endpoint");
        response.json().await.expect("a PlayerSharing body")
    }

    /// A player who was counted once, with their receipt (and share code).
    async fn sharer(&self) -> Receipt {
        let receipt = self.play_and_count(None).await;
        assert!(
            receipt.share_code.is_some(),
            "a counted player's receipt carries their share code: {receipt:?}"
        );
        receipt
    }

    /// The public report, as rebuilt after every commit so far.
    async fn fresh_report(&self) -> Report {
        self.state
            .report
            .refresh(self.state.store.as_ref())
            .await
            .expect("the report rebuilds");
        self.client
            .get(self.url("/api/report"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .expect("a report")
    }
}

async fn a_referred_players_first_counted_round_credits_the_sharer_once(db: Db) {
    let app = spawn_app(db).await;
    let sharer = app.sharer().await;
    let code = sharer.share_code.clone().unwrap();
    let before = app.sharing(&sharer.player).await;
    assert_eq!(before.referred_players, 0, "nobody referred yet");
    assert_eq!(before.share_path, Some(format!("/s/{code}")), "the link");

    // A friend arrives through the link (typed in lower case: codes are
    // case-insensitive) and plays twice.
    let referral = code.to_lowercase();
    let friend = app
        .play_and_count_with(&start_as(None, Some(&referral)))
        .await;
    app.play_and_count_with(&start_as(Some(&friend.player), Some(&referral)))
        .await;
    let after = app.sharing(&sharer.player).await;
    assert_eq!(
        after.referred_players, 1,
        "one friend, however often they play"
    );
    assert_ne!(
        friend.share_code, sharer.share_code,
        "the friend has a code of their own"
    );

    let report = app.fresh_report().await;
    assert_eq!(
        report.sharing.referred_players, 1,
        "the report counts the referred player"
    );
    assert_eq!(
        report.sharing.participations_via_share, 2,
        "and both of the friend's rounds as coming through a share link"
    );
    assert_eq!(
        report
            .sharing
            .top_codes
            .iter()
            .map(|top| (top.code.as_str(), top.referred_players))
            .collect::<Vec<_>>(),
        [(code.as_str(), 1)],
        "the top referring codes: codes only"
    );
    app.shutdown().await;
}

async fn a_retried_finish_and_racing_finishes_credit_once(db: Db) {
    let app = spawn_app(db).await;
    let sharer = app.sharer().await;
    let code = sharer.share_code.clone().unwrap();

    // The same finish sent twice, one after the other.
    let (started, request) = app.played_round_with(&start_as(None, Some(&code))).await;
    for attempt in 0..2 {
        let response = app.finish(&started.round_id, "same-key", &request).await;
        assert_eq!(response.status(), StatusCode::OK, "attempt {attempt}");
    }
    assert_eq!(
        app.sharing(&sharer.player).await.referred_players,
        1,
        "a retry credits nothing more"
    );

    // A new friend finishes two different rounds at the same moment: both
    // are their first, and only one may credit.
    let (first, first_request) = app.played_round_with(&start_as(None, Some(&code))).await;
    let (second, second_request) = app
        .played_round_with(&start_as(Some(&first.player), Some(&code)))
        .await;
    let (one, other) = tokio::join!(
        app.finish(&first.round_id, &first.round_id, &first_request),
        app.finish(&second.round_id, &second.round_id, &second_request),
    );
    assert_eq!(
        (one.status(), other.status()),
        (StatusCode::OK, StatusCode::OK),
        "both rounds count"
    );
    assert_eq!(
        app.sharing(&sharer.player).await.referred_players,
        2,
        "the racing friend is credited once"
    );
    app.shutdown().await;
}

async fn self_referral_a_counted_player_an_unknown_code_and_page_views_credit_nothing(db: Db) {
    let app = spawn_app(db).await;
    let sharer = app.sharer().await;
    let code = sharer.share_code.clone().unwrap();

    // The sharer plays through their own link.
    app.play_and_count_with(&start_as(Some(&sharer.player), Some(&code)))
        .await;
    // A player counted before the link reached them.
    let earlier = app.play_and_count(None).await;
    app.play_and_count_with(&start_as(Some(&earlier.player), Some(&code)))
        .await;
    // A code nobody holds.
    app.play_and_count_with(&start_as(None, Some("ZZZZZZZZ")))
        .await;
    // Page views (a crawler fetching the preview, people opening the link).
    for query in ["", "?from=singlemessage&isappinstalled=0"] {
        let page = app
            .client
            .get(app.url(&format!("/s/{code}{query}")))
            .send()
            .await
            .unwrap();
        assert_ne!(
            page.status(),
            StatusCode::NOT_FOUND,
            "the share link exists"
        );
    }

    assert_eq!(
        app.sharing(&sharer.player).await.referred_players,
        0,
        "nothing credited the sharer"
    );
    assert_eq!(
        app.fresh_report().await.sharing.referred_players,
        0,
        "and nobody anywhere"
    );
    app.shutdown().await;
}

async fn the_tally_survives_a_restart(db: Db) {
    let app = spawn_app(db).await;
    let sharer = app.sharer().await;
    let code = sharer.share_code.clone().unwrap();
    app.play_and_count_with(&start_as(None, Some(&code))).await;
    let app = app.restart().await;
    let after = app.sharing(&sharer.player).await;
    assert_eq!(after.referred_players, 1, "the credit is in the ledger");
    assert_eq!(
        after.share_code.as_deref(),
        Some(code.as_str()),
        "so is the code"
    );
    let again = app.play_and_count(Some(sharer.player.as_str())).await;
    assert_eq!(
        again.share_code.as_deref(),
        Some(code.as_str()),
        "a player keeps their code across rounds and restarts"
    );
    app.shutdown().await;
}

/// The `content` of the meta tag `<meta {attribute}="{name}" content="...">`.
fn meta(page: &str, attribute: &str, name: &str) -> Option<String> {
    let start = format!(r#"<meta {attribute}="{name}" content=""#);
    let from = page.find(&start)? + start.len();
    let to = page[from..].find('"')? + from;
    Some(page[from..to].replace("&amp;", "&"))
}

/// Width and height of a PNG, from its header.
fn png_size(png: &[u8]) -> (u32, u32) {
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "a PNG");
    let number = |at: usize| u32::from_be_bytes(png[at..at + 4].try_into().unwrap());
    (number(16), number(20))
}

async fn pages_carry_absolute_preview_tags_whose_images_have_their_size(db: Db) {
    let app = spawn_app_with_cards(db).await;
    app.cli_import("schools.csv", crate::allocation::schools())
        .await;
    app.cli(|cli| async move {
        cli.pledge(
            server::allocation::Pledge {
                sponsor: "测试基金会".into(),
                participations_per_book: 1,
                book_cap: 10,
            },
            server::store::Actor::os_user("test"),
        )
        .await
    })
    .await
    .unwrap();
    let sharer = app.sharer().await;
    let code = sharer.share_code.clone().unwrap();
    let school = match &sharer.book {
        sim::wire::BookStatus::Allocated { school, .. } => school.id.clone(),
        other => panic!("the sharer's book is allocated: {other:?}"),
    };
    for path in [
        format!("/s/{code}"),
        "/".to_owned(),
        format!("/p/{}", sharer.participation),
        format!("/schools/{school}"),
    ] {
        let page = app
            .client
            .get(app.url(&path))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let url = meta(&page, "property", "og:url").expect("og:url");
        let image = meta(&page, "property", "og:image").expect("og:image");
        assert!(
            url.starts_with(&app.base_url) && image.starts_with(&app.base_url),
            "{path}: absolute URLs ({url}, {image})"
        );
        for tag in ["og:title", "og:description"] {
            assert!(
                meta(&page, "property", tag).is_some_and(|text| !text.is_empty()),
                "{path}: {tag}"
            );
        }
        assert_eq!(
            meta(&page, "name", "twitter:card").as_deref(),
            Some("summary_large_image"),
            "{path}: a large Twitter card"
        );
        let width: u32 = meta(&page, "property", "og:image:width")
            .unwrap()
            .parse()
            .unwrap();
        let height: u32 = meta(&page, "property", "og:image:height")
            .unwrap()
            .parse()
            .unwrap();
        let png = app.client.get(&image).send().await.unwrap();
        assert_eq!(png.status(), StatusCode::OK, "{path}: its image is served");
        assert_eq!(png.headers()["content-type"], "image/png", "{path}: a PNG");
        assert_eq!(
            png_size(&png.bytes().await.unwrap()),
            (width, height),
            "{path}: the image has the size the tags say"
        );
    }
    let robots = app
        .client
        .get(app.url("/robots.txt"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        robots.contains("Allow: /")
            && !robots.contains("Disallow: /s/")
            && !robots.contains("Disallow: /card"),
        "crawlers may fetch the share links and the cards: {robots}"
    );
    app.shutdown().await;
}

async fn a_card_is_immutable_under_its_content_hash_and_drawn_again_when_it_changes(db: Db) {
    let app = spawn_app_with_cards(db).await;
    let sharer = app.sharer().await;
    let first = app.sharing(&sharer.player).await.card_path.unwrap();
    let response = app.client.get(app.url(&first)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK, "the card is served");
    assert_eq!(
        response.headers()["cache-control"],
        "public, max-age=31536000, immutable",
        "under its content-hashed address"
    );
    let first_png = response.bytes().await.unwrap();
    assert_eq!(png_size(&first_png), (1200, 630), "an Open Graph card");

    // The sharer plays again: the card shows another count.
    app.play_and_count(Some(sharer.player.as_str())).await;
    let second = app.sharing(&sharer.player).await.card_path.unwrap();
    assert_ne!(second, first, "a new address for new content");
    let second_png = app
        .client
        .get(app.url(&second))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_ne!(second_png, first_png, "drawn again");

    let no_redirects = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let stale = no_redirects.get(app.url(&first)).send().await.unwrap();
    assert_eq!(
        stale.status(),
        StatusCode::FOUND,
        "the old address moved on"
    );
    assert_eq!(
        stale.headers()["location"],
        second.as_str(),
        "to the current card"
    );
    for variant in ["mini", "thumb"] {
        let path = second.replace("/og-", &format!("/{variant}-"));
        let moved = no_redirects.get(app.url(&path)).send().await.unwrap();
        let location = moved.headers()["location"].to_str().unwrap().to_owned();
        let card = app.client.get(app.url(&location)).send().await.unwrap();
        let expected = if variant == "mini" {
            (1000, 800)
        } else {
            (300, 300)
        };
        assert_eq!(
            png_size(&card.bytes().await.unwrap()),
            expected,
            "the {variant} card has its size"
        );
    }
    app.shutdown().await;
}

async fn the_console_shows_what_share_links_brought_and_makes_posters(db: Db) {
    let app = spawn_app_with_cards(db).await;
    app.create_user("ops", server::domain::Role::Operator).await;
    let sharer = app.sharer().await;
    let code = sharer.share_code.clone().unwrap();
    app.play_and_count_with(&start_as(None, Some(&code))).await;
    let console = app.sign_in("ops").await;

    let page = console.page("/admin/sharing").await;
    let (rows, totals) = crate::console::table_rows(&page, "分享带来的参与");
    assert_eq!(
        rows,
        [vec![code.clone(), "1".to_owned(), "1".to_owned()]],
        "the sharer's code, one player and one participation: {page}"
    );
    assert_eq!(
        totals.get(1).map(String::as_str),
        Some("1"),
        "the totals row"
    );
    assert!(
        page.contains("/admin/sharing/poster"),
        "an operator sees the poster form"
    );

    let poster = console
        .post("/admin/sharing/poster", &[("label", "三年级二班")])
        .await;
    assert_eq!(poster.status(), StatusCode::OK, "the poster is made");
    assert_eq!(poster.headers()["content-type"], "application/pdf", "a PDF");
    let disposition = poster.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        disposition.starts_with("attachment;") && disposition.contains(".pdf"),
        "a download: {disposition}"
    );
    let pdf = poster.bytes().await.unwrap();
    assert!(pdf.starts_with(b"%PDF"), "PDF bytes");

    let refused = console
        .post("/admin/sharing/poster", &[("label", "=HYPERLINK(\"x\")")])
        .await;
    assert_eq!(
        refused.status(),
        StatusCode::BAD_REQUEST,
        "a formula-like label is refused"
    );
    let audit = app
        .state
        .store
        .admin()
        .audit_log(
            &server::store::admin::AuditFilter {
                action: Some(server::store::admin::AuditAction::PosterMade),
                ..Default::default()
            },
            server::store::admin::Window {
                offset: 0,
                limit: 50,
            },
        )
        .await
        .unwrap();
    assert!(
        audit
            .rows
            .iter()
            .any(|record| record.entry.detail == "三年级二班" && record.entry.actor.name == "ops"),
        "the poster is in the audit log: {:?}",
        audit.rows
    );
    app.shutdown().await;
}
