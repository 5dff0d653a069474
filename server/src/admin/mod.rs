//! The foundation staff's admin console (issue 10), under `/admin`.
//!
//! - [`password`]: passwords (argon2id), hashed off the async threads.
//! - [`chart`]: bar and per-day charts drawn as inline SVG, each beside a
//!   table of its numbers ([`crate::tables`]).

pub mod chart;
pub mod password;
