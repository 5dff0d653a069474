//! Prometheus metrics, served as text at `/metrics`.
//!
//! Counters and histograms describe this process since it started; the
//! ledger gauges are read from the ledger's tallies at scrape time, so they
//! survive restarts.

use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use sim::wire::RejectReason;

use crate::store::LedgerTotals;

/// The label of per-reason metrics.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct ReasonLabel {
    reason: String,
}

impl ReasonLabel {
    fn of(reason: RejectReason) -> Self {
        Self {
            reason: crate::error::reason_name(reason),
        }
    }
}

/// The metrics the ledger writer reports. Cheap to clone (shared counters).
#[derive(Debug, Clone)]
pub struct LedgerMetrics {
    /// Commands written per transaction.
    batch_rows: Histogram,
    /// Time to write and durably commit one batch, in seconds.
    commit_seconds: Histogram,
    /// Rejection records dropped because the writer queue was full.
    pub rejections_dropped: Counter,
    /// Times the writer rebuilt its allocator from the ledger's tables
    /// (at start, after a failed batch, after a pledge or a school list
    /// from another process); other processes' commits are otherwise
    /// caught up book by book.
    pub allocator_rebuilds: Counter,
}

impl LedgerMetrics {
    /// Records one committed batch of `rows` commands that took `elapsed`.
    pub fn observe_commit(&self, rows: usize, elapsed: Duration) {
        self.batch_rows.observe(rows as f64);
        self.commit_seconds.observe(elapsed.as_secs_f64());
    }
}

impl Default for LedgerMetrics {
    fn default() -> Self {
        Self {
            batch_rows: Histogram::new(exponential_buckets(1.0, 2.0, 12)),
            commit_seconds: Histogram::new(exponential_buckets(0.000_25, 2.0, 14)),
            rejections_dropped: Counter::default(),
            allocator_rebuilds: Counter::default(),
        }
    }
}

/// Every metric of the server, and the registry that encodes them.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    rejections: Family<ReasonLabel, Counter>,
    finish_seconds: Histogram,
    replay_seconds: Histogram,
    ledger_participations: Gauge,
    ledger_rejections: Family<ReasonLabel, Gauge>,
    /// Shared with the ledger writer.
    pub ledger: LedgerMetrics,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut metrics = Self {
            registry: Registry::with_prefix("dreamfairy"),
            rejections: Family::default(),
            finish_seconds: Histogram::new(exponential_buckets(0.000_5, 2.0, 14)),
            replay_seconds: Histogram::new(exponential_buckets(0.000_05, 2.0, 14)),
            ledger_participations: Gauge::default(),
            ledger_rejections: Family::default(),
            ledger: LedgerMetrics::default(),
        };
        let registry = &mut metrics.registry;
        registry.register(
            "rejections",
            "Requests refused by this process, by reason",
            metrics.rejections.clone(),
        );
        registry.register(
            "finish_duration_seconds",
            "Time to answer a counted finish, from request to durable receipt",
            metrics.finish_seconds.clone(),
        );
        registry.register(
            "replay_duration_seconds",
            "Time to replay one input log",
            metrics.replay_seconds.clone(),
        );
        registry.register(
            "ledger_participations",
            "Participations in the ledger",
            metrics.ledger_participations.clone(),
        );
        registry.register(
            "ledger_rejections",
            "Rejections in the ledger, by reason",
            metrics.ledger_rejections.clone(),
        );
        registry.register(
            "ledger_batch_rows",
            "Rows written per ledger transaction",
            metrics.ledger.batch_rows.clone(),
        );
        registry.register(
            "ledger_commit_duration_seconds",
            "Time to write and durably commit one ledger batch",
            metrics.ledger.commit_seconds.clone(),
        );
        registry.register(
            "ledger_rejections_dropped",
            "Rejection records dropped because the ledger queue was full",
            metrics.ledger.rejections_dropped.clone(),
        );
        registry.register(
            "ledger_allocator_rebuilds",
            "Times the ledger writer rebuilt its allocator from the ledger's tables",
            metrics.ledger.allocator_rebuilds.clone(),
        );
        metrics
    }
}

impl Metrics {
    /// Counts one refused request.
    pub fn count_rejection(&self, reason: RejectReason) {
        self.rejections
            .get_or_create(&ReasonLabel::of(reason))
            .inc();
    }

    /// Records the time to answer a counted finish.
    pub fn observe_finish(&self, elapsed: Duration) {
        self.finish_seconds.observe(elapsed.as_secs_f64());
    }

    /// Records the time of one replay.
    pub fn observe_replay(&self, elapsed: Duration) {
        self.replay_seconds.observe(elapsed.as_secs_f64());
    }

    /// The text exposition of every metric, with the ledger gauges set from
    /// `totals`.
    pub fn encode(&self, totals: &LedgerTotals) -> String {
        self.ledger_participations
            .set(i64::try_from(totals.participations).unwrap_or(i64::MAX));
        for (reason, count) in &totals.rejections {
            self.ledger_rejections
                .get_or_create(&ReasonLabel::of(*reason))
                .set(i64::try_from(*count).unwrap_or(i64::MAX));
        }
        let mut text = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }
}
