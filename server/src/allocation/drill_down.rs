//! The drill-down report of a period: national → province → prefecture →
//! county → school, each level a table of the areas (or schools) below it
//! with their books allocated, shipped and received against their
//! targets. Computed once here, from the schools' tallies and the per-day
//! county and school tallies (never from the books), and rendered twice:
//! the admin console's report page and the public `/report`.
//!
//! For the whole campaign the running per-school tallies answer; for any
//! other period the per-day tallies of the period are added up (at most
//! one row per county and day).

use std::collections::BTreeMap;

use crate::admin::chart::Bar;
use crate::domain::Period;
use crate::store::StoreError;
use crate::store::admin::{AdminStore, AreaFilter, CountySummary, Movement};
use crate::tables::{Cell, Column, ColumnKind, Filter, Table};

/// A place in the drill-down: the area whose parts a report lists.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Level {
    /// The whole country: its provinces.
    National,
    /// A province: its prefectures.
    Province {
        /// The province's name.
        province: String,
    },
    /// A prefecture: its counties.
    Prefecture {
        /// Its province's name.
        province: String,
        /// The prefecture's name.
        prefecture: String,
    },
    /// A county: its schools.
    County {
        /// The county's GB/T 2260 code.
        county_code: String,
    },
}

impl Level {
    /// The level a query names: a county code wins, then a prefecture
    /// (with its province), then a province; nothing is national.
    pub fn from_query(
        province: Option<&str>,
        prefecture: Option<&str>,
        county: Option<&str>,
    ) -> Self {
        let given = |text: Option<&str>| {
            text.map(str::trim)
                .filter(|text| !text.is_empty())
                .map(str::to_owned)
        };
        match (given(province), given(prefecture), given(county)) {
            (_, _, Some(county_code)) => Self::County { county_code },
            (Some(province), Some(prefecture), None) => Self::Prefecture {
                province,
                prefecture,
            },
            (Some(province), None, None) => Self::Province { province },
            _ => Self::National,
        }
    }

    /// The query string that names this level (empty for national),
    /// without a leading `?` or `&`.
    pub fn query(&self) -> String {
        let pairs: Vec<(&str, &str)> = match self {
            Self::National => vec![],
            Self::Province { province } => vec![("province", province)],
            Self::Prefecture {
                province,
                prefecture,
            } => vec![("province", province), ("prefecture", prefecture)],
            Self::County { county_code } => vec![("county", county_code)],
        };
        serde_urlencoded::to_string(pairs).unwrap_or_default()
    }

    /// The schools of this area.
    pub fn area(&self) -> AreaFilter {
        match self {
            Self::National => AreaFilter::default(),
            Self::Province { province } => AreaFilter {
                province: Some(province.clone()),
                ..AreaFilter::default()
            },
            Self::Prefecture {
                province,
                prefecture,
            } => AreaFilter {
                province: Some(province.clone()),
                prefecture: Some(prefecture.clone()),
                ..AreaFilter::default()
            },
            Self::County { county_code } => AreaFilter {
                county_code: Some(county_code.clone()),
                ..AreaFilter::default()
            },
        }
    }

    fn keeps(&self, county: &CountySummary) -> bool {
        match self {
            Self::National => true,
            Self::Province { province } => &county.province == province,
            Self::Prefecture {
                province,
                prefecture,
            } => &county.province == province && &county.prefecture == prefecture,
            Self::County { county_code } => &county.county_code == county_code,
        }
    }
}

/// One line of a drill-down: an area (or a school) and its books.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AreaLine {
    /// Its name.
    pub name: String,
    /// Its code: the county code on a county line, the school id on a
    /// school line.
    pub code: Option<String>,
    /// The level one click below it (`None` on a school line: the school's
    /// own page).
    pub next: Option<Level>,
    /// Schools in it.
    pub schools: u64,
    /// Their targets, in books.
    pub target_books: u64,
    /// How its books moved in the period.
    pub books: Movement,
}

/// A drill-down report of one level and one period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DrillDown {
    /// The level.
    pub level: Level,
    /// The way here from the national level, this level last: each with
    /// its name.
    pub trail: Vec<(String, Level)>,
    /// The period.
    pub period: Period,
    /// The areas (or schools) below the level, in name (or code) order.
    pub lines: Vec<AreaLine>,
    /// The level itself: the lines added up.
    pub totals: AreaLine,
}

/// What the lines of a level are, in Chinese and English.
fn part_names(level: &Level) -> (&'static str, &'static str) {
    match level {
        Level::National => ("省", "Province"),
        Level::Province { .. } => ("市州", "Prefecture"),
        Level::Prefecture { .. } => ("县", "County"),
        Level::County { .. } => ("学校", "School"),
    }
}

impl DrillDown {
    /// The report of `level` over `period` (`whole_campaign` when the
    /// period covers every day, so the running tallies answer), or `None`
    /// for an area with no school.
    pub async fn load(
        store: &dyn AdminStore,
        level: &Level,
        period: Period,
        whole_campaign: bool,
    ) -> Result<Option<Self>, StoreError> {
        let counties: Vec<CountySummary> = store
            .counties()
            .await?
            .into_iter()
            .filter(|county| level.keeps(county))
            .collect();
        let trail = match counties.first() {
            Some(first) => trail(level, first),
            // Before any school list, the national level is empty.
            None if *level == Level::National => vec![("全国".to_owned(), Level::National)],
            None => return Ok(None),
        };
        let lines = match level {
            Level::County { county_code } => {
                let schools = store.schools_in(&level.area()).await?;
                let moved = if whole_campaign {
                    None
                } else {
                    let ids = schools.iter().map(|s| s.school.id.clone()).collect();
                    Some(
                        store
                            .school_movements(ids, period.first(), period.last())
                            .await?,
                    )
                };
                let _ = county_code;
                schools
                    .into_iter()
                    .map(|tally| AreaLine {
                        books: match &moved {
                            None => Movement {
                                allocated: tally.allocated,
                                shipped: tally.shipped,
                                received: tally.received,
                            },
                            Some(moved) => moved.get(&tally.school.id).copied().unwrap_or_default(),
                        },
                        name: tally.school.name,
                        code: Some(tally.school.id),
                        next: None,
                        schools: 1,
                        target_books: u64::from(tally.target_books),
                    })
                    .collect()
            }
            _ => {
                let moved = if whole_campaign {
                    None
                } else {
                    Some(
                        store
                            .county_movements(period.first(), period.last())
                            .await?,
                    )
                };
                group(level, &counties, moved.as_ref())
            }
        };
        let mut totals = AreaLine {
            name: trail
                .last()
                .map(|(name, _)| name.clone())
                .unwrap_or_default(),
            code: None,
            next: None,
            schools: 0,
            target_books: 0,
            books: Movement::default(),
        };
        for line in &lines {
            totals.schools += line.schools;
            totals.target_books += line.target_books;
            totals.books.add(line.books);
        }
        Ok(Some(Self {
            level: level.clone(),
            trail,
            period,
            lines,
            totals,
        }))
    }

    /// The report as a table (the same on screen and in every export).
    pub fn table(&self) -> Table {
        let (part_zh, part_en) = part_names(&self.level);
        let school_level = matches!(self.level, Level::County { .. });
        let county_level = matches!(self.level, Level::Prefecture { .. });
        let mut columns = Vec::new();
        if school_level {
            columns.push(Column {
                key: "school_id",
                zh: "学校编号",
                en: "School id",
                kind: ColumnKind::Id,
                note_zh: "学校名单中的编号",
                note_en: "The school's id in the school list",
            });
        }
        columns.push(Column {
            key: "name",
            zh: part_zh,
            en: part_en,
            kind: ColumnKind::Text,
            note_zh: "地区或学校的名称",
            note_en: "The area's or school's name",
        });
        if county_level {
            columns.push(Column {
                key: "county_code",
                zh: "县代码",
                en: "County code",
                kind: ColumnKind::Id,
                note_zh: "GB/T 2260 县级行政区划代码",
                note_en: "The county's GB/T 2260 code",
            });
        }
        if !school_level {
            columns.push(Column {
                key: "schools",
                zh: "学校数",
                en: "Schools",
                kind: ColumnKind::Count,
                note_zh: "名单中的受赠学校数",
                note_en: "Recipient schools listed",
            });
        }
        columns.extend(progress_columns());
        let level_name = self
            .trail
            .iter()
            .map(|(name, _)| name.as_str())
            .collect::<Vec<_>>()
            .join(" / ");
        let mut table = Table::new(
            format!("各{part_zh}图书"),
            format!("Books by {}", part_en.to_lowercase()),
            columns,
        )
        .with_filter(Filter::period(
            self.period.first().date(),
            self.period.last().date(),
        ))
        .with_filter(Filter::new("area", "地区", "Area", level_name));
        for line in &self.lines {
            let mut cells = Vec::new();
            if school_level {
                cells.push(Cell::id(line.code.clone().unwrap_or_default()));
            }
            cells.push(Cell::text(&line.name));
            if county_level {
                cells.push(Cell::id(line.code.clone().unwrap_or_default()));
            }
            if !school_level {
                cells.push(Cell::count(line.schools));
            }
            cells.extend(progress_cells(line));
            // The cells follow the columns built above.
            let _ = table.push_row(cells);
        }
        let mut totals = vec![Cell::text("合计")];
        if school_level || county_level {
            totals.push(Cell::Empty);
        }
        if !school_level {
            totals.push(Cell::count(self.totals.schools));
        }
        totals.extend(progress_cells(&self.totals));
        let _ = table.set_totals(totals);
        table
    }

    /// One bar per line: the books allocated in the period.
    pub fn bars(&self) -> Vec<Bar<'_>> {
        self.lines
            .iter()
            .map(|line| Bar {
                label: &line.name,
                value: line.books.allocated,
            })
            .collect()
    }

    /// What a line of this report is, in Chinese and English.
    pub fn part_names(&self) -> (&'static str, &'static str) {
        part_names(&self.level)
    }
}

/// The columns every line has: target, allocated, shipped, received, and
/// received of target.
fn progress_columns() -> [Column; 5] {
    [
        Column {
            key: "target_books",
            zh: "目标册数",
            en: "Target",
            kind: ColumnKind::Count,
            note_zh: "学校目标册数之和",
            note_en: "The schools' targets added up, in books",
        },
        Column {
            key: "allocated",
            zh: "已分配",
            en: "Allocated",
            kind: ColumnKind::Count,
            note_zh: "期间内分配给学校的图书册数",
            note_en: "Books allocated to the schools in the period",
        },
        Column {
            key: "shipped",
            zh: "已发货",
            en: "Shipped",
            kind: ColumnKind::Count,
            note_zh: "期间内发出的图书册数（按发货日期）",
            note_en: "Books shipped in the period (by shipping day)",
        },
        Column {
            key: "received",
            zh: "已收到",
            en: "Received",
            kind: ColumnKind::Count,
            note_zh: "期间内学校确认收到的图书册数",
            note_en: "Books the schools confirmed in the period",
        },
        Column {
            key: "received_of_target",
            zh: "收到占目标",
            en: "Received of target",
            kind: ColumnKind::Percent,
            note_zh: "已收到册数占目标册数的比例",
            note_en: "Books received as a share of the target",
        },
    ]
}

fn progress_cells(line: &AreaLine) -> [Cell; 5] {
    [
        Cell::count(line.target_books),
        Cell::count(line.books.allocated),
        Cell::count(line.books.shipped),
        Cell::count(line.books.received),
        Cell::percent(line.books.received, line.target_books),
    ]
}

/// The way from the national level to `level`, named from a county in it.
fn trail(level: &Level, county: &CountySummary) -> Vec<(String, Level)> {
    let mut trail = vec![("全国".to_owned(), Level::National)];
    if matches!(level, Level::National) {
        return trail;
    }
    trail.push((
        county.province.clone(),
        Level::Province {
            province: county.province.clone(),
        },
    ));
    if matches!(level, Level::Province { .. }) {
        return trail;
    }
    trail.push((
        county.prefecture.clone(),
        Level::Prefecture {
            province: county.province.clone(),
            prefecture: county.prefecture.clone(),
        },
    ));
    if matches!(level, Level::Prefecture { .. }) {
        return trail;
    }
    trail.push((
        county.county.clone(),
        Level::County {
            county_code: county.county_code.clone(),
        },
    ));
    trail
}

/// The lines of a province, prefecture or national level, from its
/// counties, with the period's movements (`None`: the running tallies).
fn group(
    level: &Level,
    counties: &[CountySummary],
    moved: Option<&BTreeMap<String, Movement>>,
) -> Vec<AreaLine> {
    // Areas in the order of their codes (GB/T 2260: 11 北京 … 65 新疆), as
    // official tables list them; the first county code seen stands for it.
    let mut lines: BTreeMap<String, (String, AreaLine)> = BTreeMap::new();
    for county in counties {
        let (key, next, code) = match level {
            Level::National => (
                county.province.clone(),
                Level::Province {
                    province: county.province.clone(),
                },
                None,
            ),
            Level::Province { province } => (
                county.prefecture.clone(),
                Level::Prefecture {
                    province: province.clone(),
                    prefecture: county.prefecture.clone(),
                },
                None,
            ),
            _ => (
                county.county_code.clone(),
                Level::County {
                    county_code: county.county_code.clone(),
                },
                Some(county.county_code.clone()),
            ),
        };
        let name = if code.is_some() {
            county.county.clone()
        } else {
            key.clone()
        };
        let (first_code, line) = lines.entry(key).or_insert_with(|| {
            (
                county.county_code.clone(),
                AreaLine {
                    name,
                    code,
                    next: Some(next),
                    schools: 0,
                    target_books: 0,
                    books: Movement::default(),
                },
            )
        });
        if county.county_code < *first_code {
            first_code.clone_from(&county.county_code);
        }
        line.schools += county.schools;
        line.target_books += county.target_books;
        line.books.add(match moved {
            None => county.books,
            Some(moved) => moved.get(&county.county_code).copied().unwrap_or_default(),
        });
    }
    let mut lines: Vec<(String, AreaLine)> = lines.into_values().collect();
    lines.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.name.cmp(&b.1.name)));
    lines.into_iter().map(|(_, line)| line).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn county(code: &str, province: &str, prefecture: &str, allocated: u64) -> CountySummary {
        CountySummary {
            county_code: code.into(),
            province: province.into(),
            prefecture: prefecture.into(),
            county: format!("{code}县"),
            schools: 2,
            target_books: 10,
            books: Movement {
                allocated,
                shipped: allocated / 2,
                received: 1,
            },
        }
    }

    fn sample() -> Vec<CountySummary> {
        vec![
            county("522632", "贵州省", "黔东南州", 4),
            county("522634", "贵州省", "黔东南州", 6),
            county("522327", "贵州省", "黔西南州", 2),
            county("622926", "甘肃省", "临夏州", 8),
        ]
    }

    #[test]
    fn levels_come_from_queries_and_go_back_into_them() {
        let check = |level: Level, query: &str| {
            assert_eq!(level.query(), query, "{level:?}");
            let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).unwrap();
            let get = |key: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| k == key)
                    .map(|(_, v)| v.as_str())
            };
            assert_eq!(
                Level::from_query(get("province"), get("prefecture"), get("county")),
                level,
                "{query} reads back"
            );
        };
        check(Level::National, "");
        check(
            Level::Province {
                province: "贵州省".into(),
            },
            "province=%E8%B4%B5%E5%B7%9E%E7%9C%81",
        );
        check(
            Level::County {
                county_code: "522632".into(),
            },
            "county=522632",
        );
        assert_eq!(
            Level::from_query(None, Some("黔东南州"), None),
            Level::National,
            "a prefecture needs its province"
        );
    }

    #[test]
    fn counties_group_into_provinces_and_prefectures() {
        let national = group(&Level::National, &sample(), None);
        let names: Vec<(&str, u64, u64)> = national
            .iter()
            .map(|line| (line.name.as_str(), line.schools, line.books.allocated))
            .collect();
        assert_eq!(
            names,
            [("贵州省", 6, 12), ("甘肃省", 2, 8)],
            "provinces, in code order (52 before 62), added up"
        );
        let guizhou = Level::Province {
            province: "贵州省".into(),
        };
        let counties: Vec<CountySummary> = sample()
            .into_iter()
            .filter(|county| guizhou.keeps(county))
            .collect();
        let prefectures = group(&guizhou, &counties, None);
        assert_eq!(prefectures.len(), 2, "two prefectures of 贵州省");
        let moved = BTreeMap::from([(
            "522632".to_owned(),
            Movement {
                allocated: 1,
                shipped: 0,
                received: 0,
            },
        )]);
        let period = group(&guizhou, &counties, Some(&moved));
        let qiandongnan = period
            .iter()
            .find(|line| line.name == "黔东南州")
            .expect("黔东南州");
        assert_eq!(
            qiandongnan.books.allocated, 1,
            "a period counts the period's movements only"
        );
        assert_eq!(qiandongnan.target_books, 20, "targets are not per period");
    }

    #[test]
    fn the_trail_names_every_level_on_the_way() {
        let county = &sample()[0];
        let trail = trail(
            &Level::County {
                county_code: "522632".into(),
            },
            county,
        );
        let names: Vec<&str> = trail.iter().map(|(name, _)| name.as_str()).collect();
        assert_eq!(
            names,
            ["全国", "贵州省", "黔东南州", "522632县"],
            "the trail"
        );
    }
}
