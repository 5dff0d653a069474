//! The round API: start a round, finish it.
//!
//! Starting writes nothing: everything the finish needs travels in the
//! signed token. Finishing runs every check, cheapest first, then appends the
//! participation and answers only once the ledger says it is durable. The
//! checks of the body are plain functions ([`read_finish_body`],
//! [`check_before_replay`], [`judge_replay`]), so they are tested and fuzzed
//! without HTTP.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use sim::wire::{FinishRoundRequest, Receipt, RejectReason, RoundStarted, StartRoundRequest};
use sim::{Outcome, RULES_VERSION, ReplayError, Rules, Seed};

use super::{body_refusal, read_json_object, read_json_object_as};
use crate::caps::ClientAddress;
use crate::config::RoundPolicy;
use crate::domain::{PlayerId, RoundId, ShareCode};
use crate::error::AppError;
use crate::idempotency::{self, IdempotencyKey, RequestFingerprint};
use crate::openapi::{WriteFaults, refusals};
use crate::routes::paths;
use crate::state::AppState;
use crate::store::{AppendOutcome, NewParticipation};
use crate::token::{RoundClaims, TokenKey};

refusals!(
    /// What [`start_round`] may refuse.
    StartRefusals: MalformedRequest, BodyTooLarge, RateLimited, ServerError
);

/// `POST /api/rounds`: starts a round for a new or returning anonymous
/// player. The body (`StartRoundRequest`) may be empty.
#[utoipa::path(
    post,
    path = paths::ROUNDS,
    tag = "rounds",
    summary = "Start a round (writes nothing)",
    description = "For a new or returning anonymous player; everything the finish needs \
                   travels in the signed token.",
    request_body(
        content = Option<StartRoundRequest>,
        description = "May be empty or `null`: a new player without a referral",
    ),
    responses(
        (status = 200, description = "The round to play", body = RoundStarted),
        StartRefusals,
    ),
)]
pub async fn start_round(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<RoundStarted>, AppError> {
    start(&state, address, body)
        .map(Json)
        .map_err(|error| state.refused(error, None, None))
}

fn start(
    state: &AppState,
    address: IpAddr,
    body: Result<Bytes, BytesRejection>,
) -> Result<RoundStarted, AppError> {
    state.limiter.check(address)?;
    let body = body.map_err(|rejection| body_refusal(&rejection))?;
    // No body, or JSON `null` (as the API document allows), is a new
    // player without a referral.
    let request = if body.trim_ascii().is_empty() {
        None
    } else {
        serde_json::from_value::<Option<StartRoundRequest>>(read_json_object(&body)?)
            .map_err(|_| RejectReason::MalformedRequest)?
    }
    .unwrap_or(StartRoundRequest {
        player: None,
        referral: None,
    });
    let player = match request.player.as_deref() {
        Some(text) => PlayerId::parse(text).map_err(|_| RejectReason::MalformedRequest)?,
        None => PlayerId::random(),
    };
    let referral = match request.referral.as_deref() {
        None | Some("") => None,
        Some(text) => Some(ShareCode::parse(text).map_err(|_| RejectReason::MalformedRequest)?),
    };
    let claims = RoundClaims {
        round: RoundId::random(),
        player,
        seed: Seed(getrandom::u64().map_err(AppError::Random)?),
        issued_at_ms: crate::now_unix_ms(),
        rules_version: RULES_VERSION,
        referral,
    };
    tracing::debug!(round.id = %claims.round, player.id = %claims.player, "round started");
    Ok(RoundStarted {
        round_id: claims.round.to_string(),
        seed: claims.seed,
        rules_version: claims.rules_version,
        round_ms: state.rules.round_duration_ms(),
        token: state.tokens.sign(&claims),
        player: claims.player.to_string(),
        issued_at_ms: claims.issued_at_ms,
    })
}

refusals!(
    /// What [`finish_round`] may refuse, besides [`WriteFaults`].
    FinishRefusals: MalformedRequest,
    BodyTooLarge,
    InvalidToken,
    TokenExpired,
    RoundAlreadyCounted,
    RequestInProgress,
    TooFast,
    ReplayMismatch,
    RoundIncomplete,
    RulesVersionMismatch,
    IdempotencyKeyReused,
    DailyCapReached,
    RateLimited,
);

/// `POST /api/rounds/{round_id}/finish`: verifies a played round and counts
/// it. Requires an `Idempotency-Key` header.
#[utoipa::path(
    post,
    path = paths::FINISH_ROUND,
    tag = "rounds",
    summary = "Verify a played round and count it",
    description = "Checks the token, the time played, the replay of the input log and the \
                   caps, then counts the participation and answers once it is durable. The \
                   same key with the same body always gets the first answer.",
    params(
        ("round_id" = String, Path, format = "uuid", description = "From `RoundStarted`"),
        (
            "Idempotency-Key" = String,
            Header,
            description = "Names this request: 1-255 visible ASCII characters, bare or in \
                           double quotes (a Structured Field string)",
            pattern = r#"^[ \t]*("[!#-\[\]-~]{1,255}"|[!#-\[\]-~]{1,255})[ \t]*$"#,
        ),
    ),
    request_body = FinishRoundRequest,
    responses(
        (status = 200, description = "Counted (or the same request again: the first receipt)",
            body = Receipt),
        FinishRefusals,
        WriteFaults,
    ),
)]
pub async fn finish_round(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    Path(round_text): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Receipt>, AppError> {
    let started = Instant::now();
    let mut finish = Finish {
        round: RoundId::parse(&round_text).ok(),
        player: None,
    };
    match finish.run(&state, address, &headers, body).await {
        Ok(receipt) => {
            state.metrics.observe_finish(started.elapsed());
            tracing::debug!(round.id = %round_text, participation = receipt.participation, "round counted");
            Ok(Json(receipt))
        }
        Err(error) => Err(state.refused(error, finish.round, finish.player)),
    }
}

/// How long `outcome` took to play in real time.
fn played_time(rules: &Rules, outcome: &Outcome) -> Duration {
    let tick_hz = u64::from(rules.tick_hz.max(1));
    Duration::from_millis(u64::from(outcome.ticks_played) * 1_000 / tick_hz)
}

/// The outcome of a finish whose timing, rules and replay all check out,
/// or why it does not count.
fn verified_outcome(
    state: &AppState,
    claims: &RoundClaims,
    request: &FinishRoundRequest,
) -> Result<Outcome, RejectReason> {
    let now_ms = crate::now_unix_ms();
    check_before_replay(
        &state.policy,
        &state.rules,
        claims,
        &request.outcome,
        now_ms,
    )?;
    let replayed = state.replay(claims.seed, &request.input_log);
    judge_replay(&request.outcome, replayed)
}

/// Reads a finish body: parses its JSON and checks its token against
/// `tokens` and the `round` named in the URL. The first checks of
/// [`finish_round`] on the body, as a plain function of it (the fuzz
/// target `finish_body` runs it on arbitrary bytes).
pub fn read_finish_body(
    tokens: &TokenKey,
    round: RoundId,
    body: &[u8],
) -> Result<(FinishRoundRequest, RoundClaims), RejectReason> {
    // A body that reads straight as a request (nearly all) is then judged
    // only by its token, as below.
    if let Some(request) = read_json_object_as::<FinishRoundRequest>(body) {
        let claims = round_claims(tokens, round, &request.token)?;
        return Ok((request, claims));
    }
    let body = read_json_object(body)?;
    // The token first: without a valid one nothing else of the body
    // matters, and a log or an outcome that cannot be read is answered as
    // malformed only to the holder of the round's token.
    let token = body
        .get("token")
        .and_then(serde_json::Value::as_str)
        .ok_or(RejectReason::MalformedRequest)?;
    let claims = round_claims(tokens, round, token)?;
    let request: FinishRoundRequest =
        serde_json::from_value(body).map_err(|_| RejectReason::MalformedRequest)?;
    Ok((request, claims))
}

/// The claims of `token`, if `tokens` signed it for `round`.
fn round_claims(
    tokens: &TokenKey,
    round: RoundId,
    token: &str,
) -> Result<RoundClaims, RejectReason> {
    let claims = tokens
        .verify(token)
        .map_err(|_| RejectReason::InvalidToken)?;
    if claims.round != round {
        return Err(RejectReason::InvalidToken);
    }
    Ok(claims)
}

/// The checks of a finish that need no replay, at `now_ms` (milliseconds
/// since the Unix epoch): the token is not too old, at least the time the
/// `claimed` outcome took to play has passed since it was issued, and the
/// round was started under the rules this server replays.
pub fn check_before_replay(
    policy: &RoundPolicy,
    rules: &Rules,
    claims: &RoundClaims,
    claimed: &Outcome,
    now_ms: u64,
) -> Result<(), RejectReason> {
    let elapsed = Duration::from_millis(now_ms.saturating_sub(claims.issued_at_ms));
    if elapsed > policy.max_round_age() {
        return Err(RejectReason::TokenExpired);
    }
    // Judged on the claimed outcome, before spending a replay on it: the
    // replay must then reproduce that very outcome, ticks included.
    if elapsed < policy.min_round_time(played_time(rules, claimed)) {
        return Err(RejectReason::TooFast);
    }
    if claims.rules_version != RULES_VERSION {
        return Err(RejectReason::RulesVersionMismatch);
    }
    Ok(())
}

/// The verdict on a replay of a finish: the round counts only when its
/// replay gives exactly the `claimed` outcome and that outcome filled the
/// shelf.
pub fn judge_replay(
    claimed: &Outcome,
    replayed: Result<Outcome, ReplayError>,
) -> Result<Outcome, RejectReason> {
    match replayed {
        Ok(replayed) if replayed == *claimed && replayed.completed => Ok(replayed),
        Ok(replayed) if replayed == *claimed => Err(RejectReason::RoundIncomplete),
        _ => Err(RejectReason::ReplayMismatch),
    }
}

/// One finish request, and what is known about it so far (for the record of
/// a refusal).
struct Finish {
    round: Option<RoundId>,
    player: Option<PlayerId>,
}

impl Finish {
    async fn run(
        &mut self,
        state: &AppState,
        address: IpAddr,
        headers: &HeaderMap,
        body: Result<Bytes, BytesRejection>,
    ) -> Result<Receipt, AppError> {
        state.limiter.check(address)?;
        let round = self.round.ok_or(RejectReason::MalformedRequest)?;
        let body = body.map_err(|rejection| body_refusal(&rejection))?;
        // The key is checked before the body is read; either failing is
        // the same refusal, so the order is not observable.
        let key =
            IdempotencyKey::from_headers(headers).map_err(|_| RejectReason::MalformedRequest)?;
        let (request, claims) = read_finish_body(&state.tokens, round, &body)?;
        self.player = Some(claims.player);
        let fingerprint = RequestFingerprint::of(&body);

        // From here on this request is the only one handling the round.
        let _in_flight = state
            .in_flight
            .enter(round)
            .ok_or(RejectReason::RequestInProgress)?;
        let outcome = match verified_outcome(state, &claims, &request) {
            Ok(outcome) => outcome,
            Err(reason) => {
                // A retry of a round counted before gets its first answer,
                // whatever the clock or the rules say now (its first answer
                // may have been lost hours ago). Only refusals pay for this
                // lookup: the ledger itself finds a repeat on the way in.
                return match state.store.find_round(round).await? {
                    Some(counted) => Ok(idempotency::answer_for_counted_round(
                        &counted,
                        &key,
                        &fingerprint,
                    )?),
                    None => Err(reason.into()),
                };
            }
        };
        let now_ms = crate::now_unix_ms();

        let appended = state
            .store
            .append(NewParticipation {
                round,
                player: claims.player,
                referral: claims.referral,
                finished_at_ms: now_ms,
                outcome,
                rules_version: claims.rules_version,
                idempotency_key: key.clone(),
                fingerprint,
                player_daily_cap: state.policy.player_daily_cap,
            })
            .await?;
        match appended {
            AppendOutcome::Appended(participation) => Ok(participation.receipt()),
            AppendOutcome::RoundAlreadyCounted(counted) => Ok(
                idempotency::answer_for_counted_round(&counted, &key, &fingerprint)?,
            ),
            AppendOutcome::DailyCapReached => Err(RejectReason::DailyCapReached.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::PlayerId;

    const ISSUED_AT_MS: u64 = 1_700_000_000_000;

    fn claims(rules_version: u32) -> RoundClaims {
        RoundClaims {
            round: RoundId::random(),
            player: PlayerId::random(),
            seed: Seed(7),
            issued_at_ms: ISSUED_AT_MS,
            rules_version,
            referral: None,
        }
    }

    fn outcome(ticks_played: u32, completed: bool) -> Outcome {
        Outcome {
            books_caught: 30,
            score: 300,
            completed,
            ticks_played,
            state_hash: 42,
        }
    }

    #[test]
    fn checks_before_replay_refuse_old_early_and_other_rules() {
        let policy = RoundPolicy::default();
        let rules = Rules::CURRENT;
        // 600 ticks at 20 Hz took 30 s to play.
        let claimed = outcome(600, true);
        let check = |rules_version: u32, after_ms: u64| {
            check_before_replay(
                &policy,
                &rules,
                &claims(rules_version),
                &claimed,
                ISSUED_AT_MS + after_ms,
            )
        };
        assert_eq!(check(RULES_VERSION, 30_000), Ok(()), "just long enough");
        assert_eq!(
            check(RULES_VERSION, 29_999),
            Err(RejectReason::TooFast),
            "a millisecond short of the time played"
        );
        let max_age_ms = u64::try_from(policy.max_round_age().as_millis()).unwrap();
        assert_eq!(
            check(RULES_VERSION, max_age_ms),
            Ok(()),
            "the oldest allowed"
        );
        assert_eq!(
            check(RULES_VERSION, max_age_ms + 1),
            Err(RejectReason::TokenExpired),
            "a millisecond too old"
        );
        assert_eq!(
            check(RULES_VERSION + 1, 30_000),
            Err(RejectReason::RulesVersionMismatch),
            "started under other rules"
        );
    }

    #[test]
    fn a_replay_counts_only_when_it_gives_the_claimed_completed_outcome() {
        let completed = outcome(600, true);
        let incomplete = outcome(900, false);
        assert_eq!(judge_replay(&completed, Ok(completed)), Ok(completed));
        assert_eq!(
            judge_replay(&incomplete, Ok(incomplete)),
            Err(RejectReason::RoundIncomplete),
            "an honest round that did not fill the shelf"
        );
        assert_eq!(
            judge_replay(&completed, Ok(outcome(601, true))),
            Err(RejectReason::ReplayMismatch),
            "any difference from the claim"
        );
        assert_eq!(
            judge_replay(&completed, Err(ReplayError::Truncated { offset: 1 })),
            Err(RejectReason::ReplayMismatch),
            "a log that does not replay"
        );
    }
}
