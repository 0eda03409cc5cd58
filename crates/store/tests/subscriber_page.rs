//! One subscriber's page: their latest result, history, the whitelist entry
//! in force, the owner's distance and what was done about them, in one read.

mod common;

use chrono::{Duration, Utc};
use common::{completed_scan, result, temp_store};
use shareguard_detect::Level;

#[test]
fn the_page_holds_what_is_in_force_and_nothing_for_a_stranger() {
    let mut t = temp_store();
    completed_scan(
        &mut t.store,
        &[
            result("ann", "nas1", Level::Medium, 420),
            result("bob", "nas1", Level::Normal, 12),
        ],
    );
    let now = Utc::now();
    t.store
        .whitelist_add("ann", "trial", "owner", Some(now - Duration::hours(1)))
        .unwrap();
    t.store
        .line_distance_set("ann", 2, "mesh in router mode", "owner")
        .unwrap();

    let page = t.store.subscriber_detail("ann", now).unwrap().unwrap();
    assert_eq!(page.result.unwrap().subscriber, "ann");
    assert_eq!(page.history.len(), 1);
    assert!(page.whitelist.is_none(), "an expired entry is not in force");
    assert_eq!(page.distance.unwrap().hops, 2);
    let actions: Vec<&str> = page.audit.iter().map(|a| a.action.as_str()).collect();
    assert!(actions.contains(&"line_distance_set"), "{actions:?}");
    assert!(page
        .audit
        .iter()
        .all(|a| a.subject.as_deref() == Some("ann")));

    t.store
        .whitelist_add("ann", "business line", "owner", None)
        .unwrap();
    let page = t.store.subscriber_detail("ann", now).unwrap().unwrap();
    assert_eq!(page.whitelist.unwrap().reason, "business line");

    let bob = t.store.subscriber_detail("bob", now).unwrap().unwrap();
    assert!(bob.whitelist.is_none() && bob.distance.is_none());
    assert!(t.store.subscriber_detail("nobody", now).unwrap().is_none());
}
