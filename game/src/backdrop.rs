//! The village behind every screen: a morning sky, the sun, drifting
//! clouds, hills with houses and the school, and in front the library shelf
//! that each round fills. Drawn from shapes, so it costs no download; what
//! never moves is baked into one mesh (see [`crate::art::Baker`]).

use bevy::camera::ScalingMode;
use bevy::prelude::*;

use crate::AppSystems;
use crate::art::{Art, Baker, Fill};
use crate::field::{FIELD_HEIGHT, FIELD_WIDTH};

const SKY_TOP: Color = Color::srgb(0.42, 0.72, 0.93);
const SKY_HORIZON: Color = Color::srgb(0.99, 0.90, 0.78);
const SUN: Color = Color::srgb(1.0, 0.87, 0.45);
const SUN_HALO: Color = Color::srgb(1.0, 0.95, 0.74);
const FAIR_CLOUD: Color = Color::srgba(1.0, 1.0, 1.0, 0.85);
const FAR_HILL: Color = Color::srgb(0.56, 0.78, 0.55);
const NEAR_HILL: Color = Color::srgb(0.40, 0.67, 0.42);
const WALL: Color = Color::srgb(0.98, 0.95, 0.88);
const ROOF: Color = Color::srgb(0.80, 0.33, 0.27);
const ROOF_DARK: Color = Color::srgb(0.55, 0.38, 0.30);
const WINDOW: Color = Color::srgb(0.55, 0.75, 0.92);
const FLAG: Color = Color::srgb(0.87, 0.16, 0.13);
const POLE: Color = Color::srgb(0.55, 0.55, 0.58);
const WOOD: Color = Color::srgb(0.62, 0.40, 0.24);
const WOOD_DARK: Color = Color::srgb(0.42, 0.26, 0.15);

/// Depth of the backdrop: far things have lower z; the shelf is in front.
const BACKDROP_Z: f32 = -10.0;
const SHELF_Z: f32 = -4.0;

/// The inside of the library shelf (world units), where shelved books stand.
pub const SHELF_INNER: Vec2 = Vec2::new(820.0, 124.0);
/// Height of one row of the shelf.
pub const SHELF_ROW_HEIGHT: f32 = SHELF_INNER.y / 2.0;
/// The shelf's centre.
const SHELF_CENTRE: Vec2 = Vec2::new(0.0, -FIELD_HEIGHT / 2.0 + 84.0);

/// The top of the floor of shelf row `row` (0 is the top row).
pub fn shelf_row_floor(row: u32) -> f32 {
    SHELF_CENTRE.y + SHELF_INNER.y / 2.0 - (row + 1) as f32 * SHELF_ROW_HEIGHT
}

/// A fair-weather cloud drifting across the sky at `speed` units a second.
#[derive(Component)]
struct Drifting {
    speed: f32,
}

pub(super) fn plugin(app: &mut App) {
    app.insert_resource(ClearColor(SKY_HORIZON));
    app.add_systems(Startup, (spawn_camera, spawn_scenery));
    app.add_systems(Update, drift_clouds.in_set(AppSystems::Update));
}

fn spawn_camera(mut commands: Commands) {
    commands.spawn((
        Name::new("Camera"),
        Camera2d,
        // Whatever the screen's shape, the whole playfield stays visible.
        Projection::Orthographic(OrthographicProjection {
            scaling_mode: ScalingMode::AutoMin {
                min_width: FIELD_WIDTH,
                min_height: FIELD_HEIGHT,
            },
            ..OrthographicProjection::default_2d()
        }),
    ));
}

/// The scenery that never moves (sky, sun, hills, houses, the school and
/// the shelf) as one baked mesh: one entity and one draw call a frame,
/// however many shapes it has.
fn spawn_scenery(mut commands: Commands, mut meshes: ResMut<Assets<Mesh>>, art: Res<Art>) {
    let mut village = Baker::default();
    paint_village(&mut village);
    paint_shelf(&mut village);
    commands.spawn((
        Name::new("Scenery"),
        Mesh2d(meshes.add(village.bake())),
        MeshMaterial2d(art.solid.clone()),
    ));

    // The drifting clouds share one see-through mesh, a unit wide.
    let mut cloud = Baker::default();
    cloud
        .add(
            Ellipse::new(0.5, 0.18).mesh().resolution(48),
            FAIR_CLOUD,
            Vec3::ZERO,
            Vec2::ONE,
            0.0,
        )
        .add(
            Circle::new(0.22).mesh().resolution(40),
            FAIR_CLOUD,
            Vec3::new(-0.12, 0.1, 0.01),
            Vec2::ONE,
            0.0,
        );
    let cloud = meshes.add(cloud.bake());
    for (x, y, width, speed) in [
        (-260.0, 520.0, 200.0, 9.0),
        (180.0, 180.0, 150.0, 14.0),
        (-60.0, -120.0, 120.0, 6.0),
    ] {
        commands.spawn((
            Drifting { speed },
            Mesh2d(cloud.clone()),
            MeshMaterial2d(art.glass.clone()),
            Transform::from_xyz(x, y, BACKDROP_Z + 0.2).with_scale(Vec3::new(width, width, 1.0)),
        ));
    }
}

/// A cottage (or with `school`, the school with its flag) on the hills.
fn paint_house(baker: &mut Baker, at: Vec3, width: f32, roof: Color, school: bool) {
    let height = width * 0.62;
    let eaves = width * 0.62;
    let roof_shape = Triangle2d::new(
        Vec2::new(0.0, height * 0.75),
        Vec2::new(-eaves, 0.0),
        Vec2::new(eaves, 0.0),
    );
    baker
        .add(Rectangle::new(width, height), WALL, at, Vec2::ONE, 0.0)
        .add(
            roof_shape,
            roof,
            at + Vec3::new(0.0, height / 2.0 - 2.0, 0.1),
            Vec2::ONE,
            0.0,
        );
    let pane = width * 0.2;
    for x in [-0.27, 0.27] {
        baker.add(
            Rectangle::new(pane, pane),
            WINDOW,
            at + Vec3::new(x * width, height * 0.05, 0.1),
            Vec2::ONE,
            0.0,
        );
    }
    if school {
        let pole_height = height * 1.6;
        let pole = at + Vec3::new(width * 0.72, pole_height / 2.0 - height / 2.0, -0.05);
        baker
            .add(Rectangle::new(4.0, pole_height), POLE, pole, Vec2::ONE, 0.0)
            .add(
                Rectangle::new(width * 0.28, width * 0.18),
                FLAG,
                pole + Vec3::new(width * 0.14 + 2.0, pole_height / 2.0 - width * 0.09, 0.0),
                Vec2::ONE,
                0.0,
            );
    }
}

/// The morning sky, the sun, the hills, two cottages and the school.
fn paint_village(baker: &mut Baker) {
    let z = BACKDROP_Z;
    // Taller than the field so that wide screens show sky, not a border.
    baker.add(
        Rectangle::new(FIELD_WIDTH * 4.0, FIELD_HEIGHT),
        Fill::Vertical {
            top: SKY_TOP,
            bottom: SKY_HORIZON,
        },
        Vec3::new(0.0, 0.0, z),
        Vec2::ONE,
        0.0,
    );
    let sun = Vec3::new(FIELD_WIDTH * 0.30, FIELD_HEIGHT * 0.30, z + 0.1);
    baker
        .add(
            Circle::new(150.0).mesh().resolution(64),
            SUN_HALO,
            sun,
            Vec2::ONE,
            0.0,
        )
        .add(
            Circle::new(86.0).mesh().resolution(64),
            SUN,
            sun + Vec3::Z * 0.01,
            Vec2::ONE,
            0.0,
        );

    let ground = -FIELD_HEIGHT / 2.0;
    baker.add(
        Ellipse::new(FIELD_WIDTH * 1.4, 300.0).mesh().resolution(96),
        FAR_HILL,
        Vec3::new(-260.0, ground + 190.0, z + 1.0),
        Vec2::ONE,
        0.0,
    );
    paint_house(
        baker,
        Vec3::new(-300.0, ground + 440.0, z + 1.5),
        70.0,
        ROOF_DARK,
        false,
    );
    paint_house(
        baker,
        Vec3::new(260.0, ground + 420.0, z + 1.5),
        60.0,
        ROOF,
        false,
    );
    baker.add(
        Ellipse::new(FIELD_WIDTH * 1.2, 260.0).mesh().resolution(96),
        NEAR_HILL,
        Vec3::new(380.0, ground + 90.0, z + 2.0),
        Vec2::ONE,
        0.0,
    );
    paint_house(
        baker,
        Vec3::new(-120.0, ground + 330.0, z + 2.5),
        150.0,
        ROOF,
        true,
    );
}

/// The library shelf across the bottom: a wooden case with two rows.
fn paint_shelf(baker: &mut Baker) {
    let case = SHELF_INNER + Vec2::splat(24.0);
    baker
        .add(
            Rectangle::from_size(case),
            WOOD,
            SHELF_CENTRE.extend(SHELF_Z),
            Vec2::ONE,
            0.0,
        )
        .add(
            Rectangle::from_size(SHELF_INNER),
            WOOD_DARK,
            SHELF_CENTRE.extend(SHELF_Z + 0.1),
            Vec2::ONE,
            0.0,
        );
    for row in 0..2 {
        baker.add(
            Rectangle::new(SHELF_INNER.x, 8.0),
            WOOD,
            Vec3::new(0.0, shelf_row_floor(row) - 4.0, SHELF_Z + 0.2),
            Vec2::ONE,
            0.0,
        );
    }
}

fn drift_clouds(time: Res<Time>, mut clouds: Query<(&Drifting, &mut Transform)>) {
    // Clouds leave on the right and come back on the left, past any screen.
    let span = FIELD_WIDTH * 2.0;
    for (drifting, mut transform) in &mut clouds {
        let x = transform.translation.x + drifting.speed * time.delta_secs();
        transform.translation.x = (x + span / 2.0).rem_euclid(span) - span / 2.0;
    }
}
