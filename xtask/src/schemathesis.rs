//! Schema fuzzing: schemathesis (pinned, from PyPI, in a virtual environment
//! under the target folder) against the real server's `/api/openapi.json`,
//! over every operation, with all its checks. Part of `cargo xtask test`;
//! alone as `cargo xtask schemathesis`.
//!
//! The server runs as in production, on a fresh ledger in the target folder,
//! with one test setting: no per-address request limit (every request comes
//! from 127.0.0.1, and a 429 stops a fuzzer from reaching the handlers).
//! What schemathesis may not assume is in `xtask/schemathesis.toml`.

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use anyhow::{Context, Result, bail};
use xshell::cmd;

use crate::setup::ensure_python_package;
use crate::workspace::Workspace;

/// The schemathesis release: 4.32.5 reads OpenAPI 3.2 and checks each
/// server-sent event against the operation's `itemSchema`.
const VERSION: &str = "4.32.5";

/// Test cases per operation and phase: about a minute.
const MAX_EXAMPLES: &str = "100";

/// A server process, stopped when dropped (also on an early return).
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        // A throwaway ledger: nothing to shut down gracefully for.
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `server_bin` serving `dist` on a free port and a fresh ledger;
/// returns it with its base URL.
fn start_server(ws: &Workspace, server_bin: &Path, dist: &Path) -> Result<(Server, String)> {
    let data_dir = ws.target_dir.join("schemathesis-ledger");
    if data_dir.exists() {
        std::fs::remove_dir_all(&data_dir)
            .with_context(|| format!("removing {}", data_dir.display()))?;
    }
    let mut child = Command::new(server_bin)
        .args([
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--address-rate-per-sec",
            "0",
        ])
        .arg("--data-dir")
        .arg(&data_dir)
        .arg("--dist")
        .arg(dist)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .with_context(|| format!("starting {}", server_bin.display()))?;
    let stdout = child.stdout.take().context("the server's stdout")?;
    let server = Server(child);
    // The server prints its address once it listens.
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line)?;
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .with_context(|| format!("the server did not say where it listens: {line:?}"))?
        .to_owned();
    Ok((server, url))
}

/// Runs schemathesis against a server started from `server_bin` serving
/// `dist`; fails on any failure it finds. Returns the number of test cases.
pub fn run(ws: &Workspace, server_bin: &Path, dist: &Path) -> Result<u64> {
    let venv = ensure_python_package(ws, "schemathesis-venv", "schemathesis", VERSION)?;
    let st = venv.join("bin").join("st");
    let (server, url) = start_server(ws, server_bin, dist)?;
    let config = ws.root.join("xtask").join("schemathesis.toml");
    let schema = format!("{url}/api/openapi.json");
    let reports = ws.artifacts_dir().join("schemathesis");
    eprintln!("xtask: schemathesis {VERSION} against {schema}");
    // One worker: with two, hypothesis describes its filters by parsing
    // their source from two threads at once, which Python 3.11's `ast`
    // does not survive ("AST constructor recursion depth mismatch").
    let output = cmd!(
        ws.sh,
        "{st} --config-file {config} run {schema}
            --checks all --max-examples {MAX_EXAMPLES} --workers 1 --request-timeout 5
            --no-color --report junit --report-dir {reports}"
    )
    .ignore_status()
    .output()?;
    drop(server);
    let stdout = String::from_utf8_lossy(&output.stdout);
    print!("{stdout}");
    eprint!("{}", String::from_utf8_lossy(&output.stderr));
    if !output.status.success() {
        bail!(
            "schemathesis found failures (above; the JUnit report is in {})",
            reports.display()
        );
    }
    cases_generated(&stdout).context("schemathesis printed no count of test cases")
}

/// The `N` of schemathesis's summary line `N generated, ...`.
fn cases_generated(summary: &str) -> Option<u64> {
    summary.lines().find_map(|line| {
        let (count, _) = line.trim().split_once(" generated, ")?;
        count.parse().ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_count_of_cases_is_read_from_the_summary() {
        let summary = "Schema validation mismatch: 1 operation mostly rejected generated \
                       data due to validation errors\n\
                       Test cases:\n  2436 generated, 2436 passed\n\nSeed: 4\n";
        assert_eq!(cases_generated(summary), Some(2436));
        assert_eq!(cases_generated("no summary"), None);
    }
}
