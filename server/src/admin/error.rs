//! The admin console's one error type: every refusal and failure of an
//! admin request, each variant's doc naming its HTTP status, answered as a
//! small HTML page in both languages (the console is a browser's, not a
//! script's: the round API keeps its JSON [`crate::error::AppError`]).
//! Server faults are logged in full and never shown.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::layout;
use crate::store::StoreError;

/// Why an admin request was not answered with success.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// 401: a download or a form post without a live session (pages
    /// redirect to the sign-in form instead).
    #[error("sign-in required")]
    SignInRequired,
    /// 403: the user's role does not allow this.
    #[error("the role does not allow this")]
    Forbidden,
    /// 403: a form post without the session's CSRF token, or from another
    /// site.
    #[error("form refused: {0}")]
    FormRefused(&'static str),
    /// 404: nothing of that name.
    #[error("not found")]
    NotFound,
    /// 400: a request the console cannot use, with what to fix (Chinese,
    /// then English).
    #[error("bad request: {0}")]
    BadRequest(String),
    /// 409 for a refusal of the ledger (its message is shown), 503 while
    /// it shuts down, 500 otherwise.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// 500: a table did not fit its columns, or a file could not be made.
    #[error("building an export: {0}")]
    Export(String),
}

impl IntoResponse for AdminError {
    fn into_response(self) -> Response {
        let (status, zh, en, detail) = match &self {
            Self::SignInRequired => (
                StatusCode::UNAUTHORIZED,
                "请先登录",
                "Please sign in first",
                None,
            ),
            Self::Forbidden => (
                StatusCode::FORBIDDEN,
                "没有权限",
                "Your role does not allow this",
                None,
            ),
            Self::FormRefused(why) => {
                tracing::warn!(reason = why, "admin form refused");
                (
                    StatusCode::FORBIDDEN,
                    "表单已失效，请返回、刷新后再试",
                    "This form is no longer valid: go back, reload and try again",
                    None,
                )
            }
            Self::NotFound => (StatusCode::NOT_FOUND, "找不到", "Not found", None),
            Self::BadRequest(message) => (
                StatusCode::BAD_REQUEST,
                "请求有误",
                "Bad request",
                Some(message.clone()),
            ),
            Self::Store(StoreError::Refused(message)) => (
                StatusCode::CONFLICT,
                "未执行",
                "Not done",
                Some(message.clone()),
            ),
            Self::Store(StoreError::WriterStopped) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "服务器正在关闭",
                "The server is shutting down",
                None,
            ),
            fault => {
                tracing::error!(error = %fault, "admin console fault");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "服务器出错",
                    "Server error",
                    None,
                )
            }
        };
        (
            status,
            [(axum::http::header::CACHE_CONTROL, "no-store")],
            layout::message_page(status, zh, en, detail.as_deref()),
        )
            .into_response()
    }
}

/// Short for the console's results.
pub type AdminResult<T> = Result<T, AdminError>;
