//! Finished rounds on their way to the server, kept until a receipt or a
//! refusal arrives, so that no finished round is lost: not to a dropped
//! connection, not to a reload, not to closing the tab.
//!
//! Each entry is the exact request body and its idempotency key (the round
//! id, as a round is finished once), so every retry, in this visit or a
//! later one, is the same request, and the server counts it at most once.

use serde::{Deserialize, Serialize};
use sim::wire::FinishRoundRequest;

use crate::storage;

/// Most rounds kept waiting; beyond it the oldest give way. A real player
/// finishes a handful of rounds a day, so this only bounds a broken browser.
const CAPACITY: usize = 16;

/// One finish waiting for its answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PendingFinish {
    /// The round to finish.
    pub round_id: String,
    /// The request's `Idempotency-Key`.
    pub idempotency_key: String,
    /// The request body.
    pub request: FinishRoundRequest,
}

impl PendingFinish {
    /// The finish of round `round_id`, keyed by the round itself.
    pub fn new(round_id: String, request: FinishRoundRequest) -> PendingFinish {
        PendingFinish {
            idempotency_key: round_id.clone(),
            round_id,
            request,
        }
    }
}

/// The rounds waiting, oldest first, mirrored to storage on every change.
#[derive(Debug, Default, PartialEq)]
pub struct Outbox {
    pending: Vec<PendingFinish>,
}

impl Outbox {
    /// The outbox as this browser last stored it. Unreadable contents (an
    /// older format, a hand edit) are dropped rather than retried forever.
    pub fn load() -> Outbox {
        let pending = storage::load(storage::OUTBOX_KEY)
            .and_then(|json| serde_json::from_str(&json).ok())
            .unwrap_or_default();
        Outbox { pending }
    }

    /// The rounds waiting, oldest first.
    pub fn pending(&self) -> &[PendingFinish] {
        &self.pending
    }

    /// Keeps `finish` until [`Outbox::settle`] is called for its round.
    pub fn keep(&mut self, finish: PendingFinish) {
        self.pending.retain(|kept| kept.round_id != finish.round_id);
        self.pending.push(finish);
        if self.pending.len() > CAPACITY {
            self.pending.remove(0);
        }
        self.store();
    }

    /// Forgets round `round_id`: the server has answered for it.
    pub fn settle(&mut self, round_id: &str) {
        self.pending.retain(|kept| kept.round_id != round_id);
        self.store();
    }

    fn store(&self) {
        match serde_json::to_string(&self.pending) {
            Ok(json) => storage::save(storage::OUTBOX_KEY, &json),
            Err(error) => crate::bridge::report_error(&format!("cannot store the outbox: {error}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use sim::{Rules, Seed, bot};

    use super::*;

    fn finish(round_id: &str, seed: u64) -> PendingFinish {
        let (input_log, outcome) = bot::play_round(Seed(seed), &Rules::CURRENT);
        PendingFinish::new(
            round_id.to_owned(),
            FinishRoundRequest {
                token: format!("token-{round_id}"),
                input_log,
                outcome,
            },
        )
    }

    #[test]
    fn a_kept_finish_survives_a_reload_until_settled() {
        let mut outbox = Outbox::load();
        assert!(
            outbox.pending().is_empty(),
            "a new browser has nothing waiting"
        );
        outbox.keep(finish("round-a", 1));
        outbox.keep(finish("round-b", 2));

        let reloaded = Outbox::load();
        assert_eq!(reloaded, outbox, "storage holds exactly what was kept");
        assert_eq!(reloaded.pending()[0].idempotency_key, "round-a");

        outbox.settle("round-a");
        let ids: Vec<_> = Outbox::load()
            .pending()
            .iter()
            .map(|kept| kept.round_id.clone())
            .collect();
        assert_eq!(ids, ["round-b"]);
    }

    #[test]
    fn keeping_a_round_twice_keeps_one_copy() {
        let mut outbox = Outbox::default();
        outbox.keep(finish("round-a", 1));
        outbox.keep(finish("round-a", 1));
        assert_eq!(outbox.pending().len(), 1);
    }

    #[test]
    fn the_oldest_give_way_beyond_capacity() {
        let mut outbox = Outbox::default();
        for index in 0..CAPACITY + 2 {
            outbox.keep(finish(&format!("round-{index}"), 3));
        }
        assert_eq!(outbox.pending().len(), CAPACITY);
        assert_eq!(outbox.pending()[0].round_id, "round-2");
    }

    #[test]
    fn unreadable_storage_is_an_empty_outbox() {
        storage::save(storage::OUTBOX_KEY, "{not json");
        assert!(Outbox::load().pending().is_empty());
    }
}
