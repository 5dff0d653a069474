//! [`AdminStore`] for the [`Ledger`], written once for every backend: the
//! accounts' rules (a name is taken once, the last enabled admin stays, a
//! new password or a disabled user ends every session of that user, each
//! change is audited in its own transaction) and the console's reads.
//!
//! Accounts transactions run on a connection of their own, never on the
//! ledger writer's, and are one small write each.

use std::collections::BTreeMap;

use sim::wire::RejectReason;

use super::StoreError;
use super::admin::{
    Actor, AdminResult, AdminStore, AreaFilter, AuditAction, AuditEntry, AuditFilter, AuditRecord,
    BookLifecycle, BookSelection, CountySummary, Credentials, FailedSignIns, ListInfo, Movement,
    NewSession, Page, PasswordHash, PledgeRecord, SessionRecord, ShipmentFilter, ShipmentRecord,
    Unshipped, User, Window,
};
use super::backend::{
    AccountChanges, AccountsWrite, Backend, ConsoleRead, LedgerRead, SchoolKey, UserUpdate,
};
use super::ledger::Ledger;
use crate::allocation::{ListedSchool, SchoolTally};
use crate::domain::{ChinaDay, Role, UserName};

/// A refusal the console shows as is.
fn refused(message: &str) -> StoreError {
    StoreError::Refused(message.to_owned())
}

/// The user named `name` inside `tx`, or a refusal.
async fn existing(tx: &mut impl ConsoleRead, name: &UserName) -> AdminResult<User> {
    tx.credentials(name.clone())
        .await?
        .map(|credentials| credentials.user)
        .ok_or_else(|| refused("没有这个用户 / no such user"))
}

/// Refuses a change that leaves no enabled admin: `user` stops being one.
async fn keep_an_admin(tx: &mut impl ConsoleRead, user: &User) -> AdminResult<()> {
    if user.role != Role::Admin || user.disabled {
        return Ok(());
    }
    let admins = tx
        .users()
        .await?
        .into_iter()
        .filter(|other| other.role == Role::Admin && !other.disabled)
        .count();
    if admins <= 1 {
        return Err(refused(
            "至少要保留一名启用的管理员 / at least one enabled admin must remain",
        ));
    }
    Ok(())
}

/// Writes `changes` in `tx`, reads `name` back, commits.
async fn write_and_read<T: AccountsWrite>(
    mut tx: T,
    changes: AccountChanges,
    name: &UserName,
) -> AdminResult<User> {
    tx.apply(&changes).await?;
    let user = existing(&mut tx, name).await?;
    tx.commit().await?;
    Ok(user)
}

/// Writes `changes` in a new accounts transaction of `backend`.
async fn write<B: Backend>(backend: &B, changes: AccountChanges) -> AdminResult<()> {
    let mut tx = backend.accounts_tx().await?;
    tx.apply(&changes).await?;
    tx.commit().await
}

fn entry(actor: &Actor, action: AuditAction, target: &str, detail: String) -> AuditEntry {
    AuditEntry {
        at_ms: crate::now_unix_ms(),
        actor: actor.clone(),
        action,
        target: target.to_owned(),
        detail,
    }
}

fn days(first: ChinaDay, last: ChinaDay) -> (i64, i64) {
    (first.number(), last.number())
}

#[async_trait::async_trait]
impl<B: Backend> AdminStore for Ledger<B> {
    async fn create_user(
        &self,
        name: UserName,
        role: Role,
        password_hash: PasswordHash,
        actor: &Actor,
    ) -> AdminResult<User> {
        let mut tx = self.backend.accounts_tx().await?;
        if tx.credentials(name.clone()).await?.is_some() {
            return Err(refused("用户名已存在 / the user name is taken"));
        }
        let changes = AccountChanges {
            at_ms: crate::now_unix_ms(),
            new_user: Some((name.clone(), role, password_hash)),
            audit: vec![entry(
                actor,
                AuditAction::UserCreated,
                name.as_str(),
                format!("角色 {} / role {}", role.zh(), role.name()),
            )],
            ..AccountChanges::default()
        };
        write_and_read(tx, changes, &name).await
    }

    async fn set_password(
        &self,
        name: &UserName,
        password_hash: PasswordHash,
        actor: &Actor,
    ) -> AdminResult<User> {
        let mut tx = self.backend.accounts_tx().await?;
        existing(&mut tx, name).await?;
        let changes = AccountChanges {
            at_ms: crate::now_unix_ms(),
            user_updates: vec![UserUpdate {
                name: name.clone(),
                role: None,
                disabled: None,
                password_hash: Some(password_hash),
            }],
            end_sessions_of: vec![name.clone()],
            audit: vec![entry(
                actor,
                AuditAction::PasswordChanged,
                name.as_str(),
                "所有会话已结束 / every session ended".into(),
            )],
            ..AccountChanges::default()
        };
        write_and_read(tx, changes, name).await
    }

    async fn set_role(&self, name: &UserName, role: Role, actor: &Actor) -> AdminResult<User> {
        let mut tx = self.backend.accounts_tx().await?;
        let user = existing(&mut tx, name).await?;
        if user.role == role {
            return Ok(user);
        }
        if role != Role::Admin {
            keep_an_admin(&mut tx, &user).await?;
        }
        let changes = AccountChanges {
            at_ms: crate::now_unix_ms(),
            user_updates: vec![UserUpdate {
                name: name.clone(),
                role: Some(role),
                disabled: None,
                password_hash: None,
            }],
            audit: vec![entry(
                actor,
                AuditAction::RoleChanged,
                name.as_str(),
                format!("{} → {}", user.role.name(), role.name()),
            )],
            ..AccountChanges::default()
        };
        write_and_read(tx, changes, name).await
    }

    async fn set_disabled(
        &self,
        name: &UserName,
        disabled: bool,
        actor: &Actor,
    ) -> AdminResult<User> {
        let mut tx = self.backend.accounts_tx().await?;
        let user = existing(&mut tx, name).await?;
        if user.disabled == disabled {
            return Ok(user);
        }
        if disabled {
            keep_an_admin(&mut tx, &user).await?;
        }
        let (action, detail) = if disabled {
            (
                AuditAction::UserDisabled,
                "所有会话已结束 / every session ended",
            )
        } else {
            (AuditAction::UserEnabled, "")
        };
        let changes = AccountChanges {
            at_ms: crate::now_unix_ms(),
            user_updates: vec![UserUpdate {
                name: name.clone(),
                role: None,
                disabled: Some(disabled),
                password_hash: None,
            }],
            end_sessions_of: if disabled { vec![name.clone()] } else { vec![] },
            audit: vec![entry(actor, action, name.as_str(), detail.into())],
            ..AccountChanges::default()
        };
        write_and_read(tx, changes, name).await
    }

    async fn users(&self) -> AdminResult<Vec<User>> {
        self.backend.reader().await?.users().await
    }

    async fn credentials(&self, name: &UserName) -> AdminResult<Option<Credentials>> {
        self.backend.reader().await?.credentials(name.clone()).await
    }

    async fn failed_sign_ins(
        &self,
        name: &str,
        address: &str,
        since_ms: u64,
    ) -> AdminResult<FailedSignIns> {
        self.backend
            .reader()
            .await?
            .failed_sign_ins(name.to_owned(), address.to_owned(), since_ms)
            .await
    }

    async fn start_session(&self, session: NewSession, actor: &Actor) -> AdminResult<()> {
        let changes = AccountChanges {
            at_ms: crate::now_unix_ms(),
            new_session: Some(session),
            audit: vec![entry(
                actor,
                AuditAction::SignIn,
                &actor.name,
                String::new(),
            )],
            ..AccountChanges::default()
        };
        write(self.backend.as_ref(), changes).await
    }

    async fn session(&self, token_hash: [u8; 32]) -> AdminResult<Option<SessionRecord>> {
        self.backend.reader().await?.session(token_hash).await
    }

    async fn touch_session(&self, token_hash: [u8; 32], now_ms: u64) -> AdminResult<()> {
        let changes = AccountChanges {
            at_ms: now_ms,
            touch: Some(token_hash),
            ..AccountChanges::default()
        };
        write(self.backend.as_ref(), changes).await
    }

    async fn end_session(&self, token_hash: [u8; 32], actor: Option<&Actor>) -> AdminResult<()> {
        let changes = AccountChanges {
            at_ms: crate::now_unix_ms(),
            end_sessions: vec![token_hash],
            audit: actor
                .map(|actor| entry(actor, AuditAction::SignOut, &actor.name, String::new()))
                .into_iter()
                .collect(),
            ..AccountChanges::default()
        };
        write(self.backend.as_ref(), changes).await
    }

    async fn audit(&self, entry: AuditEntry) -> AdminResult<()> {
        let changes = AccountChanges {
            at_ms: entry.at_ms,
            audit: vec![entry],
            ..AccountChanges::default()
        };
        write(self.backend.as_ref(), changes).await
    }

    async fn audit_log(
        &self,
        filter: &AuditFilter,
        window: Window,
    ) -> AdminResult<Page<AuditRecord>> {
        self.backend
            .reader()
            .await?
            .audit_log(filter.clone(), window)
            .await
    }

    async fn campaign_start(&self) -> AdminResult<Option<ChinaDay>> {
        Ok(self
            .backend
            .reader()
            .await?
            .first_day()
            .await?
            .map(ChinaDay::from_number))
    }

    async fn day_counts(
        &self,
        first: ChinaDay,
        last: ChinaDay,
    ) -> AdminResult<Vec<(ChinaDay, u64)>> {
        let (first, last) = days(first, last);
        Ok(self
            .backend
            .reader()
            .await?
            .day_counts(first, last)
            .await?
            .into_iter()
            .map(|(day, count)| (ChinaDay::from_number(day), count))
            .collect())
    }

    async fn refusals(
        &self,
        first: ChinaDay,
        last: ChinaDay,
    ) -> AdminResult<BTreeMap<RejectReason, u64>> {
        let (first, last) = days(first, last);
        self.backend.reader().await?.refusals(first, last).await
    }

    async fn counties(&self) -> AdminResult<Vec<CountySummary>> {
        self.backend.reader().await?.counties().await
    }

    async fn county_movements(
        &self,
        first: ChinaDay,
        last: ChinaDay,
    ) -> AdminResult<BTreeMap<String, Movement>> {
        let (first, last) = days(first, last);
        self.backend
            .reader()
            .await?
            .county_movements(first, last)
            .await
    }

    async fn schools_in(&self, area: &AreaFilter) -> AdminResult<Vec<SchoolTally>> {
        self.backend.reader().await?.schools_in(area.clone()).await
    }

    async fn school_movements(
        &self,
        schools: Vec<String>,
        first: ChinaDay,
        last: ChinaDay,
    ) -> AdminResult<BTreeMap<String, Movement>> {
        let (first, last) = days(first, last);
        self.backend
            .reader()
            .await?
            .school_movements(schools, first, last)
            .await
    }

    async fn school_with_secret(&self, school: &str) -> AdminResult<Option<(SchoolTally, String)>> {
        self.backend
            .reader()
            .await?
            .school(SchoolKey::Id(school.to_owned()))
            .await
    }

    async fn school_lifecycle(
        &self,
        school: &str,
        window: Window,
    ) -> AdminResult<Page<BookLifecycle>> {
        self.backend
            .reader()
            .await?
            .school_lifecycle(school.to_owned(), window)
            .await
    }

    async fn pledge_records(&self) -> AdminResult<Vec<PledgeRecord>> {
        self.backend.reader().await?.pledge_records().await
    }

    async fn shipments(
        &self,
        filter: &ShipmentFilter,
        window: Window,
    ) -> AdminResult<Page<ShipmentRecord>> {
        self.backend
            .reader()
            .await?
            .shipments(filter.clone(), window)
            .await
    }

    async fn shipment(
        &self,
        id: u64,
    ) -> AdminResult<Option<(ShipmentRecord, Vec<u64>, Option<String>)>> {
        let mut reader = self.backend.reader().await?;
        let Some(shipment) = reader.shipment(id).await? else {
            return Ok(None);
        };
        let books = reader.shipment_books(id).await?;
        let secret = match &shipment.school {
            Some(school) => reader
                .school(SchoolKey::Id(school.id.clone()))
                .await?
                .map(|(_, secret)| secret),
            None => None,
        };
        Ok(Some((shipment, books, secret)))
    }

    async fn allocated_books(&self, selection: &BookSelection) -> AdminResult<Vec<(u64, String)>> {
        self.backend
            .reader()
            .await?
            .allocated_books(selection.clone())
            .await
    }

    async fn unshipped(&self, limit: u64) -> AdminResult<Unshipped> {
        self.backend.reader().await?.unshipped(limit).await
    }

    async fn school_list_versions(&self) -> AdminResult<Vec<ListInfo>> {
        self.backend.reader().await?.school_list_versions().await
    }

    async fn latest_school_list(&self) -> AdminResult<Option<(u32, Vec<ListedSchool>)>> {
        self.backend.reader().await?.latest_school_list().await
    }
}
