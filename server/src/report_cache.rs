//! The public report, kept serialised and ready to send.
//!
//! The report covers every school (10,000 at the campaign's size), so
//! reading the tallies and serialising them costs milliseconds. Doing that
//! per request would tie `GET /api/report`'s latency to its traffic, so
//! instead [`keep_fresh`] rebuilds the JSON and CSV bodies off the request
//! path, and a request only clones the bytes ([`ReportCache::bodies`]).
//!
//! The rebuild runs at most once per [`REFRESH_PERIOD`], and only when the
//! ledger's [`revision`](crate::store::Store::revision) moved, which covers
//! the server's own commits and the admin commands run from another process.
//!
//! **Staleness bound:** a change committed to the ledger appears in the
//! report at most [`REFRESH_PERIOD`] plus one rebuild later (about 1 s in
//! all at 10,000 schools).

use std::time::Duration;

use axum::body::Bytes;
use tokio::sync::{Mutex, watch};
use tokio::time::MissedTickBehavior;
use tokio_util::sync::CancellationToken;

use crate::allocation::Report;
use crate::store::{Store, StoreError};

/// How often [`keep_fresh`] looks for changes to the ledger: the report's
/// staleness bound, apart from the rebuild itself.
pub const REFRESH_PERIOD: Duration = Duration::from_secs(1);

/// The report, serialised in each format the endpoint serves. Cloning it
/// only counts references.
#[derive(Debug, Clone)]
pub struct ReportBodies {
    /// The report as JSON.
    pub json: Bytes,
    /// The report as CSV (UTF-8 with a byte-order mark, for Excel).
    pub csv: Bytes,
}

impl ReportBodies {
    /// Serialises `report` in both formats.
    pub fn encode(report: &Report) -> Result<Self, ReportError> {
        Ok(Self {
            json: serde_json::to_vec(report)?.into(),
            csv: report.to_csv()?.into(),
        })
    }
}

/// Why the report could not be rebuilt.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The ledger could not be read.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The report did not serialise to JSON.
    #[error("report as JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// The report did not serialise to CSV.
    #[error("report as CSV: {0}")]
    Csv(#[from] csv::Error),
    /// The serialising task panicked.
    #[error("report serialising task: {0}")]
    Task(#[from] tokio::task::JoinError),
}

/// The latest serialised report, shared by every request.
#[derive(Debug)]
pub struct ReportCache {
    /// The bodies requests are answered with; `None` until the first build.
    bodies: watch::Sender<Option<ReportBodies>>,
    /// The ledger revision the bodies were read at. Held for the whole of a
    /// rebuild, so rebuilds never overlap and an older report never
    /// replaces a newer one.
    built_at_revision: Mutex<Option<u64>>,
}

impl Default for ReportCache {
    fn default() -> Self {
        Self {
            bodies: watch::Sender::new(None),
            built_at_revision: Mutex::new(None),
        }
    }
}

impl ReportCache {
    /// The report to answer with: the cached bodies, or, only before the
    /// first rebuild finished, a report built now.
    pub async fn bodies(&self, store: &dyn Store) -> Result<ReportBodies, ReportError> {
        if let Some(bodies) = self.bodies.borrow().clone() {
            return Ok(bodies);
        }
        self.refresh(store).await
    }

    /// Tells of every rebuild (tests wait on it rather than on the clock).
    pub fn subscribe(&self) -> watch::Receiver<Option<ReportBodies>> {
        self.bodies.subscribe()
    }

    /// Rebuilds the bodies if the ledger changed since they were read (or
    /// if there are none yet), and answers the bodies now current.
    pub async fn refresh(&self, store: &dyn Store) -> Result<ReportBodies, ReportError> {
        let mut built_at = self.built_at_revision.lock().await;
        // Read the revision before the report: a commit landing between the
        // two moves the revision past this one, so the next refresh rebuilds
        // again and no change is ever missed.
        let revision = store.revision().await?;
        if *built_at == Some(revision)
            && let Some(bodies) = self.bodies.borrow().clone()
        {
            return Ok(bodies);
        }
        let report = store.report().await?;
        // Serialising 10,000 schools is CPU work: keep it off the async
        // threads that answer requests.
        let bodies = tokio::task::spawn_blocking(move || ReportBodies::encode(&report)).await??;
        self.bodies.send_replace(Some(bodies.clone()));
        *built_at = Some(revision);
        Ok(bodies)
    }
}

/// Keeps `cache` fresh from `store` until `shutdown` is cancelled: looks for
/// a change every [`REFRESH_PERIOD`] (the first time at once) and rebuilds
/// when there is one. A failed rebuild is logged and retried on the next
/// tick; requests meanwhile get the last good report.
pub async fn keep_fresh(cache: &ReportCache, store: &dyn Store, shutdown: CancellationToken) {
    let mut ticks = tokio::time::interval(REFRESH_PERIOD);
    // After a slow rebuild, wait a whole period again rather than catching
    // up with back-to-back rebuilds.
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            _ = ticks.tick() => {}
        }
        if let Err(error) = cache.refresh(store).await {
            tracing::warn!(%error, "the public report could not be rebuilt; serving the last one");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::allocation::open_data::sample_school;
    use crate::store::testing::{Db, TestLedger, on_both_backends};

    on_both_backends!(
        the_report_is_rebuilt_only_when_the_ledger_changed,
        the_refresher_picks_up_a_change_and_stops_on_shutdown,
    );

    /// Imports `school` as the CLI would: from another ledger (its own
    /// connections and writer) on the same database.
    async fn import_elsewhere(ledger: &TestLedger, id: &str) {
        let other = ledger.open().await;
        other
            .import_schools(
                "schools.csv",
                vec![sample_school(id, 100, 5)],
                None,
                crate::store::Actor::os_user("test"),
            )
            .await
            .unwrap();
        other.close().await.unwrap();
    }

    async fn the_report_is_rebuilt_only_when_the_ledger_changed(db: Db) {
        let ledger = TestLedger::new(db).await;
        let (store, cache) = (ledger.open().await, ReportCache::default());

        let first = cache
            .bodies(store.as_ref())
            .await
            .expect("built on first use");
        let report: Report = serde_json::from_slice(&first.json).unwrap();
        assert!(report.schools.is_empty(), "no school imported yet");
        assert!(
            first.csv.starts_with("\u{feff}".as_bytes()),
            "the CSV body has its BOM"
        );

        let unchanged = cache.refresh(store.as_ref()).await.unwrap();
        assert_eq!(
            unchanged.json.as_ptr(),
            first.json.as_ptr(),
            "nothing was committed: the same bytes, not a rebuild"
        );

        import_elsewhere(&ledger, "A").await;
        let rebuilt = cache.refresh(store.as_ref()).await.unwrap();
        let report: Report = serde_json::from_slice(&rebuilt.json).unwrap();
        assert_eq!(
            report
                .schools
                .iter()
                .map(|s| s.school.id.as_str())
                .collect::<Vec<_>>(),
            ["A"],
            "the import is in the rebuilt report"
        );
        assert_eq!(
            cache.bodies(store.as_ref()).await.unwrap().json,
            rebuilt.json,
            "requests get the rebuilt bodies"
        );
        store.close().await.unwrap();
    }

    async fn the_refresher_picks_up_a_change_and_stops_on_shutdown(db: Db) {
        let ledger = TestLedger::new(db).await;
        let (store, cache) = (ledger.open().await, ReportCache::default());
        let mut rebuilds = cache.subscribe();
        let shutdown = CancellationToken::new();
        let refresher = keep_fresh(&cache, store.as_ref(), shutdown.clone());
        let scenario = async {
            tokio::time::timeout(Duration::from_secs(10), rebuilds.wait_for(Option::is_some))
                .await
                .expect("a first report at once")
                .unwrap();
            import_elsewhere(&ledger, "B").await;
            tokio::time::timeout(
                Duration::from_secs(10),
                rebuilds.wait_for(|bodies| {
                    bodies.as_ref().is_some_and(|bodies| {
                        serde_json::from_slice::<Report>(&bodies.json)
                            .is_ok_and(|report| report.schools.len() == 1)
                    })
                }),
            )
            .await
            .expect("the import is published within the staleness bound")
            .unwrap();
            shutdown.cancel();
        };
        let ((), ()) = tokio::time::timeout(
            Duration::from_secs(20),
            futures::future::join(refresher, scenario),
        )
        .await
        .expect("the refresher returns once shut down");
        store.close().await.unwrap();
    }
}
