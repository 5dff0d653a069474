//! Replaying a finished round from its seed and input log: how the server
//! checks a client's claimed outcome.

use std::cell::RefCell;

use crate::systems::Steady;
use crate::{InputLog, Outcome, Round, Rules, RulesError, Seed, Steer};

/// Why an input log cannot be replayed. Every malformed log maps to one of
/// these; decoding and replay never panic.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReplayError {
    /// The encoded log is longer than [`MAX_ENCODED_BYTES`](crate::MAX_ENCODED_BYTES).
    #[error("input log is {len} bytes, more than the {max} allowed")]
    Oversize {
        /// Length of the log (bytes).
        len: usize,
        /// The limit (bytes).
        max: usize,
    },
    /// The bytes stop in the middle of the header or of an entry.
    #[error("input log is cut off at byte {offset}")]
    Truncated {
        /// Where the missing bytes should have started.
        offset: usize,
    },
    /// The first byte names a format this build does not read.
    #[error("input log format version {found} is not supported (expected {expected})")]
    UnsupportedVersion {
        /// The version byte found.
        found: u8,
        /// The version this build reads.
        expected: u8,
    },
    /// A tick gap is not a minimal LEB128 `u32`.
    #[error("malformed tick gap at byte {offset}")]
    MalformedVarint {
        /// Where the varint starts.
        offset: usize,
    },
    /// The tick gaps add up past `u32::MAX`.
    #[error("tick number overflows at byte {offset}")]
    TickOverflow {
        /// Where the entry starts.
        offset: usize,
    },
    /// A steer column is past [`Steer::MAX`].
    #[error("steer {value} at tick {tick} is out of range 0..={max}")]
    ValueOutOfRange {
        /// The tick of the entry.
        tick: u32,
        /// The column found.
        value: u8,
        /// The largest valid column.
        max: u8,
    },
    /// Hand-written changes whose ticks do not strictly increase.
    #[error("change at tick {tick} does not come after the change at tick {previous}")]
    TickOutOfOrder {
        /// The tick of the offending change.
        tick: u32,
        /// The tick of the change before it.
        previous: u32,
    },
    /// A change comes at or after the tick the round ended (its last tick
    /// played is `ticks_played - 1`).
    #[error("input at tick {tick} comes after the round ended ({ticks_played} ticks played)")]
    TickPastEnd {
        /// The tick of the change.
        tick: u32,
        /// How many ticks the round lasted.
        ticks_played: u32,
    },
    /// The rules given to replay do not make a playable round.
    #[error(transparent)]
    InvalidRules(#[from] RulesError),
}

/// Plays the round dealt by `seed` under `rules` with the player's `log`,
/// and returns its outcome: the same, bit for bit, as the client's
/// [`Round::outcome`] after recording that log.
///
/// The round runs until the shelf is full or the time is up; a change in the
/// log after that end is an error ([`ReplayError::TickPastEnd`]), since a
/// client that played the round could not have recorded it.
///
/// Each thread keeps one [`Replayer`] for this function, so repeated calls
/// skip building the `World` and its cached queries.
pub fn replay(seed: Seed, rules: &Rules, log: &InputLog) -> Result<Outcome, ReplayError> {
    thread_local! {
        static REPLAYER: RefCell<Replayer> = RefCell::new(Replayer::new());
    }
    REPLAYER.with(|replayer| match replayer.try_borrow_mut() {
        Ok(mut replayer) => replayer.replay(seed, rules, log),
        // Only reachable by re-entering `replay` from inside itself, which
        // nothing does; a fresh replayer keeps even that from panicking.
        Err(_) => Replayer::new().replay(seed, rules, log),
    })
}

/// Replays rounds one after another in the same [`Round`], restarted for
/// each (see [`Round::restart`]); what [`replay()`] uses on each thread.
#[derive(Debug, Default)]
pub struct Replayer {
    round: Option<Round>,
}

impl Replayer {
    /// A replayer; it builds its round on first use.
    pub fn new() -> Replayer {
        Replayer::default()
    }

    /// Same as [`replay()`], in this replayer's round.
    pub fn replay(
        &mut self,
        seed: Seed,
        rules: &Rules,
        log: &InputLog,
    ) -> Result<Outcome, ReplayError> {
        rules.validate()?;
        let round = match &mut self.round {
            Some(round) => {
                round.restart(seed, rules);
                round
            }
            None => self.round.insert(Round::new(seed, rules)),
        };
        let mut changes = log.changes().iter().peekable();
        let mut steer = Steer::CENTRE;
        round.play_out(|tick| {
            if let Some(change) = changes.next_if(|change| change.tick == tick) {
                steer = change.steer;
            }
            Steady {
                steer,
                until: changes.peek().map_or(u32::MAX, |change| change.tick),
            }
        });
        match changes.next() {
            Some(change) => Err(ReplayError::TickPastEnd {
                tick: change.tick,
                ticks_played: round.tick(),
            }),
            None => Ok(round.outcome()),
        }
    }
}
