//! `lighthouse-pages`: Lighthouse's accessibility and best-practices
//! scores of the game page and of every kind of server-rendered page, the
//! admin console's included, behind `cargo xtask lighthouse`.
//!
//! It serves a data folder that `cargo xtask lighthouse` prepared
//! (participations, the demo schools and pledges, a shipment, a poster's
//! share code, an admin account), signs in to the console, finds a real
//! instance of each page kind by reading the pages themselves (a
//! drill-down level, a school, the receipt link of a shipment), and runs
//! the `lighthouse` command line on each in a fresh headless Chromium
//! profile, the console's session cookie in `--extra-headers`. The game
//! page also gets the performance category (Lighthouse's default mobile
//! settings), for its Largest Contentful Paint.
//!
//! It prints one line per page and the failing audits of every page under
//! the minimum, writes each report as JSON (and a `summary.json`), and
//! exits with an error when a page scores under the minimum.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::Duration;

use anyhow::{Context as _, bail, ensure};
use clap::Parser;
use serde_json::Value;
use tests::admin_session::AdminSession;
use tests::server_process::{ServerOptions, ServerProcess};
use wait_timeout::ChildExt as _;

#[derive(Debug, Parser)]
struct Args {
    /// The server binary.
    #[arg(long)]
    server_bin: PathBuf,
    /// The built game to serve.
    #[arg(long)]
    dist: PathBuf,
    /// The prepared data folder (served as it is).
    #[arg(long)]
    data_dir: PathBuf,
    /// The `lighthouse` command line program.
    #[arg(long)]
    lighthouse: PathBuf,
    /// The Chromium binary Lighthouse drives (`CHROME_PATH`).
    #[arg(long)]
    chromium: PathBuf,
    /// Where the JSON reports go.
    #[arg(long)]
    out: PathBuf,
    /// The console user to sign in as; the password is read from
    /// `DREAMFAIRY_ADMIN_PASSWORD`.
    #[arg(long, default_value = "admin")]
    user: String,
    /// A share code that exists in the ledger, for `/s/{code}`.
    #[arg(long)]
    share_code: String,
    /// The least score each page needs in each category.
    #[arg(long, default_value_t = 0.95)]
    min_score: f64,
    /// Only the pages whose path contains this text.
    #[arg(long)]
    only: Option<String>,
}

/// The flags of the headless Chromium Lighthouse starts (a fresh
/// `--user-data-dir` is added to each run).
const CHROME_FLAGS: &str = "--headless --no-sandbox --use-angle=swiftshader \
    --enable-unsafe-swiftshader --no-first-run --disable-background-networking \
    --disable-component-update --disable-sync";

/// How long one Lighthouse run may take.
const RUN_TIMEOUT: Duration = Duration::from_secs(300);

/// The categories every page is scored in, as Lighthouse names them.
const CATEGORIES: [&str; 2] = ["accessibility", "best-practices"];

/// One page to score.
#[derive(Debug)]
struct Page {
    /// What it is, for the table.
    kind: &'static str,
    /// Its path and query.
    path: String,
    /// Whether it needs the console's session.
    signed_in: bool,
    /// Also the performance category (for the LCP).
    performance: bool,
}

impl Page {
    fn public(kind: &'static str, path: impl Into<String>) -> Self {
        Self {
            kind,
            path: path.into(),
            signed_in: false,
            performance: false,
        }
    }

    fn console(kind: &'static str, path: impl Into<String>) -> Self {
        Self {
            signed_in: true,
            ..Self::public(kind, path)
        }
    }
}

/// What one run found.
#[derive(Debug, serde::Serialize)]
struct Scores {
    kind: &'static str,
    path: String,
    accessibility: Option<f64>,
    best_practices: Option<f64>,
    performance: Option<f64>,
    lcp_ms: Option<f64>,
    /// `category: audit id — title` of every weighted audit not passed.
    failing: Vec<String>,
    /// Lighthouse's own error, if the run failed.
    error: Option<String>,
    report: PathBuf,
}

impl Scores {
    fn passes(&self, min: f64) -> bool {
        self.error.is_none()
            && [self.accessibility, self.best_practices]
                .iter()
                .all(|score| score.is_some_and(|score| score >= min))
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<ExitCode> {
    let args = Args::parse();
    let password = std::env::var("DREAMFAIRY_ADMIN_PASSWORD")
        .context("the console password in DREAMFAIRY_ADMIN_PASSWORD")?;
    std::fs::create_dir_all(&args.out)?;
    let process = ServerProcess::spawn(
        ServerOptions::new(&args.data_dir)
            .dist(&args.dist)
            .binary(&args.server_bin)
            .log_file(args.out.join("server.log")),
    );
    let base_url = process.base_url().to_owned();
    let session = AdminSession::sign_in(&base_url, &args.user, &password).await?;

    let (pages, notes) = pages(&session, &args.share_code).await?;
    for note in &notes {
        println!("note: {note}");
    }
    let mut results = Vec::new();
    for page in pages.iter().filter(|page| {
        args.only
            .as_ref()
            .is_none_or(|only| page.path.contains(only))
    }) {
        let status = if page.signed_in {
            session.get(&page.path).await?.status()
        } else {
            session
                .client
                .get(format!("{base_url}{}", page.path))
                .send()
                .await?
                .status()
        };
        ensure!(status.is_success(), "GET {}: {status}", page.path);
        let scores = run_lighthouse(&args, &base_url, page, &session.cookie)?;
        println!(
            "  {:<24} {:<44} a11y {} bp {}",
            scores.kind,
            scores.path,
            score(scores.accessibility),
            score(scores.best_practices)
        );
        results.push(scores);
    }
    drop(process);

    print_table(&results, args.min_score);
    std::fs::write(
        args.out.join("summary.json"),
        serde_json::to_vec_pretty(&serde_json::json!({
            "min_score": args.min_score,
            "notes": notes,
            "pages": results,
        }))?,
    )?;
    println!("reports: {}", args.out.display());
    let below: Vec<&str> = results
        .iter()
        .filter(|scores| !scores.passes(args.min_score))
        .map(|scores| scores.path.as_str())
        .collect();
    if below.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    eprintln!(
        "lighthouse-pages: {} page(s) under {} in accessibility or best practices: {}",
        below.len(),
        args.min_score,
        below.join(", ")
    );
    Ok(ExitCode::FAILURE)
}

/// Every page kind, with real instances read from the pages themselves,
/// and notes on what could not be found.
async fn pages(
    session: &AdminSession,
    share_code: &str,
) -> anyhow::Result<(Vec<Page>, Vec<String>)> {
    let mut notes = Vec::new();
    let public_report = text(session, "/report").await?;
    let drill_down =
        drill_down_link(&public_report, "/report").context("a drill-down link on /report")?;
    let school_list = text(session, "/admin/report?list=schools").await?;
    let school = first_link(&school_list, "/admin/schools/")
        .and_then(|link| link.strip_prefix("/admin/schools/").map(str::to_owned))
        .context("a school on /admin/report?list=schools")?;
    let school = school
        .split(['?', '/'])
        .next()
        .unwrap_or_default()
        .to_owned();
    let admin_report = text(session, "/admin/report").await?;
    let admin_drill_down = drill_down_link(&admin_report, "/admin/report")
        .context("a drill-down link on /admin/report")?;

    let mut pages = vec![
        Page {
            performance: true,
            ..Page::public("game", "/")
        },
        Page::public("share link (game)", format!("/s/{share_code}")),
        Page::public("report", "/report"),
        Page::public("report drill-down", drill_down),
        Page::public("participation", "/p/1"),
        Page::public("school", format!("/schools/{school}")),
    ];
    let sheet = session.get("/admin/shipments/1").await?;
    let secret = if sheet.status().is_success() {
        let sheet = sheet.text().await?;
        receipt_secret(&sheet)
    } else {
        None
    };
    match secret {
        Some(secret) => pages.push(Page::public("receipt link", format!("/receive/{secret}"))),
        None => notes.push(
            "no shipment #1 with a receipt link: /receive/{secret} was not scored".to_owned(),
        ),
    }
    pages.extend([
        Page::public("console sign-in", "/admin/login"),
        Page::console("console dashboard", "/admin"),
        Page::console("console report", "/admin/report"),
        Page::console("console drill-down", admin_drill_down),
        Page::console("console school", format!("/admin/schools/{school}")),
        Page::console("console pledges", "/admin/pledges"),
        Page::console("console shipments", "/admin/shipments"),
        Page::console(
            "console shipment preview",
            "/admin/shipments/new?by=books&value=21-40",
        ),
        Page::console("console shipment sheet", "/admin/shipments/1"),
        Page::console("console import", "/admin/import"),
        Page::console("console sharing", "/admin/sharing"),
        Page::console("console users", "/admin/users"),
        Page::console("console audit", "/admin/audit"),
    ]);
    notes.push(
        "not scored: /admin/import/{upload} (the preview of an uploaded school list; it \
         shares the console's frame and tables)"
            .to_owned(),
    );
    Ok((pages, notes))
}

/// The body of a page that must answer 200.
async fn text(session: &AdminSession, path: &str) -> anyhow::Result<String> {
    let response = session.get(path).await?;
    ensure!(
        response.status().is_success(),
        "GET {path}: {}",
        response.status()
    );
    Ok(response.text().await?)
}

/// The first `href` of `html` that starts with `prefix`, unescaped.
fn first_link(html: &str, prefix: &str) -> Option<String> {
    links(html, prefix).next()
}

/// The first link to a lower level of a drill-down report at `path`
/// (one that names a province or a county, not only another period).
fn drill_down_link(html: &str, path: &str) -> Option<String> {
    links(html, &format!("{path}?"))
        .find(|link| link.contains("province=") || link.contains("county="))
}

/// Every `href` of `html` that starts with `prefix`, unescaped.
fn links(html: &str, prefix: &str) -> impl Iterator<Item = String> {
    let marker = format!("href=\"{prefix}");
    let links: Vec<String> = html
        .match_indices(&marker)
        .filter_map(|(start, _)| {
            let link = html[start + "href=\"".len()..].split('"').next()?;
            Some(link.replace("&amp;", "&"))
        })
        .collect();
    links.into_iter()
}

/// The secret of the first `/receive/{secret}` address in `html`.
fn receipt_secret(html: &str) -> Option<String> {
    let start = html.find("/receive/")? + "/receive/".len();
    let secret: String = html[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    (!secret.is_empty()).then_some(secret)
}

/// Runs Lighthouse on one page and reads its report.
fn run_lighthouse(
    args: &Args,
    base_url: &str,
    page: &Page,
    cookie: &str,
) -> anyhow::Result<Scores> {
    let profile = tempfile::tempdir()?;
    let report = args.out.join(format!("{}.json", file_name(&page.path)));
    let categories = if page.performance {
        format!("{},performance", CATEGORIES.join(","))
    } else {
        CATEGORIES.join(",")
    };
    let mut command = Command::new(&args.lighthouse);
    command
        .arg(format!("{base_url}{}", page.path))
        .arg("--output=json")
        .arg(format!("--output-path={}", report.display()))
        .arg(format!("--only-categories={categories}"))
        .arg(format!(
            "--chrome-flags={CHROME_FLAGS} --user-data-dir={}",
            profile.path().display()
        ))
        .arg("--quiet")
        .env("CHROME_PATH", &args.chromium)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    if page.signed_in {
        command.arg(format!(
            "--extra-headers={}",
            serde_json::json!({ "Cookie": cookie })
        ));
    }
    let mut child = command
        .spawn()
        .with_context(|| format!("running {}", args.lighthouse.display()))?;
    let Some(status) = child.wait_timeout(RUN_TIMEOUT)? else {
        let _ = child.kill();
        let _ = child.wait();
        bail!("lighthouse on {} took more than {RUN_TIMEOUT:?}", page.path);
    };
    if !status.success() {
        let mut stderr = String::new();
        if let Some(mut pipe) = child.stderr.take() {
            use std::io::Read as _;
            let _ = pipe.read_to_string(&mut stderr);
        }
        bail!("lighthouse on {} failed ({status}): {stderr}", page.path);
    }
    read_report(page, &report)
}

/// The scores, LCP and failing audits of one Lighthouse JSON report.
fn read_report(page: &Page, report: &Path) -> anyhow::Result<Scores> {
    let lhr: Value = serde_json::from_slice(
        &std::fs::read(report).with_context(|| format!("reading {}", report.display()))?,
    )?;
    let category = |name: &str| lhr["categories"][name]["score"].as_f64();
    let mut failing = Vec::new();
    for name in CATEGORIES {
        for reference in lhr["categories"][name]["auditRefs"]
            .as_array()
            .into_iter()
            .flatten()
        {
            if reference["weight"].as_f64().unwrap_or(0.0) <= 0.0 {
                continue;
            }
            let id = reference["id"].as_str().unwrap_or_default();
            let audit = &lhr["audits"][id];
            if audit["score"].as_f64().is_some_and(|score| score < 1.0) {
                failing.push(format!(
                    "{name}: {id} — {}",
                    audit["title"].as_str().unwrap_or_default()
                ));
            }
        }
    }
    Ok(Scores {
        kind: page.kind,
        path: page.path.clone(),
        accessibility: category("accessibility"),
        best_practices: category("best-practices"),
        performance: category("performance"),
        lcp_ms: lhr["audits"]["largest-contentful-paint"]["numericValue"].as_f64(),
        failing,
        error: lhr["runtimeError"]["message"].as_str().map(str::to_owned),
        report: report.to_owned(),
    })
}

/// A file name for a page's report: its path with every other character
/// than letters and digits as `_`.
fn file_name(path: &str) -> String {
    let name: String = path
        .trim_start_matches('/')
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .take(80)
        .collect();
    if name.is_empty() {
        "root".to_owned()
    } else {
        name
    }
}

fn score(score: Option<f64>) -> String {
    score.map_or_else(|| "  - ".to_owned(), |score| format!("{score:.2}"))
}

fn print_table(results: &[Scores], min: f64) {
    println!();
    println!(
        "{:<24} {:<44} {:>6} {:>6} {:>9}",
        "page", "path", "a11y", "bp", "LCP"
    );
    for scores in results {
        let lcp = match (scores.lcp_ms, scores.performance) {
            (Some(ms), Some(performance)) => {
                format!("{:.1} s (perf {performance:.2})", ms / 1000.0)
            }
            _ => String::new(),
        };
        let path: String = scores.path.chars().take(44).collect();
        println!(
            "{:<24} {:<44} {:>6} {:>6} {:>9} {}",
            scores.kind,
            path,
            score(scores.accessibility),
            score(scores.best_practices),
            lcp,
            if scores.passes(min) { "" } else { "UNDER" }
        );
    }
    for scores in results.iter().filter(|scores| !scores.passes(min)) {
        println!();
        println!("{} ({}):", scores.path, scores.kind);
        if let Some(error) = &scores.error {
            println!("  error: {error}");
        }
        for audit in &scores.failing {
            println!("  {audit}");
        }
    }
}

#[cfg(test)]
mod reading_pages {
    use super::*;

    #[test]
    fn a_drill_down_link_names_an_area_not_only_a_period() {
        let html = r#"<a href="/report?preset=today">今天</a>
            <a href="/report?province=%E8%B4%B5&amp;preset=30d">贵州省</a>"#;
        assert_eq!(
            drill_down_link(html, "/report").as_deref(),
            Some("/report?province=%E8%B4%B5&preset=30d"),
            "the period preset is skipped and &amp; unescaped"
        );
        assert_eq!(drill_down_link(html, "/admin/report"), None, "another path");
    }

    #[test]
    fn the_receipt_secret_ends_where_the_address_does() {
        let html = "<span class=\"url\">http://127.0.0.1:1/receive/ab12cd_-9</span>";
        assert_eq!(receipt_secret(html).as_deref(), Some("ab12cd_-9"));
        assert_eq!(receipt_secret("<p>no link</p>"), None);
    }

    #[test]
    fn report_file_names_keep_only_letters_and_digits() {
        assert_eq!(file_name("/"), "root");
        assert_eq!(file_name("/admin/report?county=1"), "admin_report_county_1");
    }
}
