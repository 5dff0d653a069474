//! The real `server` binary as a child process, for the browser tests, the
//! crash test and the load generator.
//!
//! [`ServerProcess::spawn`] starts `server serve --addr 127.0.0.1:0` with the
//! given data and dist directories, reads the first line of its stdout
//! (`listening on http://127.0.0.1:PORT`) within a bounded time, and hands
//! back the base URL. The server's logs (stderr) go to a file, by default
//! `<data-dir>/server.log`, appended across restarts. The child is killed
//! when the handle drops, so a failing test never leaves a server behind.
//!
//! The binary is `DREAMFAIRY_SERVER_BIN`, else the `server` built next to
//! the running executable (`<target>/debug/server` for a test in
//! `<target>/debug/deps/`).

use std::ffi::OsString;
use std::fs::{self, File, OpenOptions};
use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use wait_timeout::ChildExt as _;

/// What to start the server with. A builder: `ServerOptions::new(data).dist(dist)`.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    data_dir: PathBuf,
    dist_dir: Option<PathBuf>,
    args: Vec<OsString>,
    envs: Vec<(OsString, OsString)>,
    log_file: Option<PathBuf>,
    binary: Option<PathBuf>,
}

impl ServerOptions {
    /// A server keeping its ledger and secret in `data_dir`.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            data_dir: data_dir.into(),
            dist_dir: None,
            args: Vec::new(),
            envs: Vec::new(),
            log_file: None,
            binary: None,
        }
    }

    /// Serve the game build in `dist_dir` (default: the server's own default).
    pub fn dist(mut self, dist_dir: impl Into<PathBuf>) -> Self {
        self.dist_dir = Some(dist_dir.into());
        self
    }

    /// One more argument after `serve` (e.g. `--min-round-ms`).
    pub fn arg(mut self, arg: impl Into<OsString>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// More arguments after `serve`.
    pub fn args<I: IntoIterator<Item = S>, S: Into<OsString>>(mut self, args: I) -> Self {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// An environment variable for the server (e.g. `RUST_LOG`).
    pub fn env(mut self, key: impl Into<OsString>, value: impl Into<OsString>) -> Self {
        self.envs.push((key.into(), value.into()));
        self
    }

    /// Where the server's stderr goes (default `<data-dir>/server.log`).
    pub fn log_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.log_file = Some(path.into());
        self
    }

    /// Lifts the waits and caps meant for real players (minimum round time,
    /// requests per address, rounds per player per day), for harnesses that
    /// finish many rounds quickly from one address.
    pub fn without_player_limits(self) -> Self {
        self.args([
            "--min-round-ms",
            "0",
            "--address-rate-per-sec",
            "0",
            "--player-daily-cap",
            "1000000",
        ])
    }

    /// Which binary to run (default: see the module documentation).
    pub fn binary(mut self, path: impl Into<PathBuf>) -> Self {
        self.binary = Some(path.into());
        self
    }

    /// The data directory.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    fn log_path(&self) -> PathBuf {
        self.log_file
            .clone()
            .unwrap_or_else(|| self.data_dir.join("server.log"))
    }
}

/// A running `server serve`. Killed (SIGKILL) on drop if still running.
#[derive(Debug)]
pub struct ServerProcess {
    child: Child,
    base_url: String,
    log_path: PathBuf,
}

impl ServerProcess {
    /// How long the server may take to print its `listening on` line.
    pub const STARTUP_TIMEOUT: Duration = Duration::from_secs(60);
    /// How long a graceful shutdown may take before [`Self::terminate`]
    /// gives up.
    pub const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(30);

    /// Starts the server and waits until it listens.
    ///
    /// # Panics
    /// When the binary is missing (with the command that builds it), or the
    /// server exits or stays silent for [`Self::STARTUP_TIMEOUT`] (with the
    /// end of its log).
    pub fn spawn(options: ServerOptions) -> Self {
        let binary = options.binary.clone().unwrap_or_else(server_binary);
        assert!(
            binary.is_file(),
            "no server binary at {}: run `cargo build -p server` (or `cargo xtask test`), \
             or point DREAMFAIRY_SERVER_BIN at one",
            binary.display()
        );
        fs::create_dir_all(&options.data_dir)
            .unwrap_or_else(|err| panic!("cannot create {}: {err}", options.data_dir.display()));
        let log_path = options.log_path();
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .unwrap_or_else(|err| {
                panic!("cannot open the server log {}: {err}", log_path.display())
            });

        let mut command = Command::new(&binary);
        command
            .arg("serve")
            .arg("--addr")
            .arg("127.0.0.1:0")
            .arg("--data-dir")
            .arg(&options.data_dir);
        if let Some(dist) = &options.dist_dir {
            command.arg("--dist").arg(dist);
        }
        command
            .args(&options.args)
            .envs(options.envs.iter().map(|(key, value)| (key, value)));
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|err| panic!("cannot start {}: {err}", binary.display()));

        let stdout = child.stdout.take().expect("stdout is piped");
        let (first_line, first_line_rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            if let Some(Ok(line)) = lines.next() {
                let _ = first_line.send(line);
            }
            // Keep draining so the server never blocks on a full pipe.
            lines.for_each(drop);
        });

        let line = match first_line_rx.recv_timeout(Self::STARTUP_TIMEOUT) {
            Ok(line) => line,
            Err(waited) => {
                let _ = child.kill();
                let status = child
                    .wait()
                    .map(|status| status.to_string())
                    .unwrap_or_default();
                panic!(
                    "the server did not say it was listening ({waited:?}; exit: {status}); \
                     end of its log {}:\n{}",
                    log_path.display(),
                    log_tail(&log_path)
                );
            }
        };
        let Some(base_url) = line.strip_prefix("listening on ").map(str::to_owned) else {
            let _ = child.kill();
            panic!("unexpected first line from the server: {line:?}");
        };
        Self {
            child,
            base_url,
            log_path,
        }
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Where the server's logs go.
    pub fn log_path(&self) -> &Path {
        &self.log_path
    }

    /// The server's peak resident memory so far (`VmHWM`), in KiB; `None`
    /// where `/proc` is not available or the process is gone.
    pub fn peak_rss_kib(&self) -> Option<u64> {
        let status = fs::read_to_string(format!("/proc/{}/status", self.pid())).ok()?;
        let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
        line.split_whitespace().nth(1)?.parse().ok()
    }

    /// Bytes the server has caused to be written to storage so far
    /// (`write_bytes` of `/proc/{pid}/io`: the ledger's pages, WAL and
    /// checkpoints; not its sockets); `None` where that is not available.
    pub fn storage_written(&self) -> Option<u64> {
        let io = fs::read_to_string(format!("/proc/{}/io", self.pid())).ok()?;
        let line = io
            .lines()
            .find_map(|line| line.strip_prefix("write_bytes:"))?;
        line.trim().parse().ok()
    }

    /// CPU time the server has used so far (user + system, all threads);
    /// `None` where `/proc` is not available or the process is gone.
    pub fn cpu_time(&self) -> Option<Duration> {
        process_cpu(self.pid()).map(|cpu| cpu.own)
    }

    /// Kills the server at once (SIGKILL, as a power cut would) and reaps it.
    pub fn kill(&mut self) {
        // An error means it already exited; waiting reaps it either way.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Asks the server to shut down gracefully (SIGTERM) and waits for it.
    ///
    /// # Panics
    /// If it does not exit within [`Self::SHUTDOWN_TIMEOUT`] (it is then
    /// killed), or the signal cannot be sent.
    pub fn terminate(&mut self) -> ExitStatus {
        if let Ok(Some(status)) = self.child.try_wait() {
            return status;
        }
        let pid = i32::try_from(self.pid())
            .ok()
            .and_then(rustix::process::Pid::from_raw)
            .expect("a valid pid");
        rustix::process::kill_process(pid, rustix::process::Signal::TERM)
            .unwrap_or_else(|err| panic!("cannot send SIGTERM to the server: {err}"));
        match self.child.wait_timeout(Self::SHUTDOWN_TIMEOUT) {
            Ok(Some(status)) => status,
            Ok(None) | Err(_) => {
                self.kill();
                panic!(
                    "the server did not shut down within {:?}; end of its log:\n{}",
                    Self::SHUTDOWN_TIMEOUT,
                    log_tail(&self.log_path)
                );
            }
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            self.kill();
        }
    }
}

/// The server binary: `DREAMFAIRY_SERVER_BIN`, else `server` in the profile
/// directory of the running executable (tests run from
/// `<target>/<profile>/deps/`, binaries from `<target>/<profile>/`).
pub fn server_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("DREAMFAIRY_SERVER_BIN") {
        return PathBuf::from(path);
    }
    let exe = std::env::current_exe().expect("the path of the running executable");
    let mut dir = exe.parent().expect("an executable lives in a directory");
    if dir.ends_with("deps") {
        dir = dir.parent().expect("deps lives in a profile directory");
    }
    dir.join(format!("server{}", std::env::consts::EXE_SUFFIX))
}

/// The last lines of a log file, for failure messages.
fn log_tail(path: &Path) -> String {
    const LINES: usize = 30;
    let Ok(file) = File::open(path) else {
        return "(no log)".into();
    };
    let lines: Vec<String> = BufReader::new(file).lines().map_while(Result::ok).collect();
    lines[lines.len().saturating_sub(LINES)..].join("\n")
}

/// The CPU time of a process, from `/proc/{pid}/stat`.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcessCpu {
    /// User + system time of all its threads.
    pub own: Duration,
    /// User + system time of the children it has reaped (a PostgreSQL
    /// backend that exited still counts for its postmaster).
    pub reaped_children: Duration,
}

/// The CPU time of process `pid` so far (`std::process::id()` for this
/// one); `None` where `/proc` is not available or the process is gone.
pub fn process_cpu(pid: u32) -> Option<ProcessCpu> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces, so split after
    // its closing parenthesis): utime is field 14, stime 15, cutime 16,
    // cstime 17.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks = |index: usize| fields.get(index)?.parse::<u64>().ok();
    let per_second = rustix::param::clock_ticks_per_second().max(1);
    let time = |ticks: u64| Duration::from_micros(ticks * 1_000_000 / per_second);
    Some(ProcessCpu {
        own: time(ticks(11)? + ticks(12)?),
        reaped_children: time(ticks(13)? + ticks(14)?),
    })
}
