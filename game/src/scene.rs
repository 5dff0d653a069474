//! Draws the active round every frame: the fairy, what falls, the books she
//! carries and the shelf filling up. Positions are blended between the last
//! two ticks by how far the fixed clock is into the next one, so motion is
//! smooth at any frame rate while the rules stay at 20 ticks a second.
//! Drawing a frame allocates nothing: figures are spawned when something
//! appears and despawned when it goes, and the bookkeeping is reused.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use bevy::prelude::*;
use sim::{FallingKind, Rules};

use crate::art::{Art, CarriedBook, Wing};
use crate::play::ActiveRound;
use crate::{AppSystems, backdrop, field};

/// Depth of falling things, above the backdrop and shelf, below the fairy.
const FALLING_Z: f32 = 1.0;
const FAIRY_Z: f32 = 2.0;
const SPARKLE_Z: f32 = 3.0;
/// Slots on the shelf: one per book the round needs.
const SHELF_SLOTS: u32 = Rules::CURRENT.shelf_target;
/// The shelf's books stand in this many rows.
const SHELF_ROWS: u32 = 2;
/// How long a catch sparkles, in seconds.
const SPARKLE_SECONDS: f32 = 0.45;

/// The fairy's figure.
#[derive(Component)]
struct FairyFigure;

/// The figure of a falling thing (see [`FallingFigures`] for which).
#[derive(Component)]
struct Falling;

/// A slot of the shelf, from 0, left to right and top row first.
#[derive(Component)]
struct ShelfSlot(u32);

/// A catch's sparkle, growing and fading out.
#[derive(Component)]
struct Sparkle {
    timer: Timer,
    /// Its size when it appears, in world units.
    size: f32,
}

/// Figures of falling things by spawn index, for the round they belong to.
#[derive(Resource, Default)]
struct FallingFigures {
    round_id: Option<String>,
    by_index: HashMap<u32, FallingFigure>,
    /// Counts the frames drawn, to tell which figures a frame did not see.
    frame: u32,
}

/// The figure of one falling thing.
struct FallingFigure {
    entity: Entity,
    /// Where it was drawn last.
    last: Vec2,
    /// The frame that drew it last.
    seen: u32,
}

pub(super) fn plugin(app: &mut App) {
    app.init_resource::<FallingFigures>();
    app.add_systems(Startup, (spawn_fairy, spawn_shelf_slots));
    app.add_systems(
        Update,
        (
            draw_fairy,
            draw_falling,
            draw_shelf,
            flap_wings,
            fade_sparkles,
        )
            .in_set(AppSystems::Update),
    );
}

/// Where the fairy waits when no round is on: mid-field, at her height.
fn resting_place() -> Vec2 {
    let rules = Rules::CURRENT;
    field::to_world(
        sim::Position {
            x: rules.field_width / 2,
            y: rules.fairy_y,
        },
        &rules,
    )
}

fn spawn_fairy(mut commands: Commands, art: Res<Art>) {
    let fairy = art.spawn_fairy(&mut commands);
    commands.entity(fairy).insert((
        FairyFigure,
        Name::new("Fairy"),
        Transform::from_translation(resting_place().extend(FAIRY_Z)),
    ));
}

/// The slots of the village library's shelf, at the bottom of the field.
fn spawn_shelf_slots(mut commands: Commands, art: Res<Art>) {
    let per_row = SHELF_SLOTS.div_ceil(SHELF_ROWS);
    let book = Vec2::new(
        backdrop::SHELF_INNER.x / per_row as f32 - 6.0,
        backdrop::SHELF_ROW_HEIGHT - 14.0,
    );
    for slot in 0..SHELF_SLOTS {
        let (row, column) = (slot / per_row, slot % per_row);
        let x = -backdrop::SHELF_INNER.x / 2.0 + (column as f32 + 0.5) * (book.x + 6.0);
        let y = backdrop::shelf_row_floor(row) + book.y / 2.0;
        let figure = art.spawn_shelved_book(&mut commands, slot, book, Vec3::new(x, y, -3.5));
        commands.entity(figure).insert(ShelfSlot(slot));
    }
}

fn draw_fairy(
    active: Option<Res<ActiveRound>>,
    fixed: Res<Time<Fixed>>,
    time: Res<Time>,
    fairy: Single<(&mut Transform, &Children), With<FairyFigure>>,
    mut carried: Query<(&CarriedBook, &mut Visibility)>,
) {
    let (mut transform, children) = fairy.into_inner();
    let bob = (time.elapsed_secs() * 3.0).sin() * 8.0;
    let Some(active) = active else {
        transform.translation = (resting_place() + Vec2::new(0.0, bob)).extend(FAIRY_Z);
        return;
    };
    let round = &active.round;
    let fairy = round.fairy();
    let at = active.drawn_at(None, fairy.position, fixed.overstep_fraction());
    // Leaning into the flight: the gap to where she was drawn last frame.
    let lean = ((transform.translation.x - at.x) * 0.02).clamp(-0.3, 0.3);
    transform.translation = Vec3::new(at.x, at.y + bob, FAIRY_Z);
    transform.rotation = Quat::from_rotation_z(lean);
    let holding = round.basket().books;
    let mut children = carried.iter_many_mut(children);
    while let Some((book, mut visibility)) = children.fetch_next() {
        visibility.set_if_neq(if book.0 < holding {
            Visibility::Inherited
        } else {
            Visibility::Hidden
        });
    }
}

fn flap_wings(time: Res<Time>, mut wings: Query<&mut Transform, With<Wing>>) {
    let flap = 0.85 + 0.15 * (time.elapsed_secs() * 14.0).sin();
    for mut wing in &mut wings {
        wing.scale.y = 56.0 * flap;
    }
}

fn draw_falling(
    mut commands: Commands,
    active: Option<Res<ActiveRound>>,
    fixed: Res<Time<Fixed>>,
    art: Res<Art>,
    mut figures: ResMut<FallingFigures>,
    mut transforms: Query<&mut Transform, With<Falling>>,
) {
    let round_id = active
        .as_ref()
        .map(|active| active.started.round_id.as_str());
    if figures.round_id.as_deref() != round_id {
        for (_, figure) in figures.by_index.drain() {
            commands.entity(figure.entity).despawn();
        }
        figures.round_id = round_id.map(str::to_owned);
    }
    let Some(active) = active else {
        return;
    };
    let round = &active.round;
    let rules = round.rules();
    let fraction = fixed.overstep_fraction();
    figures.frame = figures.frame.wrapping_add(1);
    let frame = figures.frame;
    for thing in round.falling() {
        let at = active.drawn_at(Some(thing.index), thing.position, fraction);
        let translation = at.extend(FALLING_Z + thing.index as f32 * 1e-4);
        match figures.by_index.entry(thing.index) {
            Entry::Occupied(mut known) => {
                let figure = known.get_mut();
                figure.last = at;
                figure.seen = frame;
                if let Ok(mut transform) = transforms.get_mut(figure.entity) {
                    transform.translation = translation;
                }
            }
            Entry::Vacant(new) => {
                let entity = match thing.kind {
                    FallingKind::Book => art.spawn_book(&mut commands, thing.index, false),
                    FallingKind::GoldenBook => art.spawn_book(&mut commands, thing.index, true),
                    FallingKind::Cloud => art.spawn_cloud(&mut commands),
                };
                commands
                    .entity(entity)
                    .insert((Falling, Transform::from_translation(translation)));
                new.insert(FallingFigure {
                    entity,
                    last: at,
                    seen: frame,
                });
            }
        }
    }
    // Whatever left the round was caught (it sparkles) or fell away.
    let fairy_y = field::to_world(round.fairy().position, rules).y;
    figures.by_index.retain(|_, figure| {
        if figure.seen == frame {
            return true;
        }
        commands.entity(figure.entity).despawn();
        if (figure.last.y - fairy_y).abs() < 120.0 {
            let sparkle = art.spawn_sparkle(&mut commands, figure.last.extend(SPARKLE_Z), 60.0);
            commands.entity(sparkle).insert(Sparkle {
                timer: Timer::from_seconds(SPARKLE_SECONDS, TimerMode::Once),
                size: 60.0,
            });
        }
        false
    });
}

fn draw_shelf(active: Option<Res<ActiveRound>>, mut slots: Query<(&ShelfSlot, &mut Visibility)>) {
    let shelved = active.map_or(0, |active| active.round.shelf().books);
    for (slot, mut visibility) in &mut slots {
        visibility.set_if_neq(if slot.0 < shelved {
            Visibility::Inherited
        } else {
            Visibility::Hidden
        });
    }
}

fn fade_sparkles(
    mut commands: Commands,
    time: Res<Time>,
    mut sparkles: Query<(Entity, &mut Sparkle, &mut Transform)>,
) {
    for (entity, mut sparkle, mut transform) in &mut sparkles {
        sparkle.timer.tick(time.delta());
        if sparkle.timer.is_finished() {
            commands.entity(entity).despawn();
        } else {
            let grown = sparkle.size * (1.0 + sparkle.timer.fraction());
            transform.scale = Vec3::new(grown, grown, 1.0);
            transform.rotate_z(time.delta_secs() * 4.0);
        }
    }
}
