//! The Dream Fairy (圆梦精灵) mini-game client.
//!
//! A Bevy app that draws the round simulated by `sim`, reads the player's
//! touch, mouse and keys, and talks to the page it runs in. Text is HTML over
//! the canvas (crisp, accessible, no font inside the WASM), so the app itself
//! draws only shapes and sprites.
//!
//! Layout: one plugin per file, each a `pub(super) fn plugin(app: &mut App)`;
//! this file only aggregates them and declares the order of system sets.

mod backdrop;
mod bridge;

use bevy::prelude::*;
use bevy::window::WindowResolution;

/// Width of the playfield in world units; the camera always shows all of it.
pub const FIELD_WIDTH: f32 = 900.0;
/// Height of the playfield in world units (portrait 9:16, as on a phone).
pub const FIELD_HEIGHT: f32 = 1600.0;

/// The order in which the game's systems run within `Update`, declared once.
#[derive(SystemSet, Debug, Clone, Copy, Eq, PartialEq, Hash)]
pub enum AppSystems {
    /// Read input and messages from the page.
    ReadInput,
    /// Advance game state.
    Update,
    /// Tell the page what happened (first frame, round over, ...).
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

/// The game's own plugins, without the engine's window and renderer, so that
/// tests can run them on `MinimalPlugins`.
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
    app.add_plugins((backdrop::plugin, bridge::plugin));
}
