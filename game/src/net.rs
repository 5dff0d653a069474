//! Talking to the round API with the shared `sim::wire` types.
//!
//! Requests run as futures in the browser's event loop; each answer comes
//! back into the app as a [`NetReply`] message (see [`crate::mailbox`]).
//! Native development builds have no HTTP client: every request there fails
//! as unreachable, and the title says so.

use std::sync::mpsc::Sender;

use bevy::prelude::*;
use serde::de::DeserializeOwned;
use sim::wire::{ApiError, Receipt, RejectReason, RoundStarted, StartRoundRequest};

use crate::mailbox::add_mailbox;
use crate::outbox::PendingFinish;

/// Why a request did not get the answer it asked for.
#[derive(Debug, Clone, PartialEq)]
pub enum Failure {
    /// The server answered with a refusal.
    #[cfg_attr(
        not(any(target_arch = "wasm32", test)),
        expect(dead_code, reason = "native development builds never reach a server")
    )]
    Refused(ApiError),
    /// No usable answer: offline, a dropped connection, a proxy's error page.
    Unreachable(String),
}

impl Failure {
    /// Whether the same request may succeed later. Refusals are final,
    /// except those that say "not now".
    pub fn is_worth_retrying(&self) -> bool {
        match self {
            Failure::Unreachable(_) => true,
            Failure::Refused(error) => matches!(
                error.reason,
                RejectReason::ServerError
                    | RejectReason::RateLimited
                    | RejectReason::RequestInProgress
            ),
        }
    }
}

/// An answer from the server.
#[derive(Debug, Message)]
pub enum NetReply {
    /// `POST /api/rounds` answered.
    Started(Result<RoundStarted, Failure>),
    /// `POST /api/rounds/{round_id}/finish` answered.
    Finished {
        round_id: String,
        result: Result<Receipt, Failure>,
    },
}

/// Sends requests; their answers arrive as [`NetReply`] messages.
#[derive(Resource, Clone)]
pub struct Network {
    replies: Sender<NetReply>,
}

pub(super) fn plugin(app: &mut App) {
    let replies = add_mailbox::<NetReply>(app);
    app.insert_resource(Network { replies });
}

impl Network {
    /// Asks the server for a new round.
    pub fn start_round(&self, request: &StartRoundRequest) {
        let replies = self.replies.clone();
        let body = to_json(request);
        spawn(async move {
            let result = post::<RoundStarted>("/api/rounds", body, None).await;
            // A closed mailbox means the app is gone: nobody is waiting.
            let _ = replies.send(NetReply::Started(result));
        });
    }

    /// Sends a finished round to be counted.
    pub fn finish_round(&self, finish: &PendingFinish) {
        let replies = self.replies.clone();
        let path = format!("/api/rounds/{}/finish", finish.round_id);
        let body = to_json(&finish.request);
        let key = finish.idempotency_key.clone();
        let round_id = finish.round_id.clone();
        spawn(async move {
            let result = post::<Receipt>(&path, body, Some(key)).await;
            let _ = replies.send(NetReply::Finished { round_id, result });
        });
    }
}

fn to_json(body: &impl serde::Serialize) -> Result<String, Failure> {
    serde_json::to_string(body).map_err(|error| Failure::Unreachable(error.to_string()))
}

/// Makes sense of an HTTP answer: `200` carries `T`, anything else should
/// carry the API's one error shape.
#[cfg(any(target_arch = "wasm32", test))]
fn interpret<T: DeserializeOwned>(status: u16, body: &str) -> Result<T, Failure> {
    if status == 200 {
        serde_json::from_str(body)
            .map_err(|error| Failure::Unreachable(format!("unreadable answer: {error}")))
    } else {
        match serde_json::from_str::<ApiError>(body) {
            Ok(error) => Err(Failure::Refused(error)),
            Err(_) => Err(Failure::Unreachable(format!("HTTP {status}"))),
        }
    }
}

#[cfg(target_arch = "wasm32")]
fn spawn(future: impl Future<Output = ()> + 'static) {
    wasm_bindgen_futures::spawn_local(future);
}

#[cfg(target_arch = "wasm32")]
async fn post<T: DeserializeOwned>(
    path: &str,
    body: Result<String, Failure>,
    idempotency_key: Option<String>,
) -> Result<T, Failure> {
    use wasm_bindgen::{JsCast as _, JsValue};
    use wasm_bindgen_futures::JsFuture;
    use web_sys::{Headers, Request, RequestInit, Response};

    let unreachable = |error: JsValue| Failure::Unreachable(format!("{error:?}"));
    let headers = Headers::new().map_err(unreachable)?;
    headers
        .set("Content-Type", "application/json")
        .map_err(unreachable)?;
    if let Some(key) = &idempotency_key {
        headers.set("Idempotency-Key", key).map_err(unreachable)?;
    }
    let init = RequestInit::new();
    init.set_method("POST");
    init.set_headers(&headers);
    init.set_body(&JsValue::from_str(&body?));
    let request = Request::new_with_str_and_init(path, &init).map_err(unreachable)?;
    let window = web_sys::window().ok_or_else(|| Failure::Unreachable("no window".into()))?;
    let response: Response = JsFuture::from(window.fetch_with_request(&request))
        .await
        .and_then(|response| response.dyn_into())
        .map_err(unreachable)?;
    let text = JsFuture::from(response.text().map_err(unreachable)?)
        .await
        .map_err(unreachable)?
        .as_string()
        .unwrap_or_default();
    interpret(response.status(), &text)
}

#[cfg(not(target_arch = "wasm32"))]
fn spawn(future: impl Future<Output = ()> + 'static) {
    bevy::tasks::block_on(future);
}

#[cfg(not(target_arch = "wasm32"))]
async fn post<T: DeserializeOwned>(
    path: &str,
    body: Result<String, Failure>,
    _idempotency_key: Option<String>,
) -> Result<T, Failure> {
    body?;
    Err(Failure::Unreachable(format!(
        "{path}: native development builds do not talk to a server"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(reason: RejectReason) -> String {
        serde_json::to_string(&ApiError::from(reason)).expect("serialises")
    }

    #[test]
    fn a_refusal_is_final_unless_it_says_not_now() {
        let answer = interpret::<Receipt>(429, &refusal(RejectReason::DailyCapReached));
        let Err(failure) = answer else {
            panic!("a 429 is no receipt: {answer:?}")
        };
        assert!(
            matches!(&failure, Failure::Refused(error) if error.reason == RejectReason::DailyCapReached)
        );
        assert!(!failure.is_worth_retrying(), "the cap holds until tomorrow");

        let busy = interpret::<Receipt>(409, &refusal(RejectReason::RequestInProgress));
        assert!(busy.is_err_and(|failure| failure.is_worth_retrying()));
    }

    #[test]
    fn an_answer_without_the_error_shape_is_worth_retrying() {
        let answer = interpret::<Receipt>(502, "<html>Bad Gateway</html>");
        assert_eq!(answer, Err(Failure::Unreachable("HTTP 502".into())));
        assert!(answer.is_err_and(|failure| failure.is_worth_retrying()));
    }
}
