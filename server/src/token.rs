//! Round tokens: the server's signature on a round it started.
//!
//! Starting a round writes nothing to the database, so everything the finish
//! request needs to know about the start travels in the token, signed with
//! HMAC-SHA256 under a server secret:
//!
//! ```text
//! base64url( version:u8 | round:16 | player:16 | seed:u64 | issued_at_ms:u64
//!            | rules_version:u32 | referral_len:u8 | referral | tag:32 )
//! ```
//!
//! Integers are big-endian. The tag covers every byte before it and is checked
//! in constant time.

use std::fs;
use std::io::{self, Write as _};
use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use sim::Seed;

use crate::domain::{PlayerId, RoundId, ShareCode};

type HmacSha256 = Hmac<Sha256>;

/// Layout version, first byte of every token.
const FORMAT_VERSION: u8 = 1;
/// Length of the HMAC-SHA256 tag, in bytes.
const TAG_LEN: usize = 32;
/// Bytes before the referral code: version, round, player, seed, issue time,
/// rules version, referral length.
const FIXED_LEN: usize = 1 + 16 + 16 + 8 + 8 + 4 + 1;

/// Everything the server promised when it started a round.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoundClaims {
    /// The round being played.
    pub round: RoundId,
    /// Who plays it.
    pub player: PlayerId,
    /// The seed the round must be played with.
    pub seed: Seed,
    /// When the server started the round, in milliseconds since the Unix epoch.
    pub issued_at_ms: u64,
    /// `sim::RULES_VERSION` at the start.
    pub rules_version: u32,
    /// The share link the player came from, if any.
    pub referral: Option<ShareCode>,
}

/// Why a token was refused. Both cases are answered the same way (401) so a
/// forger learns nothing from the difference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not base64url, too short, unknown layout version or bad fields.
    #[error("malformed round token")]
    Malformed,
    /// Well formed, but the signature does not match this server's secret.
    #[error("round token signature does not match")]
    BadSignature,
}

/// Why the signing secret could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// Reading or writing the secret file failed.
    #[error("secret file {path}: {source}")]
    Io {
        /// The secret file.
        path: String,
        /// The underlying error.
        source: io::Error,
    },
    /// The secret is too short to be safe.
    #[error("the token secret must be at least {min} bytes, got {got}")]
    TooShort {
        /// Minimum length, in bytes.
        min: usize,
        /// Length given, in bytes.
        got: usize,
    },
    /// The secret file does not hold hex text.
    #[error("secret file {path} does not hold a hex secret")]
    NotHex {
        /// The secret file.
        path: String,
    },
}

/// Signs and verifies round tokens. Cheap to clone.
#[derive(Clone)]
pub struct TokenKey {
    /// The MAC already keyed with the secret; cloned for every use.
    keyed: HmacSha256,
}

impl std::fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenKey(..)")
    }
}

impl TokenKey {
    /// Shortest secret accepted, in bytes (the HMAC-SHA256 output size).
    pub const MIN_SECRET_LEN: usize = 32;

    /// A key from secret bytes of at least [`Self::MIN_SECRET_LEN`].
    pub fn new(secret: &[u8]) -> Result<Self, SecretError> {
        if secret.len() < Self::MIN_SECRET_LEN {
            return Err(SecretError::TooShort {
                min: Self::MIN_SECRET_LEN,
                got: secret.len(),
            });
        }
        // HMAC takes keys of any length, so this cannot fail.
        let keyed = HmacSha256::new_from_slice(secret).map_err(|_| SecretError::TooShort {
            min: Self::MIN_SECRET_LEN,
            got: secret.len(),
        })?;
        Ok(Self { keyed })
    }

    /// Reads the hex secret at `path`, or creates it (32 random bytes, file
    /// mode 0600) if there is none, so tokens survive restarts without the
    /// operator having to manage a secret.
    pub fn load_or_create(path: &Path) -> Result<Self, SecretError> {
        let io_error = |source| SecretError::Io {
            path: path.display().to_string(),
            source,
        };
        match fs::read_to_string(path) {
            Ok(text) => {
                let secret = hex::decode(text.trim()).map_err(|_| SecretError::NotHex {
                    path: path.display().to_string(),
                })?;
                Self::new(&secret)
            }
            Err(err) if err.kind() == io::ErrorKind::NotFound => {
                let mut secret = [0u8; Self::MIN_SECRET_LEN];
                getrandom::fill(&mut secret).map_err(|err| io_error(io::Error::other(err)))?;
                write_private_file(path, hex::encode(secret).as_bytes()).map_err(io_error)?;
                tracing::info!(path = %path.display(), "generated a new token secret");
                Self::new(&secret)
            }
            Err(err) => Err(io_error(err)),
        }
    }

    /// The token for `claims`.
    pub fn sign(&self, claims: &RoundClaims) -> String {
        let referral = claims
            .referral
            .as_ref()
            .map_or("", ShareCode::as_str)
            .as_bytes();
        let referral_len = u8::try_from(referral.len()).expect("share codes are 8 bytes");
        let mut bytes = Vec::with_capacity(FIXED_LEN + referral.len() + TAG_LEN);
        bytes.push(FORMAT_VERSION);
        bytes.extend_from_slice(&claims.round.to_bytes());
        bytes.extend_from_slice(&claims.player.to_bytes());
        bytes.extend_from_slice(&claims.seed.0.to_be_bytes());
        bytes.extend_from_slice(&claims.issued_at_ms.to_be_bytes());
        bytes.extend_from_slice(&claims.rules_version.to_be_bytes());
        bytes.push(referral_len);
        bytes.extend_from_slice(referral);
        let mut mac = self.keyed.clone();
        mac.update(&bytes);
        bytes.extend_from_slice(&mac.finalize().into_bytes());
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// The claims of a token this key signed. The signature is checked (in
    /// constant time) before any field is believed.
    pub fn verify(&self, token: &str) -> Result<RoundClaims, TokenError> {
        // A real token is well under 200 characters; refuse to decode junk.
        if token.len() > 4 * (FIXED_LEN + ShareCode::LEN + TAG_LEN) / 3 + 4 {
            return Err(TokenError::Malformed);
        }
        let bytes = URL_SAFE_NO_PAD
            .decode(token)
            .map_err(|_| TokenError::Malformed)?;
        if bytes.len() < FIXED_LEN + TAG_LEN {
            return Err(TokenError::Malformed);
        }
        let (signed, tag) = bytes.split_at(bytes.len() - TAG_LEN);
        let mut mac = self.keyed.clone();
        mac.update(signed);
        mac.verify_slice(tag)
            .map_err(|_| TokenError::BadSignature)?;
        parse_claims(signed)
    }
}

/// Decodes the signed part of a token (already authenticated).
fn parse_claims(signed: &[u8]) -> Result<RoundClaims, TokenError> {
    let mut reader = Reader(signed);
    if reader.take::<1>()? != [FORMAT_VERSION] {
        return Err(TokenError::Malformed);
    }
    let round = RoundId::from_bytes(reader.take()?);
    let player = PlayerId::from_bytes(reader.take()?);
    let seed = Seed(u64::from_be_bytes(reader.take()?));
    let issued_at_ms = u64::from_be_bytes(reader.take()?);
    let rules_version = u32::from_be_bytes(reader.take()?);
    let [referral_len] = reader.take::<1>()?;
    let referral_bytes = reader.0;
    if referral_bytes.len() != usize::from(referral_len) {
        return Err(TokenError::Malformed);
    }
    let referral = match referral_bytes {
        [] => None,
        bytes => {
            let text = std::str::from_utf8(bytes).map_err(|_| TokenError::Malformed)?;
            let code = ShareCode::parse(text).map_err(|_| TokenError::Malformed)?;
            // `sign` writes the canonical spelling; another one (lower case,
            // O for 0) is not a token this server made, and would give the
            // same claims a second token.
            if code.as_str() != text {
                return Err(TokenError::Malformed);
            }
            Some(code)
        }
    };
    Ok(RoundClaims {
        round,
        player,
        seed,
        issued_at_ms,
        rules_version,
        referral,
    })
}

/// Reads fixed-size fields off the front of a byte slice.
struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn take<const N: usize>(&mut self) -> Result<[u8; N], TokenError> {
        let (head, rest) = self
            .0
            .split_first_chunk::<N>()
            .ok_or(TokenError::Malformed)?;
        self.0 = rest;
        Ok(*head)
    }
}

/// Creates `path` readable and writable by its owner only, failing if it
/// already exists (so a concurrent first start cannot swap the secret).
fn write_private_file(path: &Path, contents: &[u8]) -> io::Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(contents)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> TokenKey {
        TokenKey::new(&[byte; 32]).unwrap()
    }

    fn claims(referral: Option<&str>) -> RoundClaims {
        RoundClaims {
            round: RoundId::random(),
            player: PlayerId::random(),
            seed: Seed(0xDEAD_BEEF_0123_4567),
            issued_at_ms: 1_559_318_400_000,
            rules_version: 7,
            referral: referral.map(|code| ShareCode::parse(code).unwrap()),
        }
    }

    #[test]
    fn a_signed_token_verifies_to_the_same_claims() {
        for referral in [None, Some("7K3M9QRT")] {
            let claims = claims(referral);
            let token = key(1).sign(&claims);
            assert_eq!(
                key(1).verify(&token),
                Ok(claims),
                "round trip with referral {referral:?}"
            );
        }
    }

    #[test]
    fn another_secret_does_not_verify() {
        let token = key(1).sign(&claims(None));
        assert_eq!(key(2).verify(&token), Err(TokenError::BadSignature));
    }

    #[test]
    fn every_flipped_byte_is_caught() {
        let token = key(1).sign(&claims(Some("7K3M9QRT")));
        let bytes = URL_SAFE_NO_PAD.decode(&token).unwrap();
        for index in 0..bytes.len() {
            let mut forged = bytes.clone();
            forged[index] ^= 0x01;
            let forged = URL_SAFE_NO_PAD.encode(forged);
            assert_eq!(
                key(1).verify(&forged),
                Err(TokenError::BadSignature),
                "flipping byte {index} must break the signature"
            );
        }
    }

    #[test]
    fn a_referral_signed_in_another_spelling_is_malformed() {
        // Found by the `round_token` fuzz target: a payload whose referral
        // reads as a code only after case folding and look-alikes verified,
        // and re-signed to another token.
        let key = key(1);
        let token = key.sign(&claims(Some("7K309QDT")));
        let mut signed = URL_SAFE_NO_PAD.decode(&token).unwrap();
        signed.truncate(signed.len() - TAG_LEN);
        let referral_at = signed.len() - ShareCode::LEN;
        signed[referral_at..].copy_from_slice(b"7K3O9QdT");
        let mut mac = key.keyed.clone();
        mac.update(&signed);
        signed.extend_from_slice(&mac.finalize().into_bytes());
        assert_eq!(
            key.verify(&URL_SAFE_NO_PAD.encode(signed)),
            Err(TokenError::Malformed),
            "only the canonical spelling `sign` writes is a token"
        );
    }

    #[test]
    fn junk_is_malformed_not_a_panic() {
        for junk in ["", "!!!", "AAAA", &"A".repeat(10_000)] {
            assert_eq!(
                key(1).verify(junk),
                Err(TokenError::Malformed),
                "{junk:.20?}"
            );
        }
    }

    #[test]
    fn short_secrets_are_refused() {
        assert!(matches!(
            TokenKey::new(&[0; 31]),
            Err(SecretError::TooShort { min: 32, got: 31 })
        ));
    }

    #[test]
    fn the_secret_file_is_created_private_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret");
        let first = TokenKey::load_or_create(&path).unwrap();
        let token = first.sign(&claims(None));
        let second = TokenKey::load_or_create(&path).unwrap();
        assert!(
            second.verify(&token).is_ok(),
            "a restart must accept tokens signed before it"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "the secret file must be private to its owner");
        }
    }
}
