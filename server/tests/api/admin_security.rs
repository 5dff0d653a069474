//! The admin console's security over real HTTP, driven from the one list
//! of admin routes (`server::admin::routes::ROUTES`), so a route added to
//! the console is checked here without anyone remembering to.

use reqwest::StatusCode;
use reqwest::header;
use server::admin::routes::{Access, AdminRoute, Endpoint, Kind, ROUTES};
use server::domain::Role;
use server::store::admin::{AuditFilter, Window};

use crate::console::{Console, PASSWORD, cookie_pair, hidden_csrf};
use crate::helpers::{Db, TestApp, on_both_backends, spawn_app, spawn_app_with};

on_both_backends!(
    without_a_session_pages_redirect_to_sign_in_and_the_rest_answer_401,
    a_role_below_a_routes_least_gets_403_and_the_least_role_gets_through,
    a_form_post_without_the_token_or_from_another_site_is_refused_and_changes_nothing,
    the_session_cookie_is_http_only_and_same_site_and_secure_behind_https,
    sign_in_answers_alike_for_unknown_users_and_wrong_passwords_and_throttles,
    sign_out_a_new_password_a_disabled_user_and_idleness_end_sessions,
    only_argon2id_hashes_are_stored,
    no_route_changes_the_audit_log,
);

/// A route's path with sample values for its parameters.
fn concrete(path: &str) -> String {
    path.replace("{school_id}", "A")
        .replace("{shipment_id}", "1")
        .replace("{upload_id}", "no-such-upload")
        .replace("{user_name}", "spare")
}

/// A request to `route` as `console` (or nobody), with `fields`, its CSRF
/// token and a same-origin browser's header.
async fn call(
    app: &TestApp,
    route: &AdminRoute,
    console: Option<&Console>,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let path = concrete(route.path);
    match (route.method, console) {
        ("GET", Some(console)) => console.get(&path).await,
        ("GET", None) => TestApp::plain_client()
            .get(app.url(&path))
            .send()
            .await
            .unwrap(),
        (_, Some(console)) => console.post(&path, fields).await,
        (_, None) => TestApp::plain_client()
            .post(app.url(&path))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body("csrf=guess")
            .send()
            .await
            .unwrap(),
    }
}

/// The least role of a guarded route.
fn least(route: &AdminRoute) -> Option<Role> {
    match route.access {
        Access::Role(role) => Some(role),
        Access::Public => None,
    }
}

/// A server with the test campaign and one user per role, plus `spare`.
async fn console_app(db: Db) -> TestApp {
    let app = spawn_app(db).await;
    app.set_up_console_campaign(6).await;
    for (name, role) in [
        ("boss", Role::Admin),
        ("ops", Role::Operator),
        ("viewer", Role::Viewer),
        ("spare", Role::Viewer),
    ] {
        app.create_user(name, role).await;
    }
    app
}

async fn without_a_session_pages_redirect_to_sign_in_and_the_rest_answer_401(db: Db) {
    let app = console_app(db).await;
    let mut checked = 0;
    for route in ROUTES.iter().filter(|route| least(route).is_some()) {
        let response = call(&app, route, None, &[]).await;
        match route.kind {
            Kind::Page => {
                assert_eq!(
                    response.status(),
                    StatusCode::SEE_OTHER,
                    "{} {} redirects",
                    route.method,
                    route.path
                );
                let location = response.headers()[header::LOCATION].to_str().unwrap();
                assert!(
                    location.starts_with("/admin/login?next=%2Fadmin"),
                    "{} goes to the sign-in form and back: {location}",
                    route.path
                );
            }
            Kind::Download | Kind::Form => assert_eq!(
                response.status(),
                StatusCode::UNAUTHORIZED,
                "{} {} answers 401",
                route.method,
                route.path
            ),
        }
        checked += 1;
    }
    assert!(checked >= 25, "every guarded route was tried: {checked}");
    app.shutdown().await;
}

async fn a_role_below_a_routes_least_gets_403_and_the_least_role_gets_through(db: Db) {
    let app = console_app(db).await;
    let consoles = [
        (Role::Viewer, app.sign_in("viewer").await),
        (Role::Operator, app.sign_in("ops").await),
        (Role::Admin, app.sign_in("boss").await),
    ];
    for route in ROUTES.iter().filter(|route| route.path != "/admin/logout") {
        let Some(least) = least(route) else { continue };
        for (role, console) in &consoles {
            // No fields: a form that gets through fails on its fields
            // instead, and changes nothing.
            let status = call(&app, route, Some(console), &[]).await.status();
            if *role < least {
                assert_eq!(
                    status,
                    StatusCode::FORBIDDEN,
                    "{role} on {} {} (least {least})",
                    route.method,
                    route.path
                );
            } else {
                assert!(
                    !matches!(status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN)
                        && !status.is_server_error(),
                    "{role} may call {} {} (least {least}), got {status}",
                    route.method,
                    route.path
                );
            }
        }
    }
    app.shutdown().await;
}

/// Fields that would change something on each form route.
fn real_fields(route: &AdminRoute) -> Vec<(&'static str, &'static str)> {
    match route.path {
        "/admin/pledges" => vec![
            ("sponsor", "新赞助方"),
            ("participations_per_book", "1"),
            ("books", "5"),
        ],
        "/admin/shipments" => vec![("by", "school"), ("value", "B")],
        "/admin/users" => vec![
            ("name", "mallory"),
            ("role", "admin"),
            ("password", PASSWORD),
        ],
        "/admin/users/{user_name}/role" => vec![("role", "admin")],
        "/admin/users/{user_name}/status" => vec![("disabled", "true")],
        "/admin/users/{user_name}/password" => vec![("password", "another long password")],
        "/admin/login" => vec![("user", "boss"), ("password", PASSWORD)],
        _ => vec![],
    }
}

/// A refused form post: what is wrong, the token sent, the headers sent.
type RefusedCase<'a> = (&'a str, Option<&'a str>, &'a [(&'static str, &'static str)]);

/// What the console's forms could change, read from the store.
async fn snapshot(app: &TestApp) -> String {
    let admin = app.state.store.admin();
    let audit = admin
        .audit_log(&AuditFilter::default(), Window::all(10_000))
        .await
        .unwrap();
    let users = admin.users().await.unwrap();
    let pledges = admin.pledge_records().await.unwrap();
    let unshipped = admin.unshipped(100).await.unwrap();
    let versions = admin.school_list_versions().await.unwrap();
    format!("{audit:?}\n{users:?}\n{pledges:?}\n{unshipped:?}\n{versions:?}")
}

async fn a_form_post_without_the_token_or_from_another_site_is_refused_and_changes_nothing(db: Db) {
    let app = console_app(db).await;
    let boss = app.sign_in("boss").await;
    let before = snapshot(&app).await;
    let forms: Vec<&AdminRoute> = ROUTES.iter().filter(|r| r.kind == Kind::Form).collect();
    assert!(forms.len() >= 9, "every form route: {}", forms.len());
    for route in &forms {
        let path = concrete(route.path);
        let fields = real_fields(route);
        let csrf = boss.csrf.clone();
        let cases: [RefusedCase<'_>; 5] = [
            ("no token", None, &[("sec-fetch-site", "same-origin")]),
            (
                "a wrong token",
                Some("not-the-token"),
                &[("sec-fetch-site", "same-origin")],
            ),
            (
                "another origin",
                Some(&csrf),
                &[("origin", "http://evil.example")],
            ),
            (
                "a cross-site fetch",
                Some(&csrf),
                &[("sec-fetch-site", "cross-site")],
            ),
            ("a null origin", Some(&csrf), &[("origin", "null")]),
        ];
        for (case, token, headers) in cases {
            let response = boss.post_with(&path, token, &fields, headers).await;
            assert_eq!(
                response.status(),
                StatusCode::FORBIDDEN,
                "{} with {case} is refused",
                route.path
            );
        }
    }
    assert_eq!(
        snapshot(&app).await,
        before,
        "no refused form changed users, pledges, shipments, lists or the audit log"
    );
    // The control: the same pledge with the token from the same origin is
    // added, so the refusals above were the checks at work.
    let add_pledge = ROUTES
        .iter()
        .find(|route| route.endpoint == Endpoint::AddPledge)
        .unwrap();
    let added = boss.post("/admin/pledges", &real_fields(add_pledge)).await;
    assert_eq!(added.status(), StatusCode::SEE_OTHER, "a good form passes");
    assert_ne!(snapshot(&app).await, before, "and changes the pledges");
    assert_eq!(
        boss.get("/admin").await.status(),
        StatusCode::OK,
        "still signed in"
    );
    app.shutdown().await;
}

async fn the_session_cookie_is_http_only_and_same_site_and_secure_behind_https(db: Db) {
    let app = console_app(db).await;
    let viewer = app.sign_in("viewer").await;
    let session = viewer
        .set_cookie
        .iter()
        .find(|cookie| cookie.starts_with("dfl_admin="))
        .expect("the session cookie");
    for flag in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(session.contains(flag), "{flag} in {session}");
    }
    assert!(
        !session.contains("Expires") && !session.contains("Max-Age"),
        "a browser-session cookie: {session}"
    );
    app.shutdown().await;

    let https = spawn_app_with(db, |config| {
        config.public_url = Some("https://books.example.org".into())
    })
    .await;
    let form = TestApp::plain_client()
        .get(https.url("/admin/login"))
        .send()
        .await
        .unwrap();
    let cookie = form.headers()[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        cookie.starts_with("__Host-dfl_login=") && cookie.contains("Secure"),
        "behind https the cookies are Secure and __Host- bound: {cookie}"
    );
    https.shutdown().await;
}

async fn sign_in_answers_alike_for_unknown_users_and_wrong_passwords_and_throttles(db: Db) {
    let app = console_app(db).await;
    let client = TestApp::plain_client();
    let attempt = |user: &'static str, password: &'static str| {
        let client = client.clone();
        let url = app.url("/admin/login");
        async move {
            let form = client.get(&url).send().await.unwrap();
            let cookie = cookie_pair(form.headers(), "dfl_login").unwrap();
            let csrf = hidden_csrf(&form.text().await.unwrap()).unwrap();
            let answer = client
                .post(&url)
                .header(header::COOKIE, cookie)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(
                    serde_urlencoded::to_string([
                        ("csrf", csrf.as_str()),
                        ("user", user),
                        ("password", password),
                    ])
                    .unwrap(),
                )
                .send()
                .await
                .unwrap();
            let status = answer.status();
            let body = answer.text().await.unwrap();
            let alert = body
                .split("role=\"alert\">")
                .nth(1)
                .map(|rest| rest.split("</p>").next().unwrap_or_default().to_owned());
            (status, alert)
        }
    };
    let unknown = attempt("nobody", PASSWORD).await;
    let wrong = attempt("ops", "not the password at all").await;
    assert_eq!(
        unknown.0,
        StatusCode::UNAUTHORIZED,
        "an unknown user is refused"
    );
    assert_eq!(
        unknown, wrong,
        "with the very same answer as a wrong password"
    );
    for _ in 0..4 {
        attempt("ops", "not the password at all").await;
    }
    let throttled = attempt("ops", PASSWORD).await;
    assert_eq!(
        throttled.0,
        StatusCode::TOO_MANY_REQUESTS,
        "after 5 failures even the right password waits"
    );
    assert!(
        throttled.1.as_deref().unwrap_or_default().contains("15"),
        "and says how long: {throttled:?}"
    );
    let other = attempt("viewer", PASSWORD).await;
    assert_eq!(
        other.0,
        StatusCode::SEE_OTHER,
        "another user from the address still signs in"
    );
    app.shutdown().await;
}

async fn sign_out_a_new_password_a_disabled_user_and_idleness_end_sessions(db: Db) {
    let app = console_app(db).await;
    let boss = app.sign_in("boss").await;
    let viewer = app.sign_in("viewer").await;
    let spare = app.sign_in("spare").await;
    let ops = app.sign_in("ops").await;
    let signed_out = |response: reqwest::Response| response.status() == StatusCode::SEE_OTHER;

    let out = boss.post("/admin/logout", &[]).await;
    assert_eq!(out.status(), StatusCode::SEE_OTHER, "signs out");
    assert!(
        signed_out(boss.get("/admin").await),
        "the old cookie opens nothing"
    );

    let admin = app.sign_in("boss").await;
    let changed = admin
        .post(
            "/admin/users/viewer/password",
            &[("password", "a brand new password")],
        )
        .await;
    assert_eq!(
        changed.status(),
        StatusCode::SEE_OTHER,
        "the password is set"
    );
    assert!(
        signed_out(viewer.get("/admin").await),
        "the viewer's session ended"
    );

    let disabled = admin
        .post("/admin/users/spare/status", &[("disabled", "true")])
        .await;
    assert_eq!(
        disabled.status(),
        StatusCode::SEE_OTHER,
        "spare is disabled"
    );
    assert!(
        signed_out(spare.get("/admin").await),
        "spare's session ended"
    );

    app.execute_sql("UPDATE sessions SET last_seen_at_ms = 0")
        .await
        .expect("sessions can be aged");
    assert!(signed_out(ops.get("/admin").await), "an idle session ends");
    app.shutdown().await;
}

async fn only_argon2id_hashes_are_stored(db: Db) {
    let app = console_app(db).await;
    let hashes = app.query_texts("SELECT password_hash FROM users").await;
    assert_eq!(hashes.len(), 4, "four users");
    for hash in &hashes {
        assert!(hash.starts_with("$argon2id$v=19$"), "argon2id PHC: {hash}");
        assert!(!hash.contains(PASSWORD), "no password in clear");
    }
    let bcrypt = app
        .execute_sql(
            "INSERT INTO users (name, role, password_hash, created_at_ms, password_changed_at_ms) \
             VALUES ('x', 'admin', '$2b$12$abcdefghijklmnopqrstuv', 0, 0)",
        )
        .await;
    assert!(
        bcrypt
            .as_ref()
            .is_err_and(|error| error.contains("password_hash")),
        "the database refuses any other hash: {bcrypt:?}"
    );
    app.shutdown().await;
}

/// The whole audit log, oldest first.
async fn oldest_first(app: &TestApp) -> Vec<server::store::admin::AuditRecord> {
    let mut rows = app
        .state
        .store
        .admin()
        .audit_log(&AuditFilter::default(), Window::all(10_000))
        .await
        .unwrap()
        .rows;
    rows.reverse();
    rows
}

async fn no_route_changes_the_audit_log(db: Db) {
    let app = console_app(db).await;
    let boss = app.sign_in("boss").await;
    let before = oldest_first(&app).await;
    assert!(!before.is_empty(), "the set-up was audited");
    for route in ROUTES.iter().filter(|route| route.path != "/admin/logout") {
        call(&app, route, Some(&boss), &[]).await;
        if route.path.contains("audit") {
            assert_eq!(route.method, "GET", "the audit log's routes only read");
        }
    }
    let after = oldest_first(&app).await;
    assert_eq!(
        &after[..before.len()],
        &before[..],
        "every entry is still there, unchanged, in order"
    );
    for statement in ["UPDATE audit_log SET detail = 'x'", "DELETE FROM audit_log"] {
        let refused = app.execute_sql(statement).await;
        assert!(
            refused
                .as_ref()
                .is_err_and(|error| error.contains("the audit log is append-only")),
            "the database refuses to change or delete an entry ({statement}): {refused:?}"
        );
    }
    app.shutdown().await;
}
