//! The read side: totals, the live stream, a player's history, the OpenAPI
//! document and the operations endpoints.

use std::collections::BTreeSet;

use reqwest::StatusCode;
use server::admin::routes::ROUTES;
use server::domain::PlayerId;
use sim::wire::{ParticipationRecord, Totals};

use crate::helpers::{Db, WAIT, on_both_backends, spawn_app};

on_both_backends!(
    a_players_history_is_newest_first_and_limited,
    the_live_stream_sends_the_totals_then_each_change,
    a_graceful_shutdown_ends_live_streams,
    the_openapi_document_describes_the_round_api,
    healthz_and_metrics_answer,
    the_document_lists_every_route_of_the_router,
    every_documented_operation_is_answered_by_its_handler,
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
        // The document's bounds are the handler's: 1 to 1000.
        format!("{url}?limit=0"),
        format!("{url}?limit=1001"),
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
    assert_eq!(
        document["openapi"], "3.2.0",
        "3.2, for the events' itemSchema"
    );
    let finish = &document["paths"]["/api/rounds/{round_id}/finish"]["post"];
    for status in [
        "200", "400", "401", "409", "413", "422", "429", "500", "503",
    ] {
        assert!(
            finish["responses"][status].is_object(),
            "the finish documents {status}"
        );
    }
    let limit = document["paths"]["/api/players/{player_id}/participations"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|parameter| parameter["name"] == "limit")
        .expect("the history's limit");
    assert_eq!(
        (&limit["schema"]["minimum"], &limit["schema"]["maximum"]),
        (&serde_json::json!(1), &serde_json::json!(1000)),
        "the bounds the handler enforces"
    );
}

/// The paths the router serves, read from its `Debug` form (axum lists a
/// router's paths there, and has no other way to list them).
fn routed_paths(router: &axum::Router) -> BTreeSet<String> {
    let debug = format!("{router:?}");
    let mut paths = BTreeSet::new();
    for after in debug.split("RouteId(").skip(1) {
        if let Some((_, rest)) = after.split_once("): \"")
            && let Some((path, _)) = rest.split_once('"')
        {
            paths.insert(path.to_owned());
        }
    }
    paths
}

async fn the_document_lists_every_route_of_the_router(db: Db) {
    let app = spawn_app(db).await;
    let routed = routed_paths(&server::router(app.state.clone()));
    assert!(
        routed.contains("/api/rounds") && routed.len() > 30,
        "the router's paths are read: {routed:?}"
    );
    let document = server::openapi::document();
    let documented: BTreeSet<String> = document["paths"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    let admin: BTreeSet<String> = ROUTES.iter().map(|route| route.path.to_owned()).collect();
    // The game's files: its page, the site icon and the hashed files
    // nested under /static.
    let game_files = ["/", "/favicon.ico", "/favicon.svg", "/static", "/static/"];
    // axum's own catch-all of the merged fallbacks.
    let routed: BTreeSet<String> = routed
        .into_iter()
        .filter(|path| !path.contains("__private__axum"))
        .collect();
    for path in &routed {
        let is_game_file = game_files.contains(&path.as_str()) || path.starts_with("/static/{*");
        assert!(
            documented.contains(path) || admin.contains(path) || is_game_file,
            "{path} is routed but not in the API document"
        );
    }
    for path in &documented {
        assert!(routed.contains(path), "{path} is documented but not routed");
    }
    assert!(
        documented.is_disjoint(&admin),
        "the admin console stays out of the public document"
    );
}

async fn every_documented_operation_is_answered_by_its_handler(db: Db) {
    let app = spawn_app(db).await;
    let document = server::openapi::document();
    for (path, operations) in document["paths"].as_object().unwrap() {
        for method in operations.as_object().unwrap().keys() {
            // Any value for the path's parameters: the route must match.
            let concrete = path
                .split('/')
                .map(|segment| {
                    if segment.starts_with('{') {
                        "x"
                    } else {
                        segment
                    }
                })
                .collect::<Vec<_>>()
                .join("/");
            let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            // The live stream answers its headers at once; dropping the
            // response ends it.
            let response = app
                .client
                .request(method.clone(), app.url(&concrete))
                .send()
                .await
                .unwrap();
            assert_ne!(
                response.status(),
                StatusCode::METHOD_NOT_ALLOWED,
                "{method} {path} is routed"
            );
            let status = response.status().as_str().to_owned();
            assert!(
                operations[method.as_str().to_lowercase()]["responses"][&status].is_object(),
                "{method} {concrete} answered {status}, which its operation documents"
            );
        }
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
