//! Abuse warnings: deduplication while open, violations for escalation,
//! actions in force across a reopen, and the metrics for a date range.

mod common;

use chrono::Duration;
use common::{at, temp_store};
use serde_json::json;
use shareguard_detect::abuse::{AbuseKind, Finding, History, Severity};
use shareguard_store::{
    Action, ActionKind, ActionMethod, AuditEntry, AuditFilter, CycleStats, Sighting, Store,
    WarningMark, WarningQuery,
};

fn sighting(sub: &str, kind: AbuseKind, severity: Severity, measured: f64) -> Sighting {
    Sighting {
        subscriber: sub.into(),
        nas: "nas1".into(),
        finding: Finding {
            kind,
            severity,
            measured,
            threshold: 100.0,
            details: format!("{measured} concurrent connections"),
        },
    }
}

fn stats(subscribers: u32, connections: u64, p2p: u64) -> CycleStats {
    CycleStats {
        nas: "nas1".into(),
        subscribers,
        connections,
        p2p_connections: p2p,
        elapsed_ms: 40,
    }
}

fn throttle(sub: &str, started: i64, minutes: i64) -> Action {
    Action {
        id: None,
        subscriber: sub.into(),
        nas: "nas1".into(),
        kind: ActionKind::Throttle,
        method: ActionMethod::Radius,
        operator: "system".into(),
        reason: "connection flood".into(),
        details: json!({"rate": "2500k/5M", "restore": "10M/20M"}),
        started_at: at(started),
        expires_at: Some(at(started + minutes * 60)),
        ended_at: None,
    }
}

#[test]
fn sightings_update_an_open_warning_and_reopen_after_expiry() {
    let mut t = temp_store();
    let open_for = Duration::minutes(60);
    let first = t
        .store
        .record_cycle(
            at(0),
            &[stats(3, 300, 10)],
            &[
                sighting("ana", AbuseKind::ConnectionFlood, Severity::Warning, 120.0),
                sighting("ben", AbuseKind::P2p, Severity::Warning, 150.0),
            ],
            open_for,
        )
        .unwrap();
    assert!(first.iter().all(|s| s.opened));

    // Sixty seconds later ana is worse: same warning, stricter, peak kept.
    let second = t
        .store
        .record_cycle(
            at(60),
            &[stats(3, 400, 10)],
            &[sighting(
                "ana",
                AbuseKind::ConnectionFlood,
                Severity::Throttle,
                250.0,
            )],
            open_for,
        )
        .unwrap();
    assert!(!second[0].opened);
    assert_eq!(second[0].warning_id, first[0].warning_id);
    let w = t
        .store
        .warnings(&WarningQuery {
            subscriber: Some("ana".into()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(w.len(), 1);
    assert_eq!(
        (w[0].cycles, w[0].severity, w[0].measured),
        (2, Severity::Throttle, 250.0)
    );
    assert_eq!(w[0].last_seen, at(60));

    // After the hour a sighting is a new violation.
    let third = t
        .store
        .record_cycle(
            at(3601),
            &[],
            &[sighting(
                "ana",
                AbuseKind::ConnectionFlood,
                Severity::Warning,
                130.0,
            )],
            open_for,
        )
        .unwrap();
    assert!(third[0].opened);
    assert_eq!(
        t.store.abuse_histories(at(-1)).unwrap()["ana"],
        History {
            violations: 2,
            earlier_actions: 0
        }
    );
    // Only openings reach the audit log.
    let audit = t
        .store
        .audit_log(&AuditFilter {
            action: Some("abuse_warning".into()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(audit.len(), 3);
    let open_now = t
        .store
        .warnings(&WarningQuery {
            open_at: Some(at(3700)),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(open_now.len(), 1);
}

#[test]
fn an_action_keeps_its_warning_open_and_survives_a_reopen_of_the_file() {
    let mut t = temp_store();
    let s = t
        .store
        .record_cycle(
            at(0),
            &[],
            &[sighting(
                "ana",
                AbuseKind::ConnectionFlood,
                Severity::Throttle,
                250.0,
            )],
            Duration::minutes(10),
        )
        .unwrap();
    let a = throttle("ana", 0, 30);
    let id = t
        .store
        .record_action(&a, &AuditEntry::new("system", "throttle").subject("ana"))
        .unwrap();
    t.store
        .set_warning_actions(&[WarningMark {
            ids: vec![s[0].warning_id],
            action: "throttle".into(),
            note: Some("30 min".into()),
            action_id: Some(id),
            expires_at: a.expires_at,
        }])
        .unwrap();
    // Twenty minutes in, the warning is still open because the throttle is.
    let again = t
        .store
        .record_cycle(
            at(20 * 60),
            &[],
            &[sighting(
                "ana",
                AbuseKind::ConnectionFlood,
                Severity::Throttle,
                260.0,
            )],
            Duration::minutes(10),
        )
        .unwrap();
    assert!(!again[0].opened);
    assert_eq!(
        t.store.abuse_histories(at(-1)).unwrap()["ana"].earlier_actions,
        1
    );

    drop(t.store);
    let mut store = Store::open(&t.path).unwrap();
    let in_force = store.actions_in_force().unwrap();
    assert_eq!(in_force.len(), 1);
    assert_eq!(in_force[0].details["restore"], "10M/20M");
    store
        .end_action(
            id,
            at(30 * 60),
            &AuditEntry::new("system", "throttle_ended").subject("ana"),
        )
        .unwrap();
    assert!(store.actions_in_force().unwrap().is_empty());
    let twice = store
        .end_action(
            id,
            at(31 * 60),
            &AuditEntry::new("system", "throttle_ended"),
        )
        .unwrap_err();
    assert!(twice.to_string().contains("already ended"), "{twice}");
    let w = &store.warnings(&WarningQuery::default()).unwrap()[0];
    assert_eq!((w.action.as_str(), w.action_id), ("throttle", Some(id)));
}

#[test]
fn metrics_for_a_range() {
    let mut t = temp_store();
    let open_for = Duration::minutes(60);
    t.store
        .record_cycle(
            at(0),
            &[stats(100, 8_000, 800), stats(50, 2_000, 200)],
            &[
                sighting("ana", AbuseKind::ConnectionFlood, Severity::Ban, 600.0),
                sighting("ana", AbuseKind::P2p, Severity::Warning, 300.0),
                sighting("ben", AbuseKind::ConnectionRate, Severity::Warning, 12.0),
            ],
            open_for,
        )
        .unwrap();
    t.store
        .record_action(
            &throttle("ben", 10, 30),
            &AuditEntry::new("system", "throttle"),
        )
        .unwrap();
    // Outside the range.
    t.store
        .record_cycle(
            at(86_400 * 2),
            &[stats(1, 5_000, 0)],
            &[sighting(
                "cid",
                AbuseKind::Tethering,
                Severity::Warning,
                2.0,
            )],
            open_for,
        )
        .unwrap();
    let m = t.store.abuse_metrics(at(-1), at(86_400)).unwrap();
    assert_eq!(m.warnings, 3);
    assert_eq!(
        m.warnings_by_kind,
        vec![
            (AbuseKind::ConnectionFlood, 1),
            (AbuseKind::ConnectionRate, 1),
            (AbuseKind::P2p, 1),
            (AbuseKind::BandwidthHog, 0),
            (AbuseKind::Tethering, 0),
        ]
    );
    assert_eq!((m.throttled, m.banned, m.disconnected), (1, 0, 0));
    assert_eq!(m.top_offenders[0].subscriber, "ana");
    assert_eq!(m.top_offenders[0].warnings, 2);
    assert_eq!(m.top_offenders[0].worst, Severity::Ban);
    assert_eq!(m.avg_connections_per_subscriber, Some(10_000.0 / 150.0));
    assert_eq!(m.p2p_percent, Some(10.0));
    assert_eq!(m.cycles, 1);

    let empty = t
        .store
        .abuse_metrics(at(86_400 * 5), at(86_400 * 6))
        .unwrap();
    assert_eq!((empty.warnings, empty.cycles), (0, 0));
    assert_eq!(empty.avg_connections_per_subscriber, None);

    // The history clean-up takes old cycle figures with it, not warnings.
    let pruned = t.store.prune_history(at(86_400), "system").unwrap();
    assert_eq!(pruned.monitor_cycles, 2);
    assert_eq!(t.store.abuse_metrics(at(0), at(86_400)).unwrap().cycles, 0);
    assert!(t.store.abuse_metrics(at(0), at(86_400)).unwrap().warnings > 0);
}
