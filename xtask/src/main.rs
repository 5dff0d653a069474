//! `cargo xtask`: the project's build pipeline, for what cargo cannot do alone.
//!
//! - `dist`: build the game for the browser and write `dist/` (hashed,
//!   precompressed files and `index.html`, and the share font subset in
//!   `dist/fonts/`), printing a size table.
//! - `fonts`: only the share font subset, `dist/fonts/`.
//! - `run`: set up what is missing, build `dist/` if stale and start the server.
//! - `test`: set up what is missing and run every test, browser tests included
//!   (with a throwaway PostgreSQL for the PostgreSQL ledger's tests), and
//!   schemathesis against the real server.
//! - `schemathesis`: only the schema fuzzing of `test`.
//! - `bench`: run a named benchmark.
//! - `postgres`: start a throwaway PostgreSQL and print its URL, for running
//!   the PostgreSQL tests with plain `cargo test`.
//! - `fuzz`: run each `cargo fuzz` target of `fuzz/` for a bounded time.
//! - `lighthouse`: Lighthouse's accessibility and best-practices scores of
//!   the game page and of every kind of server-rendered page.
//!
//! Every correctness check stays reachable through `cargo test`; this crate only
//! prepares what those tests need (the WASM build, the server binary, Chromium,
//! PostgreSQL).

mod bench;
mod dist;
mod fonts;
mod fuzz;
mod lighthouse;
mod postgres;
mod run;
mod schemathesis;
mod setup;
mod test;
mod workspace;

use anyhow::Result;
use clap::{Parser, Subcommand};

use crate::workspace::Workspace;

#[derive(Debug, Parser)]
#[command(name = "cargo xtask", about = "The Dream Fairy Library build pipeline")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Build the game for the browser into `dist/` and print its sizes.
    Dist,
    /// Write only the font subset of the share cards and posters to `dist/fonts/`.
    Fonts,
    /// Start the whole system on http://127.0.0.1:8080 (builds what is stale).
    Run(run::RunArgs),
    /// Run every test of the workspace, browser end-to-end tests and schema fuzzing included.
    Test(test::TestArgs),
    /// Only the schema fuzzing of `test`: schemathesis against the real server.
    Schemathesis,
    /// Run a benchmark and print its report.
    Bench(bench::BenchArgs),
    /// Start a throwaway PostgreSQL (Unix socket only) and print its URL;
    /// stop it and delete its data on Enter.
    Postgres,
    /// Run every fuzz target of `fuzz/` for a bounded time (cargo fuzz).
    Fuzz(fuzz::FuzzArgs),
    /// Score the game page and every kind of server page with Lighthouse
    /// (accessibility, best practices: at least 0.95 each).
    Lighthouse(lighthouse::LighthouseArgs),
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    let workspace = Workspace::locate()?;
    match cli.command {
        Command::Dist => dist::build(&workspace).map(|_| ()),
        Command::Fonts => fonts::build(&workspace),
        Command::Run(args) => run::run(&workspace, &args),
        Command::Test(args) => test::test(&workspace, &args),
        Command::Schemathesis => test::schemathesis(&workspace),
        Command::Bench(args) => bench::bench(&workspace, &args),
        Command::Postgres => postgres::serve_until_enter(&workspace.sh),
        Command::Fuzz(args) => fuzz::fuzz(&workspace, &args),
        Command::Lighthouse(args) => lighthouse::lighthouse(&workspace, &args),
    }
}
