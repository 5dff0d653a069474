//! The game's art, drawn from shapes: the fairy, the books, the rain clouds
//! and the sparkles. Each figure is a small tree of meshes in a few colours
//! that share their handles, so nothing is downloaded and a frame batches
//! well. Sizes are world units; a figure's origin is its centre.

use bevy::prelude::*;

/// A book's cover colours, picked by spawn index so a book keeps its colour.
const COVERS: [Color; 5] = [
    Color::srgb(0.27, 0.52, 0.85),
    Color::srgb(0.90, 0.36, 0.33),
    Color::srgb(0.30, 0.68, 0.45),
    Color::srgb(0.62, 0.42, 0.80),
    Color::srgb(0.98, 0.60, 0.25),
];
const GOLD: Color = Color::srgb(1.0, 0.78, 0.20);
const GOLD_GLOW: Color = Color::srgba(1.0, 0.88, 0.40, 0.8);
const PAGES: Color = Color::srgb(0.99, 0.97, 0.90);
const SPINE_SHADE: Color = Color::srgba(0.0, 0.0, 0.0, 0.22);
const CLOUD_DARK: Color = Color::srgb(0.45, 0.51, 0.62);
const CLOUD_LIGHT: Color = Color::srgb(0.58, 0.64, 0.74);
const RAIN: Color = Color::srgb(0.35, 0.62, 0.95);
const SKIN: Color = Color::srgb(1.0, 0.88, 0.76);
const HAIR: Color = Color::srgb(0.36, 0.23, 0.16);
const DRESS: Color = Color::srgb(1.0, 0.56, 0.67);
const DRESS_TRIM: Color = Color::srgb(1.0, 0.80, 0.86);
const WING: Color = Color::srgba(0.86, 0.96, 1.0, 0.75);
const INK: Color = Color::srgb(0.18, 0.23, 0.35);
const CHEEK: Color = Color::srgba(1.0, 0.55, 0.60, 0.6);
const WAND: Color = Color::srgb(0.77, 0.55, 0.23);
const SPARKLE: Color = Color::srgb(1.0, 0.95, 0.6);

/// Width and height of a falling book.
pub const BOOK_SIZE: Vec2 = Vec2::new(64.0, 72.0);

/// Mesh and material handles of every figure, made once.
#[derive(Resource)]
pub struct Art {
    shapes: Shapes,
    colours: Colours,
}

struct Shapes {
    unit_square: Handle<Mesh>,
    unit_circle: Handle<Mesh>,
    wing: Handle<Mesh>,
    dress: Handle<Mesh>,
    sparkle_tall: Handle<Mesh>,
    sparkle_wide: Handle<Mesh>,
    raindrop: Handle<Mesh>,
}

struct Colours {
    covers: [Handle<ColorMaterial>; COVERS.len()],
    gold: Handle<ColorMaterial>,
    gold_glow: Handle<ColorMaterial>,
    pages: Handle<ColorMaterial>,
    spine_shade: Handle<ColorMaterial>,
    cloud_dark: Handle<ColorMaterial>,
    cloud_light: Handle<ColorMaterial>,
    rain: Handle<ColorMaterial>,
    skin: Handle<ColorMaterial>,
    hair: Handle<ColorMaterial>,
    dress: Handle<ColorMaterial>,
    dress_trim: Handle<ColorMaterial>,
    wing: Handle<ColorMaterial>,
    ink: Handle<ColorMaterial>,
    cheek: Handle<ColorMaterial>,
    wand: Handle<ColorMaterial>,
    sparkle: Handle<ColorMaterial>,
}

/// A wing of the fairy; flaps by scaling.
#[derive(Component)]
pub struct Wing;

/// The `n`-th book the fairy carries (from 0), shown while she holds more.
#[derive(Component)]
pub struct CarriedBook(pub u32);

pub(super) fn plugin(app: &mut App) {
    app.add_systems(PreStartup, make_art);
}

fn make_art(
    mut commands: Commands,
    mut meshes: ResMut<Assets<Mesh>>,
    mut materials: ResMut<Assets<ColorMaterial>>,
) {
    let shapes = Shapes {
        unit_square: meshes.add(Rectangle::new(1.0, 1.0)),
        unit_circle: meshes.add(Circle::new(0.5).mesh().resolution(40)),
        wing: meshes.add(Ellipse::new(0.5, 0.5).mesh().resolution(32)),
        dress: meshes.add(Triangle2d::new(
            Vec2::new(0.0, 0.5),
            Vec2::new(-0.5, -0.5),
            Vec2::new(0.5, -0.5),
        )),
        sparkle_tall: meshes.add(Rhombus::new(0.28, 1.0)),
        sparkle_wide: meshes.add(Rhombus::new(1.0, 0.28)),
        raindrop: meshes.add(Capsule2d::new(0.5, 1.0)),
    };
    let mut colour = |colour: Color| materials.add(colour);
    let colours = Colours {
        covers: COVERS.map(&mut colour),
        gold: colour(GOLD),
        gold_glow: colour(GOLD_GLOW),
        pages: colour(PAGES),
        spine_shade: colour(SPINE_SHADE),
        cloud_dark: colour(CLOUD_DARK),
        cloud_light: colour(CLOUD_LIGHT),
        rain: colour(RAIN),
        skin: colour(SKIN),
        hair: colour(HAIR),
        dress: colour(DRESS),
        dress_trim: colour(DRESS_TRIM),
        wing: colour(WING),
        ink: colour(INK),
        cheek: colour(CHEEK),
        wand: colour(WAND),
        sparkle: colour(SPARKLE),
    };
    commands.insert_resource(Art { shapes, colours });
}

/// One shape of a figure: `mesh` scaled to `size`, at `at` (z orders the
/// parts), turned by `turn` radians.
fn part(
    mesh: &Handle<Mesh>,
    colour: &Handle<ColorMaterial>,
    at: Vec3,
    size: Vec2,
    turn: f32,
) -> impl Bundle + use<> {
    (
        Mesh2d(mesh.clone()),
        MeshMaterial2d(colour.clone()),
        Transform {
            translation: at,
            rotation: Quat::from_rotation_z(turn),
            scale: size.extend(1.0),
        },
    )
}

impl Art {
    /// The parts of a book of `size`: cover, pages, spine and title label.
    fn book_parts(&self, cover: &Handle<ColorMaterial>, size: Vec2) -> [impl Bundle + use<>; 4] {
        let (shapes, colours) = (&self.shapes, &self.colours);
        let square = &shapes.unit_square;
        [
            part(square, cover, Vec3::ZERO, size, 0.0),
            part(
                square,
                &colours.pages,
                Vec3::new(size.x * 0.42, -size.y * 0.02, 0.01),
                Vec2::new(size.x * 0.12, size.y * 0.86),
                0.0,
            ),
            part(
                square,
                &colours.spine_shade,
                Vec3::new(-size.x * 0.40, 0.0, 0.01),
                Vec2::new(size.x * 0.14, size.y),
                0.0,
            ),
            part(
                square,
                &colours.pages,
                Vec3::new(0.0, size.y * 0.18, 0.01),
                Vec2::new(size.x * 0.46, size.y * 0.14),
                0.0,
            ),
        ]
    }

    /// A falling book; a golden one glows and carries a star.
    pub fn spawn_book(&self, commands: &mut Commands, index: u32, golden: bool) -> Entity {
        let colours = &self.colours;
        let cover = if golden {
            &colours.gold
        } else {
            &colours.covers[index as usize % COVERS.len()]
        };
        let mut book = commands.spawn((Transform::default(), Visibility::default()));
        book.with_children(|parent| {
            for piece in self.book_parts(cover, BOOK_SIZE) {
                parent.spawn(piece);
            }
            if golden {
                let glow = part(
                    &self.shapes.unit_circle,
                    &colours.gold_glow,
                    Vec3::new(0.0, 0.0, -0.05),
                    Vec2::splat(BOOK_SIZE.y * 1.6),
                    0.0,
                );
                parent.spawn(glow);
                self.spawn_sparkle_parts(parent, Vec3::new(0.0, -6.0, 0.02), 30.0);
            }
        });
        book.id()
    }

    /// A rain cloud of `size`, with its rain beneath.
    pub fn spawn_cloud(&self, commands: &mut Commands, size: Vec2) -> Entity {
        let (shapes, colours) = (&self.shapes, &self.colours);
        let mut cloud = commands.spawn((Transform::default(), Visibility::default()));
        cloud.with_children(|parent| {
            let puffs = [
                (-0.30, -0.10, 0.52, &colours.cloud_dark),
                (0.28, -0.08, 0.56, &colours.cloud_dark),
                (0.0, 0.12, 0.72, &colours.cloud_light),
                (-0.10, -0.16, 0.50, &colours.cloud_light),
            ];
            for (z, (x, y, diameter, colour)) in puffs.into_iter().enumerate() {
                parent.spawn(part(
                    &shapes.unit_circle,
                    colour,
                    Vec3::new(x * size.x, y * size.y, z as f32 * 0.01),
                    Vec2::new(diameter * size.x * 0.9, diameter * size.y * 1.5),
                    0.0,
                ));
            }
            for x in [-0.26, 0.0, 0.26] {
                parent.spawn(part(
                    &shapes.raindrop,
                    &colours.rain,
                    Vec3::new(x * size.x, -size.y * 0.72, -0.01),
                    Vec2::new(8.0, 14.0),
                    0.25,
                ));
            }
        });
        cloud.id()
    }

    /// The fairy: wings, dress, face, hair, a wand with a star, and the
    /// books she carries above her head.
    pub fn spawn_fairy(&self, commands: &mut Commands) -> Entity {
        let (shapes, colours) = (&self.shapes, &self.colours);
        let circle = &shapes.unit_circle;
        let mut fairy = commands.spawn((Transform::default(), Visibility::default()));
        fairy.with_children(|parent| {
            for side in [-1.0, 1.0] {
                parent.spawn((
                    Wing,
                    part(
                        &shapes.wing,
                        &colours.wing,
                        Vec3::new(side * 52.0, 22.0, -0.2),
                        Vec2::new(92.0, 56.0),
                        side * 0.45,
                    ),
                ));
            }
            let parts = [
                part(
                    &shapes.dress,
                    &colours.dress,
                    Vec3::new(0.0, -30.0, 0.0),
                    Vec2::new(96.0, 92.0),
                    0.0,
                ),
                part(
                    &shapes.unit_square,
                    &colours.dress_trim,
                    Vec3::new(0.0, -72.0, 0.01),
                    Vec2::new(90.0, 8.0),
                    0.0,
                ),
                part(
                    circle,
                    &colours.hair,
                    Vec3::new(0.0, 34.0, 0.02),
                    Vec2::new(84.0, 80.0),
                    0.0,
                ),
                part(
                    circle,
                    &colours.hair,
                    Vec3::new(0.0, 76.0, 0.02),
                    Vec2::new(34.0, 30.0),
                    0.0,
                ),
                part(
                    circle,
                    &colours.skin,
                    Vec3::new(0.0, 26.0, 0.03),
                    Vec2::new(70.0, 64.0),
                    0.0,
                ),
                part(
                    circle,
                    &colours.hair,
                    Vec3::new(-12.0, 54.0, 0.04),
                    Vec2::new(52.0, 22.0),
                    0.35,
                ),
                part(
                    circle,
                    &colours.ink,
                    Vec3::new(-14.0, 26.0, 0.05),
                    Vec2::new(9.0, 11.0),
                    0.0,
                ),
                part(
                    circle,
                    &colours.ink,
                    Vec3::new(14.0, 26.0, 0.05),
                    Vec2::new(9.0, 11.0),
                    0.0,
                ),
                part(
                    circle,
                    &colours.cheek,
                    Vec3::new(-22.0, 14.0, 0.05),
                    Vec2::new(13.0, 8.0),
                    0.0,
                ),
                part(
                    circle,
                    &colours.cheek,
                    Vec3::new(22.0, 14.0, 0.05),
                    Vec2::new(13.0, 8.0),
                    0.0,
                ),
                part(
                    &shapes.unit_square,
                    &colours.ink,
                    Vec3::new(0.0, 10.0, 0.05),
                    Vec2::new(10.0, 3.0),
                    0.0,
                ),
                part(
                    &shapes.unit_square,
                    &colours.wand,
                    Vec3::new(52.0, -12.0, 0.04),
                    Vec2::new(5.0, 58.0),
                    -0.5,
                ),
            ];
            for piece in parts {
                parent.spawn(piece);
            }
            self.spawn_sparkle_parts(parent, Vec3::new(68.0, 16.0, 0.06), 34.0);
            // Up to this many carried books are drawn; more stay hidden.
            for n in 0..6_u32 {
                let size = Vec2::new(48.0, 16.0);
                let cover = &colours.covers[n as usize % COVERS.len()];
                parent.spawn((
                    CarriedBook(n),
                    part(
                        &shapes.unit_square,
                        cover,
                        Vec3::new(((n % 2) as f32 - 0.5) * 6.0, 96.0 + n as f32 * 16.0, 0.07),
                        size,
                        0.0,
                    ),
                    Visibility::Hidden,
                ));
            }
        });
        fairy.id()
    }

    /// A book standing on the shelf, its spine out.
    pub fn spawn_shelved_book(
        &self,
        commands: &mut Commands,
        slot: u32,
        size: Vec2,
        at: Vec3,
    ) -> Entity {
        let cover = &self.colours.covers[(slot as usize * 3 + 1) % COVERS.len()];
        commands
            .spawn((
                part(&self.shapes.unit_square, cover, at, size, 0.0),
                Visibility::Hidden,
            ))
            .with_child(part(
                &self.shapes.unit_square,
                &self.colours.pages,
                Vec3::new(0.0, 0.25, 0.01),
                Vec2::new(0.6, 0.08),
                0.0,
            ))
            .id()
    }

    /// A four-pointed sparkle of `size` at `at`, standing alone (a catch).
    pub fn spawn_sparkle(&self, commands: &mut Commands, at: Vec3, size: f32) -> Entity {
        let mut sparkle = commands.spawn((Transform::from_translation(at), Visibility::default()));
        sparkle.with_children(|parent| self.spawn_sparkle_parts(parent, Vec3::ZERO, size));
        sparkle.id()
    }

    fn spawn_sparkle_parts(&self, parent: &mut ChildSpawnerCommands, at: Vec3, size: f32) {
        let (shapes, colours) = (&self.shapes, &self.colours);
        parent.spawn(part(
            &shapes.sparkle_tall,
            &colours.sparkle,
            at,
            Vec2::splat(size),
            0.0,
        ));
        parent.spawn(part(
            &shapes.sparkle_wide,
            &colours.sparkle,
            at,
            Vec2::splat(size),
            0.0,
        ));
    }
}
