//! The components of a round's `World`.
//!
//! Entities: one [`Fairy`], who carries the player's [`Steering`], her
//! [`Basket`] and the [`Board`] (what belongs to the round as a whole:
//! rules, clock, generator, shelf, tally), and the places in the sky
//! ([`SkySlot`]), each holding a thing falling ([`Falling`]: a book, a
//! golden storybook or a rain cloud) or nothing.

use bevy_ecs::prelude::*;
use rand_pcg::Pcg32;

use crate::{Rules, Steer};

/// Marks the Dream Fairy, the one entity the player steers.
#[derive(Component, Debug, Clone, Copy)]
#[require(Position, Steering, Basket)]
pub struct Fairy;

/// The player's steer for the tick being played.
#[derive(Component, Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Steering(pub Steer);

/// The centre of an entity on the playfield (milli-units, `y` downwards).
#[derive(Component, Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Position {
    /// Horizontal position (milli-units from the left edge).
    pub x: i32,
    /// Vertical position (milli-units from the top edge).
    pub y: i32,
}

impl Position {
    /// Whether a box of half size `half` (half width, half height) centred
    /// here overlaps a box of half size `other_half` centred at `other`;
    /// touching edges do not count.
    pub fn boxes_overlap(self, half: (i32, i32), other: Position, other_half: (i32, i32)) -> bool {
        let dx = (i64::from(self.x) - i64::from(other.x)).abs();
        let dy = (i64::from(self.y) - i64::from(other.y)).abs();
        dx < i64::from(half.0) + i64::from(other_half.0)
            && dy < i64::from(half.1) + i64::from(other_half.1)
    }
}

/// What fell from the sky.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FallingKind {
    /// An ordinary book: one place on the shelf, [`Rules::book_score`].
    Book,
    /// A rare golden storybook: one place on the shelf, [`Rules::golden_score`].
    GoldenBook,
    /// A rain cloud: soaks the books the fairy carries if she touches it.
    Cloud,
}

impl FallingKind {
    /// Whether this drop is a book of either kind.
    pub fn is_book(self) -> bool {
        !matches!(self, FallingKind::Cloud)
    }

    /// The score a book of this kind earns on the shelf (0 for a cloud).
    pub fn score(self, rules: &Rules) -> u32 {
        match self {
            FallingKind::Book => rules.book_score,
            FallingKind::GoldenBook => rules.golden_score,
            FallingKind::Cloud => 0,
        }
    }

    /// Half the width and half the height of its box (milli-units).
    pub fn half_size(self, rules: &Rules) -> (i32, i32) {
        match self {
            FallingKind::Book | FallingKind::GoldenBook => {
                (rules.book_half_size, rules.book_half_size)
            }
            FallingKind::Cloud => (rules.cloud_half_width, rules.cloud_half_height),
        }
    }

    /// A stable number for the state hash.
    pub(crate) fn code(self) -> u32 {
        match self {
            FallingKind::Book => 0,
            FallingKind::GoldenBook => 1,
            FallingKind::Cloud => 2,
        }
    }
}

/// A falling thing. Its `index` orders everything that depends on order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Falling {
    /// Spawn order in the round, from 0: stable, unique, and the order in
    /// which simultaneous contacts are resolved.
    pub index: u32,
    /// What it is.
    pub kind: FallingKind,
    /// How fast it falls (milli-units per tick).
    pub fall_speed: i32,
}

/// A place in the sky: holds one falling thing, or nothing.
///
/// A round gives an empty place to the next drop rather than despawning a
/// thing and spawning the next: the sky's entities are spawned once (as
/// many as were ever aloft at the same time) and kept across rounds
/// replayed in the same world, so a tick changes no archetype and the
/// server's replay runs many ticks in one borrow of the world (spawning and
/// despawning cost more than the rules of a tick). In the sky's table the
/// places holding things come first: a tick moves what stays over what
/// left, a drop takes the first empty place, and a new place is spawned
/// (at the table's end) only when none is empty.
#[derive(Component, Debug, Clone, Copy, Default, PartialEq, Eq)]
#[require(Position)]
pub struct SkySlot(pub Option<Falling>);

/// Everything of a round that is not a thing in it: its rules, clock, sky,
/// shelf and tally. Kept on the fairy's entity (the round's one player), so
/// that a tick reads all it needs besides the sky with one lookup; a
/// resource would cost a type lookup on every access, every tick.
#[derive(Component, Debug, Clone)]
pub struct Board {
    /// The rules this round is played by.
    pub rules: Rules,
    /// The clock.
    pub clock: Clock,
    /// What drops next.
    pub sky: Sky,
    /// The books delivered.
    pub shelf: Shelf,
    /// The round's counters.
    pub tally: Tally,
}

/// The round's clock and whether it has ended.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Clock {
    /// Ticks played so far; while a tick runs, the number (from 0) of
    /// the tick being played.
    pub tick: u32,
    /// Playing, or how the round ended.
    pub status: RoundStatus,
}

/// Whether the round is still being played, and if not, how it ended.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum RoundStatus {
    /// Ticks are still being played.
    #[default]
    Playing,
    /// The shelf was filled: the round is completed.
    ShelfFull,
    /// The time ran out before the shelf was full.
    TimeUp,
}

impl RoundStatus {
    /// A stable number for the state hash.
    pub(crate) fn code(self) -> u32 {
        match self {
            RoundStatus::Playing => 0,
            RoundStatus::ShelfFull => 1,
            RoundStatus::TimeUp => 2,
        }
    }
}

/// Drops the next thing from the sky: the round's only randomness.
#[derive(Debug, Clone)]
pub struct Sky {
    /// The seeded generator; consumed the same way on every target.
    pub rng: Pcg32,
    /// The index the next drop will get (= drops spawned so far).
    pub next_index: u32,
    /// The tick on which the next drop falls.
    pub next_drop_tick: u32,
}

/// The books the fairy carries and has not shelved yet.
#[derive(Component, Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Basket {
    /// Books carried.
    pub books: u32,
    /// Golden storybooks among them.
    pub golden_books: u32,
    /// Their score.
    pub score: u32,
    /// The tick on which they land on the shelf (meaningful when `books > 0`).
    pub shelve_tick: u32,
}

/// The library shelf: books safely delivered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Shelf {
    /// Books on the shelf (ordinary and golden).
    pub books: u32,
    /// Golden storybooks among them.
    pub golden_books: u32,
    /// Their total score.
    pub score: u32,
}

/// Counters for the round's statistics and invariants.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// Books (of both kinds) that fell from the sky.
    pub books_spawned: u32,
    /// Books lost to rain clouds.
    pub books_soaked: u32,
    /// Books that fell past the fairy.
    pub books_missed: u32,
    /// Clouds the fairy flew into.
    pub clouds_touched: u32,
}
