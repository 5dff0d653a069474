//! The recipient schools: what one school is ([`School`], [`CountyCode`]) and
//! how a list of them comes in from an admin's spreadsheet ([`import`]).
//!
//! Schools are parsed once at the edge, so everything downstream (the
//! allocation, the public pages, the reports) can trust that a school has an
//! id that is safe in a URL, a real county-level GB/T 2260 code and at least
//! one pupil.

pub mod import;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

pub use import::{Field, ImportError, LineError, LineProblem, parse_school_file};

/// One school that receives books.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct School {
    /// The school's id in the imported list: 1-32 characters of `A-Z`,
    /// `a-z`, `0-9`, `-` and `_`, so it can stand in a URL (`/schools/{id}`).
    pub id: String,
    /// Its name, as the foundation writes it.
    pub name: String,
    /// Its province (省, 自治区, 直辖市).
    pub province: String,
    /// Its prefecture (地级市, 州, 盟 or 地区).
    pub prefecture: String,
    /// Its county (县, 区, 旗).
    pub county: String,
    /// The county's GB/T 2260 code.
    pub county_code: CountyCode,
    /// Pupils at the school (at least 1): the weight of its claim on books.
    pub pupils: u32,
    /// Books the school should receive at most (at least 1).
    pub target_books: u32,
}

impl School {
    /// The school as players see it in receipts and histories.
    pub fn to_wire(&self) -> sim::wire::SchoolRef {
        sim::wire::SchoolRef {
            id: self.id.clone(),
            name: self.name.clone(),
            province: self.province.clone(),
            prefecture: self.prefecture.clone(),
            county: self.county.clone(),
            county_code: self.county_code.to_string(),
        }
    }
}

/// A county-level administrative division code (GB/T 2260): six digits,
/// the first two naming the province, the middle two the prefecture, the
/// last two the county within it.
///
/// It is displayed, serialised and parsed as six digits of text
/// (`"522632"`), which is how the code is written everywhere in China.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CountyCode(u32);

/// The two-digit codes of China's provincial-level divisions (GB/T 2260),
/// including Taiwan (71), Hong Kong (81) and Macau (82).
const PROVINCE_CODES: [u32; 34] = [
    11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52,
    53, 54, 61, 62, 63, 64, 65, 71, 81, 82,
];

impl CountyCode {
    /// Checks that `code` is a county-level code: six digits with a known
    /// province prefix, not ending in `00` (which would be a province or a
    /// prefecture).
    pub fn new(code: u32) -> Result<Self, CountyCodeError> {
        if code > 999_999 {
            return Err(CountyCodeError::NotSixDigits);
        }
        let province = code / 10_000;
        if !PROVINCE_CODES.contains(&province) {
            return Err(CountyCodeError::UnknownProvince { province });
        }
        if code.is_multiple_of(100) {
            return Err(CountyCodeError::NotACounty);
        }
        Ok(Self(code))
    }

    /// The code as a number (`522632`).
    pub fn get(self) -> u32 {
        self.0
    }

    /// The two-digit code of the county's province (`52` for 贵州省).
    pub fn province_code(self) -> u32 {
        self.0 / 10_000
    }
}

impl fmt::Display for CountyCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:06}", self.0)
    }
}

impl FromStr for CountyCode {
    type Err = CountyCodeError;

    /// Parses exactly six ASCII digits (surrounding whitespace allowed).
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let digits = text.trim();
        if digits.len() != 6 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(CountyCodeError::NotSixDigits);
        }
        let code = digits.parse().map_err(|_| CountyCodeError::NotSixDigits)?;
        Self::new(code)
    }
}

impl TryFrom<String> for CountyCode {
    type Error = CountyCodeError;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        text.parse()
    }
}

impl From<CountyCode> for String {
    fn from(code: CountyCode) -> Self {
        code.to_string()
    }
}

/// Why a text is not a county-level GB/T 2260 code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CountyCodeError {
    /// Not exactly six digits.
    #[error("县代码应为 6 位数字 / a county code is 6 digits")]
    NotSixDigits,
    /// The first two digits name no province.
    #[error("前两位 {province:02} 不是省级代码 / {province:02} is not a province code")]
    UnknownProvince {
        /// The first two digits.
        province: u32,
    },
    /// Ends in `00`: a province or prefecture code, not a county's.
    #[error(
        "以 00 结尾的是省或地级代码，不是县级代码 / a code ending in 00 is a province or prefecture, not a county"
    )]
    NotACounty,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn county_codes_parse_and_display_as_six_digits() {
        let code: CountyCode = " 522632 ".parse().expect("榕江县's code is valid");
        assert_eq!(code.get(), 522_632, "the number behind the text");
        assert_eq!(code.to_string(), "522632", "displayed as six digits");
        assert_eq!(code.province_code(), 52, "贵州省 is 52");
    }

    #[test]
    fn county_codes_refuse_what_is_not_a_county() {
        let cases = [
            ("52263", CountyCodeError::NotSixDigits),
            ("5226321", CountyCodeError::NotSixDigits),
            ("52263a", CountyCodeError::NotSixDigits),
            ("+52263", CountyCodeError::NotSixDigits),
            ("", CountyCodeError::NotSixDigits),
            ("５２２６３２", CountyCodeError::NotSixDigits),
            ("992632", CountyCodeError::UnknownProvince { province: 99 }),
            ("012345", CountyCodeError::UnknownProvince { province: 1 }),
            ("522600", CountyCodeError::NotACounty),
            ("520000", CountyCodeError::NotACounty),
        ];
        for (text, expected) in cases {
            assert_eq!(
                text.parse::<CountyCode>(),
                Err(expected),
                "{text:?} should be refused"
            );
        }
    }

    #[test]
    fn county_codes_serialise_as_text() {
        let code: CountyCode = "632857".parse().expect("a 海西州 行政委员会 code");
        let json = serde_json::to_string(&code).expect("serialise");
        assert_eq!(json, "\"632857\"", "JSON carries the code as a string");
        let back: CountyCode = serde_json::from_str(&json).expect("deserialise");
        assert_eq!(back, code, "round trip");
        assert!(
            serde_json::from_str::<CountyCode>("\"632800\"").is_err(),
            "deserialising validates too"
        );
    }

    #[test]
    fn a_school_becomes_the_wire_reference_players_see() {
        let school = School {
            id: "DEMO-01".into(),
            name: "榕江县第一示例小学".into(),
            province: "贵州省".into(),
            prefecture: "黔东南苗族侗族自治州".into(),
            county: "榕江县".into(),
            county_code: "522632".parse().expect("valid"),
            pupils: 420,
            target_books: 900,
        };
        let wire = school.to_wire();
        assert_eq!(
            wire,
            sim::wire::SchoolRef {
                id: "DEMO-01".into(),
                name: "榕江县第一示例小学".into(),
                province: "贵州省".into(),
                prefecture: "黔东南苗族侗族自治州".into(),
                county: "榕江县".into(),
                county_code: "522632".into(),
            },
            "every public field is carried over, the code as six digits"
        );
    }
}
