//! Large and slow routers: a router is given the time its table needs,
//! not a fixed total, and given up only when it stalls or is slower than
//! any working router. The simulated routers print at a set rate over real
//! TCP; nothing here asserts a duration.

use std::time::Duration;

use shareguard_detect::{NasStatus, ScanStatus};
use shareguard_engine::demo::{self, DEMO_PASSWORD, DEMO_USER};
use shareguard_scan::{run_scan, CancellationToken};
use shareguard_sim::population::PopulationSpec;
use shareguard_tests::{request, start_sim};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_300000_row_router_at_20000_rows_per_second_is_scanned_to_the_end_with_default_limits() {
    let net = start_sim(PopulationSpec::scaled(3_900, 1, 5), false).await;
    let nas = &net.nas()[0];
    let rows = nas.connection_count();
    assert!(rows >= 300_000, "{rows} rows");
    nas.set_rows_per_second(Some(20_000));
    // The targets as the app and the CLI make them: default budget and
    // silence limit.
    let targets = demo::targets_for(&net, DEMO_USER, DEMO_PASSWORD);
    assert_eq!(targets[0].budget, Duration::from_secs(10));
    let out = run_scan(request(targets), CancellationToken::new(), None).await;
    let o = &out.summary.nas[0];
    assert_eq!(o.status, NasStatus::Ok, "{:?}", o.error);
    assert_eq!(out.summary.status, ScanStatus::Completed);
    assert_eq!(o.expected_rows, Some(rows as u64));
    assert!(o.connections >= rows as u64, "{} of {rows}", o.connections);
    assert!(o.rows_per_second.is_some_and(|r| r > 0.0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_router_slower_than_any_working_router_is_given_up_saying_how_far_it_got() {
    let net = start_sim(PopulationSpec::scaled(400, 2, 3), false).await;
    let slow = &net.nas()[0];
    let rows = slow.connection_count() as u64;
    // Far below the slowest working rate, but never silent.
    slow.set_rows_per_second(Some(1_000));
    let mut targets = demo::targets_for(&net, DEMO_USER, DEMO_PASSWORD);
    for t in &mut targets {
        t.budget = Duration::from_secs(1);
    }
    let out = run_scan(request(targets), CancellationToken::new(), None).await;
    let (given_up, fine) = (&out.summary.nas[0], &out.summary.nas[1]);
    assert_eq!(given_up.status, NasStatus::TimedOut);
    assert_eq!(given_up.error_kind.as_deref(), Some("timeout"));
    assert_eq!(given_up.expected_rows, Some(rows));
    let text = given_up.error.as_deref().unwrap();
    assert!(
        text.contains(&format!("% of its {rows} connections read"))
            && text.contains("at least 2000 rows per second"),
        "{text}"
    );
    assert_eq!(fine.status, NasStatus::Ok, "{:?}", fine.error);
    assert_eq!(out.summary.status, ScanStatus::Partial);
}
