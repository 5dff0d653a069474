//! Domain types of the round API, parsed once where data enters the server
//! ("parse, don't validate") so the rest of the code can trust them.

pub mod account;
mod day;
mod ids;
pub mod period;
mod referral;

pub use account::{Role, UserId, UserName};
pub use day::ChinaDay;
pub use ids::{PlayerId, RoundId};
pub use period::{Period, Preset};
pub use referral::ReferralCode;

/// Why a piece of client-supplied text is not a valid domain value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// Not a UUID in any of the usual text forms.
    #[error("not a valid {kind} id")]
    BadId {
        /// Which identifier was being parsed (`round`, `player`).
        kind: &'static str,
    },
    /// A referral code outside the allowed length or alphabet.
    #[error("a referral code is {min}-{max} characters of A-Z, a-z, 0-9, '-' or '_'")]
    BadReferral {
        /// Shortest allowed code, in characters.
        min: usize,
        /// Longest allowed code, in characters.
        max: usize,
    },
    /// An `Idempotency-Key` that is empty, too long or not visible ASCII.
    #[error("an idempotency key is 1-{max} visible ASCII characters")]
    BadIdempotencyKey {
        /// Longest allowed key, in characters.
        max: usize,
    },
}
