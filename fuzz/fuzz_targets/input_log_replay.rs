//! Fuzz target: the input-log decoder and the replay behind it, as the
//! server meets them in every finish.
//!
//! Input: a seed ([`dream_fairy_fuzz::split_seed`]: 8 bytes, little-endian)
//! and then an encoded log. Decoding is bounded by `MAX_ENCODED_BYTES`, so a
//! replay is at most one round of `Rules::round_ticks` ticks. Checks:
//!
//! - decoding never panics;
//! - a log that decodes re-encodes to exactly its bytes (the format allows
//!   one encoding per log), and survives its JSON form (base64url);
//! - replaying it never panics, and fails only for a change after the
//!   round's end;
//! - the thread's warm replayer (reused across inputs, as on the server's
//!   async worker threads) agrees with a fresh one, so restarting a round
//!   leaves nothing of the last one behind;
//! - the client's path, the same steers played live in a `Round`, gives
//!   the same outcome: what the server counts is what the player saw;
//! - an outcome is complete exactly when the shelf was filled, and within
//!   the round's ticks.

#![no_main]

use libfuzzer_sys::fuzz_target;
use sim::{InputLog, Outcome, ReplayError, Replayer, Round, Rules, Seed, Steer};

fuzz_target!(|data: &[u8]| {
    let (seed, bytes) = dream_fairy_fuzz::split_seed(data);
    let Ok(log) = InputLog::decode(bytes) else {
        return;
    };
    assert_eq!(log.encode(), bytes, "a decoded log re-encodes to its bytes");
    let json = serde_json::to_string(&log).expect("a log serialises");
    let back: InputLog = serde_json::from_str(&json).expect("its JSON deserialises");
    assert_eq!(back, log, "a log survives its JSON form");

    let rules = Rules::CURRENT;
    let warm = sim::replay(seed, &rules, &log);
    let fresh = Replayer::new().replay(seed, &rules, &log);
    assert_eq!(warm, fresh, "a warm replayer agrees with a fresh one");
    match warm {
        Ok(outcome) => {
            check_outcome(&outcome, &rules);
            assert_eq!(
                play_live(seed, &rules, &log),
                outcome,
                "the client's live round and the server's replay agree"
            );
        }
        Err(ReplayError::TickPastEnd { tick, ticks_played }) => {
            assert!(
                tick >= ticks_played,
                "{tick} is past the end {ticks_played}"
            );
        }
        Err(error) => panic!("a decoded log fails to replay only past the end, not: {error}"),
    }
});

/// An outcome is what its numbers say: complete exactly when the shelf is
/// full, and otherwise played to the last tick.
fn check_outcome(outcome: &Outcome, rules: &Rules) {
    assert!(
        (1..=rules.round_ticks).contains(&outcome.ticks_played),
        "ticks played within the round: {outcome:?}"
    );
    if outcome.completed {
        assert!(
            outcome.books_caught >= rules.shelf_target,
            "complete means a full shelf: {outcome:?}"
        );
    } else {
        assert!(
            outcome.books_caught < rules.shelf_target && outcome.ticks_played == rules.round_ticks,
            "incomplete means the time ran out first: {outcome:?}"
        );
    }
}

/// Plays the round as the client does, one `Round::step` a tick, steering
/// as the log says.
fn play_live(seed: Seed, rules: &Rules, log: &InputLog) -> Outcome {
    let mut round = Round::new(seed, rules);
    let mut changes = log.changes().iter().peekable();
    let mut steer = Steer::CENTRE;
    while !round.is_over() {
        if let Some(change) = changes.next_if(|change| change.tick == round.tick()) {
            steer = change.steer;
        }
        round.step(steer);
    }
    round.outcome()
}
