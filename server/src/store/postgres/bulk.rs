//! `server bulk-load` and `server check-ledger` on PostgreSQL: the
//! synthetic rows and the audit's invariants are the store's shared code
//! ([`crate::store::bulk`]); here they are written with `COPY ... FROM STDIN
//! BINARY` and read back in one snapshot.

use std::collections::BTreeMap;
use std::time::Instant;

use deadpool_postgres::GenericClient;
use tokio_postgres::IsolationLevel;
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::{ToSql, Type};

use super::queries::{self, PARTICIPATION_COLUMNS, Pipeline, RowExt as _, big};
use super::{DatabaseUrl, PgBackend};
use crate::domain::{PlayerId, ShareCode};
use crate::store::backend::Result;
use crate::store::backend_error;
use crate::store::bulk::{
    BulkLoadReport, CheckFacts, DayRecount, LedgerCheck, Synthetic, SyntheticLoad, SyntheticPlayer,
};

/// The types of [`PARTICIPATION_COLUMNS`], for the binary `COPY`.
const PARTICIPATION_TYPES: [Type; 14] = [
    Type::INT8,
    Type::BYTEA,
    Type::BYTEA,
    Type::TEXT,
    Type::INT8,
    Type::INT8,
    Type::INT8,
    Type::INT8,
    Type::INT8,
    Type::INT8,
    Type::INT8,
    Type::INT8,
    Type::TEXT,
    Type::BYTEA,
];

/// Appends `count` synthetic participations ([`SyntheticLoad`]) to the
/// ledger `url` names, numbered after its last one, with their tallies.
///
/// One transaction: it takes the head lock first (running writers wait for
/// it, then carry on after the loaded rows), streams the rows with a binary
/// `COPY`, and drops the participation indexes for the load and rebuilds
/// them at the end (one sort instead of millions of random inserts). All or
/// nothing: a crash mid-load leaves the ledger as it was.
pub async fn bulk_load(
    url: &DatabaseUrl,
    count: u64,
    days: u32,
    now_ms: u64,
    seed: u64,
) -> Result<BulkLoadReport> {
    let started = Instant::now();
    let backend = PgBackend::connect(url).await?;
    let mut client = backend.writer.get().await.map_err(backend_error)?;
    let tx = client.transaction().await.map_err(backend_error)?;
    // Memory for the index rebuilds, for this transaction only.
    tx.batch_execute("SET LOCAL maintenance_work_mem = '512MB'")
        .await
        .map_err(backend_error)?;
    let head = queries::lock_head(&tx).await?;
    let first_number = head.next_number;
    let indexes = drop_participation_indexes(&tx).await?;
    let load = SyntheticLoad::new(first_number, count, days, now_ms, seed);
    let tallies = queries::day_tallies(&tx, &load.days()).await?;
    let mut load = load.with_day_tallies(tallies);
    let posters = load.poster_codes();
    tx.execute(
        "INSERT INTO share_codes (code, label) SELECT * FROM UNNEST($1::text[], $2::text[]) \
         ON CONFLICT (code) DO NOTHING",
        &[
            &posters
                .iter()
                .map(|poster| poster.code.as_str())
                .collect::<Vec<_>>(),
            &posters
                .iter()
                .map(|poster| poster.label.as_deref())
                .collect::<Vec<_>>(),
        ],
    )
    .await
    .map_err(backend_error)?;

    // One COPY at a time per connection: the players' rows (about one per
    // two participations, a few dozen bytes each) wait for the second.
    let mut players = Vec::new();
    let sink = tx
        .copy_in(&format!(
            "COPY participations ({PARTICIPATION_COLUMNS}) FROM STDIN BINARY"
        ))
        .await
        .map_err(backend_error)?;
    let writer = BinaryCopyInWriter::new(sink, &PARTICIPATION_TYPES);
    futures::pin_mut!(writer);
    for item in load.by_ref() {
        let row = match item {
            Synthetic::Participation(row) => row,
            Synthetic::Player(player) => {
                players.push(player);
                continue;
            }
        };
        let round = row.round.to_bytes();
        let player = row.player.to_bytes();
        let values: [&(dyn ToSql + Sync); 14] = [
            &big(row.number)?,
            &round.as_slice(),
            &player.as_slice(),
            &row.referral.as_ref().map(ShareCode::as_str),
            &big(row.finished_at_ms)?,
            &row.day,
            &big(row.day_count)?,
            &i64::from(row.outcome.score),
            &i64::from(row.outcome.books_caught),
            &i64::from(row.outcome.ticks_played),
            &row.outcome.state_hash.cast_signed(),
            &i64::from(row.rules_version),
            &row.idempotency_key.as_str(),
            &row.fingerprint.as_bytes().as_slice(),
        ];
        writer
            .as_mut()
            .write(&values)
            .await
            .map_err(backend_error)?;
    }
    writer.finish().await.map_err(backend_error)?;
    copy_players(&tx, &players).await?;

    let changes = load.finish(head);
    let mut pipeline = Pipeline::default();
    queries::push_tallies(&mut pipeline, &changes)?;
    queries::push_head(&mut pipeline, changes.head)?;
    pipeline.run(&tx).await?;
    for sql in &indexes {
        tx.batch_execute(sql).await.map_err(backend_error)?;
    }
    tx.commit().await.map_err(backend_error)?;
    // Fresh statistics, so the planner knows how large the table now is.
    client
        .batch_execute("ANALYZE participations")
        .await
        .map_err(backend_error)?;
    Ok(BulkLoadReport {
        loaded: count,
        first_number,
        last_number: first_number + count - 1,
        elapsed_secs: started.elapsed().as_secs_f64(),
    })
}

/// Writes the synthetic players' rows (no share code of their own).
async fn copy_players(
    tx: &deadpool_postgres::Transaction<'_>,
    players: &[SyntheticPlayer],
) -> Result<()> {
    let sink = tx
        .copy_in("COPY players (player, participations, latest, referred_by) FROM STDIN BINARY")
        .await
        .map_err(backend_error)?;
    let writer = BinaryCopyInWriter::new(sink, &[Type::BYTEA, Type::INT8, Type::INT8, Type::TEXT]);
    futures::pin_mut!(writer);
    for player in players {
        let id = player.id.to_bytes();
        writer
            .as_mut()
            .write(&[
                &id.as_slice(),
                &big(player.participations)?,
                &big(player.latest)?,
                &player.referred_by.as_ref().map(ShareCode::as_str),
            ])
            .await
            .map_err(backend_error)?;
    }
    writer.finish().await.map_err(backend_error)?;
    Ok(())
}

/// Drops the secondary indexes of `participations` (the primary key stays:
/// loaded rows arrive in its order), returning the SQL that recreates them
/// exactly as they were.
async fn drop_participation_indexes<C: GenericClient>(tx: &C) -> Result<Vec<String>> {
    let indexes = tx
        .query(
            "SELECT c.relname::text, pg_get_indexdef(i.indexrelid) \
             FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid \
             WHERE i.indrelid = 'participations'::regclass AND NOT i.indisprimary",
            &[],
        )
        .await
        .map_err(backend_error)?;
    let mut recreate = Vec::with_capacity(indexes.len());
    for index in &indexes {
        let name: String = index.column(0)?;
        tx.batch_execute(&format!("DROP INDEX \"{name}\""))
            .await
            .map_err(backend_error)?;
        recreate.push(index.column(1)?);
    }
    Ok(recreate)
}

/// Recounts the ledger `url` names (scanning every row, in one read-only
/// snapshot, so it may run beside live servers) and checks its invariants
/// ([`CheckFacts::check`]). For audits and the crash test; never on a hot
/// path.
pub async fn check(url: &DatabaseUrl) -> Result<LedgerCheck> {
    let backend = PgBackend::connect(url).await?;
    let mut client = backend.readers.get().await.map_err(backend_error)?;
    let tx = client
        .build_transaction()
        .isolation_level(IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .await
        .map_err(backend_error)?;
    let counts = tx
        .query_one(
            "SELECT COUNT(*), COALESCE(MIN(seq), 0), COALESCE(MAX(seq), 0), \
             COUNT(DISTINCT round_id), (SELECT COUNT(*) FROM rejections) FROM participations",
            &[],
        )
        .await
        .map_err(backend_error)?;
    let mut facts = CheckFacts {
        participations: counts.u64_at(0)?,
        first_number: counts.u64_at(1)?,
        last_number: counts.u64_at(2)?,
        distinct_rounds: counts.u64_at(3)?,
        rejections: counts.u64_at(4)?,
        ..CheckFacts::default()
    };
    for row in tx
        .query(
            "SELECT day, COUNT(*), MAX(day_count), COUNT(DISTINCT day_count) \
             FROM participations GROUP BY day",
            &[],
        )
        .await
        .map_err(backend_error)?
    {
        facts.day_rows.insert(
            row.column(0)?,
            DayRecount {
                rows: row.u64_at(1)?,
                max_day_count: row.u64_at(2)?,
                distinct_day_counts: row.u64_at(3)?,
            },
        );
    }
    facts.day_tallies = counts_by(&tx, "SELECT day, participations FROM day_tallies").await?;
    facts.share_code_rows = counts_by(
        &tx,
        "SELECT referral, COUNT(*) FROM participations WHERE referral IS NOT NULL \
         GROUP BY referral",
    )
    .await?;
    facts.share_code_tallies = counts_by(
        &tx,
        "SELECT code, participations FROM share_codes WHERE participations > 0",
    )
    .await?;
    facts.referring_rows = counts_by(
        &tx,
        "SELECT referred_by, COUNT(*) FROM players WHERE referred_by IS NOT NULL \
         GROUP BY referred_by",
    )
    .await?;
    facts.referring_tallies = counts_by(
        &tx,
        "SELECT code, referred_players FROM share_codes WHERE referred_players > 0",
    )
    .await?;
    facts.player_rows = player_counts(
        &tx,
        "SELECT player, COUNT(*), MAX(seq) FROM participations GROUP BY player",
    )
    .await?;
    facts.player_tallies =
        player_counts(&tx, "SELECT player, participations, latest FROM players").await?;
    facts.code_owner_mismatches = tx
        .query_one(
            "SELECT (SELECT COUNT(*) FROM players p LEFT JOIN share_codes s \
             ON s.code = p.share_code WHERE p.share_code IS NOT NULL \
             AND s.owner IS DISTINCT FROM p.player) \
             + (SELECT COUNT(*) FROM share_codes s LEFT JOIN players p ON p.player = s.owner \
             WHERE s.owner IS NOT NULL AND p.share_code IS DISTINCT FROM s.code)",
            &[],
        )
        .await
        .map_err(backend_error)?
        .u64_at(0)?;
    let sums = tx
        .query_one(
            "SELECT COALESCE(SUM(participations), 0)::bigint, \
             COALESCE(SUM(referred_players), 0)::bigint FROM share_codes",
            &[],
        )
        .await
        .map_err(backend_error)?;
    facts.share_code_sums = (sums.u64_at(0)?, sums.u64_at(1)?);
    let totals = queries::share_totals(&tx).await?;
    facts.share_totals = (totals.participations, totals.referred_players);
    facts.rejection_rows = counts_by(
        &tx,
        "SELECT reason, COUNT(*) FROM rejections GROUP BY reason",
    )
    .await?;
    facts.rejection_tallies =
        counts_by(&tx, "SELECT reason, rejections FROM rejection_tallies").await?;
    facts.head = Some(queries::head(&tx).await?);
    tx.commit().await.map_err(backend_error)?;
    Ok(facts.check())
}

/// The rows of `sql`: a player, a count and a participation number each.
async fn player_counts<C: GenericClient>(
    client: &C,
    sql: &str,
) -> Result<BTreeMap<PlayerId, (u64, u64)>> {
    client
        .query(sql, &[])
        .await
        .map_err(backend_error)?
        .iter()
        .map(|row| {
            Ok((
                PlayerId::from_bytes(row.bytes_at(0)?),
                (row.u64_at(1)?, row.u64_at(2)?),
            ))
        })
        .collect()
}

/// The rows of `sql`: a key and a count each.
async fn counts_by<C, K>(client: &C, sql: &str) -> Result<BTreeMap<K, u64>>
where
    C: GenericClient,
    K: Ord + for<'a> tokio_postgres::types::FromSql<'a>,
{
    client
        .query(sql, &[])
        .await
        .map_err(backend_error)?
        .iter()
        .map(|row| Ok((row.column(0)?, row.u64_at(1)?)))
        .collect()
}
