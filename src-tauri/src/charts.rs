//! The window's chart commands: each screen's set is the report crate's
//! `window_charts` (the same pictures as the PDF reports, as SVG in the
//! window's theme). The window only places them.

use chrono::Utc;
use shareguard_report::collect::{abuse_report, subscriber_report};
use shareguard_report::window_charts::{
    DashboardCharts, DashboardFigures, MonitorCharts, SubscriberCharts,
};
use shareguard_report::Theme;
use shareguard_store::Permission;
use tauri::State;

use crate::error::CommandResult;
use crate::input::{check_subscriber, tag_of};
use crate::reports::last_days;
use crate::state::{blocking, AppState};

/// The dashboard's charts, from one pass over every subscriber's latest
/// result (what the results table shows) and the flagged count of recent
/// scans, optionally for one reseller's or area's subscribers.
#[tauri::command]
#[specta::specta]
pub async fn dashboard_charts(
    state: State<'_, AppState>,
    tag: Option<String>,
    theme: Theme,
) -> CommandResult<DashboardCharts> {
    state.require(Permission::View)?;
    let tag = tag_of(tag);
    let figures = state
        .with_store(move |s| Ok(DashboardFigures::read(s, tag.as_deref())?))
        .await?;
    // Drawn after the database's lock is released.
    blocking(move || Ok(figures.draw(theme)?)).await
}

/// Warnings over time and the top offenders for the last `days` days.
#[tauri::command]
#[specta::specta]
pub async fn monitor_charts(
    state: State<'_, AppState>,
    days: u32,
    theme: Theme,
) -> CommandResult<MonitorCharts> {
    state.require(Permission::View)?;
    let (from, to) = last_days(days, "an abuse chart")?;
    let report = state
        .with_store(move |s| Ok(abuse_report(s, from, to, to)?))
        .await?;
    blocking(move || Ok(MonitorCharts::draw(&report, days, theme)?)).await
}

/// One subscriber's TTL histogram and connection history.
#[tauri::command]
#[specta::specta]
pub async fn subscriber_charts(
    state: State<'_, AppState>,
    subscriber: String,
    theme: Theme,
) -> CommandResult<SubscriberCharts> {
    state.require(Permission::View)?;
    let name = check_subscriber(&subscriber)?;
    let r = state
        .with_store(move |s| Ok(subscriber_report(s, &name, Utc::now())?))
        .await?;
    blocking(move || Ok(SubscriberCharts::draw(&r, theme)?)).await
}
