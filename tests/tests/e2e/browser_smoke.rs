//! The first browser test: the real server serves the real build, headless
//! Chromium loads it, and the Bevy canvas draws a first frame with no error on
//! the page. The same check is then pointed at three broken builds, to prove it
//! notices a missing module, a blank canvas and an error on the page.

use std::path::{Path, PathBuf};
use std::time::Duration;

use tests::browser::{Browser, PHONE, Screen, dominant_colours};
use tests::server_process::{ServerOptions, ServerProcess};

/// How long a first frame may take: software WebGL on a shared 2-core machine
/// compiles every shader on the CPU.
const FIRST_FRAME_TIMEOUT: Duration = Duration::from_secs(120);
/// The village backdrop has sky, sun, hills and a school: a frame with fewer
/// colours than this (each covering 0.5% of the screen) is blank.
const MIN_COLOURS: usize = 4;

/// What a successful load measured.
#[derive(Debug)]
struct FirstFrame {
    /// Milliseconds from navigation start to the game's first frame.
    time_to_first_frame_ms: f64,
    /// Bytes on the wire for everything fetched up to the first frame.
    transferred_bytes: u64,
    screenshot: PathBuf,
}

/// Why a load failed, one reason per check.
#[derive(Debug)]
enum SmokeFailure {
    /// The game never announced a first frame.
    NoFirstFrame(String),
    /// The first frame was drawn, but the canvas shows (almost) nothing.
    BlankCanvas { colours: usize, screenshot: PathBuf },
    /// The page logged errors, threw, or failed to load something.
    PageProblems(Vec<String>),
}

impl std::fmt::Display for SmokeFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SmokeFailure::NoFirstFrame(waited) => write!(f, "no first frame: {waited}"),
            SmokeFailure::BlankCanvas {
                colours,
                screenshot,
            } => write!(
                f,
                "the canvas is blank: {colours} colour(s) on screen, see {}",
                screenshot.display()
            ),
            SmokeFailure::PageProblems(problems) => {
                write!(f, "the page reported problems: {problems:#?}")
            }
        }
    }
}

/// Serves `dist` with the real server and loads it in headless Chromium.
async fn load_to_first_frame(
    dist: &Path,
    screen: Screen,
    name: &str,
) -> Result<FirstFrame, SmokeFailure> {
    let data = tempfile::tempdir().expect("a temporary data folder");
    let server = ServerProcess::spawn(ServerOptions::new(data.path()).dist(dist));
    let browser = Browser::launch(screen).await;
    let page = browser.open(&format!("{}/", server.base_url())).await;

    let first_frame = page
        .wait_until(
            "window.dreamFairy?.firstFrameMs != null",
            FIRST_FRAME_TIMEOUT,
        )
        .await;
    let problems = page.problems();
    if let Err(waited) = first_frame {
        browser.close().await;
        return Err(if problems.is_empty() {
            SmokeFailure::NoFirstFrame(waited)
        } else {
            SmokeFailure::PageProblems(problems)
        });
    }
    let time_to_first_frame_ms: f64 = page.eval("window.dreamFairy.firstFrameMs").await;
    let transferred_bytes = page.transfers().iter().map(|(_, bytes)| bytes).sum();

    // Only the canvas should be on screen: remove the poster (it fades out),
    // hide the words over the canvas, and wait two animation frames so the
    // page is composited without them.
    let _: bool = page
        .eval(
            "document.getElementById('poster')?.remove(), \
             document.getElementById('ui').style.visibility = 'hidden', \
             new Promise(done => requestAnimationFrame(() => requestAnimationFrame(() => done(true))))",
        )
        .await;
    let screenshot = tests::artifacts_dir().join(format!("first-frame-{name}-{}.png", screen.name));
    let pixels = page.screenshot(&screenshot).await;
    let problems = page.problems();
    browser.close().await;

    if !problems.is_empty() {
        return Err(SmokeFailure::PageProblems(problems));
    }
    let colours = dominant_colours(&pixels, 0.005);
    if colours < MIN_COLOURS {
        return Err(SmokeFailure::BlankCanvas {
            colours,
            screenshot,
        });
    }
    Ok(FirstFrame {
        time_to_first_frame_ms,
        transferred_bytes,
        screenshot,
    })
}

fn describe(outcome: &Result<FirstFrame, SmokeFailure>) -> String {
    match outcome {
        Ok(frame) => format!("a clean first frame ({})", frame.screenshot.display()),
        Err(failure) => failure.to_string(),
    }
}

/// A copy of the real build, to break on purpose.
fn copy_of_dist() -> tempfile::TempDir {
    let copy = tempfile::tempdir().expect("a temporary folder");
    let source = tests::dist_dir();
    for file in files_below(&source) {
        let target = copy.path().join(file.strip_prefix(&source).unwrap());
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::copy(&file, &target).unwrap();
    }
    copy
}

fn files_below(folder: &Path) -> Vec<PathBuf> {
    walkdir::WalkDir::new(folder)
        .into_iter()
        .map(|entry| entry.expect("the build can be read"))
        .filter(|entry| entry.file_type().is_file())
        .map(walkdir::DirEntry::into_path)
        .collect()
}

/// Inserts `html` at the end of the copied page's `<head>`.
fn inject_into_head(dist: &Path, html: &str) {
    let index = dist.join("index.html");
    let page = std::fs::read_to_string(&index).unwrap();
    assert!(
        page.contains("</head>"),
        "the page has a head to inject into"
    );
    std::fs::write(
        &index,
        page.replacen("</head>", &format!("{html}</head>"), 1),
    )
    .unwrap();
    // The server would otherwise send the precompressed, unbroken page.
    for suffix in [".br", ".gz"] {
        let _ = std::fs::remove_file(dist.join(format!("index.html{suffix}")));
    }
}

#[tokio::test]
async fn the_game_draws_a_first_frame_without_errors() {
    let _browser = tests::browser::exclusive().await;
    let frame = load_to_first_frame(&tests::dist_dir(), PHONE, "game")
        .await
        .unwrap_or_else(|failure| panic!("the game did not start cleanly: {failure}"));
    println!(
        "time to first frame: {:.0} ms; transferred before it: {} bytes; screenshot: {}",
        frame.time_to_first_frame_ms,
        frame.transferred_bytes,
        frame.screenshot.display()
    );
    // The budget is the build's (see `cargo xtask dist`); the weight is what
    // Chromium's network log recorded, headers included.
    let manifest: serde_json::Value = serde_json::from_slice(
        &std::fs::read(tests::dist_dir().join("manifest.json")).expect("dist/manifest.json"),
    )
    .expect("the manifest is JSON");
    let budget = manifest["first_load_budget_bytes"]
        .as_u64()
        .expect("the manifest names the first-load budget");
    assert!(
        frame.transferred_bytes <= budget,
        "the first load weighs {} bytes on the wire, over the {budget}-byte budget",
        frame.transferred_bytes
    );
    let report = serde_json::json!({
        "screen": PHONE.name,
        "first_load_budget_bytes": budget,
        "time_to_first_frame_ms": frame.time_to_first_frame_ms,
        "transferred_bytes": frame.transferred_bytes,
    });
    std::fs::write(
        tests::artifacts_dir().join("first-frame.json"),
        serde_json::to_string_pretty(&report).unwrap(),
    )
    .unwrap();
}

#[tokio::test]
async fn a_missing_wasm_module_is_noticed() {
    let _browser = tests::browser::exclusive().await;
    let dist = copy_of_dist();
    let removed: Vec<PathBuf> = files_below(dist.path())
        .into_iter()
        .filter(|path| path.to_string_lossy().contains(".wasm"))
        .collect();
    assert!(!removed.is_empty(), "the build has a WASM module to remove");
    for path in &removed {
        std::fs::remove_file(path).unwrap();
    }
    let outcome = load_to_first_frame(dist.path(), PHONE, "no-wasm").await;
    assert!(
        matches!(&outcome, Err(SmokeFailure::PageProblems(problems)) if !problems.is_empty()),
        "a build without its WASM module must fail the check with the page's errors, got {}",
        describe(&outcome)
    );
}

#[tokio::test]
async fn a_blank_canvas_is_noticed() {
    let _browser = tests::browser::exclusive().await;
    let dist = copy_of_dist();
    inject_into_head(dist.path(), "<style>#game { visibility: hidden; }</style>");
    let outcome = load_to_first_frame(dist.path(), PHONE, "blank").await;
    assert!(
        matches!(outcome, Err(SmokeFailure::BlankCanvas { .. })),
        "a page whose canvas shows nothing must fail the check as blank, got {}",
        describe(&outcome)
    );
}

#[tokio::test]
async fn an_error_on_the_page_is_noticed() {
    let _browser = tests::browser::exclusive().await;
    let dist = copy_of_dist();
    inject_into_head(
        dist.path(),
        "<script>console.error('injected failure for the test');</script>",
    );
    let outcome = load_to_first_frame(dist.path(), PHONE, "page-error").await;
    assert!(
        matches!(&outcome, Err(SmokeFailure::PageProblems(problems))
            if problems.iter().any(|problem| problem.contains("injected failure"))),
        "a page that logs an error must fail the check with that error, got {}",
        describe(&outcome)
    );
}
