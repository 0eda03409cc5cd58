//! Storing scans: what the owner sees after a scan succeeds, fails halfway or
//! is cancelled.

mod common;

use common::{at, completed_scan, outcome, result, run_scan, summary, tag_router, temp_store};
use shareguard_detect::{DetectionSettings, Level, NasStatus, ScanScope, ScanStatus};
use shareguard_store::{action, AuditFilter, ResultFilter, ResultOrder, Store, StoreError};

fn all_results(store: &Store) -> Vec<shareguard_detect::SubscriberResult> {
    store.results(&ResultFilter::default()).unwrap()
}

#[test]
fn results_round_trip_exactly() {
    let mut t = temp_store();
    let r = vec![result("ann", "tower-1", Level::High, 700)];
    run_scan(
        &mut t.store,
        ScanStatus::Completed,
        vec![outcome("tower-1", NasStatus::Ok)],
        &r,
    );
    assert_eq!(all_results(&t.store), r);
    assert_eq!(t.store.result("ann").unwrap().as_ref(), Some(&r[0]));
    assert_eq!(t.store.result("nobody").unwrap(), None);
}

#[test]
fn failed_router_keeps_previous_results() {
    let mut t = temp_store();
    let first = vec![
        result("ann", "tower-1", Level::High, 700),
        result("bob", "tower-2", Level::Normal, 40),
    ];
    completed_scan(&mut t.store, &first);

    // tower-1 times out; tower-2 answers with a new verdict for bob. A stray
    // result attributed to the failed router must not replace ann's.
    let mut bob = result("bob", "tower-2", Level::Medium, 550);
    bob.scanned_at = at(500);
    let mut stray = result("ann", "tower-1", Level::Normal, 0);
    stray.scanned_at = at(500);
    let second_id = run_scan(
        &mut t.store,
        ScanStatus::Partial,
        vec![
            outcome("tower-1", NasStatus::TimedOut),
            outcome("tower-2", NasStatus::Ok),
        ],
        &[stray, bob.clone()],
    );

    assert_eq!(t.store.result("ann").unwrap().as_ref(), Some(&first[0]));
    assert_eq!(t.store.result("bob").unwrap().as_ref(), Some(&bob));
    assert!(t.store.ttl_histogram(second_id, "ann").unwrap().is_empty());
    assert_eq!(t.store.subscriber_history("ann", 10).unwrap().len(), 1);
    assert_eq!(t.store.subscriber_history("bob", 10).unwrap().len(), 2);
}

#[test]
fn failed_scan_changes_no_results() {
    let mut t = temp_store();
    let first = vec![result("ann", "tower-1", Level::High, 700)];
    run_scan(
        &mut t.store,
        ScanStatus::Completed,
        vec![outcome("tower-1", NasStatus::Ok)],
        &first,
    );
    run_scan(
        &mut t.store,
        ScanStatus::Failed,
        vec![outcome("tower-1", NasStatus::Failed)],
        &[result("ann", "tower-1", Level::Normal, 1)],
    );
    assert_eq!(all_results(&t.store), first);
    let last = t.store.last_scan().unwrap().unwrap();
    assert_eq!(last.status, ScanStatus::Failed);
    assert_eq!(last.nas[0].status, NasStatus::Failed);
}

#[test]
fn cancelled_scan_changes_no_results() {
    let mut t = temp_store();
    let first = vec![result("ann", "tower-1", Level::High, 700)];
    run_scan(
        &mut t.store,
        ScanStatus::Completed,
        vec![outcome("tower-1", NasStatus::Ok)],
        &first,
    );
    let audit_before = t.store.audit_log(&AuditFilter::default()).unwrap().len();

    // Even a router that finished before the cancel does not count.
    let cancelled = run_scan(
        &mut t.store,
        ScanStatus::Cancelled,
        vec![outcome("tower-1", NasStatus::Ok)],
        &[
            result("ann", "tower-1", Level::Critical, 900),
            result("cat", "tower-1", Level::Low, 310),
        ],
    );

    assert_eq!(all_results(&t.store), first);
    assert_eq!(t.store.subscriber_history("ann", 10).unwrap().len(), 1);
    assert!(t.store.ttl_histogram(cancelled, "ann").unwrap().is_empty());
    let scan = t.store.scan(cancelled).unwrap().unwrap();
    assert_eq!(scan.status, ScanStatus::Cancelled);
    // The scan itself is audited, but nobody is flagged by it.
    let log = t.store.audit_log(&AuditFilter::default()).unwrap();
    assert_eq!(log.len(), audit_before + 1);
    assert_eq!(log[0].action, action::SCAN);
}

#[test]
fn results_are_upserted_per_subscriber() {
    let mut t = temp_store();
    run_scan(
        &mut t.store,
        ScanStatus::Completed,
        vec![outcome("tower-1", NasStatus::Ok)],
        &[
            result("ann", "tower-1", Level::High, 700),
            result("bob", "tower-1", Level::Low, 320),
        ],
    );
    // The second scan sees only ann: bob's earlier result stays.
    let mut ann = result("ann", "tower-1", Level::Normal, 50);
    ann.scanned_at = at(1000);
    let second = run_scan(
        &mut t.store,
        ScanStatus::Completed,
        vec![outcome("tower-1", NasStatus::Ok)],
        &[ann.clone()],
    );

    let all = all_results(&t.store);
    assert_eq!(all.len(), 2);
    assert_eq!(t.store.result("ann").unwrap().unwrap(), ann);
    assert_eq!(t.store.result("bob").unwrap().unwrap().level, Level::Low);

    let history = t.store.subscriber_history("ann", 10).unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(history[0].scan_id, second, "newest first");
    assert_eq!(history[0].level, Level::Normal);
    assert_eq!(history[1].level, Level::High);
    assert_eq!(history[1].connections, 700);
    assert_eq!(t.store.subscriber_history("ann", 1).unwrap().len(), 1);
}

#[test]
fn subscriber_listed_twice_in_one_scan_keeps_the_last_entry() {
    let mut t = temp_store();
    let a = result("ann", "tower-1", Level::Low, 310);
    let b = result("ann", "tower-2", Level::High, 720);
    completed_scan(&mut t.store, &[a, b.clone()]);
    assert_eq!(all_results(&t.store), vec![b]);
}

#[test]
fn ttl_evidence_is_kept_per_scan() {
    let mut t = temp_store();
    let r = result("ann", "tower-1", Level::High, 700);
    let id = run_scan(
        &mut t.store,
        ScanStatus::Completed,
        vec![outcome("tower-1", NasStatus::Ok)],
        std::slice::from_ref(&r),
    );
    assert_eq!(t.store.ttl_histogram(id, "ann").unwrap(), r.ttl_counts);
    assert!(t.store.ttl_histogram(id, "bob").unwrap().is_empty());
}

#[test]
fn finishing_a_scan_records_who_scanned_and_who_was_flagged() {
    let mut t = temp_store();
    let mut excused = result("dan", "tower-1", Level::Normal, 900);
    excused.assessed_level = Level::Critical;
    excused.whitelisted = true;
    let id = run_scan(
        &mut t.store,
        ScanStatus::Completed,
        vec![outcome("tower-1", NasStatus::Ok)],
        &[
            result("ann", "tower-1", Level::High, 700),
            result("bob", "tower-1", Level::Low, 320),
            result("cat", "tower-1", Level::Medium, 520),
            excused,
        ],
    );

    let scans = t
        .store
        .audit_log(&AuditFilter {
            action: Some(action::SCAN.into()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(scans.len(), 1);
    assert_eq!(scans[0].operator, "alice");
    assert_eq!(scans[0].details["scan_id"], id);
    assert_eq!(scans[0].details["status"], "completed");
    assert_eq!(scans[0].details["nas"][0]["status"], "ok");

    let flags = t
        .store
        .audit_log(&AuditFilter {
            action: Some(action::FLAG.into()),
            ..Default::default()
        })
        .unwrap();
    let mut flagged: Vec<_> = flags.iter().filter_map(|e| e.subject.as_deref()).collect();
    flagged.sort();
    assert_eq!(flagged, ["ann", "cat"]);
    let ann = flags
        .iter()
        .find(|e| e.subject.as_deref() == Some("ann"))
        .unwrap();
    assert_eq!(ann.details["level"], "high");
    assert_eq!(ann.details["ttl_status"], "router_detected");
    assert_eq!(ann.details["reasons"][0], "700 connections");
}

#[test]
fn last_scan_shows_every_router_outcome() {
    let mut t = temp_store();
    assert_eq!(t.store.last_scan().unwrap(), None);
    let nas = vec![
        outcome("tower-1", NasStatus::Ok),
        outcome("tower-2", NasStatus::TimedOut),
    ];
    let r = [result("ann", "tower-1", Level::High, 700)];
    let id = run_scan(&mut t.store, ScanStatus::Partial, nas.clone(), &r);

    let last = t.store.last_scan().unwrap().unwrap();
    assert_eq!(last, summary(id, ScanStatus::Partial, nas, &r));
    assert_eq!(t.store.scan(id).unwrap().unwrap(), last);
    assert_eq!(t.store.scan(id + 1).unwrap(), None);
}

#[test]
fn running_scan_is_listed_until_finished() {
    let mut t = temp_store();
    let first = run_scan(
        &mut t.store,
        ScanStatus::Completed,
        vec![outcome("tower-1", NasStatus::Ok)],
        &[],
    );
    let running = t
        .store
        .begin_scan(
            "bob",
            &ScanScope::Nas("tower-1".into()),
            &DetectionSettings::default(),
            at(300),
        )
        .unwrap();
    let last = t.store.last_scan().unwrap().unwrap();
    assert_eq!(last.id, Some(running));
    assert_eq!(last.status, ScanStatus::Running);
    assert_eq!(last.finished_at, None);
    assert_eq!(last.scope, ScanScope::Nas("tower-1".into()));

    let listed = t.store.list_scans(10).unwrap();
    assert_eq!(
        listed.iter().map(|s| s.id.unwrap()).collect::<Vec<_>>(),
        [running, first]
    );
    assert_eq!(t.store.list_scans(1).unwrap().len(), 1);
}

#[test]
fn a_scan_cannot_be_finished_twice_or_without_being_started() {
    let mut t = temp_store();
    let id = run_scan(
        &mut t.store,
        ScanStatus::Completed,
        vec![outcome("tower-1", NasStatus::Ok)],
        &[],
    );
    let again = t
        .store
        .finish_scan(&summary(id, ScanStatus::Completed, vec![], &[]), &[]);
    assert!(
        matches!(again, Err(StoreError::ScanAlreadyFinished { .. })),
        "{again:?}"
    );
    let unknown = t
        .store
        .finish_scan(&summary(id + 7, ScanStatus::Completed, vec![], &[]), &[]);
    assert!(
        matches!(unknown, Err(StoreError::UnknownScan { .. })),
        "{unknown:?}"
    );
    let running = t
        .store
        .finish_scan(&summary(id, ScanStatus::Running, vec![], &[]), &[]);
    assert!(
        matches!(running, Err(StoreError::Invalid(_))),
        "{running:?}"
    );
}

#[test]
fn scan_without_begin_gets_a_new_id() {
    let mut t = temp_store();
    let mut s = summary(
        0,
        ScanStatus::Completed,
        vec![outcome("tower-1", NasStatus::Ok)],
        &[],
    );
    s.id = None;
    let r = [result("ann", "tower-1", Level::Low, 301)];
    let id = t.store.finish_scan(&s, &r).unwrap();
    assert_eq!(t.store.scan(id).unwrap().unwrap().nas.len(), 1);
    assert_eq!(all_results(&t.store).len(), 1);
}

#[test]
fn results_can_be_filtered_searched_and_paged() {
    let mut t = temp_store();
    let mut whitelisted = result("eve-business", "tower-2", Level::Normal, 950);
    whitelisted.assessed_level = Level::Critical;
    whitelisted.whitelisted = true;
    let rs = vec![
        result("ann", "tower-1", Level::High, 700),
        result("bob", "tower-1", Level::Low, 320),
        result("cat", "tower-2", Level::Medium, 520),
        result("dan", "tower-2", Level::High, 810),
        result("Fred", "tower-1", Level::Normal, 10),
        whitelisted,
    ];
    completed_scan(&mut t.store, &rs);
    let names = |f: ResultFilter| -> Vec<String> {
        t.store
            .results(&f)
            .unwrap()
            .into_iter()
            .map(|r| r.subscriber)
            .collect()
    };

    assert_eq!(
        names(ResultFilter::default()),
        ["dan", "ann", "cat", "bob", "eve-business", "Fred"]
    );
    assert_eq!(
        names(ResultFilter {
            min_level: Some(Level::Medium),
            ..Default::default()
        }),
        ["dan", "ann", "cat"]
    );
    assert_eq!(
        names(ResultFilter {
            nas: Some("tower-1".into()),
            ..Default::default()
        }),
        ["ann", "bob", "Fred"]
    );
    assert_eq!(
        names(ResultFilter {
            search: Some("FRE".into()),
            ..Default::default()
        }),
        ["Fred"]
    );
    assert_eq!(
        names(ResultFilter {
            search: Some("10.0.200.3".into()),
            ..Default::default()
        }),
        ["ann"]
    );
    assert_eq!(
        names(ResultFilter {
            flagged_only: true,
            ..Default::default()
        }),
        ["dan", "ann", "cat"]
    );
    assert_eq!(
        names(ResultFilter {
            limit: Some(2),
            offset: 1,
            ..Default::default()
        }),
        ["ann", "cat"]
    );

    assert_eq!(
        names(ResultFilter {
            search: Some("TOWER-2".into()),
            ..Default::default()
        }),
        ["dan", "cat", "eve-business"],
        "the search also matches the router"
    );
    assert_eq!(
        names(ResultFilter {
            subscriber: Some("bob".into()),
            ..Default::default()
        }),
        ["bob"]
    );

    let flagged = ResultFilter {
        flagged_only: true,
        limit: Some(1),
        ..Default::default()
    };
    assert_eq!(t.store.result_count(&flagged).unwrap(), 3);
    assert_eq!(t.store.result_count(&ResultFilter::default()).unwrap(), 6);
}

#[test]
fn results_sort_by_any_column_and_page_without_overlap() {
    let mut t = temp_store();
    let mut rs = vec![
        result("ann", "tower-1", Level::High, 700),
        result("bob", "tower-1", Level::Low, 320),
        result("cat", "tower-2", Level::Medium, 520),
        result("dan", "tower-2", Level::High, 700),
        result("Fred", "tower-1", Level::Normal, 10),
    ];
    rs[1].reasons.push("P2P traffic".into());
    rs[1].reasons.push("burst".into());
    completed_scan(&mut t.store, &rs);
    tag_router(&mut t.store, "tower-2", "north");
    let names = |order: ResultOrder, ascending: bool| -> Vec<String> {
        let f = ResultFilter {
            order,
            ascending,
            ..Default::default()
        };
        let lines = t.store.result_lines(&f).unwrap();
        let full: Vec<String> = t
            .store
            .results(&f)
            .unwrap()
            .into_iter()
            .map(|r| r.subscriber)
            .collect();
        let names: Vec<String> = lines.into_iter().map(|r| r.subscriber).collect();
        assert_eq!(names, full, "lines and full results share one order");
        names
    };
    use ResultOrder as O;
    // Ties (ann and dan: high, 700) fall back to the name.
    assert_eq!(names(O::Level, false), ["ann", "dan", "cat", "bob", "Fred"]);
    assert_eq!(names(O::Level, true), ["Fred", "bob", "cat", "ann", "dan"]);
    assert_eq!(
        names(O::Subscriber, true),
        ["Fred", "ann", "bob", "cat", "dan"]
    );
    assert_eq!(
        names(O::Subscriber, false),
        ["dan", "cat", "bob", "ann", "Fred"]
    );
    assert_eq!(names(O::Nas, true), ["Fred", "ann", "bob", "cat", "dan"]);
    assert_eq!(names(O::Nas, false), ["cat", "dan", "Fred", "ann", "bob"]);
    assert_eq!(names(O::Tag, false), ["cat", "dan", "Fred", "ann", "bob"]);
    assert_eq!(
        names(O::Connections, true),
        ["Fred", "bob", "cat", "ann", "dan"]
    );
    assert_eq!(names(O::Ttl, true)[..2], ["ann", "cat"], "62 before 63");
    assert_eq!(names(O::TtlStatus, true)[..2], ["Fred", "bob"]);
    assert_eq!(names(O::Reasons, false)[0], "bob");

    // Pages of one listing add up to the listing, in any order.
    for order in [
        O::Level,
        O::Subscriber,
        O::Nas,
        O::Tag,
        O::Connections,
        O::Ttl,
        O::TtlStatus,
        O::Reasons,
    ] {
        for ascending in [false, true] {
            let page = |offset| {
                t.store
                    .result_lines(&ResultFilter {
                        order,
                        ascending,
                        limit: Some(2),
                        offset,
                        ..Default::default()
                    })
                    .unwrap()
                    .into_iter()
                    .map(|r| r.subscriber)
            };
            let paged: Vec<String> = page(0).chain(page(2)).chain(page(4)).collect();
            assert_eq!(paged, names(order, ascending), "{order:?} {ascending}");
        }
    }
}

#[test]
fn a_result_line_carries_what_the_table_shows() {
    let mut t = temp_store();
    let rs = vec![
        result("ann", "tower-1", Level::High, 700),
        result("bob", "tower-2", Level::Low, 320),
    ];
    completed_scan(&mut t.store, &rs);
    tag_router(&mut t.store, "tower-2", "north");
    t.store
        .set_subscriber_tag("ann", Some("east"), "carol")
        .unwrap();
    let lines = t.store.result_lines(&ResultFilter::default()).unwrap();
    let ann = &lines[0];
    assert_eq!(
        (
            ann.subscriber.as_str(),
            ann.nas.as_str(),
            ann.address.as_str()
        ),
        ("ann", "tower-1", rs[0].address.as_str())
    );
    assert_eq!(
        (
            ann.connections,
            ann.p2p_connections,
            ann.level,
            ann.ttl_status
        ),
        (700, 70, Level::High, rs[0].ttl_status)
    );
    assert_eq!(ann.ttl_values, [62, 63]);
    assert_eq!(ann.reasons, rs[0].reasons);
    assert_eq!(ann.tag.as_deref(), Some("east"), "the subscriber's own tag");
    assert_eq!(lines[1].tag.as_deref(), Some("north"), "else the router's");
    assert!(lines
        .iter()
        .all(|l| l.disconnected_at.is_none() && !l.whitelisted));
}

#[test]
fn clearing_results_keeps_history_and_is_audited() {
    let mut t = temp_store();
    run_scan(
        &mut t.store,
        ScanStatus::Completed,
        vec![outcome("tower-1", NasStatus::Ok)],
        &[
            result("ann", "tower-1", Level::High, 700),
            result("bob", "tower-1", Level::Low, 320),
        ],
    );
    assert_eq!(t.store.clear_results("carol").unwrap(), 2);
    assert!(all_results(&t.store).is_empty());
    assert_eq!(t.store.subscriber_history("ann", 10).unwrap().len(), 1);
    let log = t
        .store
        .audit_log(&AuditFilter {
            action: Some(action::RESULTS_CLEARED.into()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].operator, "carol");
    assert_eq!(log[0].details["removed"], 2);
}

#[test]
fn thirty_thousand_results_round_trip() {
    let mut t = temp_store();
    let nas: Vec<_> = (0..6)
        .map(|i| outcome(&format!("tower-{i}"), NasStatus::Ok))
        .collect();
    let levels = Level::ALL;
    let rs: Vec<_> = (0..30_000u32)
        .map(|i| {
            result(
                &format!("sub{i:05}"),
                &format!("tower-{}", i % 6),
                levels[(i % 5) as usize],
                i % 1000,
            )
        })
        .collect();
    let started = std::time::Instant::now();
    let id = run_scan(&mut t.store, ScanStatus::Completed, nas, &rs);
    eprintln!("stored 30000 results in {:?}", started.elapsed());

    assert_eq!(
        t.store.result_count(&ResultFilter::default()).unwrap(),
        30_000
    );
    let mut back = all_results(&t.store);
    back.sort_by(|a, b| a.subscriber.cmp(&b.subscriber));
    assert_eq!(back, rs);
    assert_eq!(
        t.store.ttl_histogram(id, "sub12345").unwrap(),
        rs[12345].ttl_counts
    );

    // Reopening reads the same.
    drop(t.store);
    let store = Store::open(&t.path).unwrap();
    assert_eq!(
        store.result_count(&ResultFilter::default()).unwrap(),
        30_000
    );
}

#[test]
fn full_disk_keeps_previous_results() {
    let mut t = temp_store();
    let first = vec![result("ann", "tower-1", Level::High, 700)];
    run_scan(
        &mut t.store,
        ScanStatus::Completed,
        vec![outcome("tower-1", NasStatus::Ok)],
        &first,
    );

    // Cap the file at its current size: the next scan's results cannot fit.
    t.store.set_max_page_count(1).unwrap();
    let id = t
        .store
        .begin_scan(
            "alice",
            &ScanScope::All,
            &DetectionSettings::default(),
            at(200),
        )
        .ok();
    let big: Vec<_> = (0..2000)
        .map(|i| result(&format!("sub{i}"), "tower-1", Level::Medium, 600))
        .collect();
    let mut s = summary(
        id.unwrap_or(0),
        ScanStatus::Completed,
        vec![outcome("tower-1", NasStatus::Ok)],
        &big,
    );
    s.id = id;
    let err = t.store.finish_scan(&s, &big).unwrap_err();

    assert!(matches!(err, StoreError::DiskFull { .. }), "{err:?}");
    let message = err.to_string();
    assert!(
        message.contains(&format!("the disk holding {} is full", t.path.display())),
        "{message}"
    );
    assert!(
        message.contains("free some space and try again (no stored data was changed)"),
        "{message}"
    );

    assert_eq!(all_results(&t.store), first);
    drop(t.store);
    let store = Store::open(&t.path).unwrap();
    assert_eq!(store.results(&ResultFilter::default()).unwrap(), first);
    if let Some(id) = id {
        assert_eq!(store.scan(id).unwrap().unwrap().status, ScanStatus::Running);
    }
}

#[test]
fn a_scan_left_running_is_closed_later_and_reports_find_the_last_finished_one() {
    let mut t = temp_store();
    let r = [result("ann", "tower-1", Level::High, 700)];
    let done = run_scan(
        &mut t.store,
        ScanStatus::Completed,
        vec![outcome("tower-1", NasStatus::Ok)],
        &r,
    );
    // A scan the process never finished (killed mid-way).
    let killed = t
        .store
        .begin_scan(
            "bob",
            &ScanScope::All,
            &DetectionSettings::default(),
            at(600),
        )
        .unwrap();
    assert_eq!(t.store.last_scan().unwrap().unwrap().id, Some(killed));
    assert_eq!(
        t.store.last_finished_scan().unwrap().unwrap().id,
        Some(done),
        "the latest scan with results, not the one still running"
    );
    // Within two hours it may still be running somewhere: left alone.
    assert_eq!(t.store.close_abandoned_scans(at(600 + 3_600)).unwrap(), 0);
    assert_eq!(t.store.close_abandoned_scans(at(600 + 7_300)).unwrap(), 1);
    let closed = t.store.scan(killed).unwrap().unwrap();
    assert_eq!(closed.status, ScanStatus::Failed);
    assert!(closed.finished_at.is_some());
    // A new scan closes such leftovers by itself.
    let again = t
        .store
        .begin_scan(
            "bob",
            &ScanScope::All,
            &DetectionSettings::default(),
            at(20_000),
        )
        .unwrap();
    let mut u = temp_store();
    let left = u
        .store
        .begin_scan("bob", &ScanScope::All, &DetectionSettings::default(), at(0))
        .unwrap();
    u.store
        .begin_scan(
            "bob",
            &ScanScope::All,
            &DetectionSettings::default(),
            at(10_000),
        )
        .unwrap();
    assert_eq!(
        u.store.scan(left).unwrap().unwrap().status,
        ScanStatus::Failed
    );
    assert_eq!(
        t.store.scan(again).unwrap().unwrap().status,
        ScanStatus::Running
    );
}
