//! The SQL of the admin console on PostgreSQL: the ledger questions its
//! actions ask ([`LedgerRead`](crate::store::backend::LedgerRead)'s
//! shipment and county questions), every
//! [`ConsoleRead`](crate::store::backend::ConsoleRead) question, and the
//! writes of an accounts transaction, of the per-day tallies and of the
//! audit log. No decision is made here; the same questions as SQLite's
//! `admin_queries.rs`, one statement each where a list is asked about
//! (`= ANY($1)`), and every `SUM` cast back to BIGINT.

use std::collections::{BTreeMap, HashMap};

use deadpool_postgres::GenericClient;
use sim::wire::RejectReason;
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;

use super::queries::{
    Param, Pipeline, RowExt, big, book_state, invalid, one_row, optional_row, param, rows,
    school_from_row, tally_from_row,
};
use crate::allocation::{ListedSchool, Pledge, SchoolTally};
use crate::domain::{ChinaDay, Role, UserId, UserName};
use crate::error::{reason_from_name, reason_name};
use crate::store::admin::{
    Actor, ActorKind, AreaFilter, AuditAction, AuditEntry, AuditFilter, AuditRecord, BookLifecycle,
    BookSelection, CountySummary, Credentials, FailedSignIns, ListInfo, Movement, Page,
    PasswordHash, PledgeRecord, SessionRecord, ShipmentDetails, ShipmentFilter, ShipmentRecord,
    Unshipped, User, Window,
};
use crate::store::backend::{AccountChanges, Changes, Result, SchoolDelta};

/// `u64` → BIGINT, saturating (limits and offsets).
fn sql_int(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// The book numbers of `rows`' first column.
fn numbers(found: &[Row]) -> Result<Vec<u64>> {
    found.iter().map(|row| row.u64_at(0)).collect()
}

pub(super) async fn allocated_books<C: GenericClient>(
    client: &C,
    selection: &BookSelection,
) -> Result<Vec<(u64, String)>> {
    let found =
        match selection {
            BookSelection::School(school) => rows(
                client,
                "SELECT book, school_id FROM books WHERE school_id = $1 AND status = 'allocated' \
                 ORDER BY book",
                &[school],
            )
            .await?,
            BookSelection::County(code) => {
                rows(
                    client,
                    "SELECT b.book, b.school_id FROM schools s \
                 JOIN books b ON b.school_id = s.school_id \
                 WHERE s.county_code = $1 AND b.status = 'allocated' ORDER BY b.book",
                    &[code],
                )
                .await?
            }
            BookSelection::Books(range) => {
                rows(
                    client,
                    "SELECT book, school_id FROM books WHERE book BETWEEN $1 AND $2 \
                 AND status = 'allocated' ORDER BY book",
                    &[&sql_int(*range.start()), &sql_int(*range.end())],
                )
                .await?
            }
        };
    found
        .iter()
        .map(|row| Ok((row.u64_at(0)?, row.column(1)?)))
        .collect()
}

pub(super) async fn school_counties<C: GenericClient>(
    client: &C,
    schools: &[String],
) -> Result<HashMap<String, String>> {
    rows(
        client,
        "SELECT school_id, county_code FROM schools WHERE school_id = ANY($1)",
        &[&schools],
    )
    .await?
    .iter()
    .map(|row| Ok((row.column(0)?, row.column(1)?)))
    .collect()
}

pub(super) async fn unconfirmed_shipments_of<C: GenericClient>(
    client: &C,
    school: &str,
) -> Result<Vec<u64>> {
    numbers(
        &rows(
            client,
            "SELECT id FROM shipments WHERE school_id = $1 AND confirmed_at_ms IS NULL ORDER BY id",
            &[&school],
        )
        .await?,
    )
}

/// One column of `deltas`' values, as BIGINTs.
fn delta_column<'a>(
    deltas: impl Iterator<Item = &'a SchoolDelta>,
    field: fn(&SchoolDelta) -> u64,
) -> Result<Param> {
    Ok(param(
        deltas
            .map(|delta| big(field(delta)))
            .collect::<Result<Vec<_>>>()?,
    ))
}

/// Adds the statements that write the per-day tallies `changes` moved.
pub(super) fn push_day_tallies(pipeline: &mut Pipeline, changes: &Changes) -> Result<()> {
    if !changes.school_days.is_empty() {
        let days = &changes.school_days;
        pipeline.push(
            "INSERT INTO school_day_tallies AS t (school_id, day, allocated, shipped, received) \
             SELECT * FROM UNNEST($1::text[], $2::bigint[], $3::bigint[], $4::bigint[], \
             $5::bigint[]) \
             ON CONFLICT (school_id, day) DO UPDATE SET \
             allocated = t.allocated + excluded.allocated, shipped = t.shipped + excluded.shipped, \
             received = t.received + excluded.received",
            vec![
                param(
                    days.keys()
                        .map(|(school, _)| school.clone())
                        .collect::<Vec<_>>(),
                ),
                param(days.keys().map(|&(_, day)| day).collect::<Vec<i64>>()),
                delta_column(days.values(), |delta| delta.allocated)?,
                delta_column(days.values(), |delta| delta.shipped)?,
                delta_column(days.values(), |delta| delta.received)?,
            ],
        );
    }
    if !changes.county_days.is_empty() {
        let days = &changes.county_days;
        pipeline.push(
            "INSERT INTO county_day_tallies AS t (county_code, day, allocated, shipped, received) \
             SELECT * FROM UNNEST($1::text[], $2::bigint[], $3::bigint[], $4::bigint[], \
             $5::bigint[]) \
             ON CONFLICT (day, county_code) DO UPDATE SET \
             allocated = t.allocated + excluded.allocated, shipped = t.shipped + excluded.shipped, \
             received = t.received + excluded.received",
            vec![
                param(
                    days.keys()
                        .map(|(county, _)| county.clone())
                        .collect::<Vec<_>>(),
                ),
                param(days.keys().map(|&(_, day)| day).collect::<Vec<i64>>()),
                delta_column(days.values(), |delta| delta.allocated)?,
                delta_column(days.values(), |delta| delta.shipped)?,
                delta_column(days.values(), |delta| delta.received)?,
            ],
        );
    }
    if !changes.rejection_days.is_empty() {
        let days = &changes.rejection_days;
        pipeline.push(
            "INSERT INTO rejection_day_tallies AS t (day, reason, rejections) \
             SELECT * FROM UNNEST($1::bigint[], $2::text[], $3::bigint[]) \
             ON CONFLICT (day, reason) DO UPDATE SET rejections = t.rejections + excluded.rejections",
            vec![
                param(days.keys().map(|&(day, _)| day).collect::<Vec<i64>>()),
                param(
                    days.keys()
                        .map(|&(_, reason)| reason_name(reason))
                        .collect::<Vec<_>>(),
                ),
                param(
                    days.values()
                        .map(|&count| big(count))
                        .collect::<Result<Vec<_>>>()?,
                ),
            ],
        );
    }
    Ok(())
}

/// Adds the statement that appends `entries` to the audit log, in order.
pub(super) fn push_audit(pipeline: &mut Pipeline, entries: &[AuditEntry]) -> Result<()> {
    if entries.is_empty() {
        return Ok(());
    }
    pipeline.push(
        "INSERT INTO audit_log (at_ms, actor_kind, actor, user_id, address, action, target, \
         detail) \
         SELECT at_ms, actor_kind, actor, user_id, address, action, target, detail \
         FROM UNNEST($1::bigint[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::text[], \
         $7::text[], $8::text[]) WITH ORDINALITY \
         AS e (at_ms, actor_kind, actor, user_id, address, action, target, detail, ord) \
         ORDER BY e.ord",
        vec![
            param(
                entries
                    .iter()
                    .map(|entry| big(entry.at_ms))
                    .collect::<Result<Vec<_>>>()?,
            ),
            param(
                entries
                    .iter()
                    .map(|entry| entry.actor.kind.name())
                    .collect::<Vec<_>>(),
            ),
            param(
                entries
                    .iter()
                    .map(|entry| entry.actor.name.clone())
                    .collect::<Vec<_>>(),
            ),
            param(
                entries
                    .iter()
                    .map(|entry| entry.actor.user.map(|id| big(id.0)).transpose())
                    .collect::<Result<Vec<_>>>()?,
            ),
            param(
                entries
                    .iter()
                    .map(|entry| entry.actor.address.clone())
                    .collect::<Vec<_>>(),
            ),
            param(
                entries
                    .iter()
                    .map(|entry| entry.action.name())
                    .collect::<Vec<_>>(),
            ),
            param(
                entries
                    .iter()
                    .map(|entry| entry.target.clone())
                    .collect::<Vec<_>>(),
            ),
            param(
                entries
                    .iter()
                    .map(|entry| entry.detail.clone())
                    .collect::<Vec<_>>(),
            ),
        ],
    );
    Ok(())
}

/// Writes an accounts transaction's `changes`, in the order
/// [`AccountChanges`] names, as one pipeline.
pub(super) async fn apply_accounts<C: GenericClient>(
    client: &C,
    changes: &AccountChanges,
) -> Result<()> {
    let at_ms = big(changes.at_ms)?;
    let mut pipeline = Pipeline::default();
    if let Some((name, role, hash)) = &changes.new_user {
        pipeline.push(
            "INSERT INTO users (name, role, password_hash, created_at_ms, password_changed_at_ms) \
             VALUES ($1, $2, $3, $4, $4)",
            vec![
                param(name.as_str().to_owned()),
                param(role.name()),
                param(hash.as_str().to_owned()),
                param(at_ms),
            ],
        );
    }
    for update in &changes.user_updates {
        let name = update.name.as_str().to_owned();
        if let Some(role) = update.role {
            pipeline.push(
                "UPDATE users SET role = $2 WHERE name = $1",
                vec![param(name.clone()), param(role.name())],
            );
        }
        if let Some(disabled) = update.disabled {
            pipeline.push(
                "UPDATE users SET disabled = $2 WHERE name = $1",
                vec![param(name.clone()), param(disabled)],
            );
        }
        if let Some(hash) = &update.password_hash {
            pipeline.push(
                "UPDATE users SET password_hash = $2, password_changed_at_ms = $3 WHERE name = $1",
                vec![param(name), param(hash.as_str().to_owned()), param(at_ms)],
            );
        }
    }
    if !changes.end_sessions.is_empty() {
        pipeline.push(
            "DELETE FROM sessions WHERE token_hash = ANY($1)",
            vec![param(
                changes
                    .end_sessions
                    .iter()
                    .map(|hash| hash.to_vec())
                    .collect::<Vec<_>>(),
            )],
        );
    }
    if !changes.end_sessions_of.is_empty() {
        pipeline.push(
            "DELETE FROM sessions WHERE user_id IN (SELECT id FROM users WHERE name = ANY($1))",
            vec![param(
                changes
                    .end_sessions_of
                    .iter()
                    .map(|name| name.as_str().to_owned())
                    .collect::<Vec<_>>(),
            )],
        );
    }
    if let Some(session) = &changes.new_session {
        pipeline.push(
            "INSERT INTO sessions (token_hash, user_id, csrf_token, address, created_at_ms, \
             last_seen_at_ms) VALUES ($1, $2, $3, $4, $5, $5)",
            vec![
                param(session.token_hash.to_vec()),
                param(big(session.user.0)?),
                param(session.csrf_token.clone()),
                param(session.address.clone()),
                param(at_ms),
            ],
        );
    }
    if let Some(token_hash) = &changes.touch {
        pipeline.push(
            "UPDATE sessions SET last_seen_at_ms = $2 WHERE token_hash = $1",
            vec![param(token_hash.to_vec()), param(at_ms)],
        );
    }
    push_audit(&mut pipeline, &changes.audit)?;
    pipeline.run(client).await
}

/// The columns [`user_from_row`] reads, then the password hash.
macro_rules! select_users {
    ($tail:literal) => {
        concat!(
            "SELECT u.id, u.name, u.role, u.disabled, u.created_at_ms, ",
            "u.password_changed_at_ms, u.password_hash ",
            $tail
        )
    };
}

fn user_from_row(row: &Row) -> Result<User> {
    let name: &str = row.column(1)?;
    let role: &str = row.column(2)?;
    Ok(User {
        id: UserId(row.u64_at(0)?),
        name: UserName::parse(name).map_err(invalid)?,
        role: Role::parse(role).map_err(invalid)?,
        disabled: row.column(3)?,
        created_at_ms: row.u64_at(4)?,
        password_changed_at_ms: row.u64_at(5)?,
    })
}

pub(super) async fn credentials<C: GenericClient>(
    client: &C,
    name: &UserName,
) -> Result<Option<Credentials>> {
    optional_row(
        client,
        select_users!("FROM users u WHERE u.name = $1"),
        &[&name.as_str()],
    )
    .await?
    .map(|row| {
        Ok(Credentials {
            user: user_from_row(&row)?,
            password_hash: PasswordHash::new(row.column(6)?).map_err(invalid)?,
        })
    })
    .transpose()
}

pub(super) async fn users<C: GenericClient>(client: &C) -> Result<Vec<User>> {
    rows(client, select_users!("FROM users u ORDER BY u.name"), &[])
        .await?
        .iter()
        .map(user_from_row)
        .collect()
}

pub(super) async fn session<C: GenericClient>(
    client: &C,
    token_hash: &[u8; 32],
) -> Result<Option<SessionRecord>> {
    optional_row(
        client,
        select_users!(
            ", s.csrf_token, s.created_at_ms, s.last_seen_at_ms \
             FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1"
        ),
        &[&token_hash.as_slice()],
    )
    .await?
    .map(|row| {
        Ok(SessionRecord {
            user: user_from_row(&row)?,
            csrf_token: row.column(7)?,
            created_at_ms: row.u64_at(8)?,
            last_seen_at_ms: row.u64_at(9)?,
        })
    })
    .transpose()
}

pub(super) async fn failed_sign_ins<C: GenericClient>(
    client: &C,
    name: &str,
    address: &str,
    since_ms: u64,
) -> Result<FailedSignIns> {
    let row = one_row(
        client,
        "SELECT \
         (SELECT COUNT(*) FROM audit_log WHERE action = 'sign_in_failed' AND actor = $1 \
          AND at_ms >= $3), \
         (SELECT COUNT(*) FROM audit_log WHERE action = 'sign_in_failed' AND address = $2 \
          AND at_ms >= $3)",
        &[&name, &address, &sql_int(since_ms)],
    )
    .await?;
    Ok(FailedSignIns {
        for_name: row.u64_at(0)?,
        from_address: row.u64_at(1)?,
    })
}

fn audit_record(row: &Row) -> Result<AuditRecord> {
    let kind: &str = row.column(2)?;
    let action: &str = row.column(6)?;
    let user: Option<i64> = row.column(4)?;
    Ok(AuditRecord {
        id: row.u64_at(0)?,
        entry: AuditEntry {
            at_ms: row.u64_at(1)?,
            actor: Actor {
                kind: ActorKind::from_name(kind)
                    .ok_or_else(|| invalid(format!("actor kind {kind}")))?,
                name: row.column(3)?,
                user: user.map(|_| row.u64_at(4).map(UserId)).transpose()?,
                address: row.column(5)?,
            },
            action: AuditAction::from_name(action)
                .ok_or_else(|| invalid(format!("audit action {action}")))?,
            target: row.column(7)?,
            detail: row.column(8)?,
        },
    })
}

pub(super) async fn audit_log<C: GenericClient>(
    client: &C,
    filter: &AuditFilter,
    window: Window,
) -> Result<Page<AuditRecord>> {
    // One statement for every filter: a condition left out is NULL.
    const CONDITION: &str = "WHERE ($1::text IS NULL OR action = $1) \
         AND ($2::text IS NULL OR actor = $2) \
         AND ($3::bigint IS NULL OR at_ms >= $3) \
         AND ($4::bigint IS NULL OR at_ms < $4)";
    let action = filter.action.map(AuditAction::name);
    let from = filter.from_ms.map(sql_int);
    let until = filter.until_ms.map(sql_int);
    let conditions: [&(dyn ToSql + Sync); 4] = [&action, &filter.actor, &from, &until];
    let total = one_row(
        client,
        &format!("SELECT COUNT(*) FROM audit_log {CONDITION}"),
        &conditions,
    )
    .await?
    .u64_at(0)?;
    let limit = sql_int(window.limit);
    let offset = sql_int(window.offset);
    let mut params = conditions.to_vec();
    params.push(&limit);
    params.push(&offset);
    let rows = rows(
        client,
        &format!(
            "SELECT id, at_ms, actor_kind, actor, user_id, address, action, target, detail \
             FROM audit_log {CONDITION} ORDER BY id DESC LIMIT $5 OFFSET $6"
        ),
        &params,
    )
    .await?
    .iter()
    .map(audit_record)
    .collect::<Result<_>>()?;
    Ok(Page { rows, total })
}

pub(super) async fn first_day<C: GenericClient>(client: &C) -> Result<Option<i64>> {
    one_row(
        client,
        "SELECT LEAST((SELECT MIN(day) FROM day_tallies), \
         (SELECT MIN(day) FROM county_day_tallies))",
        &[],
    )
    .await?
    .column(0)
}

pub(super) async fn day_counts<C: GenericClient>(
    client: &C,
    first: i64,
    last: i64,
) -> Result<Vec<(i64, u64)>> {
    rows(
        client,
        "SELECT day, participations FROM day_tallies WHERE day BETWEEN $1 AND $2 ORDER BY day",
        &[&first, &last],
    )
    .await?
    .iter()
    .map(|row| Ok((row.column(0)?, row.u64_at(1)?)))
    .collect()
}

pub(super) async fn refusals<C: GenericClient>(
    client: &C,
    first: i64,
    last: i64,
) -> Result<BTreeMap<RejectReason, u64>> {
    let mut refusals = BTreeMap::new();
    for row in rows(
        client,
        "SELECT reason, SUM(rejections)::bigint FROM rejection_day_tallies \
         WHERE day BETWEEN $1 AND $2 GROUP BY reason",
        &[&first, &last],
    )
    .await?
    {
        if let Some(reason) = reason_from_name(row.column(0)?) {
            refusals.insert(reason, row.u64_at(1)?);
        }
    }
    Ok(refusals)
}

fn movement(row: &Row, first: usize) -> Result<Movement> {
    Ok(Movement {
        allocated: row.u64_at(first)?,
        shipped: row.u64_at(first + 1)?,
        received: row.u64_at(first + 2)?,
    })
}

pub(super) async fn counties<C: GenericClient>(client: &C) -> Result<Vec<CountySummary>> {
    rows(
        client,
        "SELECT county_code, MIN(province), MIN(prefecture), MIN(county), COUNT(*), \
         SUM(target_books)::bigint, SUM(allocated)::bigint, SUM(shipped)::bigint, \
         SUM(received)::bigint \
         FROM schools GROUP BY county_code ORDER BY county_code",
        &[],
    )
    .await?
    .iter()
    .map(|row| {
        Ok(CountySummary {
            county_code: row.column(0)?,
            province: row.column(1)?,
            prefecture: row.column(2)?,
            county: row.column(3)?,
            schools: row.u64_at(4)?,
            target_books: row.u64_at(5)?,
            books: movement(row, 6)?,
        })
    })
    .collect()
}

pub(super) async fn county_movements<C: GenericClient>(
    client: &C,
    first: i64,
    last: i64,
) -> Result<BTreeMap<String, Movement>> {
    rows(
        client,
        "SELECT county_code, SUM(allocated)::bigint, SUM(shipped)::bigint, \
         SUM(received)::bigint FROM county_day_tallies WHERE day BETWEEN $1 AND $2 \
         GROUP BY county_code",
        &[&first, &last],
    )
    .await?
    .iter()
    .map(|row| Ok((row.column(0)?, movement(row, 1)?)))
    .collect()
}

pub(super) async fn schools_in<C: GenericClient>(
    client: &C,
    area: &AreaFilter,
) -> Result<Vec<SchoolTally>> {
    rows(
        client,
        super::queries::select_tally!(
            "WHERE ($1::text IS NULL OR county_code = $1) \
             AND ($2::text IS NULL OR province = $2) \
             AND ($3::text IS NULL OR prefecture = $3) ORDER BY school_id"
        ),
        &[&area.county_code, &area.province, &area.prefecture],
    )
    .await?
    .iter()
    .map(tally_from_row)
    .collect()
}

pub(super) async fn school_movements<C: GenericClient>(
    client: &C,
    schools: &[String],
    first: i64,
    last: i64,
) -> Result<BTreeMap<String, Movement>> {
    let mut movements = BTreeMap::new();
    for row in rows(
        client,
        "SELECT school_id, SUM(allocated)::bigint, SUM(shipped)::bigint, SUM(received)::bigint \
         FROM school_day_tallies WHERE school_id = ANY($1) AND day BETWEEN $2 AND $3 \
         GROUP BY school_id",
        &[&schools, &first, &last],
    )
    .await?
    {
        let moved = movement(&row, 1)?;
        if moved != Movement::default() {
            movements.insert(row.column(0)?, moved);
        }
    }
    Ok(movements)
}

/// A nullable BIGINT column holding a count or a time.
fn opt_u64(row: &Row, column: usize) -> Result<Option<u64>> {
    let value: Option<i64> = row.column(column)?;
    value
        .map(|value| u64::try_from(value).map_err(|_| invalid(format!("negative value {value}"))))
        .transpose()
}

pub(super) async fn school_lifecycle<C: GenericClient>(
    client: &C,
    school: &str,
    window: Window,
) -> Result<Page<BookLifecycle>> {
    let total = one_row(
        client,
        "SELECT COUNT(*) FROM books WHERE school_id = $1",
        &[&school],
    )
    .await?
    .u64_at(0)?;
    let rows = rows(
        client,
        "SELECT b.book, b.status, b.funded_at_ms, b.allocated_at_ms, b.shipment, \
         s.shipped_on, b.received_at_ms FROM books b \
         LEFT JOIN shipments s ON s.id = b.shipment \
         WHERE b.school_id = $1 ORDER BY b.book LIMIT $2 OFFSET $3",
        &[&school, &sql_int(window.limit), &sql_int(window.offset)],
    )
    .await?
    .iter()
    .map(|row| {
        Ok(BookLifecycle {
            book: row.u64_at(0)?,
            state: book_state(row, 1)?,
            funded_at_ms: row.u64_at(2)?,
            allocated_at_ms: opt_u64(row, 3)?,
            shipment: opt_u64(row, 4)?,
            shipped_on: row.column::<Option<i64>>(5)?.map(ChinaDay::from_number),
            received_at_ms: opt_u64(row, 6)?,
        })
    })
    .collect::<Result<_>>()?;
    Ok(Page { rows, total })
}

pub(super) async fn pledge_records<C: GenericClient>(client: &C) -> Result<Vec<PledgeRecord>> {
    rows(
        client,
        "SELECT sponsor, participations_per_book, book_cap, pledged_at_ms FROM pledges \
         ORDER BY id",
        &[],
    )
    .await?
    .iter()
    .zip(1..)
    .map(|(row, order)| {
        Ok(PledgeRecord {
            order,
            pledge: Pledge {
                sponsor: row.column(0)?,
                participations_per_book: row.u64_at(1)?,
                book_cap: row.u64_at(2)?,
            },
            pledged_at_ms: row.u64_at(3)?,
        })
    })
    .collect()
}

/// `SELECT` of every column [`shipment_from_row`] reads, then `$tail`.
macro_rules! select_shipments {
    ($tail:literal) => {
        concat!(
            "SELECT sh.id, sh.books, sh.first_book, sh.last_book, sh.carrier, sh.tracking, ",
            "sh.shipped_on, sh.note, sh.shipped_at_ms, sh.confirmed_at_ms, s.school_id, s.name, ",
            "s.province, s.prefecture, s.county, s.county_code ",
            "FROM shipments sh LEFT JOIN schools s ON s.school_id = sh.school_id ",
            $tail
        )
    };
}

fn shipment_from_row(row: &Row) -> Result<ShipmentRecord> {
    let school = match row.column::<Option<&str>>(10)? {
        Some(_) => Some(school_from_row(row, 10)?),
        None => None,
    };
    Ok(ShipmentRecord {
        id: row.u64_at(0)?,
        school,
        books: row.u64_at(1)?,
        first_book: row.u64_at(2)?,
        last_book: row.u64_at(3)?,
        details: ShipmentDetails {
            carrier: row.column(4)?,
            tracking: row.column(5)?,
            shipped_on: row.column::<Option<i64>>(6)?.map(ChinaDay::from_number),
            note: row.column(7)?,
        },
        recorded_at_ms: row.u64_at(8)?,
        confirmed_at_ms: opt_u64(row, 9)?,
    })
}

pub(super) async fn shipments<C: GenericClient>(
    client: &C,
    filter: &ShipmentFilter,
    window: Window,
) -> Result<Page<ShipmentRecord>> {
    let shipped_by = filter.shipped_by.map(ChinaDay::number);
    let total = one_row(
        client,
        "SELECT COUNT(*) FROM shipments sh WHERE ($1::text IS NULL OR sh.school_id = $1) \
         AND ($2::boolean IS NULL OR (sh.confirmed_at_ms IS NOT NULL) = $2) \
         AND ($3::bigint IS NULL OR sh.shipped_on <= $3)",
        &[&filter.school, &filter.confirmed, &shipped_by],
    )
    .await?
    .u64_at(0)?;
    let rows = rows(
        client,
        select_shipments!(
            "WHERE ($1::text IS NULL OR sh.school_id = $1) \
             AND ($2::boolean IS NULL OR (sh.confirmed_at_ms IS NOT NULL) = $2) \
             AND ($3::bigint IS NULL OR sh.shipped_on <= $3) \
             ORDER BY sh.id DESC LIMIT $4 OFFSET $5"
        ),
        &[
            &filter.school,
            &filter.confirmed,
            &shipped_by,
            &sql_int(window.limit),
            &sql_int(window.offset),
        ],
    )
    .await?
    .iter()
    .map(shipment_from_row)
    .collect::<Result<_>>()?;
    Ok(Page { rows, total })
}

pub(super) async fn shipment<C: GenericClient>(
    client: &C,
    id: u64,
) -> Result<Option<ShipmentRecord>> {
    optional_row(
        client,
        select_shipments!("WHERE sh.id = $1"),
        &[&sql_int(id)],
    )
    .await?
    .as_ref()
    .map(shipment_from_row)
    .transpose()
}

pub(super) async fn shipment_books<C: GenericClient>(client: &C, id: u64) -> Result<Vec<u64>> {
    numbers(
        &rows(
            client,
            "SELECT book FROM books WHERE shipment = $1 ORDER BY book",
            &[&sql_int(id)],
        )
        .await?,
    )
}

pub(super) async fn unshipped<C: GenericClient>(client: &C, limit: u64) -> Result<Unshipped> {
    let row = one_row(
        client,
        "SELECT COALESCE(SUM(allocated - shipped), 0)::bigint, COUNT(*) FROM schools \
         WHERE allocated > shipped",
        &[],
    )
    .await?;
    let top = rows(
        client,
        super::queries::select_tally!(
            "WHERE allocated > shipped ORDER BY allocated - shipped DESC, school_id LIMIT $1"
        ),
        &[&sql_int(limit)],
    )
    .await?
    .iter()
    .map(tally_from_row)
    .collect::<Result<_>>()?;
    Ok(Unshipped {
        books: row.u64_at(0)?,
        schools: row.u64_at(1)?,
        top,
    })
}

pub(super) async fn school_list_versions<C: GenericClient>(client: &C) -> Result<Vec<ListInfo>> {
    rows(
        client,
        "SELECT l.version, l.first_book, l.imported_at_ms, l.source, \
         (SELECT COUNT(*) FROM school_list_entries e WHERE e.version = l.version) \
         FROM school_lists l ORDER BY l.version DESC",
        &[],
    )
    .await?
    .iter()
    .map(|row| {
        Ok(ListInfo {
            version: row.u32_at(0)?,
            first_book: row.u64_at(1)?,
            imported_at_ms: row.u64_at(2)?,
            source: row.column(3)?,
            schools: row.u64_at(4)?,
        })
    })
    .collect()
}

pub(super) async fn latest_school_list<C: GenericClient>(
    client: &C,
) -> Result<Option<(u32, Vec<ListedSchool>)>> {
    let Some(version) = one_row(client, "SELECT MAX(version) FROM school_lists", &[])
        .await?
        .opt_u32_at(0)?
    else {
        return Ok(None);
    };
    let schools = rows(
        client,
        "SELECT school_id, name, province, prefecture, county, county_code, pupils, \
         target_books FROM school_list_entries WHERE version = $1 ORDER BY school_id",
        &[&i64::from(version)],
    )
    .await?
    .iter()
    .map(|row| {
        Ok(ListedSchool {
            school: school_from_row(row, 0)?,
            pupils: row.u32_at(6)?,
            target_books: row.u32_at(7)?,
        })
    })
    .collect::<Result<_>>()?;
    Ok(Some((version, schools)))
}
