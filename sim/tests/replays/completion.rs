//! The rules are winnable by playing and not by idling or random input:
//! completion rates over fixed ranges of seeds, so the figures are the same
//! on every run.

use sim::bot::{self, IdlePlayer, Player, RandomPlayer, ScriptedPlayer};
use sim::{Rules, Seed, replay};

/// How many of `seeds` rounds `player_for(seed)` completes.
fn completions<P: Player>(seeds: u64, mut player_for: impl FnMut(Seed) -> P) -> u64 {
    let rules = Rules::CURRENT;
    let completed = (0..seeds).map(Seed).filter(|&seed| {
        let (_, outcome) = bot::play(seed, &rules, &mut player_for(seed));
        outcome.completed
    });
    completed.count() as u64
}

#[test]
fn doing_nothing_never_completes() {
    assert_eq!(
        completions(200, |_| IdlePlayer),
        0,
        "an idle fairy must never fill the shelf"
    );
}

#[test]
fn a_random_finger_completes_under_one_percent() {
    // A new random column every tick.
    let completed = completions(500, |seed| RandomPlayer::new(seed.0 ^ 0x5eed, 1));
    assert!(
        completed * 100 < 500,
        "random steering every tick completed {completed}/500"
    );
}

#[test]
fn random_taps_complete_under_one_percent() {
    // A new random column every half second on average.
    let completed = completions(500, |seed| RandomPlayer::new(seed.0 ^ 0xbeef, 10));
    assert!(
        completed * 100 < 500,
        "random taps completed {completed}/500"
    );
}

#[test]
fn the_scripted_player_completes_over_ninety_percent_and_replays_exactly() {
    let rules = Rules::CURRENT;
    let mut completed = 0;
    for seed in (1_000..1_200).map(Seed) {
        let (log, outcome) = bot::play(seed, &rules, &mut ScriptedPlayer::default());
        completed += u32::from(outcome.completed);
        // What the server does with every finished round.
        let bytes = log.encode();
        assert!(
            bytes.len() <= sim::MAX_ENCODED_BYTES,
            "seed {seed}: log of {} bytes",
            bytes.len()
        );
        let decoded = sim::InputLog::decode(&bytes).expect("a recorded log decodes");
        assert_eq!(
            replay(seed, &rules, &decoded),
            Ok(outcome),
            "seed {seed}: replay agrees"
        );
    }
    assert!(
        completed > 180,
        "the scripted player completed only {completed}/200"
    );
}
