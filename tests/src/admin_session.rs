//! Signing in to the admin console over plain HTTP, for the programs that
//! ask its pages for something (`bench-admin`, `lighthouse-pages`): the
//! sign-in form's own cookie and CSRF token, then the session cookie.

use anyhow::Context as _;
use reqwest::header;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "dfl_admin";
/// The sign-in form's cookie, which carries its CSRF secret.
const SIGN_IN_COOKIE: &str = "dfl_login";

/// A signed-in client: send `cookie` in a `Cookie` header with each request.
#[derive(Debug, Clone)]
pub struct AdminSession {
    /// A client that follows no redirect, so a lost session shows as one.
    pub client: reqwest::Client,
    /// `http://127.0.0.1:PORT`.
    pub base_url: String,
    /// `dfl_admin=…`, the whole `Cookie` header.
    pub cookie: String,
}

impl AdminSession {
    /// Signs in as `user` at the server of `base_url`.
    ///
    /// # Errors
    /// When the form has no cookie or token, or the server sets no session
    /// (a wrong password, a disabled user, throttling).
    pub async fn sign_in(base_url: &str, user: &str, password: &str) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        let form = client.get(format!("{base_url}/admin/login")).send().await?;
        let login = cookie(form.headers(), SIGN_IN_COOKIE).context("the sign-in form's cookie")?;
        let page = form.text().await?;
        let marker = "name=\"csrf\" value=\"";
        let start = page.find(marker).context("the sign-in form's token")? + marker.len();
        let csrf = page[start..].split('"').next().unwrap_or_default();
        let body =
            serde_urlencoded::to_string([("csrf", csrf), ("user", user), ("password", password)])?;
        let answer = client
            .post(format!("{base_url}/admin/login"))
            .header(header::COOKIE, login)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await?;
        let session = cookie(answer.headers(), SESSION_COOKIE)
            .with_context(|| format!("signing in as {user}: no session ({})", answer.status()))?;
        Ok(Self {
            client,
            base_url: base_url.to_owned(),
            cookie: session,
        })
    }

    /// `GET path` with the session; the answer, whatever its status.
    ///
    /// # Errors
    /// When the request cannot be sent.
    pub async fn get(&self, path: &str) -> reqwest::Result<reqwest::Response> {
        self.client
            .get(format!("{}{path}", self.base_url))
            .header(header::COOKIE, &self.cookie)
            .send()
            .await
    }
}

/// `name=value` of cookie `name` among `Set-Cookie` headers.
pub fn cookie(headers: &header::HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .map(|value| value.split(';').next().unwrap_or_default().to_owned())
        .find(|pair| pair.starts_with(&format!("{name}=")))
}
