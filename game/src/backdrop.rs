//! The village backdrop behind every screen: sky, sun, hills and the school
//! whose library the fairy fills. Drawn from shape meshes, so it costs no
//! download.

use bevy::camera::ScalingMode;
use bevy::prelude::*;

use crate::{FIELD_HEIGHT, FIELD_WIDTH};

/// Morning sky behind everything.
const SKY: Color = Color::srgb(0.65, 0.85, 0.98);
const SUN: Color = Color::srgb(1.0, 0.86, 0.45);
const FAR_HILL: Color = Color::srgb(0.55, 0.78, 0.52);
const NEAR_HILL: Color = Color::srgb(0.42, 0.68, 0.40);
const WALL: Color = Color::srgb(0.98, 0.95, 0.88);
const ROOF: Color = Color::srgb(0.80, 0.30, 0.25);
const DOOR: Color = Color::srgb(0.45, 0.30, 0.20);

/// Depth of backdrop layers: far things have lower z.
const BACKDROP_Z: f32 = -10.0;

pub(super) fn plugin(app: &mut App) {
    app.insert_resource(ClearColor(SKY));
    app.add_systems(Startup, (spawn_camera, spawn_village));
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

fn spawn_village(
    mut commands: Commands,
    mut meshes: ResMut<Assets<Mesh>>,
    mut materials: ResMut<Assets<ColorMaterial>>,
) {
    let ground_y = -FIELD_HEIGHT / 2.0;
    let mut shape = |name: &'static str, mesh: Mesh, color: Color, at: Vec3| {
        (
            Name::new(name),
            Mesh2d(meshes.add(mesh)),
            MeshMaterial2d(materials.add(color)),
            Transform::from_translation(at),
        )
    };
    let z = BACKDROP_Z;
    commands.spawn(shape(
        "Sun",
        Circle::new(90.0).into(),
        SUN,
        Vec3::new(FIELD_WIDTH * 0.3, FIELD_HEIGHT * 0.36, z),
    ));
    commands.spawn(shape(
        "Far hill",
        Ellipse::new(700.0, 260.0).into(),
        FAR_HILL,
        Vec3::new(-250.0, ground_y + 120.0, z + 1.0),
    ));
    commands.spawn(shape(
        "Near hill",
        Ellipse::new(650.0, 200.0).into(),
        NEAR_HILL,
        Vec3::new(320.0, ground_y + 40.0, z + 2.0),
    ));
    let school = Vec3::new(0.0, ground_y + 260.0, z + 3.0);
    commands.spawn(shape(
        "School wall",
        Rectangle::new(300.0, 170.0).into(),
        WALL,
        school,
    ));
    commands.spawn(shape(
        "School roof",
        Triangle2d::new(
            Vec2::new(0.0, 110.0),
            Vec2::new(-185.0, 0.0),
            Vec2::new(185.0, 0.0),
        )
        .into(),
        ROOF,
        school + Vec3::new(0.0, 85.0, 0.1),
    ));
    commands.spawn(shape(
        "School door",
        Rectangle::new(60.0, 100.0).into(),
        DOOR,
        school + Vec3::new(0.0, -35.0, 0.1),
    ));
}
