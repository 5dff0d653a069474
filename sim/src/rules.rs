//! Every tunable of a round, in one place, and the version that names them.
//!
//! The server and the client both read [`Rules::CURRENT`] and [`RULES_VERSION`]
//! from here; nothing else in the crate hard-codes a gameplay number.
//!
//! Units: lengths are milli-units of a portrait playfield
//! [`Rules::field_width`] x [`Rules::field_height`] (9:16, origin top-left,
//! `y` grows downwards, so things fall towards larger `y`); times are ticks
//! of [`Rules::tick_hz`]; speeds are milli-units per tick.

use serde::{Deserialize, Serialize};

/// The version of the rules. Bump it on ANY change that alters the outcome of
/// some (seed, input log) pair: a tunable in [`Rules::CURRENT`], a system, the
/// order of systems, the generator or how it is consumed, or the state hash.
/// The golden replays in `tests/` pin this number together with their hashes,
/// so such a change fails them until the version moves.
pub const RULES_VERSION: u32 = 1;

/// The tunables of one round. Every field is an integer, so the rules behave
/// identically on every target (see DESIGN.md, Determinism).
///
/// A `Rules` value is trusted configuration, not player input; still, the
/// simulation never panics on odd values (divisors are clamped to at least 1),
/// and [`Rules::validate`] says whether a value makes a playable round.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rules {
    /// Simulation ticks per second (Hz). 20 Hz: the client renders
    /// interpolated between ticks, so the tick only has to sample steering
    /// (every 50 ms is quick enough for a finger), and fewer ticks make
    /// replay cheaper for the server (its cost is per tick) and keep the
    /// densest possible log (a change every tick) under 2 KB.
    pub tick_hz: u32,
    /// Length of a round in ticks, if the shelf is not filled earlier.
    pub round_ticks: u32,
    /// Books the shelf holds; filling it completes the round.
    pub shelf_target: u32,

    /// Playfield width (milli-units).
    pub field_width: i32,
    /// Playfield height (milli-units).
    pub field_height: i32,

    /// Height of the fairy's centre above the top edge (milli-units); she
    /// flies along this line, over the school.
    pub fairy_y: i32,
    /// Half the width of the fairy's catching box (milli-units).
    pub fairy_half_width: i32,
    /// Half the height of the fairy's catching box (milli-units).
    pub fairy_half_height: i32,
    /// Fastest the fairy flies sideways (milli-units per tick).
    pub fairy_speed: i32,

    /// Half the side of a book's box (milli-units).
    pub book_half_size: i32,
    /// Half the width of a rain cloud's box (milli-units).
    pub cloud_half_width: i32,
    /// Half the height of a rain cloud's box (milli-units).
    pub cloud_half_height: i32,

    /// Ticks between two drops at the start of the round.
    pub spawn_interval_start: u32,
    /// Ticks between two drops at the end of the round (the pace rises
    /// linearly from start to end).
    pub spawn_interval_end: u32,
    /// Falling speed at the start of the round (milli-units per tick).
    pub fall_speed_start: i32,
    /// Falling speed at the end of the round (milli-units per tick).
    pub fall_speed_end: i32,
    /// Extra random falling speed, `0..fall_speed_jitter` (milli-units per tick).
    pub fall_speed_jitter: i32,

    /// Chance that a drop is a rain cloud at the start of the round (per mille).
    pub cloud_chance_start: u32,
    /// Chance that a drop is a rain cloud at the end of the round (per mille).
    pub cloud_chance_end: u32,
    /// Chance that a book is a golden storybook (per mille).
    pub golden_chance: u32,

    /// Score for an ordinary book on the shelf.
    pub book_score: u32,
    /// Score for a golden storybook on the shelf.
    pub golden_score: u32,

    /// Ticks a caught book is carried before it lands on the shelf; a cloud
    /// touched meanwhile soaks every carried book.
    pub carry_ticks: u32,
    /// Most drops in the air at once (bounds memory; a drop that would exceed
    /// it is not spawned and takes no spawn index, though the generator is
    /// consumed the same way).
    pub max_drops: u32,
}

impl Rules {
    /// The rules every round is played by now, named by [`RULES_VERSION`].
    pub const CURRENT: Rules = Rules {
        tick_hz: 20,
        round_ticks: 45 * 20,
        shelf_target: 30,

        field_width: 9_000,
        field_height: 16_000,

        fairy_y: 13_600,
        fairy_half_width: 700,
        fairy_half_height: 500,
        fairy_speed: 360,

        book_half_size: 300,
        cloud_half_width: 650,
        cloud_half_height: 350,

        spawn_interval_start: 14,
        spawn_interval_end: 6,
        fall_speed_start: 100,
        fall_speed_end: 190,
        fall_speed_jitter: 40,

        cloud_chance_start: 250,
        cloud_chance_end: 450,
        golden_chance: 100,

        book_score: 10,
        golden_score: 50,

        carry_ticks: 30,
        max_drops: 64,
    };

    /// The rules in force now; the same as [`Rules::CURRENT`].
    pub const fn current() -> Rules {
        Rules::CURRENT
    }

    /// Half the width and half the height of the fairy's catching box
    /// (milli-units).
    pub const fn fairy_half_size(&self) -> (i32, i32) {
        (self.fairy_half_width, self.fairy_half_height)
    }

    /// How long a full round lasts in real time (milliseconds).
    pub const fn round_duration_ms(&self) -> u64 {
        let hz = if self.tick_hz == 0 { 1 } else { self.tick_hz };
        self.round_ticks as u64 * 1_000 / hz as u64
    }

    /// Checks that these rules make a playable round; the simulation runs
    /// (without panicking) on any value, but only a valid one makes sense.
    pub fn validate(&self) -> Result<(), RulesError> {
        let checks: [(bool, &'static str); 10] = [
            (self.tick_hz > 0, "tick_hz must be positive"),
            (self.round_ticks > 0, "round_ticks must be positive"),
            (self.shelf_target > 0, "shelf_target must be positive"),
            (
                self.field_width > 0 && self.field_height > 0,
                "the playfield must have an area",
            ),
            (
                self.fairy_y > 0 && self.fairy_y < self.field_height,
                "the fairy must fly inside the playfield",
            ),
            (self.fairy_speed > 0, "the fairy must be able to move"),
            (
                self.spawn_interval_start > 0 && self.spawn_interval_end > 0,
                "spawn intervals must be positive",
            ),
            (
                self.fall_speed_start > 0 && self.fall_speed_end > 0 && self.fall_speed_jitter >= 0,
                "drops must fall",
            ),
            (
                self.cloud_chance_start <= 1_000
                    && self.cloud_chance_end <= 1_000
                    && self.golden_chance <= 1_000,
                "chances are per mille",
            ),
            (self.max_drops > 0, "max_drops must be positive"),
        ];
        match checks.iter().find(|(ok, _)| !ok) {
            Some(&(_, reason)) => Err(RulesError(reason)),
            None => Ok(()),
        }
    }
}

impl Default for Rules {
    fn default() -> Self {
        Rules::CURRENT
    }
}

/// Why a [`Rules`] value does not make a playable round.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("invalid rules: {0}")]
pub struct RulesError(pub &'static str);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn current_rules_are_valid() {
        assert_eq!(
            Rules::CURRENT.validate(),
            Ok(()),
            "the shipped rules must be playable"
        );
    }

    #[test]
    fn round_lasts_about_45_seconds() {
        assert_eq!(
            Rules::CURRENT.round_duration_ms(),
            45_000,
            "a round is 45 s"
        );
    }

    #[test]
    fn zero_tick_rate_is_invalid_but_does_not_panic() {
        let rules = Rules {
            tick_hz: 0,
            ..Rules::CURRENT
        };
        assert!(rules.validate().is_err(), "tick_hz = 0 must be rejected");
        assert_eq!(
            rules.round_duration_ms(),
            900_000,
            "duration clamps the divisor to 1"
        );
    }
}
