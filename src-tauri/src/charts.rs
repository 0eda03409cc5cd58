//! The window's charts, drawn by the report crate's plotters code: the same
//! pictures as the PDF reports, as SVG in the window's theme. The window
//! only places them; every figure comes from the store.

use chrono::Utc;
use serde::Serialize;
use shareguard_report::collect::{abuse_report, results_overview, subscriber_report, TREND_SCANS};
use shareguard_report::{Chart, Size, Theme};
use shareguard_store::Permission;
use tauri::State;

use crate::error::CommandResult;
use crate::input::{check_subscriber, tag_of};
use crate::reports::last_days;
use crate::state::{blocking, lock, AppState};

/// Half the dashboard's width: two charts side by side.
const HALF: Size = Size {
    width: 560,
    height: 280,
};
/// A chart across the page.
const WIDE: Size = Size {
    width: 960,
    height: 300,
};

/// One router's TTL distribution.
#[derive(Debug, Serialize, specta::Type)]
pub struct RouterChart {
    pub router: String,
    pub svg: String,
}

/// The dashboard's charts for the latest scan.
#[derive(Debug, Serialize, specta::Type)]
pub struct DashboardCharts {
    /// Whether any subscriber has been checked; without results the charts
    /// say so in words.
    pub scanned: bool,
    /// Subscribers in view per level, normal to critical, from the same
    /// pass as the charts.
    pub levels: [u64; 5],
    /// TTL distribution over every subscriber in view.
    pub ttl: String,
    /// TTL distribution per router, in name order.
    pub ttl_by_router: Vec<RouterChart>,
    /// Subscribers by connection count, thresholds marked.
    pub connections: String,
    /// Flagged subscribers per scan.
    pub trend: String,
}

/// The abuse monitor's charts over the last days.
#[derive(Debug, Serialize, specta::Type)]
pub struct MonitorCharts {
    pub days: u32,
    /// Warnings opened per kind over time.
    pub timeline: String,
    /// The subscribers with the most warnings.
    pub offenders: String,
}

/// One subscriber's charts.
#[derive(Debug, Serialize, specta::Type)]
pub struct SubscriberCharts {
    /// TTLs in the latest scan that saw them, expected values marked.
    pub ttl: String,
    /// Connections per scan, thresholds marked.
    pub connections: String,
}

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
    let store = state.store.clone();
    let tag = tag_of(tag);
    blocking(move || {
        let (overview, trend) = {
            let s = lock(&store);
            (
                results_overview(&s, tag.as_deref())?,
                s.flag_trend(TREND_SCANS, tag.as_deref())?,
            )
        };
        let ttl_by_router = overview
            .ttl_by_router
            .iter()
            .map(|r| {
                Ok(RouterChart {
                    router: r.router.clone(),
                    svg: Chart::TtlDistribution(&r.distribution).svg(theme, HALF)?,
                })
            })
            .collect::<CommandResult<_>>()?;
        Ok(DashboardCharts {
            scanned: overview.totals.checked > 0,
            levels: overview.totals.by_level,
            ttl: Chart::TtlDistribution(&overview.ttl).svg(theme, HALF)?,
            ttl_by_router,
            connections: Chart::Connections(&overview.connections).svg(theme, HALF)?,
            trend: Chart::FlagTrend(&trend).svg(theme, HALF)?,
        })
    })
    .await
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
    // Drawn after the database's lock is released.
    blocking(move || {
        Ok(MonitorCharts {
            days,
            timeline: Chart::WarningTimeline(&report.timeline).svg(theme, WIDE)?,
            offenders: Chart::TopOffenders(&report.metrics.top_offenders).svg(theme, WIDE)?,
        })
    })
    .await
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
    blocking(move || {
        let recent = &r.history[..r.history.len().min(TREND_SCANS as usize * 2)];
        Ok(SubscriberCharts {
            ttl: Chart::TtlDistribution(&r.ttl).svg(theme, HALF)?,
            connections: Chart::ConnectionHistory {
                history: recent,
                settings: &r.settings,
            }
            .svg(theme, HALF)?,
        })
    })
    .await
}
