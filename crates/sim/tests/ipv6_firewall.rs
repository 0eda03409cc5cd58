//! `/ipv6 firewall` mangle, filter and address lists: hop-limit matchers
//! mark and list IPv6 connections, a drop rule on a delegated prefix stops
//! them the way IPv4 bans do, a per-/64 connection limit caps them, and the
//! menus refuse what RouterOS refuses.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use common::*;
use routeros_proto::ReplyKind;
use shareguard_sim::{PopulationSpec, RouterModel, SimNas};

const SESSIONS: &str = "dynamic";

async fn add(
    c: &mut Client<tokio::net::TcpStream>,
    menu: &str,
    attrs: &[(&str, &str)],
) -> Vec<routeros_proto::Reply> {
    let mut words = vec![format!("{menu}/add")];
    words.extend(attrs.iter().map(|(k, v)| format!("={k}={v}")));
    c.call(&words.iter().map(String::as_str).collect::<Vec<_>>())
        .await
}

/// (dual-stack subscriber, its IPv6 connections with the household TTL
/// `ttl`) for every dual-stack subscriber of `nas` with such connections.
fn hop_limit_holders(nas: &SimNas, ttl: u8) -> HashMap<String, usize> {
    let mut out = HashMap::new();
    for s in nas.subscribers() {
        if !nas.is_dual_stack(&s.name) {
            continue;
        }
        let n = s
            .slots
            .iter()
            .enumerate()
            .filter(|(k, slot)| shareguard_sim::ipv6::is_v6(true, *k, slot) && slot.seen_ttl == ttl)
            .count();
        if n > 0 {
            out.insert(s.name.clone(), n);
        }
    }
    out
}

#[tokio::test]
async fn hop_limit_rules_mark_and_list_ipv6_connections_started_after_them() {
    let net = start(PopulationSpec::demo()).await;
    let nas = &net.nas()[0];
    let mut c = connect(nas.api_addr()).await;
    c.login("admin", "admin").await;

    // IPv6 has no `ttl`; its matcher is `hop-limit`.
    let r = add(
        &mut c,
        "/ipv6/firewall/mangle",
        &[
            ("chain", "prerouting"),
            ("ttl", "equal:63"),
            ("action", "passthrough"),
        ],
    )
    .await;
    assert_eq!(r[0].kind(), ReplyKind::Trap);
    assert_eq!(r[0].message().as_deref(), Some("unknown parameter ttl"));
    let r = add(
        &mut c,
        "/ipv6/firewall/mangle",
        &[("chain", "prerouting"), ("hop-limit", "about:63")],
    )
    .await;
    assert_eq!(
        r[0].message().as_deref(),
        Some("invalid value for argument hop-limit: about:63")
    );

    // FastTrack's builtin counter rule leads IPv6 mangle too.
    let r = c.call(&["/ipv6/firewall/mangle/print"]).await;
    let first = rows(&r)[0];
    assert_eq!(get(first, "dynamic"), "true");
    let builtin = get(first, ".id");
    let r = add(
        &mut c,
        "/ipv6/firewall/mangle",
        &[
            ("chain", "prerouting"),
            ("action", "passthrough"),
            ("place-before", &builtin),
        ],
    )
    .await;
    assert_eq!(r[0].kind(), ReplyKind::Trap);

    for (ttl, action) in [
        ("63", "mark-connection"),
        ("127", "add-src-to-address-list"),
    ] {
        let label = format!("sg-ttl-{ttl}");
        let hop = format!("equal:{ttl}");
        let mut attrs = vec![
            ("chain", "prerouting"),
            ("in-interface-list", SESSIONS),
            ("connection-state", "new"),
            ("hop-limit", hop.as_str()),
            ("action", action),
        ];
        if action == "mark-connection" {
            attrs.push(("new-connection-mark", &label));
            attrs.push(("passthrough", "yes"));
        } else {
            attrs.push(("address-list", &label));
            attrs.push(("address-list-timeout", "1d"));
        }
        let r = add(&mut c, "/ipv6/firewall/mangle", &attrs).await;
        assert_eq!(r[0].kind(), ReplyKind::Done, "{r:?}");
    }
    let marked = |r: &[routeros_proto::Reply]| {
        rows(r)
            .iter()
            .filter(|row| get(row, "connection-mark") == "sg-ttl-63")
            .count()
    };
    let print = [
        "/ipv6/firewall/connection/print",
        "=.proplist=src-address,connection-mark",
    ];
    let r = c.call(&print).await;
    assert_eq!(
        marked(&r),
        0,
        "connections older than the rule are not marked"
    );

    net.advance(Duration::from_secs(24 * 3600));
    let want63: usize = hop_limit_holders(nas, 63).values().sum();
    assert!(want63 > 0);
    let r = c.call(&print).await;
    assert_eq!(marked(&r), want63);

    let r = c
        .call(&["/ipv6/firewall/address-list/print", "?list=sg-ttl-127"])
        .await;
    let entries = rows(&r);
    let holders = hop_limit_holders(nas, 127);
    let want127: usize = holders.values().sum();
    assert!(want127 > 0);
    assert_eq!(entries.len(), want127, "one entry per device address");
    for e in &entries {
        let address = get(e, "address");
        assert!(address.ends_with("/128"), "{address}");
        assert_eq!(get(e, "dynamic"), "true");
        assert!(!get(e, "creation-time").is_empty());
        assert!(!get(e, "timeout").is_empty());
    }
    // The IPv4 lists know nothing of them.
    let r = c
        .call(&["/ip/firewall/address-list/print", "?list=sg-ttl-127"])
        .await;
    assert!(rows(&r).iter().all(|e| !get(e, "address").contains(':')));
    net.shutdown().await;
}

#[tokio::test]
async fn a_prefix_ban_stops_ipv6_once_reached_and_a_per_prefix_limit_caps_it() {
    let net = start(PopulationSpec::demo()).await;
    let nas = &net.nas()[0];
    let mut c = connect(nas.api_addr()).await;
    c.login("admin", "admin").await;
    let (name, _) = nas
        .subscribers()
        .iter()
        .map(|s| (s.name.clone(), nas.ipv6_slots(&s.name)))
        .find(|(_, n)| *n >= 2)
        .expect("a dual-stack household with two IPv6 connections");
    let prefix = nas.delegated_prefix(&name).unwrap();
    let own = |r: &[routeros_proto::Reply]| -> Vec<String> {
        let in_prefix = |src: String| {
            let a = src.trim_start_matches('[');
            let a = a.split_once(']').map_or(a, |(a, _)| a);
            a.parse::<std::net::Ipv6Addr>()
                .is_ok_and(|a| a.segments()[..4] == prefix.segments()[..4])
        };
        rows(r)
            .iter()
            .filter(|row| in_prefix(get(row, "src-address")))
            .map(|row| get(row, ".id"))
            .collect()
    };
    let print = ["/ipv6/firewall/connection/print"];
    let before = own(&c.call(&print).await);
    assert_eq!(before.len(), nas.ipv6_slots(&name));

    // An IPv6 list refuses IPv4 addresses.
    let r = add(
        &mut c,
        "/ipv6/firewall/address-list",
        &[("list", "sg-banned"), ("address", "10.1.0.5")],
    )
    .await;
    assert_eq!(
        r[0].message().as_deref(),
        Some("invalid value for argument address: 10.1.0.5")
    );

    let r = add(
        &mut c,
        "/ipv6/firewall/address-list",
        &[
            ("list", "sg-banned"),
            ("address", &format!("{prefix}/64")),
            ("timeout", "30m"),
        ],
    )
    .await;
    assert_eq!(r[0].kind(), ReplyKind::Done);
    // A drop rule below FastTrack and accept-established is never reached.
    let r = add(
        &mut c,
        "/ipv6/firewall/filter",
        &[
            ("chain", "forward"),
            ("src-address-list", "sg-banned"),
            ("action", "drop"),
        ],
    )
    .await;
    let low = get(&r[0], "ret");
    assert_eq!(own(&c.call(&print).await).len(), before.len());
    c.call(&["/ipv6/firewall/filter/remove", &format!("=.id={low}")])
        .await;

    // Right after the builtin rule it is reached, but fast-tracked
    // connections skip it until they are removed from the table.
    let r = c.call(&["/ipv6/firewall/filter/print"]).await;
    let first_static = rows(&r)
        .iter()
        .find(|row| get(row, "dynamic") != "true")
        .map(|row| get(row, ".id"))
        .unwrap();
    let r = add(
        &mut c,
        "/ipv6/firewall/filter",
        &[
            ("chain", "forward"),
            ("src-address-list", "sg-banned"),
            ("action", "drop"),
            ("place-before", &first_static),
        ],
    )
    .await;
    assert_eq!(r[0].kind(), ReplyKind::Done, "{r:?}");
    assert_eq!(own(&c.call(&print).await).len(), before.len());
    let r = c
        .call(&[
            "/ipv6/firewall/connection/remove",
            &format!("=.id={}", before.join(",")),
        ])
        .await;
    assert_eq!(r[0].kind(), ReplyKind::Done, "{r:?}");
    assert!(
        own(&c.call(&print).await).is_empty(),
        "the ban now stops them"
    );
    assert!(nas.ipv6_connection_count() > 0, "others keep theirs");

    // Off the list, the household's IPv6 is back; a per-/64 cap of one
    // connection leaves it one.
    let r = c
        .call(&["/ipv6/firewall/address-list/print", "?list=sg-banned"])
        .await;
    let id = get(rows(&r)[0], ".id");
    c.call(&["/ipv6/firewall/address-list/remove", &format!("=.id={id}")])
        .await;
    assert_eq!(own(&c.call(&print).await).len(), before.len());
    add(
        &mut c,
        "/ipv6/firewall/address-list",
        &[("list", "sg-limited"), ("address", &format!("{prefix}/64"))],
    )
    .await;
    let r = add(
        &mut c,
        "/ipv6/firewall/filter",
        &[
            ("chain", "forward"),
            ("src-address-list", "sg-limited"),
            ("connection-limit", "1,64"),
            ("action", "drop"),
        ],
    )
    .await;
    assert_eq!(r[0].kind(), ReplyKind::Done, "{r:?}");
    assert_eq!(own(&c.call(&print).await).len(), 1);
    net.shutdown().await;
}

#[tokio::test]
async fn without_the_ipv6_package_the_ipv6_firewall_does_not_exist() {
    let net = start_with(PopulationSpec::demo(), RouterModel::lenient()).await;
    let mut c = connect(net.nas()[0].api_addr()).await;
    c.login("admin", "admin").await;
    for menu in ["mangle", "filter", "address-list"] {
        let r = c.call(&[&format!("/ipv6/firewall/{menu}/print")]).await;
        assert_eq!(r[0].message().as_deref(), Some("no such command prefix"));
    }
    net.shutdown().await;
}

#[tokio::test]
async fn a_redial_brings_another_prefix_unless_the_router_keeps_it() {
    for moves in [true, false] {
        let net = start_with(
            PopulationSpec::demo(),
            RouterModel {
                prefix_moves_on_redial: moves,
                ..RouterModel::default()
            },
        )
        .await;
        let nas = &net.nas()[0];
        let name = nas
            .subscribers()
            .iter()
            .find(|s| nas.is_dual_stack(&s.name))
            .unwrap()
            .name
            .clone();
        let before = nas.delegated_prefix(&name).unwrap();
        net.advance(Duration::from_secs(1));
        nas.redial(&name).unwrap();
        let after = nas.delegated_prefix(&name).unwrap();
        assert_eq!(before != after, moves, "{before} -> {after}");
        let mut c = connect(nas.api_addr()).await;
        c.login("admin", "admin").await;
        let r = c
            .call(&["/ipv6/route/print", &format!("?gateway=<pppoe-{name}>")])
            .await;
        assert_eq!(get(rows(&r)[0], "dst-address"), format!("{after}/64"));
        net.shutdown().await;
    }
}
