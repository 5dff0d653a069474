//! One round, tick by tick: the `World`, its tick, the recorded input,
//! and read access to what is on screen.

use core::fmt;

use bevy_ecs::prelude::*;
use rand::SeedableRng as _;
use rand_pcg::Pcg32;
use serde::{Deserialize, Serialize};

use crate::components::{
    Basket, Board, Clock, Fairy, FallingKind, Position, RoundStatus, Shelf, Sky, SkySlot, Steering,
    Tally,
};
use crate::hash::StateHasher;
use crate::systems::{self, Steady};
use crate::{InputLog, Rules, Seed, Steer};

/// The result of a round: what the client claims and the server checks.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Outcome {
    /// Books on the shelf (ordinary and golden).
    pub books_caught: u32,
    /// Their score.
    pub score: u32,
    /// Whether the shelf was filled ([`Rules::shelf_target`] books).
    pub completed: bool,
    /// Ticks played: [`Rules::round_ticks`], or fewer if the shelf filled early.
    pub ticks_played: u32,
    /// A stable hash of the whole final state (see [`Round::state_hash`]);
    /// in JSON a 16-digit lowercase hex string.
    #[serde(with = "hex_u64")]
    #[cfg_attr(
        feature = "openapi",
        schema(value_type = String, pattern = r"^[0-9a-f]{16}$")
    )]
    pub state_hash: u64,
}

/// The fairy as drawn on screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FairyView {
    /// Her centre (milli-units).
    pub position: Position,
}

/// A book or cloud in the sky, as drawn on screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FallingView {
    /// Spawn index: stable for the thing's whole life, unique in the round;
    /// the key for interpolating between ticks.
    pub index: u32,
    /// What it is.
    pub kind: FallingKind,
    /// Its centre (milli-units).
    pub position: Position,
    /// How far it falls each tick (milli-units).
    pub fall_speed: i32,
}

/// A round being played (by the client, live) or replayed (by the server).
pub struct Round {
    world: World,
    tick: systems::TickState,
    fairy: Entity,
    falling: QueryState<(&'static SkySlot, &'static Position)>,
    log: InputLog,
}

impl Round {
    /// A new round dealt by `seed`, played by `rules`. The fairy starts in
    /// the middle; nothing has fallen yet.
    pub fn new(seed: Seed, rules: &Rules) -> Round {
        let mut world = World::new();
        let fairy = world.spawn(Fairy).id();
        let falling = world.query::<(&SkySlot, &Position)>();
        let tick = systems::TickState::new(&mut world);
        let mut round = Round {
            world,
            tick,
            fairy,
            falling,
            log: InputLog::new(),
        };
        round.restart(seed, rules);
        round
    }

    /// Starts over as a new round dealt by `seed`, played by `rules`,
    /// exactly as [`Round::new`] would, but keeping the `World` and the
    /// tick's cached queries and buffers, and the places in its sky.
    pub fn restart(&mut self, seed: Seed, rules: &Rules) {
        systems::clear_sky(&mut self.world, &mut self.tick);
        let start = Position {
            x: Steer::CENTRE.target_x(rules),
            y: rules.fairy_y,
        };
        self.world
            .entity_mut(self.fairy)
            .insert((start, Steering::default(), Basket::default()));

        self.world.entity_mut(self.fairy).insert(Board {
            rules: *rules,
            clock: Clock::default(),
            sky: Sky {
                rng: Pcg32::seed_from_u64(seed.0),
                next_index: 0,
                next_drop_tick: 0,
            },
            shelf: Shelf::default(),
            tally: Tally::default(),
        });
        self.log = InputLog::new();
    }

    /// Plays one tick steered by `steer`, and records the steer in the input
    /// log. Does nothing once the round is over.
    pub fn step(&mut self, steer: Steer) {
        if self.is_over() {
            return;
        }
        self.log.record(self.tick(), steer);
        let mut this_tick = Some(steer);
        systems::run_ticks(&mut self.world, self.fairy, &mut self.tick, |tick| {
            this_tick.take().map(|steer| Steady {
                steer,
                until: tick.saturating_add(1),
            })
        });
        self.refresh_view();
    }

    /// Plays the round to its end without recording it (replay already has
    /// the log), steered by `steer_for(tick)`, which tells how long its
    /// steer holds; it is asked at least at every tick its steer may change.
    pub(crate) fn play_out(&mut self, mut steer_for: impl FnMut(u32) -> Steady) {
        systems::run_ticks(&mut self.world, self.fairy, &mut self.tick, |tick| {
            Some(steer_for(tick))
        });
        self.refresh_view();
    }

    /// Lets [`Round::falling`] (and so the state hash) see every place in
    /// the sky, after ticks that spawned the world's first.
    fn refresh_view(&mut self) {
        self.falling.update_archetypes(&self.world);
    }

    fn board(&self) -> &Board {
        self.world
            .get::<Board>(self.fairy)
            .expect("the fairy's entity holds the board from `Round::new` on")
    }

    /// Whether the round has ended (shelf full or time up).
    pub fn is_over(&self) -> bool {
        self.clock().status != RoundStatus::Playing
    }

    /// Ticks played so far; also the number of the next tick to play.
    pub fn tick(&self) -> u32 {
        self.clock().tick
    }

    /// The clock: ticks played and whether (and how) the round ended.
    pub fn clock(&self) -> Clock {
        self.board().clock
    }

    /// The rules this round is played by.
    pub fn rules(&self) -> &Rules {
        &self.board().rules
    }

    /// The fairy.
    pub fn fairy(&self) -> FairyView {
        let position = self
            .world
            .get::<Position>(self.fairy)
            .copied()
            .unwrap_or_default();
        FairyView { position }
    }

    /// Everything in the sky, in no particular order (sort by
    /// [`FallingView::index`] if order matters).
    pub fn falling(&self) -> impl Iterator<Item = FallingView> + '_ {
        self.falling
            .iter_manual(&self.world)
            .filter_map(|(slot, position)| {
                slot.0.map(|thing| FallingView {
                    index: thing.index,
                    kind: thing.kind,
                    position: *position,
                    fall_speed: thing.fall_speed,
                })
            })
    }

    /// The books the fairy carries, not yet shelved.
    pub fn basket(&self) -> Basket {
        self.world
            .get::<Basket>(self.fairy)
            .copied()
            .unwrap_or_default()
    }

    /// The books on the shelf.
    pub fn shelf(&self) -> Shelf {
        self.board().shelf
    }

    /// Counters: books spawned, soaked, missed; clouds touched.
    pub fn tally(&self) -> Tally {
        self.board().tally
    }

    /// The outcome so far (final once [`Round::is_over`]).
    pub fn outcome(&self) -> Outcome {
        let shelf = self.shelf();
        let clock = self.clock();
        Outcome {
            books_caught: shelf.books,
            score: shelf.score,
            completed: clock.status == RoundStatus::ShelfFull,
            ticks_played: clock.tick,
            state_hash: self.state_hash(),
        }
    }

    /// A stable hash of the whole state: clock, status, fairy, basket,
    /// shelf, tally, drops spawned and every thing in the sky in spawn order.
    pub fn state_hash(&self) -> u64 {
        let mut in_sky: Vec<FallingView> = self.falling().collect();
        in_sky.sort_unstable_by_key(|thing| thing.index);

        let clock = self.clock();
        let sky = &self.board().sky;
        let fairy = self.fairy().position;
        let basket = self.basket();
        let shelf = self.shelf();
        let tally = self.tally();
        let mut hasher = StateHasher::default();
        hasher.u32(clock.tick).u32(clock.status.code());
        hasher.i32(fairy.x).i32(fairy.y);
        hasher
            .u32(basket.books)
            .u32(basket.golden_books)
            .u32(basket.score)
            .u32(basket.shelve_tick);
        hasher
            .u32(shelf.books)
            .u32(shelf.golden_books)
            .u32(shelf.score);
        hasher
            .u32(tally.books_spawned)
            .u32(tally.books_soaked)
            .u32(tally.books_missed)
            .u32(tally.clouds_touched);
        hasher.u32(sky.next_index).u32(sky.next_drop_tick);
        hasher.u32(u32::try_from(in_sky.len()).unwrap_or(u32::MAX));
        for thing in &in_sky {
            hasher.u32(thing.index).u32(thing.kind.code());
            hasher
                .i32(thing.position.x)
                .i32(thing.position.y)
                .i32(thing.fall_speed);
        }
        hasher.finish()
    }

    /// The input recorded so far.
    pub fn input_log(&self) -> &InputLog {
        &self.log
    }

    /// The fairy's entity, for tests that stage a scene.
    #[cfg(test)]
    pub(crate) fn fairy_entity(&self) -> Entity {
        self.fairy
    }

    /// The world, for tests that stage a scene.
    #[cfg(test)]
    pub(crate) fn world_mut(&mut self) -> &mut World {
        &mut self.world
    }

    /// The recorded input, consuming the round.
    pub fn into_input_log(self) -> InputLog {
        self.log
    }
}

impl fmt::Debug for Round {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Round")
            .field("tick", &self.tick())
            .field("fairy", &self.fairy())
            .field("basket", &self.basket())
            .field("shelf", &self.shelf())
            .field("log_changes", &self.log.changes().len())
            .finish_non_exhaustive()
    }
}

/// Serde for a `u64` as exactly 16 lowercase hex digits (JavaScript cannot
/// hold every `u64` as a number).
mod hex_u64 {
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(value: &u64, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&format_args!("{value:016x}"))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
        use serde::de::Error as _;
        let text = String::deserialize(deserializer)?;
        let is_canonical = text.len() == 16
            && text
                .bytes()
                .all(|byte| byte.is_ascii_digit() || (b'a'..=b'f').contains(&byte));
        if !is_canonical {
            return Err(D::Error::custom(
                "state_hash must be 16 lowercase hex digits",
            ));
        }
        u64::from_str_radix(&text, 16).map_err(D::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Steers from one side to the other and back, changing every few ticks.
    fn wander(tick: u32) -> Steer {
        Steer::new(((tick / 7) * 37 % u32::from(Steer::MAX + 1)) as u8).unwrap_or_default()
    }

    #[test]
    fn a_restarted_round_is_a_new_round() {
        let rules = Rules::CURRENT;
        let mut reused = Round::new(Seed(1), &rules);
        for tick in 0..300 {
            reused.step(wander(tick));
        }
        reused.restart(Seed(2), &rules);
        let mut fresh = Round::new(Seed(2), &rules);
        assert_eq!(
            reused.state_hash(),
            fresh.state_hash(),
            "same state before the first tick"
        );
        while !fresh.is_over() {
            let steer = wander(fresh.tick());
            fresh.step(steer);
            reused.step(steer);
            assert_eq!(
                reused.state_hash(),
                fresh.state_hash(),
                "tick {}",
                fresh.tick()
            );
        }
        assert!(reused.is_over(), "both rounds end together");
        assert_eq!(
            reused.input_log(),
            fresh.input_log(),
            "the log starts over too"
        );
    }

    #[test]
    fn a_round_can_live_in_a_bevy_resource() {
        fn assert_send_sync<T: Send + Sync + 'static>() {}
        // The game keeps its live round in a resource; the server replays on
        // worker threads.
        assert_send_sync::<Round>();
    }

    #[test]
    fn nothing_happens_after_the_end() {
        let rules = Rules {
            round_ticks: 5,
            ..Rules::CURRENT
        };
        let mut round = Round::new(Seed(3), &rules);
        for tick in 0..5 {
            round.step(wander(tick * 10));
        }
        assert!(round.is_over(), "5 ticks of a 5-tick round");
        let at_end = round.outcome();
        round.step(Steer::new(0).unwrap());
        assert_eq!(
            round.outcome(),
            at_end,
            "a step after the end changes nothing"
        );
        assert!(
            round
                .input_log()
                .changes()
                .iter()
                .all(|change| change.tick < 5),
            "and records nothing"
        );
    }

    #[test]
    fn outcome_json_carries_the_hash_as_16_hex_digits() {
        let outcome = Outcome {
            books_caught: 30,
            score: 420,
            completed: true,
            ticks_played: 640,
            state_hash: 0x00ab_cdef_0123_4567,
        };
        let json = serde_json::to_string(&outcome).unwrap();
        assert_eq!(
            json,
            r#"{"books_caught":30,"score":420,"completed":true,"ticks_played":640,"state_hash":"00abcdef01234567"}"#,
            "snake_case fields, hash as a zero-padded string"
        );
        assert_eq!(
            serde_json::from_str::<Outcome>(&json).unwrap(),
            outcome,
            "round trip"
        );
        for bad in [
            "00ABCDEF01234567",
            "abcdef01234567",
            "0x00abcdef012345",
            "00abcdef0123456g",
        ] {
            let json = json.replace("00abcdef01234567", bad);
            assert!(
                serde_json::from_str::<Outcome>(&json).is_err(),
                "{bad} must be refused"
            );
        }
    }
}
