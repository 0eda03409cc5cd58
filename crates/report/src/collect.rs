//! Reads what a report needs from the store into the plain records of
//! [`crate::model`].
//!
//! A scan's results are streamed ([`Store::for_each_scan_result`]) and
//! folded into counts, distributions and the flagged list as they arrive, so
//! a 30,000-subscriber scan never sits in memory as a whole; only the rows a
//! PDF lists are kept, up to a limit that keeps the document readable.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use shareguard_detect::{Access, DetectionSettings, Level, ScanSummary};
use shareguard_store::export::ExportedResult;
use shareguard_store::{AuditFilter, ResultFilter, Store, StoreError, WarningQuery};

use crate::error::ReportError;
use crate::model::{
    expected_ttls, AbuseReport, ConnectionHistogram, ResultsOverview, RouterStatus, RouterTtl,
    ScanReport, SubscriberReport, Totals, TtlDistribution, WarningTimeline,
};

/// Flagged subscribers a scan report lists, most suspicious first, each
/// with its reasons (about ten to a page); the CSV export has them all.
/// Beyond this a printed list stops being something anyone reads.
pub const FLAGGED_IN_PDF: usize = 1_000;
/// Warnings an abuse report lists (the strictest and latest).
pub const WARNINGS_IN_PDF: usize = 200;
/// Actions an abuse report lists (the first ones in the range).
pub const ACTIONS_IN_PDF: usize = 1_000;
/// Earlier verdicts, warnings, actions and audit entries an evidence pack lists.
pub const EVIDENCE_ROWS: u32 = 500;
/// Scans in the flagged-per-scan chart.
pub const TREND_SCANS: u32 = 30;

/// The scan asked for, or the latest one (`Ok(None)` when none is stored).
pub fn pick_scan(store: &Store, scan_id: Option<i64>) -> Result<Option<ScanSummary>, ReportError> {
    match scan_id {
        // A scan running now (or one killed mid-way) has no results yet.
        None => Ok(match store.last_finished_scan()? {
            Some(scan) => Some(scan),
            None => store.last_scan()?,
        }),
        Some(id) => match store.scan(id)? {
            Some(scan) => Ok(Some(scan)),
            None => {
                let hint = match store.last_scan()? {
                    Some(last) => format!(
                        "the latest scan is {}; leave out the scan number for the latest, or pick one \
                         of the scans stored (`shareguard results` shows the last one)",
                        last.id.unwrap_or_default()
                    ),
                    None => "no scan has been stored yet; run a scan first".into(),
                };
                Err(ReportError::UnknownScan { id, hint })
            }
        },
    }
}

/// What the stored router definitions say about each router's access type
/// and expected hop count.
fn router_definitions(store: &Store) -> Result<HashMap<String, (Access, u8)>, ReportError> {
    Ok(store
        .list_nas()?
        .into_iter()
        .map(|n| (n.name, (n.access, n.expected_hops)))
        .collect())
}

/// Folds a scan's rows into the figures of a scan report.
struct ScanFold {
    defs: HashMap<String, (Access, u8)>,
    totals: Totals,
    ttl: TtlDistribution,
    by_router: BTreeMap<String, TtlDistribution>,
    access: HashMap<String, Access>,
    connections: ConnectionHistogram,
    flagged: Vec<ExportedResult>,
    flagged_not_listed: u64,
}

impl ScanFold {
    fn expected_for(&self, router: &str, access: Option<Access>) -> BTreeSet<u8> {
        let hops = match (self.defs.get(router), access) {
            (Some(&(_, hops)), _) => hops,
            (None, Some(a)) => a.default_expected_hops(),
            (None, None) => return BTreeSet::new(),
        };
        expected_ttls(hops).into()
    }

    fn new(store: &Store, settings: &DetectionSettings) -> Result<Self, ReportError> {
        Ok(Self {
            defs: router_definitions(store)?,
            totals: Totals::default(),
            ttl: TtlDistribution::default(),
            by_router: BTreeMap::new(),
            access: HashMap::new(),
            connections: ConnectionHistogram::new(settings),
            flagged: Vec::new(),
            flagged_not_listed: 0,
        })
    }

    /// Counts one subscriber's verdict in the totals and distributions.
    fn count(
        &mut self,
        nas: &str,
        access: Option<Access>,
        level: Level,
        whitelisted: bool,
        ttl_counts: &BTreeMap<u8, u32>,
        connections: u32,
    ) {
        self.totals.add(level, whitelisted);
        self.ttl.add(ttl_counts);
        if let Some(a) = access {
            self.access.entry(nas.to_string()).or_insert(a);
        }
        if !self.by_router.contains_key(nas) {
            let expected = self.expected_for(nas, access);
            self.by_router.insert(
                nas.to_string(),
                TtlDistribution {
                    counts: BTreeMap::new(),
                    expected,
                },
            );
        }
        if let Some(d) = self.by_router.get_mut(nas) {
            d.add(ttl_counts);
        }
        self.connections.connections.push(connections);
    }

    fn add(&mut self, r: ExportedResult) {
        self.count(
            &r.nas,
            r.access,
            r.level,
            r.whitelisted,
            &r.ttl_counts,
            r.connections,
        );
        if r.is_flagged() {
            if self.flagged.len() < FLAGGED_IN_PDF {
                self.flagged.push(r);
            } else {
                self.flagged_not_listed += 1;
            }
        }
    }

    /// Marks, network-wide, the expected TTLs of every router seen (PPPoE's
    /// when none was).
    fn settle_expected(&mut self) {
        self.ttl.expected = self
            .by_router
            .values()
            .flat_map(|d| d.expected.iter().copied())
            .collect();
        if self.ttl.expected.is_empty() {
            self.ttl.expected = expected_ttls(Access::Pppoe.default_expected_hops()).into();
        }
    }

    fn ttl_by_router(by_router: BTreeMap<String, TtlDistribution>) -> Vec<RouterTtl> {
        by_router
            .into_iter()
            .map(|(router, distribution)| RouterTtl {
                router,
                distribution,
            })
            .collect()
    }
}

/// The TTL distributions (network-wide and per router) and connection
/// counts of every subscriber's latest result, optionally one tag's: what
/// the results table holds, which a one-subscriber scan updates only in
/// part. Judged by the detection settings in force now.
pub fn results_overview(store: &Store, tag: Option<&str>) -> Result<ResultsOverview, ReportError> {
    let settings = store.detection_settings()?;
    let mut fold = ScanFold::new(store, &settings)?;
    let filter = ResultFilter {
        tag: tag.map(str::to_string),
        ..Default::default()
    };
    store.for_each_latest_result(&filter, |r| {
        fold.count(
            &r.nas,
            Some(r.access),
            r.level,
            r.whitelisted,
            &r.ttl_counts,
            r.connections,
        );
        Ok::<_, StoreError>(())
    })?;
    fold.settle_expected();
    Ok(ResultsOverview {
        totals: fold.totals,
        ttl: fold.ttl,
        ttl_by_router: ScanFold::ttl_by_router(fold.by_router),
        connections: fold.connections,
    })
}

/// Everything a scan report shows, for scan `scan_id` (the latest if
/// `None`) and, with `tag`, only that reseller's or area's subscribers.
/// With no scan stored the report says so rather than failing.
pub fn scan_report(
    store: &Store,
    scan_id: Option<i64>,
    tag: Option<&str>,
    now: DateTime<Utc>,
) -> Result<ScanReport, ReportError> {
    let scan = pick_scan(store, scan_id)?;
    let settings = match &scan {
        Some(s) => s.settings.clone(),
        None => store.detection_settings()?,
    };
    let mut fold = ScanFold::new(store, &settings)?;
    let mut trend = Vec::new();
    let mut routers = Vec::new();
    if let Some(s) = &scan {
        let id = s.id.unwrap_or_default();
        store.for_each_scan_result(id, tag, |r| {
            fold.add(r);
            Ok::<_, StoreError>(())
        })?;
        trend = store
            .flag_trend(TREND_SCANS * 4, tag)?
            .into_iter()
            .filter(|p| p.scan_id <= id)
            .collect();
        let skip = trend.len().saturating_sub(TREND_SCANS as usize);
        trend.drain(..skip);
        for o in &s.nas {
            let access = fold
                .defs
                .get(&o.nas)
                .map(|d| d.0)
                .or_else(|| fold.access.get(&o.nas).copied());
            routers.push(RouterStatus {
                expected_ttls: fold.expected_for(&o.nas, access),
                access,
                outcome: o.clone(),
            });
        }
    }
    fold.settle_expected();
    Ok(ScanReport {
        generated_at: now,
        tag: tag.map(str::to_string),
        scan,
        settings,
        totals: fold.totals,
        ttl: fold.ttl,
        ttl_by_router: ScanFold::ttl_by_router(fold.by_router),
        connections: fold.connections,
        flagged: fold.flagged,
        flagged_not_listed: fold.flagged_not_listed,
        routers,
        trend,
    })
}

/// Checks an abuse report's range.
pub fn check_range(from: DateTime<Utc>, to: DateTime<Utc>) -> Result<(), ReportError> {
    if from >= to {
        return Err(ReportError::Invalid(format!(
            "the period is empty: it starts {} and ends {}; give a start before the end",
            crate::text::when(&from),
            crate::text::when(&to)
        )));
    }
    if to - from > chrono::Duration::days(3660) {
        return Err(ReportError::Invalid(
            "the period is longer than ten years; give a shorter one".into(),
        ));
    }
    Ok(())
}

/// Everything an abuse report shows for `[from, to)`.
pub fn abuse_report(
    store: &Store,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<AbuseReport, ReportError> {
    check_range(from, to)?;
    let metrics = store.abuse_metrics(from, to)?;
    let mut timeline = WarningTimeline::new(from, to);
    // The strictest, then latest, first; trimmed as it grows so a busy month
    // does not sit in memory whole.
    let mut listed = Vec::new();
    let key = |w: &shareguard_store::Warning| std::cmp::Reverse((w.severity, w.first_seen, w.id));
    let total = store.for_each_warning(Some(from), Some(to), |w| {
        timeline.add(w.first_seen, w.kind);
        listed.push(w);
        if listed.len() >= WARNINGS_IN_PDF * 4 {
            listed.sort_by_key(key);
            listed.truncate(WARNINGS_IN_PDF);
        }
        Ok::<_, StoreError>(())
    })?;
    listed.sort_by_key(key);
    listed.truncate(WARNINGS_IN_PDF);
    let mut actions = Vec::new();
    let actions_total = store.for_each_action(Some(from), Some(to), |a| {
        if actions.len() < ACTIONS_IN_PDF {
            actions.push(a);
        }
        Ok::<_, StoreError>(())
    })?;
    Ok(AbuseReport {
        generated_at: now,
        from,
        to,
        metrics,
        timeline,
        warnings_not_listed: total - listed.len() as u64,
        warnings: listed,
        actions_not_listed: actions_total - actions.len() as u64,
        actions,
    })
}

/// Names close to `name` among the stored results, for "did you mean":
/// those sharing its start first, then those of about its length.
fn similar_names(store: &Store, name: &str) -> Result<Vec<String>, ReportError> {
    let probe: String = name.chars().take(64).collect();
    let mut found: BTreeSet<String> = BTreeSet::new();
    for search in [probe.clone(), probe.chars().take(4).collect()] {
        if search.trim().is_empty() {
            continue;
        }
        for r in store.results(&ResultFilter {
            search: Some(search),
            limit: Some(200),
            ..Default::default()
        })? {
            found.insert(r.subscriber);
        }
    }
    let lower = name.to_lowercase();
    let mut ranked: Vec<String> = found.into_iter().collect();
    ranked.sort_by_key(|n| {
        let l = n.to_lowercase();
        (
            !(l.starts_with(&lower) || lower.starts_with(&l)),
            n.chars().count().abs_diff(name.chars().count()),
            n.clone(),
        )
    });
    ranked.truncate(5);
    Ok(ranked)
}

/// Everything known about one subscriber. Refuses a name nothing is stored
/// about, suggesting similar names.
pub fn subscriber_report(
    store: &Store,
    name: &str,
    now: DateTime<Utc>,
) -> Result<SubscriberReport, ReportError> {
    if name.trim().is_empty() {
        return Err(ReportError::Invalid(
            "give the subscriber's login name, as the router shows it".into(),
        ));
    }
    let latest = store.result(name)?;
    let history = store.subscriber_history(name, EVIDENCE_ROWS)?;
    let warnings = store.warnings(&WarningQuery {
        subscriber: Some(name.to_string()),
        limit: EVIDENCE_ROWS,
        ..Default::default()
    })?;
    let actions = store.actions_for(name, EVIDENCE_ROWS)?;
    let audit = store.audit_log(&AuditFilter {
        subject: Some(name.to_string()),
        limit: Some(EVIDENCE_ROWS),
        ..Default::default()
    })?;
    if latest.is_none()
        && history.is_empty()
        && warnings.is_empty()
        && actions.is_empty()
        && audit.is_empty()
    {
        return Err(ReportError::UnknownSubscriber {
            name: name.to_string(),
            suggestions: similar_names(store, name)?,
        });
    }
    let defs = router_definitions(store)?;
    let router = latest
        .as_ref()
        .map(|l| l.nas.clone())
        .or_else(|| history.first().map(|h| h.nas.clone()));
    let hops = router
        .as_ref()
        .and_then(|r| defs.get(r))
        .map(|d| d.1)
        .or_else(|| latest.as_ref().map(|l| l.access.default_expected_hops()))
        .unwrap_or_else(|| Access::Pppoe.default_expected_hops());
    let ttl = match (&latest, history.first()) {
        (Some(l), _) => TtlDistribution::of_subscriber(&l.ttl_counts, hops),
        (None, Some(h)) => {
            TtlDistribution::of_subscriber(&store.ttl_histogram(h.scan_id, name)?, hops)
        }
        (None, None) => TtlDistribution::of_subscriber(&BTreeMap::new(), hops),
    };
    Ok(SubscriberReport {
        generated_at: now,
        subscriber: name.to_string(),
        tag: store.result_tags()?.remove(name),
        whitelist_reason: store.whitelisted_reason(name, now)?,
        latest,
        history,
        ttl,
        settings: store.detection_settings()?,
        warnings,
        actions,
        audit,
    })
}
