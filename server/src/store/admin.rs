//! What the admin console asks of the ledger besides the public [`Store`]
//! questions: accounts and sessions, the audit log, and the reads behind
//! the console's reports ([`AdminStore`]). Every type here is a domain
//! type; the decisions (who may sign in, which sessions end, which audit
//! entry an action writes) are made in shared code ([`super::accounts`],
//! [`super::actions`]), never by a backend.
//!
//! [`Store`]: super::Store

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;
use sim::wire::{RejectReason, SchoolRef};

use super::StoreError;
use crate::allocation::{BookState, ListedSchool, Pledge, SchoolTally};
use crate::domain::{ChinaDay, Role, UserId, UserName};

/// Short for the admin store's results.
pub type AdminResult<T> = Result<T, StoreError>;

/// Who did something, for the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Actor {
    /// What kind of actor.
    pub kind: ActorKind,
    /// The user's name, the operating-system user, or the name tried at a
    /// failed sign-in.
    pub name: String,
    /// The signed-in user, for [`ActorKind::User`].
    pub user: Option<UserId>,
    /// The client's address, for requests over HTTP.
    pub address: Option<String>,
}

impl Actor {
    /// A signed-in console user at `address`.
    pub fn user(id: UserId, name: &UserName, address: impl Into<String>) -> Self {
        Self {
            kind: ActorKind::User,
            name: name.to_string(),
            user: Some(id),
            address: Some(address.into()),
        }
    }

    /// An operating-system user running a `server` subcommand.
    pub fn os_user(name: impl Into<String>) -> Self {
        Self {
            kind: ActorKind::OsUser,
            name: name.into(),
            user: None,
            address: None,
        }
    }

    /// Whoever holds a school's receipt link, at `address`.
    pub fn receipt_link(address: impl Into<String>) -> Self {
        Self {
            kind: ActorKind::ReceiptLink,
            name: "receipt-link".into(),
            user: None,
            address: Some(address.into()),
        }
    }

    /// Someone not signed in, trying the name `tried`, at `address`.
    pub fn anonymous(tried: impl Into<String>, address: impl Into<String>) -> Self {
        Self {
            kind: ActorKind::Anonymous,
            name: tried.into(),
            user: None,
            address: Some(address.into()),
        }
    }
}

/// The kinds of [`Actor`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ActorKind {
    /// A signed-in console user.
    User,
    /// An operating-system user at the command line.
    OsUser,
    /// A school, through its receipt link.
    ReceiptLink,
    /// Someone not signed in (a failed sign-in).
    Anonymous,
}

impl ActorKind {
    /// Every kind.
    pub const ALL: [ActorKind; 4] = [
        ActorKind::User,
        ActorKind::OsUser,
        ActorKind::ReceiptLink,
        ActorKind::Anonymous,
    ];

    /// Its stable name, as stored.
    pub fn name(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::OsUser => "os_user",
            Self::ReceiptLink => "receipt_link",
            Self::Anonymous => "anonymous",
        }
    }

    /// The kind named `name`.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.name() == name)
    }
}

macro_rules! audit_actions {
    ($($(#[$doc:meta])* $variant:ident => $name:literal, $zh:literal, $en:literal;)*) => {
        /// What an audit entry records.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
        #[serde(rename_all = "snake_case")]
        pub enum AuditAction {
            $($(#[$doc])* $variant,)*
        }

        impl AuditAction {
            /// Every action.
            pub const ALL: &'static [AuditAction] = &[$(AuditAction::$variant,)*];

            /// Its stable name, as stored (`sign_in_failed`).
            pub fn name(self) -> &'static str {
                match self { $(Self::$variant => $name,)* }
            }

            /// In Chinese.
            pub fn zh(self) -> &'static str {
                match self { $(Self::$variant => $zh,)* }
            }

            /// In English.
            pub fn en(self) -> &'static str {
                match self { $(Self::$variant => $en,)* }
            }

            /// The action named `name`.
            pub fn from_name(name: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|action| action.name() == name)
            }
        }
    };
}

audit_actions! {
    /// A user signed in.
    SignIn => "sign_in", "登录", "Signed in";
    /// A sign-in was refused (unknown user, wrong password, disabled).
    SignInFailed => "sign_in_failed", "登录失败", "Sign-in failed";
    /// A sign-in was refused without checking: too many recent failures.
    SignInThrottled => "sign_in_throttled", "登录受限", "Sign-in throttled";
    /// A user signed out.
    SignOut => "sign_out", "退出", "Signed out";
    /// A user was created.
    UserCreated => "user_created", "创建用户", "User created";
    /// A password was set.
    PasswordChanged => "password_changed", "修改密码", "Password changed";
    /// A role was changed.
    RoleChanged => "role_changed", "修改角色", "Role changed";
    /// A user was disabled.
    UserDisabled => "user_disabled", "停用用户", "User disabled";
    /// A user was enabled again.
    UserEnabled => "user_enabled", "启用用户", "User enabled";
    /// A school list was imported.
    SchoolsImported => "schools_imported", "导入学校名单", "School list imported";
    /// A pledge was added.
    PledgeAdded => "pledge_added", "新增认捐", "Pledge added";
    /// Books were marked shipped.
    BooksShipped => "books_shipped", "标记发货", "Books shipped";
    /// A school confirmed its books.
    BooksReceived => "books_received", "确认收货", "Books received";
    /// A table was exported.
    Exported => "exported", "导出", "Exported";
    /// A QR poster was made, with a share code of its own.
    PosterMade => "poster_made", "制作海报", "Poster made";
}

/// One entry of the audit log, as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    /// When, in ms since the Unix epoch.
    pub at_ms: u64,
    /// Who.
    pub actor: Actor,
    /// What.
    pub action: AuditAction,
    /// To what (a user name, a school id, a file name, a table).
    pub target: String,
    /// The details, in words (`books 1-20, 3 shipments`).
    pub detail: String,
}

/// An audit entry as stored: numbered in the order written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditRecord {
    /// Its number, from 1.
    pub id: u64,
    /// The entry.
    #[serde(flatten)]
    pub entry: AuditEntry,
}

/// Which audit entries to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// Only this action.
    pub action: Option<AuditAction>,
    /// Only actors with this name (a user name, an OS user).
    pub actor: Option<String>,
    /// Only entries at or after this instant (ms since the Unix epoch).
    pub from_ms: Option<u64>,
    /// Only entries before this instant (ms since the Unix epoch).
    pub until_ms: Option<u64>,
}

/// A page of a long list: which rows, and how many there are in all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    /// The rows of the page.
    pub rows: Vec<T>,
    /// Rows matching the filter, on every page.
    pub total: u64,
}

/// Rows to skip and rows to take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// Rows skipped.
    pub offset: u64,
    /// Most rows taken.
    pub limit: u64,
}

impl Window {
    /// Every row (for exports), up to `limit`.
    pub fn all(limit: u64) -> Self {
        Self { offset: 0, limit }
    }
}

/// A console user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    /// Its number.
    pub id: UserId,
    /// Its sign-in name.
    pub name: UserName,
    /// What it may do.
    pub role: Role,
    /// A disabled user cannot sign in and has no session.
    pub disabled: bool,
    /// When it was created, in ms since the Unix epoch.
    pub created_at_ms: u64,
    /// When its password was last set, in ms since the Unix epoch.
    pub password_changed_at_ms: u64,
}

/// A user with its password hash, for signing in.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The user.
    pub user: User,
    /// Its password, as an argon2id PHC string.
    pub password_hash: PasswordHash,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

/// A password hash as stored: an argon2id PHC string (`$argon2id$v=19$…`).
/// Nothing else is ever stored, which the database checks too.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(String);

impl PasswordHash {
    /// The PHC prefix every stored hash has.
    pub const PREFIX: &'static str = "$argon2id$";

    /// Accepts `phc` if it is an argon2id PHC string.
    pub fn new(phc: String) -> Result<Self, StoreError> {
        if phc.starts_with(Self::PREFIX) {
            Ok(Self(phc))
        } else {
            Err(StoreError::Inconsistent(
                "a stored password hash is not argon2id".into(),
            ))
        }
    }

    /// The PHC string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHash(…)")
    }
}

/// A session as stored, with its user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    /// The user it belongs to (as the users table says now: a role change
    /// applies to the next request).
    pub user: User,
    /// The token its forms carry against cross-site requests.
    pub csrf_token: String,
    /// When it was created, in ms since the Unix epoch.
    pub created_at_ms: u64,
    /// When it was last used (to [`SESSION_TOUCH_MS`] precision), in ms
    /// since the Unix epoch.
    pub last_seen_at_ms: u64,
}

/// How stale a session's last-seen time may get before a request writes it
/// again, in ms: idle expiry is this precise, and a console user costs the
/// database at most one write a minute.
pub const SESSION_TOUCH_MS: u64 = 60_000;

/// A new session, as the sign-in decided it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSession {
    /// SHA-256 of the token in the cookie (the token itself is never
    /// stored, so the database holds no live credential).
    pub token_hash: [u8; 32],
    /// Its CSRF token.
    pub csrf_token: String,
    /// The user.
    pub user: UserId,
    /// Where the sign-in came from.
    pub address: String,
}

/// How many sign-ins failed recently.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FailedSignIns {
    /// With the name tried.
    pub for_name: u64,
    /// From the address.
    pub from_address: u64,
}

/// How a group's or a school's books moved (in a period, or in all).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Movement {
    /// Books allocated.
    pub allocated: u64,
    /// Books shipped.
    pub shipped: u64,
    /// Books received.
    pub received: u64,
}

impl Movement {
    /// Adds `other` to this.
    pub fn add(&mut self, other: Movement) {
        self.allocated += other.allocated;
        self.shipped += other.shipped;
        self.received += other.received;
    }
}

/// One county, from the schools' tallies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CountySummary {
    /// Its GB/T 2260 code.
    pub county_code: String,
    /// Its province.
    pub province: String,
    /// Its prefecture.
    pub prefecture: String,
    /// Its name.
    pub county: String,
    /// Schools in it.
    pub schools: u64,
    /// Their targets, in books.
    pub target_books: u64,
    /// Their books, in all.
    pub books: Movement,
}

/// Which schools (by place); every part optional.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AreaFilter {
    /// Only this province.
    pub province: Option<String>,
    /// Only this prefecture.
    pub prefecture: Option<String>,
    /// Only this county code.
    pub county_code: Option<String>,
}

/// A book with its lifecycle dates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookLifecycle {
    /// Its number.
    pub book: u64,
    /// Its state.
    pub state: BookState,
    /// When it was funded, in ms since the Unix epoch.
    pub funded_at_ms: u64,
    /// When it was allocated, in ms since the Unix epoch.
    pub allocated_at_ms: Option<u64>,
    /// The shipment it went in.
    pub shipment: Option<u64>,
    /// The day the shipment left.
    pub shipped_on: Option<ChinaDay>,
    /// When the school confirmed it, in ms since the Unix epoch.
    pub received_at_ms: Option<u64>,
}

/// A pledge with when it was made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PledgeRecord {
    /// Its place in the order of use, from 1.
    pub order: u64,
    /// The pledge.
    pub pledge: Pledge,
    /// When it was added, in ms since the Unix epoch.
    pub pledged_at_ms: u64,
}

/// Which allocated books a shipment takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BookSelection {
    /// Every allocated book of one school.
    School(String),
    /// Every allocated book of the schools of one county (by code).
    County(String),
    /// The allocated books numbered in a range.
    Books(std::ops::RangeInclusive<u64>),
}

impl fmt::Display for BookSelection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::School(id) => write!(f, "school {id}"),
            Self::County(code) => write!(f, "county {code}"),
            Self::Books(range) => write!(f, "books {}-{}", range.start(), range.end()),
        }
    }
}

/// What a shipment is sent with.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ShipmentDetails {
    /// The carrier (`顺丰`).
    pub carrier: Option<String>,
    /// The tracking number.
    pub tracking: Option<String>,
    /// The day it left; `None` is the day it is recorded.
    pub shipped_on: Option<ChinaDay>,
    /// A free note.
    pub note: Option<String>,
}

/// A request to mark books shipped: one shipment per school.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShipRequest {
    /// The books.
    pub selection: BookSelection,
    /// How they travel.
    pub details: ShipmentDetails,
}

/// A shipment as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShipmentRecord {
    /// Its id.
    pub id: u64,
    /// The school it went to (`None` for shipments recorded across schools
    /// before shipments were made per school).
    pub school: Option<SchoolRef>,
    /// Books in it.
    pub books: u64,
    /// The first and last book numbers in it.
    pub first_book: u64,
    /// The last book number in it.
    pub last_book: u64,
    /// Carrier, tracking, day, note.
    pub details: ShipmentDetails,
    /// When it was recorded, in ms since the Unix epoch.
    pub recorded_at_ms: u64,
    /// When the school confirmed it, in ms since the Unix epoch.
    pub confirmed_at_ms: Option<u64>,
}

/// Which shipments to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ShipmentFilter {
    /// Only to this school.
    pub school: Option<String>,
    /// Only confirmed (`Some(true)`) or unconfirmed (`Some(false)`) ones.
    pub confirmed: Option<bool>,
    /// Only those that left on or before this day.
    pub shipped_by: Option<ChinaDay>,
}

/// A school list version, as the import page lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListInfo {
    /// Its version.
    pub version: u32,
    /// The first book it applies to.
    pub first_book: u64,
    /// When it was imported, in ms since the Unix epoch.
    pub imported_at_ms: u64,
    /// The file it came from.
    pub source: String,
    /// Schools in it.
    pub schools: u64,
}

/// Books allocated and not yet shipped, school by school.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unshipped {
    /// Books waiting, in all.
    pub books: u64,
    /// Schools with books waiting.
    pub schools: u64,
    /// The schools with the most books waiting, most first.
    pub top: Vec<SchoolTally>,
}

/// The console's questions and the accounts. Implemented once, for every
/// backend, by the ledger; see the module documentation.
#[async_trait::async_trait]
pub trait AdminStore: Send + Sync + fmt::Debug {
    // Accounts and sessions.

    /// Creates a user; refused if the name is taken.
    async fn create_user(
        &self,
        name: UserName,
        role: Role,
        password_hash: PasswordHash,
        actor: &Actor,
    ) -> AdminResult<User>;

    /// Sets a user's password and ends all its sessions.
    async fn set_password(
        &self,
        name: &UserName,
        password_hash: PasswordHash,
        actor: &Actor,
    ) -> AdminResult<User>;

    /// Changes a user's role; refused if it would leave no enabled admin.
    async fn set_role(&self, name: &UserName, role: Role, actor: &Actor) -> AdminResult<User>;

    /// Disables a user (ending all its sessions) or enables it again;
    /// refused if it would leave no enabled admin.
    async fn set_disabled(
        &self,
        name: &UserName,
        disabled: bool,
        actor: &Actor,
    ) -> AdminResult<User>;

    /// Every user, by name.
    async fn users(&self) -> AdminResult<Vec<User>>;

    /// A user and its password hash, by name.
    async fn credentials(&self, name: &UserName) -> AdminResult<Option<Credentials>>;

    /// Sign-ins that failed since `since_ms` with the name `name` and from
    /// `address`.
    async fn failed_sign_ins(
        &self,
        name: &str,
        address: &str,
        since_ms: u64,
    ) -> AdminResult<FailedSignIns>;

    /// Starts `session` and writes the sign-in to the audit log, together.
    async fn start_session(&self, session: NewSession, actor: &Actor) -> AdminResult<()>;

    /// The session whose token hashes to `token_hash`, with its user.
    async fn session(&self, token_hash: [u8; 32]) -> AdminResult<Option<SessionRecord>>;

    /// Notes that the session was used at `now_ms`.
    async fn touch_session(&self, token_hash: [u8; 32], now_ms: u64) -> AdminResult<()>;

    /// Ends a session; with an actor, writes a sign-out to the audit log.
    async fn end_session(&self, token_hash: [u8; 32], actor: Option<&Actor>) -> AdminResult<()>;

    /// Appends `entry` to the audit log.
    async fn audit(&self, entry: AuditEntry) -> AdminResult<()>;

    /// The audit log, newest first.
    async fn audit_log(
        &self,
        filter: &AuditFilter,
        window: Window,
    ) -> AdminResult<Page<AuditRecord>>;

    // Reports.

    /// The first China day anything happened (`None` before anything did).
    async fn campaign_start(&self) -> AdminResult<Option<ChinaDay>>;

    /// Participations per day from `first` to `last` (days without any
    /// are left out).
    async fn day_counts(
        &self,
        first: ChinaDay,
        last: ChinaDay,
    ) -> AdminResult<Vec<(ChinaDay, u64)>>;

    /// Refusals by reason from `first` to `last`.
    async fn refusals(
        &self,
        first: ChinaDay,
        last: ChinaDay,
    ) -> AdminResult<BTreeMap<RejectReason, u64>>;

    /// Every county, with its schools' targets and books in all.
    async fn counties(&self) -> AdminResult<Vec<CountySummary>>;

    /// How each county's books moved from `first` to `last` (counties
    /// where nothing moved are left out).
    async fn county_movements(
        &self,
        first: ChinaDay,
        last: ChinaDay,
    ) -> AdminResult<BTreeMap<String, Movement>>;

    /// The schools of an area, by id.
    async fn schools_in(&self, area: &AreaFilter) -> AdminResult<Vec<SchoolTally>>;

    /// How each of `schools`' books moved from `first` to `last`.
    async fn school_movements(
        &self,
        schools: Vec<String>,
        first: ChinaDay,
        last: ChinaDay,
    ) -> AdminResult<BTreeMap<String, Movement>>;

    /// A school and the secret of its receipt link.
    async fn school_with_secret(&self, school: &str) -> AdminResult<Option<(SchoolTally, String)>>;

    /// A page of a school's books with their lifecycle dates, by number.
    async fn school_lifecycle(
        &self,
        school: &str,
        window: Window,
    ) -> AdminResult<Page<BookLifecycle>>;

    /// The pledges, in order of use.
    async fn pledge_records(&self) -> AdminResult<Vec<PledgeRecord>>;

    /// A page of shipments, newest first.
    async fn shipments(
        &self,
        filter: &ShipmentFilter,
        window: Window,
    ) -> AdminResult<Page<ShipmentRecord>>;

    /// One shipment, its books, and its school's receipt secret.
    async fn shipment(
        &self,
        id: u64,
    ) -> AdminResult<Option<(ShipmentRecord, Vec<u64>, Option<String>)>>;

    /// The allocated (not yet shipped) books a selection takes, with their
    /// schools.
    async fn allocated_books(&self, selection: &BookSelection) -> AdminResult<Vec<(u64, String)>>;

    /// Books allocated and not shipped, with the `limit` schools that wait
    /// for the most.
    async fn unshipped(&self, limit: u64) -> AdminResult<Unshipped>;

    /// Every school list version, newest first.
    async fn school_list_versions(&self) -> AdminResult<Vec<ListInfo>>;

    /// The latest school list version and its schools.
    async fn latest_school_list(&self) -> AdminResult<Option<(u32, Vec<ListedSchool>)>>;
}
