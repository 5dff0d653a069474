//! `cargo xtask run`: the whole system on one machine, from a fresh clone.

use anyhow::Result;
use clap::Args;
use xshell::cmd;

use crate::workspace::Workspace;

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: String,
    /// Folder of the embedded database and the server's secret.
    #[arg(long, default_value = "data")]
    data_dir: String,
}

pub fn run(ws: &Workspace, args: &RunArgs) -> Result<()> {
    crate::dist::build(ws)?;
    let RunArgs { addr, data_dir } = args;
    let dist = ws.dist_dir();
    println!("Dream Fairy Library is starting:");
    println!("  the game        http://{addr}/");
    println!("  totals (JSON)   http://{addr}/api/totals");
    println!("  health          http://{addr}/healthz");
    println!("  metrics         http://{addr}/metrics");
    println!("  database        {data_dir}/ (embedded SQLite)");
    println!("Stop with Ctrl-C; queued writes are finished first.");
    cmd!(
        ws.sh,
        "cargo run --package server --bin server -- serve --addr {addr} --data-dir {data_dir} --dist {dist}"
    )
    .run()?;
    Ok(())
}
