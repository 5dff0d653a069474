//! The rules of one 圆梦精灵 (Dream Fairy) round as a deterministic
//! simulation, shared by the client (which plays it live) and the server
//! (which replays the player's input and gets the same outcome, bit for bit).
//!
//! The round: the Dream Fairy flies over a village school and catches the
//! books drifting down from the sky. A caught book is carried for a moment
//! ([`Rules::carry_ticks`]) before it lands on the library shelf; a rain
//! cloud touched meanwhile soaks every book she carries, and they are lost.
//! Golden storybooks are rarer and worth more. The pace rises during the
//! round. The round is *completed* when the shelf holds
//! [`Rules::shelf_target`] books, and it stops there; otherwise it stops
//! after [`Rules::round_ticks`].
//!
//! Map of the crate:
//! - [`rules`]: [`RULES_VERSION`] and every tunable ([`Rules::CURRENT`]).
//! - [`components`]: the ECS components of a round (the fairy, her board,
//!   the places in the sky).
//! - `systems`: the systems of one tick and their fixed order.
//! - [`round`]: [`Round`], a `bevy_ecs` `World` plus its tick, stepped
//!   one tick at a time, recording the input; [`Outcome`].
//! - [`input_log`]: [`Steer`] and the compact, versioned [`InputLog`].
//! - [`replay`](mod@replay): [`replay()`] and [`ReplayError`].
//! - [`bot`]: the scripted player that makes valid logs.
//! - [`wire`]: the JSON bodies of the round API.
//!
//! Determinism: a fixed tick, no clock, integer maths only, one seeded
//! portable generator (PCG32), contacts resolved in spawn order, and a state
//! hash over fixed-width fields in a fixed order (FNV-1a 64). `sim` does no
//! I/O and never reads the time.

pub mod bot;
pub mod components;
mod hash;
pub mod input_log;
pub mod replay;
pub mod round;
pub mod rules;
mod seed;
mod systems;
pub mod wire;

pub use components::{Basket, Clock, FallingKind, Position, RoundStatus, Shelf, Tally};
pub use input_log::{InputLog, LOG_FORMAT_VERSION, MAX_ENCODED_BYTES, Steer, SteerChange};
pub use replay::{ReplayError, Replayer, replay};
pub use round::{FairyView, FallingView, Outcome, Round};
pub use rules::{RULES_VERSION, Rules, RulesError};
pub use seed::Seed;
