//! The `server` command line: parses arguments, sets up logging, and runs
//! one of the subcommands. Everything else lives in the library.

use std::io::Write as _;
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand};
use server::admin::password::{Password, hash_blocking};
use server::allocation::{ListedSchool, OpenData, Pledge, verify};
use server::api::report::ReportFormat;
use server::domain::{Role, UserName};
use server::metrics::LedgerMetrics;
use server::share::Fonts;
use server::share::posters::make_poster;
use server::store::admin::{BookSelection, PasswordHash, ShipmentDetails};
use server::store::{self, Actor, DatabaseUrl, Location, ShipRequest, Store};
use server::{AppState, ServeConfig};
use tracing_subscriber::EnvFilter;

#[derive(Debug, Parser)]
#[command(version, about = "圆梦精灵图书馆 (Dream Fairy Library) server")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the game and the round API.
    Serve(ServeConfig),
    /// Append synthetic participations to a ledger, fast (benchmarks,
    /// rehearsals): SQLite's must be stopped; on PostgreSQL running
    /// servers wait for the load. Prints a JSON report.
    BulkLoad {
        #[command(flatten)]
        data: DataDir,
        /// Participations to append.
        #[arg(long)]
        count: u64,
        /// China days (ending today) to spread them over.
        #[arg(long, default_value_t = 30)]
        days: u32,
        /// Seed of the synthetic data.
        #[arg(long, default_value_t = 2019)]
        seed: u64,
    },
    /// Recount a ledger and check its invariants (SQLite's stopped; on
    /// PostgreSQL one snapshot, servers may run). Prints a JSON report;
    /// exits with 1 if a problem was found.
    CheckLedger {
        #[command(flatten)]
        data: DataDir,
    },
    /// Import a school list (CSV in UTF-8 or GBK, or XLSX) as a new version,
    /// applied from the next book without a school. A file with any bad line
    /// imports nothing; every bad line is listed. Safe while serving.
    ImportSchools {
        #[command(flatten)]
        data: DataDir,
        /// The school list file.
        #[arg(long)]
        file: PathBuf,
    },
    /// Add a sponsor pledge after the others: one book per
    /// `participations-per-book` participations, up to `books` books.
    /// Participations waiting for a sponsor fund books at once. Safe while
    /// serving.
    Pledge {
        #[command(flatten)]
        data: DataDir,
        /// The sponsor's name, as published.
        #[arg(long)]
        sponsor: String,
        /// Participations that fund one book.
        #[arg(long)]
        participations_per_book: u64,
        /// Most books the pledge funds.
        #[arg(long)]
        books: u64,
    },
    /// Mark allocated books shipped (`--books 1-100` or one number,
    /// `--school ID` or `--county CODE`): one shipment per school. Safe
    /// while serving.
    #[command(group(clap::ArgGroup::new("selection").required(true).args(["books", "school", "county"])))]
    Ship {
        #[command(flatten)]
        data: DataDir,
        /// The books, `FIRST-LAST` (inclusive) or `N`.
        #[arg(long, value_parser = parse_book_range)]
        books: Option<RangeInclusive<u64>>,
        /// Every allocated book of this school.
        #[arg(long)]
        school: Option<String>,
        /// Every allocated book of this county's schools (6-digit code).
        #[arg(long)]
        county: Option<String>,
        /// The carrier.
        #[arg(long)]
        carrier: Option<String>,
        /// The tracking number.
        #[arg(long)]
        tracking: Option<String>,
        /// A note kept with each shipment.
        #[arg(long)]
        note: Option<String>,
    },
    /// Manage the admin console's users (no user exists until one is
    /// created here). Each change is written to the audit log as the
    /// operating-system user.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Write the open data (every book with its school and status, the
    /// school list versions, the pledges) as CSV files and one JSON file.
    Export {
        #[command(flatten)]
        data: DataDir,
        /// Directory to write into (created if missing).
        #[arg(long)]
        out: PathBuf,
    },
    /// Copy a consistent snapshot of the ledger into one file while the
    /// servers serve: SQLite's file (restore by placing it, as
    /// `ledger.sqlite3`, in the data directory of a stopped server), or
    /// with `--database-url` a `pg_dump` custom-format archive (restore with
    /// `pg_restore --no-owner --exit-on-error --single-transaction -d DB FILE`
    /// into an empty database). Prints a JSON report.
    Backup {
        #[command(flatten)]
        data: DataDir,
        /// The backup file to write (replaced if it exists).
        #[arg(long)]
        out: PathBuf,
    },
    /// Re-derive every allocation of an export from its data alone and list
    /// every difference. Prints a JSON report; exits with 1 on a difference.
    Verify {
        /// The export directory.
        export: PathBuf,
    },
    /// Make an A4 QR poster for a classroom or an event: a new share code
    /// (printed) that credits the class or event, not a person, and its
    /// poster as a PDF. Safe while serving.
    Poster {
        #[command(flatten)]
        data: DataDir,
        /// The class or event printed on the poster and kept with its code,
        /// e.g. "三年级二班".
        #[arg(long)]
        label: Option<String>,
        /// The PDF to write.
        #[arg(long)]
        out: PathBuf,
        /// The server's public address, which the QR code and the printed
        /// link point at (`https://example.org`).
        #[arg(long, env = "DREAMFAIRY_PUBLIC_URL")]
        public_url: String,
        /// Directory of the built game, whose `fonts/` the poster uses.
        #[arg(long, env = "DREAMFAIRY_DIST", default_value = "dist")]
        dist: PathBuf,
    },
    /// Print the public report: totals and books by province, county and
    /// school against targets.
    Report {
        #[command(flatten)]
        data: DataDir,
        /// Output format.
        #[arg(long, value_enum, default_value_t = ReportFormat::Json)]
        format: ReportFormat,
    },
}

/// `server admin ...`.
#[derive(Debug, Subcommand)]
enum AdminCommand {
    /// Create a user; the password (at least 12 characters) is read from
    /// standard input, one line.
    CreateUser {
        #[command(flatten)]
        data: DataDir,
        /// The sign-in name (2-32 of a-z, 0-9, '.', '_', '-').
        #[arg(long)]
        user: String,
        /// viewer (reports, exports), operator (also imports, pledges,
        /// shipments) or admin (also users).
        #[arg(long)]
        role: Role,
        /// Read the password from standard input (required: a password
        /// never goes on the command line).
        #[arg(long, required = true)]
        password_stdin: bool,
    },
    /// Set a user's password (read from standard input, one line); ends
    /// every session of that user.
    SetPassword {
        #[command(flatten)]
        data: DataDir,
        /// The user.
        #[arg(long)]
        user: String,
        /// Read the password from standard input (required).
        #[arg(long, required = true)]
        password_stdin: bool,
    },
    /// Disable a user and end every session of it.
    DisableUser {
        #[command(flatten)]
        data: DataDir,
        /// The user.
        #[arg(long)]
        user: String,
    },
    /// List the users (JSON).
    ListUsers {
        #[command(flatten)]
        data: DataDir,
    },
}

/// Where the ledger of a subcommand is: the SQLite file in the data
/// directory, or the PostgreSQL database `--database-url` names.
#[derive(Debug, Args)]
struct DataDir {
    /// Data directory of the ledger (SQLite).
    #[arg(long, env = "DREAMFAIRY_DATA_DIR", default_value = "data")]
    data_dir: PathBuf,
    /// The ledger in PostgreSQL (`postgres://user@host/db`) instead of the
    /// SQLite file in the data directory.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true, value_parser = server::config::parse_database_url)]
    database_url: Option<DatabaseUrl>,
}

impl DataDir {
    /// Where the ledger is (the data directory is created if missing and
    /// used).
    fn location(&self) -> anyhow::Result<Location> {
        let location = Location::choose(self.database_url.as_ref(), &self.data_dir);
        if let Location::Sqlite { data_dir } = &location {
            std::fs::create_dir_all(data_dir)
                .with_context(|| format!("creating {}", data_dir.display()))?;
        }
        Ok(location)
    }

    /// Opens the ledger, for one admin command.
    async fn open(&self) -> anyhow::Result<Arc<dyn Store>> {
        let location = self.location()?;
        store::open_with_defaults(&location, LedgerMetrics::default())
            .await
            .with_context(|| format!("opening the ledger ({location})"))
    }
}

/// Parses `FIRST-LAST` or `N` into book numbers.
fn parse_book_range(text: &str) -> Result<RangeInclusive<u64>, String> {
    let number = |part: &str| {
        part.trim()
            .parse::<u64>()
            .map_err(|_| format!("{part:?} is not a book number"))
    };
    let (first, last) = match text.split_once('-') {
        Some((first, last)) => (number(first)?, number(last)?),
        None => (number(text)?, number(text)?),
    };
    if first == 0 || first > last {
        return Err(format!("{text}: books are numbered from 1, FIRST <= LAST"));
    }
    Ok(first..=last)
}

/// The operating-system user running this command, for the audit log:
/// `$USER`, else `$LOGNAME`, else the numeric user id.
fn os_actor() -> Actor {
    let name = ["USER", "LOGNAME"]
        .iter()
        .find_map(|key| std::env::var(key).ok().filter(|name| !name.is_empty()))
        .unwrap_or_else(|| format!("uid {}", rustix::process::getuid().as_raw()));
    Actor::os_user(name)
}

/// Reads a new password from standard input (one line, its line ending
/// removed) and hashes it.
fn password_from_stdin() -> anyhow::Result<PasswordHash> {
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .context("reading the password from standard input")?;
    let typed = line.strip_suffix('\n').unwrap_or(&line);
    let typed = typed.strip_suffix('\r').unwrap_or(typed);
    let password = Password::parse(typed)?;
    Ok(hash_blocking(&password)?)
}

/// `server admin ...`.
async fn admin(command: AdminCommand) -> anyhow::Result<()> {
    let actor = os_actor();
    match command {
        AdminCommand::CreateUser {
            data, user, role, ..
        } => {
            let name = UserName::parse(&user)?;
            let hash = password_from_stdin()?;
            let ledger = data.open().await?;
            let created = ledger.admin().create_user(name, role, hash, &actor).await;
            ledger.close().await?;
            print_json(&created?)?;
        }
        AdminCommand::SetPassword { data, user, .. } => {
            let name = UserName::parse(&user)?;
            let hash = password_from_stdin()?;
            let ledger = data.open().await?;
            let changed = ledger.admin().set_password(&name, hash, &actor).await;
            ledger.close().await?;
            print_json(&changed?)?;
        }
        AdminCommand::DisableUser { data, user } => {
            let name = UserName::parse(&user)?;
            let ledger = data.open().await?;
            let disabled = ledger.admin().set_disabled(&name, true, &actor).await;
            ledger.close().await?;
            print_json(&disabled?)?;
        }
        AdminCommand::ListUsers { data } => {
            let ledger = data.open().await?;
            let users = ledger.admin().users().await;
            ledger.close().await?;
            print_json(&users?)?;
        }
    }
    Ok(())
}

/// Prints `value` as pretty JSON on stdout.
fn print_json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

fn main() -> anyhow::Result<ExitCode> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let command = Cli::parse().command;
    let workers = match &command {
        Command::Serve(config) => config.worker_threads(),
        _ => server::config::available_cores(),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(run(command))
}

async fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Serve(config) => serve(config).await?,
        Command::BulkLoad {
            data,
            count,
            days,
            seed,
        } => {
            let report =
                store::bulk_load(&data.location()?, count, days, server::now_unix_ms(), seed)
                    .await?;
            println!("{}", serde_json::to_string(&report)?);
        }
        Command::CheckLedger { data } => {
            let check = store::check(&data.location()?).await?;
            println!("{}", serde_json::to_string_pretty(&check)?);
            if !check.problems.is_empty() {
                return Ok(ExitCode::FAILURE);
            }
        }
        Command::ImportSchools { data, file } => return import_schools(&data, &file).await,
        Command::Admin { command } => admin(command).await?,
        Command::Pledge {
            data,
            sponsor,
            participations_per_book,
            books,
        } => {
            let pledge = Pledge {
                sponsor,
                participations_per_book,
                book_cap: books,
            };
            let ledger = data.open().await?;
            let outcome = ledger.pledge(pledge, os_actor()).await;
            ledger.close().await?;
            print_json(&outcome?)?;
        }
        Command::Ship {
            data,
            books,
            school,
            county,
            carrier,
            tracking,
            note,
        } => {
            let selection = match (books, school, county) {
                (Some(books), _, _) => BookSelection::Books(books),
                (None, Some(school), _) => BookSelection::School(school),
                (None, None, Some(county)) => BookSelection::County(county),
                (None, None, None) => anyhow::bail!("--books, --school or --county"),
            };
            let request = ShipRequest {
                selection,
                details: ShipmentDetails {
                    carrier,
                    tracking,
                    shipped_on: None,
                    note,
                },
            };
            let ledger = data.open().await?;
            let outcome = ledger.ship(request, os_actor()).await;
            ledger.close().await?;
            print_json(&outcome?)?;
        }
        Command::Export { data, out } => {
            let ledger = data.open().await?;
            let open_data = ledger.export().await;
            ledger.close().await?;
            let open_data = open_data?;
            open_data.write_dir(&out)?;
            tracing::info!(books = open_data.books.len(), out = %out.display(), "open data written");
        }
        Command::Backup { data, out } => {
            // Not `data.location()`: a backup never creates a data folder.
            let location = Location::choose(data.database_url.as_ref(), &data.data_dir);
            let report = store::backup(&location, &out)
                .await
                .with_context(|| format!("backing up the ledger ({location})"))?;
            println!("{}", serde_json::to_string_pretty(&report)?);
        }
        Command::Verify { export } => {
            let open_data = OpenData::read_csv_dir(&export)?;
            let mut report = verify(&open_data);
            // The JSON document must say the same as the CSV files.
            if OpenData::read_json_dir(&export)? != open_data {
                report
                    .differences
                    .push(server::allocation::Difference::JsonDiffers);
            }
            print_json(&report)?;
            if !report.passed() {
                return Ok(ExitCode::FAILURE);
            }
        }
        Command::Poster {
            data,
            label,
            out,
            public_url,
            dist,
        } => {
            let fonts = Fonts::from_dist(&dist)?;
            let ledger = data.open().await?;
            let poster = make_poster(ledger.as_ref(), fonts, &public_url, label, os_actor()).await;
            ledger.close().await?;
            let poster = poster?;
            std::fs::write(&out, &poster.pdf)
                .with_context(|| format!("writing {}", out.display()))?;
            print_json(&serde_json::json!({
                "code": poster.code.to_string(),
                "share_url": poster.share_url,
                "poster": out.display().to_string(),
            }))?;
        }
        Command::Report { data, format } => {
            let ledger = data.open().await?;
            let report = ledger.report().await;
            ledger.close().await?;
            let report = report?;
            match format {
                ReportFormat::Json => print_json(&report)?,
                ReportFormat::Csv => std::io::stdout().write_all(&report.to_csv()?)?,
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `server import-schools`: parse, then import, or list every bad line.
async fn import_schools(data: &DataDir, file: &Path) -> anyhow::Result<ExitCode> {
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let file_name = file.file_name().map_or_else(
        || file.display().to_string(),
        |name| name.to_string_lossy().into_owned(),
    );
    let schools = match server::schools::parse_school_file(&file_name, &bytes) {
        Ok(schools) => schools,
        Err(error) => {
            eprintln!("{error}");
            return Ok(ExitCode::FAILURE);
        }
    };
    let listed: Vec<ListedSchool> = schools.iter().map(ListedSchool::from).collect();
    let ledger = data.open().await?;
    let outcome = ledger
        .import_schools(&file_name, listed, None, os_actor())
        .await;
    ledger.close().await?;
    print_json(&outcome?)?;
    Ok(ExitCode::SUCCESS)
}

async fn serve(config: ServeConfig) -> anyhow::Result<()> {
    let state = AppState::open(&config)
        .await
        .context("opening the server state")?;
    let listener = tokio::net::TcpListener::bind(config.addr)
        .await
        .with_context(|| format!("binding {}", config.addr))?;
    let addr = listener.local_addr()?;
    // Harnesses read this exact first line to learn the port.
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "listening on http://{addr}")?;
    stdout.flush()?;
    drop(stdout);
    tracing::info!(%addr, ledger = %config.ledger_location(), dist = %config.dist.display(), workers = config.worker_threads(), "serving");
    server::serve(listener, state, shutdown_signal()).await?;
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}
