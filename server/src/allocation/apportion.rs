//! Capped Sainte-Laguë (Webster) apportionment, one seat at a time.
//!
//! Every seat goes to the eligible school with the highest *average*
//! `pupils / (2s + 1)`, where `s` is the number of seats the school already
//! holds. A school stops receiving seats once it holds `cap` of them. This is
//! a highest-averages method, so it is house-monotone: the `k`-th seat never
//! changes when more seats are handed out, which is what lets book `k` go to
//! the `k`-th seat the moment it is funded.
//!
//! The schools still able to receive a seat sit in a max-heap keyed by their
//! current average, so each seat costs O(log schools).
//!
//! Averages are compared exactly, as cross-multiplied integers
//! (`pupils_a * (2s_b + 1)` against `pupils_b * (2s_a + 1)` in `u128`): two
//! processes on any platform agree on every comparison, ties included, which
//! floating point would not guarantee.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap};

use serde::{Deserialize, Serialize};

/// A school as the apportionment sees it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Candidate {
    /// The school's id (ties between equal averages are broken by it).
    pub school: String,
    /// Pupils enrolled: the weight of the school.
    pub pupils: u32,
    /// Most books the school may receive in total (its target).
    pub cap: u32,
}

impl Candidate {
    /// School `school` with `pupils` pupils and room for `cap` books.
    pub fn new(school: impl Into<String>, pupils: u32, cap: u32) -> Self {
        Self {
            school: school.into(),
            pupils,
            cap,
        }
    }
}

/// A school's claim on the next seat: its weight, the divisor `2s + 1` of
/// the seats it holds, and its position in the id-sorted list (for ties).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Claim {
    pupils: u32,
    divisor: u64,
    position: u32,
}

impl Ord for Claim {
    /// Greater means "gets the seat first": the higher average, and among
    /// equal averages the *smaller school id* (lower `position` in the list
    /// sorted by id). Smaller-id-first is the order anyone gets by sorting the
    /// published list, with no locale involved (ids compare as UTF-8 bytes),
    /// so the rule is easy to state and to re-derive.
    fn cmp(&self, other: &Self) -> Ordering {
        let ours = u128::from(self.pupils) * u128::from(other.divisor);
        let theirs = u128::from(other.pupils) * u128::from(self.divisor);
        ours.cmp(&theirs)
            .then_with(|| other.position.cmp(&self.position))
    }
}

impl PartialOrd for Claim {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// An apportionment in progress: the current school list, the seats every
/// school ever listed holds, and the heap of claims on the next seat.
///
/// A new list ([`Apportionment::apply_list`]) takes effect from the next
/// seat. Seats already handed out never move. A school in the new list keeps
/// the seats it holds (so its divisor and its cap carry on where they were);
/// a school missing from the new list receives no further seat; a school
/// that comes back later continues from the seats it held. All of this
/// depends only on the published lists and the published seats.
#[derive(Debug, Clone, Default)]
pub struct Apportionment {
    /// The list in effect, sorted by school id.
    list: Vec<Candidate>,
    /// Seats held, by school id, over every list so far.
    seats: HashMap<String, u32>,
    claims: BinaryHeap<Claim>,
    /// Seats handed out so far.
    handed_out: u64,
}

impl Apportionment {
    /// An apportionment with no list yet: it hands out no seat until one is
    /// applied.
    pub fn new() -> Self {
        Self::default()
    }

    /// Resumes an apportionment that has handed out `handed_out` seats, held
    /// as `seats` (by school id), with `list` in effect from the next seat.
    pub fn resume(seats: HashMap<String, u32>, handed_out: u64, list: Vec<Candidate>) -> Self {
        let mut apportionment = Self {
            seats,
            handed_out,
            ..Self::default()
        };
        apportionment.apply_list(list);
        apportionment
    }

    /// Makes `list` the list from the next seat on. Duplicate ids keep their
    /// first entry (imports refuse duplicates; this only keeps the
    /// apportionment well defined). Schools with no pupils or a cap of zero
    /// never receive a seat.
    pub fn apply_list(&mut self, mut list: Vec<Candidate>) {
        list.sort_by(|a, b| a.school.cmp(&b.school));
        list.dedup_by(|later, earlier| later.school == earlier.school);
        self.claims = list
            .iter()
            .enumerate()
            .filter_map(|(position, candidate)| {
                let held = self.seats_of(&candidate.school);
                let eligible = candidate.pupils > 0 && held < candidate.cap;
                // A list longer than u32::MAX schools cannot be imported;
                // skipping such a school keeps this total rather than panicking.
                let position = u32::try_from(position).ok()?;
                eligible.then_some(Claim {
                    pupils: candidate.pupils,
                    divisor: 2 * u64::from(held) + 1,
                    position,
                })
            })
            .collect();
        self.list = list;
    }

    /// Hands out the next seat: the school that receives it, or `None` when
    /// every school of the current list is at its cap (or there is no list).
    pub fn next_seat(&mut self) -> Option<&Candidate> {
        let mut claim = self.claims.pop()?;
        let candidate = &self.list[claim.position as usize];
        let held = self.seats.entry(candidate.school.clone()).or_default();
        *held += 1;
        if *held < candidate.cap {
            claim.divisor += 2;
            self.claims.push(claim);
        }
        self.handed_out += 1;
        Some(candidate)
    }

    /// Seats handed out so far, over every list.
    pub fn handed_out(&self) -> u64 {
        self.handed_out
    }

    /// Seats `school` holds.
    pub fn seats_of(&self, school: &str) -> u32 {
        self.seats.get(school).copied().unwrap_or(0)
    }

    /// The list in effect, sorted by school id.
    pub fn list(&self) -> &[Candidate] {
        &self.list
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hands out `seats` seats under `list` and names the schools in order.
    fn check(list: &[Candidate], seats: usize, expected: &[&str]) {
        let mut apportionment = Apportionment::new();
        apportionment.apply_list(list.to_vec());
        let got: Vec<String> = (0..seats)
            .map_while(|_| apportionment.next_seat().map(|c| c.school.clone()))
            .collect();
        assert_eq!(got, expected, "seats of {list:?}");
    }

    #[test]
    fn seats_follow_the_highest_average() {
        // A 7, B 5, A 7/3, B 5/3, A 7/5; then A (7/7), B (5/5) and C (1/1)
        // all average exactly 1 and go in id order; then A 7/9.
        check(
            &[
                Candidate::new("A", 7, 10),
                Candidate::new("B", 5, 10),
                Candidate::new("C", 1, 10),
            ],
            9,
            &["A", "B", "A", "B", "A", "A", "B", "C", "A"],
        );
    }

    #[test]
    fn equal_averages_go_to_the_smaller_id_and_are_compared_exactly() {
        // 3/1 and 9/3 are exactly equal: "a" < "b" wins both times it ties.
        check(
            &[Candidate::new("b", 9, 10), Candidate::new("a", 3, 10)],
            3,
            &["b", "a", "b"],
        );
        check(
            &[Candidate::new("x2", 4, 9), Candidate::new("x1", 4, 9)],
            2,
            &["x1", "x2"],
        );
    }

    #[test]
    fn caps_stop_a_school_and_an_empty_heap_stops_everything() {
        check(
            &[
                Candidate::new("big", 1_000, 2),
                Candidate::new("small", 1, 1),
            ],
            10,
            &["big", "big", "small"],
        );
        check(
            &[Candidate::new("none", 0, 5), Candidate::new("zero", 5, 0)],
            3,
            &[],
        );
    }

    #[test]
    fn a_new_list_keeps_the_seats_held_and_drops_absent_schools() {
        let mut apportionment = Apportionment::new();
        apportionment.apply_list(vec![Candidate::new("A", 10, 5), Candidate::new("B", 10, 5)]);
        let first: Vec<_> = (0..2)
            .map(|_| apportionment.next_seat().unwrap().school.clone())
            .collect();
        assert_eq!(first, ["A", "B"], "one each under the first list");
        // B leaves, C joins with the same weight: A holds 1 seat (average
        // 10/3), C holds none (average 10), so C goes first, then C again
        // (10/3 ties with A's 10/3: A has the smaller id).
        apportionment.apply_list(vec![Candidate::new("A", 10, 5), Candidate::new("C", 10, 5)]);
        let next: Vec<_> = (0..3)
            .map(|_| apportionment.next_seat().unwrap().school.clone())
            .collect();
        assert_eq!(next, ["C", "A", "C"], "C catches up, B gets nothing");
        assert_eq!(apportionment.seats_of("B"), 1, "B keeps its seat");
        assert_eq!(apportionment.handed_out(), 5, "five seats in all");
    }

    #[test]
    fn resuming_equals_continuing() {
        let list = vec![
            Candidate::new("A", 13, 9),
            Candidate::new("B", 8, 9),
            Candidate::new("C", 5, 2),
        ];
        let mut continuing = Apportionment::new();
        continuing.apply_list(list.clone());
        let mut seats = HashMap::new();
        for _ in 0..6 {
            let school = continuing.next_seat().unwrap().school.clone();
            *seats.entry(school).or_insert(0) += 1;
        }
        let mut resumed = Apportionment::resume(seats, 6, list);
        for seat in 7..=14 {
            assert_eq!(
                resumed.next_seat().map(|c| c.school.clone()),
                continuing.next_seat().map(|c| c.school.clone()),
                "seat {seat}"
            );
        }
    }
}
