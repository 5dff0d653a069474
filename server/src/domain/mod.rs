//! Domain types of the round API, parsed once where data enters the server
//! ("parse, don't validate") so the rest of the code can trust them.

pub mod account;
mod day;
mod ids;
pub mod period;
mod share_code;

pub use account::{Role, UserId, UserName};
pub use day::ChinaDay;
pub use ids::{PlayerId, RoundId};
pub use period::{Period, Preset};
pub use share_code::ShareCode;

/// Why a piece of client-supplied text is not a valid domain value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// Not a UUID in any of the usual text forms.
    #[error("not a valid {kind} id")]
    BadId {
        /// Which identifier was being parsed (`round`, `player`).
        kind: &'static str,
    },
    /// A share code of the wrong length or alphabet.
    #[error("a share code is {len} characters of 0-9 and A-Z except I, L, O and U")]
    BadShareCode {
        /// Its length, in characters.
        len: usize,
    },
    /// An `Idempotency-Key` that is empty, too long or not visible ASCII.
    #[error("an idempotency key is 1-{max} visible ASCII characters")]
    BadIdempotencyKey {
        /// Longest allowed key, in characters.
        max: usize,
    },
}
