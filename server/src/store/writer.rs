//! The ledger's single writer: group commit on a dedicated thread.
//!
//! Every change to the ledger goes through one queue. The writer takes the
//! first command, gathers whatever else arrives within a short window (up to
//! a row limit), writes the whole batch in one transaction, waits for the
//! commit to be durable (WAL, `synchronous=FULL`), and only then answers each
//! waiter. One fsync is shared by the whole batch, which is what makes
//! thousands of durable appends per second possible on one disk.
//!
//! Being the only writer is also what makes the checks race-free: "was this
//! round counted?", "has this player reached the daily cap?" and the next
//! participation number are all decided here, in order.
//!
//! The writer also keeps the campaign's [`Allocator`] in memory: each
//! counted participation may fund a book, which gets its school in the same
//! transaction. The allocator is rebuilt from the tables when the database
//! was changed by another connection (an admin command run while the server
//! is up, seen through `PRAGMA data_version`) or when a batch failed (its
//! rollback undid what the allocator had already decided).

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};
use sim::wire::RejectReason;
use tokio::runtime::Runtime;
use tokio::sync::{mpsc, oneshot, watch};

use super::{
    AppendOutcome, LedgerTotals, NewParticipation, Participation, RejectionRecord, StoreError,
};
use super::{allocation, sqlite};
use crate::allocation::Allocator;
use crate::domain::ChinaDay;
use crate::error::reason_name;
use crate::metrics::LedgerMetrics;

/// How the writer batches. The defaults suit one SQLite file on one disk.
#[derive(Debug, Clone, Copy)]
pub struct WriterConfig {
    /// Most commands written in one transaction.
    pub max_batch_rows: usize,
    /// How long the writer waits for more commands after the first of a
    /// batch; zero writes whatever is queued at once.
    pub batch_window: Duration,
    /// Commands that may wait in the queue; appends beyond it wait for room
    /// (back-pressure), rejection records beyond it are dropped.
    pub queue_capacity: usize,
}

impl Default for WriterConfig {
    fn default() -> Self {
        Self {
            max_batch_rows: 512,
            batch_window: Duration::from_millis(2),
            queue_capacity: 16_384,
        }
    }
}

/// What the writer can be asked to do.
#[derive(Debug)]
pub(super) enum Command {
    /// Count a verified round; the outcome is sent once durable.
    Append {
        participation: Box<NewParticipation>,
        reply: oneshot::Sender<Result<AppendOutcome, StoreError>>,
    },
    /// Record a rejection with the next batch.
    Reject(RejectionRecord),
    /// Mark the shipped books of the school with this receipt secret
    /// received; answers the school's id and the books received, or `None`
    /// for an unknown secret.
    Receive {
        secret: String,
        reply: oneshot::Sender<Result<Option<(String, u64)>, StoreError>>,
    },
    /// Write everything queued before this command, then stop.
    Close { done: oneshot::Sender<()> },
}

/// The writer's state, owned by its thread.
pub(super) struct Writer {
    conn: Connection,
    /// The number the next counted participation gets.
    next_number: u64,
    totals: LedgerTotals,
    totals_tx: watch::Sender<LedgerTotals>,
    metrics: LedgerMetrics,
    allocator: Allocator,
    /// The connection's `PRAGMA data_version` when the allocator was last
    /// known to match the tables; `None` forces a rebuild.
    allocator_version: Option<i64>,
}

/// What one batch changed, applied to the in-memory state after the commit.
#[derive(Default)]
struct BatchEffects {
    outcomes: Vec<AppendOutcome>,
    next_number: u64,
    /// Participations per China day after the batch, for the days it touched.
    day_counts: BTreeMap<i64, u64>,
    rejections: BTreeMap<RejectReason, u64>,
    receipts: Vec<Option<(String, u64)>>,
}

impl Writer {
    pub(super) fn new(
        conn: Connection,
        next_number: u64,
        totals_tx: watch::Sender<LedgerTotals>,
        metrics: LedgerMetrics,
    ) -> Self {
        let totals = totals_tx.borrow().clone();
        Self {
            conn,
            next_number,
            totals,
            totals_tx,
            metrics,
            allocator: Allocator::new(),
            allocator_version: None,
        }
    }

    /// Runs until the queue closes or a [`Command::Close`] is processed.
    /// `timer` is the writer's own single-threaded runtime, used only to wait
    /// out the batch window.
    pub(super) fn run(
        mut self,
        mut queue: mpsc::Receiver<Command>,
        config: WriterConfig,
        timer: Runtime,
    ) {
        let mut batch = Vec::with_capacity(config.max_batch_rows);
        while let Some(first) = queue.blocking_recv() {
            batch.push(first);
            gather(&mut batch, &mut queue, config, &timer);
            let closing = self.process(&mut batch);
            if closing {
                return;
            }
        }
        tracing::debug!("ledger queue closed, writer stopping");
    }

    /// Writes one batch and answers its waiters; true if it held a `Close`.
    fn process(&mut self, batch: &mut Vec<Command>) -> bool {
        let mut appends = Vec::new();
        let mut replies = Vec::new();
        let mut rejections = Vec::new();
        let mut receives = Vec::new();
        let mut close = None;
        for command in batch.drain(..) {
            match command {
                Command::Append {
                    participation,
                    reply,
                } => {
                    appends.push(*participation);
                    replies.push(reply);
                }
                Command::Reject(rejection) => rejections.push(rejection),
                Command::Receive { secret, reply } => receives.push((secret, reply)),
                Command::Close { done } => close = Some(done),
            }
        }

        let started = Instant::now();
        let secrets: Vec<&str> = receives.iter().map(|(secret, _)| secret.as_str()).collect();
        match self.write(&appends, &rejections, &secrets) {
            Ok(effects) => {
                self.metrics
                    .observe_commit(appends.len() + rejections.len(), started.elapsed());
                self.apply(&effects);
                for (reply, outcome) in replies.into_iter().zip(effects.outcomes) {
                    // A waiter that gave up (client gone) still got counted:
                    // it will find its receipt by retrying with the same key.
                    let _ = reply.send(Ok(outcome));
                }
                for ((_, reply), received) in receives.into_iter().zip(effects.receipts) {
                    let _ = reply.send(Ok(received));
                }
            }
            Err(error) => {
                tracing::error!(%error, appends = appends.len(), rejections = rejections.len(), "ledger batch failed, rolled back");
                // The allocator may have moved ahead of the rolled-back tables.
                self.allocator_version = None;
                for reply in replies {
                    let _ = reply.send(Err(StoreError::Backend(error.to_string().into())));
                }
                for (_, reply) in receives {
                    let _ = reply.send(Err(StoreError::Backend(error.to_string().into())));
                }
            }
        }

        match close {
            Some(done) => {
                let _ = done.send(());
                true
            }
            None => false,
        }
    }

    /// One transaction for the whole batch. Only the allocator changes in
    /// `self` here; a failed batch marks it for a rebuild, so the writer
    /// continues exactly as before the batch.
    fn write(
        &mut self,
        appends: &[NewParticipation],
        rejections: &[RejectionRecord],
        receipt_secrets: &[&str],
    ) -> rusqlite::Result<BatchEffects> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        // Under the write lock: nobody else can change the tables until the
        // commit, so what is loaded here stays true for the whole batch.
        let data_version: i64 = tx.query_row("PRAGMA data_version", [], |row| row.get(0))?;
        if self.allocator_version != Some(data_version) {
            self.allocator = allocation::load_allocator(&tx)?;
            self.allocator_version = Some(data_version);
            tracing::debug!(
                books.funded = self.allocator.funded(),
                books.allocated = self.allocator.allocated(),
                "allocator loaded"
            );
        }
        let mut effects = BatchEffects {
            next_number: self.next_number,
            ..BatchEffects::default()
        };
        let mut referral_increments: HashMap<&str, u64> = HashMap::new();
        for participation in appends {
            let outcome = append_one(&tx, participation, &mut self.allocator, &mut effects)?;
            if matches!(outcome, AppendOutcome::Appended(_))
                && let Some(code) = &participation.referral
            {
                *referral_increments.entry(code.as_str()).or_default() += 1;
            }
            effects.outcomes.push(outcome);
        }
        {
            let mut insert = tx.prepare_cached(sqlite::INSERT_REJECTION)?;
            for rejection in rejections {
                insert.execute(params![
                    rejection.at_ms,
                    reason_name(rejection.reason),
                    rejection.round.map(|round| round.to_bytes()),
                    rejection.player.map(|player| player.to_bytes()),
                ])?;
                *effects.rejections.entry(rejection.reason).or_default() += 1;
            }
        }
        let now_ms = crate::now_unix_ms();
        for secret in receipt_secrets {
            effects
                .receipts
                .push(allocation::receive(&tx, secret, now_ms)?);
        }
        sqlite::store_tallies(
            &tx,
            &effects.day_counts,
            &referral_increments,
            &effects.rejections,
        )?;
        tx.commit()?;
        Ok(effects)
    }

    /// Publishes what a committed batch changed.
    fn apply(&mut self, effects: &BatchEffects) {
        self.next_number = effects.next_number;
        let totals = &mut self.totals;
        totals.participations = effects.next_number - 1;
        if let Some((&day, &count)) = effects.day_counts.last_key_value()
            && day >= totals.day.number()
        {
            totals.day = ChinaDay::from_number(day);
            totals.day_participations = count;
        }
        for (reason, count) in &effects.rejections {
            *totals.rejections.entry(*reason).or_default() += count;
        }
        self.totals_tx.send_replace(totals.clone());
    }
}

/// Adds up to `max_batch_rows` commands to `batch`: whatever is queued, then
/// whatever arrives within the batch window.
fn gather(
    batch: &mut Vec<Command>,
    queue: &mut mpsc::Receiver<Command>,
    config: WriterConfig,
    timer: &Runtime,
) {
    let deadline = tokio::time::Instant::now() + config.batch_window;
    while batch.len() < config.max_batch_rows
        && !matches!(batch.last(), Some(Command::Close { .. }))
    {
        let next = match queue.try_recv() {
            Ok(command) => Some(command),
            Err(mpsc::error::TryRecvError::Disconnected) => None,
            Err(mpsc::error::TryRecvError::Empty) if config.batch_window.is_zero() => None,
            Err(mpsc::error::TryRecvError::Empty) => timer
                .block_on(async { tokio::time::timeout_at(deadline, queue.recv()).await })
                .ok()
                .flatten(),
        };
        match next {
            Some(command) => batch.push(command),
            None => break,
        }
    }
}

/// Decides and writes one participation inside the batch's transaction.
fn append_one(
    tx: &Transaction<'_>,
    new: &NewParticipation,
    allocator: &mut Allocator,
    effects: &mut BatchEffects,
) -> rusqlite::Result<AppendOutcome> {
    if let Some(existing) = tx
        .prepare_cached(sqlite::FIND_ROUND)?
        .query_row([new.round.to_bytes()], sqlite::participation_from_row)
        .optional()?
    {
        let counted = effects.next_number - 1;
        let book = allocation::book_status(tx, allocator.progress(existing.number, counted))?;
        return Ok(AppendOutcome::RoundAlreadyCounted(Participation {
            book,
            ..existing
        }));
    }

    let day = ChinaDay::from_unix_ms(new.finished_at_ms);
    let played_today: u64 = tx
        .prepare_cached(sqlite::COUNT_PLAYER_DAY)?
        .query_row(params![new.player.to_bytes(), day.number()], |row| {
            row.get(0)
        })?;
    if played_today >= u64::from(new.player_daily_cap) {
        return Ok(AppendOutcome::DailyCapReached);
    }

    let day_count = match effects.day_counts.get(&day.number()) {
        Some(count) => count + 1,
        None => sqlite::day_tally(tx, day)? + 1,
    };
    let number = effects.next_number;
    tx.prepare_cached(sqlite::INSERT_PARTICIPATION)?
        .execute(params![
            number,
            new.round.to_bytes(),
            new.player.to_bytes(),
            new.referral.as_ref().map(|code| code.as_str()),
            new.finished_at_ms,
            day.number(),
            day_count,
            new.outcome.score,
            new.outcome.books_caught,
            new.outcome.ticks_played,
            new.outcome.state_hash.cast_signed(),
            new.rules_version,
            new.idempotency_key.as_str(),
            new.fingerprint.as_bytes(),
        ])?;
    effects.day_counts.insert(day.number(), day_count);
    effects.next_number += 1;
    let funding = allocator.count(number);
    allocation::store_funding(tx, &funding, new.finished_at_ms)?;
    let book = allocation::book_status(tx, allocator.progress(number, number))?;
    Ok(AppendOutcome::Appended(Participation {
        number,
        round: new.round,
        player: new.player,
        finished_at_ms: new.finished_at_ms,
        day_count,
        score: new.outcome.score,
        books_caught: new.outcome.books_caught,
        idempotency_key: new.idempotency_key.clone(),
        fingerprint: new.fingerprint,
        book,
    }))
}
