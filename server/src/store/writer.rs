//! The ledger's single writer: group commit, for every backend.
//!
//! Every change to the ledger goes through one queue. The writer takes the
//! first command, gathers whatever else arrives within a short window (up to
//! a row limit), writes the whole batch in one transaction, waits for the
//! commit to be durable, and only then answers each waiter. One durable
//! commit is shared by the whole batch, which is what makes thousands of
//! durable appends per second possible.
//!
//! Each transaction starts by taking the ledger's write lock and reading its
//! [`Head`]. Under that lock nobody else changes the ledger, so the
//! decisions ([`super::rules`], [`super::actions`]) made from what the
//! transaction reads stay true until it commits, whichever process wrote
//! before. The writer keeps the campaign's [`Allocator`] in memory and
//! rebuilds it from the tables whenever the head's revision is not the one
//! its own last commit left (another process committed, or a batch of its
//! own failed and was rolled back).

use std::time::{Duration, Instant};

use std::sync::Arc;

use tokio::sync::{Notify, mpsc, oneshot, watch};

use super::actions::{self, Action, ActionOutcome};
use super::backend::{Backend, Changes, Head, LedgerRead, LedgerWrite, Result};
use super::rules::{self, Facts};
use super::{AppendOutcome, LedgerTotals, Location, NewParticipation, RejectionRecord, StoreError};
use crate::allocation::{Allocator, PledgeSchedule};
use crate::metrics::LedgerMetrics;

/// How the writer batches. [`WriterConfig::for_ledger`] gives the defaults,
/// which differ by backend; there is deliberately no `Default`, so that no
/// opener can pick one backend's batch window for another.
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

impl WriterConfig {
    /// Most rows per transaction unless configured otherwise, on every backend.
    pub const DEFAULT_MAX_BATCH_ROWS: usize = 512;
    const QUEUE_CAPACITY: usize = 16_384;

    /// The defaults for a ledger at `location`. Under load, rows queue up
    /// while a commit runs and the next batch takes them all; the window
    /// only decides how long a batch waits for more when the queue is
    /// empty. A SQLite commit is cheap (about 0.6 ms of fixed cost here),
    /// so waiting longer mostly adds latency: 1 ms instead of 2 ms took
    /// `bench-ingest` from about 4,200 to 5,100 finishes a second at 32 in
    /// flight, and once replays ran inline, 0.5 ms instead of 1 ms took it
    /// from about 5,600 to 5,900 (BENCHMARKS.md, 2026-12-01 third and
    /// fourth sessions). A PostgreSQL commit costs the database 1.5 to 2 ms
    /// of its own CPU, so there the longer window that fills batches stays.
    pub fn for_ledger(location: &Location) -> Self {
        let batch_window = match location {
            Location::Sqlite { .. } => Duration::from_micros(500),
            Location::Postgres { .. } => Duration::from_millis(2),
        };
        Self {
            max_batch_rows: Self::DEFAULT_MAX_BATCH_ROWS,
            batch_window,
            queue_capacity: Self::QUEUE_CAPACITY,
        }
    }
}

/// What the writer can be asked to do.
#[derive(Debug)]
pub(super) enum Command {
    /// Count a verified round; the outcome is sent once durable.
    Append {
        participation: Box<NewParticipation>,
        reply: oneshot::Sender<Result<AppendOutcome>>,
    },
    /// Record a rejection with the next batch.
    Reject(RejectionRecord),
    /// Run an admin action in a transaction of its own; the outcome is sent
    /// once durable.
    Act {
        action: Action,
        reply: oneshot::Sender<Result<ActionOutcome>>,
    },
    /// Write everything queued before this command, then stop.
    Close { done: oneshot::Sender<()> },
}

/// The writer, owned by its task or thread.
pub(super) struct Writer<B: Backend> {
    conn: B::WriterConnection,
    state: WriterState,
}

/// The writer's memory of the ledger.
struct WriterState {
    /// The published totals.
    totals: watch::Sender<LedgerTotals>,
    /// Asks the totals refresher to read them now (after a commit the
    /// writer could not publish itself).
    refresh_totals: Arc<Notify>,
    metrics: LedgerMetrics,
    allocator: Allocator,
    /// The head revision the allocator matches (the one the writer's last
    /// commit left); `None` forces a rebuild.
    allocator_revision: Option<u64>,
}

impl<B: Backend> Writer<B> {
    pub(super) fn new(
        conn: B::WriterConnection,
        totals: watch::Sender<LedgerTotals>,
        refresh_totals: Arc<Notify>,
        metrics: LedgerMetrics,
    ) -> Self {
        Self {
            conn,
            state: WriterState {
                totals,
                refresh_totals,
                metrics,
                allocator: Allocator::new(),
                allocator_revision: None,
            },
        }
    }

    /// Runs until the queue closes or a [`Command::Close`] is processed.
    pub(super) async fn run(mut self, mut queue: mpsc::Receiver<Command>, config: WriterConfig) {
        let mut batch = Vec::with_capacity(config.max_batch_rows);
        while let Some(first) = queue.recv().await {
            batch.push(first);
            gather(&mut batch, &mut queue, config).await;
            if self.process(&mut batch).await {
                return;
            }
        }
        tracing::debug!("ledger queue closed, writer stopping");
    }

    /// Writes one batch and answers its waiters; true if it held a `Close`.
    async fn process(&mut self, batch: &mut Vec<Command>) -> bool {
        let mut appends = Vec::new();
        let mut replies = Vec::new();
        let mut rejections = Vec::new();
        let mut actions = Vec::new();
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
                Command::Act { action, reply } => actions.push((action, reply)),
                Command::Close { done } => close = Some(done),
            }
        }

        if !appends.is_empty() || !rejections.is_empty() {
            let started = Instant::now();
            match self.write_batch(&appends, &rejections).await {
                Ok(outcomes) => {
                    self.state
                        .metrics
                        .observe_commit(appends.len() + rejections.len(), started.elapsed());
                    for (reply, outcome) in replies.into_iter().zip(outcomes) {
                        // A waiter that gave up (client gone) still got
                        // counted: it finds its receipt by retrying with the
                        // same key.
                        let _ = reply.send(Ok(outcome));
                    }
                }
                Err(error) => {
                    tracing::error!(%error, appends = appends.len(), rejections = rejections.len(), "ledger batch failed, rolled back");
                    for reply in replies {
                        let _ = reply.send(Err(match &error {
                            StoreError::StorageUnavailable(why) => {
                                StoreError::StorageUnavailable(why.clone())
                            }
                            other => StoreError::Backend(other.to_string().into()),
                        }));
                    }
                }
            }
        }

        for (action, reply) in actions {
            let result = self.act(action).await;
            if let Err(error) = &result
                && !matches!(error, StoreError::Refused(_))
            {
                tracing::error!(%error, "admin action failed, rolled back");
            }
            let _ = reply.send(result);
        }

        match close {
            Some(done) => {
                let _ = done.send(());
                true
            }
            None => false,
        }
    }

    /// One transaction for a batch of appends and rejections.
    async fn write_batch(
        &mut self,
        appends: &[NewParticipation],
        rejections: &[RejectionRecord],
    ) -> Result<Vec<AppendOutcome>> {
        let result =
            batch_transaction::<B>(&mut self.conn, &mut self.state, appends, rejections).await;
        self.state.settle(result)
    }

    /// One transaction for an admin action.
    async fn act(&mut self, action: Action) -> Result<ActionOutcome> {
        let result = action_transaction::<B>(&mut self.conn, &mut self.state, action).await;
        self.state.settle(result)
    }
}

/// Decides and writes a batch of appends and rejections in one transaction.
async fn batch_transaction<B: Backend>(
    conn: &mut B::WriterConnection,
    state: &mut WriterState,
    appends: &[NewParticipation],
    rejections: &[RejectionRecord],
) -> Result<(Vec<AppendOutcome>, Changes)> {
    let mut tx = B::begin(conn).await?;
    let head = state.catch_up(&mut tx).await?;
    let facts = Facts::load(&mut tx, appends).await?;
    let mut changes = Changes::new(crate::now_unix_ms());
    let decisions = rules::decide(
        appends,
        rejections,
        &facts,
        head,
        &mut state.allocator,
        &mut changes,
    );
    super::tallies::by_day(&mut tx, &mut changes).await?;
    tx.apply(&changes).await?;
    let outcomes = rules::outcomes(&mut tx, decisions).await?;
    tx.commit().await?;
    Ok((outcomes, changes))
}

/// Decides and writes an admin action in one transaction.
async fn action_transaction<B: Backend>(
    conn: &mut B::WriterConnection,
    state: &mut WriterState,
    action: Action,
) -> Result<(ActionOutcome, Changes)> {
    let mut tx = B::begin(conn).await?;
    let head = state.catch_up(&mut tx).await?;
    let (outcome, mut changes) = actions::decide(
        &mut tx,
        head,
        &mut state.allocator,
        action,
        crate::now_unix_ms(),
    )
    .await?;
    super::tallies::by_day(&mut tx, &mut changes).await?;
    tx.apply(&changes).await?;
    tx.commit().await?;
    Ok((outcome, changes))
}

impl WriterState {
    /// Reads the head under the transaction's lock, and brings the
    /// allocator up to it if anyone else committed since the writer's last
    /// commit: book by book when only participations were counted since,
    /// otherwise by a rebuild from the tables.
    async fn catch_up(&mut self, tx: &mut impl LedgerRead) -> Result<Head> {
        let head = tx.head().await?;
        if self.allocator_revision == Some(head.revision) {
            return Ok(head);
        }
        let replayed = self.allocator_revision.is_some()
            && replay_counted(&mut self.allocator, tx, head).await?;
        if !replayed {
            let tables = tx.allocation_tables().await?;
            let schedule = PledgeSchedule::new(tables.pledges)
                .map_err(|error| StoreError::Inconsistent(error.to_string()))?;
            self.allocator =
                Allocator::resume(schedule, tables.funded, tables.seats, tables.latest_list);
            self.metrics.allocator_rebuilds.inc();
            tracing::debug!(
                books.funded = self.allocator.funded(),
                books.allocated = self.allocator.allocated(),
                "allocator loaded"
            );
        }
        self.allocator_revision = Some(head.revision);
        Ok(head)
    }

    /// After a transaction: publishes what a commit changed, or, after a
    /// failure (whose rollback undid what the allocator had decided), marks
    /// the allocator for a rebuild. A refusal changed nothing.
    fn settle<T>(&mut self, result: Result<(T, Changes)>) -> Result<T> {
        match result {
            Ok((answer, changes)) => {
                self.allocator_revision = changes.head.map(|head| head.revision);
                self.publish(&changes);
                Ok(answer)
            }
            Err(error) => {
                if !matches!(error, StoreError::Refused(_)) {
                    self.allocator_revision = None;
                }
                Err(error)
            }
        }
    }
}

impl WriterState {
    /// Publishes the totals after a commit of `changes`: exactly, when the
    /// published totals are those of the revision the transaction started
    /// from (always so with one process and no admin command in between).
    /// Otherwise someone else committed in between, or the refresher
    /// already published this commit: the refresher is asked to read the
    /// totals, which never double-counts.
    fn publish(&self, changes: &Changes) {
        let Some(after) = changes.head else {
            return;
        };
        let published = self.totals.send_if_modified(|totals| {
            let exact = totals.revision + 1 == after.revision;
            if exact {
                rules::advance_totals(totals, changes);
            }
            exact
        });
        if !published {
            self.refresh_totals.notify_one();
        }
    }
}

/// Catches `allocator` up with participations other processes counted,
/// without reading the school list or the seats: when the pledges and the
/// school list are those the allocator has, counting up to the head with
/// the allocator's own rule must fund exactly the books the ledger has
/// after the allocator's last one, and give each the school the ledger
/// gave it. True when it did; false when the rules changed or anything
/// differs, and the allocator (possibly moved) must be rebuilt.
///
/// This is what keeps a batch's time under the lock independent of the
/// number of schools when several processes take turns: one question
/// answering a few books, instead of every school's seats.
async fn replay_counted(
    allocator: &mut Allocator,
    tx: &mut impl LedgerRead,
    head: Head,
) -> Result<bool> {
    let since = tx.allocation_since(allocator.funded()).await?;
    let pledges = allocator.schedule().pledges().count() as u64;
    if since.pledges != pledges || since.list_version != allocator.list_version() {
        return Ok(false);
    }
    let funding = allocator.count(head.counted());
    let funded: Vec<u64> = funding.funded.into_iter().flatten().collect();
    let ledger_books: Vec<u64> = since.books.iter().map(|(book, _)| *book).collect();
    if funded != ledger_books {
        return Ok(false);
    }
    let mut allocated = funding.allocated.iter();
    for (book, school) in &since.books {
        // A book the ledger left without a school must be one the replay
        // left without one too: an extra or a missing allocation shifts
        // the comparison below, in book order.
        let Some(school) = school else {
            continue;
        };
        match allocated.next() {
            Some(allocation) if allocation.book == *book && allocation.school == *school => {}
            _ => return Ok(false),
        }
    }
    Ok(allocated.next().is_none())
}

/// Adds up to `max_batch_rows` commands to `batch`: whatever is queued, then
/// whatever arrives within the batch window.
async fn gather(
    batch: &mut Vec<Command>,
    queue: &mut mpsc::Receiver<Command>,
    config: WriterConfig,
) {
    let deadline = tokio::time::Instant::now() + config.batch_window;
    while batch.len() < config.max_batch_rows
        && !matches!(batch.last(), Some(Command::Close { .. }))
    {
        let next = match queue.try_recv() {
            Ok(command) => Some(command),
            Err(mpsc::error::TryRecvError::Disconnected) => None,
            Err(mpsc::error::TryRecvError::Empty) if config.batch_window.is_zero() => None,
            Err(mpsc::error::TryRecvError::Empty) => {
                tokio::time::timeout_at(deadline, queue.recv())
                    .await
                    .ok()
                    .flatten()
            }
        };
        match next {
            Some(command) => batch.push(command),
            None => break,
        }
    }
}
