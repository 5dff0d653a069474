//! The admin actions that change the ledger (a pledge, a school list, a
//! shipment, a school's confirmation of receipt), written once for every
//! backend.
//!
//! Each runs inside a write transaction of the ledger writer, with the
//! writer's own [`Allocator`], so that books funded or allocated by an
//! action follow the same rule, in the same order, as those funded by
//! participations. Each decides from facts the backend answers and hands
//! back what to write ([`Changes`]).

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use super::StoreError;
use super::admin::{Actor, AuditAction, AuditEntry, BookSelection, ShipRequest};
use super::backend::{
    Changes, Head, LedgerRead, NewSchoolList, NewShareCode, NewShipment, Result, SchoolKey,
};
use crate::allocation::{Allocator, ListedSchool, Pledge};
use crate::domain::{ChinaDay, ShareCode};

/// An action of an admin (or of a school, for [`Action::Receive`]), with
/// who asked for it: its audit entry is written in the same transaction.
#[derive(Debug, Clone)]
pub(crate) enum Action {
    /// Add a pledge after the others.
    Pledge {
        /// The pledge.
        pledge: Pledge,
        /// Who.
        actor: Actor,
    },
    /// Import a new version of the school list.
    ImportSchools {
        /// The file it came from.
        source: String,
        /// Its schools (at least one).
        schools: Vec<ListedSchool>,
        /// The latest version the import was previewed against, if it was
        /// (`Some(None)`: there was none): refused if another import came
        /// in between, since the preview would no longer be what is
        /// imported.
        based_on: Option<Option<u32>>,
        /// Who.
        actor: Actor,
    },
    /// Mark allocated books shipped: one shipment per school.
    Ship {
        /// Which books, and how they travel.
        request: ShipRequest,
        /// Who.
        actor: Actor,
    },
    /// The school with this receipt secret confirms its shipped books.
    Receive {
        /// The secret of its receipt link.
        secret: String,
        /// Who (whoever holds the link).
        actor: Actor,
    },
    /// A new share code for a poster, crediting a class or an event.
    CreatePosterCode {
        /// The class or event.
        label: Option<String>,
        /// Who.
        actor: Actor,
    },
}

/// What an action did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ActionOutcome {
    /// See [`PledgeOutcome`].
    Pledged(PledgeOutcome),
    /// See [`ImportOutcome`].
    Imported(ImportOutcome),
    /// See [`ShipOutcome`].
    Shipped(ShipOutcome),
    /// The school's id and the books it confirmed; `None` for an unknown
    /// secret.
    Received(Option<(String, u64)>),
    /// The new code.
    PosterCodeCreated(ShareCode),
}

/// What an import did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportOutcome {
    /// The new list version.
    pub version: u32,
    /// The first book it applies to.
    pub first_book: u64,
    /// Schools in it.
    pub schools: usize,
    /// Funded books that were waiting for a school and got one.
    pub books_allocated: usize,
}

/// What a pledge did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PledgeOutcome {
    /// The pledge's position in the order of use, from 1.
    pub order: u64,
    /// Books funded at once by participations that were waiting for it.
    pub books_funded: u64,
    /// Books allocated at once.
    pub books_allocated: usize,
    /// Books every pledge together funds.
    pub books_pledged: u64,
}

/// One school's shipment, as a [`ShipOutcome`] lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ShipmentMade {
    /// The shipment's id.
    pub shipment: u64,
    /// The school it goes to.
    pub school: String,
    /// Books in it.
    pub books: u64,
}

/// What marking books shipped did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ShipOutcome {
    /// One shipment per school, by school id.
    pub shipments: Vec<ShipmentMade>,
    /// Books moved from allocated to shipped (books of the selection that
    /// were not allocated, or were shipped already, are left as they are).
    pub books_shipped: u64,
}

/// Checks what can be checked before the writer is involved.
pub(crate) fn precheck(action: &Action) -> Result<()> {
    match action {
        Action::ImportSchools { schools, .. } if schools.is_empty() => Err(StoreError::Refused(
            "a school list needs at least one school".into(),
        )),
        Action::Ship { request, .. } => match &request.selection {
            BookSelection::Books(books) if books.is_empty() || *books.start() == 0 => {
                Err(StoreError::Refused(format!(
                    "books {}-{} is not a range of book numbers (from 1)",
                    books.start(),
                    books.end()
                )))
            }
            _ => Ok(()),
        },
        _ => Ok(()),
    }
}

/// Decides `action` inside the transaction `tx`, whose head is `head`,
/// moving `allocator`. A refusal changes neither.
pub(crate) async fn decide(
    tx: &mut impl LedgerRead,
    head: Head,
    allocator: &mut Allocator,
    action: Action,
    now_ms: u64,
) -> Result<(ActionOutcome, Changes)> {
    precheck(&action)?;
    let mut changes = Changes::new(now_ms);
    changes.head = Some(Head {
        next_number: head.next_number,
        revision: head.revision + 1,
    });
    let outcome = match action {
        Action::Pledge { pledge, actor } => {
            let funded_before = allocator.funded();
            let funding = allocator
                .pledge(pledge.clone(), head.counted())
                .map_err(|error| StoreError::Refused(error.to_string()))?;
            let books_allocated = funding.allocated.len();
            let outcome = PledgeOutcome {
                order: allocator.schedule().pledges().count() as u64,
                books_funded: allocator.funded() - funded_before,
                books_allocated,
                books_pledged: allocator.schedule().books(),
            };
            changes.audit.push(AuditEntry {
                at_ms: now_ms,
                actor,
                action: AuditAction::PledgeAdded,
                target: pledge.sponsor.clone(),
                detail: format!(
                    "第 {} 项：每 {} 次参与 1 本，最多 {} 本；立即资助 {} 本 / pledge {}: 1 book per {} participations, up to {} books; {} funded at once",
                    outcome.order,
                    pledge.participations_per_book,
                    pledge.book_cap,
                    outcome.books_funded,
                    outcome.order,
                    pledge.participations_per_book,
                    pledge.book_cap,
                    outcome.books_funded
                ),
            });
            changes.pledge = Some(pledge);
            changes.fund(funding);
            ActionOutcome::Pledged(outcome)
        }
        Action::ImportSchools {
            source,
            schools,
            based_on,
            actor,
        } => {
            if let Some(expected) = based_on
                && expected != allocator.list_version()
            {
                return Err(StoreError::Refused(
                    "另一份名单已在预览后导入，请重新上传 / another list was imported after this preview: upload the file again".into(),
                ));
            }
            let version = allocator.list_version().unwrap_or(0) + 1;
            let (first_book, funding) = allocator.apply_list(
                version,
                schools.iter().map(ListedSchool::candidate).collect(),
            );
            let receipt_secrets = schools
                .iter()
                .map(|listed| Ok((listed.school.id.clone(), receipt_secret()?)))
                .collect::<Result<HashMap<_, _>>>()?;
            let outcome = ImportOutcome {
                version,
                first_book,
                schools: schools.len(),
                books_allocated: funding.allocated.len(),
            };
            changes.audit.push(AuditEntry {
                at_ms: now_ms,
                actor,
                action: AuditAction::SchoolsImported,
                target: source.clone(),
                detail: format!(
                    "第 {version} 版，{} 所学校，自第 {first_book} 本书起 / version {version}, {} schools, from book {first_book}",
                    outcome.schools, outcome.schools
                ),
            });
            changes.school_list = Some(NewSchoolList {
                version,
                first_book,
                source,
                schools,
                receipt_secrets,
            });
            changes.fund(funding);
            ActionOutcome::Imported(outcome)
        }
        Action::Ship { request, actor } => {
            let selected = tx.allocated_books(request.selection.clone()).await?;
            let mut by_school: BTreeMap<String, Vec<u64>> = BTreeMap::new();
            for (book, school) in selected {
                by_school.entry(school).or_default().push(book);
            }
            let shipped_on = request
                .details
                .shipped_on
                .unwrap_or_else(|| ChinaDay::from_unix_ms(now_ms));
            if shipped_on > ChinaDay::from_unix_ms(now_ms) {
                return Err(StoreError::Refused(
                    "发货日期不能晚于今天 / the shipping day cannot be after today".into(),
                ));
            }
            let mut next_id = tx.next_shipment_id().await?;
            let mut made = Vec::with_capacity(by_school.len());
            let mut books_shipped = 0;
            for (school, books) in by_school {
                let count = books.len() as u64;
                changes
                    .school_deltas
                    .entry(school.clone())
                    .or_default()
                    .shipped += count;
                books_shipped += count;
                made.push(ShipmentMade {
                    shipment: next_id,
                    school: school.clone(),
                    books: count,
                });
                changes.shipments.push(NewShipment {
                    id: next_id,
                    school,
                    books,
                    details: request.details.clone(),
                    shipped_on: shipped_on.number(),
                });
                next_id += 1;
            }
            // A shipment of a whole county or range can make thousands of
            // shipments: the first ones are named, the rest counted.
            const NAMED: usize = 20;
            let mut ids: Vec<String> = made
                .iter()
                .take(NAMED)
                .map(|m| format!("#{}", m.shipment))
                .collect();
            if made.len() > NAMED {
                ids.push(format!("… (+{})", made.len() - NAMED));
            }
            changes.audit.push(AuditEntry {
                at_ms: now_ms,
                actor,
                action: AuditAction::BooksShipped,
                target: request.selection.to_string(),
                detail: format!(
                    "{} 本，{} 个发货单 {}；承运 {}，单号 {}，{} 发出 / {books_shipped} books in {} shipments {}; carrier {}, tracking {}, shipped {}",
                    books_shipped,
                    made.len(),
                    ids.join(" "),
                    request.details.carrier.as_deref().unwrap_or("-"),
                    request.details.tracking.as_deref().unwrap_or("-"),
                    shipped_on,
                    made.len(),
                    ids.join(" "),
                    request.details.carrier.as_deref().unwrap_or("-"),
                    request.details.tracking.as_deref().unwrap_or("-"),
                    shipped_on,
                ),
            });
            ActionOutcome::Shipped(ShipOutcome {
                shipments: made,
                books_shipped,
            })
        }
        Action::Receive { secret, actor } => {
            match tx.school(SchoolKey::ReceiptSecret(secret)).await? {
                None => ActionOutcome::Received(None),
                Some((tally, _)) => {
                    let school = tally.school.id;
                    let books = tx.shipped_books_of(school.clone()).await?;
                    let count = books.len() as u64;
                    changes
                        .school_deltas
                        .entry(school.clone())
                        .or_default()
                        .received += count;
                    changes.received = books;
                    changes.confirmed_shipments =
                        tx.unconfirmed_shipments_of(school.clone()).await?;
                    changes.audit.push(AuditEntry {
                        at_ms: now_ms,
                        actor,
                        action: AuditAction::BooksReceived,
                        target: school.clone(),
                        detail: format!("{count} 本 / {count} books"),
                    });
                    ActionOutcome::Received(Some((school, count)))
                }
            }
        }
        Action::CreatePosterCode { label, actor } => {
            let code = super::rules::fresh_codes(tx, 1)
                .await?
                .pop()
                .ok_or_else(|| StoreError::Inconsistent("no fresh share code".into()))?;
            changes.audit.push(AuditEntry {
                at_ms: now_ms,
                actor,
                action: AuditAction::PosterMade,
                target: code.to_string(),
                detail: label.clone().unwrap_or_default(),
            });
            changes.share_codes.push(NewShareCode {
                code,
                owner: None,
                label,
            });
            ActionOutcome::PosterCodeCreated(code)
        }
    };
    Ok((outcome, changes))
}

/// A fresh, unguessable secret for a school's receipt link: 128 random
/// bits, hex.
fn receipt_secret() -> Result<String> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|error| StoreError::Backend(error.to_string().into()))?;
    Ok(hex::encode(bytes))
}
