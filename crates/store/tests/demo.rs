//! The demo's data beside the owner's: counted, and removed in one step that
//! leaves every row of the owner's own routers as it was.

mod common;

use chrono::Duration;
use common::{at, completed_scan, result, temp_store};
use serde_json::json;
use shareguard_detect::abuse::{AbuseKind, Finding, Severity};
use shareguard_detect::Level;
use shareguard_store::{
    action, Action, ActionKind, ActionMethod, AuditEntry, AuditFilter, CycleStats, DemoRemoved,
    ResultFilter, Sighting, WarningQuery,
};

fn sighting(sub: &str, nas: &str) -> Sighting {
    Sighting {
        subscriber: sub.into(),
        nas: nas.into(),
        finding: Finding {
            kind: AbuseKind::ConnectionFlood,
            severity: Severity::Warning,
            measured: 900.0,
            threshold: 500.0,
            details: "900 concurrent connections".into(),
        },
    }
}

fn cycle(nas: &str) -> CycleStats {
    CycleStats {
        nas: nas.into(),
        subscribers: 2,
        connections: 1000,
        p2p_connections: 0,
        elapsed_ms: 30,
    }
}

fn disconnect(sub: &str, nas: &str) -> Action {
    Action {
        id: None,
        subscriber: sub.into(),
        nas: nas.into(),
        kind: ActionKind::Disconnect,
        method: ActionMethod::Radius,
        operator: "owner".into(),
        reason: "sharing".into(),
        details: json!({}),
        started_at: at(100),
        expires_at: None,
        ended_at: Some(at(100)),
    }
}

#[test]
fn removing_the_demo_leaves_the_owners_data_as_it_was() {
    let mut t = temp_store();
    let s = &mut t.store;
    // One scan of the demo alone, one of the owner's router alone, one of both.
    completed_scan(
        s,
        &[
            result("sub-00001", "demo-nas-01", Level::High, 700),
            result("sub-00002", "demo-nas-02", Level::Normal, 40),
        ],
    );
    completed_scan(s, &[result("ann", "tower-1", Level::Medium, 300)]);
    completed_scan(
        s,
        &[
            result("sub-00003", "demo-nas-01", Level::Low, 90),
            result("bob", "tower-1", Level::Normal, 60),
        ],
    );
    // The same login on both: the owner's data about it stays.
    completed_scan(s, &[result("shared", "demo-nas-02", Level::Normal, 10)]);
    completed_scan(s, &[result("shared", "tower-1", Level::Normal, 12)]);
    s.record_cycle(
        at(200),
        &[cycle("demo-nas-01"), cycle("tower-1")],
        &[
            sighting("sub-00001", "demo-nas-01"),
            sighting("ann", "tower-1"),
        ],
        Duration::minutes(60),
    )
    .unwrap();
    for (sub, nas) in [("sub-00001", "demo-nas-01"), ("ann", "tower-1")] {
        s.record_action(
            &disconnect(sub, nas),
            &AuditEntry::new("owner", action::DISCONNECT).subject(sub),
        )
        .unwrap();
    }
    for sub in ["sub-00001", "ann", "shared"] {
        s.whitelist_add(sub, "family", "owner", None).unwrap();
        s.set_subscriber_tag(sub, Some("north"), "owner").unwrap();
        s.line_distance_set(sub, 2, "mesh", "owner").unwrap();
    }
    // A tag for someone never scanned is the owner's too.
    s.set_subscriber_tag("carol", Some("north"), "owner")
        .unwrap();

    assert_eq!(s.result_count(&ResultFilter::default()).unwrap(), 6);
    assert_eq!(s.demo_result_count().unwrap(), 3);

    let removed = s.remove_demo_data("owner").unwrap();
    assert_eq!(
        removed,
        DemoRemoved {
            results: 3,
            scans: 2,
            warnings: 1,
            actions: 1,
        }
    );
    assert_eq!(s.demo_result_count().unwrap(), 0);
    let mut left: Vec<String> = s
        .result_lines(&ResultFilter::default())
        .unwrap()
        .into_iter()
        .map(|r| r.subscriber)
        .collect();
    left.sort();
    assert_eq!(left, ["ann", "bob", "shared"]);
    // The scans of the owner's router remain, the two demo-only ones are
    // gone, and no scan lists a demo router any more.
    let scans = s.list_scans(10).unwrap();
    assert_eq!(scans.len(), 3);
    assert!(scans
        .iter()
        .all(|x| x.nas.iter().all(|n| !n.nas.starts_with("demo-"))));
    let warnings = s
        .warnings(&WarningQuery {
            limit: 100,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(warnings.len(), 1);
    assert_eq!(warnings[0].subscriber, "ann");
    assert!(s.actions_for("sub-00001", 10).unwrap().is_empty());
    assert_eq!(s.actions_for("ann", 10).unwrap().len(), 1);
    let whitelist: Vec<String> = s
        .whitelist_list(true)
        .unwrap()
        .into_iter()
        .map(|e| e.subscriber)
        .collect();
    assert_eq!(whitelist, ["ann", "shared"]);
    let distances: Vec<String> = s
        .line_distances()
        .unwrap()
        .into_iter()
        .map(|e| e.subscriber)
        .collect();
    assert_eq!(distances, ["ann", "shared"]);
    assert!(s.subscriber_history("sub-00001", 10).unwrap().is_empty());
    assert_eq!(s.subscriber_history("shared", 10).unwrap().len(), 1);

    let audit = s
        .audit_log(&AuditFilter {
            action: Some(action::DEMO_REMOVED.into()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].details["results"], 3);

    // Again: nothing left to remove.
    assert_eq!(s.remove_demo_data("owner").unwrap(), DemoRemoved::default());
}
