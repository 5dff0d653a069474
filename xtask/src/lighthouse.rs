//! `cargo xtask lighthouse`: Lighthouse's accessibility and best-practices
//! scores of the game page and of every kind of server-rendered page, the
//! admin console's included; each must reach 0.95.
//!
//! It installs npm's `lighthouse` (a pinned version) into
//! `<target>/lighthouse` when missing, finds Debian's Chromium, builds
//! `dist/` and the server, and prepares a data folder the way an operator
//! would, with the server's own subcommands: synthetic participations
//! (`bulk-load`, on the stopped ledger), the demo schools and pledges
//! (which fund and allocate books for them), a shipment (for a receipt
//! link), a poster's share code and an admin account. Then
//! `tests/src/bin/lighthouse_pages.rs` serves it, signs in and runs
//! Lighthouse on each page; its reports are written to
//! `<target>/lighthouse/reports/`.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, ensure};
use clap::Args;
use xshell::cmd;

use crate::workspace::Workspace;

/// The `lighthouse` npm package's version.
const LIGHTHOUSE_VERSION: &str = "12.8.2";

/// Synthetic participations loaded before the demo pledges fund books.
const PARTICIPATIONS: &str = "2000";

#[derive(Debug, Args)]
pub struct LighthouseArgs {
    /// Only the pages whose path contains this text.
    #[arg(long)]
    only: Option<String>,
}

pub fn lighthouse(ws: &Workspace, args: &LighthouseArgs) -> Result<()> {
    let folder = ws.target_dir.join("lighthouse");
    let lighthouse = ensure_lighthouse(ws, &folder)?;
    let chromium = crate::setup::ensure_chromium(&ws.sh)?;
    crate::dist::build(ws)?;
    cmd!(
        ws.sh,
        "cargo build --package server --package tests --bin server --bin lighthouse-pages"
    )
    .run()?;
    let server = keep(ws, &folder, "server")?;
    let pages = keep(ws, &folder, "lighthouse-pages")?;

    let data = folder.join("data");
    if data.exists() {
        std::fs::remove_dir_all(&data).with_context(|| format!("removing {}", data.display()))?;
    }
    std::fs::create_dir_all(&data)?;
    let (password, share_code) = prepare_data(ws, &server, &data)?;

    let reports = folder.join("reports");
    if reports.exists() {
        std::fs::remove_dir_all(&reports)?;
    }
    let dist = ws.dist_dir();
    let only: Vec<String> = args
        .only
        .iter()
        .flat_map(|only| ["--only".to_owned(), only.clone()])
        .collect();
    cmd!(
        ws.sh,
        "{pages} --server-bin {server} --dist {dist} --data-dir {data} --lighthouse {lighthouse}
            --chromium {chromium} --out {reports} --user admin --share-code {share_code} {only...}"
    )
    .env("DREAMFAIRY_ADMIN_PASSWORD", password)
    .run()?;
    Ok(())
}

/// The `lighthouse` program of `<folder>`, installed with npm when it is
/// missing or another version.
fn ensure_lighthouse(ws: &Workspace, folder: &Path) -> Result<PathBuf> {
    let program = folder.join("node_modules").join(".bin").join("lighthouse");
    let manifest = folder
        .join("node_modules")
        .join("lighthouse")
        .join("package.json");
    let installed = std::fs::read(&manifest)
        .ok()
        .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
        .and_then(|package| package["version"].as_str().map(str::to_owned));
    if installed.as_deref() != Some(LIGHTHOUSE_VERSION) || !program.is_file() {
        ensure!(
            which::which("npm").is_ok(),
            "Lighthouse is installed with npm: install Node.js (`sudo apt-get install npm`)"
        );
        eprintln!(
            "xtask: installing lighthouse {LIGHTHOUSE_VERSION} into {}",
            folder.display()
        );
        std::fs::create_dir_all(folder)?;
        cmd!(
            ws.sh,
            "npm install --prefix {folder} --save-exact --no-audit --no-fund lighthouse@{LIGHTHOUSE_VERSION}"
        )
        .run()?;
    }
    Ok(program)
}

/// A hard link in `<folder>/bin/` to the debug binary `name` just built:
/// the target folder may be shared with other clones, whose builds replace
/// `<target>/debug/<name>` while this one runs (a link keeps the file).
fn keep(ws: &Workspace, folder: &Path, name: &str) -> Result<PathBuf> {
    let built = ws.binary("debug", name);
    let kept = folder.join("bin").join(name);
    std::fs::create_dir_all(folder.join("bin"))?;
    if kept.exists() {
        std::fs::remove_file(&kept)?;
    }
    if std::fs::hard_link(&built, &kept).is_err() {
        std::fs::copy(&built, &kept)
            .with_context(|| format!("copying {} to {}", built.display(), kept.display()))?;
    }
    Ok(kept)
}

/// Fills a new data folder and returns the admin's password and a share
/// code that exists.
fn prepare_data(ws: &Workspace, server: &Path, data: &Path) -> Result<(String, String)> {
    cmd!(
        ws.sh,
        "{server} bulk-load --data-dir {data} --count {PARTICIPATIONS} --days 30"
    )
    .ignore_stdout()
    .run()?;
    let data_dir = data.to_str().context("a data folder path in UTF-8")?;
    crate::run::load_demo_data(ws, server, data_dir)?;
    // The pledges funded books for the participations already there, and
    // the school list allocated them: ship some, for a receipt link.
    let shipped = cmd!(
        ws.sh,
        "{server} ship --data-dir {data} --books 1-20 --carrier 示例快递"
    )
    .read()?;
    let shipped: serde_json::Value = serde_json::from_str(&shipped)?;
    ensure!(
        shipped["books_shipped"]
            .as_u64()
            .is_some_and(|books| books > 0),
        "no book was allocated to ship: {shipped}"
    );
    let password = crate::run::create_admin(ws, server, data_dir)?;
    let poster = data.join("poster.pdf");
    let dist = ws.dist_dir();
    let poster = cmd!(
        ws.sh,
        "{server} poster --data-dir {data} --label 灯塔 --out {poster} --public-url http://127.0.0.1 --dist {dist}"
    )
    .read()?;
    let poster: serde_json::Value = serde_json::from_str(&poster)?;
    let code = poster["code"]
        .as_str()
        .context("`server poster` printed no code")?
        .to_owned();
    Ok((password, code))
}
