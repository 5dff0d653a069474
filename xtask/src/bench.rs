//! `cargo xtask bench <name>`: benchmarks that need more than `cargo bench`.

use anyhow::Result;
use clap::{Args, ValueEnum};
use xshell::cmd;

use crate::workspace::Workspace;

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Which benchmark to run.
    #[arg(value_enum)]
    name: BenchName,
    /// Arguments for the benchmark program (for `ingest`: `--database-url`,
    /// `--processes`, `--repeat`, `--rounds`...; see `bench-ingest --help`).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    extra: Vec<String>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum BenchName {
    /// Replaying rounds with `sim` (criterion/divan, `cargo bench -p sim`).
    Sim,
    /// Verified participations per second through the real server over HTTP.
    Ingest,
    /// The admin console's pages and exports at 5.8 million participations
    /// and 10,000 schools.
    Admin,
}

pub fn bench(ws: &Workspace, args: &BenchArgs) -> Result<()> {
    let extra = &args.extra;
    match args.name {
        BenchName::Sim => cmd!(ws.sh, "cargo bench --package sim -- {extra...}").run()?,
        BenchName::Ingest => {
            cmd!(
                ws.sh,
                "cargo build --release --package server --package tests --bins"
            )
            .run()?;
            let load_generator = ws.binary("release", "bench-ingest");
            let server = ws.binary("release", "server");
            cmd!(ws.sh, "{load_generator} --server-bin {server} {extra...}").run()?;
        }
        BenchName::Admin => {
            cmd!(
                ws.sh,
                "cargo build --release --package server --package tests --bins"
            )
            .run()?;
            let bench = ws.binary("release", "bench-admin");
            let server = ws.binary("release", "server");
            let json = ws.root.join("artifacts").join("bench-admin.json");
            std::fs::create_dir_all(ws.root.join("artifacts"))?;
            cmd!(
                ws.sh,
                "{bench} --server-bin {server} --json {json} {extra...}"
            )
            .run()?;
        }
    }
    Ok(())
}
