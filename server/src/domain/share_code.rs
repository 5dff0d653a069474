//! Share codes: the part of a share link (`/s/{code}`) that credits the
//! sharer, or a poster's class or event.

use std::fmt;

use super::ParseError;

/// Crockford's base32: digits and upper-case letters without I, L, O and U,
/// so nothing on a screen or a poster can be mistaken for something else.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A share code: [`ShareCode::LEN`] characters of Crockford's base32,
/// random (it says nothing about the player it belongs to), and read
/// case-insensitively, with the look-alikes O, I and L read as 0, 1 and 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ShareCode([u8; ShareCode::LEN]);

impl ShareCode {
    /// Characters in a code: 40 random bits, a trillion codes, so random
    /// codes for millions of sharers rarely meet (the ledger checks anyway).
    pub const LEN: usize = 8;

    /// A fresh random code.
    pub fn random() -> Result<Self, getrandom::Error> {
        let mut bits = [0u8; 8];
        getrandom::fill(&mut bits[..5])?;
        Ok(Self::from_bits(u64::from_le_bytes(bits)))
    }

    /// The code of the low 40 bits of `bits` (for tests and synthetic data).
    pub fn from_bits(bits: u64) -> Self {
        let mut code = [0u8; Self::LEN];
        for (index, symbol) in code.iter_mut().enumerate() {
            *symbol = ALPHABET[((bits >> (5 * index)) & 31) as usize];
        }
        Self(code)
    }

    /// Reads a code as a person may type it: any case, O for 0, I or L for
    /// 1. Anything else is refused.
    pub fn parse(text: &str) -> Result<Self, ParseError> {
        let bytes = text.as_bytes();
        if bytes.len() != Self::LEN {
            return Err(ParseError::BadShareCode { len: Self::LEN });
        }
        let mut code = [0u8; Self::LEN];
        for (symbol, &byte) in code.iter_mut().zip(bytes) {
            *symbol = match byte.to_ascii_uppercase() {
                b'O' => b'0',
                b'I' | b'L' => b'1',
                upper if ALPHABET.contains(&upper) => upper,
                _ => return Err(ParseError::BadShareCode { len: Self::LEN }),
            };
        }
        Ok(Self(code))
    }

    /// The code as text: upper case, canonical.
    pub fn as_str(&self) -> &str {
        // Every byte comes from ALPHABET, which is ASCII.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl fmt::Display for ShareCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, expected: Option<&str>) {
        let parsed = ShareCode::parse(text).ok();
        assert_eq!(
            parsed.as_ref().map(ShareCode::as_str),
            expected,
            "{text:?} should read as {expected:?}"
        );
    }

    #[test]
    fn codes_are_read_case_insensitively_with_look_alikes() {
        check("7K3M9QRT", Some("7K3M9QRT"));
        check("7k3m9qrt", Some("7K3M9QRT"));
        check("O1LI0000", Some("01110000"));
        check("oilo2345", Some("01102345"));
    }

    #[test]
    fn everything_else_is_refused() {
        check("", None);
        check("7K3M9QR", None);
        check("7K3M9QRTX", None);
        check("7K3M9QRU", None);
        check("7K3M-QRT", None);
        check("老师老师", None);
        check("7K3M9QR ", None);
    }

    #[test]
    fn random_codes_read_back_as_themselves() {
        for _ in 0..100 {
            let code = ShareCode::random().unwrap();
            assert_eq!(
                ShareCode::parse(code.as_str()),
                Ok(code),
                "{code} must parse to itself"
            );
        }
        assert_ne!(
            ShareCode::from_bits(1),
            ShareCode::from_bits(2),
            "different bits, different codes"
        );
    }
}
