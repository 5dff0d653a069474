//! End-to-end tests: the real `server` binary, the real WASM build, headless
//! Chromium. One test binary, so the slow parts build once.
//!
//! Run them with `cargo xtask test`, which builds what they drive first.

mod admin;
mod browser_smoke;
mod crash;
mod gameplay;
mod scale_out;
mod session;
mod sharing;
