//! What each frame costs while a round is played in headless Chromium:
//! main-thread CPU time, WebGL draw calls, and the entities, meshes and
//! materials the game drew from (`dreamFairy.frameStats()`).
//!
//! The probe wraps the page's `requestAnimationFrame`, inside whose
//! callbacks the engine updates and draws (winit's redraws), and WebGL2's
//! draw calls; it records only frames drawn while the page shows a round.

use serde::{Deserialize, Serialize};

use crate::session::Session;

/// Installs the probe; frames are recorded from the next round on.
const START_PROBE: &str = r#"(() => {
  const probe = window.frameProbe = { animationFrames: 0, first: null, last: null, frames: [] };
  const playing = () => dreamFairy.state.screen === "playing";
  let draws = 0;
  for (const name of ["drawArrays", "drawElements", "drawArraysInstanced", "drawElementsInstanced", "drawRangeElements"]) {
    const draw = WebGL2RenderingContext.prototype[name];
    WebGL2RenderingContext.prototype[name] = function (...args) { draws++; return draw.apply(this, args); };
  }
  const request = window.requestAnimationFrame.bind(window);
  window.requestAnimationFrame = (callback) => request((time) => {
    const start = performance.now();
    const before = draws;
    callback(time);
    const cpuMs = performance.now() - start;
    if (draws > before && playing()) {
      const stats = dreamFairy.frameStats() ?? { entities: 0, meshes: 0, materials: 0 };
      probe.frames.push([cpuMs, draws - before, stats.entities, stats.meshes, stats.materials]);
    }
  });
  (function count(time) {
    if (playing()) {
      probe.animationFrames++;
      probe.first ??= performance.now();
      probe.last = performance.now();
    }
    request(count);
  })();
  dreamFairy.frameStats();
  return true;
})()"#;

/// Summarises the recorded frames.
const READ_PROBE: &str = r#"(() => {
  const probe = window.frameProbe;
  const seconds = (probe.last - probe.first) / 1000;
  const summary = (column) => {
    const values = probe.frames.map((frame) => frame[column]).sort((a, b) => a - b);
    const at = (share) => values[Math.min(values.length - 1, Math.floor(values.length * share))];
    return { mean: values.reduce((sum, value) => sum + value, 0) / values.length, p50: at(0.5), p95: at(0.95), max: at(1) };
  };
  return {
    seconds,
    frames_per_second: probe.animationFrames / seconds,
    frames_drawn: probe.frames.length,
    cpu_ms_per_frame: summary(0),
    draw_calls_per_frame: summary(1),
    entities: summary(2),
    meshes: summary(3),
    materials: summary(4),
  };
})()"#;

/// A distribution over the recorded frames.
#[derive(Debug, Deserialize, Serialize)]
pub(crate) struct Spread {
    pub(crate) mean: f64,
    pub(crate) p50: f64,
    pub(crate) p95: f64,
    pub(crate) max: f64,
}

/// The frames of one round.
#[derive(Debug, Deserialize, Serialize)]
pub(crate) struct FrameReport {
    /// Wall time of the round on screen.
    pub(crate) seconds: f64,
    /// Animation frames a second while the round was on screen.
    pub(crate) frames_per_second: f64,
    /// Frames the game drew (and the probe measured).
    pub(crate) frames_drawn: u64,
    /// Main-thread time inside the game's animation frame callback: the
    /// engine's update and its WebGL calls (not the GPU's work).
    pub(crate) cpu_ms_per_frame: Spread,
    pub(crate) draw_calls_per_frame: Spread,
    pub(crate) entities: Spread,
    pub(crate) meshes: Spread,
    pub(crate) materials: Spread,
}

impl Session {
    /// Starts measuring frames; call before the round starts.
    pub(crate) async fn start_frame_probe(&self) {
        let _: bool = self.page.eval(START_PROBE).await;
    }

    /// The frames measured since [`Session::start_frame_probe`].
    pub(crate) async fn frame_report(&self) -> FrameReport {
        self.page.eval(READ_PROBE).await
    }
}
