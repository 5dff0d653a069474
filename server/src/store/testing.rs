//! Test support for the store's own tests (and the report cache's): a new,
//! empty ledger on either backend, and [`on_both_backends!`], which runs a
//! test written once on each.

use std::sync::Arc;

use super::postgres::ScratchDatabase;
use super::{Location, Store};
use crate::metrics::LedgerMetrics;

/// Which ledger backend a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Db {
    /// A SQLite file in a temporary directory.
    Sqlite,
    /// A database of the test's own on the PostgreSQL server of
    /// `DREAMFAIRY_TEST_POSTGRES_URL`.
    Postgres,
}

/// A new, empty ledger's place, which lives as long as this does.
#[derive(Debug)]
pub(crate) struct TestLedger {
    /// Where it is.
    pub location: Location,
    _dir: tempfile::TempDir,
    _database: Option<ScratchDatabase>,
}

impl TestLedger {
    /// A new ledger on `db`.
    pub async fn new(db: Db) -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let (location, database) = match db {
            Db::Sqlite => (
                Location::Sqlite {
                    data_dir: dir.path().to_owned(),
                },
                None,
            ),
            Db::Postgres => {
                let database = ScratchDatabase::for_tests().await;
                (
                    Location::Postgres {
                        url: database.url().clone(),
                    },
                    Some(database),
                )
            }
        };
        Self {
            location,
            _dir: dir,
            _database: database,
        }
    }

    /// Opens the ledger, as one more server process would: its own
    /// connections, its own writer.
    pub async fn open(&self) -> Arc<dyn Store> {
        self.open_with_metrics(LedgerMetrics::default()).await
    }

    /// [`Self::open`], reporting to `metrics`.
    pub async fn open_with_metrics(&self, metrics: LedgerMetrics) -> Arc<dyn Store> {
        super::open_with_defaults(&self.location, metrics)
            .await
            .expect("the ledger opens")
    }
}

/// Runs each named `async fn(Db)` once per backend, as the tests
/// `<name>::sqlite` and `<name>::postgres`. An optional first argument is
/// the test attribute (default `#[tokio::test]`).
macro_rules! on_both_backends {
    (#[$test:meta] $($name:ident),+ $(,)?) => {
        $(
            mod $name {
                #[$test]
                async fn sqlite() {
                    super::$name($crate::store::testing::Db::Sqlite).await;
                }

                #[$test]
                async fn postgres() {
                    super::$name($crate::store::testing::Db::Postgres).await;
                }
            }
        )+
    };
    ($($name:ident),+ $(,)?) => {
        on_both_backends!(#[tokio::test] $($name),+);
    };
}
pub(crate) use on_both_backends;
