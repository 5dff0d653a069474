//! The demo data in `assets/demo/`: invented schools in real poverty
//! counties, checked against the reference list in `../shared/data/`.

use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;

use server::schools::parse_school_file;

/// The workspace root (the server crate's parent).
fn workspace() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest
        .parent()
        .expect("the server crate sits in the workspace")
        .to_path_buf()
}

/// One county of the 2014 list of national-level poverty counties.
#[derive(Debug, serde::Deserialize)]
struct PovertyCounty {
    county_code: String,
    county_name: String,
    province: String,
    prefecture: String,
}

/// The reference list, by county code.
fn poverty_counties() -> HashMap<String, PovertyCounty> {
    let path = workspace().join("../shared/data/poverty_counties_832.csv");
    let mut reader = csv::Reader::from_path(&path)
        .unwrap_or_else(|error| panic!("reading {}: {error}", path.display()));
    let counties: HashMap<String, PovertyCounty> = reader
        .deserialize::<PovertyCounty>()
        .map(|county| {
            let county = county.expect("a well-formed reference row");
            (county.county_code.clone(), county)
        })
        .collect();
    assert_eq!(counties.len(), 832, "the reference list is complete");
    counties
}

#[test]
fn demo_schools_are_marked_samples_in_real_poverty_counties() {
    let path = workspace().join("assets/demo/schools.csv");
    let bytes =
        std::fs::read(&path).unwrap_or_else(|error| panic!("reading {}: {error}", path.display()));
    let schools = parse_school_file("schools.csv", &bytes)
        .unwrap_or_else(|error| panic!("the demo list imports: {error}"));
    assert_eq!(schools.len(), 40, "forty sample schools");

    let counties = poverty_counties();
    for school in &schools {
        assert!(
            school.id.starts_with("DEMO-") && school.name.ends_with("示例小学"),
            "{} {} is visibly a sample",
            school.id,
            school.name
        );
        let code = school.county_code.to_string();
        let county = counties
            .get(&code)
            .unwrap_or_else(|| panic!("{}: {code} is not a poverty county", school.id));
        assert_eq!(
            (&school.county, &school.province, &school.prefecture),
            (&county.county_name, &county.province, &county.prefecture),
            "{}: the place matches county {code} in the reference list",
            school.id
        );
    }
    let provinces: BTreeSet<&str> = schools.iter().map(|s| s.province.as_str()).collect();
    assert!(
        provinces.len() >= 10,
        "spread over many provinces, got {provinces:?}"
    );
}

#[test]
fn demo_pledges_are_invented_sponsors_with_usable_numbers() {
    #[derive(Debug, serde::Deserialize)]
    struct Pledge {
        sponsor: String,
        participations_per_book: u32,
        book_cap: u32,
    }
    let path = workspace().join("assets/demo/pledges.csv");
    let mut reader = csv::Reader::from_path(&path)
        .unwrap_or_else(|error| panic!("reading {}: {error}", path.display()));
    let pledges: Vec<Pledge> = reader
        .deserialize()
        .collect::<Result<_, _>>()
        .expect("sponsor,participations_per_book,book_cap rows");
    assert!(
        (2..=3).contains(&pledges.len()),
        "two or three sample sponsors, got {pledges:?}"
    );
    for pledge in &pledges {
        assert!(
            pledge.sponsor.contains("示例") && pledge.sponsor.contains("invented"),
            "{:?} is visibly invented",
            pledge.sponsor
        );
        assert!(
            pledge.participations_per_book > 0 && pledge.book_cap > 0,
            "{pledge:?} funds books"
        );
    }
}
