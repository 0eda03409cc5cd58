//! IPC commands for the demo, scans, results, whitelist, tags and the audit log:
//! check who asks, validate, call the engine, map errors to words. No rule of
//! detection lives here.

use shareguard_detect::ScanScope;
use shareguard_engine::demo;
use shareguard_store::{
    AuditFilter, AuditRecord, DemoRemoved, Permission, ResultFilter, ResultsPage,
};
use tauri::{AppHandle, Runtime, State};

use crate::error::{CommandError, CommandResult};
use crate::input::{check_subscriber, reason_of, tag_of};
use crate::scanning::Trigger;
use crate::state::{lock, AppState};

/// Starts the simulated routers, installs the probes and lets fifteen
/// simulated minutes pass, so the first scan has evidence to show; then the
/// demo's evening begins, so the abuse monitor's warnings build up as its
/// households come home instead of arriving all at once. What an
/// earlier demo left in the database goes first, so a restarted demo starts
/// as clean as the first one.
#[tauri::command]
#[specta::specta]
pub async fn start_demo(state: State<'_, AppState>) -> CommandResult<()> {
    let who = state.require(Permission::Edit)?;
    let mut slot = state.demo.lock().await;
    if slot.is_none() {
        *slot = Some(demo::start_evening(&state.store, &who).await?);
    }
    Ok(())
}

/// Ends the demo: stops its simulated routers (if running) and removes all
/// it left in the database, audited as `demo_removed`. The owner's own
/// routers and their data are untouched.
#[tauri::command]
#[specta::specta]
pub async fn remove_demo(state: State<'_, AppState>) -> CommandResult<DemoRemoved> {
    let who = state.require(Permission::Edit)?;
    if lock(&state.scan).is_some() {
        return Err(CommandError::new(
            shareguard_engine::ErrorKind::Busy,
            "a scan is running: wait for it to finish (or stop it), then remove the demo",
        ));
    }
    if let Some(d) = state.demo.lock().await.take() {
        d.network.shutdown().await;
    }
    state
        .with_store(move |s| Ok(s.remove_demo_data(&who)?))
        .await
}

/// Starts a scan; progress and results arrive as events (`scan-progress`,
/// `scan-results`, `scan-finished`). With `router`, only that router; with
/// `subscriber`, only that subscriber (on every router, in case they moved).
#[tauri::command]
#[specta::specta]
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
    crate::scanning::start_scan(&app, &operator, scope, Trigger::Asked).await
}

#[tauri::command]
#[specta::specta]
pub fn cancel_scan(state: State<'_, AppState>) -> CommandResult<()> {
    state.require(Permission::Scan)?;
    if let Some(c) = lock(&state.scan).as_ref() {
        c.cancel();
    }
    Ok(())
}

/// A page of the latest results, filtered and sorted by the store.
#[tauri::command]
#[specta::specta]
pub async fn results_page(
    state: State<'_, AppState>,
    mut query: ResultFilter,
) -> CommandResult<ResultsPage> {
    state.require(Permission::View)?;
    query.tag = tag_of(query.tag);
    state.with_store(move |s| Ok(s.results_page(&query)?)).await
}

/// Forgets every latest result (history and the audit log stay).
#[tauri::command]
#[specta::specta]
pub async fn clear_results(state: State<'_, AppState>) -> CommandResult<u64> {
    let operator = state.require(Permission::Edit)?;
    if lock(&state.scan).is_some() {
        return Err(CommandError::invalid(
            "a scan is running: wait for it to finish or cancel it before clearing results",
        ));
    }
    state
        .with_store(move |s| Ok(s.clear_results(&operator)?))
        .await
}

#[tauri::command]
#[specta::specta]
pub async fn whitelist_add(
    state: State<'_, AppState>,
    subscriber: String,
    reason: String,
) -> CommandResult<()> {
    let operator = state.require(Permission::Whitelist)?;
    let subscriber = check_subscriber(&subscriber)?;
    let reason = reason_of(
        Some(&reason),
        None,
        "say why the subscriber is excused; the reason is shown next to their results",
    )?;
    state
        .with_store(move |s| Ok(s.whitelist_add(&subscriber, &reason, &operator, None)?))
        .await
}

#[tauri::command]
#[specta::specta]
pub async fn whitelist_remove(state: State<'_, AppState>, subscriber: String) -> CommandResult<()> {
    let operator = state.require(Permission::Whitelist)?;
    let subscriber = check_subscriber(&subscriber)?;
    state
        .with_store(move |s| {
            s.whitelist_remove(&subscriber, &operator)?;
            Ok(())
        })
        .await
}

/// The whitelist, newest first; expired entries too when asked.
#[tauri::command]
#[specta::specta]
pub async fn whitelist_list(
    state: State<'_, AppState>,
    include_expired: bool,
) -> CommandResult<Vec<shareguard_store::WhitelistEntry>> {
    state.require(Permission::View)?;
    state
        .with_store(move |s| Ok(s.whitelist_list(include_expired)?))
        .await
}

/// Sets or (with an empty tag) removes a subscriber's reseller/area tag.
#[tauri::command]
#[specta::specta]
pub async fn set_subscriber_tag(
    state: State<'_, AppState>,
    subscriber: String,
    tag: Option<String>,
) -> CommandResult<()> {
    let operator = state.require(Permission::Edit)?;
    let subscriber = check_subscriber(&subscriber)?;
    let tag = tag_of(tag);
    state
        .with_store(move |s| {
            s.set_subscriber_tag(&subscriber, tag.as_deref(), &operator)?;
            Ok(())
        })
        .await
}

#[tauri::command]
#[specta::specta]
pub async fn audit_log(
    state: State<'_, AppState>,
    limit: u32,
    operator: Option<String>,
    action: Option<String>,
    subject: Option<String>,
) -> CommandResult<Vec<AuditRecord>> {
    state.require(Permission::View)?;
    let limit = limit.clamp(1, 10_000);
    let clean = |v: Option<String>| v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    let filter = AuditFilter {
        operator: clean(operator),
        action: clean(action),
        subject: clean(subject),
        limit: Some(limit),
        ..Default::default()
    };
    state.with_store(move |s| Ok(s.audit_log(&filter)?)).await
}
