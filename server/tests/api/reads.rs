//! The read side: totals, the live stream, a player's history, the OpenAPI
//! document and the operations endpoints.

use reqwest::StatusCode;
use server::domain::PlayerId;
use sim::wire::{ParticipationRecord, Totals};

use crate::helpers::{Db, WAIT, on_both_backends, spawn_app};

on_both_backends!(
    a_players_history_is_newest_first_and_limited,
    the_live_stream_sends_the_totals_then_each_change,
    a_graceful_shutdown_ends_live_streams,
    the_openapi_document_describes_the_round_api,
    healthz_and_metrics_answer,
);

async fn a_players_history_is_newest_first_and_limited(db: Db) {
    let app = spawn_app(db).await;
    let player = PlayerId::random().to_string();
    let mut numbers = Vec::new();
    for _ in 0..3 {
        numbers.push(app.play_and_count(Some(&player)).await.participation);
    }
    app.play_and_count(None).await;
    let url = app.url(&format!("/api/players/{player}/participations"));
    let history: Vec<ParticipationRecord> = app
        .client
        .get(&url)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let listed: Vec<u64> = history.iter().map(|record| record.participation).collect();
    numbers.reverse();
    assert_eq!(listed, numbers, "only this player's rounds, newest first");

    let limited: Vec<ParticipationRecord> = app
        .client
        .get(format!("{url}?limit=2"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(limited.len(), 2, "limit=2");

    let unknown = app.url(&format!(
        "/api/players/{}/participations",
        PlayerId::random()
    ));
    let none: Vec<ParticipationRecord> = app
        .client
        .get(unknown)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(none.is_empty(), "an unknown player has no history");

    for bad in [
        app.url("/api/players/nobody/participations"),
        format!("{url}?limit=many"),
    ] {
        let response = app.client.get(&bad).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{bad}");
    }
}

/// Reads server-sent events from `response` until one satisfies `wanted`.
async fn next_totals(
    response: &mut reqwest::Response,
    buffer: &mut String,
    wanted: impl Fn(&Totals) -> bool,
) -> Totals {
    loop {
        while let Some(end) = buffer.find("\n\n") {
            let event: String = buffer.drain(..end + 2).collect();
            let is_totals = event.lines().any(|line| line == "event: totals");
            let data = event.lines().find_map(|line| line.strip_prefix("data: "));
            if let (true, Some(data)) = (is_totals, data) {
                let totals: Totals = serde_json::from_str(data).expect("a Totals event");
                if wanted(&totals) {
                    return totals;
                }
            }
        }
        let chunk = response
            .chunk()
            .await
            .unwrap()
            .expect("the stream stays open");
        buffer.push_str(std::str::from_utf8(&chunk).unwrap());
    }
}

async fn the_live_stream_sends_the_totals_then_each_change(db: Db) {
    let app = spawn_app(db).await;
    let mut live = app.client.get(app.url("/api/live")).send().await.unwrap();
    assert_eq!(live.status(), StatusCode::OK);
    assert_eq!(live.headers()["content-type"], "text/event-stream");
    let mut buffer = String::new();
    let first = tokio::time::timeout(WAIT, next_totals(&mut live, &mut buffer, |_| true))
        .await
        .expect("an event at once");
    assert_eq!(
        first.participations, 0,
        "the stream opens with the current totals"
    );

    app.play_and_count(None).await;
    let next = tokio::time::timeout(
        WAIT,
        next_totals(&mut live, &mut buffer, |totals| totals.participations == 1),
    )
    .await
    .expect("the count arrives on the stream");
    assert_eq!(next.today, 1);
}

async fn a_graceful_shutdown_ends_live_streams(db: Db) {
    let app = spawn_app(db).await;
    let mut live = app.client.get(app.url("/api/live")).send().await.unwrap();
    let mut buffer = String::new();
    tokio::time::timeout(WAIT, next_totals(&mut live, &mut buffer, |_| true))
        .await
        .expect("a first event");
    // `shutdown` waits for the server to stop, which an open stream would
    // prevent: it must finish within its wait.
    app.shutdown().await;
    let end = tokio::time::timeout(WAIT, async {
        while let Ok(Some(_)) = live.chunk().await {}
    })
    .await;
    assert!(end.is_ok(), "the stream ends with the server");
}

async fn the_openapi_document_describes_the_round_api(db: Db) {
    let app = spawn_app(db).await;
    let response = app
        .client
        .get(app.url("/api/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let document: serde_json::Value = response.json().await.unwrap();
    assert_eq!(document["openapi"], "3.1.0");
    let finish = &document["paths"]["/api/rounds/{round_id}/finish"]["post"];
    for status in ["200", "400", "401", "409", "413", "422", "429"] {
        assert!(
            finish["responses"][status].is_object(),
            "the finish documents {status}"
        );
    }
}

async fn healthz_and_metrics_answer(db: Db) {
    let app = spawn_app(db).await;
    let health = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);

    app.play_and_count(None).await;
    let metrics = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(metrics.status(), StatusCode::OK);
    let text = metrics.text().await.unwrap();
    assert!(
        text.contains("dreamfairy_ledger_participations 1"),
        "the ledger gauge:\n{text}"
    );
    assert!(
        text.contains("dreamfairy_finish_duration_seconds_count 1"),
        "the finish histogram:\n{text}"
    );
}
