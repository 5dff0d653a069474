//! Referral codes: the part of a share link that credits the sharer.

use std::fmt;

use super::ParseError;

/// A sharer's code, carried from the share link into the round token and
/// tallied with every participation it brings.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ReferralCode(String);

impl ReferralCode {
    /// Shortest accepted code, in characters.
    pub const MIN_LEN: usize = 3;
    /// Longest accepted code, in characters (it must also fit a token's
    /// one-byte length field).
    pub const MAX_LEN: usize = 32;

    /// Accepts `MIN_LEN..=MAX_LEN` characters of ASCII letters, digits, `-`
    /// and `_` (the characters that survive a URL and a QR code untouched).
    pub fn parse(text: &str) -> Result<Self, ParseError> {
        let allowed = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
        if (Self::MIN_LEN..=Self::MAX_LEN).contains(&text.len()) && text.chars().all(allowed) {
            Ok(Self(text.to_owned()))
        } else {
            Err(ParseError::BadReferral {
                min: Self::MIN_LEN,
                max: Self::MAX_LEN,
            })
        }
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ReferralCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, accepted: bool) {
        let parsed = ReferralCode::parse(text);
        assert_eq!(
            parsed.is_ok(),
            accepted,
            "{text:?}: expected accepted={accepted}, got {parsed:?}"
        );
        if let Ok(code) = parsed {
            assert_eq!(code.as_str(), text, "a parsed code keeps its text");
        }
    }

    #[test]
    fn accepts_url_safe_codes_of_the_right_length() {
        check("abc", true);
        check("Teacher_Li-2019", true);
        check(&"x".repeat(ReferralCode::MAX_LEN), true);
    }

    #[test]
    fn refuses_everything_else() {
        check("", false);
        check("ab", false);
        check(&"x".repeat(ReferralCode::MAX_LEN + 1), false);
        check("has space", false);
        check("semi;colon", false);
        check("老师", false);
        check("a/b/c", false);
    }
}
