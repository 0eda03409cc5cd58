//! What a report costs on a large network: a real scan of 30,000
//! subscribers on 8 simulated routers is stored (as the app stores it),
//! then the scan report is written as PDF and as CSV, each three times;
//! the median time, the file size and the page or row count are reported.
//!
//! The simulated routers run in this process with a stopped clock that the
//! bench advances once after installing the probes, so every connection is
//! marked before the scan reads it.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use shareguard_detect::{DetectionSettings, ScanScope};
use shareguard_engine::demo;
use shareguard_report::{write_report, Format, ReportKind, ReportRequest};
use shareguard_scan::{CancellationToken, ScanRequest};
use shareguard_sim::population::PopulationSpec;
use shareguard_store::Store;

use crate::{median, peak_rss_mb};

fn file_mb(path: &Path) -> f64 {
    std::fs::metadata(path).map_or(0.0, |m| m.len() as f64 / 1e6)
}

/// Report rows: time and size of the PDF and the CSV of one scan.
pub async fn rows(subscribers: usize, nas: usize) -> String {
    let d = demo::start(PopulationSpec::scaled(subscribers, nas, 42), 0.0)
        .await
        .expect("simulated routers");
    demo::install_probes(&d.targets)
        .await
        .expect("install probes");
    d.network.advance(Duration::from_secs(600));
    let dir = tempfile::tempdir().expect("temporary folder");
    let db = dir.path().join("bench.db");
    let store = Arc::new(Mutex::new(Store::open(&db).expect("open the store")));
    let mut targets = d.targets.clone();
    for t in &mut targets {
        t.budget = Duration::from_secs(600);
        t.connect.read_timeout = Duration::from_secs(60);
    }
    let out = shareguard_engine::scan_and_store(
        store.clone(),
        ScanRequest {
            targets,
            scope: ScanScope::All,
            settings: DetectionSettings::default(),
            whitelist: Default::default(),
            lines: Default::default(),
            operator: "bench".into(),
            install_probes: false,
        },
        CancellationToken::new(),
        None,
    )
    .await
    .expect("scan and store");
    d.network.shutdown().await;
    let checked = out.results.len();
    let flagged = out.results.iter().filter(|r| r.is_flagged()).count();
    drop(out);

    let store = store.lock().expect("store");
    let mut rows = String::new();
    for format in [Format::Pdf, Format::Csv] {
        let path = dir.path().join(format!("scan.{}", format.extension()));
        let (mut times, mut last) = (Vec::new(), None);
        for _ in 0..3 {
            let req = ReportRequest::new(
                ReportKind::Scan {
                    scan_id: None,
                    tag: None,
                },
                format,
            );
            let t = Instant::now();
            let done = write_report(&store, &req, &path).expect("write the report");
            times.push(t.elapsed().as_secs_f64());
            last = Some(done);
        }
        let done = last.expect("three runs");
        let what = match format {
            Format::Pdf => format!(
                "{} pages, {} flagged listed",
                done.pages.unwrap_or(0),
                done.rows
            ),
            Format::Csv => format!("{} rows", done.rows),
        };
        rows += &format!(
            "| scan report as {}, {checked} subscribers checked, {flagged} flagged (median of 3) | {:.2} s, {:.2} MB ({what}) |\n",
            format.extension().to_uppercase(),
            median(times),
            file_mb(&path),
        );
    }
    rows += &format!(
        "| report bench: process peak memory, simulated routers and scan included (VmHWM) | {:.0} MB |\n",
        peak_rss_mb()
    );
    rows
}
