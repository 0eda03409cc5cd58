//! Databases the report tests read: a real scan of the simulated routers,
//! and a large network judged by the real rules and stored through the
//! store's own API, with abuse warnings, actions, a whitelist entry and the
//! audit trail they leave. Plus the tools to read a PDF back (poppler).
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use chrono::{DateTime, Duration as Span, TimeZone, Utc};
use routeros_client::ConnectOptions;
use serde_json::json;
use shareguard_detect::abuse::{findings, AbuseSample, AbuseThresholds};
use shareguard_detect::{
    assess, DetectionSettings, NasOutcome, NasStatus, ProbeStrategy, ScanScope, ScanStatus,
    ScanSummary, SubscriberResult,
};
use shareguard_engine::demo;
use shareguard_scan::{run_scan, CancellationToken, NasTarget, ScanRequest};
use shareguard_sim::population::{self, PopulationSpec};
use shareguard_sim::{SimConfig, SimNetwork};
use shareguard_store::{Action, ActionKind, ActionMethod, AuditEntry, CycleStats, Sighting, Store};

pub struct Db {
    pub dir: tempfile::TempDir,
    pub path: PathBuf,
    pub store: Store,
}

pub fn empty_db() -> Db {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sg.db");
    let store = Store::open(&path).unwrap();
    Db { dir, path, store }
}

/// The first scan's start in [`populated`]: 1 May 2026, 02:00 UTC.
pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 5, 1, 2, 0, 0).unwrap()
}

/// A real scan: three simulated routers (two PPPoE, one hotspot) with
/// `subscribers` subscribers, served over the RouterOS API on loopback. A
/// first scan installs the TTL probes; simulated time then runs on, so every
/// connection is replaced and marked; a second scan reads them. Both are
/// stored the way the app stores scans (`begin_scan`, then `finish_scan`).
/// Returns the second scan's results.
pub async fn real_scan(subscribers: usize) -> (Db, Vec<SubscriberResult>) {
    let net = SimNetwork::start(SimConfig {
        population: PopulationSpec {
            subscribers,
            ..PopulationSpec::demo()
        },
        username: "admin".into(),
        password: "s3cret".into(),
        radius_secret: "radius".into(),
        ros_version: "7.18.2".into(),
        time_scale: 0.0,
        tls: false,
        bind: std::net::IpAddr::from([127, 0, 0, 1]),
        first_api_port: 0,
        first_radius_port: 0,
        router: shareguard_sim::RouterModel::default(),
    })
    .await
    .unwrap();
    let targets: Vec<NasTarget> = net
        .nas()
        .iter()
        .map(|n| {
            let a = n.api_addr();
            NasTarget::new(
                n.name(),
                ConnectOptions::new(a.ip().to_string(), a.port(), "admin", "s3cret"),
                demo::access_of(n.access()),
            )
        })
        .collect();
    let mut db = empty_db();
    let mut results = Vec::new();
    for install in [true, false] {
        let req = ScanRequest {
            targets: targets.clone(),
            scope: ScanScope::All,
            settings: DetectionSettings::default(),
            whitelist: Default::default(),
            lines: Default::default(),
            operator: "owner".into(),
            install_probes: install,
        };
        let id = db
            .store
            .begin_scan(&req.operator, &req.scope, &req.settings, Utc::now())
            .unwrap();
        let mut out = run_scan(req, CancellationToken::new(), None).await;
        out.summary.id = Some(id);
        db.store.finish_scan(&out.summary, &out.results).unwrap();
        results = out.results;
        net.advance(Duration::from_secs(900));
    }
    net.shutdown().await;
    (db, results)
}

/// One simulated network judged by the detection rules, as the scanner
/// would: every slot's TTL counted as a connection-mark observation.
pub fn judged(subscribers: usize, seed: u64, at: DateTime<Utc>) -> Vec<SubscriberResult> {
    let pop = population::generate(&PopulationSpec::scaled(subscribers, 4, seed));
    let settings = DetectionSettings::default();
    pop.subscribers
        .iter()
        .map(|s| {
            let obs = demo::ideal_observation(&pop, s);
            let v = assess(&obs, &settings);
            SubscriberResult::new(obs, v, at)
        })
        .collect()
}

/// Stores `results` as one finished scan started at `at`.
pub fn store_scan(store: &mut Store, results: &[SubscriberResult], at: DateTime<Utc>) -> i64 {
    let mut nas: BTreeMap<String, NasOutcome> = BTreeMap::new();
    for r in results {
        let o = nas.entry(r.nas.clone()).or_insert_with(|| NasOutcome {
            nas: r.nas.clone(),
            address: format!("192.0.2.{}:8728", r.nas.len()),
            status: NasStatus::Ok,
            error: None,
            error_kind: None,
            sessions: 0,
            connections: 0,
            checked: 0,
            flagged: 0,
            duration_ms: 840,
            probe_strategy: Some(ProbeStrategy::ConnectionMark),
            warnings: vec![],
            expected_rows: None,
            rows_per_second: None,
        });
        o.sessions += 1;
        o.checked += 1;
        o.connections += u64::from(r.connections);
        o.flagged += u32::from(r.is_flagged());
    }
    let summary = ScanSummary {
        id: None,
        started_at: at,
        finished_at: Some(at + Span::seconds(3)),
        operator: "owner".into(),
        scope: ScanScope::All,
        status: ScanStatus::Completed,
        checked: results.len() as u32,
        flagged: results.iter().filter(|r| r.is_flagged()).count() as u32,
        nas: nas.into_values().collect(),
        settings: DetectionSettings::default(),
    };
    store.finish_scan(&summary, results).unwrap()
}

/// A store holding `scans` daily scans of a `subscribers`-subscriber
/// network (the last one first in `results`), abuse warnings from four
/// monitor cycles over three days, a throttle, a ban and a disconnect, and
/// a whitelist entry. Returns the last scan's id and results.
pub fn populated(subscribers: usize, scans: usize) -> (Db, i64, Vec<SubscriberResult>) {
    let mut db = empty_db();
    let mut last = (0, Vec::new());
    for i in 0..scans {
        let at = t0() + Span::days(i as i64);
        let results = judged(subscribers, 40 + i as u64, at);
        let id = store_scan(&mut db.store, &results, at);
        last = (id, results);
    }
    let (id, results) = last;
    add_abuse(&mut db.store, &results);
    (db, id, results)
}

/// Monitor cycles and warnings from the real detectors over the results'
/// connection counts, then actions on the worst offenders.
pub fn add_abuse(store: &mut Store, results: &[SubscriberResult]) {
    let thresholds = AbuseThresholds::default();
    for cycle in 0..4i64 {
        let at = t0() + Span::hours(cycle * 20);
        let mut sightings = Vec::new();
        for r in results.iter().filter(|r| r.connections >= 100) {
            let sample = AbuseSample {
                subscriber: r.subscriber.clone(),
                nas: r.nas.clone(),
                address: r.address.clone(),
                access: r.access,
                expected_hops: r.access.default_expected_hops(),
                connections: r.connections + cycle as u32 * 10,
                new_per_second: Some(2.0 + cycle as f64),
                p2p_connections: r.p2p_connections,
                p2p_classified: false,
                usage: None,
                ttl: r.ttl_counts.clone(),
            };
            for finding in findings(&sample, &thresholds) {
                sightings.push(Sighting {
                    subscriber: r.subscriber.clone(),
                    nas: r.nas.clone(),
                    finding,
                });
            }
        }
        let stats: Vec<CycleStats> = ["nas-01", "nas-02", "nas-03", "nas-04"]
            .iter()
            .map(|n| CycleStats {
                nas: (*n).into(),
                subscribers: (results.len() / 4) as u32,
                connections: results
                    .iter()
                    .map(|r| u64::from(r.connections))
                    .sum::<u64>()
                    / 4,
                p2p_connections: results
                    .iter()
                    .map(|r| u64::from(r.p2p_connections))
                    .sum::<u64>()
                    / 4,
                elapsed_ms: 700,
            })
            .collect();
        store
            .record_cycle(at, &stats, &sightings, Span::minutes(60))
            .unwrap();
    }
    let mut worst: Vec<&SubscriberResult> = results.iter().collect();
    worst.sort_by_key(|r| std::cmp::Reverse(r.connections));
    for (r, kind, minutes) in [
        (worst[0], ActionKind::Ban, Some(120)),
        (worst[1], ActionKind::Throttle, Some(30)),
        (worst[2], ActionKind::Disconnect, None),
    ] {
        let at = t0() + Span::hours(21);
        let action = Action {
            id: None,
            subscriber: r.subscriber.clone(),
            nas: r.nas.clone(),
            kind,
            method: ActionMethod::Radius,
            operator: "owner".into(),
            reason: format!("{} connections at the evening peak", r.connections),
            details: json!({ "rate": "2M/8M" }),
            started_at: at,
            expires_at: minutes.map(|m| at + Span::minutes(m)),
            ended_at: None,
        };
        let mut entry = AuditEntry::new("owner", kind.as_str())
            .subject(r.subscriber.clone())
            .details(json!({ "reason": action.reason }));
        entry.at = at;
        store.record_action(&action, &entry).unwrap();
    }
    store
        .whitelist_add(
            &results[3].subscriber,
            "business line, three offices",
            "owner",
            None,
        )
        .unwrap();
}

/// Whether poppler's tools (pdftotext, pdfinfo, pdftoppm) can be run, for
/// the tests that read a PDF back. On Linux the test command installs them,
/// so there a missing poppler fails with the fix; elsewhere (Windows, macOS
/// without poppler) the test says it is skipped and ends early.
pub fn poppler_or_skip(test: &str) -> bool {
    match Command::new("pdftotext").arg("-v").output() {
        Ok(_) => true,
        Err(e) if cfg!(target_os = "linux") => {
            panic!("pdftotext could not be run ({e}): install poppler-utils (apt install poppler-utils)")
        }
        Err(e) => {
            eprintln!("{test}: skipped, poppler's pdftotext cannot be run here ({e})");
            false
        }
    }
}

/// The text of a PDF, as `pdftotext -layout` reads it.
pub fn pdf_text(pdf: &Path) -> String {
    let out = Command::new("pdftotext")
        .arg("-layout")
        .arg("-enc")
        .arg("UTF-8")
        .arg(pdf)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils) is installed");
    assert!(
        out.status.success(),
        "pdftotext failed on {}: {}",
        pdf.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    // Long names carry zero-width break opportunities; words are compared without them.
    String::from_utf8(out.stdout)
        .unwrap()
        .replace('\u{200b}', "")
}

/// Text with every run of whitespace made one space, to find a sentence
/// that wraps across lines.
pub fn flat(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The number of pages poppler finds.
pub fn pdf_pages(pdf: &Path) -> usize {
    let out = Command::new("pdfinfo").arg(pdf).output().expect("pdfinfo");
    assert!(
        out.status.success(),
        "pdfinfo failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .and_then(|n| n.trim().parse().ok())
        .expect("a page count")
}

/// Renders pages `first..=last` to PNG files `<prefix>-N.png` at 80 dpi and
/// returns their paths.
pub fn render_pages(pdf: &Path, prefix: &Path, first: usize, last: usize) -> Vec<PathBuf> {
    let dir = prefix.parent().unwrap();
    let stem = prefix.file_name().unwrap().to_str().unwrap().to_string();
    let ours = |p: &Path| {
        p.file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with(&format!("{stem}-")) && n.ends_with(".png"))
    };
    // Pages of an earlier run would be counted as this one's.
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if ours(&p) {
            std::fs::remove_file(p).unwrap();
        }
    }
    let out = Command::new("pdftoppm")
        .args([
            "-png",
            "-r",
            "80",
            "-f",
            &first.to_string(),
            "-l",
            &last.to_string(),
        ])
        .arg(pdf)
        .arg(prefix)
        .output()
        .expect("pdftoppm (poppler-utils) is installed");
    assert!(
        out.status.success(),
        "pdftoppm failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut pages: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| ours(p))
        .collect();
    pages.sort();
    pages
}

/// Where tests leave rendered pages for a person to look at
/// (`target/report-pages/` under the build directory).
pub fn artifacts_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    let dir = target.join("report-pages");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
