//! The scale-out crash test: three server processes on one PostgreSQL
//! ledger, SIGKILLed at random, lose nothing and count nothing twice.
//!
//! Three real servers share one database (a scratch database on the
//! server `DREAMFAIRY_TEST_POSTGRES_URL` names) and one token secret, with
//! the demo schools and a pledge loaded, so books are funded and allocated
//! by all three. Concurrent clients, each at home on one server, play
//! rounds and finish them; a request that gets no answer is sent again,
//! same key and body, to the next running server (as a reverse proxy
//! would), so rounds in doubt are settled by another process than the one
//! that died. Meanwhile the harness kills a random server with SIGKILL at
//! random moments, at least 30 times, restarting each one.
//!
//! Then `server check-ledger` (numbers 1..=N, each round once, every tally
//! a recount), `export` plus `verify` (every book's school is the one rule's)
//! and every player's history through the API (each acknowledged round
//! once under its receipt's number, nothing else) must all agree.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use rand::{Rng as _, SeedableRng as _};
use server::store::postgres::ScratchDatabase;
use tests::crash::{
    Fleet, Progress, acknowledged_rounds, audit_holds_exactly, check_histories, client,
    http_client, run_subcommand, start_server, wind_down,
};
use tests::server_process::ServerOptions;

/// Server processes sharing the ledger.
const PROCESSES: usize = 3;
/// SIGKILLs per run, each of a random process.
const KILLS: u64 = 30;
/// Clients finishing rounds at the same time (each at home on one process).
const CLIENTS: usize = 9;
/// Most acknowledged finishes between two kills.
const MAX_ACKS_BETWEEN_KILLS: u64 = 8;
/// Longest extra pause before a kill, so that kills also land in the
/// middle of a batch rather than right after an answer (a random moment,
/// not a synchronisation).
const MAX_KILL_JITTER: Duration = Duration::from_millis(30);
/// The secret every process signs and checks round tokens with.
const SECRET: &str = "scale-out-test-secret-scale-out-test-secret";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_three_processes_on_one_postgres_lose_nothing() {
    let mut rng = rand_pcg::Pcg64::seed_from_u64(tests::crash::seed());
    let began = Instant::now();
    let database = ScratchDatabase::for_tests().await;
    let url = database.url().as_str().to_owned();
    let ledger = ["--database-url".as_ref(), url.as_ref()];

    // The campaign: the demo schools and one pledge of a book per three
    // participations, so every process funds and allocates books.
    let schools = tests::workspace_root().join("assets/demo/schools.csv");
    let (imported, answer) = run_subcommand(
        "import-schools",
        &[ledger[0], ledger[1], "--file".as_ref(), schools.as_os_str()],
    );
    assert!(imported, "the demo schools import: {answer}");
    let (pledged, answer) = run_subcommand(
        "pledge",
        &[
            ledger[0],
            ledger[1],
            "--sponsor".as_ref(),
            "scale-out test".as_ref(),
            "--participations-per-book".as_ref(),
            "3".as_ref(),
            "--books".as_ref(),
            "100000".as_ref(),
        ],
    );
    assert!(pledged, "the pledge is made: {answer}");

    let data = tempfile::tempdir().expect("a temporary folder");
    let options: Vec<ServerOptions> = (0..PROCESSES)
        .map(|index| {
            ServerOptions::new(data.path().join(format!("server-{index}")))
                .without_player_limits()
                .args(["--database-url", url.as_str(), "--secret", SECRET])
        })
        .collect();
    let mut servers = Vec::with_capacity(PROCESSES);
    for options in &options {
        servers.push(start_server(options).await);
    }
    let (fleet, view) = Fleet::new(servers.iter().map(|server| server.base_url().to_owned()));
    let http = http_client();
    let progress = Progress::default();
    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|id| {
            tokio::spawn(client(
                id,
                id % PROCESSES,
                http.clone(),
                view.clone(),
                progress.clone(),
                stop.clone(),
            ))
        })
        .collect();

    let mut kills_per_process = [0u64; PROCESSES];
    for kill in 1..=KILLS {
        let more = rng.random_range(0..=MAX_ACKS_BETWEEN_KILLS);
        assert!(
            progress.wait_for_more(more).await,
            "no progress before kill {kill}; server logs in {}",
            data.path().display()
        );
        tokio::time::sleep(rng.random_range(Duration::ZERO..=MAX_KILL_JITTER)).await;
        let victim = rng.random_range(0..PROCESSES);
        fleet.down(victim);
        servers[victim].kill();
        kills_per_process[victim] += 1;
        servers[victim] = start_server(&options[victim]).await;
        fleet.up(victim, servers[victim].base_url().to_owned());
    }
    assert!(
        progress.wait_for_more(CLIENTS as u64).await,
        "progress after the last restart"
    );
    let reports = wind_down(&stop, clients).await;
    for mut server in servers {
        let status = tokio::task::spawn_blocking(move || server.terminate())
            .await
            .expect("the terminating thread");
        assert!(
            status.success(),
            "a graceful shutdown exits with success, got {status}"
        );
    }
    let acknowledged = acknowledged_rounds(&reports);

    let participations = audit_holds_exactly(&ledger, acknowledged.len());

    let export = data.path().join("export");
    let (exported, answer) = {
        let output = std::process::Command::new(tests::server_process::server_binary())
            .arg("export")
            .args(ledger)
            .arg("--out")
            .arg(&export)
            .env("RUST_LOG", "warn")
            .output()
            .expect("server export runs");
        (
            output.status.success(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    assert!(exported, "the export is written: {answer}");
    let (verified, report) = run_subcommand("verify", &[export.as_os_str()]);
    assert!(
        verified,
        "every book has the school one process would have given it: {report:#}"
    );
    let books = report["books_checked"].as_u64().unwrap_or(0);
    assert_eq!(
        books,
        participations / 3,
        "one book per three participations, all checked: {report:#}"
    );

    let server = start_server(&options[0]).await;
    check_histories(
        &http,
        server.base_url(),
        &reports,
        &acknowledged,
        participations,
    )
    .await;

    let retries: u64 = reports.iter().map(|report| report.retries).sum();
    let failovers: u64 = reports.iter().map(|report| report.failovers).sum();
    assert!(
        failovers > 0,
        "no finish was settled by another process than the one it was sent to: the run proved \
         nothing about the same request reaching two processes"
    );
    println!(
        "scale-out crash test: {PROCESSES} processes on one PostgreSQL, {KILLS} SIGKILLs \
         ({kills_per_process:?} per process), {} acknowledged participations from {CLIENTS} \
         clients, {retries} requests re-sent after a kill, {failovers} finishes settled by \
         another process, {books} books verified, all present exactly once, numbers \
         1..={participations}, {:.1} s",
        acknowledged.len(),
        began.elapsed().as_secs_f64()
    );
}
