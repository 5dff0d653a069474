//! What the fuzz targets (`fuzz_targets/`) and the seed corpus generator
//! (`examples/seed_corpus.rs`) share: the fixed key, round and clock the
//! targets check against, and how each target lays out its input bytes, so
//! the generator writes seeds the targets read the way they were meant.
//!
//! Run the targets with `cargo xtask fuzz`; regenerate the seed corpus with
//! `cargo xtask fuzz --seed-corpus`.

use hmac::{Hmac, Mac as _};
use server::domain::RoundId;
use server::token::TokenKey;
use sha2::Sha256;
use sim::Seed;

/// The secret of the fuzz targets' token key. Public on purpose: the seed
/// corpus holds tokens signed with it, so the targets reach past the
/// signature check.
pub const SECRET: &[u8; 32] = b"dream-fairy-library fuzz secret.";

/// The token key every target verifies with.
pub fn token_key() -> TokenKey {
    TokenKey::new(SECRET).expect("the fuzz secret is 32 bytes")
}

/// The HMAC-SHA256 tag of `signed` under [`SECRET`], computed here from the
/// token format (`server::token`), not by the server: `round_token` signs
/// arbitrary payloads with it to reach the claims parser behind the
/// signature.
pub fn tag(signed: &[u8]) -> [u8; 32] {
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET).expect("HMAC takes any key");
    mac.update(signed);
    mac.finalize().into_bytes().into()
}

/// The round every `finish_body` request finishes (its URL's round id).
pub fn round() -> RoundId {
    RoundId::from_bytes(*b"fuzz round id 01")
}

/// The server's clock for `finish_body`, in milliseconds since the Unix
/// epoch (2026-05-28): fixed, so a run is reproducible.
pub const NOW_MS: u64 = 1_780_000_000_000;

/// Bytes of seed in front of an `input_log_replay` input.
pub const SEED_BYTES: usize = 8;

/// Splits an `input_log_replay` input into its seed (the first
/// [`SEED_BYTES`], little-endian, padded with zeros when shorter) and the
/// encoded log (the rest).
pub fn split_seed(data: &[u8]) -> (Seed, &[u8]) {
    let (seed_bytes, log) = data.split_at(data.len().min(SEED_BYTES));
    let mut seed = [0; SEED_BYTES];
    seed[..seed_bytes.len()].copy_from_slice(seed_bytes);
    (Seed(u64::from_le_bytes(seed)), log)
}

/// The `input_log_replay` input for `seed` and an encoded log.
pub fn join_seed(seed: Seed, log: &[u8]) -> Vec<u8> {
    [&seed.0.to_le_bytes()[..], log].concat()
}

/// What a `round_token` input is, told by its first byte (modulo 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenMode {
    /// The rest is a token's text, as a client sends it.
    Text = 0,
    /// The rest is the signed part of a token: the target appends the tag
    /// ([`tag`]) and encodes it, to fuzz the claims parser behind the
    /// signature.
    SignedPayload = 1,
    /// The rest is raw material for claims (`arbitrary`): signed, then
    /// verified back.
    Claims = 2,
}

impl TokenMode {
    /// The mode of an input and the bytes after its mode byte.
    pub fn split(data: &[u8]) -> Option<(TokenMode, &[u8])> {
        let (&mode, rest) = data.split_first()?;
        let mode = match mode % 3 {
            0 => TokenMode::Text,
            1 => TokenMode::SignedPayload,
            _ => TokenMode::Claims,
        };
        Some((mode, rest))
    }

    /// An input of this mode.
    pub fn join(self, rest: &[u8]) -> Vec<u8> {
        [&[self as u8][..], rest].concat()
    }
}
