//! Opaque random identifiers for rounds and players, drawn from the
//! operating system's CSPRNG.
//!
//! Both are version-7 UUIDs: 74 random bits after a millisecond timestamp.
//! The randomness keeps them unguessable (a round id scopes idempotency
//! keys; a player id is the only thing that links an anonymous player to
//! their history); the time order makes the ledger's indexes on them grow at
//! their end instead of being written at random places, which keeps appends
//! cheap in a ledger of millions. A player id tells only its holder when
//! they first came: it is never shown to anyone else.

use std::fmt;

use uuid::Uuid;

use super::ParseError;

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident, $kind:literal, $generate:path) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(Uuid);

        impl $name {
            /// A fresh random identifier.
            pub fn random() -> Self {
                Self($generate())
            }

            /// Parses the text form (hyphenated, simple, braced or URN UUID).
            pub fn parse(text: &str) -> Result<Self, ParseError> {
                Uuid::try_parse(text.trim())
                    .map(Self)
                    .map_err(|_| ParseError::BadId { kind: $kind })
            }

            /// The 16 raw bytes, as stored in the ledger and in tokens.
            pub fn to_bytes(self) -> [u8; 16] {
                self.0.into_bytes()
            }

            /// Rebuilds an identifier from [`Self::to_bytes`].
            pub fn from_bytes(bytes: [u8; 16]) -> Self {
                Self(Uuid::from_bytes(bytes))
            }
        }

        /// The canonical lowercase hyphenated form, as sent to clients.
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0.hyphenated(), f)
            }
        }
    };
}

uuid_id!(
    /// Identifies one round, from `POST /api/rounds` to its participation.
    RoundId,
    "round",
    Uuid::now_v7
);
uuid_id!(
    /// An anonymous player: issued by the server, kept by the browser, no
    /// personal data attached.
    PlayerId,
    "player",
    Uuid::now_v7
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_then_parse_gives_back_the_same_id() {
        let id = RoundId::random();
        let text = id.to_string();
        assert_eq!(text.len(), 36, "hyphenated form expected, got {text}");
        assert_eq!(RoundId::parse(&text), Ok(id), "round trip through text");
    }

    #[test]
    fn bytes_round_trip() {
        let id = PlayerId::random();
        assert_eq!(
            PlayerId::from_bytes(id.to_bytes()),
            id,
            "round trip through bytes"
        );
    }

    #[test]
    fn random_ids_differ() {
        assert_ne!(
            RoundId::random(),
            RoundId::random(),
            "two fresh ids must differ"
        );
    }

    #[test]
    fn rejects_text_that_is_not_a_uuid() {
        for bad in [
            "",
            "42",
            "not-a-uuid",
            "zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz",
        ] {
            assert_eq!(
                PlayerId::parse(bad),
                Err(ParseError::BadId { kind: "player" }),
                "{bad:?} must be refused"
            );
        }
    }
}
