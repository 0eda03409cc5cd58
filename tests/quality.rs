//! Detection quality on a labelled population: every household kind of the
//! generator goes through the real path (simulated routers over TCP, probes
//! installed, scans, the rules), and the verdicts are compared with the labels.
//!
//! Each line is scanned four times, ten simulated hours apart, and each scan
//! is judged with the line's earlier scans as its history, the way a stored
//! scan reads them back (`Store::line_memory`, tested on its own in the
//! store's tests). The history is built here from the earlier outputs
//! because the scanner stamps results with the wall clock, which a test
//! cannot move ten hours.
//!
//! Bars, on the last scan: sharing households at `medium` or above with
//! recall >= 0.97 overall and >= 0.90 in every sharing kind; honest
//! households at `high` or above in at most 0.3% of cases and at `medium` or
//! above in at most 2% with connection-mark probes (4% with address-list
//! probes, whose evidence has no counts: see `MEDIUM_BAR_LISTS`).

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::time::Duration;

use chrono::{Duration as Span, Utc};
use shareguard_detect::{Level, LineMemory, PastScan, ProbeStrategy, SubscriberResult};
use shareguard_scan::{run_scan, CancellationToken, StrategyChoice};
use shareguard_sim::population::{HouseholdKind, PopulationSpec};
use shareguard_tests::{install_and_wait, request, start_sim, targets};

/// Scans per line, and the simulated time between two.
const SCANS: usize = 4;
const APART_HOURS: i64 = 10;

#[derive(Default)]
struct Tally {
    by_kind: BTreeMap<HouseholdKind, [u32; 5]>,
}

impl Tally {
    fn add(&mut self, kind: HouseholdKind, level: Level) {
        self.by_kind.entry(kind).or_insert([0; 5])[level as usize] += 1;
    }

    /// (hits, total) over the kinds `pick` selects, counting levels >= `at`.
    fn share(&self, pick: impl Fn(HouseholdKind) -> bool, at: Level) -> (u32, u32) {
        let mut hits = 0;
        let mut total = 0;
        for (&k, row) in &self.by_kind {
            if pick(k) {
                total += row.iter().sum::<u32>();
                hits += row[at as usize..].iter().sum::<u32>();
            }
        }
        (hits, total)
    }
}

/// The history a stored scan would hand the next one: earlier results,
/// newest first, `APART_HOURS` apart.
fn history(earlier: &[Vec<SubscriberResult>]) -> HashMap<String, LineMemory> {
    let now = Utc::now();
    let mut lines: HashMap<String, LineMemory> = HashMap::new();
    for (age, results) in earlier.iter().rev().enumerate() {
        for r in results {
            lines
                .entry(r.subscriber.clone())
                .or_default()
                .past
                .push(PastScan {
                    at: now - Span::hours(APART_HOURS * (age as i64 + 1)),
                    counts: r.ttl_counts.clone(),
                });
        }
    }
    lines
}

/// The first scan's tally and the last one's.
async fn measure(spec: PopulationSpec, strategy: ProbeStrategy) -> (Tally, Tally) {
    let net = start_sim(spec, false).await;
    let t = targets(&net, StrategyChoice::Fixed(strategy));
    install_and_wait(&net, &t).await;
    let mut outputs: Vec<Vec<SubscriberResult>> = Vec::new();
    for scan in 0..SCANS {
        if scan > 0 {
            net.advance(Duration::from_secs(APART_HOURS as u64 * 3600));
        }
        let mut req = request(t.clone());
        req.lines = history(&outputs);
        let out = run_scan(req, CancellationToken::new(), None).await;
        assert!(
            out.summary
                .nas
                .iter()
                .all(|n| n.status == shareguard_detect::NasStatus::Ok),
            "every simulated router answers: {:?}",
            out.summary.nas
        );
        assert_eq!(out.results.len(), net.population().subscribers.len());
        outputs.push(out.results);
    }
    let tally = |results: &[SubscriberResult]| {
        let mut t = Tally::default();
        for r in results {
            let kind = net
                .population()
                .subscriber(&r.subscriber)
                .expect("every result is a simulated subscriber")
                .kind;
            t.add(kind, r.level);
        }
        t
    };
    let first = tally(&outputs[0]);
    let last = tally(outputs.last().expect("scanned"));
    net.shutdown().await;
    (first, last)
}

fn report(name: &str, t: &Tally) -> String {
    let mut s = format!("Detection quality, {name}\n");
    let _ = writeln!(
        s,
        "{:<22}{:>8}{:>8}{:>8}{:>8}{:>10}{:>9}",
        "household kind", "normal", "low", "medium", "high", "critical", "sharing"
    );
    for (kind, row) in &t.by_kind {
        let _ = writeln!(
            s,
            "{:<22}{:>8}{:>8}{:>8}{:>8}{:>10}{:>9}",
            kind.label(),
            row[0],
            row[1],
            row[2],
            row[3],
            row[4],
            if kind.is_sharing() { "yes" } else { "" }
        );
    }
    let (caught, sharing) = t.share(HouseholdKind::is_sharing, Level::Medium);
    let (honest_high, honest) = t.share(|k| !k.is_sharing(), Level::High);
    let (honest_medium, _) = t.share(|k| !k.is_sharing(), Level::Medium);
    let _ = writeln!(
        s,
        "sharing at medium+: {caught}/{sharing} ({:.3}); honest at high+: {honest_high}/{honest} ({:.2}%); honest at medium+: {honest_medium}/{honest} ({:.2}%)\n",
        f64::from(caught) / f64::from(sharing.max(1)),
        100.0 * f64::from(honest_high) / f64::from(honest.max(1)),
        100.0 * f64::from(honest_medium) / f64::from(honest.max(1)),
    );
    s
}

fn check(t: &Tally, medium_bar: f64) {
    assert_eq!(
        t.by_kind.len(),
        HouseholdKind::ALL.len(),
        "every kind present: {:?}",
        t.by_kind.keys()
    );
    let (caught, sharing) = t.share(HouseholdKind::is_sharing, Level::Medium);
    assert!(sharing >= 200, "enough sharing households to judge");
    let recall = f64::from(caught) / f64::from(sharing);
    assert!(recall >= 0.97, "recall {recall}");
    for kind in HouseholdKind::ALL.into_iter().filter(|k| k.is_sharing()) {
        let (c, n) = t.share(|k| k == kind, Level::Medium);
        let r = f64::from(c) / f64::from(n.max(1));
        assert!(r >= 0.90, "{}: recall {r} ({c}/{n})", kind.label());
    }
    let (high, honest) = t.share(|k| !k.is_sharing(), Level::High);
    let fp_high = f64::from(high) / f64::from(honest);
    assert!(fp_high <= 0.003, "honest at high+ {fp_high}");
    let (medium, _) = t.share(|k| !k.is_sharing(), Level::Medium);
    let fp_medium = f64::from(medium) / f64::from(honest);
    assert!(
        fp_medium <= medium_bar,
        "honest at medium+ {fp_medium} (bar {medium_bar})"
    );
}

/// Honest lines at medium or above, with connection-mark probes (the
/// default where they can be used): the aim of 2%.
const MEDIUM_BAR_MARKS: f64 = 0.02;
/// With address-list probes: an entry says which TTLs a line showed, not
/// how many connections each carried, so a home behind its own mesh (the
/// bulk one router further, a few connections nearer) cannot be told from
/// a light second router feeding a neighbour, and both are flagged for
/// review. The owner's per-line distance ends it for a reviewed mesh line.
const MEDIUM_BAR_LISTS: f64 = 0.04;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn labelled_population_meets_the_recall_and_false_positive_bars() {
    let (marks_first, marks) = measure(
        PopulationSpec::scaled(6_000, 4, 7),
        ProbeStrategy::ConnectionMark,
    )
    .await;
    let (lists_first, lists) = measure(
        PopulationSpec::scaled(3_000, 4, 11),
        ProbeStrategy::AddressList,
    )
    .await;
    let text = report(
        "connection-mark probes, 6,000 subscribers on 4 routers, 4th scan",
        &marks,
    ) + &report(
        "address-list probes, 3,000 subscribers on 4 routers, 4th scan",
        &lists,
    ) + &report(
        "connection-mark probes, first scan (no history yet)",
        &marks_first,
    ) + &report(
        "address-list probes, first scan (no history yet)",
        &lists_first,
    );
    println!("{text}");
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/quality-report.txt");
    let _ = std::fs::write(path, &text);
    check(&marks, MEDIUM_BAR_MARKS);
    check(&lists, MEDIUM_BAR_LISTS);
}
