//! Integration tests of the round API over real HTTP: a server on
//! 127.0.0.1:0 in a temporary data directory, driven with reqwest.

mod allocation;
mod helpers;
mod idempotency;
mod reads;
mod refusals;
mod rounds;
mod sharing;
mod static_files;
