//! The abuse monitor's cycle: lift what expired, read every router in
//! parallel, run the detectors, store warnings, and (only when the owner
//! enabled it) throttle or ban within the circuit breaker.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Duration as Span, Utc};
use routeros_client::Client;
use serde::{Deserialize, Serialize};
use shareguard_detect::abuse::{
    decide, findings, AbuseKind, AbuseThresholds, Escalation, Severity,
};
use shareguard_scan::allowance::{given_up, within_allowance, Progress};
use shareguard_scan::monitor::{read_monitor, MonitorReading, NasMemory};
use shareguard_store::{
    ActionKind, AuditEntry, CycleStats, Sighting, Store, WarningMark, SYSTEM_OPERATOR,
};

use crate::actions::limit::LimitSettings;
use crate::actions::records::{self, Lifted, Penalty};
use crate::breaker::{trip_breaker, Breaker, Trip, BREAKER_KEY};
use crate::follow::{follow_sessions, Moved};
use crate::persist::{store_task, EngineError};
use crate::router::Router;

/// The settings key of [`MonitorSettings`].
pub const MONITOR_KEY: &str = "abuse_monitor";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(default)]
pub struct MonitorSettings {
    /// Run the monitor while the app is open.
    pub enabled: bool,
    pub interval_s: u32,
    pub thresholds: AbuseThresholds,
    pub escalation: Escalation,
    /// Throttle and ban on their own. Off by default: warnings only, until
    /// the owner has seen what the monitor finds on their network.
    pub auto_actions: bool,
    /// Record what would be done without sending anything.
    pub dry_run: bool,
    /// A throttle's share of the plan.
    pub throttle_percent: u8,
    /// How long a warning without an action stays open; a sighting after it
    /// is a new violation.
    pub warning_open_min: u32,
    /// Connection limits for suspicious subscribers.
    pub limits: LimitSettings,
}

impl Default for MonitorSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            interval_s: 60,
            thresholds: AbuseThresholds::default(),
            escalation: Escalation::default(),
            auto_actions: false,
            dry_run: false,
            throttle_percent: 25,
            warning_open_min: 60,
            limits: LimitSettings::default(),
        }
    }
}

impl MonitorSettings {
    pub fn validate(&self) -> Result<(), String> {
        if !(10..=3600).contains(&self.interval_s) {
            return Err(format!(
                "the monitor interval must be between 10 s and 1 hour (got {} s); the usual value is 60",
                self.interval_s
            ));
        }
        if !(1..=90).contains(&self.throttle_percent) {
            return Err(format!(
                "a throttle must keep 1% to 90% of the plan (got {}%); the usual value is 25%",
                self.throttle_percent
            ));
        }
        if !(1..=24 * 60).contains(&self.warning_open_min) {
            return Err("a warning must stay open between 1 minute and 24 hours".into());
        }
        self.thresholds.validate()?;
        self.limits.validate()?;
        self.escalation.validate()
    }
}

/// One router's part of a cycle.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct RouterCycle {
    pub nas: String,
    pub ok: bool,
    pub error: Option<String>,
    pub error_kind: Option<String>,
    pub subscribers: u32,
    pub connections: u64,
    pub table_rows: u64,
    pub elapsed_ms: u64,
}

/// A warning as the cycle saw it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct CycleWarning {
    pub warning_id: i64,
    pub subscriber: String,
    pub nas: String,
    pub kind: AbuseKind,
    pub severity: Severity,
    pub details: String,
    /// True when this cycle opened it (a new violation).
    pub opened: bool,
}

/// What the cycle did about one subscriber.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct CycleAction {
    pub subscriber: String,
    pub nas: String,
    pub step: Severity,
    pub escalated: bool,
    pub minutes: Option<u32>,
    /// `done`, `dry_run`, `recommended` (automatic actions off), `skipped`
    /// or `failed`.
    pub outcome: String,
    pub note: String,
}

impl CycleAction {
    /// True when the step was taken (or, in a dry run, recorded as taken).
    pub fn acted(&self) -> bool {
        matches!(self.outcome.as_str(), "done" | "dry_run")
    }
}

/// Everything one cycle did.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct CycleReport {
    pub at: DateTime<Utc>,
    pub routers: Vec<RouterCycle>,
    pub subscribers: u32,
    pub warnings: Vec<CycleWarning>,
    pub actions: Vec<CycleAction>,
    pub lifted: Vec<Lifted>,
    /// Expired actions that could not be lifted yet (retried next cycle).
    pub lift_failures: Vec<(i64, String)>,
    /// Bans and limits moved to their subscribers' new addresses (redials).
    pub moved: Vec<Moved>,
    /// Routers whose bans and limits could not be checked (retried next cycle).
    pub follow_failures: Vec<(String, String)>,
    /// Set when this cycle tripped the breaker.
    pub tripped: Option<Trip>,
    /// The breaker was already tripped: nothing automatic was done.
    pub paused: bool,
    /// Hotspot sessions ended because an account held more than its cap.
    pub ended_sessions: Vec<EndedSession>,
    pub elapsed_ms: u64,
}

/// A hotspot session ended by the session cap.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct EndedSession {
    pub nas: String,
    pub subscriber: String,
    pub item: String,
}

impl CycleReport {
    pub fn opened(&self) -> impl Iterator<Item = &CycleWarning> {
        self.warnings.iter().filter(|w| w.opened)
    }

    /// The router whose read took longest: routers are read at once, so
    /// it is the one that held the cycle up.
    pub fn slowest(&self) -> Option<&RouterCycle> {
        self.routers.iter().max_by_key(|r| r.elapsed_ms)
    }
}

/// The monitor's memory across cycles (connection ids, counters, sustained
/// use), one per router.
#[derive(Debug, Default)]
pub struct Monitor {
    memory: HashMap<String, NasMemory>,
}

impl Monitor {
    pub fn new() -> Self {
        Self::default()
    }

    /// Runs one cycle over `routers`.
    pub async fn cycle(
        &mut self,
        store: &Arc<Mutex<Store>>,
        routers: &[Router],
        settings: &MonitorSettings,
    ) -> Result<CycleReport, EngineError> {
        let t0 = Instant::now();
        let at = Utc::now();
        let (lifted, lift_failures) = records::lift_expired(store, routers, at).await?;
        let (moved, follow_failures) = follow_sessions(store, routers, at).await?;
        let reads = self
            .read_all(
                routers,
                settings.thresholds.hog_percent,
                Duration::from_secs(u64::from(settings.interval_s)),
            )
            .await;

        let whitelist = store_task(store, |s| s.active_whitelist(Utc::now())).await?;
        let mut stats = Vec::new();
        let mut router_rows = Vec::new();
        let mut sightings = Vec::new();
        let mut subscribers = 0u32;
        let mut crowded = Vec::new();
        for (router, elapsed_ms, read) in reads {
            let name = router.target.name.clone();
            match read {
                Ok(reading) => {
                    if shares_sessions(router, &reading) {
                        crowded.push(router);
                    }
                    let n = reading.samples.len() as u32;
                    subscribers += n;
                    stats.push(CycleStats {
                        nas: name.clone(),
                        subscribers: n,
                        connections: reading.connections,
                        p2p_connections: reading.p2p_connections,
                        elapsed_ms,
                    });
                    router_rows.push(RouterCycle {
                        nas: name.clone(),
                        ok: true,
                        error: None,
                        error_kind: None,
                        subscribers: n,
                        connections: reading.connections,
                        table_rows: reading.table_rows,
                        elapsed_ms,
                    });
                    sightings.extend(sightings_of(&reading, &settings.thresholds));
                }
                Err((kind, error)) => router_rows.push(RouterCycle {
                    nas: name,
                    ok: false,
                    error: Some(error),
                    error_kind: Some(kind),
                    subscribers: 0,
                    connections: 0,
                    table_rows: 0,
                    elapsed_ms,
                }),
            }
        }
        let open_for = Span::minutes(i64::from(settings.warning_open_min));
        let stored_sightings = sightings.clone();
        let sighted = store_task(store, move |s| {
            s.record_cycle(at, &stats, &stored_sightings, open_for)
        })
        .await?;
        let warnings: Vec<CycleWarning> = sighted
            .iter()
            .zip(&sightings)
            .map(|(d, s)| CycleWarning {
                warning_id: d.warning_id,
                subscriber: s.subscriber.clone(),
                nas: s.nas.clone(),
                kind: s.finding.kind,
                severity: s.finding.severity,
                details: s.finding.details.clone(),
                opened: d.opened,
            })
            .collect();
        let mut report = CycleReport {
            at,
            routers: router_rows,
            subscribers,
            warnings,
            actions: Vec::new(),
            lifted,
            lift_failures,
            moved,
            follow_failures,
            tripped: None,
            paused: false,
            ended_sessions: Vec::new(),
            elapsed_ms: 0,
        };
        if settings.limits.enforce_hotspot_sessions {
            report.ended_sessions = cap_sessions(store, &crowded, &settings.limits).await?;
        }
        self.act(store, routers, settings, &whitelist, &mut report)
            .await?;
        report.elapsed_ms = t0.elapsed().as_millis() as u64;
        Ok(report)
    }

    /// Reads every router at once, each within its budget, each with its
    /// own memory. A failed read forgets that router's memory, so the next
    /// cycle does not count every connection as new.
    async fn read_all<'r>(
        &mut self,
        routers: &'r [Router],
        hog_percent: u8,
        interval: Duration,
    ) -> Vec<(&'r Router, u64, Result<MonitorReading, (String, String)>)> {
        let mut tasks = tokio::task::JoinSet::new();
        for (i, r) in routers.iter().enumerate() {
            let mut memory = self.memory.remove(&r.target.name).unwrap_or_default();
            let target = r.target.clone();
            tasks.spawn(async move {
                let t0 = Instant::now();
                // As in a scan: the time follows the size of the router's
                // table, and a stall ends at the silence limit.
                let progress = Progress::default();
                let budget = target.budget.max(Duration::from_secs(5));
                let job = async {
                    let mut c = Client::connect(&target.connect).await?;
                    read_monitor(&mut c, &target, &mut memory, hog_percent, &progress).await
                };
                // Routers are read at once and the cycle waits for all: one
                // that needs longer than the interval would make every cycle
                // late, so it is skipped this cycle, saying why.
                let out = match tokio::time::timeout(
                    interval,
                    within_allowance(budget, &progress, job),
                )
                .await
                {
                    Ok(Ok(Ok(r))) => Ok(r),
                    Ok(Ok(Err(e))) => Err((e.kind().to_string(), e.to_string())),
                    Ok(Err(elapsed)) => Err((
                        "timeout".to_string(),
                        given_up(&target.name, &target.address(), budget, elapsed, &progress),
                    )),
                    Err(_) => Err((
                        "timeout".to_string(),
                        format!(
                            "{} needed longer than the monitor's {} s interval ({} of {} connections read), so it was skipped this cycle rather than make every cycle late; raise the interval on the Abuse screen, or watch this router on its own",
                            target.name,
                            interval.as_secs(),
                            progress.rows(),
                            progress
                                .expected()
                                .map_or_else(|| "its".to_string(), |n| n.to_string()),
                        ),
                    )),
                };
                if out.is_err() {
                    memory.reset();
                }
                (i, t0.elapsed().as_millis() as u64, out, memory)
            });
        }
        let mut out = Vec::with_capacity(routers.len());
        while let Some(joined) = tasks.join_next().await {
            match joined {
                Ok((i, ms, read, memory)) => {
                    self.memory.insert(routers[i].target.name.clone(), memory);
                    out.push((&routers[i], ms, read));
                }
                Err(e) => tracing::error!("a monitor read task failed: {e}"),
            }
        }
        out.sort_by_key(|(r, _, _)| r.target.name.clone());
        out
    }

    /// Decides and takes the automatic steps for subscribers with new
    /// violations, then stores what was done about each warning in one
    /// transaction (a cycle can open thousands).
    async fn act(
        &mut self,
        store: &Arc<Mutex<Store>>,
        routers: &[Router],
        settings: &MonitorSettings,
        whitelist: &HashMap<String, String>,
        report: &mut CycleReport,
    ) -> Result<(), EngineError> {
        let mut marks = Vec::new();
        let acted = decide_and_act(store, routers, settings, whitelist, report, &mut marks).await;
        if !marks.is_empty() {
            store_task(store, move |s| s.set_warning_actions(&marks)).await?;
        }
        acted
    }
}

/// Whether some account on a hotspot router holds more than one session,
/// the only case in which the session cap can have anything to end: the
/// sessions are re-read only then.
fn shares_sessions(router: &Router, reading: &MonitorReading) -> bool {
    if router.target.access != shareguard_detect::Access::Hotspot {
        return false;
    }
    let mut seen = std::collections::HashSet::with_capacity(reading.samples.len());
    reading
        .samples
        .iter()
        .any(|s| !seen.insert(s.subscriber.as_str()))
}

/// Ends the sessions over the caps on `routers`, each recorded in the audit
/// log. A router that fails is logged and tried again next cycle.
async fn cap_sessions(
    store: &Arc<Mutex<Store>>,
    routers: &[&Router],
    limits: &LimitSettings,
) -> Result<Vec<EndedSession>, EngineError> {
    let mut ended = Vec::new();
    for router in routers {
        let trimmed = async {
            let mut c = Client::connect(&router.target.connect).await?;
            crate::actions::limit::trim_hotspot_sessions(&mut c, limits, None).await
        };
        match tokio::time::timeout(router.target.budget, trimmed).await {
            Ok(Ok(list)) => ended.extend(list.into_iter().map(|s| EndedSession {
                nas: router.target.name.clone(),
                subscriber: s.user,
                item: s.item,
            })),
            Ok(Err(e)) => {
                tracing::warn!(nas = %router.target.name, "could not cap hotspot sessions: {e}")
            }
            Err(_) => {
                tracing::warn!(nas = %router.target.name, "capping hotspot sessions timed out")
            }
        }
    }
    if !ended.is_empty() {
        let entries: Vec<AuditEntry> = ended
            .iter()
            .map(|e| {
                AuditEntry::new(SYSTEM_OPERATOR, "session_capped")
                    .subject(&e.subscriber)
                    .details(serde_json::json!({ "nas": e.nas, "session": e.item }))
            })
            .collect();
        store_task(store, move |s| {
            entries.iter().try_for_each(|e| s.audit(e).map(|_| ()))
        })
        .await?;
    }
    Ok(ended)
}

/// [`Monitor::act`]'s decisions and actions; what was done about each
/// warning goes to `marks`.
async fn decide_and_act(
    store: &Arc<Mutex<Store>>,
    routers: &[Router],
    settings: &MonitorSettings,
    whitelist: &HashMap<String, String>,
    report: &mut CycleReport,
    marks: &mut Vec<WarningMark>,
) -> Result<(), EngineError> {
    // Per subscriber: the new warnings and the strictest step they call for.
    let mut new: BTreeMap<(String, String), NewViolation> = BTreeMap::new();
    for w in report.opened() {
        let e = new
            .entry((w.subscriber.clone(), w.nas.clone()))
            .or_insert(NewViolation {
                called_for: Severity::Warning,
                ids: Vec::new(),
                kinds: Vec::new(),
            });
        e.called_for = e.called_for.max(w.severity);
        e.ids.push(w.warning_id);
        e.kinds.push(w.kind.label());
    }
    if new.is_empty() {
        return Ok(());
    }
    let in_force: HashMap<String, ActionKind> = store_task(store, |s| s.actions_in_force())
        .await?
        .into_iter()
        .map(|a| (a.subscriber, a.kind))
        .collect();
    let since = report.at - Span::hours(i64::from(settings.escalation.lookback_hours));
    let histories = store_task(store, move |s| s.abuse_histories(since)).await?;
    let mut planned = Vec::new();
    for ((sub, nas), v) in new {
        let NewViolation {
            called_for,
            ids,
            kinds,
        } = v;
        let history = histories.get(&sub).copied().unwrap_or_default();
        let d = decide(called_for, history, &settings.escalation);
        let mut row = CycleAction {
            subscriber: sub.clone(),
            nas: nas.clone(),
            step: d.severity,
            escalated: d.escalated,
            minutes: d.duration_min,
            outcome: String::new(),
            note: format!(
                "{} (violation {} in {} h)",
                kinds.join(", "),
                history.violations,
                settings.escalation.lookback_hours
            ),
        };
        let skip = if d.severity == Severity::Warning {
            Some(("none", None))
        } else if whitelist.contains_key(&sub) {
            Some(("skipped", Some("whitelisted: never acted on".to_string())))
        } else if in_force
            .get(&sub)
            .is_some_and(|k| rank(*k) >= rank_of(d.severity))
        {
            Some(("skipped", Some("an action is already in force".to_string())))
        } else if !settings.auto_actions {
            Some(("recommended", None))
        } else {
            None
        };
        match skip {
            Some(("none", _)) => continue,
            Some((outcome, note)) => {
                row.outcome = outcome.into();
                if let Some(n) = note {
                    row.note = format!("{}; {n}", row.note);
                }
                let text = format!("{} {}", outcome, step_text(&row));
                marks.push(mark(ids, outcome, &text, None, None));
                report.actions.push(row);
            }
            None => planned.push((row, ids)),
        }
    }
    if planned.is_empty() {
        return Ok(());
    }
    let breaker: Breaker = store_task(store, |s| {
        Ok(s.get_setting(BREAKER_KEY)?.unwrap_or_default())
    })
    .await?;
    let cap = breaker.cap(report.subscribers as usize);
    if breaker.tripped.is_some() || planned.len() > cap {
        let paused = breaker.tripped.is_some();
        if !paused {
            let trip = Trip {
                at: report.at,
                candidates: planned.len(),
                cap,
            };
            trip_breaker(store, &breaker, &trip, "abuse").await?;
            report.tripped = Some(trip);
        }
        report.paused = paused;
        for (mut row, ids) in planned {
            row.outcome = "skipped".into();
            row.note = format!(
                "{}; the circuit breaker is tripped, automatic actions are paused",
                row.note
            );
            marks.push(mark(ids, "skipped", "circuit breaker", None, None));
            report.actions.push(row);
        }
        return Ok(());
    }
    for (mut row, ids) in planned {
        let Some(router) = routers.iter().find(|r| r.target.name == row.nas) else {
            continue;
        };
        let p = Penalty {
            subscriber: row.subscriber.clone(),
            operator: SYSTEM_OPERATOR.into(),
            reason: format!("automatic: {}", row.note),
            minutes: row.minutes.unwrap_or(30),
            dry_run: settings.dry_run,
            warnings: ids.clone(),
            escalated: row.escalated,
        };
        let done = match row.step {
            Severity::Ban => records::ban_and_record(store, router, &p).await,
            _ => {
                records::throttle_and_record(store, router, &p, settings.throttle_percent, None)
                    .await
            }
        };
        match done {
            Ok(r) => {
                row.outcome = if settings.dry_run { "dry_run" } else { "done" }.into();
                row.note = format!("{}; {}", row.note, r.summary());
                let expires = (!settings.dry_run).then(|| r.expires_at());
                marks.push(mark(
                    ids,
                    &row.outcome,
                    &r.summary(),
                    r.action_id(),
                    expires,
                ));
            }
            Err(e) => {
                row.outcome = "failed".into();
                row.note = format!("{}; {e}", row.note);
                marks.push(mark(ids, "failed", &e.to_string(), None, None));
            }
        }
        report.actions.push(row);
    }
    Ok(())
}

/// One subscriber's warnings opened in this cycle.
struct NewViolation {
    /// The strictest step they call for.
    called_for: Severity,
    ids: Vec<i64>,
    kinds: Vec<&'static str>,
}

fn sightings_of(reading: &MonitorReading, t: &AbuseThresholds) -> Vec<Sighting> {
    reading
        .samples
        .iter()
        .flat_map(|s| {
            findings(s, t).into_iter().map(|f| Sighting {
                subscriber: s.subscriber.clone(),
                nas: s.nas.clone(),
                finding: f,
            })
        })
        .collect()
}

/// Throttle < ban, for "is something at least this strict in force".
fn rank(k: ActionKind) -> u8 {
    match k {
        ActionKind::Ban => 2,
        ActionKind::Throttle | ActionKind::Limit => 1,
        ActionKind::Disconnect => 0,
    }
}

fn rank_of(s: Severity) -> u8 {
    match s {
        Severity::Ban => 2,
        Severity::Throttle => 1,
        Severity::Warning => 0,
    }
}

fn step_text(row: &CycleAction) -> String {
    match row.minutes {
        Some(m) => format!("{} for {m} min", row.step.as_str()),
        None => row.step.as_str().to_string(),
    }
}

fn mark(
    ids: Vec<i64>,
    action: &str,
    note: &str,
    action_id: Option<i64>,
    expires_at: Option<DateTime<Utc>>,
) -> WarningMark {
    WarningMark {
        ids,
        action: action.into(),
        note: Some(note.into()),
        action_id,
        expires_at,
    }
}
