//! The seam between the store's logic and a database: what one backend
//! provides, and nothing else.
//!
//! The writer, its decisions ([`super::rules`]), the admin actions
//! ([`super::actions`]) and the reads of [`super::ledger::Ledger`] are
//! written once, over these traits. A backend answers plain questions
//! ([`LedgerRead`]: "which of these rounds are counted?", "what do these
//! players have on that day?") and writes what it is told ([`Changes`]): it
//! decides nothing. Only its SQL, its migrations and its connection handling
//! differ from one backend to another.
//!
//! Futures are `Send` so that one writer loop serves both a backend whose
//! writer runs on the async runtime and one whose writer has a thread of its
//! own.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::future::Future;
use std::ops::RangeInclusive;

use sim::Outcome;
use sim::wire::{RejectReason, SchoolRef};

use super::admin::{
    AreaFilter, AuditEntry, AuditFilter, AuditRecord, BookLifecycle, BookSelection, CountySummary,
    Credentials, FailedSignIns, ListInfo, Movement, NewSession, Page, PasswordHash, PledgeRecord,
    SessionRecord, ShipmentDetails, ShipmentFilter, ShipmentRecord, Unshipped, User, Window,
};
use super::{Participation, RejectionRecord, StoreError};
use crate::allocation::{
    Allocation, BookRecord, BookState, Candidate, ListedSchool, Pledge, SchoolListVersion,
    SchoolTally,
};
use crate::domain::{PlayerId, Role, RoundId, ShareCode, UserName};
use crate::idempotency::{IdempotencyKey, RequestFingerprint};

/// Short for the store's results.
pub(crate) type Result<T> = std::result::Result<T, StoreError>;

/// The ledger's head: one row, read at the start of every transaction that
/// changes the ledger, under the write lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Head {
    /// The number the next counted participation gets (participations
    /// counted so far, plus one).
    pub next_number: u64,
    /// Moved by every transaction that changes the ledger, in any process:
    /// a writer that finds it elsewhere than where its own last commit left
    /// it rebuilds its allocator, and the report cache rebuilds its report.
    pub revision: u64,
}

impl Head {
    /// Participations counted.
    pub fn counted(self) -> u64 {
        self.next_number - 1
    }
}

/// What the allocator is rebuilt from: O(schools + pledges) rows, no book.
#[derive(Debug, Clone, Default)]
pub(crate) struct AllocationTables {
    /// The pledges, in order of use.
    pub pledges: Vec<Pledge>,
    /// Books funded (the largest book number).
    pub funded: u64,
    /// Books allocated to each school that has any.
    pub seats: HashMap<String, u32>,
    /// The latest school list version and its schools.
    pub latest_list: Option<(u32, Vec<Candidate>)>,
}

/// What the allocation became after book `funded`, for a writer that last
/// saw the ledger with that many books funded: enough to tell whether only
/// participations were counted since (then the writer replays them with its
/// own allocator and checks every book against these), or the rules
/// changed (then it rebuilds from [`AllocationTables`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct AllocationSince {
    /// Pledges in the ledger.
    pub pledges: u64,
    /// The latest school list version.
    pub list_version: Option<u32>,
    /// Every book after `funded`, in order, with its school if it has one.
    pub books: Vec<(u64, Option<String>)>,
}

/// A counted player, as the ledger keeps them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PlayerRow {
    /// Their share code (`None` only for players counted before share codes
    /// existed, until they are counted again).
    pub share_code: Option<ShareCode>,
    /// Participations counted.
    pub participations: u64,
    /// The number of their latest participation.
    pub latest: u64,
    /// The code whose link brought them, if it was credited.
    pub referred_by: Option<ShareCode>,
}

/// A share code, as the ledger keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ShareCodeRow {
    /// The player it belongs to; `None` for a poster's code.
    pub owner: Option<PlayerId>,
    /// A poster's class or event.
    pub label: Option<String>,
    /// Players whose first counted participation came through it.
    pub referred_players: u64,
    /// Participations that came through it.
    pub participations: u64,
}

/// How a share code's tallies (or the campaign's) move.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct ShareDelta {
    /// Players newly referred.
    pub referred_players: u64,
    /// Participations newly credited.
    pub participations: u64,
}

/// How one player's row moves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PlayerChange {
    /// Set when the player gets a row or a share code: the code, and the
    /// code that referred them (a new player only).
    pub new_code: Option<(ShareCode, Option<ShareCode>)>,
    /// Whether the player has no row yet.
    pub first_time: bool,
    /// Participations newly counted.
    pub participations: u64,
    /// Their latest participation's number.
    pub latest: u64,
}

/// A new share code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NewShareCode {
    /// The code.
    pub code: ShareCode,
    /// The player it belongs to; `None` for a poster's code.
    pub owner: Option<PlayerId>,
    /// A poster's class or event.
    pub label: Option<String>,
}

/// Which school: by id (its public page) or by the secret of its receipt
/// link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SchoolKey {
    /// The school's id.
    Id(String),
    /// The secret of its receipt link.
    ReceiptSecret(String),
}

/// The questions a backend answers, on a read connection or inside a write
/// transaction (which then sees its own writes).
pub(crate) trait LedgerRead: Send {
    /// The head row (not locked on a read connection).
    fn head(&mut self) -> impl Future<Output = Result<Head>> + Send;

    /// The participations that counted any of `rounds`.
    fn rounds(
        &mut self,
        rounds: Vec<RoundId>,
    ) -> impl Future<Output = Result<Vec<Participation>>> + Send;

    /// A player's most recent participations, newest first, at most `limit`.
    fn player_history(
        &mut self,
        player: PlayerId,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<Participation>>> + Send;

    /// Participation `number`.
    fn participation(
        &mut self,
        number: u64,
    ) -> impl Future<Output = Result<Option<Participation>>> + Send;

    /// How many participations each `(player, China day number)` has, in
    /// the order asked.
    fn player_day_counts(
        &mut self,
        keys: Vec<(PlayerId, i64)>,
    ) -> impl Future<Output = Result<Vec<u64>>> + Send;

    /// How many participations each China day number has, in the order
    /// asked.
    fn day_tallies(&mut self, days: Vec<i64>) -> impl Future<Output = Result<Vec<u64>>> + Send;

    /// Rejections ever recorded, by reason.
    fn rejection_tallies(
        &mut self,
    ) -> impl Future<Output = Result<BTreeMap<RejectReason, u64>>> + Send;

    /// The pledges, in order of use.
    fn pledges(&mut self) -> impl Future<Output = Result<Vec<Pledge>>> + Send;

    /// Everything the allocator is rebuilt from.
    fn allocation_tables(&mut self) -> impl Future<Output = Result<AllocationTables>> + Send;

    /// What the allocation became after book `funded` (one question, since
    /// a writer asks it under the lock after every other process's commit).
    fn allocation_since(
        &mut self,
        funded: u64,
    ) -> impl Future<Output = Result<AllocationSince>> + Send;

    /// The school of each of `books` that has one.
    fn book_schools(
        &mut self,
        books: Vec<u64>,
    ) -> impl Future<Output = Result<HashMap<u64, SchoolRef>>> + Send;

    /// A school's tally and the secret of its receipt link.
    fn school(
        &mut self,
        key: SchoolKey,
    ) -> impl Future<Output = Result<Option<(SchoolTally, String)>>> + Send;

    /// A school's books, by number, with their state.
    fn school_books(
        &mut self,
        school: String,
    ) -> impl Future<Output = Result<Vec<(u64, BookState)>>> + Send;

    /// Every school's tally.
    fn school_tallies(&mut self) -> impl Future<Output = Result<Vec<SchoolTally>>> + Send;

    /// Every school list version with its schools, in version order.
    fn school_lists(&mut self) -> impl Future<Output = Result<Vec<SchoolListVersion>>> + Send;

    /// Every book, by number.
    fn books(&mut self) -> impl Future<Output = Result<Vec<BookRecord>>> + Send;

    /// The shipped books of `school`.
    fn shipped_books_of(&mut self, school: String)
    -> impl Future<Output = Result<Vec<u64>>> + Send;

    /// The id the next shipment gets.
    fn next_shipment_id(&mut self) -> impl Future<Output = Result<u64>> + Send;

    /// The rows of those of `players` who were ever counted.
    fn players(
        &mut self,
        players: Vec<PlayerId>,
    ) -> impl Future<Output = Result<HashMap<PlayerId, PlayerRow>>> + Send;

    /// The rows of those of `codes` that exist.
    fn share_codes(
        &mut self,
        codes: Vec<ShareCode>,
    ) -> impl Future<Output = Result<HashMap<ShareCode, ShareCodeRow>>> + Send;

    /// The codes that referred the most players (at least one), most first,
    /// at most `limit`.
    fn top_share_codes(
        &mut self,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<(ShareCode, ShareCodeRow)>>> + Send;

    /// The campaign's sharing tallies: players referred and participations
    /// that came through a share link.
    fn share_totals(&mut self) -> impl Future<Output = Result<ShareDelta>> + Send;

    /// The allocated books `selection` takes, with their schools, by number.
    fn allocated_books(
        &mut self,
        selection: BookSelection,
    ) -> impl Future<Output = Result<Vec<(u64, String)>>> + Send;

    /// The county code of each of `schools` (schools unknown are left out).
    fn school_counties(
        &mut self,
        schools: Vec<String>,
    ) -> impl Future<Output = Result<HashMap<String, String>>> + Send;

    /// The shipments to `school` it has not confirmed yet.
    fn unconfirmed_shipments_of(
        &mut self,
        school: String,
    ) -> impl Future<Output = Result<Vec<u64>>> + Send;
}

/// The admin console's questions: accounts, sessions, the audit log and
/// the reads behind its reports. Asked on a read connection, or inside an
/// accounts transaction (which then sees its own writes).
pub(crate) trait ConsoleRead: Send {
    /// A user and its password hash, by name.
    fn credentials(
        &mut self,
        name: UserName,
    ) -> impl Future<Output = Result<Option<Credentials>>> + Send;

    /// Every user, by name.
    fn users(&mut self) -> impl Future<Output = Result<Vec<User>>> + Send;

    /// The session whose token hashes to `token_hash`, with its user.
    fn session(
        &mut self,
        token_hash: [u8; 32],
    ) -> impl Future<Output = Result<Option<SessionRecord>>> + Send;

    /// Audit entries `sign_in_failed` since `since_ms` with the actor name
    /// `name`, and from `address`.
    fn failed_sign_ins(
        &mut self,
        name: String,
        address: String,
        since_ms: u64,
    ) -> impl Future<Output = Result<FailedSignIns>> + Send;

    /// The audit entries `filter` keeps, newest first, in `window`.
    fn audit_log(
        &mut self,
        filter: AuditFilter,
        window: Window,
    ) -> impl Future<Output = Result<Page<AuditRecord>>> + Send;

    /// The first China day number with participations or books.
    fn first_day(&mut self) -> impl Future<Output = Result<Option<i64>>> + Send;

    /// Participations per China day number from `first` to `last`.
    fn day_counts(
        &mut self,
        first: i64,
        last: i64,
    ) -> impl Future<Output = Result<Vec<(i64, u64)>>> + Send;

    /// Refusals by reason from day `first` to day `last`.
    fn refusals(
        &mut self,
        first: i64,
        last: i64,
    ) -> impl Future<Output = Result<BTreeMap<RejectReason, u64>>> + Send;

    /// Every county, from the schools' tallies.
    fn counties(&mut self) -> impl Future<Output = Result<Vec<CountySummary>>> + Send;

    /// Per county code: the books' movement from day `first` to `last`.
    fn county_movements(
        &mut self,
        first: i64,
        last: i64,
    ) -> impl Future<Output = Result<BTreeMap<String, Movement>>> + Send;

    /// The schools of an area, by id.
    fn schools_in(
        &mut self,
        area: AreaFilter,
    ) -> impl Future<Output = Result<Vec<SchoolTally>>> + Send;

    /// Per school of `schools`: the books' movement from day `first` to
    /// `last`.
    fn school_movements(
        &mut self,
        schools: Vec<String>,
        first: i64,
        last: i64,
    ) -> impl Future<Output = Result<BTreeMap<String, Movement>>> + Send;

    /// A page of a school's books, with their lifecycle dates.
    fn school_lifecycle(
        &mut self,
        school: String,
        window: Window,
    ) -> impl Future<Output = Result<Page<BookLifecycle>>> + Send;

    /// The pledges with when they were made, in order of use.
    fn pledge_records(&mut self) -> impl Future<Output = Result<Vec<PledgeRecord>>> + Send;

    /// A page of the shipments `filter` keeps, newest first.
    fn shipments(
        &mut self,
        filter: ShipmentFilter,
        window: Window,
    ) -> impl Future<Output = Result<Page<ShipmentRecord>>> + Send;

    /// One shipment.
    fn shipment(&mut self, id: u64) -> impl Future<Output = Result<Option<ShipmentRecord>>> + Send;

    /// The books of a shipment, by number.
    fn shipment_books(&mut self, id: u64) -> impl Future<Output = Result<Vec<u64>>> + Send;

    /// Books allocated and not shipped, and the `limit` schools with most.
    fn unshipped(&mut self, limit: u64) -> impl Future<Output = Result<Unshipped>> + Send;

    /// Every school list version, newest first.
    fn school_list_versions(&mut self) -> impl Future<Output = Result<Vec<ListInfo>>> + Send;

    /// The latest school list version with its schools.
    fn latest_school_list(
        &mut self,
    ) -> impl Future<Output = Result<Option<(u32, Vec<ListedSchool>)>>> + Send;
}

/// A transaction on the accounts (users, sessions, the audit log), outside
/// the ledger writer: it takes whatever lock the backend needs to keep the
/// accounts' rules (the last enabled admin, unique names) true until it
/// commits, and only for as long as one small write.
pub(crate) trait AccountsWrite: ConsoleRead {
    /// Writes `changes`.
    fn apply(&mut self, changes: &AccountChanges) -> impl Future<Output = Result<()>> + Send;

    /// Commits durably.
    fn commit(self) -> impl Future<Output = Result<()>> + Send;
}

/// A change to a user.
#[derive(Debug, Clone)]
pub(crate) struct UserUpdate {
    /// Which user.
    pub name: UserName,
    /// Its new role.
    pub role: Option<Role>,
    /// Disabled or enabled.
    pub disabled: Option<bool>,
    /// Its new password hash.
    pub password_hash: Option<PasswordHash>,
}

/// Everything an accounts transaction writes, decided by shared code
/// ([`super::accounts`]). A backend writes, in this order: the new user,
/// the updates, the sessions ended, the new session, the touch, the audit
/// entries.
#[derive(Debug, Default, Clone)]
pub(crate) struct AccountChanges {
    /// When, in ms since the Unix epoch.
    pub at_ms: u64,
    /// A user to create.
    pub new_user: Option<(UserName, Role, PasswordHash)>,
    /// Changes to users.
    pub user_updates: Vec<UserUpdate>,
    /// Sessions to end, by token hash.
    pub end_sessions: Vec<[u8; 32]>,
    /// Users all of whose sessions end.
    pub end_sessions_of: Vec<UserName>,
    /// A session to start.
    pub new_session: Option<NewSession>,
    /// A session whose last-seen time becomes `at_ms`.
    pub touch: Option<[u8; 32]>,
    /// Entries to append to the audit log.
    pub audit: Vec<AuditEntry>,
}

/// A transaction that holds the ledger's write lock from its start: nobody
/// else changes the ledger until it commits or is dropped (which rolls it
/// back).
pub(crate) trait LedgerWrite: LedgerRead {
    /// Writes `changes`.
    fn apply(&mut self, changes: &Changes) -> impl Future<Output = Result<()>> + Send;

    /// Commits durably; answers only once the commit is on disk.
    fn commit(self) -> impl Future<Output = Result<()>> + Send;
}

/// A database the store can run on.
pub(crate) trait Backend: fmt::Debug + Send + Sync + 'static {
    /// A read connection.
    type Reader: LedgerRead + ConsoleRead + 'static;
    /// A transaction on the accounts, on a connection of its own (never
    /// the ledger writer's).
    type AccountsTx: AccountsWrite + 'static;
    /// The connection the ledger writer owns.
    type WriterConnection: Send + 'static;
    /// A write transaction on the writer's connection.
    type Tx<'c>: LedgerWrite + 'c;

    /// A read connection from the pool.
    fn reader(&self) -> impl Future<Output = Result<Self::Reader>> + Send;

    /// Begins an accounts transaction.
    fn accounts_tx(&self) -> impl Future<Output = Result<Self::AccountsTx>> + Send;

    /// A new connection for a writer.
    fn writer_connection(&self) -> impl Future<Output = Result<Self::WriterConnection>> + Send;

    /// Begins a write transaction, taking the ledger's write lock.
    fn begin(
        conn: &mut Self::WriterConnection,
    ) -> impl Future<Output = Result<Self::Tx<'_>>> + Send;

    /// Runs the writer loop `writer` where this backend's writer belongs (a
    /// thread of its own for a blocking driver, a task for an async one);
    /// the handle resolves when it ends.
    fn spawn_writer(
        &self,
        writer: impl Future<Output = ()> + Send + 'static,
    ) -> Result<tokio::sync::oneshot::Receiver<()>>;
}

/// A participation to insert, numbered.
#[derive(Debug, Clone)]
pub(crate) struct NewRow {
    /// Its number.
    pub number: u64,
    /// The round played.
    pub round: RoundId,
    /// Who played it.
    pub player: PlayerId,
    /// The share link the player came from.
    pub referral: Option<ShareCode>,
    /// When it was counted, in ms since the Unix epoch.
    pub finished_at_ms: u64,
    /// Its China day number.
    pub day: i64,
    /// Its day's count once it was counted.
    pub day_count: u64,
    /// The replayed outcome.
    pub outcome: Outcome,
    /// `sim::RULES_VERSION` it was played with.
    pub rules_version: u32,
    /// The finish request's `Idempotency-Key`.
    pub idempotency_key: IdempotencyKey,
    /// Fingerprint of the finish request's body.
    pub fingerprint: RequestFingerprint,
}

/// A new version of the school list.
#[derive(Debug, Clone)]
pub(crate) struct NewSchoolList {
    /// Its version number.
    pub version: u32,
    /// The first book it applies to.
    pub first_book: u64,
    /// The file it came from.
    pub source: String,
    /// Its schools.
    pub schools: Vec<ListedSchool>,
    /// Receipt-link secrets for the schools that may be new to the
    /// campaign, by id (a school that already has one keeps it).
    pub receipt_secrets: HashMap<String, String>,
}

/// A new shipment: the allocated books of one school.
#[derive(Debug, Clone)]
pub(crate) struct NewShipment {
    /// Its id.
    pub id: u64,
    /// The school it goes to.
    pub school: String,
    /// The books it moves from allocated to shipped, by number.
    pub books: Vec<u64>,
    /// Carrier, tracking number, note.
    pub details: ShipmentDetails,
    /// The China day number it left.
    pub shipped_on: i64,
}

impl NewShipment {
    /// Its first and last book numbers.
    pub fn range(&self) -> RangeInclusive<u64> {
        let first = self.books.first().copied().unwrap_or(0);
        first..=self.books.last().copied().unwrap_or(first)
    }
}

/// How one school's book tallies move.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct SchoolDelta {
    /// Books newly allocated to it.
    pub allocated: u64,
    /// Books newly shipped to it.
    pub shipped: u64,
    /// Books it newly confirmed.
    pub received: u64,
}

/// Everything one transaction writes, decided by the store's shared logic.
/// A backend turns it into SQL, in this order: rows, then books, then
/// tallies, then the head.
#[derive(Debug, Default)]
pub(crate) struct Changes {
    /// When the transaction's changes happened, in ms since the Unix epoch.
    pub at_ms: u64,
    /// Participations to append.
    pub participations: Vec<NewRow>,
    /// Refusals to record.
    pub rejections: Vec<RejectionRecord>,
    /// A pledge to add after the others.
    pub pledge: Option<Pledge>,
    /// A school list version to add.
    pub school_list: Option<NewSchoolList>,
    /// Books newly funded.
    pub funded: Option<RangeInclusive<u64>>,
    /// Books newly given a school.
    pub allocations: Vec<Allocation>,
    /// Shipments to record, with the books they move.
    pub shipments: Vec<NewShipment>,
    /// Books a school confirmed: they become received.
    pub received: Vec<u64>,
    /// Shipments whose school confirmed them.
    pub confirmed_shipments: Vec<u64>,
    /// Per China day: its participations after this transaction (absolute).
    pub day_counts: BTreeMap<i64, u64>,
    /// Players whose rows move.
    pub players: BTreeMap<PlayerId, PlayerChange>,
    /// Share codes to create.
    pub share_codes: Vec<NewShareCode>,
    /// Per share code: how its tallies move.
    pub share_increments: BTreeMap<ShareCode, ShareDelta>,
    /// How the campaign's sharing tallies move.
    pub share_totals: ShareDelta,
    /// Per reason: refusals recorded in this transaction.
    pub rejection_increments: BTreeMap<RejectReason, u64>,
    /// Per school: how its book tallies move.
    pub school_deltas: BTreeMap<String, SchoolDelta>,
    /// Per school and China day number: how its book tallies move that
    /// day (filled in by [`super::tallies::by_day`]).
    pub school_days: BTreeMap<(String, i64), SchoolDelta>,
    /// Per county code and China day number: the same, by county.
    pub county_days: BTreeMap<(String, i64), SchoolDelta>,
    /// Per China day number and reason: refusals recorded.
    pub rejection_days: BTreeMap<(i64, RejectReason), u64>,
    /// Entries to append to the audit log.
    pub audit: Vec<AuditEntry>,
    /// The head after this transaction.
    pub head: Option<Head>,
}

impl Changes {
    /// Nothing to write.
    pub fn new(at_ms: u64) -> Self {
        Self {
            at_ms,
            ..Self::default()
        }
    }

    /// Adds `funding`'s books and allocations, moving the schools' tallies.
    pub fn fund(&mut self, funding: crate::allocation::Funding) {
        if let Some(funded) = funding.funded {
            self.funded = Some(match self.funded.take() {
                Some(earlier) => *earlier.start()..=*funded.end(),
                None => funded,
            });
        }
        for allocation in &funding.allocated {
            self.school_deltas
                .entry(allocation.school.clone())
                .or_default()
                .allocated += 1;
        }
        self.allocations.extend(funding.allocated);
    }
}
