//! The incremental allocator the ledger writer keeps in memory: the pledge
//! schedule, the apportionment, and how many books are funded, moved forward
//! as participations are counted, pledges made and school lists imported.

use std::collections::HashMap;
use std::ops::RangeInclusive;

use super::apportion::{Apportionment, Candidate};
use super::schedule::{Pledge, PledgeError, PledgeSchedule, Slot};

/// A book given a school.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allocation {
    /// The book, from 1.
    pub book: u64,
    /// The school's id.
    pub school: String,
    /// The list version that chose it.
    pub list_version: u32,
}

/// What one step of the allocator changed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Funding {
    /// Books funded by this step (empty when none).
    pub funded: Option<RangeInclusive<u64>>,
    /// Books allocated by this step, in order: the newly funded ones that
    /// found a school, and earlier funded books that were waiting for one.
    pub allocated: Vec<Allocation>,
}

/// Where a participation's book stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BookProgress {
    /// The book is funded and has a school.
    Allocated {
        /// The book.
        book: u64,
    },
    /// The book is funded but no school of the current list has room.
    Unallocated {
        /// The book.
        book: u64,
    },
    /// The book still needs participations.
    Filling {
        /// The book.
        book: u64,
        /// How many more.
        participations_needed: u64,
    },
    /// Beyond every pledge.
    AwaitingSponsor,
}

/// Where participation `number` stands once `counted` participations are
/// counted and `allocated` books have a school (books get schools in order,
/// so "allocated" is a prefix).
pub fn progress(
    schedule: &PledgeSchedule,
    number: u64,
    counted: u64,
    allocated: u64,
) -> BookProgress {
    match schedule.slot(number) {
        Slot::AwaitingSponsor => BookProgress::AwaitingSponsor,
        Slot::Book { book, threshold } if threshold > counted => BookProgress::Filling {
            book,
            participations_needed: threshold - counted,
        },
        Slot::Book { book, .. } if book <= allocated => BookProgress::Allocated { book },
        Slot::Book { book, .. } => BookProgress::Unallocated { book },
    }
}

/// The allocation state of a campaign.
#[derive(Debug, Clone, Default)]
pub struct Allocator {
    schedule: PledgeSchedule,
    apportionment: Apportionment,
    /// Books funded so far.
    funded: u64,
    /// The list version in effect.
    list_version: Option<u32>,
}

impl Allocator {
    /// A campaign with no pledge and no school list.
    pub fn new() -> Self {
        Self::default()
    }

    /// Resumes a campaign: `schedule`, `funded` books funded, `seats` held by
    /// school id (as many as books allocated), and the list in effect.
    pub fn resume(
        schedule: PledgeSchedule,
        funded: u64,
        seats: HashMap<String, u32>,
        list: Option<(u32, Vec<Candidate>)>,
    ) -> Self {
        let allocated = seats.values().map(|&held| u64::from(held)).sum();
        let (list_version, candidates) = list.unzip();
        Self {
            schedule,
            apportionment: Apportionment::resume(seats, allocated, candidates.unwrap_or_default()),
            funded,
            list_version,
        }
    }

    /// Moves the campaign to `participations` counted, funding the books it
    /// reaches.
    pub fn count(&mut self, participations: u64) -> Funding {
        let target = self.schedule.books_funded(participations).max(self.funded);
        let mut funding = Funding::default();
        if target > self.funded {
            funding.funded = Some(self.funded + 1..=target);
            self.funded = target;
        }
        self.allocate_pending(&mut funding);
        funding
    }

    /// Adds `pledge` after the others, with `participations` counted so far:
    /// participations that were waiting for a sponsor may fund books at once.
    pub fn pledge(&mut self, pledge: Pledge, participations: u64) -> Result<Funding, PledgeError> {
        self.schedule.push(pledge)?;
        Ok(self.count(participations))
    }

    /// Makes `list` (version `version`) the list from the first book without
    /// a school on, and allocates the funded books that were waiting for one.
    /// Returns that first book and what was allocated.
    pub fn apply_list(&mut self, version: u32, list: Vec<Candidate>) -> (u64, Funding) {
        let first_book = self.allocated() + 1;
        self.apportionment.apply_list(list);
        self.list_version = Some(version);
        let mut funding = Funding::default();
        self.allocate_pending(&mut funding);
        (first_book, funding)
    }

    /// Gives schools to funded books, in order, while a school has room.
    fn allocate_pending(&mut self, funding: &mut Funding) {
        let Some(list_version) = self.list_version else {
            return;
        };
        while self.allocated() < self.funded {
            let Some(candidate) = self.apportionment.next_seat() else {
                break;
            };
            let school = candidate.school.clone();
            funding.allocated.push(Allocation {
                book: self.apportionment.handed_out(),
                school,
                list_version,
            });
        }
    }

    /// Books funded.
    pub fn funded(&self) -> u64 {
        self.funded
    }

    /// Books with a school (always the first ones).
    pub fn allocated(&self) -> u64 {
        self.apportionment.handed_out()
    }

    /// The school list version in effect, if any list was imported.
    pub fn list_version(&self) -> Option<u32> {
        self.list_version
    }

    /// The pledges.
    pub fn schedule(&self) -> &PledgeSchedule {
        &self.schedule
    }

    /// Where participation `number` stands once `counted` are counted.
    pub fn progress(&self, number: u64, counted: u64) -> BookProgress {
        progress(&self.schedule, number, counted, self.allocated())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pledge(participations_per_book: u64, book_cap: u64) -> Pledge {
        Pledge {
            sponsor: "s".into(),
            participations_per_book,
            book_cap,
        }
    }

    #[test]
    fn books_wait_for_a_list_then_take_its_first_seats() {
        let mut allocator = Allocator::new();
        let funding = allocator.pledge(pledge(2, 3), 5).unwrap();
        assert_eq!(
            funding.funded,
            Some(1..=2),
            "5 participations fund books 1 and 2"
        );
        assert!(funding.allocated.is_empty(), "no list yet");
        assert_eq!(
            allocator.progress(3, 5),
            BookProgress::Unallocated { book: 2 },
            "participation 3 funded book 2, which waits for a school"
        );
        let (first_book, funding) = allocator.apply_list(
            1,
            vec![Candidate::new("A", 3, 9), Candidate::new("B", 1, 9)],
        );
        assert_eq!(
            first_book, 1,
            "the list applies from the first book without a school"
        );
        let schools: Vec<_> = funding
            .allocated
            .iter()
            .map(|a| (a.book, a.school.as_str()))
            .collect();
        // A (3) first; then A (3/3) and B (1/1) tie and A has the smaller id.
        assert_eq!(schools, [(1, "A"), (2, "A")], "seats by Sainte-Lague");
        let funding = allocator.count(6);
        assert_eq!(funding.funded, Some(3..=3), "participation 6 funds book 3");
        assert_eq!(
            funding.allocated,
            [Allocation {
                book: 3,
                school: "B".into(),
                list_version: 1
            }],
            "B (1/1) beats A (3/5)"
        );
        assert_eq!(
            allocator.progress(7, 7),
            BookProgress::AwaitingSponsor,
            "beyond the 3-book pledge"
        );
        assert_eq!(
            allocator.progress(1, 1),
            BookProgress::Filling {
                book: 1,
                participations_needed: 1
            },
            "as it stood when participation 1 was counted"
        );
    }
}
