//! Harnesses for the end-to-end tests: the real `server` binary as a child
//! process ([`server_process`]), the real WASM build in headless Chromium
//! ([`browser`]), the clients and checks of the crash tests ([`crash`]),
//! a signed-in admin console client ([`admin_session`]), and the lean HTTP
//! client of the load generators ([`load_client`]).
//!
//! The tests find what they drive through environment variables that
//! `cargo xtask test` sets (`DREAMFAIRY_SERVER_BIN`, `DREAMFAIRY_DIST`,
//! `DREAMFAIRY_CHROMIUM`, `DREAMFAIRY_ARTIFACTS`), with defaults that fit a
//! plain `cargo test` after `cargo xtask dist`.

pub mod admin_session;
pub mod browser;
pub mod crash;
pub mod load_client;
pub mod server_process;

use std::path::PathBuf;

/// The workspace root (this crate lives one folder below it).
///
/// Read at run time when cargo runs the binary: clones at other paths share
/// one target directory, so a test binary may have been built in another
/// clone, whose path `env!` would have baked in.
pub fn workspace_root() -> PathBuf {
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from);
    manifest_dir
        .parent()
        .map(PathBuf::from)
        .unwrap_or(manifest_dir)
}

/// The browser build to serve: `DREAMFAIRY_DIST`, else `<workspace>/dist`.
///
/// # Panics
/// When it holds no build, with the command that makes one.
pub fn dist_dir() -> PathBuf {
    let dist = std::env::var_os("DREAMFAIRY_DIST")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("dist"));
    assert!(
        dist.join("index.html").is_file(),
        "no browser build in {}: run `cargo xtask dist` (or `cargo xtask test`)",
        dist.display()
    );
    dist
}

/// Where tests write screenshots and measurements for people to look at:
/// `DREAMFAIRY_ARTIFACTS`, else `<workspace>/artifacts`. Created if missing.
pub fn artifacts_dir() -> PathBuf {
    let dir = std::env::var_os("DREAMFAIRY_ARTIFACTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("artifacts"));
    std::fs::create_dir_all(&dir).expect("the artifacts folder can be created");
    dir
}
