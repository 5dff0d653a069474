//! Idempotent finishes, after the IETF draft "The Idempotency-Key HTTP
//! Header Field".
//!
//! A phone on a train loses the answer to its finish request and sends the
//! same request again; it must get the same receipt, and the round must not
//! be counted twice. So:
//!
//! - the key is required on `POST /api/rounds/{id}/finish` and scoped to that
//!   round (the request's URL), so keys of different players never meet;
//! - the key and a fingerprint of the body are stored with the participation,
//!   in the same transaction, so the answer survives restarts;
//! - same key and same body: the stored receipt again (200);
//! - same key, another body: 422 `idempotency_key_reused`;
//! - another key for a counted round: 409 `round_already_counted`;
//! - while a finish of the same round is being handled: 409
//!   `request_in_progress`.
//!
//! Refusals are not stored: a retry is judged afresh (a finish sent too early
//! may be sent again later, which is the same as having waited).

use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};

use axum::http::{HeaderMap, HeaderName};
use sha2::{Digest as _, Sha256};
use sim::wire::{Receipt, RejectReason};

use crate::domain::{ParseError, RoundId};
use crate::store::Participation;

/// The request header carrying the key.
pub const HEADER: HeaderName = HeaderName::from_static("idempotency-key");

/// A client-chosen key naming one finish request (typically a UUID).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// Longest key accepted, in characters.
    pub const MAX_LEN: usize = 255;

    /// Parses a key in the draft's form (a Structured Field string, so
    /// optionally in double quotes) or bare: 1-255 visible ASCII characters.
    /// Only spaces and tabs around it are dropped, HTTP's optional
    /// whitespace: a header value holds no other, so the text and the
    /// header read alike.
    pub fn parse(text: &str) -> Result<Self, ParseError> {
        let text = text.trim_matches([' ', '\t']);
        let inner = text
            .strip_prefix('"')
            .and_then(|rest| rest.strip_suffix('"'))
            .unwrap_or(text);
        let visible = |c: char| c.is_ascii_graphic() && c != '"' && c != '\\';
        if (1..=Self::MAX_LEN).contains(&inner.len()) && inner.chars().all(visible) {
            Ok(Self(inner.to_owned()))
        } else {
            Err(ParseError::BadIdempotencyKey { max: Self::MAX_LEN })
        }
    }

    /// The key of a request; an absent, repeated or invalid header is an error.
    pub fn from_headers(headers: &HeaderMap) -> Result<Self, ParseError> {
        let mut values = headers.get_all(HEADER).iter();
        match (values.next(), values.next()) {
            (Some(value), None) => {
                let text = value
                    .to_str()
                    .map_err(|_| ParseError::BadIdempotencyKey { max: Self::MAX_LEN })?;
                Self::parse(text)
            }
            _ => Err(ParseError::BadIdempotencyKey { max: Self::MAX_LEN }),
        }
    }

    /// The key as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// SHA-256 of a request body: two requests with the same key are "the same
/// request" exactly when their fingerprints are equal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RequestFingerprint([u8; 32]);

impl RequestFingerprint {
    /// The fingerprint of `body`.
    pub fn of(body: &[u8]) -> Self {
        Self(Sha256::digest(body).into())
    }

    /// Rebuilds a stored fingerprint.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The 32 bytes, as stored.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

/// The answer to a finish of a round the ledger already counted: the first
/// receipt again if this is the same request, else the reason it is refused.
pub fn answer_for_counted_round(
    counted: &Participation,
    key: &IdempotencyKey,
    fingerprint: &RequestFingerprint,
) -> Result<Receipt, RejectReason> {
    if counted.idempotency_key != *key {
        Err(RejectReason::RoundAlreadyCounted)
    } else if counted.fingerprint != *fingerprint {
        Err(RejectReason::IdempotencyKeyReused)
    } else {
        Ok(counted.receipt())
    }
}

/// The rounds whose finish is being handled right now, so a concurrent
/// duplicate is told 409 instead of racing the first.
#[derive(Debug, Default)]
pub struct InFlight {
    rounds: Mutex<HashSet<RoundId>>,
}

impl InFlight {
    /// Marks `round` as being handled until the guard drops; `None` if it
    /// already is.
    pub fn enter(self: &Arc<Self>, round: RoundId) -> Option<InFlightGuard> {
        let newly_entered = self
            .rounds
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(round);
        newly_entered.then(|| InFlightGuard {
            registry: Arc::clone(self),
            round,
        })
    }
}

/// Holds a round in [`InFlight`]; dropping it (on every path out of the
/// handler, panics included) lets the next request for the round in.
#[derive(Debug)]
pub struct InFlightGuard {
    registry: Arc<InFlight>,
    round: RoundId,
}

impl Drop for InFlightGuard {
    fn drop(&mut self) {
        self.registry
            .rounds
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&self.round);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::PlayerId;

    fn key(text: &str) -> IdempotencyKey {
        IdempotencyKey::parse(text).unwrap()
    }

    #[test]
    fn keys_are_parsed_bare_or_as_structured_field_strings() {
        assert_eq!(key("abc-123").as_str(), "abc-123");
        assert_eq!(
            key("\"8e03978e-40d5-43e8-bc93-6894a57f9324\"").as_str(),
            "8e03978e-40d5-43e8-bc93-6894a57f9324"
        );
        for bad in ["", "\"\"", "has space", "tab\there", "é", &"k".repeat(256)] {
            assert!(
                IdempotencyKey::parse(bad).is_err(),
                "{bad:?} must be refused"
            );
        }
    }

    #[test]
    fn only_http_whitespace_is_trimmed() {
        assert_eq!(key(" \tabc\t ").as_str(), "abc", "spaces and tabs");
        // Found by the `share_code_and_idempotency_key` fuzz target: the
        // text path trimmed Unicode whitespace such as NEL (U+0085), so it
        // took ":\u{85}" as ":" where the header path refused it.
        for bad in [":\u{85}", "\u{2003}abc", "abc\n", "\u{3000}abc"] {
            assert!(
                IdempotencyKey::parse(bad).is_err(),
                "{bad:?} must be refused, as in a header"
            );
        }
    }

    #[test]
    fn the_header_is_required_once() {
        let mut headers = HeaderMap::new();
        assert!(
            IdempotencyKey::from_headers(&headers).is_err(),
            "missing header"
        );
        headers.append(HEADER, "one".parse().unwrap());
        assert_eq!(IdempotencyKey::from_headers(&headers), Ok(key("one")));
        headers.append(HEADER, "two".parse().unwrap());
        assert!(
            IdempotencyKey::from_headers(&headers).is_err(),
            "two keys are ambiguous"
        );
    }

    #[test]
    fn fingerprints_tell_bodies_apart() {
        assert_eq!(RequestFingerprint::of(b"{}"), RequestFingerprint::of(b"{}"));
        assert_ne!(
            RequestFingerprint::of(b"{}"),
            RequestFingerprint::of(b"{ }")
        );
    }

    #[test]
    fn a_counted_round_is_answered_by_key_and_body() {
        let counted = Participation {
            number: 42,
            round: RoundId::random(),
            player: PlayerId::random(),
            finished_at_ms: 1,
            day_count: 7,
            score: 100,
            books_caught: 10,
            idempotency_key: key("first"),
            fingerprint: RequestFingerprint::of(b"body"),
            book: sim::wire::BookStatus::AwaitingSponsor,
            share_code: None,
        };
        let check = |key_text: &str, body: &[u8], expected: Result<Receipt, RejectReason>| {
            let answer =
                answer_for_counted_round(&counted, &key(key_text), &RequestFingerprint::of(body));
            assert_eq!(answer, expected, "key {key_text:?}, body {body:?}");
        };
        check("first", b"body", Ok(counted.receipt()));
        check(
            "first",
            b"other body",
            Err(RejectReason::IdempotencyKeyReused),
        );
        check("second", b"body", Err(RejectReason::RoundAlreadyCounted));
    }

    #[test]
    fn a_round_is_in_flight_until_its_guard_drops() {
        let in_flight = Arc::new(InFlight::default());
        let round = RoundId::random();
        let guard = in_flight.enter(round);
        assert!(guard.is_some(), "the first finish enters");
        assert!(
            in_flight.enter(round).is_none(),
            "a concurrent duplicate is kept out"
        );
        assert!(
            in_flight.enter(RoundId::random()).is_some(),
            "other rounds are not affected"
        );
        drop(guard);
        assert!(
            in_flight.enter(round).is_some(),
            "once the first is done, a retry enters"
        );
    }
}
