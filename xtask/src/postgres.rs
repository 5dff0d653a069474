//! A throwaway PostgreSQL cluster for the tests (and for trying the
//! PostgreSQL ledger by hand with `cargo xtask postgres`).
//!
//! It uses Debian's packages: `initdb` and `pg_ctl` from
//! `/usr/lib/postgresql/<version>/bin` (the newest installed), installing
//! `postgresql` with apt when run as root and it is missing. The cluster
//! lives in a fresh temporary folder, listens on a Unix socket in that
//! folder only (no TCP port, so it cannot clash with anything), keeps
//! `fsync` on (the tests measure durability), and trusts local connections
//! as the `postgres` superuser. Run as root, its files and processes belong
//! to the `postgres` user, since PostgreSQL refuses to run as root.
//!
//! [`Cluster`] stops it and removes the folder when dropped, so it goes
//! away also when the tests fail.

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, Result, bail};
use xshell::{Shell, cmd};

use crate::setup::is_root;

/// The environment variable the tests read the cluster's URL from.
pub const TEST_URL_VARIABLE: &str = "DREAMFAIRY_TEST_POSTGRES_URL";

/// Where Debian installs each PostgreSQL version's programs.
const DEBIAN_PREFIX: &str = "/usr/lib/postgresql";

/// The user PostgreSQL runs as when started by root.
const SERVICE_USER: &str = "postgres";

/// Settings appended to the cluster's `postgresql.conf`; the socket folder
/// is added at start.
const SETTINGS: &str = "\
# Set by cargo xtask: a throwaway cluster for the tests.
listen_addresses = ''
fsync = on
synchronous_commit = on
# Tests run in parallel, each with its own database and server processes.
max_connections = 300
";

/// A running throwaway cluster. Stopped, and its folder removed, on drop.
#[derive(Debug)]
pub struct Cluster {
    bin: PathBuf,
    folder: PathBuf,
    run_as_service_user: bool,
    url: String,
}

impl Cluster {
    /// Initialises and starts a cluster in a new temporary folder.
    pub fn start(sh: &Shell) -> Result<Self> {
        let bin = ensure_installed(sh)?;
        let root = is_root(sh)?;
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| since.subsec_nanos());
        // Short: a Unix socket path has room for about 100 bytes.
        let folder =
            std::env::temp_dir().join(format!("dreamfairy-pg-{}-{nanos:08x}", std::process::id()));
        std::fs::create_dir_all(&folder)
            .with_context(|| format!("creating {}", folder.display()))?;
        let mut cluster = Self {
            bin,
            folder,
            run_as_service_user: root,
            url: String::new(),
        };
        // From here on, dropping `cluster` cleans up whatever was made.
        if root {
            let folder = &cluster.folder;
            cmd!(sh, "chown {SERVICE_USER}: {folder}").quiet().run()?;
        }
        let data = cluster.data_dir();
        let log = cluster.folder.join("postgres.log");
        eprintln!(
            "xtask: starting a throwaway PostgreSQL in {}",
            cluster.folder.display()
        );
        // --no-sync: only initdb's own files are written without syncing;
        // the running cluster keeps fsync on.
        cluster
            .command(sh, "initdb")
            .args(["--no-sync", "--auth=trust", "--encoding=UTF8", "--locale=C"])
            .args(["--username", "postgres", "-D"])
            .arg(&data)
            .quiet()
            .ignore_stdout()
            .run()
            .context("initdb")?;
        let conf = data.join("postgresql.conf");
        let mut settings = std::fs::read_to_string(&conf)
            .with_context(|| format!("reading {}", conf.display()))?;
        settings.push_str(SETTINGS);
        settings.push_str(&format!(
            "unix_socket_directories = '{}'\n",
            cluster.folder.display()
        ));
        std::fs::write(&conf, settings).with_context(|| format!("writing {}", conf.display()))?;
        cluster
            .command(sh, "pg_ctl")
            .args(["--wait", "--timeout=60", "--silent", "-D"])
            .arg(&data)
            .arg("-l")
            .arg(&log)
            .arg("start")
            .quiet()
            .run()
            .with_context(|| format!("pg_ctl start (its log: {})", log.display()))?;
        cluster.url = format!(
            "postgresql://postgres@{}/postgres",
            percent_encode(&cluster.folder.display().to_string())
        );
        Ok(cluster)
    }

    /// The connection URL of the `postgres` database, as the superuser.
    pub fn url(&self) -> &str {
        &self.url
    }

    fn data_dir(&self) -> PathBuf {
        self.folder.join("data")
    }

    /// One of the cluster's programs, as the user the cluster runs as.
    fn command<'a>(&self, sh: &'a Shell, program: &str) -> xshell::Cmd<'a> {
        let program = self.bin.join(program);
        if self.run_as_service_user {
            cmd!(sh, "runuser -u {SERVICE_USER} -- {program}")
        } else {
            cmd!(sh, "{program}")
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let Ok(sh) = Shell::new() else {
            return;
        };
        let data = self.data_dir();
        if data.join("postmaster.pid").is_file() {
            let stopped = self
                .command(&sh, "pg_ctl")
                .args(["--wait", "--timeout=60", "--silent", "--mode=fast", "-D"])
                .arg(&data)
                .arg("stop")
                .quiet()
                .run();
            if let Err(error) = stopped {
                eprintln!("xtask: stopping the throwaway PostgreSQL failed: {error}");
                return;
            }
        }
        if let Err(error) = std::fs::remove_dir_all(&self.folder) {
            eprintln!("xtask: could not remove {}: {error}", self.folder.display());
        }
    }
}

/// The `bin` folder of the newest PostgreSQL installed from Debian's
/// packages, installing `postgresql` first when run as root and there is
/// none.
fn ensure_installed(sh: &Shell) -> Result<PathBuf> {
    if let Some(bin) = newest_installed(Path::new(DEBIAN_PREFIX)) {
        return Ok(bin);
    }
    if !is_root(sh)? {
        bail!(
            "the PostgreSQL tests need PostgreSQL's server programs. Install them with \
             `sudo apt-get install postgresql` (Debian/Ubuntu), or run as root and \
             `cargo xtask test` installs them"
        );
    }
    eprintln!("xtask: installing PostgreSQL from Debian's packages");
    // The package would otherwise create and start a cluster of its own,
    // which the tests do not use.
    let settings = Path::new("/etc/postgresql-common/createcluster.conf");
    if !settings.exists() {
        std::fs::create_dir_all("/etc/postgresql-common")?;
        std::fs::write(settings, "create_main_cluster = false\n")?;
    }
    cmd!(sh, "apt-get update -q").run()?;
    cmd!(
        sh,
        "apt-get install -y -q --no-install-recommends postgresql"
    )
    .env("DEBIAN_FRONTEND", "noninteractive")
    .run()?;
    newest_installed(Path::new(DEBIAN_PREFIX)).with_context(|| {
        format!("apt-get installed postgresql, but no {DEBIAN_PREFIX}/<version>/bin/initdb")
    })
}

/// `<prefix>/<version>/bin` of the highest version that has `initdb` and
/// `pg_ctl`.
fn newest_installed(prefix: &Path) -> Option<PathBuf> {
    std::fs::read_dir(prefix)
        .ok()?
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let version: u32 = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            (bin.join("initdb").is_file() && bin.join("pg_ctl").is_file()).then_some((version, bin))
        })
        .max_by_key(|(version, _)| *version)
        .map(|(_, bin)| bin)
}

/// `text` with everything but letters, digits, `-`, `.` and `_`
/// percent-encoded (a socket folder as the host of a URL).
fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|byte| {
            if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_') {
                char::from(byte).to_string()
            } else {
                format!("%{byte:02X}")
            }
        })
        .collect()
}

/// `cargo xtask postgres`: starts a throwaway cluster, prints its URL, and
/// stops it when Enter is pressed (or standard input ends).
pub fn serve_until_enter(sh: &Shell) -> Result<()> {
    let cluster = Cluster::start(sh)?;
    println!("A throwaway PostgreSQL is running (fsync on, Unix socket only):");
    println!("  export {TEST_URL_VARIABLE}='{}'", cluster.url());
    println!(
        "  (cargo test then runs the PostgreSQL tests against it; `server --database-url` takes it too)"
    );
    println!("Press Enter to stop it and delete its data.");
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    drop(cluster);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_socket_folder_becomes_a_url_host() {
        assert_eq!(
            percent_encode("/tmp/dreamfairy-pg-12_a.b"),
            "%2Ftmp%2Fdreamfairy-pg-12_a.b",
            "slashes are encoded, the rest kept"
        );
    }

    #[test]
    fn the_newest_version_with_both_programs_is_chosen() {
        let prefix = std::env::temp_dir().join(format!("xtask-pg-test-{}", std::process::id()));
        for (version, programs) in [
            ("13", &["initdb", "pg_ctl"][..]),
            ("16", &["initdb", "pg_ctl"]),
            ("17", &["initdb"]),
        ] {
            let bin = prefix.join(version).join("bin");
            std::fs::create_dir_all(&bin).unwrap();
            for program in programs {
                std::fs::write(bin.join(program), "").unwrap();
            }
        }
        let chosen = newest_installed(&prefix);
        std::fs::remove_dir_all(&prefix).unwrap();
        assert_eq!(
            chosen,
            Some(prefix.join("16").join("bin")),
            "17 lacks pg_ctl, so 16 is the newest usable"
        );
    }
}
