//! Households the router setting alone misreads: bridged modems, a
//! router's own traffic, 255-TTL devices, and lines judged over time.

use chrono::{Duration, TimeZone, Utc};
use shareguard_detect::distance::DistanceSource;
use shareguard_detect::*;

/// An Intel network card, a TP-Link router, and a MAC nobody registered.
const PC_CARD: &str = "00:12:F0:11:22:33";
const ROUTER: &str = "50:C7:BF:11:22:33";
const UNREGISTERED: &str = "00:00:00:11:22:33";

fn line(caller: &str, connections: u32, ttls: &[(u8, u32)]) -> SubscriberObservation {
    SubscriberObservation {
        subscriber: "bob".into(),
        nas: "nas-1".into(),
        address: "10.0.0.2".into(),
        access: Access::Pppoe,
        expected_hops: 1,
        connections,
        p2p_connections: 0,
        ttl: TtlEvidence {
            strategy: Some(ProbeStrategy::ConnectionMark),
            counts: ttls.iter().copied().collect(),
            probe_age_secs: Some(3600),
            ..Default::default()
        },
        whitelist: None,
        sessions: vec![SessionSeen {
            address: "10.0.0.2".into(),
            caller_id: Some(caller.into()),
        }],
        line: LineMemory::default(),
    }
}

fn judge(o: &SubscriberObservation) -> Verdict {
    assess(o, &DetectionSettings::default())
}

fn past(hours_ago: i64, ttls: &[(u8, u32)]) -> PastScan {
    PastScan {
        at: Utc.with_ymd_and_hms(2026, 12, 6, 20, 0, 0).unwrap() - Duration::hours(hours_ago),
        counts: ttls.iter().copied().collect(),
    }
}

fn source(v: &Verdict) -> DistanceSource {
    v.evidence.distance.as_ref().unwrap().source
}

#[test]
fn a_pc_dialling_through_a_bridged_modem_is_one_household() {
    let v = judge(&line(PC_CARD, 180, &[(128, 180)]));
    assert_eq!(v.level, Level::Normal, "{:?}", v.reasons);
    assert_eq!(v.evidence.distance.as_ref().unwrap().hops, 0);
    assert_eq!(source(&v), DistanceSource::CallerId);
    assert!(v.reasons.iter().any(|r| r.contains("bridged modem")));
    // The same TTLs from a router's caller-id are a router resetting TTLs.
    let r = judge(&line(ROUTER, 180, &[(128, 180)]));
    assert_eq!(r.ttl_status, TtlStatus::TtlRewritten);
    assert_eq!(r.level, Level::Medium);
}

#[test]
fn a_bridged_pc_that_shares_its_connection_is_caught() {
    let v = judge(&line(PC_CARD, 300, &[(128, 90), (63, 120), (127, 90)]));
    assert_eq!(v.ttl_status, TtlStatus::RouterDetected);
    assert_eq!(v.level, Level::Medium, "{:?}", v.reasons);
    assert!(v.reasons[0].contains("PC that dials"), "{:?}", v.reasons);
}

#[test]
fn a_router_that_copied_a_pc_cards_mac_is_read_as_a_router() {
    let v = judge(&line(PC_CARD, 80, &[(63, 50), (127, 30)]));
    assert_eq!(v.evidence.distance.as_ref().unwrap().hops, 1);
    assert_eq!(v.ttl_status, TtlStatus::MultipleOs);
    assert!(v.level <= Level::Low);
}

#[test]
fn a_line_learned_as_bridged_over_days_is_not_flagged() {
    let mut o = line(UNREGISTERED, 120, &[(128, 120)]);
    assert_eq!(judge(&o).level, Level::Medium, "no history yet: a rewriter");
    o.line.past = vec![
        past(2, &[(128, 90)]),
        past(14, &[(128, 70)]),
        past(26, &[(128, 110)]),
    ];
    let v = judge(&o);
    assert_eq!(v.level, Level::Normal, "{:?}", v.reasons);
    assert_eq!(source(&v), DistanceSource::History);
    assert_eq!(v.evidence.scans, 4);
    assert!(v.reasons.iter().any(|r| r.contains("3 earlier scans")));
    // One evening is not days.
    o.line.past = vec![
        past(1, &[(128, 9)]),
        past(2, &[(128, 9)]),
        past(3, &[(128, 9)]),
    ];
    assert_eq!(source(&judge(&o)), DistanceSource::Router);
    // Two OS families at their defaults are a router resetting TTLs.
    o.line.past = vec![
        past(2, &[(64, 9)]),
        past(14, &[(128, 9)]),
        past(26, &[(64, 9)]),
    ];
    assert_eq!(source(&judge(&o)), DistanceSource::Router);
}

#[test]
fn the_owner_sets_a_lines_distance() {
    let mut o = line(ROUTER, 100, &[(62, 60), (126, 40)]);
    assert_eq!(judge(&o).ttl_status, TtlStatus::RouterDetected);
    o.line.owner_hops = Some(2);
    let v = judge(&o);
    assert_eq!(v.level, Level::Low, "{:?}", v.reasons);
    assert_eq!(source(&v), DistanceSource::Owner);
    assert!(v.reasons.iter().any(|r| r.contains("set by the owner")));
}

#[test]
fn the_routers_own_traffic_is_named_and_kept_out() {
    let mut o = line(ROUTER, 42, &[(63, 38)]);
    o.ttl.router_own = [(64, 3)].into();
    let v = judge(&o);
    assert_eq!(v.level, Level::Normal);
    assert_eq!(v.evidence.router_own, 3);
    assert_eq!(v.evidence.observations, 38);
    assert!(v
        .reasons
        .iter()
        .any(|r| r.contains("3 connections at TTL 64 are the subscriber's own router")));
}

#[test]
fn devices_that_start_at_255_are_a_family_like_any_other() {
    // A camera at the expected distance, and the ONT's own traffic at 255.
    let v = judge(&line(ROUTER, 60, &[(63, 40), (254, 20), (255, 2)]));
    assert!(v.level <= Level::Low, "{:?}", v.reasons);
    assert!(!v.ttl_status.is_router_evidence());
    // One router further, it is the same evidence as for any device.
    let v = judge(&line(ROUTER, 60, &[(63, 40), (253, 20)]));
    assert_eq!(v.ttl_status, TtlStatus::RouterDetected);
    assert_eq!(v.level, Level::Medium);
}

#[test]
fn a_light_sharer_is_caught_after_a_few_scans() {
    // This scan missed the neighbour's few devices; two of the last four saw them.
    let mut o = line(ROUTER, 60, &[(63, 60)]);
    o.line.past = vec![
        past(6, &[(63, 50), (62, 3)]),
        past(30, &[(63, 40)]),
        past(54, &[(63, 45), (126, 2)]),
    ];
    let v = judge(&o);
    assert_eq!(v.level, Level::Medium, "{:?}", v.reasons);
    assert!(
        v.reasons[0].contains("2 of the last 4 scans"),
        "{:?}",
        v.reasons
    );
    assert!(v.reasons.iter().any(|r| r.contains("3 earlier scans")));
    // Once is not enough.
    o.line.past.truncate(2);
    assert_eq!(judge(&o).level, Level::Normal);
}

#[test]
fn one_odd_scan_does_not_flag_an_honest_line() {
    let mut o = line(ROUTER, 60, &[(63, 55), (62, 5)]);
    assert_eq!(
        judge(&o).level,
        Level::Medium,
        "without history the scan decides"
    );
    o.line.past = vec![
        past(6, &[(63, 50)]),
        past(30, &[(63, 40)]),
        past(54, &[(63, 45)]),
    ];
    let v = judge(&o);
    assert_eq!(v.level, Level::Low, "{:?}", v.reasons);
    assert!(v.reasons[0].contains("first time in 4 scans"));
    // When it shows again, it is flagged.
    o.line.past[1].counts.insert(62, 4);
    assert_eq!(judge(&o).level, Level::Medium);
}

#[test]
fn a_home_behind_its_own_mesh_is_read_over_its_scans() {
    // This scan alone: 30 of 110 nearer (27%), a second router hanging off.
    let mut o = line(ROUTER, 110, &[(63, 30), (62, 80)]);
    assert_eq!(judge(&o).level, Level::Medium);
    // Two earlier scans with the same mesh: 36 of 250 nearer over all three.
    o.line.past = vec![
        past(10, &[(63, 3), (62, 67)]),
        past(20, &[(63, 3), (62, 67)]),
    ];
    let v = judge(&o);
    assert_eq!(v.level, Level::Low, "{:?}", v.reasons);
    assert!(
        v.reasons[0].contains("214 of 250 over this scan and 2 earlier ones"),
        "{:?}",
        v.reasons
    );
    // A neighbour behind the home's router stays flagged whatever the past.
    let mut shared = line(ROUTER, 110, &[(63, 90), (62, 20)]);
    shared.line.past = o.line.past.clone();
    assert_eq!(judge(&shared).level, Level::Medium);
}
