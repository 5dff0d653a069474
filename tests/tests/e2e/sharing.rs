//! Sharing in headless Chromium: a new player opens a share link (with the
//! query parameters chat apps append), plays a round on the autopilot, and
//! the sharer's tally rises by one; with the Web Share API taken away (as
//! inside WeChat), the share button shows the card with its QR code, ready
//! to long-press and save.

use serde_json::Value;
use sim::Rules;
use sim::wire::{FinishRoundRequest, Receipt, RoundStarted, StartRoundRequest};
use tests::browser::PHONE;
use tests::server_process::{ServerOptions, ServerProcess};

use crate::session::{STEP_TIMEOUT, Session};

/// Rounds started at most to find one the scripted player completes.
const MAX_SEEDS_TRIED: usize = 20;

/// Plays and finishes one round over HTTP as a new player: the sharer.
async fn counted_player(base_url: &str) -> Receipt {
    let client = reqwest::Client::new();
    for _ in 0..MAX_SEEDS_TRIED {
        let started: RoundStarted = client
            .post(format!("{base_url}/api/rounds"))
            .json(&StartRoundRequest {
                player: None,
                referral: None,
            })
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .expect("a round starts")
            .json()
            .await
            .expect("a RoundStarted body");
        let (input_log, outcome) = sim::bot::play_round(started.seed, &Rules::CURRENT);
        if !outcome.completed {
            continue;
        }
        return client
            .post(format!("{base_url}/api/rounds/{}/finish", started.round_id))
            .header("idempotency-key", &started.round_id)
            .json(&FinishRoundRequest {
                token: started.token,
                input_log,
                outcome,
            })
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .expect("the round counts")
            .json()
            .await
            .expect("a Receipt body");
    }
    panic!("the scripted player completed none of {MAX_SEEDS_TRIED} rounds");
}

#[tokio::test]
async fn a_friend_who_plays_through_a_share_link_credits_the_sharer() {
    let _slot = tests::browser::exclusive().await;
    let data = tempfile::tempdir().expect("a temporary data folder");
    let server = ServerProcess::spawn(
        ServerOptions::new(data.path())
            .dist(tests::dist_dir())
            .without_player_limits(),
    );
    let sharer = counted_player(server.base_url()).await;
    let code = sharer.share_code.clone().expect("the sharer has a code");
    let sharing_path = format!("/api/players/{}/sharing", sharer.player);

    let session = Session::open_on(
        PHONE,
        server,
        data,
        &format!("/s/{code}?from=singlemessage&isappinstalled=0"),
    )
    .await;
    let before = session.get_json(&sharing_path).await;
    assert_eq!(
        before["referred_players"], 0,
        "nobody referred yet: {before}"
    );
    let kept: String = session
        .page
        .eval("localStorage.getItem('dreamFairy.referral')")
        .await;
    assert_eq!(kept, code, "the page keeps the code it arrived with");
    session.snapshot("share-link-title").await;

    session.play_round_on_autopilot("start", false).await;
    session
        .wait("dreamFairy.state.receipt !== null", STEP_TIMEOUT)
        .await;
    let after = session.get_json(&sharing_path).await;
    assert_eq!(
        after["referred_players"], 1,
        "the friend's first counted round credits the sharer: {after}"
    );
    let friend: Value = session.page.eval("dreamFairy.state.receipt").await;
    assert!(
        friend["share_code"].as_str().is_some_and(|own| own != code),
        "the friend got a share code of their own: {friend}"
    );

    // No Web Share API, as inside WeChat: the card overlay appears.
    let _: bool = session
        .page
        .eval("Object.defineProperty(navigator, 'share', { value: undefined }), true")
        .await;
    session.click("share").await;
    session
        .wait(
            "dreamFairy.state.shareCard !== null \
             && document.getElementById('share-card-image').complete \
             && document.getElementById('share-card-image').naturalWidth === 1200",
            STEP_TIMEOUT,
        )
        .await;
    let link: String = session
        .page
        .eval("document.getElementById('share-card-link').textContent")
        .await;
    let own_code = friend["share_code"].as_str().unwrap_or_default();
    assert!(
        link.ends_with(&format!("/s/{own_code}")),
        "the overlay offers the friend's own link: {link}"
    );
    session.snapshot("share-card").await;

    // "My participations" shows what the friend's own sharing brought.
    session.click("share-card-close").await;
    let _: bool = session
        .page
        .eval("document.querySelector('[data-show-history]').click(), true")
        .await;
    session
        .wait("dreamFairy.state.friends === 0", STEP_TIMEOUT)
        .await;
    let friends: String = session
        .page
        .eval("document.getElementById('history-friends').textContent")
        .await;
    assert!(
        friends.contains("你的分享带来了 0 位朋友"),
        "the tally is shown: {friends:?}"
    );
    session.snapshot("history-sharing").await;
    session.close_cleanly().await;
}
