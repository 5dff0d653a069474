//! Sessions: a random token in an HttpOnly, SameSite=Lax cookie (Secure
//! behind an https public URL), its SHA-256 and the user in the ledger's
//! database, an idle expiry and an absolute one, and the CSRF token of its
//! forms.
//!
//! Written here rather than with `tower-sessions`: that crate hands its
//! store the session id itself (so the database would hold live
//! credentials), keeps the user in an opaque record, and extends an idle
//! expiry only by saving on every request, one write per page under
//! SQLite's single write lock. Here the database holds only the token's
//! hash, the user id is a column every session of a user is deleted by
//! (a new password, a disabled user), and the last-seen time is written at
//! most once a minute ([`SESSION_TOUCH_MS`]).

use std::marker::PhantomData;
use std::net::IpAddr;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use base64::Engine as _;
use cookie::{Cookie, SameSite};
use sha2::{Digest as _, Sha256};

use super::error::{AdminError, AdminResult};
use crate::domain::Role;
use crate::state::App;
use crate::store::admin::{Actor, SESSION_TOUCH_MS, User};

/// The session cookie's name over http.
pub const COOKIE: &str = "dfl_admin";
/// Its name over https: the `__Host-` prefix makes browsers refuse it
/// unless it is Secure, host-only and for the whole site.
pub const SECURE_COOKIE: &str = "__Host-dfl_admin";
/// The sign-in form's own CSRF cookie (before there is a session), over
/// http and https.
pub const LOGIN_COOKIE: &str = "dfl_login";
/// Its name over https.
pub const SECURE_LOGIN_COOKIE: &str = "__Host-dfl_login";

/// Longest a session lives however busy it is, in ms: 12 hours.
pub const ABSOLUTE_LIFETIME_MS: u64 = 12 * 60 * 60 * 1000;

/// The signed-in user of a request, put in its extensions by the guard
/// ([`super::routes`]).
#[derive(Debug, Clone)]
pub struct SignedIn {
    /// The user, as the users table says now.
    pub user: User,
    /// The token its forms must carry.
    pub csrf_token: String,
    /// SHA-256 of the session's token.
    pub token_hash: [u8; 32],
    /// The client's address.
    pub address: IpAddr,
}

impl SignedIn {
    /// The user as an actor for the audit log.
    pub fn actor(&self) -> Actor {
        Actor::user(self.user.id, &self.user.name, self.address.to_string())
    }
}

/// A new random token: 256 bits, base64url without padding.
pub fn new_token() -> AdminResult<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|error| AdminError::Export(error.to_string()))?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

/// The SHA-256 of a token, as sessions are stored.
pub fn token_hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// Equal in time independent of where two texts first differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The value of cookie `name` in a request's headers.
pub fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|cookie| cookie.name() == name)
        .map(|cookie| cookie.value().to_owned())
}

/// Names of the session and sign-in cookies.
fn names(secure: bool) -> (&'static str, &'static str) {
    if secure {
        (SECURE_COOKIE, SECURE_LOGIN_COOKIE)
    } else {
        (COOKIE, LOGIN_COOKIE)
    }
}

/// The session cookie's name.
pub fn session_cookie_name(secure: bool) -> &'static str {
    names(secure).0
}

/// The sign-in form's CSRF cookie's name.
pub fn login_cookie_name(secure: bool) -> &'static str {
    names(secure).1
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Lax, the whole site, Secure
/// over https; a browser-session cookie (the server ends idle sessions).
pub fn set_cookie(name: &str, value: &str, secure: bool) -> HeaderValue {
    let cookie = Cookie::build((name, value))
        .http_only(true)
        .same_site(SameSite::Lax)
        .path("/")
        .secure(secure)
        .build();
    HeaderValue::from_str(&cookie.to_string()).unwrap_or(HeaderValue::from_static(""))
}

/// A `Set-Cookie` value that removes cookie `name`.
pub fn remove_cookie(name: &str, secure: bool) -> HeaderValue {
    let cookie = Cookie::build((name, ""))
        .http_only(true)
        .same_site(SameSite::Lax)
        .path("/")
        .secure(secure)
        .max_age(cookie::time::Duration::ZERO)
        .build();
    HeaderValue::from_str(&cookie.to_string()).unwrap_or(HeaderValue::from_static(""))
}

/// The signed-in user of a request with these headers, if its session is
/// live: known, not idle longer than the idle expiry, younger than
/// [`ABSOLUTE_LIFETIME_MS`], of an enabled user. An expired session is
/// deleted; a live one is touched at most once a minute.
pub async fn current(
    app: &App,
    headers: &HeaderMap,
    address: IpAddr,
) -> AdminResult<Option<SignedIn>> {
    let Some(token) = cookie_value(headers, session_cookie_name(app.admin.secure_cookies)) else {
        return Ok(None);
    };
    let hash = token_hash(&token);
    let admin = app.store.admin();
    let Some(session) = admin.session(hash).await? else {
        return Ok(None);
    };
    let now = crate::now_unix_ms();
    let idle = now.saturating_sub(session.last_seen_at_ms) > app.admin.idle_ms;
    let too_old = now.saturating_sub(session.created_at_ms) > ABSOLUTE_LIFETIME_MS;
    if idle || too_old || session.user.disabled {
        admin.end_session(hash, None).await?;
        return Ok(None);
    }
    if now.saturating_sub(session.last_seen_at_ms) > SESSION_TOUCH_MS {
        admin.touch_session(hash, now).await?;
    }
    Ok(Some(SignedIn {
        user: session.user,
        csrf_token: session.csrf_token,
        token_hash: hash,
        address,
    }))
}

/// A role as a type, for [`RequireRole`].
pub trait RoleMarker {
    /// The least role it stands for.
    const ROLE: Role;
}

/// [`Role::Viewer`] as a type.
#[derive(Debug)]
pub struct Viewer;
/// [`Role::Operator`] as a type.
#[derive(Debug)]
pub struct Operator;
/// [`Role::Admin`] as a type.
#[derive(Debug)]
pub struct Admin;

impl RoleMarker for Viewer {
    const ROLE: Role = Role::Viewer;
}
impl RoleMarker for Operator {
    const ROLE: Role = Role::Operator;
}
impl RoleMarker for Admin {
    const ROLE: Role = Role::Admin;
}

/// The signed-in user, if its role is at least `R`'s: a handler that
/// takes `RequireRole<Operator>` cannot run for a viewer, whatever the
/// route list says (the guard has checked it already; this is the second
/// lock on the same door).
#[derive(Debug)]
pub struct RequireRole<R: RoleMarker>(pub SignedIn, pub PhantomData<R>);

impl<S: Send + Sync, R: RoleMarker> FromRequestParts<S> for RequireRole<R> {
    type Rejection = AdminError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let signed = parts
            .extensions
            .get::<SignedIn>()
            .cloned()
            .ok_or(AdminError::SignInRequired)?;
        if !signed.user.role.allows(R::ROLE) {
            return Err(AdminError::Forbidden);
        }
        Ok(Self(signed, PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_http_only_lax_and_secure_over_https() {
        let plain = set_cookie(COOKIE, "t0ken", false);
        let plain = plain.to_str().unwrap();
        for part in ["dfl_admin=t0ken", "HttpOnly", "SameSite=Lax", "Path=/"] {
            assert!(plain.contains(part), "{part} in {plain}");
        }
        assert!(!plain.contains("Secure"), "not Secure over http: {plain}");
        let secure = set_cookie(SECURE_COOKIE, "t0ken", true);
        assert!(
            secure.to_str().unwrap().contains("Secure"),
            "Secure over https"
        );
        let removed = remove_cookie(COOKIE, false);
        assert!(
            removed.to_str().unwrap().contains("Max-Age=0"),
            "removal expires it"
        );
    }

    #[test]
    fn cookies_are_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; dfl_admin=abc; b=2"),
        );
        assert_eq!(
            cookie_value(&headers, COOKIE).as_deref(),
            Some("abc"),
            "the session cookie"
        );
        assert_eq!(cookie_value(&headers, "zzz"), None, "a missing one");
    }

    #[test]
    fn tokens_are_long_random_and_stored_hashed() {
        let (a, b) = (new_token().unwrap(), new_token().unwrap());
        assert_eq!(a.len(), 43, "256 bits of base64url");
        assert_ne!(a, b, "random");
        assert_ne!(token_hash(&a), token_hash(&b), "hashes differ too");
        assert!(same_secret(&a, &a.clone()), "equal");
        assert!(!same_secret(&a, &b), "different");
        assert!(!same_secret("abc", "abcd"), "lengths differ");
    }
}
