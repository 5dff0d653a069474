//! The Dream Fairy (圆梦精灵) mini-game client.
//!
//! A Bevy app that plays the round simulated by `sim` live, draws it, reads
//! the player's touch, mouse and keys, and gets every finished round counted
//! by the server. Text is HTML over the canvas (crisp, accessible, any
//! script, no font inside the WASM), so the app itself draws only shapes.
//!
//! Layout: one plugin per file, each a `pub(super) fn plugin(app: &mut App)`;
//! this file only aggregates them and declares the order of system sets.
//!
//! - [`flow`]: the screens (title, starting, playing, result);
//! - [`play`]: the round at its fixed tick; [`controls`]: the player's input;
//! - [`art`], [`scene`], [`backdrop`]: everything drawn; [`field`]: where;
//! - [`net`], [`submit`], [`outbox`], [`storage`]: the round API, and
//!   finishes kept until the server has answered for them;
//! - [`bridge`], [`mailbox`]: the page around the canvas; [`frame_stats`]:
//!   what a frame is drawn from, for the page's measurements.

mod art;
mod backdrop;
mod bridge;
mod controls;
pub mod field;
mod flow;
mod frame_stats;
mod mailbox;
mod net;
mod outbox;
mod play;
mod scene;
mod storage;
mod submit;

use bevy::prelude::*;
use bevy::window::WindowResolution;

pub use flow::Screen;

/// The order in which the game's systems run within `Update`, declared once.
#[derive(SystemSet, Debug, Clone, Copy, Eq, PartialEq, Hash)]
pub enum AppSystems {
    /// Read input and messages from the page and the network.
    ReadInput,
    /// Advance game state and the picture.
    Update,
    /// Tell the page what happened (first frame, score, ...).
    NotifyPage,
}

/// The whole client: engine plugins for a canvas in the page, then the game.
pub fn app() -> App {
    let mut app = App::new();
    app.add_plugins(DefaultPlugins.set(WindowPlugin {
        primary_window: Some(Window {
            title: "圆梦精灵图书馆".into(),
            // The page owns the `<canvas id="game">` and sizes it with CSS.
            canvas: Some("#game".into()),
            fit_canvas_to_parent: true,
            // Touch drags steer the fairy; they must not scroll the page.
            prevent_default_event_handling: true,
            resolution: WindowResolution::new(360, 640),
            ..default()
        }),
        ..default()
    }));
    app.add_plugins(plugin);
    app
}

/// The game's own plugins, on top of the engine's.
pub fn plugin(app: &mut App) {
    app.configure_sets(
        Update,
        (
            AppSystems::ReadInput,
            AppSystems::Update,
            AppSystems::NotifyPage,
        )
            .chain(),
    );
    app.add_plugins((
        bridge::plugin,
        frame_stats::plugin,
        net::plugin,
        flow::plugin,
        play::plugin,
        controls::plugin,
        submit::plugin,
        art::plugin,
        backdrop::plugin,
        scene::plugin,
    ));
}
