//! The OpenAPI 3.2 document of the public routes, served at
//! `/api/openapi.json`.
//!
//! Generated, not written: each handler carries its operation beside it
//! (`#[utoipa::path]`: its path from `routes::paths`, its parameters and
//! every status it answers), the wire types carry their schemas (`sim`'s
//! `openapi` feature derives `utoipa::ToSchema`), and `routes::public`
//! registers every public handler through `utoipa_axum::routes!`, which adds
//! it to the router and to the document in one step. The statuses of the
//! refusals come from [`status_of`], as the answers do. OpenAPI 3.2, for its
//! `itemSchema`: the exact shape of each event of `/api/live`.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use axum::http::header;
use axum::response::IntoResponse;
use sim::wire::{ApiError, RejectReason, Totals};
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::{ContentBuilder, Ref, RefOr};
use utoipa::{OpenApi, ToSchema as _};

use crate::api::live::TotalsEvent;
use crate::error::{reason_name, status_of};
use crate::routes::{self, paths};

/// What the generated paths are added to: the document's header, and the
/// schemas that only responses built by hand refer to (`routes!` collects
/// those of bodies, not of refusals or `itemSchema`).
#[derive(Debug, OpenApi)]
#[openapi(
    version = "3.2.0",
    info(
        title = "圆梦精灵图书馆 (Dream Fairy Library) public API",
        description = "Play a round, have it verified, count a participation; the totals, \
                       the report, a player's history and sharing; the public pages, the share \
                       links and their cards. Every refusal of the JSON API answers an `ApiError`."
    ),
    components(schemas(ApiError, RejectReason, Totals, TotalsEvent)),
    tags(
        (name = "rounds", description = "Playing and counting rounds"),
        (name = "reads", description = "Totals, the report and a player's own records"),
        (name = "pages", description = "Server-rendered public pages (HTML)"),
        (name = "sharing", description = "Share links, their preview cards, crawlers"),
        (name = "operations", description = "Liveness, metrics and this document"),
    )
)]
pub struct ApiDoc;

/// The document, built once from the routes.
static DOCUMENT: LazyLock<String> = LazyLock::new(|| {
    let document = routes::public().into_openapi();
    // The document is plain data: it always serialises.
    document.to_pretty_json().unwrap_or_default()
});

/// The document as a value, for tests and tools.
pub fn document() -> serde_json::Value {
    serde_json::from_str(&DOCUMENT).unwrap_or_default()
}

/// `GET /api/openapi.json`: this document.
#[utoipa::path(
    get,
    path = paths::OPENAPI,
    tag = "operations",
    responses((status = 200, description = "The OpenAPI 3.2 document of the public routes",
        content_type = "application/json", body = Object)),
)]
pub async fn get_document() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        DOCUMENT.as_str(),
    )
}

/// The error answers for `reasons`: one response per status ([`status_of`]),
/// each an `ApiError` naming the reasons it may carry.
pub fn refusal_responses(reasons: &[RejectReason]) -> BTreeMap<String, RefOr<Response>> {
    let mut by_status: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for &reason in reasons {
        by_status
            .entry(status_of(reason).as_u16().to_string())
            .or_default()
            .push(format!("`{}`", reason_name(reason)));
    }
    by_status
        .into_iter()
        .map(|(status, names)| {
            let description = format!("Refused: {}", names.join(", "));
            (status, api_error(description))
        })
        .collect()
}

/// Declares a type whose `utoipa::IntoResponses` are the refusals of the
/// given reasons, for a handler's `responses(...)`.
macro_rules! refusals {
    ($(#[$doc:meta])* $name:ident: $($reason:ident),+ $(,)?) => {
        $(#[$doc])*
        #[derive(Debug)]
        pub struct $name;

        impl utoipa::IntoResponses for $name {
            fn responses(
            ) -> std::collections::BTreeMap<String, utoipa::openapi::RefOr<utoipa::openapi::response::Response>>
            {
                $crate::openapi::refusal_responses(&[$(sim::wire::RejectReason::$reason),+])
            }
        }
    };
}
pub(crate) use refusals;

/// A response whose body is an `ApiError`.
fn api_error(description: String) -> RefOr<Response> {
    let content = ContentBuilder::new()
        .schema(Some(Ref::from_schema_name(ApiError::name())))
        .build();
    RefOr::T(
        ResponseBuilder::new()
            .description(description)
            .content("application/json", content)
            .build(),
    )
}

/// The answers of a handler that writes to the ledger, besides its
/// refusals: 500 `server_error` when the write fails, 503 `server_error`
/// while the ledger shuts down (retry later).
#[derive(Debug)]
pub struct WriteFaults;

impl utoipa::IntoResponses for WriteFaults {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        let mut responses = refusal_responses(&[RejectReason::ServerError]);
        responses.insert(
            "503".into(),
            api_error("Refused: `server_error` (the ledger is shutting down; retry later)".into()),
        );
        responses
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_schema_reference_resolves() {
        let document = document();
        let text = document.to_string();
        let schemas = document["components"]["schemas"].as_object().unwrap();
        let mut references = 0;
        for reference in text.split("#/components/schemas/").skip(1) {
            let name: String = reference
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric())
                .collect();
            assert!(schemas.contains_key(&name), "dangling reference to {name}");
            references += 1;
        }
        assert!(references > 20, "the document refers to its schemas");
    }

    #[test]
    fn each_refusal_is_documented_under_its_status() {
        let responses = refusal_responses(&RejectReason::ALL);
        for reason in RejectReason::ALL {
            let status = status_of(reason).as_u16().to_string();
            let RefOr::T(response) = &responses[&status] else {
                panic!("{status} is a response, not a reference");
            };
            assert!(
                response
                    .description
                    .contains(&format!("`{}`", reason_name(reason))),
                "{reason:?} is named under {status}: {}",
                response.description
            );
        }
    }

    #[test]
    fn the_live_stream_describes_each_event() {
        let document = document();
        let stream = &document["paths"][paths::LIVE]["get"]["responses"]["200"]["content"]["text/event-stream"];
        assert_eq!(
            stream["itemSchema"]["$ref"], "#/components/schemas/TotalsEvent",
            "each event has a schema"
        );
        let event = &document["components"]["schemas"]["TotalsEvent"];
        assert_eq!(
            event["properties"]["event"]["enum"],
            serde_json::json!(["totals"])
        );
        let data = &event["properties"]["data"];
        assert_eq!(data["contentMediaType"], "application/json");
        assert_eq!(
            data["contentSchema"]["$ref"], "#/components/schemas/Totals",
            "the data is the totals, as JSON"
        );
    }
}
