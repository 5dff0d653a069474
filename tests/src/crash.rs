//! The crash harness shared by the crash tests: server processes killed at
//! random moments under concurrent clients that never give up on a round.
//!
//! The harness keeps one [`Slot`] per server process in a [`Fleet`]: its
//! URL while it runs, and a generation number bumped at every restart.
//! Clients ([`client`]) play rounds with the scripted player and finish
//! them; whenever a request gets no answer (the server died under it) or a
//! 5xx, the client sends the very same request again, same
//! `Idempotency-Key` and body, to the next live server (the same one, once
//! it is back, when there is only one). Each receipt a client gets is
//! counted by [`Progress`], which the harness waits on to kill after a
//! random number of acknowledged finishes.
//!
//! Afterwards [`check_histories`] reads every player's history through the
//! API and checks it against the receipts: every acknowledged round exactly
//! once, under its receipt's number, and nothing else.
//!
//! Every wait is bounded by [`WAIT`], every loop by a count.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use reqwest::StatusCode;
use sim::Rules;
use sim::wire::{
    FinishRoundRequest, ParticipationRecord, Receipt, RoundStarted, StartRoundRequest,
};
use tokio::sync::watch;

use crate::server_process::{ServerOptions, ServerProcess};

/// Longest wait for any one thing: a restart, an answer, some progress.
pub const WAIT: Duration = Duration::from_secs(60);
/// Rounds a client plays as one player before taking a new id (keeps each
/// history within one page of the history endpoint).
const ROUNDS_PER_PLAYER: usize = 100;
/// Rounds a client plays at most (it stops sooner, when told to).
const MAX_ROUNDS_PER_CLIENT: usize = 100_000;
/// Attempts at one request before the client gives up (a test failure).
const MAX_ATTEMPTS: usize = 50;

/// One server process as clients see it: a generation number (bumped at
/// every restart) and its URL, `None` while it is down.
pub type Slot = (u64, Option<String>);

/// The harness's side of the servers: it marks them down and up.
#[derive(Debug)]
pub struct Fleet {
    slots: Vec<watch::Sender<Slot>>,
}

/// The clients' side: where each server is, if it runs.
#[derive(Debug, Clone)]
pub struct FleetView {
    slots: Vec<watch::Receiver<Slot>>,
}

impl Fleet {
    /// A fleet of servers already running at `urls` (generation 1 each).
    pub fn new(urls: impl IntoIterator<Item = String>) -> (Self, FleetView) {
        let (slots, views) = urls
            .into_iter()
            .map(|url| watch::channel((1, Some(url))))
            .unzip();
        (Self { slots }, FleetView { slots: views })
    }

    /// Marks server `index` down (before it is killed, so no new request
    /// goes to it).
    pub fn down(&self, index: usize) {
        self.slots[index].send_modify(|(_, url)| *url = None);
    }

    /// Marks server `index` up again, at `url`, in a new generation.
    pub fn up(&self, index: usize, url: String) {
        self.slots[index].send_modify(|(generation, slot_url)| {
            *generation += 1;
            *slot_url = Some(url);
        });
    }
}

/// A server a request went to: its slot, its generation, its URL.
#[derive(Debug, Clone)]
struct Target {
    slot: usize,
    generation: u64,
    url: String,
}

impl FleetView {
    /// A running server, trying the slots from `first` on, other than
    /// `failed` (the server that just failed a request, unless it has been
    /// restarted since); waits for one to come up, at most [`WAIT`].
    async fn pick(&mut self, first: usize, failed: Option<&Target>) -> Option<Target> {
        let count = self.slots.len();
        let search = async {
            loop {
                for offset in 0..count {
                    let slot = (first + offset) % count;
                    // Marks the value seen, so the wait below waits for a
                    // new one.
                    let (generation, url) = self.slots[slot].borrow_and_update().clone();
                    let same_as_failed =
                        failed.is_some_and(|f| f.slot == slot && f.generation == generation);
                    if let Some(url) = url
                        && !same_as_failed
                    {
                        return Some(Target {
                            slot,
                            generation,
                            url,
                        });
                    }
                }
                let changes = self.slots.iter_mut().map(|slot| Box::pin(slot.changed()));
                if futures::future::select_all(changes).await.0.is_err() {
                    // The harness is gone.
                    return None;
                }
            }
        };
        tokio::time::timeout(WAIT, search).await.ok().flatten()
    }
}

/// Acknowledged finishes so far, for the harness to wait on.
#[derive(Debug, Clone)]
pub struct Progress {
    count: Arc<AtomicU64>,
    tx: watch::Sender<u64>,
}

impl Default for Progress {
    fn default() -> Self {
        Self {
            count: Arc::default(),
            tx: watch::Sender::new(0),
        }
    }
}

impl Progress {
    fn acknowledge(&self) {
        let acked = self.count.fetch_add(1, Ordering::Relaxed) + 1;
        self.tx.send_replace(acked);
    }

    /// Acknowledged finishes so far.
    pub fn acknowledged(&self) -> u64 {
        *self.tx.borrow()
    }

    /// Waits until `more` finishes beyond those acknowledged now are
    /// acknowledged; false if that takes longer than [`WAIT`].
    pub async fn wait_for_more(&self, more: u64) -> bool {
        let wanted = self.acknowledged() + more;
        let mut acks = self.tx.subscribe();
        tokio::time::timeout(WAIT, acks.wait_for(|acked| *acked >= wanted))
            .await
            .is_ok_and(|waited| waited.is_ok())
    }
}

/// What one client did.
#[derive(Debug, Default)]
pub struct ClientReport {
    /// Every receipt it got.
    pub receipts: Vec<Receipt>,
    /// The player ids it played as.
    pub players: Vec<String>,
    /// Requests sent again after a server died under them (or answered
    /// 5xx).
    pub retries: u64,
    /// Finishes that were answered by another server than the one they
    /// were first sent to.
    pub failovers: u64,
    /// Anything other than a receipt or a dead server (must stay empty).
    pub failures: Vec<String>,
}

/// Sends `send` to a running server until one answers with anything but a
/// 5xx: first to server `home`, then, after each failure, to the next
/// running one. Answers the response and whether a server other than the
/// first one tried answered; `None` if none answered within
/// [`MAX_ATTEMPTS`].
async fn until_answered<F, Fut>(
    fleet: &mut FleetView,
    home: usize,
    retries: &mut u64,
    send: F,
) -> Option<(reqwest::Response, bool)>
where
    F: Fn(String) -> Fut,
    Fut: Future<Output = reqwest::Result<reqwest::Response>>,
{
    let mut target = fleet.pick(home, None).await?;
    let first_slot = target.slot;
    for attempt in 0..MAX_ATTEMPTS {
        match send(target.url.clone()).await {
            Ok(response) if !response.status().is_server_error() => {
                return Some((response, target.slot != first_slot));
            }
            // No answer (killed mid-request) or a 5xx: the same request
            // again, to the next server.
            _ if attempt + 1 < MAX_ATTEMPTS => {
                *retries += 1;
                target = fleet.pick(target.slot + 1, Some(&target)).await?;
            }
            _ => {}
        }
    }
    None
}

/// A client: plays and finishes rounds, each first at server `home`, until
/// `stop` is set; never gives up on a round it finished.
pub async fn client(
    id: usize,
    home: usize,
    http: reqwest::Client,
    mut fleet: FleetView,
    progress: Progress,
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
        let Some((response, _)) = until_answered(&mut fleet, home, &mut retries, |base| {
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
        .expect("a finish request serialises");
        let key = format!("crash-{id}-{round}");
        let finish = |base: String| {
            http.post(format!("{base}/api/rounds/{}/finish", started.round_id))
                .header("idempotency-key", &key)
                .header("content-type", "application/json")
                .body(body.clone())
                .send()
        };
        let mut retries = 0;
        let answer = until_answered(&mut fleet, home, &mut retries, finish).await;
        report.retries += retries;
        match answer {
            Some((response, failed_over)) if response.status() == StatusCode::OK => {
                match response.json::<Receipt>().await {
                    Ok(receipt) => {
                        report.receipts.push(receipt);
                        report.failovers += u64::from(failed_over);
                        progress.acknowledge();
                    }
                    Err(error) => report
                        .failures
                        .push(format!("client {id}: receipt: {error}")),
                }
            }
            Some((response, _)) => {
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

/// An HTTP client for the crash clients: no proxy, bounded waits.
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(30))
        .build()
        .expect("an HTTP client")
}

/// Starts a server on a blocking thread (it waits for the port line).
pub async fn start_server(options: &ServerOptions) -> ServerProcess {
    let options = options.clone();
    tokio::task::spawn_blocking(move || ServerProcess::spawn(options))
        .await
        .expect("the spawning thread")
}

/// The seed of a crash run: `DREAMFAIRY_CRASH_SEED`, else the clock. Printed,
/// so a failing kill schedule can be repeated.
pub fn seed() -> u64 {
    let seed = std::env::var("DREAMFAIRY_CRASH_SEED")
        .ok()
        .and_then(|seed| seed.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |since| since.as_nanos() as u64)
        });
    println!("crash test seed: {seed} (DREAMFAIRY_CRASH_SEED={seed} repeats the kill schedule)");
    seed
}

/// Tells the clients to stop, and gathers their reports (each within
/// [`WAIT`]).
///
/// # Panics
/// If a client does not wind down in time, or its task failed.
pub async fn wind_down(
    stop: &AtomicBool,
    clients: Vec<tokio::task::JoinHandle<ClientReport>>,
) -> Vec<ClientReport> {
    stop.store(true, Ordering::Relaxed);
    let mut reports = Vec::with_capacity(clients.len());
    for client in clients {
        reports.push(
            tokio::time::timeout(WAIT, client)
                .await
                .expect("the client winds down")
                .expect("the client task"),
        );
    }
    reports
}

/// Runs the server's own audit (`server check-ledger` with the ledger's
/// location arguments): numbers 1..=N, each round once, every tally equal
/// to a recount; and the ledger must hold exactly the `acknowledged`
/// rounds. Answers how many participations it holds.
///
/// # Panics
/// On a problem the audit finds, or another count.
pub fn audit_holds_exactly(ledger: &[&std::ffi::OsStr], acknowledged: usize) -> u64 {
    let (sound, audit) = run_subcommand("check-ledger", ledger);
    assert!(sound, "the ledger audit found problems: {audit:#}");
    let participations = audit["participations"]
        .as_u64()
        .expect("a participation count");
    assert_eq!(
        participations, acknowledged as u64,
        "the ledger holds exactly the acknowledged rounds"
    );
    participations
}

/// Checks the clients' reports among themselves: no failure, at least one
/// finish sent again after a kill, no round acknowledged twice under
/// different receipts. Answers the acknowledged rounds and their numbers.
///
/// # Panics
/// On any of those.
pub fn acknowledged_rounds(reports: &[ClientReport]) -> BTreeMap<&str, u64> {
    let failures: Vec<&String> = reports.iter().flat_map(|report| &report.failures).collect();
    assert!(
        failures.is_empty(),
        "every round must be counted or retried to a receipt: {failures:#?}"
    );
    let retries: u64 = reports.iter().map(|report| report.retries).sum();
    assert!(
        retries > 0,
        "no kill caught a request in flight: the run proved nothing about requests in doubt"
    );
    let receipts: Vec<&Receipt> = reports.iter().flat_map(|report| &report.receipts).collect();
    let acknowledged: BTreeMap<&str, u64> = receipts
        .iter()
        .map(|receipt| (receipt.round_id.as_str(), receipt.participation))
        .collect();
    assert_eq!(
        acknowledged.len(),
        receipts.len(),
        "no round acknowledged twice under different receipts"
    );
    acknowledged
}

/// Reads every player's history from the server at `base_url` and checks
/// it against the acknowledged rounds: each there once, under the number
/// its receipt gave, nothing else, and the numbers run 1..=`participations`
/// without a gap.
///
/// # Panics
/// On any difference.
pub async fn check_histories(
    http: &reqwest::Client,
    base_url: &str,
    reports: &[ClientReport],
    acknowledged: &BTreeMap<&str, u64>,
    participations: u64,
) {
    let mut ledger: BTreeMap<String, u64> = BTreeMap::new();
    let players: BTreeSet<&String> = reports.iter().flat_map(|report| &report.players).collect();
    for player in players {
        let url = format!("{base_url}/api/players/{player}/participations?limit=1000");
        let history: Vec<ParticipationRecord> = http
            .get(url)
            .send()
            .await
            .expect("the history answers")
            .json()
            .await
            .expect("a history body");
        for record in history {
            let previous = ledger.insert(record.round_id.clone(), record.participation);
            assert!(previous.is_none(), "round {} listed twice", record.round_id);
        }
    }
    for (round, number) in acknowledged {
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
}

/// Runs `server <subcommand> <args>` to completion and answers its JSON
/// output and whether it succeeded.
///
/// # Panics
/// When it does not run or prints no JSON.
pub fn run_subcommand(subcommand: &str, args: &[&std::ffi::OsStr]) -> (bool, serde_json::Value) {
    let output = std::process::Command::new(crate::server_process::server_binary())
        .arg(subcommand)
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap_or_else(|error| panic!("server {subcommand} runs: {error}"));
    let value = serde_json::from_slice(&output.stdout).unwrap_or_else(|error| {
        panic!(
            "server {subcommand} prints JSON ({error}); stderr: {}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    (output.status.success(), value)
}
