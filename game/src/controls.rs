//! The player's controls: a finger or the mouse points where the fairy
//! should fly; the arrow keys or A/D fly it left or right while held.
//! All of them set one [`SteerIntent`], which the next tick records.
//!
//! Pointers are read by the page, not by the engine: the page turns each
//! pointer event into a fraction of the canvas width from the event's own
//! coordinates, which stay right under every device pixel ratio, zoom and
//! browser emulation, and sends it as [`PageCommand::PointAt`].

use bevy::prelude::*;
use sim::{Rules, Steer};

use crate::bridge::PageCommand;
use crate::play::{ActiveRound, SteerIntent};
use crate::{AppSystems, Screen, field};

const LEFT_KEYS: [KeyCode; 2] = [KeyCode::ArrowLeft, KeyCode::KeyA];
const RIGHT_KEYS: [KeyCode; 2] = [KeyCode::ArrowRight, KeyCode::KeyD];

pub(super) fn plugin(app: &mut App) {
    app.add_systems(
        Update,
        (follow_pointer, follow_keys)
            .chain()
            .run_if(in_state(Screen::Playing))
            .in_set(AppSystems::ReadInput),
    );
}

/// A finger or the mouse steers towards where it points.
fn follow_pointer(
    mut commands: MessageReader<PageCommand>,
    camera: Single<&Projection, With<Camera>>,
    mut intent: ResMut<SteerIntent>,
) {
    let pointed = commands.read().fold(None, |last, command| match *command {
        PageCommand::PointAt(fraction) => Some(fraction),
        _ => last,
    });
    let (Some(fraction), Projection::Orthographic(view)) = (pointed, *camera) else {
        return;
    };
    // The camera sits at the origin, so its visible area is the world's.
    let world_x = view.area.min.x + fraction.clamp(0.0, 1.0) * view.area.width();
    intent.0 = field::steer_toward(world_x, &Rules::CURRENT);
}

/// Held arrow keys (or A/D) fly to the edge; letting go stops the fairy
/// where it is.
fn follow_keys(
    keys: Res<ButtonInput<KeyCode>>,
    active: Option<Res<ActiveRound>>,
    mut intent: ResMut<SteerIntent>,
) {
    let left = keys.any_pressed(LEFT_KEYS);
    let right = keys.any_pressed(RIGHT_KEYS);
    if left != right {
        intent.0 = if left {
            Steer::LEFTMOST
        } else {
            Steer::RIGHTMOST
        };
    } else if keys.any_just_released(LEFT_KEYS.into_iter().chain(RIGHT_KEYS))
        && let Some(active) = active
    {
        let rules = active.round.rules();
        intent.0 = Steer::toward_x(active.round.fairy().position.x, rules);
    }
}
