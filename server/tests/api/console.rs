//! Helpers of the admin console's tests: users made through the store,
//! sessions signed in over HTTP, pages and forms with their CSRF token, and
//! a small campaign to look at.

use reqwest::StatusCode;
use reqwest::header::{self, HeaderMap, HeaderValue};
use server::admin::password::{Password, hash_blocking};
use server::allocation::{ListedSchool, Pledge};
use server::domain::{Role, UserName};
use server::store::admin::{BookSelection, ShipmentDetails};
use server::store::{Actor, ShipRequest};
use sim::wire::SchoolRef;

use crate::helpers::TestApp;

/// Every test user's password.
pub const PASSWORD: &str = "correct horse battery staple";

/// A school of the test campaign.
pub fn school(
    id: &str,
    province: &str,
    prefecture: &str,
    county: &str,
    code: &str,
) -> ListedSchool {
    ListedSchool {
        school: SchoolRef {
            id: id.into(),
            name: format!("{id} 希望小学"),
            province: province.into(),
            prefecture: prefecture.into(),
            county: county.into(),
            county_code: code.into(),
        },
        pupils: 100,
        target_books: 10,
    }
}

/// Three schools in two provinces: A and B in 贵州省雷山县, C in
/// 甘肃省东乡族自治县.
pub fn schools() -> Vec<ListedSchool> {
    vec![
        school("A", "贵州省", "黔东南苗族侗族自治州", "雷山县", "522634"),
        school("B", "贵州省", "黔东南苗族侗族自治州", "雷山县", "522634"),
        school("C", "甘肃省", "临夏回族自治州", "东乡族自治县", "622926"),
    ]
}

impl TestApp {
    /// Creates user `name` with `role` and [`PASSWORD`], as the CLI would.
    pub async fn create_user(&self, name: &str, role: Role) {
        let hash = hash_blocking(&Password::parse(PASSWORD).unwrap()).unwrap();
        self.state
            .store
            .admin()
            .create_user(
                UserName::parse(name).unwrap(),
                role,
                hash,
                &Actor::os_user("test"),
            )
            .await
            .expect("the user is created");
    }

    /// [`schools`], a pledge of one book per participation (up to 100),
    /// `rounds` rounds played, and school A's books shipped.
    pub async fn set_up_console_campaign(&self, rounds: usize) {
        self.cli_import("schools.csv", schools()).await;
        self.cli(|cli| async move {
            cli.pledge(
                Pledge {
                    sponsor: "=HYPERLINK(\"http://x\")基金会".into(),
                    participations_per_book: 1,
                    book_cap: 100,
                },
                Actor::os_user("test"),
            )
            .await
        })
        .await
        .expect("the pledge is valid");
        for _ in 0..rounds {
            self.play_and_count(None).await;
        }
        self.cli(|cli| async move {
            cli.ship(
                ShipRequest {
                    selection: BookSelection::School("A".into()),
                    details: ShipmentDetails::default(),
                },
                Actor::os_user("test"),
            )
            .await
        })
        .await
        .expect("A's books ship");
    }

    /// A client that does not follow redirects.
    pub fn plain_client() -> reqwest::Client {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
    }

    /// Signs `name` in over HTTP.
    pub async fn sign_in(&self, name: &str) -> Console {
        let client = Self::plain_client();
        let form = client.get(self.url("/admin/login")).send().await.unwrap();
        let login_cookie = cookie_pair(form.headers(), "dfl_login").expect("a sign-in cookie");
        let page = form.text().await.unwrap();
        let csrf = hidden_csrf(&page).expect("the sign-in form has a token");
        let answer = client
            .post(self.url("/admin/login"))
            .header(header::COOKIE, &login_cookie)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(
                serde_urlencoded::to_string([
                    ("csrf", csrf.as_str()),
                    ("user", name),
                    ("password", PASSWORD),
                    ("next", "/admin"),
                ])
                .unwrap(),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), StatusCode::SEE_OTHER, "{name} signs in");
        let set_cookie: Vec<String> = answer
            .headers()
            .get_all(header::SET_COOKIE)
            .iter()
            .map(|value| value.to_str().unwrap().to_owned())
            .collect();
        let session = cookie_pair(answer.headers(), "dfl_admin").expect("a session cookie");
        let dashboard = client
            .get(self.url("/admin"))
            .header(header::COOKIE, &session)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        Console {
            client,
            base_url: self.base_url.clone(),
            cookie: session,
            csrf: hidden_csrf(&dashboard).expect("the sign-out form has the token"),
            set_cookie,
        }
    }
}

/// `name=value` of the cookie `name` set by a response.
pub fn cookie_pair(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .map(|value| value.split(';').next().unwrap_or_default().to_owned())
        .find(|pair| pair.starts_with(&format!("{name}=")))
}

/// The first `name="csrf" value="…"` of a page.
pub fn hidden_csrf(page: &str) -> Option<String> {
    let start = page.find("name=\"csrf\" value=\"")? + "name=\"csrf\" value=\"".len();
    Some(page[start..].split('"').next()?.to_owned())
}

/// A signed-in user's HTTP client.
#[derive(Debug, Clone)]
pub struct Console {
    /// Follows no redirect.
    pub client: reqwest::Client,
    /// `http://127.0.0.1:PORT`.
    pub base_url: String,
    /// `dfl_admin=…`.
    pub cookie: String,
    /// The session's CSRF token.
    pub csrf: String,
    /// The `Set-Cookie` headers of the sign-in.
    pub set_cookie: Vec<String>,
}

impl Console {
    /// `GET path` with the session.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.base_url))
            .header(header::COOKIE, &self.cookie)
            .send()
            .await
            .unwrap()
    }

    /// `GET path`, which must answer 200, as text.
    pub async fn page(&self, path: &str) -> String {
        let response = self.get(path).await;
        assert_eq!(response.status(), StatusCode::OK, "GET {path}");
        response.text().await.unwrap()
    }

    /// `POST path` with `fields` URL-encoded, the session's CSRF token
    /// first (unless `csrf` is `None`), and `headers`.
    pub async fn post_with(
        &self,
        path: &str,
        csrf: Option<&str>,
        fields: &[(&str, &str)],
        headers: &[(&'static str, &'static str)],
    ) -> reqwest::Response {
        let mut all: Vec<(&str, &str)> = csrf.map(|token| ("csrf", token)).into_iter().collect();
        all.extend_from_slice(fields);
        let mut request = self
            .client
            .post(format!("{}{path}", self.base_url))
            .header(header::COOKIE, &self.cookie)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(serde_urlencoded::to_string(&all).unwrap());
        for (name, value) in headers {
            request = request.header(*name, HeaderValue::from_static(value));
        }
        request.send().await.unwrap()
    }

    /// `POST path` with the session's token, from the same origin.
    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let csrf = self.csrf.clone();
        self.post_with(
            path,
            Some(&csrf),
            fields,
            &[("sec-fetch-site", "same-origin")],
        )
        .await
    }
}

/// The cells of every body row of the first `<table class="data">` of
/// `page` whose caption contains `caption`, as text (tags dropped,
/// entities decoded), and its footer row.
pub fn table_rows(page: &str, caption: &str) -> (Vec<Vec<String>>, Vec<String>) {
    let table = page
        .split("<table class=\"data\">")
        .skip(1)
        .find(|table| {
            table
                .split("</caption>")
                .next()
                .is_some_and(|head| head.contains(caption))
        })
        .unwrap_or_else(|| panic!("no table captioned {caption:?}"));
    let table = table.split("</table>").next().unwrap();
    let rows_of = |part: &str| -> Vec<Vec<String>> {
        part.split("<tr>")
            .skip(1)
            .map(|row| {
                row.split(['<'])
                    .fold((Vec::new(), None::<String>), |(mut cells, open), piece| {
                        let (tag, text) = piece.split_once('>').unwrap_or((piece, ""));
                        let opens = tag.starts_with("td") || tag.starts_with("th");
                        let closes = tag.starts_with("/td") || tag.starts_with("/th");
                        match (opens, closes, open) {
                            (true, _, _) => (cells, Some(text.to_owned())),
                            (_, true, Some(cell)) => {
                                cells.push(decode(&cell));
                                (cells, None)
                            }
                            (_, _, Some(mut cell)) => {
                                cell.push_str(text);
                                (cells, Some(cell))
                            }
                            (_, _, None) => (cells, None),
                        }
                    })
                    .0
            })
            .collect()
    };
    let body = table
        .split("<tbody>")
        .nth(1)
        .and_then(|rest| rest.split("</tbody>").next())
        .unwrap_or_default();
    let footer = table
        .split("<tfoot>")
        .nth(1)
        .and_then(|rest| rest.split("</tfoot>").next())
        .map(|part| rows_of(part).into_iter().next().unwrap_or_default())
        .unwrap_or_default();
    (rows_of(body), footer)
}

fn decode(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
        .trim()
        .to_owned()
}
