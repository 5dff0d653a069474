//! Report periods: a first and a last China day, both included, chosen by
//! dates or by a preset (today, the last 7 or 30 days, this or last
//! quarter, the whole campaign). The charity law asks for disclosure at
//! least every three months, hence the quarter presets.

use jiff::civil::Date;

use super::ChinaDay;

/// A named period, relative to today (China time).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Preset {
    /// Today only.
    Today,
    /// Today and the 6 days before.
    Last7Days,
    /// Today and the 29 days before.
    Last30Days,
    /// From the first day of the current quarter to today.
    ThisQuarter,
    /// The whole previous quarter.
    LastQuarter,
    /// From the campaign's first day to today.
    Campaign,
}

impl Preset {
    /// Every preset, in the order the selector shows them.
    pub const ALL: [Preset; 6] = [
        Preset::Today,
        Preset::Last7Days,
        Preset::Last30Days,
        Preset::ThisQuarter,
        Preset::LastQuarter,
        Preset::Campaign,
    ];

    /// Its name in a URL (`?preset=quarter`).
    pub fn key(self) -> &'static str {
        match self {
            Self::Today => "today",
            Self::Last7Days => "7d",
            Self::Last30Days => "30d",
            Self::ThisQuarter => "quarter",
            Self::LastQuarter => "last-quarter",
            Self::Campaign => "campaign",
        }
    }

    /// Its label in Chinese.
    pub fn zh(self) -> &'static str {
        match self {
            Self::Today => "今天",
            Self::Last7Days => "近 7 天",
            Self::Last30Days => "近 30 天",
            Self::ThisQuarter => "本季度",
            Self::LastQuarter => "上季度",
            Self::Campaign => "整个活动",
        }
    }

    /// Its label in English.
    pub fn en(self) -> &'static str {
        match self {
            Self::Today => "Today",
            Self::Last7Days => "7 days",
            Self::Last30Days => "30 days",
            Self::ThisQuarter => "This quarter",
            Self::LastQuarter => "Last quarter",
            Self::Campaign => "Whole campaign",
        }
    }

    /// The preset whose [`Self::key`] is `key`.
    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|preset| preset.key() == key)
    }
}

/// The days a report covers, both ends included; never empty.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Period {
    first: ChinaDay,
    last: ChinaDay,
    preset: Option<Preset>,
}

/// Longest period a report may cover, in days (about 27 years): far beyond
/// any campaign, small enough that a per-day chart stays bounded.
pub const MAX_DAYS: i64 = 10_000;

/// Why a period was refused. Messages are Chinese, then English.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeriodError {
    /// A date that is not `YYYY-MM-DD`.
    #[error("日期“{0}”应为 YYYY-MM-DD / the date {0:?} is not YYYY-MM-DD")]
    BadDate(String),
    /// An unknown preset.
    #[error("未知的时间段“{0}” / unknown period {0:?}")]
    UnknownPreset(String),
    /// The first day is after the last.
    #[error("开始日期晚于结束日期 / the first day is after the last")]
    Backwards,
    /// More than [`MAX_DAYS`] days.
    #[error("时间段太长（最多 {MAX_DAYS} 天） / the period is too long (at most {MAX_DAYS} days)")]
    TooLong,
}

impl Period {
    /// The days from `first` to `last`, both included.
    pub fn new(first: ChinaDay, last: ChinaDay) -> Result<Self, PeriodError> {
        if first > last {
            return Err(PeriodError::Backwards);
        }
        if last.number() - first.number() >= MAX_DAYS {
            return Err(PeriodError::TooLong);
        }
        Ok(Self {
            first,
            last,
            preset: None,
        })
    }

    /// The period `preset` names on `today`, for a campaign whose first day
    /// is `campaign_start` (today when nothing has happened yet).
    pub fn preset(preset: Preset, today: ChinaDay, campaign_start: Option<ChinaDay>) -> Self {
        let today_date = today.date();
        let quarter_start = quarter_start(today_date);
        let (first, last) = match preset {
            Preset::Today => (today, today),
            Preset::Last7Days => (today.plus_days(-6), today),
            Preset::Last30Days => (today.plus_days(-29), today),
            Preset::ThisQuarter => (ChinaDay::from_date(quarter_start), today),
            Preset::LastQuarter => {
                let last = ChinaDay::from_date(quarter_start).plus_days(-1);
                (ChinaDay::from_date(quarter_start_of(last.date())), last)
            }
            Preset::Campaign => {
                let start = campaign_start.unwrap_or(today).min(today);
                (start.max(today.plus_days(1 - MAX_DAYS)), today)
            }
        };
        Self {
            first,
            last,
            preset: Some(preset),
        }
    }

    /// The period a report's query asks for: a preset by its key, or
    /// `from` and `to` dates (either missing: that end of the whole
    /// campaign); nothing at all is the whole campaign.
    pub fn from_query(
        preset: Option<&str>,
        from: Option<&str>,
        to: Option<&str>,
        today: ChinaDay,
        campaign_start: Option<ChinaDay>,
    ) -> Result<Self, PeriodError> {
        fn nonempty(text: Option<&str>) -> Option<&str> {
            text.map(str::trim).filter(|text| !text.is_empty())
        }
        if let Some(key) = nonempty(preset) {
            let preset =
                Preset::from_key(key).ok_or_else(|| PeriodError::UnknownPreset(key.to_owned()))?;
            return Ok(Self::preset(preset, today, campaign_start));
        }
        let (from, to) = (nonempty(from), nonempty(to));
        if from.is_none() && to.is_none() {
            return Ok(Self::preset(Preset::Campaign, today, campaign_start));
        }
        let campaign = Self::preset(Preset::Campaign, today, campaign_start);
        let parse = |text: &str| {
            text.parse::<Date>()
                .map(ChinaDay::from_date)
                .map_err(|_| PeriodError::BadDate(text.to_owned()))
        };
        let first = from.map(parse).transpose()?.unwrap_or(campaign.first);
        let last = to.map(parse).transpose()?.unwrap_or(campaign.last);
        Self::new(first, last)
    }

    /// The first day.
    pub fn first(self) -> ChinaDay {
        self.first
    }

    /// The last day.
    pub fn last(self) -> ChinaDay {
        self.last
    }

    /// The preset it was chosen by, if any.
    pub fn chosen_preset(self) -> Option<Preset> {
        self.preset
    }

    /// Days in the period.
    pub fn days(self) -> i64 {
        self.last.number() - self.first.number() + 1
    }

    /// True when it covers every day from `campaign_start` to `today` (so
    /// the running totals answer it without reading per-day tallies).
    pub fn is_whole_campaign(self, today: ChinaDay, campaign_start: Option<ChinaDay>) -> bool {
        self.last >= today && campaign_start.is_none_or(|start| self.first <= start)
    }

    /// The query string that asks for this period again (`from=…&to=…`, or
    /// `preset=…`).
    pub fn query(self) -> String {
        match self.preset {
            Some(preset) => format!("preset={}", preset.key()),
            None => format!("from={}&to={}", self.first.date(), self.last.date()),
        }
    }
}

/// The first day of the quarter `date` is in.
fn quarter_start_of(date: Date) -> Date {
    let month = (date.month() - 1) / 3 * 3 + 1;
    Date::new(date.year(), month, 1).unwrap_or(date)
}

fn quarter_start(date: Date) -> Date {
    quarter_start_of(date)
}

#[cfg(test)]
mod tests {
    use jiff::civil::date;

    use super::*;

    fn day(y: i16, m: i8, d: i8) -> ChinaDay {
        ChinaDay::from_date(date(y, m, d))
    }

    #[test]
    fn presets_name_their_days() {
        let today = day(2026, 5, 14);
        let start = Some(day(2025, 11, 3));
        let check = |preset, first: ChinaDay, last: ChinaDay| {
            let period = Period::preset(preset, today, start);
            assert_eq!(
                (period.first().date(), period.last().date()),
                (first.date(), last.date()),
                "{preset:?}"
            );
        };
        check(Preset::Today, today, today);
        check(Preset::Last7Days, day(2026, 5, 8), today);
        check(Preset::Last30Days, day(2026, 4, 15), today);
        check(Preset::ThisQuarter, day(2026, 4, 1), today);
        check(Preset::LastQuarter, day(2026, 1, 1), day(2026, 3, 31));
        check(Preset::Campaign, day(2025, 11, 3), today);
        let january = day(2026, 1, 20);
        let last = Period::preset(Preset::LastQuarter, january, start);
        assert_eq!(
            (last.first().date(), last.last().date()),
            (date(2025, 10, 1), date(2025, 12, 31)),
            "last quarter crosses the year"
        );
        let empty = Period::preset(Preset::Campaign, today, None);
        assert_eq!(empty.days(), 1, "a campaign with no data yet is today");
    }

    #[test]
    fn queries_choose_presets_or_dates() {
        let today = day(2026, 5, 14);
        let start = Some(day(2026, 1, 10));
        let ask = |preset, from, to| Period::from_query(preset, from, to, today, start);
        assert_eq!(
            ask(Some("7d"), Some("2020-01-01"), None).map(|p| p.days()),
            Ok(7),
            "a preset wins over dates"
        );
        assert_eq!(
            ask(None, None, None).map(Period::chosen_preset),
            Ok(Some(Preset::Campaign)),
            "nothing asked is the whole campaign"
        );
        let dates = ask(None, Some("2026-02-01"), Some("2026-02-28")).unwrap();
        assert_eq!(dates.days(), 28, "February 2026");
        assert_eq!(dates.query(), "from=2026-02-01&to=2026-02-28", "its query");
        assert_eq!(
            ask(None, Some("2026-02-01"), None).map(|p| p.last().date()),
            Ok(date(2026, 5, 14)),
            "an open end is today"
        );
        assert_eq!(
            ask(None, Some("2026-13-01"), None),
            Err(PeriodError::BadDate("2026-13-01".into())),
            "a bad date"
        );
        assert_eq!(
            ask(None, Some("2026-03-01"), Some("2026-02-01")),
            Err(PeriodError::Backwards),
            "backwards"
        );
        assert_eq!(
            ask(Some("decade"), None, None),
            Err(PeriodError::UnknownPreset("decade".into())),
            "unknown preset"
        );
        assert_eq!(
            ask(None, Some("1990-01-01"), None),
            Err(PeriodError::TooLong),
            "too long"
        );
    }

    #[test]
    fn the_whole_campaign_is_recognised() {
        let today = day(2026, 5, 14);
        let start = Some(day(2026, 1, 10));
        let campaign = Period::preset(Preset::Campaign, today, start);
        assert!(campaign.is_whole_campaign(today, start), "the preset");
        let wider = Period::new(day(2025, 1, 1), today).unwrap();
        assert!(wider.is_whole_campaign(today, start), "a wider period");
        let quarter = Period::preset(Preset::ThisQuarter, today, start);
        assert!(!quarter.is_whole_campaign(today, start), "a quarter is not");
    }
}
