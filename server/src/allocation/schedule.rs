//! Sponsor pledges and the participation count at which each book is funded.
//!
//! Pledges are used in the order they were made. Pledge `i` says "one book
//! per `r_i` participations, up to `B_i` books"; it covers the `B_i` books
//! after those of the earlier pledges, and the `B_i * r_i` participations
//! after theirs. Book `k` (from 1) is funded by the participation whose
//! number equals its *threshold*: the participations of the earlier pledges
//! plus `j * r_i`, `j` being `k`'s rank within its pledge. Participations
//! beyond the last pledge wait for a sponsor; a new pledge picks them up, so
//! a pledge can fund many books at once.

use serde::{Deserialize, Serialize};

/// One sponsor pledge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pledge {
    /// Who pledged.
    pub sponsor: String,
    /// Participations that fund one book (at least 1).
    pub participations_per_book: u64,
    /// Most books this pledge funds.
    pub book_cap: u64,
}

/// Why a pledge cannot be added.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PledgeError {
    /// `participations_per_book` was 0.
    #[error("a book needs at least one participation")]
    NoParticipationsPerBook,
    /// `book_cap` was 0.
    #[error("a pledge funds at least one book")]
    NoBooks,
    /// The campaign would count more participations than fit in 64 bits.
    #[error("the pledges add up to more participations than can be counted")]
    TooLarge,
}

/// Where a participation stands in the pledges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    /// It counts toward `book`, funded when participation `threshold` is
    /// counted (`threshold` >= the participation's number).
    Book {
        /// The book, from 1.
        book: u64,
        /// The participation number that funds it.
        threshold: u64,
    },
    /// It is beyond every pledge.
    AwaitingSponsor,
}

/// One pledge's place in the schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Span {
    pledge: Pledge,
    /// Books of the earlier pledges.
    books_before: u64,
    /// Participations of the earlier pledges.
    participations_before: u64,
}

/// The pledges in order, with the cumulative books and participations before
/// each, so that any lookup is a binary search.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PledgeSchedule {
    spans: Vec<Span>,
    books: u64,
    participations: u64,
}

impl PledgeSchedule {
    /// The schedule of `pledges`, in order.
    pub fn new(pledges: impl IntoIterator<Item = Pledge>) -> Result<Self, PledgeError> {
        let mut schedule = Self::default();
        for pledge in pledges {
            schedule.push(pledge)?;
        }
        Ok(schedule)
    }

    /// Adds `pledge` after the others.
    pub fn push(&mut self, pledge: Pledge) -> Result<(), PledgeError> {
        if pledge.participations_per_book == 0 {
            return Err(PledgeError::NoParticipationsPerBook);
        }
        if pledge.book_cap == 0 {
            return Err(PledgeError::NoBooks);
        }
        let participations = pledge
            .participations_per_book
            .checked_mul(pledge.book_cap)
            .and_then(|span| span.checked_add(self.participations))
            .ok_or(PledgeError::TooLarge)?;
        let books = self
            .books
            .checked_add(pledge.book_cap)
            .ok_or(PledgeError::TooLarge)?;
        self.spans.push(Span {
            pledge,
            books_before: self.books,
            participations_before: self.participations,
        });
        self.books = books;
        self.participations = participations;
        Ok(())
    }

    /// The pledges, in order.
    pub fn pledges(&self) -> impl Iterator<Item = &Pledge> {
        self.spans.iter().map(|span| &span.pledge)
    }

    /// Books all pledges together fund.
    pub fn books(&self) -> u64 {
        self.books
    }

    /// Participations all pledges together need.
    pub fn participations(&self) -> u64 {
        self.participations
    }

    /// Where participation `number` (from 1) counts.
    pub fn slot(&self, number: u64) -> Slot {
        if number == 0 || number > self.participations {
            return Slot::AwaitingSponsor;
        }
        // The last span starting before `number`.
        let index = self
            .spans
            .partition_point(|span| span.participations_before < number)
            - 1;
        let span = &self.spans[index];
        let per_book = span.pledge.participations_per_book;
        let rank = (number - span.participations_before).div_ceil(per_book);
        Slot::Book {
            book: span.books_before + rank,
            threshold: span.participations_before + rank * per_book,
        }
    }

    /// The participation number that funds `book` (from 1), if a pledge
    /// covers it.
    pub fn threshold(&self, book: u64) -> Option<u64> {
        if book == 0 || book > self.books {
            return None;
        }
        let index = self.spans.partition_point(|span| span.books_before < book) - 1;
        let span = &self.spans[index];
        Some(
            span.participations_before
                + (book - span.books_before) * span.pledge.participations_per_book,
        )
    }

    /// Books funded once `participations` have been counted.
    pub fn books_funded(&self, participations: u64) -> u64 {
        match self.slot(participations) {
            Slot::AwaitingSponsor if participations > 0 => self.books,
            Slot::AwaitingSponsor => 0,
            Slot::Book { book, threshold } if threshold == participations => book,
            Slot::Book { book, .. } => book - 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pledge(participations_per_book: u64, book_cap: u64) -> Pledge {
        Pledge {
            sponsor: "sponsor".into(),
            participations_per_book,
            book_cap,
        }
    }

    /// Two pledges: 3 books at 10 participations, then 2 books at 4.
    fn schedule() -> PledgeSchedule {
        PledgeSchedule::new([pledge(10, 3), pledge(4, 2)]).unwrap()
    }

    fn check(number: u64, expected: Slot) {
        assert_eq!(schedule().slot(number), expected, "participation {number}");
    }

    #[test]
    fn participations_count_toward_the_book_of_their_pledge() {
        check(
            1,
            Slot::Book {
                book: 1,
                threshold: 10,
            },
        );
        check(
            10,
            Slot::Book {
                book: 1,
                threshold: 10,
            },
        );
        check(
            11,
            Slot::Book {
                book: 2,
                threshold: 20,
            },
        );
        check(
            30,
            Slot::Book {
                book: 3,
                threshold: 30,
            },
        );
        check(
            31,
            Slot::Book {
                book: 4,
                threshold: 34,
            },
        );
        check(
            38,
            Slot::Book {
                book: 5,
                threshold: 38,
            },
        );
        check(39, Slot::AwaitingSponsor);
        check(0, Slot::AwaitingSponsor);
    }

    #[test]
    fn thresholds_and_funded_counts_agree_with_slots() {
        let schedule = schedule();
        let thresholds: Vec<_> = (0..=6).map(|book| schedule.threshold(book)).collect();
        assert_eq!(
            thresholds,
            [None, Some(10), Some(20), Some(30), Some(34), Some(38), None],
            "thresholds"
        );
        for participations in 0..=45 {
            let funded = (1..=5)
                .filter(|&book| {
                    schedule
                        .threshold(book)
                        .is_some_and(|t| t <= participations)
                })
                .count() as u64;
            assert_eq!(
                schedule.books_funded(participations),
                funded,
                "books funded at {participations}"
            );
        }
    }

    #[test]
    fn bad_pledges_are_refused() {
        let mut schedule = PledgeSchedule::default();
        assert_eq!(
            schedule.push(pledge(0, 1)),
            Err(PledgeError::NoParticipationsPerBook)
        );
        assert_eq!(schedule.push(pledge(1, 0)), Err(PledgeError::NoBooks));
        assert_eq!(
            schedule.push(pledge(u64::MAX, 2)),
            Err(PledgeError::TooLarge)
        );
        assert_eq!(schedule.books(), 0, "nothing was added");
    }
}
