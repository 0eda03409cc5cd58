//! Mangle rules applied to the simulated connections. Time is frozen except
//! for explicit advances, so every expected count is computed exactly from
//! the ground-truth population.

mod common;

use std::collections::{BTreeSet, HashMap};
use std::net::Ipv4Addr;
use std::time::Duration;

use common::*;
use routeros_proto::ReplyKind;
use shareguard_sim::clock::current;
use shareguard_sim::{PopulationSpec, SimNas, SimNetwork};

const PROPLIST: &str = "=.proplist=src-address,dst-address,protocol,connection-mark";

/// Connections of online subscribers of `nas` with TTL `ttl` whose current
/// instance started after `created` (and, with `within`, not longer ago than that).
fn expected(
    net: &SimNetwork,
    nas: &SimNas,
    ttl: u8,
    created: u64,
    within: Option<u64>,
) -> Vec<(Ipv4Addr, usize)> {
    let base = net.population().nas_range(nas.index()).start;
    let now = net.now_ms();
    let mut out = Vec::new();
    for (local, sub) in nas.subscribers().iter().enumerate() {
        if !nas.is_online(&sub.name) {
            continue;
        }
        let dual_stack = nas.is_dual_stack(&sub.name);
        for (k, slot) in sub.slots.iter().enumerate() {
            // IPv4 mangle never sees a dual-stack household's IPv6 connections.
            if shareguard_sim::ipv6::is_v6(dual_stack, k, slot) {
                continue;
            }
            let conn = current(slot, base + local, k, now);
            if slot.seen_ttl == ttl
                && conn.start_ms > created
                && within.is_none_or(|w| now - conn.start_ms < w)
            {
                out.push((sub.address, k));
            }
        }
    }
    out
}

async fn marks(c: &mut Client<tokio::net::TcpStream>) -> HashMap<String, usize> {
    let r = c.call(&["/ip/firewall/connection/print", PROPLIST]).await;
    let mut out = HashMap::new();
    for row in rows(&r) {
        *out.entry(get(row, "connection-mark")).or_insert(0) += 1;
    }
    out
}

#[tokio::test]
async fn ttl_mark_applies_only_to_connections_started_after_the_rule() {
    let net = start_with(
        PopulationSpec::demo(),
        shareguard_sim::RouterModel::lenient(),
    )
    .await; // tables start empty
    let nas = &net.nas()[0];
    let mut c = connect(nas.api_addr()).await;
    c.login("admin", "admin").await;
    let r = c
        .call(&[
            "/ip/firewall/mangle/add",
            "=chain=prerouting",
            "=action=mark-connection",
            "=new-connection-mark=sg-ttl-63",
            "=passthrough=yes",
            "=ttl=equal:63",
            "=connection-state=new",
            "=in-interface=all-ppp",
            "=comment=shareguard ttl probe",
        ])
        .await;
    assert_eq!(r[0].kind(), ReplyKind::Done);
    let created = net.now_ms();

    // Nothing has started since the rule went in.
    let m = marks(&mut c).await;
    assert_eq!(m.get("sg-ttl-63"), None);

    net.advance(Duration::from_secs(60));
    let want = expected(&net, nas, 63, created, None).len();
    assert!(want > 0);
    let m = marks(&mut c).await;
    assert_eq!(m.get("sg-ttl-63").copied().unwrap_or(0), want);

    // Marked rows come from subscribers that have TTL-63 devices.
    let r = c
        .call(&[
            "/ip/firewall/connection/print",
            PROPLIST,
            "?connection-mark=sg-ttl-63",
        ])
        .await;
    let with_63: BTreeSet<String> = nas
        .subscribers()
        .iter()
        .filter(|s| s.slots.iter().any(|x| x.seen_ttl == 63))
        .map(|s| s.address.to_string())
        .collect();
    for row in rows(&r) {
        let src = get(row, "src-address");
        assert!(with_63.contains(src.split(':').next().unwrap()));
    }

    // Lifetimes are at most 15 minutes: afterwards every TTL-63 connection is new.
    net.advance(Duration::from_secs(15 * 60));
    let all_63: usize = nas
        .subscribers()
        .iter()
        .map(|s| s.slots.iter().filter(|x| x.seen_ttl == 63).count())
        .sum();
    let m = marks(&mut c).await;
    assert_eq!(m.get("sg-ttl-63").copied().unwrap_or(0), all_63);
    assert_eq!(expected(&net, nas, 63, created, None).len(), all_63);

    // Removing the rule leaves existing marks but new connections are unmarked.
    let id = nas.rules("mangle")[0][".id"].clone();
    let r = c
        .call(&["/ip/firewall/mangle/remove", &format!("=.id={id}")])
        .await;
    assert_eq!(kinds(&r), vec![ReplyKind::Done]);
    net.advance(Duration::from_secs(15 * 60));
    let m = marks(&mut c).await;
    assert_eq!(m.get("sg-ttl-63"), None);
    net.shutdown().await;
}

#[tokio::test]
async fn rule_order_passthrough_and_preinstalled_rules() {
    let net = start_with(
        PopulationSpec::demo(),
        shareguard_sim::RouterModel::lenient(),
    )
    .await; // tables start empty
    let nas = &net.nas()[0];
    // An ISP's own QoS rule that ends the chain for UDP.
    let qos = nas.add_rule(
        "mangle",
        &[
            ("chain", "prerouting"),
            ("action", "mark-connection"),
            ("new-connection-mark", "qos-udp"),
            ("protocol", "udp"),
            ("passthrough", "no"),
        ],
    );
    nas.add_rule(
        "filter",
        &[
            ("chain", "forward"),
            ("action", "fasttrack-connection"),
            ("connection-state", "established,related"),
        ],
    );
    nas.add_rule(
        "mangle",
        &[
            ("chain", "prerouting"),
            ("action", "mark-connection"),
            ("new-connection-mark", "probe"),
            ("ttl", "equal:63"),
        ],
    );
    net.advance(Duration::from_secs(15 * 60 + 1));
    let count = |pred: &dyn Fn(&shareguard_sim::Slot) -> bool| -> usize {
        nas.subscribers()
            .iter()
            .map(|s| s.slots.iter().filter(|x| pred(x)).count())
            .sum()
    };
    let udp = count(&|s| s.protocol == shareguard_sim::Proto::Udp);
    // The probe has no protocol matcher: every TTL-63 connection the QoS rule
    // did not end (TCP, and a VPN user's GRE or a ping).
    let not_udp63 = count(&|s| s.protocol != shareguard_sim::Proto::Udp && s.seen_ttl == 63);
    let mut c = connect(nas.api_addr()).await;
    c.login("admin", "admin").await;
    let m = marks(&mut c).await;
    assert_eq!(m.get("qos-udp").copied().unwrap_or(0), udp);
    assert_eq!(m.get("probe").copied().unwrap_or(0), not_udp63);

    // A probe placed before the QoS rule marks UDP first; the later QoS rule
    // overwrites that mark, as on a router.
    let r = c
        .call(&[
            "/ip/firewall/mangle/add",
            "=chain=prerouting",
            "=action=mark-connection",
            "=new-connection-mark=early",
            "=ttl=equal:63",
            "=passthrough=no",
            &format!("=place-before={qos}"),
        ])
        .await;
    assert_eq!(r[0].kind(), ReplyKind::Done);
    net.advance(Duration::from_secs(15 * 60 + 1));
    let m = marks(&mut c).await;
    let all63 = count(&|s| s.seen_ttl == 63);
    let udp_not63 = count(&|s| s.protocol == shareguard_sim::Proto::Udp && s.seen_ttl != 63);
    assert_eq!(m.get("early").copied().unwrap_or(0), all63);
    assert_eq!(m.get("qos-udp").copied().unwrap_or(0), udp_not63);
    assert_eq!(m.get("probe"), None);
    assert_eq!(nas.rules("mangle").len(), 3);
    assert_eq!(nas.rules("filter")[0]["action"], "fasttrack-connection");
    net.shutdown().await;
}

#[tokio::test]
async fn per_subscriber_interface_and_src_address_matchers() {
    let net = start(PopulationSpec::demo()).await;
    let nas = &net.nas()[1];
    let target = nas.subscribers()[4].clone();
    nas.add_rule(
        "mangle",
        &[
            ("chain", "prerouting"),
            ("action", "mark-connection"),
            ("new-connection-mark", "one"),
            ("in-interface", &format!("<pppoe-{}>", target.name)),
        ],
    );
    nas.add_rule(
        "mangle",
        &[
            ("chain", "prerouting"),
            ("action", "mark-connection"),
            ("new-connection-mark", "never"),
            ("src-address-list", "unsupported"),
        ],
    );
    net.advance(Duration::from_secs(901));
    let mut c = connect(nas.api_addr()).await;
    c.login("admin", "admin").await;
    let r = c
        .call(&[
            "/ip/firewall/connection/print",
            PROPLIST,
            "?connection-mark=one",
        ])
        .await;
    let rows = rows(&r);
    assert_eq!(rows.len(), target.slots.len());
    assert!(rows
        .iter()
        .all(|r| get(r, "src-address").starts_with(&format!("{}:", target.address))));
    let r = c
        .call(&[
            "/ip/firewall/connection/print",
            "=count-only=",
            "?connection-mark=never",
        ])
        .await;
    assert_eq!(get(&r[0], "ret"), "0");
    net.shutdown().await;
}

async fn dynamic_entries(
    c: &mut Client<tokio::net::TcpStream>,
    list: &str,
) -> Vec<(String, String, String)> {
    let r = c
        .call(&[
            "/ip/firewall/address-list/print",
            &format!("?list={list}"),
            "?dynamic=true",
        ])
        .await;
    rows(&r)
        .iter()
        .map(|r| (get(r, "address"), get(r, ".id"), get(r, "timeout")))
        .collect()
}

#[tokio::test]
async fn address_list_rules_create_dynamic_entries_after_advancing() {
    let net = start(PopulationSpec::demo()).await;
    let nas = &net.nas()[0];
    let mut c = connect(nas.api_addr()).await;
    c.login("admin", "admin").await;
    for (ttl, list, timeout) in [("62", "sg-62", None), ("126", "sg-126", Some("1m"))] {
        let mut words = vec![
            "/ip/firewall/mangle/add".to_string(),
            "=chain=prerouting".into(),
            "=action=add-src-to-address-list".into(),
            format!("=address-list={list}"),
            format!("=ttl=equal:{ttl}"),
            "=connection-state=new".into(),
        ];
        if let Some(t) = timeout {
            words.push(format!("=address-list-timeout={t}"));
        }
        let r = c
            .call(&words.iter().map(String::as_str).collect::<Vec<_>>())
            .await;
        assert_eq!(r[0].kind(), ReplyKind::Done);
    }
    let created = net.now_ms();
    assert!(dynamic_entries(&mut c, "sg-62").await.is_empty());
    assert!(dynamic_entries(&mut c, "sg-126").await.is_empty());

    net.advance(Duration::from_secs(15 * 60));
    let want62: BTreeSet<String> = expected(&net, nas, 62, created, None)
        .into_iter()
        .map(|(a, _)| a.to_string())
        .collect();
    let got62 = dynamic_entries(&mut c, "sg-62").await;
    let got62_set: BTreeSet<String> = got62.iter().map(|e| e.0.clone()).collect();
    assert!(!want62.is_empty());
    assert_eq!(got62_set, want62);
    assert!(got62.iter().all(|e| e.2.is_empty()), "no timeout on sg-62");

    let want126: BTreeSet<String> = expected(&net, nas, 126, created, Some(60_000))
        .into_iter()
        .map(|(a, _)| a.to_string())
        .collect();
    let got126 = dynamic_entries(&mut c, "sg-126").await;
    let got126_set: BTreeSet<String> = got126.iter().map(|e| e.0.clone()).collect();
    assert_eq!(got126_set, want126);
    assert!(got126.iter().all(|e| !e.2.is_empty()), "timeouts shown");

    // Removing a dynamic entry hides it until a new matching connection starts.
    let (addr, id, _) = got62[0].clone();
    let r = c
        .call(&["/ip/firewall/address-list/remove", &format!("=.id={id}")])
        .await;
    assert_eq!(kinds(&r), vec![ReplyKind::Done]);
    let now: BTreeSet<String> = dynamic_entries(&mut c, "sg-62")
        .await
        .into_iter()
        .map(|e| e.0)
        .collect();
    assert!(!now.contains(&addr));
    net.advance(Duration::from_secs(15 * 60));
    let later: BTreeSet<String> = dynamic_entries(&mut c, "sg-62")
        .await
        .into_iter()
        .map(|e| e.0)
        .collect();
    assert!(later.contains(&addr));

    // Offline subscribers' entries vanish with their connections.
    let sub = nas
        .subscribers()
        .iter()
        .find(|s| s.address.to_string() == addr)
        .unwrap()
        .name
        .clone();
    assert!(nas.disconnect(&sub));
    let after: BTreeSet<String> = dynamic_entries(&mut c, "sg-62")
        .await
        .into_iter()
        .map(|e| e.0)
        .collect();
    assert!(!after.contains(&addr));
    net.shutdown().await;
}

#[tokio::test]
async fn many_probe_rules_mark_every_ttl() {
    // Without IPv6 every household connection is in the IPv4 table.
    let net = start_with(
        PopulationSpec::demo(),
        shareguard_sim::RouterModel {
            ipv6: None,
            ..shareguard_sim::RouterModel::default()
        },
    )
    .await;
    let nas = &net.nas()[0];
    let ttls: Vec<u8> = (60..=66).chain(124..=130).chain([254, 255]).collect();
    for t in &ttls {
        nas.add_rule(
            "mangle",
            &[
                ("chain", "prerouting"),
                ("action", "mark-connection"),
                ("new-connection-mark", &format!("ttl-{t}")),
                ("ttl", &format!("equal:{t}")),
                // Subscriber sessions only, not the router's uplink.
                ("in-interface-list", "dynamic"),
                ("passthrough", "no"),
            ],
        );
    }
    net.advance(Duration::from_secs(901));
    let mut c = connect(nas.api_addr()).await;
    c.login("admin", "admin").await;
    let m = marks(&mut c).await;
    for t in ttls {
        let want: usize = nas
            .subscribers()
            .iter()
            .map(|s| s.slots.iter().filter(|x| x.seen_ttl == t).count())
            .sum();
        assert_eq!(
            m.get(&format!("ttl-{t}")).copied().unwrap_or(0),
            want,
            "ttl {t}"
        );
    }
    net.shutdown().await;
}

#[tokio::test]
async fn all_ppp_also_matches_the_routers_own_uplink_but_the_dynamic_list_does_not() {
    let net = start(PopulationSpec::demo()).await;
    let nas = &net.nas()[0];
    let subscriber_addresses: BTreeSet<String> = nas
        .subscribers()
        .iter()
        .map(|s| s.address.to_string())
        .collect();
    for (list, side) in [("sg-all-ppp", "all-ppp"), ("sg-dynamic", "dynamic")] {
        let key = if side == "all-ppp" {
            "in-interface"
        } else {
            "in-interface-list"
        };
        for t in [58u8, 59, 61, 123, 124, 250] {
            nas.add_rule(
                "mangle",
                &[
                    ("chain", "prerouting"),
                    (key, side),
                    ("connection-state", "new"),
                    ("ttl", &format!("equal:{t}")),
                    ("action", "add-src-to-address-list"),
                    ("address-list", list),
                    ("address-list-timeout", "1d"),
                ],
            );
        }
    }
    net.advance(Duration::from_secs(901));
    let mut c = connect(nas.api_addr()).await;
    c.login("admin", "admin").await;
    let outside = |entries: Vec<(String, String, String)>| {
        entries
            .into_iter()
            .filter(|(a, _, _)| !subscriber_addresses.contains(a))
            .count()
    };
    assert!(
        outside(dynamic_entries(&mut c, "sg-all-ppp").await) > 0,
        "the uplink's sources are listed"
    );
    assert_eq!(outside(dynamic_entries(&mut c, "sg-dynamic").await), 0);
    net.shutdown().await;
}
