//! The village behind every screen: a morning sky, the sun, drifting
//! clouds, hills with houses and the school, and in front the library shelf
//! that each round fills. Drawn from shape meshes, so it costs no download.

use bevy::camera::ScalingMode;
use bevy::ecs::system::SystemParam;
use bevy::mesh::VertexAttributeValues;
use bevy::prelude::*;

use crate::AppSystems;
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
    app.add_systems(Startup, (spawn_camera, spawn_village, spawn_shelf));
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

/// A rectangle shaded from `top` to `bottom`.
fn gradient(size: Vec2, top: Color, bottom: Color) -> Mesh {
    let mut mesh = Mesh::from(Rectangle::from_size(size));
    // The rectangle's corners: top right, top left, bottom left, bottom right.
    let [top, bottom] = [top, bottom].map(|colour| LinearRgba::from(colour).to_f32_array());
    mesh.insert_attribute(
        Mesh::ATTRIBUTE_COLOR,
        VertexAttributeValues::Float32x4(vec![top, top, bottom, bottom]),
    );
    mesh
}

/// Spawns the shapes of the scenery.
#[derive(SystemParam)]
struct Painter<'w, 's> {
    commands: Commands<'w, 's>,
    meshes: ResMut<'w, Assets<Mesh>>,
    materials: ResMut<'w, Assets<ColorMaterial>>,
}

impl Painter<'_, '_> {
    fn paint(&mut self, mesh: impl Into<Mesh>, colour: Color, at: Vec3) -> EntityCommands<'_> {
        self.commands.spawn((
            Mesh2d(self.meshes.add(mesh)),
            MeshMaterial2d(self.materials.add(colour)),
            Transform::from_translation(at),
        ))
    }

    /// A fair-weather cloud `width` wide, drifting at `speed`.
    fn fair_cloud(&mut self, at: Vec3, width: f32, speed: f32) {
        let puff = Circle::new(width * 0.22).mesh().resolution(40);
        let puff = (
            Mesh2d(self.meshes.add(puff)),
            MeshMaterial2d(self.materials.add(FAIR_CLOUD)),
            Transform::from_xyz(-width * 0.12, width * 0.1, 0.01),
        );
        let body = Ellipse::new(width * 0.5, width * 0.18)
            .mesh()
            .resolution(48);
        self.paint(body, FAIR_CLOUD, at)
            .insert(Drifting { speed })
            .with_child(puff);
    }

    /// A cottage (or with `school`, the school with its flag) on the hills.
    fn house(&mut self, at: Vec3, width: f32, roof: Color, school: bool) {
        let height = width * 0.62;
        self.paint(Rectangle::new(width, height), WALL, at);
        let eaves = width * 0.62;
        self.paint(
            Triangle2d::new(
                Vec2::new(0.0, height * 0.75),
                Vec2::new(-eaves, 0.0),
                Vec2::new(eaves, 0.0),
            ),
            roof,
            at + Vec3::new(0.0, height / 2.0 - 2.0, 0.1),
        );
        let pane = width * 0.2;
        for x in [-0.27, 0.27] {
            self.paint(
                Rectangle::new(pane, pane),
                WINDOW,
                at + Vec3::new(x * width, height * 0.05, 0.1),
            );
        }
        if school {
            let pole_height = height * 1.6;
            let pole = at + Vec3::new(width * 0.72, pole_height / 2.0 - height / 2.0, -0.05);
            self.paint(Rectangle::new(4.0, pole_height), POLE, pole);
            self.paint(
                Rectangle::new(width * 0.28, width * 0.18),
                FLAG,
                pole + Vec3::new(width * 0.14 + 2.0, pole_height / 2.0 - width * 0.09, 0.0),
            );
        }
    }
}

fn spawn_village(mut painter: Painter) {
    let z = BACKDROP_Z;
    // Taller than the field so that wide screens show sky, not a border.
    painter.paint(
        gradient(
            Vec2::new(FIELD_WIDTH * 4.0, FIELD_HEIGHT),
            SKY_TOP,
            SKY_HORIZON,
        ),
        Color::WHITE,
        Vec3::new(0.0, 0.0, z),
    );
    let sun = Vec3::new(FIELD_WIDTH * 0.30, FIELD_HEIGHT * 0.30, z + 0.1);
    painter.paint(Circle::new(150.0).mesh().resolution(64), SUN_HALO, sun);
    painter.paint(
        Circle::new(86.0).mesh().resolution(64),
        SUN,
        sun + Vec3::Z * 0.01,
    );

    for (x, y, width, speed) in [
        (-260.0, 520.0, 200.0, 9.0),
        (180.0, 180.0, 150.0, 14.0),
        (-60.0, -120.0, 120.0, 6.0),
    ] {
        painter.fair_cloud(Vec3::new(x, y, z + 0.2), width, speed);
    }

    let ground = -FIELD_HEIGHT / 2.0;
    painter.paint(
        Ellipse::new(FIELD_WIDTH * 1.4, 300.0).mesh().resolution(96),
        FAR_HILL,
        Vec3::new(-260.0, ground + 190.0, z + 1.0),
    );
    painter.house(
        Vec3::new(-300.0, ground + 440.0, z + 1.5),
        70.0,
        ROOF_DARK,
        false,
    );
    painter.house(Vec3::new(260.0, ground + 420.0, z + 1.5), 60.0, ROOF, false);
    painter.paint(
        Ellipse::new(FIELD_WIDTH * 1.2, 260.0).mesh().resolution(96),
        NEAR_HILL,
        Vec3::new(380.0, ground + 90.0, z + 2.0),
    );
    painter.house(
        Vec3::new(-120.0, ground + 330.0, z + 2.5),
        150.0,
        ROOF,
        true,
    );
}

/// The library shelf across the bottom: a wooden case with two rows.
fn spawn_shelf(mut painter: Painter) {
    let case = SHELF_INNER + Vec2::splat(24.0);
    painter.paint(
        Rectangle::from_size(case),
        WOOD,
        SHELF_CENTRE.extend(SHELF_Z),
    );
    painter.paint(
        Rectangle::from_size(SHELF_INNER),
        WOOD_DARK,
        SHELF_CENTRE.extend(SHELF_Z + 0.1),
    );
    for row in 0..2 {
        painter.paint(
            Rectangle::new(SHELF_INNER.x, 8.0),
            WOOD,
            Vec3::new(0.0, shelf_row_floor(row) - 4.0, SHELF_Z + 0.2),
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
