//! Every admin route, in one list ([`ROUTES`]): its method, path, who may
//! call it and what kind of answer it gives. The router is built from the
//! list, and every route is wrapped in the same [`guard`], so a route
//! cannot be added without its access rule; the security tests walk the
//! same list.
//!
//! The guard, before any handler runs:
//! 1. finds the session: none (or expired) → a page redirects to the
//!    sign-in form, a download or a form post answers 401;
//! 2. checks the role: too low → 403;
//! 3. for a form post: refuses another site (`Origin` or
//!    `Sec-Fetch-Site`) and a missing or wrong CSRF token (the session's,
//!    or before sign-in the sign-in form's own cookie), whatever the
//!    encoding (URL-encoded or multipart) → 403, before anything changes.
//!
//! It marks every answer `Cache-Control: no-store` and says the time the
//! server spent in `Server-Timing`.

use std::collections::BTreeMap;
use std::time::Instant;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, FromRequest, FromRequestParts, Multipart, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{MethodRouter, get, post};
use serde::Deserialize;

use super::error::AdminError;
use super::session::{self, SignedIn};
use super::{
    audit, dashboard, imports, pledges, reports, schools, sharing, shipments, sign_in, users,
};
use crate::caps::ClientAddress;
use crate::domain::Role;
use crate::state::AppState;

/// The admin console's paths.
pub mod paths {
    /// The sign-in form, and where it posts.
    pub const SIGN_IN: &str = "/admin/login";
    /// Sign out.
    pub const SIGN_OUT: &str = "/admin/logout";
    /// The dashboard.
    pub const DASHBOARD: &str = "/admin";
    /// The dashboard's tables as files.
    pub const DASHBOARD_EXPORT: &str = "/admin/export";
    /// The drill-down report.
    pub const REPORT: &str = "/admin/report";
    /// The drill-down report's tables as files.
    pub const REPORT_EXPORT: &str = "/admin/report/export";
    /// A school: its books with their lifecycle dates, its receipt QR code.
    pub const SCHOOL: &str = "/admin/schools/{school_id}";
    /// A school's books as a file.
    pub const SCHOOL_EXPORT: &str = "/admin/schools/{school_id}/export";
    /// Pledges: progress, and adding one.
    pub const PLEDGES: &str = "/admin/pledges";
    /// The pledges as a file.
    pub const PLEDGES_EXPORT: &str = "/admin/pledges/export";
    /// Shipments: the list, and marking books shipped.
    pub const SHIPMENTS: &str = "/admin/shipments";
    /// The shipments as a file.
    pub const SHIPMENTS_EXPORT: &str = "/admin/shipments/export";
    /// The books a selection would ship, before marking them.
    pub const NEW_SHIPMENT: &str = "/admin/shipments/new";
    /// A shipment's printable sheet, with the school's receipt QR code.
    pub const SHIPMENT_SHEET: &str = "/admin/shipments/{shipment_id}";
    /// School list imports: upload.
    pub const IMPORT: &str = "/admin/import";
    /// An uploaded list's preview, and confirming it.
    pub const IMPORT_PREVIEW: &str = "/admin/import/{upload_id}";
    /// Users: the list, and creating one.
    pub const USERS: &str = "/admin/users";
    /// The users as a file.
    pub const USERS_EXPORT: &str = "/admin/users/export";
    /// Change a user's role.
    pub const USER_ROLE: &str = "/admin/users/{user_name}/role";
    /// Disable or enable a user.
    pub const USER_STATUS: &str = "/admin/users/{user_name}/status";
    /// Set a user's password.
    pub const USER_PASSWORD: &str = "/admin/users/{user_name}/password";
    /// The audit log.
    pub const AUDIT: &str = "/admin/audit";
    /// The audit log as a file.
    pub const AUDIT_EXPORT: &str = "/admin/audit/export";
    pub const SHARING: &str = "/admin/sharing";
    pub const SHARING_EXPORT: &str = "/admin/sharing/export";
    pub const SHARING_POSTER: &str = "/admin/sharing/poster";
}

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone (the sign-in form).
    Public,
    /// A signed-in user with at least this role.
    Role(Role),
}

/// What a route answers, which decides how a request without a session is
/// answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// An HTML page: without a session, a redirect to the sign-in form.
    Page,
    /// A file: without a session, 401.
    Download,
    /// A form post that changes something: without a session, 401; its
    /// origin and CSRF token are checked.
    Form,
}

/// The handlers, one per route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Endpoint {
    ShowSignIn,
    SignIn,
    SignOut,
    ShowDashboard,
    ExportDashboard,
    ShowReport,
    ExportReport,
    ShowSchool,
    ExportSchool,
    ShowPledges,
    ExportPledges,
    AddPledge,
    ShowShipments,
    ExportShipments,
    PreviewShipment,
    MarkShipped,
    ShowShipmentSheet,
    ShowImport,
    UploadSchoolList,
    ShowImportPreview,
    ConfirmImport,
    ShowUsers,
    ExportUsers,
    CreateUser,
    ChangeRole,
    ChangeStatus,
    ChangePassword,
    ShowAudit,
    ExportAudit,
    ShowSharing,
    ExportSharing,
    MakePoster,
}

/// One admin route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdminRoute {
    /// Its handler.
    pub endpoint: Endpoint,
    /// `GET` or `POST`.
    pub method: &'static str,
    /// Its path (with `{parameters}`).
    pub path: &'static str,
    /// Who may call it.
    pub access: Access,
    /// What it answers.
    pub kind: Kind,
}

const fn route(
    endpoint: Endpoint,
    method: &'static str,
    path: &'static str,
    access: Access,
    kind: Kind,
) -> AdminRoute {
    AdminRoute {
        endpoint,
        method,
        path,
        access,
        kind,
    }
}

const VIEWER: Access = Access::Role(Role::Viewer);
const OPERATOR: Access = Access::Role(Role::Operator);
const ADMIN: Access = Access::Role(Role::Admin);

/// Every admin route.
pub const ROUTES: &[AdminRoute] = {
    use Endpoint::*;
    use Kind::*;
    use paths::*;
    &[
        route(ShowSignIn, "GET", SIGN_IN, Access::Public, Page),
        route(SignIn, "POST", SIGN_IN, Access::Public, Form),
        route(SignOut, "POST", SIGN_OUT, VIEWER, Form),
        route(ShowDashboard, "GET", DASHBOARD, VIEWER, Page),
        route(ExportDashboard, "GET", DASHBOARD_EXPORT, VIEWER, Download),
        route(ShowReport, "GET", REPORT, VIEWER, Page),
        route(ExportReport, "GET", REPORT_EXPORT, VIEWER, Download),
        route(ShowSchool, "GET", SCHOOL, VIEWER, Page),
        route(ExportSchool, "GET", SCHOOL_EXPORT, VIEWER, Download),
        route(ShowPledges, "GET", PLEDGES, VIEWER, Page),
        route(ExportPledges, "GET", PLEDGES_EXPORT, VIEWER, Download),
        route(AddPledge, "POST", PLEDGES, OPERATOR, Form),
        route(ShowShipments, "GET", SHIPMENTS, VIEWER, Page),
        route(ExportShipments, "GET", SHIPMENTS_EXPORT, VIEWER, Download),
        route(PreviewShipment, "GET", NEW_SHIPMENT, OPERATOR, Page),
        route(MarkShipped, "POST", SHIPMENTS, OPERATOR, Form),
        route(ShowShipmentSheet, "GET", SHIPMENT_SHEET, OPERATOR, Page),
        route(ShowImport, "GET", IMPORT, OPERATOR, Page),
        route(UploadSchoolList, "POST", IMPORT, OPERATOR, Form),
        route(ShowImportPreview, "GET", IMPORT_PREVIEW, OPERATOR, Page),
        route(ConfirmImport, "POST", IMPORT_PREVIEW, OPERATOR, Form),
        route(ShowUsers, "GET", USERS, ADMIN, Page),
        route(ExportUsers, "GET", USERS_EXPORT, ADMIN, Download),
        route(CreateUser, "POST", USERS, ADMIN, Form),
        route(ChangeRole, "POST", USER_ROLE, ADMIN, Form),
        route(ChangeStatus, "POST", USER_STATUS, ADMIN, Form),
        route(ChangePassword, "POST", USER_PASSWORD, ADMIN, Form),
        route(ShowAudit, "GET", AUDIT, ADMIN, Page),
        route(ExportAudit, "GET", AUDIT_EXPORT, ADMIN, Download),
        route(ShowSharing, "GET", SHARING, VIEWER, Page),
        route(ExportSharing, "GET", SHARING_EXPORT, VIEWER, Download),
        route(MakePoster, "POST", SHARING_POSTER, OPERATOR, Form),
    ]
};

/// The handler of `endpoint`, for its method.
fn handler(endpoint: Endpoint) -> MethodRouter<AppState> {
    use Endpoint::*;
    match endpoint {
        ShowSignIn => get(sign_in::show_sign_in),
        SignIn => post(sign_in::sign_in),
        SignOut => post(sign_in::sign_out),
        ShowDashboard => get(dashboard::show_dashboard),
        ExportDashboard => get(dashboard::export_dashboard),
        ShowReport => get(reports::show_report),
        ExportReport => get(reports::export_report),
        ShowSchool => get(schools::show_school),
        ExportSchool => get(schools::export_school),
        ShowPledges => get(pledges::show_pledges),
        ExportPledges => get(pledges::export_pledges),
        AddPledge => post(pledges::add_pledge),
        ShowShipments => get(shipments::show_shipments),
        ExportShipments => get(shipments::export_shipments),
        PreviewShipment => get(shipments::preview_shipment),
        MarkShipped => post(shipments::mark_shipped),
        ShowShipmentSheet => get(shipments::show_shipment_sheet),
        ShowImport => get(imports::show_import),
        UploadSchoolList => post(imports::upload_school_list),
        ShowImportPreview => get(imports::show_import_preview),
        ConfirmImport => post(imports::confirm_import),
        ShowUsers => get(users::show_users),
        ExportUsers => get(users::export_users),
        CreateUser => post(users::create_user),
        ChangeRole => post(users::change_role),
        ChangeStatus => post(users::change_status),
        ChangePassword => post(users::change_password),
        ShowAudit => get(audit::show_audit),
        ExportAudit => get(audit::export_audit),
        ShowSharing => get(sharing::show_sharing),
        ExportSharing => get(sharing::export_sharing),
        MakePoster => post(sharing::make_poster_pdf),
    }
}

/// Largest admin request body, in bytes: a school list of 10,000 schools
/// as XLSX is well under 2 MiB.
pub const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;

/// The admin routes, each behind the guard with its own access rule.
pub fn router(state: &AppState) -> Router<AppState> {
    let mut by_path: BTreeMap<&'static str, MethodRouter<AppState>> = BTreeMap::new();
    for admin_route in ROUTES {
        let guarded = handler(admin_route.endpoint).layer(middleware::from_fn_with_state(
            Guarded {
                app: state.clone(),
                route: *admin_route,
            },
            guard,
        ));
        let merged = match by_path.remove(admin_route.path) {
            Some(existing) => existing.merge(guarded),
            None => guarded,
        };
        by_path.insert(admin_route.path, merged);
    }
    by_path
        .into_iter()
        .fold(Router::new(), |router, (path, methods)| {
            router.route(path, methods)
        })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
}

/// What the guard of one route knows.
#[derive(Debug, Clone)]
struct Guarded {
    app: AppState,
    route: AdminRoute,
}

/// The CSRF field of any form.
#[derive(Debug, Deserialize)]
struct CsrfField {
    csrf: String,
}

/// See the module documentation.
async fn guard(State(guarded): State<Guarded>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let (mut parts, body) = request.into_parts();
    let Ok(ClientAddress(address)) =
        ClientAddress::from_request_parts(&mut parts, &guarded.app).await;
    let route = guarded.route;
    let mut response = match admit(&guarded.app, route, &parts, address).await {
        Err(refusal) => refusal,
        Ok(signed) => {
            match checked_body(&guarded.app, route, &parts, body, signed.as_ref()).await {
                Err(refusal) => refusal,
                Ok(body) => {
                    if let Some(signed) = signed {
                        parts.extensions.insert(signed);
                    }
                    next.run(Request::from_parts(parts, body)).await
                }
            }
        }
    };
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    let spent_ms = started.elapsed().as_secs_f64() * 1000.0;
    if let Ok(timing) = HeaderValue::from_str(&format!("app;dur={spent_ms:.2}")) {
        headers.insert("server-timing", timing);
    }
    response
}

/// Steps 1 and 2: the session and the role.
async fn admit(
    app: &AppState,
    route: AdminRoute,
    parts: &axum::http::request::Parts,
    address: std::net::IpAddr,
) -> Result<Option<SignedIn>, Response> {
    let signed = session::current(app, &parts.headers, address)
        .await
        .map_err(IntoResponse::into_response)?;
    let Access::Role(least) = route.access else {
        return Ok(signed);
    };
    let Some(signed) = signed else {
        return Err(match route.kind {
            Kind::Page => {
                let next = parts
                    .uri
                    .path_and_query()
                    .map_or(paths::DASHBOARD, |path| path.as_str());
                let query = serde_urlencoded::to_string([("next", next)]).unwrap_or_default();
                Redirect::to(&format!("{}?{query}", paths::SIGN_IN)).into_response()
            }
            Kind::Download | Kind::Form => AdminError::SignInRequired.into_response(),
        });
    };
    if !signed.user.role.allows(least) {
        return Err(AdminError::Forbidden.into_response());
    }
    Ok(Some(signed))
}

/// Step 3, for form posts: the origin, then the CSRF token in the body,
/// which is read (at most [`MAX_BODY_BYTES`]) and handed on unchanged.
async fn checked_body(
    app: &AppState,
    route: AdminRoute,
    parts: &axum::http::request::Parts,
    body: Body,
    signed: Option<&SignedIn>,
) -> Result<Body, Response> {
    if route.kind != Kind::Form {
        return Ok(body);
    }
    let refuse = |why| AdminError::FormRefused(why).into_response();
    if parts.method != Method::POST {
        return Err(refuse("not a POST"));
    }
    if !same_site(app, &parts.headers) {
        return Err(refuse("another site"));
    }
    let expected = match signed {
        Some(signed) => Some(signed.csrf_token.clone()),
        None => session::cookie_value(
            &parts.headers,
            session::login_cookie_name(app.admin.secure_cookies),
        ),
    };
    let Some(expected) = expected else {
        return Err(refuse("no CSRF cookie"));
    };
    let bytes = axum::body::to_bytes(body, MAX_BODY_BYTES)
        .await
        .map_err(|_| (StatusCode::PAYLOAD_TOO_LARGE, "request too large").into_response())?;
    let sent = csrf_in_body(&parts.headers, bytes.clone()).await;
    match sent {
        Some(sent) if session::same_secret(&sent, &expected) => Ok(Body::from(bytes)),
        Some(_) => Err(refuse("wrong CSRF token")),
        None => Err(refuse("no CSRF token")),
    }
}

/// The `csrf` field of a URL-encoded or multipart body.
async fn csrf_in_body(headers: &HeaderMap, bytes: Bytes) -> Option<String> {
    let mut copy = Request::builder().method(Method::POST).uri("/");
    for name in [header::CONTENT_TYPE, header::CONTENT_LENGTH] {
        if let Some(value) = headers.get(&name) {
            copy = copy.header(name, value);
        }
    }
    let copy = copy.body(Body::from(bytes)).ok()?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    if content_type.starts_with("multipart/form-data") {
        let mut form = Multipart::from_request(copy, &()).await.ok()?;
        // Bounded by the body's size: every field read is part of it.
        while let Ok(Some(field)) = form.next_field().await {
            if field.name() == Some("csrf") {
                return field.text().await.ok();
            }
        }
        None
    } else {
        axum::Form::<CsrfField>::from_request(copy, &())
            .await
            .ok()
            .map(|axum::Form(field)| field.csrf)
    }
}

/// True unless the request says it comes from another site: its `Origin`
/// must name this server's host (the public URL's, else the `Host`
/// header's), and `Sec-Fetch-Site`, when a browser sends it, must be
/// `same-origin`. A client that sends neither (a script) still needs the
/// CSRF token.
fn same_site(app: &AppState, headers: &HeaderMap) -> bool {
    let header_text = |name: &str| headers.get(name).and_then(|value| value.to_str().ok());
    if let Some(site) = header_text("sec-fetch-site")
        && site != "same-origin"
    {
        return false;
    }
    let Some(origin) = header_text("origin") else {
        return true;
    };
    let origin_host = origin.split_once("://").map(|(_, host)| host);
    let own_host = app
        .public_url
        .as_deref()
        .and_then(|url| url.split_once("://"))
        .map(|(_, rest)| rest.split('/').next().unwrap_or(rest).to_owned())
        .or_else(|| header_text("host").map(str::to_owned));
    matches!((origin_host, own_host), (Some(origin), Some(own)) if origin.eq_ignore_ascii_case(&own))
}
