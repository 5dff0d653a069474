//! Integration tests of the round API and the admin console over real HTTP: a server on
//! 127.0.0.1:0 in a temporary data directory, driven with reqwest.

mod admin_exports;
mod admin_security;
mod allocation;
mod backup;
mod bot_farm;
mod console;
mod helpers;
mod idempotency;
mod reads;
mod refusals;
mod rounds;
mod security_headers;
mod sharing;
mod static_files;
mod storage_faults;
