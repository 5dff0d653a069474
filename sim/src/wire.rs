//! The JSON bodies of the round API, shared by the client and the server.
//!
//! Fields are snake_case. Request bodies have exactly their fields: an
//! unknown one is refused, not ignored. 64-bit numbers that JavaScript cannot hold travel
//! as strings ([`Seed`], [`Outcome::state_hash`]). Which HTTP status goes with
//! a [`RejectReason`] is the server's business.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{InputLog, Outcome, Seed};

/// `POST /api/rounds`: asks for a new round.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StartRoundRequest {
    /// The player's id from an earlier round, if the client kept one.
    #[cfg_attr(
        feature = "openapi",
        schema(
            format = "uuid",
            pattern = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
        )
    )]
    pub player: Option<String>,
    /// The share code of the link that brought the player, if any.
    #[cfg_attr(feature = "openapi", schema(pattern = r"^([0-9A-TV-Za-tv-z]{8})?$"))]
    pub referral: Option<String>,
}

/// The answer to [`StartRoundRequest`]: everything the client needs to play.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoundStarted {
    /// The round's id.
    #[cfg_attr(feature = "openapi", schema(format = "uuid"))]
    pub round_id: String,
    /// The seed to play with.
    pub seed: Seed,
    /// The rules version the server replays with ([`crate::RULES_VERSION`]).
    pub rules_version: u32,
    /// How long the round lasts (milliseconds).
    pub round_ms: u64,
    /// The signed token to send back with [`FinishRoundRequest`].
    pub token: String,
    /// The player's id (new or confirmed).
    #[cfg_attr(feature = "openapi", schema(format = "uuid"))]
    pub player: String,
    /// When the server issued the round (milliseconds since the Unix epoch).
    pub issued_at_ms: u64,
}

/// `POST /api/rounds/{id}/finish`: the played round, to verify and count.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FinishRoundRequest {
    /// The token from [`RoundStarted`].
    pub token: String,
    /// What the player did (base64url in JSON).
    pub input_log: InputLog,
    /// What the client's simulation says happened.
    pub outcome: Outcome,
}

/// The answer to a counted [`FinishRoundRequest`], sent once the
/// participation is durable.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Receipt {
    /// The round's id.
    #[cfg_attr(feature = "openapi", schema(format = "uuid"))]
    pub round_id: String,
    /// This participation's number in the campaign (from 1, contiguous).
    pub participation: u64,
    /// The player's id.
    #[cfg_attr(feature = "openapi", schema(format = "uuid"))]
    pub player: String,
    /// All participations counted so far.
    pub total_participations: u64,
    /// Participations counted today (China Standard Time, UTC+8).
    pub today_participations: u64,
    /// The book this participation funded or counts toward.
    pub book: BookStatus,
    /// The player's share code: their share link is `/s/{share_code}`.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(pattern = r"^[0-9A-HJKMNP-TV-Z]{8}$"))]
    pub share_code: Option<String>,
}

/// What a participation funded (books are numbered from 1).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum BookStatus {
    /// The book is funded and allocated to a school.
    Allocated {
        /// The book's number in the campaign, from 1.
        book: u64,
        /// The school that receives it.
        school: SchoolRef,
    },
    /// The participation counts toward `book`, which still needs
    /// `participations_needed` more participations to be funded.
    Filling {
        /// The book's number in the campaign, from 1.
        book: u64,
        /// Participations the book still needs before it is funded.
        participations_needed: u64,
    },
    /// The book is funded, but waiting for a school with room: every school
    /// of the list has reached its target, or no school list was imported
    /// yet. It gets a school when the next list version brings one.
    Funded {
        /// The book's number in the campaign, from 1.
        book: u64,
    },
    /// Beyond every sponsor pledge: counted, waiting for a sponsor.
    AwaitingSponsor,
}

/// A school as players see it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchoolRef {
    /// The school's id in the imported list.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its province (省).
    pub province: String,
    /// Its prefecture (地级市/州).
    pub prefecture: String,
    /// Its county (县).
    pub county: String,
    /// 6-digit GB/T 2260 county code, as text ("522632").
    #[cfg_attr(feature = "openapi", schema(pattern = r"^[0-9]{6}$"))]
    pub county_code: String,
}

/// Why a request was not counted.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RejectReason {
    /// The body is not valid JSON of the expected shape.
    MalformedRequest,
    /// The body is larger than the server accepts.
    BodyTooLarge,
    /// The token is missing, forged, or for another round.
    InvalidToken,
    /// The token is too old.
    TokenExpired,
    /// This round was already counted.
    RoundAlreadyCounted,
    /// Less server time passed than a round lasts.
    TooFast,
    /// Replaying the input log does not give the claimed outcome, or the
    /// log itself is malformed.
    ReplayMismatch,
    /// The round was played, but the shelf was not filled.
    RoundIncomplete,
    /// The round was played by other rules than the server's.
    RulesVersionMismatch,
    /// The player's participations for today are used up.
    DailyCapReached,
    /// Too many requests from this address.
    RateLimited,
    /// The idempotency key was used for a different request.
    IdempotencyKeyReused,
    /// A request with this idempotency key is still being handled.
    RequestInProgress,
    /// The server failed (storage, shutdown); the request may be retried.
    /// Never recorded as a rejection of a participation.
    ServerError,
}

impl RejectReason {
    /// Every reason, in declaration order.
    pub const ALL: [RejectReason; 14] = [
        RejectReason::MalformedRequest,
        RejectReason::BodyTooLarge,
        RejectReason::InvalidToken,
        RejectReason::TokenExpired,
        RejectReason::RoundAlreadyCounted,
        RejectReason::TooFast,
        RejectReason::ReplayMismatch,
        RejectReason::RoundIncomplete,
        RejectReason::RulesVersionMismatch,
        RejectReason::DailyCapReached,
        RejectReason::RateLimited,
        RejectReason::IdempotencyKeyReused,
        RejectReason::RequestInProgress,
        RejectReason::ServerError,
    ];

    /// What to tell the player, in Chinese.
    pub fn message_zh(self) -> &'static str {
        match self {
            RejectReason::MalformedRequest => "请求格式不对，请刷新页面再试一次。",
            RejectReason::BodyTooLarge => "提交的数据太大了，请刷新页面再试一次。",
            RejectReason::InvalidToken => "这一局的凭证无效，请重新开始一局。",
            RejectReason::TokenExpired => "这一局已经过期了，请重新开始一局。",
            RejectReason::RoundAlreadyCounted => "这一局已经计过数了，谢谢你！",
            RejectReason::TooFast => "这一局结束得太快了，请完整地玩一局。",
            RejectReason::ReplayMismatch => "这一局的记录核对不上，请重新玩一局。",
            RejectReason::RoundIncomplete => "书架还没有装满，再试一次吧！",
            RejectReason::RulesVersionMismatch => "游戏已经更新，请刷新页面后再玩。",
            RejectReason::DailyCapReached => "今天的次数已用完，明天再来吧！",
            RejectReason::RateLimited => "请求太频繁了，请稍后再试。",
            RejectReason::IdempotencyKeyReused => "这次提交和之前的不一致，请重新开始一局。",
            RejectReason::RequestInProgress => "上一次提交还在处理中，请稍候。",
            RejectReason::ServerError => "服务器开小差了，请稍后再试。",
        }
    }

    /// What to tell the player, in English.
    pub fn message_en(self) -> &'static str {
        match self {
            RejectReason::MalformedRequest => {
                "Something was wrong with the request. Please reload the page and try again."
            }
            RejectReason::BodyTooLarge => {
                "The request was too large. Please reload the page and try again."
            }
            RejectReason::InvalidToken => {
                "This round's ticket is not valid. Please start a new round."
            }
            RejectReason::TokenExpired => "This round has expired. Please start a new round.",
            RejectReason::RoundAlreadyCounted => "This round has already been counted. Thank you!",
            RejectReason::TooFast => "This round finished too quickly. Please play a whole round.",
            RejectReason::ReplayMismatch => {
                "We could not verify this round. Please play another one."
            }
            RejectReason::RoundIncomplete => "The shelf is not full yet. Try again!",
            RejectReason::RulesVersionMismatch => {
                "The game has been updated. Please reload the page and play again."
            }
            RejectReason::DailyCapReached => "That's all for today, come back tomorrow!",
            RejectReason::RateLimited => "Too many requests. Please wait a moment and try again.",
            RejectReason::IdempotencyKeyReused => {
                "This submission does not match an earlier one. Please start a new round."
            }
            RejectReason::RequestInProgress => {
                "Your last submission is still being handled. Please wait a moment."
            }
            RejectReason::ServerError => {
                "Something went wrong on our side, please try again in a moment."
            }
        }
    }
}

/// The JSON error body of every refused request.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiError {
    /// Why.
    pub reason: RejectReason,
    /// [`RejectReason::message_zh`].
    pub message_zh: String,
    /// [`RejectReason::message_en`].
    pub message_en: String,
}

impl From<RejectReason> for ApiError {
    fn from(reason: RejectReason) -> Self {
        ApiError {
            reason,
            message_zh: reason.message_zh().to_owned(),
            message_en: reason.message_en().to_owned(),
        }
    }
}

/// The campaign's running totals.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Totals {
    /// Participations counted so far.
    pub participations: u64,
    /// Participations counted today (China Standard Time, UTC+8).
    pub today: u64,
    /// Refused finishes so far, by reason.
    pub rejections: BTreeMap<RejectReason, u64>,
}

/// One counted participation, as listed by the API.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParticipationRecord {
    /// Its number in the campaign.
    pub participation: u64,
    /// The round's id.
    #[cfg_attr(feature = "openapi", schema(format = "uuid"))]
    pub round_id: String,
    /// When it was counted (milliseconds since the Unix epoch).
    pub finished_at_ms: u64,
    /// The round's score.
    pub score: u32,
    /// Books the round put on the shelf.
    pub books_caught: u32,
    /// The book this participation funded or counts toward, as it stands now.
    pub book: BookStatus,
    /// The player's share code: their share link is `/s/{share_code}`.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(pattern = r"^[0-9A-HJKMNP-TV-Z]{8}$"))]
    pub share_code: Option<String>,
}

/// What a player's sharing brought (`GET /api/players/{player_id}/sharing`).
/// Recognition only: it funds and unlocks nothing.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlayerSharing {
    /// The player's share code (none before their first counted round).
    #[cfg_attr(feature = "openapi", schema(pattern = r"^[0-9A-HJKMNP-TV-Z]{8}$"))]
    pub share_code: Option<String>,
    /// Their share link's path, `/s/{share_code}`.
    pub share_path: Option<String>,
    /// Friends whose first counted round came through their link.
    pub referred_players: u64,
    /// The player's own counted participations.
    pub participations: u64,
    /// Their preview card (1200x630 PNG), under its content-hashed path.
    pub card_path: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_lists_every_reason_once_in_order() {
        for (position, reason) in RejectReason::ALL.into_iter().enumerate() {
            assert_eq!(
                reason as usize, position,
                "{reason:?} is in declaration order"
            );
        }
        // An exhaustive match: a new variant fails to compile here until it
        // is added, and then the assert below needs ALL to grow with it.
        let last = match RejectReason::ServerError {
            RejectReason::MalformedRequest
            | RejectReason::BodyTooLarge
            | RejectReason::InvalidToken
            | RejectReason::TokenExpired
            | RejectReason::RoundAlreadyCounted
            | RejectReason::TooFast
            | RejectReason::ReplayMismatch
            | RejectReason::RoundIncomplete
            | RejectReason::RulesVersionMismatch
            | RejectReason::DailyCapReached
            | RejectReason::RateLimited
            | RejectReason::IdempotencyKeyReused
            | RejectReason::RequestInProgress
            | RejectReason::ServerError => RejectReason::ServerError,
        };
        assert_eq!(
            RejectReason::ALL.len(),
            last as usize + 1,
            "ALL ends with the last variant"
        );
    }

    #[test]
    fn every_reason_has_its_own_messages() {
        let mut seen = std::collections::HashSet::new();
        for reason in RejectReason::ALL {
            let (zh, en) = (reason.message_zh(), reason.message_en());
            assert!(
                !zh.is_empty() && !en.is_empty(),
                "{reason:?} has both messages"
            );
            assert!(
                !zh.is_ascii(),
                "{reason:?}: the Chinese message is in Chinese"
            );
            assert!(
                seen.insert(zh) && seen.insert(en),
                "{reason:?}: messages are distinct"
            );
        }
        assert_eq!(
            RejectReason::DailyCapReached.message_zh(),
            "今天的次数已用完，明天再来吧！",
            "the contract's example"
        );
    }

    #[test]
    fn reasons_are_snake_case_in_json() {
        let error = ApiError::from(RejectReason::DailyCapReached);
        let json = serde_json::to_value(&error).unwrap();
        assert_eq!(json["reason"], "daily_cap_reached", "snake_case reason");
        assert_eq!(
            json["message_en"], "That's all for today, come back tomorrow!",
            "message"
        );
        let totals = Totals {
            participations: 7,
            today: 2,
            rejections: BTreeMap::from([(RejectReason::TooFast, 3)]),
        };
        let json = serde_json::to_string(&totals).unwrap();
        assert_eq!(
            json, r#"{"participations":7,"today":2,"rejections":{"too_fast":3}}"#,
            "reasons are map keys too"
        );
        assert_eq!(
            serde_json::from_str::<Totals>(&json).unwrap(),
            totals,
            "round trip"
        );
    }

    #[test]
    fn round_started_carries_the_seed_as_a_string() {
        let started = RoundStarted {
            round_id: "r1".into(),
            seed: Seed(u64::MAX),
            rules_version: crate::RULES_VERSION,
            round_ms: crate::Rules::CURRENT.round_duration_ms(),
            token: "t".into(),
            player: "p".into(),
            issued_at_ms: 1,
        };
        let json = serde_json::to_value(&started).unwrap();
        assert_eq!(
            json["seed"], "18446744073709551615",
            "the seed survives JavaScript"
        );
        assert_eq!(
            serde_json::from_value::<RoundStarted>(json).unwrap(),
            started,
            "round trip"
        );
    }

    #[test]
    fn book_statuses_are_tagged_by_state() {
        let school = SchoolRef {
            id: "S1".into(),
            name: "希望小学".into(),
            province: "贵州省".into(),
            prefecture: "黔东南苗族侗族自治州".into(),
            county: "雷山县".into(),
            county_code: "522634".into(),
        };
        let cases = [
            (
                BookStatus::Allocated {
                    book: 3,
                    school: school.clone(),
                },
                serde_json::json!({"state": "allocated", "book": 3, "school": {
                    "id": "S1", "name": "希望小学", "province": "贵州省",
                    "prefecture": "黔东南苗族侗族自治州", "county": "雷山县",
                    "county_code": "522634"}}),
            ),
            (
                BookStatus::Filling {
                    book: 4,
                    participations_needed: 7,
                },
                serde_json::json!({"state": "filling", "book": 4, "participations_needed": 7}),
            ),
            (
                BookStatus::Funded { book: 5 },
                serde_json::json!({"state": "funded", "book": 5}),
            ),
            (
                BookStatus::AwaitingSponsor,
                serde_json::json!({"state": "awaiting_sponsor"}),
            ),
        ];
        for (status, expected) in cases {
            let json = serde_json::to_value(&status).unwrap();
            assert_eq!(json, expected, "the JSON shape the game renders");
            assert_eq!(
                serde_json::from_value::<BookStatus>(json).unwrap(),
                status,
                "round trip"
            );
        }
    }

    #[test]
    fn a_finish_request_round_trips() {
        let (input_log, outcome) = crate::bot::play_round(Seed(5), &crate::Rules::CURRENT);
        let request = FinishRoundRequest {
            token: "t".into(),
            input_log,
            outcome,
        };
        let json = serde_json::to_string(&request).unwrap();
        let back: FinishRoundRequest = serde_json::from_str(&json).unwrap();
        assert_eq!(back, request, "the log and the outcome survive JSON");
    }
}
