//! The book pages: one per participation (`/p/{n}`), one per school
//! (`/schools/{id}`), and a school's secret receipt link (`/receive/{secret}`)
//! whose form confirms that its shipped books arrived.
//!
//! Handlers only fill the view structs of [`crate::pages`] from the store;
//! the pages lay them out.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::Markup;

use crate::allocation::BookState;
use crate::caps::ClientAddress;
use crate::error::AppError;
use crate::pages::{self, BookStage, BookView, ParticipationView, ReceiveView, SchoolView};
use crate::state::AppState;
use crate::store::{Actor, SchoolBooks};

/// The 404 page.
fn not_found() -> Response {
    (StatusCode::NOT_FOUND, pages::not_found_page()).into_response()
}

/// The stage a page shows for a book state.
fn stage(state: BookState) -> BookStage {
    match state {
        BookState::Funded => BookStage::Funded,
        BookState::Allocated => BookStage::Allocated,
        BookState::Shipped => BookStage::Shipped,
        BookState::Received => BookStage::Received,
    }
}

/// `GET /p/{number}`: what participation `number` funded, with a QR code of
/// the page's own address.
pub async fn show_participation(
    State(state): State<AppState>,
    Path(number): Path<String>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let Ok(number) = number.parse::<u64>() else {
        return Ok(not_found());
    };
    let Some(participation) = state.store.participation_book(number).await? else {
        return Ok(not_found());
    };
    let base_url = state.public_base_url(&headers);
    let page_url = format!("{base_url}/p/{number}");
    let view = ParticipationView {
        number,
        counted_at_ms: participation.finished_at_ms,
        book: participation.book,
        open_graph: Some(state.campaign_open_graph(&base_url, page_url.clone())),
        page_url,
    };
    Ok(pages::participation_page(&view).into_response())
}

/// `GET /schools/{school_id}`: a school and its books.
pub async fn show_school(
    State(state): State<AppState>,
    Path(school): Path<String>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let Some(found) = state.store.school_books(&school).await? else {
        return Ok(not_found());
    };
    let base_url = state.public_base_url(&headers);
    let page_url = format!("{base_url}/schools/{}", found.tally.school.id);
    let view = SchoolView {
        open_graph: Some(state.campaign_open_graph(&base_url, page_url)),
        school: found.school_ref(),
        pupils: found.tally.pupils,
        target_books: found.tally.target_books,
        books: found
            .books
            .iter()
            .map(|&(number, state)| BookView {
                number,
                stage: stage(state),
            })
            .collect(),
    };
    Ok(pages::school_page(&view).into_response())
}

/// `GET /receive/{secret}`: the school's books awaiting its confirmation.
pub async fn show_receipt_link(
    State(state): State<AppState>,
    Path(secret): Path<String>,
) -> Result<Response, AppError> {
    match state.store.school_by_receipt_secret(&secret).await? {
        Some(school) => Ok(receive_view(&school, &secret, None).into_response()),
        None => Ok(not_found()),
    }
}

/// `POST /receive/{secret}`: the school confirms that its shipped books
/// arrived; they become received.
pub async fn confirm_receipt(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    Path(secret): Path<String>,
) -> Result<Response, AppError> {
    let actor = Actor::receipt_link(address.to_string());
    let Some((school, confirmed)) = state.store.receive_books(&secret, actor).await? else {
        return Ok(not_found());
    };
    tracing::info!(school.id = %school, books = confirmed, "books received");
    match state.store.school_by_receipt_secret(&secret).await? {
        Some(school) => Ok((
            [(header::CACHE_CONTROL, "no-store")],
            receive_view(&school, &secret, Some(confirmed)),
        )
            .into_response()),
        None => Ok(not_found()),
    }
}

fn receive_view(school: &SchoolBooks, secret: &str, just_confirmed: Option<u64>) -> Markup {
    pages::receive_page(&ReceiveView {
        school: school.school_ref(),
        awaiting_confirmation: school
            .books
            .iter()
            .filter(|(_, state)| *state == BookState::Shipped)
            .map(|&(number, _)| number)
            .collect(),
        received: school.tally.received,
        confirm_url: format!("/receive/{secret}"),
        just_confirmed,
    })
}
