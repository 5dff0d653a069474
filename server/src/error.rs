//! The one error type of the HTTP layer, and its JSON body.
//!
//! Every refusal answers `sim::wire::ApiError` (a machine-readable reason
//! plus a sentence in Chinese and in English that the game shows as is).
//! Which status goes with which reason is decided here, in [`status_of`].
//! Server faults (5xx) are logged in full and answered with the generic
//! `server_error` reason: their details never reach the client.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use sim::wire::{ApiError, RejectReason};

use crate::store::StoreError;

/// Why a request was not answered with success.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Refused for a reason the player can be told: the status from
    /// [`status_of`] (400, 401, 409, 413, 422 or 429). Never `ServerError`.
    #[error("request refused: {0:?}")]
    Rejected(RejectReason),
    /// The ledger failed: 500, or 503 with `Retry-After` when it is shutting
    /// down or its storage refuses writes for now.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The operating system's random source failed: 500.
    #[error("no randomness for a seed: {0}")]
    Random(getrandom::Error),
    /// The public report could not be built: 500.
    #[error("building the report: {0}")]
    Report(#[from] crate::report_cache::ReportError),
    /// Anything else that failed on the server's side: 500.
    #[error("{0}")]
    Internal(String),
}

impl From<RejectReason> for AppError {
    fn from(reason: RejectReason) -> Self {
        Self::Rejected(reason)
    }
}

impl AppError {
    /// The reason, for a refusal the player can be told.
    pub fn reject_reason(&self) -> Option<RejectReason> {
        match self {
            Self::Rejected(reason) => Some(*reason),
            Self::Store(_) | Self::Random(_) | Self::Report(_) | Self::Internal(_) => None,
        }
    }

    /// A server fault described by `error` (logged, never shown).
    pub fn internal(error: impl std::fmt::Display) -> Self {
        Self::Internal(error.to_string())
    }
}

/// The HTTP status of each refusal.
pub fn status_of(reason: RejectReason) -> StatusCode {
    use RejectReason::*;
    match reason {
        MalformedRequest => StatusCode::BAD_REQUEST,
        BodyTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        InvalidToken | TokenExpired => StatusCode::UNAUTHORIZED,
        RoundAlreadyCounted | RequestInProgress => StatusCode::CONFLICT,
        TooFast | ReplayMismatch | RoundIncomplete | RulesVersionMismatch
        | IdempotencyKeyReused => StatusCode::UNPROCESSABLE_ENTITY,
        DailyCapReached | RateLimited => StatusCode::TOO_MANY_REQUESTS,
        ServerError => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        match self {
            Self::Rejected(reason) => {
                (status_of(reason), Json(ApiError::from(reason))).into_response()
            }
            Self::Store(StoreError::WriterStopped) => {
                tracing::warn!("request refused: the ledger is shutting down");
                unavailable()
            }
            Self::Store(StoreError::StorageUnavailable(why)) => {
                tracing::error!(%why, "request refused: the ledger's storage refuses writes");
                unavailable()
            }
            fault => {
                tracing::error!(error = %fault, "server fault");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    Json(ApiError::from(RejectReason::ServerError)),
                )
                    .into_response()
            }
        }
    }
}

/// 503 with `Retry-After`: nothing was written, and the same request may
/// be sent again (the game's outbox does so by itself).
fn unavailable() -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [(axum::http::header::RETRY_AFTER, RETRY_AFTER_SECS)],
        Json(ApiError::from(RejectReason::ServerError)),
    )
        .into_response()
}

/// Seconds a client is asked to wait before retrying after a 503.
const RETRY_AFTER_SECS: &str = "5";

/// A reason's wire name (`too_fast`, ...), as stored in the ledger and used
/// as a metric label: stable across reorderings of the enum.
pub fn reason_name(reason: RejectReason) -> String {
    match serde_json::to_value(reason) {
        Ok(serde_json::Value::String(name)) => name,
        // Unit variants always serialise to a string; keep something readable.
        other => format!("{other:?}"),
    }
}

/// The reason named `name` by [`reason_name`], if this build knows it.
pub fn reason_from_name(name: &str) -> Option<RejectReason> {
    serde_json::from_value(serde_json::Value::String(name.to_owned())).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reason_survives_its_name() {
        for reason in RejectReason::ALL {
            let name = reason_name(reason);
            assert!(
                name.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                "bare snake_case expected, got {name}"
            );
            assert_eq!(
                reason_from_name(&name),
                Some(reason),
                "{name} must read back as {reason:?}"
            );
        }
    }

    #[test]
    fn every_refusal_is_a_client_error_and_only_server_error_is_not() {
        for reason in RejectReason::ALL {
            let status = status_of(reason);
            if reason == RejectReason::ServerError {
                assert!(status.is_server_error(), "server_error -> {status}");
            } else {
                assert!(status.is_client_error(), "{reason:?} -> {status}");
            }
        }
    }
}
