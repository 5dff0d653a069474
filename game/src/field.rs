//! Where the simulation's playfield sits in the world the camera shows.
//!
//! `sim` measures the field in integer milli-units from its top-left corner,
//! `y` downwards; the world is `FIELD_WIDTH` x `FIELD_HEIGHT` units centred
//! on the origin, `y` upwards. Everything drawn from the round goes through
//! these functions, so the picture and the rules cannot drift apart.

use bevy::math::Vec2;
use sim::{Position, Rules, Steer};

/// Width of the playfield in world units; the camera always shows all of it.
pub const FIELD_WIDTH: f32 = 900.0;
/// Height of the playfield in world units (portrait 9:16, as on a phone).
pub const FIELD_HEIGHT: f32 = 1600.0;

/// World units per simulation milli-unit, horizontally and vertically.
fn scale(rules: &Rules) -> Vec2 {
    Vec2::new(
        FIELD_WIDTH / rules.field_width as f32,
        FIELD_HEIGHT / rules.field_height as f32,
    )
}

/// The world point of a playfield position.
pub fn to_world(position: Position, rules: &Rules) -> Vec2 {
    let scale = scale(rules);
    Vec2::new(
        position.x as f32 * scale.x - FIELD_WIDTH / 2.0,
        FIELD_HEIGHT / 2.0 - position.y as f32 * scale.y,
    )
}

/// A size in playfield milli-units (half width, half height) in world units.
pub fn size_to_world(half: (i32, i32), rules: &Rules) -> Vec2 {
    let scale = scale(rules);
    Vec2::new(half.0 as f32 * scale.x, half.1 as f32 * scale.y) * 2.0
}

/// The steer that points the fairy at world `x`, clamped to the field.
pub fn steer_toward(world_x: f32, rules: &Rules) -> Steer {
    let field_x = (world_x + FIELD_WIDTH / 2.0) / scale(rules).x;
    // Saturating float-to-int conversion; `toward_x` clamps to the field.
    Steer::toward_x(field_x.round() as i32, rules)
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULES: Rules = Rules::CURRENT;

    #[test]
    fn the_field_corners_are_the_world_corners() {
        let top_left = to_world(Position { x: 0, y: 0 }, &RULES);
        let bottom_right = to_world(
            Position {
                x: RULES.field_width,
                y: RULES.field_height,
            },
            &RULES,
        );
        assert_eq!(top_left, Vec2::new(-FIELD_WIDTH / 2.0, FIELD_HEIGHT / 2.0));
        assert_eq!(
            bottom_right,
            Vec2::new(FIELD_WIDTH / 2.0, -FIELD_HEIGHT / 2.0)
        );
    }

    #[test]
    fn steering_at_a_world_point_aims_the_fairy_there() {
        for column in [0, 1, 57, Steer::MAX / 2, Steer::MAX] {
            let steer = Steer::new(column).expect("a valid column");
            let x = to_world(
                Position {
                    x: steer.target_x(&RULES),
                    y: 0,
                },
                &RULES,
            )
            .x;
            assert_eq!(steer_toward(x, &RULES), steer, "column {column} at x {x}");
        }
        assert_eq!(
            steer_toward(-5_000.0, &RULES).column(),
            0,
            "left of the field"
        );
        assert_eq!(
            steer_toward(5_000.0, &RULES).column(),
            Steer::MAX,
            "right of it"
        );
    }
}
