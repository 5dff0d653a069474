//! The SQL of the admin console: the ledger questions its actions ask
//! ([`LedgerRead`](crate::store::backend::LedgerRead)'s shipment and
//! county questions), every [`ConsoleRead`](crate::store::backend::ConsoleRead)
//! question, and the writes of an accounts transaction and of the per-day
//! tallies. No decision is made here.

use std::collections::{BTreeMap, HashMap};

use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, Row, params, params_from_iter};
use sim::wire::RejectReason;

use super::queries::{SELECT_TALLY, book_state, invalid_data, school_from_row, tally_from_row};
use crate::allocation::{ListedSchool, Pledge, SchoolTally};
use crate::domain::{ChinaDay, Role, UserId, UserName};
use crate::error::{reason_from_name, reason_name};
use crate::store::admin::{
    Actor, ActorKind, AreaFilter, AuditAction, AuditEntry, AuditFilter, AuditRecord, BookLifecycle,
    BookSelection, CountySummary, Credentials, FailedSignIns, ListInfo, Movement, Page,
    PasswordHash, PledgeRecord, SessionRecord, ShipmentDetails, ShipmentFilter, ShipmentRecord,
    Unshipped, User, Window,
};
use crate::store::backend::{AccountChanges, Changes};

/// `u64` → SQLite's `i64`, saturating (limits and offsets).
fn sql_int(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

pub(super) fn allocated_books(
    conn: &Connection,
    selection: &BookSelection,
) -> rusqlite::Result<Vec<(u64, String)>> {
    let row = |row: &Row<'_>| Ok((row.get(0)?, row.get(1)?));
    match selection {
        BookSelection::School(school) => conn
            .prepare_cached(
                "SELECT book, school_id FROM books WHERE school_id = ?1 AND status = 'allocated' \
                 ORDER BY book",
            )?
            .query_map([school], row)?
            .collect(),
        BookSelection::County(code) => conn
            .prepare_cached(
                "SELECT b.book, b.school_id FROM schools s \
                 JOIN books b ON b.school_id = s.school_id \
                 WHERE s.county_code = ?1 AND b.status = 'allocated' ORDER BY b.book",
            )?
            .query_map([code], row)?
            .collect(),
        BookSelection::Books(range) => conn
            .prepare_cached(
                "SELECT book, school_id FROM books WHERE book BETWEEN ?1 AND ?2 \
                 AND status = 'allocated' ORDER BY book",
            )?
            .query_map(params![range.start(), range.end()], row)?
            .collect(),
    }
}

pub(super) fn school_counties(
    conn: &Connection,
    schools: &[String],
) -> rusqlite::Result<HashMap<String, String>> {
    let mut statement =
        conn.prepare_cached("SELECT county_code FROM schools WHERE school_id = ?1")?;
    let mut counties = HashMap::with_capacity(schools.len());
    for school in schools {
        if let Some(code) = statement
            .query_row([school], |row| row.get::<_, String>(0))
            .optional()?
        {
            counties.insert(school.clone(), code);
        }
    }
    Ok(counties)
}

pub(super) fn unconfirmed_shipments_of(
    conn: &Connection,
    school: &str,
) -> rusqlite::Result<Vec<u64>> {
    conn.prepare_cached(
        "SELECT id FROM shipments WHERE school_id = ?1 AND confirmed_at_ms IS NULL ORDER BY id",
    )?
    .query_map([school], |row| row.get(0))?
    .collect()
}

/// Writes the per-day tallies `changes` moved.
pub(super) fn apply_day_tallies(conn: &Connection, changes: &Changes) -> rusqlite::Result<()> {
    if !changes.school_days.is_empty() {
        let mut schools = conn.prepare_cached(
            "INSERT INTO school_day_tallies (school_id, day, allocated, shipped, received) \
             VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (school_id, day) DO UPDATE SET \
             allocated = allocated + excluded.allocated, shipped = shipped + excluded.shipped, \
             received = received + excluded.received",
        )?;
        for ((school, day), delta) in &changes.school_days {
            schools.execute(params![
                school,
                day,
                delta.allocated,
                delta.shipped,
                delta.received
            ])?;
        }
    }
    if !changes.county_days.is_empty() {
        let mut counties = conn.prepare_cached(
            "INSERT INTO county_day_tallies (day, county_code, allocated, shipped, received) \
             VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (day, county_code) DO UPDATE SET \
             allocated = allocated + excluded.allocated, shipped = shipped + excluded.shipped, \
             received = received + excluded.received",
        )?;
        for ((county, day), delta) in &changes.county_days {
            counties.execute(params![
                day,
                county,
                delta.allocated,
                delta.shipped,
                delta.received
            ])?;
        }
    }
    if !changes.rejection_days.is_empty() {
        let mut rejections = conn.prepare_cached(
            "INSERT INTO rejection_day_tallies (day, reason, rejections) VALUES (?1, ?2, ?3) \
             ON CONFLICT (day, reason) DO UPDATE SET rejections = rejections + excluded.rejections",
        )?;
        for ((day, reason), count) in &changes.rejection_days {
            rejections.execute(params![day, reason_name(*reason), count])?;
        }
    }
    Ok(())
}

/// Appends `entries` to the audit log.
pub(super) fn insert_audit(conn: &Connection, entries: &[AuditEntry]) -> rusqlite::Result<()> {
    if entries.is_empty() {
        return Ok(());
    }
    let mut insert = conn.prepare_cached(
        "INSERT INTO audit_log (at_ms, actor_kind, actor, user_id, address, action, target, \
         detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?;
    for entry in entries {
        insert.execute(params![
            entry.at_ms,
            entry.actor.kind.name(),
            entry.actor.name,
            entry.actor.user.map(|id| id.0),
            entry.actor.address,
            entry.action.name(),
            entry.target,
            entry.detail,
        ])?;
    }
    Ok(())
}

/// Writes an accounts transaction's `changes`.
pub(super) fn apply_accounts(conn: &Connection, changes: &AccountChanges) -> rusqlite::Result<()> {
    let at_ms = changes.at_ms;
    if let Some((name, role, hash)) = &changes.new_user {
        conn.execute(
            "INSERT INTO users (name, role, password_hash, created_at_ms, password_changed_at_ms) \
             VALUES (?1, ?2, ?3, ?4, ?4)",
            params![name.as_str(), role.name(), hash.as_str(), at_ms],
        )?;
    }
    for update in &changes.user_updates {
        let name = update.name.as_str();
        if let Some(role) = update.role {
            conn.execute(
                "UPDATE users SET role = ?2 WHERE name = ?1",
                params![name, role.name()],
            )?;
        }
        if let Some(disabled) = update.disabled {
            conn.execute(
                "UPDATE users SET disabled = ?2 WHERE name = ?1",
                params![name, disabled],
            )?;
        }
        if let Some(hash) = &update.password_hash {
            conn.execute(
                "UPDATE users SET password_hash = ?2, password_changed_at_ms = ?3 WHERE name = ?1",
                params![name, hash.as_str(), at_ms],
            )?;
        }
    }
    for token_hash in &changes.end_sessions {
        conn.execute(
            "DELETE FROM sessions WHERE token_hash = ?1",
            [token_hash.as_slice()],
        )?;
    }
    for name in &changes.end_sessions_of {
        conn.execute(
            "DELETE FROM sessions WHERE user_id = (SELECT id FROM users WHERE name = ?1)",
            [name.as_str()],
        )?;
    }
    if let Some(session) = &changes.new_session {
        conn.execute(
            "INSERT INTO sessions (token_hash, user_id, csrf_token, address, created_at_ms, \
             last_seen_at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
            params![
                session.token_hash.as_slice(),
                session.user.0,
                session.csrf_token,
                session.address,
                at_ms
            ],
        )?;
    }
    if let Some(token_hash) = &changes.touch {
        conn.execute(
            "UPDATE sessions SET last_seen_at_ms = ?2 WHERE token_hash = ?1",
            params![token_hash.as_slice(), at_ms],
        )?;
    }
    insert_audit(conn, &changes.audit)
}

/// The columns [`user_from_row`] reads, then the password hash.
const USER_COLUMNS: &str = "u.id, u.name, u.role, u.disabled, u.created_at_ms, \
     u.password_changed_at_ms, u.password_hash";

fn user_from_row(row: &Row<'_>) -> rusqlite::Result<User> {
    let name: String = row.get(1)?;
    let role: String = row.get(2)?;
    Ok(User {
        id: UserId(row.get(0)?),
        name: UserName::parse(&name).map_err(|error| invalid_data(error.to_string()))?,
        role: Role::parse(&role).map_err(|error| invalid_data(error.to_string()))?,
        disabled: row.get(3)?,
        created_at_ms: row.get(4)?,
        password_changed_at_ms: row.get(5)?,
    })
}

pub(super) fn credentials(
    conn: &Connection,
    name: &UserName,
) -> rusqlite::Result<Option<Credentials>> {
    conn.prepare_cached(&format!(
        "SELECT {USER_COLUMNS} FROM users u WHERE u.name = ?1"
    ))?
    .query_row([name.as_str()], |row| {
        Ok(Credentials {
            user: user_from_row(row)?,
            password_hash: PasswordHash::new(row.get(6)?)
                .map_err(|error| invalid_data(error.to_string()))?,
        })
    })
    .optional()
}

pub(super) fn users(conn: &Connection) -> rusqlite::Result<Vec<User>> {
    conn.prepare_cached(&format!(
        "SELECT {USER_COLUMNS} FROM users u ORDER BY u.name"
    ))?
    .query_map([], user_from_row)?
    .collect()
}

pub(super) fn session(
    conn: &Connection,
    token_hash: &[u8; 32],
) -> rusqlite::Result<Option<SessionRecord>> {
    conn.prepare_cached(&format!(
        "SELECT {USER_COLUMNS}, s.csrf_token, s.created_at_ms, s.last_seen_at_ms \
         FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?1"
    ))?
    .query_row([token_hash.as_slice()], |row| {
        Ok(SessionRecord {
            user: user_from_row(row)?,
            csrf_token: row.get(7)?,
            created_at_ms: row.get(8)?,
            last_seen_at_ms: row.get(9)?,
        })
    })
    .optional()
}

pub(super) fn failed_sign_ins(
    conn: &Connection,
    name: &str,
    address: &str,
    since_ms: u64,
) -> rusqlite::Result<FailedSignIns> {
    let for_name = conn
        .prepare_cached(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'sign_in_failed' AND actor = ?1 \
             AND at_ms >= ?2",
        )?
        .query_row(params![name, since_ms], |row| row.get(0))?;
    let from_address = conn
        .prepare_cached(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'sign_in_failed' AND address = ?1 \
             AND at_ms >= ?2",
        )?
        .query_row(params![address, since_ms], |row| row.get(0))?;
    Ok(FailedSignIns {
        for_name,
        from_address,
    })
}

pub(super) fn audit_log(
    conn: &Connection,
    filter: &AuditFilter,
    window: Window,
) -> rusqlite::Result<Page<AuditRecord>> {
    let mut conditions = Vec::new();
    let mut values: Vec<Value> = Vec::new();
    if let Some(action) = filter.action {
        values.push(Value::Text(action.name().to_owned()));
        conditions.push(format!("action = ?{}", values.len()));
    }
    if let Some(actor) = &filter.actor {
        values.push(Value::Text(actor.clone()));
        conditions.push(format!("actor = ?{}", values.len()));
    }
    if let Some(from) = filter.from_ms {
        values.push(Value::Integer(sql_int(from)));
        conditions.push(format!("at_ms >= ?{}", values.len()));
    }
    if let Some(until) = filter.until_ms {
        values.push(Value::Integer(sql_int(until)));
        conditions.push(format!("at_ms < ?{}", values.len()));
    }
    let condition = if conditions.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", conditions.join(" AND "))
    };
    let total = conn
        .prepare_cached(&format!("SELECT COUNT(*) FROM audit_log {condition}"))?
        .query_row(params_from_iter(&values), |row| row.get(0))?;
    values.push(Value::Integer(sql_int(window.limit)));
    values.push(Value::Integer(sql_int(window.offset)));
    let limit = values.len() - 1;
    let rows = conn
        .prepare_cached(&format!(
            "SELECT id, at_ms, actor_kind, actor, user_id, address, action, target, detail \
             FROM audit_log {condition} ORDER BY id DESC LIMIT ?{limit} OFFSET ?{}",
            limit + 1
        ))?
        .query_map(params_from_iter(&values), |row| {
            let kind: String = row.get(2)?;
            let action: String = row.get(6)?;
            Ok(AuditRecord {
                id: row.get(0)?,
                entry: AuditEntry {
                    at_ms: row.get(1)?,
                    actor: Actor {
                        kind: ActorKind::from_name(&kind)
                            .ok_or_else(|| invalid_data(format!("actor kind {kind}")))?,
                        name: row.get(3)?,
                        user: row.get::<_, Option<u64>>(4)?.map(UserId),
                        address: row.get(5)?,
                    },
                    action: AuditAction::from_name(&action)
                        .ok_or_else(|| invalid_data(format!("audit action {action}")))?,
                    target: row.get(7)?,
                    detail: row.get(8)?,
                },
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(Page { rows, total })
}

pub(super) fn first_day(conn: &Connection) -> rusqlite::Result<Option<i64>> {
    conn.query_row(
        "SELECT MIN(day) FROM (SELECT MIN(day) AS day FROM day_tallies \
         UNION ALL SELECT MIN(day) FROM county_day_tallies)",
        [],
        |row| row.get(0),
    )
}

pub(super) fn day_counts(
    conn: &Connection,
    first: i64,
    last: i64,
) -> rusqlite::Result<Vec<(i64, u64)>> {
    conn.prepare_cached(
        "SELECT day, participations FROM day_tallies WHERE day BETWEEN ?1 AND ?2 ORDER BY day",
    )?
    .query_map([first, last], |row| Ok((row.get(0)?, row.get(1)?)))?
    .collect()
}

pub(super) fn refusals(
    conn: &Connection,
    first: i64,
    last: i64,
) -> rusqlite::Result<BTreeMap<RejectReason, u64>> {
    let mut refusals = BTreeMap::new();
    let mut statement = conn.prepare_cached(
        "SELECT reason, SUM(rejections) FROM rejection_day_tallies WHERE day BETWEEN ?1 AND ?2 \
         GROUP BY reason",
    )?;
    let rows = statement.query_map([first, last], |row| {
        Ok((row.get::<_, String>(0)?, row.get::<_, u64>(1)?))
    })?;
    for row in rows {
        let (name, count) = row?;
        if let Some(reason) = reason_from_name(&name) {
            refusals.insert(reason, count);
        }
    }
    Ok(refusals)
}

pub(super) fn counties(conn: &Connection) -> rusqlite::Result<Vec<CountySummary>> {
    conn.prepare_cached(
        "SELECT county_code, MIN(province), MIN(prefecture), MIN(county), COUNT(*), \
         SUM(target_books), SUM(allocated), SUM(shipped), SUM(received) \
         FROM schools GROUP BY county_code ORDER BY county_code",
    )?
    .query_map([], |row| {
        Ok(CountySummary {
            county_code: row.get(0)?,
            province: row.get(1)?,
            prefecture: row.get(2)?,
            county: row.get(3)?,
            schools: row.get(4)?,
            target_books: row.get(5)?,
            books: Movement {
                allocated: row.get(6)?,
                shipped: row.get(7)?,
                received: row.get(8)?,
            },
        })
    })?
    .collect()
}

fn movement(row: &Row<'_>, first: usize) -> rusqlite::Result<Movement> {
    Ok(Movement {
        allocated: row.get(first)?,
        shipped: row.get(first + 1)?,
        received: row.get(first + 2)?,
    })
}

pub(super) fn county_movements(
    conn: &Connection,
    first: i64,
    last: i64,
) -> rusqlite::Result<BTreeMap<String, Movement>> {
    conn.prepare_cached(
        "SELECT county_code, SUM(allocated), SUM(shipped), SUM(received) \
         FROM county_day_tallies WHERE day BETWEEN ?1 AND ?2 GROUP BY county_code",
    )?
    .query_map([first, last], |row| Ok((row.get(0)?, movement(row, 1)?)))?
    .collect()
}

pub(super) fn schools_in(
    conn: &Connection,
    area: &AreaFilter,
) -> rusqlite::Result<Vec<SchoolTally>> {
    // With a county, the county index finds the schools; otherwise the
    // whole table is read (10,000 rows at most).
    conn.prepare_cached(&format!(
        "{SELECT_TALLY} WHERE (?1 IS NULL OR county_code = ?1) AND (?2 IS NULL OR province = ?2) \
         AND (?3 IS NULL OR prefecture = ?3) ORDER BY school_id"
    ))?
    .query_map(
        params![area.county_code, area.province, area.prefecture],
        tally_from_row,
    )?
    .collect()
}

pub(super) fn school_movements(
    conn: &Connection,
    schools: &[String],
    first: i64,
    last: i64,
) -> rusqlite::Result<BTreeMap<String, Movement>> {
    let mut statement = conn.prepare_cached(
        "SELECT COALESCE(SUM(allocated), 0), COALESCE(SUM(shipped), 0), \
         COALESCE(SUM(received), 0) FROM school_day_tallies \
         WHERE school_id = ?1 AND day BETWEEN ?2 AND ?3",
    )?;
    let mut movements = BTreeMap::new();
    for school in schools {
        let moved = statement.query_row(params![school, first, last], |row| movement(row, 0))?;
        if moved != Movement::default() {
            movements.insert(school.clone(), moved);
        }
    }
    Ok(movements)
}

pub(super) fn school_lifecycle(
    conn: &Connection,
    school: &str,
    window: Window,
) -> rusqlite::Result<Page<BookLifecycle>> {
    let total = conn
        .prepare_cached("SELECT COUNT(*) FROM books WHERE school_id = ?1")?
        .query_row([school], |row| row.get(0))?;
    let rows = conn
        .prepare_cached(
            "SELECT b.book, b.status, b.funded_at_ms, b.allocated_at_ms, b.shipment, \
             s.shipped_on, b.received_at_ms FROM books b \
             LEFT JOIN shipments s ON s.id = b.shipment \
             WHERE b.school_id = ?1 ORDER BY b.book LIMIT ?2 OFFSET ?3",
        )?
        .query_map(
            params![school, sql_int(window.limit), sql_int(window.offset)],
            |row| {
                Ok(BookLifecycle {
                    book: row.get(0)?,
                    state: book_state(row, 1)?,
                    funded_at_ms: row.get(2)?,
                    allocated_at_ms: row.get(3)?,
                    shipment: row.get(4)?,
                    shipped_on: row.get::<_, Option<i64>>(5)?.map(ChinaDay::from_number),
                    received_at_ms: row.get(6)?,
                })
            },
        )?
        .collect::<rusqlite::Result<_>>()?;
    Ok(Page { rows, total })
}

pub(super) fn pledge_records(conn: &Connection) -> rusqlite::Result<Vec<PledgeRecord>> {
    let mut order = 0;
    conn.prepare_cached(
        "SELECT sponsor, participations_per_book, book_cap, pledged_at_ms FROM pledges ORDER BY id",
    )?
    .query_map([], |row| {
        Ok((
            Pledge {
                sponsor: row.get(0)?,
                participations_per_book: row.get(1)?,
                book_cap: row.get(2)?,
            },
            row.get(3)?,
        ))
    })?
    .map(|row| {
        row.map(|(pledge, pledged_at_ms)| {
            order += 1;
            PledgeRecord {
                order,
                pledge,
                pledged_at_ms,
            }
        })
    })
    .collect()
}

const SELECT_SHIPMENT: &str = "SELECT sh.id, sh.books, sh.first_book, sh.last_book, sh.carrier, \
     sh.tracking, sh.shipped_on, sh.note, sh.shipped_at_ms, sh.confirmed_at_ms, \
     s.school_id, s.name, s.province, s.prefecture, s.county, s.county_code \
     FROM shipments sh LEFT JOIN schools s ON s.school_id = sh.school_id";

fn shipment_from_row(row: &Row<'_>) -> rusqlite::Result<ShipmentRecord> {
    let school = match row.get::<_, Option<String>>(10)? {
        Some(_) => Some(school_from_row(row, 10)?),
        None => None,
    };
    Ok(ShipmentRecord {
        id: row.get(0)?,
        school,
        books: row.get(1)?,
        first_book: row.get(2)?,
        last_book: row.get(3)?,
        details: ShipmentDetails {
            carrier: row.get(4)?,
            tracking: row.get(5)?,
            shipped_on: row.get::<_, Option<i64>>(6)?.map(ChinaDay::from_number),
            note: row.get(7)?,
        },
        recorded_at_ms: row.get(8)?,
        confirmed_at_ms: row.get(9)?,
    })
}

pub(super) fn shipments(
    conn: &Connection,
    filter: &ShipmentFilter,
    window: Window,
) -> rusqlite::Result<Page<ShipmentRecord>> {
    let condition = "WHERE (?1 IS NULL OR sh.school_id = ?1) \
         AND (?2 IS NULL OR (sh.confirmed_at_ms IS NOT NULL) = ?2) \
         AND (?3 IS NULL OR sh.shipped_on <= ?3)";
    let confirmed = filter.confirmed;
    let shipped_by = filter.shipped_by.map(ChinaDay::number);
    let total = conn
        .prepare_cached(&format!("SELECT COUNT(*) FROM shipments sh {condition}"))?
        .query_row(params![filter.school, confirmed, shipped_by], |row| {
            row.get(0)
        })?;
    let rows = conn
        .prepare_cached(&format!(
            "{SELECT_SHIPMENT} {condition} ORDER BY sh.id DESC LIMIT ?4 OFFSET ?5"
        ))?
        .query_map(
            params![
                filter.school,
                confirmed,
                shipped_by,
                sql_int(window.limit),
                sql_int(window.offset)
            ],
            shipment_from_row,
        )?
        .collect::<rusqlite::Result<_>>()?;
    Ok(Page { rows, total })
}

pub(super) fn shipment(conn: &Connection, id: u64) -> rusqlite::Result<Option<ShipmentRecord>> {
    conn.prepare_cached(&format!("{SELECT_SHIPMENT} WHERE sh.id = ?1"))?
        .query_row([id], shipment_from_row)
        .optional()
}

pub(super) fn shipment_books(conn: &Connection, id: u64) -> rusqlite::Result<Vec<u64>> {
    conn.prepare_cached("SELECT book FROM books WHERE shipment = ?1 ORDER BY book")?
        .query_map([id], |row| row.get(0))?
        .collect()
}

pub(super) fn unshipped(conn: &Connection, limit: u64) -> rusqlite::Result<Unshipped> {
    let (books, schools) = conn.query_row(
        "SELECT COALESCE(SUM(allocated - shipped), 0), COUNT(*) FROM schools \
         WHERE allocated > shipped",
        [],
        |row| Ok((row.get(0)?, row.get(1)?)),
    )?;
    let top = conn
        .prepare_cached(&format!(
            "{SELECT_TALLY} WHERE allocated > shipped ORDER BY allocated - shipped DESC, \
             school_id LIMIT ?1"
        ))?
        .query_map([sql_int(limit)], tally_from_row)?
        .collect::<rusqlite::Result<_>>()?;
    Ok(Unshipped {
        books,
        schools,
        top,
    })
}

pub(super) fn school_list_versions(conn: &Connection) -> rusqlite::Result<Vec<ListInfo>> {
    conn.prepare_cached(
        "SELECT l.version, l.first_book, l.imported_at_ms, l.source, \
         (SELECT COUNT(*) FROM school_list_entries e WHERE e.version = l.version) \
         FROM school_lists l ORDER BY l.version DESC",
    )?
    .query_map([], |row| {
        Ok(ListInfo {
            version: row.get(0)?,
            first_book: row.get(1)?,
            imported_at_ms: row.get(2)?,
            source: row.get(3)?,
            schools: row.get(4)?,
        })
    })?
    .collect()
}

pub(super) fn latest_school_list(
    conn: &Connection,
) -> rusqlite::Result<Option<(u32, Vec<ListedSchool>)>> {
    let Some(version) = conn.query_row("SELECT MAX(version) FROM school_lists", [], |row| {
        row.get::<_, Option<u32>>(0)
    })?
    else {
        return Ok(None);
    };
    let schools = conn
        .prepare_cached(
            "SELECT school_id, name, province, prefecture, county, county_code, pupils, \
             target_books FROM school_list_entries WHERE version = ?1 ORDER BY school_id",
        )?
        .query_map([version], |row| {
            Ok(ListedSchool {
                school: school_from_row(row, 0)?,
                pupils: row.get(6)?,
                target_books: row.get(7)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(Some((version, schools)))
}
