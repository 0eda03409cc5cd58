//! A line's memory: the owner's distance (audited) and its recent scans.

mod common;

use chrono::Duration;
use common::{at, completed_scan, result, temp_store};
use shareguard_detect::Level;
use shareguard_store::{action, AuditFilter, StoreError};

#[test]
fn the_owners_distance_is_stored_audited_and_cleared() {
    let mut t = temp_store();
    t.store
        .line_distance_set("bob", 0, "bridged modem, PC dials", "alice")
        .unwrap();
    t.store
        .line_distance_set("bob", 2, "mesh behind ISP router", "alice")
        .unwrap();
    let all = t.store.line_distances().unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(
        (all[0].hops, all[0].note.as_str()),
        (2, "mesh behind ISP router")
    );
    let mem = t.store.line_memory(chrono::Utc::now()).unwrap();
    assert_eq!(mem["bob"].owner_hops, Some(2));

    let err = t
        .store
        .line_distance_set("bob", 9, "", "alice")
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Invalid(ref m) if m.contains("0 to 8 hops")),
        "{err}"
    );

    assert!(t.store.line_distance_clear("bob", "alice").unwrap());
    assert!(!t.store.line_distance_clear("bob", "alice").unwrap());
    assert!(t.store.line_distances().unwrap().is_empty());

    let log = t
        .store
        .audit_log(&AuditFilter {
            subject: Some("bob".into()),
            ..AuditFilter::default()
        })
        .unwrap();
    let actions: Vec<&str> = log.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions
            .iter()
            .filter(|a| **a == action::LINE_DISTANCE_SET)
            .count(),
        2
    );
    assert_eq!(
        actions
            .iter()
            .filter(|a| **a == action::LINE_DISTANCE_CLEARED)
            .count(),
        1
    );
    let replaced = log
        .iter()
        .find(|e| e.action == action::LINE_DISTANCE_SET && e.details["hops"] == 2)
        .unwrap();
    assert_eq!(replaced.details["replaced_hops"], 0);
    // The clearing records the distance it removed.
    let cleared = log
        .iter()
        .find(|e| e.action == action::LINE_DISTANCE_CLEARED)
        .unwrap();
    assert_eq!(cleared.details["hops"], 2);
}

#[test]
fn recent_scans_come_back_newest_first_with_their_ttls() {
    let mut t = temp_store();
    for i in 0..10 {
        let mut r = result("ann", "nas-1", Level::Normal, 40 + i);
        r.scanned_at = at(i64::from(i) * 3600);
        r.ttl_counts = [(63, 30 + i), (62, i)]
            .into_iter()
            .filter(|x| x.1 > 0)
            .collect();
        r.ttl_values = r.ttl_counts.keys().copied().collect();
        completed_scan(&mut t.store, &[r]);
    }
    let mem = t.store.line_memory(at(10 * 3600)).unwrap();
    let past = &mem["ann"].past;
    assert_eq!(past.len(), shareguard_detect::line::HISTORY_SCANS);
    assert_eq!(past[0].at, at(9 * 3600));
    assert_eq!(past[0].counts, [(62, 9), (63, 39)].into());
    assert!(past.windows(2).all(|w| w[0].at > w[1].at));
    // Scans older than the window are not history.
    let later =
        at(10 * 3600) + Duration::days(shareguard_detect::line::HISTORY_DAYS) + Duration::hours(5);
    assert!(t
        .store
        .line_memory(later)
        .unwrap()
        .get("ann")
        .is_none_or(|m| m.past.len() < 8));
}
