//! The foundation staff's admin console (issue 10), under `/admin`:
//! server-rendered pages (maud, no script), Chinese first with English
//! beside it, usable on a phone and a desktop.
//!
//! - [`routes`]: every admin route in one list with who may call it, and
//!   the guard every one of them passes (session, role, origin, CSRF).
//! - [`session`]: sessions in the ledger's database, the cookie, the
//!   [`session::RequireRole`] extractor. [`password`]: argon2id, off the
//!   async threads. [`sign_in`]: the sign-in form, throttling, sign-out.
//! - The pages, one module per resource: [`dashboard`], [`reports`] (the
//!   drill-down of [`crate::allocation::drill_down`]), [`schools`],
//!   [`pledges`], [`shipments`], [`imports`], [`sharing`] (what share
//!   links brought, and posters), [`users`], [`audit`].
//! - [`layout`]: the frame, the period selector, the pager; [`export`]:
//!   every table as XLSX, CSV or JSON ([`crate::tables`]), audited;
//!   [`chart`]: the SVG charts; [`error`]: the console's one error type.
//!
//! Invariants: every admin route is in [`routes::ROUTES`] and behind its
//! guard; a change to the ledger goes through the ledger writer with its
//! audit entry in the same transaction; nothing edits or deletes the audit
//! log; only argon2id hashes of passwords are stored.

pub mod audit;
pub mod chart;
pub mod dashboard;
pub mod error;
pub mod export;
pub mod imports;
pub mod layout;
pub mod password;
pub mod pledges;
pub mod reports;
pub mod routes;
pub mod schools;
pub mod session;
pub mod sharing;
pub mod shipments;
pub mod sign_in;
pub mod users;

use crate::config::AdminSettings;

/// What the console keeps while the server runs.
#[derive(Debug)]
pub struct AdminState {
    /// Hashes and checks passwords off the async threads.
    pub hasher: password::Hasher,
    /// Uploaded school lists between their preview and their import.
    pub uploads: imports::Uploads,
    /// Cookies are Secure (the public URL is https).
    pub secure_cookies: bool,
    /// A session unused this long ends, in ms.
    pub idle_ms: u64,
    /// A shipment unconfirmed this many days is on the to-do list.
    pub overdue_days: i64,
}

impl AdminState {
    /// The console's state for `settings`, behind `public_url`.
    pub fn new(settings: &AdminSettings, public_url: Option<&str>) -> Self {
        Self {
            // Two at once: a sign-in stays fast on two cores, and a burst
            // of them cannot take every core from the round API.
            hasher: password::Hasher::new(2),
            uploads: imports::Uploads::default(),
            secure_cookies: public_url.is_some_and(|url| url.starts_with("https://")),
            idle_ms: settings.admin_idle_minutes.max(1) * 60 * 1000,
            overdue_days: i64::from(settings.admin_overdue_days),
        }
    }
}
