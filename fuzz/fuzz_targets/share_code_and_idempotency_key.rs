//! Fuzz target: the two parsers of short client text, the share code of a
//! link or a round's referral (`ShareCode::parse`) and the
//! `Idempotency-Key` header of a finish (`IdempotencyKey::parse` and
//! `from_headers`).
//!
//! Input: text (bytes that are not UTF-8 end the run early). Checks:
//!
//! - neither parser panics;
//! - a share code that parses has 8 characters of Crockford's base32, reads
//!   back as itself from its canonical text, and reads the same in lower
//!   case (codes are typed by people);
//! - a key that parses is 1-255 visible ASCII characters, reads back as
//!   itself, and the header path agrees with the text path wherever the
//!   text is a valid header value.

#![no_main]

use http::{HeaderMap, HeaderValue};
use libfuzzer_sys::fuzz_target;
use server::domain::ShareCode;
use server::idempotency::{self, IdempotencyKey};

/// The alphabet of canonical share codes.
const CROCKFORD: &str = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    check_share_code(text);
    check_idempotency_key(text);
});

fn check_share_code(text: &str) {
    let Ok(code) = ShareCode::parse(text) else {
        return;
    };
    let canonical = code.as_str();
    assert!(
        canonical.len() == ShareCode::LEN && canonical.chars().all(|c| CROCKFORD.contains(c)),
        "canonical: {canonical:?} from {text:?}"
    );
    assert_eq!(
        ShareCode::parse(canonical),
        Ok(code),
        "{canonical} reads back"
    );
    assert_eq!(
        ShareCode::parse(&text.to_ascii_lowercase()),
        Ok(code),
        "{text:?} in lower case"
    );
}

fn check_idempotency_key(text: &str) {
    let parsed = IdempotencyKey::parse(text);
    if let Ok(key) = &parsed {
        let inner = key.as_str();
        assert!(
            (1..=IdempotencyKey::MAX_LEN).contains(&inner.len())
                && inner
                    .bytes()
                    .all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\'),
            "visible ASCII: {inner:?} from {text:?}"
        );
        assert_eq!(
            IdempotencyKey::parse(inner).as_ref(),
            Ok(key),
            "{inner:?} reads back"
        );
    }
    if let Ok(value) = HeaderValue::from_str(text) {
        let mut headers = HeaderMap::new();
        headers.insert(idempotency::HEADER, value);
        assert_eq!(
            IdempotencyKey::from_headers(&headers),
            parsed,
            "header and text agree: {text:?}"
        );
    }
}
