//! The campaign's calendar day: China Standard Time (UTC+8, no daylight
//! saving), because "today" and the daily caps follow the players' clocks.

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
