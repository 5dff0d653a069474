//! Fuzz target: the body of `POST /api/rounds/{id}/finish`, through the
//! same steps as the handler up to and including the replay, without HTTP:
//! `read_finish_body` (the JSON into `FinishRoundRequest` with its base64
//! input log and claimed outcome, then the token against the fuzz key and
//! the round of the URL), `check_before_replay` (token age, time played,
//! rules version) on the fuzz clock, the replay, and `judge_replay`.
//!
//! Input: the body's bytes. The seed corpus holds real bodies whose tokens
//! the fuzz key signed for [`dream_fairy_fuzz::round`], so mutations of the
//! log and the outcome get past the token. Checks:
//!
//! - no step panics, whatever the body;
//! - a body read straight as a request is the request read through a JSON
//!   value first (the finish's shortcut changes nothing);
//! - a request that parses survives its own JSON form;
//! - a counted round is the claimed outcome, complete, replayed from the
//!   seed the token names.

#![no_main]

use libfuzzer_sys::fuzz_target;
use server::api::rounds::{check_before_replay, judge_replay, read_finish_body};
use server::api::{read_json_object, read_json_object_as};
use server::config::RoundPolicy;
use sim::Rules;
use sim::wire::FinishRoundRequest;

fuzz_target!(|body: &[u8]| {
    if let Some(straight) = read_json_object_as::<FinishRoundRequest>(body) {
        let through_a_value = read_json_object(body)
            .ok()
            .and_then(|value| serde_json::from_value::<FinishRoundRequest>(value).ok());
        assert_eq!(
            Some(straight),
            through_a_value,
            "read straight or through a value, the same request"
        );
    }
    let key = dream_fairy_fuzz::token_key();
    let Ok((request, claims)) = read_finish_body(&key, dream_fairy_fuzz::round(), body) else {
        return;
    };
    let json = serde_json::to_vec(&request).expect("a request serialises");
    let back: FinishRoundRequest = serde_json::from_slice(&json).expect("its JSON parses");
    assert_eq!(back, request, "a request survives its JSON form");

    let rules = Rules::CURRENT;
    let policy = RoundPolicy::default();
    let now_ms = dream_fairy_fuzz::NOW_MS;
    if check_before_replay(&policy, &rules, &claims, &request.outcome, now_ms).is_err() {
        return;
    }
    let replayed = sim::replay(claims.seed, &rules, &request.input_log);
    if let Ok(counted) = judge_replay(&request.outcome, replayed.clone()) {
        assert_eq!(counted, request.outcome, "what counts is what was claimed");
        assert!(counted.completed, "only a full shelf counts");
        assert_eq!(replayed, Ok(counted), "and what the replay gave");
    }
});
