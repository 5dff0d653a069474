//! The crash test: acknowledged participations survive SIGKILL.
//!
//! The real server runs as a child process. Concurrent clients
//! ([`tests::crash`]) play rounds with the scripted player and finish them;
//! whenever a finish gets no answer (the server died under it), the client
//! sends the very same request again, same `Idempotency-Key`, once the
//! server is back. Meanwhile the harness kills the server with SIGKILL at
//! random moments (after a random number of acknowledged finishes, from a
//! seeded generator whose seed is printed), 30 times, restarting it each
//! time. `scale_out.rs` does the same with three processes on PostgreSQL.
//!
//! Then it checks, through the server's own audit (`server check-ledger`)
//! and through the API, that every acknowledged participation is in the
//! ledger exactly once with the number its receipt gave, that the numbers
//! run 1..=N without a gap, and that the ledger holds nothing no client was
//! told about.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use rand::{Rng as _, SeedableRng as _};
use tests::crash::{
    Fleet, Progress, acknowledged_rounds, audit_holds_exactly, check_histories, client,
    http_client, start_server, wind_down,
};
use tests::server_process::ServerOptions;

/// SIGKILLs per run.
const KILLS: u64 = 30;
/// Clients finishing rounds at the same time.
const CLIENTS: usize = 8;
/// Most acknowledged finishes between two kills (0 kills right after the
/// restart, while the first requests are in flight).
const MAX_ACKS_BETWEEN_KILLS: u64 = 12;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_acknowledged_participations_survive_sigkill() {
    let mut rng = rand_pcg::Pcg64::seed_from_u64(tests::crash::seed());
    let began = Instant::now();

    let data = tempfile::tempdir().expect("a temporary data directory");
    let options = ServerOptions::new(data.path().join("data")).without_player_limits();
    let http = http_client();

    let mut server = start_server(&options).await;
    let (fleet, view) = Fleet::new([server.base_url().to_owned()]);
    let progress = Progress::default();
    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|id| {
            tokio::spawn(client(
                id,
                0,
                http.clone(),
                view.clone(),
                progress.clone(),
                stop.clone(),
            ))
        })
        .collect();

    for kill in 1..=KILLS {
        let more = rng.random_range(0..=MAX_ACKS_BETWEEN_KILLS);
        assert!(
            progress.wait_for_more(more).await,
            "no progress before kill {kill}; server log: {}",
            server.log_path().display()
        );
        fleet.down(0);
        server.kill();
        server = start_server(&options).await;
        fleet.up(0, server.base_url().to_owned());
    }
    // A few more rounds on the last server, then let the clients wind down.
    assert!(
        progress.wait_for_more(CLIENTS as u64).await,
        "progress after the last restart"
    );
    let reports = wind_down(&stop, clients).await;
    let status = tokio::task::spawn_blocking(move || server.terminate())
        .await
        .unwrap();
    assert!(
        status.success(),
        "a graceful shutdown exits with success, got {status}"
    );
    let acknowledged = acknowledged_rounds(&reports);

    let participations = audit_holds_exactly(
        &["--data-dir".as_ref(), options.data_dir().as_os_str()],
        acknowledged.len(),
    );

    // Through the API: every acknowledged round is there once, under the
    // number its receipt gave, and the numbers have no gap.
    let server = start_server(&options).await;
    check_histories(
        &http,
        server.base_url(),
        &reports,
        &acknowledged,
        participations,
    )
    .await;

    let retries: u64 = reports.iter().map(|report| report.retries).sum();
    println!(
        "crash test: {KILLS} SIGKILLs, {} acknowledged participations from {CLIENTS} clients, \
         {retries} requests re-sent after a kill, all present exactly once, numbers 1..={participations}, \
         {:.1} s",
        acknowledged.len(),
        began.elapsed().as_secs_f64()
    );
}
