//! Idempotent finishes (IETF draft "The Idempotency-Key HTTP Header Field").

use std::sync::Arc;

use reqwest::StatusCode;
use server::allocation::{ListedSchool, OpenData, Pledge, Report, SharingFigures};
use server::domain::{PlayerId, RoundId, ShareCode};
use server::store::{
    Actor, AdminStore, AppendOutcome, ImportOutcome, LedgerTotals, NewParticipation, Participation,
    ParticipationBook, PledgeOutcome, RejectionRecord, SchoolBooks, ShareStanding, ShipOutcome,
    ShipRequest, Store, StoreError,
};
use sim::wire::{Receipt, RejectReason};
use tokio::sync::{Notify, Semaphore, watch};

use crate::helpers::{Db, WAIT, on_both_backends, spawn_app, spawn_app_with_store};

on_both_backends!(
    the_same_key_and_body_get_the_first_answer_again,
    the_same_key_with_another_body_is_422_idempotency_key_reused,
    the_first_answer_survives_a_restart,
    a_duplicate_while_the_first_is_in_flight_is_409_request_in_progress,
);

async fn the_same_key_and_body_get_the_first_answer_again(db: Db) {
    let app = spawn_app(db).await;
    let (started, request) = app.played_round(None).await;
    let first = app.finish(&started.round_id, "retry-me", &request).await;
    assert_eq!(first.status(), StatusCode::OK);
    let first = first.bytes().await.unwrap();
    for attempt in 1..=3 {
        let again = app.finish(&started.round_id, "retry-me", &request).await;
        assert_eq!(again.status(), StatusCode::OK, "retry {attempt}");
        assert_eq!(
            again.bytes().await.unwrap(),
            first,
            "retry {attempt} answers the first receipt, byte for byte"
        );
    }
    let totals = app.totals().await;
    assert_eq!(totals.participations, 1, "retries count nothing");
    assert!(
        totals.rejections.is_empty(),
        "and are not refusals: {:?}",
        totals.rejections
    );
}

async fn the_same_key_with_another_body_is_422_idempotency_key_reused(db: Db) {
    let app = spawn_app(db).await;
    let (started, request) = app.played_round(None).await;
    assert_eq!(
        app.finish(&started.round_id, "key", &request)
            .await
            .status(),
        StatusCode::OK
    );
    // The same content, laid out differently, is another body.
    let other_body = serde_json::to_vec_pretty(&request).unwrap();
    app.assert_refused(
        StatusCode::UNPROCESSABLE_ENTITY,
        RejectReason::IdempotencyKeyReused,
        app.finish_raw(&started.round_id, Some("key"), other_body),
    )
    .await;
}

async fn the_first_answer_survives_a_restart(db: Db) {
    let app = spawn_app(db).await;
    let (started, request) = app.played_round(None).await;
    let first: Receipt = app
        .finish(&started.round_id, "key", &request)
        .await
        .json()
        .await
        .unwrap();
    let app = app.restart().await;
    let again = app.finish(&started.round_id, "key", &request).await;
    assert_eq!(
        again.status(),
        StatusCode::OK,
        "a retry after a restart still gets its receipt"
    );
    assert_eq!(
        again.json::<Receipt>().await.unwrap(),
        first,
        "the same receipt"
    );
    assert_eq!(app.totals().await.participations, 1, "counted once");
}

/// A store that holds every append until the test lets it through, and
/// tells the test when one is waiting.
#[derive(Debug)]
struct GatedStore {
    inner: Arc<dyn Store>,
    append_waiting: Notify,
    gate: Semaphore,
}

#[async_trait::async_trait]
impl Store for GatedStore {
    async fn append(&self, participation: NewParticipation) -> Result<AppendOutcome, StoreError> {
        self.append_waiting.notify_one();
        let _pass = self.gate.acquire().await;
        self.inner.append(participation).await
    }

    fn record_rejection(&self, rejection: RejectionRecord) {
        self.inner.record_rejection(rejection);
    }

    async fn find_round(&self, round: RoundId) -> Result<Option<Participation>, StoreError> {
        self.inner.find_round(round).await
    }

    async fn player_history(
        &self,
        player: PlayerId,
        limit: u32,
    ) -> Result<Vec<Participation>, StoreError> {
        self.inner.player_history(player, limit).await
    }

    fn totals(&self) -> watch::Receiver<LedgerTotals> {
        self.inner.totals()
    }

    async fn participation_book(
        &self,
        number: u64,
    ) -> Result<Option<ParticipationBook>, StoreError> {
        self.inner.participation_book(number).await
    }

    async fn school_books(&self, school: &str) -> Result<Option<SchoolBooks>, StoreError> {
        self.inner.school_books(school).await
    }

    async fn school_by_receipt_secret(
        &self,
        secret: &str,
    ) -> Result<Option<SchoolBooks>, StoreError> {
        self.inner.school_by_receipt_secret(secret).await
    }

    async fn receipt_secret(&self, school: &str) -> Result<Option<String>, StoreError> {
        self.inner.receipt_secret(school).await
    }

    async fn receive_books(
        &self,
        secret: &str,
        actor: Actor,
    ) -> Result<Option<(String, u64)>, StoreError> {
        self.inner.receive_books(secret, actor).await
    }

    async fn report(&self) -> Result<Report, StoreError> {
        self.inner.report().await
    }

    async fn revision(&self) -> Result<u64, StoreError> {
        self.inner.revision().await
    }

    async fn pledge(&self, pledge: Pledge, actor: Actor) -> Result<PledgeOutcome, StoreError> {
        self.inner.pledge(pledge, actor).await
    }

    async fn import_schools(
        &self,
        source: &str,
        schools: Vec<ListedSchool>,
        based_on: Option<Option<u32>>,
        actor: Actor,
    ) -> Result<ImportOutcome, StoreError> {
        self.inner
            .import_schools(source, schools, based_on, actor)
            .await
    }

    async fn ship(&self, request: ShipRequest, actor: Actor) -> Result<ShipOutcome, StoreError> {
        self.inner.ship(request, actor).await
    }

    fn admin(&self) -> &dyn AdminStore {
        self.inner.admin()
    }

    async fn export(&self) -> Result<OpenData, StoreError> {
        self.inner.export().await
    }

    async fn share_standing(&self, code: ShareCode) -> Result<Option<ShareStanding>, StoreError> {
        self.inner.share_standing(code).await
    }

    async fn player_standing(&self, player: PlayerId) -> Result<Option<ShareStanding>, StoreError> {
        self.inner.player_standing(player).await
    }

    async fn create_poster_code(
        &self,
        label: Option<String>,
        actor: Actor,
    ) -> Result<ShareCode, StoreError> {
        self.inner.create_poster_code(label, actor).await
    }

    async fn sharing(&self) -> Result<SharingFigures, StoreError> {
        self.inner.sharing().await
    }

    async fn close(&self) -> Result<(), StoreError> {
        self.inner.close().await
    }
}

async fn a_duplicate_while_the_first_is_in_flight_is_409_request_in_progress(db: Db) {
    let gated = Arc::new(std::sync::OnceLock::<Arc<GatedStore>>::new());
    let gated_for_app = Arc::clone(&gated);
    let app = spawn_app_with_store(db, move |inner| {
        let store = Arc::new(GatedStore {
            inner,
            append_waiting: Notify::new(),
            gate: Semaphore::new(0),
        });
        let _ = gated_for_app.set(Arc::clone(&store));
        store
    })
    .await;
    let gated = gated.get().expect("the gated store is in place");
    let (started, request) = app.played_round(None).await;

    let first = tokio::spawn({
        let (client, url) = (
            app.client.clone(),
            app.url(&format!("/api/rounds/{}/finish", started.round_id)),
        );
        let body = serde_json::to_vec(&request).unwrap();
        async move {
            client
                .post(url)
                .header("idempotency-key", "key")
                .body(body)
                .send()
                .await
                .unwrap()
        }
    });
    tokio::time::timeout(WAIT, gated.append_waiting.notified())
        .await
        .expect("the first finish reaches the ledger");

    app.assert_refused(
        StatusCode::CONFLICT,
        RejectReason::RequestInProgress,
        app.finish(&started.round_id, "key", &request),
    )
    .await;

    gated.gate.add_permits(1);
    let first = tokio::time::timeout(WAIT, first)
        .await
        .expect("the first finish completes")
        .unwrap();
    assert_eq!(
        first.status(),
        StatusCode::OK,
        "the first finish is counted"
    );
    assert_eq!(app.totals().await.participations, 1, "once");
}
