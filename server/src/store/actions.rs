//! The admin actions that change the ledger (a pledge, a school list, a
//! shipment, a school's confirmation of receipt), written once for every
//! backend.
//!
//! Each runs inside a write transaction of the ledger writer, with the
//! writer's own [`Allocator`], so that books funded or allocated by an
//! action follow the same rule, in the same order, as those funded by
//! participations. Each decides from facts the backend answers and hands
//! back what to write ([`Changes`]).

use std::collections::HashMap;
use std::ops::RangeInclusive;

use serde::Serialize;

use super::StoreError;
use super::backend::{
    Changes, Head, LedgerRead, NewSchoolList, NewShareCode, NewShipment, Result, SchoolKey,
};
use crate::allocation::{Allocator, BookState, ListedSchool, Pledge};
use crate::domain::ShareCode;

/// An action of an admin (or of a school, for [`Action::Receive`]).
#[derive(Debug, Clone)]
pub(crate) enum Action {
    /// Add a pledge after the others.
    Pledge(Pledge),
    /// Import a new version of the school list.
    ImportSchools {
        /// The file it came from.
        source: String,
        /// Its schools (at least one).
        schools: Vec<ListedSchool>,
    },
    /// Mark the allocated books of a range shipped, as one shipment.
    Ship {
        /// The books.
        books: RangeInclusive<u64>,
        /// A note kept with the shipment.
        note: Option<String>,
    },
    /// The school with this receipt secret confirms its shipped books.
    Receive {
        /// The secret of its receipt link.
        secret: String,
    },
    /// A new share code for a poster, crediting a class or an event.
    CreatePosterCode {
        /// The class or event.
        label: Option<String>,
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

/// What a shipment did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ShipOutcome {
    /// The shipment's id.
    pub shipment: u64,
    /// Books of the range moved from allocated to shipped (others in the
    /// range were not allocated yet, or already shipped).
    pub books_shipped: u64,
}

/// Checks what can be checked before the writer is involved.
pub(crate) fn precheck(action: &Action) -> Result<()> {
    match action {
        Action::ImportSchools { schools, .. } if schools.is_empty() => Err(StoreError::Refused(
            "a school list needs at least one school".into(),
        )),
        Action::Ship { books, .. } if books.is_empty() || *books.start() == 0 => {
            Err(StoreError::Refused(format!(
                "books {}-{} is not a range of book numbers (from 1)",
                books.start(),
                books.end()
            )))
        }
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
        Action::Pledge(pledge) => {
            let funded_before = allocator.funded();
            let funding = allocator
                .pledge(pledge.clone(), head.counted())
                .map_err(|error| StoreError::Refused(error.to_string()))?;
            let books_allocated = funding.allocated.len();
            changes.pledge = Some(pledge);
            changes.fund(funding);
            ActionOutcome::Pledged(PledgeOutcome {
                order: allocator.schedule().pledges().count() as u64,
                books_funded: allocator.funded() - funded_before,
                books_allocated,
                books_pledged: allocator.schedule().books(),
            })
        }
        Action::ImportSchools { source, schools } => {
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
        Action::Ship { books, note } => {
            let shipped = tx
                .books_in_state(books.clone(), BookState::Allocated)
                .await?;
            let id = tx.next_shipment_id().await?;
            for (_, school) in &shipped {
                changes
                    .school_deltas
                    .entry(school.clone())
                    .or_default()
                    .shipped += 1;
            }
            let outcome = ShipOutcome {
                shipment: id,
                books_shipped: shipped.len() as u64,
            };
            changes.shipment = Some(NewShipment {
                id,
                range: books,
                books: shipped.into_iter().map(|(book, _)| book).collect(),
                note,
            });
            ActionOutcome::Shipped(outcome)
        }
        Action::Receive { secret } => match tx.school(SchoolKey::ReceiptSecret(secret)).await? {
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
                ActionOutcome::Received(Some((school, count)))
            }
        },
        Action::CreatePosterCode { label } => {
            let code = super::rules::fresh_codes(tx, 1)
                .await?
                .pop()
                .ok_or_else(|| StoreError::Inconsistent("no fresh share code".into()))?;
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
