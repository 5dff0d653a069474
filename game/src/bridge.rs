//! The bridge to the page that hosts the canvas (`game/web/index.html`).
//!
//! The page shows the poster and the loading bar until the game tells it that
//! a first frame is on screen; browser tests read the same signal to measure
//! the time to first frame.

use bevy::diagnostic::FrameCount;
use bevy::prelude::*;

use crate::AppSystems;

pub(super) fn plugin(app: &mut App) {
    app.add_systems(
        Update,
        announce_first_frame
            .run_if(first_frame_presented)
            .in_set(AppSystems::NotifyPage),
    );
}

/// True during the update that follows the first rendered frame: the frame
/// counter is bumped once a frame has been drawn.
fn first_frame_presented(frames: Res<FrameCount>) -> bool {
    frames.0 == 1
}

fn announce_first_frame() {
    info!("first frame presented");
    page::first_frame();
}

#[cfg(target_arch = "wasm32")]
mod page {
    use wasm_bindgen::prelude::*;

    #[wasm_bindgen]
    extern "C" {
        /// `window.dreamFairy.firstFrame()`, defined by `index.html`.
        #[wasm_bindgen(js_namespace = dreamFairy, js_name = firstFrame)]
        pub fn first_frame();
    }
}

#[cfg(not(target_arch = "wasm32"))]
mod page {
    /// Natively there is no page to tell.
    pub fn first_frame() {}
}
