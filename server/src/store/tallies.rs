//! The per-day tallies behind the console's period reports, derived in
//! shared code from what a transaction already decided: books allocated
//! and received count on the transaction's China day, books shipped on
//! their shipment's day, refusals on the day they were refused. Each
//! school's day moves its county's day too, so a report of any period
//! reads at most one row per county and day, never the books.

use super::StoreError;
use super::backend::{Changes, LedgerRead, Result, SchoolDelta};
use crate::domain::ChinaDay;

/// Adds `delta` to `total`.
fn add(total: &mut SchoolDelta, delta: SchoolDelta) {
    total.allocated += delta.allocated;
    total.shipped += delta.shipped;
    total.received += delta.received;
}

/// Fills in `changes`' per-day tallies (schools, counties, refusals) from
/// its school deltas, shipments and rejections, asking `tx` only for the
/// counties of the schools that moved. Called once per transaction, just
/// before it is written.
pub(crate) async fn by_day(tx: &mut impl LedgerRead, changes: &mut Changes) -> Result<()> {
    let today = ChinaDay::from_unix_ms(changes.at_ms).number();
    for (school, delta) in &changes.school_deltas {
        // Shipped books count on their shipment's day, below.
        let on_the_day = SchoolDelta {
            shipped: 0,
            ..*delta
        };
        if on_the_day != SchoolDelta::default() {
            add(
                changes
                    .school_days
                    .entry((school.clone(), today))
                    .or_default(),
                on_the_day,
            );
        }
    }
    for shipment in &changes.shipments {
        changes
            .school_days
            .entry((shipment.school.clone(), shipment.shipped_on))
            .or_default()
            .shipped += shipment.books.len() as u64;
    }
    for rejection in &changes.rejections {
        let day = ChinaDay::from_unix_ms(rejection.at_ms).number();
        *changes
            .rejection_days
            .entry((day, rejection.reason))
            .or_default() += 1;
    }
    if changes.school_days.is_empty() {
        return Ok(());
    }
    let schools: Vec<String> = changes
        .school_days
        .keys()
        .map(|(school, _)| school.clone())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let counties = tx.school_counties(schools).await?;
    for ((school, day), delta) in &changes.school_days {
        let county = counties.get(school).ok_or_else(|| {
            StoreError::Inconsistent(format!("school {school} has books but no county"))
        })?;
        add(
            changes
                .county_days
                .entry((county.clone(), *day))
                .or_default(),
            *delta,
        );
    }
    Ok(())
}
