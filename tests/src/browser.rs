//! Headless Chromium driven over the DevTools protocol (`chromiumoxide`).
//!
//! [`Browser::launch`] starts a fresh Chromium (its own empty profile, software
//! WebGL2 through SwiftShader, no background networking) and [`Browser::open`]
//! gives a [`Page`] that records, from before the first byte, everything the
//! tests check: console errors, uncaught exceptions, Content-Security-Policy
//! violations, failed loads, and the bytes
//! each response took on the wire.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chromiumoxide::cdp::IntoEventKind;
use chromiumoxide::cdp::browser_protocol::emulation::SetDeviceMetricsOverrideParams;
use chromiumoxide::cdp::browser_protocol::fetch::{
    self, EventRequestPaused, FailRequestParams, RequestPattern, RequestStage,
};
use chromiumoxide::cdp::browser_protocol::input::{
    DispatchKeyEventParams, DispatchKeyEventType, DispatchMouseEventParams, DispatchMouseEventType,
    DispatchTouchEventParams, DispatchTouchEventType, TouchPoint,
};
use chromiumoxide::cdp::browser_protocol::log::{EventEntryAdded, LogEntryLevel};
use chromiumoxide::cdp::browser_protocol::network::{
    ErrorReason, EventLoadingFailed, EventLoadingFinished, EventResponseReceived, RequestId,
};
use chromiumoxide::cdp::js_protocol::runtime::{
    ConsoleApiCalledType, EventConsoleApiCalled, EventExceptionThrown,
};
use chromiumoxide::handler::viewport::Viewport;
use chromiumoxide::listeners::EventStream;
use chromiumoxide::page::ScreenshotParams;
use chromiumoxide::{BrowserConfig, Handler};
use futures::StreamExt;
use serde::de::DeserializeOwned;
use tokio::task::JoinHandle;

/// How often [`Page::wait_until`] re-evaluates its condition.
const POLL_INTERVAL: Duration = Duration::from_millis(50);

/// How long [`Page::click_and_wait`] waits for the next page to load.
pub const NAVIGATION_TIMEOUT: Duration = Duration::from_secs(60);

/// Serialises browser tests: each Chromium with software WebGL wants both
/// cores of these machines, and parallel ones would only time each other out.
static ONE_BROWSER_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Holds the machine's one browser slot until dropped.
pub async fn exclusive() -> tokio::sync::MutexGuard<'static, ()> {
    ONE_BROWSER_AT_A_TIME.lock().await
}

/// A screen size the game must work on.
#[derive(Debug, Clone, Copy)]
pub struct Screen {
    /// Used in artifact file names.
    pub name: &'static str,
    /// CSS pixels.
    pub width: u32,
    /// CSS pixels.
    pub height: u32,
    /// Device pixels per CSS pixel.
    pub scale: f64,
    /// Phone emulation: touch events and a mobile viewport.
    pub mobile: bool,
}

/// A portrait phone, as most players hold it.
pub const PHONE: Screen = Screen {
    name: "phone",
    width: 360,
    height: 640,
    scale: 2.0,
    mobile: true,
};

/// A desktop browser window.
pub const DESKTOP: Screen = Screen {
    name: "desktop",
    width: 1280,
    height: 800,
    scale: 1.0,
    mobile: false,
};

/// A running headless Chromium.
#[derive(Debug)]
pub struct Browser {
    browser: chromiumoxide::Browser,
    handler: JoinHandle<()>,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Starts Chromium with a fresh profile, emulating `screen`.
    ///
    /// # Panics
    /// When no Chromium is installed, with how to get one.
    pub async fn launch(screen: Screen) -> Browser {
        let profile = tempfile::tempdir().expect("a temporary profile folder");
        let config = BrowserConfig::builder()
            .chrome_executable(chromium_binary())
            .user_data_dir(profile.path())
            .no_sandbox()
            .window_size(screen.width, screen.height)
            .viewport(Viewport {
                width: screen.width,
                height: screen.height,
                device_scale_factor: Some(screen.scale),
                emulating_mobile: screen.mobile,
                is_landscape: false,
                has_touch: screen.mobile,
            })
            .args([
                // Keys only: chromiumoxide writes the leading `--` itself.
                // WebGL2 in software: these machines have no GPU.
                "use-angle=swiftshader",
                "enable-unsafe-swiftshader",
                // Keep Chromium off the (closed) network.
                "disable-background-networking",
                "disable-component-update",
                "disable-sync",
                "no-first-run",
            ])
            .launch_timeout(Duration::from_secs(60))
            .request_timeout(Duration::from_secs(60))
            .build()
            .expect("a valid Chromium configuration");
        let (browser, handler) = chromiumoxide::Browser::launch(config)
            .await
            .expect("Chromium starts");
        Browser {
            browser,
            handler: tokio::spawn(drive(handler)),
            _profile: profile,
        }
    }

    /// Opens a tab, starts recording, then navigates to `url`.
    pub async fn open(&self, url: &str) -> Page {
        let page = self
            .browser
            .new_page("about:blank")
            .await
            .expect("a new tab opens");
        let record = Arc::new(Mutex::new(Record::default()));
        // Listen before navigating, so nothing the page does is missed.
        let recorders = vec![
            tokio::spawn(record_console(listen(&page).await, record.clone())),
            tokio::spawn(record_exceptions(listen(&page).await, record.clone())),
            tokio::spawn(record_log(listen(&page).await, record.clone())),
            tokio::spawn(record_network(
                (
                    listen(&page).await,
                    listen(&page).await,
                    listen(&page).await,
                ),
                record.clone(),
            )),
        ];
        // A Content-Security-Policy violation is a problem like any other:
        // reported as a console error, so every test that checks problems
        // sees it (a script injected over DevTools is not subject to it).
        page.evaluate_on_new_document(REPORT_POLICY_VIOLATIONS)
            .await
            .expect("the violation reporter is installed");
        page.goto(url).await.expect("the page loads");
        Page {
            page,
            record,
            recorders,
        }
    }

    /// Closes Chromium and waits for it to exit.
    pub async fn close(mut self) {
        let _ = self.browser.close().await;
        let _ = self.browser.wait().await;
        self.handler.abort();
    }
}

/// Reports every `securitypolicyviolation` of the page as a console error.
const REPORT_POLICY_VIOLATIONS: &str = r#"document.addEventListener("securitypolicyviolation", (event) => {
  console.error(`Content-Security-Policy violation: ${event.violatedDirective} blocked ${event.blockedURI || "inline"} at ${event.sourceFile}:${event.lineNumber}`);
});"#;

/// Pumps the DevTools connection until Chromium goes away.
async fn drive(mut handler: Handler) {
    while let Some(event) = handler.next().await {
        if event.is_err() {
            break;
        }
    }
}

/// The Chromium binary: `DREAMFAIRY_CHROMIUM` (set by `cargo xtask test`,
/// which installs Chromium where it can), else `chromium` on the PATH.
fn chromium_binary() -> PathBuf {
    std::env::var_os("DREAMFAIRY_CHROMIUM")
        .map(PathBuf::from)
        .or_else(|| which::which("chromium").ok())
        .expect("no Chromium found: run `cargo xtask test`, or set DREAMFAIRY_CHROMIUM")
}

/// What a page did, as seen through the DevTools protocol.
#[derive(Debug, Default)]
struct Record {
    /// Console errors, uncaught exceptions and failed loads, in words.
    problems: Vec<String>,
    /// URL of each response, by request.
    urls: HashMap<RequestId, String>,
    /// Finished responses: URL and bytes on the wire (headers and body, as
    /// transferred, i.e. compressed).
    transfers: Vec<(String, u64)>,
    /// Words of problems the test provokes on purpose.
    expected: Vec<String>,
}

async fn listen<T: IntoEventKind + Unpin>(page: &chromiumoxide::Page) -> EventStream<T> {
    page.event_listener::<T>()
        .await
        .expect("DevTools events can be listened to")
}

async fn record_console(
    mut events: EventStream<EventConsoleApiCalled>,
    record: Arc<Mutex<Record>>,
) {
    while let Some(event) = events.next().await {
        if matches!(
            event.r#type,
            ConsoleApiCalledType::Error | ConsoleApiCalledType::Assert
        ) {
            let words: Vec<String> = event
                .args
                .iter()
                .map(|arg| {
                    arg.value
                        .as_ref()
                        .map(|value| value.to_string())
                        .or_else(|| arg.description.clone())
                        .unwrap_or_default()
                })
                .collect();
            let problem = format!("console.error: {}", words.join(" "));
            record.lock().unwrap().problems.push(problem);
        }
    }
}

async fn record_exceptions(
    mut events: EventStream<EventExceptionThrown>,
    record: Arc<Mutex<Record>>,
) {
    while let Some(event) = events.next().await {
        let details = &event.exception_details;
        let description = details
            .exception
            .as_ref()
            .and_then(|exception| exception.description.clone())
            .unwrap_or_else(|| details.text.clone());
        let problem = format!("uncaught exception: {description}");
        record.lock().unwrap().problems.push(problem);
    }
}

async fn record_log(mut events: EventStream<EventEntryAdded>, record: Arc<Mutex<Record>>) {
    while let Some(event) = events.next().await {
        if event.entry.level == LogEntryLevel::Error {
            let url = event.entry.url.clone().unwrap_or_default();
            let problem = format!("browser log: {} {url}", event.entry.text);
            record.lock().unwrap().problems.push(problem);
        }
    }
}

async fn record_network(
    (mut responses, mut finished, mut failed): (
        EventStream<EventResponseReceived>,
        EventStream<EventLoadingFinished>,
        EventStream<EventLoadingFailed>,
    ),
    record: Arc<Mutex<Record>>,
) {
    loop {
        tokio::select! {
            Some(response) = responses.next() => {
                let url = response.response.url.clone();
                record.lock().unwrap().urls.insert(response.request_id.clone(), url);
            }
            Some(done) = finished.next() => {
                let mut record = record.lock().unwrap();
                let url = record.urls.get(&done.request_id).cloned().unwrap_or_default();
                record.transfers.push((url, done.encoded_data_length as u64));
            }
            Some(failure) = failed.next() => {
                if !failure.canceled.unwrap_or(false) {
                    let problem = format!("load failed: {}", failure.error_text);
                    record.lock().unwrap().problems.push(problem);
                }
            }
            else => break,
        }
    }
}

/// An open tab and what it has done so far.
#[derive(Debug)]
pub struct Page {
    page: chromiumoxide::Page,
    record: Arc<Mutex<Record>>,
    recorders: Vec<JoinHandle<()>>,
}

impl Drop for Page {
    fn drop(&mut self) {
        for recorder in &self.recorders {
            recorder.abort();
        }
    }
}

impl Page {
    /// Evaluates a JavaScript expression (awaiting it if it is a promise) and
    /// converts its JSON value.
    pub async fn eval<T: DeserializeOwned>(&self, expression: &str) -> T {
        let result = self
            .page
            .evaluate(expression)
            .await
            .unwrap_or_else(|error| panic!("evaluating `{expression}` failed: {error}"));
        result
            .into_value()
            .unwrap_or_else(|error| panic!("`{expression}` gave an unexpected value: {error}"))
    }

    /// Waits until the JavaScript `condition` is true, for at most `timeout`.
    /// Gives up early, with the page's problems, if the page reports one.
    pub async fn wait_until(&self, condition: &str, timeout: Duration) -> Result<(), String> {
        let check = format!("Boolean({condition})");
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if self.eval::<bool>(&check).await {
                return Ok(());
            }
            let problems = self.problems();
            if !problems.is_empty() {
                return Err(format!(
                    "while waiting for `{condition}` the page reported: {problems:#?}"
                ));
            }
            if tokio::time::Instant::now() > deadline {
                return Err(format!("`{condition}` was still false after {timeout:?}"));
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }

    /// Waits until the JavaScript `condition` is true, for at most
    /// `timeout`; a page between two documents (its context gone while a
    /// new one loads) counts as false, not as a failure.
    pub async fn wait_while_loading(
        &self,
        condition: &str,
        timeout: Duration,
    ) -> Result<(), String> {
        let check = format!("Boolean({condition})");
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let met = match self.page.evaluate(check.as_str()).await {
                Ok(result) => result.into_value::<bool>().unwrap_or(false),
                Err(_) => false,
            };
            if met {
                return Ok(());
            }
            if tokio::time::Instant::now() > deadline {
                let shown = match self
                    .page
                    .evaluate("document.body ? document.body.innerText : ''")
                    .await
                {
                    Ok(result) => result.into_value::<String>().unwrap_or_default(),
                    Err(error) => error.to_string(),
                };
                return Err(format!(
                    "`{condition}` still false after {timeout:?}; the page says: {shown}"
                ));
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }

    /// Waits until the page's text contains `text`, for at most `timeout`.
    pub async fn wait_for_text(&self, text: &str, timeout: Duration) -> Result<(), String> {
        let condition = format!(
            "document.body && document.body.innerText.includes({})",
            serde_json::to_string(text).expect("a string")
        );
        self.wait_while_loading(&condition, timeout).await
    }

    /// Console errors, uncaught exceptions and failed loads so far, except
    /// those the test expects (see [`Page::expect_problems`]).
    pub fn problems(&self) -> Vec<String> {
        let record = self.record.lock().unwrap();
        record
            .problems
            .iter()
            .filter(|problem| !record.expected.iter().any(|words| problem.contains(words)))
            .cloned()
            .collect()
    }

    /// From now on, problems containing `words` are what the test is
    /// provoking (a cut network, a refusal), not failures.
    pub fn expect_problems(&self, words: &str) {
        self.record.lock().unwrap().expected.push(words.to_owned());
    }

    /// Every finished response so far: URL and bytes on the wire.
    pub fn transfers(&self) -> Vec<(String, u64)> {
        self.record.lock().unwrap().transfers.clone()
    }

    /// Goes to `url` in this tab and waits for it to load.
    pub async fn goto(&self, url: &str) {
        self.page
            .goto(url)
            .await
            .unwrap_or_else(|error| panic!("{url} loads: {error}"));
    }

    /// Clicks the element `selector` names (scrolled into view, real mouse
    /// input) and waits, for at most [`NAVIGATION_TIMEOUT`], until the page
    /// it leads to has loaded.
    ///
    /// The current document is marked first, and the wait is over when the
    /// tab holds a loaded document without the mark: a test of our own with
    /// a deadline. chromiumoxide's `wait_for_navigation` has none: it waits
    /// for the main frame to report a finished load, and a CI run hung,
    /// in all likelihood there, on a form submission.
    pub async fn click_and_wait(&self, selector: &str) {
        let marked: bool = self.eval("window.__dreamFairyLeaving = true").await;
        assert!(marked, "the page before clicking {selector} is marked");
        let element = self
            .page
            .find_element(selector)
            .await
            .unwrap_or_else(|error| panic!("no {selector} on the page: {error}"));
        element
            .click()
            .await
            .unwrap_or_else(|error| panic!("{selector} cannot be clicked: {error}"));
        let arrived = "window.__dreamFairyLeaving !== true && document.readyState === 'complete'";
        if let Err(failure) = self.wait_while_loading(arrived, NAVIGATION_TIMEOUT).await {
            panic!("after clicking {selector}: {failure}");
        }
    }

    /// The page's address now.
    pub async fn url(&self) -> String {
        self.page.url().await.ok().flatten().unwrap_or_default()
    }

    /// From now on, lays the page out as `screen` would (size, pixel ratio,
    /// phone or not), in the same tab.
    pub async fn emulate(&self, screen: Screen) {
        let metrics = SetDeviceMetricsOverrideParams::builder()
            .width(i64::from(screen.width))
            .height(i64::from(screen.height))
            .device_scale_factor(screen.scale)
            .mobile(screen.mobile)
            .build()
            .expect("complete device metrics");
        self.send(metrics).await;
    }

    /// Takes a screenshot of the whole page laid out as `screen` (its
    /// width, pixel ratio and phone-ness; as tall as the page, up to 16,000
    /// CSS pixels) and saves it as `file` (a PNG). The tab is left laid
    /// out as `screen`.
    pub async fn screenshot_whole_page(&self, screen: Screen, file: &Path) {
        self.emulate(screen).await;
        let height: f64 = self
            .eval("Math.ceil(document.documentElement.scrollHeight)")
            .await;
        let tall = Screen {
            height: (height as u32).clamp(screen.height, 16_000),
            ..screen
        };
        self.emulate(tall).await;
        self.screenshot(file).await;
        self.emulate(screen).await;
    }

    /// Takes a screenshot of the viewport, saves it as `file` (a PNG) and
    /// returns its pixels.
    pub async fn screenshot(&self, file: &Path) -> image::RgbaImage {
        let png = self
            .page
            .screenshot(ScreenshotParams::builder().build())
            .await
            .expect("a screenshot");
        std::fs::write(file, &png).expect("the screenshot can be saved");
        image::load_from_memory_with_format(&png, image::ImageFormat::Png)
            .expect("Chromium's screenshot is a PNG")
            .into_rgba8()
    }
}

/// A key the tests press, as DevTools names it.
#[derive(Debug, Clone, Copy)]
pub struct Key {
    /// `KeyboardEvent.key`.
    pub key: &'static str,
    /// `KeyboardEvent.code`.
    pub code: &'static str,
    /// The Windows virtual key code, which Chromium needs to act on the key.
    pub key_code: i64,
}

/// The left arrow key.
pub const ARROW_LEFT: Key = Key {
    key: "ArrowLeft",
    code: "ArrowLeft",
    key_code: 37,
};
/// The D key.
pub const KEY_D: Key = Key {
    key: "d",
    code: "KeyD",
    key_code: 68,
};

/// A phase of a one-finger touch.
#[derive(Debug, Clone, Copy)]
pub enum Touch {
    /// The finger lands at (x, y), in CSS pixels.
    Start(f64, f64),
    /// The finger moves to (x, y).
    Move(f64, f64),
    /// The finger lifts at (x, y).
    End(f64, f64),
}

impl Page {
    async fn send<C: chromiumoxide::Command>(&self, command: C) {
        let name = std::any::type_name::<C>();
        self.page
            .execute(command)
            .await
            .unwrap_or_else(|error| panic!("DevTools refused {name}: {error}"));
    }

    /// Presses (`down`) or releases `key`, as real keyboard input to the
    /// focused element.
    pub async fn key(&self, key: Key, down: bool) {
        let kind = if down {
            DispatchKeyEventType::RawKeyDown
        } else {
            DispatchKeyEventType::KeyUp
        };
        let event = DispatchKeyEventParams::builder()
            .r#type(kind)
            .key(key.key)
            .code(key.code)
            .windows_virtual_key_code(key.key_code)
            .build()
            .expect("a complete key event");
        self.send(event).await;
    }

    /// Moves the mouse to (x, y), in CSS pixels, as real pointer input.
    pub async fn move_mouse(&self, x: f64, y: f64) {
        let event = DispatchMouseEventParams::builder()
            .r#type(DispatchMouseEventType::MouseMoved)
            .x(x)
            .y(y)
            .build()
            .expect("a complete mouse event");
        self.send(event).await;
    }

    /// One phase of a one-finger touch, as real touch input.
    pub async fn touch(&self, touch: Touch) {
        // One finger, so one id: a move must name the finger that landed.
        let finger = |x, y| TouchPoint {
            id: Some(1.0),
            ..TouchPoint::new(x, y)
        };
        let (kind, points) = match touch {
            Touch::Start(x, y) => (DispatchTouchEventType::TouchStart, vec![finger(x, y)]),
            Touch::Move(x, y) => (DispatchTouchEventType::TouchMove, vec![finger(x, y)]),
            Touch::End(x, y) => (DispatchTouchEventType::TouchEnd, vec![finger(x, y)]),
        };
        let event = DispatchTouchEventParams::builder()
            .r#type(kind)
            .touch_points(points)
            .build()
            .expect("a complete touch event");
        self.send(event).await;
    }

    /// Reloads the page (same tab: its storage and interceptions stay).
    pub async fn reload(&self) {
        self.page.reload().await.expect("the page reloads");
    }

    /// Cuts the network for requests whose URL matches `url_pattern` (`*`
    /// wildcards) after they reach the server: each answer is dropped as if
    /// the connection had died, until [`NetworkCut::restore`].
    pub async fn cut_answers(&self, url_pattern: &str) -> NetworkCut {
        let mut paused = listen::<EventRequestPaused>(&self.page).await;
        let pattern = RequestPattern::builder()
            .url_pattern(url_pattern)
            .request_stage(RequestStage::Response)
            .build();
        self.send(fetch::EnableParams::builder().pattern(pattern).build())
            .await;
        let dropped = Arc::new(AtomicUsize::new(0));
        let page = self.page.clone();
        let counter = dropped.clone();
        let cutter = tokio::spawn(async move {
            while let Some(request) = paused.next().await {
                let fail = FailRequestParams::new(
                    request.request_id.clone(),
                    ErrorReason::InternetDisconnected,
                );
                if page.execute(fail).await.is_ok() {
                    counter.fetch_add(1, Ordering::SeqCst);
                }
            }
        });
        NetworkCut {
            page: self.page.clone(),
            dropped,
            cutter,
        }
    }
}

/// Answers being dropped on their way back (see [`Page::cut_answers`]).
#[derive(Debug)]
pub struct NetworkCut {
    page: chromiumoxide::Page,
    dropped: Arc<AtomicUsize>,
    cutter: JoinHandle<()>,
}

impl NetworkCut {
    /// Answers dropped so far.
    pub fn dropped(&self) -> usize {
        self.dropped.load(Ordering::SeqCst)
    }

    /// Lets answers through again.
    pub async fn restore(self) {
        self.page
            .execute(fetch::DisableParams::default())
            .await
            .expect("DevTools stops intercepting");
        self.cutter.abort();
    }
}

/// The colours that each cover at least `min_share` (0..1) of the image,
/// quantised to 4 bits per channel so that anti-aliasing does not count.
pub fn dominant_colours(image: &image::RgbaImage, min_share: f64) -> usize {
    let mut counts: HashMap<[u8; 3], u64> = HashMap::new();
    for pixel in image.pixels() {
        let [red, green, blue, _] = pixel.0;
        *counts.entry([red >> 4, green >> 4, blue >> 4]).or_default() += 1;
    }
    let total = u64::from(image.width()) * u64::from(image.height());
    let threshold = (total as f64 * min_share).ceil() as u64;
    counts.values().filter(|&&count| count >= threshold).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image_of(colours: &[[u8; 4]]) -> image::RgbaImage {
        image::RgbaImage::from_fn(colours.len() as u32 * 10, 10, |x, _| {
            image::Rgba(colours[(x / 10) as usize])
        })
    }

    #[test]
    fn a_single_colour_is_one_dominant_colour() {
        let blank = image_of(&[[166, 217, 250, 255]]);
        assert_eq!(
            dominant_colours(&blank, 0.01),
            1,
            "a blank image has one colour"
        );
    }

    #[test]
    fn stripes_of_distinct_colours_are_counted() {
        let stripes = image_of(&[[255, 0, 0, 255], [0, 255, 0, 255], [0, 0, 255, 255]]);
        assert_eq!(
            dominant_colours(&stripes, 0.1),
            3,
            "three stripes, three colours"
        );
    }

    #[test]
    fn near_identical_shades_count_once() {
        let shades = image_of(&[[100, 100, 100, 255], [101, 100, 100, 255]]);
        assert_eq!(
            dominant_colours(&shades, 0.1),
            1,
            "anti-aliasing noise is ignored"
        );
    }

    #[test]
    fn rare_colours_are_ignored() {
        let mut image = image_of(&[[0, 0, 0, 255]]);
        image.put_pixel(0, 0, image::Rgba([255, 255, 255, 255]));
        assert_eq!(
            dominant_colours(&image, 0.05),
            1,
            "one odd pixel is not a colour"
        );
    }
}
