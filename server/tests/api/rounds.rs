//! The honest path: start, play, finish, counted once, durably.

use std::collections::BTreeSet;

use reqwest::StatusCode;
use sim::wire::ParticipationRecord;

use crate::helpers::{Db, on_both_backends, spawn_app, spawn_app_with};

on_both_backends!(
    starting_a_round_issues_a_signed_round_and_writes_nothing,
    an_empty_body_starts_a_round_for_a_new_player,
    a_played_round_is_counted_with_a_receipt,
    concurrent_finishes_get_contiguous_numbers,
    every_acknowledged_round_is_in_the_ledger_after_a_graceful_shutdown,
);

async fn starting_a_round_issues_a_signed_round_and_writes_nothing(db: Db) {
    let app = spawn_app(db).await;
    let started = app.start_round().await;
    assert_eq!(
        started.rules_version,
        sim::RULES_VERSION,
        "the server's rules"
    );
    assert_eq!(
        started.round_ms,
        sim::Rules::CURRENT.round_duration_ms(),
        "the rules' round length"
    );
    let claims = app
        .tokens
        .verify(&started.token)
        .expect("a token signed with the server secret");
    assert_eq!(
        claims.round.to_string(),
        started.round_id,
        "the token names the round"
    );
    assert_eq!(
        claims.player.to_string(),
        started.player,
        "the token names the player"
    );
    assert_eq!(claims.seed, started.seed, "the token carries the seed");

    let again = app.start_round_as(&started.player).await;
    assert_eq!(
        again.player, started.player,
        "a returning player keeps their id"
    );
    assert_ne!(again.round_id, started.round_id, "every round is new");

    let totals = app.totals().await;
    assert_eq!(totals.participations, 0, "starting counts nothing");
    assert!(
        totals.rejections.is_empty(),
        "and refuses nothing: {:?}",
        totals.rejections
    );
}

async fn an_empty_body_starts_a_round_for_a_new_player(db: Db) {
    let app = spawn_app(db).await;
    let response = app
        .client
        .post(app.url("/api/rounds"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK, "no body is fine");
}

async fn a_played_round_is_counted_with_a_receipt(db: Db) {
    let app = spawn_app(db).await;
    let receipt = app.play_and_count(None).await;
    assert_eq!(
        receipt.participation, 1,
        "the first participation is number 1"
    );
    assert_eq!(receipt.total_participations, 1);
    assert_eq!(receipt.today_participations, 1);
    let totals = app.totals().await;
    assert_eq!(
        (totals.participations, totals.today),
        (1, 1),
        "the totals moved by one"
    );

    let history: Vec<ParticipationRecord> = app
        .client
        .get(app.url(&format!("/api/players/{}/participations", receipt.player)))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(history.len(), 1, "the player's history holds the round");
    assert_eq!(history[0].participation, 1);
    assert_eq!(history[0].round_id, receipt.round_id);
}

async fn concurrent_finishes_get_contiguous_numbers(db: Db) {
    const ROUNDS: u64 = 24;
    let app = spawn_app(db).await;
    let mut played = Vec::new();
    for _ in 0..ROUNDS {
        played.push(app.played_round(None).await);
    }
    let finishes = played
        .iter()
        .map(|(started, request)| app.finish(&started.round_id, &started.round_id, request));
    let mut numbers = BTreeSet::new();
    for response in futures::future::join_all(finishes).await {
        assert_eq!(response.status(), StatusCode::OK);
        let receipt: sim::wire::Receipt = response.json().await.unwrap();
        numbers.insert(receipt.participation);
    }
    assert_eq!(
        numbers,
        (1..=ROUNDS).collect(),
        "numbers 1..={ROUNDS}, each once"
    );
    assert_eq!(app.totals().await.participations, ROUNDS);
}

async fn every_acknowledged_round_is_in_the_ledger_after_a_graceful_shutdown(db: Db) {
    const ROUNDS: u64 = 16;
    let app = spawn_app_with(db, |config| config.ledger.batch_max_rows = 4).await;
    let mut played = Vec::new();
    for _ in 0..ROUNDS {
        played.push(app.played_round(None).await);
    }
    let finishes = played
        .iter()
        .map(|(started, request)| app.finish(&started.round_id, &started.round_id, request));
    let acknowledged = futures::future::join_all(finishes)
        .await
        .iter()
        .filter(|response| response.status() == StatusCode::OK)
        .count();
    assert_eq!(acknowledged as u64, ROUNDS, "every finish acknowledged");

    let check = app.shutdown_and_check().await;
    assert_eq!(
        check.participations, ROUNDS,
        "every acknowledged round is on disk"
    );
    assert!(
        check.problems.is_empty(),
        "the ledger is sound: {:?}",
        check.problems
    );
}
