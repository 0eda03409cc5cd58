//! Tags, the warnings trend and the retention clean-up: what the dashboard
//! and the yearly clean-up rely on.

mod common;

use chrono::Duration;
use common::{at, outcome, result, summary, temp_store};
use shareguard_detect::{
    DetectionSettings, Level, NasStatus, ScanScope, ScanStatus, SubscriberResult,
};
use shareguard_store::{AuditFilter, NasRecord, ResultFilter, Retention, Store};

/// A completed scan of `results` started `days` days after the fixture epoch.
fn scan_on_day(store: &mut Store, day: i64, results: &[SubscriberResult]) -> i64 {
    let started = at(0) + Duration::days(day);
    let id = store
        .begin_scan(
            "alice",
            &ScanScope::All,
            &DetectionSettings::default(),
            started,
        )
        .unwrap();
    let rows: Vec<SubscriberResult> = results
        .iter()
        .cloned()
        .map(|mut r| {
            r.scanned_at = started + Duration::seconds(30);
            r
        })
        .collect();
    let mut s = summary(
        id,
        ScanStatus::Completed,
        vec![
            outcome("tower-1", NasStatus::Ok),
            outcome("tower-2", NasStatus::Ok),
        ],
        &rows,
    );
    s.started_at = started;
    s.finished_at = Some(started + Duration::seconds(60));
    store.finish_scan(&s, &rows).unwrap()
}

fn names(store: &Store, filter: &ResultFilter) -> Vec<String> {
    let mut v: Vec<String> = store
        .results(filter)
        .unwrap()
        .into_iter()
        .map(|r| r.subscriber)
        .collect();
    v.sort();
    v
}

#[test]
fn a_subscriber_tag_overrides_its_routers_tag() {
    let mut t = temp_store();
    let mut nas = NasRecord::new(
        "tower-1",
        "192.0.2.1",
        "admin",
        shareguard_detect::Access::Pppoe,
    );
    nas.tag = Some("North".into());
    t.store.upsert_nas(&nas).unwrap();
    scan_on_day(
        &mut t.store,
        0,
        &[
            result("ann", "tower-1", Level::High, 700),
            result("bob", "tower-1", Level::Normal, 40),
            result("cy", "tower-2", Level::Medium, 300),
        ],
    );
    t.store
        .set_subscriber_tag("bob", Some(" Reseller A "), "alice")
        .unwrap();
    t.store
        .set_subscriber_tag("cy", Some("North"), "alice")
        .unwrap();

    let by = |tag: &str| ResultFilter {
        tag: Some(tag.into()),
        ..Default::default()
    };
    assert_eq!(names(&t.store, &by("North")), ["ann", "cy"]);
    assert_eq!(names(&t.store, &by("Reseller A")), ["bob"]);
    assert_eq!(t.store.result_count(&by("North")).unwrap(), 2);
    assert_eq!(t.store.tags().unwrap(), ["North", "Reseller A"]);
    let tags = t.store.result_tags().unwrap();
    assert_eq!(tags.get("bob").map(String::as_str), Some("Reseller A"));
    assert_eq!(tags.get("ann").map(String::as_str), Some("North"));

    // Removing the subscriber's tag falls back to the router's (none for tower-2).
    t.store.set_subscriber_tag("cy", None, "alice").unwrap();
    assert_eq!(names(&t.store, &by("North")), ["ann"]);
    assert!(!t.store.result_tags().unwrap().contains_key("cy"));

    let e = t
        .store
        .set_subscriber_tag("ann", Some("  "), "alice")
        .unwrap_err();
    assert!(e.to_string().contains("1 to 64"), "{e}");
    let log = t
        .store
        .audit_log(&AuditFilter {
            action: Some("tag_set".into()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(log.len(), 3);
    assert_eq!(log[0].operator, "alice");
}

#[test]
fn the_trend_counts_flagged_subscribers_per_scan() {
    let mut t = temp_store();
    let mut ann = result("ann", "tower-1", Level::High, 700);
    scan_on_day(
        &mut t.store,
        0,
        &[ann.clone(), result("bob", "tower-2", Level::Medium, 40)],
    );
    ann.whitelisted = true;
    ann.level = Level::Normal;
    scan_on_day(
        &mut t.store,
        1,
        &[ann, result("bob", "tower-2", Level::Critical, 900)],
    );
    scan_on_day(&mut t.store, 2, &[result("bob", "tower-2", Level::Low, 10)]);

    let trend = t.store.flag_trend(10, None).unwrap();
    let counts: Vec<(u32, u32, u32)> = trend
        .iter()
        .map(|p| (p.checked, p.flagged, p.high))
        .collect();
    assert_eq!(counts, [(2, 2, 1), (2, 1, 1), (1, 0, 0)]);
    assert!(trend.windows(2).all(|w| w[0].at < w[1].at), "oldest first");
    assert_eq!(
        t.store.flag_trend(2, None).unwrap().len(),
        2,
        "the latest scans"
    );

    t.store
        .set_subscriber_tag("ann", Some("South"), "alice")
        .unwrap();
    let south: Vec<u32> = t
        .store
        .flag_trend(10, Some("South"))
        .unwrap()
        .iter()
        .map(|p| p.flagged)
        .collect();
    assert_eq!(south, [1, 0]);
}

#[test]
fn retention_removes_old_history_but_never_the_latest_results() {
    let mut t = temp_store();
    // ann was last seen on day 0 (her router then disappeared); bob is
    // scanned on days 0, 100 and 400.
    let ann = result("ann", "tower-1", Level::High, 700);
    let old = scan_on_day(
        &mut t.store,
        0,
        &[ann.clone(), result("bob", "tower-2", Level::Medium, 600)],
    );
    let mid = scan_on_day(
        &mut t.store,
        100,
        &[result("bob", "tower-2", Level::Low, 60)],
    );
    let new = scan_on_day(
        &mut t.store,
        400,
        &[result("bob", "tower-2", Level::Normal, 30)],
    );
    let before = t.store.results(&ResultFilter::default()).unwrap();

    let keep = Retention::default();
    let pruned = t
        .store
        .prune_history(keep.cutoff(at(0) + Duration::days(500)), "system")
        .unwrap();
    assert_eq!(pruned.history_rows, 2, "bob's rows of day 0 and day 100");
    assert_eq!(
        pruned.scans, 1,
        "the day-100 scan; day 0 still backs ann's result"
    );

    assert_eq!(t.store.results(&ResultFilter::default()).unwrap(), before);
    let ann_history = t.store.subscriber_history("ann", 10).unwrap();
    assert_eq!(ann_history.len(), 1);
    assert!(
        !t.store.ttl_histogram(old, "ann").unwrap().is_empty(),
        "evidence kept"
    );
    assert!(
        t.store.ttl_histogram(old, "bob").unwrap().is_empty(),
        "evidence went"
    );
    assert!(t.store.scan(mid).unwrap().is_none());
    assert!(t.store.scan(old).unwrap().is_some() && t.store.scan(new).unwrap().is_some());
    let bob: Vec<i64> = t
        .store
        .subscriber_history("bob", 10)
        .unwrap()
        .iter()
        .map(|h| h.scan_id)
        .collect();
    assert_eq!(bob, [new]);

    let log = t
        .store
        .audit_log(&AuditFilter {
            action: Some("history_pruned".into()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].operator, "system");
    assert_eq!(log[0].details["history_rows"], 2);

    // Nothing left to remove: nothing changes and nothing is logged.
    let again = t
        .store
        .prune_history(keep.cutoff(at(0) + Duration::days(500)), "system")
        .unwrap();
    assert_eq!((again.scans, again.history_rows), (0, 0));
    assert_eq!(
        t.store
            .audit_log(&AuditFilter {
                action: Some("history_pruned".into()),
                ..Default::default()
            })
            .unwrap()
            .len(),
        1
    );

    assert!(Retention { days: 10 }
        .validate()
        .unwrap_err()
        .contains("30 to 3650"));
}

#[test]
fn a_database_of_the_first_schema_is_upgraded_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v1.db");
    {
        let c = rusqlite::Connection::open(&path).unwrap();
        c.execute_batch(shareguard_store::migrations::V1_FOR_TESTS)
            .unwrap();
        c.pragma_update(None, "user_version", 1).unwrap();
        c.execute(
            "INSERT INTO whitelist (subscriber, reason, added_by, added_at) VALUES ('ann', 'office', 'owner', '2026-01-01T00:00:00.000000000Z')",
            [],
        )
        .unwrap();
    }
    let store = Store::open(&path).unwrap();
    assert_eq!(
        store.schema_version().unwrap(),
        shareguard_store::SCHEMA_VERSION
    );
    assert_eq!(store.whitelist_list(true).unwrap()[0].reason, "office");
    assert!(!store.has_staff().unwrap());
}
