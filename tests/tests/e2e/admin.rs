//! The admin console in headless Chromium against the real server binary,
//! as the foundation's staff use it: sign in (a wrong password is refused,
//! repeated failures are throttled), import a school list with bad lines
//! (each line's error shown, nothing imported) and then good ones (new
//! versions), add a pledge, watch rounds finished through the API move the
//! dashboard, drill down to a county and a school in the console and on
//! the public `/report`, mark a shipment, confirm it through the school's
//! receipt link and see it received, read every step in the audit log,
//! and as a viewer get 403 on an import with no import control shown.
//! Each page is saved at phone and desktop size in `artifacts/admin/`.

use std::io::Write as _;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;
use sim::Rules;
use sim::wire::{FinishRoundRequest, RoundStarted, StartRoundRequest};
use tests::browser::{Browser, DESKTOP, PHONE, Page};
use tests::server_process::{ServerOptions, ServerProcess, server_binary};

/// Anything the console is waiting for (a page, a commit).
const STEP: Duration = Duration::from_secs(30);
/// The passwords of the test's users.
const BOSS_PASSWORD: &str = "boss has a long passphrase";
const VIEWER_PASSWORD: &str = "viewer reads the reports";
/// Rounds finished through the API.
const ROUNDS: usize = 6;

/// The demo school list, whose first `keep` schools make a smaller list.
fn demo_list(keep: Option<usize>) -> String {
    let csv = std::fs::read_to_string(tests::workspace_root().join("assets/demo/schools.csv"))
        .expect("the demo schools");
    let lines: Vec<&str> = csv.lines().collect();
    match keep {
        Some(keep) => lines[..=keep].join("\n"),
        None => lines.join("\n"),
    }
}

/// A list with a title row above the header and two bad lines.
const BAD_LIST: &str = "2026 年受赠学校名单\n\
学校编号,学校名称,省,市/州,县,县代码,学生数,目标册数\n\
BAD-1,=HYPERLINK(\"http://x\"),贵州省,黔南布依族苗族自治州,平塘县,522727,100,10\n\
BAD-2,好学校,贵州省,黔南布依族苗族自治州,平塘县,52272,100,10\n";

/// The console, a server and one browser tab.
struct Console {
    server: ServerProcess,
    browser: Browser,
    page: Page,
    data: tempfile::TempDir,
}

impl Console {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.base_url())
    }

    async fn goto(&self, path: &str) {
        self.page.goto(&self.url(path)).await;
        self.loaded().await;
    }

    /// Waits until the document in the tab has loaded.
    async fn loaded(&self) {
        if let Err(failure) = self
            .page
            .wait_while_loading("document.readyState === 'complete'", STEP)
            .await
        {
            panic!("{failure}");
        }
    }

    async fn expect_text(&self, text: &str) {
        if let Err(failure) = self.page.wait_for_text(text, STEP).await {
            panic!("{failure}");
        }
    }

    async fn body(&self) -> String {
        self.page.eval("document.body.innerText").await
    }

    /// Sets the input `name` of the form `form` to `value`, once the form
    /// is on the page.
    async fn fill(&self, form: &str, name: &str, value: &str) {
        let present = format!("document.querySelector(`{form} [name='{name}']`) !== null");
        if let Err(failure) = self.page.wait_while_loading(&present, STEP).await {
            panic!("{form} [name={name}]: {failure}");
        }
        let set = format!(
            "(() => {{ const input = document.querySelector(`{form} [name='{name}']`); input.value = {}; return true; }})()",
            serde_json::to_string(value).unwrap()
        );
        assert!(self.page.eval::<bool>(&set).await, "{form} has {name}");
    }

    /// Submits the form `form` with its button, and waits for the answer.
    async fn submit(&self, form: &str) {
        self.page
            .click_and_wait(&format!("{form} button[type=submit]"))
            .await;
    }

    /// Saves the page as `artifacts/admin/<name>-desktop.png` and
    /// `…-phone.png` (the whole page, 1280 wide, then 360 wide at 2x).
    async fn shots(&self, name: &str) {
        let dir = tests::artifacts_dir().join("admin");
        std::fs::create_dir_all(&dir).expect("the artifacts folder");
        self.loaded().await;
        for screen in [DESKTOP, PHONE] {
            self.page
                .screenshot_whole_page(screen, &dir.join(format!("{name}-{}.png", screen.name)))
                .await;
        }
        self.page.emulate(DESKTOP).await;
    }

    async fn sign_in(&self, user: &str, password: &str) {
        self.goto("/admin/login").await;
        let form = "form[action='/admin/login']";
        self.fill(form, "user", user).await;
        self.fill(form, "password", password).await;
        self.submit(form).await;
    }

    /// Runs `server <args>` on this console's data, with `stdin`.
    fn server_command(&self, args: &[&str], stdin: &str) {
        let mut child = Command::new(server_binary())
            .args(args)
            .arg("--data-dir")
            .arg(self.data.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the server binary runs");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(stdin.as_bytes())
            .expect("the password is written");
        let output = child.wait_with_output().expect("it finishes");
        assert!(
            output.status.success(),
            "server {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// Uploads `content` as the file `name` on the import page.
    async fn upload(&self, name: &str, content: &str) {
        self.goto("/admin/import").await;
        let set = format!(
            "(() => {{ const files = new DataTransfer(); \
             files.items.add(new File([{}], {}, {{ type: 'text/csv' }})); \
             document.querySelector('input[type=file]').files = files.files; return true; }})()",
            serde_json::to_string(content).unwrap(),
            serde_json::to_string(name).unwrap()
        );
        assert!(self.page.eval::<bool>(&set).await, "the file is chosen");
        self.submit("form[action='/admin/import']").await;
    }

    async fn get_json(&self, path: &str) -> Value {
        reqwest::get(self.url(path))
            .await
            .and_then(reqwest::Response::error_for_status)
            .unwrap_or_else(|error| panic!("GET {path}: {error}"))
            .json()
            .await
            .unwrap_or_else(|error| panic!("GET {path}: {error}"))
    }

    /// Finishes `count` rounds through the round API, played by the
    /// scripted player.
    async fn play_rounds(&self, count: usize) {
        let client = reqwest::Client::new();
        let mut counted = 0;
        // The scripted player completes most seeds; a few tries each.
        for _ in 0..count * 5 {
            if counted == count {
                break;
            }
            let started: RoundStarted = client
                .post(self.url("/api/rounds"))
                .json(&StartRoundRequest {
                    player: None,
                    referral: None,
                })
                .send()
                .await
                .expect("a round starts")
                .json()
                .await
                .expect("RoundStarted");
            let (input_log, outcome) = sim::bot::play_round(started.seed, &Rules::CURRENT);
            if !outcome.completed {
                continue;
            }
            let finished = client
                .post(self.url(&format!("/api/rounds/{}/finish", started.round_id)))
                .header("idempotency-key", &started.round_id)
                .json(&FinishRoundRequest {
                    token: started.token.clone(),
                    input_log,
                    outcome,
                })
                .send()
                .await
                .expect("the finish is answered");
            assert!(finished.status().is_success(), "the round counts");
            counted += 1;
        }
        assert_eq!(counted, count, "every round was counted");
    }

    /// The address of the link whose text is `text` in a table.
    async fn link_to(&self, text: &str) -> String {
        let find = format!(
            "[...document.querySelectorAll('table.data a')].find(a => a.textContent.trim() === {})?.getAttribute('href') ?? ''",
            serde_json::to_string(text).unwrap()
        );
        let href: String = self.page.eval(&find).await;
        assert!(!href.is_empty(), "a link to {text}: {}", self.body().await);
        href
    }
}

#[tokio::test]
async fn staff_run_the_campaign_from_the_admin_console() {
    let _slot = tests::browser::exclusive().await;
    let data = tempfile::tempdir().expect("a data folder");
    let server = ServerProcess::spawn(
        ServerOptions::new(data.path())
            .dist(tests::dist_dir())
            .without_player_limits(),
    );
    let browser = Browser::launch(DESKTOP).await;
    let page = browser.open(&format!("{}/admin", server.base_url())).await;
    // Refused sign-ins and the viewer's 403 are answers Chromium logs.
    page.expect_problems("401");
    page.expect_problems("403");
    page.expect_problems("429");
    page.expect_problems("422");
    let console = Console {
        server,
        browser,
        page,
        data,
    };
    console.server_command(
        &[
            "admin",
            "create-user",
            "--user",
            "boss",
            "--role",
            "admin",
            "--password-stdin",
        ],
        &format!("{BOSS_PASSWORD}\n"),
    );
    console.server_command(
        &[
            "admin",
            "create-user",
            "--user",
            "viewer",
            "--role",
            "viewer",
            "--password-stdin",
        ],
        &format!("{VIEWER_PASSWORD}\n"),
    );

    // Not signed in: the console sends to the sign-in form.
    console.expect_text("登录").await;
    assert!(
        console.page.url().await.contains("/admin/login"),
        "redirected to sign in"
    );
    console.shots("sign-in").await;

    // A wrong password is refused; repeated failures are throttled.
    console.sign_in("boss", "not the password").await;
    console.expect_text("用户名或密码错误").await;
    console.shots("sign-in-refused").await;
    for _ in 0..5 {
        console.sign_in("mallory", "guessing again and again").await;
        console.expect_text("用户名或密码错误").await;
    }
    console.sign_in("mallory", "guessing again and again").await;
    console.expect_text("登录失败次数过多").await;
    console.shots("sign-in-throttled").await;

    console.sign_in("boss", BOSS_PASSWORD).await;
    console.expect_text("累计参与").await;
    console.shots("dashboard-empty").await;

    // A list with bad lines: each line's error, nothing imported.
    console.upload("受赠学校名单-有错.csv", BAD_LIST).await;
    console.expect_text("未导入任何学校").await;
    let shown = console.body().await;
    assert!(
        shown.contains("3\t") || shown.contains("3 "),
        "line 3's error is listed: {shown}"
    );
    assert!(
        shown.contains("4\t") || shown.contains("4 "),
        "line 4's error is listed: {shown}"
    );
    assert!(shown.contains("县代码"), "with its reason: {shown}");
    console.shots("import-bad-lines").await;
    let report = console.get_json("/api/report").await;
    assert_eq!(
        report["totals"]["schools"], 0,
        "nothing was imported: {report}"
    );

    // Good lists: a preview, then a new version each.
    console.upload("demo-v1.csv", &demo_list(Some(38))).await;
    console.expect_text("新增").await;
    console.shots("import-preview").await;
    console
        .submit("form[method=post][action^='/admin/import/']")
        .await;
    console.expect_text("已导入第 1 版名单").await;
    console.upload("demo-v2.csv", &demo_list(None)).await;
    console.expect_text("对比第 1 版").await;
    console
        .submit("form[method=post][action^='/admin/import/']")
        .await;
    console.expect_text("已导入第 2 版名单").await;
    console.shots("import-done").await;

    // A pledge.
    console.goto("/admin/pledges").await;
    let form = "form[action='/admin/pledges']";
    console
        .fill(form, "sponsor", "测试基金会 Test Foundation")
        .await;
    console.fill(form, "participations_per_book", "1").await;
    console.fill(form, "books", "50").await;
    console.submit(form).await;
    console.expect_text("已添加第 1 项认捐").await;
    console.shots("pledges").await;

    // Rounds finished through the API move the dashboard.
    console.play_rounds(ROUNDS).await;
    console.goto("/admin").await;
    let participations: String = console
        .page
        .eval("document.querySelectorAll('.stat b')[1].textContent")
        .await;
    assert_eq!(
        participations,
        ROUNDS.to_string(),
        "the dashboard counts the rounds"
    );
    console.shots("dashboard").await;

    // The school that got the first book, and the way down to it.
    let report = console.get_json("/api/report").await;
    let school = report["schools"]
        .as_array()
        .expect("schools")
        .iter()
        .find(|school| school["allocated"].as_u64().unwrap_or(0) > 0)
        .expect("a school got a book")
        .clone();
    let names =
        ["province", "prefecture", "county"].map(|key| school[key].as_str().unwrap().to_owned());
    let (school_id, school_name) = (
        school["id"].as_str().unwrap(),
        school["name"].as_str().unwrap(),
    );

    for (base, shot) in [("/admin/report", "report"), ("/report", "public-report")] {
        console.goto(base).await;
        console.shots(&format!("{shot}-national")).await;
        for (level, name) in ["province", "prefecture", "county"].iter().zip(&names) {
            let href = console.link_to(name).await;
            console.goto(&href).await;
            console.expect_text(name).await;
            console.shots(&format!("{shot}-{level}")).await;
        }
        let href = console.link_to(school_id).await;
        console.goto(&href).await;
        console.expect_text(school_name).await;
        console.shots(&format!("{shot}-school")).await;
    }

    // A shipment to that school, confirmed through its receipt link.
    console.goto("/admin/shipments").await;
    let select = "form[action='/admin/shipments/new']";
    console.fill(select, "by", "school").await;
    console.fill(select, "value", school_id).await;
    console.submit(select).await;
    console.expect_text("待发图书").await;
    console.shots("shipment-preview").await;
    let mark = "form[method=post][action='/admin/shipments']";
    console.fill(mark, "carrier", "顺丰速运").await;
    console.fill(mark, "tracking", "SF1234567890").await;
    console.submit(mark).await;
    console.expect_text("已标记发货").await;
    console.shots("shipments").await;
    let sheet: String = console
        .page
        .eval("document.querySelector('.notice a').getAttribute('href')")
        .await;
    console.goto(&sheet).await;
    console.expect_text("SF1234567890").await;
    console.shots("shipment-sheet").await;
    let receipt_url: String = console
        .page
        .eval("document.querySelector('.qr .url').textContent")
        .await;
    console.page.goto(&receipt_url).await;
    console.loaded().await;
    console.expect_text("确认收到图书").await;
    console.submit("form[method=post]").await;
    console.expect_text("已确认收到").await;
    console.goto(&format!("/admin/schools/{school_id}")).await;
    console.expect_text("已收到 received").await;
    console.shots("school-received").await;
    console
        .goto(&format!(
            "/admin/shipments?school={school_id}&status=confirmed"
        ))
        .await;
    console.expect_text("SF1234567890").await;

    // The audit log lists every step.
    console.goto("/admin/audit").await;
    let log = console.body().await;
    for step in [
        "创建用户",
        "登录失败",
        "登录受限",
        "登录 Signed in",
        "导入学校名单",
        "新增认捐",
        "标记发货",
        "确认收货",
    ] {
        assert!(log.contains(step), "the audit log lists {step:?}: {log}");
    }
    console.shots("audit").await;
    console.goto("/admin/users").await;
    console.shots("users").await;

    // A viewer: no import control, and 403 on an import.
    console.submit("header form").await;
    console.expect_text("登录").await;
    console.sign_in("viewer", VIEWER_PASSWORD).await;
    console.expect_text("累计参与").await;
    let nav: String = console
        .page
        .eval("document.querySelector('nav.sections').innerText")
        .await;
    assert!(
        !nav.contains("导入"),
        "no import control for a viewer: {nav}"
    );
    console.shots("dashboard-viewer").await;
    let status: i64 = console
        .page
        .eval(
            "(async () => { const csrf = document.querySelector('input[name=csrf]').value; \
             const form = new FormData(); form.append('csrf', csrf); \
             form.append('file', new File(['x'], 'x.csv')); \
             return (await fetch('/admin/import', { method: 'POST', body: form })).status; })()",
        )
        .await;
    assert_eq!(status, 403, "the server refuses a viewer's import");
    console.goto("/admin/import").await;
    console.expect_text("没有权限").await;
    console.shots("import-forbidden-viewer").await;

    let problems = console.page.problems();
    console.browser.close().await;
    assert!(problems.is_empty(), "page problems: {problems:#?}");
}
