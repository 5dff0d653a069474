//! Handlers of the public API and pages, one module per resource.

pub mod area_report;
pub mod books;
pub mod live;
pub mod players;
pub mod report;
pub mod rounds;
pub mod totals;

use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;
use sim::wire::RejectReason;

/// The refusal for a body that could not be read: too large (413) or cut
/// short (400).
fn body_refusal(rejection: &BytesRejection) -> RejectReason {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        RejectReason::BodyTooLarge
    } else {
        RejectReason::MalformedRequest
    }
}
