//! [`ScratchDatabase`]: a database of its own on a shared PostgreSQL
//! server, for one test or one benchmark run, so that many run at once on
//! one cluster without seeing each other.

use std::fmt;

use rand::Rng as _;
use tokio_postgres::NoTls;

use super::DatabaseUrl;
use crate::store::backend::Result;
use crate::store::{StoreError, backend_error};

/// The environment variable that names the PostgreSQL server the tests
/// make their databases on (`cargo xtask test` starts one and sets it).
pub const TEST_URL_VARIABLE: &str = "DREAMFAIRY_TEST_POSTGRES_URL";

/// An empty database with a random name on the server of a
/// [`DatabaseUrl`], dropped (closing any connection still open to it) when
/// this is dropped.
pub struct ScratchDatabase {
    server: DatabaseUrl,
    name: String,
    url: DatabaseUrl,
}

impl fmt::Debug for ScratchDatabase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScratchDatabase")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl ScratchDatabase {
    /// Creates `<prefix>_<random>` on the server `server` connects to (its
    /// user needs the right to create databases).
    pub async fn create(server: &DatabaseUrl, prefix: &str) -> Result<Self> {
        let name = format!("{prefix}_{:016x}", rand::rng().random::<u64>());
        let url = server.with_dbname(&name)?;
        run_on_server(server, &format!("CREATE DATABASE \"{name}\"")).await?;
        Ok(Self {
            server: server.clone(),
            name,
            url,
        })
    }

    /// A database for one test, on the server [`TEST_URL_VARIABLE`] names.
    ///
    /// # Panics
    /// When the variable is not set or the database cannot be created. A
    /// PostgreSQL test never passes without PostgreSQL, in CI or not: a
    /// skipped test would look like a passed one.
    pub async fn for_tests() -> Self {
        let Some(url) = std::env::var_os(TEST_URL_VARIABLE) else {
            panic!(
                "this test runs on PostgreSQL, and {TEST_URL_VARIABLE} is not set. \
                 `cargo xtask test` starts a throwaway PostgreSQL and sets it; for plain \
                 `cargo test`, start one with `cargo xtask postgres` and export the URL it \
                 prints (or pass a test name filter ending in `sqlite` to run only the \
                 SQLite half)"
            );
        };
        let url = url.to_string_lossy();
        let server =
            DatabaseUrl::parse(&url).unwrap_or_else(|error| panic!("{TEST_URL_VARIABLE}: {error}"));
        Self::create(&server, "t").await.unwrap_or_else(|error| {
            panic!("cannot create a test database on the server {TEST_URL_VARIABLE} names ({server}): {error}")
        })
    }

    /// The connection string of the database.
    pub fn url(&self) -> &DatabaseUrl {
        &self.url
    }
}

impl Drop for ScratchDatabase {
    fn drop(&mut self) {
        let (server, name) = (self.server.clone(), self.name.clone());
        // Dropping may happen inside an async runtime (which must not
        // block) or outside one: a thread with a runtime of its own works
        // in both.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(backend_error)?;
            runtime.block_on(run_on_server(
                &server,
                &format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"),
            ))
        })
        .join();
        match dropped {
            Ok(Ok(())) => {}
            Ok(Err(error)) => {
                tracing::warn!(database = self.name, %error, "a scratch database was not dropped");
            }
            Err(_) => tracing::warn!(database = self.name, "dropping a scratch database panicked"),
        }
    }
}

/// Runs one statement on its own connection to `server`.
async fn run_on_server(server: &DatabaseUrl, sql: &str) -> Result<()> {
    let (client, connection) = server
        .driver_config()
        .connect(NoTls)
        .await
        .map_err(backend_error)?;
    let driver = tokio::spawn(connection);
    let result = client.batch_execute(sql).await.map_err(backend_error);
    drop(client);
    driver
        .await
        .map_err(|error| StoreError::Backend(Box::new(error)))?
        .map_err(backend_error)?;
    result
}
