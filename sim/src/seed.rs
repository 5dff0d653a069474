//! The seed of a round: the only source of randomness in the rules.

use core::fmt;
use core::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The seed the server deals for a round; the same seed and the same input
/// log always give the same outcome.
///
/// In JSON it is a decimal string, because JavaScript numbers cannot hold
/// every `u64`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Seed(pub u64);

impl fmt::Display for Seed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl FromStr for Seed {
    type Err = core::num::ParseIntError;

    /// Parses the decimal form written by `Display`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.parse().map(Seed)
    }
}

impl Serialize for Seed {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Seed {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // Owned, so that strings with escapes or from readers deserialise too.
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// In the API document: the decimal string [`Serialize`] writes.
#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for Seed {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::Type::String)
            .pattern(Some("^[0-9]{1,20}$"))
            .description(Some(
                "A u64 as a decimal string (JavaScript numbers cannot hold it)",
            ))
            .examples(["12345678901234567890"])
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for Seed {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialises_as_a_decimal_string() {
        let seed = Seed(u64::MAX);
        let json = serde_json::to_string(&seed).unwrap();
        assert_eq!(
            json, "\"18446744073709551615\"",
            "u64::MAX must survive JavaScript"
        );
        assert_eq!(
            serde_json::from_str::<Seed>(&json).unwrap(),
            seed,
            "round trip"
        );
    }

    #[test]
    fn refuses_numbers_and_garbage() {
        assert!(
            serde_json::from_str::<Seed>("42").is_err(),
            "a bare number is not a seed"
        );
        assert!(serde_json::from_str::<Seed>("\"-1\"").is_err(), "negative");
        assert!(
            serde_json::from_str::<Seed>("\"18446744073709551616\"").is_err(),
            "overflow"
        );
    }
}
