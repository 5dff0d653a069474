//! The campaign's calendar day: China Standard Time (UTC+8, no daylight
//! saving), because "today" and the daily caps follow the players' clocks.

use jiff::Span;
use jiff::civil::Date;

/// A calendar day in China Standard Time, counted in days since 1970-01-01.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ChinaDay(i64);

impl ChinaDay {
    /// China Standard Time's offset from UTC, in milliseconds.
    const OFFSET_MS: i64 = 8 * 60 * 60 * 1000;
    /// One day, in milliseconds.
    const DAY_MS: i64 = 24 * 60 * 60 * 1000;

    /// The day containing the instant `unix_ms` (milliseconds since the Unix
    /// epoch).
    pub fn from_unix_ms(unix_ms: u64) -> Self {
        let local_ms = i64::try_from(unix_ms)
            .unwrap_or(i64::MAX)
            .saturating_add(Self::OFFSET_MS);
        Self(local_ms.div_euclid(Self::DAY_MS))
    }

    /// Days since 1970-01-01 (China time), as stored in the ledger.
    pub fn number(self) -> i64 {
        self.0
    }

    /// Rebuilds a day from [`Self::number`].
    pub fn from_number(days: i64) -> Self {
        Self(days)
    }

    /// The first millisecond of the day, since the Unix epoch (0 for days
    /// before it).
    pub fn start_unix_ms(self) -> u64 {
        u64::try_from(self.0.saturating_mul(Self::DAY_MS) - Self::OFFSET_MS).unwrap_or(0)
    }

    /// The day `days` later (earlier when negative).
    pub fn plus_days(self, days: i64) -> Self {
        Self(self.0.saturating_add(days))
    }

    /// The calendar date.
    pub fn date(self) -> Date {
        Span::new()
            .try_days(self.0)
            .ok()
            .and_then(|span| EPOCH.checked_add(span).ok())
            .unwrap_or(if self.0 < 0 { Date::MIN } else { Date::MAX })
    }

    /// The day of a calendar date.
    pub fn from_date(date: Date) -> Self {
        Self(
            EPOCH
                .until(date)
                .map_or(0, |span| i64::from(span.get_days())),
        )
    }
}

/// Day 0.
const EPOCH: Date = Date::constant(1970, 1, 1);

impl std::fmt::Display for ChinaDay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.date().fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR_MS: u64 = 60 * 60 * 1000;

    #[test]
    fn a_new_day_starts_at_midnight_beijing_time() {
        // 1970-01-01T16:00Z is midnight of 1970-01-02 in Beijing.
        let before = ChinaDay::from_unix_ms(16 * HOUR_MS - 1);
        let after = ChinaDay::from_unix_ms(16 * HOUR_MS);
        assert_eq!(
            before.number(),
            0,
            "15:59:59.999Z is still 1 January in Beijing"
        );
        assert_eq!(after.number(), 1, "16:00Z is 2 January in Beijing");
    }

    #[test]
    fn days_are_dates() {
        let day = ChinaDay::from_unix_ms(1_559_318_400_000);
        assert_eq!(day.date(), jiff::civil::date(2019, 6, 1), "day 18048");
        assert_eq!(ChinaDay::from_date(day.date()), day, "and back");
        assert_eq!(day.to_string(), "2019-06-01", "shown as a date");
        assert_eq!(day.start_unix_ms(), 1_559_318_400_000, "starts at midnight");
        assert_eq!(day.plus_days(-1).number(), 18_047, "the day before");
    }

    #[test]
    fn a_known_date() {
        // 2019-06-01T00:00+08:00 = 2019-05-31T16:00Z = 1559318400000 ms;
        // 2019-06-01 is day 18048 since 1970-01-01.
        assert_eq!(ChinaDay::from_unix_ms(1_559_318_400_000).number(), 18_048);
        assert_eq!(
            ChinaDay::from_unix_ms(1_559_318_400_000 - 1).number(),
            18_047
        );
    }
}
