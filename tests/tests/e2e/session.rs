//! One browser session on a real server, shared by the browser tests: a
//! server on a fresh data folder, Chromium on a page of it, and the steps
//! every test takes (wait, click, snapshot, play a round on the autopilot).

use std::time::Duration;

use serde_json::Value;
use tests::browser::{Browser, Page, Screen};
use tests::server_process::{ServerOptions, ServerProcess};

/// Software WebGL on a shared 2-core machine compiles every shader on the CPU.
pub(crate) const FIRST_FRAME_TIMEOUT: Duration = Duration::from_secs(120);
/// A round lasts at most 45 s of game time; slow frames stretch it.
pub(crate) const ROUND_TIMEOUT: Duration = Duration::from_secs(150);
/// Anything else the page is waiting for (a server answer, a few frames).
pub(crate) const STEP_TIMEOUT: Duration = Duration::from_secs(30);

/// The title is on screen and the loading poster has faded away.
pub(crate) const TITLE_SHOWN: &str =
    "dreamFairy.state.screen === 'title' && !document.getElementById('poster')";

/// A server on a fresh data folder, and a browser on its game.
pub(crate) struct Session {
    pub(crate) server: ServerProcess,
    pub(crate) browser: Browser,
    pub(crate) page: Page,
    pub(crate) screen: Screen,
    pub(crate) data: tempfile::TempDir,
}

impl Session {
    pub(crate) async fn open(
        screen: Screen,
        options: impl FnOnce(ServerOptions) -> ServerOptions,
    ) -> Session {
        let data = tempfile::tempdir().expect("a temporary data folder");
        let server = ServerProcess::spawn(options(
            ServerOptions::new(data.path()).dist(tests::dist_dir()),
        ));
        Self::open_on(screen, server, data, "/").await
    }

    /// A browser on `path` of `server`, which serves from `data`; waits for
    /// the title.
    pub(crate) async fn open_on(
        screen: Screen,
        server: ServerProcess,
        data: tempfile::TempDir,
        path: &str,
    ) -> Session {
        let browser = Browser::launch(screen).await;
        let page = browser.open(&format!("{}{path}", server.base_url())).await;
        let session = Session {
            server,
            browser,
            page,
            screen,
            data,
        };
        session.wait(TITLE_SHOWN, FIRST_FRAME_TIMEOUT).await;
        session
    }

    pub(crate) async fn wait(&self, condition: &str, timeout: Duration) {
        if let Err(failure) = self.page.wait_until(condition, timeout).await {
            panic!("{} screen: {failure}", self.screen.name);
        }
    }

    /// Saves the screen as `<what>-<screen>.png` in the artifacts folder.
    pub(crate) async fn snapshot(&self, what: &str) {
        let file = tests::artifacts_dir().join(format!("{what}-{}.png", self.screen.name));
        self.page.screenshot(&file).await;
    }

    pub(crate) async fn click(&self, id: &str) {
        let _: bool = self
            .page
            .eval(&format!("document.getElementById('{id}').click(), true"))
            .await;
    }

    pub(crate) async fn fairy_column(&self) -> i64 {
        self.page.eval("dreamFairy.state.fairyColumn ?? -1").await
    }

    /// Plays one round with the game's built-in player, from the title or
    /// the result screen, and waits for its end.
    pub(crate) async fn play_round_on_autopilot(
        &self,
        start_button: &str,
        snapshot_while_playing: bool,
    ) {
        let _: bool = self.page.eval("dreamFairy.autopilot(true), true").await;
        let rounds_before: i64 = self
            .page
            .eval("dreamFairy.state.events.filter(kind => kind === 'round_over').length")
            .await;
        self.click(start_button).await;
        self.wait("dreamFairy.state.screen === 'playing'", STEP_TIMEOUT)
            .await;
        if snapshot_while_playing {
            let shelf =
                "Number(document.getElementById('hud-shelf').textContent.match(/\\d+/)?.[0])";
            self.wait(&format!("{shelf} >= 8"), ROUND_TIMEOUT).await;
            self.snapshot("playing").await;
        }
        self.wait(
            &format!(
                "dreamFairy.state.events.filter(kind => kind === 'round_over').length > {rounds_before}"
            ),
            ROUND_TIMEOUT,
        )
        .await;
    }

    /// Runs an admin subcommand of the server on this session's data, as
    /// the foundation's staff would while it serves.
    pub(crate) fn admin(&self, args: &[&str]) {
        let output = std::process::Command::new(tests::server_process::server_binary())
            .args(args)
            .arg("--data-dir")
            .arg(self.data.path())
            .output()
            .expect("the server binary runs");
        assert!(
            output.status.success(),
            "server {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }

    pub(crate) async fn get_json(&self, path: &str) -> Value {
        reqwest::get(format!("{}{path}", self.server.base_url()))
            .await
            .and_then(reqwest::Response::error_for_status)
            .unwrap_or_else(|error| panic!("GET {path}: {error}"))
            .json()
            .await
            .unwrap_or_else(|error| panic!("GET {path} is not JSON: {error}"))
    }

    /// Closes the browser, and fails if the page reported a problem the
    /// test did not provoke.
    pub(crate) async fn close_cleanly(self) {
        let problems = self.page.problems();
        self.browser.close().await;
        assert!(
            problems.is_empty(),
            "{} page problems: {problems:#?}",
            self.screen.name
        );
    }
}
