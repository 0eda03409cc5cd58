//! IPC commands for scans, results, whitelist, tags and the audit log:
//! check who asks, validate, call the engine, map errors to words. No rule of
//! detection lives here.

use serde::Serialize;
use shareguard_detect::{NasOutcome, ScanScope, ScanSummary, SubscriberResult};
use shareguard_engine::{demo, scan_and_store};
use shareguard_scan::{CancellationToken, ScanEvent, ScanRequest};
use shareguard_sim::population::PopulationSpec;
use shareguard_store::{
    AuditFilter, AuditRecord, DemoRemoved, Operator, Permission, ResultFilter, ResultLine,
    DEMO_ROUTER_PREFIX,
};
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
    /// Of `result_count`, the results of the demo's routers (running or
    /// left from an earlier start), which the window labels as the demo's.
    demo_results: u64,
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
    let (stored, last_scan, (result_count, demo_results), tags, profiles) = blocking(move || {
        let s = lock(&store);
        let profiles = s.operators()?.into_iter().map(|o| o.name).collect();
        if !unlocked {
            return Ok((Vec::new(), None, (0, 0), Vec::new(), profiles));
        }
        Ok((
            s.list_nas()?,
            s.last_scan()?,
            (
                s.result_count(&ResultFilter::default())?,
                s.demo_result_count()?,
            ),
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
                demo: demo_running && t.name.starts_with(DEMO_ROUTER_PREFIX),
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
        demo_results,
        scanning: lock(&state.scan).is_some(),
        database: state.db_path.clone(),
        operator,
        profiles,
        tags,
        next_scan,
    })
}

/// Starts the simulated routers, installs the probes and lets fifteen
/// simulated minutes pass, so the first scan has evidence to show. What an
/// earlier demo left in the database goes first, so a restarted demo starts
/// as clean as the first one.
#[tauri::command]
pub async fn start_demo(state: State<'_, AppState>) -> CommandResult<()> {
    let who = state.require(Permission::Edit)?;
    let mut slot = state.demo.lock().await;
    if slot.is_some() {
        return Ok(());
    }
    let store = state.store.clone();
    blocking(move || {
        let mut s = lock(&store);
        if s.demo_result_count()? > 0 {
            s.remove_demo_data(&who)?;
        }
        Ok(())
    })
    .await?;
    let d = demo::start(PopulationSpec::demo(), 1.0)
        .await
        .map_err(|e| {
            CommandError::new(
                "demo",
                format!("the simulated routers could not start: {e}"),
            )
        })?;
    demo::warm_up(&d).await?;
    *lock(&state.targets) = d.targets.clone();
    *slot = Some(d);
    Ok(())
}

/// Ends the demo: stops its simulated routers (if running) and removes all
/// it left in the database, audited as `demo_removed`. The owner's own
/// routers and their data are untouched.
#[tauri::command]
pub async fn remove_demo(state: State<'_, AppState>) -> CommandResult<DemoRemoved> {
    let who = state.require(Permission::Edit)?;
    if lock(&state.scan).is_some() {
        return Err(CommandError::new(
            "busy",
            "a scan is running: wait for it to finish (or stop it), then remove the demo",
        ));
    }
    if let Some(d) = state.demo.lock().await.take() {
        lock(&state.targets).retain(|t| !t.name.starts_with(DEMO_ROUTER_PREFIX));
        d.network.shutdown().await;
    }
    let store = state.store.clone();
    blocking(move || Ok(lock(&store).remove_demo_data(&who)?)).await
}

#[derive(Clone, Serialize)]
struct Progress {
    nas: String,
    stage: &'static str,
    rows: u64,
    /// The rows the router said it holds, while reading.
    expected: Option<u64>,
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
                    s.result_lines(&ResultFilter {
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
        lines: Default::default(),
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
                crate::tray::set_status(&done, &crate::tray::status_line(Some(&out.summary)));
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
                if out.results.len() > 1000 {
                    drop(out);
                    release_memory_soon();
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
            expected: None,
            outcome,
        };
        let _ = match e {
            ScanEvent::NasStarted { nas } => {
                app.emit("scan-progress", progress(nas, "started", 0, None))
            }
            ScanEvent::NasRows {
                nas,
                rows,
                expected,
            } => app.emit(
                "scan-progress",
                Progress {
                    expected,
                    ..progress(nas, "reading", rows, None)
                },
            ),
            ScanEvent::NasResults { nas, results } => {
                app.emit("scan-results", RouterResults::new(nas, &results))
            }
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

/// Most flagged subscribers a router's finished event lists; the table has
/// them all once the scan is stored.
const LIVE_FLAGGED: usize = 50;

/// One router's part of a running scan, as soon as the router is done: its
/// counts and the subscribers it flagged, shown under its progress bar. The
/// table itself reads the store, which takes a scan's results in one
/// transaction when the scan ends (a cancelled scan changes nothing).
#[derive(Debug, Clone, Serialize)]
pub struct RouterResults {
    pub nas: String,
    pub checked: usize,
    /// How many it flagged; `flagged_rows` lists the first of them.
    pub flagged: usize,
    pub flagged_rows: Vec<ResultLine>,
}

impl RouterResults {
    fn new(nas: String, results: &[SubscriberResult]) -> Self {
        let mut flagged: Vec<&SubscriberResult> =
            results.iter().filter(|r| r.is_flagged()).collect();
        flagged.sort_by(|a, b| {
            SubscriberResult::most_suspicious_first(a, b)
                .then_with(|| a.subscriber.cmp(&b.subscriber))
        });
        Self {
            nas,
            checked: results.len(),
            flagged: flagged.len(),
            flagged_rows: flagged
                .into_iter()
                .take(LIVE_FLAGGED)
                .map(ResultLine::from)
                .collect(),
        }
    }
}

/// A page of the results table and the counts around it.
#[derive(Debug, Serialize)]
pub struct ResultsPage {
    pub rows: Vec<ResultLine>,
    pub offset: u32,
    /// Results matching the query (every page of it).
    pub matched: u64,
    /// Every stored result.
    pub total: u64,
}

/// Most rows one page may ask for: a screen shows a few dozen.
pub const MAX_PAGE: u32 = 500;

/// A page of the latest results, filtered and sorted by the store, so the
/// window only ever holds the rows in view however many subscribers there
/// are.
#[tauri::command]
pub async fn results_page(
    state: State<'_, AppState>,
    mut query: ResultFilter,
) -> CommandResult<ResultsPage> {
    state.require(Permission::View)?;
    if !query.limit.is_some_and(|n| (1..=MAX_PAGE).contains(&n)) {
        return Err(CommandError::invalid(format!(
            "ask for 1 to {MAX_PAGE} results at a time"
        )));
    }
    if query.search.as_ref().is_some_and(|q| q.len() > 200) {
        return Err(CommandError::invalid(
            "the search is too long: type up to 200 characters of a name, address or router",
        ));
    }
    query.tag = tag_of(query.tag);
    let store = state.store.clone();
    blocking(move || {
        let s = lock(&store);
        Ok(ResultsPage {
            rows: s.result_lines(&query)?,
            offset: query.offset,
            matched: s.result_count(&query)?,
            total: s.result_count(&ResultFilter::default())?,
        })
    })
    .await
}

/// Gives the heap freed after a large scan back to the system. glibc keeps
/// freed memory in its arenas, so without this the tens of megabytes a
/// 30,000-subscriber scan passes through stay resident for as long as the
/// app sits in the tray.
fn release_memory_soon() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    tauri::async_runtime::spawn(async {
        tokio::time::sleep(std::time::Duration::from_secs(2)).await;
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
