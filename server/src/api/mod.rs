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
use serde::de::DeserializeOwned;
use serde_json::Value;
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

/// Reads a JSON request body as the API document describes every request
/// body: objects of known fields (the wire types refuse unknown ones), and
/// no lists. serde's derive would also read a struct from an array of its
/// fields (`[null, null]` as a start request), which no client sends and
/// the document does not allow. A number with no fraction is an integer,
/// as in JSON Schema: `3.0` reads as `3`.
pub fn read_json_object(body: &[u8]) -> Result<Value, RejectReason> {
    fn normalise(value: &mut Value) -> Result<(), RejectReason> {
        match value {
            Value::Array(_) => Err(RejectReason::MalformedRequest),
            Value::Object(fields) => fields.values_mut().try_for_each(normalise),
            Value::Number(number) => {
                if let Some(integer) = integral(number) {
                    *number = integer;
                }
                Ok(())
            }
            Value::Null | Value::Bool(_) | Value::String(_) => Ok(()),
        }
    }
    fn integral(number: &serde_json::Number) -> Option<serde_json::Number> {
        let float = number.as_f64().filter(|_| number.is_f64())?;
        if float.fract() != 0.0 {
            return None;
        }
        // Exactly representable integers only: beyond 2^53 a float names
        // no single integer.
        const EXACT: f64 = 9_007_199_254_740_992.0;
        if (0.0..=EXACT).contains(&float) {
            Some((float as u64).into())
        } else if (-EXACT..0.0).contains(&float) {
            Some((float as i64).into())
        } else {
            None
        }
    }
    let mut value: Value =
        serde_json::from_slice(body).map_err(|_| RejectReason::MalformedRequest)?;
    normalise(&mut value)?;
    Ok(value)
}

/// `body` read straight as `T`, when that surely gives what
/// [`read_json_object`] and then `T` would; otherwise `None`, and the
/// caller goes that way (which also tells what is wrong). Sure when the body
/// holds no `[` at all, so no list (which `T`'s derive would read as a
/// struct), and `T`, a wire type, reads it: a whole number written with a
/// fraction (`3.0`) fails an integer field here, and an unknown or repeated
/// field fails here too. It spares every finish building a `Value`.
pub fn read_json_object_as<T: DeserializeOwned>(body: &[u8]) -> Option<T> {
    if body.contains(&b'[') {
        return None;
    }
    serde_json::from_slice(body).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_body_is_refused_with_a_list_anywhere() {
        let check = |body: &str, ok: bool| {
            assert_eq!(read_json_object(body.as_bytes()).is_ok(), ok, "{body}");
        };
        check(r#"{"player":null,"referral":"7K3M9QRT"}"#, true);
        check("null", true);
        check("[null, null]", false);
        check(r#"{"outcome":[1,2,true,3,"0000000000000000"]}"#, false);
        check(r#"{"a":{"b":[]}}"#, false);
        check("{", false);
    }

    #[test]
    fn an_integral_number_reads_as_an_integer() {
        let value = read_json_object(br#"{"a":3.0,"b":-2.0,"c":1.5,"d":1e300}"#).unwrap();
        assert_eq!(value["a"], serde_json::json!(3), "3.0 is 3");
        assert!(value["a"].is_u64(), "and reads as a u64");
        assert_eq!(value["b"], serde_json::json!(-2), "-2.0 is -2");
        assert!(value["c"].is_f64(), "1.5 stays a float");
        assert!(value["d"].is_f64(), "1e300 names no single integer");
    }

    #[test]
    fn a_body_read_straight_is_read_as_through_a_value_or_not_at_all() {
        use sim::wire::FinishRoundRequest;
        let (input_log, outcome) = sim::bot::play_round(sim::Seed(3), &sim::Rules::CURRENT);
        let request = FinishRoundRequest {
            token: "token".into(),
            input_log,
            outcome,
        };
        let body = serde_json::to_string(&request).unwrap();
        let score = format!("\"score\":{}", request.outcome.score);
        let through_a_value = |body: &str| {
            read_json_object(body.as_bytes())
                .ok()
                .and_then(|value| serde_json::from_value::<FinishRoundRequest>(value).ok())
        };
        assert_eq!(
            read_json_object_as::<FinishRoundRequest>(body.as_bytes()),
            Some(request.clone()),
            "a plain body reads straight"
        );
        for (variant, straight, through) in [
            (body.replace(&score, &format!("{score}.0")), false, true),
            (body.replacen('{', r#"{"token":"other","#, 1), false, true),
            (body.replacen('{', r#"{"extra":1,"#, 1), false, false),
            (body.replace(&score, r#""score":[1]"#), false, false),
            (
                body.replace(r#""token":"token""#, r#""token":"tok[en""#),
                false,
                true,
            ),
            (format!("{body} trailing"), false, false),
        ] {
            let read = read_json_object_as::<FinishRoundRequest>(variant.as_bytes());
            assert_eq!(read.is_some(), straight, "read straight: {variant}");
            assert_eq!(
                through_a_value(&variant).is_some(),
                through,
                "through a value: {variant}"
            );
        }
    }
}
