//! Integration tests of `sim` through its public API: golden replays pinned
//! to the rules version, properties of replay and decoding, and the
//! completion rates of idle, random and scripted play.

mod completion;
mod golden;
mod properties;
