//! The abuse monitor against the simulated routers: snapshots over the
//! RouterOS API (TCP), throttles by CoA (UDP) or a queue, bans through the
//! address list and filter rule, warnings and actions in a real SQLite file.
//! Sim time is advanced by the tests; the routers' uptime times the
//! snapshots, so "a minute later" needs no waiting.

mod common;

use common::{fixture, fixture_with, Fixture};

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{Duration as Span, Utc};
use shareguard_detect::abuse::{AbuseKind, Finding, Severity};
use shareguard_engine::actions::ban;
use shareguard_engine::actions::limit::{self, LimitSettings};
use shareguard_engine::actions::records::{self, Penalty};
use shareguard_engine::breaker::{Breaker, BREAKER_KEY};
use shareguard_engine::monitor::{Monitor, MonitorSettings};
use shareguard_engine::p2p_rules;
use shareguard_engine::router::Router;
use shareguard_sim::population::HouseholdKind;
use shareguard_sim::Load;
use shareguard_store::{ActionKind, ActionMethod, AuditFilter, Sighting, Store, WarningQuery};

impl Fixture {
    fn routers(&self) -> Vec<Router> {
        self.demo.routers()
    }

    /// A quiet single-device subscriber of router `nas`, the `i`-th one.
    fn quiet(&self, nas: usize, i: usize) -> String {
        self.demo.network.nas()[nas]
            .subscribers()
            .iter()
            .filter(|s| s.kind == HouseholdKind::SingleDevice)
            .nth(i)
            .unwrap()
            .name
            .clone()
    }

    fn load(&self, who: &str, load: Load) {
        assert!(self.demo.network.set_load(who, load), "{who}");
    }

    /// Lifts the first action in force by hand, as the owner.
    async fn lift_first(&self, routers: &[Router], why: &str) -> records::Lifted {
        let a = self
            .store
            .lock()
            .unwrap()
            .actions_in_force()
            .unwrap()
            .remove(0);
        records::lift(&self.store, routers, &a, "owner", why)
            .await
            .unwrap()
    }

    fn warnings_of(&self, who: &str) -> Vec<shareguard_store::Warning> {
        self.store
            .lock()
            .unwrap()
            .warnings(&WarningQuery {
                subscriber: Some(who.into()),
                ..Default::default()
            })
            .unwrap()
    }
}

/// The defaults, with flood thresholds above anything the simulated
/// households reach on their own (several-household accounts pass 500), so
/// only the loads a test injects trip them.
fn quiet_defaults() -> MonitorSettings {
    let mut s = MonitorSettings::default();
    s.thresholds.flood_warning = 2000;
    s.thresholds.flood_throttle = 3000;
    s.thresholds.flood_ban = 5000;
    s
}

/// A 30-minute throttle or ban the owner takes by hand.
fn by_owner(who: &str) -> Penalty {
    Penalty {
        subscriber: who.into(),
        operator: "owner".into(),
        reason: "manual".into(),
        minutes: 30,
        dry_run: false,
        warnings: vec![],
        escalated: false,
    }
}

fn flood(n: u32) -> Load {
    Load {
        extra_connections: n,
        lifetime_s: 86_400,
        ..Load::default()
    }
}

#[tokio::test]
async fn each_detector_reports_its_subscriber_once_while_the_warning_is_open() {
    let f = fixture().await;
    let routers = f.routers();
    let (flooder, burster, sharer, hog) =
        (f.quiet(0, 0), f.quiet(0, 1), f.quiet(1, 0), f.quiet(1, 1));
    f.load(&flooder, flood(3100));
    // 1,500 connections that each live 50 s: every one in the table a
    // minute later is new, about 25 per second.
    f.load(
        &burster,
        Load {
            extra_connections: 1500,
            lifetime_s: 50,
            ..Load::default()
        },
    );
    f.load(
        &sharer,
        Load {
            extra_connections: 150,
            lifetime_s: 3600,
            p2p: true,
            ..Load::default()
        },
    );
    f.load(
        &hog,
        Load {
            usage_share: Some(0.97),
            ..Load::default()
        },
    );
    let mut settings = quiet_defaults();
    settings.thresholds.hog_window_min = 1;
    let mut m = Monitor::new();
    let first = m.cycle(&f.store, &routers, &settings).await.unwrap();
    assert!(first.routers.iter().all(|r| r.ok), "{:?}", first.routers);
    // The first snapshot has nothing to compare with: no rate, no usage.
    assert!(!first
        .warnings
        .iter()
        .any(|w| matches!(w.kind, AbuseKind::ConnectionRate | AbuseKind::BandwidthHog)));
    f.demo.network.advance(Duration::from_secs(61));
    let second = m.cycle(&f.store, &routers, &settings).await.unwrap();

    let find = |who: &str, kind: AbuseKind| {
        second
            .warnings
            .iter()
            .find(|w| w.subscriber == who && w.kind == kind)
            .unwrap_or_else(|| panic!("no {kind:?} warning for {who}: {:#?}", second.warnings))
            .clone()
    };
    let w = find(&flooder, AbuseKind::ConnectionFlood);
    assert_eq!(w.severity, Severity::Throttle, "{}", w.details);
    assert!(!w.opened, "the flood was already open from the first cycle");
    let w = find(&burster, AbuseKind::ConnectionRate);
    assert!(
        w.details.contains("new connections per second"),
        "{}",
        w.details
    );
    assert!(w.opened);
    let w = find(&sharer, AbuseKind::P2p);
    assert!(w.details.contains("peers on high ports"), "{}", w.details);
    let w = find(&hog, AbuseKind::BandwidthHog);
    assert!(w.details.contains("without a break"), "{}", w.details);
    // Quiet subscribers stay quiet.
    let calm = f.quiet(0, 5);
    assert!(!second.warnings.iter().any(|w| w.subscriber == calm));

    // One warning row per subscriber and kind, seen twice.
    let rows = f.warnings_of(&flooder);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].cycles, 2);
    // Automatic actions are off: the step is only recommended.
    let a = second
        .actions
        .iter()
        .find(|a| a.subscriber == burster)
        .expect("an action row for the burst");
    assert_eq!(
        (a.outcome.as_str(), a.step),
        ("recommended", Severity::Throttle)
    );
    assert!(f.demo.network.nas()[0].rate_limit(&burster).is_none());

    // Tethering behind one hotspot device is found on the hotspot router only.
    let tethering: Vec<_> = second
        .warnings
        .iter()
        .filter(|w| w.kind == AbuseKind::Tethering)
        .collect();
    assert!(!tethering.is_empty());
    let hotspot = f.demo.targets[2].name.clone();
    assert!(tethering.iter().all(|w| w.nas == hotspot));

    // Metrics count the cycles and the warnings.
    let metrics = f
        .store
        .lock()
        .unwrap()
        .abuse_metrics(Utc::now() - Span::hours(1), Utc::now() + Span::hours(1))
        .unwrap();
    assert!(metrics.warnings >= 5);
    assert_eq!(metrics.cycles, 2);
    assert!(metrics.avg_connections_per_subscriber.unwrap() > 10.0);
    assert!(metrics.p2p_percent.unwrap() > 0.0);
}

#[tokio::test]
async fn an_automatic_throttle_by_coa_is_restored_when_it_expires_even_after_a_restart() {
    let f = fixture().await;
    let routers = f.routers();
    let who = f.quiet(0, 2);
    // Flooding and using the whole plan, so the throttle shows in the rate.
    f.load(
        &who,
        Load {
            usage_share: Some(1.0),
            ..flood(3100)
        },
    );
    let settings = MonitorSettings {
        auto_actions: true,
        ..quiet_defaults()
    };
    let mut m = Monitor::new();
    let report = m.cycle(&f.store, &routers, &settings).await.unwrap();
    let a = report
        .actions
        .iter()
        .find(|a| a.subscriber == who)
        .unwrap_or_else(|| panic!("{:#?}", report.actions));
    assert_eq!(a.outcome, "done", "{}", a.note);
    assert_eq!(a.minutes, Some(30));
    let nas = &f.demo.network.nas()[0];
    let (up, down) = nas.plan(&who).unwrap();
    let expected = format!("{}/{}", radius_dac_rate(up / 4), radius_dac_rate(down / 4));
    assert_eq!(nas.rate_limit(&who).as_deref(), Some(expected.as_str()));
    assert_eq!(nas.effective_rate(&who).unwrap().1, down / 4);

    // A second cycle does not throttle again while the first is in force.
    f.demo.network.advance(Duration::from_secs(60));
    let again = m.cycle(&f.store, &routers, &settings).await.unwrap();
    assert!(!again
        .actions
        .iter()
        .any(|a| a.subscriber == who && a.outcome == "done"));

    // The app closes; it starts again after the throttle ran out.
    drop(m);
    let path = f.dir.path().join("sg.db");
    let store = Arc::new(Mutex::new(Store::open(&path).unwrap()));
    let in_force = store.lock().unwrap().actions_in_force().unwrap();
    assert_eq!(in_force.len(), 1);
    assert_eq!(in_force[0].method, ActionMethod::Radius);
    let (lifted, failed) = records::lift_expired(&store, &routers, Utc::now() + Span::minutes(31))
        .await
        .unwrap();
    assert!(failed.is_empty(), "{failed:?}");
    assert_eq!(lifted.len(), 1);
    assert!(
        lifted[0].note.contains("restored by CoA"),
        "{}",
        lifted[0].note
    );
    let plan = format!("{}/{}", radius_dac_rate(up), radius_dac_rate(down));
    assert_eq!(nas.rate_limit(&who).as_deref(), Some(plan.as_str()));
    assert!(store.lock().unwrap().actions_in_force().unwrap().is_empty());
    let audit = store
        .lock()
        .unwrap()
        .audit_log(&AuditFilter {
            action: Some("throttle_lifted".into()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(audit[0].operator, "system");
}

/// RouterOS rate notation, as the CoA carries it.
fn radius_dac_rate(bps: u64) -> String {
    radius_dac::RateLimit {
        rx_bps: bps,
        tx_bps: bps,
    }
    .to_string()
    .split('/')
    .next()
    .unwrap()
    .to_string()
}

#[tokio::test]
async fn without_radius_a_throttle_is_a_queue_that_is_removed_on_expiry() {
    let f = fixture().await;
    let mut routers = f.routers();
    routers[1].radius = None;
    let who = f.quiet(1, 3);
    f.load(
        &who,
        Load {
            usage_share: Some(1.0),
            ..Load::default()
        },
    );
    let p = by_owner(&who);
    let r = records::throttle_and_record(&f.store, &routers[1], &p, 25, None)
        .await
        .unwrap();
    let nas = &f.demo.network.nas()[1];
    let (_, down) = nas.plan(&who).unwrap();
    assert_eq!(
        nas.effective_rate(&who).unwrap().1,
        down / 4,
        "{}",
        r.summary()
    );
    assert!(nas.rate_limit(&who).is_none(), "no CoA without RADIUS");
    let a = &f.store.lock().unwrap().actions_in_force().unwrap()[0];
    assert_eq!(
        (a.kind, a.method),
        (ActionKind::Throttle, ActionMethod::Api)
    );
    let (lifted, _) = records::lift_expired(&f.store, &routers, Utc::now() + Span::minutes(31))
        .await
        .unwrap();
    assert_eq!(lifted[0].note, "the throttle queue was removed");
    assert_eq!(nas.effective_rate(&who).unwrap().1, down);
}

#[tokio::test]
async fn a_ban_needs_its_rule_blocks_the_address_and_the_router_lifts_it() {
    let f = fixture().await;
    let routers = f.routers();
    let who = f.quiet(0, 3);
    let p = by_owner(&who);
    let refused = records::ban_and_record(&f.store, &routers[0], &p)
        .await
        .unwrap_err();
    assert_eq!(refused.kind(), shareguard_engine::ErrorKind::RuleMissing);
    assert!(
        refused.to_string().contains("src-address-list=sg-banned"),
        "{refused}"
    );
    assert_eq!(
        refused.missing_rules(),
        [ban::ban_rule().to_cli()],
        "the rule as data, for the window"
    );

    assert!(ban::install_ban_rule(&routers[0]).await.unwrap());
    assert!(
        !ban::install_ban_rule(&routers[0]).await.unwrap(),
        "installed once"
    );
    // Right below FastTrack's builtin counter rule, above the fast-track
    // and accept-established rules, so established traffic reaches it.
    let rules = f.demo.network.nas()[0].rules("filter");
    let actions: Vec<&str> = rules.iter().map(|r| r["action"].as_str()).collect();
    assert_eq!(
        actions,
        ["passthrough", "drop", "fasttrack-connection", "accept"],
        "{rules:?}"
    );
    let rule = f.demo.network.nas()[0].static_rules("filter");
    assert_eq!(rule[0]["comment"], "shareguard ban");

    // A dry run sends nothing.
    let dry = Penalty {
        dry_run: true,
        ..p.clone()
    };
    records::ban_and_record(&f.store, &routers[0], &dry)
        .await
        .unwrap();
    let nas = &f.demo.network.nas()[0];
    assert!(!nas.is_banned(&who));

    records::ban_and_record(&f.store, &routers[0], &p)
        .await
        .unwrap();
    assert!(nas.is_banned(&who));
    // The monitor sees no traffic from a banned address.
    let mut m = Monitor::new();
    let r = m
        .cycle(&f.store, &routers, &quiet_defaults())
        .await
        .unwrap();
    assert!(r.routers.iter().all(|x| x.ok));

    // The router's timeout lifts the ban on its own, app or not.
    f.demo.network.advance(Duration::from_secs(31 * 60));
    assert!(!nas.is_banned(&who));
    // A restarted app finds the ban in force and closes it.
    let store = Arc::new(Mutex::new(Store::open(f.dir.path().join("sg.db")).unwrap()));
    let (lifted, failed) = records::lift_expired(&store, &routers, Utc::now() + Span::minutes(31))
        .await
        .unwrap();
    assert!(failed.is_empty());
    assert_eq!(lifted[0].note, "the router had already lifted the ban");

    // A manual unban before the timeout removes the entry.
    records::ban_and_record(&store, &routers[0], &p)
        .await
        .unwrap();
    assert!(nas.is_banned(&who));
    let ban = store.lock().unwrap().actions_in_force().unwrap().remove(0);
    let l = records::lift(&store, &routers, &ban, "owner", "mistake")
        .await
        .unwrap();
    assert_eq!(l.note, "the ban list entry was removed");
    assert!(!nas.is_banned(&who));
}

#[tokio::test]
async fn repeat_violations_escalate_whitelisted_subscribers_are_spared_and_the_breaker_trips() {
    let f = fixture().await;
    let routers = f.routers();
    let repeat = f.quiet(0, 4);
    let excused = f.quiet(0, 6);
    // Two earlier violations within the look-back.
    {
        let mut s = f.store.lock().unwrap();
        for hours in [3, 2] {
            s.record_cycle(
                Utc::now() - Span::hours(hours),
                &[],
                &[Sighting {
                    subscriber: repeat.clone(),
                    nas: f.demo.targets[0].name.clone(),
                    finding: Finding {
                        kind: AbuseKind::ConnectionFlood,
                        severity: Severity::Warning,
                        measured: 120.0,
                        threshold: 100.0,
                        details: "earlier".into(),
                    },
                }],
                Span::minutes(60),
            )
            .unwrap();
        }
        s.whitelist_add(&excused, "business line", "owner", None)
            .unwrap();
    }
    f.load(&repeat, flood(2100));
    f.load(&excused, flood(3100));
    let settings = MonitorSettings {
        auto_actions: true,
        dry_run: true,
        ..quiet_defaults()
    };
    let mut m = Monitor::new();
    let r = m.cycle(&f.store, &routers, &settings).await.unwrap();
    let rep = r.actions.iter().find(|a| a.subscriber == repeat).unwrap();
    assert_eq!(
        (rep.step, rep.escalated),
        (Severity::Throttle, true),
        "{}",
        rep.note
    );
    assert_eq!(rep.outcome, "dry_run", "{}", rep.note);
    let exc = r.actions.iter().find(|a| a.subscriber == excused).unwrap();
    assert_eq!(exc.outcome, "skipped");
    assert!(exc.note.contains("whitelisted"), "{}", exc.note);
    assert!(
        f.demo.network.nas()[0].rate_limit(&repeat).is_none(),
        "dry run"
    );

    // Many at once: the breaker trips and nobody is throttled.
    let f2 = fixture().await;
    let routers2 = f2.routers();
    f2.store
        .lock()
        .unwrap()
        .set_setting(
            BREAKER_KEY,
            &Breaker {
                max_subscribers: 2,
                ..Breaker::default()
            },
        )
        .unwrap();
    let many: Vec<String> = (0..3).map(|i| f2.quiet(1, i)).collect();
    for w in &many {
        f2.load(w, flood(3100));
    }
    let live = MonitorSettings {
        auto_actions: true,
        ..quiet_defaults()
    };
    let mut m2 = Monitor::new();
    let r = m2.cycle(&f2.store, &routers2, &live).await.unwrap();
    let trip = r.tripped.clone().expect("the breaker trips");
    assert!(trip.candidates >= 3 && trip.cap == 2, "{trip:?}");
    for w in &many {
        assert!(f2.demo.network.nas()[1].rate_limit(w).is_none());
    }
    let b: Breaker = f2
        .store
        .lock()
        .unwrap()
        .get_setting(BREAKER_KEY)
        .unwrap()
        .unwrap();
    assert!(b.tripped.is_some());
}

#[tokio::test]
async fn a_coa_without_an_answer_falls_back_to_a_queue_and_says_why() {
    let f = fixture().await;
    let mut routers = f.routers();
    let nas = &f.demo.network.nas()[0];
    routers[0].radius = Some(
        radius_dac::DacClient::new(nas.radius_addr(), "not-the-secret")
            .with_retries(Duration::from_millis(100), 2),
    );
    let who = f.quiet(0, 7);
    let p = by_owner(&who);
    let r = records::throttle_and_record(&f.store, &routers[0], &p, 25, None)
        .await
        .unwrap();
    let records::PenaltyReport::Throttle { report, .. } = r else {
        panic!("a throttle")
    };
    assert_eq!(report.method, ActionMethod::Api);
    assert_eq!(report.radius_tries, Some(2));
    assert!(report.note.unwrap().contains("queue through the API"));
    assert!(nas.rate_limit(&who).is_none());
}

/// A subscriber's tracked connections as the monitor reads them.
async fn connections_of(router: &Router, who: &str) -> u32 {
    let mut c = routeros_client::Client::connect(&router.target.connect)
        .await
        .unwrap();
    let mut memory = shareguard_scan::monitor::NasMemory::default();
    let reading = shareguard_scan::monitor::read_monitor(
        &mut c,
        &router.target,
        &mut memory,
        90,
        &Default::default(),
    )
    .await
    .unwrap();
    reading
        .samples
        .iter()
        .find(|s| s.subscriber == who)
        .map(|s| s.connections)
        .unwrap()
}

#[tokio::test]
async fn a_limit_caps_connections_on_pppoe_and_sessions_on_a_hotspot_until_lifted() {
    let f = fixture().await;
    let routers = f.routers();
    let limits = LimitSettings::default();
    let (flooder, heavy) = (f.quiet(0, 4), f.quiet(0, 5));
    f.load(&flooder, flood(400));
    f.load(&heavy, flood(800));
    assert!(connections_of(&routers[0], &flooder).await > 400);
    assert!(connections_of(&routers[0], &heavy).await > 800);

    let p = by_owner(&flooder);
    let refused = records::limit_and_record(&f.store, &routers[0], &p, &limits)
        .await
        .unwrap_err();
    assert_eq!(refused.kind(), shareguard_engine::ErrorKind::RuleMissing);
    assert!(
        refused.to_string().contains("connection-limit=100,32"),
        "{refused}"
    );
    assert_eq!(
        refused.missing_rules().len(),
        4,
        "two rules and their IPv6 twins"
    );

    // Two rules, and their IPv6 twins on this router with IPv6.
    assert_eq!(
        limit::install_limit_rules(&routers[0], &limits)
            .await
            .unwrap(),
        4
    );
    // Installing again replaces the rules instead of stacking them.
    assert_eq!(
        limit::install_limit_rules(&routers[0], &limits)
            .await
            .unwrap(),
        4
    );
    let twins = f.demo.network.nas()[0].static_rules("ipv6-filter");
    let caps: Vec<&str> = twins
        .iter()
        .take(2)
        .map(|r| r["connection-limit"].as_str())
        .collect();
    assert_eq!(caps, ["100,64", "500,64"], "{twins:?}");
    let rules = f.demo.network.nas()[0].static_rules("filter");
    let ours: Vec<_> = rules
        .iter()
        .take_while(|r| r["comment"].starts_with("shareguard limit"))
        .collect();
    assert_eq!(ours.len(), 2, "above the router's own rules: {rules:?}");
    assert_eq!(rules.len(), 4, "{rules:?}");
    // Everyone is under the normal cap now, the limited list not yet used.
    assert!(connections_of(&routers[0], &heavy).await <= 500);
    assert!(connections_of(&routers[0], &flooder).await > 400);

    let done = records::limit_and_record(&f.store, &routers[0], &p, &limits)
        .await
        .unwrap();
    assert!(
        done.summary().contains("limited to 100 connections"),
        "{}",
        done.summary()
    );
    assert!(connections_of(&routers[0], &flooder).await <= 100);

    // Lifting takes the address off the list: the normal cap applies again.
    let a = f
        .store
        .lock()
        .unwrap()
        .actions_in_force()
        .unwrap()
        .remove(0);
    assert_eq!(a.kind, ActionKind::Limit);
    let l = records::lift(&f.store, &routers, &a, "owner", "talked to them")
        .await
        .unwrap();
    assert_eq!(l.note, "the limit list entry was removed");
    assert!(connections_of(&routers[0], &flooder).await > 400);

    // On a hotspot the cap is in sessions and needs no rule; the router's
    // timeout ends the limit, and a restarted app closes the record.
    let hotspot = routers
        .iter()
        .position(|r| r.target.access == shareguard_detect::Access::Hotspot)
        .unwrap();
    let guest = f.quiet(hotspot, 0);
    let r = records::limit_and_record(&f.store, &routers[hotspot], &by_owner(&guest), &limits)
        .await
        .unwrap();
    assert!(
        r.summary().contains("limited to 1 sessions"),
        "{}",
        r.summary()
    );
    assert!(f.demo.network.nas()[hotspot]
        .rules("filter")
        .iter()
        .all(|r| !r["comment"].starts_with("shareguard")));
    let listed = f.demo.network.nas()[hotspot].rules("address-list");
    assert!(
        listed
            .iter()
            .any(|e| e["list"] == "sg-limited"
                && e["comment"] == format!("shareguard limit {guest}")),
        "{listed:?}"
    );
    f.demo.network.advance(Duration::from_secs(31 * 60));
    let (lifted, _) = records::lift_expired(&f.store, &routers, Utc::now() + Span::minutes(31))
        .await
        .unwrap();
    assert_eq!(lifted[0].note, "the router had already ended the limit");
    let audit = f
        .store
        .lock()
        .unwrap()
        .audit_log(&AuditFilter::default())
        .unwrap();
    assert!(audit.iter().any(|e| e.action == "limit_lifted"));
}

#[tokio::test]
async fn the_p2p_rules_are_installed_once_classify_p2p_traffic_and_come_off_again() {
    let f = fixture().await;
    let routers = f.routers();
    let who = f.quiet(0, 6);
    // Too few P2P connections for the table heuristic: only the router's
    // classification can find this one.
    f.load(
        &who,
        Load {
            extra_connections: 20,
            lifetime_s: 600,
            p2p: true,
            ..Load::default()
        },
    );
    let preview = p2p_rules::preview(&routers[0]).await.unwrap();
    assert!(
        preview[0].contains("layer7-protocol add name=sg-bittorrent"),
        "{preview:?}"
    );
    // The forward chain sees both directions, as layer-7 matching needs.
    assert!(preview[1].contains("chain=forward in-interface-list=dynamic layer7-protocol=sg-bittorrent action=add-src-to-address-list address-list=sg-p2p"), "{preview:?}");

    let mut m = Monitor::new();
    let settings = quiet_defaults();
    m.cycle(&f.store, &routers, &settings).await.unwrap();
    assert!(f.warnings_of(&who).iter().all(|w| w.kind != AbuseKind::P2p));

    assert!(!p2p_rules::state(&routers[0]).await.unwrap().installed());
    p2p_rules::install(&routers[0]).await.unwrap();
    p2p_rules::install(&routers[0]).await.unwrap();
    let nas = &f.demo.network.nas()[0];
    assert_eq!(nas.rules("layer7-protocol").len(), 1, "installed once");
    assert!(p2p_rules::state(&routers[0]).await.unwrap().installed());

    // Connections that start after the rule are classified.
    f.demo.network.advance(Duration::from_secs(700));
    let r = m.cycle(&f.store, &routers, &settings).await.unwrap();
    let p2p: Vec<_> = r
        .warnings
        .iter()
        .filter(|w| w.kind == AbuseKind::P2p)
        .collect();
    assert!(p2p.iter().any(|w| w.subscriber == who), "{p2p:?}");
    let w = p2p.iter().find(|w| w.subscriber == who).unwrap();
    assert_eq!(
        w.details,
        "the router's P2P rules matched this subscriber's traffic"
    );
    // Only the injected P2P traffic is classified by the router.
    let classified: Vec<_> = p2p
        .iter()
        .filter(|w| w.details.contains("router's P2P rules"))
        .map(|w| w.subscriber.as_str())
        .collect();
    assert_eq!(classified, vec![who.as_str()]);

    assert_eq!(p2p_rules::remove(&routers[0]).await.unwrap(), 2);
    assert!(nas.rules("layer7-protocol").is_empty());
    assert!(!p2p_rules::state(&routers[0]).await.unwrap().installed());
}

#[tokio::test]
async fn the_p2p_rule_watches_the_hotspot_interface_the_router_names() {
    let f = fixture_with(shareguard_sim::RouterModel {
        hotspot_interface: "bridge-guests".into(),
        ..shareguard_sim::RouterModel::default()
    })
    .await;
    let routers = f.routers();
    let hotspot = routers
        .iter()
        .find(|r| r.target.access == shareguard_detect::Access::Hotspot)
        .unwrap();
    let preview = p2p_rules::preview(hotspot).await.unwrap();
    assert!(
        preview[1].contains("chain=forward in-interface=bridge-guests "),
        "{preview:?}"
    );
    p2p_rules::install(hotspot).await.unwrap();
    assert!(p2p_rules::state(hotspot).await.unwrap().installed());
}

#[tokio::test]
async fn a_ban_and_a_limit_follow_the_subscriber_to_a_new_address_and_leave_the_old_one() {
    let f = fixture().await;
    let routers = f.routers();
    let nas = &f.demo.network.nas()[0];
    let (banned, limited, next) = (f.quiet(0, 3), f.quiet(0, 5), f.quiet(0, 7));
    assert!(ban::install_ban_rule(&routers[0]).await.unwrap());
    limit::install_limit_rules(&routers[0], &LimitSettings::default())
        .await
        .unwrap();
    records::ban_and_record(&f.store, &routers[0], &by_owner(&banned))
        .await
        .unwrap();
    records::limit_and_record(
        &f.store,
        &routers[0],
        &by_owner(&limited),
        &LimitSettings::default(),
    )
    .await
    .unwrap();
    assert!(nas.is_banned(&banned));
    let old = nas.address(&banned).unwrap();
    let old_limited = nas.address(&limited).unwrap();

    // The banned subscriber redials; the next subscriber gets the old address.
    f.demo.network.advance(Duration::from_secs(5));
    let new = nas.redial(&banned).unwrap();
    let new_limited = nas.redial(&limited).unwrap();
    assert_eq!(nas.redial_to(&next, old), Some(old));
    assert!(
        !nas.is_banned(&banned) && nas.is_banned(&next),
        "as on a real router"
    );

    let mut m = Monitor::new();
    let r = m
        .cycle(&f.store, &routers, &quiet_defaults())
        .await
        .unwrap();
    assert!(r.follow_failures.is_empty(), "{:?}", r.follow_failures);
    assert!(nas.is_banned(&banned), "the ban follows the account");
    assert!(!nas.is_banned(&next), "nobody inherits it");
    let mut moved: Vec<_> = r
        .moved
        .iter()
        .map(|m| (m.subscriber.as_str(), m.from.clone(), m.to))
        .collect();
    moved.sort();
    let mut want = vec![
        (banned.as_str(), vec![old], Some(new)),
        (limited.as_str(), vec![old_limited], Some(new_limited)),
    ];
    want.sort();
    assert_eq!(moved, want);
    let on_list = |list: &str| -> Vec<String> {
        nas.rules("address-list")
            .into_iter()
            .filter(|e| e["list"] == list)
            .map(|e| e["address"].clone())
            .collect()
    };
    assert_eq!(on_list("sg-banned"), vec![new.to_string()]);
    assert_eq!(on_list("sg-limited"), vec![new_limited.to_string()]);
    let audit = f
        .store
        .lock()
        .unwrap()
        .audit_log(&AuditFilter {
            action: Some("ban_moved".into()),
            ..AuditFilter::default()
        })
        .unwrap();
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].details["to"], new.to_string());

    // A second cycle has nothing to move; lifting removes the moved entry.
    let r = m
        .cycle(&f.store, &routers, &quiet_defaults())
        .await
        .unwrap();
    assert!(r.moved.is_empty(), "{:?}", r.moved);
    let ban = f
        .store
        .lock()
        .unwrap()
        .actions_in_force()
        .unwrap()
        .into_iter()
        .find(|a| a.subscriber == banned)
        .unwrap();
    let l = records::lift(&f.store, &routers, &ban, "owner", "done")
        .await
        .unwrap();
    assert_eq!(l.note, "the ban list entry was removed");
    assert!(!nas.is_banned(&banned));
    assert!(on_list("sg-banned").is_empty());
}

/// A PPPoE subscriber of router `nas` with IPv6 connections.
fn dual_stack(f: &Fixture, nas: usize) -> String {
    let n = &f.demo.network.nas()[nas];
    n.subscribers()
        .iter()
        .find(|s| s.kind == HouseholdKind::SingleDevice && n.ipv6_slots(&s.name) > 0)
        .expect("a dual-stack household")
        .name
        .clone()
}

#[tokio::test]
async fn a_dual_stack_subscribers_ban_stops_their_ipv6_too_until_lifted() {
    let f = fixture().await;
    let routers = f.routers();
    let nas = &f.demo.network.nas()[0];
    let who = dual_stack(&f, 0);
    let v6 = nas.ipv6_connections_of(&who);
    assert!(v6 > 0);

    // A router with only the IPv4 ban rule (as installed before IPv6 was
    // handled): banning a dual-stack subscriber is refused with the fix.
    let first_static = nas.static_rules("filter")[0][".id"].clone();
    nas.add_rule(
        "filter",
        &[
            ("chain", "forward"),
            ("src-address-list", ban::BAN_LIST),
            ("action", "drop"),
            ("comment", ban::BAN_COMMENT),
            ("place-before", &first_static),
        ],
    );
    let refused = records::ban_and_record(&f.store, &routers[0], &by_owner(&who))
        .await
        .unwrap_err();
    assert!(
        refused
            .to_string()
            .contains("IPv6 ban rule is not installed")
            && refused.to_string().contains("/ipv6 firewall filter add"),
        "{refused}"
    );
    // Installing again adds the twin only, below IPv6's builtin rule and
    // above its fast-track and accept-established rules.
    assert!(ban::install_ban_rule(&routers[0]).await.unwrap());
    assert_eq!(nas.static_rules("filter").len(), 3, "no second IPv4 rule");
    let actions: Vec<String> = nas
        .rules("ipv6-filter")
        .iter()
        .map(|r| r["action"].clone())
        .collect();
    assert_eq!(
        actions,
        ["passthrough", "drop", "fasttrack-connection", "accept"]
    );
    assert!(!ban::install_ban_rule(&routers[0]).await.unwrap());

    let done = records::ban_and_record(&f.store, &routers[0], &by_owner(&who))
        .await
        .unwrap();
    let records::PenaltyReport::Ban { report, .. } = &done else {
        panic!("{done:?}")
    };
    let prefix = nas.delegated_prefix(&who).unwrap();
    assert_eq!(report.prefix.as_deref(), Some(&*format!("{prefix}/64")));
    assert_eq!(report.ipv6_connections_removed, v6);
    assert!(
        done.summary().contains(&format!("and {prefix}/64")),
        "{}",
        done.summary()
    );
    assert!(nas.is_banned(&who));
    assert_eq!(nas.ipv6_connections_of(&who), 0, "IPv6 stopped too");

    f.lift_first(&routers, "mistake").await;
    assert!(!nas.is_banned(&who));
    assert!(nas.rules("ipv6-address-list").is_empty());
    assert_eq!(nas.ipv6_connections_of(&who), v6, "IPv6 is back");
}

#[tokio::test]
async fn a_dual_stack_subscribers_limit_lists_their_prefix_until_lifted() {
    let f = fixture().await;
    let routers = f.routers();
    let limits = LimitSettings::default();
    let nas = &f.demo.network.nas()[0];
    let who = dual_stack(&f, 0);
    let prefix = format!("{}/64", nas.delegated_prefix(&who).unwrap());

    // IPv4 rules only, as installed before IPv6 was handled: refused.
    for (list, cap, tag) in [
        ("sg-limited", "100,32", "suspicious"),
        ("!sg-limited", "500,32", "normal"),
    ] {
        nas.add_rule(
            "filter",
            &[
                ("chain", "forward"),
                ("src-address-list", list),
                ("connection-limit", cap),
                ("action", "drop"),
                ("comment", &format!("{} {tag}", limit::LIMIT_COMMENT)),
            ],
        );
    }
    let refused = records::limit_and_record(&f.store, &routers[0], &by_owner(&who), &limits)
        .await
        .unwrap_err();
    assert!(
        refused
            .to_string()
            .contains("IPv6 connection-limit rules are not installed"),
        "{refused}"
    );

    limit::install_limit_rules(&routers[0], &limits)
        .await
        .unwrap();
    let done = records::limit_and_record(&f.store, &routers[0], &by_owner(&who), &limits)
        .await
        .unwrap();
    assert!(
        done.summary().contains(&format!("and {prefix}")),
        "{}",
        done.summary()
    );
    let listed = nas.rules("ipv6-address-list");
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0]["address"], prefix);
    assert_eq!(listed[0]["list"], "sg-limited");
    assert_eq!(
        listed[0]["comment"],
        format!("{} {who}", limit::LIMIT_COMMENT)
    );

    f.lift_first(&routers, "talked to them").await;
    assert!(nas.rules("ipv6-address-list").is_empty());
}

#[tokio::test]
async fn a_dual_stack_ban_follows_the_prefix_a_redial_brings() {
    let f = fixture().await;
    let routers = f.routers();
    let nas = &f.demo.network.nas()[0];
    let who = dual_stack(&f, 0);
    ban::install_ban_rule(&routers[0]).await.unwrap();
    records::ban_and_record(&f.store, &routers[0], &by_owner(&who))
        .await
        .unwrap();
    let old = format!("{}/64", nas.delegated_prefix(&who).unwrap());
    assert_eq!(nas.ipv6_connections_of(&who), 0);

    f.demo.network.advance(Duration::from_secs(5));
    nas.redial(&who).unwrap();
    let new = format!("{}/64", nas.delegated_prefix(&who).unwrap());
    assert_ne!(old, new, "a redial brings another prefix");
    assert!(
        nas.ipv6_connections_of(&who) > 0,
        "the new prefix escapes the ban, as on a real router"
    );

    let mut m = Monitor::new();
    let r = m
        .cycle(&f.store, &routers, &quiet_defaults())
        .await
        .unwrap();
    assert!(r.follow_failures.is_empty(), "{:?}", r.follow_failures);
    let moved = r.moved.iter().find(|m| m.subscriber == who).unwrap();
    assert_eq!(moved.from_prefixes, vec![old]);
    assert_eq!(moved.to_prefix.as_deref(), Some(&*new));
    assert_eq!(
        nas.ipv6_connections_of(&who),
        0,
        "the ban follows the prefix"
    );
    let listed: Vec<String> = nas
        .rules("ipv6-address-list")
        .iter()
        .map(|e| e["address"].clone())
        .collect();
    assert_eq!(listed, vec![new]);
    let audit = f
        .store
        .lock()
        .unwrap()
        .audit_log(&AuditFilter::default())
        .unwrap();
    assert!(audit
        .iter()
        .any(|e| e.action == "ban_moved" && e.details.to_string().contains("to_prefix")));
}

#[tokio::test]
async fn a_dual_stack_households_ipv6_connections_are_in_its_monitor_sample() {
    let f = fixture().await;
    let routers = f.routers();
    let nas = &f.demo.network.nas()[0];
    let who = dual_stack(&f, 0);
    let household = nas
        .subscribers()
        .iter()
        .find(|s| s.name == who)
        .unwrap()
        .slots
        .len();
    assert!(nas.ipv6_connections_of(&who) > 0);
    assert_eq!(
        connections_of(&routers[0], &who).await as usize,
        household,
        "IPv4 and IPv6 connections together"
    );
}

#[tokio::test]
async fn an_account_online_twice_is_one_monitor_sample() {
    let f = fixture().await;
    let routers = f.routers();
    let nas = &f.demo.network.nas()[0];
    let who = f.quiet(0, 2);
    let household = nas
        .subscribers()
        .iter()
        .find(|s| s.name == who)
        .unwrap()
        .slots
        .len();
    nas.add_session(&who, "E4:8D:8C:00:00:42").unwrap();
    let mut c = routeros_client::Client::connect(&routers[0].target.connect)
        .await
        .unwrap();
    let mut memory = shareguard_scan::monitor::NasMemory::default();
    let reading = shareguard_scan::monitor::read_monitor(
        &mut c,
        &routers[0].target,
        &mut memory,
        90,
        &Default::default(),
    )
    .await
    .unwrap();
    let mine: Vec<_> = reading
        .samples
        .iter()
        .filter(|s| s.subscriber == who)
        .collect();
    assert_eq!(mine.len(), 1, "one sample per account");
    assert_eq!(
        mine[0].connections as usize,
        2 * household,
        "both sessions' connections"
    );
}

#[tokio::test]
async fn a_router_slower_than_the_interval_is_skipped_and_named_while_the_others_are_read() {
    let f = fixture().await;
    let routers = f.routers();
    // Far too slow to send its table within one interval.
    f.demo.network.nas()[0].set_rows_per_second(Some(500));
    let mut settings = quiet_defaults();
    settings.interval_s = 10;
    let mut m = Monitor::new();
    let r = m.cycle(&f.store, &routers, &settings).await.unwrap();
    let slow = &routers[0].target.name;
    let skipped = r.routers.iter().find(|x| &x.nas == slow).unwrap();
    assert!(!skipped.ok);
    let why = skipped.error.as_deref().unwrap();
    assert!(
        why.contains("longer than the monitor's 10 s interval")
            && why.contains("skipped this cycle"),
        "{why}"
    );
    assert!(r.routers.iter().filter(|x| &x.nas != slow).all(|x| x.ok));
    assert_eq!(r.slowest().map(|x| &x.nas), Some(slow));
}

/// The app's demo: with its evening begun, the monitor at the default
/// thresholds opens a few warnings in its first cycle and more as the
/// households come home, instead of every warning of the network at once.
#[tokio::test]
async fn the_demo_evening_builds_warnings_up_cycle_by_cycle() {
    let f = fixture().await;
    let routers = f.routers();
    let settings = MonitorSettings::default();

    // At the peak (no evening) one cycle sees every heavy household.
    let peak = Monitor::new()
        .cycle(&f.store, &routers, &settings)
        .await
        .unwrap();
    let at_peak: std::collections::BTreeSet<String> =
        peak.warnings.iter().map(|w| w.subscriber.clone()).collect();
    assert!(at_peak.len() > 40, "{}", at_peak.len());

    let fresh = tempfile::tempdir().unwrap();
    let store = Arc::new(Mutex::new(Store::open(fresh.path().join("sg.db")).unwrap()));
    shareguard_engine::demo::begin_evening(&f.demo);
    let mut m = Monitor::new();
    let mut seen = std::collections::BTreeSet::new();
    let mut opened_per_cycle = Vec::new();
    // One cycle a minute for the evening and a quarter of an hour more (the
    // longest-lived connections join when they are next replaced).
    let minutes = shareguard_engine::demo::EVENING.as_secs() / 60 + 16;
    for minute in 0..=minutes {
        if minute > 0 {
            f.demo.network.advance(Duration::from_secs(60));
        }
        let r = m.cycle(&store, &routers, &settings).await.unwrap();
        assert!(r.routers.iter().all(|x| x.ok), "{:?}", r.routers);
        if minute == 0 {
            // The evening is under way: a few households are home already,
            // so the first check has a flood to show.
            assert!(
                r.warnings
                    .iter()
                    .any(|w| w.kind == AbuseKind::ConnectionFlood),
                "{:#?}",
                r.warnings
            );
        }
        let new = r
            .warnings
            .iter()
            .filter(|w| seen.insert(w.subscriber.clone()))
            .count();
        opened_per_cycle.push(new);
    }
    let first = opened_per_cycle[0];
    let total: usize = opened_per_cycle.iter().sum();
    assert!(
        first * 3 <= total,
        "the first cycle warned {first} of {total} subscribers: {opened_per_cycle:?}"
    );
    let cycles_with_news = opened_per_cycle.iter().filter(|&&n| n > 0).count();
    assert!(
        cycles_with_news >= 15,
        "warnings arrived in only {cycles_with_news} cycles: {opened_per_cycle:?}"
    );
    // By the end of the evening every household the peak warned about has
    // been warned about.
    let missed: Vec<&String> = at_peak.difference(&seen).collect();
    assert!(
        missed.is_empty(),
        "never warned during the evening: {missed:?}"
    );
    // Each household is back at its peak.
    for s in f.demo.network.population().subscribers.iter().take(300) {
        let n = f.demo.network.household_connections(&s.name).unwrap();
        assert_eq!(n, s.slots.len(), "{}", s.name);
    }
}

/// The demo's evening changes counts, not who is behind a line: the quiet
/// sample keeps each household's mix of TTLs, so the sharers a scan finds at
/// the peak it finds while their households are quiet.
#[tokio::test]
async fn the_demo_evening_keeps_the_sharing_evidence() {
    let f = fixture().await;
    // Sharers only: an honest home near a threshold may read either way.
    let population = f.demo.network.population();
    let flagged = |results: &[shareguard_detect::SubscriberResult]| {
        results
            .iter()
            .filter(|r| r.level >= shareguard_detect::Level::Medium)
            .filter(|r| {
                population
                    .subscriber(&r.subscriber)
                    .is_some_and(|s| s.kind.is_sharing())
            })
            .map(|r| r.subscriber.clone())
            .collect::<std::collections::BTreeSet<_>>()
    };
    let at_peak = flagged(&f.scan().await);
    assert!(at_peak.len() > 20, "{at_peak:?}");
    shareguard_engine::demo::begin_evening(&f.demo);
    let quiet = flagged(&f.scan().await);
    let lost: Vec<_> = at_peak.difference(&quiet).collect();
    assert!(
        lost.is_empty(),
        "flagged at the peak, not while quiet: {lost:?}"
    );
}
