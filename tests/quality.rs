//! Detection quality on a labelled population: every household kind of the
//! generator goes through the real path (simulated routers over TCP, probes
//! installed, a scan, the rules), and the verdicts are compared with the labels.
//!
//! Bars: sharing households reach `medium` or above with recall >= 0.95;
//! legitimate households reach `high` or above in at most 0.5% of cases.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use shareguard_detect::{Level, ProbeStrategy};
use shareguard_scan::{run_scan, CancellationToken, StrategyChoice};
use shareguard_sim::population::{HouseholdKind, PopulationSpec};
use shareguard_tests::{install_and_wait, request, start_sim, targets};

struct Tally {
    by_kind: BTreeMap<&'static str, [u32; 5]>,
    sharing_total: u32,
    sharing_caught: u32,
    legit_total: u32,
    legit_high: u32,
}

async fn measure(spec: PopulationSpec, strategy: ProbeStrategy) -> Tally {
    let net = start_sim(spec, false).await;
    let t = targets(&net, StrategyChoice::Fixed(strategy));
    install_and_wait(&net, &t).await;
    let out = run_scan(request(t), CancellationToken::new(), None).await;
    assert!(
        out.summary
            .nas
            .iter()
            .all(|n| n.status == shareguard_detect::NasStatus::Ok),
        "every simulated router answers: {:?}",
        out.summary.nas
    );
    assert_eq!(out.results.len(), net.population().subscribers.len());
    let mut tally = Tally {
        by_kind: BTreeMap::new(),
        sharing_total: 0,
        sharing_caught: 0,
        legit_total: 0,
        legit_high: 0,
    };
    for r in &out.results {
        let kind: HouseholdKind = net
            .population()
            .subscriber(&r.subscriber)
            .expect("every result is a simulated subscriber")
            .kind;
        let row = tally.by_kind.entry(kind.label()).or_insert([0; 5]);
        row[r.level as usize] += 1;
        if kind.is_sharing() {
            tally.sharing_total += 1;
            tally.sharing_caught += u32::from(r.level >= Level::Medium);
        } else {
            tally.legit_total += 1;
            tally.legit_high += u32::from(r.level >= Level::High);
        }
    }
    net.shutdown().await;
    tally
}

fn report(name: &str, t: &Tally) -> String {
    let mut s = format!("Detection quality, {name}\n");
    let _ = writeln!(
        s,
        "{:<22}{:>8}{:>8}{:>8}{:>8}{:>10}",
        "household kind", "normal", "low", "medium", "high", "critical"
    );
    for (kind, row) in &t.by_kind {
        let _ = writeln!(
            s,
            "{kind:<22}{:>8}{:>8}{:>8}{:>8}{:>10}",
            row[0], row[1], row[2], row[3], row[4]
        );
    }
    let recall = t.sharing_caught as f64 / t.sharing_total.max(1) as f64;
    let fp = t.legit_high as f64 / t.legit_total.max(1) as f64;
    let _ = writeln!(
        s,
        "sharing at medium+: {}/{} (recall {recall:.3}); legitimate at high+: {}/{} ({:.2}%)\n",
        t.sharing_caught,
        t.sharing_total,
        t.legit_high,
        t.legit_total,
        fp * 100.0
    );
    s
}

fn check(t: &Tally) {
    assert!(t.sharing_total >= 200, "enough sharing households to judge");
    let recall = t.sharing_caught as f64 / t.sharing_total as f64;
    assert!(recall >= 0.95, "recall {recall}");
    let fp = t.legit_high as f64 / t.legit_total as f64;
    assert!(fp <= 0.005, "false positives {fp}");
    assert!(
        t.by_kind.len() == 10,
        "all ten kinds present: {:?}",
        t.by_kind.keys()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn labelled_population_meets_the_recall_and_false_positive_bars() {
    let marks = measure(
        PopulationSpec::scaled(6_000, 4, 7),
        ProbeStrategy::ConnectionMark,
    )
    .await;
    let lists = measure(
        PopulationSpec::scaled(3_000, 4, 11),
        ProbeStrategy::AddressList,
    )
    .await;
    let text = report(
        "connection-mark probes, 6,000 subscribers on 4 routers",
        &marks,
    ) + &report(
        "address-list probes, 3,000 subscribers on 4 routers",
        &lists,
    );
    println!("{text}");
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/quality-report.txt");
    let _ = std::fs::write(path, &text);
    check(&marks);
    check(&lists);
}
