//! The audit log: who did what, and that nobody can rewrite it.

mod common;

use common::{at, temp_store};
use serde_json::json;
use shareguard_store::{action, AuditEntry, AuditFilter, StoreError};

#[test]
fn audit_log_rejects_updates_and_deletes() {
    let mut t = temp_store();
    let id = t
        .store
        .audit(
            &AuditEntry::new("alice", action::DISCONNECT)
                .subject("ann")
                .details(json!({"why": "confirmed"})),
        )
        .unwrap();

    // Even with direct SQL access to the file, entries cannot be changed or removed.
    let raw = rusqlite::Connection::open(&t.path).unwrap();
    let update = raw
        .execute(
            "UPDATE audit_log SET operator = 'mallory' WHERE id = ?1",
            [id],
        )
        .unwrap_err();
    assert!(update.to_string().contains("append-only"), "{update}");
    let delete = raw
        .execute("DELETE FROM audit_log WHERE id = ?1", [id])
        .unwrap_err();
    assert!(delete.to_string().contains("append-only"), "{delete}");
    let delete_all = raw.execute("DELETE FROM audit_log", []).unwrap_err();
    assert!(
        delete_all.to_string().contains("append-only"),
        "{delete_all}"
    );
    drop(raw);

    let log = t.store.audit_log(&AuditFilter::default()).unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].id, id);
    assert_eq!(log[0].operator, "alice");
    assert_eq!(log[0].subject.as_deref(), Some("ann"));
    assert_eq!(log[0].details, json!({"why": "confirmed"}));
}

#[test]
fn audit_log_can_be_filtered_newest_first() {
    let mut t = temp_store();
    let entries = [
        ("alice", action::PROBES_INSTALLED, Some("tower-1"), 0),
        ("bob", action::DISCONNECT, Some("ann"), 10),
        ("alice", action::DISCONNECT, Some("bob"), 20),
        ("system", action::SCAN, None, 30),
    ];
    for (operator, action, subject, secs) in entries {
        let mut e = AuditEntry::new(operator, action);
        e.subject = subject.map(String::from);
        e.at = at(secs);
        t.store.audit(&e).unwrap();
    }
    let subjects = |f: AuditFilter| -> Vec<Option<String>> {
        t.store
            .audit_log(&f)
            .unwrap()
            .into_iter()
            .map(|e| e.subject)
            .collect()
    };
    let s = |v: &str| Some(v.to_string());

    assert_eq!(
        subjects(AuditFilter::default()),
        [None, s("bob"), s("ann"), s("tower-1")]
    );
    assert_eq!(
        subjects(AuditFilter {
            operator: Some("alice".into()),
            ..Default::default()
        }),
        [s("bob"), s("tower-1")]
    );
    assert_eq!(
        subjects(AuditFilter {
            action: Some(action::DISCONNECT.into()),
            ..Default::default()
        }),
        [s("bob"), s("ann")]
    );
    assert_eq!(
        subjects(AuditFilter {
            subject: Some("ann".into()),
            ..Default::default()
        }),
        [s("ann")]
    );
    assert_eq!(
        subjects(AuditFilter {
            since: Some(at(10)),
            until: Some(at(30)),
            ..Default::default()
        }),
        [s("bob"), s("ann")]
    );
    assert_eq!(
        subjects(AuditFilter {
            limit: Some(1),
            ..Default::default()
        }),
        [None]
    );
}

#[test]
fn audit_entries_need_an_operator() {
    let mut t = temp_store();
    let err = t
        .store
        .audit(&AuditEntry::new(" ", action::SCAN))
        .unwrap_err();
    assert!(matches!(err, StoreError::Invalid(_)), "{err:?}");
}
