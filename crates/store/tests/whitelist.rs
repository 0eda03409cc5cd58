//! The whitelist: excused subscribers, optionally until a date.

mod common;

use chrono::{Duration, Utc};
use common::temp_store;
use shareguard_store::{action, AuditFilter, StoreError};

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
