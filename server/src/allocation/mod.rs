//! From participations to books to schools, with no database: the rule of
//! the campaign as pure functions, so that the server, `server verify` and
//! anyone with the open data compute the same thing.
//!
//! - [`schedule`]: sponsor pledges, used in order; which participation funds
//!   which book.
//! - [`apportion`]: capped Sainte-Laguë apportionment by pupils, one seat per
//!   book, O(log schools) per seat.
//! - [`allocator`]: the two together, moved forward incrementally as
//!   participations are counted, pledges made and school lists imported (a
//!   new list applies from the first book without a school; books with a
//!   school never move).
//! - [`open_data`]: the published export and [`open_data::verify`], which
//!   re-derives every allocation from it.
//! - [`report`]: the public aggregates (books by province, county and
//!   school, against targets), built from per-school tallies.
//! - [`drill_down`]: the same aggregates for any period, level by level
//!   (national → province → prefecture → county → school), from the
//!   per-day tallies; shown in the admin console and at `/report`.

pub mod allocator;
pub mod apportion;
pub mod drill_down;
pub mod open_data;
pub mod report;
pub mod schedule;

#[cfg(test)]
mod properties;

pub use allocator::{Allocation, Allocator, BookProgress, Funding};
pub use apportion::{Apportionment, Candidate};
pub use open_data::{
    BookRecord, BookState, Difference, ListedSchool, OpenData, SchoolListVersion, VerifyReport,
    verify,
};
pub use report::{Report, SchoolTally, SharingFigures, TopCode};
pub use schedule::{Pledge, PledgeError, PledgeSchedule, Slot};
