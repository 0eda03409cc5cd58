//! Fixtures shared by the integration tests: a store in a temporary folder
//! and scan records built the way the scanner builds them.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::PathBuf;

use chrono::{DateTime, TimeZone, Utc};
use shareguard_detect::{
    Access, DetectionSettings, Evidence, EvidenceStatus, Level, NasOutcome, NasStatus,
    ProbeStrategy, RecommendedAction, ScanScope, ScanStatus, ScanSummary, SubscriberResult,
    TtlStatus,
};
use shareguard_store::Store;

pub struct TempStore {
    pub dir: tempfile::TempDir,
    pub path: PathBuf,
    pub store: Store,
}

pub fn temp_store() -> TempStore {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shareguard.db");
    let store = Store::open(&path).unwrap();
    TempStore { dir, path, store }
}

pub fn at(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_700_000_000 + secs, 123_456_789)
        .unwrap()
}

pub fn result(subscriber: &str, nas: &str, level: Level, connections: u32) -> SubscriberResult {
    let ttl_counts: BTreeMap<u8, u32> = if level >= Level::Medium {
        [(62, 5), (63, 12)].into()
    } else {
        [(63, 9)].into()
    };
    SubscriberResult {
        subscriber: subscriber.into(),
        nas: nas.into(),
        address: format!("10.0.{}.{}", connections % 250, subscriber.len()),
        access: Access::Pppoe,
        connections,
        p2p_connections: connections / 10,
        ttl_values: ttl_counts.keys().copied().collect(),
        ttl_counts,
        ttl_status: if level >= Level::Medium {
            TtlStatus::RouterDetected
        } else {
            TtlStatus::Normal
        },
        level,
        assessed_level: level,
        whitelisted: false,
        reasons: vec![format!("{connections} connections")],
        recommended_action: if level >= Level::Medium {
            RecommendedAction::Review
        } else {
            RecommendedAction::None
        },
        evidence: Evidence::new(EvidenceStatus::Sufficient, 17, Some(0.25), Some(3600)),
        scanned_at: at(60),
    }
}

pub fn outcome(nas: &str, status: NasStatus) -> NasOutcome {
    NasOutcome {
        nas: nas.into(),
        address: format!("{nas}.example:8728"),
        status,
        error: (status != NasStatus::Ok).then(|| format!("{nas} did not answer: check the link")),
        error_kind: (status != NasStatus::Ok).then(|| "unreachable".to_string()),
        sessions: 10,
        connections: 1234,
        checked: 10,
        flagged: 1,
        duration_ms: 850,
        probe_strategy: Some(ProbeStrategy::ConnectionMark),
        warnings: vec!["FastTrack is on".into()],
        expected_rows: None,
        rows_per_second: None,
    }
}

pub fn summary(
    id: i64,
    status: ScanStatus,
    nas: Vec<NasOutcome>,
    results: &[SubscriberResult],
) -> ScanSummary {
    ScanSummary {
        id: Some(id),
        started_at: at(0),
        finished_at: Some(at(90)),
        operator: "alice".into(),
        scope: ScanScope::All,
        status,
        checked: results.len() as u32,
        flagged: results.iter().filter(|r| r.is_flagged()).count() as u32,
        nas,
        settings: DetectionSettings::default(),
    }
}

/// Begins and finishes a scan in one go.
pub fn run_scan(
    store: &mut Store,
    status: ScanStatus,
    nas: Vec<NasOutcome>,
    results: &[SubscriberResult],
) -> i64 {
    let id = store
        .begin_scan(
            "alice",
            &ScanScope::All,
            &DetectionSettings::default(),
            at(0),
        )
        .unwrap();
    store
        .finish_scan(&summary(id, status, nas, results), results)
        .unwrap()
}

/// Stores a completed scan in which every router of `results` answered.
pub fn completed_scan(store: &mut Store, results: &[SubscriberResult]) -> i64 {
    let mut routers: Vec<&str> = Vec::new();
    for r in results {
        if !routers.contains(&r.nas.as_str()) {
            routers.push(&r.nas);
        }
    }
    let nas = routers
        .into_iter()
        .map(|n| outcome(n, NasStatus::Ok))
        .collect();
    run_scan(store, ScanStatus::Completed, nas, results)
}

/// Adds router `name` with the reseller/area tag `tag`.
pub fn tag_router(store: &mut Store, name: &str, tag: &str) {
    let mut nas = shareguard_store::NasRecord::new(name, "192.0.2.1", "admin", Access::Pppoe);
    nas.tag = Some(tag.into());
    store.upsert_nas(&nas).unwrap();
}
