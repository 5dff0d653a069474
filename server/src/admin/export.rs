//! Downloads: any console table as XLSX, CSV or JSON, from the same
//! [`Table`] value the page shows, named in Chinese, and written to the
//! audit log (who exported which table, with which filters, how many
//! rows).

use axum::http::header;
use axum::response::{IntoResponse, Response};

use super::error::{AdminError, AdminResult};
use super::session::SignedIn;
use crate::state::App;
use crate::store::admin::{AuditAction, AuditEntry};
use crate::tables::{ExportFormat, Table, content_disposition, to_csv, to_json, to_xlsx};

/// Most rows any export holds: far above every table of the campaign
/// (10,000 schools), low enough to bound the memory of one request.
pub const MAX_ROWS: u64 = 200_000;

/// The format a query names (`xlsx`, `csv`, `json`).
pub fn format(name: Option<&str>) -> AdminResult<ExportFormat> {
    match name.unwrap_or("xlsx") {
        "xlsx" => Ok(ExportFormat::Xlsx),
        "csv" => Ok(ExportFormat::Csv),
        "json" => Ok(ExportFormat::Json),
        other => Err(AdminError::BadRequest(format!(
            "导出格式应为 xlsx、csv 或 json / the format is xlsx, csv or json, not {other:?}"
        ))),
    }
}

/// `table` as a file named `stem` in `format`, after writing the export
/// to the audit log. The workbook is built on a blocking thread: 10,000
/// rows take a few hundred milliseconds of CPU.
pub async fn download(
    app: &App,
    signed: &SignedIn,
    table: Table,
    stem: &str,
    format: ExportFormat,
) -> AdminResult<Response> {
    let rows = table.rows().len();
    let filters = table.filters_line();
    let body = match format {
        ExportFormat::Csv => to_csv(&table),
        ExportFormat::Json => serde_json::to_vec_pretty(&to_json(&table))
            .map_err(|error| AdminError::Export(error.to_string()))?,
        ExportFormat::Xlsx => tokio::task::spawn_blocking(move || to_xlsx(&table))
            .await
            .map_err(|error| AdminError::Export(error.to_string()))?
            .map_err(|error| AdminError::Export(error.to_string()))?,
    };
    app.store
        .admin()
        .audit(AuditEntry {
            at_ms: crate::now_unix_ms(),
            actor: signed.actor(),
            action: AuditAction::Exported,
            target: format!("{stem}.{}", format.extension()),
            detail: format!("{rows} 行 / rows; {filters}"),
        })
        .await?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                format
                    .media_type()
                    .parse()
                    .unwrap_or(header::HeaderValue::from_static("application/octet-stream")),
            ),
            (
                header::CONTENT_DISPOSITION,
                content_disposition(stem, format),
            ),
        ],
        body,
    )
        .into_response())
}
