//! Players that drive a [`Round`] without a person: the scripted player,
//! which completes ordinary rounds (tests and load generators use it to make
//! valid logs), and the baselines the rules are tuned against, idle and
//! random play, which must not complete them.
//!
//! The scripted player steers towards the book it can catch first and keeps
//! clear of rain clouds. It sees only what a player sees ([`Round::fairy`], [`Round::falling`]) and
//! plans by looking ahead: clouds and books fall straight at a constant
//! speed, and the fairy flies by the game's own rule, so the next ticks are
//! exactly predictable. Each tick it takes, soonest first, the book whose
//! path catches it without touching a cloud; failing that, the nearest spot
//! that stays dry; failing that, it holds still.

use rand::{Rng as _, SeedableRng as _};
use rand_pcg::Pcg32;

use crate::components::Position;
use crate::systems::fly_toward;
use crate::{FallingKind, FallingView, InputLog, Outcome, Round, Rules, Seed, Steer};

/// Ticks the player checks for clouds after the planned catch (the next
/// plan starts from there).
const DRY_MARGIN_TICKS: u32 = 4;
/// Ticks the player looks ahead when it only needs a dry spot.
const ESCAPE_HORIZON_TICKS: u32 = 12;
/// Longest look-ahead, so a plan stays cheap whatever the rules.
const MAX_HORIZON_TICKS: u32 = 200;
/// Columns tried as escape spots: every `ESCAPE_STRIDE`-th.
const ESCAPE_STRIDE: u8 = 20;

/// Something that steers a round, one tick at a time.
pub trait Player {
    /// The steer for the next tick of `round`.
    fn choose(&mut self, round: &Round) -> Steer;
}

/// Any `FnMut(&Round) -> Steer` is a player.
impl<F: FnMut(&Round) -> Steer> Player for F {
    fn choose(&mut self, round: &Round) -> Steer {
        self(round)
    }
}

/// Plays the round dealt by `seed` to its end with `player`, and returns the
/// recorded log and the outcome.
pub fn play(seed: Seed, rules: &Rules, player: &mut impl Player) -> (InputLog, Outcome) {
    let mut round = Round::new(seed, rules);
    while !round.is_over() {
        let steer = player.choose(&round);
        round.step(steer);
    }
    let outcome = round.outcome();
    (round.into_input_log(), outcome)
}

/// Plays the round dealt by `seed` to its end with the [`ScriptedPlayer`],
/// and returns the recorded log and the outcome.
pub fn play_round(seed: Seed, rules: &Rules) -> (InputLog, Outcome) {
    play(seed, rules, &mut ScriptedPlayer::default())
}

/// Never touches the screen: the fairy stays in the middle.
#[derive(Debug, Clone, Copy, Default)]
pub struct IdlePlayer;

impl Player for IdlePlayer {
    fn choose(&mut self, _round: &Round) -> Steer {
        Steer::CENTRE
    }
}

/// Steers blindly: on each tick, with chance 1 in `change_every`, to a
/// uniformly random column, else where it steered before. `change_every = 1`
/// is a new column every tick (a jittering finger); larger values hold each
/// column for a while (random taps).
#[derive(Debug, Clone)]
pub struct RandomPlayer {
    rng: Pcg32,
    change_every: u32,
    steer: Steer,
}

impl RandomPlayer {
    /// A random player drawing from its own `seed` (not the round's).
    pub fn new(seed: u64, change_every: u32) -> RandomPlayer {
        RandomPlayer {
            rng: Pcg32::seed_from_u64(seed),
            change_every: change_every.max(1),
            steer: Steer::CENTRE,
        }
    }
}

impl Player for RandomPlayer {
    fn choose(&mut self, _round: &Round) -> Steer {
        if self.rng.random_range(0..self.change_every) == 0 {
            let column = self.rng.random_range(0..=Steer::MAX);
            self.steer = Steer::new(column).unwrap_or(Steer::CENTRE);
        }
        self.steer
    }
}

/// The scripted player. It keeps only reusable buffers between ticks, so a
/// load generator does not allocate every tick.
#[derive(Debug, Default)]
pub struct ScriptedPlayer {
    books: Vec<FallingView>,
    clouds: Vec<FallingView>,
    escapes: Vec<Steer>,
}

/// What following one steer for the next ticks leads to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Forecast {
    /// Catches the book on this tick (1 = the next) and stays dry.
    Catches(u32),
    /// Stays dry but catches no book.
    StaysDry,
    /// Flies into a cloud.
    GetsWet,
}

impl Player for ScriptedPlayer {
    fn choose(&mut self, round: &Round) -> Steer {
        let rules = round.rules();
        let fairy = round.fairy().position;
        self.books.clear();
        self.clouds.clear();
        for thing in round.falling() {
            match thing.kind {
                FallingKind::Cloud => self.clouds.push(thing),
                FallingKind::Book | FallingKind::GoldenBook => self.books.push(thing),
            }
        }
        // Sorting by index first makes every choice below independent of the
        // query's iteration order.
        self.books.sort_unstable_by_key(|book| book.index);
        self.books
            .sort_by_key(|book| ticks_to_reach_fairy(rules, fairy, book));

        let mut best: Option<(u32, Steer)> = None;
        for book in &self.books {
            let steer = Steer::toward_x(book.position.x, rules);
            if let Forecast::Catches(tick) = self.forecast(rules, fairy, steer, Some(book)) {
                // A later-arriving book can still be caught sooner if it is
                // right here, so keep looking while something could beat it.
                if best.is_none_or(|(best_tick, _)| tick < best_tick) {
                    best = Some((tick, steer));
                }
            }
            if best
                .is_some_and(|(best_tick, _)| ticks_to_reach_fairy(rules, fairy, book) > best_tick)
            {
                break;
            }
        }
        if let Some((_, steer)) = best {
            return steer;
        }
        // No book to catch safely: the nearest spot that stays dry.
        let here = Steer::toward_x(fairy.x, rules);
        self.escapes.clear();
        self.escapes.push(here);
        let columns = (0..=Steer::MAX).step_by(usize::from(ESCAPE_STRIDE));
        self.escapes.extend(columns.filter_map(Steer::new));
        self.escapes
            .sort_by_key(|steer| (steer.target_x(rules) - fairy.x).abs());
        self.escapes
            .iter()
            .copied()
            .find(|&steer| self.forecast(rules, fairy, steer, None) == Forecast::StaysDry)
            .unwrap_or(here)
    }
}

impl ScriptedPlayer {
    /// Flies `steer` from `fairy` tick by tick, as the game would, and says
    /// whether that catches `book` (if given) and keeps clear of clouds.
    fn forecast(
        &self,
        rules: &Rules,
        fairy: Position,
        steer: Steer,
        book: Option<&FallingView>,
    ) -> Forecast {
        let fairy_half = rules.fairy_half_size();
        let horizon = book.map_or(ESCAPE_HORIZON_TICKS, |book| {
            ticks_to_pass_fairy(rules, fairy, book).saturating_add(DRY_MARGIN_TICKS)
        });
        let mut x = fairy.x;
        let mut caught_on = None;
        for tick in 1..=horizon.min(MAX_HORIZON_TICKS) {
            x = fly_toward(rules, x, steer);
            let here = Position { x, y: fairy.y };
            let touches = |thing: &FallingView| {
                let fallen = i64::from(thing.fall_speed) * i64::from(tick);
                let y = (i64::from(thing.position.y) + fallen).min(i64::from(i32::MAX)) as i32;
                let there = Position {
                    x: thing.position.x,
                    y,
                };
                here.boxes_overlap(fairy_half, there, thing.kind.half_size(rules))
            };
            if self.clouds.iter().any(touches) {
                return Forecast::GetsWet;
            }
            match caught_on {
                None if book.is_some_and(touches) => caught_on = Some(tick),
                // Dry for long enough after the catch: the plan holds.
                Some(caught) if tick >= caught.saturating_add(DRY_MARGIN_TICKS) => break,
                _ => {}
            }
        }
        match caught_on {
            Some(tick) => Forecast::Catches(tick),
            // Dry, and (if there was a book to catch) missed it.
            None => Forecast::StaysDry,
        }
    }
}

/// Ticks until `thing`'s box first reaches the fairy's line (0 if it has).
fn ticks_to_reach_fairy(rules: &Rules, fairy: Position, thing: &FallingView) -> u32 {
    let (_, half_height) = thing.kind.half_size(rules);
    let gap = i64::from(fairy.y)
        - i64::from(rules.fairy_half_height)
        - i64::from(half_height)
        - i64::from(thing.position.y);
    ticks_to_fall(gap, thing.fall_speed)
}

/// Ticks until `thing`'s box has fallen wholly past the fairy's line.
fn ticks_to_pass_fairy(rules: &Rules, fairy: Position, thing: &FallingView) -> u32 {
    let (_, half_height) = thing.kind.half_size(rules);
    let gap = i64::from(fairy.y) + i64::from(rules.fairy_half_height) + i64::from(half_height)
        - i64::from(thing.position.y);
    ticks_to_fall(gap, thing.fall_speed)
}

/// Ticks to fall `distance` at `speed` a tick, rounded up (0 if already there).
fn ticks_to_fall(distance: i64, speed: i32) -> u32 {
    let speed = i64::from(speed.max(1));
    let ticks = (distance.max(0) + speed - 1) / speed;
    u32::try_from(ticks).unwrap_or(u32::MAX)
}
