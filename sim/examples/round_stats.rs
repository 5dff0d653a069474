//! Prints how idle, random and scripted play fare over a range of seeds, and
//! the sizes of their input logs: the figures the rules are tuned by.
//!
//! `cargo run -p sim --release --example round_stats [seeds]`

use sim::bot::{IdlePlayer, Player, RandomPlayer, ScriptedPlayer};
use sim::{Round, Rules, Seed, Steer};

/// One finished round's figures.
struct Played {
    completed: bool,
    books: u32,
    ticks: u32,
    spawned: u32,
    soaked: u32,
    log_bytes: usize,
}

fn play(seed: Seed, rules: &Rules, player: &mut impl Player) -> Played {
    let mut round = Round::new(seed, rules);
    while !round.is_over() {
        let steer = player.choose(&round);
        round.step(steer);
    }
    let outcome = round.outcome();
    let tally = round.tally();
    Played {
        completed: outcome.completed,
        books: outcome.books_caught,
        ticks: outcome.ticks_played,
        spawned: tally.books_spawned,
        soaked: tally.books_soaked,
        log_bytes: round.input_log().encode().len(),
    }
}

fn median_max<T: Copy + Ord>(mut values: Vec<T>) -> (T, T) {
    values.sort_unstable();
    (values[values.len() / 2], values[values.len() - 1])
}

fn report(
    name: &str,
    seeds: u64,
    mut player_for: impl FnMut(Seed) -> Box<dyn FnMut(&Round) -> Steer>,
) {
    let rules = Rules::CURRENT;
    let results: Vec<Played> = (0..seeds)
        .map(Seed)
        .map(|seed| play(seed, &rules, &mut player_for(seed)))
        .collect();
    let completed = results.iter().filter(|p| p.completed).count();
    let (books, books_max) = median_max(results.iter().map(|p| p.books).collect());
    let (ticks, _) = median_max(results.iter().map(|p| p.ticks).collect());
    let (spawned, _) = median_max(results.iter().map(|p| p.spawned).collect());
    let (soaked, _) = median_max(results.iter().map(|p| p.soaked).collect());
    let (bytes, bytes_max) = median_max(results.iter().map(|p| p.log_bytes).collect());
    println!(
        "{name:>14}: completed {completed:>4}/{seeds} ({pct:>5.1}%) | shelved median {books} \
         max {books_max} | books spawned {spawned}, soaked {soaked} | ticks median {ticks} | \
         log bytes median {bytes} max {bytes_max}",
        pct = 100.0 * completed as f64 / seeds as f64,
    );
}

/// Boxes a player as a closure, so that different kinds fit one report.
fn boxed(mut player: impl Player + 'static) -> Box<dyn FnMut(&Round) -> Steer> {
    Box::new(move |round| player.choose(round))
}

fn main() {
    let seeds: u64 = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(200);
    report("idle", seeds, |_| boxed(IdlePlayer));
    report("random/tick", seeds, |seed| {
        boxed(RandomPlayer::new(seed.0 ^ 0x5eed, 1))
    });
    report("random/0.5s", seeds, |seed| {
        boxed(RandomPlayer::new(seed.0 ^ 0xbeef, 10))
    });
    // A blind strategy: sweep the whole field every 3 seconds.
    report("sweep", seeds, |_| {
        boxed(|round: &Round| {
            let phase = round.tick() % 60;
            let distance = if phase < 30 { phase } else { 60 - phase };
            Steer::new((distance * u32::from(Steer::MAX) / 30) as u8).unwrap_or_default()
        })
    });
    report("scripted", seeds, |_| boxed(ScriptedPlayer::default()));
    // Closer to a person: a finger that drags (at most 8 columns a tick)
    // towards where the scripted player wanted to be 250 ms ago.
    report("finger", seeds, |_| boxed(Finger::default()));
}

/// The scripted player's choices, delayed by a reaction time and smoothed
/// by a dragging finger: an estimate of a person's play and of their logs.
#[derive(Default)]
struct Finger {
    planner: ScriptedPlayer,
    wishes: std::collections::VecDeque<u8>,
    column: Option<u8>,
}

impl Player for Finger {
    fn choose(&mut self, round: &Round) -> Steer {
        const REACTION_TICKS: usize = 5;
        const DRAG_COLUMNS: u8 = 8;
        self.wishes.push_back(self.planner.choose(round).column());
        let wish = if self.wishes.len() > REACTION_TICKS {
            self.wishes.pop_front().unwrap_or_default()
        } else {
            Steer::CENTRE.column()
        };
        let column = self.column.unwrap_or(wish);
        let next = if wish > column {
            column + (wish - column).min(DRAG_COLUMNS)
        } else {
            column - (column - wish).min(DRAG_COLUMNS)
        };
        self.column = Some(next);
        Steer::new(next).unwrap_or_default()
    }
}
