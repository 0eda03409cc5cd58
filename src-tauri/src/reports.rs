//! PDF and CSV reports from the window: the owner picks where the file goes
//! in the system's save dialog, the report crate writes it (to a temporary
//! file renamed into place, so a full disk never leaves half a report), and
//! the export is recorded in the audit log.

use std::path::PathBuf;

use chrono::{Duration as Span, Utc};
use serde::Deserialize;
use shareguard_report::{Format, ReportKind, ReportOutcome, ReportRequest};
use shareguard_store::{AuditEntry, Permission};
use tauri::{AppHandle, Runtime, State};
use tauri_plugin_dialog::DialogExt;

use crate::commands::{blocking, check_subscriber};
use crate::error::{CommandError, CommandResult};
use crate::state::{lock, AppState};

/// A report as the window asks for it.
#[derive(Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ReportAsk {
    /// The latest scan, optionally one tag's subscribers.
    Scan { tag: Option<String> },
    /// The abuse monitor over the last `days` days.
    Abuse { days: u32 },
    /// One subscriber's evidence pack.
    Subscriber { name: String },
    /// The audit log (CSV).
    Audit,
}

fn request(ask: ReportAsk, format: Format) -> CommandResult<ReportRequest> {
    let kind = match ask {
        ReportAsk::Scan { tag } => ReportKind::Scan {
            scan_id: None,
            tag: tag.filter(|t| !t.trim().is_empty()),
        },
        ReportAsk::Abuse { days } => {
            if !(1..=366).contains(&days) {
                return Err(CommandError::invalid(
                    "an abuse report covers 1 to 366 days",
                ));
            }
            let to = Utc::now();
            ReportKind::Abuse {
                from: to - Span::days(i64::from(days)),
                to,
            }
        }
        ReportAsk::Subscriber { name } => ReportKind::Subscriber {
            name: check_subscriber(&name)?,
        },
        ReportAsk::Audit => {
            if format == Format::Pdf {
                return Err(CommandError::invalid(
                    "the audit log is exported as CSV; choose CSV",
                ));
            }
            ReportKind::Audit {
                from: None,
                to: None,
            }
        }
    };
    Ok(ReportRequest::new(kind, format))
}

/// Writes the report to `path` and records the export.
async fn write(
    state: &AppState,
    operator: String,
    req: ReportRequest,
    path: PathBuf,
) -> CommandResult<ReportOutcome> {
    let store = state.store.clone();
    blocking(move || {
        let outcome = {
            let s = lock(&store);
            shareguard_report::write_report(&s, &req, &path)
                .map_err(|e| CommandError::new(e.kind(), e.to_string()))?
        };
        lock(&store).audit(
            &AuditEntry::new(&operator, "report_exported")
                .subject(path.display().to_string())
                .details(serde_json::json!({
                    "report": req.kind,
                    "format": req.format,
                    "bytes": outcome.bytes,
                    "rows": outcome.rows,
                })),
        )?;
        Ok(outcome)
    })
    .await
}

/// Writes a report to a path the window already has (used by tests and by
/// scripts driving the app; the window itself uses [`save_report`]).
#[tauri::command]
pub async fn export_report(
    state: State<'_, AppState>,
    ask: ReportAsk,
    format: Format,
    path: String,
) -> CommandResult<ReportOutcome> {
    let operator = state.require(Permission::View)?;
    let req = request(ask, format)?;
    let path = PathBuf::from(path.trim());
    if !path.is_absolute() {
        return Err(CommandError::invalid(
            "give the report's full path, including its folder",
        ));
    }
    write(&state, operator, req, path).await
}

/// Asks where to save the report in the system's save dialog, then writes
/// it there. `None` when the owner cancelled.
#[tauri::command]
pub async fn save_report<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    ask: ReportAsk,
    format: Format,
) -> CommandResult<Option<ReportOutcome>> {
    let operator = state.require(Permission::View)?;
    let req = request(ask, format)?;
    let (tx, rx) = tokio::sync::oneshot::channel();
    let (label, ext) = match format {
        Format::Pdf => ("PDF document", "pdf"),
        Format::Csv => ("CSV spreadsheet", "csv"),
    };
    app.dialog()
        .file()
        .set_title("Save report")
        .set_file_name(req.suggested_file_name())
        .add_filter(label, &[ext])
        .save_file(move |picked| {
            let _ = tx.send(picked);
        });
    let Some(picked) = rx.await.ok().flatten() else {
        return Ok(None);
    };
    let path = picked
        .into_path()
        .map_err(|e| CommandError::invalid(format!("that location cannot be written to: {e}")))?;
    write(&state, operator, req, path).await.map(Some)
}
