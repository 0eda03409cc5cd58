//! The abuse monitor's cost per cycle on a large network: with 30,000
//! subscribers on 8 routers, how long one cycle takes (read every router,
//! run the detectors, store warnings), how much memory the process needs and
//! how large the database grows. The monitor runs every minute, so a cycle
//! must stay well below its interval.
//!
//! The simulated routers run in this process with a stopped clock
//! (`time_scale` 0), which only moves when the bench advances it: 60 s
//! before each cycle, as between two real cycles. Automatic actions are off
//! (the default), so nothing is acted on; warnings are stored.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use shareguard_engine::demo;
use shareguard_engine::monitor::{Monitor, MonitorSettings};
use shareguard_sim::population::PopulationSpec;
use shareguard_store::Store;

use crate::{median, peak_rss_mb, status_mb};

fn file_mb(path: &Path) -> f64 {
    std::fs::metadata(path).map_or(0.0, |m| m.len() as f64 / 1e6)
}

/// Report rows: one warm-up cycle (no previous snapshot), then `cycles`
/// measured ones.
pub async fn rows(subscribers: usize, nas: usize, cycles: usize) -> String {
    let cycles = cycles.max(1);
    let d = demo::start(PopulationSpec::scaled(subscribers, nas, 42), 0.0)
        .await
        .expect("simulated routers");
    demo::install_probes(&d.targets)
        .await
        .expect("install probes");
    d.network.advance(Duration::from_secs(600));
    let routers = d.routers();

    let dir = tempfile::tempdir().expect("temporary folder");
    let db = dir.path().join("bench.db");
    let store = Arc::new(Mutex::new(Store::open(&db).expect("open the store")));
    let settings = MonitorSettings::default();
    let mut monitor = Monitor::new();
    let rss_before = status_mb("VmRSS:");

    let t = Instant::now();
    let warm = monitor.cycle(&store, &routers, &settings).await;
    let warm_s = t.elapsed().as_secs_f64();
    warm.expect("warm-up cycle");

    let (mut times, mut last) = (Vec::new(), None);
    for _ in 0..cycles {
        d.network.advance(Duration::from_secs(60));
        let t = Instant::now();
        let report = monitor
            .cycle(&store, &routers, &settings)
            .await
            .expect("monitor cycle");
        times.push(t.elapsed().as_secs_f64());
        last = Some(report);
    }
    let report = last.expect("at least one cycle");
    for r in report.routers.iter().filter(|r| !r.ok) {
        eprintln!(
            "monitor bench: {} failed ({}): {}",
            r.nas,
            r.error_kind.as_deref().unwrap_or("?"),
            r.error.as_deref().unwrap_or("?")
        );
    }
    let ok = report.routers.iter().filter(|r| r.ok).count();
    let connections: u64 = report.routers.iter().map(|r| r.connections).sum();
    let table_rows: u64 = report.routers.iter().map(|r| r.table_rows).sum();
    let read_max = report.routers.iter().map(|r| r.elapsed_ms).max();
    let max = times.iter().copied().fold(0.0, f64::max);
    let times_ms: Vec<String> = times.iter().map(|s| format!("{:.0}", s * 1e3)).collect();
    let (db_mb, wal_mb) = (file_mb(&db), file_mb(&db.with_extension("db-wal")));
    let peak = peak_rss_mb();
    d.network.shutdown().await;

    format!(
        "| abuse monitor cycle, {subscribers} subscribers on {nas} routers (median / max of {cycles}) | {:.2} / {max:.2} s |\n\
         | abuse monitor: each measured cycle | {} ms |\n\
         | abuse monitor: warm-up cycle (no previous snapshot) | {warm_s:.2} s |\n\
         | abuse monitor, last cycle: routers read | {ok} of {} |\n\
         | abuse monitor, last cycle: subscribers / connections / table rows | {} / {connections} / {table_rows} |\n\
         | abuse monitor, last cycle: warnings / new | {} / {} |\n\
         | abuse monitor, last cycle: slowest router read | {} ms |\n\
         | abuse monitor: process memory before the first cycle / peak (VmRSS / VmHWM, simulated routers included) | {rss_before:.0} / {peak:.0} MB |\n\
         | abuse monitor: database after {} cycles (file / WAL) | {db_mb:.1} / {wal_mb:.1} MB |\n",
        median(times.clone()),
        times_ms.join(", "),
        report.routers.len(),
        report.subscribers,
        report.warnings.len(),
        report.opened().count(),
        read_max.unwrap_or(0),
        cycles + 1,
    )
}
