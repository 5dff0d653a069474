//! `server backup` on PostgreSQL: `pg_dump` of one snapshot while the
//! servers keep writing, in `pg_dump`'s custom format (restored with
//! `pg_restore` into an empty database).
//!
//! The snapshot is this process's: a read-only repeatable-read transaction
//! exports it (`pg_export_snapshot`) and reads the last participation
//! number in it, and `pg_dump --snapshot` dumps exactly that, so the report
//! says what the file holds. Like SQLite's backup, the file is written
//! beside `out`, made durable, then renamed into place: `out` is never half
//! a dump.

use std::path::Path;
use std::process::Stdio;

use tokio_postgres::{IsolationLevel, NoTls};

use super::DatabaseUrl;
use crate::store::backend::Result;
use crate::store::sqlite::BackupReport;
use crate::store::{StoreError, backend_error};

/// The program run, unless `DREAMFAIRY_PG_DUMP` names another (its major
/// version must be at least the server's).
const PG_DUMP: &str = "pg_dump";

/// Dumps the database `url` names into `out`.
pub async fn backup(url: &DatabaseUrl, out: &Path) -> Result<BackupReport> {
    let (mut client, connection) = url
        .driver_config()
        .connect(NoTls)
        .await
        .map_err(backend_error)?;
    let connection = tokio::spawn(connection);
    let snapshot = client
        .build_transaction()
        .isolation_level(IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .await
        .map_err(backend_error)?;
    let exported: String = snapshot
        .query_one("SELECT pg_export_snapshot()", &[])
        .await
        .and_then(|row| row.try_get(0))
        .map_err(backend_error)?;
    let last_number: i64 = snapshot
        .query_one("SELECT COALESCE(MAX(seq), 0) FROM participations", &[])
        .await
        .and_then(|row| row.try_get(0))
        .map_err(backend_error)?;
    let partial = out.with_extension("partial");
    let _ = std::fs::remove_file(&partial);
    // The exported snapshot lives as long as the transaction: it stays
    // open until pg_dump has finished.
    let dumped = pg_dump(url, &exported, &partial).await;
    snapshot.commit().await.map_err(backend_error)?;
    drop(client);
    let _ = connection.await;
    dumped?;
    std::fs::File::open(&partial)
        .and_then(|file| file.sync_all())
        .map_err(backend_error)?;
    std::fs::rename(&partial, out).map_err(backend_error)?;
    Ok(BackupReport {
        last_number: u64::try_from(last_number)
            .map_err(|_| StoreError::Inconsistent(format!("participation {last_number}")))?,
        bytes: std::fs::metadata(out).map_err(backend_error)?.len(),
    })
}

/// Runs `pg_dump` of `snapshot` into `file`. The connection goes in
/// libpq's environment variables, never on the command line, where other
/// users could read a password.
async fn pg_dump(url: &DatabaseUrl, snapshot: &str, file: &Path) -> Result<()> {
    let program = std::env::var_os("DREAMFAIRY_PG_DUMP").unwrap_or_else(|| PG_DUMP.into());
    let mut command = tokio::process::Command::new(&program);
    command
        .arg("--format=custom")
        .arg("--no-password")
        .arg(format!("--snapshot={snapshot}"))
        .arg("--file")
        .arg(file)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (variable, value) in libpq_environment(url) {
        command.env(variable, value);
    }
    let output = command.output().await.map_err(|error| {
        StoreError::Backend(format!("running {}: {error}", program.to_string_lossy()).into())
    })?;
    if output.status.success() {
        Ok(())
    } else {
        Err(StoreError::Backend(
            format!(
                "pg_dump failed ({}): {}",
                output.status,
                String::from_utf8_lossy(&output.stderr).trim()
            )
            .into(),
        ))
    }
}

/// The libpq environment variables that name what `url` names.
fn libpq_environment(url: &DatabaseUrl) -> Vec<(&'static str, String)> {
    let config = url.driver_config();
    let mut variables = Vec::new();
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .map(|host| match host {
            tokio_postgres::config::Host::Tcp(name) => name.clone(),
            #[cfg(unix)]
            tokio_postgres::config::Host::Unix(path) => path.display().to_string(),
        })
        .collect();
    if !hosts.is_empty() {
        variables.push(("PGHOST", hosts.join(",")));
    }
    let ports: Vec<String> = config.get_ports().iter().map(ToString::to_string).collect();
    if !ports.is_empty() {
        variables.push(("PGPORT", ports.join(",")));
    }
    if let Some(user) = config.get_user() {
        variables.push(("PGUSER", user.to_owned()));
    }
    if let Some(password) = config.get_password() {
        variables.push(("PGPASSWORD", String::from_utf8_lossy(password).into_owned()));
    }
    if let Some(dbname) = config.get_dbname() {
        variables.push(("PGDATABASE", dbname.to_owned()));
    }
    variables
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(url: &str, expected: &[(&str, &str)]) {
        let url = DatabaseUrl::parse(url).unwrap();
        let found = libpq_environment(&url);
        let found: Vec<(&str, &str)> = found
            .iter()
            .map(|(variable, value)| (*variable, value.as_str()))
            .collect();
        assert_eq!(found, expected, "the environment for {url}");
    }

    #[test]
    fn the_connection_goes_in_libpqs_variables() {
        check(
            "postgres://ledger:s3cret@db.example.org:6432/campaign",
            &[
                ("PGHOST", "db.example.org"),
                ("PGPORT", "6432"),
                ("PGUSER", "ledger"),
                ("PGPASSWORD", "s3cret"),
                ("PGDATABASE", "campaign"),
            ],
        );
        check(
            "postgresql://postgres@%2Ftmp%2Fpg/postgres",
            &[
                ("PGHOST", "/tmp/pg"),
                ("PGPORT", "5432"),
                ("PGUSER", "postgres"),
                ("PGDATABASE", "postgres"),
            ],
        );
    }
}
