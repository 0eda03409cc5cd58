//! The engine against simulated routers over real TCP and a real SQLite file.

use std::sync::{Arc, Mutex};

use routeros_client::Client;
use shareguard_detect::{EvidenceStatus, Level, NasStatus, ProbeStrategy, ScanScope, ScanStatus};
use shareguard_engine::scan_and_store;
use shareguard_scan::{probes, run_scan, CancellationToken, ScanEvent, StrategyChoice};
use shareguard_sim::population::{HouseholdKind, PopulationSpec};
use shareguard_store::{ResultFilter, Store};
use shareguard_tests::{
    install_and_wait, request, scan_stored, start_sim, start_sim_with, targets,
};

fn small() -> PopulationSpec {
    PopulationSpec::scaled(400, 2, 3)
}

#[tokio::test]
async fn probes_are_previewed_installed_once_and_removed_cleanly() {
    let net = start_sim(small(), false).await;
    let t = &targets(&net, StrategyChoice::Auto)[0];
    let mut c = Client::connect(&t.connect).await.unwrap();
    let before = probes::inspect(&mut c, t.access).await.unwrap();
    assert!(before.rules.is_empty());
    assert!(before
        .warnings()
        .iter()
        .any(|w| w.contains("No TTL probes")));

    let (strategy, why) = before.choose(StrategyChoice::Auto);
    assert_eq!(strategy, ProbeStrategy::ConnectionMark, "{why}");
    let plan = probes::plan_install(
        &before,
        strategy,
        why,
        vec!["all-ppp".into()],
        chrono::Utc::now(),
    );
    let preview = plan.preview();
    // One rule per TTL, and on this IPv6 router its hop-limit twin.
    let n = probes::probe_ttls().len();
    assert!(before.ipv6);
    assert_eq!(preview.len(), 2 * n);
    assert!(preview[..n]
        .iter()
        .all(|l| l.starts_with("/ip firewall mangle add chain=prerouting in-interface=all-ppp")));
    assert!(preview[n..].iter().all(|l| l.starts_with(
        "/ipv6 firewall mangle add chain=prerouting in-interface=all-ppp connection-state=new hop-limit=equal:"
    )));
    probes::apply(&mut c, &plan).await.unwrap();

    let after = probes::inspect(&mut c, t.access).await.unwrap();
    assert_eq!(after.rules.len(), 2 * n);
    assert_eq!(after.strategy(), Some(ProbeStrategy::ConnectionMark));
    let (s, w) = after.choose(StrategyChoice::Auto);
    let again = probes::plan_install(&after, s, w, vec!["all-ppp".into()], chrono::Utc::now());
    assert!(
        again.is_noop(),
        "installing twice changes nothing: {:?}",
        again.preview()
    );

    let removal = probes::plan_remove(&after);
    assert_eq!(removal.preview().len(), 2);
    assert!(removal.preview()[0].starts_with("/ip firewall mangle remove numbers="));
    assert!(removal.preview()[1].starts_with("/ipv6 firewall mangle remove numbers="));
    probes::apply(&mut c, &removal).await.unwrap();
    assert!(probes::inspect(&mut c, t.access)
        .await
        .unwrap()
        .rules
        .is_empty());
    for table in ["mangle", "ipv6-mangle"] {
        assert_eq!(
            net.nas()[0].static_rules(table).len(),
            0,
            "nothing but our rules was touched or left in {table}"
        );
    }
}

#[tokio::test]
async fn auto_strategy_leaves_existing_connection_marks_alone() {
    let net = start_sim(small(), false).await;
    let nas = &net.nas()[0];
    nas.add_rule(
        "mangle",
        &[
            ("chain", "prerouting"),
            ("action", "mark-connection"),
            ("new-connection-mark", "pcc-1"),
            ("passthrough", "yes"),
            ("comment", "PCC"),
        ],
    );
    let t = &targets(&net, StrategyChoice::Auto)[0];
    shareguard_engine::demo::install_probes(std::slice::from_ref(t))
        .await
        .unwrap();
    let rules = nas.rules("mangle");
    let ours: Vec<_> = rules
        .iter()
        .filter(|r| {
            r.get("comment")
                .is_some_and(|c| c.starts_with("shareguard"))
        })
        .collect();
    assert!(ours
        .iter()
        .all(|r| r.get("action").map(String::as_str) == Some("add-src-to-address-list")));
    assert_eq!(
        rules
            .last()
            .and_then(|r| r.get("comment"))
            .map(String::as_str),
        Some("PCC"),
        "probes go before the owner's rules"
    );
}

#[tokio::test]
async fn probes_only_see_connections_opened_after_they_were_installed() {
    let net = start_sim(small(), false).await;
    let t = targets(&net, StrategyChoice::Fixed(ProbeStrategy::ConnectionMark));
    shareguard_engine::demo::install_probes(&t).await.unwrap();
    let early = run_scan(request(t.clone()), CancellationToken::new(), None).await;
    let early_observed: u64 = early
        .results
        .iter()
        .map(|r| r.evidence.observations as u64)
        .sum();
    let insufficient = early
        .results
        .iter()
        .filter(|r| r.evidence.status != EvidenceStatus::Sufficient)
        .count();
    assert!(
        insufficient * 2 > early.results.len(),
        "right after install most subscribers lack evidence"
    );

    net.advance(std::time::Duration::from_secs(20 * 60));
    let later = run_scan(request(t), CancellationToken::new(), None).await;
    let later_observed: u64 = later
        .results
        .iter()
        .map(|r| r.evidence.observations as u64)
        .sum();
    assert!(
        later_observed > early_observed * 5,
        "{early_observed} -> {later_observed}"
    );
    let conns: u64 = later.results.iter().map(|r| r.connections as u64).sum();
    assert!(
        later_observed as f64 > conns as f64 * 0.95,
        "nearly every connection is observed once renewed"
    );
    assert!(later
        .results
        .iter()
        .any(|r| r.reasons.iter().any(|x| x.contains("connections observed"))));
}

#[tokio::test]
async fn fasttrack_is_reported_with_what_it_means() {
    // Routers without FastTrack, one of which gets a fast-track rule.
    let net = start_sim_with(small(), false, shareguard_sim::RouterModel::lenient()).await;
    net.nas()[1].add_rule(
        "filter",
        &[
            ("chain", "forward"),
            ("action", "fasttrack-connection"),
            ("connection-state", "established,related"),
        ],
    );
    let out = run_scan(
        request(targets(&net, StrategyChoice::Auto)),
        CancellationToken::new(),
        None,
    )
    .await;
    assert!(out.summary.nas[1]
        .warnings
        .iter()
        .any(|w| w.contains("FastTrack")));
    assert!(!out.summary.nas[0]
        .warnings
        .iter()
        .any(|w| w.contains("FastTrack")));
}

#[tokio::test]
async fn every_online_subscriber_is_checked_and_sharers_are_flagged_with_reasons() {
    let net = start_sim(PopulationSpec::demo(), false).await;
    let t = targets(&net, StrategyChoice::Auto);
    install_and_wait(&net, &t).await;
    let (tx, mut rx) = tokio::sync::mpsc::channel(1024);
    let out = run_scan(request(t), CancellationToken::new(), Some(tx)).await;
    assert_eq!(out.summary.status, ScanStatus::Completed);
    assert_eq!(out.results.len(), net.population().subscribers.len());
    let mut finished = 0;
    let mut streamed = 0;
    while let Ok(e) = rx.try_recv() {
        match e {
            ScanEvent::NasFinished(_) => finished += 1,
            ScanEvent::NasResults { results, .. } => streamed += results.len(),
            _ => {}
        }
    }
    assert_eq!(finished, net.nas().len());
    assert_eq!(
        streamed,
        out.results.len(),
        "results stream per router as they finish"
    );
    for r in &out.results {
        assert!(!r.reasons.is_empty());
        let kind = net.population().subscriber(&r.subscriber).unwrap().kind;
        if kind == HouseholdKind::HotspotTethering {
            assert!(r.level >= Level::Medium, "{} {:?}", r.subscriber, r.reasons);
        }
        let truth: usize = net
            .population()
            .subscriber(&r.subscriber)
            .unwrap()
            .slots
            .len();
        assert_eq!(
            r.connections as usize, truth,
            "connection count of {}",
            r.subscriber
        );
    }
}

#[tokio::test]
async fn one_subscriber_scan_matches_the_full_scan_for_that_subscriber() {
    let net = start_sim(small(), false).await;
    let t = targets(&net, StrategyChoice::Fixed(ProbeStrategy::AddressList));
    install_and_wait(&net, &t).await;
    let full = run_scan(request(t.clone()), CancellationToken::new(), None).await;
    let pick = full.results.iter().max_by_key(|r| r.level).unwrap();
    let mut req = request(t);
    req.scope = ScanScope::Subscriber(pick.subscriber.clone());
    let one = run_scan(req, CancellationToken::new(), None).await;
    assert_eq!(one.results.len(), 1);
    let r = &one.results[0];
    assert_eq!(
        (r.connections, &r.ttl_values, r.level),
        (pick.connections, &pick.ttl_values, pick.level)
    );
}

#[tokio::test]
async fn scans_are_stored_whitelist_applies_and_the_audit_log_names_the_operator() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Mutex::new(Store::open(dir.path().join("sg.db")).unwrap()));
    let net = start_sim(small(), false).await;
    let t = targets(&net, StrategyChoice::Auto);
    install_and_wait(&net, &t).await;
    let first = scan_stored(&store, t.clone()).await;
    let flagged = first
        .results
        .iter()
        .find(|r| r.is_flagged())
        .expect("someone is flagged")
        .subscriber
        .clone();
    store
        .lock()
        .unwrap()
        .whitelist_add(&flagged, "office building", "owner", None)
        .unwrap();

    let second = scan_stored(&store, t).await;
    let r = second
        .results
        .iter()
        .find(|r| r.subscriber == flagged)
        .unwrap();
    assert!(r.whitelisted && r.level == Level::Normal && !r.is_flagged());

    let s = store.lock().unwrap();
    let stored = s.result(&flagged).unwrap().unwrap();
    assert!(stored.whitelisted);
    assert_eq!(
        s.result_count(&ResultFilter::default()).unwrap() as usize,
        second.results.len()
    );
    let log = s.audit_log(&Default::default()).unwrap();
    assert!(log
        .iter()
        .any(|e| e.action == "scan" && e.operator == "tester"));
    assert!(log
        .iter()
        .any(|e| e.action == "whitelist_add" && e.subject.as_deref() == Some(flagged.as_str())));
    assert!(s.subscriber_history(&flagged, 10).unwrap().len() >= 2);
}

#[tokio::test]
async fn a_cancelled_scan_keeps_the_previous_results() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Mutex::new(Store::open(dir.path().join("sg.db")).unwrap()));
    let net = start_sim(small(), false).await;
    let t = targets(&net, StrategyChoice::Auto);
    let first = scan_stored(&store, t.clone()).await;
    let cancel = CancellationToken::new();
    cancel.cancel();
    let second = scan_and_store(store.clone(), request(t), cancel, None)
        .await
        .unwrap();
    assert_eq!(second.summary.status, ScanStatus::Cancelled);
    assert!(second
        .summary
        .nas
        .iter()
        .all(|n| n.status == NasStatus::Cancelled));
    let s = store.lock().unwrap();
    let kept = s.results(&ResultFilter::default()).unwrap();
    assert_eq!(kept.len(), first.results.len());
    for r in &kept {
        let before = first
            .results
            .iter()
            .find(|x| x.subscriber == r.subscriber)
            .unwrap();
        assert_eq!(r.scanned_at, before.scanned_at, "{} is kept", r.subscriber);
    }
    assert_eq!(
        s.last_scan().unwrap().unwrap().status,
        ScanStatus::Cancelled
    );
}

#[tokio::test]
async fn scanning_over_tls_with_a_pinned_certificate_works() {
    let net = start_sim(small(), true).await;
    let mut t = targets(&net, StrategyChoice::Auto);
    for (target, nas) in t.iter_mut().zip(net.nas()) {
        let addr = nas.tls_addr().unwrap();
        target.connect.port = addr.port();
        target.connect.tls = Some(routeros_client::TlsMode::Pinned(
            nas.tls_fingerprint_sha256().unwrap(),
        ));
    }
    let out = run_scan(request(t), CancellationToken::new(), None).await;
    assert_eq!(
        out.summary.status,
        ScanStatus::Completed,
        "{:?}",
        out.summary.nas
    );
    assert_eq!(out.results.len(), net.population().subscribers.len());
}

#[tokio::test]
async fn a_router_scanned_with_the_wrong_access_type_says_so() {
    let net = start_sim(PopulationSpec::demo(), false).await;
    let mut t = targets(&net, StrategyChoice::Auto);
    let hotspot = t
        .iter()
        .position(|x| x.access == shareguard_detect::Access::Hotspot)
        .expect("the demo has a hotspot router");
    t[hotspot].access = shareguard_detect::Access::Pppoe;
    let out = run_scan(request(t), CancellationToken::new(), None).await;
    let n = &out.summary.nas[hotspot];
    assert_eq!(n.sessions, 0);
    assert!(
        n.warnings
            .iter()
            .any(|w| w.contains("access type to hotspot")),
        "{:?}",
        n.warnings
    );
}

#[tokio::test]
async fn icmp_and_gre_connections_without_ports_are_counted() {
    let net = start_sim(small(), false).await;
    let portless = |s: &shareguard_sim::SimSubscriber| {
        s.slots.iter().filter(|x| !x.protocol.has_ports()).count()
    };
    let with: Vec<_> = net
        .population()
        .subscribers
        .iter()
        .filter(|s| portless(s) > 0)
        .collect();
    assert!(
        with.iter().any(|s| s
            .slots
            .iter()
            .any(|x| x.protocol == shareguard_sim::Proto::Gre))
            && with.iter().any(|s| s
                .slots
                .iter()
                .any(|x| x.protocol == shareguard_sim::Proto::Icmp)),
        "the population has PPTP tunnels and pings"
    );
    let out = run_scan(
        request(targets(&net, StrategyChoice::Auto)),
        CancellationToken::new(),
        None,
    )
    .await;
    for s in with {
        let r = out
            .results
            .iter()
            .find(|r| r.subscriber == s.name)
            .expect("scanned");
        assert_eq!(r.connections as usize, s.slots.len(), "{}", s.name);
    }
}

/// The router's first subscriber of `kind`.
fn first_of(nas: &shareguard_sim::SimNas, kind: HouseholdKind) -> shareguard_sim::SimSubscriber {
    nas.subscribers()
        .iter()
        .find(|s| s.kind == kind)
        .expect("the population has every kind")
        .clone()
}

/// Routers with address-list probes installed twenty minutes ago.
async fn address_list_probes() -> (shareguard_sim::SimNetwork, Vec<shareguard_scan::NasTarget>) {
    let net = start_sim(small(), false).await;
    let t = targets(&net, StrategyChoice::Fixed(ProbeStrategy::AddressList));
    install_and_wait(&net, &t).await;
    (net, t)
}

#[tokio::test]
async fn probes_watch_the_subscriber_sessions_not_the_routers_own_uplink() {
    let (net, t) = address_list_probes().await;
    let nas = &net.nas()[0];
    let subscribers: std::collections::HashSet<String> = nas
        .subscribers()
        .iter()
        .map(|s| s.address.to_string())
        .collect();
    let mut c = Client::connect(&t[0].connect).await.unwrap();
    let listed = c
        .run(probes::address_list_query(
            routeros_client::Command::new("/ip/firewall/address-list/print").proplist(&["address"]),
        ))
        .await
        .unwrap();
    assert!(!listed.is_empty());
    let outside: Vec<String> = listed
        .iter()
        .filter_map(|r| r.get_str("address").map(|a| a.into_owned()))
        .filter(|a| !subscribers.contains(a))
        .collect();
    assert!(
        outside.is_empty(),
        "the router's uplink traffic (pppoe-out1) is not probed: {outside:?}"
    );
}

#[tokio::test]
async fn probe_entries_stay_with_the_session_that_left_them_when_its_address_moves_on() {
    let (net, t) = address_list_probes().await;
    let nas = &net.nas()[0];
    let ttls = |s: &shareguard_sim::SimSubscriber| -> std::collections::BTreeSet<u8> {
        s.slots.iter().map(|x| x.seen_ttl).collect()
    };
    // A sharer whose TTLs the honest subscriber's devices never show.
    let honest = first_of(nas, HouseholdKind::SingleDevice);
    let sharer = nas
        .subscribers()
        .iter()
        .find(|s| s.kind == HouseholdKind::SeveralHouseholds && !ttls(s).is_subset(&ttls(&honest)))
        .unwrap()
        .clone();
    net.advance(std::time::Duration::from_secs(5));
    nas.redial(&sharer.name).unwrap();
    assert_eq!(
        nas.redial_to(&honest.name, sharer.address),
        Some(sharer.address)
    );
    net.advance(std::time::Duration::from_secs(2));

    let out = run_scan(request(t), CancellationToken::new(), None).await;
    let of = |name: &str| out.results.iter().find(|r| r.subscriber == name).unwrap();
    let inherited: Vec<u8> = of(&honest.name)
        .ttl_values
        .iter()
        .copied()
        .filter(|v| !ttls(&honest).contains(v))
        .collect();
    assert!(
        inherited.is_empty(),
        "{} holds {} now but not the TTLs the sharer left there: {inherited:?}",
        honest.name,
        sharer.address
    );
}

#[tokio::test]
async fn an_account_online_twice_from_two_caller_ids_is_one_high_result() {
    let net = start_sim(small(), false).await;
    let nas = &net.nas()[0];
    let honest = first_of(nas, HouseholdKind::SingleDevice);
    let second = nas.add_session(&honest.name, "E4:8D:8C:00:00:99").unwrap();
    let out = run_scan(
        request(targets(&net, StrategyChoice::Auto)),
        CancellationToken::new(),
        None,
    )
    .await;
    let mine: Vec<_> = out
        .results
        .iter()
        .filter(|r| r.subscriber == honest.name)
        .collect();
    assert_eq!(mine.len(), 1, "one result per account");
    let r = mine[0];
    assert_eq!(
        r.connections as usize,
        2 * honest.slots.len(),
        "both sessions' connections"
    );
    assert!(r.level >= Level::High, "{:?} {:?}", r.level, r.reasons);
    assert!(
        r.reasons[0].contains("online 2 times at once")
            && r.reasons[0].contains("E4:8D:8C:00:00:99"),
        "{:?} ({second})",
        r.reasons
    );
}

#[tokio::test]
async fn a_dual_stack_subscribers_ipv6_connections_count_whichever_way_the_table_prints_them() {
    for form in [
        shareguard_sim::Ipv6Form::Bracketed,
        shareguard_sim::Ipv6Form::Dotted,
    ] {
        let net = start_sim_with(
            small(),
            false,
            shareguard_sim::RouterModel {
                ipv6: Some(form),
                ..shareguard_sim::RouterModel::default()
            },
        )
        .await;
        let nas = &net.nas()[0];
        let dual: Vec<_> = nas
            .subscribers()
            .iter()
            .filter(|s| nas.ipv6_slots(&s.name) > 0)
            .cloned()
            .collect();
        assert!(dual.len() > 10, "{}", dual.len());
        let out = run_scan(
            request(targets(&net, StrategyChoice::Auto)),
            CancellationToken::new(),
            None,
        )
        .await;
        for s in &dual {
            let r = out.results.iter().find(|r| r.subscriber == s.name).unwrap();
            assert_eq!(
                r.connections as usize,
                s.slots.len(),
                "{form:?}: {} has {} of its connections over IPv6",
                s.name,
                nas.ipv6_slots(&s.name)
            );
        }
    }
}

#[tokio::test]
async fn dual_stack_households_ipv6_connections_are_probed_by_their_hop_limit() {
    let in_range = |ttl: u8| probes::probe_ttls().contains(&ttl);
    for strategy in [ProbeStrategy::ConnectionMark, ProbeStrategy::AddressList] {
        let net = start_sim(small(), false).await;
        let nas = &net.nas()[0];
        let t = targets(&net, StrategyChoice::Fixed(strategy));
        install_and_wait(&net, &t).await;
        let out = run_scan(request(t), CancellationToken::new(), None).await;
        let dual: Vec<_> = nas
            .subscribers()
            .iter()
            .filter(|s| nas.ipv6_slots(&s.name) > 0)
            .cloned()
            .collect();
        assert!(dual.len() > 10, "{}", dual.len());
        for s in &dual {
            let r = out.results.iter().find(|r| r.subscriber == s.name).unwrap();
            let v6 = |k: usize, slot: &shareguard_sim::population::Slot| {
                shareguard_sim::ipv6::is_v6(true, k, slot)
            };
            let want = match strategy {
                // Every connection was opened after the probes went in; the
                // home router's own DNS/NTP/TR-069 is kept out (PPPoE).
                ProbeStrategy::ConnectionMark => {
                    let own = |slot: &shareguard_sim::population::Slot| {
                        nas.access() == shareguard_sim::population::Access::Pppoe
                            && shareguard_scan::collect::is_router_own(
                                slot.seen_ttl,
                                slot.protocol.as_str().as_bytes(),
                                slot.dst.port(),
                            )
                    };
                    assert_eq!(
                        r.evidence.router_own as usize,
                        s.slots
                            .iter()
                            .filter(|slot| in_range(slot.seen_ttl) && own(slot))
                            .count()
                    );
                    s.slots
                        .iter()
                        .filter(|slot| in_range(slot.seen_ttl) && !own(slot))
                        .count()
                }
                // One IPv4 entry per TTL of the address; one IPv6 entry per
                // device address and hop limit.
                ProbeStrategy::AddressList => {
                    let v4: std::collections::BTreeSet<u8> = s
                        .slots
                        .iter()
                        .enumerate()
                        .filter(|(k, slot)| !v6(*k, slot) && in_range(slot.seen_ttl))
                        .map(|(_, slot)| slot.seen_ttl)
                        .collect();
                    let devices = s
                        .slots
                        .iter()
                        .enumerate()
                        .filter(|(k, slot)| v6(*k, slot) && in_range(slot.seen_ttl))
                        .count();
                    v4.len() + devices
                }
            };
            assert_eq!(
                r.evidence.observations as usize,
                want,
                "{strategy:?}: {} has {} IPv6 connections",
                s.name,
                nas.ipv6_slots(&s.name)
            );
        }
    }
}
