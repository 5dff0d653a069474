//! Signing in and out.
//!
//! The form at `/admin/login` posts `user` and `password`. An unknown
//! user, a wrong password and a disabled user get the same answer, after
//! the same work (an argon2id check, against a dummy hash when there is no
//! user). Failures are throttled from the audit log, so the limit holds
//! across restarts and across server processes: after
//! [`MAX_FAILURES_PER_NAME`] failures with one name, or
//! [`MAX_FAILURES_PER_ADDRESS`] from one address, within
//! [`THROTTLE_WINDOW_MS`], sign-ins with that name or from that address
//! are refused unchecked until the window has passed. Throttled attempts
//! are audited but do not count as failures, so the window does end.

use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;

use super::error::AdminResult;
use super::layout::{bare_page, both};
use super::password::Password;
use super::routes::paths;
use super::session::{self, RequireRole, Viewer};
use crate::caps::ClientAddress;
use crate::domain::UserName;
use crate::state::AppState;
use crate::store::admin::{Actor, AuditAction, AuditEntry, NewSession};

/// How far back failed sign-ins count, in ms: 15 minutes.
pub const THROTTLE_WINDOW_MS: u64 = 15 * 60 * 1000;
/// Failures with one user name within the window before it is throttled.
pub const MAX_FAILURES_PER_NAME: u64 = 5;
/// Failures from one address within the window before it is throttled (an
/// office behind one address has several staff).
pub const MAX_FAILURES_PER_ADDRESS: u64 = 20;

/// Longest user name kept in the audit log for a failed sign-in.
const MAX_TRIED_NAME_CHARS: usize = 64;

/// The query of the sign-in form.
#[derive(Debug, Default, Deserialize)]
pub struct NextQuery {
    /// Where to go once signed in.
    next: Option<String>,
}

/// The sign-in form's fields.
#[derive(Debug, Deserialize)]
pub struct SignInForm {
    user: String,
    password: String,
    #[serde(default)]
    next: String,
}

/// `next` if it is a console address, else the dashboard: a sign-in never
/// sends anyone to another site.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(next)
            if next.starts_with("/admin")
                && !next.starts_with("//")
                && !next.contains(['\\', '\r', '\n']) =>
        {
            next.to_owned()
        }
        _ => paths::DASHBOARD.to_owned(),
    }
}

/// What went wrong with the last attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Problem {
    /// Wrong user or password (one answer for both).
    Refused,
    /// Too many failures recently.
    Throttled,
}

fn sign_in_page(csrf: &str, next: &str, user: &str, problem: Option<Problem>) -> Markup {
    bare_page(
        ("登录", "Sign in"),
        html! {
            @match problem {
                Some(Problem::Refused) => p.problem role="alert" {
                    "用户名或密码错误。" br; span lang="en" { "Wrong user name or password." }
                },
                Some(Problem::Throttled) => p.problem role="alert" {
                    "登录失败次数过多，请 15 分钟后再试。" br;
                    span lang="en" { "Too many failed sign-ins: try again in 15 minutes." }
                },
                None => {}
            }
            form.stack.card method="post" action=(paths::SIGN_IN) {
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name="next" value=(next);
                label { (both("用户名", "User name")) input type="text" name="user" value=(user) autocomplete="username" autocapitalize="none" required; }
                label { (both("密码", "Password")) input type="password" name="password" autocomplete="current-password" required; }
                button type="submit" { "登录 " span lang="en" { "Sign in" } }
            }
            p.muted { (both("账号由管理员创建。", "Accounts are created by an administrator.")) }
        },
    )
}

/// `GET /admin/login`: the form (or, already signed in, where `next`
/// points). Sets the form's own CSRF cookie.
pub async fn show_sign_in(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    headers: HeaderMap,
    Query(query): Query<NextQuery>,
) -> AdminResult<Response> {
    let next = safe_next(query.next.as_deref());
    if session::current(&state, &headers, address).await?.is_some() {
        return Ok(Redirect::to(&next).into_response());
    }
    let secure = state.admin.secure_cookies;
    // The browser's token stays the same across visits, so two tabs of the
    // form (or a form still on screen) stay valid.
    let csrf = match session::cookie_value(&headers, session::login_cookie_name(secure)) {
        Some(token) if token.len() == 43 => token,
        _ => session::new_token()?,
    };
    Ok((
        [(
            header::SET_COOKIE,
            session::set_cookie(session::login_cookie_name(secure), &csrf, secure),
        )],
        sign_in_page(&csrf, &next, "", None),
    )
        .into_response())
}

/// `POST /admin/login`: checks the throttle, then the password; starts a
/// session, or answers the form again with one message for every failure.
pub async fn sign_in(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    headers: HeaderMap,
    Form(form): Form<SignInForm>,
) -> AdminResult<Response> {
    let secure = state.admin.secure_cookies;
    let csrf =
        session::cookie_value(&headers, session::login_cookie_name(secure)).unwrap_or_default();
    let next = safe_next(Some(&form.next));
    let tried: String = form
        .user
        .trim()
        .to_lowercase()
        .chars()
        .take(MAX_TRIED_NAME_CHARS)
        .collect();
    let address_text = address.to_string();
    let admin = state.store.admin();
    let answer = |status: StatusCode, problem| {
        (status, sign_in_page(&csrf, &next, &tried, Some(problem))).into_response()
    };

    let since = crate::now_unix_ms().saturating_sub(THROTTLE_WINDOW_MS);
    let failures = admin.failed_sign_ins(&tried, &address_text, since).await?;
    if failures.for_name >= MAX_FAILURES_PER_NAME
        || failures.from_address >= MAX_FAILURES_PER_ADDRESS
    {
        admin
            .audit(AuditEntry {
                at_ms: crate::now_unix_ms(),
                actor: Actor::anonymous(&tried, &address_text),
                action: AuditAction::SignInThrottled,
                target: tried.clone(),
                detail: format!(
                    "{} 次失败（此用户名），{} 次（此地址） / {} failures for the name, {} from the address",
                    failures.for_name, failures.from_address, failures.for_name, failures.from_address
                ),
            })
            .await?;
        return Ok(answer(StatusCode::TOO_MANY_REQUESTS, Problem::Throttled));
    }

    let credentials = match UserName::parse(&form.user) {
        Ok(name) => admin.credentials(&name).await?,
        Err(_) => None,
    };
    let enabled = credentials.filter(|credentials| !credentials.user.disabled);
    let verified = state
        .admin
        .hasher
        .verify(
            Password::attempt(&form.password),
            enabled
                .as_ref()
                .map(|credentials| credentials.password_hash.clone()),
        )
        .await;
    let Some(credentials) = enabled.filter(|_| verified) else {
        admin
            .audit(AuditEntry {
                at_ms: crate::now_unix_ms(),
                actor: Actor::anonymous(&tried, &address_text),
                action: AuditAction::SignInFailed,
                target: tried.clone(),
                detail: String::new(),
            })
            .await?;
        return Ok(answer(StatusCode::UNAUTHORIZED, Problem::Refused));
    };

    let user = credentials.user;
    let token = session::new_token()?;
    let actor = Actor::user(user.id, &user.name, &address_text);
    admin
        .start_session(
            NewSession {
                token_hash: session::token_hash(&token),
                csrf_token: session::new_token()?,
                user: user.id,
                address: address_text,
            },
            &actor,
        )
        .await?;
    tracing::info!(user = %user.name, "admin signed in");
    let mut response = Redirect::to(&next).into_response();
    let headers = response.headers_mut();
    headers.append(
        header::SET_COOKIE,
        session::set_cookie(session::session_cookie_name(secure), &token, secure),
    );
    headers.append(
        header::SET_COOKIE,
        session::remove_cookie(session::login_cookie_name(secure), secure),
    );
    Ok(response)
}

/// `POST /admin/logout`: ends the session on the server and forgets the
/// cookie.
pub async fn sign_out(
    State(state): State<AppState>,
    RequireRole(signed, ..): RequireRole<Viewer>,
) -> AdminResult<Response> {
    state
        .store
        .admin()
        .end_session(signed.token_hash, Some(&signed.actor()))
        .await?;
    let secure = state.admin.secure_cookies;
    Ok((
        [(
            header::SET_COOKIE,
            session::remove_cookie(session::session_cookie_name(secure), secure),
        )],
        Redirect::to(paths::SIGN_IN),
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_in_sends_only_to_console_pages() {
        for (next, expected) in [
            (Some("/admin/report?province=x"), "/admin/report?province=x"),
            (Some("/admin"), "/admin"),
            (Some("https://evil.example/admin"), "/admin"),
            (Some("//evil.example/admin"), "/admin"),
            (Some("/admin\r\nSet-Cookie: x"), "/admin"),
            (Some("/p/1"), "/admin"),
            (None, "/admin"),
        ] {
            assert_eq!(safe_next(next), expected, "{next:?}");
        }
    }
}
