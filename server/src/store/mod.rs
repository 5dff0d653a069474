//! The participation ledger, behind the [`Store`] trait.
//!
//! Handlers talk to `Arc<dyn Store>` only. Every type here is a domain
//! type: no database type leaves this module.
//!
//! Layout: the logic is written once, for every backend: [`ledger`] (the
//! [`Store`] implementation: reads, and the queue to the writer),
//! [`writer`] (group commit), [`rules`] (the writer's decisions: already
//! counted, the daily cap, numbering, tallies, funding and allocation) and
//! [`actions`] (pledges, school lists, shipments, receipts). A backend
//! ([`backend`] is the seam) only answers questions and writes what it is
//! told, in its own SQL: [`sqlite`] is the embedded default, [`postgres`]
//! the scale-out one, shared by any number of server processes. [`bulk`]
//! holds what the bulk load and the audit share across backends.
//!
//! The contract every backend keeps:
//! - `append` answers only after the participation is durable;
//! - participation numbers are contiguous from 1 and never reused;
//! - a round id is counted at most once, decided by the ledger itself;
//! - tallies (total, per day, per referral code, rejections per reason) move
//!   in the same transaction as the rows they count;
//! - a participation that funds a book gets the book, and the book its
//!   school, in the transaction that counts the participation; the schools'
//!   book tallies move with them.

mod accounts;
mod actions;
pub mod admin;
mod backend;
mod bulk;
mod ledger;
pub mod postgres;
mod rules;
pub mod sqlite;
mod tallies;
#[cfg(test)]
pub(crate) mod testing;
#[cfg(test)]
mod tests;
mod writer;

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use serde::Serialize;
use sim::Outcome;
use sim::wire::{BookStatus, ParticipationRecord, Receipt, RejectReason, SchoolRef, Totals};
use tokio::sync::watch;

pub use actions::{ImportOutcome, PledgeOutcome, ShipOutcome, ShipmentMade};
pub use admin::{Actor, AdminStore, ShipRequest};
pub use bulk::{BulkLoadReport, LedgerCheck};
pub use ledger::TOTALS_REFRESH_PERIOD;
pub use postgres::DatabaseUrl;
pub use sqlite::BackupReport;
pub use writer::WriterConfig;

use crate::allocation::{
    BookState, ListedSchool, OpenData, Pledge, Report, SchoolTally, SharingFigures,
};
use crate::domain::{ChinaDay, PlayerId, RoundId, ShareCode};
use crate::idempotency::{IdempotencyKey, RequestFingerprint};
use crate::metrics::LedgerMetrics;

/// Where the ledger lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// The embedded SQLite file in this data directory: one server process
    /// (admin commands may open it beside the server).
    Sqlite {
        /// The data directory (the file is [`sqlite::FILE_NAME`] in it).
        data_dir: PathBuf,
    },
    /// A PostgreSQL database, shared by any number of server processes.
    Postgres {
        /// Its connection string.
        url: DatabaseUrl,
    },
}

impl Location {
    /// The PostgreSQL database `url` names if there is one, else the SQLite
    /// file in `data_dir`: how every subcommand chooses.
    pub fn choose(url: Option<&DatabaseUrl>, data_dir: &std::path::Path) -> Self {
        match url {
            Some(url) => Self::Postgres { url: url.clone() },
            None => Self::Sqlite {
                data_dir: data_dir.to_owned(),
            },
        }
    }
}

impl fmt::Display for Location {
    /// For logs: never a password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sqlite { data_dir } => write!(f, "SQLite in {}", data_dir.display()),
            Self::Postgres { url } => write!(f, "{url}"),
        }
    }
}

/// Opens the ledger at `location` (creating and migrating it if needed) and
/// starts its writer.
pub async fn open(
    location: &Location,
    config: WriterConfig,
    metrics: LedgerMetrics,
) -> Result<Arc<dyn Store>, StoreError> {
    match location {
        Location::Sqlite { data_dir } => {
            sqlite::open(&data_dir.join(sqlite::FILE_NAME), config, metrics).await
        }
        Location::Postgres { url } => postgres::open(url, config, metrics).await,
    }
}

/// [`open`] with the writer's defaults for the ledger at `location`
/// ([`WriterConfig::for_ledger`]): for the admin commands and tests, which
/// take no batching settings.
pub async fn open_with_defaults(
    location: &Location,
    metrics: LedgerMetrics,
) -> Result<Arc<dyn Store>, StoreError> {
    open(location, WriterConfig::for_ledger(location), metrics).await
}

/// Appends `count` synthetic participations to the ledger at `location`,
/// spread over the `days` China days before `now_ms`, repeatably from
/// `seed` (benchmarks and rehearsals; see each backend's `bulk_load`).
pub async fn bulk_load(
    location: &Location,
    count: u64,
    days: u32,
    now_ms: u64,
    seed: u64,
) -> Result<BulkLoadReport, StoreError> {
    match location {
        Location::Sqlite { data_dir } => {
            let path = data_dir.join(sqlite::FILE_NAME);
            tokio::task::spawn_blocking(move || sqlite::bulk_load(&path, count, days, now_ms, seed))
                .await
                .map_err(backend_error)?
        }
        Location::Postgres { url } => postgres::bulk_load(url, count, days, now_ms, seed).await,
    }
}

/// Recounts the ledger at `location` and checks its invariants (see each
/// backend's `check`).
pub async fn check(location: &Location) -> Result<LedgerCheck, StoreError> {
    match location {
        Location::Sqlite { data_dir } => {
            let path = data_dir.join(sqlite::FILE_NAME);
            tokio::task::spawn_blocking(move || sqlite::check(&path))
                .await
                .map_err(backend_error)?
        }
        Location::Postgres { url } => postgres::check(url).await,
    }
}

/// Copies a consistent snapshot of the ledger at `location` into the file
/// `out` while servers keep writing: SQLite's `VACUUM INTO` (restored by
/// placing the file in a data directory), or PostgreSQL's `pg_dump` of one
/// snapshot (restored with `pg_restore` into an empty database). The
/// report's last number is the copy's.
pub async fn backup(
    location: &Location,
    out: &std::path::Path,
) -> Result<BackupReport, StoreError> {
    match location {
        Location::Sqlite { data_dir } => {
            let path = data_dir.join(sqlite::FILE_NAME);
            if !path.is_file() {
                return Err(StoreError::Refused(format!(
                    "no ledger at {}",
                    path.display()
                )));
            }
            let out = out.to_owned();
            tokio::task::spawn_blocking(move || sqlite::backup(&path, &out))
                .await
                .map_err(backend_error)?
        }
        Location::Postgres { url } => postgres::backup(url, out).await,
    }
}

/// A verified round, ready to be appended to the ledger.
#[derive(Debug, Clone)]
pub struct NewParticipation {
    /// The round played.
    pub round: RoundId,
    /// Who played it.
    pub player: PlayerId,
    /// The share link the player came from, if any.
    pub referral: Option<ShareCode>,
    /// When the server accepted the finish, in ms since the Unix epoch.
    pub finished_at_ms: u64,
    /// The outcome, as replayed by the server.
    pub outcome: Outcome,
    /// `sim::RULES_VERSION` the round was played and replayed with.
    pub rules_version: u32,
    /// The finish request's `Idempotency-Key`.
    pub idempotency_key: IdempotencyKey,
    /// Fingerprint of the finish request's body.
    pub fingerprint: RequestFingerprint,
    /// Most participations this player may have on that China day; the
    /// ledger refuses the append beyond it (decided by the single writer, so
    /// concurrent finishes cannot overshoot).
    pub player_daily_cap: u32,
}

/// A participation as the ledger holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Participation {
    /// Its number in the contiguous sequence, from 1.
    pub number: u64,
    /// The round played.
    pub round: RoundId,
    /// Who played it.
    pub player: PlayerId,
    /// When it was accepted, in ms since the Unix epoch.
    pub finished_at_ms: u64,
    /// How many participations its China day had once it was counted.
    pub day_count: u64,
    /// Score of the round.
    pub score: u32,
    /// Books caught in the round.
    pub books_caught: u32,
    /// The `Idempotency-Key` of the request that counted it.
    pub idempotency_key: IdempotencyKey,
    /// Fingerprint of the body of the request that counted it.
    pub fingerprint: RequestFingerprint,
    /// The book it funded or counts toward: as it stood when it was counted
    /// in the answer to that request, as it stands now when read back.
    pub book: BookStatus,
    /// The player's share code.
    pub share_code: Option<ShareCode>,
}

impl Participation {
    /// The receipt of the request that counted it. A retry gets the same
    /// receipt except for `book`, which says where the book stands now (it
    /// may have been funded since).
    pub fn receipt(&self) -> Receipt {
        Receipt {
            round_id: self.round.to_string(),
            participation: self.number,
            player: self.player.to_string(),
            // Numbers are contiguous, so the total right after this
            // participation was its own number.
            total_participations: self.number,
            today_participations: self.day_count,
            book: self.book.clone(),
            share_code: self.share_code.map(|code| code.to_string()),
        }
    }

    /// The line of the player's history.
    pub fn record(&self) -> ParticipationRecord {
        ParticipationRecord {
            participation: self.number,
            round_id: self.round.to_string(),
            finished_at_ms: self.finished_at_ms,
            score: self.score,
            books_caught: self.books_caught,
            book: self.book.clone(),
            share_code: self.share_code.map(|code| code.to_string()),
        }
    }
}

/// A participation as its public page shows it: nothing about the player.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParticipationBook {
    /// Its number.
    pub number: u64,
    /// When it was counted, in ms since the Unix epoch.
    pub finished_at_ms: u64,
    /// Where its book stands now.
    pub book: BookStatus,
}

/// A school and its books, for its public page and its receipt link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SchoolBooks {
    /// The school's tallies and details.
    pub tally: SchoolTally,
    /// Its books, by number, with their state.
    pub books: Vec<(u64, BookState)>,
}

impl SchoolBooks {
    /// The school as players see it.
    pub fn school_ref(&self) -> SchoolRef {
        self.tally.school.clone()
    }
}

/// A share code and what it brought: recognition only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShareStanding {
    /// The code.
    pub code: ShareCode,
    /// A poster's class or event (`None` for a player's code).
    pub label: Option<String>,
    /// Players whose first counted participation came through it.
    pub referred_players: u64,
    /// Participations that came through it.
    pub participations: u64,
    /// For a player's code: the player's own counted participations.
    pub owner_participations: u64,
    /// For a player's code: their latest participation, with its book as it
    /// stands now.
    pub latest: Option<Participation>,
}

/// What the ledger did with a [`NewParticipation`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppendOutcome {
    /// Counted, durably.
    Appended(Participation),
    /// The round was already counted (by this request earlier or by
    /// another); nothing was written.
    RoundAlreadyCounted(Participation),
    /// The player reached the daily cap; nothing was written.
    DailyCapReached,
}

/// A refused request, kept for fraud statistics and support.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectionRecord {
    /// When it was refused, in ms since the Unix epoch.
    pub at_ms: u64,
    /// Why.
    pub reason: RejectReason,
    /// The round, when the request named one.
    pub round: Option<RoundId>,
    /// The player, when known from a valid token or the request.
    pub player: Option<PlayerId>,
}

/// The ledger's running tallies, published after every commit of this
/// process and, within [`TOTALS_REFRESH_PERIOD`], after every commit of any
/// other process on the same ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerTotals {
    /// The ledger revision these tallies are exact at: published tallies
    /// only ever move to a later revision, so they never go backwards.
    pub revision: u64,
    /// Participations ever counted (= the last participation number).
    pub participations: u64,
    /// The latest China day with a participation (or the day the ledger was
    /// opened).
    pub day: ChinaDay,
    /// Participations counted on `day`.
    pub day_participations: u64,
    /// Rejections ever recorded, by reason.
    pub rejections: BTreeMap<RejectReason, u64>,
}

impl LedgerTotals {
    /// The public totals as seen on `today`: a day with no participation yet
    /// counts 0 even before the first write of that day moves `day`.
    pub fn to_wire(&self, today: ChinaDay) -> Totals {
        Totals {
            participations: self.participations,
            today: if self.day == today {
                self.day_participations
            } else {
                0
            },
            rejections: self.rejections.clone(),
        }
    }
}

/// Wraps any backend error. One that says the storage refuses writes for
/// now (a full disk, a read-only or failing file or database) becomes
/// [`StoreError::StorageUnavailable`]: nothing was written, and the same
/// request may succeed once an operator has made room.
pub(crate) fn backend_error(err: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    if sqlite::refuses_writes(&err) || postgres::refuses_writes(&err) {
        StoreError::StorageUnavailable(err.to_string())
    } else {
        StoreError::Backend(Box::new(err))
    }
}

/// Why the ledger could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database failed (disk full, I/O error, corruption...).
    #[error("ledger database error: {0}")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The storage refuses writes for now (disk full, read-only or failing
    /// file); nothing was written, and a retry may succeed later.
    #[error("the ledger's storage refuses writes for now: {0}")]
    StorageUnavailable(String),
    /// The writer has stopped (the server is shutting down).
    #[error("the ledger writer has stopped")]
    WriterStopped,
    /// The ledger's contents break one of its invariants.
    #[error("ledger inconsistency: {0}")]
    Inconsistent(String),
    /// An admin action breaks a rule of the campaign (an invalid pledge, an
    /// empty book range...); nothing was written.
    #[error("refused: {0}")]
    Refused(String),
}

/// The participation ledger. See the module documentation for the contract.
#[async_trait::async_trait]
pub trait Store: Send + Sync + fmt::Debug {
    /// Counts a verified round, answering once it is durable.
    async fn append(&self, participation: NewParticipation) -> Result<AppendOutcome, StoreError>;

    /// Queues a rejection to be written with the next batch. Never blocks:
    /// when the queue is full the record is dropped and logged, so a flood of
    /// bad requests cannot stall honest ones.
    fn record_rejection(&self, rejection: RejectionRecord);

    /// The participation that counted `round`, if any.
    async fn find_round(&self, round: RoundId) -> Result<Option<Participation>, StoreError>;

    /// A player's most recent participations, newest first, at most `limit`.
    async fn player_history(
        &self,
        player: PlayerId,
        limit: u32,
    ) -> Result<Vec<Participation>, StoreError>;

    /// The running tallies; the receiver sees every commit.
    fn totals(&self) -> watch::Receiver<LedgerTotals>;

    /// Participation `number` and where its book stands now; `None` if no
    /// such participation was counted.
    async fn participation_book(
        &self,
        number: u64,
    ) -> Result<Option<ParticipationBook>, StoreError>;

    /// A school and its books, by school id.
    async fn school_books(&self, school: &str) -> Result<Option<SchoolBooks>, StoreError>;

    /// A school and its books, by the secret of its receipt link.
    async fn school_by_receipt_secret(
        &self,
        secret: &str,
    ) -> Result<Option<SchoolBooks>, StoreError>;

    /// The secret of the receipt link of school `school`, if it exists.
    async fn receipt_secret(&self, school: &str) -> Result<Option<String>, StoreError>;

    /// Marks every shipped book of the school whose receipt secret is
    /// `secret` received (and its shipments confirmed); answers the
    /// school's id and how many books were marked, or `None` for an unknown
    /// secret. `actor` goes to the audit log in the same transaction.
    async fn receive_books(
        &self,
        secret: &str,
        actor: Actor,
    ) -> Result<Option<(String, u64)>, StoreError>;

    /// The public report (aggregates only), from the schools' tallies.
    async fn report(&self) -> Result<Report, StoreError>;

    /// A number that differs from the one the previous call answered
    /// whenever anything was committed to the ledger in between, by this
    /// process or by another one (the admin commands). Cheap enough to poll
    /// every second: the report cache rebuilds only when it moved.
    async fn revision(&self) -> Result<u64, StoreError>;

    /// Adds a sponsor pledge after the others; participations waiting for a
    /// sponsor fund books at once. `actor` goes to the audit log in the
    /// same transaction, as for every action below.
    async fn pledge(&self, pledge: Pledge, actor: Actor) -> Result<PledgeOutcome, StoreError>;

    /// Imports a new version of the school list (at least one school),
    /// named after `source` (the file it came from), applied from the first
    /// book without a school. With `based_on` (the latest version when the
    /// list was previewed, `Some(None)` for none), refused if another list
    /// came in since.
    async fn import_schools(
        &self,
        source: &str,
        schools: Vec<ListedSchool>,
        based_on: Option<Option<u32>>,
        actor: Actor,
    ) -> Result<ImportOutcome, StoreError>;

    /// Marks the allocated books of a selection shipped: one shipment per
    /// school.
    async fn ship(&self, request: ShipRequest, actor: Actor) -> Result<ShipOutcome, StoreError>;

    /// Everything the open-data export publishes.
    async fn export(&self) -> Result<OpenData, StoreError>;

    /// A share code and what it brought; `None` for an unknown code.
    async fn share_standing(&self, code: ShareCode) -> Result<Option<ShareStanding>, StoreError>;

    /// A player's share code and what it brought; `None` for a player never
    /// counted.
    async fn player_standing(&self, player: PlayerId) -> Result<Option<ShareStanding>, StoreError>;

    /// A new share code for a poster, crediting a class or an event named
    /// `label`, not a person.
    async fn create_poster_code(
        &self,
        label: Option<String>,
        actor: Actor,
    ) -> Result<ShareCode, StoreError>;

    /// The campaign's sharing figures: what share links brought, and the
    /// codes that referred the most players (codes only).
    async fn sharing(&self) -> Result<SharingFigures, StoreError>;

    /// The admin console's questions and the accounts.
    fn admin(&self) -> &dyn AdminStore;

    /// Writes everything queued so far, then stops the writer. Appends after
    /// this fail with [`StoreError::WriterStopped`].
    async fn close(&self) -> Result<(), StoreError>;
}
