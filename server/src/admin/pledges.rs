//! `/admin/pledges`: each sponsor pledge with its books funded and
//! remaining, and (operators) adding one. A pledge goes through the ledger
//! writer like the `server pledge` subcommand, with its audit entry in the
//! same transaction.

use axum::Form;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use serde::Deserialize;

use super::error::{AdminError, AdminResult};
use super::export;
use super::layout::{self, Section, both, csrf_field, export_links};
use super::routes::paths;
use super::session::{Operator, RequireRole, Viewer};
use crate::allocation::Pledge;
use crate::domain::Role;
use crate::state::AppState;
use crate::store::admin::PledgeRecord;
use crate::tables::{Cell, Column, ColumnKind, Filter, Table, to_html};

/// One pledge and how far it has come.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PledgeLine {
    /// The pledge as recorded.
    pub record: PledgeRecord,
    /// Books it has funded so far.
    pub funded: u64,
}

/// Each pledge's books funded once `participations` are counted (pledges
/// are used in order: a pledge funds books only once those before it are
/// used up).
pub fn pledge_progress(records: &[PledgeRecord], participations: u64) -> Vec<PledgeLine> {
    let mut left = participations;
    records
        .iter()
        .map(|record| {
            let per_book = record.pledge.participations_per_book.max(1);
            let funded = (left / per_book).min(record.pledge.book_cap);
            left = left.saturating_sub(funded * per_book);
            if funded < record.pledge.book_cap {
                // Later pledges start only after this one is used up.
                left = 0;
            }
            PledgeLine {
                record: record.clone(),
                funded,
            }
        })
        .collect()
}

/// The pledges as a table.
pub fn pledges_table(lines: &[PledgeLine]) -> Table {
    let count = |key, zh, en, note_zh, note_en| Column {
        key,
        zh,
        en,
        kind: ColumnKind::Count,
        note_zh,
        note_en,
    };
    let mut table = Table::new(
        "认捐进度",
        "Pledges",
        vec![
            count(
                "order",
                "顺序",
                "Order",
                "认捐的使用顺序",
                "The order pledges are used in",
            ),
            Column {
                key: "sponsor",
                zh: "赞助方",
                en: "Sponsor",
                kind: ColumnKind::Text,
                note_zh: "公开的赞助方名称",
                note_en: "The sponsor's published name",
            },
            count(
                "participations_per_book",
                "每本所需参与",
                "Participations per book",
                "资助一本书所需的参与人次",
                "Participations that fund one book",
            ),
            count(
                "books",
                "认捐册数",
                "Books pledged",
                "最多资助的册数",
                "Most books it funds",
            ),
            count(
                "funded",
                "已资助",
                "Funded",
                "已资助的册数",
                "Books funded so far",
            ),
            count(
                "remaining",
                "剩余",
                "Remaining",
                "尚未资助的册数",
                "Books still to fund",
            ),
            Column {
                key: "funded_share",
                zh: "完成",
                en: "Done",
                kind: ColumnKind::Percent,
                note_zh: "已资助占认捐册数的比例",
                note_en: "Books funded as a share of books pledged",
            },
            Column {
                key: "pledged_at",
                zh: "认捐时间",
                en: "Pledged at",
                kind: ColumnKind::DateTime,
                note_zh: "录入认捐的时间（北京时间）",
                note_en: "When the pledge was entered (Beijing time)",
            },
        ],
    )
    .with_filter(Filter::new("as_of", "截至", "As of", "现在 now"));
    let (mut pledged, mut funded) = (0, 0);
    for line in lines {
        let pledge = &line.record.pledge;
        pledged += pledge.book_cap;
        funded += line.funded;
        let _ = table.push_row(vec![
            Cell::count(line.record.order),
            Cell::text(&pledge.sponsor),
            Cell::count(pledge.participations_per_book),
            Cell::count(pledge.book_cap),
            Cell::count(line.funded),
            Cell::count(pledge.book_cap - line.funded),
            Cell::percent(line.funded, pledge.book_cap),
            layout::instant_cell(line.record.pledged_at_ms),
        ]);
    }
    let _ = table.set_totals(vec![
        Cell::text("合计"),
        Cell::Empty,
        Cell::Empty,
        Cell::count(pledged),
        Cell::count(funded),
        Cell::count(pledged - funded),
        Cell::percent(funded, pledged),
        Cell::Empty,
    ]);
    table
}

async fn table(state: &AppState) -> AdminResult<Table> {
    let records = state.store.admin().pledge_records().await?;
    let participations = state.store.totals().borrow().participations;
    Ok(pledges_table(&pledge_progress(&records, participations)))
}

/// The query of the pledges page.
#[derive(Debug, Default, Deserialize)]
pub struct PledgesQuery {
    /// After adding: the new pledge's order.
    added: Option<u64>,
    format: Option<String>,
}

/// `GET /admin/pledges`.
pub async fn show_pledges(
    State(state): State<AppState>,
    RequireRole(signed, ..): RequireRole<Viewer>,
    Query(query): Query<PledgesQuery>,
) -> AdminResult<Response> {
    let table = table(&state).await?;
    let content = html! {
        @if let Some(order) = query.added {
            p.notice role="status" { "已添加第 " (order) " 项认捐。 " span lang="en" { "Pledge " (order) " added." } }
        }
        div.scroll { (to_html(&table)) }
        (export_links(paths::PLEDGES_EXPORT, ""))
        @if signed.user.role.allows(Role::Operator) {
            h2 { (both("新增认捐", "Add a pledge")) }
            form.stack.card method="post" action=(paths::PLEDGES) {
                (csrf_field(&signed))
                label { (both("赞助方", "Sponsor")) input type="text" name="sponsor" required maxlength="100"; }
                label { (both("每本书所需参与人次", "Participations per book")) input type="number" name="participations_per_book" min="1" required; }
                label { (both("认捐册数", "Books")) input type="number" name="books" min="1" required; }
                button type="submit" { "添加 " span lang="en" { "Add" } }
            }
            p.muted { (both("认捐按顺序使用；等待赞助的参与会立即变成书。", "Pledges are used in order; participations waiting for a sponsor fund books at once.")) }
        }
    };
    Ok(layout::page(&signed, Section::Pledges, ("认捐", "Pledges"), content).into_response())
}

/// `GET /admin/pledges/export`.
pub async fn export_pledges(
    State(state): State<AppState>,
    RequireRole(signed, ..): RequireRole<Viewer>,
    Query(query): Query<PledgesQuery>,
) -> AdminResult<Response> {
    let format = export::format(query.format.as_deref())?;
    let table = table(&state).await?;
    export::download(&state, &signed, table, "认捐进度", format).await
}

/// The add-a-pledge form.
#[derive(Debug, Deserialize)]
pub struct PledgeForm {
    sponsor: String,
    participations_per_book: String,
    books: String,
}

/// `POST /admin/pledges`: adds a pledge after the others.
pub async fn add_pledge(
    State(state): State<AppState>,
    RequireRole(signed, ..): RequireRole<Operator>,
    Form(form): Form<PledgeForm>,
) -> AdminResult<Response> {
    let sponsor = form.sponsor.trim();
    if sponsor.is_empty()
        || sponsor.chars().count() > 100
        || crate::tables::starts_like_formula(sponsor)
    {
        return Err(AdminError::BadRequest(
            "赞助方名称应为 1-100 个字，且不以 = + - @ 开头 / a sponsor is 1-100 characters, not starting with = + - @".into(),
        ));
    }
    let number = |text: &str| {
        text.trim()
            .parse::<u64>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| {
                AdminError::BadRequest("请填写正整数 / enter a whole number above 0".into())
            })
    };
    let pledge = Pledge {
        sponsor: sponsor.to_owned(),
        participations_per_book: number(&form.participations_per_book)?,
        book_cap: number(&form.books)?,
    };
    let outcome = state.store.pledge(pledge, signed.actor()).await?;
    Ok(Redirect::to(&format!("{}?added={}", paths::PLEDGES, outcome.order)).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(order: u64, per_book: u64, cap: u64) -> PledgeRecord {
        PledgeRecord {
            order,
            pledge: Pledge {
                sponsor: format!("s{order}"),
                participations_per_book: per_book,
                book_cap: cap,
            },
            pledged_at_ms: 0,
        }
    }

    #[test]
    fn pledges_fund_in_order() {
        let records = [record(1, 10, 5), record(2, 2, 100)];
        let funded = |participations| -> Vec<u64> {
            pledge_progress(&records, participations)
                .iter()
                .map(|line| line.funded)
                .collect()
        };
        assert_eq!(funded(0), [0, 0], "nothing counted");
        assert_eq!(funded(49), [4, 0], "the first pledge is filling");
        assert_eq!(funded(50), [5, 0], "the first is used up");
        assert_eq!(funded(55), [5, 2], "the second funds every 2");
        assert_eq!(funded(10_000), [5, 100], "both used up");
    }
}
