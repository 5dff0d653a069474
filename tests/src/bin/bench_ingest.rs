//! `bench-ingest`: the ingest load generator behind `cargo xtask bench ingest`.
//!
//! For an empty ledger, then for one already holding 5.8 million
//! participations (loaded through `server bulk-load`, whose time is
//! reported), it:
//!
//! 1. starts the real server on 127.0.0.1:0 in a temporary data directory,
//!    with the minimum round time and the per-address limit turned off (a
//!    load generator finishes rounds at CPU speed, all from one address);
//! 2. starts rounds over HTTP (measured);
//! 3. plays each with the scripted player, ahead of the measurement (in the
//!    field the players' phones do this work);
//! 4. finishes them all with bounded concurrency: verified participations
//!    per second and latency p50/p99 (measured; every finish replays the log
//!    and is durable before it is answered);
//! 5. reads `/api/totals` (measured);
//! 6. reads the server's peak resident memory (`VmHWM`).
//!
//! Then it prints one table, with the targets of issue 4 beside the figures.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail, ensure};
use clap::Parser;
use futures::StreamExt as _;
use hdrhistogram::Histogram;
use sim::Rules;
use sim::wire::{FinishRoundRequest, RoundStarted};
use tests::server_process::{ServerOptions, ServerProcess, server_binary};

/// The real campaign's size.
const CAMPAIGN_PARTICIPATIONS: u64 = 5_800_000;

#[derive(Debug, Parser)]
#[command(about = "Ingest benchmark: verified participations per second over real HTTP")]
struct Args {
    /// The server binary (default: `server` next to this binary).
    #[arg(long)]
    server_bin: Option<PathBuf>,
    /// Rounds finished per ledger size.
    #[arg(long, default_value_t = 20_000)]
    rounds: usize,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// Participations bulk-loaded before the second run (0 skips it).
    #[arg(long, default_value_t = CAMPAIGN_PARTICIPATIONS)]
    preload: u64,
    /// `/api/totals` reads per ledger size.
    #[arg(long, default_value_t = 10_000)]
    totals_reads: usize,
    /// Longest time one measured phase may run, in seconds; requests not
    /// sent by then are skipped and reported.
    #[arg(long, default_value_t = 120)]
    max_phase_secs: u64,
    /// More arguments for `server serve` (e.g. `--server-arg=--batch-window-us=0`).
    #[arg(long)]
    server_arg: Vec<String>,
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
    starts: Measured,
    /// Time to play every round with the scripted player (not measured
    /// against a target).
    play: Duration,
    finishes: Measured,
    /// Server CPU time spent during the finishes.
    finish_cpu: Option<Duration>,
    totals: Measured,
    peak_rss_kib: Option<u64>,
    /// The server's own metrics at the end of the run.
    metrics: ServerMetrics,
}

/// Means from the server's Prometheus histograms.
#[derive(Debug, Default)]
struct ServerMetrics {
    replay_mean: Option<Duration>,
    commit_mean: Option<Duration>,
    rows_per_commit: Option<f64>,
}

impl ServerMetrics {
    /// Reads the means out of the text exposition at `/metrics`.
    fn parse(text: &str) -> Self {
        let value = |name: &str| {
            text.lines().find_map(|line| {
                line.strip_prefix(name)?
                    .strip_prefix(' ')?
                    .trim()
                    .parse::<f64>()
                    .ok()
            })
        };
        let mean = |histogram: &str| {
            let sum = value(&format!("{histogram}_sum"))?;
            let count = value(&format!("{histogram}_count"))?;
            (count > 0.0).then(|| sum / count)
        };
        Self {
            replay_mean: mean("dreamfairy_replay_duration_seconds").map(Duration::from_secs_f64),
            commit_mean: mean("dreamfairy_ledger_commit_duration_seconds")
                .map(Duration::from_secs_f64),
            rows_per_commit: mean("dreamfairy_ledger_batch_rows"),
        }
    }
}

/// Posts a JSON `body`; the answer's body if it is a success.
async fn post_json(
    http: &reqwest::Client,
    url: String,
    idempotency_key: Option<String>,
    body: Vec<u8>,
) -> Result<Vec<u8>, String> {
    let mut request = http
        .post(url)
        .header("content-type", "application/json")
        .body(body);
    if let Some(key) = idempotency_key {
        request = request.header("idempotency-key", key);
    }
    let response = request
        .send()
        .await
        .map_err(|err| format!("no answer: {err}"))?;
    let status = response.status();
    let body = response
        .bytes()
        .await
        .map_err(|err| format!("body: {err}"))?;
    if status.is_success() {
        Ok(body.to_vec())
    } else {
        Err(format!("{status}: {}", String::from_utf8_lossy(&body)))
    }
}

/// Plays every round with the scripted player, on every core, and builds
/// the finish requests of those it completes.
fn play_all(started: Vec<RoundStarted>) -> Vec<(String, Vec<u8>)> {
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
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
    data_dir: &Path,
    ledger_before: u64,
) -> anyhow::Result<Run> {
    let options = ServerOptions::new(data_dir)
        .binary(binary)
        .without_player_limits()
        .args(&args.server_arg)
        .env("RUST_LOG", "warn");
    let mut server = tokio::task::spawn_blocking(move || ServerProcess::spawn(options)).await?;
    let base = server.base_url().to_owned();
    let http = reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(args.concurrency)
        .build()?;
    let max_time = Duration::from_secs(args.max_phase_secs);

    let start_requests: Vec<_> = (0..args.rounds)
        .map(|_| {
            let (http, url) = (http.clone(), format!("{base}/api/rounds"));
            async move {
                let body = post_json(&http, url, None, b"{}".to_vec()).await?;
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
        .map(|(round_id, body)| {
            let (http, url) = (http.clone(), format!("{base}/api/rounds/{round_id}/finish"));
            async move { post_json(&http, url, Some(round_id), body).await.map(drop) }
        })
        .collect();
    let cpu_before = server.cpu_time();
    let (finishes, _) = drive(finish_requests, args.concurrency, max_time).await;
    let finish_cpu = server
        .cpu_time()
        .zip(cpu_before)
        .map(|(after, before)| after.saturating_sub(before));

    let totals_requests: Vec<_> = (0..args.totals_reads)
        .map(|_| {
            let (http, url) = (http.clone(), format!("{base}/api/totals"));
            async move {
                let response = http.get(url).send().await.map_err(|err| err.to_string())?;
                let status = response.status();
                response.bytes().await.map_err(|err| err.to_string())?;
                if status.is_success() {
                    Ok(())
                } else {
                    Err(status.to_string())
                }
            }
        })
        .collect();
    let (totals, _) = drive(totals_requests, args.concurrency.min(8), max_time).await;

    let peak_rss_kib = server.peak_rss_kib();
    let metrics_text = http
        .get(format!("{base}/metrics"))
        .send()
        .await?
        .text()
        .await?;
    let metrics = ServerMetrics::parse(&metrics_text);
    let status = tokio::task::spawn_blocking(move || server.terminate()).await?;
    ensure!(
        status.success(),
        "the server did not shut down cleanly: {status}"
    );
    Ok(Run {
        ledger_before,
        starts,
        play,
        finishes,
        finish_cpu,
        totals,
        peak_rss_kib,
        metrics,
    })
}

/// `server bulk-load`: returns the participations loaded and the wall time.
fn bulk_load(binary: &Path, data_dir: &Path, count: u64) -> anyhow::Result<(u64, Duration)> {
    let began = Instant::now();
    let output = Command::new(binary)
        .arg("bulk-load")
        .arg("--data-dir")
        .arg(data_dir)
        .arg("--count")
        .arg(count.to_string())
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

fn print_run(run: &Run) {
    println!();
    println!(
        "ledger holding {} participations before the run",
        run.ledger_before
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
    if let Some(cpu) = run.finish_cpu {
        println!(
            "  server CPU per verified finish: {:.0} us",
            cpu.as_secs_f64() * 1e6 / run.finishes.ok.max(1) as f64
        );
    }
    let micros = |mean: Option<Duration>| {
        mean.map_or("?".into(), |mean| {
            format!("{:.0} us", mean.as_secs_f64() * 1e6)
        })
    };
    println!(
        "  server means: replay {}, ledger commit {}, {} rows per commit",
        micros(run.metrics.replay_mean),
        micros(run.metrics.commit_mean),
        run.metrics
            .rows_per_commit
            .map_or("?".into(), |rows| format!("{rows:.1}")),
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
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let binary = args.server_bin.clone().unwrap_or_else(server_binary);
    ensure!(
        binary.is_file(),
        "no server binary at {}: run `cargo build --release -p server`",
        binary.display()
    );
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    println!(
        "bench-ingest: {} rounds per run, {} in flight, {cores} cores shared by server and load generator, server {}",
        args.rounds,
        args.concurrency,
        binary.display()
    );

    let empty = tempfile::tempdir()?;
    let first = run(&args, &binary, &empty.path().join("data"), 0).await?;
    print_run(&first);
    drop(empty);

    if args.preload > 0 {
        let loaded_dir = tempfile::tempdir()?;
        let data_dir = loaded_dir.path().join("data");
        std::fs::create_dir_all(&data_dir)?;
        let (loaded, elapsed) = bulk_load(&binary, &data_dir, args.preload)?;
        println!();
        println!(
            "bulk load of {loaded} participations (server bulk-load): {:.1} s, {:.0} per second; target < 60 s for 5.8 million: {}",
            elapsed.as_secs_f64(),
            loaded as f64 / elapsed.as_secs_f64().max(f64::EPSILON),
            verdict(args.preload < CAMPAIGN_PARTICIPATIONS || elapsed < Duration::from_secs(60)),
        );
        let second = run(&args, &binary, &data_dir, loaded).await?;
        print_run(&second);
    }
    Ok(())
}
