//! The desktop window's chart sets: the same pictures as the PDF reports, as
//! SVG in the window's theme, one set per screen. Each is read from the
//! store first and drawn afterwards, so the database is never held while a
//! chart is drawn.

use serde::Serialize;
use shareguard_store::{Store, TrendPoint};

use crate::charts::{Chart, Size, Theme};
use crate::collect::{results_overview, TREND_SCANS};
use crate::error::ReportError;
use crate::model::{AbuseReport, ResultsOverview, SubscriberReport};

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
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct RouterChart {
    pub router: String,
    pub svg: String,
}

/// The dashboard's charts for the latest scan.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
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
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct MonitorCharts {
    pub days: u32,
    /// Warnings opened per kind over time.
    pub timeline: String,
    /// The subscribers with the most warnings.
    pub offenders: String,
}

/// One subscriber's charts.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct SubscriberCharts {
    /// TTLs in the latest scan that saw them, expected values marked.
    pub ttl: String,
    /// Connections per scan, thresholds marked.
    pub connections: String,
}

/// What the dashboard's charts are drawn from: one pass over every
/// subscriber's latest result (what the results table shows), optionally
/// one reseller's or area's, and the flagged count of recent scans.
pub struct DashboardFigures {
    overview: ResultsOverview,
    trend: Vec<TrendPoint>,
}

impl DashboardFigures {
    pub fn read(store: &Store, tag: Option<&str>) -> Result<Self, ReportError> {
        Ok(Self {
            overview: results_overview(store, tag)?,
            trend: store.flag_trend(TREND_SCANS, tag)?,
        })
    }

    pub fn draw(&self, theme: Theme) -> Result<DashboardCharts, ReportError> {
        let o = &self.overview;
        let ttl_by_router = o
            .ttl_by_router
            .iter()
            .map(|r| {
                Ok(RouterChart {
                    router: r.router.clone(),
                    svg: Chart::TtlDistribution(&r.distribution).svg(theme, HALF)?,
                })
            })
            .collect::<Result<_, ReportError>>()?;
        Ok(DashboardCharts {
            scanned: o.totals.checked > 0,
            levels: o.totals.by_level,
            ttl: Chart::TtlDistribution(&o.ttl).svg(theme, HALF)?,
            ttl_by_router,
            connections: Chart::Connections(&o.connections).svg(theme, HALF)?,
            trend: Chart::FlagTrend(&self.trend).svg(theme, HALF)?,
        })
    }
}

impl MonitorCharts {
    /// The warnings over time and the top offenders of `report`, which
    /// covers the last `days` days.
    pub fn draw(report: &AbuseReport, days: u32, theme: Theme) -> Result<Self, ReportError> {
        Ok(Self {
            days,
            timeline: Chart::WarningTimeline(&report.timeline).svg(theme, WIDE)?,
            offenders: Chart::TopOffenders(&report.metrics.top_offenders).svg(theme, WIDE)?,
        })
    }
}

impl SubscriberCharts {
    /// The subscriber's TTL histogram and their recent connection history.
    pub fn draw(report: &SubscriberReport, theme: Theme) -> Result<Self, ReportError> {
        let recent = &report.history[..report.history.len().min(TREND_SCANS as usize * 2)];
        Ok(Self {
            ttl: Chart::TtlDistribution(&report.ttl).svg(theme, HALF)?,
            connections: Chart::ConnectionHistory {
                history: recent,
                settings: &report.settings,
            }
            .svg(theme, HALF)?,
        })
    }
}
