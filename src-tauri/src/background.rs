//! Work the app does on its own: desktop notifications for new flags, the
//! reports after each scheduled scan and the daily history clean-up. All
//! are recorded in the audit log as `system`.

use std::collections::HashSet;
use std::time::Duration;

use shareguard_detect::{Level, ScanSummary, SubscriberResult};
use shareguard_engine::notify;
use shareguard_report::scheduled::{write_scheduled, ScheduledReports, SCHEDULED_REPORTS_KEY};
use shareguard_store::{AuditEntry, Retention, RETENTION_KEY, SYSTEM_OPERATOR};
use tauri::{AppHandle, Manager, Runtime};
use tauri_plugin_notification::NotificationExt;

use crate::state::{blocking, lock, open_reader, AppState};

/// How often the clean-up runs while the app is open (and once at start).
const CLEAN_UP_EVERY: Duration = Duration::from_secs(24 * 60 * 60);

/// Shows one notification for the subscribers this scan newly flagged at
/// `min_level` or above, and records it.
pub async fn notify_new_flags<R: Runtime>(
    app: &AppHandle<R>,
    flagged_before: &HashSet<String>,
    results: &[SubscriberResult],
    min_level: Level,
) {
    let new = notify::newly_flagged(flagged_before, results, min_level);
    let Some((title, body)) = notify::message(&new) else {
        return;
    };
    let subscribers: Vec<&str> = new.iter().map(|r| r.subscriber.as_str()).collect();
    notify_owner(
        app,
        &title,
        &body,
        serde_json::json!({ "subscribers": subscribers, "min_level": min_level }),
    )
    .await;
}

/// Writes the reports the owner asked for after a scheduled scan, each
/// recorded; a report that cannot be written is recorded and the owner is
/// told why, so a full disk or a removed folder does not go unnoticed.
pub async fn write_scheduled_reports<R: Runtime>(app: &AppHandle<R>, scan: &ScanSummary) {
    let Some(scan_id) = scan.id else {
        return;
    };
    let started = scan.started_at;
    let state = app.state::<AppState>();
    let (store, db_path) = (state.store.clone(), state.db_path.clone());
    let written = blocking(move || {
        let settings: ScheduledReports = lock(&store)
            .get_setting(SCHEDULED_REPORTS_KEY)?
            .unwrap_or_default();
        let written = write_scheduled(&open_reader(&db_path)?, &settings, scan_id, started);
        let mut s = lock(&store);
        for (format, outcome) in &written {
            let entry = match outcome {
                Ok(o) => AuditEntry::new(SYSTEM_OPERATOR, "report_exported")
                    .subject(o.path.as_ref().map(|p| p.display().to_string()).unwrap_or_default())
                    .details(serde_json::json!({
                        "scheduled": true,
                        "scan_id": scan_id,
                        "format": format,
                        "bytes": o.bytes,
                        "rows": o.rows,
                    })),
                Err(e) => AuditEntry::new(SYSTEM_OPERATOR, "report_failed").details(
                    serde_json::json!({ "scheduled": true, "scan_id": scan_id, "format": format, "error": e.to_string() }),
                ),
            };
            s.audit(&entry)?;
        }
        Ok(written)
    })
    .await;
    let failures: Vec<String> = match written {
        Ok(w) => w
            .into_iter()
            .filter_map(|(format, o)| {
                o.err()
                    .map(|e| format!("{}: {e}", format.extension().to_uppercase()))
            })
            .collect(),
        Err(e) => vec![e.message],
    };
    if failures.is_empty() {
        return;
    }
    for f in &failures {
        tracing::error!("scheduled report not written: {f}");
    }
    notify_owner(
        app,
        "Scheduled report not written",
        &failures.join("; "),
        serde_json::json!({ "source": "reports", "severity": "warning", "scan_id": scan_id }),
    )
    .await;
}

/// Shows a desktop notification and records in the audit log that the owner
/// was notified: its title and body, whether it could be shown, and
/// `details` (an object) about what it was for.
pub async fn notify_owner<R: Runtime>(
    app: &AppHandle<R>,
    title: &str,
    body: &str,
    mut details: serde_json::Value,
) {
    let shown = show_notification(app, title, body);
    if let Some(d) = details.as_object_mut() {
        d.insert("title".into(), title.into());
        d.insert("body".into(), body.into());
        d.insert("shown".into(), shown.into());
    }
    let event = shareguard_webhook::Event {
        title: title.to_string(),
        subscriber: None,
        router: None,
        severity: details["severity"]
            .as_str()
            .unwrap_or("warning")
            .to_string(),
        kind: details["source"].as_str().unwrap_or("sharing").to_string(),
        details: body.to_string(),
        action: None,
        at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    };
    let entry = AuditEntry::new(SYSTEM_OPERATOR, "owner_notified").details(details);
    let store = app.state::<AppState>().store.clone();
    let channels = crate::state::channels(store.clone());
    tauri::async_runtime::spawn(async move { channels.deliver(&event).await });
    if let Err(e) = blocking(move || Ok(lock(&store).audit(&entry)?)).await {
        tracing::warn!("the notification could not be recorded: {}", e.message);
    }
}

/// Shows a desktop notification; false (and logged with its text) when the
/// system has no notification service to show it.
pub fn show_notification<R: Runtime>(app: &AppHandle<R>, title: &str, body: &str) -> bool {
    match app.notification().builder().title(title).body(body).show() {
        Ok(()) => true,
        Err(e) => {
            tracing::warn!("the desktop notification could not be shown ({e}): {title}: {body}");
            false
        }
    }
}

/// Removes history older than the retention setting; never the latest results.
pub async fn clean_up_history<R: Runtime>(app: &AppHandle<R>) {
    let store = app.state::<AppState>().store.clone();
    let outcome = blocking(move || {
        let mut s = lock(&store);
        let keep: Retention = s.get_setting(RETENTION_KEY)?.unwrap_or_default();
        Ok(s.prune_history(keep.cutoff(chrono::Utc::now()), SYSTEM_OPERATOR)?)
    })
    .await;
    match outcome {
        Ok(p) if p.scans + p.history_rows > 0 => tracing::info!(
            "history clean-up removed {} and {}",
            shareguard_detect::words::count(p.scans, "scan"),
            shareguard_detect::words::count(p.history_rows, "history row")
        ),
        Ok(_) => {}
        Err(e) => tracing::warn!("history clean-up failed: {}", e.message),
    }
}

/// Runs the clean-up now and then daily while the app is open.
pub fn start_clean_up<R: Runtime>(app: &AppHandle<R>) {
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        let mut every = tokio::time::interval(CLEAN_UP_EVERY);
        loop {
            every.tick().await;
            clean_up_history(&app).await;
        }
    });
}
