//! `cargo xtask fuzz`: the coverage-guided fuzz targets of `fuzz/`, run by
//! `cargo fuzz` (libFuzzer) one after another, each for a bounded time.
//!
//! - cargo-fuzz is installed from crates.io (`cargo install --locked`, a
//!   pinned version) into `<target>/fuzz/tool` when it is missing.
//! - The fuzz build needs unstable compiler flags (sanitizer, coverage
//!   instrumentation): it uses the nightly toolchain rustup has installed
//!   or, where there is none (no toolchain can be downloaded on a fresh
//!   machine), the pinned stable one with `RUSTC_BOOTSTRAP=1`, which
//!   cargo-fuzz accepts in its place. Only this build does; the product is
//!   built by the pinned stable toolchain alone.
//! - Builds go to `<target>/fuzz/build`; what the fuzzer learns accumulates
//!   in `<target>/fuzz/corpus/<target>/`, so each run starts where the last
//!   stopped. The committed seeds in `fuzz/corpus/<target>/` are read, never
//!   written; crashing inputs land in `fuzz/artifacts/<target>/`.
//! - `--seed-corpus` rewrites the committed seeds instead
//!   (`fuzz/examples/seed_corpus.rs`, an ordinary stable build).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::Args;
use xshell::cmd;

use crate::workspace::Workspace;

/// Every target of `fuzz/fuzz_targets/`, in the order they run.
const TARGETS: [&str; 5] = [
    "input_log_replay",
    "school_file",
    "round_token",
    "share_code_and_idempotency_key",
    "finish_body",
];

/// The cargo-fuzz release installed and expected.
const CARGO_FUZZ_VERSION: &str = "0.13.2";

/// The sanitizer the targets are built with. AddressSanitizer: the
/// project's own code has no `unsafe`, but what it runs on does (the ECS
/// under every replay, the ZIP and XML readers under XLSX), and a memory
/// error there would otherwise pass silently.
const SANITIZER: &str = "address";

/// Longest any single input may run, in seconds: a replay is at most one
/// round, far below this, so a timeout is a real hang.
const INPUT_TIMEOUT_SECS: u32 = 30;

#[derive(Debug, Args)]
pub struct FuzzArgs {
    /// Seconds to fuzz each target.
    #[arg(long, default_value_t = 60)]
    seconds: u32,
    /// Only this target (default: every target, one after another).
    #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(TARGETS))]
    target: Option<String>,
    /// Rewrite the committed seed corpus (`fuzz/corpus/`) instead of fuzzing.
    #[arg(long)]
    seed_corpus: bool,
}

/// How one target's run ended.
struct Run {
    target: &'static str,
    executions: Option<u64>,
    seconds: f64,
    /// The crashing input libFuzzer saved, or why the run failed.
    failure: Option<String>,
}

pub fn fuzz(ws: &Workspace, args: &FuzzArgs) -> Result<()> {
    if args.seed_corpus {
        return write_seed_corpus(ws);
    }
    let toolchain = FuzzToolchain::find(ws)?;
    eprintln!("xtask: the fuzz build uses {}", toolchain.describe());
    let fuzz_dir = ws.target_dir.join("fuzz");
    let cargo_fuzz = ensure_cargo_fuzz(ws, &fuzz_dir)?;
    let build_dir = fuzz_dir.join("build");
    let build_flags = [
        "--sanitizer",
        SANITIZER,
        "--debug-assertions",
        "--target-dir",
        path_str(&build_dir)?,
    ];
    eprintln!("xtask: building the fuzz targets (sanitizer: {SANITIZER})");
    let mut build = toolchain.command(&cargo_fuzz);
    build.args(["fuzz", "build"]).args(build_flags);
    run(build.current_dir(&ws.root))?;

    let targets: Vec<&'static str> = match &args.target {
        Some(name) => TARGETS
            .into_iter()
            .filter(|target| target == name)
            .collect(),
        None => TARGETS.to_vec(),
    };
    let mut runs = Vec::new();
    for target in targets {
        let work_corpus = fuzz_dir.join("corpus").join(target);
        fs::create_dir_all(&work_corpus)?;
        let log_path = fuzz_dir.join("logs").join(format!("{target}.log"));
        fs::create_dir_all(log_path.parent().context("a log folder")?)?;
        eprintln!(
            "xtask: fuzzing {target} for {} s (log: {})",
            args.seconds,
            log_path.display()
        );
        let started = Instant::now();
        let mut command = toolchain.command(&cargo_fuzz);
        command
            .args(["fuzz", "run"])
            .args(build_flags)
            .arg(target)
            // libFuzzer adds what it learns to the first folder only.
            .arg(&work_corpus)
            .arg(ws.root.join("fuzz/corpus").join(target))
            .arg("--")
            .arg(format!("-max_total_time={}", args.seconds))
            .arg(format!("-timeout={INPUT_TIMEOUT_SECS}"))
            .arg("-print_final_stats=1")
            .current_dir(&ws.root)
            .stdout(Stdio::null())
            .stderr(fs::File::create(&log_path)?);
        let status = command.status().context("starting cargo-fuzz")?;
        let log = fs::read_to_string(&log_path).unwrap_or_default();
        let failure = (!status.success()).then(|| failure_of(&log, &log_path));
        runs.push(Run {
            target,
            executions: executions(&log),
            seconds: started.elapsed().as_secs_f64(),
            failure,
        });
        report(runs.last().context("a run")?);
    }

    println!(
        "\nfuzz summary ({SANITIZER} sanitizer, {} s a target):",
        args.seconds
    );
    for run in &runs {
        report(run);
    }
    let failed: Vec<&str> = runs
        .iter()
        .filter(|run| run.failure.is_some())
        .map(|run| run.target)
        .collect();
    if !failed.is_empty() {
        bail!("fuzz targets failed: {}", failed.join(", "));
    }
    Ok(())
}

fn report(run: &Run) {
    let executions = run.executions.map_or("?".to_owned(), |n| n.to_string());
    let outcome = match &run.failure {
        None => "no crash".to_owned(),
        Some(failure) => format!("FAILED: {failure}"),
    };
    println!(
        "  {:<32} {executions:>12} executions in {:>6.0} s  {outcome}",
        run.target, run.seconds
    );
}

/// The number of inputs libFuzzer ran, from its final statistics.
fn executions(log: &str) -> Option<u64> {
    log.lines()
        .find_map(|line| line.strip_prefix("stat::number_of_executed_units:"))
        .and_then(|n| n.trim().parse().ok())
}

/// What went wrong in a failed run: the panic or sanitizer message and the
/// saved input, or the end of the log.
fn failure_of(log: &str, log_path: &Path) -> String {
    // A panic's message is on the line after its location.
    let lines: Vec<&str> = log.lines().collect();
    let cause = lines
        .iter()
        .position(|line| line.contains("panicked at") || line.contains("ERROR: "))
        .map(|at| {
            lines[at..(at + 2).min(lines.len())]
                .join(" ")
                .trim()
                .to_owned()
        });
    let input = log
        .lines()
        .find_map(|line| line.split_once("Test unit written to "))
        .map(|(_, path)| path.trim());
    match (cause, input) {
        (Some(cause), Some(input)) => format!("{cause}; input saved as {input}"),
        (Some(cause), None) => format!("{cause}; see {}", log_path.display()),
        _ => format!("see {}", log_path.display()),
    }
}

/// A toolchain that takes unstable flags, for the fuzz build only.
enum FuzzToolchain {
    /// An installed nightly, by its rustup name.
    Nightly(String),
    /// The pinned stable toolchain, allowed unstable flags.
    Bootstrapped,
}

impl FuzzToolchain {
    fn find(ws: &Workspace) -> Result<Self> {
        let toolchains = cmd!(ws.sh, "rustup toolchain list").quiet().read()?;
        Ok(toolchains
            .lines()
            .filter_map(|line| line.split_whitespace().next())
            .find(|name| name.starts_with("nightly"))
            .map_or(FuzzToolchain::Bootstrapped, |name| {
                FuzzToolchain::Nightly(name.to_owned())
            }))
    }

    fn describe(&self) -> String {
        match self {
            FuzzToolchain::Nightly(name) => format!("the installed {name} toolchain"),
            FuzzToolchain::Bootstrapped => {
                "the pinned stable toolchain with RUSTC_BOOTSTRAP=1 (no nightly is installed)"
                    .to_owned()
            }
        }
    }

    /// `program` set to build with this toolchain. The variables cargo
    /// sets for `cargo xtask` itself would pin the stable compiler, so they
    /// go.
    fn command(&self, program: &Path) -> Command {
        let mut command = Command::new(program);
        command
            .env_remove("CARGO")
            .env_remove("RUSTC")
            .env_remove("RUSTUP_TOOLCHAIN");
        match self {
            FuzzToolchain::Nightly(name) => command.env("RUSTUP_TOOLCHAIN", name),
            FuzzToolchain::Bootstrapped => command.env("RUSTC_BOOTSTRAP", "1"),
        };
        command
    }
}

/// The cargo-fuzz binary, installed into `<fuzz_dir>/tool` if missing or of
/// another version.
fn ensure_cargo_fuzz(ws: &Workspace, fuzz_dir: &Path) -> Result<PathBuf> {
    let root = fuzz_dir.join("tool");
    let binary = root.join("bin/cargo-fuzz");
    let installed = Command::new(&binary)
        .arg("--version")
        .output()
        .is_ok_and(|output| {
            String::from_utf8_lossy(&output.stdout).trim()
                == format!("cargo-fuzz {CARGO_FUZZ_VERSION}")
        });
    if !installed {
        eprintln!(
            "xtask: installing cargo-fuzz {CARGO_FUZZ_VERSION} into {}",
            root.display()
        );
        let build_dir = fuzz_dir.join("tool-build");
        cmd!(
            ws.sh,
            "cargo install cargo-fuzz --locked --version {CARGO_FUZZ_VERSION} --root {root} --target-dir {build_dir}"
        )
        .run()?;
    }
    Ok(binary)
}

/// Runs the seed corpus generator, an example of the fuzz crate built
/// without instrumentation by the pinned stable toolchain into the
/// workspace's target folder, where it shares the dependencies of the
/// workspace's own debug builds.
fn write_seed_corpus(ws: &Workspace) -> Result<()> {
    let manifest = ws.root.join("fuzz/Cargo.toml");
    cmd!(
        ws.sh,
        "cargo run --locked --manifest-path {manifest} --example seed_corpus"
    )
    .run()?;
    Ok(())
}

fn run(command: &mut Command) -> Result<()> {
    let status = command
        .status()
        .with_context(|| format!("starting {command:?}"))?;
    if !status.success() {
        bail!("{command:?} failed: {status}");
    }
    Ok(())
}

fn path_str(path: &Path) -> Result<&str> {
    path.to_str()
        .with_context(|| format!("{} is not UTF-8", path.display()))
}
