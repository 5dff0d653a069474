//! The OpenAPI 3.1 document of the public API, served at
//! `/api/openapi.json`.
//!
//! Written by hand because the wire types live in `sim`, which stays free of
//! web dependencies. Two things keep it honest: the paths come from
//! `routes::paths`, and every schema's example is a real `sim::wire` value
//! serialised at startup, which the tests check against the schema's
//! properties.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use axum::Json;
use serde_json::{Value, json};
use sim::wire::{
    ApiError, BookStatus, FinishRoundRequest, ParticipationRecord, PlayerSharing, Receipt,
    RejectReason, RoundStarted, SchoolRef, StartRoundRequest, Totals,
};
use sim::{InputLog, Outcome, RULES_VERSION, Seed};

use crate::allocation::Report;
use crate::error::{reason_name, status_of};
use crate::routes::paths;

/// `GET /api/openapi.json`.
pub async fn get_document() -> Json<Value> {
    Json(DOCUMENT.clone())
}

static DOCUMENT: LazyLock<Value> = LazyLock::new(document);

/// Serialises a wire value for an example (they always serialise).
fn example(value: impl serde::Serialize) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

/// A JSON body of the schema `name`.
fn body(name: &str) -> Value {
    json!({ "content": { "application/json": { "schema": { "$ref": format!("#/components/schemas/{name}") } } } })
}

/// The error answers of an operation: each status with the reasons it
/// carries.
fn errors(reasons: &[RejectReason]) -> BTreeMap<String, Value> {
    let mut by_status: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for reason in reasons {
        by_status
            .entry(status_of(*reason).as_u16().to_string())
            .or_default()
            .push(reason_name(*reason));
    }
    by_status
        .into_iter()
        .map(|(status, names)| {
            let mut answer = body("ApiError");
            answer["description"] = json!(format!("Not counted: {}", names.join(", ")));
            (status, answer)
        })
        .collect()
}

fn ok(description: &str, schema: Value) -> Value {
    json!({ "description": description, "content": { "application/json": { "schema": schema } } })
}

fn schema_ref(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

fn document() -> Value {
    use RejectReason::*;
    let round_id = "1b4e28ba-2fa1-4d3b-a3f5-ef19b5a7633b";
    let player = "6f1c0b1e-8d2a-4c55-9a43-5d1f2a3b4c5d";
    let outcome = Outcome {
        books_caught: 24,
        score: 240,
        completed: true,
        ticks_played: 2_700,
        state_hash: 0x0123_4567_89ab_cdef,
    };

    let mut finish_responses = errors(&[
        MalformedRequest,
        BodyTooLarge,
        InvalidToken,
        TokenExpired,
        RoundAlreadyCounted,
        RequestInProgress,
        TooFast,
        ReplayMismatch,
        RoundIncomplete,
        RulesVersionMismatch,
        IdempotencyKeyReused,
        DailyCapReached,
        RateLimited,
        ServerError,
    ]);
    finish_responses.insert(
        "200".into(),
        ok(
            "Counted (or the same request again: the first receipt)",
            schema_ref("Receipt"),
        ),
    );
    let mut start_responses = errors(&[MalformedRequest, BodyTooLarge, RateLimited, ServerError]);
    start_responses.insert(
        "200".into(),
        ok("The round to play", schema_ref("RoundStarted")),
    );
    let mut history_responses = errors(&[MalformedRequest]);
    history_responses.insert(
        "200".into(),
        ok(
            "Newest first",
            json!({ "type": "array", "items": schema_ref("ParticipationRecord") }),
        ),
    );

    let mut api_paths = serde_json::Map::new();
    api_paths.insert(
        paths::ROUNDS.into(),
        json!({ "post": {
            "operationId": "startRound",
            "summary": "Start a round for an anonymous player (writes nothing).",
            "requestBody": { "required": false, "content": body("StartRoundRequest")["content"] },
            "responses": start_responses,
        }}),
    );
    api_paths.insert(paths::FINISH_ROUND.into(), json!({ "post": {
        "operationId": "finishRound",
        "summary": "Verify a played round (token, timing, replay, caps) and count it; answered once durable.",
        "parameters": [
            { "name": "round_id", "in": "path", "required": true, "schema": { "type": "string", "format": "uuid" } },
            { "name": "Idempotency-Key", "in": "header", "required": true,
              "description": "Names this request; the same key and body always get the first answer.",
              "schema": { "type": "string", "minLength": 1, "maxLength": 255 } },
        ],
        "requestBody": { "required": true, "content": body("FinishRoundRequest")["content"] },
        "responses": finish_responses,
    }}));
    api_paths.insert(
        paths::TOTALS.into(),
        json!({ "get": {
            "operationId": "getTotals",
            "summary": "Running totals.",
            "responses": { "200": ok("Totals", schema_ref("Totals")) },
        }}),
    );
    api_paths.insert(paths::LIVE.into(), json!({ "get": {
        "operationId": "streamTotals",
        "summary": "Running totals as server-sent events named `totals` (JSON `Totals`), at most 4 a second.",
        "responses": { "200": { "description": "An event stream",
            "content": { "text/event-stream": { "schema": { "type": "string" } } } } },
    }}));
    api_paths.insert(paths::PLAYER_PARTICIPATIONS.into(), json!({ "get": {
        "operationId": "listParticipations",
        "summary": "A player's own participations.",
        "parameters": [
            { "name": "player_id", "in": "path", "required": true, "schema": { "type": "string", "format": "uuid" } },
            { "name": "limit", "in": "query", "required": false,
              "schema": { "type": "integer", "minimum": 1, "maximum": 1000, "default": 100 } },
        ],
        "responses": history_responses,
    }}));

    let mut sharing_responses = errors(&[MalformedRequest]);
    sharing_responses.insert(
        "200".into(),
        ok(
            "What the player's share link brought (zeros for a player never counted)",
            schema_ref("PlayerSharing"),
        ),
    );
    api_paths.insert(paths::PLAYER_SHARING.into(), json!({ "get": {
        "operationId": "getPlayerSharing",
        "summary": "A player's share link and what it brought: recognition only.",
        "parameters": [
            { "name": "player_id", "in": "path", "required": true, "schema": { "type": "string", "format": "uuid" } },
        ],
        "responses": sharing_responses,
    }}));

    api_paths.insert(paths::REPORT.into(), json!({ "get": {
        "operationId": "getReport",
        "summary": "The public report: totals and books by province, county and school against targets (aggregates only).",
        "description": "Served from a copy rebuilt in the background when the ledger changed, at most once a second: it may lag the ledger by up to about 1 s (the refresh period plus one rebuild). `Cache-Control: public, max-age=1`.",
        "parameters": [
            { "name": "format", "in": "query", "required": false,
              "schema": { "type": "string", "enum": ["json", "csv"], "default": "json" } },
        ],
        "responses": { "200": {
            "description": "The report",
            "content": {
                "application/json": { "schema": schema_ref("Report") },
                "text/csv": { "schema": { "type": "string" } },
            },
        }},
    }}));

    let school = SchoolRef {
        id: "522634-001".into(),
        name: "雷山县希望小学".into(),
        province: "贵州省".into(),
        prefecture: "黔东南苗族侗族自治州".into(),
        county: "雷山县".into(),
        county_code: "522634".into(),
    };
    let book = BookStatus::Allocated {
        book: 580_000,
        school: school.clone(),
    };
    let share_code_schema = json!({
        "type": ["string", "null"], "pattern": "^[0-9A-HJKMNP-TV-Z]{8}$",
        "description": "The player's share code: their share link is `/s/{share_code}`",
    });
    let book_schema = json!({
        "description": "What the participation funded, tagged by `state`",
        "oneOf": [
            { "type": "object", "required": ["state", "book", "school"], "properties": {
                "state": { "const": "allocated" }, "book": { "type": "integer" },
                "school": schema_ref("SchoolRef") } },
            { "type": "object", "required": ["state", "book", "participations_needed"], "properties": {
                "state": { "const": "filling" }, "book": { "type": "integer" },
                "participations_needed": { "type": "integer" } } },
            { "type": "object", "required": ["state", "book"],
              "description": "Funded, waiting for a school with room (every school is at its target, or no school list yet)",
              "properties": { "state": { "const": "funded" }, "book": { "type": "integer" } } },
            { "type": "object", "required": ["state"], "properties": {
                "state": { "const": "awaiting_sponsor" } } },
        ],
    });
    let reasons: Vec<String> = RejectReason::ALL
        .iter()
        .map(|reason| reason_name(*reason))
        .collect();
    let u64_string = json!({ "type": "string", "pattern": "^[0-9]+$", "description": "A u64 as a decimal string" });
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "圆梦精灵图书馆 (Dream Fairy Library) round API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Play a round, have it verified, count a participation. Every refusal answers an ApiError.",
        },
        "paths": api_paths,
        "components": { "schemas": {
            "StartRoundRequest": {
                "type": "object",
                "properties": {
                    "player": { "type": ["string", "null"], "format": "uuid", "description": "The id from an earlier round" },
                    "referral": { "type": ["string", "null"], "pattern": "^[0-9A-Za-z]{8}$",
                                  "description": "The share code the player arrived with (Crockford base32, any case)" },
                },
                "example": example(StartRoundRequest { player: Some(player.into()), referral: Some("7K3M9QRT".into()) }),
            },
            "RoundStarted": {
                "type": "object",
                "required": ["round_id", "seed", "rules_version", "round_ms", "token", "player", "issued_at_ms"],
                "properties": {
                    "round_id": { "type": "string", "format": "uuid" },
                    "seed": u64_string,
                    "rules_version": { "type": "integer" },
                    "round_ms": { "type": "integer", "description": "Round length, ms" },
                    "token": { "type": "string", "description": "Send back unchanged with the finish" },
                    "player": { "type": "string", "format": "uuid" },
                    "issued_at_ms": { "type": "integer", "description": "ms since the Unix epoch" },
                },
                "example": example(RoundStarted {
                    round_id: round_id.into(), seed: Seed(12_345_678_901_234_567_890), rules_version: RULES_VERSION,
                    round_ms: sim::Rules::CURRENT.round_duration_ms(), token: "AQ…".into(), player: player.into(),
                    issued_at_ms: 1_559_318_400_000,
                }),
            },
            "Outcome": {
                "type": "object",
                "required": ["books_caught", "score", "completed", "ticks_played", "state_hash"],
                "properties": {
                    "books_caught": { "type": "integer" },
                    "score": { "type": "integer" },
                    "completed": { "type": "boolean" },
                    "ticks_played": { "type": "integer" },
                    "state_hash": { "type": "string", "pattern": "^[0-9a-f]{16}$" },
                },
                "example": example(outcome),
            },
            "FinishRoundRequest": {
                "type": "object",
                "required": ["token", "input_log", "outcome"],
                "properties": {
                    "token": { "type": "string" },
                    "input_log": { "type": "string", "description": "base64url (no padding) of the encoded input log" },
                    "outcome": schema_ref("Outcome"),
                },
                "example": example(FinishRoundRequest { token: "AQ…".into(), input_log: InputLog::new(), outcome }),
            },
            "Receipt": {
                "type": "object",
                "required": ["round_id", "participation", "player", "total_participations", "today_participations", "book"],
                "properties": {
                    "round_id": { "type": "string", "format": "uuid" },
                    "participation": { "type": "integer", "description": "This participation's number, from 1" },
                    "player": { "type": "string", "format": "uuid" },
                    "total_participations": { "type": "integer" },
                    "today_participations": { "type": "integer", "description": "China Standard Time day" },
                    "book": book_schema,
                    "share_code": share_code_schema,
                },
                "example": example(Receipt {
                    round_id: round_id.into(), participation: 5_800_000, player: player.into(),
                    total_participations: 5_800_000, today_participations: 41_233, book: book.clone(),
                    share_code: Some("7K3M9QRT".into()),
                }),
            },
            "SchoolRef": {
                "type": "object",
                "required": ["id", "name", "province", "prefecture", "county", "county_code"],
                "properties": {
                    "id": { "type": "string" },
                    "name": { "type": "string" },
                    "province": { "type": "string" },
                    "prefecture": { "type": "string" },
                    "county": { "type": "string" },
                    "county_code": { "type": "string", "pattern": "^[0-9]{6}$", "description": "GB/T 2260" },
                },
                "example": example(school),
            },
            "Report": {
                "type": "object",
                "required": ["totals", "provinces", "counties", "schools", "sharing"],
                "properties": {
                    "totals": { "type": "object", "description": "participations, books_funded, books_pledged, schools, target_books, allocated, shipped, received" },
                    "provinces": { "type": "array", "items": { "type": "object" } },
                    "counties": { "type": "array", "items": { "type": "object" } },
                    "schools": { "type": "array", "items": { "type": "object" } },
                    "sharing": { "type": "object", "description": "participations_via_share, referred_players, and top_codes (code, referred_players, participations): codes only, no personal data" },
                },
                "example": example(Report::build(5_800_000, 580_000, 600_000, Vec::new(), Default::default())),
            },
            "ApiError": {
                "type": "object",
                "required": ["reason", "message_zh", "message_en"],
                "properties": {
                    "reason": { "type": "string", "enum": reasons },
                    "message_zh": { "type": "string" },
                    "message_en": { "type": "string" },
                },
                "example": example(ApiError::from(DailyCapReached)),
            },
            "Totals": {
                "type": "object",
                "required": ["participations", "today", "rejections"],
                "properties": {
                    "participations": { "type": "integer" },
                    "today": { "type": "integer", "description": "China Standard Time day" },
                    "rejections": { "type": "object", "propertyNames": { "enum": reasons },
                                    "additionalProperties": { "type": "integer" } },
                },
                "example": example(Totals {
                    participations: 5_800_000, today: 41_233,
                    rejections: [(TooFast, 12), (ReplayMismatch, 3)].into(),
                }),
            },
            "ParticipationRecord": {
                "type": "object",
                "required": ["participation", "round_id", "finished_at_ms", "score", "books_caught", "book"],
                "properties": {
                    "participation": { "type": "integer" },
                    "round_id": { "type": "string", "format": "uuid" },
                    "finished_at_ms": { "type": "integer", "description": "ms since the Unix epoch" },
                    "score": { "type": "integer" },
                    "books_caught": { "type": "integer" },
                    "book": book_schema,
                    "share_code": share_code_schema,
                },
                "example": example(ParticipationRecord {
                    participation: 5_800_000, round_id: round_id.into(), finished_at_ms: 1_559_318_400_000,
                    score: 240, books_caught: 24, book, share_code: Some("7K3M9QRT".into()),
                }),
            },
            "PlayerSharing": {
                "type": "object",
                "description": "Recognition only: it funds and unlocks nothing.",
                "required": ["referred_players", "participations"],
                "properties": {
                    "share_code": share_code_schema,
                    "share_path": { "type": ["string", "null"], "description": "`/s/{share_code}`" },
                    "referred_players": { "type": "integer", "description": "Friends whose first counted round came through the link" },
                    "participations": { "type": "integer", "description": "The player's own counted participations" },
                    "card_path": { "type": ["string", "null"], "description": "Their 1200x630 preview card, content-hashed" },
                },
                "example": example(PlayerSharing {
                    share_code: Some("7K3M9QRT".into()), share_path: Some("/s/7K3M9QRT".into()),
                    referred_players: 3, participations: 12,
                    card_path: Some("/s/7K3M9QRT/card/og-0123456789abcdef.png".into()),
                }),
            },
        }},
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn every_public_path_is_documented() {
        let documented: BTreeSet<&str> = DOCUMENT["paths"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let routed: BTreeSet<&str> = paths::PUBLIC_API.into_iter().collect();
        assert_eq!(
            documented, routed,
            "the document must describe exactly the public API routes"
        );
    }

    #[test]
    fn every_schema_matches_its_real_example() {
        let schemas = DOCUMENT["components"]["schemas"].as_object().unwrap();
        for (name, schema) in schemas {
            let example = schema["example"]
                .as_object()
                .unwrap_or_else(|| panic!("{name} has no object example"));
            let properties: BTreeSet<&String> =
                schema["properties"].as_object().unwrap().keys().collect();
            let fields: BTreeSet<&String> = example.keys().collect();
            assert_eq!(
                properties, fields,
                "{name}: schema properties must be the serialised fields"
            );
            for required in schema["required"].as_array().into_iter().flatten() {
                let required = required.as_str().unwrap();
                assert!(
                    example.contains_key(required),
                    "{name}: required {required} missing from the example"
                );
            }
        }
    }

    #[test]
    fn every_schema_reference_resolves() {
        let text = DOCUMENT.to_string();
        let schemas = DOCUMENT["components"]["schemas"].as_object().unwrap();
        for reference in text.split("#/components/schemas/").skip(1) {
            let name: String = reference
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric())
                .collect();
            assert!(schemas.contains_key(&name), "dangling reference to {name}");
        }
    }
}
