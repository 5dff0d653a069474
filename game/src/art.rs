//! The game's art, drawn from shapes: the fairy, the books, the rain clouds
//! and the sparkles. Nothing is downloaded.
//!
//! Each figure is baked once, at start, into a single mesh whose vertices
//! carry its colours ([`Baker`]): a figure is one entity, every copy of a
//! figure shares its mesh, and every figure shares one of two white
//! materials, [`Art::solid`] or, for see-through shapes, [`Art::glass`].
//! So the renderer draws all copies of a figure with one call, and a frame
//! costs a few dozen entities, not hundreds. Sizes are world units; a
//! figure's origin is its centre.

use bevy::asset::RenderAssetUsages;
use bevy::mesh::{Indices, PrimitiveTopology, VertexAttributeValues};
use bevy::prelude::*;
use bevy::sprite_render::AlphaMode2d;
use sim::{FallingKind, Rules};

use crate::field;

/// A book's cover colours, picked by spawn index so a book keeps its colour.
pub const COVERS: [Color; 5] = [
    Color::srgb(0.27, 0.52, 0.85),
    Color::srgb(0.90, 0.36, 0.33),
    Color::srgb(0.30, 0.68, 0.45),
    Color::srgb(0.62, 0.42, 0.80),
    Color::srgb(0.98, 0.60, 0.25),
];
const GOLD: Color = Color::srgb(1.0, 0.78, 0.20);
const GOLD_GLOW: Color = Color::srgba(1.0, 0.88, 0.40, 0.8);
const PAGES: Color = Color::srgb(0.99, 0.97, 0.90);
/// Darkens a cover at its spine (laid over it when baked).
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
/// Blushes the face (laid over the skin when baked).
const CHEEK: Color = Color::srgba(1.0, 0.55, 0.60, 0.6);
const WAND: Color = Color::srgb(0.77, 0.55, 0.23);
const SPARKLE: Color = Color::srgb(1.0, 0.95, 0.6);

/// Width and height of a falling book.
pub const BOOK_SIZE: Vec2 = Vec2::new(64.0, 72.0);
/// Width and height of a book the fairy carries.
const CARRIED_SIZE: Vec2 = Vec2::new(48.0, 16.0);
/// Up to this many carried books are drawn; more stay hidden.
const CARRIED_SHOWN: u32 = 6;

/// The baked figures and the two materials they share, made once.
#[derive(Resource)]
pub struct Art {
    /// White and opaque: a solid figure's colours are its vertices'.
    pub solid: Handle<ColorMaterial>,
    /// White and blended: for figures with see-through parts.
    pub glass: Handle<ColorMaterial>,
    books: [Handle<Mesh>; COVERS.len()],
    golden_book: Handle<Mesh>,
    rain_cloud: Handle<Mesh>,
    fairy: Handle<Mesh>,
    wing: Handle<Mesh>,
    carried: [Handle<Mesh>; COVERS.len()],
    shelved: [Handle<Mesh>; COVERS.len()],
    sparkle: Handle<Mesh>,
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

/// A shape's fill: one colour, or a vertical blend from `top` to `bottom`.
#[derive(Debug, Clone, Copy)]
pub enum Fill {
    Flat(Color),
    Vertical { top: Color, bottom: Color },
}

impl From<Color> for Fill {
    fn from(colour: Color) -> Self {
        Fill::Flat(colour)
    }
}

/// Builds one mesh from many coloured shapes. Shapes are laid in the order
/// of their depth (`at.z`), so see-through ones blend over what is beneath,
/// and the depth is kept in each vertex, so opaque ones hide what is behind.
#[derive(Default)]
pub struct Baker {
    positions: Vec<[f32; 3]>,
    colours: Vec<[f32; 4]>,
    indices: Vec<u32>,
    shapes: Vec<(f32, Mesh, Fill, Transform)>,
}

impl Baker {
    /// Adds `shape` (a mesh about the origin, unit-sized for most shapes)
    /// scaled to `size`, turned by `turn` radians, at `at`.
    pub fn add(
        &mut self,
        shape: impl Into<Mesh>,
        fill: impl Into<Fill>,
        at: Vec3,
        size: Vec2,
        turn: f32,
    ) -> &mut Self {
        let transform = Transform {
            translation: at,
            rotation: Quat::from_rotation_z(turn),
            scale: size.extend(1.0),
        };
        self.shapes
            .push((at.z, shape.into(), fill.into(), transform));
        self
    }

    /// The mesh of every shape added, deepest first.
    pub fn bake(mut self) -> Mesh {
        self.shapes.sort_by(|a, b| a.0.total_cmp(&b.0));
        for (_, shape, fill, transform) in std::mem::take(&mut self.shapes) {
            self.lay(&shape, fill, transform);
        }
        let mut mesh = Mesh::new(
            PrimitiveTopology::TriangleList,
            RenderAssetUsages::default(),
        );
        mesh.insert_attribute(Mesh::ATTRIBUTE_POSITION, self.positions);
        mesh.insert_attribute(Mesh::ATTRIBUTE_COLOR, self.colours);
        mesh.insert_indices(Indices::U32(self.indices));
        mesh
    }

    fn lay(&mut self, shape: &Mesh, fill: Fill, transform: Transform) {
        let Some(VertexAttributeValues::Float32x3(corners)) =
            shape.attribute(Mesh::ATTRIBUTE_POSITION)
        else {
            return;
        };
        let (low, high) = corners.iter().fold((f32::MAX, f32::MIN), |(low, high), p| {
            (low.min(p[1]), high.max(p[1]))
        });
        let first = u32::try_from(self.positions.len()).unwrap_or(u32::MAX);
        for corner in corners {
            let height = if high > low {
                (corner[1] - low) / (high - low)
            } else {
                0.5
            };
            // Linear, as the GPU blends between vertices.
            let colour = match fill {
                Fill::Flat(colour) => LinearRgba::from(colour),
                Fill::Vertical { top, bottom } => {
                    LinearRgba::from(bottom).mix(&LinearRgba::from(top), height)
                }
            };
            self.positions.push(
                transform
                    .transform_point(Vec3::from_array(*corner))
                    .to_array(),
            );
            self.colours.push(colour.to_f32_array());
        }
        match shape.indices() {
            Some(indices) => self
                .indices
                .extend(indices.iter().map(|index| first + index as u32)),
            None => self
                .indices
                .extend((0..corners.len() as u32).map(|index| first + index)),
        }
    }
}

/// `top`, partly see-through, laid over the opaque `bottom`: the colour
/// the eye sees (blended in linear light, as the GPU does), so that the pair
/// can be drawn as one opaque shape.
fn over(top: Color, bottom: Color) -> Color {
    let alpha = top.alpha();
    LinearRgba::from(bottom)
        .mix(&LinearRgba::from(top.with_alpha(1.0)), alpha)
        .into()
}

fn circle() -> Mesh {
    Circle::new(0.5).mesh().resolution(40).build()
}

fn square() -> Rectangle {
    Rectangle::new(1.0, 1.0)
}

fn make_art(
    mut commands: Commands,
    mut meshes: ResMut<Assets<Mesh>>,
    mut materials: ResMut<Assets<ColorMaterial>>,
) {
    let solid = materials.add(ColorMaterial {
        color: Color::WHITE,
        alpha_mode: AlphaMode2d::Opaque,
        ..default()
    });
    let glass = materials.add(ColorMaterial {
        color: Color::WHITE,
        alpha_mode: AlphaMode2d::Blend,
        ..default()
    });
    let rules = Rules::CURRENT;
    let cloud_size = field::size_to_world(FallingKind::Cloud.half_size(&rules), &rules);
    let mut bake = |baker: Baker| meshes.add(baker.bake());
    let art = Art {
        books: COVERS.map(|cover| bake(book(cover, BOOK_SIZE))),
        golden_book: bake(golden_book()),
        rain_cloud: bake(rain_cloud(cloud_size)),
        fairy: bake(fairy()),
        wing: bake({
            let mut wing = Baker::default();
            wing.add(
                Ellipse::new(0.5, 0.5).mesh().resolution(32),
                WING,
                Vec3::ZERO,
                Vec2::ONE,
                0.0,
            );
            wing
        }),
        carried: COVERS.map(|cover| {
            let mut swatch = Baker::default();
            swatch.add(square(), cover, Vec3::ZERO, Vec2::ONE, 0.0);
            bake(swatch)
        }),
        shelved: COVERS.map(|cover| bake(shelved_book(cover))),
        sparkle: bake({
            let mut sparkle = Baker::default();
            add_sparkle(&mut sparkle, Vec3::ZERO, 1.0);
            sparkle
        }),
        solid,
        glass,
    };
    commands.insert_resource(art);
}

/// The parts of a book of `size` with `cover`: cover, pages, spine, label.
fn add_book(baker: &mut Baker, cover: Color, size: Vec2, z: f32) {
    baker
        .add(square(), cover, Vec3::new(0.0, 0.0, z), size, 0.0)
        .add(
            square(),
            PAGES,
            Vec3::new(size.x * 0.42, -size.y * 0.02, z + 0.01),
            Vec2::new(size.x * 0.12, size.y * 0.86),
            0.0,
        )
        .add(
            square(),
            over(SPINE_SHADE, cover),
            Vec3::new(-size.x * 0.40, 0.0, z + 0.01),
            Vec2::new(size.x * 0.14, size.y),
            0.0,
        )
        .add(
            square(),
            PAGES,
            Vec3::new(0.0, size.y * 0.18, z + 0.01),
            Vec2::new(size.x * 0.46, size.y * 0.14),
            0.0,
        );
}

fn book(cover: Color, size: Vec2) -> Baker {
    let mut baker = Baker::default();
    add_book(&mut baker, cover, size, 0.0);
    baker
}

/// A golden book: glowing, and carrying a star.
fn golden_book() -> Baker {
    let mut baker = Baker::default();
    baker.add(
        circle(),
        GOLD_GLOW,
        Vec3::new(0.0, 0.0, -0.05),
        Vec2::splat(BOOK_SIZE.y * 1.6),
        0.0,
    );
    add_book(&mut baker, GOLD, BOOK_SIZE, 0.0);
    add_sparkle(&mut baker, Vec3::new(0.0, -6.0, 0.02), 30.0);
    baker
}

/// A rain cloud of `size`, with its rain beneath.
fn rain_cloud(size: Vec2) -> Baker {
    let mut baker = Baker::default();
    let puffs = [
        (-0.30, -0.10, 0.52, CLOUD_DARK),
        (0.28, -0.08, 0.56, CLOUD_DARK),
        (0.0, 0.12, 0.72, CLOUD_LIGHT),
        (-0.10, -0.16, 0.50, CLOUD_LIGHT),
    ];
    for (z, (x, y, diameter, colour)) in puffs.into_iter().enumerate() {
        baker.add(
            circle(),
            colour,
            Vec3::new(x * size.x, y * size.y, z as f32 * 0.01),
            Vec2::new(diameter * size.x * 0.9, diameter * size.y * 1.5),
            0.0,
        );
    }
    for x in [-0.26, 0.0, 0.26] {
        baker.add(
            Capsule2d::new(0.5, 1.0),
            RAIN,
            Vec3::new(x * size.x, -size.y * 0.72, -0.01),
            Vec2::new(8.0, 14.0),
            0.25,
        );
    }
    baker
}

/// The fairy without her wings: dress, face, hair, and a wand with a star.
fn fairy() -> Baker {
    let mut baker = Baker::default();
    let dress = Triangle2d::new(
        Vec2::new(0.0, 0.5),
        Vec2::new(-0.5, -0.5),
        Vec2::new(0.5, -0.5),
    );
    baker
        .add(
            dress,
            DRESS,
            Vec3::new(0.0, -30.0, 0.0),
            Vec2::new(96.0, 92.0),
            0.0,
        )
        .add(
            square(),
            DRESS_TRIM,
            Vec3::new(0.0, -72.0, 0.01),
            Vec2::new(90.0, 8.0),
            0.0,
        )
        .add(
            circle(),
            HAIR,
            Vec3::new(0.0, 34.0, 0.02),
            Vec2::new(84.0, 80.0),
            0.0,
        )
        .add(
            circle(),
            HAIR,
            Vec3::new(0.0, 76.0, 0.02),
            Vec2::new(34.0, 30.0),
            0.0,
        )
        .add(
            circle(),
            SKIN,
            Vec3::new(0.0, 26.0, 0.03),
            Vec2::new(70.0, 64.0),
            0.0,
        )
        .add(
            circle(),
            HAIR,
            Vec3::new(-12.0, 54.0, 0.04),
            Vec2::new(52.0, 22.0),
            0.35,
        )
        .add(
            square(),
            WAND,
            Vec3::new(52.0, -12.0, 0.04),
            Vec2::new(5.0, 58.0),
            -0.5,
        );
    for side in [-1.0, 1.0] {
        baker
            .add(
                circle(),
                INK,
                Vec3::new(side * 14.0, 26.0, 0.05),
                Vec2::new(9.0, 11.0),
                0.0,
            )
            .add(
                circle(),
                over(CHEEK, SKIN),
                Vec3::new(side * 22.0, 14.0, 0.05),
                Vec2::new(13.0, 8.0),
                0.0,
            );
    }
    baker.add(
        square(),
        INK,
        Vec3::new(0.0, 10.0, 0.05),
        Vec2::new(10.0, 3.0),
        0.0,
    );
    add_sparkle(&mut baker, Vec3::new(68.0, 16.0, 0.06), 34.0);
    baker
}

/// A book standing on the shelf, its spine out, one unit wide and high.
fn shelved_book(cover: Color) -> Baker {
    let mut baker = Baker::default();
    baker.add(square(), cover, Vec3::ZERO, Vec2::ONE, 0.0).add(
        square(),
        PAGES,
        Vec3::new(0.0, 0.25, 0.01),
        Vec2::new(0.6, 0.08),
        0.0,
    );
    baker
}

/// A four-pointed sparkle of `size` at `at`.
fn add_sparkle(baker: &mut Baker, at: Vec3, size: f32) {
    baker
        .add(Rhombus::new(0.28, 1.0), SPARKLE, at, Vec2::splat(size), 0.0)
        .add(
            Rhombus::new(1.0, 0.28),
            SPARKLE,
            at + Vec3::Z * 0.001,
            Vec2::splat(size),
            0.0,
        );
}

impl Art {
    /// A figure's mesh and material; `Mesh2d` brings its `Transform` and
    /// `Visibility`, which callers may give.
    fn figure(&self, mesh: &Handle<Mesh>, glass: bool) -> impl Bundle + use<> {
        let material = if glass { &self.glass } else { &self.solid };
        (Mesh2d(mesh.clone()), MeshMaterial2d(material.clone()))
    }

    /// A falling book; a golden one glows and carries a star.
    pub fn spawn_book(&self, commands: &mut Commands, index: u32, golden: bool) -> Entity {
        let figure = if golden {
            self.figure(&self.golden_book, true)
        } else {
            self.figure(&self.books[index as usize % COVERS.len()], false)
        };
        commands.spawn(figure).id()
    }

    /// A rain cloud, with its rain beneath.
    pub fn spawn_cloud(&self, commands: &mut Commands) -> Entity {
        commands.spawn(self.figure(&self.rain_cloud, false)).id()
    }

    /// The fairy: her figure, two wings, and the books she carries above her
    /// head (hidden until she holds them).
    pub fn spawn_fairy(&self, commands: &mut Commands) -> Entity {
        let mut fairy = commands.spawn(self.figure(&self.fairy, false));
        fairy.with_children(|parent| {
            for side in [-1.0, 1.0] {
                parent.spawn((
                    Wing,
                    self.figure(&self.wing, true),
                    Transform {
                        translation: Vec3::new(side * 52.0, 22.0, -0.2),
                        rotation: Quat::from_rotation_z(side * 0.45),
                        scale: Vec3::new(92.0, 56.0, 1.0),
                    },
                ));
            }
            for n in 0..CARRIED_SHOWN {
                parent.spawn((
                    CarriedBook(n),
                    self.figure(&self.carried[n as usize % COVERS.len()], false),
                    Transform::from_xyz(((n % 2) as f32 - 0.5) * 6.0, 96.0 + n as f32 * 16.0, 0.07)
                        .with_scale(CARRIED_SIZE.extend(1.0)),
                    Visibility::Hidden,
                ));
            }
        });
        fairy.id()
    }

    /// A book standing on the shelf (hidden until shelved), `size` big, at
    /// `at`.
    pub fn spawn_shelved_book(
        &self,
        commands: &mut Commands,
        slot: u32,
        size: Vec2,
        at: Vec3,
    ) -> Entity {
        let cover = (slot as usize * 3 + 1) % COVERS.len();
        commands
            .spawn((
                self.figure(&self.shelved[cover], false),
                Transform::from_translation(at).with_scale(size.extend(1.0)),
                Visibility::Hidden,
            ))
            .id()
    }

    /// A four-pointed sparkle of `size` at `at`, standing alone (a catch).
    pub fn spawn_sparkle(&self, commands: &mut Commands, at: Vec3, size: f32) -> Entity {
        commands
            .spawn((
                self.figure(&self.sparkle, false),
                Transform::from_translation(at).with_scale(Vec3::new(size, size, 1.0)),
            ))
            .id()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_baked_figure_keeps_each_shapes_colour_place_and_depth() {
        let mut baker = Baker::default();
        baker
            .add(
                square(),
                Color::WHITE,
                Vec3::new(10.0, 0.0, 0.5),
                Vec2::splat(2.0),
                0.0,
            )
            .add(
                square(),
                Color::BLACK,
                Vec3::new(0.0, 0.0, 0.1),
                Vec2::ONE,
                0.0,
            );
        let mesh = baker.bake();
        let Some(VertexAttributeValues::Float32x3(positions)) =
            mesh.attribute(Mesh::ATTRIBUTE_POSITION)
        else {
            panic!("a baked mesh has positions");
        };
        let Some(VertexAttributeValues::Float32x4(colours)) = mesh.attribute(Mesh::ATTRIBUTE_COLOR)
        else {
            panic!("a baked mesh has colours");
        };
        assert_eq!(positions.len(), 8, "two squares of four corners");
        assert_eq!(mesh.indices().map(Indices::len), Some(12), "four triangles");
        // The deeper (black) square comes first, where it was put.
        assert_eq!(colours[0], [0.0, 0.0, 0.0, 1.0], "the deepest shape first");
        assert!(
            positions[..4]
                .iter()
                .all(|p| p[0].abs() == 0.5 && p[2] == 0.1),
            "the black square at the origin, at its depth: {positions:?}"
        );
        assert!(
            positions[4..]
                .iter()
                .all(|p| (p[0] - 10.0).abs() == 1.0 && p[2] == 0.5),
            "the white one scaled to 2 at x = 10: {positions:?}"
        );
        assert!(
            mesh.indices()
                .is_some_and(|indices| indices.iter().skip(6).all(|index| index >= 4)),
            "the second shape's triangles use its own corners"
        );
    }

    #[test]
    fn a_vertical_fill_runs_from_the_top_colour_to_the_bottom_one() {
        let mut baker = Baker::default();
        let (top, bottom) = (Color::srgb(1.0, 0.0, 0.0), Color::srgb(0.0, 0.0, 1.0));
        baker.add(
            square(),
            Fill::Vertical { top, bottom },
            Vec3::ZERO,
            Vec2::ONE,
            0.0,
        );
        let mesh = baker.bake();
        let (
            Some(VertexAttributeValues::Float32x3(positions)),
            Some(VertexAttributeValues::Float32x4(colours)),
        ) = (
            mesh.attribute(Mesh::ATTRIBUTE_POSITION),
            mesh.attribute(Mesh::ATTRIBUTE_COLOR),
        )
        else {
            panic!("a baked mesh has positions and colours");
        };
        for (position, colour) in positions.iter().zip(colours) {
            let expected = if position[1] > 0.0 { top } else { bottom };
            assert_eq!(
                *colour,
                LinearRgba::from(expected).to_f32_array(),
                "the corner at y = {}",
                position[1]
            );
        }
    }

    #[test]
    fn a_see_through_colour_over_an_opaque_one_is_what_the_eye_sees() {
        let linear = |colour: Color| LinearRgba::from(colour);
        assert_eq!(
            linear(over(SPINE_SHADE.with_alpha(0.0), GOLD)),
            linear(GOLD),
            "invisible"
        );
        assert_eq!(
            linear(over(SPINE_SHADE.with_alpha(1.0), GOLD)),
            linear(SPINE_SHADE.with_alpha(1.0)),
            "opaque"
        );
        let shaded = LinearRgba::from(over(SPINE_SHADE, Color::WHITE));
        assert!(
            (shaded.red - 0.78).abs() < 1e-3 && shaded.alpha == 1.0,
            "22 % black over white: {shaded:?}"
        );
    }
}
