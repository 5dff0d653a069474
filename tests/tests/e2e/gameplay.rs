//! The game played in headless Chromium against the real server:
//! (a) real pointer, touch and keyboard input moves the fairy; (b) a whole
//! round played inside the WASM build is counted, which proves that the
//! browser's simulation and the server's native replay agree, and its
//! receipt names the school its book goes to; (c) a finish
//! whose answers are lost, across a reload, is counted exactly once; (d) a
//! refused round shows its reason. Along the way each screen is saved as an
//! artifact at phone and desktop sizes.

use std::time::Duration;

use serde_json::Value;
use tests::browser::{ARROW_LEFT, DESKTOP, KEY_D, PHONE, Screen, Touch};

use crate::session::{FIRST_FRAME_TIMEOUT, ROUND_TIMEOUT, STEP_TIMEOUT, Session, TITLE_SHOWN};

/// The screen position (CSS pixels) of playfield column `column` (0..=200)
/// at the fairy's height: the field is 9:16 and as tall or as wide as fits.
fn column_position(screen: Screen, column: f64) -> (f64, f64) {
    let (width, height) = (f64::from(screen.width), f64::from(screen.height));
    let field_width = width.min(height * 9.0 / 16.0);
    let left = (width - field_width) / 2.0;
    (left + field_width * column / 200.0, height * 0.85)
}

#[tokio::test]
async fn real_pointer_touch_and_keys_move_the_fairy() {
    let _slot = tests::browser::exclusive().await;

    // Desktop: the mouse points, the arrow keys and D fly.
    let desktop = Session::open(DESKTOP, |options| options).await;
    desktop.click("start").await;
    desktop
        .wait("dreamFairy.state.fairyColumn === 100", STEP_TIMEOUT)
        .await;
    let (x, y) = column_position(DESKTOP, 20.0);
    desktop.page.move_mouse(x, y).await;
    desktop
        .wait("dreamFairy.state.fairyColumn <= 30", STEP_TIMEOUT)
        .await;
    desktop.page.key(KEY_D, true).await;
    desktop
        .wait("dreamFairy.state.fairyColumn >= 120", STEP_TIMEOUT)
        .await;
    desktop.page.key(KEY_D, false).await;
    let released_at = desktop.fairy_column().await;
    desktop.page.key(ARROW_LEFT, true).await;
    desktop
        .wait(
            &format!("dreamFairy.state.fairyColumn < {released_at} - 40"),
            STEP_TIMEOUT,
        )
        .await;
    desktop.page.key(ARROW_LEFT, false).await;
    desktop.close_cleanly().await;

    // Phone: a finger drags the fairy.
    let phone = Session::open(PHONE, |options| options).await;
    phone.click("start").await;
    phone
        .wait("dreamFairy.state.fairyColumn === 100", STEP_TIMEOUT)
        .await;
    let (x, y) = column_position(PHONE, 180.0);
    phone.page.touch(Touch::Start(x, y)).await;
    phone
        .wait("dreamFairy.state.fairyColumn >= 170", STEP_TIMEOUT)
        .await;
    let (x, y) = column_position(PHONE, 30.0);
    phone.page.touch(Touch::Move(x, y)).await;
    phone
        .wait("dreamFairy.state.fairyColumn <= 40", STEP_TIMEOUT)
        .await;
    phone.page.touch(Touch::End(x, y)).await;
    phone.close_cleanly().await;
}

#[tokio::test]
async fn a_round_played_in_the_browser_is_counted() {
    let _slot = tests::browser::exclusive().await;
    let session = Session::open(PHONE, |options| options).await;
    // The demo schools and a sponsor who turns every participation into a
    // book, so the receipt can name the school.
    let schools = tests::workspace_root().join("assets/demo/schools.csv");
    session.admin(&["import-schools", "--file", &schools.to_string_lossy()]);
    session.admin(&[
        "pledge",
        "--sponsor",
        "测试赞助方 Test sponsor",
        "--participations-per-book",
        "1",
        "--books",
        "10",
    ]);
    session.snapshot("title").await;

    // What each frame costs while playing (see `frames.rs`).
    session.start_frame_probe().await;
    session.play_round_on_autopilot("start", true).await;
    let frames = session.frame_report().await;
    let first_frame_ms: f64 = session.page.eval("dreamFairy.firstFrameMs").await;
    session
        .wait("dreamFairy.state.receipt !== null", STEP_TIMEOUT)
        .await;
    session.snapshot("result").await;
    let measured = serde_json::json!({
        "screen": PHONE.name,
        "time_to_first_frame_ms": first_frame_ms,
        "frames_per_second_while_playing": frames.frames_per_second,
        "per_frame": frames,
    });
    println!("played in headless Chromium: {measured}");
    std::fs::write(
        tests::artifacts_dir().join("gameplay.json"),
        serde_json::to_vec_pretty(&measured).expect("JSON"),
    )
    .expect("the measurements can be saved");
    assert!(
        frames.frames_drawn > 0 && frames.frames_per_second > 0.0,
        "the game drew frames while playing: {frames:?}"
    );
    assert!(
        frames.draw_calls_per_frame.p50 > 0.0 && frames.entities.p50 > 0.0,
        "the probe saw the game's draw calls and its counts: {frames:?}"
    );

    let receipt: Value = session.page.eval("dreamFairy.state.receipt").await;
    assert_eq!(
        receipt["participation"], 1,
        "the first participation: {receipt}"
    );
    assert_eq!(
        receipt["book"]["state"], "allocated",
        "its book has a school: {receipt}"
    );
    let school = receipt["book"]["school"]["name"]
        .as_str()
        .expect("the school has a name");
    let book_line: String = session
        .page
        .eval("document.getElementById('receipt-book').textContent")
        .await;
    assert!(
        book_line.contains(school),
        "the result names the school {school:?}: {book_line:?}"
    );
    let totals = session.get_json("/api/totals").await;
    assert_eq!(
        totals["participations"], 1,
        "the server counted it: {totals}"
    );
    assert_eq!(
        totals["rejections"].as_object().map(|map| map.len()),
        Some(0),
        "and refused nothing: {totals}"
    );
    let shown: String = session
        .page
        .eval("document.getElementById('receipt-number').textContent")
        .await;
    assert!(shown.contains('1'), "the receipt is on screen: {shown:?}");
    session.close_cleanly().await;
}

#[tokio::test]
async fn a_finish_whose_answers_are_lost_is_counted_once_after_a_reload() {
    let _slot = tests::browser::exclusive().await;
    let session = Session::open(DESKTOP, |options| options).await;
    session.snapshot("title").await;
    let cut = session.page.cut_answers("*/finish").await;
    session.page.expect_problems("ERR_INTERNET_DISCONNECTED");

    session.play_round_on_autopilot("start", true).await;
    // The finish reached the server, but its answer was lost: the game says
    // it will retry, and keeps the round in local storage.
    session
        .wait("dreamFairy.state.events.includes('retrying')", STEP_TIMEOUT)
        .await;
    session.snapshot("result-retrying").await;
    let kept: i64 = session
        .page
        .eval("JSON.parse(localStorage.getItem('dreamFairy.outbox') ?? '[]').length")
        .await;
    assert_eq!(kept, 1, "the finished round waits in local storage");

    // A reload while the network is still cut: the new visit sends the kept
    // round again, and that answer is lost too.
    let dropped_before_reload = cut.dropped();
    session.page.reload().await;
    session.wait(TITLE_SHOWN, FIRST_FRAME_TIMEOUT).await;
    let deadline = tokio::time::Instant::now() + STEP_TIMEOUT;
    while cut.dropped() <= dropped_before_reload {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the reloaded page never sent the kept round"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    cut.restore().await;
    session
        .wait("dreamFairy.state.receipt !== null", ROUND_TIMEOUT)
        .await;
    session.snapshot("title-earlier-round-counted").await;
    let outbox_left: i64 = session
        .page
        .eval("JSON.parse(localStorage.getItem('dreamFairy.outbox') ?? '[]').length")
        .await;
    assert_eq!(
        outbox_left, 0,
        "the outbox is empty once the round is counted"
    );

    let totals = session.get_json("/api/totals").await;
    assert_eq!(
        totals["participations"], 1,
        "counted exactly once: {totals}"
    );
    let refused = totals["rejections"].as_object().map_or(0, |map| map.len());
    assert_eq!(refused, 0, "every resend was the same request: {totals}");
    let player: String = session
        .page
        .eval("localStorage.getItem('dreamFairy.player')")
        .await;
    let history = session
        .get_json(&format!("/api/players/{player}/participations"))
        .await;
    assert_eq!(
        history.as_array().map(Vec::len),
        Some(1),
        "one participation in the player's history: {history}"
    );
    session.close_cleanly().await;
}

#[tokio::test]
async fn a_refused_round_shows_its_reason() {
    let _slot = tests::browser::exclusive().await;
    let session = Session::open(DESKTOP, |options| options.args(["--player-daily-cap", "1"])).await;
    // The refusal is an HTTP 429, which Chromium logs as a failed resource.
    session.page.expect_problems("429");

    session.play_round_on_autopilot("start", false).await;
    session
        .wait("dreamFairy.state.receipt !== null", STEP_TIMEOUT)
        .await;
    session.snapshot("result").await;

    // The second round of the day is over the cap of one.
    session.play_round_on_autopilot("again", false).await;
    session
        .wait("dreamFairy.state.rejection !== null", STEP_TIMEOUT)
        .await;
    session.snapshot("result-refused").await;
    let reason: String = session.page.eval("dreamFairy.state.rejection.reason").await;
    assert_eq!(reason, "daily_cap_reached");
    let shown: String = session
        .page
        .eval("document.getElementById('result-status').textContent")
        .await;
    assert!(
        shown.contains("明天再来"),
        "the player is told to come back tomorrow: {shown:?}"
    );
    session.close_cleanly().await;
}
