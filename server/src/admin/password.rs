//! Passwords: a [`Password`] is parsed once (at least
//! [`Password::MIN_CHARS`] characters), hashed with argon2id into a PHC
//! string, and checked against one. Hashing is deliberately slow CPU work
//! (tens of milliseconds and about 19 MiB of memory each), so
//! [`Hasher`] runs it on blocking threads, a bounded number at a time:
//! a burst of sign-ins queues instead of starving the round API.

use std::fmt;
use std::sync::{Arc, OnceLock};

use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::Semaphore;

use crate::store::admin::PasswordHash;

/// A password as typed, never logged or shown.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    /// Fewest characters a password may have.
    pub const MIN_CHARS: usize = 12;
    /// Most characters a password may have (long passphrases are welcome;
    /// only a denial of service is not).
    pub const MAX_CHARS: usize = 256;

    /// Parses a new password (as typed; nothing is trimmed).
    pub fn parse(text: &str) -> Result<Self, PasswordError> {
        let chars = text.chars().count();
        if chars < Self::MIN_CHARS {
            return Err(PasswordError::TooShort);
        }
        if chars > Self::MAX_CHARS {
            return Err(PasswordError::TooLong);
        }
        Ok(Self(text.to_owned()))
    }

    /// A password typed at sign-in: any length up to the maximum is
    /// checked (an account may predate a stricter rule), longer ones are
    /// cut so they cannot cost more to hash.
    pub fn attempt(text: &str) -> Self {
        Self(text.chars().take(Self::MAX_CHARS).collect())
    }

    fn bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(…)")
    }
}

/// Why a new password was refused. Messages are Chinese, then English.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    /// Fewer than [`Password::MIN_CHARS`] characters.
    #[error("密码至少 12 个字符 / a password has at least 12 characters")]
    TooShort,
    /// More than [`Password::MAX_CHARS`] characters.
    #[error("密码最多 256 个字符 / a password has at most 256 characters")]
    TooLong,
    /// The operating system's random source or the hash failed.
    #[error("无法计算密码哈希 / the password could not be hashed: {0}")]
    Hashing(&'static str),
}

/// argon2id with the crate's defaults (OWASP's first recommendation:
/// 19 MiB, 2 passes, 1 lane).
fn argon2() -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::default())
}

/// Hashes `password` with a fresh 16-byte salt (blocking: tens of ms).
pub fn hash_blocking(password: &Password) -> Result<PasswordHash, PasswordError> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|_| PasswordError::Hashing("no randomness"))?;
    let phc = argon2()
        .hash_password_with_salt(password.bytes(), &salt)
        .map_err(|_| PasswordError::Hashing("argon2 refused the input"))?
        .to_string();
    PasswordHash::new(phc).map_err(|_| PasswordError::Hashing("not argon2id"))
}

/// True if `password` is the one `hash` was made from (blocking). The
/// hash's own parameters are used, so older hashes keep working.
pub fn verify_blocking(password: &Password, hash: &PasswordHash) -> bool {
    argon2()
        .verify_password(password.bytes(), hash.as_str())
        .is_ok()
}

/// A hash of no one's password, checked against for unknown or disabled
/// users so that their sign-in costs the same time as a real one.
fn dummy_hash() -> &'static PasswordHash {
    static DUMMY: OnceLock<PasswordHash> = OnceLock::new();
    DUMMY.get_or_init(|| {
        // A fixed salt is fine here: nothing can sign in with this hash,
        // it only burns the same time as a real check.
        let phc = argon2()
            .hash_password_with_salt(b"no such user, no such password", b"dreamfairy-dummy")
            .map(|hash| hash.to_string())
            .unwrap_or_default();
        PasswordHash::new(phc).unwrap_or_else(|_| {
            PasswordHash::new(format!("{}v=19$m=19456,t=2,p=1$x$x", PasswordHash::PREFIX))
                .expect("the prefix makes it argon2id")
        })
    })
}

/// Runs password hashing off the async threads, at most `slots` at once.
#[derive(Debug, Clone)]
pub struct Hasher {
    slots: Arc<Semaphore>,
}

impl Hasher {
    /// A hasher running at most `slots` hashes at once (at least 1).
    pub fn new(slots: usize) -> Self {
        Self {
            slots: Arc::new(Semaphore::new(slots.max(1))),
        }
    }

    /// Hashes a new password.
    pub async fn hash(&self, password: Password) -> Result<PasswordHash, PasswordError> {
        let _slot = self.slots.acquire().await;
        tokio::task::spawn_blocking(move || hash_blocking(&password))
            .await
            .map_err(|_| PasswordError::Hashing("the hashing task died"))?
    }

    /// Checks `password` against `hash`, or against a dummy hash when
    /// there is none (an unknown user), taking about the same time either
    /// way.
    pub async fn verify(&self, password: Password, hash: Option<PasswordHash>) -> bool {
        let _slot = self.slots.acquire().await;
        let known = hash.is_some();
        let checked = tokio::task::spawn_blocking(move || {
            let hash = hash.as_ref().unwrap_or_else(|| dummy_hash());
            verify_blocking(&password, hash)
        })
        .await
        .unwrap_or(false);
        known && checked
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_passwords_have_at_least_twelve_characters() {
        let check = |text: &str, expected: Result<(), PasswordError>| {
            assert_eq!(Password::parse(text).map(|_| ()), expected, "{text:?}");
        };
        check("short", Err(PasswordError::TooShort));
        check("elevenchars", Err(PasswordError::TooShort));
        check("twelve chars", Ok(()));
        check("十二个汉字的密码也可以用吧", Ok(()));
        check(&"x".repeat(257), Err(PasswordError::TooLong));
        assert_eq!(
            format!("{:?}", Password::parse("a secret passphrase").unwrap()),
            "Password(…)",
            "a password never shows in logs"
        );
    }

    #[test]
    fn hashes_are_argon2id_phc_strings_that_verify() {
        let password = Password::parse("correct horse battery").unwrap();
        let hash = hash_blocking(&password).unwrap();
        assert!(
            hash.as_str().starts_with("$argon2id$v=19$"),
            "a PHC argon2id string: {}",
            hash.as_str()
        );
        assert!(verify_blocking(&password, &hash), "the right password");
        assert!(
            !verify_blocking(&Password::attempt("wrong horse battery"), &hash),
            "a wrong one"
        );
        let again = hash_blocking(&password).unwrap();
        assert_ne!(hash.as_str(), again.as_str(), "each hash has its own salt");
    }

    #[tokio::test]
    async fn unknown_users_are_checked_against_a_dummy_and_refused() {
        let hasher = Hasher::new(1);
        assert!(
            !hasher
                .verify(Password::attempt("no such user, no such password"), None)
                .await,
            "even the dummy's own password signs no one in"
        );
    }
}
