//! Making a poster for a classroom or an event: a share code of its own
//! (so the class or the event is credited, not a person), and its A4 PDF.
//! One function for the command line and the admin console.

use super::links::share_path;
use super::{Fonts, PosterData, PosterError, poster_pdf};
use crate::domain::ShareCode;
use crate::store::{Actor, Store, StoreError};

/// A poster, made.
#[derive(Debug, Clone)]
pub struct MadePoster {
    /// The code it credits.
    pub code: ShareCode,
    /// The link its QR code and its text carry.
    pub share_url: String,
    /// The A4 PDF.
    pub pdf: Vec<u8>,
}

/// Why no poster was made.
#[derive(Debug, thiserror::Error)]
pub enum PosterFailure {
    /// The code could not be created.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The PDF could not be drawn (the code exists, and credits nothing
    /// until a poster carries it).
    #[error(transparent)]
    Draw(#[from] PosterError),
    /// The drawing thread died.
    #[error("the poster drawing task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

/// Creates a share code labelled `label` for `actor` (audited), and draws
/// its poster pointing at `base_url` (the server's public address, without
/// a trailing `/`). Drawing runs off the async threads.
pub async fn make_poster(
    store: &dyn Store,
    fonts: Fonts,
    base_url: &str,
    label: Option<String>,
    actor: Actor,
) -> Result<MadePoster, PosterFailure> {
    let code = store.create_poster_code(label.clone(), actor).await?;
    let share_url = format!("{}{}", base_url.trim_end_matches('/'), share_path(code));
    let data = PosterData {
        share_url: share_url.clone(),
        label,
    };
    let pdf = tokio::task::spawn_blocking(move || poster_pdf(&fonts, &data)).await??;
    Ok(MadePoster {
        code,
        share_url,
        pdf,
    })
}
