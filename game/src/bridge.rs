//! The bridge to the page that hosts the canvas (`game/web/index.html`).
//!
//! The page draws every word (title, score, receipt) as HTML over the
//! canvas; the game tells it what happened with one typed [`PageEvent`] at a
//! time, serialised as JSON for `window.dreamFairy.onGame(event)`. The page
//! answers with [`PageCommand`]s through the functions this module exports
//! (`play`, `point_at`, `set_autopilot`), which queue them until the next
//! update; `frame_stats` answers the page's measurements at once.

use std::cell::RefCell;
use std::sync::mpsc::Sender;

use bevy::diagnostic::FrameCount;
use bevy::prelude::*;
use serde::Serialize;
use sim::Outcome;
use sim::wire::{ApiError, Receipt};

use crate::AppSystems;
use crate::mailbox::add_mailbox;

/// Something the page should show.
#[derive(Debug, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PageEvent<'a> {
    /// A frame is on screen: hide the poster.
    FirstFrame,
    /// The title screen: a start button and the live total.
    Title,
    /// A round is being requested from the server.
    Starting,
    /// A round is under way.
    Playing,
    /// The round's numbers, sent whenever one of them changes.
    Hud {
        score: u32,
        shelved: u32,
        shelf_target: u32,
        seconds_left: u32,
        /// Where the fairy is now (`0..=200`); browser tests read it.
        fairy_column: u8,
    },
    /// The round is over. A completed round is being submitted; an
    /// incomplete one is not, as it cannot count.
    RoundOver { outcome: &'a Outcome },
    /// Submitting failed on the network; the next try is in `retry_in_ms`.
    Retrying { attempt: u32, retry_in_ms: u32 },
    /// The round was counted. `earlier` is set for a round finished on an
    /// earlier visit and submitted only now.
    Counted { receipt: &'a Receipt, earlier: bool },
    /// The server refused the round (or the start), and why.
    Rejected { error: &'a ApiError },
    /// A round could not be started: the server could not be reached.
    StartFailed,
    /// The player's id, once the server has issued or confirmed it.
    Player { id: &'a str },
}

/// Something the player asked for on the page.
#[cfg_attr(
    not(target_arch = "wasm32"),
    expect(
        dead_code,
        reason = "only the page's calls, in the browser, construct these"
    )
)]
#[derive(Debug, Clone, Copy, PartialEq, Message)]
pub enum PageCommand {
    /// Start a round (the title's start button, or "play again").
    Play,
    /// A finger or the mouse points at this fraction of the canvas width
    /// (0 = left edge, 1 = right edge).
    PointAt(f32),
    /// Let the built-in player steer (browser tests, demos); `false` hands
    /// the controls back.
    Autopilot(bool),
}

thread_local! {
    /// Commands queued by the page, read once per update. Per thread: the
    /// browser runs one app on one thread, and each test its own.
    static PAGE_COMMANDS: RefCell<Option<Sender<PageCommand>>> = const { RefCell::new(None) };
}

pub(super) fn plugin(app: &mut App) {
    PAGE_COMMANDS.set(Some(add_mailbox::<PageCommand>(app)));
    app.add_systems(
        Update,
        announce_first_frame
            .run_if(first_frame_presented)
            .in_set(AppSystems::NotifyPage),
    );
}

/// Queues `command` for the next update (called from the page).
#[cfg_attr(
    not(target_arch = "wasm32"),
    expect(dead_code, reason = "only the page calls it, in the browser")
)]
fn queue_command(command: PageCommand) {
    PAGE_COMMANDS.with_borrow(|sender| {
        if let Some(sender) = sender {
            // The receiver lives as long as the app; if it is gone there is
            // no game left to tell.
            let _ = sender.send(command);
        }
    });
}

/// True during the update that follows the first rendered frame: the frame
/// counter is bumped once a frame has been drawn.
fn first_frame_presented(frames: Res<FrameCount>) -> bool {
    frames.0 == 1
}

fn announce_first_frame() {
    tell_page(&PageEvent::FirstFrame);
}

pub use page::report_error;

thread_local! {
    /// The JSON of the event being sent, in a buffer kept between events:
    /// the HUD changes nearly every frame, and a frame should not allocate.
    static EVENT_JSON: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Sends `event` to the page.
pub fn tell_page(event: &PageEvent<'_>) {
    EVENT_JSON.with_borrow_mut(|json| {
        json.clear();
        match serde_json::to_writer(&mut *json, event) {
            // serde_json writes UTF-8.
            Ok(()) => page::on_game(std::str::from_utf8(json).unwrap_or_default()),
            // Only a bug in a `Serialize` impl could get here.
            Err(error) => report_error(&format!("cannot describe {event:?}: {error}")),
        }
    });
}

#[cfg(target_arch = "wasm32")]
mod page {
    use wasm_bindgen::prelude::*;

    use super::{PageCommand, queue_command};

    #[wasm_bindgen]
    extern "C" {
        /// `window.dreamFairy.onGame(json)`, defined by `index.html`.
        #[wasm_bindgen(js_namespace = dreamFairy, js_name = onGame)]
        pub fn on_game(event_json: &str);

        /// `console.error`: the browser tests fail on anything logged here.
        /// Only for faults of the game itself, never for a player's network.
        #[wasm_bindgen(js_namespace = console, js_name = error)]
        pub fn report_error(message: &str);
    }

    /// Starts a round (the page's start and play-again buttons).
    #[wasm_bindgen]
    pub fn play() {
        queue_command(PageCommand::Play);
    }

    /// A finger or the mouse points at `fraction` of the canvas width. The
    /// page measures it from the pointer event itself (`clientX` against the
    /// canvas box), which holds under any pixel ratio and zoom.
    #[wasm_bindgen]
    pub fn point_at(fraction: f32) {
        queue_command(PageCommand::PointAt(fraction));
    }

    /// Lets the built-in player steer, or hands the controls back.
    #[wasm_bindgen]
    pub fn set_autopilot(on: bool) {
        queue_command(PageCommand::Autopilot(on));
    }

    /// Entities, meshes and materials at the end of the last update (see
    /// [`crate::frame_stats`]); the first call starts the counting.
    #[wasm_bindgen]
    pub fn frame_stats() -> Vec<u32> {
        let stats = crate::frame_stats::latest();
        vec![stats.entities, stats.meshes, stats.materials]
    }
}

#[cfg(not(target_arch = "wasm32"))]
mod page {
    /// Natively there is no page; the events go to the log instead.
    pub fn on_game(event_json: &str) {
        bevy::log::debug!(target: "page", "{event_json}");
    }

    pub fn report_error(message: &str) {
        bevy::log::error!("{message}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_tagged_by_kind_for_the_page() {
        let json = serde_json::to_value(PageEvent::Hud {
            score: 120,
            shelved: 12,
            shelf_target: 30,
            seconds_left: 17,
            fairy_column: 100,
        })
        .expect("serialises");
        assert_eq!(json["kind"], "hud");
        assert_eq!(json["shelved"], 12);
        let json = serde_json::to_value(PageEvent::FirstFrame).expect("serialises");
        assert_eq!(json, serde_json::json!({ "kind": "first_frame" }));
    }
}
