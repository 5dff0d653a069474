//! Every refusal of the round API: its status, its reason, that it is
//! recorded, and that it counts nothing.

use std::time::Duration;

use reqwest::StatusCode;
use server::domain::{PlayerId, RoundId};
use server::token::{RoundClaims, TokenKey};
use sim::wire::{ApiError, FinishRoundRequest, RejectReason, StartRoundRequest};
use sim::{InputLog, Rules};

use crate::helpers::{Db, TestApp, on_both_backends, play, spawn_app, spawn_app_with};

on_both_backends!(
    a_token_signed_with_another_secret_is_401_invalid_token,
    a_tampered_token_is_401_invalid_token,
    the_token_of_another_round_is_401_invalid_token,
    an_expired_token_is_401_token_expired,
    a_round_counted_under_another_key_is_409_round_already_counted,
    a_finish_sooner_than_the_round_played_is_422_too_fast,
    an_outcome_the_log_does_not_give_is_422_replay_mismatch,
    a_log_played_on_another_seed_is_422_replay_mismatch,
    an_honest_but_unfinished_round_is_422_round_incomplete,
    a_round_started_under_other_rules_is_422_rules_version_mismatch,
    a_player_over_the_daily_cap_is_429_daily_cap_reached,
    an_address_over_its_rate_is_429_rate_limited,
    malformed_requests_are_400_malformed_request,
    a_body_over_the_limit_is_413_body_too_large,
);

/// The claims of a freshly started round, to sign altered copies of.
async fn started_claims(app: &TestApp) -> (sim::wire::RoundStarted, RoundClaims) {
    let started = app.start_round().await;
    let claims = app.tokens.verify(&started.token).unwrap();
    (started, claims)
}

async fn a_token_signed_with_another_secret_is_401_invalid_token(db: Db) {
    let app = spawn_app(db).await;
    let (started, claims) = started_claims(&app).await;
    let forger = TokenKey::new(&[7; 32]).unwrap();
    let request = FinishRoundRequest {
        token: forger.sign(&claims),
        ..play(&started)
    };
    app.assert_refused(
        StatusCode::UNAUTHORIZED,
        RejectReason::InvalidToken,
        app.finish(&started.round_id, "k", &request),
    )
    .await;
}

async fn a_tampered_token_is_401_invalid_token(db: Db) {
    let app = spawn_app(db).await;
    let (started, _) = started_claims(&app).await;
    let mut token = started.token.clone().into_bytes();
    token[10] = if token[10] == b'A' { b'B' } else { b'A' };
    let request = FinishRoundRequest {
        token: String::from_utf8(token).unwrap(),
        ..play(&started)
    };
    app.assert_refused(
        StatusCode::UNAUTHORIZED,
        RejectReason::InvalidToken,
        app.finish(&started.round_id, "k", &request),
    )
    .await;
}

async fn the_token_of_another_round_is_401_invalid_token(db: Db) {
    let app = spawn_app(db).await;
    let (started, _) = started_claims(&app).await;
    let other = app.start_round().await;
    let request = play(&started);
    app.assert_refused(
        StatusCode::UNAUTHORIZED,
        RejectReason::InvalidToken,
        app.finish(&other.round_id, "k", &request),
    )
    .await;
}

async fn an_expired_token_is_401_token_expired(db: Db) {
    let app = spawn_app(db).await;
    let (started, claims) = started_claims(&app).await;
    let max_age = app.config.rounds.max_round_age();
    let issued_long_ago = RoundClaims {
        issued_at_ms: claims.issued_at_ms - u64::try_from(max_age.as_millis()).unwrap() - 1_000,
        ..claims
    };
    let request = FinishRoundRequest {
        token: app.tokens.sign(&issued_long_ago),
        ..play(&started)
    };
    app.assert_refused(
        StatusCode::UNAUTHORIZED,
        RejectReason::TokenExpired,
        app.finish(&started.round_id, "k", &request),
    )
    .await;
}

async fn a_round_counted_under_another_key_is_409_round_already_counted(db: Db) {
    let app = spawn_app(db).await;
    let (started, request) = app.played_round(None).await;
    let first = app.finish(&started.round_id, "first-key", &request).await;
    assert_eq!(first.status(), StatusCode::OK, "the first finish counts");
    app.assert_refused(
        StatusCode::CONFLICT,
        RejectReason::RoundAlreadyCounted,
        app.finish(&started.round_id, "second-key", &request),
    )
    .await;
    assert_eq!(app.totals().await.participations, 1, "counted once");
}

async fn a_finish_sooner_than_the_round_played_is_422_too_fast(db: Db) {
    // The real minimum: the time the round played, here up to 45 s, while
    // the scripted player finishes in milliseconds.
    let app = spawn_app_with(db, |config| config.rounds.min_round_ms = None).await;
    let (started, request) = app.played_round(None).await;
    assert!(
        request.outcome.ticks_played > 0,
        "the round played some time"
    );
    app.assert_refused(
        StatusCode::UNPROCESSABLE_ENTITY,
        RejectReason::TooFast,
        app.finish(&started.round_id, "k", &request),
    )
    .await;
}

async fn an_outcome_the_log_does_not_give_is_422_replay_mismatch(db: Db) {
    let app = spawn_app(db).await;
    let (started, mut request) = app.played_round(None).await;
    request.outcome.score += 1;
    app.assert_refused(
        StatusCode::UNPROCESSABLE_ENTITY,
        RejectReason::ReplayMismatch,
        app.finish(&started.round_id, "k", &request),
    )
    .await;
}

async fn a_log_played_on_another_seed_is_422_replay_mismatch(db: Db) {
    let app = spawn_app(db).await;
    let (started, _) = app.played_round(None).await;
    let (_, elsewhere) = app.played_round(None).await;
    let request = FinishRoundRequest {
        token: started.token.clone(),
        ..elsewhere
    };
    app.assert_refused(
        StatusCode::UNPROCESSABLE_ENTITY,
        RejectReason::ReplayMismatch,
        app.finish(&started.round_id, "k", &request),
    )
    .await;
}

async fn an_honest_but_unfinished_round_is_422_round_incomplete(db: Db) {
    let app = spawn_app(db).await;
    // Idle play (no input at all) does not fill the shelf: the outcome is
    // true, but the round is not complete.
    let started = app.start_round().await;
    let idle = InputLog::new();
    let outcome = sim::replay(started.seed, &Rules::CURRENT, &idle).unwrap();
    assert!(
        !outcome.completed,
        "idle play must not complete a round (seed {})",
        started.seed
    );
    let request = FinishRoundRequest {
        token: started.token.clone(),
        input_log: idle,
        outcome,
    };
    app.assert_refused(
        StatusCode::UNPROCESSABLE_ENTITY,
        RejectReason::RoundIncomplete,
        app.finish(&started.round_id, "k", &request),
    )
    .await;
}

async fn a_round_started_under_other_rules_is_422_rules_version_mismatch(db: Db) {
    let app = spawn_app(db).await;
    let (started, claims) = started_claims(&app).await;
    let older = RoundClaims {
        rules_version: claims.rules_version + 1,
        ..claims
    };
    let request = FinishRoundRequest {
        token: app.tokens.sign(&older),
        ..play(&started)
    };
    app.assert_refused(
        StatusCode::UNPROCESSABLE_ENTITY,
        RejectReason::RulesVersionMismatch,
        app.finish(&started.round_id, "k", &request),
    )
    .await;
}

async fn a_player_over_the_daily_cap_is_429_daily_cap_reached(db: Db) {
    let app = spawn_app_with(db, |config| config.rounds.player_daily_cap = 2).await;
    let player = PlayerId::random().to_string();
    app.play_and_count(Some(&player)).await;
    app.play_and_count(Some(&player)).await;
    let (started, request) = app.played_round(Some(&player)).await;
    app.assert_refused(
        StatusCode::TOO_MANY_REQUESTS,
        RejectReason::DailyCapReached,
        app.finish(&started.round_id, "k", &request),
    )
    .await;
    app.play_and_count(None).await;
    assert_eq!(
        app.totals().await.participations,
        3,
        "other players are not capped"
    );
}

async fn an_address_over_its_rate_is_429_rate_limited(db: Db) {
    let app = spawn_app_with(db, |config| {
        config.rounds.address_rate_per_sec = 1;
        config.rounds.address_burst = 2;
    })
    .await;
    app.start_round().await;
    app.start_round().await;
    // The bucket refills one request a second, so of ten quick requests at
    // least one meets an empty bucket.
    let mut refused = None;
    for _ in 0..10 {
        let response = app
            .client
            .post(app.url("/api/rounds"))
            .send()
            .await
            .unwrap();
        if response.status() != StatusCode::OK {
            refused = Some(response);
            break;
        }
    }
    let refused = refused.expect("the address limit must refuse one of ten quick requests");
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    let error: ApiError = refused.json().await.unwrap();
    assert_eq!(error.reason, RejectReason::RateLimited);
    let mut totals = app.ledger_totals();
    let recorded = tokio::time::timeout(
        Duration::from_secs(10),
        totals.wait_for(|totals| totals.rejections.contains_key(&RejectReason::RateLimited)),
    )
    .await;
    assert!(recorded.is_ok(), "the refusal is recorded");
    assert_eq!(app.totals().await.participations, 0);
}

async fn malformed_requests_are_400_malformed_request(db: Db) {
    let app = spawn_app(db).await;
    let (started, request) = app.played_round(None).await;
    let body = serde_json::to_vec(&request).unwrap();
    let cases: Vec<(&str, reqwest::RequestBuilder)> = vec![
        (
            "not JSON",
            app.client
                .post(app.url(&format!("/api/rounds/{}/finish", started.round_id)))
                .header("idempotency-key", "k")
                .body("{not json"),
        ),
        (
            "a field missing",
            app.client
                .post(app.url(&format!("/api/rounds/{}/finish", started.round_id)))
                .header("idempotency-key", "k")
                .body(r#"{"token":"x"}"#),
        ),
        (
            "no Idempotency-Key",
            app.client
                .post(app.url(&format!("/api/rounds/{}/finish", started.round_id)))
                .body(body.clone()),
        ),
        (
            "an empty Idempotency-Key",
            app.client
                .post(app.url(&format!("/api/rounds/{}/finish", started.round_id)))
                .header("idempotency-key", "")
                .body(body.clone()),
        ),
        (
            "a round id that is not one",
            app.client
                .post(app.url("/api/rounds/not-a-round/finish"))
                .header("idempotency-key", "k")
                .body(body.clone()),
        ),
        (
            "an input log that is not base64url",
            app.client
                .post(app.url(&format!("/api/rounds/{}/finish", started.round_id)))
                .header("idempotency-key", "k")
                .body(format!(
                    r#"{{"token":"{}","input_log":"%%%","outcome":{}}}"#,
                    started.token,
                    serde_json::to_string(&request.outcome).unwrap()
                )),
        ),
        (
            "a player id that is not one",
            app.client
                .post(app.url("/api/rounds"))
                .json(&StartRoundRequest {
                    player: Some("me".into()),
                    referral: None,
                }),
        ),
        (
            "a referral code that is not one",
            app.client
                .post(app.url("/api/rounds"))
                .json(&StartRoundRequest {
                    player: None,
                    referral: Some("no spaces allowed".into()),
                }),
        ),
    ];
    for (case, request) in cases {
        println!("case: {case}");
        app.assert_refused(
            StatusCode::BAD_REQUEST,
            RejectReason::MalformedRequest,
            async { request.send().await.unwrap() },
        )
        .await;
    }
    assert_eq!(
        RoundId::parse(&started.round_id).map(|_| ()),
        Ok(()),
        "the real round id was valid"
    );
}

async fn a_body_over_the_limit_is_413_body_too_large(db: Db) {
    let app = spawn_app_with(db, |config| config.rounds.max_body_bytes = 4_096).await;
    let started = app.start_round().await;
    let huge = format!(
        r#"{{"token":"{}","padding":"{}"}}"#,
        started.token,
        "x".repeat(8_192)
    );
    app.assert_refused(
        StatusCode::PAYLOAD_TOO_LARGE,
        RejectReason::BodyTooLarge,
        app.finish_raw(&started.round_id, Some("k"), huge.into_bytes()),
    )
    .await;
}
