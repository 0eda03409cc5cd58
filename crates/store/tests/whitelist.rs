//! The whitelist: excused subscribers, optionally until a date.

mod common;

use chrono::{Duration, Utc};
use common::{completed_scan, result, temp_store};
use shareguard_detect::{Level, RecommendedAction};
use shareguard_store::{action, AuditFilter, ResultFilter, StoreError};

#[test]
fn expired_whitelist_entries_do_not_count() {
    let mut t = temp_store();
    let now = Utc::now();
    t.store
        .whitelist_add("ann", "business line", "alice", None)
        .unwrap();
    t.store
        .whitelist_add(
            "bob",
            "trial until Friday",
            "alice",
            Some(now + Duration::days(3)),
        )
        .unwrap();
    t.store
        .whitelist_add(
            "cat",
            "last month's event",
            "alice",
            Some(now - Duration::days(1)),
        )
        .unwrap();

    assert_eq!(
        t.store.whitelisted_reason("ann", now).unwrap().as_deref(),
        Some("business line")
    );
    assert_eq!(
        t.store.whitelisted_reason("bob", now).unwrap().as_deref(),
        Some("trial until Friday")
    );
    assert_eq!(t.store.whitelisted_reason("cat", now).unwrap(), None);
    assert_eq!(t.store.whitelisted_reason("dan", now).unwrap(), None);
    // After Friday, bob no longer counts either.
    let later = now + Duration::days(4);
    assert_eq!(t.store.whitelisted_reason("bob", later).unwrap(), None);

    let active = t.store.active_whitelist(now).unwrap();
    assert_eq!(active.len(), 2);
    assert_eq!(active["ann"], "business line");
    assert_eq!(t.store.active_whitelist(later).unwrap().len(), 1);

    // Expired entries are kept for the record.
    let current: Vec<_> = t
        .store
        .whitelist_list(false)
        .unwrap()
        .into_iter()
        .map(|e| e.subscriber)
        .collect();
    assert_eq!(current, ["ann", "bob"]);
    let all = t.store.whitelist_list(true).unwrap();
    assert_eq!(
        all.iter()
            .map(|e| e.subscriber.as_str())
            .collect::<Vec<_>>(),
        ["ann", "bob", "cat"]
    );
    assert!(!all[2].is_active(now));
    assert_eq!(all[0].added_by, "alice");
}

#[test]
fn whitelisting_is_audited_and_can_be_replaced_or_removed() {
    let mut t = temp_store();
    t.store
        .whitelist_add("ann", "family compound", "alice", None)
        .unwrap();
    t.store
        .whitelist_add("ann", "business line", "bob", None)
        .unwrap();
    let entries = t.store.whitelist_list(true).unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].reason, "business line");
    assert_eq!(entries[0].added_by, "bob");

    assert!(t.store.whitelist_remove("ann", "carol").unwrap());
    assert!(!t.store.whitelist_remove("ann", "carol").unwrap());
    assert_eq!(t.store.whitelisted_reason("ann", Utc::now()).unwrap(), None);

    let log = t
        .store
        .audit_log(&AuditFilter {
            subject: Some("ann".into()),
            ..Default::default()
        })
        .unwrap();
    let actions: Vec<_> = log
        .iter()
        .map(|e| (e.action.as_str(), e.operator.as_str()))
        .collect();
    assert_eq!(
        actions,
        [
            (action::WHITELIST_REMOVE, "carol"),
            (action::WHITELIST_ADD, "bob"),
            (action::WHITELIST_ADD, "alice"),
        ]
    );
    assert_eq!(log[1].details["replaced_reason"], "family compound");
    assert_eq!(log[0].details["reason"], "business line");
}

#[test]
fn whitelisting_needs_a_reason() {
    let mut t = temp_store();
    let err = t
        .store
        .whitelist_add("ann", "  ", "alice", None)
        .unwrap_err();
    assert!(matches!(err, StoreError::Invalid(_)), "{err:?}");
    assert!(err.to_string().contains("give a reason"), "{err}");
    assert!(t.store.whitelist_list(true).unwrap().is_empty());
}

#[test]
fn whitelisting_applies_to_the_latest_result_at_once() {
    let mut t = temp_store();
    completed_scan(
        &mut t.store,
        &[
            result("ann", "tower-1", Level::High, 700),
            result("bob", "tower-1", Level::Medium, 520),
        ],
    );
    let flagged = |t: &common::TempStore| {
        t.store
            .result_count(&ResultFilter {
                flagged_only: true,
                ..Default::default()
            })
            .unwrap()
    };
    assert_eq!(flagged(&t), 2);

    t.store
        .whitelist_add("ann", "business line", "alice", None)
        .unwrap();
    // An entry that has already expired changes nothing.
    t.store
        .whitelist_add(
            "bob",
            "last month",
            "alice",
            Some(Utc::now() - Duration::days(1)),
        )
        .unwrap();
    let ann = t.store.result("ann").unwrap().unwrap();
    assert!(ann.whitelisted);
    assert_eq!(ann.level, Level::Normal);
    assert_eq!(
        ann.assessed_level,
        Level::High,
        "what the rules said is kept"
    );
    assert_eq!(ann.recommended_action, RecommendedAction::None);
    assert!(
        ann.reasons.last().unwrap().contains("business line"),
        "{:?}",
        ann.reasons
    );
    assert!(!t.store.result("bob").unwrap().unwrap().whitelisted);
    assert_eq!(flagged(&t), 1);

    // Whitelisting again does not add the reason twice; the history of the
    // scan itself is untouched.
    t.store
        .whitelist_add("ann", "business line, 3 offices", "alice", None)
        .unwrap();
    let again = t.store.result("ann").unwrap().unwrap();
    assert_eq!(again.reasons, ann.reasons);
    let history = t.store.subscriber_history("ann", 10).unwrap();
    assert_eq!(history[0].level, Level::High);
    assert!(!history[0].whitelisted);
    // Someone never scanned can be whitelisted ahead of their first scan.
    t.store
        .whitelist_add("zed", "new business line", "alice", None)
        .unwrap();
    assert!(t.store.result("zed").unwrap().is_none());
}
