//! The allocation's tables: loading the in-memory [`Allocator`] from them,
//! writing what it decides, and the admin actions (pledge, import, ship,
//! receive), the export and the report.
//!
//! Every function here runs inside a transaction the caller holds, so a
//! book, its school's tally and the participation or action that moved them
//! commit together. Admin actions may come from another process (the CLI)
//! while a server runs: they take SQLite's write lock and rebuild the
//! allocator from the tables, and the server's writer notices the change
//! (`PRAGMA data_version`) and rebuilds its own before its next batch.

use std::collections::{BTreeMap, HashMap};
use std::ops::RangeInclusive;

use rusqlite::{Connection, OptionalExtension, Row, ToSql, params};
use serde::Serialize;
use sim::wire::{BookStatus, SchoolRef};

use crate::allocation::{
    Allocator, BookProgress, BookRecord, BookState, Candidate, Funding, ListedSchool, OpenData,
    Pledge, PledgeSchedule, Report, SchoolListVersion, SchoolTally,
};

/// What an import did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportOutcome {
    /// The new list version.
    pub version: u32,
    /// The first book it applies to.
    pub first_book: u64,
    /// Schools in it.
    pub schools: usize,
    /// Funded books that were waiting for a school and got one.
    pub books_allocated: usize,
}

/// What a pledge did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PledgeOutcome {
    /// The pledge's position in the order of use, from 1.
    pub order: u64,
    /// Books funded at once by participations that were waiting for it.
    pub books_funded: u64,
    /// Books allocated at once.
    pub books_allocated: usize,
    /// Books every pledge together funds.
    pub books_pledged: u64,
}

/// What a shipment did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ShipOutcome {
    /// The shipment's id.
    pub shipment: u64,
    /// Books of the range moved from allocated to shipped (others in the
    /// range were not allocated yet, or already shipped).
    pub books_shipped: u64,
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

/// The pledges, in order of use.
fn load_schedule(conn: &Connection) -> rusqlite::Result<PledgeSchedule> {
    let mut statement = conn.prepare_cached(
        "SELECT sponsor, participations_per_book, book_cap FROM pledges ORDER BY id",
    )?;
    let pledges = statement
        .query_map([], |row| {
            Ok(Pledge {
                sponsor: row.get(0)?,
                participations_per_book: row.get(1)?,
                book_cap: row.get(2)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    // The table's CHECKs and `add_pledge` keep every stored pledge valid.
    PledgeSchedule::new(pledges).map_err(|error| invalid_data(error.to_string()))
}

/// The latest list version and its schools, if any list was imported.
fn load_latest_list(conn: &Connection) -> rusqlite::Result<Option<(u32, Vec<Candidate>)>> {
    let Some(version) = conn.query_row("SELECT MAX(version) FROM school_lists", [], |row| {
        row.get::<_, Option<u32>>(0)
    })?
    else {
        return Ok(None);
    };
    let mut statement = conn.prepare_cached(
        "SELECT school_id, pupils, target_books FROM school_list_entries WHERE version = ?1",
    )?;
    let candidates = statement
        .query_map([version], |row| {
            Ok(Candidate {
                school: row.get(0)?,
                pupils: row.get(1)?,
                cap: row.get(2)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(Some((version, candidates)))
}

/// Rebuilds the allocator from the tables: O(schools + pledges), no book
/// is read (seats held come from the schools' tallies).
pub(super) fn load_allocator(conn: &Connection) -> rusqlite::Result<Allocator> {
    let schedule = load_schedule(conn)?;
    let funded: u64 = conn.query_row("SELECT COALESCE(MAX(book), 0) FROM books", [], |row| {
        row.get(0)
    })?;
    let mut statement =
        conn.prepare_cached("SELECT school_id, allocated FROM schools WHERE allocated > 0")?;
    let seats = statement
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<rusqlite::Result<HashMap<String, u32>>>()?;
    Ok(Allocator::resume(
        schedule,
        funded,
        seats,
        load_latest_list(conn)?,
    ))
}

/// Writes what the allocator decided: new book rows, their schools, and the
/// schools' tallies.
pub(super) fn store_funding(
    conn: &Connection,
    funding: &Funding,
    now_ms: u64,
) -> rusqlite::Result<()> {
    if let Some(funded) = &funding.funded {
        let mut insert = conn.prepare_cached(
            "INSERT INTO books (book, status, funded_at_ms) VALUES (?1, 'funded', ?2)",
        )?;
        for book in funded.clone() {
            insert.execute(params![book, now_ms])?;
        }
    }
    let mut allocate = conn.prepare_cached(
        "UPDATE books SET status = 'allocated', school_id = ?2, list_version = ?3 WHERE book = ?1",
    )?;
    let mut tally =
        conn.prepare_cached("UPDATE schools SET allocated = allocated + 1 WHERE school_id = ?1")?;
    for allocation in &funding.allocated {
        allocate.execute(params![
            allocation.book,
            allocation.school,
            allocation.list_version
        ])?;
        tally.execute([&allocation.school])?;
    }
    Ok(())
}

/// The wire status of a participation whose book stands at `progress`.
pub(super) fn book_status(
    conn: &Connection,
    progress: BookProgress,
) -> rusqlite::Result<BookStatus> {
    Ok(match progress {
        BookProgress::AwaitingSponsor => BookStatus::AwaitingSponsor,
        BookProgress::Filling {
            book,
            participations_needed,
        } => BookStatus::Filling {
            book,
            participations_needed,
        },
        BookProgress::Unallocated { book } => BookStatus::Funded { book },
        // `current_statuses` treats every funded book as allocated and lets
        // the book's row say whether it has a school.
        BookProgress::Allocated { book } => match book_school(conn, book)? {
            Some(school) => BookStatus::Allocated { book, school },
            None => BookStatus::Funded { book },
        },
    })
}

/// The school of `book`, if it has one.
fn book_school(conn: &Connection, book: u64) -> rusqlite::Result<Option<SchoolRef>> {
    conn.prepare_cached(
        "SELECT s.school_id, s.name, s.province, s.prefecture, s.county, s.county_code \
         FROM books b JOIN schools s ON s.school_id = b.school_id WHERE b.book = ?1",
    )?
    .query_row([book], |row| school_from_row(row, 0))
    .optional()
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

/// The school whose id, name, province, prefecture, county and county code
/// are `row`'s columns from `first` on, in that order.
fn school_from_row(row: &Row<'_>, first: usize) -> rusqlite::Result<SchoolRef> {
    Ok(SchoolRef {
        id: row.get(first)?,
        name: row.get(first + 1)?,
        province: row.get(first + 2)?,
        prefecture: row.get(first + 3)?,
        county: row.get(first + 4)?,
        county_code: row.get(first + 5)?,
    })
}

/// What participations `numbers` stand for now, on a read connection (one
/// consistent snapshot: the caller runs this inside one read).
pub(super) fn current_statuses(
    conn: &Connection,
    numbers: impl IntoIterator<Item = u64>,
) -> rusqlite::Result<Vec<BookStatus>> {
    let schedule = load_schedule(conn)?;
    let counted: u64 = conn.query_row(
        "SELECT COALESCE(MAX(seq), 0) FROM participations",
        [],
        |row| row.get(0),
    )?;
    numbers
        .into_iter()
        .map(|number| {
            // Whether the book has a school is read from its row, so the
            // allocated prefix is not needed: treat every funded book as
            // allocated and let `book_status` find out.
            let progress =
                crate::allocation::allocator::progress(&schedule, number, counted, u64::MAX);
            book_status(conn, progress)
        })
        .collect()
}

/// Adds a pledge and funds (and allocates) what it covers at once.
pub(super) fn add_pledge(
    conn: &Connection,
    pledge: Pledge,
    now_ms: u64,
) -> rusqlite::Result<Result<PledgeOutcome, crate::allocation::PledgeError>> {
    let mut allocator = load_allocator(conn)?;
    let counted = counted(conn)?;
    let funded_before = allocator.funded();
    let funding = match allocator.pledge(pledge.clone(), counted) {
        Ok(funding) => funding,
        Err(error) => return Ok(Err(error)),
    };
    conn.execute(
        "INSERT INTO pledges (sponsor, participations_per_book, book_cap, pledged_at_ms) \
         VALUES (?1, ?2, ?3, ?4)",
        params![
            pledge.sponsor,
            pledge.participations_per_book,
            pledge.book_cap,
            now_ms
        ],
    )?;
    store_funding(conn, &funding, now_ms)?;
    Ok(Ok(PledgeOutcome {
        order: allocator.schedule().pledges().count() as u64,
        books_funded: allocator.funded() - funded_before,
        books_allocated: funding.allocated.len(),
        books_pledged: allocator.schedule().books(),
    }))
}

/// Participations counted.
fn counted(conn: &Connection) -> rusqlite::Result<u64> {
    conn.query_row(
        "SELECT COALESCE(MAX(seq), 0) FROM participations",
        [],
        |row| row.get(0),
    )
}

/// Imports a new version of the school list (applied from the first book
/// without a school), creates receipt secrets for schools new to the
/// campaign, and allocates funded books that were waiting for a school.
pub(super) fn import_list(
    conn: &Connection,
    source: &str,
    schools: &[ListedSchool],
    now_ms: u64,
) -> Result<ImportOutcome, super::StoreError> {
    let mut allocator = load_allocator(conn).map_err(super::backend)?;
    let version: u32 = conn
        .query_row(
            "SELECT COALESCE(MAX(version), 0) + 1 FROM school_lists",
            [],
            |row| row.get(0),
        )
        .map_err(super::backend)?;
    let (first_book, funding) = allocator.apply_list(
        version,
        schools.iter().map(ListedSchool::candidate).collect(),
    );
    conn.execute(
        "INSERT INTO school_lists (version, first_book, imported_at_ms, source) VALUES (?1, ?2, ?3, ?4)",
        params![version, first_book, now_ms, source],
    )
    .map_err(super::backend)?;
    {
        let mut entry = conn
            .prepare_cached(
                "INSERT INTO school_list_entries (school_id, name, province, prefecture, county, \
                 county_code, pupils, target_books, version) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )
            .map_err(super::backend)?;
        let mut school_row = conn
            .prepare_cached(
                "INSERT INTO schools (school_id, name, province, prefecture, county, county_code, \
                 pupils, target_books, receipt_secret) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) \
                 ON CONFLICT (school_id) DO UPDATE SET name = excluded.name, \
                 province = excluded.province, prefecture = excluded.prefecture, \
                 county = excluded.county, county_code = excluded.county_code, \
                 pupils = excluded.pupils, target_books = excluded.target_books",
            )
            .map_err(super::backend)?;
        for school in schools {
            entry
                .execute(school_params(school, &version))
                .map_err(super::backend)?;
            school_row
                .execute(school_params(school, &receipt_secret()?))
                .map_err(super::backend)?;
        }
    }
    store_funding(conn, &funding, now_ms).map_err(super::backend)?;
    Ok(ImportOutcome {
        version,
        first_book,
        schools: schools.len(),
        books_allocated: funding.allocated.len(),
    })
}

/// A fresh, unguessable secret for a school's receipt link: 128 random
/// bits, hex.
fn receipt_secret() -> Result<String, super::StoreError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)
        .map_err(|error| super::StoreError::Backend(error.to_string().into()))?;
    Ok(hex::encode(bytes))
}

/// Marks the allocated books of `books` shipped, as one shipment.
pub(super) fn ship(
    conn: &Connection,
    books: RangeInclusive<u64>,
    note: Option<&str>,
    now_ms: u64,
) -> rusqlite::Result<ShipOutcome> {
    conn.execute(
        "INSERT INTO shipments (shipped_at_ms, first_book, last_book, books, note) VALUES (?1, ?2, ?3, 0, ?4)",
        params![now_ms, books.start(), books.end(), note],
    )?;
    let shipment = conn.last_insert_rowid().cast_unsigned();
    let mut per_school: BTreeMap<String, u64> = BTreeMap::new();
    {
        let mut update = conn.prepare_cached(
            "UPDATE books SET status = 'shipped', shipment = ?3 \
             WHERE book BETWEEN ?1 AND ?2 AND status = 'allocated' RETURNING school_id",
        )?;
        let mut rows = update.query(params![books.start(), books.end(), shipment])?;
        while let Some(row) = rows.next()? {
            *per_school.entry(row.get(0)?).or_default() += 1;
        }
    }
    let mut tally =
        conn.prepare_cached("UPDATE schools SET shipped = shipped + ?2 WHERE school_id = ?1")?;
    for (school, count) in &per_school {
        tally.execute(params![school, count])?;
    }
    let books_shipped = per_school.values().sum();
    conn.execute(
        "UPDATE shipments SET books = ?2 WHERE id = ?1",
        params![shipment, books_shipped],
    )?;
    Ok(ShipOutcome {
        shipment,
        books_shipped,
    })
}

/// Marks every shipped book of the school whose receipt secret is `secret`
/// received. `None` when no school has that secret.
pub(super) fn receive(
    conn: &Connection,
    secret: &str,
    now_ms: u64,
) -> rusqlite::Result<Option<(String, u64)>> {
    let Some(school) = school_id_by_secret(conn, secret)? else {
        return Ok(None);
    };
    let received = conn
        .prepare_cached(
            "UPDATE books SET status = 'received', received_at_ms = ?2 \
             WHERE school_id = ?1 AND status = 'shipped'",
        )?
        .execute(params![school, now_ms])? as u64;
    conn.prepare_cached("UPDATE schools SET received = received + ?2 WHERE school_id = ?1")?
        .execute(params![school, received])?;
    Ok(Some((school, received)))
}

fn school_id_by_secret(conn: &Connection, secret: &str) -> rusqlite::Result<Option<String>> {
    conn.prepare_cached("SELECT school_id FROM schools WHERE receipt_secret = ?1")?
        .query_row([secret], |row| row.get(0))
        .optional()
}

/// `SELECT` of every column [`tally_from_row`] reads.
const SELECT_TALLY: &str = "SELECT school_id, name, province, prefecture, county, county_code, \
     pupils, target_books, allocated, shipped, received FROM schools";

fn tally_from_row(row: &Row<'_>) -> rusqlite::Result<SchoolTally> {
    Ok(SchoolTally {
        school: school_from_row(row, 0)?,
        pupils: row.get(6)?,
        target_books: row.get(7)?,
        allocated: row.get(8)?,
        shipped: row.get(9)?,
        received: row.get(10)?,
    })
}

/// A school and its books, by id, or by receipt secret.
pub(super) fn school_books(
    conn: &Connection,
    id: Option<&str>,
    secret: Option<&str>,
) -> rusqlite::Result<Option<SchoolBooks>> {
    let id = match (id, secret) {
        (Some(id), _) => id.to_owned(),
        (None, Some(secret)) => match school_id_by_secret(conn, secret)? {
            Some(id) => id,
            None => return Ok(None),
        },
        (None, None) => return Ok(None),
    };
    let Some(tally) = conn
        .prepare_cached(&format!("{SELECT_TALLY} WHERE school_id = ?1"))?
        .query_row([&id], tally_from_row)
        .optional()?
    else {
        return Ok(None);
    };
    let mut statement =
        conn.prepare_cached("SELECT book, status FROM books WHERE school_id = ?1 ORDER BY book")?;
    let books = statement
        .query_map([&id], |row| {
            let status: String = row.get(1)?;
            let state = BookState::from_name(&status)
                .ok_or_else(|| invalid_data(format!("unknown book status {status}")))?;
            Ok((row.get(0)?, state))
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(Some(SchoolBooks { tally, books }))
}

/// The public report, from the schools' tallies (one row per school; no
/// book is read).
pub(super) fn report(conn: &Connection) -> rusqlite::Result<Report> {
    let schedule = load_schedule(conn)?;
    let participations = counted(conn)?;
    let mut statement = conn.prepare_cached(SELECT_TALLY)?;
    let schools = statement
        .query_map([], tally_from_row)?
        .collect::<rusqlite::Result<_>>()?;
    Ok(Report::build(
        participations,
        schedule.books_funded(participations),
        schedule.books(),
        schools,
    ))
}

/// Everything `server verify` needs, as published.
pub(super) fn export(conn: &Connection) -> rusqlite::Result<OpenData> {
    let schedule = load_schedule(conn)?;
    let participations = counted(conn)?;
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
    let books = conn
        .prepare("SELECT book, status, school_id, list_version FROM books ORDER BY book")?
        .query_map([], |row| {
            let status: String = row.get(1)?;
            Ok(BookRecord {
                book: row.get(0)?,
                status: BookState::from_name(&status)
                    .ok_or_else(|| invalid_data(format!("unknown book status {status}")))?,
                school: row.get(2)?,
                list_version: row.get(3)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(OpenData {
        participations,
        pledges: schedule.pledges().cloned().collect(),
        school_lists: lists,
        books,
    })
}

/// A stored value this build cannot read.
fn invalid_data(message: String) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, message.into())
}
