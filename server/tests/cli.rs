//! The `server` command line as an operator runs it: the real binary on a
//! temporary data directory (and, on PostgreSQL, a database of the test's
//! own), its exit codes, what it prints, and the files it writes. No server
//! is started; each command opens the ledger itself. Every test that
//! touches a ledger runs on both backends.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::{Value, json};
use server::store::postgres::ScratchDatabase;

/// Which ledger backend a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Db {
    Sqlite,
    Postgres,
}

/// Runs each named `fn(Db)` once per backend, as the tests `<name>::sqlite`
/// and `<name>::postgres`.
macro_rules! on_both_backends {
    ($($name:ident),+ $(,)?) => {
        $(
            mod $name {
                #[test]
                fn sqlite() {
                    super::$name(super::Db::Sqlite);
                }

                #[test]
                fn postgres() {
                    super::$name(super::Db::Postgres);
                }
            }
        )+
    };
}

on_both_backends!(
    a_campaign_runs_through_the_command_line,
    a_bad_school_file_imports_nothing_and_names_its_lines,
    a_poster_gets_a_code_of_its_own_and_prints_its_link,
    console_users_are_managed_from_the_command_line,
);

/// A new ledger for one test: a temporary data directory (the SQLite
/// file, and the test's other files) and, on PostgreSQL, a database of the
/// test's own.
struct TestLedger {
    dir: tempfile::TempDir,
    database: Option<ScratchDatabase>,
}

impl TestLedger {
    fn new(db: Db) -> Self {
        let database = match db {
            Db::Sqlite => None,
            Db::Postgres => Some(
                tokio::runtime::Runtime::new()
                    .expect("a runtime")
                    .block_on(ScratchDatabase::for_tests()),
            ),
        };
        Self {
            dir: tempfile::tempdir().expect("a temporary directory"),
            database,
        }
    }

    /// The temporary directory.
    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Runs an admin subcommand on this ledger.
    fn admin(&self, subcommand: &str, args: &[&str]) -> Output {
        let data_dir = self.path().to_str().expect("a UTF-8 temporary path");
        let mut all = vec![subcommand, "--data-dir", data_dir];
        if let Some(database) = &self.database {
            all.extend(["--database-url", database.url().as_str()]);
        }
        all.extend_from_slice(args);
        server(&all)
    }

    /// Runs `server admin <command>` on this ledger, with `input` on its
    /// standard input.
    fn console_admin(&self, command: &str, args: &[&str], input: &str) -> Output {
        let data_dir = self.path().to_str().expect("a UTF-8 temporary path");
        let mut all = vec!["admin", command, "--data-dir", data_dir];
        if let Some(database) = &self.database {
            all.extend(["--database-url", database.url().as_str()]);
        }
        all.extend_from_slice(args);
        let mut child = server_command(&all)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the server binary runs");
        child
            .stdin
            .take()
            .expect("a standard input")
            .write_all(input.as_bytes())
            .expect("the input is written");
        child.wait_with_output().expect("the command ends")
    }
}

/// The demo school list shipped in `assets/`.
fn demo_schools() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../assets/demo/schools.csv")
}

/// Runs `server` with `args`, without inheriting a ledger from the
/// environment (every test names its own).
fn server(args: &[&str]) -> Output {
    server_command(args)
        .output()
        .expect("the server binary runs")
}

/// The `server` command with `args`, not run yet.
fn server_command(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_server"));
    command
        .args(args)
        .env_remove("DREAMFAIRY_DATA_DIR")
        .env_remove("DATABASE_URL")
        .env("RUST_LOG", "warn");
    command
}

/// Asserts that `output` succeeded and answers its stdout as JSON.
fn json_of(what: &str, output: &Output) -> Value {
    assert!(
        output.status.success(),
        "{what} should succeed: {}\nstderr: {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap_or_else(|error| {
        panic!(
            "{what} should print JSON ({error}): {}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}

/// Runs `verify` on `export` and answers whether it passed and its report.
fn verify(export: &Path) -> (bool, Value) {
    let output = server(&["verify", export.to_str().expect("a UTF-8 path")]);
    let report: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|error| {
        panic!(
            "verify prints a JSON report ({error}); stderr: {}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    (output.status.success(), report)
}

/// Replaces the school of `book` in an exported `books.csv`, answering the
/// school it had and the one it has now.
fn change_school(books_csv: &Path, book: u64) -> (String, String) {
    let text = std::fs::read_to_string(books_csv).expect("books.csv is written");
    let mut changed = None;
    let lines: Vec<String> = text
        .lines()
        .map(|line| {
            let mut fields: Vec<&str> = line.split(',').collect();
            if fields.first() != Some(&book.to_string().as_str()) {
                return line.to_owned();
            }
            let had = fields[2].to_owned();
            let now = if had == "DEMO-001" {
                "DEMO-002"
            } else {
                "DEMO-001"
            };
            fields[2] = now;
            changed = Some((had, now.to_owned()));
            fields.join(",")
        })
        .collect();
    std::fs::write(books_csv, lines.join("\n") + "\n").expect("books.csv is rewritten");
    changed.unwrap_or_else(|| panic!("book {book} is in books.csv: {text}"))
}

fn a_campaign_runs_through_the_command_line(db: Db) {
    let data = TestLedger::new(db);
    let file = demo_schools();
    let imported = json_of(
        "import-schools",
        &data.admin("import-schools", &["--file", file.to_str().unwrap()]),
    );
    assert_eq!(
        (
            &imported["version"],
            &imported["first_book"],
            &imported["schools"]
        ),
        (&json!(1), &json!(1), &json!(40)),
        "the demo list is version 1, from book 1, with its 40 schools: {imported}"
    );

    // 30 participations, then a pledge of one book per 3 of them: 10 books
    // are funded and allocated at once.
    json_of("bulk-load", &data.admin("bulk-load", &["--count", "30"]));
    let pledged = json_of(
        "pledge",
        &data.admin(
            "pledge",
            &[
                "--sponsor",
                "示例赞助方（虚构）",
                "--participations-per-book",
                "3",
                "--books",
                "50",
            ],
        ),
    );
    assert_eq!(
        (
            &pledged["books_funded"],
            &pledged["books_allocated"],
            &pledged["books_pledged"]
        ),
        (&json!(10), &json!(10), &json!(50)),
        "the waiting participations fund 10 books at once: {pledged}"
    );

    let export = data.path().join("export");
    let exported = data.admin("export", &["--out", export.to_str().unwrap()]);
    assert!(
        exported.status.success(),
        "export succeeds: {}",
        String::from_utf8_lossy(&exported.stderr)
    );
    for file in [
        "books.csv",
        "pledges.csv",
        "school_lists.csv",
        "open-data.json",
    ] {
        assert!(export.join(file).is_file(), "the export has {file}");
    }
    let (passed, report) = verify(&export);
    assert!(passed, "a real run verifies: {report}");
    assert_eq!(report["books_checked"], json!(10), "every book is checked");

    let (had, now) = change_school(&export.join("books.csv"), 3);
    let (passed, report) = verify(&export);
    assert!(!passed, "a changed school fails verification: {report}");
    let differences = report["differences"].as_array().expect("a list");
    assert!(
        differences.contains(&json!({
            "kind": "school", "book": 3, "expected": had, "found": now
        })),
        "verify names book 3 and both schools: {report}"
    );
    assert!(
        differences
            .iter()
            .all(|difference| difference["book"] == json!(3)
                || difference["kind"] == json!("json_differs")),
        "nothing but book 3 (and the JSON copy, which still has the true school) is named: {report}"
    );

    let csv = data.admin("report", &["--format", "csv"]);
    assert!(csv.status.success(), "report succeeds");
    let csv = String::from_utf8(csv.stdout).expect("the CSV is UTF-8");
    assert!(csv.starts_with('\u{feff}'), "a BOM for Excel");
    let lines: Vec<&str> = csv.lines().collect();
    assert!(
        lines[1].starts_with("campaign,") && lines[1].ends_with(",10,0,0"),
        "the campaign line: 10 allocated, none shipped or received: {}",
        lines[1]
    );
    assert_eq!(
        lines
            .iter()
            .filter(|line| line.starts_with("school,"))
            .count(),
        40,
        "one line per school: {csv}"
    );
}

fn a_bad_school_file_imports_nothing_and_names_its_lines(db: Db) {
    let data = TestLedger::new(db);
    let demo = std::fs::read_to_string(demo_schools()).expect("the demo list");
    let mut lines: Vec<Vec<&str>> = demo
        .lines()
        .take(4)
        .map(|line| line.split(',').collect())
        .collect();
    // Line 3: pupils is not a number; line 4: a county code of 5 digits.
    lines[2][6] = "many";
    lines[3][5] = "52272";
    let lines: Vec<String> = lines.iter().map(|fields| fields.join(",")).collect();
    let bad = data.path().join("bad.csv");
    std::fs::write(&bad, lines.join("\n")).unwrap();

    let output = data.admin("import-schools", &["--file", bad.to_str().unwrap()]);
    assert!(
        !output.status.success(),
        "a bad file fails: {}",
        output.status
    );
    let errors = String::from_utf8_lossy(&output.stderr);
    for line in ["line 3", "line 4", "第 3 行", "第 4 行"] {
        assert!(errors.contains(line), "{line:?} is named: {errors}");
    }
    assert!(
        !errors.contains("line 2"),
        "the good line is not blamed: {errors}"
    );

    let report = json_of("report", &data.admin("report", &[]));
    assert_eq!(
        report["schools"],
        json!([]),
        "nothing was imported: {report}"
    );
}

#[test]
fn every_subcommand_explains_itself() {
    let cases: [(&str, &[&str]); 10] = [
        ("serve", &["--data-dir", "--public-url", "--database-url"]),
        ("bulk-load", &["--count", "--database-url"]),
        ("check-ledger", &["--data-dir", "--database-url"]),
        (
            "import-schools",
            &["--file", "--data-dir", "--database-url"],
        ),
        (
            "pledge",
            &[
                "--sponsor",
                "--participations-per-book",
                "--books",
                "--database-url",
            ],
        ),
        ("ship", &["--books", "--note", "--database-url"]),
        ("export", &["--out", "--database-url"]),
        ("verify", &["<EXPORT>"]),
        ("report", &["--format", "json", "csv", "--database-url"]),
        ("poster", &["--label", "--out", "--database-url"]),
    ];
    for (subcommand, mentions) in cases {
        let output = server(&[subcommand, "--help"]);
        assert!(output.status.success(), "{subcommand} --help succeeds");
        let help = String::from_utf8_lossy(&output.stdout);
        assert!(
            help.contains(&format!("Usage: server {subcommand}")),
            "{subcommand} --help shows its usage: {help}"
        );
        for mention in mentions {
            assert!(
                help.contains(mention),
                "{subcommand} --help mentions {mention}: {help}"
            );
        }
    }
}

/// The built game with its font subset: `DREAMFAIRY_DIST` (set by `cargo
/// xtask test`), else the workspace's `dist/`.
fn built_dist() -> PathBuf {
    let dist = std::env::var_os("DREAMFAIRY_DIST").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../dist"),
        PathBuf::from,
    );
    assert!(
        dist.join("fonts").is_dir(),
        "the poster needs the font subset in {}: run `cargo xtask dist`",
        dist.display()
    );
    dist
}

/// The text of a PDF, by poppler's `pdftotext`.
fn pdf_text(pdf: &Path) -> String {
    let output = Command::new("pdftotext")
        .args(["-layout", pdf.to_str().unwrap(), "-"])
        .output()
        .expect("pdftotext runs (Debian package poppler-utils; `cargo xtask test` installs it)");
    assert!(output.status.success(), "pdftotext reads the poster");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn a_poster_gets_a_code_of_its_own_and_prints_its_link(db: Db) {
    let data = TestLedger::new(db);
    let dist = built_dist();
    let poster = |out: &Path| {
        json_of(
            "poster",
            &data.admin(
                "poster",
                &[
                    "--label",
                    "三年级二班",
                    "--out",
                    out.to_str().unwrap(),
                    "--public-url",
                    "https://example.org/",
                    "--dist",
                    dist.to_str().unwrap(),
                ],
            ),
        )
    };
    let first_pdf = data.path().join("first.pdf");
    let first = poster(&first_pdf);
    let code = first["code"].as_str().expect("the code is printed");
    assert_eq!(
        server::domain::ShareCode::parse(code).map(|parsed| parsed.to_string()),
        Ok(code.to_owned()),
        "a canonical share code: {first}"
    );
    assert_eq!(
        first["share_url"],
        json!(format!("https://example.org/s/{code}")),
        "the link it credits"
    );
    let text = pdf_text(&first_pdf);
    assert!(
        text.contains(&format!("example.org/s/{code}")),
        "the short link is printed as text: {text}"
    );
    assert!(text.contains("三年级二班"), "and the class: {text}");

    let second = poster(&data.path().join("second.pdf"));
    assert_ne!(
        second["code"], first["code"],
        "each poster credits its own code"
    );
    let check = json_of("check-ledger", &data.admin("check-ledger", &[]));
    assert_eq!(check["problems"], json!([]), "the ledger is sound: {check}");
}

fn console_users_are_managed_from_the_command_line(db: Db) {
    let data = TestLedger::new(db);
    let password = "a long enough password\n";
    let boss = json_of(
        "admin create-user",
        &data.console_admin(
            "create-user",
            &["--user", "Boss", "--role", "admin", "--password-stdin"],
            password,
        ),
    );
    assert_eq!(boss["name"], "boss", "names are kept in lower case: {boss}");
    assert_eq!(boss["role"], "admin", "{boss}");
    let again = data.console_admin(
        "create-user",
        &["--user", "boss", "--role", "viewer", "--password-stdin"],
        password,
    );
    assert!(!again.status.success(), "a name is taken once");
    let short = data.console_admin(
        "create-user",
        &["--user", "ops", "--role", "operator", "--password-stdin"],
        "short\n",
    );
    assert!(!short.status.success(), "a short password is refused");
    json_of(
        "admin create-user",
        &data.console_admin(
            "create-user",
            &["--user", "ops", "--role", "operator", "--password-stdin"],
            password,
        ),
    );
    json_of(
        "admin set-password",
        &data.console_admin(
            "set-password",
            &["--user", "ops", "--password-stdin"],
            "another long password\n",
        ),
    );
    let last_admin = data.console_admin("disable-user", &["--user", "boss"], "");
    assert!(
        !last_admin.status.success(),
        "the last enabled admin cannot be disabled"
    );
    json_of(
        "admin disable-user",
        &data.console_admin("disable-user", &["--user", "ops"], ""),
    );
    let users = json_of(
        "admin list-users",
        &data.console_admin("list-users", &[], ""),
    );
    let summary: Vec<(Value, Value, Value)> = users
        .as_array()
        .expect("a list of users")
        .iter()
        .map(|user| {
            (
                user["name"].clone(),
                user["role"].clone(),
                user["disabled"].clone(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (json!("boss"), json!("admin"), json!(false)),
            (json!("ops"), json!("operator"), json!(true)),
        ],
        "both users, by name, ops disabled: {users}"
    );
}
