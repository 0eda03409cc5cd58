//! IPC commands for scans, results, whitelist, tags and the audit log:
//! check who asks, validate, call the engine, map errors to words. No rule of
//! detection lives here.

use std::time::Duration;

use serde::Serialize;
use shareguard_detect::{NasOutcome, ScanScope, ScanSummary, SubscriberResult};
use shareguard_engine::{demo, scan_and_store};
use shareguard_scan::{CancellationToken, ScanEvent, ScanRequest};
use shareguard_sim::population::PopulationSpec;
use shareguard_store::{AuditFilter, AuditRecord, Operator, Permission, ResultFilter};
use tauri::{AppHandle, Emitter, Manager, Runtime, State};

use crate::error::{CommandError, CommandResult};
use crate::state::{lock, AppState};

#[derive(Serialize)]
pub struct RouterInfo {
    name: String,
    address: String,
    access: &'static str,
    tag: Option<String>,
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
    /// Who is at the desk; `None` while the app is locked.
    operator: Option<Operator>,
    /// Profile names for the lock screen (empty: no profiles, owner only).
    profiles: Vec<String>,
    /// Reseller/area tags in use.
    tags: Vec<String>,
    /// The next scheduled scan (local time, RFC 3339), if any.
    next_scan: Option<String>,
}

pub async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> CommandResult<T> + Send + 'static,
) -> CommandResult<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| CommandError::new("internal", format!("a background task failed: {e}")))?
}

/// What every screen needs first. Answers even while locked (with no data),
/// so the lock screen can list the profiles.
#[tauri::command]
pub async fn status(state: State<'_, AppState>) -> CommandResult<Status> {
    let operator = lock(&state.session).current().cloned();
    let demo_running = state.demo.lock().await.is_some();
    let next_scan = lock(&state.runner)
        .as_ref()
        .and_then(|r| r.next_run())
        .map(|t| t.to_rfc3339());
    let store = state.store.clone();
    let unlocked = operator.is_some();
    let (stored, last_scan, result_count, tags, profiles) = blocking(move || {
        let s = lock(&store);
        let profiles = s.operators()?.into_iter().map(|o| o.name).collect();
        if !unlocked {
            return Ok((Vec::new(), None, 0, Vec::new(), profiles));
        }
        Ok((
            s.list_nas()?,
            s.last_scan()?,
            s.result_count(&ResultFilter::default())?,
            s.tags()?,
            profiles,
        ))
    })
    .await?;
    let mut routers: Vec<RouterInfo> = if unlocked {
        lock(&state.targets)
            .iter()
            .map(|t| RouterInfo {
                name: t.name.clone(),
                address: t.address(),
                access: t.access.as_str(),
                tag: None,
                demo: demo_running && t.name.starts_with("demo-"),
            })
            .collect()
    } else {
        Vec::new()
    };
    routers.extend(stored.into_iter().map(|r| RouterInfo {
        address: routeros_client::join_addr(&r.host, r.port),
        name: r.name,
        access: r.access.as_str(),
        tag: r.tag,
        demo: false,
    }));
    Ok(Status {
        demo_running,
        routers,
        last_scan,
        result_count,
        scanning: lock(&state.scan).is_some(),
        database: state.db_path.clone(),
        operator,
        profiles,
        tags,
        next_scan,
    })
}

/// Starts the simulated routers, installs the probes and lets fifteen
/// simulated minutes pass, so the first scan has evidence to show.
#[tauri::command]
pub async fn start_demo(state: State<'_, AppState>) -> CommandResult<()> {
    state.require(Permission::Edit)?;
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

/// Starts a scan; progress and results arrive as events (`scan-progress`,
/// `scan-results`, `scan-finished`). With `router`, only that router; with
/// `subscriber`, only that subscriber (on every router, in case they moved).
#[tauri::command]
pub async fn scan<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    router: Option<String>,
    subscriber: Option<String>,
) -> CommandResult<()> {
    let operator = state.require(Permission::Scan)?;
    let scope = match (router, subscriber) {
        (_, Some(s)) => ScanScope::Subscriber(check_subscriber(&s)?),
        (Some(r), None) if !r.trim().is_empty() => ScanScope::Nas(r.trim().to_string()),
        _ => ScanScope::All,
    };
    start_scan(&app, &operator, scope, Trigger::Asked).await
}

/// Why a scan runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// Someone asked: the window, the tray.
    Asked,
    /// The schedule: the scheduled reports are written after it.
    Scheduled,
}

/// Starts a scan on behalf of `operator` (`system` for scheduled scans);
/// used by the command, the tray and the scheduler.
pub async fn start_scan<R: Runtime>(
    app: &AppHandle<R>,
    operator: &str,
    scope: ScanScope,
    trigger: Trigger,
) -> CommandResult<()> {
    let state = app.state::<AppState>();
    let mut targets = lock(&state.targets).clone();
    let stored = {
        let s = state.store.clone();
        blocking(move || crate::routers::stored_targets(&s)).await?
    };
    targets.extend(stored);
    if let ScanScope::Nas(name) = &scope {
        targets.retain(|t| &t.name == name);
        if targets.is_empty() {
            return Err(CommandError::invalid(format!(
                "there is no router named {name:?}"
            )));
        }
    }
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
    let desktop = lock(&state.desktop).clone();
    let prepared = {
        let s = store.clone();
        let min = desktop.notify_min_level;
        let notify = desktop.notify_on_flag;
        blocking(move || {
            let s = lock(&s);
            // Who was flagged before, only when new flags will be announced.
            let mut flagged_before = std::collections::HashSet::new();
            if notify {
                flagged_before.extend(
                    s.results(&ResultFilter {
                        min_level: Some(min),
                        ..Default::default()
                    })?
                    .into_iter()
                    .filter(|r| !r.whitelisted)
                    .map(|r| r.subscriber),
                );
            }
            Ok((s.detection_settings()?, flagged_before))
        })
        .await
    };
    let (settings, flagged_before) = match prepared {
        Ok(p) => p,
        Err(e) => {
            *lock(&state.scan) = None;
            return Err(e);
        }
    };
    let req = ScanRequest {
        targets,
        scope,
        settings,
        whitelist: Default::default(),
        operator: operator.into(),
        install_probes: false,
    };
    let (tx, rx) = tokio::sync::mpsc::channel::<ScanEvent>(256);
    tauri::async_runtime::spawn(forward_events(app.clone(), rx));
    let done = app.clone();
    tauri::async_runtime::spawn(async move {
        let out = scan_and_store(store, req, cancel, Some(tx)).await;
        let state = done.state::<AppState>();
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
                if desktop.notify_on_flag {
                    crate::background::notify_new_flags(
                        &done,
                        &flagged_before,
                        &out.results,
                        desktop.notify_min_level,
                    )
                    .await;
                }
                let _ = done.emit("scan-finished", &out.summary);
                crate::actions::after_scan(&done, &out.results).await;
                if trigger == Trigger::Scheduled {
                    crate::background::write_scheduled_reports(&done, &out.summary).await;
                }
            }
            Err(e) => {
                tracing::error!("scan could not be stored: {e}");
                let _ = done.emit("scan-failed", e.to_string());
            }
        }
    });
    Ok(())
}

/// Turns the scanner's events into the UI's.
async fn forward_events<R: Runtime>(
    app: AppHandle<R>,
    mut rx: tokio::sync::mpsc::Receiver<ScanEvent>,
) {
    while let Some(e) = rx.recv().await {
        let progress = |nas: String, stage, rows, outcome| Progress {
            nas,
            stage,
            rows,
            outcome,
        };
        let _ = match e {
            ScanEvent::NasStarted { nas } => {
                app.emit("scan-progress", progress(nas, "started", 0, None))
            }
            ScanEvent::NasRows { nas, rows } => {
                app.emit("scan-progress", progress(nas, "reading", rows, None))
            }
            ScanEvent::NasResults { results, .. } => app.emit(
                "scan-results",
                results.into_iter().map(ResultRow::from).collect::<Vec<_>>(),
            ),
            ScanEvent::NasFinished(o) => app.emit(
                "scan-progress",
                progress(o.nas.clone(), "finished", o.connections, Some(o)),
            ),
        };
    }
}

#[tauri::command]
pub fn cancel_scan(state: State<'_, AppState>) -> CommandResult<()> {
    state.require(Permission::Scan)?;
    if let Some(c) = lock(&state.scan).as_ref() {
        c.cancel();
    }
    Ok(())
}

/// One line of the results table: what the table shows, sorts and filters
/// on, and no more. Evidence, recommendation and scan time are read with
/// the subscriber's details when a row is opened, which keeps 30,000 rows
/// light in the page.
#[derive(Debug, Clone, Serialize)]
pub struct ResultRow {
    pub subscriber: String,
    pub nas: String,
    pub address: String,
    pub connections: u32,
    pub p2p_connections: u32,
    pub ttl_values: Vec<u8>,
    pub ttl_counts: std::collections::BTreeMap<u8, u32>,
    pub ttl_status: shareguard_detect::TtlStatus,
    pub level: shareguard_detect::Level,
    pub whitelisted: bool,
    pub reasons: Vec<String>,
    /// The effective reseller/area tag (the subscriber's own, else the router's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    /// Set when ShareGuard ended the session and no scan has seen them since.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disconnected_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl From<SubscriberResult> for ResultRow {
    fn from(r: SubscriberResult) -> Self {
        Self {
            subscriber: r.subscriber,
            nas: r.nas,
            address: r.address,
            connections: r.connections,
            p2p_connections: r.p2p_connections,
            ttl_values: r.ttl_values,
            ttl_counts: r.ttl_counts,
            ttl_status: r.ttl_status,
            level: r.level,
            whitelisted: r.whitelisted,
            reasons: r.reasons,
            tag: None,
            disconnected_at: None,
        }
    }
}

#[derive(Serialize)]
pub struct Results {
    pub rows: Vec<ResultRow>,
}

/// The stored results, with whitelist entries made since the scan applied
/// (by the engine's rule) so the table shows the owner's decision at once.
#[tauri::command]
pub async fn results(state: State<'_, AppState>) -> CommandResult<Results> {
    state.require(Permission::View)?;
    let store = state.store.clone();
    blocking(move || {
        let s = lock(&store);
        let results = s.results(&ResultFilter::default())?;
        let whitelist = s.active_whitelist(chrono::Utc::now())?;
        let mut tags = s.result_tags()?;
        let mut disconnected = s.disconnected()?;
        drop(s);
        let rows = results
            .into_iter()
            .map(|mut r| {
                if let Some(reason) = whitelist.get(&r.subscriber) {
                    r.apply_whitelist(reason);
                }
                let tag = tags.remove(&r.subscriber);
                let disconnected_at = disconnected.remove(&r.subscriber);
                ResultRow {
                    tag,
                    disconnected_at,
                    ..ResultRow::from(r)
                }
            })
            .collect();
        Ok(Results { rows })
    })
    .await
    .inspect(|r| {
        if r.rows.len() > 1000 {
            release_memory_soon();
        }
    })
}

/// Gives the heap freed after a large response back to the system. glibc
/// keeps freed memory in its arenas, so without this the tens of megabytes a
/// 30,000-row response passes through stay resident for as long as the app
/// sits in the tray. Runs once the response has been serialised and sent.
fn release_memory_soon() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    tauri::async_runtime::spawn(async {
        tokio::time::sleep(Duration::from_secs(2)).await;
        // SAFETY: malloc_trim only returns free pages to the OS; it touches
        // no memory that is in use.
        unsafe {
            libc::malloc_trim(0);
        }
    });
}

/// Forgets every latest result (history and the audit log stay).
#[tauri::command]
pub async fn clear_results(state: State<'_, AppState>) -> CommandResult<u64> {
    let operator = state.require(Permission::Edit)?;
    if lock(&state.scan).is_some() {
        return Err(CommandError::invalid(
            "a scan is running: wait for it to finish or cancel it before clearing results",
        ));
    }
    let store = state.store.clone();
    blocking(move || Ok(lock(&store).clear_results(&operator)?)).await
}

pub fn check_subscriber(s: &str) -> CommandResult<String> {
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
    let operator = state.require(Permission::Whitelist)?;
    let subscriber = check_subscriber(&subscriber)?;
    let reason = reason.trim().to_string();
    if reason.is_empty() || reason.len() > 500 {
        return Err(CommandError::invalid(
            "say why the subscriber is excused (up to 500 characters); the reason is shown next to their results",
        ));
    }
    let store = state.store.clone();
    blocking(move || {
        lock(&store).whitelist_add(&subscriber, &reason, &operator, None)?;
        Ok(())
    })
    .await
}

#[tauri::command]
pub async fn whitelist_remove(state: State<'_, AppState>, subscriber: String) -> CommandResult<()> {
    let operator = state.require(Permission::Whitelist)?;
    let subscriber = check_subscriber(&subscriber)?;
    let store = state.store.clone();
    blocking(move || {
        lock(&store).whitelist_remove(&subscriber, &operator)?;
        Ok(())
    })
    .await
}

/// The whitelist, newest first; expired entries too when asked.
#[tauri::command]
pub async fn whitelist_list(
    state: State<'_, AppState>,
    include_expired: bool,
) -> CommandResult<Vec<shareguard_store::WhitelistEntry>> {
    state.require(Permission::View)?;
    let store = state.store.clone();
    blocking(move || Ok(lock(&store).whitelist_list(include_expired)?)).await
}

/// A reseller/area tag as the window sends it: blank means none.
pub fn tag_of(tag: Option<String>) -> Option<String> {
    tag.filter(|t| !t.trim().is_empty())
}

/// Sets or (with an empty tag) removes a subscriber's reseller/area tag.
#[tauri::command]
pub async fn set_subscriber_tag(
    state: State<'_, AppState>,
    subscriber: String,
    tag: Option<String>,
) -> CommandResult<()> {
    let operator = state.require(Permission::Edit)?;
    let subscriber = check_subscriber(&subscriber)?;
    let tag = tag_of(tag);
    let store = state.store.clone();
    blocking(move || {
        lock(&store).set_subscriber_tag(&subscriber, tag.as_deref(), &operator)?;
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
    state.require(Permission::View)?;
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
