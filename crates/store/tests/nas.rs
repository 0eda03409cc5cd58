//! Router definitions.

mod common;

use common::temp_store;
use shareguard_detect::{Access, ProbeStrategy};
use shareguard_store::{NasRecord, StoreError};

fn tower(name: &str) -> NasRecord {
    NasRecord::new(name, "10.0.0.1", "shareguard", Access::Pppoe)
}

#[test]
fn routers_can_be_added_listed_updated_and_removed() {
    let mut t = temp_store();
    let mut a = tower("tower-b");
    a.tls = true;
    a.port = 8729;
    a.tls_fingerprint = Some("AB:".repeat(31) + "AB");
    a.probe_strategy = Some(ProbeStrategy::AddressList);
    a.probe_interface = Some("pppoe-in".into());
    a.tag = Some("north reseller".into());
    a.radius_port = Some(3799);
    let stored = t.store.upsert_nas(&a).unwrap();
    assert!(stored.id.is_some());
    assert_eq!(
        stored.tls_fingerprint.as_deref(),
        Some("ab".repeat(32).as_str())
    );
    assert_eq!(stored.created_at, stored.updated_at);
    assert_eq!(
        NasRecord {
            id: None,
            created_at: None,
            updated_at: None,
            tls_fingerprint: a.tls_fingerprint.clone(),
            ..stored.clone()
        },
        a
    );

    let mut hotspot = NasRecord::new("tower-a", "hs.example", "sg", Access::Hotspot);
    hotspot.expected_hops = 0;
    t.store.upsert_nas(&hotspot).unwrap();
    let names: Vec<_> = t
        .store
        .list_nas()
        .unwrap()
        .into_iter()
        .map(|n| n.name)
        .collect();
    assert_eq!(names, ["tower-a", "tower-b"]);

    // Updating by name keeps the id and creation date.
    let mut moved = stored.clone();
    moved.host = "10.9.9.9".into();
    moved.tag = None;
    let updated = t.store.upsert_nas(&moved).unwrap();
    assert_eq!(updated.id, stored.id);
    assert_eq!(updated.created_at, stored.created_at);
    assert_eq!(updated.host, "10.9.9.9");
    assert_eq!(updated.tag, None);
    assert_eq!(t.store.get_nas("tower-b").unwrap(), Some(updated));

    assert!(t.store.remove_nas("tower-b").unwrap());
    assert!(!t.store.remove_nas("tower-b").unwrap());
    assert_eq!(t.store.get_nas("tower-b").unwrap(), None);
    assert_eq!(t.store.list_nas().unwrap().len(), 1);
}

#[test]
fn invalid_routers_are_refused_with_the_fix() {
    let mut t = temp_store();
    let mut bad = tower("tower-1");
    bad.tls_fingerprint = Some("not-a-fingerprint".into());
    let err = t.store.upsert_nas(&bad).unwrap_err();
    assert!(matches!(err, StoreError::Invalid(_)), "{err:?}");
    assert!(err.to_string().contains("SHA-256"), "{err}");

    let err = t.store.upsert_nas(&tower(" ")).unwrap_err();
    assert!(err.to_string().contains("give the router a name"), "{err}");

    let mut no_host = tower("tower-1");
    no_host.host = String::new();
    assert!(t.store.upsert_nas(&no_host).is_err());
    assert!(t.store.list_nas().unwrap().is_empty());
}
