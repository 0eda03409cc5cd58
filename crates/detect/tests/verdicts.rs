//! One scenario per test, in the words an ISP owner would use.

use shareguard_detect::*;

fn sub(access: Access, connections: u32, ttls: &[(u8, u32)]) -> SubscriberObservation {
    SubscriberObservation {
        subscriber: "alice".into(),
        nas: "nas-1".into(),
        address: "10.0.0.2".into(),
        access,
        expected_hops: access.default_expected_hops(),
        connections,
        p2p_connections: 0,
        ttl: TtlEvidence {
            strategy: Some(ProbeStrategy::ConnectionMark),
            counts: ttls.iter().copied().collect(),
            probe_age_secs: Some(3600),
            ..Default::default()
        },
        whitelist: None,
        sessions: Vec::new(),
        line: Default::default(),
    }
}

fn judge(o: &SubscriberObservation) -> Verdict {
    assess(o, &DetectionSettings::default())
}

#[test]
fn one_household_behind_its_router_is_normal() {
    let v = judge(&sub(Access::Pppoe, 40, &[(63, 38), (64, 2)]));
    assert_eq!((v.ttl_status, v.level), (TtlStatus::Normal, Level::Normal));
    assert_eq!(v.recommended_action, RecommendedAction::None);
    assert!(
        v.reasons.iter().any(|r| r.contains("own router")),
        "{:?}",
        v.reasons
    );
}

#[test]
fn windows_and_phones_together_are_a_family_not_sharing() {
    let v = judge(&sub(Access::Pppoe, 120, &[(63, 60), (127, 60)]));
    assert_eq!((v.ttl_status, v.level), (TtlStatus::MultipleOs, Level::Low));
}

#[test]
fn a_second_router_hanging_off_the_line_is_flagged_for_review() {
    let v = judge(&sub(Access::Pppoe, 200, &[(63, 120), (62, 80)]));
    assert_eq!(
        (v.ttl_status, v.level),
        (TtlStatus::RouterDetected, Level::Medium)
    );
    assert_eq!(v.recommended_action, RecommendedAction::Review);
}

#[test]
fn a_home_behind_its_own_mesh_with_a_few_connections_nearer_is_only_watched() {
    // The mesh (or a wired TV on the ISP's router) at 63, the home behind
    // the mesh at 62/126.
    let v = judge(&sub(Access::Pppoe, 160, &[(63, 12), (62, 100), (126, 40)]));
    assert_eq!(
        (v.ttl_status, v.level),
        (TtlStatus::RouterDetected, Level::Low)
    );
    assert!(v.reasons[0].contains("140 of 152"), "{:?}", v.reasons);
    assert!(
        v.reasons[0].contains("its own router or mesh"),
        "{:?}",
        v.reasons
    );

    // The same picture on a busy line is raised as router evidence is.
    let busy = judge(&sub(Access::Pppoe, 620, &[(63, 50), (62, 400), (126, 170)]));
    assert_eq!(busy.level, Level::Medium);

    // More than a quarter nearer is a home with a second router hanging off.
    let shared = judge(&sub(Access::Pppoe, 160, &[(63, 45), (62, 100), (126, 20)]));
    assert_eq!(shared.level, Level::Medium);

    // Too few connections to read shares from.
    let few = judge(&sub(Access::Pppoe, 8, &[(63, 1), (62, 7)]));
    assert_eq!(few.level, Level::Medium);

    // Address-list evidence has no counts: the share cannot be read.
    let mut listed = sub(Access::Pppoe, 160, &[(63, 1), (62, 1), (126, 1)]);
    listed.ttl.strategy = Some(ProbeStrategy::AddressList);
    assert_eq!(judge(&listed).level, Level::Medium);

    // On a hotspot the bulk one hop further is tethering, whatever the share.
    let tethered = judge(&sub(Access::Hotspot, 160, &[(64, 5), (63, 100), (127, 40)]));
    assert_eq!(tethered.level, Level::Medium);
}

#[test]
fn mesh_wifi_one_extra_hop_is_only_watched() {
    let v = judge(&sub(Access::Pppoe, 150, &[(62, 100), (126, 50), (64, 3)]));
    assert_eq!(
        (v.ttl_status, v.level),
        (TtlStatus::RouterDetected, Level::Low)
    );
}

#[test]
fn lowered_ttls_with_many_connections_weigh_more_than_a_mesh() {
    let mesh = judge(&sub(Access::Pppoe, 150, &[(62, 150)]));
    let busy = judge(&sub(Access::Pppoe, 560, &[(62, 560)]));
    let mixed_busy = judge(&sub(Access::Pppoe, 560, &[(63, 300), (62, 260)]));
    assert!(
        busy.level > mesh.level,
        "{:?} vs {:?}",
        busy.level,
        mesh.level
    );
    assert_eq!(mixed_busy.level, Level::High);
}

#[test]
fn several_distances_mean_several_households() {
    let v = judge(&sub(Access::Pppoe, 400, &[(63, 100), (62, 150), (61, 150)]));
    assert_eq!(
        (v.ttl_status, v.level),
        (TtlStatus::DoubleRouter, Level::High)
    );
}

#[test]
fn devices_two_routers_away_are_explained_as_one_distance() {
    let v = judge(&sub(Access::Pppoe, 200, &[(63, 100), (61, 100)]));
    assert_eq!(
        (v.ttl_status, v.level),
        (TtlStatus::DoubleRouter, Level::High)
    );
    assert!(
        v.reasons[0].contains("2 routers further than expected"),
        "{:?}",
        v.reasons
    );
}

#[test]
fn router_evidence_plus_800_connections_is_critical() {
    let v = judge(&sub(Access::Pppoe, 900, &[(63, 400), (62, 500)]));
    assert_eq!(v.level, Level::Critical);
    assert_eq!(v.recommended_action, RecommendedAction::Disconnect);
}

#[test]
fn ttl_65_on_pppoe_is_a_rewriting_router() {
    let v = judge(&sub(Access::Pppoe, 300, &[(65, 300)]));
    assert_eq!(
        (v.ttl_status, v.level),
        (TtlStatus::TtlRewritten, Level::High)
    );
    assert!(v.reasons[0].contains("rewriting"), "{:?}", v.reasons);
}

#[test]
fn only_os_defaults_with_real_traffic_is_a_rewriter_but_router_chatter_is_not() {
    let evader = judge(&sub(Access::Pppoe, 250, &[(64, 250)]));
    assert_eq!(
        (evader.ttl_status, evader.level),
        (TtlStatus::TtlRewritten, Level::Medium)
    );
    let idle = judge(&sub(Access::Pppoe, 4, &[(64, 4)]));
    assert_eq!(
        (idle.ttl_status, idle.level),
        (TtlStatus::Normal, Level::Normal)
    );
}

#[test]
fn hotspot_tethering_is_flagged() {
    let phone_and_laptop = judge(&sub(Access::Hotspot, 90, &[(64, 5), (127, 85)]));
    assert_eq!(phone_and_laptop.ttl_status, TtlStatus::RouterDetected);
    assert_eq!(phone_and_laptop.level, Level::Medium);
    let only_tethered = judge(&sub(Access::Hotspot, 60, &[(63, 60)]));
    assert_eq!(only_tethered.level, Level::Medium);
    let phone = judge(&sub(Access::Hotspot, 30, &[(64, 30)]));
    assert_eq!(phone.level, Level::Normal);
}

#[test]
fn p2p_connections_do_not_count_towards_sharing_unless_asked() {
    let mut o = sub(Access::Pppoe, 1500, &[(63, 1500)]);
    o.p2p_connections = 1400;
    let v = judge(&o);
    assert_eq!(v.level, Level::Normal);
    assert!(v.reasons.iter().any(|r| r.contains("peer-to-peer")));
    let strict = DetectionSettings {
        count_p2p_connections: true,
        ..DetectionSettings::default()
    };
    // Counted, 1,500 connections from one device at the expected distance
    // are one busy household: the count alone weighs one level less.
    assert_eq!(assess(&o, &strict).level, Level::Medium);
    o.ttl = TtlEvidence::default();
    assert_eq!(assess(&o, &strict).level, Level::High);
}

#[test]
fn connection_thresholds_are_the_owners() {
    let mut o = sub(Access::Pppoe, 350, &[(63, 350)]);
    assert_eq!(judge(&o).level, Level::Low);
    let strict = DetectionSettings {
        connections_low: 100,
        connections_medium: 200,
        connections_high: 300,
        ..DetectionSettings::default()
    };
    assert_eq!(assess(&o, &strict).level, Level::Medium);
    // Without TTLs the count is all there is.
    o.ttl = TtlEvidence::default();
    assert_eq!(assess(&o, &strict).level, Level::High);
}

#[test]
fn a_busy_household_with_every_device_at_home_is_watched_not_flagged() {
    let console = judge(&sub(Access::Pppoe, 620, &[(63, 20), (127, 600)]));
    assert_eq!(console.level, Level::Low, "{:?}", console.reasons);
    assert!(console
        .reasons
        .iter()
        .any(|r| r.contains("one busy household")));
    // Not when a device sits further away: then the count corroborates.
    let shared = judge(&sub(Access::Pppoe, 620, &[(63, 300), (62, 320)]));
    assert_eq!(shared.level, Level::High, "{:?}", shared.reasons);
}

#[test]
fn a_ttl_threshold_of_three_ignores_a_single_extra_hop() {
    let o = sub(Access::Pppoe, 100, &[(63, 50), (62, 50)]);
    let lenient = DetectionSettings {
        ttl_threshold: 3,
        ..DetectionSettings::default()
    };
    let v = assess(&o, &lenient);
    assert_eq!(v.ttl_status, TtlStatus::Normal);
    assert!(v.reasons.iter().any(|r| r.contains("not counted")));
}

#[test]
fn whitelisted_subscribers_are_recorded_but_never_flagged() {
    let mut o = sub(Access::Pppoe, 900, &[(63, 400), (62, 500)]);
    o.whitelist = Some("IT office, three OSes and a VPN".into());
    let v = judge(&o);
    assert!(v.whitelisted);
    assert_eq!(v.level, Level::Normal);
    assert_eq!(v.assessed_level, Level::Critical);
    assert_eq!(v.recommended_action, RecommendedAction::None);
    assert!(v.reasons.last().unwrap().contains("IT office"));
}

#[test]
fn too_little_evidence_is_said_never_silently_normal() {
    let o = sub(Access::Pppoe, 240, &[(63, 1)]);
    let v = judge(&o);
    assert_eq!(v.evidence.status, EvidenceStatus::Insufficient);
    assert_eq!(v.recommended_action, RecommendedAction::GatherEvidence);
    assert!(v
        .reasons
        .iter()
        .any(|r| r.contains("Too little TTL evidence") && r.contains("1 of 240")));

    let mut none = sub(Access::Pppoe, 50, &[]);
    none.ttl.strategy = None;
    let v = judge(&none);
    assert_eq!(v.evidence.status, EvidenceStatus::NoProbes);
    assert_eq!(v.recommended_action, RecommendedAction::GatherEvidence);
}

#[test]
fn evidence_share_is_reported_with_connection_marks() {
    let v = judge(&sub(Access::Pppoe, 100, &[(63, 80)]));
    assert_eq!(v.evidence.status, EvidenceStatus::Sufficient);
    assert_eq!(v.evidence.share, Some(0.8));
}

#[test]
fn every_level_is_explained() {
    for ttls in [
        &[(63u8, 10u32)][..],
        &[(63, 5), (127, 5)],
        &[(62, 10)],
        &[(63, 5), (62, 5)],
        &[(61, 5), (62, 5)],
        &[(65, 10)],
    ] {
        for conns in [10, 350, 600, 900] {
            let v = judge(&sub(Access::Pppoe, conns, ttls));
            assert!(v.reasons.len() >= 2, "{ttls:?}/{conns}: {:?}", v.reasons);
        }
    }
}

#[test]
fn results_serialise_with_the_documented_fields() {
    let o = sub(Access::Pppoe, 200, &[(63, 120), (62, 80)]);
    let v = judge(&o);
    let r = SubscriberResult::new(o, v, chrono::Utc::now());
    let j = serde_json::to_value(&r).unwrap();
    for k in [
        "subscriber",
        "nas",
        "address",
        "connections",
        "ttl_values",
        "ttl_status",
        "level",
        "reasons",
        "recommended_action",
    ] {
        assert!(j.get(k).is_some(), "missing {k}");
    }
    assert_eq!(j["ttl_values"], serde_json::json!([62, 63]));
    assert_eq!(j["ttl_status"], "router_detected");
    assert_eq!(j["level"], "medium");
}

#[test]
fn a_whitelist_entry_made_after_the_scan_reads_like_one_made_before() {
    let o = sub(Access::Pppoe, 900, &[(63, 400), (62, 500)]);
    let mut later = SubscriberResult::new(o.clone(), judge(&o), chrono::Utc::now());
    later.apply_whitelist("IT office");
    let mut before = o;
    before.whitelist = Some("IT office".into());
    let v = judge(&before);
    assert_eq!(
        (later.level, later.whitelisted, later.assessed_level),
        (v.level, true, v.assessed_level)
    );
    assert_eq!(later.reasons.last(), v.reasons.last());
    assert_eq!(later.recommended_action, RecommendedAction::None);
    assert!(!later.is_flagged());
    later.apply_whitelist("again");
    assert_eq!(
        later
            .reasons
            .iter()
            .filter(|r| r.starts_with("Whitelisted"))
            .count(),
        1
    );
}

fn with_sessions(mut o: SubscriberObservation, callers: &[&str]) -> SubscriberObservation {
    o.sessions = callers
        .iter()
        .enumerate()
        .map(|(i, c)| SessionSeen {
            address: format!("10.0.0.{}", 2 + i),
            caller_id: Some((*c).into()),
        })
        .collect();
    o
}

#[test]
fn one_login_dialled_from_two_places_at_once_is_high_and_says_so_first() {
    let honest = sub(Access::Pppoe, 80, &[(63, 70), (127, 10)]);
    let v = judge(&with_sessions(
        honest.clone(),
        &["AA:00:00:00:00:01", "BB:00:00:00:00:02"],
    ));
    assert_eq!(v.level, Level::High);
    assert!(
        v.reasons[0].contains("online 2 times at once from different caller-ids (AA:00:00:00:00:01, BB:00:00:00:00:02)"),
        "{:?}",
        v.reasons
    );
    // The same router redialling (one caller-id) is not two households.
    assert_eq!(
        judge(&with_sessions(
            honest.clone(),
            &["AA:00:00:00:00:01", "AA:00:00:00:00:01"]
        ))
        .level,
        judge(&honest).level
    );
    // On a hotspot an account's sessions are its devices.
    let hotspot = sub(Access::Hotspot, 80, &[(64, 80)]);
    assert_eq!(
        judge(&with_sessions(hotspot.clone(), &["AA", "BB"])).level,
        judge(&hotspot).level
    );
    // The owner sets the level.
    let s = DetectionSettings {
        concurrent_sessions_level: Level::Medium,
        ..DetectionSettings::default()
    };
    let two = with_sessions(honest, &["AA", "BB"]);
    assert_eq!(assess(&two, &s).level, Level::Medium);
}

#[test]
fn the_reason_that_decided_the_level_comes_first() {
    // A normal family mix whose connection count alone makes it high: the
    // count is why, so it is the first reason (the one a table shows).
    let v = judge(&sub(Access::Pppoe, 839, &[(63, 500), (127, 339)]));
    assert_eq!(v.level, Level::Medium, "{:?}", v.reasons);
    assert!(
        v.reasons[0].starts_with("839 connections"),
        "{:?}",
        v.reasons
    );
    // With router evidence and many connections, the combination decides.
    let v = judge(&sub(Access::Pppoe, 900, &[(63, 400), (62, 500)]));
    assert_eq!(v.level, Level::Critical, "{:?}", v.reasons);
    assert!(
        v.reasons[0].starts_with("Router evidence together with"),
        "{:?}",
        v.reasons
    );
    // When the TTLs decide, they stay first.
    let v = judge(&sub(Access::Pppoe, 200, &[(63, 100), (61, 100)]));
    assert!(v.reasons[0].contains("routers further"), "{:?}", v.reasons);
}

#[test]
fn reasons_write_large_counts_with_thousands_separators() {
    let v = judge(&sub(Access::Pppoe, 1299, &[(63, 700), (62, 599)]));
    assert!(
        v.reasons.iter().any(|r| r.contains("1,299 connections")),
        "{:?}",
        v.reasons
    );
    assert!(
        v.reasons.iter().all(|r| !r.contains("1299")),
        "{:?}",
        v.reasons
    );
}
