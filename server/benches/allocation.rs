//! Allocation at the campaign's real size: 5.8 million participations, one
//! book per 10 participations (one pledge of 580,000 books), 10,000 schools
//! with 100-1,500 pupils each and a target of one book per 10 pupils (so
//! about 800,000 books of targets in all: some schools reach their cap).
//!
//! - `allocate_campaign`: counts every participation one at a time, as the
//!   ledger writer does, funding and allocating all 580,000 books
//!   (target: under 1 s);
//! - `encode_report`: the public report built from 10,000 school tallies
//!   and serialised to JSON and CSV (the CPU part of a rebuild);
//! - `rebuild_report`: one rebuild of the report cache from a real SQLite
//!   ledger with the 10,000 schools and 580,000 allocated books (the tallies
//!   read through the store's reader pool, then serialised), as the
//!   background refresher does at most once a second;
//! - `report_request`: what a `GET /api/report` costs now (target: p99
//!   under 10 ms): the request through the whole router, answered from the
//!   cached bodies, body collected.
//!
//! Run: `CARGO_TARGET_DIR=... cargo bench -p server --bench allocation`.

use std::sync::{Arc, LazyLock};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use rand::{Rng as _, SeedableRng as _};
use server::allocation::{Allocator, Candidate, ListedSchool, Pledge, Report, SchoolTally};
use server::metrics::Metrics;
use server::report_cache::{ReportBodies, ReportCache};
use server::store::{self, Actor, Location, sqlite};
use server::token::TokenKey;
use server::{AppState, ServeConfig};
use sim::wire::SchoolRef;
use tower::ServiceExt as _;

const PARTICIPATIONS: u64 = 5_800_000;
const PARTICIPATIONS_PER_BOOK: u64 = 10;
const SCHOOLS: usize = 10_000;

fn main() {
    divan::main();
}

/// The 10,000 schools, the same every run.
fn schools() -> Vec<Candidate> {
    let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(2019);
    (0..SCHOOLS)
        .map(|index| {
            let pupils = rng.random_range(100..=1_500);
            Candidate {
                school: format!("S{index:05}"),
                pupils,
                cap: pupils / 10,
            }
        })
        .collect()
}

fn campaign() -> Allocator {
    let mut allocator = Allocator::new();
    let pledge = Pledge {
        sponsor: "bench".into(),
        participations_per_book: PARTICIPATIONS_PER_BOOK,
        book_cap: PARTICIPATIONS / PARTICIPATIONS_PER_BOOK,
    };
    allocator.pledge(pledge, 0).expect("a valid pledge");
    allocator.apply_list(1, schools());
    allocator
}

#[divan::bench(sample_count = 10)]
fn allocate_campaign(bencher: divan::Bencher) {
    bencher
        .with_inputs(campaign)
        .bench_local_values(|mut allocator| {
            let mut allocated = 0;
            for participation in 1..=PARTICIPATIONS {
                allocated += allocator.count(participation).allocated.len();
            }
            assert_eq!(allocated, 580_000, "every book gets a school");
            allocator
        });
}

/// The bytes of a school's text fields, the same for the tallies and the
/// ledger's list: 22 provinces, 150 prefectures, 832 counties.
fn listed_schools() -> Vec<ListedSchool> {
    schools()
        .into_iter()
        .enumerate()
        .map(|(index, candidate)| ListedSchool {
            school: SchoolRef {
                id: candidate.school,
                name: format!("第{index}希望小学"),
                province: format!("省{}", index % 22),
                prefecture: format!("州{}", index % 150),
                county: format!("县{}", index % 832),
                county_code: format!("{:06}", 110_000 + index % 832),
            },
            pupils: candidate.pupils,
            target_books: candidate.cap,
        })
        .collect()
}

#[divan::bench(sample_count = 200)]
fn encode_report(bencher: divan::Bencher) {
    let tallies: Vec<SchoolTally> = listed_schools()
        .into_iter()
        .map(|listed| SchoolTally {
            allocated: u64::from(listed.target_books) * 3 / 4,
            shipped: u64::from(listed.target_books) / 2,
            received: u64::from(listed.target_books) / 4,
            school: listed.school,
            pupils: listed.pupils,
            target_books: listed.target_books,
        })
        .collect();
    bencher
        .with_inputs(|| tallies.clone())
        .bench_local_values(|tallies| {
            let report = Report::build(
                PARTICIPATIONS,
                580_000,
                580_000,
                tallies,
                Default::default(),
            );
            ReportBodies::encode(&report).expect("the report serialises")
        });
}

/// A ledger at the campaign's size (10,000 schools, 580,000 allocated
/// books) with a server state on it, built once for the benches that read
/// it.
struct Campaign {
    runtime: tokio::runtime::Runtime,
    state: AppState,
    _dir: tempfile::TempDir,
}

static CAMPAIGN: LazyLock<Campaign> = LazyLock::new(|| {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join(sqlite::FILE_NAME);
    let books = PARTICIPATIONS / PARTICIPATIONS_PER_BOOK;
    // One participation per book and a pledge of one book per participation
    // gives the same 580,000 allocated books without loading 5.8 million rows.
    sqlite::bulk_load(&path, books, 30, 1_700_000_000_000, 1).expect("bulk load");
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let metrics = Arc::new(Metrics::default());
    let location = Location::Sqlite {
        data_dir: dir.path().to_owned(),
    };
    let store = runtime
        .block_on(store::open_with_defaults(&location, metrics.ledger.clone()))
        .expect("the ledger opens");
    runtime
        .block_on(store.import_schools(
            "bench.csv",
            listed_schools(),
            None,
            Actor::os_user("bench"),
        ))
        .expect("import");
    let pledge = Pledge {
        sponsor: "bench".into(),
        participations_per_book: 1,
        book_cap: books,
    };
    let pledged = runtime
        .block_on(store.pledge(pledge, Actor::os_user("bench")))
        .expect("pledge");
    assert_eq!(
        pledged.books_allocated as u64, books,
        "every book allocated"
    );
    let config = ServeConfig::new(dir.path(), dir.path().join("dist"));
    let tokens = TokenKey::new(b"bench-secret-bench-secret-bench-secret-0").expect("a key");
    let state = AppState::from_parts(store, tokens, metrics, &config).expect("the state assembles");
    Campaign {
        runtime,
        state,
        _dir: dir,
    }
});

#[divan::bench(sample_count = 100)]
fn rebuild_report(bencher: divan::Bencher) {
    let campaign = &*CAMPAIGN;
    let store = campaign.state.store.as_ref();
    bencher
        // A fresh cache each time, so every refresh really rebuilds.
        .with_inputs(ReportCache::default)
        .bench_local_refs(|cache| {
            campaign
                .runtime
                .block_on(cache.refresh(store))
                .expect("the report rebuilds")
        });
}

#[divan::bench(sample_count = 1000)]
fn report_request(bencher: divan::Bencher) {
    let campaign = &*CAMPAIGN;
    let router = server::router(campaign.state.clone());
    campaign
        .runtime
        .block_on(campaign.state.report.refresh(campaign.state.store.as_ref()))
        .expect("the report builds");
    bencher.bench_local(|| {
        campaign.runtime.block_on(async {
            let request = Request::get("/api/report")
                .body(Body::empty())
                .expect("a request");
            let response = router.clone().oneshot(request).await.expect("a response");
            assert_eq!(response.status(), StatusCode::OK, "the report is served");
            axum::body::to_bytes(response.into_body(), usize::MAX)
                .await
                .expect("the body")
        })
    });
}
