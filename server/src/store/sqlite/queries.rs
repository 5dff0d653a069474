//! The SQL of the SQLite backend: one plain function per question of
//! [`LedgerRead`](crate::store::backend::LedgerRead), and [`apply`], which
//! writes a transaction's [`Changes`]. No decision is made here.

use std::collections::{BTreeMap, HashMap};

use rusqlite::{Connection, OptionalExtension, Row, ToSql, params};
use sim::wire::{BookStatus, RejectReason, SchoolRef};

use crate::allocation::{
    BookRecord, BookState, Candidate, ListedSchool, Pledge, SchoolListVersion, SchoolTally,
};
use crate::domain::{PlayerId, RoundId, ShareCode};
use crate::error::{reason_from_name, reason_name};
use crate::idempotency::{IdempotencyKey, RequestFingerprint};
use crate::store::Participation;
use crate::store::backend::{
    AllocationSince, AllocationTables, Changes, Head, NewRow, PlayerRow, SchoolKey, ShareCodeRow,
    ShareDelta,
};

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

pub(super) const INSERT_PARTICIPATION: &str = "INSERT INTO participations (seq, round_id, player, \
     referral, finished_at_ms, day, day_count, score, books_caught, ticks_played, state_hash, \
     rules_version, idempotency_key, fingerprint) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)";

/// A stored value this build cannot read.
pub(super) fn invalid_data(message: String) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, message.into())
}

/// Reads a row selected with `select_participations!`.
fn participation_from_row(row: &Row<'_>) -> rusqlite::Result<Participation> {
    let key: String = row.get(7)?;
    Ok(Participation {
        number: row.get(0)?,
        round: RoundId::from_bytes(row.get(1)?),
        player: PlayerId::from_bytes(row.get(2)?),
        finished_at_ms: row.get(3)?,
        day_count: row.get(4)?,
        score: row.get(5)?,
        books_caught: row.get(6)?,
        idempotency_key: IdempotencyKey::parse(&key).map_err(|err| {
            rusqlite::Error::FromSqlConversionFailure(7, rusqlite::types::Type::Text, Box::new(err))
        })?,
        fingerprint: RequestFingerprint::from_bytes(row.get(8)?),
        // Filled in by the store's shared logic, which needs more than this
        // row.
        book: BookStatus::AwaitingSponsor,
        share_code: None,
    })
}

pub(super) fn head(conn: &Connection) -> rusqlite::Result<Head> {
    conn.prepare_cached("SELECT next_number, revision FROM ledger_head WHERE id = 1")?
        .query_row([], |row| {
            Ok(Head {
                next_number: row.get(0)?,
                revision: row.get(1)?,
            })
        })
}

pub(super) fn rounds(
    conn: &Connection,
    rounds: &[RoundId],
) -> rusqlite::Result<Vec<Participation>> {
    let mut statement = conn.prepare_cached(select_participations!("WHERE round_id = ?1"))?;
    let mut found = Vec::new();
    for round in rounds {
        if let Some(participation) = statement
            .query_row([round.to_bytes()], participation_from_row)
            .optional()?
        {
            found.push(participation);
        }
    }
    Ok(found)
}

pub(super) fn player_history(
    conn: &Connection,
    player: PlayerId,
    limit: u32,
) -> rusqlite::Result<Vec<Participation>> {
    conn.prepare_cached(select_participations!(
        "WHERE player = ?1 ORDER BY seq DESC LIMIT ?2"
    ))?
    .query_map(params![player.to_bytes(), limit], participation_from_row)?
    .collect()
}

pub(super) fn participation(
    conn: &Connection,
    number: u64,
) -> rusqlite::Result<Option<Participation>> {
    conn.prepare_cached(select_participations!("WHERE seq = ?1"))?
        .query_row([number], participation_from_row)
        .optional()
}

pub(super) fn player_day_counts(
    conn: &Connection,
    keys: &[(PlayerId, i64)],
) -> rusqlite::Result<Vec<u64>> {
    let mut statement =
        conn.prepare_cached("SELECT COUNT(*) FROM participations WHERE player = ?1 AND day = ?2")?;
    keys.iter()
        .map(|(player, day)| statement.query_row(params![player.to_bytes(), day], |row| row.get(0)))
        .collect()
}

pub(super) fn day_tallies(conn: &Connection, days: &[i64]) -> rusqlite::Result<Vec<u64>> {
    let mut statement =
        conn.prepare_cached("SELECT participations FROM day_tallies WHERE day = ?1")?;
    days.iter()
        .map(|day| {
            statement
                .query_row([day], |row| row.get(0))
                .optional()
                .map(Option::unwrap_or_default)
        })
        .collect()
}

pub(super) fn rejection_tallies(
    conn: &Connection,
) -> rusqlite::Result<BTreeMap<RejectReason, u64>> {
    let mut rejections = BTreeMap::new();
    let mut statement = conn.prepare_cached("SELECT reason, rejections FROM rejection_tallies")?;
    let rows = statement.query_map([], |row| {
        Ok((row.get::<_, String>(0)?, row.get::<_, u64>(1)?))
    })?;
    for row in rows {
        let (name, count) = row?;
        match reason_from_name(&name) {
            Some(reason) => {
                rejections.insert(reason, count);
            }
            None => tracing::warn!(
                reason = name,
                "unknown rejection reason in the ledger, not shown"
            ),
        }
    }
    Ok(rejections)
}

pub(super) fn pledges(conn: &Connection) -> rusqlite::Result<Vec<Pledge>> {
    conn.prepare_cached(
        "SELECT sponsor, participations_per_book, book_cap FROM pledges ORDER BY id",
    )?
    .query_map([], |row| {
        Ok(Pledge {
            sponsor: row.get(0)?,
            participations_per_book: row.get(1)?,
            book_cap: row.get(2)?,
        })
    })?
    .collect()
}

pub(super) fn allocation_tables(conn: &Connection) -> rusqlite::Result<AllocationTables> {
    let funded: u64 = conn.query_row("SELECT COALESCE(MAX(book), 0) FROM books", [], |row| {
        row.get(0)
    })?;
    let seats = conn
        .prepare_cached("SELECT school_id, allocated FROM schools WHERE allocated > 0")?
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<rusqlite::Result<HashMap<String, u32>>>()?;
    let latest_list = match conn.query_row("SELECT MAX(version) FROM school_lists", [], |row| {
        row.get::<_, Option<u32>>(0)
    })? {
        None => None,
        Some(version) => {
            let candidates = conn
                .prepare_cached(
                    "SELECT school_id, pupils, target_books FROM school_list_entries \
                     WHERE version = ?1",
                )?
                .query_map([version], |row| {
                    Ok(Candidate {
                        school: row.get(0)?,
                        pupils: row.get(1)?,
                        cap: row.get(2)?,
                    })
                })?
                .collect::<rusqlite::Result<_>>()?;
            Some((version, candidates))
        }
    };
    Ok(AllocationTables {
        pledges: pledges(conn)?,
        funded,
        seats,
        latest_list,
    })
}

pub(super) fn allocation_since(
    conn: &Connection,
    funded: u64,
) -> rusqlite::Result<AllocationSince> {
    let pledges = conn.query_row("SELECT COUNT(*) FROM pledges", [], |row| row.get(0))?;
    let list_version = conn.query_row("SELECT MAX(version) FROM school_lists", [], |row| {
        row.get::<_, Option<u32>>(0)
    })?;
    let books = conn
        .prepare_cached("SELECT book, school_id FROM books WHERE book > ?1 ORDER BY book")?
        .query_map([funded], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(AllocationSince {
        pledges,
        list_version,
        books,
    })
}

/// The school whose id, name, province, prefecture, county and county code
/// are `row`'s columns from `first` on, in that order.
pub(super) fn school_from_row(row: &Row<'_>, first: usize) -> rusqlite::Result<SchoolRef> {
    Ok(SchoolRef {
        id: row.get(first)?,
        name: row.get(first + 1)?,
        province: row.get(first + 2)?,
        prefecture: row.get(first + 3)?,
        county: row.get(first + 4)?,
        county_code: row.get(first + 5)?,
    })
}

pub(super) fn book_schools(
    conn: &Connection,
    books: &[u64],
) -> rusqlite::Result<HashMap<u64, SchoolRef>> {
    let mut statement = conn.prepare_cached(
        "SELECT s.school_id, s.name, s.province, s.prefecture, s.county, s.county_code \
         FROM books b JOIN schools s ON s.school_id = b.school_id WHERE b.book = ?1",
    )?;
    let mut schools = HashMap::new();
    for &book in books {
        if let Some(school) = statement
            .query_row([book], |row| school_from_row(row, 0))
            .optional()?
        {
            schools.insert(book, school);
        }
    }
    Ok(schools)
}

/// `SELECT` of every column [`tally_from_row`] reads, then the receipt
/// secret.
pub(super) const SELECT_TALLY: &str = "SELECT school_id, name, province, prefecture, county, county_code, \
     pupils, target_books, allocated, shipped, received, receipt_secret FROM schools";

pub(super) fn tally_from_row(row: &Row<'_>) -> rusqlite::Result<SchoolTally> {
    Ok(SchoolTally {
        school: school_from_row(row, 0)?,
        pupils: row.get(6)?,
        target_books: row.get(7)?,
        allocated: row.get(8)?,
        shipped: row.get(9)?,
        received: row.get(10)?,
    })
}

pub(super) fn school(
    conn: &Connection,
    key: &SchoolKey,
) -> rusqlite::Result<Option<(SchoolTally, String)>> {
    let (sql, value) = match key {
        SchoolKey::Id(id) => (format!("{SELECT_TALLY} WHERE school_id = ?1"), id),
        SchoolKey::ReceiptSecret(secret) => {
            (format!("{SELECT_TALLY} WHERE receipt_secret = ?1"), secret)
        }
    };
    conn.prepare_cached(&sql)?
        .query_row([value], |row| Ok((tally_from_row(row)?, row.get(11)?)))
        .optional()
}

pub(super) fn book_state(row: &Row<'_>, column: usize) -> rusqlite::Result<BookState> {
    let status: String = row.get(column)?;
    BookState::from_name(&status)
        .ok_or_else(|| invalid_data(format!("unknown book status {status}")))
}

pub(super) fn school_books(
    conn: &Connection,
    school: &str,
) -> rusqlite::Result<Vec<(u64, BookState)>> {
    conn.prepare_cached("SELECT book, status FROM books WHERE school_id = ?1 ORDER BY book")?
        .query_map([school], |row| Ok((row.get(0)?, book_state(row, 1)?)))?
        .collect()
}

pub(super) fn school_tallies(conn: &Connection) -> rusqlite::Result<Vec<SchoolTally>> {
    conn.prepare_cached(SELECT_TALLY)?
        .query_map([], tally_from_row)?
        .collect()
}

pub(super) fn school_lists(conn: &Connection) -> rusqlite::Result<Vec<SchoolListVersion>> {
    let mut lists: Vec<SchoolListVersion> = conn
        .prepare("SELECT version, first_book FROM school_lists ORDER BY version")?
        .query_map([], |row| {
            Ok(SchoolListVersion {
                version: row.get(0)?,
                first_book: row.get(1)?,
                schools: Vec::new(),
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    let mut entries = conn.prepare(
        "SELECT version, school_id, name, province, prefecture, county, county_code, pupils, \
         target_books FROM school_list_entries ORDER BY version, school_id",
    )?;
    let mut rows = entries.query([])?;
    while let Some(row) = rows.next()? {
        let version: u32 = row.get(0)?;
        let school = ListedSchool {
            school: school_from_row(row, 1)?,
            pupils: row.get(7)?,
            target_books: row.get(8)?,
        };
        if let Some(list) = lists.iter_mut().find(|list| list.version == version) {
            list.schools.push(school);
        }
    }
    Ok(lists)
}

pub(super) fn books(conn: &Connection) -> rusqlite::Result<Vec<BookRecord>> {
    conn.prepare("SELECT book, status, school_id, list_version FROM books ORDER BY book")?
        .query_map([], |row| {
            Ok(BookRecord {
                book: row.get(0)?,
                status: book_state(row, 1)?,
                school: row.get(2)?,
                list_version: row.get(3)?,
            })
        })?
        .collect()
}

pub(super) fn shipped_books_of(conn: &Connection, school: &str) -> rusqlite::Result<Vec<u64>> {
    conn.prepare_cached(
        "SELECT book FROM books WHERE school_id = ?1 AND status = 'shipped' ORDER BY book",
    )?
    .query_map([school], |row| row.get(0))?
    .collect()
}

pub(super) fn next_shipment_id(conn: &Connection) -> rusqlite::Result<u64> {
    conn.query_row(
        "SELECT COALESCE(MAX(id), 0) + 1 FROM shipments",
        [],
        |row| row.get(0),
    )
}

/// A share code as stored (always written canonical by this server).
fn share_code(row: &Row<'_>, column: usize) -> rusqlite::Result<ShareCode> {
    let text: String = row.get(column)?;
    ShareCode::parse(&text).map_err(|error| invalid_data(format!("share code {text:?}: {error}")))
}

fn optional_share_code(row: &Row<'_>, column: usize) -> rusqlite::Result<Option<ShareCode>> {
    match row.get::<_, Option<String>>(column)? {
        None => Ok(None),
        Some(_) => share_code(row, column).map(Some),
    }
}

pub(super) fn players(
    conn: &Connection,
    players: &[PlayerId],
) -> rusqlite::Result<HashMap<PlayerId, PlayerRow>> {
    let mut statement = conn.prepare_cached(
        "SELECT share_code, participations, latest, referred_by FROM players WHERE player = ?1",
    )?;
    let mut found = HashMap::new();
    for &player in players {
        if let Some(row) = statement
            .query_row([player.to_bytes()], |row| {
                Ok(PlayerRow {
                    share_code: optional_share_code(row, 0)?,
                    participations: row.get(1)?,
                    latest: row.get(2)?,
                    referred_by: optional_share_code(row, 3)?,
                })
            })
            .optional()?
        {
            found.insert(player, row);
        }
    }
    Ok(found)
}

fn share_code_row(row: &Row<'_>, first: usize) -> rusqlite::Result<ShareCodeRow> {
    Ok(ShareCodeRow {
        owner: row
            .get::<_, Option<[u8; 16]>>(first)?
            .map(PlayerId::from_bytes),
        label: row.get(first + 1)?,
        referred_players: row.get(first + 2)?,
        participations: row.get(first + 3)?,
    })
}

pub(super) fn share_codes(
    conn: &Connection,
    codes: &[ShareCode],
) -> rusqlite::Result<HashMap<ShareCode, ShareCodeRow>> {
    let mut statement = conn.prepare_cached(
        "SELECT owner, label, referred_players, participations FROM share_codes WHERE code = ?1",
    )?;
    let mut found = HashMap::new();
    for &code in codes {
        if let Some(row) = statement
            .query_row([code.as_str()], |row| share_code_row(row, 0))
            .optional()?
        {
            found.insert(code, row);
        }
    }
    Ok(found)
}

pub(super) fn top_share_codes(
    conn: &Connection,
    limit: u32,
) -> rusqlite::Result<Vec<(ShareCode, ShareCodeRow)>> {
    conn.prepare_cached(
        "SELECT code, owner, label, referred_players, participations FROM share_codes \
         WHERE referred_players > 0 ORDER BY referred_players DESC, code LIMIT ?1",
    )?
    .query_map([limit], |row| {
        Ok((share_code(row, 0)?, share_code_row(row, 1)?))
    })?
    .collect()
}

pub(super) fn share_totals(conn: &Connection) -> rusqlite::Result<ShareDelta> {
    conn.prepare_cached("SELECT participations, referred_players FROM share_totals WHERE id = 1")?
        .query_row([], |row| {
            Ok(ShareDelta {
                participations: row.get(0)?,
                referred_players: row.get(1)?,
            })
        })
}

/// The parameters `?1` to `?9` of a statement that writes `listed`: its id,
/// name, province, prefecture, county, county code, pupils and target, then
/// `last`.
fn school_params<'a>(listed: &'a ListedSchool, last: &'a dyn ToSql) -> [&'a dyn ToSql; 9] {
    let school = &listed.school;
    [
        &school.id,
        &school.name,
        &school.province,
        &school.prefecture,
        &school.county,
        &school.county_code,
        &listed.pupils,
        &listed.target_books,
        last,
    ]
}

/// Writes `changes` (inside the caller's transaction).
pub(super) fn apply(conn: &Connection, changes: &Changes) -> rusqlite::Result<()> {
    let at_ms = changes.at_ms;
    if !changes.participations.is_empty() {
        let mut insert = conn.prepare_cached(INSERT_PARTICIPATION)?;
        for row in &changes.participations {
            insert_participation(&mut insert, row)?;
        }
    }
    if !changes.rejections.is_empty() {
        let mut insert = conn.prepare_cached(
            "INSERT INTO rejections (at_ms, reason, round_id, player) VALUES (?1, ?2, ?3, ?4)",
        )?;
        for rejection in &changes.rejections {
            insert.execute(params![
                rejection.at_ms,
                reason_name(rejection.reason),
                rejection.round.map(|round| round.to_bytes()),
                rejection.player.map(|player| player.to_bytes()),
            ])?;
        }
    }
    if let Some(pledge) = &changes.pledge {
        conn.execute(
            "INSERT INTO pledges (sponsor, participations_per_book, book_cap, pledged_at_ms) \
             VALUES (?1, ?2, ?3, ?4)",
            params![
                pledge.sponsor,
                pledge.participations_per_book,
                pledge.book_cap,
                at_ms
            ],
        )?;
    }
    if let Some(list) = &changes.school_list {
        conn.execute(
            "INSERT INTO school_lists (version, first_book, imported_at_ms, source) \
             VALUES (?1, ?2, ?3, ?4)",
            params![list.version, list.first_book, at_ms, list.source],
        )?;
        let mut entry = conn.prepare_cached(
            "INSERT INTO school_list_entries (school_id, name, province, prefecture, county, \
             county_code, pupils, target_books, version) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )?;
        // A school listed before keeps its receipt secret and its tallies.
        let mut school_row = conn.prepare_cached(
            "INSERT INTO schools (school_id, name, province, prefecture, county, county_code, \
             pupils, target_books, receipt_secret) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) \
             ON CONFLICT (school_id) DO UPDATE SET name = excluded.name, \
             province = excluded.province, prefecture = excluded.prefecture, \
             county = excluded.county, county_code = excluded.county_code, \
             pupils = excluded.pupils, target_books = excluded.target_books",
        )?;
        for school in &list.schools {
            entry.execute(school_params(school, &list.version))?;
            let secret = list.receipt_secrets.get(&school.school.id).ok_or_else(|| {
                invalid_data(format!("no receipt secret for {}", school.school.id))
            })?;
            school_row.execute(school_params(school, secret))?;
        }
    }
    if !changes.shipments.is_empty() {
        let mut insert = conn.prepare_cached(
            "INSERT INTO shipments (id, shipped_at_ms, first_book, last_book, books, note, \
             school_id, carrier, tracking, shipped_on) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        )?;
        for shipment in &changes.shipments {
            let range = shipment.range();
            insert.execute(params![
                shipment.id,
                at_ms,
                range.start(),
                range.end(),
                shipment.books.len() as u64,
                shipment.details.note,
                shipment.school,
                shipment.details.carrier,
                shipment.details.tracking,
                shipment.shipped_on,
            ])?;
        }
    }
    if let Some(funded) = &changes.funded {
        let mut insert = conn.prepare_cached(
            "INSERT INTO books (book, status, funded_at_ms) VALUES (?1, 'funded', ?2)",
        )?;
        for book in funded.clone() {
            insert.execute(params![book, at_ms])?;
        }
    }
    if !changes.allocations.is_empty() {
        let mut allocate = conn.prepare_cached(
            "UPDATE books SET status = 'allocated', school_id = ?2, list_version = ?3, \
             allocated_at_ms = ?4 WHERE book = ?1",
        )?;
        for allocation in &changes.allocations {
            allocate.execute(params![
                allocation.book,
                allocation.school,
                allocation.list_version,
                at_ms
            ])?;
        }
    }
    if !changes.shipments.is_empty() {
        let mut ship = conn
            .prepare_cached("UPDATE books SET status = 'shipped', shipment = ?2 WHERE book = ?1")?;
        for shipment in &changes.shipments {
            for book in &shipment.books {
                ship.execute(params![book, shipment.id])?;
            }
        }
    }
    if !changes.received.is_empty() {
        let mut receive = conn.prepare_cached(
            "UPDATE books SET status = 'received', received_at_ms = ?2 WHERE book = ?1",
        )?;
        for book in &changes.received {
            receive.execute(params![book, at_ms])?;
        }
    }
    if !changes.share_codes.is_empty() {
        let mut insert = conn
            .prepare_cached("INSERT INTO share_codes (code, owner, label) VALUES (?1, ?2, ?3)")?;
        for new in &changes.share_codes {
            insert.execute(params![
                new.code.as_str(),
                new.owner.map(|player| player.to_bytes()),
                new.label
            ])?;
        }
    }
    if !changes.players.is_empty() {
        let mut insert = conn.prepare_cached(
            "INSERT INTO players (player, share_code, participations, latest, referred_by) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )?;
        let mut update = conn.prepare_cached(
            "UPDATE players SET participations = participations + ?2, latest = ?3, \
             share_code = COALESCE(share_code, ?4) WHERE player = ?1",
        )?;
        for (player, change) in &changes.players {
            let (code, referred_by) = change.new_code.unzip();
            let code = code.map(|code| code.to_string());
            if change.first_time {
                insert.execute(params![
                    player.to_bytes(),
                    code,
                    change.participations,
                    change.latest,
                    referred_by.flatten().map(|code| code.to_string()),
                ])?;
            } else {
                update.execute(params![
                    player.to_bytes(),
                    change.participations,
                    change.latest,
                    code
                ])?;
            }
        }
    }
    if !changes.confirmed_shipments.is_empty() {
        let mut confirm =
            conn.prepare_cached("UPDATE shipments SET confirmed_at_ms = ?2 WHERE id = ?1")?;
        for shipment in &changes.confirmed_shipments {
            confirm.execute(params![shipment, at_ms])?;
        }
    }
    apply_tallies(conn, changes)?;
    super::admin_queries::apply_day_tallies(conn, changes)?;
    super::admin_queries::insert_audit(conn, &changes.audit)?;
    set_head(conn, changes.head)
}

/// Inserts `row` with `insert`, a statement prepared from
/// [`INSERT_PARTICIPATION`].
pub(super) fn insert_participation(
    insert: &mut rusqlite::Statement<'_>,
    row: &NewRow,
) -> rusqlite::Result<()> {
    insert.execute(params![
        row.number,
        row.round.to_bytes(),
        row.player.to_bytes(),
        row.referral.as_ref().map(|code| code.as_str()),
        row.finished_at_ms,
        row.day,
        row.day_count,
        row.outcome.score,
        row.outcome.books_caught,
        row.outcome.ticks_played,
        row.outcome.state_hash.cast_signed(),
        row.rules_version,
        row.idempotency_key.as_str(),
        row.fingerprint.as_bytes(),
    ])?;
    Ok(())
}

/// Moves the head to `head`, if a transaction set one.
pub(super) fn set_head(conn: &Connection, head: Option<Head>) -> rusqlite::Result<()> {
    if let Some(head) = head {
        conn.prepare_cached("UPDATE ledger_head SET next_number = ?1, revision = ?2 WHERE id = 1")?
            .execute(params![head.next_number, head.revision])?;
    }
    Ok(())
}

/// Writes the tallies `changes` moved.
pub(super) fn apply_tallies(conn: &Connection, changes: &Changes) -> rusqlite::Result<()> {
    if !changes.day_counts.is_empty() {
        let mut days = conn.prepare_cached(
            "INSERT INTO day_tallies (day, participations) VALUES (?1, ?2) \
             ON CONFLICT (day) DO UPDATE SET participations = excluded.participations",
        )?;
        for (day, count) in &changes.day_counts {
            days.execute(params![day, count])?;
        }
    }
    if !changes.share_increments.is_empty() {
        let mut codes = conn.prepare_cached(
            "UPDATE share_codes SET referred_players = referred_players + ?2, \
             participations = participations + ?3 WHERE code = ?1",
        )?;
        for (code, delta) in &changes.share_increments {
            codes.execute(params![
                code.as_str(),
                delta.referred_players,
                delta.participations
            ])?;
        }
        conn.prepare_cached(
            "UPDATE share_totals SET referred_players = referred_players + ?1, \
             participations = participations + ?2 WHERE id = 1",
        )?
        .execute(params![
            changes.share_totals.referred_players,
            changes.share_totals.participations
        ])?;
    }
    if !changes.rejection_increments.is_empty() {
        let mut rejections = conn.prepare_cached(
            "INSERT INTO rejection_tallies (reason, rejections) VALUES (?1, ?2) \
             ON CONFLICT (reason) DO UPDATE SET rejections = rejections + excluded.rejections",
        )?;
        for (reason, increment) in &changes.rejection_increments {
            rejections.execute(params![reason_name(*reason), increment])?;
        }
    }
    if !changes.school_deltas.is_empty() {
        let mut schools = conn.prepare_cached(
            "UPDATE schools SET allocated = allocated + ?2, shipped = shipped + ?3, \
             received = received + ?4 WHERE school_id = ?1",
        )?;
        for (school, delta) in &changes.school_deltas {
            schools.execute(params![
                school,
                delta.allocated,
                delta.shipped,
                delta.received
            ])?;
        }
    }
    Ok(())
}
