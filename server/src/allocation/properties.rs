//! Property tests of the allocation: the invariants the campaign promises,
//! checked on random school lists, pledges and import points.

use std::collections::HashMap;

use proptest::prelude::*;

use super::open_data::sample_school;
use super::{
    Allocator, BookRecord, BookState, Candidate, Difference, ListedSchool, OpenData, Pledge,
    SchoolListVersion, verify,
};

/// A list of 1-12 schools with small weights and caps (so ties and caps
/// happen often), ids unique.
fn school_list() -> impl Strategy<Value = Vec<Candidate>> {
    proptest::collection::btree_map("[a-f][0-9]", (0u32..20, 0u32..6), 1..12).prop_map(|schools| {
        schools
            .into_iter()
            .map(|(school, (pupils, cap))| Candidate {
                school,
                pupils,
                cap,
            })
            .collect()
    })
}

/// The textbook batch computation: for each seat, scan every school, take
/// the largest `pupils / (2s + 1)` (compared as exact fractions), ties to
/// the smallest id, skip schools at their cap or without pupils.
fn naive_batch(list: &[Candidate], seats: usize) -> Vec<String> {
    let mut held: HashMap<&str, u32> = HashMap::new();
    let mut result = Vec::new();
    for _ in 0..seats {
        let mut best: Option<&Candidate> = None;
        for candidate in list {
            let s = held.get(candidate.school.as_str()).copied().unwrap_or(0);
            if candidate.pupils == 0 || s >= candidate.cap {
                continue;
            }
            best = match best {
                None => Some(candidate),
                Some(current) => {
                    let current_s = held.get(current.school.as_str()).copied().unwrap_or(0);
                    let ours = u128::from(candidate.pupils) * u128::from(2 * current_s + 1);
                    let theirs = u128::from(current.pupils) * u128::from(2 * s + 1);
                    if ours > theirs || (ours == theirs && candidate.school < current.school) {
                        Some(candidate)
                    } else {
                        Some(current)
                    }
                }
            };
        }
        let Some(winner) = best else { break };
        *held.entry(&winner.school).or_default() += 1;
        result.push(winner.school.clone());
    }
    result
}

/// A published school built from a candidate (names are not part of the rule).
fn listed(candidate: &Candidate) -> ListedSchool {
    sample_school(&candidate.school, candidate.pupils, candidate.cap)
}

/// One step of a campaign's life.
#[derive(Debug, Clone)]
enum Event {
    /// This many more participations are counted, one at a time.
    Participations(u64),
    /// A sponsor pledges.
    Pledge(u64, u64),
    /// A new school list is imported.
    List(Vec<Candidate>),
}

fn events() -> impl Strategy<Value = Vec<Event>> {
    let event = prop_oneof![
        3 => (1u64..40).prop_map(Event::Participations),
        1 => (1u64..5, 1u64..15).prop_map(|(r, b)| Event::Pledge(r, b)),
        1 => school_list().prop_map(Event::List),
    ];
    proptest::collection::vec(event, 1..25)
}

/// Runs a campaign through the incremental allocator, counting
/// participations one at a time, and publishes it as open data.
fn run_campaign(events: &[Event]) -> OpenData {
    let mut allocator = Allocator::new();
    let mut participations = 0;
    let mut data = OpenData {
        participations: 0,
        pledges: Vec::new(),
        school_lists: Vec::new(),
        books: Vec::new(),
    };
    let record = |data: &mut OpenData, funding: super::Funding| {
        for book in funding.funded.into_iter().flatten() {
            data.books.push(BookRecord {
                book,
                status: BookState::Funded,
                school: None,
                list_version: None,
            });
        }
        for allocation in funding.allocated {
            let record = &mut data.books[allocation.book as usize - 1];
            record.status = BookState::Allocated;
            record.school = Some(allocation.school);
            record.list_version = Some(allocation.list_version);
        }
    };
    for event in events {
        match event {
            Event::Participations(count) => {
                for _ in 0..*count {
                    participations += 1;
                    let funding = allocator.count(participations);
                    record(&mut data, funding);
                }
            }
            Event::Pledge(r, b) => {
                let pledge = Pledge {
                    sponsor: format!("sponsor {}", data.pledges.len() + 1),
                    participations_per_book: *r,
                    book_cap: *b,
                };
                let funding = allocator
                    .pledge(pledge.clone(), participations)
                    .expect("valid pledge");
                data.pledges.push(pledge);
                record(&mut data, funding);
            }
            Event::List(list) => {
                let version = data.school_lists.len() as u32 + 1;
                let (first_book, funding) = allocator.apply_list(version, list.clone());
                data.school_lists.push(SchoolListVersion {
                    version,
                    first_book,
                    schools: list.iter().map(listed).collect(),
                });
                record(&mut data, funding);
            }
        }
    }
    data.participations = participations;
    data
}

proptest! {
    #[test]
    fn the_incremental_apportionment_equals_the_naive_batch(list in school_list(), seats in 0usize..60) {
        let mut allocator = Allocator::new();
        allocator.pledge(Pledge { sponsor: "s".into(), participations_per_book: 1, book_cap: 1_000 }, 0).unwrap();
        allocator.apply_list(1, list.clone());
        let funding = allocator.count(seats as u64);
        let got: Vec<String> = funding.allocated.into_iter().map(|a| a.school).collect();
        prop_assert_eq!(got, naive_batch(&list, seats), "seats of {:?}", list);
    }

    #[test]
    fn funded_books_never_change_and_caps_hold(events in events(), more in 1u64..200) {
        let before = run_campaign(&events);
        let mut longer = events.clone();
        longer.push(Event::Pledge(1, 100));
        longer.push(Event::Participations(more));
        let after = run_campaign(&longer);
        prop_assert!(after.books.len() >= before.books.len(), "books are never unfunded");
        for (old, new) in before.books.iter().zip(&after.books) {
            if old.school.is_some() {
                prop_assert_eq!(old, new, "an allocated book never moves");
            }
        }
        // Caps: no school holds more books than the target of any list
        // version that gave it one.
        let mut held: HashMap<&str, u32> = HashMap::new();
        for book in &after.books {
            let (Some(school), Some(version)) = (&book.school, book.list_version) else { continue };
            let count = held.entry(school).or_default();
            *count += 1;
            let list = &after.school_lists[version as usize - 1];
            let cap = list.schools.iter().find(|s| &s.school.id == school).map(|s| s.target_books);
            prop_assert!(cap.is_some_and(|cap| *count <= cap), "{school} over its cap in version {version}");
        }
    }

    #[test]
    fn two_computations_agree_and_verify_passes(events in events()) {
        let data = run_campaign(&events);
        let report = verify(&data);
        prop_assert!(report.passed(), "verify: {:?}", report.differences);
        prop_assert_eq!(report.books_checked, data.books.len() as u64, "every book checked");

        // Through the published files: a second, independent reading.
        let dir = tempfile::tempdir().unwrap();
        data.write_dir(dir.path()).unwrap();
        let from_csv = OpenData::read_csv_dir(dir.path()).unwrap();
        prop_assert_eq!(&from_csv, &data, "CSV round trip");
        prop_assert_eq!(OpenData::read_json_dir(dir.path()).unwrap(), data, "JSON round trip");
    }

    #[test]
    fn verify_notices_one_changed_school(events in events(), pick in any::<prop::sample::Index>()) {
        let mut data = run_campaign(&events);
        let allocated: Vec<usize> = (0..data.books.len()).filter(|&i| data.books[i].school.is_some()).collect();
        prop_assume!(!allocated.is_empty());
        let index = allocated[pick.index(allocated.len())];
        let original = data.books[index].school.clone();
        data.books[index].school = Some("tampered".into());
        let report = verify(&data);
        prop_assert!(
            report.differences.contains(&Difference::School {
                book: index as u64 + 1,
                expected: original,
                found: Some("tampered".into()),
            }),
            "the changed book is reported: {:?}", report.differences
        );
    }
}
