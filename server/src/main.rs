//! The `server` command line: parses arguments, sets up logging, and runs
//! one of the subcommands. Everything else lives in the library.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use server::store::SqliteStore;
use server::{AppState, ServeConfig};
use tracing_subscriber::EnvFilter;

#[derive(Debug, Parser)]
#[command(version, about = "圆梦精灵图书馆 (Dream Fairy Library) server")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the game and the round API.
    Serve(ServeConfig),
    /// Append synthetic participations to a stopped server's ledger, fast
    /// (benchmarks, rehearsals). Prints a JSON report.
    BulkLoad {
        /// Data directory of the ledger.
        #[arg(long, env = "DREAMFAIRY_DATA_DIR", default_value = "data")]
        data_dir: PathBuf,
        /// Participations to append.
        #[arg(long)]
        count: u64,
        /// China days (ending today) to spread them over.
        #[arg(long, default_value_t = 30)]
        days: u32,
        /// Seed of the synthetic data.
        #[arg(long, default_value_t = 2019)]
        seed: u64,
    },
    /// Recount a stopped server's ledger and check its invariants. Prints a
    /// JSON report; exits with 1 if a problem was found.
    CheckLedger {
        /// Data directory of the ledger.
        #[arg(long, env = "DREAMFAIRY_DATA_DIR", default_value = "data")]
        data_dir: PathBuf,
    },
}

fn main() -> anyhow::Result<ExitCode> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    match Cli::parse().command {
        Command::Serve(config) => {
            let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
            runtime.block_on(serve(config))?;
        }
        Command::BulkLoad {
            data_dir,
            count,
            days,
            seed,
        } => {
            std::fs::create_dir_all(&data_dir)
                .with_context(|| format!("creating {}", data_dir.display()))?;
            let path = data_dir.join(SqliteStore::FILE_NAME);
            let report = SqliteStore::bulk_load(&path, count, days, server::now_unix_ms(), seed)?;
            println!("{}", serde_json::to_string(&report)?);
        }
        Command::CheckLedger { data_dir } => {
            let check = SqliteStore::check(&data_dir.join(SqliteStore::FILE_NAME))?;
            println!("{}", serde_json::to_string_pretty(&check)?);
            if !check.problems.is_empty() {
                return Ok(ExitCode::FAILURE);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn serve(config: ServeConfig) -> anyhow::Result<()> {
    let state = AppState::open(&config).context("opening the server state")?;
    let listener = tokio::net::TcpListener::bind(config.addr)
        .await
        .with_context(|| format!("binding {}", config.addr))?;
    let addr = listener.local_addr()?;
    // Harnesses read this exact first line to learn the port.
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "listening on http://{addr}")?;
    stdout.flush()?;
    drop(stdout);
    tracing::info!(%addr, data_dir = %config.data_dir.display(), dist = %config.dist.display(), "serving");
    server::serve(listener, state, shutdown_signal()).await?;
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}
