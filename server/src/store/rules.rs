//! The ledger writer's decisions, written once for every backend.
//!
//! For one batch of verified rounds, in queue order: was the round counted
//! already (before, or earlier in this batch)? has the player reached the
//! daily cap? which number does it get, and which running count of its day?
//! does it fund a book, and which school gets the book? The backend is only
//! asked for facts, all at once ([`Facts::load`]), and told what to write
//! ([`Changes`]); the decisions in between are a plain function
//! ([`decide`]), tested without a database.

use std::collections::{BTreeSet, HashMap};

use sim::wire::{BookStatus, SchoolRef};

use super::backend::{
    Changes, Head, LedgerRead, NewRow, NewShareCode, PlayerChange, PlayerRow, Result, ShareCodeRow,
    ShareDelta,
};
use super::{AppendOutcome, NewParticipation, Participation, RejectionRecord, StoreError};
use crate::allocation::{Allocator, BookProgress, PledgeSchedule};
use crate::domain::{ChinaDay, PlayerId, RoundId, ShareCode};

/// What the decisions of one batch depend on, read from the ledger.
#[derive(Debug, Default)]
pub(crate) struct Facts {
    /// The batch's rounds that were counted before it.
    pub counted: HashMap<RoundId, Participation>,
    /// Participations of each `(player, day)` of the batch before it.
    pub player_days: HashMap<(PlayerId, i64), u64>,
    /// Participations of each day of the batch before it.
    pub day_tallies: HashMap<i64, u64>,
    /// The batch's players who were counted before it.
    pub players: HashMap<PlayerId, PlayerRow>,
    /// The batch's referral codes that exist.
    pub codes: HashMap<ShareCode, ShareCodeRow>,
    /// Share codes nobody holds, for the batch's players who have none yet,
    /// in order of use.
    pub fresh_codes: Vec<ShareCode>,
}

impl Facts {
    /// Asks the backend, in one question per kind, about every round,
    /// player-day and day of `appends`.
    pub async fn load(tx: &mut impl LedgerRead, appends: &[NewParticipation]) -> Result<Self> {
        if appends.is_empty() {
            return Ok(Self::default());
        }
        let rounds: Vec<RoundId> = appends.iter().map(|new| new.round).collect();
        let counted = tx
            .rounds(rounds)
            .await?
            .into_iter()
            .map(|participation| (participation.round, participation))
            .collect();
        let player_day_keys: Vec<(PlayerId, i64)> = appends
            .iter()
            .map(|new| (new.player, day_of(new)))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let player_day_counts = tx.player_day_counts(player_day_keys.clone()).await?;
        let days: Vec<i64> = appends
            .iter()
            .map(day_of)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let day_counts = tx.day_tallies(days.clone()).await?;
        let batch_players: BTreeSet<PlayerId> = appends.iter().map(|new| new.player).collect();
        let players = tx.players(batch_players.iter().copied().collect()).await?;
        let codes = tx
            .share_codes(
                appends
                    .iter()
                    .filter_map(|new| new.referral)
                    .collect::<BTreeSet<_>>()
                    .into_iter()
                    .collect(),
            )
            .await?;
        let without_code = batch_players
            .iter()
            .filter(|player| players.get(player).and_then(|row| row.share_code).is_none())
            .count();
        Ok(Self {
            counted,
            player_days: player_day_keys.into_iter().zip(player_day_counts).collect(),
            day_tallies: days.into_iter().zip(day_counts).collect(),
            players,
            codes,
            fresh_codes: fresh_codes(tx, without_code).await?,
        })
    }
}

/// Rounds of drawing at most to find `count` fresh codes: each draw of 40
/// random bits collides with a held code about once in 300,000 at the
/// campaign's size, so one round almost always does.
const MAX_CODE_DRAWS: usize = 8;

/// `count` random share codes that nobody holds (asked of the ledger under
/// the writer's lock, so they stay free until the commit).
pub(crate) async fn fresh_codes(tx: &mut impl LedgerRead, count: usize) -> Result<Vec<ShareCode>> {
    let mut fresh = BTreeSet::new();
    for _ in 0..MAX_CODE_DRAWS {
        if fresh.len() >= count {
            break;
        }
        let mut candidates = BTreeSet::new();
        while candidates.len() < count - fresh.len() {
            let code = ShareCode::random()
                .map_err(|error| StoreError::Backend(error.to_string().into()))?;
            if !fresh.contains(&code) {
                candidates.insert(code);
            }
        }
        let held = tx.share_codes(candidates.iter().copied().collect()).await?;
        fresh.extend(
            candidates
                .into_iter()
                .filter(|code| !held.contains_key(code)),
        );
    }
    if fresh.len() < count {
        return Err(StoreError::Inconsistent(format!(
            "found only {} free share codes of {count} in {MAX_CODE_DRAWS} draws",
            fresh.len()
        )));
    }
    Ok(fresh.into_iter().collect())
}

fn day_of(new: &NewParticipation) -> i64 {
    ChinaDay::from_unix_ms(new.finished_at_ms).number()
}

/// What became of one append, before book statuses are filled in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Decision {
    /// Counted as `participation`, whose book stood at `progress` then.
    Appended {
        participation: Participation,
        progress: BookProgress,
    },
    /// Counted before (or earlier in this batch); `progress` is where its
    /// book stands after this batch.
    AlreadyCounted {
        participation: Participation,
        progress: BookProgress,
    },
    /// The player reached the daily cap.
    DailyCapReached,
}

/// Decides a batch, in queue order, moving `allocator` and adding what to
/// write to `changes`. `head` is the ledger's head before the batch.
pub(crate) fn decide(
    appends: &[NewParticipation],
    rejections: &[RejectionRecord],
    facts: &Facts,
    head: Head,
    allocator: &mut Allocator,
    changes: &mut Changes,
) -> Vec<Decision> {
    let mut next_number = head.next_number;
    let mut fresh_codes = facts.fresh_codes.iter().copied();
    let mut counted_now: HashMap<RoundId, Participation> = HashMap::new();
    let mut player_days_now: HashMap<(PlayerId, i64), u64> = HashMap::new();
    let mut decisions = Vec::with_capacity(appends.len());
    for new in appends {
        if let Some(existing) = facts
            .counted
            .get(&new.round)
            .or_else(|| counted_now.get(&new.round))
        {
            // Where its book stands is decided below, once the whole batch
            // is counted.
            decisions.push(Decision::AlreadyCounted {
                participation: existing.clone(),
                progress: BookProgress::AwaitingSponsor,
            });
            continue;
        }
        let day = day_of(new);
        let played_today = facts
            .player_days
            .get(&(new.player, day))
            .copied()
            .unwrap_or(0)
            + player_days_now
                .get(&(new.player, day))
                .copied()
                .unwrap_or(0);
        if played_today >= u64::from(new.player_daily_cap) {
            decisions.push(Decision::DailyCapReached);
            continue;
        }

        let day_count = changes
            .day_counts
            .get(&day)
            .or_else(|| facts.day_tallies.get(&day))
            .copied()
            .unwrap_or(0)
            + 1;
        let number = next_number;
        next_number += 1;
        changes.day_counts.insert(day, day_count);
        *player_days_now.entry((new.player, day)).or_default() += 1;
        let (share_code, credited) = share(new, number, facts, &mut fresh_codes, changes);
        changes.fund(allocator.count(number));
        let participation = Participation {
            number,
            round: new.round,
            player: new.player,
            finished_at_ms: new.finished_at_ms,
            day_count,
            score: new.outcome.score,
            books_caught: new.outcome.books_caught,
            idempotency_key: new.idempotency_key.clone(),
            fingerprint: new.fingerprint,
            book: BookStatus::AwaitingSponsor,
            share_code,
        };
        changes.participations.push(NewRow {
            number,
            round: new.round,
            player: new.player,
            referral: credited,
            finished_at_ms: new.finished_at_ms,
            day,
            day_count,
            outcome: new.outcome,
            rules_version: new.rules_version,
            idempotency_key: new.idempotency_key.clone(),
            fingerprint: new.fingerprint,
        });
        counted_now.insert(new.round, participation.clone());
        decisions.push(Decision::Appended {
            progress: allocator.progress(number, number),
            participation,
        });
    }

    let counted = next_number - 1;
    for decision in &mut decisions {
        if let Decision::AlreadyCounted {
            participation,
            progress,
        } = decision
        {
            *progress = allocator.progress(participation.number, counted);
            participation.share_code = player_code(participation.player, facts, changes);
        }
    }

    for rejection in rejections {
        *changes
            .rejection_increments
            .entry(rejection.reason)
            .or_default() += 1;
    }
    changes.rejections.extend_from_slice(rejections);
    changes.head = Some(Head {
        next_number,
        revision: head.revision + 1,
    });
    decisions
}

/// Counts `new` (numbered `number`) in its player's row and in the share
/// tallies: a player counted for the first time gets a share code, and is
/// attributed to the code they came with if it is someone else's (or a
/// poster's); every participation that came with such a code is credited
/// to it. Answers the player's code and the credited code.
fn share(
    new: &NewParticipation,
    number: u64,
    facts: &Facts,
    fresh_codes: &mut impl Iterator<Item = ShareCode>,
    changes: &mut Changes,
) -> (Option<ShareCode>, Option<ShareCode>) {
    let credited = new.referral.filter(|code| {
        facts
            .codes
            .get(code)
            .is_some_and(|row| row.owner != Some(new.player))
    });
    let known = facts.players.get(&new.player);
    let held_code = player_code(new.player, facts, changes);
    let player = changes
        .players
        .entry(new.player)
        .or_insert_with(|| PlayerChange {
            new_code: None,
            first_time: known.is_none(),
            participations: 0,
            latest: 0,
        });
    let first_counted = player.first_time && player.participations == 0;
    player.participations += 1;
    player.latest = number;
    let share_code = held_code.or_else(|| {
        let code = fresh_codes.next()?;
        player.new_code = Some((code, credited.filter(|_| first_counted)));
        changes.share_codes.push(NewShareCode {
            code,
            owner: Some(new.player),
            label: None,
        });
        Some(code)
    });
    if let Some(code) = credited {
        let delta = ShareDelta {
            referred_players: u64::from(first_counted),
            participations: 1,
        };
        let tally = changes.share_increments.entry(code).or_default();
        tally.referred_players += delta.referred_players;
        tally.participations += delta.participations;
        changes.share_totals.referred_players += delta.referred_players;
        changes.share_totals.participations += delta.participations;
    }
    (share_code, credited)
}

/// The share code `player` holds: from the ledger, or given in this batch.
fn player_code(player: PlayerId, facts: &Facts, changes: &Changes) -> Option<ShareCode> {
    facts
        .players
        .get(&player)
        .and_then(|row| row.share_code)
        .or_else(|| {
            changes
                .players
                .get(&player)
                .and_then(|change| change.new_code)
                .map(|(code, _)| code)
        })
}

/// The books among `progresses` that have a school, for one lookup.
pub(crate) fn allocated_books(progresses: impl IntoIterator<Item = BookProgress>) -> Vec<u64> {
    progresses
        .into_iter()
        .filter_map(|progress| match progress {
            BookProgress::Allocated { book } => Some(book),
            _ => None,
        })
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

/// The wire status of a book at `progress`, given the schools of the
/// allocated books (a book that should have one but has none in `schools`
/// is shown funded).
pub(crate) fn book_status(progress: BookProgress, schools: &HashMap<u64, SchoolRef>) -> BookStatus {
    match progress {
        BookProgress::AwaitingSponsor => BookStatus::AwaitingSponsor,
        BookProgress::Filling {
            book,
            participations_needed,
        } => BookStatus::Filling {
            book,
            participations_needed,
        },
        BookProgress::Unallocated { book } => BookStatus::Funded { book },
        BookProgress::Allocated { book } => match schools.get(&book) {
            Some(school) => BookStatus::Allocated {
                book,
                school: school.clone(),
            },
            None => BookStatus::Funded { book },
        },
    }
}

/// Turns decisions into the answers the waiters get, with the schools of
/// their books as the transaction sees them after its writes.
pub(crate) async fn outcomes(
    tx: &mut impl LedgerRead,
    decisions: Vec<Decision>,
) -> Result<Vec<AppendOutcome>> {
    let books = allocated_books(decisions.iter().filter_map(|decision| match decision {
        Decision::Appended { progress, .. } | Decision::AlreadyCounted { progress, .. } => {
            Some(*progress)
        }
        Decision::DailyCapReached => None,
    }));
    let schools = if books.is_empty() {
        HashMap::new()
    } else {
        tx.book_schools(books).await?
    };
    Ok(decisions
        .into_iter()
        .map(|decision| match decision {
            Decision::Appended {
                participation,
                progress,
            } => AppendOutcome::Appended(Participation {
                book: book_status(progress, &schools),
                ..participation
            }),
            Decision::AlreadyCounted {
                participation,
                progress,
            } => AppendOutcome::RoundAlreadyCounted(Participation {
                book: book_status(progress, &schools),
                ..participation
            }),
            Decision::DailyCapReached => AppendOutcome::DailyCapReached,
        })
        .collect())
}

/// Fills in where each of `participations` (read from the ledger) stands
/// now: one read of the pledges, the head and the allocated books' schools.
pub(crate) async fn with_books(
    reader: &mut impl LedgerRead,
    mut participations: Vec<Participation>,
) -> Result<Vec<Participation>> {
    if participations.is_empty() {
        return Ok(participations);
    }
    let schedule = PledgeSchedule::new(reader.pledges().await?)
        .map_err(|error| StoreError::Inconsistent(error.to_string()))?;
    let counted = reader.head().await?.counted();
    // Whether a funded book has a school is read from the book itself, so
    // the allocated prefix is not needed: treat every funded book as
    // allocated and let `book_status` find out.
    let progresses: Vec<BookProgress> = participations
        .iter()
        .map(|p| crate::allocation::allocator::progress(&schedule, p.number, counted, u64::MAX))
        .collect();
    let books = allocated_books(progresses.iter().copied());
    let schools = if books.is_empty() {
        HashMap::new()
    } else {
        reader.book_schools(books).await?
    };
    let players = reader
        .players(
            participations
                .iter()
                .map(|p| p.player)
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect(),
        )
        .await?;
    for (participation, progress) in participations.iter_mut().zip(progresses) {
        participation.book = book_status(progress, &schools);
        participation.share_code = players
            .get(&participation.player)
            .and_then(|row| row.share_code);
    }
    Ok(participations)
}

/// The running tallies after a committed batch, from the tallies before and
/// what the batch wrote.
pub(crate) fn advance_totals(totals: &mut super::LedgerTotals, changes: &Changes) {
    if let Some(head) = changes.head {
        totals.participations = head.counted();
        totals.revision = head.revision;
    }
    if let Some((&day, &count)) = changes.day_counts.last_key_value()
        && day >= totals.day.number()
    {
        totals.day = ChinaDay::from_number(day);
        totals.day_participations = count;
    }
    for (reason, count) in &changes.rejection_increments {
        *totals.rejections.entry(*reason).or_default() += count;
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use sim::Outcome;
    use sim::wire::RejectReason;

    use super::*;
    use crate::allocation::{Candidate, Pledge};
    use crate::domain::ShareCode;
    use crate::idempotency::{IdempotencyKey, RequestFingerprint};
    use crate::store::backend::{PlayerRow, ShareCodeRow, ShareDelta};

    /// 2026-07-01 12:00 in China, in ms since the Unix epoch.
    const NOON_MS: u64 = 1_782_878_400_000;

    fn player(n: u8) -> PlayerId {
        PlayerId::from_bytes([n; 16])
    }

    fn round(n: u8) -> RoundId {
        RoundId::from_bytes([n; 16])
    }

    /// A verified round `r` of player `p`, with a daily cap of 2.
    fn new(r: u8, p: u8, referral: Option<&str>) -> NewParticipation {
        NewParticipation {
            round: round(r),
            player: player(p),
            referral: referral.map(|code| ShareCode::parse(code).unwrap()),
            finished_at_ms: NOON_MS,
            outcome: Outcome {
                books_caught: 30,
                score: 300,
                completed: true,
                ticks_played: 900,
                state_hash: u64::from(r),
            },
            rules_version: 1,
            idempotency_key: IdempotencyKey::parse(&format!("key-{r}")).unwrap(),
            fingerprint: RequestFingerprint::of(&[r]),
            player_daily_cap: 2,
        }
    }

    /// The numbers given (0 for a refusal), as a compact summary of a batch.
    fn numbers(decisions: &[Decision]) -> Vec<(&'static str, u64)> {
        decisions
            .iter()
            .map(|decision| match decision {
                Decision::Appended { participation, .. } => ("new", participation.number),
                Decision::AlreadyCounted { participation, .. } => ("old", participation.number),
                Decision::DailyCapReached => ("cap", 0),
            })
            .collect()
    }

    /// A player counted before, holding code `code` (as bits).
    fn known_player(code: u64) -> PlayerRow {
        PlayerRow {
            share_code: Some(ShareCode::from_bits(code)),
            participations: 1,
            latest: 1,
            referred_by: None,
        }
    }

    fn head(next_number: u64) -> Head {
        Head {
            next_number,
            revision: 7,
        }
    }

    #[test]
    fn a_batch_is_numbered_in_order_after_the_head() {
        let day = ChinaDay::from_unix_ms(NOON_MS).number();
        let facts = Facts {
            day_tallies: HashMap::from([(day, 4)]),
            fresh_codes: (1..=3).map(ShareCode::from_bits).collect(),
            ..Facts::default()
        };
        let mut changes = Changes::default();
        let decisions = decide(
            &[new(1, 1, None), new(2, 2, None), new(3, 3, None)],
            &[],
            &facts,
            head(11),
            &mut Allocator::new(),
            &mut changes,
        );
        assert_eq!(
            numbers(&decisions),
            [("new", 11), ("new", 12), ("new", 13)],
            "numbers continue from the head, in queue order"
        );
        let day_counts: Vec<u64> = changes
            .participations
            .iter()
            .map(|row| row.day_count)
            .collect();
        assert_eq!(
            day_counts,
            [5, 6, 7],
            "the day's running count continues too"
        );
        assert_eq!(
            changes.day_counts,
            BTreeMap::from([(day, 7)]),
            "the day's tally"
        );
        let codes: Vec<_> = changes.share_codes.iter().map(|new| new.code).collect();
        assert_eq!(
            codes,
            [1, 2, 3].map(ShareCode::from_bits),
            "each new player gets a fresh code, in order"
        );
        assert_eq!(
            changes.head,
            Some(Head {
                next_number: 14,
                revision: 8
            }),
            "the head moves past the batch"
        );
    }

    #[test]
    fn a_counted_round_and_a_repeat_within_the_batch_count_once() {
        let mut stored = Participation {
            share_code: None,
            number: 3,
            round: round(1),
            player: player(1),
            finished_at_ms: NOON_MS,
            day_count: 3,
            score: 300,
            books_caught: 30,
            idempotency_key: IdempotencyKey::parse("key-1").unwrap(),
            fingerprint: RequestFingerprint::of(&[1]),
            book: BookStatus::AwaitingSponsor,
        };
        let facts = Facts {
            counted: HashMap::from([(round(1), stored.clone())]),
            players: HashMap::from([(player(1), known_player(9))]),
            fresh_codes: vec![ShareCode::from_bits(10)],
            ..Facts::default()
        };
        let mut changes = Changes::default();
        let decisions = decide(
            &[new(1, 1, None), new(2, 2, None), new(2, 2, None)],
            &[],
            &facts,
            head(10),
            &mut Allocator::new(),
            &mut changes,
        );
        assert_eq!(
            numbers(&decisions),
            [("old", 3), ("new", 10), ("old", 10)],
            "round 1 was counted before; round 2 once, though sent twice"
        );
        assert_eq!(changes.participations.len(), 1, "one row written");
        stored.book = BookStatus::AwaitingSponsor;
        stored.share_code = Some(ShareCode::from_bits(9));
        assert_eq!(
            decisions[0],
            Decision::AlreadyCounted {
                participation: stored,
                progress: BookProgress::AwaitingSponsor
            },
            "the stored participation comes back as it was"
        );
    }

    #[test]
    fn a_first_counted_round_credits_the_code_it_came_with_once() {
        let poster = ShareCode::from_bits(100);
        let sharer_code = ShareCode::from_bits(200);
        let unknown = ShareCode::from_bits(300);
        let code_row = |owner: Option<PlayerId>| ShareCodeRow {
            owner,
            label: None,
            referred_players: 0,
            participations: 0,
        };
        let facts = Facts {
            players: HashMap::from([
                (player(6), known_player(6)),
                (player(10), known_player(200)),
            ]),
            codes: HashMap::from([
                (poster, code_row(None)),
                (sharer_code, code_row(Some(player(10)))),
            ]),
            fresh_codes: (1..=3).map(ShareCode::from_bits).collect(),
            ..Facts::default()
        };
        let text = |code: ShareCode| code.to_string();
        let mut changes = Changes::default();
        decide(
            &[
                new(1, 1, Some(&text(poster))),
                new(2, 1, Some(&text(poster))),
                new(3, 10, Some(&text(sharer_code))),
                new(4, 5, Some(&text(unknown))),
                new(5, 6, Some(&text(poster))),
                new(6, 7, Some(&text(sharer_code))),
            ],
            &[],
            &facts,
            head(1),
            &mut Allocator::new(),
            &mut changes,
        );
        assert_eq!(
            changes.share_increments,
            BTreeMap::from([
                (
                    poster,
                    ShareDelta {
                        referred_players: 1,
                        participations: 3
                    }
                ),
                (
                    sharer_code,
                    ShareDelta {
                        referred_players: 1,
                        participations: 1
                    }
                ),
            ]),
            "player 1 is referred once, though they played twice; player 6 was counted \
             before (credited, not referred); player 10's own code and an unknown code credit \
             nothing; new player 7 is referred by player 10"
        );
        assert_eq!(
            changes.share_totals,
            ShareDelta {
                referred_players: 2,
                participations: 4
            },
            "the campaign's sharing tallies"
        );
        let referrals: Vec<Option<ShareCode>> = changes
            .participations
            .iter()
            .map(|row| row.referral)
            .collect();
        assert_eq!(
            referrals,
            [
                Some(poster),
                Some(poster),
                None,
                None,
                Some(poster),
                Some(sharer_code)
            ],
            "each row keeps the code credited with it, or none"
        );
        assert_eq!(
            changes
                .players
                .get(&player(1))
                .and_then(|change| change.new_code),
            Some((ShareCode::from_bits(1), Some(poster))),
            "player 1 gets a code of their own and is attributed to the poster"
        );
        assert_eq!(
            changes
                .players
                .get(&player(6))
                .map(|change| (change.first_time, change.new_code)),
            Some((false, None)),
            "player 6 keeps their code and is not attributed"
        );
    }

    #[test]
    fn the_daily_cap_counts_the_ledger_and_the_batch() {
        let day = ChinaDay::from_unix_ms(NOON_MS).number();
        let facts = Facts {
            player_days: HashMap::from([((player(1), day), 1)]),
            ..Facts::default()
        };
        let mut changes = Changes::default();
        let decisions = decide(
            &[
                new(1, 1, None),
                new(2, 1, None),
                new(3, 2, None),
                new(4, 2, None),
                new(5, 2, None),
            ],
            &[],
            &facts,
            head(1),
            &mut Allocator::new(),
            &mut changes,
        );
        assert_eq!(
            numbers(&decisions),
            [("new", 1), ("cap", 0), ("new", 2), ("new", 3), ("cap", 0)],
            "player 1 had one before the batch; player 2 reaches the cap of 2 in it"
        );
    }

    #[test]
    fn rejections_are_tallied_and_participations_fund_books() {
        let mut allocator = Allocator::new();
        allocator.apply_list(1, vec![Candidate::new("A", 10, 5)]);
        allocator
            .pledge(
                Pledge {
                    sponsor: "s".into(),
                    participations_per_book: 2,
                    book_cap: 5,
                },
                0,
            )
            .unwrap();
        let rejection = |reason| RejectionRecord {
            at_ms: NOON_MS,
            reason,
            round: None,
            player: None,
        };
        let mut changes = Changes::default();
        let decisions = decide(
            &[new(1, 1, None), new(2, 2, None), new(3, 3, None)],
            &[
                rejection(RejectReason::TooFast),
                rejection(RejectReason::TooFast),
                rejection(RejectReason::InvalidToken),
            ],
            &Facts::default(),
            head(1),
            &mut allocator,
            &mut changes,
        );
        assert_eq!(
            changes.rejection_increments,
            BTreeMap::from([(RejectReason::InvalidToken, 1), (RejectReason::TooFast, 2)]),
            "refusals by reason"
        );
        assert_eq!(changes.funded, Some(1..=1), "participation 2 funds book 1");
        assert_eq!(
            changes.school_deltas.get("A").map(|delta| delta.allocated),
            Some(1),
            "and school A gets it"
        );
        let progresses: Vec<BookProgress> = decisions
            .iter()
            .map(|decision| match decision {
                Decision::Appended { progress, .. } => *progress,
                other => panic!("every round counts: {other:?}"),
            })
            .collect();
        assert_eq!(
            progresses,
            [
                BookProgress::Filling {
                    book: 1,
                    participations_needed: 1
                },
                BookProgress::Allocated { book: 1 },
                BookProgress::Filling {
                    book: 2,
                    participations_needed: 1
                },
            ],
            "each receipt says where its book stood when it was counted"
        );
    }
}
