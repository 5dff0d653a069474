//! Installing what the build and the tests need on a fresh machine: the WASM
//! target; for the tests, Chromium and poppler-utils from Debian's
//! packages; and pinned Python tools from PyPI (fontTools, schemathesis),
//! each in a virtual environment of its own under the target folder.

use std::path::PathBuf;

use anyhow::{Result, bail};
use xshell::{Shell, cmd};

use crate::workspace::Workspace;

const WASM_TARGET: &str = "wasm32-unknown-unknown";

/// Adds the WASM target to the pinned toolchain if it is missing.
pub fn ensure_wasm_target(sh: &Shell) -> Result<()> {
    let installed = cmd!(sh, "rustup target list --installed").quiet().read()?;
    if !installed.lines().any(|line| line.trim() == WASM_TARGET) {
        eprintln!("xtask: adding the {WASM_TARGET} target");
        cmd!(sh, "rustup target add {WASM_TARGET}").run()?;
    }
    Ok(())
}

/// Finds headless Chromium for the browser tests, installing Debian's package
/// when running as root; otherwise says exactly what to install.
pub fn ensure_chromium(sh: &Shell) -> Result<PathBuf> {
    if let Some(path) = std::env::var_os("DREAMFAIRY_CHROMIUM") {
        return Ok(path.into());
    }
    if let Some(path) = find_chromium() {
        return Ok(path);
    }
    if !is_root(sh)? {
        bail!(
            "the browser tests need Chromium. Install it with \
             `sudo apt-get install chromium fonts-noto-cjk` (Debian/Ubuntu), \
             or point DREAMFAIRY_CHROMIUM at a Chromium or Chrome binary"
        );
    }
    eprintln!("xtask: installing Chromium and a CJK font from Debian's packages");
    cmd!(sh, "apt-get update -q").run()?;
    cmd!(
        sh,
        "apt-get install -y -q --no-install-recommends chromium fonts-noto-cjk"
    )
    .env("DEBIAN_FRONTEND", "noninteractive")
    .run()?;
    match find_chromium() {
        Some(path) => Ok(path),
        None => bail!("apt-get installed chromium, but no chromium binary is on PATH"),
    }
}

fn find_chromium() -> Option<PathBuf> {
    ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find_map(|name| which::which(name).ok())
}

/// Installs Debian's `poppler-utils` (`pdftotext`, `pdftoppm`, which the
/// poster tests read PDFs with) when running as root and it is missing;
/// otherwise the tests themselves say what to install.
pub fn ensure_poppler(sh: &Shell) -> Result<()> {
    if which::which("pdftotext").is_ok() && which::which("pdftoppm").is_ok() {
        return Ok(());
    }
    if !is_root(sh)? {
        eprintln!("xtask: the poster tests need `sudo apt-get install poppler-utils`");
        return Ok(());
    }
    eprintln!("xtask: installing poppler-utils from Debian's packages");
    cmd!(sh, "apt-get update -q").run()?;
    cmd!(
        sh,
        "apt-get install -y -q --no-install-recommends poppler-utils"
    )
    .env("DEBIAN_FRONTEND", "noninteractive")
    .run()?;
    Ok(())
}

/// A virtual environment `<target>/<name>` with `package` at exactly
/// `version` from PyPI, created (or brought to that version) on first use.
/// Returns its folder; its tools are in `bin/`.
pub fn ensure_python_package(
    ws: &Workspace,
    name: &str,
    package: &str,
    version: &str,
) -> Result<PathBuf> {
    let venv = ws.target_dir.join(name);
    let python = venv.join("bin").join("python");
    let installed_version =
        format!("import importlib.metadata as m; print(m.version('{package}'))");
    let installed = python.exists()
        && cmd!(ws.sh, "{python} -c {installed_version}")
            .quiet()
            .ignore_stderr()
            .read()
            .is_ok_and(|installed| installed.trim() == version);
    if installed {
        return Ok(venv);
    }
    eprintln!(
        "xtask: installing {package} {version} into {}",
        venv.display()
    );
    if cmd!(ws.sh, "python3 -m venv {venv}").run().is_err() {
        // Debian ships the venv module (and pip) apart from python3.
        if !is_root(&ws.sh)? {
            bail!(
                "`python3 -m venv` failed. Install Python's venv module with \
                 `sudo apt-get install python3-venv`"
            );
        }
        cmd!(ws.sh, "apt-get update -q").run()?;
        cmd!(
            ws.sh,
            "apt-get install -y -q --no-install-recommends python3-venv"
        )
        .env("DEBIAN_FRONTEND", "noninteractive")
        .run()?;
        cmd!(ws.sh, "python3 -m venv --clear {venv}").run()?;
    }
    let requirement = format!("{package}=={version}");
    cmd!(
        ws.sh,
        "{python} -m pip install --quiet --disable-pip-version-check {requirement}"
    )
    .run()?;
    Ok(venv)
}

pub(crate) fn is_root(sh: &Shell) -> Result<bool> {
    Ok(cmd!(sh, "id -u").quiet().read()?.trim() == "0")
}
