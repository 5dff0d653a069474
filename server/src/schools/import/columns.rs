//! The columns of a school list and the header names each one answers to,
//! in English and in the Chinese an admin is likely to type.
//!
//! Headers are compared after [`normalise`]: surrounding spaces, a byte
//! order mark and a trailing unit in brackets are dropped, ASCII letters are
//! lower-cased and spaces, `_`, `-`, `/` and `、` are removed, so
//! `School ID`, `school_id` and `学校编号` all name [`Field::Id`], and
//! `学生数（人）` names [`Field::Pupils`].

use std::fmt;

/// One column of a school list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Field {
    /// The school's id.
    Id,
    /// The school's name.
    Name,
    /// Its province.
    Province,
    /// Its prefecture.
    Prefecture,
    /// Its county.
    County,
    /// The county's 6-digit GB/T 2260 code.
    CountyCode,
    /// Pupils at the school.
    Pupils,
    /// Books the school should receive at most.
    TargetBooks,
}

impl Field {
    /// Every field, in the order of the canonical header.
    pub const ALL: [Field; 8] = [
        Field::Id,
        Field::Name,
        Field::Province,
        Field::Prefecture,
        Field::County,
        Field::CountyCode,
        Field::Pupils,
        Field::TargetBooks,
    ];

    /// The canonical Chinese header (`学校编号`).
    pub fn zh(self) -> &'static str {
        self.names()[0]
    }

    /// The canonical English header (`school_id`).
    pub fn en(self) -> &'static str {
        self.names()[1]
    }

    /// Every accepted header; the first is the canonical Chinese one and the
    /// second the canonical English one. They are compared [normalised](normalise).
    fn names(self) -> &'static [&'static str] {
        match self {
            Field::Id => &[
                "学校编号",
                "school_id",
                "schoolid",
                "id",
                "编号",
                "学校代码",
                "学校标识码",
            ],
            Field::Name => &[
                "学校名称",
                "name",
                "schoolname",
                "school",
                "学校",
                "校名",
                "名称",
            ],
            Field::Province => &["省", "province", "省份", "省区市", "所在省"],
            Field::Prefecture => &[
                "市/州",
                "prefecture",
                "city",
                "市",
                "州",
                "地市",
                "地区",
                "市州盟",
                "所在市",
            ],
            Field::County => &[
                "县",
                "county",
                "县区",
                "区县",
                "县市区",
                "县名",
                "县名称",
                "所在县",
            ],
            Field::CountyCode => &[
                "县代码",
                "county_code",
                "countycode",
                "code",
                "县区代码",
                "区县代码",
                "县编码",
                "区划代码",
                "行政区划代码",
            ],
            Field::Pupils => &[
                "学生数",
                "pupils",
                "students",
                "学生人数",
                "在校生数",
                "在校学生数",
            ],
            Field::TargetBooks => &[
                "目标册数",
                "target_books",
                "targetbooks",
                "target",
                "books",
                "目标",
                "目标图书",
                "目标图书册数",
                "图书目标",
            ],
        }
    }

    /// The field a header names, if any.
    pub fn from_header(header: &str) -> Option<Field> {
        let key = normalise(header);
        Field::ALL
            .into_iter()
            .find(|field| field.names().iter().any(|name| normalise(name) == key))
    }
}

impl fmt::Display for Field {
    /// Both canonical headers: `学校编号 (school_id)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.zh(), self.en())
    }
}

/// A header reduced to what tells columns apart (see the module docs).
fn normalise(header: &str) -> String {
    let header = header.trim().trim_start_matches('\u{feff}');
    // "学生数（人）", "target (books)": the unit says nothing about the column.
    let header = header.split(['(', '（']).next().unwrap_or(header);
    header
        .chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '_' | '-' | '/' | '、'))
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// Where each field sits in the rows of one file (0-based column indices).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ColumnMap {
    index: [usize; Field::ALL.len()],
}

/// Why a header row cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum HeaderProblem {
    /// These fields have no column.
    Missing(Vec<Field>),
    /// Two columns (1-based) name the same field.
    Repeated {
        field: Field,
        first_column: usize,
        second_column: usize,
    },
}

impl ColumnMap {
    /// Finds every field in `headers`; columns with other headers (notes,
    /// contacts) are ignored. Missing fields are reported before repeated
    /// ones, so a row that is not a header at all (a title, notes) always
    /// reads as [`HeaderProblem::Missing`].
    pub(super) fn from_headers<S: AsRef<str>>(headers: &[S]) -> Result<Self, HeaderProblem> {
        let mut found: [Option<usize>; Field::ALL.len()] = [None; Field::ALL.len()];
        let mut repeated = None;
        for (column, header) in headers.iter().enumerate() {
            let Some(field) = Field::from_header(header.as_ref()) else {
                continue;
            };
            match found[field as usize] {
                Some(first) => {
                    repeated.get_or_insert(HeaderProblem::Repeated {
                        field,
                        first_column: first + 1,
                        second_column: column + 1,
                    });
                }
                None => found[field as usize] = Some(column),
            }
        }
        let missing: Vec<Field> = Field::ALL
            .into_iter()
            .filter(|field| found[*field as usize].is_none())
            .collect();
        if !missing.is_empty() {
            return Err(HeaderProblem::Missing(missing));
        }
        if let Some(problem) = repeated {
            return Err(problem);
        }
        Ok(Self {
            index: found.map(|column| column.unwrap_or_default()),
        })
    }

    /// The column holding `field`.
    pub(super) fn column(&self, field: Field) -> usize {
        self.index[field as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_in_either_language_and_any_spelling_name_their_field() {
        let cases = [
            ("学校编号", Some(Field::Id)),
            (" School ID ", Some(Field::Id)),
            ("\u{feff}school_id", Some(Field::Id)),
            ("学校名称", Some(Field::Name)),
            ("省", Some(Field::Province)),
            ("省（自治区、直辖市）", Some(Field::Province)),
            ("市/州", Some(Field::Prefecture)),
            ("县(区)", Some(Field::County)),
            ("县代码", Some(Field::CountyCode)),
            ("County-Code", Some(Field::CountyCode)),
            ("学生数（人）", Some(Field::Pupils)),
            ("目标册数(册)", Some(Field::TargetBooks)),
            ("Target Books", Some(Field::TargetBooks)),
            ("备注", None),
            ("", None),
        ];
        for (header, expected) in cases {
            assert_eq!(Field::from_header(header), expected, "header {header:?}");
        }
    }

    #[test]
    fn canonical_names_are_accepted_names() {
        for field in Field::ALL {
            assert_eq!(Field::from_header(field.zh()), Some(field), "{field}");
            assert_eq!(Field::from_header(field.en()), Some(field), "{field}");
        }
    }

    #[test]
    fn no_header_names_two_fields() {
        for field in Field::ALL {
            for name in field.names() {
                assert_eq!(
                    Field::from_header(name),
                    Some(field),
                    "{name:?} is listed under {field} but resolves elsewhere"
                );
            }
        }
    }

    #[test]
    fn columns_are_found_in_any_order_and_extras_are_ignored() {
        let headers = [
            "pupils",
            "备注",
            "name",
            "id",
            "county",
            "province",
            "prefecture",
            "code",
            "target",
        ];
        let map = ColumnMap::from_headers(&headers).expect("every field present");
        assert_eq!(map.column(Field::Pupils), 0, "pupils first");
        assert_eq!(map.column(Field::Name), 2, "the notes column is skipped");
        assert_eq!(map.column(Field::TargetBooks), 8, "target last");
    }

    #[test]
    fn missing_and_repeated_columns_are_refused() {
        assert_eq!(
            ColumnMap::from_headers(&["id", "name", "province", "prefecture", "county", "code"]),
            Err(HeaderProblem::Missing(vec![
                Field::Pupils,
                Field::TargetBooks
            ])),
            "both absent fields are named"
        );
        let full = [
            "学校编号",
            "school_id",
            "学校名称",
            "省",
            "市/州",
            "县",
            "县代码",
            "学生数",
            "目标册数",
        ];
        assert_eq!(
            ColumnMap::from_headers(&full),
            Err(HeaderProblem::Repeated {
                field: Field::Id,
                first_column: 1,
                second_column: 2
            }),
            "two id columns are ambiguous"
        );
        assert_eq!(
            ColumnMap::from_headers(&["学校", "名称"]),
            Err(HeaderProblem::Missing(
                Field::ALL[..]
                    .iter()
                    .copied()
                    .filter(|&f| f != Field::Name)
                    .collect()
            )),
            "a row that is no header reads as missing columns, even with a repeat"
        );
    }
}
