//! The player's input, tick by tick, and its compact, versioned encoding.
//!
//! Each tick the player steers the fairy towards a [`Steer`] column. The log
//! keeps only the ticks where the steer changes; between changes the last
//! steer holds, and before the first change it is [`Steer::CENTRE`].
//!
//! Encoding, version [`LOG_FORMAT_VERSION`]:
//!
//! ```text
//! log    = version:u8 entry*
//! entry  = skip:varint column:u8
//! ```
//!
//! `skip` is an unsigned LEB128 varint (minimal form only): the entry's tick
//! is the previous entry's tick + 1 + `skip` (the first entry's tick is
//! `skip`), so ticks strictly increase by construction and a change on the
//! very next tick costs two bytes with its column. `column` is
//! `0..=Steer::MAX`. A change on every tick of a 900-tick round is therefore
//! 1 + 900 x 2 = 1801 bytes, the worst case; the scripted player's logs are
//! about 75 bytes, and a finger that rests between moves lands in between.
//!
//! How many ticks a round lasts is not in the log: the rules fix it (the
//! round ends at [`Rules::round_ticks`](crate::Rules::round_ticks) or as soon
//! as the shelf is full), and replay refuses changes after that end.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::{ReplayError, Rules};

/// The version of the byte encoding of an [`InputLog`] (its first byte).
pub const LOG_FORMAT_VERSION: u8 = 1;

/// The largest encoded log [`InputLog::decode`] accepts (bytes). A change on
/// every tick of a round under [`Rules::CURRENT`] fits (checked at compile
/// time below), with room to spare.
pub const MAX_ENCODED_BYTES: usize = 2_048;

/// The header: the version byte.
const HEADER_BYTES: usize = 1;

/// The encoding of one change is at most this many bytes when it follows the
/// previous change on the very next tick (one-byte varint, one-byte column).
const DENSEST_ENTRY_BYTES: usize = 2;

const _: () = assert!(
    HEADER_BYTES + DENSEST_ENTRY_BYTES * Rules::CURRENT.round_ticks as usize <= MAX_ENCODED_BYTES,
    "a log with a change on every tick must fit in MAX_ENCODED_BYTES"
);

/// Where the player steers the fairy: a column of the playfield, from
/// `0` (left edge) to [`Steer::MAX`] (right edge). The fairy flies towards it
/// at her capped speed. The client maps touch, mouse or keys to a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Steer(u8);

impl Steer {
    /// The rightmost column. 200 columns over a 9000-unit field make one
    /// column 45 milli-units: finer than a finger, and one byte in the log.
    pub const MAX: u8 = 200;
    /// The middle column, where the fairy starts and steers before any input.
    pub const CENTRE: Steer = Steer(Steer::MAX / 2);
    /// The leftmost column.
    pub const LEFTMOST: Steer = Steer(0);
    /// The rightmost column.
    pub const RIGHTMOST: Steer = Steer(Steer::MAX);

    /// The steer for `column`, or `None` if it is past [`Steer::MAX`].
    pub const fn new(column: u8) -> Option<Steer> {
        if column <= Steer::MAX {
            Some(Steer(column))
        } else {
            None
        }
    }

    /// The column, `0..=Steer::MAX`.
    pub const fn column(self) -> u8 {
        self.0
    }

    /// The column nearest to playfield position `x` (milli-units), clamped to
    /// the field; how the client turns a touch into a steer.
    pub fn toward_x(x: i32, rules: &Rules) -> Steer {
        let width = i64::from(rules.field_width.max(1));
        let max = i64::from(Steer::MAX);
        let column = (i64::from(x) * max + width / 2).div_euclid(width);
        // The clamp makes the narrowing exact.
        Steer(column.clamp(0, max) as u8)
    }

    /// The playfield position this column points at (milli-units).
    pub fn target_x(self, rules: &Rules) -> i32 {
        let column = i64::from(self.0);
        // At most field_width, so it fits back into an i32.
        (column * i64::from(rules.field_width) / i64::from(Steer::MAX)) as i32
    }
}

impl Default for Steer {
    fn default() -> Self {
        Steer::CENTRE
    }
}

/// One entry of the log: from `tick` on, the player steers to `steer`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SteerChange {
    /// The tick (counted from 0) the new steer applies to.
    pub tick: u32,
    /// The steer from that tick on.
    pub steer: Steer,
}

/// The input of one round, as its changes of steer in tick order.
///
/// Built by [`Round::step`](crate::Round::step) while playing, or decoded from
/// bytes. In JSON it is a string: the base64url (no padding) of
/// [`InputLog::encode`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InputLog {
    changes: Vec<SteerChange>,
}

impl InputLog {
    /// An empty log: the player never steered.
    pub fn new() -> InputLog {
        InputLog::default()
    }

    /// A log from hand-written changes (tests, tools). The ticks must
    /// strictly increase.
    pub fn from_changes(
        changes: impl IntoIterator<Item = SteerChange>,
    ) -> Result<InputLog, ReplayError> {
        let mut log = InputLog::new();
        for change in changes {
            if let Some(last) = log.changes.last()
                && change.tick <= last.tick
            {
                return Err(ReplayError::TickOutOfOrder {
                    tick: change.tick,
                    previous: last.tick,
                });
            }
            log.changes.push(change);
        }
        Ok(log)
    }

    /// The changes, in strictly increasing tick order.
    pub fn changes(&self) -> &[SteerChange] {
        &self.changes
    }

    /// The steer in force after the last change (or [`Steer::CENTRE`]).
    pub fn last_steer(&self) -> Steer {
        self.changes
            .last()
            .map_or(Steer::CENTRE, |change| change.steer)
    }

    /// Records the steer of `tick`; keeps it only if it changes the steer in
    /// force. Ticks must be recorded in increasing order.
    pub(crate) fn record(&mut self, tick: u32, steer: Steer) {
        debug_assert!(
            self.changes.last().is_none_or(|last| last.tick < tick),
            "ticks are recorded in order"
        );
        if steer != self.last_steer() {
            self.changes.push(SteerChange { tick, steer });
        }
    }

    /// The log in its compact byte form (see the module docs).
    pub fn encode(&self) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(HEADER_BYTES + self.changes.len() * DENSEST_ENTRY_BYTES);
        bytes.push(LOG_FORMAT_VERSION);
        let mut next_tick = 0_u32;
        let mut varint = unsigned_varint::encode::u32_buffer();
        for change in &self.changes {
            // Ticks strictly increase, so the subtraction cannot underflow.
            let skip = change.tick - next_tick;
            bytes.extend_from_slice(unsigned_varint::encode::u32(skip, &mut varint));
            bytes.push(change.steer.column());
            next_tick = change.tick.saturating_add(1);
        }
        bytes
    }

    /// Parses the byte form. Refuses, with a typed error and never a panic,
    /// more than [`MAX_ENCODED_BYTES`], an unknown version, a cut-off entry,
    /// a varint that is not the one minimal encoding of a `u32`, a tick past
    /// `u32::MAX`, or a column past [`Steer::MAX`]. So every log has exactly
    /// one encoding; repeated steers are accepted (they change nothing).
    pub fn decode(bytes: &[u8]) -> Result<InputLog, ReplayError> {
        if bytes.len() > MAX_ENCODED_BYTES {
            return Err(ReplayError::Oversize {
                len: bytes.len(),
                max: MAX_ENCODED_BYTES,
            });
        }
        let (&version, mut rest) = bytes
            .split_first()
            .ok_or(ReplayError::Truncated { offset: 0 })?;
        if version != LOG_FORMAT_VERSION {
            return Err(ReplayError::UnsupportedVersion {
                found: version,
                expected: LOG_FORMAT_VERSION,
            });
        }
        let offset_of = |rest: &[u8]| bytes.len() - rest.len();
        let mut changes = Vec::with_capacity(rest.len() / DENSEST_ENTRY_BYTES);
        // The earliest tick the next entry may name; u64 so that an entry at
        // tick u32::MAX does not overflow it.
        let mut next_tick = 0_u64;
        let mut varint = unsigned_varint::encode::u32_buffer();
        while !rest.is_empty() {
            let offset = offset_of(rest);
            let (skip, after_skip) =
                unsigned_varint::decode::u32(rest).map_err(|error| match error {
                    unsigned_varint::decode::Error::Insufficient => {
                        ReplayError::Truncated { offset }
                    }
                    _ => ReplayError::MalformedVarint { offset },
                })?;
            // The decoder drops stray high bits of a fifth byte; re-encoding
            // catches that, so every log has exactly one encoding.
            let read = &rest[..rest.len() - after_skip.len()];
            if unsigned_varint::encode::u32(skip, &mut varint) != read {
                return Err(ReplayError::MalformedVarint { offset });
            }
            let tick = u32::try_from(next_tick + u64::from(skip))
                .map_err(|_| ReplayError::TickOverflow { offset })?;
            let (&column, after_column) =
                after_skip.split_first().ok_or(ReplayError::Truncated {
                    offset: offset_of(after_skip),
                })?;
            let steer = Steer::new(column).ok_or(ReplayError::ValueOutOfRange {
                tick,
                value: column,
                max: Steer::MAX,
            })?;
            changes.push(SteerChange { tick, steer });
            next_tick = u64::from(tick) + 1;
            rest = after_column;
        }
        Ok(InputLog { changes })
    }
}

impl Serialize for InputLog {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&URL_SAFE_NO_PAD.encode(self.encode()))
    }
}

impl<'de> Deserialize<'de> for InputLog {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;
        let text = String::deserialize(deserializer)?;
        // Refuse before decoding: base64 of MAX_ENCODED_BYTES is at most this long.
        let max_text_len = MAX_ENCODED_BYTES.div_ceil(3) * 4;
        if text.len() > max_text_len {
            let error = ReplayError::Oversize {
                len: text.len() / 4 * 3,
                max: MAX_ENCODED_BYTES,
            };
            return Err(D::Error::custom(error));
        }
        let bytes = URL_SAFE_NO_PAD.decode(text.as_bytes()).map_err(|error| {
            D::Error::custom(format_args!("input log is not base64url: {error}"))
        })?;
        InputLog::decode(&bytes).map_err(D::Error::custom)
    }
}

/// In the API document: base64url without padding, at most as long as
/// [`MAX_ENCODED_BYTES`] encoded (what [`Deserialize`] reads before decoding).
#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for InputLog {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::Type::String)
            .pattern(Some("^[A-Za-z0-9_-]*$"))
            .max_length(Some(MAX_ENCODED_BYTES.div_ceil(3) * 4))
            .description(Some(
                "The encoded input log (format version, then each steering change \
                 as LEB128 varints), in base64url without padding",
            ))
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for InputLog {}

#[cfg(test)]
mod tests {
    use super::*;

    fn steer(column: u8) -> Steer {
        Steer::new(column).unwrap()
    }

    fn log(changes: &[(u32, u8)]) -> InputLog {
        let changes = changes.iter().map(|&(tick, column)| SteerChange {
            tick,
            steer: steer(column),
        });
        InputLog::from_changes(changes).unwrap()
    }

    /// Decodes `bytes` and compares with `expected`.
    fn check(bytes: &[u8], expected: Result<InputLog, ReplayError>) {
        assert_eq!(InputLog::decode(bytes), expected, "decoding {bytes:02x?}");
    }

    #[test]
    fn decodes_well_formed_logs() {
        check(&[LOG_FORMAT_VERSION], Ok(InputLog::new()));
        check(&[1, 0, 100], Ok(log(&[(0, 100)])));
        // Ticks 5, 6 (skip 0) and 6 + 1 + 200 = 207 (skip 200 is two bytes).
        check(
            &[1, 5, 0, 0, 200, 0xc8, 0x01, 7],
            Ok(log(&[(5, 0), (6, 200), (207, 7)])),
        );
        // The largest tick there is.
        check(
            &[1, 0xff, 0xff, 0xff, 0xff, 0x0f, 3],
            Ok(log(&[(u32::MAX, 3)])),
        );
    }

    #[test]
    fn refuses_malformed_logs_with_the_right_error() {
        check(&[], Err(ReplayError::Truncated { offset: 0 }));
        check(
            &[2, 0, 1],
            Err(ReplayError::UnsupportedVersion {
                found: 2,
                expected: 1,
            }),
        );
        check(
            &[0],
            Err(ReplayError::UnsupportedVersion {
                found: 0,
                expected: 1,
            }),
        );
        check(&[1, 0], Err(ReplayError::Truncated { offset: 2 }));
        check(&[1, 0, 1, 0x80], Err(ReplayError::Truncated { offset: 3 }));
        check(
            &[1, 0x80, 0x00, 1],
            Err(ReplayError::MalformedVarint { offset: 1 }),
        );
        check(
            &[1, 0xff, 0xff, 0xff, 0xff, 0x1f, 1],
            Err(ReplayError::MalformedVarint { offset: 1 }),
        );
        check(
            &[1, 3, 201],
            Err(ReplayError::ValueOutOfRange {
                tick: 3,
                value: 201,
                max: Steer::MAX,
            }),
        );
        check(
            &[1, 0xff, 0xff, 0xff, 0xff, 0x0f, 3, 0, 4],
            Err(ReplayError::TickOverflow { offset: 7 }),
        );
        let oversize = vec![0; MAX_ENCODED_BYTES + 1];
        check(
            &oversize,
            Err(ReplayError::Oversize {
                len: MAX_ENCODED_BYTES + 1,
                max: MAX_ENCODED_BYTES,
            }),
        );
    }

    #[test]
    fn encoding_round_trips() {
        let original = log(&[(0, 0), (1, 200), (2, 100), (130, 5), (100_000, 199)]);
        let bytes = original.encode();
        assert_eq!(bytes[0], LOG_FORMAT_VERSION, "the version comes first");
        assert_eq!(
            InputLog::decode(&bytes),
            Ok(original),
            "decode(encode(log)) == log"
        );
    }

    #[test]
    fn a_change_on_every_tick_fits_the_limit() {
        let ticks = Rules::CURRENT.round_ticks;
        let every_tick = log(&(0..ticks)
            .map(|tick| (tick, (tick % 2) as u8))
            .collect::<Vec<_>>());
        let bytes = every_tick.encode();
        assert_eq!(
            bytes.len(),
            1 + 2 * ticks as usize,
            "two bytes a change on consecutive ticks"
        );
        assert!(
            bytes.len() <= MAX_ENCODED_BYTES,
            "the densest real log must decode"
        );
        assert_eq!(InputLog::decode(&bytes), Ok(every_tick), "and round trip");
    }

    #[test]
    fn records_only_changes() {
        let mut recorded = InputLog::new();
        for (tick, column) in [(0, 100), (1, 100), (2, 120), (3, 120), (4, 100)] {
            recorded.record(tick, steer(column));
        }
        // Tick 0 steers to the centre, which is already in force.
        assert_eq!(
            recorded,
            log(&[(2, 120), (4, 100)]),
            "only changes are kept"
        );
    }

    #[test]
    fn hand_written_changes_must_be_in_order() {
        let changes = [(5, 1), (5, 2)].map(|(tick, column)| SteerChange {
            tick,
            steer: steer(column),
        });
        assert_eq!(
            InputLog::from_changes(changes),
            Err(ReplayError::TickOutOfOrder {
                tick: 5,
                previous: 5
            }),
            "two changes on one tick are refused"
        );
    }

    #[test]
    fn steer_maps_columns_to_positions_and_back() {
        let rules = Rules::CURRENT;
        for column in 0..=Steer::MAX {
            let x = steer(column).target_x(&rules);
            assert_eq!(
                Steer::toward_x(x, &rules),
                steer(column),
                "column {column} at x = {x}"
            );
        }
        assert_eq!(
            Steer::toward_x(-5_000, &rules),
            steer(0),
            "left of the field clamps"
        );
        assert_eq!(
            Steer::toward_x(i32::MAX, &rules),
            steer(Steer::MAX),
            "right clamps"
        );
        assert_eq!(Steer::new(Steer::MAX + 1), None, "past the last column");
    }

    #[test]
    fn serialises_as_base64url_without_padding() {
        let original = log(&[(0, 0), (1, 200)]);
        let json = serde_json::to_string(&original).unwrap();
        assert_eq!(
            json, "\"AQAAAMg\"",
            "base64url of [1, 0, 0, 0, 200], unpadded"
        );
        assert_eq!(
            serde_json::from_str::<InputLog>(&json).unwrap(),
            original,
            "round trip"
        );
    }

    #[test]
    fn deserialising_refuses_bad_strings() {
        for (json, why) in [
            ("\"AQAAAMg=\"", "padding"),
            ("\"AQ+/\"", "standard base64 alphabet"),
            ("\"Ag\"", "wrong version inside valid base64"),
            ("42", "not a string"),
        ] {
            assert!(
                serde_json::from_str::<InputLog>(json).is_err(),
                "{why}: {json}"
            );
        }
        let huge = format!("\"{}\"", "A".repeat(MAX_ENCODED_BYTES * 2));
        let error = serde_json::from_str::<InputLog>(&huge)
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("more than the 2048 allowed"),
            "oversize named: {error}"
        );
    }
}
