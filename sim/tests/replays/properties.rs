//! Properties of replay and of the input log, over generated seeds, logs and
//! bytes: determinism, agreement of live play and replay, no panics on any
//! input, and the round's bookkeeping invariants.

use proptest::prelude::*;
use sim::{
    InputLog, MAX_ENCODED_BYTES, ReplayError, Replayer, Round, Rules, Seed, Steer, SteerChange,
    replay,
};

/// Logs with changes anywhere in (and a little past) a round.
fn any_log() -> impl Strategy<Value = InputLog> {
    prop::collection::vec((0..60_u32, 0..=Steer::MAX), 0..80).prop_map(|gaps| {
        let mut tick = 0;
        let changes = gaps.into_iter().map(|(gap, column)| {
            tick += gap + 1;
            SteerChange {
                tick: tick - 1,
                steer: Steer::new(column).unwrap_or_default(),
            }
        });
        InputLog::from_changes(changes.collect::<Vec<_>>()).unwrap_or_default()
    })
}

/// Plays `log` live in a `Round` (as the client would) and returns the round.
fn play_live(seed: Seed, rules: &Rules, log: &InputLog) -> Round {
    let mut round = Round::new(seed, rules);
    let mut changes = log.changes().iter().peekable();
    let mut steer = Steer::CENTRE;
    while !round.is_over() {
        if let Some(change) = changes.next_if(|change| change.tick == round.tick()) {
            steer = change.steer;
        }
        round.step(steer);
    }
    round
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn replay_is_deterministic_and_needs_no_warm_state(seed: u64, log in any_log()) {
        let rules = Rules::CURRENT;
        let first = replay(Seed(seed), &rules, &log);
        let again = replay(Seed(seed), &rules, &log);
        let fresh = Replayer::new().replay(Seed(seed), &rules, &log);
        prop_assert_eq!(&first, &again, "the same log replays the same twice");
        prop_assert_eq!(&first, &fresh, "a reused replayer matches a fresh one");
    }

    #[test]
    fn live_play_and_replay_agree(seed: u64, log in any_log()) {
        let rules = Rules::CURRENT;
        let round = play_live(Seed(seed), &rules, &log);
        let recorded = round.input_log();
        prop_assert_eq!(
            replay(Seed(seed), &rules, recorded),
            Ok(round.outcome()),
            "the server replays the client's recording to the client's outcome"
        );
        let bytes = recorded.encode();
        prop_assert_eq!(InputLog::decode(&bytes), Ok(recorded.clone()), "the recording survives bytes");
    }

    #[test]
    fn the_round_keeps_its_books(seed: u64, log in any_log()) {
        let rules = Rules::CURRENT;
        let round = play_live(Seed(seed), &rules, &log);
        let (outcome, shelf, basket, tally) = (round.outcome(), round.shelf(), round.basket(), round.tally());
        prop_assert!(outcome.books_caught <= tally.books_spawned, "caught <= spawned");
        prop_assert_eq!(outcome.books_caught, shelf.books, "books caught are the shelf's");
        let in_sky = round.falling().filter(|thing| thing.kind.is_book()).count() as u32;
        prop_assert_eq!(
            tally.books_spawned,
            shelf.books + basket.books + tally.books_soaked + tally.books_missed + in_sky,
            "every book spawned is shelved, carried, soaked, missed or still falling"
        );
        let ordinary = shelf.books - shelf.golden_books;
        prop_assert_eq!(
            outcome.score,
            ordinary * rules.book_score + shelf.golden_books * rules.golden_score,
            "the score is the shelf's books' worth"
        );
        prop_assert_eq!(outcome.completed, shelf.books >= rules.shelf_target, "completed = shelf full");
        prop_assert!(outcome.ticks_played <= rules.round_ticks, "no round runs over time");
        prop_assert!(
            outcome.completed || outcome.ticks_played == rules.round_ticks,
            "an incomplete round runs its full time"
        );
    }

    #[test]
    fn any_bytes_decode_or_fail_cleanly(bytes in prop::collection::vec(any::<u8>(), 0..MAX_ENCODED_BYTES + 64)) {
        check_bytes(&bytes)?;
    }

    #[test]
    fn any_body_after_a_good_version_decodes_or_fails_cleanly(body in prop::collection::vec(any::<u8>(), 0..400)) {
        let mut bytes = vec![sim::LOG_FORMAT_VERSION];
        bytes.extend(body);
        check_bytes(&bytes)?;
    }
}

/// Decoding never panics; what decodes is canonical (re-encodes to the same
/// bytes) and replays to an outcome or a typed error, never a panic.
fn check_bytes(bytes: &[u8]) -> Result<(), TestCaseError> {
    match InputLog::decode(bytes) {
        Ok(log) => {
            prop_assert_eq!(log.encode(), bytes, "a decoded log re-encodes to its bytes");
            let replayed = replay(Seed(1), &Rules::CURRENT, &log);
            if let Err(error) = replayed {
                prop_assert!(
                    matches!(error, ReplayError::TickPastEnd { .. }),
                    "a decoded log can only fail by running past the end: {}",
                    error
                );
            }
        }
        Err(error) => prop_assert!(!error.to_string().is_empty(), "errors explain themselves"),
    }
    Ok(())
}

#[test]
fn input_after_the_end_is_refused() {
    let rules = Rules::CURRENT;
    let (log, outcome) = sim::bot::play_round(Seed(11), &rules);
    assert!(outcome.completed, "the scripted player completes seed 11");
    let mut changes = log.changes().to_vec();
    let last = changes.last().map_or(Steer::CENTRE, |change| change.steer);
    let other = if last == Steer::CENTRE {
        Steer::new(0).unwrap()
    } else {
        Steer::CENTRE
    };
    changes.push(SteerChange {
        tick: outcome.ticks_played,
        steer: other,
    });
    let padded = InputLog::from_changes(changes).unwrap();
    assert_eq!(
        replay(Seed(11), &rules, &padded),
        Err(ReplayError::TickPastEnd {
            tick: outcome.ticks_played,
            ticks_played: outcome.ticks_played
        }),
        "a change on the tick after the shelf filled cannot have been played"
    );

    let late = InputLog::from_changes([SteerChange {
        tick: rules.round_ticks,
        steer: other,
    }])
    .unwrap();
    assert_eq!(
        replay(Seed(11), &rules, &late),
        Err(ReplayError::TickPastEnd {
            tick: rules.round_ticks,
            ticks_played: rules.round_ticks
        }),
        "nor a change after the time is up"
    );
}

#[test]
fn invalid_rules_are_refused_not_replayed() {
    let rules = Rules {
        tick_hz: 0,
        ..Rules::CURRENT
    };
    let result = replay(Seed(1), &rules, &InputLog::new());
    assert!(
        matches!(result, Err(ReplayError::InvalidRules(_))),
        "tick_hz = 0: {result:?}"
    );
}

#[test]
fn a_different_seed_deals_a_different_round() {
    let rules = Rules::CURRENT;
    let log = InputLog::new();
    let hashes: std::collections::HashSet<u64> = (0..50)
        .map(|seed| replay(Seed(seed), &rules, &log).unwrap().state_hash)
        .collect();
    assert_eq!(hashes.len(), 50, "50 seeds, 50 different final states");
}
