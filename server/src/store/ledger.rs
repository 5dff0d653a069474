//! [`Ledger`]: the [`Store`] implementation, written once over a
//! [`Backend`].
//!
//! Changes go to the single writer ([`super::writer`]) through its queue;
//! reads take a connection from the backend's pool and put the answers
//! together with the same functions the writer uses ([`super::rules`]).
//!
//! The running totals (`/api/totals`, `/api/live`, `/metrics`) are served
//! from memory. The writer publishes its own commits; a refresher
//! ([`refresh_totals`]) publishes everyone else's: other server processes
//! on a shared PostgreSQL ledger, and admin commands. Published totals are
//! always exact at one ledger revision, and only ever move to a later one.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{Notify, mpsc, oneshot, watch};
use tokio::time::MissedTickBehavior;
use tokio_util::sync::{CancellationToken, DropGuard};

use super::actions::{self, Action, ActionOutcome};
use super::admin::{Actor, AdminStore, ShipRequest};
use super::backend::{Backend, LedgerRead, Result, SchoolKey, ShareCodeRow};
use super::writer::{Command, Writer, WriterConfig};
use super::{
    AppendOutcome, ImportOutcome, LedgerTotals, NewParticipation, Participation, ParticipationBook,
    PledgeOutcome, RejectionRecord, SchoolBooks, ShareStanding, ShipOutcome, Store, StoreError,
    rules,
};
use crate::allocation::{
    ListedSchool, OpenData, Pledge, PledgeSchedule, Report, SharingFigures, TopCode,
};
use crate::domain::{ChinaDay, PlayerId, RoundId, ShareCode};
use crate::metrics::LedgerMetrics;

/// How often each ledger looks whether anyone else committed, to publish
/// the totals with their commits: the staleness bound of `/api/totals` and
/// `/api/live` across server processes (plus one read of the totals).
pub const TOTALS_REFRESH_PERIOD: Duration = Duration::from_millis(250);

/// Least time between two refreshes of the totals when the writer asks for
/// them sooner (it does after each of its commits that it could not publish
/// itself, which under several busy processes is most of them).
const TOTALS_REFRESH_MIN_GAP: Duration = Duration::from_millis(25);

/// Reads of the totals tried per refresh before giving up until the next
/// one (each fails only if a commit lands in the middle of it).
const TOTALS_READ_ATTEMPTS: usize = 3;

/// The ledger on backend `B`.
#[derive(Debug)]
pub(crate) struct Ledger<B: Backend> {
    pub(super) backend: Arc<B>,
    queue: mpsc::Sender<Command>,
    totals: watch::Receiver<LedgerTotals>,
    /// Resolves when the writer has stopped; taken by [`Store::close`].
    writer_stopped: Mutex<Option<oneshot::Receiver<()>>>,
    metrics: LedgerMetrics,
    /// Stops the totals refresher when the ledger is closed or dropped.
    refresher: Mutex<Option<DropGuard>>,
}

impl<B: Backend> Ledger<B> {
    /// Starts the writer on `backend` (already migrated) and the totals
    /// refresher, and serves from it.
    pub(crate) async fn start(
        backend: B,
        config: WriterConfig,
        metrics: LedgerMetrics,
    ) -> Result<Self> {
        let backend = Arc::new(backend);
        let totals = initial_totals(backend.as_ref()).await?;
        let (totals_tx, totals_rx) = watch::channel(totals);
        let refresh_now = Arc::new(Notify::new());
        let (queue, commands) = mpsc::channel(config.queue_capacity);
        let writer = Writer::<B>::new(
            backend.writer_connection().await?,
            totals_tx.clone(),
            Arc::clone(&refresh_now),
            metrics.clone(),
        );
        let writer_stopped = backend.spawn_writer(writer.run(commands, config))?;
        let stop_refresher = CancellationToken::new();
        tokio::spawn(refresh_totals(
            Arc::clone(&backend),
            totals_tx,
            refresh_now,
            stop_refresher.clone(),
        ));
        Ok(Self {
            backend,
            queue,
            totals: totals_rx,
            writer_stopped: Mutex::new(Some(writer_stopped)),
            metrics,
            refresher: Mutex::new(Some(stop_refresher.drop_guard())),
        })
    }

    /// Sends the writer the command `command` builds around a reply channel
    /// and waits for the answer (sent once the command's transaction is
    /// durable).
    async fn ask_writer<T>(
        &self,
        command: impl FnOnce(oneshot::Sender<Result<T>>) -> Command,
    ) -> Result<T> {
        let (reply, answer) = oneshot::channel();
        self.queue
            .send(command(reply))
            .await
            .map_err(|_| StoreError::WriterStopped)?;
        answer.await.map_err(|_| StoreError::WriterStopped)?
    }

    /// Runs `action` on the writer.
    async fn act(&self, action: Action) -> Result<ActionOutcome> {
        actions::precheck(&action)?;
        self.ask_writer(|reply| Command::Act { action, reply })
            .await
    }

    /// A school and its books.
    async fn school_and_books(&self, key: SchoolKey) -> Result<Option<SchoolBooks>> {
        let mut reader = self.backend.reader().await?;
        let Some((tally, _)) = reader.school(key).await? else {
            return Ok(None);
        };
        let books = reader.school_books(tally.school.id.clone()).await?;
        Ok(Some(SchoolBooks { tally, books }))
    }
}

/// The tallies as stored, with `today` as the current day, exact at the
/// revision they carry; `None` if a commit landed while they were read
/// (they might then mix two revisions). Each question reads the latest
/// commit, and every commit moves the head's revision, so an unchanged
/// head around the reads means nothing was committed between them.
async fn read_totals(
    reader: &mut impl LedgerRead,
    today: ChinaDay,
) -> Result<Option<LedgerTotals>> {
    let head = reader.head().await?;
    let day_participations = reader
        .day_tallies(vec![today.number()])
        .await?
        .pop()
        .unwrap_or(0);
    let rejections = reader.rejection_tallies().await?;
    if reader.head().await? != head {
        return Ok(None);
    }
    Ok(Some(LedgerTotals {
        revision: head.revision,
        participations: head.counted(),
        day: today,
        day_participations,
        rejections,
    }))
}

/// The totals to start from, read under the ledger's write lock (so no
/// commit can land in the middle, however busy other processes are) in a
/// transaction that writes nothing.
async fn initial_totals<B: Backend>(backend: &B) -> Result<LedgerTotals> {
    let mut conn = backend.writer_connection().await?;
    let mut tx = B::begin(&mut conn).await?;
    let today = ChinaDay::from_unix_ms(crate::now_unix_ms());
    // Dropping the transaction rolls it back: nothing was written.
    read_totals(&mut tx, today).await?.ok_or_else(|| {
        StoreError::Inconsistent("the ledger changed while its write lock was held".into())
    })
}

/// Publishes the totals of commits made elsewhere, until `stop`: every
/// [`TOTALS_REFRESH_PERIOD`], or sooner when the writer asks
/// (`refresh_now`), it reads the head and, if its revision is past the
/// published one, reads the totals and publishes them. Failures are
/// logged and retried on the next round.
async fn refresh_totals<B: Backend>(
    backend: Arc<B>,
    totals: watch::Sender<LedgerTotals>,
    refresh_now: Arc<Notify>,
    stop: CancellationToken,
) {
    let mut ticks = tokio::time::interval(TOTALS_REFRESH_PERIOD);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            _ = ticks.tick() => {}
            () = refresh_now.notified() => {}
        }
        if let Err(error) = refresh_totals_once(backend.as_ref(), &totals).await {
            tracing::warn!(%error, "the ledger totals could not be refreshed; trying again");
        }
        // Under several busy processes the writer asks after most of its
        // commits: coalesce those asks.
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(TOTALS_REFRESH_MIN_GAP) => {}
        }
    }
}

/// One round of [`refresh_totals`].
async fn refresh_totals_once<B: Backend>(
    backend: &B,
    totals: &watch::Sender<LedgerTotals>,
) -> Result<()> {
    let published = totals.borrow().revision;
    let mut reader = backend.reader().await?;
    if reader.head().await?.revision <= published {
        return Ok(());
    }
    for _ in 0..TOTALS_READ_ATTEMPTS {
        let today = ChinaDay::from_unix_ms(crate::now_unix_ms());
        if let Some(fresh) = read_totals(&mut reader, today).await? {
            // The writer may have published a later revision meanwhile.
            totals.send_if_modified(|current| {
                let newer = fresh.revision > current.revision;
                if newer {
                    *current = fresh;
                }
                newer
            });
            return Ok(());
        }
    }
    Ok(())
}

/// What `code` (whose row is `row`) brought, with its owner's latest
/// participation and its book as they stand now.
async fn standing(
    reader: &mut impl LedgerRead,
    code: ShareCode,
    row: ShareCodeRow,
) -> Result<ShareStanding> {
    let owner = match row.owner {
        Some(owner) => reader.players(vec![owner]).await?.remove(&owner),
        None => None,
    };
    let latest = match &owner {
        Some(owner) => {
            let found = reader.participation(owner.latest).await?;
            rules::with_books(reader, Vec::from_iter(found))
                .await?
                .pop()
        }
        None => None,
    };
    Ok(ShareStanding {
        code,
        label: row.label,
        referred_players: row.referred_players,
        participations: row.participations,
        owner_participations: owner.map_or(0, |owner| owner.participations),
        latest,
    })
}

/// How many referring codes the report lists.
const TOP_CODES: u32 = 10;

/// The campaign's sharing figures, for the report.
async fn sharing_figures(reader: &mut impl LedgerRead) -> Result<SharingFigures> {
    let totals = reader.share_totals().await?;
    let top_codes = reader
        .top_share_codes(TOP_CODES)
        .await?
        .into_iter()
        .map(|(code, row)| TopCode {
            code: code.to_string(),
            referred_players: row.referred_players,
            participations: row.participations,
        })
        .collect();
    Ok(SharingFigures {
        participations_via_share: totals.participations,
        referred_players: totals.referred_players,
        top_codes,
    })
}

/// The pledge schedule of `pledges` (kept valid by the tables' checks and
/// by [`Allocator::pledge`](crate::allocation::Allocator::pledge)).
fn schedule(pledges: Vec<Pledge>) -> Result<PledgeSchedule> {
    PledgeSchedule::new(pledges).map_err(|error| StoreError::Inconsistent(error.to_string()))
}

/// The outcome an action of kind `$variant` answers, or an inconsistency.
macro_rules! expect_outcome {
    ($outcome:expr, $variant:ident) => {
        match $outcome {
            ActionOutcome::$variant(outcome) => Ok(outcome),
            other => Err(StoreError::Inconsistent(format!(
                "the writer answered {other:?} to a {} action",
                stringify!($variant)
            ))),
        }
    };
}

#[async_trait::async_trait]
impl<B: Backend> Store for Ledger<B> {
    async fn append(&self, participation: NewParticipation) -> Result<AppendOutcome> {
        self.ask_writer(|reply| Command::Append {
            participation: Box::new(participation),
            reply,
        })
        .await
    }

    fn record_rejection(&self, rejection: RejectionRecord) {
        if let Err(err) = self.queue.try_send(Command::Reject(rejection)) {
            self.metrics.rejections_dropped.inc();
            tracing::warn!(error = %err, "rejection not recorded: ledger queue full or closed");
        }
    }

    async fn find_round(&self, round: RoundId) -> Result<Option<Participation>> {
        let mut reader = self.backend.reader().await?;
        let found = reader.rounds(vec![round]).await?;
        Ok(rules::with_books(&mut reader, found).await?.pop())
    }

    async fn player_history(&self, player: PlayerId, limit: u32) -> Result<Vec<Participation>> {
        let mut reader = self.backend.reader().await?;
        let history = reader.player_history(player, limit).await?;
        rules::with_books(&mut reader, history).await
    }

    fn totals(&self) -> watch::Receiver<LedgerTotals> {
        self.totals.clone()
    }

    async fn participation_book(&self, number: u64) -> Result<Option<ParticipationBook>> {
        let mut reader = self.backend.reader().await?;
        let found = reader.participation(number).await?;
        Ok(rules::with_books(&mut reader, Vec::from_iter(found))
            .await?
            .pop()
            .map(|participation| ParticipationBook {
                number,
                finished_at_ms: participation.finished_at_ms,
                book: participation.book,
            }))
    }

    async fn school_books(&self, school: &str) -> Result<Option<SchoolBooks>> {
        self.school_and_books(SchoolKey::Id(school.to_owned()))
            .await
    }

    async fn school_by_receipt_secret(&self, secret: &str) -> Result<Option<SchoolBooks>> {
        self.school_and_books(SchoolKey::ReceiptSecret(secret.to_owned()))
            .await
    }

    async fn receipt_secret(&self, school: &str) -> Result<Option<String>> {
        let mut reader = self.backend.reader().await?;
        let found = reader.school(SchoolKey::Id(school.to_owned())).await?;
        Ok(found.map(|(_, secret)| secret))
    }

    async fn receive_books(&self, secret: &str, actor: Actor) -> Result<Option<(String, u64)>> {
        let outcome = self
            .act(Action::Receive {
                secret: secret.to_owned(),
                actor,
            })
            .await?;
        expect_outcome!(outcome, Received)
    }

    async fn report(&self) -> Result<Report> {
        let mut reader = self.backend.reader().await?;
        let schedule = schedule(reader.pledges().await?)?;
        let participations = reader.head().await?.counted();
        let schools = reader.school_tallies().await?;
        let sharing = sharing_figures(&mut reader).await?;
        Ok(Report::build(
            participations,
            schedule.books_funded(participations),
            schedule.books(),
            schools,
            sharing,
        ))
    }

    async fn revision(&self) -> Result<u64> {
        Ok(self.backend.reader().await?.head().await?.revision)
    }

    async fn pledge(&self, pledge: Pledge, actor: Actor) -> Result<PledgeOutcome> {
        let outcome = self.act(Action::Pledge { pledge, actor }).await?;
        expect_outcome!(outcome, Pledged)
    }

    async fn import_schools(
        &self,
        source: &str,
        schools: Vec<ListedSchool>,
        based_on: Option<Option<u32>>,
        actor: Actor,
    ) -> Result<ImportOutcome> {
        let outcome = self
            .act(Action::ImportSchools {
                source: source.to_owned(),
                schools,
                based_on,
                actor,
            })
            .await?;
        expect_outcome!(outcome, Imported)
    }

    async fn ship(&self, request: ShipRequest, actor: Actor) -> Result<ShipOutcome> {
        let outcome = self.act(Action::Ship { request, actor }).await?;
        expect_outcome!(outcome, Shipped)
    }

    fn admin(&self) -> &dyn AdminStore {
        self
    }

    async fn export(&self) -> Result<OpenData> {
        let mut reader = self.backend.reader().await?;
        let schedule = schedule(reader.pledges().await?)?;
        let participations = reader.head().await?.counted();
        Ok(OpenData {
            participations,
            pledges: schedule.pledges().cloned().collect(),
            school_lists: reader.school_lists().await?,
            books: reader.books().await?,
        })
    }

    async fn share_standing(&self, code: ShareCode) -> Result<Option<ShareStanding>> {
        let mut reader = self.backend.reader().await?;
        let Some(row) = reader.share_codes(vec![code]).await?.remove(&code) else {
            return Ok(None);
        };
        standing(&mut reader, code, row).await.map(Some)
    }

    async fn player_standing(&self, player: PlayerId) -> Result<Option<ShareStanding>> {
        let mut reader = self.backend.reader().await?;
        let code = reader
            .players(vec![player])
            .await?
            .remove(&player)
            .and_then(|row| row.share_code);
        let Some(code) = code else {
            return Ok(None);
        };
        let Some(row) = reader.share_codes(vec![code]).await?.remove(&code) else {
            return Err(StoreError::Inconsistent(format!(
                "player {player} holds share code {code}, which does not exist"
            )));
        };
        standing(&mut reader, code, row).await.map(Some)
    }

    async fn create_poster_code(&self, label: Option<String>, actor: Actor) -> Result<ShareCode> {
        let outcome = self.act(Action::CreatePosterCode { label, actor }).await?;
        expect_outcome!(outcome, PosterCodeCreated)
    }

    async fn sharing(&self) -> Result<SharingFigures> {
        sharing_figures(&mut self.backend.reader().await?).await
    }

    async fn close(&self) -> Result<()> {
        // Dropping the guard stops the refresher.
        drop(
            self.refresher
                .lock()
                .map_err(|_| StoreError::WriterStopped)?
                .take(),
        );
        let (done, closed) = oneshot::channel();
        if self.queue.send(Command::Close { done }).await.is_ok() {
            // An error here means the writer stopped on its own already.
            let _ = closed.await;
        }
        let stopped = self
            .writer_stopped
            .lock()
            .map_err(|_| StoreError::WriterStopped)?
            .take();
        if let Some(stopped) = stopped {
            stopped.await.map_err(|_| {
                StoreError::Backend("the ledger writer stopped without finishing".into())
            })?;
        }
        Ok(())
    }
}
