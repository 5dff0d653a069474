//! `/admin/import`: a new version of the school list, in two steps.
//!
//! 1. Upload (CSV in UTF-8, UTF-8 with BOM or GBK, or XLSX). The file is
//!    parsed with the import's own rules ([`crate::schools`]) on a
//!    blocking thread. A file with any bad line shows every one, with its
//!    line number and reason, and goes no further. A good one is compared
//!    with the latest list (schools new, changed and gone) and kept in
//!    memory, parsed, for its uploader ([`Uploads`]), before the ledger
//!    writer is involved at all.
//! 2. Confirm: the kept list is imported by the ledger writer as the next
//!    version, with its audit entry; refused if another list came in since
//!    the preview.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;

use super::error::{AdminError, AdminResult};
use super::layout::{self, Section, both, csrf_field};
use super::routes::paths;
use super::session::{Operator, RequireRole, SignedIn};
use crate::allocation::ListedSchool;
use crate::domain::UserId;
use crate::schools::{ImportError, parse_school_file};
use crate::state::AppState;
use crate::tables::{Cell, Column, ColumnKind, Table, to_html};

/// How long an upload waits for its confirmation.
const UPLOAD_TTL: Duration = Duration::from_secs(60 * 60);
/// Most uploads kept at once (the oldest goes first).
const MAX_UPLOADS: usize = 16;
/// Schools of each kind (new, changed, gone) listed in a preview; the
/// counts are always complete.
const PREVIEW_ROWS: usize = 200;
/// Bad lines listed after an upload; the count is always complete.
const ERROR_ROWS: usize = 1_000;

/// How a new list differs from the latest one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListDiff {
    /// Schools not in the latest list.
    pub new: Vec<ListedSchool>,
    /// Schools in both whose details differ: before, after.
    pub changed: Vec<(ListedSchool, ListedSchool)>,
    /// Schools of the latest list that the new one leaves out.
    pub gone: Vec<ListedSchool>,
    /// Schools the same in both.
    pub unchanged: usize,
}

/// Compares `new` with `latest`, by school id.
pub fn diff(latest: &[ListedSchool], new: &[ListedSchool]) -> ListDiff {
    let before: HashMap<&str, &ListedSchool> =
        latest.iter().map(|s| (s.school.id.as_str(), s)).collect();
    let after: HashMap<&str, &ListedSchool> =
        new.iter().map(|s| (s.school.id.as_str(), s)).collect();
    let mut result = ListDiff::default();
    for school in new {
        match before.get(school.school.id.as_str()) {
            None => result.new.push(school.clone()),
            Some(old) if *old != school => result.changed.push(((*old).clone(), school.clone())),
            Some(_) => result.unchanged += 1,
        }
    }
    result.gone = latest
        .iter()
        .filter(|school| !after.contains_key(school.school.id.as_str()))
        .cloned()
        .collect();
    result
}

/// An uploaded list waiting for its confirmation.
#[derive(Debug, Clone)]
struct Upload {
    owner: UserId,
    file_name: String,
    schools: Vec<ListedSchool>,
    based_on: Option<u32>,
    diff: ListDiff,
    at: Instant,
}

/// Uploaded lists between preview and confirmation, by a random id, each
/// for its uploader only; forgotten after an hour. Kept in this process's
/// memory: behind several server processes, the preview and the
/// confirmation must reach the same one (a sticky session).
#[derive(Debug, Default)]
pub struct Uploads {
    kept: Mutex<BTreeMap<String, Upload>>,
}

impl Uploads {
    fn keep(&self, id: String, upload: Upload) {
        let mut kept = self
            .kept
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        kept.retain(|_, upload| upload.at.elapsed() < UPLOAD_TTL);
        while kept.len() >= MAX_UPLOADS {
            let oldest = kept
                .iter()
                .min_by_key(|(_, upload)| upload.at)
                .map(|(id, _)| id.clone());
            match oldest {
                Some(oldest) => kept.remove(&oldest),
                None => break,
            };
        }
        kept.insert(id, upload);
    }

    fn get(&self, id: &str, owner: UserId) -> Option<Upload> {
        let kept = self
            .kept
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        kept.get(id)
            .filter(|upload| upload.owner == owner && upload.at.elapsed() < UPLOAD_TTL)
            .cloned()
    }

    fn take(&self, id: &str, owner: UserId) -> Option<Upload> {
        let found = self.get(id, owner)?;
        let mut kept = self
            .kept
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        kept.remove(id);
        Some(found)
    }
}

/// The import page's query.
#[derive(Debug, Default, Deserialize)]
pub struct ImportQuery {
    /// After confirming: the version imported.
    imported: Option<u32>,
}

fn upload_form(signed: &SignedIn) -> Markup {
    html! {
        form.stack.card method="post" action=(paths::IMPORT) enctype="multipart/form-data" {
            (csrf_field(signed))
            label { (both("学校名单（CSV 或 XLSX）", "School list (CSV or XLSX)")) input type="file" name="file" accept=".csv,.xlsx,.xlsm,text/csv" required; }
            button type="submit" { "上传并预览 " span lang="en" { "Upload and preview" } }
        }
        p.muted {
            "表头可在前 10 行内（上方可有标题或说明）；任何一行有错都不会导入。"
            br; span lang="en" { "The header may be within the first 10 lines (a title or notes above it is fine); a file with any bad line imports nothing." }
        }
    }
}

/// `GET /admin/import`: the upload form and the list's versions.
pub async fn show_import(
    State(state): State<AppState>,
    RequireRole(signed, ..): RequireRole<Operator>,
    Query(query): Query<ImportQuery>,
) -> AdminResult<Response> {
    let versions = state.store.admin().school_list_versions().await?;
    let column = |key, zh, en, kind| Column {
        key,
        zh,
        en,
        kind,
        note_zh: "",
        note_en: "",
    };
    let mut table = Table::new(
        "名单版本",
        "School list versions",
        vec![
            column("version", "版本", "Version", ColumnKind::Count),
            column("source", "文件", "File", ColumnKind::Text),
            column("schools", "学校数", "Schools", ColumnKind::Count),
            column("first_book", "起始书号", "From book", ColumnKind::Count),
            column("imported_at", "导入时间", "Imported", ColumnKind::DateTime),
        ],
    );
    for version in &versions {
        let _ = table.push_row(vec![
            Cell::count(u64::from(version.version)),
            Cell::text(&version.source),
            Cell::count(version.schools),
            Cell::count(version.first_book),
            layout::instant_cell(version.imported_at_ms),
        ]);
    }
    let content = html! {
        @if let Some(version) = query.imported {
            p.notice role="status" { "已导入第 " (version) " 版名单。 " span lang="en" { "Version " (version) " imported." } }
        }
        (upload_form(&signed))
        h2 { (both("已导入的版本", "Versions imported")) }
        div.scroll { (to_html(&table)) }
    };
    Ok(layout::page(
        &signed,
        Section::Import,
        ("导入学校名单", "Import the school list"),
        content,
    )
    .into_response())
}

/// The bad lines of a refused file, as a table.
fn errors_table(errors: &[crate::schools::LineError]) -> Table {
    let mut table = Table::new(
        "错误",
        "Problems",
        vec![
            Column {
                key: "line",
                zh: "行",
                en: "Line",
                kind: ColumnKind::Count,
                note_zh: "电子表格中的行号",
                note_en: "The line number in the spreadsheet",
            },
            Column {
                key: "problem",
                zh: "问题",
                en: "Problem",
                kind: ColumnKind::Text,
                note_zh: "这一行的问题",
                note_en: "What is wrong with the line",
            },
        ],
    );
    for error in errors.iter().take(ERROR_ROWS) {
        let _ = table.push_row(vec![
            Cell::count(error.line as u64),
            Cell::text(error.reason.to_string()),
        ]);
    }
    table
}

/// `POST /admin/import` (multipart, field `file`): parses the file; shows
/// every problem, or keeps it and sends the uploader to its preview.
pub async fn upload_school_list(
    State(state): State<AppState>,
    RequireRole(signed, ..): RequireRole<Operator>,
    mut form: Multipart,
) -> AdminResult<Response> {
    let mut file = None;
    // Bounded by the body's size limit: every field read is part of it.
    while let Some(field) = form
        .next_field()
        .await
        .map_err(|error| AdminError::BadRequest(error.to_string()))?
    {
        if field.name() == Some("file") {
            let name = field
                .file_name()
                .map(|name| name.rsplit(['/', '\\']).next().unwrap_or(name).to_owned())
                .unwrap_or_else(|| "upload".to_owned());
            let bytes = field
                .bytes()
                .await
                .map_err(|error| AdminError::BadRequest(error.to_string()))?;
            file = Some((name, bytes));
        }
    }
    let Some((file_name, bytes)) = file.filter(|(_, bytes)| !bytes.is_empty()) else {
        return Err(AdminError::BadRequest(
            "请选择一个文件 / choose a file".into(),
        ));
    };
    let parse_name = file_name.clone();
    let parsed = tokio::task::spawn_blocking(move || parse_school_file(&parse_name, &bytes))
        .await
        .map_err(|error| AdminError::Export(error.to_string()))?;
    let schools = match parsed {
        Ok(schools) => schools,
        Err(error) => {
            let content = html! {
                p.problem role="alert" {
                    "“" (file_name) "”未导入：" span lang="en" { (file_name) " was not imported:" }
                }
                @match &error {
                    ImportError::BadLines { errors } => {
                        p { "共 " (errors.len()) " 处错误，未导入任何学校。请改正后重新上传。"
                            br; span lang="en" { (errors.len()) " problems; nothing was imported. Fix them and upload again." } }
                        div.scroll { (to_html(&errors_table(errors))) }
                        @if errors.len() > ERROR_ROWS { p.muted { "……" (errors.len() - ERROR_ROWS) } }
                    }
                    other => { p { (other.to_string()) } }
                }
                h2 { (both("重新上传", "Upload again")) }
                (upload_form(&signed))
            };
            return Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                layout::page(
                    &signed,
                    Section::Import,
                    ("名单有错误", "The list has problems"),
                    content,
                ),
            )
                .into_response());
        }
    };
    let listed: Vec<ListedSchool> = schools.iter().map(ListedSchool::from).collect();
    let latest = state.store.admin().latest_school_list().await?;
    let (based_on, latest_schools) = match latest {
        Some((version, schools)) => (Some(version), schools),
        None => (None, Vec::new()),
    };
    let id = super::session::new_token()?;
    state.admin.uploads.keep(
        id.clone(),
        Upload {
            owner: signed.user.id,
            file_name,
            diff: diff(&latest_schools, &listed),
            schools: listed,
            based_on,
            at: Instant::now(),
        },
    );
    Ok(Redirect::to(&paths::IMPORT_PREVIEW.replace("{upload_id}", &id)).into_response())
}

fn schools_table(title: (&str, &str), schools: &[&ListedSchool], total: usize) -> Table {
    let column = |key, zh, en, kind| Column {
        key,
        zh,
        en,
        kind,
        note_zh: "",
        note_en: "",
    };
    let mut table = Table::new(
        title.0,
        title.1,
        vec![
            column("school_id", "学校编号", "School id", ColumnKind::Id),
            column("name", "学校", "School", ColumnKind::Text),
            column("place", "地区", "Place", ColumnKind::Text),
            column("pupils", "学生数", "Pupils", ColumnKind::Count),
            column("target_books", "目标册数", "Target", ColumnKind::Count),
        ],
    );
    for listed in schools.iter().take(PREVIEW_ROWS) {
        let school = &listed.school;
        let _ = table.push_row(vec![
            Cell::id(&school.id),
            Cell::text(&school.name),
            Cell::text(format!(
                "{} {} {}",
                school.province, school.prefecture, school.county
            )),
            Cell::count(u64::from(listed.pupils)),
            Cell::count(u64::from(listed.target_books)),
        ]);
    }
    if total > PREVIEW_ROWS {
        let _ = table.set_totals(vec![
            Cell::text(format!("共 {total} 所，显示前 {PREVIEW_ROWS} 所 / {total} in all, first {PREVIEW_ROWS} shown")),
            Cell::Empty,
            Cell::Empty,
            Cell::Empty,
            Cell::Empty,
        ]);
    }
    table
}

/// `GET /admin/import/{id}`: what confirming the upload would change.
pub async fn show_import_preview(
    State(state): State<AppState>,
    RequireRole(signed, ..): RequireRole<Operator>,
    Path(id): Path<String>,
) -> AdminResult<Response> {
    let upload = state
        .admin
        .uploads
        .get(&id, signed.user.id)
        .ok_or(AdminError::NotFound)?;
    let diff = &upload.diff;
    let new: Vec<&ListedSchool> = diff.new.iter().collect();
    let changed: Vec<&ListedSchool> = diff.changed.iter().map(|(_, after)| after).collect();
    let gone: Vec<&ListedSchool> = diff.gone.iter().collect();
    let content = html! {
        p { "文件 File：" strong { (upload.file_name) } " · " (upload.schools.len()) " 所学校 schools · "
            @match upload.based_on {
                Some(version) => { "对比第 " (version) " 版 compared with version " (version) }
                None => { "第一份名单 the first list" }
            }
        }
        div.stats {
            div.stat { (both("新增", "New")) b { (diff.new.len()) } }
            div.stat { (both("变更", "Changed")) b { (diff.changed.len()) } }
            div.stat { (both("移除", "Gone")) b { (diff.gone.len()) } }
            div.stat { (both("不变", "Unchanged")) b { (diff.unchanged) } }
        }
        form.card method="post" action=(paths::IMPORT_PREVIEW.replace("{upload_id}", &id)) {
            (csrf_field(&signed))
            p { (both("确认后作为新版本导入，从下一本尚无学校的书起生效；已分配的书不变。",
                "Confirming imports it as a new version, applied from the next book without a school; books already allocated keep their school.")) }
            button type="submit" { "确认导入 " span lang="en" { "Confirm the import" } }
            " " a href=(paths::IMPORT) { (both("取消", "Cancel")) }
        }
        @if !new.is_empty() { div.scroll { (to_html(&schools_table(("新增学校", "New schools"), &new, new.len()))) } }
        @if !changed.is_empty() { div.scroll { (to_html(&schools_table(("变更学校（新内容）", "Changed schools (new details)"), &changed, changed.len()))) } }
        @if !gone.is_empty() { div.scroll { (to_html(&schools_table(("移除学校", "Schools gone"), &gone, gone.len()))) } }
    };
    Ok(layout::page(
        &signed,
        Section::Import,
        ("导入预览", "Import preview"),
        content,
    )
    .into_response())
}

/// `POST /admin/import/{id}`: imports the kept list as a new version.
pub async fn confirm_import(
    State(state): State<AppState>,
    RequireRole(signed, ..): RequireRole<Operator>,
    Path(id): Path<String>,
) -> AdminResult<Response> {
    let upload = state
        .admin
        .uploads
        .take(&id, signed.user.id)
        .ok_or(AdminError::NotFound)?;
    let outcome = state
        .store
        .import_schools(
            &upload.file_name,
            upload.schools,
            Some(upload.based_on),
            signed.actor(),
        )
        .await?;
    Ok(Redirect::to(&format!("{}?imported={}", paths::IMPORT, outcome.version)).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::allocation::open_data::sample_school;

    #[test]
    fn a_new_list_is_compared_school_by_school() {
        let latest = vec![
            sample_school("A", 100, 10),
            sample_school("B", 100, 10),
            sample_school("C", 100, 10),
        ];
        let new = vec![
            sample_school("A", 100, 10),
            sample_school("B", 120, 10),
            sample_school("D", 50, 5),
        ];
        let diff = diff(&latest, &new);
        let ids = |schools: &[ListedSchool]| -> Vec<String> {
            schools.iter().map(|s| s.school.id.clone()).collect()
        };
        assert_eq!(ids(&diff.new), ["D"], "D is new");
        assert_eq!(diff.changed.len(), 1, "B changed");
        assert_eq!(diff.changed[0].1.pupils, 120, "with its new pupils");
        assert_eq!(ids(&diff.gone), ["C"], "C is gone");
        assert_eq!(diff.unchanged, 1, "A is the same");
    }

    #[test]
    fn uploads_are_for_their_uploader_only() {
        let uploads = Uploads::default();
        let upload = Upload {
            owner: UserId(1),
            file_name: "x.csv".into(),
            schools: vec![],
            based_on: None,
            diff: ListDiff::default(),
            at: Instant::now(),
        };
        uploads.keep("u1".into(), upload);
        assert!(
            uploads.get("u1", UserId(2)).is_none(),
            "another user sees nothing"
        );
        assert!(
            uploads.take("u1", UserId(1)).is_some(),
            "the uploader confirms"
        );
        assert!(uploads.get("u1", UserId(1)).is_none(), "once");
    }
}
