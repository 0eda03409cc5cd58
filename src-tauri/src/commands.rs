//! IPC commands: validate, call the engine, map errors to words. No rule of
//! detection lives here.

use std::time::Duration;

use serde::Serialize;
use shareguard_detect::{NasOutcome, ScanScope, ScanSummary, SubscriberResult};
use shareguard_engine::{demo, scan_and_store};
use shareguard_scan::{CancellationToken, ScanEvent, ScanRequest};
use shareguard_sim::population::PopulationSpec;
use shareguard_store::{AuditFilter, AuditRecord, ResultFilter};
use tauri::{AppHandle, Emitter, State};

use crate::error::{CommandError, CommandResult};
use crate::state::AppState;

/// The operator name used until operator profiles exist: the owner.
pub const OWNER: &str = "owner";

#[derive(Serialize)]
pub struct RouterInfo {
    name: String,
    address: String,
    access: &'static str,
    demo: bool,
}

#[derive(Serialize)]
pub struct Status {
    demo_running: bool,
    routers: Vec<RouterInfo>,
    last_scan: Option<ScanSummary>,
    result_count: u64,
    scanning: bool,
    database: String,
}

pub fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

pub async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> CommandResult<T> + Send + 'static,
) -> CommandResult<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| CommandError::new("internal", format!("a background task failed: {e}")))?
}

#[tauri::command]
pub async fn status(state: State<'_, AppState>) -> CommandResult<Status> {
    let demo_running = state.demo.lock().await.is_some();
    let routers: Vec<RouterInfo> = lock(&state.targets)
        .iter()
        .map(|t| RouterInfo {
            name: t.name.clone(),
            address: t.address(),
            access: t.access.as_str(),
            demo: demo_running && t.name.starts_with("demo-"),
        })
        .collect();
    let store = state.store.clone();
    let (last_scan, result_count, stored) = blocking(move || {
        let s = lock(&store);
        Ok((
            s.last_scan()?,
            s.result_count(&ResultFilter::default())?,
            s.list_nas()?,
        ))
    })
    .await?;
    let mut routers = routers;
    routers.extend(stored.into_iter().map(|r| RouterInfo {
        address: routeros_client::join_addr(&r.host, r.port),
        name: r.name,
        access: r.access.as_str(),
        demo: false,
    }));
    Ok(Status {
        demo_running,
        routers,
        last_scan,
        result_count,
        scanning: lock(&state.scan).is_some(),
        database: state.db_path.clone(),
    })
}

/// Starts the simulated routers, installs the probes and lets fifteen
/// simulated minutes pass, so the first scan has evidence to show.
#[tauri::command]
pub async fn start_demo(state: State<'_, AppState>) -> CommandResult<()> {
    let mut slot = state.demo.lock().await;
    if slot.is_some() {
        return Ok(());
    }
    let d = demo::start(PopulationSpec::demo(), 1.0)
        .await
        .map_err(|e| {
            CommandError::new(
                "demo",
                format!("the simulated routers could not start: {e}"),
            )
        })?;
    demo::install_probes(&d.targets).await?;
    d.network.advance(Duration::from_secs(15 * 60));
    *lock(&state.targets) = d.targets.clone();
    *slot = Some(d);
    Ok(())
}

#[derive(Clone, Serialize)]
struct Progress {
    nas: String,
    stage: &'static str,
    rows: u64,
    outcome: Option<NasOutcome>,
}

/// Starts a scan of every router; progress and results arrive as events
/// (`scan-progress`, `scan-results`, `scan-finished`).
#[tauri::command]
pub async fn scan_all(app: AppHandle) -> CommandResult<()> {
    start_scan(&app, OWNER).await
}

/// Starts a scan of every router on behalf of `operator` (`system` for
/// scheduled scans); used by the command and by the scheduler.
pub async fn start_scan(app: &AppHandle, operator: &str) -> CommandResult<()> {
    let state = tauri::Manager::state::<AppState>(app);
    let mut targets = lock(&state.targets).clone();
    let stored = {
        let s = state.store.clone();
        blocking(move || crate::routers::stored_targets(&s)).await?
    };
    targets.extend(stored);
    if targets.is_empty() {
        return Err(CommandError::invalid(
            "there is no router to scan yet: start the demo or add a router first",
        ));
    }
    let cancel = {
        let mut slot = lock(&state.scan);
        if slot.is_some() {
            return Err(CommandError::invalid(
                "a scan is already running: wait for it to finish or cancel it",
            ));
        }
        let c = CancellationToken::new();
        *slot = Some(c.clone());
        c
    };
    let store = state.store.clone();
    let settings = {
        let s = store.clone();
        blocking(move || Ok(lock(&s).detection_settings()?)).await?
    };
    let req = ScanRequest {
        targets,
        scope: ScanScope::All,
        settings,
        whitelist: Default::default(),
        operator: operator.into(),
        install_probes: false,
    };
    let (tx, mut rx) = tokio::sync::mpsc::channel::<ScanEvent>(256);
    let forward = app.clone();
    tauri::async_runtime::spawn(async move {
        while let Some(e) = rx.recv().await {
            let _ = match e {
                ScanEvent::NasStarted { nas } => forward.emit(
                    "scan-progress",
                    Progress {
                        nas,
                        stage: "started",
                        rows: 0,
                        outcome: None,
                    },
                ),
                ScanEvent::NasRows { nas, rows } => forward.emit(
                    "scan-progress",
                    Progress {
                        nas,
                        stage: "reading",
                        rows,
                        outcome: None,
                    },
                ),
                ScanEvent::NasResults { results, .. } => forward.emit("scan-results", results),
                ScanEvent::NasFinished(o) => forward.emit(
                    "scan-progress",
                    Progress {
                        nas: o.nas.clone(),
                        stage: "finished",
                        rows: o.connections,
                        outcome: Some(o),
                    },
                ),
            };
        }
    });
    let done = app.clone();
    tauri::async_runtime::spawn(async move {
        let out = scan_and_store(store, req, cancel, Some(tx)).await;
        let state = tauri::Manager::state::<AppState>(&done);
        *lock(&state.scan) = None;
        match out {
            Ok(out) => {
                let s = &out.summary;
                crate::tray::set_status(
                    &done,
                    &format!(
                        "ShareGuard: last scan {} ({}), {} checked, {} flagged",
                        s.started_at
                            .with_timezone(&chrono::Local)
                            .format("%Y-%m-%d %H:%M"),
                        s.status.as_str(),
                        s.checked,
                        s.flagged
                    ),
                );
                let _ = done.emit("scan-finished", out.summary);
            }
            Err(e) => {
                tracing::error!("scan could not be stored: {e}");
                let _ = done.emit("scan-failed", e.to_string());
            }
        }
    });
    Ok(())
}

#[tauri::command]
pub fn cancel_scan(state: State<'_, AppState>) -> CommandResult<()> {
    if let Some(c) = lock(&state.scan).as_ref() {
        c.cancel();
    }
    Ok(())
}

/// The stored results, with whitelist entries made since the scan applied
/// (by the engine's rule) so the table shows the owner's decision at once.
#[tauri::command]
pub async fn results(state: State<'_, AppState>) -> CommandResult<Vec<SubscriberResult>> {
    let store = state.store.clone();
    blocking(move || {
        let s = lock(&store);
        let mut rows = s.results(&ResultFilter::default())?;
        let whitelist = s.active_whitelist(chrono::Utc::now())?;
        for r in &mut rows {
            if let Some(reason) = whitelist.get(&r.subscriber) {
                r.apply_whitelist(reason);
            }
        }
        Ok(rows)
    })
    .await
}

fn check_subscriber(s: &str) -> CommandResult<String> {
    let s = s.trim();
    if s.is_empty() || s.len() > 128 || s.chars().any(char::is_control) {
        return Err(CommandError::invalid(
            "give the subscriber's login name (1 to 128 printable characters)",
        ));
    }
    Ok(s.to_string())
}

#[tauri::command]
pub async fn whitelist_add(
    state: State<'_, AppState>,
    subscriber: String,
    reason: String,
) -> CommandResult<()> {
    let subscriber = check_subscriber(&subscriber)?;
    let reason = reason.trim().to_string();
    if reason.is_empty() || reason.len() > 500 {
        return Err(CommandError::invalid(
            "say why the subscriber is excused (up to 500 characters); the reason is shown next to their results",
        ));
    }
    let store = state.store.clone();
    blocking(move || {
        lock(&store).whitelist_add(&subscriber, &reason, OWNER, None)?;
        Ok(())
    })
    .await
}

#[tauri::command]
pub async fn whitelist_remove(state: State<'_, AppState>, subscriber: String) -> CommandResult<()> {
    let subscriber = check_subscriber(&subscriber)?;
    let store = state.store.clone();
    blocking(move || {
        lock(&store).whitelist_remove(&subscriber, OWNER)?;
        Ok(())
    })
    .await
}

#[tauri::command]
pub async fn audit_log(
    state: State<'_, AppState>,
    limit: u32,
    operator: Option<String>,
    action: Option<String>,
    subject: Option<String>,
) -> CommandResult<Vec<AuditRecord>> {
    let store = state.store.clone();
    let limit = limit.clamp(1, 10_000);
    let clean = |v: Option<String>| v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    let filter = AuditFilter {
        operator: clean(operator),
        action: clean(action),
        subject: clean(subject),
        limit: Some(limit),
        ..Default::default()
    };
    blocking(move || Ok(lock(&store).audit_log(&filter)?)).await
}

/// The whitelist, newest first; expired entries too when asked.
#[tauri::command]
pub async fn whitelist_list(
    state: State<'_, AppState>,
    include_expired: bool,
) -> CommandResult<Vec<shareguard_store::WhitelistEntry>> {
    let store = state.store.clone();
    blocking(move || Ok(lock(&store).whitelist_list(include_expired)?)).await
}
