//! `cargo xtask run`: the whole system on one machine, from a fresh clone.
//! A new data folder starts with the demo data of `assets/demo/` (invented
//! sample schools in real poverty counties, and invented sponsors), so the
//! receipts name a book and a school from the first round on, and one
//! `admin` account for the console, whose generated password is printed
//! once (no account and no password exist otherwise).

use std::path::Path;

use anyhow::{Context as _, Result};
use clap::Args;
use serde::Deserialize;
use xshell::cmd;

use crate::workspace::Workspace;

/// The demo school list and pledges, relative to the workspace root.
const DEMO_SCHOOLS: &str = "assets/demo/schools.csv";
const DEMO_PLEDGES: &str = "assets/demo/pledges.csv";

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: String,
    /// Folder of the embedded database and the server's secret.
    #[arg(long, default_value = "data")]
    data_dir: String,
    /// Start a new data folder empty, without the demo schools and pledges.
    #[arg(long)]
    no_demo_data: bool,
    /// Serve from this PostgreSQL database (`postgres://user@host/db`)
    /// instead of the embedded SQLite in the data folder; the demo data is
    /// loaded into it when it has no school yet.
    #[arg(long, env = "DATABASE_URL")]
    database_url: Option<String>,
}

/// One row of `assets/demo/pledges.csv`.
#[derive(Debug, Deserialize)]
struct DemoPledge {
    sponsor: String,
    participations_per_book: u64,
    book_cap: u64,
}

pub fn run(ws: &Workspace, args: &RunArgs) -> Result<()> {
    crate::dist::build(ws)?;
    let RunArgs {
        addr,
        data_dir,
        no_demo_data,
        database_url,
    } = args;
    cmd!(ws.sh, "cargo build --package server --bin server").run()?;
    let server = ws.target_dir.join("debug").join("server");
    // Every subcommand reads the ledger's place from the environment.
    let _database = database_url
        .as_ref()
        .map(|url| ws.sh.push_env("DATABASE_URL", url));
    let new_ledger = match database_url {
        None => !ws.root.join(data_dir).exists(),
        Some(_) => has_no_school(ws, &server, data_dir)?,
    };
    let mut admin_password = None;
    if !*no_demo_data && new_ledger {
        load_demo_data(ws, &server, data_dir)?;
        admin_password = Some(create_admin(ws, &server, data_dir)?);
    }
    let dist = ws.dist_dir();
    println!("Dream Fairy Library is starting:");
    println!("  the game        http://{addr}/");
    println!("  public report   http://{addr}/report");
    println!("  report (JSON)   http://{addr}/api/report");
    println!("  participation   http://{addr}/p/1 (once someone has played)");
    println!("  totals (JSON)   http://{addr}/api/totals");
    println!("  health          http://{addr}/healthz");
    println!("  metrics         http://{addr}/metrics");
    match database_url {
        None => println!("  database        {data_dir}/ (embedded SQLite)"),
        Some(_) => {
            println!("  database        PostgreSQL (DATABASE_URL); the token secret in {data_dir}/")
        }
    }
    match &admin_password {
        Some(password) => {
            println!("  admin console   http://{addr}/admin  user: admin  password: {password}");
            println!(
                "                  (shown this once; change it with `server admin set-password`)"
            );
        }
        None => println!(
            "  admin console   http://{addr}/admin  (accounts: `server admin create-user`)"
        ),
    }
    println!("Stop with Ctrl-C; queued writes are finished first.");
    cmd!(
        ws.sh,
        "{server} serve --addr {addr} --data-dir {data_dir} --dist {dist}"
    )
    .run()?;
    Ok(())
}

/// Whether the ledger has no school list yet (a new PostgreSQL database).
fn has_no_school(ws: &Workspace, server: &Path, data_dir: &str) -> Result<bool> {
    let report = cmd!(ws.sh, "{server} report --data-dir {data_dir}")
        .env("RUST_LOG", "warn")
        .read()?;
    let report: serde_json::Value =
        serde_json::from_str(&report).context("the ledger's report as JSON")?;
    Ok(report["schools"].as_array().is_none_or(Vec::is_empty))
}

/// Characters of a generated password: RFC 4648 base32 (no 0, 1, 8 or 9
/// to confuse with letters).
const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// A random password of 20 base32 characters (100 bits).
fn generated_password() -> Result<String> {
    let mut bytes = [0u8; 20];
    getrandom::fill(&mut bytes).map_err(|error| anyhow::anyhow!("no randomness: {error}"))?;
    Ok(bytes
        .iter()
        .map(|byte| char::from(BASE32[usize::from(byte & 31)]))
        .collect())
}

/// Creates the `admin` account of a new demo data folder with a generated
/// password, and returns the password.
pub(crate) fn create_admin(ws: &Workspace, server: &Path, data_dir: &str) -> Result<String> {
    let password = generated_password()?;
    cmd!(
        ws.sh,
        "{server} admin create-user --data-dir {data_dir} --user admin --role admin --password-stdin"
    )
    .stdin(format!("{password}\n"))
    .ignore_stdout()
    .run()?;
    Ok(password)
}

/// Imports the demo schools and pledges into a new data folder, with the
/// same subcommands an admin uses.
pub(crate) fn load_demo_data(ws: &Workspace, server: &Path, data_dir: &str) -> Result<()> {
    println!("A new data folder: loading the demo schools and sponsors (invented samples).");
    let schools = ws.root.join(DEMO_SCHOOLS);
    cmd!(
        ws.sh,
        "{server} import-schools --data-dir {data_dir} --file {schools}"
    )
    .run()?;
    let pledges = ws.root.join(DEMO_PLEDGES);
    let mut reader = csv::Reader::from_path(&pledges)
        .with_context(|| format!("reading {}", pledges.display()))?;
    for pledge in reader.deserialize() {
        let DemoPledge {
            sponsor,
            participations_per_book,
            book_cap,
        } = pledge.with_context(|| format!("a row of {}", pledges.display()))?;
        let (per_book, books) = (participations_per_book.to_string(), book_cap.to_string());
        cmd!(
            ws.sh,
            "{server} pledge --data-dir {data_dir} --sponsor {sponsor} --participations-per-book {per_book} --books {books}"
        )
        .run()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_passwords_are_twenty_base32_characters_and_differ() {
        let first = generated_password().unwrap();
        let second = generated_password().unwrap();
        assert_eq!(first.len(), 20, "20 characters: {first}");
        assert!(
            first.bytes().all(|byte| BASE32.contains(&byte)),
            "base32 only: {first}"
        );
        assert_ne!(first, second, "random");
    }
}
