//! The crash test: acknowledged participations survive SIGKILL.
//!
//! The real server runs as a child process. Concurrent clients play rounds
//! with the scripted player and finish them; whenever a finish gets no
//! answer (the server died under it), the client sends the very same
//! request again, same `Idempotency-Key`, once the server is back. Meanwhile
//! the harness kills the server with SIGKILL at random moments (after a
//! random number of acknowledged finishes, from a seeded generator whose
//! seed is printed), at least 20 times, restarting it each time.
//!
//! Then it checks, through the server's own audit (`server check-ledger`)
//! and through the API, that every acknowledged participation is in the
//! ledger exactly once with the number its receipt gave, that the numbers
//! run 1..=N without a gap, and that the ledger holds nothing no client was
//! told about.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rand::{Rng as _, SeedableRng as _};
use reqwest::StatusCode;
use sim::Rules;
use sim::wire::{
    FinishRoundRequest, ParticipationRecord, Receipt, RoundStarted, StartRoundRequest,
};
use tests::server_process::{ServerOptions, ServerProcess, server_binary};
use tokio::sync::watch;

/// SIGKILLs per run.
const KILLS: u64 = 30;
/// Clients finishing rounds at the same time.
const CLIENTS: usize = 8;
/// Most acknowledged finishes between two kills (0 kills right after the
/// restart, while the first requests are in flight).
const MAX_ACKS_BETWEEN_KILLS: u64 = 12;
/// Rounds a client plays as one player before taking a new id (keeps each
/// history within one page of the history endpoint).
const ROUNDS_PER_PLAYER: usize = 100;
/// Rounds a client plays at most (it stops sooner, when told to).
const MAX_ROUNDS_PER_CLIENT: usize = 100_000;
/// Attempts at one request before the client gives up (a test failure).
const MAX_ATTEMPTS: usize = 50;
/// Longest wait for any one thing: a restart, an answer, some progress.
const WAIT: Duration = Duration::from_secs(60);

/// The running server as clients see it: a generation number (bumped on
/// every restart) and its URL, `None` while it is down.
type ServerUrl = watch::Receiver<(u64, Option<String>)>;

/// What one client did.
#[derive(Debug, Default)]
struct ClientReport {
    /// Every receipt it got.
    receipts: Vec<Receipt>,
    /// The player ids it played as.
    players: Vec<String>,
    /// Finishes sent again after the server died under them.
    retries: u64,
    /// Anything other than a receipt or a dead server (must stay empty).
    failures: Vec<String>,
}

/// Waits until the server runs in a generation newer than `seen`, and
/// returns it.
async fn server_after(url: &mut ServerUrl, seen: u64) -> (u64, String) {
    let current = tokio::time::timeout(
        WAIT,
        url.wait_for(|(generation, url)| *generation > seen && url.is_some()),
    )
    .await
    .expect("the server comes back")
    .expect("the harness is alive")
    .clone();
    (current.0, current.1.expect("checked above"))
}

/// Sends `send` to the current server until it answers, waiting for the next
/// restart after each failure to connect. `None` if it never answers.
async fn until_answered<F, Fut>(
    url: &mut ServerUrl,
    retries: &mut u64,
    send: F,
) -> Option<reqwest::Response>
where
    F: Fn(String) -> Fut,
    Fut: Future<Output = reqwest::Result<reqwest::Response>>,
{
    let (mut generation, mut base) = server_after(url, 0).await;
    for attempt in 0..MAX_ATTEMPTS {
        match send(base.clone()).await {
            Ok(response) if !response.status().is_server_error() => return Some(response),
            // No answer (killed mid-request) or a 5xx: same request again,
            // to the next server.
            _ if attempt + 1 < MAX_ATTEMPTS => {
                *retries += 1;
                (generation, base) = server_after(url, generation).await;
            }
            _ => {}
        }
    }
    None
}

async fn client(
    id: usize,
    http: reqwest::Client,
    mut url: ServerUrl,
    acks: Arc<AtomicU64>,
    ack_tx: watch::Sender<u64>,
    stop: Arc<AtomicBool>,
) -> ClientReport {
    let mut report = ClientReport::default();
    // `None` asks the server for a new player id on the next start.
    let mut player: Option<String> = None;
    for round in 1..=MAX_ROUNDS_PER_CLIENT {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        if round.is_multiple_of(ROUNDS_PER_PLAYER) {
            player = None;
        }
        let start = StartRoundRequest {
            player: player.clone(),
            referral: None,
        };
        let mut retries = 0;
        let Some(response) = until_answered(&mut url, &mut retries, |base| {
            http.post(format!("{base}/api/rounds")).json(&start).send()
        })
        .await
        else {
            report
                .failures
                .push(format!("client {id}: no server answered a start"));
            break;
        };
        let started: RoundStarted = match response.json().await {
            Ok(started) => started,
            Err(error) => {
                report
                    .failures
                    .push(format!("client {id}: start answer: {error}"));
                break;
            }
        };
        if player.is_none() {
            player = Some(started.player.clone());
            report.players.push(started.player.clone());
        }
        let seed = started.seed;
        let (input_log, outcome) =
            tokio::task::spawn_blocking(move || sim::bot::play_round(seed, &Rules::CURRENT))
                .await
                .expect("the scripted player");
        if !outcome.completed {
            continue;
        }
        let body = serde_json::to_vec(&FinishRoundRequest {
            token: started.token.clone(),
            input_log,
            outcome,
        })
        .unwrap();
        let key = format!("crash-{id}-{round}");
        let finish = |base: String| {
            http.post(format!("{base}/api/rounds/{}/finish", started.round_id))
                .header("idempotency-key", &key)
                .header("content-type", "application/json")
                .body(body.clone())
                .send()
        };
        let mut retries = 0;
        let answer = until_answered(&mut url, &mut retries, finish).await;
        report.retries += retries;
        match answer {
            Some(response) if response.status() == StatusCode::OK => {
                match response.json::<Receipt>().await {
                    Ok(receipt) => {
                        report.receipts.push(receipt);
                        let acked = acks.fetch_add(1, Ordering::Relaxed) + 1;
                        ack_tx.send_replace(acked);
                    }
                    Err(error) => report
                        .failures
                        .push(format!("client {id}: receipt: {error}")),
                }
            }
            Some(response) => {
                let status = response.status();
                let body = response.text().await.unwrap_or_default();
                report.failures.push(format!(
                    "client {id}: round {} refused: {status} {body}",
                    started.round_id
                ));
            }
            None => report.failures.push(format!(
                "client {id}: no server answered finish of {}",
                started.round_id
            )),
        }
    }
    report
}

/// Starts the server on a blocking thread (it waits for the port line).
async fn start_server(options: &ServerOptions) -> ServerProcess {
    let options = options.clone();
    tokio::task::spawn_blocking(move || ServerProcess::spawn(options))
        .await
        .expect("the spawning thread")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_acknowledged_participations_survive_sigkill() {
    let seed = std::env::var("DREAMFAIRY_CRASH_SEED")
        .ok()
        .and_then(|seed| seed.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        });
    println!("crash test seed: {seed} (DREAMFAIRY_CRASH_SEED={seed} repeats the kill schedule)");
    let mut rng = rand_pcg::Pcg64::seed_from_u64(seed);
    let began = Instant::now();

    let data = tempfile::tempdir().expect("a temporary data directory");
    let options = ServerOptions::new(data.path().join("data")).without_player_limits();
    let http = reqwest::Client::builder()
        .no_proxy()
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();

    let mut server = start_server(&options).await;
    let (url_tx, url_rx) = watch::channel((1, Some(server.base_url().to_owned())));
    let (ack_tx, mut ack_rx) = watch::channel(0u64);
    let acks = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|id| {
            tokio::spawn(client(
                id,
                http.clone(),
                url_rx.clone(),
                acks.clone(),
                ack_tx.clone(),
                stop.clone(),
            ))
        })
        .collect();

    for kill in 1..=KILLS {
        let wanted = *ack_rx.borrow() + rng.random_range(0..=MAX_ACKS_BETWEEN_KILLS);
        tokio::time::timeout(WAIT, ack_rx.wait_for(|acked| *acked >= wanted))
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "no progress before kill {kill}; server log: {}",
                    server.log_path().display()
                )
            })
            .unwrap();
        url_tx.send_modify(|(_, url)| *url = None);
        server.kill();
        server = start_server(&options).await;
        url_tx.send_modify(|(generation, url)| {
            *generation += 1;
            *url = Some(server.base_url().to_owned());
        });
    }
    // A few more rounds on the last server, then let the clients wind down.
    let wanted = *ack_rx.borrow() + CLIENTS as u64;
    tokio::time::timeout(WAIT, ack_rx.wait_for(|acked| *acked >= wanted))
        .await
        .expect("progress after the last restart")
        .unwrap();
    stop.store(true, Ordering::Relaxed);
    let mut reports = Vec::new();
    for client in clients {
        reports.push(
            tokio::time::timeout(WAIT, client)
                .await
                .expect("the client winds down")
                .expect("the client task"),
        );
    }
    let status = tokio::task::spawn_blocking(move || server.terminate())
        .await
        .unwrap();
    assert!(
        status.success(),
        "a graceful shutdown exits with success, got {status}"
    );

    let failures: Vec<&String> = reports.iter().flat_map(|report| &report.failures).collect();
    assert!(
        failures.is_empty(),
        "every round must be counted or retried to a receipt: {failures:#?}"
    );
    let receipts: Vec<&Receipt> = reports.iter().flat_map(|report| &report.receipts).collect();
    let retries: u64 = reports.iter().map(|report| report.retries).sum();
    assert!(
        retries > 0,
        "no kill caught a finish in flight: the run proved nothing about requests in doubt"
    );
    let acknowledged: BTreeMap<&str, u64> = receipts
        .iter()
        .map(|receipt| (receipt.round_id.as_str(), receipt.participation))
        .collect();
    assert_eq!(
        acknowledged.len(),
        receipts.len(),
        "no round acknowledged twice under different receipts"
    );

    // The server's own audit of the file: numbers 1..=N, each round once,
    // every tally equal to a recount.
    let audit = std::process::Command::new(server_binary())
        .arg("check-ledger")
        .arg("--data-dir")
        .arg(options.data_dir())
        .output()
        .expect("server check-ledger runs");
    let report: serde_json::Value =
        serde_json::from_slice(&audit.stdout).expect("a JSON audit report");
    assert!(
        audit.status.success(),
        "the ledger audit found problems: {report:#}"
    );
    let participations = report["participations"]
        .as_u64()
        .expect("a participation count");
    assert_eq!(
        participations,
        receipts.len() as u64,
        "the ledger holds exactly the acknowledged rounds"
    );

    // Through the API: every acknowledged round is there once, under the
    // number its receipt gave, and the numbers have no gap.
    let server = start_server(&options).await;
    let mut ledger: BTreeMap<String, u64> = BTreeMap::new();
    let players: BTreeSet<&String> = reports.iter().flat_map(|report| &report.players).collect();
    for player in players {
        let url = format!(
            "{}/api/players/{player}/participations?limit=1000",
            server.base_url()
        );
        let history: Vec<ParticipationRecord> =
            http.get(url).send().await.unwrap().json().await.unwrap();
        for record in history {
            let previous = ledger.insert(record.round_id.clone(), record.participation);
            assert!(previous.is_none(), "round {} listed twice", record.round_id);
        }
    }
    for (round, number) in &acknowledged {
        assert_eq!(
            ledger.get(*round),
            Some(number),
            "acknowledged round {round} must be in the ledger as #{number}"
        );
    }
    assert_eq!(
        ledger.len(),
        acknowledged.len(),
        "nothing in the ledger that no client was told about"
    );
    let numbers: BTreeSet<u64> = ledger.values().copied().collect();
    assert_eq!(
        numbers,
        (1..=participations).collect(),
        "participation numbers run 1..={participations} without a gap"
    );

    println!(
        "crash test: {KILLS} SIGKILLs, {} acknowledged participations from {CLIENTS} clients, \
         {retries} finishes re-sent after a kill, all present exactly once, numbers 1..={participations}, \
         {:.1} s",
        receipts.len(),
        began.elapsed().as_secs_f64()
    );
}
