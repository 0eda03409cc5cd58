//! Injected abuse load, plans and byte counters, rate limits and bans, seen
//! through the RouterOS API (and RADIUS CoA) as an abuse monitor sees them.
//! Time is frozen except for explicit advances, so byte counts are exact.

mod common;

use std::collections::HashSet;
use std::net::Ipv4Addr;
use std::time::Duration;

use common::*;
use radius::core::avp::AVP;
use radius::core::code::Code;
use radius::core::packet::Packet;
use radius::core::rfc2865;
use routeros_proto::ReplyKind;
use shareguard_sim::clock::generation_at;
use shareguard_sim::radius::{MIKROTIK_RATE_LIMIT, MIKROTIK_VENDOR_ID};
use shareguard_sim::{Load, PopulationSpec, RouterModel, SimNas, SimSubscriber};
use tokio::net::{TcpStream, UdpSocket};

const SECRET: &[u8] = b"testing123";

/// Ports a p2p peer must not use: VPN and voice services a detector whitelists.
const KNOWN_SERVICE_PORTS: [u16; 10] = [500, 1194, 1701, 1723, 3478, 3479, 4500, 5060, 5061, 51820];

#[derive(Debug, Clone, PartialEq, Eq)]
struct Conn {
    id: String,
    protocol: String,
    src_port: u16,
    dst_ip: Ipv4Addr,
    dst_port: u16,
}

async fn client(nas: &SimNas) -> Client<TcpStream> {
    let mut c = connect(nas.api_addr()).await;
    c.login("admin", "admin").await;
    c
}

/// `ip:port`, or the address alone (ICMP and GRE rows; port 0).
fn split_sockaddr(s: &str) -> (Ipv4Addr, u16) {
    match s.rsplit_once(':') {
        Some((ip, port)) => (ip.parse().expect("ip"), port.parse().expect("port")),
        None => (s.parse().expect("ip"), 0),
    }
}

/// The connection table rows whose source is `ip`, through the API.
async fn conns_of(c: &mut Client<TcpStream>, ip: Ipv4Addr) -> Vec<Conn> {
    let r = c
        .call(&[
            "/ip/firewall/connection/print",
            "=.proplist=.id,protocol,src-address,dst-address",
        ])
        .await;
    rows(&r)
        .into_iter()
        .filter_map(|row| {
            let (src, src_port) = split_sockaddr(&get(row, "src-address"));
            let (dst_ip, dst_port) = split_sockaddr(&get(row, "dst-address"));
            (src == ip).then(|| Conn {
                id: get(row, ".id"),
                protocol: get(row, "protocol"),
                src_port,
                dst_ip,
                dst_port,
            })
        })
        .collect()
}

async fn count_only(c: &mut Client<TcpStream>) -> usize {
    let r = c
        .call(&["/ip/firewall/connection/print", "=count-only="])
        .await;
    get(&r[0], "ret").parse().expect("count")
}

fn ids(conns: &[Conn]) -> HashSet<String> {
    conns.iter().map(|c| c.id.clone()).collect()
}

fn pair(s: &str) -> (u64, u64) {
    let (a, b) = s.split_once('/').expect("a/b");
    (a.parse().expect("number"), b.parse().expect("number"))
}

/// The session's dynamic queue row as (max-limit, bytes, rate).
async fn queue_of(c: &mut Client<TcpStream>, ip: Ipv4Addr) -> Option<(String, (u64, u64), String)> {
    // A PPPoE session's queue targets its interface, a hotspot session's
    // its address.
    let r = c
        .call(&["/ppp/active/print", &format!("?address={ip}")])
        .await;
    let target = match rows(&r).first() {
        Some(s) => format!("<pppoe-{}>", get(s, "name")),
        None => format!("{ip}/32"),
    };
    let r = c
        .call(&[
            "/queue/simple/print",
            "?dynamic=true",
            &format!("?target={target}"),
        ])
        .await;
    let rows = rows(&r);
    assert!(rows.len() <= 1, "one dynamic queue per session");
    rows.first()
        .map(|q| (get(q, "max-limit"), pair(&get(q, "bytes")), get(q, "rate")))
}

async fn queue_bytes(c: &mut Client<TcpStream>, ip: Ipv4Addr) -> (u64, u64) {
    queue_of(c, ip).await.expect("dynamic queue").1
}

/// The subscriber's connections in the IPv4 table: a dual-stack
/// household runs some of its slots over IPv6.
fn v4_slots(nas: &SimNas, sub: &SimSubscriber) -> usize {
    sub.slots.len() - nas.ipv6_slots(&sub.name)
}

/// Bytes a rate moves in `secs` seconds; reads may differ by one from
/// truncation at the previous read.
fn bytes_in(rate: (u64, u64), secs: u64) -> (u64, u64) {
    (rate.0 * secs / 8, rate.1 * secs / 8)
}

fn assert_grew(before: (u64, u64), after: (u64, u64), want: (u64, u64)) {
    let got = (after.0 - before.0, after.1 - before.1);
    assert!(
        got.0.abs_diff(want.0) <= 1 && got.1.abs_diff(want.1) <= 1,
        "grew by {got:?}, expected {want:?}"
    );
}

fn hog() -> Load {
    Load {
        usage_share: Some(0.95),
        ..Load::default()
    }
}

fn rate_limit_vsa(limit: &str) -> AVP {
    let mut v = MIKROTIK_VENDOR_ID.to_be_bytes().to_vec();
    v.push(MIKROTIK_RATE_LIMIT);
    v.push(2 + limit.len() as u8);
    v.extend_from_slice(limit.as_bytes());
    AVP::from_bytes(26, &v)
}

/// Sends a real CoA-Request to the NAS's RADIUS port; returns the reply code.
async fn coa(nas: &SimNas, ip: Ipv4Addr, limit: &str) -> Code {
    let sock = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let mut p = Packet::new_with_identifier(Code::CoARequest, SECRET, 77);
    rfc2865::add_framed_ip_address(&mut p, &ip);
    p.add(rate_limit_vsa(limit));
    let req = p.encode().unwrap();
    sock.send_to(&req, nas.radius_addr()).await.unwrap();
    let mut buf = vec![0u8; 4096];
    let (n, _) = tokio::time::timeout(SAFETY, sock.recv_from(&mut buf))
        .await
        .expect("reply within the safety limit")
        .unwrap();
    assert!(Packet::is_authentic_response(&buf[..n], &req, SECRET));
    Packet::decode(&buf[..n], SECRET).unwrap().get_code()
}

/// A subscriber whose own slots use no high destination ports, so p2p
/// extra connections can be told apart by port.
fn quiet_subscriber(nas: &SimNas) -> SimSubscriber {
    nas.subscribers()
        .iter()
        .find(|s| s.slots.len() >= 3 && s.slots.iter().all(|x| x.dst.port() < 10_000))
        .expect("a subscriber without high-port slots")
        .clone()
}

#[tokio::test]
async fn extra_connections_appear_with_their_protocol_and_are_replaced() {
    let net = start(PopulationSpec::demo()).await;
    let nas = &net.nas()[0];
    let sub = quiet_subscriber(nas);
    let mut c = client(nas).await;
    let own = conns_of(&mut c, sub.address).await;
    assert_eq!(own.len(), sub.slots.len());
    let total = nas.connection_count();
    assert_eq!(count_only(&mut c).await, total);

    let load = Load {
        extra_connections: 150,
        lifetime_s: 60,
        p2p: true,
        usage_share: None,
    };
    assert!(!nas.set_load("no-such-subscriber", load));
    assert!(!nas.clear_load("no-such-subscriber"));
    assert!(nas.set_load(&sub.name, load));
    assert_eq!(nas.load(&sub.name), Some(load));

    let with = conns_of(&mut c, sub.address).await;
    assert_eq!(with.len(), sub.slots.len() + 150);
    let own_ids = ids(&own);
    let extra: Vec<Conn> = with
        .iter()
        .filter(|x| !own_ids.contains(&x.id))
        .cloned()
        .collect();
    assert_eq!(extra.len(), 150, "the own slots keep their ids");
    for x in &extra {
        assert_eq!(x.protocol, "udp");
        assert!(x.dst_port >= 10_000, "{x:?}");
        assert!(!KNOWN_SERVICE_PORTS.contains(&x.dst_port), "{x:?}");
        assert!(x.src_port >= 10_000, "{x:?}");
        assert!(!x.dst_ip.is_private() && !x.dst_ip.is_loopback(), "{x:?}");
    }
    let peers: HashSet<Ipv4Addr> = extra.iter().map(|x| x.dst_ip).collect();
    assert!(peers.len() > 100, "varied peers: {}", peers.len());
    assert_eq!(nas.connection_count(), total + 150);
    assert_eq!(count_only(&mut c).await, total + 150);

    // Ids are unique across the whole table.
    let r = c
        .call(&["/ip/firewall/connection/print", "=.proplist=.id"])
        .await;
    let all: Vec<String> = rows(&r).iter().map(|x| get(x, ".id")).collect();
    assert_eq!(all.len(), total + 150);
    assert_eq!(all.iter().collect::<HashSet<_>>().len(), all.len());

    // After a lifetime every extra connection has been replaced.
    net.advance(Duration::from_secs(60));
    let later = conns_of(&mut c, sub.address).await;
    assert_eq!(later.len(), sub.slots.len() + 150);
    let later_ids = ids(&later);
    assert!(extra.iter().all(|x| !later_ids.contains(&x.id)));
    assert_eq!(
        later
            .iter()
            .filter(|x| x.protocol == "udp" && x.dst_port >= 10_000)
            .count(),
        150
    );

    // Only the usage share changes: the same connections stay.
    let ids_before = ids(&later);
    assert!(nas.set_load(
        &sub.name,
        Load {
            usage_share: Some(0.5),
            ..load
        }
    ));
    assert_eq!(ids(&conns_of(&mut c, sub.address).await), ids_before);

    // TCP load: port 443 of public servers.
    let other = nas.subscribers()[1].clone();
    let other_own = ids(&conns_of(&mut c, other.address).await);
    assert!(net.set_load(
        &other.name,
        Load {
            extra_connections: 40,
            lifetime_s: 30,
            p2p: false,
            usage_share: None,
        }
    ));
    let tcp = conns_of(&mut c, other.address).await;
    assert_eq!(tcp.len(), other.slots.len() + 40);
    let tcp_extra: Vec<&Conn> = tcp.iter().filter(|x| !other_own.contains(&x.id)).collect();
    assert_eq!(tcp_extra.len(), 40);
    assert!(tcp_extra
        .iter()
        .all(|x| x.protocol == "tcp" && x.dst_port == 443 && x.src_port >= 10_000));

    // Offline subscribers have no connections, extra or not; they come back.
    assert!(nas.disconnect(&sub.name));
    assert!(conns_of(&mut c, sub.address).await.is_empty());
    assert!(nas.reconnect(&sub.name));
    assert_eq!(
        conns_of(&mut c, sub.address).await.len(),
        sub.slots.len() + 150
    );
    assert!(nas.clear_load(&sub.name));
    assert!(net.clear_load(&other.name));
    assert_eq!(nas.load(&sub.name), None);
    assert_eq!(count_only(&mut c).await, total);
    net.shutdown().await;
}

#[tokio::test]
async fn new_connection_rate_is_extra_over_lifetime() {
    let net = start(PopulationSpec::demo()).await;
    let nas = &net.nas()[1];
    let sub = nas.subscribers()[5].clone();
    let mut c = client(nas).await;
    // 300 connections living 100 s: 3 new connections a second.
    assert!(nas.set_load(
        &sub.name,
        Load {
            extra_connections: 300,
            lifetime_s: 100,
            p2p: true,
            usage_share: None,
        }
    ));
    // New ids between two prints, minus the replacements of the own slots
    // (known from the ground truth).
    let mut prev = ids(&conns_of(&mut c, sub.address).await);
    let extra_new = |prev: &HashSet<String>, now: &HashSet<String>, t0: u64, t1: u64| {
        let new = now.difference(prev).count();
        // A dual-stack household's IPv6 slots are not in the IPv4 table.
        let dual = nas.is_dual_stack(&sub.name);
        let own = sub
            .slots
            .iter()
            .enumerate()
            .filter(|(k, s)| !shareguard_sim::ipv6::is_v6(dual, *k, s))
            .filter(|(_, s)| generation_at(s, t0) != generation_at(s, t1))
            .count();
        new - own
    };
    // Spread out: about 3 every second, not a burst per lifetime.
    for _ in 0..5 {
        let t0 = net.now_ms();
        net.advance(Duration::from_secs(1));
        let now = ids(&conns_of(&mut c, sub.address).await);
        let n = extra_new(&prev, &now, t0, net.now_ms());
        assert!(
            (2..=4).contains(&n),
            "{n} new extra connections in one second"
        );
        prev = now;
    }
    let t0 = net.now_ms();
    net.advance(Duration::from_secs(20));
    let now = ids(&conns_of(&mut c, sub.address).await);
    let n = extra_new(&prev, &now, t0, net.now_ms());
    assert!((59..=61).contains(&n), "{n} new extra connections in 20 s");
    assert_eq!(now.len(), v4_slots(nas, &sub) + 300);
    net.shutdown().await;
}

#[tokio::test]
async fn dynamic_queues_show_plan_and_growing_bytes() {
    let net = start(PopulationSpec::demo()).await;
    let nas = &net.nas()[0];
    let subs = nas.subscribers();
    let sub = subs[3].clone();
    let mut c = client(nas).await;
    let r = c
        .call(&["/queue/simple/print", "=count-only=", "?dynamic=true"])
        .await;
    assert_eq!(get(&r[0], "ret"), subs.len().to_string());

    let r = c
        .call(&[
            "/queue/simple/print",
            &format!("?name=<pppoe-{}>", sub.name),
        ])
        .await;
    let q = rows(&r)[0];
    let plan = nas.plan(&sub.name).unwrap();
    assert_eq!(get(q, "target"), format!("<pppoe-{}>", sub.name));
    assert_eq!(get(q, "max-limit"), format!("{}/{}", plan.0, plan.1));
    assert_eq!(get(q, "dynamic"), "true");
    assert_eq!(get(q, "disabled"), "false");
    assert!(get(q, ".id").starts_with('*'));
    // Proplist works on queues too.
    let r = c
        .call(&[
            "/queue/simple/print",
            "=.proplist=name,bytes",
            &format!("?target=<pppoe-{}>", sub.name),
        ])
        .await;
    let attrs: Vec<String> = rows(&r)[0]
        .attributes()
        .map(|(k, _)| String::from_utf8_lossy(k).into_owned())
        .collect();
    assert_eq!(attrs, vec!["name", "bytes"]);

    // Normal use: a modest share of the plan, and bytes that follow it.
    let rate = nas.effective_rate(&sub.name).unwrap();
    assert!(rate.0 > 0 && rate.1 > 0);
    assert!(rate.0 * 100 <= plan.0 * 35 + 100 && rate.1 * 100 <= plan.1 * 35 + 100);
    let b0 = queue_bytes(&mut c, sub.address).await;
    assert_eq!(Some(b0), nas.bytes(&sub.name));
    assert!(b0.1 > 0, "the session has been up a while");
    net.advance(Duration::from_secs(10));
    let b1 = queue_bytes(&mut c, sub.address).await;
    assert_grew(b0, b1, bytes_in(rate, 10));
    let (_, _, shown_rate) = queue_of(&mut c, sub.address).await.unwrap();
    assert_eq!(pair(&shown_rate), rate);

    // A bandwidth hog uses nearly the whole plan.
    assert!(nas.set_load(&sub.name, hog()));
    let hog_rate = nas.effective_rate(&sub.name).unwrap();
    assert_eq!(
        hog_rate,
        (
            (plan.0 as f64 * 0.95).round() as u64,
            (plan.1 as f64 * 0.95).round() as u64
        )
    );
    assert_eq!(
        queue_bytes(&mut c, sub.address).await,
        b1,
        "no jump on change"
    );
    net.advance(Duration::from_secs(10));
    assert_grew(
        b1,
        queue_bytes(&mut c, sub.address).await,
        bytes_in(hog_rate, 10),
    );

    // A new session starts from zero; an offline one has no queue.
    assert!(nas.disconnect(&sub.name));
    assert_eq!(queue_of(&mut c, sub.address).await, None);
    assert!(nas.reconnect(&sub.name));
    assert_eq!(queue_bytes(&mut c, sub.address).await, (0, 0));
    net.advance(Duration::from_secs(4));
    assert_grew(
        (0, 0),
        queue_bytes(&mut c, sub.address).await,
        bytes_in(hog_rate, 4),
    );

    // Hotspot counters come from the same model (bytes-in is the upload).
    let hs = &net.nas()[2];
    let hsub = hs.subscribers()[2].clone();
    let mut h = client(hs).await;
    let r = h
        .call(&["/ip/hotspot/active/print", &format!("?user={}", hsub.name)])
        .await;
    let row = rows(&r)[0];
    let bytes = hs.bytes(&hsub.name).unwrap();
    assert_eq!(get(row, "bytes-in"), bytes.0.to_string());
    assert_eq!(get(row, "bytes-out"), bytes.1.to_string());
    assert_eq!(queue_bytes(&mut h, hsub.address).await, bytes);
    let r = h
        .call(&[
            "/queue/simple/print",
            &format!("?target={}/32", hsub.address),
        ])
        .await;
    assert_eq!(get(rows(&r)[0], "name"), format!("<hotspot-{}>", hsub.name));
    net.shutdown().await;
}

#[tokio::test]
async fn coa_rate_limit_lowers_max_limit_and_growth() {
    let net = start(PopulationSpec::demo()).await;
    let nas = &net.nas()[1];
    let sub = nas.subscribers()[9].clone();
    let mut c = client(nas).await;
    assert!(nas.set_load(&sub.name, hog()));
    let plan = nas.plan(&sub.name).unwrap();
    let full = nas.effective_rate(&sub.name).unwrap();
    let b0 = queue_bytes(&mut c, sub.address).await;
    net.advance(Duration::from_secs(8));
    let b1 = queue_bytes(&mut c, sub.address).await;
    assert_grew(b0, b1, bytes_in(full, 8));

    assert_eq!(coa(nas, sub.address, "1M/2M").await, Code::CoAACK);
    assert_eq!(nas.rate_limit(&sub.name).as_deref(), Some("1M/2M"));
    let (max_limit, b2, _) = queue_of(&mut c, sub.address).await.unwrap();
    assert_eq!(max_limit, "1000000/2000000");
    assert_ne!(max_limit, format!("{}/{}", plan.0, plan.1));
    assert_eq!(b2, b1, "no jump on change");
    assert_eq!(nas.effective_rate(&sub.name), Some((1_000_000, 2_000_000)));
    net.advance(Duration::from_secs(8));
    let b3 = queue_bytes(&mut c, sub.address).await;
    assert_eq!(b3, (b2.0 + 1_000_000, b2.1 + 2_000_000));

    // Only the first rx/tx pair counts; rx is the subscriber's upload.
    assert_eq!(
        coa(nas, sub.address, "512k/4M 1M/8M 256k/2M 10/10").await,
        Code::CoAACK
    );
    let (max_limit, _, rate) = queue_of(&mut c, sub.address).await.unwrap();
    assert_eq!(max_limit, "512000/4000000");
    assert_eq!(rate, "512000/4000000");
    net.shutdown().await;
}

#[tokio::test]
async fn static_queue_on_the_address_caps_growth() {
    // Dynamic queues below the static ones, so a queue at the end is reached.
    let net = start_with(PopulationSpec::demo(), RouterModel::lenient()).await;
    let nas = &net.nas()[0];
    let sub = nas.subscribers()[20].clone();
    let neighbour = nas.subscribers()[21].clone();
    let mut c = client(nas).await;
    assert!(nas.set_load(&sub.name, hog()));
    let full = nas.effective_rate(&sub.name).unwrap();
    let neighbour_rate = nas.effective_rate(&neighbour.name).unwrap();

    let r = c
        .call(&[
            "/queue/simple/add",
            "=name=abuser-cap",
            &format!("=target=10.250.0.1/32,{}", sub.address),
            "=max-limit=512k/1M",
        ])
        .await;
    assert_eq!(r[0].kind(), ReplyKind::Done);
    let qid = get(&r[0], "ret");
    assert_eq!(nas.effective_rate(&sub.name), Some((512_000, 1_000_000)));
    assert_eq!(nas.effective_rate(&neighbour.name), Some(neighbour_rate));
    let b0 = queue_bytes(&mut c, sub.address).await;
    net.advance(Duration::from_secs(16));
    let b1 = queue_bytes(&mut c, sub.address).await;
    assert_eq!(b1, (b0.0 + 1_024_000, b0.1 + 2_000_000));
    // The session's own queue still shows the plan.
    let plan = nas.plan(&sub.name).unwrap();
    let (max_limit, _, _) = queue_of(&mut c, sub.address).await.unwrap();
    assert_eq!(max_limit, format!("{}/{}", plan.0, plan.1));

    // The first queue that matches shapes the traffic: the session's own
    // queue, where the CoA rate goes, is not reached while the static one
    // sits above it.
    assert_eq!(coa(nas, sub.address, "2M/600k").await, Code::CoAACK);
    assert_eq!(nas.effective_rate(&sub.name), Some((512_000, 1_000_000)));

    // Disabled, then changed, then removed: the cap follows.
    let r = c
        .call(&["/queue/simple/disable", &format!("=.id={qid}")])
        .await;
    assert_eq!(kinds(&r), vec![ReplyKind::Done]);
    assert_eq!(nas.effective_rate(&sub.name), Some((2_000_000, 600_000)));
    let r = c
        .call(&[
            "/queue/simple/set",
            &format!("=.id={qid}"),
            "=disabled=no",
            &format!("=target={}", sub.address),
            "=max-limit=100k/100k",
        ])
        .await;
    assert_eq!(kinds(&r), vec![ReplyKind::Done]);
    assert_eq!(nas.effective_rate(&sub.name), Some((100_000, 100_000)));
    let b2 = queue_bytes(&mut c, sub.address).await;
    net.advance(Duration::from_secs(8));
    assert_eq!(
        queue_bytes(&mut c, sub.address).await,
        (b2.0 + 100_000, b2.1 + 100_000)
    );
    let r = c
        .call(&["/queue/simple/remove", &format!("=.id={qid}")])
        .await;
    assert_eq!(kinds(&r), vec![ReplyKind::Done]);
    assert_eq!(nas.effective_rate(&sub.name), Some((2_000_000, 600_000)));
    assert!(nas.disconnect(&sub.name) && nas.reconnect(&sub.name));
    assert_eq!(
        nas.effective_rate(&sub.name),
        Some(full),
        "CoA ends with the session"
    );
    net.shutdown().await;
}

#[tokio::test]
async fn timed_address_list_entry_with_drop_rule_bans_until_it_expires() {
    // Without FastTrack a drop rule at the end of the chain is reached.
    let net = start_with(PopulationSpec::demo(), RouterModel::lenient()).await;
    let nas = &net.nas()[0];
    let sub = nas.subscribers()[30].clone();
    let control = nas.subscribers()[31].clone();
    let mut c = client(nas).await;
    assert!(nas.set_load(
        &sub.name,
        Load {
            extra_connections: 50,
            lifetime_s: 30,
            p2p: true,
            usage_share: Some(0.9),
        }
    ));
    let total = count_only(&mut c).await;
    let own = sub.slots.len() + 50;

    let r = c
        .call(&[
            "/ip/firewall/address-list/add",
            "=list=sg-abusers",
            &format!("=address={}", sub.address),
            "=timeout=30m",
            "=comment=bandwidth abuse",
        ])
        .await;
    assert_eq!(r[0].kind(), ReplyKind::Done);
    let entry_id = get(&r[0], "ret");
    let entry = |r: &[routeros_proto::Reply]| -> Option<(String, String)> {
        rows(r)
            .first()
            .map(|e| (get(e, "timeout"), get(e, "dynamic")))
    };
    let r = c
        .call(&["/ip/firewall/address-list/print", "?list=sg-abusers"])
        .await;
    assert_eq!(entry(&r), Some(("30m".into(), "true".into())));
    // A list alone bans nobody.
    assert!(!nas.is_banned(&sub.name));
    assert_eq!(conns_of(&mut c, sub.address).await.len(), own);

    net.advance(Duration::from_secs(2));
    let r = c
        .call(&["/ip/firewall/address-list/print", "?list=sg-abusers"])
        .await;
    assert_eq!(entry(&r), Some(("29m58s".into(), "true".into())));

    let r = c
        .call(&[
            "/ip/firewall/filter/add",
            "=chain=forward",
            "=action=drop",
            "=src-address-list=sg-abusers",
        ])
        .await;
    assert_eq!(r[0].kind(), ReplyKind::Done);
    assert!(nas.is_banned(&sub.name));
    assert!(!nas.is_banned(&control.name));
    assert!(conns_of(&mut c, sub.address).await.is_empty());
    assert_eq!(count_only(&mut c).await, total - own);
    assert_eq!(nas.connection_count(), total - own);
    assert_eq!(nas.effective_rate(&sub.name), Some((0, 0)));
    let rate = {
        let plan = nas.plan(&sub.name).unwrap();
        (
            (plan.0 as f64 * 0.9).round() as u64,
            (plan.1 as f64 * 0.9).round() as u64,
        )
    };

    // Frozen while banned; the neighbour keeps going.
    let frozen = queue_bytes(&mut c, sub.address).await;
    let control_rate = nas.effective_rate(&control.name).unwrap();
    let control_b0 = queue_bytes(&mut c, control.address).await;
    net.advance(Duration::from_secs(600));
    assert_eq!(queue_bytes(&mut c, sub.address).await, frozen);
    assert_eq!(nas.bytes(&sub.name), Some(frozen));
    assert_grew(
        control_b0,
        queue_bytes(&mut c, control.address).await,
        bytes_in(control_rate, 600),
    );
    let (_, _, shown_rate) = queue_of(&mut c, sub.address).await.unwrap();
    assert_eq!(shown_rate, "0/0");

    // 31 minutes after it was added the entry is gone and traffic is back,
    // counted from the moment of expiry (62 s ago).
    net.advance(Duration::from_secs(21 * 60));
    let r = c
        .call(&["/ip/firewall/address-list/print", "?list=sg-abusers"])
        .await;
    assert!(rows(&r).is_empty());
    let r = c
        .call(&[
            "/ip/firewall/address-list/remove",
            &format!("=.id={entry_id}"),
        ])
        .await;
    assert_eq!(r[0].kind(), ReplyKind::Trap);
    assert_eq!(r[0].message().as_deref(), Some("no such item"));
    assert!(nas.rules("address-list").is_empty());
    assert!(!nas.is_banned(&sub.name));
    assert_eq!(conns_of(&mut c, sub.address).await.len(), own);
    assert_eq!(count_only(&mut c).await, total);
    assert_eq!(nas.effective_rate(&sub.name), Some(rate));
    let back = queue_bytes(&mut c, sub.address).await;
    assert_grew(frozen, back, bytes_in(rate, 62));

    // A permanent entry bans until it is removed.
    let r = c
        .call(&[
            "/ip/firewall/address-list/add",
            "=list=sg-abusers",
            &format!("=address={}", sub.address),
        ])
        .await;
    let permanent = get(&r[0], "ret");
    assert!(nas.is_banned(&sub.name));
    net.advance(Duration::from_secs(7200));
    assert!(nas.is_banned(&sub.name));
    assert!(conns_of(&mut c, sub.address).await.is_empty());
    let r = c
        .call(&[
            "/ip/firewall/address-list/remove",
            &format!("=.id={permanent}"),
        ])
        .await;
    assert_eq!(kinds(&r), vec![ReplyKind::Done]);
    assert!(!nas.is_banned(&sub.name));
    assert_eq!(conns_of(&mut c, sub.address).await.len(), own);
    net.shutdown().await;
}

#[tokio::test]
async fn dynamic_queues_cannot_be_changed_but_static_ones_can() {
    let net = start(PopulationSpec::demo()).await;
    let nas = &net.nas()[0];
    let sub = nas.subscribers()[0].clone();
    let mut c = client(nas).await;
    let r = c
        .call(&[
            "/queue/simple/print",
            &format!("?target=<pppoe-{}>", sub.name),
        ])
        .await;
    let id = get(rows(&r)[0], ".id");
    for words in [
        vec!["/queue/simple/remove".to_string(), format!("=.id={id}")],
        vec![
            "/queue/simple/set".to_string(),
            format!("=.id={id}"),
            "=max-limit=1k/1k".to_string(),
        ],
        vec!["/queue/simple/disable".to_string(), format!("=.id={id}")],
    ] {
        let words: Vec<&str> = words.iter().map(String::as_str).collect();
        let r = c.call(&words).await;
        assert_eq!(r[0].kind(), ReplyKind::Trap, "{words:?}");
        assert!(
            r[0].message().unwrap_or_default().contains("dynamic"),
            "{:?}",
            r[0].message()
        );
    }
    let (max_limit, _, _) = queue_of(&mut c, sub.address).await.unwrap();
    let plan = nas.plan(&sub.name).unwrap();
    assert_eq!(max_limit, format!("{}/{}", plan.0, plan.1));

    // A static queue next to it is managed as before.
    let r = c
        .call(&[
            "/queue/simple/add",
            "=name=static",
            &format!("=target={}/32", sub.address),
            "=max-limit=1M/1M",
        ])
        .await;
    let sid = get(&r[0], "ret");
    let r = c
        .call(&["/queue/simple/remove", &format!("=.id={sid},{id}")])
        .await;
    assert_eq!(
        r[0].kind(),
        ReplyKind::Trap,
        "nothing removed with a dynamic id"
    );
    assert_eq!(nas.rules("queue").len(), 1);
    let r = c
        .call(&["/queue/simple/remove", &format!("=.id={sid}")])
        .await;
    assert_eq!(kinds(&r), vec![ReplyKind::Done]);
    assert!(nas.rules("queue").is_empty());

    // The queue of an offline session is simply gone.
    assert!(nas.disconnect(&sub.name));
    let r = c
        .call(&["/queue/simple/remove", &format!("=.id={id}")])
        .await;
    assert_eq!(r[0].message().as_deref(), Some("no such item"));
    net.shutdown().await;
}

#[tokio::test]
async fn extra_connections_go_through_mangle_rules() {
    let net = start(PopulationSpec::demo()).await;
    let nas = &net.nas()[0];
    let sub = quiet_subscriber(nas);
    let ttl = sub.slots[0].seen_ttl;
    let iface = format!("<pppoe-{}>", sub.name);
    let mut c = client(nas).await;
    // A TTL probe limited to this subscriber, and a p2p detector that lists
    // whoever talks UDP to high ports (which its own slots never do).
    nas.add_rule(
        "mangle",
        &[
            ("chain", "prerouting"),
            ("action", "mark-connection"),
            ("new-connection-mark", "probe"),
            ("ttl", &format!("equal:{ttl}")),
            ("in-interface", &iface),
        ],
    );
    nas.add_rule(
        "mangle",
        &[
            ("chain", "prerouting"),
            ("action", "add-src-to-address-list"),
            ("address-list", "p2p-seen"),
            ("address-list-timeout", "10m"),
            ("protocol", "udp"),
            ("dst-port", "10000-65535"),
            ("in-interface", &iface),
        ],
    );
    assert!(nas.set_load(
        &sub.name,
        Load {
            extra_connections: 20,
            lifetime_s: 30,
            p2p: true,
            usage_share: None,
        }
    ));
    let listed = |r: &[routeros_proto::Reply]| -> Vec<String> {
        rows(r).iter().map(|e| get(e, "address")).collect()
    };
    let print_list = ["/ip/firewall/address-list/print", "?list=p2p-seen"];
    // Nothing started after the rules yet.
    assert!(listed(&c.call(&print_list).await).is_empty());

    // Every extra connection has been replaced since: all carry the mark.
    net.advance(Duration::from_secs(31));
    let r = c
        .call(&[
            "/ip/firewall/connection/print",
            "=.proplist=src-address,dst-address,protocol,connection-mark",
        ])
        .await;
    let extra_marks: Vec<String> = rows(&r)
        .iter()
        .filter(|x| split_sockaddr(&get(x, "src-address")).0 == sub.address)
        .filter(|x| {
            get(x, "protocol") == "udp" && split_sockaddr(&get(x, "dst-address")).1 >= 10_000
        })
        .map(|x| get(x, "connection-mark"))
        .collect();
    assert_eq!(extra_marks, vec!["probe".to_string(); 20]);
    assert_eq!(
        listed(&c.call(&print_list).await),
        vec![sub.address.to_string()]
    );
    net.shutdown().await;
}

#[tokio::test]
async fn with_fasttrack_a_ban_bites_only_above_it_and_after_the_connections_go() {
    let net = start(PopulationSpec::demo()).await;
    let nas = &net.nas()[0];
    let sub = nas.subscribers()[30].clone();
    let mut c = client(nas).await;
    let own = conns_of(&mut c, sub.address).await;
    assert!(!own.is_empty());
    let r = c
        .call(&[
            "/ip/firewall/address-list/add",
            "=list=sg-banned",
            &format!("=address={}", sub.address),
            "=timeout=30m",
        ])
        .await;
    assert_eq!(r[0].kind(), ReplyKind::Done);
    // Appended after FastTrack: established traffic never reaches it.
    let r = c
        .call(&[
            "/ip/firewall/filter/add",
            "=chain=forward",
            "=action=drop",
            "=src-address-list=sg-banned",
        ])
        .await;
    assert_eq!(r[0].kind(), ReplyKind::Done);
    let drop_id = get(&r[0], "ret");
    assert!(
        !nas.is_banned(&sub.name),
        "a drop below fasttrack does not bite"
    );
    // Above FastTrack, but the fast-tracked connections still skip it.
    let rules = c.call(&["/ip/firewall/filter/print"]).await;
    let fasttrack = rows(&rules)
        .into_iter()
        .find(|r| get(r, "action") == "fasttrack-connection")
        .map(|r| get(r, ".id"))
        .unwrap();
    let r = c
        .call(&[
            "/ip/firewall/filter/move",
            &format!("=numbers={drop_id}"),
            &format!("=destination={fasttrack}"),
        ])
        .await;
    assert_eq!(r[0].kind(), ReplyKind::Done, "{r:?}");
    assert!(
        !nas.is_banned(&sub.name),
        "fast-tracked connections skip the firewall"
    );
    let ids: Vec<String> = conns_of(&mut c, sub.address)
        .await
        .into_iter()
        .map(|c| c.id)
        .collect();
    let r = c
        .call(&[
            "/ip/firewall/connection/remove",
            &format!("=.id={}", ids.join(",")),
        ])
        .await;
    assert_eq!(r[0].kind(), ReplyKind::Done, "{r:?}");
    assert!(
        nas.is_banned(&sub.name),
        "removed connections meet the drop rule"
    );
    assert!(conns_of(&mut c, sub.address).await.is_empty());
    net.shutdown().await;
}

#[tokio::test]
async fn the_router_refuses_anything_above_its_builtin_rules() {
    let net = start(PopulationSpec::demo()).await;
    let nas = &net.nas()[0];
    let mut c = client(nas).await;
    for menu in ["/ip/firewall/filter", "/ip/firewall/mangle"] {
        let r = c.call(&[&format!("{menu}/print")]).await;
        let first = rows(&r)[0];
        assert_eq!(get(first, "dynamic"), "true", "{menu}");
        assert_eq!(get(first, "action"), "passthrough");
        let id = get(first, ".id");
        for words in [
            vec![
                format!("{menu}/add"),
                "=chain=forward".into(),
                "=action=accept".into(),
                format!("=place-before={id}"),
            ],
            vec![
                format!("{menu}/set"),
                format!("=.id={id}"),
                "=comment=x".into(),
            ],
            vec![format!("{menu}/remove"), format!("=.id={id}")],
            vec![format!("{menu}/disable"), format!("=.id={id}")],
            vec![format!("{menu}/move"), format!("=numbers={id}")],
        ] {
            let words: Vec<&str> = words.iter().map(String::as_str).collect();
            let r = c.call(&words).await;
            assert_eq!(r[0].kind(), ReplyKind::Trap, "{words:?}");
            assert_eq!(
                r[0].message().as_deref(),
                Some("failure: cannot change builtin")
            );
        }
    }
    // Unknown parameters, interfaces and actions get RouterOS's words.
    for (words, message) in [
        (
            vec!["/ip/firewall/filter/add", "=chain=forward", "=bogus=1"],
            "unknown parameter bogus",
        ),
        (
            vec![
                "/ip/firewall/mangle/add",
                "=chain=prerouting",
                "=in-interface=bridge-hotspot",
            ],
            "input does not match any value of interface",
        ),
        (
            vec![
                "/ip/firewall/filter/add",
                "=chain=forward",
                "=action=mark-connection",
            ],
            "input does not match any value of action: mark-connection",
        ),
        (
            vec!["/queue/simple/add", "=target=10.0.0.1/32", "=ttl=equal:1"],
            "unknown parameter ttl",
        ),
    ] {
        let r = c.call(&words).await;
        assert_eq!(r[0].kind(), ReplyKind::Trap, "{words:?}");
        assert_eq!(r[0].message().as_deref(), Some(message), "{words:?}");
    }
    // The special names and the router's own uplink are interfaces.
    for iface in [
        "all-ppp",
        "all-ethernet",
        "!all-ppp",
        "pppoe-out1",
        "ether2",
    ] {
        let r = c
            .call(&[
                "/ip/firewall/mangle/add",
                "=chain=prerouting",
                &format!("=in-interface={iface}"),
            ])
            .await;
        assert_eq!(r[0].kind(), ReplyKind::Done, "{iface}: {r:?}");
    }
    net.shutdown().await;
}

#[tokio::test]
async fn a_static_queue_shapes_a_pppoe_session_only_above_its_dynamic_queue() {
    let net = start(PopulationSpec::demo()).await;
    let nas = &net.nas()[0];
    let sub = nas.subscribers()[20].clone();
    let mut c = client(nas).await;
    assert!(nas.set_load(&sub.name, hog()));
    let full = nas.effective_rate(&sub.name).unwrap();
    let r = c
        .call(&[
            "/queue/simple/add",
            "=name=late",
            &format!("=target={}/32", sub.address),
            "=max-limit=512k/1M",
        ])
        .await;
    assert_eq!(r[0].kind(), ReplyKind::Done);
    assert_eq!(
        nas.effective_rate(&sub.name),
        Some(full),
        "below the dynamic queue: never reached"
    );
    let r = c
        .call(&[
            "/queue/simple/print",
            &format!("?name=<pppoe-{}>", sub.name),
        ])
        .await;
    let dynamic = get(rows(&r)[0], ".id");
    let r = c
        .call(&[
            "/queue/simple/add",
            "=name=early",
            &format!("=target=<pppoe-{}>", sub.name),
            "=max-limit=256k/512k",
            &format!("=place-before={dynamic}"),
        ])
        .await;
    assert_eq!(r[0].kind(), ReplyKind::Done, "{r:?}");
    assert_eq!(nas.effective_rate(&sub.name), Some((256_000, 512_000)));
    // It prints right above the session's queue.
    let r = c.call(&["/queue/simple/print"]).await;
    let names: Vec<String> = rows(&r).iter().map(|q| get(q, "name")).collect();
    let at = names
        .iter()
        .position(|n| *n == format!("<pppoe-{}>", sub.name))
        .unwrap();
    assert_eq!(names[at - 1], "early");
    assert_eq!(names.last().map(String::as_str), Some("late"));
    net.shutdown().await;
}

#[tokio::test]
async fn a_redial_moves_the_session_to_another_address_and_the_old_one_to_someone_else() {
    let net = start_with(PopulationSpec::demo(), RouterModel::lenient()).await;
    let nas = &net.nas()[0];
    let subs = nas.subscribers();
    let (sharer, next) = (subs[40].clone(), subs[41].clone());
    let mut c = client(nas).await;
    let own = conns_of(&mut c, sharer.address).await.len();
    // A ban keyed on the address, as a naive tool sets it.
    for words in [
        vec![
            "/ip/firewall/filter/add".to_string(),
            "=chain=forward".into(),
            "=action=drop".into(),
            "=src-address-list=bad".into(),
        ],
        vec![
            "/ip/firewall/address-list/add".into(),
            "=list=bad".into(),
            format!("=address={}", sharer.address),
        ],
    ] {
        let words: Vec<&str> = words.iter().map(String::as_str).collect();
        assert_eq!(c.call(&words).await[0].kind(), ReplyKind::Done);
    }
    assert!(nas.is_banned(&sharer.name));

    net.advance(Duration::from_secs(5));
    let moved = nas.redial(&sharer.name).unwrap();
    assert_ne!(moved, sharer.address);
    assert_eq!(nas.address(&sharer.name), Some(moved));
    assert!(
        !nas.is_banned(&sharer.name),
        "the redial escapes an address ban"
    );
    let r = c
        .call(&["/ppp/active/print", &format!("?name={}", sharer.name)])
        .await;
    assert_eq!(get(rows(&r)[0], "address"), moved.to_string());
    assert_eq!(get(rows(&r)[0], "uptime"), "0s");
    assert_eq!(conns_of(&mut c, moved).await.len(), own);
    assert!(conns_of(&mut c, sharer.address).await.is_empty());

    // The pool hands the old address to the next subscriber who dials.
    assert_eq!(
        nas.redial_to(&next.name, moved),
        None,
        "held by an online session"
    );
    assert_eq!(
        nas.redial_to(&next.name, sharer.address),
        Some(sharer.address)
    );
    assert!(
        nas.is_banned(&next.name),
        "the next holder inherits the ban"
    );
    net.shutdown().await;
}

/// With an evening set, a heavy household is a sample of itself until its
/// onset, in the connection print, `count-only` and the router's count
/// alike; after it, its connections join as their slots are replaced (no
/// burst), until all are back.
#[tokio::test]
async fn an_evening_household_is_quiet_before_its_onset_and_ramps_up_after() {
    let net = start(PopulationSpec::demo()).await;
    let nas = &net.nas()[0];
    let sub = nas
        .subscribers()
        .iter()
        .filter(|s| !nas.is_dual_stack(&s.name))
        .max_by_key(|s| s.slots.len())
        .unwrap()
        .clone();
    assert!(sub.slots.len() > 300, "{}", sub.slots.len());
    let mut c = client(nas).await;
    let peak_total = nas.connection_count();
    assert_eq!(conns_of(&mut c, sub.address).await.len(), sub.slots.len());

    let from = net.now_ms() + 60_000;
    let evening = shareguard_sim::Evening {
        from_ms: from,
        spread_ms: 1,
        quiet_connections: 50,
    };
    net.set_evening(Some(evening));
    let quiet = conns_of(&mut c, sub.address).await;
    assert!((40..=50).contains(&quiet.len()), "{}", quiet.len());
    assert_eq!(net.household_connections(&sub.name), Some(quiet.len()));
    let total = nas.connection_count();
    assert!(total < peak_total / 2, "{total} of {peak_total}");
    assert_eq!(count_only(&mut c).await, total);

    // Past the onset, connections join as their slots are next replaced
    // (they live 60 to 900 s): about a fifth of the gap in the first
    // minute, not all at once, which a monitor would read as a burst.
    net.advance(Duration::from_millis(from - net.now_ms()));
    let mut before = ids(&conns_of(&mut c, sub.address).await);
    let gap = sub.slots.len() - before.len();
    let mut sizes = vec![before.len()];
    for _ in 0..16 {
        net.advance(Duration::from_secs(60));
        let now = ids(&conns_of(&mut c, sub.address).await);
        assert!(now.len() >= before.len(), "the household only grows");
        sizes.push(now.len());
        before = now;
    }
    assert!(sizes[1] - sizes[0] < gap / 2, "{sizes:?}");
    assert!(
        sizes.windows(2).filter(|w| w[1] > w[0]).count() >= 5,
        "{sizes:?}"
    );
    assert_eq!(before.len(), sub.slots.len());
    assert_eq!(nas.connection_count(), peak_total);
    assert_eq!(count_only(&mut c).await, peak_total);
    net.set_evening(None);
    assert_eq!(count_only(&mut c).await, peak_total);
}
