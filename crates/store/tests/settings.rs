//! Settings stored as JSON.

mod common;

use common::temp_store;
use shareguard_detect::DetectionSettings;
use shareguard_store::{StoreError, DETECTION_SETTINGS_KEY};

#[test]
fn detection_settings_default_until_saved() {
    let mut t = temp_store();
    assert_eq!(
        t.store.detection_settings().unwrap(),
        DetectionSettings::default()
    );
    let tuned = DetectionSettings {
        connections_high: 1000,
        ttl_threshold: 3,
        ..Default::default()
    };
    t.store.set_detection_settings(&tuned).unwrap();
    assert_eq!(t.store.detection_settings().unwrap(), tuned);
    assert_eq!(
        t.store
            .get_setting::<DetectionSettings>(DETECTION_SETTINGS_KEY)
            .unwrap(),
        Some(tuned)
    );
}

#[test]
fn nonsensical_detection_settings_are_refused() {
    let mut t = temp_store();
    let bad = DetectionSettings {
        connections_low: 900,
        ..Default::default()
    };
    let err = t.store.set_detection_settings(&bad).unwrap_err();
    assert!(matches!(err, StoreError::Invalid(_)), "{err:?}");
    assert_eq!(
        t.store.detection_settings().unwrap(),
        DetectionSettings::default()
    );
}

#[test]
fn any_serde_value_can_be_stored() {
    let mut t = temp_store();
    assert_eq!(
        t.store.get_setting::<Vec<u32>>("schedule.minutes").unwrap(),
        None
    );
    t.store
        .set_setting("schedule.minutes", &vec![0u32, 30])
        .unwrap();
    t.store
        .set_setting("schedule.minutes", &vec![15u32])
        .unwrap();
    assert_eq!(
        t.store.get_setting::<Vec<u32>>("schedule.minutes").unwrap(),
        Some(vec![15])
    );

    // A value of the wrong shape is an error naming the setting, not a panic.
    let err = t
        .store
        .get_setting::<String>("schedule.minutes")
        .unwrap_err();
    assert!(matches!(err, StoreError::BadData { .. }), "{err:?}");
    assert!(err.to_string().contains("schedule.minutes"), "{err}");
}

#[test]
fn an_audited_setting_is_stored_with_its_entry_or_not_at_all() {
    use shareguard_store::{AuditEntry, AuditFilter};
    let mut t = common::temp_store();
    let entry = AuditEntry::new("owner", "settings_changed").subject("abuse monitor");
    t.store
        .set_setting_audited("monitor", &serde_json::json!({ "enabled": true }), &entry)
        .unwrap();
    let stored: serde_json::Value = t.store.get_setting("monitor").unwrap().unwrap();
    assert_eq!(stored["enabled"], true);
    let log = |t: &common::TempStore| {
        t.store
            .audit_log(&AuditFilter {
                action: Some("settings_changed".into()),
                ..Default::default()
            })
            .unwrap()
    };
    assert_eq!(log(&t).len(), 1);
    assert_eq!(log(&t)[0].subject.as_deref(), Some("abuse monitor"));

    let e = t.store.set_setting_audited(" ", &1, &entry).unwrap_err();
    assert!(matches!(e, shareguard_store::StoreError::Invalid(_)), "{e}");
    assert_eq!(log(&t).len(), 1, "a refused setting is not recorded");
}
