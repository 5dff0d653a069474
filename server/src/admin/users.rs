//! `/admin/users` (admins only): the users, creating one, changing a
//! role, disabling or enabling, setting a password. A new password or a
//! disabled user ends every session of that user; the last enabled admin
//! cannot be demoted or disabled. Every change is audited.

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use serde::Deserialize;

use super::error::{AdminError, AdminResult};
use super::export;
use super::layout::{self, Section, both, csrf_field, export_links};
use super::password::Password;
use super::routes::paths;
use super::session::{Admin, RequireRole};
use crate::domain::{Role, UserName};
use crate::state::AppState;
use crate::store::admin::User;
use crate::tables::{Cell, Column, ColumnKind, Table, to_html};

fn users_table(users: &[User]) -> Table {
    let column = |key, zh, en, kind, note_zh, note_en| Column {
        key,
        zh,
        en,
        kind,
        note_zh,
        note_en,
    };
    let mut table = Table::new(
        "用户",
        "Users",
        vec![
            column(
                "name",
                "用户名",
                "User",
                ColumnKind::Id,
                "登录名",
                "The sign-in name",
            ),
            column(
                "role",
                "角色",
                "Role",
                ColumnKind::Text,
                "查看者、操作员或管理员",
                "Viewer, operator or admin",
            ),
            column(
                "status",
                "状态",
                "Status",
                ColumnKind::Text,
                "启用或停用",
                "Enabled or disabled",
            ),
            column(
                "created_at",
                "创建时间",
                "Created",
                ColumnKind::DateTime,
                "创建的时间",
                "When it was created",
            ),
            column(
                "password_changed_at",
                "密码修改",
                "Password set",
                ColumnKind::DateTime,
                "最近一次设置密码的时间",
                "When its password was last set",
            ),
        ],
    );
    for user in users {
        let _ = table.push_row(vec![
            Cell::id(user.name.as_str()),
            Cell::text(format!("{} {}", user.role.zh(), user.role.en())),
            Cell::text(if user.disabled {
                "已停用 disabled"
            } else {
                "启用 enabled"
            }),
            layout::instant_cell(user.created_at_ms),
            layout::instant_cell(user.password_changed_at_ms),
        ]);
    }
    table
}

/// The users page's query.
#[derive(Debug, Default, Deserialize)]
pub struct UsersQuery {
    /// What just changed, for the notice.
    done: Option<String>,
    format: Option<String>,
}

fn role_options(selected: Role) -> maud::Markup {
    html! {
        @for role in Role::ALL {
            option value=(role.name()) selected[role == selected] { (role.zh()) " " (role.en()) }
        }
    }
}

/// `GET /admin/users`.
pub async fn show_users(
    State(state): State<AppState>,
    RequireRole(signed, ..): RequireRole<Admin>,
    Query(query): Query<UsersQuery>,
) -> AdminResult<Response> {
    let users = state.store.admin().users().await?;
    let path = |template: &str, user: &User| template.replace("{user_name}", user.name.as_str());
    let content = html! {
        @if let Some(done) = &query.done { p.notice role="status" { (done) } }
        div.scroll { (to_html(&users_table(&users))) }
        (export_links(paths::USERS_EXPORT, ""))
        h2 { (both("修改用户", "Change a user")) }
        @for user in &users {
            details.card {
                summary { strong { (user.name.as_str()) } " · " (user.role.zh()) @if user.disabled { " · 已停用 disabled" } }
                form.inline method="post" action=(path(paths::USER_ROLE, user)) {
                    (csrf_field(&signed))
                    label { (both("角色", "Role")) br; select name="role" { (role_options(user.role)) } }
                    button.secondary type="submit" { "修改角色 " span lang="en" { "Change role" } }
                }
                form.inline method="post" action=(path(paths::USER_STATUS, user)) {
                    (csrf_field(&signed))
                    input type="hidden" name="disabled" value=(if user.disabled { "false" } else { "true" });
                    button.secondary type="submit" {
                        @if user.disabled { "启用 " span lang="en" { "Enable" } }
                        @else { "停用 " span lang="en" { "Disable" } }
                    }
                }
                form.inline method="post" action=(path(paths::USER_PASSWORD, user)) {
                    (csrf_field(&signed))
                    label { (both("新密码", "New password")) br; input type="password" name="password" minlength="12" autocomplete="new-password" required; }
                    button.secondary type="submit" { "设置密码 " span lang="en" { "Set password" } }
                }
            }
        }
        h2 { (both("新建用户", "Create a user")) }
        form.stack.card method="post" action=(paths::USERS) {
            (csrf_field(&signed))
            label { (both("用户名", "User name")) input type="text" name="name" required pattern="[A-Za-z0-9][A-Za-z0-9._\\-]{1,31}" autocapitalize="none"; }
            label { (both("角色", "Role")) select name="role" { (role_options(Role::Viewer)) } }
            label { (both("密码（至少 12 个字符）", "Password (at least 12 characters)")) input type="password" name="password" minlength="12" autocomplete="new-password" required; }
            button type="submit" { "创建 " span lang="en" { "Create" } }
        }
    };
    Ok(layout::page(&signed, Section::Users, ("用户", "Users"), content).into_response())
}

/// `GET /admin/users/export`.
pub async fn export_users(
    State(state): State<AppState>,
    RequireRole(signed, ..): RequireRole<Admin>,
    Query(query): Query<UsersQuery>,
) -> AdminResult<Response> {
    let format = export::format(query.format.as_deref())?;
    let users = state.store.admin().users().await?;
    export::download(&state, &signed, users_table(&users), "用户", format).await
}

fn done(message: &str) -> Response {
    let query = serde_urlencoded::to_string([("done", message)]).unwrap_or_default();
    Redirect::to(&format!("{}?{query}", paths::USERS)).into_response()
}

fn bad(error: impl std::fmt::Display) -> AdminError {
    AdminError::BadRequest(error.to_string())
}

/// The create-a-user form.
#[derive(Debug, Deserialize)]
pub struct CreateUserForm {
    name: String,
    role: String,
    password: String,
}

/// `POST /admin/users`.
pub async fn create_user(
    State(state): State<AppState>,
    RequireRole(signed, ..): RequireRole<Admin>,
    Form(form): Form<CreateUserForm>,
) -> AdminResult<Response> {
    let name = UserName::parse(&form.name).map_err(bad)?;
    let role = Role::parse(&form.role).map_err(bad)?;
    let password = Password::parse(&form.password).map_err(bad)?;
    let hash = state.admin.hasher.hash(password).await.map_err(bad)?;
    state
        .store
        .admin()
        .create_user(name.clone(), role, hash, &signed.actor())
        .await?;
    Ok(done(&format!("已创建 {name} / {name} created")))
}

fn user_named(text: &str) -> AdminResult<UserName> {
    UserName::parse(text).map_err(|_| AdminError::NotFound)
}

/// The change-role form.
#[derive(Debug, Deserialize)]
pub struct RoleForm {
    role: String,
}

/// `POST /admin/users/{name}/role`.
pub async fn change_role(
    State(state): State<AppState>,
    RequireRole(signed, ..): RequireRole<Admin>,
    Path(name): Path<String>,
    Form(form): Form<RoleForm>,
) -> AdminResult<Response> {
    let name = user_named(&name)?;
    let role = Role::parse(&form.role).map_err(bad)?;
    state
        .store
        .admin()
        .set_role(&name, role, &signed.actor())
        .await?;
    Ok(done(&format!("{name}: {}", role.name())))
}

/// The disable/enable form.
#[derive(Debug, Deserialize)]
pub struct StatusForm {
    disabled: bool,
}

/// `POST /admin/users/{name}/status`.
pub async fn change_status(
    State(state): State<AppState>,
    RequireRole(signed, ..): RequireRole<Admin>,
    Path(name): Path<String>,
    Form(form): Form<StatusForm>,
) -> AdminResult<Response> {
    let name = user_named(&name)?;
    state
        .store
        .admin()
        .set_disabled(&name, form.disabled, &signed.actor())
        .await?;
    Ok(done(&if form.disabled {
        format!("已停用 {name} / {name} disabled")
    } else {
        format!("已启用 {name} / {name} enabled")
    }))
}

/// The set-password form.
#[derive(Debug, Deserialize)]
pub struct PasswordForm {
    password: String,
}

/// `POST /admin/users/{name}/password`.
pub async fn change_password(
    State(state): State<AppState>,
    RequireRole(signed, ..): RequireRole<Admin>,
    Path(name): Path<String>,
    Form(form): Form<PasswordForm>,
) -> AdminResult<Response> {
    let name = user_named(&name)?;
    let password = Password::parse(&form.password).map_err(bad)?;
    let hash = state.admin.hasher.hash(password).await.map_err(bad)?;
    state
        .store
        .admin()
        .set_password(&name, hash, &signed.actor())
        .await?;
    Ok(done(&format!(
        "已设置 {name} 的密码 / password of {name} set"
    )))
}
