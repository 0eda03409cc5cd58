//! What a front end shows of the abuse monitor: a cycle in a few numbers,
//! and the Abuse screen's whole picture in one read.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration as Span, Utc};
use serde::Serialize;
use shareguard_store::{AbuseMetrics, Action, Store, Warning, WarningQuery};

use crate::breaker::{Breaker, BREAKER_KEY};
use crate::monitor::{CycleReport, MonitorSettings, MONITOR_KEY};
use crate::persist::{store_task, EngineError};

/// Most warnings the overview lists.
pub const OVERVIEW_WARNINGS: u32 = 500;
/// The longest range the overview covers, in hours (a year and a day).
pub const OVERVIEW_MAX_HOURS: u32 = 24 * 366;

/// A cycle in a few numbers, for the screen and the `monitor-cycle` event.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct CycleSummary {
    pub at: DateTime<Utc>,
    pub routers: usize,
    pub failed_routers: Vec<String>,
    pub subscribers: u32,
    pub warnings: usize,
    pub opened: usize,
    pub acted: usize,
    pub lifted: usize,
    pub tripped: bool,
    pub elapsed_ms: u64,
}

impl From<&CycleReport> for CycleSummary {
    fn from(r: &CycleReport) -> Self {
        Self {
            at: r.at,
            routers: r.routers.len(),
            failed_routers: r
                .routers
                .iter()
                .filter(|x| !x.ok)
                .map(|x| format!("{}: {}", x.nas, x.error.as_deref().unwrap_or("failed")))
                .collect(),
            subscribers: r.subscribers,
            warnings: r.warnings.len(),
            opened: r.opened().count(),
            acted: r.actions.iter().filter(|a| a.acted()).count(),
            lifted: r.lifted.len(),
            tripped: r.tripped.is_some(),
            elapsed_ms: r.elapsed_ms,
        }
    }
}

/// Everything the Abuse screen shows.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct MonitorOverview {
    pub settings: MonitorSettings,
    pub breaker: Breaker,
    pub metrics: AbuseMetrics,
    /// Warnings of the range, newest first (at most [`OVERVIEW_WARNINGS`]).
    pub warnings: Vec<Warning>,
    pub in_force: Vec<Action>,
    pub last_cycle: Option<CycleSummary>,
    /// The ban's filter rule, for the owner to see before installing it.
    pub ban_rule: String,
}

/// The monitor's picture over the last `hours` (1 to a year), with the last
/// cycle the front end remembers.
pub async fn overview(
    store: &Arc<Mutex<Store>>,
    hours: u32,
    last_cycle: Option<CycleSummary>,
) -> Result<MonitorOverview, EngineError> {
    let hours = hours.clamp(1, OVERVIEW_MAX_HOURS);
    store_task(store, move |s| {
        let to = Utc::now();
        let from = to - Span::hours(i64::from(hours));
        Ok(MonitorOverview {
            settings: s.get_setting(MONITOR_KEY)?.unwrap_or_default(),
            breaker: s.get_setting(BREAKER_KEY)?.unwrap_or_default(),
            metrics: s.abuse_metrics(from, to + Span::seconds(1))?,
            warnings: s.warnings(&WarningQuery {
                from: Some(from),
                limit: OVERVIEW_WARNINGS,
                ..Default::default()
            })?,
            in_force: s.actions_in_force()?,
            last_cycle,
            ban_rule: crate::actions::ban::ban_rule_preview(),
        })
    })
    .await
}
