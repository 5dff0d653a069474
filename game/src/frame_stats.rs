//! What a frame is drawn from: entities, meshes and materials, counted at
//! the end of an update for the page to read (`dreamFairy.frameStats()`).
//! The browser tests measure each frame's cost against these counts.
//!
//! Nothing is counted until the page first asks, so players pay nothing.

use std::cell::Cell;

use bevy::prelude::*;

/// What the world held at the end of the last update that was counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FrameStats {
    /// Entities in the world (the engine's internal ones, such as
    /// observers, excepted).
    pub entities: u32,
    /// Mesh assets.
    pub meshes: u32,
    /// Colour material assets.
    pub materials: u32,
}

thread_local! {
    /// The last count, and whether anyone has asked for one. Per thread: the
    /// browser runs one app on one thread, and each test its own.
    static LAST: Cell<Option<FrameStats>> = const { Cell::new(None) };
}

pub(super) fn plugin(app: &mut App) {
    app.add_systems(Last, count_frame.run_if(|| LAST.get().is_some()));
}

/// The counts at the end of the last update; the first call starts counting
/// (and answers zeros).
#[cfg_attr(
    not(any(target_arch = "wasm32", test)),
    expect(dead_code, reason = "only the page asks, in the browser")
)]
pub fn latest() -> FrameStats {
    let stats = LAST.get().unwrap_or_default();
    LAST.set(Some(stats));
    stats
}

fn count_frame(
    entities: Query<()>,
    meshes: Res<Assets<Mesh>>,
    materials: Res<Assets<ColorMaterial>>,
) {
    let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    LAST.set(Some(FrameStats {
        entities: count(entities.iter().count()),
        meshes: count(meshes.len()),
        materials: count(materials.len()),
    }));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_start_when_asked_and_follow_the_world() {
        let mut app = App::new();
        app.add_plugins(MinimalPlugins)
            .init_resource::<Assets<Mesh>>()
            .init_resource::<Assets<ColorMaterial>>()
            .add_plugins(plugin);
        app.world_mut().spawn_batch([(), (), ()]);
        app.update();
        assert_eq!(
            latest(),
            FrameStats::default(),
            "nothing counted before asked"
        );

        app.world_mut()
            .resource_mut::<Assets<Mesh>>()
            .add(Rectangle::new(1.0, 1.0));
        app.update();
        let stats = latest();
        assert_eq!(stats.meshes, 1, "one mesh: {stats:?}");
        assert_eq!(stats.materials, 0, "no material: {stats:?}");
        assert!(
            stats.entities >= 3,
            "the three entities at least: {stats:?}"
        );
    }
}
