//! The open-data export, and [`verify`], which re-derives every allocation
//! from it alone.
//!
//! An export is a directory of CSV files (UTF-8 with a byte-order mark, so
//! Excel shows the Chinese names) and the same data as one JSON document:
//!
//! | file | one row per |
//! |---|---|
//! | `campaign.csv` | the campaign: participations counted |
//! | `pledges.csv` | pledge, in the order they are used |
//! | `school_list_versions.csv` | school list version: the first book it applies to |
//! | `school_lists.csv` | school of a version: pupils, target (the cap) |
//! | `books.csv` | funded book: status, school, the list version that chose it |
//! | `open-data.json` | all of the above |
//!
//! The CSV files are written by the server's one [`CsvWriter`]: text that
//! a spreadsheet would run as a formula (a school named `=HYPERLINK(…)`)
//! gets a `'` in front, and [`OpenData::read_csv_dir`] removes exactly
//! that quote again, so what `verify` reads is what was exported.
//!
//! The rule `verify` applies is the whole rule of the campaign: book `k` is
//! funded when participation `threshold(k)` of the pledges is counted
//! ([`super::schedule`]); it goes to the `k`-th seat of the capped
//! Sainte-Laguë apportionment ([`super::apportion`]), under the latest list
//! version whose `first_book` is at most `k`.

use std::collections::BTreeSet;
use std::fmt;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read as _, Write as _};
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sim::wire::SchoolRef;

use super::apportion::{Apportionment, Candidate};
use super::schedule::{Pledge, PledgeSchedule};
use crate::tables::{self, CsvWriter};

/// Everything needed to re-derive the allocation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenData {
    /// Participations counted when the export was made.
    pub participations: u64,
    /// The pledges, in the order they are used.
    pub pledges: Vec<Pledge>,
    /// Every version of the school list, oldest first.
    pub school_lists: Vec<SchoolListVersion>,
    /// Every funded book, by number.
    pub books: Vec<BookRecord>,
}

/// One version of the school list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchoolListVersion {
    /// The version number, from 1.
    pub version: u32,
    /// The first book this list allocates (the first book still unallocated
    /// when it was imported).
    pub first_book: u64,
    /// Its schools.
    pub schools: Vec<ListedSchool>,
}

/// A school of a list version, as published.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListedSchool {
    /// Who and where the school is (its fields stand at the top level of
    /// the JSON; [`ListRow`] spells them out for the CSV file).
    #[serde(flatten)]
    pub school: SchoolRef,
    /// Pupils enrolled (the weight).
    pub pupils: u32,
    /// Books it may receive in total (the cap).
    pub target_books: u32,
}

impl From<&crate::schools::School> for ListedSchool {
    fn from(school: &crate::schools::School) -> Self {
        Self {
            school: school.to_wire(),
            pupils: school.pupils,
            target_books: school.target_books,
        }
    }
}

impl ListedSchool {
    /// The school as the apportionment sees it.
    pub fn candidate(&self) -> Candidate {
        Candidate::new(self.school.id.clone(), self.pupils, self.target_books)
    }
}

/// A school of 贵州省雷山县 named after `id`, for tests.
#[cfg(test)]
pub(crate) fn sample_school(id: &str, pupils: u32, target_books: u32) -> ListedSchool {
    ListedSchool {
        school: SchoolRef {
            id: id.into(),
            name: format!("{id} 希望小学"),
            province: "贵州省".into(),
            prefecture: "黔东南苗族侗族自治州".into(),
            county: "雷山县".into(),
            county_code: "522634".into(),
        },
        pupils,
        target_books,
    }
}

/// Where a book is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BookState {
    /// Funded, but no school had room for it yet.
    Funded,
    /// Funded and allocated to a school.
    Allocated,
    /// On its way to the school.
    Shipped,
    /// The school confirmed receipt.
    Received,
}

impl BookState {
    /// The state's name in the export and the database.
    pub fn name(self) -> &'static str {
        match self {
            Self::Funded => "funded",
            Self::Allocated => "allocated",
            Self::Shipped => "shipped",
            Self::Received => "received",
        }
    }

    /// The state named `name` by [`Self::name`].
    pub fn from_name(name: &str) -> Option<Self> {
        [Self::Funded, Self::Allocated, Self::Shipped, Self::Received]
            .into_iter()
            .find(|state| state.name() == name)
    }
}

/// One funded book.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookRecord {
    /// The book's number, from 1.
    pub book: u64,
    /// Where it is in its life.
    pub status: BookState,
    /// The school it is allocated to (none while [`BookState::Funded`]).
    pub school: Option<String>,
    /// The list version that allocated it.
    pub list_version: Option<u32>,
}

/// The school of each of the first `books` books, re-derived from the list
/// versions alone (`None` for a book no school had room for). This is the
/// batch computation: one fresh apportionment, lists applied at their first
/// book.
pub fn derive_allocation(lists: &[SchoolListVersion], books: u64) -> Vec<Option<(String, u32)>> {
    let mut apportionment = Apportionment::new();
    let mut pending = lists.iter().peekable();
    let mut current = None;
    (1..=books)
        .map(|book| {
            while let Some(list) = pending.next_if(|list| list.first_book <= book) {
                apportionment
                    .apply_list(list.schools.iter().map(ListedSchool::candidate).collect());
                current = Some(list.version);
            }
            let school = apportionment.next_seat()?.school.clone();
            Some((school, current?))
        })
        .collect()
}

/// One way the export disagrees with the rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Difference {
    /// A pledge is invalid.
    InvalidPledge {
        /// Its position, from 1.
        pledge: usize,
        /// Why.
        reason: String,
    },
    /// List versions are not numbered upward, or a later one applies from
    /// an earlier book.
    ListOutOfOrder {
        /// The version out of place.
        version: u32,
    },
    /// The pledges fund another number of books at this participation count.
    FundedBooks {
        /// Books the rule funds.
        expected: u64,
        /// Books in the export.
        found: u64,
    },
    /// The books are not numbered 1, 2, 3...
    BookNumbering {
        /// The position in the export, from 1.
        position: u64,
        /// The number found there.
        found: u64,
    },
    /// A book went to another school than the rule gives.
    School {
        /// The book.
        book: u64,
        /// The school the rule gives (none: no school had room).
        expected: Option<String>,
        /// The school in the export.
        found: Option<String>,
    },
    /// A book names another list version than the one in effect.
    ListVersion {
        /// The book.
        book: u64,
        /// The version in effect.
        expected: Option<u32>,
        /// The version in the export.
        found: Option<u32>,
    },
    /// The JSON document of the export says something else than its CSV
    /// files.
    JsonDiffers,
    /// A book's status does not fit whether it has a school.
    Status {
        /// The book.
        book: u64,
        /// Its status.
        status: BookState,
    },
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let or_none = |school: &Option<String>| school.clone().unwrap_or_else(|| "(none)".into());
        match self {
            Self::InvalidPledge { pledge, reason } => write!(f, "pledge {pledge}: {reason}"),
            Self::ListOutOfOrder { version } => {
                write!(f, "school list version {version} is out of order")
            }
            Self::FundedBooks { expected, found } => {
                write!(
                    f,
                    "the pledges fund {expected} books, the export lists {found}"
                )
            }
            Self::BookNumbering { position, found } => {
                write!(
                    f,
                    "row {position} is book {found}, expected book {position}"
                )
            }
            Self::School {
                book,
                expected,
                found,
            } => write!(
                f,
                "book {book}: the rule gives school {}, the export says {}",
                or_none(expected),
                or_none(found)
            ),
            Self::ListVersion {
                book,
                expected,
                found,
            } => write!(
                f,
                "book {book}: allocated under list version {expected:?}, the export says {found:?}"
            ),
            Self::JsonDiffers => write!(f, "open-data.json differs from the CSV files"),
            Self::Status { book, status } => write!(
                f,
                "book {book}: status {} does not fit its school",
                status.name()
            ),
        }
    }
}

/// What [`verify`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct VerifyReport {
    /// Books checked.
    pub books_checked: u64,
    /// Every difference found; empty when the export follows the rule.
    pub differences: Vec<Difference>,
}

impl VerifyReport {
    /// True when the export follows the rule in every book.
    pub fn passed(&self) -> bool {
        self.differences.is_empty()
    }
}

/// Re-derives every allocation from `data` alone and lists every difference
/// with what it publishes.
pub fn verify(data: &OpenData) -> VerifyReport {
    let mut differences = Vec::new();
    let mut schedule = PledgeSchedule::default();
    for (index, pledge) in data.pledges.iter().enumerate() {
        if let Err(error) = schedule.push(pledge.clone()) {
            differences.push(Difference::InvalidPledge {
                pledge: index + 1,
                reason: error.to_string(),
            });
        }
    }
    for pair in data.school_lists.windows(2) {
        if pair[1].version <= pair[0].version || pair[1].first_book < pair[0].first_book {
            differences.push(Difference::ListOutOfOrder {
                version: pair[1].version,
            });
        }
    }
    let funded = schedule.books_funded(data.participations);
    let listed = data.books.len() as u64;
    if funded != listed {
        differences.push(Difference::FundedBooks {
            expected: funded,
            found: listed,
        });
    }

    let expected = derive_allocation(&data.school_lists, listed);
    for ((position, record), expected) in (1u64..).zip(&data.books).zip(expected) {
        if record.book != position {
            differences.push(Difference::BookNumbering {
                position,
                found: record.book,
            });
        }
        let (school, version) = expected.unzip();
        if record.school != school {
            differences.push(Difference::School {
                book: position,
                expected: school,
                found: record.school.clone(),
            });
        } else if record.list_version != version {
            differences.push(Difference::ListVersion {
                book: position,
                expected: version,
                found: record.list_version,
            });
        }
        if (record.status == BookState::Funded) != record.school.is_none() {
            differences.push(Difference::Status {
                book: position,
                status: record.status,
            });
        }
    }
    VerifyReport {
        books_checked: listed,
        differences,
    }
}

/// Why an export could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum OpenDataError {
    /// A file could not be created, opened, read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A CSV file is malformed.
    #[error("{path}: {source}")]
    Csv {
        /// The file.
        path: PathBuf,
        /// The underlying error (it names the line).
        source: csv::Error,
    },
    /// The JSON document is malformed.
    #[error("{path}: {source}")]
    Json {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: serde_json::Error,
    },
    /// A list row names a version not in `school_list_versions.csv`.
    #[error("school_lists.csv names version {0}, which school_list_versions.csv does not list")]
    UnknownVersion(u32),
}

/// `campaign.csv`.
#[derive(Debug, Serialize, Deserialize)]
struct CampaignRow {
    participations: u64,
}

/// `pledges.csv`.
#[derive(Debug, Serialize, Deserialize)]
struct PledgeRow {
    order: usize,
    sponsor: String,
    participations_per_book: u64,
    book_cap: u64,
}

/// `school_list_versions.csv`.
#[derive(Debug, Serialize, Deserialize)]
struct VersionRow {
    version: u32,
    first_book: u64,
    schools: usize,
}

/// `school_lists.csv`: a version number, then the [`ListedSchool`] fields
/// (spelled out: the `csv` crate cannot flatten a nested struct).
#[derive(Debug, Serialize, Deserialize)]
struct ListRow {
    version: u32,
    id: String,
    name: String,
    province: String,
    prefecture: String,
    county: String,
    county_code: String,
    pupils: u32,
    target_books: u32,
}

impl ListRow {
    fn new(version: u32, listed: &ListedSchool) -> Self {
        let ListedSchool {
            school:
                SchoolRef {
                    id,
                    name,
                    province,
                    prefecture,
                    county,
                    county_code,
                },
            pupils,
            target_books,
        } = listed.clone();
        Self {
            version,
            id,
            name,
            province,
            prefecture,
            county,
            county_code,
            pupils,
            target_books,
        }
    }

    fn into_school(self) -> ListedSchool {
        let Self {
            version: _,
            id,
            name,
            province,
            prefecture,
            county,
            county_code,
            pupils,
            target_books,
        } = self;
        ListedSchool {
            school: SchoolRef {
                id,
                name,
                province,
                prefecture,
                county,
                county_code,
            },
            pupils,
            target_books,
        }
    }
}

impl OpenData {
    /// The JSON document's file name in an export directory.
    pub const JSON_FILE: &'static str = "open-data.json";

    /// Writes the CSV files and the JSON document into `dir` (created if
    /// missing).
    pub fn write_dir(&self, dir: &Path) -> Result<(), OpenDataError> {
        std::fs::create_dir_all(dir).map_err(|source| OpenDataError::Io {
            path: dir.to_owned(),
            source,
        })?;
        write_csv(
            &dir.join("campaign.csv"),
            [CampaignRow {
                participations: self.participations,
            }],
        )?;
        write_csv(
            &dir.join("pledges.csv"),
            self.pledges
                .iter()
                .enumerate()
                .map(|(index, pledge)| PledgeRow {
                    order: index + 1,
                    sponsor: pledge.sponsor.clone(),
                    participations_per_book: pledge.participations_per_book,
                    book_cap: pledge.book_cap,
                }),
        )?;
        write_csv(
            &dir.join("school_list_versions.csv"),
            self.school_lists.iter().map(|list| VersionRow {
                version: list.version,
                first_book: list.first_book,
                schools: list.schools.len(),
            }),
        )?;
        write_csv(
            &dir.join("school_lists.csv"),
            self.school_lists.iter().flat_map(|list| {
                list.schools
                    .iter()
                    .map(|school| ListRow::new(list.version, school))
            }),
        )?;
        write_csv(&dir.join("books.csv"), self.books.iter())?;
        let path = dir.join(Self::JSON_FILE);
        let file = create(&path)?;
        let mut writer = BufWriter::new(file);
        serde_json::to_writer_pretty(&mut writer, self).map_err(|source| OpenDataError::Json {
            path: path.clone(),
            source,
        })?;
        writer
            .flush()
            .map_err(|source| OpenDataError::Io { path, source })
    }

    /// Reads the CSV files of an export directory.
    pub fn read_csv_dir(dir: &Path) -> Result<Self, OpenDataError> {
        let participations = read_csv::<CampaignRow>(&dir.join("campaign.csv"))?
            .first()
            .map_or(0, |row| row.participations);
        let mut pledge_rows = read_csv::<PledgeRow>(&dir.join("pledges.csv"))?;
        pledge_rows.sort_by_key(|row| row.order);
        let pledges = pledge_rows
            .into_iter()
            .map(|row| Pledge {
                sponsor: row.sponsor,
                participations_per_book: row.participations_per_book,
                book_cap: row.book_cap,
            })
            .collect();
        let mut school_lists: Vec<SchoolListVersion> =
            read_csv::<VersionRow>(&dir.join("school_list_versions.csv"))?
                .into_iter()
                .map(|row| SchoolListVersion {
                    version: row.version,
                    first_book: row.first_book,
                    schools: Vec::with_capacity(row.schools),
                })
                .collect();
        for row in read_csv::<ListRow>(&dir.join("school_lists.csv"))? {
            let list = school_lists
                .iter_mut()
                .find(|list| list.version == row.version)
                .ok_or(OpenDataError::UnknownVersion(row.version))?;
            list.schools.push(row.into_school());
        }
        let books = read_csv(&dir.join("books.csv"))?;
        Ok(Self {
            participations,
            pledges,
            school_lists,
            books,
        })
    }

    /// Reads the JSON document of an export directory.
    pub fn read_json_dir(dir: &Path) -> Result<Self, OpenDataError> {
        let path = dir.join(Self::JSON_FILE);
        let file = open(&path)?;
        serde_json::from_reader(BufReader::new(file))
            .map_err(|source| OpenDataError::Json { path, source })
    }

    /// The school ids of every list version (for checks and reports).
    pub fn school_ids(&self) -> BTreeSet<&str> {
        self.school_lists
            .iter()
            .flat_map(|list| list.schools.iter().map(|listed| listed.school.id.as_str()))
            .collect()
    }
}

fn create(path: &Path) -> Result<File, OpenDataError> {
    File::create(path).map_err(|source| OpenDataError::Io {
        path: path.to_owned(),
        source,
    })
}

fn open(path: &Path) -> Result<File, OpenDataError> {
    File::open(path).map_err(|source| OpenDataError::Io {
        path: path.to_owned(),
        source,
    })
}

/// Writes `rows` as CSV with a header line, through the server's one
/// [`CsvWriter`] (a byte-order mark; text that a spreadsheet would run as a
/// formula is quoted).
fn write_csv<T: Serialize>(
    path: &Path,
    rows: impl IntoIterator<Item = T>,
) -> Result<(), OpenDataError> {
    let io = |source| OpenDataError::Io {
        path: path.to_owned(),
        source,
    };
    let csv_error = |source| OpenDataError::Csv {
        path: path.to_owned(),
        source,
    };
    let mut writer = CsvWriter::new(BufWriter::new(create(path)?)).map_err(io)?;
    for row in rows {
        writer.serialize(row).map_err(csv_error)?;
    }
    writer.into_inner().map_err(io)?.flush().map_err(io)
}

/// Reads every row of a CSV file written by [`write_csv`] (the byte-order
/// mark is optional), removing the quotes it put before formula-like text.
fn read_csv<T: DeserializeOwned>(path: &Path) -> Result<Vec<T>, OpenDataError> {
    let mut bytes = Vec::new();
    open(path)?
        .read_to_end(&mut bytes)
        .map_err(|source| OpenDataError::Io {
            path: path.to_owned(),
            source,
        })?;
    tables::read_csv(&bytes).map_err(|source| OpenDataError::Csv {
        path: path.to_owned(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two books funded by one pledge, both for the only school, whose
    /// texts look like formulas.
    fn formula_like_campaign() -> OpenData {
        let mut school = sample_school("A", 10, 5);
        school.school.name = "=HYPERLINK(\"http://x\",\"y\")".into();
        school.school.province = "+86 贵州省".into();
        school.school.prefecture = "'=already quoted".into();
        school.school.county = "-5 县".into();
        let book = |book| BookRecord {
            book,
            status: BookState::Allocated,
            school: Some("A".into()),
            list_version: Some(1),
        };
        OpenData {
            participations: 2,
            pledges: vec![Pledge {
                sponsor: "@sponsor".into(),
                participations_per_book: 1,
                book_cap: 2,
            }],
            school_lists: vec![SchoolListVersion {
                version: 1,
                first_book: 1,
                schools: vec![school],
            }],
            books: vec![book(1), book(2)],
        }
    }

    #[test]
    fn formula_like_names_are_quoted_in_the_csv_and_verify_still_passes() {
        let data = formula_like_campaign();
        assert!(
            verify(&data).passed(),
            "the campaign itself follows the rule"
        );
        let dir = tempfile::tempdir().unwrap();
        data.write_dir(dir.path()).unwrap();

        let lists = std::fs::read_to_string(dir.path().join("school_lists.csv")).unwrap();
        let mut reader = csv::Reader::from_reader(lists.trim_start_matches('\u{feff}').as_bytes());
        let fields: Vec<String> = reader
            .records()
            .flat_map(|record| {
                record
                    .unwrap()
                    .iter()
                    .map(str::to_owned)
                    .collect::<Vec<_>>()
            })
            .collect();
        for field in &fields {
            assert!(
                !tables::starts_like_formula(field),
                "{field:?} would run as a formula in a spreadsheet"
            );
        }
        assert!(
            fields.contains(&"'=HYPERLINK(\"http://x\",\"y\")".to_owned()),
            "the name is quoted, not dropped: {fields:?}"
        );

        let published = OpenData::read_csv_dir(dir.path()).unwrap();
        assert_eq!(published, data, "every text reads back exactly");
        let report = verify(&published);
        assert!(report.passed(), "verify passes: {:?}", report.differences);
        assert_eq!(
            OpenData::read_json_dir(dir.path()).unwrap(),
            data,
            "JSON needs no quoting"
        );
    }
}
