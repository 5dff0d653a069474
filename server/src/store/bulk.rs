//! What the bulk load (`server bulk-load`) and the ledger audit
//! (`server check-ledger`) share across backends: the synthetic
//! participations ([`SyntheticLoad`]) and the audit's invariants
//! ([`CheckFacts::check`]). Each backend only reads and writes them in its
//! own fastest way.

use std::collections::{BTreeMap, HashMap};

use rand::{Rng as _, SeedableRng as _};
use sim::Outcome;

use super::backend::{Changes, Head, NewRow, NewShareCode};
use crate::domain::{ChinaDay, PlayerId, RoundId, ShareCode};
use crate::idempotency::{IdempotencyKey, RequestFingerprint};

/// One China day, in ms.
const DAY_MS: u64 = 24 * 60 * 60 * 1000;

/// Poster codes the synthetic players come through.
const POSTER_CODES: usize = 500;

/// What a bulk load did.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct BulkLoadReport {
    /// Participations appended.
    pub loaded: u64,
    /// Number of the first one appended.
    pub first_number: u64,
    /// Number of the last one appended (= the ledger total afterwards).
    pub last_number: u64,
    /// Wall time of the load, in seconds.
    pub elapsed_secs: f64,
}

/// `count` synthetic participations numbered from `first_number` on (for
/// benchmarks and rehearsals), with the day counts, player rows and
/// tallies the writer would have given them.
///
/// Rounds are spread evenly over the `days` China days before `now_ms`;
/// players play one to three rounds each, one after the other; one round
/// in ten comes through one of 500 poster codes ([`Self::poster_codes`],
/// created by the load, labelled `bulk-load N`); `seed` makes it
/// repeatable. Synthetic players get no share code of their own (they get
/// one if they are counted again, like players from before share codes).
///
/// Iterating yields each participation, and each player's row once their
/// rounds are all yielded.
#[derive(Debug)]
pub(crate) struct SyntheticLoad {
    first_number: u64,
    count: u64,
    start_ms: u64,
    span_ms: u64,
    rng: rand_pcg::Pcg64Mcg,
    codes: Vec<ShareCode>,
    /// The player whose rounds are being yielded.
    player: SyntheticPlayer,
    rounds_left_for_player: u32,
    loaded: u64,
    /// A participation to yield after the player row just yielded.
    pending: Option<NewRow>,
    /// Each day's participations before the load.
    days_before: HashMap<i64, u64>,
    /// The tallies moved so far.
    tallies: Changes,
}

/// A synthetic player's row, once their rounds are loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SyntheticPlayer {
    /// The player.
    pub id: PlayerId,
    /// Participations counted (their rounds are consecutive).
    pub participations: u64,
    /// Their latest participation's number.
    pub latest: u64,
    /// The poster code their first round came through, if any.
    pub referred_by: Option<ShareCode>,
}

/// What a [`SyntheticLoad`] yields.
#[derive(Debug, Clone)]
pub(crate) enum Synthetic {
    /// A participation.
    Participation(NewRow),
    /// A player whose rounds were all yielded.
    Player(SyntheticPlayer),
}

impl SyntheticLoad {
    /// A load of `count` rows after the ledger's last number
    /// (`first_number - 1`).
    pub fn new(first_number: u64, count: u64, days: u32, now_ms: u64, seed: u64) -> Self {
        let span_ms = u64::from(days.max(1)) * DAY_MS;
        let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(seed);
        let codes = (0..POSTER_CODES)
            .map(|_| ShareCode::from_bits(rng.random()))
            .collect();
        Self {
            first_number,
            count,
            start_ms: now_ms.saturating_sub(span_ms),
            span_ms,
            rng,
            codes,
            player: SyntheticPlayer {
                id: PlayerId::from_bytes([0; 16]),
                participations: 0,
                latest: 0,
                referred_by: None,
            },
            rounds_left_for_player: 0,
            loaded: 0,
            pending: None,
            days_before: HashMap::new(),
            tallies: Changes::new(now_ms),
        }
    }

    /// The poster codes the rounds come through, to create before the rows
    /// (a code that already exists, from an earlier load with the same
    /// seed, is kept as it is).
    pub fn poster_codes(&self) -> Vec<NewShareCode> {
        self.codes
            .iter()
            .enumerate()
            .map(|(n, &code)| NewShareCode {
                code,
                owner: None,
                label: Some(format!("bulk-load {n}")),
            })
            .collect()
    }

    /// When row `loaded` (from 0) of the load was finished, in ms since the
    /// Unix epoch.
    fn finished_at_ms(&self, loaded: u64) -> u64 {
        // In u128: span x count can pass u64 for very large loads.
        let offset_ms =
            u128::from(self.span_ms) * u128::from(loaded) / u128::from(self.count.max(1));
        self.start_ms + u64::try_from(offset_ms).unwrap_or(self.span_ms)
    }

    /// The China days the rows fall on: ask the ledger how many
    /// participations each has, and hand the answer to
    /// [`Self::with_day_tallies`].
    pub fn days(&self) -> Vec<i64> {
        if self.count == 0 {
            return Vec::new();
        }
        let first = ChinaDay::from_unix_ms(self.finished_at_ms(0)).number();
        let last = ChinaDay::from_unix_ms(self.finished_at_ms(self.count - 1)).number();
        (first..=last).collect()
    }

    /// Sets each day's participations before the load, in the order of
    /// [`Self::days`].
    pub fn with_day_tallies(mut self, tallies: Vec<u64>) -> Self {
        self.days_before = self.days().into_iter().zip(tallies).collect();
        self
    }

    /// The tallies the load moves and the head after it (from the head
    /// before it), once everything was yielded.
    pub fn finish(mut self, head_before: Head) -> Changes {
        self.tallies.head = Some(Head {
            next_number: self.first_number + self.loaded,
            revision: head_before.revision + 1,
        });
        self.tallies
    }

    /// The next participation, and the row of the player it ended, if it
    /// started a new one.
    fn next_row(&mut self) -> (NewRow, Option<SyntheticPlayer>) {
        let number = self.first_number + self.loaded;
        let finished_at_ms = self.finished_at_ms(self.loaded);
        self.loaded += 1;
        let day = ChinaDay::from_unix_ms(finished_at_ms).number();
        let day_count = match self.tallies.day_counts.get(&day) {
            Some(count) => count + 1,
            None => self.days_before.get(&day).copied().unwrap_or(0) + 1,
        };
        self.tallies.day_counts.insert(day, day_count);
        let mut ended = None;
        if self.rounds_left_for_player == 0 {
            let next = SyntheticPlayer {
                id: PlayerId::from_bytes(self.rng.random()),
                participations: 0,
                latest: 0,
                referred_by: None,
            };
            ended =
                Some(std::mem::replace(&mut self.player, next)).filter(|p| p.participations > 0);
            self.rounds_left_for_player = self.rng.random_range(1..=3);
        }
        self.rounds_left_for_player -= 1;
        let referral = self
            .rng
            .random_ratio(1, 10)
            .then(|| self.codes[self.rng.random_range(0..self.codes.len())]);
        let first_round = self.player.participations == 0;
        self.player.participations += 1;
        self.player.latest = number;
        if let Some(code) = referral {
            if first_round {
                self.player.referred_by = Some(code);
            }
            let referred = u64::from(first_round);
            let tally = self.tallies.share_increments.entry(code).or_default();
            tally.referred_players += referred;
            tally.participations += 1;
            self.tallies.share_totals.referred_players += referred;
            self.tallies.share_totals.participations += 1;
        }
        let books_caught: u32 = self.rng.random_range(10..=30);
        let round = RoundId::from_bytes(self.rng.random());
        let state_hash: u64 = self.rng.random();
        let fingerprint = RequestFingerprint::from_bytes(self.rng.random());
        let row = NewRow {
            number,
            round,
            player: self.player.id,
            referral,
            finished_at_ms,
            day,
            day_count,
            outcome: Outcome {
                books_caught,
                score: books_caught * 10,
                completed: true,
                ticks_played: sim::Rules::CURRENT.round_ticks,
                state_hash,
            },
            rules_version: sim::RULES_VERSION,
            idempotency_key: IdempotencyKey::parse(&format!("bulk-{number}"))
                .expect("bulk-N is a valid key"),
            fingerprint,
        };
        (row, ended)
    }
}

impl Iterator for SyntheticLoad {
    type Item = Synthetic;

    fn next(&mut self) -> Option<Synthetic> {
        if let Some(row) = self.pending.take() {
            return Some(Synthetic::Participation(row));
        }
        if self.loaded == self.count {
            // The last player, once.
            let last = std::mem::replace(&mut self.player.participations, 0);
            return (last > 0).then_some(Synthetic::Player(SyntheticPlayer {
                participations: last,
                ..self.player
            }));
        }
        match self.next_row() {
            (row, None) => Some(Synthetic::Participation(row)),
            (row, Some(ended)) => {
                self.pending = Some(row);
                Some(Synthetic::Player(ended))
            }
        }
    }
}

/// The result of an audit: the ledger recounted from its rows.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct LedgerCheck {
    /// Rows in the ledger.
    pub participations: u64,
    /// Smallest participation number (0 when empty).
    pub first_number: u64,
    /// Largest participation number (0 when empty).
    pub last_number: u64,
    /// Distinct round ids.
    pub distinct_rounds: u64,
    /// Rejections recorded.
    pub rejections: u64,
    /// Every broken invariant, in words; empty for a sound ledger.
    pub problems: Vec<String>,
}

/// Per day: rows, the largest running count, and distinct running counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct DayRecount {
    pub rows: u64,
    pub max_day_count: u64,
    pub distinct_day_counts: u64,
}

/// What an audit reads from a ledger (every row scanned): recounts of the
/// rows, and the tallies and head as stored.
#[derive(Debug, Clone, Default)]
pub(crate) struct CheckFacts {
    /// Rows, smallest and largest number, distinct rounds.
    pub participations: u64,
    pub first_number: u64,
    pub last_number: u64,
    pub distinct_rounds: u64,
    /// Rejection rows.
    pub rejections: u64,
    /// The rows recounted per day, and the day tallies.
    pub day_rows: BTreeMap<i64, DayRecount>,
    pub day_tallies: BTreeMap<i64, u64>,
    /// The participations recounted per credited share code, and the
    /// codes' participation tallies (those above zero).
    pub share_code_rows: BTreeMap<String, u64>,
    pub share_code_tallies: BTreeMap<String, u64>,
    /// The players recounted per code that referred them, and the codes'
    /// referred-player tallies (those above zero).
    pub referring_rows: BTreeMap<String, u64>,
    pub referring_tallies: BTreeMap<String, u64>,
    /// Per player: participations and the latest number, recounted from the
    /// participations, and as their row says.
    pub player_rows: BTreeMap<PlayerId, (u64, u64)>,
    pub player_tallies: BTreeMap<PlayerId, (u64, u64)>,
    /// Players whose share code does not name them as its owner, and owned
    /// codes whose owner's row does not name the code: a code and its
    /// player name each other once, and only the writer keeps it so.
    pub code_owner_mismatches: u64,
    /// The share codes' tallies added up (participations, referred
    /// players), and the campaign's sharing tallies.
    pub share_code_sums: (u64, u64),
    pub share_totals: (u64, u64),
    /// The rejections recounted per reason, and the rejection tallies.
    pub rejection_rows: BTreeMap<String, u64>,
    pub rejection_tallies: BTreeMap<String, u64>,
    /// The head.
    pub head: Option<Head>,
}

impl CheckFacts {
    /// Checks the ledger's invariants: numbers contiguous from 1, each round
    /// once, every tally equal to a recount of the rows, each day's running
    /// counts 1..=n, the head just past the last number.
    pub fn check(self) -> LedgerCheck {
        let mut check = LedgerCheck {
            participations: self.participations,
            first_number: self.first_number,
            last_number: self.last_number,
            distinct_rounds: self.distinct_rounds,
            rejections: self.rejections,
            problems: Vec::new(),
        };
        let problems = &mut check.problems;
        if check.participations > 0
            && (check.first_number != 1 || check.last_number != check.participations)
        {
            problems.push(format!(
                "participation numbers are not contiguous from 1: {} rows numbered {}..={}",
                check.participations, check.first_number, check.last_number
            ));
        }
        if check.distinct_rounds != check.participations {
            problems.push(format!(
                "{} rows but {} distinct rounds",
                check.participations, check.distinct_rounds
            ));
        }
        let day_rows: BTreeMap<i64, u64> = self
            .day_rows
            .iter()
            .map(|(&day, recount)| (day, recount.rows))
            .collect();
        compare(problems, "day", &day_rows, &self.day_tallies);
        for (day, recount) in &self.day_rows {
            if recount.max_day_count != recount.rows || recount.distinct_day_counts != recount.rows
            {
                problems.push(format!(
                    "day {day}: running counts are not 1..={}",
                    recount.rows
                ));
            }
        }
        compare(
            problems,
            "share code",
            &self.share_code_rows,
            &self.share_code_tallies,
        );
        compare(
            problems,
            "referring code",
            &self.referring_rows,
            &self.referring_tallies,
        );
        let players: std::collections::BTreeSet<&PlayerId> = self
            .player_rows
            .keys()
            .chain(self.player_tallies.keys())
            .collect();
        for player in players {
            let counted = self.player_rows.get(player).copied().unwrap_or_default();
            let row = self.player_tallies.get(player).copied().unwrap_or_default();
            if counted != row {
                problems.push(format!(
                    "player {player}: {} rows up to #{}, but their row says {} up to #{}",
                    counted.0, counted.1, row.0, row.1
                ));
            }
        }
        if self.code_owner_mismatches > 0 {
            problems.push(format!(
                "{} players and share codes do not name each other as code and owner",
                self.code_owner_mismatches
            ));
        }
        if self.share_code_sums != self.share_totals {
            problems.push(format!(
                "the share codes add up to {} participations and {} referred players, but the \
                 campaign's tallies say {} and {}",
                self.share_code_sums.0,
                self.share_code_sums.1,
                self.share_totals.0,
                self.share_totals.1
            ));
        }
        compare(
            problems,
            "rejection reason",
            &self.rejection_rows,
            &self.rejection_tallies,
        );
        match self.head {
            Some(head) if head.next_number == check.last_number + 1 => {}
            Some(head) => problems.push(format!(
                "the head says the next number is {} after {} participations",
                head.next_number, check.last_number
            )),
            None => problems.push("the ledger has no head row".into()),
        }
        check
    }
}

/// Adds a problem for every key whose recount and tally differ.
fn compare<K: Ord + std::fmt::Display>(
    problems: &mut Vec<String>,
    what: &str,
    recount: &BTreeMap<K, u64>,
    tally: &BTreeMap<K, u64>,
) {
    let keys: std::collections::BTreeSet<&K> = recount.keys().chain(tally.keys()).collect();
    for key in keys {
        let counted = recount.get(key).copied().unwrap_or(0);
        let tallied = tally.get(key).copied().unwrap_or(0);
        if counted != tallied {
            problems.push(format!(
                "{what} {key}: {counted} rows but the tally says {tallied}"
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_synthetic_load_numbers_counts_and_tallies_its_rows() {
        let now_ms = 1_700_000_000_000;
        let load = SyntheticLoad::new(11, 1_000, 3, now_ms, 7);
        let days = load.days();
        assert!(
            (3..=4).contains(&days.len()),
            "three days of rows touch three or four China days: {days:?}"
        );
        let mut load = load.with_day_tallies(vec![5; days.len()]);
        let mut rows = Vec::new();
        let mut players = Vec::new();
        for item in load.by_ref() {
            match item {
                Synthetic::Participation(row) => rows.push(row),
                Synthetic::Player(player) => players.push(player),
            }
        }
        let numbers: Vec<u64> = rows.iter().map(|row| row.number).collect();
        assert_eq!(
            numbers,
            (11..1_011).collect::<Vec<_>>(),
            "numbered after the ledger"
        );
        let first_day_counts: Vec<u64> = rows
            .iter()
            .filter(|row| row.day == days[0])
            .map(|row| row.day_count)
            .take(2)
            .collect();
        assert_eq!(
            first_day_counts,
            [6, 7],
            "day counts continue from the day's tally"
        );
        let referred = rows.iter().filter(|row| row.referral.is_some()).count() as u64;
        assert_eq!(
            players
                .iter()
                .map(|player| player.participations)
                .sum::<u64>(),
            1_000,
            "every row's player has a row"
        );
        let mut expected_latest = 10;
        for player in &players {
            expected_latest += player.participations;
            assert_eq!(
                player.latest, expected_latest,
                "a player's rounds are consecutive, and their row ends at the last"
            );
        }
        let changes = load.finish(Head {
            next_number: 11,
            revision: 4,
        });
        assert_eq!(
            changes
                .share_increments
                .values()
                .map(|delta| delta.participations)
                .sum::<u64>(),
            referred,
            "every referred row is credited"
        );
        assert_eq!(
            changes.share_totals.referred_players,
            players
                .iter()
                .filter(|player| player.referred_by.is_some())
                .count() as u64,
            "and each player referred by their first round"
        );
        assert_eq!(
            changes.day_counts.values().sum::<u64>(),
            1_000 + 5 * changes.day_counts.len() as u64,
            "each day's tally is its count before plus its rows"
        );
        assert_eq!(
            changes.head,
            Some(Head {
                next_number: 1_011,
                revision: 5
            }),
            "the head moves past the load"
        );
    }

    #[test]
    fn the_check_names_each_broken_invariant() {
        let facts = CheckFacts {
            participations: 3,
            first_number: 1,
            last_number: 4,
            distinct_rounds: 2,
            day_rows: BTreeMap::from([(
                1,
                DayRecount {
                    rows: 3,
                    max_day_count: 4,
                    distinct_day_counts: 3,
                },
            )]),
            day_tallies: BTreeMap::from([(1, 3)]),
            share_code_rows: BTreeMap::from([("a".to_owned(), 1)]),
            head: Some(Head {
                next_number: 5,
                revision: 1,
            }),
            ..CheckFacts::default()
        };
        let problems = facts.check().problems;
        assert_eq!(
            problems,
            [
                "participation numbers are not contiguous from 1: 3 rows numbered 1..=4",
                "3 rows but 2 distinct rounds",
                "day 1: running counts are not 1..=3",
                "share code a: 1 rows but the tally says 0",
            ],
            "a gap, a repeated round, a wrong running count and a missing tally"
        );
    }
}
