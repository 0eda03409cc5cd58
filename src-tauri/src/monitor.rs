//! The abuse monitor in the app: the background loop that runs a cycle every
//! interval while the app is open (also in the tray, paused with scheduled
//! work), and the Abuse screen's commands. The cycle itself is the engine's.

use std::time::Duration;

use radius_dac::RateLimit;
use serde::Deserialize;
use shareguard_engine::actions::records::{self, Lifted, Penalty, PenaltyReport};
use shareguard_engine::monitor::{CycleReport, MonitorSettings, MONITOR_KEY};
use shareguard_engine::monitor_overview::{self, CycleSummary, MonitorOverview};
use shareguard_engine::router::Router;
use shareguard_store::{AuditEntry, Permission};
use tauri::{AppHandle, Emitter, Manager, Runtime, State};

use crate::error::{CommandError, CommandResult};
use crate::input::{check_subscriber, reason_of};
use crate::state::{lock, AppState};

async fn load_settings(state: &AppState) -> CommandResult<MonitorSettings> {
    state
        .with_store(move |s| Ok(s.get_setting(MONITOR_KEY)?.unwrap_or_default()))
        .await
}

/// Runs one cycle over every router actions can reach, remembers it, tells
/// the window, and notifies the owner of what needs their attention.
pub async fn run_cycle<R: Runtime>(app: &AppHandle<R>) -> CommandResult<Option<CycleSummary>> {
    let state = app.state::<AppState>();
    let settings = load_settings(&state).await?;
    let routers = state.router_book().await.routers().await?;
    if routers.is_empty() {
        return Ok(None);
    }
    let report = {
        let mut monitor = state.monitor.lock().await;
        monitor.cycle(&state.store, &routers, &settings).await?
    };
    let summary = CycleSummary::from(&report);
    *lock(&state.last_cycle) = Some(summary.clone());
    let _ = app.emit("monitor-cycle", &summary);
    notify(app, &report).await;
    Ok(Some(summary))
}

/// One notification per cycle, only for what asks for the owner: new
/// warnings that call for a throttle or ban, actions taken, a tripped breaker.
async fn notify<R: Runtime>(app: &AppHandle<R>, r: &CycleReport) {
    let serious: Vec<_> = r
        .opened()
        .filter(|w| w.severity > shareguard_detect::abuse::Severity::Warning)
        .collect();
    let acted: Vec<_> = r.actions.iter().filter(|a| a.acted()).collect();
    let body = if let Some(t) = &r.tripped {
        format!(
            "Automatic abuse actions paused: {} subscribers at once, more than the limit of {}. Check the abuse thresholds, then resume on the Abuse screen.",
            t.candidates, t.cap
        )
    } else if !acted.is_empty() {
        let names: Vec<&str> = acted.iter().map(|a| a.subscriber.as_str()).collect();
        format!(
            "Abuse monitor acted on {}: {}",
            names.len(),
            names.join(", ")
        )
    } else if !serious.is_empty() {
        let first = serious[0];
        format!(
            "{}. {} on {}: {}",
            shareguard_detect::words::count(serious.len() as u64, "new abuse warning"),
            first.kind.label(),
            first.subscriber,
            first.details
        )
    } else {
        return;
    };
    crate::background::notify_owner(
        app,
        "ShareGuard abuse monitor",
        &body,
        serde_json::json!({ "source": "abuse" }),
    )
    .await;
}

/// Starts the monitor loop: a cycle now and then every interval, while the
/// monitor is on and scheduled work is not paused. Settings are read each
/// time, so a change applies from the next cycle.
pub fn start_monitor<R: Runtime>(app: &AppHandle<R>) {
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        // Let the window come up first.
        tokio::time::sleep(Duration::from_secs(2)).await;
        loop {
            let state = app.state::<AppState>();
            let settings = load_settings(&state).await.unwrap_or_default();
            let paused = lock(&state.runner).as_ref().is_some_and(|r| r.is_paused());
            if settings.enabled && !paused {
                if let Err(e) = run_cycle(&app).await {
                    tracing::warn!("abuse monitor cycle failed: {}", e.message);
                }
            }
            tokio::time::sleep(Duration::from_secs(u64::from(settings.interval_s.max(10)))).await;
        }
    });
}

#[tauri::command]
#[specta::specta]
pub async fn monitor_overview(
    state: State<'_, AppState>,
    hours: Option<u32>,
) -> CommandResult<MonitorOverview> {
    state.require(Permission::View)?;
    let last_cycle = lock(&state.last_cycle).clone();
    Ok(monitor_overview::overview(&state.store, hours.unwrap_or(24), last_cycle).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn save_monitor_settings(
    state: State<'_, AppState>,
    settings: MonitorSettings,
) -> CommandResult<()> {
    let operator = state.require(Permission::Edit)?;
    settings.validate().map_err(CommandError::invalid)?;
    let entry = AuditEntry::new(&operator, "settings_changed")
        .subject("abuse monitor")
        .details(serde_json::to_value(&settings).unwrap_or_default());
    state
        .with_store(move |s| Ok(s.set_setting_audited(MONITOR_KEY, &settings, &entry)?))
        .await
}

/// Runs a monitor cycle now ("Check now").
#[tauri::command]
#[specta::specta]
pub async fn run_monitor<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
) -> CommandResult<Option<CycleSummary>> {
    state.require(Permission::Scan)?;
    run_cycle(&app).await
}

/// A manual throttle or ban as the owner asks for it.
#[derive(Debug, Deserialize, specta::Type)]
pub struct PenaltyInput {
    pub subscriber: String,
    #[specta(optional)]
    pub minutes: Option<u32>,
    #[specta(optional)]
    pub reason: Option<String>,
    /// Throttle only: the rate to set instead of the share of the plan.
    #[specta(optional)]
    pub rate: Option<String>,
    /// Ban only: install the ban rule first (after the owner saw its preview).
    #[serde(default)]
    pub install_rule: bool,
}

/// The checked penalty the owner asked for, and the router the subscriber
/// was last seen on.
async fn penalty(
    state: &AppState,
    input: &PenaltyInput,
    default_reason: &str,
) -> CommandResult<(Penalty, Router)> {
    let operator = state.require(Permission::Act)?;
    let subscriber = check_subscriber(&input.subscriber)?;
    let minutes = input.minutes.unwrap_or(30);
    if !(1..=30 * 24 * 60).contains(&minutes) {
        return Err(CommandError::invalid(
            "the duration must be between 1 minute and 30 days",
        ));
    }
    let reason = reason_of(input.reason.as_deref(), Some(default_reason), "")?;
    let router = state.router_book().await.router_of(&subscriber).await?;
    let p = Penalty {
        subscriber,
        operator,
        reason,
        minutes,
        dry_run: false,
        warnings: Vec::new(),
        escalated: false,
    };
    Ok((p, router))
}

#[tauri::command]
#[specta::specta]
pub async fn throttle_subscriber(
    state: State<'_, AppState>,
    input: PenaltyInput,
) -> CommandResult<PenaltyReport> {
    let (p, router) = penalty(&state, &input, "throttled from the app").await?;
    let rate = input
        .rate
        .as_deref()
        .map(RateLimit::parse)
        .transpose()
        .map_err(CommandError::invalid)?;
    let settings = load_settings(&state).await?;
    Ok(
        records::throttle_and_record(&state.store, &router, &p, settings.throttle_percent, rate)
            .await?,
    )
}

#[tauri::command]
#[specta::specta]
pub async fn ban_subscriber(
    state: State<'_, AppState>,
    input: PenaltyInput,
) -> CommandResult<PenaltyReport> {
    let (p, router) = penalty(&state, &input, "banned from the app").await?;
    if input.install_rule {
        records::install_ban_rule_and_record(&state.store, &router, &p.operator).await?;
    }
    Ok(records::ban_and_record(&state.store, &router, &p).await?)
}

/// Limits a subscriber's connections (PPPoE) or sessions (hotspot). On
/// PPPoE the connection-limit rules are installed first when the owner,
/// having seen them, asks for it.
#[tauri::command]
#[specta::specta]
pub async fn limit_subscriber(
    state: State<'_, AppState>,
    mut input: PenaltyInput,
) -> CommandResult<PenaltyReport> {
    let settings = load_settings(&state).await?.limits;
    input.minutes = input.minutes.or(Some(settings.minutes));
    let (p, router) = penalty(&state, &input, "limited from the app").await?;
    if input.install_rule {
        records::install_limit_rules_and_record(&state.store, &router, &settings, &p.operator)
            .await?;
    }
    Ok(records::limit_and_record(&state.store, &router, &p, &settings).await?)
}

/// Lifts a throttle, ban or limit before it runs out.
#[tauri::command]
#[specta::specta]
pub async fn lift_action(state: State<'_, AppState>, id: i64) -> CommandResult<Lifted> {
    let operator = state.require(Permission::Act)?;
    let action = state
        .with_store(move |s| {
            s.actions_in_force()?
                .into_iter()
                .find(|a| a.id == Some(id))
                .ok_or_else(|| CommandError::invalid("that action has already ended"))
        })
        .await?;
    let routers = state.router_book().await.routers().await?;
    Ok(records::lift(
        &state.store,
        &routers,
        &action,
        &operator,
        "lifted by the owner",
    )
    .await?)
}
