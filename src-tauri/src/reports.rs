//! PDF and CSV reports from the window: the owner picks where the file goes
//! in the system's save dialog, the report crate writes it (to a temporary
//! file renamed into place, so a full disk never leaves half a report), and
//! the export is recorded in the audit log.

use std::future::Future;
use std::path::PathBuf;

use chrono::{DateTime, Duration as Span, Utc};
use serde::Deserialize;
use shareguard_report::{Format, ReportKind, ReportOutcome, ReportRequest};
use shareguard_store::{AuditEntry, Permission};
use tauri::{AppHandle, Manager, Runtime, State};

use crate::error::{CommandError, CommandResult};
use crate::input::{check_subscriber, tag_of};
use crate::state::{open_reader, AppState};

/// A report as the window asks for it.
#[derive(Debug, Deserialize, specta::Type)]
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

/// The last `days` days up to now, for `what` ("an abuse report"): 1 to 366.
pub(crate) fn last_days(days: u32, what: &str) -> CommandResult<(DateTime<Utc>, DateTime<Utc>)> {
    if !(1..=366).contains(&days) {
        return Err(CommandError::invalid(format!(
            "{what} covers 1 to 366 days"
        )));
    }
    let to = Utc::now();
    Ok((to - Span::days(i64::from(days)), to))
}

fn request(ask: ReportAsk, format: Format) -> CommandResult<ReportRequest> {
    let kind = match ask {
        ReportAsk::Scan { tag } => ReportKind::Scan {
            scan_id: None,
            tag: tag_of(tag),
        },
        ReportAsk::Abuse { days } => {
            let (from, to) = last_days(days, "an abuse report")?;
            ReportKind::Abuse { from, to }
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
    let db_path = state.db_path.clone();
    state
        .with_store(move |s| {
            let outcome = shareguard_report::write_report(&open_reader(&db_path)?, &req, &path)?;
            s.audit(
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

/// Writes a report to `path` as the current operator, checked and
/// recorded like [`save_report`]. Not a command: one taking any path would
/// let a view-only profile write files anywhere this user may, so the
/// window can only write where the owner chose in the save dialog. Tests
/// call it directly, standing in for the dialog, which cannot open in a
/// test process.
pub async fn write_report_to(
    state: &AppState,
    ask: ReportAsk,
    format: Format,
    path: &str,
) -> CommandResult<ReportOutcome> {
    let operator = state.require(Permission::View)?;
    let req = request(ask, format)?;
    let path = PathBuf::from(path.trim());
    if !path.is_absolute() {
        return Err(CommandError::invalid(
            "give the report's full path, including its folder",
        ));
    }
    write(state, operator, req, path).await
}

/// Shows one of the system's file dialogs over the main window and waits
/// for the owner's choice (`None` when cancelled).
///
/// The dialog is built on the main thread, where the windowing toolkit
/// lives (GTK on Linux), and awaited elsewhere, as Tauri's dialog plugin
/// does; that plugin itself is not used, see `Cargo.toml`.
async fn native_dialog<R, F, Fut>(
    app: &AppHandle<R>,
    title: &str,
    show: F,
) -> CommandResult<Option<PathBuf>>
where
    R: Runtime,
    F: FnOnce(rfd::AsyncFileDialog) -> Fut + Send + 'static,
    Fut: Future<Output = Option<rfd::FileHandle>> + Send + 'static,
{
    let (tx, rx) = tokio::sync::oneshot::channel();
    let window = app.get_webview_window("main");
    let title = title.to_string();
    app.run_on_main_thread(move || {
        let mut dialog = rfd::AsyncFileDialog::new().set_title(title);
        if let Some(w) = &window {
            dialog = dialog.set_parent(w);
        }
        let picked = show(dialog);
        std::thread::spawn(move || {
            let _ = tx.send(tauri::async_runtime::block_on(picked));
        });
    })
    .map_err(|e| {
        CommandError::new(
            shareguard_engine::ErrorKind::Internal,
            format!("the dialog could not be opened: {e}"),
        )
    })?;
    let picked = rx.await.ok().flatten();
    Ok(picked.map(|f| f.path().to_path_buf()))
}

/// The save dialog, the report's suggested name filled in.
async fn ask_where_to_save<R: Runtime>(
    app: &AppHandle<R>,
    req: &ReportRequest,
) -> CommandResult<Option<PathBuf>> {
    let (label, ext) = match req.format {
        Format::Pdf => ("PDF document", "pdf"),
        Format::Csv => ("CSV spreadsheet", "csv"),
    };
    let name = req.suggested_file_name();
    native_dialog(app, "Save report", move |d| {
        d.set_file_name(name).add_filter(label, &[ext]).save_file()
    })
    .await
}

/// Asks for a folder (for the scheduled reports); `None` when cancelled.
#[tauri::command]
#[specta::specta]
pub async fn pick_folder<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
) -> CommandResult<Option<String>> {
    state.require(Permission::Edit)?;
    let picked = native_dialog(&app, "Folder for scheduled reports", |d| d.pick_folder()).await?;
    Ok(picked.map(|p| p.display().to_string()))
}

/// Asks where to save the report in the system's save dialog, then writes
/// it there. `None` when the owner cancelled.
#[tauri::command]
#[specta::specta]
pub async fn save_report<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    ask: ReportAsk,
    format: Format,
) -> CommandResult<Option<ReportOutcome>> {
    let operator = state.require(Permission::View)?;
    let req = request(ask, format)?;
    let Some(path) = ask_where_to_save(&app, &req).await? else {
        return Ok(None);
    };
    write(&state, operator, req, path).await.map(Some)
}
