//! The public report: totals and books by province, county and school, with
//! progress against the schools' targets. Aggregates only: no player and no
//! participation appears in it.
//!
//! It is built from one [`SchoolTally`] per school (kept by the ledger in
//! the same transaction as the books they count), never by scanning books:
//! its cost depends on the number of schools only.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sim::wire::SchoolRef;

use crate::tables::CsvWriter;

/// One school's books, as tallied by the ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SchoolTally {
    /// Who and where the school is, as the latest list naming it says (its
    /// fields stand at the top level of the JSON).
    #[serde(flatten)]
    pub school: SchoolRef,
    /// Pupils enrolled (from the latest list naming it).
    pub pupils: u32,
    /// Its target (cap), in books.
    pub target_books: u32,
    /// Books allocated to it (in any state from allocated on).
    pub allocated: u64,
    /// Of those, books shipped (received ones included).
    pub shipped: u64,
    /// Of those, books the school confirmed.
    pub received: u64,
}

/// Books of a group of schools against their targets.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Progress {
    /// Schools in the group.
    pub schools: u64,
    /// The sum of their targets, in books.
    pub target_books: u64,
    /// Books allocated.
    pub allocated: u64,
    /// Books shipped (received ones included).
    pub shipped: u64,
    /// Books received.
    pub received: u64,
}

impl Progress {
    fn add(&mut self, school: &SchoolTally) {
        self.schools += 1;
        self.target_books += u64::from(school.target_books);
        self.allocated += school.allocated;
        self.shipped += school.shipped;
        self.received += school.received;
    }
}

/// The campaign-wide figures.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = ReportTotals)]
pub struct Totals {
    /// Participations counted.
    pub participations: u64,
    /// Books funded by the pledges so far.
    pub books_funded: u64,
    /// Books every pledge together will fund.
    pub books_pledged: u64,
    /// The schools' books.
    #[serde(flatten)]
    pub progress: Progress,
}

/// A province's or county's books.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AreaRow {
    /// The province.
    pub province: String,
    /// The county (empty on a province row).
    pub county: String,
    /// The county code (empty on a province row).
    pub county_code: String,
    /// Its schools' books.
    #[serde(flatten)]
    pub progress: Progress,
}

/// The campaign's sharing figures: codes only, no personal data.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SharingFigures {
    /// Participations that came through a share link.
    pub participations_via_share: u64,
    /// Players whose first counted participation came through a share link.
    pub referred_players: u64,
    /// The codes that referred the most players, most first.
    pub top_codes: Vec<TopCode>,
}

/// One of the top referring codes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TopCode {
    /// The code.
    pub code: String,
    /// Players it referred.
    pub referred_players: u64,
    /// Participations that came through it.
    pub participations: u64,
}

/// The whole report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Report {
    /// Campaign-wide figures.
    pub totals: Totals,
    /// By province, in name order.
    pub provinces: Vec<AreaRow>,
    /// By county, in province then county-code order.
    pub counties: Vec<AreaRow>,
    /// By school, in id order.
    pub schools: Vec<SchoolTally>,
    /// What share links brought.
    #[serde(default)]
    pub sharing: SharingFigures,
}

/// One line of the report's CSV form.
#[derive(Debug, Serialize)]
struct CsvRow<'a> {
    level: &'static str,
    province: &'a str,
    county: &'a str,
    county_code: &'a str,
    school_id: &'a str,
    school_name: &'a str,
    schools: u64,
    target_books: u64,
    allocated: u64,
    shipped: u64,
    received: u64,
}

impl<'a> CsvRow<'a> {
    fn area(level: &'static str, row: &'a AreaRow) -> Self {
        Self {
            level,
            province: &row.province,
            county: &row.county,
            county_code: &row.county_code,
            school_id: "",
            school_name: "",
            schools: row.progress.schools,
            target_books: row.progress.target_books,
            allocated: row.progress.allocated,
            shipped: row.progress.shipped,
            received: row.progress.received,
        }
    }
}

impl Report {
    /// Builds the report from the campaign figures and every school's tally.
    pub fn build(
        participations: u64,
        books_funded: u64,
        books_pledged: u64,
        mut schools: Vec<SchoolTally>,
        sharing: SharingFigures,
    ) -> Self {
        schools.sort_unstable_by(|a, b| a.school.id.cmp(&b.school.id));
        let mut totals = Totals {
            participations,
            books_funded,
            books_pledged,
            progress: Progress::default(),
        };
        let mut provinces: BTreeMap<&str, Progress> = BTreeMap::new();
        let mut counties: BTreeMap<(&str, &str), (&str, Progress)> = BTreeMap::new();
        for tally in &schools {
            let school = &tally.school;
            totals.progress.add(tally);
            provinces.entry(&school.province).or_default().add(tally);
            counties
                .entry((&school.province, &school.county_code))
                .or_insert_with(|| (&school.county, Progress::default()))
                .1
                .add(tally);
        }
        let provinces = provinces
            .into_iter()
            .map(|(province, progress)| AreaRow {
                province: province.to_owned(),
                county: String::new(),
                county_code: String::new(),
                progress,
            })
            .collect();
        let counties = counties
            .into_iter()
            .map(|((province, county_code), (county, progress))| AreaRow {
                province: province.to_owned(),
                county: county.to_owned(),
                county_code: county_code.to_owned(),
                progress,
            })
            .collect();
        Self {
            totals,
            provinces,
            counties,
            schools,
            sharing,
        }
    }

    /// The report as CSV (UTF-8 with a byte-order mark for Excel, text
    /// neutralised against formulas by [`CsvWriter`]): one line for the
    /// campaign, then one per province, county and school, told apart by
    /// the `level` column.
    pub fn to_csv(&self) -> Result<Vec<u8>, csv::Error> {
        let mut writer = CsvWriter::new(Vec::new())?;
        let total = &self.totals.progress;
        writer.serialize(CsvRow {
            level: "campaign",
            province: "",
            county: "",
            county_code: "",
            school_id: "",
            school_name: "",
            schools: total.schools,
            target_books: total.target_books,
            allocated: total.allocated,
            shipped: total.shipped,
            received: total.received,
        })?;
        for row in &self.provinces {
            writer.serialize(CsvRow::area("province", row))?;
        }
        for row in &self.counties {
            writer.serialize(CsvRow::area("county", row))?;
        }
        for tally in &self.schools {
            let school = &tally.school;
            writer.serialize(CsvRow {
                level: "school",
                province: &school.province,
                county: &school.county,
                county_code: &school.county_code,
                school_id: &school.id,
                school_name: &school.name,
                schools: 1,
                target_books: u64::from(tally.target_books),
                allocated: tally.allocated,
                shipped: tally.shipped,
                received: tally.received,
            })?;
        }
        Ok(writer.into_inner()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn school(id: &str, province: &str, county_code: &str, allocated: u64) -> SchoolTally {
        SchoolTally {
            school: SchoolRef {
                id: id.into(),
                name: format!("{id}小学"),
                province: province.into(),
                prefecture: "州".into(),
                county: format!("{county_code}县"),
                county_code: county_code.into(),
            },
            pupils: 100,
            target_books: 10,
            allocated,
            shipped: allocated / 2,
            received: allocated / 4,
        }
    }

    #[test]
    fn schools_add_up_by_county_province_and_campaign() {
        let report = Report::build(
            100,
            9,
            50,
            vec![
                school("c", "云南省", "530000", 4),
                school("a", "贵州省", "522634", 2),
                school("b", "贵州省", "522634", 3),
            ],
            SharingFigures::default(),
        );
        assert_eq!(
            report.totals.progress,
            Progress {
                schools: 3,
                target_books: 30,
                allocated: 9,
                shipped: 4,
                received: 1
            },
            "campaign totals"
        );
        let provinces: Vec<_> = report
            .provinces
            .iter()
            .map(|row| (row.province.as_str(), row.progress.allocated))
            .collect();
        assert_eq!(provinces, [("云南省", 4), ("贵州省", 5)], "by province");
        assert_eq!(report.counties.len(), 2, "two counties");
        let ids: Vec<_> = report
            .schools
            .iter()
            .map(|s| s.school.id.as_str())
            .collect();
        assert_eq!(ids, ["a", "b", "c"], "schools in id order");
        let csv = String::from_utf8(report.to_csv().unwrap()).unwrap();
        assert!(csv.starts_with('\u{feff}'), "a BOM for Excel");
        assert_eq!(
            csv.lines().count(),
            1 + 1 + 2 + 2 + 3,
            "header, campaign, 2 provinces, 2 counties, 3 schools"
        );
    }

    #[test]
    fn names_that_look_like_formulas_are_quoted_in_the_csv() {
        let mut tally = school("a", "=cmd|' /C calc'!A0", "522634", 2);
        tally.school.name = "=HYPERLINK(\"http://x\",\"y\")".into();
        let report = Report::build(1, 2, 2, vec![tally], SharingFigures::default());
        let csv = String::from_utf8(report.to_csv().unwrap()).unwrap();
        let school_line = csv.lines().last().expect("the school's line");
        assert_eq!(
            school_line,
            "school,'=cmd|' /C calc'!A0,522634县,522634,a,\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\",1,10,2,1,0",
            "the province and the name start with a quote, the numbers do not"
        );
    }
}
