//! The SQL of the PostgreSQL backend: one function per question of
//! [`LedgerRead`](crate::store::backend::LedgerRead), and [`apply`], which
//! writes a transaction's [`Changes`]. No decision is made here.
//!
//! Every function works on any [`GenericClient`], so the same SQL answers
//! on a pooled read connection and inside the writer's transaction. Every
//! statement is a round trip to the database, and the writer holds the
//! ledger's lock for all of its own: a batch question is one statement
//! (`= ANY($1)`, `UNNEST`), and [`apply`] sends all of its statements before
//! it waits for the first answer (pipelined, in order).
//!
//! Integers are stored as BIGINT: numbers go in through [`big`] and come out
//! through [`RowExt`], which refuse what does not fit instead of wrapping.

use std::collections::{BTreeMap, HashMap};

use deadpool_postgres::GenericClient;
use sim::wire::{BookStatus, RejectReason, SchoolRef};
use tokio_postgres::Row;
use tokio_postgres::types::{FromSql, ToSql};

use crate::allocation::{
    BookRecord, BookState, Candidate, ListedSchool, Pledge, SchoolListVersion, SchoolTally,
};
use crate::domain::{PlayerId, RoundId, ShareCode};
use crate::error::{reason_from_name, reason_name};
use crate::idempotency::{IdempotencyKey, RequestFingerprint};
use crate::store::backend::{
    AllocationSince, AllocationTables, Changes, Head, NewShipment, PlayerRow, Result, SchoolKey,
    ShareCodeRow, ShareDelta,
};
use crate::store::{Participation, StoreError, backend_error};

/// `SELECT` of every column [`participation_from_row`] reads, followed by
/// `$tail`.
macro_rules! select_participations {
    ($tail:literal) => {
        concat!(
            "SELECT seq, round_id, player, finished_at_ms, day_count, score, books_caught, ",
            "idempotency_key, fingerprint FROM participations ",
            $tail
        )
    };
}

/// The columns of a participation row, in the order of [`ParticipationColumns`]
/// (shared by [`apply`] and the bulk load's `COPY`).
pub(super) const PARTICIPATION_COLUMNS: &str = "seq, round_id, player, referral, \
     finished_at_ms, day, day_count, score, books_caught, ticks_played, state_hash, \
     rules_version, idempotency_key, fingerprint";

/// A value this build cannot store or read back (a negative count, a
/// number past `i64::MAX`, a malformed id).
pub(super) fn invalid(what: impl std::fmt::Display) -> StoreError {
    StoreError::Inconsistent(format!("PostgreSQL ledger: {what}"))
}

/// `value` as a BIGINT.
pub(super) fn big(value: u64) -> Result<i64> {
    i64::try_from(value).map_err(|_| invalid(format!("{value} does not fit a BIGINT")))
}

/// Typed reads of a row's columns, with the server's unsigned types.
pub(super) trait RowExt {
    /// Column `index` as `T`.
    fn column<'a, T: FromSql<'a>>(&'a self, index: usize) -> Result<T>;
    /// A BIGINT column that holds a count or a number.
    fn u64_at(&self, index: usize) -> Result<u64>;
    /// A BIGINT column that holds a 32-bit count.
    fn u32_at(&self, index: usize) -> Result<u32>;
    /// A nullable BIGINT column that holds a 32-bit number.
    fn opt_u32_at(&self, index: usize) -> Result<Option<u32>>;
    /// A BYTEA column of exactly `N` bytes.
    fn bytes_at<const N: usize>(&self, index: usize) -> Result<[u8; N]>;
}

impl RowExt for Row {
    fn column<'a, T: FromSql<'a>>(&'a self, index: usize) -> Result<T> {
        self.try_get(index).map_err(backend_error)
    }

    fn u64_at(&self, index: usize) -> Result<u64> {
        let value: i64 = self.column(index)?;
        u64::try_from(value).map_err(|_| invalid(format!("negative count {value}")))
    }

    fn u32_at(&self, index: usize) -> Result<u32> {
        let value: i64 = self.column(index)?;
        u32::try_from(value).map_err(|_| invalid(format!("{value} is not a 32-bit count")))
    }

    fn opt_u32_at(&self, index: usize) -> Result<Option<u32>> {
        let value: Option<i64> = self.column(index)?;
        value
            .map(|value| {
                u32::try_from(value).map_err(|_| invalid(format!("{value} is not a 32-bit number")))
            })
            .transpose()
    }

    fn bytes_at<const N: usize>(&self, index: usize) -> Result<[u8; N]> {
        let bytes: &[u8] = self.column(index)?;
        bytes
            .try_into()
            .map_err(|_| invalid(format!("{} bytes where {N} were expected", bytes.len())))
    }
}

/// Runs one statement (prepared once per connection) and answers its rows.
pub(super) async fn rows<C: GenericClient>(
    client: &C,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<Vec<Row>> {
    let statement = client.prepare_cached(sql).await.map_err(backend_error)?;
    client
        .query(&statement, params)
        .await
        .map_err(backend_error)
}

/// Runs one statement that answers one row.
pub(super) async fn one_row<C: GenericClient>(
    client: &C,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<Row> {
    let statement = client.prepare_cached(sql).await.map_err(backend_error)?;
    client
        .query_one(&statement, params)
        .await
        .map_err(backend_error)
}

/// Runs one statement that answers at most one row.
pub(super) async fn optional_row<C: GenericClient>(
    client: &C,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<Option<Row>> {
    let statement = client.prepare_cached(sql).await.map_err(backend_error)?;
    client
        .query_opt(&statement, params)
        .await
        .map_err(backend_error)
}

/// Reads a row selected with `select_participations!`.
fn participation_from_row(row: &Row) -> Result<Participation> {
    let key: &str = row.column(7)?;
    Ok(Participation {
        number: row.u64_at(0)?,
        round: RoundId::from_bytes(row.bytes_at(1)?),
        player: PlayerId::from_bytes(row.bytes_at(2)?),
        finished_at_ms: row.u64_at(3)?,
        day_count: row.u64_at(4)?,
        score: row.u32_at(5)?,
        books_caught: row.u32_at(6)?,
        idempotency_key: IdempotencyKey::parse(key).map_err(invalid)?,
        fingerprint: RequestFingerprint::from_bytes(row.bytes_at(8)?),
        // Filled in by the store's shared logic, which needs more than this
        // row.
        book: BookStatus::AwaitingSponsor,
        share_code: None,
    })
}

fn head_from_row(row: &Row) -> Result<Head> {
    Ok(Head {
        next_number: row.u64_at(0)?,
        revision: row.u64_at(1)?,
    })
}

/// The head, locked until the transaction ends: every writer of every
/// process takes this lock first, so they take turns.
pub(super) async fn lock_head<C: GenericClient>(tx: &C) -> Result<Head> {
    let row = one_row(
        tx,
        "SELECT next_number, revision FROM ledger_head WHERE id = 1 FOR UPDATE",
        &[],
    )
    .await?;
    head_from_row(&row)
}

pub(super) async fn head<C: GenericClient>(client: &C) -> Result<Head> {
    let row = one_row(
        client,
        "SELECT next_number, revision FROM ledger_head WHERE id = 1",
        &[],
    )
    .await?;
    head_from_row(&row)
}

pub(super) async fn rounds<C: GenericClient>(
    client: &C,
    rounds: &[RoundId],
) -> Result<Vec<Participation>> {
    let ids: Vec<[u8; 16]> = rounds.iter().map(|round| round.to_bytes()).collect();
    let ids: Vec<&[u8]> = ids.iter().map(<[u8; 16]>::as_slice).collect();
    rows(
        client,
        select_participations!("WHERE round_id = ANY($1)"),
        &[&ids],
    )
    .await?
    .iter()
    .map(participation_from_row)
    .collect()
}

pub(super) async fn player_history<C: GenericClient>(
    client: &C,
    player: PlayerId,
    limit: u32,
) -> Result<Vec<Participation>> {
    let player = player.to_bytes();
    rows(
        client,
        select_participations!("WHERE player = $1 ORDER BY seq DESC LIMIT $2"),
        &[&player.as_slice(), &i64::from(limit)],
    )
    .await?
    .iter()
    .map(participation_from_row)
    .collect()
}

pub(super) async fn participation<C: GenericClient>(
    client: &C,
    number: u64,
) -> Result<Option<Participation>> {
    optional_row(
        client,
        select_participations!("WHERE seq = $1"),
        &[&big(number)?],
    )
    .await?
    .as_ref()
    .map(participation_from_row)
    .transpose()
}

pub(super) async fn player_day_counts<C: GenericClient>(
    client: &C,
    keys: &[(PlayerId, i64)],
) -> Result<Vec<u64>> {
    let players: Vec<[u8; 16]> = keys.iter().map(|(player, _)| player.to_bytes()).collect();
    let players: Vec<&[u8]> = players.iter().map(<[u8; 16]>::as_slice).collect();
    let days: Vec<i64> = keys.iter().map(|&(_, day)| day).collect();
    rows(
        client,
        "SELECT (SELECT COUNT(*) FROM participations p WHERE p.player = k.player AND p.day = k.day) \
         FROM UNNEST($1::bytea[], $2::bigint[]) WITH ORDINALITY AS k (player, day, ord) \
         ORDER BY k.ord",
        &[&players, &days],
    )
    .await?
    .iter()
    .map(|row| row.u64_at(0))
    .collect()
}

pub(super) async fn day_tallies<C: GenericClient>(client: &C, days: &[i64]) -> Result<Vec<u64>> {
    rows(
        client,
        "SELECT COALESCE(t.participations, 0) \
         FROM UNNEST($1::bigint[]) WITH ORDINALITY AS d (day, ord) \
         LEFT JOIN day_tallies t ON t.day = d.day ORDER BY d.ord",
        &[&days],
    )
    .await?
    .iter()
    .map(|row| row.u64_at(0))
    .collect()
}

pub(super) async fn rejection_tallies<C: GenericClient>(
    client: &C,
) -> Result<BTreeMap<RejectReason, u64>> {
    let mut rejections = BTreeMap::new();
    for row in rows(
        client,
        "SELECT reason, rejections FROM rejection_tallies",
        &[],
    )
    .await?
    {
        let name: &str = row.column(0)?;
        match reason_from_name(name) {
            Some(reason) => {
                rejections.insert(reason, row.u64_at(1)?);
            }
            None => tracing::warn!(
                reason = name,
                "unknown rejection reason in the ledger, not shown"
            ),
        }
    }
    Ok(rejections)
}

pub(super) async fn pledges<C: GenericClient>(client: &C) -> Result<Vec<Pledge>> {
    rows(
        client,
        "SELECT sponsor, participations_per_book, book_cap FROM pledges ORDER BY id",
        &[],
    )
    .await?
    .iter()
    .map(|row| {
        Ok(Pledge {
            sponsor: row.column(0)?,
            participations_per_book: row.u64_at(1)?,
            book_cap: row.u64_at(2)?,
        })
    })
    .collect()
}

pub(super) async fn allocation_tables<C: GenericClient>(client: &C) -> Result<AllocationTables> {
    let funded = one_row(client, "SELECT COALESCE(MAX(book), 0) FROM books", &[])
        .await?
        .u64_at(0)?;
    let seats = rows(
        client,
        "SELECT school_id, allocated FROM schools WHERE allocated > 0",
        &[],
    )
    .await?
    .iter()
    .map(|row| Ok((row.column(0)?, row.u32_at(1)?)))
    .collect::<Result<HashMap<String, u32>>>()?;
    let version = one_row(client, "SELECT MAX(version) FROM school_lists", &[])
        .await?
        .opt_u32_at(0)?;
    let latest_list = match version {
        None => None,
        Some(version) => {
            let candidates = rows(
                client,
                "SELECT school_id, pupils, target_books FROM school_list_entries \
                 WHERE version = $1 ORDER BY school_id",
                &[&i64::from(version)],
            )
            .await?
            .iter()
            .map(|row| {
                Ok(Candidate {
                    school: row.column(0)?,
                    pupils: row.u32_at(1)?,
                    cap: row.u32_at(2)?,
                })
            })
            .collect::<Result<_>>()?;
            Some((version, candidates))
        }
    };
    Ok(AllocationTables {
        pledges: pledges(client).await?,
        funded,
        seats,
        latest_list,
    })
}

pub(super) async fn allocation_since<C: GenericClient>(
    client: &C,
    funded: u64,
) -> Result<AllocationSince> {
    // One round trip: the counts on every row (and on the one row with no
    // book when nothing was funded since).
    let found = rows(
        client,
        "SELECT (SELECT COUNT(*) FROM pledges), (SELECT MAX(version) FROM school_lists), \
         b.book, b.school_id \
         FROM (SELECT 1) AS one LEFT JOIN books b ON b.book > $1 ORDER BY b.book",
        &[&big(funded)?],
    )
    .await?;
    let mut since = AllocationSince::default();
    for (index, row) in found.iter().enumerate() {
        if index == 0 {
            since.pledges = row.u64_at(0)?;
            since.list_version = row.opt_u32_at(1)?;
        }
        let book: Option<i64> = row.column(2)?;
        if book.is_some() {
            since.books.push((row.u64_at(2)?, row.column(3)?));
        }
    }
    Ok(since)
}

/// The school whose id, name, province, prefecture, county and county code
/// are `row`'s columns from `first` on, in that order.
pub(super) fn school_from_row(row: &Row, first: usize) -> Result<SchoolRef> {
    Ok(SchoolRef {
        id: row.column(first)?,
        name: row.column(first + 1)?,
        province: row.column(first + 2)?,
        prefecture: row.column(first + 3)?,
        county: row.column(first + 4)?,
        county_code: row.column(first + 5)?,
    })
}

pub(super) async fn book_schools<C: GenericClient>(
    client: &C,
    books: &[u64],
) -> Result<HashMap<u64, SchoolRef>> {
    let books = books
        .iter()
        .map(|&book| big(book))
        .collect::<Result<Vec<_>>>()?;
    rows(
        client,
        "SELECT b.book, s.school_id, s.name, s.province, s.prefecture, s.county, s.county_code \
         FROM books b JOIN schools s ON s.school_id = b.school_id WHERE b.book = ANY($1)",
        &[&books],
    )
    .await?
    .iter()
    .map(|row| Ok((row.u64_at(0)?, school_from_row(row, 1)?)))
    .collect()
}

/// `SELECT` of every column [`tally_from_row`] reads, then the receipt
/// secret.
macro_rules! select_tally {
    ($tail:literal) => {
        concat!(
            "SELECT school_id, name, province, prefecture, county, county_code, pupils, ",
            "target_books, allocated, shipped, received, receipt_secret FROM schools ",
            $tail
        )
    };
}
pub(super) use select_tally;

pub(super) fn tally_from_row(row: &Row) -> Result<SchoolTally> {
    Ok(SchoolTally {
        school: school_from_row(row, 0)?,
        pupils: row.u32_at(6)?,
        target_books: row.u32_at(7)?,
        allocated: row.u64_at(8)?,
        shipped: row.u64_at(9)?,
        received: row.u64_at(10)?,
    })
}

pub(super) async fn school<C: GenericClient>(
    client: &C,
    key: &SchoolKey,
) -> Result<Option<(SchoolTally, String)>> {
    let found = match key {
        SchoolKey::Id(id) => {
            optional_row(client, select_tally!("WHERE school_id = $1"), &[id]).await?
        }
        SchoolKey::ReceiptSecret(secret) => {
            optional_row(
                client,
                select_tally!("WHERE receipt_secret = $1"),
                &[secret],
            )
            .await?
        }
    };
    found
        .map(|row| Ok((tally_from_row(&row)?, row.column(11)?)))
        .transpose()
}

pub(super) fn book_state(row: &Row, column: usize) -> Result<BookState> {
    let status: &str = row.column(column)?;
    BookState::from_name(status).ok_or_else(|| invalid(format!("unknown book status {status}")))
}

pub(super) async fn school_books<C: GenericClient>(
    client: &C,
    school: &str,
) -> Result<Vec<(u64, BookState)>> {
    rows(
        client,
        "SELECT book, status FROM books WHERE school_id = $1 ORDER BY book",
        &[&school],
    )
    .await?
    .iter()
    .map(|row| Ok((row.u64_at(0)?, book_state(row, 1)?)))
    .collect()
}

pub(super) async fn school_tallies<C: GenericClient>(client: &C) -> Result<Vec<SchoolTally>> {
    rows(client, select_tally!("ORDER BY school_id"), &[])
        .await?
        .iter()
        .map(tally_from_row)
        .collect()
}

pub(super) async fn school_lists<C: GenericClient>(client: &C) -> Result<Vec<SchoolListVersion>> {
    let mut lists: Vec<SchoolListVersion> = rows(
        client,
        "SELECT version, first_book FROM school_lists ORDER BY version",
        &[],
    )
    .await?
    .iter()
    .map(|row| {
        Ok(SchoolListVersion {
            version: row.u32_at(0)?,
            first_book: row.u64_at(1)?,
            schools: Vec::new(),
        })
    })
    .collect::<Result<_>>()?;
    let entries = rows(
        client,
        "SELECT version, school_id, name, province, prefecture, county, county_code, pupils, \
         target_books FROM school_list_entries ORDER BY version, school_id",
        &[],
    )
    .await?;
    for row in &entries {
        let version = row.u32_at(0)?;
        let school = ListedSchool {
            school: school_from_row(row, 1)?,
            pupils: row.u32_at(7)?,
            target_books: row.u32_at(8)?,
        };
        if let Some(list) = lists.iter_mut().find(|list| list.version == version) {
            list.schools.push(school);
        }
    }
    Ok(lists)
}

pub(super) async fn books<C: GenericClient>(client: &C) -> Result<Vec<BookRecord>> {
    rows(
        client,
        "SELECT book, status, school_id, list_version FROM books ORDER BY book",
        &[],
    )
    .await?
    .iter()
    .map(|row| {
        Ok(BookRecord {
            book: row.u64_at(0)?,
            status: book_state(row, 1)?,
            school: row.column(2)?,
            list_version: row.opt_u32_at(3)?,
        })
    })
    .collect()
}

pub(super) async fn shipped_books_of<C: GenericClient>(
    client: &C,
    school: &str,
) -> Result<Vec<u64>> {
    rows(
        client,
        "SELECT book FROM books WHERE school_id = $1 AND status = 'shipped' ORDER BY book",
        &[&school],
    )
    .await?
    .iter()
    .map(|row| row.u64_at(0))
    .collect()
}

pub(super) async fn next_shipment_id<C: GenericClient>(client: &C) -> Result<u64> {
    one_row(
        client,
        "SELECT COALESCE(MAX(id), 0) + 1 FROM shipments",
        &[],
    )
    .await?
    .u64_at(0)
}

/// A share code as stored (always written canonical by this server).
fn share_code(text: &str) -> Result<ShareCode> {
    ShareCode::parse(text).map_err(|error| invalid(format!("share code {text:?}: {error}")))
}

/// A nullable share code column.
fn optional_share_code(row: &Row, column: usize) -> Result<Option<ShareCode>> {
    row.column::<Option<&str>>(column)?
        .map(share_code)
        .transpose()
}

pub(super) async fn players<C: GenericClient>(
    client: &C,
    players: &[PlayerId],
) -> Result<HashMap<PlayerId, PlayerRow>> {
    let ids: Vec<[u8; 16]> = players.iter().map(|player| player.to_bytes()).collect();
    let ids: Vec<&[u8]> = ids.iter().map(<[u8; 16]>::as_slice).collect();
    rows(
        client,
        "SELECT player, share_code, participations, latest, referred_by FROM players \
         WHERE player = ANY($1)",
        &[&ids],
    )
    .await?
    .iter()
    .map(|row| {
        Ok((
            PlayerId::from_bytes(row.bytes_at(0)?),
            PlayerRow {
                share_code: optional_share_code(row, 1)?,
                participations: row.u64_at(2)?,
                latest: row.u64_at(3)?,
                referred_by: optional_share_code(row, 4)?,
            },
        ))
    })
    .collect()
}

/// A share code's row from `row`'s columns from `first` on: owner, label,
/// referred players, participations.
fn share_code_row(row: &Row, first: usize) -> Result<ShareCodeRow> {
    let owner: Option<&[u8]> = row.column(first)?;
    Ok(ShareCodeRow {
        owner: owner
            .map(|_| row.bytes_at(first).map(PlayerId::from_bytes))
            .transpose()?,
        label: row.column(first + 1)?,
        referred_players: row.u64_at(first + 2)?,
        participations: row.u64_at(first + 3)?,
    })
}

pub(super) async fn share_codes<C: GenericClient>(
    client: &C,
    codes: &[ShareCode],
) -> Result<HashMap<ShareCode, ShareCodeRow>> {
    let texts: Vec<&str> = codes.iter().map(ShareCode::as_str).collect();
    rows(
        client,
        "SELECT code, owner, label, referred_players, participations FROM share_codes \
         WHERE code = ANY($1)",
        &[&texts],
    )
    .await?
    .iter()
    .map(|row| Ok((share_code(row.column(0)?)?, share_code_row(row, 1)?)))
    .collect()
}

pub(super) async fn top_share_codes<C: GenericClient>(
    client: &C,
    limit: u32,
) -> Result<Vec<(ShareCode, ShareCodeRow)>> {
    rows(
        client,
        "SELECT code, owner, label, referred_players, participations FROM share_codes \
         WHERE referred_players > 0 ORDER BY referred_players DESC, code LIMIT $1",
        &[&i64::from(limit)],
    )
    .await?
    .iter()
    .map(|row| Ok((share_code(row.column(0)?)?, share_code_row(row, 1)?)))
    .collect()
}

pub(super) async fn share_totals<C: GenericClient>(client: &C) -> Result<ShareDelta> {
    let row = one_row(
        client,
        "SELECT participations, referred_players FROM share_totals WHERE id = 1",
        &[],
    )
    .await?;
    Ok(ShareDelta {
        participations: row.u64_at(0)?,
        referred_players: row.u64_at(1)?,
    })
}

/// A statement parameter, owned, so a whole [`Pipeline`] can be built
/// before it is sent.
pub(super) type Param = Box<dyn ToSql + Sync + Send>;

pub(super) fn param(value: impl ToSql + Sync + Send + 'static) -> Param {
    Box::new(value)
}

/// Statements to send one after another without waiting for each answer:
/// PostgreSQL runs them in order, and the first failure aborts the
/// transaction (so the rest fail too, and nothing is committed).
#[derive(Default)]
pub(super) struct Pipeline {
    statements: Vec<(&'static str, Vec<Param>)>,
}

impl Pipeline {
    /// Adds `sql` with `params`, after the statements already added.
    pub(super) fn push(&mut self, sql: &'static str, params: Vec<Param>) {
        self.statements.push((sql, params));
    }

    /// Sends every statement, then waits for every answer.
    pub(super) async fn run<C: GenericClient>(self, client: &C) -> Result<()> {
        // Prepared once per connection: after the first batch, preparing
        // costs no round trip.
        let mut prepared = Vec::with_capacity(self.statements.len());
        for (sql, _) in &self.statements {
            prepared.push(client.prepare_cached(sql).await.map_err(backend_error)?);
        }
        let answers =
            prepared
                .iter()
                .zip(&self.statements)
                .map(|(statement, (_, params))| async move {
                    let params: Vec<&(dyn ToSql + Sync)> = params
                        .iter()
                        .map(|param| param.as_ref() as &(dyn ToSql + Sync))
                        .collect();
                    client.execute(statement, &params).await
                });
        // `try_join_all` polls its futures in order, and each sends its
        // statement on its first poll: they go out in the order added.
        futures::future::try_join_all(answers)
            .await
            .map_err(backend_error)?;
        Ok(())
    }
}

/// The columns of participation rows, one array per column (the
/// parameters of an `UNNEST` insert).
#[derive(Debug, Default)]
pub(super) struct ParticipationColumns {
    pub seq: Vec<i64>,
    pub round_id: Vec<Vec<u8>>,
    pub player: Vec<Vec<u8>>,
    pub referral: Vec<Option<String>>,
    pub finished_at_ms: Vec<i64>,
    pub day: Vec<i64>,
    pub day_count: Vec<i64>,
    pub score: Vec<i64>,
    pub books_caught: Vec<i64>,
    pub ticks_played: Vec<i64>,
    pub state_hash: Vec<i64>,
    pub rules_version: Vec<i64>,
    pub idempotency_key: Vec<String>,
    pub fingerprint: Vec<Vec<u8>>,
}

impl ParticipationColumns {
    fn params(self) -> Vec<Param> {
        vec![
            param(self.seq),
            param(self.round_id),
            param(self.player),
            param(self.referral),
            param(self.finished_at_ms),
            param(self.day),
            param(self.day_count),
            param(self.score),
            param(self.books_caught),
            param(self.ticks_played),
            param(self.state_hash),
            param(self.rules_version),
            param(self.idempotency_key),
            param(self.fingerprint),
        ]
    }
}

/// The columns of a listed school, one array per column, then `last` (the
/// list version for an entry, the receipt secret for a school row).
fn school_columns<T: ToSql + Sync + Send + 'static>(
    schools: &[ListedSchool],
    last: Vec<T>,
) -> Vec<Param> {
    let text = |field: fn(&SchoolRef) -> &String| {
        param(
            schools
                .iter()
                .map(|listed| field(&listed.school).clone())
                .collect::<Vec<String>>(),
        )
    };
    vec![
        text(|school| &school.id),
        text(|school| &school.name),
        text(|school| &school.province),
        text(|school| &school.prefecture),
        text(|school| &school.county),
        text(|school| &school.county_code),
        param(
            schools
                .iter()
                .map(|listed| i64::from(listed.pupils))
                .collect::<Vec<_>>(),
        ),
        param(
            schools
                .iter()
                .map(|listed| i64::from(listed.target_books))
                .collect::<Vec<_>>(),
        ),
        param(last),
    ]
}

/// Writes `changes` (inside the caller's transaction), in one pipeline:
/// rows, then books, then tallies, then the head.
pub(super) async fn apply<C: GenericClient>(client: &C, changes: &Changes) -> Result<()> {
    let at_ms = big(changes.at_ms)?;
    let mut pipeline = Pipeline::default();
    if !changes.participations.is_empty() {
        let mut columns = ParticipationColumns::default();
        for row in &changes.participations {
            columns.seq.push(big(row.number)?);
            columns.round_id.push(row.round.to_bytes().to_vec());
            columns.player.push(row.player.to_bytes().to_vec());
            columns
                .referral
                .push(row.referral.as_ref().map(|code| code.as_str().to_owned()));
            columns.finished_at_ms.push(big(row.finished_at_ms)?);
            columns.day.push(row.day);
            columns.day_count.push(big(row.day_count)?);
            columns.score.push(row.outcome.score.into());
            columns.books_caught.push(row.outcome.books_caught.into());
            columns.ticks_played.push(row.outcome.ticks_played.into());
            columns
                .state_hash
                .push(row.outcome.state_hash.cast_signed());
            columns.rules_version.push(row.rules_version.into());
            columns
                .idempotency_key
                .push(row.idempotency_key.as_str().to_owned());
            columns
                .fingerprint
                .push(row.fingerprint.as_bytes().to_vec());
        }
        pipeline.push(
            "INSERT INTO participations (seq, round_id, player, referral, finished_at_ms, day, \
             day_count, score, books_caught, ticks_played, state_hash, rules_version, \
             idempotency_key, fingerprint) \
             SELECT * FROM UNNEST($1::bigint[], $2::bytea[], $3::bytea[], $4::text[], \
             $5::bigint[], $6::bigint[], $7::bigint[], $8::bigint[], $9::bigint[], \
             $10::bigint[], $11::bigint[], $12::bigint[], $13::text[], $14::bytea[])",
            columns.params(),
        );
    }
    if !changes.rejections.is_empty() {
        let rejections = &changes.rejections;
        pipeline.push(
            "INSERT INTO rejections (at_ms, reason, round_id, player) \
             SELECT * FROM UNNEST($1::bigint[], $2::text[], $3::bytea[], $4::bytea[])",
            vec![
                param(
                    rejections
                        .iter()
                        .map(|rejection| big(rejection.at_ms))
                        .collect::<Result<Vec<_>>>()?,
                ),
                param(
                    rejections
                        .iter()
                        .map(|rejection| reason_name(rejection.reason))
                        .collect::<Vec<_>>(),
                ),
                param(
                    rejections
                        .iter()
                        .map(|rejection| rejection.round.map(|round| round.to_bytes().to_vec()))
                        .collect::<Vec<_>>(),
                ),
                param(
                    rejections
                        .iter()
                        .map(|rejection| rejection.player.map(|player| player.to_bytes().to_vec()))
                        .collect::<Vec<_>>(),
                ),
            ],
        );
    }
    if let Some(pledge) = &changes.pledge {
        // The writer holds the head lock: the next id is the order of use.
        pipeline.push(
            "INSERT INTO pledges (id, sponsor, participations_per_book, book_cap, pledged_at_ms) \
             SELECT COALESCE(MAX(id), 0) + 1, $1::text, $2::bigint, $3::bigint, $4::bigint \
             FROM pledges",
            vec![
                param(pledge.sponsor.clone()),
                param(big(pledge.participations_per_book)?),
                param(big(pledge.book_cap)?),
                param(at_ms),
            ],
        );
    }
    if let Some(list) = &changes.school_list {
        pipeline.push(
            "INSERT INTO school_lists (version, first_book, imported_at_ms, source) \
             VALUES ($1, $2, $3, $4)",
            vec![
                param(i64::from(list.version)),
                param(big(list.first_book)?),
                param(at_ms),
                param(list.source.clone()),
            ],
        );
        pipeline.push(
            "INSERT INTO school_list_entries (school_id, name, province, prefecture, county, \
             county_code, pupils, target_books, version) \
             SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], \
             $6::text[], $7::bigint[], $8::bigint[], $9::bigint[])",
            school_columns(
                &list.schools,
                vec![i64::from(list.version); list.schools.len()],
            ),
        );
        let secrets = list
            .schools
            .iter()
            .map(|school| {
                list.receipt_secrets
                    .get(&school.school.id)
                    .cloned()
                    .ok_or_else(|| invalid(format!("no receipt secret for {}", school.school.id)))
            })
            .collect::<Result<Vec<String>>>()?;
        // A school listed before keeps its receipt secret and its tallies.
        pipeline.push(
            "INSERT INTO schools (school_id, name, province, prefecture, county, county_code, \
             pupils, target_books, receipt_secret) \
             SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], \
             $6::text[], $7::bigint[], $8::bigint[], $9::text[]) \
             ON CONFLICT (school_id) DO UPDATE SET name = excluded.name, \
             province = excluded.province, prefecture = excluded.prefecture, \
             county = excluded.county, county_code = excluded.county_code, \
             pupils = excluded.pupils, target_books = excluded.target_books",
            school_columns(&list.schools, secrets),
        );
    }
    if !changes.shipments.is_empty() {
        let shipments = &changes.shipments;
        let ranges: Vec<_> = shipments.iter().map(NewShipment::range).collect();
        let text = |field: fn(&NewShipment) -> Option<String>| {
            param(shipments.iter().map(field).collect::<Vec<_>>())
        };
        pipeline.push(
            "INSERT INTO shipments (id, shipped_at_ms, first_book, last_book, books, note, \
             school_id, carrier, tracking, shipped_on) \
             SELECT s.id, $2::bigint, s.first_book, s.last_book, s.books, s.note, s.school_id, \
             s.carrier, s.tracking, s.shipped_on \
             FROM UNNEST($1::bigint[], $3::bigint[], $4::bigint[], $5::bigint[], $6::text[], \
             $7::text[], $8::text[], $9::text[], $10::bigint[]) \
             AS s (id, first_book, last_book, books, note, school_id, carrier, tracking, shipped_on)",
            vec![
                param(
                    shipments
                        .iter()
                        .map(|shipment| big(shipment.id))
                        .collect::<Result<Vec<_>>>()?,
                ),
                param(at_ms),
                param(
                    ranges
                        .iter()
                        .map(|range| big(*range.start()))
                        .collect::<Result<Vec<_>>>()?,
                ),
                param(
                    ranges
                        .iter()
                        .map(|range| big(*range.end()))
                        .collect::<Result<Vec<_>>>()?,
                ),
                param(
                    shipments
                        .iter()
                        .map(|shipment| big(shipment.books.len() as u64))
                        .collect::<Result<Vec<_>>>()?,
                ),
                text(|shipment| shipment.details.note.clone()),
                text(|shipment| Some(shipment.school.clone())),
                text(|shipment| shipment.details.carrier.clone()),
                text(|shipment| shipment.details.tracking.clone()),
                param(
                    shipments
                        .iter()
                        .map(|shipment| shipment.shipped_on)
                        .collect::<Vec<i64>>(),
                ),
            ],
        );
    }
    if let Some(funded) = &changes.funded {
        pipeline.push(
            "INSERT INTO books (book, status, funded_at_ms) \
             SELECT book, 'funded', $3::bigint FROM generate_series($1::bigint, $2::bigint) AS book",
            vec![
                param(big(*funded.start())?),
                param(big(*funded.end())?),
                param(at_ms),
            ],
        );
    }
    if !changes.allocations.is_empty() {
        let allocations = &changes.allocations;
        pipeline.push(
            "UPDATE books SET status = 'allocated', school_id = a.school, \
             list_version = a.list_version, allocated_at_ms = $4 \
             FROM UNNEST($1::bigint[], $2::text[], $3::bigint[]) AS a (book, school, list_version) \
             WHERE books.book = a.book",
            vec![
                param(
                    allocations
                        .iter()
                        .map(|allocation| big(allocation.book))
                        .collect::<Result<Vec<_>>>()?,
                ),
                param(
                    allocations
                        .iter()
                        .map(|allocation| allocation.school.clone())
                        .collect::<Vec<_>>(),
                ),
                param(
                    allocations
                        .iter()
                        .map(|allocation| i64::from(allocation.list_version))
                        .collect::<Vec<_>>(),
                ),
                param(at_ms),
            ],
        );
    }
    if !changes.shipments.is_empty() {
        let mut books = Vec::new();
        let mut shipment_ids = Vec::new();
        for shipment in &changes.shipments {
            for &book in &shipment.books {
                books.push(big(book)?);
                shipment_ids.push(big(shipment.id)?);
            }
        }
        pipeline.push(
            "UPDATE books SET status = 'shipped', shipment = s.shipment \
             FROM UNNEST($1::bigint[], $2::bigint[]) AS s (book, shipment) \
             WHERE books.book = s.book",
            vec![param(books), param(shipment_ids)],
        );
    }
    if !changes.received.is_empty() {
        pipeline.push(
            "UPDATE books SET status = 'received', received_at_ms = $2 WHERE book = ANY($1)",
            vec![
                param(
                    changes
                        .received
                        .iter()
                        .map(|&book| big(book))
                        .collect::<Result<Vec<_>>>()?,
                ),
                param(at_ms),
            ],
        );
    }
    if !changes.share_codes.is_empty() {
        let codes = &changes.share_codes;
        pipeline.push(
            "INSERT INTO share_codes (code, owner, label) \
             SELECT * FROM UNNEST($1::text[], $2::bytea[], $3::text[])",
            vec![
                param(
                    codes
                        .iter()
                        .map(|new| new.code.as_str().to_owned())
                        .collect::<Vec<_>>(),
                ),
                param(
                    codes
                        .iter()
                        .map(|new| new.owner.map(|player| player.to_bytes().to_vec()))
                        .collect::<Vec<_>>(),
                ),
                param(
                    codes
                        .iter()
                        .map(|new| new.label.clone())
                        .collect::<Vec<_>>(),
                ),
            ],
        );
    }
    push_players(&mut pipeline, changes)?;
    if !changes.confirmed_shipments.is_empty() {
        pipeline.push(
            "UPDATE shipments SET confirmed_at_ms = $2 WHERE id = ANY($1)",
            vec![
                param(
                    changes
                        .confirmed_shipments
                        .iter()
                        .map(|&id| big(id))
                        .collect::<Result<Vec<_>>>()?,
                ),
                param(at_ms),
            ],
        );
    }
    push_tallies(&mut pipeline, changes)?;
    super::admin_queries::push_day_tallies(&mut pipeline, changes)?;
    super::admin_queries::push_audit(&mut pipeline, &changes.audit)?;
    push_head(&mut pipeline, changes.head)?;
    pipeline.run(client).await
}

/// Adds the statements that create the rows of players counted for the
/// first time and move the others'.
fn push_players(pipeline: &mut Pipeline, changes: &Changes) -> Result<()> {
    let (new, known): (Vec<_>, Vec<_>) = changes
        .players
        .iter()
        .partition(|(_, change)| change.first_time);
    let code_text = |code: Option<ShareCode>| code.map(|code| code.as_str().to_owned());
    if !new.is_empty() {
        pipeline.push(
            "INSERT INTO players (player, share_code, participations, latest, referred_by) \
             SELECT * FROM UNNEST($1::bytea[], $2::text[], $3::bigint[], $4::bigint[], $5::text[])",
            vec![
                param(
                    new.iter()
                        .map(|(player, _)| player.to_bytes().to_vec())
                        .collect::<Vec<_>>(),
                ),
                param(
                    new.iter()
                        .map(|(_, change)| code_text(change.new_code.map(|(code, _)| code)))
                        .collect::<Vec<_>>(),
                ),
                param(
                    new.iter()
                        .map(|(_, change)| big(change.participations))
                        .collect::<Result<Vec<_>>>()?,
                ),
                param(
                    new.iter()
                        .map(|(_, change)| big(change.latest))
                        .collect::<Result<Vec<_>>>()?,
                ),
                param(
                    new.iter()
                        .map(|(_, change)| code_text(change.new_code.and_then(|(_, by)| by)))
                        .collect::<Vec<_>>(),
                ),
            ],
        );
    }
    if !known.is_empty() {
        // A player counted before share codes existed gets one now, and
        // keeps it.
        pipeline.push(
            "UPDATE players SET participations = players.participations + u.participations, \
             latest = u.latest, share_code = COALESCE(players.share_code, u.share_code) \
             FROM UNNEST($1::bytea[], $2::bigint[], $3::bigint[], $4::text[]) \
             AS u (player, participations, latest, share_code) \
             WHERE players.player = u.player",
            vec![
                param(
                    known
                        .iter()
                        .map(|(player, _)| player.to_bytes().to_vec())
                        .collect::<Vec<_>>(),
                ),
                param(
                    known
                        .iter()
                        .map(|(_, change)| big(change.participations))
                        .collect::<Result<Vec<_>>>()?,
                ),
                param(
                    known
                        .iter()
                        .map(|(_, change)| big(change.latest))
                        .collect::<Result<Vec<_>>>()?,
                ),
                param(
                    known
                        .iter()
                        .map(|(_, change)| code_text(change.new_code.map(|(code, _)| code)))
                        .collect::<Vec<_>>(),
                ),
            ],
        );
    }
    Ok(())
}

/// Adds the statement that moves the head to `head`, if a transaction set
/// one.
pub(super) fn push_head(pipeline: &mut Pipeline, head: Option<Head>) -> Result<()> {
    if let Some(head) = head {
        pipeline.push(
            "UPDATE ledger_head SET next_number = $1, revision = $2 WHERE id = 1",
            vec![param(big(head.next_number)?), param(big(head.revision)?)],
        );
    }
    Ok(())
}

/// Adds the statements that write the tallies `changes` moved.
pub(super) fn push_tallies(pipeline: &mut Pipeline, changes: &Changes) -> Result<()> {
    if !changes.day_counts.is_empty() {
        pipeline.push(
            "INSERT INTO day_tallies (day, participations) \
             SELECT * FROM UNNEST($1::bigint[], $2::bigint[]) \
             ON CONFLICT (day) DO UPDATE SET participations = excluded.participations",
            vec![
                param(changes.day_counts.keys().copied().collect::<Vec<i64>>()),
                param(
                    changes
                        .day_counts
                        .values()
                        .map(|&count| big(count))
                        .collect::<Result<Vec<_>>>()?,
                ),
            ],
        );
    }
    if !changes.share_increments.is_empty() {
        let increments = &changes.share_increments;
        pipeline.push(
            "UPDATE share_codes SET \
             referred_players = share_codes.referred_players + d.referred_players, \
             participations = share_codes.participations + d.participations \
             FROM UNNEST($1::text[], $2::bigint[], $3::bigint[]) \
             AS d (code, referred_players, participations) \
             WHERE share_codes.code = d.code",
            vec![
                param(
                    increments
                        .keys()
                        .map(|code| code.as_str().to_owned())
                        .collect::<Vec<_>>(),
                ),
                param(
                    increments
                        .values()
                        .map(|delta| big(delta.referred_players))
                        .collect::<Result<Vec<_>>>()?,
                ),
                param(
                    increments
                        .values()
                        .map(|delta| big(delta.participations))
                        .collect::<Result<Vec<_>>>()?,
                ),
            ],
        );
        pipeline.push(
            "UPDATE share_totals SET referred_players = referred_players + $1, \
             participations = participations + $2 WHERE id = 1",
            vec![
                param(big(changes.share_totals.referred_players)?),
                param(big(changes.share_totals.participations)?),
            ],
        );
    }
    if !changes.rejection_increments.is_empty() {
        pipeline.push(
            "INSERT INTO rejection_tallies (reason, rejections) \
             SELECT * FROM UNNEST($1::text[], $2::bigint[]) \
             ON CONFLICT (reason) DO UPDATE \
             SET rejections = rejection_tallies.rejections + excluded.rejections",
            vec![
                param(
                    changes
                        .rejection_increments
                        .keys()
                        .map(|&reason| reason_name(reason))
                        .collect::<Vec<_>>(),
                ),
                param(
                    changes
                        .rejection_increments
                        .values()
                        .map(|&count| big(count))
                        .collect::<Result<Vec<_>>>()?,
                ),
            ],
        );
    }
    if !changes.school_deltas.is_empty() {
        let deltas = &changes.school_deltas;
        let column = |field: fn(&crate::store::backend::SchoolDelta) -> u64| {
            deltas
                .values()
                .map(|delta| big(field(delta)))
                .collect::<Result<Vec<_>>>()
        };
        pipeline.push(
            "UPDATE schools SET allocated = schools.allocated + d.allocated, \
             shipped = schools.shipped + d.shipped, received = schools.received + d.received \
             FROM UNNEST($1::text[], $2::bigint[], $3::bigint[], $4::bigint[]) \
             AS d (school_id, allocated, shipped, received) \
             WHERE schools.school_id = d.school_id",
            vec![
                param(deltas.keys().cloned().collect::<Vec<_>>()),
                param(column(|delta| delta.allocated)?),
                param(column(|delta| delta.shipped)?),
                param(column(|delta| delta.received)?),
            ],
        );
    }
    Ok(())
}
