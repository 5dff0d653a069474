//! `cargo xtask test`: every test, on a fresh machine, in one command.
//!
//! The tests themselves are ordinary `cargo test` tests; this prepares what the
//! end-to-end ones need (the browser build, the server binary, Chromium; the
//! font subset and poppler-utils for the share tests; a throwaway PostgreSQL
//! for the tests that run on both ledger backends) and tells them where it
//! is through environment variables.

use anyhow::Result;
use clap::Args;
use xshell::cmd;

use crate::postgres::{Cluster, TEST_URL_VARIABLE};
use crate::setup::{ensure_chromium, ensure_poppler, ensure_wasm_target};
use crate::workspace::Workspace;

#[derive(Debug, Args)]
pub struct TestArgs {
    /// Extra arguments for `cargo test` (after `--`), e.g. a test name filter.
    #[arg(last = true)]
    cargo_test_args: Vec<String>,
}

pub fn test(ws: &Workspace, args: &TestArgs) -> Result<()> {
    ensure_wasm_target(&ws.sh)?;
    let chromium = ensure_chromium(&ws.sh)?;
    ensure_poppler(&ws.sh)?;
    crate::dist::build(ws)?;
    eprintln!("xtask: building the server binary for the end-to-end tests");
    cmd!(ws.sh, "cargo build --package server --bin server").run()?;

    let server_bin = ws.binary("debug", "server");
    let dist = ws.dist_dir();
    let artifacts = ws.artifacts_dir();
    // One cluster for the whole run (each test makes a database of its
    // own in it); a URL given in the environment is used instead.
    let (cluster, postgres_url) = match std::env::var(TEST_URL_VARIABLE) {
        Ok(url) => (None, url),
        Err(_) => {
            let cluster = Cluster::start(&ws.sh)?;
            let url = cluster.url().to_owned();
            (Some(cluster), url)
        }
    };
    let extra = &args.cargo_test_args;
    let tests = cmd!(ws.sh, "cargo test --workspace --no-fail-fast -- {extra...}")
        .env("DREAMFAIRY_SERVER_BIN", server_bin)
        .env("DREAMFAIRY_DIST", dist)
        .env("DREAMFAIRY_CHROMIUM", chromium)
        .env("DREAMFAIRY_ARTIFACTS", artifacts)
        .env(TEST_URL_VARIABLE, postgres_url)
        .run();
    // Stopped whether the tests passed or not.
    drop(cluster);
    tests?;
    Ok(())
}
