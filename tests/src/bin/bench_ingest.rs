//! `bench-ingest`: the ingest load generator behind `cargo xtask bench ingest`.
//!
//! For an empty ledger (`--repeat` times), then for one already holding 5.8
//! million participations (loaded through `server bulk-load`, whose time is
//! reported), it:
//!
//! 1. starts `--processes` real servers on 127.0.0.1:0, on a SQLite ledger in
//!    a temporary data directory or, with `--database-url`, on a scratch
//!    database of their own on that PostgreSQL server (shared by all of them,
//!    with one token secret), with the minimum round time and the
//!    per-address limit turned off (a load generator finishes rounds at CPU
//!    speed, all from one address); requests go to the servers in turn;
//! 2. starts rounds over HTTP (measured);
//! 3. plays each with the scripted player, ahead of the measurement (in the
//!    field the players' phones do this work);
//! 4. finishes them all with bounded concurrency: verified participations
//!    per second and latency p50/p99 (measured; every finish replays the log
//!    and is durable before it is answered);
//! 5. reads `/api/totals` (measured);
//! 6. reads the servers' peak resident memory (`VmHWM`), their metrics
//!    (commits, rows per commit) and the CPU time the finishes cost, in the
//!    servers and, when PostgreSQL runs on this machine, in every process of
//!    its cluster (utime + stime from `/proc`, exited children included).
//!
//! Then it prints one table per run, with the targets of issues 4 and 13
//! beside the figures, and a summary line per ledger size (medians over the
//! repeats) in the form of the README's table.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail, ensure};
use bytes::Bytes;
use clap::Parser;
use futures::StreamExt as _;
use hdrhistogram::Histogram;
use server::store::DatabaseUrl;
use server::store::postgres::ScratchDatabase;
use sim::Rules;
use sim::wire::{FinishRoundRequest, RoundStarted};
use tests::load_client::{Answer, LoadClient};
use tests::server_process::{ServerOptions, ServerProcess, process_cpu, server_binary};

/// The real campaign's size.
const CAMPAIGN_PARTICIPATIONS: u64 = 5_800_000;

/// The token secret the servers of one run share.
const SECRET: &str = "bench-ingest-secret-bench-ingest-secret-0123";

#[derive(Debug, Parser)]
#[command(about = "Ingest benchmark: verified participations per second over real HTTP")]
struct Args {
    /// The server binary (default: `server` next to this binary).
    #[arg(long)]
    server_bin: Option<PathBuf>,
    /// An older server binary to measure in the same session, run for run
    /// alternately with `--server-bin`: the summary then gives both and
    /// their ratios (SQLite, one process).
    #[arg(long, conflicts_with_all = ["database_url", "target"])]
    baseline_bin: Option<PathBuf>,
    /// Rounds finished per run.
    #[arg(long, default_value_t = 20_000)]
    rounds: usize,
    /// Requests in flight at once (over all servers).
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// Participations bulk-loaded before the last run (0 skips it).
    #[arg(long, default_value_t = CAMPAIGN_PARTICIPATIONS)]
    preload: u64,
    /// `/api/totals` reads per run.
    #[arg(long, default_value_t = 10_000)]
    totals_reads: usize,
    /// Longest time one measured phase may run, in seconds; requests not
    /// sent by then are skipped and reported.
    #[arg(long, default_value_t = 120)]
    max_phase_secs: u64,
    /// More arguments for `server serve` (e.g. `--server-arg=--batch-window-us=0`).
    #[arg(long)]
    server_arg: Vec<String>,
    /// A PostgreSQL server to run the ledger on (each run makes a scratch
    /// database there and drops it after), instead of SQLite.
    #[arg(long, value_parser = server::config::parse_database_url)]
    database_url: Option<DatabaseUrl>,
    /// Server processes sharing the ledger (more than one needs
    /// `--database-url`).
    #[arg(long, default_value_t = 1)]
    processes: usize,
    /// Runs on an empty ledger; the summary gives their medians.
    #[arg(long, default_value_t = 1)]
    repeat: usize,
    /// A school list to import into each ledger before its run (with
    /// `--participations-per-book`, so that finishes fund and allocate
    /// books, as in a campaign).
    #[arg(long, requires = "participations_per_book")]
    schools: Option<PathBuf>,
    /// With `--schools`: one pledge of a book per this many participations,
    /// for every book the run can fund.
    #[arg(long, requires = "schools")]
    participations_per_book: Option<u64>,
    /// Drive servers already running behind this address (a reverse proxy,
    /// a deployment) instead of starting any: no preload, no CPU figures.
    #[arg(long, conflicts_with_all = ["database_url", "processes", "preload"])]
    target: Option<String>,
}

/// Latencies and throughput of one measured phase.
#[derive(Debug)]
struct Measured {
    /// Requests answered as expected.
    ok: u64,
    /// Requests answered otherwise, or not at all, with a sample answer.
    failed: u64,
    first_failure: Option<String>,
    /// Requests skipped because the phase ran out of time.
    skipped: u64,
    elapsed: Duration,
    /// Latency of answered requests, in microseconds.
    latency_us: Histogram<u64>,
}

impl Measured {
    fn per_second(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64().max(f64::EPSILON)
    }

    fn quantile_ms(&self, quantile: f64) -> f64 {
        self.latency_us.value_at_quantile(quantile) as f64 / 1_000.0
    }
}

/// Sends `requests` with at most `concurrency` in flight; each resolves to
/// `Ok(value)` when answered as expected.
async fn drive<T, F>(requests: Vec<F>, concurrency: usize, max_time: Duration) -> (Measured, Vec<T>)
where
    F: Future<Output = Result<T, String>>,
{
    let started = Instant::now();
    let deadline = started + max_time;
    let mut answers = futures::stream::iter(requests)
        .map(|request| async move {
            if Instant::now() > deadline {
                return None;
            }
            let sent = Instant::now();
            let answer = request.await;
            Some((sent.elapsed(), answer))
        })
        .buffer_unordered(concurrency.max(1));
    let mut measured = Measured {
        ok: 0,
        failed: 0,
        first_failure: None,
        skipped: 0,
        elapsed: Duration::ZERO,
        latency_us: Histogram::new_with_bounds(1, 60_000_000, 3).expect("valid histogram bounds"),
    };
    let mut values = Vec::new();
    while let Some(outcome) = answers.next().await {
        match outcome {
            None => measured.skipped += 1,
            Some((latency, answer)) => {
                let micros = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
                measured.latency_us.saturating_record(micros.max(1));
                match answer {
                    Ok(value) => {
                        measured.ok += 1;
                        values.push(value);
                    }
                    Err(failure) => {
                        measured.failed += 1;
                        measured.first_failure.get_or_insert(failure);
                    }
                }
            }
        }
    }
    measured.elapsed = started.elapsed();
    (measured, values)
}

/// What one run against one ledger measured.
#[derive(Debug)]
struct Run {
    ledger_before: u64,
    processes: usize,
    starts: Measured,
    /// Time to play every round with the scripted player (not measured
    /// against a target).
    play: Duration,
    finishes: Measured,
    /// CPU time the servers spent during the finishes.
    server_cpu: Option<Duration>,
    /// CPU time this load generator spent during the finishes (sending
    /// them and reading the answers), on the same cores as the servers.
    load_generator_cpu: Option<Duration>,
    /// Bytes the servers wrote to storage during the finishes.
    server_written: Option<u64>,
    /// CPU time PostgreSQL (every process of its cluster) spent during the
    /// finishes, when it runs on this machine.
    postgres_cpu: Option<Duration>,
    totals: Measured,
    /// The largest peak resident memory of the servers.
    peak_rss_kib: Option<u64>,
    /// The servers' own metrics at the end of the run, added up.
    metrics: ServerMetrics,
}

impl Run {
    /// CPU time per verified finish, in microseconds.
    fn per_finish_us(&self, cpu: Option<Duration>) -> Option<f64> {
        cpu.map(|cpu| cpu.as_secs_f64() * 1e6 / self.finishes.ok.max(1) as f64)
    }

    /// How many finishes a second this machine's cores could verify at most
    /// if the servers, the load generator and PostgreSQL spent on each what
    /// they spent in this run: the bound that CPU alone sets.
    fn cpu_ceiling_per_second(&self) -> Option<f64> {
        let spent =
            self.server_cpu? + self.load_generator_cpu? + self.postgres_cpu.unwrap_or_default();
        let per_finish = spent.as_secs_f64() / self.finishes.ok.max(1) as f64;
        (per_finish > 0.0).then(|| cores() as f64 / per_finish)
    }

    /// KiB the servers wrote to storage per verified finish.
    fn written_per_finish_kib(&self) -> Option<f64> {
        self.server_written
            .map(|bytes| bytes as f64 / 1024.0 / self.finishes.ok.max(1) as f64)
    }

    /// Ledger commits per second of the finish phase.
    fn commits_per_second(&self) -> f64 {
        self.metrics.commits / self.finishes.elapsed.as_secs_f64().max(f64::EPSILON)
    }
}

/// Sums from the servers' Prometheus histograms (added up over servers).
#[derive(Debug, Default, Clone, Copy)]
struct ServerMetrics {
    replay_seconds: f64,
    replays: f64,
    commit_seconds: f64,
    commits: f64,
    rows: f64,
}

impl ServerMetrics {
    /// Reads the sums out of the text exposition at `/metrics`.
    fn parse(text: &str) -> Self {
        let value = |name: &str| {
            text.lines()
                .find_map(|line| {
                    line.strip_prefix(name)?
                        .strip_prefix(' ')?
                        .trim()
                        .parse::<f64>()
                        .ok()
                })
                .unwrap_or(0.0)
        };
        Self {
            replay_seconds: value("dreamfairy_replay_duration_seconds_sum"),
            replays: value("dreamfairy_replay_duration_seconds_count"),
            commit_seconds: value("dreamfairy_ledger_commit_duration_seconds_sum"),
            commits: value("dreamfairy_ledger_commit_duration_seconds_count"),
            rows: value("dreamfairy_ledger_batch_rows_sum"),
        }
    }

    fn add(self, other: Self) -> Self {
        Self {
            replay_seconds: self.replay_seconds + other.replay_seconds,
            replays: self.replays + other.replays,
            commit_seconds: self.commit_seconds + other.commit_seconds,
            commits: self.commits + other.commits,
            rows: self.rows + other.rows,
        }
    }

    fn mean(sum: f64, count: f64) -> Option<Duration> {
        (count > 0.0).then(|| Duration::from_secs_f64(sum / count))
    }
}

/// Where the servers of one run keep the ledger.
enum Ledger {
    /// A SQLite file in this data directory.
    Sqlite(tempfile::TempDir),
    /// A scratch database on a PostgreSQL server; the folder holds the
    /// servers' logs.
    Postgres(ScratchDatabase, tempfile::TempDir),
}

impl Ledger {
    /// A new ledger: empty, or with the campaign `--schools` and
    /// `--participations-per-book` describe.
    async fn new(args: &Args, binary: &Path) -> anyhow::Result<Self> {
        let folder = tempfile::tempdir()?;
        let ledger = match &args.database_url {
            None => Self::Sqlite(folder),
            Some(url) => Self::Postgres(ScratchDatabase::create(url, "bench").await?, folder),
        };
        if let (Some(schools), Some(per_book)) = (&args.schools, args.participations_per_book) {
            let books = (args.rounds as u64 + args.preload).div_ceil(per_book.max(1));
            for (subcommand, more) in [
                (
                    "import-schools",
                    vec!["--file".into(), schools.display().to_string()],
                ),
                (
                    "pledge",
                    vec![
                        "--sponsor".into(),
                        "bench".into(),
                        "--participations-per-book".into(),
                        per_book.to_string(),
                        "--books".into(),
                        books.max(1).to_string(),
                    ],
                ),
            ] {
                let output = Command::new(binary)
                    .arg(subcommand)
                    .args(ledger.admin_args())
                    .args(more)
                    .env("RUST_LOG", "warn")
                    .output()
                    .with_context(|| format!("running server {subcommand}"))?;
                ensure!(
                    output.status.success(),
                    "server {subcommand} failed: {}",
                    String::from_utf8_lossy(&output.stderr)
                );
            }
        }
        Ok(ledger)
    }

    /// The options of server `index` of a run on this ledger.
    fn server_options(&self, index: usize) -> ServerOptions {
        match self {
            Self::Sqlite(folder) => ServerOptions::new(folder.path().join("data")),
            Self::Postgres(database, folder) => {
                ServerOptions::new(folder.path().join(format!("server-{index}"))).args([
                    "--database-url",
                    database.url().as_str(),
                    "--secret",
                    SECRET,
                ])
            }
        }
    }

    /// The arguments that name this ledger to an admin subcommand.
    fn admin_args(&self) -> Vec<String> {
        match self {
            Self::Sqlite(folder) => vec![
                "--data-dir".into(),
                folder.path().join("data").display().to_string(),
            ],
            Self::Postgres(database, _) => {
                vec!["--database-url".into(), database.url().as_str().to_owned()]
            }
        }
    }

    /// The process id of the PostgreSQL cluster's postmaster, if it runs
    /// on this machine.
    async fn postmaster(&self) -> Option<u32> {
        let Self::Postgres(database, _) = self else {
            return None;
        };
        let (client, connection) =
            tokio_postgres::connect(database.url().as_str(), tokio_postgres::NoTls)
                .await
                .ok()?;
        let driver = tokio::spawn(connection);
        let backend: i32 = client
            .query_one("SELECT pg_backend_pid()", &[])
            .await
            .ok()?
            .get(0);
        drop(client);
        let _ = driver.await;
        // The backend is the postmaster's child; its status names it.
        let status = std::fs::read_to_string(format!("/proc/{backend}/status")).ok()?;
        let parent: u32 = status
            .lines()
            .find_map(|line| line.strip_prefix("PPid:"))?
            .trim()
            .parse()
            .ok()?;
        (process_name(parent)? == "postgres").then_some(parent)
    }
}

/// A process's name (`comm`).
fn process_name(pid: u32) -> Option<String> {
    Some(
        std::fs::read_to_string(format!("/proc/{pid}/comm"))
            .ok()?
            .trim()
            .to_owned(),
    )
}

/// A process's CPU time (user + system), with that of its children it has
/// reaped (a backend that exited still counts).
fn cpu_with_children(pid: u32) -> Option<Duration> {
    process_cpu(pid).map(|cpu| cpu.own + cpu.reaped_children)
}

/// The CPU time of a PostgreSQL cluster so far: its postmaster (with the
/// backends it reaped) and every process it runs now.
fn postgres_cpu(postmaster: u32) -> Option<Duration> {
    let mut total = cpu_with_children(postmaster)?;
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|name| name.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) else {
            continue;
        };
        let parent = status
            .lines()
            .find_map(|line| line.strip_prefix("PPid:"))
            .and_then(|parent| parent.trim().parse::<u32>().ok());
        if parent == Some(postmaster) {
            total += cpu_with_children(pid).unwrap_or_default();
        }
    }
    Some(total)
}

/// The CPU time of the servers so far; `None` without servers (`--target`)
/// or where `/proc` cannot tell.
fn servers_cpu(servers: &[ServerProcess]) -> Option<Duration> {
    let cpu: Option<Duration> = servers.iter().map(ServerProcess::cpu_time).sum();
    cpu.filter(|_| !servers.is_empty())
}

/// The cores this machine has.
fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// The CPU time of this process (the load generator) so far.
fn own_cpu() -> Option<Duration> {
    process_cpu(std::process::id()).map(|cpu| cpu.own)
}

/// Bytes the servers have written to storage, added up; `None` as for
/// [`servers_cpu`].
fn servers_written(servers: &[ServerProcess]) -> Option<u64> {
    let written: Option<u64> = servers.iter().map(ServerProcess::storage_written).sum();
    written.filter(|_| !servers.is_empty())
}

/// Posts a JSON `body` to `path`; the answer's body if it is a success.
async fn post_json(
    client: &LoadClient,
    path: &str,
    idempotency_key: Option<&str>,
    body: Vec<u8>,
) -> Result<Bytes, String> {
    success(client.post_json(path, idempotency_key, body).await?)
}

/// The body of `answer` if it is a success.
fn success(answer: Answer) -> Result<Bytes, String> {
    if answer.status.is_success() {
        Ok(answer.body)
    } else {
        Err(format!(
            "{}: {}",
            answer.status,
            String::from_utf8_lossy(&answer.body)
        ))
    }
}

/// Plays every round with the scripted player, on every core, and builds
/// the finish requests of those it completes.
fn play_all(started: Vec<RoundStarted>) -> Vec<(String, Vec<u8>)> {
    let threads = cores();
    let chunk = started.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        let workers: Vec<_> = started
            .chunks(chunk)
            .map(|rounds| {
                scope.spawn(move || {
                    rounds
                        .iter()
                        .filter_map(|round| {
                            let (input_log, outcome) =
                                sim::bot::play_round(round.seed, &Rules::CURRENT);
                            outcome.completed.then(|| {
                                let request = FinishRoundRequest {
                                    token: round.token.clone(),
                                    input_log,
                                    outcome,
                                };
                                (
                                    round.round_id.clone(),
                                    serde_json::to_vec(&request).expect("requests serialise"),
                                )
                            })
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|worker| worker.join().expect("a player thread"))
            .collect()
    })
}

async fn run(
    args: &Args,
    binary: &Path,
    ledger: &Ledger,
    ledger_before: u64,
) -> anyhow::Result<Run> {
    let mut servers = Vec::with_capacity(args.processes);
    for index in 0..args.processes * usize::from(args.target.is_none()) {
        let options = ledger
            .server_options(index)
            .binary(binary)
            .without_player_limits()
            .args(&args.server_arg)
            .env("RUST_LOG", "warn");
        servers.push(tokio::task::spawn_blocking(move || ServerProcess::spawn(options)).await?);
    }
    let bases: Vec<String> = match &args.target {
        Some(target) => vec![target.trim_end_matches('/').to_owned()],
        None => servers
            .iter()
            .map(|server| server.base_url().to_owned())
            .collect(),
    };
    let mut clients = Vec::with_capacity(bases.len());
    for base in &bases {
        clients.push(LoadClient::new(base).await?);
    }
    // Requests go to the servers in turn, as a round-robin proxy would.
    let client = |request: usize| clients[request % clients.len()].clone();
    let max_time = Duration::from_secs(args.max_phase_secs);

    let start_requests: Vec<_> = (0..args.rounds)
        .map(|request| {
            let client = client(request);
            async move {
                let body = post_json(&client, "/api/rounds", None, b"{}".to_vec()).await?;
                serde_json::from_slice::<RoundStarted>(&body).map_err(|err| err.to_string())
            }
        })
        .collect();
    let (starts, started) = drive(start_requests, args.concurrency, max_time).await;

    let playing = Instant::now();
    let finishes_to_send = tokio::task::spawn_blocking(move || play_all(started)).await?;
    let play = playing.elapsed();

    let finish_requests: Vec<_> = finishes_to_send
        .into_iter()
        .enumerate()
        .map(|(request, (round_id, body))| {
            let (client, path) = (client(request), format!("/api/rounds/{round_id}/finish"));
            async move {
                post_json(&client, &path, Some(&round_id), body)
                    .await
                    .map(drop)
            }
        })
        .collect();
    let postmaster = ledger.postmaster().await;
    let server_cpu_before = servers_cpu(&servers);
    let load_generator_cpu_before = own_cpu();
    let server_written_before = servers_written(&servers);
    let postgres_cpu_before = postmaster.and_then(postgres_cpu);
    let (finishes, _) = drive(finish_requests, args.concurrency, max_time).await;
    let server_cpu = servers_cpu(&servers)
        .zip(server_cpu_before)
        .map(|(after, before)| after.saturating_sub(before));
    let load_generator_cpu = own_cpu()
        .zip(load_generator_cpu_before)
        .map(|(after, before)| after.saturating_sub(before));
    let server_written = servers_written(&servers)
        .zip(server_written_before)
        .map(|(after, before)| after.saturating_sub(before));
    let postgres_cpu = postmaster
        .and_then(postgres_cpu)
        .zip(postgres_cpu_before)
        .map(|(after, before)| after.saturating_sub(before));

    let totals_requests: Vec<_> = (0..args.totals_reads)
        .map(|request| {
            let client = client(request);
            async move { success(client.get("/api/totals").await?).map(drop) }
        })
        .collect();
    let (totals, _) = drive(totals_requests, args.concurrency.min(8), max_time).await;

    let peak_rss_kib = servers.iter().filter_map(ServerProcess::peak_rss_kib).max();
    let mut metrics = ServerMetrics::default();
    for client in &clients {
        let body = client
            .get("/metrics")
            .await
            .and_then(success)
            .map_err(anyhow::Error::msg)?;
        metrics = metrics.add(ServerMetrics::parse(&String::from_utf8_lossy(&body)));
    }
    for mut server in servers {
        let status = tokio::task::spawn_blocking(move || server.terminate()).await?;
        ensure!(
            status.success(),
            "a server did not shut down cleanly: {status}"
        );
    }
    Ok(Run {
        ledger_before,
        processes: args.processes,
        starts,
        play,
        finishes,
        server_cpu,
        load_generator_cpu,
        server_written,
        postgres_cpu,
        totals,
        peak_rss_kib,
        metrics,
    })
}

/// `server bulk-load` on `ledger`: returns the participations loaded and
/// the wall time.
fn bulk_load(binary: &Path, ledger: &Ledger, count: u64) -> anyhow::Result<(u64, Duration)> {
    let began = Instant::now();
    let output = Command::new(binary)
        .arg("bulk-load")
        .args(ledger.admin_args())
        .arg("--count")
        .arg(count.to_string())
        .env("RUST_LOG", "warn")
        .output()
        .context("running server bulk-load")?;
    let elapsed = began.elapsed();
    if !output.status.success() {
        bail!(
            "server bulk-load failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let report: serde_json::Value =
        serde_json::from_slice(&output.stdout).context("the bulk-load report")?;
    let loaded = report["last_number"]
        .as_u64()
        .context("the bulk-load report names the last number")?;
    Ok((loaded, elapsed))
}

fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "NOT met" }
}

/// `value` in microseconds, or `?`.
fn micros(value: Option<f64>) -> String {
    value.map_or("n/a".into(), |us| format!("{us:.0} us"))
}

fn print_run(run: &Run) {
    println!();
    println!(
        "ledger holding {} participations before the run, {} server process(es)",
        run.ledger_before, run.processes
    );
    println!(
        "  {:<34} {:>9} {:>10} {:>9} {:>9} {:>7}",
        "phase", "answered", "per second", "p50 ms", "p99 ms", "failed"
    );
    for (name, measured) in [
        ("start round (POST /api/rounds)", &run.starts),
        ("verified finish (replay + durable)", &run.finishes),
        ("totals read (GET /api/totals)", &run.totals),
    ] {
        println!(
            "  {:<34} {:>9} {:>10.0} {:>9.2} {:>9.2} {:>7}",
            name,
            measured.ok,
            measured.per_second(),
            measured.quantile_ms(0.5),
            measured.quantile_ms(0.99),
            measured.failed + measured.skipped
        );
        if let Some(failure) = &measured.first_failure {
            println!("    first failure: {failure}");
        }
    }
    println!(
        "  scripted play of the rounds, ahead of the finishes: {:.1} s (not measured)",
        run.play.as_secs_f64()
    );
    println!(
        "  CPU per verified finish: servers {}, load generator {}, PostgreSQL {}",
        micros(run.per_finish_us(run.server_cpu)),
        micros(run.per_finish_us(run.load_generator_cpu)),
        micros(run.per_finish_us(run.postgres_cpu)),
    );
    if let Some(ceiling) = run.cpu_ceiling_per_second() {
        println!(
            "  at these CPU costs the {} cores finish at most {ceiling:.0} a second \
             (servers, load generator and PostgreSQL together)",
            cores()
        );
    }
    if let Some(kib) = run.written_per_finish_kib() {
        println!("  storage written per verified finish: servers {kib:.1} KiB");
    }
    let metrics = &run.metrics;
    let mean_us = |mean: Option<Duration>| micros(mean.map(|mean| mean.as_secs_f64() * 1e6));
    println!(
        "  servers' means: replay {}, ledger commit {}, {:.1} rows per commit; {:.0} commits per second",
        mean_us(ServerMetrics::mean(metrics.replay_seconds, metrics.replays)),
        mean_us(ServerMetrics::mean(metrics.commit_seconds, metrics.commits)),
        metrics.rows / metrics.commits.max(1.0),
        run.commits_per_second(),
    );
    match run.peak_rss_kib {
        Some(kib) => println!("  server peak RSS (VmHWM): {:.1} MiB", kib as f64 / 1024.0),
        None => println!("  server peak RSS: unavailable"),
    }
    println!(
        "  targets: >= 5000 verified/s {}; finish p99 < 50 ms {}; totals p99 < 5 ms {}",
        verdict(run.finishes.per_second() >= 5_000.0 && run.finishes.failed == 0),
        verdict(run.finishes.quantile_ms(0.99) < 50.0),
        verdict(run.totals.quantile_ms(0.99) < 5.0),
    );
    println!(
        "  issue 13's targets: >= 10000 verified/s with p99 <= 20 ms {}; server CPU <= 100 us per finish {}",
        verdict(
            run.finishes.per_second() >= 10_000.0
                && run.finishes.quantile_ms(0.99) <= 20.0
                && run.finishes.failed == 0
        ),
        run.per_finish_us(run.server_cpu)
            .map_or("n/a", |us| verdict(us <= 100.0)),
    );
}

/// The median of `values` (the lower middle one for an even count).
fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values
        .get(values.len().saturating_sub(1) / 2)
        .copied()
        .unwrap_or(f64::NAN)
}

/// One line of the README's table: medians over `runs`.
fn print_summary(backend: &str, runs: &[Run]) {
    let Some(first) = runs.first() else {
        return;
    };
    let of = |value: fn(&Run) -> f64| median(runs.iter().map(value).collect());
    // The median of a figure some runs lack, with `decimals` digits.
    let of_some = |value: fn(&Run) -> Option<f64>, decimals: usize| {
        let values: Vec<f64> = runs.iter().filter_map(value).collect();
        if values.is_empty() {
            "n/a".to_owned()
        } else {
            format!("{:.decimals$}", median(values))
        }
    };
    println!(
        "| {backend} | {} | {} | {} | {:.0} | {:.1} | {:.1} | {} | {} | {} | {:.0} | {:.1} | {} |",
        first.processes,
        first.ledger_before,
        runs.len(),
        of(|run| run.finishes.per_second()),
        of(|run| run.finishes.quantile_ms(0.5)),
        of(|run| run.finishes.quantile_ms(0.99)),
        of_some(|run| run.per_finish_us(run.server_cpu), 0),
        of_some(|run| run.per_finish_us(run.load_generator_cpu), 0),
        of_some(|run| run.per_finish_us(run.postgres_cpu), 0),
        of(Run::commits_per_second),
        of(|run| run.metrics.rows / run.metrics.commits.max(1.0)),
        of_some(Run::written_per_finish_kib, 1),
    );
}

// One thread: every request and its connection are driven by the same
// thread, so the load generator wakes no other thread of its own and takes
// as little as it can of the cores it shares with the servers.
#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let binary = args.server_bin.clone().unwrap_or_else(server_binary);
    ensure!(
        binary.is_file(),
        "no server binary at {}: run `cargo build --release -p server`",
        binary.display()
    );
    ensure!(
        args.processes >= 1 && (args.processes == 1 || args.database_url.is_some()),
        "--processes {} needs --database-url: only PostgreSQL is shared by several processes",
        args.processes
    );
    let backend = match (&args.target, &args.database_url) {
        (Some(target), _) => format!("the servers behind {target}"),
        (None, None) => "SQLite".to_owned(),
        (None, Some(url)) => format!("PostgreSQL ({url})"),
    };
    let cores = cores();
    println!(
        "bench-ingest: {} rounds per run, {} in flight, {} server process(es) on {backend}, \
         {cores} cores shared by servers, database and load generator, server {}",
        args.rounds,
        args.concurrency,
        args.processes,
        binary.display()
    );

    // The builds measured, the baseline (if any) first: each run of one is
    // followed by the same run of the other, so both see the same machine.
    let mut builds: Vec<(&str, PathBuf)> = Vec::new();
    if let Some(baseline) = &args.baseline_bin {
        ensure!(
            baseline.is_file(),
            "no baseline binary at {}",
            baseline.display()
        );
        builds.push(("before", baseline.clone()));
    }
    builds.push(("after", binary.clone()));
    let labelled = builds.len() > 1;

    let mut empty_runs: Vec<Vec<Run>> = builds.iter().map(|_| Vec::new()).collect();
    for _ in 0..args.repeat.max(1) {
        for ((label, binary), runs) in builds.iter().zip(&mut empty_runs) {
            // With --target the servers' ledger is theirs; this one goes unused.
            let ledger = Ledger::new(&args, binary).await?;
            let empty = run(&args, binary, &ledger, 0).await?;
            if labelled {
                println!("\n[{label}] {}", binary.display());
            }
            print_run(&empty);
            runs.push(empty);
        }
    }

    let mut loaded_runs: Vec<Vec<Run>> = builds.iter().map(|_| Vec::new()).collect();
    if args.preload > 0 && args.target.is_none() {
        for ((label, binary), runs) in builds.iter().zip(&mut loaded_runs) {
            // Each build loads its own ledger: an older one may not read a
            // newer schema.
            let ledger = Ledger::new(&args, binary).await?;
            let (loaded, elapsed) = bulk_load(binary, &ledger, args.preload)?;
            println!();
            if labelled {
                println!("[{label}] {}", binary.display());
            }
            println!(
                "bulk load of {loaded} participations (server bulk-load): {:.1} s, {:.0} per second; target < 60 s for 5.8 million: {}",
                elapsed.as_secs_f64(),
                loaded as f64 / elapsed.as_secs_f64().max(f64::EPSILON),
                verdict(
                    args.preload < CAMPAIGN_PARTICIPATIONS || elapsed < Duration::from_secs(60)
                ),
            );
            let second = run(&args, binary, &ledger, loaded).await?;
            print_run(&second);
            runs.push(second);
        }
    }

    println!("summary (medians over the runs of each ledger size):");
    println!(
        "| backend | processes | ledger before | runs | verified finishes/s | p50 ms | p99 ms | \
         server CPU us/finish | load generator CPU us/finish | PostgreSQL CPU us/finish | \
         commits/s | rows/commit | server KiB written/finish |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for runs in [&empty_runs, &loaded_runs] {
        for ((label, _), runs) in builds.iter().zip(runs) {
            let backend = if labelled {
                format!("{backend} ({label})")
            } else {
                backend.to_owned()
            };
            print_summary(&backend, runs);
        }
    }
    if labelled {
        println!();
        println!("after / before (medians of the same session; > 1 is more):");
        for runs in [&empty_runs, &loaded_runs] {
            if let [before, after] = runs.as_slice() {
                print_ratios(before, after);
            }
        }
    }
    Ok(())
}

/// The medians of `after` over those of `before`, for one ledger size.
fn print_ratios(before: &[Run], after: &[Run]) {
    let (Some(first), false) = (after.first(), before.is_empty()) else {
        return;
    };
    let median_of = |runs: &[Run], value: &dyn Fn(&Run) -> Option<f64>| {
        let values: Vec<f64> = runs.iter().filter_map(value).collect();
        (!values.is_empty()).then(|| median(values))
    };
    let ratio = |value: &dyn Fn(&Run) -> Option<f64>| match (
        median_of(before, value),
        median_of(after, value),
    ) {
        (Some(before), Some(after)) if before > 0.0 => format!("x{:.2}", after / before),
        _ => "n/a".to_owned(),
    };
    println!(
        "  ledger before {}: verified finishes/s {}, p50 {}, p99 {}, server CPU per finish {}, \
         storage written per finish {}",
        first.ledger_before,
        ratio(&|run| Some(run.finishes.per_second())),
        ratio(&|run| Some(run.finishes.quantile_ms(0.5))),
        ratio(&|run| Some(run.finishes.quantile_ms(0.99))),
        ratio(&|run| run.per_finish_us(run.server_cpu)),
        ratio(&Run::written_per_finish_kib),
    );
}
