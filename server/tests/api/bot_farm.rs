//! A bot farm: 1,000 scripted players from 50 client addresses (each sent
//! as `X-Forwarded-For` to a server that trusts it) try every way of
//! inflating the tally at once: passing the daily cap, reusing tokens
//! across rounds and after counting, sending logs played on other seeds,
//! finishing too fast, and racing duplicate finishes.
//!
//! Afterwards nothing is counted beyond a cap or twice, and the server's
//! refusal statistics equal, reason by reason, the refusals the farm was
//! answered.

use std::collections::BTreeMap;
use std::sync::Mutex;

use futures::StreamExt as _;
use reqwest::StatusCode;
use server::domain::PlayerId;
use server::token::RoundClaims;
use sim::wire::{ApiError, FinishRoundRequest, Receipt, RejectReason, RoundStarted};

use crate::helpers::{Db, TestApp, WAIT, on_both_backends, play, spawn_app_with};

on_both_backends!(
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    a_farm_of_a_thousand_bots_counts_nothing_beyond_the_rules,
);

const PLAYERS: usize = 1_000;
const ADDRESSES: usize = 50;
const DAILY_CAP: u32 = 2;
/// The least time a round must take. Honest bots have their tokens signed
/// as if issued this long and more ago (time passing, not waiting).
const MIN_ROUND_MS: u64 = 60_000;
/// Players' requests in flight at once.
const CONCURRENCY: usize = 32;

/// What each kind of bot does, by player index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Bot {
    /// One honest round.
    Honest,
    /// `DAILY_CAP + 2` honest rounds in one day.
    PastTheCap,
    /// Counts a round, then sends its token with another round's id, and
    /// the counted round again under a new key.
    ReusesTokens,
    /// Sends a completed log played on another seed.
    ReplaysAnotherSeed,
    /// Finishes as soon as the scripted player is done.
    TooFast,
    /// Sends one finish six times at once: four with the same key, two
    /// with keys of their own.
    RacesDuplicates,
}

impl Bot {
    fn of(player: usize) -> Bot {
        match player * 10 / PLAYERS {
            0..=3 => Bot::Honest,
            4..=5 => Bot::PastTheCap,
            6 => Bot::ReusesTokens,
            7 => Bot::ReplaysAnotherSeed,
            8 => Bot::TooFast,
            _ => Bot::RacesDuplicates,
        }
    }

    /// Participations this bot may get counted.
    fn counted(self) -> u64 {
        match self {
            Bot::Honest | Bot::ReusesTokens | Bot::RacesDuplicates => 1,
            Bot::PastTheCap => u64::from(DAILY_CAP),
            Bot::ReplaysAnotherSeed | Bot::TooFast => 0,
        }
    }
}

/// One bot: its player id and its address.
struct Client<'a> {
    app: &'a TestApp,
    player: String,
    address: String,
    /// Refusals this farm was answered, by reason.
    refusals: &'a Mutex<BTreeMap<RejectReason, u64>>,
}

/// How a finish was answered.
enum Answer {
    /// Boxed: a receipt is much larger than a reason.
    Counted(Box<Receipt>),
    Refused(RejectReason),
}

impl Client<'_> {
    async fn start(&self) -> RoundStarted {
        let response = self
            .app
            .client
            .post(self.app.url("/api/rounds"))
            .header("x-forwarded-for", &self.address)
            .json(&serde_json::json!({ "player": self.player }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "a start");
        response.json().await.unwrap()
    }

    /// Starts rounds until the scripted player completes one; returns it
    /// and its honest finish request.
    async fn played(&self) -> (RoundStarted, FinishRoundRequest) {
        for _ in 0..20 {
            let started = self.start().await;
            let request = play(&started);
            if request.outcome.completed {
                return (started, request);
            }
        }
        panic!("the scripted player completed none of 20 rounds");
    }

    /// `request` with its token signed as if the round had started long
    /// enough ago.
    fn after_the_round_time(&self, request: &FinishRoundRequest) -> FinishRoundRequest {
        let claims = self.app.tokens.verify(&request.token).unwrap();
        let aged = RoundClaims {
            issued_at_ms: claims.issued_at_ms - 2 * MIN_ROUND_MS,
            ..claims
        };
        FinishRoundRequest {
            token: self.app.tokens.sign(&aged),
            ..request.clone()
        }
    }

    async fn finish(&self, round_id: &str, key: &str, request: &FinishRoundRequest) -> Answer {
        let response = self
            .app
            .client
            .post(self.app.url(&format!("/api/rounds/{round_id}/finish")))
            .header("x-forwarded-for", &self.address)
            .header("idempotency-key", key)
            .json(request)
            .send()
            .await
            .unwrap();
        if response.status() == StatusCode::OK {
            return Answer::Counted(Box::new(response.json().await.unwrap()));
        }
        let status = response.status();
        let error: ApiError = response.json().await.unwrap();
        assert!(status.is_client_error(), "{status} {error:?}");
        *self
            .refusals
            .lock()
            .unwrap()
            .entry(error.reason)
            .or_default() += 1;
        Answer::Refused(error.reason)
    }

    async fn counted_honestly(&self) -> (RoundStarted, FinishRoundRequest, Receipt) {
        let (started, request) = self.played().await;
        let request = self.after_the_round_time(&request);
        match self
            .finish(&started.round_id, &started.round_id, &request)
            .await
        {
            Answer::Counted(receipt) => (started, request, *receipt),
            Answer::Refused(reason) => panic!("an honest round was refused: {reason:?}"),
        }
    }

    /// Runs `bot`; returns the receipts it got.
    async fn run(&self, bot: Bot, log_of_another_seed: &FinishRoundRequest) -> Vec<Receipt> {
        match bot {
            Bot::Honest => vec![self.counted_honestly().await.2],
            Bot::PastTheCap => {
                let mut receipts = Vec::new();
                for _ in 0..DAILY_CAP + 2 {
                    let (started, request) = self.played().await;
                    let request = self.after_the_round_time(&request);
                    match self.finish(&started.round_id, "k", &request).await {
                        Answer::Counted(receipt) => receipts.push(*receipt),
                        Answer::Refused(reason) => {
                            assert_eq!(reason, RejectReason::DailyCapReached)
                        }
                    }
                }
                receipts
            }
            Bot::ReusesTokens => {
                let (started, request, receipt) = self.counted_honestly().await;
                let other = self.start().await;
                let answer = self.finish(&other.round_id, "reused", &request).await;
                assert!(matches!(
                    answer,
                    Answer::Refused(RejectReason::InvalidToken)
                ));
                let again = self.finish(&started.round_id, "again", &request).await;
                assert!(matches!(
                    again,
                    Answer::Refused(RejectReason::RoundAlreadyCounted)
                ));
                vec![receipt]
            }
            Bot::ReplaysAnotherSeed => {
                let started = self.start().await;
                let request = self.after_the_round_time(&FinishRoundRequest {
                    token: started.token.clone(),
                    ..log_of_another_seed.clone()
                });
                let answer = self.finish(&started.round_id, "k", &request).await;
                assert!(matches!(
                    answer,
                    Answer::Refused(RejectReason::ReplayMismatch)
                ));
                Vec::new()
            }
            Bot::TooFast => {
                let (started, request) = self.played().await;
                let answer = self.finish(&started.round_id, "k", &request).await;
                assert!(matches!(answer, Answer::Refused(RejectReason::TooFast)));
                Vec::new()
            }
            Bot::RacesDuplicates => {
                let (started, request) = self.played().await;
                let request = self.after_the_round_time(&request);
                let keys = ["same", "same", "same", "same", "own-1", "own-2"];
                let answers = futures::future::join_all(
                    keys.map(|key| self.finish(&started.round_id, key, &request)),
                )
                .await;
                let receipts: Vec<Receipt> = answers
                    .into_iter()
                    .filter_map(|answer| match answer {
                        Answer::Counted(receipt) => Some(*receipt),
                        Answer::Refused(reason) => {
                            assert!(
                                matches!(
                                    reason,
                                    RejectReason::RoundAlreadyCounted
                                        | RejectReason::RequestInProgress
                                ),
                                "{reason:?}"
                            );
                            None
                        }
                    })
                    .collect();
                let first = receipts.first().expect("one of the six is counted").clone();
                assert!(
                    receipts.iter().all(|receipt| *receipt == first),
                    "every 200 is the same receipt: {receipts:?}"
                );
                vec![first]
            }
        }
    }
}

async fn a_farm_of_a_thousand_bots_counts_nothing_beyond_the_rules(db: Db) {
    let app = spawn_app_with(db, |config| {
        config.rounds.trust_forwarded_for = true;
        config.rounds.player_daily_cap = DAILY_CAP;
        config.rounds.min_round_ms = Some(MIN_ROUND_MS);
    })
    .await;
    let refusals = Mutex::new(BTreeMap::new());
    let client = |player: usize| Client {
        app: &app,
        player: PlayerId::random().to_string(),
        address: format!("10.0.{}.7", player % ADDRESSES),
        refusals: &refusals,
    };
    // A completed round of a player outside the farm: its log, sent with
    // other rounds' tokens, was played on another seed.
    let (_, log_of_another_seed) = client(PLAYERS).played().await;

    let results: Vec<(usize, Vec<Receipt>)> = futures::stream::iter(0..PLAYERS)
        .map(|player| {
            let (client, log) = (client(player), &log_of_another_seed);
            async move { (player, client.run(Bot::of(player), log).await) }
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;

    // Nothing beyond a cap, nothing twice, numbers 1..N.
    let mut numbers = Vec::new();
    for (player, receipts) in &results {
        let bot = Bot::of(*player);
        assert_eq!(
            receipts.len() as u64,
            bot.counted(),
            "player {player} ({bot:?})"
        );
        numbers.extend(receipts.iter().map(|receipt| receipt.participation));
    }
    numbers.sort_unstable();
    let counted = (1..=numbers.len() as u64).collect::<Vec<_>>();
    assert_eq!(numbers, counted, "every count once, numbered without gaps");
    let expected_counted: u64 = (0..PLAYERS).map(|player| Bot::of(player).counted()).sum();
    assert_eq!(numbers.len() as u64, expected_counted);
    let totals = app.totals().await;
    assert_eq!(totals.participations, expected_counted, "/api/totals");

    // The farm's refusals, as it was answered them.
    let sent = refusals.into_inner().unwrap();
    let bots_of = |kind: Bot| {
        (0..PLAYERS)
            .filter(|&player| Bot::of(player) == kind)
            .count() as u64
    };
    assert_eq!(
        sent[&RejectReason::DailyCapReached],
        2 * bots_of(Bot::PastTheCap)
    );
    assert_eq!(
        sent[&RejectReason::InvalidToken],
        bots_of(Bot::ReusesTokens)
    );
    assert_eq!(
        sent[&RejectReason::ReplayMismatch],
        bots_of(Bot::ReplaysAnotherSeed)
    );
    assert_eq!(sent[&RejectReason::TooFast], bots_of(Bot::TooFast));
    let duplicates = sent
        .get(&RejectReason::RoundAlreadyCounted)
        .copied()
        .unwrap_or(0)
        + sent
            .get(&RejectReason::RequestInProgress)
            .copied()
            .unwrap_or(0);
    assert!(
        duplicates >= bots_of(Bot::ReusesTokens) + 2 * bots_of(Bot::RacesDuplicates),
        "each racer's two own keys are refused at least: {sent:?}"
    );

    // The server's statistics equal that, reason by reason: refusals are
    // recorded with the writer's next batch, so wait for them.
    let mut ledger_totals = app.ledger_totals();
    let recorded = tokio::time::timeout(
        WAIT,
        ledger_totals.wait_for(|totals| totals.rejections == sent),
    )
    .await
    .is_ok();
    let recorded_reasons = ledger_totals.borrow().rejections.clone();
    assert!(recorded, "recorded {recorded_reasons:?}, sent {sent:?}");
    let public = app.totals().await;
    for (reason, count) in &sent {
        assert_eq!(
            public.rejections.get(reason),
            Some(count),
            "{reason:?} in /api/totals"
        );
    }
    eprintln!(
        "bot farm: {PLAYERS} players from {ADDRESSES} addresses; counted {}; refused {sent:?}",
        numbers.len()
    );
}
