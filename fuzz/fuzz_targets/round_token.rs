//! Fuzz target: the round token parser (`server::token::TokenKey::verify`),
//! which every finish runs on client text before believing any of it.
//!
//! Input: a mode byte, then ([`dream_fairy_fuzz::TokenMode`]):
//!
//! - `Text`: a token as a client sends it (bytes that are not UTF-8 end
//!   the run early). Verifying never panics, and only a token the key
//!   signed verifies, so one that does re-signs to exactly its own text.
//! - `SignedPayload`: the signed part of a token. The target appends its
//!   tag under the fuzz key, as if the server had signed it, which takes
//!   the fuzzer past the signature into the claims parser (version, ids,
//!   referral code). Same checks: no panic, and claims that parse re-sign
//!   to the same token, so every token has one encoding.
//! - `Claims`: material for claims (`arbitrary`), signed, then verified
//!   back to the very same claims.

#![no_main]

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use dream_fairy_fuzz::TokenMode;
use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use server::domain::{PlayerId, RoundId, ShareCode};
use server::token::{RoundClaims, TokenKey};
use sim::Seed;

fuzz_target!(|data: &[u8]| {
    let Some((mode, rest)) = TokenMode::split(data) else {
        return;
    };
    let key = dream_fairy_fuzz::token_key();
    match mode {
        TokenMode::Text => {
            if let Ok(text) = std::str::from_utf8(rest) {
                check_round_trip(&key, text);
            }
        }
        TokenMode::SignedPayload => {
            let token = URL_SAFE_NO_PAD.encode([rest, &dream_fairy_fuzz::tag(rest)].concat());
            check_round_trip(&key, &token);
        }
        TokenMode::Claims => {
            if let Ok(claims) = claims(&mut Unstructured::new(rest)) {
                let token = key.sign(&claims);
                assert_eq!(
                    key.verify(&token),
                    Ok(claims),
                    "signed claims verify back: {token}"
                );
            }
        }
    }
});

/// Verifies `token`; if it verifies, its claims must sign to `token` again.
fn check_round_trip(key: &TokenKey, token: &str) {
    if let Ok(claims) = key.verify(token) {
        assert_eq!(
            key.sign(&claims),
            token,
            "a token that verifies is its claims' one token"
        );
    }
}

/// Claims of any value a server could sign.
fn claims(u: &mut Unstructured<'_>) -> Result<RoundClaims> {
    Ok(RoundClaims {
        round: RoundId::from_bytes(u.arbitrary()?),
        player: PlayerId::from_bytes(u.arbitrary()?),
        seed: Seed(u.arbitrary()?),
        issued_at_ms: u.arbitrary()?,
        rules_version: u.arbitrary()?,
        referral: u.arbitrary::<Option<u64>>()?.map(ShareCode::from_bits),
    })
}
