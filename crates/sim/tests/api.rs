mod common;

use common::*;
use routeros_proto::ReplyKind;
use shareguard_sim::{Access, PopulationSpec, RouterModel, SimConfig, SimNetwork};

#[tokio::test]
async fn login_wrong_password_and_not_logged_in() {
    let net = start(PopulationSpec::demo()).await;
    let mut c = connect(net.nas()[0].api_addr()).await;

    let r = c.call(&["/system/identity/print"]).await;
    assert_eq!(kinds(&r), vec![ReplyKind::Trap, ReplyKind::Done]);
    assert_eq!(r[0].message().as_deref(), Some("not logged in"));

    let r = c.login("admin", "wrong").await;
    assert_eq!(kinds(&r), vec![ReplyKind::Trap, ReplyKind::Done]);
    assert_eq!(
        r[0].message().as_deref(),
        Some("invalid user name or password (6)")
    );

    // The socket stays usable after a failed login.
    let r = c.login("admin", "admin").await;
    assert_eq!(kinds(&r), vec![ReplyKind::Done]);

    let r = c.call(&["/system/identity/print"]).await;
    assert_eq!(get(&r[0], "name"), "nas-01");
    let r = c.call(&["/system/resource/print"]).await;
    assert_eq!(get(&r[0], "version"), "7.18.2 (stable)");
    assert_eq!(get(&r[0], "board-name"), "CCR2004-1G-12S+2XS");
    assert!(!get(&r[0], "uptime").is_empty());
    assert!(!get(&r[0], "cpu-load").is_empty());
    assert_eq!(get(&r[0], "architecture-name"), "arm64");
    net.shutdown().await;
}

#[tokio::test]
async fn unknown_paths_bad_words_and_quit() {
    let net = start(PopulationSpec::demo()).await;
    let mut c = connect(net.nas()[0].api_addr()).await;
    c.login("admin", "admin").await;

    let r = c.call(&["/no/such/menu/print"]).await;
    assert_eq!(kinds(&r), vec![ReplyKind::Trap, ReplyKind::Done]);
    assert_eq!(r[0].message().as_deref(), Some("no such command prefix"));

    let r = c.call(&["/ip/firewall/connection/frobnicate"]).await;
    assert_eq!(r[0].message().as_deref(), Some("no such command"));

    let r = c.call(&["not-a-path", ".tag=4"]).await;
    assert_eq!(r[0].kind(), ReplyKind::Trap);
    assert_eq!(r[0].tag(), Some(&b"4"[..]));

    let r = c.call(&["/ip/firewall/mangle/print", "junk-word"]).await;
    assert_eq!(r[0].kind(), ReplyKind::Trap);

    let r = c.call(&["/ip/firewall/mangle/print", "?#|"]).await;
    assert_eq!(r[0].kind(), ReplyKind::Trap);

    let r = c.call(&["/quit"]).await;
    assert_eq!(r[0].kind(), ReplyKind::Fatal);
    assert_eq!(
        r[0].message().as_deref(),
        Some("session terminated on request")
    );
    assert!(c.is_closed().await);
    net.shutdown().await;
}

#[tokio::test]
async fn invalid_framing_gets_fatal_not_a_crash() {
    let net = start(PopulationSpec::demo()).await;
    let mut c = connect(net.nas()[0].api_addr()).await;
    c.send_raw(&[0xF9, 0x00, 0x01]).await;
    let r = c.collect().await;
    assert_eq!(r[0].kind(), ReplyKind::Fatal);
    assert!(c.is_closed().await);
    // The NAS still serves new clients.
    let mut c = connect(net.nas()[0].api_addr()).await;
    assert_eq!(
        kinds(&c.login("admin", "admin").await),
        vec![ReplyKind::Done]
    );
    net.shutdown().await;
}

#[tokio::test]
async fn sessions_interfaces_proplist_queries_and_count_only() {
    let net = start(PopulationSpec::demo()).await;
    let nas = &net.nas()[0];
    assert_eq!(nas.access(), Access::Pppoe);
    let subs = nas.subscribers();
    let mut c = connect(nas.api_addr()).await;
    c.login("admin", "admin").await;

    let r = c.call(&["/ppp/active/print"]).await;
    let active = rows(&r);
    assert_eq!(active.len(), subs.len());
    let first = active[0];
    assert_eq!(get(first, "name"), subs[0].name);
    assert_eq!(get(first, "service"), "pppoe");
    assert_eq!(get(first, "caller-id"), subs[0].mac);
    assert_eq!(get(first, "address"), subs[0].address.to_string());
    assert_eq!(
        get(first, "session-id"),
        format!("0x{}", subs[0].session_id)
    );
    assert_eq!(get(first, "radius"), "true");
    assert_eq!(first.get("encoding"), Some(&b""[..]));
    assert!(get(first, ".id").starts_with('*'));

    // Proplist: only the named fields, in that order; unknown ones omitted.
    let r = c
        .call(&["/ppp/active/print", "=.proplist=address,name,nonexistent"])
        .await;
    let attrs: Vec<String> = rows(&r)[0]
        .attributes()
        .map(|(k, _)| String::from_utf8_lossy(k).into_owned())
        .collect();
    assert_eq!(attrs, vec!["address", "name"]);

    // Queries: OR of two names.
    let q1 = format!("?name={}", subs[1].name);
    let q2 = format!("?name={}", subs[5].name);
    let r = c.call(&["/ppp/active/print", &q1, &q2, "?#|"]).await;
    let names: Vec<String> = rows(&r).iter().map(|x| get(x, "name")).collect();
    assert_eq!(names, vec![subs[1].name.clone(), subs[5].name.clone()]);
    // Implicit AND.
    let r = c.call(&["/ppp/active/print", &q1, &q2]).await;
    assert_eq!(kinds(&r), vec![ReplyKind::Empty, ReplyKind::Done]);
    // Negation.
    let r = c
        .call(&["/ppp/active/print", "=count-only=", &q1, "?#!"])
        .await;
    assert_eq!(r.len(), 1);
    assert_eq!(get(&r[0], "ret"), (subs.len() - 1).to_string());
    // Has / lacks.
    let r = c
        .call(&["/ppp/active/print", "=count-only=", "?caller-id"])
        .await;
    assert_eq!(get(&r[0], "ret"), subs.len().to_string());
    let r = c
        .call(&["/ppp/active/print", "=count-only=", "?-caller-id"])
        .await;
    assert_eq!(get(&r[0], "ret"), "0");
    // Numeric comparison on connection rows' neighbours: interfaces' mtu.
    let r = c.call(&["/interface/print", "?>mtu=1490"]).await;
    let names: Vec<String> = rows(&r).iter().map(|x| get(x, "name")).collect();
    assert_eq!(names, vec!["ether1", "ether2"]);
    let r = c
        .call(&["/interface/print", "=count-only=", "?type=pppoe-in"])
        .await;
    assert_eq!(get(&r[0], "ret"), subs.len().to_string());
    let pppoe_if = format!("<pppoe-{}>", subs[0].name);
    let r = c
        .call(&["/interface/print", &format!("?name={pppoe_if}")])
        .await;
    assert_eq!(get(rows(&r)[0], "dynamic"), "true");

    // Removing a session takes the subscriber offline and its connections away.
    let before = nas.connection_count();
    let id = get(first, ".id");
    let r = c.call(&["/ppp/active/remove", &format!("=.id={id}")]).await;
    assert_eq!(kinds(&r), vec![ReplyKind::Done]);
    assert!(!nas.is_online(&subs[0].name));
    assert_eq!(nas.connection_count(), before - subs[0].slots.len());
    let r = c
        .call(&["/ip/firewall/connection/print", "=count-only="])
        .await;
    assert_eq!(get(&r[0], "ret"), nas.connection_count().to_string());
    let r = c.call(&["/ppp/active/remove", &format!("=.id={id}")]).await;
    assert_eq!(r[0].kind(), ReplyKind::Trap);
    assert_eq!(r[0].message().as_deref(), Some("no such item"));
    // Hotspot menus are empty on a PPPoE NAS.
    let r = c.call(&["/ip/hotspot/active/print"]).await;
    assert_eq!(kinds(&r), vec![ReplyKind::Empty, ReplyKind::Done]);
    net.shutdown().await;
}

#[tokio::test]
async fn hotspot_nas_serves_hotspot_menus() {
    let net = start(PopulationSpec::demo()).await;
    let nas = &net.nas()[2];
    assert_eq!(nas.access(), Access::Hotspot);
    let subs = nas.subscribers();
    let mut c = connect(nas.api_addr()).await;
    c.login("admin", "admin").await;
    let r = c.call(&["/ip/hotspot/print"]).await;
    let server = rows(&r)[0];
    assert_eq!(get(server, "name"), "hotspot1");
    assert_eq!(get(server, "interface"), "bridge-hotspot");
    assert_eq!(get(server, "address-pool"), "hs-pool");
    let r = c.call(&["/ip/hotspot/active/print"]).await;
    let active = rows(&r);
    assert_eq!(active.len(), subs.len());
    assert_eq!(get(active[0], "user"), subs[0].name);
    assert_eq!(get(active[0], "mac-address"), subs[0].mac);
    assert_eq!(get(active[0], "login-by"), "http-chap");
    assert_eq!(get(active[0], "server"), "hotspot1");
    assert_eq!(get(active[0], "idle-time"), "0s");
    let r = c.call(&["/ppp/active/print"]).await;
    assert_eq!(kinds(&r), vec![ReplyKind::Empty, ReplyKind::Done]);
    let r = c.call(&["/interface/print", "=.proplist=name"]).await;
    let names: Vec<String> = rows(&r).iter().map(|x| get(x, "name")).collect();
    assert_eq!(names, vec!["ether1", "bridge-hotspot", "pppoe-out1"]);
    let id = get(active[3], ".id");
    let r = c
        .call(&["/ip/hotspot/active/remove", &format!("=.id={id}")])
        .await;
    assert_eq!(kinds(&r), vec![ReplyKind::Done]);
    assert!(!nas.is_online(&subs[3].name));
    net.shutdown().await;
}

#[tokio::test]
async fn empty_reply_depends_on_version() {
    for (version, expect) in [
        ("7.18.2", vec![ReplyKind::Empty, ReplyKind::Done]),
        ("7.16.2", vec![ReplyKind::Done]),
    ] {
        let net = SimNetwork::start(SimConfig {
            ros_version: version.into(),
            // No FastTrack: the mangle table starts empty.
            router: RouterModel::lenient(),
            ..frozen(PopulationSpec::demo())
        })
        .await
        .unwrap();
        let mut c = connect(net.nas()[0].api_addr()).await;
        c.login("admin", "admin").await;
        let r = c.call(&["/ip/firewall/mangle/print"]).await;
        assert_eq!(kinds(&r), expect, "{version}");
        let r = c
            .call(&["/ip/firewall/connection/print", "?protocol=sctp"])
            .await;
        assert_eq!(kinds(&r), expect, "{version}");
        let r = c.call(&["/system/resource/print"]).await;
        assert_eq!(get(&r[0], "version"), format!("{version} (stable)"));
        net.shutdown().await;
    }
}

#[tokio::test]
async fn tags_are_echoed_on_every_reply() {
    let net = start_with(PopulationSpec::demo(), RouterModel::lenient()).await;
    // Empty tables, as on a router without FastTrack.
    let mut c = connect(net.nas()[0].api_addr()).await;
    let r = c
        .call(&["/login", "=name=admin", "=password=admin", ".tag=l"])
        .await;
    assert_eq!(r[0].tag(), Some(&b"l"[..]));
    // Two tagged commands sent back to back are both answered, in order.
    c.send(&["/ppp/active/print", "=.proplist=name", ".tag=a"])
        .await;
    c.send(&["/ip/firewall/mangle/print", ".tag=b"]).await;
    let a = c.collect().await;
    assert!(a.len() > 2);
    assert!(a.iter().all(|x| x.tag() == Some(&b"a"[..])));
    let b = c.collect().await;
    assert_eq!(kinds(&b), vec![ReplyKind::Empty, ReplyKind::Done]);
    assert!(b.iter().all(|x| x.tag() == Some(&b"b"[..])));
    let r = c.call(&["/nope/print", ".tag=x"]).await;
    assert!(r.iter().all(|x| x.tag() == Some(&b"x"[..])));
    net.shutdown().await;
}

#[tokio::test]
async fn cancel_stops_a_running_print() {
    let spec = PopulationSpec {
        subscribers: 200,
        nas: vec![shareguard_sim::NasSpec {
            name: "big".into(),
            access: Access::Pppoe,
        }],
        ..PopulationSpec::demo()
    }
    .with_target_connections(60_000);
    let net = start(spec).await;
    let mut c = connect(net.nas()[0].api_addr()).await;
    c.login("admin", "admin").await;
    c.send(&["/ip/firewall/connection/print", ".tag=7"]).await;
    // Read a few rows so the print is known to be running, then cancel.
    for _ in 0..3 {
        let r = c.reply().await.unwrap();
        assert_eq!(r.kind(), ReplyKind::Re);
    }
    c.send(&["/cancel", "=tag=7", ".tag=8"]).await;
    let mut rows_after = 0;
    let mut ends = Vec::new();
    while ends.len() < 3 {
        let r = c.reply().await.unwrap();
        match r.kind() {
            ReplyKind::Re => rows_after += 1,
            _ => ends.push(r),
        }
    }
    assert!(rows_after + 3 < 60_000, "the print was cut short");
    assert_eq!(ends[0].kind(), ReplyKind::Trap);
    assert_eq!(ends[0].tag(), Some(&b"7"[..]));
    assert_eq!(ends[0].category(), Some(2));
    assert_eq!(ends[0].message().as_deref(), Some("interrupted"));
    assert_eq!(ends[1].kind(), ReplyKind::Done);
    assert_eq!(ends[1].tag(), Some(&b"7"[..]));
    assert_eq!(ends[2].kind(), ReplyKind::Done);
    assert_eq!(ends[2].tag(), Some(&b"8"[..]));
    // The connection is still usable.
    let r = c.call(&["/system/identity/print"]).await;
    assert_eq!(get(&r[0], "name"), "big");
    net.shutdown().await;
}

#[tokio::test]
async fn stored_tables_add_set_remove_and_place_before() {
    let net = start_with(PopulationSpec::demo(), RouterModel::lenient()).await;
    // Empty tables, as on a router without FastTrack.
    let nas = &net.nas()[0];
    let mut c = connect(nas.api_addr()).await;
    c.login("admin", "admin").await;
    let add = |chain: &'static str, comment: &'static str| {
        vec![
            "/ip/firewall/mangle/add".to_string(),
            format!("=chain={chain}"),
            "=action=mark-connection".to_string(),
            "=new-connection-mark=x".to_string(),
            format!("=comment={comment}"),
        ]
    };
    let words = add("prerouting", "first");
    let r = c
        .call(&words.iter().map(String::as_str).collect::<Vec<_>>())
        .await;
    let first = get(&r[0], "ret");
    assert!(first.starts_with('*'));
    let words = add("prerouting", "second");
    let r = c
        .call(&words.iter().map(String::as_str).collect::<Vec<_>>())
        .await;
    let second = get(&r[0], "ret");
    let mut words = add("prerouting", "inserted");
    words.push(format!("=place-before={first}"));
    let r = c
        .call(&words.iter().map(String::as_str).collect::<Vec<_>>())
        .await;
    let inserted = get(&r[0], "ret");

    let r = c.call(&["/ip/firewall/mangle/print"]).await;
    let ids: Vec<String> = rows(&r).iter().map(|x| get(x, ".id")).collect();
    assert_eq!(ids, vec![inserted.clone(), first.clone(), second.clone()]);
    assert_eq!(get(rows(&r)[0], "disabled"), "false");
    assert_eq!(get(rows(&r)[0], "dynamic"), "false");
    assert_eq!(get(rows(&r)[0], "invalid"), "false");

    let r = c
        .call(&[
            "/ip/firewall/mangle/set",
            &format!("=.id={first}"),
            "=comment=changed",
            "=disabled=yes",
        ])
        .await;
    assert_eq!(kinds(&r), vec![ReplyKind::Done]);
    let rules = nas.rules("mangle");
    assert_eq!(rules[1]["comment"], "changed");
    assert_eq!(rules[1]["disabled"], "true");

    let r = c
        .call(&[
            "/ip/firewall/mangle/remove",
            &format!("=.id={inserted},{second}"),
        ])
        .await;
    assert_eq!(kinds(&r), vec![ReplyKind::Done]);
    assert_eq!(nas.rules("mangle").len(), 1);
    let r = c
        .call(&["/ip/firewall/mangle/remove", &format!("=.id={second}")])
        .await;
    assert_eq!(r[0].kind(), ReplyKind::Trap);

    // Refused values and missing arguments are traps, not crashes.
    let r = c
        .call(&["/ip/firewall/mangle/add", "=chain=prerouting", "=ttl=sixty"])
        .await;
    assert_eq!(r[0].kind(), ReplyKind::Trap);
    let r = c.call(&["/ip/firewall/mangle/add", "=action=accept"]).await;
    assert_eq!(r[0].kind(), ReplyKind::Trap);
    let r = c
        .call(&[
            "/ip/firewall/mangle/add",
            "=chain=prerouting",
            "=place-before=*FFFF",
        ])
        .await;
    assert_eq!(r[0].kind(), ReplyKind::Trap);
    let r = c
        .call(&["/ip/firewall/mangle/set", "=.id=bogus", "=comment=x"])
        .await;
    assert_eq!(r[0].kind(), ReplyKind::Trap);

    // Filter, address-list and simple queues are stored the same way.
    let r = c
        .call(&[
            "/ip/firewall/filter/add",
            "=chain=forward",
            "=action=fasttrack-connection",
            "=connection-state=established,related",
        ])
        .await;
    assert_eq!(r[0].kind(), ReplyKind::Done);
    let r = c
        .call(&[
            "/ip/firewall/address-list/add",
            "=list=blocked",
            "=address=10.1.0.9",
        ])
        .await;
    let static_id = get(&r[0], "ret");
    let r = c
        .call(&[
            "/ip/firewall/address-list/add",
            "=list=blocked",
            "=address=10.1.0.9",
        ])
        .await;
    assert_eq!(r[0].kind(), ReplyKind::Trap);
    let r = c.call(&["/ip/firewall/address-list/print"]).await;
    let entry = rows(&r)[0];
    assert_eq!(get(entry, "list"), "blocked");
    assert_eq!(get(entry, "dynamic"), "false");
    assert!(!get(entry, "creation-time").is_empty());
    let r = c
        .call(&[
            "/ip/firewall/address-list/remove",
            &format!("=.id={static_id}"),
        ])
        .await;
    assert_eq!(kinds(&r), vec![ReplyKind::Done]);
    let r = c
        .call(&[
            "/queue/simple/add",
            "=name=cap",
            "=target=10.1.0.9/32",
            "=max-limit=1M/2M",
        ])
        .await;
    let q = get(&r[0], "ret");
    let r = c
        .call(&[
            "/queue/simple/set",
            &format!("=.id={q}"),
            "=max-limit=2M/4M",
        ])
        .await;
    assert_eq!(kinds(&r), vec![ReplyKind::Done]);
    let r = c.call(&["/queue/simple/print", "?name=cap"]).await;
    assert_eq!(get(rows(&r)[0], "max-limit"), "2M/4M");
    assert_eq!(nas.rules("filter").len(), 1);
    assert_eq!(nas.rules("queue").len(), 1);
    net.shutdown().await;
}

#[tokio::test]
async fn connection_rows_have_router_fields() {
    let net = start(PopulationSpec::demo()).await;
    let nas = &net.nas()[0];
    let mut c = connect(nas.api_addr()).await;
    c.login("admin", "admin").await;
    let r = c.call(&["/ip/firewall/connection/print"]).await;
    let rows = rows(&r);
    assert_eq!(rows.len(), nas.connection_count());
    let tcp = rows.iter().find(|r| get(r, "protocol") == "tcp").unwrap();
    let keys: Vec<String> = tcp
        .attributes()
        .map(|(k, _)| String::from_utf8_lossy(k).into_owned())
        .collect();
    assert_eq!(
        keys,
        vec![
            ".id",
            "protocol",
            "src-address",
            "dst-address",
            "reply-src-address",
            "reply-dst-address",
            "tcp-state",
            "timeout",
            "orig-bytes",
            "repl-bytes"
        ]
    );
    assert_eq!(get(tcp, "tcp-state"), "established");
    assert!(get(tcp, "timeout").starts_with("23h59m"));
    assert_eq!(get(tcp, "reply-src-address"), get(tcp, "dst-address"));
    let udp = rows.iter().find(|r| get(r, "protocol") == "udp").unwrap();
    assert!(udp.get("tcp-state").is_none());
    assert!(get(udp, "timeout").starts_with("2m") || get(udp, "timeout") == "3m");
    // Ids are unique.
    let ids: std::collections::HashSet<String> = rows.iter().map(|r| get(r, ".id")).collect();
    assert_eq!(ids.len(), rows.len());
    // Addresses belong to this NAS's subscribers.
    let src = get(tcp, "src-address");
    let ip = src.split(':').next().unwrap();
    assert!(nas
        .subscribers()
        .iter()
        .any(|s| s.address.to_string() == ip));
    // Queries work on generated rows too.
    let q = format!("?src-address={src}");
    let r = c
        .call(&["/ip/firewall/connection/print", "=count-only=", &q])
        .await;
    assert_eq!(get(&r[0], "ret"), "1");
    let r = c
        .call(&[
            "/ip/firewall/connection/print",
            "=count-only=",
            "?protocol=tcp",
            "?protocol=udp",
            "?#|",
            "?protocol=icmp",
            "?#|",
            "?protocol=gre",
            "?#|",
        ])
        .await;
    assert_eq!(get(&r[0], "ret"), nas.connection_count().to_string());
    // Pings and PPTP tunnels carry addresses without ports.
    for proto in ["icmp", "gre"] {
        let r = c
            .call(&[
                "/ip/firewall/connection/print",
                &format!("?protocol={proto}"),
            ])
            .await;
        let portless = common::rows(&r);
        assert!(!portless.is_empty(), "{proto}");
        assert!(portless
            .iter()
            .all(|r| !get(r, "src-address").contains(':') && !get(r, "dst-address").contains(':')));
    }
    net.shutdown().await;
}

#[tokio::test]
async fn odd_requests_get_traps_and_the_session_survives() {
    let net = start(PopulationSpec::demo()).await;
    let mut c = connect(net.nas()[0].api_addr()).await;
    c.login("admin", "admin").await;
    // (An empty sentence is ignored without a reply, like a keep-alive.)
    c.send(&[]).await;
    let odd: &[&[&str]] = &[
        &["/"],
        &["/ip/firewall/mangle/print", "="],
        &["/ip/firewall/mangle/print", "?"],
        &["/ip/firewall/mangle/print", "?<=x"],
        &["/ip/firewall/mangle/print", "?#9"],
        &["/ip/firewall/mangle/remove"],
        &["/ip/firewall/mangle/remove", "=.id="],
        &["/ip/firewall/mangle/remove", "=.id=*zz"],
        &["/ip/firewall/mangle/set", "=numbers=*99999999999999999999"],
        &[
            "/ip/firewall/mangle/add",
            "=chain=prerouting",
            "=address-list-timeout=forever",
        ],
        &["/ip/firewall/address-list/add", "=list=x"],
        &["/ppp/active/remove", "=.id=*1"],
        &["/ip/hotspot/active/remove", "=.id=*1"],
        &["/ip/firewall/connection/print", "?#&"],
        &["/cancel", "=tag=nothing"],
        &["/login"],
    ];
    for words in odd {
        let r = c.call(words).await;
        let last = r.last().expect("a reply").kind();
        assert_eq!(last, ReplyKind::Done, "{words:?} -> {r:?}");
    }
    // `/login` without arguments failed, but the earlier login still holds.
    let r = c.call(&["/system/identity/print"]).await;
    assert_eq!(get(&r[0], "name"), "nas-01");
    net.shutdown().await;
}

#[tokio::test]
async fn shutdown_closes_client_connections() {
    let net = start(PopulationSpec::demo()).await;
    let addr = net.nas()[0].api_addr();
    let mut c = connect(addr).await;
    c.login("admin", "admin").await;
    net.shutdown().await;
    assert!(c.is_closed().await);
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}

#[tokio::test]
async fn dual_stack_sessions_have_a_delegated_prefix_and_ipv6_connections() {
    for form in [
        shareguard_sim::Ipv6Form::Bracketed,
        shareguard_sim::Ipv6Form::Dotted,
    ] {
        let net = start_with(
            PopulationSpec::demo(),
            RouterModel {
                ipv6: Some(form),
                ..RouterModel::default()
            },
        )
        .await;
        let nas = &net.nas()[0];
        let mut c = connect(nas.api_addr()).await;
        c.login("admin", "admin").await;
        let r = c.call(&["/ipv6/route/print", "?dynamic=true"]).await;
        let routes = common::rows(&r);
        assert!(!routes.is_empty());
        let route = routes[0];
        assert!(
            get(route, "dst-address").starts_with("2001:db8:1:"),
            "{route:?}"
        );
        assert!(get(route, "gateway").starts_with("<pppoe-"));
        let r = c.call(&["/ipv6/firewall/connection/print"]).await;
        let conns = common::rows(&r);
        assert_eq!(conns.len(), nas.ipv6_connection_count());
        assert!(conns.len() > 20, "{}", conns.len());
        let src = get(conns[0], "src-address");
        match form {
            shareguard_sim::Ipv6Form::Bracketed => {
                assert!(src.starts_with("[2001:db8:1:"), "{src}")
            }
            shareguard_sim::Ipv6Form::Dotted => {
                assert!(src.starts_with("2001:db8:1:") && src.contains('.'), "{src}")
            }
        }
        // The IPv4 table no longer holds those connections.
        let r = c
            .call(&["/ip/firewall/connection/print", "=count-only="])
            .await;
        assert_eq!(get(&r[0], "ret"), nas.connection_count().to_string());
        net.shutdown().await;
    }
    // A router without the IPv6 package has no /ipv6 menus.
    let net = start_with(PopulationSpec::demo(), RouterModel::lenient()).await;
    let mut c = connect(net.nas()[0].api_addr()).await;
    c.login("admin", "admin").await;
    let r = c.call(&["/ipv6/route/print"]).await;
    assert_eq!(r[0].kind(), ReplyKind::Trap);
    assert_eq!(r[0].message().as_deref(), Some("no such command prefix"));
}
