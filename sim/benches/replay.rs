//! Benchmarks of what the server and the load generators pay per round.
//!
//! `cargo bench -p sim`

use sim::{InputLog, Rules, Seed, Steer, SteerChange, bot, replay};

fn main() {
    divan::main();
}

/// Replays a round the scripted player completed (it stops when the shelf
/// is full, like every round the server counts).
#[divan::bench]
fn replay_completed_round(bencher: divan::Bencher) {
    let rules = Rules::CURRENT;
    let seed = Seed(7);
    let (log, outcome) = bot::play_round(seed, &rules);
    assert!(
        outcome.completed,
        "the benchmark round must be a completed one"
    );
    bencher.bench(|| replay(divan::black_box(seed), &rules, divan::black_box(&log)));
}

/// Replays a round that runs its full length: the worst case.
#[divan::bench]
fn replay_full_length_round(bencher: divan::Bencher) {
    let rules = Rules::CURRENT;
    let seed = Seed(7);
    // Sweeps left and right, changing steer every tick.
    let changes = (0..rules.round_ticks).map(|tick| SteerChange {
        tick,
        steer: Steer::new((tick % u32::from(Steer::MAX)) as u8).unwrap_or(Steer::CENTRE),
    });
    let log = InputLog::from_changes(changes).unwrap();
    let outcome = replay(seed, &rules, &log).unwrap();
    assert_eq!(
        outcome.ticks_played, rules.round_ticks,
        "the round must run to its end"
    );
    bencher.bench(|| replay(divan::black_box(seed), &rules, divan::black_box(&log)));
}

/// Replays 100 different rounds of the scripted player (seeds 0 to 99) one
/// after another in one replayer, as a server thread does: divided by 100,
/// what a replay costs the server on average.
#[divan::bench(sample_count = 30)]
fn replay_100_scripted_rounds(bencher: divan::Bencher) {
    let rules = Rules::CURRENT;
    let rounds: Vec<_> = (0..100)
        .map(|seed| {
            let (log, outcome) = bot::play_round(Seed(seed), &rules);
            (Seed(seed), log, outcome)
        })
        .collect();
    let mut replayer = sim::Replayer::new();
    bencher.bench_local(|| {
        for (seed, log, outcome) in &rounds {
            let replayed = replayer.replay(*seed, &rules, divan::black_box(log));
            assert_eq!(replayed.as_ref(), Ok(outcome), "replays agree");
        }
    });
}

/// Setting up a fresh round (its World and cached queries) and playing its
/// first tick: what `replay` saves by reusing its round.
#[divan::bench]
fn new_round_and_first_tick() -> sim::Round {
    let mut round = sim::Round::new(divan::black_box(Seed(7)), &Rules::CURRENT);
    round.step(Steer::CENTRE);
    round
}

/// Plays a whole round with the scripted player: what a load generator pays
/// per valid log.
#[divan::bench(sample_count = 20)]
fn bot_play_round() -> (InputLog, sim::Outcome) {
    bot::play_round(divan::black_box(Seed(7)), &Rules::CURRENT)
}
