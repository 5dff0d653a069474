//! Where things are: the workspace root, cargo's target directory, `dist/`.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use xshell::{Shell, cmd};

/// The checked-out workspace and a shell rooted in it.
#[derive(Debug)]
pub struct Workspace {
    /// The folder holding the root `Cargo.toml`.
    pub root: PathBuf,
    /// Cargo's target directory (honours `CARGO_TARGET_DIR`).
    pub target_dir: PathBuf,
    pub sh: Shell,
}

impl Workspace {
    pub fn locate() -> Result<Self> {
        // Read at run time, not baked in with `env!`: clones at other paths
        // share one target directory, and cargo may reuse an xtask binary
        // built in another clone.
        let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR")
            .context("run xtask through cargo (`cargo xtask ...`)")?;
        let root = Path::new(&manifest_dir)
            .parent()
            .context("xtask lives one folder below the workspace root")?
            .to_path_buf();
        let sh = Shell::new()?;
        sh.change_dir(&root);
        let metadata = cmd!(sh, "cargo metadata --format-version 1 --no-deps")
            .quiet()
            .read()?;
        let metadata: serde_json::Value = serde_json::from_str(&metadata)?;
        let target_dir = metadata["target_directory"]
            .as_str()
            .context("`cargo metadata` names no target directory")?
            .into();
        Ok(Self {
            root,
            target_dir,
            sh,
        })
    }

    /// The built game, as served: `index.html`, `static/`, `manifest.json`.
    pub fn dist_dir(&self) -> PathBuf {
        self.root.join("dist")
    }

    /// Where tests write screenshots and other files worth looking at.
    pub fn artifacts_dir(&self) -> PathBuf {
        self.root.join("artifacts")
    }

    /// A binary built by `cargo build` in the given profile folder
    /// (`debug` or `release`).
    pub fn binary(&self, profile_dir: &str, name: &str) -> PathBuf {
        self.target_dir.join(profile_dir).join(name)
    }
}
